"""The gated recurrent unit (GRU): forward over a sequence and backpropagation through time.

Row-vector, batch-first convention, gates in the order of ``torch.nn.GRU`` (r, u, n), two biases
as in torch (the reset gate multiplies ``h W_hn + b_hn``, so the two biases of n do not merge)::

    [a_r | a_u | a_n] = x_t W_x + b_x             x_t (B, D), h_t (B, H)
    [s_r | s_u | s_n] = h_{t-1} W_h + b_h         W_x (D, 3H), W_h (H, 3H), b_x, b_h (3H,)
    r_t = σ(a_r + s_r)                reset gate
    u_t = σ(a_u + s_u)                update gate (torch calls it z)
    n_t = tanh(a_n + r_t ⊙ s_n)       candidate state
    h_t = (1 − u_t) ⊙ n_t + u_t ⊙ h_{t-1}

This is the GRU of Cho et al. (2014) with the roles of u and 1 − u swapped (as in torch and
cuDNN) and the reset gate applied after the recurrent product. Two settings of the gates show what
they do:

* u = 0, r = 1: h_t = tanh(x_t W_xn + b_xn + h_{t-1} W_hn + b_hn), a vanilla (Elman) RNN;
* u = 1: h_t = h_{t-1}, the state is copied unchanged — the GRU's version of the LSTM's
  constant-error carousel, through which gradients pass without decay.

:func:`gru_step_with_gates` computes a step with the gates forced to chosen values, to see both.
``torch.nn.GRU`` stores the transposes: ``weight_ih_l0 = W_xᵀ``, ``weight_hh_l0 = W_hᵀ``,
``bias_ih_l0 = b_x``, ``bias_hh_l0 = b_h``.
"""

import numpy as np

from ..validate import as_float_array
from .lstm import _check_mask, _check_state, _sigmoid_

GATES = ("r", "u", "n")


def init_gru_params(input_size, hidden_size, rng=None):
    """Parameters ``W_x`` (D, 3H), ``W_h`` (H, 3H), ``b_x``, ``b_h`` (3H,), every entry from
    U(-1/√H, 1/√H) (the initialisation of ``nn.GRU``)."""
    rng = np.random.default_rng() if rng is None else rng
    D, H = input_size, hidden_size
    s = 1.0 / np.sqrt(H)
    return {
        "W_x": rng.uniform(-s, s, size=(D, 3 * H)),
        "W_h": rng.uniform(-s, s, size=(H, 3 * H)),
        "b_x": rng.uniform(-s, s, size=3 * H),
        "b_h": rng.uniform(-s, s, size=3 * H),
    }


def _check_params(params):
    if not isinstance(params, dict):
        raise TypeError(
            f"params: expected a dict with W_x, W_h, b_x, b_h, got {type(params).__name__}")
    for key in ("W_x", "W_h", "b_x", "b_h"):
        if key not in params:
            raise ValueError(f"params: missing '{key}' (expected keys W_x, W_h, b_x, b_h)")
    W_h = as_float_array("params['W_h']", params["W_h"], ndim=2)
    H = W_h.shape[0]
    if W_h.shape != (H, 3 * H):
        raise ValueError(f"params['W_h']: expected shape (H, 3H), got shape {W_h.shape}")
    W_x = as_float_array("params['W_x']", params["W_x"], shape=(None, 3 * H))
    b_x = as_float_array("params['b_x']", params["b_x"], shape=(3 * H,))
    b_h = as_float_array("params['b_h']", params["b_h"], shape=(3 * H,))
    return W_x, W_h, b_x, b_h


def gru_step(x_t, h_prev, params):
    """One step of the cell: h_t (B, H) from ``x_t`` (B, D) and ``h_prev`` (B, H)."""
    x_t = as_float_array("x_t", x_t, ndim=2)
    h, _ = gru_forward(x_t[:, None, :], h_prev, params)
    return h[:, 0]


