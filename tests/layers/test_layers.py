"""Closed forms of single layers: shapes, params and counts, and their errors."""
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from calc.errors import CalcError, ShapeError
from calc.graph import Network
from calc.layers import (
    Add, AvgPool2d, BatchNorm2d, ChannelShuffle, ChannelSplit, Concat, Conv2d, Dropout, Flatten,
    GlobalAvgPool2d, Linear, MaxPool2d, Mul, ReLU, Softmax, layer_type,
)


def test_conv_standard_3x3():
    conv = Conv2d(out_channels=64, kernel_size=3, stride=1, padding=1, bias=False)
    shape = conv.output_shape([(32, 56, 56)])
    assert shape == (64, 56, 56)
    assert conv.params([(32, 56, 56)]) == 64 * 32 * 9
    # macs_regrouped (Paddle model_stat's double group division) is the plain count at groups = 1
    assert conv.counts([(32, 56, 56)], shape) == {"macs": 56 * 56 * 64 * 32 * 9, "bias": 0, "out": 56 * 56 * 64,
                                                  "macs_regrouped": 56 * 56 * 64 * 32 * 9}


def test_conv_regrouped_counts_divide_the_filter_depth_by_groups_again():
    # Paddle 1.x model_stat: kernel_ops = kh * kw * (c_in / groups) with c_in the filter's depth
    # (already in_channels / groups), in Python 2 integer division
    dw = Conv2d(out_channels=96, kernel_size=3, padding=1, groups=96, bias=False)
    assert dw.param_counts([(96, 14, 14)]) == {"weights": 96 * 9, "bias": 0, "weights_regrouped": 0}
    assert dw.counts([(96, 14, 14)], (96, 14, 14))["macs_regrouped"] == 0
    narrow = Conv2d(out_channels=128, kernel_size=3, padding=1, groups=32, bias=False)   # 4 per group: 4 // 32 = 0
    assert narrow.param_counts([(128, 56, 56)])["weights_regrouped"] == 0
    wide = Conv2d(out_channels=1024, kernel_size=3, padding=1, groups=32, bias=False)    # 32 per group: 32 // 32 = 1
    assert wide.param_counts([(1024, 7, 7)])["weights_regrouped"] == 1024 * 9 * 1
    assert wide.counts([(1024, 7, 7)], (1024, 7, 7))["macs_regrouped"] == 1024 * 7 * 7 * 9
    assert wide.params([(1024, 7, 7)]) == 1024 * 32 * 9   # the true count ignores the derived kinds


def test_conv_depthwise_and_bias():
    conv = Conv2d(out_channels=96, kernel_size=3, stride=2, padding=1, groups=96, bias=True)
    assert conv.depthwise([(96, 112, 112)])
    shape = conv.output_shape([(96, 112, 112)])
    assert shape == (96, 56, 56)
    assert conv.params([(96, 112, 112)]) == 96 * 9 + 96
    c = conv.counts([(96, 112, 112)], shape)
    assert c["macs"] == 96 * 56 * 56 * 9 and c["bias"] == 96 * 56 * 56


def test_conv_rectangular_dilated_and_same_padding():
    conv = Conv2d(out_channels=8, kernel_size=(1, 7), padding=(0, 3))
    assert conv.output_shape([(4, 17, 17)]) == (8, 17, 17)
    dil = Conv2d(out_channels=8, kernel_size=3, dilation=2, padding=0)
    assert dil.output_shape([(4, 17, 17)]) == (8, 13, 13)  # effective kernel 5
    same = Conv2d(out_channels=8, kernel_size=3, stride=2, padding="same")
    assert same.output_shape([(4, 225, 225)]) == (8, 113, 113)  # TF: ceil(225 / 2)
    assert Conv2d(out_channels=8, kernel_size=3, padding="valid").output_shape([(4, 10, 10)]) == (8, 8, 8)


@given(
    c_in=st.integers(1, 64), mult=st.integers(1, 4), groups=st.sampled_from([1, 2, 4]),
    k=st.integers(1, 7), stride=st.integers(1, 3), pad=st.integers(0, 3), hw=st.integers(8, 64),
)
@settings(max_examples=200, deadline=None)
def test_conv_invariants(c_in, mult, groups, k, stride, pad, hw):
    c_in *= groups
    out_c = mult * groups
    conv = Conv2d(out_channels=out_c, kernel_size=k, stride=stride, padding=pad, groups=groups, bias=False)
    try:
        shape = conv.output_shape([(c_in, hw, hw)])
    except ShapeError:
        assert hw + 2 * pad < k  # the only way it can vanish in this range
        return
    # PyTorch's formula, written independently
    assert shape[1] == math.floor((hw + 2 * pad - k) / stride) + 1
    counts = conv.counts([(c_in, hw, hw)], shape)
    # every output element costs one MAC per weight it touches: MACs = out positions x params
    assert counts["macs"] == shape[1] * shape[2] * conv.params([(c_in, hw, hw)])
    with_bias = conv.model_copy(update={"bias": True})
    assert with_bias.params([(c_in, hw, hw)]) == conv.params([(c_in, hw, hw)]) + out_c


