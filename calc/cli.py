"""The ``calc`` command line.  A thin layer: it parses options, calls the engine
and prints; it holds no formulas.  Heavy modules are imported inside commands so
that a cold start stays fast.

Every user error prints one line (``calc: error: ...``) and exits with status 2;
never a traceback.
"""
from __future__ import annotations

import sys
from typing import Any

import click

from calc.cli_common import DTYPES, FORMATS, _arch_options, _config_str, _given, parse_list


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="calc", prog_name="calc")
def cli() -> None:
    """Static, analytical costs of convolutional networks: params, MACs, FLOPs
    under a named convention, and memory, from closed-form formulas.

    \b
    Examples:
      calc arch mobilenet_v2 --alpha 0.75 --res 192
      calc arch mobilenet_v1 --layers --format markdown
      calc arch mobilenet_v2 --convention thop --format json
      calc list
    """


@cli.command()
@click.argument("name")
@_arch_options
@click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True, help="Batch size.")
@click.option("--dtype", type=click.Choice(DTYPES), default="fp32", show_default=True, help="Element type.")
@click.option("--convention", default="macs", show_default=True,
              help="FLOPs counting convention (see 'calc conventions').")
@click.option("--layers", is_flag=True, help="Add the per-layer breakdown.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
def arch(name, alpha, res, groups, classes, variant, batch, dtype, convention, layers, fmt):
    """Count the costs of architecture NAME.

    \b
    Examples:
      calc arch mobilenet_v2 --alpha 0.75 --res 192
      calc arch mobilenet_v1 --res 160 --layers
      calc arch mobilenet_v2 --batch 8 --dtype fp16 --convention flops --format json
    """
    import archs
    from calc.counting import analyze
    from calc.report import render

    spec = archs.get(name)
    net = spec.build(**_given(alpha=alpha, res=res, groups=groups, classes=classes, variant=variant))
    analysis = analyze(net, batch=batch, dtype=dtype, convention=convention)
    published = archs.published_for(spec, net.config) if fmt != "csv" else None
    click.echo(render(analysis, fmt, layers=layers or fmt == "json", published=published))


def _build(name: str, **options: Any):
    import archs

    spec = archs.get(name)
    return spec, spec.build(**_given(**options))


@cli.command()
@click.argument("name")
@_arch_options
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
def ratio(name, alpha, res, groups, classes, variant, fmt):
    """Depthwise-separable compression of NAME: each depthwise + pointwise pair
    against the standard conv it replaces (computed, and the closed form
    1/N + 1/(g k^2)), and the whole network against the same network with every
    pair replaced by a standard conv.

    \b
    Example:
      calc ratio mobilenet_v1          # the paper's Table 4: 4867 M vs 569 M
    """
    from calc.analysis import compression
    from calc.counting import analyze
    from calc.report import render_rows
    from calc.units import si

    _, net = _build(name, alpha=alpha, res=res, groups=groups, classes=classes, variant=variant)
    report = compression(net, analyze(net))
    t = report["totals"]
    cols = ["depthwise", "pointwise", "in_channels", "out_channels", "kernel", "stride", "output",
            "macs", "standard_macs", "macs_ratio", "params_ratio", "closed_form"]
    footer = [
        f"network:             {t['macs']:>15,} MACs ({si(t['macs'])}), {t['params']:>12,} params ({si(t['params'])})",
        f"with standard convs: {t['standard_macs']:>15,} MACs ({si(t['standard_macs'])}), "
        f"{t['standard_params']:>12,} params ({si(t['standard_params'])})",
        f"ratio:               {t['macs_ratio']:.4f} of the MACs, {t['params_ratio']:.4f} of the params",
    ]
    if not report["pairs"]:
        footer.insert(0, "no depthwise + pointwise pairs found")
    click.echo(render_rows(report["pairs"], cols, fmt, title=f"{net.name} ({_config_str(net.config)})",
                           payload=report, footer=footer))


@cli.command()
@click.argument("name")
@_arch_options
@click.option("--by", type=click.Choice(("stage", "type", "op", "layer")), default="stage", show_default=True,
              help="Group by dotted-name prefix, by layer type (depthwise, pointwise ...), by op, or rank layers.")
@click.option("--depth", type=click.IntRange(min=1), default=1, show_default=True,
              help="Name components that make a stage (--by stage).")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True, help="Layers to show (--by layer).")
