"""Roofline bounds and the latency estimate: hand-computed layers, fusion, invariants of
the model, devices as data, the statistics, the seed validation, and the command line."""
import importlib.util
import json
import sys
from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

import archs
from calc.counting import analyze
from calc.latency.devices import find_device, load_devices, packaged_devices
from calc.errors import CalcError
from calc.graph import Network
from calc.latency.validate import CALIBRATION, mdape, predict, ranks, spearman
from calc.layers import Conv2d, Flatten, Linear
from calc.latency.fusion import fuse
from calc.latency.roofline import Model, default_model, estimate, model_constants, roofline_layers

ROOT = Path(__file__).resolve().parents[2]
V100 = find_device("v100", packaged_devices())
T4 = find_device("t4", packaged_devices())


@lru_cache(maxsize=None)
def net(name, **options):
    return archs.build(name, **options)


# ---------------------------------------------------------------------------
# Devices as data

def test_packaged_devices_cover_the_issue_and_cite_every_figure():
    devs = packaged_devices()
    for key in ("v100-sxm2", "v100-pcie", "t4", "a100-sxm4-80gb", "h100-sxm5", "h200-sxm"):
        assert key in devs
    for d in devs.values():
        for fig in ("fp32_tflops", "fp16_tensor_tflops", "bandwidth_gbs", "sms", "memory_gb"):
            assert d.has(fig), (d.key, fig)
        assert all(d.source(f) for f in d.figures)
    # datasheet figures (NVIDIA datasheets; Hopper dense = half the 'with sparsity' figure)
    assert (V100.get("fp32_tflops"), V100.get("fp16_tensor_tflops"), V100.get("bandwidth_gbs")) == (15.7, 125, 900)
    assert (T4.get("fp16_tensor_tflops"), T4.get("int8_tensor_tops"), T4.get("bandwidth_gbs")) == (65, 130, 320)
    h200 = find_device("h200", devs)
    assert h200.get("bandwidth_gbs") == 4800 and h200.get("fp16_tensor_tflops") == 1979 / 2


