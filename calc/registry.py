"""The architecture registry: named builders with declared, validated options.

An architecture is a builder function plus the options it accepts.  Options an
architecture does not take are an error, never silently ignored; values are
checked against each option's type and range before the builder runs.

The registry knows names only: the built-in declarations (the ``archs`` package)
register themselves when imported, and reading a spec file is :mod:`calc.spec`'s
business (the command line decides whether a name is a file).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Callable

from calc.errors import CalcError, did_you_mean
from calc.graph import Network
from calc.resolution import HW, RESOLUTION_FORM, resolution  # noqa: F401  (HW: the value of a non-square RES)


@dataclass(frozen=True)
class Option:
    name: str
    kind: Any  # int, float, str, or calc.resolution.resolution (a side, or HxW)
    default: Any
    help: str
    choices: tuple[Any, ...] | None = None
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    #: the option is the input's spatial size (a side, or H x W for a ``resolution`` kind:
    #: C x v x v, C x h x w) and changes nothing else, so calc.grid can count every value of
    #: it at once on one structure
    input_only: bool = False

    def with_default(self, default: Any, **changes: Any) -> "Option":
        return Option(**{**self.__dict__, "default": default, **changes})

    def describe(self) -> str:
        if self.choices:
            return "|".join(str(c) for c in self.choices)
        lo = "-inf" if self.min is None else f"{self.min:g}"
        hi = "inf" if self.max is None else f"{self.max:g}"
        span = f"{'(' if self.min_exclusive else '['}{lo}, {hi}]"
        return f"{span} or HxW" if self.kind is resolution else span

    def validate(self, arch: str, value: Any) -> Any:
        where = f"{arch}: option --{self.name}"
        try:
            if self.kind is int and isinstance(value, float) and not value.is_integer():
                raise ValueError
            value = self.kind(value)
        except (TypeError, ValueError):
            what = RESOLUTION_FORM if self.kind is resolution else self.kind.__name__
            raise CalcError(f"{where} must be {what}, received {value!r}") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise CalcError(f"{where} must be a finite number, received {value!r}")
        if self.choices is not None and value not in self.choices:
            raise CalcError(f"{where} must be one of {self.describe()}, received {value!r}")
        shown = str(value) if isinstance(value, HW) else repr(value)
        for side in (value if isinstance(value, HW) else (value,)):  # H x W: each side
            if self.min is not None and (side < self.min or (self.min_exclusive and side == self.min)):
                raise CalcError(f"{where} must be in {self.describe()}, received {shown}")
            if self.max is not None and side > self.max:
                raise CalcError(f"{where} must be in {self.describe()}, received {shown}")
        return value


ALPHA = Option("alpha", float, 1.0, "width multiplier", min=0.0, max=4.0, min_exclusive=True)
RES = Option("res", resolution, 224, "input resolution: a side (square) or HxW (600x850)", min=1, max=8192,
             input_only=True)
CLASSES = Option("classes", int, 1000, "classifier outputs", min=1, max=1_000_000)


@dataclass(frozen=True)
class Architecture:
    name: str
    family: str
    summary: str
    source: str
    builder: Callable[..., Network]
    options: tuple[Option, ...]
    fixed: dict[str, Any] = field(default_factory=dict)

    def option(self, name: str) -> Option:
        for opt in self.options:
            if opt.name == name:
                return opt
        takes = ", ".join(f"--{o.name}" for o in self.options) or "no options"
        raise CalcError(f"{self.name} does not take --{name} (it takes {takes})")

    def resolve(self, given: dict[str, Any]) -> dict[str, Any]:
        config = {o.name: o.default for o in self.options}
        for name, value in given.items():
            config[name] = self.option(name).validate(self.name, value)
        return config

    def build(self, **given: Any) -> Network:
        config = self.resolve(given)
        net = self.builder(**self.fixed, **config)
        net.name = self.name
        net.config = config
        return net


class Registry(Mapping[str, Architecture]):
    """The registered architectures, by name.  A package of many families may *declare*
    names first (:meth:`declare`: name -> the module that registers it) and let each module
    be imported when one of its architectures is first asked for: ``calc arch mobilenet_v2``
    imports the MobileNet family, not the whole zoo.  Membership and :meth:`names` answer
    from the declarations; iterating, ``len`` and ``values()`` import every declared
    module first.  Order: declared (or registered) order, whatever was imported first."""

    def __init__(self) -> None:
        self._loaded: dict[str, Architecture] = {}
        self._pending: dict[str, str] = {}  # name -> module
        self._order: dict[str, None] = {}

    def declare(self, module: str, names: Iterable[str]) -> None:
        """``module``, when imported, registers ``names``."""
        for name in names:
            if name in self._loaded or name in self._pending:
                raise RuntimeError(f"architecture {name!r} is declared twice")
            self._pending[name] = module
            self._order[name] = None

    def add(self, arch: Architecture) -> None:
        if arch.name in self._loaded:
            raise RuntimeError(f"architecture {arch.name!r} is registered twice")
        self._pending.pop(arch.name, None)
        self._loaded[arch.name] = arch
        self._order[arch.name] = None

    def _load(self, module: str) -> None:
        import importlib

        importlib.import_module(module)
        missing = [n for n, m in self._pending.items() if m == module]
        if missing:  # a declaration the module does not keep: the package's index is wrong
            raise RuntimeError(f"{module} does not register {', '.join(missing)}, which its package declares")

    def load_all(self) -> None:
        for module in dict.fromkeys(self._pending.values()):
            if any(m == module for m in self._pending.values()):
                self._load(module)

    def names(self) -> list[str]:
        """Every name, declared or registered, without importing anything."""
        return list(self._order)

    def __getitem__(self, name: str) -> Architecture:
        if name not in self._loaded and name in self._pending:
            self._load(self._pending[name])
        return self._loaded[name]

    def __contains__(self, name: object) -> bool:
        return name in self._loaded or name in self._pending

    def __iter__(self) -> Iterator[str]:
        self.load_all()
        return iter([n for n in self._order if n in self._loaded])

    def __len__(self) -> int:
        self.load_all()
        return len(self._loaded)


ARCHITECTURES = Registry()


def register(name: str, *, family: str, summary: str, source: str,
             options: tuple[Option, ...], fixed: dict[str, Any] | None = None):
    """Decorator: register ``builder`` as architecture ``name``.  Stack it to
    register variants of one builder (``fixed`` holds the variant's arguments)."""

    def deco(builder: Callable[..., Network]) -> Callable[..., Network]:
        ARCHITECTURES.add(Architecture(name, family, summary, source, builder, options, fixed or {}))
        return builder

    return deco


def get(name: str) -> Architecture:
    """The registered architecture called ``name``."""
    try:
        return ARCHITECTURES[name]
    except KeyError:
        raise CalcError(f"unknown architecture {name!r}{did_you_mean(name, ARCHITECTURES.names(), 3)} "
                        f"(see 'calc list')") from None
