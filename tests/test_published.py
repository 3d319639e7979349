"""Published numbers: every packaged entry ends as agrees or explained, and the verdict
logic itself (agree / explained / disagree, printed precision)."""
import pytest

import archs
from calc.errors import CalcError
from calc.published import Published, judge, load, load_packaged


def verdict_of(p):
    spec = archs.get(p.arch)
    return judge(p, lambda c: spec.build(**c), spec.resolve(p.config))


@pytest.mark.parametrize("entry", [p for p in load_packaged() if p.arch in archs.ARCHITECTURES],
                         ids=lambda p: f"{p.arch}-{p.quantity}-{p.printed}")
def test_packaged_entries_agree_or_are_explained(entry):
    v = verdict_of(entry)
    assert v["verdict"] in ("agrees", "explained"), v
    if v["verdict"] == "explained":
        assert v["by_method"] == entry.printed and entry.explanation


def entry(**kw):
    base = dict(arch="mobilenet_v1", config={"alpha": 1.0, "res": 224}, quantity="macs",
                printed="569", unit="M", source="test")
    return Published.from_dict({**base, **kw}, "test")


def test_verdicts():
    assert verdict_of(entry())["verdict"] == "agrees"
    assert verdict_of(entry(printed="568.7"))["verdict"] == "agrees"  # 568.74 at one decimal
    assert verdict_of(entry(printed="568.8"))["verdict"] == "disagrees"
    floor = entry(printed="568", method={"rounding": "floor"}, explanation="truncates")
    assert verdict_of(floor)["verdict"] == "explained"
    wrong = entry(printed="500", method={"rounding": "floor"}, explanation="truncates")
    assert verdict_of(wrong)["verdict"] == "disagrees"
    assert verdict_of(entry(quantity="params", printed="4231976", unit=""))["exact"] == 4_231_976


def test_bad_entries_are_rejected():
    with pytest.raises(CalcError, match="unknown field"):
        entry(value=3)
    with pytest.raises(CalcError, match="quantity must be one of"):
        entry(quantity="latency")
    with pytest.raises(CalcError, match="a method needs an explanation"):
        entry(method={"rounding": "floor"})
    with pytest.raises(CalcError, match="YAML error"):
        load("- {arch: [", "bad.yaml")
