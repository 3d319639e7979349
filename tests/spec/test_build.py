"""Spec files built into networks: values computed by hand, expressions, blocks, repeats
and stage tables, the examples against the built-ins."""
from __future__ import annotations


import pytest

import archs
from calc.blocks import make_divisible
from calc.counting import analyze
from calc.errors import CalcError
from calc.graph import Network
from calc.layers import Add, BatchNorm2d, Conv2d, Flatten, GlobalAvgPool2d, Linear, ReLU
from calc.resolution import resolution
from calc.spec import load_spec
from tests.spec.common import EXAMPLES, SMALL, same_network, spec


# ---------------------------------------------------------------------------
# values computed by hand



def test_small_spec_by_hand():
    a = spec(SMALL)
    net = a.build()
    assert net.name == "small" and net.config == {} and a.family == "spec file" and a.source == "net.yaml"
    t = analyze(net).totals
    # params: conv 16*3*3*3 = 432, bn 2*16 = 32, conv2 16*16*3*3 = 2304, fc 16*10 + 10 = 170
    assert t["params"] == 432 + 32 + 2304 + 170 == 2938
    # MACs: conv 32*32*16 * 27 = 442,368; conv2 32*32*16 * 144 = 2,359,296; fc 16*10 = 160
    assert t["macs"] == 442_368 + 2_359_296 + 160 == 2_801_824
    assert net["add"].inputs == ("relu", "conv2") and net["conv2"].inputs == ("relu",)
    # the same network written with the Python API (the README's example)
    ref = Network("small", (3, 32, 32))
    ref.add("conv", Conv2d(out_channels=16, kernel_size=3, padding=1, bias=False))
    ref.add("bn", BatchNorm2d())
    y = ref.add("relu", ReLU())
    ref.add("conv2", Conv2d(out_channels=16, kernel_size=3, padding=1, bias=False))
    ref.add("add", Add(), [y, "conv2"])
    ref.add("pool", GlobalAvgPool2d()), ref.add("flat", Flatten()), ref.add("fc", Linear(out_features=10))
    same_network(net, ref)


def test_json_example_by_hand():
    a = load_spec(EXAMPLES / "two_branch.json")
    assert [o.name for o in a.options] == ["classes"] and a.reference == "calc example, written by hand"
    net = a.build()
    assert net["mix.cat"].shape == (48, 32, 32)
    t = analyze(net).totals
    # stem 3*16*9 = 432 (+ BN 32); 1x1 16*16 = 256; 3x3 16*16*9 = 2304; BN 2*48 = 96; fc 48*10+10 = 490
    assert t["params"] == 432 + 32 + 256 + 2304 + 96 + 490 == 3610
    # MACs per 32x32 output: stem 16*27, 1x1 16*16, 3x3 16*144; fc 480
    assert t["macs"] == 1024 * (16 * 27 + 16 * 16 + 16 * 144) + 480 == 3_064_288
    assert analyze(a.build(classes=100)).totals["params"] == 3610 - 490 + 48 * 100 + 100


def test_expressions_params_and_vars():
    a = spec("""
params:
  alpha: {default: 1.0, min: 0, max: 4, min_exclusive: true, help: width}
  res: 64
vars: {c: "${make_divisible(24 * alpha)}", half: "${res // 2}"}
input: [3, "${res}", "${res}"]
layers:
  - {name: conv, type: Conv2d, out_channels: "${c}", kernel_size: 3, stride: 2, padding: 1}
  - {name: dw, type: Conv2d, out_channels: "${in_channels}", groups: "${in_channels}", kernel_size: [1, "${1 + 2}"], padding: [0, 1]}
  - {name: pool, type: AvgPool2d, kernel_size: "${in_height // 4}"}
  - {name: fc_in, type: Flatten}
  - {name: fc, type: Linear, out_features: "${channels('conv') * height('pool') * width('pool')}", bias: "${alpha > 1}"}
""")
    # res, written as both input sides, is the input's resolution: a side or HxW
    assert [(o.name, o.kind, o.default) for o in a.options] == [("alpha", float, 1.0), ("res", resolution, 64)]
    net = a.build(alpha=0.5, res=96)
    assert net.config == {"alpha": 0.5, "res": 96}
    c = make_divisible(24 * 0.5)
    assert net["conv"].shape == (c, 48, 48)
    assert net["dw"].layer.groups == c and net["dw"].layer.kernel_size == (1, 3)
    assert net["pool"].layer.kernel_size == 12 and net["pool"].shape == (c, 4, 4)
    assert net["fc"].layer.out_features == c * 16 and net["fc"].layer.bias is False
    assert a.build(alpha=2.0)["fc"].layer.bias is True


