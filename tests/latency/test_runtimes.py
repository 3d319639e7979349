"""How a runtime executes a network: engines and framework ops, grouped convs, SE blocks,
reduced-precision engines; the runtimes as data; PaddleClas' T4 mobile measurements."""
import pytest

import archs
from calc.errors import CalcError
from calc.graph import Network
from calc.latency.devices import find_device, packaged_devices
from calc.latency.fusion import engine_segments, plan
from calc.latency.roofline import default_model, engine_plans, estimate, kernel_seconds, works
from calc.latency.runtimes import find_runtime, packaged_runtimes, parse_runtimes
from calc.latency.validate import parse_rows
from calc.layers import BatchNorm2d, Conv2d, ReLU6
from calc.layers.structural import Add

V100 = find_device("v100", packaged_devices())
T4 = find_device("t4", packaged_devices())


def kernels_of(name, runtime=None, **options):
    return plan(archs.build(name, **options), runtime).kernels


# ---------------------------------------------------------------------------
# Runtimes as data


def test_runtimes_are_data_with_their_evidence():
    rts = packaged_runtimes()
    assert {"paddle-trt-2020", "trt8"} <= set(rts)
    for r in rts.values():
        assert r.source("default") and r.name
    old = find_runtime("paddle-trt")  # an alias
    assert old.key == "paddle-trt-2020" and find_runtime(None) is old  # the default: the measured tables'
    assert old.outside_engine == {"ReLU6"} and old.min_segment == 3 and old.grouped_conv == "per_group"
    assert "op_teller.cc" in old.source("outside_engine") and "min_subgraph_size = 3" in old.source("min_segment")
    with pytest.raises(CalcError, match="unknown runtime 'trt9'.*did you mean"):
        find_runtime("trt9")


@pytest.mark.parametrize("change,msg", [
    ({"outside_engine": ["Relu6"]}, "unknown layer types Relu6"),
    ({"grouped_conv": "loop"}, "grouped_conv must be one of per_group, one_kernel"),
    ({"sources": {}}, "no sources"),
    ({"extra": 1}, "unknown field"),
])
def test_bad_runtime_table(change, msg):
    base = {"framework": "none", "outside_engine": [], "min_segment": 1, "grouped_conv": "one_kernel",
            "one_shot_group_channels": 0, "pointwise_fusion": True, "sources": {"default": "d"}}
    with pytest.raises(CalcError, match=msg):
        parse_runtimes({"x": {**base, **change}}, "mine.toml")
    with pytest.raises(CalcError, match="missing min_segment"):
        parse_runtimes({"x": {k: v for k, v in base.items() if k != "min_segment"}}, "mine.toml")


# ---------------------------------------------------------------------------
# Engines and framework ops


def test_relu6_runs_outside_the_2020_engine():
    # PaddleClas' MobileNetV2 under the 2020 Paddle-TensorRT: each of its 36 ReLU6 is a framework
    # op; between two of them a [conv, BN] pair (the stem, the t=1 block's expand conv, the 17
    # depthwise convs) is 2 layers, below Paddle's min_subgraph_size of 3, so it stays in the
    # framework too; [project conv, BN, (add), next expand conv, BN] runs are engines: 16 + the
    # last project with the head conv = 17; the pool and the FC (2 layers) stay outside too
    p = plan(archs.build("mobilenet_v2_paddle"))
    outside = [k.op for k in p.kernels if k.in_framework]
    assert outside.count("ReLU6") == 36 and outside.count("Conv2d+BatchNorm2d") == 19
    assert p.engines == 17 and p.framework_ops == 17 + 36 + 19 + 2
    # TensorRT 8 takes everything: one engine, ReLU6 fused into the convs
    t = plan(archs.build("mobilenet_v2_paddle"), "trt8")
    assert t.engines == 1 and not any(k.in_framework for k in t.kernels)
    assert not any(k.op == "ReLU6" for k in t.kernels)
    # networks without ReLU6 are one engine in both runtimes
    assert plan(archs.build("resnet50")).engines == 1 and plan(archs.build("mobilenet_v1")).framework_ops == 1


