"""How gradients flow backwards through an RNN: the per-step Jacobians, their products, and the
initialisers that keep those products from vanishing or exploding.

Row-vector, batch-first convention (as in ``seqlearn.numpy.rnn``)::

    a_t = x_t W_xh + h_{t-1} W_hh + b_h,      h_t = f(a_t),      f ∈ {tanh, relu, linear}

Component i of h_t depends on component j of h_{t-1} through W_hh[j, i], so the Jacobian, with
rows indexing h_t and columns h_{t-1}, is::

    J_t = ∂h_t/∂h_{t-1} = diag(f'(a_t)) W_hhᵀ                      (H, H)

and a row gradient travels one step back as ∂L/∂h_{t-1} = (∂L/∂h_t) J_t. Over many steps::

    ∂h_T/∂h_t = J_T J_{T-1} ··· J_{t+1}

a product of T − t matrices: BPTT through T steps is as deep as a T-layer network.

:func:`state_jacobians`, :func:`backward_jacobian_products`,
:func:`gradient_norms_through_time`, :func:`input_jacobians`, :func:`input_sensitivity` and
:func:`first_input_effect` take the inputs
``(x, h0, params)``, as ``seqlearn.torch.gradient_flow`` takes ``(x, h0, model)`` and gets the
same numbers from autograd; :func:`jacobians_from_states` and :func:`jacobian_products` are the
two formulas they are made of.
"""

import numpy as np

from ..validate import as_float_array, as_generator, check_positive_int
from .activations import get_activation, get_derivative
from .common import initial_state
from .rnn import check_rnn_params

#: Nonlinearity names accepted here ("linear" and "identity" are the same thing).
NONLINEARITIES = ("tanh", "relu", "linear")


def _activation(nonlinearity):
    if nonlinearity not in NONLINEARITIES + ("identity",):
        raise ValueError(
            f"nonlinearity: expected one of {list(NONLINEARITIES)}, got {nonlinearity!r}"
        )
    name = "identity" if nonlinearity == "linear" else nonlinearity
    return get_activation(name), get_derivative(name)


def _check_number(name, value, minimum=None):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value) or (minimum is not None and value < minimum):
        limit = f" >= {minimum}" if minimum is not None else ""
        raise ValueError(f"{name}: expected a finite number{limit}, got {value!r}")
    return float(value)


def _check_W_hh(W_hh):
    W_hh = as_float_array("W_hh", W_hh, ndim=2)
    if W_hh.shape[0] != W_hh.shape[1]:
        raise ValueError(f"W_hh: expected a square (H, H) matrix, got shape {W_hh.shape}")
    return W_hh


def rnn_states(x, h0, params, nonlinearity="tanh"):
    """The states h_1 .. h_T of ``h_t = f(x_t W_xh + h_{t-1} W_hh + b_h)``.

    x : (B, T, D); h0 : (B, H) or ``None`` for zeros; params : ``W_xh`` (D, H), ``W_hh`` (H, H),
    ``b_h`` (H,). Returns h : (B, T, H). With ``nonlinearity="tanh"`` this is
    ``seqlearn.numpy.rnn.rnn_forward``; here f may also be ``"relu"`` or ``"linear"``.
    """
    f, _ = _activation(nonlinearity)
    params = check_rnn_params(params)
    W_xh, W_hh, b_h = params["W_xh"], params["W_hh"], params["b_h"]
    x = as_float_array("x", x, shape=(None, None, W_xh.shape[0]))
    B, T, _ = x.shape
    h = initial_state("h0", h0, B, W_hh.shape[0], x.dtype)
    states = np.empty((B, T, h.shape[1]))
    for t in range(T):
        h = f(x[:, t] @ W_xh + h @ W_hh + b_h)
        states[:, t] = h
    return states


