"""Export torchvision's segmentation models, and a small module made of the detection layers,
to ONNX, and print torch's parameter count and fvcore's conv MACs: the README's "Your own
model" figures for ConvTranspose, Resize, Max, L2 normalisation, Transpose, Reshape and Softmax.
torch 2.14.1 (CPU), torchvision 0.29.1, fvcore 0.1.5, onnx 1.23.2 (torch's exporter needs onnx
importable), torch.onnx.export(..., dynamo=False, do_constant_folding=False): every BatchNorm
keeps its layer; every BatchNorm and conv bias gets values of its own first, so that the
exporter cannot merge initializers of equal content.

Usage: python tests/data/measure/onnx/export_seg.py NAME OUT.onnx OPSET
  NAME   small, or a torchvision.models.segmentation constructor (fcn_resnet50,
         deeplabv3_resnet50, deeplabv3_mobilenet_v3_large, lraspp_mobilenet_v3_large): weights=None,
         aux_loss=False, a 1x3x224x224 input
  OPSET  9 to 17 (small before 11: nearest upsampling only; torch exports bilinear there as
         Upsample/Resize-10, which samples o / scale, and cannot export align_corners=True)
Then: calc arch OUT.onnx (params and MACs to compare with the printed ones)."""
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


class Small(nn.Module):
    """ConvTranspose (padding, output_padding, groups), nearest and bilinear upsampling (by a
    factor, to a size, align_corners), Max, F.normalize times a per-channel scale (SSD's L2Norm),
    channels-last permute, view and a softmax over the last axis."""

    def __init__(self, old: bool):
        super().__init__()
        self.old = old
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.up = nn.ConvTranspose2d(8, 8, 4, stride=2, padding=1, bias=False)
        self.up2 = nn.ConvTranspose2d(8, 8, 3, stride=2, padding=1, output_padding=1, groups=2)
        self.w = nn.Parameter(torch.full((1, 8, 1, 1), 20.0))

    def forward(self, x):
        x = F.relu(self.conv(x))
        a = self.up(x)
        b = F.interpolate(x, scale_factor=2, mode="nearest")
        if self.old:
            c = d = F.interpolate(x, scale_factor=2.0, mode="nearest")
        else:
            c = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
            d = F.interpolate(x, size=a.shape[2:], mode="bilinear", align_corners=True)
        m = self.up2(torch.maximum(torch.maximum(a, b), torch.max(c, d)))
        n = F.normalize(m, p=2, dim=1) * self.w
        return torch.softmax(n.permute(0, 2, 3, 1).contiguous().view(n.size(0), -1, 8), dim=-1)


name, out, opset = sys.argv[1], sys.argv[2], int(sys.argv[3])
torch.manual_seed(0)
if name == "small":
    m, res = Small(opset < 11), 16
else:
    m, res = getattr(torchvision.models.segmentation, name)(weights=None, weights_backbone=None, aux_loss=False), 224
with torch.no_grad():
    for mod in m.modules():
        if isinstance(mod, nn.BatchNorm2d):
            mod.running_mean.uniform_(-1, 1)
            mod.running_var.uniform_(0.5, 2)
            mod.weight.uniform_(0.5, 2)
            mod.bias.uniform_(-1, 1)
        if isinstance(mod, (nn.Conv2d, nn.Linear)) and mod.bias is not None:
            mod.bias.uniform_(-1, 1)
m.eval()
x = torch.randn(1, 3, res, res)
torch.onnx.export(m, (x,), out, input_names=["x"], output_names=["y"], opset_version=opset, dynamo=False,
                  do_constant_folding=False)
from fvcore.nn import FlopCountAnalysis  # noqa: E402

fa = FlopCountAnalysis(m, x)
fa.unsupported_ops_warnings(False)
fa.uncalled_modules_warnings(False)
print(out, "params", sum(p.numel() for p in m.parameters()), "fvcore conv MACs", fa.by_operator().get("conv", 0))
