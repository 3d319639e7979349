"""Constants, and the small numpy evaluator that folds the computations on them.

An exporter writes a network's shape arithmetic as nodes: torch's ``x.view(x.size(0), -1)``
is ``Shape -> Gather -> Unsqueeze -> Concat -> Reshape``, a weight may reach its conv through
``Identity`` or ``Cast``, Caffe2's zoo files make every weight with ``ConstantOfShape``.  Every
tensor that does not depend on the input is a :class:`Const`: its shape is always known, its
values only on demand (a weight's are never needed), and its ``root`` is the stored tensor it
is a view of: the initializer, ``Constant`` or ``ConstantOfShape`` it comes from through
``Identity``, ``Cast``, ``Reshape``, ``Unsqueeze``... (parameters are counted once per root: by
tensor identity, never by content).  Arithmetic is folded on small constants only (shape
vectors, scalars); a node that would compute a large tensor from constants is an error.
"""
from __future__ import annotations

from math import prod
from typing import Any, Callable

from calc.errors import CalcError

#: the most elements a constant may have for calc to compute its values
SMALL = 1 << 16
INT64_MAX = 2**63 - 1


class Const:
    """A tensor known without the input: ``shape``, ``dtype`` (a numpy dtype name), the
    ``root`` tensor it views, and its values on demand (``value()``)."""

    __slots__ = ("shape", "dtype", "root", "_load", "_value")

    def __init__(self, shape, dtype: str, root: str, load: Callable[[], Any] | None = None, value: Any = None):
        self.shape = tuple(int(d) for d in shape)
        self.dtype = dtype
        self.root = root
        self._load = load
        self._value = value

    @classmethod
    def of(cls, value, root: str) -> "Const":
        import numpy as np

        value = np.asarray(value)
        return cls(value.shape, value.dtype.name, root, value=value)

    @property
    def size(self) -> int:
        return prod(self.shape)

    def value(self, where: str = "") -> Any:
        """The values (a numpy array); only for small constants."""
        if self._value is None:
            if self.size > SMALL:
                raise CalcError(f"{where}: needs the values of a constant of {self.size:,} elements "
                                f"(shape {list(self.shape)}); calc computes only small ones (shapes, scalars)")
            if self._load is None:
                raise CalcError(f"{where}: the values of tensor {self.root!r} are not stored in the file")
            self._value = self._load()
        return self._value

    def ints(self, where: str) -> list[int]:
        """The values as a flat list of Python ints."""
        return [int(v) for v in self.value(where).reshape(-1).tolist()]

    def scalar(self, where: str) -> float:
        v = self.value(where)
        if v.size != 1:
            raise CalcError(f"{where}: expected a scalar, received a tensor of shape {list(v.shape)}")
        return float(v.reshape(-1)[0])

    def view(self, shape, root: str | None = None, fn: Callable[[Any], Any] | None = None,
             dtype: str | None = None) -> "Const":
        """The same stored tensor seen with another shape (or cast): its values ``fn`` of these."""
        src = self

        def load():
            v = src.value()
            return fn(v) if fn is not None else v.reshape(shape)

        value = None if self._value is None or self.size > SMALL else load()
        return Const(shape, dtype or self.dtype, self.root if root is None else root, load, value)


def tensor_const(t: Any, onnx: Any, root: str) -> Const:
    """A ``TensorProto`` (an initializer or a Constant's value) as a Const, its data unread."""
    import numpy as np

    dtype = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(t.data_type)).name if t.data_type else "float32"
    external = t.data_location == onnx.TensorProto.EXTERNAL

    def load():
        if external:
            raise CalcError(f"tensor {t.name!r} is stored as external data, which calc does not read")
        return onnx.numpy_helper.to_array(t)

    return Const(tuple(t.dims), dtype, root, load)


# ---------------------------------------------------------------------------
# the evaluator: op -> fn(node, inputs (Const or None), opset, where) -> list of Consts


FOLDS: dict[str, Callable] = {}


def folds(*ops: str):
    def deco(fn):
        for op in ops:
            if op in FOLDS:
                raise RuntimeError(f"fold for {op!r} defined twice")
            FOLDS[op] = fn
        return fn
    return deco


def _axes(node, ins, opset: int, first_input_opset: int, i: int = 1) -> list[int] | None:
    """``axes`` as an attribute (before ``first_input_opset``) or as input ``i``."""
    if opset >= first_input_opset:
        return ins[i].ints(node.label) if len(ins) > i and ins[i] is not None else None
    return node.attrs.get("axes")


def _np():
    import numpy as np

    return np


