"""Rendering results as a table, JSON, CSV or Markdown: an
:class:`~calc.counting.Analysis` (``calc arch``) and lists of records (every other command).

The JSON layout is a stable contract: top-level ``arch``, ``config``, ``input``
(``[N, C, H, W]``), ``dtype``, ``convention``, ``totals`` and ``layers``; extra keys
may be added, never removed or renamed.
"""
from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Any, Iterable

from calc.counting import Analysis
from calc.dtypes import dtype_bytes
from calc.layers.base import fmt_shape
from calc.units import binary, config_str, grouped, printable, si

if TYPE_CHECKING:
    from calc.receptive import ReceptiveFields

LAYER_COLUMNS = ("name", "op", "output_shape", "params", "macs", "flops", "output_bytes")


def to_dict(a: Analysis, *, layers: bool = True, published: list[dict] | None = None,
            fields: "ReceptiveFields | None" = None) -> dict[str, Any]:
    by_op: dict[str, dict[str, int]] = {}
    for c in a.layers:
        d = by_op.setdefault(c.op, {"layers": 0, "params": 0, "macs": 0, "flops": 0})
        d["layers"] += 1
        d["params"] += c.params
        d["macs"] += c.macs
        d["flops"] += c.flops
    out = {
        "arch": a.arch,
        "config": a.config,
        "input": a.input,
        "dtype": a.dtype,
        "convention": a.convention.name,
        "convention_summary": a.convention.summary,
        "convention_caveat": a.convention.caveat,
        "totals": dict(a.totals),
        "by_op": by_op,
        "uncounted_ops": dict(a.uncounted),
        "notes": list(a.notes),
        "layers": [c.to_dict() for c in a.layers] if layers else [],
    }
    if published is not None:
        out["published"] = published
    if fields is not None:
        for d in out["layers"]:
            d.update(fields.layer_json(d["name"]))
        out["receptive_field"] = fields.summary()
    return out


def rf_line(fields: "ReceptiveFields | None") -> str | None:
    """The table's line for the top-level receptive field."""
    s = fields.summary() if fields is not None else None
    if s is None:
        return None
    c = fields.cells(s["layer"])
    line = f"receptive field {c['rf']} px" + (f", jump {c['jump']}, padding {c['rf_padding']}" if s["jump"] else "")
    line += f" at {s['layer']}"
    if s["before_head"]:
        line += ", the last feature map before global pooling"
    return line + (f" ({s['note']})" if s["note"] else "")


def _totals_rows(a: Analysis) -> list[tuple[str, str, str]]:
    t = a.totals
    conv = a.convention
    rows = [("params", si(t["params"]), grouped(t["params"]))]
    if conv.param_rules is not None and t["convention_params"] != t["params"]:  # the tool's own count, where it differs
        rows.append((f"params [{conv.name}]", si(t["convention_params"]), grouped(t["convention_params"])))
    rows.append(("MACs (conv + linear)", si(t["macs"]), grouped(t["macs"])))
    if conv.name != "macs":
        rows.append((f"FLOPs [{conv.name}]", si(t["flops"]), grouped(t["flops"])))
    rows += [
        ("activations (elements)", si(t["activations"]), grouped(t["activations"])),
        ("feature memory", binary(t["feature_memory_bytes"]), grouped(t["feature_memory_bytes"])),
    ]
    if conv.memory_rules is not None:  # the convention's own definition, beside calc's
        rows.append((f"feature memory [{conv.name}]", binary(t["convention_feature_memory_bytes"]),
                     grouped(t["convention_feature_memory_bytes"])))
    rows += [
        ("peak live activations", binary(t["peak_memory_bytes"]), grouped(t["peak_memory_bytes"])),
        ("parameter memory", binary(t["param_memory_bytes"]), grouped(t["param_memory_bytes"])),
    ]
    if conv.param_rules is not None and t["convention_params"] != t["params"]:
        held = t["convention_params"] * dtype_bytes(a.dtype)
        rows.append((f"parameter memory [{conv.name}]", binary(held), grouped(held)))
    rows.append(("memory traffic", binary(t["memory_traffic_bytes"]), grouped(t["memory_traffic_bytes"])))
    return rows


