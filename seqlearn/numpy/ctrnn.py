"""Continuous-time recurrent neural networks (CTRNNs): an RNN as a dynamical system.

In the course's notation (row vectors, the letters of the Elman RNN), the pre-activations a (H,)
of H units follow the ordinary differential equation of Hopfield (1984) and Beer (1995)::

    τ da/dt = −a + σ(a) W_hh + b_h          (σ(a) W_hh)_j = Σ_i σ(a_i) W_hh[i, j]

with W_hh (H, H) the coupling (W_hh[i, j]: from unit i to unit j, as in the Elman RNN), b_h a
scalar or (H,) constant input (a constant input x W_xh would add to it), τ > 0 a time constant (a
scalar or one per unit) and σ = tanh or the logistic function; h = σ(a) are the units' outputs.
Batches of states have shape (..., H). This is the form the functions integrate.

Euler's method with step Δt = τ gives a_{t+1} = σ(a_t) W_hh + b_h: with σ = tanh and h_t = tanh(a_t)
that is the Elman RNN a_{t+1} = h_t W_hh + b_h, h_{t+1} = tanh(a_{t+1}) with no input, which is
why the long-run behaviour of the ODE (fixed points, their stability, their basins of attraction)
says something about discrete RNNs too. The same flow written for the outputs,
τ dh/dt = −h + σ(h W_hh + b_h), is this one seen through a = h W_hh + b_h.

Fixed-point analysis: :func:`find_fixed_points` (Newton's method from many starts),
:func:`classify_fixed_points` (stable, saddle, source from the Jacobian's eigenvalues),
:func:`scan_fixed_points` and :func:`locate_bifurcations` (how they change along a family of
networks), :func:`basins_of_attraction`. ``seqlearn.plotting.phase_portrait`` and
``seqlearn.plotting.bifurcation_diagram`` draw them.

Beyond fixed points (limit cycles, chaos): :func:`largest_lyapunov_exponent` (Benettin et al.'s
method for any flow), :func:`ctrnn_lyapunov_exponent` (for one CTRNN) and
:func:`scan_lyapunov_exponents` (along a family of CTRNNs, all integrated as one batch). The
largest Lyapunov exponent is negative when trajectories settle on a stable fixed point, zero on a
limit cycle and positive on a chaotic attractor.
"""

from collections import namedtuple

import numpy as np

from ..validate import (as_float_array, as_generator, check_positive_int, check_positive_number,
                        describe)


def _logistic(a):
    return 0.5 * (1.0 + np.tanh(0.5 * a))  # = 1 / (1 + e^{-a}), without overflow warnings


#: name -> the unit's σ, elementwise.
ACTIVATIONS = {"tanh": np.tanh, "logistic": _logistic}

# name -> σ' as a function of a (the Jacobian and Newton's method need it).
_DERIVATIVES = {
    "tanh": lambda a: 1.0 - np.tanh(a) ** 2,
    "logistic": lambda a: _logistic(a) * (1.0 - _logistic(a)),
}

#: The result of :func:`find_fixed_points`: ``points`` (K, H), ``eigenvalues`` (K, H) complex
#: eigenvalues of the Jacobian of da/dt at each point, ``stable`` (K,) bool (all real parts < 0).
FixedPoints = namedtuple("FixedPoints", ["points", "eigenvalues", "stable"])

#: The kinds of fixed point that :func:`classify_fixed_points` tells apart.
FIXED_POINT_KINDS = ("stable", "saddle", "source", "non-hyperbolic")

#: The result of :func:`scan_fixed_points`, one row per fixed point found at any value of the
#: scanned parameter: ``value`` (P,) the parameter, ``point`` (P, H), ``eigenvalues`` (P, H)
#: complex, ``kind`` (P,) str (one of :data:`FIXED_POINT_KINDS`).
FixedPointScan = namedtuple("FixedPointScan", ["value", "point", "eigenvalues", "kind"])

#: One change found by :func:`locate_bifurcations`: the parameter ``value`` where it happens and
#: the census (:func:`fixed_point_census`) just ``before`` and just ``after`` it.
Bifurcation = namedtuple("Bifurcation", ["value", "before", "after"])


def _check_activation(activation):
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"activation: expected one of {sorted(ACTIVATIONS)}, got {activation!r}")
    return ACTIVATIONS[activation], _DERIVATIVES[activation]


