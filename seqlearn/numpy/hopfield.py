"""Hopfield networks: the classic binary network and the modern continuous one, with the
Hopfield layers built on it (Ramsauer et al. 2021), forward and hand-derived backward passes.

Row-vector convention, as everywhere in the package: N stored patterns of size d are the rows
of ``patterns`` (N, d), and a batch of B states ξ is ``xi`` (B, d).

**Classic network** (Hopfield 1982). Binary patterns x_i ∈ {−1, +1}^d, stored in the symmetric
weights W (d, d) with a zero diagonal; the state is updated unit by unit::

    Hebbian rule        W = Σ_i x_iᵀ x_i = Xᵀ X, diagonal set to 0             (9.1)
    pseudo-inverse      W = X⁺ X  (= Xᵀ (X Xᵀ)⁻¹ X for independent patterns)   (9.5)
    update              ξ ← sgn(ξ W − b)   (a unit whose field is 0 keeps its value) (9.2)
    energy              E(ξ) = −½ ξ W ξᵀ + ξ bᵀ                                  (9.3)

:func:`classic_step` updates every unit at once (synchronous); :func:`classic_async_sweep`
updates them one after the other (asynchronous), which never increases E.

**Modern (continuous) network** (Ramsauer et al. 2021). States and patterns are real vectors;
with ``beta`` β > 0 one update of a batch of S states (queries) ξ (S, d) is::

    p = softmax(β ξ Xᵀ)   (S, N), by rows,    ξ_new = p X   (S, d)                 (9.6)
    E(ξ) = −β⁻¹ log Σ_i exp(β ξ · x_i) + ½ ξ · ξ + β⁻¹ log N + ½ M²,  M = max_i ‖x_i‖  (9.7)

This is the attention of chapter 8 with queries ξ, keys and values X and the scale β
(``seqlearn.numpy.attention.scaled_dot_product_attention_forward(xi, X, X, scale=beta)``).

**Hopfield layers** put learned projections around the update (9.6), one head, no biases: the
states R W_q are retrieved from the stored patterns K in an associative space of size d_k and the
result is projected by W_v (Ramsauer et al.'s equation (10))::

    layer    (two sets)     Z = softmax(β (R W_q) Kᵀ) K W_v,  K = Y W_k            (9.8)
    pooling  (learned queries Q)      Z = softmax(β Q Kᵀ) K W_v,  K = Y W_k
    lookup   (learned patterns P)     Z = softmax(β (R W_q) Pᵀ) P W_v

with β = 1/√d_k by default: one step of scaled dot-product attention whose values are
V = K W_v.
"""

import numpy as np

from ..validate import as_float_array, as_generator, check_positive_int, describe
from .common import check_mask, check_param_dict


# ----------------------------------------------------------------------------- checks
def _check_binary(name, x, ndim):
    """``x`` as a float array of ``ndim`` dimensions whose entries are all −1 or +1."""
    x = as_float_array(name, x, ndim=ndim)
    bad = (x != 1.0) & (x != -1.0)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name}: expected binary patterns with entries -1 or +1, got "
                         f"{x[where]!r} at index {where}")
    return x


def _check_states(xi, d, binary=True):
    """A batch of states (B, d) (a single state (d,) is accepted and returned as (1, d))."""
    xi = np.asarray(xi) if not isinstance(xi, np.ndarray) else xi
    if getattr(xi, "ndim", None) == 1:
        xi = xi[None, :]
    xi = _check_binary("xi", xi, 2) if binary else as_float_array("xi", xi, ndim=2)
    if xi.shape[1] != d:
        raise ValueError(f"xi: expected shape (B, {d}) (d = {d}, the size of W), got shape "
                         f"{xi.shape}")
    return xi


def _check_weights(W, b):
    W = as_float_array("W", W, ndim=2)
    if W.shape[0] != W.shape[1]:
        raise ValueError(f"W: expected a square matrix (d, d), got shape {W.shape}")
    if not np.allclose(W, W.T):
        raise ValueError("W: expected a symmetric matrix (the energy (9.3) needs W = Wᵀ)")
    d = W.shape[0]
    b = np.zeros(d) if b is None else as_float_array("b", b, shape=(d,))
    return W, b


