"""Checks for the exercises of chapter 7, *Sequence-to-sequence and attention*.

=============================== ============ ===================================================
exercise                        kind         what the check does
=============================== ============ ===================================================
07-attention-pooling            implement    attention pooling (7.2)–(7.3) of bags against the
                                             reference, on fresh random bags
07-additive-attention           implement    masked additive attention (7.4)–(7.6) against the
                                             reference, with and without padding masks
07-additive-attention-backward  implement    the hand-written backward pass of additive attention
                                             (all six gradients) against the reference, masks
                                             included; autograd is refused
07-attention-masks              concept      the padding mask of a batch of sources, the shapes
                                             of weights and contexts, a dominant score, one key
07-attention-budget             experiment   a seq2seq model for reversal within a parameter
                                             budget, trained with the package and scored on long
                                             strings, for two seeds
=============================== ============ ===================================================

The references are the package's own ``seqlearn.numpy.attention`` functions. When an answer is
wrong, the check compares it with what typical mistakes give (the softmax over the wrong axis, a
missing tanh, an inverted mask, a softmax Jacobian without its second term, the derivative of
tanh taken of the wrong thing, ...) and names the mistake it recognises, output by output (``core.diagnose_outputs``), so that an
answer with two mistakes, each in its own outputs, gets both named.
"""

import copy

import numpy as np

from ..numpy.attention import additive_attention_backward as _additive_attention_backward
from ..numpy.attention import additive_attention_forward as _additive_attention_forward
from ..numpy.attention import attention_pooling_forward as _attention_pooling_forward
from .core import (as_tuple, check_concept, check_experiment, diagnose_outputs, fresh_rng, plain,
                   reference_allowed, register, run_check, screen, to_numpy)


# -- shared helpers ---------------------------------------------------------------------------

def _padding_mask(lengths, Tk):
    """(B, Tk) bool, True for the real keys j < lengths[b] (True = may attend)."""
    return np.arange(Tk)[None, :] < np.asarray(lengths)[:, None]


def _softmax(scores, axis=-1):
    """Softmax along ``axis``; scores of -inf get the weight 0 (a row of -inf only gives NaN)."""
    with np.errstate(invalid="ignore"):
        shifted = scores - scores.max(axis=axis, keepdims=True)
        e = np.exp(shifted)
        return e / e.sum(axis=axis, keepdims=True)


def _overflow_hint(student_fn, case, hint):
    """``hint``, preceded by a remark on overflow when the answer to ``case`` (a case with large
    scores) is not finite."""
    try:
        got = as_tuple(student_fn(**copy.deepcopy(case)))
        finite = all(np.all(np.isfinite(to_numpy(g))) for g in got if not isinstance(g, dict))
    except Exception:  # noqa: BLE001 - reported by run_check
        return hint
    if finite:
        return hint
    return ("with scores of several hundred, exp overflows to inf and the softmax gives NaN: the "
            "softmax does not change when you subtract each row's largest score first. " + hint)


# -- 07-attention-pooling ---------------------------------------------------------------------

def reference_attention_pooling(X, W_a, w_a):
    """Attention pooling of a bag, equations (7.2)–(7.3): X (B, n, D), W_a (D, A), w_a (A,) ->
    (pooled (B, D), weights (B, n))."""
    pooled, weights, _ = _attention_pooling_forward(X, {"W_a": W_a, "w_a": w_a})
    return pooled, weights


def _attention_pooling_variant(X, W_a, w_a, squash=True, normalise="softmax", axis=1,
                               return_scores=False, sum_axis=1):
    scores = (np.tanh(X @ W_a) if squash else X @ W_a) @ w_a  # (B, n)
    if normalise == "softmax":
        weights = _softmax(scores, axis=axis)
    elif normalise == "sigmoid":
        weights = 1.0 / (1.0 + np.exp(-scores))
    elif normalise == "uniform":
        weights = np.full_like(scores, 1.0 / scores.shape[1])
    else:  # no normalisation at all
        weights = scores
    weighted = weights[..., None] * X  # (B, n, D)
    h = weighted.sum(axis=sum_axis)
    return h, (scores if return_scores else weights)


