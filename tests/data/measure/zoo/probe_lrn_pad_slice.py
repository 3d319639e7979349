"""LRN, zero padding and a channel slice through thop 0.1.1.post2209072238, ptflops 0.7.5 (its
default pytorch backend) and fvcore 0.1.5: nn.LocalResponseNorm(5, 1e-4, 0.75, 1.0),
nn.ZeroPad2d((1, 0, 1, 0)) and x[:, :5] on a 1x8x6x6 input, torch 2.14.1 (CPU).  Pinned in
tests/layers/test_layers.py (the LRN's 1296 / 0 / 0).
Usage: python tests/data/measure/zoo/probe_lrn_pad_slice.py"""
import torch, torch.nn as nn
from thop import profile
from ptflops import get_model_complexity_info
from fvcore.nn import FlopCountAnalysis

class M(nn.Module):
    def __init__(s, kind):
        super().__init__(); s.kind = kind
        s.lrn = nn.LocalResponseNorm(5, 1e-4, 0.75, 1.0)
        s.pad = nn.ZeroPad2d((1, 0, 1, 0))
    def forward(s, x):
        if s.kind == "lrn": return s.lrn(x)
        if s.kind == "pad": return s.pad(x)
        if s.kind == "slice": return x[:, :5]
for kind in ("lrn", "pad", "slice"):
    m = M(kind).eval(); x = torch.randn(1, 8, 6, 6)
    macs, _ = profile(m, inputs=(x,), verbose=False)
    pt, _ = get_model_complexity_info(m, (8, 6, 6), as_strings=False, print_per_layer_stat=False, verbose=False)
    fa = FlopCountAnalysis(m, x); fa.unsupported_ops_warnings(False); fa.uncalled_modules_warnings(False)
    print(kind, "thop", macs, "ptflops", pt, "fvcore", fa.total(), dict(fa.unsupported_ops()))
