"""Receptive fields: what each feature sees of the input, per layer and per axis.

Araujo, Norris and Sim, "Computing Receptive Fields of Convolutional Neural Networks",
Distill 2019 (doi:10.23915/distill.00021).  A feature map's field along one axis is three
numbers: position ``q`` of the map sees input pixels ``[-P + q j, -P + q j + r - 1]``, with
``r`` the receptive field size, ``j`` the jump (effective stride) and ``P`` the effective
padding.  Each layer owns its window (``Layer.rf_window``: kernel ``k``, stride ``s``,
top/left padding ``p``, dilation ``d``); through it the field becomes

    r' = r + d (k - 1) j,    j' = s j,    P' = P + p j,

which, unrolled over a single path of L layers, are the article's closed forms
``r = 1 + sum_l d_l (k_l - 1) prod_{i<l} s_i``, ``j = prod_l s_l`` and
``P = sum_l p_l prod_{i<l} s_i``.  The pass runs forward in graph order, so every layer's
field comes out of one sweep, and it is the same at every position: the field of each
layer in the table is the field of its position 0 (and, shifted by ``j``, of any other).

A join (Add, Concat, Mul) sees the union of its inputs' fields.  Where the inputs agree
in jump the union is again a field of this form, ``[min start, max end]``; where their
centres also agree the paths are *aligned* (the article's condition), and otherwise the
report says they are not, and where.  Where the jumps differ, the union is not the same
at every position: calc reports the tightest field of the form that contains it at every
position of the map, and marks it not aligned and not exact.  A ``(C, 1, 1)`` gate
broadcast over a map (squeeze-and-excitation) is the same input at every position.

A layer whose window is ``whole`` (global pooling, a fully connected layer; a fixed
window that covers its whole input map in one position) sees the union of all its
input's positions: the input pixels that map reads (``Field.reads``), with no jump.  That
is the whole input unless floor-mode layers leave a bottom/right border unread
(SqueezeNet 1.1's unpadded 3x3/s2 stem: 223 of 224 rows).
Fields are integers unless a layer reads its input at a fractional step (see
:class:`~calc.layers.spatial.RFWindow`): then they are Fractions, and a bound (``exact`` is
False): the pixels a position sees are among the integers inside its interval.
"""
from __future__ import annotations

from fractions import Fraction
from math import ceil, floor
from typing import Any, NamedTuple

from calc.graph import INPUT, Network, Node
from calc.layers.spatial import IDENTITY, Num, RFWindow

AXES = ("H", "W")


class Axis(NamedTuple):
    """The field along one axis: position ``q`` sees ``[-padding + q jump, ... + rf - 1]``.
    ``jump`` is None for a field that is the whole input (one position)."""

    rf: Num
    jump: Num | None
    padding: Num

    @property
    def start(self) -> Num:
        return -self.padding

    @property
    def end(self) -> Num:
        return self.rf - 1 - self.padding


class Field(NamedTuple):
    """A layer's receptive field: per axis, on a map of ``grid`` positions.

    ``reads``: per axis, the first and last input pixel that some position of the map reads
    (floor-mode layers can leave a bottom/right border unread, and a field that runs past the
    image sees only up to there; where dilated or strided windows skip border pixels, a
    bound).  ``aligned``: every path to it agrees in jump and centre;
    ``exact``: the numbers are the field, not a bound of it; ``note``: what this layer did to
    the field; ``since``: the layer that made it the whole input, or else the first layer on
    its paths that made it not aligned or not exact."""

    h: Axis
    w: Axis
    grid: tuple[int, int]
    reads: tuple[tuple[int, int], tuple[int, int]]
    aligned: bool = True
    exact: bool = True
    note: str | None = None
    since: str | None = None

    @property
    def axes(self) -> tuple[Axis, Axis]:
        return (self.h, self.w)

    @property
    def whole(self) -> bool:
        return self.h.jump is None

    def at(self, h: int, w: int) -> tuple[tuple[Num, Num], tuple[Num, Num]]:
        """The field of position ``(h, w)``: its first and last row and column, in input pixels
        (padding included: they may lie outside the image)."""
        return tuple((a.start + q * (a.jump or 0), a.end + q * (a.jump or 0))
                     for a, q in zip(self.axes, (h, w)))

    def pixels(self, h: int, w: int) -> tuple[tuple[int, int], tuple[int, int]]:
        """The image rows and columns (first, last) position ``(h, w)`` can see: its field
        clipped to the pixels the map reads."""
        return tuple((max(ceil(lo), r[0]), min(floor(hi), r[1])) for (lo, hi), r in zip(self.at(h, w), self.reads))


