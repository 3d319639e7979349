"""calc export: every built-in written as a flat spec file and loaded back, identical."""
from __future__ import annotations

import json
from functools import lru_cache

import pytest

import archs
from calc.errors import CalcError
from calc.graph import Network
from calc.spec import dump_spec, export, load_spec
from tests.spec.common import EXAMPLES, same_network, spec


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


def test_training_only_layers_round_trip():
    text = """
input: [3, 8, 8]
layers:
  - {name: conv, type: Conv2d, out_channels: 4, kernel_size: 3, padding: 1}
  - {name: aux, type: Conv2d, out_channels: 8, kernel_size: 1, train_only: true}
  - {name: relu, type: ReLU, inputs: conv}
"""
    net = spec(text).build()
    assert net["aux"].train_only and not net["relu"].train_only and net.output == "relu"
    doc = export(net)
    assert doc["layers"][1] == {"name": "aux", "type": "Conv2d", "train_only": True, "out_channels": 8,
                                "kernel_size": 1}
    same_network(spec(dump_spec(doc)).build(), net)
    with pytest.raises(CalcError, match="train_only must be true or false"):
        spec(text.replace("train_only: true", "train_only: 1"))
