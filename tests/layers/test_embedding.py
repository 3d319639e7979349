"""Embedding: a token table looked up by a column of ids; frozen or trained.

Tool counts cited from tests/data/measure/zoo/probe.py (thop 0.1.1.post2209072238, ptflops 0.7.5,
fvcore 0.1.5, ptflops cf48e01; torch 2.14.1, CPU):
`python tests/data/measure/zoo/probe.py embedding embedding_frozen` on nn.Embedding(100, 16)
(requires_grad False when frozen), flatten, nn.Linear(320, 4), 20 ids."""
import pytest
from pydantic import ValidationError

from calc.counting import analyze
from calc.errors import CalcError
from calc.graph import Network
from calc.layers import Embedding, Flatten, Linear
from calc.layers.backward import Grads
from calc.spec import dump_spec, export
from calc.training import analyze_training
from tests.spec.common import same_network, spec


def probe(frozen: bool) -> Network:
    net = Network("t", (1, 20, 1))
    net.add("emb", Embedding(num_embeddings=100, embedding_dim=16, frozen=frozen))
    net.add("flat", Flatten())
    net.add("fc", Linear(out_features=4))
    return net


def test_shape_params_and_counts():
    e = Embedding(num_embeddings=100, embedding_dim=16)
    assert e.output_shape([(1, 20, 1)]) == (1, 20, 16)
    assert e.params([(1, 20, 1)]) == 1600
    assert e.counts([(1, 20, 1)], (1, 20, 16)) == {"out": 320, "lookups": 20}
    frozen = Embedding(num_embeddings=100, embedding_dim=16, frozen=True)
    assert frozen.params([(1, 20, 1)]) == 1600  # frozen parameters are still parameters
    assert frozen.param_counts([(1, 20, 1)]) == {"weights": 1600, "weights_trainable": 0}
    assert not frozen.trainable() and e.trainable()


def test_errors_name_the_layer_and_the_values():
    net = Network("t", (3, 8, 8))
    with pytest.raises(CalcError, match=r"layer 'e' \(Embedding, input 3x8x8\): Embedding needs a 1 x L x 1 "
                                        r"column of token ids, received shape 3x8x8"):
        net.add("e", Embedding(num_embeddings=10, embedding_dim=4))
    with pytest.raises(ValidationError, match="Embedding embedding_dim must be >= 1, received 0"):
        Embedding(num_embeddings=10, embedding_dim=0)


def test_tools_count_no_lookup_and_their_own_params():
    # probe embedding: thop 1,280 ops and 1,284 params (no rule, so no params, for nn.Embedding);
    # ptflops 1,284 MACs (the FC and its bias), params 2,884 trained / 1,284 frozen (requires_grad
    # only); fvcore 1,280 (aten::embedding unsupported); cf48e01 1,280, params 2,884 / 1,284
    for frozen, ptflops_params in ((False, 2_884), (True, 1_284)):
        net = probe(frozen)
        expected = {"thop": (1_280, 1_284), "ptflops": (1_284, ptflops_params), "fvcore": (1_280, 2_884),
                    "ptflops_2019": (1_280, ptflops_params)}
        for convention, (flops, params) in expected.items():
            t = analyze(net, convention=convention).totals
            assert (t["flops"], t["convention_params"], t["params"]) == (flops, params, 2_884), convention


def test_a_frozen_table_is_stored_but_not_trained():
    trained, frozen = (analyze_training(probe(f), batch=4, optimizer="adam") for f in (False, True))
    assert trained.totals["params"] == frozen.totals["params"] == 2_884
    assert trained.totals["trainable_params"] == 2_884 and frozen.totals["trainable_params"] == 1_284
    assert frozen.totals["param_bytes"] == trained.totals["param_bytes"] == 2_884 * 4
    assert frozen.totals["grad_bytes"] == 1_284 * 4 and frozen.totals["optimizer_bytes"] == 2 * 1_284 * 4
    emb_t, emb_f = trained.layers[0], frozen.layers[0]
    # trained: each of the 4 x 20 x 16 output gradients is added into its row of the table's gradient;
    # PyTorch saves the ids, int64 (saved_tensors_hooks, torch 2.14.1: one (2, 5) int64 tensor
    # for 2 x 5 ids; embedding_dense_backward is the only op of its backward)
    assert emb_t.backward_flops == 4 * 20 * 16 and emb_t.saved_activation_bytes == 4 * 20 * 8
    assert not emb_f.backward and emb_f.saved_activation_bytes == 0 and emb_f.grad_bytes == 0
    assert any("fixed by the declaration" in n and "emb" in n for n in frozen.notes)
    # the ids never get a gradient, whatever the flags say
    e = Embedding(num_embeddings=100, embedding_dim=16)
    assert e.backward_counts([(1, 20, 1)], (1, 20, 16), Grads((True,), False)) == {"elems": 0}


def test_round_trips_through_a_spec_file():
    net = probe(True)
    doc = export(net)
    assert doc["input"] == [1, 20, 1]
    assert doc["layers"][0] == {"name": "emb", "type": "Embedding", "num_embeddings": 100, "embedding_dim": 16,
                                "frozen": True}
    same_network(spec(dump_spec(doc)).build(), net)
