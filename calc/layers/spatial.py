"""Sliding-window arithmetic shared by convolutions and pooling."""
from __future__ import annotations

from fractions import Fraction
from math import ceil
from typing import Literal, NamedTuple, Union

from calc.errors import ShapeError

IntPair = Union[int, tuple[int, int]]
#: four-sided padding (left, right, top, bottom), PyTorch's F.pad order for the last two dims
Sides = Union[int, tuple[int, int, int, int]]
#: a pool's padding: every side, (H, W) (each on both sides of its axis), or four-sided
#: (left, right, top, bottom): the asymmetric ``pads`` of ONNX files, TF's "same" made explicit
PoolPadding = Union[int, tuple[int, int], tuple[int, int, int, int]]
#: a conv's padding: a pool's, or TF-style ``"same"`` / ``"valid"``
Padding = Union[int, tuple[int, int], tuple[int, int, int, int], Literal["same", "valid"]]
#: the padding along one axis: both sides alike, or (before, after)
AxisPad = Union[int, tuple[int, int], str]


def pair(v: IntPair) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def sides(padding) -> tuple[int, int, int, int] | None:
    """A numeric padding as (left, right, top, bottom); None for ``"same"``/``"valid"``."""
    if isinstance(padding, str):
        return None
    if isinstance(padding, int):
        return (padding,) * 4
    if len(padding) == 2:
        ph, pw = int(padding[0]), int(padding[1])
        return (pw, pw, ph, ph)
    return tuple(int(v) for v in padding)


def check_padding(op: str, padding) -> None:
    """Field validation: every side >= 0 (raises ValueError, reported with the field)."""
    found = sides(padding)
    if found is not None and min(found) < 0:
        raise ValueError(f"{op} padding must be >= 0 on every side, received {padding}")


def check_positive(op: str, **fields: IntPair) -> None:
    """Field validation (raises ValueError, which pydantic reports with the field)."""
    for name, value in fields.items():
        if (value < 1) if type(value) is int else min(pair(value)) < 1:
            raise ValueError(f"{op} {name} must be >= 1, received {value}")


