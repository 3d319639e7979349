"""calc.grid: sweeps counted many input sizes at once, exactly as `calc arch` counts each.

The reference for every assertion here is calc's own ordinary path (build + analyze), the
one `calc arch` prints: the fast path must equal it to the unit at every point."""
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import archs
from calc.counting import analyze
from calc.errors import CalcError
from calc.grid import Poly, Sizes, evaluate, sweep, varies_fastest
from calc.spec import load_spec
from tests.spec.common import EXAMPLES

WITH_RES = sorted(n for n, a in archs.ARCHITECTURES.items() if any(o.name == "res" for o in a.options))


def ordinary(spec, **config):
    """The totals calc arch prints for one point, or the error it raises."""
    try:
        return analyze(spec.build(**config), batch=config.pop("_batch", 1)).totals
    except CalcError as e:
        return str(e)


@pytest.mark.parametrize("name", WITH_RES)
def test_every_builtin_equals_calc_arch_on_sampled_sizes(name):
    spec = archs.get(name)
    rng = random.Random(name)
    sizes = sorted({rng.randint(1, 360) for _ in range(10)} | {7, 8, 33, 224, 225})
    rows = list(sweep(spec, {"res": sizes}, batch=2, dtype="fp16", convention="flops"))
    assert [r["res"] for r in rows] == sizes
    for r in rows:
        try:
            expected = analyze(spec.build(res=r["res"]), batch=2, dtype="fp16", convention="flops").totals
        except CalcError as e:
            assert r["error"] == str(e)
            continue
        assert {k: r[k] for k in expected} == expected, (name, r["res"])


def test_a_large_grid_is_exact_on_random_points():
    spec = archs.get("mobilenet_v2")
    alphas = [round(0.3 + 0.02 * i, 2) for i in range(40)]
    res = list(range(8, 8 + 12 * 40, 12))
    rows = list(sweep(spec, {"alpha": alphas, "res": res}, convention="thop"))
    assert len(rows) == 1600
    for r in random.Random(0).sample(rows, 40):
        expected = ordinary(spec, alpha=r["alpha"], res=r["res"])
        if isinstance(expected, str):
            assert r["error"] == expected
        else:
            got = analyze(spec.build(alpha=r["alpha"], res=r["res"]), convention="thop").totals
            assert {k: r[k] for k in got} == got


def test_the_input_size_varies_fastest_and_other_options_are_built():
    spec = archs.get("shufflenet_v2")
    rows = list(sweep(spec, {"res": [160, 224], "alpha": [0.5, 1.0]}))
    assert [(r["alpha"], r["res"]) for r in rows] == [(0.5, 160), (0.5, 224), (1.0, 160), (1.0, 224)]
    assert varies_fastest(spec, {"res": [160, 224], "alpha": [0.5, 1.0]}, "res")
    # torchvision shufflenet_v2_x1_0 at 224: 144,907,992 MACs (tests/archs/test_shufflenet.py)
    assert rows[3]["macs"] == 144_907_992


def test_numbers_too_large_for_int64_stay_exact():
    # a batch of 10^15 at 224: MACs about 3e23, beyond int64 (9.2e18): Python ints take over
    spec = archs.get("mobilenet_v2")
    (row,) = evaluate(spec.build(res=224), [224], batch=10**15)
    assert row["macs"] == 300_774_272 * 10**15


def test_a_structure_that_reads_a_spatial_size_is_built_at_every_size():
    # ShuffleNet v1's head pools with a window as large as the final map (Network.spatial_size)
    spec = archs.get("shufflenet_v1")
    assert spec.build(res=224).reads_spatial
    rows = list(sweep(spec, {"res": [160, 224]}))
    assert [r["macs"] for r in rows] == [analyze(spec.build(res=s)).totals["macs"] for s in (160, 224)]


def test_spec_files_record_what_their_layers_read():
    tiny = load_spec(EXAMPLES / "tiny_resnet.yaml")
    assert tiny.option("res").input_only and not tiny.option("depth").input_only
    net = tiny.build()
    assert "res" not in net.read_options and "depth" in net.read_options and not net.reads_spatial
    rows = list(sweep(tiny, {"depth": [20, 56], "res": [32, 64]}))
    for r in rows:
        assert r["macs"] == analyze(tiny.build(depth=r["depth"], res=r["res"])).totals["macs"]


