"""Checks for the exercises of chapter 8, *Transformers*: scaled dot-product attention, the causal
mask, the sinusoidal positional encoding and one forward pass of multi-head attention.

The references are the package's own ``seqlearn.numpy.attention`` and
``seqlearn.numpy.transformer``. When an answer is wrong, the check compares it with what typical
mistakes give (the 1/√d_k scale forgotten or replaced by 1/d_k, softmax over the queries instead
of the keys, the mask inverted, the upper triangle, sin and cos swapped, heads split by a reshape
without a transpose, the output projection forgotten, ...) and names the mistake it recognises.
"""

import numpy as np

from ..numpy.attention import causal_mask as _causal_mask
from ..numpy.attention import multi_head_attention_forward as _mha_forward
from ..numpy.attention import scaled_dot_product_attention_forward as _sdpa_forward
from ..numpy.transformer import sinusoidal_positional_encoding as _positional_encoding
from .core import diagnose_mistake, fresh_rng, register, run_check


def _softmax(scores, axis=-1):
    # Not seqlearn.numpy.softmax.softmax, which refuses the −∞ of masked scores.
    with np.errstate(invalid="ignore"):      # a wrong mask may leave a row with no key
        e = np.exp(scores - scores.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)


# -- 08-scaled-dot-product-attention ----------------------------------------------------------

def reference_scaled_dot_product_attention(Q, K, V, mask=None):
    """softmax(Q Kᵀ/√d_k, masked where mask is False) V: returns ``(out, weights)``."""
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


def _sdpa_cases(rng):
    cases = []
    # (leading dims, Tq, Tk, d, dv, mask shape or None)
    for lead, Tq, Tk, d, dv, mask in [((2,), 3, 3, 4, 4, None),
                                      ((3,), 4, 6, 8, 5, "full"),
                                      ((2,), 5, 7, 16, 3, "pattern"),
                                      ((2, 3), 4, 4, 32, 6, "causal")]:
        case = {"Q": rng.normal(size=lead + (Tq, d)), "K": rng.normal(size=lead + (Tk, d)),
                "V": rng.normal(size=lead + (Tk, dv))}
        if mask == "full":
            case["mask"] = _random_mask(rng, lead + (Tq, Tk))
        elif mask == "pattern":
            # every row has keys on both sides of the mask and every column an allowed query:
            # the mask inverted or applied over the wrong axis still gives finite numbers
            i, j = np.arange(Tq)[:, None], np.arange(Tk)[None, :]
            case["mask"] = np.broadcast_to((i + j) % 3 != 0, lead + (Tq, Tk)).copy()
        elif mask == "causal":
            case["mask"] = np.tri(Tq, Tk, dtype=bool)
        else:
            case["mask"] = None
        cases.append(case)
    return cases


@register("08-scaled-dot-product-attention")
def check_scaled_dot_product_attention(scaled_dot_product_attention):
    """Check ``scaled_dot_product_attention(Q, K, V, mask=None) -> (out, weights)``."""
    cases = _sdpa_cases(fresh_rng())
    mistakes = [
        (lambda **k: _sdpa_variant(**k, scale="none"),
         "the scores are not scaled: divide Q Kᵀ by √d_k (d_k = Q.shape[-1]) before the softmax"),
        (lambda **k: _sdpa_variant(**k, scale="d"),
         "the scores are divided by d_k; the scale is 1/√d_k (np.sqrt(d_k))"),
        (lambda **k: _sdpa_variant(**k, scale="times_sqrt"),
         "the scores are multiplied by √d_k; divide by it"),
        (lambda **k: _sdpa_variant(**k, axis=-2),
         "the softmax runs over the queries (axis -2); each query's weights over the keys "
         "must sum to 1: softmax over the last axis"),
        (lambda **k: _sdpa_variant(**k, mask_mode="inverted"),
         "the mask is inverted: True means 'may attend'; set the scores to −∞ where mask is False"),
        (lambda **k: _sdpa_variant(**k, mask_mode="ignored"),
         "the mask is ignored: set the scores to −∞ where mask is False, before the softmax"),
        (lambda **k: _sdpa_variant(**k, mask_mode="after"),
         "the weights are masked after the softmax, so the remaining ones no longer sum to 1; "
         "mask the scores (−∞) before the softmax instead"),
    ]
    hint = diagnose_mistake(scaled_dot_product_attention, cases[2], mistakes,
                     "scores = Q @ K.swapaxes(-1, -2) / np.sqrt(d_k); where mask is False set "
                     "scores to -np.inf; weights = softmax over the last axis; out = weights @ V")
    return run_check("08-scaled-dot-product-attention", "Scaled dot-product attention",
                     scaled_dot_product_attention, reference_scaled_dot_product_attention, cases,
                     ["out", "weights"], hint=hint)


