"""ONNX files on the command line: every command that takes an architecture takes one; bad
files and unknown ops are one line and exit 2; without the extra, the line names it; a run
without an .onnx file never imports onnx."""
from __future__ import annotations

import json
import subprocess
import sys

import onnx
from onnx import helper

from tests.onnx.common import model
from tests.onnx.test_zoo import path

H = helper.make_node


def test_arch_reads_an_onnx_file_and_says_the_files_batch(cli, small):
    code, out, err = cli("arch", small, "--format", "json")
    assert code == 0, err
    d = json.loads(out)
    assert d["input"] == [4, 3, 16, 16] and d["config"] == {"res": 16}  # --batch defaults to the file's N
    assert d["totals"]["params"] == 322
    assert any("--batch defaults to its N = 4" in n for n in d["notes"])
    code, out, _ = cli("arch", small, "--batch", "1", "--res", "32", "--format", "json")
    assert json.loads(out)["input"] == [1, 3, 32, 32]


def test_every_command_that_takes_an_architecture_takes_a_file(cli, small, tmp_path):
    for args in (("breakdown", small, "--by", "stage"), ("ratio", small), ("compare", small, "resnet18", "--batch", "1"),
                 ("sweep", small, "--res", "16,32"), ("train", small, "--batch", "2"),
                 ("latency", small, "--device", "v100")):
        code, out, err = cli(*args)
        assert code == 0, (args, err)
    code, out, _ = cli("breakdown", small, "--by", "stage")
    assert "features" in out and "fc" in out


def test_export_turns_a_file_into_a_spec_with_the_same_totals(cli, tmp_path):
    spec = tmp_path / "net.yaml"
    code, _, err = cli("export", path("inception_v2"), "-o", spec)
    assert code == 0, err
    a = json.loads(cli("arch", path("inception_v2"), "--format", "json")[1])["totals"]
    b = json.loads(cli("arch", spec, "--format", "json")[1])["totals"]
    assert a == b


def test_a_custom_domain_op_is_exit_2_and_named(cli, tmp_path):
    p = tmp_path / "custom.onnx"
    m = model([H("Relu", ["x"], ["a"]), H("Gelu", ["a"], ["y"], name="act", domain="com.example")],
              extra_opsets=[helper.make_opsetid("com.example", 1)])
    onnx.save(m, p)
    code, out, err = cli("arch", p)
    assert code == 2 and out == ""
    assert err == f"calc: error: {p}: 1 node of 1 op calc has no layer for, so nothing is counted: " \
                  f"com.example.Gelu x1 ('act')\n"


def test_an_onnx_file_without_the_suffix_is_recognised(cli, small, tmp_path):
    p = tmp_path / "model.bin"
    p.write_bytes(small.read_bytes())
    code, out, _ = cli("arch", p, "--format", "json")
    assert code == 0 and json.loads(out)["totals"]["params"] == 322


def test_a_run_without_an_onnx_file_does_not_import_onnx():
    code = ("import sys; from calc.cli import main; main(['arch', 'mobilenet_v2', '--format', 'json']); "
            "sys.exit(3 if 'onnx' in sys.modules else 0)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
