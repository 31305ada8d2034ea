"""The Elman RNN: forward over a sequence and backpropagation through time (BPTT).

Row-vector, batch-first convention (the notation table of the introduction)::

    a_t = x_t W_xh + h_{t-1} W_hh + b_h          x_t (B, D), h_t (B, H)
    h_t = tanh(a_t)                              W_xh (D, H), W_hh (H, H), b_h (H,)

``torch.nn.RNN`` stores the transposes (``weight_ih_l0 = W_xhᵀ``, ``weight_hh_l0 = W_hhᵀ``) and
two biases whose sum is ``b_h``.
"""

import numpy as np

from .._validate import as_float_array


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
    """
    W_xh, W_hh, b_h = _check_params(params)
    D, H = W_xh.shape
    x = as_float_array("x", x, shape=(None, None, D))
    B, T, _ = x.shape
    h_prev = np.zeros((B, H)) if h0 is None else as_float_array("h0", h0, shape=(B, H))
    h = np.empty((B, T, H))
    # The input projections of all steps do not depend on the recurrence: one matrix product.
    xw = x @ W_xh + b_h
    h_init = h_prev
    for t in range(T):
        h_prev = np.tanh(xw[:, t] + h_prev @ W_hh)
        h[:, t] = h_prev
    return h, (x, h_init, h, W_xh, W_hh)


def rnn_backward(dh, cache):
    """Backpropagation through time.

    Given ∂L/∂h_t for every step (``dh``, shape (B, T, H): the gradient arriving from the outputs
    at each step), run the recursion backwards from t = T::

        δ_t = (dh_t + δ_{t+1}^→) ⊙ (1 − h_t²)       (∂L/∂a_t)
        δ_t^→ = δ_t W_hhᵀ                            (what flows on to h_{t-1})

    and sum the parameter gradients over time: ∂L/∂W_xh = Σ x_tᵀ δ_t, ∂L/∂W_hh = Σ h_{t-1}ᵀ δ_t,
    ∂L/∂b_h = Σ δ_t.

    Returns ``grads`` (dict like ``params``), ``dx`` (B, T, D) and ``dh0`` (B, H).
    """
    x, h_init, h, W_xh, W_hh = cache
    dh = as_float_array("dh", dh, shape=h.shape)
    B, T, H = h.shape
    da = np.empty_like(h)
    carry = np.zeros((B, H))
    for t in reversed(range(T)):
        da[:, t] = (dh[:, t] + carry) * (1.0 - h[:, t] ** 2)
        carry = da[:, t] @ W_hh.T
    h_prev = np.concatenate([h_init[:, None], h[:, :-1]], axis=1)
    grads = {
        "W_xh": np.einsum("btd,bth->dh", x, da),
        "W_hh": np.einsum("bti,btj->ij", h_prev, da),
        "b_h": da.sum(axis=(0, 1)),
    }
    dx = da @ W_xh.T
    return grads, dx, carry