def test_user_devices_file(tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text('[l4]\nname = "NVIDIA L4"\nfp32_tflops = 30.3\nfp16_tensor_tflops = 121\n'
                 'bandwidth_gbs = 300\nmemory_gb = 24\nsms = 58\nhost_link_gbs = 31.5\n'
                 '[l4.sources]\ndefault = "NVIDIA L4 datasheet (2023), dense figures"\n')
    devs = load_devices(f)
    assert "v100-sxm2" in devs and find_device("L4", devs).get("sms") == 58
    e = estimate(net("resnet18"), find_device("l4", devs), dtype="fp16", batch=4)
    assert e.latency_s > 0


@pytest.mark.parametrize("text,msg", [
    ('[x]\nfp32_tflops = 1\nbandwidth_gbs = 1\nmemory_gb = 1\nsms = 1\nhost_link_gbs = 1\n', "no source"),
    ('[x]\nfp32_tflops = 1\nbandwidth_gbs = 1\nmemory_gb = 1\nsms = 1\n[x.sources]\ndefault = "d"\n',
     "missing host_link_gbs"),
    ('[x]\nfp32_tflop = 1\n', "unknown field"),
    ('[x]\nfp32_tflops = -1\nbandwidth_gbs = 1\nmemory_gb = 1\nsms = 1\nhost_link_gbs = 1\n'
     '[x.sources]\ndefault = "d"\n', r"fp32_tflops must be a number from 0.001 to 1e\+06, received -1"),
    ('[x\n', "not valid TOML"),
])
def test_bad_devices_file(tmp_path, text, msg):
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(CalcError, match=msg):
        load_devices(f)


def test_unknown_device_and_unsupported_dtype():
    with pytest.raises(CalcError, match="unknown device 'v1000'.*did you mean"):
        find_device("v1000", packaged_devices())
    with pytest.raises(CalcError, match="no BF16"):
        estimate(net("resnet18"), V100, dtype="bf16")


# ---------------------------------------------------------------------------
# The plain roofline on hand-computed layers (V100 SXM2: 15.7 TFLOPS FP32, 125 FP16 tensor,
# 900 GB/s; ridge points 17.4 and 139 FLOP/byte)

def one_layer(shape, *layers, batch=1, dtype="fp32", device=V100):
    n = Network("t", shape)
    for i, layer in enumerate(layers):
        n.add(f"l{i}", layer)
    return roofline_layers(n, analyze(n, batch=batch, dtype=dtype, convention="flops"), device, dtype)[-1]


def test_fc_at_batch_1_is_memory_bound():
    r = one_layer((4096, 1, 1), Flatten(), Linear(out_features=4096))
    assert r.flops == 2 * 4096 * 4096 + 4096  # 2 x MACs + bias adds
    assert r.bytes == (4096 + 4096 + 4096 * 4096 + 4096) * 4  # input + output + weights, fp32
    assert r.intensity == pytest.approx(0.49970, abs=1e-5)
    assert r.bound(V100.bandwidth) == "memory"
    assert r.time_s == pytest.approx(67_158_016 / 900e9)
    assert r.attainable(V100.bandwidth) == pytest.approx(0.49970 * 900e9, rel=1e-4)


def test_big_conv_at_fp16_is_compute_bound_on_tensor_cores():
    r = one_layer((256, 56, 56), Conv2d(out_channels=256, kernel_size=3, padding=1, bias=False),
                  batch=32, dtype="fp16")
    macs = 256 * 56 * 56 * 256 * 9
    assert r.flops == 2 * macs * 32
    assert r.bytes == (2 * 256 * 56 * 56 * 32 + 256 * 256 * 9) * 2
    assert r.unit == "fp16_tensor_tflops" and r.bound(V100.bandwidth) == "compute"
    assert r.time_s == pytest.approx(2 * macs * 32 / 125e12)
    assert r.intensity > 125e12 / 900e9


def test_depthwise_conv_runs_on_cuda_cores_and_is_memory_bound():
    r = one_layer((256, 56, 56), Conv2d(out_channels=256, kernel_size=3, padding=1, groups=256, bias=False),
                  batch=32, dtype="fp16")
    assert r.unit == "fp16_tflops"  # no tensor cores for 1 channel per group
    assert r.bound(V100.bandwidth) == "memory"
    assert r.intensity == pytest.approx(2 * 9 * 256 * 56 * 56 * 32 / ((2 * 256 * 56 * 56 * 32 + 256 * 9) * 2))


def test_stem_conv_is_padded_not_demoted():
    # a dense conv with 3 input channels runs on tensor cores, its channels padded to 8
    e = estimate(net("resnet18"), V100, dtype="fp16", batch=1)
    stem = e.kernels[0].work
    assert stem.unit == "fp16_tensor_tflops"
    assert stem.flops == 2 * 64 * 112 * 112 * 3 * 49 * 8 // 3


# ---------------------------------------------------------------------------
# The estimate on a hand-computed kernel

MODEL = Model(launch_us=10.0, tail_us=4.0, eff_tensor=0.5, eff_simt=0.5, eff_mem=0.8, eff_host=0.5,
              winograd=2.0, sat_tensor=1000.0, sat_simt=1000.0, framework_us=7.0)


def test_fc_kernel_time_by_hand():
    n = Network("t", (4096, 1, 1))
    n.add("flat", Flatten())
    n.add("fc", Linear(out_features=4096))
    (k,) = estimate(n, V100, batch=1, model=MODEL, runtime="trt8").kernels
    assert k.memory_s == pytest.approx(67_158_016 / (0.8 * 900e9))  # 93.3 us
    assert k.compute_s == pytest.approx(2 * 4096 * 4096 / (0.5 * 15.7e12))  # FC: no fill term
    # max(launch, work + tail): the work (93 us) is longer than the launch interval (10 us)
    assert k.overhead_s == pytest.approx(4e-6) and k.bound == "memory"
    assert k.time_s == pytest.approx(4e-6 + k.memory_s)


def test_small_kernel_costs_the_launch_interval():
    # a 1x1 FC: its work (~0.05 us) is far below the launch interval, so it costs 10 us
    n = Network("t", (16, 1, 1))
    n.add("flat", Flatten())
    n.add("fc", Linear(out_features=16))
    (k,) = estimate(n, V100, batch=1, model=MODEL, runtime="trt8").kernels
    assert k.time_s == pytest.approx(10e-6) and k.bound == "overhead"


def test_conv_pays_one_tiles_reduction_on_top_of_its_throughput_time():
    # 7x7x512 output = 25,088 elements; 80 SMs x 1000: the fill term is 80,000 / outputs
    n = Network("t", (512, 7, 7))
    n.add("conv", Conv2d(out_channels=512, kernel_size=3, padding=1, bias=False))
    full = 2 * 512 * 49 * 512 * 9 / (0.5 * 125e12)
    for batch in (1, 2, 8):
        e = estimate(n, V100, dtype="fp16", batch=batch, model=MODEL, runtime="trt8")
        (k,) = [k for k in e.kernels if k.work.op == "Conv2d"]
        assert k.compute_s == pytest.approx(batch * full * (1 + 80_000 / (25_088 * batch)))
    # the fill term is the same time at every batch: one tile's reduction, 2 x 4608 MACs deep
    assert full * 80_000 / 25_088 == pytest.approx(2 * 512 * 9 * 80 * 1000 / (0.5 * 125e12))


def test_t4_compute_runs_at_its_sustained_clock():
    t4 = T4
    assert t4.clock_factor == pytest.approx(t4.get("sustained_mhz") / 1590)
    assert 585 <= t4.get("sustained_mhz") < 1590  # between base and boost (Turing whitepaper)
    n = Network("t", (256, 28, 28))
    n.add("conv", Conv2d(out_channels=256, kernel_size=3, padding=1, bias=False))
    (k,) = [k for k in estimate(n, t4, dtype="fp16", batch=8, model=MODEL, runtime="trt8").kernels
            if k.work.op == "Conv2d"]
    assert k.work.peak == pytest.approx(65e12 * t4.clock_factor)
    assert estimate(n, t4, dtype="fp16", batch=8).layers[0].peak == 65e12  # the plain roofline: datasheet


def test_winograd_only_for_dense_3x3_stride_1_on_cuda_cores():
    n = Network("t", (64, 56, 56))
    n.add("c3", Conv2d(out_channels=64, kernel_size=3, padding=1, bias=False))
    n.add("c3s2", Conv2d(out_channels=64, kernel_size=3, stride=2, padding=1, bias=False))
    n.add("c1", Conv2d(out_channels=64, kernel_size=1, bias=False))
    fp32 = estimate(n, V100, dtype="fp32", batch=8, model=MODEL).kernels
    assert [k.work.winograd for k in fp32] == [True, False, False]
    assert not any(k.work.winograd for k in estimate(n, V100, dtype="fp16", batch=8, model=MODEL).kernels)
    a100 = find_device("a100", packaged_devices())
    assert not any(k.work.winograd for k in estimate(n, a100, dtype="fp32", batch=8).kernels)  # TF32
    assert all(k.work.winograd is False for k in estimate(n, a100, dtype="fp32", batch=8, tf32=False).kernels[1:])


def test_host_copy():
    e = estimate(net("resnet18"), V100, batch=4, model=MODEL, host_copy=True)
    assert e.copy_s == pytest.approx((3 * 224 * 224 + 1000) * 4 * 4 / (0.5 * 15.75e9))
    assert estimate(net("resnet18"), V100, batch=4, model=MODEL).copy_s == 0
    assert e.conditions.host_copy and e.conditions.runtime.key == "paddle-trt-2020"


def test_framework_ops_cost_framework_us_each():
    # the 2020 Paddle runtime dispatches each engine (and each op left outside) as a framework op
    e = estimate(net("resnet18"), V100, batch=1, model=MODEL)
    assert (e.engines, e.framework_ops) == (1, 1) and e.framework_s == pytest.approx(7e-6)
    t = estimate(net("resnet18"), V100, batch=1, model=MODEL, runtime="trt8")
    assert t.framework_s == 0 and e.latency_s - t.latency_s == pytest.approx(7e-6)


# ---------------------------------------------------------------------------
# Fusion

def kernel_ops(name, **options):
    return [k.op for k in fuse(net(name, **options))]


def test_resnet50_fuses_conv_bn_relu_and_the_residual_add():
    ops = kernel_ops("resnet50")
    assert len(ops) == 53 + 3  # 53 convs, the stem max pool, the global pool, the FC
    assert ops.count("Conv2d+BatchNorm2d+ReLU") == 1 + 2 * 16
    assert ops.count("Conv2d+BatchNorm2d+Add+ReLU") == 16  # one per block: every add is fused
    assert sum(op.startswith("Conv2d") for op in ops) == 53


def test_concat_and_identity_pools_cost_nothing():
    assert len(kernel_ops("squeezenet1_0")) == 26 + 3 + 1  # convs, max pools, global pool
    assert not any("Concat" in op for op in kernel_ops("squeezenet1_0"))
    assert kernel_ops("vgg16").count("AdaptiveAvgPool2d") == 0  # 7x7 -> 7x7: the identity
    assert len(kernel_ops("vgg16")) == 13 + 5 + 3


def test_darknet_fuses_its_add_after_the_relu():
    assert kernel_ops("darknet53").count("Conv2d+BatchNorm2d+ReLU+Add") == 23


@pytest.mark.parametrize("name", ["resnet50", "mobilenet_v2", "shufflenet_v2", "squeezenet1_1", "se_resnet50"])
def test_kernels_partition_the_layers(name):
    n = net(name)
    members = [m for k in fuse(n) for m in k.members]
    assert len(members) == len(set(members))
    free = {x.name for x in n.layers() if x.layer.aliases_input or x.layer.op == "Concat"}
    identity = {x.name for x in n.layers() if x.layer.op == "AdaptiveAvgPool2d" and n.input_shapes(x)[0] == x.shape}
    assert set(members) | free | identity == {x.name for x in n.layers()}


# ---------------------------------------------------------------------------
# Invariants (true for this model by construction: eff <= 1, utilisation <= 1, overhead >= 0,
# and every kernel's time is constant or grows linearly in the batch)

NAMES = ["resnet18", "mobilenet_v2", "squeezenet1_0", "shufflenet_v1", "vgg11"]
DEVICES = ["v100", "t4", "a100", "h100"]


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(NAMES), st.sampled_from(DEVICES), st.sampled_from(["fp32", "fp16"]),
       st.integers(1, 64), st.integers(1, 64), st.booleans())
