"""The long short-term memory (LSTM): forward over a sequence and backpropagation through time.

Row-vector, batch-first convention, gates in the order of ``torch.nn.LSTM`` (i, f, g, o)::

    z_t = x_t W_x + h_{t-1} W_h + b = [z_i | z_f | z_g | z_o]     x_t (B, D), h_t, c_t (B, H)
    i_t = σ(z_i)          input gate                              W_x (D, 4H), W_h (H, 4H), b (4H,)
    f_t = σ(z_f)          forget gate
    g_t = tanh(z_g)       candidate values
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t                               the memory cell
    o_t = σ(z_o)          output gate
    h_t = o_t ⊙ tanh(c_t)

Hochreiter & Schmidhuber (1997) introduced the constant-error carousel c_t; the forget gate is
from Gers, Schmidhuber & Cummins (2000). With ``peepholes`` the gates also look at the cell
(Gers & Schmidhuber 2000; the "vanilla LSTM" of Greff et al. 2017), through diagonal weights::

    i_t = σ(z_i + p_i ⊙ c_{t-1}),  f_t = σ(z_f + p_f ⊙ c_{t-1}),  o_t = σ(z_o + p_o ⊙ c_t)

``torch.nn.LSTM`` stores the transposes (``weight_ih_l0 = W_xᵀ``, ``weight_hh_l0 = W_hᵀ``) and two
biases whose sum is ``b``; it has no peepholes.
"""

import numpy as np

from ..validate import as_float_array

GATES = ("i", "f", "g", "o")
PEEPHOLES = ("p_i", "p_f", "p_o")


def init_lstm_params(input_size, hidden_size, rng=None, peepholes=False, forget_bias=0.0):
    """Parameters ``W_x`` (D, 4H), ``W_h`` (H, 4H), ``b`` (4H,), and with ``peepholes`` also
    ``p_i``, ``p_f``, ``p_o`` (H,).

    Every entry is drawn from U(-1/√H, 1/√H), the initialisation of ``nn.LSTM``; then
    ``forget_bias`` is added to the forget gate's block ``b[H:2H]`` (a value of 1 keeps the
    carousel open at the start of training, Jozefowicz et al. 2015).
    """
    rng = np.random.default_rng() if rng is None else rng
    D, H = input_size, hidden_size
    s = 1.0 / np.sqrt(H)
    params = {
        "W_x": rng.uniform(-s, s, size=(D, 4 * H)),
        "W_h": rng.uniform(-s, s, size=(H, 4 * H)),
        "b": rng.uniform(-s, s, size=4 * H),
    }
    params["b"][H:2 * H] += forget_bias
    if peepholes:
        for name in PEEPHOLES:
            params[name] = rng.uniform(-s, s, size=H)
    return params


def _check_params(params):
    """Validate an LSTM parameter dict; return ``(W_x, W_h, b, peepholes)`` with ``peepholes``
    a tuple ``(p_i, p_f, p_o)`` or ``None``."""
    if not isinstance(params, dict):
        raise TypeError(f"params: expected a dict with W_x, W_h, b, got {type(params).__name__}")
    for key in ("W_x", "W_h", "b"):
        if key not in params:
            raise ValueError(f"params: missing '{key}' (expected keys W_x, W_h, b)")
    W_h = as_float_array("params['W_h']", params["W_h"], ndim=2)
    H = W_h.shape[0]
    if W_h.shape != (H, 4 * H):
        raise ValueError(f"params['W_h']: expected shape (H, 4H), got shape {W_h.shape}")
    W_x = as_float_array("params['W_x']", params["W_x"], shape=(None, 4 * H))
    b = as_float_array("params['b']", params["b"], shape=(4 * H,))
    present = [name for name in PEEPHOLES if name in params]
    if present and len(present) != 3:
        raise ValueError(f"params: peepholes need all of p_i, p_f, p_o, got only {present}")
    peep = None
    if present:
        peep = tuple(as_float_array(f"params['{n}']", params[n], shape=(H,)) for n in PEEPHOLES)
    return W_x, W_h, b, peep


