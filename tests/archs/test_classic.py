"""AlexNet, SqueezeNet, VGG and DarkNet-53: exact counts against torchvision and the tools,
and every published figure of seeds 000 and 003, each with the rule that reproduces it."""
import pytest

import archs
from calc.conventions import get_convention
from calc.counting import analyze
from tests.conftest import counts, module_leaf_outputs, printed

G, M = 1e9, 1e6


def truncated(value: float, text: str) -> bool:
    """``value`` cut (not rounded) to ``text``'s number of decimals is ``text``."""
    decimals = len(text.split(".")[1]) if "." in text else 0
    return f"{int(value * 10 ** decimals) / 10 ** decimals:.{decimals}f}" == text


# ---------------------------------------------------------------------------
# torchvision, exactly (tests/data/torch_counts.json: torchvision 0.28, thop
# 0.1.1.post2209072238, ptflops 0.7.5 pytorch backend, fvcore 0.1.5; batch 1, 224, 1000 classes)

# (the comparison with every field of torch_counts.json is tests/test_conventions.py::
# test_reference_models_match_torchvision_and_the_tools)


def test_pinned_integers():
    # the same reference, written out
    assert counts("squeezenet1_0").totals["params"] == 1_248_424
    assert counts("squeezenet1_0").totals["macs"] == 818_924_576
    assert module_leaf_outputs(counts("squeezenet1_0")) == 9_333_112
    assert counts("squeezenet1_0", "ptflops").totals["flops"] == 836_821_960
    assert counts("vgg16").totals["params"] == 138_357_544
    assert counts("vgg16").totals["macs"] == 15_470_264_320
    assert module_leaf_outputs(counts("vgg16")) == 28_676_072
    assert counts("vgg16", "thop").totals["flops"] == 15_470_314_496


# torchvision models/{alexnet,squeezenet,vgg}.py (>= 0.14), each weight's meta:
# "num_params" (exact) and "_ops" (GFLOPS at 224 = conv + linear MACs, printed to 3 decimals)
TORCHVISION_META = [
    ("alexnet", 61_100_840, "0.714"), ("squeezenet1_0", 1_248_424, "0.819"),
    ("squeezenet1_1", 1_235_496, "0.349"),
    ("vgg11", 132_863_336, "7.609"), ("vgg11_bn", 132_868_840, "7.609"),
    ("vgg13", 133_047_848, "11.308"), ("vgg13_bn", 133_053_736, "11.308"),
    ("vgg16", 138_357_544, "15.470"), ("vgg16_bn", 138_365_992, "15.470"),
    ("vgg19", 143_667_240, "19.632"), ("vgg19_bn", 143_678_248, "19.632"),
]


@pytest.mark.parametrize("name,params,gops", TORCHVISION_META)
def test_torchvision_weight_metadata(name, params, gops):
    t = counts(name).totals
    assert t["params"] == params
    assert printed(t["macs"] / G, gops)


# ---------------------------------------------------------------------------
# Seed 000 (copied from the pytorch-OpCounter / flops-counter.pytorch READMEs of 2019):
# params in M, "MACs(GFLOPS)".  Params are torchvision's, rounded; the MACs are ptflops'
# benchmark table of 2019 (our ptflops_2019 convention), which reproduces all eleven.

SEED_000 = [
    ("alexnet", "61.10", "0.72"), ("vgg11", "132.86", "7.63"), ("vgg11_bn", "132.87", "7.64"),
    ("vgg13", "133.05", "11.34"), ("vgg13_bn", "133.05", "11.36"), ("vgg16", "138.36", "15.5"),
    ("vgg16_bn", "138.37", "15.53"), ("vgg19", "143.67", "19.67"), ("vgg19_bn", "143.68", "19.70"),
    ("squeezenet1_0", "1.25", "0.83"), ("squeezenet1_1", "1.24", "0.36"),
]


@pytest.mark.parametrize("name,params,macs", SEED_000)
def test_seed_000(name, params, macs):
    assert printed(counts(name).totals["params"] / M, params)
    assert printed(counts(name, "ptflops_2019").totals["flops"] / G, macs)


