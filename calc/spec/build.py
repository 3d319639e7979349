"""Building a :class:`~calc.graph.Network` from a parsed spec file.

Three steps:

1. **expand** the items into a flat list of entries, in file order: layers,
   and *aliases* (a block use, repeat or stage table names its last layer).
   Repeat counts are computed here, so they may not depend on shapes.  Every
   reference keeps the names it may mean (``stage1.block0.dw`` inside that
   block, then ``dw`` outside) and the first one defined wins;
2. **check** the references: undefined names, then (only when some reference
   points forward) a cycle, found with networkx, or the forward reference;
3. **build** in file order: conditions, then fields (expressions may read
   earlier layers' shapes), then the pydantic model and ``Network.add``, which
   infers the shape.  A skipped layer passes its first input through.
"""
from __future__ import annotations

from collections import ChainMap
from typing import Any

from pydantic import ValidationError

from calc.errors import CalcError, did_you_mean
from calc.graph import INPUT, Network
from calc.layers import LAYER_TYPES, Layer
from calc.resolution import HW
from calc.spec import expr
from calc.spec.read import MAX_DEPTH, MAX_LAYERS, MAX_VALUE, Block, LayerItem, Spec, UseItem, _short

_MISSING = object()


class Ref:
    """A name as written (``text``) and the full names it may mean, innermost first."""

    __slots__ = ("text", "candidates", "target")

    def __init__(self, text: str, candidates: tuple[str, ...]):
        self.text = text
        self.candidates = candidates
        self.target: str | None = None

    def resolve(self, index: dict[str, int]) -> str | None:
        if self.target is None:
            for c in self.candidates:
                if c == INPUT or c in index:
                    self.target = c
                    break
        return self.target


class Thunk:
    """A value computed on first use, in the scope where it was written (a block
    argument, so that ``c: "${channels('in') * t}"`` is read when a layer needs it)."""

    __slots__ = ("raw", "scope", "where", "busy", "done", "value")

    def __init__(self, raw: Any, scope: "Scope", where: str):
        self.raw, self.scope, self.where = raw, scope, where
        self.busy = self.done = False
        self.value: Any = None

    def force(self, b: "Builder") -> Any:
        if not self.done:
            if self.busy:
                raise CalcError(f"{self.where}: refers to itself")
            self.busy = True
            try:
                self.value = b.value(self.raw, self.scope, self.where)
            finally:
                self.busy = False
            self.done = True
        return self.value


class Scope:
    """Where names are looked up: a block use (``prefix`` ``stage1.block0.``, its
    ``input``, its arguments) or the top level."""

    __slots__ = ("prefix", "parent", "input", "env", "depth")

    def __init__(self, prefix: str, parent: "Scope | None", input: Ref | None, env: dict[str, Any]):
        self.prefix, self.parent, self.input, self.env = prefix, parent, input, env
        self.depth = 0 if parent is None else parent.depth + 1

    def ref(self, text: str) -> Ref:
        if text == "in":
            if self.input is None:
                raise expr.ExprError("'in' names a block's input, and is only defined inside a block")
            return self.input
        if text == INPUT:
            return Ref(text, (INPUT,))
        cands, s = [], self
        while s is not None:
            cands.append(s.prefix + text)
            s = s.parent
        return Ref(text, tuple(cands))


class Cond:
    """An ``if`` inherited from a block use or repeat: computed once, in its scope."""

    __slots__ = ("raw", "scope", "where", "value")

    def __init__(self, raw: Any, scope: Scope, where: str):
        self.raw, self.scope, self.where = raw, scope, where
        self.value: bool | None = None


class Entry:
    __slots__ = ("name", "item", "refs", "scope", "conds", "where", "share")

    def __init__(self, name: str, item: LayerItem | None, refs: list[Ref], scope: Scope,
                 conds: tuple[Cond, ...], where: str, share: Ref | None = None):
        self.name, self.item, self.refs, self.scope, self.conds, self.where = name, item, refs, scope, conds, where
        self.share = share  # the layer whose parameters it reuses


