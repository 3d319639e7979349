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

FORMATS = ("table", "json", "csv", "markdown")
DTYPES = ("fp32", "fp16", "bf16", "int8")


def _arch_options(f):
    """Options shared by every command that builds an architecture.  Each
    architecture declares which it takes; passing another is an error."""
    opts = [
        click.option("--alpha", type=float, default=None, help="Width multiplier (MobileNet, ShuffleNet scale)."),
        click.option("--res", type=int, default=None, help="Input resolution in pixels (square)."),
        click.option("--groups", type=int, default=None, help="Group count (ShuffleNet v1)."),
        click.option("--classes", type=int, default=None, help="Classifier outputs (default 1000)."),
        click.option("--variant", type=str, default=None, help="Architecture variant (see 'calc list')."),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def _given(**kw: Any) -> dict[str, Any]:
    return {k: v for k, v in kw.items() if v is not None}


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


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI, turning every user error into one line."""
    from pydantic import ValidationError

    from calc.errors import CalcError

    try:
        cli.main(args=argv, prog_name="calc", standalone_mode=False)
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
