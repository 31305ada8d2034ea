"""Seeded synthetic sequence tasks that need memory: the adding problem, delayed recall, and the
alphabet task with sequences of different lengths.

Every generator takes ``rng`` (a ``numpy.random.Generator`` or an int seed): the same seed gives
the same data. Inputs are float64 arrays ``(n, T, D)``, batch-first like the rest of the course.
"""

import string

import numpy as np

from ..validate import as_float_array, as_generator, check_positive_int

#: The letters of the alphabet task, in order.
ALPHABET = string.ascii_uppercase


def adding_problem(n, T, rng=0):
    """The adding problem (Hochreiter & Schmidhuber 1997): sum the two marked numbers.

    Each sequence has T steps of two features: a value drawn from U(0, 1) and a marker that is 1
    at exactly two steps, one in the first half and one in the second half, and 0 elsewhere. The
    target is the sum of the two marked values. Predicting the mean target, 1, everywhere gives
    a mean squared error of 1/6 ≈ 0.167; a model has learnt the task when it goes far below.

    Parameters
    ----------
    n : int ≥ 1, number of sequences
    T : int ≥ 2, sequence length
    rng : ``numpy.random.Generator`` or int seed

    Returns
    -------
    x : (n, T, 2) float64, ``x[..., 0]`` the values and ``x[..., 1]`` the markers
    y : (n,) float64 targets
    """
    n = check_positive_int("n", n)
    T = check_positive_int("T", T)
    if T < 2:
        raise ValueError(f"T: expected a length of at least 2 (two marked steps), got {T}")
    rng = as_generator(rng)
    values = rng.uniform(0.0, 1.0, size=(n, T))
    half = T // 2
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, T, size=n)
    markers = np.zeros((n, T))
    rows = np.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    x = np.stack([values, markers], axis=-1)
    y = values[rows, first] + values[rows, second]
    return x, y


def delayed_recall(n, lag, n_symbols=4, rng=0):
    """Remember a symbol across ``lag`` steps of distraction, then name it.

    Each sequence has T = lag + 1 steps. The inputs have ``n_symbols + 1`` features: a one-hot
    symbol in the first ``n_symbols`` and a marker in the last. At step 0 the symbol to remember
    arrives together with the marker; at the steps 1 .. lag random other symbols arrive without
    the marker (distractors). The target is the class of the marked symbol, to be given after the
    last step, ``lag`` steps after it was seen. Guessing scores 1 / n_symbols.

    Parameters
    ----------
    n : int ≥ 1, number of sequences
    lag : int ≥ 1, steps between the symbol and the answer
    n_symbols : int ≥ 2, size of the alphabet
    rng : ``numpy.random.Generator`` or int seed

    Returns
    -------
    x : (n, lag + 1, n_symbols + 1) float64 inputs
    y : (n,) int64 targets in [0, n_symbols)
    """
    n = check_positive_int("n", n)
    lag = check_positive_int("lag", lag)
    n_symbols = check_positive_int("n_symbols", n_symbols)
    if n_symbols < 2:
        raise ValueError(f"n_symbols: expected at least 2 symbols, got {n_symbols}")
    rng = as_generator(rng)
    symbols = rng.integers(0, n_symbols, size=(n, lag + 1))
    x = np.zeros((n, lag + 1, n_symbols + 1))
    np.put_along_axis(x[..., :n_symbols], symbols[..., None], 1.0, axis=-1)
    x[:, 0, n_symbols] = 1.0
    return x, symbols[:, 0].astype(np.int64)


def alphabet_task(n, max_length=5, rng=0):
    """Runs of consecutive letters of random length; the target is the letter that comes next.

    A sequence is a run such as ``C D E`` (length drawn uniformly from 1 .. ``max_length``,
    start drawn so that a next letter exists) and its target is ``F``. The letters are one-hot
    over the 26 capitals. Sequences shorter than the longest of the batch are padded with zeros
    at the end; ``lengths`` says how many steps of each are real, so the answer must be read at
    step ``lengths - 1``, not at the last step of the padded array.

    Parameters
    ----------
    n : int ≥ 1, number of sequences
    max_length : int in [1, 25], the longest run
    rng : ``numpy.random.Generator`` or int seed

    Returns
    -------
    x : (n, T, 26) float64 one-hot letters, zero-padded, T = ``lengths.max()``
    y : (n,) int64, the index of the next letter (0 = A)
    lengths : (n,) int64 real lengths, each in [1, max_length]
    """
    n = check_positive_int("n", n)
    max_length = check_positive_int("max_length", max_length)
    V = len(ALPHABET)
    if max_length > V - 1:
        raise ValueError(f"max_length: expected at most {V - 1} (a next letter must exist), got {max_length}")
    rng = as_generator(rng)
    lengths = rng.integers(1, max_length + 1, size=n)
    starts = rng.integers(0, V - lengths)  # start + length <= V - 1: the next letter exists
    T = int(lengths.max())
    x = np.zeros((n, T, V))
    for k in range(n):
        x[k, np.arange(lengths[k]), starts[k] + np.arange(lengths[k])] = 1.0
    return x, (starts + lengths).astype(np.int64), lengths.astype(np.int64)


def decode_letters(x, length=None):
    """The string of one alphabet-task sequence ``x`` (T, 26), its first ``length`` steps (an int
    in 1..T, a 0-d integer array or tensor accepted)."""
    x = as_float_array("x", x, shape=(None, len(ALPHABET)))
    if getattr(length, "ndim", None) == 0:     # a 0-d array or tensor, e.g. lengths[k]
        length = length.item()
    if length is None:
        length = x.shape[0]
    elif check_positive_int("length", length) > x.shape[0]:
        raise ValueError(f"length: expected at most the {x.shape[0]} steps of x, got {length}")
    return "".join(ALPHABET[int(i)] for i in x[:length].argmax(axis=-1))


__all__ = ["adding_problem", "delayed_recall", "alphabet_task", "decode_letters", "ALPHABET"]