def check_ctrnn_params(W_hh, b_h, tau):
    """Check a CTRNN's parameters: ``W_hh`` (H, H), ``b_h`` a scalar or (H,), ``tau`` a scalar or
    (H,) of positive time constants. Returns them as float arrays ``(W_hh, b_h, tau)`` (the
    arguments themselves when they are float arrays already)."""
    W_hh = as_float_array("W_hh", W_hh, ndim=2)
    H = W_hh.shape[0]
    if W_hh.shape != (H, H):
        raise ValueError(f"W_hh: expected a square (H, H) coupling matrix, got shape {W_hh.shape}")
    b_h = as_float_array("b_h", b_h)
    if b_h.ndim > 1 or (b_h.ndim == 1 and b_h.shape != (H,)):
        raise ValueError(f"b_h: expected a scalar or shape ({H},), got shape {b_h.shape}")
    tau = as_float_array("tau", tau)
    if tau.ndim > 1 or (tau.ndim == 1 and tau.shape != (H,)):
        raise ValueError(f"tau: expected a scalar or shape ({H},), got shape {tau.shape}")
    if np.any(tau <= 0):
        raise ValueError(f"tau: time constants must be positive, got {tau}")
    return W_hh, b_h, tau


def ctrnn_derivative(a, W_hh, b_h, tau=1.0, activation="tanh"):
    """da/dt = (−a + σ(a) W_hh + b_h) / τ.

    Parameters
    ----------
    a : (..., H) states (one state, or a batch of them)
    W_hh : (H, H) coupling, W_hh[i, j] from unit i to unit j; b_h : scalar or (H,) constant
        input; tau : scalar or (H,) time constants > 0
    activation : "tanh" or "logistic"

    Returns
    -------
    (..., H), the time derivative at each state
    """
    sigma, _ = _check_activation(activation)
    W_hh, b_h, tau = check_ctrnn_params(W_hh, b_h, tau)
    a = as_float_array("a", a)
    if a.ndim == 0 or a.shape[-1] != W_hh.shape[0]:
        raise ValueError(f"a: expected shape (..., {W_hh.shape[0]}), got shape {a.shape}")
    return (-a + sigma(a) @ W_hh + b_h) / tau


def ctrnn_jacobian(a, W_hh, tau=1.0, activation="tanh"):
    """The Jacobian of da/dt at the state(s) ``a``::

        J_ij = ∂(da_i/dt)/∂a_j = (−δ_ij + σ'(a_j) W_hh[j, i]) / τ_i,   J = (−I + W_hhᵀ diag σ'(a)) / τ

    ``a`` (H,) or (B, H) gives (H, H) or (B, H, H).
    """
    _, dsigma = _check_activation(activation)
    W_hh, _, tau = check_ctrnn_params(W_hh, 0.0, tau)
    H = W_hh.shape[0]
    a = as_float_array("a", a)
    if a.ndim not in (1, 2) or a.shape[-1] != H:
        raise ValueError(f"a: expected shape ({H},) or (B, {H}), got shape {a.shape}")
    J = -np.eye(H) + W_hh.T * dsigma(a)[..., None, :]
    return J / np.reshape(tau, (-1, 1)) if np.ndim(tau) else J / tau


def integrate_ode(f, a0, dt, steps, method="rk4"):
    """The states a_0 = a0, a_1, ..., a_steps of da/dt = f(a) at the times 0, Δt, ..., steps·Δt.

    ``method="euler"``: a_{k+1} = a_k + Δt f(a_k). ``method="rk4"``, the classical fourth-order
    Runge–Kutta step: a_{k+1} = a_k + Δt (k_1 + 2 k_2 + 2 k_3 + k_4) / 6 with k_1 = f(a_k),
    k_2 = f(a_k + Δt k_1 / 2), k_3 = f(a_k + Δt k_2 / 2), k_4 = f(a_k + Δt k_3).

    Only ``+`` and ``*`` touch the states, so ``a0`` may be a NumPy array or a torch tensor (this
    one function integrates for ``seqlearn.torch.ctrnn`` too, and autograd differentiates through
    it). Returns a list of ``steps + 1`` states shaped like ``a0`` (a tensor ``a0`` is the first
    entry itself; an array is copied).
    """
    if not callable(f):
        raise TypeError(f"f: expected a function a -> da/dt, got {describe(f)}")
    steps = check_positive_int("steps", steps)
    dt = check_positive_number("dt", dt)
    if method not in ("euler", "rk4"):
        raise ValueError(f"method: expected 'euler' or 'rk4', got {method!r}")
    if hasattr(a0, "detach") and hasattr(a0, "dtype"):         # a torch tensor
        import torch

        if not bool(torch.isfinite(a0).all()):
            raise ValueError("a0: contains NaN or inf values")
        a = a0
    else:
        a = np.array(as_float_array("a0", a0))
    states = [a]
    for _ in range(steps):
        if method == "euler":
            a = a + dt * f(a)
        else:
            k1 = f(a)
            k2 = f(a + 0.5 * dt * k1)
            k3 = f(a + 0.5 * dt * k2)
            k4 = f(a + dt * k3)
            a = a + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
        states.append(a)
    return states