def check_beta(beta):
    """Return ``beta`` as a float after checking that it is a finite number > 0 (the inverse
    temperature of the modern Hopfield network); ``ValueError`` naming ``beta`` otherwise."""
    if isinstance(beta, bool) or not isinstance(beta, (int, float, np.integer, np.floating)):
        raise TypeError(f"beta: expected a positive number, got {describe(beta)}")
    if not np.isfinite(beta) or beta <= 0:
        raise ValueError(f"beta: expected a positive finite number (the inverse temperature), "
                         f"got {beta!r}")
    return float(beta)


def _check_flag(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected True or False, got {describe(value)}")


# ------------------------------------------------------------------------ classic network
def hebbian_weights(patterns, zero_diagonal=True):
    """The Hebbian weights of equation (9.1): ``W = Xᵀ X`` (d, d), the sum of the outer products
    of the N binary patterns x_i (rows of ``patterns`` (N, d), entries ±1), with the diagonal set
    to 0 (``zero_diagonal=False`` keeps it, N on every diagonal entry)."""
    X = _check_binary("patterns", patterns, 2)
    _check_flag("zero_diagonal", zero_diagonal)
    W = X.T @ X
    if zero_diagonal:
        np.fill_diagonal(W, 0.0)
    return W


def pseudo_inverse_weights(patterns, zero_diagonal=True):
    """The pseudo-inverse (projection) weights of equation (9.5): ``W = X⁺ X`` (d, d), the
    orthogonal projection onto the span of the N patterns (rows of ``patterns`` (N, d), ±1).

    For linearly independent patterns X⁺ X = Xᵀ (X Xᵀ)⁻¹ X, so W x_i = x_i: every stored
    pattern is a fixed point, however correlated the patterns are. With ``zero_diagonal`` (the
    default) the self-couplings W_jj are removed as well; the patterns stay fixed points as long
    as every W_jj < 1, which holds for N < d independent patterns.
    """
    X = _check_binary("patterns", patterns, 2)
    _check_flag("zero_diagonal", zero_diagonal)
    W = np.linalg.pinv(X) @ X
    W = 0.5 * (W + W.T)                   # symmetric up to rounding
    if zero_diagonal:
        np.fill_diagonal(W, 0.0)
    return W


def classic_energy(xi, W, b=None):
    """The energy (9.3) of each state: ``E = −½ ξ W ξᵀ + ξ bᵀ``.

    ``xi`` (B, d) or (d,) states with entries ±1, ``W`` (d, d) symmetric, ``b`` (d,) thresholds
    (zeros by default). Returns E (B,) (a float for a single state).
    """
    W, b = _check_weights(W, b)
    single = np.ndim(xi) == 1
    xi = _check_states(xi, W.shape[0])
    E = -0.5 * np.einsum("bi,ij,bj->b", xi, W, xi) + xi @ b
    return float(E[0]) if single else E


def _sign_keep(field, old):
    """sgn(field), where a field of exactly 0 keeps the old value."""
    return np.where(field > 0, 1.0, np.where(field < 0, -1.0, old))


def classic_step(xi, W, b=None):
    """One synchronous update (9.2) of every unit at once: ``ξ ← sgn(ξ W − b)``.

    ``xi`` (B, d) or (d,) with entries ±1; a unit whose field ξ W − b is exactly 0 keeps its
    value. Returns the new states, shaped like ``xi``. Synchronous updates need not lower the
    energy: they can fall into a two-cycle.
    """
    W, b = _check_weights(W, b)
    single = np.ndim(xi) == 1
    xi = _check_states(xi, W.shape[0])
    new = _sign_keep(xi @ W - b, xi)
    return new[0] if single else new


def classic_async_sweep(xi, W, b=None, order=None, rng=None, return_energies=False):
    """One asynchronous sweep of equation (9.2): the units are updated one after the other, in
    ``order`` (a permutation of 0..d−1; a random one drawn from ``rng`` when ``None``, the same
    for every state of the batch), each seeing the units updated before it::

        for i in order:   ξ_i ← sgn(ξ W_{:, i} − b_i)     (kept when the field is 0)

    ``xi`` (B, d) or (d,) with entries ±1 (not modified). With a symmetric W and a zero
    diagonal no update raises the energy (9.3). Returns the states after the sweep, and with
    ``return_energies`` also the energy (9.3) before the sweep and after each of its d single-unit
    updates, (d + 1, B) (a flip of unit i changes it by ΔE = −Δξ_i (ξ W_{:, i} − b_i), (9.4)).
    """
    W, b = _check_weights(W, b)
    d = W.shape[0]
    single = np.ndim(xi) == 1
    xi = _check_states(xi, d).copy()
    if order is None:
        order = as_generator(rng).permutation(d)
    else:
        order = np.asarray(order)
        if order.shape != (d,) or not np.array_equal(np.sort(order), np.arange(d)):
            raise ValueError(f"order: expected a permutation of 0..{d - 1}, got {describe(order)}")
    energies = [classic_energy(xi, W, b)] if return_energies else None
    for i in order:
        field = xi @ W[:, i] - b[i]
        new = _sign_keep(field, xi[:, i])
        if return_energies:
            energies.append(energies[-1] - (new - xi[:, i]) * field)
        xi[:, i] = new
    xi = xi[0] if single else xi
    return (xi, np.array(energies)) if return_energies else xi


#: The update modes of :func:`classic_retrieve`.
MODES = ("async", "sync")


def classic_retrieve(xi, W, b=None, mode="async", max_sweeps=100, rng=None):
    """Run the classic network from ``xi`` (B, d) until no unit changes (a fixed point), for
    at most ``max_sweeps`` sweeps (``mode="async"``, :func:`classic_async_sweep`, a fresh random
    order each sweep) or synchronous steps (``mode="sync"``, :func:`classic_step`; a state that
    returns to where it was two steps before is in a two-cycle and stops there).

    Returns ``(states, energies, converged)``: the final states (B, d), the energy (9.3) of each
    state before the first sweep and after every sweep (n + 1, B), and whether each state reached
    a fixed point (B,) bool.
    """
    if mode not in MODES:
        raise ValueError(f"mode: expected one of {MODES}, got {mode!r}")
    max_sweeps = check_positive_int("max_sweeps", max_sweeps)
    W, b = _check_weights(W, b)
    xi = _check_states(xi, W.shape[0])
    rng = as_generator(rng)
    energies = [classic_energy(xi, W, b)]
    converged = np.zeros(len(xi), bool)
    cycling = np.zeros(len(xi), bool)
    previous = None
    for _ in range(max_sweeps):
        new = (classic_async_sweep(xi, W, b, rng=rng) if mode == "async"
               else classic_step(xi, W, b))
        converged = np.all(new == xi, axis=1)
        if previous is not None:
            cycling = np.all(new == previous, axis=1) & ~converged
        previous, xi = xi, new
        energies.append(classic_energy(xi, W, b))
        if np.all(converged | cycling):
            break
    return xi, np.array(energies), converged


def fast_classic_retrieve(xi, W, b=None, max_sweeps=100, rng=None):
    """The speed variant of ``classic_retrieve(xi, W, b, mode="async", ...)``, tested equal: the
    same sweeps in the same random orders (drawn from ``rng`` in the same sequence), so the
    same final states, but the loop runs over the *flips* instead of over the units. Each state
    keeps its local fields ξ W − b up to date (a flip of unit i adds 2 ξ_i W_{i,:}) and jumps,
    within the current sweep's order, straight to the next unit whose sign disagrees with its
    field; a sweep without a flip ends at a fixed point. Returns ``(states, converged)``."""
    max_sweeps = check_positive_int("max_sweeps", max_sweeps)
    W, b = _check_weights(W, b)
    xi = _check_states(xi, W.shape[0]).copy()
    rng = as_generator(rng)
    B, d = xi.shape
    field = xi @ W - b
    orders, ranks = np.empty((0, d), int), np.empty((0, d), int)   # sweep k's order and ranks
    sweep, pos = np.zeros(B, int), np.zeros(B, int)
    flipped, done, converged = np.zeros(B, bool), np.zeros(B, bool), np.zeros(B, bool)
    while not done.all():
        rows = np.flatnonzero(~done)
        while len(orders) <= sweep[rows].max():
            order = rng.permutation(d)
            orders, ranks = np.vstack([orders, order]), np.vstack([ranks, np.argsort(order)])
        rank = ranks[sweep[rows]]                                  # (rows, d)
        unstable = (_sign_keep(field[rows], xi[rows]) != xi[rows]) & (rank >= pos[rows, None])
        first = np.where(unstable, rank, d).min(axis=1)            # the next unit to flip
        flip = first < d
        r = rows[flip]
        unit = orders[sweep[r], first[flip]]
        xi[r, unit] = -xi[r, unit]
        field[r] += 2.0 * xi[r, unit][:, None] * W[unit]
        pos[r], flipped[r] = first[flip] + 1, True
        end = rows[~flip]                                          # these finished a sweep
        converged[end] = ~flipped[end]
        sweep[end] += 1
        pos[end], flipped[end] = 0, False
        done[end] = converged[end] | (sweep[end] >= max_sweeps)
    return xi, converged


def bit_error(states, patterns):
    """The fraction of units of each state that differ from its pattern: (B,) for ``states``
    and ``patterns`` of the same shape (B, d), entries ±1 (a real state is compared by its
    sign)."""
    states = as_float_array("states", states, ndim=2)
    patterns = as_float_array("patterns", patterns, shape=states.shape)
    return np.mean(np.sign(states) != np.sign(patterns), axis=1)


#: The storage rules of :func:`recall_error`.
RULES = ("hebbian", "pseudo-inverse")


def recall_error(N, d, seed, rule="hebbian", max_sweeps=30):
    """The mean bit error after asynchronous retrieval (:func:`fast_classic_retrieve`) started
    at each of N random patterns of size d stored by ``rule`` (``"hebbian"`` (9.1) or
    ``"pseudo-inverse"`` (9.5)): the measurement of the chapter's capacity curve. The patterns
    are drawn with ``numpy.random.default_rng(seed)`` (``seed``: an int ≥ 0, a Generator, or
    ``None`` for NumPy's global state, which ``seqlearn.seed`` sets). Returns a float in [0, 1]."""
    N, d = check_positive_int("N", N), check_positive_int("d", d)
    rng = as_generator(seed, "seed")
    X = rng.choice([-1.0, 1.0], size=(N, d))
    if rule not in RULES:
        raise ValueError(f"rule: expected one of {RULES}, got {rule!r}")
    W = hebbian_weights(X) if rule == "hebbian" else pseudo_inverse_weights(X)
    states, _ = fast_classic_retrieve(X, W, max_sweeps=max_sweeps, rng=rng)
    return float(bit_error(states, X).mean())


# ------------------------------------------------------------------------- modern network
def _check_update_args(xi, patterns, beta, mask):
    xi = as_float_array("xi", xi)
    if xi.ndim < 2:
        raise ValueError(f"xi: expected shape (..., S, d) (S states of size d), got shape "
                         f"{xi.shape}")
    patterns = as_float_array("patterns", patterns)
    d = xi.shape[-1]
    if patterns.ndim == 2:
        if patterns.shape[1] != d:
            raise ValueError(f"patterns: expected shape (N, {d}) (d = {d} as xi), got shape "
                             f"{patterns.shape}")
    elif patterns.shape[:-2] != xi.shape[:-2] or patterns.shape[-1] != d:
        raise ValueError(f"patterns: expected shape (N, {d}) or {xi.shape[:-2] + ('N', d)} "
                         f"(the leading dimensions and d of xi {xi.shape}), got shape "
                         f"{patterns.shape}")
    beta = check_beta(beta)
    mask = check_mask(mask, xi.shape[:-1] + (patterns.shape[-2],))
    dtype = np.result_type(xi.dtype, patterns.dtype)
    return xi.astype(dtype, copy=False), patterns.astype(dtype, copy=False), beta, mask


def _softmax_(a, mask=None):
    """Softmax over the last axis of ``a``, in place; where ``mask`` is False the weight is 0."""
    if mask is not None:
        a += np.where(mask, a.dtype.type(0), a.dtype.type(-np.inf))
    a -= a.max(axis=-1, keepdims=True)
    np.exp(a, out=a)
    a /= a.sum(axis=-1, keepdims=True)
    return a


def modern_hopfield_update_forward(xi, patterns, beta, mask=None):
    """One update of the modern Hopfield network, equation (9.6)::

        a = β ξ Xᵀ        (..., S, N)   similarities of the states with the stored patterns
        p = softmax(a)    by rows; where ``mask`` is False a pattern gets weight 0
        ξ_new = p X       (..., S, d)   a convex combination of the stored patterns

    Parameters
    ----------
    xi : (..., S, d) states (queries) ξ; a batch of single states is (B, d) (S = B, no ...)
    patterns : (N, d) stored patterns x_i (rows), shared by all states, or (..., N, d), one set
        per leading index
    beta : the inverse temperature β > 0
    mask : optional bool broadcastable to (..., S, N), True = the pattern may be retrieved

    Returns ``xi_new`` (..., S, d), the weights ``p`` (..., S, N) and the cache of
    :func:`modern_hopfield_update_backward` (``p`` is the array the cache holds: do not modify it
    in place before the backward pass; the cache keeps references to its inputs, not copies).
    """
    xi, X, beta, mask = _check_update_args(xi, patterns, beta, mask)
    scaled = xi * xi.dtype.type(beta)             # β ξ: cheaper to scale than the (S, N) scores
    p = _softmax_(scaled @ np.swapaxes(X, -1, -2), mask)
    xi_new = p @ X
    cache = {"xi": xi, "scaled": scaled, "X": X, "beta": beta, "p": p, "xi_new": xi_new}
    return xi_new, p, cache


def modern_hopfield_update_backward(dxi_new, cache):
    """Backward pass of :func:`modern_hopfield_update_forward`. With dξ' = ∂L/∂ξ_new::

        dp = dξ' Xᵀ,   da = p ⊙ (dp − Σ_j p_j dp_j)           (softmax backward, by rows)
        ∂L/∂ξ = β da X,   ∂L/∂X = pᵀ dξ' + β daᵀ ξ,   ∂L/∂β = Σ da ⊙ (ξ Xᵀ) = Σ ξ ⊙ ∂L/∂ξ / β

    (the patterns are read twice: as the values p X and inside the scores). The row sums
    Σ_j p_j dp_j equal dξ'·ξ_new, a cheaper (..., S) product. When the patterns were shared
    (N, d), ∂L/∂X sums over the leading dimensions. Returns ``(dxi, dpatterns, dbeta)``.
    """
    xi, scaled, X, beta, p, xi_new = (cache[k] for k in ("xi", "scaled", "X", "beta", "p",
                                                         "xi_new"))
    dout = as_float_array("dxi_new", dxi_new, shape=xi_new.shape).astype(xi.dtype, copy=False)
    da = dout @ np.swapaxes(X, -1, -2)                    # dp (..., S, N)
    da -= (dout * xi_new).sum(axis=-1, keepdims=True)     # Σ_j p_j dp_j = dξ' · ξ_new
    da *= p
    dxi = (da @ X) * beta
    dX = np.swapaxes(p, -1, -2) @ dout + np.swapaxes(da, -1, -2) @ scaled
    if X.ndim == 2 and dX.ndim > 2:
        dX = dX.reshape(-1, *X.shape).sum(axis=0)
    dbeta = float(np.sum(xi * dxi)) / beta
    return dxi, dX, dbeta


def modern_hopfield_energy(xi, patterns, beta):
    """The energy (9.7) of the modern Hopfield network for each state::

        E(ξ) = −β⁻¹ log Σ_i exp(β ξ · x_i) + ½ ξ · ξ + β⁻¹ log N + ½ M²,   M = max_i ‖x_i‖

    ``xi`` (..., d) states, ``patterns`` (N, d). Returns E (...) (≥ 0; its minima sit near the
    stored patterns when they are well separated). The update (9.6) never increases it.
    """
    beta = check_beta(beta)
    X = as_float_array("patterns", patterns, ndim=2)
    xi = as_float_array("xi", xi)
    if xi.ndim == 0 or xi.shape[-1] != X.shape[1]:
        raise ValueError(f"xi: expected shape (..., {X.shape[1]}) (d of the patterns), got "
                         f"shape {xi.shape}")
    a = beta * (xi @ X.T)
    top = a.max(axis=-1, keepdims=True)
    lse = (top + np.log(np.exp(a - top).sum(axis=-1, keepdims=True)))[..., 0]
    M = np.sqrt((X * X).sum(axis=1)).max()
    return -lse / beta + 0.5 * (xi * xi).sum(axis=-1) + np.log(len(X)) / beta + 0.5 * M**2


def modern_hopfield_retrieve(xi, patterns, beta, max_steps=1, tol=1e-10):
    """Apply the update (9.6) to the states ``xi`` (..., S, d) (or (B, d)) with the stored
    ``patterns`` (N, d) until no entry moves by more than ``tol``, at most ``max_steps`` times
    (the default, 1, is the one-step retrieval that usually suffices).

    Returns ``(xi, p, steps)``: the final states, the weights of the last update and the number
    of updates made.
    """
    max_steps = check_positive_int("max_steps", max_steps)
    if isinstance(tol, bool) or not isinstance(tol, (int, float, np.integer, np.floating)):
        raise TypeError(f"tol: expected a number ≥ 0, got {describe(tol)}")
    if not (np.isfinite(tol) and tol >= 0):
        raise ValueError(f"tol: expected a finite number ≥ 0, got {tol!r}")
    steps = 0
    for steps in range(1, max_steps + 1):
        new, p, _ = modern_hopfield_update_forward(xi, patterns, beta)
        done = np.max(np.abs(new - np.asarray(xi, dtype=new.dtype))) <= tol
        xi = new
        if done:
            break
    return xi, p, steps


# ------------------------------------------------------------------------- Hopfield layers
def _default_beta(beta, d_k):
    return 1.0 / np.sqrt(d_k) if beta is None else check_beta(beta)


def _uniform(rng, fan_in, shape):
    bound = 1.0 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, size=shape)


