"""Cold-start CPU time and peak memory of one `calc` invocation.

Runs the command N times in fresh processes and reports the median and best CPU time
(user + system of the child: these machines are shared, so wall time is noise; it is
printed too) and the peak resident memory (max RSS of the child).  Usage:

    python benchmarks/cold_start.py [-n 20] [-- arch mobilenet_v2 --alpha 0.75 --res 192]
    python benchmarks/cold_start.py --commands [-n 5]     # every command, one line each
    python benchmarks/cold_start.py --imports [-n 5]      # what each command imports, and its cost

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
from pathlib import Path

DEFAULT = ["arch", "mobilenet_v2", "--alpha", "0.75", "--res", "192"]

#: one typical invocation of every command (--commands)
COMMANDS = [
    ["arch", "mobilenet_v2", "--alpha", "0.75", "--res", "192"],
    ["arch", "resnet50", "--layers", "--format", "json"],
    ["arch", "nasnet_a_large", "--layers"],
    ["arch", "faster_rcnn_vgg16"],
    ["arch", "examples/tiny_resnet.yaml", "-p", "depth=56"],
    ["arch", "ONNX"],  # onnx's light_resnet50.onnx, when the onnx extra is installed
    ["train", "resnet50", "--batch", "2"],
    ["list"],
    ["conventions"],
    ["ratio", "mobilenet_v1"],
    ["breakdown", "mobilenet_v1", "--by", "type"],
    ["compare", "mobilenet_v1", "mobilenet_v2", "shufflenet_v2"],
    ["compare", "ZOO"],  # every built-in at its defaults
    ["sweep", "mobilenet_v2", "--alpha", "0.5,1.0", "--res", "128,224"],
    ["check"],
    ["latency", "resnet50", "--batch", "1,8"],
    ["devices"],
    ["validate-latency", "--brief"],
    ["export", "mobilenet_v2"],
    ["schema"],
]


def run_once(cmd: list[str], allow: tuple[int, ...] = (0,)) -> tuple[float, float, int]:
    """CPU seconds, wall seconds and max RSS in KiB of one run (Linux: wait4 gives the
    child's rusage); ``allow``: the exit statuses that are not a failure."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) not in allow:
        sys.exit(f"command failed: {' '.join(cmd)}\n{proc.stderr.read().decode()}")
    return usage.ru_utime + usage.ru_stime, elapsed, usage.ru_maxrss


#: how import costs are grouped (the first component of a module's name); the rest is the
#: standard library
GROUPS = ("calc", "archs", "pydantic", "pydantic_core", "click", "yaml", "numpy", "networkx", "onnx",
          "google", "ml_dtypes", "typing_extensions", "typing_inspection", "annotated_types")


def imports_once(cmd: list[str]) -> dict[str, tuple[int, int]]:
    """Modules imported by one run and their own import time (microseconds, wall clock:
    Python's ``-X importtime``), summed by group: group -> (modules, microseconds)."""
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    out: dict[str, list[int]] = {}
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, _, name = line[len("import time:"):].split("|")
        top = name.strip().split(".")[0]
        group = top if top in GROUPS else "stdlib"
        entry = out.setdefault(group, [0, 0])
        entry[0] += 1
        entry[1] += int(own)
    return {g: (n, us) for g, (n, us) in out.items()}


def report_imports(base: list[str], commands: list[list[str]], n: int) -> None:
    """For each command: the modules it imports and what they cost, the median of ``n`` runs
    (the third-party groups and calc's own, largest first)."""
    print(f"{'command':<58} {'modules':>7} {'import ms':>9}   largest groups (ms, median of {n} runs)")
    for args in commands:
        runs = [imports_once(base + args) for _ in range(n)]
        groups = sorted({g for r in runs for g in r})
        ms = {g: statistics.median(r.get(g, (0, 0))[1] for r in runs) / 1000 for g in groups}
        modules = statistics.median(sum(c for c, _ in r.values()) for r in runs)
        total = statistics.median(sum(us for _, us in r.values()) for r in runs) / 1000
        top = ", ".join(f"{g} {v:.0f}" for g, v in sorted(ms.items(), key=lambda kv: -kv[1])[:5])
        label = " ".join(Path(a).name if a.endswith(".onnx") else a for a in args)
        print(f"calc {label[:53]:<53} {modules:>7.0f} {total:>9.1f}   {top}")


def _light_resnet50() -> str | None:
    """The Caffe2 ResNet-50 graph shipped in the onnx wheel, if onnx is installed."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("onnx")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "backend" / "test" / "data" / "light" / "light_resnet50.onnx"
    return str(path) if path.is_file() else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=20, help="runs (default 20)")
    ap.add_argument("--commands", action="store_true", help="every command, one line each")
    ap.add_argument("--imports", action="store_true",
                    help="what each command (or the one given) imports, and what the imports cost")
    ap.add_argument("args", nargs="*", help="calc arguments (default: %(default)s)")
    ns = ap.parse_args()
    exe = shutil.which("calc")
    base = [exe] if exe else [sys.executable, "-m", "calc"]
    if ns.imports:
        onnx_file = _light_resnet50()
        commands = [ns.args] if ns.args else [[onnx_file if x == "ONNX" else x for x in a] for a in COMMANDS
                                              if "ZOO" not in a and ("ONNX" not in a or onnx_file)]
        report_imports(base, commands, ns.n)
        return
    if ns.commands:
        zoo = subprocess.run(base + ["list", "--format", "json"], capture_output=True, text=True, check=True)
        names = [a["name"] for a in __import__("json").loads(zoo.stdout)]
        print(f"{'command':<58} {'CPU median':>10} {'best':>7} {'peak RSS':>9}   ({ns.n} runs each, {os.cpu_count()} cpus)")
        onnx_file = _light_resnet50()
        for args in COMMANDS:
            if "ONNX" in args and onnx_file is None:
                continue
            args = [a for x in args for a in (names if x == "ZOO" else [onnx_file] if x == "ONNX" else [x])]
            cmd = base + args
            runs = [run_once(cmd, allow=(0, 1)) for _ in range(ns.n)]
            cpu = [r[0] for r in runs]
            label = " ".join(args) if len(args) < 12 else f"{' '.join(args[:2])} ... ({len(args) - 1} architectures)"
            label = label.replace(onnx_file or "\0", "light_resnet50.onnx")
            print(f"calc {label:<53} {statistics.median(cpu):>9.3f}s {min(cpu):>6.3f}s "
                  f"{max(r[2] for r in runs) / 1024:>6.1f} MiB")
        return
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
