"""The multi-layer perceptron (feed-forward network) and backpropagation, written out by hand.

Layer sizes ``[D, H_1, ..., H_{L-1}, K]`` give L affine layers with parameters ``W1`` (D, H_1),
``b1`` (H_1,), ..., ``WL`` (H_{L-1}, K), ``bL`` (K,). Row-vector convention, h_0 = x::

    a_l = h_{l-1} W_l + b_l,    h_l = f(a_l)        for l = 1 .. L-1   (hidden layers)
    y   = h_{L-1} W_L + b_L                          (linear output: regression values or logits)

Backpropagation runs the chain rule from the output back to the input (Rumelhart, Hinton &
Williams 1986)::

    δ_L = ∂L/∂y
    ∂L/∂W_l = h_{l-1}ᵀ δ_l,   ∂L/∂b_l = Σ_n δ_l,   ∂L/∂h_{l-1} = δ_l W_lᵀ
    δ_{l-1} = ∂L/∂h_{l-1} ⊙ f'(a_{l-1})
"""

import numpy as np

from ..validate import as_float_array, check_finite_loss, check_positive_int
from .activations import get_activation
from .linear import init_linear_params, linear_backward, linear_forward
from .softmax import softmax_cross_entropy


def _check_sizes(sizes):
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__") or len(sizes) < 2:
        raise ValueError(
            f"sizes: expected a list of at least two layer sizes [D, ..., K], got {sizes!r}"
        )
    return [check_positive_int(f"sizes[{i}]", s) for i, s in enumerate(sizes)]


def init_mlp_params(sizes, rng=None, scale=None):
    """Parameters ``W1, b1, ..., WL, bL`` for layer sizes ``[D, H_1, ..., K]``.

    Each ``W_l`` (n_in, n_out) ~ U(−s, s) with s = 1/sqrt(n_in) unless ``scale`` is given (the
    initialisation of ``nn.Linear``); biases start at zero.
    """
    sizes = _check_sizes(sizes)
    rng = np.random.default_rng(rng)
    params = {}
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        layer = init_linear_params(n_in, n_out, rng=rng, scale=scale)
        params[f"W{l}"], params[f"b{l}"] = layer["W"], layer["b"]
    return params


def mlp_layer_count(params):
    """The number L of affine layers in ``params`` (keys W1, b1, ..., WL, bL), after checking."""
    if not isinstance(params, dict):
        raise TypeError(f"params: expected a dict with keys W1, b1, ..., got {type(params).__name__}")
    L = 0
    while f"W{L + 1}" in params:
        L += 1
    expected = {f"{p}{l}" for l in range(1, L + 1) for p in "Wb"}
    if L == 0 or set(params) != expected:
        raise ValueError(
            f"params: expected the keys W1, b1, ..., WL, bL, got {sorted(params)}"
        )
    return L


def _check_params(params):
    L = mlp_layer_count(params)
    checked, n_in = {}, None
    for l in range(1, L + 1):
        W = as_float_array(f"params['W{l}']", params[f"W{l}"], ndim=2)
        if n_in is not None and W.shape[0] != n_in:
            raise ValueError(
                f"params['W{l}']: expected {n_in} rows (the outputs of layer {l - 1}), "
                f"got shape {W.shape}"
            )
        checked[f"W{l}"] = W
        checked[f"b{l}"] = as_float_array(f"params['b{l}']", params[f"b{l}"], shape=(W.shape[1],))
        n_in = W.shape[1]
    return checked, L


