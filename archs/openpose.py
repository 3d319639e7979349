"""Realtime multi-person pose estimation with part affinity fields (Cao et al. 2017, arXiv
1611.08050, "OpenPose"): the CMU models ``pose/coco/pose_deploy_linevec.prototxt`` and
``pose/mpi/pose_deploy_linevec.prototxt`` (six stages), as MatConvNet imported them
(``multipose-coco``, ``multipose-mpi``) and convnet-burden measured them at 368 x 368.

The first ten convs of VGG-19 (conv1_1 .. conv4_2, three 2x2/2 ceil pools, stride 8), then
``conv4_3_CPM`` (256) and ``conv4_4_CPM`` (128), all 3x3 with a ReLU.  Stage 1 has two branches
of three 3x3 convs to 128, a 1x1 conv to 512 and a 1x1 conv to the outputs: L1 the part
affinity fields (two per limb: COCO 38, MPI 28), L2 the confidence maps (parts + background:
COCO 19, MPI 16).  Stages 2..6 take the concatenation of both previous outputs and the
features, and run per branch five 7x7 convs to 128, a 1x1 conv to 128 and a 1x1 conv to the
outputs.  Every conv but a branch's last has a ReLU.  The prototxt ends by concatenating the
last stage's confidence maps and fields (``concat_stage7``, top ``net_output``; ildoonet's
tf-pose-estimation conversion has the same ``concat_stage7``).
"""
from __future__ import annotations

from archs.caffe_vgg import POOL, Trunk, conv_relu, stages, vgg_trunk
from calc.graph import Network
from calc.layers import Concat, Conv2d
from calc.registry import RES, register

#: VGG-19 to conv4_2: its first three stages and two convs of the fourth (Table 1, config E)
TRUNK = Trunk(stages(19)[:3] + (stages(19)[3][:2],), (POOL, POOL, POOL, None))
STAGES = 6
#: (part affinity fields, confidence maps) per dataset: 19 / 14 limbs x 2; 18 / 15 parts + background
OUTPUTS = {"coco": (38, 19), "mpi": (28, 16)}


def branch(net: Network, stage: int, limb: int, x: str, out: int) -> str:
    """One branch (L1 or L2) of stage ``stage``."""
    s, tag = f"stage{stage}.L{limb}", f"_stage{stage}_L{limb}" if stage > 1 else f"_CPM_L{limb}"
    if stage == 1:
        convs = [(f"conv5_{i}", 128, 3) for i in (1, 2, 3)] + [("conv5_4", 512, 1)]
        last = "conv5_5"
    else:
        convs = [(f"Mconv{i}", 128, 7) for i in range(1, 6)] + [("Mconv6", 128, 1)]
        last = "Mconv7"
    for name, c, k in convs:
        x = conv_relu(net, f"{s}.{name}{tag}", x, c, k, padding=k // 2, relu=f"{s}.{name}{tag}_relu")
    return net.add(f"{s}.{last}{tag}", Conv2d(out_channels=out, kernel_size=1), x)


def openpose(dataset: str, res) -> Network:
    net = Network(f"openpose_{dataset}", (3, res, res))
    x = vgg_trunk(net, TRUNK)["out"]
    x = conv_relu(net, "cpm.conv4_3_CPM", x, 256, 3, padding=1, relu="cpm.conv4_3_CPM_relu")
    features = conv_relu(net, "cpm.conv4_4_CPM", x, 128, 3, padding=1, relu="cpm.conv4_4_CPM_relu")
    pafs, maps = OUTPUTS[dataset]
    x = features
    for stage in range(1, STAGES + 1):
        l1 = branch(net, stage, 1, x, pafs)
        l2 = branch(net, stage, 2, x, maps)
        if stage < STAGES:
            x = net.add(f"stage{stage + 1}.concat_stage{stage + 1}", Concat(), [l1, l2, features])
    net.add("net_output", Concat(), [l2, l1])  # concat_stage7: the confidence maps, then the fields
    return net


for _d, _n in (("mpi", "MPI (14 limbs, 15 parts)"), ("coco", "COCO (19 limbs, 18 parts)")):
    register(f"openpose_{_d}", family="OpenPose", summary=f"OpenPose / multi-person pose, {_n}: VGG-19 + 6 stages",
             source=f"Cao et al. 2017, arXiv 1611.08050; CMU-Perceptual-Computing-Lab pose/{_d}/"
                    f"pose_deploy_linevec.prototxt; albanie/convnet-burden (multipose-{_d})",
             options=(RES.with_default(368),), fixed={"dataset": _d})(openpose)
