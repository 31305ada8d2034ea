"""Shared fixtures and helpers for the test suite."""

import json
import re
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

# The grading corpus holds hostile student notebooks (an infinite loop, a memory bomb, ...): they
# are data for tests/test_grading.py, never notebooks for nbval to run.
collect_ignore = ["grading_corpus"]

ROOT = Path(__file__).resolve().parent.parent
# chapters NN_slug, and a chapter split in two: NN_slug and NNb_slug
BOOK_NOTEBOOKS = sorted((ROOT / "book").glob("[0-9][0-9]*_*.ipynb"))
LECTURE_NOTEBOOKS = sorted((ROOT / "lectures").glob("*.ipynb"))
ALL_NOTEBOOKS = BOOK_NOTEBOOKS + LECTURE_NOTEBOOKS


def load_notebook(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def cell_source(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def config_repository_url():
    text = (ROOT / "_config.yml").read_text()
    match = re.search(r"^repository:\s*\n\s+url:\s*(\S+)", text, re.M)
    assert match, "_config.yml has no repository url"
    return match.group(1)


@pytest.fixture
def rng():
    import numpy as np

    return np.random.default_rng(1234)


@pytest.fixture
def one_thread():
    """Run the test on one torch thread: small ops spread over threads crawl when the cores are
    shared (the threads spin-wait). Use it with ``pytestmark = pytest.mark.usefixtures(...)``."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def t64(a, grad=False):
    """A float64 tensor copy of the array ``a``, a leaf that requires grad if ``grad``."""
    import torch

    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


def close(a, b, tol=1e-5):
    """Float32 agreement: |a − b| ≤ tol relative to the size of b (at least 1)."""
    a, b = a.detach(), b.detach()
    return float((a - b).abs().max()) <= tol * max(1.0, float(b.abs().max()))


@pytest.fixture
def allow_reference():
    """Let a test submit the package's reference as an exercise answer (checks refuse it)."""
    from seqlearn.checks.core import reference_allowed

    with reference_allowed():
        yield
