"""Continuous-time recurrent neural networks (CTRNNs): an RNN as a dynamical system.

The state x (N,) of N units follows the ordinary differential equation (Hopfield 1984; Beer 1995)::

    τ dx/dt = −x + W σ(x) + h          (W σ(x))_i = Σ_j W_ij σ(x_j)

with W (N, N) the coupling (W_ij: from unit j to unit i), h (N,) a constant input, τ > 0 a time
constant (a scalar or one per unit) and σ = tanh or the logistic function. Batches of states have
shape (..., N) and are computed as σ(x) Wᵀ. Euler's method with step Δt = τ is the discrete
RNN x_{t+1} = W σ(x_t) + h, which is why the long-run behaviour of the ODE — fixed points,
their stability, their basins of attraction — says something about discrete RNNs too.
"""

from collections import namedtuple

import numpy as np

from ..validate import as_float_array, as_generator, check_positive_int, check_positive_number


def _logistic(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # = 1 / (1 + e^{-x}), without overflow warnings


#: name -> the unit's σ, elementwise.
ACTIVATIONS = {"tanh": np.tanh, "logistic": _logistic}

# name -> σ' as a function of x (the Jacobian and Newton's method need it).
_DERIVATIVES = {
    "tanh": lambda x: 1.0 - np.tanh(x) ** 2,
    "logistic": lambda x: _logistic(x) * (1.0 - _logistic(x)),
}

#: The result of :func:`find_fixed_points`: ``points`` (K, N), ``eigenvalues`` (K, N) complex
#: eigenvalues of the Jacobian of dx/dt at each point, ``stable`` (K,) bool (all real parts < 0).
FixedPoints = namedtuple("FixedPoints", ["points", "eigenvalues", "stable"])


def _check_activation(activation):
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"activation: expected one of {sorted(ACTIVATIONS)}, got {activation!r}")
    return ACTIVATIONS[activation], _DERIVATIVES[activation]


def check_ctrnn_params(W, h, tau):
    """Check a CTRNN's parameters: ``W`` (N, N), ``h`` a scalar or (N,), ``tau`` a scalar or (N,)
    of positive time constants. Returns them as float arrays ``(W, h, tau)``."""
    W = as_float_array("W", W, ndim=2)
    N = W.shape[0]
    if W.shape != (N, N):
        raise ValueError(f"W: expected a square (N, N) coupling matrix, got shape {W.shape}")
    h = as_float_array("h", h)
    if h.ndim > 1 or (h.ndim == 1 and h.shape != (N,)):
        raise ValueError(f"h: expected a scalar or shape ({N},), got shape {h.shape}")
    tau = as_float_array("tau", tau)
    if tau.ndim > 1 or (tau.ndim == 1 and tau.shape != (N,)):
        raise ValueError(f"tau: expected a scalar or shape ({N},), got shape {tau.shape}")
    if np.any(tau <= 0):
        raise ValueError(f"tau: time constants must be positive, got {tau}")
    return W, h, tau


def ctrnn_derivative(x, W, h, tau=1.0, activation="tanh"):
    """dx/dt = (−x + W σ(x) + h) / τ.

    Parameters
    ----------
    x : (..., N) states (one state, or a batch of them)
    W : (N, N) coupling; h : scalar or (N,) input; tau : scalar or (N,) time constants > 0
    activation : "tanh" or "logistic"

    Returns
    -------
    (..., N), the time derivative at each state
    """
    sigma, _ = _check_activation(activation)
    W, h, tau = check_ctrnn_params(W, h, tau)
    x = as_float_array("x", x)
    if x.ndim == 0 or x.shape[-1] != W.shape[0]:
        raise ValueError(f"x: expected shape (..., {W.shape[0]}), got shape {x.shape}")
    return (-x + sigma(x) @ W.T + h) / tau


def ctrnn_jacobian(x, W, tau=1.0, activation="tanh"):
    """The Jacobian of dx/dt at the state(s) x: J_ij = (−δ_ij + W_ij σ'(x_j)) / τ_i.

    ``x`` (N,) or (M, N) gives (N, N) or (M, N, N).
    """
    _, dsigma = _check_activation(activation)
    W, _, tau = check_ctrnn_params(W, 0.0, tau)
    N = W.shape[0]
    x = as_float_array("x", x)
    if x.ndim not in (1, 2) or x.shape[-1] != N:
        raise ValueError(f"x: expected shape ({N},) or (M, {N}), got shape {x.shape}")
    J = -np.eye(N) + W * dsigma(x)[..., None, :]
    return J / np.reshape(tau, (-1, 1)) if np.ndim(tau) else J / tau


