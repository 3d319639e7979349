"""Inputs of any shape: ``--res 600x850`` (H x W) in every command and spec file; a single number
stays square.  The reference for the counts is calc's own square path and the layers' formulas
applied per axis (a ResNet-18 at 600 x 850 is the same network as at 224, on another map)."""
import json

import pytest

import archs
from calc.counting import analyze
from calc.errors import CalcError
from calc.graph import Network
from calc.registry import RES
from calc.resolution import HW, resolution, sides, spatial
from calc.spec import loads_spec


def test_resolution_values():
    assert resolution(224) == resolution("224") == resolution(224.0) == resolution("224x224") == 224
    assert resolution("600x850") == resolution("600 X 850") == resolution([600, 850]) == HW(600, 850)
    assert str(HW(600, 850)) == "600x850" and json.dumps({"res": HW(600, 850)}) == '{"res": [600, 850]}'
    assert sides(224) == (224, 224) and sides(HW(600, 850)) == (600, 850)
    for bad in ("600x", "x850", "6e2", 224.5, True, [600], "600x850x3"):
        with pytest.raises(ValueError):
            resolution(bad)


def test_the_res_option_checks_each_side():
    assert RES.validate("a", "600x850") == HW(600, 850)
    assert RES.describe() == "[1, 8192] or HxW"
    with pytest.raises(CalcError, match="received 600x9000"):
        RES.validate("a", "600x9000")
    with pytest.raises(CalcError, match="must be a side \\(square\\) or HxW, e.g. 600x850, received 'wide'"):
        RES.validate("a", "wide")


def test_a_network_reads_a_resolution_standing_for_both_sides():
    assert Network("n", (3, HW(600, 850), HW(600, 850))).input_shape == (3, 600, 850)
    assert spatial((3, 224, 224)) == (3, 224, 224)
    with pytest.raises(CalcError, match="stands for both H and W"):
        Network("n", (3, HW(600, 850), 850))


def test_every_builtin_takes_a_non_square_input():
    # ResNet-18 at 600 x 850: conv1 300 x 425, maxpool 150 x 213, layer4 19 x 27 (torchvision's formulas)
    net = archs.build("resnet18", res="600x850")
    assert net.input_shape == (3, 600, 850) and net["layer4.block1.relu"].shape == (512, 19, 27)
    sq, wide = analyze(archs.build("resnet18", res=224)).totals, analyze(net).totals
    assert wide["params"] == sq["params"] and wide["macs"] > sq["macs"]
    assert analyze(archs.build("resnet18", res="850x600")).totals["macs"] == wide["macs"]


def test_the_command_line_takes_h_x_w(cli):
    code, out, _ = cli("arch", "resnet18", "--res", "600x850", "--format", "json")
    d = json.loads(out)
    assert code == 0 and d["input"] == [1, 3, 600, 850] and d["config"]["res"] == [600, 850]
    code, out, _ = cli("arch", "faster_rcnn_vgg16")
    assert code == 0 and "(res=600x850, classes=21, rois=300, dropout=false)" in out and "input 1x3x600x850" in out
    code, out, _ = cli("sweep", "resnet18", "--res", "224,600x850", "--format", "csv")
    assert code == 0 and out.splitlines()[2].startswith("600x850,11689512,")
    code, out, _ = cli("compare", "resnet18:res=600x850", "resnet18", "--format", "csv")
    assert code == 0 and "res=600x850" in out
    code, out, _ = cli("list", "--format", "json")
    opts = {r["name"]: r["options"] for r in json.loads(out)}
    assert opts["rfcn_resnet50"]["res"] == {"default": [600, 850], "allowed": "[1, 8192] or HxW",
                                            "help": "input resolution: a side (square) or HxW (600x850)"}
    code, _, err = cli("arch", "resnet18", "--res", "600x0")
    assert code == 2 and err.strip() == "calc: error: resnet18: option --res must be in [1, 8192] or HxW, received 600x0"


SPEC = """
params: {res: 32}
input: [3, "${res}", "${res}"]
layers:
  - {name: conv, type: Conv2d, out_channels: 8, kernel_size: 3, stride: 2, padding: 1}
  - {name: pool, type: GlobalAvgPool2d}
"""


def test_spec_files_take_h_x_w_and_export_it(tmp_path):
    a = loads_spec(SPEC, label="s.yaml")
    assert a.option("res").input_only and a.option("res").describe() == "[-inf, inf] or HxW"
    net = a.build(res="30x50")
    assert net["conv"].shape == (8, 15, 25)
    b = loads_spec(SPEC.replace("res: 32", "res: {default: 30x50, type: resolution}"), label="t.yaml")
    assert b.option("res").default == HW(30, 50) and b.build()["conv"].shape == (8, 15, 25)
    # a parameter that is not both input sides stays an int
    with pytest.raises(CalcError, match="option --res must be int, received '30x50'"):
        loads_spec(SPEC.replace('input: [3, "${res}", "${res}"]', 'input: [3, "${res}", 32]'), label="u.yaml").build(res="30x50")
    from calc.spec import dump_spec, export

    text = dump_spec(export("faster_rcnn_vgg16"), "yaml")
    assert "config: {res: 600x850, classes: 21, rois: 300, dropout: 'false'}" in text and "input: [3, 600, 850]" in text
    path = tmp_path / "frcnn.yaml"
    path.write_text(text)
    from calc.spec import load_spec

    assert analyze(load_spec(path).build()).totals == analyze(archs.build("faster_rcnn_vgg16")).totals
