"""The cost of one training step: forward and backward FLOPs, and the memory a step needs.

A step is a forward in training mode (batch norm uses the batch's statistics, dropout
draws a mask; training-only nodes such as auxiliary heads run), a backward and an
optimizer update.  Which gradients each layer computes follows PyTorch's autograd: a
tensor needs a gradient when something before it is trained, so the first layer's input
gradient is never computed, a frozen layer (``freeze``: dotted-name prefixes) computes no
weight gradient, and the layers below the first trained one have no backward at all
(they keep nothing for it either).  A layer whose parameters its declaration fixes
(``Layer.trainable()``: a frozen embedding) is frozen too.  A parameter several layers
share (``Network.add(..., shares=)``) is trained or frozen for all its uses: each use
computes its weight gradient (its MACs), the gradients are summed (``accumulate``, once a
step), and the parameter, its gradient and its optimizer state exist once.

Each layer type owns its closed forms (:meth:`~calc.layers.base.Layer.backward_counts`,
:meth:`~calc.layers.base.Layer.saved_for_backward`); ``training.toml`` weighs them per
convention.  Memory (bytes, for the whole batch):

``param_bytes``
    every parameter, trained or frozen, at the model's dtype;
``grad_bytes``
    one gradient per trained parameter, at that dtype;
``optimizer_bytes``
    per trained parameter: momentum 1 state, Adam/AdamW 2 (exp_avg, exp_avg_sq), SGD none,
    at the dtype; with ``amp`` (mixed precision, Micikevicius et al. 2018, arXiv 1710.03740,
    section 3.1) the states are fp32 and an fp32 master copy of the weights is added
    (ZeRO's accounting, Rajbhandari et al. 2019, arXiv 1910.02054, section 3.1: Adam is 2 +
    2 + 12 bytes per parameter);
``saved_activation_bytes``
    the tensors autograd keeps for the backward, parameters excluded, each storage once (a
    view keeps its whole base alive), attributed to the first layer that saves it;
``peak_bytes``
    a bound on the step's memory: params + grads + optimizer state + all saved activations
    (as at the end of the forward) + the largest backward working set, the activation
    gradients alive while one layer's backward runs (its output's gradient, those it
    produces for its inputs, and those already produced and waiting for their producer,
    such as a residual's), each a buffer of its own.  No allocator, workspace or in-place
    reuse; the loss and its gradient seed are outside the network.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any, Mapping

from calc.conventions import Convention, get_convention
from calc.dtypes import dtype_bytes
from calc.errors import CalcError, did_you_mean
from calc.graph import Network, Node
from calc.layers.backward import SAVED_DTYPES, Grads, Saved
from calc.layers.base import PARAM_KINDS, numel

OPTIMIZERS = ("sgd", "momentum", "adam", "adamw")
#: optimizer state tensors per trained parameter
OPTIMIZER_STATES = {"sgd": 0, "momentum": 1, "adam": 2, "adamw": 2}
TRAIN_DTYPES = ("fp32", "fp16", "bf16")
#: bytes of the fp32 master weight and state under --amp
MASTER_BYTES = 4

TOTAL_KEYS = (
    "forward_macs", "backward_macs", "forward_flops", "backward_flops", "param_bytes", "grad_bytes",
    "optimizer_bytes", "saved_activation_bytes", "peak_bytes",
)


@dataclass(frozen=True)
class TrainingConvention:
    """How a convention weighs a training step (see ``training.toml``)."""

    name: str
    summary: str
    inference: Convention
    forward: Mapping[str, Mapping[str, int]]
    backward: Mapping[str, Mapping[str, int]]
    accumulate: int
    optimizer: Mapping[str, int]

    def forward_cost(self, op: str, impl: str, counts: Mapping[str, int]) -> int:
        if op in self.forward:
            return sum(w * counts.get(q, 0) for q, w in self.forward[op].items())
        return self.inference.cost(op, impl, counts)

    def backward_cost(self, op: str, counts: Mapping[str, int]) -> int:
        return sum(w * counts.get(q, 0) for q, w in self.backward.get(op, {}).items())

    def step_cost(self, optimizer: str, amp: bool) -> int:
        """Optimizer FLOPs per trained parameter."""
        return self.optimizer.get(optimizer, 0) + (self.optimizer.get("amp", 0) if amp else 0)


def parse_training(data: Mapping[str, Any], label: str) -> dict[str, TrainingConvention]:
    from calc.layers import LAYER_TYPES

    out = {}
    for name, d in data.items():
        where = f"{label}: [{name}]"
        for table in ("forward", "backward"):
            for op, rule in d.get(table, {}).items():
                if op not in LAYER_TYPES:
                    raise CalcError(f"{where}: {table} {op!r}: unknown layer type{did_you_mean(op, LAYER_TYPES)}")
                known = LAYER_TYPES[op].backward_quantities
                bad = [q for q in rule if q not in known] if table == "backward" else []
                if bad:
                    raise CalcError(f"{where}: backward {op!r}: {op} reports no quantity {bad[0]!r} "
                                    f"(its backward quantities: {', '.join(known) or 'none'})")
        bad = [k for k in d.get("optimizer", {}) if k not in (*OPTIMIZERS, "amp")]
        if bad:
            raise CalcError(f"{where}: optimizer {bad[0]!r}: not one of {', '.join(OPTIMIZERS)}, amp")
        out[name] = TrainingConvention(name, d["summary"], get_convention(name), d.get("forward", {}),
                                       d.get("backward", {}), d.get("accumulate", 0), d.get("optimizer", {}))
    return out


@cache
def training_conventions() -> dict[str, TrainingConvention]:
    from calc.datafiles import packaged

    return parse_training(packaged("calc", "training.toml"), "calc/training.toml")


def get_training_convention(name: str) -> TrainingConvention:
    table = training_conventions()
    if name not in table:
        get_convention(name)  # an unknown name: the usual message
        raise CalcError(f"convention {name!r} counts inference only; a training step is counted under "
                        f"{' or '.join(table)}")
    return table[name]


@dataclass(frozen=True, slots=True)
class TrainingLayer:
    """One layer's share of a training step, for the whole batch."""

    name: str
    op: str
    params: int
    trained: bool  # it has parameters and they are not frozen
    backward: bool  # it is in the autograd graph
    forward_macs: int
    backward_macs: int
    forward_flops: int
    backward_flops: int
    optimizer_flops: int
    param_bytes: int
    grad_bytes: int
    optimizer_bytes: int
    saved_activation_bytes: int
    backward_working_bytes: int
    peak_bytes: int

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


