"""Checks for the exercises of chapter 8, *Transformers*.

* ``08-scaled-dot-product-attention`` (implement): equation (8.1) with a mask, on any leading
  dimensions, including scores large enough to overflow a naive softmax;
* ``08-attention-backward`` (implement): dQ, dK, dV of equation (8.1) from dO, recomputing the
  weights from what the forward pass kept (Q, K, V and the mask), as FlashAttention does;
* ``08-causal-mask`` (implement): the causal mask (8.5) when the Tq queries are the last
  positions of Tk keys (generation with cached keys and values; Tq = Tk in training);
* ``08-positional-encoding`` (implement): the sinusoidal table (8.6);
* ``08-multi-head-attention`` (implement): one forward pass of equations (8.3)-(8.4);
* ``08-task-without-positions`` (experiment): the student picks the transduction task that a
  Transformer without positional encodings still learns; the check trains the package's
  ``Transformer`` with and without them on it and scores the measured difference;
* ``08-attention-concepts`` (concept): shapes and parameters of multi-head attention, the causal
  mask, the mask a decoder with padded targets needs, and what attention costs against an RNN.

The references are the package's own ``seqlearn.numpy.attention`` and
``seqlearn.numpy.transformer``. When an answer is wrong, the check compares it with what typical
mistakes give (the 1/√d_k scale forgotten or replaced by 1/d_k, softmax over the queries instead
of the keys, the mask inverted, the softmax Jacobian's second term dropped, a transposed product,
queries aligned with the first keys instead of the last, sin and cos swapped, heads split by a
reshape without a transpose, the output projection forgotten, ...) and names the mistake it
recognises; otherwise it points to the equation by its number. Every call of the student's
function uses keyword arguments.
"""

import numpy as np

from ..numpy.attention import causal_mask as _causal_mask
from ..numpy.attention import multi_head_attention_forward as _mha_forward
from ..numpy.attention import scaled_dot_product_attention_backward as _sdpa_backward
from ..numpy.attention import scaled_dot_product_attention_forward as _sdpa_forward
from ..numpy.transformer import sinusoidal_positional_encoding as _positional_encoding
from .core import (check_concept, check_experiment, diagnose_mistake, fresh_rng, plain,
                   reference_allowed, register, run_check, screen)


def _softmax(scores, axis=-1):
    # Not seqlearn.numpy.softmax.softmax, which refuses the −∞ of masked scores.
    with np.errstate(invalid="ignore"):      # a wrong mask may leave a row with no key
        e = np.exp(scores - scores.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)


def _non_finite_hint(student_fn, case, message):
    """``message`` when the student's outputs on ``case`` contain NaN or inf, else ``""``."""
    try:
        outputs = student_fn(**{k: (v.copy() if isinstance(v, np.ndarray) else v)
                                for k, v in case.items()})
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        if any(not np.all(np.isfinite(np.asarray(o, dtype=float))) for o in outputs):
            return message
    except Exception:  # noqa: BLE001 - a crash is reported case by case by run_check
        pass
    return ""


# -- 08-scaled-dot-product-attention ----------------------------------------------------------

def reference_scaled_dot_product_attention(Q, K, V, mask=None):
    """Equation (8.1), masked where mask is False: returns ``(out, weights)``."""
    out, weights, _ = _sdpa_forward(Q, K, V, mask=mask)
    return out, weights


def _sdpa_variant(Q, K, V, mask=None, scale="sqrt", axis=-1, mask_mode="fill"):
    """Scaled dot-product attention computed right or in one of the typical wrong ways."""
    d = Q.shape[-1]
    factor = {"sqrt": 1 / np.sqrt(d), "none": 1.0, "d": 1 / d, "times_sqrt": np.sqrt(d)}[scale]
    scores = Q @ np.swapaxes(K, -1, -2) * factor
    if mask is not None:
        mask = np.broadcast_to(mask, scores.shape)
        if mask_mode == "fill":
            scores = np.where(mask, scores, -np.inf)
        elif mask_mode == "inverted":
            scores = np.where(mask, -np.inf, scores)
    weights = _softmax(scores, axis=axis)
    if mask is not None and mask_mode == "after":
        weights = weights * mask
    return weights @ V, weights


