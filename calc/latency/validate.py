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

#: The split.  The constants are fitted on the V100 tables (seed 004's ResNets at FP16 and
#: FP32, seed 003's classic nets at FP32) and on PaddleClas' T4 tables of its mobile networks
#: (which also give the T4's sustained clock); seed 003's T4 tables (classic nets, FP16 and
#: FP32) are never seen by the fit: other networks on that GPU, predicted.
CALIBRATION = ("004-fp16", "004-fp32", "003-v100-fp32", "mobile-t4-fp16", "mobile-t4-fp32")


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
    campaign: str = ""
    runtime: str = "paddle-trt-2020"

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
                         bool(t["host_copy"]), t["conditions"], rows, t.get("campaign", t["id"]),
                         t.get("runtime", "paddle-trt-2020")))
    return out


def parse_rows(data: Mapping[str, Any], *, prefix: str, campaign: str, host_copy: bool,
               arch_of: Callable[[Mapping[str, Any]], tuple[str, dict[str, Any]]],
               devices: Mapping[str, str]) -> list[Table]:
    """Tables from a file of one measurement per row (``model``, ``width``, ``crop``, ``device``,
    ``precision``, ``batch``, ``latency_ms`` and the zoo's name, the form of
    ``archs/data/latency_paddleclas_t4_mobile.yaml``): one table per device and precision, one
    row per zoo name, its figures by batch.  A name whose figures repeat another's exactly
    (the ``_ssld`` models: the same network, trained differently) is left out, so a network
    counts once; ``arch_of(row)`` names the network (arch, options) calc builds for a row."""
    groups: dict[tuple[str, str], dict[str, dict[int, float]]] = {}
    first: dict[str, Mapping[str, Any]] = {}
    for r in data["rows"]:
        key = (r["device"], r["precision"])
        groups.setdefault(key, {}).setdefault(r["paddle_name"], {})[int(r["batch"])] = float(r["latency_ms"])
        first.setdefault(r["paddle_name"], r)
    out = []
    for (device, precision), by_name in groups.items():
        batches = sorted({b for figures in by_name.values() for b in figures})
        rows, seen = [], {}
        for name, figures in by_name.items():
            if sorted(figures) != batches:
                raise ValueError(f"{prefix}: {name} ({device}, {precision}) lacks some of the batch sizes {batches}")
            ms = tuple(figures[b] for b in batches)
            arch, options = arch_of(first[name])
            twin = seen.get((arch, tuple(sorted(options.items()))))
            if twin is not None and twin.ms == ms:
                continue
            row = Row(name, arch, options, ms)
            seen[(arch, tuple(sorted(options.items())))] = row
            rows.append(row)
        out.append(Table(f"{prefix}-{device.lower()}-{precision}", f"{campaign}: {device}, {precision.upper()}",
                         devices[device], precision, tuple(batches), host_copy, str(data.get("conditions", "")),
                         tuple(rows), campaign))
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
                e = estimate(nets[key], device, dtype=t.dtype, batch=b, model=model, host_copy=t.host_copy,
                             runtime=t.runtime)
                res.points.append(Point(t.id, r.name, b, ms, e.latency_s * 1e3, e.roofline_s * 1e3))
        results.append(res)
    return results


def signed(points: Sequence[Point]) -> float:
    """Median signed relative error, in percent (negative: predicted too fast)."""
    return 100 * median(p.error for p in points)


