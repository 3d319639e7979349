"""Layer types.  Importing this package registers all of them."""
from calc.layers.base import LAYER_TYPES, Layer, Shape, layer_type, numel, register
from calc.layers.conv import Conv2d, Linear
from calc.layers.elementwise import (
    Activation, BatchNorm2d, Dropout, HardSigmoid, HardSwish, LeakyReLU, ReLU, ReLU6, SiLU, Sigmoid, Softmax,
)
from calc.layers.pool import AdaptiveAvgPool2d, AvgPool2d, GlobalAvgPool2d, MaxPool2d
from calc.layers.structural import Add, ChannelShuffle, ChannelSplit, Concat, Flatten, Mul

__all__ = [
    "LAYER_TYPES", "Layer", "Shape", "layer_type", "numel", "register",
    "Conv2d", "Linear", "Activation", "BatchNorm2d", "Dropout", "HardSigmoid", "HardSwish",
    "LeakyReLU", "ReLU", "ReLU6", "SiLU", "Sigmoid", "Softmax", "AdaptiveAvgPool2d", "AvgPool2d",
    "GlobalAvgPool2d", "MaxPool2d",
    "Add", "ChannelShuffle", "ChannelSplit", "Concat", "Flatten", "Mul",
]
