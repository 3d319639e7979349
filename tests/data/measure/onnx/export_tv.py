"""Export a torchvision model to ONNX, as the README's "BN folded by the exporter" figures were
made: torch 2.14.1 (CPU), torchvision 0.29.1, onnx 1.23.2, torch.onnx.export(..., dynamo=False).
Every BatchNorm gets statistics and affine values of its own first (and every conv/linear bias
random values), so that the exporter cannot merge initializers of equal content.

Usage: python tests/data/measure/onnx/export_tv.py NAME OUT.onnx OPSET FOLD DYNAMIC
  NAME     a torchvision.models constructor (resnet18, mobilenet_v2, inception_v3 ...)
  OPSET    9 to 17 (the file names x_NAME_OPSET.onnx record the opset used)
  FOLD     1: do_constant_folding=True (BN folded into the convs), 0: False (BN kept)
  DYNAMIC  1: N, H and W as dynamic axes
Then python tests/data/measure/onnx/compare_builtins.py FOLDER compares the files with the built-ins."""
import sys

import torch
import torchvision

name, out, opset, fold, dyn = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1", sys.argv[5] == "1"
torch.manual_seed(0)
m = getattr(torchvision.models, name)()
with torch.no_grad():
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.uniform_(-1, 1)
            mod.running_var.uniform_(0.5, 2)
            mod.weight.uniform_(0.5, 2)
            mod.bias.uniform_(-1, 1)
        if isinstance(mod, (torch.nn.Conv2d, torch.nn.Linear)) and mod.bias is not None:
            mod.bias.uniform_(-1, 1)
m.eval()
res = 299 if name == "inception_v3" else 224
x = torch.randn(1, 3, res, res)
kw = dict(dynamic_axes={"x": {0: "N", 2: "H", 3: "W"}}) if dyn else {}
torch.onnx.export(m, (x,), out, input_names=["x"], output_names=["y"], opset_version=opset, dynamo=False,
                  do_constant_folding=fold, **kw)
print("ok", out)
