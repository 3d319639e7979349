"""``calc check``: recompute published numbers and check published tables for
internal consistency.

Two kinds of findings:

* **entries** (:mod:`calc.published`): each published number recomputed under the
  source's convention, with a verdict;
* **inconsistencies**: a document that prints two different values for the same
  network and quantity, and a stage table whose printed input size or channel
  count contradicts the previous row's stride or output channels.  A finding
  listed in the data as a known erratum is explained; any other is unexplained.
"""
from __future__ import annotations

from decimal import Decimal
from math import ceil
from typing import Any, Callable

from calc.errors import CalcError
from calc.published import UNITS, UNVERIFIABLE, Published, judge


def _value(p: Published) -> tuple[Decimal, Decimal]:
    """(value, half a printed unit of the last digit), in base units."""
    scale = Decimal(UNITS[p.unit])
    decimals = len(p.printed.split(".")[1]) if "." in p.printed else 0
    return Decimal(p.printed) * scale, Decimal(5).scaleb(-decimals - 1) * scale


def self_consistency(entries: list[Published]) -> list[dict]:
    """Values one document prints for the same network (resolved configuration),
    quantity and convention that cannot both be roundings of one number."""
    groups: dict[tuple, list[Published]] = {}
    for p in entries:
        cfg = tuple(sorted(p.resolved.items()))
        key = (p.document or p.source, p.arch, cfg, p.quantity, p.convention)
        groups.setdefault(key, []).append(p)
    found = []
    for (doc, arch, cfg, quantity, _), ps in groups.items():
        for i, a in enumerate(ps):
            for b in ps[i + 1:]:
                (va, ha), (vb, hb) = _value(a), _value(b)
                if abs(va - vb) > ha + hb:
                    explained = [p for p in (a, b) if p.reason in UNVERIFIABLE]
                    found.append({
                        "kind": "same network, different numbers", "document": doc, "arch": arch,
                        "what": f"{quantity}: {a.printed} {a.unit} ({a.source}) vs {b.printed} {b.unit} ({b.source})",
                        "explained": bool(explained),
                        "explanation": explained[0].explanation if explained else "",
                    })
    return found


def stage_table_findings(table: dict[str, Any]) -> list[dict]:
    """Rows whose printed input contradicts the previous row (stride, channels)."""
    rows = table["rows"]
    errata = {e["row"]: e["explanation"] for e in table.get("errata", [])}
    found = []
    for i in range(1, len(rows)):
        prev, row = rows[i - 1], rows[i]
        h, w, c = prev["input"]
        s = prev.get("stride", 1)
        if prev["type"] == "pool":
            k = prev["kernel"]
            exp_h, exp_w = (h - k) // s + 1, (w - k) // s + 1
        elif prev["type"] == "fc":
            exp_h = exp_w = 1
        else:  # conv, dw, block: "same" padding
            exp_h, exp_w = ceil(h / s), ceil(w / s)
        exp_c = prev.get("out", c)
        got = row["input"]
        problems = []
        if (got[0], got[1]) != (exp_h, exp_w):
            problems.append(f"input {got[0]}x{got[1]} but {prev['layer']!r} (stride {s}) on {h}x{w} gives {exp_h}x{exp_w}")
        if got[2] != exp_c:
            problems.append(f"input has {got[2]} channels but {prev['layer']!r} outputs {exp_c}")
        if "in_channels" in row and row["in_channels"] != got[2]:
            problems.append(f"filter expects {row['in_channels']} input channels, printed input has {got[2]}")
        if problems:
            n = i + 1
            found.append({
                "kind": "stage table", "document": table["table"], "arch": table.get("arch", ""),
                "what": f"row {n} {row['layer']!r}: " + "; ".join(problems),
                "explained": n in errata, "explanation": errata.get(n, ""),
            })
    return found


def run_check(entries: list[Published], tables: list[dict], get_arch: Callable[[str], Any],
              names: tuple[str, ...] = (), source: str | None = None) -> dict[str, Any]:
    """Judge the (resolved) ``entries`` selected by ``names`` and ``source``, and look for
    contradictions among them and in the stage ``tables``."""
    from calc.counting import analyze

    for n in names:
        get_arch(n)  # an unknown name is an error, not an empty report
    selected = [p for p in entries
                if (not names or p.arch in names)
                and (source is None or source.lower() in (p.source + " " + p.document).lower())]
    if not selected and (names or source):
        raise CalcError(f"no published numbers match{' ' + ', '.join(names) if names else ''}"
                        f"{' and source ' + repr(source) if source else ''}")

    results = []
    analyses: dict[tuple, Any] = {}  # one analysis per configuration, shared by its entries
    for p in selected:
        spec = get_arch(p.arch)
        # feature memory is read under the entry's own convention (its memory rules need the graph)
        under = p.convention if p.quantity == "feature_memory" else "macs"
        key = (p.arch, tuple(sorted(p.resolved.items())), under)
        if key not in analyses:
            analyses[key] = analyze(spec.build(**p.resolved), convention=under)
        results.append(judge(p, lambda c, spec=spec: spec.build(**c), analyses[key]))
    findings = self_consistency(selected)
    for t in tables:
        if (not names or t.get("arch") in names) and (source is None or source.lower() in t["table"].lower()):
            findings += stage_table_findings(t)
    summary = {v: sum(r["verdict"] == v for r in results) for v in ("agrees", "explained", "disagrees")}
    summary["unverified"] = sum(r["verdict"] == "explained" and not r["verified"] for r in results)
    summary["fitted"] = sum(bool(r.get("fitted")) for r in results)
    summary["inconsistencies"] = len(findings)
    summary["unexplained_inconsistencies"] = sum(not f["explained"] for f in findings)
    return {"entries": results, "inconsistencies": findings, "summary": summary}
