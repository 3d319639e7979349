"""GoogLeNet (Inception v1; Szegedy et al. 2014, arXiv 1409.4842, Table 1), as torchvision's
``models/googlenet.py`` builds it (default) or as the BVLC Caffe model does
(``--variant bvlc``: ``models/bvlc_googlenet/deploy.prototxt`` and ``train_val.prototxt``).

The two differ in every conv unit and in three places of the body:

* torchvision: ``BasicConv2d`` = conv without bias, BatchNorm (eps 1e-3), then a
  *functional* ``F.relu``; the "5x5" branch is a 3x3 conv (a known bug kept for its weights,
  pytorch/vision#906); ``maxpool4`` is 2x2/2; head ``nn.AdaptiveAvgPool2d(1)``, Dropout 0.2.
* BVLC: convs with a bias and a ReLU module, no BN; real 5x5 branches; LRN (size 5,
  alpha 1e-4, beta 0.75) after pool1 and after conv2/3x3; every pool 3x3/2; head
  ``AvgPool 7x7/1``, Dropout 0.4.

Both pool in Caffe's ceil mode (torchvision: ``ceil_mode=True``).  ``--aux true`` adds the two
auxiliary classifiers (on inception4a and inception4d) as training-only layers: their
params are counted, their MACs and memory are not (they do not run at inference).
:func:`basic_conv` is torchvision's ``BasicConv2d``, shared with Inception v3.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from calc.graph import Network
from calc.layers import (
    LRN, AdaptiveAvgPool2d, AvgPool2d, BatchNorm2d, Concat, Conv2d, Dropout, Flatten, GlobalAvgPool2d,
    Linear, MaxPool2d, ReLU,
)
from calc.layers.spatial import IntPair
from calc.registry import CLASSES, RES, Option, register

# ---------------------------------------------------------------------------
# Table 1 of the paper: the inception modules, and where the stride-2 pools sit


@dataclass(frozen=True)
class Module:
    """One inception module of Table 1: the 1x1 branch, the 3x3 branch (1x1 reduce, 3x3),
    the 5x5 branch (1x1 reduce, 5x5) and the pool branch (3x3/1 max pool, 1x1 projection)."""

    c1: int
    c3r: int
    c3: int
    c5r: int
    c5: int
    proj: int


POOL = "pool"  # a stride-2 max pool (maxpool3, maxpool4)

#: Table 1, from inception (3a) to (5b); the same numbers in torchvision and BVLC.
BODY = (
    ("inception3a", Module(64, 96, 128, 16, 32, 32)),
    ("inception3b", Module(128, 128, 192, 32, 96, 64)),
    ("maxpool3", POOL),
    ("inception4a", Module(192, 96, 208, 16, 48, 64)),
    ("inception4b", Module(160, 112, 224, 24, 64, 64)),
    ("inception4c", Module(128, 128, 256, 24, 64, 64)),
    ("inception4d", Module(112, 144, 288, 32, 64, 64)),
    ("inception4e", Module(256, 160, 320, 32, 128, 128)),
    ("maxpool4", POOL),
    ("inception5a", Module(256, 160, 320, 32, 128, 128)),
    ("inception5b", Module(384, 192, 384, 48, 128, 128)),
)
#: the auxiliary classifiers read these modules' outputs (paper section 5)
AUX_AFTER = {"inception4a": "aux1", "inception4d": "aux2"}


@dataclass(frozen=True)
class Design:
    """What one implementation does around Table 1."""

    caffe: bool          # conv with bias + ReLU module (BVLC) or BasicConv2d (torchvision)
    k5: int              # the "5x5" branch's kernel: 5 (BVLC, the paper) or 3 (torchvision)
    lrn: bool            # LRN after pool1 and after conv3 (BVLC)
    pool4: int           # maxpool4's window: 3 (BVLC) or 2 (torchvision); stride 2 in both
    dropout: float
    head: Literal["adaptive", "fixed"]


TORCHVISION = Design(caffe=False, k5=3, lrn=False, pool4=2, dropout=0.2, head="adaptive")
BVLC = Design(caffe=True, k5=5, lrn=True, pool4=3, dropout=0.4, head="fixed")
DESIGNS = {"torchvision": TORCHVISION, "bvlc": BVLC}

# ---------------------------------------------------------------------------
# Blocks


def basic_conv(net: Network, name: str, x: str, out: int, k: IntPair, stride: int = 1,
               padding: IntPair = 0, *, train_only: bool = False) -> str:
    """torchvision's ``BasicConv2d``: ``{name}.conv`` (no bias) -> ``.bn`` (eps 1e-3) -> a
    functional ``F.relu`` (``.relu``)."""
    x = net.add(f"{name}.conv", Conv2d(out_channels=out, kernel_size=k, stride=stride, padding=padding,
                                       bias=False), x, train_only=train_only)
    x = net.add(f"{name}.bn", BatchNorm2d(eps=1e-3), x, train_only=train_only)
    return net.add(f"{name}.relu", ReLU(impl="functional"), x, train_only=train_only)


def caffe_conv(net: Network, name: str, x: str, out: int, k: int, stride: int = 1, padding: int = 0,
               *, train_only: bool = False) -> str:
    """A Caffe convolution (with bias) and its ReLU: ``{name}.conv`` -> ``.relu``."""
    x = net.add(f"{name}.conv", Conv2d(out_channels=out, kernel_size=k, stride=stride, padding=padding),
                x, train_only=train_only)
    return net.add(f"{name}.relu", ReLU(), x, train_only=train_only)


def conv_unit(net: Network, d: Design, name: str, x: str, out: int, k: int, stride: int = 1,
              padding: int = 0, *, train_only: bool = False) -> str:
    unit = caffe_conv if d.caffe else basic_conv
    return unit(net, name, x, out, k, stride, padding, train_only=train_only)


def inception(net: Network, d: Design, name: str, x: str, m: Module) -> str:
    """The four branches, concatenated (``torch.cat``, a functional call)."""
    b1 = conv_unit(net, d, f"{name}.branch1", x, m.c1, 1)
    b2 = conv_unit(net, d, f"{name}.branch2.0", x, m.c3r, 1)
    b2 = conv_unit(net, d, f"{name}.branch2.1", b2, m.c3, 3, padding=1)
    b3 = conv_unit(net, d, f"{name}.branch3.0", x, m.c5r, 1)
    b3 = conv_unit(net, d, f"{name}.branch3.1", b3, m.c5, d.k5, padding=d.k5 // 2)
    b4 = net.add(f"{name}.branch4.0", MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True), x)
    b4 = conv_unit(net, d, f"{name}.branch4.1", b4, m.proj, 1)
    return net.add(f"{name}.cat", Concat(), [b1, b2, b3, b4])


def aux_head(net: Network, d: Design, name: str, x: str, classes: int) -> str:
    """An auxiliary classifier (training only): torchvision's ``InceptionAux``
    (``F.adaptive_avg_pool2d`` to 4x4, BasicConv2d 1x1 to 128, Linear 2048 -> 1024, F.relu,
    Dropout 0.7, Linear) or BVLC's loss1/loss2 head (5x5/3 average pool, 1x1 conv to 128 and
    ReLU, fc 1024 and ReLU, dropout 0.7, classifier)."""
    t = {"train_only": True}
    if d.caffe:
        x = net.add(f"{name}.pool", AvgPool2d(kernel_size=5, stride=3, ceil_mode=True), x, **t)
    else:
        x = net.add(f"{name}.pool", AdaptiveAvgPool2d(output_size=4, impl="functional"), x, **t)
    x = conv_unit(net, d, name, x, 128, 1, train_only=True)
    x = net.add(f"{name}.flatten", Flatten(), x, **t)
    x = net.add(f"{name}.fc1", Linear(out_features=1024), x, **t)
    x = net.add(f"{name}.fc1_relu", ReLU() if d.caffe else ReLU(impl="functional"), x, **t)
    x = net.add(f"{name}.dropout", Dropout(p=0.7), x, **t)
    return net.add(f"{name}.fc2", Linear(out_features=classes), x, **t)


def caffe_head(net: Network, x: str, classes: int, dropout: float) -> str:
    """BVLC's pool5 (``AVE`` 7x7/1), dropout and classifier.  The window is the final map (7x7
    at 224, written as the int 7 as a port writes ``nn.AvgPool2d(7, 1)``: thop 2019 counts an
    int window k as k + 1 per output); at another resolution calc pools over the whole map,
    so the classifier keeps its 1024 inputs, and says so."""
    c, h, w = net[x].shape
    if (h, w) != (7, 7):
        net.notes.append(f"BVLC's pool5 is a fixed 7x7/1 average pool, made for the 7x7 map of a 224 input; "
                         f"here the map is {h}x{w}, and calc pools over all of it so the classifier keeps "
                         f"its {c} inputs")
    x = net.add("pool5", AvgPool2d(kernel_size=h if h == w else (h, w), stride=1), x)
    x = net.add("dropout", Dropout(p=dropout), x)
    x = net.add("flatten", Flatten(impl="operator"), x)
    return net.add("fc", Linear(out_features=classes), x)


def stem(net: Network, d: Design) -> str:
    """conv1 7x7/2 -> maxpool1 3x3/2 (-> LRN) -> conv2 1x1 -> conv3 3x3 (-> LRN) -> maxpool2 3x3/2."""
    x = conv_unit(net, d, "conv1", "input", 64, 7, stride=2, padding=3)
    x = net.add("maxpool1", MaxPool2d(kernel_size=3, stride=2, ceil_mode=True), x)
    if d.lrn:
        x = net.add("norm1", LRN(size=5, alpha=1e-4, beta=0.75), x)
    x = conv_unit(net, d, "conv2", x, 64, 1)
    x = conv_unit(net, d, "conv3", x, 192, 3, padding=1)
    if d.lrn:
        x = net.add("norm2", LRN(size=5, alpha=1e-4, beta=0.75), x)
    return net.add("maxpool2", MaxPool2d(kernel_size=3, stride=2, ceil_mode=True), x)


# ---------------------------------------------------------------------------
# The builder

TRUE_FALSE = ("false", "true")
AUX = Option("aux", str, "false", "'true': add the auxiliary classifiers (training only: their params are "
             "counted, their MACs and memory are not)", choices=TRUE_FALSE)
VARIANT = Option("variant", str, "torchvision",
                 "'torchvision' (BN, 3x3 '5x5' branches) or 'bvlc' (the Caffe model: biases, 5x5 "
                 "branches, LRN, no BN)", choices=tuple(DESIGNS))


@register("googlenet", family="GoogLeNet", summary="GoogLeNet / Inception v1 (torchvision; --variant bvlc: Caffe's)",
          source="Szegedy et al. 2014, arXiv 1409.4842, Table 1; torchvision models/googlenet.py; "
                 "BVLC caffe models/bvlc_googlenet",
          options=(RES, CLASSES, VARIANT, AUX))
def googlenet(res: int, classes: int, variant: str, aux: str) -> Network:
    d = DESIGNS[variant]
    net = Network("googlenet", (3, res, res))
    x = stem(net, d)
    for name, m in BODY:
        if m == POOL:
            k = d.pool4 if name == "maxpool4" else 3
            x = net.add(name, MaxPool2d(kernel_size=k, stride=2, ceil_mode=True), x)
            continue
        x = inception(net, d, name, x, m)
        if aux == "true" and name in AUX_AFTER:
            aux_head(net, d, AUX_AFTER[name], x, classes)
    if d.head == "fixed":
        caffe_head(net, x, classes, d.dropout)
    else:
        x = net.add("avgpool", GlobalAvgPool2d(), x)      # nn.AdaptiveAvgPool2d((1, 1))
        x = net.add("flatten", Flatten(), x)              # torch.flatten(x, 1)
        x = net.add("dropout", Dropout(p=d.dropout), x)
        net.add("fc", Linear(out_features=classes), x)
    return net
