"""FCN-32s, FCN-16s and FCN-8s (Long, Shelhamer & Darrell 2015, arXiv 1411.4038), the PASCAL
VOC models of the paper as convnet-burden measured them: longjon's Caffe deploy prototxts
(``fcn-32s-pascal``, ``fcn-16s-pascal``, ``fcn-8s-pascal``), imported into MatConvNet by
``utils/import-fcn.sh`` (``pascal-fcn32s-dag.mat`` ...).

Caffe's VGG-16 with ``conv1_1`` padded by 100 and ceil-mode pools, ``fc6`` a 7x7 conv to
4096, ``fc7`` a 1x1 conv, ``score_fr`` a 1x1 conv to the classes, then bias-free
``Deconvolution`` upsampling and ``Crop`` layers that cut each upsampled map to its partner's
size at a fixed offset (the offsets the prototxts' crop layers compute: 19 for FCN-32s; 5 and
27 for FCN-16s; 5, 9 and 31 for FCN-8s):

- FCN-32s: ``upscore`` 64x64/32, crop to the image;
- FCN-16s: ``upscore2`` 4x4/2; ``score_pool4`` (1x1 on pool4) cropped to it and added;
  ``upscore16`` 32x32/16, crop to the image;
- FCN-8s: as FCN-16s to ``fuse_pool4``, ``upscore_pool4`` 4x4/2, ``score_pool3`` cropped and
  added, ``upscore8`` 16x16/8, crop to the image.

The deploy prototxts keep Caffe's ``drop6`` and ``drop7``; MatConvNet's importer ran with
``--remove-dropout``, so the imported models have none (the default here, ``-p dropout=false``:
at inference dropout is the identity, but it would add tensors to convnet-burden's feature
memory).  ``-p dropout=true`` declares them.
"""
from __future__ import annotations

from archs.caffe_vgg import DROPOUT, POOL, Trunk, conv_relu, stages, vgg_trunk
from calc.graph import Network
from calc.layers import Add, ConvTranspose2d, Conv2d, Crop, Dropout
from calc.registry import CLASSES, RES, register

SOURCE = ("Long, Shelhamer & Darrell 2015, arXiv 1411.4038; longjon's fcn-{s}-pascal-deploy.prototxt "
          "(BVLC model zoo), imported by MatConvNet utils/import-fcn.sh; albanie/convnet-burden")
OPTIONS = (RES.with_default(384), CLASSES.with_default(21), DROPOUT)

#: Caffe VGG-16 with conv1_1 padded by 100 (so that any input survives the 7x7 fc6)
TRUNK = Trunk(stages(16), (POOL,) * 5, first_pad=100)


def score_head(net: Network, x: str, classes: int, dropout: bool) -> str:
    """fc6 (7x7 conv to 4096), fc7 (1x1), [drop6, drop7], score_fr (1x1 to the classes)."""
    for name, k in (("fc6", 7), ("fc7", 1)):
        x = conv_relu(net, f"fc.{name}", x, 4096, k, relu=f"fc.relu{name[2:]}")
        if dropout:
            x = net.add(f"fc.drop{name[2:]}", Dropout(p=0.5), x)
    return net.add("score.score_fr", Conv2d(out_channels=classes, kernel_size=1), x)


def upscore(net: Network, name: str, x: str, classes: int, k: int, s: int) -> str:
    """A bias-free Deconvolution of the class scores (classes -> classes)."""
    return net.add(f"up.{name}", ConvTranspose2d(out_channels=classes, kernel_size=k, stride=s, bias=False), x)


def skip(net: Network, name: str, x: str, pool: str, classes: int, offset: int) -> str:
    """``score_{pool}``: a 1x1 conv on the pool, cropped to ``x`` at ``offset`` and added to it."""
    score = net.add(f"skip.score_{name}", Conv2d(out_channels=classes, kernel_size=1), pool)
    crop = net.add(f"skip.score_{name}c", Crop(top=offset, left=offset, view=False), [score, x])
    return net.add(f"skip.fuse_{name}", Add(), [x, crop])


#: per variant: the skips (pool, crop offset) after upscore2, the upsamplings (kernel, stride),
#: and the final crop's offset
VARIANTS = {
    "fcn32s_vgg16": {"skips": (), "ups": ((64, 32),), "offset": 19},
    "fcn16s_vgg16": {"skips": (("pool4", 5),), "ups": ((4, 2), (32, 16)), "offset": 27},
    "fcn8s_vgg16": {"skips": (("pool4", 5), ("pool3", 9)), "ups": ((4, 2), (4, 2), (16, 8)), "offset": 31},
}
UP_NAMES = {32: "upscore", 16: "upscore16", 8: "upscore8"}


def fcn(variant: str, res, classes: int, dropout: str) -> Network:
    cfg = VARIANTS[variant]
    net = Network(variant, (3, res, res))
    t = vgg_trunk(net, TRUNK)
    x = score_head(net, t["out"], classes, dropout == "true")
    skips = list(cfg["skips"])
    for i, (k, s) in enumerate(cfg["ups"]):
        last = i == len(cfg["ups"]) - 1
        name = UP_NAMES[s] if last else ("upscore2" if i == 0 else f"upscore_{skips[i - 1][0]}")
        x = upscore(net, name, x, classes, k, s)
        if not last:
            pool, offset = skips[i]
            x = skip(net, pool, x, t[pool], classes, offset)
    net.add("score", Crop(top=cfg["offset"], left=cfg["offset"], view=False), [x, "input"])
    return net


for _name, _what in (("fcn32s_vgg16", "FCN-32s (VGG-16, PASCAL VOC): one 32x upsampling"),
                     ("fcn16s_vgg16", "FCN-16s (VGG-16, PASCAL VOC): a pool4 skip, 2x and 16x upsampling"),
                     ("fcn8s_vgg16", "FCN-8s (VGG-16, PASCAL VOC): pool4 and pool3 skips, 2x, 2x and 8x upsampling")):
    register(_name, family="FCN", summary=_what, source=SOURCE.format(s=_name[3:6]), options=OPTIONS,
             fixed={"variant": _name})(fcn)
