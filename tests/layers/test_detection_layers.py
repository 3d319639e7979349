"""The detection and segmentation layers' closed forms, against torch and the sources.

References: tests/data/detection.json (torch 2.14.1 CPU, torchvision 0.29.1, thop
0.1.1.post2209072238, ptflops 0.7.5, fvcore 0.1.5; PROVENANCE.md says how it was measured);
the PyTorch docs' ConvTranspose2d size formula; Caffe DeepLab's interp_layer.cpp; the SSD
paper (arXiv 1512.02325, section 2.2 and Fig. 2: 8732 default boxes for SSD300);
py-faster-rcnn's rpn_cls_score_reshape (0, 2, -1, 0); convnet-burden's reports."""
import json
from fractions import Fraction
from math import ceil, floor

import pytest

from calc.counting import analyze
from calc.errors import CalcError, ShapeError
from calc.graph import Network
from calc.layers import (
    Concat, ConvTranspose2d, Crop, DetectionOutput, Interp, L2Norm, Maximum, Permute, PriorBox, Proposal,
    PSROIPool, ROIPool, Reshape, Softmax, Upsample,
)
from calc.layers.backward import Grads
from tests.conftest import DATA

REF = json.loads((DATA / "detection.json").read_text())
LAYERS, RF = REF["layers"], REF["rf"]


def one(layer, shape, extra=()):
    """A network of one layer on a C x H x W input (and extra inputs: other layers' names)."""
    net = Network("one", shape)
    net.add("x", layer, ["input", *extra])
    return net


def tools_of(net):
    return {t: analyze(net, convention=t).totals["flops"] for t in ("thop", "ptflops", "fvcore")}


# --- ConvTranspose2d -----------------------------------------------------------------------

DECONVS = {
    "deconv_fcn32s": ConvTranspose2d(out_channels=21, kernel_size=64, stride=32, bias=False),
    "deconv_grouped": ConvTranspose2d(out_channels=12, kernel_size=3, stride=2, padding=1, output_padding=1,
                                      groups=4),
    "deconv_dilated": ConvTranspose2d(out_channels=4, kernel_size=(3, 2), stride=(2, 3), padding=(2, 0), dilation=2),
}


@pytest.mark.parametrize("key", DECONVS)
def test_conv_transpose_matches_torch_and_the_tools(key):
    ref, layer = LAYERS[key], DECONVS[key]
    net = one(layer, tuple(ref["input"]))
    a = analyze(net)
    assert list(net["x"].shape) == ref["output"]          # PyTorch's (H - 1) s - 2 p + d (k - 1) + op + 1
    assert a.totals["params"] == ref["params"]
    assert a.totals["macs"] == ref["fvcore"]              # MACs on the input: fvcore's transposed count
    assert tools_of(net) == {t: ref[t] for t in ("thop", "ptflops", "fvcore")}
    assert analyze(net, convention="thop").totals["convention_params"] == ref["thop_params"]


def test_conv_transpose_worked_example_fcn32s():
    # FCN-32s' upscore: 13 x 13 scores, 64 x 64 / 32, no bias: (13 - 1) 32 + 64 = 448, then cropped at
    # 19 to the 384 x 384 image (convnet-burden's pascal-fcn32s report: score_fr is 13 x 13 x 21 at 384)
    layer = DECONVS["deconv_fcn32s"]
    assert layer.output_shape([(21, 13, 13)]) == (21, 448, 448)
    c = layer.counts([(21, 13, 13)], (21, 448, 448))
    assert c["macs"] == 13 * 13 * 21 * 21 * 64 * 64 == 305_270_784
    assert c["macs_input_depth"] == 13 * 13 * 21 * 64 * 64 * 21   # convnet-burden's: numel(in) x kh x kw x C_in
    assert c["macs_output"] == 448 * 448 * 21 * 21 * 64 * 64      # thop's: output x C_in/g x k^2
    assert layer.param_counts([(21, 13, 13)]) == {"weights": 21 * 21 * 64 * 64, "bias": 0}


def test_conv_transpose_refuses_what_pytorch_refuses():
    with pytest.raises(ValueError, match="output_padding must be smaller than stride or dilation"):
        ConvTranspose2d(out_channels=4, kernel_size=3, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="divisible by groups"):
        ConvTranspose2d(out_channels=6, kernel_size=3, groups=4)
    with pytest.raises(ShapeError, match="channels=6, groups=4"):
        ConvTranspose2d(out_channels=8, kernel_size=3, groups=4).output_shape([(6, 4, 4)])
    with pytest.raises(ShapeError, match="nothing is left"):
        ConvTranspose2d(out_channels=4, kernel_size=1, padding=1).output_shape([(4, 1, 1)])


