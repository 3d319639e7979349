"""The README's examples still print what the README says: every ```text block whose lines
start with `$ calc ...` is run (in process, in a scratch folder) and compared line by line.

A README line that ends in `(...)` or `...` is an elision: the output line must start with
what comes before it.  `| tail -N`, `| head -N` and `| grep -E 'RE'` are applied as the
shell would; `$ head -N FILE` shows a file an earlier command wrote.  Examples that need a
file the README does not write (`calc arch net.yaml`, a list of typical errors) are skipped
by name below, with the reason."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"

#: examples that are illustrations, not reproducible commands
NOT_RUN = {"calc arch net.yaml": "a catalogue of error lines for several different files"}


def examples() -> list[tuple[int, list[str], list[str]]]:
    """(line number, commands, expected output lines) of each runnable block."""
    found, block, start = [], None, 0
    for i, line in enumerate(README.read_text().splitlines(), start=1):
        if line.startswith("```"):
            if block is None and line.strip() == "```text":
                block, start = [], i + 1
            elif block is not None:
                if block and block[0].startswith("$ calc"):
                    found.append((start, block))
                block = None
            continue
        if block is not None:
            block.append(line)
    out = []
    for start, lines in found:
        cmds, expected = [], []
        for line in lines:
            if line.startswith("$ "):
                if cmds and expected:  # a command followed by its output, then another command
                    out.append((start, cmds, expected))
                    cmds, expected = [], []
                cmds.append(line[2:])
            else:
                expected.append(line)
        out.append((start, cmds, expected))
    return [e for e in out if e[1][0] not in NOT_RUN]


def shell(cli, command: str, cwd: Path) -> tuple[int, list[str]]:
    """Run one README command line (calc, or head on a file), with its pipes."""
    stages = [s.strip() for s in command.split(" | ")]
    words = shlex.split(stages[0])
    if words[0] == "head":
        lines = (cwd / words[2]).read_text().splitlines()[: int(words[1].lstrip("-"))]
        return 0, lines
    assert words[0] == "calc", command
    code, out, err = cli(*words[1:])
    lines = (out + err).splitlines()
    for stage in stages[1:]:
        w = shlex.split(stage)
        if w[0] == "tail":
            lines = lines[-int(w[1].lstrip("-")):]
        elif w[0] == "head":
            lines = lines[: int(w[1].lstrip("-"))]
        elif w[0] == "grep":
            pattern = re.compile(w[-1])
            lines = [x for x in lines if pattern.search(x)]
        else:  # pragma: no cover (a README pipe this test does not know)
            raise AssertionError(f"unknown pipe stage {stage!r}")
    return code, lines


def matches(expected: str, got: str) -> bool:
    for elision in ("(...)", "..."):
        if expected.endswith(elision):
            return got.startswith(expected[: -len(elision)].rstrip()) or got.rstrip() == expected.rstrip()
    return got.rstrip() == expected.rstrip()


@pytest.mark.parametrize("start, commands, expected", examples(), ids=lambda v: str(v) if isinstance(v, int) else None)
def test_readme_example(cli, tmp_path, monkeypatch, start, commands, expected):
    monkeypatch.chdir(tmp_path)
    lines: list[str] = []
    for command in commands:
        _, lines = shell(cli, command, tmp_path)
    got = [x for x in lines]
    want = [x for x in expected]
    assert len(got) == len(want), (start, "\n".join(got))
    for w, g in zip(want, got):
        assert matches(w, g), (start, w, g)
