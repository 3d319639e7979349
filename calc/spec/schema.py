"""The JSON Schema of spec files (``calc schema``): JSON Schema 2020-12, layer items
discriminated by ``type``, every field also accepting an expression."""
from __future__ import annotations

from typing import Any

from calc.layers import LAYER_TYPES
from calc.layers.base import PARAM_KINDS
from calc.spec.read import NAME_RE, RESERVED_NAMES, VERSION

EXPRESSION = {
    "type": "string", "pattern": r"^\$\{.*\}$",
    "description": "An expression, computed when the network is built: arithmetic, comparisons, "
                   "and/or/not, 'a if c else b', functions min max abs int float round floor ceil sqrt "
                   "make_divisible, channels('name') height('name') width('name'); names: params, vars, "
                   "block arguments, rep, and in a layer's own fields in_channels in_height in_width.",
}


def _or_expr(schema: dict[str, Any]) -> dict[str, Any]:
    """A field's schema, also accepting an expression (inside arrays too)."""
    s = dict(schema)
    meta = {k: s.pop(k) for k in ("title", "description", "default") if k in s}
    if "anyOf" in s:
        s["anyOf"] = [_or_expr(m)["anyOf"][0] for m in s["anyOf"]]
    if "prefixItems" in s:
        s["prefixItems"] = [_or_expr(m) for m in s["prefixItems"]]
    if isinstance(s.get("items"), dict):
        s["items"] = _or_expr(s["items"])
    return {**meta, "anyOf": [s, {"$ref": "#/$defs/Expression"}]}


def _layer_schema(name: str, cls: Any, defs: dict[str, Any]) -> dict[str, Any]:
    s = cls.model_json_schema(ref_template="#/$defs/{model}")
    defs.update(s.pop("$defs", {}))
    props: dict[str, Any] = {
        "name": {"$ref": "#/$defs/Name"},
        "type": {"const": name},
        "inputs": {"$ref": "#/$defs/Inputs"},
        "if": {"$ref": "#/$defs/Condition"},
        "shares": {"type": "string", "description": "an earlier layer whose parameters this one reuses (tied "
                                                    "weights): counted once, there; MACs per use"},
        "share_kinds": {"type": "array", "items": {"enum": list(PARAM_KINDS)}, "minItems": 1,
                        "uniqueItems": True,
                        "description": "with shares: only these parameter kinds are the other layer's (its own "
                                       "weights, the other's bias); default every kind both have"},
        "train_only": {"type": "boolean", "description": "runs in training only (an auxiliary head): "
                                                        "params counted, no inference cost"},
    }
    for f, p in s.get("properties", {}).items():
        props[f] = _or_expr(p)
    doc = (cls.__doc__ or "").strip().split("\n\n")[0]
    return {"type": "object", "title": name, "description": " ".join(doc.split()), "properties": props,
            "required": ["name", "type", *s.get("required", [])], "additionalProperties": False}


