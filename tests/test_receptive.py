"""Receptive fields (calc.receptive): the article's worked examples, the closed forms against a
brute-force support propagation, and torchvision models against their measured gradient support.

References:

* ARTICLE: Araujo, Norris and Sim, "Computing Receptive Fields of Convolutional Neural Networks",
  Distill 2019 (doi:10.23915/distill.00021), and its library, google-research/receptive_field at
  commit f12ae8e: the test networks of ``receptive_field/python/util/receptive_field_computation_test.py``
  (``create_test_network_1`` .. ``_9``, with the values its tests assert) and the TF-Slim rows of
  ``receptive_field/RECEPTIVE_FIELD_TABLE.md`` at resolution 224 (RF, effective stride, effective
  padding per end-point), the table the article discusses.
* MEASURED: tests/data/receptive_fields.json, the input-gradient support of torchvision 0.29.1
  models (torch 2.14.1 on the CPU), measured with
  ``python tests/data/measure/receptive_fields/receptive_fields.py measured2.json`` (method in its
  ``about`` and tests/data/PROVENANCE.md).
"""
from __future__ import annotations

import csv
import io
import json
from fractions import Fraction
from math import ceil, floor

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import archs
from calc.errors import CalcError
from calc.graph import Network
from calc.layers import (
    LAYER_TYPES, LRN, Add, AdaptiveAvgPool2d, AvgPool2d, BatchNorm2d, Concat, Conv2d, Flatten,
    GlobalAvgPool2d, Layer, Linear, MaxPool2d, Mul, ReLU, Sigmoid, ZeroPad2d,
)
from calc.layers.spatial import RFWindow
from calc.receptive import receptive_fields
from tests.conftest import DATA


def rjp(net: Network, name: str | None = None):
    """(rf, jump, padding) of ``name`` (default: the network output) as (h, w) pairs."""
    f = receptive_fields(net)[name or net.output]
    return tuple((a, b) for a, b in zip(*((x.rf, x.jump, x.padding) for x in f.axes)))


def conv(net, name, x, k, s=1, p=0, **kw):
    return net.add(name, Conv2d(out_channels=kw.pop("c", 1), kernel_size=k, stride=s, padding=p, **kw), x)


# ---------------------------------------------------------------------------
# ARTICLE: the library's test networks (slim 'VALID' = padding 0; tf.pad [[1, 0], [1, 0]] on
# H and W = ZeroPad2d((left 1, right 0, top 1, bottom 0)); slim kernels are [height, width])


def network_1(res=None, pools=False) -> Network:
    net = Network("net1", (1, res or 32, res or 32))
    l1 = conv(net, "L1", "input", 1, 4)
    pad = net.add("L2_pad", ZeroPad2d(padding=(1, 0, 1, 0)), "input")
    if pools:  # create_test_network_2: layers 2 and 3 as max pools
        l2 = net.add("L2", MaxPool2d(kernel_size=3, stride=2), pad)
        l3 = net.add("L3", MaxPool2d(kernel_size=1, stride=2), l2)
    else:
        l3 = conv(net, "L3", conv(net, "L2", pad, 3, 2), 1, 2)
    net.add("output", ReLU(), net.add("add", Add(), [l1, l3]))
    return net


def test_article_aligned_networks():
    # create_test_network_1 and _2: rf 3, effective stride 4, effective padding 1
    for net in (network_1(), network_1(pools=True)):
        f = receptive_fields(net)["output"]
        assert rjp(net) == ((3, 3), (4, 4), (1, 1)) and f.aligned and f.exact


def test_article_non_square_kernels():
    # create_test_network_5: conv [3, 5]/2 then [3, 1]/2 (valid): rf x (W) 5, y (H) 7, stride 4, padding 0
    net = Network("net5", (1, 33, 33))
    conv(net, "L2", conv(net, "L1", "input", (3, 5), 2), (3, 1), 2)
    assert rjp(net) == ((7, 5), (4, 4), (0, 0))


def test_article_intermediate_add():
    # create_test_network_8 (valid padding, explicit pads; at 16x16, where its branches' maps
    # agree) and _9 ('SAME' at the test's 17x17 input): 11, 8, 5
    for same in (False, True):
        net = Network("net8", (1, 16 + same, 16 + same))
        if same:
            l3 = conv(net, "L3", conv(net, "L2", "input", 3, 2, "same"), 1, 2, "same")
            l1 = conv(net, "L1", "input", 1, 4, "same")
        else:
            l1 = conv(net, "L1", "input", 1, 4)
            pad = net.add("L2_pad", ZeroPad2d(padding=(1, 0, 1, 0)), "input")
            l3 = conv(net, "L3", conv(net, "L2", pad, 3, 2), 1, 2)
        l4 = net.add("L4", ReLU(), net.add("add1", Add(), [l1, l3]))
        l5 = conv(net, "L5", l4, 1, 2, "same" if same else 0)
        if same:
            l6 = conv(net, "L6", l4, 3, 2, "same")
        else:
            l6 = conv(net, "L6", net.add("L6_pad", ZeroPad2d(padding=(1, 0, 1, 0)), l4), 3, 2)
        net.add("output", ReLU(), net.add("add2", Add(), [l5, l6]))
        f = receptive_fields(net)["output"]
        assert rjp(net) == ((11, 11), (8, 8), (5, 5)) and f.aligned


