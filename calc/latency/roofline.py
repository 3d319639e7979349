"""Roofline bounds and a realistic latency estimate for a network on an accelerator.

Two numbers per network and batch size, from the same per-layer quantities:

**The roofline bound** (Williams, Waterman & Patterson 2009): each layer takes
``max(FLOPs / peak, bytes / bandwidth)`` with the datasheet's peak for the unit the layer
runs on (tensor cores for a dense conv or FC at fp16/bf16/int8, CUDA cores otherwise) and
bytes = inputs + weights + output at the dtype; layers run one after another and views
(Flatten, Dropout, ChannelSplit) are free.  It assumes perfect overlap, no launch cost and
direct convolution, so it is an idealisation, not a guaranteed floor: Winograd 3x3
convolutions do fewer multiplications than ``2 x MACs`` and can beat it.

**The estimate** models what an inference engine (TensorRT) actually runs:

1. *Fusion* (:func:`fuse`): a conv or FC absorbs the per-element ops that follow it
   (folded batch norm, activation, residual add), so their tensors never reach memory;
   a concat is elided (its producers write into the joined buffer); views and identity
   pools are free.  Everything else (pools, standalone per-element ops) is a kernel of its own.
2. *Per kernel*: ``overhead + max(compute, memory)`` where

   * compute = FLOPs / (achievable fraction x peak x utilisation).  FLOPs are
     ``2 x MACs`` with channels padded to the tensor-core alignment (8 for fp16/bf16, 16 for
     int8, 4 for tf32: NVIDIA's Deep Learning Performance Guide), and divided by the
     Winograd factor for 3x3/stride-1 dense convs on CUDA cores (fp32), the only case
     where cuDNN/TensorRT pick Winograd kernels.  Utilisation is
     ``min(1, output elements / (SMs x saturation))``: an implicit-GEMM conv tiles its
     *output* over the SMs, so a small output (batch 1, late stages) leaves SMs idle and
     the time stops shrinking with the batch.  FC layers run as cuBLAS GEMM/GEMV, which
     split the reduction, so they are not penalised.  Depthwise and narrow grouped convs
     (fewer channels per group than the alignment) cannot use tensor cores and run on
     CUDA cores, where they are memory-bound.
   * memory = bytes moved by the fused kernel (external inputs + weights + output) /
     (achievable fraction x bandwidth).

3. *Per run*, with ``host_copy``: copying the fp32 input to the device and the output back
   over the host link (a fixed per-run cost was tried and fitted to zero: the per-kernel
   overhead absorbs it).

The constants (``calc/latency/model.toml``) are few and global: nothing depends on the
network.  Peaks, bandwidths and SM counts are datasheet figures (``devices.toml``, read
by :mod:`calc.latency.devices`).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from calc.latency.devices import Device
from calc.latency.fusion import Kernel, fuse
from calc.dtypes import dtype_bytes
from calc.errors import CalcError
from calc.graph import Network
from calc.layers import Conv2d, Linear
from calc.layers.base import numel
from calc.layers.spatial import pair

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


@dataclass(frozen=True)
class Model:
    """The realistic model's constants (see ``calc/latency/model.toml``)."""

    kernel_us: float  # per kernel launched
    eff_tensor: float  # achievable fraction of the tensor-core peak
    eff_simt: float  # achievable fraction of the CUDA-core peak
    eff_mem: float  # achievable fraction of the memory bandwidth
    eff_host: float  # achievable fraction of the host link (pageable copies)
    winograd: float  # FLOP reduction of 3x3/s1 convs on CUDA cores
    sat_tensor: float  # output elements per SM that saturate a tensor-core conv
    sat_simt: float  # ... a CUDA-core conv

    NAMES = ("kernel_us", "eff_tensor", "eff_simt", "eff_mem", "eff_host", "winograd",
             "sat_tensor", "sat_simt")

    def replace(self, **kw: float) -> "Model":
        return Model(**{**{n: getattr(self, n) for n in self.NAMES}, **kw})


@cache
def model_constants() -> dict[str, Constant]:
    from calc.datafiles import packaged

    data = packaged("calc", "latency/model.toml")
    return {k: Constant(float(v["value"]), v["unit"], v["how"], v["doc"]) for k, v in data.items()}


@cache
def default_model() -> Model:
    c = model_constants()
    return Model(**{n: c[n].value for n in Model.NAMES})


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
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
            raise CalcError(f"--model: {path}: {name} must be a positive number, received {v!r}")
        given[name] = float(v)
    return model.replace(**given)


# ---------------------------------------------------------------------------
# The estimate


@dataclass(frozen=True)
class KernelWork:
    """What a kernel does, before any model constant is applied (whole batch)."""

    name: str
    op: str
    members: tuple[str, ...]
    unit: str
    peak: float  # FLOP/s of the unit (datasheet)
    flops: int  # 2 x MACs with channels padded to the tensor-core alignment; per-element ops otherwise
    bytes: int  # external inputs + weights + output at the dtype
    conv: bool  # an implicit-GEMM conv (utilisation applies)
    tensor: bool  # runs on tensor cores
    winograd: bool  # a 3x3/s1 dense conv on CUDA cores (fp32)
    out_elems: int  # conv output elements (what is tiled over the SMs)


