"""Cheaper attention: linear attention, Performer's random features and tiled exact attention.

Softmax attention over T positions forms a T × T matrix of weights per head. Two routes avoid it.

**Linear attention** (Katharopoulos et al. 2020) replaces the similarity exp(q·k) by a product of
non-negative feature maps φ(q)·φ(k). The sums over the keys can then be taken once, before any
query is seen (row-vector convention, φ(q_t) a row of r features)::

    out_t = φ(q_t) S / (φ(q_t) · n + ε),   S = Σ_s φ(k_s)ᵀ v_s  (r, d_v),   n = Σ_s φ(k_s)  (r,)

which costs O(T r d_v) instead of O(T² d). Under a causal mask the sums run over s ≤ t, and they
become a recurrence with a constant-size state, an RNN (:func:`linear_attention_step`)::

    S_t = S_{t−1} + φ(k_t)ᵀ v_t,   n_t = n_{t−1} + φ(k_t),   out_t = φ(q_t) S_t / (φ(q_t) · n_t + ε)

The feature map is φ(x) = elu(x) + 1 (:func:`elu_feature_map`, the paper's choice) or Performer's
positive random features (Choromanski et al. 2021), :func:`positive_random_features`::

    φ(x) = exp(x Uᵀ − ‖x‖²/2) / √r,   U (r, d) with rows u_j ~ N(0, I),   E[φ(x)·φ(y)] = exp(x·y)

With ``features=U``, the inputs are first divided by d^(1/4), so that φ(q)·φ(k) estimates
exp(q·k/√d), the unnormalised weight of scaled dot-product attention: the output then
approximates softmax attention (:func:`seqlearn.numpy.attention.scaled_dot_product_attention_forward`),
more closely the more features r.

**Tiled attention** computes softmax attention *exactly*, one tile of ``tile_size`` keys at a
time, with a running maximum m, a running sum λ of exponentials and a running numerator ρ per
query (the online softmax behind FlashAttention, Dao et al. 2022; Rabe & Staats 2021). For
each tile J of keys, with scores e_ij = q_i·k_j · scale::

    m'_i = max(m_i, max_{j∈J} e_ij)
    λ'_i = exp(m_i − m'_i) λ_i + Σ_{j∈J} exp(e_ij − m'_i)
    ρ'_i = exp(m_i − m'_i) ρ_i + Σ_{j∈J} exp(e_ij − m'_i) v_j,        out_i = ρ_i / λ_i at the end

It never holds more than T_q × ``tile_size`` scores, and what it keeps for the backward pass is
the output and one number per query, the log-sum-exp lse_i = m_i + log λ_i: O(T) memory, not
O(T²). :func:`tiled_attention_backward` recomputes each tile's weights exp(e_ij − lse_i) from it.
"""

import numpy as np

from ..validate import (as_float_array, as_generator, check_positive_int, check_positive_number,
                        describe)
from .common import check_mask


# -- feature maps ---------------------------------------------------------------------------------
def elu_feature_map(x):
    """φ(x) = elu(x) + 1, elementwise: x + 1 for x > 0, exp(x) otherwise; positive everywhere
    (Katharopoulos et al. 2020). ``x`` (...) -> (...)."""
    x = as_float_array("x", x)
    return np.where(x > 0, x + 1.0, np.exp(np.minimum(x, 0.0)))


def random_feature_matrix(num_features, d, rng=None):
    """(num_features, d) matrix U with independent N(0, 1) entries: the random directions of
    :func:`positive_random_features` (drawn independently, not orthogonalised)."""
    rng = as_generator(rng)
    return rng.standard_normal((check_positive_int("num_features", num_features),
                                check_positive_int("d", d)))


