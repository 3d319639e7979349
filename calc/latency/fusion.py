"""Fusion: which layers an inference runtime runs as one kernel, and which it leaves to the
framework around the engine.

1. *Engines* (:func:`engine_segments`): the layers a runtime hands to TensorRT form
   segments, each run as one engine; a layer type the runtime does not convert
   (``Runtime.outside_engine``) and every segment shorter than ``min_segment`` layers run as
   framework ops, one kernel each, in fp32.  Segments are kept acyclic, as Paddle's subgraph
   detector keeps them: a layer joins its producer's segment only if no other path leads
   from that segment to the layer.
2. *Inside an engine*: a conv or FC absorbs the chain of per-element ops that follows it (a
   layer type's ``elementwise`` trait: folded batch norm, activations, at most one residual
   add) as long as each intermediate tensor has no other consumer; per-element ops that no
   conv absorbs (an SE gate's multiply, the add and ReLU after it) fuse into one pointwise
   kernel where the runtime does that (``pointwise_fusion``); a concat is elided (its
   producers write into the joined buffer), views and identity pools are free; everything
   else is a kernel of its own.
3. *In the framework*: a conv absorbs the batch norm that follows it (Paddle folds it
   whether or not TensorRT runs the conv); everything else is one op and one kernel.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass, field

from calc.graph import Network, Node
from calc.layers import AdaptiveAvgPool2d, Add, BatchNorm2d, Concat, Conv2d, Linear, Mul


@dataclass
class Kernel:
    """One launched kernel: a head layer plus the per-element ops fused into it."""

    head: Node
    members: list[str]
    inputs: list[str]  # the tensors it reads (node names; the fused-through ones excluded)
    output: str  # the node whose tensor it writes
    fused_ops: list[str] = field(default_factory=list)
    engine: int | None = 0  # the engine (segment) that runs it; None: a framework op

    @property
    def name(self) -> str:
        return self.head.name

    @property
    def op(self) -> str:
        return "+".join([self.head.layer.op, *self.fused_ops])

    @property
    def in_framework(self) -> bool:
        return self.engine is None


@dataclass
class Plan:
    """How a runtime executes a network: its kernels, how many engines, and the tensors that
    cross into or out of each engine (where a reduced-precision engine converts from and
    to the framework's fp32)."""

    kernels: list[Kernel]
    engines: int
    crossings: list[tuple[str, int]]  # (tensor's node, engine): each tensor entering or leaving an engine

    @property
    def framework_ops(self) -> int:
        """Ops the framework dispatches: each engine and each layer left outside them."""
        return self.engines + sum(k.in_framework for k in self.kernels)


def consumers(net: Network) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {n.name: [] for n in net.nodes()}
    for n in net.layers():
        for src in n.inputs:
            out[src].append(n.name)
    return out


def _free(node: Node, net: Network) -> bool:
    """A layer that launches nothing: a view, a train-only layer, an identity pool."""
    return node.train_only or node.layer.aliases_input or _identity(node, net)


def engine_segments(net: Network, runtime=None) -> dict[str, int | None]:
    """The engine of every layer (``None``: run by the framework), for ``runtime``."""
    from calc.latency.runtimes import find_runtime

    runtime = find_runtime(runtime)
    seg: dict[str, int | None] = {}
    deps: dict[str, frozenset[int]] = {}  # the segments among a node's ancestors (its own included)
    sizes: dict[int, int] = {}
    for node in net.layers():
        above = frozenset().union(*(deps.get(s, frozenset()) for s in node.inputs))
        chosen = None
        if node.layer.op not in runtime.outside_engine:
            for s in node.inputs:
                cand = seg.get(s)
                if cand is None:
                    continue
                # joining cand closes a cycle if another input depends on cand through a path
                # that leaves it
                if all(seg.get(q) == cand or cand not in deps.get(q, ()) for q in node.inputs):
                    chosen = cand
                    break
            if chosen is None:
                chosen = len(sizes)
                sizes[chosen] = 0
            if not _free(node, net):
                sizes[chosen] += 1
        seg[node.name] = chosen
        deps[node.name] = above | ({chosen} if chosen is not None else frozenset())
    small = {s for s, n in sizes.items() if n < runtime.min_segment}
    kept = sorted(set(sizes) - small)
    renumber = {s: i for i, s in enumerate(kept)}
    return {name: (None if s is None or s in small else renumber[s]) for name, s in seg.items()}


#: plans already made: (id(net), runtime) -> (a weak reference to the net, its node count, plan)
_PLANS: dict[tuple[int, str], tuple[weakref.ref, int, Plan]] = {}


def plan(net: Network, runtime=None) -> Plan:
    """The kernels of ``net`` under ``runtime`` (default: the 2020 Paddle-TensorRT runtime),
    grouped as TensorRT fuses them, with the engines and their boundary tensors.  Remembered
    per network (until a node is added to it): every batch size and precision shares it."""
    from calc.latency.runtimes import find_runtime

    runtime = find_runtime(runtime)
    key = (id(net), runtime.key)
    hit = _PLANS.get(key)
    if hit is not None and hit[0]() is net and hit[1] == len(net):
        return hit[2]
    if len(_PLANS) > 256:
        _PLANS.clear()
    p = _make_plan(net, runtime)
    _PLANS[key] = (weakref.ref(net), len(net), p)
    return p


def _make_plan(net: Network, runtime) -> Plan:
    engine = engine_segments(net, runtime)
    users = consumers(net)
    kernel_of: dict[str, Kernel] = {}  # node name -> the kernel that writes it
    kernels: list[Kernel] = []
    for node in net.layers():
        layer, e = node.layer, engine[node.name]
        if _free(node, net) or (isinstance(layer, Concat) and e is not None):
            continue
        if layer.elementwise:
            k = _fusion_target(node, users, kernel_of, e, runtime.pointwise_fusion)
            if k is not None:
                k.inputs.extend(s for s in node.inputs if s != k.output)
                k.members.append(node.name)
                k.fused_ops.append(layer.op)
                k.output = node.name
                kernel_of[node.name] = k
                continue
        k = Kernel(node, [node.name], list(node.inputs), node.name, engine=e)
        kernels.append(k)
        kernel_of[node.name] = k
    engines = len({e for e in engine.values() if e is not None})
    return Plan(kernels, engines, _crossings(net, engine, users))


def fuse(net: Network, runtime=None) -> list[Kernel]:
    """The kernels of ``net`` under ``runtime`` (see :func:`plan`)."""
    return plan(net, runtime).kernels


def _crossings(net: Network, engine, users) -> list[tuple[str, int]]:
    """Tensors entering an engine from outside it (the network input included) or leaving
    it (to a framework op, another engine, or as the network's output), with the engine."""
    out = []
    for node in net.nodes():
        mine = engine.get(node.name)
        readers = {engine[u] for u in users[node.name]}
        out += [(node.name, r) for r in sorted(r for r in readers if r is not None and r != mine)]
        if mine is not None and (node.name == net.output or any(r != mine for r in readers)):
            out.append((node.name, mine))
    return out


def _identity(node: Node, net: Network) -> bool:
    """An adaptive pool to the size it already receives (torchvision's AlexNet and VGG heads
    at 224) copies its input: engines drop it, and PaddleClas' models do not have it."""
    return isinstance(node.layer, AdaptiveAvgPool2d) and net.input_shapes(node)[0] == node.shape


def _fusion_target(node: Node, users, kernel_of, engine, pointwise: bool) -> Kernel | None:
    """The kernel whose output feeds ``node`` and nothing else, if ``node`` may join it: a
    conv/FC of the same engine (at most one residual add); a pointwise kernel of the same
    engine (a multiply or a per-element op that no conv took) where the runtime fuses
    pointwise chains; in the framework, only a batch norm into its conv."""
    for src in reversed(node.inputs):
        k = kernel_of.get(src)
        if k is None or k.output != src or k.engine != engine or users[src] != [node.name]:
            continue
        head = k.head.layer
        if engine is None:
            if isinstance(head, Conv2d) and isinstance(node.layer, BatchNorm2d) and not k.fused_ops:
                return k
            continue
        if isinstance(head, (Conv2d, Linear)):
            if isinstance(node.layer, Add) and "Add" in k.fused_ops:
                continue
            return k
        if pointwise and (head.elementwise or isinstance(head, Mul)):
            return k
    return None
