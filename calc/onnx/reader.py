"""Reading an ONNX file into plain Python: its nodes (op, names, attributes as values), its
initializers (kept as protobuf tensors: their dims are read at once, their data only when a
shape computation needs it) and its input.

The ``onnx`` package is the optional extra ``calc[onnx]``; it is imported here, on first
use, so that nothing else pays for it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from calc.datafiles import read_bytes
from calc.errors import CalcError

#: the most bytes read from one file (protobuf's own limit is 2 GiB)
MAX_ONNX_BYTES = 2**31 - 1
#: the ONNX domains of the standard operators
STANDARD = ("", "ai.onnx")


def onnx_module(label: str):
    """The ``onnx`` package, or a one-line error saying which extra installs it."""
    try:
        import onnx
    except ImportError:
        raise CalcError(f"{label}: reading ONNX files needs the 'onnx' extra: pip install 'calc[onnx]'") from None
    return onnx


@dataclass(frozen=True, slots=True)
class Node:
    """One node of the graph: ``inputs`` keep ONNX's empty names for omitted optional inputs."""

    index: int
    op: str
    domain: str
    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    attrs: dict[str, Any]

    @property
    def qualified(self) -> str:
        """The op with its domain when that is not the standard one (``com.microsoft.FusedConv``)."""
        return self.op if self.domain in STANDARD else f"{self.domain}.{self.op}"

    @property
    def label(self) -> str:
        """How an error names the node: its name, else its first output."""
        return self.name or (self.outputs[0] if self.outputs else f"#{self.index}")

    def input(self, i: int) -> str | None:
        """The name of input ``i``, None when it is omitted."""
        return self.inputs[i] if i < len(self.inputs) and self.inputs[i] else None


@dataclass
class Model:
    label: str
    opset: int
    ir_version: int
    producer: str
    nodes: list[Node]
    initializers: dict[str, Any]  # name -> onnx.TensorProto
    inputs: list[tuple[str, tuple[int | str | None, ...]]]  # graph inputs that are not initializers
    outputs: list[str]
    onnx: Any = field(repr=False, default=None)  # the onnx package


def read_model(path: str | Path) -> Model:
    """Parse the ONNX file at ``path`` (weights stored as external data are not read: calc
    needs their shapes, which the file holds)."""
    label = str(path)
    onnx = onnx_module(label)
    data = read_bytes(path, label, MAX_ONNX_BYTES, "ONNX file", ", protobuf's limit (keep the weights as external data)")
    try:
        proto = onnx.load_model_from_string(data)
    except Exception as e:  # protobuf's DecodeError and friends
        raise CalcError(f"{label}: not an ONNX model ({type(e).__name__}: {e})") from None
    return from_proto(proto, label, onnx)


def from_proto(proto: Any, label: str, onnx: Any) -> Model:
    g = proto.graph
    opset = next((o.version for o in proto.opset_import if o.domain in STANDARD), None)
    if opset is None:
        raise CalcError(f"{label}: the model imports no standard ONNX opset")
    helper = onnx.helper
    nodes = []
    for i, n in enumerate(g.node):
        attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
        nodes.append(Node(i, n.op_type, n.domain, n.name, tuple(n.input), tuple(n.output), attrs))
    inits = {t.name: t for t in g.initializer}
    inputs = []
    for vi in g.input:
        if vi.name in inits:
            continue
        t = vi.type.tensor_type
        dims = tuple(d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in t.shape.dim) \
            if t.HasField("shape") else None
        inputs.append((vi.name, dims))
    return Model(label=label, opset=int(opset), ir_version=int(proto.ir_version),
                 producer=" ".join(p for p in (proto.producer_name, proto.producer_version) if p),
                 nodes=nodes, initializers=inits, inputs=inputs, outputs=[o.name for o in g.output], onnx=onnx)
