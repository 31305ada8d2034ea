"""seqlearn: the companion package of the course *Sequence Learning*.

Two mirrored halves hold the models of the course::

    from seqlearn import numpy as snp   # NumPy reference: forward and hand-derived backward
    from seqlearn import torch as st    # PyTorch versions of the same models (GPU when present)

    snp.lstm.lstm_forward(x, state0, params, lengths=None)   # (B, T, D) batch-first, float64
    st.lstm.LSTM(input_size, hidden_size)(x, lengths=lengths)

Alongside them: ``seqlearn.data`` (shipped and generated datasets), ``seqlearn.validate`` (the
argument checks), ``seqlearn.checks`` (exercise checks), ``seqlearn.plotting``,
``seqlearn.widgets``, ``seqlearn.display`` and ``seqlearn.timing``.

The halves mirror each other module for module, name for name (CONTRIBUTING.md, "The mirror"):
a NumPy model is ``init_<x>_params``, ``<x>_forward`` and ``<x>_backward``; its torch version is
the ``nn.Module`` ``<X>`` (or the function ``<x>``), with the same parameter names and the same
arguments in the same order. The deliberate exceptions are these, each with its reason
(``tests/test_mirror.py`` fails on any other, and on a row that is no longer true).

One-sided modules
-----------------

=================  =====  ==========================================================================
module             half   why there is no mirror
=================  =====  ==========================================================================
activations        numpy  torch has them with their derivatives: ``torch.tanh``, ``torch.sigmoid``, autograd
linear             numpy  torch has ``nn.Linear``; the NumPy layer exists to derive its backward pass
softmax            numpy  torch has ``F.softmax``, ``F.log_softmax`` and ``F.cross_entropy``
optim              numpy  torch has ``torch.optim`` and ``nn.utils.clip_grad_norm_``
rtrl               numpy  an algorithm for computing gradients forward in time; torch's autograd computes them
truncated_bptt     numpy  truncation in torch is one ``h.detach()`` in the training loop (chapter 4)
recurrent          torch  the base class of the torch recurrent modules; NumPy's functions need none
train              torch  the one training loop of the torch models; each NumPy trainer lives with its model
seq2seq            torch  trained with autograd only: its parts (GRU, attention) have NumPy references
captioning         torch  trained with autograd only: its parts (GRU, attention) have NumPy references
=================  =====  ==========================================================================

One-sided names
---------------

=================  ==============================  =====  ==================================================
module             name                            half   why there is no mirror
=================  ==============================  =====  ==================================================
=================  ==============================  =====  ==================================================
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