def report(results: Sequence[TableResult], *, detail: bool = True) -> str:
    """Per table: its conditions, predicted vs measured, MdAPE, the median signed error and
    Spearman per batch size; then a summary per table and per campaign."""
    lines = []
    for res in results:
        t = res.table
        lines.append(f"== {t.id} [{t.role}]  {t.title}")
        lines.append(f"   conditions: device {t.device}, runtime {t.runtime}, {t.dtype}, batch "
                     f"{'/'.join(map(str, t.batches))}, host copy {'timed' if t.host_copy else 'not timed'}")
        if detail:
            lines.append(f"   {'model':<20}{'batch':>6}{'measured':>10}{'predicted':>11}{'error':>8}{'roofline':>10}")
            for p in res.points:
                lines.append(f"   {p.name:<20}{p.batch:>6}{p.measured_ms:>10.3f}{p.predicted_ms:>11.3f}"
                             f"{100 * p.error:>+7.1f}%{p.roofline_ms:>10.3f}")
        lines.append(f"   MdAPE {res.mdape:.1f}%  median signed error {signed(res.points):+.1f}%  "
                     f"Spearman {res.spearman:.3f}  (n={len(res.points)})")
        lines.append("   by batch: " + "; ".join(
            f"b{b} MdAPE {mdape(res.at(b)):.1f}% signed {signed(res.at(b)):+.1f}% Spearman {res.spearman_at(b):.2f}"
            for b in t.batches))
        lines.append("")
    lines.append(f"{'table':<16}{'role':<13}{'n':>4}{'MdAPE':>8}{'Spearman':>10}{'per batch (min)':>17}"
                 f"{'median error':>14}{'roofline MdAPE':>16}")
    for res in results:
        worst = min(res.spearman_at(b) for b in res.table.batches)
        roof = 100 * median(abs(p.roofline_ms - p.measured_ms) / p.measured_ms for p in res.points)
        lines.append(f"{res.table.id:<16}{res.table.role:<13}{len(res.points):>4}{res.mdape:>7.1f}%"
                     f"{res.spearman:>10.3f}{worst:>17.3f}{signed(res.points):>+13.1f}%{roof:>15.1f}%")
    lines.append("")
    lines.append(f"{'campaign':<24}{'n':>4}{'MdAPE':>8}{'median error':>14}")
    for campaign, pts in campaigns(results).items():
        lines.append(f"{campaign:<24}{len(pts):>4}{mdape(pts):>7.1f}%{signed(pts):>+13.1f}%")
    lines.append("MdAPE: median |predicted - measured| / measured; median error: signed (negative: predicted "
                 "too fast); Spearman: rank correlation over the table, and the lowest over the models at one "
                 "batch size; roofline MdAPE: the plain per-layer bound taken as the prediction.")
    return "\n".join(lines)


def summary_rows(results: Sequence[TableResult]) -> list[dict[str, Any]]:
    """One row per table: what the report's summary prints, unrounded (for JSON, CSV, markdown)."""
    rows = []
    for res in results:
        t = res.table
        rows.append({
            "table": t.id, "role": t.role, "title": t.title, "device": t.device, "runtime": t.runtime,
            "dtype": t.dtype, "batches": "/".join(map(str, t.batches)), "host_copy": t.host_copy,
            "n": len(res.points), "mdape_pct": round(res.mdape, 2), "median_error_pct": round(signed(res.points), 2),
            "spearman": round(res.spearman, 4),
            "spearman_min_batch": round(min(res.spearman_at(b) for b in t.batches), 4),
            "roofline_mdape_pct": round(100 * median(abs(p.roofline_ms - p.measured_ms) / p.measured_ms
                                                     for p in res.points), 2),
            "campaign": t.campaign,
        })
    return rows


def point_rows(results: Sequence[TableResult]) -> list[dict[str, Any]]:
    """One row per (table, model, batch): measured, predicted and roofline latency."""
    return [{"table": p.table, "model": p.name, "batch": p.batch, "measured_ms": p.measured_ms,
             "predicted_ms": round(p.predicted_ms, 4), "error_pct": round(100 * p.error, 2),
             "roofline_ms": round(p.roofline_ms, 4)} for res in results for p in res.points]


def campaign_rows(results: Sequence[TableResult]) -> list[dict[str, Any]]:
    return [{"campaign": c, "n": len(pts), "mdape_pct": round(mdape(pts), 2), "median_error_pct": round(signed(pts), 2)}
            for c, pts in campaigns(results).items()]


def campaigns(results: Sequence[TableResult]) -> dict[str, list[Point]]:
    """The points of each measurement campaign (one page or file of one harness)."""
    out: dict[str, list[Point]] = {}
    for res in results:
        out.setdefault(res.table.campaign, []).extend(res.points)
    return out


def loto_report(rows: Sequence[tuple[TableResult, str]]) -> str:
    """Leave one table out: each table predicted by constants fitted without it (on the
    other calibration tables)."""
    lines = [f"{'left out':<16}{'n':>4}{'MdAPE':>8}{'Spearman':>10}{'per batch (min)':>17}{'median error':>14}"
             f"   median signed error by batch; refitted constants"]
    for res, consts in rows:
        worst = min(res.spearman_at(b) for b in res.table.batches)
        by_batch = " ".join(f"b{b} {signed(res.at(b)):+.1f}%" for b in res.table.batches)
        lines.append(f"{res.table.id:<16}{len(res.points):>4}{res.mdape:>7.1f}%{res.spearman:>10.3f}{worst:>17.3f}"
                     f"{signed(res.points):>+13.1f}%   {by_batch}; {consts}")
    return "\n".join(lines)
