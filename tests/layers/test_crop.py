"""Crop: rows and columns removed from the sides (NASNet's TF-"same" emulation, Caffe's Crop).

Tool counts cited from tests/data/measure/zoo/probe.py (thop 0.1.1.post2209072238, ptflops 0.7.5,
fvcore 0.1.5, ptflops cf48e01; torch 2.14.1, CPU):
`python tests/data/measure/zoo/probe.py pad_conv_crop_view pad_conv_crop_copy pad_maxpool_crop pad_avgpool_crop`
on ZeroPad2d((1, 0, 1, 0)), a 3x3/s2 conv or pool (padding 1) and x[:, :, 1:, 1:] (.contiguous()),
input 1x8x10x10."""
import pytest
from pydantic import ValidationError

from calc.counting import analyze
from calc.errors import CalcError
from calc.graph import Network
from calc.grid import evaluate
from calc.layers import AvgPool2d, Conv2d, Crop, MaxPool2d, ZeroPad2d
from calc.spec import dump_spec, export
from calc.training import analyze_training
from tests.spec.common import same_network, spec

TOOLS = ("thop", "ptflops", "fvcore", "ptflops_2019", "thop_2019", "paddle", "macs", "flops")


def pad_op_crop(op, view=True, hw=10):
    net = Network("t", (8, hw, hw))
    net.add("pad", ZeroPad2d(padding=(1, 0, 1, 0)))
    net.add("op", op)
    net.add("crop", Crop(top=1, left=1, view=view))
    return net


def test_shape_and_sides():
    assert Crop(top=1, left=1).output_shape([(8, 6, 6)]) == (8, 5, 5)
    assert Crop(top=5, bottom=2, left=3, right=4).output_shape([(8, 20, 30)]) == (8, 13, 23)
    assert Crop().output_shape([(8, 6, 6)]) == (8, 6, 6)
    with pytest.raises(ValidationError, match="Crop left must be >= 0, received -1"):
        Crop(left=-1)
    net = Network("t", (8, 4, 4))
    with pytest.raises(CalcError, match=r"layer 'c' \(Crop, input 8x4x4\): Crop removes 2\+2 rows .* nothing is left"):
        net.add("c", Crop(top=2, bottom=2))


def test_the_op_before_the_crop_counts_the_larger_map():
    # the conv runs on the padded 11x11 map: 6x6 outputs, cropped to 5x5 afterwards; every tool
    # counts 8*8*9*36 = 20,736 MACs (probe pad_conv_crop_view/copy: thop, ptflops, fvcore and
    # ptflops cf48e01 all 20,736; the crop adds nothing, view or copy)
    for view in (True, False):
        net = pad_op_crop(Conv2d(out_channels=8, kernel_size=3, stride=2, padding=1, bias=False), view)
        assert net["op"].shape == (8, 6, 6) and net["crop"].shape == (8, 5, 5)
        for convention in ("thop", "ptflops", "fvcore", "ptflops_2019"):
            assert analyze(net, convention=convention).totals["flops"] == 20_736, convention
    # pools: probe pad_maxpool_crop: ptflops 1,936 (2 x the padded 8x11x11 input), cf48e01 968,
    # thop 0, fvcore 0; pad_avgpool_crop: thop 288 (one per pre-crop output, 8x6x6), ptflops 1,936
    maxp = pad_op_crop(MaxPool2d(kernel_size=3, stride=2, padding=1))
    avgp = pad_op_crop(AvgPool2d(kernel_size=3, stride=2, padding=1))
    measured = {"ptflops": (1_936, 1_936), "ptflops_2019": (968, 968), "thop": (0, 288), "fvcore": (0, 0)}
    for convention, (m, a) in measured.items():
        assert analyze(maxp, convention=convention).totals["flops"] == m, convention
        assert analyze(avgp, convention=convention).totals["flops"] == a, convention


def test_no_convention_counts_a_crop():
    net = pad_op_crop(Conv2d(out_channels=8, kernel_size=3, stride=2, padding=1))
    for convention in TOOLS:
        crop = next(c for c in analyze(net, convention=convention).layers if c.op == "Crop")
        assert crop.flops == 0 and crop.params == 0, convention
    assert "Crop" not in analyze(net, convention="macs").uncounted  # flops has an explicit empty rule


def test_a_view_shares_its_input_a_copy_does_not():
    conv = Conv2d(out_channels=8, kernel_size=3, stride=2, padding=1, bias=False)
    view, copy = (analyze(pad_op_crop(conv, v)) for v in (True, False))
    crop_v, crop_c = view.layers[-1], copy.layers[-1]
    assert crop_v.traffic_bytes == 0
    assert crop_c.traffic_bytes == (8 * 6 * 6 + 8 * 5 * 5) * 4  # reads the pre-crop map, writes the crop
    # peak: a copy holds its input and the cropped copy at once; a view only its input
    peaks = []
    for v in (True, False):
        net = Network("t", (8, 10, 10))
        net.add("crop", Crop(top=1, left=1, view=v))
        peaks.append(analyze(net).totals["peak_memory_bytes"])
    assert peaks == [8 * 10 * 10 * 4, (8 * 10 * 10 + 8 * 9 * 9) * 4]


def test_training_step_passes_the_gradient_and_saves_nothing():
    net = pad_op_crop(Conv2d(out_channels=8, kernel_size=3, stride=2, padding=1, bias=False), view=False)
    t = analyze_training(net, batch=2)
    crop = next(r for r in t.layers if r.op == "Crop")
    assert crop.backward and crop.backward_flops == 0 and crop.saved_activation_bytes == 0
    layer = net["crop"].layer
    assert layer.saved_for_backward([(8, 6, 6)], (8, 5, 5), None) == ()


def test_round_trips_through_a_spec_file():
    net = pad_op_crop(AvgPool2d(kernel_size=3, stride=2, padding=1), view=False)
    doc = export(net)
    assert doc["layers"][2] == {"name": "crop", "type": "Crop", "top": 1, "left": 1, "view": False}
    same_network(spec(dump_spec(doc)).build(), net)


def test_the_grid_counts_crops_at_every_size():
    text = """
params: {res: 33}
input: [4, "${res}", "${res}"]
layers:
  - {name: pad, type: ZeroPad2d, padding: [1, 0, 1, 0]}
  - {name: conv, type: Conv2d, out_channels: 4, kernel_size: 3, stride: 2, padding: 1}
  - {name: crop, type: Crop, top: 1, left: 1, bottom: 2}
  - {name: pool, type: GlobalAvgPool2d}
"""
    arch = spec(text)
    sizes = [4, 5, 9, 33, 64]
    rows = evaluate(arch.build(res=64), sizes, convention="flops")
    for s, row in zip(sizes, rows):
        try:
            expected = analyze(arch.build(res=s), convention="flops").totals
        except CalcError:
            assert row is None  # nothing left after the crop: counted on its own, where it fails
            continue
        assert row == expected, s
