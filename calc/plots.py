"""Optional plots (the 'plot' extra: matplotlib, imported only here).

``plot_sweep``: MACs and params of a ``calc sweep`` grid against resolution.

``plot_roofline`` (``calc latency --plot FILE``): attainable performance (FLOP/s, log)
against arithmetic intensity (FLOP/byte, log): the device's roofs (the memory slope and a
ceiling per compute unit the layers use), one filled point per layer at its plain-roofline
attainable performance (on the roof by construction) and, hollow, each fused kernel at the
performance the estimate gives it (FLOPs / estimated time), so the gap to the roof is what
the bound misses.
"""
from __future__ import annotations

from calc.errors import CalcError


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise CalcError("plotting needs matplotlib: pip install 'calc[plot]'") from None
    return plt


PLOT_SUFFIXES = (".png", ".svg", ".pdf")


def check_plot_path(path: str) -> None:
    """A plot's file must end in .png, .svg or .pdf and go into an existing folder: checked
    before anything is computed, so a typo costs nothing."""
    from pathlib import Path

    p = Path(path)
    if not str(path).lower().endswith(PLOT_SUFFIXES):
        raise CalcError(f"--plot: the file must end in .png, .svg or .pdf, received {str(path)!r}")
    if not p.parent.is_dir():
        raise CalcError(f"--plot: no such folder {str(p.parent)!r}")


#: the totals a sweep plot can draw, with their axis labels and scales
SWEEP_PANELS = (("macs", "MACs (M)", 1e-6), ("params", "params (M)", 1e-6), ("latency_ms", "latency (ms)", 1.0),
                ("backward_macs", "backward MACs (M)", 1e-6))


def plot_sweep(rows: list[dict], path: str, title: str = "", axes: list[str] | None = None) -> None:
    """Each total of a sweep (MACs, params, and the latency when ``--device`` gave one) against
    the option that varies fastest (the resolution, else any that varies), one line per
    combination of the other options; points where the network cannot exist (a vanished map)
    are marked on the axis, never dropped silently."""
    check_plot_path(path)
    plt = _pyplot()
    axes = axes or [k for k in (rows[0] if rows else {}) if k not in {p[0] for p in SWEEP_PANELS}
                    and k not in ("error", "flops", "activations") and not k.endswith(("_bytes", "_params"))]
    varying = [k for k in axes if len({repr(r.get(k)) for r in rows}) > 1] or axes[:1]
    x_key = "res" if "res" in varying else (varying[-1] if varying else None)
    others = [k for k in varying if k != x_key]
    panels = [p for p in SWEEP_PANELS if any(p[0] in r for r in rows)]
    fig, grid = plt.subplots(1, max(len(panels), 1), figsize=(5 * max(len(panels), 1), 4), squeeze=False)
    series: dict = {}
    for r in rows:
        series.setdefault(tuple(r.get(k) for k in others), []).append(r)
    numeric = all(isinstance(r.get(x_key), (int, float)) for r in rows) if x_key else False
    for key, pts in series.items():
        label = ", ".join(f"{k}={v}" for k, v in zip(others, key)) or None
        if numeric:
            pts.sort(key=lambda r: r[x_key])
        xs = [r.get(x_key) if numeric else str(r.get(x_key)) for r in pts]
        for ax, (total, _, scale) in zip(grid[0], panels):
            ok = [(x, r[total] * scale) for x, r in zip(xs, pts) if total in r]
            line = ax.plot([x for x, _ in ok], [y for _, y in ok], marker="o", label=label)
            gone = [x for x, r in zip(xs, pts) if "error" in r]
            if gone:
                ax.scatter(gone, [0] * len(gone), marker="x", color=line[0].get_color(), clip_on=False, zorder=3)
    vanished = sum("error" in r for r in rows)
    for ax, (total, ylabel, _) in zip(grid[0], panels):
        ax.set(xlabel=x_key or "point", ylabel=ylabel, title=f"{title} {ylabel.split(' (')[0]}")
        ax.grid(alpha=0.3)
    if any(k for k in series) and panels:
        grid[0][0].legend(fontsize="small")
    if vanished:
        fig.suptitle(f"x on the axis: {vanished} point(s) where the network cannot exist (a feature map vanishes)",
                     fontsize="small")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


