"""Measure receptive fields of torchvision models from the input-gradient support.

Method: float64, every conv/linear weight = 1/fan_in (positive), biases 0, BN weight 1,
bias 0, running mean 0, var 1; max pools replaced by average pools with the same kernel,
stride, padding and ceil_mode; activations (ReLU, ReLU6) replaced by identities, so the
network is linear with positive coefficients and no gradient cancels or saturates. For an
output pixel (y, x) of the hooked feature map, the input gradient of sum_c f[c, y, x] is
nonzero exactly on the pixels that reach it; its row (column) extent is the field along H (W).

Also the support of the model's output (all logits) at 224: what the classifier sees.

Measured with torch 2.14.1 (CPU) and torchvision 0.29.1, ``weights=None``: the `models` of
tests/data/receptive_fields.json, pinned in tests/test_receptive.py.

Usage: python tests/data/measure/receptive_fields/receptive_fields.py [out.json]
(one JSON line per model on stdout; with out.json, all of them in that file)
"""
import json
import sys

import torch
import torch.nn as nn
import torchvision

torch.set_num_threads(2)

# model, module whose output is measured, input resolution (224 where the field of the
# centre pixel fits in a 224 input; larger otherwise, so that the centre field is unclipped)
MODELS = [
    ("vgg16", "avgpool", 224),
    ("alexnet", "features", 288),  # at 224 the centre field (195 px from row 30) is clipped
    ("resnet18", "layer4", 608),
    ("resnet50", "layer4", 608),
    ("mobilenet_v2", "features", 672),
    ("squeezenet1_1", "classifier.2", 448),
]


def prepare(model):
    for name, mod in list(model.named_modules()):
        for cname, child in list(mod.named_children()):
            if isinstance(child, nn.MaxPool2d):
                setattr(mod, cname, nn.AvgPool2d(child.kernel_size, child.stride, child.padding,
                                                 ceil_mode=child.ceil_mode))
            elif isinstance(child, (nn.ReLU, nn.ReLU6)):
                setattr(mod, cname, nn.Identity())
    for mod in model.modules():
        if isinstance(mod, (nn.Conv2d, nn.Linear)):
            fan_in = mod.weight[0].numel()
            nn.init.constant_(mod.weight, 1.0 / fan_in)
            if mod.bias is not None:
                nn.init.zeros_(mod.bias)
        elif isinstance(mod, nn.BatchNorm2d):
            nn.init.ones_(mod.weight); nn.init.zeros_(mod.bias)
            mod.running_mean.zero_(); mod.running_var.fill_(1.0)
    return model.double().eval()


def extents(model, module, res, positions):
    """Per output pixel (y, x) in positions: (row min, row max, col min, col max) of the
    input-gradient support; and the feature map's (H, W).  One forward pass."""
    feats = {}
    h = module.register_forward_hook(lambda m, i, o: feats.__setitem__("f", o))
    x = torch.ones(1, 3, res, res, dtype=torch.float64, requires_grad=True)
    model(x)
    h.remove()
    f = feats["f"]
    n_h, n_w = f.shape[2:]
    out = {}
    for label, (y, xx) in positions(n_h, n_w).items():
        (g,) = torch.autograd.grad(f[0, :, y, xx].sum(), x, retain_graph=True)
        g = g[0].sum(0)
        assert (g >= 0).all()
        rows = torch.nonzero(g.sum(1)).flatten()
        cols = torch.nonzero(g.sum(0)).flatten()
        out[label] = [int(rows.min()), int(rows.max()), int(cols.min()), int(cols.max())]
    return out, [int(n_h), int(n_w)]


def measure(name, mod_path, res):
    model = prepare(getattr(torchvision.models, name)(weights=None))
    module = model.get_submodule(mod_path)
    def positions(n_h, n_w):
        c_h, c_w = n_h // 2, n_w // 2
        return {"corner": (0, 0), "centre": (c_h, c_w), "centre+1": (c_h + 1, c_w + 1),
                "last": (n_h - 1, n_w - 1)}

    ext, (n_h, n_w) = extents(model, module, res, positions)
    c_h, c_w = n_h // 2, n_w // 2
    out = {"module": mod_path, "input": res, "map": [n_h, n_w], "centre": [c_h, c_w], "extents": ext}
    e = out["extents"]
    field = {}
    for axis, (lo, hi, c) in (("h", (0, 1, c_h)), ("w", (2, 3, c_w))):
        a, b = e["centre"][lo], e["centre"][hi]
        assert 0 < a and b < res - 1, f"{name}: centre field clipped along {axis}: {a}..{b}"
        j = e["centre+1"][lo] - a
        assert e["centre+1"][hi] - b == j or e["centre+1"][hi] == res - 1
        r, p = b - a + 1, c * j - a
        # the corners agree: the first pixel's field ends at -p + r - 1, the last one's starts at
        # -p + (n - 1) j (both clipped to the image)
        n = n_h if axis == "h" else n_w
        assert e["corner"][hi] == min(res - 1, -p + r - 1), (name, axis, e["corner"])
        assert e["last"][lo] == max(0, -p + (n - 1) * j), (name, axis, e["last"])
        field[axis] = {"rf": r, "jump": j, "padding": p}
    out["field"] = {k: [field["h"][k], field["w"][k]] for k in ("rf", "jump", "padding")}
    return out


def output_support(name, res=224):
    """[first row, last row, first col, last col] of the input-gradient support of the model's
    output (every logit, after the global pool / classifier) at res x res."""
    model = prepare(getattr(torchvision.models, name)(weights=None))
    x = torch.ones(1, 3, res, res, dtype=torch.float64, requires_grad=True)
    model(x).sum().backward()
    g = x.grad[0].sum(0)
    rows, cols = torch.nonzero(g.sum(1)).flatten(), torch.nonzero(g.sum(0)).flatten()
    return [int(rows.min()), int(rows.max()), int(cols.min()), int(cols.max())]


if __name__ == "__main__":
    results = {}
    for name, mod_path, res in MODELS:
        results[name] = measure(name, mod_path, res)
        results[name]["output_support_224"] = output_support(name)
        print(name, json.dumps(results[name]), flush=True)
    if len(sys.argv) > 1:
        with open(sys.argv[1], "w") as fh:
            json.dump({"torch": torch.__version__, "torchvision": torchvision.__version__,
                       "models": results}, fh, indent=1)
