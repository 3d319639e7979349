"""Inception v3 (Szegedy et al. 2015, arXiv 1512.00567, Table 1 and Figures 5-7), as
torchvision's ``models/inception.py`` builds it (``Inception3``, input 299).

Every conv is a ``BasicConv2d`` (conv without bias, BN eps 1e-3, functional ``F.relu``); the
branch pools are functional (``F.avg_pool2d(3, 1, 1)``, ``F.max_pool2d(3, 2)``); the 7x7 and
3x3 convs of Mixed_6b-7c are factorized into 1x7/7x1 and 1x3/3x1 pairs, and the stem's convs
are unpadded.  ``--aux true`` (torchvision's default ``aux_logits=True``, whose params its
weights count: 27,161,264) adds ``AuxLogits`` on Mixed_6e as training-only layers: params
counted, no MACs or memory (it never runs at inference, and the report says so).

``--variant torchvision_0.2`` is torchvision 0.2.2's ``Inception3`` (and Cadene's
``inceptionv3``, which wraps it): the same layers, but the stem's max pools, the final pool
and the dropout are functional calls there, where torchvision >= 0.3 has modules; hook-based
tools count the two differently, and seed 000's rows were measured on that code.
"""
from __future__ import annotations

from archs.googlenet import AUX, basic_conv
from calc.graph import Network
from calc.layers import (
    AdaptiveAvgPool2d, AvgPool2d, Concat, Dropout, Flatten, GlobalAvgPool2d, Linear, MaxPool2d,
)
from calc.registry import CLASSES, RES, Option, register

#: Mixed_5b/5c/5d (InceptionA) pool-branch widths, Mixed_6b..6e (InceptionC) 7x7 widths
INCEPTION_A = (("Mixed_5b", 32), ("Mixed_5c", 64), ("Mixed_5d", 64))
INCEPTION_C = (("Mixed_6b", 128), ("Mixed_6c", 160), ("Mixed_6d", 160), ("Mixed_6e", 192))
#: the map AuxLogits needs: its fixed 5x5/3 average pool must leave 5x5 for its 5x5 conv
AUX_MIN_MAP = 17


def avg_pool_branch(net: Network, name: str, x: str, out: int) -> str:
    """``F.avg_pool2d(x, 3, stride=1, padding=1)`` then a 1x1 BasicConv2d (``branch_pool``)."""
    p = net.add(f"{name}.pool", AvgPool2d(kernel_size=3, stride=1, padding=1, impl="functional"), x)
    return basic_conv(net, f"{name}.branch_pool", p, out, 1)


def inception_a(net: Network, name: str, x: str, pool_features: int) -> str:
    b1 = basic_conv(net, f"{name}.branch1x1", x, 64, 1)
    b5 = basic_conv(net, f"{name}.branch5x5_1", x, 48, 1)
    b5 = basic_conv(net, f"{name}.branch5x5_2", b5, 64, 5, padding=2)
    b3 = basic_conv(net, f"{name}.branch3x3dbl_1", x, 64, 1)
    b3 = basic_conv(net, f"{name}.branch3x3dbl_2", b3, 96, 3, padding=1)
    b3 = basic_conv(net, f"{name}.branch3x3dbl_3", b3, 96, 3, padding=1)
    bp = avg_pool_branch(net, name, x, pool_features)
    return net.add(f"{name}.cat", Concat(), [b1, b5, b3, bp])


def inception_b(net: Network, name: str, x: str) -> str:
    """Grid reduction 35 -> 17: 3x3/2 conv, double 3x3 ending in /2, and ``F.max_pool2d(3, 2)``."""
    b3 = basic_conv(net, f"{name}.branch3x3", x, 384, 3, stride=2)
    bd = basic_conv(net, f"{name}.branch3x3dbl_1", x, 64, 1)
    bd = basic_conv(net, f"{name}.branch3x3dbl_2", bd, 96, 3, padding=1)
    bd = basic_conv(net, f"{name}.branch3x3dbl_3", bd, 96, 3, stride=2)
    bp = net.add(f"{name}.pool", MaxPool2d(kernel_size=3, stride=2, impl="functional"), x)
    return net.add(f"{name}.cat", Concat(), [b3, bd, bp])