def _sigmoid_(a):
    """In-place logistic sigmoid σ(a) = 1 / (1 + exp(−a)), on a float array.

    exp(−a) overflows to inf for a ≪ 0, which gives the right limit 1 / inf = 0; NumPy's exp is
    about twice as fast as its tanh, hence not (1 + tanh(a/2)) / 2.
    """
    with np.errstate(over="ignore", under="ignore"):
        np.negative(a, out=a)
        np.exp(a, out=a)
    a += 1.0
    np.reciprocal(a, out=a)
    return a


def _check_mask(mask, B, T):
    mask = np.asarray(mask)
    if mask.shape != (B, T):
        raise ValueError(f"mask: expected shape ({B}, {T}) (batch, time), got shape {mask.shape}")
    if not (mask.dtype == bool or np.issubdtype(mask.dtype, np.number)):
        raise TypeError(f"mask: expected booleans or 0/1 numbers, got dtype {mask.dtype}")
    if mask.dtype != bool and not np.all((mask == 0) | (mask == 1)):
        raise ValueError("mask: expected only 0 and 1 (or booleans)")
    return mask.astype(bool)


def _check_state(name, state, B, H, dtype):
    if state is None:
        return np.zeros((B, H), dtype)
    return as_float_array(name, state, shape=(B, H)).astype(dtype, copy=False)


def lstm_step(x_t, h_prev, c_prev, params):
    """One step of the cell: ``(h_t, c_t)`` from ``x_t`` (B, D), ``h_prev`` and ``c_prev`` (B, H)
    (the equations of the module docstring, peepholes included when ``params`` has them)."""
    x_t = as_float_array("x_t", x_t, ndim=2)
    h, c, _ = lstm_forward(x_t[:, None, :], (h_prev, c_prev), params)
    return h[:, 0], c[:, 0]


