"""What did a design choice buy?  Depthwise-separable compression, breakdowns by
stage and layer type, and the costliest layers.

All functions take a :class:`~calc.graph.Network` and its
:class:`~calc.counting.Analysis` and return plain dicts/lists (rendered by the
command line).
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from calc.counting import Analysis, LayerCost
from calc.graph import Network, Node
from calc.layers import Conv2d, Linear
from calc.layers.spatial import pair

METRICS = ("macs", "params", "flops", "feature_bytes", "traffic_bytes")


def weight_params(node: Node, inputs) -> int:
    """Parameters of a conv/linear layer without its bias (the 'weights' papers count); a
    layer that reuses another's weights has none of its own."""
    return node.own_param_counts(node.layer.param_counts(inputs)).get("weights", 0)


def _keeps_separable(layer) -> bool:
    """Layers a separable pair may have between its depthwise and its pointwise conv:
    single-input per-element ops (normalisation, activations) and channel permutations."""
    return (layer.elementwise and layer.arity == (1, 1)) or layer.reorders_channels


def layer_kind(node: Node, inputs) -> str:
    """Layer type as the MobileNet paper's Table 2 names it."""
    layer = node.layer
    if isinstance(layer, Conv2d):
        kh, kw = pair(layer.kernel_size)
        if layer.depthwise(inputs):
            return f"depthwise {kh}x{kw}"
        if kh == kw == 1:
            return "pointwise 1x1" if layer.groups == 1 else "grouped 1x1"
        return f"conv {kh}x{kw}" if layer.groups == 1 else f"grouped {kh}x{kw}"
    if isinstance(layer, Linear):
        return "fully connected"
    return layer.op


def _metric(c: LayerCost, metric: str) -> int:
    return {"feature_bytes": c.output_bytes, "traffic_bytes": c.traffic_bytes}.get(metric) or getattr(c, metric, 0)


def stage_key(name: str, depth: int = 1) -> str:
    """The stage a layer belongs to: the first ``depth`` components of its dotted name."""
    return ".".join(name.split(".")[:depth])


def breakdown(net: Network, a: Analysis, by: str = "stage", depth: int = 1) -> list[dict]:
    """Totals grouped by dotted-name prefix (``stage``, ``depth`` components), by
    Table-2 layer ``type``, or by ``op``; each row with its share of the total."""
    groups: dict[str, dict] = {}
    for c in a.layers:
        node = net[c.name]
        if by == "stage":
            key = stage_key(c.name, depth)
        elif by == "type":
            key = layer_kind(node, net.input_shapes(node))
        else:
            key = c.op
        g = groups.setdefault(key, {"group": key, "layers": 0, "weights": 0, **{m: 0 for m in METRICS}})
        g["layers"] += 1
        g["weights"] += weight_params(node, net.input_shapes(node))
        for m in METRICS:
            g[m] += _metric(c, m)
    totals = {m: sum(g[m] for g in groups.values()) for m in (*METRICS, "weights")}
    for g in groups.values():
        for m in ("macs", "params", "weights", "feature_bytes", "traffic_bytes"):
            g[f"{m}_share"] = round(g[m] / totals[m], 6) if totals[m] else 0.0
    return list(groups.values())


def top_layers(a: Analysis, k: int = 10, metric: str = "macs") -> list[dict]:
    ranked = sorted(a.layers, key=lambda c: _metric(c, metric), reverse=True)[:k]
    total = sum(_metric(c, metric) for c in a.layers) or 1
    return [{"name": c.name, "op": c.op, metric: _metric(c, metric), "share": round(_metric(c, metric) / total, 6)}
            for c in ranked]


@dataclass(frozen=True)
class SeparablePair:
    depthwise: str
    pointwise: str


