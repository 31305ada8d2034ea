"""Softmax outputs and the cross-entropy loss, with its gradient.

    ŷ_k = exp(z_k) / Σ_j exp(z_j)             logits z (..., V), probabilities ŷ
    L = −(1/P) Σ_p log ŷ_{p, y_p}             targets y (...), P = targets.size positions
    ∂L/∂z_p = (ŷ_p − onehot(y_p)) / P

For logits z (B, T, V) of unpadded sequences this is the course's loss L, the mean of the per-step
losses ℓ_t = −log ŷ_{t, y_t} in nats per step; for a padded batch pass the real steps only,
``softmax_cross_entropy(z[mask], y[mask])``, and P is the number of real steps Σ_b T_b.
"""

import numpy as np

from ..validate import as_float_array, describe


def _check_axis(logits, axis):
    """``logits`` as a float array of at least one dimension, and ``axis`` an int axis of it."""
    logits = as_float_array("logits", logits)
    if logits.ndim == 0:
        raise ValueError(f"logits: expected at least one dimension (the classes), got "
                         f"{describe(logits)}")
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) \
            or not -logits.ndim <= axis < logits.ndim:
        raise ValueError(f"axis: expected an int axis of logits (shape {logits.shape}), "
                         f"got {axis!r}")
    return logits


def softmax(logits, axis=-1):
    """ŷ_k = exp(z_k) / Σ_j exp(z_j) along ``axis`` (same shape as ``logits``), computed after
    subtracting the maximum so that exp never overflows."""
    logits = _check_axis(logits, axis)
    shifted = logits - logits.max(axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(logits, axis=-1):
    """log ŷ along ``axis`` (same shape as ``logits``), computed stably as
    z − max z − log Σ exp(z − max z)."""
    logits = _check_axis(logits, axis)
    shifted = logits - logits.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax_cross_entropy(logits, targets):
    """Mean cross-entropy L = −(1/P) Σ_p log ŷ_{p, y_p} over all P positions, and its gradient.

    Parameters
    ----------
    logits : (..., V) float array of unnormalised scores z
    targets : (...) int array of class indices y in [0, V)

    Returns
    -------
    loss : float, in nats per position
    dlogits : (..., V), ∂L/∂z = (ŷ − onehot(y)) / P
    """
    logits = _check_axis(logits, -1)
    targets = np.asarray(targets)
    if not np.issubdtype(targets.dtype, np.integer):
        raise TypeError(f"targets: expected an integer array of class indices, got {targets.dtype}")
    if targets.shape != logits.shape[:-1]:
        raise ValueError(
            f"targets: expected shape {logits.shape[:-1]} (logits without its last axis), "
            f"got {targets.shape}"
        )
    V = logits.shape[-1]
    if targets.size and (targets.min() < 0 or targets.max() >= V):
        raise ValueError(
            f"targets: class indices must lie in [0, {V}), got {targets.min()}..{targets.max()}")
    logp = log_softmax(logits)
    index = targets[..., None]
    picked = np.take_along_axis(logp, index, axis=-1)[..., 0]
    n = targets.size
    dlogits = np.exp(logp)
    np.put_along_axis(dlogits, index, np.take_along_axis(dlogits, index, -1) - 1, -1)
    return float(-picked.sum() / n), dlogits / n


__all__ = ["log_softmax", "softmax", "softmax_cross_entropy"]
