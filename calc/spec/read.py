"""Reading and checking spec files: text -> a :class:`Spec` -> a :class:`SpecArchitecture`
(the language is described in :mod:`calc.spec`).  Building is :mod:`calc.spec.build`."""
from __future__ import annotations

import keyword
import math
import re
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from calc import datafiles
from calc.errors import CalcError, did_you_mean
from calc.registry import Architecture, Option
from calc.resolution import resolution
from calc.spec import expr
from calc.graph import INPUT, Network
from calc.layers import LAYER_TYPES

SUFFIXES = datafiles.SPEC_SUFFIXES
FAMILY = "spec file"
VERSION = 1

MAX_FILE_BYTES = datafiles.MAX_FILE_BYTES
MAX_DOC_NODES = 1_000_000   # values in the loaded document (catches YAML alias bombs)
MAX_LAYERS = 50_000         # layers after expanding repeats (block uses: as many again)
MAX_DEPTH = 32              # nested block uses
MAX_VALUE = 2**31 - 1       # integers in layer fields and the input shape

TOP_KEYS = ("version", "name", "summary", "source", "notes", "meta", "params", "vars", "input", "blocks", "layers")
ITEM_KEYS = ("name", "type", "inputs", "if", "train_only", "shares", "share_kinds")
USE_KEYS = {"use": ("name", "block", "args", "inputs", "if"),
            "repeat": ("name", "block", "repeat", "args", "inputs", "if"),
            "stages": ("name", "block", "stages", "args", "inputs", "if")}
STAGES_KEYS = ("columns", "rows", "start")
BLOCK_KEYS = ("args", "layers", "summary")
PARAM_KEYS = ("default", "type", "help", "choices", "min", "max", "min_exclusive")
PARAM_TYPES = {"int": int, "float": float, "str": str, "resolution": resolution}
RESERVED_NAMES = (INPUT, "in")
CONTEXT_VARS = ("in_channels", "in_height", "in_width", "rep")
NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-/:]*\Z")


# ---------------------------------------------------------------------------
# the parsed file


@dataclass(frozen=True)
class LayerItem:
    name: str
    type: str
    fields: dict[str, Any]
    inputs: tuple[str, ...] | None
    cond: Any
    train_only: bool = False
    shares: str | None = None  # an earlier layer whose parameters it reuses
    share_kinds: tuple[str, ...] | None = None  # only these kinds of them (default: every kind both have)


@dataclass(frozen=True)
class UseItem:
    name: str
    kind: str  # "use", "repeat" or "stages"
    block: str
    args: dict[str, Any]
    inputs: tuple[str, ...] | None
    cond: Any
    repeat: Any = None
    rows: tuple[dict[str, Any], ...] = ()
    start: int = 1


@dataclass(frozen=True)
class Block:
    name: str
    args: dict[str, Any]  # name -> default (REQUIRED when none)
    items: tuple[LayerItem | UseItem, ...]


REQUIRED = object()


@dataclass(frozen=True)
class Spec:
    label: str  # the file, as errors name it
    name: str
    summary: str
    reference: str
    notes: tuple[str, ...]
    meta: dict[str, Any]
    options: tuple[Option, ...]
    vars: tuple[tuple[str, Any], ...]
    input: tuple[Any, ...]
    blocks: dict[str, Block]
    items: tuple[LayerItem | UseItem, ...]


@dataclass(frozen=True)
class SpecArchitecture(Architecture):
    """An architecture read from a spec file: an :class:`~calc.registry.Architecture`
    whose builder expands the file (``source`` is the path, ``reference`` the
    file's own ``source`` citation)."""

    reference: str = ""
    spec: Spec | None = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:
        return f"SpecArchitecture(name={self.name!r}, source={self.source!r})"


# ---------------------------------------------------------------------------
# reading


def load_spec(path: str | Path) -> SpecArchitecture:
    """Read and check a spec file (``.json``: JSON; anything else: YAML)."""
    p = Path(path)
    label = str(path)
    text = datafiles.read_text(p, label, MAX_FILE_BYTES, what="spec file")
    fmt = "json" if p.suffix.lower() == ".json" else "yaml"
    return loads_spec(text, label=label, fmt=fmt, default_name=p.stem)


