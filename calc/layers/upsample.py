"""Fixed (unlearned) upsampling: PyTorch's ``nn.Upsample`` and Caffe's ``Interp`` (DeepLab).

Counts: ``out`` (output elements), and ``bilinear`` / ``nearest`` (the output elements of
that mode, 0 otherwise), so a convention can weigh the modes apart.  No parameters.
"""
from __future__ import annotations

import math
from fractions import Fraction
from typing import Literal, Union

from pydantic import model_validator

from calc.errors import ShapeError
from calc.layers.backward import Grads, Saved
from calc.layers.base import Impl, Layer, numel, register
from calc.layers.spatial import IntPair, RFWindow, pair

Scale = Union[float, tuple[float, float]]


def _modes(mode: str, n: int) -> dict[str, int]:
    return {"out": n, "bilinear": n if mode == "bilinear" else 0, "nearest": n if mode == "nearest" else 0}


def _bilinear_axis(ratio: Fraction, offset: Fraction) -> tuple:
    """(kernel, stride, padding) of a bilinear interpolation that samples output ``o`` at
    source position ``src = o x ratio + offset`` and reads ``floor(src)`` and ``floor(src) + 1``:
    the integers in ``[src - (q - 1) / q, src + 1]``, ``q`` the denominator of ``src``'s
    steps (exactly those two: ``floor(src) >= src - (q - 1) / q``).  Positions outside the
    input are its clamped edge, which the field counts as padding."""
    q = math.lcm(Fraction(ratio).denominator, Fraction(offset).denominator)
    slack = Fraction(q - 1, q)
    return _num(slack + 2), _num(ratio), _num(slack - offset)


def _nearest_axis(ratio: Fraction) -> tuple:
    """(kernel, stride, padding) of nearest upsampling, output ``o`` reading ``floor(o x
    ratio)``: the one integer in ``[o ratio - (q - 1) / q, o ratio]``, ``q`` the denominator
    of ``ratio`` (``ratio = 1 / f`` for a factor ``f``: kernel ``(2f - 1) / f``, stride
    ``1 / f``, padding ``(f - 1) / f``, as :class:`~calc.layers.spatial.RFWindow` says)."""
    slack = Fraction(ratio.denominator - 1, ratio.denominator)
    return _num(slack + 1), _num(ratio), _num(slack)


def _num(v: Fraction):
    return int(v) if v.denominator == 1 else v


@register
class Upsample(Layer):
    """``nn.Upsample`` / ``F.interpolate`` on a map, PyTorch semantics: to ``size``, or by
    ``scale_factor`` (output ``floor(H x scale)``), ``mode`` nearest or bilinear
    (``align_corners`` only moves where the samples fall).

    Backward: each output gradient is added to the input position(s) it was read from
    (``out`` for nearest, four products and adds per output for bilinear); nothing is saved
    (the sizes suffice)."""

    size: IntPair | None = None
    scale_factor: Scale | None = None
    mode: Literal["nearest", "bilinear"] = "nearest"
    align_corners: bool = False
    backward_quantities = ("out", "bilinear")

    @model_validator(mode="after")
    def _check(self):
        if (self.size is None) == (self.scale_factor is None):
            raise ValueError("Upsample takes either size or scale_factor (one of them)")
        if self.size is not None and min(pair(self.size)) < 1:
            raise ValueError(f"Upsample size must be >= 1, received {self.size}")
        if self.scale_factor is not None:
            sf = self.scale_factor if isinstance(self.scale_factor, tuple) else (self.scale_factor,) * 2
            if not all(math.isfinite(f) and f > 0 for f in sf):
                raise ValueError(f"Upsample scale_factor must be a positive number, received {self.scale_factor}")
        if self.align_corners and self.mode == "nearest":
            raise ValueError("Upsample align_corners applies to bilinear mode, not nearest")
        return self

    def _factors(self) -> tuple[float, float]:
        sf = self.scale_factor
        return sf if isinstance(sf, tuple) else (sf, sf)

    def output_shape(self, inputs):
        c, h, w = self.spatial_input(inputs)
        if self.size is not None:
            return (c, *pair(self.size))
        out = []
        for n, f in zip((h, w), self._factors()):
            if float(f).is_integer():  # exact integer arithmetic (symbolic sizes pass through)
                out.append(n * int(f))
            elif isinstance(n, int):
                out.append(_floor_scaled(n, f))
            else:
                out.append(n.map(lambda a, f=f: _floor_scaled_array(a, f), key=("upsample", f)))
        if any(isinstance(v, int) and v < 1 for v in out):
            raise ShapeError(f"Upsample by {self.scale_factor} of a {h}x{w} map leaves nothing")
        return (c, *out)

    def counts(self, inputs, output):
        return _modes(self.mode, numel(output))

    def backward_counts(self, inputs, output, grads: Grads):
        counts = self.counts(inputs, output) if grads.inputs[0] else {"out": 0, "bilinear": 0}
        return {"out": counts["out"], "bilinear": counts["bilinear"]}

    def saved_for_backward(self, inputs, output, grads: Grads):
        return ()

    def rf_window(self, inputs):
        """Nearest: each output reads ``floor(o x ratio)``; bilinear: the two input positions
        around its sample (``src = (o + 1/2) ratio - 1/2``, or ``o (in - 1) / (out - 1)`` with
        ``align_corners``).  ``ratio`` is ``1 / scale_factor`` when a factor is given (PyTorch
        samples by the factor), ``in / out`` for a size."""
        _, h, w = self.spatial_input(inputs)
        out = self.output_shape(inputs)[1:]
        axes = []
        for n, m, f in zip((h, w), out, self._factors() if self.scale_factor is not None else (None, None)):
            if self.mode == "bilinear" and self.align_corners:
                ratio = Fraction(n - 1, m - 1) if m > 1 else Fraction(0)
                axes.append(_bilinear_axis(ratio, Fraction(0)))
                continue
            ratio = 1 / Fraction(str(f)) if f is not None else Fraction(n, m)
            axes.append(_nearest_axis(ratio) if self.mode == "nearest" else _bilinear_axis(ratio, (ratio - 1) / 2))
        return RFWindow(kernel=tuple(a[0] for a in axes), stride=tuple(a[1] for a in axes),
                        padding=tuple(a[2] for a in axes))


