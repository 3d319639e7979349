"""Optional plots (the 'plot' extra: matplotlib, imported only here)."""
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
