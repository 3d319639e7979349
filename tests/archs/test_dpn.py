"""Dual Path Networks (Cadene's pretrainedmodels dpn.py; timm's dpn*): exact counts against
the reference code, and seed 000's rows with the counting rule that reproduces them.

Reference counts measured outside the project on the CPU wheel: torch 2.14.1, pretrainedmodels
0.7.4 ``dpn.py`` loaded directly (``dpn68(num_classes=1000, pretrained=None).eval()`` etc.), one
1x3x224x224 input, with the method of tests/archs/test_inception.py (params ``sum(p.numel())``;
MACs from forward hooks on every nn.Conv2d / nn.Linear call; leaf-module output elements;
ptflops cf48e01's flops_counter.py run as is, ``get_model_complexity_info(m, (224, 224),
as_strings=False)``; ptflops 0.7.5 ``backend="pytorch"``; thop 0.1.1.post2209072238
``profile``; fvcore 0.1.5 ``FlopCountAnalysis(...).total()``).  Each tool ran in a fresh process:
the ReLU modules are default arguments of dpn.py's classes, shared by every model instance, and
a tool that leaves attributes on them (ptflops cf48e01 leaves ``__flops__``) breaks the next.

timm 1.0.31 ``dpn68`` ... ``dpn131`` (same hooks, 224): the same params and MACs.  timm differs
from Cadene in ways that do not change them at 224: conv5_bn_ac's activation is an ELU, and the
head is a global average pool before the 1x1 classifier (Cadene: ``F.avg_pool2d(7, 1)``, the
classifier, then ``0.5 * (avg + max)``), so away from 224 the classifier runs on a larger map in
Cadene's model (DPN-68 at 320: Cadene 4,758,886,400 MACs, timm 4,746,406,400 = 832 x 1000 x 15
fewer).
"""
import re

import pytest

import archs
from tests.archs.measured import totals
from tests.conftest import counts, printed

G, M = 1e9, 1e6

CADENE = {  # name: (params, macs, leaf, ptflops_2019, thop, fvcore, ptflops 0.7.5)
    "dpn68": (12_611_602, 2_326_163_456, 34_932_904, 2_362_943_464, 2_375_034_880, 2_350_599_168, 3_206_893_240),
    "dpn68b": (12_611_602, 2_326_163_456, 34_932_904, 2_362_943_464, 2_375_034_880, 2_350_599_168, 2_858_609_080),
    "dpn92": (37_668_392, 6_501_684_224, 59_983_272, 6_564_844_264, 6_584_825_856, 6_543_255_040, 8_432_698_040),
    "dpn98": (61_570_728, 11_671_217_152, 82_973_288, 11_758_637_288, 11_786_170_368, 11_728_693_760,
              14_501_547_960),
    "dpn107": (86_917_800, 18_298_764_288, 116_017_320, 18_423_606_312, 18_463_078_144, 18_380_921_216,
               22_715_265_080),
    "dpn131": (79_254_504, 16_013_648_896, 111_021_672, 16_131_726_568, 16_168_943_616, 16_091_296_256,
               21_067_685_944),
}
TIMM = {  # timm 1.0.31, same hooks: (params, macs)
    "dpn68": (12_611_602, 2_326_163_456), "dpn68b": (12_611_602, 2_326_163_456),
    "dpn92": (37_668_392, 6_501_684_224), "dpn98": (61_570_728, 11_671_217_152),
    "dpn107": (86_917_800, 18_298_764_288), "dpn131": (79_254_504, 16_013_648_896),
}


@pytest.mark.parametrize("name", sorted(CADENE))
def test_counts_equal_cadene_and_timm_to_the_unit(name):
    params, macs, leaf, p19, thop, fvcore, _ = CADENE[name]
    got = totals(name, tools=("ptflops_2019", "thop", "fvcore"))
    assert got == dict(params=params, macs=macs, leaf=leaf, ptflops_2019=p19, thop=thop, fvcore=fvcore)
    assert (got["params"], got["macs"]) == TIMM[name]


@pytest.mark.parametrize("name", sorted(CADENE))
def test_ptflops_0_7_5_counts_each_shared_relu_once_per_parent(name):
    # dpn.py's ReLU modules are default arguments: BnActConv2d's one instance serves every
    # BnActConv2d of the net, CatBnAct's every CatBnAct.  ptflops cf48e01 sums each module once
    # over model.modules() (our ptflops_2019: per call).  ptflops 0.7.5 sums over the module
    # tree (accumulate_flops over children()), so a module with k parents counts k times: its
    # total over all calls, once per parent.  Our ptflops convention counts each call once;
    # adding (k - 1) x the shared module's total gives the tool's number to the unit.
    a = counts(name, "ptflops")
    b = archs.get(name).fixed["config"].b
    conv_act = r"\.(c1x1_w|c1x1_a|c3x3_b)\.act" + ("" if b else r"|\.c1x1_c\.act")
    cat_act = r"conv5_bn_ac\.act" + (r"|.*\.c1x1_c\.act" if b else "")
    extra = 0
    for pattern in (conv_act, cat_act):
        calls = [c for c in a.layers if re.fullmatch(rf".*(?:{pattern})", c.name)]
        extra += (len(calls) - 1) * sum(c.counts["elems"] for c in calls)
    assert a.totals["flops"] + extra == CADENE[name][6]