def kernel_work(k: Kernel, net: Network, batch: int, device: Device, dtype: str, tf32: bool = True) -> KernelWork:
    from calc.conventions import get_convention

    width = dtype_bytes(dtype)
    layer, ins = k.head.layer, net.input_shapes(k.head)
    unit = layer_unit(layer, ins, device, dtype, tf32)
    weights = sum(net[m].layer.params(net.input_shapes(net[m])) for m in k.members)
    moved = (sum(numel(net[s].shape) for s in k.inputs) + numel(net[k.output].shape)) * batch * width
    moved += weights * width
    conv = isinstance(layer, Conv2d)
    if conv or isinstance(layer, Linear):
        flops = 2 * layer.counts(ins, k.head.shape)["macs"] * batch
        align = ALIGN.get(unit)
        if align:
            groups = layer.groups if conv else 1
            cin = ins[0][0] // groups
            cout = (layer.out_channels if conv else layer.out_features) // groups
            flops = flops * _padded(cin, align) * _padded(cout, align) // (cin * cout)
    else:
        rule = get_convention("flops")
        flops = sum(rule.cost(net[m].layer.op, net[m].layer.impl,
                              net[m].layer.counts(net.input_shapes(net[m]), net[m].shape))
                    for m in k.members) * batch
    return KernelWork(
        k.name, k.op, tuple(k.members), unit, device.get(unit) * 1e12, flops, moved, conv,
        unit in ALIGN, conv and unit == "fp32_tflops" and _winograd_ok(layer),
        numel(k.head.shape) * batch if conv else 0,
    )


def kernel_seconds(w, sms, bandwidth, m: Model, minimum=min):
    """(compute, memory, overhead) seconds of kernel work ``w`` under model ``m``.

    Written with arithmetic only (``minimum`` is ``min`` or ``numpy.minimum``) so that the
    calibration evaluates the very same formula on arrays of kernels."""
    eff = m.eff_tensor * w.tensor + m.eff_simt * (1 - w.tensor)
    sat = m.sat_tensor * w.tensor + m.sat_simt * (1 - w.tensor)
    util = 1 - w.conv * (1 - minimum(1.0, w.out_elems / (sms * sat)))
    compute = executed_flops(w, m) / (eff * w.peak * util)
    memory = w.bytes / (m.eff_mem * bandwidth)
    return compute, memory, m.kernel_us * 1e-6


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
        return self.copy_s + sum(k.time_s for k in self.kernels)

    @property
    def throughput(self) -> float:
        """Images per second at the estimated latency."""
        return self.batch / self.latency_s

    @property
    def roofline_throughput(self) -> float:
        return self.batch / self.roofline_s if self.roofline_s else float("inf")


def _padded(c: int, align: int) -> int:
    return -(-c // align) * align


def _winograd_ok(conv: Conv2d) -> bool:
    """cuDNN/TensorRT Winograd kernels: dense 3x3 convs with stride 1 and dilation 1."""
    return (conv.groups == 1 and pair(conv.kernel_size) == (3, 3) and pair(conv.stride) == (1, 1)
            and pair(conv.dilation) == (1, 1))


def copy_bytes(net: Network, batch: int) -> int:
    """Host <-> device bytes of one run: the fp32 input in and the fp32 output back (the
    PaddleClas benchmark feeds float32 numpy arrays whatever the engine's precision)."""
    return (numel(net.input_shape) + numel(net[net.output].shape)) * batch * 4


def estimate(net: Network, device: Device, *, dtype: str = "fp32", batch: int = 1,
             model: Model | None = None, host_copy: bool = False, tf32: bool = True) -> Estimate:
    """Roofline bound and realistic latency of ``net`` for ``batch`` inputs of ``dtype``."""
    from calc.counting import analyze

    check_dtype(device, dtype)
    model = model or default_model()
    analysis = analyze(net, batch=batch, dtype=dtype, convention="flops")
    layers = roofline_layers(net, analysis, device, dtype, tf32)
    kernels = []
    for k in fuse(net):
        w = kernel_work(k, net, batch, device, dtype, tf32)
        kernels.append(KernelTime(w, *kernel_seconds(w, device.sms, device.bandwidth, model),
                                  kernel_floor(w, device.bandwidth, model)))
    copy_s = copy_bytes(net, batch) / (model.eff_host * device.host_link) if host_copy else 0.0
    notes = []
    need = analysis.totals["peak_memory_bytes"] + analysis.totals["param_memory_bytes"]
    if need > device.memory_bytes:
        notes.append(f"weights + peak activations need {need / 1e9:.1f} GB, more than the "
                     f"{device.figures['memory_gb']:g} GB of {device.name}")
    return Estimate(net.name, dict(net.config), device, dtype, batch, layers, kernels, copy_s, notes)
