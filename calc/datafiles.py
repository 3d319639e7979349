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


def parse_yaml(text: str, label: str) -> Any:
    """YAML as plain data: libyaml's parser and composer (PyYAML's C loader when available),
    then a constructor of our own that builds only null, booleans, integers, floats,
    strings, lists and mappings (merge keys ``<<`` included), refuses duplicate keys and
    every other tag (``!!python/...``, ``!!binary``, timestamps), and keeps YAML 1.1's
    sexagesimal numbers (``1:30``) as the strings they look like.  Several times faster
    than PyYAML's own Python constructor on large files."""
    import yaml

    class Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
        _resolved: dict = {}

        def resolve(self, kind, value, implicit):  # memoized: spec files repeat their scalars
            if kind is not yaml.ScalarNode:
                return super().resolve(kind, value, implicit)
            key = (value, implicit)
            tag = self._resolved.get(key)
            if tag is None:
                tag = self._resolved[key] = super().resolve(kind, value, implicit)
            return tag

    import gc

    # the composed nodes and the data built from them are a few million objects, none of them
    # in a reference cycle (an alias is a shared reference, not a cycle): the cyclic collector
    # would only walk them again and again (3x the parse time on a 50,000-layer file)
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _parse_yaml(yaml, Loader, text, label)
    finally:
        if collecting:
            gc.enable()


def _parse_yaml(yaml: Any, Loader: Any, text: str, label: str) -> Any:
    try:
        root = yaml.compose(text, Loader=Loader)  # noqa: S506 (composes nodes; nothing is constructed)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"{label}:{mark.line + 1}:{mark.column + 1}" if mark else label
        raise CalcError(f"{where}: YAML error: {e.problem or e.context or 'syntax error'}") from None
    except yaml.YAMLError as e:
        raise CalcError(f"{label}: YAML error: {' '.join(str(e).split())}") from None
    except RecursionError:
        raise CalcError(f"{label}: nested too deeply") from None
    return None if root is None else _YamlData(label).build(root, 0)


class _YamlData:
    """Plain data from composed YAML nodes (an alias is the same object, built once)."""

    def __init__(self, label: str):
        import yaml

        self.label = label
        self.yaml = yaml
        self.safe = yaml.constructor.SafeConstructor()
        self.built: dict[int, Any] = {}

    def error(self, node: Any, message: str) -> CalcError:
        mark = node.start_mark
        return CalcError(f"{self.label}:{mark.line + 1}:{mark.column + 1}: YAML error: {message}")

    def refuse(self, node: Any) -> CalcError:
        return self.error(node, f"could not determine a constructor for the tag {node.tag!r} (spec files are "
                                f"plain YAML: numbers, strings, true/false, null, lists and mappings; tags "
                                f"that build Python objects are refused)")

    def build(self, node: Any, depth: int) -> Any:
        key = id(node)
        if key in self.built:
            return self.built[key]
        if depth > MAX_YAML_DEPTH:
            raise CalcError(f"{self.label}: nested too deeply")
        yaml = self.yaml
        tag = node.tag
        if isinstance(node, yaml.ScalarNode):
            value = self.scalar(node, tag)
        elif isinstance(node, yaml.SequenceNode):
            if tag != YAML_TAG + "seq":
                raise self.refuse(node)
            value = self.built[key] = []
            value.extend(self.build(child, depth + 1) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            if tag != YAML_TAG + "map":
                raise self.refuse(node)
            value = self.built[key] = {}
            self.mapping(node, value, depth)
        else:  # pragma: no cover (the composer makes only these three)
            raise self.refuse(node)
        self.built[key] = value
        return value

    def scalar(self, node: Any, tag: str) -> Any:
        kind = tag[len(YAML_TAG):] if tag.startswith(YAML_TAG) else ""
        if kind == "str":
            return node.value
        if kind == "null":
            return None
        if kind == "bool":
            return self.safe.construct_yaml_bool(node)
        if kind in ("int", "float"):
            if ":" in node.value:  # YAML 1.1 sexagesimal (1:30 = 90): a typo more often than a number
                return node.value
            try:
                return (self.safe.construct_yaml_int if kind == "int" else self.safe.construct_yaml_float)(node)
            except ValueError as e:
                raise self.error(node, f"{node.value[:40]!r} is not a number ({e})") from None
        raise self.refuse(node)

    def mapping(self, node: Any, out: dict, depth: int) -> None:
        merged: dict = {}
        seen: dict = {}
        for key_node, value_node in node.value:
            if key_node.tag == YAML_TAG + "merge":
                parts = value_node.value if isinstance(value_node, self.yaml.SequenceNode) else [value_node]
                for part in reversed(parts):  # the first mapping of a merge list has priority
                    sub = self.build(part, depth + 1)
                    if not isinstance(sub, dict):
                        raise self.error(part, "a merge key (<<) takes a mapping or a list of mappings")
                    merged.update(sub)
                continue
            key = self.build(key_node, depth + 1)
            try:
                first = seen.get(key)
            except TypeError:
                raise self.error(key_node, f"a mapping key must be a plain value, received {type(key).__name__}") from None
            if first is not None:
                raise self.error(key_node, f"duplicate key {key!r} (first at line {first.line + 1})")
            seen[key] = key_node.start_mark
        out.update(merged)
        for key_node, value_node in node.value:
            if key_node.tag != YAML_TAG + "merge":
                out[self.build(key_node, depth + 1)] = self.build(value_node, depth + 1)