def test_engine_segments_never_close_a_cycle():
    # c1 -> b1 -> relu6 (framework) -> c2 -> b2 -> add(b1, b2): the add may not join b1's
    # segment (the path b1 -> relu6 -> ... -> add leaves it), so it joins b2's
    n = Network("t", (16, 8, 8))
    n.add("c1", Conv2d(out_channels=16, kernel_size=1, bias=False))
    b1 = n.add("b1", BatchNorm2d())
    n.add("r", ReLU6())
    n.add("c2", Conv2d(out_channels=16, kernel_size=1, bias=False))
    b2 = n.add("b2", BatchNorm2d())
    n.add("add", Add(), [b1, b2])
    seg = engine_segments(n, "paddle-trt-2020")
    # {c1, b1} has 2 layers (< 3): framework; {c2, b2, add} is the engine
    assert seg == {"c1": None, "b1": None, "r": None, "c2": 0, "b2": 0, "add": 0}
    assert engine_segments(n, "trt8") == {k: 0 for k in seg}


# ---------------------------------------------------------------------------
# Grouped convs, SE blocks


def test_grouped_convs_run_group_by_group_in_the_2020_runtime():
    v = works(archs.build("resnext50_32x4d"), 1, V100, "fp32")
    grouped = [w for w in v.works if w.op.startswith("Conv2d") and w.name.endswith("conv2")]
    # 32 groups of 4 channels in layer1 (cuDNN 7's one-shot case: 1, 2 or 4 channels per group),
    # of 8 / 16 / 32 channels in layer2-4: one kernel per group
    assert [w.launches for w in grouped] == [1] * 3 + [32] * 13
    t = works(archs.build("resnext50_32x4d"), 1, V100, "fp32", runtime="trt8")
    assert all(w.launches == 1 for w in t.works)
    # depthwise convs are one kernel in both
    assert all(w.launches == 1 for w in works(archs.build("mobilenet_v2"), 1, V100, "fp32").works)
    # each group's kernel pays its own launch, and its fill term sees a group's outputs
    g = next(w for w in grouped if w.launches == 32)
    assert g.out_elems * 32 == archs.build("resnext50_32x4d")[g.name].shape[0] * 28 * 28


def test_se_squeeze_path_is_gemv_and_the_gate_a_pointwise_kernel():
    ops = [k.op for k in kernels_of("se_resnet50")]
    assert ops.count("Conv2d+ReLU") == 16 and ops.count("Conv2d+Sigmoid") == 16  # the two 1x1 FCs
    assert ops.count("GlobalAvgPool2d") == 16 and ops.count("AvgPool2d") == 1  # the squeezes; the head (Cadene: AvgPool2d(7))
    # the gate multiply, the residual add and the ReLU: one pointwise kernel (TensorRT's PointWise
    # fusion), except where the add went into the shortcut conv (4 downsampling blocks)
    assert ops.count("Mul+Add+ReLU") == 12 and ops.count("Mul") == 4
    w = works(archs.build("se_resnet50"), 1, V100, "fp16")
    se = [x for x in w.works if x.op in ("Conv2d+ReLU", "Conv2d+Sigmoid")]
    assert se and not any(x.conv for x in se)  # a 1x1 conv on a 1x1 map: GEMV, no tile fill term


# ---------------------------------------------------------------------------
# Reduced precision at an engine's edges


def test_reformats_at_a_reduced_precision_engines_edges():
    e = estimate(archs.build("resnet18"), V100, dtype="fp16", batch=8, runtime="trt8")
    assert [k.work.op for k in e.kernels].count("Reformat") == 2  # the input in, the logits out
    r = next(k for k in e.kernels if k.work.name == "input.reformat")
    assert r.work.bytes == 3 * 224 * 224 * 8 * (4 + 2)
    assert not any(k.work.op == "Reformat" for k in estimate(archs.build("resnet18"), V100, batch=8).kernels)