def _random_mask(rng, shape):
    """A random bool mask with at least one allowed key in every row."""
    mask = rng.random(shape) < 0.6
    rows = mask.reshape(-1, shape[-1])
    rows[np.arange(len(rows)), rng.integers(0, shape[-1], size=len(rows))] = True
    return rows.reshape(shape)


def _attention_cases(rng, with_dout=False):
    """Inputs of scaled dot-product attention: plain, a random mask, a pattern mask (every row
    and column has allowed and blocked entries, so an inverted mask or the softmax over the
    wrong axis still gives finite numbers), a causal mask over two leading axes, one query and
    one key (B = 1, T = 1), and scores of a few thousand (a softmax without the max subtracted
    overflows)."""
    cases = []
    # (leading dims, Tq, Tk, d, dv, mask, size of the queries and keys)
    for lead, Tq, Tk, d, dv, mask, size in [((2,), 3, 3, 4, 4, None, 1.0),
                                            ((3,), 4, 6, 8, 5, "random", 1.0),
                                            ((2,), 5, 7, 16, 3, "pattern", 1.0),
                                            ((2, 3), 5, 5, 32, 6, "causal", 1.0),
                                            ((1,), 1, 1, 4, 3, None, 1.0),
                                            ((2,), 3, 4, 4, 3, "random", 50.0)]:
        case = {"Q": size * rng.normal(size=lead + (Tq, d)),
                "K": size * rng.normal(size=lead + (Tk, d)),
                "V": rng.normal(size=lead + (Tk, dv))}
        if with_dout:
            case = {"dout": rng.normal(size=lead + (Tq, dv)), **case}
        if mask == "random":
            case["mask"] = _random_mask(rng, lead + (Tq, Tk))
        elif mask == "pattern":
            i, j = np.arange(Tq)[:, None], np.arange(Tk)[None, :]
            case["mask"] = np.broadcast_to((i + j) % 3 != 0, lead + (Tq, Tk)).copy()
        elif mask == "causal":
            case["mask"] = np.tri(Tq, Tk, dtype=bool)
        else:
            case["mask"] = None
        cases.append(case)
    return cases


_STABLE_SOFTMAX = ("your outputs contain NaN or inf when the scores are large (thousands): "
                   "exp overflows; subtract each row's largest score before exp, which leaves "
                   "the softmax unchanged")


@register("08-scaled-dot-product-attention", kind="implement", points=12,
          summary="out and weights of equation (8.1) on 6 fresh cases: no mask, random, pattern "
                  "and causal masks, Tq = Tk = 1, scores in the thousands",
          forbidden=("scaled_dot_product_attention", "MultiheadAttention"))
def check_scaled_dot_product_attention(scaled_dot_product_attention):
    """Check ``scaled_dot_product_attention(Q, K, V, mask=None) -> (out, weights)``."""
    cases = _attention_cases(fresh_rng())
    mistakes = [
        (lambda **k: _sdpa_variant(**k, scale="none"),
         "the scores are not scaled: equation (8.1) divides Q Kᵀ by √d_k (d_k = Q.shape[-1]) "
         "before the softmax"),
        (lambda **k: _sdpa_variant(**k, scale="d"),
         "the scores are divided by d_k; the scale of equation (8.1) is 1/√d_k"),
        (lambda **k: _sdpa_variant(**k, scale="times_sqrt"),
         "the scores are multiplied by √d_k; divide by it"),
        (lambda **k: _sdpa_variant(**k, axis=-2),
         "the softmax runs over the queries (axis -2); each query's weights over the keys "
         "must sum to 1: softmax over the last axis"),
        (lambda **k: _sdpa_variant(**k, mask_mode="inverted"),
         "the mask is inverted: True means 'may attend'; block the scores where mask is False"),
        (lambda **k: _sdpa_variant(**k, mask_mode="ignored"),
         "the mask is ignored: block the scores (−∞) where mask is False, before the softmax"),
        (lambda **k: _sdpa_variant(**k, mask_mode="after"),
         "the weights are masked after the softmax, so the remaining ones no longer sum to 1; "
         "mask the scores (−∞) before the softmax instead"),
    ]
    hint = diagnose_mistake(scaled_dot_product_attention, cases[2], mistakes, "") or \
        _non_finite_hint(scaled_dot_product_attention, cases[-1], _STABLE_SOFTMAX) or \
        ("compare each step with equation (8.1): the scores of every query with every key, "
         "their scale, a softmax over the keys of each query (after masking), then the "
         "weighted average of the values")
    return run_check("08-scaled-dot-product-attention", "Scaled dot-product attention",
                     scaled_dot_product_attention, reference_scaled_dot_product_attention, cases,
                     ["out", "weights"], hint=hint)