class Builder:
    def __init__(self, spec: Spec, config: dict[str, Any]):
        self.spec = spec
        self.label = spec.label
        self.entries: list[Entry] = []
        self.layers = 0  # entries that are layers (the others are block uses)
        self.index: dict[str, int] = {}
        self.uses: list[tuple[Ref, str, int]] = []  # (reference, where, position it must precede)
        self.net: Network | None = None
        self.alias: dict[str, str] = {INPUT: INPUT}
        self.globals: dict[str, Any] = dict(config)
        self.top = Scope("", None, None, self.globals)
        #: parameters read outside the input shape, and whether a spatial size was read:
        #: what the structure depends on (Network.read_options, Network.reads_spatial)
        self.read: set[str] = set()
        self.recording = True
        self.reads_spatial = False
        #: (type, its fields' values) -> the validated layer: a layer is immutable, so the
        #: 50,000 layers of a flat file that are four distinct ones are validated four times
        self.made: dict[tuple[str, str], Layer] = {}

    # -- values ----------------------------------------------------------
    def value(self, raw: Any, scope: Scope, where: str, local: dict[str, Any] | None = None) -> Any:
        """``raw`` with its expressions computed (lists element by element)."""
        if isinstance(raw, list):
            return [self.value(v, scope, where, local) for v in raw]
        if not expr.is_expr(raw):
            return raw
        src = raw[2:-1]
        try:
            return expr.evaluate(src, lambda n: self._lookup(n, scope, local), self._functions(scope))
        except expr.ExprError as e:
            raise CalcError(f"{where}: {raw}: {e}") from None

    def _lookup(self, name: str, scope: Scope, local: dict[str, Any] | None) -> Any:
        if self.recording:
            if name in ("in_height", "in_width") and local is not None and name in local:
                self.reads_spatial = True
            elif name in self.globals:  # a parameter or var (or a block argument shadowing one)
                self.read.add(name)
        if local is not None and name in local:
            v = local[name]
            if isinstance(v, str):  # an explanation why it is not defined here
                raise expr.ExprError(f"{name}: {v}")
            return v
        v = scope.env.get(name, _MISSING)
        if isinstance(v, Thunk):
            return v.force(self)
        if v is not _MISSING:
            return v
        if name in ("in_channels", "in_height", "in_width"):
            raise expr.ExprError(f"{name} is only defined in a layer's own fields and if; "
                                 f"elsewhere use channels('in') or channels('layer')")
        if name == "rep":
            raise expr.ExprError("rep (the repetition index) is only defined inside a block")
        known = sorted(k for k in (*scope.env, *(local or {})))
        raise expr.ExprError(f"name {name!r} is not defined{did_you_mean(name, known)} "
                             f"(defined: {', '.join(known) or 'nothing'})")

    def _functions(self, scope: Scope) -> dict[str, Any]:
        def shape(fn: str, axis: int):
            def read(name: Any) -> int:
                if axis and self.recording:
                    self.reads_spatial = True
                s = self._shape_of(scope, name, fn)
                if axis >= len(s):
                    raise expr.ExprError(f"{fn}({name!r}): {name!r} is a vector of {s[0]} features")
                return s[axis]
            return read

        return {**expr.FUNCTIONS, "channels": shape("channels", 0), "height": shape("height", 1),
                "width": shape("width", 2)}

    def _shape_of(self, scope: Scope, name: Any, fn: str) -> tuple[int, ...]:
        if self.net is None:
            raise expr.ExprError(f"{fn}() cannot be used here: vars, the input shape and repeat "
                                 f"counts are computed before any layer exists")
        if not isinstance(name, str):
            raise expr.ExprError(f"{fn}() takes a layer name in quotes, as in {fn}('in'); received {name!r}")
        ref = scope.ref(name)
        target = ref.resolve(self.index)
        if target is None:
            raise expr.ExprError(f"{fn}({name!r}): no layer {name!r}")
        if target not in self.alias:
            raise expr.ExprError(f"{fn}({name!r}): {target!r} comes later in the file")
        return self.net[self.alias[target]].shape

    def _truth(self, raw: Any, scope: Scope, where: str, local: dict[str, Any] | None = None) -> bool:
        v = self.value(raw, scope, where, local)
        if not isinstance(v, bool):
            raise CalcError(f"{where}: {raw} must be true or false, received {_short(v)}")
        return v

    def _count(self, raw: Any, scope: Scope, where: str) -> int:
        n = self.value(raw, scope, where)
        if isinstance(n, float) and n.is_integer():
            n = int(n)
        if type(n) is not int or not 0 <= n <= MAX_LAYERS:
            raise CalcError(f"{where}: must be an integer in [0, {MAX_LAYERS}], received {_short(n)}")
        return n

    # -- 1. expanding ------------------------------------------------------
    def _add(self, entry: Entry) -> None:
        if entry.name in self.index:
            raise CalcError(f"{entry.where}: name already used")
        if entry.item is not None:
            self.layers += 1
            if self.layers > MAX_LAYERS:
                raise CalcError(f"{self.label}: more than {MAX_LAYERS:,} layers after expanding repeats")
        elif len(self.entries) >= 2 * MAX_LAYERS:  # block uses name their last layer: bounded too
            raise CalcError(f"{self.label}: more than {2 * MAX_LAYERS:,} layers and block uses after expanding")
        self.index[entry.name] = len(self.entries)
        self.entries.append(entry)

    def _ref(self, scope: Scope, text: str, where: str) -> Ref:
        try:
            ref = scope.ref(text)
        except expr.ExprError as e:
            raise CalcError(f"{where}: input 'in': {e}") from None
        self.uses.append((ref, where, len(self.entries)))
        return ref

    def expand(self, items: tuple[LayerItem | UseItem, ...], scope: Scope, prev: Ref,
               conds: tuple[Cond, ...]) -> Ref:
        """Add ``items`` under ``scope``; ``prev`` feeds the first; return the last."""
        for item in items:
            full = scope.prefix + item.name
            if isinstance(item, LayerItem):
                where = f"{self.label}: layer {full!r} ({item.type})"
                refs = [prev] if item.inputs is None else [self._ref(scope, t, where) for t in item.inputs]
                share = None if item.shares is None else self._ref(scope, item.shares, f"{where}: shares")
                self._add(Entry(full, item, refs, scope, conds, where, share))
                prev = Ref(full, (full,))
                continue
            where = f"{self.label}: {'block use' if item.kind == 'use' else item.kind} {full!r}"
            inp = prev if item.inputs is None else self._ref(scope, item.inputs[0], where)
            c = conds if item.cond is None else conds + (Cond(item.cond, scope, f"{where}: if"),)
            block = self.spec.blocks[item.block]
            args = {k: Thunk(v, scope, f"{where}: args.{k}") for k, v in item.args.items()}
            if item.kind == "use":
                prev = self._use(block, full, scope, inp, args, c, None)
            elif item.kind == "repeat":
                n = self._count(item.repeat, scope, f"{where}: repeat")
                prev = self._repeat(block, full, scope, inp, args, n, c)
            else:
                out = inp
                for k, row in enumerate(item.rows, start=item.start):
                    rwhere = f"{where}: stages row {k - item.start + 1}"
                    rargs = {**args, **{col: Thunk(v, scope, f"{rwhere}: {col}") for col, v in row.items()
                                        if col != "n"}}
                    n = self._count(row["n"], scope, f"{rwhere}: n")
                    out = self._repeat(block, f"{full}{k}", scope, out, rargs, n, c)
                self._add(Entry(full, None, [out], scope, c, where))
                prev = Ref(full, (full,))
        return prev

    def _repeat(self, block: Block, full: str, scope: Scope, inp: Ref, args: dict[str, Any], n: int,
                conds: tuple[Cond, ...]) -> Ref:
        out = inp
        for j in range(n):
            a = args if j == 0 or "s" not in block.args else {**args, "s": 1}
            out = self._use(block, f"{full}.block{j}", scope, out, a, conds, j)
        self._add(Entry(full, None, [out], scope, conds, f"{self.label}: repeat {full!r}"))
        return Ref(full, (full,))

    def _use(self, block: Block, full: str, scope: Scope, inp: Ref, args: dict[str, Any],
             conds: tuple[Cond, ...], rep: int | None) -> Ref:
        where = f"{self.label}: block use {full!r} (block {block.name!r})"
        if scope.depth >= MAX_DEPTH:
            raise CalcError(f"{where}: blocks nested more than {MAX_DEPTH} deep")
        env: dict[str, Any] = {}  # the block's own names; params and vars are read through to the globals
        inner = Scope(full + ".", scope, inp, ChainMap(env, self.globals))
        for arg, default in block.args.items():
            # given arguments are computed where they were written; defaults in the block
            env[arg] = args[arg] if arg in args else Thunk(default, inner, f"{where}: args.{arg} (default)")
        env["rep"] = 0 if rep is None else rep
        out = self.expand(block.items, inner, inp, conds)
        self._add(Entry(full, None, [out], scope, conds, where))
        return Ref(full, (full,))

    # -- 2. checking references ---------------------------------------------
    def check_references(self) -> None:
        forward = []
        for ref, where, pos in self.uses:
            target = ref.resolve(self.index)
            if target is None:
                tried = ", ".join(ref.candidates)
                raise CalcError(f"{where}: input {ref.text!r} is not defined"
                                f"{did_you_mean(ref.candidates[0], self.index)}"
                                f"{f' (looked for {tried})' if len(ref.candidates) > 1 else ''}")
            if target != INPUT and self.index[target] >= pos:
                forward.append((ref, where, target))
        for e in self.entries:  # the implicit references (the item above, a block's output)
            for r in e.refs:
                if r.resolve(self.index) is None:  # pragma: no cover (always defined)
                    raise CalcError(f"{e.where}: input {r.text!r} is not defined")
        if forward:
            self._report_cycle()
            ref, where, target = forward[0]
            shown = ref.text if ref.text == target else f"{ref.text} ({target})"
            raise CalcError(f"{where}: input {shown!r} comes later in the file; "
                            f"a layer's inputs must come before it")

    def _report_cycle(self) -> None:
        import networkx as nx

        g = nx.DiGraph()
        for e in self.entries:
            for r in e.refs:
                g.add_edge(r.resolve(self.index), e.name)
        try:
            cycle = nx.find_cycle(g)
        except nx.NetworkXNoCycle:
            return
        names = " -> ".join([u for u, _ in cycle] + [cycle[0][0]])
        raise CalcError(f"{self.label}: layers form a cycle: {names}")

    # -- 3. building -------------------------------------------------------
    def run(self) -> Network:
        try:
            return self._run()
        except RecursionError:
            raise CalcError(f"{self.label}: blocks or expressions nested too deeply") from None

    def _run(self) -> Network:
        for name, raw in self.spec.vars:
            self.globals[name] = self.value(raw, self.top, f"{self.label}: vars.{name}")
        shape = []
        self.recording = False  # what the input shape reads does not shape the structure
        values = [_integral(self.value(raw, self.top, f"{self.label}: input")) for raw in self.spec.input]
        if isinstance(values[1], HW) and values[2] == values[1]:  # an H x W resolution as both sides
            values[1:] = values[1]
        for i, v in enumerate(values):
            if type(v) is not int or not 1 <= v <= MAX_VALUE:
                raise CalcError(f"{self.label}: input [C, H, W]: {'CHW'[i]} must be an integer in "
                                f"[1, {MAX_VALUE}], received {_short(v)}")
            shape.append(v)
        self.recording = True
        self.expand(self.spec.items, self.top, Ref(INPUT, (INPUT,)), ())
        self.check_references()
        net = self.net = Network(self.spec.name, tuple(shape), notes=list(self.spec.notes))
        for e in self.entries:
            first = self.alias[e.refs[0].target]
            if e.item is None or not all(self._inherited(c) for c in e.conds):
                self.alias[e.name] = first
                continue
            inputs = [self.alias[r.target] for r in e.refs]
            local = _layer_vars(net[first].shape)
            if e.item.cond is not None and not self._truth(e.item.cond, e.scope, f"{e.where}: if", local):
                self.alias[e.name] = first
                continue
            layer = self._layer(e, local)
            try:
                net.add(e.name, layer, inputs, train_only=e.item.train_only, shares=self._owner(e),
                        share_kinds=e.item.share_kinds)
            except CalcError as err:
                raise CalcError(f"{self.label}: {err}") from None
            except ArithmeticError:
                raise CalcError(f"{e.where}: numbers too large") from None
            self.alias[e.name] = e.name
        if len(net) == 0:
            raise CalcError(f"{self.label}: every layer is skipped (their 'if' is false)")
        net.read_options = frozenset(self.read)
        net.reads_spatial = net.reads_spatial or self.reads_spatial
        return net

    def _owner(self, e: Entry) -> str | None:
        """The layer whose parameters ``e`` reuses (a block use: its last layer)."""
        if e.share is None:
            return None
        target = e.share.target
        if target != INPUT and self.entries[self.index[target]].item is not None and self.alias[target] != target:
            raise CalcError(f"{e.where}: shares {e.share.text!r}, which is skipped (its 'if' is false)")
        return self.alias[target]

    def _inherited(self, c: Cond) -> bool:
        if c.value is None:
            c.value = self._truth(c.raw, c.scope, c.where)
        return c.value

    def _layer(self, e: Entry, local: dict[str, Any]) -> Layer:
        item = e.item
        fields = {}
        for k, raw in item.fields.items():
            v = _integral(self.value(raw, e.scope, f"{e.where}: field {k}", local)
                          if isinstance(raw, (str, list)) else raw)
            if isinstance(v, list) or (type(v) is int and abs(v) > MAX_VALUE):
                _check_bounds(v, f"{e.where}: field {k}")
            fields[k] = v
        key = (item.type, repr(fields))  # repr tells true from 1 and 1.0 from 1, as strict validation does
        layer = self.made.get(key)
        if layer is not None:
            return layer
        cls = LAYER_TYPES[item.type]
        try:
            # strict: a field that wants an int takes an int (or an integral expression), never
            # true, "8" or 8.5; lists are the tuples of kernel sizes and paddings
            layer = self.made[key] = cls.model_validate({k: _tuples(v) for k, v in fields.items()}, strict=True)
        except ValidationError as err:
            raise CalcError(f"{e.where}: {_validation_message(err, item.fields)}") from None
        return layer


