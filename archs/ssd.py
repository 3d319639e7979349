"""SSD, the single-shot multibox detector (Liu et al. 2016, arXiv 1512.02325), as
convnet-burden measured it: weiliu89's Caffe SSD (``SSD_300x300`` / ``SSD_512x512`` VOC0712
deploy prototxts) rebuilt and trained in MatConvNet by albanie/mcnSSD (``ssd-mcn-pascal-
vggvd-300``/``-512``, ``core/ssd_init.m`` and ``ssd_deploy.m``), and chuanqi305's
MobileNet-SSD (``MobileNetSSD_deploy.prototxt``, batch norm merged into the convs) imported
by mcnSSD (``ssd-pascal-mobilenet-ft``).

The VGG-16 SSDs: Caffe's VGG-16 with ceil pools, pool5 3x3/1 pad 1, ``fc6`` a 3x3 conv dilated
by 6 to 1024 and ``fc7`` a 1x1 conv (the "reduced" VGG), ``conv4_3_norm`` (an L2 norm with a
learned scale per channel), then extra stacks of a 1x1 and a 3x3 conv (``conv6`` .. ``conv9``,
512 also ``conv10``).  Every source map gets a 3x3 ``mbox_loc`` conv (4 per prior) and a 3x3
``mbox_conf`` conv (one score per class and prior), each permuted channels-last and
flattened, and a ``PriorBox``; the three are concatenated over the sources, the scores
reshaped to ``(priors, classes)``, soft-maxed over the classes, flattened, and decoded by
``DetectionOutput``.  Priors per cell: 4, 6, 6, 6, 4, 4 (300) and 4, 6, 6, 6, 6, 4, 4 (512);
``ssd_init.m`` builds the extra stacks of SSD300 (conv8_2 and conv9_2 unpadded 3x3) for 512 too
(conv10_2 a 4x4 conv with padding 1), where Caffe's SSD512 strides them (``--variant caffe``).

MobileNet-SSD: MobileNet v1 (Howard et al. 2017, Table 1; every conv with a bias, BN merged)
with sources conv11 (3 priors) and conv13, then extra stacks conv14..conv17 (a 1x1 conv and a
3x3/2 conv each, 6 priors per cell), and 1x1 ``mbox_loc`` / ``mbox_conf`` convs.
"""
from __future__ import annotations

from dataclasses import dataclass

from archs.caffe_vgg import POOL, Trunk, conv_relu, stages, vgg_trunk
from calc.graph import Network
from calc.layers import (
    Concat, Conv2d, DetectionOutput, Flatten, L2Norm, MaxPool2d, Permute, PriorBox, Reshape, Softmax,
)
from calc.registry import CLASSES, RES, Option, register

SSD = "Liu et al. 2016, arXiv 1512.02325; weiliu89/caffe (ssd) VOC0712 deploy prototxts; albanie/mcnSSD"


@dataclass(frozen=True)
class Source:
    """One source map of the multibox heads: its prior boxes (Caffe SSD's PriorBox fields)."""

    node: str
    name: str  # the Caffe prefix of its heads (conv4_3_norm, fc7, conv6_2 ...)
    min_size: float
    max_size: float | None
    ratios: tuple[float, ...]
    step: float


@dataclass(frozen=True)
class Extra:
    """An extra stack: a 1x1 conv to ``mid`` and a ``k x k`` conv to ``out`` (stride, padding)."""

    name: str
    mid: int
    out: int
    k: int = 3
    stride: int = 2
    padding: int = 1