# -- 08-attention-backward --------------------------------------------------------------------

def reference_attention_backward(dout, Q, K, V, mask=None):
    """dQ, dK, dV of equation (8.1) for the upstream gradient ``dout``: returns the tuple."""
    _, _, cache = _sdpa_forward(Q, K, V, mask=mask)
    return _sdpa_backward(dout, cache)


def _attention_backward_variant(dout, Q, K, V, mask=None, row_term=True, scale=True,
                                use_mask=True, sign=1.0, transpose_dv=True, transpose_dk=True):
    """The backward pass of scaled dot-product attention, right or with a typical mistake."""
    s = 1 / np.sqrt(Q.shape[-1])
    scores = Q @ np.swapaxes(K, -1, -2) * s
    if mask is not None and use_mask:
        scores = np.where(mask, scores, -np.inf)
    A = _softmax(scores)
    dA = dout @ np.swapaxes(V, -1, -2)
    row = (dA * A).sum(axis=-1, keepdims=True) if row_term else 0.0
    dS = sign * A * (dA - row)
    factor = s if scale else 1.0
    dQ = dS @ K * factor
    dK = (np.swapaxes(dS, -1, -2) if transpose_dk else dS) @ Q * factor
    dV = (np.swapaxes(A, -1, -2) if transpose_dv else A) @ dout
    return dQ, dK, dV


@register("08-attention-backward", kind="implement", points=18,
          summary="dQ, dK, dV of equation (8.1) from dout on 6 fresh cases (no mask, random, "
                  "pattern and causal masks, Tq = Tk = 1, scores in the thousands)",
          forbidden=("backward", "grad", "vjp", "jacobian", "scaled_dot_product_attention",
                     "MultiheadAttention"))
def check_attention_backward(attention_backward):
    """Check ``attention_backward(dout, Q, K, V, mask=None) -> (dQ, dK, dV)``."""
    cases = _attention_cases(fresh_rng(), with_dout=True)
    mistakes = [
        (lambda **k: _attention_backward_variant(**k, row_term=False),
         "dQ and dK miss the second term of the softmax's Jacobian (8.2), −a aᵀ: the gradient "
         "of each score also depends on the other weights of its row (with one key, dQ and dK "
         "are 0)"),
        (lambda **k: _attention_backward_variant(**k, scale=False),
         "dQ and dK miss the factor 1/√d_k: the scores of (8.1) are Q Kᵀ/√d_k, so the chain "
         "rule brings the scale into both"),
        (lambda **k: _attention_backward_variant(**k, sign=-1.0),
         "dQ and dK have the wrong sign: check the sign of the two terms of the softmax's "
         "Jacobian (8.2)"),
        (lambda **k: _attention_backward_variant(**k, use_mask=False),
         "the recomputed weights ignore the mask: masked keys have weight 0 in the forward "
         "pass, so they must have it in the backward pass too"),
        (lambda **k: _attention_backward_variant(**k, transpose_dv=False),
         "dV is transposed: out = A V, so ∂L/∂V = Aᵀ dO (it has one row per key, Tk rows)"),
        (lambda **k: _attention_backward_variant(**k, transpose_dk=False),
         "dK is computed from the gradient of the scores untransposed: the scores are Q Kᵀ, so "
         "∂L/∂K takes (∂L/∂S)ᵀ (one row per key)"),
    ]
    hint = diagnose_mistake(attention_backward, cases[3], mistakes, "") or \
        _non_finite_hint(attention_backward, cases[-1], _STABLE_SOFTMAX) or \
        ("recompute the weights as in equation (8.1), then go back through it one product at a "
         "time: out = A V gives dA and dV, the softmax's Jacobian (8.2) turns dA into the "
         "gradient of the scores, and the scores' product Q Kᵀ/√d_k gives dQ and dK. Each "
         "gradient has the shape of its variable.")
    return run_check("08-attention-backward", "The backward pass of attention",
                     attention_backward, reference_attention_backward, cases,
                     ["dQ", "dK", "dV"], hint=hint)


# -- 08-causal-mask ---------------------------------------------------------------------------

