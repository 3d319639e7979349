"""Scale (x * constant): PolyNet's and Inception-ResNet's residual scaling.

Tool counts cited from /tmp/zoo-part2-ref/probe.py (thop 0.1.1.post2209072238, ptflops 0.7.5,
fvcore 0.1.5, ptflops cf48e01; torch 2.14.1, CPU): `python probe.py scale_add`, x + conv1x1(x) * 0.5
on 1x8x6x6: every tool reports 2,304, the conv's MACs alone."""
import pytest
from pydantic import ValidationError

from calc.counting import analyze
from calc.graph import Network
from calc.layers import Add, Conv2d, Scale
from calc.spec import dump_spec, export
from calc.training import analyze_training
from tests.spec.common import same_network, spec


def scale_add() -> Network:
    net = Network("t", (8, 6, 6))
    net.add("conv", Conv2d(out_channels=8, kernel_size=1, bias=False))
    net.add("scale", Scale(factor=0.5))
    net.add("add", Add(), ["input", "scale"])
    return net


def test_one_multiply_per_element_that_no_tool_sees():
    net = scale_add()
    assert net["scale"].shape == (8, 6, 6) and Scale.elementwise
    assert analyze(net, convention="flops").totals["flops"] == 2 * 2_304 + 288 + 288
    for convention in ("thop", "ptflops", "fvcore", "ptflops_2019", "thop_2019", "macs"):
        assert analyze(net, convention=convention).totals["flops"] == 2_304, convention
    with pytest.raises(ValidationError, match="Scale factor must be a finite number"):
        Scale(factor=float("nan"))


def test_training_multiplies_the_gradient_and_saves_nothing():
    # x * 0.5 saves no tensor (saved_tensors_hooks, torch 2.14.1: none for `t * 0.5`)
    row = next(r for r in analyze_training(scale_add(), batch=3).layers if r.op == "Scale")
    assert row.backward_flops == 3 * 288 and row.saved_activation_bytes == 0


def test_round_trips_through_a_spec_file():
    net = scale_add()
    assert {"name": "scale", "type": "Scale", "factor": 0.5} in export(net)["layers"]
    same_network(spec(dump_spec(export(net))).build(), net)
