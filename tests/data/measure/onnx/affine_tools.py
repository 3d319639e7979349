"""How ptflops, thop and fvcore count a per-channel affine written as a module (x * g + b with
g, b nn.Parameters of shape C x 1 x 1), after a bias-free 3x3 conv 3 -> 8 on a 10 x 10 input:
the figures behind ChannelAffine's rules in calc/conventions.toml (ptflops 232 params, thop 216,
fvcore 232; MACs the conv's 13,824 in all three: none counts the affine's arithmetic).

Versions: torch 2.14.1 (CPU), ptflops 0.7.5, thop 0.1.1.post2209072238, fvcore 0.1.5.
Usage: python tests/data/measure/onnx/affine_tools.py"""
import thop
import torch
import torch.nn as nn
from fvcore.nn import FlopCountAnalysis, parameter_count
from ptflops import get_model_complexity_info


class Affine(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.g = nn.Parameter(torch.ones(c, 1, 1))
        self.b = nn.Parameter(torch.zeros(c, 1, 1))

    def forward(self, x):
        return x * self.g + self.b


m = nn.Sequential(nn.Conv2d(3, 8, 3, bias=False), Affine(8)).eval()
macs, params = get_model_complexity_info(m, (3, 10, 10), as_strings=False, print_per_layer_stat=False, verbose=False)
print("ptflops", macs, params)
x = torch.randn(1, 3, 10, 10)
print("thop", thop.profile(m, (x,), verbose=False))
f = FlopCountAnalysis(m, x)
f.unsupported_ops_warnings(False)
print("fvcore", f.total(), parameter_count(m)[""])