def gru_step_with_gates(x_t, h_prev, params, r=None, u=None):
    """One GRU step with the reset gate and/or the update gate forced to given values.

    ``r`` and ``u`` are ``None`` (computed as usual) or numbers/arrays broadcastable to (B, H).
    ``r=1, u=0`` turns the cell into a vanilla RNN,
    h_t = tanh(x_t W_xn + b_xn + h_{t-1} W_hn + b_hn); ``u=1`` copies the state, h_t = h_{t-1}.
    """
    W_x, W_h, b_x, b_h = _check_params(params)
    D, H3 = W_x.shape
    H = H3 // 3
    x_t = as_float_array("x_t", x_t, shape=(None, D))
    h_prev = as_float_array("h_prev", h_prev, shape=(x_t.shape[0], H))
    a = x_t @ W_x + b_x
    s = h_prev @ W_h + b_h
    r = _sigmoid_(a[:, :H] + s[:, :H]) if r is None else np.broadcast_to(
        as_float_array("r", r, allow_empty=True), h_prev.shape)
    u = _sigmoid_(a[:, H:2 * H] + s[:, H:2 * H]) if u is None else np.broadcast_to(
        as_float_array("u", u, allow_empty=True), h_prev.shape)
    n = np.tanh(a[:, 2 * H:] + r * s[:, 2 * H:])
    return (1.0 - u) * n + u * h_prev


def gru_forward(x, h0, params, mask=None, return_gates=False):
    """Run the GRU over a batch of sequences.

    Parameters
    ----------
    x : (B, T, D) inputs
    h0 : (B, H) initial state, or ``None`` for zeros
    params : dict with ``W_x`` (D, 3H), ``W_h`` (H, 3H), ``b_x``, ``b_h`` (3H,)
    mask : optional (B, T) booleans or 0/1: where ``mask[b, t]`` is 0 the step is skipped and
        sequence b keeps its previous state (padding of variable-length batches)
    return_gates : also return a dict of the gate activations ``r``, ``u``, ``n`` (B, T, H)

    Returns
    -------
    h : (B, T, H), the states h_1 .. h_T
    cache : what :func:`gru_backward` needs
    gates : (only with ``return_gates``)

    The computation keeps the dtype of ``x`` (float64 by default; float32 runs faster).
    """
    W_x, W_h, b_x, b_h = _check_params(params)
    D, H3 = W_x.shape
    H = H3 // 3
    x = as_float_array("x", x, shape=(None, None, D))
    B, T, _ = x.shape
    dtype = x.dtype
    W_x, W_h, b_x, b_h = (a.astype(dtype, copy=False) for a in (W_x, W_h, b_x, b_h))
    h_init = _check_state("h0", h0, B, H, dtype)
    keep = None
    if mask is not None:
        keep = (~_check_mask(mask, B, T)).T[:, :, None].astype(dtype)
    # One product for the input projections of all steps; act is then overwritten, step by
    # step, with the gate activations [r | u | n].
    act = (x.transpose(1, 0, 2).reshape(T * B, D) @ W_x + b_x).reshape(T, B, 3 * H)
    s_n = np.empty((T, B, H), dtype)    # h_{t-1} W_hn + b_hn, which the reset gate scales
    h_tm = np.empty((T, B, H), dtype)
    h_prev = h_init
    for t in range(T):
        at = act[t]
        s = h_prev @ W_h
        s += b_h
        ru = at[:, :2 * H]
        ru += s[:, :2 * H]
        _sigmoid_(ru)
        r, u, n = at[:, :H], at[:, H:2 * H], at[:, 2 * H:]
        s_n[t] = s[:, 2 * H:]
        n += r * s_n[t]
        np.tanh(n, out=n)
        # h_t = n + u ⊙ (h_{t-1} − n)
        h_new = np.subtract(h_prev, n, out=h_tm[t])
        h_new *= u
        h_new += n
        if keep is not None:
            h_new += keep[t] * (h_prev - h_new)
        h_prev = h_new
    h = h_tm.transpose(1, 0, 2)
    cache = {"x": x, "h_init": h_init, "h": h_tm, "gates": act, "s_n": s_n, "keep": keep,
             "W_x": W_x, "W_h": W_h}
    if return_gates:
        gates = {name: act[:, :, k * H:(k + 1) * H].transpose(1, 0, 2).copy()
                 for k, name in enumerate(GATES)}
        return h, cache, gates
    return h, cache


