"""Boltzmann machines and restricted Boltzmann machines (RBMs) with 0/1 units, in NumPy.

**Boltzmann machine** (Ackley, Hinton & Sejnowski 1985). n stochastic binary units x ∈ {0, 1}^n,
symmetric couplings J (n, n) with a zero diagonal and biases b (n,)::

    E(x) = −½ x J xᵀ − x bᵀ                                        (9.9)
    p(x) = exp(−E(x)) / Z,     Z = Σ_{x ∈ {0,1}^n} exp(−E(x))      (9.10)
    P(x_i = 1 | the others) = σ(x J_{:, i} + b_i)                   (9.11)

Z has 2^n terms: :func:`boltzmann_log_partition` sums them all, which is possible for small n
only (here n ≤ 20); :func:`boltzmann_gibbs` samples p(x) instead, unit by unit with (9.11).

**Restricted Boltzmann machine** (Smolensky 1986; Hinton 2002). D visible units v and H hidden
units h, connected only across the layers by W (D, H), with biases b_v (D,) and b_h (H,)::

    E(v, h) = −v W hᵀ − v b_vᵀ − h b_hᵀ                                          (9.12)
    P(h_j = 1 | v) = σ(v W_{:, j} + b_h,j),   P(v_i = 1 | h) = σ(W_{i, :} hᵀ + b_v,i)  (9.13)
    F(v) = −log Σ_h exp(−E(v, h)) = −v b_vᵀ − Σ_j softplus(v W_{:, j} + b_h,j)      (9.14)

so p(v) = exp(−F(v)) / Z. The gradient of the mean negative log-likelihood is
⟨∂F/∂θ⟩_data − ⟨∂F/∂θ⟩_model; contrastive divergence (CD-k) replaces the model's expectation by
the visible states reached after k steps of Gibbs sampling started at the data (9.15).
:func:`rbm_forward` / :func:`rbm_backward` compute F and its gradient, and
:func:`rbm_cd_gradients` the CD-k estimate built from them.
"""

import numpy as np

from ..validate import (as_float_array, as_generator, check_finite_loss, check_positive_int,
                        check_positive_number, describe)
from .common import check_param_dict

#: The largest number of units whose 2^n states the exact functions enumerate.
MAX_EXACT_UNITS = 20


def _sigmoid(a):
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def _softplus(a):
    return np.logaddexp(0.0, a)


def _logsumexp(a, axis=-1):
    top = a.max(axis=axis, keepdims=True)
    return (top + np.log(np.exp(a - top).sum(axis=axis, keepdims=True))).squeeze(axis)


def _check_units(name, x, n):
    x = as_float_array(name, x)
    if x.ndim == 1:
        x = x[None]
    if x.ndim != 2 or x.shape[1] != n:
        raise ValueError(f"{name}: expected shape (B, {n}) ({n} units), got {describe(x)}")
    if not np.all((x == 0) | (x == 1)):
        raise ValueError(f"{name}: expected binary units with values 0 or 1")
    return x


def _check_machine(J, b):
    J = as_float_array("J", J, ndim=2)
    n = J.shape[0]
    if J.shape != (n, n) or not np.allclose(J, J.T):
        raise ValueError(f"J: expected a symmetric (n, n) matrix, got shape {J.shape}")
    if np.any(np.diag(J) != 0):
        raise ValueError("J: expected a zero diagonal (no unit is coupled to itself)")
    return J, as_float_array("b", b, shape=(n,))


def all_states(n):
    """Every binary vector of n units, (2^n, n), in counting order (row k is k in binary, the
    first unit the most significant bit). n ≤ ``MAX_EXACT_UNITS``."""
    n = check_positive_int("n", n)
    if n > MAX_EXACT_UNITS:
        raise ValueError(f"n: expected at most {MAX_EXACT_UNITS} units (2^n states are "
                         f"enumerated), got {n}")
    k = np.arange(2**n)
    return ((k[:, None] >> np.arange(n - 1, -1, -1)) & 1).astype(float)


