"""Per-layer and total costs of a network under a counting convention."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from calc.conventions import Convention, get_convention
from calc.dtypes import dtype_bytes
from calc.errors import CalcError
from calc.graph import INPUT, Network
from calc.layers.base import PARAM_KINDS, Shape, numel
from calc.memory import peak_live

TOTAL_KEYS = (
    "params", "macs", "flops", "activations", "feature_memory_bytes",
    "peak_memory_bytes", "param_memory_bytes", "memory_traffic_bytes", "convention_params",
    "convention_feature_memory_bytes",
)
QUANTITIES = ("params", "macs", "flops")


@dataclass(frozen=True, slots=True)
class LayerCost:
    """One layer's costs for the whole batch (params are per network)."""

    name: str
    op: str
    impl: str
    input_shapes: tuple[Shape, ...]
    output_shape: Shape
    params: int
    macs: int
    flops: int
    activations: int
    output_bytes: int
    param_bytes: int
    traffic_bytes: int
    counts: dict[str, int]  # the layer's quantities for the whole batch
    param_counts: dict[str, int]  # its parameters by kind (weights, bias, affine ...)
    convention_params: int  # params as the convention counts them (= params for most)
    shares: str | None = None  # the layer whose parameters this one reuses (they are counted there)
    #: the output's elements in the convention's feature memory (= activations unless it has
    #: memory rules: an in-place ReLU 0, a kept dropout's mask and output 2 x)
    convention_activations: int | None = None

    def to_dict(self) -> dict[str, Any]:
        d = {
            "name": self.name, "op": self.op, "impl": self.impl,
            "input_shapes": [list(s) for s in self.input_shapes],
            "output_shape": list(self.output_shape),
            "params": self.params, "macs": self.macs, "flops": self.flops,
            "activations": self.activations, "output_bytes": self.output_bytes,
            "param_bytes": self.param_bytes, "traffic_bytes": self.traffic_bytes,
            "convention_params": self.convention_params,
        }
        if self.shares:  # an extra key, only on the layers that reuse another's parameters
            d["shares"] = self.shares
        return d


@dataclass
class Analysis:
    arch: str
    config: dict[str, Any]
    batch: int
    input_shape: Shape
    dtype: str
    convention: Convention
    layers: list[LayerCost]
    totals: dict[str, int]
    notes: list[str] = field(default_factory=list)
    #: op -> number of layers whose arithmetic this convention leaves out
    uncounted: dict[str, int] = field(default_factory=dict)

    @property
    def input(self) -> list[int]:
        return [self.batch, *self.input_shape]

    def per_sample(self, quantity: str, convention: Convention | str | None = None,
                   skip: Callable[[LayerCost], bool] | None = None) -> int:
        """``params``, ``macs`` or ``flops`` for one input, under ``convention`` (default:
        the analysis' own), leaving out the layers ``skip`` selects.  No rebuild: the
        layers' quantities are re-weighed, so any convention can be read off one analysis."""
        if quantity not in QUANTITIES:
            raise CalcError(f"quantity must be one of {', '.join(QUANTITIES)}, received {quantity!r}")
        conv = self.convention if convention is None else _convention(convention)
        layers = [c for c in self.layers if skip is None or not skip(c)]
        if quantity == "params":
            return sum(conv.params(c.op, c.param_counts, c.params) for c in layers)
        if quantity == "macs":
            return sum(c.macs for c in layers) // self.batch
        return sum(conv.cost(c.op, c.impl, c.counts) for c in layers) // self.batch


def _convention(convention: str | Convention) -> Convention:
    return convention if isinstance(convention, Convention) else get_convention(convention)


def in_place_inputs(net: Network) -> set[str]:
    """The layers whose (first) input feeds no other layer: an op that may overwrite it (a
    convention's "in_place" memory rule; autonn's ReLU short-circuit, ``Net/optimizeVars.m``)."""
    readers: dict[str, int] = {}
    for node in net.layers():
        if not node.train_only:
            for src in set(node.inputs):
                readers[src] = readers.get(src, 0) + 1
    return {n.name for n in net.layers() if n.inputs and readers.get(n.inputs[0]) == 1}


def analyze(net: Network, *, batch: int = 1, dtype: str = "fp32", convention: str | Convention = "macs") -> Analysis:
    """Count params, MACs, FLOPs (under ``convention``) and memory for ``batch``
    inputs of element type ``dtype``."""
    conv = _convention(convention)
    layers: list[LayerCost] = []
    uncounted: dict[str, int] = {}
    totals = _count(net, batch, dtype, conv, layers, uncounted)
    notes = list(net.notes)
    sharers = [n for n in net.layers() if n.shares is not None]
    if sharers:
        notes.append(f"{len(sharers)} layers reuse another layer's parameters (shared weights): the parameters "
                     f"are counted once, on the layer that owns them; MACs, FLOPs and memory per use")
    aux = [c for c, n in zip(layers, net.layers()) if n.train_only]
    if aux:
        notes.append(f"{len(aux)} layers run in training only (an auxiliary head): their "
                     f"{sum(c.params for c in aux):,} params are counted, their MACs, FLOPs and memory are not")
    return Analysis(
        arch=net.name, config=dict(net.config), batch=batch, input_shape=net.input_shape,
        dtype=dtype, convention=conv, layers=layers, totals=totals, notes=notes,
        uncounted=uncounted,
    )