def positive_random_features(x, U):
    """Performer's positive random features (Choromanski et al. 2021)::

        φ(x) = exp(x Uᵀ − ‖x‖²/2) / √r,     so that  E_U[φ(x)·φ(y)] = exp(x·y)

    ``x`` (..., d), ``U`` (r, d) (:func:`random_feature_matrix`). Returns (..., r), positive."""
    x = as_float_array("x", x)
    if x.ndim == 0:
        raise ValueError(f"x: expected shape (..., d), got {describe(x)}")
    U = as_float_array("U", U, ndim=2)
    if U.shape[1] != x.shape[-1]:
        raise ValueError(f"U: expected shape (r, {x.shape[-1]}) (d of x), got shape {U.shape}")
    U = U.astype(x.dtype, copy=False)
    return np.exp(x @ U.T - 0.5 * np.sum(x * x, axis=-1, keepdims=True)) / np.sqrt(U.shape[0])


def _features(x, U):
    """φ(x) and what its backward pass needs; with U, x is first divided by d^(1/4)."""
    if U is None:
        return elu_feature_map(x), ("elu", x, None)
    x_scaled = x / x.shape[-1] ** 0.25
    phi = positive_random_features(x_scaled, U)
    return phi, ("random", x_scaled, (phi, U.astype(x.dtype, copy=False)))


def _features_backward(dphi, info):
    kind, x, extra = info
    if kind == "elu":
        return dphi * np.where(x > 0, 1.0, np.exp(np.minimum(x, 0.0)))
    phi, U = extra
    g = dphi * phi                          # ∂φ_j/∂x = φ_j (u_j − x)
    dx = g @ U - x * g.sum(axis=-1, keepdims=True)
    return dx / x.shape[-1] ** 0.25


def _check_qkv(q, k, v):
    q = as_float_array("q", q)
    k = as_float_array("k", k)
    v = as_float_array("v", v)
    for name, arr, what in (("q", q, "(..., Tq, d)"), ("k", k, "(..., Tk, d)"),
                            ("v", v, "(..., Tk, dv)")):
        if arr.ndim < 2:
            raise ValueError(f"{name}: expected shape {what}, got shape {arr.shape}")
    if k.shape[:-2] != q.shape[:-2] or k.shape[-1] != q.shape[-1]:
        raise ValueError(f"k: expected shape {q.shape[:-2] + ('Tk', q.shape[-1])} (the leading "
                         f"dimensions and d of q {q.shape}), got shape {k.shape}")
    if v.shape[:-1] != k.shape[:-1]:
        raise ValueError(f"v: expected shape {k.shape[:-1] + ('dv',)} (the leading dimensions "
                         f"and Tk of k {k.shape}), got shape {v.shape}")
    dtype = np.result_type(q.dtype, k.dtype, v.dtype)
    return q.astype(dtype, copy=False), k.astype(dtype, copy=False), v.astype(dtype, copy=False)


def _check_eps(eps):
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.integer, np.floating)):
        raise TypeError(f"eps: expected a non-negative number, got {describe(eps)}")
    if not (np.isfinite(eps) and eps >= 0):
        raise ValueError(f"eps: expected a finite number >= 0, got {eps!r}")
    return float(eps)


def _check_causal(causal):
    if not isinstance(causal, (bool, np.bool_)):
        raise TypeError(f"causal: expected True or False, got {describe(causal)}")
    return bool(causal)


def _check_features(U, d):
    if U is None:
        return None
    U = as_float_array("features", U, ndim=2)
    if U.shape[1] != d:
        raise ValueError(f"features: expected shape (r, {d}) (d of q), got shape {U.shape}")
    return U