def _pooling_cases(rng):
    """Six cases: one bag of one instance, one bag, batches, and large scores (last)."""
    cases = []
    for B, n, D, A in [(1, 1, 3, 2), (1, 5, 4, 3), (3, 6, 4, 5), (5, 7, 2, 6), (2, 3, 6, 4),
                       (3, 5, 3, 4)]:
        cases.append({
            "X": rng.normal(size=(B, n, D)),
            "W_a": rng.normal(scale=0.8, size=(D, A)),
            "w_a": rng.normal(scale=1.0, size=A),
        })
    last = cases[-1]                           # the largest score 2000: exp overflows
    last["w_a"] = _largest_score_to(2000.0, np.tanh(last["X"] @ last["W_a"]), last["w_a"])
    return cases


def _largest_score_to(target, hidden, w, valid=None):
    """``w`` rescaled (and its sign flipped if need be) so that the largest score hidden @ w
    (among the ``valid`` ones, a mask broadcastable to the scores) is ``target``."""
    scores = hidden @ w
    if valid is not None:
        scores = scores[np.broadcast_to(valid, scores.shape)]
    if scores.max() <= 0:
        w, scores = -w, -scores
    return w * (target / scores.max())


@register("07-attention-pooling", kind="implement", points=12,
          summary="the pooled vectors and the weights of attention pooling (7.2)-(7.3) against "
                  "the reference on "
                  "6 fresh random cases: a bag of one, B = 1, batches, scores in the thousands")
def check_attention_pooling(attention_pooling):
    """Check ``attention_pooling(X, W_a, w_a) -> (pooled, weights)``."""
    cases = _pooling_cases(fresh_rng())
    mistakes = [
        (lambda **k: _attention_pooling_variant(**k, axis=0),
         "the softmax runs over the batch axis; the weights of one bag must sum to 1 over its n "
         "instances (equation (7.2))"),
        (lambda **k: _attention_pooling_variant(**k, squash=False),
         "the tanh of the score's hidden layer is missing (equation (7.3))"),
        (lambda **k: _attention_pooling_variant(**k, normalise=None),
         "the scores are used as weights without a softmax: the weights α of equation (7.2) are "
         "positive and sum to 1 over the instances"),
        (lambda **k: _attention_pooling_variant(**k, return_scores=True),
         "the pooled vectors are right, but the second output is the raw scores e; return the "
         "normalised weights α"),
        (lambda **k: _attention_pooling_variant(**k, normalise="sigmoid"),
         "the weights come from a sigmoid; attention normalises them with a softmax over the "
         "instances, so that they sum to 1"),
        (lambda **k: _attention_pooling_variant(**k, normalise="uniform"),
         "every instance gets the weight 1/n: that is mean pooling; the weights must come from "
         "the scores of equation (7.3)"),
        (lambda **k: _attention_pooling_variant(**k, sum_axis=2),
         "the pooled vector is summed over the feature axis; the weighted sum of equation (7.2) "
         "runs over the "
         "instances and keeps the D features"),
    ]
    hint = diagnose_outputs(attention_pooling, cases[2:3], reference_attention_pooling, mistakes,
                            ["pooled", "weights"],
                            "compare your scores, weights and h with equations (7.2)-(7.3) one at "
                            "a time, and check their shapes: (B, n), (B, n), (B, D)")
    hint = _overflow_hint(attention_pooling, cases[-1], hint)
    return run_check("07-attention-pooling", "Attention pooling", attention_pooling,
                     reference_attention_pooling, cases, ["pooled", "weights"], hint=hint)


# -- 07-additive-attention --------------------------------------------------------------------

def reference_additive_attention(query, keys, values, W_q, W_k, w_a, mask=None):
    """Masked additive attention, equations (7.4)–(7.6): query (B, Tq, Dq), keys (B, Tk, Dk),
    values (B, Tk, Dv), W_q (Dq, A), W_k (Dk, A), w_a (A,), mask (B, Tk) bool or None ->
    (context (B, Tq, Dv), weights (B, Tq, Tk))."""
    context, weights, _ = _additive_attention_forward(
        query, keys, values, {"W_q": W_q, "W_k": W_k, "w_a": w_a}, mask=mask)
    return context, weights


