"""The built-in architectures: one family per module, each registered in calc's
registry when this package is imported, and their published data (``archs/data``:
published counts, stage tables, measured latencies).

The declarations use the engine's public pieces (:mod:`calc.registry`,
:mod:`calc.blocks`, :mod:`calc.graph`, :mod:`calc.layers`); the engine never
imports this package.
"""
from __future__ import annotations

from functools import cache
from typing import Any

from calc.graph import Network
from calc.registry import ARCHITECTURES, Architecture, Option, get, register

from archs import classic, mobilenet, resnet, shufflenet  # noqa: F401  (registers)
from archs import bn_inception, dpn, inception_v4, xception  # noqa: F401  (registers)
from archs import densenet, googlenet, inception_v3, mnasnet  # noqa: F401  (registers)
from archs import efficientnet, ghostnet, mobilenet_v3, regnet  # noqa: F401  (registers)
from archs import nasnet, polynet, textcnn  # noqa: F401  (registers)
from archs import deeplab, fcn, openpose, rcnn, ssd  # noqa: F401  (registers)


def build(name: str, **options: Any) -> Network:
    """Build the named architecture with the given options (validated)."""
    return get(name).build(**options)


@cache
def published(arch: str | None = None) -> tuple:
    """The published numbers of the built-in architectures (every ``data/published/*.yaml``,
    one file per family or source), each resolved to the full configuration it belongs to;
    with ``arch``, only that architecture's (and only the files that name it are parsed: a
    cold ``calc arch`` reads two or three files, not every family's)."""
    from importlib import resources

    from calc.datafiles import parse_yaml
    from calc.published import entries, resolve

    folder = resources.files("archs").joinpath("data", "published")
    found = []
    for f in sorted((f for f in folder.iterdir() if f.name.endswith(".yaml")), key=lambda f: f.name):
        text = f.read_text(encoding="utf-8")
        if arch is not None and arch not in text:
            continue
        label = f"archs/data/published/{f.name}"
        found += [p for p in entries(parse_yaml(text, label), label) if arch is None or p.arch == arch]
    return tuple(resolve(found, get))


@cache
def stage_tables() -> tuple:
    """The papers' stage tables, as printed (``data/stage_tables.yaml``)."""
    from calc.datafiles import packaged

    return tuple(packaged("archs", "data/stage_tables.yaml"))


#: the calc network of each model of PaddleClas' latency files: PaddleClas' own definitions
PADDLECLAS_NETS = {
    "mobilenet_v1": ("mobilenet_v1", {}),  # int(c x scale) channels: TF-slim's rule at these widths
    "mobilenet_v2": ("mobilenet_v2_paddle", {}),
    "shufflenet_v2": ("shufflenet_v2", {"variant": "paddle"}),
}


def _paddleclas_net(row) -> tuple[str, dict]:
    arch, options = PADDLECLAS_NETS[row["model"]]
    return arch, {**options, "alpha": float(row["width"]), "res": int(row["crop"])}


@cache
def latency_tables() -> tuple:
    """Published latency measurements of the built-ins: the seeds' (``data/latency_seeds.toml``)
    and PaddleClas' T4 figures of its mobile networks (``data/latency_paddleclas_t4_mobile.yaml``,
    copied as published; its timed loop includes the host copy, as seed 003's)."""
    from calc.datafiles import packaged
    from calc.latency.validate import parse_rows, parse_tables

    seeds = parse_tables(packaged("archs", "data/latency_seeds.toml"))
    mobile = parse_rows(packaged("archs", "data/latency_paddleclas_t4_mobile.yaml"), prefix="mobile",
                        campaign="PaddleClas T4 mobile", host_copy=True, arch_of=_paddleclas_net,
                        devices={"T4": "t4"})
    return tuple(seeds + mobile)


__all__ = ["ARCHITECTURES", "Architecture", "Option", "build", "get", "latency_tables", "published",
           "register", "stage_tables"]
