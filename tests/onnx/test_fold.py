"""Constant subgraphs folded by calc.onnx.fold: torch's shape code, Caffe2's placeholder
weights, and no arithmetic on large constants."""
from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper

from calc.errors import CalcError
from tests.onnx.common import build, init, model, ops, totals

H = helper.make_node


def test_the_shape_subgraph_torch_exports_is_folded():
    """x.view(x.size(0), -1): Shape -> Gather -> Unsqueeze -> Concat -> Reshape."""
    nodes = [H("Shape", ["x"], ["s"]), H("Gather", ["s", "i0"], ["n"], axis=0),
             H("Unsqueeze", ["n", "ax"], ["n1"]), H("Concat", ["n1", "m1"], ["t"], axis=0),
             H("Reshape", ["x", "t"], ["f"]), H("Gemm", ["f", "w"], ["y"], transB=1)]
    inits = [init("i0", None, np.int64, 0), init("ax", None, np.int64, [0]), init("m1", None, np.int64, [-1]),
             init("w", (10, 48))]
    net = build(model(nodes, inits, shape=(1, 3, 4, 4), opset=13))
    assert ops(net) == ["Flatten", "Linear"]
    assert net.reads_spatial  # the reshape's target and the fc's 48 inputs depend on H and W


def test_constant_of_shape_weights_are_placeholders_each_its_own_tensor():
    """The Caffe2 zoo's light models: every weight made by ConstantOfShape from a shape."""
    nodes = [H("ConstantOfShape", ["ws"], ["w"], value=helper.make_tensor("v", TensorProto.FLOAT, [1], [0.02])),
             H("ConstantOfShape", ["ws"], ["v"], value=helper.make_tensor("v", TensorProto.FLOAT, [1], [0.02])),
             H("Conv", ["x", "w"], ["a"], kernel_shape=[1, 1]), H("Conv", ["a", "v"], ["y"], kernel_shape=[1, 1])]
    net = build(model(nodes, [init("ws", None, np.int64, [3, 3, 1, 1])]))
    assert totals(net)["params"] == 18


def test_a_large_computed_constant_is_an_error():
    nodes = [H("Mul", ["w", "w"], ["w2"]), H("Conv", ["x", "w2"], ["y"], kernel_shape=[3, 3])]
    with pytest.raises(CalcError, match="calc folds only small constants"):
        build(model(nodes, [init("w", (300, 300, 3, 3))]))