RF_CELLS = ("rf", "jump", "rf_padding")


def _window(layer) -> str:
    """``3x3/2 g32 d2``: kernel, stride, groups and dilation of a conv or pool ("" otherwise)."""
    from calc.layers.spatial import pair

    k = getattr(layer, "kernel_size", None)
    if k is None or isinstance(k, str):
        return ""
    kh, kw = pair(k)
    text = f"{kh}x{kw}"
    stride = getattr(layer, "effective_stride", None) or getattr(layer, "stride", 1)
    if pair(stride) != (1, 1):
        sh, sw = pair(stride)
        text += f"/{sh}" if sh == sw else f"/{sh}x{sw}"
    if getattr(layer, "groups", 1) != 1:
        text += f" g{layer.groups}"
    if pair(getattr(layer, "dilation", 1)) != (1, 1):
        text += f" d{pair(layer.dilation)[0]}"
    return text


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.2f}%" if whole else "-"


def _layer_rows(a: Analysis, fields: "ReceptiveFields | None" = None, net=None,
                depth: int | None = None) -> list[list[str]]:
    """One row per layer (with ``depth``: per dotted-name prefix of up to ``depth`` parts, as an
    indented tree, each group the sum of its layers), then a totals row."""
    total_macs = a.totals["macs"]
    rows = []
    if depth is None:
        for c in a.layers:
            layer = net[c.name].layer if net is not None else None
            op = f"{c.op} (shares {c.shares})" if c.shares else c.op
            rows.append([c.name, op, fmt_shape(c.output_shape), _window(layer) if layer is not None else "",
                         grouped(c.params), grouped(c.macs), _share(c.macs, total_macs), grouped(c.flops),
                         binary(c.output_bytes)]
                        + ([fields.cells(c.name)[k] for k in RF_CELLS] if fields is not None else []))
    else:
        groups: dict[str, dict[str, Any]] = {}
        for c in a.layers:
            parts = c.name.split(".")
            for level in range(1, min(depth, len(parts)) + 1):
                key = ".".join(parts[:level])
                g = groups.setdefault(key, {"level": level, "layers": 0, "params": 0, "macs": 0, "flops": 0,
                                            "bytes": 0, "last": c, "op": c.op})
                g["layers"] += 1
                for k, v in (("params", c.params), ("macs", c.macs), ("flops", c.flops), ("bytes", c.output_bytes)):
                    g[k] += v
                g["last"] = c
        for key, g in groups.items():
            name = "  " * (g["level"] - 1) + key.split(".")[-1]
            op = g["op"] if g["layers"] == 1 else f"{g['layers']} layers"
            last = g["last"]
            window = _window(net[last.name].layer) if net is not None and g["layers"] == 1 else ""
            rows.append([name, op, fmt_shape(last.output_shape), window, grouped(g["params"]), grouped(g["macs"]),
                         _share(g["macs"], total_macs), grouped(g["flops"]), binary(g["bytes"])]
                        + ([fields.cells(last.name)[k] for k in RF_CELLS] if fields is not None else []))
    rows.append(["total", f"{len(a.layers)} layers", "", "", grouped(a.totals["params"]), grouped(total_macs),
                 "100.00%" if total_macs else "-", grouped(a.totals["flops"]),
                 binary(sum(c.output_bytes for c in a.layers))] + (["", "", ""] if fields is not None else []))
    return rows


def costliest(a: Analysis, k: int = 3) -> str:
    """``costliest: stage4.conv 23.1%, ...``: the layers with the most MACs."""
    total = a.totals["macs"]
    if not total:
        return ""
    top = sorted(a.layers, key=lambda c: c.macs, reverse=True)[:k]
    return "costliest layers (MACs): " + ", ".join(f"{c.name} {_share(c.macs, total)}" for c in top)


def _align(rows: list[list[str]], right: Iterable[int]) -> list[str]:
    right = set(right)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.rjust(w) if i in right else cell.ljust(w) for i, (cell, w) in enumerate(zip(r, widths))).rstrip()
        for r in rows
    ]


def _quantity_label(p: dict) -> str:
    """``flops [ptflops_2019]``: the quantity, and the convention it is counted under."""
    return f"{p['quantity']} [{p['counted_under']}]" if p.get("counted_under") else p["quantity"]


