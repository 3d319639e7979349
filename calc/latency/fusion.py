"""Fusion: which layers an inference engine (TensorRT) runs as one kernel.

A conv or FC absorbs the chain of per-element layers that follows it (a layer type's
``elementwise`` trait: folded batch norm, activations, at most one residual add) as long
as each intermediate tensor has no other consumer; a concat is elided (its producers write
into the joined buffer), views and identity pools are free; everything else is a kernel
of its own.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from calc.graph import Network, Node
from calc.layers import AdaptiveAvgPool2d, Add, Concat, Conv2d, Linear


@dataclass
class Kernel:
    """One launched kernel: a head layer plus the per-element ops fused into it."""

    head: Node
    members: list[str]
    inputs: list[str]  # the tensors it reads (node names; the fused-through ones excluded)
    output: str  # the node whose tensor it writes
    fused_ops: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.head.name

    @property
    def op(self) -> str:
        return "+".join([self.head.layer.op, *self.fused_ops])


def consumers(net: Network) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {n.name: [] for n in net.nodes()}
    for n in net.layers():
        for src in n.inputs:
            out[src].append(n.name)
    return out


def fuse(net: Network) -> list[Kernel]:
    """Group layers into kernels as TensorRT does for CNNs: a conv or FC absorbs the chain
    of per-element ops (BN, activation, at most one residual add) that follow it, as long
    as each intermediate tensor has no other consumer; concats are elided (producers write
    into the joined buffer) and views are free; every other layer is its own kernel."""
    users = consumers(net)
    kernel_of: dict[str, Kernel] = {}  # node name -> the kernel that writes it
    kernels: list[Kernel] = []
    for node in net.layers():
        layer = node.layer
        if node.train_only or layer.aliases_input or isinstance(layer, Concat) or _identity(node, net):
            continue
        if layer.elementwise:
            k = _fusion_target(node, users, kernel_of)
            if k is not None:
                k.inputs.extend(s for s in node.inputs if s != k.output)
                k.members.append(node.name)
                k.fused_ops.append(layer.op)
                k.output = node.name
                kernel_of[node.name] = k
                continue
        k = Kernel(node, [node.name], list(node.inputs), node.name)
        kernels.append(k)
        kernel_of[node.name] = k
    return kernels


def _identity(node: Node, net: Network) -> bool:
    """An adaptive pool to the size it already receives (torchvision's AlexNet and VGG heads
    at 224) copies its input: engines drop it, and PaddleClas' models do not have it."""
    return isinstance(node.layer, AdaptiveAvgPool2d) and net.input_shapes(node)[0] == node.shape


def _fusion_target(node: Node, users, kernel_of) -> Kernel | None:
    """The conv/FC kernel whose output feeds ``node`` and nothing else, if any."""
    for src in reversed(node.inputs):
        k = kernel_of.get(src)
        if k is None or k.output != src or not isinstance(k.head.layer, (Conv2d, Linear)):
            continue
        if users[src] != [node.name]:
            continue
        if isinstance(node.layer, Add) and "Add" in k.fused_ops:
            continue
        return k
    return None
