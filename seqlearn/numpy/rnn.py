"""The Elman RNN, one layer or a stack: forward over a sequence and backpropagation through time.

Row-vector, batch-first convention (the notation table of the introduction)::

    a_t = x_t W_xh + h_{t-1} W_hh + b_h          x_t (B, D), h_t (B, H)
    h_t = tanh(a_t)                              W_xh (D, H), W_hh (H, H), b_h (H,)

A stack of M layers (``num_layers``) reads the states of layer l-1 at the same step
(h_t^(0) = x_t is the input; l = 1, ..., M)::

    h_t^(l) = tanh(h_t^(l-1) W_xh^(l) + h_{t-1}^(l) W_hh^(l) + b_h^(l))

Padded batches come with ``lengths`` (B,): step t of sequence b is real when t < lengths[b]; at
a padded step the state is carried unchanged and the output is zero.

``torch.nn.RNN`` stores the transposes (``weight_ih_l0 = W_xhᵀ``, ``weight_hh_l0 = W_hhᵀ``) and
two biases whose sum is ``b_h``. The PyTorch version, one layer or a stack, is
``seqlearn.torch.rnn.ElmanRNN``.
"""

import numpy as np

from ..validate import (as_float_array, as_generator, check_positive_int, check_positive_number,
                        describe)
from .common import (check_param_dict, check_step_shapes, initial_state, padding_mask,
                     prepare_sequence)

def init_rnn_params(input_size, hidden_size, rng=None, scale=None):
    """Parameters ``W_xh`` (D, H), ``W_hh`` (H, H), ``b_h`` (H,) drawn from U(-s, s), s = 1/sqrt(H)
    (the initialisation of ``nn.RNN``) unless ``scale`` is given. ``rng``: a
    ``numpy.random.Generator``, an int seed, or ``None`` (NumPy's global state, which
    ``seqlearn.seed`` sets)."""
    input_size = check_positive_int("input_size", input_size)
    hidden_size = check_positive_int("hidden_size", hidden_size)
    rng = as_generator(rng)
    s = 1.0 / np.sqrt(hidden_size) if scale is None else check_positive_number("scale", scale)
    return {
        "W_xh": rng.uniform(-s, s, size=(input_size, hidden_size)),
        "W_hh": rng.uniform(-s, s, size=(hidden_size, hidden_size)),
        "b_h": rng.uniform(-s, s, size=hidden_size),
    }


def check_rnn_params(params):
    """Check an Elman RNN parameter dict; return a new dict of float arrays ``W_xh`` (D, H),
    ``W_hh`` (H, H), ``b_h`` (H,), in that order.
    Float arrays are returned as they are, not copies.
    """
    check_param_dict(params, ("W_xh", "W_hh", "b_h"))
    W_hh = as_float_array("params['W_hh']", params["W_hh"], ndim=2)
    H = W_hh.shape[0]
    if W_hh.shape != (H, H):
        raise ValueError(f"params['W_hh']: expected a square (H, H) matrix, got shape {W_hh.shape}")
    return {
        "W_xh": as_float_array("params['W_xh']", params["W_xh"], shape=(None, H)),
        "W_hh": W_hh,
        "b_h": as_float_array("params['b_h']", params["b_h"], shape=(H,)),
    }


def rnn_step(x_t, h_prev, params):
    """One step, h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h), for x_t (B, D) and h_prev (B, H);
    ``params`` holds arrays (the step checks shapes only: :func:`rnn_forward` checks the rest once).

    Returns h_t (B, H) and the step's cache for :func:`rnn_step_backward`.
    The cache holds the inputs and parameters themselves, not copies.
    """
    check_step_shapes(x_t, *params["W_xh"].shape, h_prev=h_prev)    # W_xh is (D, H)
    h_t = np.tanh(x_t @ params["W_xh"] + h_prev @ params["W_hh"] + params["b_h"])
    return h_t, (x_t, h_prev, h_t)


def rnn_step_backward(dh_t, cache, params):
    """Backpropagation through one step, given all of ∂L/∂h_t (B, H)::

        δ_t = dh_t ⊙ (1 − h_t²)                           (δ_t = ∂L/∂a_t)
        ∂L/∂x_t = δ_t W_xhᵀ,   ∂L/∂h_{t-1} = δ_t W_hhᵀ

    The step's share of the parameter gradients is x_tᵀ δ_t, h_{t-1}ᵀ δ_t and Σ_batch δ_t;
    :func:`rnn_backward` sums those over all steps at once. Returns ``dx_t`` (B, D), ``dh_prev``
    (B, H) and ``delta_t`` (B, H).
    """
    x_t, h_prev, h_t = cache
    if getattr(dh_t, "shape", None) != h_t.shape:
        raise ValueError(f"dh_t: expected shape {h_t.shape} (as h_t), got {describe(dh_t)}")
    delta_t = dh_t * (1.0 - h_t**2)
    return delta_t @ params["W_xh"].T, delta_t @ params["W_hh"].T, delta_t


