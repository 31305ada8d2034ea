"""Attention: pooling, additive (Bahdanau) and scaled dot-product / multi-head attention, with
hand-derived backward passes.

Row-vector, batch-first convention. Every attention mechanism here has the same three steps:
scores e between a query and each of Tk keys, weights α = softmax(e) over the keys, and an output
that is the weighted average Σ_j α_j v_j of the values::

    attention pooling (Ilse et al. 2018)   e_i = tanh(x_i W_a) · w_a   x_i (D,), W_a (D, A), w_a (A,)
                                           x̄ = Σ_i α_i x_i             one vector per bag
    additive (Bahdanau et al. 2015)        e_tj = tanh(q_t W_q + k_j W_k) · w_a
                                           c_t = Σ_j α_tj v_j
    scaled dot-product (Vaswani et al. 2017)
                                           S = q kᵀ · scale, A = softmax(S) (by rows), out = A v
                                           scale = 1/√d by default, 1 gives Luong's dot score
    multi-head (Vaswani et al. 2017)       Q = query W_q + b_q,  K = key W_k + b_k,
                                           V = value W_v + b_v,
                                           head i uses columns i·d_k:(i+1)·d_k (d_k = D/h, h heads),
                                           out = concat(head_1 .. head_h) W_o + b_o

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

from ..validate import as_float_array, as_generator, check_positive_int, check_positive_number
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
    """∂L/∂e = α ⊙ (dα − Σ_j dα_j α_j) for α = softmax(e) over the last axis."""
    return weights * (dweights - (dweights * weights).sum(axis=-1, keepdims=True))


def _cast(dtype, *arrays):
    return tuple(a.astype(dtype, copy=False) for a in arrays)


# ------------------------------------------------------------------------- attention pooling
def init_attention_pooling_params(input_size, attention_size, rng=None):
    """Parameters ``W_a`` (D, A) ~ U(-1/√D, 1/√D) and ``w_a`` (A,) ~ U(-1/√A, 1/√A)."""
    rng = as_generator(rng)
    D = check_positive_int("input_size", input_size)
    A = check_positive_int("attention_size", attention_size)
    return {"W_a": rng.uniform(-1 / np.sqrt(D), 1 / np.sqrt(D), size=(D, A)),
            "w_a": rng.uniform(-1 / np.sqrt(A), 1 / np.sqrt(A), size=A)}


def attention_pooling_forward(X, params, mask=None):
    """Attention-based pooling of a bag of n instances into one vector (Ilse et al. 2018)::

        e_i = tanh(x_i W_a) w_a      scores (B, n)
        α   = softmax_i(e)           masked instances get weight 0
        x̄   = Σ_i α_i x_i            the pooled vector (B, D)

    Parameters
    ----------
    X : (B, n, D) instances x_i of B bags
    params : dict with ``W_a`` (D, A) and ``w_a`` (A,)
    mask : optional (B, n) bool, True for real instances (padding of bags of different sizes)

    Returns ``pooled`` x̄ (B, D), ``weights`` α (B, n) and the cache of
    :func:`attention_pooling_backward` (the cache keeps references to its inputs, not copies).
    """
    check_param_dict(params, ("W_a", "w_a"))
    W_a = as_float_array("params['W_a']", params["W_a"], ndim=2)
    D, A = W_a.shape
    w_a = as_float_array("params['w_a']", params["w_a"], shape=(A,))
    X = as_float_array("X", X, shape=(None, None, D))
    B, n, _ = X.shape
    mask = check_mask(mask, (B, n))
    W_a, w_a = _cast(X.dtype, W_a, w_a)
    Z = np.tanh(X @ W_a)                                 # (B, n, A)
    weights = _masked_softmax_(Z @ w_a, mask)            # (B, n)
    pooled = (weights[:, None, :] @ X)[:, 0, :]          # (B, D)
    cache = {"X": X, "Z": Z, "weights": weights, "W_a": W_a, "w_a": w_a}
    return pooled, weights, cache


def attention_pooling_backward(dpooled, cache):
    """Backward pass of :func:`attention_pooling_forward`.

    With dx̄ = ∂L/∂x̄ (B, D), the gradient of the pooled vector::

        dα_i = dx̄ · x_i,   de = α ⊙ (dα − Σ_i α_i dα_i)
        dP = (de w_a) ⊙ (1 − Z²)       P = X W_a, Z = tanh(P)
        ∂L/∂x_i = α_i dx̄ + dP_i W_aᵀ,  ∂L/∂W_a = Σ Xᵀ dP,  ∂L/∂w_a = Σ_i de_i Z_i

    Returns ``dX`` (B, n, D) and ``{"W_a": (D, A), "w_a": (A,)}``.
    """
    X, Z, alpha, W_a, w_a = (cache[k] for k in ("X", "Z", "weights", "W_a", "w_a"))
    B, n, D = X.shape
    A = W_a.shape[1]
    dpooled = as_float_array("dpooled", dpooled, shape=(B, D)).astype(X.dtype, copy=False)
    dalpha = (X @ dpooled[:, :, None])[:, :, 0]          # (B, n)
    de = _softmax_backward(dalpha, alpha)
    dP = de[:, :, None] * w_a
    dP *= 1.0 - Z * Z
    dX = alpha[:, :, None] * dpooled[:, None, :]
    dX += dP @ W_a.T
    grads = {"W_a": X.reshape(B * n, D).T @ dP.reshape(B * n, A),
             "w_a": de.reshape(B * n) @ Z.reshape(B * n, A)}
    return dX, grads


# ---------------------------------------------------------------------- additive attention
def init_additive_attention_params(query_size, key_size, attention_size, rng=None):
    """Parameters ``W_q`` (Dq, A) ~ U(±1/√Dq), ``W_k`` (Dk, A) ~ U(±1/√Dk) and
    ``w_a`` (A,) ~ U(±1/√A)."""
    rng = as_generator(rng)
    Dq = check_positive_int("query_size", query_size)
    Dk = check_positive_int("key_size", key_size)
    A = check_positive_int("attention_size", attention_size)
    return {"W_q": rng.uniform(-1 / np.sqrt(Dq), 1 / np.sqrt(Dq), size=(Dq, A)),
            "W_k": rng.uniform(-1 / np.sqrt(Dk), 1 / np.sqrt(Dk), size=(Dk, A)),
            "w_a": rng.uniform(-1 / np.sqrt(A), 1 / np.sqrt(A), size=A)}


def additive_attention_forward(query, keys, values, params, mask=None):
    """Additive attention of Bahdanau et al. (2015)::

        e_tj = tanh(q_t W_q + k_j W_k) · w_a   scores (B, Tq, Tk)
        α_t  = softmax_j(e_t)                  masked keys get weight 0
        c_t  = Σ_j α_tj v_j                    context (B, Tq, Dv)

    Parameters
    ----------
    query : (B, Tq, Dq), e.g. the decoder states
    keys : (B, Tk, Dk), e.g. the encoder states
    values : (B, Tk, Dv) (often the keys themselves)
    params : dict with ``W_q`` (Dq, A), ``W_k`` (Dk, A), ``w_a`` (A,)
    mask : optional bool, (B, Tk) (padding of the keys, the same for every query) or
        broadcastable to (B, Tq, Tk); True = may attend

    Returns ``context`` (B, Tq, Dv), ``weights`` α (B, Tq, Tk) and the cache of
    :func:`additive_attention_backward` (the cache keeps references to its inputs, not copies).
    """
    check_param_dict(params, ("W_q", "W_k", "w_a"))
    W_q = as_float_array("params['W_q']", params["W_q"], ndim=2)
    Dq, A = W_q.shape
    W_k = as_float_array("params['W_k']", params["W_k"], shape=(None, A))
    w_a = as_float_array("params['w_a']", params["w_a"], shape=(A,))
    Dk = W_k.shape[0]
    query = as_float_array("query", query, shape=(None, None, Dq))
    B, Tq, _ = query.shape
    keys = as_float_array("keys", keys, shape=(B, None, Dk))
    Tk = keys.shape[1]
    values = as_float_array("values", values, shape=(B, Tk, None))
    if mask is not None:
        if np.ndim(mask) == 2:       # (B, Tk): the same keys for every query
            mask = check_mask(mask, (B, Tk))[:, None, :]
        else:
            mask = check_mask(mask, (B, Tq, Tk))
    dtype = np.result_type(query.dtype, keys.dtype, values.dtype)
    query, keys, values, W_q, W_k, w_a = _cast(dtype, query, keys, values, W_q, W_k, w_a)
    # (B, Tq, 1, A) + (B, 1, Tk, A): every query against every key.
    Z = (query @ W_q)[:, :, None, :] + (keys @ W_k)[:, None, :, :]
    np.tanh(Z, out=Z)
    weights = _masked_softmax_(Z @ w_a, mask)            # (B, Tq, Tk)
    context = weights @ values
    cache = {"query": query, "keys": keys, "values": values, "Z": Z, "weights": weights,
             "W_q": W_q, "W_k": W_k, "w_a": w_a}
    return context, weights, cache


def additive_attention_backward(dcontext, cache):
    """Backward pass of :func:`additive_attention_forward`.

    With dC = ∂L/∂context (B, Tq, Dv), α the weights and Z = tanh(q W_q + k W_k) (B, Tq, Tk, A)::

        ∂L/∂values = αᵀ dC,   dα = dC valuesᵀ,   de = α ⊙ (dα − Σ_j α_j dα_j)
        dP = (de w_a) ⊙ (1 − Z²)
        ∂L/∂query = (Σ_j dP) W_qᵀ,   ∂L/∂keys = (Σ_t dP) W_kᵀ
        ∂L/∂W_q = Σ queryᵀ Σ_j dP,   ∂L/∂W_k = Σ keysᵀ Σ_t dP,   ∂L/∂w_a = Σ de Z

    Returns ``dquery`` (B, Tq, Dq), ``dkeys`` (B, Tk, Dk), ``dvalues`` (B, Tk, Dv) and
    ``{"W_q", "W_k", "w_a"}``.
    """
    query, keys, values, Z, alpha, W_q, W_k, w_a = (
        cache[k] for k in ("query", "keys", "values", "Z", "weights", "W_q", "W_k", "w_a"))
    B, Tq, Tk, A = Z.shape
    Dv = values.shape[2]
    dC = as_float_array("dcontext", dcontext, shape=(B, Tq, Dv)).astype(alpha.dtype, copy=False)
    dvalues = alpha.transpose(0, 2, 1) @ dC
    dalpha = dC @ values.transpose(0, 2, 1)
    de = _softmax_backward(dalpha, alpha)                # (B, Tq, Tk)
    dP = de[..., None] * w_a
    dP *= 1.0 - Z * Z                                    # (B, Tq, Tk, A)
    dq_proj = dP.sum(axis=2)                             # (B, Tq, A)
    dk_proj = dP.sum(axis=1)                             # (B, Tk, A)
    grads = {"W_q": query.reshape(-1, query.shape[2]).T @ dq_proj.reshape(-1, A),
             "W_k": keys.reshape(-1, keys.shape[2]).T @ dk_proj.reshape(-1, A),
             "w_a": de.reshape(-1) @ Z.reshape(-1, A)}
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
    not modify it in place before the backward pass; the cache keeps references to the inputs, not
    copies).
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
    else:
        scale = check_positive_number("scale", scale)
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
        head_i = attention(Q[..., i], K[..., i], V[..., i])   columns i·d_k:(i+1)·d_k, d_k = D/h
        out = concat(head_1, .., head_h) W_o + b_o                             (B, Tq, D)

    where attention is :func:`scaled_dot_product_attention_forward` with scale 1/√d_k.

    Parameters
    ----------
    query : (B, Tq, D)
    key, value : (B, Tk, D) (all three the same array for self-attention)
    params : dict with ``W_q``, ``W_k``, ``W_v``, ``W_o`` (D, D) and ``b_q``, ``b_k``, ``b_v``,
        ``b_o`` (D,)
    num_heads : h, a divisor of D
    mask : optional bool broadcastable to (B, h, Tq, Tk), True = may attend: :func:`causal_mask`
        (Tq, Tk), ``padding_mask(lengths, Tk)[:, None, None, :]`` (B, 1, 1, Tk), ...

    Returns ``out`` (B, Tq, D), ``weights`` (B, h, Tq, Tk) and the cache of
    :func:`multi_head_attention_backward` (the cache keeps references to its inputs, not copies).
    """
    p = _check_mha_params(params)
    D = p["W_q"].shape[0]
    dk = _head_size(D, num_heads)
    h = D // dk                          # the number of heads
    query = as_float_array("query", query, shape=(None, None, D))
    B, Tq, _ = query.shape
    key = as_float_array("key", key, shape=(B, None, D))
    Tk = key.shape[1]
    value = as_float_array("value", value, shape=(B, Tk, D))
    mask = check_mask(mask, (B, h, Tq, Tk))
    dtype = np.result_type(query.dtype, key.dtype, value.dtype)
    query, key, value = _cast(dtype, query, key, value)
    p = {k: v.astype(dtype, copy=False) for k, v in p.items()}

    def split_heads(x, W, b):            # (B, T, D) -> (B, h, T, dk)
        y = x @ W
        y += b
        return y.reshape(B, -1, h, dk).transpose(0, 2, 1, 3)

    Qh = split_heads(query, p["W_q"], p["b_q"])
    Kh = split_heads(key, p["W_k"], p["b_k"])
    Vh = split_heads(value, p["W_v"], p["b_v"])
    heads, weights, core = scaled_dot_product_attention_forward(Qh, Kh, Vh, mask=mask)
    concat = heads.transpose(0, 2, 1, 3).reshape(B, Tq, D)
    out = concat @ p["W_o"]
    out += p["b_o"]
    cache = {"query": query, "key": key, "value": value, "concat": concat, "core": core,
             "params": p, "num_heads": h}
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
    p, concat, h = cache["params"], cache["concat"], cache["num_heads"]
    query, key, value = cache["query"], cache["key"], cache["value"]
    B, Tq, D = query.shape
    dk = D // h
    dY = as_float_array("dout", dout, shape=(B, Tq, D)).astype(concat.dtype, copy=False)
    dY2 = dY.reshape(B * Tq, D)
    grads = {"W_o": concat.reshape(B * Tq, D).T @ dY2, "b_o": dY2.sum(axis=0)}
    dheads = (dY @ p["W_o"].T).reshape(B, Tq, h, dk).transpose(0, 2, 1, 3)
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