def _additive_attention_variant(query, keys, values, W_q, W_k, w_a, mask=None, squash=True,
                                axis=2, normalise=True, swap_projections=False,
                                keys_as_values=False, masking="scores"):
    if swap_projections:
        W_q, W_k = W_k, W_q
    hidden = (query @ W_q)[:, :, None, :] + (keys @ W_k)[:, None, :, :]  # (B, Tq, Tk, A)
    scores = (np.tanh(hidden) if squash else hidden) @ w_a  # (B, Tq, Tk)
    m = None if mask is None else mask[:, None, :]
    if m is not None and masking == "scores":
        scores = np.where(m, scores, -np.inf)
    elif m is not None and masking == "inverted":
        scores = np.where(m, -np.inf, scores)
    elif m is not None and masking == "zero-scores":
        scores = scores * m
    weights = _softmax(scores, axis=axis) if normalise else scores
    if m is not None and masking == "after":
        weights = weights * m
    context = weights @ (keys if keys_as_values else values)
    return context, weights


def _additive_cases(rng):
    """Seven cases: a single key, one query, different sizes, equal sizes with a padding mask and
    without (the cases the mistakes are diagnosed on), masks with a length-1 source, large
    scores."""
    cases = []
    # (B, Tq, Tk, Dq, Dk, Dv, A, lengths or None, large scores); the third and the fifth have
    # Dq = Dk = Dv, where swapped projections and keys used as values keep their shapes
    for B, Tq, Tk, Dq, Dk, Dv, A, lengths, large in [
            (1, 1, 1, 3, 2, 4, 5, None, False), (1, 4, 6, 5, 3, 2, 4, None, False),
            (3, 5, 7, 4, 4, 4, 6, (4, 6, 2), False), (4, 1, 3, 2, 6, 3, 3, (3, 1, 2, 3), False),
            (2, 6, 5, 5, 5, 5, 8, None, False), (3, 4, 6, 3, 3, 2, 5, (6, 1, 4), False),
            (2, 3, 4, 4, 2, 3, 6, (2, 4), True)]:
        cases.append({
            "query": rng.normal(size=(B, Tq, Dq)),
            "keys": rng.normal(size=(B, Tk, Dk)),
            "values": rng.normal(size=(B, Tk, Dv)),
            "W_q": rng.normal(scale=0.7, size=(Dq, A)),
            "W_k": rng.normal(scale=0.7, size=(Dk, A)),
            "w_a": rng.normal(size=A),
            "mask": None if lengths is None else _padding_mask(lengths, Tk),
        })
        if large:                              # the largest score 2000: exp overflows
            c = cases[-1]
            hidden = np.tanh((c["query"] @ c["W_q"])[:, :, None] + (c["keys"] @ c["W_k"])[:, None])
            valid = None if c["mask"] is None else c["mask"][:, None, :]
            c["w_a"] = _largest_score_to(2000.0, hidden, c["w_a"], valid)
    return cases


@register("07-additive-attention", kind="implement", points=14,
          summary="context and weights of masked additive attention (7.4)-(7.6) against the "
                  "reference on 7 fresh random cases: one key, one query, padding masks (a "
                  "source of length 1), scores in the thousands")
