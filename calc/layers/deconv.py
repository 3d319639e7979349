"""Transposed convolution ("deconvolution"): the learned upsampling of FCN and its kin."""
from __future__ import annotations

from fractions import Fraction

from pydantic import model_validator

from calc.errors import ShapeError
from calc.layers.backward import Grads, Saved
from calc.layers.base import Layer, numel, register
from calc.layers.conv import _dense_backward
from calc.layers.spatial import IntPair, RFWindow, check_positive, pair


@register
class ConvTranspose2d(Layer):
    """``nn.ConvTranspose2d`` (Caffe's ``Deconvolution``, MatConvNet's ``vl_nnconvt``), PyTorch
    semantics: output ``(H - 1) x stride - 2 x padding + dilation x (kernel - 1) +
    output_padding + 1`` per axis.  Groups split the input and output channels alike.

    MACs are counted on the *input*, as PyTorch defines a transposed convolution (fvcore's
    ``conv_flop_count(transposed=True)``, thop's and ptflops' hooks): every input element is
    multiplied by each of the ``out_channels / groups x kh x kw`` weights of its group, so
    ``MACs = input elements x out_channels / groups x kh x kw`` (output positions that several
    input positions reach add up the products; the ones that none reaches get nothing but the
    bias).  Params: ``in_channels x out_channels / groups x kh x kw`` (+ out_channels bias).

    ``macs_input_depth`` is convnet-burden's count (``core/burden.m``, ``vl_nnconvt``:
    ``numel(x) x numel(F(:, :, 1, :))``; MatConvNet's filter bank is ``FH x FW x K x FD`` with
    ``FD`` the input depth whatever the groups): input elements x kh x kw x in_channels, which
    is the true count only when in_channels = out_channels / groups (FCN's 21 -> 21).
    ``macs_output`` is thop's (``calculate_conv2d_flops`` on the output): output elements x
    in_channels / groups x kh x kw.

    Backward: the input gradient is a convolution of the output gradient with the weight,
    the weight gradient a correlation of the output gradient with the input; as for a
    convolution, each forward product appears once in each, so both cost the forward MACs.
    PyTorch saves the input."""

    out_channels: int
    kernel_size: IntPair
    stride: IntPair = 1
    padding: IntPair = 0
    output_padding: IntPair = 0
    dilation: IntPair = 1
    groups: int = 1
    bias: bool = True

    @model_validator(mode="after")
    def _check(self) -> "ConvTranspose2d":
        check_positive("ConvTranspose2d", out_channels=self.out_channels, kernel_size=self.kernel_size,
                       stride=self.stride, dilation=self.dilation, groups=self.groups)
        if min(pair(self.padding)) < 0 or min(pair(self.output_padding)) < 0:
            raise ValueError(f"ConvTranspose2d padding and output_padding must be >= 0, received "
                             f"padding={self.padding}, output_padding={self.output_padding}")
        for op, s, d in zip(pair(self.output_padding), pair(self.stride), pair(self.dilation)):
            if op >= s and op >= d:  # PyTorch's rule
                raise ValueError(f"ConvTranspose2d output_padding must be smaller than stride or dilation; "
                                 f"received output_padding={self.output_padding}, stride={self.stride}, "
                                 f"dilation={self.dilation}")
        if self.out_channels % self.groups:
            raise ValueError(f"ConvTranspose2d out_channels must be divisible by groups; received "
                             f"out_channels={self.out_channels}, groups={self.groups}")
        return self

    def _in_channels(self, inputs) -> int:
        c = self.spatial_input(inputs)[0]
        if c % self.groups:
            raise ShapeError(f"input channels must be divisible by groups; received channels={c}, groups={self.groups}")
        return c

    def output_shape(self, inputs):
        _, h, w = self.spatial_input(inputs)
        self._in_channels(inputs)
        sizes = []
        for n, k, s, p, op, d in zip((h, w), pair(self.kernel_size), pair(self.stride), pair(self.padding),
                                     pair(self.output_padding), pair(self.dilation)):
            out = (n - 1) * s + (d * (k - 1) + op + 1 - 2 * p)  # linear in n: symbolic sizes pass through
            if isinstance(out, int) and out < 1:
                raise ShapeError(f"ConvTranspose2d with kernel {k}, stride {s} and padding {p} gives "
                                 f"{out} pixels from {n}: nothing is left")
            sizes.append(out if isinstance(out, int) else _positive(out))
        return (self.out_channels, *sizes)

    def param_counts(self, inputs):
        kh, kw = pair(self.kernel_size)
        return {"weights": self._in_channels(inputs) * self.out_channels // self.groups * kh * kw,
                "bias": self.out_channels if self.bias else 0}

    def counts(self, inputs, output):
        kh, kw = pair(self.kernel_size)
        c = self._in_channels(inputs)
        n_in, out = numel(inputs[0]), numel(output)
        return {"macs": n_in * (self.out_channels // self.groups) * kh * kw, "bias": out if self.bias else 0,
                "out": out, "in": n_in, "macs_input_depth": n_in * kh * kw * c,
                "macs_output": out * (c // self.groups) * kh * kw}

    backward_quantities = ("macs_input", "macs_weight", "bias")

    def backward_counts(self, inputs, output, grads: Grads):
        return _dense_backward(self.counts(inputs, output), self.bias, grads)

    def saved_for_backward(self, inputs, output, grads: Grads):
        return (Saved.input(),)

    def rf_window(self, inputs):
        """Output ``o`` reads the inputs ``i`` with ``i x s - p + d t = o`` for a tap ``t``: the
        integers in ``[(o + p - d (k - 1)) / s, (o + p) / s]``, a window of stride ``1 / s``,
        kernel ``d (k - 1) / s + 1`` and padding ``(d (k - 1) - p) / s``
        (:class:`~calc.layers.spatial.RFWindow`)."""
        kernel, stride, padding = [], [], []
        for k, s, p, d in zip(pair(self.kernel_size), pair(self.stride), pair(self.padding), pair(self.dilation)):
            kernel.append(_num(Fraction(d * (k - 1), s) + 1))
            stride.append(_num(Fraction(1, s)))
            padding.append(_num(Fraction(d * (k - 1) - p, s)))
        return RFWindow(kernel=tuple(kernel), stride=tuple(stride), padding=tuple(padding))


def _num(v: Fraction):
    """An int where the Fraction is whole (a stride-1 transposed conv is an ordinary window)."""
    return int(v) if v.denominator == 1 else v


def _positive(size):
    """A symbolic output size (calc.grid), with a guard that is <= 0 where it is."""
    size.map(lambda a: a, key=("deconv-positive",))
    return size
