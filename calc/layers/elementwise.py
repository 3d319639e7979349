"""Per-element layers: batch norm, activations, softmax, dropout."""
from __future__ import annotations

from pydantic import model_validator

from typing import ClassVar, Literal

from calc.errors import ShapeError
from calc.layers.backward import Grads, Saved
from calc.layers.base import Layer, fmt_shape, numel, register
from calc.layers.spatial import IDENTITY


@register
class BatchNorm2d(Layer):
    """Batch norm over channels.  Params: gamma and beta (2C) when affine; the
    running mean/var are buffers, not parameters.

    In training it normalises with the batch's statistics.  Backward, with
    ``x^ = (x - mean) * invstd``: ``dbeta = sum(dy)``, ``dgamma = sum(dy * x^)`` (the
    ``stats`` pass: x^ recomputed, a product and two sums), and, when the input needs a
    gradient, ``dx = gamma * invstd * (dy - mean(dy) - x^ * mean(dy * x^))`` (``grad_input``).
    PyTorch saves the input and the per-channel batch mean and inverse std (fp32), not the
    output."""

    affine: bool = True
    eps: float = 1e-5

    elementwise = True

    def output_shape(self, inputs):
        return self.spatial_input(inputs)

    def param_counts(self, inputs):
        """``affine``: gamma and beta; ``affine_moments``: the running mean and variance (2C
        buffers, not parameters: what a framework that stores them with the weights keeps,
        MatConvNet's ``moments``)."""
        c = inputs[0][0]
        return {"affine": 2 * c if self.affine else 0, "affine_moments": 2 * c}

    def counts(self, inputs, output):
        return {"elems": numel(output)}

    backward_quantities = ("stats", "grad_input")

    def backward_counts(self, inputs, output, grads: Grads):
        n = numel(output)
        return {"stats": n, "grad_input": n if grads.inputs[0] else 0}

    def saved_for_backward(self, inputs, output, grads: Grads):
        c = inputs[0][0]
        return (Saved.input(), Saved.new(c, "fp32", per_sample=False), Saved.new(c, "fp32", per_sample=False))


@register
class LRN(Layer):
    """Local response normalisation across channels (Krizhevsky et al. 2012; Caffe's LRN,
    ``nn.LocalResponseNorm``): ``b_c = a_c / (k + alpha / size * sum of a_j^2 over the
    size channels around c) ** beta``.  No parameters.

    Counts: ``elems`` (outputs), ``window`` (= elems x size, the squared terms summed),
    ``padded`` (= (C + size - 1) x H x W, the zero-padded squares PyTorch's implementation
    pools over) and ``positions`` (H x W, for convnet-burden's per-position rule).

    Backward, with ``d`` the denominator's base: ``dx_i = dy_i d_i^-beta - (2 alpha beta /
    size) x_i sum_j(dy_j b_j / d_j)`` over the window; ``F.local_response_norm`` is a
    chain of ops that save the input, the padded squares, ``d`` and ``d ** beta``."""

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
                "padded": (c + self.size - 1) * h * w, "positions": h * w}

    backward_quantities = ("elems", "window")

    def backward_counts(self, inputs, output, grads: Grads):
        n = numel(output) if grads.inputs[0] else 0
        return {"elems": n, "window": n * self.size}

    def saved_for_backward(self, inputs, output, grads: Grads):
        n = self.counts(inputs, output)
        return (Saved.input(), Saved.new(n["padded"]), Saved.new(n["elems"]), Saved.new(n["elems"]))

    def rf_window(self, inputs):
        return IDENTITY  # its window runs across channels: spatially 1x1


