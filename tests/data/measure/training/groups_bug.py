"""FlopCounterMode's conv backward and `groups` (torch 2.14.1, CPU):
  python tests/data/measure/training/groups_bug.py
A 3x3 conv on 1x32x8x8 (padding 1) with groups g, forward and ``y.sum().backward()`` each under
torch.utils.flop_counter.FlopCounterMode; the true backward is 2 x (input-gradient MACs +
weight-gradient MACs) = 2 x 2 x forward MACs, and the printout shows the grad-weight term
``groups`` times too large (the correction tests/test_training.py applies)."""
import torch
from torch.utils.flop_counter import FlopCounterMode
for g in (1, 4, 32):
    conv = torch.nn.Conv2d(32, 32, 3, padding=1, groups=g, bias=False)
    x = torch.randn(1, 32, 8, 8, requires_grad=True)
    fwd, bwd = FlopCounterMode(display=False), FlopCounterMode(display=False)
    with fwd:
        y = conv(x)
    with bwd:
        y.sum().backward()
    macs = 64 * 32 * (32 // g) * 9
    print(f"groups={g}: forward {fwd.get_total_flops()} (2 x MACs = {2 * macs}), backward "
          f"{bwd.get_total_flops()} (true {4 * macs}; grad-input {2 * macs} + grad-weight "
          f"{bwd.get_total_flops() - 2 * macs} = {(bwd.get_total_flops() - 2 * macs) // (2 * macs)} x the true {2 * macs})")
