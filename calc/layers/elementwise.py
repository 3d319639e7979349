"""Per-element layers: batch norm, activations, softmax, dropout."""
from __future__ import annotations

from pydantic import model_validator

from calc.layers.base import Layer, numel, register
from calc.layers.spatial import IDENTITY


@register
class BatchNorm2d(Layer):
    """Batch norm over channels.  Params: gamma and beta (2C) when affine; the
    running mean/var are buffers, not parameters."""

    affine: bool = True
    eps: float = 1e-5

    elementwise = True

    def output_shape(self, inputs):
        return self.spatial_input(inputs)

    def param_counts(self, inputs):
        return {"affine": 2 * inputs[0][0] if self.affine else 0}

    def counts(self, inputs, output):
        return {"elems": numel(output)}


@register
class LRN(Layer):
    """Local response normalisation across channels (Krizhevsky et al. 2012; Caffe's LRN,
    ``nn.LocalResponseNorm``): ``b_c = a_c / (k + alpha / size * sum of a_j^2 over the
    size channels around c) ** beta``.  No parameters.

    Counts: ``elems`` (outputs), ``window`` (= elems x size, the squared terms summed) and
    ``padded`` (= (C + size - 1) x H x W, the zero-padded squares PyTorch's implementation
    pools over)."""

    size: int
    alpha: float = 1e-4
    beta: float = 0.75
    k: float = 1.0

    @model_validator(mode="after")
    def _check(self):
        if self.size < 1:
            raise ValueError(f"LRN size must be >= 1, received {self.size}")
        return self

    def output_shape(self, inputs):
        return self.spatial_input(inputs)

    def counts(self, inputs, output):
        c, h, w = output
        return {"elems": numel(output), "window": numel(output) * self.size,
                "padded": (c + self.size - 1) * h * w}

    def rf_window(self, inputs):
        return IDENTITY  # its window runs across channels: spatially 1x1


class Activation(Layer):
    """Base of the element-wise activations: one output per input element."""

    elementwise = True

    def counts(self, inputs, output):
        return {"elems": numel(output)}


@register
class ReLU(Activation):
    """max(x, 0)."""


@register
class ReLU6(Activation):
    """min(max(x, 0), 6)."""


@register
class LeakyReLU(Activation):
    """x if x > 0 else negative_slope * x."""

    negative_slope: float = 0.01


@register
class Sigmoid(Activation):
    """1 / (1 + exp(-x))."""


@register
class HardSigmoid(Activation):
    """relu6(x + 3) / 6."""


@register
class HardSwish(Activation):
    """x * relu6(x + 3) / 6."""


@register
class SiLU(Activation):
    """x * sigmoid(x) (a.k.a. swish)."""


@register
class Softmax(Layer):
    """Softmax over the channel (feature) axis."""

    def counts(self, inputs, output):
        n = numel(output)
        return {"elems": n, "rows": n // output[0]}

    def rf_window(self, inputs):
        return IDENTITY  # over the channels of one position


@register
class Dropout(Layer):
    """Identity at inference: free, and returns its input tensor."""

    p: float = 0.5
    aliases_input = True

    @model_validator(mode="after")
    def _check(self):
        if not 0.0 <= self.p < 1.0:
            raise ValueError(f"Dropout p must be in [0, 1), received {self.p}")
        return self