UNIT_LABEL = {
    "fp32_tflops": "FP32", "fp16_tflops": "FP16 (CUDA cores)", "tf32_tensor_tflops": "TF32 tensor",
    "fp16_tensor_tflops": "FP16 tensor", "bf16_tensor_tflops": "BF16 tensor",
    "int8_tensor_tops": "INT8 tensor", "int8_tops": "INT8 (dp4a)",
}


def plot_roofline(ests, path: str) -> None:
    """Write the roofline plot of estimates ``ests`` (one network, one device, any batches).

    A fused kernel can sit above its roof: its FLOPs are the network's (2 x MACs), and a
    Winograd 3x3 conv executes fewer multiplications than that, or a fused kernel's bytes
    are fewer than its layers' (its intermediate tensors never reach memory), which moves it
    right.  The plot says so when it happens.  int8 counts operations, not floating-point ones."""
    check_plot_path(path)
    plt = _pyplot()
    e0 = ests[0]
    dev, bw = e0.device, e0.device.bandwidth
    op = "OP" if e0.dtype == "int8" else "FLOP"
    fig, ax = plt.subplots(figsize=(9, 5.5))
    pts = [r for e in ests for r in e.layers if r.flops and r.bytes]
    xs = [r.intensity for r in pts] or [1.0]
    lo, hi = min(xs + [0.1]) / 2, max(xs + [1e3]) * 2
    units = sorted({r.unit for r in pts} | {k.work.unit for e in ests for k in e.kernels},
                   key=lambda u: dev.get(u))
    top = max(dev.get(u) for u in units) * 1e12 if units else 1.0
    for u in units:
        peak = dev.get(u) * 1e12
        ridge = peak / bw
        ax.plot([lo, ridge, hi], [lo * bw, peak, peak], lw=1.5, label=f"{UNIT_LABEL.get(u, u)} roof: "
                f"{dev.get(u):g} T{op}/s, ridge {ridge:.0f} {op}/B")
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    above = 0
    for i, e in enumerate(ests):
        c = colors[(i + len(units)) % len(colors)]
        layer_pts = [r for r in e.layers if r.flops and r.bytes]
        ax.scatter([r.intensity for r in layer_pts], [r.attainable(bw) for r in layer_pts], s=14, color=c,
                   label=f"batch {e.batch}: layers (on the roof by construction)" if i == 0 else f"batch {e.batch}")
        kern = [k for k in e.kernels if k.work.flops and k.work.bytes]
        kx = [k.work.flops / k.work.bytes for k in kern]
        ky = [k.work.flops / k.time_s for k in kern]
        above += sum(y > min(dev.get(k.work.unit) * 1e12, x * bw) * 1.0001 for k, x, y in zip(kern, kx, ky))
        ax.scatter(kx, ky, s=22, facecolors="none", edgecolors=c,
                   label="hollow: fused kernels at their estimated time" if i == 0 else None)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ax.set_ylim(top=top * 4)
    ax.set(xlabel=f"arithmetic intensity ({op} / byte)", ylabel=f"performance ({op}/s)",
           title=f"{e0.arch} on {dev.name}, {e0.dtype}")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    if above:
        ax.text(0.01, 0.01, f"{above} kernel point(s) above a roof: a Winograd 3x3 conv executes fewer "
                            f"multiplications than the\n2 x MACs counted, and a fused kernel moves fewer bytes "
                            f"than its layers (intermediates stay on chip)", transform=ax.transAxes,
                fontsize="x-small", va="bottom")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
