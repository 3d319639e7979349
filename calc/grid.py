"""Counting a grid of configurations fast, and exactly: the engine of ``calc sweep``.

A sweep varies an architecture's options.  Most of them change the structure (a width
multiplier changes every channel count), so each of their combinations is built once.
One kind does not: an option that is only the input's spatial size (``res``, a side or
``HxW``: :attr:`~calc.registry.Option.input_only`).  For those, one structure serves every value,
and :func:`evaluate` counts all of them at once by running the layers' own closed forms
(``output_shape``, ``counts``, ``param_counts``: the formulas ``calc arch`` uses) on
*symbolic* sizes: the input's heights and widths are a symbol each (one symbol when every
point is square), each distinct spatial size is a symbol holding the numpy array of its
values over the grid, and every count is an integer polynomial in those symbols (a conv's
MACs are ``C_out x C_in/g x kh x kw x h x w``), built with Python ints and evaluated on
the arrays once at the end.  A closed form that is not arithmetic (a window formula, a
gcd) maps a symbol's values to a new symbol.

Exactness is not traded for speed:

* a point the symbolic path cannot vouch for (a feature map vanishes, the inputs of a join
  disagree) is counted on its own, the ordinary way, which also gives its exact error;
* the arrays are int64 only when a bound on every number at the largest point leaves a
  wide margin; otherwise they hold Python ints;
* an input-size option is trusted to change nothing but the input only when nothing says
  otherwise: a built-in declares it (and tests check every built-in at many sizes), a
  builder that reads a spatial size to choose a layer's fields says so
  (:meth:`~calc.graph.Network.spatial_size`), and a spec file's build records every
  parameter its layers read.
"""
from __future__ import annotations

import itertools
from typing import Any, Callable, Iterable, Iterator, Sequence

from calc.counting import TOTAL_KEYS, check_batch, in_place_inputs
from calc.counting import totals as count_totals
from calc.dtypes import dtype_bytes
from calc.errors import CalcError
from calc.graph import INPUT, Network
from calc.layers.base import PARAM_KINDS, numel
from calc.memory import peak_live
from calc.resolution import sides as res_sides

#: int64 arrays are used only while the bound on every number stays below this
SAFE = 2**59


class _NotVectorizable(Exception):
    """The structure cannot be counted symbolically (a closed form branches on a size)."""


class Sizes:
    """The symbols of one evaluation: each distinct spatial size (an array of values over
    the grid) is a symbol, interned by value, so equal sizes share one symbol."""

    def __init__(self):
        self.arrays: list[Any] = []  # int64: sizes are small; polynomials are evaluated safely
        self.top: list[int] = []  # each symbol's largest value
        self.by_value: dict[bytes, Poly] = {}
        self.mapped: dict[tuple, Any] = {}  # (poly terms, formula key) -> its result

    def release(self) -> None:
        """Drop the arrays and the interned polynomials (which refer back to this object)."""
        self.arrays, self.top = [], []
        self.by_value.clear()
        self.mapped.clear()

    def symbol(self, values) -> "Poly":
        import numpy as np

        values = np.asarray(values, dtype=np.int64)
        key = values.tobytes()
        found = self.by_value.get(key)
        if found is None:
            self.arrays.append(values)
            self.top.append(max(int(values.max()), 0))
            found = self.by_value[key] = Poly(self, {(len(self.arrays) - 1,): 1})
        return found

    def bound(self, p: Any) -> int:
        """The largest magnitude any term of ``p`` reaches on the grid (sizes are >= 0, so a
        monomial is largest where each of its symbols is), exactly, with Python ints."""
        if isinstance(p, int):
            return abs(p)
        total = 0
        for mono, coef in p.terms.items():
            term = abs(coef)
            for i in mono:
                term *= self.top[i]
            total += term
        return total

    def value(self, p: Any):
        """``p`` (a Poly or an int) on the grid: an int64 array, or an array of Python ints
        where int64 could overflow."""
        import numpy as np

        n = len(self.arrays[0])
        if isinstance(p, int):
            return np.full(n, p, dtype=np.int64 if abs(p) < SAFE else object)
        exact = self.bound(p) >= SAFE
        total = 0
        for mono, coef in p.terms.items():
            term = coef
            for i in mono:
                term = term * (self.arrays[i].astype(object) if exact else self.arrays[i])
            total = total + term
        return np.full(n, total, dtype=np.int64 if abs(total) < SAFE else object) if isinstance(total, int) else total


