"""Declare a small network with the Python API, then compare it with MobileNet v2.

    python examples/design_on_paper.py

A three-stage depthwise-separable network for 32x32 inputs (CIFAR-sized), written
from a stage table; every number it prints comes from closed-form formulas.
"""
from __future__ import annotations

import archs
from calc.blocks import classifier, conv_bn
from calc.counting import analyze
from calc.graph import Network
from calc.layers import ReLU6
from calc.units import binary, si

# (channels, stride, repeats) of each stage: the table one would sketch on paper
STAGES = [(64, 1, 2), (128, 2, 2), (256, 2, 2)]


def tiny_separable(res: int = 32, classes: int = 10) -> Network:
    net = Network("tiny_separable", (3, res, res))
    x = conv_bn(net, "stem", "input", 32, 3, act=ReLU6)
    for s, (c, stride, n) in enumerate(STAGES, start=1):
        for i in range(n):
            c_in = net[x].shape[0]
            name = f"stage{s}.block{i}"
            x = conv_bn(net, f"{name}.dw", x, c_in, 3, stride=stride if i == 0 else 1, groups=c_in, act=ReLU6)
            x = conv_bn(net, f"{name}.pw", x, c, 1, act=ReLU6)
    classifier(net, x, classes)
    return net


def show(a) -> None:
    t = a.totals
    print(f"{a.arch:<16} params {si(t['params']):>9}  MACs {si(t['macs']):>9}  "
          f"FLOPs[{a.convention.name}] {si(t['flops']):>9}  peak activations {binary(t['peak_memory_bytes'])}")


if __name__ == "__main__":
    mine = analyze(tiny_separable(), convention="flops")
    show(mine)
    show(analyze(archs.build("mobilenet_v2", alpha=0.35, res=32, classes=10), convention="flops"))
    # where the work goes, per stage (dotted-name prefix)
    stages: dict[str, int] = {}
    for layer in mine.layers:
        stages[layer.name.split(".")[0]] = stages.get(layer.name.split(".")[0], 0) + layer.macs
    for stage, macs in stages.items():
        print(f"  {stage:<8} {macs / mine.totals['macs']:6.1%} of MACs")
