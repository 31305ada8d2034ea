"""Gradient clipping and the two optimisers the NumPy models use: plain SGD and Adagrad.

Parameters and gradients are dicts ``name -> array`` with the same keys and shapes (what every
backward in ``seqlearn.numpy`` returns). The optimisers update the parameter arrays in place.

Clipping (Pascanu, Mikolov & Bengio, 2013) guards against exploding gradients:

* by value: every entry is clamped to ``[-c, c]`` (it changes the direction of the gradient);
* by norm: when the global norm ``‖g‖ = sqrt(Σ_p Σ_i g_{p,i}²)`` exceeds ``c``, every gradient
  is multiplied by ``c / ‖g‖`` (it keeps the direction).
"""

import numpy as np

from ..validate import check_positive_number


def _check_grads(grads, name="grads"):
    # Non-finite entries are let through on purpose: a training loop reports them as a
    # non-finite loss (``check_finite_loss``), with the advice to lower the rate or clip.
    if not isinstance(grads, dict) or not grads:
        raise TypeError(
            f"{name}: expected a non-empty dict name -> array, got {type(grads).__name__}")
    out = {}
    for key, value in grads.items():
        arr = np.asarray(value)
        if not np.issubdtype(arr.dtype, np.floating):
            raise TypeError(f"{name}[{key!r}]: expected a float array, got dtype {arr.dtype}")
        out[key] = arr
    return out


def global_norm(grads):
    """‖g‖ = sqrt(Σ_p ‖g_p‖²): the Euclidean norm of all the gradient arrays together (a float)."""
    grads = _check_grads(grads)
    return float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))


def clip_by_value(grads, threshold):
    """Clamp every gradient entry to [−threshold, threshold]; returns a new dict like ``grads``."""
    grads = _check_grads(grads)
    threshold = check_positive_number("threshold", threshold)
    return {key: np.clip(g, -threshold, threshold) for key, g in grads.items()}


def clip_by_norm(grads, max_norm):
    """Rescale all gradients together so that their global norm is at most ``max_norm``.

    g ← g · min(1, max_norm / ‖g‖). Returns ``(clipped, norm)``: a new dict like ``grads`` and the
    global norm before clipping (worth logging: its spikes are the exploding gradients).
    """
    grads = _check_grads(grads)
    max_norm = check_positive_number("max_norm", max_norm)
    norm = global_norm(grads)
    scale = min(1.0, max_norm / norm) if norm > 0 else 1.0
    return {key: g * scale for key, g in grads.items()}, norm


def _check_pair(params, grads):
    if not isinstance(params, dict):
        raise TypeError(f"params: expected a dict name -> array, got {type(params).__name__}")
    grads = _check_grads(grads)
    if set(params) != set(grads):
        raise ValueError(
            f"grads: expected the keys of params {sorted(params)}, got {sorted(grads)}"
        )
    for key, g in grads.items():
        if np.shape(params[key]) != g.shape:
            raise ValueError(
                f"grads[{key!r}]: expected shape {np.shape(params[key])} (as params), got {g.shape}"
            )
    return grads


class SGD:
    """Plain gradient descent: θ ← θ − lr · g."""

    def __init__(self, lr=0.1):
        self.lr = check_positive_number("lr", lr)

    def step(self, params, grads):
        """Update the arrays of ``params`` in place with ``grads`` (a dict with the same keys and
        shapes)."""
        grads = _check_pair(params, grads)
        for key, g in grads.items():
            params[key] -= self.lr * g


class Adagrad:
    """Adagrad (Duchi, Hazan & Singer, 2011): a per-entry step size that shrinks with the sum of
    that entry's squared gradients::

        m ← m + g²
        θ ← θ − lr · g / sqrt(m + eps)

    The memories ``m`` start at zero and are kept in ``self.memory`` (a dict like the params).
    """

    def __init__(self, lr=0.1, eps=1e-8):
        self.lr = check_positive_number("lr", lr)
        self.eps = check_positive_number("eps", eps)
        self.memory = {}

    def step(self, params, grads):
        """Update the arrays of ``params`` in place with ``grads`` (a dict with the same keys and
        shapes)."""
        grads = _check_pair(params, grads)
        for key, g in grads.items():
            m = self.memory.setdefault(key, np.zeros_like(g))
            m += g * g
            params[key] -= self.lr * g / np.sqrt(m + self.eps)


__all__ = ["Adagrad", "SGD", "clip_by_norm", "clip_by_value", "global_norm"]