def factorized(net: Network, name: str, x: str, widths: tuple[int, ...], first: str) -> str:
    """A chain of 1x7 and 7x1 convs (padding 3 on the long side), starting with ``first``."""
    kernels = {"1x7": ((1, 7), (0, 3)), "7x1": ((7, 1), (3, 0))}
    order = (first, "7x1" if first == "1x7" else "1x7")
    for i, c in enumerate(widths):
        k, pad = kernels[order[i % 2]]
        x = basic_conv(net, f"{name}_{i + 2}", x, c, k, padding=pad)
    return x


def inception_c(net: Network, name: str, x: str, c7: int) -> str:
    b1 = basic_conv(net, f"{name}.branch1x1", x, 192, 1)
    b7 = basic_conv(net, f"{name}.branch7x7_1", x, c7, 1)
    b7 = factorized(net, f"{name}.branch7x7", b7, (c7, 192), "1x7")
    bd = basic_conv(net, f"{name}.branch7x7dbl_1", x, c7, 1)
    bd = factorized(net, f"{name}.branch7x7dbl", bd, (c7, c7, c7, 192), "7x1")
    bp = avg_pool_branch(net, name, x, 192)
    return net.add(f"{name}.cat", Concat(), [b1, b7, bd, bp])


def inception_d(net: Network, name: str, x: str) -> str:
    """Grid reduction 17 -> 8."""
    b3 = basic_conv(net, f"{name}.branch3x3_1", x, 192, 1)
    b3 = basic_conv(net, f"{name}.branch3x3_2", b3, 320, 3, stride=2)
    b7 = basic_conv(net, f"{name}.branch7x7x3_1", x, 192, 1)
    b7 = factorized(net, f"{name}.branch7x7x3", b7, (192, 192), "1x7")
    b7 = basic_conv(net, f"{name}.branch7x7x3_4", b7, 192, 3, stride=2)
    bp = net.add(f"{name}.pool", MaxPool2d(kernel_size=3, stride=2, impl="functional"), x)
    return net.add(f"{name}.cat", Concat(), [b3, b7, bp])


def split_1x3_3x1(net: Network, name: str, x: str) -> str:
    """``torch.cat([1x3 conv(x), 3x1 conv(x)], 1)``, 384 channels each (Figure 7)."""
    a = basic_conv(net, f"{name}a", x, 384, (1, 3), padding=(0, 1))
    b = basic_conv(net, f"{name}b", x, 384, (3, 1), padding=(1, 0))
    return net.add(f"{name}.cat", Concat(), [a, b])


def inception_e(net: Network, name: str, x: str) -> str:
    b1 = basic_conv(net, f"{name}.branch1x1", x, 320, 1)
    b3 = basic_conv(net, f"{name}.branch3x3_1", x, 384, 1)
    b3 = split_1x3_3x1(net, f"{name}.branch3x3_2", b3)
    bd = basic_conv(net, f"{name}.branch3x3dbl_1", x, 448, 1)
    bd = basic_conv(net, f"{name}.branch3x3dbl_2", bd, 384, 3, padding=1)
    bd = split_1x3_3x1(net, f"{name}.branch3x3dbl_3", bd)
    bp = avg_pool_branch(net, name, x, 192)
    return net.add(f"{name}.cat", Concat(), [b1, b3, bd, bp])


