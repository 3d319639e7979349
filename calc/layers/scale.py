"""Multiplication by a constant."""
from __future__ import annotations

import math

from pydantic import model_validator

from calc.layers.backward import Grads
from calc.layers.base import Impl, Layer, numel, register


@register
class Scale(Layer):
    """``x * factor`` for a constant ``factor`` (Inception-ResNet's residual scaling
    ``out * scale + x``, DPN's ``0.5 * (avg + max)``): one multiply per element, no
    parameters.  Reference code writes it as the ``*`` operator, which hook-based tools
    do not see."""

    factor: float
    impl: Impl = "operator"
    elementwise = True
    backward_quantities = ("elems",)

    @model_validator(mode="after")
    def _check(self):
        if not math.isfinite(self.factor):
            raise ValueError(f"Scale factor must be a finite number, received {self.factor}")
        return self

    def counts(self, inputs, output):
        return {"elems": numel(output)}

    def backward_counts(self, inputs, output, grads: Grads):
        # dx = dy * factor: one multiply per element
        return {"elems": numel(output) if grads.inputs[0] else 0}

    def saved_for_backward(self, inputs, output, grads: Grads):
        return ()  # the factor is a constant: autograd keeps no tensor (torch's mul by a Python scalar)
