"""ShuffleNet v1 and v2, declared from their papers' stage tables.

``shufflenet_v1`` follows Table 1 of Zhang et al. (arXiv 1707.01083) and, where the
paper is silent, the authors' code (megvii-model/ShuffleNet-Series, ShuffleNetV1).
``shufflenet_v2`` follows Table 5 of Ma et al. (arXiv 1807.11164) built exactly as
torchvision's ``shufflenetv2.py``; ``variant="megvii"`` builds the authors' own
model (ShuffleNet-Series, ShuffleNetV2) instead.

How the counts compare with the published ones (MACs = conv + FC multiply-adds,
the papers' "FLOPs"; tests/test_shufflenet.py checks each of these):

* v2, torchvision: params 1,366,792 / 2,278,604 / 3,503,624 / 7,393,996 equal
  torchvision's, and Table 5's weights (1.4 / 2.3 / 3.5 / 7.4 M) agree.  Table 5's
  FLOPs (41 / 146 / 299 / 591 M) do not: torchvision counts 40.48 / 144.91 /
  295.76 / 583.25 M.  The reason is the stride-2 unit: in the authors' model
  branch1 keeps the ``in`` channels and branch2 outputs ``out - in``, where
  torchvision gives each ``out / 2``.  From stage 3 on ``in = out / 2`` and the two
  agree, but in stage 2 (``in`` = 24) the authors' 1x1 convs are larger: +0,
  +906,304, +3,211,264 and +7,529,536 MACs.  The authors' model counts 40.48 /
  145.81 / 298.97 / 590.78 M, which prints 146 / 299 / 591 as in Table 5 (and their
  maintainer confirms they count conv and FC layers only: ShuffleNet-Series issue
  #12).  0.5x still prints 40, not 41: the two stride-2 variants coincide there
  (in = out / 2 = 24), so no structural difference explains it; rounding up, or
  counting some 23.6 k to 0.53 M extra operations (e.g. the 50,176 additions of the
  7x7 global average pool) would, and the published material does not say which.
* v1, Table 1 (1x): we count 143.08 / 140.84 / 137.46 / 134.34 / 138.37 M for
  g = 1 / 2 / 3 / 4 / 8; printed 143 / 140 / 137 / 133 / 137.  g = 1 and 3 agree;
  g = 2, 4, 8 are 1 M too high.  Without the FC layer's MACs (1000 x 576 / 800 /
  960 / 1088 / 1536) the count is 142.50 / 140.04 / 136.50 / 133.25 / 136.83 M,
  which prints exactly the row: Table 1's complexity evidently leaves out the FC
  (the only rule we found that reproduces all five entries).  The
  authors' README and the paper's comparison rows do include it (1.5x g=3: 292.44
  M, printed 292; 2x g=3: 524.05 M, printed 524).
* v1 "1.0x (g=3) 140 M" (the ShuffleNet v2 paper's comparison with v1; seed 002)
  is not a count of the g = 3 model, which is 137.46 M (137 in v1's own Table 1,
  with or without the FC): it looks like the nominal "ShuffleNet 1x ~ 140 MFLOPs"
  level of the v1 paper, whose Table 1 row spans 133 to 143 M (we could not check
  the v1 paper's Table 2 from a stored copy).  0.5x g=3 counts 37.59 M, printed 38
  (agrees).  The authors' README (ShuffleNetV1/README.md) prints 138 M for 1.0x
  g=3, which no counting rule we tried reaches from 137.46 M (the g=8 entry next
  to it is also 138 M, and our g=8 count, 138.37 M, matches that one); its other
  seven FLOPs entries and all eight params entries agree with our counts.
* v1 params (BN included; the authors' FC has no bias): 1.5x g=3 3,441,168 (3.4 M
  printed) and 2x g=3 5,449,776 (5.4 M) agree.

Choices of ours where neither the paper nor the authors' code decides: v1 widths
for scales and groups the authors did not release are rounded to a multiple of
``4 g`` (:func:`v1_channels`), and the 0.25x conv1 has 6 channels (rounded up to a
multiple of g).
"""
from __future__ import annotations

from dataclasses import dataclass

from calc.blocks import classifier, conv_bn, make_divisible, window_pool_head
from calc.registry import ALPHA, CLASSES, RES, Option, register
from calc.graph import Network
from calc.errors import CalcError
from calc.layers import (
    Add, AvgPool2d, ChannelShuffle, ChannelSplit, Concat, Flatten, Linear, MaxPool2d, ReLU,
)


