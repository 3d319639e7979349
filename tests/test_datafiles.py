"""calc.datafiles: the one loader of packaged tables and user files."""
import os

import pytest

from calc.datafiles import MAX_YAML_DEPTH, load, parse_yaml, read_text
from calc.errors import CalcError


def test_yaml_is_plain_data():
    doc = parse_yaml("a: 0x10\nb: 1_000\nc: .inf\nd: yes\ne: ~\nf: '1'\ng: [1, 2.5, x]\n", "t.yaml")
    assert doc == {"a": 16, "b": 1000, "c": float("inf"), "d": True, "e": None, "f": "1", "g": [1, 2.5, "x"]}


def test_sexagesimal_numbers_stay_strings():
    # YAML 1.1 reads 1:30 as 90: a field that wants an int must not get one from a typo
    assert parse_yaml("a: 1:30\nb: 1:30.5\n", "t.yaml") == {"a": "1:30", "b": "1:30.5"}


def test_merge_keys_and_aliases():
    doc = parse_yaml("x-a: &a {k: 1, j: 2}\nh: {<<: *a, j: 3}\ni: {<<: [{k: 9}, {k: 8, z: 1}], q: 2}\n", "t.yaml")
    assert doc["h"] == {"k": 1, "j": 3}            # explicit keys override merged ones
    assert doc["i"] == {"k": 9, "z": 1, "q": 2}    # the first mapping of a merge list has priority


@pytest.mark.parametrize("text, message", [
    ("a: !!binary aGk=", "t.yaml:1:4: YAML error: could not determine a constructor for the tag "
                         "'tag:yaml.org,2002:binary'"),
    ("a: !!timestamp 2001-01-01", "the tag 'tag:yaml.org,2002:timestamp'"),
    ("a: !!python/object/apply:os.system [ls]", "the tag 'tag:yaml.org,2002:python/object/apply:os.system'"),
    ("a: !custom 1", "the tag '!custom'"),
    ("? [1, 2]\n: 3", "t.yaml:1:3: YAML error: a mapping key must be a plain value, received list"),
    ("a: 1\na: 2", "t.yaml:2:1: YAML error: duplicate key 'a' (first at line 1)"),
    ("a: {<<: 5}", "a merge key (<<) takes a mapping or a list of mappings"),
    ("a: [1, 2", "t.yaml:2:1: YAML error: did not find expected ',' or ']'"),
    ("a: " + "[" * (MAX_YAML_DEPTH + 5) + "]" * (MAX_YAML_DEPTH + 5), "t.yaml: nested too deeply"),
])
def test_yaml_refusals_are_one_line(text, message):
    with pytest.raises(CalcError) as e:
        parse_yaml(text, "t.yaml")
    assert message in str(e.value) and "\n" not in str(e.value)


def test_only_regular_files_are_read(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    with pytest.raises(CalcError, match="pipe.yaml: not a regular file"):
        read_text(fifo)  # would block forever if opened for a plain read
    with pytest.raises(CalcError, match="/dev/zero: not a regular file"):
        read_text("/dev/zero")  # would never end
    with pytest.raises(CalcError, match="missing.toml: no such file"):
        load(tmp_path / "missing.toml", "missing.toml")


def test_files_are_bounded(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_bytes(b"a: 1\n" * 300)
    with pytest.raises(CalcError, match="big.yaml: file larger than 0 MiB"):
        read_text(big, "big.yaml", limit=1000)
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"a: \xe9\n")
    with pytest.raises(CalcError, match="latin1.yaml: not a UTF-8 text file"):
        read_text(bad, "latin1.yaml")
