"""The long short-term memory (LSTM): forward over a sequence and backpropagation through time.

Row-vector, batch-first convention, gates in the order of ``torch.nn.LSTM`` (i, f, g, o)::

    a_t = x_t W_x + h_{t-1} W_h + b = [a_i | a_f | a_g | a_o]     x_t (B, D), h_t, c_t (B, H)
    i_t = σ(a_i)          input gate                              W_x (D, 4H), W_h (H, 4H), b (4H,)
    f_t = σ(a_f)          forget gate
    g_t = tanh(a_g)       candidate values
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t                               the memory cell
    o_t = σ(a_o)          output gate
    h_t = o_t ⊙ tanh(c_t)

(chapter 6, equations (6.3)–(6.6); a_t are the pre-activations, as in the tanh RNN's
h_t = tanh(a_t)). Hochreiter & Schmidhuber (1997) introduced the constant-error carousel c_t; the
forget gate is from Gers, Schmidhuber & Cummins (2000). With ``peepholes`` the gates also look at
the cell (Gers & Schmidhuber 2000; the "vanilla LSTM" of Greff et al. 2017), through diagonal
weights::

    i_t = σ(a_i + p_i ⊙ c_{t-1}),  f_t = σ(a_f + p_f ⊙ c_{t-1}),  o_t = σ(a_o + p_o ⊙ c_t)

**Memory blocks.** With ``block_size`` S > 1 the H cells form K = H/S *memory blocks* of S cells
that share their input, forget and output gates (Hochreiter & Schmidhuber 1997; Gers et al. 2000):
the gates have K units each, the candidate H, so ``W_x`` is (D, 3K + H), ``W_h`` (H, 3K + H) and
``b`` (3K + H,), in the blocks [a_i (K) | a_f (K) | a_g (H) | a_o (K)], and cell c reads the gates
of block c // S. S = 1 is the LSTM above; S = H has one gate of each kind for all cells. The
layout tells the block size (:func:`lstm_block_size`). :func:`lstm_forward` runs a blocked LSTM
as the full layout with each shared gate's column repeated for its S cells
(:func:`lstm_block_columns`), and :func:`lstm_backward` sums the repeated columns' gradients:
a shared gate receives the error of every cell it serves. Peepholes are not offered with blocks.

:func:`lstm_step` computes one step and :func:`lstm_step_backward` its gradients;
:func:`lstm_forward` and :func:`lstm_backward` loop over time. ``torch.nn.LSTM`` stores the
transposes (``weight_ih_l0 = W_xᵀ``, ``weight_hh_l0 = W_hᵀ``) and two biases whose sum is ``b``;
it has no peepholes. The PyTorch version is ``seqlearn.torch.lstm.LSTM``.
"""

import numpy as np

from ..validate import as_float_array, as_generator, check_positive_int, describe
from .activations import sigmoid
from .common import check_param_dict, check_step_shapes, initial_state, prepare_sequence

GATES = ("i", "f", "g", "o")
PEEPHOLES = ("p_i", "p_f", "p_o")