def init_hopfield_layer_params(state_size, stored_size, hidden_size, output_size, rng=None):
    """Parameters of a Hopfield layer (9.8): ``W_q`` (D_r, d_k), ``W_k`` (D_y, d_k) and ``W_v``
    (d_k, d_v), each from U(−1/√fan_in, 1/√fan_in), with D_r = ``state_size``, D_y =
    ``stored_size``, d_k = ``hidden_size`` and d_v = ``output_size``."""
    rng = as_generator(rng)
    D_r, D_y = check_positive_int("state_size", state_size), check_positive_int("stored_size",
                                                                                 stored_size)
    d_k, d_v = check_positive_int("hidden_size", hidden_size), check_positive_int("output_size",
                                                                                   output_size)
    return {"W_q": _uniform(rng, D_r, (D_r, d_k)), "W_k": _uniform(rng, D_y, (D_y, d_k)),
            "W_v": _uniform(rng, d_k, (d_k, d_v))}


def _matrix(params, name, rows=None):
    W = as_float_array(f"params[{name!r}]", params[name], ndim=2)
    if rows is not None and W.shape[0] != rows:
        raise ValueError(f"params[{name!r}]: expected {rows} rows, got shape {W.shape}")
    return W


def _check_set(name, x, D):
    return as_float_array(name, x, shape=(None, None, D))