def reference_causal_mask(Tq, Tk):
    """The (Tq, Tk) bool causal mask whose queries are the last Tq of the Tk positions:
    ``mask[i, s] = s ≤ i + Tk − Tq`` (True = may attend)."""
    return _causal_mask(Tk)[Tk - Tq:]


def _causal_mask_variant(Tq, Tk, kind):
    query = np.arange(Tk - Tq, Tk)[:, None]       # the position of each query
    key = np.arange(Tk)[None, :]
    masks = {"top-left": key <= query - (Tk - Tq), "upper": key >= query,
             "strict": key < query, "inverted": key > query}
    if kind == "additive":
        return np.where(key <= query, 0.0, -np.inf)
    return masks[kind]


class _NotBoolean(TypeError):
    pass


def _require_bool(make_mask):
    """The student's function, made to fail clearly when its mask is not boolean."""

    def wrapped(**kwargs):
        mask = make_mask(**kwargs)
        dtype = getattr(mask, "dtype", None)
        if dtype is None:            # a nested list: judge the array it makes
            try:
                dtype = np.asarray(mask).dtype
            except (TypeError, ValueError):
                return mask          # not array-like; the comparison reports it
        if str(dtype) in ("bool", "torch.bool"):
            return mask
        try:
            values = np.asarray(mask, dtype=float)
        except (TypeError, ValueError):
            return mask
        if np.all(np.isin(values, (0.0, 1.0))):
            raise _NotBoolean(
                f"the mask has dtype {dtype}; return a bool array (e.g. with dtype=bool or "
                f".astype(bool)) so that ~mask and np.where(mask, ...) work")
        return mask

    return wrapped


_MASK_TITLE = "The causal mask"


@register("08-causal-mask", kind="implement", points=6,
          summary="the (Tq, Tk) bool causal mask (8.5) for queries at the last Tq of Tk "
                  "positions, on 6 fresh sizes: Tq = Tk = 1, Tq = Tk, Tq = 1 < Tk, Tq < Tk",
          forbidden=("generate_square_subsequent_mask",))
def check_causal_mask(make_causal_mask):
    """Check ``make_causal_mask(Tq, Tk) -> (Tq, Tk) bool``, True where query i (position
    i + Tk − Tq) may attend to key s."""
    rng = fresh_rng()
    T, Tk = int(rng.integers(4, 9)), int(rng.integers(6, 12))
    cases = [{"Tq": 1, "Tk": 1}, {"Tq": 2, "Tk": 2}, {"Tq": T, "Tk": T},
             {"Tq": 1, "Tk": int(rng.integers(2, 9))},
             {"Tq": int(rng.integers(2, Tk - 2)), "Tk": Tk},
             {"Tq": int(rng.integers(10, 20)), "Tk": int(rng.integers(25, 40))}]
    refused = screen("08-causal-mask", _MASK_TITLE, make_causal_mask, len(cases))
    if refused:
        return refused
    mistakes = [
        (lambda **k: _causal_mask_variant(**k, kind="top-left"),
         "query i is treated as position i: the Tq queries are the last Tq positions, after "
         "the Tk − Tq cached ones, so query i sits at position i + Tk − Tq"),
        (lambda **k: _causal_mask_variant(**k, kind="upper"),
         "this is the upper triangle: a query may attend to its past and itself, not to the "
         "future (rows are queries, columns keys)"),
        (lambda **k: _causal_mask_variant(**k, kind="strict"),
         "the diagonal is excluded: a position may attend to itself (equation (8.5): s ≤ t)"),
        (lambda **k: _causal_mask_variant(**k, kind="inverted"),
         "the mask is inverted: True means 'may attend', so the past and the query's own "
         "position are True"),
        (lambda **k: _causal_mask_variant(**k, kind="additive"),
         "this is an additive mask (0 and −∞); here masks are bool, True = may attend"),
    ]
    hint = diagnose_mistake(make_causal_mask, cases[4], mistakes,
                            "write down the position of each query and of each key, then "
                            "apply equation (8.5) to each pair")
    with reference_allowed():       # the wrapper lives in this package; screened above
        return run_check("08-causal-mask", _MASK_TITLE, _require_bool(make_causal_mask),
                         reference_causal_mask, cases, ["mask"], hint=hint)


# -- 08-positional-encoding -------------------------------------------------------------------

def reference_positional_encoding(T, d_model):
    """The (T, d_model) table of equation (8.6)."""
    return _positional_encoding(T, d_model)