@click.option("--metric", type=click.Choice(("macs", "params", "flops", "feature_bytes", "traffic_bytes")),
              default="macs", show_default=True, help="Ranking metric (--by layer).")
@click.option("--convention", default="macs", show_default=True, help="Convention of the flops column.")
@click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--dtype", type=click.Choice(DTYPES), default="fp32", show_default=True)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
def breakdown(name, alpha, res, groups, classes, variant, by, depth, top, metric, convention, batch, dtype, fmt):
    """Where the cost of NAME goes: MACs, params, feature memory and bytes moved
    by stage, by layer type or op, or the top-k costliest layers.

    \b
    Examples:
      calc breakdown mobilenet_v1 --by type        # the paper's Table 2
      calc breakdown resnet50 --by stage --depth 1
      calc breakdown mobilenet_v2 --by layer --top 5 --metric traffic_bytes
    """
    from calc.analysis import breakdown as group, top_layers
    from calc.counting import analyze
    from calc.report import render_rows

    _, net = _build(name, alpha=alpha, res=res, groups=groups, classes=classes, variant=variant)
    a = analyze(net, batch=batch, dtype=dtype, convention=convention)
    title = f"{net.name} ({_config_str(net.config)}), by {by}"
    if by == "layer":
        rows = top_layers(a, top, metric)
        cols = ["name", "op", metric, "share"]
    else:
        rows = group(net, a, by, depth)
        cols = ["group", "layers", "macs", "macs_share", "params", "params_share", "weights_share",
                "flops", "feature_bytes", "traffic_bytes"]
    click.echo(render_rows(rows, cols, fmt, title=title,
                           payload={"arch": net.name, "config": net.config, "by": by, "rows": rows}))


def _parse_target(text: str) -> tuple[str, dict[str, str]]:
    """``NAME`` or ``NAME:key=value,key=value``."""
    from calc.errors import CalcError

    name, _, rest = text.partition(":")
    opts = {}
    for item in filter(None, rest.split(",")):
        key, eq, value = item.partition("=")
        if not eq:
            raise CalcError(f"{text!r}: expected NAME:key=value,..., received {item!r}")
        opts[key.strip().replace("-", "_")] = value.strip()
    return name, opts


def _typed(spec, opts: dict[str, str]) -> dict[str, Any]:
    return {k: spec.option(k).validate(spec.name, v) for k, v in opts.items()}


@cli.command()
@click.argument("targets", nargs=-1, required=True)
@_arch_options
@click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--dtype", type=click.Choice(DTYPES), default="fp32", show_default=True)
@click.option("--convention", default="macs", show_default=True)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
def compare(targets, alpha, res, groups, classes, variant, batch, dtype, convention, fmt):
    """Architectures or configurations side by side.  Each TARGET is NAME or
    NAME:key=value,... (its own options); an option given with --flag applies to
    every target that takes it.

    \b
    Examples:
      calc compare mobilenet_v1 mobilenet_v2 shufflenet_v2 --res 224
      calc compare mobilenet_v2:alpha=0.75,res=192 mobilenet_v2:alpha=1.0 shufflenet_v1:groups=8
    """
    import archs
    from calc.counting import analyze
    from calc.errors import CalcError
    from calc.report import render_rows

    shared = _given(alpha=alpha, res=res, groups=groups, classes=classes, variant=variant)
    specs = [(archs.get(n), o) for n, o in map(_parse_target, targets)]
    for key in shared:
        if not any(key in {o.name for o in spec.options} for spec, _ in specs):
            raise CalcError(f"none of {', '.join(s.name for s, _ in specs)} takes --{key}")
    rows = []
    for spec, opts in specs:
        names = {o.name for o in spec.options}
        given = {**{k: v for k, v in shared.items() if k in names}, **_typed(spec, opts)}
        net = spec.build(**given)
        a = analyze(net, batch=batch, dtype=dtype, convention=convention)
        rows.append({"arch": net.name, "config": _config_str(net.config), **a.totals})
    cols = ["arch", "config", "params", "macs", "flops", "activations", "feature_memory_bytes",
            "peak_memory_bytes", "param_memory_bytes", "memory_traffic_bytes"]
    click.echo(render_rows(rows, cols, fmt, title=f"batch {batch}, {dtype}, convention {convention}",
                           payload={"batch": batch, "dtype": dtype, "convention": convention, "results": rows}))


