"""The counting commands: ``arch``, ``ratio``, ``breakdown``, ``compare``, ``sweep``,
``list`` and ``conventions``.  They parse options, call the engine and print; heavy
modules are imported inside each command so that a cold start stays fast."""
from __future__ import annotations

import sys

import click

from calc.cli.options import (
    arch_target, batch_option, config_str, convention_option, dtype_option, format_option, grid_options,
    shared_options,
)
from calc.cli.train import STEP_COLUMNS, step_totals, train_option


@click.command()
@arch_target
@batch_option
@dtype_option
@convention_option()
@click.option("--layers", is_flag=True, help="Add the per-layer breakdown.")
@click.option("--depth", type=click.IntRange(min=1), default=None,
              help="With --layers: group layers by dotted-name prefixes of up to N parts, as a tree.")
@format_option()
def arch(target, batch, dtype, convention, layers, depth, fmt):
    """Count the costs of architecture NAME (a built-in, a spec file or an ONNX model).

    \b
    Examples:
      calc arch mobilenet_v2 --alpha 0.75 --res 192
      calc arch mobilenet_v1 --res 160 --layers
      calc arch mobilenet_v2 --batch 8 --dtype fp16 --convention flops --format json
      calc arch examples/tiny_resnet.yaml -p depth=56
      calc arch resnet50 --layers --depth 2         # stages and blocks, as a tree
      calc arch model.onnx --res 320                # an exported network (pip install 'calc[onnx]')
    """
    from calc.cli.render import render
    from calc.counting import analyze
    from calc.receptive import receptive_fields

    net = target.build()
    analysis = analyze(net, batch=target.batch(batch), dtype=dtype, convention=convention)
    published = published_for(target.arch, analysis) if fmt != "csv" else None
    fields = receptive_fields(net) if fmt != "csv" or layers else None
    click.echo(render(analysis, fmt, layers=layers or fmt == "json", published=published, fields=fields,
                      net=net, depth=depth))


def caveat(convention: str) -> list[str]:
    """The convention's caveat (``paddle``: counts that can be negative), for a table's footer."""
    from calc.conventions import get_convention

    note = get_convention(convention).caveat
    return [f"note: {note}"] if note else []


def published_for(spec, analysis) -> list[dict]:
    """The published numbers of exactly the analysed configuration of a built-in, each
    recomputed from ``analysis`` and judged (none for a user's spec file, even one named
    like a built-in)."""
    import archs
    from calc.published import judge

    if archs.ARCHITECTURES.get(spec.name) is not spec:
        return []
    return [judge(p, lambda c: spec.build(**c), analysis)
            for p in archs.published(spec.name) if p.matches(spec.name, analysis.config)]


@click.command()
@arch_target
@format_option()
def ratio(target, fmt):
    """Depthwise-separable compression of NAME: each depthwise + pointwise pair
    against the standard conv it replaces (computed, and the closed form
    1/N + 1/(g k^2)), and the whole network against the same network with every
    pair replaced by a standard conv.

    \b
    Example:
      calc ratio mobilenet_v1          # the paper's Table 4: 4867 M vs 569 M
    """
    from calc.breakdown import compression
    from calc.cli.render import render_rows
    from calc.counting import analyze
    from calc.units import si

    net = target.build()
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
    click.echo(render_rows(report["pairs"], cols, fmt, title=f"{net.name} ({config_str(net.config)})",
                           payload=report, footer=footer))


@click.command()
@arch_target
@click.option("--by", type=click.Choice(("stage", "type", "op", "layer")), default="stage", show_default=True,
              help="Group by dotted-name prefix, by layer type (depthwise, pointwise ...), by op, or rank layers.")
@click.option("--depth", type=click.IntRange(min=1), default=1, show_default=True,
              help="Name components that make a stage (--by stage).")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True, help="Layers to show (--by layer).")
@click.option("--metric", type=click.Choice(("macs", "params", "flops", "feature_bytes", "traffic_bytes")),
              default="macs", show_default=True, help="Ranking metric (--by layer).")
