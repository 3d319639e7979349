"""Reference training costs of torchvision models, measured with torch itself.

  python tests/data/measure/training/measure.py MODEL BATCH [--fake-cuda] [--freeze P1,P2] [--half] [--res R]

torch 2.14.1, torchvision 0.29.1, CPU wheel (no GPU on this machine).  Train mode, 224x224,
1000 classes, loss = output.sum().  The figures of tests/test_training.py (run_all.sh and
run_more.sh beside this file run every case it pins).  Prints one JSON object:

- forward_flops / backward_flops_raw: torch.utils.flop_counter.FlopCounterMode totals (conv and
  matmul only, 2 per MAC) of the forward and of loss.backward();
- groups_overcount: what FlopCounterMode's conv_backward_flop adds for grouped convs (its
  grad-weight term counts C_in where it should count C_in / groups), computed from each
  grouped conv's shapes; backward_flops = raw - overcount;
- --fake-cuda: the forward under FakeTensorMode on a fake 'cuda' device (no GPU needed), so
  the ops take their CUDA paths (dropout's fused kernel and its bool mask); backward is not run
  there (the autograd engine needs a real CUDA context), so no backward FLOPs;
- saved_bytes: bytes of the tensors autograd saves in the forward (torch.autograd.graph.
  saved_tensors_hooks), each storage once (by untyped_storage().data_ptr(), or by storage
  identity under --fake-cuda where fake tensors have no data pointer), parameter and buffer
  storages excluded; saved_by_dtype splits it.
"""
import argparse, json, sys
import torch, torchvision
from torch.autograd.graph import saved_tensors_hooks
from torch.utils.flop_counter import FlopCounterMode
from torch.multiprocessing.reductions import StorageWeakRef

ap = argparse.ArgumentParser()
ap.add_argument("model"); ap.add_argument("batch", type=int)
ap.add_argument("--fake-cuda", action="store_true")
ap.add_argument("--freeze", default="")
ap.add_argument("--half", action="store_true")
ap.add_argument("--res", type=int, default=224)
args = ap.parse_args()

def run():
    torch.manual_seed(0)
    dev = "cuda" if args.fake_cuda else "cpu"
    dtype = torch.float16 if args.half else torch.float32
    torch.set_default_dtype(dtype)  # build in it (fake tensors cannot be swapped by .to())
    m = getattr(torchvision.models, args.model)(weights=None)
    m.train()
    prefixes = [p for p in args.freeze.split(",") if p]
    for name, p in m.named_parameters():
        if any(name == q or name.startswith(q + ".") for q in prefixes):
            p.requires_grad_(False)
    x = torch.randn(args.batch, 3, args.res, args.res, dtype=dtype, device=dev)
    state = list(m.parameters()) + list(m.buffers())
    key = (lambda t: StorageWeakRef(t.untyped_storage())) if args.fake_cuda else \
          (lambda t: t.untyped_storage().data_ptr())
    excluded = {key(t) for t in state}
    seen, by_dtype, keep = set(), {}, []
    def pack(t):
        k = key(t)
        keep.append(t)
        if k not in excluded and k not in seen:
            seen.add(k)
            nb = t.untyped_storage().nbytes()
            by_dtype[str(t.dtype)] = by_dtype.get(str(t.dtype), 0) + nb
        return t
    # grouped convs: what FlopCounterMode's grad-weight term over-counts
    over = []
    def hook(mod, inp, out):
        if mod.groups > 1 and mod.weight.requires_grad:
            n, co, ho, wo = out.shape
            kh, kw = mod.kernel_size
            true = 2 * n * co * (mod.in_channels // mod.groups) * kh * kw * ho * wo
            over.append((mod.groups - 1) * true)
    hs = [mod.register_forward_hook(hook) for mod in m.modules() if isinstance(mod, torch.nn.Conv2d)]
    fwd = FlopCounterMode(display=False)
    with fwd, saved_tensors_hooks(pack, lambda t: t):
        out = m(x)
    for h in hs: h.remove()
    bwd = FlopCounterMode(display=False)
    if not args.fake_cuda:  # the autograd engine needs a real CUDA context to run backward
        with bwd:
            out.float().sum().backward()
    raw = bwd.get_total_flops()
    return {
        "model": args.model, "batch": args.batch, "device": "fake-cuda" if args.fake_cuda else "cpu",
        "dtype": str(dtype), "freeze": prefixes,
        "forward_flops": fwd.get_total_flops(),
        "forward_by_op": {str(k): v for k, v in fwd.get_flop_counts()["Global"].items()},
        "backward_flops_raw": None if args.fake_cuda else raw, "groups_overcount": sum(over),
        "backward_flops": None if args.fake_cuda else raw - sum(over),
        "backward_by_op": {str(k): v for k, v in bwd.get_flop_counts()["Global"].items()},
        "saved_bytes": sum(by_dtype.values()), "saved_by_dtype": by_dtype,
        "params": sum(p.numel() for p in m.parameters()),
        "trainable": sum(p.numel() for p in m.parameters() if p.requires_grad),
        "torch": torch.__version__, "torchvision": torchvision.__version__,
    }

if args.fake_cuda:
    from torch._subclasses.fake_tensor import FakeTensorMode
    with FakeTensorMode():
        torch.set_default_device("cuda")
        r = run()
else:
    r = run()
print(json.dumps(r))