# -- linear attention -----------------------------------------------------------------------------
def linear_attention_forward(q, k, v, causal=False, features=None, eps=1e-6):
    """Linear attention (Katharopoulos et al. 2020)::

        out_t = φ(q_t) S_t / (φ(q_t) · n_t + ε)
        S_t = Σ_s φ(k_s)ᵀ v_s,   n_t = Σ_s φ(k_s)     over all s, or s ≤ t when ``causal``

    Parameters
    ----------
    q : (..., Tq, d); k : (..., Tk, d); v : (..., Tk, dv), the same leading dimensions
    causal : sums over s ≤ t only (needs Tq = Tk); computed in parallel with cumulative sums,
        which hold the T states S_t, (..., T, r, dv)
    features : ``None`` for φ = elu + 1, or U (r, d) for Performer's positive random features of
        q/d^(1/4) and k/d^(1/4) (:func:`positive_random_features`), an estimate of softmax
        attention with scale 1/√d
    eps : ε, added to the normaliser

    Returns ``out`` (..., Tq, dv) and the cache of :func:`linear_attention_backward` (the cache keeps references to its inputs, not copies).
    Cost: O(T r dv) time, against O(T² d) for softmax attention.
    """
    q, k, v = _check_qkv(q, k, v)
    U = _check_features(features, q.shape[-1])
    eps = _check_eps(eps)
    causal = _check_causal(causal)
    if causal and q.shape[-2] != k.shape[-2]:
        raise ValueError(f"k: causal linear attention needs as many keys as queries "
                         f"({q.shape[-2]}), got shape {k.shape}")
    phi_q, info_q = _features(q, U)
    phi_k, info_k = _features(k, U)
    if causal:
        S = np.cumsum(phi_k[..., :, :, None] * v[..., :, None, :], axis=-3)   # (..., T, r, dv)
        n = np.cumsum(phi_k, axis=-2)                                           # (..., T, r)
        numerator = np.einsum("...tr,...trv->...tv", phi_q, S)
    else:
        S = np.swapaxes(phi_k, -1, -2) @ v                                      # (..., r, dv)
        n = phi_k.sum(axis=-2)                                                  # (..., r)
        numerator = phi_q @ S
        n = n[..., None, :]
    denominator = np.sum(phi_q * n, axis=-1, keepdims=True) + eps               # (..., Tq, 1)
    out = numerator / denominator
    cache = {"phi_q": phi_q, "phi_k": phi_k, "v": v, "S": S, "n": n, "out": out,
             "denominator": denominator, "causal": causal, "info_q": info_q, "info_k": info_k}
    return out, cache


def linear_attention_backward(dout, cache):
    """Backward pass of :func:`linear_attention_forward`.

    With g = dO / (φ(q)·n + ε) (..., Tq, dv) and c = −Σ_v (dO ⊙ out) / (φ(q)·n + ε) (..., Tq, 1)::

        ∂L/∂φ(q_t) = g_t S_tᵀ + c_t n_t
        ∂L/∂S_t = φ(q_t)ᵀ g_t,   ∂L/∂n_t = c_t φ(q_t)
        ∂L/∂φ(k_s) = v_s G_sᵀ + N_s,   ∂L/∂v_s = φ(k_s) G_s

    where G_s = Σ_t ∂L/∂S_t and N_s = Σ_t ∂L/∂n_t over the queries t that read key s (all t, or
    t ≥ s when causal: reversed cumulative sums). Then through the feature map to q and k.
    Returns ``(dq, dk, dv)``.
    """
    phi_q, phi_k, v, S, n, out, den = (cache[name] for name in
                                       ("phi_q", "phi_k", "v", "S", "n", "out", "denominator"))
    dout = as_float_array("dout", dout, shape=out.shape).astype(out.dtype, copy=False)
    g = dout / den
    c = -np.sum(dout * out, axis=-1, keepdims=True) / den
    if cache["causal"]:
        dphi_q = np.einsum("...tv,...trv->...tr", g, S) + c * n
        dS = phi_q[..., :, :, None] * g[..., :, None, :]                        # (..., T, r, dv)
        G = np.flip(np.cumsum(np.flip(dS, axis=-3), axis=-3), axis=-3)
        N = np.flip(np.cumsum(np.flip(c * phi_q, axis=-2), axis=-2), axis=-2)
        dphi_k = np.einsum("...sv,...srv->...sr", v, G) + N
        dv = np.einsum("...sr,...srv->...sv", phi_k, G)
    else:
        dphi_q = g @ np.swapaxes(S, -1, -2) + c * n
        G = np.swapaxes(phi_q, -1, -2) @ g                                      # (..., r, dv)
        N = np.sum(c * phi_q, axis=-2, keepdims=True)                           # (..., 1, r)
        dphi_k = v @ np.swapaxes(G, -1, -2) + N
        dv = phi_k @ G
    dq = _features_backward(dphi_q, cache["info_q"])
    dk = _features_backward(dphi_k, cache["info_k"])
    return dq, dk, dv