def simulate_ctrnn(a0, W_hh, b_h, tau=1.0, dt=0.05, steps=200, method="rk4", activation="tanh"):
    """Integrate τ da/dt = −a + σ(a) W_hh + b_h from ``a0`` with a fixed step ``dt``.

    Parameters
    ----------
    a0 : (H,) or (B, H) initial state(s); a batch is integrated at once
    W_hh, b_h, tau, activation : as in :func:`ctrnn_derivative`
    dt : step size > 0; steps : number of steps
    method : "euler" (a += Δt f(a)) or "rk4" (the classical fourth-order Runge–Kutta step), see
        :func:`integrate_ode`

    Returns
    -------
    trajectory : ``(steps + 1, *a0.shape)``, the states at times 0, Δt, ..., steps·Δt
    """
    W_hh, b_h, tau = check_ctrnn_params(W_hh, b_h, tau)
    sigma, _ = _check_activation(activation)
    a = as_float_array("a0", a0)
    H = W_hh.shape[0]
    if a.ndim not in (1, 2) or a.shape[-1] != H:
        raise ValueError(f"a0: expected shape ({H},) or (B, {H}), got shape {a.shape}")
    # ctrnn_derivative, without checking the arguments again at every step
    states = integrate_ode(lambda state: (-state + sigma(state) @ W_hh + b_h) / tau,
                           a, dt, steps, method)
    return np.stack(states)


#: The result of :func:`largest_lyapunov_exponent`: ``exponent`` (...) the estimate for each start,
#: ``times`` (R,) the times (after the transient) at which the tangent vector was renormalised, and
#: ``running`` (R, ...) the estimate at each of them (it converges like 1/t).
LyapunovEstimate = namedtuple("LyapunovEstimate", ["exponent", "times", "running"])


def largest_lyapunov_exponent(f, tangent, a0, dt=0.05, steps=4000, transient=1000,
                              renormalize_every=10, v0=None, rng=None):
    """The largest Lyapunov exponent of the flow da/dt = f(a), by Benettin et al.'s method.

    Along a trajectory a(t), a small perturbation v (a row vector, like a) follows the linearised
    flow dv/dt = ``tangent(a, v)`` = v J(a)ᵀ, with J the Jacobian of f. From almost every v(0) it
    ends up growing or shrinking like e^{λ_1 t}, where λ_1 is the largest Lyapunov exponent::

        λ_1 = lim_{t→∞} (1/t) log(‖v(t)‖ / ‖v(0)‖)

    λ_1 < 0: nearby trajectories converge (a stable fixed point); λ_1 = 0: they keep their
    distance along the orbit (a limit cycle); λ_1 > 0: they separate exponentially (chaos).
    The state and the tangent vector are integrated together (:func:`integrate_ode`, RK4, step
    ``dt``). ``transient`` steps come first, so that a settles on its attractor and v turns into
    the most expanding direction; then, every ``renormalize_every`` steps, v is divided by its
    length and the logarithm of that length is added up (so that v neither overflows nor
    underflows, the renormalised tangent vectors of Benettin et al.). The estimate is the sum
    divided by the time elapsed after the transient.

    Parameters
    ----------
    f : callable, ``f(a) -> da/dt``, on states (..., H) (NumPy arrays)
    tangent : callable, ``tangent(a, v) -> dv/dt = v J(a)ᵀ``, on states and vectors (..., H)
    a0 : (..., H) initial state(s): every start is its own estimate
    dt : RK4 step > 0; steps : steps after the transient, a multiple of ``renormalize_every``
    transient : steps before the estimate starts (≥ 0)
    v0 : (..., H) initial tangent vectors, or ``None`` for random ones (drawn with ``rng``: a
        ``numpy.random.Generator``, an int seed, or ``None`` for NumPy's global state)

    Returns
    -------
    LyapunovEstimate(exponent (...), times (R,), running (R, ...)), R = steps / renormalize_every
    """
    if not callable(f):
        raise TypeError(f"f: expected a function a -> da/dt, got {describe(f)}")
    if not callable(tangent):
        raise TypeError(f"tangent: expected a function (a, v) -> dv/dt, got {describe(tangent)}")
    dt = check_positive_number("dt", dt)
    steps = check_positive_int("steps", steps)
    renormalize_every = check_positive_int("renormalize_every", renormalize_every)
    if steps % renormalize_every:
        raise ValueError(f"steps: expected a multiple of renormalize_every = {renormalize_every}, "
                         f"got {steps}")
    if isinstance(transient, bool) or not isinstance(transient, (int, np.integer)) or transient < 0:
        raise ValueError(f"transient: expected an int ≥ 0, got {transient!r}")
    a = as_float_array("a0", a0)
    if a.ndim == 0:
        raise ValueError(f"a0: expected shape (..., H), got {describe(a0)}")
    if v0 is None:
        v = as_generator(rng).standard_normal(a.shape)
    else:
        v = as_float_array("v0", v0, shape=a.shape).copy()
        if np.any(np.linalg.norm(v, axis=-1) == 0):
            raise ValueError("v0: every tangent vector must be non-zero")
    H = a.shape[-1]
    v = v / np.linalg.norm(v, axis=-1, keepdims=True)

    def joint(state):                      # (a, v) side by side on the last axis
        return np.concatenate([f(state[..., :H]), tangent(state[..., :H], state[..., H:])], -1)

    def advance(state, n):
        return integrate_ode(joint, state, dt, n, "rk4")[-1] if n else state

    state = advance(np.concatenate([a, v], -1), transient)
    state[..., H:] /= np.linalg.norm(state[..., H:], axis=-1, keepdims=True)
    log_growth = np.zeros(a.shape[:-1])
    rounds = steps // renormalize_every
    running = np.empty((rounds, *a.shape[:-1]))
    for r in range(rounds):
        with np.errstate(over="ignore", invalid="ignore"):
            state = advance(state, renormalize_every)
            length = np.linalg.norm(state[..., H:], axis=-1)
        if not np.all(np.isfinite(length)) or np.any(length == 0):
            raise FloatingPointError("the tangent vector overflowed or vanished between two "
                                     "renormalisations: lower renormalize_every or dt")
        state[..., H:] /= length[..., None]
        log_growth += np.log(length)
        running[r] = log_growth / ((r + 1) * renormalize_every * dt)
    times = np.arange(1, rounds + 1) * renormalize_every * dt
    return LyapunovEstimate(running[-1].copy(), times, running)