def _layer_params(params):
    check_param_dict(params, ("W_q", "W_k", "W_v"))
    W_q, W_k = _matrix(params, "W_q"), _matrix(params, "W_k")
    if W_k.shape[1] != W_q.shape[1]:
        raise ValueError(f"params['W_k']: expected {W_q.shape[1]} columns (d_k of W_q), got "
                         f"shape {W_k.shape}")
    return W_q, W_k, _matrix(params, "W_v", rows=W_q.shape[1])


def hopfield_layer_forward(R, Y, params, beta=None, mask=None):
    """A Hopfield layer (Ramsauer et al. 2021): the state patterns R retrieve from the stored
    patterns Y, equation (9.8)::

        ξ = R W_q,  K = Y W_k       (B, S, d_k), (B, N, d_k)
        ξ_new = softmax(β ξ Kᵀ) K   one update (9.6) of ξ with the stored patterns K
        Z = ξ_new W_v               (B, S, d_v)

    Parameters
    ----------
    R : (B, S, D_r) state patterns (queries); Y : (B, N, D_y) stored patterns
    params : dict ``W_q`` (D_r, d_k), ``W_k`` (D_y, d_k), ``W_v`` (d_k, d_v)
    beta : the inverse temperature, 1/√d_k by default
    mask : optional (B, N) bool, True for real stored patterns (padded sets)

    Returns ``Z`` (B, S, d_v), the weights (B, S, N) and the cache of
    :func:`hopfield_layer_backward` (the cache keeps references to its inputs, not copies).
    """
    W_q, W_k, W_v = _layer_params(params)
    R = _check_set("R", R, W_q.shape[0])
    Y = _check_set("Y", Y, W_k.shape[0])
    if Y.shape[0] != R.shape[0]:
        raise ValueError(f"Y: expected batch size {R.shape[0]} (that of R), got shape {Y.shape}")
    mask = check_mask(mask, (Y.shape[0], Y.shape[1]))
    beta = _default_beta(beta, W_q.shape[1])
    xi, K = R @ W_q, Y @ W_k
    xi_new, p, update = modern_hopfield_update_forward(
        xi, K, beta, None if mask is None else mask[:, None, :])
    Z = xi_new @ W_v
    cache = {"R": R, "Y": Y, "W_q": W_q, "W_k": W_k, "W_v": W_v, "xi_new": xi_new,
             "update": update}
    return Z, p, cache


