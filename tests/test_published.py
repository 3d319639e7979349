"""Published numbers: every packaged entry ends as agrees or explained, and the verdict
logic itself (agree / explained / disagree, printed precision)."""
import pytest

import archs
from calc.errors import CalcError
from calc.published import UNVERIFIABLE, Published, judge, load


def verdict_of(p):
    spec = archs.get(p.arch)
    return judge(p, lambda c: spec.build(**c), spec.resolve(p.config))


@pytest.mark.parametrize("entry", [p for p in archs.published() if p.arch in archs.ARCHITECTURES],
                         ids=lambda p: f"{p.arch}-{p.quantity}-{p.printed}")
def test_packaged_entries_agree_or_are_explained(entry):
    v = verdict_of(entry)
    if entry.explanation.startswith("not reproduced"):
        # a documented disagreement (He et al. Table 1, ResNet-50): calc says so, never forces it
        assert v["verdict"] == "disagrees" and not entry.reason
        return
    if not entry.reason:
        assert v["verdict"] == "agrees", v
        return
    if v["verdict"] == "agrees":
        # a row whose neighbours need the method may agree plainly (ShuffleNet v1 Table 1, g = 1, 3)
        return
    assert v["verdict"] == "explained", v
    assert entry.explanation
    assert v["verified"] == (entry.reason not in UNVERIFIABLE)
    if v["verified"]:
        # the printed value, or the same number at the source's own precision (method decimals)
        assert v["by_method"] == v["compared_to"]
        assert float(v["compared_to"]) == float(entry.printed)


def entry(**kw):
    base = dict(arch="mobilenet_v1", config={"alpha": 1.0, "res": 224}, quantity="macs",
                printed="569", unit="M", source="test")
    return Published.from_dict({**base, **kw}, "test")


def test_verdicts():
    assert verdict_of(entry())["verdict"] == "agrees"
    assert verdict_of(entry(printed="568.7"))["verdict"] == "agrees"  # 568.74 at one decimal
    assert verdict_of(entry(printed="568.8"))["verdict"] == "disagrees"
    floor = entry(printed="568", method={"rounding": "floor"}, reason="rounding", explanation="truncates")
    assert verdict_of(floor)["verdict"] == "explained" and verdict_of(floor)["verified"]
    # a method that does not reproduce the printed value means the explanation is wrong
    wrong = entry(printed="500", method={"rounding": "floor"}, reason="rounding", explanation="truncates")
    assert verdict_of(wrong)["verdict"] == "disagrees"
    # a typo in the source cannot be recomputed: explained, but marked unverified
    typo = entry(printed="596", reason="typo", explanation="digits transposed (569)")
    v = verdict_of(typo)
    assert (v["verdict"], v["verified"]) == ("explained", False)
    assert verdict_of(entry())["difference"] == pytest.approx((568_740_352 - 569e6) / 569e6)
    assert verdict_of(entry(quantity="params", printed="4231976", unit=""))["exact"] == 4_231_976


def test_bad_entries_are_rejected():
    with pytest.raises(CalcError, match="unknown field"):
        entry(value=3)
    with pytest.raises(CalcError, match="quantity must be one of"):
        entry(quantity="latency")
    with pytest.raises(CalcError, match="a method or reason needs an explanation"):
        entry(method={"rounding": "floor"}, reason="rounding")
    with pytest.raises(CalcError, match="a method needs a reason"):
        entry(method={"rounding": "floor"}, explanation="x")
    with pytest.raises(CalcError, match="reason must be one of"):
        entry(reason="convention differs", explanation="x")
    with pytest.raises(CalcError, match="cannot have a method"):
        entry(reason="typo", method={"rounding": "floor"}, explanation="x")
    with pytest.raises(CalcError, match="unknown method key"):
        entry(reason="rounding", method={"fudge": 1.01}, explanation="x")
    with pytest.raises(CalcError, match="YAML error"):
        load("- {arch: [", "bad.yaml")