def test_article_misaligned_networks():
    # create_test_network_4 ('SAME' 3x3/2): aligned at 9x9 (3, 4, 1); at 8x8 TF puts the odd
    # padding pixel at the bottom/right, the 3x3 path is centred half a step off the 1x1 one,
    # and the library raises "not aligned"
    def network_4(res):
        net = Network("net4", (1, res, res))
        l1 = conv(net, "L1", "input", 1, 4)
        l3 = conv(net, "L3", conv(net, "L2", "input", 3, 2, "same"), 1, 2)
        net.add("output", ReLU(), net.add("add", Add(), [l1, l3]))
        return net

    assert rjp(network_4(9)) == ((3, 3), (4, 4), (1, 1)) and receptive_fields(network_4(9))["output"].aligned
    f = receptive_fields(network_4(8))["add"]
    assert not f.aligned and f.exact  # same jump: the union [0, 2] is exact, its centre is not the 1x1's
    assert rjp(network_4(8)) == ((3, 3), (4, 4), (0, 0))
    assert f.note == ("not aligned: along H the paths' centres differ (0, 1 px); "
                      "along W the paths' centres differ (0, 1 px)")
    # create_test_network_3: a 5x5/2 path and two 3x3/1 convs (the library raises): at 7x7 both
    # give 3x3 maps, with jumps 2 and 1
    net = Network("net3", (1, 7, 7))
    l1 = conv(net, "L1", net.add("L1_pad", ZeroPad2d(padding=(2, 1, 2, 1)), "input"), 5, 2)
    l3 = conv(net, "L3", conv(net, "L2", "input", 3), 3)
    net.add("output", ReLU(), net.add("add", Add(), [l1, l3]))
    f = receptive_fields(net)["output"]
    assert not f.aligned and not f.exact and "jumps differ (1, 2)" in f.note
    assert f.since == "add"


# ---------------------------------------------------------------------------
# ARTICLE: RECEPTIVE_FIELD_TABLE.md, TF-Slim models at 224 ('SAME' resolved at that size).
# Channels are 4 everywhere: they do not change a field.


def alexnet_v2() -> tuple[Network, dict]:
    net = Network("alexnet_v2", (3, 224, 224))
    x = conv(net, "conv1", "input", 11, 4, c=4)
    x = net.add("pool1", MaxPool2d(kernel_size=3, stride=2), x)
    x = conv(net, "conv2", x, 5, 1, "same", c=4)
    x = net.add("pool2", MaxPool2d(kernel_size=3, stride=2), x)
    for i in (3, 4, 5):
        x = conv(net, f"conv{i}", x, 3, 1, "same", c=4)
    net.add("pool5", MaxPool2d(kernel_size=3, stride=2), x)
    rows = {"conv1": (11, 4, 0), "pool1": (19, 8, 0), "conv2": (51, 8, 16), "conv3": (99, 16, 32),
            "conv4": (131, 16, 48), "conv5": (163, 16, 64), "pool5": (195, 32, 64)}
    return net, rows


def vgg_16() -> tuple[Network, dict]:
    net = Network("vgg_16", (3, 224, 224))
    x = "input"
    for stage, n in enumerate((2, 2, 3, 3, 3), start=1):
        for i in range(1, n + 1):
            x = conv(net, f"conv{stage}/conv{stage}_{i}", x, 3, 1, "same", c=4)
        x = net.add(f"pool{stage}", MaxPool2d(kernel_size=2, stride=2), x)
    rows = {"conv1/conv1_1": (3, 1, 1), "pool1": (6, 2, 2), "conv2/conv2_1": (10, 2, 4), "pool2": (16, 4, 6),
            "conv3/conv3_1": (24, 4, 10), "conv3/conv3_2": (32, 4, 14), "pool3": (44, 8, 18),
            "conv4/conv4_1": (60, 8, 26), "conv4/conv4_2": (76, 8, 34), "pool4": (100, 16, 42),
            "conv5/conv5_1": (132, 16, 58), "conv5/conv5_2": (164, 16, 74), "pool5": (212, 32, 90)}
    return net, rows