@dataclass
class TrainingAnalysis:
    arch: str
    config: dict[str, Any]
    batch: int
    input_shape: tuple[int, ...]
    dtype: str
    amp: bool
    optimizer: str
    freeze: tuple[str, ...]
    convention: TrainingConvention
    layers: list[TrainingLayer]
    totals: dict[str, int]
    notes: list[str] = field(default_factory=list)
    #: op -> layers whose step this convention leaves out (they cost something under `flops`)
    uncounted: dict[str, int] = field(default_factory=dict)

    @property
    def input(self) -> list[int]:
        return [self.batch, *self.input_shape]


def frozen_layers(net: Network, prefixes: tuple[str, ...] | list[str]) -> set[str]:
    """The layers whose name is a prefix or starts with ``prefix.``; a prefix that names no
    layer is an error."""
    names = [n.name for n in net.layers()]
    out: set[str] = set()
    for p in prefixes:
        hit = {n for n in names if n == p or n.startswith(p + ".")}
        if not hit:
            heads = {n.split(".")[0] for n in names}
            raise CalcError(f"--freeze {p!r}: no layer of {net.name} is called {p!r} or starts with "
                            f"'{p}.'{did_you_mean(p, heads | set(names))}")
        out |= hit
    return out


def _check_options(batch: int, dtype: str, amp: bool, optimizer: str) -> None:
    if not isinstance(batch, int) or batch < 1:
        raise CalcError(f"batch must be an integer >= 1, received {batch!r}")
    if dtype not in TRAIN_DTYPES:
        raise CalcError(f"a training step is counted in {', '.join(TRAIN_DTYPES)}, received dtype {dtype!r}")
    if amp and dtype == "fp32":
        raise CalcError("--amp (mixed precision) needs --dtype fp16 or bf16 for the model; received fp32")
    if optimizer not in OPTIMIZERS:
        raise CalcError(f"unknown optimizer {optimizer!r}; choose one of: {', '.join(OPTIMIZERS)}")


