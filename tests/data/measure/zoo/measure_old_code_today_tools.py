"""Today's tools (thop 0.1.1, ptflops 0.7.5 pytorch backend, fvcore 0.1.5) and torch hooks on the
2019 model code: torchvision 0.2.2's Inception3 (aux_logits=True, 224 and 299) and torchvision 0.4.0's
MNASNet (alpha 0.5/0.75/1.3): params, conv/linear MACs and leaf outputs by forward hooks
(common.py), the tools as measure_tv.py runs them.  torch 2.14.1 (CPU); pinned in
tests/archs/test_{inception_v3,mnasnet}.py.  Needs tv022/ and tv040/ beside this file (../README.md).
Usage: python tests/data/measure/zoo/measure_old_code_today_tools.py"""
import sys, types, warnings
warnings.filterwarnings("ignore")
import torch
from common import TV022, load_file_module, stub_scipy, params, conv_linear_macs, leaf_outputs, tv040_mnasnet
from measure_tv import tools
stub_scipy()
inc = load_file_module("tv022_inception", f"{TV022}/inception.py")
mn = tv040_mnasnet()
cases = {f"tv0.2.2 inception_v3@{r}": (inc.inception_v3, r) for r in (224, 299)}
cases.update({f"tv0.4.0 mnasnet{a}@224": ((lambda a=a: mn.MNASNet(a)), 224) for a in (0.5, 0.75, 1.3)})
for key, (make, res) in cases.items():
    r = {"params": params(make()), "macs": conv_linear_macs(make(), res), "leaf_outputs": leaf_outputs(make(), res)}
    r.update(tools(make, res))
    print(key, r, flush=True)