def boltzmann_energy(x, J, b):
    """E(x) = −½ x J xᵀ − x bᵀ of equation (9.9) for states ``x`` (B, n) of 0/1 units; ``J``
    (n, n) symmetric with a zero diagonal, ``b`` (n,). Returns (B,)."""
    J, b = _check_machine(J, b)
    x = _check_units("x", x, len(b))
    return -0.5 * np.einsum("bi,ij,bj->b", x, J, x) - x @ b


def boltzmann_log_partition(J, b):
    """log Z of equation (9.10), exactly: the log of the sum of exp(−E(x)) over all 2^n states
    (n ≤ ``MAX_EXACT_UNITS``)."""
    J, b = _check_machine(J, b)
    return float(_logsumexp(-boltzmann_energy(all_states(len(b)), J, b)))


def boltzmann_probabilities(J, b):
    """p(x) of equation (9.10) for every state of :func:`all_states` (2^n,), exactly."""
    J, b = _check_machine(J, b)
    minus_H = -boltzmann_energy(all_states(len(b)), J, b)
    return np.exp(minus_H - _logsumexp(minus_H))


def boltzmann_moments(J, b):
    """The exact moments of p(x): the means ⟨x_i⟩ (n,) and the pair moments ⟨x_i x_j⟩ (n, n)."""
    p = boltzmann_probabilities(J, b)
    X = all_states(len(b))
    return p @ X, (X * p[:, None]).T @ X


def boltzmann_gibbs(x0, J, b, n_sweeps, rng=None):
    """Gibbs sampling of p(x): ``n_sweeps`` sweeps over the units in order, each unit set to 1
    with the probability (9.11) given the current values of the others, for every chain of the
    batch ``x0`` (B, n) of 0/1 units. Returns the states after each sweep, (n_sweeps, B, n)."""
    J, b = _check_machine(J, b)
    x = _check_units("x0", x0, len(b)).copy()
    n_sweeps = check_positive_int("n_sweeps", n_sweeps)
    rng = as_generator(rng)
    out = np.empty((n_sweeps,) + x.shape)
    for s in range(n_sweeps):
        u = rng.random(x.shape)
        for i in range(len(b)):
            x[:, i] = (u[:, i] < _sigmoid(x @ J[:, i] + b[i])).astype(float)
        out[s] = x
    return out


# ------------------------------------------------------------------------------------ RBM
RBM_PARAM_NAMES = ("W", "b_v", "b_h")


def init_rbm_params(visible_size, hidden_size, rng=None, data=None):
    """RBM parameters: ``W`` (D, H) ~ N(0, 0.01²), ``b_h`` (H,) zeros, and ``b_v`` (D,) zeros,
    or log(p_i / (1 − p_i)) for the fraction p_i of ``data`` (n, D) with unit i on (clipped to
    [0.01, 0.99]), the start Hinton's practical guide recommends."""
    rng = as_generator(rng)
    D, H = check_positive_int("visible_size", visible_size), check_positive_int("hidden_size",
                                                                                 hidden_size)
    b_v = np.zeros(D)
    if data is not None:
        p = np.clip(_check_units("data", data, D).mean(axis=0), 0.01, 0.99)
        b_v = np.log(p / (1 - p))
    return {"W": rng.normal(0.0, 0.01, size=(D, H)), "b_v": b_v, "b_h": np.zeros(H)}


def check_rbm_params(params):
    """Check an RBM's parameter dict (``W`` (D, H), ``b_v`` (D,), ``b_h`` (H,)); return the
    arrays ``(W, b_v, b_h)`` (the arrays of ``params`` themselves when they are float arrays)."""
    check_param_dict(params, RBM_PARAM_NAMES)
    W = as_float_array("params['W']", params["W"], ndim=2)
    D, H = W.shape
    return (W, as_float_array("params['b_v']", params["b_v"], shape=(D,)),
            as_float_array("params['b_h']", params["b_h"], shape=(H,)))


def rbm_hidden_probs(v, params):
    """P(h_j = 1 | v) of equation (9.13): σ(v W + b_h), (B, H), for visible states ``v``
    (B, D) (0/1, or probabilities)."""
    W, _, b_h = check_rbm_params(params)
    v = as_float_array("v", v, shape=(None, W.shape[0]))
    return _sigmoid(v @ W + b_h)


