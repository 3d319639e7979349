"""Detection plumbing: tensors moved, reshaped or decoded, without arithmetic that a static
count can know.  They cost no FLOPs under any convention (their work is a copy, or depends on
the image: how many boxes survive non-maximum suppression), but their outputs occupy memory.

``Permute`` and ``Reshape`` move or reinterpret a tensor; ``PriorBox`` (SSD) writes the
default boxes of a feature map; ``Proposal`` (Faster R-CNN's RPN) decodes and selects region
proposals; ``DetectionOutput`` (SSD) decodes, thresholds and suppresses the final boxes.
"""
from __future__ import annotations

import math

from pydantic import model_validator

from calc.errors import ShapeError
from calc.layers.base import Impl, Layer, fmt_shape, numel, register
from calc.layers.spatial import IDENTITY, check_positive


@register
class Permute(Layer):
    """``x.permute(*dims)`` with the batch axis: ``dims`` lists every axis, the batch (0)
    first (SSD's ``Permute`` to ``0, 2, 3, 1``: channels last).  Caffe's Permute, MatConvNet's
    ``permute`` and PyTorch's ``.permute().contiguous()`` write a new tensor (``view=False``,
    the default: memory and traffic, no arithmetic); a bare ``.permute()`` is a view
    (``view=True``).  Backward: the gradient permuted back."""

    dims: tuple[int, ...]
    view: bool = False
    impl: Impl = "operator"
    free_backward = True

    @model_validator(mode="after")
    def _check(self):
        if sorted(self.dims) != list(range(len(self.dims))) or self.dims[:1] != (0,):
            raise ValueError(f"Permute dims must be a permutation of 0..n-1 that keeps the batch axis 0 first, "
                             f"received {self.dims}")
        return self

    @property
    def aliases_input(self) -> bool:  # type: ignore[override]  (per instance: a view or a copy)
        return self.view

    def output_shape(self, inputs):
        shape = inputs[0]
        if len(shape) + 1 != len(self.dims):
            raise ShapeError(f"Permute dims {self.dims} name {len(self.dims)} axes (the batch too); the input has "
                             f"{len(shape) + 1} ({fmt_shape(shape)} per sample)")
        return tuple(shape[d - 1] for d in self.dims[1:])

    def counts(self, inputs, output):
        return {"out": numel(output)}

    def rf_window(self, inputs):
        return IDENTITY if self.dims == (0, 1, 2, 3) else None  # channels last: no longer a C x H x W map


@register
class Reshape(Layer):
    """Caffe's ``Reshape`` (and ``x.view(N, ...)``): the per-sample ``shape``, where ``0``
    copies the input's axis at that position and one ``-1`` is inferred (SSD's class scores
    ``(-1, classes)``; the RPN's ``(2, -1, 0)``).  A view: no memory of its own, no traffic."""

    shape: tuple[int, ...]
    impl: Impl = "operator"
    aliases_input = True
    free_backward = True

    @model_validator(mode="after")
    def _check(self):
        if not self.shape or any(d < -1 for d in self.shape) or list(self.shape).count(-1) > 1:
            raise ValueError(f"Reshape shape takes sizes >= 1, 0 (copy the input's axis) and one -1 (inferred), "
                             f"received {self.shape}")
        return self

    def output_shape(self, inputs):
        shape = inputs[0]
        out, rest = [], []  # rest: the input axes not copied, whose product the -1 gets
        for i, d in enumerate(self.shape):
            if d == 0:
                if i >= len(shape):
                    raise ShapeError(f"Reshape {self.shape}: axis {i} copies an input axis the input "
                                     f"({fmt_shape(shape)}) does not have")
                out.append(shape[i])
            else:
                out.append(d)
        copied = {i for i, d in enumerate(self.shape) if d == 0}
        rest = [n for i, n in enumerate(shape) if i not in copied]
        known = math.prod(d for d in self.shape if d > 0)
        total = math.prod(rest) if rest else 1
        if -1 in self.shape:
            inferred = _exact_div(total, known, self.shape, shape)
            out[self.shape.index(-1)] = inferred
        elif isinstance(total, int) and total != known:
            raise ShapeError(f"Reshape to {self.shape} needs {known} elements besides the copied axes, the input "
                             f"({fmt_shape(shape)}) has {total}")
        return tuple(out)

    def rf_window(self, inputs):
        return None  # the axes no longer mean H and W


def _exact_div(total, known: int, spec, shape):
    if isinstance(total, int):
        if total % known:
            raise ShapeError(f"Reshape to {spec}: {total} elements do not split into {known}-element rows "
                             f"(input {fmt_shape(shape)})")
        return total // known
    return total // known  # a symbolic size (calc.grid): exact, or a TypeError (the point is counted alone)


class _Decoder(Layer):
    """Boxes, not features: no parameters, and nothing flows back through it (its output carries
    no gradient, so nothing before it is trained through it)."""

    differentiable = False
    free_backward = True

    def counts(self, inputs, output):
        return {"out": numel(output)}

    def rf_window(self, inputs):
        return None


def _aspect_ratios(ratios: tuple[float, ...], flip: bool) -> list[float]:
    """Caffe SSD's ``PriorBoxLayer``: 1, then each ratio not yet listed (within 1e-6) and,
    with ``flip``, its inverse."""
    out = [1.0]
    for r in ratios:
        for v in ((r, 1 / r) if flip else (r,)):
            if all(abs(v - u) > 1e-6 for u in out):
                out.append(v)
    return out


