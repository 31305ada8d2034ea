"""The three "mutant" gated cells MUT1, MUT2, MUT3 (forward pass only; the PyTorch version,
``seqlearn.torch.mut.MUT``, gets its gradients from autograd).

Jozefowicz, Zaremba & Sutskever (2015) evaluated over ten thousand cell architectures in an
evolutionary search; these are the three best cells they report, all close to the GRU, and the
best of them outperforms the LSTM and the GRU on some of their tasks but not on all. In this course's row-vector notation (x_t (B, D),
h_t (B, H); W_x· are (D, H), W_h· are (H, H), biases (H,)), with the state h_t made from x_t and
h_{t-1} (the paper makes h_{t+1} from x_t and h_t) and the candidate written h̃_t::

    MUT1:  1 − u_t = σ(x_t W_xz + b_z)
           r_t = σ(x_t W_xr + h_{t-1} W_hr + b_r)
           h̃_t = tanh((r_t ⊙ h_{t-1}) W_hh + tanh(x_t) + b_h)

    MUT2:  1 − u_t = σ(x_t W_xz + h_{t-1} W_hz + b_z)
           r_t = σ(x_t + h_{t-1} W_hr + b_r)
           h̃_t = tanh((r_t ⊙ h_{t-1}) W_hh + x_t W_xh + b_h)

    MUT3:  1 − u_t = σ(x_t W_xz + tanh(h_{t-1}) W_hz + b_z)
           r_t = σ(x_t W_xr + h_{t-1} W_hr + b_r)
           h̃_t = tanh((r_t ⊙ h_{t-1}) W_hh + x_t W_xh + b_h)

    all:   h_t = u_t ⊙ h_{t-1} + (1 − u_t) ⊙ h̃_t

The paper's gate is z_t = 1 − u_t: it opens towards the candidate, so z = 0 copies the state,
the opposite of the GRU's update gate u of chapter 6 (u = 1 copies). The parameters keep the
paper's names (``W_xz``, ``W_hz``, ``b_z`` are the weights of z). MUT1 adds tanh(x_t) to the
candidate and MUT2 adds x_t to the reset gate, both without a weight matrix, so both need D = H.
Compared with the GRU in the paper's form (reset before the recurrent product, one bias per
block), MUT1 drops W_xh and W_hz, MUT2 drops W_xr, and MUT3 keeps every matrix but feeds
tanh(h_{t-1}) to z. Each kind has its own set of parameter names (``PARAM_SHAPES``), so a
parameter dict tells which cell it belongs to (:func:`mut_kind`).
"""

import numpy as np

from ..validate import as_float_array, as_generator, check_positive_int
from .activations import sigmoid
from .common import check_step_shapes, initial_state, prepare_sequence

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
    rng = as_generator(rng)
    s = 1.0 / np.sqrt(H)
    sizes = {"D": D, "H": H}
    return {name: rng.uniform(-s, s, size=tuple(sizes[d] for d in dims))
            for name, dims in PARAM_SHAPES[kind].items()}


def mut_kind(params):
    """The kind ("MUT1", "MUT2" or "MUT3") whose parameter names (``PARAM_SHAPES[kind]``) are
    exactly the keys of the dict ``params``: each kind has its own set of names."""
    if not isinstance(params, dict):
        raise TypeError(f"params: expected a dict of a MUT's parameters, "
                        f"got {type(params).__name__}")
    for kind, names in PARAM_SHAPES.items():
        if set(params) == set(names):
            return kind
    expected = "; ".join(f"{kind}: {', '.join(names)}" for kind, names in PARAM_SHAPES.items())
    raise ValueError(f"params: the names {sorted(params)} are those of no MUT kind (expected "
                     f"those of one of {expected})")