def gru_backward(dh, cache):
    """Backpropagation through time for :func:`gru_forward`.

    ``dh`` (B, T, H) is ∂L/∂h_t arriving from the outputs at every step. Going back from t = T,
    with δh_t = dh_t + (what h_t sent to step t+1)::

        δa_n = δh_t ⊙ (1 − u_t) ⊙ (1 − n_t²)
        δa_u = δh_t ⊙ (h_{t-1} − n_t) ⊙ u_t (1 − u_t)
        δa_r = δa_n ⊙ s_n ⊙ r_t (1 − r_t)
        δs = [δa_r | δa_u | δa_n ⊙ r_t]
        δh_{t-1} = δh_t ⊙ u_t + δs W_hᵀ

    and the parameter gradients are sums over time: ∂L/∂W_x = Σ x_tᵀ δa_t, ∂L/∂b_x = Σ δa_t,
    ∂L/∂W_h = Σ h_{t-1}ᵀ δs_t, ∂L/∂b_h = Σ δs_t.

    Returns ``grads`` (dict like ``params``), ``dx`` (B, T, D) and ``dh0`` (B, H).
    """
    x, h_tm, act, s_n, keep, W_x, W_h = (cache[k] for k in
                                        ("x", "h", "gates", "s_n", "keep", "W_x", "W_h"))
    T, B, H = h_tm.shape
    D = x.shape[2]
    dtype = h_tm.dtype
    dh_tm = as_float_array("dh", dh, shape=(B, T, H)).transpose(1, 0, 2)
    h_prev_tm = np.concatenate([cache["h_init"][None], h_tm[:-1]], axis=0)
    da = np.empty((T, B, 3 * H), dtype)
    ds = np.empty((T, B, 3 * H), dtype)
    W_h_T = np.ascontiguousarray(W_h.T)
    carry = np.zeros((B, H), dtype)
    for t in reversed(range(T)):
        dh_t = dh_tm[t] + carry
        if keep is not None:
            dh_skip = keep[t] * dh_t
            dh_t -= dh_skip
        at = act[t]
        r, u, n = at[:, :H], at[:, H:2 * H], at[:, 2 * H:]
        da_r, da_u, da_n = da[t, :, :H], da[t, :, H:2 * H], da[t, :, 2 * H:]
        np.multiply(dh_t, 1.0 - u, out=da_n)
        da_n *= 1.0 - n * n
        np.subtract(h_prev_tm[t], n, out=da_u)
        da_u *= dh_t
        da_u *= u * (1.0 - u)
        np.multiply(da_n, s_n[t], out=da_r)
        da_r *= r * (1.0 - r)
        ds[t, :, :2 * H] = da[t, :, :2 * H]
        np.multiply(da_n, r, out=ds[t, :, 2 * H:])
        carry = ds[t] @ W_h_T
        carry += dh_t * u
        if keep is not None:
            carry += dh_skip
    da_2d = da.reshape(T * B, 3 * H)
    ds_2d = ds.reshape(T * B, 3 * H)
    x_tm = x.transpose(1, 0, 2).reshape(T * B, D)
    grads = {
        "W_x": x_tm.T @ da_2d,
        "W_h": h_prev_tm.reshape(T * B, H).T @ ds_2d,
        "b_x": da_2d.sum(axis=0),
        "b_h": ds_2d.sum(axis=0),
    }
    dx = (da_2d @ W_x.T).reshape(T, B, D).transpose(1, 0, 2)
    return grads, dx, carry


__all__ = ["GATES", "gru_backward", "gru_forward", "gru_step", "gru_step_with_gates",
           "init_gru_params"]