def ctrnn_tangent(a, v, W_hh, tau=1.0, activation="tanh"):
    """The linearised CTRNN: how a small perturbation ``v`` of the state ``a`` changes,

        dv/dt = (−v + (σ'(a) ⊙ v) W_hh) / τ  = v Jᵀ,   J = :func:`ctrnn_jacobian` at a

    for states and perturbations (..., H) (row vectors). Returns (..., H).
    """
    _, dsigma = _check_activation(activation)
    W_hh, _, tau = check_ctrnn_params(W_hh, 0.0, tau)
    a = as_float_array("a", a)
    if a.ndim == 0 or a.shape[-1] != W_hh.shape[0]:
        raise ValueError(f"a: expected shape (..., {W_hh.shape[0]}), got shape {a.shape}")
    v = as_float_array("v", v, shape=a.shape)
    return (-v + (dsigma(a) * v) @ W_hh) / tau


def ctrnn_lyapunov_exponent(a0, W_hh, b_h, tau=1.0, dt=0.05, steps=4000, transient=1000,
                            activation="tanh", rng=None):
    """The largest Lyapunov exponent of the CTRNN τ da/dt = −a + σ(a) W_hh + b_h from the start(s)
    ``a0`` (H,) or (B, H): :func:`largest_lyapunov_exponent` with :func:`ctrnn_derivative` and
    :func:`ctrnn_tangent`. Returns its :class:`LyapunovEstimate` (``exponent`` () or (B,))."""
    sigma, dsigma = _check_activation(activation)
    W_hh, b_h, tau = check_ctrnn_params(W_hh, b_h, tau)
    a0 = as_float_array("a0", a0)
    H = W_hh.shape[0]
    if a0.ndim not in (1, 2) or a0.shape[-1] != H:
        raise ValueError(f"a0: expected shape ({H},) or (B, {H}), got shape {a0.shape}")
    # ctrnn_derivative and ctrnn_tangent, without checking the arguments at every step
    return largest_lyapunov_exponent(
        lambda a: (-a + sigma(a) @ W_hh + b_h) / tau,
        lambda a, v: (-v + (dsigma(a) * v) @ W_hh) / tau,
        a0, dt, steps, transient, rng=rng)


