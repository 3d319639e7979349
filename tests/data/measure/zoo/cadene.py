"""Load Cadene's pretrainedmodels 0.7.4 model files directly (the package __init__ needs six).

``model(name)`` builds ``NAME(num_classes=1000, pretrained=None)`` from its file in the installed
package; ``settings(name)`` is the file's pretrained_settings entry (the input size measure_cadene.py
uses).  Imported by measure_cadene.py beside it."""
import importlib.util, sys
# the installed pretrainedmodels package's models/ folder (found, not imported)
ROOT = importlib.util.find_spec("pretrainedmodels").submodule_search_locations[0] + "/models/"
FILES = {"inceptionv4": "inceptionv4", "inceptionresnetv2": "inceptionresnetv2", "bninception": "bninception",
         "xception": "xception", "fbresnet152": "fbresnet",
         **{n: "dpn" for n in ["dpn68", "dpn68b", "dpn92", "dpn98", "dpn107", "dpn131"]}}
_mods = {}
def module(f):
    if f not in _mods:
        spec = importlib.util.spec_from_file_location(f"cadene_{f}", ROOT + f + ".py")
        m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); _mods[f] = m
    return _mods[f]
def model(name):
    m = module(FILES[name])
    return getattr(m, name)(num_classes=1000, pretrained=None)
def settings(name):
    return module(FILES[name]).pretrained_settings[name]
