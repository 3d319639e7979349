"""Checking `calc latency` against measured latencies (the built-ins' are
``archs/data/latency_seeds.toml``, read by :func:`archs.latency_tables`).

For each published table: predicted vs measured per model and batch, the median absolute
percentage error (MdAPE) and Spearman's rank correlation.  Which tables calibrated the
model's constants and which only test it is fixed here (:data:`CALIBRATION`), so the
calibration script and the report agree.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import Any, Callable, Mapping, Sequence

#: The split.  The constants are fitted on the V100 tables only (seed 004's ResNets at
#: FP16 and FP32, seed 003's classic nets at FP32); the T4 tables (seed 003, FP16 and FP32)
#: are never seen by the fit: a different GPU, predicted from its datasheet figures alone.
CALIBRATION = ("004-fp16", "004-fp32", "003-v100-fp32")


@dataclass(frozen=True)
class Row:
    name: str
    arch: str
    options: Mapping[str, Any]
    ms: tuple[float, ...]


@dataclass(frozen=True)
class Table:
    id: str
    title: str
    device: str
    dtype: str
    batches: tuple[int, ...]
    host_copy: bool
    conditions: str
    rows: tuple[Row, ...]

    @property
    def role(self) -> str:
        return "calibration" if self.id in CALIBRATION else "validation"


@dataclass(frozen=True)
class Point:
    table: str
    name: str
    batch: int
    measured_ms: float
    predicted_ms: float
    roofline_ms: float

    @property
    def error(self) -> float:
        """Signed relative error of the prediction."""
        return (self.predicted_ms - self.measured_ms) / self.measured_ms


@dataclass
class TableResult:
    table: Table
    points: list[Point] = field(default_factory=list)

    @property
    def mdape(self) -> float:
        return mdape(self.points)

    @property
    def spearman(self) -> float:
        return spearman([p.predicted_ms for p in self.points], [p.measured_ms for p in self.points])

    def at(self, batch: int) -> list[Point]:
        return [p for p in self.points if p.batch == batch]

    def spearman_at(self, batch: int) -> float:
        """Rank correlation across the models at one batch size: does the model order the
        networks right (the table-wide figure is helped by larger batches being slower)."""
        pts = self.at(batch)
        return spearman([p.predicted_ms for p in pts], [p.measured_ms for p in pts])


def parse_tables(data: Mapping[str, Any]) -> list[Table]:
    out = []
    for t in data["table"]:
        rows = tuple(Row(r["name"], r["arch"], dict(r.get("options", {})), tuple(r["ms"])) for r in t["rows"])
        for r in rows:
            if len(r.ms) != len(t["batches"]):
                raise ValueError(f"table {t['id']}: row {r.name} has {len(r.ms)} figures for "
                                 f"{len(t['batches'])} batch sizes")
        out.append(Table(t["id"], t["title"], t["device"], t["dtype"], tuple(t["batches"]),
                         bool(t["host_copy"]), t["conditions"], rows))
    return out


def load_tables(path: str | Path) -> list[Table]:
    """The latency tables of a TOML file (the form of ``archs/data/latency_seeds.toml``)."""
    from calc.datafiles import load

    return parse_tables(load(path, fmt="toml"))


# ---------------------------------------------------------------------------
# Statistics (no scipy)


def mdape(points: Sequence[Point]) -> float:
    """Median absolute percentage error, in percent."""
    return 100 * median(abs(p.error) for p in points)


def ranks(xs: Sequence[float]) -> list[float]:
    """1-based ranks, ties sharing the mean of the ranks they span."""
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    r = [0.0] * len(xs)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and xs[order[j + 1]] == xs[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return r


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float:
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return float("nan")
    return sxy / (sxx * syy) ** 0.5


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Spearman's rank correlation: Pearson's correlation of the (tie-averaged) ranks."""
    if len(xs) != len(ys) or len(xs) < 2:
        raise ValueError("spearman needs two sequences of equal length >= 2")
    return pearson(ranks(xs), ranks(ys))


# ---------------------------------------------------------------------------
# Predictions


def predict(tables: Sequence[Table], model=None, devices=None, *,
            build: Callable[..., Any]) -> list[TableResult]:
    """Predicted and roofline latency for every (row, batch) of every table; ``build(arch,
    **options)`` builds a row's network (``archs.build`` for the built-ins)."""
    from calc.latency.devices import find_device, load_devices
    from calc.latency.roofline import estimate

    devices = devices or load_devices()
    nets: dict[tuple, Any] = {}
    results = []
    for t in tables:
        device = find_device(t.device, devices)
        res = TableResult(t)
        for r in t.rows:
            key = (r.arch, tuple(sorted(r.options.items())))
            if key not in nets:
                nets[key] = build(r.arch, **r.options)
            for b, ms in zip(t.batches, r.ms):
                e = estimate(nets[key], device, dtype=t.dtype, batch=b, model=model, host_copy=t.host_copy)
                res.points.append(Point(t.id, r.name, b, ms, e.latency_s * 1e3, e.roofline_s * 1e3))
        results.append(res)
    return results


def report(results: Sequence[TableResult], *, detail: bool = True) -> str:
    """Per table: predicted vs measured, MdAPE and Spearman; then a summary."""
    lines = []
    for res in results:
        t = res.table
        lines.append(f"== {t.id} [{t.role}]  {t.title}")
        lines.append(f"   device {t.device}, {t.dtype}, host copy {'included' if t.host_copy else 'not included'}")
        if detail:
            lines.append(f"   {'model':<14}{'batch':>6}{'measured':>10}{'predicted':>11}{'error':>8}{'roofline':>10}")
            for p in res.points:
                lines.append(f"   {p.name:<14}{p.batch:>6}{p.measured_ms:>10.3f}{p.predicted_ms:>11.3f}"
                             f"{100 * p.error:>+7.1f}%{p.roofline_ms:>10.3f}")
        by_batch = ", ".join(f"b{b} {mdape(res.at(b)):.1f}%" for b in t.batches)
        rank_batch = ", ".join(f"b{b} {res.spearman_at(b):.2f}" for b in t.batches)
        lines.append(f"   MdAPE {res.mdape:.1f}%  Spearman {res.spearman:.3f}  (n={len(res.points)})")
        lines.append(f"   by batch: MdAPE {by_batch}; Spearman across models {rank_batch}")
        lines.append("")
    lines.append(f"{'table':<16}{'role':<13}{'n':>4}{'MdAPE':>8}{'Spearman':>10}{'per batch (min)':>17}"
                 f"{'median error':>14}{'roofline MdAPE':>16}")
    for res in results:
        signed = 100 * median(p.error for p in res.points)
        worst = min(res.spearman_at(b) for b in res.table.batches)
        roof = 100 * median(abs(p.roofline_ms - p.measured_ms) / p.measured_ms for p in res.points)
        lines.append(f"{res.table.id:<16}{res.table.role:<13}{len(res.points):>4}{res.mdape:>7.1f}%"
                     f"{res.spearman:>10.3f}{worst:>17.3f}{signed:>+13.1f}%{roof:>15.1f}%")
    lines.append("MdAPE: median |predicted - measured| / measured; Spearman: rank correlation over the "
                 "table, and the lowest over the models at one batch size; roofline MdAPE: the plain "
                 "per-layer bound taken as the prediction.")
    return "\n".join(lines)