def _published_lines(published: list[dict], convention: str) -> list[str]:
    lines = []
    width = max(len(_quantity_label(p)) for p in published)
    for p in published:
        lines.append(
            f"  {_quantity_label(p):<{width}}  published {p['printed']} {p['unit']:<2} calc {p['computed']:<10} "
            f"{p['verdict'].upper():<9} {p['source']}"
        )
        if p.get("counted_under") and p["counted_under"] != convention:
            lines.append(f"          counted under '{p['counted_under']}', the rules of the source's tool, "
                         f"not this report's '{convention}'")
        if p.get("explanation"):
            lines.append(f"          why: {p['explanation']}")
    return lines


LAYER_HEAD = ["layer", "op", "output", "window", "params", "MACs", "MACs %", "FLOPs", "output mem"]


def render_table(a: Analysis, *, layers: bool = False, published: list[dict] | None = None,
                 fields: "ReceptiveFields | None" = None, net=None, depth: int | None = None) -> str:
    conv = a.convention
    head = [
        printable(f"{a.arch} ({config_str(a.config)})" if a.config else a.arch),
        f"input {fmt_shape(tuple(a.input))}  dtype {a.dtype}  convention {conv.name}: {conv.title}",
        "",
    ]
    body = _align([[k, v, g] for k, v, g in _totals_rows(a)], right=(1, 2))
    line = rf_line(fields)
    tail = [line] if line else []
    if a.uncounted:
        skipped = ", ".join(f"{op} x{n}" for op, n in a.uncounted.items())
        tail.append(f"not counted by '{conv.name}': {skipped}")
    if conv.caveat:
        tail.append(f"note: {conv.caveat}")
    for note in a.notes:
        tail.append(f"note: {printable(note)}")
    if published:
        tail.append("published numbers for this configuration:")
        tail += _published_lines(published, conv.name)
    out = head + body
    if tail:
        out += [""] + tail
    if layers:
        rf_head = ["rf", "jump", "rf pad"] if fields is not None else []
        head = [*LAYER_HEAD[:7], f"FLOPs[{conv.name}]", LAYER_HEAD[8], *rf_head]
        rows = _layer_rows(a, fields, net, depth)
        out += [""] + _align([head] + rows, right=range(4, len(head)))
        top = costliest(a)
        if top:
            out += ["", top]
    return "\n".join(out)


def render_markdown(a: Analysis, *, layers: bool = False, published: list[dict] | None = None,
                    fields: "ReceptiveFields | None" = None, net=None, depth: int | None = None) -> str:
    conv = a.convention
    out = [
        printable(f"### {a.arch} ({config_str(a.config)})" if a.config else f"### {a.arch}"),
        "",
        f"Input `{fmt_shape(tuple(a.input))}`, dtype `{a.dtype}`, convention `{conv.name}` ({conv.title}).",
        "",
        "| quantity | value | exact |",
        "|---|---:|---:|",
    ]
    out += [f"| {k} | {v} | {g} |" for k, v, g in _totals_rows(a)]
    line = rf_line(fields)
    if line:
        out += ["", line[0].upper() + line[1:] + "."]
    if a.uncounted:
        out += ["", f"Not counted by `{conv.name}`: " + ", ".join(f"{op} x{n}" for op, n in a.uncounted.items())]
    if conv.caveat:
        out += ["", f"Note: {conv.caveat}"]
    out += [f"\nNote: {printable(n)}" for n in a.notes]
    if published:
        out += ["", "| quantity | published | calc | verdict | source | why |", "|---|---:|---:|---|---|---|"]
        out += [
            f"| {_quantity_label(p)} | {p['printed']} {p['unit']} | {p['computed']} | {p['verdict']} | {p['source']} | "
            f"{p.get('explanation') or ''} |"
            for p in published
        ]
    if layers:
        rf = fields is not None
        out += ["", "| " + " | ".join(LAYER_HEAD) + " |" + (" rf | jump | rf pad |" if rf else ""),
                "|---|---|---|---|---:|---:|---:|---:|---:|" + ("---:|---:|---:|" if rf else "")]
        out += ["| " + " | ".join(r) + " |" for r in _layer_rows(a, fields, net, depth)]
        top = costliest(a)
        if top:
            out += ["", top]
    return "\n".join(out)