# ---------------------------------------------------------------------------
# PaddleClas' T4 mobile measurements (archs/data/latency_paddleclas_t4_mobile.yaml)


def test_t4_mobile_tables():
    tables = {t.id: t for t in archs.latency_tables()}
    fp16, fp32 = tables["mobile-t4-fp16"], tables["mobile-t4-fp32"]
    # 18 PaddleClas names per precision; MobileNetV1_ssld and MobileNetV2_ssld repeat their base
    # models' figures exactly and are left out
    assert len(fp16.rows) == len(fp32.rows) == 16 and fp16.batches == (1, 4, 8) and fp16.host_copy
    rows = {r.name: r for r in fp32.rows}
    assert "MobileNetV2_ssld" not in rows
    assert rows["MobileNetV2_x2_0"].ms == (3.29788, 7.08644, 12.45375)  # as printed
    assert (rows["MobileNetV2_x2_0"].arch, rows["ShuffleNetV2_x0_33"].options) == \
        ("mobilenet_v2_paddle", {"variant": "paddle", "alpha": 0.33, "res": 224})
    assert fp16.campaign == "PaddleClas T4 mobile" and fp16.device == "t4"


def test_parse_rows_keeps_a_twin_whose_figures_differ():
    def row(name, batch, ms):
        return {"paddle_name": name, "model": "m", "width": 1.0, "crop": 224, "device": "T4",
                "precision": "fp16", "batch": batch, "latency_ms": ms}
    data = {"rows": [row("A", 1, 1.0), row("A", 4, 2.0), row("A_ssld", 1, 1.0), row("A_ssld", 4, 2.0),
                     row("B_ssld", 1, 1.0), row("B_ssld", 4, 2.5)]}
    (t,) = parse_rows(data, prefix="x", campaign="c", host_copy=True,
                      arch_of=lambda r: ("net", {"alpha": 1.0 if r["paddle_name"] != "B_ssld" else 1.0}),
                      devices={"T4": "t4"})
    assert [r.name for r in t.rows] == ["A", "B_ssld"]  # A_ssld repeats A; B_ssld's figures differ
    data["rows"].pop()
    with pytest.raises(ValueError, match="B_ssld .* lacks some of the batch sizes"):
        parse_rows(data, prefix="x", campaign="c", host_copy=True, arch_of=lambda r: ("net", {}),
                   devices={"T4": "t4"})


def test_a_reduced_precision_engine_keeps_the_faster_plan():
    # TensorRT's FP16 mode allows FP16 kernels with FP32 fallback and keeps the faster plan,
    # reformats included: the tiny engines of MobileNetV2 0.25x at batch 1 stay in fp32 (its
    # T4 FP16 and FP32 figures are 2.854 and 2.820 ms), ResNet-50's one engine does not
    m = archs.build("mobilenet_v2_paddle", alpha=0.25)
    e = estimate(m, T4, dtype="fp16", batch=1)
    assert all(k.work.fallback for k in e.kernels if not k.work.framework)
    assert not any(k.work.op == "Reformat" for k in e.kernels)
    assert "batch 1: 17 of 17 engine(s) run in fp32" in " ".join(e.notes)
    r = estimate(archs.build("resnet50"), V100, dtype="fp16", batch=8)
    assert not any(k.work.fallback for k in r.kernels) and r.kernels[0].work.tensor
    # the plan kept is never slower than forcing either precision
    sched, model = works(m, 1, T4, "fp16"), default_model()
    times = []
    for w in sched.works:
        compute, memory, overhead = kernel_seconds(w, T4.sms, T4.bandwidth, model)
        times.append(overhead + max(compute, memory))
    kept = sum(t for t, run in zip(times, engine_plans(sched.works, times)) if run)
    fp16 = sum(t for w, t in zip(sched.works, times) if not w.fallback)
    fp32 = sum(t for w, t in zip(sched.works, times) if w.framework or w.fallback)
    assert kept <= min(fp16, fp32) + 1e-15 and kept < fp16