def init_lstm_params(input_size, hidden_size, rng=None, peepholes=False, forget_bias=0.0,
                     block_size=1):
    """Parameters ``W_x`` (D, 4H), ``W_h`` (H, 4H), ``b`` (4H,), and with ``peepholes`` also
    ``p_i``, ``p_f``, ``p_o`` (H,).

    Every entry is drawn from U(-1/√H, 1/√H), the initialisation of ``nn.LSTM``; then
    ``forget_bias`` is added to the forget gate's block ``b[H:2H]``: a positive value holds the
    forget gate nearer 1 at the start of training (f ≈ σ(forget_bias)), so that the carousel
    passes more of the gradient; Jozefowicz et al. (2015) recommend 1.

    ``block_size`` S > 1 (a divisor of H) makes memory blocks of S cells sharing their gates (see
    the module docstring): ``W_x`` (D, 3K + H), ``W_h`` (H, 3K + H), ``b`` (3K + H,) with K = H/S,
    the forget block being ``b[K:2K]``. Peepholes cannot be combined with blocks.

    ``rng``: a ``numpy.random.Generator``, an int seed, or ``None`` (NumPy's global state, which
    ``seqlearn.seed`` sets).
    """
    D = check_positive_int("input_size", input_size)
    H = check_positive_int("hidden_size", hidden_size)
    if isinstance(forget_bias, bool) or not isinstance(forget_bias, (int, float, np.integer,
                                                                     np.floating)):
        raise TypeError(f"forget_bias: expected a number, got {describe(forget_bias)}")
    if not np.isfinite(forget_bias):
        raise ValueError(f"forget_bias: expected a finite number, got {forget_bias!r}")
    rng = as_generator(rng)
    K = H // _check_block_size(block_size, H, peepholes)
    s = 1.0 / np.sqrt(H)
    params = {
        "W_x": rng.uniform(-s, s, size=(D, 3 * K + H)),
        "W_h": rng.uniform(-s, s, size=(H, 3 * K + H)),
        "b": rng.uniform(-s, s, size=3 * K + H),
    }
    params["b"][K:2 * K] += forget_bias
    if peepholes:
        for name in PEEPHOLES:
            params[name] = rng.uniform(-s, s, size=H)
    return params


def _check_block_size(block_size, hidden_size, peepholes=False):
    if isinstance(block_size, bool) or not isinstance(block_size, (int, np.integer)) \
            or block_size < 1 or hidden_size % block_size:
        raise ValueError(f"block_size: expected a positive divisor of hidden_size "
                         f"{hidden_size}, got {block_size!r}")
    if peepholes and block_size > 1:
        raise ValueError(f"block_size: peepholes are per cell, so they cannot be combined with "
                         f"memory blocks; got block_size {block_size} with peepholes")
    return int(block_size)


def lstm_block_size(params):
    """The block size S of an LSTM parameter dict, told by its layout: ``W_h`` is (H, 3K + H)
    with K = H/S blocks (S = 1 for the full (H, 4H) layout). Raises ``ValueError`` for a width
    that no block size gives."""
    check_param_dict(params, ("W_h",))
    W_h = as_float_array("params['W_h']", params["W_h"], ndim=2)
    H, width = W_h.shape
    K = (width - H) // 3
    if width - H != 3 * K or K < 1 or H % K:
        raise ValueError(f"params['W_h']: expected shape (H, 4H), or (H, 3K + H) for memory "
                         f"blocks with K dividing H, got shape {W_h.shape}")
    return H // K


