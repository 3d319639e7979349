"""The command line: outputs, the JSON contract, and one-line errors for bad input."""
import csv
import io
import json

import pytest




def test_arch_table(cli):
    code, out, err = cli("arch", "mobilenet_v2", "--alpha", "0.75", "--res", "192")
    assert code == 0 and err == ""
    assert "mobilenet_v2 (alpha=0.75, res=192, classes=1000)" in out
    assert "153,941,888" in out and "2,636,424" in out
    assert "convention macs" in out
    assert "EXPLAINED" in out and "truncates" in out


def test_json_contract(cli):
    code, out, _ = cli("arch", "mobilenet_v2", "--alpha", "0.75", "--res", "192", "--batch", "2",
                       "--dtype", "fp16", "--convention", "flops", "--format", "json")
    assert code == 0
    d = json.loads(out)
    for key in ("arch", "config", "input", "dtype", "convention", "totals", "layers"):
        assert key in d
    assert d["arch"] == "mobilenet_v2"
    assert d["config"] == {"alpha": 0.75, "res": 192, "classes": 1000}
    assert d["input"] == [2, 3, 192, 192]
    assert d["dtype"] == "fp16" and d["convention"] == "flops"
    t = d["totals"]
    for key in ("params", "macs", "flops", "activations", "feature_memory_bytes", "peak_memory_bytes",
                "param_memory_bytes", "memory_traffic_bytes"):
        assert isinstance(t[key], int)
    assert t["macs"] == 2 * 153_941_888  # per batch
    assert t["param_memory_bytes"] == 2 * 2_636_424
    layer = d["layers"][0]
    assert set(layer) >= {"name", "op", "input_shapes", "output_shape", "params", "macs", "flops"}
    assert layer["name"] == "stem.conv" and layer["input_shapes"] == [[3, 192, 192]]
    assert sum(x["macs"] for x in d["layers"]) == t["macs"]