def test_joins_of_unequal_sizes_fall_back_to_each_point():
    # a residual join whose two inputs differ at odd sizes: those points are errors, the
    # others counted; each equals the ordinary path
    from calc.spec import loads_spec

    text = """
params: {res: 16}
input: [4, "${res}", "${res}"]
layers:
  - {name: a, type: Conv2d, out_channels: 4, kernel_size: 3, stride: 2, padding: 1}
  - {name: b, type: Conv2d, out_channels: 4, kernel_size: 2, stride: 2, inputs: input}
  - {name: add, type: Add, inputs: [a, b]}
"""
    spec = loads_spec(text)
    rows = list(sweep(spec, {"res": [15, 16, 17, 18]}))
    assert ["error" in r for r in rows] == [True, False, True, False]
    for r in rows:
        if "error" in r:
            with pytest.raises(CalcError) as e:
                spec.build(res=r["res"])
            assert r["error"] == str(e.value) and "Add needs inputs of equal shape" in r["error"]
        else:
            assert r["macs"] == analyze(spec.build(res=r["res"])).totals["macs"]


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(WITH_RES), st.integers(1, 600), st.integers(1, 600))
def test_builtin_structures_do_not_depend_on_the_input_size(name, r1, r2):
    """The promise behind the fast path: a built-in's `res` changes the input and nothing
    else, unless the builder says it read a spatial size."""
    spec = archs.get(name)
    try:
        a, b = spec.build(res=r1), spec.build(res=r2)
    except CalcError:
        return  # a vanished map at one of the sizes: the fast path defers such points anyway
    if a.reads_spatial:
        assert b.reads_spatial
        return
    layout = [[(n.name, n.layer, n.inputs, n.train_only) for n in net.layers()] for net in (a, b)]
    assert layout[0] == layout[1]


def test_polynomials_refuse_what_they_cannot_decide():
    sizes = Sizes()
    h = sizes.symbol([3, 5])
    p = 4 * h * h + 2
    assert sizes.value(p).tolist() == [38, 102]
    assert sizes.bound(p) == 4 * 25 + 2
    with pytest.raises(TypeError):
        bool(h > 2)
    with pytest.raises(TypeError):
        (h + 1) // 3
    assert sizes.symbol([3, 5]) is h  # interned by value


def test_a_sweep_leaves_no_cycles_behind():
    # the symbols and their polynomials refer to each other; left as a cycle, each structure's
    # arrays lived until the collector's next full pass, and a long sweep's peak memory grew
    # with its length (740,000 points: 120 MiB against 55 MiB for 74,000)
    import gc

    spec = archs.get("mobilenet_v2")
    res = list(range(96, 496, 4))
    list(sweep(spec, {"alpha": [0.5], "res": res}))  # whatever is built once, on first use
    collecting = gc.isenabled()
    gc.disable()
    try:
        gc.collect()
        rows = list(sweep(spec, {"alpha": [0.6, 0.7, 0.8], "res": res}))
        assert len(rows) == 300 and gc.collect() == 0
    finally:
        if collecting:
            gc.enable()


@pytest.mark.parametrize("name", ["mobilenet_v2", "resnet50", "shufflenet_v1", "inception_v3", "fcn8s_vgg16"])
def test_several_batches_equal_calc_arch_at_each(name):
    # the polynomials of one structure serve every batch; the parameters' part of the traffic
    # does not scale with the batch, so a batch is more than a factor; shufflenet_v1 and
    # inception_v3 read a spatial size (built point by point), fcn8s is H x W
    spec = archs.get(name)
    sizes = [8, 97, 224] if name != "fcn8s_vgg16" else ["200x300", "500x500"]
    batches = [1, 3, 64, 10**15]  # 10**15: past int64 at any size, evaluated with Python ints
    rows = list(sweep(spec, {"res": sizes}, batch=batches, convention="thop", dtype="fp16"))
    assert [(r["batch"], r["res"]) for r in rows] == [(b, s) for b in batches for s in sizes]
    assert all(list(r)[:2] == ["batch", "res"] for r in rows)
    for r in rows:
        try:
            expected = analyze(spec.build(res=r["res"]), batch=r["batch"], dtype="fp16", convention="thop").totals
        except CalcError as e:
            assert r["error"] == str(e)
            continue
        assert {k: r[k] for k in expected} == expected, (name, r["batch"], r["res"])


def test_one_batch_given_as_a_number_adds_no_column():
    spec = archs.get("mobilenet_v2")
    assert "batch" not in next(sweep(spec, {"res": [96, 128]}, batch=2))
    assert next(sweep(spec, {"res": [96, 128]}, batch=[2]))["batch"] == 2
    rows = list(sweep(spec, {"alpha": [0.5, 1.0]}, batch=[1, 2]))  # no input size varies: built per point
    assert [(r["alpha"], r["batch"]) for r in rows] == [(0.5, 1), (0.5, 2), (1.0, 1), (1.0, 2)]
    assert rows[1]["macs"] == 2 * rows[0]["macs"] and rows[1]["params"] == rows[0]["params"]
    with pytest.raises(CalcError, match="batch must be an integer >= 1"):
        list(sweep(spec, {"res": [96, 128]}, batch=[1, 0]))
