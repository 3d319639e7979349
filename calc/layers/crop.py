"""Spatial crop: rows and columns removed from the sides of a feature map."""
from __future__ import annotations

from pydantic import model_validator

from calc.errors import ShapeError
from calc.layers.backward import Grads, Saved
from calc.layers.spatial import RFWindow
from calc.layers.base import Impl, Layer, fmt_shape, numel, register


@register
class Crop(Layer):
    """``x[:, :, top:H - bottom, left:W - right]``: ``top``, ``bottom``, ``left`` and
    ``right`` rows and columns removed from the sides of the map (all >= 0, default 0).

    It is the second half of the TF-"same" emulation of Cadene's NASNet/PNASNet ports
    (``ZeroPad2d((1, 0, 1, 0))``, a conv or pool with symmetric padding, then
    ``x[:, :, 1:, 1:]``: the conv or pool runs on the larger, padded map, which is what
    its MACs and a hook counter see), and Caffe's Crop layer (FCN's score maps cropped
    to the input: an offset and the reference's size, i.e. ``top = left = offset`` and
    ``bottom``/``right`` what is left over).

    ``view`` says how the framework produces it.  Basic slicing in PyTorch is a *view*
    (``view=True``, the default): no new memory, no traffic, and the view keeps the whole
    pre-crop map alive; ``x[:, :, 1:, 1:].contiguous()`` and Caffe's Crop write a new
    tensor (``view=False``): a copy, memory and traffic, no arithmetic.  No tool
    counts it either way (thop, ptflops and fvcore see no module, patched function or
    traced op with a handle: slicing and ``contiguous`` cost 0, measured).

    With a second input, the *reference*, it crops to the reference's height and width,
    starting at row ``top`` and column ``left`` (Caffe's ``Crop`` with ``axis: 2`` and an
    ``offset``, FCN's ``score = Crop(upscore, data)``); ``bottom`` and ``right`` are then
    what is left over and must not be given.  The reference is read for its shape only.

    Backward: the gradient is the output's, zero-padded back to the input's size (no
    arithmetic, nothing saved)."""

    top: int = 0
    bottom: int = 0
    left: int = 0
    right: int = 0
    view: bool = True
    impl: Impl = "operator"
    arity = (1, 2)
    free_backward = True
    shape_only_inputs = frozenset({1})

    @model_validator(mode="after")
    def _check(self):
        sides = {"top": self.top, "bottom": self.bottom, "left": self.left, "right": self.right}
        bad = {k: v for k, v in sides.items() if v < 0}
        if bad:
            k, v = next(iter(bad.items()))
            raise ValueError(f"Crop {k} must be >= 0, received {v}")
        return self

    @property
    def aliases_input(self) -> bool:  # type: ignore[override]  (per instance: a view or a copy)
        return self.view

    def output_shape(self, inputs):
        c, h, w = self.spatial_input(inputs)
        if len(inputs) == 2:
            return (c, *self._to_reference(h, w, inputs[1]))
        dh, dw = self.top + self.bottom, self.left + self.right
        if not isinstance(h, int):  # sizes standing for many (calc.grid): a new size each, <= 0 where empty
            return (c, _less(h, dh), _less(w, dw))
        ho, wo = h - dh, w - dw
        if ho < 1 or wo < 1:
            raise ShapeError(f"Crop removes {self.top}+{self.bottom} rows and {self.left}+{self.right} "
                             f"columns of a {h}x{w} map: nothing is left")
        return (c, ho, wo)

    def _to_reference(self, h, w, ref) -> tuple:
        """The reference's (H, W), once it is known to fit inside the input at the offsets."""
        if len(ref) != 3:
            raise ShapeError(f"Crop's reference must be a CxHxW map, received {fmt_shape(ref)}")
        if self.bottom or self.right:
            raise ShapeError(f"Crop to a reference takes offsets top and left only; received bottom="
                             f"{self.bottom}, right={self.right}")
        rh, rw = ref[1:]
        if not all(isinstance(v, int) for v in (h, w, rh, rw)):  # sizes standing for many (calc.grid)
            _fits(h - rh - self.top), _fits(w - rw - self.left)
            return rh, rw
        if self.top + rh > h or self.left + rw > w:
            raise ShapeError(f"Crop to the reference's {rh}x{rw} at offset ({self.top}, {self.left}) needs a "
                             f"map of at least {self.top + rh}x{self.left + rw}, received {h}x{w}")
        return rh, rw

    def counts(self, inputs, output):
        return {"out": numel(output)}

    def saved_for_backward(self, inputs, output, grads: Grads) -> tuple[Saved, ...]:
        return ()

    def rf_window(self, inputs):
        """Output position ``o`` reads input position ``o + top`` (``o + left``): a shift."""
        return RFWindow(padding=(-self.top, -self.left))


def _less(size, n: int):
    return size if n == 0 else size.map(lambda a: a - n, key=("crop", n))


def _fits(left_over) -> None:
    """With sizes standing for many (calc.grid), the rows or columns left over: a symbol of
    ``left_over + 1``, which is <= 0 (the point is then counted on its own) where the
    reference does not fit."""
    if not isinstance(left_over, int):
        left_over.map(lambda a: a + 1, key=("crop-fits",))
    elif left_over < 0:
        raise ShapeError(f"Crop: the reference does not fit inside the input ({left_over} rows or columns short)")
