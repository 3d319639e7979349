"""Options and helpers shared by the command modules (calc.cli and its extensions)."""
from __future__ import annotations

from typing import Any

import click

from calc.units import config_str as _config_str  # noqa: F401  (re-exported for the commands)

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


def parse_list(text: str, kind: type, option: str) -> list:
    """A comma-separated option value (``--res 96,128,160``) as a list of ``kind``."""
    from calc.errors import CalcError

    try:
        return [kind(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise CalcError(f"--{option} must be a comma-separated list of {kind.__name__}, received {text!r}") from None