def _param_sum(counts: dict[str, int]) -> int:
    """The parameters of every kind in a layer's ``param_counts`` (derived entries such as
    ``weights_regrouped`` left out)."""
    total = 0
    for k in PARAM_KINDS:
        total += counts.get(k, 0)
    return total


def check_batch(batch: Any) -> None:
    """A batch size is an integer >= 1 (``analyze``, ``totals`` and the sweeps' grid)."""
    if not isinstance(batch, int) or batch < 1:
        raise CalcError(f"batch must be an integer >= 1, received {batch!r}")


def totals(net: Network, *, batch: int = 1, dtype: str = "fp32", convention: str | Convention = "macs") -> dict[str, int]:
    """``analyze(net, ...).totals``, without the per-layer records (what ``calc compare``
    and a sweep's points print): the same loop, the same integers."""
    return _count(net, batch, dtype, _convention(convention), None, None)


def _count(net: Network, batch: int, dtype: str, conv: Convention, layers: list[LayerCost] | None,
           uncounted: dict[str, int] | None) -> dict[str, int]:
    """The totals of ``net``; each layer's record appended to ``layers`` and the ops the
    convention leaves out counted in ``uncounted`` (when they are given)."""
    check_batch(batch)
    width = dtype_bytes(dtype)
    flops_rule = get_convention("flops")
    in_place_ok = in_place_inputs(net) if conv.memory_rules is not None else None
    elems = {INPUT: numel(net.input_shape)}
    cached: dict[tuple[str, str], tuple] = {}
    records = layers is not None
    t_params = t_macs = t_flops = t_act = t_traffic = t_conv_params = t_conv_act = 0
    #: (layer, input shapes) -> its parameter counts, their sum and its quantities: one layer
    #: object used by many nodes (a spec file's repeated layers) on the same shapes is counted once
    made: dict[tuple, list] = {}
    shapes = {n.name: n.shape for n in net.nodes()}
    for node in net.layers():
        layer = node.layer
        op = layer.op
        ins = [shapes[s] for s in node.inputs]
        memo = (id(layer), *ins)
        found = made.get(memo)
        if found is None:
            full_counts = layer.param_counts(ins)
            found = made[memo] = [full_counts, _param_sum(full_counts), None]
        full_counts = param_counts = found[0]
        params = found[1]
        if node.shared:  # the kinds it reuses are another node's
            param_counts = node.own_param_counts(full_counts)
            params = _param_sum(param_counts)
        t_params += params
        if node.train_only:  # its parameters exist; it does not run at inference
            conv_params = conv.params(op, param_counts, params)
            t_conv_params += conv_params
            if records:
                layers.append(LayerCost(
                    name=node.name, op=op, impl=layer.impl, input_shapes=tuple(ins), output_shape=node.shape,
                    params=params, macs=0, flops=0, activations=0, output_bytes=0, param_bytes=params * width,
                    traffic_bytes=0, counts={}, param_counts=param_counts,
                    convention_params=conv_params, shares=node.shares))
            continue
        counts = found[2]
        if counts is None:  # the output shape follows from the layer and its inputs
            counts = found[2] = layer.counts(ins, node.shape)
        key = (op, layer.impl)
        rules = cached.get(key)
        if rules is None:  # the conventions' weights of this op, looked up once per analysis
            rules = cached[key] = (tuple(conv.weights(*key).items()), flops_rule.weights(*key),
                                   flops_rule.has_rule(*key))
        flops = 0
        for q, w in rules[0]:
            flops += w * counts.get(q, 0)
        # left out: it costs something (or calc has no rule for it at all) but not here
        if uncounted is not None and flops == 0 and \
                (not rules[2] or sum(w * counts.get(q, 0) for q, w in rules[1].items()) > 0):
            uncounted[op] = uncounted.get(op, 0) + 1
        n = elems[node.name] = numel(node.shape)
        out = n * batch
        if layer.aliases_input:
            traffic = 0
        else:  # each use reads its inputs and its weights, shared or not
            read = 0
            skip = layer.shape_only_inputs
            for i, s in enumerate(node.inputs):
                if not (skip and i in skip):
                    read += elems[s]
            traffic = ((read * batch + out) + (found[1] if node.shares is not None else params)) * width
        conv_params = params if conv.param_rules is None else conv.params(op, param_counts, params)
        conv_act = out if in_place_ok is None else out * conv.output_weight(op, node.name in in_place_ok)
        macs = counts.get("macs", 0) * batch
        t_macs += macs
        t_flops += flops * batch
        t_act += out
        t_traffic += traffic
        t_conv_params += conv_params
        t_conv_act += conv_act
        if records:
            layers.append(LayerCost(
                name=node.name, op=op, impl=layer.impl, input_shapes=tuple(ins),
                output_shape=node.shape, params=params, macs=macs,
                flops=flops * batch, activations=out, output_bytes=out * width,
                param_bytes=params * width, traffic_bytes=traffic,
                counts=counts if batch == 1 else {k: v * batch for k, v in counts.items()},
                param_counts=param_counts, convention_params=conv_params, shares=node.shares,
                convention_activations=conv_act,
            ))
    return {
        "params": t_params, "macs": t_macs, "flops": t_flops, "activations": t_act,
        "feature_memory_bytes": t_act * width,
        "peak_memory_bytes": peak_live(net, lambda node: elems[node.name], max) * batch * width,
        "param_memory_bytes": t_params * width,
        "memory_traffic_bytes": t_traffic,
        "convention_params": t_conv_params,
        "convention_feature_memory_bytes": t_conv_act * width,
    }
