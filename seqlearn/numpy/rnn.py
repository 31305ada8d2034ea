"""The Elman RNN: forward over a sequence and backpropagation through time (BPTT).

Row-vector, batch-first convention (the notation table of the introduction)::

    a_t = x_t W_xh + h_{t-1} W_hh + b_h          x_t (B, D), h_t (B, H)
    h_t = tanh(a_t)                              W_xh (D, H), W_hh (H, H), b_h (H,)

``torch.nn.RNN`` stores the transposes (``weight_ih_l0 = W_xhᵀ``, ``weight_hh_l0 = W_hhᵀ``) and
two biases whose sum is ``b_h``.
"""

import numpy as np

from ..validate import as_float_array


def init_rnn_params(input_size, hidden_size, rng=None, scale=None):
    """Parameters ``W_xh`` (D, H), ``W_hh`` (H, H), ``b_h`` (H,) drawn from U(-s, s), s = 1/sqrt(H)
    (the initialisation of ``nn.RNN``) unless ``scale`` is given."""
    rng = np.random.default_rng() if rng is None else rng
    s = 1.0 / np.sqrt(hidden_size) if scale is None else scale
    return {
        "W_xh": rng.uniform(-s, s, size=(input_size, hidden_size)),
        "W_hh": rng.uniform(-s, s, size=(hidden_size, hidden_size)),
        "b_h": rng.uniform(-s, s, size=hidden_size),
    }


def _check_params(params):
    for key in ("W_xh", "W_hh", "b_h"):
        if key not in params:
            raise ValueError(f"params: missing '{key}' (expected keys W_xh, W_hh, b_h)")
    W_hh = as_float_array("params['W_hh']", params["W_hh"], ndim=2)
    H = W_hh.shape[0]
    if W_hh.shape != (H, H):
        raise ValueError(f"params['W_hh']: expected a square (H, H) matrix, got shape {W_hh.shape}")
    W_xh = as_float_array("params['W_xh']", params["W_xh"], shape=(None, H))
    b_h = as_float_array("params['b_h']", params["b_h"], shape=(H,))
    return W_xh, W_hh, b_h


def rnn_forward(x, h0, params):
    """Run the RNN over a batch of sequences.

    Parameters
    ----------
    x : (B, T, D) inputs
    h0 : (B, H) initial state, or ``None`` for zeros
    params : dict with ``W_xh`` (D, H), ``W_hh`` (H, H), ``b_h`` (H,)

    Returns
    -------
    h : (B, T, H), the states h_1 .. h_T
    cache : what :func:`rnn_backward` needs

    The computation keeps the dtype of ``x`` (float64 by default; float32 runs faster).
    """
    W_xh, W_hh, b_h = _check_params(params)
    D, H = W_xh.shape
    x = as_float_array("x", x, shape=(None, None, D))
    B, T, _ = x.shape
    dtype = x.dtype
    W_xh, W_hh, b_h = W_xh.astype(dtype, copy=False), W_hh.astype(dtype, copy=False), b_h.astype(dtype, copy=False)
    h_init = np.zeros((B, H), dtype) if h0 is None else as_float_array("h0", h0, shape=(B, H)).astype(dtype, copy=False)
    # Time-major buffers keep each step's (B, H) block contiguous. The input projections of all
    # steps do not depend on the recurrence, so they are one matrix product before the loop.
    a = (x.transpose(1, 0, 2).reshape(T * B, D) @ W_xh + b_h).reshape(T, B, H)
    h_tm = np.empty((T, B, H), dtype)
    h_prev = h_init
    for t in range(T):
        a[t] += h_prev @ W_hh
        h_prev = np.tanh(a[t], out=h_tm[t])
    h = h_tm.transpose(1, 0, 2)
    return h, (x, h_init, h, W_xh, W_hh)


def rnn_backward(dh, cache):
    """Backpropagation through time.

    Given ∂L/∂h_t for every step (``dh``, shape (B, T, H): the gradient arriving from the outputs
    at each step), run the recursion backwards from t = T::

        δ_t = (dh_t + δ_{t+1} W_hhᵀ) ⊙ (1 − h_t²)       (δ_t = ∂L/∂a_t)

    and sum the parameter gradients over time: ∂L/∂W_xh = Σ x_tᵀ δ_t, ∂L/∂W_hh = Σ h_{t-1}ᵀ δ_t,
    ∂L/∂b_h = Σ δ_t.

    Returns ``grads`` (dict like ``params``), ``dx`` (B, T, D) and ``dh0`` = δ_1 W_hhᵀ (B, H).
    """
    x, h_init, h, W_xh, W_hh = cache
    h_tm = h.transpose(1, 0, 2)  # back to the time-major buffer of the forward pass
    T, B, H = h_tm.shape
    D = x.shape[2]
    dh = as_float_array("dh", dh, shape=(B, T, H))
    delta = dh.transpose(1, 0, 2).astype(h_tm.dtype)  # a time-major copy, overwritten by δ_t
    delta *= 1.0 - h_tm * h_tm
    W_hh_T = np.ascontiguousarray(W_hh.T)
    carry = np.zeros((B, H), h_tm.dtype)
    for t in reversed(range(T)):
        if t < T - 1:
            # The recurrent part of δ_t: what δ_{t+1} sends back through W_hh, times tanh'.
            delta[t] += carry * (1.0 - h_tm[t] * h_tm[t])
        carry = delta[t] @ W_hh_T
    delta_2d = delta.reshape(T * B, H)
    h_prev = np.concatenate([h_init[None], h_tm[:-1]], axis=0).reshape(T * B, H)
    x_tm = x.transpose(1, 0, 2).reshape(T * B, D)
    grads = {
        "W_xh": x_tm.T @ delta_2d,
        "W_hh": h_prev.T @ delta_2d,
        "b_h": delta_2d.sum(axis=0),
    }
    dx = (delta_2d @ W_xh.T).reshape(T, B, D).transpose(1, 0, 2)
    return grads, dx, carry
