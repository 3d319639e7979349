"""``calc latency``, ``calc devices`` and ``calc validate-latency``: roofline bounds and
latency estimates on the command line.

Like every command they raise :class:`~calc.errors.CalcError` for bad input, which
``calc``'s entry point prints as one line.  The engine lives in :mod:`calc.latency`;
nothing here computes.
"""
from __future__ import annotations

from typing import Any

import click

from calc.cli.options import arch_target, dtype_option, format_option, parse_batches

#: bound on --batch: a latency is estimated per batch size (a few ms each), and no device
#: holds a batch of more than a million 224 x 224 images
MAX_BATCH = 1 << 20


def _batches(text: str) -> list[int]:
    return parse_batches(text, MAX_BATCH, f"a latency is estimated for batches of at most {MAX_BATCH:,} (2^20) images")


def _round(v: float | None, digits: int = 1) -> float | None:
    """A throughput for print: ``digits`` decimals, or three significant figures below 1
    image/s (a run of 20 s makes 0.05 images/s, not 0)."""
    if v is None:
        return None
    return round(v, digits) if v >= 1 else float(f"{v:.3g}")


def _ms(s: float) -> float:
    return round(s * 1e3, 4)


def _result(e, layers: bool) -> dict[str, Any]:
    bw = e.device.bandwidth
    bounds: dict[str, int] = {}
    for k in e.kernels:
        bounds[k.bound] = bounds.get(k.bound, 0) + 1
    out: dict[str, Any] = {
        "batch": e.batch,
        "latency_ms": _ms(e.latency_s),
        "roofline_ms": _ms(e.roofline_s),
        "throughput": _round(e.throughput),
        "roofline_throughput": _round(e.roofline_throughput),
        "fused_floor_ms": _ms(e.fused_floor_s),
        "copy_ms": _ms(e.copy_s),
        "kernels": sum(k.work.launches for k in e.kernels),
        "framework_ops": e.framework_ops,
        "framework_ms": _ms(e.framework_s),
        "engines": e.engines,
        "kernel_bounds": bounds,
    }
    if layers:
        head_of = {m: k for k in e.kernels for m in k.work.members}
        out["layers"] = [{
            "name": r.name, "op": r.op, "flops": r.flops, "bytes": r.bytes,
            "intensity": round(r.intensity, 3), "unit": r.unit,
            "attainable_tflops": round(r.attainable(bw) / 1e12, 4),
            "roofline_us": round(r.time_s * 1e6, 3), "bound": r.bound(bw),
            "kernel": head_of[r.name].work.name if r.name in head_of else None,
        } for r in e.layers]
        out["kernel_times"] = [{
            "name": k.work.name, "op": k.work.op, "unit": k.work.unit, "flops": k.work.flops,
            "bytes": k.work.bytes, "launches": k.work.launches,
            "where": "framework" if k.work.framework else f"engine {k.work.engine}" + (" (fp32)" if k.work.fallback else ""),
            "compute_us": round(k.compute_s * 1e6, 3),
            "memory_us": round(k.memory_s * 1e6, 3), "overhead_us": round(k.overhead_s * 1e6, 3),
            "time_us": round(k.time_s * 1e6, 3), "bound": k.bound,
        } for k in e.kernels]
    return out


def device_options(f):
    """``--device NAME`` and ``--devices FILE``, passed as one Device argument ``device``."""
    import functools

    @functools.wraps(f)
    def wrapper(**kwargs):
        from calc.latency.devices import find_device, load_devices

        name, extra = kwargs.pop("device_name"), kwargs.pop("devices_file")
        return f(device=find_device(name, load_devices(extra)), **kwargs)

    wrapper = click.option("--devices", "devices_file", type=click.Path(dir_okay=False), default=None,
                           help="A TOML file of more devices (the form of calc/latency/devices.toml).")(wrapper)
    from calc.cli.options import complete_device

    return click.option("--device", "device_name", default="v100", show_default=True,
                        help="Accelerator (see 'calc devices').", shell_complete=complete_device)(wrapper)


@click.command()
@arch_target
@device_options
@dtype_option
@click.option("--batch", "batch_text", default=None,
              help="Comma-separated batch sizes (default 1, or an ONNX file's N).")
@click.option("--host-copy", is_flag=True,
              help="Time the copy of the fp32 input to the device and of the output back, as the "
                   "PaddleClas harness does (default: the engine alone).")
