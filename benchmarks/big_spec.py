"""How long `calc arch` takes on very large spec files: CPU time and peak memory.

    python benchmarks/big_spec.py [--layers 10000 50000] [--repeat 2]

For each size N it writes two spec files into a temporary folder and runs `calc arch FILE
--format csv` on each in a fresh process (the installed console script when it is on PATH,
else `python -m calc`):

* flat: N explicit layers (conv 3x3 + BN + ReLU units on a 16-channel 32x32 map, with a
  residual add every unit), as `calc export` writes them;
* flat JSON: the same N layers in a JSON file;
* repeat: the same network as one block repeated N / 4 times (a short file).

It reports the child's CPU time (user + system; wall time is noise on a shared machine) and
peak RSS, the best of --repeat runs.  The spec format allows 50,000 layers at most.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HEAD = "name: big\ninput: [16, 32, 32]\n"


def flat(n_units: int) -> str:
    lines = [HEAD, "layers:\n"]
    prev = "input"
    for i in range(n_units):
        lines.append(f"- {{name: u{i}.conv, type: Conv2d, out_channels: 16, kernel_size: 3, padding: 1, "
                     f"bias: false, inputs: {prev}}}\n")
        lines.append(f"- {{name: u{i}.bn, type: BatchNorm2d}}\n")
        lines.append(f"- {{name: u{i}.relu, type: ReLU}}\n")
        lines.append(f"- {{name: u{i}.add, type: Add, inputs: [u{i}.relu, {prev}]}}\n")
        prev = f"u{i}.add"
    return "".join(lines)


def flat_json(n_units: int) -> str:
    import json

    layers, prev = [], "input"
    for i in range(n_units):
        layers += [{"name": f"u{i}.conv", "type": "Conv2d", "out_channels": 16, "kernel_size": 3, "padding": 1,
                    "bias": False, "inputs": prev},
                   {"name": f"u{i}.bn", "type": "BatchNorm2d"}, {"name": f"u{i}.relu", "type": "ReLU"},
                   {"name": f"u{i}.add", "type": "Add", "inputs": [f"u{i}.relu", prev]}]
        prev = f"u{i}.add"
    return json.dumps({"name": "big", "input": [16, 32, 32], "layers": layers})


def repeated(n_units: int) -> str:
    return HEAD + f"""blocks:
  unit:
    layers:
      - {{name: conv, type: Conv2d, out_channels: 16, kernel_size: 3, padding: 1, bias: false}}
      - {{name: bn, type: BatchNorm2d}}
      - {{name: relu, type: ReLU}}
      - {{name: add, type: Add, inputs: [relu, in]}}
layers:
  - {{name: body, block: unit, repeat: {n_units}}}
"""


def run(cmd: list[str]) -> tuple[float, int]:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"command failed: {' '.join(cmd)}\n{proc.stderr.read().decode()}")
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--layers", type=int, nargs="+", default=[10_000, 50_000])
    ap.add_argument("--repeat", type=int, default=2)
    ns = ap.parse_args()
    exe = shutil.which("calc")
    base = [exe] if exe else [sys.executable, "-m", "calc"]
    with tempfile.TemporaryDirectory() as tmp:
        for n in ns.layers:
            units = n // 4
            for kind, suffix, text in (("flat", ".yaml", flat(units)), ("flat", ".json", flat_json(units)),
                                       ("repeat", ".yaml", repeated(units))):
                path = Path(tmp) / f"{kind}_{n}{suffix}"
                path.write_text(text)
                cpu, rss = min(run(base + ["arch", str(path), "--format", "csv"]) for _ in range(ns.repeat))
                print(f"{n:>6,} layers, {kind:<6} {suffix[1:].upper():<4} file ({path.stat().st_size / 1024:,.0f} KiB): "
                      f"CPU time {cpu:.2f} s, peak RSS {rss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
