"""Compare ONNX exports of torchvision models (export_tv.py, files named x_NAME_OPSET.onnx) with
calc's built-ins: MACs equal or not, params of the file and of the built-in, their difference
and the built-in's sum of BN channels C (what an exporter that folds BN into convs removes),
and whether calc's import notes the folding.  Runs calc from this checkout (needs the onnx
extra, not torch).

Usage: python tests/data/measure/onnx/compare_builtins.py FOLDER"""
import glob
import os
import sys

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..")))
import archs  # noqa: E402
from calc.counting import analyze  # noqa: E402
from calc.errors import CalcError  # noqa: E402
from calc.onnx import load_onnx  # noqa: E402

BUILTIN = {"mobilenet_v2": ("mobilenet_v2", {}), "shufflenet_v2_x1_0": ("shufflenet_v2", {}),
           "efficientnet_b0": ("efficientnet_b0", {}), "resnet18": ("resnet18", {}), "mnasnet1_0": ("mnasnet", {}),
           "mobilenet_v3_large": ("mobilenet_v3_large", {}), "regnet_y_400mf": ("regnet_y_400mf", {}),
           "inception_v3": ("inception_v3", {"aux": "false"}), "densenet121": ("densenet121", {}),
           "vgg16_bn": ("vgg16_bn", {}), "resnext50_32x4d": ("resnext50_32x4d", {}), "alexnet": ("alexnet", {})}
for f in sorted(glob.glob(os.path.join(sys.argv[1], "x_*.onnx"))):
    stem = os.path.basename(f)[2:].rsplit("_", 1)[0]
    b, opts = BUILTIN[stem]
    ref = analyze(archs.build(b, **opts))
    try:
        net = load_onnx(f).build()
    except CalcError as e:
        print("FAIL", os.path.basename(f), e)
        continue
    a = analyze(net)
    bn = sum(c.params for c in ref.layers if c.op == "BatchNorm2d") // 2
    folded = [n for n in net.notes if "folded" in n]
    print(os.path.basename(f), "macs equal", a.totals["macs"] == ref.totals["macs"], "params", a.totals["params"],
          ref.totals["params"], "diff", ref.totals["params"] - a.totals["params"], "sum C", bn,
          "| folded note" if folded else "")