@click.option("--runtime", "runtime_name", default=None,
              help="Inference runtime (see 'calc devices --runtimes'): paddle-trt-2020 (the default, the "
                   "measured tables' Paddle Inference + TensorRT 6/7) or trt8 (TensorRT 8 alone, uncalibrated).")
@click.option("--tf32/--no-tf32", default=True, show_default=True,
              help="fp32 convs and FCs on TF32 tensor cores where the device has them (TensorRT's default).")
@click.option("--model", "model_file", type=click.Path(dir_okay=False), default=None,
              help="A TOML file replacing some of the model's constants (the names of calc/latency/model.toml).")
@click.option("--layers", is_flag=True, help="Add the per-layer roofline and per-kernel estimate.")
@format_option()
@click.option("--plot", "plot_file", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the roofline plot (one point per layer) to this PNG/SVG (needs the 'plot' extra).")
def latency(target, device, dtype, batch_text, host_copy, runtime_name, tf32, model_file, layers, fmt, plot_file):
    """Roofline bound and estimated inference latency of architecture NAME.

    \b
    roofline_ms   every layer unfused at the datasheet peak and bandwidth
    latency_ms    the estimate, for the stated conditions (runtime, batch, precision,
                  host copy): the runtime's engines and framework ops, fused kernels,
                  max(launch interval, work + tail) per kernel, achievable fractions of
                  peak, tensor-core alignment, Winograd 3x3 convs, a conv's fill term at
                  small batch (see calc/latency/roofline.py)

    \b
    Examples:
      calc latency resnet50 --device v100 --dtype fp16 --batch 1,8,32
      calc latency vgg16 --device t4 --batch 1,4,8 --host-copy --format json
      calc latency mobilenet_v2 --device a100 --runtime trt8 --layers --plot roofline.svg
    """
    from calc.latency.roofline import estimate, load_model
    from calc.latency.runtimes import find_runtime

    batches = _batches(batch_text) if batch_text is not None else [target.batch(None)]
    runtime = find_runtime(runtime_name)
    net = target.build()
    model = load_model(model_file)
    ests = [estimate(net, device, dtype=dtype, batch=b, host_copy=host_copy, tf32=tf32, model=model,
                     runtime=runtime) for b in batches]
    if plot_file:
        from calc.plots import plot_roofline

        plot_roofline(ests, plot_file)
    click.echo(render_latency(ests, fmt, layers=layers, host_copy=host_copy, tf32=tf32, model=model))


def conditions_line(ests) -> str:
    """The benchmark an estimate answers: runtime, batch sizes, precision, what is timed."""
    c = ests[0].conditions
    copy = "host copy timed (fp32 input in, output back)" if c.host_copy else "host copy not timed (engine only)"
    batches = ",".join(str(e.batch) for e in ests)
    tf32 = "" if c.dtype != "fp32" else f", TF32 {'on' if c.tf32 else 'off'} where the device has it"
    return f"runtime {c.runtime.key} ({c.runtime.name}); batch {batches}; {c.dtype}{tf32}; {copy}"


def render_latency(ests, fmt: str, *, layers: bool, host_copy: bool, tf32: bool, model) -> str:
    import json

    from calc.cli.render import render_rows
    from calc.latency.roofline import default_model, model_constants

    e0 = ests[0]
    notes = list(dict.fromkeys(n for e in ests for n in e.notes))
    # the notes of one batch ("batch 8: ...") after those of every batch, in batch order
    notes.sort(key=lambda n: n.startswith("batch "))
    results = [_result(e, layers or fmt == "json") for e in ests]
    if fmt == "json":
        return json.dumps({
            "arch": e0.arch, "config": e0.config, "device": e0.device.to_dict(), "dtype": e0.dtype,
            "host_copy": host_copy, "tf32": tf32, "runtime": e0.conditions.runtime.to_dict(),
            "conditions": {**e0.conditions.to_dict(), "batch": [e.batch for e in ests]},
            "model": {k: {"value": getattr(model, k), "unit": c.unit,
                          "how": c.how if getattr(model, k) == c.value else "given (--model)"}
                      for k, c in model_constants().items()},
            "results": results, "notes": notes,
        }, indent=2)
    cols = ["batch", "latency_ms", "roofline_ms", "fused_floor_ms", "throughput", "roofline_throughput", "kernels"]
    config = ", ".join(f"{k}={v}" for k, v in e0.config.items())
    title = (f"{e0.arch} ({config}) on {e0.device.name}, {e0.dtype}\n"
             f"conditions: {conditions_line(ests)}")
    footer = [
        "latency_ms: the estimate; roofline_ms: the plain per-layer roofline (unfused, datasheet peaks);",
        "fused_floor_ms: the roofline of the fused kernels as executed (the estimate never goes below it);",
        "throughput: images/s at latency_ms; kernels: launched per run (framework ops: dispatched by the framework).",
        *(f"note: {n}" for n in notes),
    ]
    if model != default_model():
        footer.append("constants replaced (--model): " + ", ".join(
            f"{k}={getattr(model, k):g}" for k in model.NAMES if getattr(model, k) != getattr(default_model(), k)))
    rows = [{k: _round(r[k], None) if "throughput" in k else r[k] for k in cols} for r in results]
    if fmt == "csv":  # no title line in CSV: the conditions go in columns
        c = e0.conditions
        cols = [*cols, "runtime", "dtype", "host_copy"]
        rows = [{**row, "runtime": c.runtime.key, "dtype": c.dtype, "host_copy": c.host_copy} for row in rows]
    out = [render_rows(rows, cols, fmt, title=title, footer=footer)]
    if layers and fmt != "csv":
        for r in results:
            out.append("")
            out.append(render_rows(r["layers"], ["name", "op", "flops", "bytes", "intensity", "unit",
                                                 "attainable_tflops", "roofline_us", "bound", "kernel"],
                                   fmt, title=f"batch {r['batch']}: per layer (plain roofline)"))
            out.append("")
            out.append(render_rows(r["kernel_times"], ["name", "op", "unit", "where", "launches", "compute_us",
                                                       "memory_us", "overhead_us", "time_us", "bound"],
                                   fmt, title=f"batch {r['batch']}: per kernel (estimate)"))
    elif layers:  # csv: one flat table, a row per layer per batch, each batch ending with its result
        rows = []
        for r, e in zip(results, ests):
            rows += [{"batch": r["batch"], **lay} for lay in r["layers"]]
            rows.append({"batch": r["batch"], "name": "total", "flops": sum(x.flops for x in e.layers),
                         "bytes": sum(x.bytes for x in e.layers), "roofline_us": round(e.roofline_s * 1e6, 3),
                         "latency_us": round(e.latency_s * 1e6, 3), "throughput": r["throughput"],
                         "kernels": r["kernels"], "runtime": e0.conditions.runtime.key, "dtype": e0.dtype,
                         "host_copy": host_copy})
        out = [render_rows(rows, ["batch", "name", "op", "flops", "bytes", "intensity", "unit",
                                  "attainable_tflops", "roofline_us", "bound", "kernel", "latency_us",
                                  "throughput", "kernels", "runtime", "dtype", "host_copy"], fmt)]
    return "\n".join(out)


@click.command()
@click.option("--devices", "devices_file", type=click.Path(dir_okay=False), default=None,
              help="A TOML file of more devices (the form of calc/latency/devices.toml).")
@format_option()
@click.option("--sources", is_flag=True, help="Show the source of every figure.")
@click.option("--runtimes", "show_runtimes", is_flag=True,
              help="List the inference runtimes (calc/latency/runtimes.toml) and the evidence for each behaviour.")
def devices(devices_file, fmt, sources, show_runtimes):
    """List the accelerators: datasheet peaks, bandwidth, SMs, memory, and their sources.

    \b
    Examples:
      calc devices
      calc devices --sources
      calc devices --devices my_gpus.toml --format json
    """
    import json

    from calc.cli.render import render_rows
    from calc.latency.devices import FIGURES, load_devices

    if show_runtimes:
        click.echo(render_runtimes(fmt))
        return
    devs = load_devices(devices_file)
    if fmt == "json":
        click.echo(json.dumps([d.to_dict() for d in devs.values()], indent=2))
        return
    if sources and fmt != "table":  # the sources as a table of their own: device, figure, document
        rows = [{"device": d.key, "figure": k, "source": text} for d in devs.values() for k, text in d.sources.items()]
        click.echo(render_rows(rows, ["device", "figure", "source"], fmt))
        return
    if fmt == "csv":  # the raw figures, one column each
        rows = [{"device": d.key, "name": d.name, "aliases": ";".join(d.aliases), **d.figures} for d in devs.values()]
        click.echo(render_rows(rows, ["device", "name", "aliases", *FIGURES], "csv"))
        return
    short = {"fp32_tflops": "fp32", "fp16_tflops": "fp16", "tf32_tensor_tflops": "tf32 TC",
             "fp16_tensor_tflops": "fp16 TC", "bf16_tensor_tflops": "bf16 TC", "int8_tensor_tops": "int8 TC",
             "int8_tops": "int8", "bandwidth_gbs": "GB/s", "memory_gb": "GB", "sms": "SMs",
             "host_link_gbs": "host GB/s", "boost_mhz": "boost MHz", "sustained_mhz": "sustained MHz"}
    rows = [{"device": d.key, **{short[f]: (d.figures[f] if f in d.figures else None) for f in FIGURES},
             "name": d.name} for d in devs.values()]
    footer = ["compute in TFLOPS (TOPS for int8), dense; TC = tensor cores; host GB/s per direction.",
              "aliases: " + "; ".join(f"{d.key} = {', '.join(d.aliases)}" for d in devs.values() if d.aliases)]
    click.echo(render_rows(rows, ["device", *short.values(), "name"], fmt,
                           title="devices (calc/latency/devices.toml)", footer=footer))
    if sources:
        for d in devs.values():
            click.echo(f"\n{d.key}: {d.name}")
            for key, text in d.sources.items():
                click.echo(f"  {key}: {text}")


def render_runtimes(fmt: str) -> str:
    import json

    from calc.latency.runtimes import DEFAULT_RUNTIME, packaged_runtimes

    runtimes = packaged_runtimes()
    if fmt == "json":
        return json.dumps([r.to_dict() for r in runtimes.values()], indent=2)
    if fmt in ("csv", "markdown"):
        from calc.cli.render import render_rows

        rows = [{**r.to_dict(), "default": r.key == DEFAULT_RUNTIME} for r in runtimes.values()]
        for row in rows:
            row["outside_engine"] = ";".join(row["outside_engine"])
            del row["sources"]
        return render_rows(rows, list(rows[0]), fmt, title="runtimes (calc/latency/runtimes.toml)")
    out = []
    for r in runtimes.values():
        out.append(f"{r.key}{' (default)' if r.key == DEFAULT_RUNTIME else ''}: {r.name}")
        out.append(f"  framework {r.framework}; outside the engine: {', '.join(sorted(r.outside_engine)) or 'nothing'}; "
                   f"min segment {r.min_segment}; grouped convs {r.grouped_conv}"
                   f"{f' (one kernel up to {r.one_shot_group_channels} channels per group)' if r.grouped_conv == 'per_group' else ''}; "
                   f"pointwise fusion {'yes' if r.pointwise_fusion else 'no'}")
        for key, text in r.sources.items():
            out.append(f"  {key}: {text}")
        out.append("")
    return "\n".join(out).rstrip()


@click.command("validate-latency")
@click.option("--brief", is_flag=True, help="Only the per-table summary, not every model and batch.")
@format_option()
def validate_latency(brief, fmt):
    """Predicted vs measured latency for the published tables (archs/data: the seeds' and
    PaddleClas' T4 mobile figures): per table its conditions, the median absolute percentage
    error, the median signed error and Spearman's rank correlation per batch; per campaign.

    \b
    The model's constants were fitted on the tables marked [calibration] (seed 004, seed
    003's V100 table, the T4 mobile tables); seed 003's T4 tables are held out (see
    benchmarks/calibrate_latency.py, whose --loto leaves each table out in turn).
    """
    import json

    import archs
    from calc.cli.render import render_rows
    from calc.latency.validate import campaign_rows, point_rows, predict, report, summary_rows

    results = predict(archs.latency_tables(), build=archs.build)
    if fmt == "table":
        click.echo(report(results, detail=not brief))
        return
    tables, points, camps = summary_rows(results), point_rows(results), campaign_rows(results)
    if fmt == "json":
        click.echo(json.dumps({"tables": tables, "campaigns": camps, **({} if brief else {"points": points})},
                              indent=2))
    elif fmt == "csv":  # one table: the points, or with --brief the per-table summary
        rows = tables if brief else points
        click.echo(render_rows(rows, list(rows[0]), "csv"))
    else:
        out = [render_rows(tables, list(tables[0]), fmt, title="latency model vs the published tables"),
               "", render_rows(camps, list(camps[0]), fmt, title="per campaign")]
        if not brief:
            out += ["", render_rows(points, list(points[0]), fmt, title="every model and batch")]
        click.echo("\n".join(out))


COMMANDS = (latency, devices, validate_latency)