def separable_pairs(net: Network) -> list[SeparablePair]:
    """Every depthwise conv whose output reaches a 1x1 conv through BN/activations only."""
    pairs = []
    for node in net.layers():
        layer = node.layer
        if not (isinstance(layer, Conv2d) and layer.depthwise(net.input_shapes(node))):
            continue
        cur = node.name
        while True:
            nxt = net.consumers(cur)
            if len(nxt) != 1:
                break
            cur = nxt[0]
            nl = net[cur].layer
            if isinstance(nl, Conv2d):
                if pair(nl.kernel_size) == (1, 1):
                    pairs.append(SeparablePair(node.name, cur))
                break
            if not _keeps_separable(nl):
                break
    return pairs


def _ratio(x: int, y: int) -> float:
    return round(x / y, 6) if y else 0.0


def compression(net: Network, a: Analysis) -> dict:
    """Depthwise-separable compression, per pair and for the whole network.

    For a depthwise ``kxk`` conv on M channels followed by a 1x1 conv to N channels
    in g groups, the standard ``kxk`` conv it replaces (M -> N, same stride) costs
    ``k^2 M N`` per output position; the pair costs ``k^2 M + M N / g``, so the
    ratio is ``1/N + 1/(g k^2)`` (the paper's ``1/N + 1/Dk^2`` for g = 1), for
    MACs and for weights alike.  Biases and BN are outside the closed form; the
    'computed' ratio uses the layers' actual counts (weights, biases excluded).
    """
    by = {c.name: c for c in a.layers}
    alpha = a.config.get("alpha")
    rows = []
    d_macs = d_params = 0
    for p in separable_pairs(net):
        dw, pw = net[p.depthwise], net[p.pointwise]
        m = net.input_shapes(dw)[0][0]
        n = pw.shape[0]
        g = pw.layer.groups
        kh, kw = pair(dw.layer.kernel_size)
        positions = dw.shape[1] * dw.shape[2]
        std_w = kh * kw * m * n
        pair_w = weight_params(dw, net.input_shapes(dw)) + weight_params(pw, net.input_shapes(pw))
        pair_macs = (by[p.depthwise].macs + by[p.pointwise].macs) // a.batch
        std_macs = std_w * positions
        closed = Fraction(1, n) + Fraction(1, g * kh * kw)
        row = {
            "depthwise": p.depthwise, "pointwise": p.pointwise, "in_channels": m, "out_channels": n,
            "kernel": f"{kh}x{kw}", "stride": pair(dw.layer.stride)[0], "pointwise_groups": g,
            "output": f"{dw.shape[1]}x{dw.shape[2]}",
            "macs": pair_macs * a.batch, "standard_macs": std_macs * a.batch,
            "params": pair_w, "standard_params": std_w,
            "macs_ratio": _ratio(pair_macs, std_macs), "params_ratio": _ratio(pair_w, std_w),
            "closed_form": round(float(closed), 6),
        }
        if alpha is not None:
            row["nominal_out_channels"] = round(n / alpha, 3)
        rows.append(row)
        d_macs += (std_macs - pair_macs) * a.batch
        # the standard conv keeps one BN: the depthwise conv's BN (2M) goes away
        dw_bn = _bn_after(net, p.depthwise)
        d_params += std_w - pair_w - (by[dw_bn].params if dw_bn else 0)
    t = a.totals
    standard = {"macs": t["macs"] + d_macs, "params": t["params"] + d_params}
    return {
        "arch": a.arch, "config": a.config, "pairs": rows,
        "totals": {
            "macs": t["macs"], "params": t["params"],
            "standard_macs": standard["macs"], "standard_params": standard["params"],
            "macs_ratio": _ratio(t["macs"], standard["macs"]),
            "params_ratio": _ratio(t["params"], standard["params"]),
        },
    }


def _bn_after(net: Network, name: str) -> str | None:
    nxt = net.consumers(name)
    if len(nxt) == 1 and net[nxt[0]].layer.op == "BatchNorm2d":
        return nxt[0]
    return None
