"""Reference counts on torchvision 0.29.1 (torch 2.14.1 CPU): params, conv/linear MACs by
forward hooks, leaf-module outputs, and what thop 0.1.1.post2209072238 / ptflops 0.7.5 (pytorch
backend) / fvcore 0.1.5 report; eval mode, batch 1, 1000 classes, a zero input.  The cases
(NAME@RES) are the densenets, googlenet and inception_v3 with and without aux heads, and the
mnasnets: pinned in tests/archs/test_{densenet,googlenet,inception_v3,mnasnet}.py.
Usage: python tests/data/measure/zoo/measure_tv.py [NAME@RES ...]  (default: every case)"""
import json, sys, warnings
warnings.filterwarnings("ignore")
import torch, torchvision
from torchvision import models
from common import params, conv_linear_macs, leaf_outputs

CASES = {
    "densenet121@224": (lambda: models.densenet121(), 224),
    "densenet161@224": (lambda: models.densenet161(), 224),
    "densenet169@224": (lambda: models.densenet169(), 224),
    "densenet201@224": (lambda: models.densenet201(), 224),
    "googlenet@224": (lambda: models.googlenet(aux_logits=False, init_weights=False), 224),
    "googlenet_aux@224": (lambda: models.googlenet(aux_logits=True, init_weights=False), 224),
    "inception_v3@299": (lambda: models.inception_v3(aux_logits=False, init_weights=False), 299),
    "inception_v3_aux@299": (lambda: models.inception_v3(aux_logits=True, init_weights=False), 299),
    "inception_v3@224": (lambda: models.inception_v3(aux_logits=False, init_weights=False), 224),
    "inception_v3_aux@224": (lambda: models.inception_v3(aux_logits=True, init_weights=False), 224),
    **{f"mnasnet{a}@224": ((lambda a=a: getattr(models, f"mnasnet{a}")()), 224)
       for a in ("0_5", "0_75", "1_0", "1_3")},
}


def tools(make, res):
    out = {}
    from thop import profile
    m = make().eval()
    out["thop"] = int(profile(m, inputs=(torch.zeros(1, 3, res, res),), verbose=False)[0])
    from ptflops import get_model_complexity_info
    m = make().eval()
    out["ptflops"] = int(get_model_complexity_info(m, (3, res, res), as_strings=False,
                                                   print_per_layer_stat=False, backend="pytorch")[0])
    from fvcore.nn import FlopCountAnalysis
    m = make().eval()
    f = FlopCountAnalysis(m, torch.zeros(1, 3, res, res))
    f.unsupported_ops_warnings(False); f.uncalled_modules_warnings(False)
    out["fvcore"] = int(f.total())
    out["fvcore_by_op"] = dict(f.by_operator())
    return out


if __name__ != "__main__":
    names = []
else:
    names = sys.argv[1:] or list(CASES)
res_all = {}
for key in names:
    make, res = CASES[key]
    m = make()
    r = {"params": params(m), "macs": conv_linear_macs(m, res), "leaf_outputs": leaf_outputs(make(), res)}
    r.update(tools(make, res))
    res_all[key] = r
    print(key, json.dumps(r), flush=True)
if names: print(torch.__version__, torchvision.__version__)
