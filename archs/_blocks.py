"""Building blocks shared by architecture families.

Blocks are plain functions that add nodes under a dotted prefix and return the
name of their output node.
"""
from __future__ import annotations

from calc.graph import Network
from calc.layers import BatchNorm2d, Conv2d, Dropout, Flatten, GlobalAvgPool2d, Layer, Linear


def make_divisible(v: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round a scaled channel count to a multiple of ``divisor`` (nearest), never
    below ``min_value`` (default ``divisor``) and never more than 10% below ``v``:
    the rule of the TF-slim and torchvision MobileNet implementations."""
    min_value = divisor if min_value is None else min_value
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def conv_bn(net: Network, name: str, x: str, out: int, k: int, stride: int = 1,
            groups: int = 1, act: type[Layer] | None = None, padding: int | None = None) -> str:
    """Conv (no bias) -> BatchNorm -> optional activation."""
    pad = (k - 1) // 2 if padding is None else padding
    x = net.add(f"{name}.conv", Conv2d(out_channels=out, kernel_size=k, stride=stride,
                                       padding=pad, groups=groups, bias=False), x)
    x = net.add(f"{name}.bn", BatchNorm2d(), x)
    if act is not None:
        x = net.add(f"{name}.act", act(), x)
    return x


def classifier(net: Network, x: str, classes: int, *, dropout: float | None = None,
               pool_impl: str = "module", keepdims: bool = True) -> str:
    """Global average pool -> flatten -> (dropout) -> fully connected."""
    x = net.add("pool", GlobalAvgPool2d(impl=pool_impl, keepdims=keepdims), x)
    if keepdims:
        x = net.add("flatten", Flatten(), x)
    if dropout is not None:
        x = net.add("dropout", Dropout(p=dropout), x)
    return net.add("fc", Linear(out_features=classes), x)
