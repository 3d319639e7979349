"""Spec files (issue 7): loading, expressions, blocks and stage tables, errors that
name the file, the layer and the field, export round trips of every built-in,
the JSON Schema and the two commands, and fuzzing (nothing but CalcError, ever)."""
from __future__ import annotations

import copy
import json
import os
import re
from functools import lru_cache
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import archs
from archs._blocks import make_divisible
from calc import expr
from calc.cli_spec import export as export_cmd
from calc.cli_spec import schema as schema_cmd
from calc.counting import analyze
from calc.errors import CalcError
from calc.graph import Network
from calc.layers import LAYER_TYPES, Add, BatchNorm2d, Conv2d, Flatten, GlobalAvgPool2d, Linear, ReLU
from calc.spec import (
    BLOCK_KEYS, PARAM_KEYS, STAGES_KEYS, TOP_KEYS, USE_KEYS, SpecArchitecture, dump_spec, export,
    json_schema, load_spec, loads_spec,
)

EXAMPLES = Path(__file__).parent.parent / "examples"


def spec(text: str, label: str = "net.yaml", fmt: str = "yaml") -> SpecArchitecture:
    return loads_spec(text, label=label, fmt=fmt)


def layers_of(net: Network, with_inputs: bool = True):
    return [(n.name, n.layer.op, n.layer.model_dump(), n.inputs if with_inputs else None, n.shape)
            for n in net.layers()]


def same_network(a: Network, b: Network, with_inputs: bool = True) -> None:
    assert layers_of(a, with_inputs) == layers_of(b, with_inputs)
    for convention in ("macs", "flops", "thop"):
        ta, tb = analyze(a, convention=convention), analyze(b, convention=convention)
        assert ta.totals == tb.totals
        assert [c.to_dict() for c in ta.layers] == [c.to_dict() for c in tb.layers]


# ---------------------------------------------------------------------------
# values computed by hand

SMALL = """
name: small
input: [3, 32, 32]
layers:
  - {name: conv, type: Conv2d, out_channels: 16, kernel_size: 3, padding: 1, bias: false}
  - {name: bn, type: BatchNorm2d}
  - {name: relu, type: ReLU}
  - {name: conv2, type: Conv2d, out_channels: 16, kernel_size: 3, padding: 1, bias: false}
  - {name: add, type: Add, inputs: [relu, conv2]}
  - {name: pool, type: GlobalAvgPool2d}
  - {name: flat, type: Flatten}
  - {name: fc, type: Linear, out_features: 10}
"""


def test_small_spec_by_hand():
    a = spec(SMALL)
    net = a.build()
    assert net.name == "small" and net.config == {} and a.family == "spec file" and a.source == "net.yaml"
    t = analyze(net).totals
    # params: conv 16*3*3*3 = 432, bn 2*16 = 32, conv2 16*16*3*3 = 2304, fc 16*10 + 10 = 170
    assert t["params"] == 432 + 32 + 2304 + 170 == 2938
    # MACs: conv 32*32*16 * 27 = 442,368; conv2 32*32*16 * 144 = 2,359,296; fc 16*10 = 160
    assert t["macs"] == 442_368 + 2_359_296 + 160 == 2_801_824
    assert net["add"].inputs == ("relu", "conv2") and net["conv2"].inputs == ("relu",)
    # the same network written with the Python API (the README's example)
    ref = Network("small", (3, 32, 32))
    ref.add("conv", Conv2d(out_channels=16, kernel_size=3, padding=1, bias=False))
    ref.add("bn", BatchNorm2d())
    y = ref.add("relu", ReLU())
    ref.add("conv2", Conv2d(out_channels=16, kernel_size=3, padding=1, bias=False))
    ref.add("add", Add(), [y, "conv2"])
    ref.add("pool", GlobalAvgPool2d()), ref.add("flat", Flatten()), ref.add("fc", Linear(out_features=10))
    same_network(net, ref)


def test_json_example_by_hand():
    a = load_spec(EXAMPLES / "two_branch.json")
    assert [o.name for o in a.options] == ["classes"] and a.reference == "calc example, written by hand"
    net = a.build()
    assert net["mix.cat"].shape == (48, 32, 32)
    t = analyze(net).totals
    # stem 3*16*9 = 432 (+ BN 32); 1x1 16*16 = 256; 3x3 16*16*9 = 2304; BN 2*48 = 96; fc 48*10+10 = 490
    assert t["params"] == 432 + 32 + 256 + 2304 + 96 + 490 == 3610
    # MACs per 32x32 output: stem 16*27, 1x1 16*16, 3x3 16*144; fc 480
    assert t["macs"] == 1024 * (16 * 27 + 16 * 16 + 16 * 144) + 480 == 3_064_288
    assert analyze(a.build(classes=100)).totals["params"] == 3610 - 490 + 48 * 100 + 100


