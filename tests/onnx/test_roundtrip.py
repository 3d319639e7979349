"""Every built-in, written as ONNX (tests/onnx/writer.py) and imported, has the totals it had.

Writing and importing all 90 writable built-ins takes about 8 s, so the suite runs a sample:
the first architecture of each family (``calc list``; NASNet-A Mobile for the NASNets), plus the ones whose layers exercise a
pattern or a special case.  ``CALC_ONNX_ALL=1`` runs all of them."""
from __future__ import annotations

import os

import onnx
import pytest

import archs
from calc.counting import analyze
from calc.onnx.build import architecture
from calc.onnx.reader import from_proto
from tests.onnx.writer import Unwritable, to_onnx


def _sample() -> list[str]:
    if os.environ.get("CALC_ONNX_ALL"):
        return list(archs.ARCHITECTURES)
    first: dict[str, str] = {}
    for name, a in archs.ARCHITECTURES.items():
        if name not in ("nasnet_a_large", "pnasnet5_large"):  # the family's mobile one is 4x quicker
            first.setdefault(a.family, name)
    special = ["shufflenet_v1",      # Reshape/Transpose/Reshape -> ChannelShuffle
               "shufflenet_v2",      # channel split, x.mean((2, 3)) -> ReduceMean
               "mobilenet_v3_small", # HardSigmoid, HardSwish, SE gates
               "efficientnet_b0",    # SiLU as x * Sigmoid(x)
               "ghostnet",           # channel slices of every channel
               "inception_v3",       # a training-only head, left out of the file
               "nasnet_a_mobile",    # pads, crops (some of them copies)
               "polynet",            # convs that share their weights
               "squeezenet1_1", "vgg19", "resnet50"]
    return sorted(set(first.values()) | set(special))


SAMPLE = _sample()

#: built-ins with a layer the test writer has no ONNX op for (the first one it meets)
UNWRITABLE = {"textcnn": "Embedding",  # token ids: no image input to write
              "deeplab_v2_vgg16": "Interp", "faster_rcnn_vgg16": "Reshape", "fcn32s_vgg16": "ConvTranspose2d",
              "rfcn_resnet50": "Reshape", "ssd300_vgg16": "L2Norm"}


def test_the_sample_covers_every_family():
    families = {a.family for a in archs.ARCHITECTURES.values()}
    assert {archs.ARCHITECTURES[n].family for n in SAMPLE} == families


@pytest.mark.parametrize("name", SAMPLE)
def test_a_builtin_written_as_onnx_imports_with_the_same_totals(name):
    net = archs.build(name)
    try:
        model = to_onnx(net)
    except Unwritable as e:
        assert UNWRITABLE.get(name) == str(e)
        return
    assert name not in UNWRITABLE
    back = architecture(from_proto(model, f"{name}.onnx", onnx), name).build()
    a, b = analyze(net), analyze(back)
    expected = dict(a.totals)
    # an auxiliary head runs in training only: an exported (eval-mode) graph does not have it
    aux = sum(c.params for c in a.layers if net[c.name].train_only)
    for k in ("params", "convention_params"):
        expected[k] -= aux
    expected["param_memory_bytes"] -= aux * 4
    # ONNX has no views: a copying crop (Cadene's .contiguous()) is imported as a slice, a view
    expected["memory_traffic_bytes"] -= sum(c.traffic_bytes for c in a.layers if c.op == "Crop")
    assert b.totals == expected
    assert [c.macs for c in b.layers if c.macs] == [c.macs for c in a.layers if c.macs]
