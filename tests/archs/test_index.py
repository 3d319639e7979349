"""archs.INDEX, the table that lets ``calc arch NAME`` import one family instead of the zoo,
says exactly what each module registers; and asking for one architecture imports only its
family (and the modules that family's code imports)."""
import subprocess
import sys
from pathlib import Path

import archs

ROOT = Path(__file__).resolve().parents[2]


def test_the_index_is_what_each_module_registers():
    by_module: dict[str, list[str]] = {}
    for name, arch in archs.ARCHITECTURES.items():  # iterating imports every family
        by_module.setdefault(arch.builder.__module__.removeprefix("archs."), []).append(name)
    assert by_module == {m: list(names) for m, names in archs.INDEX.items()}
    assert archs.ARCHITECTURES.names() == [n for names in archs.INDEX.values() for n in names]


def test_one_architecture_imports_one_family():
    code = ("import sys, archs; archs.get('mobilenet_v2').build(); 'resnet50' in archs.ARCHITECTURES; "
            "archs.ARCHITECTURES.names(); print(sorted(m for m in sys.modules if m.startswith('archs.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.strip() == "['archs.mobilenet']"


def test_the_command_line_imports_only_what_it_counts():
    code = ("import sys, io, contextlib; from calc.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()): main(['arch', 'fcn8s_vgg16'])\n"
            "print(sorted(m for m in sys.modules if m.startswith('archs.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.strip() == "['archs.caffe_vgg', 'archs.classic', 'archs.fcn']"  # fcn builds on the Caffe VGG trunk