def render_csv(a: Analysis, *, layers: bool = False, fields: "ReceptiveFields | None" = None) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if layers:
        w.writerow(["name", "op", "output_shape", "params", "macs", "flops", "activations",
                    "output_bytes", "param_bytes", "traffic_bytes", *(RF_CELLS if fields is not None else ())])
        for c in a.layers:
            rf = [fields.cells(c.name)[k] for k in RF_CELLS] if fields is not None else []
            w.writerow([c.name, c.op, fmt_shape(c.output_shape), c.params, c.macs, c.flops,
                        c.activations, c.output_bytes, c.param_bytes, c.traffic_bytes, *rf])
        t = a.totals  # the totals, as the last row (name "total", no op)
        w.writerow(["total", "", "", t["params"], t["macs"], t["flops"], t["activations"],
                    t["feature_memory_bytes"], t["param_memory_bytes"], t["memory_traffic_bytes"],
                    *([""] * len(RF_CELLS) if fields is not None else [])])
    else:
        keys = list(a.totals)
        w.writerow(["arch", *a.config, "batch", "dtype", "convention", *keys])
        w.writerow([a.arch, *a.config.values(), a.batch, a.dtype, a.convention.name, *(a.totals[k] for k in keys)])
    return buf.getvalue().rstrip("\n")


def render(a: Analysis, fmt: str, *, layers: bool = False, published: list[dict] | None = None,
           fields: "ReceptiveFields | None" = None, net=None, depth: int | None = None) -> str:
    """``fields``: the network's receptive fields (a line and, with ``layers``, three columns);
    ``net``: the network (the layers' windows); ``depth``: group the layer table by dotted
    prefixes of up to that many parts, as a tree."""
    if fmt == "json":
        return json.dumps(to_dict(a, layers=layers, published=published, fields=fields), indent=2)
    if fmt == "csv":
        return render_csv(a, layers=layers, fields=fields)
    if fmt == "markdown":
        return render_markdown(a, layers=layers, published=published, fields=fields, net=net, depth=depth)
    return render_table(a, layers=layers, published=published, fields=fields, net=net, depth=depth)


def _cell(v: Any, column: str = "") -> str:
    """A value as a person reads it: exact grouped integers, bytes in binary units (a column
    named ``*_bytes``), shares as percentages (``*_share``, ``share``).  Machine formats
    (CSV, JSON) keep the raw numbers."""
    if isinstance(v, bool) or v is None:
        return "" if v is None else str(v).lower()
    if isinstance(v, (int, float)) and column.endswith("_bytes"):
        return binary(v)
    if isinstance(v, (int, float)) and (column.endswith("_share") or column == "share"):
        return f"{100 * v:.2f}%"
    if isinstance(v, int):
        return grouped(v)
    if isinstance(v, float):  # four significant figures; a large value in full, grouped (20,000, not 2e+04)
        return f"{v:,.0f}" if 1e4 <= abs(v) < float("inf") else f"{v:.4g}"
    return printable(str(v))


#: the heading a person reads for a machine column name (table and Markdown)
HEADINGS = {"feature_memory_bytes": "feature mem", "peak_memory_bytes": "peak mem",
            "param_memory_bytes": "param mem", "memory_traffic_bytes": "traffic", "feature_bytes": "feature mem",
            "traffic_bytes": "traffic", "output_bytes": "output mem", "param_bytes": "param mem",
            "macs_share": "MACs %", "params_share": "params %", "weights_share": "weights %", "share": "share",
            "grad_bytes": "grads", "optimizer_bytes": "optimizer", "saved_activation_bytes": "saved acts",
            "peak_bytes": "peak", "backward_working_bytes": "backward working"}


def heading(column: str) -> str:
    return HEADINGS.get(column, column)