class Poly:
    """An integer polynomial in the size symbols of a :class:`Sizes` (terms: monomial, a
    sorted tuple of symbol indices, -> coefficient).  It supports the arithmetic the
    closed forms use; anything that would branch on its value raises ``TypeError``."""

    __slots__ = ("sizes", "terms")

    def __init__(self, sizes: Sizes, terms: dict[tuple[int, ...], int]):
        self.sizes, self.terms = sizes, terms

    def _make(self, terms: dict) -> "Poly | int":
        if len(terms) == 1 and () in terms:
            return terms[()]
        return Poly(self.sizes, terms) if terms else 0

    def __add__(self, other):
        out = dict(self.terms)
        if isinstance(other, Poly):
            for m, c in other.terms.items():
                c = out.get(m, 0) + c
                if c:
                    out[m] = c
                else:
                    del out[m]
        elif isinstance(other, int) and not isinstance(other, bool):
            if other:
                c = out.get((), 0) + other
                if c:
                    out[()] = c
                else:
                    del out[()]
        else:
            raise TypeError(f"cannot add {other!r} to a symbolic size")
        return self._make(out)

    __radd__ = __add__

    def __neg__(self):
        return Poly(self.sizes, {m: -c for m, c in self.terms.items()})

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return (-self) + other

    def __mul__(self, other):
        if type(other) is int:
            if other == 1:
                return self
            if not other:
                return 0
            terms = self.terms
            if len(terms) == 1:  # a monomial: the common case
                (m, c), = terms.items()
                return Poly(self.sizes, {m: c * other})
            return Poly(self.sizes, {m: c * other for m, c in terms.items()})
        if not isinstance(other, Poly):
            raise TypeError(f"cannot multiply a symbolic size by {other!r}")
        if len(self.terms) == 1 and len(other.terms) == 1:  # monomial x monomial: the common case
            (m1, c1), = self.terms.items()
            (m2, c2), = other.terms.items()
            m = m1 + m2 if not m1 or not m2 or m1[-1] <= m2[0] else tuple(sorted(m1 + m2))
            return self._make({m: c1 * c2})
        out: dict[tuple[int, ...], int] = {}
        for m1, c1 in self.terms.items():
            for m2, c2 in other.terms.items():
                m = tuple(sorted(m1 + m2)) if m1 and m2 else m1 or m2
                out[m] = out.get(m, 0) + c1 * c2
        return self._make({m: c for m, c in out.items() if c})

    __rmul__ = __mul__

    def __floordiv__(self, other):
        if isinstance(other, int) and other and all(c % other == 0 for c in self.terms.values()):
            return self._make({m: c // other for m, c in self.terms.items()})
        raise TypeError("a symbolic size divided inexactly")

    def __bool__(self):
        raise TypeError("a symbolic size has no single truth value")

    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __mod__ = __rfloordiv__ = __bool__  # type: ignore
    __hash__ = object.__hash__

    def map(self, fn, key: tuple | None = None) -> "Poly | int":
        """A new size whose values are ``fn`` of this one's (a window formula, a gcd);
        ``key`` names the formula, so a size mapped the same way twice is mapped once."""
        sizes = self.sizes
        cache_key = None if key is None else (tuple(sorted(self.terms.items())), key)
        found = sizes.mapped.get(cache_key) if cache_key else None
        if found is None:
            mono = next(iter(self.terms.items())) if len(self.terms) == 1 else None
            values = sizes.arrays[mono[0][0]] if mono and mono[1] == 1 and len(mono[0]) == 1 \
                else sizes.value(self)
            found = sizes.symbol(fn(values))
            if cache_key:
                sizes.mapped[cache_key] = found
        return found


def evaluate(net: Network, sizes: Sequence[Any], *, batch: int = 1, dtype: str = "fp32",
             convention: Any = "macs") -> list[dict[str, int] | None]:
    """The totals of :func:`calc.counting.analyze` for ``net``'s structure with an input of
    each resolution in ``sizes`` (a side, square, or an ``HW``; ``None`` for a point this path
    cannot vouch for: count it on its own).  The heights and the widths are a symbol each
    (one and the same symbol when every point is square).  ``net`` must be a structure that
    does not depend on its input size (see the module docstring)."""
    return evaluate_batches(net, sizes, [batch], dtype=dtype, convention=convention)[0]


def evaluate_batches(net: Network, sizes: Sequence[Any], batches: Sequence[int], *, dtype: str = "fp32",
                     convention: Any = "macs") -> list[list[dict[str, int] | None]]:
    """:func:`evaluate` for each batch size of ``batches``: the polynomials are built once and
    evaluated at every batch (every total is a polynomial in the sizes times the batch, the
    parameters' part of the traffic excepted)."""
    import numpy as np

    from calc.counting import _convention

    conv = _convention(convention)
    if not sizes:
        return [[] for _ in batches]
    for b in batches:
        check_batch(b)
    symbols = Sizes()
    hs, ws = zip(*(res_sides(v) for v in sizes))
    try:
        found = _totals(net, symbols, (symbols.symbol(list(hs)), symbols.symbol(list(ws))), batches, dtype, conv)
        columns = [{k: f[k].tolist() for k in TOTAL_KEYS} for f in found]
        invalid = np.zeros(len(sizes), dtype=bool)
        for values in symbols.arrays:
            invalid |= np.asarray(values <= 0, dtype=bool)
    except (_NotVectorizable, TypeError):
        return [[None] * len(sizes) for _ in batches]
    finally:
        # the symbols and their polynomials refer to each other: a cycle the collector would
        # free only at its next full pass, holding every symbol's array until then (a sweep's
        # peak memory grew with its length)
        symbols.release()
    bad = invalid.tolist()
    return [[None if bad[i] else {k: int(c[k][i]) for k in TOTAL_KEYS} for i in range(len(sizes))]
            for c in columns]


def _totals(net: Network, symbols: Sizes, hw: tuple[Poly, Poly], batches: Sequence[int], dtype: str,
            conv) -> list[dict[str, Any]]:
    """The totals of ``net`` with an input of height and width ``hw`` (symbols), as arrays,
    for each batch size of ``batches``."""
    import numpy as np

    from calc.errors import ShapeError

    width = dtype_bytes(dtype)
    shapes: dict[str, tuple] = {INPUT: (net.input_shape[0], *hw)}
    elems: dict[str, Any] = {INPUT: numel(shapes[INPUT])}
    total = {k: {} for k in ("params", "macs", "flops", "activations", "moved", "moved_params",
                             "convention_params", "convention_activations")}
    in_place_ok = in_place_inputs(net) if conv.memory_rules is not None else None

    def add(key: str, p: Any) -> None:
        acc = total[key]
        if type(p) is not Poly:  # a number
            acc[()] = acc.get((), 0) + p
            return
        for m, c in p.terms.items():
            acc[m] = acc.get(m, 0) + c

    weights: dict[tuple[str, str], tuple] = {}  # the convention's weights of each op, looked up once

    for node in net.layers():
        layer = node.layer
        ins = [shapes[s] for s in node.inputs]
        try:
            out = layer.output_shape(ins)
            full_counts = layer.param_counts(ins)
            param_counts = node.own_param_counts(full_counts)
            counts = {} if node.train_only else layer.counts(ins, out)
        except ShapeError as e:  # e.g. the inputs of a join differ at some of the sizes
            raise _NotVectorizable(f"{node.name}: {e}") from None
        n = elems[node.inputs[0]] if out is ins[0] else numel(out)
        shapes[node.name] = out
        elems[node.name] = n
        params = 0
        if param_counts:
            for k in PARAM_KINDS:
                v = param_counts.get(k, 0)
                if not (isinstance(v, int) and v == 0):
                    params = params + v
            add("params", params)
        if conv.param_rules is not None:
            add("convention_params", conv.params(layer.op, param_counts, params))
        if node.train_only:
            continue
        if "macs" in counts:
            add("macs", counts["macs"])
        key = (layer.op, layer.impl)
        rule = weights.get(key)
        if rule is None:
            rule = weights[key] = tuple(conv.weights(*key).items())
        for q, w in rule:
            v = counts.get(q, 0)
            if not (isinstance(v, int) and v == 0):
                add("flops", v * w)
        add("activations", n)
        if in_place_ok is not None:
            add("convention_activations", n * conv.output_weight(layer.op, node.name in in_place_ok))
        if not layer.aliases_input:
            for i, s in enumerate(node.inputs):
                if i not in layer.shape_only_inputs:
                    add("moved", elems[s])
            add("moved", n)
            add("moved_params", params if node.shares is None else sum(full_counts.get(k, 0) for k in PARAM_KINDS))
    if conv.param_rules is None:
        total["convention_params"] = total["params"]
    if in_place_ok is None:
        total["convention_activations"] = total["activations"]
    polys = {k: Poly(symbols, {m: c for m, c in v.items() if c}) for k, v in total.items()}
    cache: dict[int, Any] = {}
    big = sum(symbols.bound(p) for p in elems.values()) * max(batches) * width >= SAFE

    def size_of(node) -> Any:
        p = elems[node.name]
        if id(p) not in cache:
            v = symbols.value(p)
            cache[id(p)] = v.astype(object) if big else v
        return cache[id(p)]

    peak = peak_live(net, size_of, np.maximum)  # elements per sample, at every size
    found = []
    for batch in batches:
        # scale each polynomial by the batch and the element width before evaluating it, so
        # the overflow bound covers the numbers printed
        scaled = {"params": ("params", 1), "param_memory_bytes": ("params", width), "macs": ("macs", batch),
                  "flops": ("flops", batch), "activations": ("activations", batch),
                  "feature_memory_bytes": ("activations", batch * width),
                  "convention_params": ("convention_params", 1),
                  "convention_feature_memory_bytes": ("convention_activations", batch * width)}
        out = {key: symbols.value(polys[k] * f) for key, (k, f) in scaled.items()}
        out["memory_traffic_bytes"] = symbols.value(polys["moved"] * (batch * width) + polys["moved_params"] * width)
        out["peak_memory_bytes"] = peak * (batch * width)
        found.append(out)
    return found


# ---------------------------------------------------------------------------
# A sweep


def sweep(arch: Any, axes: dict[str, list[Any]], *, batch: int | Sequence[int] = 1, dtype: str = "fp32",
          convention: Any = "macs",
          per_point: Callable[[Network, dict[str, int], int], dict[str, Any]] | None = None,
          count: Callable[[Network, int], dict[str, Any]] | None = None,
          ) -> Iterator[dict[str, Any]]:
    """Rows of ``{option: value, ..., total: int, ...}`` (or ``error``) for every point of the
    grid ``axes`` (option -> validated values), streamed: the points of one structure at a
    time.  An input-size option (the last such in ``axes``) varies fastest and is counted
    with :func:`evaluate`.  ``batch``: one batch size, or a list of them, each a point of the
    grid (the rows then carry ``batch``, after the structure's options and before the input
    size: one structure's polynomials serve every batch).  ``per_point(net, totals, batch)``
    adds to a row (e.g. a latency estimate) and ``count(net, batch)`` replaces its totals
    (e.g. a training step's); either forces the ordinary path, which builds every point."""
    batches = [batch] if isinstance(batch, int) else list(batch)
    with_batch = not isinstance(batch, int)
    keys = list(axes)
    vector = next((k for k in keys if varies_fastest(arch, axes, k)), None)
    outer = [k for k in keys if k != vector]
    for combo in itertools.product(*(axes[k] for k in outer)):
        fixed = dict(zip(outer, combo))
        if vector is None:
            for b in batches:
                yield _one(arch, fixed, b, dtype, convention, per_point, count, with_batch)
            continue
        values = axes[vector]
        by_batch = [[None] * len(values)] * len(batches) if per_point is not None or count is not None else \
            _vectorized(arch, fixed, vector, values, batches, dtype, convention)
        for b, rows in zip(batches, by_batch):
            for v, totals in zip(values, rows):
                point = {**fixed, vector: v}
                if totals is None:
                    yield _one(arch, point, b, dtype, convention, per_point, count, with_batch)
                else:
                    yield {**fixed, **({"batch": b} if with_batch else {}), vector: v, **totals}


def varies_fastest(arch: Any, axes: dict[str, list[Any]], key: str) -> bool:
    """Whether ``key`` is the option a sweep of ``axes`` counts all at once (and so walks
    innermost): the last input-size option with more than one value."""
    found = [k for k in axes if arch.option(k).input_only and len(axes[k]) > 1]
    return bool(found) and found[-1] == key


def _vectorized(arch, fixed: dict, key: str, values: list[Any], batches: list[int], dtype, convention) -> list:
    """Totals for each batch and each value of the input-size option ``key`` on one
    structure (a list per batch), or None where the point must be counted on its own."""
    # the structure is built once, at the resolution least likely to vanish
    v = max(values, key=lambda r: (min(res_sides(r)), res_sides(r)))
    each = [[None] * len(values) for _ in batches]
    try:
        ref = arch.build(**fixed, **{key: v})
    except CalcError:
        return each
    if ref.reads_spatial or (ref.read_options is not None and key in ref.read_options):
        return each
    if ref.input_shape[1:] != res_sides(v):  # the option is not the input's size after all
        return each
    return evaluate_batches(ref, values, batches, dtype=dtype, convention=convention)


def with_batch_key(arch: Any, keys: list[str]) -> list[str]:
    """``keys`` (options, in row order) with ``batch`` among them: after the structure's
    options, before the last input-size option (as a sweep's rows carry it)."""
    sizes = [k for k in keys if arch.option(k).input_only]
    at = keys.index(sizes[-1]) if sizes else len(keys)
    return [*keys[:at], "batch", *keys[at:]]


def _one(arch, point: dict, batch: int, dtype, convention, per_point, count=None,
         with_batch: bool = False) -> dict[str, Any]:
    """One point counted the ordinary way (build, analyze, or ``count``): its totals, or the
    error that makes the network impossible at that point (a map that vanishes, a join whose
    inputs differ there): a property of the point, reported in its row (which carries the
    batch when ``with_batch``)."""
    keys = with_batch_key(arch, list(point)) if with_batch else list(point)
    head = {k: batch if k == "batch" else point[k] for k in keys}
    try:
        net = arch.build(**point)
        totals = count(net, batch) if count is not None else count_totals(net, batch=batch, dtype=dtype,
                                                                          convention=convention)
    except CalcError as e:
        return {**head, "error": str(e)}
    row = {**head, **totals}
    if per_point is not None:
        row.update(per_point(net, totals, batch))
    return row


def count_points(axes: dict[str, Iterable[Any]]) -> int:
    n = 1
    for v in axes.values():
        n *= len(list(v))
    return n
