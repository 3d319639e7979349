"""Hostile input and everyday mistakes (issue 19): a correct answer, or one line on stderr
and exit 2; never a traceback, a hang, exhausted memory, invalid output or exit 0 on
failure."""
import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def one_line_error(code: int, err: str, *fragments: str) -> None:
    assert code == 2, err
    assert err.startswith("calc: error: ") and err.count("\n") == 1, err
    for f in fragments:
        assert f in err, err


@pytest.mark.parametrize("command", ["arch", "ratio", "breakdown", "latency", "export", "sweep", "train"])
def test_a_name_longer_than_a_path(cli, command):
    extra = ["--batch", "1"] if command == "train" else []
    code, out, err = cli(command, "x" * 300, *extra)
    one_line_error(code, err, "unknown architecture")
    code, out, err = cli(command, "x" * 300 + ".yaml", *extra)
    one_line_error(code, err, ".yaml: cannot read the spec file")


def test_an_astronomical_batch_is_exact(cli):
    code, out, err = cli("arch", "mobilenet_v2", "--batch", str(10**300))
    assert code == 0, err
    assert f"{300_774_272 * 10**300:,}" in out  # MACs, exact
    code, out, err = cli("arch", "mobilenet_v2", "--batch", str(10**300), "--format", "json")
    assert json.loads(out)["totals"]["macs"] == 300_774_272 * 10**300


def run_calc(*args: str, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "calc", *args], capture_output=kw.pop("capture", True),
                          text=True, env=env, timeout=60, **kw)