def jacobians_from_states(h, W_hh, nonlinearity="tanh"):
    """The per-step Jacobians J_t = ∂h_t/∂h_{t-1} = diag(f'(a_t)) W_hhᵀ, for t = 1 .. T, from the
    states of a forward pass.

    Parameters
    ----------
    h : (B, T, H), the states h_1 .. h_T of a forward pass (f' is computed from them:
        1 − h² for tanh, [h > 0] for relu, 1 for linear)
    W_hh : (H, H), the recurrent weights in the row convention a_t = ... + h_{t-1} W_hh
    nonlinearity : "tanh", "relu" or "linear"

    Returns
    -------
    J : (B, T, H, H) with ``J[b, t-1, i, j] = ∂h_{t,i}/∂h_{t-1,j} = f'(a_{t,i}) W_hh[j, i]``.
    """
    _, f_prime = _activation(nonlinearity)
    W_hh = _check_W_hh(W_hh)
    h = as_float_array("h", h, shape=(None, None, W_hh.shape[0]))
    # diag(d) Wᵀ scales row i of Wᵀ by d_i: a broadcast, no diagonal matrix needed.
    return f_prime(h)[..., :, None] * W_hh.T


def jacobian_products(jacobians):
    """All products P_t = ∂h_T/∂h_t = J_T J_{T-1} ··· J_{t+1} for t = 0 .. T, from the Jacobians.

    jacobians : (B, T, H, H) from :func:`jacobians_from_states` (index t-1 holds J_t).
    Returns P : (B, T + 1, H, H); ``P[:, T]`` is the identity and ``P[:, 0] = ∂h_T/∂h_0``.
    Computed backwards, as BPTT does: P_{t-1} = P_t J_t.
    """
    J = as_float_array("jacobians", jacobians, ndim=4)
    B, T, H, H2 = J.shape
    if H != H2:
        raise ValueError(f"jacobians: expected square (B, T, H, H) blocks, got shape {J.shape}")
    P = np.empty((B, T + 1, H, H))
    P[:, T] = np.eye(H)
    for t in range(T, 0, -1):
        P[:, t - 1] = P[:, t] @ J[:, t - 1]
    return P


def state_jacobians(x, h0, params, nonlinearity="tanh"):
    """J_t = ∂h_t/∂h_{t-1} for t = 1 .. T of the RNN run on ``x`` from ``h0``: (B, T, H, H).

    x : (B, T, D); h0 : (B, H) or ``None``; params as in :func:`rnn_states`. The states come from
    :func:`rnn_states`, the Jacobians from :func:`jacobians_from_states`.
    """
    h = rnn_states(x, h0, params, nonlinearity)
    return jacobians_from_states(h, params["W_hh"], nonlinearity)


def backward_jacobian_products(x, h0, params, nonlinearity="tanh"):
    """∂h_T/∂h_t = J_T ··· J_{t+1} for t = 0 .. T of the RNN run on ``x`` from ``h0``:
    (B, T + 1, H, H), index T the identity (:func:`jacobian_products` of
    :func:`state_jacobians`)."""
    return jacobian_products(state_jacobians(x, h0, params, nonlinearity))


def gradient_norms_through_time(x, h0, params, nonlinearity="tanh"):
    """Spectral norms ‖∂h_T/∂h_t‖₂ for t = 0 .. T: how strongly the last state still responds to
    each earlier one (and so how much gradient from a loss at T reaches step t).

    x : (B, T, D); h0 : (B, H) or ``None``; params as in :func:`rnn_states`.
    Returns (B, T + 1); entry T is 1.
    """
    P = backward_jacobian_products(x, h0, params, nonlinearity)
    return np.linalg.norm(P, ord=2, axis=(-2, -1))


