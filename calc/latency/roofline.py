"""Roofline bounds and a realistic latency estimate for a network on an accelerator.

Two numbers per network and batch size, from the same per-layer quantities:

**The roofline bound** (Williams, Waterman & Patterson 2009): each layer takes
``max(FLOPs / peak, bytes / bandwidth)`` with the datasheet's peak for the unit the layer
runs on (tensor cores for a dense conv or FC at fp16/bf16/int8, CUDA cores otherwise) and
bytes = inputs + weights + output at the dtype; layers run one after another and views
(Flatten, Dropout, ChannelSplit) are free.  It assumes perfect overlap, no launch cost and
direct convolution, so it is an idealisation, not a guaranteed floor: Winograd 3x3
convolutions do fewer multiplications than ``2 x MACs`` and can beat it.

**The estimate** models what an inference runtime (:mod:`calc.latency.runtimes`: the 2020
Paddle-TensorRT of the measured tables, or TensorRT 8 alone) actually runs, under stated
:class:`Conditions` (runtime, batch, precision, whether the host copy is timed):

1. *Engines and fusion* (:func:`calc.latency.fusion.plan`): the layers the runtime converts
   form TensorRT engines, in which a conv or FC absorbs the per-element ops after it, chains
   of per-element ops fuse into one pointwise kernel, concats are elided and views are free;
   the layers it does not convert run as framework ops, in fp32, one kernel each.
2. *Per kernel*: ``launches x max(launch_us, work per launch + tail_us)``, work =
   ``max(compute, memory)``:

   * compute = FLOPs / (achievable fraction x peak at the device's sustained clock), times
     ``1 + SMs x sat / outputs`` for an implicit-GEMM conv (it tiles its output over the
     SMs, and each tile runs its reduction serially: a small output pays one tile's
     reduction time, so the time stops shrinking with the batch).  FLOPs are ``2 x MACs``
     with channels padded to the tensor-core alignment (8 for fp16/bf16, 16 for int8, 4 for
     tf32: NVIDIA's Deep Learning Performance Guide), divided by the Winograd factor for
     3x3/stride-1 dense convs on CUDA cores.  FC layers and 1x1 convs on a 1x1 map (an SE
     block's squeeze and excitation) run as GEMM/GEMV: no fill term.  Depthwise and narrow
     grouped convs cannot use tensor cores and run on CUDA cores, where they are memory-bound.
     A grouped conv is one kernel per group where the runtime runs it so.
   * memory = bytes moved by the fused kernel (external inputs + weights + output) /
     (achievable fraction x bandwidth).

3. *Reduced precision*: a reduced-precision engine converts its inputs and outputs from and
   to fp32 (a reformat kernel per boundary tensor), and runs in fp32 instead where that is
   faster (TensorRT keeps the faster plan): :func:`engine_plans`.
4. *Per run*: each framework op costs ``framework_us``; with ``host_copy``, copying the fp32
   input to the device and the output back over the host link.

The constants (``calc/latency/model.toml``) are ten and global: nothing depends on the
network.  Peaks, bandwidths, SM counts and clocks are the devices' (``devices.toml``, read
by :mod:`calc.latency.devices`).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from calc.latency.devices import Device
from calc.latency.fusion import Kernel, plan
from calc.latency.runtimes import Runtime, find_runtime
from calc.dtypes import dtype_bytes
from calc.errors import CalcError
from calc.graph import Network
from calc.layers import Conv2d, Linear
from calc.layers.base import numel
from calc.layers.spatial import pair
from calc.units import si

# ---------------------------------------------------------------------------
# Which unit runs a layer

#: tensor-core channel alignment (NVIDIA Deep Learning Performance Guide, "Tensor Core
#: requirements": FP16/BF16 multiples of 8, INT8 multiples of 16, TF32 multiples of 4)
ALIGN = {"tf32_tensor_tflops": 4, "fp16_tensor_tflops": 8, "bf16_tensor_tflops": 8, "int8_tensor_tops": 16}
TENSOR_UNIT = {"fp16": "fp16_tensor_tflops", "bf16": "bf16_tensor_tflops", "int8": "int8_tensor_tops"}


def simt_unit(device: Device, dtype: str) -> str:
    """CUDA-core unit for ``dtype`` (the fp32 rate where the datasheet gives no other)."""
    if dtype in ("fp16", "bf16") and device.has("fp16_tflops"):
        return "fp16_tflops"
    if dtype == "int8" and device.has("int8_tops"):
        return "int8_tops"
    return "fp32_tflops"


def check_dtype(device: Device, dtype: str) -> None:
    dtype_bytes(dtype)
    if dtype == "bf16" and not device.has("bf16_tensor_tflops"):
        raise CalcError(f"--dtype bf16: {device.name} has no BF16 support (Ampere and later)")
    if dtype == "int8" and not (device.has("int8_tensor_tops") or device.has("int8_tops")):
        raise CalcError(f"--dtype int8: the device table gives no INT8 rate for {device.name}")


def gemm_unit(device: Device, dtype: str, tf32: bool) -> str:
    """Unit of a dense conv / FC: tensor cores where the device has them for ``dtype``."""
    if dtype == "fp32":
        return "tf32_tensor_tflops" if tf32 and device.has("tf32_tensor_tflops") else "fp32_tflops"
    unit = TENSOR_UNIT[dtype]
    return unit if device.has(unit) else simt_unit(device, dtype)


def layer_unit(layer, ins, device: Device, dtype: str, tf32: bool) -> str:
    if isinstance(layer, Linear):
        return gemm_unit(device, dtype, tf32)
    if isinstance(layer, Conv2d):
        unit = gemm_unit(device, dtype, tf32)
        align = ALIGN.get(unit)
        per_group = min(ins[0][0], layer.out_channels) // layer.groups
        if align and layer.groups > 1 and per_group < align:
            return simt_unit(device, dtype)  # depthwise / narrow groups: no tensor cores
        return unit  # a dense conv with few channels (an RGB stem) is padded to the alignment
    return simt_unit(device, dtype)


# ---------------------------------------------------------------------------
# The plain roofline, per layer


@dataclass(frozen=True)
class LayerRoof:
    name: str
    op: str
    flops: int
    bytes: int
    unit: str
    peak: float  # FLOP/s of the unit
    time_s: float

    @property
    def intensity(self) -> float:
        return self.flops / self.bytes if self.bytes else 0.0

    def attainable(self, bandwidth: float) -> float:
        """FLOP/s the roofline allows at this layer's intensity."""
        return min(self.peak, self.intensity * bandwidth)

    def bound(self, bandwidth: float) -> str:
        if not self.bytes and not self.flops:
            return "-"
        return "compute" if self.flops / self.peak >= self.bytes / bandwidth else "memory"


