"""Published numbers: every packaged entry ends as agrees or explained, and the verdict
logic itself (agree / explained / disagree, printed precision)."""
import pytest

import archs
from calc.errors import CalcError
from calc.published import UNVERIFIABLE, Published, judge, load, resolve


def verdict_of(p):
    spec = archs.get(p.arch)
    if p.resolved is None:
        (p,) = resolve([p], archs.get)
    return judge(p, lambda c: spec.build(**c))


@pytest.mark.parametrize("entry", [p for p in archs.published() if p.arch in archs.ARCHITECTURES],
                         ids=lambda p: f"{p.arch}-{p.quantity}-{p.printed}")
def test_packaged_entries_agree_or_are_explained(entry):
    v = verdict_of(entry)
    if entry.explanation.startswith("not reproduced"):
        # a documented disagreement (He et al. Table 1, ResNet-50): calc says so, never forces it
        assert v["verdict"] == "disagrees" and not entry.reason
        return
    if entry.reason == "unexplained":
        # a documented unknown (OpenPose's feature memory): it stays a disagreement, with its reason
        assert v["verdict"] == "disagrees" and not entry.method
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


# ---------------------------------------------------------------------------
# One configuration per entry: the rows shown are the configuration's own

#: non-default values tried for each option (those an architecture refuses are skipped)
TRIED = {"alpha": (0.25, 0.5, 0.75, 1.3, 1.4, 1.5, 2.0), "res": (96, 160, 192, 256, 299), "classes": (10,),
         "groups": (1, 2, 3, 4, 8)}


def configurations(spec):
    """The default configuration, and each option set to each other value it takes
    (its choices, the values of TRIED, and the values published entries use)."""
    yield spec.resolve({})
    for opt in spec.options:
        values = set(opt.choices or TRIED.get(opt.name, ()))
        values |= {p.config[opt.name] for p in archs.published() if p.arch == spec.name and opt.name in p.config}
        for v in sorted(values, key=str):
            try:
                config = spec.resolve({opt.name: v})
            except CalcError:
                continue
            if config != spec.resolve({}):
                yield config


@pytest.mark.parametrize("name", sorted(archs.ARCHITECTURES))
def test_rows_shown_belong_to_the_configuration(name):
    spec = archs.get(name)
    entries = [p for p in archs.published() if p.arch == name]
    for config in configurations(spec):
        shown = [p for p in entries if p.matches(name, config)]
        for p in shown:  # resolved again here, independently of the loader
            assert spec.resolve(p.config) == config, (p.where, config)
        hidden = [p for p in entries if p not in shown]
        assert all(spec.resolve(p.config) != config for p in hidden)


def test_an_entry_with_missing_keys_is_the_default_configuration():
    # seed 000's MobileNet v2 row names no configuration: it is 1.0/224/1000 classes, not "any"
    (seed,) = [p for p in archs.published() if p.arch == "mobilenet_v2" and p.source == "seed 000 summary table"]
    assert seed.config == {} and seed.resolved == {"alpha": 1.0, "res": 224, "classes": 1000}
    assert seed.matches("mobilenet_v2", {"alpha": 1.0, "res": 224, "classes": 1000})
    assert not seed.matches("mobilenet_v2", {"alpha": 0.75, "res": 192, "classes": 1000})


def test_entries_are_resolved_and_checked_when_loaded():
    bad = Published.from_dict({"arch": "mobilenet_v2", "config": {"alpha": 9}, "quantity": "macs",
                               "printed": "1", "unit": "M", "source": "x"}, "t.yaml entry 3")
    with pytest.raises(CalcError, match=r"t.yaml entry 3: mobilenet_v2: option --alpha must be in \(0, 4\]"):
        resolve([bad], archs.get)
    unknown = Published.from_dict({"arch": "nonet", "quantity": "macs", "printed": "1", "unit": "M",
                                   "source": "x"}, "t.yaml entry 4")
    with pytest.raises(CalcError, match="t.yaml entry 4: unknown architecture 'nonet'"):
        resolve([unknown], archs.get)
    with pytest.raises(RuntimeError, match="must be resolved"):
        bad.matches("mobilenet_v2", {})


def test_judging_reuses_the_analysis():
    from calc.counting import analyze

    def no_build(config):
        raise AssertionError(f"built {config}")

    (zoo,) = [p for p in archs.published() if p.arch == "mobilenet_v2" and p.resolved["alpha"] == 0.75
              and p.resolved["res"] == 192 and p.quantity == "macs"]
    a = analyze(archs.build("mobilenet_v2", alpha=0.75, res=192), batch=8, dtype="fp16", convention="thop")
    v = judge(zoo, no_build, a)  # a batch-8 fp16 thop analysis still gives the batch-1 MACs
    assert v["exact"] == 153_941_888 and v["verdict"] == "explained"
    # a method measuring another configuration builds that one only
    built = []
    (rho,) = [p for p in archs.published() if p.arch == "mobilenet_v1" and "rho_from_res" in p.method
              and p.resolved["res"] == 160]

    def build(config):
        built.append(config)
        return archs.build("mobilenet_v1", **config)

    v = judge(rho, build, analyze(archs.build("mobilenet_v1", res=160)))
    assert v["verdict"] == "explained" and [c["res"] for c in built] == [224]


