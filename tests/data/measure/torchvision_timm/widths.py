"""RegNet block widths: torchvision's BlockParams against pycls' rule.

For the 15 RegNetX/RegNetY configurations of torchvision 0.29.1 (torchvision.models.regnet):
``BlockParams.from_init_params(**params)``'s widths, depths and group widths, and whether
torchvision's float32 per-block widths equal the float64 ones; then facebookresearch/pycls
pycls/models/regnet.py generate_regnet + blocks.py adjust_block_compatibility, reimplemented
here with numpy, flagged where they differ from torchvision.  torch 2.14.1 (CPU).  Pinned in
tests/archs/test_regnet.py (TORCHVISION_STAGES, PYCLS_STAGES).
usage: python tests/data/measure/torchvision_timm/widths.py"""
import math, sys
import numpy as np
import torch
from torchvision.models.regnet import BlockParams
import torchvision.models.regnet as R

CFG = dict(
 x_400mf=dict(depth=22, w_0=24, w_a=24.48, w_m=2.54, group_width=16),
 x_800mf=dict(depth=16, w_0=56, w_a=35.73, w_m=2.28, group_width=16),
 x_1_6gf=dict(depth=18, w_0=80, w_a=34.01, w_m=2.25, group_width=24),
 x_3_2gf=dict(depth=25, w_0=88, w_a=26.31, w_m=2.25, group_width=48),
 x_8gf=dict(depth=23, w_0=80, w_a=49.56, w_m=2.88, group_width=120),
 x_16gf=dict(depth=22, w_0=216, w_a=55.59, w_m=2.1, group_width=128),
 x_32gf=dict(depth=23, w_0=320, w_a=69.86, w_m=2.0, group_width=168),
 y_400mf=dict(depth=16, w_0=48, w_a=27.89, w_m=2.09, group_width=8, se_ratio=0.25),
 y_800mf=dict(depth=14, w_0=56, w_a=38.84, w_m=2.4, group_width=16, se_ratio=0.25),
 y_1_6gf=dict(depth=27, w_0=48, w_a=20.71, w_m=2.65, group_width=24, se_ratio=0.25),
 y_3_2gf=dict(depth=21, w_0=80, w_a=42.63, w_m=2.66, group_width=24, se_ratio=0.25),
 y_8gf=dict(depth=17, w_0=192, w_a=76.82, w_m=2.19, group_width=56, se_ratio=0.25),
 y_16gf=dict(depth=18, w_0=200, w_a=106.23, w_m=2.48, group_width=112, se_ratio=0.25),
 y_32gf=dict(depth=20, w_0=232, w_a=115.89, w_m=2.53, group_width=232, se_ratio=0.25),
 y_128gf=dict(depth=27, w_0=456, w_a=160.83, w_m=2.52, group_width=264, se_ratio=0.25),
)

def py64(depth, w_0, w_a, w_m, q=8):
    ws = [round(w_0 * w_m ** round(math.log((i * w_a + w_0) / w_0) / math.log(w_m)) / q) * q for i in range(depth)]
    return ws

for k, c in CFG.items():
    bp = BlockParams.from_init_params(**c)
    # raw per-block widths, torch float32 as torchvision
    wc = torch.arange(c["depth"]) * c["w_a"] + c["w_0"]
    cap = torch.round(torch.log(wc / c["w_0"]) / math.log(c["w_m"]))
    bw = (torch.round(torch.divide(c["w_0"] * torch.pow(c["w_m"], cap), 8)) * 8).int().tolist()
    print(k, "tv:", bp.widths, bp.depths, bp.group_widths, "f32 raw==f64 raw:", bw == py64(c["depth"], c["w_0"], c["w_a"], c["w_m"]))

def pycls(depth, w_0, w_a, w_m, group_width, se_ratio=None, q=8):
    ws_cont = np.arange(depth) * w_a + w_0
    ks = np.round(np.log(ws_cont / w_0) / np.log(w_m))
    ws_all = np.round(np.divide(w_0 * np.power(w_m, ks), q)).astype(int) * q
    ws, ds = np.unique(ws_all, return_counts=True)
    ws, ds = ws.tolist(), ds.tolist()
    gs = [min(group_width, w) for w in ws]
    ws = [int(round(w / g) * g) for w, g in zip(ws, gs)]
    return ws, ds, gs, ws_all.tolist()

print("---- pycls")
for k, c in CFG.items():
    bp = BlockParams.from_init_params(**c)
    ws, ds, gs, raw = pycls(**c)
    flag = "" if (ws, ds) == (bp.widths, bp.depths) else "  DIFFERS from torchvision"
    print(k, ws, ds, gs, "raw stage widths", sorted(set(raw)), flag)