class ReceptiveFields:
    """Every layer's field (None where a layer has no closed form, with the reason in
    ``unknown``); ``output``: the last spatial feature map before any global pool or flatten,
    on the output's path; ``final``: the network's output layer."""

    __slots__ = ("input_hw", "fields", "unknown", "output", "final")

    def __init__(self, input_hw: tuple[int, int], fields: dict[str, Field | None], unknown: dict[str, str],
                 output: str | None, final: str | None) -> None:
        self.input_hw, self.fields, self.unknown, self.output, self.final = input_hw, fields, unknown, output, final

    def __getitem__(self, name: str) -> Field | None:
        return self.fields[name]

    def layer_json(self, name: str) -> dict[str, Any]:
        """``receptive_field``, ``jump``, ``rf_padding`` ([h, w]; jump null for a field that
        is the whole input), ``rf_aligned`` and ``rf_note``: the keys of a JSON layer."""
        f = self.fields[name]
        if f is None:
            return {"receptive_field": None, "jump": None, "rf_padding": None, "rf_aligned": None,
                    "rf_note": self.unknown[name]}
        return {"receptive_field": [number(a.rf) for a in f.axes],
                "jump": None if f.whole else [number(a.jump) for a in f.axes],
                "rf_padding": [number(a.padding) for a in f.axes],
                "rf_aligned": f.aligned, "rf_note": self.note(name)}

    def note(self, name: str) -> str | None:
        f = self.fields[name]
        if f is None:
            return self.unknown[name]
        if f.note:
            return f.note
        if f.since and f.since != name:
            what = "the whole input" if f.whole else "not aligned" if not f.aligned else "a bound"
            return f"{what}: inherited from {f.since}"
        return None

    def summary(self) -> dict[str, Any] | None:
        """The JSON top level's ``receptive_field``: {layer, rf, jump, padding, aligned,
        exact, note} of :attr:`output`, or None for a network with no spatial map."""
        if self.output is None:
            return None
        d = self.layer_json(self.output)
        f = self.fields[self.output]
        return {"layer": self.output, "rf": d["receptive_field"], "jump": d["jump"],
                "padding": d["rf_padding"], "aligned": d["rf_aligned"],
                "exact": None if f is None else f.exact, "note": d["rf_note"],
                "before_head": self.output != self.final}

    def cells(self, name: str) -> dict[str, str]:
        """``rf``, ``jump`` and ``rf_padding`` as short text (``212``, or ``7x1`` where the
        axes differ; jump ``whole`` for the whole input; ``?`` where unknown)."""
        f = self.fields.get(name)
        if f is None:
            return {"rf": "?", "jump": "?", "rf_padding": "?"}
        return {"rf": pair_text(f.h.rf, f.w.rf),
                "jump": "whole" if f.whole else pair_text(f.h.jump, f.w.jump),
                "rf_padding": pair_text(f.h.padding, f.w.padding)}


def number(v: Num) -> int | float:
    """A JSON number: an int where the value is integral."""
    if isinstance(v, Fraction):
        return int(v) if v.denominator == 1 else float(v)
    return v


def num_text(v: Num) -> str:
    return str(v)  # ints as ints, Fractions as 1/2


def pair_text(h: Num, w: Num) -> str:
    return num_text(h) if h == w else f"{num_text(h)}x{num_text(w)}"


# ---------------------------------------------------------------------------
# The pass


def receptive_fields(net: Network) -> ReceptiveFields:
    """Every layer's receptive field on ``net``'s input, in one forward sweep."""
    hw = net.input_shape[1:]
    one = Axis(1, 1, 0)
    fields: dict[str, Field | None] = {INPUT: Field(one, one, hw, ((0, hw[0] - 1), (0, hw[1] - 1)))}
    unknown: dict[str, str] = {}
    for node in net.layers():
        read = [s for i, s in enumerate(node.inputs) if i not in node.layer.shape_only_inputs]
        ins = [fields[s] for s in read]
        if not read:  # its inputs give it their sizes only (prior boxes): no pixels behind it
            fields[node.name] = None
            unknown[node.name] = f"{node.layer.op} reads its inputs' sizes only (at {node.name})"
            continue
        if any(f is None for f in ins):
            fields[node.name] = None
            unknown[node.name] = next(unknown[s] for s in read if fields[s] is None)
            continue
        window = node.layer.rf_window([net[s].shape for s in node.inputs])
        shapes = [net[s].shape for s in read]
        f = ins[0]
        if window is IDENTITY and len(ins) == 1 and (len(node.shape) != 3 or f.whole or node.shape[1:] == f.grid):
            fields[node.name] = f  # element-wise layers and views: the field of their input
        elif window is None:
            fields[node.name] = None
            unknown[node.name] = f"no receptive-field rule for {node.layer.op} (at {node.name})"
        elif window.whole or _covers_all(window, shapes[0], node.shape) or any(f.whole for f in ins):
            fields[node.name] = _whole(node.name, window, ins, hw)
        else:
            grid = node.shape[1:] if len(node.shape) == 3 else f.grid
            fields[node.name] = _step(node.name, window, ins, shapes, node.shape, grid)
    return ReceptiveFields(hw, fields, unknown, _feature_output(net, fields), net.output)


