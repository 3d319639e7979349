"""Architecture declarations.  Importing this package registers every family."""
from archs.registry import ARCHITECTURES, Architecture, Option, get, register

from archs import mobilenet, resnet, shufflenet  # noqa: F401  (registers)


def build(name: str, **options):
    """Build the named architecture with the given options (validated)."""
    return get(name).build(**options)


__all__ = ["ARCHITECTURES", "Architecture", "Option", "build", "get", "register"]


def published_for(spec: Architecture, config: dict) -> list[dict]:
    """The published numbers for this configuration, each recomputed and judged."""
    from calc.published import judge, load_packaged

    return [
        judge(p, lambda c: spec.build(**c), config)
        for p in load_packaged()
        if p.matches(spec.name, config)
    ]