# ---------------------------------------------------------------------------
# Seed 000: rows copied from ptflops' README table "Cadene/pretrained-models.pytorch" (cf48e01)

SEED_000 = [("dpn68", "12.61", "2.36"), ("dpn68b", "12.61", "2.36"), ("dpn92", "37.67", "6.56"),
            ("dpn98", "61.57", "11.76"), ("dpn107", "86.92", "18.42"), ("dpn131", "79.25", "16.13")]


@pytest.mark.parametrize("name,params,macs", SEED_000)
def test_seed_000(name, params, macs):
    assert printed(counts(name).totals["params"] / M, params)
    assert printed(counts(name, "ptflops_2019").totals["flops"] / G, macs)
    # thop 0.1.1 (BN 4/elem, no ReLU) misses every row (DPN-68 2.38, DPN-131 16.17)
    assert not printed(counts(name, "thop").totals["flops"] / G, macs)


# ---------------------------------------------------------------------------
# What the declarations are made of


def test_dual_path_block():
    net = archs.build("dpn92")
    # conv2_1 ('proj'): a 1x1 shortcut to bw + 2 inc = 256 + 32, sliced into 256 | 32
    assert net["conv2_1.c1x1_w.conv"].shape == (288, 56, 56)
    assert net["conv2_1.x_s1"].layer.model_dump(exclude={"impl"}) == {"start": 0, "stop": 256}
    assert net["conv2_1.x_s2"].layer.model_dump(exclude={"impl"}) == {"start": 256, "stop": 288}
    # the main path: 1x1 to r = 96, grouped 3x3 (32 groups), 1x1 to bw + inc = 272, sliced 256 | 16
    assert net["conv2_1.c3x3_b.conv"].layer.groups == 32
    assert net["conv2_1.c1x1_c.conv"].shape == (272, 56, 56)
    assert net["conv2_1.resid"].inputs == ("conv2_1.x_s1", "conv2_1.out1")
    assert net["conv2_1.dense"].inputs == ("conv2_1.x_s2", "conv2_1.out2")
    # a normal block: input = cat(resid, dense); dense grows by inc = 16 per block
    assert net["conv2_2.cat_in"].inputs == ("conv2_1.resid", "conv2_1.dense")
    assert [net[f"conv2_{i}.dense"].shape[0] for i in (1, 2, 3)] == [48, 64, 80]
    # conv3_1 ('down') strides in its shortcut and its 3x3
    assert net["conv3_1.c1x1_w.conv"].layer.stride == 2 and net["conv3_1.c3x3_b.conv"].layer.stride == 2
    assert net["conv5_bn_ac.cat"].shape == (2688, 7, 7)
    # pre-activation everywhere: each conv of a block follows its own BN -> ReLU (eps 0.001)
    assert net["conv2_1.c1x1_a.conv"].inputs == ("conv2_1.c1x1_a.act",)
    assert net["conv2_1.c1x1_a.bn"].layer.eps == 1e-3
    assert all(not n.layer.bias for n in net.layers() if n.layer.op == "Conv2d" and n.name != "last_linear")


def test_dpn68b_splits_the_last_1x1():
    net = archs.build("dpn68b")
    assert net["conv2_1.c1x1_c1"].shape == (64, 56, 56) and net["conv2_1.c1x1_c2"].shape == (16, 56, 56)
    assert "conv2_1.out1" not in net
    # same convs, same params, same MACs as dpn68 (one 1x1 of 80 outputs = two of 64 and 16)
    assert counts("dpn68b").totals["macs"] == counts("dpn68").totals["macs"]


def test_eval_head():
    # test_time_pool=True in eval mode: F.avg_pool2d(7, 1), the 1x1-conv classifier (with bias),
    # then 0.5 * (avg + max) over the map, all functional or operators
    net = archs.build("dpn68")
    head = [(n.name, n.layer.op, n.layer.impl) for n in list(net.layers())[-7:]]
    assert head == [("pool", "AvgPool2d", "functional"), ("last_linear", "Conv2d", "module"),
                    ("avgmax.avg", "AvgPool2d", "functional"), ("avgmax.max", "MaxPool2d", "functional"),
                    ("avgmax.add", "Add", "operator"), ("avgmax.scale", "Scale", "operator"),
                    ("flatten", "Flatten", "operator")]
    assert net["last_linear"].layer.bias and net["last_linear"].shape == (1000, 1, 1)
    assert net["flatten"].shape == (1000,)


def test_other_resolutions_follow_the_test_time_pool():
    # Cadene's dpn68 at 320 (same method): the 10x10 map pools to 4x4 and the classifier runs on it
    assert totals("dpn68", tools=("ptflops_2019", "thop", "fvcore"), res=320) == dict(
        params=12_611_602, macs=4_758_886_400, leaf=71_305_600, ptflops_2019=4_833_961_600, thop=4_858_624_000,
        fvcore=4_808_755_200)
    with pytest.raises(Exception, match="pool.*feature map vanishes"):
        archs.build("dpn68", res=128)  # a 4x4 map: F.avg_pool2d(7) fails in the reference too
