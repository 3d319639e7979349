"""Counting conventions, loaded from the packaged ``conventions.toml``.

A convention turns each layer's per-sample quantities into one number; see the
TOML file for the rule format and the provenance of every tool convention.  A rule
that names an unknown layer type or invocation is an error when the file loads,
never a silent cost of 0.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Mapping

from calc.errors import CalcError, did_you_mean

IMPLS = ("module", "functional", "operator")


@dataclass(frozen=True)
class Convention:
    name: str
    title: str
    summary: str
    source: str
    sees: frozenset[str]
    rules: Mapping[str, Mapping[str, int]]

    def weights(self, op: str, impl: str) -> Mapping[str, int]:
        if impl not in self.sees:
            return {}
        return self.rules.get(f"{op}@{impl}", self.rules.get(op, {}))

    def cost(self, op: str, impl: str, counts: Mapping[str, int]) -> int:
        return sum(w * counts.get(q, 0) for q, w in self.weights(op, impl).items())


def parse_conventions(data: Mapping[str, Any], label: str) -> dict[str, Convention]:
    from calc.layers import LAYER_TYPES

    out = {}
    for name, d in data.items():
        where = f"{label}: [{name}]"
        for impl in d["sees"]:
            if impl not in IMPLS:
                raise CalcError(f"{where}: sees {impl!r}: not one of {', '.join(IMPLS)}")
        for key in d["rules"]:
            op, _, impl = key.partition("@")
            if op not in LAYER_TYPES:
                raise CalcError(f"{where}: rule {key!r}: unknown layer type{did_you_mean(op, LAYER_TYPES)}")
            if impl and impl not in IMPLS:
                raise CalcError(f"{where}: rule {key!r}: unknown invocation {impl!r} ({', '.join(IMPLS)})")
        out[name] = Convention(name, d["title"], d["summary"], d["source"], frozenset(d["sees"]),
                               {op: dict(w) for op, w in d["rules"].items()})
    return out


@cache
def conventions() -> dict[str, Convention]:
    from calc.datafiles import packaged

    return parse_conventions(packaged("calc", "conventions.toml"), "calc/conventions.toml")


def get_convention(name: str) -> Convention:
    table = conventions()
    if name not in table:
        raise CalcError(f"unknown convention {name!r}; choose one of: {', '.join(table)}")
    return table[name]