def _layer_vars(shape: tuple[int, ...]) -> dict[str, Any]:
    vector = f"the input is a vector ({shape[0]} features), with no height or width"
    return {"in_channels": shape[0],
            "in_height": shape[1] if len(shape) == 3 else vector,
            "in_width": shape[2] if len(shape) == 3 else vector}


def _integral(v: Any) -> Any:
    """Integral floats become ints (``${32 * 0.5}`` is a channel count, 16)."""
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, list):
        return [_integral(x) for x in v]
    return v


def _tuples(v: Any) -> Any:
    return tuple(_tuples(x) for x in v) if isinstance(v, list) else v


def _check_bounds(v: Any, where: str) -> None:
    if isinstance(v, list):
        for x in v:
            _check_bounds(x, where)
    elif type(v) is int and abs(v) > MAX_VALUE:
        raise CalcError(f"{where}: {v} is out of range (at most {MAX_VALUE} in magnitude)")


def _explained(error: dict) -> str:
    """pydantic's message, with the reason a strict field refused the value."""
    msg = error["msg"].removeprefix("Value error, ")
    value = error.get("input")
    if error["type"] == "int_type":
        if isinstance(value, bool):
            return f"{msg}, not true or false"
        if isinstance(value, float):
            return f"{msg}, got a number with a fractional part"
        if isinstance(value, str):
            numeric = value.strip().lstrip("+-").isdigit()
            return f"{msg}, {'not a string' if numeric else 'unable to parse string as an integer'}"
    if error["type"] == "bool_type":
        return f"{msg} (true or false)"
    return msg


def _validation_message(err: ValidationError, raw: dict[str, Any]) -> str:
    first = err.errors()[0]
    loc = first.get("loc") or ()
    msg = _explained(first)
    if not loc:
        return msg
    name = str(loc[0])
    text = f"field {name}: {msg}"
    if first["type"] != "missing":
        text += f", received {_short(first.get('input'))}"
        if expr.is_expr(raw.get(name)):
            text += f" from {raw[name]}"
    return text
