"""Inference runtimes as data (``runtimes.toml``): how an engine generation executes a
network, each behaviour with its evidence.  A runtime holds no fitted number; the
constants of ``model.toml`` are shared by all of them."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Mapping

from calc.errors import CalcError, did_you_mean

FIELDS = ("framework", "outside_engine", "min_segment", "grouped_conv", "one_shot_group_channels",
          "pointwise_fusion")
CHOICES = {"framework": ("paddle", "none"), "grouped_conv": ("per_group", "one_kernel")}


@dataclass(frozen=True)
class Runtime:
    key: str
    name: str
    aliases: tuple[str, ...]
    framework: str  # "paddle": ops outside the engine (and each engine) are framework ops
    outside_engine: frozenset[str]  # layer types run by the framework, not by TensorRT
    min_segment: int  # shorter runs of convertible layers stay in the framework
    grouped_conv: str  # "per_group" or "one_kernel"
    one_shot_group_channels: int  # per_group: up to this many channels per group, one kernel
    pointwise_fusion: bool  # chains of per-element layers no conv absorbs are one kernel
    sources: Mapping[str, str]

    @property
    def has_framework(self) -> bool:
        return self.framework != "none"

    def group_launches(self, groups: int, channels_per_group: int) -> int:
        """Kernels a grouped conv launches: one per group, or one for all of them."""
        if self.grouped_conv == "per_group" and groups > 1 and channels_per_group > self.one_shot_group_channels:
            return groups
        return 1

    def source(self, field: str) -> str:
        return self.sources.get(field, self.sources.get("default", ""))

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "name": self.name, "framework": self.framework,
                "outside_engine": sorted(self.outside_engine), "min_segment": self.min_segment,
                "grouped_conv": self.grouped_conv, "one_shot_group_channels": self.one_shot_group_channels,
                "pointwise_fusion": self.pointwise_fusion, "sources": dict(self.sources)}


def parse_runtimes(data: Mapping[str, Any], origin: str) -> dict[str, Runtime]:
    from calc.layers import LAYER_TYPES

    out = {}
    for key, d in data.items():
        where = f"{origin}: runtime {key!r}"
        missing = [f for f in FIELDS if f not in d]
        if missing:
            raise CalcError(f"{where}: missing {', '.join(missing)}")
        unknown = set(d) - set(FIELDS) - {"name", "aliases", "sources"}
        if unknown:
            raise CalcError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        for f, allowed in CHOICES.items():
            if d[f] not in allowed:
                raise CalcError(f"{where}: {f} must be one of {', '.join(allowed)}, received {d[f]!r}")
        bad = [t for t in d["outside_engine"] if t not in LAYER_TYPES]
        if bad:
            raise CalcError(f"{where}: outside_engine names unknown layer types {', '.join(bad)}")
        if not d.get("sources", {}).get("default"):
            raise CalcError(f"{where}: no sources (a [{key}.sources] table with a 'default' entry)")
        out[key] = Runtime(key, str(d.get("name", key)), tuple(d.get("aliases", ())), d["framework"],
                           frozenset(d["outside_engine"]), int(d["min_segment"]), d["grouped_conv"],
                           int(d["one_shot_group_channels"]), bool(d["pointwise_fusion"]), dict(d["sources"]))
    return out


@cache
def packaged_runtimes() -> dict[str, Runtime]:
    from calc.datafiles import packaged

    return parse_runtimes(packaged("calc", "latency/runtimes.toml"), "runtimes.toml")


#: the runtime every measured table was taken with, and the default of ``calc latency``
DEFAULT_RUNTIME = "paddle-trt-2020"


def find_runtime(name: str | Runtime | None = None) -> Runtime:
    if isinstance(name, Runtime):
        return name
    runtimes = packaged_runtimes()
    key = (name or DEFAULT_RUNTIME).lower()
    for r in runtimes.values():
        if key == r.key or key in r.aliases:
            return r
    names = sorted({*runtimes, *(a for r in runtimes.values() for a in r.aliases)})
    raise CalcError(f"unknown runtime {name!r}{did_you_mean(key, names, 3)}; known: {', '.join(runtimes)}")