def scan_lyapunov_exponents(family, values, a0, tau=1.0, dt=0.05, steps=4000, transient=1000,
                            activation="tanh", rng=None):
    """The largest Lyapunov exponent of every network of a one-parameter family of CTRNNs.

    ``family(value) -> (W_hh, b_h)`` builds the network for one value (as in
    :func:`scan_fixed_points`); ``values`` (S,). All S networks are integrated at once, as one
    batch, from the same start(s) ``a0`` (H,) or (B, H), by :func:`largest_lyapunov_exponent`
    (the tangent vectors drawn with ``rng``). Returns the exponents, (S,) or (S, B), in the order
    of ``values`` (not sorted).
    """
    sigma, dsigma = _check_activation(activation)
    if not callable(family):
        raise TypeError(f"family: expected a function value -> (W_hh, b_h), got {describe(family)}")
    values = as_float_array("values", values, ndim=1)
    networks = [_network_of(family, value, tau) for value in values]
    H = networks[0][0].shape[0]
    if any(W_hh.shape != (H, H) for W_hh, _, _ in networks):
        raise ValueError("family: every network of the family must have the same size")
    W = np.stack([W_hh for W_hh, _, _ in networks])                           # (S, H, H)
    b = np.stack([np.broadcast_to(b_h, (H,)) for _, b_h, _ in networks])[:, None]   # (S, 1, H)
    tau = np.broadcast_to(networks[0][2], (H,))
    a0 = as_float_array("a0", a0)
    if a0.ndim not in (1, 2) or a0.shape[-1] != H:
        raise ValueError(f"a0: expected shape ({H},) or (B, {H}), got shape {a0.shape}")
    starts = np.broadcast_to(a0.reshape(1, -1, H), (len(values), a0.reshape(-1, H).shape[0], H))
    estimate = largest_lyapunov_exponent(
        lambda a: (-a + sigma(a) @ W + b) / tau,
        lambda a, v: (-v + (dsigma(a) * v) @ W) / tau,
        starts, dt, steps, transient, rng=rng)
    return estimate.exponent if a0.ndim == 2 else estimate.exponent[:, 0]


def _default_starts(W_hh, b_h, grid_size, rng):
    # Every fixed point satisfies |a_j| = |Σ_i σ(a_i) W_hh[i, j] + b_j| ≤ Σ_i |W_hh[i, j]| + |b_j|
    # (|σ| ≤ 1), so starts spread over that box can reach all of them.
    H = W_hh.shape[0]
    bound = float(np.max(np.abs(W_hh).sum(axis=0) + np.abs(b_h))) + 0.5
    if H <= 3:
        axes = [np.linspace(-bound, bound, grid_size)] * H
        return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, H)
    return rng.uniform(-bound, bound, size=(grid_size ** 3, H))


def find_fixed_points(W_hh, b_h, tau=1.0, activation="tanh", starts=None, grid_size=15,
                      tol=1e-12, max_iter=100, merge_radius=1e-3, rng=None):
    """All fixed points a* (−a* + σ(a*) W_hh + b_h = 0) reachable by Newton's method from many
    starts.

    Newton's iteration on F(a) = −a + σ(a) W_hh + b_h, run on every start at once:
    a ← a − J_F(a)⁻¹ F(a) with J_F = −I + W_hhᵀ diag(σ'(a)), the step capped at length 1 so that
    far starts cannot be thrown out of the region where fixed points lie. Converged points
    (``max |F| < tol``) are merged when closer than ``merge_radius``, and classified by the
    eigenvalues of the Jacobian of da/dt (:func:`ctrnn_jacobian`, which τ scales): stable when all
    real parts are negative.

    Parameters
    ----------
    W_hh, b_h, tau, activation : as in :func:`ctrnn_derivative`
    starts : (S, H) initial guesses; by default a ``grid_size ** H`` grid (H ≤ 3) or
        ``grid_size ** 3`` random points (H > 3) over a box that contains every fixed point
    tol : residual below which a point counts as a fixed point; max_iter : Newton steps
    rng : for the random starts: a ``numpy.random.Generator``, an int seed, or ``None`` (NumPy's
        global state, which ``seqlearn.seed`` sets)

    Returns
    -------
    FixedPoints(points (K, H), eigenvalues (K, H) complex, stable (K,) bool), sorted by points
    """
    sigma, dsigma = _check_activation(activation)
    W_hh, b_h, tau = check_ctrnn_params(W_hh, b_h, tau)
    H = W_hh.shape[0]
    grid_size = check_positive_int("grid_size", grid_size)
    max_iter = check_positive_int("max_iter", max_iter)
    tol = check_positive_number("tol", tol)
    merge_radius = check_positive_number("merge_radius", merge_radius)
    if starts is None:
        a = _default_starts(W_hh, b_h, grid_size, as_generator(rng))
    else:
        a = as_float_array("starts", starts, shape=(None, H)).copy()

    def residual(state):
        return -state + sigma(state) @ W_hh + b_h

    eye = np.eye(H)
    for _ in range(max_iter):
        F = residual(a)
        active = np.max(np.abs(F), axis=1) >= tol
        if not active.any():
            break
        J = -eye + W_hh.T * dsigma(a[active])[:, None, :]
        # lstsq-free batched solve; a (nearly) singular Jacobian gets a tiny ridge.
        step = np.linalg.solve(J + 1e-14 * eye, -F[active][..., None])[..., 0]
        length = np.linalg.norm(step, axis=1, keepdims=True)
        a[active] += step / np.maximum(length, 1.0)
    error = np.max(np.abs(residual(a)), axis=1)
    converged = np.all(np.isfinite(a), axis=1) & (error < tol)
    found = a[converged][np.argsort(error[converged])]

    # Near a degenerate fixed point (a singular Jacobian: a bifurcation) Newton converges slowly
    # and stops at many points within ~tol^(1/3) of it; the best of each cluster stands for all.
    points = []
    for p in found:
        if not any(np.max(np.abs(p - q)) < merge_radius for q in points):
            points.append(p)
    points = np.array(sorted(points, key=tuple)).reshape(-1, H)
    if len(points) == 0:
        return FixedPoints(points, np.empty((0, H), complex), np.empty(0, bool))
    eigenvalues = np.linalg.eigvals(ctrnn_jacobian(points, W_hh, tau, activation)).astype(complex)
    eigenvalues = np.sort_complex(eigenvalues)
    stable = np.all(eigenvalues.real < 0, axis=1)
    return FixedPoints(points, eigenvalues, stable)