def lstm_forward(x, state0, params, mask=None, return_gates=False):
    """Run the LSTM over a batch of sequences.

    Parameters
    ----------
    x : (B, T, D) inputs
    state0 : ``(h0, c0)``, each (B, H) (either may be ``None``), or ``None`` for zeros
    params : dict with ``W_x`` (D, 4H), ``W_h`` (H, 4H), ``b`` (4H,) [+ ``p_i``, ``p_f``, ``p_o``]
    mask : optional (B, T) booleans or 0/1: where ``mask[b, t]`` is 0 the step is skipped and
        sequence b keeps its previous h and c (padding of variable-length batches)
    return_gates : also return a dict of the gate activations ``i``, ``f``, ``g``, ``o`` (B, T, H)

    Returns
    -------
    h : (B, T, H), the states h_1 .. h_T
    c : (B, T, H), the cells c_1 .. c_T
    cache : what :func:`lstm_backward` needs
    gates : (only with ``return_gates``)

    The computation keeps the dtype of ``x`` (float64 by default; float32 runs faster).
    """
    W_x, W_h, b, peep = _check_params(params)
    D, H4 = W_x.shape
    H = H4 // 4
    x = as_float_array("x", x, shape=(None, None, D))
    B, T, _ = x.shape
    dtype = x.dtype
    W_x, W_h, b = (a.astype(dtype, copy=False) for a in (W_x, W_h, b))
    if peep is not None:
        peep = tuple(p.astype(dtype, copy=False) for p in peep)
    if state0 is None:
        state0 = (None, None)
    if not isinstance(state0, (tuple, list)) or len(state0) != 2:
        raise TypeError("state0: expected a pair (h0, c0) of (B, H) arrays, or None")
    h_init = _check_state("state0[0] (h0)", state0[0], B, H, dtype)
    c_init = _check_state("state0[1] (c0)", state0[1], B, H, dtype)
    keep = None
    if mask is not None:
        # keep[t] is 1 where step t is padding and the previous state is carried over.
        keep = (~_check_mask(mask, B, T)).T[:, :, None].astype(dtype)

    # Time-major buffers keep each step's (B, ·) block contiguous. The input projections of all
    # steps do not depend on the recurrence: one matrix product before the loop. z is then
    # overwritten, step by step, with the gate activations [i | f | g | o].
    z = (x.transpose(1, 0, 2).reshape(T * B, D) @ W_x + b).reshape(T, B, 4 * H)
    h_tm = np.empty((T, B, H), dtype)
    c_tm = np.empty((T, B, H), dtype)
    tanh_c = np.empty((T, B, H), dtype)   # tanh of the new cell (before any masking)
    c_new_tm = c_tm if keep is None else np.empty((T, B, H), dtype)
    h_prev, c_prev = h_init, c_init
    for t in range(T):
        zt = z[t]
        zt += h_prev @ W_h
        i, f, g, o = zt[:, :H], zt[:, H:2 * H], zt[:, 2 * H:3 * H], zt[:, 3 * H:]
        if peep is None:
            _sigmoid_(zt[:, :2 * H])       # i and f together
        else:
            i += peep[0] * c_prev
            f += peep[1] * c_prev
            _sigmoid_(i)
            _sigmoid_(f)
        np.tanh(g, out=g)
        c_new = np.multiply(f, c_prev, out=c_new_tm[t])
        c_new += i * g
        if peep is not None:
            o += peep[2] * c_new
        _sigmoid_(o)
        np.tanh(c_new, out=tanh_c[t])
        h_new = np.multiply(o, tanh_c[t], out=h_tm[t])
        if keep is not None:
            # h_t = h_new + keep ⊙ (h_{t-1} − h_new): the old state where the step is padding.
            h_new += keep[t] * (h_prev - h_new)
            np.add(c_new, keep[t] * (c_prev - c_new), out=c_tm[t])
        h_prev, c_prev = h_tm[t], c_tm[t]
    h = h_tm.transpose(1, 0, 2)
    c = c_tm.transpose(1, 0, 2)
    cache = {"x": x, "h_init": h_init, "c_init": c_init, "h": h_tm, "c": c_tm,
             "c_new": c_new_tm, "tanh_c": tanh_c, "gates": z, "keep": keep,
             "W_x": W_x, "W_h": W_h, "peep": peep}
    if return_gates:
        gates = {name: z[:, :, k * H:(k + 1) * H].transpose(1, 0, 2).copy()
                 for k, name in enumerate(GATES)}
        return h, c, cache, gates
    return h, c, cache


