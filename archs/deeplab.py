"""DeepLab v2 (Chen et al. 2016, arXiv 1606.00915): atrous convolution and atrous spatial
pyramid pooling (ASPP), the PASCAL VOC 2012 models released with the Caffe code
(``deeplab-public-ver2``), as MatConvNet imported them (albanie/mcnDeepLab:
``deeplab-vggvd-v2``, ``deeplab-res101-v2``) and convnet-burden measured them at 513 x 513.

- ``deeplab_v2_vgg16`` (DeepLab-ASPP-L): Caffe's VGG-16 with 3x3/2 pad-1 pools (pool4 and
  pool5 stride 1) and conv5 dilated by 2, so the map stays at 1/8; four branches on pool5, each
  a 3x3 conv dilated by 6, 12, 18 or 24 to 1024 (``fc6_i``), dropout, a 1x1 conv to 1024
  (``fc7_i``), dropout, a 1x1 conv to the classes (``fc8_voc12_i``); their sum, then an 8x
  bilinear ``Interp`` (``fc8_interp``).  The dropouts are kept in the imported model.
- ``deeplab_v2_resnet101`` (DeepLab-ASPP with multi-scale inputs, MSC): ResNet-101 (MSRA's,
  the stride on the first 1x1 of a block) whose pool1 is 3x3/2 with padding 1, res4 dilated
  by 2 and res5 by 4 (both stride 1), and an ASPP of four 3x3 convs straight to the classes
  (dilations 6, 12, 18, 24, ``fc1_voc12_c0..3``), summed; run on the image and on two
  ``Interp``-shrunk copies (``shrink 4 zoom 3`` = 0.75, ``shrink 2`` = 0.5) with *shared*
  weights (the ``res075``/``res05`` branches of the prototxt), the smaller scales' scores
  resized to the full scale's, fused by an element-wise max, then an 8x ``Interp``.

kazuto1011/deeplab-pytorch's port (``DeepLabV2_ResNet101_MSC``, converted from the released
caffemodel) has the same layers: ``MaxPool2d(3, 2, 1, ceil_mode=True)``, dilations 2 and 4,
the ASPP sum and the max over the scales (it interpolates with ``F.interpolate``).
"""
from __future__ import annotations

from archs.caffe_resnet import Builder, depth_stages
from archs.caffe_vgg import Trunk, conv_relu, stages, vgg_trunk
from calc.graph import Network
from calc.layers import Add, Conv2d, Dropout, Interp, MaxPool2d, Maximum
from calc.registry import CLASSES, RES, register

DEEPLAB = "Chen et al. 2016, arXiv 1606.00915 (DeepLab v2), deeplab-public-ver2 prototxts; albanie/mcnDeepLab"
OPTIONS = (RES.with_default(513), CLASSES.with_default(21))

# ---------------------------------------------------------------------------
# DeepLab v2 VGG-16 (ASPP-L)

POOL_S2 = MaxPool2d(kernel_size=3, stride=2, padding=1, ceil_mode=True)
POOL_S1 = MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True)
VGG_TRUNK = Trunk(stages(16), (POOL_S2, POOL_S2, POOL_S2, POOL_S1, POOL_S1), dilation=(1, 1, 1, 1, 2))
#: the ASPP branches' dilations (DeepLab v2 section 3.3, ASPP-L)
RATES = (6, 12, 18, 24)


@register("deeplab_v2_vgg16", family="DeepLab", summary="DeepLab v2 ASPP-L (VGG-16, PASCAL VOC 2012)",
          source=DEEPLAB, options=OPTIONS)
def deeplab_v2_vgg16(res, classes: int) -> Network:
    net = Network("deeplab_v2_vgg16", (3, res, res))
    pool5 = vgg_trunk(net, VGG_TRUNK)["out"]
    scores = []
    for i, rate in enumerate(RATES, start=1):
        b = f"aspp{i}"
        x = conv_relu(net, f"{b}.fc6_{i}", pool5, 1024, 3, padding=rate, dilation=rate, relu=f"{b}.relu6_{i}")
        x = net.add(f"{b}.drop6_{i}", Dropout(p=0.5), x)
        x = conv_relu(net, f"{b}.fc7_{i}", x, 1024, 1, relu=f"{b}.relu7_{i}")
        x = net.add(f"{b}.drop7_{i}", Dropout(p=0.5), x)
        scores.append(net.add(f"{b}.fc8_voc12_{i}", Conv2d(out_channels=classes, kernel_size=1), x))
    x = net.add("fc8_voc12", Add(), scores)
    net.add("fc8_interp", Interp(zoom_factor=8), x)
    return net


# ---------------------------------------------------------------------------
# DeepLab v2 ResNet-101 (ASPP, MSC)

#: ResNet-101 (He et al. 2015, Table 1) with res4 and res5 at stride 1, dilated by 2 and 4
RESNET101 = depth_stages((3, 4, 23, 3), strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4))
#: the smaller scales: their branch's prefix and the Interp that shrinks the image (x0.75, x0.5)
SCALES = (("res075", Interp(shrink_factor=4, zoom_factor=3)), ("res05", Interp(shrink_factor=2)))


def resnet101_aspp(r: Builder, x: str, classes: int) -> str:
    """One scale: the dilated ResNet-101 (pool1 padded by 1) and the ASPP sum."""
    y = r.stages(r.stem(x, pool_padding=1), RESNET101)
    scores = [r.add_weighted(f"aspp.fc1_voc12_c{i}", Conv2d(out_channels=classes, kernel_size=3, padding=rate, dilation=rate), y)
              for i, rate in enumerate(RATES)]
    return r.net.add(f"{r.p}aspp.fc1_voc12", Add(), scores)


@register("deeplab_v2_resnet101", family="DeepLab",
          summary="DeepLab v2 ASPP with multi-scale inputs x1, x0.75, x0.5 (ResNet-101, PASCAL VOC 2012)",
          source=f"{DEEPLAB}; kazuto1011/deeplab-pytorch DeepLabV2_ResNet101_MSC", options=OPTIONS)
def deeplab_v2_resnet101(res, classes: int) -> Network:
    net = Network("deeplab_v2_resnet101", (3, res, res))
    full = resnet101_aspp(Builder(net, "res1."), "input", classes)
    fused = [full]
    for tag, shrink in SCALES:
        image = net.add(f"{tag}.data", shrink, "input")
        score = resnet101_aspp(Builder(net, f"{tag}.", shares="res1."), image, classes)
        fused.append(net.add(f"{tag}.fc1_interp", Interp(), [score, full]))  # resized to the full scale's map
    x = net.add("fc_fusion", Maximum(), fused)
    net.add("fc1_interp", Interp(zoom_factor=8), x)
    return net
