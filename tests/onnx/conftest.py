"""Fixtures of the ONNX tests."""
from __future__ import annotations

import onnx
import pytest

from tests.onnx.test_build import conv_bn


@pytest.fixture
def small(tmp_path):
    """A conv-BN-ReLU-pool-fc file with a fixed batch of 4 (322 params)."""
    p = tmp_path / "small.onnx"
    onnx.save(conv_bn(shape=(4, 3, 16, 16)), p)
    return p
