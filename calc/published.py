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
                          which wrongly scales resolution-independent layers;
``shared_per_use: true``  the source stores a shared parameter once per layer that
                          uses it (an importer that gives every layer its own copy).

Memory figures (``param_memory``, ``feature_memory``) are fp32 bytes per sample under the
entry's convention: its params (``[NAME.params]``) and its feature memory
(``[NAME.memory]``), in binary units (KiB, MiB, GiB, TiB).  ``autoscale: true`` says the
source picks the unit by the value's magnitude before it rounds (convnet-burden's
``readableMemory`` and ``readableFlops``: the largest power of 1024, or 1000, that the value
reaches, then ``%.0f``, an exact tie rounded to even): such a number agrees only if calc's
value lands in the printed unit too.

A number that depends on the input image (the regions an image's proposals yield) has the
reason ``input_dependent``: its method states the configuration that reproduces it (``config:
{rois: N}``), and the verdict says it was fitted.  A number no rule reproduces, whose cause is
not known, has the reason ``unexplained`` and stays ``disagrees``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any, Callable

from calc.counting import Analysis, analyze
from calc.errors import CalcError
from calc.graph import Network

UNITS = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
         "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}
#: the units an autoscaling printer chooses among, by base (1000: counts, 1024: bytes)
SCALES = {1000: ("", "k", "M", "G", "T"), 1024: ("", "KiB", "MiB", "GiB", "TiB")}
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
    "input_dependent": "the number depends on the input image (how many regions its proposals yield), which the "
                       "source does not print; the method states the configuration that reproduces it (fitted)",
    "unexplained": "no known rule reproduces it; the explanation says what is known (it stays a disagreement)",
}
UNVERIFIABLE = {"typo", "inconsistent", "nominal", "reimplementation", "unknown_configuration"}
QUANTITIES = ("params", "macs", "flops", "param_memory", "feature_memory")
#: the quantities that are fp32 bytes
MEMORY = ("param_memory", "feature_memory")
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
    #: the source chose the unit by the value's magnitude (see the module docstring)
    autoscale: bool = False
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
                                   "rho_from_res", "config", "shared_per_use"}
        if unknown:
            raise CalcError(f"{where}: unknown method key(s) {', '.join(sorted(unknown))}")
        if p.method.get("rounding", "round") not in ("round", "floor", "ceil"):
            raise CalcError(f"{where}: rounding must be round, floor or ceil")
        if p.reason == "input_dependent" and "config" not in p.method:
            raise CalcError(f"{where}: reason input_dependent needs a method config (the configuration that reproduces it)")
        if p.reason == "unexplained" and p.method:
            raise CalcError(f"{where}: reason unexplained cannot have a method (it would explain it)")
        if (p.quantity in MEMORY) != (p.unit in ("KiB", "MiB", "GiB", "TiB")):
            raise CalcError(f"{where}: {p.quantity} takes {'a binary unit (KiB, MiB, GiB, TiB)' if p.quantity in MEMORY else 'a count unit'}, "
                            f"received {p.unit!r}")
        if p.autoscale and p.unit not in SCALES[1024 if p.quantity in MEMORY else 1000]:
            raise CalcError(f"{where}: autoscale needs one of the units {SCALES[1024 if p.quantity in MEMORY else 1000]}")
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

    conv = get_convention(p.convention)
    if p.quantity == "flops" or (p.quantity in ("params", "param_memory") and conv.param_rules is not None) \
            or (p.quantity == "feature_memory" and conv.memory_rules is not None):
        return p.convention
    return ""


def per_sample(a: Analysis, p: Published, skip=None) -> int:
    """``p``'s quantity for one input of ``a``, under ``p``'s convention; memory as fp32 bytes."""
    if p.quantity == "param_memory":
        return a.per_sample("params", p.convention, skip) * 4
    if p.quantity == "feature_memory":
        if skip is not None:
            raise CalcError(f"{p.where}: exclude_ops and exclude_names do not apply to feature memory")
        return _feature_elements(a, p.convention) * 4
    return a.per_sample(p.quantity, p.convention, skip)


def _feature_elements(a: Analysis, convention: str) -> int:
    """The convention's feature memory, in elements per sample (re-read from ``a`` only when
    ``a`` was counted under it: the memory rules need the graph)."""
    if a.convention.name != convention:
        raise RuntimeError("feature memory is read from an analysis under the entry's own convention")
    return sum(c.convention_activations or 0 for c in a.layers) // a.batch


