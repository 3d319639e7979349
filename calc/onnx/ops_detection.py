"""The handlers of the layers detection and segmentation networks brought (in the table of
:mod:`calc.onnx.ops`): ConvTranspose -> ConvTranspose2d, Resize and the old Upsample op ->
Upsample, Max -> Maximum, an L2 normalisation times a per-channel scale -> L2Norm.

What has no standard ONNX op is not here: Caffe's PriorBox, Proposal, DetectionOutput and
PSROIPooling, and its Interp as such (a bilinear Resize with ``align_corners`` computes it, and
imports as an Upsample).  ONNX's MaxRoiPool has no handler: its regions are a second graph
input or a constant (no standard op computes proposals) and its output puts them on the batch
axis (``R x C x k x k``), which a graph of one image, the batch bound to 1, cannot hold (calc's
ROIPool tiles them along H).
"""
from __future__ import annotations

from calc.layers import ConvTranspose2d, L2Norm, Maximum, Upsample
from calc.onnx.fold import Const
from calc.onnx.ops import _batch_ok, _fail, _map, _one, _pair, _per_channel, _scalar, _text, conv_inputs, handles

AXES = "HW"


# ---------------------------------------------------------------------------
# transposed convolution


@handles("ConvTranspose", attrs=("auto_pad", "dilations", "group", "kernel_shape", "output_padding", "output_shape",
                                 "pads", "strides"))
def conv_transpose(b, node):
    """ONNX's output is ``stride (H - 1) + output_padding + dilation (k - 1) + 1 - begin - end``
    with the ``pads`` (begin, end) given, or computed from ``output_shape`` or ``auto_pad``;
    calc's layer (PyTorch's) removes ``padding`` at the start and ``padding - output_padding``
    at the end, so (begin, end, output_padding) is calc's ``padding = begin`` and
    ``output_padding = output_padding + begin - end``, where that is >= 0 and below the
    stride or the dilation (PyTorch's rule)."""
    x, w, bias, groups = conv_inputs(b, node, "transposed convs")
    cin, per_group, kh, kw = w.shape
    if cin != x.shape[0]:
        raise _fail(b, node, f"weight {list(w.shape)} reads {cin} channels; its input has {x.shape[0]}")
    m = per_group * groups
    if bias is not None and bias.shape != (m,):
        raise _fail(b, node, f"bias of shape {list(bias.shape)}; the transposed conv has {m} output channels")
    stride, dilation = _pair(b, node, "strides", 1), _pair(b, node, "dilations", 1)
    extra = _pair(b, node, "output_padding", 0)
    padding, out_padding = [], []
    for axis, (begin, end), op, s, d in zip(AXES, _deconv_pads(b, node, x, (kh, kw), stride, dilation, extra),
                                            extra, stride, dilation):
        q = op + begin - end
        if min(begin, end, op) < 0 or q < 0 or (q >= s and q >= d):
            raise _fail(b, node, f"pads ({begin}, {end}) and output_padding {op} on {axis}: calc's ConvTranspose2d "
                                 f"(PyTorch's) removes padding p >= 0 at the start and p - output_padding at the end, "
                                 f"0 <= output_padding < stride ({s}) or dilation ({d})")
        padding.append(begin)
        out_padding.append(q)
    layer = ConvTranspose2d(out_channels=m, kernel_size=_one([kh, kw]), stride=_one(list(stride)),
                            padding=_one(padding), output_padding=_one(out_padding), dilation=_one(list(dilation)),
                            groups=groups, bias=bias is not None)
    b.emit(node, layer, [x], {"weights": [w], "bias": [bias] if bias is not None else []})


