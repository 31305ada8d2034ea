"""Patterns for associative memories and bags for multiple-instance learning (chapter 9).

* :func:`random_patterns` — N random binary patterns of size d, entries ±1;
* :func:`binarised_digits` — scikit-learn's bundled 8×8 digits (``load_digits``, 1797 images,
  nothing downloaded), thresholded to ±1 (or 0/1);
* :func:`corrupt` and :func:`mask_half` — flipped pixels and hidden halves, the damaged cues a
  memory is asked to complete;
* :func:`motif_bags` — bags of vectors labelled positive when they hold a rare planted motif
  (multiple-instance learning, in the spirit of Widrich et al. 2020);
* :func:`order_bags` — bags whose label depends on the order of two marked instances;
* :func:`balance_bags` — sequences of opening and closing steps, labelled by whether their
  running count stays at or above zero (a task that needs integration along the sequence).

Every generator takes ``rng`` (a ``numpy.random.Generator``, an int seed, or ``None`` for the
global state that ``seqlearn.seed`` sets).
"""

import numpy as np

from ..validate import (as_float_array, as_generator, check_number, check_positive_int,
                        check_positive_number, describe)

#: The side of the digits' images: each is 8 × 8 = 64 pixels.
DIGIT_SHAPE = (8, 8)


def random_patterns(N, d, rng=None):
    """N patterns of d independent random entries, −1 or +1 with probability ½ each:
    (N, d) float64."""
    N, d = check_positive_int("N", N), check_positive_int("d", d)
    return as_generator(rng).choice([-1.0, 1.0], size=(N, d))


def binarised_digits(threshold=8, low=-1.0):
    """scikit-learn's bundled digits as binary images: pixel values 0..16 become 1.0 where they
    are ≥ ``threshold`` and ``low`` (−1.0, or 0.0 for 0/1 units) elsewhere.

    Returns ``(images, labels)``: (1797, 64) float64 (rows are the 8×8 images read row by row)
    and (1797,) int.
    """
    from sklearn.datasets import load_digits

    threshold = check_number("threshold", threshold)
    if low not in (-1.0, 0.0):
        raise ValueError(f"low: expected -1.0 (±1 patterns) or 0.0 (0/1 units), got {low!r}")
    digits = load_digits()
    images = np.where(digits.data >= threshold, 1.0, float(low))
    return images, digits.target.astype(int)


def corrupt(patterns, fraction, rng=None):
    """A copy of the ±1 ``patterns`` (N, d) with ``round(fraction · d)`` entries of each row,
    chosen at random, flipped."""
    X = as_float_array("patterns", patterns, ndim=2)
    fraction = check_number("fraction", fraction, low=0, high=1)
    rng = as_generator(rng)
    out = X.copy()
    k = int(round(fraction * X.shape[1]))
    for row in out:
        flip = rng.choice(X.shape[1], size=k, replace=False)
        row[flip] = -row[flip]
    return out