@dataclass(frozen=True)
class Row:
    """One row of a ShuffleNet paper table: layer ``name``, ``repeat`` units (in a
    stage the first has stride 2, the rest stride 1; the tables print "1 / n-1"),
    and the output channels ``out`` for each column of the table."""

    name: str
    repeat: int
    out: tuple[int, ...]


def stem(net: Network, channels: int) -> str:
    """Conv1 (3x3 s2, BN, ReLU) and MaxPool (3x3 s2): 224 -> 112 -> 56."""
    x = conv_bn(net, "conv1", "input", channels, 3, stride=2, act=ReLU)
    return net.add("maxpool", MaxPool2d(kernel_size=3, stride=2, padding=1), x)


def authors_head(net: Network, x: str, classes: int, dropout: float | None = None) -> str:
    """The head of the authors' code (megvii-model/ShuffleNet-Series): ``nn.AvgPool2d(7)``,
    optional dropout, ``x.view(-1, C)``, and a Linear without bias."""
    return window_pool_head(net, x, classes, dropout=dropout, fc_bias=False)


# ---------------------------------------------------------------------------
# ShuffleNet v1 (Zhang et al., arXiv 1707.01083)

#: The columns of Table 1: the number of groups g of the pointwise convolutions.
V1_GROUPS = (1, 2, 3, 4, 8)

#: Table 1 of the paper (ShuffleNet 1x), output channels per g.
SHUFFLENET_V1 = (
    Row("conv1", 1, (24, 24, 24, 24, 24)),        # 112x112, then MaxPool 3x3 s2 -> 56x56
    Row("stage2", 4, (144, 200, 240, 272, 384)),  # 28x28
    Row("stage3", 8, (288, 400, 480, 544, 768)),  # 14x14
    Row("stage4", 4, (576, 800, 960, 1088, 1536)),  # 7x7, then GlobalPool 7x7 and FC
)

#: Conv1's width factor per scale s in the authors' code (megvii-model/ShuffleNet-Series,
#: ShuffleNetV1/network.py: 0.5x 12, 1.0x 24, 1.5x 24, 2.0x 48): s, except that 1.5x keeps
#: 24.  No 0.25x model was released; we use 24 x 0.25 = 6.
V1_CONV1_SCALE = {0.25: 0.25, 0.5: 0.5, 1.0: 1.0, 1.5: 1.0, 2.0: 2.0}

GROUPS_V1 = Option("groups", int, 3, "groups g of the pointwise group convolutions (Table 1)",
                   choices=V1_GROUPS)
SCALE_V1 = ALPHA.with_default(1.0, choices=tuple(V1_CONV1_SCALE),
                              help="ShuffleNet 's x' scale of the channel counts")


def v1_channels(c: int, alpha: float, g: int) -> int:
    """A stage's output channels at scale ``alpha``: ``c x alpha`` rounded with
    :func:`make_divisible` to the nearest multiple of ``4 g``, so that the
    bottleneck (``out / 4``) splits into ``g`` groups.  Every width of Table 1 and
    of the authors' released models (g = 3 and 8, 0.5x to 2x) is already such a
    multiple and is unchanged; only combinations nobody published move (0.5x g=2:
    100 -> 104 channels in stage 2, 0.5x g=4: 136 -> 144)."""
    return make_divisible(c * alpha, 4 * g)


