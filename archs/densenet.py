"""DenseNet-BC 121/161/169/201 (Huang et al. 2017, arXiv 1608.06993, Table 1), built as
torchvision's ``models/densenet.py`` builds them.

A dense layer is BN-ReLU-1x1 conv (``bn_size x growth`` channels) then BN-ReLU-3x3 conv
(``growth`` channels), all modules; it reads the concatenation of the block input and every
earlier layer's output (torchvision's ``torch.cat(prev_features, 1)``, a functional call),
and the block ends with the concatenation of all of them.  A transition is BN-ReLU-1x1 conv
to half the channels, then ``nn.AvgPool2d(kernel_size=2, stride=2)``.  The head is ``norm5``
(a module) followed by *functional* calls: ``F.relu``, ``F.adaptive_avg_pool2d(out, (1, 1))``,
``torch.flatten`` and the Linear classifier.  Hook-based tools see the modules only, which
is what the ``impl`` of each layer records.
"""
from __future__ import annotations

from dataclasses import dataclass

from calc.graph import Network
from calc.layers import AvgPool2d, BatchNorm2d, Concat, Conv2d, Flatten, GlobalAvgPool2d, Linear, MaxPool2d, ReLU
from calc.registry import CLASSES, RES, register


@dataclass(frozen=True)
class DenseNetConfig:
    """One column of Table 1 (DenseNet-BC): the growth rate k, the dense layers in each of
    the four blocks, and the stem's output channels (2k, except 161's 96)."""

    growth: int
    blocks: tuple[int, int, int, int]
    init: int
    bn_size: int = 4  # the 1x1 "bottleneck" conv outputs bn_size x k channels


#: Table 1 of Huang et al.; torchvision's densenet121/161/169/201 use the same numbers.
DENSENETS = {
    121: DenseNetConfig(growth=32, blocks=(6, 12, 24, 16), init=64),
    161: DenseNetConfig(growth=48, blocks=(6, 12, 36, 24), init=96),
    169: DenseNetConfig(growth=32, blocks=(6, 12, 32, 32), init=64),
    201: DenseNetConfig(growth=32, blocks=(6, 12, 48, 32), init=64),
}


def bn_relu_conv(net: Network, name: str, x: str, out: int, k: int, n: int | str = "") -> str:
    """``{name}.norm{n}`` -> ``.relu{n}`` -> ``.conv{n}`` (no bias): DenseNet's pre-activation unit."""
    x = net.add(f"{name}.norm{n}", BatchNorm2d(), x)
    x = net.add(f"{name}.relu{n}", ReLU(), x)
    return net.add(f"{name}.conv{n}", Conv2d(out_channels=out, kernel_size=k, padding=k // 2, bias=False), x)


def dense_block(net: Network, name: str, x: str, layers: int, cfg: DenseNetConfig) -> str:
    """``layers`` dense layers; layer i reads the concatenation of the block input and the
    outputs of layers 1..i-1 (layer 1 reads the block input itself: torchvision's
    ``torch.cat`` of that one tensor is a copy, which calc does not add)."""
    features = [x]
    for i in range(1, layers + 1):
        layer = f"{name}.denselayer{i}"
        inp = features[0] if i == 1 else net.add(f"{layer}.cat", Concat(), features)
        y = bn_relu_conv(net, layer, inp, cfg.bn_size * cfg.growth, 1, n=1)
        features.append(bn_relu_conv(net, layer, y, cfg.growth, 3, n=2))
    return net.add(f"{name}.cat", Concat(), features)


def transition(net: Network, name: str, x: str) -> str:
    """BN-ReLU-1x1 conv to half the channels, then a 2x2/2 average pool (kernel written
    as the int 2, which thop 2019 multiplies out as 2, not 4)."""
    x = bn_relu_conv(net, name, x, net[x].shape[0] // 2, 1)
    return net.add(f"{name}.pool", AvgPool2d(kernel_size=2, stride=2), x)


def densenet(depth: int, res: int, classes: int) -> Network:
    cfg = DENSENETS[depth]
    net = Network(f"densenet{depth}", (3, res, res))
    x = net.add("conv0", Conv2d(out_channels=cfg.init, kernel_size=7, stride=2, padding=3, bias=False), "input")
    x = net.add("norm0", BatchNorm2d(), x)
    x = net.add("relu0", ReLU(), x)
    x = net.add("pool0", MaxPool2d(kernel_size=3, stride=2, padding=1), x)
    for b, layers in enumerate(cfg.blocks, start=1):
        x = dense_block(net, f"denseblock{b}", x, layers, cfg)
        if b < len(cfg.blocks):
            x = transition(net, f"transition{b}", x)
    x = net.add("norm5", BatchNorm2d(), x)
    x = net.add("relu", ReLU(impl="functional"), x)          # F.relu(features)
    x = net.add("pool", GlobalAvgPool2d(impl="functional"), x)  # F.adaptive_avg_pool2d(out, (1, 1))
    x = net.add("flatten", Flatten(), x)                      # torch.flatten(out, 1)
    net.add("classifier", Linear(out_features=classes), x)
    return net


for _depth, _cfg in DENSENETS.items():
    register(f"densenet{_depth}", family="DenseNet",
             summary=f"DenseNet-BC-{_depth} (growth {_cfg.growth}, blocks {'-'.join(map(str, _cfg.blocks))})",
             source="Huang et al. 2017, arXiv 1608.06993, Table 1; torchvision models/densenet.py",
             options=(RES, CLASSES), fixed={"depth": _depth})(densenet)