def classify_fixed_points(eigenvalues, tol=1e-9):
    """The kind of each fixed point, from the eigenvalues λ of its Jacobian (:func:`ctrnn_jacobian`).

    ``eigenvalues`` (K, H), complex or real (one row per fixed point, as in :class:`FixedPoints`).
    Returns (K,) strings, one of :data:`FIXED_POINT_KINDS`:

    * ``"stable"``: every Re λ < −tol; small perturbations die out (an attractor);
    * ``"source"``: every Re λ > tol; every small perturbation grows;
    * ``"saddle"``: some Re λ < −tol and some > tol, none in between; perturbations along some
      directions die out and along others grow;
    * ``"non-hyperbolic"``: some abs(Re λ) ≤ tol; the linearisation does not decide (this is where a
      bifurcation happens).
    """
    eigenvalues = np.asarray(eigenvalues)
    if eigenvalues.dtype.kind not in "biufc":
        raise TypeError(f"eigenvalues: expected a numeric (K, H) array, got {describe(eigenvalues)}")
    if eigenvalues.ndim != 2:
        raise ValueError(f"eigenvalues: expected shape (K, H), got {describe(eigenvalues)}")
    real = as_float_array("eigenvalues", eigenvalues.real, ndim=2, allow_empty=True)
    if isinstance(tol, bool) or not isinstance(tol, (int, float, np.integer, np.floating)):
        raise TypeError(f"tol: expected a number ≥ 0, got {describe(tol)}")
    if not (np.isfinite(tol) and tol >= 0):
        raise ValueError(f"tol: expected a finite number ≥ 0, got {tol!r}")
    tol = float(tol)
    kinds = np.full(len(real), "saddle", dtype=object)
    kinds[np.all(real < -tol, axis=1)] = "stable"
    kinds[np.all(real > tol, axis=1)] = "source"
    kinds[np.any(np.abs(real) <= tol, axis=1)] = "non-hyperbolic"
    return kinds.astype(str)


def fixed_point_census(kinds):
    """How many fixed points of each kind: a dict ``{kind: count}`` in the order of
    :data:`FIXED_POINT_KINDS`, kinds with no point left out (``kinds`` as returned by
    :func:`classify_fixed_points`)."""
    kinds = list(np.asarray(kinds, dtype=str).ravel())
    unknown = set(kinds) - set(FIXED_POINT_KINDS)
    if unknown:
        raise ValueError(f"kinds: expected entries of {FIXED_POINT_KINDS}, got {sorted(unknown)}")
    return {kind: kinds.count(kind) for kind in FIXED_POINT_KINDS if kind in kinds}


def _check_family(family, values):
    if not callable(family):
        raise TypeError(f"family: expected a function value -> (W_hh, b_h), got {describe(family)}")
    values = as_float_array("values", values, ndim=1)
    return np.sort(values)


def _network_of(family, value, tau):
    """``family(value)`` checked: ``(W_hh, b_h, tau)``, errors re-labelled as the family's."""
    network = family(float(value))
    if not isinstance(network, (tuple, list)) or len(network) != 2:
        raise TypeError(f"family: expected family(value) to return a pair (W_hh, b_h), got "
                        f"{describe(network)} at value {value}")
    try:
        return check_ctrnn_params(*network, tau)
    except (TypeError, ValueError) as error:
        if str(error).startswith("tau"):
            raise
        raise type(error)(f"family: the network at value {value} is invalid: {error}") from None