def input_jacobians(x, h0, params, nonlinearity="tanh"):
    """Sensitivity of every state to the FIRST input: ∂h_t/∂x_1 for t = 1 .. T.

    ∂h_t/∂x_1 = (∂h_t/∂h_1) diag(f'(a_1)) W_xhᵀ, with ∂h_t/∂h_1 = J_t ··· J_2.

    x : (B, T, D); h0 : (B, H) or ``None``; params as in :func:`rnn_states`.
    Returns (B, T, H, D). A loss ℓ_t that depends on h_t has ∂ℓ_t/∂x_1 = (∂ℓ_t/∂h_t)(∂h_t/∂x_1).
    """
    x = as_float_array("x", x, ndim=3)
    h = rnn_states(x, h0, params, nonlinearity)
    _, f_prime = _activation(nonlinearity)
    J = jacobians_from_states(h, params["W_hh"], nonlinearity)
    B, T, H = h.shape
    sens = np.empty((B, T, H, x.shape[2]))
    sens[:, 0] = f_prime(h[:, 0])[..., :, None] * np.asarray(params["W_xh"], dtype=float).T
    for t in range(1, T):
        sens[:, t] = J[:, t] @ sens[:, t - 1]
    return sens


def input_sensitivity(x, h0, params, nonlinearity="tanh"):
    """How strongly each state still depends on the first input: ‖∂h_t/∂x_1‖ for t = 1 .. T.

    The norm is the Frobenius norm of the (H, D) Jacobian of :func:`input_jacobians`, the
    root of the sum of the squares of ∂h_{t,i}/∂x_{1,d}; for D = 1 it is the length of the
    vector ∂h_t/∂x_1. x : (B, T, D); h0 : (B, H) or ``None``; params as in :func:`rnn_states`.
    Returns (B, T), one curve per sequence.
    """
    return np.linalg.norm(input_jacobians(x, h0, params, nonlinearity), axis=(2, 3))


def first_input_effect(x, h0, params, nonlinearity="tanh"):
    """How much the states change when the first input is negated: ‖h_t(x) − h_t(x̃)‖ for
    t = 1 .. T, where x̃ is x with x_1 replaced by −x_1 (for inputs ±1, the other bit).

    The finite counterpart of :func:`input_sensitivity`: a network that holds the first bit in
    one of two attracting states keeps this large while ∂h_t/∂x_1 is tiny, since a small change
    of x_1 no longer moves the state. For a linear RNN it equals ‖(∂h_t/∂x_1) 2 x_1‖.
    x : (B, T, D); h0 : (B, H) or ``None``; params as in :func:`rnn_states`. Returns (B, T).
    """
    x = as_float_array("x", x, ndim=3)
    flipped = x.copy()
    flipped[:, 0] = -flipped[:, 0]
    return np.linalg.norm(rnn_states(x, h0, params, nonlinearity)
                          - rnn_states(flipped, h0, params, nonlinearity), axis=2)


def one_unit_rnn_loss(w, b, h0=0.5, steps=20, target=0.6):
    """The smallest RNN with a cliff: one tanh unit without inputs, h_t = tanh(w h_{t-1} + b),
    run for ``steps`` steps from ``h0``, its loss L = (h_T − target)², and the gradient of L by
    BPTT, written out for a scalar state::

        δ_t = ∂L/∂a_t = (∂L/∂h_t)(1 − h_t²),   ∂L/∂h_{t-1} = δ_t w,
        ∂L/∂w = Σ_t δ_t h_{t-1},               ∂L/∂b = Σ_t δ_t

    w, b : numbers or arrays that broadcast together (a grid of them); every entry is its own
    network. Returns ``(L, dL_dw, dL_db)``, arrays of the broadcast shape.
    """
    w, b = as_float_array("w", w), as_float_array("b", b)
    try:
        w, b = np.broadcast_arrays(w, b)
    except ValueError:
        raise ValueError(f"b: expected a shape that broadcasts with w {w.shape}, got shape "
                         f"{b.shape}") from None
    steps = check_positive_int("steps", steps)
    hs = [np.full(w.shape, _check_number("h0", h0))]
    for _ in range(steps):
        hs.append(np.tanh(w * hs[-1] + b))
    target = _check_number("target", target)
    loss = (hs[-1] - target) ** 2
    dh, dw, db = 2 * (hs[-1] - target), np.zeros(w.shape), np.zeros(w.shape)
    for t in range(steps, 0, -1):
        delta = dh * (1 - hs[t] ** 2)
        dw, db, dh = dw + delta * hs[t - 1], db + delta, delta * w
    return loss, dw, db


