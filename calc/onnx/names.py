"""ONNX node names as calc's dotted layer names.

torch's exporter names a node by the module scopes it ran in and its op:
``/layer1/layer1.0/conv1/Conv``.  Each scope is the module's name relative to a parent, and
a scope may repeat its parent's path (``layer1`` then ``layer1.0``, ``block`` then
``block.0``): joining them without the repeats gives the module's path, ``layer1.0.conv1``,
the name the module has in ``model.named_modules()``, so breakdowns by stage group as the
model does.  A module that holds one layer gives it its path; the layers of one that holds
several, or of a module that has submodules (a block's ``Add`` beside its convs), are
``path.op`` (``layer1.0.add``).

A node without a scope path (other exporters, Caffe2's zoo) is named after its weight (Caffe2's
``inception_3a/1x1_w_0`` names the conv ``inception_3a.1x1``); one without a weight, whose
own name says nothing (Caffe2's ``n12``), after the layer feeding it and its op
(``inception_3a.1x1.relu``); any other by its own name.  A first path component that all
of those names with a path share (Caffe2's device scope ``gpu_0/``) is dropped, and ``/`` becomes ``.``,
so that the stages group.
"""
from __future__ import annotations

import re

_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-/:]")
#: what ends a parameter tensor's name: Caffe2's ``_w_0``/``_b_0``, torch's ``.weight``
_PARAM_SUFFIX = re.compile(r"(_w_0|_b_0|_s_0|_scale_0|_w|_b|_weight|_bias|\.weight|\.bias|:0)$")
#: node names that say nothing: empty, Caffe2's ``n12``, torch's unscoped ``Relu_3``
_GENERIC = re.compile(r"^(n?\d+|[A-Za-z]+_\d+|)$")


def tensor_stem(name: str) -> str:
    """A parameter tensor's name without its suffix: ``inception_3a/1x1_w_0`` -> ``inception_3a/1x1``."""
    return _PARAM_SUFFIX.sub("", name) or name


def join_scopes(scopes: list[str]) -> str:
    """``["layer1", "layer1.0", "conv1"]`` -> ``"layer1.0.conv1"``: each scope extends the path,
    less the longest part of it that the path already ends with."""
    path: list[str] = []
    for scope in scopes:
        parts = [p for p in scope.split(".") if p]
        overlap = 0
        for k in range(min(len(path), len(parts)), 0, -1):
            if path[-k:] == parts[:k]:
                overlap = k
                break
        path += parts[overlap:]
    return ".".join(path)


def split_name(name: str) -> tuple[str, str] | None:
    """``/layer1/layer1.0/conv1/Conv`` -> (``layer1.0.conv1``, ``conv``); None when the name
    is not a scope path."""
    if not name.startswith("/") or name.count("/") < 2:
        return None
    *scopes, op = name.strip("/").split("/")
    module = join_scopes(scopes)
    return (module, op.lower()) if module and op else None


def safe(text: str) -> str:
    """A name spec files accept (letters, digits, ``_ . - / :``)."""
    text = _UNSAFE.sub("_", text).strip(".")
    return text if text and text[0] != "." else f"n{text}"


class Namer:
    """Names for the layers of one import: call :meth:`propose` for each layer in order, then
    :meth:`names` gives the final, unique names."""

    def __init__(self):
        # (module, op, own name, the index of the layer feeding it: -1 the input, None: own name)
        self._proposed: list[tuple[str | None, str, str, int | None]] = []

    def propose(self, onnx_name: str, op: str, weight: str | None = None, source: int | None = None) -> None:
        """``onnx_name``: the node's name; ``op``: its op; ``weight``: its first parameter
        tensor's name; ``source``: the index of the layer feeding it (-1: the input)."""
        found = split_name(onnx_name)
        if found is not None:
            module, own = found
            self._proposed.append((safe(module), safe(own), "", None))
        elif weight:
            self._proposed.append((None, op.lower(), tensor_stem(weight), None))
        elif onnx_name.startswith("/") and onnx_name.count("/") == 1:  # torch's top-level op: /Flatten
            self._proposed.append((None, op.lower(), onnx_name[1:].lower(), None))
        elif _GENERIC.match(onnx_name) and source is not None and source >= 0:
            self._proposed.append((None, op.lower(), "", source))
        else:
            self._proposed.append((None, op.lower(), onnx_name or op.lower(), None))

    def names(self, reserved: tuple[str, ...] = ("input", "in")) -> list[str]:
        per_module: dict[str, int] = {}
        for module, _, _, _ in self._proposed:
            if module is not None:
                per_module[module] = per_module.get(module, 0) + 1
        parents = {m.rsplit(".", k)[0] for m in per_module for k in range(1, m.count(".") + 1)}
        own = [f.split("/") for m, _, f, src in self._proposed if m is None and src is None and "/" in f]
        drop = len(own) > 1 and all(f[0] == own[0][0] for f in own)
        used: set[str] = set(reserved)
        out: list[str] = []
        stems: list[str] = []  # what a layer named after its source builds on
        for module, op, name, source in self._proposed:
            if module is None and source is not None:
                base = f"{stems[source]}.{op}"
            elif module is None:
                base = safe(".".join(name.split("/")[1 if drop and "/" in name else 0:]))
            else:  # a module's one layer takes its name; a parent module's own ops are path.op
                alone = per_module[module] == 1 and module not in parents
                base = module if alone else f"{module}.{op}"
            name, k = base, 1
            while name in used:
                k += 1
                name = f"{base}_{k}"
            used.add(name)
            out.append(name)
            stems.append(stems[source] if module is None and source is not None else name)
        return out
