"""ONNX files as architectures: ``calc arch model.onnx`` counts a network the user already
has, without a framework, exactly, and refuses what it cannot count.

:func:`load_onnx` reads a file (:mod:`~calc.onnx.reader`, which imports the optional ``onnx``
package: ``pip install 'calc[onnx]'``) and returns an :class:`~calc.registry.Architecture`,
as :func:`calc.spec.load_spec` does for a spec file; building it (:mod:`~calc.onnx.build`)
folds the constant subgraphs (:mod:`~calc.onnx.fold`) and maps each node to calc layers
through the table of handlers (:mod:`~calc.onnx.ops`).  Any op without a handler (a custom
domain, control flow, a quantized op) is refused before anything is counted, in one line
that lists them all.
"""
from __future__ import annotations

from pathlib import Path

SUFFIX = ".onnx"


def load_onnx(path: str | Path):
    """The architecture an ONNX file declares (option ``res``: the input's side)."""
    from calc.onnx.build import architecture
    from calc.onnx.reader import read_model

    return architecture(read_model(path), Path(path).name)


__all__ = ["SUFFIX", "load_onnx"]