def test_rows_name_the_convention_they_are_counted_under():
    by = {(p["quantity"], p["source"][:8]): p for p in
          (judge(p, lambda c: archs.build("resnet50", **c)) for p in archs.published()
           if p.arch == "resnet50" and not p.config)}
    assert by[("flops", "seed 000")]["counted_under"] == "ptflops_2019"
    assert by[("flops", "seed 004")]["counted_under"] == "paddle"
    assert by[("params", "seed 004")]["counted_under"] == "paddle"   # model_stat's PARAMs
    assert by[("params", "seed 000")]["counted_under"] == ""          # the true count


# ---------------------------------------------------------------------------
# Memory figures, autoscaled units, fitted counts and documented unknowns (convnet-burden)

def burden_entry(**kw):
    d = {"arch": "fcn32s_vgg16", "quantity": "feature_memory", "printed": "423", "unit": "MiB", "convention": "burden",
         "autoscale": True, "source": "test"}
    return Published.from_dict({**d, **kw}, "test")


def test_memory_figures_are_fp32_bytes_in_binary_units():
    v = verdict_of(burden_entry())
    assert (v["verdict"], v["exact"]) == ("agrees", 443_164_788)  # 422.63 MiB prints 423 (convnet-burden)
    assert verdict_of(burden_entry(quantity="param_memory", printed="519"))["exact"] == 4 * 136_152_917
    # autoscaled: a value that reaches 1 GiB prints in GB, so "423 MB" of a 0.5 GiB map would not agree
    assert verdict_of(burden_entry(printed="0", unit="GiB"))["computed"] == "423 MiB"
    with pytest.raises(CalcError, match="takes a binary unit"):
        burden_entry(unit="M")
    with pytest.raises(CalcError, match="takes a count unit"):
        burden_entry(quantity="flops", unit="MiB")


def test_fitted_counts_and_documented_unknowns():
    frcnn = {"arch": "faster_rcnn_vgg16", "quantity": "flops", "printed": "172", "unit": "G"}
    v = verdict_of(burden_entry(**frcnn, reason="input_dependent", method={"config": {"rois": 80}}, explanation="x"))
    assert (v["verdict"], v.get("fitted"), v["by_method"]) == ("explained", True, "172")
    assert verdict_of(burden_entry(**frcnn, reason="input_dependent", method={"config": {"rois": 300}},
                                   explanation="x"))["verdict"] == "disagrees"
    with pytest.raises(CalcError, match="needs a method config"):
        burden_entry(**frcnn, reason="input_dependent", method={"rounding": "floor"}, explanation="x")
    unknown = verdict_of(burden_entry(printed="424", reason="unexplained", explanation="no rule found"))
    assert unknown["verdict"] == "disagrees"
    with pytest.raises(CalcError, match="cannot have a method"):
        burden_entry(printed="424", reason="unexplained", method={"rounding": "floor"}, explanation="x")


def test_shared_parameters_counted_per_use():
    # DeepLab v2 MSC's three scales share one ResNet-101: MatConvNet's import stores three copies
    e = burden_entry(arch="deeplab_v2_resnet101", quantity="param_memory", printed="505", reason="variant",
                     method={"shared_per_use": True}, explanation="x")
    v = verdict_of(e)
    assert (v["verdict"], v["exact"], v["by_method"]) == ("explained", 4 * 44_153_876, "505")
    with pytest.raises(CalcError, match="shared_per_use applies to params"):
        verdict_of(burden_entry(arch="deeplab_v2_resnet101", quantity="flops", printed="1", unit="T",
                                reason="variant", method={"shared_per_use": True}, explanation="x"))


def test_ties_print_to_even():
    from decimal import Decimal

    from calc.published import autoscaled

    assert autoscaled(Decimal(36.5 * 2**30), 1024) == ("36", "GiB")     # SSD512's report: "36 GB"
    assert autoscaled(Decimal(37.5 * 2**30), 1024) == ("38", "GiB")
    assert autoscaled(Decimal(1023 * 2**20 + 2**19 + 1), 1024) == ("1024", "MiB")  # still below 1 GiB
    assert autoscaled(Decimal(999), 1000) == ("999", "") and autoscaled(Decimal(172_400_000_000), 1000) == ("172", "G")