def render_rows(rows: list[dict], columns: list[str], fmt: str, *, title: str = "",
                payload: dict | None = None, footer: list[str] | None = None) -> str:
    """Render a list of records in any output format.  ``payload`` is the JSON
    document (default: the rows); ``footer`` lines follow the table/markdown."""
    if fmt == "json":
        return json.dumps(payload if payload is not None else rows, indent=2)
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            w.writerow([r.get(c, "") for c in columns])
        return buf.getvalue().rstrip("\n")
    cells = [[_cell(r.get(c), c) for c in columns] for r in rows]
    right = {i for i, c in enumerate(columns)
             if any(isinstance(r.get(c), (int, float)) and not isinstance(r.get(c), bool) for r in rows)}
    heads = [heading(c) for c in columns]
    if fmt == "markdown":
        out = [f"### {_lines(title)}", ""] if title else []
        out += ["| " + " | ".join(heads) + " |",
                "|" + "|".join("---:" if i in right else "---" for i in range(len(columns))) + "|"]
        out += ["| " + " | ".join(r) + " |" for r in cells]
        return "\n".join(out + ([""] + footer if footer else []))
    out = [_lines(title), ""] if title else []
    out += _align([heads] + cells, right=right)
    return "\n".join(out + ([""] + footer if footer else []))


def _lines(text: str) -> str:
    """A title of one or more lines, each made printable (a title's own line breaks stay)."""
    return "\n".join(printable(line) for line in text.split("\n"))


def stream_rows(rows: Iterable[dict], columns: list[str], fmt: str, *, title: str = "",
                payload: dict | None = None, key: str = "rows", write=None, block: int = 1000,
                footer: list[str] | None = None) -> None:
    """:func:`render_rows` for a stream of records, written as they come (a million-point
    sweep is never held in memory): CSV and Markdown row by row, JSON as ``payload`` with
    the records under ``key``, the table in blocks of ``block`` rows (each block at least
    as wide as the ones before).  ``write(text, nl)`` prints (default: click.echo)."""
    if write is None:
        import click

        write = click.echo
    chunk: list[str] = []

    def flush(force: bool = False, sep: str = "\n") -> None:
        if chunk and (force or len(chunk) >= block):
            write(sep.join(chunk), nl=sep == "\n")
            chunk.clear()

    if fmt == "json":
        head = json.dumps({**(payload or {}), key: []}, indent=2)
        write(head[:head.rindex("[") + 1], nl=False)
        first = True
        for r in rows:
            chunk.append(("\n    " if first else ",\n    ") + json.dumps(r))
            first = False
            flush(sep="")
        flush(True, sep="")
        write("\n  ]\n}" if not first else "]\n}")
        return
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="")
        w.writerow(columns)
        chunk.append(buf.getvalue())
        for r in rows:
            buf.seek(0)
            buf.truncate()
            w.writerow([r.get(c, "") for c in columns])
            chunk.append(buf.getvalue())
            flush()
        flush(True)
        return
    if fmt == "markdown":
        if title:
            write(f"### {title}\n")
        write("| " + " | ".join(heading(c) for c in columns) + " |\n|" + "|".join("---" for _ in columns) + "|")
        for r in rows:
            chunk.append("| " + " | ".join(_cell(r.get(c), c) for c in columns) + " |")
            flush()
        flush(True)
        if footer:
            write("\n" + "\n".join(footer))
        return
    if title:
        write(title + "\n")
    widths = [len(heading(c)) for c in columns]
    pending: list[dict] = []
    right: set[int] = set()
    header = True

    def table_block() -> None:
        nonlocal header
        right.update(i for i, c in enumerate(columns)
                     if any(isinstance(r.get(c), (int, float)) and not isinstance(r.get(c), bool) for r in pending))
        cells = [[_cell(r.get(c), c) for c in columns] for r in pending]
        for row in cells:
            for i, cell in enumerate(row):
                widths[i] = max(widths[i], len(cell))
        lines = ([[heading(c) for c in columns]] if header else []) + cells
        write("\n".join("  ".join(c.rjust(w) if i in right else c.ljust(w)
                                   for i, (c, w) in enumerate(zip(line, widths))).rstrip() for line in lines))
        header = False
        pending.clear()

    for r in rows:
        pending.append(r)
        if len(pending) >= block:
            table_block()
    if pending or header:
        table_block()
    if footer:
        write("\n" + "\n".join(footer))