def mobilenet_v1() -> tuple[Network, dict]:
    net = Network("mobilenet_v1", (3, 224, 224))
    x = conv(net, "Conv2d_0", "input", 3, 2, "same", c=4)
    for i, s in enumerate((1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1), start=1):
        x = conv(net, f"Conv2d_{i}_depthwise", x, 3, s, "same", c=4, groups=4)
        x = conv(net, f"Conv2d_{i}_pointwise", x, 1, c=4)
    rf = (3, 7, 11, 19, 27, 43, 59, 91, 123, 155, 187, 219, 251, 315)
    jump = (2, 2, 4, 4, 8, 8, 16, 16, 16, 16, 16, 16, 32, 32)
    pad = (0, 2, 2, 6, 6, 14, 14, 30, 46, 62, 78, 94, 94, 126)
    names = ["Conv2d_0"] + [f"Conv2d_{i}_pointwise" for i in range(1, 14)]
    return net, {n: row for n, row in zip(names, zip(rf, jump, pad))}


def resnet_v1_50() -> tuple[Network, dict]:
    """slim resnet_v1: conv2d_same 7x7/2 (explicit padding 3), max_pool2d 3x3/2 'SAME' (at 112:
    nothing on top/left, one row/column at the bottom/right), blocks whose *last* unit has the
    stride, a bottleneck's 3x3 conv2d_same (stride 2: explicit padding 1) and a shortcut that is
    a 1x1/s max pool where the depth is kept, else a 1x1/s conv."""
    net = Network("resnet_v1_50", (3, 224, 224))
    x = conv(net, "conv1", "input", 7, 2, 3, c=4)
    x = net.add("pool1", MaxPool2d(kernel_size=3, stride=2), net.add("pool1_pad", ZeroPad2d(padding=(0, 1, 0, 1)), x))
    for b, (base, units, stride) in enumerate(((1, 3, 2), (2, 4, 2), (4, 6, 2), (8, 3, 1)), start=1):
        for u in range(1, units + 1):
            s = stride if u == units else 1
            name, depth = f"block{b}/unit_{u}", 4 * base
            y = conv(net, f"{name}/conv1", x, 1, c=base)
            y = conv(net, f"{name}/conv2", y, 3, s, 1 if s > 1 else "same", c=base)
            y = conv(net, f"{name}/conv3", y, 1, c=depth)
            if net[x].shape[0] == depth:
                sc = x if s == 1 else net.add(f"{name}/shortcut", MaxPool2d(kernel_size=1, stride=s), x)
            else:
                sc = conv(net, f"{name}/shortcut", x, 1, s, c=depth)
            x = net.add(f"{name}/relu", ReLU(), net.add(f"{name}/add", Add(), [sc, y]))
        net.add(f"block{b}", ReLU(), x)  # the end-point
    rows = {"block1": (35, 8, 15), "block2": (99, 16, 47), "block3": (291, 32, 143), "block4": (483, 32, 239)}
    return net, rows


@pytest.mark.parametrize("build", [alexnet_v2, vgg_16, mobilenet_v1, resnet_v1_50])
def test_article_table(build):
    net, rows = build()
    rf = receptive_fields(net)
    got = {name: (rf[name].h.rf, rf[name].h.jump, rf[name].h.padding) for name in rows}
    assert got == rows
    assert all(rf[name].w == rf[name].h and rf[name].aligned for name in rows)


def test_resnet_d_shortcut_is_not_aligned():
    # ResNet-D (PaddleClas vd): the 2x2/s2 average pool of layer2's shortcut reads positions
    # 2o, 2o + 1 of a jump-4 map (centre 2o + 1/2), the 3x3/s2 main path 2o - 1 .. 2o + 1 (centre
    # 2o): half a step, 2 input pixels, apart
    rf = receptive_fields(archs.build("resnet50_vd"))
    f = rf["layer2.block0.add"]
    assert not f.aligned and f.exact and "along H the paths' centres differ (0, 2 px)" in f.note
    assert rf.summary()["note"] == "not aligned: inherited from layer2.block0.add"
    assert rf["layer1.block2.relu"].aligned


def test_torchvision_padding_differs_from_tf_same():
    # our mobilenet_v1 pads every 3x3 conv by 1 on each side (torchvision-style), where TF-Slim's
    # 'SAME' puts nothing on top/left of a stride-2 conv at an even size: same rf and jump
    # (315, 32, ARTICLE), padding 157 = 126 + the 31 pixels of the five stride-2 convs (1+2+4+8+16)
    s = receptive_fields(archs.build("mobilenet_v1")).summary()
    assert (s["layer"], s["rf"], s["jump"], s["padding"]) == ("block13.pw.act", [315, 315], [32, 32], [157, 157])


# ---------------------------------------------------------------------------
# Each layer type's closed form


def test_every_layer_type_owns_its_window():
    missing = [name for name, cls in LAYER_TYPES.items()
               if cls.rf_window is Layer.rf_window and not (cls.elementwise or cls.aliases_input
                                                           or cls.reorders_channels)]
    assert missing == []


