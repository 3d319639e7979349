"""Per-element layers: batch norm, activations, softmax, dropout."""
from __future__ import annotations

from pydantic import model_validator

from calc.layers.base import Layer, numel, register


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
