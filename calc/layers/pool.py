"""Pooling layers.

Counts: ``in`` and ``out`` elements and ``window`` = output elements x window
area (the comparisons or additions a direct implementation performs).
"""
from __future__ import annotations

from pydantic import model_validator

from calc.layers.base import Layer, numel, register
from calc.layers.spatial import IntPair, check_positive, pair, window_out_2d


class _Pool2d(Layer):
    kernel_size: IntPair
    stride: IntPair | None = None  # None: equal to kernel_size, as in PyTorch
    padding: IntPair = 0
    ceil_mode: bool = False

    @model_validator(mode="after")
    def _check(self):
        check_positive(self.op, kernel_size=self.kernel_size, stride=self.stride or 1)
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
        kh, kw = pair(self.kernel_size)
        out = numel(output)
        return {"in": numel(inputs[0]), "out": out, "window": out * kh * kw}


@register
class MaxPool2d(_Pool2d):
    """Max pooling (PyTorch semantics, including ``ceil_mode``)."""


@register
class AvgPool2d(_Pool2d):
    """Average pooling with a fixed window."""


@register
class GlobalAvgPool2d(Layer):
    """Average over the whole map: ``AdaptiveAvgPool2d(1)``, or ``x.mean([2, 3])``
    (``keepdims=False``, output ``(C,)``)."""

    keepdims: bool = True

    def output_shape(self, inputs):
        c, _, _ = self.spatial_input(inputs)
        return (c, 1, 1) if self.keepdims else (c,)

    def counts(self, inputs, output):
        n_in = numel(inputs[0])
        return {"in": n_in, "out": numel(output), "window": n_in}