def test_conv_dilation_groups_and_asymmetric_kernels():
    net = Network("n", (4, 64, 48))
    x = conv(net, "a", "input", (1, 7), 1, (0, 3), c=4)
    x = conv(net, "b", x, (7, 1), 2, (3, 0), c=4, groups=4)  # depthwise: the same window
    x = conv(net, "c", x, 3, 1, 2, c=8, dilation=2, groups=2)  # span 5
    rf = receptive_fields(net)
    assert rjp(net, "a") == ((1, 7), (1, 1), (0, 3))
    assert rjp(net, "b") == ((7, 7), (2, 2), (3, 3))
    assert rjp(net, "c") == ((7 + 4 * 2, 7 + 4 * 2), (2, 2), (3 + 2 * 2, 3 + 2 * 2))
    assert rf["c"].grid == net["c"].shape[1:]


def test_zero_pad_asymmetric_and_views():
    net = Network("n", (3, 16, 16))
    x = net.add("pad", ZeroPad2d(padding=(1, 2, 3, 0)), "input")  # left 1, right 2, top 3, bottom 0
    x = conv(net, "conv", x, 3, 2)
    for name, layer in (("bn", BatchNorm2d()), ("lrn", LRN(size=5)), ("relu", ReLU())):
        x = net.add(name, layer, x)
    rf = receptive_fields(net)
    assert rjp(net, "pad") == ((1, 1), (1, 1), (3, 1))
    assert rjp(net, "conv") == ((3, 3), (2, 2), (3, 1))
    assert rf["relu"] is rf["conv"]  # BN, cross-channel LRN, ReLU: spatially 1x1


def test_ceil_mode_pool_note():
    net = Network("n", (3, 8, 8))
    net.add("floor", MaxPool2d(kernel_size=3, stride=2), "input")  # 3x3: windows 0-2, 2-4, 4-6
    net.add("ceil", MaxPool2d(kernel_size=3, stride=2, ceil_mode=True), "input")  # 4x4: and 6-8
    rf = receptive_fields(net)
    assert net["ceil"].shape == (3, 4, 4) and rjp(net, "ceil") == rjp(net, "floor") == ((3, 3), (2, 2), (0, 0))
    assert "ceil mode" in rf["ceil"].note and rf["floor"].note is None
    assert rf["ceil"].at(3, 3) == ((6, 8), (6, 8))  # the last window runs one past the input


def test_global_pool_adaptive_pool_and_fc():
    net = Network("n", (3, 15, 15))
    x = conv(net, "conv", "input", 3, 2, 1, c=4)  # 8x8, rf 3, jump 2, padding 1
    net.add("even", AdaptiveAvgPool2d(output_size=(4, 2)), x)
    net.add("uneven", AdaptiveAvgPool2d(output_size=3), x)
    net.add("one", AdaptiveAvgPool2d(output_size=1), x)
    g = net.add("gap", GlobalAvgPool2d(), x)
    net.add("fc", Linear(out_features=2), net.add("flat", Flatten(), g))
    rf = receptive_fields(net)
    assert rjp(net, "even") == ((5, 9), (4, 8), (1, 1)) and rf["even"].exact
    # 8 -> 3: windows 0-2, 2-5, 5-7 (start floor(8i/3), end ceil(8(i+1)/3) - 1), stride 8/3
    u = rf["uneven"]
    assert not u.exact and "adaptive windows vary" in u.note and u.h.jump == Fraction(16, 3)
    for i, (a, b) in enumerate(((0, 2), (2, 5), (5, 7))):  # the bound contains every window
        lo, hi = u.at(i, i)[0]
        assert lo <= 2 * a - 1 and 2 * b - 1 + 2 <= hi
    for name in ("one", "gap", "flat", "fc"):
        f = rf[name]
        assert f.whole and (f.h.rf, f.h.padding, f.h.jump) == (15, 0, None)
    assert rf["gap"].note == "the whole input"
    assert receptive_fields(net).summary()["layer"] == "conv"  # the trunk: fc <- flat <- gap <- conv
    assert receptive_fields(net).layer_json("fc")["jump"] is None


def test_squeeze_excite_gate_makes_the_field_whole():
    net = Network("se", (3, 32, 32))
    x = conv(net, "conv", "input", 3, 1, 1, c=4)
    g = net.add("gate", Sigmoid(), conv(net, "fc", net.add("pool", GlobalAvgPool2d(), x), 1, c=4))
    y = net.add("scale", Mul(), [x, g])
    net.add("head", Flatten(), net.add("gap", GlobalAvgPool2d(), y))
    rf = receptive_fields(net)
    assert rf["scale"].whole and "global pool joins" in rf["scale"].note
    assert rf.summary()["layer"] == "scale" and rf.summary()["jump"] is None
    assert rf.note("head") == "the whole input: inherited from pool"


class Opaque(Layer):
    """A test-only layer type with no receptive-field rule (and no trait that implies one)."""


def test_a_layer_without_a_rule_is_unknown_downstream():
    net = Network("n", (3, 16, 16))
    x = net.add("opaque", Opaque(), conv(net, "conv", "input", 3))
    net.add("add", Add(), [x, "conv"])
    rf = receptive_fields(net)
    assert rf["conv"] is not None and rf["opaque"] is None and rf["add"] is None
    assert rf.layer_json("add") == {"receptive_field": None, "jump": None, "rf_padding": None, "rf_aligned": None,
                                    "rf_note": "no receptive-field rule for Opaque (at opaque)"}
    assert rf.cells("add") == {"rf": "?", "jump": "?", "rf_padding": "?"}
    assert rf.summary()["layer"] == "add" and rf.summary()["rf"] is None


