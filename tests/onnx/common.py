"""Helpers for the ONNX tests: small graphs built with onnx.helper, imported in process."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper

from calc.counting import analyze
from calc.onnx.build import architecture
from calc.onnx.reader import from_proto

RNG = np.random.default_rng(0)


def init(name: str, shape, dtype=np.float32, values=None) -> onnx.TensorProto:
    """An initializer: random floats, or ``values``."""
    arr = np.asarray(values, dtype=dtype) if values is not None else RNG.standard_normal(shape).astype(dtype)
    return onnx.numpy_helper.from_array(arr, name)


def model(nodes, inits=(), shape=(1, 3, 16, 16), opset: int = 17, out_shape=None, name="g",
          extra_opsets=()) -> onnx.ModelProto:
    """A graph reading ``x`` (``shape``) and writing the last node's first output."""
    graph = helper.make_graph(list(nodes), name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
                              [helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT, out_shape)],
                              list(inits))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset), *extra_opsets],
                             ir_version=8)


def load(m: onnx.ModelProto, label: str = "g.onnx"):
    """The architecture ``m`` is (no file written)."""
    return architecture(from_proto(m, label, onnx), label)


def build(m: onnx.ModelProto, **options):
    return load(m).build(**options)


def reference_shape(m: onnx.ModelProto, shape=None) -> tuple[int, ...]:
    """The output's shape as onnx's reference evaluator computes it, on a random input."""
    from onnx.reference import ReferenceEvaluator

    dims = shape or [d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim]
    x = RNG.standard_normal(dims).astype(np.float32)
    return tuple(ReferenceEvaluator(m).run(None, {"x": x})[0].shape)


def last(m: onnx.ModelProto):
    """The layer that makes the output of the network ``m`` imports as."""
    net = build(m)
    return net[net.output].layer


def check_case(m: onnx.ModelProto, expected_ops: list[str], expected_shape=reference_shape) -> None:
    """``m`` imports as layers of ``expected_ops``, its output of the shape ``expected_shape(m)``
    computes (default: the reference evaluator's)."""
    net = build(m)
    assert ops(net) == expected_ops
    assert (1, *net[net.output].shape) == expected_shape(m)


def ops(net) -> list[str]:
    return [n.layer.op for n in net.layers()]


def totals(net, **kw) -> dict[str, int]:
    return analyze(net, **kw).totals


def inferred_shape(m: onnx.ModelProto) -> tuple[int, ...]:
    """The output's shape as onnx's shape inference computes it (for the forms the reference
    evaluator does not run: Resize at opset 10, Upsample's scales attribute)."""
    out = onnx.shape_inference.infer_shapes(m, strict_mode=True).graph.output[0]
    return tuple(d.dim_value for d in out.type.tensor_type.shape.dim)
