"""MobileNet v3 Large/Small: exact against torchvision 0.29.1 and the tools, the paper's
tables as built, the TF-slim multiplier, and the published numbers' verdicts."""
import pytest

import archs
from archs.mobilenet_v3 import LARGE, SMALL
from calc.check import run_check
from tests.archs.reference import assert_matches, block_inputs, printed_block_inputs
from tests.conftest import counts, module_leaf_outputs
from tests.spec.common import layers_of

# torchvision 0.29.1 mobilenet_v3_large / mobilenet_v3_small(width_mult=alpha), 224x224, measured
# as tests/archs/reference.py describes (python tests/data/measure/torchvision_timm/measure.py --tools
# mobilenet_v3_large mobilenet_v3_small; mobilenet_v3_large~width_mult=0.75 ...)
TORCHVISION = {
    ("mobilenet_v3_large", 1.0): {"params": 5_483_032, "conv_macs": 214_080_960, "linear_macs": 2_508_800,
                                  "leaf_output_elems": 12_643_984, "thop_macs": 234_838_456,
                                  "ptflops_macs": 231_316_416, "fvcore_total": 226_033_824},
    ("mobilenet_v3_large", 0.75): {"params": 3_377_576, "conv_macs": 138_382_616, "linear_macs": 1_651_200,
                                   "leaf_output_elems": 10_030_480},
    ("mobilenet_v3_large", 0.5): {"params": 1_734_576, "conv_macs": 64_014_992, "linear_macs": 947_200,
                                  "leaf_output_elems": 6_565_600},
    ("mobilenet_v3_large", 1.25): {"params": 8_164_744, "conv_macs": 339_941_000, "linear_macs": 3_520_000,
                                   "leaf_output_elems": 16_203_008},
    ("mobilenet_v3_small", 1.0): {"params": 2_542_856, "conv_macs": 54_896_576, "linear_macs": 1_613_824,
                                  "leaf_output_elems": 4_106_768, "thop_macs": 62_477_944,
                                  "ptflops_macs": 60_910_032, "fvcore_total": 59_649_536},
    ("mobilenet_v3_small", 0.75): {"params": 1_653_920, "conv_macs": 38_015_800, "linear_macs": 1_099_776,
                                   "leaf_output_elems": 3_343_832},
    ("mobilenet_v3_small", 0.5): {"params": 917_264, "conv_macs": 18_311_280, "linear_macs": 659_456,
                                  "leaf_output_elems": 2_141_736},
    ("mobilenet_v3_small", 0.35): {"params": 558_744, "conv_macs": 10_809_816, "linear_macs": 429_120,
                                   "leaf_output_elems": 1_557_056},
}


@pytest.mark.parametrize("name,alpha", sorted(TORCHVISION))
def test_equals_torchvision(name, alpha):
    ref = TORCHVISION[(name, alpha)]
    assert_matches(name, ref, alpha=alpha)
    # every nn.Module torchvision runs is a node with impl "module" (hook tools see exactly these)
    assert module_leaf_outputs(counts(name, alpha=alpha)) == ref["leaf_output_elems"]


def test_torchvision_weights_meta():
    # torchvision 0.29.1 MobileNet_V3_{Large,Small}_Weights.IMAGENET1K_V1.meta: _ops 0.217 / 0.057 (GMACs)
    assert round(counts("mobilenet_v3_large").totals["macs"] / 1e9, 3) == 0.217
    assert round(counts("mobilenet_v3_small").totals["macs"] / 1e9, 3) == 0.057


@pytest.mark.parametrize("name,model", [("mobilenet_v3_large", LARGE), ("mobilenet_v3_small", SMALL)])
def test_block_inputs_are_the_tables(name, model):
    # every bneck row's input as Tables 1 and 2 of the final version print it (archs/data/stage_tables.yaml)
    net = archs.build(name)
    names = [f"block{i}" for i in range(1, len(model.rows) + 1)]
    assert block_inputs(net, names) == printed_block_inputs(name)


