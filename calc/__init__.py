"""calc: static, analytical costs of convolutional networks (params, MACs, FLOPs under a
named convention, memory, roofline latency) from closed-form formulas, no framework.

The public face::

    import calc
    net = calc.get("mobilenet_v2").build(alpha=0.75, res=192)   # a built-in (import archs first)
    calc.analyze(net, batch=8, dtype="fp16").totals["macs"]
    calc.load_spec("examples/small.yaml").build()               # a spec file

``Network`` (the layer graph), ``analyze`` (counts under a convention), ``totals`` (its totals
alone, without the per-layer records), ``analyze_training``
(one training step), ``load_spec`` (spec files), ``get`` / ``register_arch`` (the architecture registry; importing the
``archs`` package registers the built-ins), ``register_layer`` (a new layer type).
Attributes are imported on first use, so ``import calc`` costs nothing.
"""
from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_PUBLIC = {
    "Network": ("calc.graph", "Network"),
    "analyze": ("calc.counting", "analyze"),
    "Analysis": ("calc.counting", "Analysis"),
    "totals": ("calc.counting", "totals"),
    "analyze_training": ("calc.training", "analyze_training"),
    "load_spec": ("calc.spec", "load_spec"),
    "get": ("calc.registry", "get"),
    "register_arch": ("calc.registry", "register"),
    "Architecture": ("calc.registry", "Architecture"),
    "Option": ("calc.registry", "Option"),
    "register_layer": ("calc.layers.base", "register"),
    "CalcError": ("calc.errors", "CalcError"),
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str) -> Any:
    try:
        module, attr = _PUBLIC[name]
    except KeyError:
        raise AttributeError(f"module 'calc' has no attribute {name!r}") from None
    value = getattr(import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