def test_conv_transpose_backward_and_saved_tensors():
    # the input and weight gradients each cost the forward MACs; PyTorch saves the input only
    # (measured: 14,196 bytes = 21 x 13 x 13 fp32 for FCN-32s' upscore)
    layer, ins = DECONVS["deconv_fcn32s"], [(21, 13, 13)]
    out = layer.output_shape(ins)
    b = layer.backward_counts(ins, out, Grads((True,), True))
    assert b == {"macs_input": 305_270_784, "macs_weight": 305_270_784, "bias": 0}
    from calc.training import analyze_training

    t = analyze_training(one(layer, ins[0]), batch=1)
    assert t.totals["saved_activation_bytes"] == LAYERS["deconv_fcn32s"]["saved_bytes"]  # the input, fp32


# --- Upsample and Interp ---------------------------------------------------------------------

UPSAMPLES = {
    "upsample_nearest_x2": Upsample(scale_factor=2),
    "upsample_bilinear_x2": Upsample(scale_factor=2, mode="bilinear"),
    "upsample_bilinear_size": Upsample(size=(11, 9), mode="bilinear", align_corners=True),
    "upsample_nearest_x1.5": Upsample(scale_factor=1.5),
}


@pytest.mark.parametrize("key", UPSAMPLES)
def test_upsample_matches_torch_and_the_tools(key):
    ref = LAYERS[key]
    net = one(UPSAMPLES[key], tuple(ref["input"]))
    assert list(net["x"].shape) == ref["output"]
    got = tools_of(net)
    assert got["thop"] == ref["thop"] and got["fvcore"] == ref["fvcore"]
    if key == "upsample_nearest_x1.5":  # ptflops' F.interpolate counts input x 1.5^2 = 157.5, not the 70 outputs
        assert (got["ptflops"], ref["ptflops"]) == (280, 297)
    else:
        assert got["ptflops"] == ref["ptflops"]
    assert analyze(net, convention="flops").totals["flops"] == (7 * net["x"].shape[0] * net["x"].shape[1]
                                                                * net["x"].shape[2] if "bilinear" in key else 0)


def test_a_ports_interp_is_a_functional_bilinear_resize():
    # F.interpolate(size=(65, 65), mode="bilinear", align_corners=True) on 21 x 49 x 49: ptflops counts the
    # patched call (1/output), fvcore aten::upsample_bilinear2d (4/output), thop nothing
    ref = LAYERS["interp_functional_align"]
    net = Network("n", (21, 65, 65))
    net.add("small", Interp(shrink_factor=4, zoom_factor=3), "input")  # 65 -> 49: (64 // 4 + 1) + 16 x 2
    assert net["small"].shape == (21, 49, 49)
    net.add("x", Interp(), ["small", "input"])  # resized to the reference's 65 x 65
    assert list(net["x"].shape) == ref["output"]
    t = tools_of(net)
    per = 21 * 49 * 49  # the first Interp's outputs
    assert (t["thop"], t["ptflops"] - per, t["fvcore"] - 4 * per) == (ref["thop"], ref["ptflops"], ref["fvcore"])


def test_interp_follows_caffe_deeplab():
    # interp_layer.cpp: zoom z: n + (n - 1)(z - 1); shrink s: (n - 1) / s + 1 (integer division), then zoom
    assert Interp(zoom_factor=8).output_shape([(21, 65, 65)]) == (21, 513, 513)       # DeepLab's fc8_interp
    assert Interp(shrink_factor=4, zoom_factor=3).output_shape([(3, 513, 513)]) == (3, 385, 385)  # x0.75
    assert Interp(shrink_factor=2).output_shape([(3, 513, 513)]) == (3, 257, 257)     # x0.5
    assert Interp(height=17, width=9).output_shape([(3, 5, 5)]) == (3, 17, 9)
    assert Interp(zoom_factor=2, pad_beg=-1, pad_end=-1).output_shape([(3, 9, 9)]) == (3, 13, 13)
    with pytest.raises(ValueError, match="or height and width"):
        Interp(zoom_factor=2, height=4, width=4)
    with pytest.raises(ShapeError, match="needs zoom_factor"):
        Interp().output_shape([(3, 5, 5)])
    assert Interp().counts([(21, 49, 49)], (21, 65, 65)) == {"out": 88_725, "bilinear": 88_725, "nearest": 0}


