"""Accelerators as data: the packaged ``devices.toml`` plus user files (``--devices``).

A device is a set of datasheet figures (peak FLOP/s per compute unit, memory bandwidth and
size, SM count, host link), each with the document it comes from; a figure without a
source is an error, so every number `calc latency` uses can be traced.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Mapping

from calc.errors import CalcError, did_you_mean

FIGURES = {
    "fp32_tflops": "FP32 (CUDA cores)",
    "fp16_tflops": "FP16 (CUDA cores)",
    "tf32_tensor_tflops": "TF32 tensor",
    "fp16_tensor_tflops": "FP16 tensor",
    "bf16_tensor_tflops": "BF16 tensor",
    "int8_tensor_tops": "INT8 tensor",
    "int8_tops": "INT8 (dp4a)",
    "bandwidth_gbs": "memory bandwidth GB/s",
    "memory_gb": "memory GB",
    "sms": "SMs",
    "host_link_gbs": "host link GB/s",
    "boost_mhz": "boost clock MHz (the clock of the peak figures)",
    "sustained_mhz": "sustained clock MHz under inference load (from measurements)",
}
REQUIRED = ("fp32_tflops", "bandwidth_gbs", "memory_gb", "sms", "host_link_gbs")

#: the range a figure may take (in its unit: TFLOP/s, GB/s, GB, MHz): wide enough for any
#: accelerator, narrow enough that no estimate overflows or divides by a vanishing rate
FIGURE_RANGE = (1e-3, 1e6)
MAX_SMS = 100_000


@dataclass(frozen=True)
class Device:
    key: str
    name: str
    aliases: tuple[str, ...]
    figures: Mapping[str, float]
    sources: Mapping[str, str]

    def has(self, figure: str) -> bool:
        return figure in self.figures

    def get(self, figure: str) -> float:
        return self.figures[figure]

    def source(self, figure: str) -> str:
        return self.sources.get(figure, self.sources.get("default", ""))

    @property
    def bandwidth(self) -> float:
        """Bytes per second."""
        return self.figures["bandwidth_gbs"] * 1e9

    @property
    def host_link(self) -> float:
        return self.figures["host_link_gbs"] * 1e9

    @property
    def sms(self) -> int:
        return int(self.figures["sms"])

    @property
    def clock_factor(self) -> float:
        """Sustained over boost clock: the fraction of the datasheet's compute peaks a long run
        of kernels holds (1 where the device table gives no sustained clock)."""
        if self.has("sustained_mhz") and self.has("boost_mhz"):
            return self.figures["sustained_mhz"] / self.figures["boost_mhz"]
        return 1.0

    @property
    def memory_bytes(self) -> float:
        return self.figures["memory_gb"] * 1e9

    def to_dict(self) -> dict[str, Any]:
        figures = {k: int(v) if k in ("sms", "boost_mhz", "sustained_mhz") else v for k, v in self.figures.items()}
        return {"key": self.key, "name": self.name, "aliases": list(self.aliases),
                **figures, "sources": dict(self.sources)}


def parse_devices(data: Mapping[str, Any], origin: str) -> dict[str, Device]:
    """Devices from a parsed TOML document; every figure must have a source."""
    out: dict[str, Device] = {}
    for key, d in data.items():
        if not isinstance(d, Mapping):
            raise CalcError(f"{origin}: device {key!r} must be a table")
        where = f"{origin}: device {key!r}"
        unknown = set(d) - set(FIGURES) - {"name", "aliases", "sources"}
        if unknown:
            raise CalcError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}; "
                            f"known: name, aliases, sources, {', '.join(FIGURES)}")
        missing = [f for f in REQUIRED if f not in d]
        if missing:
            raise CalcError(f"{where}: missing {', '.join(missing)}")
        figures: dict[str, float] = {}
        lo, hi = FIGURE_RANGE
        for f in FIGURES:
            if f in d:
                v = d[f]
                if f == "sms":
                    if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= MAX_SMS:
                        raise CalcError(f"{where}: sms must be a whole number of streaming multiprocessors "
                                        f"from 1 to {MAX_SMS:,}, received {v!r}")
                elif isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
                    raise CalcError(f"{where}: {f} must be a number from {lo:g} to {hi:g}, received {v!r}")
                figures[f] = v if f == "sms" else float(v)
        name = d.get("name", key)
        if not isinstance(name, str) or not name.strip():
            raise CalcError(f"{where}: name must be a non-empty string, received {name!r}")
        aliases = d.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
            raise CalcError(f"{where}: aliases must be a list of names (aliases = [\"v100\"]), received {aliases!r}")
        sources = d.get("sources", {})
        if not isinstance(sources, Mapping) or not all(isinstance(v, str) for v in sources.values()):
            raise CalcError(f"{where}: sources must be a table of strings ([{key}.sources], figure = \"document\")")
        if "sustained_mhz" in figures and not 0 < figures["sustained_mhz"] <= figures.get("boost_mhz", 0):
            raise CalcError(f"{where}: sustained_mhz needs boost_mhz and must not exceed it")
        sources = dict(sources)
        unsourced = [f for f in figures if not sources.get(f) and not sources.get("default")]
        if unsourced:
            raise CalcError(f"{where}: no source for {', '.join(unsourced)} (add [{key}.sources] "
                            f"with an entry per figure, or a 'default' entry)")
        out[key] = Device(key, name, tuple(a.lower() for a in aliases), figures, sources)
    return out


@cache
def packaged_devices() -> dict[str, Device]:
    from calc.datafiles import packaged

    return parse_devices(packaged("calc", "latency/devices.toml"), "devices.toml")


def load_devices(extra: str | Path | None = None) -> dict[str, Device]:
    """The packaged devices, plus (replacing same-named ones) those of ``extra``."""
    devices = dict(packaged_devices())
    if extra is not None:
        from calc.datafiles import load

        data = load(extra, f"--devices: {extra}", fmt="toml")
        devices.update(parse_devices(data, str(extra)))
    return devices


def find_device(name: str, devices: Mapping[str, Device]) -> Device:
    key = name.lower()
    for d in devices.values():
        if key == d.key or key in d.aliases:
            return d
    names = sorted({*devices, *(a for d in devices.values() for a in d.aliases)})
    raise CalcError(f"unknown device {name!r}{did_you_mean(key, names, 3)} (see 'calc devices')")