@click.option("--rf", "with_rf", is_flag=True,
              help="Add the receptive field (rf, jump, padding) at the end of each stage (--by stage).")
@convention_option("Convention of the flops column.")
@batch_option
@dtype_option
@format_option()
def breakdown(target, by, depth, top, metric, with_rf, convention, batch, dtype, fmt):
    """Where the cost of NAME goes: MACs, params, feature memory and bytes moved
    by stage, by layer type or op, or the top-k costliest layers.

    \b
    Examples:
      calc breakdown mobilenet_v1 --by type        # the paper's Table 2
      calc breakdown resnet50 --by stage --depth 1
      calc breakdown mobilenet_v2 --by layer --top 5 --metric traffic_bytes
      calc breakdown resnet50 --by stage --rf      # the field at the end of each stage
    """
    from calc.breakdown import breakdown as group, top_layers
    from calc.cli.render import render_rows
    from calc.counting import analyze
    from calc.errors import CalcError

    if with_rf and by != "stage":
        raise CalcError(f"--rf shows the field at the end of each stage: use it with --by stage, not --by {by}")
    net = target.build()
    a = analyze(net, batch=target.batch(batch), dtype=dtype, convention=convention)
    title = f"{net.name} ({config_str(net.config)}), by {by}"
    if by == "layer":
        rows = top_layers(a, top, metric)
        cols = ["name", "op", metric, "share"]
    else:
        rows = group(net, a, by, depth)
        cols = ["group", "layers", "macs", "macs_share", "params", "params_share", "weights_share",
                *(["flops"] if convention != "macs" else []), "feature_bytes", "traffic_bytes"]
        if with_rf:
            _stage_fields(net, a, rows, depth)
            cols += ["rf", "jump", "rf_padding"]
    click.echo(render_rows(rows, cols, fmt, title=title,
                           payload={"arch": net.name, "config": net.config, "by": by, "rows": rows},
                           footer=caveat(convention)))


def _stage_fields(net, a, rows: list[dict], depth: int) -> None:
    """Add to each stage row the receptive field of its last layer (in forward order): text
    cells for the table, the JSON layer keys under ``receptive_field``."""
    from calc.breakdown import stage_key
    from calc.receptive import receptive_fields

    fields = receptive_fields(net)
    last = {stage_key(c.name, depth): c.name for c in a.layers}
    for r in rows:
        name = last[r["group"]]
        r.update(fields.cells(name), rf_layer=name, receptive_field=fields.layer_json(name))


def _parse_target(text: str):
    """``NAME`` or ``NAME:key=value,key=value`` as an ArchTarget."""
    from calc.cli.options import ArchTarget, parse_assignments

    name, _, rest = text.partition(":")
    items = [i for i in rest.split(",") if i]
    return ArchTarget(name, parse_assignments(items, what=repr(text), expected="NAME:key=value,..."))


@click.command()
@click.argument("targets", nargs=-1, required=True)
@shared_options
@batch_option
@dtype_option
@convention_option()
@train_option
@format_option()
def compare(targets, shared, batch, dtype, convention, train, fmt):
    """Architectures or configurations side by side.  Each TARGET is NAME or
    NAME:key=value,... (its own options); an option given with --flag or -p applies
    to every target that takes it.  --train compares training steps.

    \b
    Examples:
      calc compare mobilenet_v1 mobilenet_v2 shufflenet_v2 --res 224
      calc compare mobilenet_v2:alpha=0.75,res=192 mobilenet_v2:alpha=1.0 shufflenet_v1:groups=8
      calc compare resnet50 mobilenet_v2 --train --batch 32 --optimizer adam
    """
    from calc.cli.render import render_rows
    from calc.counting import totals as count_totals
    from calc.errors import CalcError

    parsed = [_parse_target(t) for t in targets]
    for key in shared:
        if not any(key in {o.name for o in t.arch.options} for t in parsed):
            raise CalcError(f"none of {', '.join(t.arch.name for t in parsed)} takes --{key}")
    rows = []
    batches = {t.batch(batch) for t in parsed}
    if len(batches) > 1:
        raise CalcError(f"the targets' inputs fix different batch sizes ({', '.join(map(str, sorted(batches)))}): "
                        f"give --batch")
    batch = batches.pop()
    for t in parsed:
        names = {o.name for o in t.arch.options}
        t.given = {**{k: v for k, v in shared.items() if k in names}, **t.given}
        net = t.build()
        totals = count_totals(net, batch=batch, dtype=dtype, convention=convention) if train is None \
            else step_totals(net, batch, dtype, convention, train)
        rows.append({"arch": net.name, "config": config_str(net.config), **totals})
    cols = ["arch", "config", "params", "macs", *(["flops"] if convention != "macs" else []), "activations",
            "feature_memory_bytes", "peak_memory_bytes", "param_memory_bytes", "memory_traffic_bytes"]
    if train is not None:
        cols = ["arch", "config", *STEP_COLUMNS]
    step = "" if train is None else f", training step ({train})"
    click.echo(render_rows(rows, cols, fmt, title=f"batch {batch}, {dtype}, convention {convention}{step}",
                           payload={"batch": batch, "dtype": dtype, "convention": convention, "train": train,
                                    "results": rows}, footer=caveat(convention)))