def rbm_visible_probs(h, params):
    """P(v_i = 1 | h) of equation (9.13): σ(h Wᵀ + b_v), (B, D), for hidden states ``h``
    (B, H)."""
    W, b_v, _ = check_rbm_params(params)
    h = as_float_array("h", h, shape=(None, W.shape[1]))
    return _sigmoid(h @ W.T + b_v)


def rbm_gibbs_step(v, params, rng=None):
    """One step of block Gibbs sampling, v → h → v': ``h`` ~ P(h | v) and ``v'`` ~ P(v | h)
    (9.13), each unit drawn as (u < probability) with u ~ U(0, 1) from ``rng`` (first the
    (B, H) numbers for h, then the (B, D) for v'). Returns ``(h, v_new, v_prob)``: the sampled
    hidden and visible states and P(v' = 1 | h)."""
    rng = as_generator(rng)
    p_h = rbm_hidden_probs(v, params)
    h = (rng.random(p_h.shape) < p_h).astype(float)
    p_v = rbm_visible_probs(h, params)
    return h, (rng.random(p_v.shape) < p_v).astype(float), p_v


def rbm_forward(v, params):
    """The free energy (9.14) of each visible state, F(v) = −v b_vᵀ − Σ_j softplus(v W_{:,j} +
    b_h,j): the RBM's forward pass (p(v) ∝ exp(−F(v))). ``v`` (B, D). Returns ``F`` (B,) and the
    cache of :func:`rbm_backward` (the cache keeps references to its inputs, not copies)."""
    W, b_v, b_h = check_rbm_params(params)
    v = as_float_array("v", v, shape=(None, W.shape[0]))
    a = v @ W + b_h
    F = -(v @ b_v) - _softplus(a).sum(axis=1)
    return F, {"v": v, "a": a, "W": W, "b_v": b_v}


def rbm_backward(dF, cache):
    """Backward pass of :func:`rbm_forward`: with dF = ∂L/∂F (B,) and q = σ(v W + b_h) (B, H)::

        ∂L/∂W = −vᵀ (dF q),   ∂L/∂b_v = −Σ_b dF v,   ∂L/∂b_h = −Σ_b dF q,   ∂L/∂v = −dF (b_v + q Wᵀ)

    Returns ``(grads, dv)``, ``grads`` the dict ``W``, ``b_v``, ``b_h``."""
    v, a, W, b_v = cache["v"], cache["a"], cache["W"], cache["b_v"]
    dF = as_float_array("dF", dF, shape=(len(v),))
    q = _sigmoid(a)
    weighted = dF[:, None] * q
    grads = {"W": -(v.T @ weighted), "b_v": -(dF @ v), "b_h": -weighted.sum(axis=0)}
    return grads, -(dF[:, None] * (b_v + q @ W.T))


def rbm_cd_gradients(v, params, k=1, rng=None):
    """The CD-k estimate (9.15) of the gradient of the mean negative log-likelihood of the
    visible data ``v`` (B, D)::

        v_k = k steps of rbm_gibbs_step from v (the negative phase)
        g = (1/B) Σ_b ∂F(v_b)/∂θ − (1/B) Σ_b ∂F(v_k,b)/∂θ

    The two terms are :func:`rbm_backward` of the free energy at the data and at v_k (held
    fixed). Written with the hidden probabilities q = σ(v W + b_h),
    −g_W = (vᵀ q(v) − v_kᵀ q(v_k)) / B, Hinton's ⟨v h⟩_data − ⟨v h⟩_recon. Returns
    ``(grads, v_k)``; descend along ``grads``.
    """
    k = check_positive_int("k", k)
    rng = as_generator(rng)
    v_k = v
    for _ in range(k):
        _, v_k, _ = rbm_gibbs_step(v_k, params, rng)
    B = len(np.atleast_2d(v))
    _, data_cache = rbm_forward(v, params)
    _, model_cache = rbm_forward(v_k, params)
    positive, _ = rbm_backward(np.full(B, 1.0 / B), data_cache)
    negative, _ = rbm_backward(np.full(B, 1.0 / B), model_cache)
    return {name: positive[name] - negative[name] for name in RBM_PARAM_NAMES}, v_k