# ---------------------------------------------------------------------------
# Seed 003 (PaddleClas "Other models"): FLOPs (G) and Params (M), printed "1.370 / 61.090".
#
# Params: Paddle 1.x model_stat counts a conv2d op's Filter only (static-graph convs and FCs
# add their bias in a separate elementwise_add op it skips) and each FC mul op as in x out + 1.
# That count, cut to two decimals, is every printed figure; rounding would print 133.04 for
# VGG13 (133,035,715) and 41.61 for DarkNet53 (41,608,929).  The table pads to 3 decimals.
#
# FLOPs: model_stat again on PaddleClas' definitions (SqueezeNet: floor-mode pools; 1.1: a
# padded stem): conv 2 x MACs (no bias: see above), FC MACs once, BN 2/elem, pools out x
# window, ReLU minus its elements (Paddle's -1 batch dim; our 'paddle' convention, whose
# conv bias term is 0 here because the static conv2d op has no Bias input).

SEED_003 = [  # name, options, printed FLOPs (G), printed params (M)
    ("alexnet", {}, "1.370", "61.090"),
    ("squeezenet1_0", {"variant": "paddle"}, "1.550", "1.240"),
    ("squeezenet1_1", {"variant": "paddle"}, "0.690", "1.230"),
    ("vgg11", {}, "15.090", "132.850"),
    ("vgg13", {}, "22.480", "133.030"),
    ("vgg16", {}, "30.810", "138.340"),
    ("vgg19", {}, "39.130", "143.650"),
    ("darknet53", {"res": 256}, "18.580", "41.600"),
]

PADDLE_STATIC = get_convention("paddle")  # model_stat on a static program (calc/conventions.toml)


def paddle_model_stat_params(net):
    """Params as Paddle 1.x model_stat counts them: the paddle convention's [paddle.params]."""
    return analyze(net, convention=PADDLE_STATIC).totals["convention_params"]


@pytest.mark.parametrize("name,options,flops,params", SEED_003)
def test_seed_003_params_are_model_stat_truncated(name, options, flops, params):
    net = archs.build(name, **options)
    assert truncated(paddle_model_stat_params(net) / M, params[:-1])


@pytest.mark.parametrize("name,options,flops,params", SEED_003)
def test_seed_003_flops_within_printed_precision(name, options, flops, params):
    # cut to 2 decimals, 7 of 8 match exactly; VGG16 counts 30.8095 and prints 30.81
    f = analyze(archs.build(name, **options), convention=PADDLE_STATIC).totals["flops"] / G
    assert abs(f - float(flops)) < 0.01


def test_seed_003_param_difference_is_biases_and_fc_ops():
    # AlexNet: 61,100,840 (torchvision, = PaddleClas' dygraph model) - 10,344 biases + 3 FC ops
    net = archs.build("alexnet")
    assert analyze(net).totals["params"] - paddle_model_stat_params(net) == 10_344 - 3
    assert paddle_model_stat_params(net) == 61_090_499


# ---------------------------------------------------------------------------
# Shapes and variants

def test_alexnet_and_vgg_shapes():
    a = archs.build("alexnet")
    assert a["features.pool5"].shape == (256, 6, 6)
    assert a["avgpool"].shape == (256, 6, 6)  # AdaptiveAvgPool2d(6) is the identity at 224
    v = archs.build("vgg16")
    assert v["features.pool5"].shape == (512, 7, 7)
    assert sum(1 for n in v.layers() if n.layer.op == "Conv2d") == 13


def test_squeezenet_variants_same_params_different_maps():
    tv, pd = archs.build("squeezenet1_0"), archs.build("squeezenet1_0", variant="paddle")
    assert analyze(tv).totals["params"] == analyze(pd).totals["params"] == 1_248_424
    assert tv["features.pool3"].shape == (512, 13, 13)  # ceil mode
    assert pd["features.pool3"].shape == (512, 12, 12)  # floor mode (PaddleClas)
    assert archs.build("squeezenet1_1", variant="paddle")["features.conv1"].shape == (64, 112, 112)
    assert archs.build("squeezenet1_1")["features.conv1"].shape == (64, 111, 111)


def test_darknet53():
    net = archs.build("darknet53")
    assert net.input_shape == (3, 256, 256)  # PaddleClas measures it at 256
    a = analyze(net)
    assert a.totals["params"] == 41_609_928
    assert a.totals["macs"] == 9_285_115_904
    convs = [n for n in net.layers() if n.layer.op == "Conv2d"]
    assert len(convs) + 1 == 53  # 52 convs + the FC: the "53" of the name
    assert net["stage4.unit3.add"].shape == (1024, 8, 8)