# -- 08-causal-mask ---------------------------------------------------------------------------

def reference_causal_mask(T):
    """The (T, T) bool mask with ``mask[t, s] = s ≤ t`` (True = may attend)."""
    return _causal_mask(T)


def _causal_mask_variant(T, kind):
    lower = np.tri(T, T, dtype=bool)
    return {"upper": lower.T, "strict": np.tri(T, T, k=-1, dtype=bool), "inverted": ~lower,
            "additive": np.where(lower, 0.0, -np.inf)}[kind]


class _NotBoolean(TypeError):
    pass


def _require_bool(causal_mask):
    """The student's function, made to fail clearly when its mask is not boolean."""

    def wrapped(T):
        mask = causal_mask(T)
        dtype = getattr(mask, "dtype", None)
        if dtype is None:            # a nested list: judge the array it makes
            try:
                dtype = np.asarray(mask).dtype
            except (TypeError, ValueError):
                return mask          # not array-like; the comparison reports it
        if str(dtype) in ("bool", "torch.bool"):
            return mask
        if dtype != object and np.all(np.isin(np.asarray(mask, dtype=float), (0.0, 1.0))):
            raise _NotBoolean(
                f"the mask has dtype {dtype}; return a bool array (e.g. with dtype=bool or "
                f".astype(bool)) so that ~mask and np.where(mask, ...) work")
        return mask

    return wrapped


@register("08-causal-mask")
def check_causal_mask(causal_mask):
    """Check ``causal_mask(T) -> (T, T) bool``, True where position t may attend to s ≤ t."""
    rng = fresh_rng()
    cases = [{"T": T} for T in (1, 2, int(rng.integers(4, 9)), int(rng.integers(10, 40)))]
    mistakes = [
        (lambda **k: _causal_mask_variant(**k, kind="upper"),
         "this is the upper triangle: row t (the query) must allow the keys s ≤ t, the past and "
         "itself, not the future (np.tril, not np.triu)"),
        (lambda **k: _causal_mask_variant(**k, kind="strict"),
         "the diagonal is excluded: position t may attend to itself (s ≤ t, not s < t)"),
        (lambda **k: _causal_mask_variant(**k, kind="inverted"),
         "the mask is inverted: True means 'may attend', so the past and the diagonal are True"),
        (lambda **k: _causal_mask_variant(**k, kind="additive"),
         "this is an additive mask (0 and −∞); here masks are bool, True = may attend"),
    ]
    hint = diagnose_mistake(causal_mask, cases[2], mistakes,
                     "mask[t, s] is True when s <= t: np.tril(np.ones((T, T), dtype=bool))")
    return run_check("08-causal-mask", "The causal mask", _require_bool(causal_mask),
                     reference_causal_mask, cases, ["mask"], hint=hint)


# -- 08-positional-encoding -------------------------------------------------------------------

def reference_positional_encoding(T, d_model):
    """(T, D) with PE[t, 2i] = sin(t / 10000^(2i/D)), PE[t, 2i+1] = cos(t / 10000^(2i/D))."""
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