@folds("Identity")
def _identity(node, ins, opset, where):
    return [ins[0].view(ins[0].shape)]


@folds("Cast", "CastLike")
def _cast(node, ins, opset, where):
    np = _np()
    if node.op == "Cast":
        import onnx

        dtype = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(node.attrs["to"])).name
    else:
        dtype = ins[1].dtype
    return [ins[0].view(ins[0].shape, fn=lambda v: v.astype(dtype), dtype=dtype)]


@folds("Reshape")
def _reshape(node, ins, opset, where):
    target = ins[1].ints(where)
    shape = resolve_reshape(list(ins[0].shape), target, node.attrs.get("allowzero", 0), where)
    return [ins[0].view(shape)]


def resolve_reshape(shape: list[int], target: list[int], allowzero: int, where: str) -> list[int]:
    """ONNX Reshape's target: 0 copies the input's dimension (unless ``allowzero``), -1 is
    inferred."""
    out = [shape[i] if d == 0 and not allowzero and i < len(shape) else d for i, d in enumerate(target)]
    total = prod(shape)
    if out.count(-1) > 1:
        raise CalcError(f"{where}: Reshape target {target} has more than one -1")
    if -1 in out:
        known = prod(d for d in out if d != -1)
        if known == 0 or total % known:
            raise CalcError(f"{where}: cannot reshape {shape} to {target}")
        out[out.index(-1)] = total // known
    if prod(out) != total:
        raise CalcError(f"{where}: cannot reshape {shape} ({total:,} elements) to {target}")
    return out


@folds("Flatten")
def _flatten(node, ins, opset, where):
    shape = ins[0].shape
    axis = node.attrs.get("axis", 1)
    axis = axis + len(shape) if axis < 0 else axis
    return [ins[0].view((prod(shape[:axis]), prod(shape[axis:])))]


@folds("Unsqueeze")
def _unsqueeze(node, ins, opset, where):
    axes = _axes(node, ins, opset, 13)
    shape = list(ins[0].shape)
    rank = len(shape) + len(axes)
    for a in sorted(a + rank if a < 0 else a for a in axes):
        shape.insert(a, 1)
    return [ins[0].view(shape)]


@folds("Squeeze")
def _squeeze(node, ins, opset, where):
    axes = _axes(node, ins, opset, 13)
    shape = ins[0].shape
    if axes is None:
        keep = [d for d in shape if d != 1]
    else:
        drop = {a + len(shape) if a < 0 else a for a in axes}
        keep = [d for i, d in enumerate(shape) if i not in drop]
    return [ins[0].view(keep)]


@folds("Transpose")
def _transpose(node, ins, opset, where):
    perm = node.attrs.get("perm") or list(reversed(range(len(ins[0].shape))))
    return [ins[0].view([ins[0].shape[p] for p in perm], fn=lambda v: v.transpose(perm))]


@folds("Constant")
def _constant(node, ins, opset, where):
    import onnx

    np = _np()
    root = node.outputs[0]
    a = node.attrs
    if "value" in a:
        return [tensor_const(a["value"], onnx, root)]
    for key, dtype in (("value_float", np.float32), ("value_int", np.int64), ("value_floats", np.float32),
                       ("value_ints", np.int64)):
        if key in a:
            return [Const.of(np.array(a[key], dtype=dtype), root)]
    raise CalcError(f"{where}: Constant with attribute {', '.join(a) or 'none'} is not supported "
                    f"(value, value_float(s), value_int(s) are)")


@folds("ConstantOfShape")
def _constant_of_shape(node, ins, opset, where):
    import onnx

    np = _np()
    shape = ins[0].ints(where)
    fill = node.attrs.get("value")
    value = onnx.numpy_helper.to_array(fill).reshape(-1) if fill is not None else np.zeros(1, np.float32)
    return [Const(shape, value.dtype.name, node.outputs[0], lambda: np.full(shape, value[0], dtype=value.dtype))]


def computes(fn):
    """A fold that computes new values, ``fn(node, values, ins, opset, where)`` -> one array:
    only on small constants; the result is a new tensor."""
    def run(node, ins, opset, where):
        for c in ins:
            if c is not None and c.size > SMALL:
                raise CalcError(f"{where}: {node.op} computes a tensor from a constant of {c.size:,} elements "
                                f"(shape {list(c.shape)}); calc folds only small constants (shapes, scalars)")
        values = [c.value(where) if c is not None else None for c in ins]
        return [Const.of(fn(node, values, ins, opset, where), node.outputs[0])]
    return run