class Upsample(Layer):
    """Nearest upsampling by ``factor`` (test only): output o reads input floor(o / factor), the
    integer inside [o / f - (f - 1) / f, o / f]: the fractional window of RFWindow's docstring."""

    factor: int = 2

    def output_shape(self, inputs):
        c, h, w = self.spatial_input(inputs)
        return (c, h * self.factor, w * self.factor)

    def rf_window(self, inputs):
        f = self.factor
        return RFWindow(kernel=(Fraction(2 * f - 1, f),) * 2, stride=(Fraction(1, f),) * 2,
                        padding=(Fraction(f - 1, f),) * 2)


def test_fractional_jump():
    net = Network("up", (1, 8, 8))
    net.add("up", Upsample(), "input")  # position u sees pixel floor(u / 2): [u/2 - 1/2, u/2]
    rf = receptive_fields(net)
    f = rf["up"]
    assert (f.h.rf, f.h.jump, f.h.padding) == (Fraction(3, 2), Fraction(1, 2), Fraction(1, 2)) and not f.exact
    assert rf.layer_json("up") | {"rf_note": None} == {
        "receptive_field": [1.5, 1.5], "jump": [0.5, 0.5], "rf_padding": [0.5, 0.5], "rf_aligned": True,
        "rf_note": None}
    check_against_brute_force(net)
    net = Network("down-up", (1, 8, 8))
    x = conv(net, "down", "input", 3, 2, 1)  # rf 3, jump 2, padding 1
    conv(net, "conv", net.add("up", Upsample(), x), 3, 1, 1)
    rf = receptive_fields(net)
    # integral numbers, still a bound: up's position 2m sees [2m - 1, 2m + 1], its interval is [2m - 2, 2m + 1]
    assert (rf["up"].h.rf, rf["up"].h.jump, rf["up"].h.padding) == (4, 1, 2) and not rf["up"].exact
    assert rf.note("conv") == "a bound: inherited from up"
    check_against_brute_force(net)


# ---------------------------------------------------------------------------
# The brute-force reference: per layer, straight from PyTorch's definitions, which input pixels
# each output position depends on (a boolean array [out_h, out_w, H, W] per layer)


def _windows(n_out, n_in, starts, k, d=1):
    return [[q for q in (a + d * t for t in range(k)) if 0 <= q < n_in] for a in starts]


def _gather(dep, rows, cols):
    """OR of dep over the window rows[oh] x cols[ow] of every output position."""
    h, w, H, W = dep.shape
    tmp = np.stack([dep[r].any(0) if r else np.zeros((w, H, W), bool) for r in rows])
    return np.stack([tmp[:, c].any(1) if c else np.zeros((len(rows), H, W), bool) for c in cols], axis=1)


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _tf_same(n_in, n_out, k, s, d):
    return max((n_out - 1) * s + d * (k - 1) + 1 - n_in, 0) // 2


