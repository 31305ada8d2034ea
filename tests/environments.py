"""Fresh Python environments for the tests that install the package as its users do
(tests/test_packaging.py, tests/test_colab_alone.py), without downloading anything: a wheel built
from the working tree, and the installed copies of exactly the distributions an environment may
have, linked into a folder of its own."""

import importlib.metadata
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT


def build_wheel(folder):
    """A wheel of the working tree's package, built from a copy in ``folder`` (a build in the
    checkout would leave build/ and *.egg-info behind)."""
    source = Path(folder) / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "seqlearn", source / "seqlearn",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    wheels = Path(folder) / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "-w", str(wheels), str(source)], check=True,
                   capture_output=True)
    return next(wheels.glob("seqlearn-*.whl"))


def link_distributions(names, target):
    """Symbolic links in ``target`` to the installed files (top-level packages, modules and
    .dist-info folders) of the distributions ``names``."""
    target.mkdir(parents=True)
    for name in names:
        dist = importlib.metadata.distribution(name)
        base = Path(dist.locate_file(""))
        tops = {Path(str(f)).parts[0] for f in dist.files or [] if not str(f).startswith("..")}
        for top in tops:
            source = base / top
            if source.exists() and not (target / top).exists():
                (target / top).symlink_to(source)


def fresh_venv(folder, distributions):
    """A new virtual environment in ``folder``/venv that sees only ``distributions`` (linked in
    ``folder``/deps/site-packages through a .pth file); returns its python."""
    folder = Path(folder)
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   capture_output=True)
    deps = folder / "deps" / "site-packages"
    link_distributions(distributions, deps)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    (venv / "lib" / version / "site-packages" / "linked.pth").write_text(f"{deps}\n")
    return venv / "bin" / "python"
