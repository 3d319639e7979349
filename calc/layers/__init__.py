"""Layer types.  Importing this package registers all of them."""
from calc.layers.affine import ChannelAffine
from calc.layers.base import LAYER_TYPES, Layer, Shape, layer_type, numel, register
from calc.layers.conv import Conv2d, Linear
from calc.layers.crop import Crop
from calc.layers.elementwise import (
    LRN, Activation, BatchNorm2d, Dropout, HardSigmoid, HardSwish, LeakyReLU, ReLU, ReLU6, SiLU, Sigmoid, Softmax,
)
from calc.layers.embedding import Embedding
from calc.layers.pool import AdaptiveAvgPool2d, AvgPool2d, GlobalAvgPool2d, MaxPool2d
from calc.layers.scale import Scale
from calc.layers.structural import Add, ChannelShuffle, ChannelSlice, ChannelSplit, Concat, Flatten, Mul, ZeroPad2d

__all__ = [
    "LAYER_TYPES", "Layer", "Shape", "layer_type", "numel", "register",
    "Conv2d", "Linear", "Activation", "BatchNorm2d", "Dropout", "HardSigmoid", "HardSwish", "LRN",
    "LeakyReLU", "ReLU", "ReLU6", "SiLU", "Sigmoid", "Softmax", "AdaptiveAvgPool2d", "AvgPool2d",
    "GlobalAvgPool2d", "MaxPool2d",
    "Scale",
    "Add", "ChannelShuffle", "ChannelSlice", "ChannelSplit", "Concat", "Flatten", "Mul", "ZeroPad2d",
    "Crop", "Embedding", "ChannelAffine",
]
