"""The package's top level: version, seeding, device, and the import of the wrong 'seqlearn'."""

import random
import subprocess
import sys

import numpy as np
import pytest
import torch

import seqlearn
from seqlearn.notebook import SETUP_CELL

from conftest import config_repository_url


def test_version_is_a_release_string():
    parts = seqlearn.__version__.split(".")
    assert len(parts) == 3 and all(p.isdigit() for p in parts)


def test_seed_makes_random_numpy_and_torch_repeat():
    seqlearn.seed(7)
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    seqlearn.seed(7)
    again = (random.random(), np.random.rand(), torch.rand(1).item())
    seqlearn.seed(8)
    other = (random.random(), np.random.rand(), torch.rand(1).item())
    assert first == again
    assert all(a != b for a, b in zip(first, other))


@pytest.mark.parametrize("bad", [-1, 1.5, "0", None, True])
def test_seed_rejects_bad_values(bad):
    with pytest.raises(TypeError, match="'n'"):
        seqlearn.seed(bad)


def test_device_is_cuda_exactly_when_available():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert seqlearn.device().type == expected


def test_setup_cell_installs_from_the_configured_repository():
    assert seqlearn.REPOSITORY_URL == config_repository_url()
    assert f"git+{config_repository_url()}" in SETUP_CELL
    assert "pip install seqlearn" not in SETUP_CELL


def _run_setup_cell(tmp_path, package_dir):
    """Run the setup cell (IPython syntax transformed to Python) with ``package_dir`` first on the path."""
    from IPython.core.inputtransformer2 import TransformerManager

    script = tmp_path / "setup_cell.py"
    script.write_text(TransformerManager().transform_cell(SETUP_CELL))
    return subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(package_dir), "MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin"},
    )


def test_setup_cell_explains_the_unrelated_pypi_seqlearn(tmp_path):
    # A stand-in for PyPI's seqlearn 0.2 (2015): a package of that name with its own modules.
    fake = tmp_path / "site" / "seqlearn"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text('"""Sequence classification library for Python."""\n')
    (fake / "hmm.py").write_text("class MultinomialHMM:\n    pass\n")
    result = _run_setup_cell(tmp_path, fake.parent)
    assert result.returncode != 0
    assert "ImportError" in result.stderr
    assert "unrelated" in result.stderr and "2015" in result.stderr
    assert f"pip install 'seqlearn @ git+{seqlearn.REPOSITORY_URL}'" in result.stderr
    assert str(fake) in result.stderr  # says which file was imported


def test_setup_cell_runs_with_this_package(tmp_path):
    from pathlib import Path

    result = _run_setup_cell(tmp_path, Path(seqlearn.__file__).parent.parent)
    assert result.returncode == 0, result.stderr


def test_setup_notebook_seeds_everything():
    seqlearn.setup_notebook(seed=3)
    a = np.random.rand()
    seqlearn.setup_notebook(seed=3)
    assert np.random.rand() == a
