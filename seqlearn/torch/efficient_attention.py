"""Cheaper attention in torch, mirroring ``seqlearn.numpy.efficient_attention``.

* :func:`linear_attention` — out_t = φ(q_t) S_t / (φ(q_t)·n_t + ε), S_t = Σ_s φ(k_s)ᵀ v_s,
  n_t = Σ_s φ(k_s) over all s or s ≤ t (Katharopoulos et al., 2020); autograd gives its backward;
* :func:`linear_attention_step` — the same, causal, one step at a time: an RNN whose state
  (S, n) has a constant size;
* :func:`elu_feature_map` (φ = elu + 1) and :func:`positive_random_features`
  (φ(x) = exp(x Uᵀ − ‖x‖²/2)/√r, Performer, Choromanski et al., 2021);
* :func:`tiled_attention` — softmax attention computed exactly, ``tile_size`` keys at a time with
  the online softmax, as FlashAttention does (Dao et al., 2022). Its backward pass recomputes
  each tile's weights from the log-sum-exp of each row, so autograd keeps only the inputs, the
  output and one number per query: O(T) memory where ``scaled_dot_product_attention`` written
  out keeps the T × T weights. Written in Python over the tiles, it shows the memory, not the
  speed, of FlashAttention, whose tiles live in a GPU's on-chip memory.

Equations and shapes are those of the NumPy module.
"""

import math

import torch
import torch.nn.functional as F

from ..validate import check_device, check_positive_int, check_tensor, describe
from .common import as_torch_generator, check_mask


# -- feature maps ---------------------------------------------------------------------------------
def elu_feature_map(x):
    """φ(x) = elu(x) + 1, elementwise (positive). ``x`` (...) -> (...)."""
    check_tensor("x", x)
    return F.elu(x) + 1.0


def random_feature_matrix(num_features, d, generator=None, dtype=None, device=None):
    """(num_features, d) tensor U with independent N(0, 1) entries (the random directions of
    :func:`positive_random_features`); ``generator`` an optional ``torch.Generator``."""
    device = check_device("device", device)
    shape = (check_positive_int("num_features", num_features), check_positive_int("d", d))
    return torch.randn(shape, generator=as_torch_generator(generator, device=device), dtype=dtype,
                       device=device)


def positive_random_features(x, U):
    """φ(x) = exp(x Uᵀ − ‖x‖²/2) / √r, so that E_U[φ(x)·φ(y)] = exp(x·y) (Choromanski et al.,
    2021). ``x`` (..., d), ``U`` (r, d). Returns (..., r)."""
    check_tensor("x", x)
    check_tensor("U", U, ndim=2, last_dim=x.shape[-1])
    if U.dtype != x.dtype or U.device != x.device:
        raise TypeError(f"U: expected dtype {x.dtype} on {x.device} like x, got {describe(U)} "
                        f"on {U.device}")
    return torch.exp(x @ U.T - 0.5 * (x * x).sum(-1, keepdim=True)) / math.sqrt(U.shape[0])


def _features(x, U):
    if U is None:
        return elu_feature_map(x)
    return positive_random_features(x / x.shape[-1] ** 0.25, U)


def _check_qkv(q, k, v):
    for name, t in (("q", q), ("k", k), ("v", v)):
        check_tensor(name, t)
        if t.dim() < 2:
            raise ValueError(f"{name}: expected at least 2 dimensions (..., T, d), got "
                             f"{describe(t)}")
    for name, t in (("k", k), ("v", v)):
        if t.dim() != q.dim() or t.shape[:-2] != q.shape[:-2]:
            raise ValueError(f"{name}: expected leading dimensions {tuple(q.shape[:-2])} like q, "
                             f"got {describe(t)}")
        if t.dtype != q.dtype or t.device != q.device:
            raise TypeError(f"{name}: expected dtype {q.dtype} on {q.device} like q, got "
                            f"{describe(t)} on {t.device}")
    if k.shape[-1] != q.shape[-1]:
        raise ValueError(f"k: expected the last dimension {q.shape[-1]} (that of q), got "
                         f"{describe(k)}")
    if v.shape[-2] != k.shape[-2]:
        raise ValueError(f"v: expected {k.shape[-2]} keys like k, got {describe(v)}")


def _check_eps(eps):
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not eps >= 0:
        raise ValueError(f"eps: expected a non-negative number, got {eps!r}")
    return float(eps)


