"""Layer normalisation (Ba et al. 2016): forward and hand-derived backward pass.

Each vector x (the last axis, D features) is normalised by its own mean and variance, then scaled
and shifted feature by feature::

    μ = (1/D) Σ_k x_k,   σ² = (1/D) Σ_k (x_k − μ)²        (biased variance, as torch)
    x̂ = (x − μ) / √(σ² + ε)
    y = γ ⊙ x̂ + β                                        γ, β (D,)

Unlike batch normalisation nothing is shared between the examples of a batch or the positions of a
sequence, so the layer behaves the same in training and at test time and for any length. This is
the normalisation of the Transformer (Vaswani et al. 2017) and of ``torch.nn.LayerNorm``.
The computation keeps the dtype of ``x`` (float64 by default).
"""

import numpy as np

from ..validate import as_float_array, check_positive_int, check_positive_number, describe
from .common import check_param_dict


def init_layer_norm_params(d):
    """``{"gamma": ones (d,), "beta": zeros (d,)}``: the layer starts as plain normalisation."""
    d = check_positive_int("d", d)
    return {"gamma": np.ones(d), "beta": np.zeros(d)}


def layer_norm_forward(x, params, eps=1e-5):
    """y = γ ⊙ (x − μ)/√(σ² + ε) + β over the last axis.

    Parameters
    ----------
    x : (..., D)
    params : dict with ``gamma`` (D,) and ``beta`` (D,) (see :func:`init_layer_norm_params`)
    eps : ε > 0, added to the variance (1e-5 as in torch)

    Returns ``y`` (..., D) and the cache of :func:`layer_norm_backward`.
    The cache holds the inputs and parameters themselves, not copies.
    """
    check_param_dict(params, ("gamma", "beta"))
    x = as_float_array("x", x)
    if x.ndim == 0:
        raise ValueError(f"x: expected shape (..., D), at least one dimension, got {describe(x)}")
    D = x.shape[-1]
    gamma, beta = (as_float_array(f"params[{name!r}]", params[name], shape=(D,))
                   .astype(x.dtype, copy=False) for name in ("gamma", "beta"))
    eps = check_positive_number("eps", eps)
    xc = x - x.mean(axis=-1, keepdims=True)
    var = np.mean(xc * xc, axis=-1, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = xc
    x_hat *= inv_std
    y = x_hat * gamma
    y += beta
    return y, {"x_hat": x_hat, "inv_std": inv_std, "gamma": gamma}


def layer_norm_backward(dy, cache):
    """Backward pass of :func:`layer_norm_forward`.

    With g = ∂L/∂x̂ = dy ⊙ γ, and means taken over the last axis::

        ∂L/∂x = (g − mean(g) − x̂ ⊙ mean(g ⊙ x̂)) / √(σ² + ε)
        ∂L/∂γ = Σ dy ⊙ x̂,   ∂L/∂β = Σ dy          (sums over all leading axes)

    Returns ``dx`` (..., D) and ``{"gamma": (D,), "beta": (D,)}``.
    """
    x_hat, inv_std, gamma = cache["x_hat"], cache["inv_std"], cache["gamma"]
    D = x_hat.shape[-1]
    dy = as_float_array("dy", dy, shape=x_hat.shape).astype(x_hat.dtype, copy=False)
    dy2, x_hat2 = dy.reshape(-1, D), x_hat.reshape(-1, D)
    grads = {"gamma": np.sum(dy2 * x_hat2, axis=0), "beta": dy2.sum(axis=0)}
    g = dy * gamma
    dx = g - g.mean(axis=-1, keepdims=True)
    dx -= x_hat * np.mean(g * x_hat, axis=-1, keepdims=True)
    dx *= inv_std
    return dx, grads


__all__ = ["init_layer_norm_params", "layer_norm_backward", "layer_norm_forward"]
