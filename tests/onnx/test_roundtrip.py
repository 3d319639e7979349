"""Every built-in, written as ONNX (tests/onnx/writer.py) and imported, has the totals it had.

Writing and importing all 99 writable built-ins takes about 9 s, so the suite runs a sample:
the first architecture of each family (``calc list``; NASNet-A Mobile for the NASNets), plus the ones whose layers exercise a
pattern or a special case.  ``CALC_ONNX_ALL=1`` runs all of them."""
from __future__ import annotations

import os

import onnx
import pytest

import archs
from calc.counting import analyze
from calc.graph import Network
from calc.layers import Crop, Interp
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
               "fcn8s_vgg16",        # transposed convs, crops to a reference (Slice), skip sums
               "deeplab_v2_resnet101",  # Caffe's Interp as Resize (align_corners; shrink, zoom, to a reference), Max
               "squeezenet1_1", "vgg19", "resnet50"]
    return sorted(set(first.values()) | set(special))


SAMPLE = _sample()

#: built-ins with a layer that has no standard ONNX op (the first one the writer meets)
UNWRITABLE = {
    "textcnn": "Embedding",  # token ids: no image input to write
    # SSD's default boxes (then DetectionOutput: both Caffe SSD's own layers)
    **dict.fromkeys(("ssd300_vgg16", "ssd512_vgg16", "ssd300_mobilenet_v1"), "PriorBox"),
    # the RPN's proposals, then ROIPool (ONNX's MaxRoiPool puts the regions on the batch axis)
    # or R-FCN's PSROIPooling
    **dict.fromkeys(("faster_rcnn_vgg16", "rfcn_resnet50", "rfcn_resnet101"), "Proposal"),
}


def test_the_sample_covers_every_family():
    families = {a.family for a in archs.ARCHITECTURES.values()}
    assert {archs.ARCHITECTURES[n].family for n in SAMPLE} == families


#: the detection layers with no standard ONNX op
NO_ONNX_OP = {"PriorBox", "Proposal", "DetectionOutput", "ROIPool", "PSROIPool"}


def as_a_file_holds_it(net: Network, drop: set[str] = frozenset()) -> Network:
    """``net`` without what an ONNX file cannot hold: an auxiliary head (training only, so not
    in an exported eval-mode graph), copying crops (ONNX has no views: a Slice is imported as
    PyTorch's slicing, a view, so Cadene's ``.contiguous()`` crops and Caffe's Crop come back
    as views: less traffic, and a lower peak where the copy was alive beside its input), and
    reference inputs read for their size only (Caffe's Crop and Interp to another blob's size:
    the file has the size, so the reference need not stay alive until then).  Layers of the
    types in ``drop`` are left out, and every layer that reads one."""
    out, dropped = Network(net.name, net.input_shape), set()
    for n in net.layers():
        if n.train_only or n.layer.op in drop or dropped.intersection(n.inputs):
            dropped.add(n.name)
            continue
        layer, inputs = n.layer, n.inputs[:1] if n.layer.shape_only_inputs == {1} else n.inputs
        if layer.op == "Crop":
            (_, h, w), (_, oh, ow) = net[n.inputs[0]].shape, n.shape
            layer = Crop(top=layer.top, left=layer.left, bottom=h - layer.top - oh, right=w - layer.left - ow)
        elif layer.op == "Interp" and len(n.inputs) == 2:
            layer = Interp(height=n.shape[1], width=n.shape[2])
        out.add(n.name, layer, inputs, shares=n.shares, share_kinds=n.shared or None)
    return out


def round_trip(net: Network, model: onnx.ModelProto, name: str):
    """The network ``model`` imports as, once its totals and MACs are those of ``net``."""
    back = architecture(from_proto(model, f"{name}.onnx", onnx), name).build()
    a, b = analyze(as_a_file_holds_it(net)), analyze(back)
    assert b.totals == a.totals
    assert [c.macs for c in b.layers if c.macs] == [c.macs for c in a.layers if c.macs]
    return back


@pytest.mark.parametrize("name", SAMPLE)
def test_a_builtin_written_as_onnx_imports_with_the_same_totals(name):
    net = archs.build(name)
    try:
        model = to_onnx(net)
    except Unwritable as e:
        assert UNWRITABLE.get(name) == str(e)
        return
    assert name not in UNWRITABLE
    round_trip(net, model, name)


@pytest.mark.parametrize("name, ops", [
    ("ssd300_vgg16", {"L2Norm", "Permute", "Flatten", "Concat", "Reshape", "Softmax"}),
    ("faster_rcnn_vgg16", {"Reshape", "Softmax"}),  # the RPN's (2, -1, 0) reshape and its softmax over dim 0
])
def test_a_detection_networks_layers_with_an_onnx_op_round_trip(name, ops):
    """What is left of SSD and Faster R-CNN without their Caffe-only layers (and what reads
    them) is written and imported with its totals."""
    part = as_a_file_holds_it(archs.build(name), drop=NO_ONNX_OP)
    back = round_trip(part, to_onnx(part), name)
    assert ops <= {n.layer.op for n in back.layers()}
