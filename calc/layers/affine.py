"""A learned per-channel scale and shift."""
from __future__ import annotations

from pydantic import model_validator

from calc.layers.backward import Grads, Saved
from calc.layers.base import Impl, Layer, numel, register


@register
class ChannelAffine(Layer):
    """``x * gamma[c] + beta[c]``: a learned scale (``scale``) and shift (``bias``) per
    channel, without statistics.  Caffe's Scale layer after a statistics-only BatchNorm
    (Caffe's DenseNet and BN-Inception), which an ONNX file writes as ``Mul`` and ``Add``
    with ``(C, 1, 1)`` parameter tensors.  Params (kind ``affine``, like a norm's): C per
    term.  Counts: ``elems``, one multiply and/or one add per element.

    Backward: ``dx = dy * gamma`` (one multiply per element), ``dgamma = sum(dy * x)`` over
    H x W (a multiply and an add per element) and ``dbeta = sum(dy)`` (an add per element);
    the input is saved when ``gamma`` is trained."""

    scale: bool = True
    bias: bool = True
    impl: Impl = "operator"
    elementwise = True
    backward_quantities = ("grad_input", "grad_params")

    @model_validator(mode="after")
    def _check(self):
        if not (self.scale or self.bias):
            raise ValueError("ChannelAffine needs scale or bias (or both); with neither it is the identity")
        return self

    @property
    def terms(self) -> int:
        return int(self.scale) + int(self.bias)

    def param_counts(self, inputs):
        return {"affine": inputs[0][0] * self.terms}

    def counts(self, inputs, output):
        return {"elems": numel(output) * self.terms}

    def backward_counts(self, inputs, output, grads: Grads):
        n = numel(output)
        return {"grad_input": n if grads.inputs[0] and self.scale else 0,
                "grad_params": n * (2 * self.scale + self.bias) if grads.params else 0}

    def saved_for_backward(self, inputs, output, grads: Grads):
        return (Saved.input(),) if self.scale and grads.params else ()
