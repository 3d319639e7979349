"""Training-step facts for the new layer types (torch 2.14.1, CPU): the ops the backward runs
(TorchDispatchMode) and the tensors autograd saves (saved_tensors_hooks), for a conv called three
times (PolyNet's shared conv; also its FlopCounterMode counts), a scale, a crop (view and copy) and
an embedding.  Pinned in tests/layers/test_{shared,scale}.py.
Usage: python tests/data/measure/zoo/train_probe.py"""
import torch, torch.nn as nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode

class Log(TorchDispatchMode):
    def __init__(self): super().__init__(); self.ops = []
    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        self.ops.append((str(func), tuple(getattr(a, "shape", None) for a in args if hasattr(a, "shape"))))
        return out

def saved(fn, *inputs):
    seen = []
    def pack(t):
        seen.append((tuple(t.shape), str(t.dtype), t.requires_grad and t.is_leaf)); return t
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        y = fn(*inputs)
    return y, seen

torch.manual_seed(0)
conv = nn.Conv2d(8, 8, 3, padding=1, bias=False)
x = torch.randn(2, 8, 6, 6, requires_grad=True)
def shared(x):
    for _ in range(3):
        x = conv(x)
    return x
y, s = saved(shared, x)
print("shared conv x3 saved:", s)
with Log() as log:
    y.sum().backward()
print("shared conv x3 backward ops:", [o for o in log.ops if "convolution" in o[0] or "add" in o[0]])
conv.weight.grad = None
with FlopCounterMode(display=False) as fc:
    shared(x).sum().backward()
print("flop counter:", {str(k): v for k, v in fc.get_flop_counts()["Global"].items()}, "fwd MACs per use", 2*8*8*9*36)

for name, fn, inp in (("scale", lambda t: t * 0.5, torch.randn(2, 4, requires_grad=True)),
                      ("crop view", lambda t: t[:, :, 1:, 1:], torch.randn(1, 2, 4, 4, requires_grad=True)),
                      ("crop copy", lambda t: t[:, :, 1:, 1:].contiguous(), torch.randn(1, 2, 4, 4, requires_grad=True))):
    y, s = saved(fn, inp)
    print(name, "saved:", s)
emb = nn.Embedding(10, 4)
ids = torch.randint(0, 10, (2, 5))
y, s = saved(emb, ids)
print("embedding saved:", s)
with Log() as log:
    y.sum().backward()
print("embedding backward ops:", log.ops)
