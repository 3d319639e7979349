"""Reference figures of Paddle 1.x model_stat on calc's networks, measured by running the
tool's own _summary_model (model_stat.py beside this file) on a Paddle-op rendering of the
torch reference models.  Outside the calc project.  Measured with torch 2.14.1 (CPU) and
torchvision 0.29.1 (shufflenet_v2_x*, resnext50_32x4d, resnet50; MobileNet v1 written to calc's
Table 1 declaration, below); pinned in tests/test_conventions.py (MODEL_STAT).

Rendering (how a PaddlePaddle 1.x static program expresses each op):
  nn.Conv2d        -> conv2d / depthwise_conv2d: Filter [out, in/groups, kh, kw], attr groups,
                      no Bias input (fluid.layers.conv2d adds its bias in a separate elementwise_add)
  nn.BatchNorm2d   -> batch_norm
  nn.ReLU, F.relu  -> relu                         (shapes carry the batch dim -1, as in a static program)
  nn.MaxPool2d     -> pool2d, ksize = kernel
  AdaptiveAvgPool2d(1) / x.mean([2, 3]) -> pool2d global/adaptive: ksize product 1
  nn.Linear        -> mul (Y [in, out], output 'fc_N.tmp_0') + elementwise_add (not counted)
  add, cat, view, transpose, chunk, flatten -> ops model_stat skips
Python 2 semantics: c_in / k_groups is integer division (ints passed as Py2Int).
Usage: python tests/data/measure/paddle/paddle_model_stat.py (model_stat.py beside it: see
../README.md); prints Python 2 and Python 3 totals per model.
"""
import torch
import torch.fx as fx
import torch.nn as nn
import torch.nn.functional as F
import torchvision

import model_stat


class Py2Int(int):
    def __truediv__(self, other):
        return Py2Int(int(self) // int(other))

    def __mul__(self, o):
        return Py2Int(int(self) * int(o))
    __rmul__ = __mul__


class Var:
    def __init__(self, shape):
        self.shape = shape


class Op:
    def __init__(self, type_, inputs, outputs, attrs):
        self.type, self._in, self._out, self._attrs = type_, inputs, outputs, attrs

    def input(self, k):
        return self._in.get(k, [])

    def output(self, k):
        return self._out.get(k, [])

    def attr(self, k):
        return self._attrs[k]


def render(model, res, py2=True):
    model.eval()
    gm = fx.symbolic_trace(model)
    shapes = {}
    # shape propagation
    from torch.fx.passes.shape_prop import ShapeProp
    ShapeProp(gm).propagate(torch.zeros(1, 3, res, res))
    I = Py2Int if py2 else int
    vars_, ops, n = {}, [], [0]

    def var(shape, batch=True):
        name = f"v{n[0]}"; n[0] += 1
        vars_[name] = Var(tuple([-1] + [I(d) for d in shape[1:]]) if batch else tuple(I(d) for d in shape))
        return name

    mods = dict(gm.named_modules())
    fc = [0]
    for node in gm.graph.nodes:
        if node.op not in ("call_module", "call_function", "call_method"):
            continue
        out_shape = tuple(node.meta["tensor_meta"].shape) if "tensor_meta" in node.meta and hasattr(node.meta["tensor_meta"], "shape") else None
        args = [a for a in node.args if isinstance(a, fx.Node)]
        in_shape = tuple(args[0].meta["tensor_meta"].shape) if args and "tensor_meta" in args[0].meta and hasattr(args[0].meta["tensor_meta"], "shape") else None
        target = mods[node.target] if node.op == "call_module" else node.target
        if isinstance(target, nn.Conv2d):
            w = target.weight.shape
            f = var(w, batch=False)
            ops.append(Op("depthwise_conv2d" if target.groups > 1 and target.groups == target.in_channels else "conv2d",
                          {"Filter": [f], "Input": [var(in_shape)], "Bias": []},
                          {"Output": [var(out_shape)]}, {"groups": I(target.groups)}))
        elif isinstance(target, nn.BatchNorm2d):
            ops.append(Op("batch_norm", {"X": [var(in_shape)]}, {"Y": [var(out_shape)]}, {}))
        elif isinstance(target, nn.ReLU) or target is F.relu or target is torch.relu:
            ops.append(Op("relu", {"X": [var(in_shape)]}, {"Out": [var(out_shape)]}, {}))
        elif isinstance(target, nn.MaxPool2d):
            k = target.kernel_size if isinstance(target.kernel_size, tuple) else (target.kernel_size,) * 2
            ops.append(Op("pool2d", {"X": [var(in_shape)]}, {"Out": [var(out_shape)]}, {"ksize": list(k)}))
        elif isinstance(target, nn.AdaptiveAvgPool2d) or (node.op == "call_method" and target == "mean"):
            ops.append(Op("pool2d", {"X": [var(in_shape)]}, {"Out": [var(out_shape + (1, 1) if len(out_shape) == 2 else out_shape)]},
                          {"ksize": [1, 1]}))
        elif isinstance(target, nn.Linear):
            y = var((target.in_features, target.out_features), batch=False)
            name = f"fc_{fc[0]}.tmp_0"; fc[0] += 1
            vars_[name] = Var((-1, target.out_features))
            ops.append(Op("mul", {"X": [var(in_shape)], "Y": [y]}, {"Out": [name]}, {}))
        elif isinstance(target, (nn.Softmax, nn.Dropout, nn.Flatten)) or node.op in ("call_function", "call_method"):
            pass  # ops model_stat skips (elementwise_add, concat, reshape2, transpose2, split, softmax)
        else:
            raise ValueError(f"no rendering for {node.op} {target}")
    return vars_, ops


def mobilenet_v1(alpha, classes=1000):
    """calc's mobilenet_v1 (paper Table 1, last dw stride 1; channels max(int(c*alpha), 8))."""
    ch = lambda c: max(int(c * alpha), 8)
    rows = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]
    layers = [nn.Conv2d(3, ch(32), 3, 2, 1, bias=False), nn.BatchNorm2d(ch(32)), nn.ReLU()]
    c = ch(32)
    for co, s in rows:
        layers += [nn.Conv2d(c, c, 3, s, 1, groups=c, bias=False), nn.BatchNorm2d(c), nn.ReLU(),
                   nn.Conv2d(c, ch(co), 1, bias=False), nn.BatchNorm2d(ch(co)), nn.ReLU()]
        c = ch(co)
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, classes), nn.Softmax(dim=1))


if __name__ == "__main__":
    cases = [(f"mobilenet_v1 alpha={a}", lambda a=a: mobilenet_v1(a)) for a in (0.25, 0.5, 0.75, 1.0)]
    cases += [(f"shufflenet_v2 x{a}", lambda a=a: getattr(torchvision.models, f"shufflenet_v2_x{a}".replace(".", "_"))())
              for a in ("0.5", "1.0", "1.5", "2.0")]
    cases += [("resnext50_32x4d", torchvision.models.resnext50_32x4d), ("resnet50", torchvision.models.resnet50)]
    print(f"torch {torch.__version__} torchvision {torchvision.__version__}")
    for name, make in cases:
        m = make()
        p2, f2 = model_stat.totals(*render(m, 224, py2=True))
        p3, f3 = model_stat.totals(*render(m, 224, py2=False))
        print(f"{name:<26} py2: params {p2:>12,} flops {f2:>15,}   py3: params {p3:>12,} flops {f3:>15,}")
