"""MobileNet v3 Large and Small (Howard et al. 2019, arXiv 1905.02244), declared from the
paper's Tables 1 and 2 and built as torchvision 0.29 ``models/mobilenetv3.py`` builds them."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from calc.blocks import conv_bn, make_divisible, squeeze_excite
from calc.graph import Network
from calc.layers import Add, Dropout, Flatten, GlobalAvgPool2d, HardSigmoid, HardSwish, Linear, ReLU
from calc.registry import ALPHA, CLASSES, RES, Option, register


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
    rows, the ``last`` 1x1 conv before the pool (h-swish) and ``hidden``, the width of the
    "conv2d 1x1, NBN" after it (a Linear, then h-swish, in torchvision)."""

    stem: int
    rows: tuple[Bneck, ...]
    last: int
    hidden: int


#: Table 1 (MobileNetV3-Large), final version of the paper (arXiv v5)
LARGE = V3(stem=16, last=960, hidden=1280, rows=(
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
SMALL = V3(stem=16, last=576, hidden=1024, rows=(
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


@dataclass(frozen=True)
class Multiplier:
    """How an implementation applies the width multiplier ``alpha`` (the table's widths
    at alpha = 1 are the same in both).

    torchvision scales every printed width, the expansions included, and rounds it with
    :func:`make_divisible`; the 1x1 conv before the pool has 6x the last bneck's
    (rounded) output, the hidden layer ``make_divisible(hidden * alpha)``.  TF-slim
    (``research/slim/nets/mobilenet/mobilenet_v3.py``) expands by the printed factor
    ``exp / in`` applied to the block's rounded input and scales the 960 / 576 conv like any
    other; the authors' 0.75 models (the paper's and the zoo's numbers) also keep the hidden
    layer at 1280 / 1024, as TF-slim's ``finegrain_classification_mode`` does (and MobileNet
    v2 its last layer)."""

    expand_from_input: bool
    last_from_output: bool
    scale_hidden: bool


MULTIPLIERS = {
    "torchvision": Multiplier(expand_from_input=False, last_from_output=True, scale_hidden=True),
    "tf_slim": Multiplier(expand_from_input=True, last_from_output=False, scale_hidden=False),
}


def bneck(net: Network, name: str, x: str, row: Bneck, exp: int, alpha: float) -> str:
    """torchvision's ``InvertedResidual`` with ``exp`` expanded channels: the SE squeezes
    to ``make_divisible(exp // 4)`` and gates with a hard sigmoid; a residual add when the
    stride is 1 and the width is kept."""
    c_in = net[x].shape[0]
    out = make_divisible(row.out * alpha)
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


def mobilenet_v3(model: V3, alpha: float, res: int, classes: int, variant: str = "torchvision",
                 hidden: int | None = None) -> Network:
    """``hidden`` replaces the table's hidden width (the first version of the paper gives
    Small 1280, as Large)."""
    m = MULTIPLIERS[variant]
    hidden = model.hidden if hidden is None else hidden
    net = Network("mobilenet_v3", (3, res, res))
    x = conv_bn(net, "stem", "input", make_divisible(model.stem * alpha), 3, stride=2, act=HardSwish)
    printed_in = model.stem
    for i, row in enumerate(model.rows, start=1):
        exp = make_divisible(net[x].shape[0] * row.exp / printed_in if m.expand_from_input else row.exp * alpha)
        x = bneck(net, f"block{i}", x, row, exp, alpha)
        printed_in = row.out
    last = 6 * net[x].shape[0] if m.last_from_output else make_divisible(model.last * alpha)
    x = conv_bn(net, "last", x, last, 1, act=HardSwish)
    x = net.add("pool", GlobalAvgPool2d(), x)  # nn.AdaptiveAvgPool2d(1), then torch.flatten
    x = net.add("flatten", Flatten(), x)
    hidden = make_divisible(hidden * alpha) if m.scale_hidden else hidden
    x = net.add("fc1", Linear(out_features=hidden), x)
    x = net.add("hswish", HardSwish(), x)
    x = net.add("dropout", Dropout(p=0.2), x)
    net.add("fc", Linear(out_features=classes), x)
    return net


VARIANT = Option("variant", str, "torchvision", "'torchvision' or 'tf_slim' (how --alpha scales the widths: "
                 "see archs/mobilenet_v3.py)", choices=tuple(MULTIPLIERS))
SOURCE = "Howard et al. 2019, arXiv 1905.02244, Table {}; torchvision 0.29 mobilenetv3.py"


def _register(name: str, model: V3, table: int, summary: str) -> None:
    hidden = Option("hidden", int, model.hidden, "width of the layer after the pool (Table "
                    f"{table}'s conv2d 1x1, NBN), before --alpha", min=1, max=1_000_000)

    @register(name, family="MobileNet", summary=summary, source=SOURCE.format(table),
              options=(ALPHA, RES, CLASSES, VARIANT, hidden), fixed={"model": model})
    def build(model: V3, alpha: float, res: int, classes: int, variant: str, hidden: int) -> Network:
        return mobilenet_v3(model, alpha, res, classes, variant, hidden)


SUMMARY = "MobileNet v3 {} (NAS + NetAdapt; h-swish, squeeze-excite with hard sigmoid)"
_register("mobilenet_v3_large", LARGE, 1, SUMMARY.format("Large"))
_register("mobilenet_v3_small", SMALL, 2, SUMMARY.format("Small"))
