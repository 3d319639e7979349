"""RegNetX/RegNetY: the quantized linear width rule against torchvision's and pycls'
stages, exact counts against torchvision 0.29.1 and the tools, and the published verdicts."""
import pytest

import archs
from archs.regnet import REGNETS, block_widths, stages
from calc.check import run_check
from tests.archs.reference import assert_matches
from tests.conftest import counts, module_leaf_outputs

# torchvision 0.29.1 BlockParams.from_init_params(**params).widths / .depths / .group_widths for each
# model (tests/data/measure/torchvision_timm/widths.py, which also checks torchvision's float32
# block widths equal the float64 ones for all 15)
TORCHVISION_STAGES = {
    "regnet_x_400mf": ([32, 64, 160, 400], [1, 2, 7, 12], [16, 16, 16, 16]),
    "regnet_x_800mf": ([64, 128, 288, 672], [1, 3, 7, 5], [16, 16, 16, 16]),
    "regnet_x_1_6gf": ([72, 168, 408, 912], [2, 4, 10, 2], [24, 24, 24, 24]),
    "regnet_x_3_2gf": ([96, 192, 432, 1008], [2, 6, 15, 2], [48, 48, 48, 48]),
    "regnet_x_8gf": ([80, 240, 720, 1920], [2, 5, 15, 1], [80, 120, 120, 120]),
    "regnet_x_16gf": ([256, 512, 896, 2048], [2, 6, 13, 1], [128, 128, 128, 128]),
    "regnet_x_32gf": ([336, 672, 1344, 2520], [2, 7, 13, 1], [168, 168, 168, 168]),
    "regnet_y_400mf": ([48, 104, 208, 440], [1, 3, 6, 6], [8, 8, 8, 8]),
    "regnet_y_800mf": ([64, 144, 320, 784], [1, 3, 8, 2], [16, 16, 16, 16]),
    "regnet_y_1_6gf": ([48, 120, 336, 888], [2, 6, 17, 2], [24, 24, 24, 24]),
    "regnet_y_3_2gf": ([72, 216, 576, 1512], [2, 5, 13, 1], [24, 24, 24, 24]),
    "regnet_y_8gf": ([224, 448, 896, 2016], [2, 4, 10, 1], [56, 56, 56, 56]),
    "regnet_y_16gf": ([224, 448, 1232, 3024], [2, 4, 11, 1], [112, 112, 112, 112]),
    "regnet_y_32gf": ([232, 696, 1392, 3712], [2, 5, 12, 1], [232, 232, 232, 232]),
    "regnet_y_128gf": ([528, 1056, 2904, 7392], [2, 7, 17, 1], [264, 264, 264, 264]),
}
# pycls (facebookresearch/pycls pycls/models/regnet.py generate_regnet + blocks.py
# adjust_block_compatibility, reimplemented with numpy in
# tests/data/measure/torchvision_timm/widths.py) where it differs from torchvision: it rounds
# 392 / 16 = 24.5, 776 / 16 = 48.5 and 192 / 56 = 3.4 to even multiples; torchvision's
# _make_divisible rounds halves up and never goes 10 % down
PYCLS_STAGES = {
    "regnet_x_400mf": [32, 64, 160, 384],
    "regnet_y_800mf": [64, 128, 320, 768],
    "regnet_y_8gf": [168, 448, 896, 2016],
}

