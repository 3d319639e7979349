"""MobileNet v1 and v2, declared from their papers' stage tables."""
from __future__ import annotations

from dataclasses import dataclass

from calc.blocks import classifier, conv_bn, make_divisible
from calc.registry import ALPHA, CLASSES, RES, Option, register
from calc.graph import Network
from calc.layers import Add, ReLU, ReLU6, Softmax

# ---------------------------------------------------------------------------
# MobileNet v1 (Howard et al., arXiv 1704.04861)


@dataclass(frozen=True)
class DS:
    """One depthwise-separable layer of Table 1: a 3x3 depthwise conv with stride
    ``s``, then a 1x1 pointwise conv to ``c`` channels (each followed by BN, ReLU)."""

    c: int
    s: int


#: Table 1 of the paper, after the stem ``Conv/s2 3x3x3x32``.
MOBILENET_V1 = (
    DS(64, 1), DS(128, 2), DS(128, 1), DS(256, 2), DS(256, 1), DS(512, 2),
    DS(512, 1), DS(512, 1), DS(512, 1), DS(512, 1), DS(512, 1),
    DS(1024, 2),
    DS(1024, 1),  # printed "Conv dw / s2" in Table 1; see V1_ERRATUM
)

V1_ERRATUM = (
    "Table 1 prints the last depthwise conv as s2, but its input (7x7x1024) and the next row's "
    "(7x7x1024) show stride 1, as every implementation uses; calc builds s1 "
    "(--variant as_printed builds the printed s2, whose last layers run at 4x4 at 224)"
)

VARIANT_V1 = Option("variant", str, "reference", "'reference' (last dw stride 1) or 'as_printed' (Table 1's s2)",
                    choices=("reference", "as_printed"))


def v1_channels(c: int, alpha: float, min_depth: int = 8) -> int:
    """Width multiplier of MobileNet v1: ``max(int(c * alpha), 8)``, the TF-slim
    rule (``min_depth=8``); exact for the paper's alphas 1, 0.75, 0.5, 0.25."""
    return max(int(c * alpha), min_depth)


@register("mobilenet_v1", family="MobileNet", summary="MobileNet v1 (depthwise-separable convs, ReLU)",
          source="Howard et al. 2017, arXiv 1704.04861, Table 1",
          options=(ALPHA, RES, CLASSES, VARIANT_V1))
def mobilenet_v1(alpha: float, res: int, classes: int, variant: str) -> Network:
    net = Network("mobilenet_v1", (3, res, res))
    net.notes.append(V1_ERRATUM)
    x = conv_bn(net, "stem", "input", v1_channels(32, alpha), 3, stride=2, act=ReLU)
    rows = list(MOBILENET_V1)
    if variant == "as_printed":
        rows[-1] = DS(rows[-1].c, 2)
    for i, row in enumerate(rows, start=1):
        c_in = net[x].shape[0]
        x = conv_bn(net, f"block{i}.dw", x, c_in, 3, stride=row.s, groups=c_in, act=ReLU)
        x = conv_bn(net, f"block{i}.pw", x, v1_channels(row.c, alpha), 1, act=ReLU)
    x = classifier(net, x, classes)
    net.add("softmax", Softmax(), x)
    return net


# ---------------------------------------------------------------------------
# MobileNet v2 (Sandler et al., arXiv 1801.04381)


@dataclass(frozen=True)
class IR:
    """One row of Table 2: ``n`` inverted-residual bottlenecks with expansion
    ``t`` and ``c`` output channels; the first has stride ``s``, the rest 1."""

    t: int
    c: int
    n: int
    s: int


#: Table 2 of the paper, between the stem ``conv2d 3x3, 32, s2`` and the head
#: ``conv2d 1x1, 1280``.
MOBILENET_V2 = (
    IR(t=1, c=16, n=1, s=1),
    IR(t=6, c=24, n=2, s=2),
    IR(t=6, c=32, n=3, s=2),
    IR(t=6, c=64, n=4, s=2),
    IR(t=6, c=96, n=3, s=1),
    IR(t=6, c=160, n=3, s=2),
    IR(t=6, c=320, n=1, s=1),
)


def inverted_residual(net: Network, name: str, x: str, out: int, stride: int, t: int,
                      expand_t1: bool = False) -> str:
    """Expand 1x1 (skipped when t == 1, unless ``expand_t1``) -> depthwise 3x3 -> linear
    project 1x1, with a residual add when the shape is kept (torchvision's InvertedResidual)."""
    c_in = net[x].shape[0]
    hidden = int(round(c_in * t))
    y = x
    if t != 1 or expand_t1:
        y = conv_bn(net, f"{name}.expand", y, hidden, 1, act=ReLU6)
    y = conv_bn(net, f"{name}.dw", y, hidden, 3, stride=stride, groups=hidden, act=ReLU6)
    y = conv_bn(net, f"{name}.project", y, out, 1)
    if stride == 1 and c_in == out:
        y = net.add(f"{name}.add", Add(), [x, y])
    return y


@register("mobilenet_v2_paddle", family="MobileNet",
          summary="MobileNet v2 as PaddleClas builds it (int(c x alpha) channels, a 1x1 expand conv at t=1)",
          source="Sandler et al. 2018, arXiv 1801.04381, Table 2; PaddleClas ppcls/modeling/architectures/"
                 "mobilenet_v2.py (2020-04-09, 9f39da8)",
          options=(ALPHA, RES, CLASSES), fixed={"paddle": True})
@register("mobilenet_v2", family="MobileNet", summary="MobileNet v2 (inverted residuals, linear bottlenecks)",
          source="Sandler et al. 2018, arXiv 1801.04381, Table 2; torchvision mobilenetv2.py",
          options=(ALPHA, RES, CLASSES))
def mobilenet_v2(alpha: float, res: int, classes: int, paddle: bool = False) -> Network:
    """Channels are scaled by ``alpha`` and rounded with :func:`make_divisible`
    (to 8); the 1280-channel head never shrinks below 1280 (paper section 6.1).

    ``mobilenet_v2_paddle`` is PaddleClas' MobileNetV2 (the network its latency tables
    measure): channels ``int(c * alpha)``, unrounded; the t = 1 block keeps its 1x1 expand
    conv (to the same width, with BN and ReLU6); the head is 1280 wide, ``int(1280 * alpha)``
    above 1; global pool and FC, no dropout."""
    width = (lambda c: int(c * alpha)) if paddle else (lambda c: make_divisible(c * alpha))
    net = Network("mobilenet_v2", (3, res, res))
    x = conv_bn(net, "stem", "input", width(32), 3, stride=2, act=ReLU6)
    for si, row in enumerate(MOBILENET_V2, start=1):
        out = width(row.c)
        for i in range(row.n):
            x = inverted_residual(net, f"stage{si}.block{i}", x, out, row.s if i == 0 else 1, row.t,
                                  expand_t1=paddle)
    head = (int(1280 * alpha) if alpha > 1 else 1280) if paddle else make_divisible(1280 * max(1.0, alpha))
    x = conv_bn(net, "head", x, head, 1, act=ReLU6)
    if paddle:
        classifier(net, x, classes)  # fluid.layers.pool2d(global_pooling=True), then fc
    else:  # torchvision pools with F.adaptive_avg_pool2d (a functional call), then Dropout(0.2) + Linear
        classifier(net, x, classes, dropout=0.2, pool_impl="functional")
    return net
