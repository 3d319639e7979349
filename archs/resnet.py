"""The ResNet family: ResNet, Wide ResNet, ResNeXt, SE-ResNet/SE-ResNeXt/SENet-154 and
PaddleClas' vc/vd variants, declared from He et al.'s stage table plus one design
record per implementation.

Every network here is Table 1 of He et al. 2015 (arXiv 1512.03385): a stem, four stages
``layer1..layer4`` (the paper's conv2_x..conv5_x) of basic or bottleneck blocks with base
widths 64, 128, 256, 512 (the first block of layer2..4 halves the map), then a global
average pool and a fully connected layer.  What differs between implementations is
recorded in a :class:`Design`; each registered name is a ``(depth, design)`` pair.

Implementations followed (facts only; the code is our own):

* torchvision ``models/resnet.py``: resnet18..152, wide_resnet*, resnext50_32x4d,
  resnext101_32x8d.  This is "ResNet v1.5": a bottleneck downsamples in its 3x3 conv.
  ``--variant v1`` puts the stride on the first 1x1 conv, as the paper's Caffe models do.
* Cadene ``pretrainedmodels`` (``senet.py``, ``resnext.py``): resnext101_32x4d,
  resnext101_64x4d, se_resnet*, se_resnext*, senet154.  Its head pools with a fixed
  ``AvgPool2d(7, stride=1)``; senet.py's stem max-pool uses ``ceil_mode=True`` without
  padding (same 56x56 at 224).  ``fbresnet.py`` (fbresnet152, Facebook's fb.resnet.torch
  model): torchvision's ResNet-152 with a bias on every conv and an ``AvgPool2d(7)`` head.
* PaddleClas ``legendary_models/resnet.py`` and ``model_zoo/resnet_vc.py``: *_vc and *_vd
  (Bag of Tricks, He et al. 2018, arXiv 1812.01187): a deep stem of three 3x3 convs
  (32, 32, 64); vd also downsamples shortcuts with a 2x2 average pool before a stride-1
  1x1 conv.  PaddleClas gives the *first* block of every stage a projection shortcut,
  so its ResNet18/34 (vb and vd) have a 1x1 conv in layer1.block0 that torchvision's
  do not (+4,224 params, +12.8 M MACs at 224).

What the published numbers are (tests/test_resnet.py checks each one):

* Params agree with every published figure to the printed digit, torchvision's exactly;
  resnet18/50 also match torch_counts.json's MACs, thop, ptflops, fvcore and leaf outputs.
* He et al. Table 1 (1.8, 3.6, 3.8, 7.6, 11.3 G mult-adds) is v1's conv + FC MACs, rounded,
  for ResNet-18/101/152.  Its ResNet-34 3.6 is the plain baseline of section 3.3 (no
  projection convs: 3.64 G; ResNet-34 itself has 3.66).  Its ResNet-50 3.8 is not
  reproduced: v1 has 3,857,973,248 MACs (3.9 rounded); truncation would print 3.8 but also
  7.5 / 11.2 for ResNet-101/152.
* Seed 000's MACs column was copied from two READMEs, made with the tools of 2019.  Its
  resnet*, resnext101_32x4d/64x4d and SE rows are ptflops' benchmark (2019-04-29): module
  hooks only (conv MACs + bias, BN 2/elem, ReLU 1/elem, pools 1 per input element, Linear
  without bias).  ptflops 0.7.1+ (our ``ptflops`` convention) also patches ``F.relu`` and
  ``F.*pool*`` and so counts nn.ReLU and pooling twice: 1.83 / 4.13 G for resnet18 / resnet50
  where the seed prints 1.82 / 4.12.  Its wide_resnet* and resnext50_32x4d /
  resnext101_32x8d rows are thop's README (2019-09-02); our ``thop`` convention (0.1.1)
  gives them too.  Its ResNeXt101_32x4d / 64x4d are Cadene's models (torchvision has no
  32x4d); torchvision's layout with the same widths has the same params and MACs.
* Seed 004's PaddleClas FLOPs (2 per multiply-add) are what Paddle 1.x's
  ``fluid.contrib.model_stat.summary`` prints for PaddleClas' static-graph networks: conv
  2 x MACs, FC 1 x MACs, BN 2/elem, pools out x window, adds not counted, and each ReLU
  *minus* its element count (the tool multiplies the activation's input shape, whose batch
  dim is -1).  That reproduces 10 of the 12 rows to the printed digit; 2 x MACs reproduces
  none.  ResNet34_vd (7.39) and ResNet101 (15.52) break the table's own pattern (vd costs
  0.48 G more than the plain net in every other pair) and are not reproducible (7.84, 15.62).
  PaddleClas' plain ResNet18/34 also project in layer1.block0 (+4,224 params, +12.8 M MACs),
  which the table's FLOPs include: see :data:`PADDLE_VB`.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

from calc.blocks import classifier, conv_bn, window_pool_head
from calc.registry import CLASSES, RES, Option, register
from calc.graph import Network
from calc.layers import (
    Add, AvgPool2d, Conv2d, GlobalAvgPool2d, MaxPool2d,
    Mul, ReLU, Sigmoid,
)

# ---------------------------------------------------------------------------
# The stage table


@dataclass(frozen=True)
class Depth:
    """One column of Table 1: the block type and the number of blocks in each of the
    stages conv2_x .. conv5_x (our layer1 .. layer4)."""

    block: Literal["basic", "bottleneck"]
    blocks: tuple[int, int, int, int]


#: He et al. 2015, Table 1.  ResNet-200 is PaddleClas' (3, 12, 48, 3); He et al. 2016
#: (arXiv 1603.05027) and fb.resnet.torch use (3, 24, 36, 3) for their ResNet-200.
DEPTHS = {
    18: Depth("basic", (2, 2, 2, 2)),
    34: Depth("basic", (3, 4, 6, 3)),
    50: Depth("bottleneck", (3, 4, 6, 3)),
    101: Depth("bottleneck", (3, 4, 23, 3)),
    152: Depth("bottleneck", (3, 8, 36, 3)),
    200: Depth("bottleneck", (3, 12, 48, 3)),
}

#: Table 1: base width ("planes") of conv2_x .. conv5_x, and the stride of each stage's
#: first block.  A bottleneck outputs 4 x planes channels, a basic block planes.
PLANES = (64, 128, 256, 512)
STRIDES = (1, 2, 2, 2)
EXPANSION = {"basic": 1, "bottleneck": 4}


# ---------------------------------------------------------------------------
# What each implementation does around the table


@dataclass(frozen=True)
class Design:
    """The choices one implementation makes.  Defaults are torchvision's ResNet."""

    #: stem: one 7x7/s2 conv of ``stem[0]`` channels, or (``deep_stem``) 3x3 convs of
    #: these widths, the first with stride 2
    stem: tuple[int, ...] = (64,)
    deep_stem: bool = False
    #: stem max-pool 3x3/s2: ``padding=1`` (torchvision, Paddle) or ``ceil_mode=True``
    #: without padding (Cadene, after Caffe); both give 56x56 at 224
    pool_ceil: bool = False
    #: bottleneck conv that downsamples: "3x3" (torchvision, "v1.5") or "1x1" (paper, Caffe)
    stride_on: Literal["3x3", "1x1"] = "3x3"
    #: grouped 3x3 conv: width = planes * width_per_group / 64 * groups (ResNeXt "GxWd")
    groups: int = 1
    width_per_group: int = 64
    #: the first 1x1 conv of a bottleneck outputs width / conv1_div (2 in SENet-154)
    conv1_div: int = 1
    #: projection shortcut: "conv" (1x1, strided), "avgpool" (vd: 2x2 avg pool, then a
    #: stride-1 1x1 conv) or "conv3x3" (SENet-154: 3x3 conv in layer2..4)
    shortcut: Literal["conv", "avgpool", "conv3x3"] = "conv"
    #: project the first block of every stage, even layer1 of a basic-block net (Paddle)
    project_first: bool = False
    #: squeeze-and-excitation after the last BN of every block (Cadene: reduction 16)
    se_reduction: int | None = None
    #: head: AdaptiveAvgPool2d(1) (torchvision, Paddle) or AvgPool2d(7, stride=1) (Cadene)
    fixed_pool: bool = False
    #: the fixed head pool's stride: 1 (Cadene's senet.py, resnext.py) or None, the window
    #: (fb.resnet.torch's ``AvgPool2d(7)``)
    pool_stride: int | None = 1
    dropout: float | None = None
    #: every conv has a bias (fb.resnet.torch, converted from Torch7 by Cadene)
    conv_bias: bool = False


