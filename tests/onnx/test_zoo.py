"""The Caffe2 model-zoo graphs shipped inside the onnx wheel
(``onnx/backend/test/data/light/light_*.onnx``: the real graphs, weights replaced by
``ConstantOfShape`` placeholders).  All nine import; every tensor's shape is the one
``onnx.shape_inference`` infers; params and MACs equal an independent count from the
graph; ResNet-50, VGG-19 and SqueezeNet equal calc's built-ins to the unit."""
from __future__ import annotations

from collections import Counter
from functools import lru_cache
from math import prod
from pathlib import Path

import onnx
import pytest

from calc.counting import analyze
from calc.onnx import load_onnx
from calc.onnx.build import Builder, image_input
from calc.onnx.reader import read_model
from tests.conftest import counts

LIGHT = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"
NAMES = ("bvlc_alexnet", "densenet121", "inception_v1", "inception_v2", "resnet50", "shufflenet", "squeezenet",
         "vgg19", "zfnet512")


def path(name: str) -> Path:
    return LIGHT / f"light_{name}.onnx"


@lru_cache(maxsize=None)
def imported(name: str):
    return analyze(load_onnx(path(name)).build())


@lru_cache(maxsize=None)
def inferred(name: str) -> tuple[dict[str, tuple[int, ...]], onnx.ModelProto]:
    """Every tensor's shape as onnx's shape inference (with data propagation) gives it."""
    m = onnx.shape_inference.infer_shapes(onnx.load(path(name)), data_prop=True)
    shapes = {}
    for vi in [*m.graph.value_info, *m.graph.input, *m.graph.output]:
        dims = vi.type.tensor_type.shape.dim
        shapes[vi.name] = tuple(d.dim_value for d in dims)
    return shapes, m


def test_all_nine_are_shipped():
    assert sorted(p.stem.removeprefix("light_") for p in LIGHT.glob("light_*.onnx")) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_every_tensor_has_the_shape_onnx_infers(name):
    shapes, _ = inferred(name)
    model = read_model(path(name))
    input_name, (_, c, h, w) = image_input(model)
    b = Builder(model, input_name, (c, h, w), None)
    b.run()
    checked = 0
    for tensor, value in b.values.items():
        if hasattr(value, "ref") and tensor in shapes:  # a computed tensor
            assert (1, *value.shape) == shapes[tensor], tensor
            checked += 1
    assert checked >= len(b.layers) // 2


@pytest.mark.parametrize("name", NAMES)
def test_params_and_macs_equal_an_independent_count_from_the_graph(name):
    """Params: the elements of every constant a Conv, Gemm or BatchNormalization (scale, B)
    reads, or a Mul/Add reads as a per-channel parameter, once per tensor name; MACs: conv
    output elements x C_in/g x kh x kw (the weight's C x kh x kw) and Gemm K x N, from the
    shapes onnx infers."""
    shapes, m = inferred(name)
    produced = {o for n in m.graph.node if n.op_type not in ("ConstantOfShape", "Unsqueeze") for o in n.output}
    # DenseNet's and Inception v2's per-channel Mul/Add tensors are Unsqueeze'd C-vectors: one tensor each
    source = {n.output[0]: n.input[0] for n in m.graph.node if n.op_type == "Unsqueeze"}
    const = lambda t: t not in produced and t in shapes  # an initializer, a placeholder, or a view of one
    params, macs = {}, 0
    for n in m.graph.node:
        slots = {"Conv": (1, 2), "Gemm": (1, 2), "BatchNormalization": (1, 2)}.get(n.op_type, ())
        if n.op_type in ("Mul", "Add"):
            slots = tuple(i for i, t in enumerate(n.input) if const(t))
        for i in slots:
            if i < len(n.input) and n.input[i]:
                params[source.get(n.input[i], n.input[i])] = prod(shapes[n.input[i]])
        if n.op_type == "Conv":
            macs += prod(shapes[n.output[0]]) * prod(shapes[n.input[1]][1:])
        elif n.op_type == "Gemm":
            macs += prod(shapes[n.input[1]])
    a = imported(name)
    assert (a.totals["params"], a.totals["macs"]) == (sum(params.values()), macs)


@pytest.mark.parametrize("name, builtin, options", [
    ("resnet50", "resnet50", {}),          # the Caffe2 ResNet-50 strides the 3x3 conv: v1.5, not v1
    ("vgg19", "vgg19", {}),
    ("squeezenet", "squeezenet1_1", {}),   # 1.1 (a 64-filter 3x3 stem); floor pools, equal to ceil ones at 224
])
def test_three_equal_the_builtins_to_the_unit(name, builtin, options):
    a, ref = imported(name), counts(builtin, **options)
    assert (a.totals["params"], a.totals["macs"]) == (ref.totals["params"], ref.totals["macs"])
    assert Counter((c.op, c.output_shape, c.params, c.macs) for c in a.layers if c.params or c.macs) == \
        Counter((c.op, c.output_shape, c.params, c.macs) for c in ref.layers if c.params or c.macs)


def test_the_caffe2_resnet50_is_v1_5():
    m = onnx.load(path("resnet50"))
    weights = {n.input[1]: {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
               for n in m.graph.node if n.op_type == "Conv"}
    assert weights["gpu_0/res3_0_branch2a_w_0"]["strides"] == [1, 1]
    assert weights["gpu_0/res3_0_branch2b_w_0"]["strides"] == [2, 2]
    assert counts("resnet50", variant="v1").totals["macs"] != imported("resnet50").totals["macs"]


def test_densenet_and_inception_v2_are_caffes_batchnorm_then_scale():
    """Caffe's BatchNorm has no affine parameters; its Scale layer follows.  Converted, the BN
    gets placeholder scale and shift tensors and the Scale is Mul + Add: calc counts both,
    so the params exceed the built-in (torchvision's DenseNet-121) by exactly the BNs' 2C."""
    a = imported("densenet121")
    ref = counts("densenet121")
    affine = sum(c.params for c in a.layers if c.op == "ChannelAffine")
    bn = sum(c.params for c in a.layers if c.op == "BatchNorm2d")
    assert affine == bn == 83_648
    assert a.totals["params"] - affine == ref.totals["params"] and a.totals["macs"] == ref.totals["macs"]
    v2 = imported("inception_v2")
    assert Counter(c.op for c in v2.layers)["ChannelAffine"] == Counter(c.op for c in v2.layers)["BatchNorm2d"] == 69


def test_the_caffe2_googlenet_is_bvlcs_with_floor_pools():
    """Params equal BVLC GoogLeNet's (googlenet --variant bvlc); the file's max pools have no
    ceil mode (56 -> 55 after the stem, as onnx's shape inference says), so fewer MACs."""
    a, ref = imported("inception_v1"), counts("googlenet", variant="bvlc")
    assert a.totals["params"] == ref.totals["params"] == 6_998_552
    assert [c.output_shape for c in a.layers if c.op == "MaxPool2d"][0] == (64, 55, 55)
    assert a.totals["macs"] < ref.totals["macs"]