class _Step:
    """The walk over the network: gradient flags, storages, saved tensors."""

    def __init__(self, net: Network, batch: int, width: int, frozen: set[str]):
        self.net, self.batch, self.width = net, batch, width
        self.requires = {"input": False}  # node -> its output needs a gradient
        self.root = {"input": "input"}  # node -> the node whose storage holds its data
        self.grads: dict[str, Grads] = {}
        self.storages: set[Any] = set()
        self.frozen = frozen

    def bytes_of(self, name: str) -> int:
        return numel(self.net[name].shape) * self.batch * self.width

    def visit(self, node: Node) -> Grads:
        layer = node.layer
        if node.shares is not None:  # a shared parameter is trained, or frozen, for all its uses
            if (node.name in self.frozen) != (node.shares in self.frozen):
                raise CalcError(f"layer {node.name!r} ({layer.op}) reuses the parameters of {node.shares!r}: "
                                f"--freeze must cover both or neither")
            own = sum(self.net.param_counts(node).get(k, 0) for k in PARAM_KINDS)  # kinds it does not share
            trained = self.grads[node.shares].params or (own > 0 and node.name not in self.frozen
                                                         and layer.trainable())
        else:
            trained = (layer.params(self.net.input_shapes(node)) > 0 and node.name not in self.frozen
                       and layer.trainable())
        # no gradient flows into an input read for its shape only (a crop's reference), nor
        # through a layer whose output carries none (region proposals, prior boxes)
        grads = Grads(tuple(self.requires[s] and layer.differentiable and i not in layer.shape_only_inputs
                            for i, s in enumerate(node.inputs)), trained)
        self.grads[node.name] = grads
        self.requires[node.name] = grads.any
        self.root[node.name] = self.root[node.inputs[0]] if layer.trains_as_view() else node.name
        return grads

    def saved_bytes(self, node: Node, saved: tuple[Saved, ...]) -> int:
        """Bytes of the storages ``saved`` adds (those no earlier layer saved)."""
        total = 0
        for i, s in enumerate(saved):
            if s.tensor == "new":
                key = (node.name, i)
                size = s.numel * (self.batch if s.per_sample else 1) * SAVED_DTYPES.get(s.dtype, self.width)
            else:
                key = self.root[node.inputs[s.index] if s.tensor == "input" else node.name]
                size = self.bytes_of(key)
            if key not in self.storages:
                self.storages.add(key)
                total += size
        return total

    def accumulated(self, order: list[Node]) -> dict[str, int]:
        """Elements added where a gradient arrives from several consumers (per producer);
        the parts of one channel split arrive as one gradient."""
        senders: dict[str, set[str]] = {}
        for node in order:
            for src, need in zip(node.inputs, self.grads[node.name].inputs):
                if need:
                    senders.setdefault(src, set()).add(node.layer.op if node.layer.splits_input else node.name)
        return {src: numel(self.net[src].shape) * self.batch * (len(s) - 1) for src, s in senders.items()}

    def working_sets(self, order: list[Node]) -> dict[str, int]:
        """Bytes of activation gradients alive while each layer's backward runs."""
        graph = [n for n in order if self.grads[n.name].any]
        fed = {src for n in graph for src, need in zip(n.inputs, self.grads[n.name].inputs) if need}
        pending = {n.name: self.bytes_of(n.name) for n in graph if n.name not in fed}  # the loss' seeds
        out = {}
        for node in reversed(graph):
            produced = [s for s, need in zip(node.inputs, self.grads[node.name].inputs) if need]
            out[node.name] = sum(pending.values()) + sum(self.bytes_of(s) for s in produced)
            pending.pop(node.name, None)
            for s in produced:
                pending[s] = self.bytes_of(s)
        return out


def analyze_training(net: Network, *, batch: int = 1, dtype: str = "fp32", amp: bool = False,
                     optimizer: str = "sgd", freeze: tuple[str, ...] | list[str] = (),
                     convention: str = "flops") -> TrainingAnalysis:
    """Count one training step of ``net`` on ``batch`` inputs: FLOPs of the forward, the
    backward and the optimizer update under ``convention`` (``macs`` or ``flops``), and the
    memory it needs (see the module docstring)."""
    _check_options(batch, dtype, amp, optimizer)
    freeze = (freeze,) if isinstance(freeze, str) else tuple(freeze)
    conv = get_training_convention(convention)
    width = dtype_bytes(dtype)
    state_width = MASTER_BYTES if amp else width
    per_param_state = OPTIMIZER_STATES[optimizer] * state_width + (MASTER_BYTES if amp else 0)
    flops_rules = get_training_convention("flops")
    step = _Step(net, batch, width, frozen_layers(net, freeze))
    order = list(net.layers())
    rows: list[dict[str, Any]] = []
    uncounted: dict[str, int] = {}
    for node in order:
        layer, ins = node.layer, net.input_shapes(node)
        grads = step.visit(node)
        fwd = layer.train_counts(ins, node.shape)
        bwd, saved = {}, ()
        if grads.any:
            bwd = layer.backward_counts(ins, node.shape, grads)
            saved = layer.saved_for_backward(ins, node.shape, grads)
            if bwd is None or saved is None:
                raise CalcError(f"layer {node.name!r} ({layer.op}): calc has no training rules for {layer.op} "
                                f"(its backward_counts and saved_for_backward)")
        params = sum(net.param_counts(node).get(k, 0) for k in PARAM_KINDS)  # its own (a sharer: not the shared)
        trained = params if grads.params else 0  # the parameters the step updates
        rows.append({
            "node": node, "params": params, "trained": grads.params, "backward": grads.any,
            "forward_macs": fwd.get("macs", 0) * batch,
            "backward_macs": (bwd.get("macs_input", 0) + bwd.get("macs_weight", 0)) * batch,
            "forward_flops": conv.forward_cost(layer.op, layer.impl, fwd) * batch,
            "backward_flops": conv.backward_cost(layer.op, bwd) * batch,
            "optimizer_flops": trained * conv.step_cost(optimizer, amp),
            "param_bytes": params * width, "grad_bytes": trained * width,
            "optimizer_bytes": trained * per_param_state,
            "saved_activation_bytes": step.saved_bytes(node, saved),
        })
        full = (flops_rules.forward_cost(layer.op, layer.impl, fwd) + flops_rules.backward_cost(layer.op, bwd))
        if full > 0 and rows[-1]["forward_flops"] + rows[-1]["backward_flops"] == 0:
            uncounted[layer.op] = uncounted.get(layer.op, 0) + 1
    index = {r["node"].name: r for r in rows}
    for src, elems in step.accumulated(order).items():
        index[src]["backward_flops"] += conv.accumulate * elems
    for node in order:  # a shared parameter's weight gradients, one per use, are summed (once a step)
        if node.shares is not None and step.grads[node.name].params:
            full = node.layer.param_counts(net.input_shapes(node))
            index[node.name]["backward_flops"] += conv.accumulate * sum(full[k] for k in node.shared)
    working = step.working_sets(order)
    return _result(net, rows, working, batch, dtype, amp, optimizer, freeze, conv, uncounted)


