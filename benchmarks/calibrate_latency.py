"""Fit the constants of calc's latency model (calc/latency/model.toml), and the device figures
the datasheets do not give (a T4's sustained clock), to the calibration tables of
archs.latency_tables(); report the error on every table.

    python benchmarks/calibrate_latency.py            # fit, print the constants and the errors
    python benchmarks/calibrate_latency.py --fixed    # only evaluate the packaged constants
    python benchmarks/calibrate_latency.py --loto     # leave one table out: fit on all the others, predict it

The split is calc.latency.validate.CALIBRATION; the other tables are held out.  The loss is
the mean squared log error of the predicted latencies (each measurement weighs the same,
whatever its size); the search is Nelder-Mead over the constants, each kept within the
physical range model.toml gives it (DEVICE_FITS for the device figures), from several
starting points.  The model itself is calc.latency.roofline.kernel_seconds, evaluated on
arrays: the same formula the command line uses.
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import archs  # noqa: E402
from calc.latency.devices import find_device, load_devices  # noqa: E402
from calc.latency.roofline import (  # noqa: E402
    Model, copy_bytes, default_model, kernel_seconds, model_constants, works,
)
from calc.latency.runtimes import find_runtime  # noqa: E402
from calc.latency.validate import CALIBRATION, Point, TableResult, predict, report  # noqa: E402

#: device figures the data determines, with the range a datasheet allows: the T4's sustained
#: clock lies between its base and boost clocks (585 and 1590 MHz: NVIDIA Turing GPU
#: Architecture whitepaper, Appendix A, Tesla T4)
DEVICE_FITS = {"t4.sustained_mhz": (585.0, 1590.0)}


def bounds() -> dict[str, tuple[float, float]]:
    c = model_constants()
    out = {n: (c[n].lo, c[n].hi) for n in Model.NAMES}
    out.update(DEVICE_FITS)
    return out


class Columns:
    """All kernels of all data points as arrays (what kernel_seconds reads)."""

    def __init__(self, ws, sms, bandwidth, boost):
        for name in ("flops", "bytes", "conv", "tensor", "winograd", "out_elems", "launches"):
            setattr(self, name, np.array([getattr(w, name) for w in ws], float))
        self.peak_at_boost = np.array([w.peak for w in ws], float) / np.array(boost, float)
        self.peak = self.peak_at_boost.copy()
        self.sms = np.array(sms, float)
        self.bandwidth = np.array(bandwidth, float)


class Dataset:
    """Every kernel of every (table, row, batch) point, as arrays.  Kernels are grouped per
    point and engine plan (an engine at the table's precision, or its fp32 fallback): the
    prediction takes, per engine, the faster plan (calc.latency.roofline.engine_plans)."""

    def __init__(self, tables):
        devices = load_devices()
        nets = {}
        ws, sms, bw, boost, dev_of, group = [], [], [], [], [], []
        groups: dict[tuple, int] = {}  # (point, engine, fallback) -> group; framework kernels: (point,)
        self.points, self.copy_bytes, self.host_link, self.framework_ops = [], [], [], []
        for t in tables:
            dev = find_device(t.device, devices)
            for r in t.rows:
                key = (r.arch, tuple(sorted(r.options.items())))
                if key not in nets:
                    nets[key] = archs.build(r.arch, **r.options)
                net = nets[key]
                for b, ms in zip(t.batches, r.ms):
                    i = len(self.points)
                    self.points.append((t, r.name, b, ms))
                    sched = works(net, b, dev, t.dtype, runtime=find_runtime(t.runtime))
                    for w in sched.works:
                        g = (i,) if w.engine is None else (i, w.engine, w.fallback)
                        group.append(groups.setdefault(g, len(groups)))
                    n = len(sched.works)
                    ws += sched.works
                    sms += [dev.sms] * n
                    bw += [dev.bandwidth] * n
                    boost += [dev.clock_factor] * n  # peaks are stored at the device's clock
                    dev_of += [dev.key] * n
                    self.framework_ops.append(sched.framework_ops)
                    self.copy_bytes.append(copy_bytes(net, b) if t.host_copy else 0)
                    self.host_link.append(dev.host_link)
        self.cols = Columns(ws, sms, bw, boost)
        self.dev_of = np.array(dev_of)
        self.devices = devices
        self.group = np.array(group)
        keys = sorted(groups, key=groups.get)
        plans = {}  # (point, engine) or (point,) -> index
        self.group_plan = np.array([plans.setdefault(k[:2], len(plans)) for k in keys])
        self.plan_point = np.array([k[0] for k in sorted(plans, key=plans.get)])
        self.measured = np.array([p[3] for p in self.points]) * 1e-3
        self.framework_ops = np.array(self.framework_ops, float)
        self.copy_bytes = np.array(self.copy_bytes, float)
        self.host_link = np.array(self.host_link, float)

    def predict(self, m: Model, figures: dict[str, float] | None = None) -> np.ndarray:
        """Latencies (s) of every point under constants ``m`` and device figures ``figures``
        (``{"t4.sustained_mhz": 1200}``; the packaged ones where absent)."""
        c = self.cols
        c.peak = c.peak_at_boost.copy()
        bandwidth = c.bandwidth.copy()
        for name in DEVICE_FITS:
            dev, fig = name.split(".")
            d, rows = self.devices[dev], self.dev_of == dev
            value = (figures or {}).get(name, d.figures.get(fig))
            if value is None:
                continue
            if fig == "sustained_mhz":
                c.peak[rows] *= value / d.figures["boost_mhz"]
        compute, memory, overhead = kernel_seconds(c, c.sms, bandwidth, m, minimum=np.minimum)
        per_kernel = overhead + np.maximum(compute, memory)
        per_group = np.bincount(self.group, weights=per_kernel, minlength=len(self.group_plan))
        per_plan = np.full(len(self.plan_point), np.inf)
        np.minimum.at(per_plan, self.group_plan, per_group)  # the faster plan of each engine
        body = np.bincount(self.plan_point, weights=per_plan, minlength=len(self.points))
        return (body + self.framework_ops * m.framework_us * 1e-6
                + self.copy_bytes / (m.eff_host * self.host_link))


def free(b: dict[str, tuple[float, float]]) -> list[str]:
    """The names the search moves: a constant whose range is one value is held there."""
    return [n for n, (lo, hi) in b.items() if hi > lo]


def unpack(z: np.ndarray, b: dict | None = None) -> tuple[Model, dict[str, float]]:
    b = b or bounds()
    vals = {n: lo for n, (lo, hi) in b.items()}
    for zi, name in zip(z, free(b)):
        lo, hi = b[name]
        vals[name] = lo + (hi - lo) / (1 + math.exp(-min(max(zi, -50.0), 50.0)))
    return Model(**{n: vals[n] for n in Model.NAMES}), {k: v for k, v in vals.items() if k not in Model.NAMES}


def pack(m: Model, figures: dict[str, float], b: dict | None = None) -> np.ndarray:
    b = b or bounds()
    z = []
    for name in free(b):
        lo, hi = b[name]
        v = getattr(m, name) if name in Model.NAMES else figures[name]
        f = min(max((v - lo) / (hi - lo), 1e-6), 1 - 1e-6)
        z.append(math.log(f / (1 - f)))
    return np.array(z)


def packaged_figures() -> dict[str, float]:
    devices = load_devices()
    out = {}
    for name, (_, hi) in DEVICE_FITS.items():
        dev, fig = name.split(".")
        out[name] = devices[dev].figures.get(fig, hi)
    return out


def nelder_mead(f, x0, step=0.5, iters=4000, tol=1e-10):
    n = len(x0)
    pts = [x0] + [x0 + step * np.eye(n)[i] for i in range(n)]
    vals = [f(p) for p in pts]
    for _ in range(iters):
        order = np.argsort(vals)
        pts = [pts[i] for i in order]
        vals = [vals[i] for i in order]
        if abs(vals[-1] - vals[0]) < tol:
            break
        centroid = np.mean(pts[:-1], axis=0)
        xr = centroid + (centroid - pts[-1])
        fr = f(xr)
        if fr < vals[0]:
            xe = centroid + 2 * (centroid - pts[-1])
            fe = f(xe)
            pts[-1], vals[-1] = (xe, fe) if fe < fr else (xr, fr)
        elif fr < vals[-2]:
            pts[-1], vals[-1] = xr, fr
        else:
            xc = centroid + 0.5 * (pts[-1] - centroid)
            fc = f(xc)
            if fc < vals[-1]:
                pts[-1], vals[-1] = xc, fc
            else:
                pts = [pts[0] + 0.5 * (p - pts[0]) for p in pts]
                vals = [f(p) for p in pts]
    i = int(np.argmin(vals))
    return pts[i], vals[i]


#: the per-kernel costs trade against each other (a launch interval or a tail can both pay
#: for a small kernel), so the search also starts from each corner of that plane
STARTS = [{"launch_us": lu, "tail_us": tu} for lu in (2.0, 10.0, 20.0) for tu in (2.0, 10.0, 20.0)]


def fit(data: Dataset, start: Model, figures: dict[str, float], trials: int = 8):
    """Constants and device figures minimising the mean squared log error on ``data``:
    Nelder-Mead from the packaged values, from each of STARTS, then from ``trials`` random
    perturbations of the best point."""
    logm = np.log(data.measured)

    def loss(z):
        return float(np.mean((np.log(data.predict(*unpack(z))) - logm) ** 2))

    def descend(x0):
        for _ in range(3):  # restarts from the last optimum
            x0, v = nelder_mead(loss, x0)
        return x0, v

    best = descend(pack(start, figures))
    for s in STARTS:
        cand = descend(pack(start.replace(**s), figures))
        best = cand if cand[1] < best[1] else best
    rng = np.random.default_rng(0)
    for _ in range(trials):
        cand = descend(best[0] + rng.normal(0, 0.5, len(best[0])))
        best = cand if cand[1] < best[1] else best
    m, figs = unpack(best[0])
    return m, figs, best[1]


def results_for(tables, model: Model, figures=None) -> list[TableResult]:
    out = []
    for t in tables:
        data = Dataset([t])
        pred = data.predict(model, figures)
        res = TableResult(t)
        for (tt, name, b, ms), p in zip(data.points, pred):
            res.points.append(Point(t.id, name, b, ms, p * 1e3, float("nan")))
        out.append(res)
    return out


def describe(m: Model, figures: dict[str, float]) -> str:
    return " ".join([*(f"{n}={getattr(m, n):.3g}" for n in Model.NAMES), *(f"{k}={v:.0f}" for k, v in figures.items())])


def devices_with(figures: dict[str, float]):
    """The packaged devices with the figures ``{"t4.sustained_mhz": ...}`` replaced."""
    import dataclasses

    devices = load_devices()
    for name, value in figures.items():
        dev, fig = name.split(".")
        d = devices[dev]
        devices[dev] = dataclasses.replace(d, figures={**d.figures, fig: value})
    return devices


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fixed", action="store_true", help="evaluate the packaged constants, do not fit")
    ap.add_argument("--brief", action="store_true", help="summary only")
    ap.add_argument("--loto", action="store_true",
                    help="leave one table out: predict each table from a fit on all the others")
    ap.add_argument("--trials", type=int, default=4, help="random restarts of the search")
    ns = ap.parse_args()
    tables = archs.latency_tables()
    model, figures = default_model(), packaged_figures()
    if ns.loto:
        from calc.latency.validate import loto_report

        rows = []
        for t in tables:
            m, figs, _ = fit(Dataset([u for u in tables if u.id != t.id]), model, figures, ns.trials)
            (res,) = results_for([t], m, figs)
            rows.append((res, describe(m, figs)))
        print(loto_report(rows))
        return
    if not ns.fixed:
        calib = Dataset([t for t in tables if t.id in CALIBRATION])
        model, figures, loss = fit(calib, model, figures, ns.trials)
        print(f"fitted on {len(calib.points)} points of {', '.join(CALIBRATION)}; "
              f"mean squared log error {loss:.4f} (rms {100 * (math.exp(loss ** 0.5) - 1):.1f}%)")
        print("constants (paste into calc/latency/model.toml and devices.toml, rounded):")
        for name in Model.NAMES:
            print(f"  {name:<16} = {getattr(model, name):.4g}")
        for name, v in figures.items():
            print(f"  {name:<16} = {v:.4g}")
        print()
    print(report(predict(tables, model, devices_with(figures), build=archs.build), detail=not ns.brief))


if __name__ == "__main__":
    main()