def hopfield_layer_backward(dZ, cache):
    """Backward pass of :func:`hopfield_layer_forward`: with dZ = ∂L/∂Z (B, S, d_v),
    ``∂L/∂W_v = Σ ξ_newᵀ dZ``, dξ_new = dZ W_vᵀ through the update's backward
    (:func:`modern_hopfield_update_backward`) to dξ and dK, then ``∂L/∂R = dξ W_qᵀ``,
    ``∂L/∂W_q = Σ Rᵀ dξ``, ``∂L/∂Y = dK W_kᵀ``, ``∂L/∂W_k = Σ Yᵀ dK``.
    Returns ``(dR, dY, grads)`` with ``grads`` the dict ``W_q``, ``W_k``, ``W_v``."""
    R, Y, W_q, W_k, W_v, xi_new = (cache[k] for k in ("R", "Y", "W_q", "W_k", "W_v", "xi_new"))
    dZ = as_float_array("dZ", dZ, shape=xi_new.shape[:-1] + (W_v.shape[1],))
    dxi, dK, _ = modern_hopfield_update_backward(dZ @ W_v.T, cache["update"])
    flat = lambda a: a.reshape(-1, a.shape[-1])
    grads = {"W_q": flat(R).T @ flat(dxi), "W_k": flat(Y).T @ flat(dK),
             "W_v": flat(xi_new).T @ flat(dZ)}
    return dxi @ W_q.T, dK @ W_k.T, grads


