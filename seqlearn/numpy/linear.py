"""The affine layer y = x W + b, forward and backward (row-vector convention, batch-first).

    y = x W + b                      x (..., D_in), W (D_in, D_out), b (D_out,), y (..., D_out)
    ∂L/∂x = (∂L/∂y) Wᵀ,   ∂L/∂W = Σ xᵀ (∂L/∂y),   ∂L/∂b = Σ ∂L/∂y   (sums over the leading axes)
"""

import numpy as np

from ..validate import as_float_array, as_generator, check_positive_int, check_positive_number


def init_linear_params(in_features, out_features, rng=None, scale=None):
    """Weights ``W`` (in_features, out_features) ~ U(−s, s), s = 1/sqrt(in_features) unless
    ``scale`` is given (the initialisation of ``nn.Linear``), and a zero bias ``b`` (out_features,).

    ``rng``: a ``numpy.random.Generator``, an int seed, or ``None`` (NumPy's global state, which
    ``seqlearn.seed`` sets).
    """
    in_features = check_positive_int("in_features", in_features)
    out_features = check_positive_int("out_features", out_features)
    rng = as_generator(rng)
    s = 1.0 / np.sqrt(in_features) if scale is None else check_positive_number("scale", scale)
    return {
        "W": rng.uniform(-s, s, size=(in_features, out_features)),
        "b": np.zeros(out_features),
    }


def linear_forward(x, W, b):
    """y = x W + b for x (..., D_in), W (D_in, D_out), b (D_out,); returns ``(y, cache)`` with
    y (..., D_out).
    The cache holds the inputs and parameters themselves, not copies.
    """
    W = as_float_array("W", W, ndim=2)
    b = as_float_array("b", b, shape=(W.shape[1],))
    x = as_float_array("x", x)
    if x.ndim == 0 or x.shape[-1] != W.shape[0]:
        raise ValueError(
            f"x: expected the last dimension to be {W.shape[0]} (rows of W), got shape {x.shape}"
        )
    return x @ W + b, (x, W)


def linear_backward(dy, cache):
    """Given ∂L/∂y (..., D_out) return ``(dx, grads)``: ∂L/∂x = dy Wᵀ (..., D_in) and
    ``grads = {"W": Σ xᵀ dy (D_in, D_out), "b": Σ dy (D_out,)}``, summed over the leading axes.
    NaN or inf in ``dy`` pass through: a diverging trainer reports them with its loss."""
    x, W = cache
    dy = as_float_array("dy", dy, shape=x.shape[:-1] + (W.shape[1],), finite=False)
    x2, dy2 = x.reshape(-1, x.shape[-1]), dy.reshape(-1, dy.shape[-1])
    return dy @ W.T, {"W": x2.T @ dy2, "b": dy2.sum(axis=0)}


__all__ = ["init_linear_params", "linear_backward", "linear_forward"]
