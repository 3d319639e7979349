"""Xception (Chollet 2017, arXiv 1610.02357, Figure 5), as Cadene's ``pretrainedmodels``
0.7.4 builds it (``xception.py``, a port of the Keras model; timm's ``legacy_xception`` has
the same layers).  Default input 299.

A separable conv is a 3x3 depthwise conv (``conv1``) and a 1x1 ``pointwise`` conv, neither
with a bias, then BatchNorm; every block but the first starts with a ReLU.  A block that
changes width or strides adds a 1x1 skip conv (+ BN) to its input, the others the input
itself (``x += skip``); strided blocks end in ``MaxPool2d(3, 2, 1)``.  The head is a ReLU
module, the functional ``F.adaptive_avg_pool2d`` and a Linear.
"""
from __future__ import annotations

from dataclasses import dataclass

from calc.graph import Network
from calc.layers import Add, BatchNorm2d, Conv2d, Flatten, GlobalAvgPool2d, Linear, MaxPool2d, ReLU
from calc.registry import CLASSES, RES, register


@dataclass(frozen=True)
class Block:
    """``Block(in, out, reps, strides, start_with_relu, grow_first)``: ``reps`` separable
    convs; the first (``grow_first``) or the last changes the width to ``out``."""

    out: int
    reps: int
    stride: int = 1
    start_with_relu: bool = True
    grow_first: bool = True


#: Figure 5: entry flow (block1-3), middle flow (block4-11, 8 times), exit flow (block12)
BLOCKS = (
    Block(128, 2, 2, start_with_relu=False), Block(256, 2, 2), Block(728, 2, 2),
    *(Block(728, 3) for _ in range(8)),
    Block(1024, 2, 2, grow_first=False),
)


def separable(net: Network, name: str, x: str, out: int) -> str:
    """3x3 depthwise (``{name}.conv1``) then 1x1 (``{name}.pointwise``), no biases."""
    c = net[x].shape[0]
    x = net.add(f"{name}.conv1", Conv2d(out_channels=c, kernel_size=3, padding=1, groups=c, bias=False), x)
    return net.add(f"{name}.pointwise", Conv2d(out_channels=out, kernel_size=1, bias=False), x)


def block(net: Network, name: str, x: str, b: Block) -> str:
    c_in = net[x].shape[0]
    widths = [b.out] * b.reps if b.grow_first else [c_in] * (b.reps - 1) + [b.out]
    y = x
    for i, w in enumerate(widths):
        if i > 0 or b.start_with_relu:
            y = net.add(f"{name}.rep{i}.relu", ReLU(), y)
        y = separable(net, f"{name}.rep{i}.sep", y, w)
        y = net.add(f"{name}.rep{i}.bn", BatchNorm2d(), y)
    if b.stride != 1:
        y = net.add(f"{name}.pool", MaxPool2d(kernel_size=3, stride=b.stride, padding=1), y)
    skip = x
    if b.out != c_in or b.stride != 1:
        skip = net.add(f"{name}.skip", Conv2d(out_channels=b.out, kernel_size=1, stride=b.stride, bias=False), x)
        skip = net.add(f"{name}.skipbn", BatchNorm2d(), skip)
    return net.add(f"{name}.add", Add(), [y, skip])


@register("xception", family="Xception", summary="Xception (Cadene's port of the Keras model)",
          source="Chollet 2017, arXiv 1610.02357, Figure 5; Cadene pretrainedmodels xception.py",
          options=(RES.with_default(299), CLASSES))
def xception(res: int, classes: int) -> Network:
    net = Network("xception", (3, res, res))
    x = net.add("conv1", Conv2d(out_channels=32, kernel_size=3, stride=2, bias=False), "input")
    x = net.add("bn1", BatchNorm2d(), x)
    x = net.add("relu1", ReLU(), x)
    x = net.add("conv2", Conv2d(out_channels=64, kernel_size=3, bias=False), x)
    x = net.add("bn2", BatchNorm2d(), x)
    x = net.add("relu2", ReLU(), x)
    for i, b in enumerate(BLOCKS, start=1):
        x = block(net, f"block{i}", x, b)
    x = separable(net, "conv3", x, 1536)
    x = net.add("bn3", BatchNorm2d(), x)
    x = net.add("relu3", ReLU(), x)
    x = separable(net, "conv4", x, 2048)
    x = net.add("bn4", BatchNorm2d(), x)
    x = net.add("relu4", ReLU(), x)
    x = net.add("pool", GlobalAvgPool2d(impl="functional"), x)
    x = net.add("flatten", Flatten(impl="operator"), x)
    net.add("fc", Linear(out_features=classes), x)
    return net
