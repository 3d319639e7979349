"""Input-gradient support of each output row of single upsampling layers (1-D along H, W = 1):
torch 2.14.1, float64, weights all ones, so no gradient cancels.
Run: python tests/data/measure/detection/rf.py > rf.json"""
import json

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def support(fn, n):
    out = []
    x = torch.ones(1, 1, n, 1, requires_grad=True)
    y = fn(x)
    for o in range(y.shape[2]):
        x.grad = None
        y = fn(x)
        y[0, 0, o, 0].backward()
        nz = (x.grad[0, 0, :, 0] != 0).nonzero().flatten().tolist()
        out.append([min(nz), max(nz)] if nz else None)
    return out


def deconv(**kw):
    m = nn.ConvTranspose2d(1, 1, bias=False, **kw)
    nn.init.ones_(m.weight)
    return m


cases = {
    "deconv_k4_s2_p1": (deconv(kernel_size=(4, 1), stride=(2, 1), padding=(1, 0)), 7),
    "deconv_k3_s2_p1_op1_d2": (deconv(kernel_size=(3, 1), stride=(2, 1), padding=(1, 0), output_padding=(1, 0),
                                      dilation=(2, 1)), 6),
    "deconv_k64_s32": (deconv(kernel_size=(64, 1), stride=(32, 1)), 4),
    "nearest_x2": (lambda x: F.interpolate(x, scale_factor=(2, 1), mode="nearest"), 5),
    "nearest_x1.5": (lambda x: F.interpolate(x, scale_factor=(1.5, 1), mode="nearest"), 6),
    "bilinear_x2": (lambda x: F.interpolate(x, scale_factor=(2, 1), mode="bilinear", align_corners=False), 5),
    "bilinear_size_align": (lambda x: F.interpolate(x, size=(17, 1), mode="bilinear", align_corners=True), 5),
    "bilinear_49_to_65_align": (lambda x: F.interpolate(x, size=(65, 1), mode="bilinear", align_corners=True), 49),
}
print(json.dumps({k: {"n": n, "rows": support(fn, n)} for k, (fn, n) in cases.items()}))
