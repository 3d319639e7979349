"""Token embedding: a table lookup, the first layer of a text CNN."""
from __future__ import annotations

from pydantic import model_validator

from calc.errors import ShapeError
from calc.layers.backward import Grads, Saved
from calc.layers.base import Layer, fmt_shape, numel, register
from calc.layers.spatial import check_positive


@register
class Embedding(Layer):
    """``nn.Embedding(num_embeddings, embedding_dim)`` on a sentence of token ids.

    Its input is a ``1 x L x 1`` column of L token ids (calc's input is a C x H x W map:
    one channel, the sentence down the H axis); its output is the sentence matrix as a
    one-channel ``1 x L x embedding_dim`` image (Kim 2014, Figure 1: ``embed(ids).unsqueeze(1)``),
    so that a ``Conv2d`` with a ``(k, embedding_dim)`` kernel is the convolution over time of
    width ``k``.  Params: ``num_embeddings x embedding_dim`` (``weights``).

    ``frozen``: the table is fixed (pretrained vectors kept static, ``requires_grad=False``,
    Kim's CNN-static).  Its parameters still count in ``params`` and in parameter memory
    (they are stored and read); a training step computes no gradient and keeps no
    optimizer state for them (as ``calc train --freeze`` does for any layer), and the tools
    that count only ``requires_grad`` parameters (ptflops) leave them out: the derived
    count ``weights_trainable`` is the table when it is trained, 0 when frozen.

    Counts: ``out`` (the elements gathered, ``L x embedding_dim``) and ``lookups`` (``L``).
    A gather does no arithmetic; no tool counts it (thop and ptflops have no hook for it,
    fvcore no handle for ``aten::embedding``, measured).  Backward (when trained): each
    output gradient row is added into its token's row of the weight gradient
    (``embedding_dense_backward``: ``elems`` = ``L x embedding_dim`` adds); token ids
    have no gradient.  PyTorch saves the ids (int64)."""

    num_embeddings: int
    embedding_dim: int
    frozen: bool = False
    backward_quantities = ("elems",)

    @model_validator(mode="after")
    def _check(self):
        check_positive("Embedding", num_embeddings=self.num_embeddings, embedding_dim=self.embedding_dim)
        return self

    def _length(self, inputs) -> int:
        shape = inputs[0]
        if len(shape) != 3 or shape[0] != 1 or shape[2] != 1:
            raise ShapeError(f"Embedding needs a 1 x L x 1 column of token ids, received shape {fmt_shape(shape)}")
        return shape[1]

    def output_shape(self, inputs):
        return (1, self._length(inputs), self.embedding_dim)

    def param_counts(self, inputs):
        table = self.num_embeddings * self.embedding_dim
        return {"weights": table, "weights_trainable": 0 if self.frozen else table}

    def trainable(self) -> bool:
        return not self.frozen

    def counts(self, inputs, output):
        return {"out": numel(output), "lookups": self._length(inputs)}

    def backward_counts(self, inputs, output, grads: Grads):
        return {"elems": numel(output) if grads.params else 0}

    def saved_for_backward(self, inputs, output, grads: Grads):
        return (Saved.new(self._length(inputs), "int64"),) if grads.params else ()

    def rf_window(self, inputs):
        """None: the input is a column of token ids, not an image; receptive fields (of
        pixels) do not apply to what follows."""
        return None
