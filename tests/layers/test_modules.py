"""calc.layers.MODULES, the table that lets a network import only the layer modules it
uses, says exactly what each module defines; a MobileNet imports no detection layer."""
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import calc.layers
from calc.layers import LAYER_TYPES, MODULES, Layer

ROOT = Path(__file__).resolve().parents[2]


def test_the_table_is_what_each_module_defines():
    for module, names in MODULES.items():
        mod = importlib.import_module(f"calc.layers.{module}")
        public = {n for n, v in vars(mod).items()
                  if isinstance(v, type) and issubclass(v, Layer) and v.__module__ == mod.__name__
                  and not n.startswith("_")}
        assert public == set(names), module
    defined = {n for names in MODULES.values() for n in names} - {"Activation"}  # a base class, not a type
    assert sorted(LAYER_TYPES) == LAYER_TYPES.names() == sorted(defined)
    assert set(calc.layers.__all__) >= defined


def test_a_network_imports_only_the_layer_modules_it_uses():
    code = ("import sys, archs; from calc.counting import analyze; analyze(archs.build('mobilenet_v2')); "
            "print(sorted(m.rsplit('.', 1)[1] for m in sys.modules if m.startswith('calc.layers.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    loaded = set(eval(out))  # noqa: S307 (our own printed list)
    assert {"conv", "elementwise", "pool", "structural"} <= loaded
    assert not loaded & {"detection", "roi", "upsample", "deconv", "l2norm", "embedding"}


def test_unknown_names():
    assert "Conv2d" in LAYER_TYPES and "Conv3d" not in LAYER_TYPES
    with pytest.raises(AttributeError, match="has no attribute 'Conv3d'"):
        calc.layers.Conv3d  # noqa: B018
