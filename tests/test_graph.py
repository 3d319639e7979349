"""calc.graph: what the network answers without networkx (a quarter of a cold run to import)."""
import subprocess
import sys
from pathlib import Path

import pytest

import archs
from calc.graph import Network
from calc.layers import Add, Concat, Conv2d, ReLU

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["mobilenet_v2", "resnet50", "densenet121", "inception_v3", "nasnet_a_mobile",
                                  "shufflenet_v2", "polynet", "ssd300_vgg16", "faster_rcnn_vgg16"])
def test_consumers_are_the_networkx_successors(name):
    net = archs.get(name).build()
    graph = net.graph
    for node in net.nodes():
        assert net.consumers(node.name) == list(graph.successors(node.name))


def test_consumers_in_forward_order_once_each_and_after_a_later_add():
    net = Network("t", (4, 8, 8))
    net.add("a", ReLU(), "input")
    net.add("sq", Add(), ["a", "a"])  # one node reading a tensor twice is one consumer
    assert net.consumers("a") == ["sq"] and net.consumers("sq") == []
    net.add("c", Conv2d(out_channels=4, kernel_size=1), "a")
    net.add("cat", Concat(), ["c", "sq", "a"])
    assert net.consumers("a") == ["sq", "c", "cat"] and net.consumers("sq") == ["cat"]
    assert net.consumers("input") == ["a"]


def test_calc_ratio_does_not_import_networkx():
    code = ("import sys, io, contextlib; from calc.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()): main(['ratio', 'mobilenet_v1'])\n"
            "print('networkx' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.strip() == "False"
