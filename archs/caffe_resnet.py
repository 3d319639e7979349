"""MSRA's ResNet as the Caffe detection and segmentation models write it (DeepLab v2, R-FCN):
He et al.'s Table 1 bottleneck stages with the stride on a block's first 1x1 conv ("v1"),
every conv bias-free with a ``BatchNorm`` (Caffe's BatchNorm + Scale pair, one BatchNorm in
MatConvNet and here), a 1x1 projection in each stage's first block, Caffe's names (``res4b22``,
``bn4b22_branch2c``), and the changes the families make: a dilated last stage or two at stride 1
(DeepLab: res4 by 2, res5 by 4; R-FCN: res5 by 2), the pool1 padding.

Nodes are named ``{prefix}res{stage}.{block}.{branch}`` (``res4.res4b22.branch2b``), so a
breakdown by stage groups them as the table does.
"""
from __future__ import annotations

from dataclasses import dataclass

from calc.graph import Network
from calc.layers import Add, BatchNorm2d, Conv2d, MaxPool2d, ReLU


@dataclass(frozen=True)
class Stage:
    """A row of He et al.'s Table 1 (conv2_x .. conv5_x): bottleneck blocks, base width, and
    the first block's stride and the stage's dilation as a family sets them."""

    blocks: int
    width: int
    stride: int = 1
    dilation: int = 1


def depth_stages(blocks: tuple[int, int, int, int], strides=(1, 2, 2, 2), dilations=(1, 1, 1, 1)) -> tuple[Stage, ...]:
    """ResNet-50 (3, 4, 6, 3) / -101 (3, 4, 23, 3), base widths 64 .. 512."""
    return tuple(Stage(n, w, s, d) for n, w, s, d in zip(blocks, (64, 128, 256, 512), strides, dilations))


def block_names(stage: int, n: int) -> list[str]:
    """MSRA's Caffe names: res2a, res2b, res2c; res4a, res4b1 .. res4b22 in stages of more than three."""
    if n <= 3:
        return [f"res{stage}{'abc'[i]}" for i in range(n)]
    return [f"res{stage}a"] + [f"res{stage}b{i}" for i in range(1, n)]


class Builder:
    """Adds ResNet layers under ``prefix``; with ``shares`` (another builder's prefix), each layer
    reuses the parameters of the layer of the same name there (a multi-scale branch)."""

    def __init__(self, net: Network, prefix: str = "", shares: str | None = None):
        self.net, self.p, self.shares = net, prefix, shares

    def add_weighted(self, name: str, layer, x: str) -> str:
        """A conv or BN: with ``shares``, it reuses the same-named layer's parameters."""
        return self.net.add(self.p + name, layer, x, shares=None if self.shares is None else self.shares + name)

    def conv_bn(self, name: str, bn: str, x: str, out: int, k: int, stride: int = 1, dilation: int = 1) -> str:
        x = self.add_weighted(name, Conv2d(out_channels=out, kernel_size=k, stride=stride, padding=dilation * (k // 2),
                                   dilation=dilation, bias=False), x)
        return self.add_weighted(bn, BatchNorm2d(), x)

    def relu(self, name: str, x: str) -> str:
        return self.net.add(self.p + name, ReLU(), x)

    def stem(self, x: str, pool_padding: int = 0) -> str:
        """conv1 7x7/2 (pad 3), bn_conv1, conv1_relu, pool1 3x3/2 (ceil; DeepLab pads it by 1)."""
        x = self.relu("conv1_relu", self.conv_bn("conv1", "bn_conv1", x, 64, 7, stride=2))
        return self.net.add(self.p + "pool1", MaxPool2d(kernel_size=3, stride=2, padding=pool_padding,
                                                        ceil_mode=True), x)

    def bottleneck(self, stage: int, block: str, x: str, s: Stage, first: bool) -> str:
        """branch2a 1x1 (the stride), 2b 3x3 (dilated), 2c 1x1 to 4 x width, branch1 the projection
        of the first block; the sum and its ReLU."""
        b, tag = f"res{stage}.{block}", block[3:]
        stride = s.stride if first else 1
        y = self.relu(f"{b}.branch2a_relu", self.conv_bn(f"{b}.branch2a", f"{b}.bn{tag}_branch2a", x, s.width, 1, stride))
        y = self.relu(f"{b}.branch2b_relu", self.conv_bn(f"{b}.branch2b", f"{b}.bn{tag}_branch2b", y, s.width, 3,
                                                         dilation=s.dilation))
        y = self.conv_bn(f"{b}.branch2c", f"{b}.bn{tag}_branch2c", y, 4 * s.width, 1)
        short = self.conv_bn(f"{b}.branch1", f"{b}.bn{tag}_branch1", x, 4 * s.width, 1, stride) if first else x
        y = self.net.add(f"{self.p}{b}", Add(), [short, y])
        return self.relu(f"{b}_relu", y)

    def stage(self, stage: int, x: str, s: Stage) -> str:
        """Stage ``res{stage}``: its bottleneck blocks."""
        for i, block in enumerate(block_names(stage, s.blocks)):
            x = self.bottleneck(stage, block, x, s, i == 0)
        return x

    def stages(self, x: str, stages: tuple[Stage, ...]) -> str:
        """res2, res3 ... for as many stages as given; returns the last block's output."""
        for stage, s in enumerate(stages, start=2):
            x = self.stage(stage, x, s)
        return x
