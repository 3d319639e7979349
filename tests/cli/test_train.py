"""``calc train``: the table, the JSON contract, CSV and Markdown, and one-line errors."""
import csv
import io
import json

import pytest

from calc.training import TOTAL_KEYS


def test_train_table(cli):
    code, out, err = cli("train", "resnet18", "--batch", "2")
    assert code == 0 and err == ""
    assert "resnet18 (res=224, classes=1000, variant=v1.5)" in out
    assert "training step: input 2x3x224x224  dtype fp32  optimizer sgd  convention flops" in out
    # backward conv + linear MACs: FlopCounterMode's 14,040,530,944 FLOPs / 2 (tests/test_training.py)
    assert "7,020,265,472" in out
    assert "44,398,080" in out  # saved activations, the hooks' sum


def test_json_contract(cli):
    code, out, _ = cli("train", "mobilenet_v2", "--batch", "2", "--dtype", "fp16", "--amp", "--optimizer",
                       "adamw", "--freeze", "stem", "--format", "json")
    assert code == 0
    d = json.loads(out)
    assert (d["arch"], d["input"], d["dtype"], d["amp"], d["optimizer"], d["freeze"], d["convention"]) == \
        ("mobilenet_v2", [2, 3, 224, 224], "fp16", True, "adamw", ["stem"], "flops")
    t = d["totals"]
    for key in TOTAL_KEYS:
        assert isinstance(t[key], int), key
        assert all(isinstance(layer[key], int) for layer in d["layers"]), key
    for key in TOTAL_KEYS:
        if key != "peak_bytes":
            assert sum(layer[key] for layer in d["layers"]) == t[key], key
    assert t["peak_bytes"] == max(layer["peak_bytes"] for layer in d["layers"])
    stem = d["layers"][0]
    assert stem["name"] == "stem.conv" and stem["backward"] is False and stem["grad_bytes"] == 0
    # fp16 weights and gradients, fp32 master copy and two fp32 states: 2 + 2 + 12 bytes per trained param
    trained = t["trainable_params"]
    assert (t["grad_bytes"], t["optimizer_bytes"]) == (2 * trained, 12 * trained)
    assert t["param_bytes"] == 2 * t["params"]


def test_macs_convention_and_layers(cli):
    code, out, _ = cli("train", "vgg16", "--batch", "1", "--convention", "macs", "--layers")
    assert code == 0
    assert "not counted by 'macs': ReLU x15, MaxPool2d x5, AdaptiveAvgPool2d x1, Dropout x2" in out
    assert "features.conv1_1" in out and "backward_macs" in out
    # backward FLOPs = backward MACs under macs; FlopCounterMode's backward / 2 = 30,853,824,512
    assert out.count("30,853,824,512") == 2


def test_csv_and_markdown(cli):
    code, out, _ = cli("train", "resnet50", "--batch", "1", "--format", "csv")
    (row,) = csv.DictReader(io.StringIO(out))
    assert code == 0 and row["saved_activation_bytes"] == "86121984" and row["optimizer"] == "sgd"
    code, out, _ = cli("train", "resnet50", "--batch", "1", "--format", "csv", "--layers")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert sum(int(r["saved_activation_bytes"]) for r in rows) == 86_121_984
    code, out, _ = cli("train", "resnet50", "--batch", "1", "--optimizer", "momentum", "--format", "markdown")
    assert code == 0 and "| optimizer state | 97.49 MiB | 102,228,128 |" in out


@pytest.mark.parametrize("args,message", [
    (["--batch", "2", "--amp"], "--amp (mixed precision) needs --dtype fp16 or bf16"),
    (["--batch", "2", "--freeze", "layer9"], "--freeze 'layer9': no layer of resnet18"),
    (["--batch", "2", "--convention", "thop"], "Invalid value for '--convention'"),
    (["--batch", "2", "--dtype", "int8"], "Invalid value for '--dtype'"),
    (["--alpha", "0.5", "--batch", "2"], "resnet18 does not take --alpha"),
    ([], "Missing option '--batch'"),
])
def test_errors_are_one_line(cli, args, message):
    code, out, err = cli("train", "resnet18", *args)
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1


def test_compare_and_sweep_show_training_steps(cli):
    code, out, _ = cli("compare", "resnet18", "mobilenet_v2", "--train", "--batch", "2", "--optimizer", "momentum",
                       "--format", "json")
    assert code == 0
    d = json.loads(out)
    assert d["train"] == "momentum"
    r18, mb2 = d["results"]
    # the same figures as `calc train` (pinned against PyTorch in tests/test_training.py)
    assert (r18["saved_activation_bytes"], mb2["saved_activation_bytes"]) == (44_398_080, 156_547_840)
    assert r18["optimizer_bytes"] == 4 * 11_689_512
    code, out, _ = cli("sweep", "resnet18", "--res", "8,224", "--train", "--batch", "2", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and "vanishes" in rows[0]["error"] and rows[1]["backward_macs"] == "7020265472"
    code, _, err = cli("sweep", "resnet18", "--res", "224", "--train", "--device", "v100")
    assert code == 2 and "does not go with --train" in err


def test_the_readme_example_is_what_calc_prints(cli):
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    block = readme.split("$ calc train resnet18 --batch 2\n", 1)[1].split("```", 1)[0]
    code, out, _ = cli("train", "resnet18", "--batch", "2")
    assert code == 0 and out == block