def loads_spec(text: str, *, label: str = "<spec>", fmt: str = "yaml",
               default_name: str | None = None) -> SpecArchitecture:
    """Parse spec text (``fmt`` ``yaml`` or ``json``); ``label`` names it in errors, and
    its stem names the architecture when the file has no ``name``."""
    if default_name is None:
        default_name = Path(label).stem.strip("<>") or "spec"
    try:
        spec = _parse(read_document(text, label, fmt), label, default_name)
    except RecursionError:
        raise CalcError(f"{label}: nested too deeply") from None
    except CalcError as e:
        raise one_line(e) from None
    return SpecArchitecture(
        name=spec.name, family=FAMILY, summary=spec.summary, source=label,
        builder=partial(build_network, spec), options=spec.options,
        reference=spec.reference, spec=spec,
    )


def read_document(text: str, label: str, fmt: str = "yaml") -> Any:
    """YAML (safe loader, no duplicate keys) or JSON text -> plain Python data."""
    if fmt == "json":
        doc = datafiles.parse_json(text, label)
        _check_size(doc, label)
        return doc
    return datafiles.parse_yaml(text, label, max_values=MAX_DOC_NODES)  # counted as it is read


def _check_size(doc: Any, label: str) -> None:
    """Count a JSON document's values (the YAML reader counts its own as it reads, aliases
    expanded, so an alias bomb or a structure that contains itself stops there)."""
    stack, n = [doc], 0
    while stack:
        v = stack.pop()
        n += 1
        if n > MAX_DOC_NODES:
            raise CalcError(f"{label}: the document is too large (more than {MAX_DOC_NODES:,} values "
                            f"in all)")
        if isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, (list, tuple, set)):
            stack.extend(v)


# ---------------------------------------------------------------------------
# checking the structure


