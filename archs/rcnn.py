"""Two-stage detectors: Faster R-CNN (Ren et al. 2015, arXiv 1506.01497) on VGG-16 and R-FCN
(Dai et al. 2016, arXiv 1605.06409) on ResNet-50 and ResNet-101, the PASCAL VOC models of
rbgirshick/py-faster-rcnn (``VGG16/faster_rcnn_end2end/test.prototxt``) and YuwenXiong/
py-R-FCN (``ResNet-50``/``ResNet-101/rfcn_end2end/test_agnostic.prototxt``), as MatConvNet
imported them (albanie/mcnFasterRCNN ``faster-rcnn-vggvd-pascal``, albanie/mcnRFCN
``rfcn-res50-pascal``, ``rfcn-res101-pascal``) and convnet-burden measured them at 600 x 850.

Both share the region proposal network (RPN): a 3x3 conv to 512 and its ReLU, then 1x1 convs
to 2 x 9 objectness scores and 4 x 9 box deltas (9 anchors: 3 scales x 3 ratios), the scores
reshaped to 2 x (9 H) x W, soft-maxed over the pair, reshaped back, and a ``Proposal`` layer
that keeps ``rois`` regions (``-p rois=N``: the test setting keeps at most 300 after NMS; how
many an image yields depends on the image).

- Faster R-CNN: VGG-16 conv1_1 .. relu5_3 (four ceil pools, stride 16) feeds the RPN and
  ``roi_pool5`` (7 x 7 ROI max pooling, spatial scale 1/16); per region ``fc6`` (4096),
  ``relu6``, ``fc7`` (4096), ``relu7``, ``cls_score`` (classes) with ``cls_prob``, and
  ``bbox_pred`` (4 x classes).  The prototxt's ``drop6`` and ``drop7`` are left out, as
  MatConvNet's importer leaves them (``-p dropout=true`` keeps them).
- R-FCN: ResNet (MSRA's, the stride on a block's first 1x1) to res4 feeds the RPN; res5 runs
  at stride 1 with its 3x3 convs dilated by 2; ``conv_new_1`` (1x1 to 1024, ReLU);
  ``rfcn_cls`` (1x1 to 7 x 7 x classes) and ``rfcn_bbox`` (1x1 to 7 x 7 x 8, class-agnostic
  boxes) feed position-sensitive ROI pooling (7 x 7 bins) and a 7 x 7 average ("voting") per
  region, then ``cls_prob`` over the classes.

The region head runs once per region: the ROI poolings lay the regions out along H (see
:mod:`calc.layers.roi`), so Faster R-CNN's ``fc6`` (an ``InnerProduct`` on the 512 x 7 x 7
pooled blob, a 7 x 7 ``vl_nnconv`` in MatConvNet) is a 7 x 7 conv with stride 7 here, and
``fc7`` onwards are 1 x 1 convs.
"""
from __future__ import annotations

from archs.caffe_resnet import Builder, depth_stages
from archs.caffe_vgg import DROPOUT, POOL, Trunk, conv_relu, stages, vgg_trunk
from calc.graph import Network
from calc.layers import AvgPool2d, Conv2d, Dropout, PSROIPool, Proposal, ROIPool, Reshape, Softmax
from calc.registry import CLASSES, HW, RES, Option, register

ROIS = Option("rois", int, 300, "regions the proposal layer passes on (at most the test setting's 300 after NMS)",
              min=1, max=100_000)
OPTIONS = (RES.with_default(HW(600, 850)), CLASSES.with_default(21), ROIS)
#: the RPN's anchors (py-faster-rcnn generate_anchors: scales 8, 16, 32 x ratios 0.5, 1, 2)
ANCHORS = 9


def rpn(net: Network, x: str, rois: int) -> str:
    """The region proposal network on ``x``; returns the ``rois x 5`` regions."""
    y = conv_relu(net, "rpn.rpn_conv_3x3", x, 512, 3, padding=1, relu="rpn.rpn_relu_3x3")
    score = net.add("rpn.rpn_cls_score", Conv2d(out_channels=2 * ANCHORS, kernel_size=1), y)
    deltas = net.add("rpn.rpn_bbox_pred", Conv2d(out_channels=4 * ANCHORS, kernel_size=1), y)
    s = net.add("rpn.rpn_cls_score_reshape", Reshape(shape=(2, -1, 0)), score)
    s = net.add("rpn.rpn_cls_prob", Softmax(), s)
    s = net.add("rpn.rpn_cls_prob_reshape", Reshape(shape=(2 * ANCHORS, -1, 0)), s)
    return net.add("rpn.proposal", Proposal(rois=rois), [s, deltas])


