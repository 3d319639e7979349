"""The classic plain networks: AlexNet, SqueezeNet 1.0/1.1, VGG-11/13/16/19 (with and
without batch norm) and DarkNet-53, declared from their papers' tables as torchvision and
PaddleClas build them.

Implementations followed (facts only; the code is our own):

* torchvision ``models/alexnet.py``, ``squeezenet.py``, ``vgg.py``: AlexNet is the
  "one weird trick" variant (Krizhevsky 2014, arXiv 1404.5997: 64/192/384/256/256 filters,
  one tower), not the two-tower 96/256/384/384/256 network of the 2012 paper.  PaddleClas'
  ``AlexNet``, ``SqueezeNet1_0/1_1`` and ``VGG11..19`` have the same layers (PaddleClas
  leaves out torchvision's ``AdaptiveAvgPool2d``, an identity at 224; it changes nothing).
* PaddleClas ``ppcls/arch/backbone/model_zoo/darknet.py``: DarkNet-53 (Redmon & Farhadi
  2018, arXiv 1804.02767, Table 1) as a classifier, input 256x256: conv-BN-ReLU units (ReLU,
  not YOLOv3's leaky ReLU: ``BatchNorm(act="relu")``), residual units of a 1x1 conv to half the
  channels and a 3x3 conv back, a global average pool and one FC.

Parameter counts (tests/archs/test_classic.py pins each): torchvision's exact totals (AlexNet
61,100,840; SqueezeNet 1.0 1,248,424; 1.1 1,235,496; VGG-16 138,357,544) round to every
figure of seed 000.  Seed 003 (PaddleClas) prints slightly fewer (AlexNet 61.090, VGG-16
138.340): Paddle 1.x ``model_stat``'s count, the ``paddle`` convention's params.
"""
from __future__ import annotations

from dataclasses import dataclass

from calc.blocks import conv_bn
from calc.registry import CLASSES, RES, Option, register
from calc.graph import Network
from calc.layers import (
    Add, AdaptiveAvgPool2d, BatchNorm2d, Concat, Conv2d, Dropout, Flatten, GlobalAvgPool2d,
    Linear, MaxPool2d, ReLU,
)

TV = "torchvision models"
PADDLE = "PaddleClas ppcls/arch/backbone/model_zoo"
PADDLE_VGG = "PaddleClas ppcls/arch/backbone/legendary_models/vgg.py"


# ---------------------------------------------------------------------------
# AlexNet (torchvision alexnet.py; Krizhevsky 2014, arXiv 1404.5997)


@dataclass(frozen=True)
class ConvRow:
    """A conv (with bias) + ReLU, optionally followed by a 3x3/s2 max pool."""

    c: int
    k: int
    s: int
    p: int
    pool: bool


ALEXNET = (
    ConvRow(64, 11, 4, 2, pool=True),
    ConvRow(192, 5, 1, 2, pool=True),
    ConvRow(384, 3, 1, 1, pool=False),
    ConvRow(256, 3, 1, 1, pool=False),
    ConvRow(256, 3, 1, 1, pool=True),
)


def fc_head(net: Network, x: str, widths: tuple[int, ...], classes: int, *, dropout_first: bool) -> str:
    """torchvision's classifier: Linear + ReLU (+ Dropout) for each width, then Linear.
    AlexNet puts each Dropout before its Linear, VGG after each ReLU."""
    for i, w in enumerate(widths, start=1):
        if dropout_first:
            x = net.add(f"classifier.dropout{i}", Dropout(p=0.5), x)
        x = net.add(f"classifier.fc{i}", Linear(out_features=w), x)
        x = net.add(f"classifier.relu{i}", ReLU(), x)
        if not dropout_first:
            x = net.add(f"classifier.dropout{i}", Dropout(p=0.5), x)
    return net.add("classifier.fc", Linear(out_features=classes), x)


@register("alexnet", family="AlexNet", summary="AlexNet (torchvision's one-tower 64-192-384-256-256 variant)",
          source=f"Krizhevsky 2014, arXiv 1404.5997; {TV}/alexnet.py; {PADDLE}/alexnet.py",
          options=(RES, CLASSES))
def alexnet(res: int, classes: int) -> Network:
    net = Network("alexnet", (3, res, res))
    x = "input"
    for i, row in enumerate(ALEXNET, start=1):
        x = net.add(f"features.conv{i}", Conv2d(out_channels=row.c, kernel_size=row.k, stride=row.s,
                                                padding=row.p), x)
        x = net.add(f"features.relu{i}", ReLU(), x)
        if row.pool:
            x = net.add(f"features.pool{i}", MaxPool2d(kernel_size=3, stride=2), x)
    x = net.add("avgpool", AdaptiveAvgPool2d(output_size=6), x)
    x = net.add("flatten", Flatten(), x)
    fc_head(net, x, (4096, 4096), classes, dropout_first=True)
    return net


