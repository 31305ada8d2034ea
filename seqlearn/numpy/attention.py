"""Attention: pooling, additive (Bahdanau) and scaled dot-product / multi-head attention, with
hand-derived backward passes.

Row-vector, batch-first convention. Every attention mechanism here has the same three steps:
scores e between a query and each of N keys, weights a = softmax(e) over the keys, and an output
that is the weighted average Σ_j a_j v_j of the values::

    attention pooling (Ilse et al. 2018)   e_i = w · tanh(x_i V)        x_i (D,), V (D, A), w (A,)
                                           h = Σ_i a_i x_i              one vector per bag
    additive (Bahdanau et al. 2015)        e_tj = v · tanh(q_t W_q + k_j W_k)
                                           c_t = Σ_j a_tj v_j
    scaled dot-product (Vaswani et al. 2017)
                                           S = q kᵀ · scale, A = softmax(S) (by rows), out = A v
                                           scale = 1/√d by default, 1 gives Luong's dot score
    multi-head (Vaswani et al. 2017)       Q = query W_q + b_q,  K = key W_k + b_k,
                                           V = value W_v + b_v,
                                           head h uses columns h·d_k:(h+1)·d_k (d_k = D/num_heads),
                                           out = concat(head_1 .. head_H) W_o + b_o

**Masks** are boolean arrays, ``True`` = may attend (a real token, an allowed position), the
convention of ``torch.nn.functional.scaled_dot_product_attention``: :func:`causal_mask` for a
decoder, ``seqlearn.numpy.common.padding_mask(lengths, T)`` for padded keys, checked by
``seqlearn.numpy.common.check_mask``. A masked score is set to −∞ before the softmax, so its
weight is exactly 0. A row in which no key may be attended to has no softmax (0/0) and is refused
with a ``ValueError``. ``nn.MultiheadAttention`` reads boolean masks the other way round
(True = blocked): pass ``~mask`` to it.

**Softmax backward.** With A = softmax(S) row by row and dA = ∂L/∂A,
∂L/∂S = A ⊙ (dA − Σ_j dA ⊙ A). For A v attention the row sum Σ_j dA_ij A_ij equals
dout_i · out_i (because dA = dout vᵀ and out = A v), a (Tq,) vector that is cheaper to compute than
the (Tq, Tk) product; :func:`scaled_dot_product_attention_backward` uses that identity.

The computations keep the dtype of the inputs (float64 by default; float32 runs faster), and the
batched products use ``@`` on stacked (batch, head) arrays so that BLAS does the work.
"""

import numpy as np

from ..validate import as_float_array, as_generator, check_positive_int
from .common import check_mask, check_param_dict


# --------------------------------------------------------------------------------- masks
def causal_mask(T):
    """The (T, T) boolean mask of a decoder: ``mask[t, s] = s ≤ t`` (position t sees 0..t)."""
    T = check_positive_int("T", T)
    return np.tri(T, T, dtype=bool)


def _masked_softmax_(scores, mask):
    """Softmax over the last axis of ``scores``, in place; masked entries (mask False) get
    weight exactly 0. Returns ``scores``."""
    if mask is not None:
        # Adding a 0/−∞ bias of the mask's own (often smaller, broadcast) shape is cheaper than
        # a masked assignment over all the scores.
        scores += np.where(mask, scores.dtype.type(0), scores.dtype.type(-np.inf))
    scores -= scores.max(axis=-1, keepdims=True)
    np.exp(scores, out=scores)
    scores *= 1.0 / scores.sum(axis=-1, keepdims=True)
    return scores


def _softmax_backward(dweights, weights):
    """∂L/∂e = a ⊙ (da − Σ_j da_j a_j) for a = softmax(e) over the last axis."""
    return weights * (dweights - (dweights * weights).sum(axis=-1, keepdims=True))


def _cast(dtype, *arrays):
    return tuple(a.astype(dtype, copy=False) for a in arrays)


