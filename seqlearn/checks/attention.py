"""Checks for the exercises of chapter 7, *Sequence-to-sequence and attention*: attention pooling
over a bag of instances, and additive (Bahdanau) attention of queries over keys and values.

The references are the package's own ``seqlearn.numpy.attention`` functions. When an answer is
wrong, the check compares it with what typical mistakes give (the softmax taken over the wrong
axis, a missing tanh, scores used as weights without a softmax, the two projections swapped,
...) and names the mistake it recognises.
"""

import numpy as np

from ..numpy.attention import additive_attention_forward as _additive_attention_forward
from ..numpy.attention import attention_pooling_forward as _attention_pooling_forward
from ..numpy.softmax import softmax
from .core import diagnose_mistake, fresh_rng, register, run_check


# -- 07-attention-pooling ---------------------------------------------------------------------

def reference_attention_pooling(X, V, w):
    """Attention pooling of a bag: X (B, N, D), V (D, A), w (A,) -> (h (B, D), a (B, N)),
    with a = softmax_i(tanh(x_i V) w) and h = Σ_i a_i x_i."""
    h, weights, _ = _attention_pooling_forward(X, {"V": V, "w": w})
    return h, weights


def _attention_pooling_variant(X, V, w, squash=True, normalise="softmax", axis=1,
                               return_scores=False, sum_axis=1):
    scores = (np.tanh(X @ V) if squash else X @ V) @ w  # (B, N)
    if normalise == "softmax":
        weights = softmax(scores, axis=axis)
    elif normalise == "sigmoid":
        weights = 1.0 / (1.0 + np.exp(-scores))
    elif normalise == "uniform":
        weights = np.full_like(scores, 1.0 / scores.shape[1])
    else:  # no normalisation at all
        weights = scores
    weighted = weights[..., None] * X  # (B, N, D)
    h = weighted.sum(axis=sum_axis)
    return h, (scores if return_scores else weights)


def _pooling_cases(rng):
    cases = []
    for B, N, D, A in [(1, 1, 3, 2), (1, 5, 4, 3), (3, 6, 4, 5), (5, 7, 2, 6), (2, 3, 6, 4)]:
        cases.append({
            "X": rng.normal(size=(B, N, D)),
            "V": rng.normal(scale=0.8, size=(D, A)),
            "w": rng.normal(scale=1.0, size=A),
        })
    return cases


@register("07-attention-pooling")
def check_attention_pooling(attention_pooling):
    """Check ``attention_pooling(X, V, w) -> (h, a)``."""
    cases = _pooling_cases(fresh_rng())
    mistakes = [
        (lambda **k: _attention_pooling_variant(**k, axis=0),
         "the softmax runs over the batch axis; the weights of one bag must sum to 1 over its N "
         "instances: softmax over axis 1 (or axis=-1) of the (B, N) scores"),
        (lambda **k: _attention_pooling_variant(**k, squash=False),
         "the tanh is missing: the score of instance i is e_i = tanh(x_i V) · w"),
        (lambda **k: _attention_pooling_variant(**k, normalise=None),
         "the scores are used as weights without a softmax: a = softmax(e) makes them positive "
         "and sum to 1 over the instances"),
        (lambda **k: _attention_pooling_variant(**k, return_scores=True),
         "h is right, but the second output is the raw scores e; return the normalised weights "
         "a = softmax(e)"),
        (lambda **k: _attention_pooling_variant(**k, normalise="sigmoid"),
         "the weights come from a sigmoid; attention normalises them with a softmax over the "
         "instances, so that they sum to 1"),
        (lambda **k: _attention_pooling_variant(**k, normalise="uniform"),
         "every instance gets the weight 1/N: that is mean pooling; the weights must come from "
         "the scores e = tanh(X V) w"),
        (lambda **k: _attention_pooling_variant(**k, sum_axis=2),
         "h is summed over the feature axis; the weighted sum runs over the instances: "
         "h = Σ_i a_i x_i, of shape (B, D)"),
    ]
    hint = diagnose_mistake(attention_pooling, cases[2], mistakes,
                     "e = np.tanh(X @ V) @ w has shape (B, N); a = softmax of e over axis 1; "
                     "h = (a[..., None] * X).sum(axis=1)")
    return run_check("07-attention-pooling", "Attention pooling", attention_pooling,
                     reference_attention_pooling, cases, ["h", "a"], hint=hint)