def linear_attention_step(q_t, k_t, v_t, state=None, features=None, eps=1e-6):
    """One step of causal linear attention as a recurrence (an RNN with a matrix state)::

        S_t = S_{t−1} + φ(k_t)ᵀ v_t,   n_t = n_{t−1} + φ(k_t),   out_t = φ(q_t) S_t / (φ(q_t)·n_t + ε)

    ``q_t``, ``k_t`` (..., d), ``v_t`` (..., dv); ``state`` = (S (..., r, dv), n (..., r)) or
    ``None`` for zeros; ``features`` and ``eps`` as in :func:`linear_attention_forward`.
    Returns ``out_t`` (..., dv) and the new state. Run over t = 0..T−1 it gives the causal
    :func:`linear_attention_forward`, with O(r dv) memory whatever T.
    """
    q_t = as_float_array("q_t", q_t)
    k_t = as_float_array("k_t", k_t, shape=q_t.shape)
    v_t = as_float_array("v_t", v_t)
    if v_t.shape[:-1] != q_t.shape[:-1]:
        raise ValueError(f"v_t: expected shape {q_t.shape[:-1] + ('dv',)}, got shape {v_t.shape}")
    U = _check_features(features, q_t.shape[-1])
    eps = _check_eps(eps)
    phi_q, _ = _features(q_t, U)
    phi_k, _ = _features(k_t, U)
    if state is None:
        S = np.zeros(phi_k.shape + v_t.shape[-1:], dtype=phi_k.dtype)
        n = np.zeros(phi_k.shape, dtype=phi_k.dtype)
    else:
        if not isinstance(state, (tuple, list)) or len(state) != 2:
            raise TypeError(f"state: expected None or a pair (S, n), got {describe(state)}")
        S, n = state
        S = as_float_array("state[0]", S, shape=phi_k.shape + v_t.shape[-1:])
        n = as_float_array("state[1]", n, shape=phi_k.shape)
    S = S + phi_k[..., :, None] * v_t[..., None, :]
    n = n + phi_k
    out = np.einsum("...r,...rv->...v", phi_q, S) / (np.sum(phi_q * n, axis=-1, keepdims=True)
                                                     + eps)
    return out, (S, n)


# -- tiled (exact) attention ----------------------------------------------------------------------
def _check_tile(tile_size):
    return check_positive_int("tile_size", tile_size)