def init_hopfield_pooling_params(input_size, hidden_size, output_size, num_queries=1, rng=None):
    """Parameters of Hopfield pooling: learned state patterns ``queries`` (S, d_k) ~ N(0, 1),
    ``W_k`` (D_y, d_k) and ``W_v`` (d_k, d_v) from U(−1/√fan_in, 1/√fan_in), with S =
    ``num_queries``, D_y = ``input_size``, d_k = ``hidden_size``, d_v = ``output_size``."""
    rng = as_generator(rng)
    D = check_positive_int("input_size", input_size)
    d_k, d_v = check_positive_int("hidden_size", hidden_size), check_positive_int("output_size",
                                                                                   output_size)
    S = check_positive_int("num_queries", num_queries)
    return {"queries": rng.normal(size=(S, d_k)), "W_k": _uniform(rng, D, (D, d_k)),
            "W_v": _uniform(rng, d_k, (d_k, d_v))}


def _pooling_params(params):
    check_param_dict(params, ("queries", "W_k", "W_v"))
    Q, W_k = _matrix(params, "queries"), _matrix(params, "W_k")
    if W_k.shape[1] != Q.shape[1]:
        raise ValueError(f"params['W_k']: expected {Q.shape[1]} columns (d_k of the queries), "
                         f"got shape {W_k.shape}")
    return Q, W_k, _matrix(params, "W_v", rows=Q.shape[1])


