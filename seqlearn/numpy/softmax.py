"""Softmax outputs and the cross-entropy loss, with its gradient.

    ŷ_k = exp(o_k) / Σ_j exp(o_j)                          logits o (..., V), probabilities ŷ
    L = −(1/N) Σ_n log ŷ_{n, y_n}                          targets y (...), N positions
    ∂L/∂o_n = (ŷ_n − onehot(y_n)) / N
"""

import numpy as np

from ..validate import as_float_array


def softmax(logits, axis=-1):
    """ŷ_k = exp(o_k) / Σ_j exp(o_j) along ``axis`` (same shape as ``logits``), computed after
    subtracting the maximum so that exp never overflows."""
    logits = as_float_array("logits", logits)
    shifted = logits - logits.max(axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(logits, axis=-1):
    """log ŷ along ``axis`` (same shape as ``logits``), computed stably as
    o − max o − log Σ exp(o − max o)."""
    logits = as_float_array("logits", logits)
    shifted = logits - logits.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax_cross_entropy(logits, targets):
    """Mean cross-entropy −(1/N) Σ_n log ŷ_{n, y_n} over all positions, and its gradient.

    Parameters
    ----------
    logits : (..., V) float array of unnormalised scores o
    targets : (...) int array of class indices y in [0, V)

    Returns
    -------
    loss : float, in nats per position
    dlogits : (..., V), ∂loss/∂o = (ŷ − onehot(y)) / N
    """
    logits = as_float_array("logits", logits)
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
