"""From a graph to a network: parameters by slot, counted once per stored tensor; constant
subgraphs folded; unknown ops refused, all at once; names, input size and batch."""
from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper

from calc.errors import CalcError
from calc.layers import BatchNorm2d, Conv2d, Flatten, GlobalAvgPool2d, Linear, ReLU
from calc.graph import Network
from calc.resolution import HW
from tests.onnx.common import build, init, load, model, totals

H = helper.make_node


def conv_bn(**kw):
    """conv (weight through Identity and Cast), BN, ReLU, pool, flatten, fc."""
    nodes = [H("Identity", ["w0"], ["w1"]), H("Cast", ["w1"], ["w"], to=TensorProto.FLOAT),
             H("Conv", ["x", "w"], ["c"], name="/features/features.0/Conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             H("BatchNormalization", ["c", "s", "b", "m", "v"], ["n"], name="/features/features.1/BatchNormalization"),
             H("Relu", ["n"], ["r"], name="/features/features.2/Relu"),
             H("GlobalAveragePool", ["r"], ["p"], name="/pool/GlobalAveragePool"),
             H("Flatten", ["p"], ["f"], name="/Flatten"),
             H("Gemm", ["f", "fw", "fb"], ["y"], name="/fc/Gemm", transB=1)]
    inits = [init("w0", (8, 3, 3, 3)), *(init(k, (8,)) for k in "sbmv"), init("fw", (10, 8)), init("fb", (10,))]
    return model(nodes, inits, **kw)


def reference_conv_bn(res=16) -> Network:
    net = Network("ref", (3, res, res))
    net.add("features.0", Conv2d(out_channels=8, kernel_size=3, padding=1, bias=False))
    net.add("features.1", BatchNorm2d())
    net.add("features.2", ReLU())
    net.add("pool", GlobalAvgPool2d())
    net.add("flatten", Flatten())
    net.add("fc", Linear(out_features=10))
    return net


def test_parameters_are_classified_by_slot_and_the_totals_are_calcs():
    net = build(conv_bn())
    # conv weight 8*3*3*3 = 216 (no bias), BN scale + shift 16 (mean, var: buffers), fc 8*10 + 10
    assert totals(net)["params"] == 216 + 16 + 90
    assert totals(net) == totals(reference_conv_bn())
    assert [n.name for n in net.layers()] == ["features.0", "features.1", "features.2", "pool", "flatten", "fc"]
    assert any("2 tensors are BatchNormalization running statistics" in n for n in net.notes)


def test_res_overrides_the_files_size_and_is_counted_at_every_size():
    arch = load(conv_bn())
    assert arch.option("res").default == 16
    for res in (16, 33, 64):
        assert totals(arch.build(res=res)) == totals(reference_conv_bn(res))


def test_a_non_square_file_is_its_h_x_w_and_res_takes_h_x_w():
    arch = load(conv_bn(shape=(1, 3, 16, 24)))
    assert arch.option("res").default == HW(16, 24)
    assert arch.build().input_shape == (3, 16, 24)
    net = arch.build(res=arch.option("res").validate("g.onnx", "20x28"))
    assert net.input_shape == (3, 20, 28) and totals(net)["params"] == 216 + 16 + 90


def test_a_symbolic_input_size_defaults_to_224_and_batch_to_1():
    arch = load(conv_bn(shape=("N", 3, "H", "W")))
    assert arch.option("res").default == 224 and arch.input_batch is None
    assert totals(arch.build()) == totals(reference_conv_bn(224))


def test_a_fixed_batch_is_the_default_batch_and_said():
    arch = load(conv_bn(shape=(8, 3, 16, 16)))
    assert arch.input_batch == 8
    net = arch.build()
    assert "--batch defaults to its N = 8" in net.notes[0]
    assert net.input_shape == (3, 16, 16)  # counted per sample


def test_a_weight_read_by_two_convs_is_counted_once():
    nodes = [H("Conv", ["x", "w"], ["a"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             H("Identity", ["w"], ["w2"]),
             H("Conv", ["a", "w2"], ["y"], kernel_shape=[3, 3], pads=[1, 1, 1, 1])]
    net = build(model(nodes, [init("w", (3, 3, 3, 3))]))
    second = list(net.layers())[1]
    assert second.shares == list(net.layers())[0].name
    t = totals(net)
    assert t["params"] == 81 and t["macs"] == 2 * 81 * 16 * 16  # once; MACs per use
    assert any("counted once, on the first" in n for n in net.notes)


def test_two_initializers_of_equal_content_are_two_tensors():
    same = np.ones((3, 3, 3, 3), np.float32)
    nodes = [H("Conv", ["x", "w"], ["a"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             H("Conv", ["a", "v"], ["y"], kernel_shape=[3, 3], pads=[1, 1, 1, 1])]
    net = build(model(nodes, [init("w", None, values=same), init("v", None, values=same)]))
    assert totals(net)["params"] == 2 * 81 and all(n.shares is None for n in net.layers())


def test_a_kind_reused_beside_tensors_of_their_own_is_counted_once():
    """torch's exporter merges equal initializers in eval mode (an untrained net's zero biases):
    the second conv has weights of its own and the first conv's bias, which is counted once."""
    nodes = [H("Conv", ["x", "w1", "b"], ["a"], kernel_shape=[1, 1]),
             H("Conv", ["a", "w2", "b"], ["y"], kernel_shape=[1, 1])]
    net = build(model(nodes, [init("w1", (3, 3, 1, 1)), init("w2", (3, 3, 1, 1)), init("b", (3,))]))
    first, second = list(net.layers())
    assert (second.shares, second.shared) == (first.name, ("bias",))
    t = totals(net)
    assert t["params"] == 9 + 3 + 9 and t["macs"] == 2 * 9 * 16 * 16
    assert any("counted once, on the first" in n for n in net.notes)


def test_a_tensor_reused_as_another_kind_is_counted_at_each_use():
    """A conv's bias fed to a BatchNormalization as its scale: calc shares parameters kind by
    kind, so this one is counted at each use, and a note says so."""
    nodes = [H("Conv", ["x", "w", "b"], ["a"], kernel_shape=[1, 1]),
             H("BatchNormalization", ["a", "b", "beta", "mean", "var"], ["y"])]
    inits = [init("w", (3, 3, 1, 1)), init("b", (3,)), init("beta", (3,)), init("mean", (3,)), init("var", (3,))]
    net = build(model(nodes, inits))
    assert all(n.shares is None for n in net.layers())
    assert totals(net)["params"] == 9 + 3 + 2 * 3
    assert any("counted at each use" in n for n in net.notes)


def test_unknown_ops_are_listed_all_at_once_and_nothing_is_counted():
    nodes = [H("Relu", ["x"], ["a"], name="r"),
             H("FusedConv", ["a"], ["b"], name="fc1", domain="com.microsoft"),
             H("FusedConv", ["b"], ["c"], name="fc2", domain="com.microsoft"),
             H("QLinearConv", ["c"], ["d"], name="q"), H("If", ["d"], ["y"], name="branch")]
    m = model(nodes, opset=17, extra_opsets=[helper.make_opsetid("com.microsoft", 1)])
    with pytest.raises(CalcError) as e:
        load(m)
    msg = str(e.value)
    assert msg == ("g.onnx: 4 nodes of 3 ops calc has no layer for, so nothing is counted: "
                   "com.microsoft.FusedConv x2 ('fc1', 'fc2'); QLinearConv x1 ('q'); If x1 ('branch')")


def test_an_input_that_is_not_an_image_is_an_error():
    with pytest.raises(CalcError, match="has shape 1x16; calc counts N x C x H x W images"):
        load(model([H("Relu", ["x"], ["y"])], shape=(1, 16)))


def test_bn_folded_into_the_convs_is_said():
    nodes = [H("Conv", ["x", "onnx::Conv_5", "onnx::Conv_6"], ["y"], kernel_shape=[1, 1])]
    net = build(model(nodes, [init("onnx::Conv_5", (4, 3, 1, 1)), init("onnx::Conv_6", (4,))]))
    assert any("BatchNorm looks folded into them; the trained network had 4 more params if those convs had no "
               "bias of their own" in n and "8 if they had one" in n for n in net.notes)
    vgg_like = build(model([H("Conv", ["x", "features.0.weight", "features.0.bias"], ["y"], kernel_shape=[1, 1])],
                           [init("features.0.weight", (4, 3, 1, 1)), init("features.0.bias", (4,))]))
    assert not any("folded" in n for n in vgg_like.notes)


def test_a_sweep_over_res_is_each_point_counted_alone():
    """GAP -> Flatten -> Gemm does not depend on the input size: the sweep counts every size
    at once (calc.grid), and each row equals the network built at that size."""
    from calc import grid

    arch = load(conv_bn())
    sizes = [16, 23, 40]
    assert not arch.build(res=40).reads_spatial
    for row, res in zip(grid.sweep(arch, {"res": sizes}), sizes):
        assert {k: row[k] for k in totals(reference_conv_bn(res))} == totals(arch.build(res=res))
