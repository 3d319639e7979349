"""The layer base class and the registry of layer types.

A layer type is a small frozen pydantic model (unknown fields rejected) that owns
its closed forms.  It never stores its input shape: the graph passes the shapes
of the tensors feeding it (per sample, without the batch dimension: ``(C, H, W)``
for feature maps, ``(F,)`` for vectors).

Each layer answers four questions:

``output_shape(inputs)``
    the shape it produces, or a :class:`ShapeError` echoing the values at fault;
``params(inputs)``
    trainable parameters (exact integer; BN running statistics are buffers, not
    parameters);
``param_counts(inputs)``
    the parameters by kind (:data:`PARAM_KINDS`: ``weights``, a conv or FC weight
    tensor; ``bias``; ``affine``, a norm's scale and shift), which sum to ``params``,
    for the views that count only some kinds (the papers' "weights", a tool that skips
    biases); a layer may add derived quantities a tool's rule needs (any other key);
``counts(inputs, output)``
    named per-sample quantities the counting conventions weigh
    (``macs``, ``bias``, ``elems``, ``in``, ``out``, ``window`` ...);
    see :mod:`calc.conventions`;
``rf_window(inputs)``
    its receptive-field closed form: what one output position reads of its input
    (kernel, stride, padding, dilation per axis; :class:`~calc.layers.spatial.RFWindow`),
    composed by :mod:`calc.receptive`; the identity for the traits below, ``None`` (no
    closed form, reported as unknown) for a type that defines none.
Traits of a layer family are class attributes, read by the analyses that care:

``aliases_input``
    its output is a view of its input (no new memory, no traffic);
``elementwise``
    each output element is computed from the input element(s) at the same position
    (batch norm, activations, a residual add): an inference engine fuses it into the
    conv that produces its input, and it keeps a depthwise-separable pair separable;
``reorders_channels``
    it only permutes channels (a channel shuffle);
``free_backward``
    its backward does no arithmetic and keeps no tensor (a residual add, a concat, a view);
``shape_only_inputs``
    the inputs it reads for their shape only (a crop's reference tensor);
``differentiable``
    False when its output carries no gradient (region proposals, prior boxes, detections).

A training step (:mod:`calc.training`) asks three more, with :class:`~calc.layers.backward.Grads`
saying which gradients the layer computes:

``train_counts(inputs, output)``
    the forward quantities in training mode (default: ``counts``; dropout draws and applies
    a mask);
``backward_counts(inputs, output, grads)``
    the per-sample quantities of its backward, named in the class's ``backward_quantities``
    (which the training rules may weigh); ``None``: the type has no backward rule;
``saved_for_backward(inputs, output, grads)``
    the tensors autograd keeps for its backward (:class:`~calc.layers.backward.Saved`), as
    PyTorch saves them; ``None``: not declared.  ``trains_as_view()`` says whether the output
    shares the input's storage in training (dropout's does at inference only), and
    ``trainable()`` whether its parameters are trained at all (False: fixed by the
    declaration, ``requires_grad=False``, such as a frozen pretrained embedding).

A derived entry of ``param_counts`` (any key that is not a kind) is named after the kind
it derives from (``weights_regrouped``, ``weights_trainable``): a layer that shares another
layer's parameters (:meth:`Network.add <calc.graph.Network.add>` ``shares=``) drops a shared
kind and the entries derived from it.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from math import prod
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from calc.errors import CalcError, ShapeError
from calc.layers.backward import Grads, Saved
from calc.layers.spatial import IDENTITY, RFWindow

Shape = tuple[int, ...]

#: the kinds of parameter that add up to a layer's ``params``
PARAM_KINDS = ("weights", "bias", "affine")

#: How the reference implementation invokes the op.  Costs do not depend on it;
#: only the conventions that mimic hook-based tools (thop, ptflops) do, because
#: those tools see a module call but not ``x + y`` or ``x.mean()``.
Impl = Literal["module", "functional", "operator"]

class LayerTypes(Mapping[str, type["Layer"]]):
    """The layer types, by class name.  :mod:`calc.layers` *declares* each type with the
    module that defines it, and a module is imported when one of its types is first used
    (a MobileNet never imports the detection layers).  Membership and :meth:`names` answer
    from the declarations; iterating, ``len`` and ``values()`` import every module first."""

    def __init__(self) -> None:
        self._loaded: dict[str, type[Layer]] = {}
        self._pending: dict[str, str] = {}  # type name -> module

    def declare(self, module: str, names: tuple[str, ...]) -> None:
        for name in names:
            self._pending.setdefault(name, module)

    def add(self, cls: type["Layer"]) -> None:
        if cls.__name__ in self._loaded:
            raise RuntimeError(f"layer type {cls.__name__!r} is registered twice")
        self._loaded[cls.__name__] = cls

    def _load(self, name: str) -> None:
        import importlib

        importlib.import_module(self._pending[name])
        if name not in self._loaded:  # pragma: no cover (calc.layers' table is wrong: tests/layers check it)
            raise RuntimeError(f"{self._pending[name]} does not define layer type {name!r}")

    def names(self) -> list[str]:
        return sorted({*self._pending, *self._loaded})

    def __getitem__(self, name: str) -> type["Layer"]:
        if name not in self._loaded and name in self._pending:
            self._load(name)
        return self._loaded[name]

    def __contains__(self, name: object) -> bool:
        return name in self._loaded or name in self._pending

    def __iter__(self) -> Iterator[str]:
        for name in self._pending:
            if name not in self._loaded:
                self._load(name)
        return iter(sorted(self._loaded))

    def __len__(self) -> int:
        return len(list(iter(self)))


LAYER_TYPES = LayerTypes()


def register(cls: type["Layer"]) -> type["Layer"]:
    """Class decorator: make a layer type known by its class name."""
    LAYER_TYPES.add(cls)
    return cls


def layer_type(name: str) -> type["Layer"]:
    try:
        return LAYER_TYPES[name]
    except KeyError:
        known = ", ".join(LAYER_TYPES.names())
        raise CalcError(f"unknown layer type {name!r}; known types: {known}") from None


def numel(shape: Shape) -> int:
    return prod(shape)


def same_dims(a: Shape, b: Shape) -> bool:
    """Whether two shapes are equal.  Also for the shapes :mod:`calc.grid` passes, whose
    spatial sizes are arrays shared between the inputs of a join (equal by identity)."""
    return len(a) == len(b) and all(x is y or (isinstance(x, int) and isinstance(y, int) and x == y)
                                    for x, y in zip(a, b))


def fmt_shape(shape: Shape) -> str:
    return "x".join(str(d) for d in shape)


class Layer(BaseModel):
    """Base of every layer type."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    impl: Impl = "module"

    #: (minimum, maximum) number of inputs; None = unbounded.
    arity: ClassVar[tuple[int, int | None]] = (1, 1)
    #: True when the output is a view of (or the same tensor as) the input.
    aliases_input: ClassVar[bool] = False
    #: True when each output element depends only on the input element(s) at its position.
    elementwise: ClassVar[bool] = False
    #: True when the layer only permutes channels.
    reorders_channels: ClassVar[bool] = False
    #: the quantities ``backward_counts`` reports (the training rules may weigh only these)
    backward_quantities: ClassVar[tuple[str, ...]] = ()
    #: True when the backward does no arithmetic and keeps no tensor: the gradient is
    #: passed on, sliced, reshaped or permuted (a residual add, a concat, a view)
    free_backward: ClassVar[bool] = False
    #: True when the layers of this type reading one tensor are the parts of one op
    #: (``x.chunk(parts, 1)``): in the backward their gradients join, they do not add
    splits_input: ClassVar[bool] = False
    #: the inputs (by position) the layer reads for their shape only, never their values (a
    #: crop's reference, the image a prior-box layer sizes its boxes by): they get no gradient,
    #: no traffic, and add nothing to a receptive field
    shape_only_inputs: ClassVar[frozenset[int]] = frozenset()
    #: False when the output carries no gradient (boxes, indices: a proposal or detection
    #: layer's output), so that nothing before it is trained through it
    differentiable: ClassVar[bool] = True

    @property
    def op(self) -> str:
        return type(self).__name__

    # -- closed forms ----------------------------------------------------
    def output_shape(self, inputs: list[Shape]) -> Shape:
        return inputs[0]

    def params(self, inputs: list[Shape]) -> int:
        counts = self.param_counts(inputs)
        return sum(counts.get(k, 0) for k in PARAM_KINDS)

    def param_counts(self, inputs: list[Shape]) -> dict[str, int]:
        return {}

    def counts(self, inputs: list[Shape], output: Shape) -> dict[str, int]:
        return {}

    # -- a training step (calc.training) -------------------------------------
    def train_counts(self, inputs: list[Shape], output: Shape) -> dict[str, int]:
        return self.counts(inputs, output)

    def backward_counts(self, inputs: list[Shape], output: Shape, grads: Grads) -> dict[str, int] | None:
        return {} if self.free_backward else None

    def saved_for_backward(self, inputs: list[Shape], output: Shape, grads: Grads) -> tuple[Saved, ...] | None:
        return () if self.free_backward else None

    def trains_as_view(self) -> bool:
        return self.aliases_input

    def rf_window(self, inputs: list[Shape]) -> RFWindow | None:
        """What one output position reads of each input: the identity for element-wise
        layers, views and channel permutations; None (no closed form) otherwise."""
        if self.elementwise or self.aliases_input or self.reorders_channels:
            return IDENTITY
        return None

    def trainable(self) -> bool:
        return True

    # -- helpers ---------------------------------------------------------
    def check_arity(self, inputs: list[Shape]) -> None:
        lo, hi = self.arity
        n = len(inputs)
        if n < lo or (hi is not None and n > hi):
            want = str(lo) if lo == hi else f"{lo}..{hi if hi is not None else 'n'}"
            raise ShapeError(f"{self.op} takes {want} input(s), received {n}")

    def spatial_input(self, inputs: list[Shape]) -> Shape:
        shape = inputs[0]
        if len(shape) != 3:
            raise ShapeError(f"{self.op} needs a CxHxW feature map, received shape {fmt_shape(shape)}")
        return shape

    def describe(self) -> str:
        """Short human summary of the non-default fields (for tables)."""
        fields = self.model_dump(exclude_defaults=True, exclude={"impl"})
        return ", ".join(f"{k}={v}" for k, v in fields.items())
