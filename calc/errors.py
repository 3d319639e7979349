"""User-facing errors.

Everything a user can get wrong (an option, a layer field, a spec file) raises
:class:`CalcError` with a one-line message that names the layer or field at fault
and echoes the values received.  The CLI prints it as ``error: ...`` and exits
non-zero; it never shows a traceback for one.
"""
from __future__ import annotations

from typing import Any, Iterable


class CalcError(ValueError):
    """A problem with the user's input, described in one line."""


class ShapeError(CalcError):
    """A layer cannot accept the shapes it was given (raised without the node name;
    the graph adds it)."""


def did_you_mean(word: Any, choices: Iterable[str], n: int = 1) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``choices`` (up to ``n`` of them),
    or ``""`` when none is close: the one spelling hint of every error message."""
    if not isinstance(word, str):
        return ""
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=n)
    return f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
