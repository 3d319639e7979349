"""``calc train``: the cost of one training step (FLOPs forward and backward, the optimizer
update, and the memory of parameters, gradients, optimizer state and saved activations),
and the option bundle ``compare --train`` and ``sweep --train`` share with it."""
from __future__ import annotations

import functools
import json

import click

from calc.cli.options import arch_target, config_str, format_option

TRAIN_DTYPES = ("fp32", "fp16", "bf16")
OPTIMIZERS = ("sgd", "momentum", "adam", "adamw")
CONVENTIONS = ("flops", "macs")
#: the table's rows: (label, key, bytes?)
ROWS = (
    ("params", "params", False), ("trained params", "trainable_params", False),
    ("forward MACs", "forward_macs", False), ("backward MACs", "backward_macs", False),
    ("forward FLOPs", "forward_flops", False), ("backward FLOPs", "backward_flops", False),
    ("optimizer FLOPs", "optimizer_flops", False),
    ("parameters", "param_bytes", True), ("gradients", "grad_bytes", True),
    ("optimizer state", "optimizer_bytes", True), ("saved activations", "saved_activation_bytes", True),
    ("backward working set", "backward_working_bytes", True), ("peak (bound)", "peak_bytes", True),
)
LAYER_COLUMNS = ("name", "op", "forward_macs", "backward_macs", "forward_flops", "backward_flops",
                 "grad_bytes", "saved_activation_bytes", "backward_working_bytes")


def step_options(f):
    """``--dtype --amp --optimizer --freeze --convention`` of a training step, passed as one
    dict ``step`` (keyword arguments of :func:`calc.training.analyze_training`)."""

    @functools.wraps(f)
    def wrapper(**kwargs):
        step = {k: kwargs.pop(k) for k in ("dtype", "amp", "optimizer", "freeze", "convention")}
        return f(step=step, **kwargs)

    opts = [
        click.option("--dtype", type=click.Choice(TRAIN_DTYPES), default="fp32", show_default=True,
                     help="Element type of the model, its activations and gradients."),
        click.option("--amp", is_flag=True, help="Mixed precision: fp32 master weights and optimizer state "
                                                 "(needs --dtype fp16 or bf16)."),
        click.option("--optimizer", type=click.Choice(OPTIMIZERS), default="sgd", show_default=True,
                     help="sgd (no state), momentum (1 state), adam/adamw (2 states)."),
        click.option("--freeze", multiple=True, metavar="PREFIX",
                     help="Freeze the layers named PREFIX or PREFIX.* (repeatable)."),
        click.option("--convention", type=click.Choice(CONVENTIONS), default="flops", show_default=True,
                     help="How FLOPs are counted (the MACs are shown either way)."),
    ]
    for opt in reversed(opts):
        wrapper = opt(wrapper)
    return wrapper


def analyze_target(target, batch: int, step: dict):
    from calc.training import analyze_training

    return analyze_training(target.build(), batch=batch, **{**step, "freeze": tuple(step["freeze"])})


def to_dict(a) -> dict:
    """The JSON contract: ``totals`` and ``layers`` with the integer keys of
    :data:`calc.training.TOTAL_KEYS` (and extras)."""
    return {
        "arch": a.arch, "config": a.config, "input": a.input, "dtype": a.dtype, "amp": a.amp,
        "optimizer": a.optimizer, "freeze": list(a.freeze), "convention": a.convention.name,
        "convention_summary": a.convention.summary, "totals": dict(a.totals),
        "uncounted_ops": dict(a.uncounted), "notes": list(a.notes),
        "layers": [c.to_dict() for c in a.layers],
    }


def _title(a) -> list[str]:
    amp = " (amp: fp32 master weights and state)" if a.amp else ""
    frozen = f", frozen: {', '.join(a.freeze)}" if a.freeze else ""
    return [f"{a.arch} ({config_str(a.config)})" if a.config else a.arch,
            f"training step: input {'x'.join(map(str, a.input))}  dtype {a.dtype}{amp}  optimizer "
            f"{a.optimizer}{frozen}  convention {a.convention.name}"]


