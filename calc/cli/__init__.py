"""The ``calc`` command line.  A thin layer: it parses options, calls the engine
and prints; it holds no formulas.  Heavy modules are imported inside commands so
that a cold start stays fast.

Commands live in this package by theme (:mod:`~calc.cli.counts`, :mod:`~calc.cli.check`,
:mod:`~calc.cli.latency`, :mod:`~calc.cli.spec`, :mod:`~calc.cli.train`) and share :mod:`~calc.cli.options`;
:mod:`~calc.cli.render` prints their results.  Every user error prints one line
(``calc: error: ...``) and exits with status 2; never a traceback.
"""
from __future__ import annotations

import sys

import click

from calc.cli import check, counts, latency, spec, train


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
      calc arch examples/tiny_resnet.yaml -p depth=56
      calc list
    """


for _module in (counts, check, latency, spec, train):
    for _command in _module.COMMANDS:
        cli.add_command(_command)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI, turning every user error into one line."""
    import gc

    from pydantic import ValidationError

    from calc.errors import CalcError

    # A command builds many long-lived objects (layers, nodes, a YAML document) and few
    # cycles: collect the young generation less often, and never rescan what start-up
    # imported.  It halves the time of a 50,000-layer spec file (benchmarks/big_spec.py).
    gc.freeze()
    gc.set_threshold(100_000, 20, 20)

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
