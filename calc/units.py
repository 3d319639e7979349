"""Human-readable numbers: SI prefixes for counts, binary prefixes for bytes."""


def si(n: float, digits: int = 2) -> str:
    """1234567 -> '1.23 M' (counts: k = 1e3, M = 1e6, G = 1e9, T = 1e12)."""
    for scale, unit in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= scale:
            return f"{n / scale:.{digits}f} {unit}"
    return f"{n:g}"


def binary(n: float, digits: int = 2) -> str:
    """Bytes: 1048576 -> '1.00 MiB'."""
    for scale, unit in ((1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
        if abs(n) >= scale:
            return f"{n / scale:.{digits}f} {unit}"
    return f"{int(n)} B"


def grouped(n: int) -> str:
    return f"{n:,}"


def config_str(config: dict) -> str:
    """{'alpha': 0.75, 'res': 192} -> 'alpha=0.75, res=192'."""
    return ", ".join(f"{k}={v}" for k, v in config.items())
