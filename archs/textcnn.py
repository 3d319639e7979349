"""TextCNN: Kim's CNN for sentence classification (Kim 2014, arXiv 1408.5882, Figure 1 and
section 2), as its common PyTorch port writes it (Shawn1993/cnn-text-classification-pytorch
``model.py``; facts only, the code is our own).

A sentence of L token ids is looked up in an embedding table (V x D), giving an L x D
"image" of one channel; for each filter width k a conv with a ``(k, D)`` kernel and a bias
(``nn.Conv2d(1, filters, (k, D))``: the convolution over time) gives ``filters`` maps of
length L - k + 1, each ReLU'd (``F.relu``) and max-pooled over its whole length
(``F.max_pool1d``); the pooled features are concatenated (``torch.cat``), dropped out
(``nn.Dropout``) and classified (``nn.Linear``).

The input is not an image: calc's network input is a C x H x W map, so a sentence is a
``1 x L x 1`` column of token ids (``--seq-len`` L), which only an
:class:`~calc.layers.Embedding` reads.  Defaults are Kim's: 300-d word2vec vectors, widths
3, 4, 5 with 100 maps each, dropout 0.5, and his MR set-up (2 classes; sentences padded to
56 + 2 x 4 = 64 tokens, ``make_idx_data_cv(max_l=56, filter_h=5)`` in his
``conv_net_sentence.py``; |V| = 18,765 words, Table 1, plus the zero padding row of his
table).  ``--variant static`` keeps the embedding fixed (Kim's CNN-static,
``requires_grad=False``); ``rand`` and ``non-static`` train it (they differ only in its
initialisation).
"""
from __future__ import annotations

import re

from calc.errors import CalcError
from calc.graph import Network
from calc.layers import Concat, Conv2d, Dropout, Embedding, Flatten, Linear, MaxPool2d, ReLU
from calc.registry import CLASSES, Option, register

SEQ_LEN = Option("seq_len", int, 64, "tokens per sentence (padded length)", min=1, max=1_000_000)
VOCAB = Option("vocab", int, 18_766, "rows of the embedding table (vocabulary)", min=1, max=100_000_000)
DIM = Option("dim", int, 300, "embedding dimension", min=1, max=100_000)
WIDTHS = Option("widths", str, "3,4,5", "filter widths over time, separated by ',' or '/' (e.g. 3/4/5 in a sweep)")
FILTERS = Option("filters", int, 100, "feature maps per filter width", min=1, max=100_000)
VARIANT = Option("variant", str, "non-static",
                 "'rand' or 'non-static' (the embedding is trained) or 'static' (frozen: its parameters "
                 "are counted, not trained)", choices=("rand", "static", "non-static"))


def parse_widths(text: str) -> tuple[int, ...]:
    parts = [p.strip() for p in re.split(r"[,/]", text)]
    if not parts or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise CalcError(f"textcnn: option --widths must be positive integers separated by ',' or '/', "
                        f"received {text!r}")
    return tuple(int(p) for p in parts)


@register("textcnn", family="TextCNN", summary="Kim's CNN for sentence classification (embedding, convs over time, max-over-time pooling)",
          source="Kim 2014, arXiv 1408.5882, section 2; Shawn1993/cnn-text-classification-pytorch model.py",
          options=(SEQ_LEN, VOCAB, DIM, WIDTHS, FILTERS, CLASSES.with_default(2), VARIANT))
def textcnn(seq_len: int, vocab: int, dim: int, widths: str, filters: int, classes: int, variant: str) -> Network:
    net = Network("textcnn", (1, seq_len, 1))
    x = net.add("embed", Embedding(num_embeddings=vocab, embedding_dim=dim, frozen=variant == "static"), "input")
    if variant == "static":
        net.notes.append(f"the embedding is frozen (CNN-static): its {vocab * dim:,} parameters count in params and "
                         f"parameter memory, get no gradient or optimizer state in calc train, and are left out by "
                         f"ptflops (requires_grad only); thop counts no Embedding parameters at all")
    maps = []
    for i, k in enumerate(parse_widths(widths)):  # [F.relu(conv(x)).squeeze(3) for conv in self.convs]
        y = net.add(f"convs.{i}", Conv2d(out_channels=filters, kernel_size=(k, dim)), x)
        maps.append(net.add(f"convs.{i}.relu", ReLU(impl="functional"), y))
    pooled = [net.add(f"pool.{i}", MaxPool2d(kernel_size=(net.spatial_size(y)[0], 1), impl="functional"), y)
              for i, y in enumerate(maps)]  # F.max_pool1d(i, i.size(2)): the max over time
    x = net.add("cat", Concat(), pooled) if len(pooled) > 1 else pooled[0]
    x = net.add("flatten", Flatten(impl="operator"), x)  # .squeeze(2)
    x = net.add("dropout", Dropout(p=0.5), x)
    net.add("fc1", Linear(out_features=classes), x)
    return net