def _fixed_points_at(family, value, tau, activation, extra_starts, options):
    W_hh, b_h, _ = _network_of(family, value, tau)
    if extra_starts is not None and len(extra_starts):
        grid = _default_starts(W_hh, b_h, options.get("grid_size", 15),
                               as_generator(options.get("rng")))
        options = dict(options, starts=np.concatenate([grid, extra_starts]))
    fixed = find_fixed_points(W_hh, b_h, tau, activation, **options)
    return fixed, classify_fixed_points(fixed.eigenvalues)


def scan_fixed_points(family, values, tau=1.0, activation="tanh", **options):
    """Every fixed point of a one-parameter family of CTRNNs, classified, at every value.

    ``family(value) -> (W_hh, b_h)`` builds the network for one value of the parameter (e.g. the
    self-coupling ``w_self`` of ``[[w_self, w_cross], [w_cross, w_self]]``); ``values`` (S,) are
    the values to scan (sorted). At each, :func:`find_fixed_points` (``options`` go to it) finds
    the fixed points and :func:`classify_fixed_points` classifies them.

    Returns
    -------
    FixedPointScan(value (P,), point (P, H), eigenvalues (P, H), kind (P,)), one row per fixed
    point found, in the order of ``values``: the data of a bifurcation diagram
    (``seqlearn.plotting.bifurcation_diagram``)
    """
    values = _check_family(family, values)
    rows = []
    for value in values:
        fixed, kinds = _fixed_points_at(family, value, tau, activation, None, options)
        rows.append((np.full(len(kinds), value), fixed.points, fixed.eigenvalues, kinds))
    if not any(len(r[3]) for r in rows):
        raise ValueError("family: no fixed point found at any of the values")
    return FixedPointScan(*(np.concatenate(column) for column in zip(*rows)))


def locate_bifurcations(family, values, tol=1e-4, tau=1.0, activation="tanh", **options):
    """Where the number or the stability of the fixed points of ``family`` changes.

    The census (:func:`fixed_point_census`) is taken at each of the sorted ``values``; between two
    neighbours whose censuses differ, bisection narrows the change down to an interval shorter
    than ``tol``, restarting Newton's method at each midpoint from the default grid plus the fixed
    points found at the two ends (so that points just born, still close together, are found).
    Values where some point is non-hyperbolic (the grid hit a bifurcation exactly) are skipped;
    a midpoint that hits one is a bifurcation, and the censuses just beside it decide what it is.
    ``family``, ``tau``, ``activation`` and ``options`` are as in :func:`scan_fixed_points`.

    Returns
    -------
    list of Bifurcation(value, before, after): the middle of the final interval (within ``tol``
    of the change) and the censuses on either side, in increasing order of value. A change that
    happens and is undone between two neighbouring values is not seen: scan finely enough.
    """
    values = _check_family(family, values)
    tol = check_positive_number("tol", tol)

    def census(value, starts=None):
        fixed, kinds = _fixed_points_at(family, value, tau, activation, starts, options)
        return fixed_point_census(kinds), fixed.points

    def refine(lo, c_lo, p_lo, hi, c_hi, p_hi):
        if hi - lo <= tol:
            return [Bifurcation((lo + hi) / 2, c_lo, c_hi)]
        mid = (lo + hi) / 2
        starts = np.concatenate([p_lo, p_hi])
        c_mid, p_mid = census(mid, starts)
        if "non-hyperbolic" in c_mid:        # mid is a bifurcation: look just beside it
            step = tol / 4
            (c_left, p_left), (c_right, p_right) = (census(mid - step, starts),
                                                    census(mid + step, starts))
            if "non-hyperbolic" in c_left or "non-hyperbolic" in c_right:
                return [Bifurcation(mid, c_lo, c_hi)]
            found = []
            if c_left != c_lo:
                found += refine(lo, c_lo, p_lo, mid - step, c_left, p_left)
            if c_left != c_right:
                found.append(Bifurcation(mid, c_left, c_right))
            if c_right != c_hi:
                found += refine(mid + step, c_right, p_right, hi, c_hi, p_hi)
            return found
        if c_mid == c_lo:
            return refine(mid, c_mid, p_mid, hi, c_hi, p_hi)
        if c_mid == c_hi:
            return refine(lo, c_lo, p_lo, mid, c_mid, p_mid)
        return (refine(lo, c_lo, p_lo, mid, c_mid, p_mid)
                + refine(mid, c_mid, p_mid, hi, c_hi, p_hi))

    grid = [(value, *census(value)) for value in values]
    grid = [row for row in grid if "non-hyperbolic" not in row[1]]
    found = []
    for (lo, c_lo, p_lo), (hi, c_hi, p_hi) in zip(grid, grid[1:]):
        if c_lo != c_hi:
            found += refine(lo, c_lo, p_lo, hi, c_hi, p_hi)
    return found


