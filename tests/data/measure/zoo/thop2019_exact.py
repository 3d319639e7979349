"""thop 1023a53 with its float32 accumulators widened to float64 (torch default dtype), to
separate its counting rules from its float32 rounding: torchvision 0.2.2.post3's densenets and
0.4.0's MNASNet at 224, torch 2.14.1 (CPU).  Pinned in tests/archs/test_{densenet,mnasnet}.py.
Needs thop_1023a53/, tv022/ and tv040/ beside this file (../README.md).
Usage: python tests/data/measure/zoo/thop2019_exact.py"""
import sys, types, warnings
warnings.filterwarnings("ignore")
import torch
torch.set_default_dtype(torch.float64)
print("torch.Tensor([1]).dtype =", torch.Tensor([1]).dtype)
from common import TV022, load_file_module, tv040_mnasnet
from thop_1023a53 import profile
dn = load_file_module("tv022_densenet", f"{TV022}/densenet.py")
mn = tv040_mnasnet()
for name in ("densenet121", "densenet161", "densenet169", "densenet201"):
    ops, p = profile(getattr(dn, name)(), inputs=(torch.randn(1, 3, 224, 224),), verbose=False)
    print(f"tv0.2.2 {name}@224 thop2019(float64)={int(ops)}")
for a in (0.5, 0.75, 1.0, 1.3):
    ops, p = profile(mn.MNASNet(a), inputs=(torch.randn(1, 3, 224, 224),), verbose=False)
    print(f"tv0.4.0 mnasnet{a}@224 thop2019(float64)={int(ops)} params={int(p)}")