# ------------------------------------------------------------------------- attention pooling
def init_attention_pooling_params(input_size, attention_size, rng=None):
    """Parameters ``V`` (D, A) ~ U(-1/√D, 1/√D) and ``w`` (A,) ~ U(-1/√A, 1/√A)."""
    rng = as_generator(rng)
    D = check_positive_int("input_size", input_size)
    A = check_positive_int("attention_size", attention_size)
    return {"V": rng.uniform(-1 / np.sqrt(D), 1 / np.sqrt(D), size=(D, A)),
            "w": rng.uniform(-1 / np.sqrt(A), 1 / np.sqrt(A), size=A)}


def attention_pooling_forward(X, params, mask=None):
    """Attention-based pooling of a bag of N instances into one vector (Ilse et al. 2018)::

        e_i = tanh(x_i V) w          scores (B, N)
        a   = softmax_i(e)           masked instances get weight 0
        h   = Σ_i a_i x_i            (B, D)

    Parameters
    ----------
    X : (B, N, D) instances x_i of B bags
    params : dict with ``V`` (D, A) and ``w`` (A,)
    mask : optional (B, N) bool, True for real instances (padding of bags of different sizes)

    Returns ``h`` (B, D), ``weights`` a (B, N) and the cache of
    :func:`attention_pooling_backward`.
    """
    check_param_dict(params, ("V", "w"))
    V = as_float_array("params['V']", params["V"], ndim=2)
    D, A = V.shape
    w = as_float_array("params['w']", params["w"], shape=(A,))
    X = as_float_array("X", X, shape=(None, None, D))
    B, N, _ = X.shape
    mask = check_mask(mask, (B, N))
    V, w = _cast(X.dtype, V, w)
    Z = np.tanh(X @ V)                                   # (B, N, A)
    weights = _masked_softmax_(Z @ w, mask)              # (B, N)
    h = (weights[:, None, :] @ X)[:, 0, :]               # (B, D)
    cache = {"X": X, "Z": Z, "weights": weights, "V": V, "w": w}
    return h, weights, cache


def attention_pooling_backward(dh, cache):
    """Backward pass of :func:`attention_pooling_forward`.

    With dh = ∂L/∂h (B, D)::

        da_i = dh · x_i,   de = a ⊙ (da − Σ_i a_i da_i)
        dP = (de w) ⊙ (1 − Z²)       P = X V, Z = tanh(P)
        ∂L/∂x_i = a_i dh + dP_i Vᵀ,  ∂L/∂V = Σ Xᵀ dP,  ∂L/∂w = Σ_i de_i Z_i

    Returns ``dX`` (B, N, D) and ``{"V": (D, A), "w": (A,)}``.
    """
    X, Z, a, V, w = (cache[k] for k in ("X", "Z", "weights", "V", "w"))
    B, N, D = X.shape
    A = V.shape[1]
    dh = as_float_array("dh", dh, shape=(B, D)).astype(X.dtype, copy=False)
    da = (X @ dh[:, :, None])[:, :, 0]                   # (B, N)
    de = _softmax_backward(da, a)
    dP = de[:, :, None] * w
    dP *= 1.0 - Z * Z
    dX = a[:, :, None] * dh[:, None, :]
    dX += dP @ V.T
    grads = {"V": X.reshape(B * N, D).T @ dP.reshape(B * N, A),
             "w": de.reshape(B * N) @ Z.reshape(B * N, A)}
    return dX, grads


# ---------------------------------------------------------------------- additive attention
def init_additive_attention_params(query_size, key_size, attention_size, rng=None):
    """Parameters ``W_q`` (Dq, A) ~ U(±1/√Dq), ``W_k`` (Dk, A) ~ U(±1/√Dk) and
    ``v`` (A,) ~ U(±1/√A)."""
    rng = as_generator(rng)
    Dq = check_positive_int("query_size", query_size)
    Dk = check_positive_int("key_size", key_size)
    A = check_positive_int("attention_size", attention_size)
    return {"W_q": rng.uniform(-1 / np.sqrt(Dq), 1 / np.sqrt(Dq), size=(Dq, A)),
            "W_k": rng.uniform(-1 / np.sqrt(Dk), 1 / np.sqrt(Dk), size=(Dk, A)),
            "v": rng.uniform(-1 / np.sqrt(A), 1 / np.sqrt(A), size=A)}


