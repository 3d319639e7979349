"""Pooling layers.

Counts: ``in`` and ``out`` elements and ``window`` = output elements x window
area (the comparisons or additions a direct implementation performs).
"""
from __future__ import annotations

from fractions import Fraction
from math import gcd

from pydantic import model_validator

from calc.layers.backward import Grads, Saved
from calc.layers.base import Layer, numel, register
from calc.layers.spatial import (
    WHOLE, IntPair, PoolPadding, RFWindow, check_padding, check_positive, conv_window, pair, window_out_2d,
)

CEIL_NOTE = ("ceil mode adds a last row/column whose window starts inside the input and runs "
             "past its bottom/right edge (implicit padding there): rf, jump and padding, which "
             "the top/left edge fixes, are unchanged")


class _Pool2d(Layer):
    """A fixed-window pool.  ``padding``: every side, ``(H, W)``, or four-sided ``(left,
    right, top, bottom)`` (ZeroPad2d's order; the asymmetric ``pads`` of ONNX files)."""

    kernel_size: IntPair
    stride: IntPair | None = None  # None: equal to kernel_size, as in PyTorch
    padding: PoolPadding = 0
    ceil_mode: bool = False

    @model_validator(mode="after")
    def _check(self):
        check_positive(self.op, kernel_size=self.kernel_size, stride=self.stride or 1)
        check_padding(self.op, self.padding)
        return self

    @property
    def effective_stride(self) -> IntPair:
        return self.kernel_size if self.stride is None else self.stride

    def output_shape(self, inputs):
        c, h, w = self.spatial_input(inputs)
        ho, wo = window_out_2d(self.op, h, w, self.kernel_size, self.effective_stride,
                               self.padding, 1, self.ceil_mode)
        return (c, ho, wo)

    def counts(self, inputs, output):
        """``window``: output x kernel area; ``strided``: output x stride area (convnet-burden's
        "two flops per location" rule, independent of the window)."""
        kh, kw = pair(self.kernel_size)
        sh, sw = pair(self.effective_stride)
        out = numel(output)
        return {"in": numel(inputs[0]), "out": out, "window": out * kh * kw, "strided": out * sh * sw}

    def rf_window(self, inputs):
        _, h, w = self.spatial_input(inputs)
        note = None
        if self.ceil_mode:
            floor = window_out_2d(self.op, h, w, self.kernel_size, self.effective_stride, self.padding)
            if floor != self.output_shape(inputs)[1:]:
                note = CEIL_NOTE
        return conv_window(self.kernel_size, self.effective_stride, self.padding, 1, (h, w), note)


@register
class MaxPool2d(_Pool2d):
    """Max pooling (PyTorch semantics, including ``ceil_mode``).  Backward: each output's
    gradient is added at its window's argmax (``out`` adds); PyTorch
    (``max_pool2d_with_indices``) saves the input and the argmax indices, int64."""

    backward_quantities = ("out",)

    def backward_counts(self, inputs, output, grads: Grads):
        return {"out": numel(output) if grads.inputs[0] else 0}

    def saved_for_backward(self, inputs, output, grads: Grads):
        return (Saved.input(), Saved.new(numel(output), "int64"))


@register
class AvgPool2d(_Pool2d):
    """Average pooling with a fixed window.  Backward: each output's gradient divided by
    the window (``out``) and added to every input of its window (``window``); PyTorch saves
    the input (for its shape).

    Also counts ``window_as_written``: output elements x the product of ``kernel_size`` *as
    written*, so an int ``k`` gives ``k`` (not ``k*k``) and a pair ``(kh, kw)`` gives
    ``kh*kw``: what thop 2019's ``count_avgpool`` multiplied (``torch.prod(torch.Tensor(
    [m.kernel_size]))``), its ``thop_2019`` rule."""

    backward_quantities = ("window", "out")

    def counts(self, inputs, output):
        kernel = self.kernel_size
        written = kernel if isinstance(kernel, int) else kernel[0] * kernel[1]
        return {**super().counts(inputs, output), "window_as_written": numel(output) * written}

    def backward_counts(self, inputs, output, grads: Grads):
        return _spread_backward(self.counts(inputs, output), grads)

    def saved_for_backward(self, inputs, output, grads: Grads):
        return (Saved.input(),)


def _spread_backward(forward: dict[str, int], grads: Grads) -> dict[str, int]:
    """An average pool's backward: divide each output gradient, add it over its window."""
    need = grads.inputs[0]
    return {"window": forward["window"] if need else 0, "out": forward["out"] if need else 0}


def _mean_backward(inputs, grads: Grads) -> dict[str, int]:
    """A global average is ``x.mean([2, 3])`` in PyTorch (``adaptive_avg_pool2d`` to 1x1
    calls it): its backward expands the gradient and divides it by H x W, one divide per
    input element, and it saves no tensor."""
    return {"in": numel(inputs[0]) if grads.inputs[0] else 0}


