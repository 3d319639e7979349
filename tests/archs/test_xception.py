"""Xception (Cadene's pretrainedmodels; timm's legacy_xception): exact counts against the
reference code, and seed 000's row with the counting rule that reproduces it.

Reference counts measured outside the project on the CPU wheel (torch 2.14.1, pretrainedmodels
0.7.4 ``xception.py`` loaded directly: ``xception(num_classes=1000, pretrained=None).eval()``,
one 1x3x299x299 input, the ``pretrained_settings`` size), with the method of
tests/archs/test_inception.py: params ``sum(p.numel())``; MACs from forward hooks on every
nn.Conv2d / nn.Linear call; leaf-module output elements; ptflops cf48e01's flops_counter.py
run as is (``get_model_complexity_info(model, (299, 299), as_strings=False)``); ptflops 0.7.5
(``backend="pytorch"``), thop 0.1.1.post2209072238 ``profile``, fvcore 0.1.5
``FlopCountAnalysis(...).total()``.  timm 1.0.31 ``legacy_xception``, same hooks: the same
params and MACs (its leaf outputs are 4,096 more: a global-pool module and a flatten module
where Cadene calls ``F.adaptive_avg_pool2d`` and ``x.view``).
"""
import re

import archs
from tests.archs.measured import totals
from tests.conftest import counts, printed

G, M = 1e9, 1e6


def test_counts_equal_cadene_to_the_unit():
    assert counts("xception").config["res"] == 299
    got = totals("xception", tools=("ptflops_2019", "thop", "fvcore"))
    assert got == dict(params=22_855_952, macs=8_357_403_496, leaf=73_880_368, ptflops_2019=8_420_712_552,
                       thop=8_441_952_104, fvcore=8_399_882_600)
    assert (got["params"], got["macs"]) == (22_855_952, 8_357_403_496)  # timm legacy_xception


def shared_relu_elems(analysis) -> int:
    """Output elements of the calls of each Block's shared ``self.relu`` (every ReLU of ``rep``
    but a replaced first one)."""
    return sum(c.counts["elems"] for c in analysis.layers if re.fullmatch(r"block\d+\.rep[1-9]\.relu", c.name))


def test_ptflops_0_7_5_counts_the_blocks_shared_relu_twice():
    # ptflops 0.7.5 measures 8,451,585,280.  Each Block of Cadene's xception.py has one
    # ReLU module (self.relu) that is both an attribute of the block and an entry of its
    # nn.Sequential `rep` (every ReLU of `rep` but a replaced first one); ptflops 0.7.5 sums
    # a module's count once per parent (accumulate_flops over children()), so that ReLU's
    # calls count twice.  Our ptflops convention counts each call once; adding those calls'
    # elements again gives the tool's total to the unit.
    a = counts("xception", "ptflops")
    shared = shared_relu_elems(a)
    assert shared == 9_632_176
    assert a.totals["flops"] + shared == 8_451_585_280


def test_seed_000():
    # seed 000 "Xception 299x299 22.86 / 8.42": ptflops' README table (cf48e01), ptflops_2019
    assert printed(counts("xception").totals["params"] / M, "22.86")
    assert printed(counts("xception", "ptflops_2019").totals["flops"] / G, "8.42")
    assert not printed(counts("xception", "ptflops").totals["flops"] / G, "8.42")  # 8.44 (0.7.5)


def test_blocks():
    net = archs.build("xception")
    # entry flow: 147 -> 74 -> 37 -> 19; middle flow 8 x 728 at 19x19; exit flow to 10x10
    assert [net[f"block{i}.add"].shape for i in (1, 2, 3, 4, 11, 12)] == \
        [(128, 74, 74), (256, 37, 37), (728, 19, 19), (728, 19, 19), (728, 19, 19), (1024, 10, 10)]
    assert "block1.rep0.relu" not in net and "block2.rep0.relu" in net  # start_with_relu=False
    assert "block4.skip" not in net and net["block4.add"].inputs[1] == "block3.add"  # identity skip
    dw = net["block12.rep0.sep.conv1"].layer
    assert (dw.groups, dw.out_channels, dw.bias) == (728, 728, False)
    # grow_first=False: 728 -> 728, then 728 -> 1024
    assert [net[f"block12.rep{i}.sep.pointwise"].layer.out_channels for i in (0, 1)] == [728, 1024]
    assert net["pool"].layer.impl == "functional"  # F.adaptive_avg_pool2d


def test_224():
    # Cadene's xception at 224 (its head pools adaptively, so any size works), same method;
    # timm 1.0.31 legacy_xception at 224: the same params and MACs
    got = totals("xception", tools=("ptflops_2019", "thop", "fvcore"), res=224)
    assert got == dict(params=22_855_952, macs=4_552_879_072, leaf=40_546_856, ptflops_2019=4_587_661_248,
                       thop=4_599_322_208, fvcore=4_576_200_992)
    p = counts("xception", "ptflops", res=224)
    assert p.totals["flops"] + shared_relu_elems(p) == 4_604_614_824  # ptflops 0.7.5, as at 299
