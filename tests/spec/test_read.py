"""Reading spec files: errors that name the file, the layer and the field; paths, JSON,
bounds on what a file may ask for."""
from __future__ import annotations


import pytest

import archs
from calc.errors import CalcError
from calc.spec import SpecArchitecture, load_spec
from tests.spec.common import SMALL, spec


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
    from calc.cli.options import is_spec_path, resolve_architecture as get_architecture

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
