"""Truncated backpropagation through time: the state runs forward over the whole sequence, but
gradients flow back at most k steps (Williams & Peng, 1990).

Two ways to truncate, both equal to full BPTT when k ≥ T:

* :func:`truncated_bptt_gradients` — every step's loss ℓ_t sends its gradient back through the
  k most recent steps t, t−1, …, t−k+1 (the sliding window of BPTT(k));
* :func:`chunked_bptt_gradients` — the sequence is cut into chunks of k steps; the state is
  carried from chunk to chunk but the gradient stops at each chunk's start (how min-char-rnn and
  most language-model training loops do it).

Either way a dependency of ℓ_t on an input more than k steps back contributes nothing to the
gradient: what the model could learn about it is invisible to the training signal.
"""

import numpy as np

from ..validate import as_float_array, check_positive_int
from .common import initial_state
from .rnn import check_rnn_params, rnn_backward, rnn_forward


def _prepare(x, h0, params, dh, k):
    params = check_rnn_params(params)
    D, H = params["W_xh"].shape
    x = as_float_array("x", x, shape=(None, None, D))
    B, T, _ = x.shape
    h0 = initial_state("h0", h0, B, H, x.dtype)
    dh = as_float_array("dh", dh, shape=(B, T, H))
    k = check_positive_int("k", k)
    return x, h0, params, dh, k


def truncated_bptt_gradients(x, h0, params, dh, k):
    """BPTT(k): each step's loss gradient is propagated back through at most k steps.

    Parameters
    ----------
    x : (B, T, D) inputs; h0 : (B, H) or ``None``
    params : ``W_xh`` (D, H), ``W_hh`` (H, H), ``b_h`` (H,)
    dh : (B, T, H), ∂ℓ_t/∂h_t — the gradient of step t's loss with respect to h_t
    k : truncation length (k ≥ T gives full BPTT)

    For every t, with δ = dh_t, for s = t, t−1, …, max(t−k+1, 1)::

        da_s = δ ⊙ (1 − h_s²),   ∂L/∂W_xh += x_sᵀ da_s,  ∂L/∂W_hh += h_{s-1}ᵀ da_s,
        ∂L/∂b_h += Σ_b da_s,     δ ← da_s W_hhᵀ

    Cost O(T k N²) instead of O(T N²). Returns a dict like ``params``.
    """
    x, h0, params, dh, k = _prepare(x, h0, params, dh, k)
    h, _ = rnn_forward(x, h0, params)
    B, T, H = h.shape
    W_hh = params["W_hh"]
    h_prev = np.concatenate([h0[:, None], h[:, :-1]], axis=1)
    # Collect da_s for every (t, s) pair as a sum over t per s; the parameter gradients are linear
    # in da_s, so summing first and multiplying once gives the same result.
    da_total = np.zeros_like(h)
    for t in range(T):
        delta = dh[:, t]
        for s in range(t, max(t - k, -1), -1):
            da = delta * (1.0 - h[:, s] ** 2)
            da_total[:, s] += da
            delta = da @ W_hh.T
    return {
        "W_xh": np.einsum("btd,bth->dh", x, da_total),
        "W_hh": np.einsum("bti,btj->ij", h_prev, da_total),
        "b_h": da_total.sum(axis=(0, 1)),
    }


def chunked_bptt_gradients(x, h0, params, dh, k):
    """Cut the sequence into chunks of k steps; carry the state forward across chunks, but
    backpropagate only within each chunk (the gradient into a chunk's initial state is dropped).

    Same arguments as :func:`truncated_bptt_gradients`; returns a dict like ``params``: the sum
    over the chunks of the BPTT gradient of each chunk, run from its carried initial state.
    """
    x, h0, params, dh, k = _prepare(x, h0, params, dh, k)
    B, T, _ = x.shape
    grads = {name: np.zeros_like(p) for name, p in params.items()}
    h_carry = h0
    for start in range(0, T, k):
        chunk = slice(start, min(start + k, T))
        h, cache = rnn_forward(x[:, chunk], h_carry, params)
        chunk_grads, _, _ = rnn_backward(dh[:, chunk], cache)
        for name in grads:
            grads[name] += chunk_grads[name]
        h_carry = h[:, -1]  # carried forward as a constant: no gradient flows into it
    return grads


__all__ = ["chunked_bptt_gradients", "truncated_bptt_gradients"]
