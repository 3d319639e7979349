"""The handlers of the detection and segmentation layers (calc/onnx/ops_detection.py), over
opsets and attribute forms: calc's shape must equal what onnx's reference evaluator computes
(or, for the forms it does not run, onnx's shape inference), and what calc does not model is
a one-line error naming the node and the attribute."""
from __future__ import annotations

import numpy as np
import pytest
from onnx import helper

from calc.errors import CalcError
from calc.graph import INPUT
from tests.onnx.common import build, check_case, inferred_shape, init, last, model, totals

H = helper.make_node


def c(name, values, dtype=np.int64):
    return init(name, None, dtype, values)


def deconv(opset=17, w=(3, 8, 3, 3), bias=False, size=(15, 16), **attrs):
    inits = [init("w", w)] + ([init("b", (w[1] * attrs.get("group", 1),))] if bias else [])
    return model([H("ConvTranspose", ["x", "w"] + (["b"] if bias else []), ["y"], **attrs)], inits,
                 shape=(1, w[0], *size), opset=opset)


def resize(opset, inputs, inits, **attrs):
    return model([H("Resize", ["x", *inputs], ["y"], **attrs)], inits, shape=(1, 3, 10, 12), opset=opset)


F = np.float32
NO_ROI = c("roi", [], F)