def render(a, fmt: str, layers: bool) -> str:
    from calc.cli.render import _align, render_rows
    from calc.units import binary, grouped, si

    if fmt == "json":
        return json.dumps(to_dict(a), indent=2)
    if fmt == "csv":
        rows = [c.to_dict() for c in a.layers] if layers else [{
            "arch": a.arch, **a.config, "batch": a.batch, "dtype": a.dtype, "amp": a.amp,
            "optimizer": a.optimizer, "convention": a.convention.name, **a.totals}]
        return render_rows(rows, list(rows[0]), "csv")
    body = [[label, binary(a.totals[k]) if is_bytes else si(a.totals[k]), grouped(a.totals[k])]
            for label, k, is_bytes in ROWS]
    tail = [f"not counted by '{a.convention.name}': " + ", ".join(f"{op} x{n}" for op, n in a.uncounted.items())] \
        if a.uncounted else []
    tail += [f"note: {n}" for n in a.notes]
    per_layer = [render_rows([c.to_dict() for c in a.layers], list(LAYER_COLUMNS), fmt)] if layers else []
    if fmt == "markdown":
        head, sub = _title(a)
        out = [f"### {head}", "", sub, "", "| quantity | value | exact |", "|---|---:|---:|"]
        out += [f"| {k} | {v} | {g} |" for k, v, g in body]
    else:
        out = _title(a) + [""] + _align(body, right=(1, 2))
    return "\n".join(out + ([""] + tail if tail else []) + ([""] + per_layer if per_layer else []))


@click.command()
@arch_target
@click.option("--batch", type=click.IntRange(min=1), required=True, help="Batch size (totals are per step).")
@step_options
@click.option("--layers", is_flag=True, help="Add the per-layer breakdown.")
@format_option()
def train(target, batch, step, layers, fmt):
    """The cost of one training step of NAME on a batch: forward and backward MACs and
    FLOPs, the optimizer update, and the memory of parameters, gradients, optimizer state
    and the activations autograd saves, with a bound on the step's peak.

    \b
    Examples:
      calc train resnet50 --batch 32
      calc train mobilenet_v2 --batch 64 --dtype fp16 --amp --optimizer adamw
      calc train resnet18 --batch 8 --freeze stem --freeze layer1 --layers
      calc train vgg16 --batch 2 --format json
    """
    click.echo(render(analyze_target(target, batch, step), fmt, layers or fmt == "json"))


COMMANDS = (train,)


# --- compare --train, sweep --train ----------------------------------------------------------

#: the columns compare and sweep show for a training step
STEP_COLUMNS = ["params", "forward_macs", "backward_macs", "forward_flops", "backward_flops", "grad_bytes",
                "optimizer_bytes", "saved_activation_bytes", "peak_bytes"]


def train_option(f):
    """``--train`` and ``--optimizer``: count a training step instead of inference; passed as
    ``train``, None or the optimizer's name."""

    @functools.wraps(f)
    def wrapper(**kwargs):
        on, optimizer = kwargs.pop("train_flag"), kwargs.pop("train_optimizer")
        return f(train=optimizer if on else None, **kwargs)

    wrapper = click.option("--optimizer", "train_optimizer", type=click.Choice(OPTIMIZERS), default="sgd",
                           show_default=True, help="The optimizer of --train.")(wrapper)
    return click.option("--train", "train_flag", is_flag=True,
                        help="Count one training step (see 'calc train'; --convention macs or flops).")(wrapper)


def step_totals(net, batch: int, dtype: str, convention: str, optimizer: str) -> dict:
    from calc.training import analyze_training

    return analyze_training(net, batch=batch, dtype=dtype, convention=convention, optimizer=optimizer).totals
