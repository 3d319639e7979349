"""Reading data: the tables packaged with calc and archs, and the user's files.

One loader for every file calc reads, so every one gets the same rules:

* a user's file must be a regular file (a FIFO or a device such as ``/dev/zero`` would
  block or never end) and is read up to a bound (:data:`MAX_FILE_BYTES`), whatever
  ``stat()`` says of its size;
* TOML with :mod:`tomllib`; YAML with PyYAML's safe loader (no tags that build Python
  objects; duplicate keys refused); JSON with duplicate keys refused;
* every problem is one :class:`~calc.errors.CalcError` line that starts with the file
  (and ``:line:column`` where the parser knows it).

``packaged(package, name)`` reads a file shipped inside a package (``calc`` or
``archs``) through :mod:`importlib.resources`, so it works from a wheel too.
"""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from calc.errors import CalcError

MAX_FILE_BYTES = 16 * 2**20
FORMATS = {".toml": "toml", ".yaml": "yaml", ".yml": "yaml", ".json": "json"}
#: the suffixes of spec files (YAML or JSON)
SPEC_SUFFIXES = (".yaml", ".yml", ".json")
#: the formats a spec file is written in
SPEC_FORMATS = ("yaml", "json")


def read_text(path: str | Path, label: str | None = None, limit: int = MAX_FILE_BYTES,
              what: str = "file") -> str:
    """The UTF-8 text of the regular file ``path``, at most ``limit`` bytes (``what`` names
    the kind of file in the messages: "no such spec file")."""
    label = str(path) if label is None else label
    data = read_bytes(path, label, limit, what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise CalcError(f"{label}: not a UTF-8 text file") from None


def read_bytes(path: str | Path, label: str | None = None, limit: int = MAX_FILE_BYTES,
               what: str = "file", too_large: str = "") -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` (``too_large``: what the
    message adds when the file is larger)."""
    label = str(path) if label is None else label
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise CalcError(f"{label}: no such {what}") from None
    except OSError as e:
        raise CalcError(f"{label}: cannot read the {what}: {e.strerror or e}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise CalcError(f"{label}: not a regular file (a {what} must be one)")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as e:
        raise CalcError(f"{label}: cannot read the {what}: {e.strerror or e}") from None
    finally:
        os.close(fd)
    if size > limit:
        raise CalcError(f"{label}: {what} larger than {limit // 2**20} MiB{too_large}")
    return b"".join(chunks)


def parse(text: str, label: str, fmt: str) -> Any:
    """``text`` as ``fmt`` (``toml``, ``yaml`` or ``json``)."""
    if fmt == "toml":
        return parse_toml(text, label)
    if fmt == "json":
        return parse_json(text, label)
    if fmt == "yaml":
        return parse_yaml(text, label)
    raise CalcError(f"{label}: unknown format {fmt!r}")


def format_of(path: str | Path, default: str = "yaml") -> str:
    return FORMATS.get(Path(path).suffix.lower(), default)


def load(path: str | Path, label: str | None = None, fmt: str | None = None, what: str = "file") -> Any:
    """A user's data file, parsed by its suffix (``.toml``, ``.json``, else YAML)."""
    label = str(path) if label is None else label
    return parse(read_text(path, label, what=what), label, fmt or format_of(path))


def packaged(package: str, name: str) -> Any:
    """A data file shipped in ``package`` (e.g. ``packaged("archs", "data/stage_tables.yaml")``)."""
    from importlib import resources

    node = resources.files(package)
    for part in name.split("/"):
        node = node.joinpath(part)
    label = f"{package}/{name}"
    return parse(node.read_text(encoding="utf-8"), label, format_of(name))


def parse_toml(text: str, label: str) -> dict[str, Any]:
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise CalcError(f"{label}: not valid TOML: {e}") from None


def parse_json(text: str, label: str) -> Any:
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in items:
            if k in out:
                raise CalcError(f"{label}: JSON error: duplicate key {k!r}")
            out[k] = v
        return out

    try:
        return json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as e:
        raise CalcError(f"{label}:{e.lineno}:{e.colno}: JSON error: {e.msg}") from None
    except CalcError:
        raise
    except RecursionError:
        raise CalcError(f"{label}: nested too deeply") from None
    except ValueError as e:  # an integer of 5,000 digits...
        raise CalcError(f"{label}: JSON error: {e}") from None


#: how deeply a YAML document may nest (lists and mappings)
MAX_YAML_DEPTH = 200
YAML_TAG = "tag:yaml.org,2002:"


def parse_yaml(text: str, label: str, max_values: int | None = None) -> Any:
    """YAML as plain data: libyaml's parser (PyYAML's C parser when available) and a builder of
    our own that turns its events straight into null, booleans, integers, floats, strings,
    lists and mappings (merge keys ``<<`` included), and refuses duplicate keys, duplicate or
    undefined anchors, a second document and every other tag (``!!python/...``, ``!!binary``,
    timestamps); YAML 1.1's sexagesimal numbers (``1:30``) stay the strings they look like.
    With ``max_values``, a document of more values than that once its aliases are expanded
    (an alias bomb, a structure that contains itself) is refused as it is read, before
    anything is expanded.  No node objects, and each distinct scalar is resolved and built
    once: several times faster than PyYAML's own composer and constructor on large files."""
    import gc

    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    # the data built can be a few million objects, none of them in a reference cycle (an
    # alias is a shared reference): the cyclic collector would only walk them again and again
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _YamlBuilder(yaml, loader, label, max_values).document()
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"{label}:{mark.line + 1}:{mark.column + 1}" if mark else label
        raise CalcError(f"{where}: YAML error: {e.problem or e.context or 'syntax error'}") from None
    except yaml.YAMLError as e:
        raise CalcError(f"{label}: YAML error: {' '.join(str(e).split())}") from None
    finally:
        loader.dispose()
        if collecting:
            gc.enable()


#: a key or value not given yet; the merge key ``<<``
_NONE, _MERGE = object(), object()


class _Frame:
    """A mapping or a list being built: its value, where it starts, what it holds so far."""

    __slots__ = ("value", "is_map", "mark", "anchor", "size", "key", "seen", "merges")

    def __init__(self, value: Any, is_map: bool, mark: Any, anchor: str | None):
        self.value = value
        self.is_map = is_map
        self.mark = mark
        self.anchor = anchor
        self.size = 1  # its values once aliases are expanded: itself, its keys, its values
        self.key: Any = _NONE  # a mapping's key waiting for its value
        self.seen: dict[Any, Any] = {}  # a mapping's keys -> where each is
        self.merges: list[tuple[Any, Any]] = []  # where each merge key's value is, and it


class _YamlBuilder:
    """Plain data from the parser's events (see :func:`parse_yaml`)."""

    def __init__(self, yaml: Any, loader: Any, label: str, max_values: int | None):
        self.yaml = yaml
        self.loader = loader
        self.label = label
        self.max_values = max_values
        self.safe = yaml.constructor.SafeConstructor()
        #: anchor -> (its value, its size; the frame itself while the collection is open)
        self.anchors: dict[str, tuple[Any, Any]] = {}

    def error(self, mark: Any, message: str) -> CalcError:
        return CalcError(f"{self.label}:{mark.line + 1}:{mark.column + 1}: YAML error: {message}")

    def refuse(self, mark: Any, tag: str) -> CalcError:
        return self.error(mark, f"could not determine a constructor for the tag {tag!r} (spec files are "
                                f"plain YAML: numbers, strings, true/false, null, lists and mappings; tags "
                                f"that build Python objects are refused)")

    def too_large(self) -> CalcError:
        return CalcError(f"{self.label}: the document is too large (more than {self.max_values:,} values "
                         f"once YAML aliases are expanded)")

    def document(self) -> Any:
        yaml = self.yaml
        get = self.loader.get_event
        get()  # the stream's start
        if isinstance(get(), yaml.StreamEndEvent):  # else the document's start
            return None
        value = self.build(get)
        get()  # the document's end
        event = get()
        if not isinstance(event, yaml.StreamEndEvent):
            raise self.error(event.start_mark, "expected a single document in the stream, but found another")
        return value

    def build(self, get: Any) -> Any:
        """The document's value from the events ``get`` returns: a loop with a stack of the
        collections open (no recursion, however deeply the file nests)."""
        yaml = self.yaml
        scalar_event, alias_event = yaml.ScalarEvent, yaml.AliasEvent
        map_start, seq_start = yaml.MappingStartEvent, yaml.SequenceStartEvent
        anchors, limit = self.anchors, self.max_values
        scalars: dict[tuple, Any] = {}  # (tag, text, implicit) -> its value: spec files repeat theirs
        stack: list[_Frame] = []
        while True:
            event = get()
            kind = type(event)
            if kind is scalar_event:
                key = (event.tag, event.value, event.implicit)
                value = scalars.get(key, _NONE)
                if value is _NONE:
                    value = scalars[key] = self.scalar(event)
                size, mark = 1, event.start_mark
                if event.anchor is not None:
                    self.anchor(event, value, 1)
            elif kind is alias_event:
                found = anchors.get(event.anchor)
                if found is None:
                    raise self.error(event.start_mark, f"found undefined alias {event.anchor!r}")
                value, size = found
                mark = event.start_mark
                if isinstance(size, _Frame):  # a collection that contains itself
                    if limit is not None:
                        raise self.too_large()
                    size = 1
            elif kind is map_start or kind is seq_start:
                if len(stack) >= MAX_YAML_DEPTH:
                    raise CalcError(f"{self.label}: nested too deeply")
                is_map = kind is map_start
                tag = event.tag
                if not (tag is None or tag == "!" or tag == YAML_TAG + ("map" if is_map else "seq")):
                    raise self.refuse(event.start_mark, tag)
                frame = _Frame({} if is_map else [], is_map, event.start_mark, event.anchor)
                if event.anchor is not None:
                    self.anchor(event, frame.value, frame)
                stack.append(frame)
                continue
            else:  # the end of the innermost collection
                frame = stack.pop()
                value, size, mark = self.close(frame), frame.size, frame.mark
                if frame.anchor is not None:
                    anchors[frame.anchor] = (value, size)
            if value is _MERGE and not (stack and stack[-1].is_map and stack[-1].key is _NONE):
                raise self.refuse(mark, YAML_TAG + "merge")  # << is a key, not a value
            if not stack:
                return value
            frame = stack[-1]
            frame.size += size
            if limit is not None and frame.size > limit:
                raise self.too_large()
            if not frame.is_map:
                frame.value.append(value)
            elif frame.key is _NONE:
                if value is not _MERGE:
                    self.check_key(frame, value, mark)
                frame.key = value
            elif frame.key is _MERGE:
                frame.merges.append((mark, value))
                frame.key = _NONE
            else:
                frame.value[frame.key] = value
                frame.key = _NONE

    def check_key(self, frame: _Frame, key: Any, mark: Any) -> None:
        try:
            first = frame.seen.get(key)
        except TypeError:
            raise self.error(mark, f"a mapping key must be a plain value, received {type(key).__name__}") from None
        if first is not None:
            raise self.error(mark, f"duplicate key {key!r} (first at line {first.line + 1})")
        frame.seen[key] = mark

    def anchor(self, event: Any, value: Any, size: Any) -> None:
        if event.anchor in self.anchors:
            raise self.error(event.start_mark, f"found duplicate anchor {event.anchor!r}")
        self.anchors[event.anchor] = (value, size)

    def close(self, frame: _Frame) -> Any:
        """A finished collection: a mapping's merge keys applied (explicit keys win, and the
        first mapping of a merge list has priority over the later ones); the merged keys come
        first, in the order they are first met, as PyYAML orders them."""
        value = frame.value
        if frame.merges:
            merged: dict = {}
            for mark, part in frame.merges:
                for sub in part if isinstance(part, list) else [part]:
                    if not isinstance(sub, dict):
                        raise self.error(mark, "a merge key (<<) takes a mapping or a list of mappings")
                    for k, v in sub.items():
                        merged.setdefault(k, v)
            explicit = dict(value)
            value.clear()
            value.update(merged)
            value.update(explicit)
        return value

    def scalar(self, event: Any) -> Any:
        yaml = self.yaml
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.loader.resolve(yaml.ScalarNode, event.value, event.implicit)
        kind = tag[len(YAML_TAG):] if tag.startswith(YAML_TAG) else ""
        value = event.value
        if kind == "str":
            return value
        if kind == "null":
            return None
        if kind == "merge":
            return _MERGE
        node = yaml.ScalarNode(tag, value, event.start_mark, event.end_mark)
        if kind == "bool":
            return self.safe.construct_yaml_bool(node)
        if kind in ("int", "float"):
            if ":" in value:  # YAML 1.1 sexagesimal (1:30 = 90): a typo more often than a number
                return value
            try:
                return (self.safe.construct_yaml_int if kind == "int" else self.safe.construct_yaml_float)(node)
            except ValueError as e:
                raise self.error(event.start_mark, f"{value[:40]!r} is not a number ({e})") from None
        raise self.refuse(event.start_mark, tag)
