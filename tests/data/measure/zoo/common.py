"""Reference counting helpers (outside the project): torch forward hooks on the CPU, and the
2019 torchvision model files (0.2.2.post3, 0.4.0) unpacked beside this file in tv022/ and tv040/
(see ../README.md).  Imported by measure_tv.py, measure_2019.py, measure_old_code_today_tools.py,
thop2019_exact.py and bvlc_googlenet.py beside it; torch 2.14.1 (CPU)."""
import importlib.util, os, sys, types
import torch, torch.nn as nn

torch.set_num_threads(2)

HERE = os.path.dirname(os.path.abspath(__file__))
#: torchvision 0.2.2.post3's and 0.4.0's models/ folders, unpacked from their PyPI wheels
TV022 = os.path.join(HERE, "tv022", "torchvision", "models")
TV040 = os.path.join(HERE, "tv040", "torchvision", "models")


def tv040_mnasnet():
    """torchvision 0.4.0's mnasnet.py as a module, its import of the weight loader cut."""
    src = open(os.path.join(TV040, "mnasnet.py")).read()
    src = src.replace("from .utils import load_state_dict_from_url", "load_state_dict_from_url = None")
    mn = types.ModuleType("tv040_mnasnet"); exec(compile(src, "tv040/mnasnet.py", "exec"), mn.__dict__)
    return mn


def params(model):
    return sum(p.numel() for p in model.parameters())


def conv_linear_macs(model, res):
    """conv + linear MACs (bias excluded) with forward hooks, batch 1, eval mode."""
    total = [0]

    def conv_hook(m, i, o):
        kh, kw = m.kernel_size
        total[0] += o.numel() * (m.in_channels // m.groups) * kh * kw

    def lin_hook(m, i, o):
        total[0] += o.numel() // o.shape[-1] * m.in_features * m.out_features

    hs = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hs.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hs.append(m.register_forward_hook(lin_hook))
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, res, res))
    for h in hs:
        h.remove()
    return total[0]


def leaf_outputs(model, res):
    """sum of output elements of leaf modules (what runs as an nn.Module)."""
    total = [0]
    hs = [m.register_forward_hook(lambda m, i, o: total.__setitem__(0, total[0] + o.numel()))
          for m in model.modules() if len(list(m.children())) == 0]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, res, res))
    for h in hs:
        h.remove()
    return total[0]


def load_file_module(name, path, package=None):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    if package:
        mod.__package__ = package
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def stub_scipy():
    """torchvision 0.2.2's Inception3.__init__ draws truncated-normal weights with scipy.stats."""
    import numpy as np
    stats = types.ModuleType("scipy.stats")

    class _T:
        def __init__(self, *a, **k): pass
        def rvs(self, n): return np.zeros(n, dtype=np.float32)
    stats.truncnorm = _T
    scipy = types.ModuleType("scipy"); scipy.stats = stats
    sys.modules["scipy"] = scipy; sys.modules["scipy.stats"] = stats
