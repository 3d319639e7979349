"""Fuzzing the command line: generated invocations of every command with generated option
values (valid, out of range, not a number, huge, empty, odd text).  Whatever comes in, calc
answers (exit 0, and JSON output that parses) or refuses in one line on stderr (exit 2; 1
for `calc check`'s verdict); it never raises.  Bounded: a fixed number of examples, small
networks, no plots."""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calc.cli import main

#: small, fast networks (the fuzz is about options, not sizes)
NAMES = ["mobilenet_v1", "mobilenet_v2", "shufflenet_v2", "shufflenet_v1", "resnet18", "squeezenet1_1",
         "alexnet", "mnasnet", "nonet", "x" * 300, "net.yaml", "examples/small.yaml", ""]

NUMBER = st.one_of(
    st.integers(-3, 5000).map(str),
    st.sampled_from(["0", "-1", "nan", "inf", "-inf", "1e308", "1e-320", "10" * 40, "0.75", "1.4", "", " ",
                     "1,2", "0x10", "1_000", "٣", "1e3", "two", str(10**300), "9" * 5000, "1048577"]),
)
TEXT = st.one_of(st.sampled_from(["v1", "paddle", "megvii", "as_printed", "bogus", "", "\x1b[2J", "a" * 500]),
                 st.text(max_size=12))

ARCH_OPTIONS = {
    "--alpha": NUMBER, "--res": NUMBER, "--groups": NUMBER, "--classes": NUMBER, "--variant": TEXT,
    "-p": st.one_of(st.sampled_from(["alpha=0.5", "res=96", "depth=56", "nope=1", "alpha", "=3", "res=",
                                     "alpha=0.5,0.75"]), TEXT),
}
COMMANDS = {
    "arch": {**ARCH_OPTIONS, "--batch": NUMBER, "--dtype": st.sampled_from(["fp32", "fp16", "int8", "fp64"]),
             "--convention": st.sampled_from(["macs", "flops", "thop", "paddle", "nope"]),
             "--format": st.sampled_from(["table", "json", "csv", "markdown", "xml"]), "--layers": None},
    "ratio": {**ARCH_OPTIONS, "--format": st.sampled_from(["table", "json", "csv"])},
    "breakdown": {**ARCH_OPTIONS, "--by": st.sampled_from(["stage", "type", "op", "layer", "x"]),
                  "--depth": NUMBER, "--top": NUMBER, "--metric": st.sampled_from(["macs", "params", "nope"]),
                  "--format": st.sampled_from(["table", "json"])},
    "latency": {**ARCH_OPTIONS, "--device": st.sampled_from(["v100", "t4", "a100", "h200", "tpu", ""]),
                "--dtype": st.sampled_from(["fp32", "fp16", "bf16", "int8"]),
                "--batch": st.one_of(NUMBER, st.sampled_from(["1,8", "1,,2", "0,1"])),
                "--format": st.sampled_from(["table", "json", "csv"]), "--host-copy": None, "--no-tf32": None},
    "sweep": {"--alpha": st.sampled_from(["0.5,1.0", "", "0,1", "nan", "0.5"]),
              "--res": st.sampled_from(["96,224", "8,224", "1", "", "x", "0"]),
              "--convention": st.sampled_from(["macs", "thop", "nope"]),
              "--format": st.sampled_from(["table", "json", "csv", "markdown"])},
    "train": {**ARCH_OPTIONS, "--batch": NUMBER, "--optimizer": st.sampled_from(["sgd", "adam", "rmsprop"]),
              "--freeze": st.sampled_from(["stem", "layer1", "", "nothing"]), "--amp": None,
              "--format": st.sampled_from(["table", "json"])},
    "export": {**ARCH_OPTIONS, "--format": st.sampled_from(["yaml", "json", "toml"])},
    "compare": {**ARCH_OPTIONS, "--batch": NUMBER, "--format": st.sampled_from(["table", "json"])},
}