def _int_div(a, b):
    np = _np()
    if np.issubdtype(a.dtype, np.integer) and np.issubdtype(np.asarray(b).dtype, np.integer):
        q = np.abs(a) // np.abs(b)  # ONNX integer division truncates toward zero
        return (q * np.sign(a) * np.sign(b)).astype(a.dtype)
    return a / b


def _variadic(f):
    def run(node, v, ins, opset, where):
        out = v[0]
        for x in v[1:]:
            out = f(out, x)
        return out
    return run


def _slice_values(node, v, ins, opset, where):
    index = [slice(None)] * v[0].ndim
    for axis, s, e, st in slice_args(node, ins, opset, v[0].ndim, where):
        index[axis] = slice(s, min(e, INT64_MAX) if st > 0 else e, st)
    return v[0][tuple(index)]


def _reduce_prod(node, v, ins, opset, where):
    axes = _axes(node, ins, opset, 18)
    return _np().prod(v[0], axis=None if axes is None else tuple(axes), keepdims=bool(node.attrs.get("keepdims", 1)))


def _computed_folds() -> dict[str, Callable]:
    """The folds that compute values (shape arithmetic), op -> fn(node, values, ins, opset, where)."""
    np = _np()
    binary = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": _int_div, "Equal": np.equal,
              "Less": np.less, "Greater": np.greater, "Pow": np.power}
    unary = {"Neg": np.negative, "Abs": np.abs, "Floor": np.floor, "Ceil": np.ceil, "Sqrt": np.sqrt,
             "Not": np.logical_not, "Relu": lambda a: np.maximum(a, 0)}
    table = {op: (lambda f: lambda n, v, i, o, w: f(v[0], v[1]))(f) for op, f in binary.items()}
    table.update({op: (lambda f: lambda n, v, i, o, w: f(v[0]))(f) for op, f in unary.items()})
    table.update({
        "Min": _variadic(np.minimum), "Max": _variadic(np.maximum),
        "Where": lambda n, v, i, o, w: np.where(v[0], v[1], v[2]),
        "Gather": lambda n, v, i, o, w: np.take(v[0], v[1], axis=n.attrs.get("axis", 0)),
        "Concat": lambda n, v, i, o, w: np.concatenate(v, axis=n.attrs.get("axis", 0)),
        "Range": lambda n, v, i, o, w: np.arange(v[0], v[1], v[2]),
        "Expand": lambda n, v, i, o, w: v[0] * np.ones([int(d) for d in v[1]], dtype=v[0].dtype),
        "Slice": _slice_values, "ReduceProd": _reduce_prod,
    })
    return table


def slice_args(node, ins, opset, rank: int, where: str) -> list[tuple[int, int, int, int]]:
    """(axis, start, end, step) per sliced axis, from attributes (opset < 10) or inputs."""
    if opset < 10:
        starts, ends = node.attrs["starts"], node.attrs["ends"]
        axes = node.attrs.get("axes", list(range(len(starts))))
        steps = [1] * len(starts)
    else:
        starts, ends = ins[1].ints(where), ins[2].ints(where)
        axes = ins[3].ints(where) if len(ins) > 3 and ins[3] is not None else list(range(len(starts)))
        steps = ins[4].ints(where) if len(ins) > 4 and ins[4] is not None else [1] * len(starts)
    return [(a + rank if a < 0 else a, s, e, st) for a, s, e, st in zip(axes, starts, ends, steps)]


def clamp_slice(size: int, start: int, end: int, step: int) -> tuple[int, int]:
    """A slice's (start, stop) on an axis of ``size``, with ONNX's clamping (step 1)."""
    start, stop, _ = slice(start, min(end, INT64_MAX), step).indices(size)
    return start, max(stop, start)


@folds("Shape")
def _shape(node, ins, opset, where):
    np = _np()
    start, end = int(node.attrs.get("start", 0)), node.attrs.get("end")
    dims = list(ins[0].shape)[start:None if end is None else int(end)]
    return [Const.of(np.array(dims, dtype=np.int64), node.outputs[0])]


@folds("Size")
def _size(node, ins, opset, where):
    np = _np()
    return [Const.of(np.array(ins[0].size, dtype=np.int64), node.outputs[0])]


for _op, _fn in _computed_folds().items():
    FOLDS[_op] = computes(_fn)


def evaluate(node, ins: list[Const | None], opset: int) -> list[Const]:
    """The outputs of ``node`` on constant inputs."""
    where = f"node {node.label!r} ({node.op})"
    try:
        return FOLDS[node.op](node, ins, opset, where)
    except CalcError:
        raise
    except (ValueError, IndexError, TypeError, KeyError) as e:
        raise CalcError(f"{where}: cannot compute it on its constant inputs: {e}") from None
