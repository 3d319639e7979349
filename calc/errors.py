"""User-facing errors.

Everything a user can get wrong (an option, a layer field, a spec file) raises
:class:`CalcError` with a one-line message that names the layer or field at fault
and echoes the values received.  The CLI prints it as ``error: ...`` and exits
non-zero; it never shows a traceback for one.
"""


class CalcError(ValueError):
    """A problem with the user's input, described in one line."""


class ShapeError(CalcError):
    """A layer cannot accept the shapes it was given (raised without the node name;
    the graph adds it)."""
