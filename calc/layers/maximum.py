"""Element-wise maximum of several maps: DeepLab's multi-scale fusion."""
from __future__ import annotations

from calc.errors import ShapeError
from calc.layers.backward import Grads, Saved
from calc.layers.base import Impl, Layer, fmt_shape, numel, register, same_dims


@register
class Maximum(Layer):
    """The element-wise maximum of two or more tensors of equal shape (Caffe's ``Eltwise``
    with ``operation: MAX``, DeepLab v2's ``fc_fusion`` of its three scales; PyTorch
    ``torch.max(torch.stack(xs), 0)`` or chained ``torch.maximum``).

    Counts: ``elems`` (the comparisons, output x (inputs - 1)) and ``terms`` (output x
    inputs, convnet-burden's ``vl_nnmax`` rule).  Backward: each output gradient goes to the
    input that held the maximum (a select per input element, ``terms``); the index of the
    winner is kept (int64, one per output)."""

    impl: Impl = "functional"
    arity = (2, None)
    elementwise = True
    backward_quantities = ("terms",)

    def output_shape(self, inputs):
        if not all(same_dims(s, inputs[0]) for s in inputs[1:]):
            raise ShapeError(f"Maximum needs inputs of equal shape, received {', '.join(fmt_shape(s) for s in inputs)}")
        return inputs[0]

    def counts(self, inputs, output):
        n = numel(output)
        return {"elems": n * (len(inputs) - 1), "terms": n * len(inputs)}

    def backward_counts(self, inputs, output, grads: Grads):
        return {"terms": numel(output) * sum(grads.inputs)}

    def saved_for_backward(self, inputs, output, grads: Grads):
        return (Saved.new(numel(output), "int64"),)
