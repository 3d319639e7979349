"""L2 normalisation across channels with a learned scale: SSD's ``conv4_3_norm``."""
from __future__ import annotations

from pydantic import model_validator

from calc.layers.backward import Grads, Saved
from calc.layers.base import Layer, numel, register
from calc.layers.spatial import IDENTITY


@register
class L2Norm(Layer):
    """Caffe SSD's ``Normalize`` layer with ``across_spatial: false`` (and ssd.pytorch's
    ``L2Norm``): at every position the channel vector is divided by its L2 norm, then each
    channel is multiplied by a learned scale (``scale_filler`` 20 in SSD):
    ``y_c = s_c x_c / sqrt(sum_c' x_c'^2 + eps)``.  Params: ``C`` scales (``affine``), or one
    when ``channel_shared``.

    Counts: ``elems`` (outputs) and ``positions`` (H x W, one norm each).  calc's ``flops``:
    a square per element, C - 1 adds, an eps add and a square root per position, a divide
    and a scale multiply per element: ``4 elems + positions``.

    Backward (ssd.pytorch's chain ``x.pow(2).sum(1).sqrt() + eps``, ``x / norm``, ``w * x``):
    with ``u = x / norm``, the scale's gradient ``dw = sum(dy u)`` over the batch and the map
    (``weight``: a product and an add per element) and, when the input needs one,
    ``dx = (du - u sum_c(u du)) / norm`` with ``du = w dy`` (``elems``: ``du``, ``u du``, the
    channel sum, ``u x sum``, the subtraction and the division).  Saved (measured with
    saved-tensor hooks, torch 2.14.1): the input (pow, div), the square root and the norm after
    ``+ eps`` (one per position each), and ``u`` (the multiply's operand)."""

    channel_shared: bool = False
    eps: float = 1e-10
    backward_quantities = ("elems", "weight")
    elementwise = False

    @model_validator(mode="after")
    def _check(self):
        if not self.eps >= 0:
            raise ValueError(f"L2Norm eps must be >= 0, received {self.eps}")
        return self

    def output_shape(self, inputs):
        return self.spatial_input(inputs)

    def param_counts(self, inputs):
        return {"affine": 1 if self.channel_shared else inputs[0][0]}

    def counts(self, inputs, output):
        _, h, w = output
        return {"elems": numel(output), "positions": h * w}

    def backward_counts(self, inputs, output, grads: Grads):
        n = numel(output)
        return {"elems": n if grads.inputs[0] else 0, "weight": n if grads.params else 0}

    def saved_for_backward(self, inputs, output, grads: Grads):
        _, h, w = output
        return (Saved.input(), Saved.new(h * w), Saved.new(h * w), Saved.new(numel(output)))

    def rf_window(self, inputs):
        return IDENTITY  # across the channels of one position
