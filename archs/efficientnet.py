"""EfficientNet B0 to B7 (Tan & Le 2019, arXiv 1905.11946): the B0 stage table (Table 1)
and the compound scaling of width, depth and resolution, built as torchvision 0.29
``models/efficientnet.py`` builds them.

The TF reference and its ports (timm's ``tf_efficientnet_*``) pad "same" (TF's
asymmetric padding) where torchvision pads ``(k - 1) // 2`` on every side; for the odd
kernels used here both give ``ceil(n / stride)`` outputs on every input size ``n``, so
the counts are the same and calc declares no separate variant."""
from __future__ import annotations

import math
from dataclasses import dataclass

from calc.blocks import conv_bn, make_divisible, squeeze_excite
from calc.graph import Network
from calc.layers import Add, Dropout, Flatten, GlobalAvgPool2d, Linear, Sigmoid, SiLU
from calc.registry import CLASSES, RES, register


@dataclass(frozen=True)
class MBConv:
    """One stage of Table 1: ``n`` MBConv blocks with expansion ``e`` and a ``k`` x ``k``
    depthwise conv, ``c`` output channels; the first has stride ``s`` (Table 1 prints the
    input resolution of each stage: a stage whose next one starts at half the size has
    stride 2)."""

    e: int
    k: int
    c: int
    n: int
    s: int


#: Table 1 of the paper: EfficientNet-B0 after the stem (Conv3x3, 32 channels, stride 2);
#: the head is Conv1x1 to 1280 channels, pooling and FC.
B0_STEM = 32
B0 = (
    MBConv(e=1, k=3, c=16, n=1, s=1),
    MBConv(e=6, k=3, c=24, n=2, s=2),
    MBConv(e=6, k=5, c=40, n=2, s=2),
    MBConv(e=6, k=3, c=80, n=3, s=2),
    MBConv(e=6, k=5, c=112, n=3, s=1),
    MBConv(e=6, k=5, c=192, n=4, s=2),
    MBConv(e=6, k=3, c=320, n=1, s=1),
)


@dataclass(frozen=True)
class Scale:
    """Compound scaling of one variant: width and depth multipliers, the input resolution
    and the classifier's dropout (the TF reference's ``efficientnet_params``, which
    torchvision copies; section 3.3 of the paper)."""

    width: float
    depth: float
    res: int
    dropout: float


SCALES = {
    "b0": Scale(width=1.0, depth=1.0, res=224, dropout=0.2),
    "b1": Scale(width=1.0, depth=1.1, res=240, dropout=0.2),
    "b2": Scale(width=1.1, depth=1.2, res=260, dropout=0.3),
    "b3": Scale(width=1.2, depth=1.4, res=300, dropout=0.3),
    "b4": Scale(width=1.4, depth=1.8, res=380, dropout=0.4),
    "b5": Scale(width=1.6, depth=2.2, res=456, dropout=0.4),
    "b6": Scale(width=1.8, depth=2.6, res=528, dropout=0.5),
    "b7": Scale(width=2.0, depth=3.1, res=600, dropout=0.5),
}

#: torchvision's stochastic depth: block i of N (counted over the whole network) drops its
#: residual branch with probability 0.2 * i / N in training; an identity at inference
STOCHASTIC_DEPTH = 0.2


def mbconv(net: Network, name: str, x: str, e: int, k: int, out: int, stride: int, sd: float) -> str:
    """torchvision's ``MBConv``: expand 1x1 to ``make_divisible(in * e)`` (skipped when
    that is the input width), depthwise k x k, squeeze-and-excite to ``max(1, in // 4)``
    (the *block input's* width; SiLU inside, sigmoid gate), linear 1x1 projection; with a
    residual (after stochastic depth) when the stride is 1 and the width is kept."""
    c_in = net[x].shape[0]
    exp = make_divisible(c_in * e)
    y = x
    if exp != c_in:
        y = conv_bn(net, f"{name}.expand", y, exp, 1, act=SiLU)
    y = conv_bn(net, f"{name}.dw", y, exp, k, stride=stride, groups=exp, act=SiLU)
    y = squeeze_excite(net, f"{name}.se", y, max(1, c_in // 4), act=SiLU, gate=Sigmoid)
    y = conv_bn(net, f"{name}.project", y, out, 1)
    if stride == 1 and c_in == out:
        y = net.add(f"{name}.stochastic_depth", Dropout(p=sd), y)
        y = net.add(f"{name}.add", Add(), [y, x])  # `result += input`
    return y


def efficientnet(scale: Scale, res: int, classes: int) -> Network:
    """Widths scaled by ``scale.width`` and rounded with :func:`make_divisible` (the TF
    reference's ``round_filters``), repeats by ``ceil(n * scale.depth)``; the head conv has
    4x the last stage's width (1280 for B0, as Table 1 prints)."""
    net = Network("efficientnet", (3, res, res))
    x = conv_bn(net, "stem", "input", make_divisible(B0_STEM * scale.width), 3, stride=2, act=SiLU)
    repeats = [math.ceil(row.n * scale.depth) for row in B0]
    block, total = 0, sum(repeats)
    for si, (row, n) in enumerate(zip(B0, repeats), start=1):
        out = make_divisible(row.c * scale.width)
        for i in range(n):
            sd = STOCHASTIC_DEPTH * block / total
            x = mbconv(net, f"stage{si}.block{i}", x, row.e, row.k, out, row.s if i == 0 else 1, sd)
            block += 1
    x = conv_bn(net, "head", x, 4 * net[x].shape[0], 1, act=SiLU)
    x = net.add("pool", GlobalAvgPool2d(), x)  # nn.AdaptiveAvgPool2d(1), then torch.flatten
    x = net.add("flatten", Flatten(), x)
    x = net.add("dropout", Dropout(p=scale.dropout), x)
    net.add("fc", Linear(out_features=classes), x)
    return net


def _register(variant: str, scale: Scale) -> None:
    @register(f"efficientnet_{variant}", family="EfficientNet",
              summary=f"EfficientNet-{variant.upper()} (compound scaling: width {scale.width}, depth "
                      f"{scale.depth}, {scale.res}x{scale.res})",
              source="Tan & Le 2019, arXiv 1905.11946, Table 1 and section 3.3; torchvision 0.29 efficientnet.py",
              options=(RES.with_default(scale.res), CLASSES), fixed={"scale": scale})
    def build(scale: Scale, res: int, classes: int) -> Network:
        return efficientnet(scale, res, classes)


for _variant, _scale in SCALES.items():
    _register(_variant, _scale)