def additive_attention_forward(query, keys, values, params, mask=None):
    """Additive attention of Bahdanau et al. (2015)::

        e_tj = v · tanh(q_t W_q + k_j W_k)     scores (B, Tq, N)
        a_t  = softmax_j(e_t)                  masked keys get weight 0
        c_t  = Σ_j a_tj v_j                    context (B, Tq, Dv)

    Parameters
    ----------
    query : (B, Tq, Dq), e.g. the decoder states
    keys : (B, N, Dk), e.g. the encoder states
    values : (B, N, Dv) (often the keys themselves)
    params : dict with ``W_q`` (Dq, A), ``W_k`` (Dk, A), ``v`` (A,)
    mask : optional bool, (B, N) (padding of the keys, the same for every query) or broadcastable
        to (B, Tq, N); True = may attend

    Returns ``context`` (B, Tq, Dv), ``weights`` (B, Tq, N) and the cache of
    :func:`additive_attention_backward`.
    """
    check_param_dict(params, ("W_q", "W_k", "v"))
    W_q = as_float_array("params['W_q']", params["W_q"], ndim=2)
    Dq, A = W_q.shape
    W_k = as_float_array("params['W_k']", params["W_k"], shape=(None, A))
    v = as_float_array("params['v']", params["v"], shape=(A,))
    Dk = W_k.shape[0]
    query = as_float_array("query", query, shape=(None, None, Dq))
    B, Tq, _ = query.shape
    keys = as_float_array("keys", keys, shape=(B, None, Dk))
    N = keys.shape[1]
    values = as_float_array("values", values, shape=(B, N, None))
    if mask is not None:
        if np.ndim(mask) == 2:       # (B, N): the same keys for every query
            mask = check_mask(mask, (B, N))[:, None, :]
        else:
            mask = check_mask(mask, (B, Tq, N))
    dtype = np.result_type(query.dtype, keys.dtype, values.dtype)
    query, keys, values, W_q, W_k, v = _cast(dtype, query, keys, values, W_q, W_k, v)
    # (B, Tq, 1, A) + (B, 1, N, A): every query against every key.
    Z = (query @ W_q)[:, :, None, :] + (keys @ W_k)[:, None, :, :]
    np.tanh(Z, out=Z)
    weights = _masked_softmax_(Z @ v, mask)              # (B, Tq, N)
    context = weights @ values
    cache = {"query": query, "keys": keys, "values": values, "Z": Z, "weights": weights,
             "W_q": W_q, "W_k": W_k, "v": v}
    return context, weights, cache


