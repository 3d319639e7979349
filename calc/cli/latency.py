"""``calc latency``, ``calc devices`` and ``calc validate-latency``: roofline bounds and
latency estimates on the command line.

Like every command they raise :class:`~calc.errors.CalcError` for bad input, which
``calc``'s entry point prints as one line.  The engine lives in :mod:`calc.latency`;
nothing here computes.
"""
from __future__ import annotations

from typing import Any

import click

from calc.cli.options import arch_target, dtype_option, format_option, parse_list


def _batches(text: str) -> list[int]:
    from calc.errors import CalcError

    try:
        out = parse_list(text, int, "batch")
    except CalcError:
        out = []
    if not out or min(out) < 1:
        raise CalcError(f"--batch must be a comma-separated list of integers >= 1, received {text!r}")
    return list(dict.fromkeys(out))


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
        "throughput": round(e.throughput, 1),
        "roofline_throughput": round(e.roofline_throughput, 1),
        "fused_floor_ms": _ms(e.fused_floor_s),
        "copy_ms": _ms(e.copy_s),
        "kernels": len(e.kernels),
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
            "bytes": k.work.bytes, "compute_us": round(k.compute_s * 1e6, 3),
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
              help="Include copying the fp32 input to the device and the output back.")
@click.option("--tf32/--no-tf32", default=True, show_default=True,
              help="fp32 convs and FCs on TF32 tensor cores where the device has them (TensorRT's default).")
@click.option("--model", "model_file", type=click.Path(dir_okay=False), default=None,
              help="A TOML file replacing some of the model's constants (the names of calc/latency/model.toml).")