def test_estimate_invariants(name, device, dtype, b1, b2, host_copy):
    b1, b2 = sorted((b1, b2))
    dev = find_device(device, packaged_devices())
    e1 = estimate(net(name), dev, dtype=dtype, batch=b1, host_copy=host_copy)
    e2 = estimate(net(name), dev, dtype=dtype, batch=b2, host_copy=host_copy)
    for e in (e1, e2):
        assert e.latency_s >= e.fused_floor_s > 0
        assert all(k.time_s >= k.floor_s for k in e.kernels)
        assert e.roofline_s > 0
    assert e2.latency_s >= e1.latency_s * (1 - 1e-12)  # monotonic in the batch
    assert e2.roofline_s >= e1.roofline_s * (1 - 1e-12)
    assert e2.throughput >= e1.throughput * (1 - 1e-12)  # bigger batches never lose throughput


def test_plain_roofline_is_not_a_floor_when_winograd_applies():
    # VGG-16 FP32 on V100 at batch 8: measured 12.33 ms (seed 003) against a direct-conv
    # roofline of 17.5 ms; the estimate, with Winograd, sits below the plain bound too
    e = estimate(net("vgg16"), V100, batch=8)
    assert e.latency_s < e.roofline_s
    assert 12.33e-3 < e.roofline_s


