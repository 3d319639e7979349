"""Each tool convention reproduces what that tool reports for the same network.

Reference values: data/torch_counts.json (thop 0.1.1.post2209072238, ptflops 0.7.5 pytorch
backend, fvcore 0.1.5.post20221221 on torchvision 0.28 models; see data/PROVENANCE.md).
The issue asks for 0.5%; where our declaration matches torchvision we match to the unit.
"""
import pytest

from calc.conventions import conventions, get_convention
from calc.errors import CalcError
from tests.conftest import counts, module_leaf_outputs

TOOL_KEYS = {"thop": "thop_macs", "ptflops": "ptflops_macs", "fvcore": "fvcore_total"}


@pytest.mark.parametrize("tool", sorted(TOOL_KEYS))
def test_tool_conventions_mobilenet_v2(tool, torch_counts):
    ref = torch_counts["mobilenet_v2@224"][TOOL_KEYS[tool]]
    assert counts("mobilenet_v2", convention=tool).totals["flops"] == int(ref)


def test_fvcore_by_operator_mobilenet_v2(torch_counts):
    ref = torch_counts["mobilenet_v2@224"]["fvcore_by_op"]
    layers = counts("mobilenet_v2", convention="fvcore").layers
    by_op = {}
    for c in layers:
        by_op[c.op] = by_op.get(c.op, 0) + c.flops
    assert by_op["Conv2d"] == ref["conv"]
    assert by_op["Linear"] == ref["linear"]
    assert by_op["BatchNorm2d"] == ref["batch_norm"]
    assert by_op["GlobalAvgPool2d"] == ref["adaptive_avg_pool2d"]


def test_macs_convention_is_conv_plus_linear():
    a = counts("mobilenet_v2", convention="macs")
    assert a.totals["flops"] == a.totals["macs"]


def test_flops_convention_rules():
    a = counts("mobilenet_v2", convention="flops")
    by = {c.name: c for c in a.layers}
    stem = by["stem.conv"]
    assert stem.flops == 2 * stem.macs  # no bias
    assert by["stem.bn"].flops == 2 * 32 * 112 * 112
    assert by["stem.act"].flops == 2 * 32 * 112 * 112  # ReLU6: max and min
    assert by["fc"].flops == 2 * 1280 * 1000 + 1000  # bias adds
    assert by["pool"].flops == 1280 * 7 * 7
    assert by["stage2.block1.add"].flops == 24 * 56 * 56
    assert by["flatten"].flops == 0 and by["dropout"].flops == 0
    assert a.uncounted == {}


def test_uncounted_ops_are_reported():
    a = counts("mobilenet_v2", convention="thop")
    assert a.uncounted == {"ReLU6": 35, "Add": 10, "GlobalAvgPool2d": 1}


def test_impl_changes_only_hook_conventions():
    # ptflops sees F.adaptive_avg_pool2d once, nn.AdaptiveAvgPool2d twice (hook + patched functional)
    c = get_convention("ptflops")
    q = {"in": 100, "out": 2, "window": 100}
    assert c.cost("GlobalAvgPool2d", "functional", q) == 100
    assert c.cost("GlobalAvgPool2d", "module", q) == 200
    assert get_convention("thop").cost("GlobalAvgPool2d", "functional", q) == 0
    assert get_convention("fvcore").cost("GlobalAvgPool2d", "operator", q) == 0
    assert get_convention("flops").cost("GlobalAvgPool2d", "operator", q) == 100


def test_every_convention_is_documented():
    for c in conventions().values():
        assert c.title and c.summary and c.source
        assert c.sees <= {"module", "functional", "operator"}
    with pytest.raises(CalcError, match="unknown convention 'paper'"):
        get_convention("paper")


# every model of data/torch_counts.json that calc declares, as (name, options)
REFERENCE_MODELS = {
    "mobilenet_v2@224": ("mobilenet_v2", {}),
    "resnet18@224": ("resnet18", {}),
    "resnet50@224": ("resnet50", {}),
    "shufflenet_v2_x1_0@224": ("shufflenet_v2", {"alpha": 1.0}),
    "squeezenet1_0@224": ("squeezenet1_0", {}),
    "vgg16@224": ("vgg16", {}),
}


@pytest.mark.parametrize("key", sorted(REFERENCE_MODELS))
def test_reference_models_match_torchvision_and_the_tools(key, torch_counts):
    # data/torch_counts.json: torchvision 0.28, thop 0.1.1.post2209072238, ptflops 0.7.5 (pytorch
    # backend), fvcore 0.1.5; batch 1, 224x224, 1000 classes.  Every field, to the unit.
    ref = torch_counts[key]
    name, options = REFERENCE_MODELS[key]
    a = counts(name, **options)
    assert a.totals["params"] == ref["params"]
    assert a.totals["macs"] == ref["conv_linear_macs"]
    assert sum(c.macs for c in a.layers if c.op == "Conv2d") == ref["conv_macs"]
    assert sum(c.macs for c in a.layers if c.op == "Linear") == ref["linear_macs"]
    assert module_leaf_outputs(a) == ref["leaf_output_elems"]
    for tool, field in TOOL_KEYS.items():
        assert counts(name, tool, **options).totals["flops"] == int(ref[field]), tool
