"""TextCNN (Kim 2014): exact counts against its PyTorch port, the options, and seed 000's
row of unknown configuration.

Reference counts measured outside the project on the CPU wheel (torch 2.14.1) with
tests/data/measure/zoo/tools.py, whose ``CNN_Text`` is Shawn1993/cnn-text-classification-pytorch
``model.py`` (93415f0) as written there, built with Kim's configuration (V=18,766, D=300, Ks=(3, 4,
5), Co=100, C=2; ``requires_grad=False`` on the table for ``static``) on 64 token ids:
``python tests/data/measure/zoo/tools.py textcnn 64`` and
``python tests/data/measure/zoo/tools.py textcnn:static 64`` (params ``sum(p.numel())``; MACs from
forward hooks on nn.Conv2d / nn.Linear; thop 0.1.1.post2209072238, ptflops 0.7.5, fvcore 0.1.5,
ptflops cf48e01 as in tests/archs/test_nasnet.py).
"""
import pytest

import archs
from calc.counting import analyze
from calc.errors import CalcError
from calc.published import judge
from calc.training import analyze_training
from tests.conftest import counts, printed

# tools.py textcnn 64: (flops, params) per tool; "static": the ptflops params of the frozen table
KIM = dict(params=5_990_702, macs=21_900_600, thop=(21_900_600, 360_902), ptflops=(21_955_502, 5_990_702),
           fvcore=(21_900_600, 5_990_702), ptflops_2019=(21_918_900, 5_990_702))
STATIC_PTFLOPS_PARAMS = 360_902  # tools.py textcnn:static 64: ptflops and cf48e01 params


@pytest.mark.parametrize("variant", ["non-static", "static"])
def test_counts_equal_the_pytorch_port_to_the_unit(variant):
    a = counts("textcnn", variant=variant)
    assert a.input_shape == (1, 64, 1)  # a column of 64 token ids
    assert (a.totals["params"], a.totals["macs"]) == (KIM["params"], KIM["macs"])
    for tool in ("thop", "ptflops", "fvcore", "ptflops_2019"):
        t = counts("textcnn", tool, variant=variant).totals
        flops, params = KIM[tool]
        if variant == "static" and tool.startswith("ptflops"):
            params = STATIC_PTFLOPS_PARAMS
        assert (t["flops"], t["convention_params"]) == (flops, params), tool


def test_the_layers_are_kims():
    net = archs.build("textcnn")
    assert net["embed"].shape == (1, 64, 300)  # the sentence matrix, one channel
    assert [net[f"convs.{i}"].shape for i in range(3)] == [(100, 62, 1), (100, 61, 1), (100, 60, 1)]
    assert [net[f"pool.{i}"].shape for i in range(3)] == [(100, 1, 1)] * 3  # max over time
    assert net["fc1"].shape == (2,)
    # width k over D = 300: 100 x k x 300 weights + 100 biases
    assert [c.params for c in counts("textcnn").layers if c.name.startswith("convs.") and c.op == "Conv2d"] == [
        90_100, 120_100, 150_100]


def test_options():
    a = counts("textcnn", seq_len=20, vocab=1000, dim=50, widths="2/3", filters=8, classes=5)
    assert a.totals["params"] == 1000 * 50 + 8 * 2 * 50 + 8 + 8 * 3 * 50 + 8 + 16 * 5 + 5
    assert a.totals["macs"] == 8 * 50 * (2 * 19 + 3 * 18) + 16 * 5
    with pytest.raises(CalcError, match=r"textcnn: option --widths must be positive integers separated by ',' or "
                                        r"'/', received '3,0'"):
        archs.build("textcnn", widths="3,0")
    with pytest.raises(CalcError, match=r"layer 'convs.0' \(Conv2d, input 1x4x300\): feature map vanishes"):
        archs.build("textcnn", seq_len=4, widths="5")


def test_a_frozen_embedding_is_counted_and_not_trained():
    static = archs.build("textcnn", variant="static")
    assert any("embedding is frozen" in n and "5,629,800" in n for n in static.notes)
    t = analyze_training(static, batch=50)
    assert t.totals["params"] == KIM["params"] and t.totals["trainable_params"] == KIM["params"] - 18_766 * 300
    assert t.totals["param_bytes"] == KIM["params"] * 4 and t.totals["grad_bytes"] == 360_902 * 4


# 0.15 M / 0.009 G (seed 000): which configurations print it.  thop counts no Embedding
# parameters (tests/layers/test_embedding.py), ptflops none of a frozen table.  The defaults
# of Shawn1993's main.py (-embed-dim 128, -kernel-num 100, -kernel-sizes 3,4,5, 2 classes for MR)
# (the table's size does not matter: it is left out)
SHAWN = dict(dim=128, filters=100, widths="3,4,5", classes=2)


def prints_the_seed_row(convention, **options) -> bool:
    t = analyze(archs.build("textcnn", **options), convention=convention).totals
    return printed(t["convention_params"] / 1e6, "0.15") and printed(t["flops"] / 1e9, "0.009")


def test_configurations_that_print_the_seed_row():
    assert [L for L in range(56, 68) if prints_the_seed_row("thop", seq_len=L, **SHAWN)] == list(range(59, 66))
    static = [L for L in range(56, 68) if prints_the_seed_row("ptflops", seq_len=L, variant="static", **SHAWN)]
    assert static == list(range(59, 65))
    assert not prints_the_seed_row("ptflops", seq_len=60, **SHAWN)  # a trained table counts (2.56 M)
    # ... and other widths, dimensions and map counts (3 of the 19 others a closed-form scan of common
    # values finds under thop: tests/data/measure/zoo/textcnn_grid.py)
    for options in (dict(dim=100, filters=128), dict(dim=256, filters=50), dict(dim=256, filters=100, widths="1,2,3")):
        assert prints_the_seed_row("thop", **{**SHAWN, **options, "seq_len": 60}), options
    assert not prints_the_seed_row("thop", seq_len=64)  # Kim's own: 0.36 M, 0.022 G


def test_seed_000_row_is_recorded_as_unknown():
    entries = [p for p in archs.published("textcnn") if p.arch == "textcnn"]
    assert {p.quantity for p in entries} == {"params", "macs"}
    for p in entries:
        v = judge(p, lambda c: archs.build("textcnn", **c))
        assert (v["verdict"], v["verified"], v["reason"]) == ("explained", False, "unknown_configuration")
