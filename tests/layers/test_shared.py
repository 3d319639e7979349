"""Weight sharing (Network.add(..., shares=)): one set of parameters used by several layers.

Tool counts cited from tests/data/measure/zoo/probe.py (thop 0.1.1.post2209072238, ptflops 0.7.5,
fvcore 0.1.5, ptflops cf48e01; torch 2.14.1, CPU):
`python tests/data/measure/zoo/probe.py shared_conv_x3`, one nn.Conv2d(8, 8, 3, padding=1,
bias=False) called three times, each call followed by its own BatchNorm2d(8) and a shared nn.ReLU,
on 1x8x6x6 (PolyNet's PolyConv2d).  Training facts from tests/data/measure/zoo/train_probe.py
(TorchDispatchMode and saved_tensors_hooks, torch 2.14.1)."""
import json

import pytest

from calc.counting import analyze
from calc.errors import CalcError
from calc.graph import Network
from calc.grid import evaluate
from calc.layers import BatchNorm2d, Conv2d, Embedding, Flatten, Linear, ReLU
from calc.spec import dump_spec, export
from calc.training import analyze_training
from tests.spec.common import same_network, spec

CONV = Conv2d(out_channels=8, kernel_size=3, padding=1, bias=False)
MACS = 8 * 8 * 9 * 36  # one use on 8x6x6


def poly(uses: int = 3) -> Network:
    net = Network("t", (8, 6, 6))
    for i in range(uses):
        net.add(f"conv{i}", CONV, shares="conv0" if i else None)
        net.add(f"bn{i}", BatchNorm2d())
        net.add(f"relu{i}", ReLU())
    return net


def test_params_once_macs_and_memory_per_use():
    net = poly()
    assert net["conv1"].shares == net["conv2"].shares == "conv0" and net["conv1"].shared == ("weights",)
    assert net.uses("conv0") == ["conv1", "conv2"]
    a = analyze(net)
    rows = {c.name: c for c in a.layers}
    assert a.totals["params"] == 576 + 3 * 16 and a.totals["macs"] == 3 * MACS
    assert rows["conv0"].params == 576 and rows["conv1"].params == rows["conv2"].params == 0
    assert rows["conv1"].macs == MACS and rows["conv1"].output_bytes == 288 * 4
    assert a.totals["param_memory_bytes"] == 624 * 4
    # every use reads the weights: traffic = input + output + weights, per use
    assert rows["conv2"].traffic_bytes == (288 + 288 + 576) * 4 == rows["conv0"].traffic_bytes
    assert any("reuse another layer's parameters" in n for n in a.notes)
    assert rows["conv1"].to_dict()["shares"] == "conv0" and "shares" not in rows["conv0"].to_dict()


def test_every_tool_counts_the_conv_per_call_and_its_weights_once():
    # probe shared_conv_x3: thop 65,664 ops / 624 params; ptflops 65,664 / 624; fvcore 63,936
    # (parameter_count 624); ptflops cf48e01 64,800 / 624
    net = poly()
    measured = {"thop": 65_664, "ptflops": 65_664, "fvcore": 63_936, "ptflops_2019": 64_800}
    for convention, flops in measured.items():
        t = analyze(net, convention=convention).totals
        assert (t["flops"], t["convention_params"]) == (flops, 624), convention


def test_tied_weights_of_different_layer_types_share_only_the_common_kinds():
    # an ONNX-style tied embedding and output projection: the table (10 x 4) is the FC's weight;
    # the FC's bias is its own
    net2 = Network("t2", (4, 1, 1))
    net2.add("flat", Flatten())
    net2.add("out", Linear(out_features=10))
    net2.add("out2", Linear(out_features=4), "out")
    net2.add("tied", Linear(out_features=10), "out2", shares="out")
    assert net2["tied"].shared == ("weights", "bias")
    e = Network("t3", (1, 4, 1))
    e.add("emb", Embedding(num_embeddings=10, embedding_dim=4))
    e.add("flat", Flatten())
    e.add("f4", Linear(out_features=4))
    e.add("logits", Linear(out_features=10), shares="emb")
    assert e["logits"].shared == ("weights",)  # the 10 x 4 table; the 10 biases are its own
    a = analyze(e, convention="ptflops")
    assert a.totals["params"] == 40 + 16 * 4 + 4 + 10
    logits = a.layers[-1]
    assert logits.params == 10 and logits.param_counts == {"weights": 0, "bias": 10}


