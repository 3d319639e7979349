"""Human-readable numbers: SI prefixes for counts, binary prefixes for bytes.

Counts are exact Python ints of any size (a batch of 10^300 is a valid question), so the
prefixed forms are computed with integer and Decimal arithmetic, never through a float
that could overflow."""
from __future__ import annotations

from decimal import Decimal

SI = ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "k"))
BINARY = ((1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB"))


def _scaled(n: int | float, scale: int, digits: int) -> str:
    if isinstance(n, int):
        value = Decimal(n) / Decimal(scale)
        return f"{value:.{digits}f}" if abs(value) < 10**15 else f"{value:.{digits}e}"
    return f"{n / scale:.{digits}f}"


def si(n: int | float, digits: int = 2) -> str:
    """1234567 -> '1.23 M' (counts: k = 1e3, M = 1e6, G = 1e9, T = 1e12)."""
    for scale, unit in SI:
        if abs(n) >= scale:
            return f"{_scaled(n, scale, digits)} {unit}"
    return f"{n:g}" if isinstance(n, float) else str(n)


def binary(n: int | float, digits: int = 2) -> str:
    """Bytes: 1048576 -> '1.00 MiB'."""
    for scale, unit in BINARY:
        if abs(n) >= scale:
            return f"{_scaled(n, scale, digits)} {unit}"
    return f"{int(n)} B"


def grouped(n: int) -> str:
    return f"{n:,}"


def config_str(config: dict) -> str:
    """{'alpha': 0.75, 'res': 192} -> 'alpha=0.75, res=192'."""
    return ", ".join(f"{k}={v}" for k, v in config.items())


def printable(text: str) -> str:
    """``text`` with control characters (a line break in a spec file's name, a terminal
    escape sequence in its notes) shown escaped: what calc prints never drives the terminal."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
