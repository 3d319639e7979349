"""A training step: backward FLOPs, optimizer state and the tensors autograd saves, against
PyTorch and by hand.

The reference figures were measured outside the project with torch 2.14.1+cu130 (run on the
CPU: this machine has no GPU) and torchvision 0.29.1+cu130, with
``python tests/data/measure/training/measure.py MODEL BATCH [--fake-cuda] [--freeze P,...]
[--half]``: ``torchvision.models.MODEL(weights=None).train()``, input ``randn(BATCH, 3, 224,
224)``, loss ``out.sum()``.

* FLOPs: ``torch.utils.flop_counter.FlopCounterMode`` around the forward and around
  ``loss.backward()`` (it counts convolutions and matmuls, 2 per MAC).  Its
  ``conv_backward_flop`` computes the weight-gradient term as a conv of the transposed input
  with the transposed output gradient, which takes all C_in input channels where a grouped
  conv's filter sees C_in / groups: the term is ``groups`` times too large (a 3x3 depthwise
  conv on 1x32x8x8 counts 1,216,512 instead of 73,728; ``tests/data/measure/training/groups_bug.py``).
  The tests correct for it: ``raw = 2 x backward MACs + (groups - 1) x 2 x weight-gradient
  MACs`` of every grouped conv, the correction computed from calc's own layers.
* Saved bytes: ``torch.autograd.graph.saved_tensors_hooks`` around the forward, each storage
  once (``untyped_storage().data_ptr()``, the whole storage's ``nbytes()``), the storages of
  parameters and buffers left out.  On the CPU (``cpu``) dropout keeps its fp32 noise; calc
  assumes CUDA, where the fused kernel keeps a bool mask, 3 bytes less per element.
  ``--fake-cuda`` runs the same forward under ``FakeTensorMode`` on a fake ``cuda`` device
  (no GPU needed: the ops take their CUDA paths and the hooks see the CUDA dtypes; storages
  deduplicated by identity, fake tensors having no data pointer): calc matches it to the unit.
"""
import pytest

import archs
from calc.errors import CalcError
from calc.graph import Network
from calc.layers import (
    Add, BatchNorm2d, ChannelSplit, Concat, Conv2d, Dropout, Flatten, GlobalAvgPool2d, Linear, MaxPool2d, ReLU,
    ReLU6,
)
from calc.training import analyze_training, parse_training

# (model, batch): FlopCounterMode forward, FlopCounterMode backward (raw), saved bytes on the
# CPU, saved bytes on fake CUDA; fp32, nothing frozen.
TORCH = {
    ("resnet18", 1): (3_628_146_688, 7_020_265_472, 22_218_240, 22_218_240),
    ("resnet18", 2): (7_256_293_376, 14_040_530_944, 44_398_080, 44_398_080),
    ("resnet50", 1): (8_178_368_512, 16_120_709_120, 86_121_984, 86_121_984),
    ("resnet50", 2): (16_356_737_024, 32_241_418_240, 172_031_488, 172_031_488),
    ("mobilenet_v2", 1): (601_548_544, 11_678_152_448, 78_345_984, 78_342_144),
    ("mobilenet_v2", 2): (1_203_097_088, 23_356_304_896, 156_555_520, 156_547_840),
    ("vgg16", 1): (30_940_528_640, 61_707_649_024, 73_355_264, 73_330_688),
    ("vgg16", 2): (61_881_057_280, 123_415_298_048, 146_710_528, 146_661_376),
    # more families, batch 2 (torchvision shufflenet_v2_x1_0: channel-split views, shuffles and
    # concats; resnext50_32x4d: grouped convs; squeezenet1_0: concats, ceil-mode pools, dropout)
    ("shufflenet_v2", 2): (579_631_968, 2_835_388_512, 40_834_640, 40_834_640),
    ("resnext50_32x4d", 2): (16_921_919_488, 62_041_948_160, 224_676_352, 224_676_352),
    ("squeezenet1_0", 2): (3_275_698_304, 5_880_737_920, 71_534_656, 71_015_488),
    ("alexnet", 2): (2_856_753_920, 5_432_400_640, 7_482_368, 7_402_496),
    # torchvision densenet121 (measured after its declaration landed; same script, --fake-cuda for
    # the last figure): concatenated features saved once per storage, int64 max-pool indices
    ("densenet121", 1): (5_668_323_328, 11_100_618_752, 130_695_936, 130_695_936),
    ("densenet121", 2): (11_336_646_656, 22_201_237_504, 261_057_280, 261_057_280),
}


