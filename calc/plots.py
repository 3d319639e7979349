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


def plot_sweep(rows: list[dict], path: str, title: str = "") -> None:
    """MACs and params against resolution, one line per width multiplier."""
    plt = _pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    series: dict = {}
    for r in rows:
        if "macs" in r:
            series.setdefault((r.get("alpha"), r.get("groups")), []).append(r)
    for (alpha, groups), pts in series.items():
        pts.sort(key=lambda r: r.get("res") or 0)
        label = ", ".join(f"{k}={v}" for k, v in (("alpha", alpha), ("groups", groups)) if v is not None) or "default"
        xs = [r.get("res") for r in pts]
        ax1.plot(xs, [r["macs"] / 1e6 for r in pts], marker="o", label=label)
        ax2.plot(xs, [r["params"] / 1e6 for r in pts], marker="o", label=label)
    ax1.set(xlabel="resolution", ylabel="MACs (M)", title=f"{title} MACs")
    ax2.set(xlabel="resolution", ylabel="params (M)", title=f"{title} params")
    ax1.legend(fontsize="small")
    ax1.grid(alpha=0.3)
    ax2.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


UNIT_LABEL = {
    "fp32_tflops": "FP32", "fp16_tflops": "FP16 (CUDA cores)", "tf32_tensor_tflops": "TF32 tensor",
    "fp16_tensor_tflops": "FP16 tensor", "bf16_tensor_tflops": "BF16 tensor",
    "int8_tensor_tops": "INT8 tensor", "int8_tops": "INT8 (dp4a)",
}


def plot_roofline(ests, path: str) -> None:
    """Write the roofline plot of estimates ``ests`` (one network, one device, any batches)."""
    check_plot_path(path)
    plt = _pyplot()
    e0 = ests[0]
    dev, bw = e0.device, e0.device.bandwidth
    fig, ax = plt.subplots(figsize=(8, 5.5))
    pts = [r for e in ests for r in e.layers if r.flops and r.bytes]
    xs = [r.intensity for r in pts] or [1.0]
    lo, hi = min(xs + [0.1]) / 2, max(xs + [1e3]) * 2
    units = sorted({r.unit for r in pts} | {k.work.unit for e in ests for k in e.kernels},
                   key=lambda u: dev.get(u))
    for u in units:
        peak = dev.get(u) * 1e12
        ridge = peak / bw
        ax.plot([lo, ridge, hi], [lo * bw, peak, peak], lw=1.5, label=f"{UNIT_LABEL.get(u, u)} roof: "
                f"{dev.get(u):g} T/s, ridge {ridge:.0f} FLOP/B")
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, e in enumerate(ests):
        c = colors[(i + len(units)) % len(colors)]
        layer_pts = [r for r in e.layers if r.flops and r.bytes]
        ax.scatter([r.intensity for r in layer_pts], [r.attainable(bw) for r in layer_pts], s=14, color=c,
                   label=f"batch {e.batch}: layers (roofline)")
        kern = [k for k in e.kernels if k.work.flops and k.work.bytes]
        ax.scatter([k.work.flops / k.work.bytes for k in kern], [k.work.flops / k.time_s for k in kern],
                   s=22, facecolors="none", edgecolors=c, label=f"batch {e.batch}: fused kernels (estimate)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ax.set(xlabel="arithmetic intensity (FLOP / byte)", ylabel="performance (FLOP/s)",
           title=f"{e0.arch} on {dev.name}, {e0.dtype}")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize="x-small", loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