def mlp_forward(x, params, activation="tanh"):
    """Forward pass of the MLP.

    Parameters
    ----------
    x : (..., D) inputs
    params : dict ``W1`` (D, H_1), ``b1`` (H_1,), ..., ``WL`` (H_{L-1}, K), ``bL`` (K,)
    activation : the hidden layers' f: ``"tanh"``, ``"sigmoid"``, ``"relu"`` or ``"identity"``

    Returns
    -------
    y : (..., K), the output layer's activations (no f applied)
    cache : what :func:`mlp_backward` needs
    """
    f, df = get_activation(activation, differentiable=True)
    params, L = _check_params(params)
    D = params["W1"].shape[0]
    x = as_float_array("x", x)
    if x.ndim == 0 or x.shape[-1] != D:
        raise ValueError(f"x: expected the last dimension to be {D} (rows of W1), got shape {x.shape}")
    h, layers, outputs = x, [], []
    for l in range(1, L + 1):
        a, linear_cache = linear_forward(h, params[f"W{l}"], params[f"b{l}"])
        layers.append(linear_cache)
        h = f(a) if l < L else a
        outputs.append(h)
    return h, (layers, outputs, df)


def mlp_backward(dy, cache):
    """Backpropagation: given ∂L/∂y (..., K) return ``(grads, dx)``.

    ``grads`` maps ``W1, b1, ..., WL, bL`` to their gradients (shaped like the parameters) and
    ``dx`` (..., D) is ∂L/∂x.
    """
    layers, outputs, df = cache
    y = outputs[-1]
    dy = as_float_array("dy", dy, shape=y.shape)
    L = len(layers)
    grads, delta = {}, dy
    for l in range(L, 0, -1):
        dh, layer_grads = linear_backward(delta, layers[l - 1])
        grads[f"W{l}"], grads[f"b{l}"] = layer_grads["W"], layer_grads["b"]
        if l > 1:
            delta = dh * df(outputs[l - 2])
    return {key: grads[key] for l in range(1, L + 1) for key in (f"W{l}", f"b{l}")}, dh


def mse_loss(y, t):
    """Mean squared error over all entries and its gradient.

    L = (1 / M) Σ_i (y_i − t_i)², M = the number of entries (as ``torch.nn.MSELoss``);
    returns ``(L, ∂L/∂y)`` with ∂L/∂y = 2 (y − t) / M.
    """
    y = as_float_array("y", y)
    t = as_float_array("t", t)
    if t.shape != y.shape:
        raise ValueError(f"t: expected the shape of y {y.shape}, got {t.shape}")
    diff = y - t
    return float(np.mean(diff**2)), 2.0 * diff / diff.size


LOSSES = ("mse", "cross_entropy")


def mlp_loss_and_gradients(x, t, params, activation="tanh", loss="mse"):
    """Loss of the MLP on ``(x, t)`` and the gradients of every parameter.

    ``loss="mse"``: t has the shape of the outputs (..., K), see :func:`mse_loss`.
    ``loss="cross_entropy"``: t (...) holds class indices, the outputs are logits, see
    :func:`seqlearn.numpy.softmax.softmax_cross_entropy`.

    Returns ``(loss value, grads)`` with ``grads`` keyed like ``params``.
    """
    y, cache = mlp_forward(x, params, activation)
    if loss == "mse":
        value, dy = mse_loss(y, t)
    elif loss == "cross_entropy":
        value, dy = softmax_cross_entropy(y, t)
    else:
        raise ValueError(f"loss: expected one of {LOSSES}, got {loss!r}")
    grads, _ = mlp_backward(dy, cache)
    return value, grads


def fit_full_batch(params, x, t, activation="tanh", loss="mse", lr=0.1, steps=1000):
    """Plain full-batch gradient descent θ ← θ − η ∂L/∂θ for ``steps`` steps.

    Returns ``(params, losses)``: new parameter arrays (the argument is not modified) and the
    loss before each step. Stops with ``FloatingPointError`` if the loss becomes NaN or inf.
    """
    steps = check_positive_int("steps", steps)
    if isinstance(lr, bool) or not isinstance(lr, (int, float, np.number)) or not lr > 0:
        raise ValueError(f"lr: expected a positive number, got {lr!r}")
    params = {key: np.array(value, dtype=np.float64) for key, value in params.items()}
    losses = []
    for step in range(steps):
        value, grads = mlp_loss_and_gradients(x, t, params, activation, loss)
        losses.append(check_finite_loss(value, step, hint="lower the learning rate lr"))
        for key in params:
            params[key] -= lr * grads[key]
    return params, np.array(losses)