def roofline_layers(net: Network, analysis, device: Device, dtype: str, tf32: bool = True) -> list[LayerRoof]:
    """The roofline time of every layer of ``analysis`` (counted under ``flops``)."""
    out = []
    for node, c in zip(net.layers(), analysis.layers):
        unit = layer_unit(node.layer, net.input_shapes(node), device, dtype, tf32)
        peak = device.get(unit) * 1e12
        t = max(c.flops / peak, c.traffic_bytes / device.bandwidth)
        out.append(LayerRoof(c.name, c.op, c.flops, c.traffic_bytes, unit, peak, t))
    return out


# ---------------------------------------------------------------------------
# The model's constants


@dataclass(frozen=True)
class Constant:
    value: float
    unit: str
    how: str
    doc: str
    lo: float  # the physical range the calibration may search
    hi: float


@dataclass(frozen=True)
class Model:
    """The realistic model's constants (see ``calc/latency/model.toml``)."""

    launch_us: float  # per kernel launched: dispatch and launch
    tail_us: float  # cap of the tail that grows with a kernel's work (last wave, drain, wait)
    eff_tensor: float  # achievable fraction of the tensor-core peak
    eff_simt: float  # achievable fraction of the CUDA-core peak
    eff_mem: float  # achievable fraction of the memory bandwidth
    eff_host: float  # achievable fraction of the host link (pageable copies)
    winograd: float  # FLOP reduction of 3x3/s1 convs on CUDA cores
    sat_tensor: float  # output elements per SM that saturate a tensor-core conv
    sat_simt: float  # ... a CUDA-core conv
    framework_us: float  # per op the framework dispatches around the engine (Paddle)

    NAMES = ("launch_us", "tail_us", "eff_tensor", "eff_simt", "eff_mem", "eff_host", "winograd",
             "sat_tensor", "sat_simt", "framework_us")

    def replace(self, **kw: float) -> "Model":
        return Model(**{**{n: getattr(self, n) for n in self.NAMES}, **kw})