def test_upsample_refuses_bad_fields():
    with pytest.raises(ValueError, match="either size or scale_factor"):
        Upsample()
    with pytest.raises(ValueError, match="align_corners applies to bilinear"):
        Upsample(scale_factor=2, align_corners=True)
    with pytest.raises(ValueError, match="positive number"):
        Upsample(scale_factor=0)


# --- receptive-field windows of the fractional-step layers ------------------------------------

RF_LAYERS = {
    "deconv_k4_s2_p1": ConvTranspose2d(out_channels=1, kernel_size=(4, 1), stride=(2, 1), padding=(1, 0)),
    "deconv_k3_s2_p1_op1_d2": ConvTranspose2d(out_channels=1, kernel_size=(3, 1), stride=(2, 1), padding=(1, 0),
                                              output_padding=(1, 0), dilation=(2, 1)),
    "deconv_k64_s32": ConvTranspose2d(out_channels=1, kernel_size=(64, 1), stride=(32, 1)),
    "nearest_x2": Upsample(scale_factor=(2, 1)),
    "nearest_x1.5": Upsample(scale_factor=(1.5, 1)),
    "bilinear_x2": Upsample(scale_factor=(2, 1), mode="bilinear"),
    "bilinear_size_align": Upsample(size=(17, 1), mode="bilinear", align_corners=True),
    "bilinear_49_to_65_align": Interp(height=65, width=1),
}


@pytest.mark.parametrize("key", RF_LAYERS)
def test_fractional_windows_contain_exactly_what_torch_reads(key):
    """Output row o's window holds the integers in [o s - p, o s - p + span - 1] (inside the input):
    exactly the rows whose gradient torch finds nonzero for a transposed conv and nearest
    upsampling, a bound where that is not an interval (a dilated transposed conv whose taps skip
    rows: some outputs get no input at all) and, for bilinear, a neighbour whose weight is 0
    (the sample falls on a pixel)."""
    ref, layer = RF[key], RF_LAYERS[key]
    n = ref["n"]
    w = layer.rf_window([(1, n, 1)])
    k, s, p = Fraction(w.kernel[0]), Fraction(w.stride[0]), Fraction(w.padding[0])
    bound = "bilinear" in key or "d2" in key
    for o, rows in enumerate(ref["rows"]):
        lo, hi = max(ceil(o * s - p), 0), min(floor(o * s - p + k - 1), n - 1)
        window = [lo, hi] if lo <= hi else None
        if bound:
            assert rows is None or (window[0] <= rows[0] and rows[1] <= window[1]), (key, o)
        else:
            assert window == rows, (key, o)
    if "bilinear" in key:  # the window holds at most the sample's two neighbours
        assert w.kernel[0] < 3


# --- L2Norm, Maximum -------------------------------------------------------------------------

def test_l2norm_is_ssds_conv4_3_norm():
    # ssd.pytorch's L2Norm on 512 x 38 x 38: 512 scales (ptflops counts them; thop has no rule, so neither
    # params nor MACs; the tools count no operation); autograd keeps 5,926,176 bytes
    ref = LAYERS["l2norm"]
    net = one(L2Norm(), (512, 38, 38))
    assert analyze(net).totals["params"] == ref["params"] == 512
    assert tools_of(net) == {"thop": 0, "ptflops": 0, "fvcore": 0}
    assert analyze(net, convention="ptflops").totals["convention_params"] == ref["ptflops_params"]
    assert analyze(net, convention="thop").totals["convention_params"] == ref["thop_params"] == 0
    e, pos = 512 * 38 * 38, 38 * 38
    assert analyze(net, convention="flops").totals["flops"] == 4 * e + pos
    assert analyze(net, convention="burden").totals["flops"] == e + (2 + 2 * 512) * pos  # vl_nnscalenorm
    from calc.training import analyze_training

    # the input, the square root and the norm (one per position each) and x / norm
    assert analyze_training(net).totals["saved_activation_bytes"] == ref["saved_bytes"] == 4 * (2 * e + 2 * pos)
    assert L2Norm(channel_shared=True).param_counts([(512, 2, 2)]) == {"affine": 1}


