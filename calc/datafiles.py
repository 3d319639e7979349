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
        raise CalcError(f"{label}: {what} larger than {limit // 2**20} MiB")
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError:
        raise CalcError(f"{label}: not a UTF-8 text file") from None


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


def parse_yaml(text: str, label: str) -> Any:
    """YAML with the safe loader (libyaml's parser when available: same rules, faster),
    duplicate keys refused."""
    import yaml

    class Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
        def construct_mapping(self, node, deep=False):
            seen: dict[Any, Any] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    if key in seen:
                        raise yaml.constructor.ConstructorError(
                            None, None, f"duplicate key {key!r} (first at line {seen[key].line + 1})",
                            key_node.start_mark)
                    seen[key] = key_node.start_mark
                except TypeError:
                    pass  # unhashable key: the safe constructor reports it
            return super().construct_mapping(node, deep)

    try:
        return yaml.load(text, Loader=Loader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"{label}:{mark.line + 1}:{mark.column + 1}" if mark else label
        problem = e.problem or e.context or "syntax error"
        if "constructor for the tag" in problem:
            problem += " (spec files are plain YAML; tags that build Python objects are refused)"
        raise CalcError(f"{where}: YAML error: {problem}") from None
    except yaml.YAMLError as e:
        raise CalcError(f"{label}: YAML error: {' '.join(str(e).split())}") from None
    except RecursionError:
        raise CalcError(f"{label}: nested too deeply") from None
    except Exception as e:  # the YAML library's own failures (an integer of 5,000 digits...)
        raise CalcError(f"{label}: YAML error: {e}") from None