@cache
def model_constants() -> dict[str, Constant]:
    from calc.datafiles import packaged

    data = packaged("calc", "latency/model.toml")
    return {k: Constant(float(v["value"]), v["unit"], v["how"], v["doc"], float(v["range"][0]), float(v["range"][1]))
            for k, v in data.items()}


@cache
def default_model() -> Model:
    c = model_constants()
    return Model(**{n: c[n].value for n in Model.NAMES})


#: what a replaced constant may be: a fraction of a peak, a FLOP reduction, a size, a time in µs
_MODEL_BOUNDS = {
    "eff": (1e-3, 1.0, "a fraction of the peak"),
    "winograd": (1.0, 16.0, "a FLOP reduction factor"),
    "sat": (1.0, 1e9, "a number of output elements per SM"),
    "us": (0.0, 1e6, "a time in microseconds"),
}


def load_model(path: str | Path | None = None) -> Model:
    """The packaged constants, with those of the TOML file ``path`` (``name = number`` or
    tables of the form of ``calc/latency/model.toml``) replacing them."""
    model = default_model()
    if path is None:
        return model
    from calc.datafiles import load

    data = load(path, f"--model: {path}", fmt="toml")
    given = {}
    for name, v in data.items():
        if name not in Model.NAMES:
            raise CalcError(f"--model: {path}: unknown constant {name!r}; known: {', '.join(Model.NAMES)}")
        v = v.get("value") if isinstance(v, dict) else v
        lo, hi, what = _MODEL_BOUNDS[name.split("_")[0] if not name.endswith("_us") else "us"]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
            raise CalcError(f"--model: {path}: {name} must be {what} from {lo:g} to {hi:g}, received {v!r}")
        given[name] = float(v)
    return model.replace(**given)


# ---------------------------------------------------------------------------
# The benchmark: what is timed, and how


@dataclass(frozen=True)
class Conditions:
    """The stated conditions of an estimate: a latency means nothing without them."""

    runtime: Runtime
    batch: int
    dtype: str
    host_copy: bool
    tf32: bool = True

    def describe(self) -> str:
        copy = "host copy timed (fp32 input in, output back)" if self.host_copy else "host copy not timed"
        return f"runtime {self.runtime.key}, batch {self.batch}, {self.dtype}, {copy}"

    def to_dict(self) -> dict[str, Any]:
        return {"runtime": self.runtime.key, "batch": self.batch, "dtype": self.dtype,
                "host_copy": self.host_copy, "tf32": self.tf32}


# ---------------------------------------------------------------------------
# The estimate


@dataclass(frozen=True)
class KernelWork:
    """What a kernel does, before any model constant is applied (whole batch)."""

    name: str
    op: str
    members: tuple[str, ...]
    unit: str
    peak: float  # FLOP/s of the unit (datasheet, at the device's sustained clock)
    flops: int  # 2 x MACs with channels padded to the tensor-core alignment; per-element ops otherwise
    bytes: int  # external inputs + weights + output at the dtype
    conv: bool  # an implicit-GEMM conv (utilisation applies)
    tensor: bool  # runs on tensor cores
    winograd: bool  # a 3x3/s1 dense conv on CUDA cores (fp32)
    out_elems: int  # conv output elements of one launch (what is tiled over the SMs)
    launches: int = 1  # kernels launched: the groups of a grouped conv run one by one
    framework: bool = False  # a framework op outside the engine (fp32)
    engine: int | None = 0  # the engine that runs it (None: the framework)
    fallback: bool = False  # the fp32 plan of a reduced-precision engine (see engine_plans)


