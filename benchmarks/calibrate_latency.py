"""Fit the constants of calc's latency model (calc/latency/model.toml) to the calibration
tables of archs/data/latency_seeds.toml, and report the error on every table.

    python benchmarks/calibrate_latency.py            # fit, print the constants and the errors
    python benchmarks/calibrate_latency.py --fixed    # only evaluate the packaged constants

The split is calc.latency.validate.CALIBRATION (the V100 tables); the T4 tables are held out.
The loss is the mean squared log error of the predicted latencies (each measurement
weighs the same, whatever its size); the search is Nelder-Mead over the constants, each
kept within a physically meaningful range (BOUNDS), from several starting points.  The
model itself is calc.latency.roofline.kernel_seconds, evaluated on arrays: the same formula the
command line uses.
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import archs  # noqa: E402
from calc.latency.validate import CALIBRATION, Point, TableResult, predict, report  # noqa: E402
from calc.latency.devices import find_device, load_devices  # noqa: E402
from calc.latency.fusion import fuse  # noqa: E402
from calc.latency.roofline import Model, copy_bytes, default_model, kernel_seconds, kernel_work  # noqa: E402

#: the range each constant may take, with the reason
BOUNDS = {
    "kernel_us": (1.0, 60.0),      # a kernel launch is >= ~2-5 us; tens of us is already slow
    "eff_tensor": (0.1, 1.0),      # fractions of a peak
    "eff_simt": (0.1, 1.0),
    "eff_mem": (0.3, 0.9),         # DRAM streams reach ~90% of the pin bandwidth at best
    "eff_host": (0.05, 1.0),
    "winograd": (1.0, 4.0),        # F(2x2, 3x3) does 2.25x fewer multiplications than direct
    "sat_tensor": (64.0, 65536.0),  # output elements per SM (a tile is 32x32 .. 256x256)
    "sat_simt": (64.0, 65536.0),
}


class Columns:
    """All kernels of all data points as arrays (what kernel_seconds reads)."""

    def __init__(self, works, sms, bandwidth):
        self.flops = np.array([w.flops for w in works], float)
        self.bytes = np.array([w.bytes for w in works], float)
        self.peak = np.array([w.peak for w in works], float)
        self.conv = np.array([w.conv for w in works], float)
        self.tensor = np.array([w.tensor for w in works], float)
        self.winograd = np.array([w.winograd for w in works], float)
        self.out_elems = np.array([w.out_elems for w in works], float)
        self.sms = np.array(sms, float)
        self.bandwidth = np.array(bandwidth, float)


class Dataset:
    def __init__(self, tables):
        devices = load_devices()
        nets = {}
        works, sms, bw, owner = [], [], [], []
        self.points, self.copy_bytes, self.host_link, self.nkernels = [], [], [], []
        for t in tables:
            dev = find_device(t.device, devices)
            for r in t.rows:
                key = (r.arch, tuple(sorted(r.options.items())))
                if key not in nets:
                    nets[key] = (archs.build(r.arch, **r.options), None)
                    nets[key] = (nets[key][0], fuse(nets[key][0]))
                net, kernels = nets[key]
                for b, ms in zip(t.batches, r.ms):
                    i = len(self.points)
                    self.points.append((t, r.name, b, ms))
                    for k in kernels:
                        works.append(kernel_work(k, net, b, dev, t.dtype))
                        sms.append(dev.sms)
                        bw.append(dev.bandwidth)
                        owner.append(i)
                    self.nkernels.append(len(kernels))
                    self.copy_bytes.append(copy_bytes(net, b) if t.host_copy else 0)
                    self.host_link.append(dev.host_link)
        self.cols = Columns(works, sms, bw)
        self.owner = np.array(owner)
        self.measured = np.array([p[3] for p in self.points]) * 1e-3
        self.nkernels = np.array(self.nkernels, float)
        self.copy_bytes = np.array(self.copy_bytes, float)
        self.host_link = np.array(self.host_link, float)

    def predict(self, m: Model) -> np.ndarray:
        c = self.cols
        compute, memory, _ = kernel_seconds(c, c.sms, c.bandwidth, m, minimum=np.minimum)
        per_kernel = np.maximum(compute, memory)
        body = np.bincount(self.owner, weights=per_kernel, minlength=len(self.points))
        return (self.nkernels * m.kernel_us * 1e-6 + body
                + self.copy_bytes / (m.eff_host * self.host_link))


def to_model(z: np.ndarray) -> Model:
    vals = {}
    for zi, (name, (lo, hi)) in zip(z, BOUNDS.items()):
        vals[name] = lo + (hi - lo) / (1 + math.exp(-zi))
    return Model(**vals)


def from_model(m: Model) -> np.ndarray:
    z = []
    for name, (lo, hi) in BOUNDS.items():
        f = min(max((getattr(m, name) - lo) / (hi - lo), 1e-6), 1 - 1e-6)
        z.append(math.log(f / (1 - f)))
    return np.array(z)


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


def fit(data: Dataset, start: Model) -> tuple[Model, float]:
    logm = np.log(data.measured)

    def loss(z):
        return float(np.mean((np.log(data.predict(to_model(z))) - logm) ** 2))

    rng = np.random.default_rng(0)
    best = (from_model(start), loss(from_model(start)))
    for trial in range(8):
        x0 = best[0] if trial == 0 else best[0] + rng.normal(0, 1.0, len(BOUNDS))
        for _ in range(3):  # restarts from the last optimum
            x0, v = nelder_mead(loss, x0)
        if v < best[1]:
            best = (x0, v)
    return to_model(best[0]), best[1]


def results_for(tables, model: Model) -> list[TableResult]:
    out = []
    for t in tables:
        data = Dataset([t])
        pred = data.predict(model)
        res = TableResult(t)
        for (tt, name, b, ms), p in zip(data.points, pred):
            res.points.append(Point(t.id, name, b, ms, p * 1e3, float("nan")))
        out.append(res)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fixed", action="store_true", help="evaluate the packaged constants, do not fit")
    ap.add_argument("--brief", action="store_true", help="summary only")
    ap.add_argument("--loto", action="store_true",
                    help="leave one table out: refit on the other four tables, report the one left out")
    ns = ap.parse_args()
    tables = archs.latency_tables()
    model = default_model()
    if ns.loto:
        print(f"{'left out':<16}{'n':>4}{'MdAPE':>8}{'Spearman':>10}{'median error':>14}   refitted constants")
        for t in tables:
            m, _ = fit(Dataset([u for u in tables if u.id != t.id]), model)
            (res,) = results_for([t], m)
            signed = 100 * float(np.median([p.error for p in res.points]))
            consts = " ".join(f"{n}={getattr(m, n):.3g}" for n in Model.NAMES)
            print(f"{t.id:<16}{len(res.points):>4}{res.mdape:>7.1f}%{res.spearman:>10.3f}{signed:>+13.1f}%   {consts}")
        return
    if not ns.fixed:
        calib = Dataset([t for t in tables if t.id in CALIBRATION])
        model, loss = fit(calib, model)
        print(f"fitted on {len(calib.points)} points of {', '.join(CALIBRATION)}; "
              f"mean squared log error {loss:.4f} (rms {100 * (math.exp(loss ** 0.5) - 1):.1f}%)")
        print("constants (paste into calc/latency/model.toml, rounded):")
        for name in Model.NAMES:
            print(f"  {name:<11} = {getattr(model, name):.4g}")
        print()
    print(report(predict(tables, model, build=archs.build), detail=not ns.brief))


if __name__ == "__main__":
    main()
