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
from typing import Any, Iterable

from calc.counting import Analysis
from calc.layers.base import fmt_shape
from calc.units import binary, config_str, grouped, printable, si

LAYER_COLUMNS = ("name", "op", "output_shape", "params", "macs", "flops", "output_bytes")


def to_dict(a: Analysis, *, layers: bool = True, published: list[dict] | None = None) -> dict[str, Any]:
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
    return out


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
        ("peak live activations", binary(t["peak_memory_bytes"]), grouped(t["peak_memory_bytes"])),
        ("parameter memory", binary(t["param_memory_bytes"]), grouped(t["param_memory_bytes"])),
        ("memory traffic", binary(t["memory_traffic_bytes"]), grouped(t["memory_traffic_bytes"])),
    ]
    return rows


def _layer_rows(a: Analysis) -> list[list[str]]:
    return [
        [c.name, f"{c.op} (shares {c.shares})" if c.shares else c.op, fmt_shape(c.output_shape),
         grouped(c.params), grouped(c.macs),
         grouped(c.flops), binary(c.output_bytes)]
        for c in a.layers
    ]


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


def render_table(a: Analysis, *, layers: bool = False, published: list[dict] | None = None) -> str:
    conv = a.convention
    head = [
        printable(f"{a.arch} ({config_str(a.config)})" if a.config else a.arch),
        f"input {fmt_shape(tuple(a.input))}  dtype {a.dtype}  convention {conv.name}: {conv.title}",
        "",
    ]
    body = _align([[k, v, g] for k, v, g in _totals_rows(a)], right=(1, 2))
    tail = []
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
        rows = [["layer", "op", "output", "params", "MACs", f"FLOPs[{conv.name}]", "output mem"]] + _layer_rows(a)
        out += [""] + _align(rows, right=(3, 4, 5, 6))
    return "\n".join(out)


def render_markdown(a: Analysis, *, layers: bool = False, published: list[dict] | None = None) -> str:
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
        out += ["", "| layer | op | output | params | MACs | FLOPs | output mem |", "|---|---|---|---:|---:|---:|---:|"]
        out += ["| " + " | ".join(r) + " |" for r in _layer_rows(a)]
    return "\n".join(out)


def render_csv(a: Analysis, *, layers: bool = False) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if layers:
        w.writerow(["name", "op", "output_shape", "params", "macs", "flops", "activations",
                    "output_bytes", "param_bytes", "traffic_bytes"])
        for c in a.layers:
            w.writerow([c.name, c.op, fmt_shape(c.output_shape), c.params, c.macs, c.flops,
                        c.activations, c.output_bytes, c.param_bytes, c.traffic_bytes])
    else:
        keys = list(a.totals)
        w.writerow(["arch", *a.config, "batch", "dtype", "convention", *keys])
        w.writerow([a.arch, *a.config.values(), a.batch, a.dtype, a.convention.name, *(a.totals[k] for k in keys)])
    return buf.getvalue().rstrip("\n")


def render(a: Analysis, fmt: str, *, layers: bool = False, published: list[dict] | None = None) -> str:
    if fmt == "json":
        return json.dumps(to_dict(a, layers=layers, published=published), indent=2)
    if fmt == "csv":
        return render_csv(a, layers=layers)
    if fmt == "markdown":
        return render_markdown(a, layers=layers, published=published)
    return render_table(a, layers=layers, published=published)


def _cell(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return "" if v is None else str(v).lower()
    if isinstance(v, int):
        return grouped(v)
    if isinstance(v, float):
        return f"{v:.4g}"
    return printable(str(v))


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
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    right = {i for i, c in enumerate(columns)
             if any(isinstance(r.get(c), (int, float)) and not isinstance(r.get(c), bool) for r in rows)}
    if fmt == "markdown":
        out = [f"### {title}", ""] if title else []
        out += ["| " + " | ".join(columns) + " |",
                "|" + "|".join("---:" if i in right else "---" for i in range(len(columns))) + "|"]
        out += ["| " + " | ".join(r) + " |" for r in cells]
        return "\n".join(out + ([""] + footer if footer else []))
    out = [title, ""] if title else []
    out += _align([list(columns)] + cells, right=right)
    return "\n".join(out + ([""] + footer if footer else []))


def stream_rows(rows: Iterable[dict], columns: list[str], fmt: str, *, title: str = "",
                payload: dict | None = None, key: str = "rows", write=None, block: int = 1000) -> None:
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
        write("| " + " | ".join(columns) + " |\n|" + "|".join("---" for _ in columns) + "|")
        for r in rows:
            chunk.append("| " + " | ".join(_cell(r.get(c)) for c in columns) + " |")
            flush()
        flush(True)
        return
    if title:
        write(title + "\n")
    widths = [len(c) for c in columns]
    pending: list[dict] = []
    right: set[int] = set()
    header = True

    def table_block() -> None:
        nonlocal header
        right.update(i for i, c in enumerate(columns)
                     if any(isinstance(r.get(c), (int, float)) and not isinstance(r.get(c), bool) for r in pending))
        cells = [[_cell(r.get(c)) for c in columns] for r in pending]
        for row in cells:
            for i, cell in enumerate(row):
                widths[i] = max(widths[i], len(cell))
        lines = ([list(columns)] if header else []) + cells
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
