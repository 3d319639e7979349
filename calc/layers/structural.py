"""Layers that combine, split or reshape tensors."""
from __future__ import annotations

from pydantic import model_validator

from calc.errors import ShapeError
from calc.layers.backward import Grads, Saved
from calc.layers.base import Impl, Layer, fmt_shape, numel, register, same_dims
from calc.layers.spatial import IDENTITY, RFWindow, Sides, check_positive


def _shapes(inputs) -> str:
    return ", ".join(fmt_shape(s) for s in inputs)


@register
class Add(Layer):
    """Element-wise sum of two or more tensors of equal shape (a residual join).  Backward:
    the output gradient is every input's gradient, unchanged."""

    impl: Impl = "operator"
    arity = (2, None)
    elementwise = True
    free_backward = True

    def output_shape(self, inputs):
        if not all(same_dims(s, inputs[0]) for s in inputs[1:]):
            raise ShapeError(f"Add needs inputs of equal shape, received {_shapes(inputs)}")
        return inputs[0]

    def counts(self, inputs, output):
        """``elems``: the additions (output x (inputs - 1)); ``out``: the output elements (a
        sum of any number of inputs written once: convnet-burden's rule)."""
        n = numel(output)
        return {"elems": n * (len(inputs) - 1), "out": n}


@register
class Mul(Layer):
    """Element-wise product; the second input may be a per-channel ``(C, 1, 1)``
    gate (squeeze-and-excitation).  Not ``elementwise`` as a trait: the gate is broadcast
    from another branch, and engines run it as a kernel of its own."""

    impl: Impl = "operator"
    arity = (2, 2)
    backward_quantities = ("grad_a", "grad_b")

    def output_shape(self, inputs):
        a, b = inputs
        if not same_dims(a, b) and not (len(a) == 3 and (same_dims(b, (a[0], 1, 1)) or same_dims(b, (a[0],)))):
            raise ShapeError(f"Mul needs equal shapes or a (C,1,1) gate, received {_shapes(inputs)}")
        return a

    def rf_window(self, inputs):
        return IDENTITY  # a (C, 1, 1) gate reads its one position everywhere: calc.receptive broadcasts it

    def counts(self, inputs, output):
        return {"elems": numel(output)}

    def backward_counts(self, inputs, output, grads: Grads):
        """``da = dy * b`` (one product per element); ``db = dy * a``, summed over H x W when
        ``b`` is a broadcast gate (a product per element, then the adds of the reduction)."""
        n = numel(output)
        return {"grad_a": n if grads.inputs[0] else 0,
                "grad_b": 2 * n - numel(inputs[1]) if grads.inputs[1] else 0}

    def saved_for_backward(self, inputs, output, grads: Grads):
        """Each operand is saved for the other's gradient, only when that one is needed."""
        return tuple(Saved.input(1 - i) for i in (0, 1) if grads.inputs[i])


@register
class Concat(Layer):
    """Concatenation along channels (``torch.cat(xs, 1)``), or along another per-sample axis
    ``dim`` (``torch.cat(xs, dim + 1)``: SSD joins its prior boxes, ``2 x N`` each, along
    ``dim=1``).  A copy: no arithmetic."""

    dim: int = 0
    impl: Impl = "functional"
    arity = (2, None)
    free_backward = True  # each input's gradient is a slice of the output's

    @model_validator(mode="after")
    def _check(self):
        if self.dim < 0:
            raise ValueError(f"Concat dim must be >= 0 (a per-sample axis: 0 is the channels), received {self.dim}")
        return self

    def output_shape(self, inputs):
        d = self.dim
        if any(len(s) <= d for s in inputs):
            raise ShapeError(f"Concat along dim {d} needs inputs with more than {d} axes, received {_shapes(inputs)}")
        if not all(len(s) == len(inputs[0]) and same_dims(s[:d] + s[d + 1:], inputs[0][:d] + inputs[0][d + 1:])
                   for s in inputs[1:]):
            what = "spatial sizes" if d == 0 else f"sizes except along dim {d}"
            raise ShapeError(f"Concat needs equal {what}, received {_shapes(inputs)}")
        total = inputs[0][d]
        for s in inputs[1:]:
            total = total + s[d]
        return inputs[0][:d] + (total,) + inputs[0][d + 1:]

    def rf_window(self, inputs):
        return IDENTITY if self.dim == 0 else None  # a join along another axis is no map of pixels