def test_model_constants_are_few_physical_and_in_their_ranges():
    c = model_constants()
    assert set(c) == set(Model.NAMES) and len(c) <= 10
    for name, k in c.items():
        assert k.unit and k.how and len(k.doc) > 40, name
        assert k.lo <= k.value <= k.hi, name
    m = default_model()
    assert 0 < m.eff_tensor <= 1 and 0 < m.eff_simt <= 1 and 0 < m.eff_mem <= 0.9
    assert m.winograd == 2.25  # F(2x2, 3x3)'s saving (Lavin & Gray 2016), held, not fitted


# ---------------------------------------------------------------------------
# Statistics

def test_spearman_by_hand():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1)
    assert ranks([10, 20, 20, 30]) == [1, 2.5, 2.5, 4]
    # ranks [1, 2.5, 2.5, 4] vs [1, 2, 3, 4]: 4.5 / sqrt(4.5 x 5)
    assert spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(4.5 / (4.5 * 5) ** 0.5)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(-10**6, 10**6), st.integers(-10**6, 10**6)), min_size=3, max_size=30, unique_by=(
    lambda t: t[0], lambda t: t[1])))
def test_spearman_matches_the_no_ties_formula(pairs):
    xs, ys = zip(*pairs)
    n = len(xs)
    d2 = sum((a - b) ** 2 for a, b in zip(ranks(xs), ranks(ys)))
    assert spearman(xs, ys) == pytest.approx(1 - 6 * d2 / (n * (n * n - 1)), abs=1e-9)
    assert spearman([x ** 3 for x in xs], ys) == pytest.approx(spearman(xs, ys))  # monotone invariance


def test_mdape():
    from calc.latency.validate import Point

    pts = [Point("t", "m", 1, 1.0, p, 0.0) for p in (1.1, 0.8, 1.0)]
    assert mdape(pts) == pytest.approx(10)


