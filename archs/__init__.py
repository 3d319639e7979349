"""The built-in architectures, one family per module, and their published data
(``archs/data``: published counts, stage tables, measured latencies).  Importing this
package declares every name in calc's registry (``INDEX``); a family's module is imported,
and registers its architectures, when one of them is first asked for.

The declarations use the engine's public pieces (:mod:`calc.registry`,
:mod:`calc.blocks`, :mod:`calc.graph`, :mod:`calc.layers`); the engine never
imports this package.
"""
from __future__ import annotations

from functools import cache
from typing import Any

from calc.graph import Network
from calc.registry import ARCHITECTURES, Architecture, Option, get, register

#: every built-in, by the module that registers it: ``calc arch NAME`` imports only NAME's module
#: (tests/archs/test_index.py checks this table against what each module registers)
INDEX: dict[str, tuple[str, ...]] = {
    "classic": ("alexnet", "squeezenet1_0", "squeezenet1_1", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16",
                "vgg16_bn", "vgg19", "vgg19_bn", "darknet53"),
    "mobilenet": ("mobilenet_v1", "mobilenet_v2", "mobilenet_v2_paddle"),
    "resnet": ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "wide_resnet50_2",
               "wide_resnet101_2", "resnext50_32x4d", "resnext101_32x8d", "resnext101_32x4d",
               "resnext101_64x4d", "se_resnet50", "se_resnet101", "se_resnet152", "se_resnext50_32x4d",
               "se_resnext101_32x4d", "senet154", "fbresnet152", "resnet50_vc", "resnet18_vd", "resnet34_vd",
               "resnet50_vd", "resnet101_vd", "resnet152_vd", "resnet200_vd", "resnet18_paddle",
               "resnet34_paddle"),
    "shufflenet": ("shufflenet_v1", "shufflenet_v2"),
    "bn_inception": ("bn_inception",),
    "dpn": ("dpn68", "dpn68b", "dpn92", "dpn98", "dpn107", "dpn131"),
    "inception_v4": ("inception_v4", "inception_resnet_v2"),
    "xception": ("xception",),
    "densenet": ("densenet121", "densenet161", "densenet169", "densenet201"),
    "googlenet": ("googlenet",),
    "inception_v3": ("inception_v3",),
    "mnasnet": ("mnasnet",),
    "efficientnet": ("efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3",
                     "efficientnet_b4", "efficientnet_b5", "efficientnet_b6", "efficientnet_b7"),
    "ghostnet": ("ghostnet",),
    "mobilenet_v3": ("mobilenet_v3_large", "mobilenet_v3_small"),
    "regnet": ("regnet_x_400mf", "regnet_x_800mf", "regnet_x_1_6gf", "regnet_x_3_2gf", "regnet_x_8gf",
               "regnet_x_16gf", "regnet_x_32gf", "regnet_y_400mf", "regnet_y_800mf", "regnet_y_1_6gf",
               "regnet_y_3_2gf", "regnet_y_8gf", "regnet_y_16gf", "regnet_y_32gf", "regnet_y_128gf"),
    "nasnet": ("nasnet_a_large", "nasnet_a_mobile", "pnasnet5_large"),
    "polynet": ("polynet",),
    "textcnn": ("textcnn",),
    "deeplab": ("deeplab_v2_vgg16", "deeplab_v2_resnet101"),
    "fcn": ("fcn32s_vgg16", "fcn16s_vgg16", "fcn8s_vgg16"),
    "openpose": ("openpose_mpi", "openpose_coco"),
    "rcnn": ("faster_rcnn_vgg16", "rfcn_resnet50", "rfcn_resnet101"),
    "ssd": ("ssd300_vgg16", "ssd512_vgg16", "ssd300_mobilenet_v1"),
}

for _module, _names in INDEX.items():
    ARCHITECTURES.declare(f"archs.{_module}", _names)


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