def _deconv_pads(b, node, x, kernel, stride, dilation, extra) -> list[tuple[int, int]]:
    """(begin, end) per axis, as ONNX defines them (SAME_UPPER puts the odd one at the end, as its
    reference evaluator does)."""
    auto = _text(node, "auto_pad", "NOTSET")
    target = node.attrs.get("output_shape")
    if auto not in ("NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"):
        raise _fail(b, node, f"auto_pad {auto!r} is not an ONNX value")
    if target is None and auto == "VALID":
        return [(0, 0), (0, 0)]
    if target is None and auto == "NOTSET":
        pads = node.attrs.get("pads", [0, 0, 0, 0])
        if len(pads) != 4:
            raise _fail(b, node, f"pads {list(pads)}: calc counts 2-D ops (four values)")
        top, left, bottom, right = (int(p) for p in pads)
        return [(top, bottom), (left, right)]
    if target is not None:
        if len(target) != 2:
            raise _fail(b, node, f"output_shape {list(target)}: calc counts 2-D ops (two values, H and W)")
        b.spatial(x)  # the padding depends on the input's size
    else:  # SAME: the input's size times the stride
        target = [n * s for n, s in zip(x.shape[1:], stride)]
    sides = []
    for n, k, s, d, op, out in zip(x.shape[1:], kernel, stride, dilation, extra, target):
        total = s * (n - 1) + op + d * (k - 1) + 1 - int(out)
        small = total // 2
        sides.append((small, total - small) if auto == "SAME_UPPER" else (total - small, small))
    return sides


# ---------------------------------------------------------------------------
# fixed upsampling


#: the half-pixel coordinate modes: output o samples the input at (o + 1/2) / scale - 1/2 (PyTorch's
#: align_corners=False; pytorch_half_pixel differs on an output of length 1 only)
HALF_PIXEL = ("half_pixel", "pytorch_half_pixel")


@handles("Resize", attrs=("antialias", "axes", "coordinate_transformation_mode", "cubic_coeff_a", "exclude_outside",
                          "extrapolation_value", "keep_aspect_ratio_policy", "mode", "nearest_mode"))
def resize(b, node):
    """Resize by ``scales`` or to ``sizes`` (inputs: ``X, scales`` at opset 10; ``X, roi, scales,
    sizes`` from 11, either may be empty or left out; the ``axes`` they name from 18).

    ``cubic_coeff_a`` and ``extrapolation_value`` concern modes calc refuses (cubic,
    tf_crop_and_resize); ``exclude_outside`` only the weights at the border, not the positions
    read; ``roi`` only tf_crop_and_resize."""
    x = _map(b, node, b.tensor(node))
    where = b.where(node)
    if int(node.attrs.get("antialias", 0)):
        raise _fail(b, node, "antialias=1: calc's Upsample reads two positions per axis (bilinear) or one (nearest)")
    policy = _text(node, "keep_aspect_ratio_policy", "stretch")
    if policy != "stretch":
        raise _fail(b, node, f"keep_aspect_ratio_policy {policy!r}: calc's Upsample stretches to the sizes given")
    if b.opset < 11:
        scales, sizes = b.const(node, 1, "scales"), None
    else:
        scales, sizes = b.maybe_const(node, 2, "scales"), b.maybe_const(node, 3, "sizes")
    scales = scales if scales is not None and scales.size else None
    sizes = sizes if sizes is not None and sizes.size else None
    if (scales is None) == (sizes is None):
        raise _fail(b, node, "Resize takes scales or sizes (one of them, not empty)")
    axes = node.attrs.get("axes")
    given = scales.value(where).reshape(-1).tolist() if scales is not None else sizes.ints(where)
    full = _on_axes(b, node, x, given, axes, 1.0 if scales is not None else None)
    if b.opset < 11:  # no coordinate attributes: ONNX Runtime samples o / scale ("asymmetric")
        samples = ("asymmetric", "floor" if min(full[2:]) >= 1 else "ceil")
    else:
        samples = (_text(node, "coordinate_transformation_mode", "half_pixel"),
                   _text(node, "nearest_mode", "round_prefer_floor"))
    _resample(b, node, x, _text(node, "mode", "nearest"), samples, full, scales is not None)


@handles("Upsample", attrs=("mode", "scales"))
def upsample(b, node):
    """The old Upsample op (opsets 7 to 9, then Resize): ``scales`` an attribute (7) or an input (9)."""
    x = _map(b, node, b.tensor(node))
    if b.opset < 9:
        if "scales" not in node.attrs:
            raise _fail(b, node, "scales is missing")
        full = [float(v) for v in node.attrs["scales"]]
    else:
        full = b.const(node, 1, "scales").value(b.where(node)).reshape(-1).tolist()
    full = _on_axes(b, node, x, full, None, 1.0)
    samples = ("asymmetric", "floor" if min(full[2:]) >= 1 else "ceil")
    _resample(b, node, x, _text(node, "mode", "nearest"), samples, full, True)


