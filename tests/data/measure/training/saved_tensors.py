"""Which tensors autograd saves for the backward, op by op (torch 2.14.1, CPU).

Each op (conv with and without input gradient, frozen, depthwise; BN trained and frozen;
activations in and out of place; pools; add, mul, cat, chunk, slice, shuffle, flatten; linear;
dropout; softmax; LRN; zero pad) runs on a small input under
torch.autograd.graph.saved_tensors_hooks, which prints every saved tensor's shape, dtype, storage
bytes and whether it is a parameter, the op's input or its output.  The evidence behind calc's
``saved_for_backward`` rules (calc/layers/backward.py) and tests/test_training.py's layer-by-layer
figures.  Usage: python tests/data/measure/training/saved_tensors.py"""
import torch, torch.nn as nn, torch.nn.functional as F
from torch.autograd.graph import saved_tensors_hooks

def probe(label, fn, *inputs, params=()):
    saved = []
    pstore = {p.untyped_storage().data_ptr() for p in params}
    def pack(t):
        saved.append((tuple(t.shape), str(t.dtype).replace('torch.', ''), t.untyped_storage().data_ptr(),
                      t.untyped_storage().nbytes(), t.untyped_storage().data_ptr() in pstore))
        return t
    with saved_tensors_hooks(pack, lambda t: t):
        out = fn(*inputs)
    ins = {x.untyped_storage().data_ptr(): f"in{i}" for i, x in enumerate(inputs)}
    o = out if isinstance(out, torch.Tensor) else out[0]
    ins.setdefault(o.untyped_storage().data_ptr(), "out")
    print(label)
    for shape, dt, ptr, nb, isp in saved:
        print(f"   {shape} {dt} {nb}B {'PARAM' if isp else ins.get(ptr, 'other')}")

x = torch.randn(2, 8, 6, 6, requires_grad=True)
xn = torch.randn(2, 8, 6, 6)
conv = nn.Conv2d(8, 4, 3, bias=True)
probe("conv, x needs grad", conv, x, params=list(conv.parameters()))
probe("conv, x no grad", conv, xn, params=list(conv.parameters()))
cf = nn.Conv2d(8, 4, 3); cf.requires_grad_(False)
probe("frozen conv, x needs grad", cf, x, params=list(cf.parameters()))
dw = nn.Conv2d(8, 8, 3, groups=8, bias=False)
probe("dw conv", dw, x, params=list(dw.parameters()))
bn = nn.BatchNorm2d(8)
probe("bn train", bn, x, params=list(bn.parameters()) + list(bn.buffers()))
bnf = nn.BatchNorm2d(8); bnf.requires_grad_(False)
probe("bn train frozen, x grad", bnf, x, params=list(bnf.parameters()) + list(bnf.buffers()))
y = x * 1
probe("relu", F.relu, y)
probe("relu_", lambda t: F.relu(t * 1, inplace=True), x)
probe("relu6", F.relu6, y)
probe("relu6_", lambda t: F.relu6(t * 1, inplace=True), x)
probe("hardswish", F.hardswish, y)
probe("hardswish_", lambda t: F.hardswish(t * 1, inplace=True), x)
probe("silu", F.silu, y)
probe("silu_", lambda t: F.silu(t * 1, inplace=True), x)
probe("sigmoid", torch.sigmoid, y)
probe("hardsigmoid", F.hardsigmoid, y)
probe("leaky", F.leaky_relu, y)
probe("leaky_", lambda t: F.leaky_relu(t * 1, inplace=True), x)
probe("maxpool", lambda t: F.max_pool2d(t, 3, 2, 1), y)
probe("maxpool ceil", lambda t: F.max_pool2d(t, 3, 2, 0, ceil_mode=True), y)
probe("avgpool", lambda t: F.avg_pool2d(t, 2, 2), y)
probe("adaptive 1", lambda t: F.adaptive_avg_pool2d(t, 1), y)
probe("adaptive 3", lambda t: F.adaptive_avg_pool2d(t, 3), y)
probe("adaptive 6 (identity size)", lambda t: F.adaptive_avg_pool2d(t, 6), y)
probe("mean", lambda t: t.mean([2, 3]), y)
probe("add", lambda a, b: a + b, y, x)
probe("add_", lambda a, b: (a * 1).add_(b), y, x)
probe("mul gate", lambda a, g: a * g, y, torch.randn(2, 8, 1, 1, requires_grad=True))
probe("cat", lambda a, b: torch.cat([a, b], 1), y, x)
probe("chunk", lambda a: a.chunk(2, 1)[1] * 1, y)
probe("slice", lambda a: a[:, 2:5] * 1, y)
probe("shuffle", lambda a: a.view(2, 2, 4, 6, 6).transpose(1, 2).contiguous().view(2, 8, 6, 6), y)
probe("flatten", lambda a: torch.flatten(a, 1), y)
v = torch.randn(2, 16, requires_grad=True)
lin = nn.Linear(16, 5)
probe("linear", lin, v, params=list(lin.parameters()))
probe("linear x no grad", lin, torch.randn(2, 16), params=list(lin.parameters()))
lf = nn.Linear(16, 5); lf.requires_grad_(False)
probe("frozen linear", lf, v, params=list(lf.parameters()))
lnb = nn.Linear(16, 5, bias=False)
probe("linear nobias", lnb, v, params=list(lnb.parameters()))
torch.manual_seed(0)
probe("dropout train", lambda t: F.dropout(t, 0.5, True), v * 1)
probe("dropout_ train", lambda t: F.dropout(t * 1, 0.5, True, inplace=True), v)
probe("softmax", lambda t: F.softmax(t, 1), v * 1)
probe("lrn", lambda t: F.local_response_norm(t, 5), y)
probe("zeropad", lambda t: F.pad(t, (1, 0, 1, 0)), y)
