"""Scale: x * constant (Inception-ResNet's residual scaling, DPN's 0.5 * (avg + max))."""
import pytest
from pydantic import ValidationError

from calc.counting import analyze
from calc.graph import Network
from calc.layers import Add, Conv2d, Scale
from calc.spec import dump_spec, export


def test_scale_counts_one_multiply_per_element_and_no_params():
    net = Network("t", (8, 6, 6))
    net.add("scale", Scale(factor=0.17))
    net.add("add", Add(), ["scale", "input"])
    assert net["scale"].shape == (8, 6, 6)
    a = analyze(net, convention="flops")
    assert a.totals["params"] == 0 and a.totals["flops"] == 2 * 288 and a.uncounted == {}
    # `out * scale` is the * operator: no hook-based tool sees it, and fvcore has no handle for
    # aten::mul (the whole-network totals of Inception-ResNet-v2 in tests/archs/test_inception.py,
    # measured with ptflops 0.7.5, thop 0.1.1 and fvcore 0.1.5, confirm 0 for each)
    for convention in ("ptflops", "ptflops_2019", "thop", "thop_2019", "fvcore", "macs"):
        assert analyze(net, convention=convention).totals["flops"] == 0, convention
    assert analyze(net, convention="ptflops").uncounted == {"Scale": 1, "Add": 1}
    assert Scale.elementwise and net["scale"].layer.impl == "operator"


def test_scale_round_trips_and_refuses_a_non_finite_factor():
    net = Network("t", (4, 2, 2))
    net.add("s", Scale(factor=0.5))
    assert {"name": "s", "type": "Scale", "factor": 0.5} in export(net)["layers"]
    assert "factor: 0.5" in dump_spec(export(net), "yaml")
    with pytest.raises(ValidationError, match="Scale factor must be a finite number"):
        Scale(factor=float("inf"))
    with pytest.raises(ValidationError, match="factor"):
        Scale()


def test_scale_training_multiplies_the_gradient_and_saves_nothing():
    # x * 0.5 saves no tensor (torch 2.14.1 saved_tensors_hooks: none for `t * 0.5`;
    # tests/data/measure/zoo/train_probe.py)
    from calc.training import analyze_training

    net = Network("t", (8, 6, 6))
    net.add("conv", Conv2d(out_channels=8, kernel_size=1, bias=False))
    net.add("scale", Scale(factor=0.5))
    row = next(r for r in analyze_training(net, batch=3).layers if r.op == "Scale")
    assert row.backward_flops == 3 * 288 and row.saved_activation_bytes == 0
