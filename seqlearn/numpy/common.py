"""Helpers shared by the modules of ``seqlearn.numpy``: the padding convention and parameter
checks. Public, so that no module reaches into another's private names.

**Padding.** A batch of sequences of different lengths is padded to a common length T and comes
with ``lengths`` (B,), integers in 1..T: step t of sequence b is real when t < lengths[b]. Every
function of the package that accepts padded batches takes ``lengths``; :func:`padding_mask` turns
them into the (B, T) boolean mask that attention needs.
"""

import numpy as np

from ..validate import check_positive_int, describe


def padding_mask(lengths, T):
    """(B, T) boolean mask, ``True`` for the real tokens t < lengths[b] of each sequence.

    ``lengths`` (B,) are integers in 1..T. Use it as ``mask`` of attention pooling and additive
    attention, or as ``mask[:, None, None, :]`` (B, 1, 1, T) for multi-head attention.
    """
    T = check_positive_int("T", T)
    lengths = np.asarray(lengths)
    if lengths.ndim != 1 or lengths.size == 0:
        raise ValueError(
            f"lengths: expected a non-empty 1-D array of ints (B,), got {describe(lengths)}")
    if not np.issubdtype(lengths.dtype, np.integer):
        raise TypeError(f"lengths: expected integers, got dtype {lengths.dtype}")
    if lengths.min() < 1 or lengths.max() > T:
        raise ValueError(
            f"lengths: expected values in 1..{T} (T={T}), got {lengths.min()}..{lengths.max()}")
    return np.arange(T)[None, :] < lengths[:, None]


def check_param_dict(params, keys):
    """Raise unless ``params`` is a dict holding every name in ``keys``."""
    if not isinstance(params, dict):
        raise TypeError(
            f"params: expected a dict with {', '.join(keys)}, got {type(params).__name__}")
    for key in keys:
        if key not in params:
            raise ValueError(f"params: missing '{key}' (expected keys {', '.join(keys)})")


__all__ = ["check_param_dict", "padding_mask"]
