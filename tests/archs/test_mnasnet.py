"""MnasNet-B1 at depth multipliers 0.5 / 0.75 / 1.0 / 1.3: torchvision today (its _version 2) and
torchvision 0.4.0's first version (--variant torchvision_0.4, the model of seed 000's thop rows)."""
import pytest

import archs
from tests.conftest import counts, module_leaf_outputs, printed
from tests.spec.common import round_trips

G, M = 1e9, 1e6

# torchvision 0.29.1 mnasnet0_5 .. mnasnet1_3, measured outside the project on the CPU wheel (torch
# 2.14.1, thop 0.1.1.post2209072238, ptflops 0.7.5 pytorch backend, fvcore 0.1.5), eval mode, batch 1,
# 224x224: `python tests/data/measure/zoo/measure_tv.py mnasnet0_5@224 ...`.  params =
# sum of parameter numel; MACs = forward hooks on nn.Conv2d / nn.Linear; leaf = sum of leaf-module
# output numel; thop.profile, get_model_complexity_info(..., backend="pytorch"), FlopCountAnalysis.total().
# (alpha 1.0 equals tests/data/torch_counts.json, torchvision 0.28.)
TORCHVISION = {  # alpha: params, MACs, leaf outputs, thop, ptflops, fvcore
    0.5: (2_218_512, 104_455_968, 8_822_280, 116_717_728, 115_966_088, 110_586_848),
    0.75: (3_170_208, 215_493_104, 13_690_136, 234_553_712, 233_339_512, 225_023_408),
    1.0: (4_383_312, 314_415_872, 15_713_640, 336_242_432, 334_926_312, 325_329_152),
    1.3: (6_282_256, 526_362_432, 21_145_192, 555_771_840, 553_944_552, 541_067_136),
}
# torchvision 0.4.0's models/mnasnet.py (from the PyPI wheel torchvision-0.4.0-cp37), the same hooks
# and tools: `python tests/data/measure/zoo/measure_old_code_today_tools.py`; and thop at
# Lyken17/pytorch-OpCounter 1023a53 (2019-09-02, thop/) on it:
# `python tests/data/measure/zoo/measure_2019.py` (float32, as thop summed then: 142,658,240 /
# 241,853,824 / 337,521,440 / 529,980,960) and `python tests/data/measure/zoo/thop2019_exact.py`
# (float64 accumulators, below).
TORCHVISION_0_4 = {  # alpha: params, MACs, leaf outputs, thop, ptflops, fvcore, thop 1023a53
    0.5: (2_220_824, 125_605_152, 11_356_168, 141_379_232, 140_426_888, 133_492_192, 142_658_232),
    0.75: (3_170_656, 220_711_408, 14_292_248, 240_574_832, 239_360_632, 230_643_120, 241_853_832),
    1.0: (4_383_312, 314_415_872, 15_713_640, 336_242_432, 334_926_312, 325_329_152, 337_521_432),
    1.3: (6_279_432, 502_001_984, 19_213_416, 528_701_888, 527_075_304, 515_351_936, 529_980_888),
}


def check(ref, **options):
    params, macs, leaf, thop, ptflops, fvcore = ref[:6]
    a = counts("mnasnet", **options)
    assert a.totals["params"] == params
    assert a.totals["macs"] == macs
    assert module_leaf_outputs(a) == leaf
    assert counts("mnasnet", "thop", **options).totals["flops"] == thop
    assert counts("mnasnet", "ptflops", **options).totals["flops"] == ptflops
    assert counts("mnasnet", "fvcore", **options).totals["flops"] == fvcore


@pytest.mark.parametrize("alpha", sorted(TORCHVISION))
def test_torchvision_exactly(alpha):
    check(TORCHVISION[alpha], alpha=alpha)


@pytest.mark.parametrize("alpha", sorted(TORCHVISION_0_4))
def test_torchvision_0_4_exactly_and_thop_2019(alpha):
    ref = TORCHVISION_0_4[alpha]
    check(ref, alpha=alpha, variant="torchvision_0.4")
    assert counts("mnasnet", "thop_2019", alpha=alpha, variant="torchvision_0.4").totals["flops"] == ref[6]


def test_torchvision_weight_metadata():
    # torchvision 0.29.1 MNASNet*_Weights meta: "num_params" and "_ops" (GFLOPS = conv + linear MACs)
    meta = {0.5: (2_218_512, "0.104"), 0.75: (3_170_208, "0.215"), 1.0: (4_383_312, "0.314"), 1.3: (6_282_256, "0.526")}
    for alpha, (params, gops) in meta.items():
        t = counts("mnasnet", alpha=alpha).totals
        assert t["params"] == params and printed(t["macs"] / G, gops)


def test_the_two_versions_differ_in_the_stem_only():
    # torchvision >= 0.5 (_version 2): _get_depths scales [32, 16, 24, ...]; 0.4.0 scales from 24 on
    v2, v1 = archs.build("mnasnet", alpha=0.5), archs.build("mnasnet", alpha=0.5, variant="torchvision_0.4")
    assert (v2["stem.conv1"].shape[0], v2["stem.conv3"].shape[0]) == (16, 8)
    assert (v1["stem.conv1"].shape[0], v1["stem.conv3"].shape[0]) == (32, 16)
    assert v1["stack1.block0.conv1"].shape[0] == 16 * 3 and v2["stack1.block0.conv1"].shape[0] == 8 * 3
    later = [n.name for n in v2.layers() if not n.name.startswith(("stem.", "stack1.block0."))]
    assert all(v1[n].shape == v2[n].shape for n in later)
    assert counts("mnasnet").totals == counts("mnasnet", variant="torchvision_0.4").totals  # alpha 1
    assert v2["stack4.block1.add"].inputs == ("stack4.block1.bn3", "stack4.block0.bn3")
    assert v2["pool"].layer.impl == "operator" and v2["pool"].shape == (1280,)  # x.mean([2, 3])
    assert archs.build("mnasnet", alpha=1.3)["head.conv"].shape[0] == 1280


def test_export_round_trip_of_the_first_version(tmp_path):
    round_trips("mnasnet", {"alpha": 0.5, "variant": "torchvision_0.4"}, tmp_path)


# Seed 000 (copied from thop's README "Results of Recent Models", 1023a53, 2019-09-02): params (M),
# MACs (G).  Params round the same on both versions; MACs need 0.4.0's model at 0.5 and 1.3.
SEED_000 = {0.5: ("2.22", "0.14"), 0.75: ("3.17", "0.24"), 1.0: ("4.38", "0.34"), 1.3: ("6.28", "0.53")}


@pytest.mark.parametrize("alpha", sorted(SEED_000))
def test_seed_000(alpha):
    params, macs = SEED_000[alpha]
    for variant in ("torchvision", "torchvision_0.4"):
        assert printed(counts("mnasnet", alpha=alpha, variant=variant).totals["params"] / M, params)
    assert printed(TORCHVISION_0_4[alpha][6] / G, macs)
    today = counts("mnasnet", "thop_2019", alpha=alpha).totals["flops"]
    assert printed(today / G, macs) == (alpha in (0.75, 1.0))  # 0.5: 0.12, 1.3: 0.56
