"""Spec files: architectures written on paper, in YAML or JSON.

A spec file declares a typed layer graph; every layer is validated by the same
pydantic model as the built-in architectures use.  Minimal example::

    name: tiny
    params:                        # become options: --res, --alpha ...
      res: {default: 32, min: 8}
      alpha: {default: 1.0, min: 0, max: 4, min_exclusive: true}
    input: [3, "${res}", "${res}"]
    layers:
      - {name: conv, type: Conv2d, out_channels: "${make_divisible(16 * alpha)}", kernel_size: 3, padding: 1}
      - {name: relu, type: ReLU}                        # fed by the layer above
      - {name: add, type: Add, inputs: [conv, relu]}    # branches name their inputs

Top-level keys: ``version`` (1), ``name``, ``summary``, ``source`` (a citation),
``notes``, ``meta`` (free-form, ignored), ``params``, ``vars``, ``input``,
``blocks`` and ``layers``; keys starting with ``x-`` are ignored too (a place
for YAML anchors: ``x-conv3: &conv3 {type: Conv2d, kernel_size: 3}``, then
``- {<<: *conv3, name: c1, out_channels: 8}``).  The rules:

- **layers** is a list of items, built in file order.  A *layer* item is
  ``{name, type, inputs?, if?, train_only?, shares?, ...fields}``: ``type`` is a layer type (``calc
  schema`` lists them and their fields), the other keys are its fields.
  ``inputs`` (a name or a list) defaults to the item above (the network
  ``input`` for the first); inputs must come earlier in the file.
- **expressions**: a value written ``"${...}"`` is computed (see
  :mod:`calc.spec.expr`) from ``params``, ``vars``, block arguments and, in a
  layer's own fields, ``in_channels``/``in_height``/``in_width`` (its first
  input); ``channels('name')``, ``height('name')``, ``width('name')`` read an
  earlier layer's output.
- **train_only**: ``true`` marks a layer that runs in training only (an auxiliary
  head): its params are counted, its MACs and memory are not, and no inference layer
  may read it.
- **shares**: the name of an earlier layer whose parameters this one reuses (tied
  weights, a module called several times): the parameter kinds both have, of equal size,
  are counted once, on that layer; MACs and memory per use.
- **if**: an item whose ``if`` is false is skipped, and a skipped item passes its
  (first) input through: whatever refers to it gets its input instead.
- **blocks** are named templates ``{args: {name: default, ...}, layers: [...]}``
  (a null default makes the argument required).  Inside, names are local (a
  name is looked up in the block first, then outside), and ``in`` is the
  block's input.  A *block use* ``{name, block, args?, inputs?, if?}`` adds the
  template's layers as ``name.<layer>``; other items refer to the use by its
  name, meaning its last layer.
- **repeat**: ``{name, block, repeat: n, args}`` chains ``n`` uses named
  ``name.block0`` .. ``name.block{n-1}``; the argument ``s`` (the stride), if
  the block has one, goes to the first only and the others get ``s = 1``.  The
  variable ``rep`` is the repetition's index.
- **stages**: ``{name, block, stages: {columns: [t, c, n, s], rows: [[...], ...],
  start: 1}, args?}`` is a paper's stage table: each row is a repeat named
  ``<name><start + i>`` with the row's columns as arguments, ``n`` the repeat
  count and ``s`` the first stride.  ``rep`` is 0 in a plain block use.

Errors are one line, ``FILE: layer 'NAME' (TYPE): field F: message``; YAML is
read with PyYAML's safe loader (no tags that build Python objects), and
duplicate keys are refused.
"""
from __future__ import annotations

from typing import Any

from calc.spec.read import (
    MAX_DEPTH, MAX_DOC_NODES, MAX_FILE_BYTES, MAX_LAYERS, MAX_VALUE, SUFFIXES, SpecArchitecture, load_spec,
    loads_spec,
)


def export(arch: Any, **options: Any) -> dict[str, Any]:
    """A registered architecture (by name), an Architecture or a Network as a flat
    spec document; see :func:`calc.spec.write.export`."""
    from calc.spec.write import export as _export

    return _export(arch, **options)


def dump_spec(doc: dict[str, Any], fmt: str = "yaml") -> str:
    """A spec document as YAML or JSON text; see :func:`calc.spec.write.dump_spec`."""
    from calc.spec.write import dump_spec as _dump

    return _dump(doc, fmt)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of spec files (layer items discriminated by ``type``)."""
    from calc.spec.schema import json_schema as _schema

    return _schema()


__all__ = ["MAX_DEPTH", "MAX_DOC_NODES", "MAX_FILE_BYTES", "MAX_LAYERS", "MAX_VALUE", "SUFFIXES",
           "SpecArchitecture", "dump_spec", "export", "json_schema", "load_spec", "loads_spec"]
