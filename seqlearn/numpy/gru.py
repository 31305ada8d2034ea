"""The gated recurrent unit (GRU): forward over a sequence and backpropagation through time.

Row-vector, batch-first convention, blocks in the order of ``torch.nn.GRU`` (r, u, n), two biases
as in torch (the reset gate multiplies ``h W_hn + b_hn``, so the two biases of n do not merge)::

    [a_r | a_u | a_n] = x_t W_x + b_x             x_t (B, D), h_t (B, H)
    [s_r | s_u | s_n] = h_{t-1} W_h + b_h         W_x (D, 3H), W_h (H, 3H), b_x, b_h (3H,)
    r_t = σ(a_r + s_r)                reset gate
    u_t = σ(a_u + s_u)                update gate (torch calls it z)
    h̃_t = tanh(a_n + r_t ⊙ s_n)      candidate state (block n; ``n`` in the code, as in torch)
    h_t = u_t ⊙ h_{t-1} + (1 − u_t) ⊙ h̃_t

(chapter 6, equations (6.7)–(6.9)). The interpolation is the one of Cho et al. (2014), whose
update gate z is our u (z = 1 keeps the state); Chung et al. (2014) write it the other way
round, h_t = (1 − z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t. What differs from Cho et al. is where the reset
gate acts: they reset the state before the recurrent product, (r_t ⊙ h_{t-1}) W_hn; torch and
cuDNN (and this module) reset after it, r_t ⊙ (h_{t-1} W_hn + b_hn), so that the recurrent
products of all three blocks are one matrix product. Two settings of the gates show what they do:

* u = 0, r = 1: h_t = tanh(x_t W_xn + b_xn + h_{t-1} W_hn + b_hn), a vanilla (Elman) RNN;
* u = 1: h_t = h_{t-1}, the state is copied unchanged — the GRU's version of the LSTM's
  constant-error carousel, through which gradients pass without decay.

:func:`gru_step` computes one step and :func:`gru_step_backward` its gradients; :func:`gru_forward`
and :func:`gru_backward` loop over time. :func:`gru_step_with_gates` computes a step with the gates
forced to chosen values, to see both settings. ``torch.nn.GRU`` stores the transposes:
``weight_ih_l0 = W_xᵀ``, ``weight_hh_l0 = W_hᵀ``, ``bias_ih_l0 = b_x``, ``bias_hh_l0 = b_h``. The
PyTorch version is ``seqlearn.torch.gru.GRU``.
"""

import numpy as np

from ..validate import as_float_array, as_generator, check_positive_int, describe
from .activations import sigmoid
from .common import check_param_dict, check_step_shapes, initial_state, prepare_sequence

GATES = ("r", "u", "n")


def init_gru_params(input_size, hidden_size, rng=None):
    """Parameters ``W_x`` (D, 3H), ``W_h`` (H, 3H), ``b_x``, ``b_h`` (3H,), every entry from
    U(-1/√H, 1/√H) (the initialisation of ``nn.GRU``). ``rng``: a ``numpy.random.Generator``, an
    int seed, or ``None`` for NumPy's global state (``seqlearn.seed``)."""
    D = check_positive_int("input_size", input_size)
    H = check_positive_int("hidden_size", hidden_size)
    rng = as_generator(rng)
    s = 1.0 / np.sqrt(H)
    return {
        "W_x": rng.uniform(-s, s, size=(D, 3 * H)),
        "W_h": rng.uniform(-s, s, size=(H, 3 * H)),
        "b_x": rng.uniform(-s, s, size=3 * H),
        "b_h": rng.uniform(-s, s, size=3 * H),
    }


def check_gru_params(params):
    """Check a GRU parameter dict; return a new dict of float arrays ``W_x`` (D, 3H), ``W_h``
    (H, 3H), ``b_x``, ``b_h`` (3H,) (the new dict holds the arrays of ``params`` themselves when
    they are already float arrays)."""
    check_param_dict(params, ("W_x", "W_h", "b_x", "b_h"))
    W_h = as_float_array("params['W_h']", params["W_h"], ndim=2)
    H = W_h.shape[0]
    if W_h.shape != (H, 3 * H):
        raise ValueError(f"params['W_h']: expected shape (H, 3H), got shape {W_h.shape}")
    return {"W_x": as_float_array("params['W_x']", params["W_x"], shape=(None, 3 * H)),
            "W_h": W_h,
            "b_x": as_float_array("params['b_x']", params["b_x"], shape=(3 * H,)),
            "b_h": as_float_array("params['b_h']", params["b_h"], shape=(3 * H,))}