def _mapping(value: Any, where: str, what: str, allowed: tuple[str, ...] | None = None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise CalcError(f"{where}: {what} must be a mapping, received {_short(value)}")
    for k in value:
        if not isinstance(k, str):
            raise CalcError(f"{where}: key {k!r} is not a string")
        if allowed is not None and k not in allowed:
            raise CalcError(f"{where}: unknown key {k!r}{did_you_mean(k, allowed)} (allowed: {', '.join(allowed)})")
    return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _string(value: Any, where: str, what: str) -> str:
    if not isinstance(value, str):
        raise CalcError(f"{where}: {what} must be a string, received {_short(value)}")
    return value


def _identifier(value: Any, where: str, what: str) -> str:
    if not (isinstance(value, str) and value.isidentifier() and not keyword.iskeyword(value)):
        raise CalcError(f"{where}: {what} {_short(value)} is not a valid name (letters, digits, _)")
    if value in CONTEXT_VARS or value in ("true", "false") or value in expr.FUNCTIONS \
            or value in ("channels", "height", "width"):
        raise CalcError(f"{where}: {what} {value!r} is reserved")
    return value


def _check_value(value: Any, where: str) -> Any:
    """Check that strings hold whole, well-formed expressions (parsed now, so a
    syntax error is reported when the file is read)."""
    if isinstance(value, str):
        try:
            expr.check_text(value)
            if expr.is_expr(value):
                expr.parse(value[2:-1])
        except expr.ExprError as e:
            raise CalcError(f"{where}: {value if len(value) <= 60 else value[:57] + '...'}: {e}") from None
    elif isinstance(value, list):
        for v in value:
            _check_value(v, where)
    return value


def _parse(doc: Any, label: str, default_name: str) -> Spec:
    if not isinstance(doc, dict):
        raise CalcError(f"{label}: a spec file is a mapping with 'input' and 'layers', received {_short(doc)}")
    _mapping({k: v for k, v in doc.items() if not (isinstance(k, str) and k.startswith("x-"))},
             label, "the file", TOP_KEYS)
    for key in ("input", "layers"):
        if key not in doc:
            raise CalcError(f"{label}: missing the key {key!r}")
    version = doc.get("version", VERSION)
    if version != VERSION or isinstance(version, bool):
        raise CalcError(f"{label}: version must be {VERSION}, received {_short(version)}")
    name = _string(doc.get("name", default_name), label, "name")
    notes = doc.get("notes", [])
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        raise CalcError(f"{label}: notes must be a list of strings")
    options = _parse_params(doc.get("params", {}), label, name)
    vars_ = _parse_vars(doc.get("vars", {}), label, options)
    inp = doc["input"]
    if not isinstance(inp, list) or len(inp) != 3:
        raise CalcError(f"{label}: input must be a list [C, H, W], received {_short(inp)}")
    for v in inp:
        _check_value(v, f"{label}: input")
    blocks = _parse_blocks(doc.get("blocks", {}), label)
    items = _parse_items(doc["layers"], f"{label}: ")
    options = _mark_input_side(options, inp)
    spec = Spec(
        label=label, name=name,
        summary=_string(doc.get("summary", f"spec file {label}"), label, "summary"),
        reference=_string(doc.get("source", ""), label, "source"),
        notes=tuple(notes), meta=_mapping(doc.get("meta", {}), label, "meta"),
        options=options, vars=vars_, input=tuple(inp), blocks=blocks, items=items,
    )
    _check_uses(spec)
    return spec


def _parse_params(raw: Any, label: str, arch: str) -> tuple[Option, ...]:
    options = []
    for name, decl in _mapping(raw, label, "params").items():
        where = f"{label}: params.{name}"
        _identifier(name, f"{label}: params", "parameter")
        if not isinstance(decl, dict):
            decl = {"default": decl}
        _mapping(decl, where, "a parameter", PARAM_KEYS)
        if "default" not in decl:
            raise CalcError(f"{where}: needs a default")
        default = decl["default"]
        if "type" in decl:
            if not isinstance(decl["type"], str) or decl["type"] not in PARAM_TYPES:
                raise CalcError(f"{where}: type must be int, float, str or resolution, received "
                                f"{_short(decl['type'])}")
            kind = PARAM_TYPES[decl["type"]]
        elif type(default) in (int, float, str):
            kind = type(default)
        else:
            raise CalcError(f"{where}: the default must be an int, a float or a string, received {_short(default)}")
        bounds = {}
        for key in ("min", "max"):
            v = decl.get(key)
            if v is not None and (type(v) not in (int, float) or not math.isfinite(v)):
                raise CalcError(f"{where}: {key} must be a number, received {_short(v)}")
            if v is not None and kind is str:
                raise CalcError(f"{where}: {key} applies to numbers, not to a str parameter")
            bounds[key] = v
        choices = decl.get("choices")
        if choices is not None:
            if not isinstance(choices, list) or not choices or \
                    not all(type(c) in (int, float, str) for c in choices):
                raise CalcError(f"{where}: choices must be a non-empty list of values")
            probe = Option(name, kind, default, "")
            choices = tuple(probe.validate(f"{label}: params.{name} choices", c) for c in choices)
        exclusive = decl.get("min_exclusive", False)
        if not isinstance(exclusive, bool):
            raise CalcError(f"{where}: min_exclusive must be true or false")
        opt = Option(name, kind, default, _string(decl.get("help", ""), where, "help"), choices,
                     bounds["min"], bounds["max"], exclusive)
        try:
            default = opt.validate(arch, default)
        except CalcError as e:
            raise CalcError(f"{where}: default: {e}") from None
        options.append(opt.with_default(default))
    return tuple(options)


def _mark_input_side(options: tuple[Option, ...], inp: list[Any]) -> tuple[Option, ...]:
    """A parameter written as both spatial sizes of the input (``input: [3, "${res}",
    "${res}"]``) is the input's resolution: a side (square) or ``HxW`` (``-p res=600x850``;
    an int default, or a default written ``600x850``); whether it changes anything else is
    known only when the file is built (:attr:`Network.read_options`)."""
    out = []
    for o in options:
        side = inp[1] == inp[2] == f"${{{o.name}}}"
        if side and o.kind in (int, str, resolution) and not o.choices:
            try:
                out.append(o.with_default(resolution(o.default), kind=resolution, input_only=True))
                continue
            except ValueError:  # a str parameter that is not a resolution
                pass
        out.append(o.with_default(o.default, input_only=False))
    return tuple(out)


def _parse_vars(raw: Any, label: str, options: tuple[Option, ...]) -> tuple[tuple[str, Any], ...]:
    taken = {o.name for o in options}
    out = []
    for name, value in _mapping(raw, label, "vars").items():
        _identifier(name, f"{label}: vars", "variable")
        if name in taken:
            raise CalcError(f"{label}: vars.{name}: already a parameter")
        out.append((name, _check_value(value, f"{label}: vars.{name}")))
    return tuple(out)


def _parse_blocks(raw: Any, label: str) -> dict[str, Block]:
    blocks = {}
    for name, body in _mapping(raw, label, "blocks").items():
        where = f"{label}: block {name!r}"
        _identifier(name, f"{label}: blocks", "block")
        body = _mapping(body, where, "a block", BLOCK_KEYS)
        if "layers" not in body:
            raise CalcError(f"{where}: missing the key 'layers'")
        args_raw = body.get("args", {})
        if isinstance(args_raw, list):  # [t, c, s]: all required
            args_raw = {_identifier(a, where, "argument"): None for a in args_raw}
        args = {}
        for arg, default in _mapping(args_raw, where, "args").items():
            _identifier(arg, where, "argument")
            args[arg] = REQUIRED if default is None else _check_value(default, f"{where}: args.{arg}")
        blocks[name] = Block(name, args, _parse_items(body["layers"], f"{where}: "))
    _check_block_cycles(blocks, label)
    return blocks


def _parse_items(raw: Any, head: str) -> tuple[LayerItem | UseItem, ...]:
    """A list of items; ``head`` starts every message (``"FILE: "`` or
    ``"FILE: block 'ir': "``)."""
    if not isinstance(raw, list) or not raw:
        raise CalcError(f"{head}layers must be a non-empty list, received {_short(raw)}")
    items, seen = [], set()
    for i, d in enumerate(raw, start=1):
        if not isinstance(d, dict):
            raise CalcError(f"{head}layers item {i} must be a mapping, received {_short(d)}")
        for k in d:
            if not isinstance(k, str):
                raise CalcError(f"{head}layers item {i}: key {k!r} is not a string")
        name = d.get("name")
        if not isinstance(name, str) or not NAME_RE.match(name) or name in RESERVED_NAMES:
            why = "is reserved" if name in RESERVED_NAMES else "must be a name (letters, digits, _ . - / :)"
            raise CalcError(f"{head}layers item {i}: 'name' {why}, received {_short(name)}")
        if name in seen:
            raise CalcError(f"{head}layer {name!r}: name already used")
        seen.add(name)
        item = _parse_layer(d, head, name) if "type" in d else _parse_use(d, head, name)
        items.append(item)
    return tuple(items)


def _inputs(value: Any, where: str, single: bool = False) -> tuple[str, ...] | None:
    if value is None:
        return None
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
        raise CalcError(f"{where}: inputs must be a layer name or a non-empty list of names, received {_short(value)}")
    if single and len(names) != 1:
        raise CalcError(f"{where}: a block takes one input, received {len(names)}")
    return tuple(names)


def _cond(value: Any, where: str) -> Any:
    if value is None or isinstance(value, bool) or expr.is_expr(value):
        return _check_value(value, f"{where}: if")
    raise CalcError(f"{where}: if must be true, false or an expression \"${{...}}\", received {_short(value)}")


def _parse_layer(d: dict[str, Any], head: str, name: str) -> LayerItem:
    t = d["type"]
    if not isinstance(t, str) or t not in LAYER_TYPES:
        known = ", ".join(sorted(LAYER_TYPES))
        raise CalcError(f"{head}layer {name!r}: unknown layer type {_short(t)}{did_you_mean(t, LAYER_TYPES)} "
                        f"(known: {known})")
    for k in ("block", "repeat", "stages"):
        if k in d:
            raise CalcError(f"{head}layer {name!r} ({t}): has both 'type' (a layer) and {k!r} (a block use)")
    here = f"{head}layer {name!r} ({t})"
    cls = LAYER_TYPES[t]
    fields = {}
    for k, v in d.items():
        if k in ITEM_KEYS:
            continue
        if k not in cls.model_fields:
            takes = ", ".join(cls.model_fields)
            raise CalcError(f"{here}: field {k}: unknown field{did_you_mean(k, cls.model_fields)} ({t} takes {takes})")
        fields[k] = _check_value(v, f"{here}: field {k}")
    train_only = d.get("train_only", False)
    if not isinstance(train_only, bool):
        raise CalcError(f"{here}: train_only must be true or false, received {_short(train_only)}")
    shares = d.get("shares")
    if shares is not None and not (isinstance(shares, str) and NAME_RE.match(shares)):
        raise CalcError(f"{here}: shares must be the name of an earlier layer, received {_short(shares)}")
    kinds = d.get("share_kinds")
    if kinds is not None:
        from calc.layers.base import PARAM_KINDS

        if shares is None:
            raise CalcError(f"{here}: share_kinds needs shares (the layer whose parameters it names)")
        if (not isinstance(kinds, list) or not kinds or not all(isinstance(k, str) and k in PARAM_KINDS for k in kinds)
                or len(set(kinds)) != len(kinds)):
            raise CalcError(f"{here}: share_kinds must be a list of parameter kinds ({', '.join(PARAM_KINDS)}), "
                            f"each once, received {_short(kinds)}")
        kinds = tuple(kinds)
    return LayerItem(name, t, fields, _inputs(d.get("inputs"), here), _cond(d.get("if"), here), train_only,
                     shares, kinds)


def _parse_use(d: dict[str, Any], head: str, name: str) -> UseItem:
    if "block" not in d:
        raise CalcError(f"{head}item {name!r}: needs 'type' (a layer) or 'block' (a block use)")
    if "repeat" in d and "stages" in d:
        raise CalcError(f"{head}item {name!r}: has both 'repeat' and 'stages'")
    kind = "repeat" if "repeat" in d else "stages" if "stages" in d else "use"
    here = f"{head}{'block use' if kind == 'use' else kind} {name!r}"
    _mapping(d, here, "the item", USE_KEYS[kind])
    block = _string(d["block"], here, "block")
    args = _mapping(d.get("args", {}), here, "args")
    for k, v in args.items():
        _check_value(v, f"{here}: args.{k}")
    item = UseItem(name, kind, block, dict(args), _inputs(d.get("inputs"), here, single=True),
                   _cond(d.get("if"), here))
    if kind == "repeat":
        return UseItem(**{**item.__dict__, "repeat": _check_value(d["repeat"], f"{here}: repeat")})
    if kind == "stages":
        table = _mapping(d["stages"], f"{here}: stages", "stages", STAGES_KEYS)
        cols = table.get("columns")
        if not isinstance(cols, list) or not cols or len(set(map(str, cols))) != len(cols):
            raise CalcError(f"{here}: stages.columns must be a list of distinct argument names")
        for c in cols:
            if c != "n":
                _identifier(c, f"{here}: stages.columns", "column")
        if "n" not in cols:
            raise CalcError(f"{here}: stages.columns needs 'n' (each row's repeat count)")
        rows_raw = table.get("rows")
        if not isinstance(rows_raw, list) or not rows_raw:
            raise CalcError(f"{here}: stages.rows must be a non-empty list of rows")
        rows = []
        for r, row in enumerate(rows_raw, start=1):
            if not isinstance(row, list) or len(row) != len(cols):
                raise CalcError(f"{here}: stages row {r} must be a list of {len(cols)} values "
                                f"({', '.join(cols)}), received {_short(row)}")
            rows.append({c: _check_value(v, f"{here}: stages row {r}") for c, v in zip(cols, row)})
        start = table.get("start", 1)
        if type(start) is not int or start < 0:
            raise CalcError(f"{here}: stages.start must be an integer >= 0, received {_short(start)}")
        return UseItem(**{**item.__dict__, "rows": tuple(rows), "start": start})
    return item


def _uses(items: tuple[LayerItem | UseItem, ...]) -> list[UseItem]:
    return [it for it in items if isinstance(it, UseItem)]


def _check_block_cycles(blocks: dict[str, Block], label: str) -> None:
    state: dict[str, int] = {}  # 1: on the stack, 2: done

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2 or name not in blocks:
            return
        if state.get(name) == 1:
            cycle = " -> ".join(path[path.index(name):] + [name])
            raise CalcError(f"{label}: blocks use each other in a cycle: {cycle}")
        state[name] = 1
        for use in _uses(blocks[name].items):
            visit(use.block, path + [name])
        state[name] = 2

    for name in blocks:
        visit(name, [])


def _check_uses(spec: Spec) -> None:
    """Every block use names a defined block, with the arguments it takes."""
    scopes = [(f"{spec.label}: ", spec.items)] + [
        (f"{spec.label}: block {b.name!r}: ", b.items) for b in spec.blocks.values()]
    for head, items in scopes:
        for use in _uses(items):
            here = f"{head}{'block use' if use.kind == 'use' else use.kind} {use.name!r}"
            block = spec.blocks.get(use.block)
            if block is None:
                defined = ", ".join(spec.blocks) or "none"
                raise CalcError(f"{here}: unknown block {use.block!r}{did_you_mean(use.block, spec.blocks)} "
                                f"(defined: {defined})")
            given = set(use.args) | (set(use.rows[0]) - {"n"} if use.rows else set())
            takes = ", ".join(block.args) or "no arguments"
            for arg in sorted(given - set(block.args)):
                raise CalcError(f"{here}: block {block.name!r} has no argument {arg!r}"
                                f"{did_you_mean(arg, block.args)} (it takes {takes})")
            for arg, default in block.args.items():
                if default is REQUIRED and arg not in given:
                    raise CalcError(f"{here}: block {block.name!r} needs the argument {arg!r}")


# ---------------------------------------------------------------------------
# building

def build_network(spec: Spec, **config: Any) -> Network:
    """Expand ``spec`` with resolved parameter values ``config`` into a Network."""
    from calc.spec.build import Builder

    try:
        return Builder(spec, config).run()
    except CalcError as e:
        raise one_line(e) from None


def one_line(error: CalcError) -> CalcError:
    """Errors are one line: line breaks from the file (inside a name or an
    expression) are shown escaped."""
    text = str(error)
    if len(text.splitlines()) <= 1:
        return error
    return type(error)("".join(repr(ch)[1:-1] if ch.splitlines() != [ch] else ch for ch in text))