def additive_attention_backward(dcontext, cache):
    """Backward pass of :func:`additive_attention_forward`.

    With dC = ∂L/∂context (B, Tq, Dv), a the weights and Z = tanh(q W_q + k W_k) (B, Tq, N, A)::

        ∂L/∂values = aᵀ dC,   da = dC valuesᵀ,   de = a ⊙ (da − Σ_j a_j da_j)
        dP = (de v) ⊙ (1 − Z²)
        ∂L/∂query = (Σ_j dP) W_qᵀ,   ∂L/∂keys = (Σ_t dP) W_kᵀ
        ∂L/∂W_q = Σ queryᵀ Σ_j dP,   ∂L/∂W_k = Σ keysᵀ Σ_t dP,   ∂L/∂v = Σ de Z

    Returns ``dquery`` (B, Tq, Dq), ``dkeys`` (B, N, Dk), ``dvalues`` (B, N, Dv) and
    ``{"W_q", "W_k", "v"}``.
    """
    query, keys, values, Z, a, W_q, W_k, v = (
        cache[k] for k in ("query", "keys", "values", "Z", "weights", "W_q", "W_k", "v"))
    B, Tq, N, A = Z.shape
    Dv = values.shape[2]
    dC = as_float_array("dcontext", dcontext, shape=(B, Tq, Dv)).astype(a.dtype, copy=False)
    dvalues = a.transpose(0, 2, 1) @ dC
    da = dC @ values.transpose(0, 2, 1)
    de = _softmax_backward(da, a)                        # (B, Tq, N)
    dP = de[..., None] * v
    dP *= 1.0 - Z * Z                                    # (B, Tq, N, A)
    dq_proj = dP.sum(axis=2)                             # (B, Tq, A)
    dk_proj = dP.sum(axis=1)                             # (B, N, A)
    grads = {"W_q": query.reshape(-1, query.shape[2]).T @ dq_proj.reshape(-1, A),
             "W_k": keys.reshape(-1, keys.shape[2]).T @ dk_proj.reshape(-1, A),
             "v": de.reshape(-1) @ Z.reshape(-1, A)}
    return dq_proj @ W_q.T, dk_proj @ W_k.T, dvalues, grads


# ---------------------------------------------------------------- scaled dot-product attention
def scaled_dot_product_attention_forward(q, k, v, mask=None, scale=None):
    """Scaled dot-product attention (Vaswani et al. 2017)::

        S = q kᵀ · scale          (..., Tq, Tk)
        A = softmax(S)            row by row; where mask is False, S = −∞ and A = 0
        out = A v                 (..., Tq, dv)

    Parameters
    ----------
    q : (..., Tq, d) queries
    k : (..., Tk, d) keys
    v : (..., Tk, dv) values; the leading dimensions (batch, heads, ...) of q, k, v are equal
    mask : optional bool broadcastable to (..., Tq, Tk), True = may attend
        (:func:`causal_mask` (Tq, Tk), ``padding_mask(lengths, Tk)[:, None, :]`` (B, 1, Tk), ...)
    scale : the factor of the scores, 1/√d by default; ``scale=1.0`` gives the plain dot-product
        score of Luong et al. (2015)

    Returns ``out`` (..., Tq, dv), ``weights`` A (..., Tq, Tk) and the cache of
    :func:`scaled_dot_product_attention_backward` (``weights`` is the array the cache holds: do
    not modify it in place before the backward pass).
    """
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
    d = q.shape[-1]
    if scale is None:
        scale = 1.0 / np.sqrt(d)
    elif isinstance(scale, bool) or not np.isscalar(scale) or not np.isfinite(scale) or scale <= 0:
        raise ValueError(f"scale: expected a positive number (default 1/sqrt(d)), got {scale!r}")
    mask = check_mask(mask, q.shape[:-1] + (k.shape[-2],))
    dtype = np.result_type(q.dtype, k.dtype, v.dtype)
    q, k, v = _cast(dtype, q, k, v)
    q_scaled = q * dtype.type(scale)     # scaling q (Tq, d) is cheaper than scaling S (Tq, Tk)
    weights = _masked_softmax_(q_scaled @ k.swapaxes(-1, -2), mask)
    out = weights @ v
    cache = {"q_scaled": q_scaled, "k": k, "v": v, "weights": weights, "out": out,
             "scale": float(scale)}
    return out, weights, cache