def step(name, batch=1, **kw):
    net = archs.build(name)
    return net, analyze_training(net, batch=batch, **kw)


def groups_overcount(net, a) -> int:
    """What FlopCounterMode adds to the backward of grouped convs: (groups - 1) x their true
    weight-gradient FLOPs (2 x the forward MACs), for every trained grouped conv."""
    trained = {c.name for c in a.layers if c.trained}
    out = 0
    for node in net.layers():
        layer = node.layer
        if isinstance(layer, Conv2d) and layer.groups > 1 and node.name in trained:
            macs = layer.counts(net.input_shapes(node), node.shape)["macs"] * a.batch
            out += (layer.groups - 1) * 2 * macs
    return out


@pytest.mark.parametrize("name,batch", list(TORCH))
def test_flops_and_saved_bytes_match_pytorch(name, batch):
    forward, backward_raw, saved_cpu, saved_cuda = TORCH[name, batch]
    net, a = step(name, batch)
    t = a.totals
    assert 2 * t["forward_macs"] == forward
    assert 2 * t["backward_macs"] + groups_overcount(net, a) == backward_raw
    assert t["saved_activation_bytes"] == saved_cuda
    masks = sum(c.saved_activation_bytes for c in a.layers if c.op == "Dropout")  # bool: 1 byte each
    assert t["saved_activation_bytes"] + 3 * masks == saved_cpu


def test_the_groups_correction_is_mobilenet_v2s_depthwise_convs():
    # measured: FlopCounterMode's backward of mobilenet_v2, batch 1, is 11,678,152,448; the
    # depthwise convs' weight-gradient terms are over-counted by 10,496,731,392 (computed by
    # measure.py from each grouped conv's shapes), leaving 1,181,421,056
    net, a = step("mobilenet_v2")
    assert groups_overcount(net, a) == 10_496_731_392
    assert 2 * a.totals["backward_macs"] == 1_181_421_056


# measured with --freeze (torchvision names: conv1, bn1, layer1 are calc's stem and layer1;
# mobilenet_v2's `features` are calc's stem, stage1..7 and head), batch 2
@pytest.mark.parametrize("name,freeze,backward,saved,trained", [
    ("resnet18", ("stem", "layer1"), 9_612_197_888, 14_289_920, 11_532_008),
    ("resnet18", ("layer3",), 12_396_363_776, 44_398_080, 9_589_800),
    ("mobilenet_v2", ("stem", *(f"stage{i}" for i in range(1, 8)), "head"), 5_120_000, 10_240, 1_281_000),
])
def test_frozen_prefixes_match_pytorch(name, freeze, backward, saved, trained):
    _, a = step(name, 2, freeze=freeze)
    assert 2 * a.totals["backward_macs"] == backward
    assert a.totals["saved_activation_bytes"] == saved
    assert a.totals["trainable_params"] == trained


def test_fp16_keeps_fp32_batch_norm_statistics():
    # measured, resnet50 batch 1 in fp16 (--half): fake CUDA 43,970,048 bytes (BN's saved mean and
    # invstd are fp32 there, 212,480 bytes); the CPU keeps them in fp16: 43,863,808
    net, a = step("resnet50", dtype="fp16")
    assert a.totals["saved_activation_bytes"] == 43_970_048
    channels = sum(node.shape[0] for node in net.layers() if isinstance(node.layer, BatchNorm2d))
    assert 8 * channels == 212_480
    assert a.totals["saved_activation_bytes"] - 2 * 2 * channels == 43_863_808