def mask_half(patterns, shape=DIGIT_SHAPE, half="bottom", fill=-1.0):
    """A copy of image ``patterns`` (N, h·w) whose ``half`` (``"bottom"``, ``"top"``,
    ``"left"`` or ``"right"``) is set to ``fill`` (−1: background; 0: unknown)."""
    X = as_float_array("patterns", patterns, ndim=2)
    if isinstance(shape, (str, bytes)) or not hasattr(shape, "__len__") or len(shape) != 2:
        raise ValueError(f"shape: expected the image shape (h, w), got {shape!r}")
    h, w = (check_positive_int("shape", s) for s in shape)
    fill = check_number("fill", fill)
    if X.shape[1] != h * w:
        raise ValueError(f"patterns: expected {h * w} columns (images of shape {shape}), got "
                         f"shape {X.shape}")
    images = X.reshape(-1, h, w).copy()
    rows, columns = slice(None), slice(None)
    hidden = {"bottom": (slice(h // 2, None), columns), "top": (slice(None, h // 2), columns),
              "left": (rows, slice(None, w // 2)), "right": (rows, slice(w // 2, None))}
    if half not in hidden:
        raise ValueError(f"half: expected one of {sorted(hidden)}, got {half!r}")
    images[(slice(None),) + hidden[half]] = fill
    return images.reshape(len(X), h * w)


def motif_bags(n, bag_size=40, dim=8, witnesses=1, strength=2.5, rng=None):
    """Bags for multiple-instance learning: each of the ``n`` bags holds ``bag_size`` instances
    x ~ N(0, I) of size ``dim``; half the bags (chosen at random) are positive and have
    ``witnesses`` of their instances replaced by the motif, a fixed unit direction m scaled by
    ``strength``, plus N(0, I) noise. A bag's label is 1 when it holds the motif.

    Returns ``(bags, labels, planted, motif)``: (n, bag_size, dim), (n,) int, a (n, bag_size)
    bool array marking the planted instances, and m (dim,). Only ``witnesses/bag_size`` of a
    positive bag carries the signal: the mean of a bag hardly moves.
    """
    n, N, D = (check_positive_int(k, v) for k, v in (("n", n), ("bag_size", bag_size),
                                                      ("dim", dim)))
    witnesses = check_positive_int("witnesses", witnesses)
    strength = check_positive_number("strength", strength)
    if witnesses > N:
        raise ValueError(f"witnesses: expected at most bag_size={N}, got {witnesses}")
    rng = as_generator(rng)
    motif = rng.normal(size=D)
    motif /= np.linalg.norm(motif)
    bags = rng.normal(size=(n, N, D))
    labels = (rng.random(n) < 0.5).astype(int)
    planted = np.zeros((n, N), bool)
    for k in np.flatnonzero(labels):
        where = rng.choice(N, size=witnesses, replace=False)
        bags[k, where] = strength * motif + rng.normal(size=(witnesses, D))
        planted[k, where] = True
    return bags, labels, planted, motif


def order_bags(n, bag_size=20, dim=8, rng=None):
    """Bags whose label depends on order: every bag holds one instance of marker A and one of
    marker B (two fixed orthogonal unit directions, times 3, plus N(0, 0.5² I) noise) among
    N(0, I) instances; the label is 1 when A comes before B.

    Returns ``(bags, labels)``: (n, bag_size, dim) and (n,) int. A pooling that ignores order
    cannot beat chance here.
    """
    n, N, D = (check_positive_int(k, v) for k, v in (("n", n), ("bag_size", bag_size),
                                                      ("dim", dim)))
    if N < 2 or D < 2:
        raise ValueError(f"bag_size, dim: expected at least 2 each, got {N} and {D}")
    rng = as_generator(rng)
    a, b = np.eye(D)[0] * 3.0, np.eye(D)[1] * 3.0
    bags = rng.normal(size=(n, N, D))
    labels = np.zeros(n, int)
    for k in range(n):
        i, j = rng.choice(N, size=2, replace=False)
        bags[k, i] = a + 0.5 * rng.normal(size=D)
        bags[k, j] = b + 0.5 * rng.normal(size=D)
        labels[k] = int(i < j)
    return bags, labels


def balance_bags(n, length=20, rng=None):
    """Sequences of ``length`` steps, each an opening (+1) or a closing (−1) step written as the
    one-hot pair (1, 0) or (0, 1), with equally many of each; the label is 1 when the running
    count never drops below zero (the brackets are balanced). Half of the sequences are
    balanced, half are shuffles that are not.

    Returns ``(bags, labels)``: (n, length, 2) and (n,) int. The label needs the whole prefix
    sum, a count carried along the sequence.
    """
    n, T = check_positive_int("n", n), check_positive_int("length", length)
    if T % 2:
        raise ValueError(f"length: expected an even number (as many openings as closings), "
                         f"got {T}")
    rng = as_generator(rng)
    steps = np.zeros((n, T), int)
    labels = (rng.random(n) < 0.5).astype(int)
    for k in range(n):
        while True:        # a random order is balanced with probability 1/(T/2 + 1)
            s = rng.permutation(np.repeat([1, -1], T // 2))
            if (np.cumsum(s).min() >= 0) == bool(labels[k]):
                break
        steps[k] = s
    bags = np.stack([(steps == 1), (steps == -1)], axis=-1).astype(float)
    return bags, labels


def check_image_batch(images, shape=DIGIT_SHAPE):
    """``images`` as a float array (n, h·w) after checking its width; for the plots.
    Float arrays are returned as they are, not copies.
    """
    X = as_float_array("images", images)
    if X.ndim == 1:
        X = X[None]
    if X.ndim != 2 or X.shape[1] != shape[0] * shape[1]:
        raise ValueError(f"images: expected shape (n, {shape[0] * shape[1]}), got {describe(X)}")
    return X


__all__ = ["DIGIT_SHAPE", "balance_bags", "binarised_digits", "check_image_batch", "corrupt",
           "mask_half", "motif_bags", "order_bags", "random_patterns"]
