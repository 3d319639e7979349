"""RegNetX and RegNetY (Radosavovic et al. 2020, "Designing Network Design Spaces", arXiv
2003.13678): the quantized linear width rule of section 3.3 as code, built as torchvision
0.29 ``models/regnet.py`` builds its 15 models (``--variant pycls`` rounds widths as the
authors' pycls does)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import groupby
from typing import Callable

from calc.blocks import conv_bn, make_divisible, squeeze_excite
from calc.graph import Network
from calc.layers import Add, Flatten, GlobalAvgPool2d, Linear, ReLU, Sigmoid
from calc.registry import CLASSES, RES, Option, register


@dataclass(frozen=True)
class RegNetParams:
    """A RegNet: ``depth`` blocks whose widths follow ``u_j = w0 + wa * j``, quantized in
    log space with step ``wm``; group width ``group_width`` (bottleneck ratio 1, stride 2
    per stage), squeeze-and-excite (ratio 1/4 of the block input) for RegNetY."""

    depth: int
    w0: int
    wa: float
    wm: float
    group_width: int
    se: bool = False


#: torchvision's 15 models (the paper's RegNetX/RegNetY-{400MF..32GF}, Appendix; 128GF from
#: SWAG, Singh et al. 2022)
REGNETS = {
    "regnet_x_400mf": RegNetParams(depth=22, w0=24, wa=24.48, wm=2.54, group_width=16),
    "regnet_x_800mf": RegNetParams(depth=16, w0=56, wa=35.73, wm=2.28, group_width=16),
    "regnet_x_1_6gf": RegNetParams(depth=18, w0=80, wa=34.01, wm=2.25, group_width=24),
    "regnet_x_3_2gf": RegNetParams(depth=25, w0=88, wa=26.31, wm=2.25, group_width=48),
    "regnet_x_8gf": RegNetParams(depth=23, w0=80, wa=49.56, wm=2.88, group_width=120),
    "regnet_x_16gf": RegNetParams(depth=22, w0=216, wa=55.59, wm=2.1, group_width=128),
    "regnet_x_32gf": RegNetParams(depth=23, w0=320, wa=69.86, wm=2.0, group_width=168),
    "regnet_y_400mf": RegNetParams(depth=16, w0=48, wa=27.89, wm=2.09, group_width=8, se=True),
    "regnet_y_800mf": RegNetParams(depth=14, w0=56, wa=38.84, wm=2.4, group_width=16, se=True),
    "regnet_y_1_6gf": RegNetParams(depth=27, w0=48, wa=20.71, wm=2.65, group_width=24, se=True),
    "regnet_y_3_2gf": RegNetParams(depth=21, w0=80, wa=42.63, wm=2.66, group_width=24, se=True),
    "regnet_y_8gf": RegNetParams(depth=17, w0=192, wa=76.82, wm=2.19, group_width=56, se=True),
    "regnet_y_16gf": RegNetParams(depth=18, w0=200, wa=106.23, wm=2.48, group_width=112, se=True),
    "regnet_y_32gf": RegNetParams(depth=20, w0=232, wa=115.89, wm=2.53, group_width=232, se=True),
    "regnet_y_128gf": RegNetParams(depth=27, w0=456, wa=160.83, wm=2.52, group_width=264, se=True),
}

STEM = 32   # the simple stem: 3x3 conv, stride 2, BN, ReLU
QUANT = 8   # block widths are multiples of 8


def block_widths(p: RegNetParams) -> list[int]:
    """Section 3.3: ``u_j = w0 + wa * j`` for each block j, ``s_j = round(log_wm(u_j / w0))``
    and ``w_j = w0 * wm ** s_j`` rounded to a multiple of 8 (round half to even, as
    ``torch.round`` and numpy do)."""
    out = []
    for j in range(p.depth):
        s = round(math.log((p.w0 + p.wa * j) / p.w0) / math.log(p.wm))
        out.append(round(p.w0 * p.wm ** s / QUANT) * QUANT)
    return out


#: making a stage width a multiple of its group width: torchvision's ``_make_divisible``
#: (nearest, halves up, never 10% down) or pycls' ``round(w / g) * g`` (halves to even)
ROUNDING: dict[str, Callable[[int, int], int]] = {
    "torchvision": lambda w, g: make_divisible(w, g),
    "pycls": lambda w, g: max(g, round(w / g) * g),
}


@dataclass(frozen=True)
class Stage:
    width: int
    depth: int
    group_width: int


def stages(p: RegNetParams, variant: str = "torchvision") -> list[Stage]:
    """Consecutive blocks of equal width form a stage; each stage's group width is at most
    its width, and its width is made a multiple of the group width."""
    out = []
    for width, run in groupby(block_widths(p)):
        g = min(p.group_width, width)
        out.append(Stage(width=ROUNDING[variant](width, g), depth=len(list(run)), group_width=g))
    return out


def res_bottleneck(net: Network, name: str, x: str, width: int, stride: int, group_width: int,
                   se: bool) -> str:
    """torchvision's ``ResBottleneckBlock`` (bottleneck ratio 1): the projection shortcut
    first when the shape changes (``x = self.proj(x) + self.f(x)``), then 1x1, grouped 3x3
    (``width / group_width`` groups, stride), SE to ``round(0.25 * block input)`` (ReLU,
    sigmoid), 1x1, the add and a ReLU."""
    c_in = net[x].shape[0]
    identity = x
    if c_in != width or stride != 1:
        identity = conv_bn(net, f"{name}.proj", x, width, 1, stride=stride)
    y = conv_bn(net, f"{name}.a", x, width, 1, act=ReLU)
    y = conv_bn(net, f"{name}.b", y, width, 3, stride=stride, groups=width // group_width, act=ReLU)
    if se:
        y = squeeze_excite(net, f"{name}.se", y, round(0.25 * c_in), act=ReLU, gate=Sigmoid)
    y = conv_bn(net, f"{name}.c", y, width, 1)
    y = net.add(f"{name}.add", Add(), [identity, y])
    return net.add(f"{name}.relu", ReLU(), y)


def regnet(p: RegNetParams, res: int, classes: int, variant: str) -> Network:
    net = Network("regnet", (3, res, res))
    x = conv_bn(net, "stem", "input", STEM, 3, stride=2, act=ReLU)
    for si, st in enumerate(stages(p, variant), start=1):
        for i in range(st.depth):
            x = res_bottleneck(net, f"stage{si}.block{i}", x, st.width, 2 if i == 0 else 1, st.group_width, p.se)
    x = net.add("pool", GlobalAvgPool2d(), x)  # nn.AdaptiveAvgPool2d((1, 1))
    x = net.add("flatten", Flatten(impl="operator"), x)  # x.flatten(start_dim=1)
    net.add("fc", Linear(out_features=classes), x)
    return net


VARIANT = Option("variant", str, "torchvision",
                 "'torchvision' or 'pycls' (the authors' rounding of stage widths to group widths)",
                 choices=tuple(ROUNDING))


def _register(name: str, p: RegNetParams) -> None:
    kind, size = name.split("_", 2)[1:]
    @register(name, family="RegNet", options=(RES, CLASSES, VARIANT), fixed={"p": p},
              summary=f"RegNet{kind.upper()}-{size.replace('_', '.').upper()} (depth {p.depth}, w0 {p.w0}, "
                      f"wa {p.wa}, wm {p.wm}, group width {p.group_width}{', SE' if p.se else ''})",
              source="Radosavovic et al. 2020, arXiv 2003.13678, section 3.3; torchvision 0.29 regnet.py")
    def build(p: RegNetParams, res: int, classes: int, variant: str) -> Network:
        return regnet(p, res, classes, variant)


for _name, _p in REGNETS.items():
    _register(_name, _p)