def kernel_work(k: Kernel, net: Network, batch: int, device: Device, dtype: str, tf32: bool = True,
                runtime: Runtime | None = None, fallback: bool = False) -> KernelWork:
    from calc.conventions import get_convention

    runtime = find_runtime(runtime)
    if k.in_framework or fallback:
        dtype = "fp32"  # the framework runs its ops in fp32 whatever the engine's precision
    width = dtype_bytes(dtype)
    layer, ins = k.head.layer, net.input_shapes(k.head)
    unit = layer_unit(layer, ins, device, dtype, tf32)
    weights = sum(net[m].layer.params(net.input_shapes(net[m])) for m in k.members)
    moved = (sum(numel(net[s].shape) for s in k.inputs) + numel(net[k.output].shape)) * batch * width
    moved += weights * width
    conv = isinstance(layer, Conv2d)
    launches = 1
    if conv or isinstance(layer, Linear):
        flops = 2 * layer.counts(ins, k.head.shape)["macs"] * batch
        groups = layer.groups if conv else 1
        cin = ins[0][0] // groups
        cout = (layer.out_channels if conv else layer.out_features) // groups
        align = ALIGN.get(unit)
        if align:
            flops = flops * _padded(cin, align) * _padded(cout, align) // (cin * cout)
        if conv:
            launches = runtime.group_launches(groups, cin)
            conv = not _gemv(layer, ins)
    else:
        rule = get_convention("flops")
        flops = sum(rule.cost(net[m].layer.op, net[m].layer.impl,
                              net[m].layer.counts(net.input_shapes(net[m]), net[m].shape))
                    for m in k.members) * batch
    return KernelWork(
        k.name, k.op, tuple(k.members), unit, device.get(unit) * 1e12 * device.clock_factor, flops, moved, conv,
        unit in ALIGN, conv and unit == "fp32_tflops" and _winograd_ok(layer),
        numel(k.head.shape) * batch // launches if conv else 0, launches, k.in_framework, k.engine,
        fallback and not k.in_framework,
    )


def reformat_work(node: str, engine: int, net: Network, batch: int, device: Device, dtype: str) -> KernelWork:
    """The kernel that converts a tensor between the framework's fp32 and a reduced-precision
    engine's format at the engine's edge (TensorRT inserts one per boundary tensor)."""
    elems = numel(net[node].shape) * batch
    unit = simt_unit(device, dtype)
    return KernelWork(f"{node}.reformat", "Reformat", (), unit, device.get(unit) * 1e12 * device.clock_factor,
                      elems, elems * (4 + dtype_bytes(dtype)), False, False, False, 0, engine=engine)


def kernel_seconds(w, sms, bandwidth, m: Model, minimum=min):
    """(compute, memory, overhead) seconds of kernel work ``w`` under model ``m``.

    A kernel's time is ``max(launch_us, work + tail_us)`` per launch: the host enqueues
    kernels asynchronously, ``launch_us`` apart at best, while the GPU runs each one for its
    work plus a fixed ``tail_us`` (ramp-up, last wave, drain).  A kernel shorter than the
    launch interval costs the interval; a longer one its work plus the tail.  The overhead
    is what this adds to the work: ``max(tail_us, launch_us - work)``, so it depends on the
    kernel.  Written with arithmetic only (``minimum`` is ``min`` or ``numpy.minimum``) so
    that the calibration evaluates the very same formula on arrays of kernels."""
    eff = m.eff_tensor * w.tensor + m.eff_simt * (1 - w.tensor)
    sat = m.sat_tensor * w.tensor + m.sat_simt * (1 - w.tensor)
    # an implicit-GEMM conv tiles its output over the SMs; each tile runs its reduction
    # (K = FLOPs / 2 per output) serially, so a conv takes its throughput time plus the time of
    # one tile's reduction: throughput x (1 + SMs x sat / outputs)
    fill = w.conv * sms * sat / (w.out_elems + (1 - w.conv))
    compute = executed_flops(w, m) / (eff * w.peak) * (1 + fill)
    memory = w.bytes / (m.eff_mem * bandwidth)
    work = (compute + memory + abs(compute - memory)) / 2 / w.launches  # max, in arithmetic; per launch
    gap = m.launch_us * 1e-6 - work
    tail = m.tail_us * 1e-6
    overhead = w.launches * (gap + tail + abs(gap - tail)) / 2  # launches x max(tail, launch - work)
    return compute, memory, overhead


