"""Inception-v4 and Inception-ResNet-v2 (Szegedy et al. 2016, arXiv 1602.07261), as Cadene's
``pretrainedmodels`` 0.7.4 builds them (``inceptionv4.py``, ``inceptionresnetv2.py``: ports of
the TF-slim checkpoints; timm's ``inception_v4`` and ``inception_resnet_v2`` have the same
layers).  Default input 299 (``pretrained_settings``).

Each module is data: a tuple of branches, each a tuple of ops run in order, and the
branches' outputs are concatenated in the order written (the reference's ``torch.cat``).
A :class:`Conv` is the reference's ``BasicConv2d``: a conv without bias, BatchNorm
(eps 0.001) and a ReLU module.  Pools are modules; the branch average pools are
``AvgPool2d(3, 1, 1, count_include_pad=False)`` (which changes values, not counts).

Inception-ResNet-v2's residual blocks (Block35, Block17, Block8) concatenate their branches,
project back with a 1x1 conv *with* bias, and compute ``out * scale + x`` (the ``*`` and
``+`` operators) before a ReLU module; the last Block8 has scale 1.0 and no ReLU.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Union

from calc.blocks import conv_bn, window_pool_head
from calc.graph import Network
from calc.layers import Add, AvgPool2d, Concat, Conv2d, MaxPool2d, ReLU, Scale
from calc.layers.spatial import IntPair
from calc.registry import CLASSES, RES, register

# ---------------------------------------------------------------------------
# The vocabulary of the tables


@dataclass(frozen=True)
class Conv:
    """``BasicConv2d(out, kernel_size=k, stride=s, padding=p)``: conv (no bias) -> BN -> ReLU."""

    out: int
    k: IntPair = 1
    s: int = 1
    p: IntPair = 0


@dataclass(frozen=True)
class Pool:
    """A pooling module: ``max`` (``MaxPool2d(k, s)``) or ``avg`` (``AvgPool2d(k, s, p)``)."""

    kind: Literal["max", "avg"]
    k: int = 3
    s: int = 1
    p: int = 0


@dataclass(frozen=True)
class Fork:
    """Two convs on the same input, their outputs concatenated (Inception-C's 1x3 | 3x1)."""

    a: Conv
    b: Conv


Op = Union[Conv, Pool, Fork]
Branches = tuple[tuple[Op, ...], ...]

MAX_S2 = Pool("max", 3, 2)
AVG_S1 = Pool("avg", 3, 1, 1)


def k17(out: int) -> Conv:
    return Conv(out, (1, 7), p=(0, 3))


def k71(out: int) -> Conv:
    return Conv(out, (7, 1), p=(3, 0))


def k13(out: int) -> Conv:
    return Conv(out, (1, 3), p=(0, 1))


def k31(out: int) -> Conv:
    return Conv(out, (3, 1), p=(1, 0))


# ---------------------------------------------------------------------------
# Inception-v4: the paper's Figures 3-9, as inceptionv4.py declares them

V4_STEM = (Conv(32, 3, 2), Conv(32, 3), Conv(64, 3, p=1))
MIXED_3A: Branches = ((MAX_S2,), (Conv(96, 3, 2),))
MIXED_4A: Branches = ((Conv(64), Conv(96, 3)),
                      (Conv(64), k17(64), k71(64), Conv(96, 3)))
MIXED_5A: Branches = ((Conv(192, 3, 2),), (MAX_S2,))
INCEPTION_A: Branches = ((Conv(96),),
                         (Conv(64), Conv(96, 3, p=1)),
                         (Conv(64), Conv(96, 3, p=1), Conv(96, 3, p=1)),
                         (AVG_S1, Conv(96)))
REDUCTION_A: Branches = ((Conv(384, 3, 2),),
                         (Conv(192), Conv(224, 3, p=1), Conv(256, 3, 2)),
                         (MAX_S2,))
INCEPTION_B: Branches = ((Conv(384),),
                         (Conv(192), k17(224), k71(256)),
                         (Conv(192), k71(192), k17(224), k71(224), k17(256)),
                         (AVG_S1, Conv(128)))
REDUCTION_B: Branches = ((Conv(192), Conv(192, 3, 2)),
                         (Conv(256), k17(256), k71(320), Conv(320, 3, 2)),
                         (MAX_S2,))
INCEPTION_C: Branches = ((Conv(256),),
                         (Conv(384), Fork(k13(256), k31(256))),
                         (Conv(384), k31(448), k13(512), Fork(k13(256), k31(256))),
                         (AVG_S1, Conv(256)))

#: the feature extractor in forward order: (name, module, repeats)
INCEPTION_V4 = (
    ("mixed_3a", MIXED_3A, 1), ("mixed_4a", MIXED_4A, 1), ("mixed_5a", MIXED_5A, 1),
    ("inception_a", INCEPTION_A, 4), ("reduction_a", REDUCTION_A, 1),
    ("inception_b", INCEPTION_B, 7), ("reduction_b", REDUCTION_B, 1),
    ("inception_c", INCEPTION_C, 3),
)

# ---------------------------------------------------------------------------
# Inception-ResNet-v2: Figures 3 (stem as the TF-slim checkpoint has it), 16-20

IRV2_STEM = (("conv2d_1a", Conv(32, 3, 2)), ("conv2d_2a", Conv(32, 3)), ("conv2d_2b", Conv(64, 3, p=1)),
             ("maxpool_3a", MAX_S2), ("conv2d_3b", Conv(80)), ("conv2d_4a", Conv(192, 3)),
             ("maxpool_5a", MAX_S2))
MIXED_5B: Branches = ((Conv(96),),
                      (Conv(48), Conv(64, 5, p=2)),
                      (Conv(64), Conv(96, 3, p=1), Conv(96, 3, p=1)),
                      (AVG_S1, Conv(64)))
MIXED_6A: Branches = ((Conv(384, 3, 2),),
                      (Conv(256), Conv(256, 3, p=1), Conv(384, 3, 2)),
                      (MAX_S2,))
MIXED_7A: Branches = ((Conv(256), Conv(384, 3, 2)),
                      (Conv(256), Conv(288, 3, 2)),
                      (Conv(256), Conv(288, 3, p=1), Conv(320, 3, 2)),
                      (MAX_S2,))


@dataclass(frozen=True)
class Residual:
    """A residual Inception block: ``relu(conv1x1(cat(branches)) * scale + x)``."""

    branches: Branches
    scale: float
    repeats: int


BLOCK35 = Residual(((Conv(32),), (Conv(32), Conv(32, 3, p=1)), (Conv(32), Conv(48, 3, p=1), Conv(64, 3, p=1))),
                   scale=0.17, repeats=10)
BLOCK17 = Residual(((Conv(192),), (Conv(128), k17(160), k71(192))), scale=0.10, repeats=20)
BLOCK8 = Residual(((Conv(192),), (Conv(192), k13(224), k31(256))), scale=0.20, repeats=9)

# ---------------------------------------------------------------------------
# Builders


def basic_conv(net: Network, name: str, x: str, c: Conv) -> str:
    return conv_bn(net, name, x, c.out, c.k, c.s, padding=c.p, act=ReLU, act_name="relu", eps=1e-3)


def op(net: Network, name: str, x: str, o: Op) -> str:
    if isinstance(o, Conv):
        return basic_conv(net, name, x, o)
    if isinstance(o, Fork):
        a = basic_conv(net, f"{name}a", x, o.a)
        b = basic_conv(net, f"{name}b", x, o.b)
        return net.add(f"{name}.cat", Concat(), [a, b])
    pool = MaxPool2d(kernel_size=o.k, stride=o.s, padding=o.p) if o.kind == "max" else \
        AvgPool2d(kernel_size=o.k, stride=o.s, padding=o.p)
    return net.add(name, pool, x)


def mixed(net: Network, name: str, x: str, branches: Branches) -> str:
    """Every branch on ``x`` in order (``{name}.branch{i}.{j}``), concatenated."""
    outs = []
    for i, ops in enumerate(branches):
        y = x
        for j, o in enumerate(ops):
            y = op(net, f"{name}.branch{i}.{j}", y, o)
        outs.append(y)
    return net.add(f"{name}.cat", Concat(), outs)


def residual(net: Network, name: str, x: str, block: Residual, scale: float, relu: bool = True) -> str:
    y = mixed(net, name, x, block.branches)
    y = net.add(f"{name}.conv2d", Conv2d(out_channels=net[x].shape[0], kernel_size=1), y)
    y = net.add(f"{name}.scale", Scale(factor=scale), y)
    y = net.add(f"{name}.add", Add(), [y, x])
    return net.add(f"{name}.relu", ReLU(), y) if relu else y


def fixed_window_head(net: Network, x: str, classes: int, dropout: bool = False) -> str:
    """``AvgPool2d(8, count_include_pad=False)`` (8x8 at 299), ``x.view``, ``F.dropout`` (IRv2),
    ``last_linear``."""
    return window_pool_head(net, x, classes, dropout=0.5 if dropout else None, dropout_impl="functional",
                            window=8, made_for=299)


INPUT_299 = RES.with_default(299)


@register("inception_v4", family="Inception", summary="Inception-v4 (Cadene's port of the TF-slim model)",
          source="Szegedy et al. 2016, arXiv 1602.07261, Figures 3-9; Cadene pretrainedmodels inceptionv4.py",
          options=(INPUT_299, CLASSES))
def inception_v4(res: int, classes: int) -> Network:
    net = Network("inception_v4", (3, res, res))
    x = "input"
    for i, c in enumerate(V4_STEM, start=1):
        x = basic_conv(net, f"stem{i}", x, c)
    for name, branches, n in INCEPTION_V4:
        for i in range(n):
            x = mixed(net, f"{name}{i + 1}" if n > 1 else name, x, branches)
    fixed_window_head(net, x, classes)
    return net


@register("inception_resnet_v2", family="Inception",
          summary="Inception-ResNet-v2 (Cadene's port of the TF-slim model)",
          source="Szegedy et al. 2016, arXiv 1602.07261, Figures 3, 16-20; "
                 "Cadene pretrainedmodels inceptionresnetv2.py",
          options=(INPUT_299, CLASSES))
def inception_resnet_v2(res: int, classes: int) -> Network:
    net = Network("inception_resnet_v2", (3, res, res))
    x = "input"
    for name, o in IRV2_STEM:
        x = op(net, name, x, o)
    x = mixed(net, "mixed_5b", x, MIXED_5B)
    for stage, block, reduction, branches in (("repeat", BLOCK35, "mixed_6a", MIXED_6A),
                                              ("repeat_1", BLOCK17, "mixed_7a", MIXED_7A),
                                              ("repeat_2", BLOCK8, None, None)):
        for i in range(block.repeats):
            x = residual(net, f"{stage}.{i}", x, block, block.scale)
        if reduction:
            x = mixed(net, reduction, x, branches)
    x = residual(net, "block8", x, BLOCK8, scale=1.0, relu=False)
    x = basic_conv(net, "conv2d_7b", x, Conv(1536))
    fixed_window_head(net, x, classes, dropout=True)
    return net
