"""The affine layer y = x W + b, forward and backward (row-vector convention, batch-first)."""

import numpy as np

from ..validate import as_float_array


def init_linear_params(in_features, out_features, rng=None, scale=None):
    """Weights ``W`` (in_features, out_features) ~ U(-s, s) with s = 1/sqrt(in_features) unless
    ``scale`` is given, and zero bias ``b`` (out_features,)."""
    rng = np.random.default_rng() if rng is None else rng
    s = 1.0 / np.sqrt(in_features) if scale is None else scale
    return {
        "W": rng.uniform(-s, s, size=(in_features, out_features)),
        "b": np.zeros(out_features),
    }


def linear_forward(x, W, b):
    """y = x W + b for x of shape (..., in_features); returns (y, cache)."""
    W = as_float_array("W", W, ndim=2)
    b = as_float_array("b", b, shape=(W.shape[1],))
    x = as_float_array("x", x)
    if x.shape[-1] != W.shape[0]:
        raise ValueError(
            f"x: expected the last dimension to be {W.shape[0]} (rows of W), got shape {x.shape}"
        )
    return x @ W + b, (x, W)


def linear_backward(dy, cache):
    """Given dL/dy (..., out_features) return dL/dx, dL/dW = Σ xᵀ dy, dL/db = Σ dy."""
    x, W = cache
    x2, dy2 = x.reshape(-1, x.shape[-1]), dy.reshape(-1, dy.shape[-1])
    return dy @ W.T, {"W": x2.T @ dy2, "b": dy2.sum(axis=0)}
