"""Generated networks through the latency model: any valid network gets a finite, non-negative
estimate on every device, precision and runtime (issue 19: 156 of 12,300 generated specs,
views only or identity pools, divided by zero).  A network that launches nothing has latency
0 and no throughput (None, never a division by zero or an infinity)."""
from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calc.latency.devices import find_device, load_devices
from calc.latency.roofline import estimate
from tests.spec.common import spec

#: layers that keep a C x H x W map valid whatever precedes them
SPATIAL = [
    "{type: Dropout}", "{type: ReLU}", "{type: ReLU6}", "{type: BatchNorm2d}", "{type: ZeroPad2d, padding: 0}",
    "{type: MaxPool2d, kernel_size: 1, stride: 1}", "{type: AvgPool2d, kernel_size: 1, stride: 1}",
    "{type: MaxPool2d, kernel_size: 2, stride: 1}", "{type: Conv2d, out_channels: 4, kernel_size: 1}",
    "{type: Conv2d, out_channels: 4, kernel_size: 3, padding: 1, groups: 4, bias: false}",
    "{type: ChannelShuffle, groups: 1}", "{type: Sigmoid}",
]
HEAD = ["{type: Flatten}", "{type: GlobalAvgPool2d}", "{type: Linear, out_features: 3}"]


@st.composite
def networks(draw):
    body = draw(st.lists(st.sampled_from(SPATIAL), max_size=6))
    head = draw(st.sampled_from([[], HEAD[:1], HEAD[1:2], [HEAD[1], HEAD[0], HEAD[2]]]))
    layers = [f"  - {{name: l{i}, {t[1:]}" for i, t in enumerate(body + head)]
    if not layers:
        layers = ["  - {name: l0, type: Flatten}"]
    return "name: gen\ninput: [4, 6, 6]\nlayers:\n" + "\n".join(layers) + "\n"


DEVICES = load_devices()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=networks(), device=st.sampled_from(["v100", "t4", "a100"]), dtype=st.sampled_from(["fp32", "fp16"]),
       runtime=st.sampled_from(["paddle-trt-2020", "trt8"]), batch=st.sampled_from([1, 8]),
       host_copy=st.booleans())
def test_every_valid_network_gets_a_finite_estimate(text, device, dtype, runtime, batch, host_copy):
    net = spec(text).build()
    e = estimate(net, find_device(device, DEVICES), dtype=dtype, batch=batch, runtime=runtime, host_copy=host_copy)
    for value in (e.latency_s, e.roofline_s, e.fused_floor_s):
        assert math.isfinite(value) and value >= 0, (text, value)
    assert e.latency_s >= e.fused_floor_s - 1e-15
    if e.latency_s > 0:
        assert math.isfinite(e.throughput) and e.throughput > 0
    else:
        assert e.throughput is None and any("nothing runs on the device" in n for n in e.notes)
    if e.roofline_throughput is not None:
        assert math.isfinite(e.roofline_throughput)


@pytest.mark.parametrize("layers", [
    ["{name: f, type: Flatten}"],
    ["{name: d, type: Dropout}", "{name: f, type: Flatten}"],
])
def test_views_only(layers):
    net = spec("name: v\ninput: [3, 8, 8]\nlayers:\n" + "".join(f"  - {x}\n" for x in layers)).build()
    e = estimate(net, find_device("v100", DEVICES))
    assert e.latency_s == 0 and e.throughput is None and e.roofline_throughput is None