def scaled_dot_product_attention_backward(dout, cache):
    """Backward pass of :func:`scaled_dot_product_attention_forward`.

    With dO = ∂L/∂out (..., Tq, dv)::

        ∂L/∂v = Aᵀ dO,   dA = dO vᵀ
        dS = A ⊙ (dA − Σ_j dA ⊙ A),   where Σ_j dA_ij A_ij = dO_i · out_i
        ∂L/∂q = scale · dS k,   ∂L/∂k = scale · dSᵀ q

    Masked positions have A = 0 and so receive no gradient. Returns ``(dq, dk, dv)``.
    """
    q_scaled, k, v, A, out, scale = (cache[name] for name in
                                     ("q_scaled", "k", "v", "weights", "out", "scale"))
    dout = as_float_array("dout", dout, shape=out.shape).astype(out.dtype, copy=False)
    dv = A.swapaxes(-1, -2) @ dout
    dS = dout @ v.swapaxes(-1, -2)
    row = (dout * out).sum(axis=-1, keepdims=True)
    dS -= row
    dS *= A
    dq = dS @ k
    dq *= scale
    dk = dS.swapaxes(-1, -2) @ q_scaled          # = scale · dSᵀ q
    return dq, dk, dv


# ---------------------------------------------------------------------- multi-head attention
MHA_PARAM_NAMES = ("W_q", "W_k", "W_v", "W_o", "b_q", "b_k", "b_v", "b_o")


def init_multi_head_attention_params(d_model, num_heads, rng=None):
    """Parameters of :func:`multi_head_attention_forward`: ``W_q``, ``W_k``, ``W_v``, ``W_o``
    (D, D) ~ U(−√(6/2D), √(6/2D)) (Xavier/Glorot uniform) and zero biases ``b_q``, ``b_k``,
    ``b_v``, ``b_o`` (D,). ``d_model`` must be divisible by ``num_heads``."""
    rng = as_generator(rng)
    D = check_positive_int("d_model", d_model)
    _head_size(D, num_heads)
    s = np.sqrt(6.0 / (D + D))
    params = {name: rng.uniform(-s, s, size=(D, D)) for name in ("W_q", "W_k", "W_v", "W_o")}
    params.update({name: np.zeros(D) for name in ("b_q", "b_k", "b_v", "b_o")})
    return params


def _head_size(D, num_heads):
    num_heads = check_positive_int("num_heads", num_heads)
    if D % num_heads:
        raise ValueError(
            f"num_heads: d_model={D} must be divisible by num_heads, got num_heads={num_heads}")
    return D // num_heads


def _check_mha_params(params):
    check_param_dict(params, MHA_PARAM_NAMES)
    W_q = as_float_array("params['W_q']", params["W_q"], ndim=2)
    D = W_q.shape[0]
    out = {}
    for name in MHA_PARAM_NAMES:
        shape = (D, D) if name.startswith("W") else (D,)
        out[name] = as_float_array(f"params['{name}']", params[name], shape=shape)
    return out


def multi_head_attention_forward(query, key, value, params, num_heads, mask=None):
    """Multi-head attention (Vaswani et al. 2017), row-vector convention::

        Q = query W_q + b_q,  K = key W_k + b_k,  V = value W_v + b_v          (B, T·, D)
        head_h = attention(Q[..., h], K[..., h], V[..., h])   columns h·d_k:(h+1)·d_k, d_k = D/H
        out = concat(head_1, .., head_H) W_o + b_o                             (B, Tq, D)

    where attention is :func:`scaled_dot_product_attention_forward` with scale 1/√d_k.

    Parameters
    ----------
    query : (B, Tq, D)
    key, value : (B, Tk, D) (all three the same array for self-attention)
    params : dict with ``W_q``, ``W_k``, ``W_v``, ``W_o`` (D, D) and ``b_q``, ``b_k``, ``b_v``,
        ``b_o`` (D,)
    num_heads : H, a divisor of D
    mask : optional bool broadcastable to (B, H, Tq, Tk), True = may attend: :func:`causal_mask`
        (Tq, Tk), ``padding_mask(lengths, Tk)[:, None, None, :]`` (B, 1, 1, Tk), ...

    Returns ``out`` (B, Tq, D), ``weights`` (B, H, Tq, Tk) and the cache of
    :func:`multi_head_attention_backward`.
    """
    p = _check_mha_params(params)
    D = p["W_q"].shape[0]
    dk = _head_size(D, num_heads)
    H = D // dk
    query = as_float_array("query", query, shape=(None, None, D))
    B, Tq, _ = query.shape
    key = as_float_array("key", key, shape=(B, None, D))
    Tk = key.shape[1]
    value = as_float_array("value", value, shape=(B, Tk, D))
    mask = check_mask(mask, (B, H, Tq, Tk))
    dtype = np.result_type(query.dtype, key.dtype, value.dtype)
    query, key, value = _cast(dtype, query, key, value)
    p = {k: v.astype(dtype, copy=False) for k, v in p.items()}

    def split_heads(x, W, b):            # (B, T, D) -> (B, H, T, dk)
        y = x @ W
        y += b
        return y.reshape(B, -1, H, dk).transpose(0, 2, 1, 3)

    Qh = split_heads(query, p["W_q"], p["b_q"])
    Kh = split_heads(key, p["W_k"], p["b_k"])
    Vh = split_heads(value, p["W_v"], p["b_v"])
    heads, weights, core = scaled_dot_product_attention_forward(Qh, Kh, Vh, mask=mask)
    concat = heads.transpose(0, 2, 1, 3).reshape(B, Tq, D)
    out = concat @ p["W_o"]
    out += p["b_o"]
    cache = {"query": query, "key": key, "value": value, "concat": concat, "core": core,
             "params": p, "num_heads": H}
    return out, weights, cache