# ---------------------------------------------------------------------------
# The seed measurements

def test_seed_tables_are_complete():
    tables = {t.id: t for t in archs.latency_tables()}
    assert set(tables) == {"003-v100-fp32", "003-t4-fp16", "003-t4-fp32", "004-fp16", "004-fp32",
                           "mobile-t4-fp16", "mobile-t4-fp32"}
    assert {t.campaign for t in tables.values()} == {"seed 003", "seed 004", "PaddleClas T4 mobile"}
    assert {t.runtime for t in tables.values()} == {"paddle-trt-2020"}
    assert set(CALIBRATION) < set(tables)
    assert len(tables["004-fp16"].rows) == 12 and tables["004-fp16"].batches == (1, 4, 8, 32)
    assert tables["003-t4-fp16"].rows[0].ms == (1.06447, 1.70435, 2.38402)
    assert tables["004-fp32"].rows[-1].ms[-1] == 69.053
    for t in tables.values():
        for r in t.rows:
            archs.build(r.arch, **r.options)  # every row names a buildable network


@lru_cache(maxsize=None)
def packaged_results():
    return tuple(predict(archs.latency_tables(), build=archs.build))


def test_packaged_model_meets_the_target_on_every_table():
    # the model against published measurements (no timing is taken here): median absolute
    # percentage error <= 15% and rank correlation >= 0.95 on each table, held-out ones included
    for res in packaged_results():
        assert res.mdape <= 15, res.table.id
        assert res.spearman >= 0.95, res.table.id
    held_out = [r for r in packaged_results() if r.table.role == "validation"]
    assert {r.table.id for r in held_out} == {"003-t4-fp16", "003-t4-fp32"}