def _spatial(shape) -> tuple[int, int] | None:
    return tuple(shape[1:]) if len(shape) == 3 else None


def _covers_all(window: RFWindow, shape_in, shape_out) -> bool:
    """A fixed window whose one output position covers its whole input map (``nn.AvgPool2d(7)``
    on a 7x7 map): a global pool."""
    hw_in, hw_out = _spatial(shape_in), _spatial(shape_out)
    if hw_in is None or hw_out != (1, 1) or hw_in == (1, 1):
        return False
    return all(p >= 0 and span - 1 - p >= n - 1
               for p, span, n in zip(window.padding, window.span, hw_in))


def _through(window: RFWindow, f: Field) -> tuple[Axis, Axis]:
    """The article's recurrence, per axis."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = window.kernel, window.stride, window.padding, window.dilation
    h, w = f.h, f.w
    return (Axis(h.rf + dh * (kh - 1) * h.jump, h.jump * sh, h.padding + ph * h.jump),
            Axis(w.rf + dw * (kw - 1) * w.jump, w.jump * sw, w.padding + pw * w.jump))


def _step(name: str, window: RFWindow, ins: list[Field], shapes, shape, grid) -> Field:
    reads = _reads(window, ins, shapes, shape)
    if len(ins) == 1:
        f = ins[0]
        h, w = _through(window, f)
        aligned, exact = f.aligned and window.exact, f.exact and _exact(window)
        since = f.since or (None if aligned and exact else name)
        return Field(h, w, grid, reads, aligned, exact, window.note, since)
    mapped = [_through(window, f) for f in ins]
    (h, w), join_aligned, join_exact, join_note = _union(mapped, shapes, grid)
    aligned = all(f.aligned for f in ins) and window.exact and join_aligned
    exact = all(f.exact for f in ins) and join_exact and _exact(window)
    since = next((f.since for f in ins if f.since), None) or (None if aligned and exact else name)
    return Field(h, w, grid, reads, aligned, exact, window.note or join_note, since)


def _read_span(n_in: int, n_out: int, k: int, s: int, p: int, d: int) -> tuple[int, int] | None:
    """The first and last input position (of ``n_in``) that some output position (of
    ``n_out``) reads: output o reads ``o s - p + d t``, t = 0 .. k - 1."""
    lo = hi = None
    for t in range(k):
        off = d * t - p
        o = max(0, -(off // s))  # the first o with o s + off >= 0
        if o < n_out and 0 <= o * s + off < n_in:
            lo = o * s + off if lo is None else min(lo, o * s + off)
        o = min(n_out - 1, (n_in - 1 - off) // s)  # the last o with o s + off < n_in
        if o >= 0 and 0 <= o * s + off < n_in:
            hi = o * s + off if hi is None else max(hi, o * s + off)
    return None if lo is None else (lo, hi)


def _reads(window: RFWindow, ins: list[Field], shapes, shape) -> tuple[tuple[int, int], tuple[int, int]]:
    """The input pixels (first, last) the map reads, per axis: those its inputs' read positions
    see (a window's first position that is not its input's first sees from its field's start,
    or from what that input reads, whichever is later; likewise at the end)."""
    out = []
    for i in range(2):
        lo = hi = None
        for f, s_in in zip(ins, shapes):
            r = f.reads[i]
            values = (window.kernel[i], window.stride[i], window.padding[i])
            if values != (1, 1, 0) and len(s_in) == 3 and all(type(v) is int for v in values):
                n_in = s_in[1 + i]
                span = _read_span(n_in, shape[1 + i], *values, window.dilation[i])
                if span is not None:
                    a = f.axes[i]
                    first, last = span
                    r = (r[0] if first == 0 else max(r[0], ceil(a.start + first * a.jump)),
                         r[1] if last == n_in - 1 else min(r[1], floor(a.end + last * a.jump)))
            lo = r[0] if lo is None else min(lo, r[0])
            hi = r[1] if hi is None else max(hi, r[1])
        out.append((lo, hi))
    return out[0], out[1]


def _exact(window: RFWindow) -> bool:
    """An exact window of whole pixels keeps a field exact (whole-pixel fields stay ints); a
    window with a fractional step gives a bound (each layer rounds to pixels, the composed
    interval does not)."""
    return window.exact and all(type(v) is int for v in (*window.kernel, *window.stride, *window.padding))


def _union(mapped: list[tuple[Axis, Axis]], shapes, grid) -> tuple[tuple[Axis, Axis], bool, bool, str | None]:
    """The union of the inputs' fields, per axis: (axes, aligned, exact, note)."""
    out, aligned, exact, notes = [], True, True, []
    for i, (label, n) in enumerate(zip(AXES, grid)):
        axes = []
        for m, shape in zip(mapped, shapes):
            a = m[i]
            hw = _spatial(shape)
            if n > 1 and (hw is None or hw[i] == 1):  # a broadcast gate: one position for all
                a = Axis(a.rf, 0, a.padding)
            axes.append(a)
        jumps = sorted({a.jump for a in axes})
        if len(jumps) == 1:
            lo, hi = min(a.start for a in axes), max(a.end for a in axes)
            centres = sorted({a.start + a.end for a in axes})  # twice the centre
            if len(centres) > 1:
                aligned = False
                notes.append(f"along {label} the paths' centres differ "
                             f"({', '.join(num_text(Fraction(c, 2)) for c in centres)} px)")
            out.append(Axis(hi - lo + 1, jumps[0], -lo))
            continue
        # jumps differ: position q of input i sees [a_i + q j_i, b_i + q j_i]; the tightest
        # [A + q J, B + q J] containing all of them for q = 0 .. n - 1 (a linear bound is
        # tightest at the ends)
        aligned = exact = False
        big = jumps[-1]
        lo = min(min(a.start, a.start + (n - 1) * (a.jump - big)) for a in axes)
        hi = max(max(a.end, a.end + (n - 1) * (a.jump - big)) for a in axes)
        notes.append(f"along {label} the paths' jumps differ ({', '.join(num_text(j) for j in jumps)}): "
                     f"the field of their union varies with the position; this bounds it")
        out.append(Axis(hi - lo + 1, big, -lo))
    note = f"not aligned: {'; '.join(notes)}" if notes else None
    return (out[0], out[1]), aligned, exact, note