def check_mut_params(params):
    """Check the parameter dict of a MUT cell (its kind found by :func:`mut_kind`); return a new
    dict of float arrays of the shapes in ``PARAM_SHAPES[kind]``.
    Float arrays are returned as they are, not copies.
    """
    kind = mut_kind(params)
    W_hh = as_float_array("params['W_hh']", params["W_hh"], ndim=2)
    sizes = {"D": as_float_array("params['W_xz']", params["W_xz"], ndim=2).shape[0],
             "H": W_hh.shape[0]}
    checked = {name: as_float_array(f"params['{name}']", params[name],
                                    shape=tuple(sizes[d] for d in dims))
               for name, dims in PARAM_SHAPES[kind].items()}
    if kind in ("MUT1", "MUT2") and sizes["D"] != sizes["H"]:
        raise ValueError(f"params: {kind} needs input_size = hidden_size, but W_xz is "
                         f"({sizes['D']}, {sizes['H']})")
    return checked


def mut_step(x_t, h_prev, params):
    """One step of the MUT cell whose parameters ``params`` holds (the kind is found from their
    names, :func:`mut_kind`): h_t (B, H) from ``x_t`` (B, D) and ``h_prev`` = h_{t-1} (B, H), by
    the equations of the module docstring (``z`` in the code is the paper's z = 1 − u)."""
    kind = mut_kind(params)
    check_step_shapes(x_t, params["W_xz"].shape[0], params["W_hh"].shape[0], h_prev=h_prev)
    p, h = params, h_prev
    if kind == "MUT1":
        z = sigmoid(x_t @ p["W_xz"] + p["b_z"])
        r = sigmoid(x_t @ p["W_xr"] + h @ p["W_hr"] + p["b_r"])
        cand = np.tanh((r * h) @ p["W_hh"] + np.tanh(x_t) + p["b_h"])
    elif kind == "MUT2":
        z = sigmoid(x_t @ p["W_xz"] + h @ p["W_hz"] + p["b_z"])
        r = sigmoid(x_t + h @ p["W_hr"] + p["b_r"])
        cand = np.tanh((r * h) @ p["W_hh"] + x_t @ p["W_xh"] + p["b_h"])
    else:
        z = sigmoid(x_t @ p["W_xz"] + np.tanh(h) @ p["W_hz"] + p["b_z"])
        r = sigmoid(x_t @ p["W_xr"] + h @ p["W_hr"] + p["b_r"])
        cand = np.tanh((r * h) @ p["W_hh"] + x_t @ p["W_xh"] + p["b_h"])
    return cand * z + h * (1.0 - z)


def mut_forward(x, h0, params, lengths=None):
    """Run a MUT cell over a batch of sequences, one :func:`mut_step` per time step.

    Parameters
    ----------
    x : (B, T, D) inputs
    h0 : (B, H) initial state, or ``None`` for zeros
    params : dict as made by :func:`init_mut_params` (its names tell the kind)
    lengths : optional (B,) integers in 1..T, the true lengths of right-padded sequences: at the
        padded steps t ≥ lengths[b] the state is carried unchanged and the output is zero

    Returns
    -------
    h : (B, T, H), the states h_1 .. h_T (zero at padded steps)
    """
    params = check_mut_params(params)
    x, params, real = prepare_sequence(x, params["W_xz"].shape[0], params, lengths)
    B, T, _ = x.shape
    h_prev = initial_state("h0", h0, B, params["W_hh"].shape[0], x.dtype)
    h = np.zeros((B, T, h_prev.shape[1]), x.dtype)
    for t in range(T):
        h_t = mut_step(x[:, t], h_prev, params)
        is_real = real[:, t, None]
        h_prev = np.where(is_real, h_t, h_prev)    # a padded step keeps the state ...
        h[:, t] = np.where(is_real, h_t, 0.0)      # ... and outputs zero
    return h


__all__ = ["KINDS", "PARAM_SHAPES", "check_kind", "check_mut_params", "init_mut_params",
           "mut_forward", "mut_kind", "mut_step"]