def gru_step(x_t, h_prev, params):
    """One step of the cell (the equations of the module docstring) for x_t (B, D) and
    h_prev (B, H); ``params`` holds arrays (the step checks shapes only: :func:`gru_forward`
    checks the rest once).

    Returns h_t (B, H) and the step's cache for :func:`gru_step_backward` (it keeps references to
    its inputs, not copies).
    """
    H = params["W_h"].shape[0]
    check_step_shapes(x_t, params["W_x"].shape[0], H, h_prev=h_prev)
    a = x_t @ params["W_x"] + params["b_x"]          # [a_r | a_u | a_n]
    s = h_prev @ params["W_h"] + params["b_h"]       # [s_r | s_u | s_n]
    r = sigmoid(a[:, :H] + s[:, :H])
    u = sigmoid(a[:, H:2 * H] + s[:, H:2 * H])
    s_n = s[:, 2 * H:]
    n = np.tanh(a[:, 2 * H:] + r * s_n)
    h_t = (1.0 - u) * n + u * h_prev
    return h_t, (x_t, h_prev, r, u, n, s_n)


def gru_step_backward(dh_t, cache, params):
    """Backpropagation through one step, given all of ∂L/∂h_t (B, H)::

        δa_n = dh_t ⊙ (1 − u_t) ⊙ (1 − h̃_t²)
        δa_u = dh_t ⊙ (h_{t-1} − h̃_t) ⊙ u_t (1 − u_t)
        δa_r = δa_n ⊙ s_n ⊙ r_t (1 − r_t)
        δa = [δa_r | δa_u | δa_n],   δs = [δa_r | δa_u | δa_n ⊙ r_t]
        ∂L/∂x_t = δa W_xᵀ,   ∂L/∂h_{t-1} = dh_t ⊙ u_t + δs W_hᵀ

    Returns ``dx_t`` (B, D), ``dh_prev`` (B, H) and this step's ``grads``: ∂L/∂W_x = x_tᵀ δa,
    ∂L/∂b_x = Σ_batch δa, ∂L/∂W_h = h_{t-1}ᵀ δs, ∂L/∂b_h = Σ_batch δs.
    """
    x_t, h_prev, r, u, n, s_n = cache
    if not isinstance(dh_t, np.ndarray) or dh_t.shape != h_prev.shape:
        raise ValueError(f"dh_t: expected shape {h_prev.shape} (that of h_t), got "
                         f"{describe(dh_t)}")
    da_n = dh_t * (1.0 - u) * (1.0 - n**2)
    da_u = dh_t * (h_prev - n) * u * (1.0 - u)
    da_r = da_n * s_n * r * (1.0 - r)
    da = np.concatenate([da_r, da_u, da_n], axis=1)
    ds = np.concatenate([da_r, da_u, da_n * r], axis=1)
    grads = {"W_x": x_t.T @ da, "W_h": h_prev.T @ ds, "b_x": da.sum(axis=0),
             "b_h": ds.sum(axis=0)}
    return da @ params["W_x"].T, dh_t * u + ds @ params["W_h"].T, grads


def gru_step_with_gates(x_t, h_prev, params, r=None, u=None):
    """One GRU step, h_t (B, H), with the reset gate and/or the update gate forced to given values.

    ``r`` and ``u`` are ``None`` (computed as usual) or numbers/arrays broadcastable to (B, H).
    ``r=1, u=0`` turns the cell into a vanilla RNN,
    h_t = tanh(x_t W_xn + b_xn + h_{t-1} W_hn + b_hn); ``u=1`` copies the state, h_t = h_{t-1}.
    """
    params = check_gru_params(params)
    D, H = params["W_x"].shape[0], params["W_h"].shape[0]
    x_t = as_float_array("x_t", x_t, shape=(None, D))
    h_prev = as_float_array("h_prev", h_prev, shape=(x_t.shape[0], H))
    a = x_t @ params["W_x"] + params["b_x"]
    s = h_prev @ params["W_h"] + params["b_h"]
    if r is None:
        r = sigmoid(a[:, :H] + s[:, :H])
    else:
        r = np.broadcast_to(as_float_array("r", r, allow_empty=True), h_prev.shape)
    if u is None:
        u = sigmoid(a[:, H:2 * H] + s[:, H:2 * H])
    else:
        u = np.broadcast_to(as_float_array("u", u, allow_empty=True), h_prev.shape)
    n = np.tanh(a[:, 2 * H:] + r * s[:, 2 * H:])
    return (1.0 - u) * n + u * h_prev


