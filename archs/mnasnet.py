"""MnasNet-B1 (Tan et al. 2019, arXiv 1807.11626, Figure 7 and Appendix), as torchvision's
``models/mnasnet.py`` builds it, with its depth multiplier ``alpha``.

A stem (3x3/2 conv, a 3x3 depthwise-separable conv to 16 channels without activation), six
stacks of inverted residuals (MobileNet v2's block: 1x1 expand + ReLU, k x k depthwise +
ReLU, linear 1x1 project; a residual ``+`` where the shape is kept), a 1x1 conv to 1280, the
mean over H and W (``x.mean([2, 3])``, an operator) and Dropout 0.2 + Linear.  Every width
is ``_round_to_multiple_of(c * alpha, 8)`` (:func:`calc.blocks.make_divisible`, the same
rule); the 1280-channel head is never scaled.

torchvision's ``MNASNet._version = 2`` (0.5+) scales the stem's 32 and 16 channels too;
``--variant torchvision_0.4`` is the first version (torchvision 0.4.0), whose stem keeps 32
and 16 at every alpha, so only alpha 1.0 is the same network in both.
"""
from __future__ import annotations

from dataclasses import dataclass

from calc.blocks import conv_bn, make_divisible
from calc.graph import Network
from calc.layers import Add, Dropout, GlobalAvgPool2d, Linear, ReLU
from calc.registry import ALPHA, CLASSES, RES, Option, register


@dataclass(frozen=True)
class Stack:
    """One stack of the network: ``n`` inverted residuals with kernel ``k``, expansion ``t``
    and ``c`` output channels (before scaling); the first has stride ``s``."""

    k: int
    t: int
    c: int
    n: int
    s: int


#: MnasNet-B1 (torchvision's ``_stack`` calls, the paper's Figure 7(a))
STACKS = (
    Stack(k=3, t=3, c=24, n=3, s=2),
    Stack(k=5, t=3, c=40, n=3, s=2),
    Stack(k=5, t=6, c=80, n=3, s=2),
    Stack(k=3, t=6, c=96, n=2, s=1),
    Stack(k=5, t=6, c=192, n=4, s=2),
    Stack(k=3, t=6, c=320, n=1, s=1),
)
STEM = (32, 16)  # the stem conv's and the separable conv's output channels
HEAD = 1280


def inverted_residual(net: Network, name: str, x: str, out: int, k: int, stride: int, t: int) -> str:
    """torchvision's ``_InvertedResidual`` (the expansion conv is always there, even for t = 1)."""
    c_in = net[x].shape[0]
    y = conv_bn(net, name, x, c_in * t, 1, act=ReLU, n=1, act_name="relu")
    y = conv_bn(net, name, y, c_in * t, k, stride=stride, groups=c_in * t, act=ReLU, n=2, act_name="relu")
    y = conv_bn(net, name, y, out, 1, n=3)
    if stride == 1 and c_in == out:
        y = net.add(f"{name}.add", Add(), [y, x])  # self.layers(input) + input
    return y


VARIANT = Option("variant", str, "torchvision",
                 "'torchvision' (0.5+, _version 2: the stem is scaled by alpha) or 'torchvision_0.4' "
                 "(the first version: the stem keeps 32 and 16 channels)",
                 choices=("torchvision", "torchvision_0.4"))


@register("mnasnet", family="MnasNet", summary="MnasNet-B1 (torchvision; --alpha depth multiplier)",
          source="Tan et al. 2019, arXiv 1807.11626; torchvision models/mnasnet.py",
          options=(ALPHA, RES, CLASSES, VARIANT))
def mnasnet(alpha: float, res: int, classes: int, variant: str) -> Network:
    stem = STEM if variant == "torchvision_0.4" else tuple(make_divisible(c * alpha) for c in STEM)
    net = Network("mnasnet", (3, res, res))
    x = conv_bn(net, "stem", "input", stem[0], 3, stride=2, act=ReLU, n=1, act_name="relu")
    x = conv_bn(net, "stem", x, stem[0], 3, groups=stem[0], act=ReLU, n=2, act_name="relu")
    x = conv_bn(net, "stem", x, stem[1], 1, n=3)
    for si, st in enumerate(STACKS, start=1):
        out = make_divisible(st.c * alpha)
        for i in range(st.n):
            x = inverted_residual(net, f"stack{si}.block{i}", x, out, st.k, st.s if i == 0 else 1, st.t)
    x = conv_bn(net, "head", x, HEAD, 1, act=ReLU, act_name="relu")
    x = net.add("pool", GlobalAvgPool2d(impl="operator", keepdims=False), x)  # x.mean([2, 3])
    x = net.add("dropout", Dropout(p=0.2), x)
    net.add("fc", Linear(out_features=classes), x)
    return net