def test_expressions_params_and_vars():
    a = spec("""
params:
  alpha: {default: 1.0, min: 0, max: 4, min_exclusive: true, help: width}
  res: 64
vars: {c: "${make_divisible(24 * alpha)}", half: "${res // 2}"}
input: [3, "${res}", "${res}"]
layers:
  - {name: conv, type: Conv2d, out_channels: "${c}", kernel_size: 3, stride: 2, padding: 1}
  - {name: dw, type: Conv2d, out_channels: "${in_channels}", groups: "${in_channels}", kernel_size: [1, "${1 + 2}"], padding: [0, 1]}
  - {name: pool, type: AvgPool2d, kernel_size: "${in_height // 4}"}
  - {name: fc_in, type: Flatten}
  - {name: fc, type: Linear, out_features: "${channels('conv') * height('pool') * width('pool')}", bias: "${alpha > 1}"}
""")
    assert [(o.name, o.kind, o.default) for o in a.options] == [("alpha", float, 1.0), ("res", int, 64)]
    net = a.build(alpha=0.5, res=96)
    assert net.config == {"alpha": 0.5, "res": 96}
    c = make_divisible(24 * 0.5)
    assert net["conv"].shape == (c, 48, 48)
    assert net["dw"].layer.groups == c and net["dw"].layer.kernel_size == (1, 3)
    assert net["pool"].layer.kernel_size == 12 and net["pool"].shape == (c, 4, 4)
    assert net["fc"].layer.out_features == c * 16 and net["fc"].layer.bias is False
    assert a.build(alpha=2.0)["fc"].layer.bias is True


# ---------------------------------------------------------------------------
# blocks, repeats and stage tables


def test_mobilenet_v2_spec_matches_the_builtin():
    a = load_spec(EXAMPLES / "mobilenet_v2.yaml")
    for alpha, res in [(1.0, 224), (0.75, 192), (0.35, 96), (1.4, 224)]:
        # the spec's residual adds list (project, in): a skipped add stands for its first input
        same_network(a.build(alpha=alpha, res=res), archs.build("mobilenet_v2", alpha=alpha, res=res),
                     with_inputs=False)
    assert analyze(a.build(alpha=0.75, res=192)).totals["macs"] == 153_941_888