def integrate_ode(f, x0, dt, steps, method="rk4"):
    """The states x_0 = x0, x_1, ..., x_steps of dx/dt = f(x) at the times 0, Δt, ..., steps·Δt.

    ``method="euler"``: x_{k+1} = x_k + Δt f(x_k). ``method="rk4"``, the classical fourth-order
    Runge–Kutta step: x_{k+1} = x_k + Δt (k_1 + 2 k_2 + 2 k_3 + k_4) / 6 with k_1 = f(x_k),
    k_2 = f(x_k + Δt k_1 / 2), k_3 = f(x_k + Δt k_2 / 2), k_4 = f(x_k + Δt k_3).

    Only ``+`` and ``*`` touch the states, so ``x0`` may be a NumPy array or a torch tensor (this
    one function integrates for ``seqlearn.torch.ctrnn`` too, and autograd differentiates through
    it). Returns a list of ``steps + 1`` states shaped like ``x0``.
    """
    steps = check_positive_int("steps", steps)
    dt = check_positive_number("dt", dt)
    if method not in ("euler", "rk4"):
        raise ValueError(f"method: expected 'euler' or 'rk4', got {method!r}")
    x = x0
    states = [x]
    for _ in range(steps):
        if method == "euler":
            x = x + dt * f(x)
        else:
            k1 = f(x)
            k2 = f(x + 0.5 * dt * k1)
            k3 = f(x + 0.5 * dt * k2)
            k4 = f(x + dt * k3)
            x = x + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
        states.append(x)
    return states


def simulate_ctrnn(x0, W, h, tau=1.0, dt=0.05, steps=200, method="rk4", activation="tanh"):
    """Integrate τ dx/dt = −x + W σ(x) + h from ``x0`` with a fixed step ``dt``.

    Parameters
    ----------
    x0 : (N,) or (M, N) initial state(s); a batch is integrated at once
    W, h, tau, activation : as in :func:`ctrnn_derivative`
    dt : step size > 0; steps : number of steps
    method : "euler" (x += Δt f(x)) or "rk4" (the classical fourth-order Runge–Kutta step), see
        :func:`integrate_ode`

    Returns
    -------
    trajectory : ``(steps + 1, *x0.shape)``, the states at times 0, Δt, ..., steps·Δt
    """
    W, h, tau = check_ctrnn_params(W, h, tau)
    _check_activation(activation)
    x = as_float_array("x0", x0)
    N = W.shape[0]
    if x.ndim not in (1, 2) or x.shape[-1] != N:
        raise ValueError(f"x0: expected shape ({N},) or (M, {N}), got shape {x.shape}")
    states = integrate_ode(lambda state: ctrnn_derivative(state, W, h, tau, activation),
                           x, dt, steps, method)
    return np.stack(states)


def _default_starts(W, h, grid_size, rng):
    # Every fixed point satisfies |x_i| = |Σ_j W_ij σ(x_j) + h_i| ≤ Σ_j |W_ij| + |h_i| (|σ| ≤ 1),
    # so starts spread over that box can reach all of them.
    N = W.shape[0]
    bound = float(np.max(np.abs(W).sum(axis=1) + np.abs(h))) + 0.5
    if N <= 3:
        axes = [np.linspace(-bound, bound, grid_size)] * N
        return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, N)
    return rng.uniform(-bound, bound, size=(grid_size ** 3, N))