def test_conv_rejects_bad_fields_and_groups():
    with pytest.raises(ValidationError, match="divisible by groups"):
        Conv2d(out_channels=30, kernel_size=3, groups=4)
    with pytest.raises(ValidationError, match="kernel_size must be >= 1"):
        Conv2d(out_channels=8, kernel_size=0)
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        Conv2d(out_channels=8, kernel_size=3, in_channels=4)
    with pytest.raises(ShapeError, match="channels=30, groups=4"):
        Conv2d(out_channels=8, kernel_size=3, groups=4).output_shape([(30, 8, 8)])


def test_vanishing_feature_map():
    with pytest.raises(ShapeError, match="feature map vanishes.*stride 2 received H=1"):
        Conv2d(out_channels=8, kernel_size=3, stride=2, padding=1).output_shape([(8, 1, 1)])
    with pytest.raises(ShapeError, match="feature map vanishes.*kernel 7"):
        AvgPool2d(kernel_size=7, stride=1).output_shape([(8, 4, 4)])


def test_linear():
    fc = Linear(out_features=1000)
    assert fc.output_shape([(1280,)]) == (1000,)
    assert fc.params([(1280,)]) == 1280 * 1000 + 1000
    assert fc.counts([(1280,)], (1000,)) == {"macs": 1_280_000, "bias": 1000, "out": 1000}
    with pytest.raises(ShapeError, match="add a Flatten"):
        fc.output_shape([(1280, 1, 1)])


def test_batchnorm_params_exclude_running_stats():
    assert BatchNorm2d().params([(32, 7, 7)]) == 64
    assert BatchNorm2d(affine=False).params([(32, 7, 7)]) == 0


def test_pools_match_pytorch_shapes():
    # torchvision ResNet stem pool: 3x3 s2 p1 on 112 -> 56
    assert MaxPool2d(kernel_size=3, stride=2, padding=1).output_shape([(64, 112, 112)]) == (64, 56, 56)
    # SqueezeNet pools use ceil_mode=True: 3x3 s2 on 109 -> 54 (floor would give 54 too), on 55 -> 27
    assert MaxPool2d(kernel_size=3, stride=2, ceil_mode=True).output_shape([(96, 109, 109)]) == (96, 54, 54)
    assert MaxPool2d(kernel_size=3, stride=2, ceil_mode=True).output_shape([(96, 56, 56)]) == (96, 28, 28)
    assert MaxPool2d(kernel_size=3, stride=2, ceil_mode=False).output_shape([(96, 56, 56)]) == (96, 27, 27)
    # ResNet-vd shortcut: AvgPool2d(2, 2, ceil_mode=True) on 7 -> 4
    assert AvgPool2d(kernel_size=2, stride=2, ceil_mode=True).output_shape([(8, 7, 7)]) == (8, 4, 4)
    pool = MaxPool2d(kernel_size=3, stride=2, padding=1)
    assert pool.counts([(1, 4, 4)], (1, 2, 2)) == {"in": 16, "out": 4, "window": 36, "strided": 16}
    g = GlobalAvgPool2d()
    assert g.output_shape([(1280, 7, 7)]) == (1280, 1, 1)
    assert GlobalAvgPool2d(keepdims=False).output_shape([(1280, 7, 7)]) == (1280,)


def test_structural_layers():
    assert Add().output_shape([(8, 4, 4), (8, 4, 4), (8, 4, 4)]) == (8, 4, 4)
    assert Add().counts([(8, 4, 4)] * 3, (8, 4, 4)) == {"elems": 256, "out": 128}
    with pytest.raises(ShapeError, match="8x4x4, 16x4x4"):
        Add().output_shape([(8, 4, 4), (16, 4, 4)])
    assert Concat().output_shape([(8, 4, 4), (24, 4, 4)]) == (32, 4, 4)
    with pytest.raises(ShapeError, match="equal spatial sizes"):
        Concat().output_shape([(8, 4, 4), (8, 2, 2)])
    assert Mul().output_shape([(8, 4, 4), (8, 1, 1)]) == (8, 4, 4)
    assert ChannelSplit(index=1).output_shape([(116, 28, 28)]) == (58, 28, 28)
    with pytest.raises(ValidationError):
        ChannelSplit(parts=2, index=2)
    with pytest.raises(ShapeError, match="channels=10, groups=3"):
        ChannelShuffle(groups=3).output_shape([(10, 4, 4)])
    assert Flatten().output_shape([(1280, 1, 1)]) == (1280,)
    assert Dropout(p=0.2).aliases_input and Flatten.aliases_input
    assert Softmax().counts([(1000,)], (1000,)) == {"elems": 1000, "rows": 1}
    assert ReLU().counts([(8, 2, 2)], (8, 2, 2)) == {"elems": 32}


def test_registry_lookup():
    assert layer_type("Conv2d") is Conv2d
    with pytest.raises(CalcError, match="unknown layer type 'Conv3d'"):
        layer_type("Conv3d")