TORCHVISION = Design()
#: PaddleClas' plain ("vb") ResNet: torchvision's, plus a projection in layer1.block0 (which
#: only changes the basic-block nets 18 and 34).  Not registered; used to check seed 004.
PADDLE_VB = Design(project_first=True)
PADDLE_VC = replace(PADDLE_VB, stem=(32, 32, 64), deep_stem=True)
PADDLE_VD = replace(PADDLE_VC, shortcut="avgpool")
#: Cadene's resnext.py (Facebook's Torch ResNeXt, converted): torchvision's layout and stem,
#: with a fixed AvgPool2d(7) head
CADENE_RESNEXT = Design(fixed_pool=True)
#: Cadene's senet.py, after the authors' Caffe models
#: Cadene's fbresnet.py (Facebook's fb.resnet.torch ResNet-152, converted): torchvision's
#: layout, a bias on every conv, a fixed AvgPool2d(7) head
CADENE_FB = Design(fixed_pool=True, pool_stride=None, conv_bias=True)
CADENE_SE = Design(pool_ceil=True, fixed_pool=True, se_reduction=16)
CADENE_SE_RESNET = replace(CADENE_SE, stride_on="1x1")
CADENE_SE_RESNEXT = replace(CADENE_SE, groups=32, width_per_group=4)
CADENE_SENET154 = replace(CADENE_SE, stem=(64, 64, 128), deep_stem=True, groups=64,
                          width_per_group=4, conv1_div=2, shortcut="conv3x3", dropout=0.2)