def _on_axes(b, node, x, given: list, axes, default) -> list:
    """Scales or sizes for all four axes (N, C, H, W), from those of ``axes`` (all when None);
    the batch and the channels unchanged."""
    dims = [1, *x.shape]
    if axes is None:
        axes = range(len(given))
    axes = [a + 4 if a < 0 else a for a in axes]
    if len(axes) != len(given) or len(given) > 4 or not set(axes) <= set(range(4)):
        raise _fail(b, node, f"{len(given)} scales or sizes for axes {list(axes)} of a rank-4 tensor")
    full = [default if default is not None else d for d in dims]
    for a, v in zip(axes, given):
        full[a] = v
    scales = default is not None
    if (full[0] != 1 and (scales or not _batch_ok(b, full[0]))) or full[1] != (1 if scales else dims[1]):
        raise _fail(b, node, f"{'scales' if scales else 'sizes'} {given}: calc's Upsample resizes H and W only "
                             f"(the batch and the channels unchanged)")
    if min(full[2:]) <= 0:
        raise _fail(b, node, f"{'scales' if scales else 'sizes'} {given}: must be positive")
    return full


def _resample(b, node, x, mode: str, samples: tuple[str, str], full: list, by_scale: bool) -> None:
    """An Upsample of ``mode`` (nearest, linear), sampled as ``samples`` says (the coordinate
    mode and the nearest mode), by the scales or to the sizes of H and W in ``full``."""
    coords, nearest = samples
    old = b.opset < 11  # no coordinate attributes
    if mode == "nearest":
        whole = _integer_factors(b, x, full[2:], by_scale)
        if not ((coords == "asymmetric" and nearest == "floor") or (coords in HALF_PIXEL and whole)):
            how = ("a downsampling factor (before opset 11, ONNX Runtime rounds it up)" if old else
                   f"coordinate_transformation_mode {coords!r}, nearest_mode {nearest!r}")
            raise _fail(b, node, f"mode nearest, {how}: calc's nearest Upsample reads floor(o / scale) (PyTorch's: "
                                 f"asymmetric with floor, or half-pixel at an integer factor)")
        corners = False
    elif mode == "linear":
        if coords not in (*HALF_PIXEL, "align_corners"):
            how = ("before opset 11 (it samples o / scale, 'asymmetric')" if old else
                   f"coordinate_transformation_mode {coords!r}")
            raise _fail(b, node, f"mode linear {how}: calc's bilinear Upsample samples half-pixel (PyTorch's "
                                 f"align_corners=False) or align_corners")
        corners = coords == "align_corners"
    else:
        raise _fail(b, node, f"mode {mode!r}: calc's Upsample is nearest or linear (bilinear)")
    size = dict(scale_factor=_one([float(f) for f in full[2:]])) if by_scale else dict(size=_one(full[2:]))
    b.emit(node, Upsample(mode="nearest" if mode == "nearest" else "bilinear", align_corners=corners, **size), [x])


def _integer_factors(b, x, target: list, by_scale: bool) -> bool:
    """Each axis is scaled by a whole factor >= 1 (where every sampling rule reads floor(o / f))."""
    if by_scale:
        return all(float(f).is_integer() and f >= 1 for f in target)
    b.spatial(x)
    return all(out % n == 0 for n, out in zip(x.shape[1:], target))


# ---------------------------------------------------------------------------
# element-wise maximum


@handles("Max")
def maximum(b, node):
    """Max of two or more tensors of one shape (DeepLab's fusion of its scales)."""
    values = [b.value(name, node) for name in node.inputs]
    if any(isinstance(v, Const) for v in values):
        raise _fail(b, node, "Max with a constant input; calc's Maximum takes tensors of one shape")
    if len(values) == 1:
        b.bind(node.outputs[0], values[0])
        return
    b.emit(node, Maximum(), values)


# ---------------------------------------------------------------------------
# L2 normalisation over the channels, times a learned scale (SSD's Normalize)


@handles("LpNormalization", attrs=("axis", "p"))
def lp_normalization(b, node):
    """``x / ||x||_2`` over the channels, then a Mul by a per-channel (or one shared) scale."""
    x = _map(b, node, b.tensor(node))
    axis = int(node.attrs.get("axis", -1))
    axis, p = axis + 4 if axis < 0 else axis, int(node.attrs.get("p", 2))
    if (axis, p) != (1, 2):
        raise _fail(b, node, f"LpNormalization(axis={axis}, p={p}): calc's L2Norm is p=2 over the channels (axis 1)")
    _scaled(b, node, x, node.outputs[0], [], eps=0.0)


