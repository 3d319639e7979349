"""Cold-start CPU time and peak memory of one `calc` invocation.

Runs the command N times in fresh processes and reports the median and best CPU time
(user + system of the child: these machines are shared, so wall time is noise; it is
printed too) and the peak resident memory (max RSS of the child).  Usage:

    python benchmarks/cold_start.py [-n 20] [-- arch mobilenet_v2 --alpha 0.75 --res 192]

Uses the installed `calc` console script when it is on PATH, else `python -m calc`.
Targets (issue 2): under 0.3 s and under 60 MiB on a 2-core machine.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

DEFAULT = ["arch", "mobilenet_v2", "--alpha", "0.75", "--res", "192"]


def run_once(cmd: list[str]) -> tuple[float, float, int]:
    """CPU seconds, wall seconds and max RSS in KiB of one run (Linux: wait4 gives the
    child's rusage)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"command failed: {' '.join(cmd)}\n{proc.stderr.read().decode()}")
    return usage.ru_utime + usage.ru_stime, elapsed, usage.ru_maxrss


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=20, help="runs (default 20)")
    ap.add_argument("args", nargs="*", help="calc arguments (default: %(default)s)")
    ns = ap.parse_args()
    exe = shutil.which("calc")
    base = [exe] if exe else [sys.executable, "-m", "calc"]
    cmd = base + (ns.args or DEFAULT)
    run_once(cmd)  # warm the OS file cache; "cold" means a fresh interpreter, not a cold disk
    cpu, wall, rss = zip(*(run_once(cmd) for _ in range(ns.n)))
    print(f"command: {' '.join(cmd)}")
    print(f"runs: {ns.n}  cpus: {os.cpu_count()}  python: {sys.version.split()[0]}")
    print(f"CPU time: median {statistics.median(cpu):.3f} s, best {min(cpu):.3f} s, worst {max(cpu):.3f} s")
    print(f"wall time: median {statistics.median(wall):.3f} s (noise on a shared machine)")
    print(f"peak RSS: {max(rss) / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