def window_out(
    op: str,
    axis: str,
    size: int,
    kernel: int,
    stride: int,
    padding: AxisPad,
    dilation: int = 1,
    ceil_mode: bool = False,
) -> int:
    """Output length along one axis, PyTorch's formula (TF's for ``"same"``); ``padding``
    pads both sides alike, or is ``(before, after)`` (top/bottom, left/right).

    A strided layer that receives fewer pixels than its stride only sees padding:
    the feature map has vanished, and we say so rather than return a 1-pixel map.

    ``size`` may also be a size that stands for many (:mod:`calc.grid` counts many input
    sizes at once; it has ``map``): the same formula, on every value, 0 where the map vanishes.
    """
    if not isinstance(size, int):
        return size.map(lambda a: _window_out_array(a, kernel, stride, padding, dilation, ceil_mode),
                        key=("window", kernel, stride, padding, dilation, ceil_mode))
    if stride > 1 and size < stride:
        raise ShapeError(
            f"feature map vanishes: {op} with stride {stride} received {axis}={size} "
            f"(smaller than its stride); use a larger input resolution"
        )
    span = dilation * (kernel - 1) + 1
    if padding == "same":
        return ceil(size / stride)
    before, after = _axis_pad(op, padding)
    num = size + before + after - span
    if num < 0:
        shown = before if before == after else f"{before}+{after}"
        raise ShapeError(
            f"feature map vanishes: {op} with kernel {kernel} (dilation {dilation}) and padding "
            f"{shown} received {axis}={size}; use a larger input resolution"
        )
    out = (ceil(num / stride) if ceil_mode else num // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + before:
        out -= 1  # PyTorch: the last window must start inside the input or left padding
    return out


def _axis_pad(op: str, padding: AxisPad) -> tuple[int, int]:
    """(before, after) padding along one axis."""
    if padding == "valid":
        return 0, 0
    before, after = (padding, padding) if isinstance(padding, int) else (int(padding[0]), int(padding[1]))
    if min(before, after) < 0:
        raise ShapeError(f"{op} padding must be >= 0, received {padding}")
    return before, after


def _window_out_array(size, kernel: int, stride: int, padding: AxisPad, dilation: int, ceil_mode: bool):
    """:func:`window_out` over an array of sizes: the same formula in integer arithmetic,
    and 0 at every size where the scalar function raises (the map vanishes)."""
    import numpy as np

    span = dilation * (kernel - 1) + 1
    if padding == "same":
        out = -(-size // stride)
        vanished = size < stride if stride > 1 else np.zeros(size.shape, bool)
        return np.where(vanished, 0, out)
    before, after = _axis_pad("window", padding)
    num = size + (before + after - span)
    if ceil_mode:
        out = -(-num // stride) + 1
        out = out - ((out - 1) * stride >= size + before)
    else:
        out = num // stride + 1 if stride > 1 else num + 1
    vanished = (num < 0) | (size < stride) if stride > 1 else num < 0
    return np.where(vanished, 0, out) if vanished.any() else out


def window_out_2d(op, h, w, kernel, stride, padding, dilation=1, ceil_mode=False):
    kh, kw = pair(kernel)
    sh, sw = pair(stride)
    dh, dw = pair(dilation)
    if isinstance(padding, str):
        ph = pw = padding
    elif isinstance(padding, int) or len(padding) == 2:
        ph, pw = pair(padding)
    else:
        left, right, top, bottom = (int(v) for v in padding)
        ph, pw = (top, bottom), (left, right)
    return (
        window_out(op, "H", h, kh, sh, ph, dh, ceil_mode),
        window_out(op, "W", w, kw, sw, pw, dw, ceil_mode),
    )


# -- receptive fields -----------------------------------------------------------

#: a position or length in input pixels: an int, or a Fraction where a layer reads its
#: input at a fractional step (a transposed conv or an upsampling: jump 1/s)
Num = Union[int, Fraction]


class RFWindow(NamedTuple):
    """What one output position of a layer reads from its input, per axis ``(H, W)``:
    output index ``o`` reads input positions ``o * stride - padding + dilation * t`` for
    ``t = 0 .. kernel - 1`` (PyTorch's convolution; ``padding`` is the top/left padding,
    the bottom/right one only adds positions).  A layer returns one from ``rf_window``;
    :mod:`calc.receptive` composes them (Araujo et al. 2019).

    ``whole``: every output reads its whole input (global pooling, a fully connected
    layer).  ``exact=False``: the window is an affine *bound* of windows that vary with the
    position (adaptive pooling whose output does not divide its input); ``note`` says why,
    or how the layer shapes the field (a ceil-mode pool's last window).

    Fractional steps plug in as Fractions: a layer that reads its input at ``1/s`` of a
    pixel per output position (``ConvTranspose2d(k, s, p, d)``: ``kernel = d (k - 1) / s + 1``,
    ``stride = 1 / s``, ``padding = (d (k - 1) - p) / s``; nearest upsampling by ``f``:
    ``kernel = (2f - 1) / f``, ``stride = 1 / f``, ``padding = (f - 1) / f``) reads the
    integer positions inside the real interval ``[o * stride - padding, ... + span - 1]``.
    Such a layer returns its window and needs nothing else: the composed field then has a
    fractional jump, and :mod:`calc.receptive` reports it as a bound (the pixels a position
    sees are among the integers inside its interval; each layer rounds, the composition
    does not).
    """

    kernel: tuple[Num, Num] = (1, 1)
    stride: tuple[Num, Num] = (1, 1)
    padding: tuple[Num, Num] = (0, 0)
    dilation: tuple[int, int] = (1, 1)
    whole: bool = False
    exact: bool = True
    note: str | None = None

    @property
    def span(self) -> tuple[Num, Num]:
        """The dilated kernel, ``dilation * (kernel - 1) + 1``, per axis."""
        return tuple(d * (k - 1) + 1 for k, d in zip(self.kernel, self.dilation))


#: each output position reads the input position it sits at (element-wise layers, views)
IDENTITY = RFWindow()
#: each output reads all of its input (global pooling, fully connected layers)
WHOLE = RFWindow(whole=True)


def same_padding(size: int, kernel: int, stride: int, dilation: int = 1) -> int:
    """Top/left padding of TF's ``"same"`` (and PyTorch's ``padding="same"``): the total
    ``(out - 1) * stride + span - size`` is split with the odd pixel at the bottom/right."""
    out = ceil(size / stride)
    return max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0) // 2


def conv_window(kernel: IntPair, stride: IntPair, padding: Padding, dilation: IntPair,
                in_hw: tuple[int, int], note: str | None = None) -> RFWindow:
    """The receptive-field window of a sliding-window layer on an ``in_hw`` input (its
    top/left padding: a four-sided padding's bottom/right side only adds positions)."""
    k, s, d = pair(kernel), pair(stride), pair(dilation)
    if padding == "same":
        p = tuple(same_padding(n, *ksd) for n, ksd in zip(in_hw, zip(k, s, d)))
    elif padding == "valid":
        p = (0, 0)
    else:
        left, _, top, _ = sides(padding)
        p = (top, left)  # the bottom/right padding only adds positions
    return RFWindow(kernel=k, stride=s, padding=p, dilation=d, note=note)
