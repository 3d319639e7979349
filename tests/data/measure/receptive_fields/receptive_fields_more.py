"""Receptive field of DenseNet-121, GoogLeNet and Inception v3 (torchvision 0.29.1) from the
input-gradient support, outside the calc project.  Method of receptive_fields.py beside this file
(weights 1/fan_in, BN identity, max pools -> average pools, ReLU -> identity), in float64 with each
conv's output gradient rescaled to a maximum of 1 (the support is unchanged, nothing underflows), but from the corner and the last two output
positions, whose supports are clipped on one side only, so a moderate input suffices:
  last row of the corner's field      = r - p - 1
  first row of the last position's    = (n - 1) j - p,  of the one before: (n - 2) j - p
The `models_corner_last` of tests/data/receptive_fields.json (torch 2.14.1 CPU, torchvision 0.29.1).
Usage: python tests/data/measure/receptive_fields/receptive_fields_more.py [MODEL ...]
(one JSON line per model; all of them also written to measured_more.json in the working directory)"""
import json
import torch, torch.nn as nn, torchvision
torch.set_num_threads(2)
import sys
MODELS = [m for m in [("googlenet", "inception5b", 320), ("inception_v3", "Mixed_7c", 800), ("densenet121", "features", 1120)] if len(sys.argv) < 2 or m[0] in sys.argv[1:]]

def prepare(model):
    for name, mod in list(model.named_modules()):
        for cname, child in list(mod.named_children()):
            if isinstance(child, nn.MaxPool2d):
                setattr(mod, cname, nn.AvgPool2d(child.kernel_size, child.stride, child.padding, ceil_mode=child.ceil_mode))
            elif isinstance(child, (nn.ReLU, nn.ReLU6)):
                setattr(mod, cname, nn.Identity())
    for mod in model.modules():
        if isinstance(mod, (nn.Conv2d, nn.Linear)):
            nn.init.constant_(mod.weight, 1.0 / mod.weight[0].numel())
            if mod.bias is not None: nn.init.zeros_(mod.bias)
        elif isinstance(mod, nn.BatchNorm2d):
            nn.init.ones_(mod.weight); nn.init.zeros_(mod.bias); mod.running_mean.zero_(); mod.running_var.fill_(1.0)
    return model.eval()

def run(name, path, res):
    kw = {"aux_logits": False, "init_weights": False} if name in ("googlenet", "inception_v3") else {}
    model = prepare(getattr(torchvision.models, name)(weights=None, **kw))
    if name == "inception_v3":
        model.transform_input = False
    if name == "googlenet":
        model.transform_input = False
    # F.relu in functional code: replace by identity through the module hooks is not possible; patch
    import torch.nn.functional as F
    F_relu = F.relu
    F.relu = lambda x, inplace=False: x
    feats = {}
    h = model.get_submodule(path).register_forward_hook(lambda m, i, o: feats.__setitem__("f", o))
    # float64, and each conv's output gradient rescaled to a maximum of 1 on the way back: the
    # support (where the gradient is nonzero) is unchanged by positive scaling, and the tails of
    # a deep network (DenseNet-121: over 120 averaging layers) would otherwise underflow
    model.double()
    def rescale(mod, inputs, output):
        output.register_hook(lambda g: g / g.abs().max().clamp_min(1e-300))
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            m.register_forward_hook(rescale)
    x = torch.ones(1, 3, res, res, dtype=torch.float64, requires_grad=True)
    model(x); h.remove(); f = feats["f"]; n = f.shape[2]
    out = {}
    for label, (y, xx) in {"corner": (0, 0), "last": (n - 1, n - 1), "last-1": (n - 2, n - 2)}.items():
        (g,) = torch.autograd.grad(f[0, :, y, xx].sum(), x, retain_graph=True)
        g = g[0].sum(0); assert (g >= 0).all()
        rows, cols = torch.nonzero(g.sum(1)).flatten(), torch.nonzero(g.sum(0)).flatten()
        out[label] = [int(rows.min()), int(rows.max()), int(cols.min()), int(cols.max())]
    F.relu = F_relu
    j = out["last"][0] - out["last-1"][0]
    p = (n - 1) * j - out["last"][0]
    r = out["corner"][1] + p + 1
    assert out["corner"][1] < res - 1 and out["last-1"][0] > 0, out  # clipped on one side only
    return {"module": path, "input": res, "map": [n, n], "extents": out, "field": {"rf": [r, r], "jump": [j, j], "padding": [p, p]}}

if __name__ == "__main__":
    res = {}
    for name, path, r in MODELS:
        res[name] = run(name, path, r); print(name, json.dumps(res[name]), flush=True)
    json.dump({"torch": torch.__version__, "torchvision": torchvision.__version__, "models": res},
              open("measured_more.json", "w"), indent=1)
