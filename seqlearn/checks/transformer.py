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

Chapter 8b (subword tokens and cheaper attention):

* ``08-bpe-merge`` (implement): one byte-pair merge (8.7), left to right without overlaps;
* ``08-tiled-attention`` (implement): the output of (8.1) computed tile by tile with the online
  softmax (8.9);
* ``08-bpe-bigram`` (experiment): the student picks the tokenisation (0, 32, 128 or 512 merges)
  on which a bigram model of *Macbeth* has the lowest held-out loss per character; the check
  measures all four;
* ``08-efficient-attention-concepts`` (concept): vocabulary size, loss per character (8.8),
  what tiled attention keeps, the size of a linear-attention state, which method is exact, and
  how costs and generation memory grow with T.

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
from ..numpy.bpe import learn_bpe as _learn_bpe
from ..numpy.bpe import merge_pair as _merge_pair
from ..numpy.efficient_attention import tiled_attention_forward as _tiled_forward
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


# == chapter 8b: subword tokens and cheaper attention =========================================

# -- 08-bpe-merge -----------------------------------------------------------------------------

def reference_merge_pair(ids, pair, new_id):
    """``ids`` with every occurrence of ``pair`` replaced by ``new_id``, left to right, without
    overlaps."""
    return _merge_pair(ids, pair, new_id)


def _merge_pair_variant(ids, pair, new_id, kind):
    ids = np.asarray(ids)
    a, b = pair
    starts = np.flatnonzero((ids[:-1] == a) & (ids[1:] == b))
    if kind == "overlapping":               # every start merges, even inside a run a a a
        out = ids.copy()
        out[starts] = new_id
        keep = np.ones(len(ids), dtype=bool)
        keep[starts + 1] = False
        return out[keep]
    if kind == "right_to_left":
        reversed_ids = _merge_pair(ids[::-1], (b, a), new_id)
        return reversed_ids[::-1]
    if kind == "kept_second":               # the merged token replaces a but b stays
        out = _merge_pair(ids, pair, -10**6)
        expanded = []
        for token in out:
            expanded.extend([new_id, b] if token == -10**6 else [token])
        return np.array(expanded, dtype=ids.dtype)
    if kind == "first_only":
        if not len(starts):
            return ids.copy()
        i = starts[0]
        return np.concatenate([ids[:i], [new_id], ids[i + 2:]]).astype(ids.dtype)
    raise ValueError(kind)


def _merge_cases(rng):
    cases = []
    ids = rng.integers(0, 4, size=int(rng.integers(25, 40)))
    a, b = (int(x) for x in rng.choice(4, size=2, replace=False))
    ids[[3, 4]] = a, b                             # at least one occurrence
    cases.append({"ids": ids, "pair": (a, b), "new_id": 4})
    a = int(rng.integers(0, 3))                    # runs of 2, 3, 4 and 5 of one token
    runs = [np.full(n, a) for n in rng.permutation([2, 3, 4, 5])]
    parts = []
    for run in runs:
        parts += [run, rng.choice([t for t in range(3) if t != a], size=int(rng.integers(1, 3)))]
    cases.append({"ids": np.concatenate(parts), "pair": (a, a), "new_id": 3})
    ids = rng.integers(0, 3, size=20)              # the pair never occurs (token 5 is absent)
    cases.append({"ids": ids, "pair": (int(ids[0]), 5), "new_id": 6})
    ids = rng.integers(2, 5, size=12)              # occurrences at both ends only
    ids[[0, 1, -2, -1]] = 0, 1, 0, 1
    cases.append({"ids": ids, "pair": (0, 1), "new_id": 7})
    cases.append({"ids": np.array([int(rng.integers(0, 5))]), "pair": (0, 1), "new_id": 5})
    ids = rng.integers(0, 2, size=int(rng.integers(200, 300)))   # many overlapping runs
    cases.append({"ids": ids, "pair": (1, 1), "new_id": 2})
    return cases


@register("08-bpe-merge", kind="implement", points=6,
          summary="one byte-pair merge, (8.7), on 6 fresh token sequences: one occurrence or "
                  "more, runs of 2 to 5 equal tokens merged left to right, no occurrence, both "
                  "ends, a single token, a long sequence of two tokens",
          forbidden=("learn_bpe",))