def rbm_log_partition(params):
    """log Z of the RBM, exactly, summing exp(−F) over every state of the smaller layer (at
    most ``MAX_EXACT_UNITS`` units): over the visible states, log Σ_v exp(−F(v)); over the
    hidden ones, with the visible units summed out, log Σ_h exp(h b_hᵀ + Σ_i softplus(W_{i,:} hᵀ
    + b_v,i))."""
    W, b_v, b_h = check_rbm_params(params)
    D, H = W.shape
    if min(D, H) > MAX_EXACT_UNITS:
        raise ValueError(f"params: both layers have more than {MAX_EXACT_UNITS} units "
                         f"(D = {D}, H = {H}); Z would need 2^{min(D, H)} terms")
    if D <= H:
        F, _ = rbm_forward(all_states(D), params)
        return float(_logsumexp(-F))
    h = all_states(H)
    return float(_logsumexp(h @ b_h + _softplus(h @ W.T + b_v).sum(axis=1)))


def rbm_log_likelihood(v, params):
    """The mean log-likelihood of the visible data ``v`` (B, D), exactly:
    mean_b(−F(v_b)) − log Z (small machines only, see :func:`rbm_log_partition`)."""
    F, _ = rbm_forward(v, params)
    return float(-F.mean() - rbm_log_partition(params))


def train_rbm(data, params, epochs=10, lr=0.05, k=1, batch_size=32, momentum=0.5, rng=None):
    """Train an RBM on the 0/1 rows of ``data`` (n, D) by CD-k (:func:`rbm_cd_gradients`) with
    momentum: each epoch visits the rows in a random order in batches of ``batch_size``, and
    every parameter moves by Δθ ← momentum · Δθ − lr · g (``lr`` > 0, 0 ≤ ``momentum`` < 1).
    ``params`` is left as it is; the trained copy is returned with the history:
    ``(params, errors)``, ``errors`` the mean squared reconstruction error ‖v − P(v | h)‖² / D of
    each epoch (a rough guide: it is not the likelihood). Stops with ``FloatingPointError`` when
    the parameters overflow (the learning rate is far too large)."""
    W, b_v, b_h = check_rbm_params(params)
    params = {"W": W.copy(), "b_v": b_v.copy(), "b_h": b_h.copy()}
    data = _check_units("data", data, W.shape[0])
    epochs, k = check_positive_int("epochs", epochs), check_positive_int("k", k)
    batch_size = check_positive_int("batch_size", batch_size)
    lr = check_positive_number("lr", lr)
    if isinstance(momentum, bool) or not isinstance(momentum, (int, float, np.integer,
                                                               np.floating)):
        raise TypeError(f"momentum: expected a number in [0, 1), got {describe(momentum)}")
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum: expected a number in [0, 1), got {momentum!r}")
    rng = as_generator(rng)
    velocity = {name: np.zeros_like(params[name]) for name in RBM_PARAM_NAMES}
    errors = []
    for epoch in range(epochs):
        order, total = rng.permutation(len(data)), 0.0
        for start in range(0, len(data), batch_size):
            v = data[order[start:start + batch_size]]
            grads, _ = rbm_cd_gradients(v, params, k=k, rng=rng)
            for name in RBM_PARAM_NAMES:
                velocity[name] = momentum * velocity[name] - lr * grads[name]
                params[name] += velocity[name]
            recon = rbm_visible_probs(rbm_hidden_probs(v, params), params)
            total += np.sum((v - recon) ** 2)
        check_finite_loss(total + sum(np.abs(p).sum() for p in params.values()), epoch,
                          "the parameters overflowed: lower the learning rate lr")
        errors.append(total / data.size)
    return params, errors


__all__ = ["MAX_EXACT_UNITS", "RBM_PARAM_NAMES", "all_states", "boltzmann_energy",
           "boltzmann_gibbs", "boltzmann_log_partition", "boltzmann_moments",
           "boltzmann_probabilities", "check_rbm_params", "init_rbm_params", "rbm_backward",
           "rbm_cd_gradients", "rbm_forward", "rbm_gibbs_step", "rbm_hidden_probs",
           "rbm_log_likelihood", "rbm_log_partition", "rbm_visible_probs", "train_rbm"]