def linear_power_norms(W, v, steps):
    """‖v Wᵗ‖ for t = 0 .. steps: a row vector sent through the linear recurrence h_t = h_{t-1} W.

    For a symmetric W = Q Λ Qᵀ and v = Σ c_i q_iᵀ this is sqrt(Σ c_i² λ_i^{2t}): the components
    along eigenvalues with ``|λ| < 1`` vanish, those along ``|λ| > 1`` explode.

    W : (H, H); v : (H,); steps : int ≥ 1. Returns (steps + 1,).
    """
    W = _check_W_hh(W)
    v = as_float_array("v", v, shape=(W.shape[0],))
    steps = check_positive_int("steps", steps)
    norms = np.empty(steps + 1)
    for t in range(steps + 1):
        norms[t] = np.linalg.norm(v)
        v = v @ W
    return norms


def spectral_radius(W):
    """``ρ(W) = max |λ_i(W)|``, the largest eigenvalue modulus of a square matrix W (H, H)."""
    W = _check_W_hh(W)
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def scaled_to_spectral_radius(W, rho):
    """W · ρ / ρ(W): the same matrix rescaled so that its spectral radius is exactly ``rho``.

    W : (H, H) with ρ(W) > 0; rho : a non-negative number. Returns a new (H, H) array.
    Scaling by a constant multiplies every eigenvalue by it, so the result has radius ``rho``.
    """
    W = _check_W_hh(W)
    rho = _check_number("rho", rho, minimum=0)
    current = spectral_radius(W)
    if current == 0:
        raise ValueError("W: has spectral radius 0 (nilpotent or zero), it cannot be rescaled")
    return W * (rho / current)


def orthogonal_matrix(n, rng=None, gain=1.0):
    """A random orthogonal (n, n) matrix times ``gain``, uniform over the orthogonal group.

    QR of a Gaussian matrix gives an orthogonal Q; flipping each column by the sign of R's
    diagonal makes the distribution uniform (Haar). Every singular value equals ``|gain|``, so
    products of such matrices neither shrink nor grow a vector (Saxe et al., 2014). ``rng``: a
    ``numpy.random.Generator``, an int seed, or ``None`` (NumPy's global state, which
    ``seqlearn.seed`` sets).
    """
    n = check_positive_int("n", n)
    gain = _check_number("gain", gain)
    q, r = np.linalg.qr(as_generator(rng).normal(size=(n, n)))
    q *= np.where(np.diag(r) < 0, -1.0, 1.0)
    return gain * q


def init_irnn_params(input_size, hidden_size, rng=None, gain=1.0, input_scale=0.001):
    """IRNN initialisation (Le, Jaitly & Hinton, 2015), for a ReLU RNN: W_hh = gain · I,
    b_h = 0, W_xh ~ N(0, input_scale²). Returns ``{"W_xh" (D, H), "W_hh" (H, H), "b_h" (H,)}``.

    With W_hh = I and ReLU, every active unit passes its state on unchanged: J_t has ones on the
    diagonal of the active units and zeros elsewhere, so gradients neither grow nor shrink.
    ``rng`` as in :func:`orthogonal_matrix`.
    """
    D = check_positive_int("input_size", input_size)
    H = check_positive_int("hidden_size", hidden_size)
    gain = _check_number("gain", gain)
    input_scale = _check_number("input_scale", input_scale, minimum=0)
    rng = as_generator(rng)
    return {"W_xh": rng.normal(0.0, input_scale, size=(D, H)), "W_hh": gain * np.eye(H),
            "b_h": np.zeros(H)}


__all__ = [
    "NONLINEARITIES", "backward_jacobian_products", "first_input_effect",
    "gradient_norms_through_time", "init_irnn_params", "input_jacobians", "input_sensitivity",
    "jacobian_products", "jacobians_from_states", "linear_power_norms", "one_unit_rnn_loss",
    "orthogonal_matrix", "rnn_states", "scaled_to_spectral_radius", "spectral_radius",
    "state_jacobians",
]