def _python_cifar_resnet(depth: int, alpha: float = 1.0, res: int = 32, classes: int = 10) -> Network:
    """The tiny_resnet example written with the Python API, to check the spec file's semantics."""
    net = Network("tiny_resnet", (3, res, res))

    def cbn(name, x, c, k, s, relu=True):
        x = net.add(f"{name[0]}", Conv2d(out_channels=c, kernel_size=k, stride=s, padding=k // 2, bias=False), x)
        x = net.add(f"{name[1]}", BatchNorm2d(), x)
        return net.add(name[2], ReLU(), x) if relu else x

    x = cbn(("stem.conv", "stem.bn", "stem.relu"), "input", int(16 * alpha), 3, 1)
    n = (depth - 2) // 6
    for si, c in enumerate((16, 32, 64), start=1):
        c = int(c * alpha)
        for i in range(n):
            p, s = f"stage{si}.block{i}", (2 if si > 1 and i == 0 else 1)
            y = cbn((f"{p}.conv1", f"{p}.bn1", f"{p}.relu1"), x, c, 3, s)
            y = cbn((f"{p}.conv2", f"{p}.bn2", None), y, c, 3, 1, relu=False)
            short = x
            if s != 1 or net[x].shape[0] != c:
                short = cbn((f"{p}.shortcut.conv", f"{p}.shortcut.bn", None), x, c, 1, s, relu=False)
            y = net.add(f"{p}.add", Add(), [y, short])
            x = net.add(f"{p}.relu", ReLU(), y)
    net.add("pool", GlobalAvgPool2d()), net.add("flatten", Flatten()), net.add("fc", Linear(out_features=classes))
    return net


def test_tiny_resnet_example():
    a = load_spec(EXAMPLES / "tiny_resnet.yaml")
    assert [o.name for o in a.options] == ["depth", "alpha", "res", "classes"]
    assert a.option("depth").choices == (20, 32, 44, 56, 110)
    for depth, alpha in [(20, 1.0), (32, 0.5), (110, 1.0)]:
        same_network(a.build(depth=depth, alpha=alpha), _python_cifar_resnet(depth, alpha))
    net = a.build()
    # ResNet-20: the paper's 0.27 M (option A shortcuts) + two projections (16*32 + 64 and 32*64 + 128)
    assert analyze(net).totals["params"] == 272_474 == 269_722 + (512 + 64) + (2048 + 128)
    assert "stage1.block0.shortcut.conv" not in net and "stage2.block0.shortcut.conv" in net
    assert net["stage1.block0.add"].inputs == ("stage1.block0.bn2", "stem.relu")
    assert net["stage2.block1.add"].inputs == ("stage2.block1.bn2", "stage2.block0.relu")
    with pytest.raises(CalcError, match=r"tiny_resnet: option --depth must be one of 20\|32\|44\|56\|110, received 21"):
        a.build(depth=21)


def test_mobilenet_like_family():
    a = load_spec(EXAMPLES / "mobilenet_like_family.yaml")
    assert a.name == "sketchnet" and [o.name for o in a.options] == ["alpha", "res", "classes"]
    net = a.build()
    names = {n.name for n in net.layers()}
    # the stage table: 1 + 2 + 3 + 3 + 2 + 2 blocks; SE in stages 3, 5, 6; no expansion in stage 1;
    # residuals wherever the shape is kept (stage 1 too: the stem already has 16 channels)
    assert {n.split(".")[0] for n in names if n.startswith("stage")} == {f"stage{i}" for i in range(1, 7)}
    assert {n.rsplit(".", 2)[0] for n in names if n.endswith(".se.scale")} == {
        f"stage{s}.block{b}" for s, n in ((3, 3), (5, 2), (6, 2)) for b in range(n)}
    assert "stage1.block0.expand.conv" not in names and "stage2.block0.expand.conv" in names
    adds = sorted(n for n in names if n.endswith(".add"))
    assert adds == ["stage1.block0.add", "stage2.block1.add", "stage3.block1.add", "stage3.block2.add", "stage4.block1.add",
                    "stage4.block2.add", "stage5.block1.add", "stage6.block1.add"]
    assert net["stage6.block1.dw.conv"].layer.kernel_size == 5 and net["stage6.block1.dw.conv"].shape == (960, 5, 5)
    t = analyze(net).totals
    assert (t["params"], t["macs"]) == (3_245_608, 117_756_192)
    t = analyze(a.build(alpha=0.5, res=128)).totals
    assert (t["params"], t["macs"]) == (1_621_168, 25_964_800)
    with pytest.raises(CalcError, match=r"sketchnet: option --alpha must be in \(0, 4\], received 0"):
        a.build(alpha=0)
    with pytest.raises(CalcError, match=r"sketchnet does not take --groups \(it takes --alpha, --res, --classes\)"):
        a.build(groups=2)


def test_repeat_first_stride_rep_and_nested_blocks():
    a = spec("""
params: {n: 3}
input: [8, 16, 16]
blocks:
  unit:
    args: {c: ~, s: 1}
    layers:
      - {name: conv, type: Conv2d, out_channels: "${c + rep}", kernel_size: 3, stride: "${s}", padding: 1}
      - {name: inner, block: act}
  act:
    layers: [{name: relu, type: ReLU}]
layers:
  - {name: body, block: unit, repeat: "${n}", args: {c: 8, s: 2}}
  - {name: tail, type: ReLU, inputs: body}
  - {name: again, block: unit, args: {c: 4}, inputs: body.block0}
""")
    net = a.build()
    assert [n.name for n in net.layers()] == [
        "body.block0.conv", "body.block0.inner.relu", "body.block1.conv", "body.block1.inner.relu",
        "body.block2.conv", "body.block2.inner.relu", "tail", "again.conv", "again.inner.relu"]
    assert [net[f"body.block{i}.conv"].layer.stride for i in range(3)] == [2, 1, 1]
    assert [net[f"body.block{i}.conv"].layer.out_channels for i in range(3)] == [8, 9, 10]
    assert net["tail"].inputs == ("body.block2.inner.relu",)
    assert net["again.conv"].inputs == ("body.block0.inner.relu",)
    assert net["again.conv"].layer.out_channels == 4  # rep is 0 in a plain use
    with pytest.raises(CalcError, match="net.yaml: block use 'again': input 'body.block0' is not defined"):
        a.build(n=0)  # no repetition, no body.block0; 'body' itself stands for the input
    net = spec(SMALL.replace("layers:", "blocks: {b: {layers: [{name: r, type: ReLU}]}}\nlayers:\n"
                             "  - {name: none, block: b, repeat: 0}")).build()
    assert net["conv"].inputs == ("input",) and len(net) == 8


def test_yaml_anchors_and_merge_keys():
    net = spec("""
input: [3, 8, 8]
x-conv3: &conv3 {type: Conv2d, kernel_size: 3, padding: 1, bias: false}
layers:
  - {<<: *conv3, name: c1, out_channels: 8}
  - {<<: *conv3, name: c2, out_channels: 4, kernel_size: 1, padding: 0}
""").build()
    assert [(n.name, n.layer.kernel_size, n.shape) for n in net.layers()] == [("c1", 3, (8, 8, 8)), ("c2", 1, (4, 8, 8))]


def test_if_skips_and_stands_for_its_input():
    a = spec("""
params: {proj: 1}
input: [4, 8, 8]
layers:
  - {name: a, type: ReLU}
  - {name: p, type: Conv2d, out_channels: 8, kernel_size: 1, if: "${proj == 1}"}
  - {name: q, type: BatchNorm2d, if: "${proj == 1}"}
  - {name: b, type: Conv2d, inputs: a, out_channels: 8, kernel_size: 1, if: false}
  - {name: c, type: Conv2d, inputs: a, out_channels: "${in_channels * 2}", kernel_size: 1}
  - {name: cat, type: Concat, inputs: [q, b, c]}
""")
    net = a.build()
    assert net["cat"].inputs == ("q", "a", "c") and net["cat"].shape == (8 + 4 + 8, 8, 8)
    net = a.build(proj=0)
    assert "p" not in net and net["cat"].inputs == ("a", "a", "c") and net["cat"].shape == (16, 8, 8)


# ---------------------------------------------------------------------------
# round trips: export every built-in and load it back


@lru_cache(maxsize=None)
def _builtin(name: str, options: tuple = ()) -> Network:
    return archs.build(name, **dict(options))


@pytest.mark.parametrize("name", sorted(archs.ARCHITECTURES))
def test_export_round_trip_every_builtin(name, tmp_path):
    net = _builtin(name)
    path = tmp_path / f"{name}.yaml"
    path.write_text(dump_spec(export(name), "yaml"))
    back = load_spec(path)
    assert back.options == () and back.family == "spec file"
    loaded = back.build()
    assert loaded.name == name and loaded.notes == net.notes and loaded.input_shape == net.input_shape
    same_network(loaded, net)


@pytest.mark.parametrize("name, options", [
    ("mobilenet_v2", {"alpha": 0.75, "res": 192}),
    ("mobilenet_v1", {"alpha": 0.25, "variant": "as_printed"}),
    ("shufflenet_v1", {"groups": 8, "alpha": 0.5}),
    ("shufflenet_v2", {"alpha": 2.0, "variant": "megvii"}),
    ("resnet50", {"variant": "v1", "res": 160, "classes": 10}),
    ("se_resnext50_32x4d", {}),
])
def test_export_round_trip_options_and_json(name, options, tmp_path):
    net = archs.build(name, **options)
    doc = export(name, **options)
    assert doc["meta"]["config"] == net.config
    path = tmp_path / "net.json"
    path.write_text(dump_spec(doc, "json"))
    assert json.loads(path.read_text()) == doc
    same_network(load_spec(path).build(), net)


def test_export_writes_only_what_differs():
    doc = export("mobilenet_v2")
    rows = {d["name"]: d for d in doc["layers"]}
    assert doc["input"] == [3, 224, 224] and doc["meta"]["config"] == {"alpha": 1.0, "res": 224, "classes": 1000}
    assert rows["stem.conv"] == {"name": "stem.conv", "type": "Conv2d", "out_channels": 32, "kernel_size": 3,
                                 "stride": 2, "padding": 1, "bias": False}
    assert rows["stem.bn"] == {"name": "stem.bn", "type": "BatchNorm2d"}
    assert rows["pool"]["impl"] == "functional"  # GlobalAvgPool2d's own default is "module"
    assert rows["stage2.block1.add"]["inputs"] == ["stage2.block0.project.bn", "stage2.block1.project.bn"]
    assert "impl" not in rows["stage2.block1.add"]  # Add's default impl is "operator"


def test_export_of_spec_files_round_trips():
    for f, options in [("tiny_resnet.yaml", {"depth": 32}), ("mobilenet_like_family.yaml", {"alpha": 0.75})]:
        a = load_spec(EXAMPLES / f)
        text = dump_spec(export(a, **options))
        same_network(spec(text).build(), a.build(**options))


# ---------------------------------------------------------------------------
# the JSON Schema


def test_schema_covers_the_format():
    s = json_schema()
    assert set(s["properties"]) == set(TOP_KEYS)
    assert set(s["$defs"]["Param"]["properties"]) == set(PARAM_KEYS)
    assert set(s["$defs"]["Block"]["properties"]) == set(BLOCK_KEYS)
    assert set(s["$defs"]["Stages"]["properties"]["stages"]["properties"]) == set(STAGES_KEYS)
    for kind, key in (("use", "BlockUse"), ("repeat", "Repeat"), ("stages", "Stages")):
        assert set(s["$defs"][key]["properties"]) == set(USE_KEYS[kind])
    assert set(s["$defs"]["Layer"]["discriminator"]["mapping"]) == set(LAYER_TYPES)
    conv = s["$defs"]["Conv2d"]
    assert conv["required"] == ["name", "type", "out_channels", "kernel_size"]
    assert set(conv["properties"]) >= {"name", "type", "inputs", "if", "groups", "padding", "impl"}


def test_schema_accepts_examples_and_exports():
    import jsonschema  # the test extra installs it
    validator = jsonschema.Draft202012Validator(json_schema())
    docs = [yaml.safe_load(p.read_text()) for p in sorted(EXAMPLES.glob("*.yaml"))]
    docs += [json.loads(p.read_text()) for p in sorted(EXAMPLES.glob("*.json"))]
    docs += [export(n) for n in ("mobilenet_v2", "shufflenet_v2", "se_resnet50", "resnet50_vd")]
    assert len(docs) >= 7
    for doc in docs:
        validator.validate(doc)
    bad = copy.deepcopy(docs[0])
    bad["layers"][0]["kernal_size"] = 3
    assert not validator.is_valid(bad)


# ---------------------------------------------------------------------------
# the commands


def test_schema_command():
    r = CliRunner().invoke(schema_cmd, [])
    assert r.exit_code == 0
    assert json.loads(r.output) == json_schema()


def test_export_command(tmp_path):
    runner = CliRunner()
    r = runner.invoke(export_cmd, ["mobilenet_v2", "--alpha", "0.75", "--res", "192"])
    assert r.exit_code == 0, r.output
    assert r.output.startswith("# mobilenet_v2 (alpha=0.75, res=192, classes=1000): written by `calc export`.")
    assert analyze(spec(r.output).build()).totals["macs"] == 153_941_888
    out = tmp_path / "r18.json"
    r = runner.invoke(export_cmd, ["resnet18", "--classes", "10", "-o", str(out)])
    assert r.exit_code == 0 and r.output == ""
    assert json.loads(out.read_text())["layers"][-1] == {"name": "fc", "type": "Linear", "out_features": 10}
    same_network(load_spec(out).build(), archs.build("resnet18", classes=10))
    r = runner.invoke(export_cmd, [str(EXAMPLES / "tiny_resnet.yaml"), "--format", "json"])
    assert r.exit_code == 0 and json.loads(r.output)["meta"]["config"]["depth"] == 20


@pytest.mark.parametrize("args, message", [
    (["mobilenet_v3"], "unknown architecture 'mobilenet_v3'"),
    (["resnet18", "--alpha", "0.5"], "resnet18 does not take --alpha"),
    (["missing.yaml"], "missing.yaml: no such spec file"),
])
def test_export_command_errors(args, message):
    r = CliRunner().invoke(export_cmd, args)
    assert isinstance(r.exception, CalcError) and message in str(r.exception)


# ---------------------------------------------------------------------------
# errors: the file, the layer and the field

NET = """\
params: {alpha: {default: 1.0, min: 0, max: 4, min_exclusive: true}, res: 32}
input: [3, "${res}", "${res}"]
layers:
%s"""

BLOCKS = """\
input: [8, 16, 16]
blocks:
  unit:
    args: {c: ~, s: 1}
    layers:
      - {name: conv, type: Conv2d, out_channels: "${c}", kernel_size: 3, stride: "${s}", padding: 1}
%s
layers:
%s"""

ERRORS = [
    # YAML itself
    ("input: [3, 32\nlayers: []\n", "net.yaml:2:7: YAML error: did not find expected ',' or ']'"),
    ("input: [3, 8, 8]\nlayers:\n  - !!python/object/apply:os.system [echo hi]\n",
     "net.yaml:3:5: YAML error: could not determine a constructor for the tag "
     "'tag:yaml.org,2002:python/object/apply:os.system' (spec files are plain YAML"),
    ("input: [3, 8, 8]\nlayers:\n  - {name: a, type: ReLU, name: b}\n", "net.yaml:3:27: YAML error: duplicate key 'name'"),
    ("- just\n- a list\n", "net.yaml: a spec file is a mapping with 'input' and 'layers'"),
    ("input: [3, 8, 8]\nlayer: []\n", "net.yaml: unknown key 'layer'; did you mean 'layers'?"),
    # layer types and fields
    (NET % "  - {name: c1, type: Conv3d, out_channels: 8, kernel_size: 3}",
     "net.yaml: layer 'c1': unknown layer type 'Conv3d'; did you mean 'Conv2d'?"),
    (NET % "  - {name: c1, type: Conv2d, out_channels: 8, kernel_sise: 3}",
     "net.yaml: layer 'c1' (Conv2d): field kernel_sise: unknown field; did you mean 'kernel_size'?"),
    (NET % "  - {name: c1, type: Conv2d, out_channels: eight, kernel_size: 3}",
     "net.yaml: layer 'c1' (Conv2d): field out_channels: Input should be a valid integer, unable to parse "
     "string as an integer, received 'eight'"),
    (NET % "  - {name: c1, type: Conv2d, out_channels: '${10 * alpha / 3}', kernel_size: 3}",
     "net.yaml: layer 'c1' (Conv2d): field out_channels: Input should be a valid integer, got a number with a "
     "fractional part, received 3.3333333333333335 from ${10 * alpha / 3}"),
    (NET % "  - {name: c1, type: Conv2d, kernel_size: 3}", "net.yaml: layer 'c1' (Conv2d): field out_channels: Field required"),
    (NET % "  - {name: c1, type: MaxPool2d, kernel_size: [2, 2, 2]}",
     "net.yaml: layer 'c1' (MaxPool2d): field kernel_size: "),
    (NET % "  - {name: d, type: Dropout, p: 1.5}", "net.yaml: layer 'd' (Dropout): Dropout p must be in [0, 1), received 1.5"),
    (NET % "  - {name: c1, type: Conv2d, out_channels: 100000000000000, kernel_size: 3}",
     "net.yaml: layer 'c1' (Conv2d): field out_channels: 100000000000000 is out of range"),
    # references
    (NET % "  - {name: conv1, type: ReLU}\n  - {name: add, type: Add, inputs: [conv1, conv2]}",
     "net.yaml: layer 'add' (Add): input 'conv2' is not defined; did you mean 'conv1'?"),
    (NET % "  - {name: a, type: ReLU, inputs: b}\n  - {name: b, type: ReLU, inputs: a}",
     "net.yaml: layers form a cycle: b -> a -> b"),
    (NET % "  - {name: a, type: ReLU, inputs: b}\n  - {name: b, type: ReLU, inputs: input}",
     "net.yaml: layer 'a' (ReLU): input 'b' comes later in the file"),
    (NET % "  - {name: a, type: ReLU}\n  - {name: a, type: ReLU}", "net.yaml: layer 'a': name already used"),
    (NET % "  - {name: input, type: ReLU}", "net.yaml: layers item 1: 'name' is reserved, received 'input'"),
    (NET % "  - {name: a, type: ReLU, inputs: in}",
     "net.yaml: layer 'a' (ReLU): input 'in': 'in' names a block's input, and is only defined inside a block"),
    # shapes
    (NET % "  - {name: c1, type: Conv2d, out_channels: 8, kernel_size: 3, padding: 1}\n"
           "  - {name: c2, type: Conv2d, out_channels: 16, kernel_size: 3, padding: 1}\n"
           "  - {name: add, type: Add, inputs: [c1, c2]}",
     "net.yaml: layer 'add' (Add, input 8x32x32, 16x32x32): Add needs inputs of equal shape"),
    (NET % "  - {name: c1, type: Conv2d, out_channels: 8, kernel_size: 3, groups: 2}",
     "net.yaml: layer 'c1' (Conv2d, input 3x32x32): input channels must be divisible by groups; "
     "received channels=3, groups=2"),
    (NET % "  - {name: c1, type: Conv2d, out_channels: 9, kernel_size: 3, groups: 2}",
     "net.yaml: layer 'c1' (Conv2d): Conv2d out_channels must be divisible by groups"),
    (NET % "  - {name: c1, type: Conv2d, out_channels: 8, kernel_size: 3, stride: 64}",
     "net.yaml: layer 'c1' (Conv2d, input 3x32x32): feature map vanishes: Conv2d with stride 64 received H=32"),
    (NET % "  - {name: fc, type: Linear, out_features: 10}",
     "net.yaml: layer 'fc' (Linear, input 3x32x32): Linear needs a flat vector input"),
    # expressions
    (NET % "  - {name: c1, type: Conv2d, out_channels: '${alpah * 8}', kernel_size: 3}",
     "net.yaml: layer 'c1' (Conv2d): field out_channels: ${alpah * 8}: name 'alpah' is not defined; "
     "did you mean 'alpha'?"),
    (NET % "  - {name: c1, type: Conv2d, out_channels: '${8 *}', kernel_size: 3}",
     "net.yaml: layer 'c1' (Conv2d): field out_channels: ${8 *}: invalid expression"),
    (NET % "  - {name: c1, type: Conv2d, out_channels: '${().__class__}', kernel_size: 3}",
     "field out_channels: ${().__class__}: Attribute is not allowed"),
    (NET % "  - {name: c1, type: Conv2d, out_channels: '${__import__(\"os\").getpid()}', kernel_size: 3}",
     "field out_channels: ${__import__(\"os\").getpid()}: calling anything but a function name is not allowed"),
    (NET % "  - {name: c1, type: Conv2d, out_channels: '${open(\"x\")}', kernel_size: 3}",
     "field out_channels: ${open(\"x\")}: unknown function open()"),
    (NET % "  - {name: c1, type: Conv2d, out_channels: 'c${8}', kernel_size: 3}",
     "field out_channels: c${8}: an expression must be the whole value"),
    (NET % "  - {name: c1, type: Conv2d, out_channels: '${8 // 0}', kernel_size: 3}",
     "field out_channels: ${8 // 0}: division by zero"),
    (NET % "  - {name: c1, type: Conv2d, out_channels: '${9 ** 9 ** 9}', kernel_size: 3}",
     "field out_channels: ${9 ** 9 ** 9}: 9 ** 387420489 is too large"),
    (NET % "  - {name: c1, type: ReLU, if: '${alpha}'}", "net.yaml: layer 'c1' (ReLU): if: ${alpha} must be true or false"),
    (NET % "  - {name: c1, type: Conv2d, out_channels: \"${channels('c2')}\", kernel_size: 1}\n  - {name: c2, type: ReLU}",
     "field out_channels: ${channels('c2')}: channels('c2'): 'c2' comes later in the file"),
    ("input: [3, '${res}', 8]\nlayers: [{name: a, type: ReLU}]\n", "net.yaml: input: ${res}: name 'res' is not defined"),
    ("params: {res: {default: 0, min: 1}}\ninput: [3, 8, 8]\nlayers: [{name: a, type: ReLU}]\n",
     "net.yaml: params.res: default: net: option --res must be in [1, inf], received 0"),
    # blocks
    (BLOCKS % ("", "  - {name: b, block: unit, args: {c: 8, k: 3}}"),
     "net.yaml: block use 'b': block 'unit' has no argument 'k' (it takes c, s)"),
    (BLOCKS % ("", "  - {name: b, block: unit}"), "net.yaml: block use 'b': block 'unit' needs the argument 'c'"),
    (BLOCKS % ("", "  - {name: b, block: unti, args: {c: 8}}"),
     "net.yaml: block use 'b': unknown block 'unti'; did you mean 'unit'? (defined: unit)"),
    (BLOCKS % ("      - {name: add, type: Add, inputs: [conv, con]}", "  - {name: b, block: unit, args: {c: 8}}"),
     "net.yaml: layer 'b.add' (Add): input 'con' is not defined; did you mean 'b.conv'? (looked for b.con, con)"),
    (BLOCKS % ("      - {name: add, type: Add, inputs: [conv, in]}", "  - {name: b, block: unit, repeat: 2, args: {c: 4}}"),
     "net.yaml: layer 'b.block0.add' (Add, input 4x16x16, 8x16x16): Add needs inputs of equal shape"),
    (BLOCKS % ("      - {name: again, block: unit, args: {c: 8}}", "  - {name: b, block: unit, args: {c: 8}}"),
     "net.yaml: blocks use each other in a cycle: unit -> unit"),
    (BLOCKS % ("", "  - {name: b, block: unit, repeat: -1, args: {c: 8}}"),
     "net.yaml: repeat 'b': repeat: must be an integer in [0, 50000], received -1"),
    (BLOCKS % ("", "  - {name: b, block: unit, repeat: \"${channels('in')}\", args: {c: 8}}"),
     "net.yaml: repeat 'b': repeat: ${channels('in')}: channels() cannot be used here"),
    (BLOCKS % ("", "  - {name: s, block: unit, stages: {columns: [c, n], rows: [[8, 1], [8]]}}"),
     "net.yaml: stages 's': stages row 2 must be a list of 2 values (c, n), received [8]"),
    (BLOCKS % ("", "  - {name: b, block: unit, args: {c: \"${in_channels}\"}}"),
     "net.yaml: block use 'b': args.c: ${in_channels}: in_channels is only defined in a layer's own fields and if"),
]


@pytest.mark.parametrize("text, message", ERRORS, ids=[str(i) for i in range(len(ERRORS))])
def test_errors_name_the_file_layer_and_field(text, message):
    with pytest.raises(CalcError) as info:
        spec(text).build()
    assert str(info.value).startswith(message) or message in str(info.value), str(info.value)
    assert len(str(info.value).splitlines()) == 1


def test_spec_paths(tmp_path, monkeypatch):
    from calc.spec import get_architecture, is_spec_path

    monkeypatch.chdir(tmp_path)
    (tmp_path / "resnet18").write_text(SMALL)  # a file named like a built-in: the built-in wins
    (tmp_path / "mynet").write_text(SMALL)
    assert is_spec_path("x.yaml") and is_spec_path("X.JSON") and is_spec_path("mynet")
    assert not is_spec_path("resnet18") and not is_spec_path("mobilenet_v2")
    assert get_architecture("resnet18") is archs.get("resnet18")
    a = get_architecture("mynet")
    assert isinstance(a, SpecArchitecture) and a.name == "small" and a.source == "mynet"


def test_json_errors(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"input": [3, 8, 8],\n "layers": [}\n')
    with pytest.raises(CalcError, match=r"bad\.json:2:13: JSON error: Expecting value"):
        load_spec(bad)
    bad.write_text('{"input": [3, 8, 8], "input": [3, 9, 9], "layers": []}')
    with pytest.raises(CalcError, match=r"bad\.json: JSON error: duplicate key 'input'"):
        load_spec(bad)
    with pytest.raises(CalcError, match=r"nope\.yaml: no such spec file"):
        load_spec(tmp_path / "nope.yaml")


def test_yaml_alias_bomb_is_refused():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, "
              f"*a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 9)]
    with pytest.raises(CalcError, match="the document is too large"):
        spec("\n".join(lines) + "\ninput: [3, 8, 8]\nlayers: *a8\n")
    with pytest.raises(CalcError, match="the document is too large"):
        spec("input: &x [3, 8, *x]\nlayers: []\n")  # a structure that contains itself


# ---------------------------------------------------------------------------
# the expression language


def _names(name):
    values = {"a": 6, "alpha": 0.75, "s": "wide"}
    if name not in values:
        raise expr.ExprError(f"name {name!r} is not defined")
    return values[name]


def test_expressions():
    def ev(src):
        return expr.evaluate(src, _names)

    assert ev("a * 2 + 1") == 13 and ev("a / 4") == 1.5 and ev("a // 4") == 1 and ev("-a % 4") == 2
    assert ev("2 ** 10") == 1024 and ev("(a + 2) * alpha") == 6.0
    assert ev("make_divisible(32 * alpha)") == 24 and ev("make_divisible(100, divisor=16)") == 96
    assert ev("max(1.0, alpha) * 1280") == 1280 and ev("min(a, 4, 5)") == 4 and ev("round(2.5)") == 2
    assert ev("floor(alpha * 10) + ceil(alpha)") == 8 and ev("int(7.9)") == 7
    assert ev("a if alpha < 1 else 0") == 6 and ev("1 < a <= 6") is True and ev("not (a == 6)") is False
    assert ev("s == 'wide' and a > 1") is True and ev("true or false") is True
    for bad, msg in [("a.real", "Attribute is not allowed"), ("[1, 2]", "List is not allowed"),
                     ("lambda: 1", "Lambda is not allowed"), ("x[0]", "Subscript is not allowed"),
                     ("[i for i in (1,)]", "ListComp is not allowed"), ("s * 3", "operator * needs numbers"),
                     ("min(s)", "min() takes numbers"), ("sqrt(-1)", "sqrt(): math domain error"),
                     ("1e308 * 10", "not a finite number"), ("b", "is not defined"), ("1j", "is not allowed"),
                     ("f(*a)", "not allowed"), ("round(a, 10 ** 9)", "ndigits must be"), ("s < 1", "cannot compare")]:
        with pytest.raises(expr.ExprError, match=re.escape(msg)):
            ev(bad)


@st.composite
def arithmetic(draw, depth=0):
    """(text, value) of a random integer expression, its value computed alongside."""
    if depth > 3 or draw(st.booleans()):
        v = draw(st.integers(-50, 50))
        return (f"({v})" if v < 0 else str(v)), v
    (ta, a), (tb, b) = draw(arithmetic(depth + 1)), draw(arithmetic(depth + 1))
    op = draw(st.sampled_from(["+", "-", "*", "//", "%", "max", "min"]))
    if op in ("//", "%") and b == 0:
        op = "+"
    if op in ("max", "min"):
        return f"{op}({ta}, {tb})", (max if op == "max" else min)(a, b)
    value = {"+": a + b, "-": a - b, "*": a * b, "//": a // b if b else 0, "%": a % b if b else 0}[op]
    return f"({ta} {op} {tb})", value


@given(arithmetic())
@settings(max_examples=200, deadline=None)
def test_expression_arithmetic_property(case):
    text, value = case
    assert expr.evaluate(text, lambda n: 0) == value


# ---------------------------------------------------------------------------
# fuzzing: any mutation of a valid file gives a network or a CalcError, nothing else

FUZZ_BASE = """\
name: fuzz
params:
  alpha: {default: 1.0, min: 0, max: 4, min_exclusive: true}
  res: {default: 16, min: 4, max: 64}
vars: {c: "${make_divisible(16 * alpha)}"}
input: [3, "${res}", "${res}"]
blocks:
  unit:
    args: {c: ~, s: 1, t: 2}
    layers:
      - {name: expand, type: Conv2d, out_channels: "${in_channels * t}", kernel_size: 1, bias: false, if: "${t != 1}"}
      - {name: dw, type: Conv2d, out_channels: "${in_channels}", groups: "${in_channels}", kernel_size: 3, stride: "${s}", padding: 1}
      - {name: bn, type: BatchNorm2d}
      - {name: project, type: Conv2d, out_channels: "${c}", kernel_size: 1}
      - {name: add, type: Add, inputs: [project, in], if: "${s == 1 and channels('in') == c}"}
layers:
  - {name: stem, type: Conv2d, out_channels: "${c}", kernel_size: 3, stride: 2, padding: 1}
  - {name: act, type: ReLU6}
  - {name: body, block: unit, repeat: 2, args: {c: "${c}", s: 1}}
  - name: stage
    block: unit
    stages: {columns: [t, c, n, s], rows: [[1, 16, 1, 1], [2, "${c * 2}", 2, 2]]}
  - {name: side, type: MaxPool2d, inputs: act, kernel_size: 2, stride: 2}
  - {name: side2, type: Conv2d, out_channels: 32, kernel_size: 1}
  - {name: cat, type: Concat, inputs: [stage, side2]}
  - {name: shuffle, type: ChannelShuffle, groups: 2}
  - {name: split, type: ChannelSplit, index: 1}
  - {name: pool, type: GlobalAvgPool2d}
  - {name: flat, type: Flatten}
  - {name: fc, type: Linear, out_features: 10}
"""
FUZZ_DOC = yaml.safe_load(FUZZ_BASE)
#: raise for a longer hunt: CALC_FUZZ_EXAMPLES=20000 pytest tests/test_spec.py -k fuzz
FUZZ_EXAMPLES = int(os.environ.get("CALC_FUZZ_EXAMPLES", "400"))


def test_fuzz_base_is_valid():
    net = spec(FUZZ_BASE).build()
    assert net["cat"].shape == (64, 4, 4) and net["fc"].shape == (10,)


JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 70), st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8),
    st.sampled_from(["${alpha}", "${1 / 0}", "${c * 2}", "${channels('in')}", "${in_channels}", "${rep}",
                     "${9 ** 99}", "${c", "${}", "in", "input", "stem", "body", "stage1.block0", "Conv2d",
                     "Add", "unit", "${'a' < 1}", "${min()}", "${height('flat')}", "same", "valid", "${s}",
                     "${t * 1.5}", "${make_divisible(c, divisor=0)}", "${int(1e300)}", "${channels(1)}"]),
    st.lists(st.integers(-2, 5), max_size=3),
    st.dictionaries(st.sampled_from(["name", "type", "a", "c", "default"]), st.integers(0, 3), max_size=2),
)


def _paths(doc, prefix=()):
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, prefix + (i,))