CASES = {
    # ConvTranspose: (begin, end, output_padding) -> calc's padding = begin, output_padding + begin - end
    "ConvTranspose, pads and output_padding, bias (11)": (
        deconv(11, w=(3, 8, 4, 4), bias=True, strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1]),
        ["ConvTranspose2d"]),
    "ConvTranspose, asymmetric pads (1)": (deconv(9, strides=[2, 2], pads=[1, 1, 0, 0]), ["ConvTranspose2d"]),
    "ConvTranspose, SAME_UPPER (22)": (deconv(22, w=(3, 8, 4, 4), strides=[2, 2], auto_pad="SAME_UPPER"),
                                       ["ConvTranspose2d"]),
    "ConvTranspose, SAME_LOWER, odd total": (deconv(strides=[2, 2], auto_pad="SAME_LOWER"), ["ConvTranspose2d"]),
    "ConvTranspose, output_shape": (deconv(strides=[2, 2], auto_pad="SAME_LOWER", output_shape=[30, 31]),
                                    ["ConvTranspose2d"]),
    "ConvTranspose, depthwise, dilated, VALID": (deconv(w=(3, 1, 3, 3), group=3, strides=[2, 1], dilations=[2, 1],
                                                        auto_pad="VALID"), ["ConvTranspose2d"]),
    "ConvTranspose, FCN-8s' 16 x 16 / 8": (deconv(w=(2, 2, 16, 16), size=(3, 4), strides=[8, 8]), ["ConvTranspose2d"]),
    # Resize: scales or sizes; the samples (coordinate_transformation_mode, nearest_mode) Upsample models
    "Resize (11), sizes, linear align_corners": (
        resize(11, ["roi", "", "z"], [NO_ROI, c("z", [1, 3, 19, 23])], mode="linear",
               coordinate_transformation_mode="align_corners"), ["Upsample"]),
    "Resize (11), scales, linear half_pixel (the default)": (
        resize(11, ["roi", "s"], [NO_ROI, c("s", [1, 1, 2, 2], F)], mode="linear"), ["Upsample"]),
    "Resize (13), scales 2 x 1.5, nearest asymmetric floor (torch's)": (
        resize(13, ["", "s"], [c("s", [1, 1, 2, 1.5], F)], mode="nearest", coordinate_transformation_mode="asymmetric",
               nearest_mode="floor"), ["Upsample"]),
    "Resize (13), scales 3, nearest half_pixel round_prefer_floor (the defaults)": (
        resize(13, ["", "s"], [c("s", [1, 1, 3, 3], F)]), ["Upsample"]),
    "Resize (13), sizes down, linear pytorch_half_pixel": (
        resize(13, ["", "", "z"], [c("z", [1, 3, 5, 7])], mode="linear",
               coordinate_transformation_mode="pytorch_half_pixel"), ["Upsample"]),
    "Resize (18), sizes of axes H and W": (
        resize(18, ["", "", "z"], [c("z", [20, 18])], axes=[2, 3], mode="linear",
               coordinate_transformation_mode="align_corners"), ["Upsample"]),
    "Resize (19), scales of axis W": (
        resize(19, ["", "s"], [c("s", [2], F)], axes=[3], coordinate_transformation_mode="asymmetric",
               nearest_mode="floor"), ["Upsample"]),
    "Upsample (9), scales input": (model([H("Upsample", ["x", "s"], ["y"])], [c("s", [1, 1, 2, 3], F)], opset=9),
                                   ["Upsample"]),
    # Max
    "Max of three": (model([H("Relu", ["x"], ["r"]), H("Sigmoid", ["x"], ["s"]), H("Max", ["x", "r", "s"], ["y"])]),
                     ["ReLU", "Sigmoid", "Maximum"]),
    "Max of one": (model([H("Relu", ["x"], ["r"]), H("Max", ["r"], ["y"])], opset=6), ["ReLU"]),
    # L2 normalisation over the channels, times a scale
    "LpNormalization, per-channel Mul": (
        model([H("LpNormalization", ["x"], ["n"], axis=1, p=2), H("Mul", ["n", "g"], ["y"])],
              [init("g", (1, 3, 1, 1))]), ["L2Norm"]),
    "ReduceL2 + eps, Div, Mul (13)": (
        model([H("ReduceL2", ["x"], ["n"], axes=[1], keepdims=1), H("Add", ["n", "e"], ["d"]),
               H("Div", ["x", "d"], ["u"]), H("Mul", ["g", "u"], ["y"])], [init("g", (3, 1, 1)), c("e", 1e-10, F)],
              opset=13), ["L2Norm"]),
    "F.normalize: ReduceL2 (18), Clip, Expand, Div; a shared scale": (
        model([H("ReduceL2", ["x", "a"], ["n"], keepdims=1), H("Clip", ["n", "e"], ["d"]), H("Shape", ["x"], ["sh"]),
               H("Expand", ["d", "sh"], ["de"]), H("Div", ["x", "de"], ["u"]), H("Mul", ["u", "g"], ["y"])],
              [init("g", (1,)), c("e", 1e-12, F), c("a", [1])], opset=18), ["L2Norm"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_calc_infers_the_shape_the_reference_evaluator_computes(case):
    check_case(*CASES[case])


INFERRED = {  # forms the reference evaluator does not run: onnx's shape inference
    "Resize (10), scales": resize(10, ["s"], [c("s", [1, 1, 2, 2.5], F)]),
    "Upsample (7), scales attribute": model([H("Upsample", ["x"], ["y"], scales=[1.0, 1.0, 2.0, 3.0])], opset=7),
}


@pytest.mark.parametrize("case", list(INFERRED))
def test_calc_infers_the_shape_onnx_shape_inference_computes(case):
    check_case(INFERRED[case], ["Upsample"], inferred_shape)


def test_the_layers_take_the_files_attributes():
    # ONNX pads (begin 1, end 0) with stride 2: PyTorch's padding 1, output_padding 1
    layer = last(deconv(strides=[2, 2], pads=[1, 1, 0, 0]))
    assert (layer.padding, layer.output_padding, layer.stride) == (1, 1, 2)
    layer = last(deconv(w=(3, 8, 4, 4), strides=[2, 2], auto_pad="SAME_UPPER"))
    assert (layer.padding, layer.output_padding) == (1, 0)
    assert last(deconv(w=(3, 1, 3, 3), group=3)).out_channels == 3  # the weight is C_in x (C_out / group) x k x k
    up = last(resize(11, ["roi", "", "z"], [NO_ROI, c("z", [1, 3, 19, 23])], mode="linear",
                     coordinate_transformation_mode="align_corners"))
    assert (up.size, up.mode, up.align_corners) == ((19, 23), "bilinear", True)
    up = last(resize(13, ["", "s"], [c("s", [1, 1, 2, 1.5], F)], coordinate_transformation_mode="asymmetric",
                     nearest_mode="floor"))
    assert (up.scale_factor, up.mode) == ((2.0, 1.5), "nearest")
    shared = build(CASES["F.normalize: ReduceL2 (18), Clip, Expand, Div; a shared scale"][0])
    assert shared[shared.output].layer.channel_shared and totals(shared)["params"] == 1
    ssd = build(CASES["LpNormalization, per-channel Mul"][0])
    assert totals(ssd)["params"] == 3 and ssd[ssd.output].inputs == (INPUT,)


def test_an_imported_transposed_conv_counts_on_its_input():
    """fvcore 0.1.5's ``conv_flop_count(transposed=True)`` (fvcore/nn/jit_handles.py): N x
    prod(weight shape) x the *input*'s H x W, the weight C_in x C_out/groups x kh x kw; here
    C_in 3, C_out 8, k 4, a 15 x 16 input: 3 x 8 x 4 x 4 x 240 = 92,160 MACs; params the
    weight and the bias, 384 + 8."""
    t = totals(build(CASES["ConvTranspose, pads and output_padding, bias (11)"][0]))
    assert (t["params"], t["macs"]) == (392, 92_160)


def test_maxroipool_has_no_handler():
    """ONNX's MaxRoiPool puts the regions on the batch axis: refused with the unknown ops."""
    m = model([H("MaxRoiPool", ["x", "r"], ["y"], pooled_shape=[2, 2])], [init("r", (4, 5))])
    with pytest.raises(CalcError, match=r"calc has no layer for, so nothing is counted: MaxRoiPool x1 \('y'\)"):
        build(m)


NEAREST_HALF = dict(coordinate_transformation_mode="half_pixel")


@pytest.mark.parametrize("m, match", [
    (deconv(pads=[0, 0, 1, 1]), r"pads \(0, 1\) and output_padding 0 on H"),
    (deconv(strides=[2, 2], auto_pad="SAME_UPPER"), r"pads \(0, 1\) and output_padding 0 on H"),
    (deconv(strides=[2, 2], output_padding=[2, 0]), r"pads \(0, 0\) and output_padding 2 on H"),
    (deconv(foo=1), "attribute foo is not modelled by calc"),
    (resize(13, ["", "s"], [c("s", [1, 1, 2, 2], F)], mode="cubic"), "mode 'cubic'"),
    (resize(13, ["", "s"], [c("s", [1, 1, 2, 2], F)], mode="linear", coordinate_transformation_mode="asymmetric"),
     "mode linear coordinate_transformation_mode 'asymmetric'"),
    (resize(13, ["", "s"], [c("s", [1, 1, 1.5, 1.5], F)], **NEAREST_HALF),
     "coordinate_transformation_mode 'half_pixel', nearest_mode 'round_prefer_floor'"),
    (resize(13, ["", "s"], [c("s", [1, 1, 2, 2], F)], coordinate_transformation_mode="asymmetric"),
     "nearest_mode 'round_prefer_floor'"),
    (resize(10, ["s"], [c("s", [1, 1, 2, 2], F)], mode="linear"), "mode linear before opset 11"),
    (resize(10, ["s"], [c("s", [1, 1, 0.5, 0.5], F)]), "a downsampling factor"),
    (resize(13, ["", "s"], [c("s", [1, 2, 2, 2], F)]), "resizes H and W only"),
    (resize(13, ["", "s", "z"], [c("s", [1, 1, 2, 2], F), c("z", [1, 3, 20, 24])]), "scales or sizes"),
    (resize(18, ["", "s"], [c("s", [1, 1, 2, 2], F)], antialias=1), "antialias=1"),
    (resize(18, ["", "", "z"], [c("z", [1, 3, 20, 20])], keep_aspect_ratio_policy="not_larger"),
     "keep_aspect_ratio_policy 'not_larger'"),
    (model([H("Max", ["x", "k"], ["y"])], [c("k", 0.0, F)]), "Max with a constant input"),
    (model([H("LpNormalization", ["x"], ["y"], axis=1, p=1)]), r"LpNormalization\(axis=1, p=1\)"),
    (model([H("LpNormalization", ["x"], ["y"], axis=1)]), "not multiplied by a per-channel"),
    (model([H("ReduceL2", ["x"], ["y"], axes=[2, 3])], opset=13), r"ReduceL2 over axes \[2, 3\]"),
])
def test_what_a_handler_does_not_model_is_an_error_naming_the_node(m, match):
    with pytest.raises(CalcError, match=match) as e:
        build(m)
    assert "node 'y'" in str(e.value) and "\n" not in str(e.value)
