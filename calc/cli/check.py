"""``calc check``: every published number recomputed and judged, and the published
tables checked for contradictions (the engine is :mod:`calc.check`)."""
from __future__ import annotations

import click

from calc.cli.options import config_str, format_option


@click.command()
@click.argument("names", nargs=-1)
@click.option("--source", default=None, help="Only entries whose source contains this text (e.g. 'seed 004', 'Table 5').")
@format_option()
@click.option("--verbose", "-v", is_flag=True, help="Show the explanation of every entry, not only the summary.")
def check(names, source, fmt, verbose):
    """Recompute the published numbers (papers, model zoos, the seed tables) for
    NAMES (default: all) and judge each: agrees (within the printed precision),
    explained (the source's documented method reproduces it, or a documented error
    in the source), or disagrees.  Also flags tables that contradict themselves.
    Exit status 1 when anything disagrees or contradicts without an explanation.

    \b
    Examples:
      calc check                         # everything
      calc check mobilenet_v2 --source zoo
      calc check --source "seed 004" --format markdown
    """
    import archs
    from calc.check import run_check
    from calc.cli.render import render_rows

    report = run_check(list(archs.published()), list(archs.stage_tables()), archs.get,
                       names=tuple(names), source=source)
    rows = [{
        "arch": r["arch"], "config": config_str(r["config"]), "quantity": r["quantity"],
        "convention": r["counted_under"],
        "published": f"{r['printed']} {r['unit']}".strip(),
        "calc": f"{r['computed']} {r['unit']}".strip(), "exact": r["exact"],
        "diff": f"{100 * r['difference']:+.2f}%" if r["difference"] is not None else "",
        "verdict": r["verdict"] + ("*" if r["verdict"] == "explained" and not r["verified"] else "")
        + (" (fitted)" if r.get("fitted") else ""),
        "reason": r["reason"], "source": r["source"],
    } for r in report["entries"]]
    sm = report["summary"]
    fitted = f", {sm['fitted']} with a fitted input-dependent count, marked (fitted)" if sm["fitted"] else ""
    footer = [
        f"{len(rows)} published numbers: {sm['agrees']} agree, {sm['explained']} explained "
        f"({sm['unverified']} by a documented error or unknown in the source, marked *{fitted}), "
        f"{sm['disagrees']} disagree",
    ]
    if verbose or fmt == "markdown":
        footer += [f"- {r['arch']} {r['quantity']} {r['printed']}: {r['explanation']}"
                   for r in report["entries"] if r["explanation"]]
    for f in report["inconsistencies"]:
        footer.append(f"{'explained' if f['explained'] else 'UNEXPLAINED'} inconsistency in {f['document']}: "
                      f"{f['what']}" + (f"\n    why: {f['explanation']}" if f["explanation"] else ""))
    cols = ["arch", "config", "quantity", "convention", "published", "calc", "diff", "verdict", "reason", "source"]
    click.echo(render_rows(rows, cols, fmt, title="published numbers, recomputed", payload=report, footer=footer))
    if sm["disagrees"] or sm["unexplained_inconsistencies"]:
        raise click.exceptions.Exit(1)


COMMANDS = (check,)
