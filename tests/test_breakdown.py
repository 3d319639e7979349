"""Depthwise-separable compression, breakdowns, compare and sweep (issue 5)."""
import json
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import archs
from calc.breakdown import breakdown, compression, separable_pairs, top_layers
from calc.counting import analyze
from calc.graph import Network
from calc.layers import BatchNorm2d, Conv2d, ReLU


def report(name, **opts):
    net = archs.build(name, **opts)
    return net, analyze(net)


def test_mobilenet_v1_table4_standard_conv_network():
    # MobileNet v1 paper (arXiv 1704.04861) Table 4: Conv MobileNet 4866 M mult-adds / 29.3 M
    # params vs MobileNet 569 M / 4.2 M.
    net, a = report("mobilenet_v1")
    t = compression(net, a)["totals"]
    assert (t["macs"], t["params"]) == (568_740_352, 4_231_976)
    assert f"{t['standard_params'] / 1e6:.1f}" == "29.3"
    assert t["standard_macs"] == 4_867_293_184
    # printed 4866: exactly our count without the FC layer's 1,024,000 MACs (4,866.27 M); with
    # it the network is 4,867.29 M, a 0.03% difference the paper does not explain
    assert round((t["standard_macs"] - 1_024_000) / 1e6) == 4866


def test_mobilenet_v1_table2_shares_by_layer_type():
    # MobileNet v1 paper Table 2 (mult-adds / parameters): Conv 1x1 94.86% / 74.59%,
    # Conv DW 3x3 3.06% / 1.06%, Conv 3x3 1.19% / 0.02%, FC 0.18% / 24.33%.
    net, a = report("mobilenet_v1")
    rows = {r["group"]: r for r in breakdown(net, a, by="type")}
    pct = lambda x: f"{100 * x:.2f}"  # noqa: E731
    assert pct(rows["pointwise 1x1"]["macs_share"]) == "94.86"
    assert pct(rows["depthwise 3x3"]["macs_share"]) == "3.06"
    assert pct(rows["fully connected"]["macs_share"]) == "0.18"
    # the paper's params shares are of weights only (no FC bias, no BN)
    assert pct(rows["pointwise 1x1"]["weights_share"]) == "74.59"
    assert pct(rows["depthwise 3x3"]["weights_share"]) == "1.06"
    assert pct(rows["conv 3x3"]["weights_share"]) == "0.02"
    assert pct(rows["fully connected"]["weights_share"]) == "24.33"
    # Table 2 prints 1.19% for the full 3x3 conv; it is 1.91% (10,838,016 / 568,740,352): the
    # printed row sums to 99.29% and only 1.91 makes it 100.01%, a transposed-digit typo
    assert pct(rows["conv 3x3"]["macs_share"]) == "1.91"
    assert round(94.86 + 3.06 + 1.91 + 0.18, 2) == 100.01


def test_pairs_closed_form_equals_computed_without_bias():
    for name in ("mobilenet_v1", "mobilenet_v2", "shufflenet_v2"):
        net, a = report(name)
        pairs = compression(net, a)["pairs"]
        assert pairs
        for p in pairs:
            assert p["macs_ratio"] == p["params_ratio"] == p["closed_form"]
    # the paper's 1/N + 1/Dk^2 for N = 1024, Dk = 3 (MobileNet v1's last pair)
    last = compression(*report("mobilenet_v1"))["pairs"][-1]
    assert last["closed_form"] == round(float(Fraction(1, 1024) + Fraction(1, 9)), 6)


def test_width_multiplier_closed_form():
    # with width multiplier alpha the ratio is 1/(alpha N) + 1/Dk^2 (seed 002)
    net, a = report("mobilenet_v1", alpha=0.5)
    last = compression(net, a)["pairs"][-1]
    assert last["out_channels"] == 512 and last["nominal_out_channels"] == 1024
    assert last["closed_form"] == round(1 / (0.5 * 1024) + 1 / 9, 6)


def test_grouped_pointwise_pairs_through_a_shuffle():
    # ShuffleNet v1: depthwise -> BN -> channel shuffle -> grouped 1x1; ratio 1/N + 1/(g k^2)
    net, a = report("shufflenet_v1", groups=3)
    pairs = compression(net, a)["pairs"]
    assert pairs and all(p["pointwise_groups"] == 3 for p in pairs)
    p = pairs[0]
    assert p["closed_form"] == round(1 / p["out_channels"] + 1 / 27, 6) == p["macs_ratio"]