def brute_force(net: Network) -> dict[str, np.ndarray]:
    H, W = net.input_shape[1:]
    eye = np.eye(H * W, dtype=bool).reshape(H, W, H, W)
    deps = {"input": eye}
    for node in net.layers():
        layer, ins = node.layer, [deps[s] for s in node.inputs]
        dep = ins[0]
        out_hw = node.shape[1:] if len(node.shape) == 3 else None
        if isinstance(layer, (Conv2d, MaxPool2d, AvgPool2d)):
            k = _pair(layer.kernel_size)
            s = _pair(layer.stride if isinstance(layer, Conv2d) else layer.effective_stride)
            d = _pair(layer.dilation) if isinstance(layer, Conv2d) else (1, 1)
            in_hw = dep.shape[:2]
            if layer.padding == "same":
                p = tuple(_tf_same(*a) for a in zip(in_hw, out_hw, k, s, d))
            else:
                p = (0, 0) if layer.padding == "valid" else _pair(layer.padding)
            rows, cols = (_windows(n, m, [o * si - pi for o in range(n)], ki, di)
                          for n, m, si, pi, ki, di in zip(out_hw, in_hw, s, p, k, d))
            dep = _gather(dep, rows, cols)
        elif isinstance(layer, ZeroPad2d):
            left, _, top, _ = layer.sides
            rows, cols = (_windows(n, m, [o - pi for o in range(n)], 1)
                          for n, m, pi in zip(out_hw, dep.shape[:2], (top, left)))
            dep = _gather(dep, rows, cols)
        elif isinstance(layer, AdaptiveAvgPool2d):
            rows, cols = ([list(range(o * m // n, -(-(o + 1) * m // n))) for o in range(n)]
                          for n, m in zip(out_hw, dep.shape[:2]))
            dep = _gather(dep, rows, cols)
        elif isinstance(layer, Upsample):
            rows, cols = ([[o // layer.factor] for o in range(n)] for n in out_hw)
            dep = _gather(dep, rows, cols)
        elif isinstance(layer, (GlobalAvgPool2d, Linear)):
            dep = dep.any((0, 1))[None, None]
        elif len(ins) > 1:  # Add, Concat, Mul: a (C, 1, 1) gate broadcasts
            dep = np.logical_or.reduce(np.broadcast_arrays(*ins))
        deps[node.name] = dep
    return deps


def _extent(dep, axis):
    """(nonempty, first, last) input index per output position along axis (2: rows, 3: cols)."""
    seen = dep.any(5 - axis)
    n = seen.shape[-1]
    return seen.any(-1), seen.argmax(-1), n - 1 - seen[..., ::-1].argmax(-1)


def check_against_brute_force(net: Network) -> int:
    """Every position's support lies in its field clipped to the pixels its map reads
    (``Field.pixels``); where the field is exact, an end of it that lies inside the image is the
    support's first (last) pixel: the article's region.  Returns the number of ends checked
    for equality."""
    deps, rf = brute_force(net), receptive_fields(net)
    checked = 0
    for node in net.layers():
        f, dep = rf[node.name], deps[node.name]
        for i, (a, (r_lo, r_hi), size) in enumerate(zip(f.axes, f.reads, net.input_shape[1:])):
            n = dep.shape[i]  # exact (Fraction) ends per position along this axis
            starts = [a.start + q * (a.jump or 0) for q in range(n)]
            ends = [a.end + q * (a.jump or 0) for q in range(n)]
            along = (lambda v: np.array(v)[:, None]) if i == 0 else (lambda v: np.array(v)[None, :])
            seen, first, last = _extent(dep, 2 + i)
            lo = np.broadcast_to(along([max(ceil(v), r_lo) for v in starts]), seen.shape)
            hi = np.broadcast_to(along([min(floor(v), r_hi) for v in ends]), seen.shape)
            assert (first[seen] >= lo[seen]).all() and (last[seen] <= hi[seen]).all(), (node.name, i)
            read = dep.any((0, 1)).any(1 - i)  # the pixels some position reads
            if read.any():
                assert r_lo <= read.argmax() and size - 1 - read[::-1].argmax() <= r_hi, (node.name, i, "reads")
            if f.exact and not f.whole:
                inside = seen & np.broadcast_to(along([v >= 0 for v in starts]), seen.shape)
                assert (first[inside] == lo[inside]).all(), (node.name, i, "first")
                inside_end = seen & np.broadcast_to(along([v <= size - 1 for v in ends]), seen.shape)
                assert (last[inside_end] == hi[inside_end]).all(), (node.name, i, "last")
                checked += int(inside.sum()) + int(inside_end.sum())
    return checked


def test_brute_force_checks_interior_positions():
    net = network_1(res=24)
    assert check_against_brute_force(net) > 100
    net, _ = resnet_v1_50()
    small = Network("small", (3, 40, 40))  # the first blocks of resnet_v1_50 at 40x40
    for node in net.layers():
        if node.name.startswith("block2"):
            break
        small.add(node.name, node.layer, list(node.inputs))
    assert check_against_brute_force(small) > 1000


@st.composite
def networks(draw):
    """A random small network: a chain of blocks (convs with dilation, groups and 'same'/'valid'
    padding, pools with ceil mode, zero padding, adaptive pools, upsampling, residual adds and
    two-branch concats), optionally a global pool and a classifier."""
    h, w = draw(st.integers(10, 24)), draw(st.integers(10, 24))
    net = Network("rand", (2, h, w))
    x = "input"
    for i in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(("conv", "conv", "pool", "pad", "act", "res", "split", "adaptive", "up")))
        name = f"b{i}"
        try:
            if kind == "conv":
                k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
                s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
                d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
                pad = draw(st.sampled_from(("same", "valid", "int")))
                if pad == "int":
                    pad = tuple(draw(st.integers(0, di * (ki - 1))) for ki, di in zip(k, d))
                groups = draw(st.sampled_from((1, 2)))
                x = net.add(name, Conv2d(out_channels=2, kernel_size=k, stride=s, padding=pad, dilation=d,
                                         groups=groups), x)
            elif kind == "pool":
                k = draw(st.integers(1, 3))
                s = draw(st.integers(1, 3))
                pool = draw(st.sampled_from((MaxPool2d, AvgPool2d)))
                x = net.add(name, pool(kernel_size=k, stride=s, padding=draw(st.integers(0, k // 2)),
                                       ceil_mode=draw(st.booleans())), x)
            elif kind == "pad":
                x = net.add(name, ZeroPad2d(padding=tuple(draw(st.integers(0, 2)) for _ in range(4))), x)
            elif kind == "act":
                x = net.add(name, draw(st.sampled_from((ReLU, BatchNorm2d)))(), x)
            elif kind == "res":
                k = draw(st.sampled_from((1, 3, 5)))
                y = net.add(f"{name}.conv", Conv2d(out_channels=2, kernel_size=k, padding=k // 2), x)
                x = net.add(f"{name}.add", Add(), [x, y])
            elif kind == "split":
                s = draw(st.integers(1, 2))
                ka, kb = draw(st.integers(1, 3)), draw(st.integers(1, 3))
                a = net.add(f"{name}.a", Conv2d(out_channels=1, kernel_size=ka, stride=s, padding="same"), x)
                b = net.add(f"{name}.b", Conv2d(out_channels=1, kernel_size=kb, stride=s, padding="same"), x)
                x = net.add(f"{name}.cat", Concat(), [a, b])
            elif kind == "adaptive":
                _, hh, ww = net[x].shape
                size = (draw(st.integers(1, hh)), draw(st.integers(1, ww)))
                x = net.add(name, AdaptiveAvgPool2d(output_size=size), x)
            elif max(net[x].shape[1:]) <= 12:  # up
                x = net.add(name, Upsample(), x)
        except CalcError:  # a vanished map: leave the block out
            continue
    if draw(st.booleans()):
        x = net.add("gap", GlobalAvgPool2d(), x)
        net.add("fc", Linear(out_features=2), net.add("flat", Flatten(), x))
    return net


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
def test_closed_forms_match_brute_force(net):
    check_against_brute_force(net)


# ---------------------------------------------------------------------------
# MEASURED: torchvision models, gradient support

MEASURED = json.loads((DATA / "receptive_fields.json").read_text())["models"]

#: our layer for the module the measurement hooked (at its resolution) and the top-level layer
#: at 224 (AlexNet: its avgpool, AdaptiveAvgPool2d(6), is the identity at 224, not at 288)
LAYERS = {
    "vgg16": ("avgpool", "avgpool"),
    "alexnet": ("features.pool5", "avgpool"),
    "resnet18": ("layer4.block1.relu", "layer4.block1.relu"),
    "resnet50": ("layer4.block2.relu", "layer4.block2.relu"),
    "mobilenet_v2": ("head.act", "head.act"),
    "squeezenet1_1": ("classifier.relu", "classifier.relu"),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_torchvision_top_level_field_equals_measured(name):
    m = MEASURED[name]
    s = receptive_fields(archs.build(name)).summary()  # the default configuration, 224
    assert s["layer"] == LAYERS[name][1]
    assert (s["rf"], s["jump"], s["padding"]) == (m["field"]["rf"], m["field"]["jump"], m["field"]["padding"])
    assert s["aligned"] and s["exact"]


#: measured from the corner and the last two positions (data/PROVENANCE.md): the hooked module's
#: layer, and the top-level layer at 224 (DenseNet: norm5's map, then the functional relu)
CORNER_LAST = json.loads((DATA / "receptive_fields.json").read_text())["models_corner_last"]
LATER = {
    "densenet121": ("norm5", "relu"),
    "googlenet": ("inception5b.cat", "inception5b.cat"),
    "inception_v3": ("Mixed_7c.cat", "Mixed_7c.cat"),
}


@pytest.mark.parametrize("name", sorted(LATER))
def test_later_torchvision_nets_equal_measured(name):
    m = CORNER_LAST[name]
    s = receptive_fields(archs.build(name)).summary()
    assert s["layer"] == LATER[name][1]
    assert (s["rf"], s["jump"], s["padding"]) == (m["field"]["rf"], m["field"]["jump"], m["field"]["padding"])
    assert s["aligned"] and s["exact"]
    net = archs.build(name, res=m["input"])
    f = receptive_fields(net)[LATER[name][0]]
    n = net[LATER[name][0]].shape[1]
    assert [n, n] == m["map"]
    for label, pos in {"corner": (0, 0), "last": (n - 1, n - 1), "last-1": (n - 2, n - 2)}.items():
        (a, b), (c, d) = f.pixels(*pos)
        assert [a, b, c, d] == m["extents"][label], label


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_torchvision_classifier_sees_measured_pixels(name):
    # at 224 every logit depends on the whole input, except SqueezeNet 1.1's: its unpadded
    # 3x3/s2 stem (111 positions, the last reading rows 220-222) never reads row or column 223
    net = archs.build(name)
    out = receptive_fields(net)[net.output]
    assert out.whole and [out.h.start, out.h.end, out.w.start, out.w.end] == MEASURED[name]["output_support_224"]


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_torchvision_extents_equal_measured(name):
    """At the measured resolution, every measured position's support is its field clipped to the
    pixels the map reads (SqueezeNet 1.1's unpadded 3x3/s2 stem never reads the last row and
    column of an even input: its last position sees up to 446 of 448)."""
    m = MEASURED[name]
    net = archs.build(name, res=m["input"])
    f = receptive_fields(net)[LAYERS[name][0]]
    assert list(net[LAYERS[name][0]].shape[1:]) == m["map"]
    c_h, c_w = m["centre"]
    n_h, n_w = m["map"]
    positions = {"corner": (0, 0), "centre": (c_h, c_w), "centre+1": (c_h + 1, c_w + 1), "last": (n_h - 1, n_w - 1)}
    for label, pos in positions.items():
        (a, b), (c, d) = f.pixels(*pos)
        assert [a, b, c, d] == m["extents"][label], label
    # the classifier sees every pixel some position sees: from the corner's first to the last's last
    e = m["extents"]
    out = receptive_fields(net)[net.output]
    assert out.whole and [out.h.start, out.h.end, out.w.start, out.w.end] == [
        e["corner"][0], e["last"][1], e["corner"][2], e["last"][3]]


# ---------------------------------------------------------------------------
# The command line


def test_cli_json_fields(cli):
    code, out, _ = cli("arch", "resnet50", "--format", "json")
    assert code == 0
    d = json.loads(out)
    m = MEASURED["resnet50"]["field"]
    top = d["receptive_field"]
    assert (top["layer"], top["rf"], top["jump"], top["padding"]) == (
        "layer4.block2.relu", m["rf"], m["jump"], m["padding"])
    assert top["aligned"] is True and top["exact"] is True and top["note"] is None
    by = {layer["name"]: layer for layer in d["layers"]}
    stem = by["stem.conv"]  # 7x7/2, padding 3
    assert (stem["receptive_field"], stem["jump"], stem["rf_padding"]) == ([7, 7], [2, 2], [3, 3])
    assert all(isinstance(v, int) for v in stem["receptive_field"] + stem["jump"] + stem["rf_padding"])
    fc = by["fc"]
    assert fc["receptive_field"] == [224, 224] and fc["jump"] is None and fc["rf_note"] == "the whole input: inherited from pool"


def test_cli_table_line_and_columns(cli):
    code, out, _ = cli("arch", "vgg16")
    m = MEASURED["vgg16"]["field"]
    assert code == 0
    assert (f"receptive field {m['rf'][0]} px, jump {m['jump'][0]}, padding {m['padding'][0]} at avgpool, "
            "the last feature map before global pooling") in out
    code, out, _ = cli("arch", "vgg16", "--layers")
    head = next(line for line in out.splitlines() if line.startswith("layer "))
    assert head.split()[-4:] == ["rf", "jump", "rf", "pad"]
    row = next(line for line in out.splitlines() if line.startswith("features.pool5 "))
    assert row.split()[-3:] == [str(m["rf"][0]), str(m["jump"][0]), str(m["padding"][0])]


def test_cli_whole_input_line(cli):
    code, out, _ = cli("arch", "se_resnet50")
    assert code == 0 and ("receptive field 224 px at layer4.block2.relu, the last feature map before global "
                          "pooling (the whole input: inherited from layer1.block0.se.pool)") in out


def test_cli_csv_and_markdown_columns(cli):
    code, out, _ = cli("arch", "alexnet", "--layers", "--format", "csv")
    rows = {r["name"]: r for r in csv.DictReader(io.StringIO(out))}
    m = MEASURED["alexnet"]["field"]
    assert code == 0 and (rows["avgpool"]["rf"], rows["avgpool"]["jump"], rows["avgpool"]["rf_padding"]) == (
        str(m["rf"][0]), str(m["jump"][0]), str(m["padding"][0]))
    code, out, _ = cli("arch", "alexnet", "--format", "markdown", "--layers")
    assert code == 0 and "rf | jump | rf pad |" in out and "Receptive field 195 px, jump 32, padding 66" in out


def test_cli_breakdown_by_stage(cli):
    code, out, _ = cli("breakdown", "resnet50", "--by", "stage", "--rf", "--format", "json")
    assert code == 0
    rows = {r["group"]: r for r in json.loads(out)["rows"]}
    code, arch, _ = cli("arch", "resnet50", "--format", "json")
    layers = {layer["name"]: layer for layer in json.loads(arch)["layers"]}
    for stage, last in (("stem", "stem.pool"), ("layer1", "layer1.block2.relu"), ("layer4", "layer4.block2.relu")):
        r = rows[stage]
        assert r["rf_layer"] == last and r["receptive_field"]["receptive_field"] == layers[last]["receptive_field"]
        assert r["rf"] == str(layers[last]["receptive_field"][0])
    assert rows["layer4"]["receptive_field"]["receptive_field"] == MEASURED["resnet50"]["field"]["rf"]
    code, out, _ = cli("breakdown", "resnet50", "--by", "stage", "--rf")
    assert code == 0 and "rf_padding" in out.splitlines()[2]
    code, _, err = cli("breakdown", "resnet50", "--by", "op", "--rf")
    assert code == 2 and err.strip() == ("calc: error: --rf shows the field at the end of each stage: "
                                         "use it with --by stage, not --by op")