def check_bpe_merge(merge_pair):
    """Check ``merge_pair(ids, pair, new_id) -> ids`` (N − n,)."""
    cases = _merge_cases(fresh_rng())
    mistakes = [
        (lambda **k: _merge_pair_variant(**k, kind="overlapping"),
         "in a run a a a of the pair (a, a) you merge overlapping occurrences: take them left "
         "to right, and an occurrence that starts on the second token of one just merged is "
         "gone (a a a becomes X a, a a a a becomes X X)"),
        (lambda **k: _merge_pair_variant(**k, kind="right_to_left"),
         "the occurrences are taken right to left (a a a became a X); take them left to right"),
        (lambda **k: _merge_pair_variant(**k, kind="kept_second"),
         "the second token of each occurrence is still there: the pair becomes one token, so "
         "the sequence gets shorter by one per occurrence"),
        (lambda **k: _merge_pair_variant(**k, kind="first_only"),
         "only the first occurrence is merged; merge every occurrence"),
    ]
    hint = diagnose_mistake(merge_pair, cases[1], mistakes, "") or \
        diagnose_mistake(merge_pair, cases[0], mistakes, "") or \
        ("walk through the ids from the left: where ids[i], ids[i + 1] is the pair, write "
         "new_id and skip both; otherwise copy ids[i]. Return an integer array")
    return run_check("08-bpe-merge", "One byte-pair merge", merge_pair, reference_merge_pair,
                     cases, ["ids"], hint=hint)


# -- 08-tiled-attention -----------------------------------------------------------------------

def reference_tiled_attention(Q, K, V, tile_size):
    """softmax(Q Kᵀ/√d_k) V, computed tile by tile (equation (8.9)); the result is that of
    equation (8.1)."""
    out, _ = _tiled_forward(Q, K, V, tile_size=tile_size)
    return out


def _tiled_variant(Q, K, V, tile_size, kind):
    scale = 1 / np.sqrt(Q.shape[-1])
    lead, Tq = Q.shape[:-2], Q.shape[-2]
    running_max = np.full(lead + (Tq, 1), -np.inf)
    running_sum = np.zeros(lead + (Tq, 1))
    numerator = np.zeros(lead + (Tq, V.shape[-1]))
    outs, sums = [], []
    with np.errstate(all="ignore"):
        for start in range(0, K.shape[-2], tile_size):
            keys = slice(start, start + tile_size)
            scores = Q @ np.swapaxes(K[..., keys, :], -1, -2) * scale
            new_max = np.maximum(running_max, scores.max(-1, keepdims=True))
            weights = np.exp(scores - new_max)
            if kind == "tile_average":
                outs.append(weights @ V[..., keys, :] / weights.sum(-1, keepdims=True))
                sums.append(scores.shape[-1])
                continue
            rescale = np.exp(running_max - new_max)
            if kind == "no_rescale":
                rescale = np.ones_like(rescale)
            running_sum = rescale * running_sum + weights.sum(-1, keepdims=True)
            numerator = (numerator if kind == "rescale_sum_only" else rescale * numerator) \
                + weights @ V[..., keys, :]
            running_max = new_max
    if kind == "tile_average":
        return sum(o * n for o, n in zip(outs, sums)) / sum(sums)
    return numerator / running_sum


def _tiled_cases(rng):
    cases = []
    # (leading dims, Tq, Tk, d, dv, tile_size, size of Q and K)
    for lead, Tq, Tk, d, dv, tile, size in [((2,), 5, 7, 4, 3, 3, 1.0),
                                            ((1,), 1, 1, 4, 2, 1, 1.0),
                                            ((2, 3), 6, 8, 8, 5, 2, 1.0),
                                            ((2,), 4, 9, 4, 3, 1, 2.0),
                                            ((3,), 5, 6, 4, 4, 16, 1.0),
                                            ((2,), 3, 10, 4, 3, 4, 30.0)]:
        K = rng.normal(size=lead + (Tk, d)) * size
        K *= np.linspace(0.3, 1.5, Tk)[:, None]    # later keys larger: the running max changes
        cases.append({"Q": rng.normal(size=lead + (Tq, d)) * size, "K": K,
                      "V": rng.normal(size=lead + (Tk, dv)), "tile_size": tile})
    return cases


@register("08-tiled-attention", kind="implement", points=6,
          summary="the output of equation (8.1) computed tile by tile with the online softmax "
                  "(8.9), on 6 fresh cases: tiles of 1 to 16 keys, the last tile short, one key, "
                  "two leading dimensions, scores in the hundreds",
          forbidden=("softmax", "scaled_dot_product_attention", "MultiheadAttention",
                     "logsumexp"))
