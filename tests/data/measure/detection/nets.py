"""Reference counts for the detection/segmentation declarations (torch 2.14.1 CPU, torchvision
0.29.1, fvcore 0.1.5).  Run: python tests/data/measure/detection/nets.py > nets.json

- torchvision's ssd300_vgg16 (num_classes=21): an independent port of weiliu89's SSD300;
- FCN-32s/16s/8s written here from longjon's prototxts with torch layers (pad 100, ceil pools,
  bias-free ConvTranspose2d, crops by slicing): shapes, params, fvcore's conv MACs;
- torchvision's resnet101 with dilation in layer3/layer4 as DeepLab v2's trunk (params only).
"""
import json
import warnings

import torch
import torch.nn as nn
import torchvision
from fvcore.nn import FlopCountAnalysis

warnings.filterwarnings("ignore")
out = {}

# --- torchvision SSD300
m = torchvision.models.detection.ssd300_vgg16(weights=None, weights_backbone=None, num_classes=21)
m.eval()
x = torch.zeros(1, 3, 300, 300)
feats = m.backbone(x)
head = m.head(list(feats.values()))
out["ssd300_torchvision"] = {
    "params": sum(p.numel() for p in m.parameters()),
    "backbone_params": sum(p.numel() for p in m.backbone.parameters()),
    "head_params": sum(p.numel() for p in m.head.parameters()),
    "sources": [list(v.shape[1:]) for v in feats.values()],
    "priors": head["bbox_regression"].shape[1],
    "class_logits": list(head["cls_logits"].shape[1:]),
}


# --- FCN
def vgg_features():
    cfg = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
    layers, c, first, pools = [], 3, True, []
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2, ceil_mode=True))
            pools.append(len(layers))
        else:
            layers += [nn.Conv2d(c, v, 3, padding=100 if first else 1), nn.ReLU(inplace=True)]
            c, first = v, False
    return nn.Sequential(*layers), pools


class FCN(nn.Module):
    def __init__(self, kind, classes=21):
        super().__init__()
        self.kind = kind
        self.features, self.pools = vgg_features()
        self.fc6, self.fc7 = nn.Conv2d(512, 4096, 7), nn.Conv2d(4096, 4096, 1)
        self.score_fr = nn.Conv2d(4096, classes, 1)
        if kind == "32s":
            self.up = nn.ConvTranspose2d(classes, classes, 64, 32, bias=False)
        else:
            self.up2 = nn.ConvTranspose2d(classes, classes, 4, 2, bias=False)
            self.score_pool4 = nn.Conv2d(512, classes, 1)
            if kind == "16s":
                self.up = nn.ConvTranspose2d(classes, classes, 32, 16, bias=False)
            else:
                self.up_pool4 = nn.ConvTranspose2d(classes, classes, 4, 2, bias=False)
                self.score_pool3 = nn.Conv2d(256, classes, 1)
                self.up = nn.ConvTranspose2d(classes, classes, 16, 8, bias=False)

    def forward(self, x):
        h, taps = x, {}
        for i, layer in enumerate(self.features):
            h = layer(h)
            if i + 1 in self.pools:
                taps[self.pools.index(i + 1) + 1] = h
        h = self.score_fr(torch.relu(self.fc7(torch.relu(self.fc6(h)))))
        if self.kind == "32s":
            return self.up(h)[:, :, 19:19 + x.shape[2], 19:19 + x.shape[3]]
        h = self.up2(h)
        p4 = self.score_pool4(taps[4])[:, :, 5:5 + h.shape[2], 5:5 + h.shape[3]]
        h = h + p4
        if self.kind == "16s":
            return self.up(h)[:, :, 27:27 + x.shape[2], 27:27 + x.shape[3]]
        h = self.up_pool4(h)
        p3 = self.score_pool3(taps[3])[:, :, 9:9 + h.shape[2], 9:9 + h.shape[3]]
        h = self.up(h + p3)
        return h[:, :, 31:31 + x.shape[2], 31:31 + x.shape[3]]


for kind in ("32s", "16s", "8s"):
    net = FCN(kind).eval()
    for size in ((384, 384), (500, 353)):
        x = torch.zeros(1, 3, *size)
        with torch.no_grad():
            y = net(x)
        fa = FlopCountAnalysis(net, x)
        fa.unsupported_ops_warnings(False)
        out[f"fcn{kind}_{size[0]}x{size[1]}"] = {"params": sum(p.numel() for p in net.parameters()),
                                                 "output": list(y.shape[1:]), "fvcore": int(fa.total())}

# --- DeepLab v2's ResNet-101 trunk (dilated) + ASPP to 21, single scale
r = torchvision.models.resnet101(replace_stride_with_dilation=[False, True, True])
aspp = [nn.Conv2d(2048, 21, 3, padding=d, dilation=d) for d in (6, 12, 18, 24)]
out["deeplab_resnet101_single_scale"] = {
    "params": sum(p.numel() for n, p in r.named_parameters() if not n.startswith("fc.")) +
    sum(p.numel() for a in aspp for p in a.parameters())}
print(json.dumps(out))