# torchvision 0.29.1 regnet_*(weights=None) at 224x224, measured as tests/archs/reference.py describes
# (python tests/data/measure/torchvision_timm/measure.py --tools regnet_x_400mf regnet_y_400mf;
# measure.py regnet_x_800mf ...)
TORCHVISION = {
    "regnet_x_400mf": {"params": 5_495_976, "conv_macs": 413_412_608, "linear_macs": 400_000,
                       "leaf_output_elems": 9_320_808, "thop_macs": 426_527_136, "ptflops_macs": 426_144_360,
                       "fvcore_total": 420_179_472},
    "regnet_x_800mf": {"params": 7_259_656, "conv_macs": 799_027_712, "linear_macs": 672_000,
                       "leaf_output_elems": 15_054_472},
    "regnet_x_1_6gf": {"params": 9_190_136, "conv_macs": 1_601_937_792, "linear_macs": 912_000,
                       "leaf_output_elems": 23_317_288},
    "regnet_x_3_2gf": {"params": 15_296_552, "conv_macs": 3_175_613_952, "linear_macs": 1_008_000,
                       "leaf_output_elems": 33_515_656},
    "regnet_x_8gf": {"params": 39_572_648, "conv_macs": 7_993_212_416, "linear_macs": 1_920_000,
                     "leaf_output_elems": 41_504_744},
    "regnet_x_16gf": {"params": 54_278_536, "conv_macs": 15_938_707_456, "linear_macs": 2_048_000,
                      "leaf_output_elems": 75_066_344},
    "regnet_x_32gf": {"params": 107_811_560, "conv_macs": 31_733_409_792, "linear_macs": 2_520_000,
                      "leaf_output_elems": 106_939_552},
    "regnet_y_400mf": {"params": 4_344_144, "conv_macs": 401_402_848, "linear_macs": 440_000,
                       "leaf_output_elems": 11_380_576, "thop_macs": 418_183_352, "ptflops_macs": 418_388_672,
                       "fvcore_total": 410_406_088},
    "regnet_y_800mf": {"params": 6_432_512, "conv_macs": 833_072_256, "linear_macs": 784_000,
                       "leaf_output_elems": 15_845_768},
    "regnet_y_1_6gf": {"params": 11_202_430, "conv_macs": 1_611_188_160, "linear_macs": 888_000,
                       "leaf_output_elems": 23_777_492},
    "regnet_y_3_2gf": {"params": 19_436_338, "conv_macs": 3_174_970_752, "linear_macs": 1_512_000,
                       "leaf_output_elems": 33_205_460},
    "regnet_y_8gf": {"params": 39_381_472, "conv_macs": 8_471_054_592, "linear_macs": 2_016_000,
                     "leaf_output_elems": 57_844_760},
    "regnet_y_16gf": {"params": 83_590_140, "conv_macs": 15_908_486_272, "linear_macs": 3_024_000,
                      "leaf_output_elems": 67_677_408},
    "regnet_y_32gf": {"params": 145_046_770, "conv_macs": 32_275_840_832, "linear_macs": 3_712_000,
                      "leaf_output_elems": 89_053_316},
    "regnet_y_128gf": {"params": 644_812_894, "conv_macs": 127_510_423_680, "linear_macs": 7_392_000,
                       "leaf_output_elems": 211_310_828},
}


def test_every_torchvision_regnet_is_declared():
    assert sorted(REGNETS) == sorted(TORCHVISION) == sorted(n for n in archs.ARCHITECTURES if n.startswith("regnet"))


@pytest.mark.parametrize("name", sorted(TORCHVISION_STAGES))
def test_stages_are_torchvisions(name):
    widths, depths, groups = TORCHVISION_STAGES[name]
    st = stages(REGNETS[name])
    assert ([s.width for s in st], [s.depth for s in st], [s.group_width for s in st]) == (widths, depths, groups)
    assert [s.width for s in stages(REGNETS[name], "pycls")] == PYCLS_STAGES.get(name, widths)


def test_quantized_linear_rule():
    # RegNetX-400MF (w0 24, wa 24.48, wm 2.54, d 22): u_j = 24 + 24.48 j; s_j = round(log_2.54(u_j / 24));
    # w_j = 24 x 2.54 ** s_j to a multiple of 8: s = 0, 1 (j 1-2), 2 (j 3-9), 3 (j 10-21)
    assert block_widths(REGNETS["regnet_x_400mf"]) == [24] + [64] * 2 + [152] * 7 + [392] * 12


@pytest.mark.parametrize("name", sorted(TORCHVISION))
def test_equals_torchvision(name):
    ref = TORCHVISION[name]
    assert_matches(name, ref)
    assert module_leaf_outputs(counts(name)) == ref["leaf_output_elems"]


def test_block_structure():
    net = archs.build("regnet_y_400mf")
    # forward order of `x = self.proj(x) + self.f(x)`: the projection first
    names = [n.name for n in net.layers() if n.name.startswith("stage1.block0.")]
    assert names[0] == "stage1.block0.proj.conv" and net["stage1.block0.add"].inputs[0] == "stage1.block0.proj.bn"
    assert net["stage1.block0.b.conv"].layer.groups == 48 // 8 and net["stage1.block0.b.conv"].layer.stride == 2
    # SE width round(0.25 x block input): 32 -> 8 in the first block, 104 -> 26 in stage 2
    assert net["stage1.block0.se.fc1"].shape[0] == 8 and net["stage2.block1.se.fc1"].shape[0] == 26
    assert "stage2.block1.proj.conv" not in net
    assert "se" not in {n.name.split(".")[2] for n in archs.build("regnet_x_400mf").layers() if n.name.count(".") > 2}


def test_published_numbers_verdicts():
    report = run_check(list(archs.published()), list(archs.stage_tables()), archs.get, names=tuple(REGNETS))
    assert report["summary"]["disagrees"] == 0 and report["summary"]["unverified"] == 0
    # torchvision's _ops / num_params (and SWAG's 384 crops) agree; of pycls' MODEL_ZOO.md, the four
    # rows of the three models where pycls rounds stage widths otherwise need --variant pycls
    variant = sorted((r["arch"], r["quantity"]) for r in report["entries"] if r["verdict"] == "explained")
    assert variant == [("regnet_x_400mf", "params"), ("regnet_y_800mf", "params"),
                       ("regnet_y_8gf", "macs"), ("regnet_y_8gf", "params")]
    assert report["summary"]["agrees"] == len(report["entries"]) - 4
