"""NASNet-A Large/Mobile and PNASNet-5 Large: exact counts against Cadene's and timm's code,
seed 000's rows, and the cells as data.

Reference counts measured outside the project on the CPU wheel (torch 2.14.1), on Cadene's
pretrainedmodels 0.7.4 model files loaded directly
(``nasnetalarge(num_classes=1000, pretrained=None).eval()``, likewise ``nasnetamobile``,
``pnasnet5large``; ``@1001``: the constructors' default head) and timm 1.0.31
(``timm.create_model("nasnetalarge")``, ``"pnasnet5large"``), one 1x3xRxR input at each model's
``pretrained_settings`` size, with the scripts of tests/data/measure/zoo:
``python tests/data/measure/zoo/hooks.py MODEL RES`` (params ``sum(p.numel())``; MACs from forward
hooks on every nn.Conv2d / nn.Linear call, output elements x in/groups x kh x kw and in x out;
ptflops cf48e01's flops_counter.py run as is), ``python tests/data/measure/zoo/leaf.py MODEL RES``
(output elements of every module without children) and
``python tests/data/measure/zoo/tools.py MODEL RES`` (thop 0.1.1.post2209072238 ``profile``, ptflops
0.7.5 ``get_model_complexity_info(..., as_strings=False)`` with the pytorch backend, fvcore 0.1.5
``FlopCountAnalysis(...).total()``).
"""
import pytest

import archs
from archs.nasnet import NASNET_NORMAL, NASNET_REDUCTION, PNASNET, nasnet_plan, NASNET_A, pnasnet_plan
from calc.errors import CalcError
from tests.archs.measured import totals
from tests.conftest import counts, printed

G, M = 1e9, 1e6

CADENE = {  # (name, classes): (params, macs, leaf, ptflops_2019, thop, ptflops 0.7.5, fvcore)
    ("nasnet_a_large", 1000): (88_753_150, 23_809_955_634, 266_442_136, 24_041_672_664, 24_028_957_614,
                               24_170_944_666, 23_912_401_662),
    ("nasnet_a_mobile", 1000): (5_289_978, 568_234_858, 24_880_949, 589_925_430, 587_741_284, 602_519_828,
                                577_332_032),
    ("pnasnet5_large", 1000): (86_057_668, 24_979_693_344, 268_266_034, 25_213_842_582, 25_195_880_520,
                               25_341_776_656, 25_085_909_508),
}
CADENE_1001 = {  # the constructors' default head: (params, macs, ptflops_2019)
    "nasnet_a_large": (88_757_183, 23_809_959_666, 24_041_676_696),
    "nasnet_a_mobile": (5_291_035, 568_235_914, 589_926_486),
}
TIMM = {"nasnet_a_large": (88_753_150, 23_783_414_658), "pnasnet5_large": (86_057_668, 24_937_395_792)}


@pytest.mark.parametrize("name, classes", sorted(CADENE))
def test_counts_equal_cadene_to_the_unit(name, classes):
    params, macs, leaf, pt2019, thop, ptflops, fvcore = CADENE[name, classes]
    assert totals(name) == dict(params=params, macs=macs, leaf=leaf, ptflops_2019=pt2019, thop=thop,
                                ptflops=ptflops, fvcore=fvcore)


@pytest.mark.parametrize("name", sorted(CADENE_1001))
def test_the_default_head_of_cadenes_constructors(name):
    a, b = counts(name, classes=1001), counts(name, "ptflops_2019", classes=1001)
    assert (a.totals["params"], a.totals["macs"], b.totals["flops"]) == CADENE_1001[name]


@pytest.mark.parametrize("name", sorted(TIMM))
def test_timm_params_and_macs_to_the_unit(name):
    a = counts(name, variant="timm")
    assert (a.totals["params"], a.totals["macs"]) == TIMM[name]
    # timm pads "same" exactly: no crop anywhere, and every strided op's map is its output's size
    assert not any(c.op == "Crop" and "path_2" not in c.name for c in a.layers)


