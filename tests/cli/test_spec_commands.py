"""calc schema and calc export on the command line."""
from __future__ import annotations

import json

import pytest

import archs
from calc.counting import analyze
from calc.spec import json_schema, load_spec
from tests.spec.common import EXAMPLES, same_network, spec


def test_schema_command(cli):
    code, out, _ = cli("schema")
    assert code == 0
    assert json.loads(out) == json_schema()


def test_export_command(cli, tmp_path):
    code, text, err = cli("export", "mobilenet_v2", "--alpha", "0.75", "--res", "192")
    assert code == 0, err
    assert text.startswith("# mobilenet_v2 (alpha=0.75, res=192, classes=1000): written by `calc export`.")
    assert analyze(spec(text).build()).totals["macs"] == 153_941_888
    out = tmp_path / "r18.json"
    code, text, _ = cli("export", "resnet18", "--classes", "10", "-o", out)
    assert code == 0 and text == ""
    assert json.loads(out.read_text())["layers"][-1] == {"name": "fc", "type": "Linear", "out_features": 10}
    same_network(load_spec(out).build(), archs.build("resnet18", classes=10))
    code, text, _ = cli("export", EXAMPLES / "tiny_resnet.yaml", "--format", "json")
    assert code == 0 and json.loads(text)["meta"]["config"]["depth"] == 20


@pytest.mark.parametrize("args, message", [
    (["mobilenet_v3"], "unknown architecture 'mobilenet_v3'"),
    (["resnet18", "--alpha", "0.5"], "resnet18 does not take --alpha"),
    (["missing.yaml"], "missing.yaml: no such spec file"),
])
def test_export_command_errors(cli, args, message):
    code, _, err = cli("export", *args)
    assert code == 2 and message in err
