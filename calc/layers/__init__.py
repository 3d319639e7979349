"""Layer types.  Importing this package registers all of them."""
from calc.layers.affine import ChannelAffine
from calc.layers.base import LAYER_TYPES, Layer, Shape, layer_type, numel, register
from calc.layers.conv import Conv2d, Linear
from calc.layers.crop import Crop
from calc.layers.deconv import ConvTranspose2d
from calc.layers.detection import DetectionOutput, Permute, PriorBox, Proposal, Reshape
from calc.layers.elementwise import (
    LRN, Activation, BatchNorm2d, Dropout, HardSigmoid, HardSwish, LeakyReLU, ReLU, ReLU6, SiLU, Sigmoid, Softmax,
)
from calc.layers.embedding import Embedding
from calc.layers.l2norm import L2Norm
from calc.layers.maximum import Maximum
from calc.layers.pool import AdaptiveAvgPool2d, AvgPool2d, GlobalAvgPool2d, MaxPool2d
from calc.layers.roi import PSROIPool, ROIPool
from calc.layers.scale import Scale
from calc.layers.structural import Add, ChannelShuffle, ChannelSlice, ChannelSplit, Concat, Flatten, Mul, ZeroPad2d
from calc.layers.upsample import Interp, Upsample

__all__ = [
    "LAYER_TYPES", "Layer", "Shape", "layer_type", "numel", "register",
    "Conv2d", "Linear", "Activation", "BatchNorm2d", "Dropout", "HardSigmoid", "HardSwish", "LRN",
    "LeakyReLU", "ReLU", "ReLU6", "SiLU", "Sigmoid", "Softmax", "AdaptiveAvgPool2d", "AvgPool2d",
    "GlobalAvgPool2d", "MaxPool2d",
    "Scale",
    "Add", "ChannelShuffle", "ChannelSlice", "ChannelSplit", "Concat", "Flatten", "Mul", "ZeroPad2d",
    "Crop", "Embedding", "ChannelAffine",
    "ConvTranspose2d", "DetectionOutput", "Interp", "L2Norm", "Maximum", "Permute", "PriorBox", "Proposal",
    "PSROIPool", "ROIPool", "Reshape", "Upsample",
]