# ---------------------------------------------------------------------------
# blocks, repeats and stage tables


def test_mobilenet_v2_spec_matches_the_builtin():
    a = load_spec(EXAMPLES / "mobilenet_v2.yaml")
    for alpha, res in [(1.0, 224), (0.75, 192), (0.35, 96), (1.4, 224)]:
        # the spec's residual adds list (project, in): a skipped add stands for its first input
        same_network(a.build(alpha=alpha, res=res), archs.build("mobilenet_v2", alpha=alpha, res=res),
                     with_inputs=False)
    assert analyze(a.build(alpha=0.75, res=192)).totals["macs"] == 153_941_888


def _python_cifar_resnet(depth: int, alpha: float = 1.0, res: int = 32, classes: int = 10) -> Network:
    """The tiny_resnet example written with the Python API, to check the spec file's semantics."""
    net = Network("tiny_resnet", (3, res, res))

    def cbn(name, x, c, k, s, relu=True):
        x = net.add(f"{name[0]}", Conv2d(out_channels=c, kernel_size=k, stride=s, padding=k // 2, bias=False), x)
        x = net.add(f"{name[1]}", BatchNorm2d(), x)
        return net.add(name[2], ReLU(), x) if relu else x

    x = cbn(("stem.conv", "stem.bn", "stem.relu"), "input", int(16 * alpha), 3, 1)
    n = (depth - 2) // 6
    for si, c in enumerate((16, 32, 64), start=1):
        c = int(c * alpha)
        for i in range(n):
            p, s = f"stage{si}.block{i}", (2 if si > 1 and i == 0 else 1)
            y = cbn((f"{p}.conv1", f"{p}.bn1", f"{p}.relu1"), x, c, 3, s)
            y = cbn((f"{p}.conv2", f"{p}.bn2", None), y, c, 3, 1, relu=False)
            short = x
            if s != 1 or net[x].shape[0] != c:
                short = cbn((f"{p}.shortcut.conv", f"{p}.shortcut.bn", None), x, c, 1, s, relu=False)
            y = net.add(f"{p}.add", Add(), [y, short])
            x = net.add(f"{p}.relu", ReLU(), y)
    net.add("pool", GlobalAvgPool2d()), net.add("flatten", Flatten()), net.add("fc", Linear(out_features=classes))
    return net


def test_tiny_resnet_example():
    a = load_spec(EXAMPLES / "tiny_resnet.yaml")
    assert [o.name for o in a.options] == ["depth", "alpha", "res", "classes"]
    assert a.option("depth").choices == (20, 32, 44, 56, 110)
    for depth, alpha in [(20, 1.0), (32, 0.5), (110, 1.0)]:
        same_network(a.build(depth=depth, alpha=alpha), _python_cifar_resnet(depth, alpha))
    net = a.build()
    # ResNet-20: the paper's 0.27 M (option A shortcuts) + two projections (16*32 + 64 and 32*64 + 128)
    assert analyze(net).totals["params"] == 272_474 == 269_722 + (512 + 64) + (2048 + 128)
    assert "stage1.block0.shortcut.conv" not in net and "stage2.block0.shortcut.conv" in net
    assert net["stage1.block0.add"].inputs == ("stage1.block0.bn2", "stem.relu")
    assert net["stage2.block1.add"].inputs == ("stage2.block1.bn2", "stage2.block0.relu")
    with pytest.raises(CalcError, match=r"tiny_resnet: option --depth must be one of 20\|32\|44\|56\|110, received 21"):
        a.build(depth=21)


def test_mobilenet_like_family():
    a = load_spec(EXAMPLES / "mobilenet_like_family.yaml")
    assert a.name == "sketchnet" and [o.name for o in a.options] == ["alpha", "res", "classes"]
    net = a.build()
    names = {n.name for n in net.layers()}
    # the stage table: 1 + 2 + 3 + 3 + 2 + 2 blocks; SE in stages 3, 5, 6; no expansion in stage 1;
    # residuals wherever the shape is kept (stage 1 too: the stem already has 16 channels)
    assert {n.split(".")[0] for n in names if n.startswith("stage")} == {f"stage{i}" for i in range(1, 7)}
    assert {n.rsplit(".", 2)[0] for n in names if n.endswith(".se.scale")} == {
        f"stage{s}.block{b}" for s, n in ((3, 3), (5, 2), (6, 2)) for b in range(n)}
    assert "stage1.block0.expand.conv" not in names and "stage2.block0.expand.conv" in names
    adds = sorted(n for n in names if n.endswith(".add"))
    assert adds == ["stage1.block0.add", "stage2.block1.add", "stage3.block1.add", "stage3.block2.add", "stage4.block1.add",
                    "stage4.block2.add", "stage5.block1.add", "stage6.block1.add"]
    assert net["stage6.block1.dw.conv"].layer.kernel_size == 5 and net["stage6.block1.dw.conv"].shape == (960, 5, 5)
    t = analyze(net).totals
    assert (t["params"], t["macs"]) == (3_245_608, 117_756_192)
    t = analyze(a.build(alpha=0.5, res=128)).totals
    assert (t["params"], t["macs"]) == (1_621_168, 25_964_800)
    with pytest.raises(CalcError, match=r"sketchnet: option --alpha must be in \(0, 4\], received 0"):
        a.build(alpha=0)
    with pytest.raises(CalcError, match=r"sketchnet does not take --groups \(it takes --alpha, --res, --classes\)"):
        a.build(groups=2)


def test_repeat_first_stride_rep_and_nested_blocks():
    a = spec("""
params: {n: 3}
input: [8, 16, 16]
blocks:
  unit:
    args: {c: ~, s: 1}
    layers:
      - {name: conv, type: Conv2d, out_channels: "${c + rep}", kernel_size: 3, stride: "${s}", padding: 1}
      - {name: inner, block: act}
  act:
    layers: [{name: relu, type: ReLU}]
layers:
  - {name: body, block: unit, repeat: "${n}", args: {c: 8, s: 2}}
  - {name: tail, type: ReLU, inputs: body}
  - {name: again, block: unit, args: {c: 4}, inputs: body.block0}
""")
    net = a.build()
    assert [n.name for n in net.layers()] == [
        "body.block0.conv", "body.block0.inner.relu", "body.block1.conv", "body.block1.inner.relu",
        "body.block2.conv", "body.block2.inner.relu", "tail", "again.conv", "again.inner.relu"]
    assert [net[f"body.block{i}.conv"].layer.stride for i in range(3)] == [2, 1, 1]
    assert [net[f"body.block{i}.conv"].layer.out_channels for i in range(3)] == [8, 9, 10]
    assert net["tail"].inputs == ("body.block2.inner.relu",)
    assert net["again.conv"].inputs == ("body.block0.inner.relu",)
    assert net["again.conv"].layer.out_channels == 4  # rep is 0 in a plain use
    with pytest.raises(CalcError, match="net.yaml: block use 'again': input 'body.block0' is not defined"):
        a.build(n=0)  # no repetition, no body.block0; 'body' itself stands for the input
    net = spec(SMALL.replace("layers:", "blocks: {b: {layers: [{name: r, type: ReLU}]}}\nlayers:\n"
                             "  - {name: none, block: b, repeat: 0}")).build()
    assert net["conv"].inputs == ("input",) and len(net) == 8


def test_yaml_anchors_and_merge_keys():
    net = spec("""
input: [3, 8, 8]
x-conv3: &conv3 {type: Conv2d, kernel_size: 3, padding: 1, bias: false}
layers:
  - {<<: *conv3, name: c1, out_channels: 8}
  - {<<: *conv3, name: c2, out_channels: 4, kernel_size: 1, padding: 0}
""").build()
    assert [(n.name, n.layer.kernel_size, n.shape) for n in net.layers()] == [("c1", 3, (8, 8, 8)), ("c2", 1, (4, 8, 8))]


def test_if_skips_and_stands_for_its_input():
    a = spec("""
params: {proj: 1}
input: [4, 8, 8]
layers:
  - {name: a, type: ReLU}
  - {name: p, type: Conv2d, out_channels: 8, kernel_size: 1, if: "${proj == 1}"}
  - {name: q, type: BatchNorm2d, if: "${proj == 1}"}
  - {name: b, type: Conv2d, inputs: a, out_channels: 8, kernel_size: 1, if: false}
  - {name: c, type: Conv2d, inputs: a, out_channels: "${in_channels * 2}", kernel_size: 1}
  - {name: cat, type: Concat, inputs: [q, b, c]}
""")
    net = a.build()
    assert net["cat"].inputs == ("q", "a", "c") and net["cat"].shape == (8 + 4 + 8, 8, 8)
    net = a.build(proj=0)
    assert "p" not in net and net["cat"].inputs == ("a", "a", "c") and net["cat"].shape == (16, 8, 8)