def _whole(name: str, window: RFWindow, ins: list[Field], hw: tuple[int, int]) -> Field:
    """A field that is one position: the union of every position its inputs see, which is
    the pixels they read."""
    extents = [f.reads for f in ins]
    axes = [Axis(hi - lo + 1, None, -lo) for lo, hi in
            ((min(e[i][0] for e in extents), max(e[i][1] for e in extents)) for i in range(2))]
    exact = all(f.exact for f in ins) and window.exact
    note = None
    if not all(f.whole for f in ins):  # this layer makes it whole
        if all(a.start == 0 and a.rf == size for a, size in zip(axes, hw)):
            note = "the whole input"
        else:
            note = (f"input rows {axes[0].start}..{axes[0].end}, columns {axes[1].start}..{axes[1].end}: "
                    f"the union of every position's field")
        if any(f.whole for f in ins):
            note += " (a path through a global pool joins here)"
    since = next((f.since for f in ins if f.whole), name)
    extent = tuple((a.start, a.end) for a in axes)
    return Field(axes[0], axes[1], (1, 1), extent, True, exact, note, since)


def _collapses(net: Network, node: Node) -> bool:
    """A global pool or a fully connected layer: it maps a map to one position."""
    if len(node.shape) != 3:
        return True
    shapes = net.input_shapes(node)
    window = node.layer.rf_window(shapes)
    return window is not None and (window.whole or _covers_all(window, shapes[0], node.shape))


def _feature_output(net: Network, fields: dict[str, Field | None]) -> str | None:
    """The last spatial feature map before any global pool or flatten: walking back from the
    output along first inputs (the trunk), the first layer that outputs a map, does not
    collapse one, and is not a one-position map that sees the whole input (a layer after the
    global pool)."""
    name = net.output
    while name != INPUT:
        node = net[name]
        f = fields[name]
        after_pool = node.shape[1:] == (1, 1) and f is not None and f.whole
        if not (_collapses(net, node) or after_pool):
            return name
        name = node.inputs[0]
    return None
