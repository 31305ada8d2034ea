"""Truncated backpropagation through time: the state runs forward over the whole sequence, but
gradients flow back at most k steps (Williams & Peng, 1990).

Williams and Peng's BPTT(h; h′), written BPTT(k; k′) here (h is the state): every k′ steps, one
backward pass runs k ≥ k′ steps back and carries the loss gradients of the k′ newest steps. It
costs O(T k H² / k′) time and keeps the k most recent states, O(k H) memory. Two special cases,
both equal to full BPTT (O(T H²) time, O(T H) memory) when k ≥ T:

* :func:`truncated_bptt_gradients` with ``every=1`` — every step's loss ℓ_t sends its gradient
  back through the k most recent steps t, t−1, …, t−k+1 (the sliding BPTT(k); k times the time
  of full BPTT). Other values of ``every`` give BPTT(k; k′);
* :func:`chunked_bptt_gradients` — BPTT(k; k): the sequence is cut into chunks of k steps; the
  state is carried from chunk to chunk but the gradient stops at each chunk's start (how
  min-char-rnn and most language-model training loops do it; the time of full BPTT). The first
  loss of a chunk gets a path of one step, the last one k steps.

In every variant a dependency of ℓ_t on an input more than k steps back contributes nothing to the
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


def truncated_bptt_gradients(x, h0, params, dh, k, every=1):
    """BPTT(k; k′) of Williams & Peng (1990), k′ = ``every``: every k′ steps one backward pass
    runs k steps back from the newest step, carrying the loss gradients of the k′ newest steps.

    Parameters
    ----------
    x : (B, T, D) inputs; h0 : (B, H) or ``None``
    params : ``W_xh`` (D, H), ``W_hh`` (H, H), ``b_h`` (H,)
    dh : (B, T, H), ∂ℓ_t/∂h_t — the gradient of step t's loss with respect to h_t
    k : how far each backward pass goes (k ≥ T gives full BPTT)
    every : k′, the steps between backward passes, 1 ≤ k′ ≤ k. ``every=1`` is the sliding
        BPTT(k): each step's loss goes back exactly k steps. ``every=k`` is the chunked
        truncation (:func:`chunked_bptt_gradients`, equal when k′ divides T): the first loss of a
        chunk gets a path of one step, its last loss k steps. In between, every loss gets a
        path of at least k − k′ + 1 steps.

    The passes end after steps k′, 2k′, … and T. A pass that ends after step e (the steps
    e − k, …, e − 1, counted from 0) starts with δ = 0 and, for s = e − 1 down to max(e − k, 0)::

        δ += dh_s if s is among the steps since the previous pass,
        da_s = δ ⊙ (1 − h_s²),   ∂L/∂W_xh += x_sᵀ da_s,  ∂L/∂W_hh += h_{s-1}ᵀ da_s,
        ∂L/∂b_h += Σ_b da_s,     δ ← da_s W_hhᵀ

    Cost: about T k / k′ backward steps of O(H²) each, so O(T k H² / k′) time: k times full BPTT
    for the sliding variant, about the same as full BPTT for the chunked one, twice it for
    k′ = k / 2. Memory: the k most recent states, O(k H), on a stream of any length. Returns a
    dict like ``params``.
    """
    x, h0, params, dh, k = _prepare(x, h0, params, dh, k)
    every = check_positive_int("every", every)
    if every > k:
        raise ValueError(f"every: expected 1 <= every <= k = {k} (a pass that runs back fewer "
                         f"steps than lie between passes drops losses), got {every}")
    h, _ = rnn_forward(x, h0, params)
    B, T, H = h.shape
    W_hh = params["W_hh"]
    h_prev = np.concatenate([h0[:, None], h[:, :-1]], axis=1)
    # Collect da_s of every pass as a sum per s; the parameter gradients are linear in da_s, so
    # summing first and multiplying once gives the same result.
    da_total = np.zeros_like(h)
    ends = list(range(every, T, every)) + [T]
    for first_new, end in zip([0] + ends[:-1], ends):
        delta = np.zeros((B, H), dtype=h.dtype)
        for s in range(end - 1, max(end - k, 0) - 1, -1):
            if s >= first_new:
                delta = delta + dh[:, s]
            da = delta * (1.0 - h[:, s] ** 2)
            da_total[:, s] += da
            delta = da @ W_hh.T
    da_flat = da_total.reshape(B * T, H)
    return {
        "W_xh": x.reshape(B * T, -1).T @ da_flat,
        "W_hh": h_prev.reshape(B * T, H).T @ da_flat,
        "b_h": da_flat.sum(axis=0),
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