def check_additive_attention(additive_attention):
    """Check ``additive_attention(query, keys, values, W_q, W_k, w_a, mask) -> (context,
    weights)``."""
    cases = _additive_cases(fresh_rng())
    mistakes = [
        (lambda **k: _additive_attention_variant(**k, axis=1),
         "the softmax runs over the queries; each query's weights must sum to 1 over the Tk keys: "
         "the softmax of equation (7.4) runs over the keys, the last axis"),
        (lambda **k: _additive_attention_variant(**k, squash=False),
         "the tanh is missing from the score (equation (7.5))"),
        (lambda **k: _additive_attention_variant(**k, normalise=False),
         "the scores are used as weights without a softmax (equation (7.4))"),
        (lambda **k: _additive_attention_variant(**k, swap_projections=True),
         "W_q and W_k are swapped: the query is projected by W_q (Dq, A), the keys by W_k (Dk, A)"),
        (lambda **k: _additive_attention_variant(**k, keys_as_values=True),
         "the context averages the keys; the weights decide how to mix the values "
         "(equation (7.4))"),
        (lambda **k: _additive_attention_variant(**k, masking="inverted"),
         "the mask is inverted: True marks the keys that may be attended to (the real tokens), "
         "False the padding"),
        (lambda **k: _additive_attention_variant(**k, masking="after"),
         "the padded keys are zeroed after the softmax, so the remaining weights no longer sum "
         "to 1: mask the scores before the softmax (equation (7.6))"),
        (lambda **k: _additive_attention_variant(**k, masking="zero-scores"),
         "a masked score set to 0 still gets the weight exp(0)/Σ: a masked key's score must be "
         "-inf (equation (7.6)) so that its weight is exactly 0"),
        (lambda **k: _additive_attention_variant(**k, masking="none"),
         "the mask is ignored: padded keys get a weight; equation (7.6) gives them none"),
    ]
    hint = diagnose_outputs(additive_attention, [cases[4], cases[2]], reference_additive_attention,
                            mistakes,
                            ["context", "weights"],
                            "compute equations (7.4)-(7.6) step by step and check each shape: "
                            "the scores and weights are (B, Tq, Tk), one per (query, key) pair, "
                            "the context (B, Tq, Dv)")
    hint = _overflow_hint(additive_attention, cases[-1], hint)
    return run_check("07-additive-attention", "Additive attention", additive_attention,
                     reference_additive_attention, cases, ["context", "weights"], hint=hint)


# -- 07-additive-attention-backward -----------------------------------------------------------

def reference_additive_attention_backward(dcontext, query, keys, values, W_q, W_k, w_a, Z,
                                          weights):
    """The backward pass of additive attention: the arrays the forward kept (``Z`` the tanh
    layer (B, Tq, Tk, A), ``weights`` (B, Tq, Tk), zero at masked keys) and dcontext = ∂L/∂context
    (B, Tq, Dv) -> (dquery, dkeys, dvalues, {"W_q", "W_k", "w_a"})."""
    cache = {"query": query, "keys": keys, "values": values, "Z": Z, "weights": weights,
             "W_q": W_q, "W_k": W_k, "w_a": w_a}
    dquery, dkeys, dvalues, grads = _additive_attention_backward(dcontext, cache)
    return dquery, dkeys, dvalues, {"W_q": grads["W_q"], "W_k": grads["W_k"],
                                    "w_a": grads["w_a"]}


def _backward_variant(dcontext, query, keys, values, W_q, W_k, w_a, Z, weights, jacobian="full",
                      tanh_grad="right", recompute=False, swap_sums=False, swap_W=False,
                      untransposed_values=False, batch_mean=False):
    a = _softmax(Z @ w_a, axis=-1) if recompute else weights
    dvalues = (a @ dcontext) if untransposed_values else a.transpose(0, 2, 1) @ dcontext
    da = dcontext @ values.transpose(0, 2, 1)
    row = (da * a).sum(axis=-1, keepdims=True)
    de = {"full": a * (da - row), "diagonal": a * da, "none": da,
          "sign": a * (da + row)}[jacobian]
    dtanh = {"right": 1.0 - Z ** 2, "none": 1.0, "tanh-again": 1.0 - np.tanh(Z) ** 2,
             "one-minus": 1.0 - Z}[tanh_grad]
    dP = de[..., None] * w_a * dtanh                 # (B, Tq, Tk, A)
    dq_proj, dk_proj = dP.sum(axis=2), dP.sum(axis=1)
    if swap_sums:
        dq_proj, dk_proj = dP.sum(axis=1), dP.sum(axis=2)
    Wq_T, Wk_T = (W_k.T, W_q.T) if swap_W else (W_q.T, W_k.T)
    A = Z.shape[-1]
    grads = {"W_q": query.reshape(-1, query.shape[2]).T @ dq_proj.reshape(-1, A),
             "W_k": keys.reshape(-1, keys.shape[2]).T @ dk_proj.reshape(-1, A),
             "w_a": de.reshape(-1) @ Z.reshape(-1, A)}
    if batch_mean:
        grads = {name: g / query.shape[0] for name, g in grads.items()}
    return dq_proj @ Wq_T, dk_proj @ Wk_T, dvalues, grads


