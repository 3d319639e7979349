"""PolyNet (Zhang et al. 2017, arXiv 1611.05725): Inception-ResNet modules composed as
polynomials, declared from Cadene ``pretrainedmodels`` 0.7.4 ``models/polynet.py`` (the
model of seed 000's row; facts only, the code is our own).

A module of stage A, B or C is a residual sum ``x + s F(x) + ...`` of Inception-ResNet
blocks F (Zhang et al. Figure 3): a *2-way* module adds two blocks of their own on the same
input (``x + s F(x) + s G(x)``); a *poly-3* module chains one block three times,
``x + s F(x) + s F(F'(x)) + ...`` with the next order reading the ReLU of the previous one
(``forward_block``), and its path convs are *one* conv per position called at each order
(``PolyConv2d``: a BatchNorm per order, the final 1x1 conv per order too).  The shared convs
are declared with ``shares=``: their parameters count once, their MACs at every order.
Cadene's loop also applies the ReLU after the last order, whose output nothing reads: it
runs (a hook counts it), so it is declared.  The residual scales are Cadene's constants,
``1 - k / 130`` for the k-th module, rounded to 6 decimals; ``out + x * scale`` is the
``*`` and ``+`` operators.
"""
from __future__ import annotations

from dataclasses import dataclass

from archs.inception_v4 import MAX_S2, Conv, k13, k17, k31, k71
from calc.blocks import conv_bn, window_pool_head
from calc.graph import Network
from calc.layers import Add, BatchNorm2d, Concat, MaxPool2d, ReLU, Scale
from calc.registry import CLASSES, RES, register

#: Inception modules: parallel paths (each a chain of ``BasicConv2d``, or the 3x3/s2 max pool:
#: the vocabulary of archs/inception_v4.py), concatenated.  Stem and reductions from Cadene's
#: ``Stem``, ``ReductionA``, ``ReductionB``.
STEM = (
    ("conv1", ((Conv(32, 3, 2), Conv(32, 3), Conv(64, 3, p=1)),)),
    ("mixed1", ((MAX_S2,), (Conv(96, 3, 2),))),
    ("mixed2", ((Conv(64), Conv(96, 3)), (Conv(64), k71(64), k17(64), Conv(96, 3)))),
    ("mixed3", ((MAX_S2,), (Conv(192, 3, 2),))),
)
REDUCTION_A = ((Conv(256), Conv(256, 3, p=1), Conv(384, 3, 2)), (Conv(384, 3, 2),), (MAX_S2,))
REDUCTION_B = ((Conv(256), Conv(256, 3, p=1), Conv(256, 3, 2)), (Conv(256), Conv(256, 3, 2)),
               (Conv(256), Conv(384, 3, 2)), (MAX_S2,))


@dataclass(frozen=True)
class Block:
    """An Inception-ResNet block: ``paths`` concatenated, then a 1x1 conv-BN back to the
    module's width (no ReLU)."""

    paths: tuple
    out: int


BLOCK_A = Block(((Conv(32), Conv(48, 3, p=1), Conv(64, 3, p=1)), (Conv(32), Conv(32, 3, p=1)), (Conv(32),)), 384)
BLOCK_B = Block(((Conv(128), k17(160), k71(192)), (Conv(192),)), 1152)
BLOCK_C = Block(((Conv(192), k13(224), k31(256)), (Conv(192),)), 2048)

#: The stages: (block, module kinds in order).  Cadene's ``stage_a`` .. ``stage_c``: ten
#: A 2-way modules, then B poly-3 and 2-way alternating (ten each), then C likewise (five each).
STAGES = (
    ("stage_a", BLOCK_A, ("2way",) * 10),
    ("stage_b", BLOCK_B, ("poly3", "2way") * 10),
    ("stage_c", BLOCK_C, ("poly3", "2way") * 5),
)


def basic_conv(net: Network, name: str, x: str, c: Conv, shares: str | None = None, relu: bool = True) -> str:
    """A ``BasicConv2d`` (BatchNorm's default eps here; ``relu=False``: ``output_relu=False``);
    ``shares``: the conv reuses that node's weights (``PolyConv2d``)."""
    if shares is None:
        return conv_bn(net, name, x, c.out, c.k, stride=c.s, padding=c.p, act=ReLU if relu else None,
                       act_name="relu")
    x = net.add(f"{name}.conv", net[shares].layer, x, shares=shares)
    x = net.add(f"{name}.bn", BatchNorm2d(), x)  # a BatchNorm of its own at each order
    return net.add(f"{name}.relu", ReLU(), x)


def inception(net: Network, name: str, x: str, paths: tuple, shared_from: str | None = None) -> str:
    """Parallel paths concatenated (a single path: just the chain).  ``shared_from``: the
    name of an earlier use of the same paths whose convs these reuse."""
    outs = []
    for i, path in enumerate(paths):
        if path == (MAX_S2,):
            outs.append(net.add(f"{name}.path{i}.pool", MaxPool2d(kernel_size=3, stride=2), x))
            continue
        y = x
        for j, c in enumerate(path):
            owner = None if shared_from is None else f"{shared_from}.path{i}.{j}.conv"
            y = basic_conv(net, f"{name}.path{i}.{j}", y, c, owner)
        outs.append(y)
    return outs[0] if len(outs) == 1 else net.add(f"{name}.cat", Concat(), outs)


def block(net: Network, name: str, x: str, b: Block, shared_from: str | None = None) -> str:
    y = inception(net, name, x, b.paths, shared_from)
    return basic_conv(net, f"{name}.conv2d", y, Conv(b.out), relu=False)


def residual_module(net: Network, name: str, x: str, b: Block, kind: str, scale: float) -> str:
    """A 2-way (two blocks on ``x``) or poly-3 (one block's convs at three orders, each
    order on the ReLU of the previous) module: ``x`` plus each block's output times
    ``scale``, then a ReLU."""
    out, inp = x, x
    for k in range(2 if kind == "2way" else 3):
        poly = kind == "poly3"
        y = block(net, f"{name}.block{k}", inp, b, f"{name}.block0" if poly and k else None)
        s = net.add(f"{name}.block{k}.scale", Scale(factor=scale), y)
        out = net.add(f"{name}.block{k}.add", Add(), [out, s])
        if poly:  # x = self.relu(x) after every order, the last one's unread
            inp = net.add(f"{name}.block{k}.relu", ReLU(), y)
    return net.add(f"{name}.relu", ReLU(), out)


@register("polynet", family="PolyNet", summary="PolyNet (poly-3 and 2-way Inception-ResNet modules), 331x331",
          source="Zhang et al. 2017, arXiv 1611.05725; Cadene pretrainedmodels 0.7.4 models/polynet.py",
          options=(RES.with_default(331), CLASSES))
def polynet(res: int, classes: int) -> Network:
    net = Network("polynet", (3, res, res))
    x = "input"
    for name, paths in STEM:
        x = inception(net, f"stem.{name}", x, paths)
    k = 0
    for stage, b, kinds in STAGES:
        for i, kind in enumerate(kinds):
            x = residual_module(net, f"{stage}.{i}", x, b, kind, round(1 - k / 130, 6))
            k += 1
        if stage != "stage_c":
            x = inception(net, f"reduction_{stage[-1]}", x, REDUCTION_A if stage == "stage_a" else REDUCTION_B)
    window_pool_head(net, x, classes, stride=1, dropout=0.2, window=9, made_for=331)
    return net
