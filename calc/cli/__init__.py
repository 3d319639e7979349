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


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, invoke_without_command=True)
@click.version_option(__import__("calc").__version__, prog_name="calc")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Static, analytical costs of convolutional networks: params, MACs, FLOPs
    under a named convention, and memory, from closed-form formulas.

    \b
    Examples:
      calc arch mobilenet_v2 --alpha 0.75 --res 192
      calc arch mobilenet_v1 --layers --format markdown
      calc arch mobilenet_v2 --convention thop --format json
      calc arch examples/tiny_resnet.yaml -p depth=56
      calc list

    \b
    Shell completion (architectures, files, devices, conventions, variants):
      eval "$(_CALC_COMPLETE=bash_source calc)"     # bash; zsh_source, fish_source too
    """
    if ctx.invoked_subcommand is None:  # bare `calc`: the help, and no error
        click.echo(ctx.get_help())


for _module in (counts, check, latency, spec, train):
    for _command in _module.COMMANDS:
        cli.add_command(_command)


#: options people type for another one, and the one they mean
HINTS = {"--width": "--alpha", "--width-mult": "--alpha", "--width-multiplier": "--alpha", "--multiplier": "--alpha",
         "-a": "--alpha", "-w": "--alpha", "--resolution": "--res", "--size": "--res", "--input-size": "--res",
         "--image-size": "--res", "-r": "--res", "--num-classes": "--classes", "--n-classes": "--classes",
         "--bs": "--batch", "--batch-size": "--batch", "-b": "--batch", "--precision": "--dtype", "--gpu": "--device"}


def _message(e: click.ClickException) -> str:
    text = e.format_message()
    name = getattr(e, "option_name", None)
    if isinstance(e, click.NoSuchOption) and name in HINTS:  # ours over click's spelling guess
        text = f"No such option {name!r}; did you mean {HINTS[name]}? (see 'calc COMMAND --help')"
    return text


def _output_closed() -> bool:
    try:
        return sys.stdout is None or sys.stdout.closed
    except (AttributeError, ValueError):
        return True


def _silence_stdout() -> None:
    """After a failed write, point stdout at /dev/null so the interpreter's own flush at
    exit does not print a second error."""
    import os

    try:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (lives until exit)
    except OSError:
        pass


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI, turning every user error into one line."""
    import gc

    from pydantic import ValidationError

    from calc.errors import CalcError

    if _output_closed():
        click.echo("calc: error: standard output is closed; nothing to write the result to", err=True)
        return 2

    # A command that counts one configuration (or a few) builds many long-lived objects
    # (layers, nodes, a YAML document) and next to no cycles: about 140 objects of cyclic
    # garbage in all, for `calc arch` on a 50,000-layer file as for `calc compare` over the
    # zoo or `calc check` (gc.collect() at their end).  The cyclic collector would only walk
    # the live objects again and again (0.3-0.8 CPU s of that file's 3 s), so it is off,
    # and what start-up imported is never rescanned.  A sweep, which builds point after
    # point and must run in bounded memory, turns it back on (calc.cli.counts.sweep).
    gc.freeze()
    gc.disable()

    try:
        rv = cli.main(args=argv, prog_name="calc", standalone_mode=False)
        sys.stdout.flush()  # a full device fails here, not at the interpreter's exit
        if isinstance(rv, int):  # a command's click.exceptions.Exit(code), returned by click
            return rv
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.Abort:
        click.echo("calc: aborted", err=True)
        return 1
    except BrokenPipeError:  # `calc ... | head`: the reader left; stop quietly
        _silence_stdout()
        return 1
    except OSError as e:  # the output cannot be written (a full disk, /dev/full)
        _silence_stdout()
        click.echo(f"calc: error: cannot write the output: {e.strerror or e}", err=True)
        return 2
    except click.ClickException as e:
        click.echo(f"calc: error: {_message(e)}", err=True)
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
