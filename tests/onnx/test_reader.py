"""Reading ONNX files (calc.onnx.reader): the extra, bad files, external data."""
from __future__ import annotations

import sys

import onnx
import pytest

from calc.errors import CalcError
from tests.onnx.test_build import conv_bn


def test_a_file_that_is_not_a_model_is_one_line(cli, tmp_path):
    p = tmp_path / "bad.onnx"
    p.write_bytes(b"\x08\x07garbage" * 3)
    code, _, err = cli("arch", p)
    assert code == 2 and err.startswith(f"calc: error: {p}: not an ONNX model") and err.count("\n") == 1
    code, _, err = cli("arch", tmp_path / "missing.onnx")
    assert (code, err) == (2, f"calc: error: {tmp_path / 'missing.onnx'}: no such ONNX file\n")


def test_without_the_extra_the_line_names_it(monkeypatch, small):
    from calc.onnx import load_onnx

    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx raises ImportError
    with pytest.raises(CalcError) as e:
        load_onnx(small)
    assert str(e.value) == f"{small}: reading ONNX files needs the 'onnx' extra: pip install 'calc[onnx]'"


def test_weights_only_as_external_data_are_read_by_their_shapes(tmp_path):
    """A big model keeps its weights outside the .onnx file; calc needs their dims only."""
    from calc.onnx import load_onnx

    m = conv_bn()
    onnx.save(m, tmp_path / "ext.onnx", save_as_external_data=True, all_tensors_to_one_file=True,
              location="ext.data", size_threshold=0)
    (tmp_path / "ext.data").unlink()  # not even there
    net = load_onnx(tmp_path / "ext.onnx").build()
    from calc.counting import analyze

    assert analyze(net).totals["params"] == 322