def json_schema() -> dict[str, Any]:
    defs: dict[str, Any] = {}
    layer_refs = {}
    for name in sorted(LAYER_TYPES):
        defs[name] = _layer_schema(name, LAYER_TYPES[name], defs)
        layer_refs[name] = f"#/$defs/{name}"
    value = {"anyOf": [{"type": ["number", "string", "boolean"]}, {"type": "array"}]}
    use_props = {
        "name": {"$ref": "#/$defs/Name"},
        "block": {"type": "string", "description": "a key of 'blocks'"},
        "args": {"type": "object", "additionalProperties": value},
        "inputs": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"},
                                                   "minItems": 1, "maxItems": 1}]},
        "if": {"$ref": "#/$defs/Condition"},
    }
    count = {"anyOf": [{"type": "integer", "minimum": 0}, {"$ref": "#/$defs/Expression"}]}
    defs.update({
        "Expression": EXPRESSION,
        "Name": {"type": "string", "pattern": f"^{NAME_RE.pattern.removesuffix(chr(92) + 'Z')}$",
                 "not": {"enum": list(RESERVED_NAMES)}},
        "Inputs": {"description": "the layer(s) feeding this one; default: the item above ('input' is "
                                  "the network input, 'in' a block's input)",
                   "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]},
        "Condition": {"description": "when false, the item is skipped and stands for its first input",
                      "anyOf": [{"type": "boolean"}, {"$ref": "#/$defs/Expression"}]},
        "Layer": {"description": "a layer: 'type' picks the layer model, whose fields follow",
                  "oneOf": [{"$ref": r} for r in layer_refs.values()],
                  "discriminator": {"propertyName": "type", "mapping": layer_refs}},
        "BlockUse": {"description": "the layers of a block, named '<name>.<layer>'",
                     "type": "object", "properties": use_props, "required": ["name", "block"],
                     "additionalProperties": False},
        "Repeat": {"description": "n chained uses of a block, '<name>.block0' ..; argument s (stride) "
                                  "goes to the first only, the others get 1",
                   "type": "object", "properties": {**use_props, "repeat": count},
                   "required": ["name", "block", "repeat"], "additionalProperties": False},
        "Stages": {"description": "a stage table: each row is a repeat named '<name><start + i>'; "
                                  "column n is the repeat count, s the first stride",
                   "type": "object", "required": ["name", "block", "stages"], "additionalProperties": False,
                   "properties": {**use_props, "stages": {
                       "type": "object", "additionalProperties": False, "required": ["columns", "rows"],
                       "properties": {
                           "columns": {"type": "array", "items": {"type": "string"}, "minItems": 1,
                                       "contains": {"const": "n"}, "uniqueItems": True},
                           "rows": {"type": "array", "minItems": 1, "items": {"type": "array", "items": value}},
                           "start": {"type": "integer", "minimum": 0, "default": 1}}}}},
        "Item": {"oneOf": [{"$ref": "#/$defs/Layer"}, {"$ref": "#/$defs/BlockUse"},
                           {"$ref": "#/$defs/Repeat"}, {"$ref": "#/$defs/Stages"}]},
        "Items": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/Item"}},
        "Param": {"type": "object", "additionalProperties": False, "required": ["default"],
                  "properties": {
                      "default": {"type": ["number", "string"]},
                      "type": {"enum": ["int", "float", "str"]},
                      "help": {"type": "string"},
                      "choices": {"type": "array", "minItems": 1, "items": {"type": ["number", "string"]}},
                      "min": {"type": "number"}, "max": {"type": "number"},
                      "min_exclusive": {"type": "boolean"}}},
        "Block": {"type": "object", "additionalProperties": False, "required": ["layers"],
                  "properties": {
                      "summary": {"type": "string"},
                      "args": {"description": "argument names with defaults (null: required), or a list "
                                              "of required names",
                               "anyOf": [{"type": "object", "additionalProperties": {
                                             "anyOf": [{"type": "null"}, value]}},
                                         {"type": "array", "items": {"type": "string"}}]},
                      "layers": {"$ref": "#/$defs/Items"}}},
    })
    dim = {"anyOf": [{"type": "integer", "minimum": 1}, {"$ref": "#/$defs/Expression"}]}
    props = {
        "version": {"const": VERSION},
        "name": {"type": "string"},
        "summary": {"type": "string"},
        "source": {"type": "string", "description": "where the architecture comes from (a citation)"},
        "notes": {"type": "array", "items": {"type": "string"}},
        "meta": {"type": "object", "description": "free-form; ignored by the loader"},
        "params": {"type": "object", "description": "options of the file (--alpha, --res ...)",
                   "additionalProperties": {"anyOf": [{"$ref": "#/$defs/Param"}, {"type": ["number", "string"]}]}},
        "vars": {"type": "object", "description": "derived values, computed in order",
                 "additionalProperties": value},
        "input": {"type": "array", "prefixItems": [dim, dim, dim], "minItems": 3, "maxItems": 3,
                  "description": "[C, H, W] of one sample"},
        "blocks": {"type": "object", "additionalProperties": {"$ref": "#/$defs/Block"}},
        "layers": {"$ref": "#/$defs/Items"},
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "calc spec file",
        "description": "A CNN as a typed layer graph, for calc (static params/MACs/FLOPs/memory).",
        "type": "object", "required": ["input", "layers"], "additionalProperties": False,
        "properties": props, "patternProperties": {"^x-": {"description": "ignored (YAML anchors)"}},
        "$defs": defs,
    }