def attractor_labels(final_states, attractors, radius=1e-2):
    """Which attractor each state has reached: the index of the nearest row of ``attractors``
    (K, H) when it is within ``radius`` (max-norm) of ``final_states`` (B, H), else −1.

    Applied to the last step of :func:`simulate_ctrnn` run from a grid of starts, this colours the
    basins of attraction of the stable fixed points.
    """
    attractors = as_float_array("attractors", attractors, ndim=2, allow_empty=True)
    final_states = as_float_array("final_states", final_states, ndim=2)
    if attractors.shape[1] != final_states.shape[1]:
        raise ValueError(f"attractors: expected shape (K, {final_states.shape[1]}) (H of "
                         f"final_states {final_states.shape}), got shape {attractors.shape}")
    radius = check_positive_number("radius", radius)
    if len(attractors) == 0:
        return np.full(len(final_states), -1)
    distance = np.max(np.abs(final_states[:, None, :] - attractors[None, :, :]), axis=-1)
    labels = np.argmin(distance, axis=1)
    labels[distance[np.arange(len(labels)), labels] > radius] = -1
    return labels


def basins_of_attraction(W_hh, b_h, tau=1.0, activation="tanh", xlim=(-8.0, 8.0),
                         ylim=(-8.0, 8.0), resolution=80, dt=0.25, steps=200, radius=0.25):
    """Label a grid of starting states of a 2-unit CTRNN by the attractor each one reaches.

    Every point (a_1, a_2) of a ``resolution`` × ``resolution`` grid over ``xlim`` × ``ylim`` is
    integrated for ``steps`` RK4 steps of ``dt`` (all at once, as a batch) and labelled with
    :func:`attractor_labels` against the stable fixed points of :func:`find_fixed_points`. The
    generous default ``radius`` lets slowly converging starts (near a bifurcation an attractor's
    eigenvalues approach 0) count as arrived; starts on a basin boundary flow to a saddle and stay
    unlabelled (−1).

    Returns
    -------
    xs, ys : (R,) grid coordinates of unit 1 (a_1) and unit 2 (a_2)
    labels : (R, R) int, ``labels[i, j]`` for the start (xs[j], ys[i]) (image layout): the index
        into ``fixed.points[fixed.stable]``, or −1 when no attractor was reached
    fixed : the :class:`FixedPoints` of the network
    """
    W_hh, b_h, tau = check_ctrnn_params(W_hh, b_h, tau)
    if W_hh.shape != (2, 2):
        raise ValueError(
            f"W_hh: basins are drawn for 2-unit networks, expected shape (2, 2), got {W_hh.shape}")
    resolution = check_positive_int("resolution", resolution)
    for name, lim in (("xlim", xlim), ("ylim", ylim)):
        if (isinstance(lim, (str, bytes)) or not hasattr(lim, "__len__") or len(lim) != 2
                or not all(isinstance(v, (int, float, np.integer, np.floating))
                           and not isinstance(v, bool) for v in lim)):
            raise TypeError(f"{name}: expected a pair of numbers (low, high), got {describe(lim)}")
        if not (np.all(np.isfinite(lim)) and lim[0] < lim[1]):
            raise ValueError(f"{name}: expected finite numbers low < high, got {lim!r}")
    radius = check_positive_number("radius", radius)
    fixed = find_fixed_points(W_hh, b_h, tau, activation)
    xs = np.linspace(*xlim, resolution)
    ys = np.linspace(*ylim, resolution)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    final = simulate_ctrnn(grid, W_hh, b_h, tau, dt, steps, "rk4", activation)[-1]
    labels = attractor_labels(final, fixed.points[fixed.stable], radius)
    return xs, ys, labels.reshape(resolution, resolution), fixed


__all__ = [
    "ACTIVATIONS", "Bifurcation", "FIXED_POINT_KINDS", "FixedPointScan", "FixedPoints",
    "LyapunovEstimate", "attractor_labels", "basins_of_attraction", "check_ctrnn_params",
    "classify_fixed_points", "ctrnn_derivative", "ctrnn_jacobian", "ctrnn_lyapunov_exponent",
    "ctrnn_tangent", "find_fixed_points", "fixed_point_census", "integrate_ode",
    "largest_lyapunov_exponent", "locate_bifurcations", "scan_fixed_points",
    "scan_lyapunov_exponents", "simulate_ctrnn",
]