def rnn_forward(x, h0, params, lengths=None):
    """Run the RNN over a batch of sequences, one :func:`rnn_step` per time step.

    Parameters
    ----------
    x : (B, T, D) inputs
    h0 : (B, H) initial state, or ``None`` for zeros
    params : dict with ``W_xh`` (D, H), ``W_hh`` (H, H), ``b_h`` (H,)
    lengths : optional (B,) integers in 1..T, the true lengths of right-padded sequences: at the
        padded steps t ≥ lengths[b] the state is carried unchanged and the output is zero

    Returns
    -------
    h : (B, T, H), the states h_1 .. h_T (zero at padded steps)
    cache : what :func:`rnn_backward` needs: the inputs and the states h_0 .. h_T

    The computation keeps the dtype of ``x`` (float64 by default; float32 runs faster).
    The cache holds the inputs and parameters themselves, not copies.
    """
    params = check_rnn_params(params)
    x, params, real = prepare_sequence(x, params["W_xh"].shape[0], params, lengths)
    B, T, _ = x.shape
    h_prev = initial_state("h0", h0, B, params["W_hh"].shape[0], x.dtype)
    states = np.zeros((B, T + 1, h_prev.shape[1]), x.dtype)    # h_0 .. h_T, kept for BPTT
    states[:, 0] = h_prev
    h = np.zeros((B, T, h_prev.shape[1]), x.dtype)
    for t in range(T):
        h_t, _ = rnn_step(x[:, t], h_prev, params)
        is_real = real[:, t, None]
        h_prev = np.where(is_real, h_t, h_prev)    # a padded step keeps the state ...
        h[:, t] = np.where(is_real, h_t, 0.0)      # ... and outputs zero
        states[:, t + 1] = h_prev
    return h, {"x": x, "states": states, "real": real, "params": params}


def rnn_backward(dh, cache):
    """Backpropagation through time for :func:`rnn_forward`.

    Given ∂L/∂h_t for every step (``dh``, shape (B, T, H): the gradient arriving from the outputs
    at each step), run :func:`rnn_step_backward` backwards from t = T, each step receiving
    dh_t plus what h_t sent to step t+1::

        δ_t = (dh_t + δ_{t+1} W_hhᵀ) ⊙ (1 − h_t²)       (δ_t = ∂L/∂a_t)

    The parameter gradients are sums over time, ∂L/∂W_xh = Σ_t x_tᵀ δ_t,
    ∂L/∂W_hh = Σ_t h_{t-1}ᵀ δ_t, ∂L/∂b_h = Σ_t δ_t, each one product over all steps after the
    loop. A padded step passes the gradient of its state straight to the previous one.

    Returns ``grads`` (dict like ``params``), ``dx`` (B, T, D) and ``dh0`` (B, H).
    """
    params, real, x, states = cache["params"], cache["real"], cache["x"], cache["states"]
    B, T, D = x.shape
    H = params["W_hh"].shape[0]
    dh = as_float_array("dh", dh, shape=(B, T, H)).astype(x.dtype, copy=False)
    dx = np.zeros((B, T, D), x.dtype)
    delta = np.zeros((B, T, H), x.dtype)
    dh_next = np.zeros((B, H), x.dtype)      # what h_t sent to step t+1
    for t in reversed(range(T)):
        is_real = real[:, t, None]
        dh_t = np.where(is_real, dh[:, t] + dh_next, 0.0)
        step = (x[:, t], states[:, t], states[:, t + 1])     # the cache of rnn_step
        dx[:, t], dh_prev, delta[:, t] = rnn_step_backward(dh_t, step, params)
        dh_next = np.where(is_real, dh_prev, dh_next)        # a padded step passes it straight on
    x_all, h_prev_all, delta_all = (x.reshape(B * T, D), states[:, :-1].reshape(B * T, H),
                                    delta.reshape(B * T, H))
    grads = {"W_xh": x_all.T @ delta_all, "W_hh": h_prev_all.T @ delta_all,
             "b_h": delta_all.sum(axis=0)}
    return grads, dx, dh_next


