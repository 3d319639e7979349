"""Which leaf modules run in each reference model, by type: count and output elements.

A forward hook on every module without children, grouped by the module's class: how the
leaf_output_elems of measure.py (beside this file, whose ``build`` it uses) break down, e.g.
timm's pass-through nn.Identity modules that calc has no node for (the leaf-output tests of
tests/archs/test_{mobilenet_v3,efficientnet,ghostnet,regnet}.py).  torch 2.14.1 (CPU),
torchvision 0.29.1, timm 1.0.31.
usage: python tests/data/measure/torchvision_timm/leaves.py NAME[~k=v,...][@RES] ..."""
import collections, sys, warnings
import torch, torch.nn as nn
from measure import build
warnings.filterwarnings("ignore"); torch.set_grad_enabled(False)
for spec in sys.argv[1:]:
    spec, _, res = spec.partition("@"); res = int(res or 224)
    m = build(spec)
    acc = collections.defaultdict(lambda: [0, 0])
    def hook(mod, i, o):
        a = acc[type(mod).__module__ + "." + type(mod).__name__]; a[0] += 1; a[1] += o.numel()
    for mod in m.modules():
        if not list(mod.children()):
            mod.register_forward_hook(hook)
    m(torch.randn(1, 3, res, res))
    print(spec, res)
    for k, (n, e) in sorted(acc.items()):
        print(f"   {k:55s} {n:5d} {e:12d}")
