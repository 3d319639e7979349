"""Fuzzing spec files: any mutation of a valid file gives a network or a CalcError,
nothing else."""
from __future__ import annotations

import copy
import json
import os

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calc.counting import analyze
from calc.errors import CalcError
from tests.spec.common import spec


# ---------------------------------------------------------------------------
# fuzzing: any mutation of a valid file gives a network or a CalcError, nothing else

FUZZ_BASE = """\
name: fuzz
params:
  alpha: {default: 1.0, min: 0, max: 4, min_exclusive: true}
  res: {default: 16, min: 4, max: 64}
vars: {c: "${make_divisible(16 * alpha)}"}
input: [3, "${res}", "${res}"]
blocks:
  unit:
    args: {c: ~, s: 1, t: 2}
    layers:
      - {name: expand, type: Conv2d, out_channels: "${in_channels * t}", kernel_size: 1, bias: false, if: "${t != 1}"}
      - {name: dw, type: Conv2d, out_channels: "${in_channels}", groups: "${in_channels}", kernel_size: 3, stride: "${s}", padding: 1}
      - {name: bn, type: BatchNorm2d}
      - {name: project, type: Conv2d, out_channels: "${c}", kernel_size: 1}
      - {name: add, type: Add, inputs: [project, in], if: "${s == 1 and channels('in') == c}"}
layers:
  - {name: stem, type: Conv2d, out_channels: "${c}", kernel_size: 3, stride: 2, padding: 1}
  - {name: act, type: ReLU6}
  - {name: body, block: unit, repeat: 2, args: {c: "${c}", s: 1}}
  - name: stage
    block: unit
    stages: {columns: [t, c, n, s], rows: [[1, 16, 1, 1], [2, "${c * 2}", 2, 2]]}
  - {name: side, type: MaxPool2d, inputs: act, kernel_size: 2, stride: 2}
  - {name: side2, type: Conv2d, out_channels: 32, kernel_size: 1}
  - {name: cat, type: Concat, inputs: [stage, side2]}
  - {name: shuffle, type: ChannelShuffle, groups: 2}
  - {name: split, type: ChannelSplit, index: 1}
  - {name: pool, type: GlobalAvgPool2d}
  - {name: flat, type: Flatten}
  - {name: fc, type: Linear, out_features: 10}
"""
FUZZ_DOC = yaml.safe_load(FUZZ_BASE)
#: raise for a longer hunt: CALC_FUZZ_EXAMPLES=20000 pytest tests/test_spec.py -k fuzz
FUZZ_EXAMPLES = int(os.environ.get("CALC_FUZZ_EXAMPLES", "400"))


def test_fuzz_base_is_valid():
    net = spec(FUZZ_BASE).build()
    assert net["cat"].shape == (64, 4, 4) and net["fc"].shape == (10,)


JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 70), st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8),
    st.sampled_from(["${alpha}", "${1 / 0}", "${c * 2}", "${channels('in')}", "${in_channels}", "${rep}",
                     "${9 ** 99}", "${c", "${}", "in", "input", "stem", "body", "stage1.block0", "Conv2d",
                     "Add", "unit", "${'a' < 1}", "${min()}", "${height('flat')}", "same", "valid", "${s}",
                     "${t * 1.5}", "${make_divisible(c, divisor=0)}", "${int(1e300)}", "${channels(1)}"]),
    st.lists(st.integers(-2, 5), max_size=3),
    st.dictionaries(st.sampled_from(["name", "type", "a", "c", "default"]), st.integers(0, 3), max_size=2),
)


def _paths(doc, prefix=()):
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, prefix + (i,))


PATHS = [p for p in _paths(FUZZ_DOC) if p]


def _mutate(doc, path, action, junk, key):
    doc = copy.deepcopy(doc)
    *head, last = path
    parent = doc
    for k in head:
        parent = parent[k]
    if action == "replace":
        parent[last] = junk
    elif action == "delete":
        del parent[last]
    elif action == "insert" and isinstance(parent[last], dict):
        parent[last][key] = junk
    elif action == "insert" and isinstance(parent[last], list):
        parent[last].insert(0, junk)
    elif action == "swap" and isinstance(parent, list) and len(parent) > 1:
        parent[0], parent[-1] = parent[-1], parent[0]
    else:
        parent[last] = junk
    return doc


def _load_build_analyze(text, fmt="yaml"):
    try:
        net = spec(text, fmt=fmt).build()
        analyze(net, convention="flops")
    except CalcError as e:
        assert len(str(e).splitlines()) == 1, str(e)


@given(st.lists(st.tuples(st.sampled_from(PATHS), st.sampled_from(["replace", "delete", "insert", "swap"]), JUNK,
                          st.sampled_from(["name", "type", "inputs", "if", "kernel_size", "groups", "x", "block"])),
                min_size=1, max_size=3),
       st.sampled_from(["yaml", "json"]))
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_fuzz_structured_mutations(mutations, fmt):
    doc = FUZZ_DOC
    for path, action, junk, key in mutations:
        try:
            doc = _mutate(doc, path, action, junk, key)
        except (KeyError, IndexError, TypeError):
            pass  # an earlier mutation removed the path
    if fmt == "json":
        text = json.dumps(doc, default=str)
    else:
        text = yaml.safe_dump(doc, sort_keys=False)
    _load_build_analyze(text, fmt)


@given(st.lists(st.tuples(st.integers(0, len(FUZZ_BASE)), st.integers(0, 6),
                          st.text(alphabet=st.sampled_from(list("{}[]:,-&*!|>'\"#%@`$ \n\t0123456789abxyz.")), max_size=4)),
                min_size=1, max_size=4))
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_fuzz_text_mutations(edits):
    text = FUZZ_BASE
    for pos, cut, insert in edits:
        pos = min(pos, len(text))
        text = text[:pos] + insert + text[pos + cut:]
    _load_build_analyze(text)


@given(st.text(max_size=200))
@settings(max_examples=FUZZ_EXAMPLES // 2, deadline=None)
def test_fuzz_arbitrary_text(text):
    _load_build_analyze(text)
    _load_build_analyze(text, "json")
