"""Inception v3 at 299 and 224, with and without AuxLogits: exact counts against torchvision (today's
and 0.2.2) and the tools (today's and 2019's), and seed 000's rows."""
import pytest

import archs
from tests.conftest import counts, module_leaf_outputs, printed
from tests.spec.common import round_trips

G, M = 1e9, 1e6

# torchvision 0.29.1 inception_v3, measured outside the project on the CPU wheel (torch 2.14.1, thop
# 0.1.1.post2209072238, ptflops 0.7.5 pytorch backend, fvcore 0.1.5), eval mode, batch 1:
# `python tests/data/measure/zoo/measure_tv.py inception_v3@299 inception_v3_aux@299 inception_v3@224
# inception_v3_aux@224`, models.inception_v3(aux_logits=..., init_weights=False).
# params = sum of parameter numel; MACs = forward hooks on nn.Conv2d / nn.Linear; leaf = sum of
# leaf-module output numel; thop.profile, get_model_complexity_info(..., backend="pytorch"),
# FlopCountAnalysis(...).total().  AuxLogits does not run in eval mode: with it only params change
# (27,161,264 / 23,834,568 at either resolution).  The 299 row equals tests/data/torch_counts.json.
TORCHVISION = {  # res: MACs, leaf outputs, thop, ptflops, fvcore
    299: (5_713_216_096, 18_516_328, 5_749_219_168, 5_747_660_552, 5_731_282_144),
    224: (2_837_921_120, 9_608_392, 2_856_567_712, 2_855_804_792, 2_847_268_992),
}
# torchvision 0.2.2.post3's Inception3 (PyPI wheel; aux_logits=True), the same tools and hooks:
# `python tests/data/measure/zoo/measure_old_code_today_tools.py`; and ptflops at
# sovrasov/flops-counter.pytorch cf48e01 (2019-04-29) on it,
# `python tests/data/measure/zoo/measure_2019.py` (at 299 Cadene pretrainedmodels 0.7.4's
# inceptionv3, which wraps Inception3 with functional pools, gives the same 5,731,151,072).
TORCHVISION_0_2 = {  # res: leaf outputs, thop, ptflops, ptflops cf48e01
    299: (17_935_976, 5_749_086_048, 5_745_178_632, 5_731_151_072),
    224: (9_297_672, 2_856_514_464, 2_854_474_040, 2_847_217_792),
}


@pytest.mark.parametrize("res", sorted(TORCHVISION))
@pytest.mark.parametrize("aux", ["true", "false"])
def test_torchvision_exactly(res, aux):
    macs, leaf, thop, ptflops, fvcore = TORCHVISION[res]
    a = counts("inception_v3", res=res, aux=aux)
    assert a.totals["params"] == (27_161_264 if aux == "true" else 23_834_568)
    assert a.totals["macs"] == macs
    assert module_leaf_outputs(a) == leaf
    assert counts("inception_v3", "thop", res=res, aux=aux).totals["flops"] == thop
    assert counts("inception_v3", "ptflops", res=res, aux=aux).totals["flops"] == ptflops
    assert counts("inception_v3", "fvcore", res=res, aux=aux).totals["flops"] == fvcore


@pytest.mark.parametrize("res", sorted(TORCHVISION_0_2))
def test_torchvision_0_2_and_the_2019_ptflops(res):
    leaf, thop, ptflops, ptflops_2019 = TORCHVISION_0_2[res]
    options = {"res": res, "variant": "torchvision_0.2"}
    a = counts("inception_v3", **options)
    assert a.totals["params"] == 27_161_264 and a.totals["macs"] == TORCHVISION[res][0]  # same layers
    assert module_leaf_outputs(a) == leaf
    assert counts("inception_v3", "thop", **options).totals["flops"] == thop
    assert counts("inception_v3", "ptflops", **options).totals["flops"] == ptflops
    assert counts("inception_v3", "fvcore", **options).totals["flops"] == TORCHVISION[res][4]
    assert counts("inception_v3", "ptflops_2019", **options).totals["flops"] == ptflops_2019