def _positional_encoding_variant(T, d_model, swap=False, layout="interleaved", exponent="2i",
                                 base=10000.0, first=0):
    t = np.arange(first, first + T)[:, None]
    i = np.arange(d_model // 2)[None, :]
    power = {"2i": 2 * i / d_model, "i": i / d_model, "negative": -2 * i / d_model}[exponent]
    angles = t / base ** power
    even, odd = (np.cos(angles), np.sin(angles)) if swap else (np.sin(angles), np.cos(angles))
    if layout == "concatenated":
        return np.concatenate([even, odd], axis=1)
    pe = np.empty((T, d_model))
    pe[:, 0::2], pe[:, 1::2] = even, odd
    return pe


@register("08-positional-encoding", kind="implement", points=5,
          summary="the (T, d_model) sinusoidal table (8.6) on 5 fresh sizes, T = 1 to 200, "
                  "d_model = 2 to 64")
def check_positional_encoding(positional_encoding):
    """Check ``positional_encoding(T, d_model) -> (T, d_model)``."""
    rng = fresh_rng()
    cases = [{"T": 1, "d_model": 2},
             {"T": int(rng.integers(5, 12)), "d_model": 2},
             {"T": int(rng.integers(5, 12)), "d_model": 4},
             {"T": int(rng.integers(20, 50)), "d_model": 2 * int(rng.integers(5, 16))},
             {"T": int(rng.integers(60, 200)), "d_model": 64}]
    mistakes = [
        (lambda **k: _positional_encoding_variant(**k, swap=True),
         "sin and cos are swapped: the even columns 2i hold sin, the odd columns 2i+1 cos"),
        (lambda **k: _positional_encoding_variant(**k, layout="concatenated"),
         "the sines and cosines are concatenated ([sin | cos]); equation (8.6) interleaves "
         "them: sin in the even columns, cos in the odd ones"),
        (lambda **k: _positional_encoding_variant(**k, swap=True, layout="concatenated"),
         "the sines and cosines are concatenated ([cos | sin]); equation (8.6) interleaves "
         "them: sin in the even columns, cos in the odd ones"),
        (lambda **k: _positional_encoding_variant(**k, exponent="i"),
         "the exponent of 10000 is i/d_model; it is 2i/d_model, with i the index of the "
         "sin/cos pair (or, equally, the even column index 2i divided by d_model)"),
        (lambda **k: _positional_encoding_variant(**k, exponent="negative"),
         "the position is multiplied by 10000^(2i/d_model); divide by it, so the frequencies "
         "fall from 1 (i = 0) to 10000^(-(d_model-2)/d_model) (the last pair)"),
        (lambda **k: _positional_encoding_variant(**k, first=1),
         "the positions start at 1; they start at t = 0"),
    ]
    hint = diagnose_mistake(positional_encoding, cases[3], mistakes,
                            "compare your table with equation (8.6) column by column: which "
                            "columns hold sines, which cosines, and at which frequency")
    return run_check("08-positional-encoding", "Sinusoidal positional encoding",
                     positional_encoding, reference_positional_encoding, cases, ["PE"], hint=hint)


# -- 08-multi-head-attention ------------------------------------------------------------------

def reference_multi_head_attention(query, key, value, params, num_heads):
    """One multi-head attention forward pass, without a mask: returns ``out`` (B, Tq, D)."""
    out, _, _ = _mha_forward(query, key, value, params, num_heads)
    return out


def _mha_variant(query, key, value, params, num_heads, split="transpose", project_out=True,
                 scale="head", biases=True, heads=None):
    p = params
    B, Tq, D = query.shape
    h = num_heads if heads is None else heads
    dk = D // h

    def project(x, W, b):
        return x @ p[W] + (p[b] if biases else 0.0)

    def split_heads(x):                          # (B, T, D) -> (B, h, T, dk)
        if split == "reshape":
            return x.reshape(B, h, -1, dk)
        return x.reshape(B, -1, h, dk).transpose(0, 2, 1, 3)

    Q = split_heads(project(query, "W_q", "b_q"))
    K = split_heads(project(key, "W_k", "b_k"))
    V = split_heads(project(value, "W_v", "b_v"))
    factor = 1 / np.sqrt(dk) if scale == "head" else (1 / np.sqrt(D) if scale == "model" else 1.0)
    heads_out = _softmax(Q @ K.transpose(0, 1, 3, 2) * factor) @ V        # (B, h, Tq, dk)
    if split == "reshape":
        concat = heads_out.reshape(B, Tq, D)
    else:
        concat = heads_out.transpose(0, 2, 1, 3).reshape(B, Tq, D)
    if not project_out:
        return concat
    return concat @ p["W_o"] + (p["b_o"] if biases else 0.0)


def _mha_cases(rng):
    cases = []
    for B, Tq, Tk, D, h in [(1, 3, 3, 4, 1), (2, 4, 4, 8, 2), (3, 5, 6, 12, 3), (2, 6, 4, 16, 4),
                            (1, 1, 1, 8, 2)]:
        params = {}
        for name in ("W_q", "W_k", "W_v", "W_o"):
            params[name] = rng.normal(scale=1 / np.sqrt(D), size=(D, D))
        for name in ("b_q", "b_k", "b_v", "b_o"):
            params[name] = rng.normal(scale=0.5, size=D)
        query = rng.normal(size=(B, Tq, D))
        if Tq == Tk and B > 1:            # self-attention: query, key and value are one array
            key = value = query
        else:
            key, value = rng.normal(size=(B, Tk, D)), rng.normal(size=(B, Tk, D))
        cases.append({"query": query, "key": key, "value": value, "params": params,
                      "num_heads": h})
    return cases


@register("08-multi-head-attention", kind="implement", points=5,
          summary="out of equations (8.3)-(8.4) on 5 fresh cases: 1 to 4 heads, self- and "
                  "cross-attention, B = 1 and T = 1",
          forbidden=("scaled_dot_product_attention", "MultiheadAttention",
                     "multi_head_attention_forward"))
def check_multi_head_attention(multi_head_attention):
    """Check ``multi_head_attention(query, key, value, params, num_heads) -> out (B, Tq, D)``."""
    cases = _mha_cases(fresh_rng())
    mistakes = [
        (lambda **k: _mha_variant(**k, split="reshape"),
         "the heads are split with a reshape to (B, h, T, d_k) alone (h = num_heads), which "
         "mixes positions; reshape to (B, T, h, d_k) and then transpose to (B, h, T, d_k) (and "
         "back before concatenating)"),
        (lambda **k: _mha_variant(**k, project_out=False),
         "the output projection of equation (8.4) is missing"),
        (lambda **k: _mha_variant(**k, scale="model"),
         "the scores are scaled by 1/√d_model; each head's scale is 1/√d_k with "
         "d_k = d_model / num_heads"),
        (lambda **k: _mha_variant(**k, scale="none"),
         "the scores are not scaled: divide each head's Q Kᵀ by √d_k, "
         "d_k = d_model / num_heads"),
        (lambda **k: _mha_variant(**k, heads=1),
         "this is a single head of size d_model: split Q, K, V into num_heads heads of "
         "d_k = d_model / num_heads columns each"),
        (lambda **k: _mha_variant(**k, biases=False),
         "the biases are missing: the projections (8.3) and the output (8.4) each add one"),
    ]
    hint = diagnose_mistake(multi_head_attention, cases[2], mistakes,
                            "follow equations (8.3) and (8.4) step by step and check the shape "
                            "after each: projections, the split into heads, attention in each "
                            "head, the concatenation, the output projection")
    return run_check("08-multi-head-attention", "Multi-head attention", multi_head_attention,
                     reference_multi_head_attention, cases, ["out"], hint=hint)


# -- 08-task-without-positions ----------------------------------------------------------------

#: The experiment's set-up: a one-layer Transformer (``d_model`` 32, 2 heads) trained for
#: ``steps`` steps of ``batch_size`` strings of ``lengths`` symbols on the chosen task, once
#: with and once without positional encodings, from each of ``seeds`` fresh seeds, and scored by
#: the token accuracy of greedy decoding on ``n_test`` new strings. A seed scores a point when
#: the model without positional encodings keeps at least ``threshold`` of the accuracy of the
#: model with them.
POSITIONS_EXPERIMENT = {"tasks": ("reverse", "sort", "copy"), "d_model": 32, "num_heads": 2,
                        "d_ff": 64, "steps": 200, "batch_size": 32, "lr": 1e-2,
                        "lengths": (3, 6), "n_symbols": 6, "n_test": 300, "seeds": 2,
                        "threshold": 0.6}


def positions_experiment(task, positional_encoding, seed):
    """Train the experiment's Transformer (``POSITIONS_EXPERIMENT``) on ``task`` with or without
    positional encodings from ``seed``; returns its token accuracy on new strings. About a
    second on one CPU thread; the caller's torch seed and thread count are left as they were."""
    import torch

    from ..data.transduction import transduction_task, vocabulary_size
    from ..torch.seq2seq import sequence_accuracy, train_seq2seq
    from ..torch.transformer import Transformer

    setup = POSITIONS_EXPERIMENT
    if task not in setup["tasks"]:
        raise ValueError(f"expected one of {setup['tasks']}, got {task!r}")
    seed = int(seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        vocab_size = vocabulary_size(setup["n_symbols"])
        model = Transformer(vocab_size, vocab_size, d_model=setup["d_model"],
                            num_heads=setup["num_heads"], d_ff=setup["d_ff"], num_layers=1,
                            max_len=2 * setup["lengths"][1] + 2,
                            positional_encoding=positional_encoding)
        batches = np.random.default_rng(seed + 1)
        train_seq2seq(model, lambda step: transduction_task(
            setup["batch_size"], setup["lengths"], task=task, n_symbols=setup["n_symbols"],
            rng=batches), steps=setup["steps"], lr=setup["lr"], clip=1.0, progress=False)
        test = transduction_task(setup["n_test"], setup["lengths"], task=task,
                                 n_symbols=setup["n_symbols"], rng=seed + 2)
        _, token = sequence_accuracy(model, test)
    finally:
        torch.random.set_rng_state(state)
        torch.set_num_threads(threads)
    return token


def _measure_positions(choice, seeds=None):
    setup = POSITIONS_EXPERIMENT
    if not isinstance(choice, str) or choice.strip().lower() not in setup["tasks"]:
        raise ValueError(f"choose one of {', '.join(map(repr, setup['tasks']))}")
    task = choice.strip().lower()
    if seeds is None:
        seeds = fresh_rng().integers(0, 2**31 - 3, size=setup["seeds"])
    score, lines, kept = 0, [], []
    for k, seed in enumerate(seeds, start=1):
        with_pe = positions_experiment(task, True, seed)
        without = positions_experiment(task, False, seed)
        kept.append(without / max(with_pe, 1e-12))
        ok = kept[-1] >= setup["threshold"]
        score += ok
        lines.append(f"seed {k}: '{task}', tokens right with positional encodings {with_pe:.0%}, "
                     f"without {without:.0%}: {kept[-1]:.0%} kept "
                     f"({'at least' if ok else 'less than'} {setup['threshold']:.0%})")
    if score == len(seeds):
        lines.append(f"without positional encodings the model still learns '{task}'")
    else:
        lines.append(f"without positional encodings the model loses most of '{task}': for "
                     "which task does the target depend only on which symbols the source holds, "
                     "and not on where they are? (what does self-attention see of a permuted "
                     "input?)")
    return score, lines


@register("08-task-without-positions", kind="experiment",
          points=POSITIONS_EXPERIMENT["seeds"],
          summary="trains a one-layer Transformer on the chosen task (reverse, sort or copy) "
                  "with and without positional encodings, from 2 fresh seeds, 200 steps each; a "
                  "point per seed where the model without them keeps at least 60% of the token "
                  "accuracy")
def check_task_without_positions(choose_task):
    """Check ``choose_task() -> "reverse" | "sort" | "copy"``."""
    return check_experiment("08-task-without-positions", "A task without positions",
                            choose_task, _measure_positions,
                            max_score=POSITIONS_EXPERIMENT["seeds"])


# -- 08-attention-concepts --------------------------------------------------------------------

_CONCEPT_QUESTIONS = [
    {"key": "head_queries_shape", "answer": (2, 8, 10, 8),
     "explain": {(2, 10, 64): "that is Q before the split into heads",
                 (2, 10, 8, 8): "that is the reshape before the transpose: the heads become a "
                                "batch axis in front of the positions",
                 (2, 8, 10, 64): "each head gets d_k = D/h columns, not all D of them",
                 (8, 10, 8): "every sequence of the batch keeps its own queries"},
     "hint": "one axis each for the batch, the heads, the positions and a head's columns: how "
             "many columns does a head get, and in which order are the axes?"},
    {"key": "weights_shape", "answer": (2, 8, 10, 10),
     "explain": {(2, 10, 10): "every head has its own weights",
                 (2, 8, 10, 8): "the weights pair each query with each key: T × T, not T × d_k",
                 (2, 8, 10, 64): "the weights pair each query with each key: T × T",
                 (8, 10, 10): "every sequence of the batch has its own weights"},
     "hint": "one weight per (sequence, head, query, key)"},
    {"key": "parameters", "answer": 16640,
     "explain": {16384: "4·64² counts the four weight matrices; the four biases are missing",
                 12480: "W_o and b_o, the output projection, are parameters too",
                 12288: "there are four D × D matrices (W_q, W_k, W_v, W_o) and four biases",
                 133120: "the heads share the D × D projections, each reading its own d_k "
                         "columns: splitting into heads adds no parameters"},
     "hint": "count the matrices and vectors of equations (8.3)-(8.4) and their sizes; does "
             "the number of heads change them?"},
    {"key": "causal_true", "answer": 55,
     "explain": {45: "the diagonal is True too: a position may attend to itself",
                 100: "that is every entry: the causal mask blocks the future",
                 10: "that counts only the diagonal: row t allows t + 1 keys",
                 50: "row t allows the t + 1 keys 0..t: add them up"},
     "hint": "how many keys does row t allow? add that up over the rows"},
    {"key": "decoder_mask", "answer": "causal",
     "explain": {"both": "the padding is at the end: under the causal mask, a real position never "
                         "sees a later position, so it never sees padding; the padded positions' "
                         "outputs are left out of the loss. The causal mask alone is enough "
                         "(the package's Transformer uses only it).",
                 "padding": "without the causal mask every position sees the token it must "
                            "predict: training would teach copying, not predicting",
                 "none": "every position would see the token it must predict"},
     "hint": "one of 'causal', 'padding', 'both', 'none'"},
    {"key": "attention_cost_ratio", "answer": 4,
     "explain": {2: "each of the T queries is compared with each of the T keys: T² scores",
                 8: "the scores are T × T per head, not T³",
                 1: "the number of scores grows with T"},
     "hint": "how many scores does one head compute for T positions?"},
    {"key": "rnn_cost_ratio", "answer": 2,
     "explain": {4: "the RNN does one step per position, and each step costs the same: its "
                    "work grows like T",
                 1: "the RNN does one step per position"},
     "hint": "how many steps does the RNN run, and what does each cost?"},
    {"key": "attention_sequential_steps", "answer": 1,
     "explain": {1000: "that is the RNN: step t waits for step t − 1. All the scores of an "
                       "attention layer are independent of each other",
                 1000000: "the T² scores are many operations, but none waits for another"},
     "hint": "which computations of an attention layer wait for the result of another?"},
]


_CONCEPT_TITLE = "Shapes, masks and costs"


@register("08-attention-concepts", kind="concept", points=len(_CONCEPT_QUESTIONS),
          summary="multi-head attention (B = 2, T = 10, D = 64, 8 heads): the shapes of a "
                  "head's queries and of the weights, the parameter count; the True entries of "
                  "a causal mask; the decoder's mask with padded targets; the cost of doubling "
                  "T for attention and an RNN; the sequential steps of attention")
def check_attention_concepts(answers):
    """Check ``answers() -> dict`` of the eight answers (see ``_CONCEPT_QUESTIONS``)."""
    refused = screen("08-attention-concepts", _CONCEPT_TITLE, answers, len(_CONCEPT_QUESTIONS))
    if refused:
        return refused

    def plain_answers():        # NumPy numbers, bools and shapes compare like Python's
        given = answers()
        return {k: plain(v) for k, v in given.items()} if isinstance(given, dict) else given

    with reference_allowed():   # already screened above; the wrapper lives in this package
        return check_concept("08-attention-concepts", _CONCEPT_TITLE, plain_answers,
                             _CONCEPT_QUESTIONS)


__all__ = ["POSITIONS_EXPERIMENT", "check_attention_backward", "check_attention_concepts",
           "check_causal_mask", "check_multi_head_attention", "check_positional_encoding",
           "check_scaled_dot_product_attention", "check_task_without_positions",
           "positions_experiment", "reference_attention_backward", "reference_causal_mask",
           "reference_multi_head_attention", "reference_positional_encoding",
           "reference_scaled_dot_product_attention"]