def _check_features(U, x):
    if U is not None:
        check_tensor("features", U, ndim=2, last_dim=x.shape[-1])
        if U.dtype != x.dtype or U.device != x.device:
            raise TypeError(f"features: expected dtype {x.dtype} on {x.device} like q, got "
                            f"{describe(U)} on {U.device}")
    return U


# -- linear attention -----------------------------------------------------------------------------
def linear_attention(q, k, v, causal=False, features=None, eps=1e-6):
    """Linear attention: out_t = φ(q_t) S_t / (φ(q_t)·n_t + ε) with S_t = Σ_s φ(k_s)ᵀ v_s and
    n_t = Σ_s φ(k_s) over all s, or over s ≤ t when ``causal`` (cumulative sums, which hold
    the T states (..., T, r, dv); needs Tq = Tk).

    ``q`` (..., Tq, d), ``k`` (..., Tk, d), ``v`` (..., Tk, dv); ``features``: ``None`` for
    φ = elu + 1, or U (r, d) for Performer's random features of q/d^(1/4) and k/d^(1/4) (an
    estimate of softmax attention with scale 1/√d). Returns ``out`` (..., Tq, dv).
    """
    _check_qkv(q, k, v)
    U = _check_features(features, q)
    eps = _check_eps(eps)
    if causal and q.shape[-2] != k.shape[-2]:
        raise ValueError(f"k: causal linear attention needs as many keys as queries "
                         f"({q.shape[-2]}), got {describe(k)}")
    phi_q, phi_k = _features(q, U), _features(k, U)
    if causal:
        S = torch.cumsum(phi_k.unsqueeze(-1) * v.unsqueeze(-2), dim=-3)     # (..., T, r, dv)
        n = torch.cumsum(phi_k, dim=-2)
        numerator = (phi_q.unsqueeze(-2) @ S).squeeze(-2)
    else:
        S = phi_k.transpose(-1, -2) @ v                                      # (..., r, dv)
        n = phi_k.sum(-2, keepdim=True)
        numerator = phi_q @ S
    return numerator / ((phi_q * n).sum(-1, keepdim=True) + eps)


def linear_attention_step(q_t, k_t, v_t, state=None, features=None, eps=1e-6):
    """One step of causal linear attention: S_t = S_{t−1} + φ(k_t)ᵀ v_t, n_t = n_{t−1} + φ(k_t),
    out_t = φ(q_t) S_t / (φ(q_t)·n_t + ε). ``q_t``, ``k_t`` (..., d), ``v_t`` (..., dv),
    ``state`` = (S (..., r, dv), n (..., r)) or ``None`` for zeros. Returns ``out_t`` and the
    new state."""
    check_tensor("q_t", q_t)
    check_tensor("k_t", k_t)
    check_tensor("v_t", v_t)
    if k_t.shape != q_t.shape:
        raise ValueError(f"k_t: expected shape {tuple(q_t.shape)} like q_t, got {describe(k_t)}")
    if v_t.shape[:-1] != q_t.shape[:-1]:
        raise ValueError(f"v_t: expected shape {tuple(q_t.shape[:-1])} + (dv,), got "
                         f"{describe(v_t)}")
    U = _check_features(features, q_t)
    eps = _check_eps(eps)
    phi_q, phi_k = _features(q_t, U), _features(k_t, U)
    if state is None:
        S = phi_k.new_zeros(phi_k.shape + v_t.shape[-1:])
        n = phi_k.new_zeros(phi_k.shape)
    else:
        try:
            S, n = state
        except (TypeError, ValueError):
            raise TypeError(f"state: expected None or a pair (S, n), got {describe(state)}") \
                from None
        if not isinstance(S, torch.Tensor) or not isinstance(n, torch.Tensor):
            raise TypeError(f"state: expected a pair of tensors (S, n), got {describe(state)}")
        check_tensor("state[0] (S)", S)
        check_tensor("state[1] (n)", n)
        if tuple(S.shape) != tuple(phi_k.shape + v_t.shape[-1:]) or n.shape != phi_k.shape:
            raise ValueError(f"state: expected S {tuple(phi_k.shape + v_t.shape[-1:])} and n "
                             f"{tuple(phi_k.shape)}, got {describe(S)} and {describe(n)}")
    S = S + phi_k.unsqueeze(-1) * v_t.unsqueeze(-2)
    n = n + phi_k
    out = (phi_q.unsqueeze(-2) @ S).squeeze(-2) / ((phi_q * n).sum(-1, keepdim=True) + eps)
    return out, (S, n)