def test_calibration_script_uses_the_same_formula():
    spec = importlib.util.spec_from_file_location("calibrate_latency", ROOT / "benchmarks" / "calibrate_latency.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    tables = [t for t in archs.latency_tables() if t.id in ("003-t4-fp16", "004-fp32", "mobile-t4-fp16")]
    data = mod.Dataset(tables)
    vec = data.predict(default_model())
    ref = [p.predicted_ms for res in predict(tables, build=archs.build) for p in res.points]
    assert [v * 1e3 for v in vec] == pytest.approx(ref, rel=1e-9)


# ---------------------------------------------------------------------------
# The command line


def test_latency_json_contract(cli):
    code, out, err = cli("latency", "resnet50", "--device", "v100", "--dtype", "fp16",
                         "--batch", "1,8,32", "--format", "json")
    assert code == 0 and err == ""
    d = json.loads(out)
    for key in ("arch", "config", "device", "dtype", "results"):
        assert key in d
    assert d["arch"] == "resnet50" and d["dtype"] == "fp16" and d["device"]["key"] == "v100-sxm2"
    assert [r["batch"] for r in d["results"]] == [1, 8, 32]
    for r in d["results"]:
        assert r["latency_ms"] > 0 and r["roofline_ms"] > 0
        assert r["throughput"] == pytest.approx(r["batch"] / r["latency_ms"] * 1e3, rel=1e-3)
        assert r["latency_ms"] >= r["fused_floor_ms"]
    assert d["results"][0]["layers"][0]["name"] == "stem.conv"
    assert d["conditions"] == {"runtime": "paddle-trt-2020", "batch": [1, 8, 32], "dtype": "fp16",
                               "host_copy": False, "tf32": True}
    assert d["runtime"]["key"] == "paddle-trt-2020" and d["results"][0]["engines"] == 1


def test_latency_states_its_conditions(cli):
    code, out, _ = cli("latency", "mobilenet_v2_paddle", "--device", "t4", "--dtype", "fp16",
                       "--batch", "1,8", "--host-copy")
    cond = out.splitlines()[1]
    assert code == 0 and cond.startswith("conditions: runtime paddle-trt-2020 (Paddle Inference")
    assert "batch 1,8; fp16; host copy timed" in cond
    assert "57 layer(s) run outside the 17 TensorRT engine(s)" in out and "74 framework ops in all" in out
    code, out2, _ = cli("latency", "mobilenet_v2_paddle", "--device", "t4", "--dtype", "fp16",
                        "--batch", "1,8", "--runtime", "trt8")
    assert code == 0 and "runtime trt8 (TensorRT 8" in out2 and "host copy not timed" in out2
    assert "outside the TensorRT engine" not in out2
    code, _, err = cli("latency", "resnet50", "--runtime", "tensorrt9")
    assert code == 2 and "unknown runtime 'tensorrt9'" in err and err.count("\n") == 1
    code, out, _ = cli("devices", "--runtimes")
    assert code == 0 and "paddle-trt-2020 (default)" in out and "min_subgraph_size" in out


def test_latency_table_layers_csv(cli):
    code, out, _ = cli("latency", "mobilenet_v2", "--alpha", "0.5", "--device", "a100",
                       "--batch", "1,4", "--layers")
    assert code == 0 and "mobilenet_v2 (alpha=0.5" in out and "NVIDIA A100 SXM4 80 GB" in out
    assert "per layer (plain roofline)" in out and "per kernel (estimate)" in out
    code, out, _ = cli("latency", "vgg16", "--device", "t4", "--batch", "1,4",
                       "--host-copy", "--format", "csv")
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith("batch,latency_ms,roofline_ms") and len(lines) == 3
    assert lines[0].endswith(",runtime,dtype,host_copy") and lines[1].endswith(",paddle-trt-2020,fp32,True")


@pytest.mark.parametrize("args,msg", [
    (("latency", "resnet50", "--batch", "0"), "--batch must be"),
    (("latency", "resnet50", "--batch", "a,b"), "--batch must be"),
    (("latency", "resnet50", "--device", "gtx"), "unknown device 'gtx'"),
    (("latency", "resnet50", "--device", "v100", "--dtype", "bf16"), "no BF16"),
    (("latency", "resnet50", "--alpha", "0.5"), "resnet50 does not take --alpha"),
    (("latency", "resnet50", "--plot", "x.txt"), "must end in .png, .svg or .pdf"),
])
def test_latency_errors_are_one_line(cli, args, msg):
    code, out, err = cli(*args)
    assert code == 2 and out == ""
    assert err.startswith("calc: error: ") and msg in err and err.count("\n") == 1


def test_devices_command(cli, tmp_path):
    code, out, _ = cli("devices")
    assert code == 0 and "v100-sxm2" in out and "h200-sxm" in out and "t4" in out
    code, out, _ = cli("devices", "--sources")
    assert "NVIDIA T4 Tensor Core GPU datasheet" in out
    code, out, _ = cli("devices", "--format", "json")
    assert {d["key"] for d in json.loads(out)} >= {"v100-pcie", "a100-sxm4-80gb", "h100-sxm5"}


def test_validate_latency_command(cli):
    code, out, _ = cli("validate-latency", "--brief")
    assert code == 0
    for tid in ("003-v100-fp32", "003-t4-fp16", "003-t4-fp32", "004-fp16", "004-fp32", "mobile-t4-fp16"):
        assert tid in out
    assert "MdAPE" in out and "Spearman" in out and "validation" in out
    assert "conditions: device t4, runtime paddle-trt-2020, fp16, batch 1/4/8, host copy timed" in out
    assert "PaddleClas T4 mobile" in out.split("campaign")[-1]  # the per-campaign summary


def test_plot_svg(cli, tmp_path):
    f = tmp_path / "roof.svg"
    code, _, err = cli("latency", "resnet18", "--batch", "1,8", "--plot", str(f))
    assert code == 0, err
    assert "<svg" in f.read_text()[:2000]


def test_plot_without_matplotlib(cli, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    code, _, err = cli("latency", "resnet18", "--plot", str(tmp_path / "r.png"))
    assert code == 2 and "pip install 'calc[plot]'" in err


def test_model_file_replaces_constants(cli, tmp_path):
    f = tmp_path / "m.toml"
    f.write_text("launch_us = 4\n[eff_tensor]\nvalue = 0.9\n")
    from calc.latency.roofline import load_model

    m = load_model(f)
    assert (m.launch_us, m.eff_tensor, m.eff_simt) == (4, 0.9, default_model().eff_simt)
    code, out, _ = cli("latency", "resnet50", "--model", str(f), "--format", "json")
    d = json.loads(out)
    assert code == 0 and d["model"]["launch_us"] == {"value": 4.0, "unit": "microseconds per kernel launch",
                                                     "how": "given (--model)"}
    fast = d["results"][0]["latency_ms"]
    _, out, _ = cli("latency", "resnet50", "--format", "json")
    assert fast < json.loads(out)["results"][0]["latency_ms"]
    f.write_text("kernel_us = 4\n")
    code, _, err = cli("latency", "resnet50", "--model", str(f))
    assert code == 2 and "unknown constant 'kernel_us'" in err
