"""From an ONNX graph to a :class:`~calc.graph.Network`.

The walk follows the file's node order (ONNX requires it to be topological).  Every tensor
name is bound to a :class:`~calc.onnx.fold.Const` (known without the input) or a
:class:`Tensor` (a calc layer's output, its shape per sample: the batch is bound to 1).  A
node whose inputs are all constants is folded (:mod:`calc.onnx.fold`); any other goes to its
op's handler (:mod:`calc.onnx.ops`), which adds calc layers: calc's own closed forms infer
every shape, and the handler checks the file's weights against them.  Then the layers get
their dotted names (:mod:`calc.onnx.names`) and are added to the network.

Parameters are classified by the input slot they feed (a conv's weight and bias, a BN's
scale and shift are parameters; a BN's running mean and variance are buffers; a Reshape's
target is neither) and counted once per stored tensor: a layer whose parameter tensors an
earlier layer already owns shares that layer's (``Network.add(..., shares=...)``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

from calc.errors import CalcError, ShapeError
from calc.graph import INPUT, Network
from calc.layers.base import PARAM_KINDS, Layer, fmt_shape
from calc.onnx.fold import FOLDS, Const, evaluate
from calc.onnx.names import Namer
from calc.onnx.reader import STANDARD, Model, Node
from calc.registry import Architecture, Option
from calc.resolution import resolution, sides


def handler_table() -> dict:
    """op -> handler: the table of :mod:`calc.onnx.ops`, with the detection layers' handlers
    (:mod:`calc.onnx.ops_detection`) registered in it."""
    from calc.onnx import ops_detection  # noqa: F401  (registers its handlers)
    from calc.onnx.ops import HANDLERS

    return HANDLERS


class Tensor:
    """A value computed from the network input: the layer that makes it (``ref``, an index
    into the builder's layers; -1 for the input) and its calc shape (per sample).
    ``res_free``: its shape does not depend on the input's spatial size."""

    __slots__ = ("ref", "shape", "res_free")

    def __init__(self, ref: int, shape: tuple[int, ...], res_free: bool):
        self.ref, self.shape, self.res_free = ref, shape, res_free

    @property
    def rank(self) -> int:
        """Its ONNX rank (the batch dimension included)."""
        return len(self.shape) + 1


@dataclass
class Pending:
    layer: Layer
    inputs: list[int]
    node: Node
    params: dict[str, list[Const]]
    shares: int | None = None
    share_kinds: tuple[str, ...] | None = None  # None: every kind both have


@dataclass
class Built:
    """What an import found besides the layers: for the notes."""

    buffers: set[str] = field(default_factory=set)
    shared: dict[str, int] = field(default_factory=dict)  # root -> uses, counted once
    partial: dict[str, int] = field(default_factory=dict)  # root -> uses, counted at each


class Builder:
    def __init__(self, model: Model, input_name: str, input_shape: tuple[int, int, int], file_batch: int | None):
        self.model = model
        self.handlers = handler_table()
        self.opset = model.opset
        self.file_batch = file_batch
        self.values: dict[str, Const | Tensor] = {}
        self.consumers: dict[str, list[Node]] = {}
        for n in model.nodes:
            for x in n.inputs:
                if x:
                    self.consumers.setdefault(x, []).append(n)
        self.producer = {o: n for n in model.nodes for o in n.outputs if o}
        self.graph_outputs = set(model.outputs)
        self.done: set[int] = set()
        self.layers: list[Pending] = []
        self.owners: dict[str, tuple[int, str]] = {}
        self.found = Built()
        self.reads_spatial = False
        self.input_shape = input_shape
        self.values[input_name] = Tensor(-1, input_shape, False)

    # -- reading values --------------------------------------------------------
    def where(self, node: Node) -> str:
        return f"{self.model.label}: node {node.label!r} ({node.qualified})"

    def value(self, name: str, node: Node) -> Const | Tensor:
        try:
            return self.values[name]
        except KeyError:
            raise CalcError(f"{self.where(node)}: input {name!r} is not computed before it "
                            f"(not an initializer, a graph input or an earlier node's output)") from None

    def tensor(self, node: Node, i: int = 0) -> Tensor:
        v = self.value(node.inputs[i], node)
        if not isinstance(v, Tensor):
            raise CalcError(f"{self.where(node)}: input {i} ({node.inputs[i]!r}) is a constant; calc counts "
                            f"{node.op} on a tensor computed from the network input")
        return v

    def const(self, node: Node, i: int, what: str) -> Const:
        name = node.input(i)
        if name is None:
            raise CalcError(f"{self.where(node)}: its {what} (input {i}) is missing")
        v = self.value(name, node)
        if not isinstance(v, Const):
            raise CalcError(f"{self.where(node)}: its {what} (input {i}, {name!r}) is computed from the network "
                            f"input; calc needs it to be a constant of the file")
        return v

    def maybe_const(self, node: Node, i: int, what: str) -> Const | None:
        return self.const(node, i, what) if node.input(i) is not None else None

    def ahead(self, name: str) -> Const | Tensor | None:
        """The value of ``name`` for a pattern that looks ahead: bound already, or a constant
        that later nodes compute from constants (folded now); None otherwise."""
        found = self.values.get(name)
        if found is not None or name not in self.producer:
            return found
        node = self.producer[name]
        if node.op not in FOLDS or node.index in self.done:
            return None
        ins = []
        for x in node.inputs:
            v = self.ahead(x) if x else None
            if x and not isinstance(v, Const):
                return None
            ins.append(v)
        for out, c in zip(node.outputs, evaluate(node, ins, self.opset)):
            self.bind(out, c)
        self.done.add(node.index)
        return self.values.get(name)

    def sole_consumer(self, name: str) -> Node | None:
        """The one node that reads tensor ``name`` (None when several, none, or it is a graph output)."""
        users = self.consumers.get(name, [])
        if len(users) != 1 or name in self.graph_outputs:
            return None
        return users[0]

    def spatial(self, t: Tensor) -> None:
        """A handler decided something from ``t``'s spatial size: the structure depends on it."""
        if not t.res_free:
            self.reads_spatial = True

    # -- writing values ----------------------------------------------------------
    def bind(self, name: str, value: Const | Tensor) -> None:
        if name:
            self.values[name] = value

    def fuse(self, *nodes: Node) -> None:
        """Nodes a handler has folded into the layer it added (a pattern)."""
        self.done.update(n.index for n in nodes)

    def emit(self, node: Node, layer: Layer, inputs: list[Tensor], params: dict[str, list[Const]] | None = None,
             out: str | None = None, res_free: bool | None = None, buffers: tuple[Const, ...] = ()) -> Tensor:
        """Add ``layer`` (for ``node``) fed by ``inputs``; bind its output to ``out`` (default:
        the node's first output) and return it."""
        shapes = [t.shape for t in inputs]
        got = ", ".join(fmt_shape(s) for s in shapes)
        try:
            layer.check_arity(shapes)
            shape = tuple(layer.output_shape(shapes))
            counts = layer.param_counts(shapes)
        except ShapeError as e:
            raise CalcError(f"{self.where(node)}, input {got}: {e}") from None
        params = {k: v for k, v in (params or {}).items() if v}
        for kind in PARAM_KINDS:
            want, have = counts.get(kind, 0), sum(c.size for c in params.get(kind, ()))
            if want != have:  # pragma: no cover (each handler checks its tensors' shapes first)
                raise CalcError(f"{self.where(node)}: its {kind} tensors hold {have:,} elements; calc's "
                                f"{layer.op} on input {got} has {want:,}")
        index = len(self.layers)
        shares, share_kinds = self._owner(node, params)
        for kind, consts in params.items():  # the tensors it owns (a sharer: those of the kinds it does not share)
            if shares is None or (share_kinds is not None and kind not in share_kinds):
                for c in consts:
                    self.owners.setdefault(c.root, (index, kind))
        for c in buffers:
            self.found.buffers.add(c.root)
        self.layers.append(Pending(layer, [t.ref for t in inputs], node, params, shares, share_kinds))
        free = all(t.res_free for t in inputs) if res_free is None else res_free
        t = Tensor(index, shape, free)
        self.bind(node.outputs[0] if out is None else out, t)
        return t

    def _owner(self, node: Node, params: dict[str, list[Const]]) -> tuple[int | None, tuple[str, ...] | None]:
        """The earlier layer whose parameters this one reuses, and which kinds (None: every
        kind the two have).  A kind is reused when its stored tensors are exactly an earlier
        layer's tensors of that kind (dedup by tensor identity, never by content: torch's
        exporter itself merges initializers of equal content in eval mode, an untrained
        network's zero biases), its own when none is; every reused kind must come from one
        layer.  Anything else (a kind partly reused, tensors of another kind, kinds from two
        layers) calc cannot share kind by kind: counted at each use, and said (None, None)."""
        reused: dict[str, int] = {}
        clean = True
        for kind, consts in params.items():
            found = [self.owners.get(c.root) for c in consts]
            if not any(found):
                continue
            first = found[0]
            theirs = self.layers[first[0]].params.get(kind, []) if first else []
            if (any(f != first for f in found) or first[1] != kind
                    or [c.root for c in theirs] != [c.root for c in consts]):
                clean = False
            reused[kind] = first[0]
        if not reused:
            return None, None
        owners = set(reused.values())
        clean = clean and len(owners) == 1
        table = self.found.shared if clean else self.found.partial
        for consts in params.values():
            for c in consts:
                if c.root in self.owners:
                    table[c.root] = table.get(c.root, 1) + 1
        if not clean:
            return None, None
        owner = owners.pop()
        theirs = self.layers[owner].params
        common = tuple(k for k in PARAM_KINDS if k in params and k in theirs)
        kinds = tuple(k for k in PARAM_KINDS if k in reused)
        return owner, (None if kinds == common else kinds)

    # -- the walk ------------------------------------------------------------------
    def run(self) -> None:
        for name, t in self.model.initializers.items():
            from calc.onnx.fold import tensor_const

            self.values.setdefault(name, tensor_const(t, self.model.onnx, name))
        for node in self.model.nodes:  # Constants first: a pattern may read one that comes later
            if node.op == "Constant" and not node.inputs:
                for name, c in zip(node.outputs, evaluate(node, [], self.opset)):
                    self.bind(name, c)
                self.done.add(node.index)
        for node in self.model.nodes:
            if node.index in self.done:
                continue
            ins = [self.values.get(x) if x else None for x in node.inputs]
            computed = any(isinstance(v, Tensor) for v in ins)
            handler = self.handlers.get(node.op)
            if not computed and node.op in FOLDS:
                for i, x in enumerate(node.inputs):
                    if x and ins[i] is None:
                        self.value(x, node)  # raises: not defined before
                for name, c in zip(node.outputs, evaluate(node, ins, self.opset)):
                    self.bind(name, c)
            elif handler is not None:
                handler.check_attrs(self, node)
                handler.fn(self, node)
            else:
                raise CalcError(f"{self.where(node)}: calc has no layer for {node.op} on a tensor computed "
                                f"from the network input")

    def network(self, name: str, notes: list[str]) -> Network:
        namer = Namer()
        for p in self.layers:
            weights = p.params.get("weights") or p.params.get("affine") or ()
            namer.propose(p.node.name, p.node.op, weights[0].root if weights else None,
                          p.inputs[0] if p.inputs else None)
        names = namer.names()
        net = Network(name, self.input_shape, notes=notes)
        for p, n in zip(self.layers, names):
            inputs = [INPUT if r < 0 else names[r] for r in p.inputs]
            try:
                net.add(n, p.layer, inputs, shares=None if p.shares is None else names[p.shares],
                        share_kinds=p.share_kinds)
            except CalcError as e:
                raise CalcError(f"{self.model.label}: node {p.node.label!r}: {e}") from None
        net.reads_spatial = self.reads_spatial
        return net


# ---------------------------------------------------------------------------
# the architecture a file is


def unknown_ops(model: Model) -> str | None:
    """The ops of ``model`` calc cannot count (custom domains, control flow, quantized ops,
    anything without a handler or a fold), as one line; None when there is none."""
    handlers = handler_table()
    found: dict[str, list[str]] = {}
    for n in model.nodes:
        if n.domain not in STANDARD or (n.op not in handlers and n.op not in FOLDS):
            found.setdefault(n.qualified, []).append(n.label)
    if not found:
        return None

    def names(labels: list[str]) -> str:
        shown = ", ".join(repr(x) for x in labels[:3])
        return shown + (f" and {len(labels) - 3} more" if len(labels) > 3 else "")

    listed = "; ".join(f"{op} x{len(labels)} ({names(labels)})" for op, labels in found.items())
    total = sum(len(v) for v in found.values())
    return (f"{model.label}: {total} node{'s' if total > 1 else ''} of {len(found)} op{'s' if len(found) > 1 else ''} "
            f"calc has no layer for, so nothing is counted: {listed}")


def image_input(model: Model) -> tuple[str, tuple]:
    used = {x for n in model.nodes for x in n.inputs}
    inputs = [(name, dims) for name, dims in model.inputs if name in used]
    if len(inputs) != 1:
        shown = ", ".join(repr(n) for n, _ in inputs) or "none"
        raise CalcError(f"{model.label}: calc counts networks of one image input; the file's graph reads "
                        f"{len(inputs)} inputs ({shown})")
    name, dims = inputs[0]
    if dims is None or len(dims) != 4:
        shown = "unknown" if dims is None else "x".join(str(d) for d in dims)
        raise CalcError(f"{model.label}: input {name!r} has shape {shown}; calc counts N x C x H x W images")
    if not isinstance(dims[1], int) or dims[1] < 1:
        raise CalcError(f"{model.label}: input {name!r} has no fixed channel count ({dims[1]!r})")
    return name, dims


@dataclass(frozen=True)
class OnnxArchitecture(Architecture):
    """An architecture read from an ONNX file (``source`` is the path).  ``input_batch``: the
    file's N when it fixes one (``--batch`` defaults to it)."""

    input_batch: int | None = None
    model: Model | None = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:
        return f"OnnxArchitecture(name={self.name!r}, source={self.source!r})"


def architecture(model: Model, name: str) -> OnnxArchitecture:
    line = unknown_ops(model)
    if line is not None:
        raise CalcError(line)
    input_name, (n, c, h, w) = image_input(model)
    fixed = [d for d in (h, w) if isinstance(d, int) and d > 0]
    if len(fixed) == 2:
        default, help_ = resolution((h, w)), "input resolution (a side, or HxW; default the file's)"
    elif fixed:
        default, help_ = fixed[0], "input resolution (a side, or HxW; default the file's fixed side, square)"
    else:
        default, help_ = 224, "input resolution (a side, or HxW; the file's H and W are symbolic)"
    res = Option("res", resolution, default, help_, min=1, max=8192, input_only=True)
    batch = n if isinstance(n, int) and n > 0 else None
    summary = f"ONNX graph ({model.producer or 'unknown producer'}, opset {model.opset})"
    return OnnxArchitecture(name=name, family="onnx file", summary=summary, source=model.label,
                            builder=partial(build_network, model, input_name, (c, h, w), batch), options=(res,),
                            input_batch=batch, model=model)


def build_network(model: Model, input_name: str, chw: tuple, batch: int | None, *, res) -> Network:
    """The network at input resolution ``res`` (a side, or :class:`~calc.resolution.HW`)."""
    b = Builder(model, input_name, (chw[0], *sides(res)), batch)
    b.run()
    notes = _notes(model, b, chw, batch)
    return b.network(model.label.rsplit("/", 1)[-1], notes)


def _notes(model: Model, b: Builder, chw: tuple, batch: int | None) -> list[str]:
    c, h, w = chw
    dims = "x".join(str(d) for d in (batch if batch else "N", c, h, w))
    notes = [f"read from the ONNX file (opset {model.opset}); its input is {dims}, counted per sample"
             + (f"; --batch defaults to its N = {batch}" if batch and batch > 1 else "")]
    if b.found.buffers:
        notes.append(f"{len(b.found.buffers)} tensors are BatchNormalization running statistics: buffers, "
                     f"not parameters")
    if b.found.shared:
        notes.append(f"{len(b.found.shared)} stored tensors are parameters of several layers (tied weights, a "
                     f"module called again, or tensors of equal content that the exporter merged: torch's does in "
                     f"eval mode, an untrained network's zero biases): counted once, on the first; "
                     + _some(b.found.shared))
    if b.found.partial:
        uses = sum(b.found.partial.values())
        notes.append(f"{len(b.found.partial)} stored tensors are read by {uses} layers in a way calc cannot share "
                     f"kind by kind (part of a kind, or as another kind, or kinds of two layers): counted at each "
                     f"use; " + _some(b.found.partial))
    folded = _folded_bn(b)
    if folded:
        notes.append(folded)
    return notes


def _some(found: dict[str, int]) -> str:
    names = [f"{r!r} x{k}" for r, k in list(found.items())[:3]]
    return ", ".join(names) + (" ..." if len(found) > 3 else "")


def _folded_bn(b: Builder) -> str | None:
    """A note when BatchNorm looks folded into convs: biased convs whose weights the exporter
    computed (torch names the weights it folds ``onnx::Conv_*``, the others by their module
    path).  The file cannot say whether a conv had a bias of its own before the fold."""
    convs = [p for p in b.layers if p.layer.op == "Conv2d" and p.layer.bias and p.shares is None
             and any(c.root.startswith("onnx::") for c in p.params.get("weights", ()))]
    if not convs:
        return None
    channels = sum(p.layer.out_channels for p in convs)
    return (f"{len(convs)} biased convs have weights the exporter computed ('onnx::Conv_*'): BatchNorm looks "
            f"folded into them; the trained network had {channels:,} more params if those convs had no bias "
            f"of their own (a BN's gamma and beta, 2C, against the folded bias' C), {2 * channels:,} if they had "
            f"one (VGG's do); the same MACs")