def _backward_cases(rng):
    """Six cases, each the package's forward on fresh random inputs and a random dcontext: a
    single key (whose gradients through the scores are zero), one query, different sizes, square
    sizes with a padding mask (the case the mistakes are diagnosed on), a source of length 1,
    and saturated scores."""
    cases = []
    # (B, Tq, Tk, Dq, Dk, Dv, A, lengths or None, scale of the projections, dcontext scale)
    for B, Tq, Tk, Dq, Dk, Dv, A, lengths, w_scale, d_scale in [
            (1, 1, 1, 3, 2, 4, 5, None, 0.7, 1.0), (1, 4, 6, 5, 3, 2, 4, None, 0.7, 1.0),
            (3, 5, 5, 4, 4, 4, 6, (5, 3, 2), 0.7, 1.0), (4, 1, 3, 2, 6, 3, 3, (3, 1, 2, 3), 0.7, 1.0),
            (2, 6, 7, 3, 5, 2, 8, (7, 4), 0.7, 1.0), (2, 3, 4, 3, 2, 3, 5, (4, 2), 3.0, 1.0)]:
        query = rng.normal(size=(B, Tq, Dq))
        keys = rng.normal(size=(B, Tk, Dk))
        values = rng.normal(size=(B, Tk, Dv))
        params = {"W_q": rng.normal(scale=w_scale, size=(Dq, A)),
                  "W_k": rng.normal(scale=w_scale, size=(Dk, A)),
                  "w_a": rng.normal(size=A)}
        mask = None if lengths is None else _padding_mask(lengths, Tk)
        _, weights, cache = _additive_attention_forward(query, keys, values, params, mask=mask)
        cases.append({"dcontext": d_scale * rng.normal(size=(B, Tq, Dv)),
                      "query": query, "keys": keys, "values": values, **params,
                      "Z": cache["Z"], "weights": weights})
    return cases


@register("07-additive-attention-backward", kind="implement", points=36,
          summary="dquery, dkeys, dvalues and the gradients of W_q, W_k, w_a of additive attention "
                  "against the (gradient-checked) reference on 6 fresh random forwards: one key, "
                  "one query, padding masks (a source of length 1), saturated tanh; autograd "
                  "refused",
          forbidden=("backward", "grad", "autograd", "vjp", "jacobian"))
