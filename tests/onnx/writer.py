"""A test-only writer: a calc Network as an ONNX model, written with ``onnx.helper`` the way
exporters write them (weights as ``ConstantOfShape`` placeholders like the Caffe2 zoo's
light models, pools with explicit strides, asymmetric pads, ReLU6 as Clip, SiLU as
``x * Sigmoid(x)``, the channel shuffle as Reshape/Transpose/Reshape, an upsampling as
Resize, SSD's L2Norm as LpNormalization times a scale).  A layer that shares another's
parameters reads the same tensors.  The round trip (write, import) must give the
network's totals back."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper

from calc.graph import INPUT, Network
from calc.layers.spatial import pair, sides


class Unwritable(Exception):
    """A layer with no ONNX form here (an adaptive pool whose output does not divide its
    input, an embedding; Caffe's detection layers, which have no standard op: PriorBox,
    Proposal, DetectionOutput, ROIPool's regions-on-H layout, PSROIPool)."""


class Writer:
    def __init__(self, net: Network, opset: int = 17):
        self.net, self.opset = net, opset
        self.nodes, self.inits = [], []
        self.params: dict[tuple[str, str], str] = {}  # (owner, kind) -> tensor name
        self.k = 0

    def fresh(self, base: str) -> str:
        self.k += 1
        return f"{base}__{self.k}"

    def const(self, values, dtype=np.int64) -> str:
        name = self.fresh("c")
        self.inits.append(helper.make_tensor(name, TensorProto.INT64 if dtype is np.int64 else TensorProto.FLOAT,
                                             [len(values)] if np.ndim(values) else [],
                                             list(values) if np.ndim(values) else [values]))
        return name

    def param(self, node, kind: str, shape: list[int]) -> str:
        """A placeholder weight (ConstantOfShape), shared by the layers that share ``node``'s."""
        shared = node.shares is not None and kind.split("_")[0] in (*node.shared, "buffer0", "buffer1")
        owner = node.shares if shared else node.name
        key = (owner, kind)
        if key not in self.params:
            out = f"{owner}.{kind}"
            shape_name = self.const(shape)
            self.nodes.append(helper.make_node("ConstantOfShape", [shape_name], [out],
                                               value=helper.make_tensor("v", TensorProto.FLOAT, [1], [0.02])))
            self.params[key] = out
        return self.params[key]

    def add(self, op, inputs, outputs, name, **attrs):
        self.nodes.append(helper.make_node(op, inputs, outputs, name=name, **attrs))

    def model(self) -> onnx.ModelProto:
        c, h, w = self.net.input_shape
        for node in self.net.layers():
            if node.train_only:
                continue
            self.layer(node)
        out = self.net.output
        graph = helper.make_graph(
            self.nodes, self.net.name, [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, [1, c, h, w])],
            [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)], self.inits)
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)])

    # -- one layer ----------------------------------------------------------------
    def layer(self, node):
        lay, op = node.layer, node.layer.op
        ins, out, name = list(node.inputs), node.name, f"/{node.name.replace('.', '/')}/{op}"
        shapes = self.net.input_shapes(node)
        fn = getattr(self, f"w_{op}", None)
        if fn is None:
            raise Unwritable(op)
        fn(node, lay, ins, out, name, shapes)

    def w_Conv2d(self, node, lay, ins, out, name, shapes):
        kh, kw = pair(lay.kernel_size)
        cin = shapes[0][0]
        w = self.param(node, "weights", [lay.out_channels, cin // lay.groups, kh, kw])
        inputs = [ins[0], w] + ([self.param(node, "bias", [lay.out_channels])] if lay.bias else [])
        attrs = dict(kernel_shape=[kh, kw], strides=list(pair(lay.stride)), dilations=list(pair(lay.dilation)),
                     group=lay.groups)
        attrs.update(self._pads(lay.padding))
        self.add("Conv", inputs, [out], name, **attrs)

    @staticmethod
    def _pads(padding):
        if padding == "same":
            return {"auto_pad": "SAME_UPPER"}
        if padding == "valid":
            return {"auto_pad": "VALID"}
        left, right, top, bottom = sides(padding)
        return {"pads": [top, left, bottom, right]}

    def _pool(self, op, lay, ins, out, name):
        attrs = dict(kernel_shape=list(pair(lay.kernel_size)), strides=list(pair(lay.effective_stride)))
        attrs.update(self._pads(lay.padding))
        if lay.ceil_mode:
            attrs["ceil_mode"] = 1
        self.add(op, ins, [out], name, **attrs)

    def w_MaxPool2d(self, node, lay, ins, out, name, shapes):
        self._pool("MaxPool", lay, ins, out, name)

    def w_AvgPool2d(self, node, lay, ins, out, name, shapes):
        self._pool("AveragePool", lay, ins, out, name)

    def w_GlobalAvgPool2d(self, node, lay, ins, out, name, shapes):
        if lay.keepdims:
            self.add("GlobalAveragePool", ins, [out], name)
        else:
            if self.opset >= 18:
                self.add("ReduceMean", [ins[0], self.const([2, 3])], [out], name, keepdims=0)
            else:
                self.add("ReduceMean", ins, [out], name, axes=[2, 3], keepdims=0)

    def w_AdaptiveAvgPool2d(self, node, lay, ins, out, name, shapes):
        _, h, w = shapes[0]
        oh, ow = pair(lay.output_size)
        if (oh, ow) == (1, 1):
            self.add("GlobalAveragePool", ins, [out], name)
        elif h % oh == 0 and w % ow == 0:
            self.add("AveragePool", ins, [out], name, kernel_shape=[h // oh, w // ow], strides=[h // oh, w // ow])
        else:
            raise Unwritable("AdaptiveAvgPool2d with an output that does not divide the input")

    def w_BatchNorm2d(self, node, lay, ins, out, name, shapes):
        c = shapes[0][0]
        if not lay.affine:
            raise Unwritable("BatchNorm2d without affine")
        scale = self.param(node, "affine", [c])
        bias = self.param(node, "affine_bias", [c])
        stats = [self.param(node, f"buffer{i}", [c]) for i in (0, 1)]
        self.add("BatchNormalization", [ins[0], scale, bias, *stats], [out], name, epsilon=lay.eps)

    def w_ChannelAffine(self, node, lay, ins, out, name, shapes):
        c = shapes[0][0]
        x = ins[0]
        if lay.scale:
            g = self.param(node, "affine", [1, c, 1, 1])
            mid = out if not lay.bias else self.fresh(out)
            self.add("Mul", [x, g], [mid], name)
            x = mid
        if lay.bias:
            self.add("Add", [x, self.param(node, "affine_bias", [1, c, 1, 1])], [out], name + "_add")

    def w_Linear(self, node, lay, ins, out, name, shapes):
        w = self.param(node, "weights", [lay.out_features, shapes[0][0]])
        inputs = [ins[0], w] + ([self.param(node, "bias", [lay.out_features])] if lay.bias else [])
        self.add("Gemm", inputs, [out], name, transB=1)

    def _unary(self, op, ins, out, name, **attrs):
        self.add(op, ins, [out], name, **attrs)

    def w_ReLU(self, node, lay, ins, out, name, shapes):
        self._unary("Relu", ins, out, name)

    def w_ReLU6(self, node, lay, ins, out, name, shapes):
        self.add("Clip", [ins[0], self.const(0.0, np.float32), self.const(6.0, np.float32)], [out], name)

    def w_LeakyReLU(self, node, lay, ins, out, name, shapes):
        self._unary("LeakyRelu", ins, out, name, alpha=lay.negative_slope)

    def w_Sigmoid(self, node, lay, ins, out, name, shapes):
        self._unary("Sigmoid", ins, out, name)

    def w_HardSigmoid(self, node, lay, ins, out, name, shapes):
        self._unary("HardSigmoid", ins, out, name, alpha=lay.alpha, beta=lay.beta)

    def w_HardSwish(self, node, lay, ins, out, name, shapes):
        self._unary("HardSwish", ins, out, name)

    def w_SiLU(self, node, lay, ins, out, name, shapes):
        s = self.fresh(out)
        self.add("Sigmoid", ins, [s], name)
        self.add("Mul", [ins[0], s], [out], name + "_mul")

    def w_Softmax(self, node, lay, ins, out, name, shapes):
        self._unary("Softmax", ins, out, name, axis=lay.dim + 1)

    def w_Dropout(self, node, lay, ins, out, name, shapes):
        self.add("Dropout", [ins[0], self.const(lay.p, np.float32)], [out], name)

    def w_Flatten(self, node, lay, ins, out, name, shapes):
        self._unary("Flatten", ins, out, name, axis=1)

    def w_Add(self, node, lay, ins, out, name, shapes):
        self.add("Add" if len(ins) == 2 else "Sum", ins, [out], name)

    def w_Mul(self, node, lay, ins, out, name, shapes):
        if len(shapes[1]) == 1:
            raise Unwritable("Mul by a (C,) gate")
        self.add("Mul", ins, [out], name)

    def w_Scale(self, node, lay, ins, out, name, shapes):
        self.add("Mul", [ins[0], self.const(lay.factor, np.float32)], [out], name)

    def w_Concat(self, node, lay, ins, out, name, shapes):
        self.add("Concat", ins, [out], name, axis=lay.dim + 1)

    def w_ChannelSplit(self, node, lay, ins, out, name, shapes):
        c = shapes[0][0] // lay.parts
        self.add("Slice", [ins[0], self.const([lay.index * c]), self.const([(lay.index + 1) * c]), self.const([1])],
                 [out], name)

    def w_ChannelSlice(self, node, lay, ins, out, name, shapes):
        self.add("Slice", [ins[0], self.const([lay.start]), self.const([lay.stop]), self.const([1])], [out], name)

    def w_ChannelShuffle(self, node, lay, ins, out, name, shapes):
        c, h, w = shapes[0]
        g = lay.groups
        a, b = self.fresh(out), self.fresh(out)
        self.add("Reshape", [ins[0], self.const([1, g, c // g, h, w])], [a], name)
        self.add("Transpose", [a], [b], name + "_t", perm=[0, 2, 1, 3, 4])
        self.add("Reshape", [b, self.const([1, c, h, w])], [out], name + "_back")

    def w_ZeroPad2d(self, node, lay, ins, out, name, shapes):
        left, right, top, bottom = lay.sides
        self.add("Pad", [ins[0], self.const([0, 0, top, left, 0, 0, bottom, right])], [out], name)

    def w_Crop(self, node, lay, ins, out, name, shapes):
        _, h, w = node.shape  # to a reference too (FCN's): the file has its size
        self.add("Slice", [ins[0], self.const([lay.top, lay.left]), self.const([lay.top + h, lay.left + w]),
                           self.const([2, 3])], [out], name)

    def w_LRN(self, node, lay, ins, out, name, shapes):
        self._unary("LRN", ins, out, name, size=lay.size, alpha=lay.alpha, beta=lay.beta, bias=lay.k)


    # -- the layers of detection and segmentation networks ----------------------------
    def w_ConvTranspose2d(self, node, lay, ins, out, name, shapes):
        kh, kw = pair(lay.kernel_size)
        w = self.param(node, "weights", [shapes[0][0], lay.out_channels // lay.groups, kh, kw])
        inputs = [ins[0], w] + ([self.param(node, "bias", [lay.out_channels])] if lay.bias else [])
        (ph, pw), extra = pair(lay.padding), list(pair(lay.output_padding))
        attrs = dict(kernel_shape=[kh, kw], strides=list(pair(lay.stride)), dilations=list(pair(lay.dilation)),
                     group=lay.groups, pads=[ph, pw, ph, pw])
        if any(extra):
            attrs["output_padding"] = extra
        self.add("ConvTranspose", inputs, [out], name, **attrs)

    def _resize(self, x, out, name, linear: bool, coords: str, scales=None, sizes=None):
        """Resize (opset 13 on) by ``scales`` or to ``sizes`` (N, C, H, W), sampled as ``coords``."""
        inputs = [x, "", self.const(scales, np.float32)] if scales else [x, "", "", self.const(sizes)]
        extra = {} if linear else {"nearest_mode": "floor"}
        self.add("Resize", inputs, [out], name, mode="linear" if linear else "nearest",
                 coordinate_transformation_mode=coords, **extra)

    def w_Upsample(self, node, lay, ins, out, name, shapes):
        linear = lay.mode == "bilinear"
        coords = ("align_corners" if lay.align_corners else "pytorch_half_pixel") if linear else "asymmetric"
        if lay.size is not None:
            self._resize(ins[0], out, name, linear, coords, sizes=[1, shapes[0][0], *pair(lay.size)])
        else:
            sf = lay.scale_factor if isinstance(lay.scale_factor, tuple) else (lay.scale_factor,) * 2
            self._resize(ins[0], out, name, linear, coords, scales=[1.0, 1.0, *sf])

    def w_Interp(self, node, lay, ins, out, name, shapes):
        """Caffe's Interp is a bilinear resize with align_corners to its computed size (the
        reference input, if any, read for its size only)."""
        if lay.pad_beg or lay.pad_end:
            raise Unwritable("Interp with pad_beg/pad_end")
        self._resize(ins[0], out, name, True, "align_corners", sizes=[1, *node.shape])

    def w_Maximum(self, node, lay, ins, out, name, shapes):
        self.add("Max", ins, [out], name)

    def w_L2Norm(self, node, lay, ins, out, name, shapes):
        c = shapes[0][0]
        normed = self.fresh(out)
        self.add("LpNormalization", ins, [normed], name, axis=1, p=2)
        scale = self.param(node, "affine", [1] if lay.channel_shared else [1, c, 1, 1])
        self.add("Mul", [normed, scale], [out], name + "_scale")

    def w_Permute(self, node, lay, ins, out, name, shapes):
        self.add("Transpose", ins, [out], name, perm=list(lay.dims))

    def w_Reshape(self, node, lay, ins, out, name, shapes):
        self.add("Reshape", [ins[0], self.const([1, *lay.shape])], [out], name)  # ONNX's 0 copies, as calc's


def to_onnx(net: Network, opset: int = 17) -> onnx.ModelProto:
    return Writer(net, opset).model()