@register
class PriorBox(_Decoder):
    """SSD's default boxes for one feature map (Caffe SSD's ``PriorBox``): at each of its
    ``H x W`` cells, a box per aspect ratio (1, the ``aspect_ratios`` and, with ``flip``, their
    inverses) per ``min_sizes`` entry, plus one ``sqrt(min x max)`` box per ``max_sizes``
    entry.  Inputs: the feature map and the image, read for their sizes only.  Output:
    ``2 x (H W P 4)``: the boxes and their variances (Caffe's blob, per sample).  No
    parameters, no arithmetic that depends on the data (it is the same for every image)."""

    min_sizes: tuple[float, ...]
    max_sizes: tuple[float, ...] = ()
    aspect_ratios: tuple[float, ...] = ()
    flip: bool = True
    clip: bool = False
    variance: tuple[float, ...] = (0.1, 0.1, 0.2, 0.2)
    step: float | None = None
    offset: float = 0.5
    arity = (2, 2)
    shape_only_inputs = frozenset({0, 1})

    @model_validator(mode="after")
    def _check(self):
        if not self.min_sizes or min(self.min_sizes) <= 0:
            raise ValueError(f"PriorBox min_sizes must be positive sizes (at least one), received {self.min_sizes}")
        if self.max_sizes and len(self.max_sizes) != len(self.min_sizes):
            raise ValueError(f"PriorBox takes one max size per min size, received min_sizes={self.min_sizes}, "
                             f"max_sizes={self.max_sizes}")
        if any(r <= 0 for r in self.aspect_ratios):
            raise ValueError(f"PriorBox aspect_ratios must be > 0, received {self.aspect_ratios}")
        return self

    @property
    def per_cell(self) -> int:
        """Boxes per cell: ``len(ratios) x len(min_sizes) + len(max_sizes)``."""
        return len(_aspect_ratios(self.aspect_ratios, self.flip)) * len(self.min_sizes) + len(self.max_sizes)

    def output_shape(self, inputs):
        _, h, w = self.spatial_input(inputs)
        return (2, h * w * self.per_cell * 4)


@register
class Proposal(_Decoder):
    """Faster R-CNN's region proposal layer (py-faster-rcnn's ``ProposalLayer``,
    MatConvNet's ``vl_nnproposalrpn``): decodes the RPN's box deltas at every anchor, clips,
    drops small boxes, keeps the ``pre_nms`` best, suppresses overlaps (NMS) and outputs the
    ``rois`` best regions, ``rois x 5`` (batch index and box).  Inputs: the objectness
    probabilities ``2A x H x W`` and the box deltas ``4A x H x W`` (``A`` anchors per cell).

    ``rois`` is how many regions the image yields: at most the test setting
    ``RPN_POST_NMS_TOP_N`` (300), fewer when NMS leaves fewer; it is the network's ``rois``
    option and sets the cost of everything downstream.  No parameters, no gradient."""

    rois: int = 300
    feat_stride: int = 16
    scales: tuple[float, ...] = (8, 16, 32)
    ratios: tuple[float, ...] = (0.5, 1, 2)
    impl: Impl = "functional"
    arity = (2, 2)

    @model_validator(mode="after")
    def _check(self):
        check_positive("Proposal", rois=self.rois, feat_stride=self.feat_stride)
        return self

    def output_shape(self, inputs):
        scores, deltas = inputs
        a = len(self.scales) * len(self.ratios)
        if len(scores) != 3 or len(deltas) != 3 or scores[0] != 2 * a or deltas[0] != 4 * a:
            raise ShapeError(f"Proposal with {a} anchors per cell needs {2 * a} x H x W scores and {4 * a} x H x W "
                             f"deltas, received {fmt_shape(scores)} and {fmt_shape(deltas)}")
        return (self.rois, 5)

    def counts(self, inputs, output):
        return {"out": numel(output), "anchors": numel(inputs[1]) // 4}


@register
class DetectionOutput(_Decoder):
    """SSD's ``DetectionOutput`` (MatConvNet's ``vl_nnmultiboxdetector``): decodes the box
    deltas against the priors, thresholds the class scores, runs per-class NMS and keeps the
    ``keep_top_k`` best detections, each ``fields`` numbers: Caffe's 7 (image, class, score,
    box), MatConvNet's 6 (no image index; it allocates ``keepTopK x 6``, zero-filled, whatever
    the image).  Inputs: the flattened deltas, the flattened class scores and the priors.  How
    many detections Caffe keeps depends on the image: calc counts the ``keep_top_k`` rows it can
    hold.  No parameters, no gradient."""

    num_classes: int
    keep_top_k: int = 200
    fields: int = 7
    top_k: int = 400
    nms_threshold: float = 0.45
    confidence_threshold: float = 0.01
    impl: Impl = "functional"
    arity = (3, 3)

    @model_validator(mode="after")
    def _check(self):
        check_positive("DetectionOutput", num_classes=self.num_classes, keep_top_k=self.keep_top_k, fields=self.fields)
        return self

    def output_shape(self, inputs):
        loc, conf, priors = inputs
        if len(loc) != 1 or len(conf) != 1 or len(priors) != 2:
            raise ShapeError(f"DetectionOutput takes flat deltas, flat scores and 2 x N priors, received "
                             f"{fmt_shape(loc)}, {fmt_shape(conf)}, {fmt_shape(priors)}")
        if isinstance(loc[0], int) and isinstance(priors[1], int) and loc[0] != priors[1]:
            raise ShapeError(f"DetectionOutput: {loc[0] // 4} boxes of deltas but {priors[1] // 4} priors")
        if isinstance(conf[0], int) and isinstance(loc[0], int) and conf[0] * 4 != loc[0] * self.num_classes:
            raise ShapeError(f"DetectionOutput: {conf[0]} scores are not {self.num_classes} per one of the "
                             f"{loc[0] // 4} boxes")
        return (self.keep_top_k, self.fields)


