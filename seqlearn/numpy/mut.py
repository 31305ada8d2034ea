"""The three "mutant" gated cells MUT1, MUT2, MUT3 (forward pass only).

Jozefowicz, Zaremba & Sutskever (2015) searched over thousands of cell architectures by mutating
the GRU; these three were the best found, each about as good as the GRU or the LSTM (with a
forget-gate bias of 1) on their tasks. In this course's row-vector notation (x_t (B, D),
h_t (B, H); W_x· are (D, H), W_h· are (H, H), biases (H,))::

    MUT1:  z = σ(x_t W_xz + b_z)
           r = σ(x_t W_xr + h_t W_hr + b_r)
           h_{t+1} = tanh((r ⊙ h_t) W_hh + tanh(x_t) + b_h) ⊙ z + h_t ⊙ (1 − z)

    MUT2:  z = σ(x_t W_xz + h_t W_hz + b_z)
           r = σ(x_t + h_t W_hr + b_r)
           h_{t+1} = tanh((r ⊙ h_t) W_hh + x_t W_xh + b_h) ⊙ z + h_t ⊙ (1 − z)

    MUT3:  z = σ(x_t W_xz + tanh(h_t) W_hz + b_z)
           r = σ(x_t W_xr + h_t W_hr + b_r)
           h_{t+1} = tanh((r ⊙ h_t) W_hh + x_t W_xh + b_h) ⊙ z + h_t ⊙ (1 − z)

MUT1 adds tanh(x_t) and MUT2 adds x_t without a weight matrix, so both need D = H. All three
reset the state before the recurrent product, as Cho et al.'s GRU does, and interpolate with
the update gate z (z = 0 copies the state).
"""

import numpy as np

from ..validate import as_float_array, check_positive_int
from .lstm import _check_state, _sigmoid_

KINDS = ("MUT1", "MUT2", "MUT3")

# Parameter names and shapes, "D" and "H" standing for the sizes.
PARAM_SHAPES = {
    "MUT1": {"W_xz": ("D", "H"), "b_z": ("H",), "W_xr": ("D", "H"), "W_hr": ("H", "H"),
             "b_r": ("H",), "W_hh": ("H", "H"), "b_h": ("H",)},
    "MUT2": {"W_xz": ("D", "H"), "W_hz": ("H", "H"), "b_z": ("H",), "W_hr": ("H", "H"),
             "b_r": ("H",), "W_hh": ("H", "H"), "W_xh": ("D", "H"), "b_h": ("H",)},
    "MUT3": {"W_xz": ("D", "H"), "W_hz": ("H", "H"), "b_z": ("H",), "W_xr": ("D", "H"),
             "W_hr": ("H", "H"), "b_r": ("H",), "W_hh": ("H", "H"), "W_xh": ("D", "H"),
             "b_h": ("H",)},
}


def check_kind(kind, input_size=None, hidden_size=None):
    """Validate ``kind`` (one of MUT1, MUT2, MUT3) and, for MUT1/MUT2, that D = H."""
    if kind not in KINDS:
        raise ValueError(f"kind: expected one of {KINDS}, got {kind!r}")
    if kind in ("MUT1", "MUT2") and input_size is not None and input_size != hidden_size:
        raise ValueError(
            f"input_size: {kind} adds the input to a hidden-sized vector without a weight "
            f"matrix, so input_size must equal hidden_size ({hidden_size}), got {input_size}")
    return kind


def init_mut_params(kind, input_size, hidden_size, rng=None):
    """Parameters of a MUT cell (names in ``PARAM_SHAPES[kind]``), every entry from
    U(-1/√H, 1/√H) like the torch recurrent layers."""
    D = check_positive_int("input_size", input_size)
    H = check_positive_int("hidden_size", hidden_size)
    check_kind(kind, D, H)
    rng = np.random.default_rng() if rng is None else rng
    s = 1.0 / np.sqrt(H)
    sizes = {"D": D, "H": H}
    return {name: rng.uniform(-s, s, size=tuple(sizes[d] for d in dims))
            for name, dims in PARAM_SHAPES[kind].items()}


def _check_params(kind, params):
    if not isinstance(params, dict):
        raise TypeError(f"params: expected a dict, got {type(params).__name__}")
    names = PARAM_SHAPES[kind]
    missing = [n for n in names if n not in params]
    if missing:
        raise ValueError(f"params: missing {missing} for {kind} (expected keys {list(names)})")
    extra = [n for n in params if n not in names]
    if extra:
        raise ValueError(f"params: unexpected {extra} for {kind} (expected keys {list(names)}); "
                         f"were they made for another kind?")
    W_hh = as_float_array("params['W_hh']", params["W_hh"], ndim=2)
    H = W_hh.shape[0]
    D = as_float_array("params['W_xz']", params["W_xz"], ndim=2).shape[0]
    sizes = {"D": D, "H": H}
    checked = {name: as_float_array(f"params['{name}']", params[name],
                                    shape=tuple(sizes[d] for d in dims))
               for name, dims in names.items()}
    if kind in ("MUT1", "MUT2") and D != H:
        raise ValueError(f"params: {kind} needs input_size = hidden_size, but W_xz is ({D}, {H})")
    return checked, D, H


def mut_step(kind, x_t, h_prev, params):
    """One step of a MUT cell: h_{t+1} (B, H) from ``x_t`` (B, D) and ``h_prev`` = h_t (B, H)."""
    x_t = as_float_array("x_t", x_t, ndim=2)
    return mut_forward(kind, x_t[:, None, :], h_prev, params)[:, 0]


def mut_forward(kind, x, h0, params):
    """Run a MUT cell over a batch of sequences (the equations of the module docstring).

    Parameters
    ----------
    kind : "MUT1", "MUT2" or "MUT3"
    x : (B, T, D) inputs
    h0 : (B, H) initial state, or ``None`` for zeros
    params : dict as made by :func:`init_mut_params`

    Returns
    -------
    h : (B, T, H), the states after each step
    """
    check_kind(kind)
    p, D, H = _check_params(kind, params)
    x = as_float_array("x", x, shape=(None, None, D))
    B, T, _ = x.shape
    dtype = x.dtype
    p = {k: v.astype(dtype, copy=False) for k, v in p.items()}
    h = _check_state("h0", h0, B, H, dtype)
    out = np.empty((B, T, H), dtype)
    for t in range(T):
        x_t = x[:, t]
        if kind == "MUT1":
            z = _sigmoid_(x_t @ p["W_xz"] + p["b_z"])
            r = _sigmoid_(x_t @ p["W_xr"] + h @ p["W_hr"] + p["b_r"])
            cand = np.tanh((r * h) @ p["W_hh"] + np.tanh(x_t) + p["b_h"])
        elif kind == "MUT2":
            z = _sigmoid_(x_t @ p["W_xz"] + h @ p["W_hz"] + p["b_z"])
            r = _sigmoid_(x_t + h @ p["W_hr"] + p["b_r"])
            cand = np.tanh((r * h) @ p["W_hh"] + x_t @ p["W_xh"] + p["b_h"])
        else:
            z = _sigmoid_(x_t @ p["W_xz"] + np.tanh(h) @ p["W_hz"] + p["b_z"])
            r = _sigmoid_(x_t @ p["W_xr"] + h @ p["W_hr"] + p["b_r"])
            cand = np.tanh((r * h) @ p["W_hh"] + x_t @ p["W_xh"] + p["b_h"])
        h = cand * z + h * (1.0 - z)
        out[:, t] = h
    return out


__all__ = ["KINDS", "PARAM_SHAPES", "check_kind", "init_mut_params", "mut_forward", "mut_step"]
