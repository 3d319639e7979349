"""ONNX node names as dotted calc names (calc.onnx.names)."""
from __future__ import annotations

from onnx import helper

from calc.onnx.names import Namer, join_scopes, tensor_stem
from tests.onnx.common import build, init, model

H = helper.make_node


def test_torch_names_become_dotted_module_paths():
    nodes = [H("Conv", ["x", "w"], ["a"], name="/layer1/layer1.0/conv1/Conv", kernel_shape=[1, 1]),
             H("Relu", ["a"], ["b"], name="/layer1/layer1.0/relu/Relu"),
             H("Conv", ["b", "w"], ["c"], name="/layer1/layer1.0/conv2/Conv", kernel_shape=[1, 1]),
             H("Add", ["c", "x"], ["d"], name="/layer1/layer1.0/Add"),
             H("Relu", ["d"], ["y"], name="/layer1/layer1.0/relu_1/Relu")]
    net = build(model(nodes, [init("w", (3, 3, 1, 1))]))
    assert [n.name for n in net.layers()] == ["layer1.0.conv1", "layer1.0.relu", "layer1.0.conv2",
                                              "layer1.0.add", "layer1.0.relu_1"]


def test_scopes_join_without_their_repeats():
    assert join_scopes(["layer1", "layer1.0", "conv1"]) == "layer1.0.conv1"
    assert join_scopes(["features", "features.1", "features.1.0", "block", "block.0", "block.0.0"]) == \
        "features.1.0.block.0.0"


def test_caffe2_nodes_are_named_after_their_weights_and_their_sources():
    n = Namer()
    n.propose("n0", "Conv", "gpu_0/res2_0_branch2a_w_0", -1)
    n.propose("n1", "SpatialBN", "gpu_0/res2_0_branch2a_bn_s_0", 0)
    n.propose("n2", "Relu", None, 1)
    n.propose("n3", "MaxPool", None, 2)
    n.propose("/Flatten", "Flatten", None, 3)
    assert n.names() == ["res2_0_branch2a", "res2_0_branch2a_bn", "res2_0_branch2a_bn.relu",
                         "res2_0_branch2a_bn.maxpool", "flatten"]
    assert tensor_stem("inception_3a/1x1_w_0") == "inception_3a/1x1" and tensor_stem("fc.weight") == "fc"


def test_a_name_used_twice_gets_a_suffix():
    n = Namer()
    for _ in range(3):
        n.propose("/features/features.0/Conv", "Conv")
    assert n.names() == ["features.0.conv", "features.0.conv_2", "features.0.conv_3"]