def test_layers_csv_and_markdown(cli):
    code, out, _ = cli("arch", "mobilenet_v1", "--layers", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and rows[0]["name"] == "stem.conv"
    # the last row holds the totals (issue 19: CSV kept only the layers)
    *layer_rows, total = rows
    assert total["name"] == "total" and int(total["macs"]) == 568_740_352
    assert sum(int(r["macs"]) for r in layer_rows) == 568_740_352
    code, out, _ = cli("arch", "mobilenet_v1", "--format", "csv")
    (row,) = csv.DictReader(io.StringIO(out))
    assert row["macs"] == "568740352" and row["alpha"] == "1.0"
    code, out, _ = cli("arch", "mobilenet_v1", "--res", "160", "--format", "markdown", "--layers")
    assert code == 0 and "| macs | 290 M | 291 | explained |" in out
    assert "| block13.pw.conv | Conv2d | 1024x5x5 |" in out


def test_table_layers_view(cli):
    code, out, _ = cli("arch", "mobilenet_v2", "--layers")
    assert code == 0
    assert "stage7.block0.project.conv" in out and "FLOPs[macs]" in out


def test_list_and_conventions(cli):
    code, out, _ = cli("list")
    assert code == 0 and "mobilenet_v2" in out and "--alpha (0, 4]" in out
    code, out, _ = cli("list", "--format", "json")
    names = {a["name"] for a in json.loads(out)}
    assert {"mobilenet_v1", "mobilenet_v2"} <= names
    code, out, _ = cli("conventions")
    assert code == 0 and "ptflops" in out and "fvcore" in out


@pytest.mark.parametrize("args,message", [
    (["arch", "nonet"], "unknown architecture 'nonet'"),
    (["arch", "mobilenet_v2", "--alpha", "0"], "--alpha must be in (0, 4], received 0.0"),
    (["arch", "mobilenet_v2", "--alpha", "nan"], "--alpha must be a finite number"),
    (["arch", "mobilenet_v2", "--alpha", "-1"], "--alpha must be in (0, 4]"),
    (["arch", "mobilenet_v2", "--res", "8"], "feature map vanishes"),
    (["arch", "mobilenet_v2", "--res", "0"], "--res must be in [1, 8192]"),
    (["arch", "mobilenet_v2", "--batch", "0"], "Invalid value for '--batch'"),
    (["arch", "mobilenet_v2", "--dtype", "fp64"], "Invalid value for '--dtype'"),
    (["arch", "mobilenet_v2", "--convention", "paper"], "unknown convention 'paper'"),
    (["arch", "mobilenet_v2", "--groups", "3"], "mobilenet_v2 does not take --groups"),
    (["arch", "mobilenet_v1", "--variant", "v3"], "--variant must be one of reference|as_printed"),
    (["arch", "mobilenet_v2", "--res", "abc"], "option --res must be a side (square) or HxW, e.g. 600x850, received 'abc'"),
    (["arch", "mobilenet_v2", "--res", "600x0"], "option --res must be in [1, 8192] or HxW, received 600x0"),
    (["arch"], "Missing argument 'NAME'"),
])
def test_bad_input_is_one_line(cli, args, message):
    code, out, err = cli(*args)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("calc: error: ")
    assert message in err
    assert "Traceback" not in err


def test_vanishing_error_names_the_layer(cli):
    _, _, err = cli("arch", "mobilenet_v2", "--res", "8")
    # 8 -> 4 -> 2 -> 1, then stage 4's stride-2 depthwise conv receives a 1x1 map
    assert "layer 'stage4.block0.dw.conv' (Conv2d, input 192x1x1)" in err


def test_headline_shows_only_its_own_published_rows(cli):
    # the README's first command: the TF-slim zoo's 0.75/192 rows, both explained, and nothing of 1.0/224
    code, out, _ = cli("arch", "mobilenet_v2", "--alpha", "0.75", "--res", "192", "--format", "json")
    rows = json.loads(out)["published"]
    assert [(r["quantity"], r["printed"], r["verdict"]) for r in rows] == [("macs", "153", "explained"),
                                                                          ("params", "2.61", "explained")]
    assert all("TF-slim" in r["source"] for r in rows)
    code, out, _ = cli("arch", "mobilenet_v2", "--alpha", "0.75", "--res", "192")
    assert "DISAGREES" not in out


@pytest.mark.parametrize("name", sorted(n for n, a in __import__("archs").ARCHITECTURES.items()
                                        if any(o.name == "classes" for o in a.options)))
def test_no_published_row_at_ten_classes(cli, name):
    code, out, _ = cli("arch", name, "--classes", "10", "--format", "json")
    assert code == 0 and json.loads(out)["published"] == []


def test_rows_counted_under_another_convention_say_so(cli):
    code, out, _ = cli("arch", "resnet50", "--convention", "flops")
    assert "flops [ptflops_2019]  published 4.12 G" in out and "flops [paddle]" in out
    assert "counted under 'ptflops_2019', the rules of the source's tool, not this report's 'flops'" in out
    code, out, _ = cli("arch", "resnet50", "--convention", "paddle")
    assert "counted under 'paddle'" not in out  # the report's own convention needs no remark
    assert "params [paddle]" in out and "25,556,033" in out  # model_stat's PARAMs beside the true count


def test_json_layers_carry_impl(cli, torch_counts):
    # a hook counter's view, rebuilt from JSON alone: the outputs of the layers run as nn.Modules
    code, out, _ = cli("arch", "mobilenet_v2", "--format", "json")
    layers = json.loads(out)["layers"]
    assert {x["impl"] for x in layers} <= {"module", "functional", "operator"}
    leaf = sum(x["activations"] for x in layers if x["impl"] == "module")
    assert leaf == torch_counts["mobilenet_v2@224"]["leaf_output_elems"]


def test_sweep_takes_a_list_of_batch_sizes(cli):
    code, out, _ = cli("sweep", "mobilenet_v2", "--alpha", "0.5,1.0", "--res", "160,224", "--batch", "1,8",
                       "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and list(rows[0])[:3] == ["alpha", "batch", "res"] and len(rows) == 8
    # batch 8 at 0.5/224: calc arch mobilenet_v2 --alpha 0.5 --res 224 --batch 8
    assert rows[3] == {**rows[3], "alpha": "0.5", "batch": "8", "res": "224", "macs": "777054720",
                       "peak_memory_bytes": "38535168", "feature_memory_bytes": "343509248"}
    code, out, _ = cli("sweep", "mobilenet_v2", "--res", "160,224", "--batch", "1,8", "--format", "json")
    d = json.loads(out)
    assert code == 0 and d["batch"] == [1, 8] and [p["batch"] for p in d["points"]] == [1, 1, 8, 8]
    code, out, _ = cli("sweep", "mobilenet_v2", "--res", "160", "--batch", "2,4", "--device", "v100",
                       "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and [r["batch"] for r in rows] == ["2", "4"]
    assert float(rows[1]["latency_ms"]) > float(rows[0]["latency_ms"]) > 0
    code, out, _ = cli("sweep", "mobilenet_v2", "--res", "160,224", "--batch", "1,2")
    assert code == 0 and out.splitlines()[0] == "mobilenet_v2: 4 points, batch 1,2, fp32"


@pytest.mark.parametrize("value, message", [
    ("0,1", "--batch must be a comma-separated list of integers >= 1"),
    ("x", "--batch must be a comma-separated list of integers >= 1"),
    (",".join(map(str, range(1, 300))), "--batch lists 299 batch sizes; at most 256 per run"),
])
def test_sweep_batch_lists_are_checked(cli, value, message):
    code, out, err = cli("sweep", "mobilenet_v2", "--res", "160", "--batch", value)
    assert code == 2 and out == "" and message in err and err.count("\n") == 1