def check_additive_attention_backward(additive_attention_backward):
    """Check ``additive_attention_backward(dcontext, query, keys, values, W_q, W_k, w_a, Z,
    weights) -> (dquery, dkeys, dvalues, grads)``."""
    cases = _backward_cases(fresh_rng())
    names = ["dquery", "dkeys", "dvalues", "grads"]
    mistakes = [
        (lambda **k: _backward_variant(**k, jacobian="diagonal"),
         "the softmax's Jacobian has lost its second term: each weight depends on every score of "
         "its row (they sum to 1), not on its own score alone"),
        (lambda **k: _backward_variant(**k, jacobian="none"),
         "∂L/∂weights is passed to the scores unchanged: the softmax between scores and weights "
         "(equation (7.4)) has its own Jacobian"),
        (lambda **k: _backward_variant(**k, jacobian="sign"),
         "the second term of the softmax's Jacobian has the wrong sign"),
        (lambda **k: _backward_variant(**k, tanh_grad="none"),
         "the derivative of the tanh in the score (equation (7.5)) is missing"),
        (lambda **k: _backward_variant(**k, tanh_grad="tanh-again"),
         "Z is the tanh's output already; its derivative is written with Z itself, not with "
         "tanh(Z)"),
        (lambda **k: _backward_variant(**k, tanh_grad="one-minus"),
         "the derivative of tanh is not 1 - tanh: square the tanh's output"),
        (lambda **k: _backward_variant(**k, recompute=True),
         "the weights were recomputed from Z without the mask: use the weights the forward kept "
         "(0 at masked keys, equation (7.6))"),
        (lambda **k: _backward_variant(**k, swap_sums=True),
         "the sums over the pairs are swapped: query t meets every key j, so its gradient sums "
         "over the keys, and key j's gradient sums over the queries"),
        (lambda **k: _backward_variant(**k, swap_W=True),
         "W_q and W_k are swapped on the way back: the query's gradient goes back through W_q, "
         "the keys' through W_k"),
        (lambda **k: _backward_variant(**k, untransposed_values=True),
         "dvalues uses the weights untransposed: value j receives the share a_tj of every "
         "query's dcontext_t"),
        (lambda **k: _backward_variant(**k, batch_mean=True),
         "the parameter gradients are averaged over the batch: the parameters are shared by every "
         "sequence of the batch, so their gradients add up"),
    ]
    hint = diagnose_outputs(additive_attention_backward, cases[2:3],
                            reference_additive_attention_backward, mistakes, names,
                            "go back through the forward one step at a time, equations (7.4)-"
                            "(7.6) from the context to the projections, and check that every "
                            "gradient has the shape of what it differentiates")
    return run_check("07-additive-attention-backward", "Additive attention, backward pass",
                     additive_attention_backward, reference_additive_attention_backward, cases,
                     names, hint=hint)


# -- 07-attention-masks -----------------------------------------------------------------------

# The batch of the concept exercise: three sources of 5, 2 and 4 letters padded to S = 5, their
# reversals with EOS padded to T = 6 decoder steps, states of H = 32; and a query over four keys
# of values 2, -1, 7, 4 whose second score exceeds the others by 50.
_MASK_QUESTIONS = [
    {"key": "mask_shape", "answer": (3, 5),
     "explain": {(3, 6): "6 is the number of decoder steps; padding belongs to the sources (the "
                         "keys), and it is the same for every decoder step",
                 (5, 3): "batch first: one row per sequence",
                 (6, 5): "each source has its own length, so each sequence needs its own row",
                 (5, 5): "the decoder attends over the source: what must be hidden is its "
                         "padding, not its future",
                 (3, 6, 5): "this works (broadcast), but it repeats one row for every decoder "
                            "step: the smallest mask drops that axis",
                 (3,): "one number per sequence is its length; the mask says, for every source "
                       "position, whether it may be attended to"},
     "hint": "one entry per (sequence, source position)? per decoder step? think of what the "
             "padding belongs to"},
    {"key": "mask_second_source", "answer": (True, True, False, False, False),
     "explain": {(False, False, True, True, True): "inverted: True marks the positions that may be "
                                                   "attended to (real tokens), False the padding",
                 (True, True, True, True, True): "that lets the decoder attend to the padding",
                 (True, True, False, False): "one entry per source position: S = 5",
                 (True, True): "one entry per source position: S = 5, padding included"},
     "hint": "one entry per source position; how many of the second source's positions hold a "
             "real token?"},
    {"key": "weights_shape", "answer": (3, 6, 5),
     "explain": {(3, 5, 6): "transposed: one row per query (decoder step), one column per key "
                            "(source position)",
                 (3, 6, 6): "the weights of a decoder step run over the source positions (S = 5)",
                 (6, 5): "every sequence of the batch has its own weights",
                 (3, 5): "that is the mask's shape: there is one row of weights per decoder step",
                 (3, 6, 32): "that is the context's shape: one weight per (query, key) pair"},
     "hint": "one weight per (sequence, decoder step, source position) triple? in which order?"},
    {"key": "context_shape", "answer": (3, 6, 32),
     "explain": {(3, 32): "every decoder step reads its own context",
                 (3, 6, 5): "that is the weights' shape: the context is a weighted average of "
                            "the values (encoder states of H numbers)",
                 (3, 5, 32): "that is the encoder states' shape: there is one context per decoder "
                             "step, not per source position",
                 (6, 32): "every sequence of the batch has its own contexts"},
     "hint": "one context per decoder step of every sequence; what is it an average of?"},
    {"key": "weights_sum", "answer": 18.0,
     "explain": {11: "11 counts the real source tokens: the weights are a distribution over the "
                     "keys for every decoder step, and every such row sums to 1",
                 14: "the decoder's padded steps are not masked (the mask covers the keys, the "
                     "sources); the loss ignores their outputs, but their weights still sum to 1",
                 15: "15 is B·S: the weights sum to 1 over the keys of each row, and there is one "
                     "row per decoder step",
                 3: "one distribution per decoder step of every sequence, not one per sequence",
                 1: "each row of weights sums to 1; how many rows are there?"},
     "hint": "how many rows of weights does the batch have, and what does each sum to?"},
    {"key": "dominant_context", "answer": -1.0, "tolerance": 1e-6,
     "explain": {3.0: "3 is the mean of the values: what attention gives when all scores are equal",
                 12.0: "12 is the sum of the values; the weights sum to 1",
                 7.0: "7 is the largest value; attention chooses by the keys' scores, not by the "
                      "values",
                 2.0: "2 is the first value; which key has the dominant score?"},
     "hint": "the weights are a softmax of the scores: what is the weight of a key whose score "
             "exceeds the others' by 50?"},
    {"key": "one_key_dquery", "answer": 0.0, "tolerance": 1e-12,
     "explain": {1.0: "the gradient with respect to the query flows only through the weights; "
                      "what is the weight of a lone key, whatever its score?"},
     "hint": "with a single key, does the context depend on the query at all?"},
]


