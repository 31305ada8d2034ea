"""Helpers shared by the modules of ``seqlearn.numpy``: the padding convention, attention masks,
parameter checks and the checks of the recurrent forward passes. Public, so that no module reaches
into another's private names.

**Padding.** A batch of sequences of different lengths is padded to a common length T and comes
with ``lengths`` (B,), integers in 1..T: step t of sequence b is real when t < lengths[b]. Every
function of the package that accepts padded batches takes ``lengths``; :func:`padding_mask` turns
them into the (B, T) boolean mask that attention needs.
"""

import numpy as np

from ..validate import as_float_array, check_positive_int, describe


def padding_mask(lengths, T, batch_size=None):
    """(B, T) boolean mask, ``True`` for the real tokens t < lengths[b] of each sequence.

    ``lengths`` (B,) are integers in 1..T; with ``batch_size`` B must equal it. Use the mask as
    ``mask`` of attention pooling and additive attention, or as ``mask[:, None, None, :]``
    (B, 1, 1, T) for multi-head attention.
    """
    T = check_positive_int("T", T)
    if batch_size is not None:
        batch_size = check_positive_int("batch_size", batch_size)
    lengths = np.asarray(lengths)
    if lengths.ndim != 1 or lengths.size == 0:
        raise ValueError(
            f"lengths: expected a non-empty 1-D array of ints (B,), got {describe(lengths)}")
    if batch_size is not None and lengths.shape[0] != batch_size:
        raise ValueError(f"lengths: expected shape ({batch_size},), one length per sequence of "
                         f"the batch, got {describe(lengths)}")
    if not np.issubdtype(lengths.dtype, np.integer):
        raise TypeError(f"lengths: expected integers, got dtype {lengths.dtype}")
    if lengths.min() < 1 or lengths.max() > T:
        raise ValueError(
            f"lengths: expected values in 1..{T} (T={T}), got {lengths.min()}..{lengths.max()}")
    return np.arange(T)[None, :] < lengths[:, None]


def check_param_dict(params, keys):
    """Raise unless ``params`` is a dict holding every name in ``keys`` (a tuple or list)."""
    if isinstance(keys, str) or not isinstance(keys, (tuple, list)):
        raise TypeError(f"keys: expected a tuple of parameter names, got {describe(keys)}")
    if not isinstance(params, dict):
        raise TypeError(
            f"params: expected a dict with {', '.join(keys)}, got {type(params).__name__}")
    for key in keys:
        if key not in params:
            raise ValueError(f"params: missing '{key}' (expected keys {', '.join(keys)})")


def check_mask(mask, shape, name="mask"):
    """Check a boolean attention mask (True = may attend) that must broadcast to ``shape``
    (..., Tq, Tk); return it as a bool array, not broadcast (``None`` stays ``None``).

    Raises ``TypeError`` for a mask that is not a bool NumPy array and ``ValueError`` when it does
    not broadcast or when some query may attend to no key (its softmax would be 0/0).
    """
    if mask is None:
        return None
    if not isinstance(mask, np.ndarray) and hasattr(mask, "shape") and hasattr(mask, "dtype"):
        raise TypeError(f"{name}: expected a NumPy bool array, got {describe(mask)}")
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise TypeError(
            f"{name}: expected a bool array (True = may attend), got dtype {mask.dtype}")
    if isinstance(shape, str) or not all(isinstance(s, (int, np.integer)) for s in shape):
        raise TypeError(f"shape: expected a tuple of ints (..., Tq, Tk), got {describe(shape)}")
    shape = tuple(shape)
    try:
        broadcast = np.broadcast_shapes(mask.shape, shape)
    except ValueError:
        broadcast = None
    if broadcast != shape:
        raise ValueError(
            f"{name}: expected a shape broadcastable to {shape}, got shape {mask.shape}")
    # Every row of the broadcast mask is a broadcast of one row of ``mask``.
    if mask.size and not mask.any(axis=-1).all():
        raise ValueError(f"{name}: found a row with no key to attend to (all False); every "
                         f"query needs at least one allowed key")
    return mask


def initial_state(name, state, B, H, dtype):
    """An initial recurrent state (B, H) of the float ``dtype``: zeros when ``state`` is ``None``,
    else a copy of ``state`` checked (``name`` is the argument's name in messages)."""
    B, H = check_positive_int("B", B), check_positive_int("H", H)
    if not np.issubdtype(np.dtype(dtype), np.floating):
        raise TypeError(f"dtype: expected a floating-point dtype, got {dtype!r}")
    if state is None:
        return np.zeros((B, H), dtype)
    return np.array(as_float_array(name, state, shape=(B, H)), dtype=dtype)


def prepare_sequence(x, input_size, params, lengths):
    """The checks a recurrent ``*_forward`` starts with, once for the whole sequence: ``x``
    (B, T, input_size), the (already checked) ``params`` converted to the dtype of ``x``, and the
    (B, T) mask of the real steps from ``lengths`` (all ``True`` when ``lengths`` is ``None``).

    Returns ``(x, params, real)``; ``x`` and the arrays of ``params`` are returned themselves, not
    copies, when they are already float arrays of that dtype (the forward passes only read them).
    """
    input_size = check_positive_int("input_size", input_size)
    if not isinstance(params, dict):
        raise TypeError(f"params: expected a dict of arrays, got {describe(params)}")
    x = as_float_array("x", x, shape=(None, None, input_size))
    B, T, _ = x.shape
    params = {name: p.astype(x.dtype, copy=False) for name, p in params.items()}
    real = np.ones((B, T), bool) if lengths is None else padding_mask(lengths, T, batch_size=B)
    return x, params, real


def check_step_shapes(x_t, input_size, hidden_size, **states):
    """Raise ``ValueError`` unless ``x_t`` is (B, input_size) and every state given by name (e.g.
    ``h_prev=h_prev``) is (B, hidden_size). Shapes only: the step functions of the recurrent
    modules run it at every step, after their ``*_forward`` has checked the values once."""
    if not isinstance(x_t, np.ndarray) or x_t.ndim != 2 or x_t.shape[1] != input_size:
        raise ValueError(f"x_t: expected shape (B, {input_size}), got {describe(x_t)}")
    for name, state in states.items():
        if not isinstance(state, np.ndarray) or state.shape != (x_t.shape[0], hidden_size):
            raise ValueError(f"{name}: expected shape ({x_t.shape[0]}, {hidden_size}) (the batch "
                             f"of x_t, hidden), got {describe(state)}")


__all__ = ["check_mask", "check_param_dict", "check_step_shapes", "initial_state",
           "padding_mask", "prepare_sequence"]
