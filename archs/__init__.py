"""Architecture declarations.  Importing this package registers every family."""
from archs.registry import ARCHITECTURES, Architecture, Option, get, register

from archs import classic, mobilenet, resnet, shufflenet  # noqa: F401  (registers)


def build(name: str, **options):
    """Build the named architecture with the given options (validated)."""
    return get(name).build(**options)


__all__ = ["ARCHITECTURES", "Architecture", "Option", "build", "get", "register"]


def published_for(spec: Architecture, config: dict) -> list[dict]:
    """The published numbers for this configuration, each recomputed and judged
    (none for a user's spec file, even one named like a built-in)."""
    from calc.published import judge, load_packaged

    if spec.name not in ARCHITECTURES or ARCHITECTURES[spec.name] is not spec:
        return []
    return [
        judge(p, lambda c: spec.build(**c), config)
        for p in load_packaged()
        if p.matches(spec.name, config)
    ]
