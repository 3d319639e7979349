"""Convolution and fully connected layers: the layers that own the MACs."""
from __future__ import annotations

from pydantic import model_validator

from calc.errors import ShapeError
from calc.layers.backward import Grads, Saved
from calc.layers.base import Layer, Shape, fmt_shape, register
from calc.layers.spatial import (
    WHOLE, IntPair, Padding, check_padding, check_positive, conv_window, pair, window_out_2d,
)


@register
class Conv2d(Layer):
    """2-D convolution, PyTorch semantics (``padding="same"`` is TF-style: output
    ``ceil(in / stride)``; four-sided ``(left, right, top, bottom)``, ZeroPad2d's order, is
    the asymmetric padding of ONNX files).  ``groups == in_channels`` is a depthwise conv.

    MACs = output elements x (in_channels / groups) x kh x kw  (bias excluded);
    params = out_channels x (in_channels / groups) x kh x kw (+ out_channels bias).

    Backward: the input gradient is the transposed convolution of the output gradient
    with the weight, the weight gradient the correlation of the input with the output
    gradient.  Each forward product ``x[i] * w[j]`` (one per output element and filter
    tap) appears exactly once in each, as ``dy * w[j]`` and ``dy * x[i]``, so both cost the
    forward MACs whatever the groups, stride or dilation: a grouped or depthwise conv's
    backward is as cheap, relative to its forward, as a dense one's.  The bias gradient
    sums the output gradient (one add per output element).  PyTorch saves the input
    (and the weight, a parameter) whichever gradients are needed: ``convolution_backward``
    is one formula for all three.

    ``macs_regrouped`` and ``weights_regrouped`` are the same with the filter's input
    depth (already in_channels / groups) divided by groups a second time, in integer
    division: what Paddle 1.x ``model_stat`` computes (its ``paddle`` convention), 0
    for a depthwise conv and equal to the true count when groups = 1.
    """

    out_channels: int
    kernel_size: IntPair
    stride: IntPair = 1
    padding: Padding = 0
    dilation: IntPair = 1
    groups: int = 1
    bias: bool = True

    @model_validator(mode="after")
    def _check(self) -> "Conv2d":
        check_positive("Conv2d", out_channels=self.out_channels, kernel_size=self.kernel_size,
                       stride=self.stride, dilation=self.dilation, groups=self.groups)
        check_padding("Conv2d", self.padding)
        if self.out_channels % self.groups:
            raise ValueError(
                f"Conv2d out_channels must be divisible by groups; received "
                f"out_channels={self.out_channels}, groups={self.groups}"
            )
        return self

    def _in_channels(self, inputs: list[Shape]) -> int:
        c = self.spatial_input(inputs)[0]
        if c % self.groups:
            raise ShapeError(
                f"input channels must be divisible by groups; received "
                f"channels={c}, groups={self.groups}"
            )
        return c

    def depthwise(self, inputs: list[Shape]) -> bool:
        """Each filter sees one input channel (``groups == in_channels > 1``; the output
        may have a channel multiplier, ``out_channels = k x in_channels``)."""
        return self.groups > 1 and self.groups == self.spatial_input(inputs)[0]

    def output_shape(self, inputs):
        c, h, w = self.spatial_input(inputs)
        self._in_channels(inputs)
        ho, wo = window_out_2d("Conv2d", h, w, self.kernel_size, self.stride, self.padding, self.dilation)
        return (self.out_channels, ho, wo)

    def rf_window(self, inputs):
        """The kernel, stride, top/left padding and dilation (groups do not change what a
        position sees spatially)."""
        _, h, w = self.spatial_input(inputs)
        return conv_window(self.kernel_size, self.stride, self.padding, self.dilation, (h, w))

    def weight_per_output(self, inputs) -> int:
        return self._per_output(inputs)[0]

    def _per_output(self, inputs) -> tuple[int, int]:
        """The weights behind one output element, and the same with the filter depth divided
        by groups a second time (Paddle 1.x's count)."""
        kh, kw = pair(self.kernel_size)
        depth = self._in_channels(inputs) // self.groups
        return depth * kh * kw, depth // self.groups * kh * kw

    def param_counts(self, inputs):
        per, regrouped = self._per_output(inputs)
        return {"weights": self.out_channels * per, "bias": self.out_channels if self.bias else 0,
                "weights_regrouped": self.out_channels * regrouped}

    def counts(self, inputs, output):
        out = output[0] * output[1] * output[2]
        per, regrouped = self._per_output(inputs)
        return {"macs": out * per, "bias": out if self.bias else 0, "out": out, "macs_regrouped": out * regrouped}

    backward_quantities = ("macs_input", "macs_weight", "bias")

    def backward_counts(self, inputs, output, grads: Grads):
        return _dense_backward(self.counts(inputs, output), self.bias, grads)

    def saved_for_backward(self, inputs, output, grads: Grads):
        return (Saved.input(),)


def _dense_backward(forward: dict[str, int], bias: bool, grads: Grads) -> dict[str, int]:
    """Input gradient and weight gradient, each the forward MACs; bias gradient one add per
    output.  Only the gradients needed are computed."""
    return {"macs_input": forward["macs"] if grads.inputs[0] else 0,
            "macs_weight": forward["macs"] if grads.params else 0,
            "bias": forward["out"] if bias and grads.params else 0}


@register
class Linear(Layer):
    """Fully connected layer on a vector ``(F,)``: MACs = F x out_features.

    Backward: ``dx = dy W`` and ``dW = dy^T x``, each F x out_features MACs per sample;
    the bias gradient sums ``dy``.  PyTorch (``addmm``/``mm``) saves the input only when
    the weight is trained (it is the weight gradient's operand) and the weight, a
    parameter, only when the input needs a gradient."""

    out_features: int
    bias: bool = True

    @model_validator(mode="after")
    def _check(self) -> "Linear":
        check_positive("Linear", out_features=self.out_features)
        return self

    def _in_features(self, inputs) -> int:
        shape = inputs[0]
        if len(shape) != 1:
            raise ShapeError(f"Linear needs a flat vector input, received shape {fmt_shape(shape)} (add a Flatten)")
        return shape[0]

    def output_shape(self, inputs):
        self._in_features(inputs)
        return (self.out_features,)

    def rf_window(self, inputs):
        return WHOLE  # every output reads every input feature

    def param_counts(self, inputs):
        return {"weights": self._in_features(inputs) * self.out_features,
                "bias": self.out_features if self.bias else 0}

    def counts(self, inputs, output):
        return {
            "macs": self._in_features(inputs) * self.out_features,
            "bias": self.out_features if self.bias else 0,
            "out": self.out_features,
        }

    backward_quantities = Conv2d.backward_quantities

    def backward_counts(self, inputs, output, grads: Grads):
        return _dense_backward(self.counts(inputs, output), self.bias, grads)

    def saved_for_backward(self, inputs, output, grads: Grads):
        return (Saved.input(),) if grads.params else ()
