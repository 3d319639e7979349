"""NASNet-A (Zoph et al. 2018, arXiv 1707.07012) and PNASNet-5 (Liu et al. 2018, arXiv
1712.00559): networks of searched cells, declared as data.

A cell takes two hidden states, ``cur`` (h_i, the previous cell's output) and ``prev``
(h_{i-1}, the one before), each first brought to the cell's width C (a ReLU-1x1 conv-BN, or
a *factorized reduction* when ``prev`` has twice the resolution).  Its five blocks are the
paper's pairs (Zoph et al. Figure 4; Liu et al. Figure 1): each applies one op to each of
two hidden states (a cell input or an earlier block) and sums them, and the cell
concatenates the states the data lists.  In a reduction cell the ops that read a cell input
have stride 2.  :func:`cell` is the one builder; :data:`NASNET_NORMAL`,
:data:`NASNET_REDUCTION` and :data:`PNASNET` are the cells, :func:`nasnet_plan` and
:data:`PNASNET5_LARGE` the stacks of cells.

Implementations followed (facts only; the code is our own):

* Cadene ``pretrainedmodels`` 0.7.4 ``models/nasnet.py``, ``nasnet_mobile.py`` and
  ``pnasnet.py`` (the models of seed 000's rows), ports of the TF checkpoints.  TF pads
  "same" (for a stride-2 op on an even map: nothing before, one after); the port emulates
  it in the cells where symmetric padding would differ, at the default resolution, by
  ``ZeroPad2d((1, 0, 1, 0))``, the op with symmetric padding, then ``x[:, :, 1:, 1:]``:
  the op runs on the padded map, one row and column larger, and its MACs are counted
  there (declared as :class:`~calc.layers.ZeroPad2d`, the op, :class:`~calc.layers.Crop`).
  Which cells do is fixed in the code: NASNet-A Large ``reduction_cell_0`` (42 -> 21 at
  331), NASNet-A Mobile ``cell_stem_1``, ``reduction_cell_0`` and ``reduction_cell_1``
  (56 -> 28 -> 14 -> 7 at 224), PNASNet-5 ``cell_4`` (42 -> 21).  In NASNet's padded cells
  every separable op pads, the stride-1 one too; in PNASNet's only the strided ops.
  The crop after a separable conv is ``.contiguous()`` (a copy); after a pool a view in
  ``nasnet.py`` and ``pnasnet.py``, a copy in ``nasnet_mobile.py``.  The factorized
  reduction shifts its second path by ``ZeroPad2d((0, 1, 0, 1))`` and ``x[:, :, 1:, 1:]``.
* timm 1.0 ``models/nasnet.py`` and ``pnasnet.py`` (``--variant timm``): the same cells,
  with TF "same" padding computed at run time (``Conv2dSame``, ``MaxPool2dSame``,
  ``AvgPool2dSame``: ``F.pad`` by the exact amounts, then the op without padding, so the
  op's map is the output's size: fewer MACs than Cadene's), the shifted path as
  ``ZeroPad2d((-1, 1, -1, 1))`` and a global average pool head without dropout.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from math import ceil

from calc.blocks import classifier, window_pool_head
from calc.graph import Network
from calc.layers import Add, AvgPool2d, BatchNorm2d, Concat, Conv2d, Crop, MaxPool2d, ReLU, ZeroPad2d
from calc.registry import CLASSES, RES, Option, register

CADENE = "Cadene pretrainedmodels 0.7.4 models"
TIMM = "timm 1.0 models"

# ---------------------------------------------------------------------------
# Cells as data

State = str | int  # "cur", "prev", or the index of an earlier block of the cell


@dataclass(frozen=True)
class Pair:
    """One block of a cell: op ``op_a`` on state ``a`` plus op ``op_b`` on state ``b``.
    Ops: ``sepK`` (ReLU, separable KxK conv, BN, twice), ``max3``, ``avg3`` (3x3 pools),
    ``id`` (the state itself; with stride 2, a ReLU-1x1 conv-BN of stride 2)."""

    a: State
    op_a: str
    b: State
    op_b: str


@dataclass(frozen=True)
class Cell:
    pairs: tuple[Pair, ...]
    concat: tuple[State, ...]  # the states the output concatenates, in order


#: NASNet-A normal cell (Zoph et al. Figure 4, left; Cadene ``NormalCell``/``FirstCell``)
NASNET_NORMAL = Cell(
    (Pair("cur", "sep5", "prev", "sep3"),
     Pair("prev", "sep5", "prev", "sep3"),
     Pair("cur", "avg3", "prev", "id"),
     Pair("prev", "avg3", "prev", "avg3"),
     Pair("cur", "sep3", "cur", "id")),
    concat=("prev", 0, 1, 2, 3, 4))

#: NASNet-A reduction cell (Zoph et al. Figure 4, right; Cadene ``ReductionCell0/1``,
#: ``CellStem0/1``)
NASNET_REDUCTION = Cell(
    (Pair("cur", "sep5", "prev", "sep7"),
     Pair("cur", "max3", "prev", "sep7"),
     Pair("cur", "avg3", "prev", "sep5"),
     Pair(0, "avg3", 1, "id"),
     Pair(0, "sep3", "cur", "max3")),
    concat=(1, 2, 3, 4))

#: PNASNet-5 cell (Liu et al. Figure 1; Cadene ``CellBase.cell_forward``), normal and reduction
PNASNET = Cell(
    (Pair("prev", "sep5", "prev", "max3"),
     Pair("cur", "sep7", "cur", "max3"),
     Pair("cur", "sep5", "cur", "sep3"),
     Pair(2, "sep3", "cur", "max3"),
     Pair("prev", "sep3", "cur", "id")),
    concat=(0, 1, 2, 3, 4))


@dataclass(frozen=True)
class CellUse:
    """One cell of a network: its data, width, and how its inputs are prepared."""

    name: str
    cell: Cell
    channels: int
    reduction: bool
    #: how ``prev`` is brought to the width: "raw" (not at all: the stem cells read the stem
    #: conv directly), "conv" (ReLU-1x1 conv-BN), "factorized" (it has twice the resolution)
    prev: str
    #: the cell pads-op-crops (Cadene's TF-"same" emulation)
    pad: bool = False
    #: how its separable ops call the pad: a registered module, or one made in ``forward``
    #: (``nn.ZeroPad2d((1, 0, 1, 0))(x)``, which no module hook sees: "functional")
    pad_impl: str = "module"
    #: ``cur`` is prepared before ``prev`` (Cadene's CellStem1)
    cur_first: bool = False


@dataclass(frozen=True)
class Port:
    """How one implementation writes the ops (names and padding)."""

    same: str  # "cadene" (pad, op, crop in the padded cells) or "timm" (dynamic TF padding)
    relu_names: tuple[str, str] = ("relu", "relu1")
    #: in a padded cell every separable op pads (NASNet), or only the strided ones (PNASNet)
    pad_every_separable: bool = True
    pool_crop_view: bool = True  # x[:, :, 1:, 1:] after a pool, or .contiguous() (a copy)
    factorized_in: str = ""  # the module holding the factorized reduction ("" : the cell)


# ---------------------------------------------------------------------------
# The builder


def _pad_same(net: Network, name: str, x: str, k: int, s: int) -> tuple[str, int]:
    """timm's dynamic TF "same" padding before a stride-``s`` op: ``F.pad`` by
    ``max((ceil(i / s) - 1) * s + k - i, 0)`` in all, the smaller half first; returns the
    padded tensor and the op's own padding (0)."""
    h, w = net.spatial_size(x)
    ph, pw = (max((ceil(i / s) - 1) * s + k - i, 0) for i in (h, w))
    if ph or pw:
        x = net.add(f"{name}.pad_same", ZeroPad2d(padding=(pw // 2, pw - pw // 2, ph // 2, ph - ph // 2),
                                                impl="functional"), x)
    return x, 0


def relu_conv_bn(net: Network, name: str, x: str, c: int, stride: int = 1) -> str:
    x = net.add(f"{name}.relu", ReLU(), x)
    x = net.add(f"{name}.conv", Conv2d(out_channels=c, kernel_size=1, stride=stride, bias=False), x)
    return net.add(f"{name}.bn", BatchNorm2d(eps=1e-3), x)


def separable(net: Network, name: str, x: str, c: int, k: int, s: int, pad: bool, port: Port,
              pad_impl: str = "module") -> str:
    """Cadene's ``BranchSeparables``: ReLU, depthwise kxk/s + pointwise to ``c`` (the
    middle width is ``c``: a stem op maps its wider input down at once), BN, ReLU, the same
    again at stride 1, BN.  ``pad``: ZeroPad2d((1, 0, 1, 0)) before the first and a copied
    crop after it."""
    relu1, relu2 = port.relu_names
    x = net.add(f"{name}.{relu1}", ReLU(), x)
    for i, stride in ((1, s), (2, 1)):
        sep = f"{name}.separable_{i}"
        padding = k // 2
        if i == 1 and pad:
            x = net.add(f"{name}.pad", ZeroPad2d(padding=(1, 0, 1, 0), impl=pad_impl), x)
        if port.same == "timm" and stride > 1:
            x, padding = _pad_same(net, sep, x, k, stride)
        x = net.add(f"{sep}.depthwise_conv2d", Conv2d(out_channels=net[x].shape[0], kernel_size=k, stride=stride,
                                                      padding=padding, groups=net[x].shape[0], bias=False), x)
        x = net.add(f"{sep}.pointwise_conv2d", Conv2d(out_channels=c, kernel_size=1, bias=False), x)
        if i == 1 and pad:
            x = net.add(f"{name}.crop", Crop(top=1, left=1, view=False), x)
        x = net.add(f"{name}.bn_sep_{i}", BatchNorm2d(eps=1e-3), x)
        if i == 1:
            x = net.add(f"{name}.{relu2}", ReLU(), x)
    return x


def pool(net: Network, name: str, x: str, kind: str, c: int, s: int, pad: bool, port: Port) -> str:
    """A 3x3 max or average pool (padding 1); ``pad``: ZeroPad2d((1, 0, 1, 0)) before and a
    crop after.  On a wider input (PNASNet's stem) a 1x1 conv-BN projects it to ``c``."""
    padding = 1
    if pad:
        x = net.add(f"{name}.pad", ZeroPad2d(padding=(1, 0, 1, 0)), x)
    if port.same == "timm" and s > 1:
        x, padding = _pad_same(net, name, x, 3, s)
    layer = MaxPool2d if kind == "max3" else AvgPool2d  # count_include_pad=False: the same counts
    x = net.add(f"{name}.pool", layer(kernel_size=3, stride=s, padding=padding), x)
    if pad:
        x = net.add(f"{name}.crop", Crop(top=1, left=1, view=port.pool_crop_view), x)
    if net[x].shape[0] != c:
        x = net.add(f"{name}.conv", Conv2d(out_channels=c, kernel_size=1, bias=False), x)
        x = net.add(f"{name}.bn", BatchNorm2d(eps=1e-3), x)
    return x


def op(net: Network, name: str, x: str, what: str, c: int, s: int, pad: bool, port: Port,
       pad_impl: str = "module") -> str:
    if what.startswith("sep"):
        pad = pad and (port.pad_every_separable or s > 1)
        return separable(net, name, x, c, int(what[3:]), s, pad, port, pad_impl)
    if what in ("max3", "avg3"):
        return pool(net, name, x, what, c, s, pad and s > 1, port)
    if what == "id":
        return x if s == 1 else relu_conv_bn(net, name, x, c, stride=s)
    raise ValueError(f"unknown cell op {what!r}")


def factorized_reduction(net: Network, name: str, x: str, c: int, port: Port) -> str:
    """Half the resolution on two 1x1 paths, the second shifted by one pixel (a pad on the
    right and bottom, a crop on the left and top), concatenated and normalised."""
    x = net.add(f"{name}.relu", ReLU(), x)
    p1 = net.add(f"{name}.path_1.avgpool", AvgPool2d(kernel_size=1, stride=2), x)
    p1 = net.add(f"{name}.path_1.conv", Conv2d(out_channels=c // 2, kernel_size=1, bias=False), p1)
    shift = [("pad", ZeroPad2d(padding=(0, 1, 0, 1))), ("crop", Crop(top=1, left=1))]
    p2 = x
    for what, layer in shift if port.same == "cadene" else shift[::-1]:  # timm: ZeroPad2d((-1, 1, -1, 1))
        p2 = net.add(f"{name}.path_2.{what}", layer, p2)
    p2 = net.add(f"{name}.path_2.avgpool", AvgPool2d(kernel_size=1, stride=2), p2)
    p2 = net.add(f"{name}.path_2.conv", Conv2d(out_channels=c // 2, kernel_size=1, bias=False), p2)
    x = net.add(f"{name}.path_cat", Concat(), [p1, p2])
    return net.add(f"{name}.final_path_bn", BatchNorm2d(eps=1e-3), x)


def cell(net: Network, use: CellUse, cur: str, prev: str, port: Port) -> str:
    """Add one cell reading ``cur`` and ``prev``; return its output (the concat)."""
    p, c = use.name, use.channels

    def prepare_prev() -> str:
        if use.prev == "raw":
            return prev
        if use.prev == "factorized":
            return factorized_reduction(net, f"{p}.{port.factorized_in}" if port.factorized_in else p, prev, c, port)
        return relu_conv_bn(net, f"{p}.conv_prev_1x1", prev, c)

    if use.cur_first:
        states: dict[State, str] = {"cur": relu_conv_bn(net, f"{p}.conv_1x1", cur, c)}
        states["prev"] = prepare_prev()
    else:
        states = {"prev": prepare_prev()}
        states["cur"] = relu_conv_bn(net, f"{p}.conv_1x1", cur, c)
    for k, pair in enumerate(use.cell.pairs):
        branches = []
        for side, state, what in (("left", pair.a, pair.op_a), ("right", pair.b, pair.op_b)):
            s = 2 if use.reduction and isinstance(state, str) else 1
            branches.append(op(net, f"{p}.comb_iter_{k}_{side}", states[state], what, c, s, use.pad, port,
                               use.pad_impl))
        states[k] = net.add(f"{p}.comb_iter_{k}", Add(), branches)
    return net.add(f"{p}.cat", Concat(), [states[s] for s in use.cell.concat])


def build_cells(net: Network, stem: str, plan: tuple[CellUse, ...], port: Port) -> str:
    """The cells in order, each reading the two outputs before it (the stem conv first)."""
    prev = cur = stem
    for use in plan:
        prev, cur = cur, cell(net, use, cur, prev, port)
    return cur


# ---------------------------------------------------------------------------
# NASNet-A


@dataclass(frozen=True)
class NASNetA:
    """NASNet-A "N @ P": N normal cells per stack, P the penultimate width (24 x the first
    stack's C), a stem conv of ``stem`` channels; the cells that pad in Cadene's port."""

    stem: int
    penultimate: int
    repeats: int
    padded: frozenset[str] = field(default_factory=frozenset)
    #: the padded cells whose separable ops make their ZeroPad2d in ``forward`` (unregistered)
    inline_pads: frozenset[str] = field(default_factory=frozenset)
    pool_crop_view: bool = True
    multiplier: int = 2
    head: tuple[int, int] = (11, 331)  # the head's AvgPool2d window, and the input it was made for


NASNET_A = {
    # Zoph et al. Table 2: NASNet-A (6 @ 4032), 331x331; Cadene NASNetALarge(stem_filters=96)
    "large": NASNetA(96, 4032, 6, frozenset({"reduction_cell_0"})),
    # NASNet-A (4 @ 1056), 224x224; Cadene NASNetAMobile(stem_filters=32)
    # (its cell_stem_1 and reduction_cell_1 use BranchSeparables(name='specific'), which pads with a
    # ZeroPad2d made in forward; reduction_cell_0 uses BranchSeparablesReduction's registered one)
    "mobile": NASNetA(32, 1056, 4, frozenset({"cell_stem_1", "reduction_cell_0", "reduction_cell_1"}),
                      frozenset({"cell_stem_1", "reduction_cell_1"}), pool_crop_view=False, head=(7, 224)),
}


def nasnet_plan(d: NASNetA) -> tuple[CellUse, ...]:
    """Cadene's cell sequence: two reduction stem cells, then three stacks of ``repeats``
    normal cells with a reduction cell between them (the first cell of a stack reads a
    ``prev`` of twice its resolution).  Cells are numbered as in the code (6 per stack)."""
    f, m = d.penultimate // 24, d.multiplier
    plan = [CellUse("cell_stem_0", NASNET_REDUCTION, f // m ** 2, True, "raw"),
            CellUse("cell_stem_1", NASNET_REDUCTION, f // m, True, "factorized", cur_first=True)]
    for stack in range(3):
        c = f * m ** stack
        if stack:
            plan.append(CellUse(f"reduction_cell_{stack - 1}", NASNET_REDUCTION, c, True, "conv"))
        for i in range(d.repeats):
            plan.append(CellUse(f"cell_{max(6, d.repeats) * stack + i}", NASNET_NORMAL, c, False,
                                "factorized" if i == 0 else "conv"))
    return tuple(replace(u, pad=u.name in d.padded, pad_impl="functional" if u.name in d.inline_pads else "module")
                 for u in plan)


VARIANT = Option("variant", str, "cadene",
                 "'cadene' (pretrainedmodels 0.7.4: TF padding emulated by pad, op, crop; the ops of the "
                 "padded cells run on the larger map) or 'timm' (exact TF padding at run time)",
                 choices=("cadene", "timm"))


def stem_conv(net: Network, name: str, stem: int) -> str:
    x = net.add(f"{name}.conv", Conv2d(out_channels=stem, kernel_size=3, stride=2, bias=False), "input")
    return net.add(f"{name}.bn", BatchNorm2d(eps=1e-3), x)


def head(net: Network, x: str, classes: int, port: Port, window: int, made_for: int) -> str:
    """ReLU, then Cadene's ``AvgPool2d(window, stride=1)`` (the final map at ``made_for``),
    view, ``Dropout()`` and the FC; timm's global average pool and FC."""
    x = net.add("relu", ReLU(), x)
    if port.same == "timm":
        return classifier(net, x, classes)
    return window_pool_head(net, x, classes, stride=1, dropout=0.5, window=window, made_for=made_for)


def nasnet_a(size: str, res: int, classes: int, variant: str = "cadene") -> Network:
    d = NASNET_A[size]
    port = Port(variant, pool_crop_view=d.pool_crop_view)
    plan = tuple(replace(u, pad=u.pad and variant == "cadene") for u in nasnet_plan(d))
    net = Network(f"nasnet_a_{size}", (3, res, res))
    x = build_cells(net, stem_conv(net, "conv0", d.stem), plan, port)
    head(net, x, classes, port, *d.head)
    return net


register("nasnet_a_large", family="NASNet", summary="NASNet-A Large (6 @ 4032), 331x331",
         source=f"Zoph et al. 2018, arXiv 1707.07012, Figure 4, Table 2; {CADENE}/nasnet.py; {TIMM}/nasnet.py",
         options=(RES.with_default(331), CLASSES, VARIANT), fixed={"size": "large"})(nasnet_a)
register("nasnet_a_mobile", family="NASNet", summary="NASNet-A Mobile (4 @ 1056), 224x224",
         source=f"Zoph et al. 2018, arXiv 1707.07012, Figure 4, Table 3; {CADENE}/nasnet_mobile.py",
         options=(RES, CLASSES), fixed={"size": "mobile"})(nasnet_a)


# ---------------------------------------------------------------------------
# PNASNet-5


def pnasnet_plan() -> tuple[CellUse, ...]:
    """Cadene's ``PNASNet5Large``: a reduction stem cell, then cells of 216, 432 and 864
    channels (the stem-1 cell and cells 4 and 8 reduce); a cell after a reduction reads a
    ``prev`` of twice its resolution.  Only cell 4 pads (42 -> 21 at 331)."""
    plan = [CellUse("cell_stem_0", PNASNET, 54, True, "raw"),
            CellUse("cell_stem_1", PNASNET, 108, True, "factorized")]
    for i in range(12):
        c = (216, 432, 864)[(i >= 4) + (i >= 8)]
        after_reduction = i in (0, 5, 9)
        plan.append(CellUse(f"cell_{i}", PNASNET, c, i in (4, 8), "factorized" if after_reduction else "conv",
                            pad=i == 4))
    return tuple(plan)


@register("pnasnet5_large", family="NASNet", summary="PNASNet-5 Large, 331x331",
          source=f"Liu et al. 2018, arXiv 1712.00559, Figure 1; {CADENE}/pnasnet.py; {TIMM}/pnasnet.py",
          options=(RES.with_default(331), CLASSES, VARIANT))
def pnasnet5_large(res: int, classes: int, variant: str = "cadene") -> Network:
    port = Port(variant, relu_names=("relu_1", "relu_2"), pad_every_separable=False, factorized_in="conv_prev_1x1")
    plan = tuple(replace(u, pad=u.pad and variant == "cadene") for u in pnasnet_plan())
    net = Network("pnasnet5_large", (3, res, res))
    x = build_cells(net, stem_conv(net, "conv_0", 96), plan, port)
    head(net, x, classes, port, 11, 331)
    return net