def lstm_backward(dh, cache, dc_last=None):
    """Backpropagation through time for :func:`lstm_forward`.

    ``dh`` (B, T, H) is ∂L/∂h_t arriving from the outputs at every step and ``dc_last`` (B, H)
    an optional ∂L/∂c_T (when the final cell is used, e.g. handed to a decoder). Going back from
    t = T with δh_t = dh_t + (what h_t sent to step t+1) and δc_t (what c_t sent to step t+1)::

        δc_t += δh_t ⊙ o_t ⊙ (1 − tanh²(c_t))
        δz_o = δh_t ⊙ tanh(c_t) ⊙ o_t (1 − o_t)           [+ peephole: δc_t += δz_o ⊙ p_o]
        δz_i = δc_t ⊙ g_t ⊙ i_t (1 − i_t)
        δz_f = δc_t ⊙ c_{t-1} ⊙ f_t (1 − f_t)
        δz_g = δc_t ⊙ i_t ⊙ (1 − g_t²)
        δc_{t-1} = δc_t ⊙ f_t                              [+ δz_i ⊙ p_i + δz_f ⊙ p_f]
        δh_{t-1} ⊇ δz_t W_hᵀ

    The direct path δc_{t-1} = δc_t ⊙ f_t, with no weight matrix and no squashing, is what lets
    the gradient survive long gaps when f ≈ 1. Parameter gradients are sums over time:
    ∂L/∂W_x = Σ x_tᵀ δz_t, ∂L/∂W_h = Σ h_{t-1}ᵀ δz_t, ∂L/∂b = Σ δz_t, ∂L/∂p_i = Σ δz_i ⊙ c_{t-1}, ...

    Returns ``grads`` (dict like ``params``), ``dx`` (B, T, D) and ``(dh0, dc0)`` (B, H) each.
    """
    x, h_tm, c_tm, c_new_tm = cache["x"], cache["h"], cache["c"], cache["c_new"]
    tanh_c, act, keep, W_x, W_h, peep = (cache[k] for k in
                                         ("tanh_c", "gates", "keep", "W_x", "W_h", "peep"))
    T, B, H = h_tm.shape
    D = x.shape[2]
    dtype = h_tm.dtype
    dh_tm = as_float_array("dh", dh, shape=(B, T, H)).transpose(1, 0, 2)
    dc = np.zeros((B, H), dtype) if dc_last is None else \
        as_float_array("dc_last", dc_last, shape=(B, H)).astype(dtype)
    c_prev_tm = np.concatenate([cache["c_init"][None], c_tm[:-1]], axis=0)
    dz = np.empty((T, B, 4 * H), dtype)
    W_h_T = np.ascontiguousarray(W_h.T)
    dh_carry = np.zeros((B, H), dtype)
    for t in reversed(range(T)):
        dh_t = dh_tm[t] + dh_carry
        a = act[t]
        i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
        c_prev = c_prev_tm[t]
        if keep is not None:
            # A padding step passes its gradients straight to the previous state.
            dh_skip, dc_skip = keep[t] * dh_t, keep[t] * dc
            dh_t = dh_t - dh_skip
            dc = dc - dc_skip
        dzt = dz[t]
        dz_i, dz_f, dz_g, dz_o = (dzt[:, :H], dzt[:, H:2 * H], dzt[:, 2 * H:3 * H],
                                  dzt[:, 3 * H:])
        tc = tanh_c[t]
        np.multiply(dh_t, tc, out=dz_o)
        dz_o *= o * (1.0 - o)
        dc = dc + dh_t * o * (1.0 - tc * tc)
        if peep is not None:
            dc += dz_o * peep[2]
        np.multiply(dc, g, out=dz_i)
        dz_i *= i * (1.0 - i)
        np.multiply(dc, c_prev, out=dz_f)
        dz_f *= f * (1.0 - f)
        np.multiply(dc, i, out=dz_g)
        dz_g *= 1.0 - g * g
        dc *= f
        if peep is not None:
            dc += dz_i * peep[0] + dz_f * peep[1]
        dh_carry = dzt @ W_h_T
        if keep is not None:
            dh_carry += dh_skip
            dc += dc_skip
    dz_2d = dz.reshape(T * B, 4 * H)
    h_prev = np.concatenate([cache["h_init"][None], h_tm[:-1]], axis=0).reshape(T * B, H)
    x_tm = x.transpose(1, 0, 2).reshape(T * B, D)
    grads = {
        "W_x": x_tm.T @ dz_2d,
        "W_h": h_prev.T @ dz_2d,
        "b": dz_2d.sum(axis=0),
    }
    if peep is not None:
        grads["p_i"] = np.einsum("tbh,tbh->h", dz[:, :, :H], c_prev_tm)
        grads["p_f"] = np.einsum("tbh,tbh->h", dz[:, :, H:2 * H], c_prev_tm)
        grads["p_o"] = np.einsum("tbh,tbh->h", dz[:, :, 3 * H:], c_new_tm)
    dx = (dz_2d @ W_x.T).reshape(T, B, D).transpose(1, 0, 2)
    return grads, dx, (dh_carry, dc)


__all__ = ["GATES", "init_lstm_params", "lstm_backward", "lstm_forward", "lstm_step"]
