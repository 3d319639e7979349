"""Reference counts for calc's detection/segmentation layers, measured with torch 2.14.1 (CPU),
torchvision 0.29.1, thop 0.1.1.post2209072238, ptflops 0.7.5, fvcore 0.1.5.

Run: python tests/data/measure/detection/layers.py > layers.json
"""
import json
import logging
import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.ops import PSRoIPool, RoIPool

warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)
torch.manual_seed(0)


def tools(model, x):
    model = nn.Sequential(model)  # thop counts the params of a root module's children only
    import io
    import contextlib

    from fvcore.nn import FlopCountAnalysis
    from ptflops import get_model_complexity_info
    from thop import profile

    model.eval()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        t_macs, t_params = profile(model, inputs=(x,), verbose=False)
        shape = tuple(x.shape[1:])
        p_macs, p_params = get_model_complexity_info(model, shape, as_strings=False, print_per_layer_stat=False,
                                                     verbose=False, backend="pytorch")
        fa = FlopCountAnalysis(model, x)
        fa.unsupported_ops_warnings(False)
        fa.uncalled_modules_warnings(False)
        fv = fa.total()
    return {"thop": int(t_macs), "thop_params": int(t_params), "ptflops": int(p_macs), "ptflops_params": int(p_params),
            "fvcore": int(fv)}


def saved_bytes(fn, *inputs):
    """Bytes autograd keeps (each storage once), input grads on."""
    seen = {}

    def pack(t):
        seen[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t

    xs = [i.detach().requires_grad_(i.is_floating_point()) for i in inputs]
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = fn(*xs)
    params = {p.untyped_storage().data_ptr() for p in getattr(fn, "parameters", lambda: [])()}
    return sum(v for k, v in seen.items() if k not in params), tuple(out.shape)


class L2Norm(nn.Module):
    """ssd.pytorch layers/modules/l2norm.py (amdegroot)"""

    def __init__(self, n_channels, scale):
        super().__init__()
        self.eps = 1e-10
        self.weight = nn.Parameter(torch.full((n_channels,), float(scale)))

    def forward(self, x):
        norm = x.pow(2).sum(dim=1, keepdim=True).sqrt() + self.eps
        x = torch.div(x, norm)
        return self.weight.unsqueeze(0).unsqueeze(2).unsqueeze(3).expand_as(x) * x


class Max3(nn.Module):
    """kazuto1011 MSC's fusion: torch.max(torch.stack(xs), dim=0)[0]"""

    def forward(self, x):
        return torch.max(torch.stack([x, x * 1.0, x + 0.0]), dim=0)[0]


class Interp(nn.Module):
    """a port's Caffe Interp: F.interpolate(bilinear, align_corners=True) to a size"""

    def __init__(self, size):
        super().__init__()
        self.size = size

    def forward(self, x):
        return F.interpolate(x, size=self.size, mode="bilinear", align_corners=True)


class Roi(nn.Module):
    def __init__(self, pool, rois):
        super().__init__()
        self.pool, self.rois = pool, rois

    def forward(self, x):
        return self.pool(x, self.rois)


out = {}
# ConvTranspose2d: shapes, params, tools
for key, kw, shape in [
    ("deconv_fcn32s", dict(in_channels=21, out_channels=21, kernel_size=64, stride=32, bias=False), (21, 13, 13)),
    ("deconv_grouped", dict(in_channels=8, out_channels=12, kernel_size=3, stride=2, padding=1, output_padding=1,
                            groups=4, bias=True), (8, 5, 7)),
    ("deconv_dilated", dict(in_channels=6, out_channels=4, kernel_size=(3, 2), stride=(2, 3), padding=(2, 0),
                            dilation=2, bias=True), (6, 9, 4)),
]:
    m = nn.ConvTranspose2d(**kw)
    x = torch.randn(1, *shape)
    y = m(x)
    rec = {"input": list(shape), "output": list(y.shape[1:]), "params": sum(p.numel() for p in m.parameters())}
    rec.update(tools(m, x))
    rec["saved_bytes"] = saved_bytes(m, x)[0]
    out[key] = rec

# Upsample / interpolate
for key, mod, shape in [
    ("upsample_nearest_x2", nn.Upsample(scale_factor=2, mode="nearest"), (4, 5, 7)),
    ("upsample_bilinear_x2", nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False), (4, 5, 7)),
    ("upsample_bilinear_size", nn.Upsample(size=(11, 9), mode="bilinear", align_corners=True), (4, 5, 7)),
    ("upsample_nearest_x1.5", nn.Upsample(scale_factor=1.5, mode="nearest"), (2, 5, 7)),
    ("interp_functional_align", Interp((65, 65)), (21, 49, 49)),
]:
    x = torch.randn(1, *shape)
    y = mod(x)
    rec = {"input": list(shape), "output": list(y.shape[1:])}
    rec.update(tools(mod, x))
    rec["saved_bytes"] = saved_bytes(mod, x)[0]
    out[key] = rec

# L2Norm (SSD), Maximum (DeepLab MSC)
for key, mod, shape in [("l2norm", L2Norm(512, 20), (512, 38, 38)), ("max3", Max3(), (21, 9, 9))]:
    x = torch.randn(1, *shape)
    y = mod(x)
    rec = {"input": list(shape), "output": list(y.shape[1:]), "params": sum(p.numel() for p in mod.parameters())}
    rec.update(tools(mod, x))
    rec["saved_bytes"] = saved_bytes(mod, x)[0]
    out[key] = rec

# ROI pooling: shapes (the regions are a batch: R x C x k x k)
rois = torch.tensor([[0, 0, 0, 100, 80], [0, 16, 16, 200, 300], [0, 5, 5, 50, 60]], dtype=torch.float)
for key, pool, c in [("roipool", RoIPool(7, 1 / 16), 512), ("psroipool", PSRoIPool(7, 1 / 16), 7 * 7 * 21)]:
    x = torch.randn(1, c, 38, 54)
    m = Roi(pool, rois)
    y = m(x)
    rec = {"input": [c, 38, 54], "rois": len(rois), "output": list(y.shape)}
    rec.update(tools(m, x))
    out[key] = rec

print(json.dumps(out, indent=1))