# -- the concatenated form, and the unrolled network -----------------------------------------------

def concat_rnn_params(params):
    """The Elman step with one weight matrix: ``{"W": (D + H, H), "b_h": (H,)}``, W = [W_xh; W_hh]
    (W_xh on top of W_hh), so that, with [x_t, h_{t-1}] the two row vectors side by side (B, D + H),

        x_t W_xh + h_{t-1} W_hh + b_h = [x_t, h_{t-1}] W + b_h

    (the column-vector texts write W [x_t; h_{t-1}] + b with W = [W_xh, W_hh]ᵀ). The gates of an
    LSTM or a GRU are often written this way. :func:`split_rnn_params` is the inverse.
    """
    params = check_rnn_params(params)
    return {"W": np.concatenate([params["W_xh"], params["W_hh"]], axis=0),
            "b_h": params["b_h"].copy()}


def split_rnn_params(params, input_size):
    """The inverse of :func:`concat_rnn_params`: ``{"W" (D + H, H), "b_h" (H,)}`` and the input size
    D give ``{"W_xh": W[:D] (D, H), "W_hh": W[D:] (H, H), "b_h": (H,)}``."""
    check_param_dict(params, ("W", "b_h"))
    input_size = check_positive_int("input_size", input_size)
    W = as_float_array("params['W']", params["W"], ndim=2)
    H = W.shape[1]
    if W.shape[0] != input_size + H:
        raise ValueError(f"params['W']: expected shape (input_size + H, H) = ({input_size + H}, "
                         f"{H}), got shape {W.shape}")
    return check_rnn_params({"W_xh": W[:input_size].copy(), "W_hh": W[input_size:].copy(),
                             "b_h": as_float_array("params['b_h']", params["b_h"]).copy()})


def unrolled_mlp_params(x, params, W_hy, b_y):
    """The Elman RNN unrolled over one sequence, as the parameters of a feed-forward network.

    For one sequence ``x`` (T, D), the RNN's T steps followed by the read-out z_T = h_T W_hy + b_y
    are a multi-layer perceptron (``seqlearn.numpy.mlp``, tanh hidden layers, linear output) of
    T + 1 affine layers whose input is h_0::

        layer t = 1..T:  h_t = tanh(h_{t-1} W_t + b_t),  W_t = W_hh,  b_t = x_t W_xh + b_h
        layer T + 1:     z = h_T W_hy + b_y

    Every hidden layer has the same weights W_hh (tied weights); the inputs enter as the layers'
    biases. ``mlp_forward(h0, unrolled_mlp_params(x, params, W_hy, b_y))`` is z_T, and the
    gradients that ``mlp_backward`` gives the T copies of W_hh add up to backpropagation through
    time's ∂L/∂W_hh.

    Returns a dict ``W1`` (H, H), ``b1`` (H,), ..., ``W{T+1}`` = W_hy (H, V), ``b{T+1}`` = b_y (V,).
    The weights are the arrays ``params['W_hh']`` and ``W_hy`` themselves, not copies.
    """
    params = check_rnn_params(params)
    D, H = params["W_xh"].shape
    x = as_float_array("x", x, shape=(None, D))
    W_hy = as_float_array("W_hy", W_hy, shape=(H, None))
    b_y = as_float_array("b_y", b_y, shape=(W_hy.shape[1],))
    layers = {}
    for t, x_t in enumerate(x, start=1):
        layers[f"W{t}"] = params["W_hh"]
        layers[f"b{t}"] = x_t @ params["W_xh"] + params["b_h"]
    layers[f"W{len(x) + 1}"], layers[f"b{len(x) + 1}"] = W_hy, b_y
    return layers


# -- stacks of layers -----------------------------------------------------------------------------

def init_stacked_rnn_params(input_size, hidden_size, num_layers, rng=None, scale=None):
    """A list of ``num_layers`` parameter dicts: layer 0 has ``W_xh`` (D, H), the others (H, H);
    each also ``W_hh`` (H, H) and ``b_h`` (H,), drawn as in :func:`init_rnn_params`."""
    num_layers = check_positive_int("num_layers", num_layers)
    rng = as_generator(rng)
    return [init_rnn_params(input_size if layer == 0 else hidden_size, hidden_size, rng=rng,
                            scale=scale)
            for layer in range(num_layers)]


