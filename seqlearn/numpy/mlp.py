"""The multi-layer perceptron (feed-forward network) and backpropagation, written out by hand.

Layer sizes ``[D, H_1, ..., H_{M-1}, K]`` give M = ``num_layers`` affine layers with parameters
``W1`` (D, H_1), ``b1`` (H_1,), ..., ``WM`` (H_{M-1}, K), ``bM`` (K,) (the keys are ``"W1"``,
``"b1"``, ... with the layer's number). Row-vector convention, h_0 = x, equation (2.4)::

    a_l = h_{l-1} W_l + b_l,    h_l = f(a_l)        for l = 1 .. M-1   (hidden layers)
    z   = h_{M-1} W_M + b_M                          (linear output: regression values or logits)

Backpropagation runs the chain rule from the loss L back to the input (Rumelhart, Hinton &
Williams 1986), equations (2.6)-(2.7), with the examples as rows::

    δ_M = ∂L/∂z
    ∂L/∂W_l = h_{l-1}ᵀ δ_l,   ∂L/∂b_l = Σ_n δ_l[n],   ∂L/∂h_{l-1} = δ_l W_lᵀ
    δ_{l-1} = ∂L/∂h_{l-1} ⊙ f'(a_{l-1})
"""

import numpy as np
from tqdm.auto import tqdm

from ..validate import (as_float_array, as_generator, check_finite_loss, check_layer_sizes,
                        check_positive_int)
from .activations import get_activation, get_derivative
from .linear import init_linear_params, linear_backward, linear_forward
from .optim import SGD
from .softmax import softmax_cross_entropy


def init_mlp_params(sizes, rng=None, scale=None):
    """Parameters ``W1, b1, ..., WM, bM`` of the M affine layers of layer sizes
    ``[D, H_1, ..., H_{M-1}, K]``.

    Each ``W_l`` (n_in, n_out) ~ U(−s, s) with s = 1/sqrt(n_in) unless ``scale`` is given (the
    initialisation of ``nn.Linear``); biases (n_out,) start at zero. ``rng``: a
    ``numpy.random.Generator``, an int seed, or ``None`` (NumPy's global state, which
    ``seqlearn.seed`` sets).
    """
    sizes = check_layer_sizes("sizes", sizes)
    rng = as_generator(rng)
    params = {}
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        layer = init_linear_params(n_in, n_out, rng=rng, scale=scale)
        params[f"W{l}"], params[f"b{l}"] = layer["W"], layer["b"]
    return params


def check_mlp_params(params):
    """Check an MLP's parameter dict ``W1`` (D, H_1), ``b1`` (H_1,), ..., ``WM``, ``bM`` (K,):
    the keys, and that the layers chain (``W_l`` has as many rows as ``W_{l-1}`` has columns).

    Returns ``(params, num_layers)``: the parameters as float arrays, in a new dict, and the
    number M of affine layers.
    Float arrays are returned as they are, not copies.
    """
    if not isinstance(params, dict):
        raise TypeError(
            f"params: expected a dict with keys W1, b1, ..., got {type(params).__name__}")
    num_layers = 0
    while f"W{num_layers + 1}" in params:
        num_layers += 1
    expected = {f"{p}{l}" for l in range(1, num_layers + 1) for p in "Wb"}
    if num_layers == 0 or set(params) != expected:
        raise ValueError(f"params: expected the keys W1, b1, ..., WM, bM (M layers), "
                         f"got {sorted(params)}")
    checked, n_in = {}, None
    for l in range(1, num_layers + 1):
        W = as_float_array(f"params['W{l}']", params[f"W{l}"], ndim=2)
        if n_in is not None and W.shape[0] != n_in:
            raise ValueError(
                f"params['W{l}']: expected {n_in} rows (the outputs of layer {l - 1}), "
                f"got shape {W.shape}"
            )
        checked[f"W{l}"] = W
        checked[f"b{l}"] = as_float_array(f"params['b{l}']", params[f"b{l}"], shape=(W.shape[1],))
        n_in = W.shape[1]
    return checked, num_layers


def mlp_forward(x, params, activation="tanh"):
    """Forward pass of the MLP with M affine layers, equation (2.4): h_0 = x,
    h_l = f(h_{l-1} W_l + b_l) for l < M, z = h_{M-1} W_M + b_M (the activation ``"step"`` has
    no derivative and is refused).

    Parameters
    ----------
    x : (..., D) inputs
    params : dict ``W1`` (D, H_1), ``b1`` (H_1,), ..., ``WM`` (H_{M-1}, K), ``bM`` (K,)
    activation : the hidden layers' f: ``"tanh"``, ``"sigmoid"``, ``"relu"`` or ``"identity"``

    Returns
    -------
    z : (..., K), the output layer's activations (no f applied): regression values or logits
    cache : what :func:`mlp_backward` needs
    The cache holds the inputs and parameters themselves, not copies.
    """
    df = get_derivative(activation)
    f = get_activation(activation)
    params, num_layers = check_mlp_params(params)
    D = params["W1"].shape[0]
    x = as_float_array("x", x)
    if x.ndim == 0 or x.shape[-1] != D:
        raise ValueError(
            f"x: expected the last dimension to be {D} (rows of W1), got shape {x.shape}")
    h, layers, outputs = x, [], []
    for l in range(1, num_layers + 1):
        a, linear_cache = linear_forward(h, params[f"W{l}"], params[f"b{l}"])
        layers.append(linear_cache)
        h = f(a) if l < num_layers else a
        outputs.append(h)
    return h, (layers, outputs, df)