def lstm_block_columns(hidden_size, block_size):
    """The (4H,) integer index that expands a blocked layout [i (K) | f (K) | g (H) | o (K)] to the
    full [i | f | g | o] (H each): full column q·H + c reads compact column
    ``offset_q + c // block_size`` for the gates q = i, f, o and ``2K + c`` for the candidate, so
    that ``W[:, lstm_block_columns(H, S)]`` repeats each shared gate for the cells of its block.
    For ``block_size`` 1 it is ``arange(4H)``."""
    H = check_positive_int("hidden_size", hidden_size)
    S = _check_block_size(block_size, H)
    K = H // S
    cells = np.arange(H)
    return np.concatenate([cells // S, K + cells // S, 2 * K + cells, 2 * K + H + cells // S])


def check_lstm_params(params):
    """Check an LSTM parameter dict; return a new dict of float arrays ``W_x`` (D, 4H), ``W_h``
    (H, 4H), ``b`` (4H,) and, when ``params`` has peepholes, ``p_i``, ``p_f``, ``p_o`` (H,). A
    dict of memory blocks has 3K + H columns instead of 4H (:func:`lstm_block_size`).
    Float arrays are returned as they are, not copies.
    """
    check_param_dict(params, ("W_x", "W_h", "b"))
    block_size = lstm_block_size(params)
    W_h = as_float_array("params['W_h']", params["W_h"], ndim=2)
    H, width = W_h.shape
    checked = {"W_x": as_float_array("params['W_x']", params["W_x"], shape=(None, width)),
               "W_h": W_h,
               "b": as_float_array("params['b']", params["b"], shape=(width,))}
    present = [name for name in PEEPHOLES if name in params]
    if present and len(present) != 3:
        raise ValueError(f"params: peepholes need all of p_i, p_f, p_o, got only {present}")
    if present and block_size > 1:
        raise ValueError(f"params: peepholes cannot be combined with memory blocks (W_h of shape "
                         f"{W_h.shape} has blocks of {block_size} cells)")
    for name in present:
        checked[name] = as_float_array(f"params['{name}']", params[name], shape=(H,))
    return checked


def lstm_step(x_t, h_prev, c_prev, params):
    """One step of the cell (the equations of the module docstring, peepholes included when
    ``params`` has them), for x_t (B, D) and h_prev, c_prev (B, H); ``params`` holds arrays (the
    step checks shapes only: :func:`lstm_forward` checks the rest once).

    Returns h_t and c_t (B, H) and the step's cache for :func:`lstm_step_backward`.
    The cache holds the inputs and parameters themselves, not copies.
    """
    H = params["W_h"].shape[0]
    check_step_shapes(x_t, params["W_x"].shape[0], H, h_prev=h_prev, c_prev=c_prev)
    a = x_t @ params["W_x"] + h_prev @ params["W_h"] + params["b"]
    a_i, a_f, a_g, a_o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
    peepholes = "p_i" in params
    if peepholes:
        a_i = a_i + params["p_i"] * c_prev
        a_f = a_f + params["p_f"] * c_prev
    i, f, g = sigmoid(a_i), sigmoid(a_f), np.tanh(a_g)
    c_t = f * c_prev + i * g
    if peepholes:
        a_o = a_o + params["p_o"] * c_t
    o = sigmoid(a_o)
    tanh_c = np.tanh(c_t)
    h_t = o * tanh_c
    return h_t, c_t, (x_t, h_prev, c_prev, i, f, g, o, c_t, tanh_c)


def lstm_step_backward(dh_t, dc_t, cache, params):
    """Backpropagation through one step. ``dh_t`` (B, H) is all of ∂L/∂h_t, ``dc_t`` (B, H) what
    c_t receives from step t+1; δa = ∂L/∂a_t are the error signals of the pre-activations::

        δc = dc_t + dh_t ⊙ o_t ⊙ (1 − tanh²(c_t))
        δa_o = dh_t ⊙ tanh(c_t) ⊙ o_t (1 − o_t)           [+ peephole: δc += δa_o ⊙ p_o]
        δa_i = δc ⊙ g_t ⊙ i_t (1 − i_t)
        δa_f = δc ⊙ c_{t-1} ⊙ f_t (1 − f_t)
        δa_g = δc ⊙ i_t ⊙ (1 − g_t²)
        ∂L/∂c_{t-1} = δc ⊙ f_t                           [+ δa_i ⊙ p_i + δa_f ⊙ p_f]
        ∂L/∂x_t = δa W_xᵀ,  ∂L/∂h_{t-1} = δa W_hᵀ,  with δa = [δa_i | δa_f | δa_g | δa_o]

    The direct path ∂L/∂c_{t-1} = δc ⊙ f_t, with no weight matrix and no squashing, is what
    lets the gradient survive long gaps when f ≈ 1.

    Returns ``dx_t`` (B, D), ``dh_prev``, ``dc_prev`` (B, H) and this step's ``grads``:
    ∂L/∂W_x = x_tᵀ δa, ∂L/∂W_h = h_{t-1}ᵀ δa, ∂L/∂b = Σ_batch δa, ∂L/∂p_i = Σ_batch δa_i ⊙ c_{t-1},
    ∂L/∂p_f = Σ_batch δa_f ⊙ c_{t-1}, ∂L/∂p_o = Σ_batch δa_o ⊙ c_t.
    """
    x_t, h_prev, c_prev, i, f, g, o, c_t, tanh_c = cache
    for name, grad in (("dh_t", dh_t), ("dc_t", dc_t)):
        if getattr(grad, "shape", None) != c_t.shape:
            raise ValueError(f"{name}: expected shape {c_t.shape} (as h_t), got {describe(grad)}")
    peepholes = "p_i" in params
    da_o = dh_t * tanh_c * o * (1.0 - o)
    dc = dc_t + dh_t * o * (1.0 - tanh_c**2)
    if peepholes:
        dc = dc + da_o * params["p_o"]
    da_i = dc * g * i * (1.0 - i)
    da_f = dc * c_prev * f * (1.0 - f)
    da_g = dc * i * (1.0 - g**2)
    dc_prev = dc * f
    if peepholes:
        dc_prev = dc_prev + da_i * params["p_i"] + da_f * params["p_f"]
    da = np.concatenate([da_i, da_f, da_g, da_o], axis=1)
    grads = {"W_x": x_t.T @ da, "W_h": h_prev.T @ da, "b": da.sum(axis=0)}
    if peepholes:
        grads["p_i"] = (da_i * c_prev).sum(axis=0)
        grads["p_f"] = (da_f * c_prev).sum(axis=0)
        grads["p_o"] = (da_o * c_t).sum(axis=0)
    return da @ params["W_x"].T, da @ params["W_h"].T, dc_prev, grads


def _check_inputs(x, state0, params, lengths):
    """The checks of :func:`lstm_forward` and :func:`fast_lstm_forward`: ``(x, params, real,
    (h0, c0), block_size)`` with the parameters in the dtype of ``x`` (memory blocks expanded to
    the full layout) and ``real`` the (B, T) mask of the real steps."""
    params = check_lstm_params(params)
    block_size = lstm_block_size(params)
    if block_size > 1:
        columns = lstm_block_columns(params["W_h"].shape[0], block_size)
        params = {"W_x": params["W_x"][:, columns], "W_h": params["W_h"][:, columns],
                  "b": params["b"][columns]}
    x, params, real = prepare_sequence(x, params["W_x"].shape[0], params, lengths)
    B, H = x.shape[0], params["W_h"].shape[0]
    if state0 is None:
        state0 = (None, None)
    if not isinstance(state0, (tuple, list)) or len(state0) != 2:
        raise TypeError("state0: expected a pair (h0, c0) of (B, H) arrays, or None")
    return x, params, real, (initial_state("state0[0] (h0)", state0[0], B, H, x.dtype),
                             initial_state("state0[1] (c0)", state0[1], B, H, x.dtype)), block_size


def _fold_blocks(grads, block_size):
    """Gradients of the full layout -> those of the blocked parameters: a shared gate's column
    receives the sum of the columns that repeat it."""
    if block_size == 1:
        return grads
    H = grads["W_h"].shape[0]
    columns = lstm_block_columns(H, block_size)
    width = 3 * (H // block_size) + H
    folded = {}
    for name in ("W_x", "W_h", "b"):
        full = grads[name]
        total = np.zeros(full.shape[:-1] + (width,), full.dtype)
        np.add.at(total, (..., columns), full)
        folded[name] = total
    return folded


def lstm_forward(x, state0, params, lengths=None, return_gates=False):
    """Run the LSTM over a batch of sequences, one :func:`lstm_step` per time step.

    Parameters
    ----------
    x : (B, T, D) inputs
    state0 : ``(h0, c0)``, each (B, H) (either may be ``None``), or ``None`` for zeros
    params : dict with ``W_x`` (D, 4H), ``W_h`` (H, 4H), ``b`` (4H,) [+ ``p_i``, ``p_f``, ``p_o``]
    lengths : optional (B,) integers in 1..T, the true lengths of right-padded sequences: at the
        padded steps t ≥ lengths[b] the state (h and c) is carried unchanged and the outputs are
        zero
    return_gates : also return a dict of the gate activations ``i``, ``f``, ``g``, ``o``
        (B, T, H)

    Returns
    -------
    h : (B, T, H), the states h_1 .. h_T (zero at padded steps)
    c : (B, T, H), the cells c_1 .. c_T (zero at padded steps)
    cache : what :func:`lstm_backward` needs
    gates : (only with ``return_gates``)

    The computation keeps the dtype of ``x`` (float64 by default; float32 runs faster).
    The cache holds the inputs and parameters themselves, not copies.
    """
    x, params, real, (h_prev, c_prev), block_size = _check_inputs(x, state0, params, lengths)
    B, T, _ = x.shape
    H = h_prev.shape[1]
    h = np.zeros((B, T, H), x.dtype)
    c = np.zeros((B, T, H), x.dtype)
    steps = []
    for t in range(T):
        h_t, c_t, step_cache = lstm_step(x[:, t], h_prev, c_prev, params)
        is_real = real[:, t, None]
        h_prev = np.where(is_real, h_t, h_prev)    # a padded step keeps the state ...
        c_prev = np.where(is_real, c_t, c_prev)
        h[:, t] = np.where(is_real, h_t, 0.0)      # ... and outputs zeros
        c[:, t] = np.where(is_real, c_t, 0.0)
        steps.append(step_cache)
    cache = {"steps": steps, "real": real, "params": params, "x_shape": x.shape,
             "block_size": block_size}
    if return_gates:
        # the cache of step t holds (x_t, h_prev, c_prev, i, f, g, o, ...)
        gates = {name: np.stack([step[3 + k] for step in steps], axis=1)
                 for k, name in enumerate(GATES)}
        return h, c, cache, gates
    return h, c, cache


def lstm_backward(dh, cache, dc_last=None):
    """Backpropagation through time for :func:`lstm_forward`.

    ``dh`` (B, T, H) is ∂L/∂h_t arriving from the outputs at every step and ``dc_last`` (B, H)
    an optional ∂L/∂c_T for the final cell (when it is used, e.g. handed to a decoder; with
    ``lengths``, the cell at each sequence's last step). Going back from t = T,
    :func:`lstm_step_backward` receives δh_t = dh_t + (what h_t sent to step t+1) and what c_t
    sent to step t+1, and the parameter gradients are the sums of the steps' gradients. A padded
    step passes the gradients of its state straight to the previous one.

    Returns ``grads`` (dict like ``params``, for memory blocks in their layout), ``dx``
    (B, T, D) and ``(dh0, dc0)`` (B, H) each.
    """
    params, real = cache["params"], cache["real"]
    B, T, D = cache["x_shape"]
    H = params["W_h"].shape[0]
    dtype = params["W_h"].dtype
    dh = as_float_array("dh", dh, shape=(B, T, H)).astype(dtype, copy=False)
    dc_next = np.zeros((B, H), dtype) if dc_last is None else \
        as_float_array("dc_last", dc_last, shape=(B, H)).astype(dtype)
    grads = {name: np.zeros_like(p) for name, p in params.items()}
    dx = np.zeros((B, T, D), dtype)
    dh_next = np.zeros((B, H), dtype)     # what h_t sent to step t+1
    for t in reversed(range(T)):
        is_real = real[:, t, None]
        dh_t = np.where(is_real, dh[:, t] + dh_next, 0.0)
        dc_t = np.where(is_real, dc_next, 0.0)
        dx[:, t], dh_prev, dc_prev, step_grads = lstm_step_backward(dh_t, dc_t,
                                                                    cache["steps"][t], params)
        dh_next = np.where(is_real, dh_prev, dh_next)   # a padded step passes them straight on
        dc_next = np.where(is_real, dc_prev, dc_next)
        for name in grads:
            grads[name] += step_grads[name]
    return _fold_blocks(grads, cache["block_size"]), dx, (dh_next, dc_next)


# -- the same functions, written for speed ---------------------------------------------------------

def fast_lstm_forward(x, state0, params, lengths=None, return_gates=False):
    """:func:`lstm_forward` written for speed rather than for reading: the same arguments and
    results (equal to rounding), with the cache that :func:`fast_lstm_backward` needs.

    What makes it faster: time-major buffers filled in place; the input projections of all steps
    in one product; the gate nonlinearities of a step in one ``tanh`` call, by
    σ(a) = (1 + tanh(a/2)) / 2 with the factor 1/2 folded into the weights of i, f and o.
    The cache holds the inputs and parameters themselves, not copies.
    """
    x, params, real, (h0, c0), block_size = _check_inputs(x, state0, params, lengths)
    B, T, D = x.shape
    H = h0.shape[1]
    dtype = x.dtype
    # tanh(a ⊙ scale) ⊙ scale + shift is σ(a) in the blocks i, f, o and tanh(a) in g.
    scale, shift = np.full(4 * H, 0.5, dtype), np.full(4 * H, 0.5, dtype)
    scale[2 * H:3 * H], shift[2 * H:3 * H] = 1.0, 0.0
    peep = [0.5 * params[name] for name in PEEPHOLES] if "p_i" in params else None
    W_h = params["W_h"] * scale
    act = ((x.transpose(1, 0, 2).reshape(T * B, D) @ params["W_x"] + params["b"]) * scale
           ).reshape(T, B, 4 * H)           # overwritten, step by step, with [i | f | g | o]
    keep = None if lengths is None else ~real.T[:, :, None]    # (T, B, 1): True at padding
    h_new = np.empty((T, B, H), dtype)      # what each step computes
    c_new = np.empty((T, B, H), dtype)
    tanh_c = np.empty((T, B, H), dtype)
    h_states = h_new if keep is None else np.empty((T, B, H), dtype)   # the carried states
    c_states = c_new if keep is None else np.empty((T, B, H), dtype)
    ig = np.empty((B, H), dtype)
    h_prev, c_prev = h0, c0
    for t in range(T):
        a = act[t]
        a += h_prev @ W_h
        if peep is None:
            np.tanh(a, out=a)
            a *= scale
            a += shift
        else:
            a[:, :H] += peep[0] * c_prev
            a[:, H:2 * H] += peep[1] * c_prev
            ifg = a[:, :3 * H]
            np.tanh(ifg, out=ifg)
            ifg *= scale[:3 * H]
            ifg += shift[:3 * H]
        i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
        c = np.multiply(f, c_prev, out=c_new[t])
        c += np.multiply(i, g, out=ig)
        if peep is not None:
            o += peep[2] * c
            np.tanh(o, out=o)
            o *= 0.5
            o += 0.5
        np.tanh(c, out=tanh_c[t])
        np.multiply(o, tanh_c[t], out=h_new[t])
        if keep is not None:
            np.copyto(h_states[t], np.where(keep[t], h_prev, h_new[t]))
            np.copyto(c_states[t], np.where(keep[t], c_prev, c))
        h_prev, c_prev = h_states[t], c_states[t]
    h, c = h_new.transpose(1, 0, 2), c_new.transpose(1, 0, 2)
    if keep is not None:
        h, c = h * real[:, :, None], c * real[:, :, None]
    cache = {"x": x, "act": act, "tanh_c": tanh_c, "c_new": c_new, "h_states": h_states,
             "c_states": c_states, "h0": h0, "c0": c0, "keep": keep, "params": params,
             "block_size": block_size}
    if return_gates:
        gates = {name: act[:, :, k * H:(k + 1) * H].transpose(1, 0, 2).copy()
                 for k, name in enumerate(GATES)}
        return h, c, cache, gates
    return h, c, cache


def fast_lstm_backward(dh, cache, dc_last=None):
    """:func:`lstm_backward` for the cache of :func:`fast_lstm_forward`, written for speed: the
    local derivatives of all steps are computed before the loop, so that the loop only multiplies,
    and the parameter gradients and ``dx`` are one product each after it. Same arguments and
    results as :func:`lstm_backward` (equal to rounding)."""
    x, act, tanh_c, keep, params = (cache[k] for k in ("x", "act", "tanh_c", "keep", "params"))
    T, B, H = tanh_c.shape
    D = x.shape[2]
    dtype = act.dtype
    dh_tm = as_float_array("dh", dh, shape=(B, T, H)).astype(dtype).transpose(1, 0, 2)
    dc = np.zeros((B, H), dtype) if dc_last is None else \
        as_float_array("dc_last", dc_last, shape=(B, H)).astype(dtype)
    peep = [params[name] for name in PEEPHOLES] if "p_i" in params else None
    c_prev = np.concatenate([cache["c0"][None], cache["c_states"][:-1]])
    i, f, g, o = (act[:, :, k * H:(k + 1) * H] for k in range(4))
    # δa_t = [δc_t ⊙ P_i | δc_t ⊙ P_f | δc_t ⊙ P_g | δh_t ⊙ P_o] and δc_t += δh_t ⊙ Q.
    P = np.empty_like(act)
    P[:, :, :H] = g * i * (1.0 - i)
    P[:, :, H:2 * H] = c_prev * f * (1.0 - f)
    P[:, :, 2 * H:3 * H] = i * (1.0 - g * g)
    P[:, :, 3 * H:] = tanh_c * o * (1.0 - o)
    Q = o * (1.0 - tanh_c * tanh_c)
    if keep is not None:       # padding: no output to differentiate, nothing computed
        real = ~keep
        dh_tm = dh_tm * real
        P *= real
        Q *= real
    da = np.empty_like(act)
    W_h_T = np.ascontiguousarray(params["W_h"].T)
    dh_next = np.zeros((B, H), dtype)
    for t in reversed(range(T)):
        dh_t = dh_tm[t] + dh_next
        dat = da[t]
        np.multiply(dh_t, P[t, :, 3 * H:], out=dat[:, 3 * H:])
        dc += dh_t * Q[t]
        if peep is not None:
            dc += dat[:, 3 * H:] * peep[2]
        np.multiply(dc[:, None, :], P[t, :, :3 * H].reshape(B, 3, H),
                    out=dat[:, :3 * H].reshape(B, 3, H))
        dc_prev = dc * f[t]
        if peep is not None:
            dc_prev += dat[:, :H] * peep[0] + dat[:, H:2 * H] * peep[1]
        dh_prev = dat @ W_h_T
        if keep is None:
            dh_next, dc = dh_prev, dc_prev
        else:                  # a padded step passes the gradients straight on
            dh_next = np.where(keep[t], dh_t, dh_prev)
            dc = np.where(keep[t], dc, dc_prev)
    da_2d = da.reshape(T * B, 4 * H)
    h_prev = np.concatenate([cache["h0"][None], cache["h_states"][:-1]]).reshape(T * B, H)
    grads = {"W_x": x.transpose(1, 0, 2).reshape(T * B, D).T @ da_2d,
             "W_h": h_prev.T @ da_2d,
             "b": da_2d.sum(axis=0)}
    if peep is not None:
        grads["p_i"] = np.einsum("tbh,tbh->h", da[:, :, :H], c_prev)
        grads["p_f"] = np.einsum("tbh,tbh->h", da[:, :, H:2 * H], c_prev)
        grads["p_o"] = np.einsum("tbh,tbh->h", da[:, :, 3 * H:], cache["c_new"])
    dx = (da_2d @ params["W_x"].T).reshape(T, B, D).transpose(1, 0, 2)
    return _fold_blocks(grads, cache["block_size"]), dx, (dh_next, dc)


__all__ = ["GATES", "PEEPHOLES", "check_lstm_params", "fast_lstm_backward", "fast_lstm_forward",
           "init_lstm_params", "lstm_backward", "lstm_block_columns", "lstm_block_size",
           "lstm_forward", "lstm_step", "lstm_step_backward"]
