"""Dual Path Networks (Chen et al. 2017, arXiv 1707.01629, Table 1), as Cadene's
``pretrainedmodels`` 0.7.4 builds them (``dpn.py``, Ross Wightman's port of the MXNet models;
timm's ``dpn*`` have the same convs).  Input 224.

Every conv is pre-activated (BatchNorm, eps 0.001, -> ReLU -> conv, no bias).  A block
carries two paths, a residual one of ``bw`` channels and a dense one that grows by ``inc``
per block: it runs 1x1 -> grouped 3x3 -> 1x1 to ``bw + inc`` channels (DPN-68b: two 1x1
convs, to ``bw`` and to ``inc``), adds the first ``bw`` channels to the residual path
and concatenates the other ``inc`` to the dense path.  The first block of a stage
('proj' in conv2, 'down' with stride 2 in conv3-5) starts both paths from a 1x1 shortcut
conv of ``bw + 2 inc`` channels, sliced the same way.  Slices are views (``x[:, a:b]``);
the block input is ``torch.cat`` of the two paths.

The head runs as in eval mode with ``test_time_pool=True`` (the reference's default):
``F.avg_pool2d(7, stride=1)``, the classifier as a 1x1 conv with bias, then the functional
``0.5 * (avg_pool + max_pool)`` over what is left (1x1 at 224) and ``x.view``.  The
reference makes one ReLU module per default argument and shares it across the net, so
hook-based tools see one module called many times (ptflops cf48e01 counts it per call).
"""
from __future__ import annotations

from dataclasses import dataclass

from calc.graph import Network
from calc.layers import Add, AvgPool2d, BatchNorm2d, ChannelSlice, Concat, Conv2d, Flatten, MaxPool2d, ReLU, Scale
from calc.registry import CLASSES, RES, register


@dataclass(frozen=True)
class Config:
    """The arguments of Cadene's ``DPN(...)`` for one network (Table 1)."""

    small: bool  # DPN-68: a 3x3 stem and 1x the stage widths; the others a 7x7 stem and 4x
    init: int  # stem width (num_init_features)
    k_r: int  # 3x3 width of conv2 (scaled by the stage's base width / 64)
    groups: int
    k_sec: tuple[int, int, int, int]  # blocks per stage, conv2 .. conv5
    inc_sec: tuple[int, int, int, int]  # dense growth per block
    b: bool = False  # DPN-68b: the last 1x1 split into two convs


CONFIGS = {
    "dpn68": Config(True, 10, 128, 32, (3, 4, 12, 3), (16, 32, 32, 64)),
    "dpn68b": Config(True, 10, 128, 32, (3, 4, 12, 3), (16, 32, 32, 64), b=True),
    "dpn92": Config(False, 64, 96, 32, (3, 4, 20, 3), (16, 32, 24, 128)),
    "dpn98": Config(False, 96, 160, 40, (3, 6, 20, 3), (16, 32, 32, 128)),
    "dpn107": Config(False, 128, 200, 50, (4, 8, 20, 3), (20, 64, 64, 128)),
    "dpn131": Config(False, 128, 160, 40, (4, 8, 28, 3), (16, 32, 32, 128)),
}
BASE_WIDTHS = (64, 128, 256, 512)  # conv2 .. conv5

Paths = tuple[str, str]  # (residual, dense)


def bn_act(net: Network, name: str, x: str) -> str:
    x = net.add(f"{name}.bn", BatchNorm2d(eps=1e-3), x)
    return net.add(f"{name}.act", ReLU(), x)


def bn_act_conv(net: Network, name: str, x: str, out: int, k: int, stride: int = 1, groups: int = 1) -> str:
    """``BnActConv2d``: BN -> ReLU -> conv (no bias), as ``{name}.bn``, ``.act``, ``.conv``."""
    x = bn_act(net, name, x)
    return net.add(f"{name}.conv", Conv2d(out_channels=out, kernel_size=k, stride=stride, padding=(k - 1) // 2,
                                          groups=groups, bias=False), x)


def split(net: Network, name: str, x: str, first: int) -> Paths:
    """``x[:, :first]`` and ``x[:, first:]``."""
    c = net[x].shape[0]
    return (net.add(f"{name}1", ChannelSlice(stop=first), x),
            net.add(f"{name}2", ChannelSlice(start=first, stop=c), x))


