"""``calc schema`` and ``calc export``: spec files on the command line.

Like every command they raise :class:`~calc.errors.CalcError` for bad input, which
``calc``'s entry point prints as one line.
"""
from __future__ import annotations

import click

from calc.cli.options import arch_target
from calc.datafiles import SPEC_FORMATS


@click.command()
def schema():
    """Print the JSON Schema of spec files (the layer types and their fields).

    \b
    Examples:
      calc schema > spec.schema.json
    """
    import json

    from calc.spec import json_schema

    click.echo(json.dumps(json_schema(), indent=2))


@click.command()
@arch_target
@click.option("--format", "fmt", type=click.Choice(SPEC_FORMATS), default=None,
              help="Output format (default: from the -o file's extension, else yaml).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write to this file instead of standard output.")
def export(target, fmt, output):
    """Write architecture NAME (built-in, or a spec file) as a flat spec file.

    Every layer is written out with its fields; loading the file back gives the
    same numbers.  Options pick the configuration, as for 'calc arch'.

    \b
    Examples:
      calc export mobilenet_v2 --alpha 0.75 --res 192 -o mbv2.yaml
      calc export resnet50 --format json
      calc export examples/tiny_resnet.yaml      # expand blocks and repeats
    """
    from calc.errors import CalcError
    from calc.spec import dump_spec, export as export_doc

    if fmt is None:
        fmt = "json" if output and output.lower().endswith(".json") else "yaml"
    text = dump_spec(export_doc(target.arch, **target.options()), fmt)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        with open(output, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as e:
        raise CalcError(f"{output}: cannot write: {e.strerror or e}") from None


COMMANDS = (schema, export)