def executed_flops(w, m: Model):
    """FLOPs the kernel executes: Winograd convs do ``winograd`` times fewer."""
    return w.flops / (1 + w.winograd * (m.winograd - 1))


def kernel_floor(w: KernelWork, bandwidth: float, m: Model) -> float:
    """The roofline of the kernel as executed (fused bytes, executed FLOPs, full peak and
    bandwidth, no overhead): a floor under the estimate, which only adds to it."""
    return max(executed_flops(w, m) / w.peak, w.bytes / bandwidth)


@dataclass(frozen=True)
class KernelTime:
    work: KernelWork
    compute_s: float
    memory_s: float
    overhead_s: float
    floor_s: float

    @property
    def time_s(self) -> float:
        return self.overhead_s + max(self.compute_s, self.memory_s)

    @property
    def bound(self) -> str:
        if self.overhead_s >= max(self.compute_s, self.memory_s):
            return "overhead"
        return "compute" if self.compute_s >= self.memory_s else "memory"


@dataclass
class Estimate:
    arch: str
    config: dict[str, Any]
    device: Device
    dtype: str
    batch: int
    layers: list[LayerRoof]
    kernels: list[KernelTime]
    copy_s: float
    notes: list[str]
    conditions: Conditions | None = None
    framework_ops: int = 0
    framework_s: float = 0.0
    engines: int = 1

    @property
    def roofline_s(self) -> float:
        """The plain roofline: every layer unfused at the datasheet's peak and bandwidth."""
        return sum(r.time_s for r in self.layers)

    @property
    def fused_floor_s(self) -> float:
        """The roofline of the kernels as the estimate runs them (fused, Winograd, padded),
        without overheads or efficiencies: the estimate is never below it."""
        return self.copy_s + sum(k.floor_s for k in self.kernels)

    @property
    def latency_s(self) -> float:
        return self.copy_s + self.framework_s + sum(k.time_s for k in self.kernels)

    @property
    def throughput(self) -> float | None:
        """Images per second at the estimated latency (None when nothing runs: no time to divide by)."""
        return self.batch / self.latency_s if self.latency_s > 0 else None

    @property
    def roofline_throughput(self) -> float | None:
        return self.batch / self.roofline_s if self.roofline_s > 0 else None