def test_seed_000():
    # seed 000 (= ptflops' README, cf48e01, Cadene's table): NasNetaLarge 88.75 / 24.04,
    # NasNetaMobile 5.29 / 0.59, Pnasnet5Large 86.06 / 25.21
    for name, p, f in (("nasnet_a_large", "88.75", "24.04"), ("nasnet_a_mobile", "5.29", "0.59"),
                       ("pnasnet5_large", "86.06", "25.21")):
        assert printed(counts(name).totals["params"] / M, p), name
        assert printed(counts(name, "ptflops_2019").totals["flops"] / G, f), name
    # the 1001-class head the constructors default to prints 88.76: the table used 1000
    assert printed(CADENE_1001["nasnet_a_large"][0] / M, "88.76")
    assert printed(CADENE_1001["nasnet_a_mobile"][0] / M, "5.29")  # both heads print 5.29
    assert not printed(counts("pnasnet5_large", "ptflops_2019", variant="timm").totals["flops"] / G, "25.21")


def test_cells_are_the_papers_pairs():
    for c, reads, outs in ((NASNET_NORMAL, {"cur", "prev"}, 6), (NASNET_REDUCTION, {"cur", "prev", 0, 1}, 4),
                           (PNASNET, {"cur", "prev", 2}, 5)):
        assert len(c.pairs) == 5 and len(c.concat) == outs
        assert {s for p in c.pairs for s in (p.a, p.b)} == reads
    large = nasnet_plan(NASNET_A["large"])
    assert [u.name for u in large if u.cell is NASNET_REDUCTION] == [
        "cell_stem_0", "cell_stem_1", "reduction_cell_0", "reduction_cell_1"]
    assert len(large) == 22 and len(nasnet_plan(NASNET_A["mobile"])) == 16 and len(pnasnet_plan()) == 14
    assert [u.name for u in large if u.pad] == ["reduction_cell_0"]
    assert [u.name for u in nasnet_plan(NASNET_A["mobile"]) if u.pad] == [
        "cell_stem_1", "reduction_cell_0", "reduction_cell_1"]
    assert [u.name for u in pnasnet_plan() if u.pad] == ["cell_4"]


def test_the_padded_ops_run_on_the_larger_map():
    net = archs.build("nasnet_a_large")
    sep = "reduction_cell_0.comb_iter_0_left"
    # 42x42 padded to 43x43; the 5x5/s2 depthwise conv (padding 2) gives 22x22, cropped to 21x21
    assert net[f"{sep}.pad"].shape[1:] == (43, 43)
    assert net[f"{sep}.separable_1.pointwise_conv2d"].shape[1:] == (22, 22)
    assert net[f"{sep}.crop"].shape[1:] == (21, 21) and not net[f"{sep}.crop"].layer.view  # .contiguous()
    assert net["reduction_cell_0.comb_iter_1_left.crop"].layer.view  # MaxPoolPad's crop: a view
    # the stride-1 separable op of a padded NASNet cell pads too (PNASNet's does not)
    assert "reduction_cell_0.comb_iter_4_left.pad" in net
    assert "cell_4.comb_iter_3_left.pad" not in archs.build("pnasnet5_large")
    mobile = archs.build("nasnet_a_mobile")
    assert not mobile["reduction_cell_0.comb_iter_1_left.crop"].layer.view  # mobile: .contiguous()
    assert mobile["cell_stem_1.comb_iter_0_left.pad"].layer.impl == "functional"  # made in forward
    assert mobile["reduction_cell_0.comb_iter_0_left.pad"].layer.impl == "module"


def test_other_input_sizes_do_what_the_code_does():
    # Cadene's mobile model at 331 fails in cell_0 (torch: "The size of tensor a (41) must match
    # the size of tensor b (42)"): its padded stem cell crops the odd 83x83 map to 41
    with pytest.raises(CalcError, match=r"layer 'cell_0.comb_iter_0' \(Add, input 44x41x41, 44x42x42\)"):
        archs.build("nasnet_a_mobile", res=331)
    a = counts("nasnet_a_large", res=224)  # Cadene's fixed AvgPool2d(11) fails here; calc pools the 7x7 map
    assert any("fixed AvgPool2d(11, stride=1)" in n for n in a.notes)