# --- the closed forms, by hand -----------------------------------------------------------------

def conv_net(groups=1, bias=False):
    net = Network("c", (8, 6, 6))
    net.add("a", Conv2d(out_channels=8, kernel_size=3, padding=1, bias=bias))
    net.add("b", Conv2d(out_channels=8, kernel_size=3, padding=1, groups=groups, bias=bias))
    return net


@pytest.mark.parametrize("groups", [1, 2, 8])
def test_conv_backward_is_twice_the_forward_except_the_first_input_gradient(groups):
    a = analyze_training(conv_net(groups), convention="macs")
    first, second = a.layers
    assert first.backward_macs == first.forward_macs == 8 * 36 * 8 * 9  # weight gradient only
    assert second.forward_macs == 8 * 36 * (8 // groups) * 9
    assert second.backward_macs == 2 * second.forward_macs  # input and weight gradients, any groups


def test_flops_convention_weighs_the_backward():
    a = analyze_training(conv_net(bias=True), convention="flops")
    first, second = a.layers
    out = 8 * 36
    assert first.backward_flops == 2 * first.forward_macs + out  # weight gradient + bias gradient
    assert second.backward_flops == 4 * second.forward_macs + out
    assert first.forward_flops == 2 * first.forward_macs + out


def test_frozen_layers_skip_weight_gradients_and_the_layers_below_skip_everything():
    a = analyze_training(conv_net(), convention="macs", freeze=["a"])
    first, second = a.layers
    assert (first.backward, first.backward_macs, first.saved_activation_bytes, first.grad_bytes) == (False, 0, 0, 0)
    assert second.backward_macs == second.forward_macs  # weight gradient only: its input needs none
    b = analyze_training(conv_net(), convention="macs", freeze=["b"])
    assert [c.backward_macs for c in b.layers] == [b.layers[0].forward_macs, b.layers[1].forward_macs]
    # a frozen conv still saves its input: one backward formula computes both gradients
    assert b.layers[1].saved_activation_bytes == 8 * 36 * 4


def test_freeze_prefix_matches_dotted_names_and_bad_prefixes_are_errors():
    net = archs.build("resnet18")
    a = analyze_training(net, freeze=["layer1"])
    assert {c.name for c in a.layers if c.params and not c.trained} == \
        {n.name for n in net.layers() if n.name.startswith("layer1.") and n.layer.params(net.input_shapes(n))}
    with pytest.raises(CalcError, match="--freeze 'layer9': no layer of resnet18"):
        analyze_training(net, freeze=["layer9"])
    with pytest.raises(CalcError, match="did you mean 'layer1'"):
        analyze_training(net, freeze=["lyer1"])
    with pytest.raises(CalcError, match="nothing to train"):
        analyze_training(net, freeze=["stem", "layer1", "layer2", "layer3", "layer4", "fc"])


def small_net():
    """input 4x8x8 -> conv -> bn -> relu -> maxpool 2x2 -> pool -> flat -> dropout -> fc."""
    net = Network("small", (4, 8, 8))
    net.add("conv", Conv2d(out_channels=8, kernel_size=3, padding=1, bias=False))
    net.add("bn", BatchNorm2d())
    net.add("relu", ReLU())
    net.add("max", MaxPool2d(kernel_size=2))
    net.add("pool", GlobalAvgPool2d())
    net.add("flat", Flatten())
    net.add("drop", Dropout(p=0.5))
    net.add("fc", Linear(out_features=10))
    return net


def test_saved_tensors_layer_by_layer():
    a = analyze_training(small_net(), batch=2)
    saved = {c.name: c.saved_activation_bytes for c in a.layers}
    assert saved == {
        "conv": 2 * 4 * 64 * 4,           # the input image, for the weight gradient
        "bn": 2 * 8 * 64 * 4 + 2 * 8 * 4,  # its input, and the fp32 batch mean and invstd (per channel)
        "relu": 2 * 8 * 64 * 4,           # its output
        "max": 2 * 8 * 16 * 8,            # its input is relu's (stored once); int64 indices
        "pool": 0,                        # a mean keeps nothing
        "flat": 0,                        # a view
        "drop": 2 * 8 * 1,                # a bool mask
        "fc": 2 * 8 * 4,                  # its input (dropout's output) for the weight gradient
    }
    assert a.totals["saved_activation_bytes"] == sum(saved.values())


def test_a_view_keeps_its_whole_base_alive():
    # x.chunk(2, 1): a conv reading one half saves the whole tensor, once for both halves
    net = Network("split", (8, 4, 4))
    net.add("c0", Conv2d(out_channels=8, kernel_size=1, bias=False))
    net.add("l", ChannelSplit(index=0), ["c0"])
    net.add("r", ChannelSplit(index=1), ["c0"])
    net.add("cl", Conv2d(out_channels=4, kernel_size=1, bias=False), ["l"])
    net.add("cr", Conv2d(out_channels=4, kernel_size=1, bias=False), ["r"])
    net.add("cat", Concat(), ["cl", "cr"])
    a = analyze_training(net)
    saved = {c.name: c.saved_activation_bytes for c in a.layers}
    assert saved == {"c0": 8 * 16 * 4, "l": 0, "r": 0, "cl": 8 * 16 * 4, "cr": 0, "cat": 0}
    # the halves' gradients join (a concat), they do not add: no accumulation at c0
    c0 = a.layers[0]
    assert c0.backward_flops == 2 * c0.forward_macs


def test_dropout_at_p0_is_a_view_and_saves_nothing():
    net = Network("d", (16, 1, 1))
    net.add("flat", Flatten())
    net.add("fc1", Linear(out_features=8))
    net.add("drop", Dropout(p=0.0))
    net.add("fc2", Linear(out_features=4))
    a = analyze_training(net)
    assert [c.saved_activation_bytes for c in a.layers] == [0, 16 * 4, 0, 8 * 4]
    assert a.layers[2].forward_flops == a.layers[2].backward_flops == 0


def test_linear_saves_its_input_only_for_the_weight_gradient():
    net = Network("l", (16, 1, 1))
    net.add("flat", Flatten())
    net.add("fc1", Linear(out_features=8))
    net.add("fc2", Linear(out_features=4))
    a = analyze_training(net, freeze=["fc2"])
    assert [c.saved_activation_bytes for c in a.layers] == [0, 16 * 4, 0]  # frozen fc2 keeps only its weight
    assert [c.backward_macs for c in a.layers] == [0, 16 * 8, 8 * 4]


def residual():
    net = Network("res", (4, 8, 8))
    net.add("a", Conv2d(out_channels=4, kernel_size=3, padding=1, bias=False))
    net.add("b", ReLU6())
    net.add("c", Conv2d(out_channels=4, kernel_size=3, padding=1, bias=False))
    net.add("add", Add(), ["b", "c"])
    return net


def test_gradients_add_where_a_tensor_feeds_two_layers():
    a = analyze_training(residual(), convention="flops")
    b = {c.name: c for c in a.layers}
    assert b["b"].backward_flops == 2 * 256 + 256  # ReLU6's 2 comparisons/elem + the add of two gradients
    assert b["add"].backward_flops == 0
    assert analyze_training(residual(), convention="macs").layers[1].backward_flops == 0


def test_backward_working_set_and_peak():
    a = analyze_training(residual(), batch=2, optimizer="adam")
    act = 2 * 256 * 4  # bytes of one activation gradient
    w = {c.name: c.backward_working_bytes for c in a.layers}
    # add: its output's gradient and one per input; c: add's gradient to b waits while c
    # produces its own; b: the gradient of b and of its input a; a: its output's only
    assert w == {"add": 3 * act, "c": 3 * act, "b": 2 * act, "a": act}
    t = a.totals
    params = 2 * 4 * 4 * 9
    assert (t["param_bytes"], t["grad_bytes"], t["optimizer_bytes"]) == (4 * params, 4 * params, 8 * params)
    assert t["saved_activation_bytes"] == 3 * act  # a saves the input, relu6 its input (a's output), c b's
    assert t["peak_bytes"] == 16 * params + 3 * act + 3 * act == max(c.peak_bytes for c in a.layers)


@pytest.mark.parametrize("optimizer,states,flops", [("sgd", 0, 2), ("momentum", 1, 4), ("adam", 2, 13),
                                                    ("adamw", 2, 14)])
def test_optimizer_state_and_step(optimizer, states, flops):
    # torch.optim 2.14.1 (single-tensor, default hyper-parameters;
    # tests/data/measure/training/optim_ops.py):
    # state bytes per fp32 parameter 0 / 4 / 8 / 8; ops per element: sgd add_(alpha); momentum
    # mul_, add_, add_(alpha); adam lerp_, mul_, addcmul_, sqrt, div, add_, addcdiv_; adamw mul_ first
    _, a = step("resnet18", optimizer=optimizer, freeze=["stem"])
    t = a.totals
    assert t["trainable_params"] == 11_689_512 - 64 * 3 * 49 - 128
    assert t["optimizer_bytes"] == states * 4 * t["trainable_params"]
    assert t["grad_bytes"] == 4 * t["trainable_params"] and t["param_bytes"] == 4 * 11_689_512
    assert t["optimizer_flops"] == flops * t["trainable_params"]


def test_amp_is_zeros_sixteen_bytes_per_parameter_with_adam():
    # ZeRO (Rajbhandari et al. 2019, arXiv 1910.02054), section 3.1: mixed-precision Adam keeps
    # fp16 parameters and gradients (2 + 2 bytes) and fp32 master weights, momentum and variance (12)
    _, a = step("resnet18", dtype="fp16", amp=True, optimizer="adam")
    t = a.totals
    assert (t["param_bytes"] + t["grad_bytes"] + t["optimizer_bytes"]) == 16 * 11_689_512
    assert t["optimizer_flops"] == (13 + 1) * 11_689_512  # + unscaling each gradient
    _, sgd = step("resnet18", dtype="bf16", amp=True)
    assert sgd.totals["optimizer_bytes"] == 4 * 11_689_512  # the master copy alone


def test_training_only_nodes_run_in_training():
    net = Network("aux", (3, 8, 8))
    x = net.add("conv", Conv2d(out_channels=4, kernel_size=3, padding=1, bias=False))
    net.add("aux.conv", Conv2d(out_channels=16, kernel_size=1, bias=False), x, train_only=True)
    net.add("pool", GlobalAvgPool2d(), x)
    a = analyze_training(net, convention="macs")
    aux = next(c for c in a.layers if c.name == "aux.conv")
    assert aux.forward_macs == 64 * 16 * 4 and aux.backward_macs == 2 * aux.forward_macs
    # while the head's backward runs: its output's gradient, the pool's gradient for conv's
    # output (waiting) and the head's own for it
    assert aux.backward_working_bytes == 16 * 64 * 4 + 2 * 4 * 64 * 4
    assert any("training-only layers" in n and n.endswith(": 1") for n in a.notes)


def test_bad_options_are_one_line_errors():
    net = small_net()
    for kw, msg in [({"amp": True}, "--amp .* needs --dtype fp16 or bf16"),
                    ({"dtype": "int8"}, "counted in fp32, fp16, bf16"),
                    ({"optimizer": "lion"}, "unknown optimizer 'lion'"),
                    ({"batch": 0}, "batch must be"),
                    ({"convention": "thop"}, "'thop' counts inference only"),
                    ({"convention": "nope"}, "unknown convention 'nope'")]:
        with pytest.raises(CalcError, match=msg):
            analyze_training(net, **kw)


# --- the rules --------------------------------------------------------------------------------

def sample_rules():
    """Each layer type on a small input, with every gradient needed."""
    from calc.layers import LAYER_TYPES
    from calc.layers.backward import Grads

    samples = {"Conv2d": dict(out_channels=4, kernel_size=1), "Linear": dict(out_features=4),
               "LRN": dict(size=3), "MaxPool2d": dict(kernel_size=2), "AvgPool2d": dict(kernel_size=2),
               "AdaptiveAvgPool2d": dict(output_size=2), "ChannelSplit": dict(index=0),
               "ChannelSlice": dict(stop=2), "ChannelShuffle": dict(groups=2), "ZeroPad2d": dict(padding=1),
               "Crop": dict(top=1), "Scale": dict(factor=0.5), "Embedding": dict(num_embeddings=10, embedding_dim=4),
               "ConvTranspose2d": dict(out_channels=4, kernel_size=2, stride=2), "Upsample": dict(scale_factor=2),
               "Interp": dict(zoom_factor=2), "PSROIPool": dict(output_dim=1, group_size=2),
               "Permute": dict(dims=(0, 2, 3, 1)), "Reshape": dict(shape=(-1, 4)), "PriorBox": dict(min_sizes=(30,)),
               "DetectionOutput": dict(num_classes=2)}
    # the layers that do not take one or several C x H x W maps
    special = {"ROIPool": [(4, 4, 4), (3, 5)], "PSROIPool": [(4, 4, 4), (3, 5)], "PriorBox": [(4, 4, 4), (3, 32, 32)],
               "Proposal": [(18, 4, 4), (36, 4, 4)], "DetectionOutput": [(16,), (8,), (2, 16)]}
    for name, cls in LAYER_TYPES.items():
        layer = cls(**samples.get(name, {}))
        lo = layer.arity[0]
        ins = [(4,)] if name == "Linear" else [(4, 4, 4)] * lo
        if name == "Mul":
            ins = [(4, 4, 4), (4, 1, 1)]
        if name == "Embedding":  # a column of token ids
            ins = [(1, 4, 1)]
        ins = special.get(name, ins)
        out = layer.output_shape(ins)
        yield name, layer, ins, out, Grads((True,) * len(ins), True)


def test_every_layer_type_has_training_rules():
    from calc.training import training_conventions

    flops = training_conventions()["flops"]
    for name, layer, ins, out, grads in sample_rules():
        counts = layer.backward_counts(ins, out, grads)
        assert counts is not None and layer.saved_for_backward(ins, out, grads) is not None, name
        assert set(counts) == set(layer.backward_quantities), name
        assert name in flops.backward, name
        rule = flops.forward.get(name, {})
        assert set(rule) <= set(layer.train_counts(ins, out)), name


def test_a_rule_naming_an_unknown_quantity_or_op_fails_when_loaded():
    with pytest.raises(CalcError, match="Conv2d reports no quantity 'macs'"):
        parse_training({"flops": {"summary": "", "backward": {"Conv2d": {"macs": 2}}}}, "t.toml")
    with pytest.raises(CalcError, match="backward 'Conv2D': unknown layer type; did you mean 'Conv2d'"):
        parse_training({"flops": {"summary": "", "backward": {"Conv2D": {"macs_input": 2}}}}, "t.toml")
    with pytest.raises(CalcError, match="optimizer 'lion'"):
        parse_training({"flops": {"summary": "", "optimizer": {"lion": 3}}}, "t.toml")


def test_the_cli_knows_the_engines_choices():
    from calc.cli import train
    from calc import training

    assert train.OPTIMIZERS == training.OPTIMIZERS and train.TRAIN_DTYPES == training.TRAIN_DTYPES
    assert set(train.CONVENTIONS) == set(training.training_conventions())