def _padded(c: int, align: int) -> int:
    return -(-c // align) * align


def _winograd_ok(conv: Conv2d) -> bool:
    """cuDNN/TensorRT Winograd kernels: dense 3x3 convs with stride 1 and dilation 1."""
    return (conv.groups == 1 and pair(conv.kernel_size) == (3, 3) and pair(conv.stride) == (1, 1)
            and pair(conv.dilation) == (1, 1))


def _gemv(conv: Conv2d, ins) -> bool:
    """A 1x1 conv on a 1x1 map (an SE block's squeeze and excitation): a matrix-vector
    product per image, run as a GEMM/GEMV like an FC layer, not tiled over output pixels."""
    return pair(conv.kernel_size) == (1, 1) and tuple(ins[0][1:]) == (1, 1)


def copy_bytes(net: Network, batch: int) -> int:
    """Host <-> device bytes of one run: the fp32 input in and the fp32 output back (the
    PaddleClas benchmark feeds float32 numpy arrays whatever the engine's precision)."""
    return (numel(net.input_shape) + numel(net[net.output].shape)) * batch * 4


@dataclass
class Schedule:
    """Every kernel a runtime may run for a network (both plans of each reduced-precision
    engine, see :func:`engine_plans`), and the framework ops around the engines."""

    works: list[KernelWork]
    framework_ops: int
    engines: int


def works(net: Network, batch: int, device: Device, dtype: str, tf32: bool = True, runtime=None) -> Schedule:
    """The kernels :func:`estimate` times: each engine's kernels at ``dtype`` with the
    reformats at its edges and, for a reduced precision, the same engine in fp32 (the plan
    TensorRT falls back to where it is faster); the framework's kernels."""
    runtime = find_runtime(runtime)
    p = plan(net, runtime)
    out = [kernel_work(k, net, batch, device, dtype, tf32, runtime) for k in p.kernels]
    if dtype != "fp32":
        out += [reformat_work(n, e, net, batch, device, dtype) for n, e in p.crossings]
        out += [kernel_work(k, net, batch, device, dtype, tf32, runtime, fallback=True)
                for k in p.kernels if not k.in_framework]
    return Schedule(out, p.framework_ops if runtime.has_framework else 0, p.engines)


def engine_plans(ws, times) -> list[bool]:
    """Which kernels run: TensorRT's builder times every kernel in each precision the build
    allows and keeps the fastest plan, reformats included (BuilderFlag::kFP16: 'enable FP16
    layer selection, with FP32 fallback'), so a reduced-precision engine runs in fp32 where
    that is faster (small tensors whose reformats cost more than the FP16 kernels save).
    Decided per engine: the plan with the smaller total of ``times``."""
    total: dict[tuple[int, bool], float] = {}
    for w, t in zip(ws, times):
        if w.engine is not None:
            total[w.engine, w.fallback] = total.get((w.engine, w.fallback), 0.0) + t
    fp32 = {e for (e, fb) in total if fb and total[e, True] < total.get((e, False), float("inf"))}
    return [w.engine is None or w.fallback == (w.engine in fp32) for w in ws]


def estimate(net: Network, device: Device, *, dtype: str = "fp32", batch: int = 1,
             model: Model | None = None, host_copy: bool = False, tf32: bool = True,
             runtime: str | Runtime | None = None) -> Estimate:
    """Roofline bound and realistic latency of ``net`` for ``batch`` inputs of ``dtype``,
    run by ``runtime`` (default: the 2020 Paddle-TensorRT of the measured tables)."""
    from calc.counting import analyze

    check_dtype(device, dtype)
    runtime = find_runtime(runtime)
    model = model or default_model()
    analysis = analyze(net, batch=batch, dtype=dtype, convention="flops")
    layers = roofline_layers(net, analysis, device, dtype, tf32)
    sched = works(net, batch, device, dtype, tf32, runtime)
    ws, ops, engines = sched.works, sched.framework_ops, sched.engines
    kernels = [KernelTime(w, *kernel_seconds(w, device.sms, device.bandwidth, model),
                          kernel_floor(w, device.bandwidth, model)) for w in ws]
    kernels = [k for k, run in zip(kernels, engine_plans(ws, [k.time_s for k in kernels])) if run]
    ws = [k.work for k in kernels]
    copy_s = copy_bytes(net, batch) / (model.eff_host * device.host_link) if host_copy else 0.0
    notes = []
    need = analysis.totals["peak_memory_bytes"] + analysis.totals["param_memory_bytes"]
    if need > device.memory_bytes:
        notes.append(f"weights + peak activations need {si(need, 1)}B, more than the "
                     f"{device.figures['memory_gb']:g} GB of {device.name}")
    if not kernels and not ops and not copy_s:
        notes.append("nothing runs on the device: every layer is a view or an identity, so the latency is 0 "
                     "and there is no throughput")
    framework = sum(w.framework for w in ws)
    fallen = {w.engine for w in ws if w.fallback}
    if fallen:
        notes.append(f"batch {batch}: {len(fallen)} of {engines} engine(s) run in fp32, faster than {dtype} with the "
                     "reformats at their edges (TensorRT keeps the faster plan)")
    if framework:
        notes.append(f"{framework} layer(s) run outside the {engines} TensorRT engine(s), as framework ops in fp32 "
                     f"({', '.join(sorted({w.op for w in ws if w.framework}))}): {ops} framework ops in all")
    return Estimate(net.name, dict(net.config), device, dtype, batch, layers, kernels, copy_s, notes,
                    Conditions(runtime, batch, dtype, host_copy, tf32), ops, ops * model.framework_us * 1e-6,
                    engines)
