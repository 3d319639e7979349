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


# ---------------------------------------------------------------------------
# paddle: Paddle 1.x model_stat, grouped and depthwise convs included

#: Paddle 1.x model_stat's own totals (Total PARAMs, Total FLOPs), measured by running the
#: tool's _summary_model (PaddlePaddle/Paddle python/paddle/fluid/contrib/model_stat.py at
#: 007ff51) on a Paddle-op rendering of the torch reference models (conv2d with Filter
#: [out, in/groups, kh, kw] and no Bias input, batch_norm, relu with the batch dim -1,
#: pool2d, fc as mul + elementwise_add), Python 2 integer division: a script outside the
#: project, `python tests/data/measure/paddle/paddle_model_stat.py` with torch 2.14.1 /
#: torchvision 0.29.1 (shufflenet_v2_x*, resnext50_32x4d, resnet50; MobileNet v1 written to
#: calc's Table 1 declaration).
#: Under Python 3's float division the tool gives 458,030 / 74,762,324 for MobileNet v1
#: 0.25 and 23,657,457 / 8,028,654,592 for ResNeXt-50; PaddleClas prints 23.64 M / 8.02 G
#: for ResNeXt50_32x4d, the Python 2 figures.
MODEL_STAT = [
    ("mobilenet_v1", {"alpha": 0.25}, 457_913, 74_372_480),
    ("mobilenet_v1", {"alpha": 0.5}, 1_308_273, 283_618_048),
    ("mobilenet_v1", {"alpha": 0.75}, 2_551_081, 627_736_704),
    ("mobilenet_v1", {"alpha": 1.0}, 4_186_337, 1_106_728_448),
    ("shufflenet_v2", {"alpha": 0.5}, 1_356_505, 78_192_576),
    ("shufflenet_v2", {"alpha": 1.0}, 2_255_465, 283_563_728),
    ("shufflenet_v2", {"alpha": 1.5}, 3_469_145, 582_185_408),
    ("shufflenet_v2", {"alpha": 2.0}, 7_346_665, 1_152_708_816),
    ("resnext50_32x4d", {}, 23_640_897, 8_016_913_408),
    ("resnet50", {}, 25_556_033, 8_190_748_160),
]


@pytest.mark.parametrize("name,options,params,flops", MODEL_STAT)
def test_paddle_is_model_stat(name, options, params, flops):
    a = counts(name, convention="paddle", **options)
    assert a.totals["convention_params"] == params
    assert a.totals["flops"] == flops


def test_paddle_depthwise_convs_count_nothing():
    a = counts("mobilenet_v1", convention="paddle")
    dw = [c for c in a.layers if c.name.endswith("dw.conv")]
    assert len(dw) == 13 and all(c.flops == 0 and c.convention_params == 0 for c in dw)
    assert a.uncounted["Conv2d"] == 13  # and the report says so
    assert all(c.macs > 0 for c in dw)  # MACs are convention-free


def test_convention_params_default_to_the_true_count():
    for name in ("macs", "flops", "thop", "ptflops", "fvcore"):
        a = counts("mobilenet_v2", convention=name)
        assert a.totals["convention_params"] == a.totals["params"] == 3_504_872


# ---------------------------------------------------------------------------
# No silent zeros

def test_every_layer_type_has_a_flops_rule():
    from calc.layers import LAYER_TYPES

    flops = get_convention("flops")
    assert [op for op in LAYER_TYPES if not flops.has_rule(op, "module")] == []


def test_an_op_without_any_rule_is_listed_not_counted_as_zero(monkeypatch):
    import dataclasses

    import archs
    from calc.counting import analyze

    table = conventions()
    flops = table["flops"]
    monkeypatch.setitem(table, "flops", dataclasses.replace(
        flops, rules={k: v for k, v in flops.rules.items() if k != "Softmax"}))
    a = analyze(archs.build("mobilenet_v1"), convention="flops")
    assert a.uncounted == {"Softmax": 1}
    a = analyze(archs.build("mobilenet_v1"), convention="macs")
    assert a.uncounted["Softmax"] == 1


def test_a_rule_for_an_unknown_layer_type_fails_when_loaded():
    from calc.conventions import parse_conventions

    bad = {"x": {"title": "", "summary": "", "source": "", "sees": ["module"], "rules": {"Conv2D": {"macs": 1}}}}
    with pytest.raises(CalcError, match=r"rules 'Conv2D': unknown layer type; did you mean 'Conv2d'\?"):
        parse_conventions(bad, "test.toml")
    bad["x"]["rules"] = {"ReLU@method": {"elems": 1}}
    with pytest.raises(CalcError, match="unknown invocation 'method'"):
        parse_conventions(bad, "test.toml")


def test_memory_rules_are_checked_when_loaded():
    from calc.conventions import parse_conventions

    base = {"title": "", "summary": "", "source": "", "sees": ["module"], "rules": {}}
    with pytest.raises(CalcError, match="memory 'ReLu': unknown layer type; did you mean 'ReLU'"):
        parse_conventions({"x": {**base, "memory": {"ReLu": "in_place"}}}, "test.toml")
    with pytest.raises(CalcError, match="a whole number of tensors >= 0 or 'in_place', received 1.5"):
        parse_conventions({"x": {**base, "memory": {"Dropout": 1.5}}}, "test.toml")
    c = parse_conventions({"x": {**base, "memory": {"ReLU": "in_place", "Dropout": 2}}}, "test.toml")["x"]
    assert (c.output_weight("ReLU", True), c.output_weight("ReLU", False), c.output_weight("Dropout", False),
            c.output_weight("Conv2d", True)) == (0, 1, 2, 1)


def test_a_relu_whose_input_feeds_another_layer_is_not_in_place():
    # autonn's optimizeVars: a ReLU short-circuits only when no other layer reads its input
    from calc.counting import analyze
    from calc.graph import Network
    from calc.layers import Add, Conv2d, ReLU

    net = Network("n", (4, 8, 8))
    c = net.add("conv", Conv2d(out_channels=4, kernel_size=1), "input")
    r = net.add("relu", ReLU(), c)
    net.add("add", Add(), [c, r])
    a = analyze(net, convention="burden")
    assert [l.convention_activations for l in a.layers] == [256, 256, 256]
    net2 = Network("n", (4, 8, 8))
    net2.add("conv", Conv2d(out_channels=4, kernel_size=1), "input")
    net2.add("relu", ReLU())
    assert [l.convention_activations for l in analyze(net2, convention="burden").layers] == [256, 0]