@st.composite
def invocations(draw):
    command = draw(st.sampled_from(sorted(COMMANDS)))
    args = [command, draw(st.sampled_from(NAMES))]
    if command == "compare":
        args.append(draw(st.sampled_from(NAMES[:6] + ["mobilenet_v2:alpha=0.5", "resnet18:res=x"])))
    options = COMMANDS[command]
    for flag in draw(st.lists(st.sampled_from(sorted(options)), max_size=4, unique=True)):
        value = options[flag]
        args += [flag] if value is None else [flag, draw(value)]
    if command == "train" and "--batch" not in args:
        args += ["--batch", "2"]
    return args


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(invocations())
def test_every_invocation_answers_or_refuses_in_one_line(capsys, args):
    code = main(args)  # an exception escaping main fails the test: a traceback for the user
    out, err = capsys.readouterr()
    assert code in (0, 1, 2), (args, code)
    if code == 2:
        assert err.startswith("calc: error: ") and err.count("\n") == 1, (args, err)
    elif code == 0:
        assert err == "" or err.startswith("calc: warning"), (args, err)
        if "--format" in args and args[args.index("--format") + 1] == "json":
            json.loads(out)


#: a TOML value of any kind a hand-written file might hold where a number belongs
TOML_VALUE = st.one_of(
    st.integers(-10, 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),  # inf, -inf and nan are TOML too
    st.sampled_from(["0", "0.4", "1e-300", "1e300", "inf", "-inf", "nan", "true", '"8"', "[1, 2]", '"v100"',
                     '["a", 1]', "{}", '""', str(10**30)]),
)
FIGURES = ["fp32_tflops", "fp16_tflops", "fp16_tensor_tflops", "int8_tops", "bandwidth_gbs", "memory_gb", "sms",
           "host_link_gbs", "boost_mhz", "sustained_mhz"]


@st.composite
def devices_files(draw):
    values = {"fp32_tflops": "1.0", "bandwidth_gbs": "100", "memory_gb": "8", "sms": "10", "host_link_gbs": "10"}
    for key in draw(st.lists(st.sampled_from(FIGURES + ["aliases", "name"]), max_size=3, unique=True)):
        values[key] = draw(TOML_VALUE)
    for key in draw(st.lists(st.sampled_from(sorted(values)), max_size=1)):
        del values[key]  # a required figure missing
    lines = ["[x]"] + [f"{k} = {v}" for k, v in values.items()] + ["[x.sources]", 'default = "generated"']
    return "\n".join(lines) + "\n"


@st.composite
def model_files(draw):
    from calc.latency.roofline import Model

    names = draw(st.lists(st.sampled_from([*Model.NAMES, "kernel_us"]), min_size=1, max_size=3, unique=True))
    return "".join(f"{n} = {draw(TOML_VALUE)}\n" for n in names)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(devices=devices_files(), model=model_files())
def test_latency_with_generated_devices_and_model_files(capsys, tmp_path_factory, devices, model):
    folder = tmp_path_factory.mktemp("files")
    (folder / "gpus.toml").write_text(devices)
    (folder / "model.toml").write_text(model)
    for extra in (["--devices", str(folder / "gpus.toml"), "--device", "x"], ["--model", str(folder / "model.toml")]):
        code = main(["latency", "squeezenet1_1", "--batch", "1,8", "--format", "json", *extra])
        out, err = capsys.readouterr()
        assert code in (0, 2), (extra, code)
        if code == 2:
            assert err.startswith("calc: error: ") and err.count("\n") == 1, (devices, model, err)
        else:
            for r in json.loads(out)["results"]:  # finite, positive answers (JSON has no Infinity)
                assert 0 < r["latency_ms"] < 1e9 and r["throughput"] > 0, (devices, model, r)


def test_a_slow_estimate_keeps_its_throughput_and_its_digits(capsys, tmp_path):
    # found by the generated model files above: a launch of 0.67 s makes squeezenet1_1 take 20 s
    # per run (30 kernels), 0.05 images/s; it printed as 0.0 in JSON and 2e+04 ms in the table
    (tmp_path / "model.toml").write_text("launch_us = 666667\n")
    assert main(["latency", "squeezenet1_1", "--batch", "1", "--format", "json", "--model",
                 str(tmp_path / "model.toml")]) == 0
    r = json.loads(capsys.readouterr().out)["results"][0]
    assert r["throughput"] == float(f"{1 / (r['latency_ms'] / 1e3):.3g}") == 0.05
    assert main(["latency", "squeezenet1_1", "--batch", "1", "--model", str(tmp_path / "model.toml")]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.split()[:1] == ["1"]).split()
    assert row[:2] == ["1", "20,000"] and row[4] == "0.05"
