"""Finite-difference gradient checks for the NumPy reference implementations."""

import numpy as np


def numerical_gradient(f, x, eps=1e-6):
    """Central-difference gradient of the scalar function ``f()`` with respect to array ``x``.

    ``x`` is perturbed in place, entry by entry: (f(x + eps e_i) - f(x - eps e_i)) / (2 eps).
    Returns an array shaped like ``x``.
    """
    grad = np.zeros_like(x, dtype=float)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    for _ in it:
        i = it.multi_index
        original = x[i]
        x[i] = original + eps
        plus = f()
        x[i] = original - eps
        minus = f()
        x[i] = original
        grad[i] = (plus - minus) / (2 * eps)
    return grad


def relative_error(a, b):
    """``max |a - b| / max(|a| + |b|, tiny)``: the figure the course's gradient checks report."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(a) + np.abs(b)), 1e-300))


def check_gradients(loss_fn, params, analytic, eps=1e-6):
    """Relative error of each analytic gradient against finite differences.

    ``loss_fn()`` computes the scalar loss from the arrays in ``params`` (a dict name -> array,
    perturbed in place); ``analytic`` maps the same names to the hand-derived gradients.
    Returns a dict name -> relative error.
    """
    missing = set(params) - set(analytic)
    if missing:
        raise ValueError(f"analytic: no gradient given for {sorted(missing)}")
    return {
        name: relative_error(numerical_gradient(loss_fn, params[name], eps), analytic[name])
        for name in params
    }


__all__ = ["numerical_gradient", "relative_error", "check_gradients"]