def v1_conv1(c: int, alpha: float, g: int) -> int:
    """Conv1's output channels: ``c x`` :data:`V1_CONV1_SCALE`, rounded *up* to a
    multiple of ``g`` so that the first unit's residual branch (stage width minus
    conv1 width) splits into ``g`` groups; the authors' 0.5x g=8 model does the
    same (12 -> 16)."""
    c = round(c * V1_CONV1_SCALE[alpha])
    return -(-c // g) * g


def v1_unit(net: Network, name: str, x: str, out: int, stride: int, g: int, first: bool) -> str:
    """The ShuffleNet unit of Figure 2 (b, c), as ShuffleV1Block runs it: 1x1 group
    conv (not grouped in the network's first unit) + BN + ReLU, 3x3 depthwise conv +
    BN, channel shuffle (when g > 1), 1x1 group conv + BN; then ``relu(x + y)`` for
    stride 1, or ``cat(avgpool3x3s2(x), relu(y))`` for stride 2, whose residual
    branch therefore produces ``out - in`` channels.  No conv has a bias."""
    c_in = net[x].shape[0]
    mid = out // 4
    branch_out = out - c_in if stride == 2 else out
    y = conv_bn(net, f"{name}.gconv1", x, mid, 1, groups=1 if first else g, act=ReLU)
    y = conv_bn(net, f"{name}.dw", y, mid, 3, stride=stride, groups=mid)
    if g > 1:
        y = net.add(f"{name}.shuffle", ChannelShuffle(groups=g), y)
    y = conv_bn(net, f"{name}.gconv2", y, branch_out, 1, groups=g)
    if stride == 1:
        y = net.add(f"{name}.add", Add(), [y, x])
        return net.add(f"{name}.relu", ReLU(impl="functional"), y)
    shortcut = net.add(f"{name}.avgpool", AvgPool2d(kernel_size=3, stride=2, padding=1), x)
    y = net.add(f"{name}.relu", ReLU(impl="functional"), y)
    return net.add(f"{name}.concat", Concat(), [shortcut, y])


@register("shufflenet_v1", family="ShuffleNet",
          summary="ShuffleNet v1 (pointwise group convs, channel shuffle)",
          source="Zhang et al. 2017, arXiv 1707.01083, Table 1; megvii-model/ShuffleNet-Series ShuffleNetV1",
          options=(GROUPS_V1, SCALE_V1, RES, CLASSES))
def shufflenet_v1(groups: int, alpha: float, res: int, classes: int) -> Network:
    """Table 1 scaled by ``alpha`` (:func:`v1_channels`, :func:`v1_conv1`); the
    bottleneck is a quarter of the stage width.  The head is the authors':
    AvgPool over the final map (their ``nn.AvgPool2d(7)``, global at 224), a view,
    and a Linear without bias."""
    col = V1_GROUPS.index(groups)
    conv1, *stages = SHUFFLENET_V1
    net = Network("shufflenet_v1", (3, res, res))
    x = stem(net, v1_conv1(conv1.out[col], alpha, groups))
    for stage, row in enumerate(stages, start=2):
        out = v1_channels(row.out[col], alpha, groups)
        for i in range(row.repeat):
            x = v1_unit(net, f"{row.name}.block{i}", x, out, 2 if i == 0 else 1, groups,
                        first=stage == 2 and i == 0)
    authors_head(net, x, classes)
    return net


# ---------------------------------------------------------------------------
# ShuffleNet v2 (Ma et al., arXiv 1807.11164)

#: The columns of Table 5: the width multiplier.
V2_WIDTHS = (0.5, 1.0, 1.5, 2.0)

#: Table 5 of the paper, output channels per width.
SHUFFLENET_V2 = (
    Row("conv1", 1, (24, 24, 24, 24)),        # 112x112, then MaxPool 3x3 s2 -> 56x56
    Row("stage2", 4, (48, 116, 176, 244)),    # 28x28
    Row("stage3", 8, (96, 232, 352, 488)),    # 14x14
    Row("stage4", 4, (192, 464, 704, 976)),   # 7x7
    Row("conv5", 1, (1024, 1024, 1024, 2048)),  # 1x1 conv, then GlobalPool and FC
)

#: PaddleClas' ShuffleNetV2 (ppcls/modeling/architectures/shufflenet_v2.py, static graph,
#: 2020-04-09, 9f39da8): conv1, stage2..4 and conv5 widths per scale.  It adds 0.25x and
#: 0.33x, and its 2.0x has 224 channels in stage 2 (Table 5: 244).
PADDLE_V2 = {
    0.25: (24, 24, 48, 96, 512),
    0.33: (24, 32, 64, 128, 512),
    0.5: (24, 48, 96, 192, 1024),
    1.0: (24, 116, 232, 464, 1024),
    1.5: (24, 176, 352, 704, 1024),
    2.0: (24, 224, 488, 976, 2048),
}

WIDTH_V2 = ALPHA.with_default(1.0, choices=tuple(PADDLE_V2))
VARIANT_V2 = Option("variant", str, "torchvision",
                    "'torchvision' (torchvision's ShuffleNetV2), 'megvii' (the authors' released model, "
                    "whose stride-2 units are wider; it gives Table 5's FLOPs) or 'paddle' (PaddleClas': "
                    "torchvision's units, its own widths, 0.25x and 0.33x too)",
                    choices=("torchvision", "megvii", "paddle"))


def v2_unit(net: Network, name: str, x: str, out: int, stride: int, variant: str) -> str:
    """torchvision's InvertedResidual (Figure 3 c, d).  Stride 1: ``x1, x2 =
    x.chunk(2, dim=1)`` and only x2 goes through branch2; stride 2: branch1 (3x3
    depthwise s2 + BN, 1x1 + BN + ReLU) and branch2 both see the whole input.
    branch2 is 1x1 + BN + ReLU, 3x3 depthwise + BN, 1x1 + BN + ReLU.  Each branch
    gives ``out / 2`` channels; ``torch.cat`` then ``channel_shuffle(out, 2)``.

    ``variant="megvii"`` is the authors' ShuffleV2Block: in a stride-2 unit branch1
    keeps the ``in`` channels and branch2 makes ``out - in`` (instead of ``out / 2``
    each), and the shuffle is done at the start of each stride-1 unit, fused with
    the split, instead of after every concat."""
    half = out // 2
    c_in = net[x].shape[0]
    megvii = variant == "megvii"
    if stride == 1:
        if megvii:
            x = net.add(f"{name}.shuffle", ChannelShuffle(groups=2), x)
        left = net.add(f"{name}.x1", ChannelSplit(index=0), x)
        x = net.add(f"{name}.x2", ChannelSplit(index=1), x)
    else:
        left = conv_bn(net, f"{name}.branch1.dw", x, c_in, 3, stride=stride, groups=c_in)
        left = conv_bn(net, f"{name}.branch1.pw", left, c_in if megvii else half, 1, act=ReLU)
    y = conv_bn(net, f"{name}.branch2.pw1", x, half, 1, act=ReLU)
    y = conv_bn(net, f"{name}.branch2.dw", y, half, 3, stride=stride, groups=half)
    y = conv_bn(net, f"{name}.branch2.pw2", y, out - c_in if megvii and stride == 2 else half, 1, act=ReLU)
    y = net.add(f"{name}.concat", Concat(), [left, y])
    if megvii:
        return y
    return net.add(f"{name}.shuffle", ChannelShuffle(groups=2), y)


@register("shufflenet_v2", family="ShuffleNet",
          summary="ShuffleNet v2 (channel split, concat, channel shuffle)",
          source="Ma et al. 2018, arXiv 1807.11164, Table 5; torchvision shufflenetv2.py",
          options=(WIDTH_V2, RES, CLASSES, VARIANT_V2))
def shufflenet_v2(alpha: float, res: int, classes: int, variant: str) -> Network:
    """Table 5's column for ``alpha``, built as torchvision's ShuffleNetV2: the
    global pool is ``x.mean([2, 3])`` (a tensor operator) and the FC has a bias.
    The ``megvii`` variant has the authors' head instead: AvgPool over the final
    map (their ``nn.AvgPool2d(7)``), Dropout(0.2) at 2.0x only, a view, and an FC
    without bias.  The ``paddle`` variant is PaddleClas' ShuffleNetV2 (the network its
    latency tables measure): torchvision's units with :data:`PADDLE_V2`'s widths, then
    ``pool2d(pool_size=7, pool_stride=1)`` and an FC with bias."""
    if variant == "paddle":
        widths = PADDLE_V2[alpha]
    elif alpha in V2_WIDTHS:
        widths = tuple(row.out[V2_WIDTHS.index(alpha)] for row in SHUFFLENET_V2)
    else:
        raise CalcError(f"shufflenet_v2: --alpha {alpha:g} exists only in --variant paddle (PaddleClas); "
                        f"Table 5 has {', '.join(f'{a:g}' for a in V2_WIDTHS)}")
    conv1, *stages, conv5 = SHUFFLENET_V2
    net = Network("shufflenet_v2", (3, res, res))
    x = stem(net, widths[0])
    for row, out in zip(stages, widths[1:4]):
        for i in range(row.repeat):
            x = v2_unit(net, f"{row.name}.block{i}", x, out, 2 if i == 0 else 1, variant)
    x = conv_bn(net, "conv5", x, widths[4], 1, act=ReLU)
    if variant == "torchvision":
        classifier(net, x, classes, pool_impl="operator", keepdims=False)
    elif variant == "paddle":  # pool2d(pool_size=7, pool_stride=1), then fc (with bias)
        x = net.add("pool", AvgPool2d(kernel_size=7, stride=1), x)
        x = net.add("flatten", Flatten(impl="operator"), x)
        net.add("fc", Linear(out_features=classes), x)
    else:
        authors_head(net, x, classes, dropout=0.2 if alpha == 2.0 else None)
    return net