# ---------------------------------------------------------------------------
# Blocks


def conv_bn_relu(net: Network, name: str, x: str, out: int, k: int, stride: int = 1,
                 groups: int = 1, relu: bool = True, n: int | str = "", bias: bool = False) -> str:
    """``{name}.conv{n}`` (a bias only if ``bias``) -> ``.bn{n}`` -> optional ``.relu{n}``."""
    return conv_bn(net, name, x, out, k, stride, groups, act=ReLU if relu else None, n=n, act_name="relu",
                   bias=bias)


def stem(net: Network, d: Design) -> str:
    if d.deep_stem:
        x = "input"
        for i, c in enumerate(d.stem, start=1):
            x = conv_bn_relu(net, "stem", x, c, 3, stride=2 if i == 1 else 1, n=i, bias=d.conv_bias)
    else:
        x = conv_bn_relu(net, "stem", "input", d.stem[0], 7, stride=2, bias=d.conv_bias)
    pool = MaxPool2d(kernel_size=3, stride=2, ceil_mode=True) if d.pool_ceil else \
        MaxPool2d(kernel_size=3, stride=2, padding=1)
    return net.add("stem.pool", pool, x)


def squeeze_excite(net: Network, name: str, x: str, reduction: int) -> str:
    """Global pool -> 1x1 conv (bias) to C/r -> ReLU -> 1x1 conv (bias) to C -> sigmoid
    -> ``x * gate`` (Cadene's SEModule; the product is the ``*`` operator)."""
    c = net[x].shape[0]
    g = net.add(f"{name}.pool", GlobalAvgPool2d(), x)
    g = net.add(f"{name}.fc1", Conv2d(out_channels=c // reduction, kernel_size=1), g)
    g = net.add(f"{name}.relu", ReLU(), g)
    g = net.add(f"{name}.fc2", Conv2d(out_channels=c, kernel_size=1), g)
    g = net.add(f"{name}.sigmoid", Sigmoid(), g)
    return net.add(f"{name}.scale", Mul(), [x, g])


def shortcut(net: Network, name: str, x: str, out: int, stride: int, d: Design,
             first_stage: bool) -> str:
    """The projection that makes the block input match its output."""
    if d.shortcut == "avgpool" and stride > 1:
        x = net.add(f"{name}.pool", AvgPool2d(kernel_size=2, stride=stride, ceil_mode=True), x)
        stride = 1
    k = 3 if d.shortcut == "conv3x3" and not first_stage else 1
    return conv_bn_relu(net, name, x, out, k, stride=stride, relu=False, bias=d.conv_bias)


def residual_block(net: Network, name: str, x: str, kind: str, planes: int, stride: int,
                   d: Design, project: bool, first_stage: bool) -> str:
    """One basic (3x3, 3x3) or bottleneck (1x1, 3x3, 1x1) block in the reference's forward
    order: main branch, shortcut, squeeze-excitation, ``out += identity``, ReLU."""
    out = planes * EXPANSION[kind]
    y, b = x, d.conv_bias
    if kind == "basic":
        y = conv_bn_relu(net, name, y, planes, 3, stride=stride, n=1, bias=b)
        y = conv_bn_relu(net, name, y, planes, 3, relu=False, n=2, bias=b)
    else:
        width = planes * d.width_per_group // 64 * d.groups
        s1, s3 = (stride, 1) if d.stride_on == "1x1" else (1, stride)
        y = conv_bn_relu(net, name, y, width // d.conv1_div, 1, stride=s1, n=1, bias=b)
        y = conv_bn_relu(net, name, y, width, 3, stride=s3, groups=d.groups, n=2, bias=b)
        y = conv_bn_relu(net, name, y, out, 1, relu=False, n=3, bias=b)
    identity = shortcut(net, f"{name}.downsample", x, out, stride, d, first_stage) if project else x
    if d.se_reduction:
        y = squeeze_excite(net, f"{name}.se", y, d.se_reduction)
    y = net.add(f"{name}.add", Add(), [y, identity])
    return net.add(f"{name}.relu", ReLU(), y)


def fixed_pool_head(net: Network, x: str, classes: int, dropout: float | None,
                    stride: int | None = 1) -> str:
    """Cadene's head: AvgPool2d(7, stride=1) (fbresnet: ``stride=None``, the window) ->
    dropout -> ``x.view`` -> Linear."""
    return window_pool_head(net, x, classes, stride=stride, dropout=dropout, window=7, made_for=224)


# ---------------------------------------------------------------------------
# The builder and the registered names

VARIANT = Option("variant", str, "v1.5",
                 "'v1.5' (torchvision: bottlenecks stride in the 3x3 conv) or 'v1' (the paper: "
                 "in the first 1x1 conv)", choices=("v1.5", "v1"))


def resnet(depth: int, design: Design, res: int, classes: int, variant: str = "v1.5") -> Network:
    """Build a ResNet of ``depth`` (a key of :data:`DEPTHS`) as ``design`` does."""
    d = replace(design, stride_on="1x1") if variant == "v1" else design
    spec = DEPTHS[depth]
    net = Network(f"resnet{depth}", (3, res, res))
    x = stem(net, d)
    for si, (planes, n, stride) in enumerate(zip(PLANES, spec.blocks, STRIDES), start=1):
        for i in range(n):
            s = stride if i == 0 else 1
            c_in, out = net[x].shape[0], planes * EXPANSION[spec.block]
            project = s != 1 or c_in != out or (i == 0 and d.project_first)
            x = residual_block(net, f"layer{si}.block{i}", x, spec.block, planes, s, d,
                               project, first_stage=si == 1)
    if d.fixed_pool:
        fixed_pool_head(net, x, classes, d.dropout, d.pool_stride)
    else:
        classifier(net, x, classes)  # AdaptiveAvgPool2d module, torch.flatten, Linear
    return net


TV = "torchvision models/resnet.py"
CADENE_SRC = "Cadene pretrainedmodels"
PADDLE = "PaddleClas ppcls/arch/backbone"


@dataclass(frozen=True)
class Entry:
    """One registered name: which column of Table 1, built as which implementation does."""

    depth: int
    design: Design
    family: str
    summary: str
    source: str
    #: takes --variant (v1.5 / v1)
    variant: bool = False


#: Every registered name, as (depth, design) and provenance.
RESNETS: dict[str, Entry] = {
    **{f"resnet{n}": Entry(n, TORCHVISION, "ResNet", f"ResNet-{n} (torchvision, v1.5 by default)",
                           f"He et al. 2015, arXiv 1512.03385, Table 1; {TV}", variant=True)
       for n in (18, 34, 50, 101, 152)},
    "wide_resnet50_2": Entry(50, replace(TORCHVISION, width_per_group=128), "ResNet",
                             "Wide ResNet-50-2 (bottleneck inner width doubled)",
                             f"Zagoruyko & Komodakis 2016, arXiv 1605.07146; {TV}"),
    "wide_resnet101_2": Entry(101, replace(TORCHVISION, width_per_group=128), "ResNet",
                              "Wide ResNet-101-2 (bottleneck inner width doubled)",
                              f"Zagoruyko & Komodakis 2016, arXiv 1605.07146; {TV}"),
    "resnext50_32x4d": Entry(50, replace(TORCHVISION, groups=32, width_per_group=4), "ResNeXt",
                             "ResNeXt-50 32x4d", f"Xie et al. 2017, arXiv 1611.05431, Table 1; {TV}"),
    "resnext101_32x8d": Entry(101, replace(TORCHVISION, groups=32, width_per_group=8), "ResNeXt",
                              "ResNeXt-101 32x8d", f"Xie et al. 2017, arXiv 1611.05431; {TV}"),
    "resnext101_32x4d": Entry(101, replace(CADENE_RESNEXT, groups=32, width_per_group=4), "ResNeXt",
                              "ResNeXt-101 32x4d (Cadene's port of Facebook's Torch model)",
                              f"Xie et al. 2017, arXiv 1611.05431; {CADENE_SRC} resnext.py"),
    "resnext101_64x4d": Entry(101, replace(CADENE_RESNEXT, groups=64, width_per_group=4), "ResNeXt",
                              "ResNeXt-101 64x4d (Cadene's port of Facebook's Torch model)",
                              f"Xie et al. 2017, arXiv 1611.05431; {CADENE_SRC} resnext.py"),
    "se_resnet50": Entry(50, CADENE_SE_RESNET, "SENet", "SE-ResNet-50 (stride in the first 1x1)",
                         f"Hu et al. 2018, arXiv 1709.01507; {CADENE_SRC} senet.py"),
    "se_resnet101": Entry(101, CADENE_SE_RESNET, "SENet", "SE-ResNet-101 (stride in the first 1x1)",
                          f"Hu et al. 2018, arXiv 1709.01507; {CADENE_SRC} senet.py"),
    "se_resnet152": Entry(152, CADENE_SE_RESNET, "SENet", "SE-ResNet-152 (stride in the first 1x1)",
                          f"Hu et al. 2018, arXiv 1709.01507; {CADENE_SRC} senet.py"),
    "se_resnext50_32x4d": Entry(50, CADENE_SE_RESNEXT, "SENet", "SE-ResNeXt-50 32x4d",
                                f"Hu et al. 2018, arXiv 1709.01507; {CADENE_SRC} senet.py"),
    "se_resnext101_32x4d": Entry(101, CADENE_SE_RESNEXT, "SENet", "SE-ResNeXt-101 32x4d",
                                 f"Hu et al. 2018, arXiv 1709.01507; {CADENE_SRC} senet.py"),
    "senet154": Entry(152, CADENE_SENET154, "SENet",
                      "SENet-154 (3-conv stem, 64x4d, 3x3 shortcut convs, dropout 0.2)",
                      f"Hu et al. 2018, arXiv 1709.01507; {CADENE_SRC} senet.py"),
    "fbresnet152": Entry(152, CADENE_FB, "ResNet",
                         "ResNet-152 of fb.resnet.torch (torchvision's layout, a bias on every conv)",
                         f"He et al. 2015, arXiv 1512.03385; {CADENE_SRC} fbresnet.py"),
    "resnet50_vc": Entry(50, PADDLE_VC, "ResNet", "ResNet-50-C (deep 3x3 stem; PaddleClas)",
                         f"He et al. 2018, arXiv 1812.01187, Figure 2b; {PADDLE}/model_zoo/resnet_vc.py"),
    **{f"resnet{n}_vd": Entry(n, PADDLE_VD, "ResNet",
                              f"ResNet-{n}-D (deep stem, avg-pool shortcuts; PaddleClas)",
                              f"He et al. 2018, arXiv 1812.01187, Figure 2c; "
                              f"{PADDLE}/legendary_models/resnet.py")
       for n in (18, 34, 50, 101, 152, 200)},
    **{f"resnet{n}_paddle": Entry(n, PADDLE_VB, "ResNet",
                                  f"ResNet-{n} as PaddleClas builds it (1x1 projection in layer1.block0)",
                                  f"{PADDLE}/legendary_models/resnet.py")
       for n in (18, 34)},
}


def _register_all() -> None:
    for name, e in RESNETS.items():
        options = (RES, CLASSES, VARIANT) if e.variant else (RES, CLASSES)
        fixed: dict[str, Any] = {"depth": e.depth, "design": e.design}
        register(name, family=e.family, summary=e.summary, source=e.source,
                 options=options, fixed=fixed)(resnet)


_register_all()