def _grid_axis(text: str | None, kind: type, option: str) -> list:
    return [None] if text is None else parse_list(text, kind, option)


@cli.command()
@click.argument("name")
@click.option("--alpha", "alphas", default=None, help="Comma-separated width multipliers.")
@click.option("--res", "resolutions", default=None, help="Comma-separated resolutions.")
@click.option("--groups", "group_list", default=None, help="Comma-separated group counts.")
@click.option("--classes", type=int, default=None)
@click.option("--variant", type=str, default=None)
@click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--dtype", type=click.Choice(DTYPES), default="fp32", show_default=True)
@click.option("--convention", default="macs", show_default=True)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--plot", "plot_file", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Also write MACs and params against resolution to this PNG/SVG (needs the 'plot' extra).")
@click.option("--device", default=None, help="Add the estimated latency on this GPU (see 'calc devices').")
def sweep(name, alphas, resolutions, group_list, classes, variant, batch, dtype, convention, fmt, plot_file, device):
    """A grid of params, MACs and memory over width and resolution.  Points whose
    feature maps vanish are reported, not fatal.

    \b
    Example:
      calc sweep mobilenet_v2 --alpha 0.35,0.5,0.75,1.0,1.4 --res 96,128,160,192,224
    """
    import contextlib
    import itertools

    import archs
    from calc.counting import analyze
    from calc.errors import CalcError
    from calc.report import render_rows

    spec = archs.get(name)
    gpu = None
    if device is not None:
        from calc.devices import find_device, load_devices
        from calc.roofline import estimate

        gpu = find_device(device, load_devices())
    grid = list(itertools.product(_grid_axis(alphas, float, "alpha"), _grid_axis(resolutions, int, "res"),
                                  _grid_axis(group_list, int, "groups")))
    rows = []
    show = len(grid) > 200 and sys.stderr.isatty()
    with click.progressbar(grid, label=f"sweeping {len(grid)} points", file=sys.stderr) if show else contextlib.nullcontext(grid) as bar:
        for a_, r_, g_ in bar:
            given = _given(alpha=a_, res=r_, groups=g_, classes=classes, variant=variant)
            row = {k: given.get(k) for k in ("alpha", "res", "groups") if k in given}
            try:
                net = spec.build(**given)
                a = analyze(net, batch=batch, dtype=dtype, convention=convention)
            except CalcError as e:
                if "feature map vanishes" not in str(e):
                    raise
                rows.append({**row, "error": str(e)})
                continue
            row.update(a.totals)
            if gpu is not None:
                est = estimate(net, gpu, dtype=dtype, batch=batch)
                row["latency_ms"] = round(est.latency_s * 1e3, 4)
                row["roofline_ms"] = round(est.roofline_s * 1e3, 4)
            rows.append(row)
    keys = [k for k in ("alpha", "res", "groups") if any(k in r for r in rows)]
    cols = keys + ["params", "macs", "flops", "peak_memory_bytes", "feature_memory_bytes", "param_memory_bytes"]
    if gpu is not None:
        cols += ["latency_ms", "roofline_ms"]
    if any("error" in r for r in rows):
        cols.append("error")
    if plot_file:
        from calc.plot import plot_sweep

        plot_sweep(rows, plot_file, title=name)
    click.echo(render_rows(rows, cols, fmt, title=f"{name}: {len(rows)} points, batch {batch}, {dtype}",
                           payload={"arch": name, "batch": batch, "dtype": dtype, "convention": convention,
                                    "device": gpu.key if gpu is not None else None, "points": rows}))


