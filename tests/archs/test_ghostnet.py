"""GhostNet: exact against timm 1.0.31 ghostnet_050/100/130 and the tools, the paper's
Table 1 as built, the ghost module, and the published numbers' verdicts."""
import pytest

import archs
from archs.ghostnet import GHOSTNET
from calc.check import run_check
from tests.archs.reference import assert_matches, block_inputs, printed_block_inputs
from tests.conftest import counts, module_leaf_outputs

# timm 1.0.31 ghostnet_050 / ghostnet_100 / ghostnet_130, 224x224, measured as tests/archs/reference.py
# describes (python tests/data/measure/torchvision_timm/measure.py --tools timm:ghostnet_100;
# timm:ghostnet_050 timm:ghostnet_130)
TIMM = {
    0.5: {"params": 2_587_292, "conv_macs": 41_048_152, "linear_macs": 1_280_000, "leaf_output_elems": 5_276_856},
    1.0: {"params": 5_182_508, "conv_macs": 139_870_512, "linear_macs": 1_280_000, "leaf_output_elems": 10_548_864,
          "thop_macs": 153_883_120, "ptflops_macs": 151_840_388, "fvcore_total": 148_273_936},
    1.3: {"params": 7_358_820, "conv_macs": 225_723_256, "linear_macs": 1_280_000, "leaf_output_elems": 13_664_080},
}


@pytest.mark.parametrize("alpha", sorted(TIMM))
def test_equals_timm(alpha):
    assert_matches("ghostnet", TIMM[alpha], alpha=alpha)


@pytest.mark.parametrize("alpha", sorted(TIMM))
def test_leaf_outputs(alpha):
    # The hook also counts leaf modules that pass their input through, which have no node here:
    # timm's nn.Identity (ghost2's two activations, BatchNormAct2d.drop, ConvBnAct.aa,
    # SelectAdaptivePool2d.flatten), the empty nn.Sequential shortcut, and timm's Linear (a
    # module, although it calls F.linear, the way the tools see it).  BatchNormAct2d has children,
    # so its F.batch_norm output is not a leaf's.
    a = counts("ghostnet", alpha=alpha)
    net = archs.build("ghostnet", alpha=alpha)
    out = {c.name: c.activations for c in a.layers}
    identities = sum(out[f"block{i}.ghost2.{p}.bn"] for i in range(1, 17) for p in ("primary", "cheap"))
    identities += out["last.bn"] + out["last.act"] + out["pool"]
    shortcuts = sum(out[net[f"block{i}.add"].inputs[1]] for i in range(1, 17)
                    if not net[f"block{i}.add"].inputs[1].startswith(f"block{i}.shortcut"))
    assert module_leaf_outputs(a) + identities + shortcuts + out["fc"] == TIMM[alpha]["leaf_output_elems"]


def test_timm_calls_bn_and_linear_functionally():
    # thop and ptflops see neither BatchNormAct2d's F.batch_norm nor timm Linear's F.linear (measured:
    # thop 153,883,120 = conv MACs + 4/elem on the 79 nn.BatchNorm2d + the pool, without the FC)
    net = archs.build("ghostnet")
    assert net["last.bn"].layer.impl == "functional" and net["fc"].layer.impl == "functional"
    thop = {c.name: c.flops for c in counts("ghostnet", convention="thop").layers}
    assert thop["fc"] == 0 and thop["last.bn"] == 0 and thop["block1.ghost1.primary.bn"] == 4 * 8 * 112 * 112


def test_block_inputs_are_table_1():
    net = archs.build("ghostnet")
    assert block_inputs(net, [f"block{i}" for i in range(1, len(GHOSTNET) + 1)]) == printed_block_inputs("ghostnet")


def test_ghost_module():
    net = archs.build("ghostnet")
    # ghost1 of block 3 (24 -> 72): primary 1x1 to ceil(72 / 2) = 36, cheap 3x3 depthwise on those 36
    assert net["block3.ghost1.primary.conv"].shape == (36, 56, 56)
    cheap = net["block3.ghost1.cheap.conv"].layer
    assert (cheap.groups, cheap.kernel_size, cheap.out_channels) == (36, 3, 36)
    assert net["block3.ghost1.cat"].inputs == ("block3.ghost1.primary.act", "block3.ghost1.cheap.act")
    assert net["block3.ghost1.slice"].layer.stop == 72 and net["block3.ghost1.slice"].shape == (72, 56, 56)
    assert "block3.ghost2.primary.act" not in net  # the second ghost module is linear
    # stride 2: a depthwise conv between the ghost modules, and a dw + 1x1 shortcut
    assert net["block2.dw.conv"].layer.stride == 2 and "block2.shortcut.pw.conv" in net
    assert net["block3.add"].inputs[1] == "block2.add"  # identity shortcut
    # SE on block 4 (exp 72): x.mean -> 1x1 to make_divisible(72 / 4, 4) = 20 -> ReLU -> 72 -> hard sigmoid
    assert net["block4.se.pool"].layer.impl == "operator" and net["block4.se.fc1"].shape == (20, 1, 1)
    assert net["block4.se.gate"].layer.op == "HardSigmoid"
    assert net["head.conv"].shape == (1280, 1, 1) and net["head.conv"].layer.bias


def test_published_numbers_verdicts():
    report = run_check(list(archs.published()), list(archs.stage_tables()), archs.get, names=("ghostnet",))
    verdicts = {(r["config"].get("alpha", 1.0), r["quantity"]): (r["verdict"], r["verified"])
                for r in report["entries"]}
    # GhostNet paper Table 7: 0.5x 2.6 M / 42 M, 1.0x 5.2 M / 141 M agree; 1.3x 7.3 M is the count without
    # BN, and 226 M is no count of the authors' 1.3x network (227,003,256 MACs)
    assert verdicts == {(0.5, "macs"): ("agrees", True), (0.5, "params"): ("agrees", True),
                        (1.0, "macs"): ("agrees", True), (1.0, "params"): ("agrees", True),
                        (1.3, "macs"): ("explained", False), (1.3, "params"): ("explained", True)}
    assert report["summary"]["unexplained_inconsistencies"] == 0