def hopfield_pooling_forward(Y, params, beta=None, mask=None):
    """Hopfield pooling: S learned state patterns (queries) Q retrieve from each set Y, so a set
    of any size N becomes S vectors (Ramsauer et al. 2021)::

        K = Y W_k (B, N, d_k),   Z = softmax(β Q Kᵀ) K W_v   (B, S, d_v)

    ``Y`` (B, N, D_y); ``params``: ``queries`` (S, d_k), ``W_k`` (D_y, d_k), ``W_v``
    (d_k, d_v); ``beta`` 1/√d_k by default; ``mask`` optional (B, N) bool, True for real
    instances. The result does not depend on the order of the N instances.

    Returns ``Z`` (B, S, d_v), the weights (B, S, N) and the cache of
    :func:`hopfield_pooling_backward` (the cache keeps references to its inputs, not copies).
    """
    Q, W_k, W_v = _pooling_params(params)
    Y = _check_set("Y", Y, W_k.shape[0])
    B, N, _ = Y.shape
    mask = check_mask(mask, (B, N))
    beta = _default_beta(beta, Q.shape[1])
    K = Y @ W_k
    xi = np.broadcast_to(Q.astype(K.dtype), (B,) + Q.shape)
    xi_new, p, update = modern_hopfield_update_forward(
        xi, K, beta, None if mask is None else mask[:, None, :])
    cache = {"Y": Y, "W_k": W_k, "W_v": W_v, "xi_new": xi_new, "update": update}
    return xi_new @ W_v, p, cache


def hopfield_pooling_backward(dZ, cache):
    """Backward pass of :func:`hopfield_pooling_forward`. Returns ``(dY, grads)`` with
    ``grads`` the dict ``queries`` (summed over the batch), ``W_k``, ``W_v``."""
    Y, W_k, W_v, xi_new = (cache[k] for k in ("Y", "W_k", "W_v", "xi_new"))
    dZ = as_float_array("dZ", dZ, shape=xi_new.shape[:-1] + (W_v.shape[1],))
    dxi, dK, _ = modern_hopfield_update_backward(dZ @ W_v.T, cache["update"])
    flat = lambda a: a.reshape(-1, a.shape[-1])
    grads = {"queries": dxi.sum(axis=0), "W_k": flat(Y).T @ flat(dK),
             "W_v": flat(xi_new).T @ flat(dZ)}
    return dK @ W_k.T, grads


