"""Activation memory: the feature-memory sum and the peak of live tensors.

*Feature memory* (convnet-burden's definition) is the sum of every layer's
output, as if every intermediate tensor were kept.

*Peak memory* simulates inference in the forward order: a layer's output is
allocated when it runs and freed once its last consumer has run; a view
(``aliases_input``: Flatten, Dropout at inference, ChannelSplit) shares its
input's storage and keeps it alive.  The network input is live from the start
and the network output to the end, so a residual branch keeps its block input
alive until the add.  No in-place reuse and no workspace are assumed: a runtime
that runs ReLU in place or fuses conv+BN+ReLU needs less.  Training-only nodes (auxiliary
heads) do not run at inference and hold nothing.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable

from calc.graph import Network, Node
from calc.layers.base import numel


def storage_roots(net: Network) -> dict[str, str]:
    """Map each node to the node whose allocation holds its data."""
    root: dict[str, str] = {}
    for node in net.nodes():
        if node.layer is not None and node.layer.aliases_input:
            root[node.name] = root[node.inputs[0]]
        else:
            root[node.name] = node.name
    return root


def peak_live_elements(net: Network) -> int:
    """Largest number of activation elements alive at once (per sample)."""
    return peak_live(net, lambda node: numel(node.shape), max)


def peak_live(net: Network, size: Callable[[Node], Any], maximum: Callable[[Any, Any], Any]) -> Any:
    """The peak of :func:`peak_live_elements` with each tensor's size given by ``size(node)``
    and ``maximum`` taking the larger of two sizes (``max``, or ``numpy.maximum`` when the
    sizes are arrays: :mod:`calc.grid` evaluates many input sizes at once)."""
    order = [n for n in net.nodes() if not n.train_only]
    root = storage_roots(net)
    last_use: dict[str, int] = {}
    for i, node in enumerate(order):
        last_use.setdefault(root[node.name], i)
        for src in node.inputs:
            last_use[root[src]] = i
    last_use[root[net.output]] = len(order)  # the result outlives the pass
    frees: dict[int, list[str]] = defaultdict(list)
    for r, i in last_use.items():
        frees[i].append(r)
    sizes = {n.name: size(n) for n in order if root[n.name] == n.name}
    live = peak = 0
    for i, node in enumerate(order):
        live = live + sizes.get(node.name, 0)
        peak = maximum(peak, live)
        for r in frees.get(i, ()):
            live = live - sizes[r]
    return peak
