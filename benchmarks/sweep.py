"""How fast `calc sweep` walks a grid: points per second, in-process and end to end.

    python benchmarks/sweep.py [--arch mobilenet_v2] [--points 2000]    (the arch must take --alpha and --res)

The grid is alphas x resolutions chosen to give about --points points.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", default="mobilenet_v2")
    ap.add_argument("--points", type=int, default=2000)
    ns = ap.parse_args()
    n_res = 40
    alphas = [round(0.25 + 0.05 * i, 2) for i in range(max(1, ns.points // n_res))]
    res = list(range(96, 96 + 8 * n_res, 8))
    args = ["sweep", ns.arch, "--alpha", ",".join(map(str, alphas)), "--res", ",".join(map(str, res)),
            "--format", "csv"]
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from calc.cli import main as calc_main

    t0 = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": sys.path[0]}
    out = subprocess.run([sys.executable, "-m", "calc.cli", *args], capture_output=True, text=True, check=True,
                         env=env)
    wall = time.perf_counter() - t0
    rows = out.stdout.count("\n")
    print(f"end to end: {rows} points in {wall:.2f} s ({rows / wall:.0f} points/s), {ns.arch}")
    import contextlib
    import io

    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        calc_main(args)
    inproc = time.perf_counter() - t0
    print(f"in process: {rows} points in {inproc:.2f} s ({rows / inproc:.0f} points/s)")


if __name__ == "__main__":
    main()