# ---------------------------------------------------------------------------
# SqueezeNet (Iandola et al. 2016, arXiv 1602.07360, Table 1; torchvision squeezenet.py)


@dataclass(frozen=True)
class Fire:
    """A Fire module: 1x1 squeeze to ``s`` channels, then 1x1 (``e1``) and 3x3 (``e3``)
    expand convs side by side, concatenated (each conv has a bias and a ReLU)."""

    s: int
    e1: int
    e3: int


POOL = "pool"  # a 3x3/s2 max pool with ceil_mode=True

#: (stem conv channels, kernel), then the body: Fire modules and pools, in order.
SQUEEZENET = {
    "1_0": ((96, 7), (POOL, Fire(16, 64, 64), Fire(16, 64, 64), Fire(32, 128, 128), POOL,
                      Fire(32, 128, 128), Fire(48, 192, 192), Fire(48, 192, 192), Fire(64, 256, 256),
                      POOL, Fire(64, 256, 256))),
    "1_1": ((64, 3), (POOL, Fire(16, 64, 64), Fire(16, 64, 64), POOL, Fire(32, 128, 128),
                      Fire(32, 128, 128), POOL, Fire(48, 192, 192), Fire(48, 192, 192),
                      Fire(64, 256, 256), Fire(64, 256, 256))),
}


def fire(net: Network, name: str, x: str, f: Fire) -> str:
    sq = net.add(f"{name}.squeeze", Conv2d(out_channels=f.s, kernel_size=1), x)
    sq = net.add(f"{name}.squeeze_relu", ReLU(), sq)
    e1 = net.add(f"{name}.expand1x1", Conv2d(out_channels=f.e1, kernel_size=1), sq)
    e1 = net.add(f"{name}.expand1x1_relu", ReLU(), e1)
    e3 = net.add(f"{name}.expand3x3", Conv2d(out_channels=f.e3, kernel_size=3, padding=1), sq)
    e3 = net.add(f"{name}.expand3x3_relu", ReLU(), e3)
    return net.add(f"{name}.cat", Concat(), [e1, e3])  # torch.cat: a functional call


SQ_VARIANT = Option(
    "variant", str, "torchvision",
    "'torchvision' (ceil-mode pools; 1.1: unpadded stem) or 'paddle' (PaddleClas: floor-mode "
    "pools; 1.1: stem padding 1); same parameters, different feature-map sizes",
    choices=("torchvision", "paddle"))


def squeezenet(version: str, res: int, classes: int, variant: str = "torchvision") -> Network:
    """torchvision's SqueezeNet, or PaddleClas' (``variant="paddle"``): its max pools
    round down (``MaxPool2D(3, 2)``, no ceil mode) and its 1.1 stem conv pads by 1, so at
    224 the maps are 111/55/27/13 (1.1) or 109/54/26/12 (1.0) instead of torchvision's
    111/55/27/13 (1.1, from an unpadded 3x3 stem) and 109/54/27/13 (1.0)."""
    paddle = variant == "paddle"
    (stem_c, stem_k), body = SQUEEZENET[version]
    net = Network(f"squeezenet{version}", (3, res, res))
    stem_pad = 1 if paddle and version == "1_1" else 0
    x = net.add("features.conv1", Conv2d(out_channels=stem_c, kernel_size=stem_k, stride=2,
                                         padding=stem_pad), "input")
    x = net.add("features.relu1", ReLU(), x)
    fires = pools = 0
    for item in body:
        if item == POOL:
            pools += 1
            x = net.add(f"features.pool{pools}", MaxPool2d(kernel_size=3, stride=2, ceil_mode=not paddle), x)
        else:
            fires += 1
            x = fire(net, f"features.fire{fires + 1}", x, item)  # the paper numbers them fire2..fire9
    x = net.add("classifier.dropout", Dropout(p=0.5), x)
    x = net.add("classifier.conv", Conv2d(out_channels=classes, kernel_size=1), x)
    x = net.add("classifier.relu", ReLU(), x)
    x = net.add("classifier.pool", GlobalAvgPool2d(), x)  # nn.AdaptiveAvgPool2d((1, 1))
    net.add("flatten", Flatten(), x)
    return net


for _v, _what in (("1_0", "SqueezeNet 1.0 (paper Table 1)"),
                  ("1_1", "SqueezeNet 1.1 (3x3/64 stem, earlier pools: 2.4x fewer MACs)")):
    register(f"squeezenet{_v}", family="SqueezeNet", summary=_what,
             source=f"Iandola et al. 2016, arXiv 1602.07360; {TV}/squeezenet.py; {PADDLE}/squeezenet.py",
             options=(RES, CLASSES, SQ_VARIANT), fixed={"version": _v})(squeezenet)