def test_maximum_is_deeplabs_scale_fusion():
    ref = LAYERS["max3"]
    net = Network("n", (21, 9, 9))
    net.add("x", Maximum(), ["input", "input", "input"])
    assert tools_of(net) == {"thop": 0, "ptflops": 0, "fvcore": 0} == {t: ref[t] for t in ("thop", "ptflops", "fvcore")}
    assert analyze(net, convention="burden").totals["flops"] == 3 * 21 * 81   # vl_nnmax: numel(out) x numel(ins)
    assert analyze(net, convention="flops").totals["flops"] == 2 * 21 * 81    # a comparison per extra input
    layer = net["x"].layer
    assert sum(s.numel * 8 for s in layer.saved_for_backward([(21, 9, 9)] * 3, (21, 9, 9), Grads((True,) * 3, False))) \
        == ref["saved_bytes"]  # the winners' indices, int64
    with pytest.raises(ShapeError, match="equal shape"):
        Maximum().output_shape([(21, 9, 9), (21, 9, 8)])


# --- ROI pooling and the detection plumbing ------------------------------------------------------

def test_roi_poolings_lay_the_regions_out_along_h():
    # torchvision RoIPool(7, 1/16) on 512 x 38 x 54 with 3 regions gives 3 x 512 x 7 x 7; calc tiles them:
    # 512 x 21 x 7, the same elements
    for key, layer, c in (("roipool", ROIPool(output_size=7), 512), ("psroipool", PSROIPool(output_dim=21), 1029)):
        ref = LAYERS[key]
        out = layer.output_shape([(c, 38, 54), (3, 5)])
        r, ch, kh, kw = ref["output"]
        assert out == (ch, r * kh, kw)
        assert layer.counts([(c, 38, 54), (3, 5)], out) == {"out": r * ch * kh * kw, "regions": 3}
    with pytest.raises(ShapeError, match="7\\^2 x 21 = 1029 input channels"):
        PSROIPool(output_dim=21).output_shape([(1028, 38, 54), (3, 5)])
    with pytest.raises(ShapeError, match="R x 5 tensor"):
        ROIPool().output_shape([(512, 38, 54), (3, 4)])


def test_a_region_head_counts_once_per_region():
    # fc6 on ROI-pooled features: Caffe's InnerProduct 25,088 -> 4,096 per region is a 7x7/7 conv on the tiles
    net = Network("n", (512, 38, 54))
    s = net.add("scores", ConvTranspose2d(out_channels=18, kernel_size=1), "input")
    d = net.add("deltas", ConvTranspose2d(out_channels=36, kernel_size=1), "input")
    r = net.add("rois", Proposal(rois=80), [s, d])
    x = net.add("pool", ROIPool(), ["input", r])
    from calc.layers import Conv2d

    net.add("fc6", Conv2d(out_channels=4096, kernel_size=7, stride=7), x)
    assert net["fc6"].shape == (4096, 80, 1)
    a = analyze(net)
    assert [c.macs for c in a.layers if c.name == "fc6"] == [80 * 25_088 * 4_096]
    with pytest.raises(CalcError, match="Proposal with 9 anchors per cell needs 18"):
        Network("n", (16, 4, 4)).add("p", Proposal(), ["input", "input"])


def test_prior_boxes_of_ssd300():
    # SSD300: 4, 6, 6, 6, 4, 4 boxes per cell on 38, 19, 10, 5, 3, 1: 8,732 (the paper; torchvision measured)
    four, six = PriorBox(min_sizes=(30,), max_sizes=(60,), aspect_ratios=(2,)), \
        PriorBox(min_sizes=(60,), max_sizes=(111,), aspect_ratios=(2, 3))
    assert (four.per_cell, six.per_cell) == (4, 6)
    cells = [38 * 38 * 4, 19 * 19 * 6, 10 * 10 * 6, 5 * 5 * 6, 3 * 3 * 4, 1 * 4]
    assert sum(cells) == REF["nets"]["ssd300_torchvision"]["priors"] == 8732
    assert four.output_shape([(512, 38, 38), (3, 300, 300)]) == (2, 38 * 38 * 4 * 4)
    assert PriorBox(min_sizes=(60,), aspect_ratios=(2,)).per_cell == 3   # MobileNet-SSD's conv11: no max size
    assert PriorBox(min_sizes=(30,), aspect_ratios=(2, 0.5), flip=True).per_cell == 3  # 1/2 is listed once
    with pytest.raises(ValueError, match="one max size per min size"):
        PriorBox(min_sizes=(30, 40), max_sizes=(60,))


def test_reshape_follows_caffe():
    # py-faster-rcnn: rpn_cls_score (18 x 38 x 54) reshaped (0, 2, -1, 0) -> 2 x 342 x 54, and back (0, 18, -1, 0)
    assert Reshape(shape=(2, -1, 0)).output_shape([(18, 38, 54)]) == (2, 342, 54)
    assert Reshape(shape=(18, -1, 0)).output_shape([(2, 342, 54)]) == (18, 38, 54)
    assert Reshape(shape=(-1, 21)).output_shape([(8732 * 21,)]) == (8732, 21)     # SSD's mbox_conf_reshape
    with pytest.raises(ShapeError, match="do not split into 21-element rows"):
        Reshape(shape=(-1, 21)).output_shape([(100,)])
    with pytest.raises(ValueError, match="one -1"):
        Reshape(shape=(-1, -1))