@click.option("--layers", is_flag=True, help="Add the per-layer roofline and per-kernel estimate.")
@format_option()
@click.option("--plot", "plot_file", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the roofline plot (one point per layer) to this PNG/SVG (needs the 'plot' extra).")
def latency(target, device, dtype, batch_text, host_copy, tf32, model_file, layers, fmt, plot_file):
    """Roofline bound and estimated inference latency of architecture NAME.

    \b
    roofline_ms   every layer unfused at the datasheet peak and bandwidth
    latency_ms    the estimate: fused kernels (conv+BN+activation+add), per-kernel
                  overhead, achievable fractions of peak, tensor-core alignment,
                  Winograd 3x3 convs, idle SMs at small batch (see calc/latency/roofline.py)

    \b
    Examples:
      calc latency resnet50 --device v100 --dtype fp16 --batch 1,8,32
      calc latency vgg16 --device t4 --batch 1,4,8 --host-copy --format json
      calc latency mobilenet_v2 --device a100 --layers --plot roofline.svg
    """
    from calc.latency.roofline import estimate, load_model

    batches = _batches(batch_text) if batch_text is not None else [target.batch(None)]
    net = target.build()
    model = load_model(model_file)
    ests = [estimate(net, device, dtype=dtype, batch=b, host_copy=host_copy, tf32=tf32, model=model)
            for b in batches]
    if plot_file:
        from calc.plots import plot_roofline

        plot_roofline(ests, plot_file)
    click.echo(render_latency(ests, fmt, layers=layers, host_copy=host_copy, tf32=tf32, model=model))


def render_latency(ests, fmt: str, *, layers: bool, host_copy: bool, tf32: bool, model) -> str:
    import json

    from calc.cli.render import render_rows
    from calc.latency.roofline import default_model, model_constants

    e0 = ests[0]
    notes = list(dict.fromkeys(n for e in ests for n in e.notes))
    results = [_result(e, layers or fmt == "json") for e in ests]
    if fmt == "json":
        return json.dumps({
            "arch": e0.arch, "config": e0.config, "device": e0.device.to_dict(), "dtype": e0.dtype,
            "host_copy": host_copy, "tf32": tf32,
            "model": {k: {"value": getattr(model, k), "unit": c.unit,
                          "how": c.how if getattr(model, k) == c.value else "given (--model)"}
                      for k, c in model_constants().items()},
            "results": results, "notes": notes,
        }, indent=2)
    cols = ["batch", "latency_ms", "roofline_ms", "fused_floor_ms", "throughput", "roofline_throughput", "kernels"]
    config = ", ".join(f"{k}={v}" for k, v in e0.config.items())
    title = (f"{e0.arch} ({config}) on {e0.device.name}, {e0.dtype}"
             f"{', host copy included' if host_copy else ''}")
    footer = [
        "latency_ms: the estimate; roofline_ms: the plain per-layer roofline (unfused, datasheet peaks);",
        "fused_floor_ms: the roofline of the fused kernels as executed (the estimate never goes below it);",
        "throughput: images/s at latency_ms.",
        *(f"note: {n}" for n in notes),
    ]
    if model != default_model():
        footer.append("constants replaced (--model): " + ", ".join(
            f"{k}={getattr(model, k):g}" for k in model.NAMES if getattr(model, k) != getattr(default_model(), k)))
    rows = [{k: round(r[k]) if "throughput" in k else r[k] for k in cols} for r in results]
    out = [render_rows(rows, cols, fmt, title=title, footer=footer)]
    if layers and fmt != "csv":
        for r in results:
            out.append("")
            out.append(render_rows(r["layers"], ["name", "op", "flops", "bytes", "intensity", "unit",
                                                 "attainable_tflops", "roofline_us", "bound", "kernel"],
                                   fmt, title=f"batch {r['batch']}: per layer (plain roofline)"))
            out.append("")
            out.append(render_rows(r["kernel_times"], ["name", "op", "unit", "compute_us", "memory_us",
                                                       "overhead_us", "time_us", "bound"],
                                   fmt, title=f"batch {r['batch']}: per kernel (estimate)"))
    elif layers:  # csv: one flat table, a row per layer per batch
        rows = [{"batch": r["batch"], **lay} for r in results for lay in r["layers"]]
        out = [render_rows(rows, ["batch", "name", "op", "flops", "bytes", "intensity", "unit",
                                  "attainable_tflops", "roofline_us", "bound", "kernel"], fmt)]
    return "\n".join(out)


@click.command()
@click.option("--devices", "devices_file", type=click.Path(dir_okay=False), default=None,
              help="A TOML file of more devices (the form of calc/latency/devices.toml).")
@format_option(("table", "json"))
@click.option("--sources", is_flag=True, help="Show the source of every figure.")
def devices(devices_file, fmt, sources):
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

    devs = load_devices(devices_file)
    if fmt == "json":
        click.echo(json.dumps([d.to_dict() for d in devs.values()], indent=2))
        return
    short = {"fp32_tflops": "fp32", "fp16_tflops": "fp16", "tf32_tensor_tflops": "tf32 TC",
             "fp16_tensor_tflops": "fp16 TC", "bf16_tensor_tflops": "bf16 TC", "int8_tensor_tops": "int8 TC",
             "int8_tops": "int8", "bandwidth_gbs": "GB/s", "memory_gb": "GB", "sms": "SMs",
             "host_link_gbs": "host GB/s"}
    rows = [{"device": d.key, **{short[f]: (d.figures[f] if f in d.figures else None) for f in FIGURES},
             "name": d.name} for d in devs.values()]
    footer = ["compute in TFLOPS (TOPS for int8), dense; TC = tensor cores; host GB/s per direction.",
              "aliases: " + "; ".join(f"{d.key} = {', '.join(d.aliases)}" for d in devs.values() if d.aliases)]
    click.echo(render_rows(rows, ["device", *short.values(), "name"], "table",
                           title="devices (calc/latency/devices.toml)", footer=footer))
    if sources:
        for d in devs.values():
            click.echo(f"\n{d.key}: {d.name}")
            for key, text in d.sources.items():
                click.echo(f"  {key}: {text}")


@click.command("validate-latency")
@click.option("--brief", is_flag=True, help="Only the per-table summary, not every model and batch.")
def validate_latency(brief):
    """Predicted vs measured latency for the published tables (archs/data/latency_seeds.toml):
    per table, the median absolute percentage error and Spearman's rank correlation.

    \b
    The model's constants were fitted on the V100 tables (seed 004 and seed 003's V100
    table); the T4 tables are held out (see benchmarks/calibrate_latency.py).
    """
    import archs
    from calc.latency.validate import predict, report

    click.echo(report(predict(archs.latency_tables(), build=archs.build), detail=not brief))


COMMANDS = (latency, devices, validate_latency)
