"""PolyNet (Cadene's pretrainedmodels polynet.py): exact counts, the shared poly-3 convs, and
seed 000's row.

Reference counts measured outside the project on the CPU wheel (torch 2.14.1), Cadene's
pretrainedmodels 0.7.4 ``polynet.py`` loaded directly
(``polynet(num_classes=1000, pretrained=None).eval()``), one 1x3x331x331 input, with the scripts and
method of tests/archs/test_nasnet.py (``python tests/data/measure/zoo/hooks.py polynet 331``,
``leaf.py``, ``tools.py``): each call of a shared nn.Conv2d fires its hook, so the MACs count every
order of a poly-3 module, and ``model.parameters()`` holds a shared conv's weight once."""
import archs
from archs.polynet import STAGES
from calc.counting import analyze
from tests.archs.measured import totals
from tests.conftest import counts, printed

CADENE = dict(params=95_366_600, macs=34_699_493_472, leaf=194_674_088, ptflops_2019=34_897_283_104,
              thop=34_965_583_200, ptflops=34_962_029_896, fvcore=34_832_537_312)


def test_counts_equal_cadene_to_the_unit():
    assert counts("polynet").config["res"] == 331
    assert totals("polynet") == CADENE


def test_poly3_convs_count_their_params_once_and_their_macs_at_every_order():
    net = archs.build("polynet")
    poly3 = [f"{stage}.{i}" for stage, _, kinds in STAGES for i, k in enumerate(kinds) if k == "poly3"]
    assert len(poly3) == 15
    sharers = [n for n in net.layers() if n.shares is not None]
    assert len(sharers) == 15 * 4 * 2  # four path convs per block, reused by the 2nd and 3rd orders
    m = "stage_b.0"
    for k in (1, 2):
        assert net[f"{m}.block{k}.path0.1.conv"].shares == f"{m}.block0.path0.1.conv"
        assert net[f"{m}.block{k}.conv2d.conv"].shares is None  # the final 1x1 conv of each order is its own
    a = counts("polynet")
    rows = {c.name: c for c in a.layers}
    owner, second = rows[f"{m}.block0.path0.1.conv"], rows[f"{m}.block1.path0.1.conv"]
    assert owner.params == 128 * 160 * 7 and second.params == 0 and second.macs == owner.macs
    assert rows[f"{m}.block1.path0.1.bn"].params == 2 * 160  # a BatchNorm per order
    # counted per use, the shared weights would add this many params (what sharing saves)
    again = sum(n.layer.params(net.input_shapes(n)) for n in sharers)
    b_paths = 1152 * 128 + 128 * 160 * 7 + 160 * 192 * 7 + 1152 * 192  # Block B's four path convs
    c_paths = 2048 * 192 + 192 * 224 * 3 + 224 * 256 * 3 + 2048 * 192  # Block C's
    assert again == 2 * (10 * b_paths + 5 * c_paths) == 25_415_680
    # the ReLU after the last order runs though nothing reads it (Cadene's loop): a hook counts it
    assert net.consumers(f"{m}.block2.relu") == []


def test_the_modules_and_their_scales():
    net = archs.build("polynet")
    assert [len(kinds) for _, _, kinds in STAGES] == [10, 20, 10]
    # Cadene's constants: 1, 0.992308, ..., 0.930769 (stage A), 0.923077 ... 0.7 = 1 - k / 130
    assert net["stage_a.0.block0.scale"].layer.factor == 1.0
    assert net["stage_a.9.block1.scale"].layer.factor == 0.930769
    assert net["stage_b.3.block0.scale"].layer.factor == 0.9
    assert net["stage_c.9.block0.scale"].layer.factor == 0.7
    assert net["pool"].layer.kernel_size == 9  # AvgPool2d(9, stride=1) on the 9x9 map at 331


def test_training_counts_a_gradient_per_order_and_one_set_of_weights():
    from calc.training import analyze_training

    t = analyze_training(archs.build("polynet"), batch=2, optimizer="adam")
    assert t.totals["params"] == t.totals["trainable_params"] == CADENE["params"]
    assert t.totals["grad_bytes"] == CADENE["params"] * 4 and t.totals["optimizer_bytes"] == 2 * CADENE["params"] * 4
    a = analyze(archs.build("polynet"))
    first = a.layers[0]  # the stem conv reads the image: no input gradient
    assert t.totals["backward_macs"] == 2 * (2 * a.totals["macs"] - first.macs)


def test_seed_000():
    # seed 000 "PolyNet 331x331 95.37 / 34.90" (ptflops' README, cf48e01, prints 34.9)
    assert printed(counts("polynet").totals["params"] / 1e6, "95.37")
    assert printed(counts("polynet", "ptflops_2019").totals["flops"] / 1e9, "34.90")
