import json
from functools import lru_cache
from pathlib import Path

import pytest

import archs
from calc.counting import analyze

DATA = Path(__file__).parent / "data"


@lru_cache(maxsize=None)
def _torch_counts():
    return json.loads((DATA / "torch_counts.json").read_text())["models"]


@pytest.fixture(scope="session")
def torch_counts():
    """Counts from thop/ptflops/fvcore on torchvision models (see data/PROVENANCE.md)."""
    return _torch_counts()


@pytest.fixture
def cli(capsys):
    """Run ``calc ARGS...`` in process: returns (exit status, stdout, stderr)."""
    from calc.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@lru_cache(maxsize=None)
def counts(name, convention="macs", **options):
    """Analysis of a built-in architecture (cached: tests only read it)."""
    return analyze(archs.build(name, **options), convention=convention)


def module_leaf_outputs(analysis):
    """Sum of output elements of the layers the reference runs as nn.Modules,
    i.e. torch_counts.json's `leaf_output_elems`."""
    return sum(c.activations for c in analysis.layers if c.impl == "module")


def printed(value: float, text: str) -> bool:
    """``value`` rounds to ``text`` at ``text``'s number of decimals."""
    decimals = len(text.split(".")[1]) if "." in text else 0
    return f"{value:.{decimals}f}" == text
