"""Four-sided padding (left, right, top, bottom) on convs and pools, ZeroPad2d's order: the
asymmetric ``pads`` of ONNX files.  A layer padded on four sides is the same as ZeroPad2d
with those sides and the layer unpadded (outside ceil mode), in shapes, counts, receptive
fields, symbolic sweeps, training and spec files; and ChannelAffine, HardSigmoid's fields."""
from __future__ import annotations

import itertools

import pytest
from pydantic import ValidationError

from calc import grid
from calc.counting import analyze
from calc.graph import Network
from calc.layers import AvgPool2d, ChannelAffine, Conv2d, HardSigmoid, MaxPool2d, ZeroPad2d
from calc.receptive import receptive_fields
from calc.spec import export, loads_spec
from calc.spec.write import dump_spec
from calc.training import analyze_training

SIDES = [(0, 1, 0, 1), (1, 0, 2, 0), (2, 1, 0, 3), (1, 1, 1, 1)]


def padded(layer_cls, sides, res=(13, 14), **fields) -> Network:
    net = Network("four", (4, *res))
    net.add("a", layer_cls(padding=sides, **fields))
    return net


def zero_padded(layer_cls, sides, res=(13, 14), **fields) -> Network:
    net = Network("pad+layer", (4, *res))
    net.add("pad", ZeroPad2d(padding=sides))
    net.add("a", layer_cls(padding=0, **fields))
    return net


LAYERS = [(Conv2d, dict(out_channels=8, kernel_size=3, stride=2)),
          (Conv2d, dict(out_channels=4, kernel_size=(3, 5), dilation=2, groups=4)),
          (MaxPool2d, dict(kernel_size=3, stride=2)), (AvgPool2d, dict(kernel_size=2, stride=(1, 2)))]


@pytest.mark.parametrize("sides, case", list(itertools.product(SIDES, range(len(LAYERS)))))
def test_four_sided_padding_is_zero_padding_then_the_layer(sides, case):
    cls, fields = LAYERS[case]
    a, b = padded(cls, sides, **fields), zero_padded(cls, sides, **fields)
    assert a["a"].shape == b["a"].shape
    ca, cb = analyze(a).layers[0], analyze(b).layers[1]
    # a pool's "in" is what it reads: the map, or the padded map
    same = lambda c: {k: v for k, v in c.counts.items() if k != "in"}
    assert (ca.macs, ca.params, same(ca)) == (cb.macs, cb.params, same(cb))
    fa, fb = receptive_fields(a), receptive_fields(b)
    assert fa.layer_json("a") == fb.layer_json("a")


def test_symmetric_sides_are_the_pair_they_equal():
    a = padded(Conv2d, (1, 1, 2, 2), out_channels=8, kernel_size=3)
    b = padded(Conv2d, (2, 1), out_channels=8, kernel_size=3)
    assert a["a"].shape == b["a"].shape == (8, 15, 14)


def test_ceil_mode_keeps_the_last_window_inside_the_input_or_top_left_padding():
    """PyTorch's rule with the top/left side (onnx's reference evaluator agrees: tests/onnx)."""
    assert padded(MaxPool2d, (0, 1, 0, 1), res=(6, 6), kernel_size=2, stride=2, ceil_mode=True)["a"].shape == (4, 3, 3)
    assert padded(MaxPool2d, (1, 0, 1, 0), res=(6, 6), kernel_size=2, stride=2, ceil_mode=True)["a"].shape == (4, 4, 4)


@pytest.mark.parametrize("sides", SIDES)
def test_a_symbolic_sweep_counts_four_sided_padding_as_each_point(sides):
    net = Network("n", (3, 64, 64))
    net.add("c", Conv2d(out_channels=8, kernel_size=3, stride=2, padding=sides))
    net.add("p", MaxPool2d(kernel_size=3, stride=2, padding=sides, ceil_mode=True))
    sizes = [17, 32, 45, 64]
    found = grid.evaluate(net, sizes)
    for s, totals in zip(sizes, found):
        ref = Network("n", (3, s, s))
        ref.add("c", Conv2d(out_channels=8, kernel_size=3, stride=2, padding=sides))
        ref.add("p", MaxPool2d(kernel_size=3, stride=2, padding=sides, ceil_mode=True))
        assert totals == analyze(ref).totals


def test_training_counts_the_padded_layer_as_the_zero_padded_one():
    a = padded(Conv2d, (0, 1, 0, 1), out_channels=8, kernel_size=3, stride=2)
    b = zero_padded(Conv2d, (0, 1, 0, 1), out_channels=8, kernel_size=3, stride=2)
    ta, tb = analyze_training(a, batch=2).totals, analyze_training(b, batch=2).totals
    assert (ta["forward_macs"], ta["backward_macs"]) == (tb["forward_macs"], tb["backward_macs"])


def test_spec_files_write_and_read_four_sided_padding():
    net = padded(Conv2d, (0, 1, 2, 3), out_channels=8, kernel_size=3)
    net.add("p", AvgPool2d(kernel_size=2, padding=(1, 0, 0, 1)))
    doc = export(net)
    assert doc["layers"][0]["padding"] == [0, 1, 2, 3]
    back = loads_spec(dump_spec(doc)).build()
    assert analyze(back).totals == analyze(net).totals
    import jsonschema

    from calc.spec import json_schema

    jsonschema.validate(doc, json_schema())
    doc["layers"][0]["padding"] = [0, 1, 2]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, json_schema())


@pytest.mark.parametrize("bad", [(0, -1, 0, 0), (1, 2, 3)])
def test_bad_padding_is_refused(bad):
    with pytest.raises(ValidationError):
        Conv2d(out_channels=4, kernel_size=3, padding=bad)
    with pytest.raises(ValidationError):
        MaxPool2d(kernel_size=3, padding=bad)


def test_channel_affine_counts_one_op_and_one_parameter_per_term():
    net = Network("n", (16, 8, 8))
    net.add("both", ChannelAffine())
    net.add("scale", ChannelAffine(bias=False))
    net.add("shift", ChannelAffine(scale=False))
    a = analyze(net, convention="flops")
    assert [c.params for c in a.layers] == [32, 16, 16]
    assert [c.flops for c in a.layers] == [2 * 1024, 1024, 1024]
    # ptflops counts a module's nn.Parameters, thop only those of modules it has a rule for,
    # neither sees x * g + b (measured, ptflops 0.7.5 / thop 0.1.1: see calc/conventions.toml)
    assert analyze(net, convention="ptflops").totals["convention_params"] == 64
    assert analyze(net, convention="thop").totals["convention_params"] == 0
    with pytest.raises(ValidationError, match="needs scale or bias"):
        ChannelAffine(scale=False, bias=False)


def test_hard_sigmoid_keeps_its_slope_through_a_spec_file():
    net = Network("n", (4, 8, 8))
    net.add("torch", HardSigmoid())
    net.add("keras", HardSigmoid(alpha=0.2))
    doc = export(net)
    assert "alpha" not in doc["layers"][0] and doc["layers"][1]["alpha"] == 0.2
    back = loads_spec(dump_spec(doc)).build()
    assert back["keras"].layer.alpha == 0.2 and back["torch"].layer.alpha == 1 / 6