def test_output_that_cannot_be_written():
    with open("/dev/full", "w") as full:
        r = run_calc("arch", "mobilenet_v2", stdout=full, stderr=subprocess.PIPE, capture=False)
    one_line_error(r.returncode, r.stderr, "cannot write the output: No space left on device")
    r = subprocess.run(f"{sys.executable} -m calc arch mobilenet_v2 >&-", shell=True, capture_output=True,
                       text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    one_line_error(r.returncode, r.stderr, "standard output is closed")


def test_special_files_are_refused_not_read(cli, tmp_path):
    fifo = tmp_path / "net.yaml"
    os.mkfifo(fifo)
    code, _, err = cli("arch", fifo)
    one_line_error(code, err, "not a regular file")
    code, _, err = cli("arch", "/dev/zero.yaml")
    one_line_error(code, err, "no such spec file")
    link = tmp_path / "zero.yaml"
    link.symlink_to("/dev/zero")
    code, _, err = cli("arch", link)
    one_line_error(code, err, "not a regular file")
    code, _, err = cli("latency", "resnet18", "--devices", "/dev/urandom")
    one_line_error(code, err, "not a regular file")
    code, _, err = cli("latency", "resnet18", "--model", fifo)
    one_line_error(code, err, "not a regular file")


NET = "input: [3, 8, 8]\nlayers:\n  - {name: c, type: Conv2d, out_channels: %s, kernel_size: 3}\n"


@pytest.mark.parametrize("value, why", [
    ('"${True}"', "received True from ${True}"), ("true", "not true or false, received True"),
    ("\"${'8'}\"", "not a string, received '8'"), ("'8'", "not a string, received '8'"),
    ("1:30", "unable to parse string as an integer, received '1:30'"),
    ("!!binary OA==", "could not determine a constructor for the tag 'tag:yaml.org,2002:binary'"),
    ("8.5", "got a number with a fractional part, received 8.5"),
])
def test_fields_do_not_coerce(cli, tmp_path, value, why):
    f = tmp_path / "net.yaml"
    f.write_text(NET % value)
    code, _, err = cli("arch", f)
    one_line_error(code, err, why)


def test_expression_warnings_stay_quiet(tmp_path):
    f = tmp_path / "net.yaml"
    f.write_text(NET % "'${\"\\d\" if 1 is 1 else 8}'")
    r = run_calc("arch", str(f), "-W", "x")
    r = subprocess.run([sys.executable, "-W", "always", "-m", "calc", "arch", str(f)], capture_output=True,
                       text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    one_line_error(r.returncode, r.stderr)


def test_names_with_line_breaks_and_escapes(cli, tmp_path):
    src = tmp_path / "evil.yaml"
    src.write_text('name: "evil\\nname\\u001b[31m"\nnotes: ["\\u001b[2Jcleared"]\ninput: [3, 8, 8]\n'
                   'layers:\n  - {name: r, type: ReLU}\n')
    code, out, _ = cli("arch", src)
    assert code == 0 and "\x1b" not in out and "evil\\nname\\x1b[31m" in out and "\\x1b[2Jcleared" in out
    dst = tmp_path / "out.yaml"
    code, _, err = cli("export", src, "-o", dst)
    assert code == 0, err
    assert dst.read_text().splitlines()[0] == "# evil\\nname\\x1b[31m: written by `calc export`."
    code, out, _ = cli("arch", dst, "--format", "json")
    assert json.loads(out)["arch"] == "evil\nname\x1b[31m"  # the name itself survives the round trip


def test_bare_calc_is_help_not_an_error(cli):
    code, out, err = cli()
    assert code == 0 and err == "" and out.startswith("Usage: calc") and "Commands:" in out


@pytest.mark.parametrize("flag, meant", [("--width", "--alpha"), ("-a", "--alpha"), ("--resolution", "--res"),
                                         ("--batch-size", "--batch")])
def test_hints_for_the_options_people_type(cli, flag, meant):
    code, _, err = cli("arch", "mobilenet_v2", flag, "1")
    one_line_error(code, err)
    assert f"did you mean {meant}?" in err.lower().replace("'", "")


def test_sweep_checks_everything_before_the_grid(cli, tmp_path):
    code, _, err = cli("sweep", "mobilenet_v2", "--alpha", "")
    one_line_error(code, err, "--alpha: expected a comma-separated list")
    code, _, err = cli("sweep", "mobilenet_v2", "--res", "8", "--convention", "bogus")
    one_line_error(code, err, "unknown convention 'bogus'")
    code, _, err = cli("sweep", "mobilenet_v2", "--res", "8", "--dtype", "bf16", "--device", "v100")
    one_line_error(code, err, "bf16")
    code, _, err = cli("sweep", "mobilenet_v2", "--res", "224", "--plot", tmp_path / "no" / "p.png")
    one_line_error(code, err, "--plot: no such folder")
    code, _, err = cli("sweep", "mobilenet_v2", "--res", "224", "--plot", tmp_path / "p.jpg")
    one_line_error(code, err, "--plot: the file must end in .png, .svg or .pdf")
    res = ",".join(str(i) for i in range(1, 4001))
    alphas = ",".join(str(i / 1000) for i in range(1, 4001))
    code, _, err = cli("sweep", "mobilenet_v2", "--res", res, "--alpha", alphas)
    one_line_error(code, err, "a sweep takes at most 10,000,000")


def test_latency_batches_are_bounded(cli):
    code, _, err = cli("latency", "mobilenet_v2", "--batch", str(10**300))
    one_line_error(code, err, "at most 1,048,576 (2^20) images")
    code, _, err = cli("latency", "mobilenet_v2", "--batch", "9" * 5000)  # past int()'s 4,300 digits
    one_line_error(code, err, "comma-separated list of integers >= 1")
    assert len(err) < 200  # the value is shown shortened
    code, _, err = cli("latency", "mobilenet_v2", "--batch", ",".join(str(b) for b in range(1, 10_001)))
    one_line_error(code, err, "more than 256 batch sizes")
    code, _, err = cli("latency", "mobilenet_v2", "--batch", ",".join(str(b) for b in range(1, 258)))
    one_line_error(code, err, "lists 257 batch sizes; at most 256")
    code, out, err = cli("latency", "vgg16", "--batch", "4096")  # over the V100's 32 GB: said, not refused
    assert code == 0 and "weights + peak activations need 105.8 GB" in out, err


DEVICE = """[x]
name = "X"
aliases = ["x1"]
fp32_tflops = 1.0
bandwidth_gbs = 100
memory_gb = 8
sms = 10
host_link_gbs = 10
[x.sources]
default = "made up for the test"
"""


@pytest.mark.parametrize("edit, why", [
    (('aliases = ["x1"]', 'aliases = "x1"'), "aliases must be a list of names"),
    (('aliases = ["x1"]', 'aliases = [1]'), "aliases must be a list of names"),
    (("sms = 10", "sms = 0.4"), "sms must be a whole number of streaming multiprocessors from 1 to 100,000"),
    (("sms = 10", "sms = 0"), "sms must be a whole number"),
    (("sms = 10", "sms = true"), "sms must be a whole number"),
    (("fp32_tflops = 1.0", "fp32_tflops = inf"), "fp32_tflops must be a number from 0.001 to 1e+06, received inf"),
    (("fp32_tflops = 1.0", "fp32_tflops = nan"), "fp32_tflops must be a number"),
    (("fp32_tflops = 1.0", "fp32_tflops = 1e-300"), "fp32_tflops must be a number from 0.001"),
    (("bandwidth_gbs = 100", "bandwidth_gbs = 1e300"), "bandwidth_gbs must be a number"),
    (("memory_gb = 8", 'memory_gb = "8"'), "memory_gb must be a number"),
    (('name = "X"', "name = 3"), "name must be a non-empty string"),
    (('default = "made up for the test"', "default = 3"), "sources must be a table of strings"),
])
def test_devices_files_are_checked(cli, tmp_path, edit, why):
    path = tmp_path / "gpus.toml"
    path.write_text(DEVICE.replace(*edit))
    code, _, err = cli("latency", "mobilenet_v2", "--devices", path, "--device", "x1")
    one_line_error(code, err, "device 'x'", why)


def test_a_valid_devices_file(cli, tmp_path):
    path = tmp_path / "gpus.toml"
    path.write_text(DEVICE.replace('["x1"]', '["X1"]'))  # aliases match whatever the case
    code, out, err = cli("latency", "mobilenet_v2", "--devices", path, "--device", "x1")
    assert code == 0 and out.startswith("mobilenet_v2 (alpha=1.0, res=224, classes=1000) on X, fp32"), err


@pytest.mark.parametrize("text, why", [
    ("launch_us = inf\n", "launch_us must be a time in microseconds from 0 to 1e+06, received inf"),
    ("tail_us = nan\n", "tail_us must be a time in microseconds"),
    ("eff_mem = 1e-300\n", "eff_mem must be a fraction of the peak from 0.001 to 1"),
    ("eff_tensor = 2.0\n", "eff_tensor must be a fraction of the peak"),
    ("winograd = 0\n", "winograd must be a FLOP reduction factor from 1 to 16"),
    ("sat_simt = 1e300\n", "sat_simt must be a number of output elements per SM"),
    ("[launch_us]\nvalue = true\n", "launch_us must be a time in microseconds"),
    ("kernel_us = 1\n", "unknown constant 'kernel_us'"),
])
def test_model_files_are_checked(cli, tmp_path, text, why):
    path = tmp_path / "model.toml"
    path.write_text(text)
    code, _, err = cli("latency", "mobilenet_v2", "--model", path)
    one_line_error(code, err, "--model:", why)


def test_latency_of_a_network_that_launches_nothing(cli, tmp_path):
    path = tmp_path / "views.yaml"
    path.write_text("input: [3, 8, 8]\nlayers:\n  - {name: f, type: Flatten}\n  - {name: d, type: Dropout}\n")
    code, out, err = cli("latency", path, "--format", "json")
    assert code == 0, err
    result = json.loads(out)["results"][0]  # JSON without Infinity: no time, so no throughput
    assert result["latency_ms"] == 0 and result["throughput"] is None and result["roofline_throughput"] is None
    assert any("nothing runs on the device" in n for n in json.loads(out)["notes"])
    code, out, err = cli("latency", path)
    assert code == 0 and "nothing runs on the device" in out, err


def test_latency_csv_with_layers_keeps_the_results(cli):
    code, out, err = cli("latency", "mobilenet_v2", "--layers", "--format", "csv", "--batch", "1,2")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    totals = [r for r in rows if r["name"] == "total"]
    assert [r["batch"] for r in totals] == ["1", "2"]
    code, js, _ = cli("latency", "mobilenet_v2", "--format", "json", "--batch", "1,2")
    for row, result in zip(totals, json.loads(js)["results"]):
        assert float(row["latency_us"]) == pytest.approx(result["latency_ms"] * 1e3, abs=0.05)  # ms to 4 decimals
        assert int(row["kernels"]) == result["kernels"]
    per_layer = [r for r in rows if r["batch"] == "1" and r["name"] != "total"]
    assert int(totals[0]["flops"]) == sum(int(r["flops"]) for r in per_layer)


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown"])
def test_devices_and_validation_in_every_format(cli, fmt):
    code, out, err = cli("devices", "--format", fmt)
    assert code == 0 and "v100-sxm2" in out, err
    code, out, err = cli("devices", "--runtimes", "--format", fmt)
    assert code == 0 and "paddle-trt-2020" in out, err
    code, out, err = cli("validate-latency", "--brief", "--format", fmt)
    assert code == 0 and "003-t4-fp16" in out, err
    if fmt == "json":
        tables = {t["table"]: t for t in json.loads(out)["tables"]}
        assert tables["003-t4-fp16"]["role"] == "validation" and tables["003-t4-fp16"]["n"] == 24
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(out)))
        assert {r["table"] for r in rows} >= {"003-v100-fp32", "004-fp16", "mobile-t4-fp16"}
