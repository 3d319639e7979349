"""Hostile input and everyday mistakes (issue 19): a correct answer, or one line on stderr
and exit 2; never a traceback, a hang, exhausted memory, invalid output or exit 0 on
failure."""
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
