"""Published numbers, recomputed and judged.

A published entry names an architecture configuration, a quantity (``params``,
``macs`` or ``flops`` under a convention), the value *as printed* (a string, so
its precision is kept) and its source.  calc recomputes the quantity and rounds
it to the printed precision:

``agrees``     the plain count, rounded, is the printed value;
``explained``  it is not, but the source's documented *method* reproduces it
               (``method`` says how the source counted; ``explanation`` says it
               in words);
``disagrees``  neither.

Every entry that does not agree carries a ``reason`` (one of :data:`REASONS`) and an
``explanation`` in words.  A reason with a ``method`` is *verified*: the method
must reproduce the printed value, or the verdict is ``disagrees`` (the
explanation was wrong).  The reasons ``typo``, ``inconsistent``, ``nominal`` and
``reimplementation`` name an error or an unknown in the source that no
recomputation can confirm; they give ``explained`` with ``verified: false``.

Methods (each is something a source demonstrably did, never a fudge factor):

``rounding: floor|ceil``  the source truncates (or rounds up) instead of rounding;
``config: {..}``          the source measured another configuration or variant
                          of the network (e.g. the authors' model, not torchvision's);
``exclude_ops: [Op, ..]`` the source leaves those layers' quantity out (e.g. BN
                          parameters, folded into the conv at inference);
``exclude_names: [s, ..]`` the source leaves out the layers whose name contains s
                          (e.g. the projection shortcuts of a plain baseline);
``exclude_bias: true``    the source counts conv/FC weights without their biases
                          (a static Paddle program adds a bias in a separate op);
``decimals: N``           the source's value has N decimals and the printed table
                          pads it with zeros (N < 0: rounded to 10^-N);
``rho_from_res: R``       the source scaled its count at resolution R by
                          ``(res / R) ** 2``, the resolution multiplier rule,
                          which wrongly scales resolution-independent layers.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any, Callable

from calc.counting import Analysis, analyze
from calc.errors import CalcError
from calc.graph import Network

UNITS = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9}
REASONS = {
    "rounding": "the source truncates or rounds up",
    "bn_excluded": "the source leaves BatchNorm parameters out",
    "bias_excluded": "the source leaves conv/FC biases out",
    "fc_excluded": "the source leaves the classifier out",
    "resolution_rule": "the source scaled another resolution's count by rho^2",
    "variant": "the source measured another variant of the network",
    "typo": "a typo in the source",
    "inconsistent": "the source contradicts itself",
    "nominal": "a nominal budget level, not a count",
    "reimplementation": "the source's own re-implementation, whose configuration is unpublished",
}
UNVERIFIABLE = {"typo", "inconsistent", "nominal", "reimplementation"}
QUANTITIES = ("params", "macs", "flops")
VERDICTS = ("agrees", "explained", "disagrees")


@dataclass(frozen=True)
class Published:
    arch: str
    config: dict[str, Any]
    quantity: str
    printed: str
    unit: str
    source: str
    convention: str = "macs"
    method: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    explanation: str = ""
    #: the document the number is printed in (for self-consistency checks); default: source
    document: str = ""

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str) -> "Published":
        allowed = set(cls.__dataclass_fields__)
        unknown = set(d) - allowed
        if unknown:
            raise CalcError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        try:
            p = cls(**{**d, "printed": str(d["printed"]), "config": dict(d.get("config", {}))})
        except TypeError as e:
            raise CalcError(f"{where}: {e}") from None
        if p.quantity not in QUANTITIES:
            raise CalcError(f"{where}: quantity must be one of {QUANTITIES}, received {p.quantity!r}")
        if p.unit not in UNITS:
            raise CalcError(f"{where}: unit must be one of {tuple(UNITS)}, received {p.unit!r}")
        if (p.method or p.reason) and not p.explanation:
            raise CalcError(f"{where}: a method or reason needs an explanation")
        if p.method and not p.reason:
            raise CalcError(f"{where}: a method needs a reason ({', '.join(REASONS)})")
        if p.reason and p.reason not in REASONS:
            raise CalcError(f"{where}: reason must be one of {', '.join(REASONS)}, received {p.reason!r}")
        if p.reason in UNVERIFIABLE and p.method:
            raise CalcError(f"{where}: reason {p.reason!r} cannot have a method")
        unknown = set(p.method) - {"rounding", "exclude_ops", "exclude_names", "exclude_bias", "decimals",
                                   "rho_from_res", "config"}
        if unknown:
            raise CalcError(f"{where}: unknown method key(s) {', '.join(sorted(unknown))}")
        if p.method.get("rounding", "round") not in ("round", "floor", "ceil"):
            raise CalcError(f"{where}: rounding must be round, floor or ceil")
        return p

    def matches(self, arch: str, config: dict[str, Any]) -> bool:
        return self.arch == arch and all(config.get(k) == v for k, v in self.config.items())


def quantity_of(a: Analysis, quantity: str, exclude_ops: tuple[str, ...] = (),
                exclude_names: tuple[str, ...] = ()) -> int:
    total = a.totals[quantity]
    if exclude_ops or exclude_names:
        total -= sum(getattr(c, quantity) for c in a.layers
                     if c.op in exclude_ops or any(s in c.name for s in exclude_names))
    return total


def bias_params(net: Network) -> int:
    """Parameters held in conv and FC biases."""
    return sum(n.layer.param_counts(net.input_shapes(n)).get("bias", 0) for n in net.layers())


def _as_printed(value: Decimal, printed: str, rounding: str, decimals: int | None = None) -> str:
    if decimals is None:
        decimals = len(printed.split(".")[1]) if "." in printed else 0
    step = Decimal(1).scaleb(-decimals)
    mode = {"floor": ROUND_FLOOR, "ceil": ROUND_CEILING, "round": ROUND_HALF_UP}[rounding]
    return str(value.quantize(step, rounding=mode))


def judge(p: Published, build: Callable[[dict[str, Any]], Network], config: dict[str, Any]) -> dict[str, Any]:
    """Recompute ``p`` for ``config`` (the resolved configuration) and give a verdict."""
    a = analyze(build(config), convention=p.convention)
    exact = quantity_of(a, p.quantity)
    scale = Decimal(UNITS[p.unit])
    plain = _as_printed(Decimal(exact) / scale, p.printed, "round")
    printed = Decimal(p.printed) * scale
    result = {
        "arch": p.arch, "config": p.config, "quantity": p.quantity, "convention": p.convention,
        "printed": p.printed, "unit": p.unit, "source": p.source,
        "exact": exact, "computed": plain,
        "difference": float((Decimal(exact) - printed) / printed) if printed else None,
        "reason": p.reason,
    }
    if plain == p.printed:
        return {**result, "verdict": "agrees", "verified": True, "explanation": p.explanation}
    if p.reason in UNVERIFIABLE:
        return {**result, "verdict": "explained", "verified": False, "explanation": p.explanation}
    m = p.method
    exclude = (tuple(m.get("exclude_ops", ())), tuple(m.get("exclude_names", ())))
    if "config" in m:
        a = analyze(build({**config, **m["config"]}), convention=p.convention)
    value = Decimal(quantity_of(a, p.quantity, *exclude))
    if "rho_from_res" in m:
        ref = analyze(build({**config, **m.get("config", {}), "res": m["rho_from_res"]}), convention=p.convention)
        value = Decimal(quantity_of(ref, p.quantity, *exclude)) * (Decimal(config["res"]) / Decimal(m["rho_from_res"])) ** 2
    if m.get("exclude_bias"):
        if p.quantity != "params":
            raise CalcError(f"{p.arch}: exclude_bias applies to params, not {p.quantity}")
        value -= bias_params(build({**config, **m.get("config", {})}))
    target = p.printed
    if "decimals" in m:  # compare at the source's own precision, if the padding really is zeros
        step = Decimal(1).scaleb(-m["decimals"])
        if Decimal(p.printed) == Decimal(p.printed).quantize(step):
            target = str(Decimal(p.printed).quantize(step))
    by_method = _as_printed(value / scale, target, m.get("rounding", "round"), m.get("decimals")) if m else None
    if by_method is not None and "decimals" in m and m["decimals"] < 0:
        by_method = str(Decimal(by_method).quantize(Decimal(1)))
        target = str(Decimal(target).quantize(Decimal(1)))
    verdict = "explained" if by_method == target else "disagrees"
    return {**result, "verdict": verdict, "verified": verdict == "explained", "by_method": by_method,
            "compared_to": target, "explanation": p.explanation}


def load(text: str, where: str) -> list[Published]:
    """Published entries from YAML text (a list of mappings)."""
    from calc.datafiles import parse_yaml

    return entries(parse_yaml(text, where), where)


def entries(data: Any, where: str) -> list[Published]:
    """Published entries from parsed data (a list of mappings)."""
    if not isinstance(data, list):
        raise CalcError(f"{where}: expected a list of entries")
    return [Published.from_dict(d, f"{where} entry {i}") for i, d in enumerate(data)]
