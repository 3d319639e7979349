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
explanation was wrong).  The reasons ``typo``, ``inconsistent``, ``nominal``,
``reimplementation`` and ``unknown_configuration`` name an error or an unknown in the
source that no recomputation can confirm; they give ``explained`` with ``verified: false``.

An entry's configuration is *resolved* once, when the entries are loaded
(:func:`resolve`): every option the architecture declares, the defaults filled in.
An entry belongs to exactly one configuration: it is shown for a network, and judged,
only when its resolved configuration is that network's (:meth:`Published.matches`).
Judging reuses the analysis of that configuration (any batch, dtype or convention:
the quantity is re-weighed under the entry's own convention); only a method that
measures another configuration (``config``, ``rho_from_res``) builds again.

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
    "unknown_configuration": "the source does not say which configuration it measured, and no source of it is known",
}
UNVERIFIABLE = {"typo", "inconsistent", "nominal", "reimplementation", "unknown_configuration"}
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
    #: the full configuration (every declared option), set by :func:`resolve`
    resolved: dict[str, Any] | None = field(default=None, compare=False)
    #: where the entry is written (for error messages)
    where: str = field(default="", compare=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str) -> "Published":
        allowed = set(cls.__dataclass_fields__) - {"resolved", "where"}
        if not isinstance(d, dict):
            raise CalcError(f"{where}: an entry is a mapping, received {d!r}"[:200])
        unknown = set(d) - allowed
        if unknown:
            raise CalcError(f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
        try:
            p = cls(**{**d, "printed": str(d["printed"]), "config": dict(d.get("config", {})), "where": where})
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
        """Whether this entry is a number of architecture ``arch`` in exactly the
        (resolved) configuration ``config``."""
        if self.resolved is None:
            raise RuntimeError(f"{self.where}: published entries must be resolved before they are matched")
        return self.arch == arch and self.resolved == config


def resolve(entries: Any, get_arch: Callable[[str], Any]) -> list[Published]:
    """The entries with their configurations resolved against the architectures' declared
    options (defaults filled in, values validated); an entry for an unknown architecture
    or with an invalid option is an error naming the entry."""
    from dataclasses import replace

    from calc.conventions import get_convention

    out = []
    for p in entries:
        try:
            get_convention(p.convention)
            out.append(replace(p, resolved=get_arch(p.arch).resolve(p.config)))
        except CalcError as e:
            raise CalcError(f"{p.where}: {e}") from None
    return out


def counted_under(p: Published) -> str:
    """The convention the entry's quantity depends on, or "" (MACs, and params under a
    convention that counts the true params, are the same under every convention)."""
    from calc.conventions import get_convention

    if p.quantity == "flops" or (p.quantity == "params" and get_convention(p.convention).param_rules is not None):
        return p.convention
    return ""


def _skip(exclude_ops: tuple[str, ...], exclude_names: tuple[str, ...]):
    if not (exclude_ops or exclude_names):
        return None
    return lambda c: c.op in exclude_ops or any(s in c.name for s in exclude_names)


def _as_printed(value: Decimal, printed: str, rounding: str, decimals: int | None = None) -> str:
    if decimals is None:
        decimals = len(printed.split(".")[1]) if "." in printed else 0
    step = Decimal(1).scaleb(-decimals)
    mode = {"floor": ROUND_FLOOR, "ceil": ROUND_CEILING, "round": ROUND_HALF_UP}[rounding]
    return str(value.quantize(step, rounding=mode))


def judge(p: Published, build: Callable[[dict[str, Any]], Network],
          analysis: Analysis | None = None) -> dict[str, Any]:
    """Recompute ``p`` (a resolved entry) and give a verdict.  ``build(config)`` builds the
    architecture; ``analysis``, if given, is an analysis of ``p``'s configuration (any
    batch, dtype and convention), reused instead of building it again."""
    config = p.resolved
    if config is None:
        raise RuntimeError(f"{p.where}: published entries must be resolved before they are judged")
    if analysis is None:
        analysis = analyze(build(config))
    elif analysis.config != config:
        raise RuntimeError(f"{p.where}: the analysis is of {analysis.config}, the entry of {config}")
    exact = analysis.per_sample(p.quantity, p.convention)
    scale = Decimal(UNITS[p.unit])
    plain = _as_printed(Decimal(exact) / scale, p.printed, "round")
    printed = Decimal(p.printed) * scale
    result = {
        "arch": p.arch, "config": p.config, "quantity": p.quantity, "convention": p.convention,
        "counted_under": counted_under(p),
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
    skip = _skip(tuple(m.get("exclude_ops", ())), tuple(m.get("exclude_names", ())))
    a = analyze(build({**config, **m["config"]})) if "config" in m else analysis
    value = Decimal(a.per_sample(p.quantity, p.convention, skip))
    if "rho_from_res" in m:
        ref = analyze(build({**config, **m.get("config", {}), "res": m["rho_from_res"]}))
        value = Decimal(ref.per_sample(p.quantity, p.convention, skip)) \
            * (Decimal(config["res"]) / Decimal(m["rho_from_res"])) ** 2
    if m.get("exclude_bias"):
        if p.quantity != "params":
            raise CalcError(f"{p.arch}: exclude_bias applies to params, not {p.quantity}")
        value -= sum(c.param_counts.get("bias", 0) for c in a.layers)
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