def check_tiled_attention(tiled_attention):
    """Check ``tiled_attention(Q, K, V, tile_size) -> out (..., Tq, dv)``."""
    cases = _tiled_cases(fresh_rng())
    mistakes = [
        (lambda **k: _tiled_variant(**k, kind="no_rescale"),
         "the running sum and numerator are not rescaled when the running maximum grows: "
         "multiply both by exp(m − m') before adding the new tile, as in (8.9)"),
        (lambda **k: _tiled_variant(**k, kind="rescale_sum_only"),
         "the running sum is rescaled but the numerator is not: both were accumulated "
         "relative to the old maximum, so both get the factor exp(m − m') of (8.9)"),
        (lambda **k: _tiled_variant(**k, kind="tile_average"),
         "each tile is normalised on its own and the tiles are averaged: the softmax normalises "
         "over all keys at once, so keep the unnormalised numerator and sum, and divide once at "
         "the end"),
    ]
    hint = diagnose_mistake(tiled_attention, cases[3], mistakes, "") or \
        _non_finite_hint(tiled_attention, cases[-1],
                         "your output has NaN or inf when the scores are large: exp of a score "
                         "in the hundreds overflows; keep the running maximum m of (8.9) and "
                         "take exp(e − m), never exp(e)") or \
        ("follow (8.9) tile by tile: the scores of the tile, the new running maximum, the "
         "factor exp(m − m') for what was accumulated, then add the tile's exponentials and "
         "their weighted values; divide the numerator by the sum after the last tile")
    return run_check("08-tiled-attention", "Attention, tile by tile", tiled_attention,
                     reference_tiled_attention, cases, ["out"], hint=hint, atol=1e-8, rtol=1e-6)


# -- 08-bpe-bigram ----------------------------------------------------------------------------

#: The tokenisations the experiment compares: the characters and three numbers of merges,
#: learned on the training part (the first 90 %) of *Macbeth*; the bigram model's counts are
#: smoothed by ``alpha``.
BIGRAM_EXPERIMENT = {"choices": (0, 32, 128, 512), "alpha": 0.1, "text": "macbeth"}


def _bigram_tokenizers():
    """The experiment's tokenizers, learned once per process."""
    cached = getattr(_bigram_tokenizers, "cached", None)
    if cached is None:
        from ..data import load_text
        from ..numpy.language_model import HELD_OUT_FRACTION

        text = load_text(BIGRAM_EXPERIMENT["text"])
        split = int(round(len(text) * (1 - HELD_OUT_FRACTION)))
        full = _learn_bpe(text[:split], max(BIGRAM_EXPERIMENT["choices"]))
        cached = (text[:split], text[split:], full)
        _bigram_tokenizers.cached = cached
    return cached


def bigram_experiment(num_merges):
    """The held-out loss of a bigram model (counts of adjacent tokens in the training part of
    *Macbeth*, add-``alpha`` smoothed) on the tokens of ``num_merges`` byte-pair merges: returns
    ``(nats per token, nats per character)`` on the last 10 % of the play (a second or two)."""
    if num_merges not in BIGRAM_EXPERIMENT["choices"]:
        raise ValueError(f"expected one of {BIGRAM_EXPERIMENT['choices']}, got {num_merges!r}")
    train, held_out, full = _bigram_tokenizers()
    tokenizer = full.truncated(int(num_merges))
    V = len(tokenizer)
    ids, test = tokenizer.encode(train), tokenizer.encode(held_out)
    counts = np.bincount(ids[:-1] * V + ids[1:], minlength=V * V).reshape(V, V)
    counts = counts + BIGRAM_EXPERIMENT["alpha"]
    log_p = np.log(counts / counts.sum(axis=1, keepdims=True))
    nats = -log_p[test[:-1], test[1:]].sum()
    return nats / (len(test) - 1), nats / tokenizer.lengths[test[1:]].sum()


def _measure_bigram(choice):
    choices = BIGRAM_EXPERIMENT["choices"]
    if isinstance(choice, bool) or not isinstance(choice, (int, np.integer)) \
            or int(choice) not in choices:
        raise ValueError(f"choose one of {', '.join(map(str, choices))}")
    results = {m: bigram_experiment(m) for m in choices}
    per_token, per_char = results[int(choice)]
    best = min(choices, key=lambda m: results[m][1])
    score = int(per_char < results[0][1]) + int(int(choice) == best)
    lines = [f"{int(choice)} merges: {per_token:.3f} nats per token, {per_char:.3f} nats per "
             f"character",
             f"characters (0 merges): {results[0][0]:.3f} nats per token = per character"]
    if int(choice) == best:
        lines.append("the lowest loss per character of the four tokenisations")
    else:
        lines.append("another of the four tokenisations has a lower loss per character: "
                     "compare them per character, (8.8), since their tokens cover different "
                     "numbers of characters")
    return score, lines


@register("08-bpe-bigram", kind="experiment", points=2,
          summary="a bigram model on the tokens of 0, 32, 128 or 512 byte-pair merges of "
                  "Macbeth: a point when the chosen tokenisation's held-out loss per character "
                  "is below the characters', another when it is the lowest of the four")
def check_bpe_bigram(choose_num_merges):
    """Check ``choose_num_merges() -> 0 | 32 | 128 | 512``."""
    return check_experiment("08-bpe-bigram", "Which tokens for a bigram model", choose_num_merges,
                            _measure_bigram, max_score=2)