@register
class ChannelSplit(Layer):
    """Part ``index`` of ``parts`` equal channel chunks (``x.chunk(parts, 1)[index]``);
    a view, so it costs no memory."""

    parts: int = 2
    index: int
    impl: Impl = "operator"
    aliases_input = True
    free_backward = True  # the gradient is written into its part of the input's
    splits_input = True

    @model_validator(mode="after")
    def _check(self):
        check_positive("ChannelSplit", parts=self.parts)
        if not 0 <= self.index < self.parts:
            raise ValueError(f"ChannelSplit index must be in [0, {self.parts}), received {self.index}")
        return self

    def output_shape(self, inputs):
        c = inputs[0][0]
        if c % self.parts:
            raise ShapeError(f"ChannelSplit: channels must be divisible by parts; received channels={c}, parts={self.parts}")
        return (c // self.parts,) + inputs[0][1:]


@register
class ChannelSlice(Layer):
    """Channels ``start`` to ``stop`` (exclusive) of the input, ``x[:, start:stop]``: parts
    of unequal size (DPN's residual and dense paths, GhostNet's trim); a view."""

    start: int = 0
    stop: int
    impl: Impl = "operator"
    aliases_input = True
    free_backward = True  # the gradient is written into its channels of the input's

    @model_validator(mode="after")
    def _check(self):
        if not 0 <= self.start < self.stop:
            raise ValueError(f"ChannelSlice needs 0 <= start < stop, received start={self.start}, stop={self.stop}")
        return self

    def output_shape(self, inputs):
        c = inputs[0][0]
        if self.stop > c:
            raise ShapeError(f"ChannelSlice stop={self.stop} is past the input's {c} channels")
        return (self.stop - self.start,) + inputs[0][1:]


@register
class ChannelShuffle(Layer):
    """ShuffleNet channel shuffle (reshape, transpose, copy): moves data, no arithmetic."""

    groups: int
    impl: Impl = "operator"
    reorders_channels = True
    free_backward = True  # the gradient is shuffled back

    @model_validator(mode="after")
    def _check(self):
        check_positive("ChannelShuffle", groups=self.groups)
        return self

    def output_shape(self, inputs):
        c = self.spatial_input(inputs)[0]
        if c % self.groups:
            raise ShapeError(f"input channels must be divisible by groups; received channels={c}, groups={self.groups}")
        return inputs[0]


@register
class Flatten(Layer):
    """``torch.flatten(x, 1)``: a view."""

    impl: Impl = "functional"
    aliases_input = True
    free_backward = True

    def output_shape(self, inputs):
        return (numel(inputs[0]),)


@register
class ZeroPad2d(Layer):
    """Zero padding of the two spatial axes, ``nn.ZeroPad2d``: an int (every side) or
    ``(left, right, top, bottom)``, the TF-"same" emulation of Caffe/TF ports (NASNet's
    ``(1, 0, 1, 0)``).  A copy: new memory, no arithmetic."""

    padding: Sides
    free_backward = True  # the gradient is the output's, cropped

    @model_validator(mode="after")
    def _check(self):
        if min(self.sides) < 0:
            raise ValueError(f"ZeroPad2d padding must be >= 0, received {self.padding}")
        return self

    @property
    def sides(self) -> tuple[int, int, int, int]:
        p = self.padding
        return (p, p, p, p) if isinstance(p, int) else tuple(int(v) for v in p)

    def output_shape(self, inputs):
        c, h, w = self.spatial_input(inputs)
        left, right, top, bottom = self.sides
        return (c, h + top + bottom, w + left + right)

    def rf_window(self, inputs):
        """Top and left padding shift the positions; bottom and right only add some."""
        left, _, top, _ = self.sides
        return RFWindow(padding=(top, left))

    def counts(self, inputs, output):
        return {"out": numel(output)}
