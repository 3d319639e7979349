"""The 2019 tools on the 2019 model code (torch 2.14.1 CPU):
ptflops at cf48e01 (sovrasov/flops-counter.pytorch, 2019-04-29, ptflops/flops_counter.py) on
torchvision 0.2.2.post3's densenet.py / inception.py and on Cadene pretrainedmodels 0.7.4's
inceptionv3; thop at 1023a53 (Lyken17/pytorch-OpCounter, 2019-09-02, thop/) on torchvision
0.4.0's mnasnet.py (and on 0.2.2's densenets).  Prints exact totals and what each README printed.
Also thop 1023a53 on torchvision 0.29.1's mnasnets.  Pinned in tests/archs/test_{densenet,inception_v3,mnasnet}.py (the 2019 tools' figures).
Needs, beside this file: ptflops_cf48e01.py, thop_1023a53/, tv022/ and tv040/ (../README.md).
Usage: python tests/data/measure/zoo/measure_2019.py [--skip]  (--skip: only Cadene and thop)"""
import sys, warnings, types
warnings.filterwarnings("ignore")
import torch, torch.nn as nn
from common import TV022, load_file_module, stub_scipy, params, conv_linear_macs, tv040_mnasnet

stub_scipy()
dn = load_file_module("tv022_densenet", f"{TV022}/densenet.py")
inc = load_file_module("tv022_inception", f"{TV022}/inception.py")
mn = tv040_mnasnet()
import ptflops_cf48e01 as pt19
from thop_1023a53 import profile as thop19


def ptflops19(model, res):
    flops, p = pt19.get_model_complexity_info(model, (res, res), print_per_layer_stat=False, as_strings=False)
    return flops, p


def thop_2019(model, res):
    ops, p = thop19(model, inputs=(torch.randn(1, 3, res, res),), verbose=False)
    return ops, p


print("== ptflops cf48e01 (printed: round(x / 1e9, 2) GMac)")
for name in (() if "--skip" in sys.argv else ("densenet121", "densenet161", "densenet169", "densenet201")):
    m = getattr(dn, name)()
    f, p = ptflops19(m, 224)
    print(f"tv0.2.2 {name}@224 ptflops2019={int(f)} -> {round(f / 1e9, 2)} G params={p} macs={conv_linear_macs(getattr(dn, name)(), 224)}")
for res in (() if "--skip" in sys.argv else (224, 299)):
    m = inc.inception_v3()
    f, p = ptflops19(m, res)
    print(f"tv0.2.2 inception_v3@{res} ptflops2019={int(f)} -> {round(f / 1e9, 2)} G params={p}")
sys.modules["pretrainedmodels.datasets"] = types.ModuleType("pretrainedmodels.datasets")  # needs six; unused
import pretrainedmodels
m = pretrainedmodels.inceptionv3(num_classes=1000, pretrained=None)
f, p = ptflops19(m, 299)
print(f"cadene inceptionv3@299 ptflops2019={int(f)} -> {round(f / 1e9, 2)} G params={p}")

print("== thop 1023a53 (printed: '%.2f' % (ops / 1000**3))")
for a in (0.5, 0.75, 1.0, 1.3):
    m = mn.MNASNet(a)
    ops, p = thop_2019(m, 224)
    print(f"tv0.4.0 mnasnet{a}@224 thop2019={ops!r} -> {ops / 1e9:.2f} G params={int(p)} ({p / 1e6:.2f} M) "
          f"exact_params={params(mn.MNASNet(a))} macs={conv_linear_macs(mn.MNASNet(a), 224)}")
from torchvision import models
for a in ("0_5", "0_75", "1_0", "1_3"):
    ops, p = thop_2019(getattr(models, f"mnasnet{a}")(), 224)
    print(f"tv0.29.1 mnasnet{a}@224 thop2019={ops!r} -> {ops / 1e9:.2f} G params={int(p)}")
for name in ("densenet121", "densenet161", "densenet169", "densenet201"):
    ops, p = thop_2019(getattr(dn, name)(), 224)
    print(f"tv0.2.2 {name}@224 thop2019={ops!r} -> {ops / 1e9:.2f} G params={int(p)}")
