"""BN-Inception (Ioffe & Szegedy 2015, arXiv 1502.03167, Figure 5), as Cadene's
``pretrainedmodels`` 0.7.4 builds it (``bninception.py``, a port of the Caffe model of
yjxiong's TSN): every conv has a bias and is followed by BatchNorm and a ReLU module; pools
are Caffe's ceil-mode pools, the branch pools included (``AvgPool2d(3, 1, 1,
ceil_mode=True)``); the head is a fixed ``AvgPool2d(7, stride=1)`` module.  Input 224.
"""
from __future__ import annotations

from dataclasses import dataclass

from calc.blocks import conv_bn, window_pool_head
from calc.graph import Network
from calc.layers import AvgPool2d, Concat, MaxPool2d, ReLU
from calc.registry import CLASSES, RES, register


@dataclass(frozen=True)
class Mixed:
    """One inception module, the columns of Figure 5: #1x1, #3x3 reduce, #3x3, double #3x3
    reduce, double #3x3, pool and its projection.  A reduction module (3c, 4e) has no 1x1
    branch and no projection, and strides 2 in its 3x3 convs and its max pool."""

    c1x1: int | None
    c3_reduce: int
    c3: int
    d3_reduce: int
    d3: int
    pool: str  # "avg" or "max"
    proj: int | None
    stride: int = 1


#: Figure 5 of the paper (= bninception.py), in forward order
MODULES = {
    "inception_3a": Mixed(64, 64, 64, 64, 96, "avg", 32),
    "inception_3b": Mixed(64, 64, 96, 64, 96, "avg", 64),
    "inception_3c": Mixed(None, 128, 160, 64, 96, "max", None, stride=2),
    "inception_4a": Mixed(224, 64, 96, 96, 128, "avg", 128),
    "inception_4b": Mixed(192, 96, 128, 96, 128, "avg", 128),
    "inception_4c": Mixed(160, 128, 160, 128, 160, "avg", 128),
    "inception_4d": Mixed(96, 128, 192, 160, 192, "avg", 128),
    "inception_4e": Mixed(None, 128, 192, 192, 256, "max", None, stride=2),
    "inception_5a": Mixed(352, 192, 320, 160, 224, "avg", 128),
    "inception_5b": Mixed(352, 192, 320, 192, 224, "max", 128),
}


def conv(net: Network, name: str, x: str, out: int, k: int, stride: int = 1) -> str:
    """Conv (with bias) -> BN -> ReLU, as ``{name}.conv``, ``.bn``, ``.relu``."""
    return conv_bn(net, name, x, out, k, stride, act=ReLU, act_name="relu", bias=True)


def inception(net: Network, name: str, x: str, m: Mixed) -> str:
    outs = []
    if m.c1x1 is not None:
        outs.append(conv(net, f"{name}.1x1", x, m.c1x1, 1))
    y = conv(net, f"{name}.3x3_reduce", x, m.c3_reduce, 1)
    outs.append(conv(net, f"{name}.3x3", y, m.c3, 3, m.stride))
    y = conv(net, f"{name}.double_3x3_reduce", x, m.d3_reduce, 1)
    y = conv(net, f"{name}.double_3x3_1", y, m.d3, 3)
    outs.append(conv(net, f"{name}.double_3x3_2", y, m.d3, 3, m.stride))
    if m.pool == "avg":
        pool = AvgPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True)
    else:  # 3c, 4e: 3x3/2 without padding; 5b: 3x3/1 padded
        pool = MaxPool2d(kernel_size=3, stride=m.stride, padding=0 if m.stride > 1 else 1, ceil_mode=True)
    y = net.add(f"{name}.pool", pool, x)
    outs.append(conv(net, f"{name}.pool_proj", y, m.proj, 1) if m.proj is not None else y)
    return net.add(f"{name}.cat", Concat(), outs)


@register("bn_inception", family="Inception",
          summary="BN-Inception (Cadene's port of the Caffe model: biased convs, ceil-mode pools)",
          source="Ioffe & Szegedy 2015, arXiv 1502.03167, Figure 5; Cadene pretrainedmodels bninception.py",
          options=(RES, CLASSES))
def bn_inception(res: int, classes: int) -> Network:
    net = Network("bn_inception", (3, res, res))
    x = conv(net, "conv1", "input", 64, 7, 2)
    x = net.add("pool1", MaxPool2d(kernel_size=3, stride=2, ceil_mode=True), x)
    x = conv(net, "conv2_reduce", x, 64, 1)
    x = conv(net, "conv2", x, 192, 3)
    x = net.add("pool2", MaxPool2d(kernel_size=3, stride=2, ceil_mode=True), x)
    for name, m in MODULES.items():
        x = inception(net, name, x, m)
    window_pool_head(net, x, classes, stride=1, window=7, made_for=224)
    return net
