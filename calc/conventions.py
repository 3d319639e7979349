"""Counting conventions, loaded from the packaged ``conventions.toml``.

A convention turns each layer's per-sample quantities into one number; see the
TOML file for the rule format and the provenance of every tool convention.  A rule
that names an unknown layer type or invocation is an error when the file loads,
never a silent cost of 0.

A convention may also count *parameters* its own way (``[name.params]``: a tool that
skips some, or computes them with its own formula); without that table its params are
the layers' true counts.  A params rule weighs a layer's ``param_counts`` and may use
the quantity ``layer`` (1 per layer: a tool that adds a constant per op).  And it may count
*feature memory* its own way (``[name.memory]``: an op's output weighed, or free when the op
runs in place on an input nothing else reads: convnet-burden's in-place ReLU).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Mapping

from calc.errors import CalcError, did_you_mean

IMPLS = ("module", "functional", "operator")
#: a memory rule: the op writes into its input when nothing else reads that input
IN_PLACE = "in_place"


@dataclass(frozen=True)
class Convention:
    name: str
    title: str
    summary: str
    source: str
    sees: frozenset[str]
    rules: Mapping[str, Mapping[str, int]]
    #: op -> weights of its param_counts, when the convention counts params its own way
    param_rules: Mapping[str, Mapping[str, int]] | None = None
    #: what the convention's params are, in words (with param_rules)
    params_summary: str = ""
    #: what a reader of a number counted this way must know (a tool bug reproduced on purpose)
    caveat: str = ""
    #: op -> weight of its output in feature memory, or "in_place" (free when its input feeds
    #: nothing else), when the convention counts feature memory its own way (``[name.memory]``)
    memory_rules: Mapping[str, Any] | None = None

    def output_weight(self, op: str, in_place_ok: bool) -> Any:
        """How many times a layer's output counts in this convention's feature memory:
        ``in_place_ok`` says whether its input feeds no other layer."""
        rule = 1 if self.memory_rules is None else self.memory_rules.get(op, 1)
        if rule == IN_PLACE:
            return 0 if in_place_ok else 1
        return rule

    def weights(self, op: str, impl: str) -> Mapping[str, int]:
        if impl not in self.sees:
            return {}
        return self.rules.get(f"{op}@{impl}", self.rules.get(op, {}))

    def has_rule(self, op: str, impl: str) -> bool:
        """Whether the convention says anything about this op (a rule of weight 0 counts)."""
        return impl not in self.sees or f"{op}@{impl}" in self.rules or op in self.rules

    def cost(self, op: str, impl: str, counts: Mapping[str, int]) -> int:
        return sum(w * counts.get(q, 0) for q, w in self.weights(op, impl).items())

    def params(self, op: str, param_counts: Mapping[str, int], params: int) -> int:
        """The layer's parameters as this convention counts them (``params``, the true
        count, unless the convention has its own params rules; an op they do not list
        has none)."""
        if self.param_rules is None:
            return params
        rule = self.param_rules.get(op, {})
        return sum(w * (1 if q == "layer" else param_counts.get(q, 0)) for q, w in rule.items())


def parse_conventions(data: Mapping[str, Any], label: str) -> dict[str, Convention]:
    from calc.layers import LAYER_TYPES

    out = {}
    for name, d in data.items():
        where = f"{label}: [{name}]"
        for impl in d["sees"]:
            if impl not in IMPLS:
                raise CalcError(f"{where}: sees {impl!r}: not one of {', '.join(IMPLS)}")
        for table in ("rules", "params", "memory"):
            for key in d.get(table, {}):
                op, _, impl = key.partition("@")
                if op not in LAYER_TYPES:
                    raise CalcError(f"{where}: {table} {key!r}: unknown layer type{did_you_mean(op, LAYER_TYPES)}")
                if impl and (impl not in IMPLS or table != "rules"):
                    raise CalcError(f"{where}: {table} {key!r}: unknown invocation {impl!r} ({', '.join(IMPLS)})")
        for op, rule in d.get("memory", {}).items():
            if rule != IN_PLACE and (isinstance(rule, bool) or not isinstance(rule, int) or rule < 0):
                raise CalcError(f"{where}: memory {op!r}: a whole number of tensors >= 0 or {IN_PLACE!r}, "
                                f"received {rule!r}")
        params = d.get("params")
        out[name] = Convention(name, d["title"], d["summary"], d["source"], frozenset(d["sees"]),
                               {op: dict(w) for op, w in d["rules"].items()},
                               None if params is None else {op: dict(w) for op, w in params.items()},
                               d.get("params_summary", ""), d.get("caveat", ""),
                               None if "memory" not in d else dict(d["memory"]))
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