def aux_logits(net: Network, x: str, classes: int, res: int) -> None:
    """``AuxLogits`` (training only): ``F.avg_pool2d(5, stride=3)``, BasicConv2d 1x1 to 128,
    BasicConv2d 5x5 to 768, ``F.adaptive_avg_pool2d(1)``, flatten, Linear.

    The head runs only where Mixed_6e is at least 17x17 (res >= 299): below that its 5x5 conv
    would see less than 5x5 and torchvision fails in training mode, though it builds the head
    (and counts its params) at any size.  There calc pools the map adaptively to 5x5, the size
    the head has at 299, and notes it: the head is training-only, so only its params count."""
    t = {"train_only": True}
    m = net.spatial_size(x)[0]  # the head's layers depend on it: the structure reads the input size
    if m >= AUX_MIN_MAP:
        p = net.add("AuxLogits.pool", AvgPool2d(kernel_size=5, stride=3, impl="functional"), x, **t)
    else:
        p = net.add("AuxLogits.pool", AdaptiveAvgPool2d(output_size=5, impl="functional"), x, **t)
    y = basic_conv(net, "AuxLogits.conv0", p, 128, 1, train_only=True)
    y = basic_conv(net, "AuxLogits.conv1", y, 768, 5, train_only=True)
    y = net.add("AuxLogits.avgpool", GlobalAvgPool2d(impl="functional"), y, **t)
    y = net.add("AuxLogits.flatten", Flatten(), y, **t)
    net.add("AuxLogits.fc", Linear(out_features=classes), y, **t)
    if m < AUX_MIN_MAP:
        params = sum(n.layer.params(net.input_shapes(n)) for n in net.layers() if n.name.startswith("AuxLogits."))
        net.notes.append(
            f"AuxLogits cannot run at res {res}: Mixed_6e is {m}x{m}, and its fixed 5x5/3 average pool "
            f"must leave 5x5 for its 5x5 conv (Mixed_6e >= {AUX_MIN_MAP}x{AUX_MIN_MAP}, res >= 299); "
            f"torchvision still builds the head, and calc counts its {params:,} params, shaping it as at "
            f"299 (an adaptive pool to 5x5): it is training-only, so no other figure depends on it")


VARIANT = Option("variant", str, "torchvision",
                 "'torchvision' (>= 0.3: stem max pools, final pool and dropout are modules) or "
                 "'torchvision_0.2' (0.2.2 and Cadene's wrapper: those are functional calls; same layers)",
                 choices=("torchvision", "torchvision_0.2"))


@register("inception_v3", family="Inception", summary="Inception v3 (torchvision; --aux: AuxLogits, training only)",
          source="Szegedy et al. 2015, arXiv 1512.00567; torchvision models/inception.py",
          options=(RES.with_default(299), CLASSES, VARIANT, AUX.with_default("true")))
def inception_v3(res: int, classes: int, variant: str, aux: str) -> Network:
    pool_impl = "functional" if variant == "torchvision_0.2" else "module"
    net = Network("inception_v3", (3, res, res))
    x = basic_conv(net, "Conv2d_1a_3x3", "input", 32, 3, stride=2)
    x = basic_conv(net, "Conv2d_2a_3x3", x, 32, 3)
    x = basic_conv(net, "Conv2d_2b_3x3", x, 64, 3, padding=1)
    x = net.add("maxpool1", MaxPool2d(kernel_size=3, stride=2, impl=pool_impl), x)
    x = basic_conv(net, "Conv2d_3b_1x1", x, 80, 1)
    x = basic_conv(net, "Conv2d_4a_3x3", x, 192, 3)
    x = net.add("maxpool2", MaxPool2d(kernel_size=3, stride=2, impl=pool_impl), x)
    for name, pool_features in INCEPTION_A:
        x = inception_a(net, name, x, pool_features)
    x = inception_b(net, "Mixed_6a", x)
    for name, c7 in INCEPTION_C:
        x = inception_c(net, name, x, c7)
    if aux == "true":
        aux_logits(net, x, classes, res)
    x = inception_d(net, "Mixed_7a", x)
    x = inception_e(net, "Mixed_7b", x)
    x = inception_e(net, "Mixed_7c", x)
    x = net.add("avgpool", GlobalAvgPool2d(impl=pool_impl), x)    # (F.)adaptive_avg_pool2d(x, (1, 1))
    x = net.add("dropout", Dropout(p=0.5, impl=pool_impl), x)
    x = net.add("flatten", Flatten(), x)
    net.add("fc", Linear(out_features=classes), x)
    return net