def test_torchvision_weight_metadata():
    # torchvision 0.29.1 Inception_V3_Weights.IMAGENET1K_V1: "num_params": 27161264 (AuxLogits
    # included: inception_v3() keeps aux_logits=True), "_ops": 5.713
    assert counts("inception_v3").totals["params"] == 27_161_264
    assert printed(counts("inception_v3").totals["macs"] / G, "5.713")


def test_aux_logits_is_training_only_and_reported():
    net = archs.build("inception_v3")
    aux = [n for n in net.layers() if n.name.startswith("AuxLogits.")]
    assert len(aux) == 10 and all(n.train_only for n in aux)
    assert net["AuxLogits.pool"].inputs == ("Mixed_6e.cat",)
    assert net["AuxLogits.pool"].layer.op == "AvgPool2d" and net["AuxLogits.pool"].shape == (768, 5, 5)
    assert net["AuxLogits.conv1.conv"].shape == (768, 1, 1)
    a = counts("inception_v3")
    assert sum(c.macs for c in a.layers if c.name.startswith("AuxLogits.")) == 0
    assert any("3,326,696 params are counted, their MACs, FLOPs and memory are not" in n for n in a.notes)
    assert a.totals["feature_memory_bytes"] == counts("inception_v3", aux="false").totals["feature_memory_bytes"]


def test_aux_logits_at_224_keeps_its_params():
    # torchvision's AuxLogits cannot run at 224: Mixed_6e is 12x12, F.avg_pool2d(5, stride=3) leaves
    # 3x3 and its 5x5 conv fails in training mode; the model still has the head's params (27,161,264
    # at any size).  calc shapes the head as at 299 and says so.
    net = archs.build("inception_v3", res=224)
    assert net["Mixed_6e.cat"].shape == (768, 12, 12)
    assert net["AuxLogits.pool"].layer.op == "AdaptiveAvgPool2d" and net["AuxLogits.pool"].shape == (768, 5, 5)
    assert any("AuxLogits cannot run at res 224" in n and "3,326,696" in n for n in net.notes)
    assert not any("cannot run" in n for n in archs.build("inception_v3").notes)
    assert archs.build("inception_v3", res=350)["AuxLogits.conv1.conv"].shape == (768, 2, 2)  # 20x20 -> 6x6 -> 2x2
    assert counts("inception_v3", res=75).totals["params"] == 27_161_264  # torchvision's min_size


def test_structure():
    net = archs.build("inception_v3")
    assert net["Conv2d_1a_3x3.conv"].shape == (32, 149, 149) and net["maxpool2"].shape == (192, 35, 35)
    assert net["Mixed_6a.cat"].shape == (768, 17, 17) and net["Mixed_7c.cat"].shape == (2048, 8, 8)
    assert net["Mixed_6b.branch7x7_2.conv"].layer.kernel_size == (1, 7)
    assert net["Mixed_6b.branch7x7dbl_2.conv"].layer.kernel_size == (7, 1)
    assert net["Mixed_7b.branch3x3_2b.conv"].layer.padding == (1, 0)
    assert {net[n].layer.impl for n in ("Mixed_5b.pool", "Mixed_6a.pool", "Conv2d_1a_3x3.relu")} == {"functional"}
    assert net["maxpool1"].layer.impl == "module"
    assert archs.build("inception_v3", variant="torchvision_0.2")["maxpool1"].layer.impl == "functional"


@pytest.mark.parametrize("options", [{"res": 224}, {"res": 299, "variant": "torchvision_0.2", "aux": "false"}])
def test_export_round_trip_with_options(options, tmp_path):
    round_trips("inception_v3", options, tmp_path)


# Seed 000: Inception_v3 27.16 M / 2.85 G at 224 (ptflops' README "torchvision" table) and 27.16 /
# 5.73 at 299 (its "Cadene" table): torchvision's default model, AuxLogits' params included
@pytest.mark.parametrize("res,macs", [(224, "2.85"), (299, "5.73")])
def test_seed_000(res, macs):
    assert printed(counts("inception_v3", res=res).totals["params"] / M, "27.16")
    assert not printed(counts("inception_v3", res=res, aux="false").totals["params"] / M, "27.16")  # 23.83
    for variant in ("torchvision", "torchvision_0.2"):
        assert printed(counts("inception_v3", "ptflops_2019", res=res, variant=variant).totals["flops"] / G, macs)
