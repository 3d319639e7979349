"""Writing networks as spec files (``calc export``).

An exported spec is *flat*: every layer explicit, with the fields that differ
from the layer type's defaults (``impl`` too, when it is not the type's own),
``inputs`` only where a layer is not fed by the one above it, and the
configuration it was built with under ``meta`` (which the loader ignores).
Loading it back gives the same layers, shapes and counts.
"""
from __future__ import annotations

import json
from typing import Any

from calc.datafiles import SPEC_FORMATS
from calc.errors import CalcError
from calc.units import printable
from calc.graph import INPUT, Network
from calc.registry import Architecture
from calc.resolution import HW
from calc.spec.read import ITEM_KEYS, NAME_RE, RESERVED_NAMES, VERSION, SpecArchitecture



def export(arch: Any, **options: Any) -> dict[str, Any]:
    """``arch``: a registered architecture's name, an :class:`~calc.registry.Architecture`
    (a spec file's too; built with ``options``) or a :class:`~calc.graph.Network`."""
    info = None
    if isinstance(arch, Network):
        if options:
            raise CalcError("options apply to an architecture, not to a built network")
        net = arch
    else:
        if isinstance(arch, str):
            from calc.registry import get

            arch = get(arch)
        if not isinstance(arch, Architecture):
            raise CalcError(f"cannot export {arch!r}: expected an architecture name or a Network")
        info = arch
        net = arch.build(**options)
    return network_doc(net, info)


def network_doc(net: Network, info: Any = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"version": VERSION, "name": net.name}
    if info is not None:
        doc["summary"] = info.summary
        source = info.reference if isinstance(info, SpecArchitecture) else info.source
        if source:
            doc["source"] = source
    # an H x W resolution is written as it is typed, 600x850 (a plain value in YAML and JSON)
    config = {k: str(v) if isinstance(v, HW) else v for k, v in net.config.items()}
    doc["meta"] = {"exported_by": "calc export", "architecture": net.name, "config": config}
    if net.notes:
        doc["notes"] = list(net.notes)
    doc["input"] = list(net.input_shape)
    layers, prev = [], INPUT
    for node in net.layers():
        if not NAME_RE.match(node.name) or node.name in RESERVED_NAMES:
            raise CalcError(f"layer {node.name!r}: this name cannot be written to a spec file "
                            f"(names are letters, digits, _ . - / :)")
        d: dict[str, Any] = {"name": node.name, "type": node.layer.op}
        if node.inputs != (prev,):
            d["inputs"] = node.inputs[0] if len(node.inputs) == 1 else list(node.inputs)
        if node.train_only:
            d["train_only"] = True
        if node.shares is not None:
            d["shares"] = node.shares
            if node.shared != _common_kinds(net, node):
                d["share_kinds"] = list(node.shared)
        fields = node.layer.model_dump(mode="json", exclude_defaults=True)
        clash = set(fields) & set(ITEM_KEYS)
        if clash:  # pragma: no cover (a layer type would have to use a reserved field name)
            raise RuntimeError(f"layer type {node.layer.op} has a field named {clash.pop()!r}")
        d.update(fields)
        layers.append(d)
        prev = node.name
    doc["layers"] = layers
    return doc


def dump_spec(doc: dict[str, Any], fmt: str = "yaml") -> str:
    """A spec document as text: YAML (one flow mapping per layer, with a header
    comment) or JSON (one layer per line)."""
    if fmt not in SPEC_FORMATS:
        raise CalcError(f"format must be one of {', '.join(SPEC_FORMATS)}, received {fmt!r}")
    head = {k: v for k, v in doc.items() if k != "layers"}
    layers = doc.get("layers", [])
    if fmt == "json":
        top = json.dumps(head, indent=2)[:-2]
        rows = ",\n    ".join(json.dumps(layer) for layer in layers)
        return f'{top},\n  "layers": [\n    {rows}\n  ]\n}}\n'
    import yaml

    meta = doc.get("meta", {})
    config = ", ".join(f"{k}={v}" for k, v in meta.get("config", {}).items())
    title = printable(f"{doc.get('name', 'network')}{f' ({config})' if config else ''}")
    lines = [f"# {title}: written by `calc export`.",
             "# Every layer is explicit; `calc arch THIS_FILE` gives the same numbers.",
             yaml.safe_dump(head, sort_keys=False, width=100, default_flow_style=None).rstrip(),
             "layers:"]
    for layer in layers:
        flow = yaml.safe_dump(layer, sort_keys=False, default_flow_style=True, width=10**6).strip()
        lines.append(f"- {flow}")
    return "\n".join(lines) + "\n"


def _common_kinds(net: Network, node: Any) -> tuple[str, ...]:
    """The parameter kinds a sharer and its owner both have: what ``shares`` alone shares."""
    from calc.layers.base import PARAM_KINDS

    owner = net[node.shares]
    mine = node.layer.param_counts(net.input_shapes(node))
    theirs = owner.layer.param_counts(net.input_shapes(owner))
    return tuple(k for k in PARAM_KINDS if mine.get(k, 0) and theirs.get(k, 0))
