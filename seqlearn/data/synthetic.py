"""Seeded toy classification sets in two dimensions: linearly separable points and XOR."""

import numpy as np

from ..validate import as_generator, check_positive_int


def _check_nonnegative(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: expected a non-negative number, got {value!r}")
    if not (np.isfinite(value) and value >= 0):
        raise ValueError(f"{name}: expected a finite non-negative number, got {value!r}")
    return float(value)


def make_separable_2d(n=100, rng=0, margin=0.1):
    """``n`` points in the square [−1, 1]² split by a random line, none closer to it than ``margin``.

    A unit normal u (random angle) and an offset c ∈ [−0.3, 0.3] define the line x·u = c; points
    are drawn uniformly, those with ``|x·u − c| < margin`` are rejected, and the label is
    t = sign(x·u − c). Both classes get at least one point.

    Parameters
    ----------
    n : int ≥ 2, number of points
    rng : ``numpy.random.Generator`` or int seed (the same seed gives the same data)
    margin : float in [0, 0.5], half the width of the empty band around the line

    Returns
    -------
    x : (n, 2) float64 points
    t : (n,) int64 labels in {−1, +1}
    """
    n = check_positive_int("n", n)
    if n < 2:
        raise ValueError(f"n: expected at least 2 points (one per class), got {n}")
    margin = _check_nonnegative("margin", margin)
    if margin > 0.5:
        raise ValueError(f"margin: expected a number in [0, 0.5], got {margin}")
    rng = as_generator(rng)
    angle = rng.uniform(0, 2 * np.pi)
    u = np.array([np.cos(angle), np.sin(angle)])
    c = rng.uniform(-0.3, 0.3)
    points = np.empty((0, 2))
    for _ in range(1000):
        candidates = rng.uniform(-1, 1, size=(4 * n, 2))
        keep = np.abs(candidates @ u - c) >= max(margin, 1e-12)
        points = np.concatenate([points, candidates[keep]])
        labels = np.where(points @ u - c > 0, 1, -1).astype(np.int64)
        if len(points) < n:
            continue
        if len(np.unique(labels[:n])) == 2:
            return points[:n], labels[:n]
        # one class only among the first n (possible for tiny n): swap in one of the other
        other = np.flatnonzero(labels != labels[0])
        if len(other):
            index = np.concatenate([np.arange(n - 1), other[:1]])
            return points[index], labels[index]
    raise RuntimeError("make_separable_2d: failed to sample both classes")  # |c| ≤ 0.3: never


def make_xor(n_per_corner=1, noise=0.0, rng=0):
    """The XOR problem: the corners (0,0), (0,1), (1,0), (1,1) labelled −1, +1, +1, −1.

    With ``n_per_corner`` > 1 or ``noise`` > 0 each corner contributes ``n_per_corner`` points
    with Gaussian jitter of standard deviation ``noise``. No line separates the two classes
    (Minsky & Papert 1969).

    Returns
    -------
    x : (4 * n_per_corner, 2) float64 points
    t : (4 * n_per_corner,) int64 labels in {−1, +1}
    """
    n_per_corner = check_positive_int("n_per_corner", n_per_corner)
    noise = _check_nonnegative("noise", noise)
    rng = as_generator(rng)
    corners = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    labels = np.array([-1, 1, 1, -1], dtype=np.int64)
    x = np.repeat(corners, n_per_corner, axis=0)
    if noise > 0:
        x = x + noise * rng.standard_normal(x.shape)
    return x, np.repeat(labels, n_per_corner)


__all__ = ["make_separable_2d", "make_xor"]