#: the most points one sweep may ask for (it streams, but it must end)
MAX_POINTS = 10_000_000
#: the most points a --plot holds in memory
MAX_PLOT_POINTS = 100_000


@click.command()
@grid_options
@click.option("--batch", "batch_text", default=None, metavar="B1,B2,...",
              help="Batch sizes, a comma-separated list (totals are per batch); default 1, or an ONNX file's N.")
@dtype_option
@convention_option()
@format_option()
@click.option("--plot", "plot_file", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Also write MACs and params against resolution to this PNG/SVG (needs the 'plot' extra).")
@click.option("--device", default=None, help="Add the estimated latency on this GPU (see 'calc devices').")
@train_option
def sweep(name, axes, batch_text, dtype, convention, fmt, plot_file, device, train):
    """A grid of params, MACs and memory over any options of NAME (each flag or -p
    takes a comma-separated list).  Rows stream as they are counted, the input
    resolution varying fastest; points whose feature maps vanish are reported, not
    fatal.  Every point is exact: the same numbers as 'calc arch' for it.  --train
    counts a training step at each point.

    \b
    Examples:
      calc sweep mobilenet_v2 --alpha 0.35,0.5,0.75,1.0,1.4 --res 96,128,160,192,224
      calc sweep examples/tiny_resnet.yaml -p depth=20,56,110 --format csv
      calc sweep resnet50 --res 160,224 --batch 32 --train --optimizer momentum
      calc sweep mobilenet_v2 --res 160,224 --batch 1,8,64
    """
    import gc

    from calc import grid
    from calc.cli.options import ArchTarget, default_batch, parse_batches
    from calc.cli.render import stream_rows
    from calc.conventions import get_convention
    from calc.errors import CalcError

    # point after point is built and dropped: the few cycles each leaves must be collected
    # (the young generation less often than Python's default: the points are many objects)
    gc.set_threshold(100_000, 20, 20)
    gc.enable()

    # everything is checked before the first point is counted
    spec = ArchTarget(name).arch
    batches = parse_batches(batch_text) if batch_text is not None else [default_batch(None, spec)]
    values = {k: list(dict.fromkeys(spec.option(k).validate(spec.name, v) for v in vs)) for k, vs in axes.items()}
    get_convention(convention)
    n = grid.count_points(values) * len(batches)
    if n > MAX_POINTS:
        raise CalcError(f"the grid has {n:,} points; a sweep takes at most {MAX_POINTS:,}")
    if plot_file:
        from calc.plots import check_plot_path

        check_plot_path(plot_file)
        if n > MAX_PLOT_POINTS:
            raise CalcError(f"--plot holds every point in memory: at most {MAX_PLOT_POINTS:,}, the grid has {n:,}")
    if device is not None and train is not None:
        raise CalcError("--device estimates inference latency; it does not go with --train")
    per_point = count = None
    if train is not None:
        def count(net, batch):
            return step_totals(net, batch, dtype, convention, train)
    if device is not None:
        from calc.latency.devices import find_device, load_devices
        from calc.latency.roofline import check_dtype, estimate

        gpu = find_device(device, load_devices())
        check_dtype(gpu, dtype)

        def per_point(net, totals, batch):
            est = estimate(net, gpu, dtype=dtype, batch=batch)
            return {"latency_ms": round(est.latency_s * 1e3, 4), "roofline_ms": round(est.roofline_s * 1e3, 4)}

    rows = grid.sweep(spec, values, batch=batches if len(batches) > 1 else batches[0], dtype=dtype,
                      convention=convention, per_point=per_point, count=count)
    keys = [k for k in values if not grid.varies_fastest(spec, values, k)] + \
        [k for k in values if grid.varies_fastest(spec, values, k)]
    if len(batches) > 1:  # a column, where the rows carry it
        keys = grid.with_batch_key(spec, keys)
    cols = keys + ["params", "macs", *(["flops"] if convention != "macs" else []), "peak_memory_bytes",
                   "feature_memory_bytes", "param_memory_bytes"]
    if train is not None:
        cols = keys + STEP_COLUMNS
    if device is not None:
        cols += ["latency_ms", "roofline_ms"]
    cols.append("error")
    kept: list[dict] = []
    if plot_file:
        rows = _keeping(rows, kept)
    if sys.stderr.isatty() and n > 200:
        rows = _progress(rows, n)
    batch = batches[0] if len(batches) == 1 else batches
    shown = batch if len(batches) == 1 else ",".join(map(str, batches)) if len(batches) <= 8 else \
        f"{len(batches)} sizes"
    stream_rows(rows, cols, fmt, title=f"{name}: {n} points, batch {shown}, {dtype}",
                payload={"arch": name, "batch": batch, "dtype": dtype, "convention": convention,
                         "device": gpu.key if device is not None else None, "train": train},
                key="points", footer=caveat(convention))
    if plot_file:
        from calc.plots import plot_sweep

        plot_sweep(kept, plot_file, title=name, axes=keys)


def _keeping(rows, kept: list):
    for r in rows:
        kept.append(r)
        yield r


def _progress(rows, n: int):
    with click.progressbar(length=n, label=f"sweeping {n} points", file=sys.stderr) as bar:
        for r in rows:
            bar.update(1)
            yield r


@click.command("list")
@format_option()
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
    if fmt in ("csv", "markdown"):
        from calc.cli.render import render_rows

        flat = [{**{k: r[k] for k in ("name", "family", "summary", "source")},
                 "options": " ".join(f"--{k} {v['allowed']} (default {v['default']})" for k, v in r["options"].items())}
                for r in rows]
        click.echo(render_rows(flat, ["name", "family", "summary", "options", "source"], fmt))
        return
    for r in rows:
        opts = "  ".join(f"--{k} {v['allowed']} (default {v['default']})" for k, v in r["options"].items())
        click.echo(f"{r['name']:<22} {r['summary']}")
        click.echo(f"{'':<22} {opts}")


@click.command()
@format_option()
def conventions(fmt):
    """List the counting conventions: what each counts and where its rules come from."""
    import json

    from calc.conventions import conventions as table

    rows = [{"name": c.name, "title": c.title, "counts": c.summary, "params": c.params_summary or "the true count",
             "note": c.caveat, "source": c.source} for c in table().values()]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    if fmt in ("csv", "markdown"):
        from calc.cli.render import render_rows

        click.echo(render_rows(rows, ["name", "title", "counts", "params", "note", "source"], fmt))
        return
    for c in table().values():
        lines = [f"{c.name:<8} {c.title}", f"{'':<8} counts: {c.summary}"]
        if c.params_summary:
            lines.append(f"{'':<8} params: {c.params_summary}")
        if c.caveat:
            lines.append(f"{'':<8} note: {c.caveat}")
        lines.append(f"{'':<8} source: {c.source}")
        click.echo("\n".join(lines) + "\n")


COMMANDS = (arch, ratio, breakdown, compare, sweep, list_, conventions)