@cli.command()
@click.argument("names", nargs=-1)
@click.option("--source", default=None, help="Only entries whose source contains this text (e.g. 'seed 004', 'Table 5').")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
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
    from calc.check import load_stage_tables, run_check
    from calc.published import load_packaged
    from calc.report import render_rows

    report = run_check(load_packaged(), load_stage_tables(), archs.get, names=tuple(names), source=source)
    rows = [{
        "arch": r["arch"], "config": _config_str(r["config"]), "quantity": r["quantity"],
        "convention": r["convention"] if r["quantity"] != "params" else "",
        "published": f"{r['printed']} {r['unit']}".strip(),
        "calc": f"{r['computed']} {r['unit']}".strip(), "exact": r["exact"],
        "diff": f"{100 * r['difference']:+.2f}%" if r["difference"] is not None else "",
        "verdict": r["verdict"] + ("*" if r["verdict"] == "explained" and not r["verified"] else ""),
        "reason": r["reason"], "source": r["source"],
    } for r in report["entries"]]
    sm = report["summary"]
    footer = [
        f"{len(rows)} published numbers: {sm['agrees']} agree, {sm['explained']} explained "
        f"({sm['unverified']} by a documented source error, marked *), {sm['disagrees']} disagree",
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


@cli.command("list")
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table", show_default=True)
def list_(fmt):
    """List the architectures with their options and allowed values."""
    import json

    import archs

    rows = []
    for a in archs.ARCHITECTURES.values():
        rows.append({
            "name": a.name, "family": a.family, "summary": a.summary, "source": a.source,
            "options": {o.name: {"default": o.default, "allowed": o.describe(), "help": o.help} for o in a.options},
        })
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        opts = "  ".join(f"--{k} {v['allowed']} (default {v['default']})" for k, v in r["options"].items())
        click.echo(f"{r['name']:<22} {r['summary']}")
        click.echo(f"{'':<22} {opts}")


@cli.command()
def conventions():
    """List the counting conventions: what each counts and where its rules come from."""
    from calc.conventions import conventions as table

    for c in table().values():
        click.echo(f"{c.name:<8} {c.title}\n{'':<8} counts: {c.summary}\n{'':<8} source: {c.source}\n")


def _register_extensions() -> None:
    """Commands defined in their own modules (they share calc.cli_common's options)."""
    from calc.cli_latency import devices, latency, validate_latency
    from calc.cli_spec import export, schema

    for command in (latency, devices, validate_latency, schema, export):
        cli.add_command(command)


_register_extensions()


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI, turning every user error into one line."""
    from pydantic import ValidationError

    from calc.errors import CalcError

    try:
        rv = cli.main(args=argv, prog_name="calc", standalone_mode=False)
        if isinstance(rv, int):  # a command's click.exceptions.Exit(code), returned by click
            return rv
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.Abort:
        click.echo("calc: aborted", err=True)
        return 1
    except click.ClickException as e:
        click.echo(f"calc: error: {e.format_message()}", err=True)
        return 2
    except CalcError as e:
        click.echo(f"calc: error: {e}", err=True)
        return 2
    except ValidationError as e:
        first = e.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "value"
        msg = first["msg"].removeprefix("Value error, ")
        click.echo(f"calc: error: {e.title} field {loc}: {msg}", err=True)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
