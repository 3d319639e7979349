"""Layer types.  Importing this package declares all of them; the module that defines a
type is imported when the type is first used (``from calc.layers import Conv2d``, or
``LAYER_TYPES["Conv2d"]`` when a spec file names it), so a cold ``calc arch`` loads only
the layer modules its network uses.  ``MODULES`` is the table (tests/layers check it)."""
from calc.layers.base import LAYER_TYPES, Layer, Shape, layer_type, numel, register

#: every public name of the layer modules, by module (layer types and their base classes)
MODULES: dict[str, tuple[str, ...]] = {
    "affine": ("ChannelAffine",),
    "conv": ("Conv2d", "Linear"),
    "crop": ("Crop",),
    "deconv": ("ConvTranspose2d",),
    "detection": ("DetectionOutput", "Permute", "PriorBox", "Proposal", "Reshape"),
    "elementwise": ("LRN", "Activation", "BatchNorm2d", "Dropout", "HardSigmoid", "HardSwish", "LeakyReLU", "ReLU",
                    "ReLU6", "SiLU", "Sigmoid", "Softmax"),
    "embedding": ("Embedding",),
    "l2norm": ("L2Norm",),
    "maximum": ("Maximum",),
    "pool": ("AdaptiveAvgPool2d", "AvgPool2d", "GlobalAvgPool2d", "MaxPool2d"),
    "roi": ("PSROIPool", "ROIPool"),
    "scale": ("Scale",),
    "structural": ("Add", "ChannelShuffle", "ChannelSlice", "ChannelSplit", "Concat", "Flatten", "Mul", "ZeroPad2d"),
    "upsample": ("Interp", "Upsample"),
}
_MODULE_OF = {name: f"calc.layers.{m}" for m, names in MODULES.items() for name in names}
for _m, _names in MODULES.items():
    LAYER_TYPES.declare(f"calc.layers.{_m}", tuple(n for n in _names if n != "Activation"))


def __getattr__(name: str):
    """``calc.layers.Conv2d``: import the module that defines it (PEP 562)."""
    if name in _MODULE_OF:
        import importlib

        value = getattr(importlib.import_module(_MODULE_OF[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'calc.layers' has no attribute {name!r}")


__all__ = ["LAYER_TYPES", "Layer", "Shape", "layer_type", "numel", "register", *_MODULE_OF]
