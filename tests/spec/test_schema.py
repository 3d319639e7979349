"""The JSON Schema of spec files: it covers the format and accepts the examples and exports."""
from __future__ import annotations

import copy
import json

import yaml

from calc.layers import LAYER_TYPES
from calc.spec import export, json_schema
from calc.spec.read import BLOCK_KEYS, PARAM_KEYS, STAGES_KEYS, TOP_KEYS, USE_KEYS
from tests.spec.common import EXAMPLES


# ---------------------------------------------------------------------------
# the JSON Schema


def test_schema_covers_the_format():
    s = json_schema()
    assert set(s["properties"]) == set(TOP_KEYS)
    assert set(s["$defs"]["Param"]["properties"]) == set(PARAM_KEYS)
    assert set(s["$defs"]["Block"]["properties"]) == set(BLOCK_KEYS)
    assert set(s["$defs"]["Stages"]["properties"]["stages"]["properties"]) == set(STAGES_KEYS)
    for kind, key in (("use", "BlockUse"), ("repeat", "Repeat"), ("stages", "Stages")):
        assert set(s["$defs"][key]["properties"]) == set(USE_KEYS[kind])
    assert set(s["$defs"]["Layer"]["discriminator"]["mapping"]) == set(LAYER_TYPES)
    conv = s["$defs"]["Conv2d"]
    assert conv["required"] == ["name", "type", "out_channels", "kernel_size"]
    assert set(conv["properties"]) >= {"name", "type", "inputs", "if", "groups", "padding", "impl"}


def test_schema_accepts_examples_and_exports():
    import jsonschema  # the test extra installs it
    validator = jsonschema.Draft202012Validator(json_schema())
    docs = [yaml.safe_load(p.read_text()) for p in sorted(EXAMPLES.glob("*.yaml"))]
    docs += [json.loads(p.read_text()) for p in sorted(EXAMPLES.glob("*.json"))]
    docs += [export(n) for n in ("mobilenet_v2", "shufflenet_v2", "se_resnet50", "resnet50_vd")]
    assert len(docs) >= 7
    for doc in docs:
        validator.validate(doc)
    bad = copy.deepcopy(docs[0])
    bad["layers"][0]["kernal_size"] = 3
    assert not validator.is_valid(bad)
