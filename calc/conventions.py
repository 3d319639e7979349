"""Counting conventions, loaded from the packaged ``conventions.toml``.

A convention turns each layer's per-sample quantities into one number; see the
TOML file for the rule format and the provenance of every tool convention.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Mapping

from calc.errors import CalcError


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


@cache
def conventions() -> dict[str, Convention]:
    text = resources.files("calc").joinpath("conventions.toml").read_text()
    out = {}
    for name, d in tomllib.loads(text).items():
        out[name] = Convention(name, d["title"], d["summary"], d["source"], frozenset(d["sees"]),
                               {op: dict(w) for op, w in d["rules"].items()})
    return out


def get_convention(name: str) -> Convention:
    table = conventions()
    if name not in table:
        raise CalcError(f"unknown convention {name!r}; choose one of: {', '.join(table)}")
    return table[name]
