"""Feature memory and peak live activation memory."""
from calc.counting import analyze
from calc.graph import Network
from calc.layers import Add, Conv2d, Flatten, GlobalAvgPool2d, Linear, ReLU


def residual_net():
    # input 4x8x8 -> a (conv) -> b (relu) -> add(a_in=input, b) : the input stays alive
    net = Network("res", (4, 8, 8))
    net.add("a", Conv2d(out_channels=4, kernel_size=3, padding=1, bias=False))
    net.add("b", ReLU())
    net.add("add", Add(), ["input", "b"])
    net.add("pool", GlobalAvgPool2d())
    net.add("flat", Flatten())
    net.add("fc", Linear(out_features=10))
    return net


def test_feature_memory_sums_every_output():
    a = analyze(residual_net(), dtype="fp16")
    elems = 256 + 256 + 256 + 4 + 4 + 10
    assert a.totals["activations"] == elems
    assert a.totals["feature_memory_bytes"] == 2 * elems


def test_peak_keeps_residual_input_alive():
    a = analyze(residual_net())
    # while 'b' runs: input (256), a (256, its last use) and b (256) are alive
    assert a.totals["peak_memory_bytes"] == 3 * 256 * 4


def test_peak_of_a_chain_is_two_neighbours():
    net = Network("chain", (4, 8, 8))
    for i in range(5):
        net.add(f"c{i}", Conv2d(out_channels=4, kernel_size=1))
    assert analyze(net).totals["peak_memory_bytes"] == 2 * 256 * 4


def test_views_do_not_allocate_and_batch_scales():
    one = analyze(residual_net())
    eight = analyze(residual_net(), batch=8, dtype="int8")
    assert eight.totals["peak_memory_bytes"] == one.totals["peak_memory_bytes"] // 4 * 8
    flat = next(c for c in one.layers if c.name == "flat")
    assert flat.traffic_bytes == 0


def test_param_memory_and_traffic():
    a = analyze(residual_net(), dtype="bf16")
    assert a.totals["param_memory_bytes"] == a.totals["params"] * 2
    conv = next(c for c in a.layers if c.name == "a")
    assert conv.traffic_bytes == (256 + 256) * 2 + 4 * 4 * 9 * 2


def test_training_only_nodes_count_params_and_nothing_else():
    # an auxiliary head (Inception v3's AuxLogits): params exist, no inference cost
    def net(aux: bool) -> Network:
        n = Network("aux", (3, 8, 8))
        x = n.add("conv", Conv2d(out_channels=4, kernel_size=3, padding=1, bias=False))
        if aux:
            n.add("aux.conv", Conv2d(out_channels=16, kernel_size=1, bias=False), x, train_only=True)
            n.add("aux.pool", GlobalAvgPool2d(), train_only=True)
        n.add("relu", ReLU(), x)
        n.add("pool", GlobalAvgPool2d())
        n.add("flat", Flatten())
        n.add("fc", Linear(out_features=10))
        return n

    with_aux, without = analyze(net(True)), analyze(net(False))
    assert with_aux.totals["params"] == without.totals["params"] + 4 * 16
    for key in ("macs", "flops", "activations", "feature_memory_bytes", "peak_memory_bytes",
                "memory_traffic_bytes"):
        assert with_aux.totals[key] == without.totals[key], key
    assert ("2 layers run in training only (an auxiliary head): their 64 params are counted, "
            "their MACs, FLOPs and memory are not") in with_aux.notes
    assert net(True).output == "fc"
    n = net(True)
    import pytest

    from calc.errors import CalcError

    with pytest.raises(CalcError, match="input 'aux.pool' runs in training only"):
        n.add("bad", ReLU(), "aux.pool")