def tiled_attention_forward(q, k, v, mask=None, scale=None, tile_size=64):
    """Softmax attention softmax(q kᵀ · scale) v computed exactly, ``tile_size`` keys at a time,
    with the online softmax (FlashAttention's forward pass, Dao et al. 2022)::

        for each tile J of keys, with e_ij = q_i·k_j · scale (−∞ where mask is False):
            m'_i = max(m_i, max_J e_ij)
            λ'_i = exp(m_i − m'_i) λ_i + Σ_J exp(e_ij − m'_i)
            ρ'_i = exp(m_i − m'_i) ρ_i + Σ_J exp(e_ij − m'_i) v_j
        out_i = ρ_i / λ_i,    lse_i = m_i + log λ_i (the log-sum-exp of row i)

    Parameters
    ----------
    q : (..., Tq, d); k : (..., Tk, d); v : (..., Tk, dv), the same leading dimensions
    mask : optional bool broadcastable to (..., Tq, Tk), True = may attend
    scale : the factor of the scores, 1/√d by default
    tile_size : keys per tile; at most Tq × tile_size scores exist at any time

    Returns ``out`` (..., Tq, dv) and the cache of :func:`tiled_attention_backward`, which holds
    the inputs, ``out`` and the log-sum-exp ``lse`` (..., Tq): no Tq × Tk array (the cache keeps
    references to its inputs, not copies).
    """
    q, k, v = _check_qkv(q, k, v)
    d, Tq, Tk = q.shape[-1], q.shape[-2], k.shape[-2]
    if scale is None:
        scale = 1.0 / np.sqrt(d)
    else:
        scale = check_positive_number("scale", scale)
    mask = check_mask(mask, q.shape[:-1] + (Tk,))
    if mask is not None and mask.shape[-1] != Tk:      # broadcast over the keys: slice it by tile
        mask = np.broadcast_to(mask, mask.shape[:-1] + (Tk,))
    tile_size = _check_tile(tile_size)
    lead = q.shape[:-2]
    running_max = np.full(lead + (Tq, 1), -np.inf, dtype=q.dtype)
    running_sum = np.zeros(lead + (Tq, 1), dtype=q.dtype)
    numerator = np.zeros(lead + (Tq, v.shape[-1]), dtype=q.dtype)
    for start in range(0, Tk, tile_size):
        keys = slice(start, min(start + tile_size, Tk))
        scores = q @ np.swapaxes(k[..., keys, :], -1, -2) * scale             # (..., Tq, tile)
        if mask is not None:
            scores = np.where(mask[..., keys], scores, -np.inf)
        new_max = np.maximum(running_max, scores.max(axis=-1, keepdims=True))
        # A row whose keys so far are all masked has m = −∞; it contributes nothing yet.
        safe_max = np.where(np.isfinite(new_max), new_max, 0.0)
        weights = np.exp(scores - safe_max)
        rescale = np.exp(running_max - safe_max)
        running_sum = rescale * running_sum + weights.sum(axis=-1, keepdims=True)
        numerator = rescale * numerator + weights @ v[..., keys, :]
        running_max = new_max
    out = numerator / running_sum
    lse = (running_max + np.log(running_sum))[..., 0]
    cache = {"q": q, "k": k, "v": v, "mask": mask, "out": out, "lse": lse,
             "scale": float(scale), "tile_size": tile_size}
    return out, cache


def tiled_attention_backward(dout, cache):
    """Backward pass of :func:`tiled_attention_forward`, tile by tile (FlashAttention's backward
    pass): with D_i = dO_i · out_i and, for each tile J, the weights recomputed from the
    log-sum-exp, a_ij = exp(e_ij − lse_i)::

        ∂L/∂v_j = Σ_i a_ij dO_i,   ∂e_ij = a_ij (dO_i · v_j − D_i)
        ∂L/∂q_i += scale Σ_{j∈J} ∂e_ij k_j,   ∂L/∂k_j = scale Σ_i ∂e_ij q_i

    Returns ``(dq, dk, dv)``; no Tq × Tk array is formed.
    """
    q, k, v, mask, out, lse, scale, tile = (cache[name] for name in
                                            ("q", "k", "v", "mask", "out", "lse", "scale",
                                             "tile_size"))
    dout = as_float_array("dout", dout, shape=out.shape).astype(out.dtype, copy=False)
    D = np.sum(dout * out, axis=-1, keepdims=True)                             # (..., Tq, 1)
    dq, dk, dv = np.zeros_like(q), np.zeros_like(k), np.zeros_like(v)
    for start in range(0, k.shape[-2], tile):
        keys = slice(start, min(start + tile, k.shape[-2]))
        scores = q @ np.swapaxes(k[..., keys, :], -1, -2) * scale
        if mask is not None:
            scores = np.where(mask[..., keys], scores, -np.inf)
        weights = np.exp(scores - lse[..., None])                               # (..., Tq, tile)
        dv[..., keys, :] = np.swapaxes(weights, -1, -2) @ dout
        dscores = weights * (dout @ np.swapaxes(v[..., keys, :], -1, -2) - D)
        dq += dscores @ k[..., keys, :] * scale
        dk[..., keys, :] = np.swapaxes(dscores, -1, -2) @ q * scale
    return dq, dk, dv


__all__ = ["elu_feature_map", "linear_attention_backward", "linear_attention_forward",
           "linear_attention_step", "positive_random_features", "random_feature_matrix",
           "tiled_attention_backward", "tiled_attention_forward"]
