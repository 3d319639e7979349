"""What a layer does in the backward pass of a training step: the vocabulary of
:meth:`Layer.backward_counts <calc.layers.base.Layer.backward_counts>` and
:meth:`Layer.saved_for_backward <calc.layers.base.Layer.saved_for_backward>`.

:class:`Grads` says which gradients a layer's backward computes: one flag per input
(the input needs a gradient: something before it is trained) and one for its parameters
(they are trained, not frozen).  :class:`Saved` names one tensor that autograd keeps from
the forward for the backward, as PyTorch's derivative formulas save it
(``tools/autograd/derivatives.yaml``), checked op by op with
``torch.autograd.graph.saved_tensors_hooks`` (torch 2.14.1).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: element types of saved tensors: ``act`` is the activations' dtype; the others are fixed
SAVED_DTYPES = {"fp32": 4, "int64": 8, "bool": 1}


@dataclass(frozen=True, slots=True)
class Grads:
    """Which gradients a layer's backward computes."""

    inputs: tuple[bool, ...]  # per input: it needs a gradient
    params: bool  # its parameters are trained

    @property
    def any(self) -> bool:
        """The layer is in the autograd graph (it has a backward at all)."""
        return self.params or any(self.inputs)


@dataclass(frozen=True, slots=True)
class Saved:
    """One tensor kept for the backward: input ``index``, the output, or a ``new`` tensor
    the op allocates for it (``numel`` elements of ``dtype``: ``act``, ``fp32``, ``int64``
    or ``bool``; per sample, or in all when ``per_sample`` is False, as per-channel
    statistics are).  An input or the output is a storage another layer may save too:
    it is counted once."""

    tensor: Literal["input", "output", "new"]
    index: int = 0
    numel: int = 0
    dtype: str = "act"
    per_sample: bool = True

    @classmethod
    def input(cls, index: int = 0) -> "Saved":
        return cls("input", index)

    @classmethod
    def output(cls) -> "Saved":
        return cls("output")

    @classmethod
    def new(cls, numel: int, dtype: str = "act", per_sample: bool = True) -> "Saved":
        if dtype != "act" and dtype not in SAVED_DTYPES:
            raise ValueError(f"unknown saved dtype {dtype!r}")
        return cls("new", 0, numel, dtype, per_sample)
