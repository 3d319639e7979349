"""EfficientNet B0-B7: exact against torchvision 0.29.1 and the tools at each variant's
resolution, the compound scaling, "same" padding, and the published numbers' verdicts."""
import json
import math

import pytest

import archs
from archs.efficientnet import B0, SCALES
from calc.check import run_check
from calc.layers.spatial import window_out
from calc.counting import analyze
from calc.spec import export, loads_spec
from tests.archs.reference import assert_matches
from tests.conftest import counts, module_leaf_outputs

# torchvision 0.29.1 efficientnet_b0 .. b7 at the paper's resolution (and B2 at its weights' crop, 288),
# measured as tests/archs/reference.py describes
# (python tests/data/measure/torchvision_timm/measure.py [--tools] efficientnet_b0
# efficientnet_b1@240 efficientnet_b2@260 ...)
TORCHVISION = {
    ("b0", 224): {"params": 5_288_548, "conv_macs": 384_534_752, "linear_macs": 1_280_000,
                  "leaf_output_elems": 19_874_240, "thop_macs": 415_145_024, "ptflops_macs": 410_196_896,
                  "fvcore_total": 401_659_392},
    ("b1", 240): {"params": 7_794_184, "conv_macs": 685_522_832, "linear_macs": 1_280_000,
                  "leaf_output_elems": 32_224_200, "thop_macs": 734_485_616, "ptflops_macs": 726_705_368,
                  "fvcore_total": 712_732_416},
    ("b2", 260): {"params": 9_109_994, "conv_macs": 992_153_872, "linear_macs": 1_408_000,
                  "leaf_output_elems": 40_969_148},
    ("b2", 288): {"params": 9_109_994, "conv_macs": 1_086_121_456, "linear_macs": 1_408_000,
                  "leaf_output_elems": 47_979_388},
    ("b3", 300): {"params": 12_233_232, "conv_macs": 1_825_605_392, "linear_macs": 1_536_000,
                  "leaf_output_elems": 70_559_480},
    ("b4", 380): {"params": 19_341_616, "conv_macs": 4_391_979_024, "linear_macs": 1_792_000,
                  "leaf_output_elems": 146_922_928},
    ("b5", 456): {"params": 30_389_784, "conv_macs": 10_264_336_752, "linear_macs": 2_048_000,
                  "leaf_output_elems": 294_158_008},
    ("b6", 528): {"params": 43_040_704, "conv_macs": 19_065_289_536, "linear_macs": 2_304_000,
                  "leaf_output_elems": 498_299_320},
    ("b7", 600): {"params": 66_347_960, "conv_macs": 37_743_324_192, "linear_macs": 2_560_000,
                  "leaf_output_elems": 864_484_392},
}


@pytest.mark.parametrize("variant,res", sorted(TORCHVISION))
def test_equals_torchvision(variant, res):
    ref = TORCHVISION[(variant, res)]
    assert_matches(f"efficientnet_{variant}", ref, res=res)
    # StochasticDepth, a leaf nn.Module torchvision runs before each residual add, is a Dropout node here
    assert module_leaf_outputs(counts(f"efficientnet_{variant}", res=res)) == ref["leaf_output_elems"]


def test_default_resolution_is_the_variants():
    # the TF reference's efficientnet_params (and torchvision's crop sizes but B2's 288)
    expected = {"b0": 224, "b1": 240, "b2": 260, "b3": 300, "b4": 380, "b5": 456, "b6": 528, "b7": 600}
    for v, res in expected.items():
        assert archs.build(f"efficientnet_{v}").input_shape == (3, res, res)
        assert SCALES[v].res == res


def test_torchvision_weights_meta():
    # torchvision 0.29.1 EfficientNet_B*_Weights.IMAGENET1K_V1.meta "_ops" (GMACs at crop_size)
    ops = {"b0": 0.386, "b1": 0.687, "b2": 1.088, "b3": 1.827, "b4": 4.394, "b5": 10.266, "b6": 19.068, "b7": 37.746}
    for v, printed in ops.items():
        res = 288 if v == "b2" else SCALES[v].res
        assert round(counts(f"efficientnet_{v}", res=res).totals["macs"] / 1e9, 3) == printed


def test_compound_scaling_of_depth_and_width():
    # repeats ceil(n x depth): B7 (depth 3.1) has 4, 7, 7, 10, 10, 13, 4 blocks per stage (55 in all)
    net = archs.build("efficientnet_b7", res=64)
    per_stage = [len({n.name.split(".")[1] for n in net.layers() if n.name.startswith(f"stage{s}.")})
                 for s in range(1, 8)]
    assert per_stage == [math.ceil(row.n * 3.1) for row in B0] == [4, 7, 7, 10, 10, 13, 4]
    # widths make_divisible(c x 2.0); the head is 4 x the last stage: 640 -> 2560
    assert net["stem.conv"].shape[0] == 64 and net["head.conv"].shape[0] == 2560
    b0 = archs.build("efficientnet_b0")
    assert b0["head.conv"].shape[0] == 1280  # Table 1's Conv1x1 to 1280
    assert "stage1.block0.expand.conv" not in b0  # MBConv1: no expansion
    assert b0["stage2.block1.se.fc1"].shape == (6, 1, 1)  # SE squeezes the block input: 24 // 4
    assert b0["stage2.block1.se.act"].layer.op == "SiLU" and b0["stage2.block1.se.gate"].layer.op == "Sigmoid"
    # stochastic depth 0.2 x block index / 16 blocks, before the add of residual blocks
    assert b0["stage2.block1.stochastic_depth"].layer.p == pytest.approx(0.2 * 2 / 16)


def test_tf_same_padding_gives_the_same_counts():
    # TF "same" (ceil(n / s), padding asymmetric) and PyTorch's (k - 1) // 2 on both sides agree on
    # every input size for the odd kernels of EfficientNet
    for k in (1, 3, 5):
        for s in (1, 2):
            for n in range(2, 70):
                assert window_out("Conv2d", "H", n, k, s, "same") == window_out("Conv2d", "H", n, k, s, (k - 1) // 2)
    # and the whole network, every conv rewritten to padding "same", counts the same (B2 at 260: odd maps)
    doc = export("efficientnet_b2")
    for layer in doc["layers"]:
        if layer["type"] == "Conv2d":
            layer["padding"] = "same"
    same = loads_spec(json.dumps(doc), label="b2.json", fmt="json").build()
    ref = counts("efficientnet_b2")
    assert analyze(same).totals == ref.totals


def test_published_numbers_verdicts():
    names = tuple(f"efficientnet_{v}" for v in SCALES)
    report = run_check(list(archs.published()), list(archs.stage_tables()), archs.get, names=names)
    assert report["summary"]["disagrees"] == 0
    unverified = sorted((r["arch"], r["quantity"], r["printed"]) for r in report["entries"]
                        if r["verdict"] == "explained" and not r["verified"])
    # EfficientNet Table 2 entries that are no count of the authors' networks (each explained in the data)
    assert unverified == [("efficientnet_b1", "macs", "0.70"), ("efficientnet_b2", "params", "9.2"),
                          ("efficientnet_b4", "macs", "4.2"), ("efficientnet_b5", "macs", "9.9"),
                          ("efficientnet_b7", "macs", "37")]
    agree = {(r["arch"], r["quantity"]) for r in report["entries"] if r["verdict"] == "agrees"
             and "Table 2" in r["source"]}
    assert ("efficientnet_b0", "macs") in agree and ("efficientnet_b6", "macs") in agree
