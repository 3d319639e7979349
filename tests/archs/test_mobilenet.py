"""MobileNet v1/v2: exact counts against the reference implementation and the
published numbers, each cited."""
import pytest

import archs
from calc.blocks import make_divisible
from calc.errors import CalcError
from tests.conftest import counts, module_leaf_outputs


# MobileNet v1 paper (Howard et al. 2017, arXiv 1704.04861), Table 6 (width) and Table 7
# (resolution): mult-adds in millions, params in millions, as printed.
V1_WIDTH = [(1.0, "569", "4.2"), (0.75, "325", "2.6"), (0.5, "149", "1.3"), (0.25, "41", "0.5")]
V1_RES = [(224, "569"), (192, "418"), (128, "186")]


@pytest.mark.parametrize("alpha,macs,params", V1_WIDTH)
def test_mobilenet_v1_width_table(alpha, macs, params):
    t = counts("mobilenet_v1", alpha=alpha).totals
    assert f"{t['macs'] / 1e6:.0f}" == macs
    assert f"{t['params'] / 1e6:.1f}" == params


@pytest.mark.parametrize("res,macs", V1_RES)
def test_mobilenet_v1_resolution_table(res, macs):
    assert f"{counts('mobilenet_v1', res=res).totals['macs'] / 1e6:.0f}" == macs


def test_mobilenet_v1_160_is_the_rho_squared_rule():
    # Table 7 prints 290 M for 160x160; counted directly it is 290.68 M.  The printed value is
    # the 224 count scaled by rho^2, which also scales the FC layer's resolution-free MACs.
    exact = counts("mobilenet_v1", res=160).totals["macs"]
    at224 = counts("mobilenet_v1", res=224).totals["macs"]
    fc = 1024 * 1000
    assert exact == 290_675_200
    assert round(at224 * (160 / 224) ** 2 / 1e6) == 290
    assert exact == (at224 - fc) * 160**2 // 224**2 + fc  # every conv scales by exactly rho^2


def test_mobilenet_v1_exact_counts():
    t = counts("mobilenet_v1").totals
    # 3x3x3x32 stem + 13 separable layers + FC 1024x1000 (+bias) + BN gamma/beta
    assert t["macs"] == 568_740_352
    assert t["params"] == 4_231_976


def test_mobilenet_v1_as_printed_variant():
    # Table 1 as printed (last depthwise conv s2) shrinks the last two layers to 4x4 at 224
    net = archs.build("mobilenet_v1", variant="as_printed")
    assert net["block13.dw.conv"].shape == (1024, 4, 4)
    ref = counts("mobilenet_v1").totals["macs"]
    printed = counts("mobilenet_v1", variant="as_printed").totals["macs"]
    # the two last layers run on 16 instead of 49 positions
    assert ref - printed == (49 - 16) * (1024 * 9 + 1024 * 1024)


def test_mobilenet_v2_matches_torchvision(torch_counts):
    ref = torch_counts["mobilenet_v2@224"]  # torchvision 0.28 (data/PROVENANCE.md)
    a = counts("mobilenet_v2")
    assert a.totals["params"] == ref["params"] == 3_504_872
    assert a.totals["macs"] == ref["conv_linear_macs"]
    assert sum(c.macs for c in a.layers if c.op == "Conv2d") == ref["conv_macs"]
    assert sum(c.macs for c in a.layers if c.op == "Linear") == ref["linear_macs"]
    assert module_leaf_outputs(a) == ref["leaf_output_elems"]


def test_mobilenet_v2_paper_and_zoo():
    t = counts("mobilenet_v2").totals
    # MobileNet v2 paper (arXiv 1801.04381) Table 4: 300 M MAdds, 3.4 M params.  Google's tables
    # truncate, and count params without BatchNorm (see archs/data/published/mobile.yaml).
    assert int(t["macs"] / 1e6) == 300
    bn = sum(c.params for c in counts("mobilenet_v2").layers if c.op == "BatchNorm2d")
    assert bn == 34_112
    assert int((t["params"] - bn) / 1e5) / 10 == 3.4
    # TF-slim zoo (tensorflow/models research/slim/nets/mobilenet/README.md), 0.75/192:
    # 153 MACs (M), 2.61 params (M)
    a = counts("mobilenet_v2", alpha=0.75, res=192)
    assert a.totals["macs"] == 153_941_888 and int(a.totals["macs"] / 1e6) == 153
    bn = sum(c.params for c in a.layers if c.op == "BatchNorm2d")
    assert a.totals["params"] == 2_636_424 and bn == 26_640
    assert f"{(a.totals['params'] - bn) / 1e6:.2f}" == "2.61"