@handles("ReduceL2", attrs=("axes", "keepdims", "noop_with_empty_axes"))
def reduce_l2(b, node):
    """``x / ReduceL2(x)`` over the channels (the norm plus, or clamped at, a scalar eps; perhaps
    expanded to the map's shape: ``F.normalize``), then a Mul by a per-channel scale."""
    x = _map(b, node, b.tensor(node))
    where = b.where(node)
    axes = (b.const(node, 1, "axes").ints(where) if node.input(1) else None) if b.opset >= 18 \
        else node.attrs.get("axes")
    found = None if axes is None else sorted(a + 4 if a < 0 else a for a in axes)
    chain = _divided(b, node) if found == [1] and int(node.attrs.get("keepdims", 1)) else None
    if chain is None:
        raise _fail(b, node, f"ReduceL2 over axes {axes}: calc's layer for it is the L2 normalisation "
                             f"x / ReduceL2(x, axes=[1], keepdims=1) times a per-channel scale (L2Norm)")
    fused, out, eps = chain
    _scaled(b, node, x, out, fused, eps)


def _divided(b, node):
    """(the nodes fused, the Div's output, eps) when ``node``'s norm (+ eps, or clamped at eps,
    maybe expanded) divides the tensor it is the norm of; None otherwise."""
    x_name, cur, fused, eps = node.inputs[0], node.outputs[0], [], 0.0
    nxt = b.sole_consumer(cur)
    if nxt is not None and nxt.op in ("Add", "Max", "Clip"):
        eps = _epsilon(b, nxt, cur)
        if eps is None:
            return None
        fused.append(nxt)
        cur, nxt = nxt.outputs[0], b.sole_consumer(nxt.outputs[0])
    if nxt is not None and nxt.op == "Expand" and nxt.inputs[0] == cur:
        shape = b.producer.get(nxt.inputs[1])
        if shape is None or shape.op != "Shape" or shape.inputs[0] != x_name or shape.attrs:
            return None
        if b.sole_consumer(shape.outputs[0]) is nxt:
            fused.append(shape)
        fused.append(nxt)
        cur, nxt = nxt.outputs[0], b.sole_consumer(nxt.outputs[0])
    if nxt is None or nxt.op != "Div" or list(nxt.inputs) != [x_name, cur]:
        return None
    return [*fused, nxt], nxt.outputs[0], eps


def _epsilon(b, node, norm: str) -> float | None:
    """The scalar a norm is added to or clamped at (Add, Max, Clip's min); None if not one."""
    where = b.where(node)
    if node.op == "Clip":
        if b.opset < 11:
            return float(node.attrs["min"]) if set(node.attrs) == {"min"} else None
        lo = b.ahead(node.inputs[1]) if node.input(1) else None
        return lo.scalar(where) if isinstance(lo, Const) and lo.size == 1 and not node.input(2) else None
    others = [v for v in node.inputs if v != norm]
    found = b.ahead(others[0]) if len(others) == 1 and len(node.inputs) == 2 else None
    return found.scalar(where) if isinstance(found, Const) and _scalar(found) else None


def _scaled(b, node, x, normed: str, fused: list, eps: float) -> None:
    """The L2Norm whose normalised map ``normed`` a Mul by a per-channel or one scalar parameter
    scales (calc's layer has that scale: SSD's ``scale_filler``)."""
    mul = b.sole_consumer(normed)
    others = [v for v in mul.inputs if v != normed] if mul is not None and mul.op == "Mul" else []
    scale = b.ahead(others[0]) if len(others) == 1 else None
    if not isinstance(scale, Const) or not (_per_channel(scale, x) or _scalar(scale)):
        raise _fail(b, node, "the normalised map is not multiplied by a per-channel (1, C, 1, 1) or a shared "
                             "scalar scale; calc's L2Norm (SSD's Normalize) has one")
    b.fuse(*fused, mul)
    b.emit(node, L2Norm(channel_shared=_scalar(scale), eps=eps), [x], {"affine": [scale]}, out=mul.outputs[0])
