"""ptflops 0.7.5: is F.linear / F.batch_norm called from a module type it does not know counted?

Three tiny modules (timm 1.0.31's ``timm.layers.Linear``, a bare ``F.linear``, timm's
``BatchNormAct2d`` without its activation) through ``get_model_complexity_info(...,
backend="pytorch")`` on an 8x6x6 input (torch 2.14.1, CPU): each prints 0, i.e. ptflops'
pytorch backend patches neither F.linear nor F.batch_norm (the `ptflops` convention's rule in
calc/conventions.toml and README's conventions table).
usage: python tests/data/measure/torchvision_timm/ptflops_functionals.py"""
import torch, torch.nn as nn, torch.nn.functional as F
from ptflops import get_model_complexity_info
from timm.layers import Linear as TimmLinear, BatchNormAct2d
class M(nn.Module):
    def __init__(s, kind):
        super().__init__(); s.kind = kind
        s.lin = TimmLinear(8, 4); s.bn = BatchNormAct2d(8, apply_act=False); s.w = nn.Parameter(torch.ones(4, 8))
    def forward(s, x):
        if s.kind == "timm_linear": return s.lin(x.flatten(1)[:, :8])
        if s.kind == "F.linear": return F.linear(x.flatten(1)[:, :8], s.w)
        if s.kind == "bnact": return s.bn(x)
for kind in ("timm_linear", "F.linear", "bnact"):
    m = M(kind).eval()
    macs, _ = get_model_complexity_info(m, (8, 6, 6), as_strings=False, print_per_layer_stat=False, verbose=False, backend="pytorch")
    print(kind, macs)
