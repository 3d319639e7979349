"""Checking a built-in against counts measured on its reference implementation.

The counts of tests/archs/test_{mobilenet_v3,efficientnet,ghostnet,regnet}.py were measured
with torch 2.14.1 (CPU), torchvision 0.29.1, timm 1.0.31, thop 0.1.1.post2209072238, ptflops
0.7.5 (pytorch backend) and fvcore 0.1.5, batch 1, 1000 classes, on models built with
``weights=None`` (torchvision) or ``pretrained=False`` (timm), in eval mode:

* ``params``: ``sum(p.numel() for p in model.parameters())``;
* ``conv_macs`` / ``linear_macs``: forward hooks on every ``nn.Conv2d`` / ``nn.Linear``
  (subclasses included): output elements x in_channels / groups x kh x kw, and input
  elements x out_features;
* ``leaf_output_elems``: a forward hook on every module without children, summing
  ``output.numel()``;
* ``thop_macs``: ``thop.profile(model, inputs=(x,))[0]``; ``ptflops_macs``:
  ``get_model_complexity_info(model, (3, H, W), as_strings=False, backend="pytorch")[0]``;
  ``fvcore_total``: ``FlopCountAnalysis(model, x).total()``.

The script: ``python tests/data/measure/torchvision_timm/measure.py [--tools] NAME[@RES] ...``.
"""
from __future__ import annotations

from tests.conftest import counts

TOOLS = (("thop", "thop_macs"), ("ptflops", "ptflops_macs"), ("fvcore", "fvcore_total"))


def assert_matches(name: str, ref: dict[str, int], **options) -> None:
    """Params, conv and FC MACs equal to the unit, and every tool total the reference has."""
    a = counts(name, **options)
    assert a.totals["params"] == ref["params"]
    assert sum(c.macs for c in a.layers if c.op == "Conv2d") == ref["conv_macs"]
    assert sum(c.macs for c in a.layers if c.op == "Linear") == ref["linear_macs"]
    assert a.totals["macs"] == ref["conv_macs"] + ref["linear_macs"]
    for tool, key in TOOLS:
        if key in ref:
            assert counts(name, convention=tool, **options).totals["flops"] == ref[key], tool


def printed_block_inputs(arch: str) -> list[tuple[int, int, int]]:
    """The printed (H, W, C) inputs of the ``block`` rows of ``arch``'s stage table."""
    import archs

    (table,) = [t for t in archs.stage_tables() if t.get("arch") == arch]
    return [tuple(r["input"]) for r in table["rows"] if r["type"] == "block"]


def block_inputs(net, names: list[str]) -> list[tuple[int, int, int]]:
    """The (H, W, C) input of each named block of ``net`` (its first layer's input)."""
    out = []
    for name in names:
        first = next(n for n in net.layers() if n.name.startswith(name + "."))
        c, h, w = net[first.inputs[0]].shape
        out.append((h, w, c))
    return out
