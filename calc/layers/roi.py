"""Region-of-interest pooling: the second stage of Faster R-CNN and R-FCN.

The regions come from a :class:`~calc.layers.detection.Proposal` layer, an ``R x 5`` tensor
(batch index and box) whose ``R`` is a field of that layer (the network's ``rois`` option),
never a constant hidden here.  The pooled output is ``R`` maps of ``C x k x k``; calc lays
them out *tiled along H*, as one ``C x (R k) x k`` map, so that the region head is written
with the ordinary layers and counted exactly: a ``k x k`` conv or pool with stride ``k`` (the
head's "fc6" on ROI-pooled features, R-FCN's voting pool), a ``1 x 1`` conv and a channel
softmax each read one region at a time (a window never crosses a tile), and their outputs are
``R`` tiles again (``C' x R x 1`` after a ``k x k``/``k`` layer).  ``Flatten`` followed by
``Linear`` would instead treat all the regions as one vector: write a region FC as a
``k x k`` conv, as MatConvNet and Caffe's ``InnerProduct`` on the pooled blob do.

How many regions a real image yields depends on the image (the proposals that survive NMS);
the costs of everything after these layers scale with ``R``.
"""
from __future__ import annotations

from pydantic import model_validator

from calc.errors import ShapeError
from calc.layers.backward import Grads, Saved
from calc.layers.base import Layer, fmt_shape, numel, register
from calc.layers.spatial import IntPair, check_positive, pair


def _regions(rois) -> int:
    if len(rois) != 2 or rois[1] != 5:
        raise ShapeError(f"the regions must be an R x 5 tensor (batch index and box, a Proposal's output), "
                         f"received {fmt_shape(rois)}")
    return rois[0]


class _RegionPool(Layer):
    spatial_scale: float = 1 / 16
    arity = (2, 2)
    backward_quantities = ("out",)

    def counts(self, inputs, output):
        return {"out": numel(output), "regions": _regions(inputs[1])}

    def backward_counts(self, inputs, output, grads: Grads):
        """Each output gradient is added at the input position it pooled (max) or spread over
        its bin (average: ``out`` divides, the bin adds are region-dependent)."""
        return {"out": numel(output) if grads.inputs[0] else 0}

    def saved_for_backward(self, inputs, output, grads: Grads):
        return ()

    def rf_window(self, inputs):
        return None  # a region's bins depend on where the region lies


@register
class ROIPool(_RegionPool):
    """Fast R-CNN's ROI max pooling (Caffe's ``ROIPooling``, torchvision's ``RoIPool``,
    MatConvNet's ``vl_nnroipool``): each region, scaled by ``spatial_scale`` onto the feature
    map, is split into ``output_size`` bins and each bin max-pooled.  Inputs: the feature
    map ``C x H x W`` and the regions ``R x 5``; output: ``R`` maps of ``C x kh x kw``, tiled
    along H (``C x (R kh) x kw``, see the module docstring).  No parameters.

    Counts: ``out`` and ``regions``; the comparisons depend on the regions' sizes (a bin
    covers as many positions as the box does), which no static count knows.  Backward: each
    output gradient is added at its argmax; torchvision saves the argmax indices (int64)."""

    output_size: IntPair = 7

    @model_validator(mode="after")
    def _check(self):
        check_positive("ROIPool", output_size=self.output_size)
        if not self.spatial_scale > 0:
            raise ValueError(f"ROIPool spatial_scale must be > 0, received {self.spatial_scale}")
        return self

    def output_shape(self, inputs):
        c, _, _ = self.spatial_input(inputs)
        kh, kw = pair(self.output_size)
        return (c, _regions(inputs[1]) * kh, kw)

    def saved_for_backward(self, inputs, output, grads: Grads):
        return (Saved.new(numel(output), "int64"),)


@register
class PSROIPool(_RegionPool):
    """R-FCN's position-sensitive ROI pooling (Caffe's ``PSROIPooling``, MatConvNet's
    ``vl_nnpsroipool``): the input has ``group_size^2 x output_dim`` channels, one group of
    ``output_dim`` score maps per bin; bin ``(i, j)`` of a region average-pools its own group's
    maps.  Inputs: the score maps and the regions ``R x 5``; output: ``R`` maps of
    ``output_dim x k x k``, tiled along H (``output_dim x (R k) x k``).  No parameters.

    Counts: ``out`` and ``regions`` (the adds of a bin depend on the region's size).
    Backward: each output gradient divided by its bin's size and spread over it; the Caffe
    layer saves the bin's channel map (int, one per output)."""

    output_dim: int
    group_size: int = 7

    @model_validator(mode="after")
    def _check(self):
        check_positive("PSROIPool", output_dim=self.output_dim, group_size=self.group_size)
        if not self.spatial_scale > 0:
            raise ValueError(f"PSROIPool spatial_scale must be > 0, received {self.spatial_scale}")
        return self

    def output_shape(self, inputs):
        c, _, _ = self.spatial_input(inputs)
        k = self.group_size
        if c != k * k * self.output_dim:
            raise ShapeError(f"PSROIPool needs group_size^2 x output_dim = {k}^2 x {self.output_dim} = "
                             f"{k * k * self.output_dim} input channels, received {c}")
        return (self.output_dim, _regions(inputs[1]) * k, k)

    def saved_for_backward(self, inputs, output, grads: Grads):
        return (Saved.new(numel(output), "fp32"),)  # mapping_channel (an int per output, 4 bytes)