def _result(net, rows, working, batch, dtype, amp, optimizer, freeze, conv, uncounted) -> TrainingAnalysis:
    sums = ("forward_macs", "backward_macs", "forward_flops", "backward_flops", "optimizer_flops",
            "param_bytes", "grad_bytes", "optimizer_bytes", "saved_activation_bytes")
    totals = {k: sum(r[k] for r in rows) for k in sums}
    base = sum(totals[k] for k in ("param_bytes", "grad_bytes", "optimizer_bytes", "saved_activation_bytes"))
    layers = []
    for r in rows:
        node = r.pop("node")
        w = working.get(node.name, 0)
        layers.append(TrainingLayer(name=node.name, op=node.layer.op, backward_working_bytes=w,
                                    peak_bytes=base + w if r["backward"] else 0, **r))
    totals["backward_working_bytes"] = max(working.values(), default=0)
    totals["peak_bytes"] = base + totals["backward_working_bytes"]
    totals["params"] = sum(r.params for r in layers)
    totals["trainable_params"] = sum(r.params for r in layers if r.trained)
    if totals["trainable_params"] == 0:
        raise CalcError(f"{net.name}: nothing to train: every layer with parameters is frozen ({', '.join(freeze)})")
    notes = _notes(net, layers)
    return TrainingAnalysis(
        arch=net.name, config=dict(net.config), batch=batch, input_shape=net.input_shape, dtype=dtype,
        amp=amp, optimizer=optimizer, freeze=freeze, convention=conv, layers=layers,
        totals={k: totals[k] for k in (*TOTAL_KEYS, "optimizer_flops", "backward_working_bytes", "params",
                                       "trainable_params")},
        notes=notes, uncounted=uncounted)


def _notes(net: Network, layers: list[TrainingLayer]) -> list[str]:
    notes = []
    aux = [n for n in net.layers() if n.train_only]
    if aux:
        notes.append(f"training-only layers (an auxiliary head) run in a training step and are counted: {len(aux)}")
    sharers = [n for n in net.layers() if n.shares is not None]
    if sharers:
        notes.append(f"layers reusing another layer's parameters: {len(sharers)}; each use computes its weight "
                     f"gradient and they are summed into one (parameters, gradients and optimizer state once)")
    frozen = [n.name for n in net.layers() if not n.layer.trainable()]
    if frozen:
        notes.append(f"layers whose parameters are fixed by the declaration (not trained, as --freeze): "
                     f"{', '.join(frozen)}")
    masks = sum(1 for c in layers if c.op == "Dropout" and c.saved_activation_bytes)
    if masks:
        notes.append(f"dropout saves a bool mask, 1 byte per element, as PyTorch does on CUDA (on the CPU it "
                     f"keeps the fp32 noise, 4 bytes); dropout layers with a mask: {masks}")
    idle = [c.name for c in layers if not c.backward]
    if idle:
        span = idle[0] if len(idle) == 1 else f"{idle[0]} .. {idle[-1]}"
        notes.append(f"no backward below the first trained layer (no gradient reaches them): {len(idle)} "
                     f"layers, {span}")
    return notes