def test_graph_errors_name_the_node():
    net = Network("t", (3, 32, 32))
    net.add("a", Conv2d(out_channels=8, kernel_size=3, padding=1))
    with pytest.raises(CalcError, match="layer 'a': name already used"):
        net.add("a", ReLU())
    with pytest.raises(CalcError, match="layer 'b' \\(ReLU\\): input 'nope' is not defined"):
        net.add("b", ReLU(), "nope")
    net.add("c", Conv2d(out_channels=16, kernel_size=1))
    with pytest.raises(CalcError, match="layer 'join' \\(Add, input 8x32x32, 16x32x32\\)"):
        net.add("join", Add(), ["a", "c"])
    with pytest.raises(CalcError, match="Add takes 2..n input"):
        net.add("single", Add(), ["a"])
    net.check()
    assert [n.name for n in net.layers()] == ["a", "c"]
    assert net.consumers("a") == ["c"]


def test_networkx_view_follows_the_graph():
    net = Network("t", (3, 8, 8))
    net.add("a", Conv2d(out_channels=4, kernel_size=1))
    assert set(net.graph.nodes) == {"input", "a"}
    net.add("b", ReLU())
    net.add("c", Add(), ["a", "b"])  # the view is rebuilt after each add
    assert net.graph.edges["a", "c"]["slot"] == 0 and net.graph.edges["b", "c"]["slot"] == 1
    assert net.graph.nodes["c"]["node"].shape == (4, 8, 8)
    assert sorted(net.consumers("a")) == ["b", "c"]


def test_adaptive_avg_pool_windows_match_pytorch():
    from calc.layers import AdaptiveAvgPool2d
    # AlexNet/VGG heads: 6x6 -> 6x6 and 7x7 -> 7x7 are identity-sized (window 1)
    p = AdaptiveAvgPool2d(output_size=6)
    assert p.output_shape([(256, 6, 6)]) == (256, 6, 6)
    assert p.counts([(256, 6, 6)], (256, 6, 6))["window"] == 256 * 36
    # 5 -> 3: PyTorch windows [0,2), [1,4), [3,5): lengths 2 + 3 + 2 = 7 per axis
    q = AdaptiveAvgPool2d(output_size=3)
    assert q.counts([(1, 5, 5)], (1, 3, 3))["window"] == 7 * 7
    # evenly divisible: windows tile the input exactly
    assert AdaptiveAvgPool2d(output_size=(2, 7)).counts([(3, 8, 14)], (3, 2, 7))["window"] == 3 * 8 * 14


def test_adaptive_window_closed_form_matches_the_definition():
    from calc.layers.pool import _adaptive_windows
    for size in range(1, 40):
        for out in range(1, 45):
            direct = sum(-(-(i + 1) * size // out) - (i * size // out) for i in range(out))
            assert _adaptive_windows(size, out) == direct


def test_lrn_zeropad_channel_slice():
    from calc.counting import analyze
    from calc.layers import LRN, ChannelSlice, ZeroPad2d

    net = Network("t", (8, 6, 6))
    net.add("lrn", LRN(size=5))
    net.add("pad", ZeroPad2d(padding=(1, 0, 1, 0)))          # left, right, top, bottom
    net.add("slice", ChannelSlice(start=2, stop=7))
    assert [n.shape for n in net.layers()] == [(8, 6, 6), (8, 7, 7), (5, 7, 7)]
    assert net["lrn"].layer.counts([(8, 6, 6)], (8, 6, 6)) == {"elems": 288, "window": 288 * 5, "padded": 12 * 36,
                                                               "positions": 36}
    # ptflops 0.7.5 on nn.LocalResponseNorm(5) over a 1x8x6x6 input reports 1296 (its patched
    # Tensor.mul x2 and Tensor.add, 288 each, and F.avg_pool3d over the 12x6x6 padded squares);
    # thop 0.1.1.post2209072238 and fvcore 0.1.5 report 0 (measured with the three tools on that
    # module, torch 2.14.1 CPU, outside the project: tests/data/measure/zoo/probe_lrn_pad_slice.py)
    assert analyze(net, convention="ptflops").totals["flops"] == 1296
    assert analyze(net, convention="thop").totals["flops"] == 0
    assert analyze(net, convention="fvcore").totals["flops"] == 0
    a = analyze(net, convention="flops")
    assert a.totals["flops"] == 288 * 5 + 4 * 288 and a.uncounted == {}
    assert a.totals["params"] == 0
    # the slice is a view: no memory of its own at the peak, no traffic
    assert a.layers[2].traffic_bytes == 0
    assert ZeroPad2d(padding=2).output_shape([(3, 4, 5)]) == (3, 8, 9)
    with pytest.raises(ValidationError, match="start < stop"):
        ChannelSlice(start=4, stop=4)
    with pytest.raises(CalcError, match="ChannelSlice stop=9 is past the input's 8 channels"):
        Network("t", (8, 6, 6)).add("s", ChannelSlice(stop=9))
    with pytest.raises(ValidationError, match="ZeroPad2d padding must be >= 0"):
        ZeroPad2d(padding=(0, -1, 0, 0))
