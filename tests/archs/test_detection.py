"""The detection, segmentation and keypoint networks of convnet-burden's table.

References: tests/data/detection.json (torchvision 0.29.1's ssd300_vgg16, FCN-32s/16s/8s written
with torch layers from longjon's prototxts and counted by fvcore 0.1.5, torchvision's resnet101
dilated as DeepLab v2's trunk; PROVENANCE.md); albanie/convnet-burden 9c7f31b reports/*.md
(the trunk tables: feature size, feature memory and flops at six input sizes, batch 128);
archs/data/published/convnet_burden.yaml (the 39 figures of the summary table, judged by
tests/test_check.py and tests/test_published.py)."""
import json
from decimal import Decimal

import pytest

import archs
from calc.counting import analyze
from calc.graph import Network
from calc.layers import numel
from calc.grid import sweep
from calc.published import autoscaled
from calc.resolution import HW, resolution, sides
from tests.conftest import DATA, counts

NETS = json.loads((DATA / "detection.json").read_text())["nets"]

#: every network's params, pinned (calc = the reference where one exists: see the tests below)
PARAMS = {
    "fcn32s_vgg16": 136_152_917, "fcn16s_vgg16": 134_815_994, "fcn8s_vgg16": 134_489_759,
    "deeplab_v2_vgg16": 37_877_652, "deeplab_v2_resnet101": 44_048_532,
    "ssd300_vgg16": 26_285_486, "ssd512_vgg16": 27_188_676, "ssd300_mobilenet_v1": 5_783_417,
    "faster_rcnn_vgg16": 137_078_239, "rfcn_resnet50": 31_809_539, "rfcn_resnet101": 50_801_667,
    "openpose_mpi": 51_481_032, "openpose_coco": 52_311_446,
}


def test_params():
    assert {n: counts(n).totals["params"] for n in PARAMS} == PARAMS


def test_references_to_the_unit():
    # torchvision's SSD300 (num_classes=21): 26,285,486, weiliu89's VOC0712 model's count
    assert counts("ssd300_vgg16").totals["params"] == NETS["ssd300_torchvision"]["params"]
    # DeepLab v2 ResNet-101: torchvision's resnet101 without fc + the 4 ASPP convs = one scale's; the
    # other two scales share it
    assert counts("deeplab_v2_resnet101").totals["params"] == NETS["deeplab_resnet101_single_scale"]["params"]
    for kind in ("32s", "16s", "8s"):
        for res, key in ((384, "384x384"), (HW(500, 353), "500x353")):
            a = counts(f"fcn{kind}_vgg16", res=res)
            ref = NETS[f"fcn{kind}_{key}"]
            net = archs.build(f"fcn{kind}_vgg16", res=res)
            assert (a.totals["params"], a.totals["macs"], list(net[net.output].shape)) == \
                (ref["params"], ref["fvcore"], ref["output"])


def trunk(name: str, node: str, res) -> Network:
    """The layers ``node`` depends on, at input ``res``: the "feature extraction" part convnet-burden's
    reports count (``Net(tail)`` in core/burden.m)."""
    net = archs.build(name)
    keep, todo = set(), [node]
    while todo:
        n = todo.pop()
        if n not in keep and n != "input":
            keep.add(n)
            todo += net[n].inputs
    t = Network(f"{name}-trunk", (3, *sides(resolution(res))))
    for n in net.layers():
        if n.name in keep:
            t.add(n.name, n.layer, list(n.inputs), shares=n.shares)
    return t