class Activation(Layer):
    """Base of the element-wise activations: one output per input element.

    Backward: ``dx = dy * f'(.)``, from the tensor named by ``saves``: the output when
    ``f'`` is a function of it (ReLU, sigmoid), else the input, as PyTorch's out-of-place
    op saves it.  (Run in place, ReLU and LeakyReLU save the output and ReLU6, HardSwish and
    SiLU a copy of their input; in a conv-BN-activation-conv chain that is the same number
    of storages of the same size, so calc records no in-place flag.)"""

    elementwise = True
    #: the tensor the backward reads
    saves: ClassVar[Literal["input", "output"]] = "input"
    backward_quantities = ("elems",)

    def counts(self, inputs, output):
        return {"elems": numel(output)}

    def backward_counts(self, inputs, output, grads: Grads):
        return {"elems": numel(output) if grads.inputs[0] else 0}

    def saved_for_backward(self, inputs, output, grads: Grads):
        return (Saved.output() if self.saves == "output" else Saved.input(),)


@register
class ReLU(Activation):
    """max(x, 0)."""

    saves = "output"


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

    saves = "output"


@register
class HardSigmoid(Activation):
    """``max(0, min(1, alpha * x + beta))``: PyTorch's ``relu6(x + 3) / 6`` is ``alpha = 1/6,
    beta = 0.5`` (the defaults); Keras' and ONNX's default ``alpha`` is 0.2.  The fields
    change the values, not the counts."""

    alpha: float = 1 / 6
    beta: float = 0.5


@register
class HardSwish(Activation):
    """x * relu6(x + 3) / 6."""


@register
class SiLU(Activation):
    """x * sigmoid(x) (a.k.a. swish)."""


@register
class Softmax(Layer):
    """Softmax over the channel (feature) axis, or over another per-sample axis ``dim``
    (SSD's class scores, ``N x classes``: ``dim=1``).  Backward: ``dx = y * (dy - sum(dy *
    y))`` per row, from the saved output.  ``rows``: the softmaxes computed (output elements
    / the axis' length)."""

    dim: int = 0
    backward_quantities = ("elems", "rows")

    @model_validator(mode="after")
    def _check(self):
        if self.dim < 0:
            raise ValueError(f"Softmax dim must be >= 0 (a per-sample axis: 0 is the channels), received {self.dim}")
        return self

    def output_shape(self, inputs):
        if len(inputs[0]) <= self.dim:
            raise ShapeError(f"Softmax over dim {self.dim} needs more than {self.dim} axes, received "
                             f"{fmt_shape(inputs[0])}")
        return inputs[0]

    def counts(self, inputs, output):
        d = self.dim
        return {"elems": numel(output), "rows": numel(output[:d] + output[d + 1:])}

    def backward_counts(self, inputs, output, grads: Grads):
        return self.counts(inputs, output) if grads.inputs[0] else {"elems": 0, "rows": 0}

    def saved_for_backward(self, inputs, output, grads: Grads):
        return (Saved.output(),)

    def rf_window(self, inputs):
        return IDENTITY  # over the channels of one position


@register
class Dropout(Layer):
    """Identity at inference: free, and returns its input tensor.

    In training (``p > 0``) it draws a mask and multiplies by it (``elems``), into a new
    tensor, and the backward multiplies the gradient by the same mask.  PyTorch saves the
    mask: a bool tensor on CUDA (the fused ``native_dropout``; calc's figures assume CUDA),
    the fp32 scaled noise on the CPU.  ``p = 0`` returns the input untouched."""

    p: float = 0.5
    aliases_input = True
    backward_quantities = ("elems",)

    def train_counts(self, inputs, output):
        return {"elems": numel(output) if self.p > 0 else 0}

    def trains_as_view(self) -> bool:
        return self.p == 0

    def backward_counts(self, inputs, output, grads: Grads):
        return {"elems": numel(output) if self.p > 0 and grads.inputs[0] else 0}

    def saved_for_backward(self, inputs, output, grads: Grads):
        return (Saved.new(numel(output), "bool"),) if self.p > 0 else ()

    @model_validator(mode="after")
    def _check(self):
        if not 0.0 <= self.p < 1.0:
            raise ValueError(f"Dropout p must be in [0, 1), received {self.p}")
        return self