def test_sharing_errors_name_both_layers():
    net = poly(1)
    with pytest.raises(CalcError, match=r"layer 'c' \(Conv2d\): shares 'nope', which is not a layer defined before it"):
        net.add("c", CONV, shares="nope")
    with pytest.raises(CalcError, match="shares 'input', which is not a layer"):
        net.add("c", CONV, shares="input")
    with pytest.raises(CalcError, match=r"layer 'c' \(Conv2d\): shares 'conv0''s parameters, but its weights "
                                        r"\(1,152\) differ in size from 'conv0''s \(576\)"):
        net.add("c", Conv2d(out_channels=16, kernel_size=3, padding=1, bias=False), shares="conv0")
    with pytest.raises(CalcError, match=r"layer 'r' \(ReLU\): shares 'conv0''s parameters, but the two have no "
                                        r"parameter kind in common \(its own: none; 'conv0''s: weights 576\)"):
        net.add("r", ReLU(), shares="conv0")
    net.add("c1", CONV, shares="conv0")
    net.add("c2", CONV, shares="c1")  # a sharer's sharer uses the owner's parameters
    assert net["c2"].shares == "conv0"


def test_training_a_shared_weight():
    # torch: each of the 3 uses runs convolution_backward (its weight gradient), then the engine
    # adds the 3 weight gradients (2 aten.add.Tensor of shape 8x8x3x3) before AccumulateGrad;
    # each use saves its own input (and the weight, a parameter)
    batch = 2
    t = analyze_training(poly(), batch=batch, optimizer="momentum")
    rows = {r.name: r for r in t.layers}
    assert t.totals["param_bytes"] == t.totals["grad_bytes"] == t.totals["optimizer_bytes"] == 624 * 4
    assert t.totals["trainable_params"] == 624 and t.totals["optimizer_flops"] == 624 * 4
    # conv0 reads the network input (no input gradient): weight gradient only; conv1, conv2 both
    assert rows["conv0"].backward_macs == batch * MACS and rows["conv1"].backward_macs == 2 * batch * MACS
    assert t.totals["backward_macs"] == 5 * batch * MACS
    # flops: 2 per MAC, and each extra use's weight gradient added into the first, once a step
    assert rows["conv0"].backward_flops == 2 * batch * MACS
    assert rows["conv1"].backward_flops == rows["conv2"].backward_flops == 4 * batch * MACS + 576
    assert rows["conv1"].saved_activation_bytes == 0  # its input is the ReLU output that relu0 saved
    assert rows["conv1"].grad_bytes == rows["conv1"].optimizer_bytes == 0 and rows["conv1"].trained
    assert any("reusing another layer's parameters: 2" in n for n in t.notes)
    with pytest.raises(CalcError, match=r"layer 'conv1' \(Conv2d\) reuses the parameters of 'conv0': --freeze "
                                        r"must cover both or neither"):
        analyze_training(poly(), freeze=("conv1",))
    frozen = analyze_training(poly(), freeze=("conv0", "conv1", "conv2"))
    assert frozen.totals["trainable_params"] == 48 and all(not r.trained for r in frozen.layers if "conv" in r.name)


SHARED_SPEC = """
params: {res: 6}
input: [8, "${res}", "${res}"]
blocks:
  order:
    layers:
      - {name: conv, type: Conv2d, out_channels: 8, kernel_size: 3, padding: 1, bias: false, shares: first}
      - {name: bn, type: BatchNorm2d}
      - {name: relu, type: ReLU}
layers:
  - {name: first, type: Conv2d, out_channels: 8, kernel_size: 3, padding: 1, bias: false}
  - {name: bn, type: BatchNorm2d}
  - {name: relu, type: ReLU}
  - {name: orders, block: order, repeat: 2}
"""


def test_spec_files_declare_and_round_trip_sharing():
    arch = spec(SHARED_SPEC)
    net = arch.build()
    assert [n.name for n in net.layers() if n.shares == "first"] == ["orders.block0.conv", "orders.block1.conv"]
    assert analyze(net).totals == analyze(poly()).totals
    doc = export(net)
    assert doc["layers"][3]["shares"] == "first"
    same_network(spec(dump_spec(doc)).build(), net)
    same_network(spec(dump_spec(doc, "json"), "net.json", "json").build(), net)
    schema = json.dumps(__import__("calc.spec", fromlist=["json_schema"]).json_schema()["$defs"]["Conv2d"])
    assert '"shares"' in schema


def test_spec_sharing_errors():
    bad = SHARED_SPEC.replace("shares: first}", "shares: later}") + \
        "  - {name: later, type: Conv2d, out_channels: 8, kernel_size: 1}\n"
    with pytest.raises(CalcError, match=r"layer 'orders.block0.conv' \(Conv2d\): shares: input 'later' comes later"):
        spec(bad).build()
    with pytest.raises(CalcError, match="shares must be the name of an earlier layer, received 3"):
        spec(SHARED_SPEC.replace("shares: first", "shares: 3"))
    skipped = SHARED_SPEC.replace("bias: false}\n  - {name: bn, type: BatchNorm2d}\n  - {name: relu, type: ReLU}\n"
                                  "  - {name: orders",
                                  "bias: false, if: false}\n  - {name: bn, type: BatchNorm2d}\n"
                                  "  - {name: relu, type: ReLU}\n  - {name: orders")
    with pytest.raises(CalcError, match="shares 'first', which is skipped"):
        spec(skipped).build()


