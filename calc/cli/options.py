"""Options shared by the commands: the architecture a command works on, and the
formats, element types and lists every command spells the same way.

An architecture on the command line is one :class:`ArchTarget`: ``NAME`` (a built-in)
or ``FILE`` (a spec file, or an ONNX model), with its options given as ``-p KEY=VALUE`` (any option the
architecture declares, ``-p depth=56`` for a spec file's own) or with the flags
``--alpha --res --groups --classes --variant`` as shorthand.  Whether ``NAME`` is a
file is decided here, once (:func:`resolve_architecture`).  Each architecture declares
the options it takes; any other is an error, never silently ignored.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import click

from calc.datafiles import SPEC_SUFFIXES
from calc.dtypes import DTYPE_BYTES
from calc.units import config_str  # noqa: F401  (re-exported for the commands)

FORMATS = ("table", "json", "csv", "markdown")
ONNX_SUFFIX = ".onnx"
DTYPES = tuple(DTYPE_BYTES)

#: the shorthand flags: (name, click type, help)
FLAGS = (
    ("alpha", float, "Width multiplier (MobileNet, ShuffleNet scale)."),
    ("res", str, "Input resolution in pixels: a side (square) or HxW (600x850)."),
    ("groups", int, "Group count (ShuffleNet v1)."),
    ("classes", int, "Classifier outputs (default 1000)."),
    ("variant", str, "Architecture variant (see 'calc list')."),
)


def is_spec_path(name: str) -> bool:
    """Whether an architecture given on the command line means a file: it ends in .yaml,
    .yml, .json or .onnx, or it is an existing file and no built-in has that name."""
    from calc.registry import ARCHITECTURES

    if name.lower().endswith((*SPEC_SUFFIXES, ONNX_SUFFIX)):
        return True
    if name in ARCHITECTURES:
        return False
    try:
        return Path(name).is_file()
    except (OSError, ValueError):  # a name too long for a path, a NUL byte
        return False


def is_onnx_path(name: str) -> bool:
    """Whether a file given as an architecture is an ONNX model: it ends in .onnx, or it has
    no spec suffix and starts as a serialized ModelProto does (field 1, ``ir_version``)."""
    if name.lower().endswith(ONNX_SUFFIX):
        return True
    if name.lower().endswith(SPEC_SUFFIXES):
        return False
    import os
    import stat

    try:  # non-blocking, and only a regular file is read (a FIFO would wait for a writer)
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return False
    try:
        return stat.S_ISREG(os.fstat(fd).st_mode) and os.read(fd, 1) == b"\x08"
    except OSError:
        return False
    finally:
        os.close(fd)


def resolve_architecture(name: str):
    """The built-in architecture called ``name``, or the spec file or ONNX model at path ``name``."""
    import archs  # noqa: F401  (registers the built-ins)
    from calc.registry import get

    if is_spec_path(name):
        if is_onnx_path(name):
            from calc.onnx import load_onnx

            return load_onnx(name)
        from calc.spec import load_spec

        return load_spec(name)
    return get(name)


# -- shell completion (click's: eval "$(_CALC_COMPLETE=bash_source calc)") ----------------

def complete_architecture(ctx, param, incomplete: str):
    """Built-in names, and spec files (the shell completes the path)."""
    from click.shell_completion import CompletionItem

    import archs

    names = [CompletionItem(n) for n in archs.ARCHITECTURES.names() if n.startswith(incomplete)]
    return names + [CompletionItem(incomplete, type="file")]


def complete_device(ctx, param, incomplete: str):
    from click.shell_completion import CompletionItem

    from calc.latency.devices import packaged_devices

    keys = sorted({k for d in packaged_devices().values() for k in (d.key, *d.aliases)})
    return [CompletionItem(k) for k in keys if k.startswith(incomplete)]


def complete_convention(ctx, param, incomplete: str):
    from click.shell_completion import CompletionItem

    from calc.conventions import conventions

    return [CompletionItem(n) for n in conventions() if n.startswith(incomplete)]


def complete_variant(ctx, param, incomplete: str):
    """The variants of the architecture named on the line, else of every built-in."""
    from click.shell_completion import CompletionItem

    import archs

    name = ctx.params.get("name")
    specs = [archs.ARCHITECTURES[name]] if name in archs.ARCHITECTURES else archs.ARCHITECTURES.values()
    found = sorted({str(c) for a in specs for o in a.options if o.name == "variant" for c in o.choices or ()})
    return [CompletionItem(v) for v in found if v.startswith(incomplete)]


def parse_assignments(items: tuple[str, ...] | list[str], what: str = "-p",
                      expected: str = "KEY=VALUE") -> dict[str, str]:
    """``("depth=56", "alpha=0.5")`` -> ``{"depth": "56", "alpha": "0.5"}``."""
    from calc.errors import CalcError

    out: dict[str, str] = {}
    for item in items:
        key, eq, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if not eq or not key:
            raise CalcError(f"{what}: expected {expected}, received {item!r}")
        if key in out:
            raise CalcError(f"{what}: option {key!r} given twice")
        out[key] = value.strip()
    return out


@dataclass
class ArchTarget:
    """An architecture and the options the user gave for it (not yet validated: the
    architecture's own option declarations check them when it is built)."""

    name: str
    given: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def arch(self):
        return resolve_architecture(self.name)

    def options(self, **extra: Any) -> dict[str, Any]:
        """The given options, validated against the architecture's declarations."""
        spec = self.arch
        return {k: spec.option(k).validate(spec.name, v) for k, v in {**self.given, **extra}.items()}

    def build(self, **extra: Any):
        return self.arch.build(**self.options(**extra))

    def batch(self, given: int | None) -> int:
        """``--batch``, by default the input's N when the architecture fixes one (an ONNX file's), else 1."""
        return default_batch(given, self.arch)


def default_batch(given: int | None, arch: Any) -> int:
    return given if given is not None else getattr(arch, "input_batch", None) or 1


def collect(flags: dict[str, Any], params: tuple[str, ...]) -> dict[str, Any]:
    """The options given by shorthand flags and ``-p KEY=VALUE`` (each at most once)."""
    from calc.errors import CalcError

    given = {k: v for k, v in flags.items() if v is not None}
    for key, value in parse_assignments(params).items():
        if key in given:
            raise CalcError(f"option {key!r} given twice (--{key} and -p {key}=...)")
        given[key] = value
    return given


def _flag_options(f, *, lists: bool = False):
    """The shorthand flags and ``-p``; with ``lists``, each takes a comma-separated list."""
    opts = [click.option(f"--{name}", f"flag_{name}", type=str if lists else kind, default=None,
                         help=("Comma-separated list. " if lists else "") + help_,
                         shell_complete=complete_variant if name == "variant" else None)
            for name, kind, help_ in FLAGS]
    opts.append(click.option("-p", "--param", "params", multiple=True, metavar="KEY=VALUE",
                             help="Any option the architecture declares (see 'calc list'; a spec "
                                  "file's params too)" + (", VALUE a comma-separated list" if lists else "")
                                  + "; repeatable."))
    for opt in reversed(opts):
        f = opt(f)
    return f


def _pop_flags(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {name: kwargs.pop(f"flag_{name}") for name, _, _ in FLAGS}


def arch_target(f):
    """Decorator: the command takes ``NAME`` and its options, passed as one
    :class:`ArchTarget` argument called ``target``."""
    import functools

    @functools.wraps(f)
    def wrapper(**kwargs):
        flags, params = _pop_flags(kwargs), kwargs.pop("params")
        return f(target=ArchTarget(kwargs.pop("name"), collect(flags, params)), **kwargs)

    return click.argument("name", shell_complete=complete_architecture)(_flag_options(wrapper))


def shared_options(f):
    """Decorator for commands over several targets (``compare``): the flags and ``-p``,
    passed as one dict ``shared`` (options for every target that takes them)."""
    import functools

    @functools.wraps(f)
    def wrapper(**kwargs):
        flags, params = _pop_flags(kwargs), kwargs.pop("params")
        return f(shared=collect(flags, params), **kwargs)

    return _flag_options(wrapper)


def grid_options(f):
    """Decorator for ``sweep``: the flags and ``-p`` as comma-separated lists, passed as
    one dict ``axes`` (option -> list of raw values)."""
    import functools

    @functools.wraps(f)
    def wrapper(**kwargs):
        flags, params = _pop_flags(kwargs), kwargs.pop("params")
        return f(axes={k: split_list(v, k) for k, v in collect(flags, params).items()}, **kwargs)

    return click.argument("name", shell_complete=complete_architecture)(_flag_options(wrapper, lists=True))


def split_list(text: str, option: str) -> list[str]:
    """A comma-separated option value as a non-empty list of strings."""
    from calc.errors import CalcError

    values = [v.strip() for v in str(text).split(",") if v.strip()]
    if not values:
        raise CalcError(f"--{option}: expected a comma-separated list of values, received {text!r}")
    return values


def parse_list(text: str, kind: type, option: str) -> list:
    """A comma-separated option value (``--res 96,128,160``) as a list of ``kind``."""
    from calc.errors import CalcError

    try:
        return [kind(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise CalcError(f"--{option} must be a comma-separated list of {kind.__name__}, received {text!r}") from None


#: the most batch sizes one --batch list may hold
MAX_BATCHES = 256


def parse_batches(text: str, largest: int | None = None, why: str = "") -> list[int]:
    """A ``--batch`` list (``1,8,32``): distinct integers >= 1, at most :data:`MAX_BATCHES` of
    them, each at most ``largest`` when given (``why`` says what bounds it)."""
    from calc.errors import CalcError

    shown = text if len(text) <= 60 else text[:57] + "..."
    if text.count(",") >= 4 * MAX_BATCHES:
        raise CalcError(f"--batch lists more than {MAX_BATCHES} batch sizes")
    try:
        out = parse_list(text, int, "batch")
    except (CalcError, ValueError):  # ValueError: an integer of more than 4,300 digits
        out = []
    if not out or min(out) < 1:
        raise CalcError(f"--batch must be a comma-separated list of integers >= 1, received {shown!r}")
    out = list(dict.fromkeys(out))
    if largest is not None and max(out) > largest:
        raise CalcError(f"--batch {max(out) if max(out) < 10**12 else shown}: {why}")
    if len(out) > MAX_BATCHES:
        raise CalcError(f"--batch lists {len(out):,} batch sizes; at most {MAX_BATCHES} per run")
    return out


def format_option(choices: tuple[str, ...] = FORMATS, default: str | None = "table"):
    return click.option("--format", "fmt", type=click.Choice(choices), default=default,
                        show_default=default is not None, help="Output format.")


def dtype_option(f):
    return click.option("--dtype", type=click.Choice(DTYPES), default="fp32", show_default=True,
                        help="Element type.")(f)


def batch_option(f):
    return click.option("--batch", type=click.IntRange(min=1), default=None,
                        help="Batch size (totals are per batch); default 1, or an ONNX file's N.")(f)


def convention_option(help_: str = "FLOPs counting convention (see 'calc conventions')."):
    return click.option("--convention", default="macs", show_default=True, help=help_,
                        shell_complete=complete_convention)