def _shared_per_use(net: Network, convention: str) -> int:
    """Params under ``convention`` with every use of a shared parameter counted (each layer's
    full ``param_counts``, not less what it reuses)."""
    from calc.conventions import get_convention
    from calc.layers.base import PARAM_KINDS

    conv = get_convention(convention)
    total = 0
    for node in net.layers():
        full = node.layer.param_counts(net.input_shapes(node))
        total += conv.params(node.layer.op, full, sum(full.get(k, 0) for k in PARAM_KINDS))
    return total


def autoscaled(value: Decimal, base: int, rounding: str = "half_even") -> tuple[str, str]:
    """``value`` as an autoscaling printer writes it: the largest unit of ``base`` (1000 or
    1024) the value reaches, then rounded to an integer.  convnet-burden's ``num2str(x, '%.0f')``
    rounds an exact tie to even, as C's printf does: its SSD512 report prints the 36.5 GiB and
    328.5 GiB of the relu4_3 features at 512 and 1536 (batch 128) as "36 GB" and "328 GB"."""
    units = SCALES[base]
    place = 0
    while place + 1 < len(units) and value >= Decimal(base) ** (place + 1):
        place += 1
    return _as_printed(value / Decimal(base) ** place, "0", rounding), units[place]


def _skip(exclude_ops: tuple[str, ...], exclude_names: tuple[str, ...]):
    if not (exclude_ops or exclude_names):
        return None
    return lambda c: c.op in exclude_ops or any(s in c.name for s in exclude_names)


def _as_printed(value: Decimal, printed: str, rounding: str, decimals: int | None = None) -> str:
    if decimals is None:
        decimals = len(printed.split(".")[1]) if "." in printed else 0
    step = Decimal(1).scaleb(-decimals)
    mode = {"floor": ROUND_FLOOR, "ceil": ROUND_CEILING, "round": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN}[rounding]
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
    if p.quantity == "feature_memory" and analysis.convention.name != p.convention:
        analysis = analyze(build(config), convention=p.convention)  # the memory rules need the graph
    exact = per_sample(analysis, p)
    scale = Decimal(UNITS[p.unit])
    plain = _printed_as(Decimal(exact), p, "round")
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
    under = p.convention if p.quantity == "feature_memory" else "macs"
    a = analyze(build({**config, **m["config"]}), convention=under) if "config" in m else analysis
    value = Decimal(per_sample(a, p, skip))
    if m.get("shared_per_use"):
        if p.quantity not in ("params", "param_memory"):
            raise CalcError(f"{p.where}: shared_per_use applies to params, not {p.quantity}")
        value = Decimal(_shared_per_use(build({**config, **m.get("config", {})}), p.convention)
                        * (4 if p.quantity == "param_memory" else 1))
    if "rho_from_res" in m:
        ref = analyze(build({**config, **m.get("config", {}), "res": m["rho_from_res"]}))
        value = Decimal(per_sample(ref, p, skip)) \
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
    by_method = None
    if m and p.autoscale:
        by_method = _printed_as(value, p, m.get("rounding", "round"))
    elif m:
        by_method = _as_printed(value / scale, target, m.get("rounding", "round"), m.get("decimals"))
    if by_method is not None and "decimals" in m and m["decimals"] < 0:
        by_method = str(Decimal(by_method).quantize(Decimal(1)))
        target = str(Decimal(target).quantize(Decimal(1)))
    verdict = "explained" if by_method == target else "disagrees"
    fitted = {"fitted": True} if p.reason == "input_dependent" and verdict == "explained" else {}
    return {**result, "verdict": verdict, "verified": verdict == "explained", "by_method": by_method,
            "compared_to": target, "explanation": p.explanation, **fitted}


def _printed_as(value: Decimal, p: Published, rounding: str) -> str:
    """``value`` (base units) as ``p``'s source prints it: at the printed precision in the
    printed unit, or, autoscaled, the integer in the unit the value reaches ("819 MiB"
    where 1 GiB is printed)."""
    if not p.autoscale:
        return _as_printed(value / Decimal(UNITS[p.unit]), p.printed, rounding)
    digits, unit = autoscaled(value, 1024 if p.quantity in MEMORY else 1000,
                              "half_even" if rounding == "round" else rounding)
    return digits if unit == p.unit else f"{digits} {unit}"


def load(text: str, where: str) -> list[Published]:
    """Published entries from YAML text (a list of mappings)."""
    from calc.datafiles import parse_yaml

    return entries(parse_yaml(text, where), where)


def entries(data: Any, where: str) -> list[Published]:
    """Published entries from parsed data (a list of mappings)."""
    if not isinstance(data, list):
        raise CalcError(f"{where}: expected a list of entries")
    return [Published.from_dict(d, f"{where} entry {i}") for i, d in enumerate(data)]
