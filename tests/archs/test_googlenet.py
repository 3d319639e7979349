"""GoogLeNet: torchvision's (default) and BVLC's Caffe model (--variant bvlc), with and without the
auxiliary classifiers, against torchvision and the tools; seed 000's 7.00 M / 1.60 G row."""
import pytest

import archs
from calc.check import run_check
from tests.conftest import counts, module_leaf_outputs, printed
from tests.spec.common import round_trips

G, M = 1e9, 1e6

# torchvision 0.29.1 googlenet, measured outside the project on the CPU wheel (torch 2.14.1, thop
# 0.1.1.post2209072238, ptflops 0.7.5 pytorch backend, fvcore 0.1.5), eval mode, batch 1, 224x224:
# `python tests/data/measure/zoo/measure_tv.py googlenet@224 googlenet_aux@224`, with
# models.googlenet(aux_logits=False / True, init_weights=False).  params = sum of parameter numel;
# MACs = forward hooks on nn.Conv2d (output numel x in/groups x kh x kw) and nn.Linear (in x out);
# leaf = sum of leaf-module output numel; thop.profile, get_model_complexity_info(..., backend=
# "pytorch"), FlopCountAnalysis(...).total().  The aux heads do not run in eval mode: only params differ.
TORCHVISION = {  # aux: params, MACs, leaf outputs, thop, ptflops, fvcore
    "false": (6_624_904, 1_498_376_192, 7_872_840, 1_511_332_032, 1_513_907_448, 1_504_878_688),
    "true": (13_004_888, 1_498_376_192, 7_872_840, 1_511_332_032, 1_513_907_448, 1_504_878_688),
}

# BVLC GoogLeNet (BVLC/caffe models/bvlc_googlenet/deploy.prototxt, aux heads loss1/loss2 of
# train_val.prototxt) written in torch from the prototxt (nn.Conv2d with bias + nn.ReLU, ceil-mode
# nn.MaxPool2d, nn.LocalResponseNorm(5, 1e-4, 0.75), nn.AvgPool2d(7, 1)), outside the project:
# `python tests/data/measure/zoo/bvlc_googlenet.py` with the tool versions above, plus ptflops
# cf48e01 and thop 1023a53 (float64 accumulators).  Independent check of the params:
# convnet-burden's reports/googlenet.md (the MatConvNet import of the same Caffe model, both aux
# heads included) prints "Model params 51 MB": 13,378,280 x 4 bytes = 51.03 MiB.
BVLC = {"params": 6_998_552, "params_aux": 13_378_280, "macs": 1_582_671_872, "thop": 1_582_672_896,
        "ptflops": 1_601_439_480, "fvcore": 1_582_671_872, "ptflops_2019": 1_592_050_080,
        "thop_2019": 1_586_929_224}


@pytest.mark.parametrize("aux", sorted(TORCHVISION))
def test_torchvision_exactly(aux):
    params, macs, leaf, thop, ptflops, fvcore = TORCHVISION[aux]
    a = counts("googlenet", aux=aux)
    assert a.totals["params"] == params
    assert a.totals["macs"] == macs
    assert module_leaf_outputs(a) == leaf
    assert counts("googlenet", "thop", aux=aux).totals["flops"] == thop
    assert counts("googlenet", "ptflops", aux=aux).totals["flops"] == ptflops
    assert counts("googlenet", "fvcore", aux=aux).totals["flops"] == fvcore


def test_torchvision_weight_metadata():
    # torchvision 0.29.1 GoogLeNet_Weights.IMAGENET1K_V1: "num_params": 6624904, "_ops": 1.498
    # (the weights come without the aux heads; the bare GoogLeNet class builds them by default)
    assert counts("googlenet").totals["params"] == 6_624_904
    assert printed(counts("googlenet").totals["macs"] / G, "1.498")


def test_bvlc_against_a_torch_port_and_the_tools():
    assert counts("googlenet", variant="bvlc").totals["params"] == BVLC["params"]
    assert counts("googlenet", variant="bvlc", aux="true").totals["params"] == BVLC["params_aux"]
    assert counts("googlenet", variant="bvlc").totals["macs"] == BVLC["macs"]
    for tool in ("thop", "ptflops", "fvcore", "ptflops_2019", "thop_2019"):
        assert counts("googlenet", tool, variant="bvlc").totals["flops"] == BVLC[tool], tool


