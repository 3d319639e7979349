"""How fast `calc sweep` walks a grid, end to end: points per CPU-second and peak memory.

    python benchmarks/sweep.py [--arch mobilenet_v2] [--alphas 100] [--res 100] [--repeat 3]

Runs `calc sweep ARCH --alpha A1,...,An --res R1,...,Rm --format csv` in a fresh process (the
installed `calc` console script when it is on PATH, else `python -m calc`) and reports the
child's CPU time (user + system: wall time is noise on a shared machine), points per
CPU-second and peak RSS; the best of --repeat runs.  Every row is checked to be there.
Defaults: the issue's 100 x 100 MobileNet v2 grid (alphas 0.30..1.29, resolutions 96..492).
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile


def run(cmd: list[str]) -> tuple[float, int, int]:
    """CPU seconds, peak RSS (KiB) and output lines of one run."""
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"command failed: {' '.join(cmd[:4])} ...\n{proc.stderr.read().decode()}")
        out.seek(0)
        lines = sum(1 for _ in out)
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss, lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", default="mobilenet_v2")
    ap.add_argument("--alphas", type=int, default=100, help="width multipliers (0.30, 0.31, ...)")
    ap.add_argument("--res", type=int, default=100, help="resolutions (96, 100, 104, ...)")
    ap.add_argument("--repeat", type=int, default=3)
    ns = ap.parse_args()
    alphas = [f"{0.30 + 0.01 * i:.2f}" for i in range(ns.alphas)]
    res = [str(96 + 4 * i) for i in range(ns.res)]
    exe = shutil.which("calc")
    base = [exe] if exe else [sys.executable, "-m", "calc"]
    cmd = base + ["sweep", ns.arch, "--alpha", ",".join(alphas), "--res", ",".join(res), "--format", "csv"]
    points = len(alphas) * len(res)
    best = None
    for _ in range(ns.repeat):
        cpu, rss, lines = run(cmd)
        if lines != points + 1:
            sys.exit(f"expected {points + 1} lines, got {lines}")
        best = min(best or (cpu, rss), (cpu, rss))
    cpu, rss = best
    print(f"calc sweep {ns.arch}: {len(alphas)} alphas x {len(res)} resolutions = {points:,} points, CSV out")
    print(f"CPU time {cpu:.3f} s (best of {ns.repeat}), {points / cpu:,.0f} points per CPU-second, "
          f"peak RSS {rss / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