PATHS = [p for p in _paths(FUZZ_DOC) if p]


def _mutate(doc, path, action, junk, key):
    doc = copy.deepcopy(doc)
    *head, last = path
    parent = doc
    for k in head:
        parent = parent[k]
    if action == "replace":
        parent[last] = junk
    elif action == "delete":
        del parent[last]
    elif action == "insert" and isinstance(parent[last], dict):
        parent[last][key] = junk
    elif action == "insert" and isinstance(parent[last], list):
        parent[last].insert(0, junk)
    elif action == "swap" and isinstance(parent, list) and len(parent) > 1:
        parent[0], parent[-1] = parent[-1], parent[0]
    else:
        parent[last] = junk
    return doc


def _load_build_analyze(text, fmt="yaml"):
    try:
        net = spec(text, fmt=fmt).build()
        analyze(net, convention="flops")
    except CalcError as e:
        assert len(str(e).splitlines()) == 1, str(e)


@given(st.lists(st.tuples(st.sampled_from(PATHS), st.sampled_from(["replace", "delete", "insert", "swap"]), JUNK,
                          st.sampled_from(["name", "type", "inputs", "if", "kernel_size", "groups", "x", "block"])),
                min_size=1, max_size=3),
       st.sampled_from(["yaml", "json"]))
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_fuzz_structured_mutations(mutations, fmt):
    doc = FUZZ_DOC
    for path, action, junk, key in mutations:
        try:
            doc = _mutate(doc, path, action, junk, key)
        except (KeyError, IndexError, TypeError):
            pass  # an earlier mutation removed the path
    if fmt == "json":
        text = json.dumps(doc, default=str)
    else:
        text = yaml.safe_dump(doc, sort_keys=False)
    _load_build_analyze(text, fmt)


@given(st.lists(st.tuples(st.integers(0, len(FUZZ_BASE)), st.integers(0, 6),
                          st.text(alphabet=st.sampled_from(list("{}[]:,-&*!|>'\"#%@`$ \n\t0123456789abxyz.")), max_size=4)),
                min_size=1, max_size=4))
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_fuzz_text_mutations(edits):
    text = FUZZ_BASE
    for pos, cut, insert in edits:
        pos = min(pos, len(text))
        text = text[:pos] + insert + text[pos + cut:]
    _load_build_analyze(text)


@given(st.text(max_size=200))
@settings(max_examples=FUZZ_EXAMPLES // 2, deadline=None)
def test_fuzz_arbitrary_text(text):
    _load_build_analyze(text)
    _load_build_analyze(text, "json")
