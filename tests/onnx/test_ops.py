"""The handlers, one op at a time, over opsets and attribute forms: each graph is built with
onnx.helper, and calc's shape must equal what onnx's reference evaluator
(``onnx.reference.ReferenceEvaluator``) computes on a random input."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from onnx import helper

from calc.errors import CalcError
from tests.onnx.common import build, check_case, init, last, model, reference_shape

H = helper.make_node


def conv(opset=17, **attrs):
    w = init("w", (8, 3, 3, 3))
    return model([H("Conv", ["x", "w", "b"], ["y"], kernel_shape=[3, 3], **attrs)], [w, init("b", (8,))],
                 shape=(1, 3, 15, 16), opset=opset)


def pool(op, opset=17, shape=(1, 3, 15, 16), **attrs):
    return model([H(op, ["x"], ["y"], **attrs)], shape=shape, opset=opset)


def c(name, values, dtype=np.int64):
    return init(name, None, dtype, values)


CASES = {
    # convs: ONNX pads are (top, left, bottom, right); calc's four-sided padding (left, right, top, bottom)
    "conv asymmetric pads": (conv(strides=[2, 2], pads=[0, 0, 1, 1]), ["Conv2d"]),
    "conv SAME_UPPER": (conv(strides=[2, 2], auto_pad="SAME_UPPER"), ["Conv2d"]),
    "conv SAME_LOWER": (conv(strides=[2, 2], auto_pad="SAME_LOWER"), ["Conv2d"]),
    "conv VALID, dilated": (conv(auto_pad="VALID", dilations=[2, 1]), ["Conv2d"]),
    "conv opset 9": (conv(opset=9, pads=[1, 1, 1, 1]), ["Conv2d"]),
    "depthwise": (model([H("Conv", ["x", "w"], ["y"], group=3, pads=[1, 0, 1, 0])], [init("w", (6, 1, 3, 3))]),
                  ["Conv2d"]),
    # pools: ONNX strides default to 1
    "max pool, default strides": (pool("MaxPool", kernel_shape=[3, 3]), ["MaxPool2d"]),
    "max pool, ceil mode": (pool("MaxPool", kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1), ["MaxPool2d"]),
    "max pool, Caffe's ceil as pads": (pool("MaxPool", opset=9, kernel_shape=[3, 3], strides=[2, 2],
                                            pads=[0, 0, 1, 1]), ["MaxPool2d"]),
    "max pool, SAME_UPPER": (pool("MaxPool", kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER"),
                             ["MaxPool2d"]),
    "avg pool, count_include_pad": (pool("AveragePool", kernel_shape=[2, 2], strides=[2, 2], pads=[1, 1, 0, 0],
                                         count_include_pad=1), ["AvgPool2d"]),
    "global avg pool": (pool("GlobalAveragePool"), ["GlobalAvgPool2d"]),
    "ReduceMean, axes attribute": (pool("ReduceMean", opset=13, axes=[2, 3], keepdims=1), ["GlobalAvgPool2d"]),
    "ReduceMean, axes input (18)": (model([H("ReduceMean", ["x", "a"], ["y"], keepdims=0)], [c("a", [-2, -1])],
                                          opset=18), ["GlobalAvgPool2d"]),
    "LRN": (pool("LRN", size=5, alpha=1e-4, beta=0.75, bias=2.0), ["LRN"]),
    # activations
    "Clip attributes (6)": (pool("Clip", opset=6, min=0.0, max=6.0), ["ReLU6"]),
    "Clip inputs (11)": (model([H("Clip", ["x", "lo", "hi"], ["y"])], [c("lo", 0.0, np.float32),
                                                                       c("hi", 6.0, np.float32)], opset=11),
                         ["ReLU6"]),
    "Clip, no max": (model([H("Clip", ["x", "lo"], ["y"])], [c("lo", 0.0, np.float32)], opset=13), ["ReLU"]),
    "LeakyRelu": (pool("LeakyRelu", alpha=0.1), ["LeakyReLU"]),
    "HardSigmoid, Keras' 0.2": (pool("HardSigmoid"), ["HardSigmoid"]),
    "x * HardSigmoid(x), torch's": (model([H("HardSigmoid", ["x"], ["s"], alpha=1 / 6), H("Mul", ["x", "s"], ["y"])]),
                                     ["HardSwish"]),
    "x * Sigmoid(x)": (model([H("Sigmoid", ["x"], ["s"]), H("Mul", ["s", "x"], ["y"])]), ["SiLU"]),
    "HardSwish (14)": (pool("HardSwish", opset=14), ["HardSwish"]),
    # normalisation and per-channel parameters
    "BatchNormalization (9)": (model([H("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], epsilon=1e-3)],
                                     [init("s", (3,)), init("b", (3,)), init("m", (3,)),
                                      init("v", (3,), values=[1.0, 2.0, 3.0])], opset=9), ["BatchNorm2d"]),
    "per-channel Mul + Add": (model([H("Mul", ["x", "g"], ["m"]), H("Add", ["m", "b"], ["y"])],
                                    [init("g", (1, 3, 1, 1)), init("b", (3, 1, 1))]), ["ChannelAffine"]),
    "scalar Mul and Div": (model([H("Mul", ["x", "k"], ["m"]), H("Div", ["m", "k"], ["y"])],
                                 [c("k", 0.5, np.float32)]), ["Scale", "Scale"]),
    # joins, views, copies
    "Split attribute (11)": (model([H("Split", ["x"], ["a", "b"], axis=1, split=[1, 2]), H("Concat", ["b", "a"], ["y"],
                                                                                          axis=1)], opset=11),
                             ["ChannelSlice", "ChannelSlice", "Concat"]),
    "Split input (13)": (model([H("Split", ["x", "s"], ["a", "b"], axis=1), H("Add", ["a", "b"], ["y"])],
                               [c("s", [2, 2])], shape=(1, 4, 8, 8), opset=13),
                         ["ChannelSplit", "ChannelSplit", "Add"]),
    "Split num_outputs (18)": (model([H("Split", ["x"], ["a", "b"], axis=1, num_outputs=2), H("Sum", ["a", "b"], ["y"])],
                                     shape=(1, 4, 8, 8), opset=18), ["ChannelSplit", "ChannelSplit", "Add"]),
    "Slice attributes (9)": (model([H("Slice", ["x"], ["y"], starts=[1], ends=[3], axes=[1])], opset=9),
                             ["ChannelSlice"]),
    "Slice inputs, a crop (10)": (model([H("Slice", ["x", "s", "e", "a"], ["y"])],
                                        [c("s", [1, 1]), c("e", [2**63 - 1, -1]), c("a", [2, 3])], opset=10), ["Crop"]),
    "Pad attribute (2)": (model([H("Pad", ["x"], ["y"], pads=[0, 0, 1, 0, 0, 0, 0, 1])], opset=2), ["ZeroPad2d"]),
    "Pad input (11)": (model([H("Pad", ["x", "p"], ["y"])], [c("p", [0, 0, 1, 2, 0, 0, 3, 4])], opset=11),
                       ["ZeroPad2d"]),
    "channel shuffle": (model([H("Reshape", ["x", "s1"], ["r"]), H("Transpose", ["r"], ["t"], perm=[0, 2, 1, 3, 4]),
                               H("Reshape", ["t", "s2"], ["y"])], [c("s1", [1, 2, 3, 8, 8]), c("s2", [1, -1, 8, 8])],
                              shape=(1, 6, 8, 8)), ["ChannelShuffle"]),
    "Dropout ratio attribute (7)": (pool("Dropout", opset=7, ratio=0.3), ["Dropout"]),
    "Dropout ratio input (12)": (model([H("Dropout", ["x", "r"], ["y"])], [c("r", 0.3, np.float32)], opset=12),
                                 ["Dropout"]),
    # fully connected
    "Flatten, Gemm transB": (model([H("Flatten", ["x"], ["f"]), H("Gemm", ["f", "w", "b"], ["y"], transB=1)],
                                   [init("w", (10, 48)), init("b", (10,))], shape=(1, 3, 4, 4)),
                             ["Flatten", "Linear"]),
    "Reshape [0, -1], Gemm": (model([H("Reshape", ["x", "s"], ["f"]), H("Gemm", ["f", "w"], ["y"])],
                                    [c("s", [0, -1]), init("w", (48, 10))], shape=(1, 3, 4, 4)), ["Flatten", "Linear"]),
    "MatMul + Add": (model([H("Flatten", ["x"], ["f"]), H("MatMul", ["f", "w"], ["m"]), H("Add", ["m", "b"], ["y"])],
                           [init("w", (48, 10)), init("b", (10,))], shape=(1, 3, 4, 4)), ["Flatten", "Linear"]),
    "Squeeze attribute (11)": (model([H("GlobalAveragePool", ["x"], ["p"]), H("Squeeze", ["p"], ["y"], axes=[2, 3])],
                                     opset=11), ["GlobalAvgPool2d", "Flatten"]),
    "Squeeze input (13)": (model([H("GlobalAveragePool", ["x"], ["p"]), H("Squeeze", ["p", "a"], ["y"])],
                                 [c("a", [2, 3])], opset=13), ["GlobalAvgPool2d", "Flatten"]),
    "Softmax (11), over C x 1 x 1": (model([H("GlobalAveragePool", ["x"], ["p"]), H("Softmax", ["p"], ["y"])],
                                           opset=11), ["GlobalAvgPool2d", "Softmax"]),
    "Softmax (13), axis 1 of a map": (model([H("Softmax", ["x"], ["y"], axis=1)], opset=13), ["Softmax"]),
    # the layers of detection networks: any axis of a sample
    "Softmax (13), over W (the default axis)": (pool("Softmax", opset=13), ["Softmax"]),
    "Softmax (11), last axis of N x R x K": (
        model([H("Reshape", ["x", "s"], ["r"]), H("Softmax", ["r"], ["y"], axis=2)], [c("s", [1, -1, 3])], opset=11),
        ["Reshape", "Softmax"]),
    "Softmax (11), axis 2 of a 2 x R x 1 map": (
        model([H("Softmax", ["x"], ["y"], axis=2)], shape=(1, 2, 9, 1), opset=11), ["Softmax"]),
    "Concat along H": (model([H("Relu", ["x"], ["r"]), H("Concat", ["x", "r"], ["y"], axis=-2)]), ["ReLU", "Concat"]),
    "Transpose (0, 2, 3, 1): channels last": (pool("Transpose", perm=[0, 2, 3, 1]), ["Permute"]),
    "Transpose (0, 1, 3, 2)": (pool("Transpose", opset=9, perm=[0, 1, 3, 2]), ["Permute"]),
    "Reshape (0, 2, -1, 0): the RPN's": (model([H("Reshape", ["x", "s"], ["y"])], [c("s", [0, 2, -1, 0])],
                                               shape=(1, 18, 5, 7)), ["Reshape"]),
    "Reshape to N x R x K (5)": (model([H("Reshape", ["x", "s"], ["y"])], [c("s", [1, -1, 4])], opset=5), ["Reshape"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_calc_infers_the_shape_the_reference_evaluator_computes(case):
    check_case(*CASES[case])


def test_the_layers_take_the_files_attributes():
    layer = last(conv(strides=[2, 2], pads=[0, 0, 1, 1]))
    assert layer.padding == (0, 1, 0, 1) and layer.stride == 2  # (left, right, top, bottom)
    assert last(pool("MaxPool", kernel_shape=[3, 3])).stride == 1  # ONNX's default, not PyTorch's
    lrn = last(pool("LRN", size=5, alpha=1e-4, beta=0.75, bias=2.0))
    assert (lrn.size, lrn.k, lrn.beta) == (5, 2.0, 0.75)
    assert last(pool("Transpose", perm=[0, 2, 3, 1])).dims == (0, 2, 3, 1)
    rpn = model([H("Reshape", ["x", "s"], ["y"])], [c("s", [0, 2, -1, 0])], shape=(1, 18, 5, 7))
    assert last(rpn).shape == (2, -1, 0)  # ONNX's 0 and -1 kept: calc's Reshape means the same
    assert last(pool("Softmax", opset=13)).dim == 2  # calc's dim: a sample's axis (ONNX's axis 3)
    keras = last(pool("HardSigmoid"))
    assert (keras.alpha, keras.beta) == (0.2, 0.5)
    torch = last(model([H("HardSigmoid", ["x"], ["y"], alpha=1 / 6)]))
    assert torch.alpha == 1 / 6  # float32's 1/6 is PyTorch's default, exactly
    assert last(pool("Dropout", opset=7, ratio=0.3)).p == pytest.approx(0.3)


@pytest.mark.parametrize("nodes, inits, opset, match", [
    ([H("Conv", ["x", "w"], ["y"], kernel_shape=[3, 3], foo=1)], [init("w", (8, 3, 3, 3))], 17,
     "attribute foo is not modelled by calc"),
    ([H("Gemm", ["x", "w"], ["y"], alpha=2.0)], [init("w", (48, 10))], 17, "alpha"),
    ([H("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], dilations=[2, 2])], [], 17, "not dilated"),
    ([H("Clip", ["x"], ["y"], min=-1.0, max=1.0)], [], 6, r"Clip\(-1, 1\)"),
    ([H("Softmax", ["x"], ["y"], axis=0)], [], 13, "over axis 0 of a rank-4 tensor"),
    ([H("Softmax", ["x"], ["y"])], [], 11, r"Softmax\(axis=1\) on 1x3x16x16 is over 3x16x16 together"),
    ([H("Concat", ["x", "x"], ["y"], axis=0)], [], 17, "not the batch"),
    ([H("Pad", ["x"], ["y"], mode="reflect", pads=[0, 0, 1, 1, 0, 0, 1, 1])], [], 2, "reflect"),
    ([H("Transpose", ["x"], ["y"], perm=[1, 0, 2, 3])], [], 17, r"Transpose \[1, 0, 2, 3\] moves the batch axis"),
    ([H("Transpose", ["x"], ["y"])], [], 17, r"Transpose \[3, 2, 1, 0\]"),  # ONNX's default: reversed
    ([H("Add", ["x", "k"], ["y"])], [init("k", (1, 3, 16, 16))], 17, "adds a constant of shape"),
    ([H("Conv", ["x", "w"], ["y"])], [init("w", (8, 4, 3, 3))], 17, "reads 4 channels; its input has 3"),
    ([H("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], training_mode=1)],
     [init(k, (3,)) for k in "sbmv"], 15, "training_mode"),
])
def test_what_a_handler_does_not_model_is_an_error_naming_the_node(nodes, inits, opset, match):
    with pytest.raises(CalcError, match=match) as e:
        build(model(nodes, inits, opset=opset))
    assert "node 'y'" in str(e.value) and "\n" not in str(e.value)


def test_ceil_mode_with_asymmetric_pads_is_the_reference_evaluators():
    """ONNX's ceil mode keeps the last window only if it starts inside the input or the
    top/left pad, as PyTorch's does; calc's pools follow the same rule."""
    for size, pads, (k, s) in itertools.product((5, 6, 7, 8), ([0, 0, 1, 1], [1, 1, 0, 0], [1, 1, 1, 1]),
                                                ((2, 2), (3, 2), (3, 3))):
        m = model([H("MaxPool", ["x"], ["y"], kernel_shape=[k, k], strides=[s, s], pads=pads, ceil_mode=1)],
                  shape=(1, 1, size, size))
        net = build(m)
        assert (1, *net[net.output].shape) == reference_shape(m), (size, pads, k, s)
