"""calc.counting.totals: the totals of analyze() without the per-layer records.

The reference is analyze() itself (the path `calc arch` prints): the records-free loop that
`calc compare` and a sweep's points use must give the same integers, key for key."""
import pytest

import archs
from calc.counting import analyze, totals
from calc.errors import CalcError
from calc.spec import load_spec
from tests.spec.common import EXAMPLES

CONVENTIONS = ("macs", "flops", "thop", "ptflops", "fvcore", "ptflops_2019", "thop_2019", "paddle", "burden")


@pytest.mark.parametrize("name", sorted(archs.ARCHITECTURES))
def test_every_builtin_at_its_defaults(name):
    net = archs.get(name).build()
    for convention, batch, dtype in (("macs", 1, "fp32"), ("burden", 3, "fp16")):
        expected = analyze(net, batch=batch, dtype=dtype, convention=convention).totals
        assert totals(net, batch=batch, dtype=dtype, convention=convention) == expected


@pytest.mark.parametrize("convention", CONVENTIONS)
@pytest.mark.parametrize("name", ["mobilenet_v2", "inception_v3", "googlenet", "shufflenet_v2", "vgg16",
                                  "densenet121", "nasnet_a_mobile", "ssd300_vgg16", "openpose_coco", "faster_rcnn_vgg16"])
def test_every_convention_with_memory_rules_and_training_only_layers(name, convention):
    # inception_v3 and googlenet carry an auxiliary head that runs in training only; burden and
    # ptflops have memory and parameter rules of their own
    net = archs.get(name).build()
    expected = analyze(net, batch=2, dtype="int8", convention=convention).totals
    assert totals(net, batch=2, dtype="int8", convention=convention) == expected


@pytest.mark.parametrize("path", sorted(p for p in EXAMPLES.iterdir() if p.suffix in (".yaml", ".json")),
                         ids=lambda p: p.name)
def test_the_example_spec_files(path):
    net = load_spec(path).build()
    assert totals(net, convention="thop") == analyze(net, convention="thop").totals


def test_the_same_checks_of_the_batch():
    net = archs.get("mobilenet_v1").build()
    for bad in (0, -1, 1.5, "2"):
        with pytest.raises(CalcError, match="batch must be an integer >= 1"):
            totals(net, batch=bad)
