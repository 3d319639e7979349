"""The handlers: one per ONNX op, each turning a node into calc layers.

A handler declares the attributes it models; any other attribute on a node is an error
(never silently ignored), and so is a value it does not model (a dilated pool, a Gemm with
``alpha`` != 1).  Opset differences are handled where they matter: pools' strides default
to 1; Clip, Split, Pad, ReduceMean, Squeeze/Unsqueeze, Slice and Dropout moved attributes to
inputs; Softmax's axis changed meaning at opset 13.  Patterns fold a few nodes into one
layer (``x * Sigmoid(x)`` -> SiLU, ``x * HardSigmoid(x)`` -> HardSwish, ``MatMul + Add`` ->
Linear, ``Reshape, Transpose, Reshape`` -> ChannelShuffle, ``Mul + Add`` of per-channel
parameters -> ChannelAffine); the table of what maps to what is in the README ("Your own
model").  The handlers of the layers detection and segmentation networks brought
(ConvTranspose, Resize, Max, L2 normalisation) are in :mod:`calc.onnx.ops_detection`, in the
same table.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import isclose, isinf, prod
from typing import Callable

from calc.errors import CalcError
from calc.layers import (
    LRN, Add, AvgPool2d, BatchNorm2d, ChannelAffine, ChannelShuffle, ChannelSlice, ChannelSplit, Concat, Conv2d,
    Crop, Dropout, Flatten, GlobalAvgPool2d, HardSigmoid, HardSwish, LeakyReLU, Linear, MaxPool2d, Mul, Permute, ReLU,
    ReLU6, Reshape, Scale, Sigmoid, SiLU, Softmax, ZeroPad2d,
)
from calc.onnx.fold import Const, clamp_slice, resolve_reshape, slice_args

#: ONNX's float32 limits, Clip's defaults before opset 11
FLOAT_MAX = 3.4028234663852886e38


@dataclass(frozen=True)
class Handler:
    fn: Callable
    attrs: frozenset[str]

    def check_attrs(self, b, node) -> None:
        extra = sorted(set(node.attrs) - self.attrs)
        if extra:
            raise CalcError(f"{b.where(node)}: attribute{'s' if len(extra) > 1 else ''} {', '.join(extra)} "
                            f"{'are' if len(extra) > 1 else 'is'} not modelled by calc")


HANDLERS: dict[str, Handler] = {}


def handles(*ops: str, attrs: tuple[str, ...] = ()):
    def deco(fn):
        for op in ops:
            if op in HANDLERS:
                raise RuntimeError(f"handler for {op!r} defined twice")
            HANDLERS[op] = Handler(fn, frozenset(attrs))
        return fn
    return deco


def _fail(b, node, msg: str) -> CalcError:
    return CalcError(f"{b.where(node)}: {msg}")


def _map(b, node, t, what: str = "input"):
    """``t`` must be an N x C x H x W feature map."""
    if len(t.shape) != 3:
        raise _fail(b, node, f"calc's {node.op} takes an N x C x H x W {what}; this one has rank {t.rank} "
                             f"({'x'.join(str(d) for d in (1, *t.shape))})")
    return t


def _one(values: list[int]) -> int | tuple[int, ...]:
    return values[0] if len(set(values)) == 1 else tuple(values)


def _text(node, name: str, default: str) -> str:
    """A string attribute (onnx gives bytes)."""
    v = node.attrs.get(name, default)
    return v.decode() if isinstance(v, bytes) else v


def _axis(node, t, default: int) -> int:
    """The ``axis`` attribute, non-negative."""
    axis = int(node.attrs.get("axis", default))
    return axis + t.rank if axis < 0 else axis


def _pair(b, node, name: str, default: int) -> tuple[int, int]:
    v = node.attrs.get(name)
    if v is None:
        return (default, default)
    if len(v) != 2:
        raise _fail(b, node, f"{name} {list(v)}: calc counts 2-D ops (two values)")
    return (int(v[0]), int(v[1]))


def _padding(b, node, t, kernel, stride, dilation):
    """The calc padding of a conv or pool: ONNX ``pads`` are (top, left, bottom, right)."""
    auto = _text(node, "auto_pad", "NOTSET")
    if auto == "VALID":
        return 0
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        if node.op == "Conv" and auto == "SAME_UPPER":
            return "same"  # calc's "same" is TF's: the odd pixel at the bottom/right
        b.spatial(t)
        sides = []
        for size, k, s, d in zip(t.shape[1:], kernel, stride, dilation):
            out = -(-size // s)
            total = max((out - 1) * s + d * (k - 1) + 1 - size, 0)
            small, big = total // 2, total - total // 2
            sides.append((small, big) if auto == "SAME_UPPER" else (big, small))
        (top, bottom), (left, right) = sides
    elif auto == "NOTSET":
        pads = node.attrs.get("pads", [0, 0, 0, 0])
        if len(pads) != 4:
            raise _fail(b, node, f"pads {list(pads)}: calc counts 2-D ops (four values)")
        top, left, bottom, right = (int(p) for p in pads)
    else:
        raise _fail(b, node, f"auto_pad {auto!r} is not an ONNX value")
    if min(top, left, bottom, right) < 0:
        raise _fail(b, node, f"negative pads {[top, left, bottom, right]} are not modelled")
    if top == bottom and left == right:
        return top if top == left else (top, left)
    return (left, right, top, bottom)


# ---------------------------------------------------------------------------
# convolutions, pools, normalisation


def conv_inputs(b, node, what: str):
    """The map, the 4-D weight, the bias (None without one) and the group count of a Conv or
    ConvTranspose node (``what``: "convs", "transposed convs"), its kernel_shape checked."""
    x = _map(b, node, b.tensor(node))
    w = b.const(node, 1, "weight")
    bias = b.maybe_const(node, 2, "bias")
    if len(w.shape) != 4:
        raise _fail(b, node, f"weight of shape {list(w.shape)}: calc counts 2-D {what} (a 4-D weight)")
    if "kernel_shape" in node.attrs and tuple(node.attrs["kernel_shape"]) != w.shape[2:]:
        raise _fail(b, node, f"kernel_shape {list(node.attrs['kernel_shape'])} disagrees with the weight's "
                             f"{list(w.shape[2:])}")
    return x, w, bias, int(node.attrs.get("group", 1))


@handles("Conv", attrs=("auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"))
def conv(b, node):
    x, w, bias, groups = conv_inputs(b, node, "convs")
    m, cg, kh, kw = w.shape
    if cg * groups != x.shape[0]:
        raise _fail(b, node, f"weight {list(w.shape)} with group {groups} reads {cg * groups} channels; "
                             f"its input has {x.shape[0]}")
    if bias is not None and bias.shape != (m,):
        raise _fail(b, node, f"bias of shape {list(bias.shape)}; the conv has {m} output channels")
    stride, dilation = _pair(b, node, "strides", 1), _pair(b, node, "dilations", 1)
    layer = Conv2d(out_channels=m, kernel_size=_one([kh, kw]), stride=_one(list(stride)),
                   padding=_padding(b, node, x, (kh, kw), stride, dilation), dilation=_one(list(dilation)),
                   groups=groups, bias=bias is not None)
    b.emit(node, layer, [x], {"weights": [w], "bias": [bias] if bias is not None else []})


_POOL_ATTRS = ("auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "strides")


@handles("MaxPool", attrs=_POOL_ATTRS + ("storage_order",))
@handles("AveragePool", attrs=_POOL_ATTRS + ("count_include_pad",))
def pool(b, node):
    x = _map(b, node, b.tensor(node))
    if len(node.outputs) > 1 and node.outputs[1] and b.consumers.get(node.outputs[1]):
        raise _fail(b, node, "its Indices output is read by another node; calc has no layer for it")
    if "kernel_shape" not in node.attrs:
        raise _fail(b, node, "kernel_shape is missing")
    kernel = _pair(b, node, "kernel_shape", 1)
    stride = _pair(b, node, "strides", 1)  # ONNX: 1 by default (PyTorch: the kernel)
    if _pair(b, node, "dilations", 1) != (1, 1):
        raise _fail(b, node, f"dilations {list(node.attrs['dilations'])}: calc's pools are not dilated")
    padding = _padding(b, node, x, kernel, stride, (1, 1))
    cls = MaxPool2d if node.op == "MaxPool" else AvgPool2d
    # count_include_pad changes an average's divisor, not what calc counts; storage_order only
    # the Indices output
    layer = cls(kernel_size=_one(list(kernel)), stride=_one(list(stride)), padding=padding,
                ceil_mode=bool(node.attrs.get("ceil_mode", 0)))
    b.emit(node, layer, [x])


@handles("GlobalAveragePool")
def global_average_pool(b, node):
    x = _map(b, node, b.tensor(node))
    b.emit(node, GlobalAvgPool2d(), [x], res_free=True)


@handles("ReduceMean", attrs=("axes", "keepdims", "noop_with_empty_axes"))
def reduce_mean(b, node):
    """The mean over H and W (torch's ``x.mean((2, 3))``): a global average pool."""
    x = b.tensor(node)
    if b.opset >= 18:
        axes = b.const(node, 1, "axes").ints(b.where(node)) if node.input(1) else None
    else:
        axes = node.attrs.get("axes")
    rank = x.rank
    found = None if axes is None else sorted(a + rank if a < 0 else a for a in axes)
    if len(x.shape) != 3 or found != [2, 3]:
        raise _fail(b, node, f"a mean over axes {axes} of a rank-{rank} tensor; calc's layer for "
                             f"ReduceMean is the global average over H and W (axes [2, 3])")
    b.emit(node, GlobalAvgPool2d(keepdims=bool(node.attrs.get("keepdims", 1))), [x], res_free=True)


@handles("BatchNormalization", attrs=("epsilon", "momentum", "spatial", "training_mode", "is_test",
                                      "consumed_inputs"))
def batch_norm(b, node):
    x = _map(b, node, b.tensor(node))
    if int(node.attrs.get("training_mode", 0)):
        raise _fail(b, node, "training_mode=1 (batch statistics): calc counts inference")
    if not int(node.attrs.get("spatial", 1)):
        raise _fail(b, node, "spatial=0 (statistics per element, not per channel) is not modelled")
    if any(o and b.consumers.get(o) for o in node.outputs[1:]):
        raise _fail(b, node, "its running-statistics outputs are read (a training graph); calc counts inference")
    c = x.shape[0]
    consts = [b.const(node, i, what) for i, what in ((1, "scale"), (2, "bias"), (3, "mean"), (4, "variance"))]
    for k in consts:
        if k.size != c:
            raise _fail(b, node, f"a per-channel tensor of shape {list(k.shape)}; the input has {c} channels")
    layer = BatchNorm2d(eps=float(node.attrs.get("epsilon", 1e-5)))
    b.emit(node, layer, [x], {"affine": consts[:2]}, buffers=tuple(consts[2:]))


@handles("LRN", attrs=("alpha", "beta", "bias", "size"))
def lrn(b, node):
    x = _map(b, node, b.tensor(node))
    a = node.attrs
    b.emit(node, LRN(size=int(a["size"]), alpha=float(a.get("alpha", 1e-4)), beta=float(a.get("beta", 0.75)),
                     k=float(a.get("bias", 1.0))), [x])


# ---------------------------------------------------------------------------
# activations


@handles("Relu")
def relu(b, node):
    b.emit(node, ReLU(), [b.tensor(node)])


@handles("LeakyRelu", attrs=("alpha",))
def leaky_relu(b, node):
    b.emit(node, LeakyReLU(negative_slope=float(node.attrs.get("alpha", 0.01))), [b.tensor(node)])


def _gated(b, node, x):
    """The Mul that multiplies ``x`` by ``node``'s output and nothing else reads: ``x * f(x)``."""
    mul = b.sole_consumer(node.outputs[0])
    if mul is not None and mul.op == "Mul" and sorted(mul.inputs) == sorted([node.inputs[0], node.outputs[0]]):
        return mul
    return None


@handles("Sigmoid")
def sigmoid(b, node):
    x = b.tensor(node)
    mul = _gated(b, node, x)
    if mul is not None:  # x * sigmoid(x): SiLU (torch exports nn.SiLU so before opset 15)
        b.fuse(mul)
        b.emit(node, SiLU(), [x], out=mul.outputs[0])
        return
    b.emit(node, Sigmoid(), [x])


def _sixth(alpha: float) -> bool:
    return isclose(alpha, 1 / 6, rel_tol=1e-6)


@handles("HardSigmoid", attrs=("alpha", "beta"))
def hard_sigmoid(b, node):
    x = b.tensor(node)
    alpha, beta = float(node.attrs.get("alpha", 0.2)), float(node.attrs.get("beta", 0.5))
    mul = _gated(b, node, x)
    if mul is not None and _sixth(alpha) and beta == 0.5:  # x * hardsigmoid(x): torch's hardswish
        b.fuse(mul)
        b.emit(node, HardSwish(), [x], out=mul.outputs[0])
        return
    b.emit(node, HardSigmoid(alpha=1 / 6 if _sixth(alpha) else alpha, beta=beta), [x])


@handles("HardSwish")
def hard_swish(b, node):
    b.emit(node, HardSwish(), [b.tensor(node)])


@handles("Clip", attrs=("min", "max"))
def clip(b, node):
    """Clip(0, 6) is ReLU6, Clip(0, +inf) ReLU; other bounds have no calc layer."""
    x = b.tensor(node)
    where = b.where(node)
    if b.opset < 11:
        lo, hi = float(node.attrs.get("min", -FLOAT_MAX)), float(node.attrs.get("max", FLOAT_MAX))
    else:
        lo_c, hi_c = b.maybe_const(node, 1, "min"), b.maybe_const(node, 2, "max")
        lo = lo_c.scalar(where) if lo_c is not None else -FLOAT_MAX
        hi = hi_c.scalar(where) if hi_c is not None else FLOAT_MAX
    if lo == 0 and hi == 6:
        b.emit(node, ReLU6(), [x])
    elif lo == 0 and (isinf(hi) or hi >= FLOAT_MAX):
        b.emit(node, ReLU(), [x])
    else:
        raise _fail(b, node, f"Clip({lo:g}, {hi:g}): calc's layers are Clip(0, 6) (ReLU6) and Clip(0, inf) (ReLU)")


@handles("Softmax", attrs=("axis",))
def softmax(b, node):
    """Softmax over one axis of a sample (calc's ``dim`` is ONNX's axis - 1: 0 the channels).
    Before opset 13 the input is flattened from ``axis`` (default 1) on: over that one axis
    only where every axis after it has size 1 (a map's H x W is 1)."""
    x = b.tensor(node)
    axis = _axis(node, x, 1 if b.opset < 13 else -1)
    if not 1 <= axis < x.rank:
        raise _fail(b, node, f"Softmax over axis {axis} of a rank-{x.rank} tensor; calc's is over one axis of a "
                             f"sample (1 to {x.rank - 1})")
    after = x.shape[axis:]
    if b.opset < 13 and after:
        b.spatial(x)
        if prod(after) != 1:
            dims = "x".join(map(str, x.shape[axis - 1:]))
            raise _fail(b, node, f"before opset 13, Softmax(axis={axis}) on {'x'.join(map(str, (1, *x.shape)))} is "
                                 f"over {dims} together; calc's Softmax is over one axis (those after it of size 1)")
    b.emit(node, Softmax(dim=axis - 1), [x])


@handles("Dropout", attrs=("ratio", "is_test", "seed"))
def dropout(b, node):
    x = b.tensor(node)
    if len(node.outputs) > 1 and node.outputs[1] and b.consumers.get(node.outputs[1]):
        raise _fail(b, node, "its mask output is read; calc counts inference")
    if b.opset >= 12:
        ratio = b.maybe_const(node, 1, "ratio")
        p = ratio.scalar(b.where(node)) if ratio is not None else 0.5
        train = b.maybe_const(node, 2, "training_mode")
        if train is not None and train.scalar(b.where(node)):
            raise _fail(b, node, "training_mode is true: calc counts inference")
    else:
        p = float(node.attrs.get("ratio", 0.5))
    b.emit(node, Dropout(p=p), [x])


# ---------------------------------------------------------------------------
# element-wise arithmetic


def _per_channel(c: Const, x) -> bool:
    """``c`` broadcasts as one value per channel of the map ``x``: (C,1,1) or (1,C,1,1)."""
    return len(x.shape) == 3 and c.shape in ((x.shape[0], 1, 1), (1, x.shape[0], 1, 1))


def _scalar(c: Const) -> bool:
    return c.size == 1


def _split_operands(b, node):
    """(tensors, constants) among a binary node's two inputs."""
    vals = [b.value(x, node) for x in node.inputs[:2]]
    from calc.onnx.build import Tensor

    tensors = [v for v in vals if isinstance(v, Tensor)]
    consts = [v for v in vals if not isinstance(v, Tensor)]
    return tensors, consts


@handles("Add", "Sum")
def add(b, node):
    if node.op == "Sum" or len(node.inputs) != 2:
        xs = [b.tensor(node, i) for i in range(len(node.inputs))]
        if len(xs) == 1:
            b.bind(node.outputs[0], xs[0])
            return
        b.emit(node, Add(), xs)
        return
    tensors, consts = _split_operands(b, node)
    if len(tensors) == 2:
        b.emit(node, Add(), tensors)
    elif _per_channel(consts[0], tensors[0]):  # a learned per-channel shift
        b.emit(node, ChannelAffine(scale=False), [tensors[0]], {"affine": consts})
    else:
        raise _fail(b, node, f"adds a constant of shape {list(consts[0].shape)}; calc's layers add two tensors "
                             f"of one shape, or a per-channel (1, C, 1, 1) parameter")


@handles("Mul")
def mul(b, node):
    tensors, consts = _split_operands(b, node)
    if len(tensors) == 2:
        a, g = tensors
        if len(g.shape) == 3 and len(a.shape) == 3 and g.shape[1:] == (1, 1) and a.shape[1:] != (1, 1):
            pass
        elif len(a.shape) == 3 and a.shape[1:] == (1, 1) and g.shape[1:] != (1, 1):
            a, g = g, a  # the gate second, as calc's Mul takes it
        b.emit(node, Mul(), [a, g])
        return
    x, c = tensors[0], consts[0]
    where = b.where(node)
    if _scalar(c):
        b.emit(node, Scale(factor=c.scalar(where)), [x])
    elif _per_channel(c, x):  # a learned per-channel scale, and the shift after it if any
        shift = b.sole_consumer(node.outputs[0])
        bias = None
        if shift is not None and shift.op == "Add" and len(shift.inputs) == 2:
            other = [v for v in shift.inputs if v != node.outputs[0]]
            found = b.ahead(other[0]) if len(other) == 1 else None
            if isinstance(found, Const) and _per_channel(found, x):
                bias = found
        if bias is not None:
            b.fuse(shift)
            b.emit(node, ChannelAffine(), [x], {"affine": [c, bias]}, out=shift.outputs[0])
        else:
            b.emit(node, ChannelAffine(bias=False), [x], {"affine": [c]})
    else:
        raise _fail(b, node, f"multiplies by a constant of shape {list(c.shape)}; calc's layers multiply by a "
                             f"scalar, a per-channel (1, C, 1, 1) parameter, or another tensor")


@handles("Div")
def div(b, node):
    x = b.tensor(node, 0)
    c = b.const(node, 1, "divisor")
    if not _scalar(c):
        raise _fail(b, node, f"divides by a constant of shape {list(c.shape)}; calc's layer divides by a scalar")
    b.emit(node, Scale(factor=1 / c.scalar(b.where(node))), [x])


# ---------------------------------------------------------------------------
# fully connected


@handles("Gemm", attrs=("alpha", "beta", "transA", "transB", "broadcast"))
def gemm(b, node):
    x = b.tensor(node)
    a = node.attrs
    if int(a.get("transA", 0)) or float(a.get("alpha", 1.0)) != 1.0:
        raise _fail(b, node, f"transA={a.get('transA', 0)}, alpha={a.get('alpha', 1.0)}: calc's Linear is "
                             f"x W^T + b (transA 0, alpha 1)")
    w = b.const(node, 1, "weight")
    bias = b.maybe_const(node, 2, "bias")
    if bias is not None and float(a.get("beta", 1.0)) != 1.0:
        raise _fail(b, node, f"beta={a['beta']}: calc's Linear adds its bias once (beta 1)")
    _linear(b, node, x, w, bool(int(a.get("transB", 0))), bias)


def _linear(b, node, x, w: Const, trans: bool, bias: Const | None, out: str | None = None):
    if len(x.shape) != 1:
        raise _fail(b, node, f"a matrix product on a rank-{x.rank} tensor; calc's Linear takes N x F rows "
                             f"(flatten first)")
    if len(w.shape) != 2:
        raise _fail(b, node, f"weight of shape {list(w.shape)}: a Linear layer's is 2-D")
    k, n = (w.shape[1], w.shape[0]) if trans else w.shape
    b.spatial(x)
    if k != x.shape[0]:
        raise _fail(b, node, f"weight {list(w.shape)} takes {k} input features; its input has {x.shape[0]}")
    if bias is not None and bias.size != n:
        raise _fail(b, node, f"bias of shape {list(bias.shape)}; the layer has {n} outputs")
    b.emit(node, Linear(out_features=n, bias=bias is not None), [x],
           {"weights": [w], "bias": [bias] if bias is not None else []}, out=out, res_free=True)


@handles("MatMul")
def matmul(b, node):
    """``x W`` with a constant W, and the ``+ b`` after it if any: a Linear layer."""
    x = b.tensor(node, 0)
    w = b.const(node, 1, "weight")
    bias, out = None, None
    nxt = b.sole_consumer(node.outputs[0])
    if nxt is not None and nxt.op == "Add" and len(nxt.inputs) == 2 and len(w.shape) == 2:
        other = [v for v in nxt.inputs if v != node.outputs[0]]
        found = b.ahead(other[0]) if len(other) == 1 else None
        if isinstance(found, Const) and found.size == w.shape[1] and len(found.shape) <= 2:
            bias, out = found, nxt.outputs[0]
            b.fuse(nxt)
    _linear(b, node, x, w, False, bias, out)


# ---------------------------------------------------------------------------
# joins, views, copies


@handles("Concat", attrs=("axis",))
def concat(b, node):
    """Along the channels (axis 1) or another axis of a sample (calc's ``dim``, ONNX's axis - 1)."""
    xs = [b.tensor(node, i) for i in range(len(node.inputs))]
    axis = _axis(node, xs[0], 1)  # required by ONNX: a file without it fails the checker, not calc
    if not 1 <= axis < xs[0].rank:
        raise _fail(b, node, f"a concat along axis {axis} of rank-{xs[0].rank} tensors; calc's Concat joins an "
                             f"axis of a sample (1 to {xs[0].rank - 1}), not the batch")
    if len(xs) == 1:
        b.bind(node.outputs[0], xs[0])
        return
    b.emit(node, Concat(dim=axis - 1), xs)


@handles("Identity")
def identity(b, node):
    b.bind(node.outputs[0], b.tensor(node))


@handles("Flatten", attrs=("axis",))
def flatten(b, node):
    x = b.tensor(node)
    axis = int(node.attrs.get("axis", 1))
    if (axis + x.rank if axis < 0 else axis) != 1:
        raise _fail(b, node, f"Flatten(axis={axis}); calc flattens from axis 1 (per sample)")
    _flatten_to_vector(b, node, x)


def _flatten_to_vector(b, node, x, out: str | None = None):
    if len(x.shape) == 1:
        b.bind(out or node.outputs[0], x)
    else:
        b.emit(node, Flatten(), [x], out=out)


def _batch_ok(b, d: int) -> bool:
    return d in (1, -1) or (b.file_batch is not None and d == b.file_batch)


@handles("Reshape", attrs=("allowzero",))
def reshape(b, node):
    x = b.tensor(node)
    where = b.where(node)
    target = b.const(node, 1, "shape").ints(where)
    b.spatial(x)
    if _shuffle(b, node, x, target):
        return
    shape = resolve_reshape([1, *x.shape], [d if i or not _batch_ok(b, d) else 1 for i, d in enumerate(target)],
                            int(node.attrs.get("allowzero", 0)), where)
    if shape[0] != 1:
        raise _fail(b, node, f"reshapes {'x'.join(map(str, (1, *x.shape)))} to {target}: it moves data across "
                             f"the batch dimension")
    if tuple(shape[1:]) == x.shape:
        b.bind(node.outputs[0], x)
    elif len(shape) == 2:
        _flatten_to_vector(b, node, x)
    else:  # ONNX's 0 copies the input's axis at its position, as calc's Reshape does (the batch left out)
        b.emit(node, Reshape(shape=tuple(target[1:])), [x])


def _shuffle(b, node, x, target: list[int]) -> bool:
    """Reshape to (N, g, C/g, H, W), Transpose (0, 2, 1, 3, 4), Reshape to (N, C, H, W): a
    channel shuffle in ``g`` groups."""
    if len(x.shape) != 3 or len(target) != 5:
        return False
    c, h, w = x.shape
    trans = b.sole_consumer(node.outputs[0])
    if trans is None or trans.op != "Transpose" or list(trans.attrs.get("perm", ())) != [0, 2, 1, 3, 4]:
        return False
    back = b.sole_consumer(trans.outputs[0])
    if back is None or back.op != "Reshape":
        return False
    g = target[1]
    try:
        first = resolve_reshape([1, c, h, w], [1 if i == 0 and _batch_ok(b, d) else d for i, d in enumerate(target)],
                                0, b.where(node))
        shuffled = [first[0], first[2], first[1], first[3], first[4]]
        back_shape = b.ahead(back.inputs[1]) if back.input(1) else None
        if not isinstance(back_shape, Const):
            return False
        final = resolve_reshape(shuffled, [1 if i == 0 and _batch_ok(b, d) else d
                                           for i, d in enumerate(back_shape.ints(b.where(back)))],
                                0, b.where(back))
    except CalcError:
        return False
    if first[1:] != [g, c // g, h, w] or final != [1, c, h, w]:
        return False
    b.fuse(trans, back)
    b.emit(node, ChannelShuffle(groups=g), [x], out=back.outputs[0])
    return True


@handles("Squeeze", attrs=("axes",))
def squeeze(b, node):
    """Squeezing the 1 x 1 of a pooled map is a flatten."""
    x = b.tensor(node)
    axes = node.attrs.get("axes") if b.opset < 13 else (
        b.const(node, 1, "axes").ints(b.where(node)) if node.input(1) else None)
    found = None if axes is None else sorted(a + x.rank if a < 0 else a for a in axes)
    if len(x.shape) == 3 and x.shape[1:] == (1, 1) and found in (None, [2, 3]):
        b.spatial(x)
        _flatten_to_vector(b, node, x)
        return
    raise _fail(b, node, f"squeezes axes {axes} of {'x'.join(map(str, (1, *x.shape)))}; calc's layer for Squeeze "
                         f"flattens a 1 x 1 map")


@handles("Transpose", attrs=("perm",))
def transpose(b, node):
    """A copy with the axes permuted, the batch first (SSD's channels-last heads, (0, 2, 3, 1)).
    The channel shuffle's Transpose never comes here: its Reshape folds the three nodes."""
    x = b.tensor(node)
    perm = list(node.attrs.get("perm", reversed(range(x.rank))))  # ONNX's default reverses the axes
    if perm == list(range(x.rank)):
        b.bind(node.outputs[0], x)
        return
    if perm[:1] != [0]:
        raise _fail(b, node, f"Transpose {perm} moves the batch axis; calc's Permute keeps it first")
    b.emit(node, Permute(dims=tuple(perm)), [x])


@handles("Slice", attrs=("starts", "ends", "axes"))
def slice_(b, node):
    """Channels ``start:stop`` (a view) or a crop of H and W."""
    x = _map(b, node, b.tensor(node))
    where = b.where(node)
    ins = [None] + [b.value(n, node) if n else None for n in node.inputs[1:]]
    for v in ins[1:]:
        if v is not None and not isinstance(v, Const):
            raise _fail(b, node, "its starts, ends, axes or steps are computed from the network input")
    dims = (1, *x.shape)
    found = {}
    for axis, start, end, step in slice_args(node, ins, b.opset, 4, where):
        if step != 1:
            raise _fail(b, node, f"a slice with step {step}; calc's are contiguous")
        found[axis] = clamp_slice(dims[axis], start, end, step)
    if 0 in found and found[0] != (0, 1):
        raise _fail(b, node, "slices the batch dimension")
    found.pop(0, None)
    if set(found) == {1}:
        start, stop = found[1]
        b.emit(node, ChannelSlice(start=start, stop=stop), [x])  # all channels too: the file has the node
        return
    if found and set(found) <= {2, 3}:
        b.spatial(x)
        (top, bottom), (left, right) = ((s, dims[a] - e) for a, (s, e) in
                                        ((a, found.get(a, (0, dims[a]))) for a in (2, 3)))
        b.emit(node, Crop(top=top, bottom=bottom, left=left, right=right), [x])
        return
    raise _fail(b, node, f"slices axes {sorted(found)}; calc's layers slice the channels or crop H and W, not both")


@handles("Split", attrs=("axis", "split", "num_outputs"))
def split(b, node):
    x = b.tensor(node)
    axis = int(node.attrs.get("axis", 0))
    if (axis + x.rank if axis < 0 else axis) != 1:
        raise _fail(b, node, f"a split along axis {axis}; calc's split is along the channels (axis 1)")
    c = x.shape[0]
    parts = len(node.outputs)
    if b.opset >= 13:
        sizes = b.const(node, 1, "split").ints(b.where(node)) if node.input(1) else None
    else:
        sizes = node.attrs.get("split")
    if sizes is None:
        if b.opset >= 18 and "num_outputs" in node.attrs:
            parts = int(node.attrs["num_outputs"])
        if c % parts:
            each = -(-c // parts)  # opset 18: the last part is smaller
            sizes = [each] * (parts - 1) + [c - each * (parts - 1)]
        else:
            sizes = [c // parts] * parts
    if sum(sizes) != c or len(sizes) != len(node.outputs):
        raise _fail(b, node, f"split sizes {sizes} for {c} channels and {len(node.outputs)} outputs")
    equal = len(set(sizes)) == 1
    start = 0
    for i, (size, out) in enumerate(zip(sizes, node.outputs)):
        layer = ChannelSplit(parts=len(sizes), index=i) if equal else ChannelSlice(start=start, stop=start + size)
        if out:
            b.emit(node, layer, [x], out=out)
        start += size


@handles("Pad", attrs=("mode", "pads", "value"))
def pad(b, node):
    x = _map(b, node, b.tensor(node))
    where = b.where(node)
    mode = _text(node, "mode", "constant")
    if b.opset < 11:
        pads, value = list(node.attrs.get("pads", ())), float(node.attrs.get("value", 0.0))
    else:
        pads = b.const(node, 1, "pads").ints(where)
        v = b.maybe_const(node, 2, "constant_value")
        value = v.scalar(where) if v is not None else 0.0
        axes = b.maybe_const(node, 3, "axes")
        if axes is not None:
            found = [a + 4 if a < 0 else a for a in axes.ints(where)]
            full = [0] * 8
            for i, a in enumerate(found):
                full[a], full[a + 4] = pads[i], pads[i + len(found)]
            pads = full
    if mode != "constant" or value != 0:
        raise _fail(b, node, f"Pad mode {mode!r} value {value:g}; calc's layer pads with zeros")
    if len(pads) != 8 or pads[0] or pads[1] or pads[4] or pads[5] or min(pads) < 0:
        raise _fail(b, node, f"pads {pads}: calc's ZeroPad2d pads H and W, by >= 0")
    top, left, bottom, right = pads[2], pads[3], pads[6], pads[7]
    b.emit(node, ZeroPad2d(padding=(left, right, top, bottom)), [x])


@handles("Shape", attrs=("start", "end"))
def shape(b, node):
    """The shape of a computed tensor, the batch bound to 1: a constant for what follows."""
    import numpy as np

    x = b.tensor(node)
    dims = [1, *x.shape]
    start, end = int(node.attrs.get("start", 0)), node.attrs.get("end")
    dims = dims[start:None if end is None else int(end)]
    b.spatial(x)
    b.bind(node.outputs[0], Const.of(np.array(dims, dtype=np.int64), node.outputs[0]))

