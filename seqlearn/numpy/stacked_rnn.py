"""Stacked (deep) Elman RNNs: layer l reads the states of layer l-1 at the same time step.

For layers l = 1 .. L (h_t^(0) = x_t is the input)::

    h_t^(l) = tanh(h_t^(l-1) W_xh^(l) + h_{t-1}^(l) W_hh^(l) + b_h^(l))

Every layer is the single-layer RNN of :mod:`seqlearn.numpy.rnn` run over the whole output
sequence of the layer below, so the forward and backward passes are loops over the layers around
:func:`~seqlearn.numpy.rnn.rnn_forward` and :func:`~seqlearn.numpy.rnn.rnn_backward`.
``torch.nn.RNN(num_layers=L)`` computes the same function.
"""

import numpy as np

from ..validate import as_float_array, check_positive_int
from .rnn import _check_params, init_rnn_params, rnn_backward, rnn_forward


def init_stacked_rnn_params(input_size, hidden_size, num_layers, rng=None, scale=None):
    """A list of ``num_layers`` parameter dicts: layer 0 has ``W_xh`` (D, H), the others (H, H);
    each also ``W_hh`` (H, H) and ``b_h`` (H,), drawn as in
    :func:`~seqlearn.numpy.rnn.init_rnn_params`."""
    num_layers = check_positive_int("num_layers", num_layers)
    rng = np.random.default_rng() if rng is None else rng
    return [
        init_rnn_params(input_size if layer == 0 else hidden_size, hidden_size, rng=rng,
                        scale=scale)
        for layer in range(num_layers)
    ]


def _check_layers(params_list):
    if isinstance(params_list, dict) or not isinstance(params_list, (list, tuple)):
        raise TypeError(
            f"params_list: expected a list of parameter dicts (one per layer), "
            f"got {type(params_list).__name__}"
        )
    if len(params_list) == 0:
        raise ValueError("params_list: expected at least one layer, got an empty list")
    H = None
    for layer, params in enumerate(params_list):
        if not isinstance(params, dict):
            raise TypeError(
                f"params_list[{layer}]: expected a dict with W_xh, W_hh, b_h, "
                f"got {type(params).__name__}"
            )
        try:
            W_xh, W_hh, _ = _check_params(params)
        except (TypeError, ValueError) as err:
            raise type(err)(f"params_list[{layer}]: {err}") from None
        if H is None:
            H = W_hh.shape[0]
        elif W_xh.shape != (H, H) or W_hh.shape != (H, H):
            raise ValueError(
                f"params_list[{layer}]: layer {layer} reads the {H} states of the layer below, so "
                f"W_xh and W_hh must be ({H}, {H}); got {W_xh.shape} and {W_hh.shape}"
            )
    return len(params_list), H


def stacked_rnn_forward(x, h0, params_list):
    """Run a stack of ``L = len(params_list)`` Elman layers over a batch of sequences.

    Parameters
    ----------
    x : (B, T, D) inputs
    h0 : (L, B, H) initial states of every layer, or ``None`` for zeros
    params_list : list of L dicts ``{"W_xh", "W_hh", "b_h"}`` (layer 0 first)

    Returns
    -------
    h : (B, T, H), the states of the top layer h_1^(L) .. h_T^(L)
    h_last : (L, B, H), the last state h_T^(l) of every layer
    cache : what :func:`stacked_rnn_backward` needs
    """
    L, H = _check_layers(params_list)
    x = as_float_array("x", x, ndim=3)
    B = x.shape[0]
    if h0 is not None:
        h0 = as_float_array("h0", h0, shape=(L, B, H))
    caches, finals = [], []
    layer_input = x
    for layer, params in enumerate(params_list):
        try:
            h, cache = rnn_forward(layer_input, None if h0 is None else h0[layer], params)
        except ValueError as err:
            if layer == 0 and str(err).startswith("x:"):
                raise
            raise ValueError(f"layer {layer}: {err}") from None
        caches.append(cache)
        finals.append(h[:, -1])
        layer_input = h
    return layer_input, np.stack(finals), (caches, layer_input.shape)


def stacked_rnn_backward(dh, cache, dh_last=None):
    """Backpropagation through time through the whole stack, from the top layer down.

    ``dh`` (B, T, H) is ∂L/∂h_t^(L) for the top layer's states; ``dh_last`` (L, B, H), optional,
    is ∂L/∂h_T^(l) for the last state of each layer. Layer l's ∂L/∂x (its input's gradient) is the
    ``dh`` of layer l-1.

    Returns ``grads`` (a list of dicts like ``params_list``), ``dx`` (B, T, D) and ``dh0``
    (L, B, H).
    """
    caches, (B, T, H) = cache
    L = len(caches)
    dh = as_float_array("dh", dh, shape=(B, T, H))
    if dh_last is not None:
        dh_last = as_float_array("dh_last", dh_last, shape=(L, B, H))
    grads, dh0 = [None] * L, [None] * L
    upstream = dh
    for layer in reversed(range(L)):
        if dh_last is not None:
            upstream = upstream.copy()
            upstream[:, -1] += dh_last[layer]
        grads[layer], upstream, dh0[layer] = rnn_backward(upstream, caches[layer])
    return grads, upstream, np.stack(dh0)


__all__ = ["init_stacked_rnn_params", "stacked_rnn_forward", "stacked_rnn_backward"]