def find_fixed_points(W, h, tau=1.0, activation="tanh", starts=None, grid_size=15, tol=1e-12,
                      max_iter=100, merge_radius=1e-3, rng=None):
    """All fixed points x* (−x* + W σ(x*) + h = 0) reachable by Newton's method from many starts.

    Newton's iteration on F(x) = −x + W σ(x) + h, run on every start at once:
    x ← x − J_F(x)⁻¹ F(x) with J_F = −I + W diag(σ'(x)), the step capped at length 1 so that far
    starts cannot be thrown out of the region where fixed points lie. Converged points
    (``max |F| < tol``) are merged when closer than ``merge_radius``, and classified by the
    eigenvalues of the Jacobian of dx/dt (which τ scales): stable when all real parts are negative.

    Parameters
    ----------
    W, h, tau, activation : as in :func:`ctrnn_derivative`
    starts : (M, N) initial guesses; by default a ``grid_size ** N`` grid (N ≤ 3) or ``grid_size ** 3``
        random points (N > 3) over a box that contains every fixed point
    tol : residual below which a point counts as a fixed point; max_iter : Newton steps
    rng : for the random starts: a ``numpy.random.Generator``, an int seed, or ``None`` (NumPy's
        global state, which ``seqlearn.seed`` sets)

    Returns
    -------
    FixedPoints(points (K, N), eigenvalues (K, N) complex, stable (K,) bool), sorted by points
    """
    sigma, dsigma = _check_activation(activation)
    W, h, tau = check_ctrnn_params(W, h, tau)
    N = W.shape[0]
    grid_size = check_positive_int("grid_size", grid_size)
    if starts is None:
        x = _default_starts(W, h, grid_size, as_generator(rng))
    else:
        x = as_float_array("starts", starts, shape=(None, N)).copy()

    def residual(state):
        return -state + sigma(state) @ W.T + h

    eye = np.eye(N)
    for _ in range(max_iter):
        F = residual(x)
        active = np.max(np.abs(F), axis=1) >= tol
        if not active.any():
            break
        J = -eye + W * dsigma(x[active])[:, None, :]
        # lstsq-free batched solve; a (nearly) singular Jacobian gets a tiny ridge.
        step = np.linalg.solve(J + 1e-14 * eye, -F[active][..., None])[..., 0]
        length = np.linalg.norm(step, axis=1, keepdims=True)
        x[active] += step / np.maximum(length, 1.0)
    error = np.max(np.abs(residual(x)), axis=1)
    converged = np.all(np.isfinite(x), axis=1) & (error < tol)
    found = x[converged][np.argsort(error[converged])]

    # Near a degenerate fixed point (a singular Jacobian: a bifurcation) Newton converges slowly
    # and stops at many points within ~tol^(1/3) of it; the best of each cluster stands for all.
    points = []
    for p in found:
        if not any(np.max(np.abs(p - q)) < merge_radius for q in points):
            points.append(p)
    points = np.array(sorted(points, key=tuple)).reshape(-1, N)
    if len(points) == 0:
        return FixedPoints(points, np.empty((0, N), complex), np.empty(0, bool))
    eigenvalues = np.linalg.eigvals(ctrnn_jacobian(points, W, tau, activation)).astype(complex)
    eigenvalues = np.sort_complex(eigenvalues)
    stable = np.all(eigenvalues.real < 0, axis=1)
    return FixedPoints(points, eigenvalues, stable)


def attractor_labels(final_states, attractors, radius=1e-2):
    """Which attractor each state has reached: the index of the nearest row of ``attractors``
    (K, N) when it is within ``radius`` (max-norm) of ``final_states`` (M, N), else −1.

    Applied to the last step of :func:`simulate_ctrnn` run from a grid of starts, this colours the
    basins of attraction of the stable fixed points.
    """
    attractors = as_float_array("attractors", attractors, ndim=2, allow_empty=True)
    final_states = as_float_array("final_states", final_states,
                                  shape=(None, attractors.shape[1]))
    if len(attractors) == 0:
        return np.full(len(final_states), -1)
    distance = np.max(np.abs(final_states[:, None, :] - attractors[None, :, :]), axis=-1)
    labels = np.argmin(distance, axis=1)
    labels[distance[np.arange(len(labels)), labels] > radius] = -1
    return labels


def basins_of_attraction(W, h, tau=1.0, activation="tanh", xlim=(-8.0, 8.0), ylim=(-8.0, 8.0),
                         resolution=80, dt=0.25, steps=200, radius=0.25):
    """Label a grid of starting states of a 2-unit CTRNN by the attractor each one reaches.

    Every point of a ``resolution`` × ``resolution`` grid over ``xlim`` × ``ylim`` is integrated
    for ``steps`` RK4 steps of ``dt`` (all at once, as a batch) and labelled with
    :func:`attractor_labels` against the stable fixed points of :func:`find_fixed_points`. The
    generous default ``radius`` lets slowly converging starts (near a bifurcation an attractor's
    eigenvalues approach 0) count as arrived; starts on a basin boundary flow to a saddle and stay
    unlabelled (−1).

    Returns
    -------
    xs, ys : (R,) grid coordinates of unit 1 and unit 2
    labels : (R, R) int, ``labels[i, j]`` for the start (xs[j], ys[i]) (image layout): the index
        into ``fixed.points[fixed.stable]``, or −1 when no attractor was reached
    fixed : the :class:`FixedPoints` of the network
    """
    W, h, tau = check_ctrnn_params(W, h, tau)
    if W.shape != (2, 2):
        raise ValueError(
            f"W: basins are drawn for 2-unit networks, expected shape (2, 2), got {W.shape}")
    resolution = check_positive_int("resolution", resolution)
    fixed = find_fixed_points(W, h, tau, activation)
    xs = np.linspace(*xlim, resolution)
    ys = np.linspace(*ylim, resolution)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    final = simulate_ctrnn(grid, W, h, tau, dt, steps, "rk4", activation)[-1]
    labels = attractor_labels(final, fixed.points[fixed.stable], radius)
    return xs, ys, labels.reshape(resolution, resolution), fixed


__all__ = [
    "ACTIVATIONS", "FixedPoints", "attractor_labels", "basins_of_attraction", "check_ctrnn_params",
    "ctrnn_derivative", "ctrnn_jacobian", "find_fixed_points", "integrate_ode", "simulate_ctrnn",
]
