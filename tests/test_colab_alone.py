"""Colab readiness without Colab: each chapter's student edition, opened alone (no repository
beside it) in an environment holding only what Colab preinstalls and the course relies on, takes
its setup cell's Colab branch, installs the course's package, finds its data and runs to the end.

The environment sees the installed copies of NumPy, PyTorch, matplotlib, ipywidgets,
scikit-learn, the Jupyter kernel and the few packages Colab also has that ``seqlearn`` declares
(nbformat, tqdm, IPython, Pygments), and nothing else. A module ``google.colab`` on its path makes
the setup cell believe it runs on Colab; its ``%pip install`` gets a wheel built from the working
tree in place of the repository's address, with no package index, so nothing is downloaded."""

import json
import re

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import BOOK_NOTEBOOKS, ROOT
from environments import build_wheel, fresh_venv
from seqlearn import REPOSITORY_URL
from seqlearn.grading.gradescope import runtime_distributions

COLAB_HAS = ["numpy", "torch", "matplotlib", "ipywidgets", "scikit-learn", "ipykernel",
             "nbformat", "tqdm", "ipython", "pygments"]


@pytest.fixture(scope="session")
def colab(tmp_path_factory):
    """(python, kernel folder, wheel) of the Colab-like environment."""
    folder = tmp_path_factory.mktemp("colab")
    wheel = build_wheel(folder)
    # pip too, linked like the rest: a venv's own bundled pip comes with an old setuptools
    python = fresh_venv(folder, runtime_distributions(requires=COLAB_HAS)
                        | dict.fromkeys(COLAB_HAS + ["pip"]))
    fake = folder / "colab-modules" / "google" / "colab"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text('"""Stands in for Colab\'s module in the tests."""\n')
    kernels = folder / "jupyter" / "kernels" / "colab"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Colab stand-in", "language": "python",
        "env": {"PYTHONPATH": str(folder / "colab-modules"), "PIP_NO_INDEX": "1",
                "PIP_DISABLE_PIP_VERSION_CHECK": "1"}}))
    return python, folder / "jupyter", wheel


def _run_alone(path, colab, tmp_path, monkeypatch):
    python, jupyter_path, wheel = colab
    nb = nbformat.read(ROOT / "student" / "book" / path.name, as_version=4)
    setup = nb.cells[[c.cell_type for c in nb.cells].index("code")]
    assert f"git+{REPOSITORY_URL}" in setup.source
    setup.source = setup.source.replace(f"git+{REPOSITORY_URL}", wheel.resolve().as_uri())
    nb.cells.insert(0, nbformat.v4.new_code_cell("import google.colab  # loaded by Colab's kernel"))
    nb.cells.append(nbformat.v4.new_code_cell("import seqlearn, sys\nprint('SEQLEARN', seqlearn.__file__)"))
    alone = tmp_path / "alone"
    alone.mkdir()
    monkeypatch.setenv("JUPYTER_PATH", str(jupyter_path))
    NotebookClient(nb, timeout=600, kernel_name="colab",
                   resources={"metadata": {"path": str(alone)}}).execute()
    installed = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    where = re.search(r"SEQLEARN (\S+)", installed).group(1)
    assert where.startswith(str(python.parent.parent)), (
        f"{path.name} imported seqlearn from {where}, not from the package its setup cell installed")
    assert str(ROOT) not in where
    assert list(alone.iterdir()) == [] or all(p.name != "seqlearn" for p in alone.iterdir())


def _chapter_class(path):
    def test_the_student_edition_runs_alone_as_on_colab(self, colab, tmp_path, monkeypatch):
        _run_alone(path, colab, tmp_path, monkeypatch)

    name = "TestColabAlone_" + re.sub(r"\W", "_", path.stem)
    test = test_the_student_edition_runs_alone_as_on_colab
    return name, type(name, (), {test.__name__: test})


for _path in BOOK_NOTEBOOKS:
    _name, _cls = _chapter_class(_path)
    globals()[_name] = _cls
