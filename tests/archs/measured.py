"""Our totals in the form the reference measurements of Cadene's models are written in
(tests/archs/test_inception.py describes how each was measured)."""
from tests.conftest import counts, module_leaf_outputs

TOOLS = ("ptflops_2019", "ptflops", "thop", "fvcore")


def totals(name: str, tools: tuple[str, ...] = TOOLS, **options) -> dict[str, int]:
    """params, conv+linear MACs, leaf-module outputs and each tool convention's total."""
    a = counts(name, **options)
    got = {"params": a.totals["params"], "macs": a.totals["macs"], "leaf": module_leaf_outputs(a)}
    return got | {t: counts(name, t, **options).totals["flops"] for t in tools}
