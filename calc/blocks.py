"""Building blocks shared by architecture families.

Blocks are plain functions that add nodes under a dotted prefix and return the
name of their output node.
"""
from __future__ import annotations

from calc.graph import Network
from calc.layers import AvgPool2d, BatchNorm2d, Conv2d, Dropout, Flatten, GlobalAvgPool2d, Layer, Linear, Mul


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
            groups: int = 1, act: type[Layer] | None = None, padding: int | None = None,
            *, n: int | str = "", act_name: str = "act", bias: bool = False, eps: float = 1e-5) -> str:
    """Conv (no bias unless ``bias``) -> BatchNorm (``eps``) -> optional activation, as
    ``{name}.conv{n}``, ``{name}.bn{n}``, ``{name}.{act_name}{n}`` (``n`` numbers the convs
    of a block the way torchvision names them: conv1, bn1, relu1 ...)."""
    pad = (k - 1) // 2 if padding is None else padding
    x = net.add(f"{name}.conv{n}", Conv2d(out_channels=out, kernel_size=k, stride=stride,
                                          padding=pad, groups=groups, bias=bias), x)
    x = net.add(f"{name}.bn{n}", BatchNorm2d(eps=eps), x)
    if act is not None:
        x = net.add(f"{name}.{act_name}{n}", act(), x)
    return x


def window_pool_head(net: Network, x: str, classes: int, *, stride: int | None = None,
                     dropout: float | None = None, fc_bias: bool = True, window: int | None = None,
                     made_for: int | None = None, dropout_impl: str = "module") -> str:
    """The head of reference code that pools with a fixed ``nn.AvgPool2d(7)`` window:
    here the window is the whole final map (7x7 at 224), so the pool stays global at
    any resolution; then optional dropout, ``x.view(-1, C)`` and a Linear.  With the
    reference's ``window`` (made for a ``made_for`` input), a final map of another size
    gets a note saying so.  The window depends on the map, so the structure depends on
    the input size (:meth:`~calc.graph.Network.spatial_size` records it)."""
    c = net[x].shape[0]
    h, w = net.spatial_size(x)
    if window is not None and (h, w) != (window, window):
        pool = f"AvgPool2d({window}{', stride=1' if stride == 1 else ''})"
        net.notes.append(
            f"the reference pools with a fixed {pool}, made for the {window}x{window} final map of a "
            f"{made_for} input; here the map is {h}x{w}, and calc pools over all of it (kernel {h}x{w}), "
            f"as a global pool would, so the classifier keeps its {c} inputs")
    # the window as the reference writes it (an int 7) where the map is the one it was made for:
    # a tool that multiplies the kernel as written (thop 2019) sees the same
    kernel = window if window is not None and (h, w) == (window, window) else (h, w)
    x = net.add("pool", AvgPool2d(kernel_size=kernel, stride=stride), x)
    if dropout is not None:
        x = net.add("dropout", Dropout(p=dropout, impl=dropout_impl), x)
    x = net.add("flatten", Flatten(impl="operator"), x)
    return net.add("fc", Linear(out_features=classes, bias=fc_bias), x)


def classifier(net: Network, x: str, classes: int, *, dropout: float | None = None,
               pool_impl: str = "module", keepdims: bool = True) -> str:
    """Global average pool -> flatten -> (dropout) -> fully connected."""
    x = net.add("pool", GlobalAvgPool2d(impl=pool_impl, keepdims=keepdims), x)
    if keepdims:
        x = net.add("flatten", Flatten(), x)
    if dropout is not None:
        x = net.add("dropout", Dropout(p=dropout), x)
    return net.add("fc", Linear(out_features=classes), x)


def squeeze_excite(net: Network, name: str, x: str, squeeze: int, *, act: type[Layer], gate: type[Layer],
                   pool_impl: str = "module") -> str:
    """Squeeze-and-excitation (Hu et al. 2018) as the MobileNet v3, EfficientNet, RegNet
    and GhostNet references build it: global average pool -> 1x1 conv (bias) to
    ``squeeze`` channels -> ``act`` -> 1x1 conv (bias) back to C -> ``gate`` -> ``x *
    gate`` (the ``*`` operator), as ``{name}.pool .fc1 .act .fc2 .gate .scale``.
    ``pool_impl``: ``"module"`` for ``nn.AdaptiveAvgPool2d(1)``, ``"operator"`` for
    ``x.mean((2, 3), keepdim=True)``."""
    c = net[x].shape[0]
    g = net.add(f"{name}.pool", GlobalAvgPool2d(impl=pool_impl), x)
    g = net.add(f"{name}.fc1", Conv2d(out_channels=squeeze, kernel_size=1), g)
    g = net.add(f"{name}.act", act(), g)
    g = net.add(f"{name}.fc2", Conv2d(out_channels=c, kernel_size=1), g)
    g = net.add(f"{name}.gate", gate(), g)
    return net.add(f"{name}.scale", Mul(), [x, g])
