"""Sliding-window arithmetic shared by convolutions and pooling."""
from __future__ import annotations

from math import ceil
from typing import Literal, Union

from calc.errors import ShapeError

IntPair = Union[int, tuple[int, int]]
Padding = Union[int, tuple[int, int], Literal["same", "valid"]]
#: four-sided padding (left, right, top, bottom), PyTorch's F.pad order for the last two dims
Sides = Union[int, tuple[int, int, int, int]]


def pair(v: IntPair) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def check_positive(op: str, **fields: IntPair) -> None:
    """Field validation (raises ValueError, which pydantic reports with the field)."""
    for name, value in fields.items():
        if min(pair(value)) < 1:
            raise ValueError(f"{op} {name} must be >= 1, received {value}")


def window_out(
    op: str,
    axis: str,
    size: int,
    kernel: int,
    stride: int,
    padding: int | str,
    dilation: int = 1,
    ceil_mode: bool = False,
) -> int:
    """Output length along one axis, PyTorch's formula (TF's for ``"same"``).

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
    pad = 0 if padding == "valid" else int(padding)
    if pad < 0:
        raise ShapeError(f"{op} padding must be >= 0, received {pad}")
    num = size + 2 * pad - span
    if num < 0:
        raise ShapeError(
            f"feature map vanishes: {op} with kernel {kernel} (dilation {dilation}) and padding "
            f"{pad} received {axis}={size}; use a larger input resolution"
        )
    out = (ceil(num / stride) if ceil_mode else num // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1  # PyTorch: the last window must start inside the input or left padding
    return out


def _window_out_array(size, kernel: int, stride: int, padding: int | str, dilation: int, ceil_mode: bool):
    """:func:`window_out` over an array of sizes: the same formula in integer arithmetic,
    and 0 at every size where the scalar function raises (the map vanishes)."""
    import numpy as np

    span = dilation * (kernel - 1) + 1
    if padding == "same":
        out = -(-size // stride)
        vanished = size < stride if stride > 1 else np.zeros(size.shape, bool)
        return np.where(vanished, 0, out)
    pad = 0 if padding == "valid" else int(padding)
    if pad < 0:
        raise ShapeError(f"padding must be >= 0, received {pad}")
    num = size + (2 * pad - span)
    if ceil_mode:
        out = -(-num // stride) + 1
        out = out - ((out - 1) * stride >= size + pad)
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
    else:
        ph, pw = pair(padding)
    return (
        window_out(op, "H", h, kh, sh, ph, dh, ceil_mode),
        window_out(op, "W", w, kw, sw, pw, dw, ceil_mode),
    )