def test_layers_output_and_the_grid(cli, tmp_path):
    path = tmp_path / "shared.yaml"
    path.write_text(SHARED_SPEC)
    code, out, _ = cli("arch", path, "--layers")
    assert code == 0 and "Conv2d (shares first)" in out and "reuse another layer's parameters" in out
    code, out, _ = cli("arch", path, "--format", "json")
    layers = json.loads(out)["layers"]
    assert [d.get("shares") for d in layers if d["op"] == "Conv2d"] == [None, "first", "first"]
    arch = spec(SHARED_SPEC)
    sizes = [1, 3, 6, 17]
    assert evaluate(arch.build(res=17), sizes) == [analyze(arch.build(res=s)).totals for s in sizes]


BIASED = Conv2d(out_channels=8, kernel_size=1)  # 64 weights + 8 bias on 8x6x6


def test_sharing_some_kinds():
    # one conv's bias tensor fed to a second conv with weights of its own (what torch's
    # exporter writes for an untrained network: equal zero biases merged into one initializer)
    net = Network("t", (8, 6, 6))
    net.add("a", BIASED)
    net.add("b", BIASED, shares="a", share_kinds=("bias",))
    assert net["b"].shared == ("bias",) and net.param_counts(net["b"])["weights"] == 64
    t = analyze(net).totals
    assert t["params"] == 64 + 8 + 64 and t["macs"] == 2 * 64 * 36
    net.add("c", BIASED, shares="b", share_kinds=("weights",))  # b's weights are b's own
    assert net["c"].shares == "b" and net["c"].shared == ("weights",)
    with pytest.raises(CalcError, match=r"layer 'x' \(Conv2d\): share_kinds names 'affine', which is not a parameter "
                                        r"kind both it and 'a' have"):
        net.add("x", BIASED, shares="a", share_kinds=("affine",))
    with pytest.raises(CalcError, match="share_kinds needs shares"):
        net.add("x", BIASED, share_kinds=("bias",))
    # a sharer's sharer: when every kind asked for is the first owner's, it is shared from there
    net.add("d", BIASED, shares="b", share_kinds=("bias",))
    assert net["d"].shares == "a"
    with pytest.raises(CalcError, match=r"shares 'b''s weights, bias, but 'b' owns only some of them \(its bias "
                                        r"belong to 'a'\)"):
        net.add("e", BIASED, shares="b")  # b's weights are b's, its bias a's: say so, do not guess


def test_training_with_some_kinds_shared():
    net = Network("t", (8, 6, 6))
    net.add("a", BIASED)
    net.add("b", BIASED, shares="a", share_kinds=("bias",))
    t = analyze_training(net, batch=1, optimizer="sgd")
    assert t.totals["trainable_params"] == 136 and t.totals["grad_bytes"] == 136 * 4
    assert {r.name: r.trained for r in t.layers} == {"a": True, "b": True}


def test_spec_files_declare_and_round_trip_share_kinds():
    text = ("input: [8, 6, 6]\nlayers:\n  - {name: a, type: Conv2d, out_channels: 8, kernel_size: 1}\n"
            "  - {name: b, type: Conv2d, out_channels: 8, kernel_size: 1, shares: a, share_kinds: [bias]}\n")
    net = spec(text).build()
    assert net["b"].shared == ("bias",) and analyze(net).totals["params"] == 136
    doc = export(net)
    assert doc["layers"][1]["share_kinds"] == ["bias"] and "share_kinds" not in export(poly())["layers"][3]
    same_network(spec(dump_spec(doc)).build(), net)
    for bad, why in [("share_kinds: [bias]}", "share_kinds needs shares"),
                     ("shares: a, share_kinds: bias}", "share_kinds must be a list of parameter kinds"),
                     ("shares: a, share_kinds: [bias, bias]}", "each once"),
                     ("shares: a, share_kinds: [gamma]}", "share_kinds must be a list of parameter kinds")]:
        with pytest.raises(CalcError, match=why):
            spec(text.replace("shares: a, share_kinds: [bias]}", bad)).build()
    schema = json.dumps(__import__("calc.spec", fromlist=["json_schema"]).json_schema()["$defs"]["Conv2d"])
    assert '"share_kinds"' in schema