def test_block_structure():
    net = archs.build("mobilenet_v3_large")
    assert "block1.expand.conv" not in net  # exp 16 == input 16: no expansion conv
    assert net["block4.se.fc1"].shape == (24, 1, 1)  # make_divisible(72 // 4) = 24
    assert net["block4.se.pool"].layer.impl == "module"  # nn.AdaptiveAvgPool2d(1)
    assert net["block4.se.gate"].layer.op == "HardSigmoid" and net["block4.se.act"].layer.op == "ReLU"
    assert net["block4.se.scale"].layer.impl == "operator"  # `scale * input`
    assert net["block4.dw.act"].layer.op == "ReLU" and net["block7.dw.act"].layer.op == "HardSwish"
    assert net["block3.add"].inputs == ("block3.project.bn", "block2.project.bn")
    assert net["last.conv"].shape == (960, 7, 7) and net["fc1"].shape == (1280,)
    small = archs.build("mobilenet_v3_small", alpha=0.35)
    # the conv before the pool has 6x the last output (6 x 32), not make_divisible(576 x 0.35) = 200
    assert small["last.conv"].shape[0] == 192


def test_tf_slim_multiplier():
    # at alpha 1 TF-slim's V3_LARGE / V3_SMALL are torchvision's layers
    for name in ("mobilenet_v3_large", "mobilenet_v3_small"):
        assert layers_of(archs.build(name, variant="tf_slim")) == layers_of(archs.build(name))
    tv = archs.build("mobilenet_v3_large", alpha=0.75)
    tf = archs.build("mobilenet_v3_large", alpha=0.75, variant="tf_slim")
    # stem 16 x 0.75 = 12 rounds up to 16 in both; TF-slim expands block 2 by 64 / 16 = 4 of it,
    # torchvision scales the printed 64 to 48
    assert tv["stem.conv"].shape[0] == tf["stem.conv"].shape[0] == 16
    assert (tv["block2.expand.conv"].shape[0], tf["block2.expand.conv"].shape[0]) == (48, 64)
    # 184 / 80 x 64 = 147.2 -> 144 in TF-slim; torchvision make_divisible(184 x 0.75) = 136
    assert (tv["block9.expand.conv"].shape[0], tf["block9.expand.conv"].shape[0]) == (136, 144)
    assert tv["last.conv"].shape[0] == tf["last.conv"].shape[0] == 720
    assert (tv["fc1"].shape, tf["fc1"].shape) == ((960,), (1280,))  # finegrain_classification_mode


def test_hidden_option_is_the_first_versions_small():
    base, v1 = counts("mobilenet_v3_small"), counts("mobilenet_v3_small", hidden=1280)
    # only the two Linear layers change: 576 -> 1280 (+bias) -> 1000 instead of 576 -> 1024 -> 1000
    assert v1.totals["params"] - base.totals["params"] == (1280 - 1024) * (576 + 1 + 1000)
    assert v1.totals["macs"] - base.totals["macs"] == (1280 - 1024) * (576 + 1000)


def test_published_numbers_verdicts():
    # archs/data/published/mobilenet_v3.yaml: the paper's two versions and the TF-slim zoo
    report = run_check(list(archs.published()), list(archs.stage_tables()), archs.get,
                       names=("mobilenet_v3_large", "mobilenet_v3_small"))
    assert report["summary"]["disagrees"] == 0 and report["summary"]["unexplained_inconsistencies"] == 0
    unverified = sorted((r["arch"], r["printed"], r["source"][:40]) for r in report["entries"]
                        if r["verdict"] == "explained" and not r["verified"])
    assert unverified == [  # the four numbers no model reproduces, each with its reason in the data
        ("mobilenet_v3_large", "219", "MobileNet v3 paper, final version (arXiv"),
        ("mobilenet_v3_large", "219", "MobileNet v3 paper, first version (arXiv"),
        ("mobilenet_v3_small", "66", "MobileNet v3 paper, first version (arXiv"),
        ("mobilenet_v3_small", "66", "TF-slim MobileNet v3 zoo (research/slim/"),
    ]
    by = {(r["arch"], r["config"].get("alpha", 1.0), r["quantity"], r["source"][:30]): r for r in report["entries"]}
    # the 0.75 rows are TF-slim's model: 154,560,624 MACs -> 155, 3,993,528 params -> 4.0
    zoo = "TF-slim MobileNet v3 zoo (rese"
    assert by[("mobilenet_v3_large", 0.75, "macs", zoo)]["by_method"] == "155"
    assert by[("mobilenet_v3_large", 0.75, "params", zoo)]["by_method"] == "4.0"
    assert by[("mobilenet_v3_large", 1.0, "macs", zoo)]["verdict"] == "agrees"  # 216.59 -> 217