# -- 07-additive-attention --------------------------------------------------------------------

def reference_additive_attention(query, keys, values, W_q, W_k, v):
    """Additive attention: query (B, Tq, Dq), keys (B, N, Dk), values (B, N, Dv),
    W_q (Dq, A), W_k (Dk, A), v (A,) -> (context (B, Tq, Dv), weights (B, Tq, N)), with
    e_tj = v · tanh(q_t W_q + k_j W_k), a_t = softmax_j(e_tj), c_t = Σ_j a_tj v_j."""
    context, weights, _ = _additive_attention_forward(
        query, keys, values, {"W_q": W_q, "W_k": W_k, "v": v})
    return context, weights


def _additive_attention_variant(query, keys, values, W_q, W_k, v, squash=True, axis=2,
                                normalise=True, swap_projections=False, keys_as_values=False):
    if swap_projections:
        W_q, W_k = W_k, W_q
    hidden = (query @ W_q)[:, :, None, :] + (keys @ W_k)[:, None, :, :]  # (B, Tq, N, A)
    scores = (np.tanh(hidden) if squash else hidden) @ v  # (B, Tq, N)
    weights = softmax(scores, axis=axis) if normalise else scores
    context = weights @ (keys if keys_as_values else values)
    return context, weights


def _additive_cases(rng):
    cases = []
    # (B, Tq, N, Dq, Dk, Dv, A); the third case (used to name mistakes) has Dq = Dk = Dv.
    for B, Tq, N, Dq, Dk, Dv, A in [(1, 1, 1, 3, 2, 4, 5), (1, 4, 6, 5, 3, 2, 4),
                                    (3, 5, 7, 4, 4, 4, 6), (4, 2, 3, 2, 6, 3, 3),
                                    (2, 6, 5, 3, 5, 7, 8)]:
        cases.append({
            "query": rng.normal(size=(B, Tq, Dq)),
            "keys": rng.normal(size=(B, N, Dk)),
            "values": rng.normal(size=(B, N, Dv)),
            "W_q": rng.normal(scale=0.7, size=(Dq, A)),
            "W_k": rng.normal(scale=0.7, size=(Dk, A)),
            "v": rng.normal(size=A),
        })
    return cases


@register("07-additive-attention")
def check_additive_attention(additive_attention):
    """Check ``additive_attention(query, keys, values, W_q, W_k, v) -> (context, weights)``."""
    cases = _additive_cases(fresh_rng())
    mistakes = [
        (lambda **k: _additive_attention_variant(**k, axis=1),
         "the softmax runs over the queries; each query's weights must sum to 1 over the N keys: "
         "softmax over the last axis of the (B, Tq, N) scores"),
        (lambda **k: _additive_attention_variant(**k, squash=False),
         "the tanh is missing: e_tj = v · tanh(q_t W_q + k_j W_k)"),
        (lambda **k: _additive_attention_variant(**k, normalise=False),
         "the scores are used as weights without a softmax: a_t = softmax_j(e_tj)"),
        (lambda **k: _additive_attention_variant(**k, swap_projections=True),
         "W_q and W_k are swapped: the query is projected by W_q (Dq, A), the keys by W_k (Dk, A)"),
        (lambda **k: _additive_attention_variant(**k, keys_as_values=True),
         "the context averages the keys; the weights decide how to mix the values: "
         "c_t = Σ_j a_tj v_j"),
    ]
    hint = diagnose_mistake(additive_attention, cases[2], mistakes,
                     "project: q = query @ W_q (B, Tq, A), k = keys @ W_k (B, N, A); add every pair "
                     "with broadcasting, q[:, :, None, :] + k[:, None, :, :] (B, Tq, N, A); "
                     "e = np.tanh(that) @ v (B, Tq, N); weights = softmax over the last axis; "
                     "context = weights @ values")
    return run_check("07-additive-attention", "Additive attention", additive_attention,
                     reference_additive_attention, cases, ["context", "weights"], hint=hint)


__all__ = ["check_attention_pooling", "check_additive_attention",
           "reference_attention_pooling", "reference_additive_attention"]
