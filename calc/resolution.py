"""Input resolutions: a side (a square input) or H x W.

``--res 224`` is a square input; ``--res 600x850`` is 600 rows by 850 columns (H x W, the
order of a ``C x H x W`` map and of convnet-burden's ``600 x 850``).  The value of a
resolution option is an ``int`` for a square input (so a configuration prints and compares as
it always did) and an :class:`HW` otherwise; ``224x224`` is the int 224.

A builder writes its input as ``Network(name, (3, res, res))`` whatever ``res`` holds: a
:class:`~calc.graph.Network` reads an :class:`HW` standing in both spatial places as that
height and width (:func:`spatial`), so every built-in takes a non-square input without
change.
"""
from __future__ import annotations

import re
from typing import Any

_HW = re.compile(r"^\s*(\d+)\s*[xX]\s*(\d+)\s*$")


class HW(tuple):
    """A non-square resolution: ``(h, w)``, written ``HxW``.  JSON writes it as ``[h, w]``."""

    __slots__ = ()

    def __new__(cls, h: int, w: int) -> "HW":
        return super().__new__(cls, (int(h), int(w)))

    @property
    def h(self) -> int:
        return self[0]

    @property
    def w(self) -> int:
        return self[1]

    def __str__(self) -> str:
        return f"{self[0]}x{self[1]}"

    def __repr__(self) -> str:
        return f"HW({self[0]}, {self[1]})"


def resolution(value: Any) -> "int | HW":
    """The kind of a resolution option: ``224``, ``"224"``, ``224.0`` -> 224; ``"600x850"``,
    ``[600, 850]`` -> ``HW(600, 850)``; ``"224x224"`` -> 224.  Anything else is a ValueError
    (the option reports it, echoing the value)."""
    if isinstance(value, HW):
        h, w = value
    elif isinstance(value, bool):
        raise ValueError(value)
    elif isinstance(value, int):
        return value
    elif isinstance(value, float):
        if not value.is_integer():
            raise ValueError(value)
        return int(value)
    elif isinstance(value, str):
        m = _HW.match(value)
        if m is None:
            return int(value.strip())  # a single side, or a ValueError
        h, w = int(m.group(1)), int(m.group(2))
    elif isinstance(value, (list, tuple)) and len(value) == 2 and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        h, w = value
    else:
        raise ValueError(value)
    return h if h == w else HW(h, w)


resolution.__name__ = "resolution"
#: what a resolution option accepts, for error messages and ``calc list``
RESOLUTION_FORM = "a side (square) or HxW, e.g. 600x850"


def sides(value: Any) -> tuple[int, int]:
    """``(h, w)`` of a resolution value (an int is square)."""
    return (value[0], value[1]) if isinstance(value, HW) else (value, value)


def spatial(shape: tuple) -> tuple:
    """``(C, H, W)`` with an :class:`HW` standing in both spatial places (``(3, res, res)``)
    read as its height and width; any other use of an :class:`HW` is a ValueError."""
    if len(shape) == 3 and isinstance(shape[1], HW) and shape[2] == shape[1]:
        return (shape[0], shape[1].h, shape[1].w)
    if any(isinstance(d, HW) for d in shape):
        raise ValueError("an HxW resolution stands for both H and W of the input")
    return tuple(shape)
