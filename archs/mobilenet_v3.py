"""MobileNet v3 Large and Small (Howard et al. 2019, arXiv 1905.02244), declared from the
paper's Tables 1 and 2 and built as torchvision 0.29 ``models/mobilenetv3.py`` builds them."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from calc.blocks import conv_bn, make_divisible, squeeze_excite
from calc.graph import Network
from calc.layers import Add, Dropout, Flatten, GlobalAvgPool2d, HardSigmoid, HardSwish, Linear, ReLU
from calc.registry import ALPHA, CLASSES, RES, register


@dataclass(frozen=True)
class Bneck:
    """One ``bneck`` row of Tables 1 and 2: expand to ``exp`` channels (1x1, skipped when
    ``exp`` equals the input width), a ``k`` x ``k`` depthwise conv with stride ``s``,
    squeeze-and-excite if ``se``, then a linear 1x1 projection to ``out`` channels; ``nl``
    is the nonlinearity of the expand and depthwise convs, ReLU ("RE") or h-swish ("HS")."""

    k: int
    exp: int
    out: int
    se: bool
    nl: Literal["RE", "HS"]
    s: int


@dataclass(frozen=True)
class V3:
    """A model's table: the stem's ``stem`` channels (conv2d 3x3 s2, h-swish), its bneck
    rows, and ``hidden``, the width of the "conv2d 1x1, NBN" after the pool (a Linear, then
    h-swish, in torchvision).  The 1x1 conv before the pool has 6x the last bneck's output
    (Tables 1 and 2 print 960 = 6 x 160 and 576 = 6 x 96); torchvision scales it that way."""

    stem: int
    rows: tuple[Bneck, ...]
    hidden: int


#: Table 1 (MobileNetV3-Large), final version of the paper (arXiv v5)
LARGE = V3(stem=16, hidden=1280, rows=(
    Bneck(k=3, exp=16, out=16, se=False, nl="RE", s=1),
    Bneck(k=3, exp=64, out=24, se=False, nl="RE", s=2),
    Bneck(k=3, exp=72, out=24, se=False, nl="RE", s=1),
    Bneck(k=5, exp=72, out=40, se=True, nl="RE", s=2),
    Bneck(k=5, exp=120, out=40, se=True, nl="RE", s=1),
    Bneck(k=5, exp=120, out=40, se=True, nl="RE", s=1),
    Bneck(k=3, exp=240, out=80, se=False, nl="HS", s=2),
    Bneck(k=3, exp=200, out=80, se=False, nl="HS", s=1),
    Bneck(k=3, exp=184, out=80, se=False, nl="HS", s=1),
    Bneck(k=3, exp=184, out=80, se=False, nl="HS", s=1),
    Bneck(k=3, exp=480, out=112, se=True, nl="HS", s=1),
    Bneck(k=3, exp=672, out=112, se=True, nl="HS", s=1),
    Bneck(k=5, exp=672, out=160, se=True, nl="HS", s=2),
    Bneck(k=5, exp=960, out=160, se=True, nl="HS", s=1),
    Bneck(k=5, exp=960, out=160, se=True, nl="HS", s=1),
))

#: Table 2 (MobileNetV3-Small), final version.  The table also ticks SE on the 1x1 conv to
#: 576 before the pool; no implementation has one there (torchvision, TF-slim's V3_SMALL),
#: and calc builds none.
SMALL = V3(stem=16, hidden=1024, rows=(
    Bneck(k=3, exp=16, out=16, se=True, nl="RE", s=2),
    Bneck(k=3, exp=72, out=24, se=False, nl="RE", s=2),
    Bneck(k=3, exp=88, out=24, se=False, nl="RE", s=1),
    Bneck(k=5, exp=96, out=40, se=True, nl="HS", s=2),
    Bneck(k=5, exp=240, out=40, se=True, nl="HS", s=1),
    Bneck(k=5, exp=240, out=40, se=True, nl="HS", s=1),
    Bneck(k=5, exp=120, out=48, se=True, nl="HS", s=1),
    Bneck(k=5, exp=144, out=48, se=True, nl="HS", s=1),
    Bneck(k=5, exp=288, out=96, se=True, nl="HS", s=2),
    Bneck(k=5, exp=576, out=96, se=True, nl="HS", s=1),
    Bneck(k=5, exp=576, out=96, se=True, nl="HS", s=1),
))

NONLINEARITY = {"RE": ReLU, "HS": HardSwish}


def bneck(net: Network, name: str, x: str, row: Bneck, alpha: float) -> str:
    """torchvision's ``InvertedResidual``: every width (expansion included) scaled by
    ``alpha`` and rounded with :func:`make_divisible`; the SE squeezes to
    ``make_divisible(exp // 4)`` and gates with a hard sigmoid; a residual add when the
    stride is 1 and the width is kept."""
    c_in = net[x].shape[0]
    exp, out = make_divisible(row.exp * alpha), make_divisible(row.out * alpha)
    act = NONLINEARITY[row.nl]
    y = x
    if exp != c_in:
        y = conv_bn(net, f"{name}.expand", y, exp, 1, act=act)
    y = conv_bn(net, f"{name}.dw", y, exp, row.k, stride=row.s, groups=exp, act=act)
    if row.se:
        y = squeeze_excite(net, f"{name}.se", y, make_divisible(exp // 4), act=ReLU, gate=HardSigmoid)
    y = conv_bn(net, f"{name}.project", y, out, 1)
    if row.s == 1 and c_in == out:
        y = net.add(f"{name}.add", Add(), [y, x])  # `result += input`
    return y


def mobilenet_v3(model: V3, alpha: float, res: int, classes: int) -> Network:
    net = Network("mobilenet_v3", (3, res, res))
    x = conv_bn(net, "stem", "input", make_divisible(model.stem * alpha), 3, stride=2, act=HardSwish)
    for i, row in enumerate(model.rows, start=1):
        x = bneck(net, f"block{i}", x, row, alpha)
    x = conv_bn(net, "last", x, 6 * net[x].shape[0], 1, act=HardSwish)
    x = net.add("pool", GlobalAvgPool2d(), x)  # nn.AdaptiveAvgPool2d(1), then torch.flatten
    x = net.add("flatten", Flatten(), x)
    x = net.add("fc1", Linear(out_features=make_divisible(model.hidden * alpha)), x)
    x = net.add("hswish", HardSwish(), x)
    x = net.add("dropout", Dropout(p=0.2), x)
    net.add("fc", Linear(out_features=classes), x)
    return net


OPTIONS = (ALPHA, RES, CLASSES)
SOURCE = "Howard et al. 2019, arXiv 1905.02244, Table {}; torchvision 0.29 mobilenetv3.py"


@register("mobilenet_v3_large", family="MobileNet", options=OPTIONS, source=SOURCE.format(1),
          summary="MobileNet v3 Large (NAS + NetAdapt; h-swish, squeeze-excite with hard sigmoid)",
          fixed={"model": LARGE})
@register("mobilenet_v3_small", family="MobileNet", options=OPTIONS, source=SOURCE.format(2),
          summary="MobileNet v3 Small (NAS + NetAdapt; h-swish, squeeze-excite with hard sigmoid)",
          fixed={"model": SMALL})
def _mobilenet_v3(model: V3, alpha: float, res: int, classes: int) -> Network:
    return mobilenet_v3(model, alpha, res, classes)