# -- tiled (exact) attention ----------------------------------------------------------------------
def _tiles(Tk, tile_size):
    return [slice(start, min(start + tile_size, Tk)) for start in range(0, Tk, tile_size)]


def _tile_scores(q, k, keys, scale, mask):
    scores = (q @ k[..., keys, :].transpose(-1, -2)) * scale
    if mask is not None:
        scores = scores.masked_fill(~mask[..., keys], float("-inf"))
    return scores


class _TiledAttention(torch.autograd.Function):
    """FlashAttention's two passes over the key tiles; saves q, k, v, out and the row-wise
    log-sum-exp only."""

    @staticmethod
    def forward(ctx, q, k, v, mask, scale, tile_size):
        lead, Tq = q.shape[:-2], q.shape[-2]
        running_max = q.new_full(lead + (Tq, 1), float("-inf"))
        running_sum = q.new_zeros(lead + (Tq, 1))
        numerator = q.new_zeros(lead + (Tq, v.shape[-1]))
        for keys in _tiles(k.shape[-2], tile_size):
            scores = _tile_scores(q, k, keys, scale, mask)
            new_max = torch.maximum(running_max, scores.amax(-1, keepdim=True))
            safe_max = torch.where(torch.isfinite(new_max), new_max, torch.zeros_like(new_max))
            weights = torch.exp(scores - safe_max)
            rescale = torch.exp(running_max - safe_max)
            running_sum = rescale * running_sum + weights.sum(-1, keepdim=True)
            numerator = rescale * numerator + weights @ v[..., keys, :]
            running_max = new_max
        out = numerator / running_sum
        lse = running_max + torch.log(running_sum)                         # (..., Tq, 1)
        ctx.save_for_backward(q, k, v, out, lse)
        ctx.mask, ctx.scale, ctx.tile_size = mask, scale, tile_size
        return out

    @staticmethod
    def backward(ctx, dout):
        q, k, v, out, lse = ctx.saved_tensors
        D = (dout * out).sum(-1, keepdim=True)
        dq, dk, dv = torch.zeros_like(q), torch.zeros_like(k), torch.zeros_like(v)
        for keys in _tiles(k.shape[-2], ctx.tile_size):
            weights = torch.exp(_tile_scores(q, k, keys, ctx.scale, ctx.mask) - lse)
            dv[..., keys, :] = weights.transpose(-1, -2) @ dout
            dscores = weights * (dout @ v[..., keys, :].transpose(-1, -2) - D)
            dq += (dscores @ k[..., keys, :]) * ctx.scale
            dk[..., keys, :] = (dscores.transpose(-1, -2) @ q) * ctx.scale
        return dq, dk, dv, None, None, None


def tiled_attention(q, k, v, mask=None, scale=None, tile_size=64):
    """softmax(q kᵀ · scale) v, exactly, computed ``tile_size`` keys at a time with the online
    softmax (see ``seqlearn.numpy.efficient_attention.tiled_attention_forward`` for the
    equations); the backward pass recomputes the tiles' weights from the log-sum-exp.

    ``q`` (..., Tq, d), ``k`` (..., Tk, d), ``v`` (..., Tk, dv); ``mask`` optional bool
    broadcastable to (..., Tq, Tk), True = may attend; ``scale`` 1/√d by default. Returns
    ``out`` (..., Tq, dv). Autograd keeps q, k, v, ``out`` and one number per query.
    """
    _check_qkv(q, k, v)
    Tk = k.shape[-2]
    mask = check_mask(mask, tuple(q.shape[:-1]) + (Tk,), device=q.device)
    if mask is not None and mask.shape[-1] != Tk:
        mask = mask.expand(*mask.shape[:-1], Tk)
    if scale is None:
        scale = 1.0 / math.sqrt(q.shape[-1])
    elif isinstance(scale, bool) or not isinstance(scale, (int, float)) or not \
            math.isfinite(scale) or scale <= 0:
        raise ValueError(f"scale: expected a positive number (default 1/sqrt(d)), got {scale!r}")
    tile_size = check_positive_int("tile_size", tile_size)
    return _TiledAttention.apply(q, k, v, mask, float(scale), tile_size)


__all__ = ["elu_feature_map", "linear_attention", "linear_attention_step",
           "positive_random_features", "random_feature_matrix", "tiled_attention"]