def check_stacked_rnn_params(params_list):
    """Check a list of per-layer parameter dicts (layer 0 first): every layer valid for
    :func:`check_rnn_params`, and each layer after the first reading the H states below it.
    Returns the list of checked dicts.
    Float arrays are returned as they are, not copies.
    """
    if not isinstance(params_list, (list, tuple)):
        raise TypeError(f"params_list: expected a list of parameter dicts (one per layer), "
                        f"got {type(params_list).__name__}")
    if len(params_list) == 0:
        raise ValueError("params_list: expected at least one layer, got an empty list")
    checked = []
    for layer, params in enumerate(params_list):
        try:
            checked.append(check_rnn_params(params))
        except (TypeError, ValueError) as err:
            raise type(err)(f"params_list[{layer}]: {err}") from None
    H = checked[0]["W_hh"].shape[0]
    for layer, params in enumerate(checked[1:], start=1):
        if params["W_xh"].shape != (H, H) or params["W_hh"].shape != (H, H):
            raise ValueError(
                f"params_list[{layer}]: layer {layer} reads the {H} states of the layer below, so "
                f"W_xh and W_hh must be ({H}, {H}); got {params['W_xh'].shape} and "
                f"{params['W_hh'].shape}")
    return checked


def stacked_rnn_forward(x, h0, params_list, lengths=None):
    """Run a stack of ``M = len(params_list)`` Elman layers over a batch of sequences: layer l is
    :func:`rnn_forward` over the output sequence of layer l-1.

    Parameters
    ----------
    x : (B, T, D) inputs
    h0 : (M, B, H) initial states of every layer, or ``None`` for zeros
    params_list : list of M dicts ``{"W_xh", "W_hh", "b_h"}`` (layer 0 first)
    lengths : optional (B,) integers in 1..T, as in :func:`rnn_forward`

    Returns
    -------
    h : (B, T, H), the states of the top layer h_1^(M) .. h_T^(M) (zero at padded steps)
    h_last : (M, B, H), the last state of every layer (at step lengths[b] − 1 with lengths)
    cache : what :func:`stacked_rnn_backward` needs
    The cache holds the inputs and parameters themselves, not copies.
    """
    params_list = check_stacked_rnn_params(params_list)
    M, H = len(params_list), params_list[0]["W_hh"].shape[0]
    x = as_float_array("x", x, ndim=3)
    B, T = x.shape[:2]
    if h0 is not None:
        h0 = as_float_array("h0", h0, shape=(M, B, H))
    last = np.full(B, T - 1) if lengths is None else padding_mask(lengths, T, B).sum(axis=1) - 1
    caches, finals = [], []
    layer_input = x
    for layer, params in enumerate(params_list):
        try:
            h, cache = rnn_forward(layer_input, None if h0 is None else h0[layer], params,
                                   lengths)
        except ValueError as err:
            if layer == 0:
                raise
            raise ValueError(f"layer {layer}: {err}") from None
        caches.append(cache)
        finals.append(h[np.arange(B), last])
        layer_input = h
    return layer_input, np.stack(finals), {"layers": caches, "last": last}


def stacked_rnn_backward(dh, cache, dh_last=None):
    """Backpropagation through time through the whole stack, from the top layer down.

    ``dh`` (B, T, H) is ∂L/∂h_t^(M) for the top layer's states (M layers, L the loss);
    ``dh_last`` (M, B, H), optional, is ∂L/∂h_last for the last state of each layer. Layer l's
    ∂L/∂x (its input's gradient) is the ``dh`` of layer l-1.

    Returns ``grads`` (a list of dicts like ``params_list``), ``dx`` (B, T, D) and ``dh0``
    (M, B, H).
    """
    caches, last = cache["layers"], cache["last"]
    M = len(caches)
    B, T, _ = caches[0]["x"].shape
    H = caches[0]["params"]["W_hh"].shape[0]
    upstream = as_float_array("dh", dh, shape=(B, T, H))
    if dh_last is not None:
        dh_last = as_float_array("dh_last", dh_last, shape=(M, B, H))
    grads, dh0 = [None] * M, [None] * M
    for layer in reversed(range(M)):
        if dh_last is not None:
            upstream = upstream.copy()
            upstream[np.arange(B), last] += dh_last[layer]
        grads[layer], upstream, dh0[layer] = rnn_backward(upstream, caches[layer])
    return grads, upstream, np.stack(dh0)


__all__ = ["check_rnn_params", "check_stacked_rnn_params", "concat_rnn_params", "init_rnn_params",
           "init_stacked_rnn_params", "rnn_backward", "rnn_forward", "rnn_step",
           "rnn_step_backward", "split_rnn_params", "stacked_rnn_backward",
           "stacked_rnn_forward", "unrolled_mlp_params"]