def mlp_backward(dz, cache):
    """Backpropagation, equations (2.6)-(2.7): given ∂L/∂z (..., K) return ``(grads, dx)``.

    From δ_M = ∂L/∂z: ∂L/∂W_l = h_{l-1}ᵀ δ_l, ∂L/∂b_l = Σ_n δ_l[n] (the sum over the leading
    axes), δ_{l-1} = δ_l W_lᵀ ⊙ f'(a_{l-1}). ``grads`` maps ``W1, b1, ..., WM, bM`` to their
    gradients (shaped like the parameters) and ``dx`` (..., D) is ∂L/∂x = δ_1 W_1ᵀ.
    """
    layers, outputs, df = cache
    z = outputs[-1]
    dz = as_float_array("dz", dz, shape=z.shape)
    num_layers = len(layers)
    grads, delta = {}, dz
    for l in range(num_layers, 0, -1):
        dh, layer_grads = linear_backward(delta, layers[l - 1])
        grads[f"W{l}"], grads[f"b{l}"] = layer_grads["W"], layer_grads["b"]
        if l > 1:
            delta = dh * df(outputs[l - 2])
    return {key: grads[key] for l in range(1, num_layers + 1) for key in (f"W{l}", f"b{l}")}, dh


LOSSES = ("mse", "cross_entropy")


def mlp_loss(z, t, loss="mse"):
    """The loss L of the outputs ``z`` (..., K) against the targets ``t``, and its gradient ∂L/∂z.
    Both are means: over the examples, and for the MSE over the K outputs too (chapter 2, (2.5)).

    ``loss="mse"``: t (..., K) real targets; with N examples (the leading axes) and K outputs,
    L = 1/(N K) Σ_{n,j} (z_nj − t_nj)², the mean over all N K entries (as ``torch.nn.MSELoss``),
    ∂L/∂z = 2 (z − t) / (N K).
    ``loss="cross_entropy"``: t (...) class indices, z logits; ŷ_n = softmax(z_n),
    L = −(1/N) Σ_n log ŷ_{n, t_n} over the N examples, ∂L/∂z_n = (ŷ_n − onehot(t_n)) / N
    (:func:`seqlearn.numpy.softmax.softmax_cross_entropy`).

    Returns ``(L, dz)``: a float and an array shaped like ``z``.
    """
    if loss == "mse":
        z = as_float_array("z", z)
        t = as_float_array("t", t)
        if t.shape != z.shape:
            raise ValueError(f"t: expected the shape of z {z.shape}, got {t.shape}")
        diff = z - t
        return float(np.mean(diff**2)), 2.0 * diff / diff.size
    if loss == "cross_entropy":
        return softmax_cross_entropy(z, t)
    raise ValueError(f"loss: expected one of {LOSSES}, got {loss!r}")


def mlp_loss_and_gradients(x, t, params, activation="tanh", loss="mse"):
    """The loss of the MLP on ``(x, t)`` (:func:`mlp_loss` of :func:`mlp_forward`) and the
    gradients of every parameter by :func:`mlp_backward`.

    x (..., D); t (..., K) for ``loss="mse"``, class indices (...) for ``"cross_entropy"``.
    Returns ``(L, grads)``: a float and a dict keyed and shaped like ``params``.
    """
    z, cache = mlp_forward(x, params, activation)
    value, dz = mlp_loss(z, t, loss)
    grads, _ = mlp_backward(dz, cache)
    return value, grads


def fit_full_batch(params, x, t, activation="tanh", loss="mse", optimizer="sgd", lr=0.1,
                   steps=1000, progress=False):
    """Train the MLP on all of ``(x, t)`` at once: ``steps`` steps of gradient descent
    θ ← θ − lr ∂L/∂θ, with L = :func:`mlp_loss` of :func:`mlp_forward` and the gradients of
    :func:`mlp_loss_and_gradients`.

    The arguments are those of ``seqlearn.torch.mlp.fit_full_batch`` (whose model carries its
    ``activation``). ``optimizer``: ``"sgd"``, plain gradient descent, the one the NumPy half
    implements (torch also has ``"adam"`` and ``"lbfgs"``). ``progress`` shows a tqdm bar.

    Returns ``(params, losses)``: new parameter arrays (the argument is not modified) and the
    loss before each step, (steps,). Stops with ``FloatingPointError`` if the loss becomes NaN
    or inf.
    """
    steps = check_positive_int("steps", steps)
    if optimizer != "sgd":
        raise ValueError(f"optimizer: expected 'sgd' (plain gradient descent, the NumPy half's "
                         f"only optimiser), got {optimizer!r}")
    optimiser = SGD(lr)
    params = {key: np.array(value, dtype=np.float64) for key, value in params.items()}
    losses = []
    for step in tqdm(range(steps), desc="training", disable=not progress, leave=False):
        value, grads = mlp_loss_and_gradients(x, t, params, activation, loss)
        losses.append(check_finite_loss(value, step, hint="lower the learning rate lr"))
        optimiser.step(params, grads)
    return params, np.array(losses)


__all__ = [
    "LOSSES", "check_mlp_params", "fit_full_batch", "init_mlp_params", "mlp_backward",
    "mlp_forward", "mlp_loss", "mlp_loss_and_gradients",
]