@register
class GlobalAvgPool2d(Layer):
    """Average over the whole map: ``AdaptiveAvgPool2d(1)``, or ``x.mean([2, 3])``
    (``keepdims=False``, output ``(C,)``).  Backward: see :func:`_mean_backward`."""

    keepdims: bool = True

    def output_shape(self, inputs):
        c, _, _ = self.spatial_input(inputs)
        return (c, 1, 1) if self.keepdims else (c,)

    def counts(self, inputs, output):
        n_in = numel(inputs[0])
        return {"in": n_in, "out": numel(output), "window": n_in}

    backward_quantities = ("in",)

    def backward_counts(self, inputs, output, grads: Grads):
        return _mean_backward(inputs, grads)

    def saved_for_backward(self, inputs, output, grads: Grads):
        return ()  # see _mean_backward

    def rf_window(self, inputs):
        return WHOLE


def _adaptive_windows(size: int, out: int) -> int:
    """Sum of PyTorch's adaptive window lengths along one axis (window i spans
    floor(i*size/out) .. ceil((i+1)*size/out)), in closed form: the windows cover
    the axis once, plus one overlap at every boundary that does not fall on a
    pixel edge, so the sum is ``size + out - gcd(size, out)``."""
    if not isinstance(size, int):  # a size standing for many (calc.grid)
        import numpy as np

        return size.map(lambda a: a + out - np.gcd(a, out), key=("adaptive", out))
    return size + out - gcd(size, out)


@register
class AdaptiveAvgPool2d(Layer):
    """PyTorch's adaptive average pool to ``output_size`` (windows may overlap when
    the input does not divide evenly).  ``output_size=1`` is a global pool.

    Backward: a global pool's is the mean's (see :class:`GlobalAvgPool2d`); otherwise an
    average pool's, and PyTorch (``_adaptive_avg_pool2d``) saves the input, even when the
    output has the input's size."""

    backward_quantities = ("in", "window", "out")

    @property
    def is_global(self) -> bool:
        return pair(self.output_size) == (1, 1)

    output_size: IntPair

    @model_validator(mode="after")
    def _check(self):
        check_positive("AdaptiveAvgPool2d", output_size=self.output_size)
        return self

    def output_shape(self, inputs):
        c, _, _ = self.spatial_input(inputs)
        oh, ow = pair(self.output_size)
        return (c, oh, ow)

    def counts(self, inputs, output):
        c, h, w = inputs[0]
        oh, ow = pair(self.output_size)
        window = c * _adaptive_windows(h, oh) * _adaptive_windows(w, ow)
        return {"in": numel(inputs[0]), "out": numel(output), "window": window}

    def backward_counts(self, inputs, output, grads: Grads):
        if self.is_global:
            return {**_mean_backward(inputs, grads), "window": 0, "out": 0}
        return {"in": 0, **_spread_backward(self.counts(inputs, output), grads)}

    def saved_for_backward(self, inputs, output, grads: Grads):
        return () if self.is_global else (Saved.input(),)

    def rf_window(self, inputs):
        """A global pool at ``output_size=1``; a fixed window ``size / out`` where ``out``
        divides the input; otherwise the windows vary in length and position, and the
        window is the tightest affine bound of them, stride ``size / out`` (a Fraction)."""
        _, h, w = self.spatial_input(inputs)
        outs = pair(self.output_size)
        if outs == (1, 1):
            return WHOLE
        axes = [_adaptive_axis(n, m) for n, m in zip((h, w), outs)]
        exact = all(n % m == 0 for n, m in zip((h, w), outs))
        note = None if exact else (f"adaptive windows vary ({h}x{w} to {outs[0]}x{outs[1]}): "
                                   "an affine bound of them")
        return RFWindow(kernel=tuple(a[0] for a in axes), stride=tuple(a[1] for a in axes),
                        padding=tuple(a[2] for a in axes), exact=exact, note=note)


def _adaptive_axis(size: int, out: int) -> tuple:
    """(kernel, stride, padding) of the affine window that contains every adaptive window
    ``floor(i size / out) .. ceil((i + 1) size / out) - 1``: exact when ``out`` divides ``size``."""
    if size % out == 0:
        return size // out, size // out, 0
    stride = Fraction(size, out)
    starts = [i * size // out for i in range(out)]
    ends = [-(-(i + 1) * size // out) - 1 for i in range(out)]
    pad = max(i * stride - a for i, a in enumerate(starts))
    kernel = max(b - (i * stride - pad) for i, b in enumerate(ends)) + 1
    return kernel, stride, pad