# -- 08-efficient-attention-concepts ----------------------------------------------------------

_EFFICIENT_QUESTIONS = [
    {"key": "vocabulary_size", "answer": 267,
     "explain": {200: "the characters stay in the vocabulary: every merge adds one token to them",
                 400: "a merge adds one token (the pair's); its two parts stay, since other "
                      "occurrences may still use them",
                 133: "a merge adds a token; it does not remove any"},
     "hint": "how many tokens does each merge add to the characters?"},
    {"key": "loss_per_character", "answer": 2.0, "tolerance": 1e-3,
     "explain": {3.2: "that is the loss per token; a token here covers 8000/5000 characters",
                 5.12: "the total is 3.2 · 5000 nats, spread over 8000 characters: divide, "
                       "don't multiply"},
     "hint": "the total loss of the text is the loss per token times the number of tokens; "
             "(8.8) divides it by the number of characters"},
    {"key": "tiled_numbers_per_query", "answer": 1,
     "explain": {0: "the backward pass needs each row's normaliser to recompute the weights: "
                    "the log-sum-exp L_i",
                 2: "m_i and λ_i are combined into one number, the log-sum-exp m_i + log λ_i",
                 1000: "that is a row of weights, which tiled attention never keeps"},
     "hint": "what does the backward pass of tiled attention recompute the weights from?"},
    {"key": "linear_state_numbers", "answer": 272,
     "explain": {256: "the normaliser n_t (16 numbers) is part of the state too",
                 16: "S_t is a d_k × d_v matrix",
                 32: "S_t is a d_k × d_v matrix, not a vector"},
     "hint": "the state of (8.11) is S_t and n_t: count their entries"},
    {"key": "exact", "answer": "tiled",
     "explain": {"linear": "linear attention replaces exp(q·k/√d_k) by φ(q)·φ(k): another "
                           "function, not softmax attention",
                 "performer": "the random features estimate exp(q·k/√d_k) with an error that "
                              "shrinks only as the number of features grows"},
     "hint": "one of 'tiled', 'linear', 'performer'"},
    {"key": "linear_cost_ratio", "answer": 2,
     "explain": {4: "that is softmax attention's T² scores; linear attention forms no T × T "
                    "array",
                 1: "each of the T positions costs the same: the work grows with T"},
     "hint": "how does the work of (8.10) depend on T?"},
    {"key": "cache_growth", "answer": "linear",
     "explain": {"constant": "that is linear attention's state: softmax attention must keep "
                             "every past key and value to attend to them",
                 "quadratic": "the cache keeps one key and one value per past token"},
     "hint": "one of 'constant', 'linear', 'quadratic'"},
    {"key": "recurrent_state_growth", "answer": "constant",
     "explain": {"linear": "S_t and n_t have the same size at every step, whatever t",
                 "quadratic": "S_t and n_t have the same size at every step, whatever t"},
     "hint": "one of 'constant', 'linear', 'quadratic'"},
]

_EFFICIENT_TITLE = "Tokens, memory and cost"


@register("08-efficient-attention-concepts", kind="concept", points=len(_EFFICIENT_QUESTIONS),
          summary="the vocabulary after 200 merges of 67 characters; a loss per token as a loss "
                  "per character; what tiled attention keeps per query; the size of a linear "
                  "attention state; which method is exact; linear attention's cost as T "
                  "doubles; how a key-value cache and a linear-attention state grow with T")
def check_efficient_attention_concepts(answers):
    """Check ``answers() -> dict`` of the eight answers (see ``_EFFICIENT_QUESTIONS``)."""
    refused = screen("08-efficient-attention-concepts", _EFFICIENT_TITLE, answers,
                     len(_EFFICIENT_QUESTIONS))
    if refused:
        return refused

    def plain_answers():
        given = answers()
        return {k: plain(v) for k, v in given.items()} if isinstance(given, dict) else given

    with reference_allowed():
        return check_concept("08-efficient-attention-concepts", _EFFICIENT_TITLE, plain_answers,
                             _EFFICIENT_QUESTIONS)


__all__ = ["BIGRAM_EXPERIMENT", "POSITIONS_EXPERIMENT", "bigram_experiment",
           "check_attention_backward", "check_attention_concepts", "check_bpe_bigram",
           "check_bpe_merge", "check_causal_mask", "check_efficient_attention_concepts",
           "check_multi_head_attention", "check_positional_encoding",
           "check_scaled_dot_product_attention", "check_task_without_positions",
           "check_tiled_attention", "positions_experiment", "reference_attention_backward",
           "reference_causal_mask", "reference_merge_pair", "reference_multi_head_attention",
           "reference_positional_encoding", "reference_scaled_dot_product_attention",
           "reference_tiled_attention"]