def dual_path_block(net: Network, name: str, x: str | Paths, r: int, bw: int, inc: int, groups: int,
                    kind: str, b: bool) -> Paths:
    """One ``DualPathBlock``: ``kind`` is 'proj', 'down' (stride 2) or 'normal'."""
    x_in = net.add(f"{name}.cat_in", Concat(), list(x)) if isinstance(x, tuple) else x
    if kind == "normal":
        resid, dense = x
    else:
        w = bn_act_conv(net, f"{name}.c1x1_w", x_in, bw + 2 * inc, 1, stride=2 if kind == "down" else 1)
        resid, dense = split(net, f"{name}.x_s", w, bw)
    y = bn_act_conv(net, f"{name}.c1x1_a", x_in, r, 1)
    y = bn_act_conv(net, f"{name}.c3x3_b", y, r, 3, stride=2 if kind == "down" else 1, groups=groups)
    if b:
        y = bn_act(net, f"{name}.c1x1_c", y)
        out1 = net.add(f"{name}.c1x1_c1", Conv2d(out_channels=bw, kernel_size=1, bias=False), y)
        out2 = net.add(f"{name}.c1x1_c2", Conv2d(out_channels=inc, kernel_size=1, bias=False), y)
    else:
        y = bn_act_conv(net, f"{name}.c1x1_c", y, bw + inc, 1)
        out1, out2 = split(net, f"{name}.out", y, bw)
    return (net.add(f"{name}.resid", Add(), [resid, out1]),
            net.add(f"{name}.dense", Concat(), [dense, out2]))


def eval_head(net: Network, x: str, classes: int) -> str:
    """``F.avg_pool2d(x, 7, 1)`` -> 1x1 conv classifier -> ``0.5 * (avg + max)`` over the map."""
    x = net.add("pool", AvgPool2d(kernel_size=7, stride=1, impl="functional"), x)
    x = net.add("last_linear", Conv2d(out_channels=classes, kernel_size=1), x)
    hw = net.spatial_size(x)  # a window as large as the map: the structure depends on the input size
    avg = net.add("avgmax.avg", AvgPool2d(kernel_size=hw, impl="functional"), x)
    mx = net.add("avgmax.max", MaxPool2d(kernel_size=hw, impl="functional"), x)
    x = net.add("avgmax.add", Add(), [avg, mx])
    x = net.add("avgmax.scale", Scale(factor=0.5), x)
    return net.add("flatten", Flatten(impl="operator"), x)


def dpn(config: Config, res: int, classes: int) -> Network:
    c = config
    net = Network("dpn", (3, res, res))
    k = 3 if c.small else 7
    x = net.add("conv1_1.conv", Conv2d(out_channels=c.init, kernel_size=k, stride=2, padding=k // 2, bias=False),
                "input")
    x = bn_act(net, "conv1_1", x)
    paths: str | Paths = net.add("conv1_1.pool", MaxPool2d(kernel_size=3, stride=2, padding=1), x)
    for stage, (base, n, inc) in enumerate(zip(BASE_WIDTHS, c.k_sec, c.inc_sec), start=2):
        bw, r = base * (1 if c.small else 4), c.k_r * base // 64
        for i in range(1, n + 1):
            kind = "normal" if i > 1 else ("proj" if stage == 2 else "down")
            paths = dual_path_block(net, f"conv{stage}_{i}", paths, r, bw, inc, c.groups, kind, c.b)
    x = net.add("conv5_bn_ac.cat", Concat(), list(paths))
    x = bn_act(net, "conv5_bn_ac", x)
    eval_head(net, x, classes)
    return net


def _register_all() -> None:
    for name, config in CONFIGS.items():
        label = name.replace("dpn", "DPN-")
        register(name, family="DPN", summary=f"{label} (Cadene's port of the MXNet model)",
                 source="Chen et al. 2017, arXiv 1707.01629, Table 1; Cadene pretrainedmodels dpn.py",
                 options=(RES, CLASSES), fixed={"config": config})(dpn)


_register_all()
