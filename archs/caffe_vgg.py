"""The VGG trunk as the Caffe detection, segmentation and keypoint models write it (FCN,
DeepLab, SSD, Faster R-CNN, OpenPose): Simonyan & Zisserman's 3x3 conv stages (config D for
VGG-16, the first ten convs of E for OpenPose's VGG-19), each conv with a bias and an
in-place ReLU, Caffe's names (``conv4_3``, ``relu4_3``, ``pool4``), and pools in Caffe's ceil
mode.  Each family says what it changes: the first conv's padding (FCN's 100), the pools
(DeepLab's 3x3/2 pad 1, SSD's pool5), dilated stages (DeepLab's conv5), where it stops.

The nodes are named ``{stage}.{caffe name}`` (``conv4.conv4_3``, ``conv4.pool4``), so a
breakdown by stage groups the trunk as the paper's table does.
"""
from __future__ import annotations

from dataclasses import dataclass

from archs.classic import VGG_CFGS, M
from calc.graph import Network
from calc.layers import Conv2d, Layer, MaxPool2d, ReLU
from calc.registry import Option


def stages(depth: int) -> tuple[tuple[int, ...], ...]:
    """Simonyan & Zisserman's Table 1 (archs/classic.py's VGG_CFGS) as the channel widths of
    each stage's convs: VGG-16 ``((64, 64), (128, 128), (256, 256, 256), (512,) * 3, (512,) * 3)``."""
    out, stage = [], []
    for item in VGG_CFGS[depth]:
        if item == M:
            out.append(tuple(stage))
            stage = []
        else:
            stage.append(item)
    return tuple(out)


#: FCN's and Faster R-CNN's deploy prototxts have drop6 and drop7; MatConvNet's Caffe importer
#: runs with --remove-dropout (utils/import-fcn.sh, import-fast-rcnn.sh), and convnet-burden
#: measured the imported models: the default is the import's
DROPOUT = Option("dropout", str, "false", "keep the deploy prototxt's drop6/drop7 (MatConvNet's import removed them)",
                 choices=("false", "true"))

#: Caffe's default VGG pool: 2x2/2, ceil mode
POOL = MaxPool2d(kernel_size=2, stride=2, ceil_mode=True)


@dataclass(frozen=True)
class Trunk:
    """Where a family's trunk differs from the plain Caffe VGG: the convs of each stage, the
    pool after each stage (``None``: none), a stage's dilation, the first conv's padding."""

    widths: tuple[tuple[int, ...], ...]
    pools: tuple[Layer | None, ...]
    dilation: tuple[int, ...] = ()  # per stage; default 1
    first_pad: int = 1


def vgg_trunk(net: Network, trunk: Trunk, x: str = "input") -> dict[str, str]:
    """Add the trunk; returns the node of every Caffe name (``relu4_3``, ``pool4`` ...)."""
    names: dict[str, str] = {}
    for s, widths in enumerate(trunk.widths, start=1):
        d = trunk.dilation[s - 1] if s - 1 < len(trunk.dilation) else 1
        for i, c in enumerate(widths, start=1):
            pad = trunk.first_pad if (s, i) == (1, 1) else d
            x = names[f"conv{s}_{i}"] = net.add(f"conv{s}.conv{s}_{i}", Conv2d(
                out_channels=c, kernel_size=3, padding=pad, dilation=d), x)
            x = names[f"relu{s}_{i}"] = net.add(f"conv{s}.relu{s}_{i}", ReLU(), x)
        pool = trunk.pools[s - 1] if s - 1 < len(trunk.pools) else None
        if pool is not None:
            x = names[f"pool{s}"] = net.add(f"conv{s}.pool{s}", pool, x)
    names["out"] = x
    return names


def conv_relu(net: Network, name: str, x: str, out: int, k: int, *, stride: int = 1, padding: int = 0,
              dilation: int = 1, groups: int = 1, relu: str | bool = True) -> str:
    """A Caffe ``Convolution`` (with a bias) and its in-place ReLU: named ``{name}_relu``
    (``relu=True``), the name given, or none (``relu=False``)."""
    x = net.add(name, Conv2d(out_channels=out, kernel_size=k, stride=stride, padding=padding,
                             dilation=dilation, groups=groups), x)
    if relu is False:
        return x
    return net.add(f"{name}_relu" if relu is True else relu, ReLU(), x)
