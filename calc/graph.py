"""The network graph: named nodes with ordered inputs, shapes inferred on insertion.

A :class:`Network` is one flat directed graph whose node names are dotted paths
(``stage2.block0.dw.conv``), so per-stage totals are prefix groupings.  Builders
add nodes in the reference implementation's forward order; every input must
already exist, so insertion order is a topological order and shapes are inferred
(and errors raised, naming the node) as each node is added.

A node may be *training-only* (``train_only=True``: an auxiliary classifier such as
Inception v3's): its parameters exist and are counted, but it does not run at inference,
so it has no MACs, FLOPs or memory, and no inference node may consume it.

A node may *share* another node's parameters (``shares="owner"``: tied weights, a module
called several times, such as PolyNet's poly-3 convs): the parameter kinds both layers have
(``weights``, ``bias``, ``affine``; equal in size, or it is an error) belong to the owner and
are counted once, there; the sharer counts only the kinds it has alone.  MACs, FLOPs and the
output's memory are per use, and so is the traffic (each use reads the weights).  A training
step computes a weight gradient per use and sums them (see :mod:`calc.training`).

The nodes live in an insertion-ordered dict; :attr:`Network.graph` is the same
graph as a networkx ``DiGraph`` (edges carry the input ``slot``), built on first
use so that counting, which needs only the forward order, does not pay for
importing networkx (about a quarter of a cold ``calc arch``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Iterator, NamedTuple

from calc.errors import CalcError, ShapeError
from calc.layers.base import PARAM_KINDS, Layer, Shape, fmt_shape
from calc.resolution import spatial

if TYPE_CHECKING:
    import networkx as nx

INPUT = "input"


class Node(NamedTuple):
    """A layer of a network, where it reads from and the shape it makes (immutable: a named
    tuple, several times cheaper to make than a frozen dataclass, one per layer added)."""

    name: str
    layer: Layer | None  # None for the network input
    inputs: tuple[str, ...]
    shape: Shape
    train_only: bool = False  # runs in training only (an auxiliary head): params, no inference cost
    shares: str | None = None  # the node that owns the parameters this one reuses
    shared: tuple[str, ...] = ()  # the parameter kinds it reuses (counted on the owner)

    def own_param_counts(self, counts: dict) -> dict:
        """``counts`` (its layer's ``param_counts``) without the kinds it shares, nor the
        entries derived from them (``weights_regrouped`` from ``weights``)."""
        if not self.shared:
            return counts
        return {k: 0 if k.split("_")[0] in self.shared else v for k, v in counts.items()}


@dataclass
class Network:
    """A typed layer graph with an input of shape ``(C, H, W)`` (per sample)."""

    name: str
    input_shape: Shape
    config: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        #: a builder read a spatial size (:meth:`spatial_size`) to choose a layer's fields, so
        #: the structure depends on the input size (calc.grid then builds every size afresh)
        self.reads_spatial = False
        #: the options a spec file's layers read (None: unknown, a Python builder)
        self.read_options: frozenset[str] | None = None
        try:  # (C, res, res) with res an H x W resolution is C x H x W (calc.resolution)
            self.input_shape = tuple(int(d) for d in spatial(tuple(self.input_shape)))
        except (TypeError, ValueError) as e:
            raise CalcError(f"network input must be a positive CxHxW shape, received {self.input_shape} ({e})") from None
        if len(self.input_shape) != 3 or min(self.input_shape) < 1:
            raise CalcError(f"network input must be a positive CxHxW shape, received {self.input_shape}")
        self._nodes: dict[str, Node] = {}
        self._insert(Node(INPUT, None, (), self.input_shape))

    # -- building --------------------------------------------------------
    def _insert(self, node: Node) -> None:
        self._nodes[node.name] = node
        self.__dict__.pop("graph", None)  # drop a stale networkx view
        self.__dict__.pop("_readers", None)

    @cached_property
    def graph(self) -> "nx.DiGraph":
        """The network as a networkx DiGraph (node attribute ``node``, edge ``slot``)."""
        import networkx as nx

        g = nx.DiGraph()
        for node in self._nodes.values():
            g.add_node(node.name, node=node)
            for i, src in enumerate(node.inputs):
                g.add_edge(src, node.name, slot=i)
        return g

    def add(self, name: str, layer: Layer, inputs: str | list[str] | tuple[str, ...] | None = None,
            *, train_only: bool = False, shares: str | None = None,
            share_kinds: tuple[str, ...] | None = None) -> str:
        """Add ``layer`` as node ``name`` fed by ``inputs`` (default: the last node
        added) and return ``name``, so blocks can chain calls.  ``train_only``: the node
        runs in training only (an auxiliary head).  ``shares``: an earlier node whose
        parameters this one reuses (see the module docstring); ``share_kinds``: only these
        kinds of them (``("bias",)``: its own weights, the other's bias), default every kind
        the two have."""
        if name in self._nodes:
            raise CalcError(f"layer {name!r}: name already used")
        if inputs is None:
            inputs = (next(reversed(self._nodes)),)
        elif isinstance(inputs, str):
            inputs = (inputs,)
        else:
            inputs = tuple(inputs)
        shapes = []
        for src in inputs:
            node = self._nodes.get(src)
            if node is None:
                raise CalcError(f"layer {name!r} ({layer.op}): input {src!r} is not defined before it")
            if node.train_only and not train_only:
                raise CalcError(f"layer {name!r} ({layer.op}): input {src!r} runs in training only "
                                f"(an auxiliary head); an inference layer cannot read it")
            shapes.append(node.shape)
        try:
            layer.check_arity(shapes)
            shape = tuple(layer.output_shape(shapes))
        except ShapeError as e:
            got = ", ".join(fmt_shape(s) for s in shapes)
            raise CalcError(f"layer {name!r} ({layer.op}, input {got}): {e}") from None
        if share_kinds is not None and shares is None:
            raise CalcError(f"layer {name!r} ({layer.op}): share_kinds needs shares (the layer they belong to)")
        owner, shared = self._shared(name, layer, shapes, shares, share_kinds) if shares is not None else (None, ())
        self._insert(Node(name, layer, inputs, shape, train_only, owner, shared))
        return name

    def _shared(self, name: str, layer: Layer, shapes: list[Shape], shares: str,
                only: tuple[str, ...] | None = None) -> tuple[str, tuple[str, ...]]:
        """The owner of the parameters node ``name`` reuses (the first node of a chain of
        sharers), and the parameter kinds it reuses."""
        where = f"layer {name!r} ({layer.op})"
        if shares not in self._nodes or shares == INPUT:
            raise CalcError(f"{where}: shares {shares!r}, which is not a layer defined before it")
        owner = self._nodes[shares]
        mine = layer.param_counts(shapes)
        theirs = owner.layer.param_counts(self.input_shapes(owner))
        kinds = tuple(k for k in PARAM_KINDS if mine.get(k, 0) and theirs.get(k, 0))
        if only is not None:
            for k in only:
                if k not in kinds:
                    raise CalcError(f"{where}: share_kinds names {k!r}, which is not a parameter kind both it and "
                                    f"{owner.name!r} have (its own: {_kinds(mine)}; {owner.name!r}'s: {_kinds(theirs)})")
            kinds = tuple(k for k in kinds if k in only)
        if not kinds:
            raise CalcError(f"{where}: shares {shares!r}'s parameters, but the two have no parameter kind in "
                            f"common (its own: {_kinds(mine)}; {owner.name!r}'s: {_kinds(theirs)})")
        for k in kinds:
            if mine[k] != theirs[k]:
                raise CalcError(f"{where}: shares {shares!r}'s parameters, but its {k} ({mine[k]:,}) differ "
                                f"in size from {owner.name!r}'s ({theirs[k]:,})")
        if owner.shares is not None:  # a sharer's parameters belong to its owner: share from there
            inherited = [k for k in kinds if k in owner.shared]
            if inherited and len(inherited) < len(kinds):
                raise CalcError(f"{where}: shares {shares!r}'s {', '.join(kinds)}, but {shares!r} owns only some "
                                f"of them (its {', '.join(inherited)} belong to {owner.shares!r}): share each "
                                f"kind from the layer that owns it (share_kinds)")
            if inherited:
                owner = self._nodes[owner.shares]
        return owner.name, kinds

    # -- reading ---------------------------------------------------------
    @property
    def output(self) -> str:
        """Name of the last inference node added (the network output)."""
        return next(n.name for n in reversed(self._nodes.values()) if not n.train_only)

    def __getitem__(self, name: str) -> Node:
        return self._nodes[name]

    def spatial_size(self, name: str) -> tuple[int, ...]:
        """The spatial size (H, W) of node ``name``, for a builder that derives a layer's
        fields from it (a pooling window as large as the final map).  Builders read spatial
        sizes only through this method: it records that the structure depends on the input
        size.  (Channels, ``net[x].shape[0]``, do not.)"""
        self.reads_spatial = True
        return self._nodes[name].shape[1:]

    def __contains__(self, name: str) -> bool:
        return name in self._nodes

    def __len__(self) -> int:
        return len(self._nodes) - 1

    def nodes(self) -> Iterator[Node]:
        """All nodes, the input first, in topological (forward) order."""
        return iter(self._nodes.values())

    def layers(self) -> Iterator[Node]:
        """The layer nodes (everything but the input) in forward order."""
        it = iter(self._nodes.values())
        next(it)
        return it

    def input_shapes(self, node: Node) -> list[Shape]:
        return [self._nodes[s].shape for s in node.inputs]

    def param_counts(self, node: Node) -> dict:
        """The parameters node ``node`` owns, by kind: its layer's, less what it shares."""
        return node.own_param_counts(node.layer.param_counts(self.input_shapes(node)))

    def uses(self, owner: str) -> list[str]:
        """The nodes that reuse ``owner``'s parameters (in forward order)."""
        return [n.name for n in self._nodes.values() if n.shares == owner]

    def consumers(self, name: str) -> list[str]:
        """The nodes that read ``name``, in forward order (each once), without networkx."""
        return list(self._readers.get(name, ()))

    @cached_property
    def _readers(self) -> dict[str, dict[str, None]]:
        readers: dict[str, dict[str, None]] = {}
        for node in self._nodes.values():
            for src in node.inputs:
                readers.setdefault(src, {})[node.name] = None
        return readers

    def check(self) -> None:
        """Structural invariants: acyclic, and the forward order is topological."""
        import networkx as nx

        if not nx.is_directed_acyclic_graph(self.graph):
            cycle = " -> ".join(u for u, _ in nx.find_cycle(self.graph))
            raise CalcError(f"network {self.name!r} has a cycle: {cycle}")


def _kinds(counts: dict) -> str:
    return ", ".join(f"{k} {counts[k]:,}" for k in PARAM_KINDS if counts.get(k)) or "none"
