"""Reference counts with torch forward hooks (outside the project), and ptflops cf48e01.

Params ``sum(p.numel())`` (a shared module's once); MACs from forward hooks on every nn.Conv2d /
nn.Linear call (output elements x in/groups x kh x kw, in x out; every call of a shared conv);
ptflops cf48e01's flops_counter.py run as is (ptflops_cf48e01.py beside this file: ../README.md).
MODEL: one of Cadene's pretrainedmodels 0.7.4 nasnetalarge, nasnetamobile, pnasnet5large,
polynet (MODEL@CLASSES for another head, e.g. nasnetalarge@1001), or timm:NAME (timm 1.0.31);
one 1xRESxRES input, eval mode, torch 2.14.1 (CPU).  Pinned in tests/archs/test_{nasnet,polynet}.py;
leaf.py and tools.py beside it use its ``build``.
Usage: python tests/data/measure/zoo/hooks.py MODEL RES  (one JSON line)"""
import importlib.util, sys, json, time
import torch, torch.nn as nn

def conv_linear_macs(model, x):
    """Conv/linear MACs per call (bias excluded), summed, and params (deduplicated)."""
    tot = {"macs": 0, "conv_calls": 0}
    hs = []
    def conv_hook(m, i, o):
        tot["macs"] += o.numel() // o.shape[0] * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
        tot["conv_calls"] += 1
    def lin_hook(m, i, o):
        tot["macs"] += m.in_features * m.out_features
    for m in model.modules():
        if isinstance(m, nn.Conv2d): hs.append(m.register_forward_hook(conv_hook))
        if isinstance(m, nn.Linear): hs.append(m.register_forward_hook(lin_hook))
    with torch.no_grad():
        model(x)
    for h in hs: h.remove()
    tot["params"] = sum(p.numel() for p in model.parameters())
    return tot

def ptflops2019(model, res):
    import ptflops_cf48e01 as pf
    flops, params = pf.get_model_complexity_info(model, (res, res), print_per_layer_stat=False, as_strings=False)
    return int(flops), params

def build(name):
    if name.startswith("timm:"):
        import timm
        return timm.create_model(name[5:], pretrained=False)
    n, _, k = name.partition("@")
    kw = {"num_classes": int(k)} if k else {}
    return getattr(cadene(FILES[n]), n)(pretrained=None, **kw)

# the installed pretrainedmodels package's models/ folder (found, not imported)
ROOT = importlib.util.find_spec("pretrainedmodels").submodule_search_locations[0] + "/models/"
FILES = {"nasnetalarge": "nasnet", "nasnetamobile": "nasnet_mobile", "pnasnet5large": "pnasnet", "polynet": "polynet"}

def cadene(f):
    """Cadene's pretrainedmodels 0.7.4 model file, loaded directly (the package __init__ needs six)."""
    spec = importlib.util.spec_from_file_location(f"cadene_{f}", ROOT + f + ".py")
    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
    return m

if __name__ == "__main__":
    torch.manual_seed(0)
    name, res = sys.argv[1], int(sys.argv[2])
    m = build(name).eval()
    x = torch.randn(1, 3, res, res)
    t = time.time()
    out = {"model": name, "res": res, **conv_linear_macs(m, x)}
    out["ptflops_2019"], out["ptflops_2019_params"] = ptflops2019(m, res)
    out["seconds"] = round(time.time() - t, 1)
    print(json.dumps(out))
