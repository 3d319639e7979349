"""DenseNet-121/161/169/201: exact counts against torchvision and the tools (today's and 2019's),
and seed 000's rows."""
import pytest

import archs
from calc.conventions import get_convention
from calc.layers import AvgPool2d
from tests.conftest import counts, module_leaf_outputs, printed

G, M = 1e9, 1e6

# Measured outside the project on the CPU wheel (torch 2.14.1, torchvision 0.29.1, thop
# 0.1.1.post2209072238, ptflops 0.7.5 pytorch backend, fvcore 0.1.5), eval mode, batch 1, 224x224,
# 1000 classes, `python tests/data/measure/zoo/measure_tv.py densenet121@224 ...`:
# params = sum(p.numel() for p in m.parameters()); MACs = forward hooks on every nn.Conv2d (output
# numel x in_channels/groups x kh x kw) and nn.Linear (in x out); leaf = sum of every leaf module's
# output numel; thop = thop.profile(m, (x,))[0]; ptflops = get_model_complexity_info(m, (3, 224, 224),
# as_strings=False, print_per_layer_stat=False, backend="pytorch")[0]; fvcore =
# FlopCountAnalysis(m, x).total().  (densenet121's row equals tests/data/torch_counts.json, torchvision 0.28.)
TORCHVISION = {  # name: params, MACs, leaf outputs, thop, ptflops, fvcore
    "densenet121": (7_978_856, 2_834_161_664, 38_561_256, 2_897_007_104, 2_899_843_048, 2_865_546_752),
    "densenet161": (28_681_000, 7_727_907_072, 70_363_432, 7_845_841_056, 7_850_193_256, 7_786_843_488),
    "densenet169": (14_149_480, 3_359_843_328, 45_648_616, 3_436_117_120, 3_438_996_968, 3_397_970_816),
    "densenet201": (20_013_928, 4_291_365_888, 57_565_416, 4_390_381_952, 4_393_349_608, 4_340_870_784),
}


@pytest.mark.parametrize("name", sorted(TORCHVISION))
def test_torchvision_exactly(name):
    params, macs, leaf, thop, ptflops, fvcore = TORCHVISION[name]
    a = counts(name)
    assert a.totals["params"] == params
    assert a.totals["macs"] == macs
    assert module_leaf_outputs(a) == leaf
    assert counts(name, "thop").totals["flops"] == thop
    assert counts(name, "ptflops").totals["flops"] == ptflops  # sees the head's F.relu and pool
    assert counts(name, "fvcore").totals["flops"] == fvcore


# torchvision 0.29.1 models/densenet.py, each weight's meta: "num_params" and "_ops" (GFLOPS printed
# to 3 decimals = conv + linear MACs)
META = {"densenet121": (7_978_856, "2.834"), "densenet161": (28_681_000, "7.728"),
        "densenet169": (14_149_480, "3.36"), "densenet201": (20_013_928, "4.291")}


@pytest.mark.parametrize("name", sorted(META))
def test_torchvision_weight_metadata(name):
    params, gops = META[name]
    assert counts(name).totals["params"] == params and printed(counts(name).totals["macs"] / G, gops)


# The 2019 tools on the 2019 code, measured outside the project
# (`python tests/data/measure/zoo/measure_2019.py`,
# `python tests/data/measure/zoo/thop2019_exact.py`): ptflops at sovrasov/flops-counter.pytorch
# cf48e01 (2019-04-29, ptflops/flops_counter.py) and thop at Lyken17/pytorch-OpCounter 1023a53
# (2019-09-02, thop/), run with torch 2.14.1 on torchvision 0.2.2.post3's densenet.py (PyPI wheel),
# 224x224.  thop then summed in float32 (2,898,380,288 / 7,848,606,720 / 3,438,141,952 /
# 4,392,687,616); the figures below are the same run with float64 accumulators
# (torch.set_default_dtype(torch.float64)).
TOOLS_2019 = {  # name: ptflops cf48e01, thop 1023a53, what thop's README printed (MACs(G))
    "densenet121": (2_882_619_136, 2_898_381_336, "2.90"),
    "densenet161": (7_818_355_584, 7_848_603_128, "7.85"),
    "densenet169": (3_418_361_088, 3_438_143_896, "3.44"),
    "densenet201": (4_366_968_576, 4_392_689_816, "4.39"),
}


@pytest.mark.parametrize("name", sorted(TOOLS_2019))
def test_the_2019_tools_to_the_unit(name):
    pt, th, thop_readme = TOOLS_2019[name]
    assert counts(name, "ptflops_2019").totals["flops"] == pt
    assert counts(name, "thop_2019").totals["flops"] == th
    assert printed(th / G, thop_readme)  # thop's own 2019 README (not the seed's source for these rows)


def test_thop_2019_multiplies_an_int_pool_window_once():
    # thop 1023a53 count_avgpool: (torch.prod(torch.Tensor([m.kernel_size])) + 1) per output, so
    # DenseNet's nn.AvgPool2d(kernel_size=2) costs 3 per output, a (2, 2) kernel 5
    thop19 = get_convention("thop_2019")
    shape, out = [(8, 4, 4)], (8, 2, 2)
    assert thop19.cost("AvgPool2d", "module", AvgPool2d(kernel_size=2, stride=2).counts(shape, out)) == 3 * 32
    assert thop19.cost("AvgPool2d", "module", AvgPool2d(kernel_size=(2, 2), stride=2).counts(shape, out)) == 5 * 32
    net = archs.build("densenet121")
    assert net["transition1.pool"].layer.kernel_size == 2
    # without the rule thop 2019 would be 526,848 short: 3 x the 175,616 outputs of the three transitions
    pools = [c for c in counts("densenet121").layers if c.op == "AvgPool2d"]
    assert sum(c.activations for c in pools) == 175_616
    assert sum(thop19.cost(c.op, c.impl, c.counts) for c in pools) == 526_848


def test_structure():
    net = archs.build("densenet121")
    # dense layer i reads the block input and the i - 1 new feature maps (layer 1 reads the input itself)
    assert net["denseblock1.denselayer1.norm1"].inputs == ("pool0",)
    assert len(net["denseblock1.denselayer6.cat"].inputs) == 6
    assert len(net["denseblock1.cat"].inputs) == 7 and net["denseblock1.cat"].shape == (256, 56, 56)
    assert net["transition1.conv"].shape == (128, 56, 56) and net["transition3.pool"].shape == (512, 7, 7)
    # the head: norm5 is a module, then F.relu and F.adaptive_avg_pool2d (functional)
    assert [net[n].layer.impl for n in ("norm5", "relu", "pool")] == ["module", "functional", "functional"]
    assert net["classifier"].shape == (1000,)
    assert archs.build("densenet161")["norm5"].shape == (2208, 7, 7)


# Seed 000 (copied from ptflops' README "torchvision" table, 2019-04): params (M) and MACs (G) as printed
SEED_000 = {"densenet121": ("7.98", "2.88"), "densenet161": ("28.68", "7.82"),
            "densenet169": ("14.15", "3.42"), "densenet201": ("20.01", "4.37")}


@pytest.mark.parametrize("name", sorted(SEED_000))
def test_seed_000(name):
    params, macs = SEED_000[name]
    assert printed(counts(name).totals["params"] / M, params)
    assert printed(counts(name, "ptflops_2019").totals["flops"] / G, macs)
    assert not printed(counts(name, "ptflops").totals["flops"] / G, macs)  # today's ptflops: 2.90, 7.85, 3.44, 4.39