@given(m=st.integers(2, 64), n=st.integers(1, 64), k=st.sampled_from([3, 5, 7]), s=st.integers(1, 2))
@settings(max_examples=60, deadline=None)
def test_separable_pair_property(m, n, k, s):
    net = Network("t", (m, 16, 16))
    net.add("dw", Conv2d(out_channels=m, kernel_size=k, stride=s, padding=k // 2, groups=m, bias=False))
    net.add("bn", BatchNorm2d())
    net.add("act", ReLU())
    net.add("pw", Conv2d(out_channels=n, kernel_size=1, bias=False))
    (pair,) = separable_pairs(net)
    assert (pair.depthwise, pair.pointwise) == ("dw", "pw")
    t = compression(net, analyze(net))
    ratio = Fraction(1, n) + Fraction(1, k * k)
    row = t["pairs"][0]
    assert row["standard_macs"] * ratio == row["macs"]
    assert row["standard_params"] * ratio == row["params"]


def test_breakdown_by_stage_sums_to_totals():
    net, a = report("resnet50")
    rows = breakdown(net, a, by="stage")
    assert [r["group"] for r in rows] == ["stem", "layer1", "layer2", "layer3", "layer4", "pool", "flatten", "fc"]
    for m in ("macs", "params", "traffic_bytes"):
        assert sum(r[m] for r in rows) == sum(getattr(c, m) for c in a.layers)
    assert sum(r["feature_bytes"] for r in rows) == a.totals["feature_memory_bytes"]
    top = top_layers(a, 5, "params")
    # the three 3x3x512x512 convs of layer4 and its 1x1 1024->2048 projection outweigh the FC
    assert [t["params"] for t in top] == [3 * 3 * 512 * 512] * 3 + [1024 * 2048, 2048 * 1000 + 1000]
    assert top[3]["name"] == "layer4.block0.downsample.conv" and top[4]["name"] == "fc"



@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown"])
def test_ratio_command_every_format(cli, fmt):
    code, out, err = cli("ratio", "mobilenet_v1", "--format", fmt)
    assert code == 0 and err == ""
    if fmt == "json":
        d = json.loads(out)
        assert len(d["pairs"]) == 13 and d["totals"]["standard_macs"] == 4_867_293_184
    else:
        assert "block13.dw.conv" in out


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown"])
def test_compare_command_every_format(cli, fmt):
    code, out, err = cli("compare", "mobilenet_v1", "mobilenet_v2", "shufflenet_v2", "--res", "224",
                         "--format", fmt)
    assert code == 0, err
    if fmt == "json":
        d = json.loads(out)
        assert [r["macs"] for r in d["results"]] == [568_740_352, 300_774_272, 144_907_992]
    else:
        assert "shufflenet_v2" in out


def test_compare_per_target_options(cli):
    code, out, _ = cli("compare", "mobilenet_v2:alpha=0.75,res=192", "shufflenet_v1:groups=8",
                       "--format", "json")
    rows = json.loads(out)["results"]
    assert rows[0]["macs"] == 153_941_888
    assert rows[1]["config"].startswith("groups=8")
    code, _, err = cli("compare", "mobilenet_v2", "resnet18", "--groups", "3")
    assert code == 2 and "none of mobilenet_v2, resnet18 takes --groups" in err
    code, _, err = cli("compare", "mobilenet_v2:alpha")
    assert code == 2 and "expected NAME:key=value" in err
    code, _, err = cli("compare", "mobilenet_v2:alpha=0")
    assert code == 2 and "--alpha must be in (0, 4]" in err


def test_sweep_command(cli, tmp_path):
    plot = tmp_path / "sweep.png"
    code, out, err = cli("sweep", "mobilenet_v2", "--alpha", "0.35,0.5,0.75,1.0,1.4",
                         "--res", "96,128,160,192,224", "--format", "json", "--plot", str(plot))
    assert code == 0, err
    points = json.loads(out)["points"]
    assert len(points) == 25
    p = next(p for p in points if p["alpha"] == 0.75 and p["res"] == 192)
    assert p["macs"] == 153_941_888 and p["params"] == 2_636_424
    assert plot.stat().st_size > 10_000 and plot.read_bytes()[:4] == b"\x89PNG"


def test_sweep_reports_vanishing_points(cli):
    code, out, _ = cli("sweep", "mobilenet_v2", "--res", "16,224", "--format", "json")
    points = json.loads(out)["points"]
    assert code == 0 and "feature map vanishes" in points[0]["error"] and points[1]["macs"] == 300_774_272


@pytest.mark.parametrize("by", ["stage", "type", "op", "layer"])
def test_breakdown_command(cli, by):
    code, out, err = cli("breakdown", "mobilenet_v2", "--by", by, "--format", "json")
    assert code == 0, err
    rows = json.loads(out)["rows"]
    assert rows and (by != "layer" or len(rows) == 10)


def test_sweep_with_a_device_adds_latency(cli):
    code, out, err = cli("sweep", "mobilenet_v2", "--alpha", "0.5,1.0", "--res", "224",
                         "--device", "v100", "--format", "json")
    assert code == 0, err
    d = json.loads(out)
    assert d["device"] == "v100-sxm2"
    small, large = d["points"]
    # the estimate is the latency model's (calc/latency/roofline.py), never below its plain bound here
    assert 0 < small["roofline_ms"] < small["latency_ms"] and small["latency_ms"] < large["latency_ms"]
    code, _, err = cli("sweep", "mobilenet_v2", "--device", "tpu")
    assert code == 2 and "tpu" in err