def heads(net: Network, sources: list[Source], classes: int, k: int) -> None:
    """The multibox heads of every source and the detection output (SSD section 2.1)."""
    locs, confs, priors = [], [], []
    for s in sources:
        box = PriorBox(min_sizes=(s.min_size,), max_sizes=() if s.max_size is None else (s.max_size,),
                       aspect_ratios=s.ratios, flip=True, step=s.step)
        p = box.per_cell
        base = s.name
        for kind, per, out in (("loc", 4, locs), ("conf", classes, confs)):
            x = net.add(f"heads.{base}_mbox_{kind}", Conv2d(out_channels=p * per, kernel_size=k, padding=k // 2), s.node)
            x = net.add(f"heads.{base}_mbox_{kind}_perm", Permute(dims=(0, 2, 3, 1)), x)
            out.append(net.add(f"heads.{base}_mbox_{kind}_flat", Flatten(), x))
        priors.append(net.add(f"heads.{base}_mbox_priorbox", box, [s.node, "input"]))
    loc = net.add("mbox_loc", Concat(), locs)
    conf = net.add("mbox_conf", Concat(), confs)
    prior = net.add("mbox_priorbox", Concat(dim=1), priors)
    x = net.add("mbox_conf_reshape", Reshape(shape=(-1, classes)), conf)
    x = net.add("mbox_conf_softmax", Softmax(dim=1), x)
    x = net.add("mbox_conf_flatten", Flatten(), x)
    # mcnSSD's vl_nnmultiboxdetector writes keepTopK x 6 (class, score, box): Caffe's 7 less the image index
    net.add("detection_out", DetectionOutput(num_classes=classes, fields=6), [loc, x, prior])


def extra_stacks(net: Network, x: str, extras: tuple[Extra, ...]) -> list[tuple[str, str]]:
    """The extra conv stacks after the base network; returns each stack's output (a source)."""
    out = []
    for e in extras:
        x = conv_relu(net, f"extra.{e.name}_1", x, e.mid, 1, relu=f"extra.{e.name}_1_relu")
        x = conv_relu(net, f"extra.{e.name}_2", x, e.out, e.k, stride=e.stride, padding=e.padding,
                      relu=f"extra.{e.name}_2_relu")
        out.append((x, f"{e.name}_2"))
    return out


# ---------------------------------------------------------------------------
# SSD300 / SSD512 on the reduced VGG-16

VGG_TRUNK = Trunk(stages(16), (POOL,) * 4 + (MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),))
#: the extra stacks (SSD300; mcnSSD's ssd_init.m builds the same ones for 512, plus conv10)
EXTRAS_300 = (Extra("conv6", 256, 512), Extra("conv7", 128, 256), Extra("conv8", 128, 256, stride=1, padding=0),
              Extra("conv9", 128, 256, stride=1, padding=0))
EXTRAS_512 = {"mcn": EXTRAS_300 + (Extra("conv10", 128, 256, k=4, stride=1, padding=1),),
              "caffe": EXTRAS_300[:2] + (Extra("conv8", 128, 256), Extra("conv9", 128, 256),
                                         Extra("conv10", 128, 256, k=4, stride=1, padding=1))}
#: prior boxes per source (the deploy prototxts' PriorBox layers: min/max sizes, ratios, steps)
PRIORS = {300: ((30, 60, (2,), 8), (60, 111, (2, 3), 16), (111, 162, (2, 3), 32), (162, 213, (2, 3), 64),
                (213, 264, (2,), 100), (264, 315, (2,), 300)),
          512: ((35.84, 76.8, (2,), 8), (76.8, 153.6, (2, 3), 16), (153.6, 230.4, (2, 3), 32),
                (230.4, 307.2, (2, 3), 64), (307.2, 384.0, (2, 3), 128), (384.0, 460.8, (2,), 256),
                (460.8, 537.6, (2,), 512))}
SSD512_VARIANT = Option("variant", str, "mcn", "mcn (mcnSSD's ssd_init.m, which convnet-burden measured) or caffe "
                        "(weiliu89's SSD512: conv8_2 and conv9_2 3x3/2)", choices=("mcn", "caffe"))


def ssd_vgg(size: int, res, classes: int, variant: str = "mcn") -> Network:
    net = Network(f"ssd{size}_vgg16", (3, res, res))
    t = vgg_trunk(net, VGG_TRUNK)
    x = conv_relu(net, "fc.fc6", t["out"], 1024, 3, padding=6, dilation=6, relu="fc.relu6")
    x = conv_relu(net, "fc.fc7", x, 1024, 1, relu="fc.relu7")
    nodes = [(net.add("conv4_3_norm", L2Norm(), t["relu4_3"]), "conv4_3_norm"), (x, "fc7")]
    nodes += extra_stacks(net, x, EXTRAS_300 if size == 300 else EXTRAS_512[variant])
    sources = [Source(n, name, mn, mx, r, st) for (n, name), (mn, mx, r, st) in zip(nodes, PRIORS[size])]
    heads(net, sources, classes, 3)
    return net


register("ssd300_vgg16", family="SSD", summary="SSD300 (reduced VGG-16, PASCAL VOC; 8,732 priors)",
         source=SSD, options=(RES.with_default(300), CLASSES.with_default(21)), fixed={"size": 300})(ssd_vgg)
register("ssd512_vgg16", family="SSD", summary="SSD512 (reduced VGG-16, PASCAL VOC)",
         source=SSD, options=(RES.with_default(512), CLASSES.with_default(21), SSD512_VARIANT),
         fixed={"size": 512})(ssd_vgg)


# ---------------------------------------------------------------------------
# MobileNet-SSD (chuanqi305)

#: MobileNet v1's Table 1 body after conv0: (pointwise width, depthwise stride) per block
MOBILENET = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1),
             (512, 1), (512, 1), (1024, 2), (1024, 1))
MOBILE_EXTRAS = (Extra("conv14", 256, 512), Extra("conv15", 128, 256), Extra("conv16", 128, 256),
                 Extra("conv17", 64, 128))
#: MobileNetSSD_deploy.prototxt's PriorBox layers on conv11, conv13, conv14_2 .. conv17_2
MOBILE_PRIORS = ((60, None, (2,), None), (105, 150, (2, 3), None), (150, 195, (2, 3), None),
                 (195, 240, (2, 3), None), (240, 285, (2, 3), None), (285, 300, (2, 3), None))


@register("ssd300_mobilenet_v1", family="SSD", summary="MobileNet-SSD (chuanqi305, PASCAL VOC; BN merged)",
          source="Howard et al. 2017, arXiv 1704.04861; chuanqi305/MobileNet-SSD MobileNetSSD_deploy.prototxt; "
                 "albanie/mcnSSD (ssd-pascal-mobilenet-ft)",
          options=(RES.with_default(300), CLASSES.with_default(21)))
def ssd300_mobilenet_v1(res, classes: int) -> Network:
    net = Network("ssd300_mobilenet_v1", (3, res, res))
    x = conv_relu(net, "mobilenet.conv0", "input", 32, 3, stride=2, padding=1, relu="mobilenet.conv0_relu")
    nodes = []
    for i, (c, s) in enumerate(MOBILENET, start=1):
        cin = net[x].shape[0]
        x = conv_relu(net, f"mobilenet.conv{i}_dw", x, cin, 3, stride=s, padding=1, groups=cin,
                      relu=f"mobilenet.conv{i}_dw_relu")
        x = conv_relu(net, f"mobilenet.conv{i}", x, c, 1, relu=f"mobilenet.conv{i}_relu")
        if i in (11, 13):
            nodes.append((x, f"conv{i}"))
    nodes += extra_stacks(net, x, MOBILE_EXTRAS)
    sources = [Source(n, name, mn, mx, r, st) for (n, name), (mn, mx, r, st) in zip(nodes, MOBILE_PRIORS)]
    heads(net, sources, classes, 1)
    return net
