"""Helpers of the spec-file tests."""
from __future__ import annotations

from pathlib import Path

from calc.counting import analyze
from calc.graph import Network
from calc.spec import SpecArchitecture, loads_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

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


def spec(text: str, label: str = "net.yaml", fmt: str = "yaml") -> SpecArchitecture:
    return loads_spec(text, label=label, fmt=fmt)


def layers_of(net: Network, with_inputs: bool = True):
    return [(n.name, n.layer.op, n.layer.model_dump(), n.inputs if with_inputs else None, n.shape, n.shares)
            for n in net.layers()]


def same_network(a: Network, b: Network, with_inputs: bool = True) -> None:
    assert layers_of(a, with_inputs) == layers_of(b, with_inputs)
    for convention in ("macs", "flops", "thop"):
        ta, tb = analyze(a, convention=convention), analyze(b, convention=convention)
        assert ta.totals == tb.totals
        assert [c.to_dict() for c in ta.layers] == [c.to_dict() for c in tb.layers]


def round_trips(name: str, options: dict, tmp_path: Path) -> None:
    """``calc export NAME`` with ``options``, written as YAML and loaded back, is the same
    network: layers, shapes, counts, notes and training-only layers."""
    import archs
    from calc.spec import dump_spec, export, load_spec

    net = archs.build(name, **options)
    path = tmp_path / f"{name}.yaml"
    path.write_text(dump_spec(export(name, **options), "yaml"))
    back = load_spec(path).build()
    assert back.notes == net.notes
    same_network(back, net)
    assert [n.train_only for n in back.layers()] == [n.train_only for n in net.layers()]