def gru_forward(x, h0, params, lengths=None, return_gates=False):
    """Run the GRU over a batch of sequences, one :func:`gru_step` per time step.

    Parameters
    ----------
    x : (B, T, D) inputs
    h0 : (B, H) initial state, or ``None`` for zeros
    params : dict with ``W_x`` (D, 3H), ``W_h`` (H, 3H), ``b_x``, ``b_h`` (3H,)
    lengths : optional (B,) integers in 1..T, the true lengths of right-padded sequences: at the
        padded steps t ≥ lengths[b] the state is carried unchanged and the output is zero
    return_gates : also return a dict of the gate activations ``r``, ``u`` and the candidate
        ``n`` (h̃_t), each (B, T, H)

    Returns
    -------
    h : (B, T, H), the states h_1 .. h_T (zero at padded steps)
    cache : what :func:`gru_backward` needs (it keeps references to its inputs, not copies)
    gates : (only with ``return_gates``)

    The computation keeps the dtype of ``x`` (float64 by default; float32 runs faster).
    """
    params = check_gru_params(params)
    x, params, real = prepare_sequence(x, params["W_x"].shape[0], params, lengths)
    B, T, _ = x.shape
    h_prev = initial_state("h0", h0, B, params["W_h"].shape[0], x.dtype)
    h = np.zeros((B, T, h_prev.shape[1]), x.dtype)
    steps = []
    for t in range(T):
        h_t, step_cache = gru_step(x[:, t], h_prev, params)
        is_real = real[:, t, None]
        h_prev = np.where(is_real, h_t, h_prev)    # a padded step keeps the state ...
        h[:, t] = np.where(is_real, h_t, 0.0)      # ... and outputs zero
        steps.append(step_cache)
    cache = {"steps": steps, "real": real, "params": params, "x_shape": x.shape}
    if return_gates:
        # the cache of step t holds (x_t, h_prev, r, u, n, s_n)
        gates = {name: np.stack([step[2 + k] for step in steps], axis=1)
                 for k, name in enumerate(GATES)}
        return h, cache, gates
    return h, cache


def gru_backward(dh, cache):
    """Backpropagation through time for :func:`gru_forward`.

    ``dh`` (B, T, H) is ∂L/∂h_t arriving from the outputs at every step. Going back from t = T,
    :func:`gru_step_backward` receives δh_t = dh_t + (what h_t sent to step t+1), and the
    parameter gradients are the sums of the steps' gradients. A padded step passes the gradient
    of its state straight to the previous one.

    Returns ``grads`` (dict like ``params``), ``dx`` (B, T, D) and ``dh0`` (B, H).
    """
    params, real = cache["params"], cache["real"]
    B, T, D = cache["x_shape"]
    H = params["W_h"].shape[0]
    dtype = params["W_h"].dtype
    dh = as_float_array("dh", dh, shape=(B, T, H)).astype(dtype, copy=False)
    grads = {name: np.zeros_like(p) for name, p in params.items()}
    dx = np.zeros((B, T, D), dtype)
    dh_next = np.zeros((B, H), dtype)     # what h_t sent to step t+1
    for t in reversed(range(T)):
        is_real = real[:, t, None]
        dh_t = np.where(is_real, dh[:, t] + dh_next, 0.0)
        dx[:, t], dh_prev, step_grads = gru_step_backward(dh_t, cache["steps"][t], params)
        dh_next = np.where(is_real, dh_prev, dh_next)   # a padded step passes it straight on
        for name in grads:
            grads[name] += step_grads[name]
    return grads, dx, dh_next


__all__ = ["GATES", "check_gru_params", "gru_backward", "gru_forward", "gru_step",
           "gru_step_backward", "gru_step_with_gates", "init_gru_params"]