def _floor_scaled(n: int, f: float) -> int:
    return int(math.floor(n * f))


def _floor_scaled_array(a, f: float):
    import numpy as np

    return np.floor(a * f).astype(np.int64)


@register
class Interp(Layer):
    """Caffe's ``Interp`` layer (DeepLab's ``interp_layer.cpp``): bilinear resizing with
    ``align_corners`` semantics, the output size given by factors or explicitly.  Per axis,
    with ``n = H + pad_beg + pad_end`` (the pads are <= 0, a crop):

    - ``zoom_factor`` ``z`` and ``shrink_factor`` ``s``: ``m = (n - 1) // s + 1``, then
      ``m + (m - 1) (z - 1)``;
    - ``zoom_factor`` alone: ``n + (n - 1) (z - 1)``; ``shrink_factor`` alone: ``(n - 1) // s + 1``;
    - ``height`` and ``width``: that size;
    - none of them, and a second input, the *reference*: the reference's height and width
      (read for its shape only: DeepLab's multi-scale branch resized to the full scale's map).

    (MatConvNet's ``vl_nninterp``, which convnet-burden ran, computes ``(n - 1) / s + 1`` in
    floating point and rounds the zoomed size: the same wherever ``s`` divides ``n - 1``,
    as at DeepLab's 513 x 513.)  Reference code calls it as a function (``impl`` functional).
    Backward: like a bilinear :class:`Upsample`'s."""

    zoom_factor: int | None = None
    shrink_factor: int | None = None
    height: int | None = None
    width: int | None = None
    pad_beg: int = 0
    pad_end: int = 0
    impl: Impl = "functional"
    arity = (1, 2)
    shape_only_inputs = frozenset({1})
    backward_quantities = ("out", "bilinear")

    @model_validator(mode="after")
    def _check(self):
        sized = self.height is not None or self.width is not None
        factored = self.zoom_factor is not None or self.shrink_factor is not None
        if (sized and factored) or (sized and (self.height is None or self.width is None)):
            raise ValueError("Interp takes zoom_factor and/or shrink_factor, or height and width, or neither "
                             "(with a reference input)")
        for name in ("zoom_factor", "shrink_factor", "height", "width"):
            v = getattr(self, name)
            if v is not None and v < 1:
                raise ValueError(f"Interp {name} must be >= 1, received {v}")
        if self.pad_beg > 0 or self.pad_end > 0:
            raise ValueError(f"Interp pad_beg and pad_end must be <= 0 (a crop), received {self.pad_beg}, {self.pad_end}")
        return self

    def _axis(self, n):
        n = n + (self.pad_beg + self.pad_end)
        if isinstance(n, int) and n < 1:
            raise ShapeError(f"Interp crops the whole map (pad_beg {self.pad_beg}, pad_end {self.pad_end})")
        s, z = self.shrink_factor, self.zoom_factor
        if s is not None and s > 1:
            n = (n - 1) // s + 1 if isinstance(n, int) else \
                n.map(lambda a, s=s: (a - 1) // s + 1, key=("interp-shrink", s))
        if z is not None:
            n = n + (n - 1) * (z - 1)
        return n

    def output_shape(self, inputs):
        c, h, w = self.spatial_input(inputs)
        factored = self.zoom_factor is not None or self.shrink_factor is not None
        if len(inputs) == 2:
            if factored or self.height is not None:
                raise ShapeError("Interp resizes to its reference input's size: give it no factors or size")
            ref = inputs[1]
            if len(ref) != 3:
                raise ShapeError(f"Interp's reference must be a CxHxW map, received {'x'.join(map(str, ref))}")
            return (c, *ref[1:])
        if self.height is not None:
            return (c, self.height, self.width)
        if not factored:
            raise ShapeError("Interp needs zoom_factor and/or shrink_factor, height and width, or a reference input")
        return (c, self._axis(h), self._axis(w))

    def counts(self, inputs, output):
        return _modes("bilinear", numel(output))

    def backward_counts(self, inputs, output, grads: Grads):
        n = numel(output) if grads.inputs[0] else 0
        return {"out": n, "bilinear": n}

    def saved_for_backward(self, inputs, output, grads: Grads):
        return ()

    def rf_window(self, inputs):
        """Output ``o`` samples the (cropped) input at ``o (n - 1) / (m - 1) - pad_beg`` and reads
        the two positions around it (align_corners)."""
        _, h, w = self.spatial_input(inputs)
        out = self.output_shape(inputs)[1:]
        axes = []
        for n, m in zip((h, w), out):
            n = n + self.pad_beg + self.pad_end
            ratio = Fraction(n - 1, m - 1) if m > 1 else Fraction(0)
            axes.append(_bilinear_axis(ratio, Fraction(-self.pad_beg)))
        return RFWindow(kernel=tuple(a[0] for a in axes), stride=tuple(a[1] for a in axes),
                        padding=tuple(a[2] for a in axes))
