"""The element-wise aten ops one optimizer step runs per parameter tensor, and the state it
keeps (torch 2.14.1 CPU, single-tensor implementations, default hyper-parameters): SGD, SGD with
momentum, Adam and AdamW (``foreach=False``) on a 1000-element parameter, the second step's ops
logged with a TorchDispatchMode (the steady state), the state's bytes per parameter.  Pinned in
tests/test_training.py (the optimizer FLOPs and state).
  python tests/data/measure/training/optim_ops.py"""
import torch
from torch.utils._python_dispatch import TorchDispatchMode

class Ops(TorchDispatchMode):
    def __init__(self): super().__init__(); self.ops = []
    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if isinstance(out, torch.Tensor) and out.numel() > 1:
            self.ops.append((str(func.overloadpacket.__name__), {k: v for k, v in (kwargs or {}).items()}))
        return out

for name, make in [("sgd", lambda p: torch.optim.SGD(p, lr=0.1, foreach=False)),
                   ("momentum", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, foreach=False)),
                   ("adam", lambda p: torch.optim.Adam(p, foreach=False)),
                   ("adamw", lambda p: torch.optim.AdamW(p, foreach=False))]:
    w = torch.nn.Parameter(torch.randn(1000))
    opt = make([w])
    for step in range(2):  # the second step is the steady state (momentum's first clones)
        w.grad = torch.randn(1000)
        mode = Ops()
        with mode:
            opt.step()
    state = sum(t.numel() * t.element_size() for s in opt.state.values() for t in s.values()
                if isinstance(t, torch.Tensor) and t.dim() > 0)
    print(name, [o for o, _ in mode.ops], "state bytes per param:", state / w.numel())
