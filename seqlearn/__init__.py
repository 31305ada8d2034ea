"""seqlearn: the companion package of the course *Sequence Learning*.

Two mirrored halves hold the models of the course::

    from seqlearn import numpy as snp   # NumPy reference: forward and hand-derived backward
    from seqlearn import torch as st    # PyTorch versions of the same models (GPU when present)

Alongside them: ``seqlearn.data`` (shipped and generated datasets), ``seqlearn.checks``
(exercise checks), ``seqlearn.plotting``, ``seqlearn.widgets`` and ``seqlearn.display``.
"""

import os
import random

__version__ = "0.1.0"

#: Marks this package as the course's ``seqlearn``; the unrelated PyPI package of the same name
#: (0.2, 2015) lacks it, and the notebooks' setup cell uses that to say what went wrong.
COURSE = "Sequence Learning"

#: Where the course lives; the notebooks' Colab setup cell installs from here (see _config.yml).
REPOSITORY_URL = "https://github.com/sequence-learning/sequence-learning"


def seed(n):
    """Seed Python's ``random``, NumPy's global generator and torch (CPU and CUDA) with ``n``.

    Returns a fresh ``numpy.random.Generator`` seeded with ``n`` for code that prefers one.
    """
    import numpy as np

    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise TypeError(f"seed: argument 'n' must be a non-negative int, got {n!r}")
    n = int(n)
    random.seed(n)
    np.random.seed(n % 2**32)
    try:
        import torch
    except ImportError:  # the NumPy half works without torch
        pass
    else:
        torch.manual_seed(n)
    os.environ["PYTHONHASHSEED"] = str(n)
    return np.random.default_rng(n)


def device():
    """The ``torch.device`` the course's torch code should use: CUDA when present, else CPU."""
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def setup_notebook(seed=0):
    """Seed everything and apply the course's plotting style (the notebooks' setup cell)."""
    from .notebook import setup_notebook as _setup

    _setup(seed)


__all__ = ["__version__", "COURSE", "REPOSITORY_URL", "seed", "device", "setup_notebook"]