@register("07-attention-masks", kind="concept", points=len(_MASK_QUESTIONS),
          summary="the padding mask of a batch of sources (shape, the row of one source), the "
                  "shapes of the attention weights and contexts, the sum of the weights, the "
                  "context at a dominant score, the query's gradient with one key")
def check_attention_masks(answers):
    """Check ``answers() -> dict`` of the seven answers (see ``_MASK_QUESTIONS``)."""
    refused = screen("07-attention-masks", "Masks, shapes and weights", answers,
                     len(_MASK_QUESTIONS))
    if refused:
        return refused

    def plain_answers():        # NumPy shapes and bools compare like Python's
        given = answers()
        return {k: plain(v) for k, v in given.items()} if isinstance(given, dict) else given

    with reference_allowed():   # already screened above; the wrapper lives in this package
        return check_concept("07-attention-masks", "Masks, shapes and weights", plain_answers,
                             _MASK_QUESTIONS)


# -- 07-attention-budget ----------------------------------------------------------------------

#: The experiment's budget and set-up: models of at most ``max_parameters`` parameters, trained
#: for ``steps`` steps of ``batch_size`` reversal strings of ``train_lengths`` letters, scored by
#: the exact-match accuracy of greedy decoding on ``n_test`` strings of ``test_lengths``; a seed
#: passes at ``threshold`` or more.
BUDGET = {"max_parameters": 20_000, "steps": 200, "batch_size": 64, "lr": 1e-2,
          "train_lengths": (2, 12), "test_lengths": (10, 12), "n_test": 300, "n_symbols": 10,
          "embedding_size": 16, "attention_size": 16, "threshold": 0.5, "seeds": (0, 1)}