def test_permute_softmax_and_concat_along_an_axis():
    assert Permute(dims=(0, 2, 3, 1)).output_shape([(16, 38, 38)]) == (38, 38, 16)
    with pytest.raises(ValueError, match="keeps the batch axis"):
        Permute(dims=(1, 0, 2, 3))
    assert Softmax(dim=1).counts([(8732, 21)], (8732, 21)) == {"elems": 8732 * 21, "rows": 8732}
    assert Softmax().counts([(2, 342, 54)], (2, 342, 54)) == {"elems": 2 * 342 * 54, "rows": 342 * 54}
    assert Concat(dim=1).output_shape([(2, 16), (2, 24)]) == (2, 40)
    with pytest.raises(ShapeError, match="sizes except along dim 1"):
        Concat(dim=1).output_shape([(2, 16), (3, 24)])


def test_detection_output_holds_keep_top_k_rows():
    det = DetectionOutput(num_classes=21, fields=6)   # mcnSSD's vl_nnmultiboxdetector: keepTopK x 6
    assert det.output_shape([(8732 * 4,), (8732 * 21,), (2, 8732 * 4)]) == (200, 6)
    with pytest.raises(ShapeError, match="8732 boxes of deltas but 8731 priors"):
        det.output_shape([(8732 * 4,), (8732 * 21,), (2, 8731 * 4)])


def test_crop_to_a_reference():
    # FCN-16s: score_pool4 (21 x 37 x 37 at 384) cropped at offset 5 to upscore2's 28 x 28
    crop = Crop(top=5, left=5, view=False)
    assert crop.output_shape([(21, 37, 37), (21, 28, 28)]) == (21, 28, 28)
    with pytest.raises(ShapeError, match="needs a map of at least 33x33"):
        crop.output_shape([(21, 32, 37), (21, 28, 28)])
    with pytest.raises(ShapeError, match="offsets top and left only"):
        Crop(top=5, bottom=1).output_shape([(21, 37, 37), (21, 28, 28)])
    net = Network("n", (4, 16, 16))
    ref = net.add("ref", Crop(top=2, bottom=2, left=2, right=2), "input")
    net.add("c", Crop(top=1, left=3, view=False), ["input", ref])
    assert analyze(net).layers[1].traffic_bytes == (16 * 16 * 4 + 12 * 12 * 4) * 4  # the reference is not read


def test_the_sweeps_symbolic_sizes_pass_through_every_new_layer():
    """calc.grid counts many input sizes at once: each layer's closed form on symbolic sizes gives,
    at every point, what the ordinary path gives (the reference), and a point where a crop's
    reference does not fit or a map vanishes is counted on its own."""
    from calc.grid import evaluate
    from calc.layers import Conv2d, Flatten
    from calc.resolution import HW

    def build(res):
        net = Network("n", (3, res, res))
        x = net.add("up", Upsample(scale_factor=1.5), "input")
        x = net.add("deconv", ConvTranspose2d(out_channels=4, kernel_size=3, stride=2, output_padding=1), x)
        small = net.add("shrink", Interp(shrink_factor=3), x)
        big = net.add("zoom", Interp(zoom_factor=2), small)
        c = net.add("crop", Crop(top=1, left=2, view=False), [big, small])
        p = net.add("prior", PriorBox(min_sizes=(8,), aspect_ratios=(2,)), [c, "input"])
        q = net.add("conv", Conv2d(out_channels=8, kernel_size=3, padding=1), c)
        q = net.add("perm", Permute(dims=(0, 2, 3, 1)), q)
        q = net.add("flat", Flatten(), q)
        net.add("rows", Reshape(shape=(-1, 2)), q)
        net.add("bilinear", Upsample(size=(5, 6), mode="bilinear"), c)
        net.add("cat", Concat(dim=1), [p, p])
        return net

    sizes = [6, HW(9, 14), 16, HW(20, 11), 2]
    got = evaluate(build(16), sizes, convention="flops")
    for r, row in zip(sizes, got):
        try:
            want = analyze(build(r), convention="flops").totals
        except CalcError:
            assert row is None
            continue
        assert row == want, r