@register("08-positional-encoding")
def check_positional_encoding(positional_encoding):
    """Check ``positional_encoding(T, d_model) -> (T, d_model)``."""
    rng = fresh_rng()
    cases = [{"T": 1, "d_model": 2},
             {"T": int(rng.integers(5, 12)), "d_model": 4},
             {"T": int(rng.integers(20, 50)), "d_model": 2 * int(rng.integers(5, 16))},
             {"T": int(rng.integers(60, 200)), "d_model": 64}]
    mistakes = [
        (lambda **k: _positional_encoding_variant(**k, swap=True),
         "sin and cos are swapped: the even columns 2i hold sin, the odd columns 2i+1 cos"),
        (lambda **k: _positional_encoding_variant(**k, layout="concatenated"),
         "the sines and cosines are concatenated ([sin | cos]); they are interleaved: "
         "PE[:, 0::2] = sin, PE[:, 1::2] = cos"),
        (lambda **k: _positional_encoding_variant(**k, swap=True, layout="concatenated"),
         "the sines and cosines are concatenated ([cos | sin]); they are interleaved: "
         "PE[:, 0::2] = sin, PE[:, 1::2] = cos"),
        (lambda **k: _positional_encoding_variant(**k, exponent="i"),
         "the exponent of 10000 is i/d_model; it is 2i/d_model, with i the index of the "
         "sin/cos pair (or, equally, the even column index 2i divided by d_model)"),
        (lambda **k: _positional_encoding_variant(**k, exponent="negative"),
         "the position is multiplied by 10000^(2i/d_model); divide by it, so the frequencies "
         "fall from 1 to 1/10000"),
        (lambda **k: _positional_encoding_variant(**k, first=1),
         "the positions start at 1; they start at t = 0, so PE[0] = [0, 1, 0, 1, ...]"),
    ]
    hint = diagnose_mistake(positional_encoding, cases[2], mistakes,
                     "angles = t / 10000 ** (2i / d_model) for t = 0..T-1 and i = 0..d_model/2-1; "
                     "PE[:, 0::2] = np.sin(angles), PE[:, 1::2] = np.cos(angles)")
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
    H = num_heads if heads is None else heads
    dk = D // H

    def project(x, W, b):
        return x @ p[W] + (p[b] if biases else 0.0)

    def split_heads(x):                          # (B, T, D) -> (B, H, T, dk)
        if split == "reshape":
            return x.reshape(B, H, -1, dk)
        return x.reshape(B, -1, H, dk).transpose(0, 2, 1, 3)

    Q = split_heads(project(query, "W_q", "b_q"))
    K = split_heads(project(key, "W_k", "b_k"))
    V = split_heads(project(value, "W_v", "b_v"))
    factor = 1 / np.sqrt(dk) if scale == "head" else (1 / np.sqrt(D) if scale == "model" else 1.0)
    heads_out = _softmax(Q @ K.transpose(0, 1, 3, 2) * factor) @ V        # (B, H, Tq, dk)
    if split == "reshape":
        concat = heads_out.reshape(B, Tq, D)
    else:
        concat = heads_out.transpose(0, 2, 1, 3).reshape(B, Tq, D)
    if not project_out:
        return concat
    return concat @ p["W_o"] + (p["b_o"] if biases else 0.0)


def _mha_cases(rng):
    cases = []
    for B, Tq, Tk, D, H in [(1, 3, 3, 4, 1), (2, 4, 4, 8, 2), (3, 5, 6, 12, 3), (2, 6, 4, 16, 4)]:
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
                      "num_heads": H})
    return cases


@register("08-multi-head-attention")
def check_multi_head_attention(multi_head_attention):
    """Check ``multi_head_attention(query, key, value, params, num_heads) -> out (B, Tq, D)``."""
    cases = _mha_cases(fresh_rng())
    mistakes = [
        (lambda **k: _mha_variant(**k, split="reshape"),
         "the heads are split with a reshape to (B, H, T, d_k) alone, which mixes positions; "
         "reshape to (B, T, H, d_k) and then transpose to (B, H, T, d_k) (and back before "
         "concatenating)"),
        (lambda **k: _mha_variant(**k, project_out=False),
         "the output projection is missing: out = concat(heads) @ W_o + b_o"),
        (lambda **k: _mha_variant(**k, scale="model"),
         "the scores are scaled by 1/√d_model; each head's scale is 1/√d_k with "
         "d_k = d_model / num_heads"),
        (lambda **k: _mha_variant(**k, scale="none"),
         "the scores are not scaled: divide each head's Q Kᵀ by √d_k, d_k = d_model / num_heads"),
        (lambda **k: _mha_variant(**k, heads=1),
         "this is a single head of size d_model: split Q, K, V into num_heads heads of "
         "d_k = d_model / num_heads columns each"),
        (lambda **k: _mha_variant(**k, biases=False),
         "the biases are missing: Q = query W_q + b_q (and likewise K, V and the output)"),
    ]
    hint = diagnose_mistake(multi_head_attention, cases[2], mistakes,
                     "Q = query @ W_q + b_q (K, V likewise); split the columns into num_heads "
                     "heads: reshape (B, T, H, d_k), transpose to (B, H, T, d_k); per head "
                     "softmax(Q Kᵀ/√d_k) V; transpose back, reshape to (B, Tq, D); "
                     "out = concat @ W_o + b_o")
    return run_check("08-multi-head-attention", "Multi-head attention", multi_head_attention,
                     reference_multi_head_attention, cases, ["out"], hint=hint)


__all__ = ["check_scaled_dot_product_attention", "check_causal_mask", "check_positional_encoding",
           "check_multi_head_attention", "reference_scaled_dot_product_attention",
           "reference_causal_mask", "reference_positional_encoding",
           "reference_multi_head_attention"]