# ---------------------------------------------------------------------------
# VGG (Simonyan & Zisserman 2014, arXiv 1409.1556, Table 1 configurations A, B, D, E)

M = "M"  # a 2x2/s2 max pool

#: Table 1: 3x3 conv output channels, "M" for each max pool.
VGG_CFGS = {
    11: (64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M),                       # A
    13: (64, 64, M, 128, 128, M, 256, 256, M, 512, 512, M, 512, 512, M),              # B
    16: (64, 64, M, 128, 128, M, 256, 256, 256, M, 512, 512, 512, M, 512, 512, 512, M),  # D
    19: (64, 64, M, 128, 128, M, 256, 256, 256, 256, M, 512, 512, 512, 512, M,
         512, 512, 512, 512, M),                                                      # E
}


def vgg(depth: int, bn: bool, res: int, classes: int) -> Network:
    net = Network(f"vgg{depth}{'_bn' if bn else ''}", (3, res, res))
    x, stage, conv = "input", 1, 0
    for item in VGG_CFGS[depth]:
        if item == M:
            x = net.add(f"features.pool{stage}", MaxPool2d(kernel_size=2, stride=2), x)
            stage, conv = stage + 1, 0
            continue
        conv += 1
        name = f"features.conv{stage}_{conv}"
        x = net.add(name, Conv2d(out_channels=item, kernel_size=3, padding=1), x)
        if bn:
            x = net.add(f"{name}.bn", BatchNorm2d(), x)
        x = net.add(f"{name}.relu", ReLU(), x)
    x = net.add("avgpool", AdaptiveAvgPool2d(output_size=7), x)
    x = net.add("flatten", Flatten(), x)
    fc_head(net, x, (4096, 4096), classes, dropout_first=False)
    return net


for _d in VGG_CFGS:
    for _bn in (False, True):
        register(f"vgg{_d}{'_bn' if _bn else ''}", family="VGG",
                 summary=f"VGG-{_d}{' with batch norm' if _bn else ''} (Table 1 config "
                         f"{dict(zip(VGG_CFGS, 'ABDE'))[_d]})",
                 source=f"Simonyan & Zisserman 2014, arXiv 1409.1556, Table 1; {TV}/vgg.py"
                        + ("" if _bn else f"; {PADDLE_VGG}"),
                 options=(RES, CLASSES), fixed={"depth": _d, "bn": _bn})(vgg)


# ---------------------------------------------------------------------------
# DarkNet-53 (Redmon & Farhadi 2018, arXiv 1804.02767, Table 1; PaddleClas darknet.py)

#: Table 1: residual units per stage; stage i works at 64 * 2**i channels, and a 3x3/s2
#: conv doubles the channels before each stage.
DARKNET53_UNITS = (1, 2, 8, 8, 4)


def conv_bn_relu(net: Network, name: str, x: str, out: int, k: int, stride: int = 1) -> str:
    return conv_bn(net, name, x, out, k, stride, act=ReLU, act_name="relu")


@register("darknet53", family="DarkNet", summary="DarkNet-53 classifier (PaddleClas; ReLU; 256x256 input)",
          source=f"Redmon & Farhadi 2018, arXiv 1804.02767, Table 1; {PADDLE}/darknet.py",
          options=(RES.with_default(256), CLASSES))
def darknet53(res: int, classes: int) -> Network:
    net = Network("darknet53", (3, res, res))
    x = conv_bn_relu(net, "stem.conv1", "input", 32, 3)
    x = conv_bn_relu(net, "stem.conv2", x, 64, 3, stride=2)
    for si, n in enumerate(DARKNET53_UNITS):
        c = 64 * 2 ** si
        for u in range(n):
            name = f"stage{si}.unit{u}"
            y = conv_bn_relu(net, f"{name}.conv1", x, c // 2, 1)
            y = conv_bn_relu(net, f"{name}.conv2", y, c, 3)
            x = net.add(f"{name}.add", Add(impl="functional"), [x, y])  # paddle.add
        if si < len(DARKNET53_UNITS) - 1:
            x = conv_bn_relu(net, f"stage{si}.downsample", x, 2 * c, 3, stride=2)
    x = net.add("pool", AdaptiveAvgPool2d(output_size=1), x)
    x = net.add("flatten", Flatten(impl="operator"), x)  # paddle.squeeze(x, axis=[2, 3])
    net.add("fc", Linear(out_features=classes), x)
    return net