def init_hopfield_lookup_params(input_size, hidden_size, output_size, num_patterns, rng=None):
    """Parameters of a Hopfield lookup: ``W_q`` (D_r, d_k) and ``W_v`` (d_k, d_v) from
    U(−1/√fan_in, 1/√fan_in) and learned stored patterns ``patterns`` (N, d_k) ~ N(0, 1), with
    D_r = ``input_size``, d_k = ``hidden_size``, d_v = ``output_size``, N = ``num_patterns``."""
    rng = as_generator(rng)
    D = check_positive_int("input_size", input_size)
    d_k, d_v = check_positive_int("hidden_size", hidden_size), check_positive_int("output_size",
                                                                                   output_size)
    N = check_positive_int("num_patterns", num_patterns)
    return {"W_q": _uniform(rng, D, (D, d_k)), "patterns": rng.normal(size=(N, d_k)),
            "W_v": _uniform(rng, d_k, (d_k, d_v))}


def _lookup_params(params):
    check_param_dict(params, ("W_q", "patterns", "W_v"))
    W_q, P = _matrix(params, "W_q"), _matrix(params, "patterns")
    if P.shape[1] != W_q.shape[1]:
        raise ValueError(f"params['patterns']: expected {W_q.shape[1]} columns (d_k of W_q), "
                         f"got shape {P.shape}")
    return W_q, P, _matrix(params, "W_v", rows=W_q.shape[1])


def hopfield_lookup_forward(R, params, beta=None):
    """A Hopfield lookup: the states R retrieve from N learned stored patterns P, a memory that
    training fills (Ramsauer et al. 2021)::

        ξ = R W_q (B, S, d_k),   Z = softmax(β ξ Pᵀ) P W_v   (B, S, d_v)

    ``R`` (B, S, D_r); ``params``: ``W_q`` (D_r, d_k), ``patterns`` P (N, d_k), ``W_v``
    (d_k, d_v); ``beta`` 1/√d_k by default. Returns ``Z`` (B, S, d_v), the weights (B, S, N) and
    the cache of :func:`hopfield_lookup_backward` (the cache keeps references to its inputs, not copies).
    """
    W_q, P, W_v = _lookup_params(params)
    R = _check_set("R", R, W_q.shape[0])
    beta = _default_beta(beta, W_q.shape[1])
    xi_new, p, update = modern_hopfield_update_forward(R @ W_q, P, beta)
    cache = {"R": R, "W_q": W_q, "W_v": W_v, "xi_new": xi_new, "update": update}
    return xi_new @ W_v, p, cache


def hopfield_lookup_backward(dZ, cache):
    """Backward pass of :func:`hopfield_lookup_forward`. Returns ``(dR, grads)`` with ``grads``
    the dict ``W_q``, ``patterns``, ``W_v``."""
    R, W_q, W_v, xi_new = (cache[k] for k in ("R", "W_q", "W_v", "xi_new"))
    dZ = as_float_array("dZ", dZ, shape=xi_new.shape[:-1] + (W_v.shape[1],))
    dxi, dP, _ = modern_hopfield_update_backward(dZ @ W_v.T, cache["update"])
    flat = lambda a: a.reshape(-1, a.shape[-1])
    grads = {"W_q": flat(R).T @ flat(dxi), "patterns": dP, "W_v": flat(xi_new).T @ flat(dZ)}
    return dxi @ W_q.T, grads


__all__ = ["MODES", "RULES", "bit_error", "check_beta", "classic_async_sweep", "classic_energy",
           "classic_retrieve", "classic_step", "fast_classic_retrieve", "hebbian_weights",
           "hopfield_layer_backward", "hopfield_layer_forward", "hopfield_lookup_backward",
           "hopfield_lookup_forward", "hopfield_pooling_backward", "hopfield_pooling_forward",
           "init_hopfield_layer_params", "init_hopfield_lookup_params",
           "init_hopfield_pooling_params", "modern_hopfield_energy",
           "modern_hopfield_retrieve", "modern_hopfield_update_backward",
           "modern_hopfield_update_forward", "pseudo_inverse_weights", "recall_error"]