# TF-slim MobileNet v2 zoo table (tensorflow/models research/slim/nets/mobilenet/README.md):
# (alpha, res) -> (MACs in M, params in M), as printed.
ZOO = {
    (1.4, 224): (582, "6.06"), (1.3, 224): (509, "5.34"), (1.0, 224): (300, "3.47"),
    (1.0, 192): (221, "3.47"), (1.0, 160): (154, "3.47"), (1.0, 128): (99, "3.47"),
    (1.0, 96): (56, "3.47"), (0.75, 224): (209, "2.61"), (0.75, 192): (153, "2.61"),
    (0.75, 160): (107, "2.61"), (0.75, 128): (69, "2.61"), (0.75, 96): (39, "2.61"),
    (0.5, 224): (97, "1.95"), (0.35, 224): (59, "1.66"),
}


@pytest.mark.parametrize("alpha,res", sorted(ZOO))
def test_mobilenet_v2_whole_zoo_table_follows_one_rule(alpha, res):
    # One rule explains every row: MACs truncated to whole millions, params without BN.
    macs, params = ZOO[(alpha, res)]
    a = counts("mobilenet_v2", alpha=alpha, res=res)
    assert int(a.totals["macs"] / 1e6) == macs
    no_bn = a.totals["params"] - sum(c.params for c in a.layers if c.op == "BatchNorm2d")
    assert f"{no_bn / 1e6:.2f}" == params


def test_make_divisible_matches_reference_rounding():
    # torchvision/TF-slim _make_divisible: nearest multiple of 8, never below 8, never < 90% of v
    assert make_divisible(32 * 0.75) == 24
    assert make_divisible(16 * 0.35) == 8
    assert make_divisible(24 * 0.35) == 8
    assert make_divisible(96 * 0.35) == 32  # 33.6 -> 32 (>= 0.9 * 33.6)
    assert make_divisible(160 * 0.35) == 56
    assert make_divisible(320 * 1.4) == 448
    assert make_divisible(20) == 24  # 16 < 0.9 * 20 -> bumped


def test_mobilenet_v2_channel_rules():
    net = archs.build("mobilenet_v2", alpha=0.35)
    assert net["stem.conv"].shape[0] == 16
    assert net["head.conv"].shape[0] == 1280  # the head never shrinks
    assert "stage1.block0.expand.conv" not in net  # t = 1: no expansion conv
    wide = archs.build("mobilenet_v2", alpha=1.4)
    assert wide["head.conv"].shape[0] == 1792  # ... but does grow


def test_params_do_not_depend_on_resolution():
    assert counts("mobilenet_v2", res=96).totals["params"] == counts("mobilenet_v2", res=320).totals["params"]


def test_options_are_validated():
    with pytest.raises(CalcError, match="--alpha must be in \\(0, 4\\], received 0.0"):
        archs.build("mobilenet_v2", alpha=0)
    with pytest.raises(CalcError, match="finite"):
        archs.build("mobilenet_v2", alpha=float("nan"))
    with pytest.raises(CalcError, match="mobilenet_v2 does not take --groups"):
        archs.build("mobilenet_v2", groups=3)
    with pytest.raises(CalcError, match="feature map vanishes"):
        archs.build("mobilenet_v2", res=8)
    with pytest.raises(CalcError, match="unknown architecture 'mobilenet_v3'; did you mean"):
        archs.build("mobilenet_v3")


# PaddleClas' MobileNetV2 (ppcls/modeling/architectures/mobilenet_v2.py, static graph,
# 9f39da8 2020-04-09), the network its latency tables measure.  Reference: a layer-for-layer
# torch transcription of that code, counted with forward hooks (torch 2.14.1 on the CPU:
# `python tests/data/measure/paddle/paddle_nets.py`): params, conv + FC MACs.
PADDLE_V2 = [(0.25, 1_517_392, 30_480_864), (0.5, 1_965_736, 92_271_040), (0.75, 2_628_592, 186_650_528),
             (1.0, 3_505_960, 313_619_328), (1.5, 6_852_712, 681_017_664), (2.0, 11_262_312, 1_188_808_448)]


@pytest.mark.parametrize("alpha,params,macs", PADDLE_V2)
def test_mobilenet_v2_paddle_matches_paddleclas_code(alpha, params, macs):
    t = counts("mobilenet_v2_paddle", alpha=alpha).totals
    assert (t["params"], t["macs"]) == (params, macs)


def test_mobilenet_v2_paddle_differs_from_torchvision_by_the_t1_expand_conv():
    # at 1.0 the widths agree, so the difference is the t = 1 block's 1x1 expand conv
    # (32 -> 32 on 112x112, by hand): 32 x 32 weights + 2 x 32 BN, and 32 x 32 x 112 x 112 MACs
    p, tv = counts("mobilenet_v2_paddle").totals, counts("mobilenet_v2").totals
    assert p["params"] - tv["params"] == 32 * 32 + 2 * 32
    assert p["macs"] - tv["macs"] == 32 * 32 * 112 * 112
    net = archs.build("mobilenet_v2_paddle", alpha=0.25)
    assert net["stem.conv"].shape[0] == 8 and net["stage2.block0.project.conv"].shape[0] == 6  # int(24 x 0.25)
    assert net["head.conv"].shape[0] == 1280 and archs.build("mobilenet_v2_paddle", alpha=1.5)["head.conv"].shape[0] == 1920
