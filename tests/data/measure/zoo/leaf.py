"""Leaf-module output elements (a forward hook on every module without children, summing
output.numel(): the module_leaf_outputs of the tests), params and conv/linear MACs, on the
models of hooks.py beside this file (torch 2.14.1 CPU, pretrainedmodels 0.7.4, timm 1.0.31).
Pinned in tests/archs/test_{nasnet,polynet}.py.
Usage: python tests/data/measure/zoo/leaf.py MODEL RES  (MODEL as in hooks.py; one JSON line)"""
import sys, json
import torch
from hooks import build, conv_linear_macs

if __name__ == "__main__":
    name, res = sys.argv[1], int(sys.argv[2])
    m = build(name).eval()
    x = torch.randn(1, 3, res, res)
    leaf = [0]
    hs = [mod.register_forward_hook(lambda mod, i, o: leaf.__setitem__(0, leaf[0] + o.numel()))
          for mod in m.modules() if not list(mod.children())]
    with torch.no_grad():
        m(x)
    for h in hs: h.remove()
    print(json.dumps({"model": name, "res": res, "leaf": leaf[0], **conv_linear_macs(m, x)}), flush=True)