def test_the_two_designs():
    tv, bvlc = archs.build("googlenet"), archs.build("googlenet", variant="bvlc")
    # torchvision's "5x5" branch is a 3x3 conv (pytorch/vision#906); BVLC's is 5x5
    assert tv["inception3a.branch3.1.conv"].layer.kernel_size == 3
    assert bvlc["inception3a.branch3.1.conv"].layer.kernel_size == 5
    assert not tv["conv1.conv"].layer.bias and bvlc["conv1.conv"].layer.bias
    assert tv["conv1.bn"].layer.eps == 1e-3 and tv["conv1.relu"].layer.impl == "functional"
    assert "conv1.bn" not in bvlc and bvlc["conv1.relu"].layer.impl == "module"
    assert bvlc["norm1"].layer.size == 5 and bvlc["norm2"].shape == (192, 56, 56)
    # ceil-mode pools: 112 -> 56 -> 28 -> 14 -> 7 in both
    for net in (tv, bvlc):
        assert [net[p].shape[1] for p in ("maxpool1", "maxpool2", "maxpool3", "maxpool4")] == [56, 28, 14, 7]
        assert net["inception5b.cat"].shape == (1024, 7, 7)
    assert bvlc["pool5"].layer.kernel_size == 7 and bvlc["dropout"].layer.p == 0.4


def test_aux_heads_are_training_only():
    net = archs.build("googlenet", aux="true")
    aux = [n for n in net.layers() if n.name.startswith(("aux1.", "aux2."))]
    assert aux and all(n.train_only for n in aux)
    assert net["aux1.pool"].inputs == ("inception4a.cat",) and net["aux1.pool"].shape == (512, 4, 4)
    assert net["aux2.fc1"].layer.out_features == 1024 and net["aux2.fc2"].shape == (1000,)
    a = counts("googlenet", aux="true")
    assert a.totals["params"] - counts("googlenet").totals["params"] == 6_379_984
    assert sum(c.macs for c in a.layers if c.name.startswith("aux")) == 0
    assert a.totals["peak_memory_bytes"] == counts("googlenet").totals["peak_memory_bytes"]
    assert any("6,379,984 params are counted, their MACs, FLOPs and memory are not" in n for n in a.notes)
    assert archs.build("googlenet", variant="bvlc", aux="true")["aux1.pool"].shape == (512, 4, 4)


@pytest.mark.parametrize("options", [{"aux": "true"}, {"variant": "bvlc", "aux": "true"}, {"variant": "bvlc", "res": 256}])
def test_export_round_trip_with_options(options, tmp_path):
    round_trips("googlenet", options, tmp_path)


def test_seed_000_row_is_bvlc():
    # seed 000: "GoogLeNet | 224x224 | 7.00 | 1.60" (params M, MACs G); in no README of thop or ptflops
    assert printed(counts("googlenet", variant="bvlc").totals["params"] / M, "7.00")
    assert not printed(counts("googlenet").totals["params"] / M, "7.00")          # torchvision's: 6.62
    assert not printed(counts("googlenet", aux="true").totals["params"] / M, "7.00")  # 13.00
    # 1.60 to two decimals: none of the 2019 rules on either model ...
    for name in ("ptflops_2019", "thop_2019", "macs"):
        for variant in ("torchvision", "bvlc"):
            a = counts("googlenet", name, variant=variant)
            assert not printed((a.totals["flops"] if name != "macs" else a.totals["macs"]) / G, "1.60")
    # ... only ptflops >= 0.7.1 on BVLC's; BVLC's MACs are 1.6 to one decimal (what calc check records)
    assert printed(counts("googlenet", "ptflops", variant="bvlc").totals["flops"] / G, "1.60")
    assert printed(BVLC["macs"] / G, "1.6")
    report = run_check(list(archs.published()), [], archs.get, names=("googlenet",), source="seed 000")
    assert [(e["quantity"], e["verdict"], e["verified"]) for e in report["entries"]] == [
        ("params", "explained", True), ("macs", "explained", True)]