#: reports/*.md, "burden of computing the X features ... batch size of 128": input, feature size
#: (H x W x C as MatConvNet prints it), feature memory, flops (two of the six rows each)
TRUNK_ROWS = [
    ("fcn32s_vgg16", "score.score_fr", [(192, "7 x 7 x 21", "22 GB", "7 TFLOPs"), (1152, "37 x 37 x 21", "267 GB", "93 TFLOPs")]),
    ("faster_rcnn_vgg16", "conv5.relu5_3", [("600x850", "38 x 54 x 512", "73 GB", "20 TFLOPs"),
                                           ("1800x2550", "113 x 160 x 512", "657 GB", "181 TFLOPs")]),
    ("rfcn_resnet50", "res5.res5c_relu", [("600x850", "38 x 53 x 2048", "151 GB", "8 TFLOPs"),
                                          ("1800x2550", "113 x 160 x 2048", "1 TB", "72 TFLOPs")]),
    ("rfcn_resnet101", "res5.res5c_relu", [("300x425", "19 x 27 x 2048", "55 GB", "3 TFLOPs"),
                                           ("1200x1700", "75 x 107 x 2048", "871 GB", "51 TFLOPs")]),
    ("ssd300_vgg16", "conv4.relu4_3", [(150, "19 x 19 x 512", "3 GB", "818 GFLOPs"), (900, "113 x 113 x 512", "113 GB", "29 TFLOPs")]),
    # exactly 36.5 and 328.5 GiB: printed as 36 and 328 (%.0f rounds a tie to even)
    ("ssd512_vgg16", "conv4.relu4_3", [(512, "64 x 64 x 512", "36 GB", "9 TFLOPs"), (1536, "192 x 192 x 512", "328 GB", "84 TFLOPs")]),
    ("ssd300_mobilenet_v1", "extra.conv17_2_relu", [(450, "1 x 1 x 128", "10 GB", "336 GFLOPs"), (600, "2 x 2 x 128", "17 GB", "574 GFLOPs")]),
    ("deeplab_v2_vgg16", "fc8_interp", [(770, "777 x 777 x 21", "214 GB", "59 TFLOPs"), (1539, "1545 x 1545 x 21", "844 GB", "231 TFLOPs")]),
    ("deeplab_v2_resnet101", "fc1_interp", [(770, "769 x 769 x 21", "1 TB", "98 TFLOPs"), (1026, "1025 x 1025 x 21", "2 TB", "174 TFLOPs")]),
    ("openpose_mpi", "stage6.L2.Mconv6_stage6_L2_relu", [(920, "115 x 115 x 128", "185 GB", "100 TFLOPS"),
                                                         (1104, "138 x 138 x 128", "267 GB", "144 TFLOPS")]),
    ("openpose_coco", "stage6.L2.Mconv6_stage6_L2_relu", [(552, "69 x 69 x 128", "67 GB", "37 TFLOPS"),
                                                          (1104, "138 x 138 x 128", "268 GB", "146 TFLOPS")]),
]
BYTES = {"GB": "GiB", "TB": "TiB"}


@pytest.mark.parametrize("name, node, rows", TRUNK_ROWS, ids=[r[0] for r in TRUNK_ROWS])
def test_the_reports_trunk_tables(name, node, rows):
    """The same rules reproduce convnet-burden's per-size tables: the shapes (which fix the padding,
    ceil pools, dilations and crops), the feature memory and the flops, at other input sizes than
    the summary table's (including a 1 x 1 map where the full detector would vanish)."""
    for res, size, memory, flops in rows:
        t = trunk(name, node, res)
        a = analyze(t, batch=128, convention="burden").totals
        c, h, w = t[node].shape
        assert f"{h} x {w} x {c}" == size
        mem, unit = autoscaled(Decimal(a["convention_feature_memory_bytes"]), 1024)
        assert f"{mem} {unit}" == f"{memory.split()[0]} {BYTES[memory.split()[1]]}", (name, res)
        fl, funit = autoscaled(Decimal(a["flops"]), 1000)
        assert f"{fl} {funit}FLOPs" == flops.replace("FLOPS", "FLOPs"), (name, res)


def burden(name, **options):
    t = counts(name, "burden", **options).totals
    return (" ".join(autoscaled(Decimal(t["convention_feature_memory_bytes"]), 1024)),
            " ".join(autoscaled(Decimal(t["flops"]), 1000)))


def test_faster_rcnns_region_count():
    # the all-zero image's proposals: 78 to 85 regions give both the 600 MB and the 172 GFLOPs of the
    # table (without the importer's dropout); 77 and 86 give neither pair
    assert burden("faster_rcnn_vgg16", rois=78) == burden("faster_rcnn_vgg16", rois=85) == ("600 MiB", "172 G")
    assert burden("faster_rcnn_vgg16", rois=77) == ("599 MiB", "172 G")
    assert burden("faster_rcnn_vgg16", rois=86) == ("601 MiB", "173 G")
    assert burden("faster_rcnn_vgg16", rois=76)[1] == "171 G"
    # with drop6/drop7 kept (a mask and an output each) the memory would need 53-57 regions
    assert burden("faster_rcnn_vgg16", rois=80, dropout="true") == ("605 MiB", "172 G")
    assert burden("faster_rcnn_vgg16", rois=55, dropout="true")[0] == "600 MiB"


def test_rfcn_barely_depends_on_the_region_count():
    assert burden("rfcn_resnet50", rois=1) == burden("rfcn_resnet50") == ("1 GiB", "79 G")
    assert burden("rfcn_resnet101", rois=2000) == burden("rfcn_resnet101") == ("2 GiB", "117 G")