# ---------------------------------------------------------------------------
# Faster R-CNN, VGG-16

#: VGG-16 to relu5_3: pools after conv1 .. conv4 only (stride 16)
VGG_TRUNK = Trunk(stages(16), (POOL,) * 4 + (None,))


@register("faster_rcnn_vgg16", family="Faster R-CNN", summary="Faster R-CNN (VGG-16, PASCAL VOC; end-to-end)",
          source="Ren et al. 2015, arXiv 1506.01497; rbgirshick/py-faster-rcnn VGG16 faster_rcnn_end2end "
                 "test.prototxt; albanie/mcnFasterRCNN (faster-rcnn-vggvd-pascal)",
          options=OPTIONS + (DROPOUT,))
def faster_rcnn_vgg16(res, classes: int, rois: int, dropout: str) -> Network:
    net = Network("faster_rcnn_vgg16", (3, res, res))
    trunk = vgg_trunk(net, VGG_TRUNK)["out"]
    regions = rpn(net, trunk, rois)
    x = net.add("frcn.roi_pool5", ROIPool(output_size=7, spatial_scale=1 / 16), [trunk, regions])
    for name, k in (("fc6", 7), ("fc7", 1)):  # fc6: an InnerProduct on each 512x7x7 region
        x = conv_relu(net, f"frcn.{name}", x, 4096, k, stride=k, relu=f"frcn.relu{name[2:]}")
        if dropout == "true":
            x = net.add(f"frcn.drop{name[2:]}", Dropout(p=0.5), x)
    score = net.add("frcn.cls_score", Conv2d(out_channels=classes, kernel_size=1), x)
    net.add("frcn.bbox_pred", Conv2d(out_channels=4 * classes, kernel_size=1), x)
    net.add("frcn.cls_prob", Softmax(), score)
    return net


# ---------------------------------------------------------------------------
# R-FCN, ResNet-50 / ResNet-101

#: py-R-FCN's ResNet: res5 at stride 1, dilated by 2 (the R-FCN paper, section 3.2)
RFCN_STAGES = {50: depth_stages((3, 4, 6, 3), strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2)),
               101: depth_stages((3, 4, 23, 3), strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2))}
BINS = 7  # k x k position-sensitive bins
AGNOSTIC_BOXES = 8  # test_agnostic: 4 box deltas for "object" and background


def rfcn(depth: int, res, classes: int, rois: int) -> Network:
    net = Network(f"rfcn_resnet{depth}", (3, res, res))
    r = Builder(net)
    stages = RFCN_STAGES[depth]
    res4 = r.stages(r.stem("input"), stages[:3])
    regions = rpn(net, res4, rois)
    x = r.stage(5, res4, stages[3])
    x = conv_relu(net, "rfcn.conv_new_1", x, 1024, 1, relu="rfcn.conv_new_1_relu")
    cls = net.add("rfcn.rfcn_cls", Conv2d(out_channels=BINS * BINS * classes, kernel_size=1), x)
    box = net.add("rfcn.rfcn_bbox", Conv2d(out_channels=BINS * BINS * AGNOSTIC_BOXES, kernel_size=1), x)
    c = net.add("rfcn.psroipooled_cls_rois", PSROIPool(output_dim=classes, group_size=BINS), [cls, regions])
    c = net.add("rfcn.ave_cls_score_rois", AvgPool2d(kernel_size=BINS, stride=BINS), c)
    b = net.add("rfcn.psroipooled_loc_rois", PSROIPool(output_dim=AGNOSTIC_BOXES, group_size=BINS), [box, regions])
    b = net.add("rfcn.ave_bbox_pred_rois", AvgPool2d(kernel_size=BINS, stride=BINS), b)
    c = net.add("rfcn.cls_prob_pre", Softmax(), c)
    net.add("rfcn.cls_prob", Reshape(shape=(-1, classes)), c)
    net.add("rfcn.bbox_pred", Reshape(shape=(-1, AGNOSTIC_BOXES)), b)
    return net


for _d in (50, 101):
    register(f"rfcn_resnet{_d}", family="R-FCN", summary=f"R-FCN (ResNet-{_d}, PASCAL VOC; class-agnostic boxes)",
             source=f"Dai et al. 2016, arXiv 1605.06409; YuwenXiong/py-R-FCN ResNet-{_d} rfcn_end2end "
                    f"test_agnostic.prototxt; albanie/mcnRFCN (rfcn-res{_d}-pascal)",
             options=OPTIONS, fixed={"depth": _d})(rfcn)