def multi_head_attention_backward(dout, cache):
    """Backward pass of :func:`multi_head_attention_forward`.

    With dY = ∂L/∂out (B, Tq, D): ∂L/∂W_o = Σ concatᵀ dY, ∂L/∂b_o = Σ dY, d concat = dY W_oᵀ is
    split into heads and sent through :func:`scaled_dot_product_attention_backward`, giving dQ,
    dK, dV (merged back to (B, T·, D)); then ∂L/∂query = dQ W_qᵀ, ∂L/∂W_q = Σ queryᵀ dQ,
    ∂L/∂b_q = Σ dQ, and the same for key and value.

    Returns ``dquery`` (B, Tq, D), ``dkey``, ``dvalue`` (B, Tk, D) and a dict of the 8 parameter
    gradients. For self-attention (query, key and value the same x), ∂L/∂x is the sum of the three.
    """
    p, concat, H = cache["params"], cache["concat"], cache["num_heads"]
    query, key, value = cache["query"], cache["key"], cache["value"]
    B, Tq, D = query.shape
    dk = D // H
    dY = as_float_array("dout", dout, shape=(B, Tq, D)).astype(concat.dtype, copy=False)
    dY2 = dY.reshape(B * Tq, D)
    grads = {"W_o": concat.reshape(B * Tq, D).T @ dY2, "b_o": dY2.sum(axis=0)}
    dheads = (dY @ p["W_o"].T).reshape(B, Tq, H, dk).transpose(0, 2, 1, 3)
    dQh, dKh, dVh = scaled_dot_product_attention_backward(dheads, cache["core"])
    dinputs = []
    for x, dxh, s in ((query, dQh, "q"), (key, dKh, "k"), (value, dVh, "v")):
        T = x.shape[1]
        dproj = dxh.transpose(0, 2, 1, 3).reshape(B * T, D)
        grads["W_" + s] = x.reshape(B * T, D).T @ dproj
        grads["b_" + s] = dproj.sum(axis=0)
        dinputs.append((dproj @ p["W_" + s].T).reshape(B, T, D))
    grads = {name: grads[name] for name in MHA_PARAM_NAMES}
    return dinputs[0], dinputs[1], dinputs[2], grads


__all__ = ["MHA_PARAM_NAMES", "additive_attention_backward", "additive_attention_forward",
           "attention_pooling_backward", "attention_pooling_forward", "causal_mask",
           "init_additive_attention_params", "init_attention_pooling_params",
           "init_multi_head_attention_params", "multi_head_attention_backward",
           "multi_head_attention_forward", "scaled_dot_product_attention_backward",
           "scaled_dot_product_attention_forward"]