def test_burdens_definitions_in_place_relu_kept_dropout_and_moments():
    fcn = counts("fcn32s_vgg16", "burden").layers
    relus = sum(c.activations for c in fcn if c.op == "ReLU")
    assert all(c.convention_activations == 0 for c in fcn if c.op == "ReLU")
    assert counts("fcn32s_vgg16", "burden").totals["convention_feature_memory_bytes"] == \
        counts("fcn32s_vgg16").totals["feature_memory_bytes"] - 4 * relus
    # a kept dropout costs its output and its mask: drop6 and drop7 on fc6's and fc7's 4096 x 13 x 13 (at
    # 384) add 2 x 2 x 692,224 floats
    with_drop = counts("fcn32s_vgg16", "burden", dropout="true").totals["convention_feature_memory_bytes"]
    assert with_drop - counts("fcn32s_vgg16", "burden").totals["convention_feature_memory_bytes"] == 4 * 4 * 4096 * 13 * 13
    # MatConvNet keeps a BatchNorm's moments with its weights: R-FCN-50's 53,120 BN params twice
    a = counts("rfcn_resnet50", "burden").totals
    assert a["convention_params"] - a["params"] == 53_120
    # SSD512: mcnSSD's ssd_init.m stacks (what convnet-burden measured) print 91 G; Caffe's SSD512 90 G
    assert burden("ssd512_vgg16")[1] == "91 G" and burden("ssd512_vgg16", variant="caffe")[1] == "90 G"


@pytest.mark.parametrize("name", ["fcn8s_vgg16", "deeplab_v2_resnet101", "faster_rcnn_vgg16", "ssd300_vgg16"])
def test_non_square_sweeps_are_exact_and_fast(name, monkeypatch):
    """The sweep's symbolic path counts heights and widths as two symbols: the crops to a reference,
    the Interp resizes, Caffe's reshapes and the prior boxes included (a point falls back only where
    a map vanishes)."""
    import calc.grid as grid

    spec = archs.get(name)
    sizes = [HW(600, 850), 513, HW(500, 701)]
    calls = []
    monkeypatch.setattr(grid, "_one", lambda *a, **k: calls.append(a) or {})
    rows = list(sweep(spec, {"res": sizes}, convention="burden"))
    assert calls == []
    for r in rows:
        want = analyze(spec.build(res=r["res"]), convention="burden").totals
        assert {k: r[k] for k in want} == want, (name, r["res"])


def test_the_table_builds_at_its_inputs_and_says_so():
    for name, res in (("rfcn_resnet50", "600x850"), ("deeplab_v2_resnet101", "513"), ("openpose_coco", "368")):
        net = archs.build(name)
        assert net.input_shape[1:] == sides(resolution(res))


def test_deeplabs_dilated_convs_keep_the_map():
    # DeepLab v2's ASPP-L: 3x3 convs dilated by 6, 12, 18 and 24 with as much padding keep pool5's
    # 65 x 65 at 513 (pools 3x3/2 pad 1, ceil: 513 -> 257 -> 129 -> 65; conv5 dilated by 2)
    net = archs.build("deeplab_v2_vgg16")
    a = {c.name: c for c in counts("deeplab_v2_vgg16").layers}
    for i, rate in enumerate((6, 12, 18, 24), start=1):
        node = net[f"aspp{i}.fc6_{i}"]
        assert (node.shape, node.layer.dilation, node.layer.padding) == ((1024, 65, 65), rate, rate)
        assert a[node.name].macs == 65 * 65 * 1024 * 512 * 9   # dilation changes where, not how many
    assert net["conv5.conv5_3"].layer.dilation == 2 and net["conv5.conv5_3"].shape == (512, 65, 65)
    res = archs.build("deeplab_v2_resnet101")
    assert res["res1.res5.res5c.branch2b"].layer.dilation == 4 and res["res1.res4.res4b22.branch2b"].layer.dilation == 2
    assert res["res1.aspp.fc1_voc12_c3"].shape == (21, 65, 65) and res["res075.aspp.fc1_voc12"].shape == (21, 49, 49)


def test_latency_runs_through_the_region_stages():
    from calc.latency.devices import find_device, load_devices
    from calc.latency.roofline import estimate

    gpu = find_device("v100", load_devices())
    for name, roi in (("faster_rcnn_vgg16", "frcn.roi_pool5"), ("rfcn_resnet50", "rfcn.psroipooled_cls_rois")):
        e = estimate(archs.build(name, rois=100), gpu, batch=2)
        kernel = {k.work.name: k for k in e.kernels}[roi]
        net = archs.build(name, rois=100)
        c, h, w = net[net[roi].inputs[0]].shape
        # the map and the 100 x 5 boxes read, the 100 pooled regions written (batch 2, fp32)
        assert kernel.work.bytes == (c * h * w + 100 * 5 + numel(net[roi].shape)) * 2 * 4
        assert e.latency_s > kernel.time_s > 0 and e.roofline_s > 0