def build_reversal_model(choice):
    """The ``Seq2SeqRNN`` that ``choice`` describes (a dict with ``"attention"``: ``None``,
    ``"additive"`` or ``"dot"``, and ``"hidden_size"``: an int), checked against the budget;
    raises ``ValueError`` for a choice that cannot be built or is over the budget."""
    from ..data.transduction import vocabulary_size
    from ..torch.seq2seq import ATTENTION_KINDS, Seq2SeqRNN

    if not isinstance(choice, dict) or set(choice) != {"attention", "hidden_size"}:
        raise ValueError("expected a dict with the keys 'attention' and 'hidden_size', got "
                         f"{choice!r}")
    kind, H = choice["attention"], choice["hidden_size"]
    if kind not in ATTENTION_KINDS:
        raise ValueError(f"'attention' must be one of {ATTENTION_KINDS}, got {kind!r}")
    if isinstance(H, bool) or not isinstance(H, (int, np.integer)) or not 1 <= H <= 256:
        raise ValueError(f"'hidden_size' must be an int in 1..256, got {H!r}")
    vocab = vocabulary_size(BUDGET["n_symbols"])
    model = Seq2SeqRNN(vocab, vocab, embedding_size=BUDGET["embedding_size"], hidden_size=int(H),
                       attention=kind,
                       attention_size=BUDGET["attention_size"] if kind == "additive" else None)
    n = sum(p.numel() for p in model.parameters())
    if n > BUDGET["max_parameters"]:
        raise ValueError(f"this model has {n:,} parameters, over the budget of "
                         f"{BUDGET['max_parameters']:,}")
    return model


def reversal_accuracy(choice, seed=0):
    """Train the model of ``choice`` (see :func:`build_reversal_model`) on reversal with the
    experiment's set-up (``BUDGET``) from ``seed`` and return its exact-match accuracy on long
    strings and its number of parameters. Takes a few seconds; try choices with it."""
    import torch
    from ..data.transduction import transduction_task
    from ..torch.seq2seq import sequence_accuracy, train_seq2seq

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        model = build_reversal_model(choice)
        batches = np.random.default_rng(1000 + seed)
        train_seq2seq(model, lambda step: transduction_task(
            BUDGET["batch_size"], BUDGET["train_lengths"], n_symbols=BUDGET["n_symbols"],
            rng=batches), steps=BUDGET["steps"], lr=BUDGET["lr"], clip=1.0, progress=False)
        test = transduction_task(BUDGET["n_test"], BUDGET["test_lengths"],
                                 n_symbols=BUDGET["n_symbols"], rng=12345 + seed)
        exact, _ = sequence_accuracy(model, test)
    finally:
        torch.random.set_rng_state(state)
        torch.set_num_threads(threads)
    return exact, sum(p.numel() for p in model.parameters())


def _measure_budget(choice):
    build_reversal_model(choice)          # refuses a bad or over-budget choice before training
    low, high = BUDGET["test_lengths"]
    score, lines = 0, []
    for seed in BUDGET["seeds"]:
        exact, n = reversal_accuracy(choice, seed)
        ok = exact >= BUDGET["threshold"]
        score += ok
        lines.append(f"seed {seed}: {n:,} parameters, {exact:.0%} of the strings of {low}-{high} "
                     f"letters reversed exactly ({'at least' if ok else 'below'} "
                     f"{BUDGET['threshold']:.0%})")
    if score < len(BUDGET["seeds"]):
        lines.append("hint: where does a model without attention keep the first letters of a "
                     "long string, and how much does a larger state cost in parameters? Try "
                     "choices with reversal_accuracy(choice) before you submit one.")
    return score, lines


@register("07-attention-budget", kind="experiment", points=len(BUDGET["seeds"]),
          summary="trains the chosen reversal model (attention kind, H; at most 20,000 "
                  "parameters) for 200 steps with 2 seeds; a point per seed reversing at least "
                  "50% of the strings of 10-12 letters exactly")
def check_attention_budget(choose_reversal_model):
    """Check ``choose_reversal_model() -> {"attention": ..., "hidden_size": ...}``."""
    return check_experiment("07-attention-budget", "A reversal model on a budget",
                            choose_reversal_model, _measure_budget,
                            max_score=len(BUDGET["seeds"]))


__all__ = ["BUDGET", "build_reversal_model",
           "check_additive_attention", "check_additive_attention_backward",
           "check_attention_budget", "check_attention_masks", "check_attention_pooling",
           "diagnose_outputs", "reference_additive_attention",
           "reference_additive_attention_backward", "reference_attention_pooling",
           "reversal_accuracy"]
