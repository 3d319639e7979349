"""GhostNet (Han et al. 2020, arXiv 1911.11907), declared from the paper's Table 1 and
built as timm 1.0 ``models/ghostnet.py`` builds ``ghostnet_100`` (``--alpha 0.5`` and
``1.3`` are timm's ``ghostnet_050`` and ``ghostnet_130``)."""
from __future__ import annotations

import math
from dataclasses import dataclass

from calc.blocks import conv_bn, make_divisible, squeeze_excite
from calc.graph import Network
from calc.layers import (
    Add, BatchNorm2d, ChannelSlice, Concat, Conv2d, Dropout, Flatten, GlobalAvgPool2d, HardSigmoid, Linear,
    ReLU,
)
from calc.registry import ALPHA, CLASSES, RES, register


@dataclass(frozen=True)
class GBneck:
    """One G-bneck row of Table 1: a ghost module expanding to ``exp`` channels, a
    ``k`` x ``k`` depthwise conv when the stride ``s`` is 2, squeeze-and-excite if ``se``,
    and a ghost module to ``out`` channels.  Table 1 prints no kernel sizes; ``k`` is the
    authors' (and timm's): 5 in the 40- and 160-channel stages, 3 elsewhere."""

    k: int
    exp: int
    out: int
    se: bool
    s: int


#: Table 1 of the paper, after the stem (Conv2d 3x3, 16, stride 2); then Conv2d 1x1 to 960,
#: AvgPool 7x7, Conv2d 1x1 to 1280 and FC.
GHOSTNET = (
    GBneck(k=3, exp=16, out=16, se=False, s=1),
    GBneck(k=3, exp=48, out=24, se=False, s=2),
    GBneck(k=3, exp=72, out=24, se=False, s=1),
    GBneck(k=5, exp=72, out=40, se=True, s=2),
    GBneck(k=5, exp=120, out=40, se=True, s=1),
    GBneck(k=3, exp=240, out=80, se=False, s=2),
    GBneck(k=3, exp=200, out=80, se=False, s=1),
    GBneck(k=3, exp=184, out=80, se=False, s=1),
    GBneck(k=3, exp=184, out=80, se=False, s=1),
    GBneck(k=3, exp=480, out=112, se=True, s=1),
    GBneck(k=3, exp=672, out=112, se=True, s=1),
    GBneck(k=5, exp=672, out=160, se=True, s=2),
    GBneck(k=5, exp=960, out=160, se=False, s=1),
    GBneck(k=5, exp=960, out=160, se=True, s=1),
    GBneck(k=5, exp=960, out=160, se=False, s=1),
    GBneck(k=5, exp=960, out=160, se=True, s=1),
)
#: the 1x1 conv after the pool keeps 1280 channels at every width (timm's ``conv_head``)
HEAD = 1280


def ghost_module(net: Network, name: str, x: str, out: int, relu: bool) -> str:
    """A primary 1x1 conv to ``ceil(out / 2)`` channels, a cheap 3x3 depthwise conv on
    them (ratio 2: as many channels again), both with BN (and ReLU if ``relu``), concatenated
    and sliced to ``out`` channels (``torch.cat([x1, x2], 1)[:, :out]``)."""
    init = math.ceil(out / 2)
    act = ReLU if relu else None
    x1 = conv_bn(net, f"{name}.primary", x, init, 1, act=act)
    x2 = conv_bn(net, f"{name}.cheap", x1, init, 3, groups=init, act=act)
    y = net.add(f"{name}.cat", Concat(), [x1, x2])
    return net.add(f"{name}.slice", ChannelSlice(stop=out), y)


def ghost_bottleneck(net: Network, name: str, x: str, row: GBneck, alpha: float) -> str:
    """timm's ``GhostBottleneck``; widths ``make_divisible(c * alpha, 4)``, the SE squeezes
    to ``make_divisible(exp / 4, 4)`` with ``x.mean`` and gates with a hard sigmoid.  The
    shortcut is the input when the shape is kept, else a depthwise k x k conv (stride s) and
    a 1x1 conv, each with BN."""
    c_in = net[x].shape[0]
    exp, out = make_divisible(row.exp * alpha, 4), make_divisible(row.out * alpha, 4)
    y = ghost_module(net, f"{name}.ghost1", x, exp, relu=True)
    if row.s > 1:
        y = conv_bn(net, f"{name}.dw", y, exp, row.k, stride=row.s, groups=exp)
    if row.se:
        y = squeeze_excite(net, f"{name}.se", y, make_divisible(exp / 4, 4), act=ReLU, gate=HardSigmoid,
                           pool_impl="operator")
    y = ghost_module(net, f"{name}.ghost2", y, out, relu=False)
    shortcut = x
    if c_in != out or row.s != 1:
        s = conv_bn(net, f"{name}.shortcut.dw", x, c_in, row.k, stride=row.s, groups=c_in)
        shortcut = conv_bn(net, f"{name}.shortcut.pw", s, out, 1)
    return net.add(f"{name}.add", Add(), [y, shortcut])  # `x += self.shortcut(shortcut)`


@register("ghostnet", family="GhostNet", options=(ALPHA, RES, CLASSES),
          summary="GhostNet (ghost modules: a primary conv plus cheap depthwise features)",
          source="Han et al. 2020, arXiv 1911.11907, Table 1; timm 1.0 ghostnet.py (ghostnet_100)")
def ghostnet(alpha: float, res: int, classes: int) -> Network:
    """The conv before the pool is timm's ``ConvBnAct``, whose ``BatchNormAct2d`` calls
    ``F.batch_norm`` (BN invoked functionally); the classifier is timm's ``Linear``, which
    calls ``F.linear``.  Neither is a module type the hook-based tools know."""
    net = Network("ghostnet", (3, res, res))
    x = conv_bn(net, "stem", "input", make_divisible(16 * alpha, 4), 3, stride=2, act=ReLU)
    for i, row in enumerate(GHOSTNET, start=1):
        x = ghost_bottleneck(net, f"block{i}", x, row, alpha)
    x = net.add("last.conv", Conv2d(out_channels=make_divisible(GHOSTNET[-1].exp * alpha, 4), kernel_size=1,
                                    bias=False), x)
    x = net.add("last.bn", BatchNorm2d(impl="functional"), x)
    x = net.add("last.act", ReLU(), x)
    x = net.add("pool", GlobalAvgPool2d(), x)  # SelectAdaptivePool2d: nn.AdaptiveAvgPool2d(1)
    x = net.add("head.conv", Conv2d(out_channels=HEAD, kernel_size=1), x)
    x = net.add("head.act", ReLU(), x)
    x = net.add("flatten", Flatten(impl="module"), x)  # nn.Flatten(1)
    x = net.add("dropout", Dropout(p=0.2, impl="functional"), x)  # F.dropout(x, 0.2, self.training)
    net.add("fc", Linear(out_features=classes, impl="functional"), x)
    return net
