"""The Swin Transformer v2 (Liu et al. 2022): windows, shifted windows, relative position biases,
scaled cosine attention, patch merging and the residual post-norm block, forward and
hand-derived backward.

Images and feature maps are channels-last, ``(B, H, W, C)`` and ``(B, H, W, D)``: the last axis
is a token's vector, as in ``(B, T, D)``. A window of M × M tokens is a sequence of N = M²
tokens read row by row; ``window_partition`` gives ``(B, nW, N, D)``. Row vectors: x W + b::

    patch embedding          x[i, j] = patch_ij W + b                       W (p²C, D)
    window attention         Q, K, V = x W_q + b_q, ...  (chapter 8's multi-head projections)
      cosine (Swin v2)       S_h = cos(Q_h, K_h) · e^{min(λ_h, log 100)} + B_h     τ_h = e^{−λ_h}
      dot    (Swin v1)       S_h = Q_h K_hᵀ / √d + B_h
                             A_h = softmax(S_h) (−∞ where masked),  out = [A_h V_h] W_o + b_o
    relative position bias   B[h, i, j] = table[index(Δr_ij, Δc_ij), h]                 (v1)
    continuous bias          B[h, i, j] = 16 σ(relu(Δ̂ W_1 + b_1) W_2)[index(i, j), h]    (v2)
                             Δ̂ = sign(8u) log₂(1 + |8u|)/3,  u = Δ/(M₀ − 1)  (log-spaced)
    block, norm="post" (v2)  y = x + LN_1(R(WA(P(x)))),   z = y + LN_2(FF(y))
    block, norm="pre"  (v1)  y = x + R(WA(P(LN_1(x)))),   z = y + FF(LN_2(y))
                             P: roll by (−s, −s) and cut into windows; R: its inverse
    patch merging            out[i, j] = LN([x_2i,2j | x_2i+1,2j | x_2i,2j+1 | x_2i+1,2j+1] W)

The projections, the feed-forward network and the layer norms are chapter 8's
(``seqlearn.numpy.attention``, ``seqlearn.numpy.transformer``, ``seqlearn.numpy.layernorm``); the
feed-forward is ReLU, where the paper's MLP uses GELU. Masks are boolean, True = may attend (the
reference implementation adds −100 instead of −∞; the two agree while the scores stay below
about 100). Window partition, reverse and the cyclic shift are permutations of the tokens: the
backward pass of each is its inverse.
"""

import math

import numpy as np

from ..validate import as_float_array, as_generator, check_positive_int
from .attention import MHA_PARAM_NAMES, init_multi_head_attention_params
from .common import check_param_dict
from .layernorm import init_layer_norm_params, layer_norm_backward, layer_norm_forward
from .transformer import feed_forward_backward, feed_forward_forward, init_feed_forward_params

#: log(1/0.01): the largest logit scale 1/τ of cosine attention (τ ≥ 0.01), as in the paper.
MAX_LOGIT_SCALE = math.log(100.0)
#: The ways to compute the relative position bias: Swin v1's table, and Swin v2's MLP of
#: linear- or log-spaced offsets.
POSITION_BIASES = ("table", "linear-cpb", "log-cpb")
#: The orders of normalisation in a block.
NORMS = ("post", "pre")

_NORMALIZE_EPS = 1e-12      # as torch.nn.functional.normalize


# --------------------------------------------------------------------------------- windows
def _check_map(name, x, size, what="window_size"):
    x = as_float_array(name, x, ndim=4)
    B, H, W, _ = x.shape
    if H % size or W % size:
        raise ValueError(f"{name}: height {H} and width {W} must be divisible by {what}={size}, "
                         f"got shape {x.shape}")
    return x


def window_partition(x, window_size):
    """Cut a feature map into non-overlapping M × M windows.

    ``x`` (B, H, W, D), H and W divisible by M = ``window_size``. Returns (B, nW, M², D),
    nW = (H/M)(W/M): window w = (i, j), at rows iM..iM+M−1 and columns jM..jM+M−1, is number
    w = i·W/M + j, and its tokens are read row by row.
    """
    M = check_positive_int("window_size", window_size)
    x = _check_map("x", x, M)
    B, H, W, D = x.shape
    x = x.reshape(B, H // M, M, W // M, M, D).transpose(0, 1, 3, 2, 4, 5)
    return x.reshape(B, (H // M) * (W // M), M * M, D)


def window_reverse(windows, window_size, H, W):
    """Put windows back into a map, the inverse of :func:`window_partition`: ``windows``
    (B, nW, M², D) with nW = (H/M)(W/M) -> (B, H, W, D)."""
    M = check_positive_int("window_size", window_size)
    H, W = check_positive_int("H", H), check_positive_int("W", W)
    windows = as_float_array("windows", windows, ndim=4)
    B, nW, N, D = windows.shape
    if H % M or W % M or nW != (H // M) * (W // M) or N != M * M:
        raise ValueError(f"windows: expected shape (B, {(H // M) * (W // M)}, {M * M}, D) for a "
                         f"{H} x {W} map of {M} x {M} windows, got shape {windows.shape}")
    x = windows.reshape(B, H // M, W // M, M, M, D).transpose(0, 1, 3, 2, 4, 5)
    return x.reshape(B, H, W, D)


def patch_partition(images, patch_size):
    """Cut images (B, H, W, C) into p × p patches, one token each: (B, H/p, W/p, p²C), a patch's
    pixels row by row, the channels of a pixel together."""
    p = check_positive_int("patch_size", patch_size)
    images = _check_map("images", images, p, "patch_size")
    B, H, W, C = images.shape
    return window_partition(images, p).reshape(B, H // p, W // p, p * p * C)


def cyclic_shift(x, shift):
    """Roll a map (B, H, W, D) up and left by ``shift``:
    out[:, i, j] = x[:, (i + s) mod H, (j + s) mod W]; ``cyclic_shift(y, -s)`` undoes it."""
    x = as_float_array("x", x, ndim=4)
    if isinstance(shift, bool) or not isinstance(shift, (int, np.integer)):
        raise TypeError(f"shift: expected an integer, got {shift!r}")
    return x.copy() if shift == 0 else np.roll(x, (-int(shift), -int(shift)), axis=(1, 2))


def _check_shift(window_size, shift):
    M = check_positive_int("window_size", window_size)
    if isinstance(shift, bool) or not isinstance(shift, (int, np.integer)) or not 0 <= shift < M:
        raise ValueError(f"shift: expected an integer in 0..{M - 1} (less than window_size), "
                         f"got {shift!r}")
    return M, int(shift)


def shifted_window_mask(H, W, window_size, shift):
    """The attention mask of the windows of a map rolled by :func:`cyclic_shift`.

    After the roll, the last ``shift`` rows (columns) hold what were the image's first rows
    (columns). Two tokens of a window may attend to each other when both or neither came round
    in the rows, and both or neither in the columns: then they were neighbours in the image.
    Returns (nW, M², M²) bool, True = may attend (all True for ``shift = 0``).
    """
    H, W = check_positive_int("H", H), check_positive_int("W", W)
    M, s = _check_shift(window_size, shift)
    if H % M or W % M:
        raise ValueError(f"H, W: {H} x {W} must be divisible by window_size={M}")
    region = 2 * (np.arange(H) >= H - s)[:, None] + (np.arange(W) >= W - s)[None, :]
    regions = window_partition(region[None, :, :, None], M)[0, :, :, 0]    # (nW, M²)
    return regions[:, :, None] == regions[:, None, :]


# ------------------------------------------------------------------------- position biases
def relative_position_index(window_size):
    """(M², M²) int: index[i, j] = (r_i − r_j + M − 1)(2M − 1) + (c_i − c_j + M − 1), the row of
    the (2M − 1)² table of relative offsets that tokens i and j (at rows r and columns c of the
    window) look up."""
    M = check_positive_int("window_size", window_size)
    r, c = np.divmod(np.arange(M * M), M)
    return (r[:, None] - r[None, :] + M - 1) * (2 * M - 1) + (c[:, None] - c[None, :] + M - 1)


def relative_coords_table(window_size, pretrained_window_size=None, spacing="log"):
    """The inputs of the continuous position bias: ((2M − 1)², 2), row k = (Δr, Δc) of offset k
    (each from −(M − 1) to M − 1, in the order of :func:`relative_position_index`),
    transformed::

        u = Δ / (M₀ − 1)                       M₀ = pretrained_window_size (default M)
        spacing="log":     Δ̂ = sign(8u) log₂(1 + |8u|) / log₂ 8
        spacing="linear":  Δ̂ = u

    Within the training window (M = M₀) both lie in [−1, 1] (log: up to log₂9/3 ≈ 1.06); a
    larger window M > M₀ extrapolates, much less on the log scale.
    """
    M = check_positive_int("window_size", window_size)
    M0 = M if pretrained_window_size is None else check_positive_int("pretrained_window_size",
                                                                     pretrained_window_size)
    if spacing not in ("log", "linear"):
        raise ValueError(f"spacing: expected 'log' or 'linear', got {spacing!r}")
    delta = np.arange(-(M - 1), M, dtype=np.float64)
    grid = np.stack(np.meshgrid(delta, delta, indexing="ij"), axis=-1).reshape(-1, 2)
    u = grid / (M0 - 1) if M0 > 1 else grid
    if spacing == "log":
        u = np.sign(u) * np.log2(1.0 + 8.0 * np.abs(u)) / np.log2(8.0)
    return u


def _table_index(M, M0):
    """index[i, j] into a (2M₀ − 1)² table for a window of M: offsets beyond ±(M₀ − 1) take the
    table's edge (the nearest offset it has)."""
    r, c = np.divmod(np.arange(M * M), M)
    dr = np.clip(r[:, None] - r[None, :], -(M0 - 1), M0 - 1)
    dc = np.clip(c[:, None] - c[None, :], -(M0 - 1), M0 - 1)
    return (dr + M0 - 1) * (2 * M0 - 1) + (dc + M0 - 1)


def _gather_bias(table, index):
    """(h, N, N) bias from a (K, h) table and an (N, N) index."""
    return np.ascontiguousarray(table[index].transpose(2, 0, 1))


def _scatter_bias(dbias, index, K):
    """The backward of :func:`_gather_bias`: ∂L/∂table (K, h), summing over the pairs that
    share an offset."""
    h = dbias.shape[0]
    dtable = np.zeros((K, h), dtype=dbias.dtype)
    np.add.at(dtable, index.reshape(-1), dbias.transpose(1, 2, 0).reshape(-1, h))
    return dtable


def init_relative_position_bias_params(window_size, num_heads, rng=None):
    """``{"table": ((2M − 1)², h)}`` from N(0, 0.02²), as Swin v1 initialises it."""
    rng = as_generator(rng)
    M = check_positive_int("window_size", window_size)
    h = check_positive_int("num_heads", num_heads)
    return {"table": 0.02 * rng.standard_normal(((2 * M - 1) ** 2, h))}


def relative_position_bias_forward(params, window_size):
    """Swin v1's bias, B[h, i, j] = table[index(i, j), h] (:func:`relative_position_index`).

    ``params`` ``{"table": ((2M₀ − 1)², h)}``; ``window_size`` M may differ from the table's M₀:
    offsets the table has no entry for take its edge values. Returns the bias (h, M², M²) and
    the cache of :func:`relative_position_bias_backward`.
    """
    check_param_dict(params, ("table",))
    table = as_float_array("params['table']", params["table"], ndim=2)
    M = check_positive_int("window_size", window_size)
    side = int(round(math.sqrt(table.shape[0])))
    if side * side != table.shape[0] or side % 2 == 0:
        raise ValueError(f"params['table']: expected shape ((2M - 1)², h), got {table.shape}")
    index = _table_index(M, (side + 1) // 2)
    return _gather_bias(table, index), {"index": index, "K": table.shape[0]}


def relative_position_bias_backward(dbias, cache):
    """∂L/∂table ((2M₀ − 1)², h): the bias gradients (h, M², M²) of all pairs of tokens with the
    same offset, summed. Returns ``{"table"}``."""
    index = cache["index"]
    dbias = as_float_array("dbias", dbias, ndim=3)
    return {"table": _scatter_bias(dbias, index, cache["K"])}


def init_continuous_position_bias_params(num_heads, hidden_size=512, rng=None):
    """``W_1`` (2, F), ``b_1`` (F,), ``W_2`` (F, h): weights from N(0, 0.02²) and ``b_1 = 0``, as
    the reference initialises every linear layer (F = 512 in the paper)."""
    rng = as_generator(rng)
    h = check_positive_int("num_heads", num_heads)
    F_ = check_positive_int("hidden_size", hidden_size)
    return {"W_1": 0.02 * rng.standard_normal((2, F_)), "b_1": np.zeros(F_),
            "W_2": 0.02 * rng.standard_normal((F_, h))}


def continuous_position_bias_forward(coords, params, window_size):
    """Swin v2's continuous position bias: an MLP 𝒢 of the transformed offsets::

        G = relu(Δ̂ W_1 + b_1) W_2             Δ̂ = coords ((2M − 1)², 2), G ((2M − 1)², h)
        B[h, i, j] = 16 σ(G[index(i, j), h])   in (0, 16)

    ``coords`` from :func:`relative_coords_table` for M = ``window_size``; ``params`` with
    ``W_1`` (2, F), ``b_1`` (F,), ``W_2`` (F, h). Returns the bias (h, M², M²) and the cache of
    :func:`continuous_position_bias_backward`.
    The cache holds the inputs and parameters themselves, not copies.
    """
    check_param_dict(params, ("W_1", "b_1", "W_2"))
    W_1 = as_float_array("params['W_1']", params["W_1"], shape=(2, None))
    F_ = W_1.shape[1]
    b_1 = as_float_array("params['b_1']", params["b_1"], shape=(F_,))
    W_2 = as_float_array("params['W_2']", params["W_2"], shape=(F_, None))
    M = check_positive_int("window_size", window_size)
    coords = as_float_array("coords", coords, shape=((2 * M - 1) ** 2, 2))
    hidden = np.maximum(coords @ W_1 + b_1, 0.0)
    table = 16.0 / (1.0 + np.exp(-(hidden @ W_2)))               # 16 σ(G)
    index = relative_position_index(M)
    cache = {"coords": coords, "hidden": hidden, "table": table, "W_2": W_2, "index": index}
    return _gather_bias(table, index), cache


def continuous_position_bias_backward(dbias, cache):
    """Backward pass of :func:`continuous_position_bias_forward`::

        dT = Σ over the pairs with offset k of dbias       (the scatter of the lookup)
        dG = dT ⊙ T (1 − T/16)                             (T = 16σ(G))
        ∂L/∂W_2 = hiddenᵀ dG,   d hidden = dG W_2ᵀ ⊙ [hidden > 0]
        ∂L/∂W_1 = Δ̂ᵀ d hidden,  ∂L/∂b_1 = Σ d hidden

    Returns ``{"W_1", "b_1", "W_2"}``.
    """
    table, hidden, W_2 = cache["table"], cache["hidden"], cache["W_2"]
    dbias = as_float_array("dbias", dbias, ndim=3)
    dG = _scatter_bias(dbias, cache["index"], table.shape[0]) * table * (1.0 - table / 16.0)
    dhidden = (dG @ W_2.T) * (hidden > 0)
    return {"W_1": cache["coords"].T @ dhidden, "b_1": dhidden.sum(axis=0),
            "W_2": hidden.T @ dG}


# ------------------------------------------------------------------------ window attention
def init_window_attention_params(d_model, num_heads, cosine=True, rng=None):
    """Chapter 8's multi-head projections (``init_multi_head_attention_params``: ``W_q`` ...
    ``b_o``) and, for cosine attention, ``logit_scale`` λ (h,) = log 10 (τ = 0.1), as the
    paper initialises it."""
    params = init_multi_head_attention_params(d_model, num_heads, rng)
    if cosine:
        params["logit_scale"] = np.full(check_positive_int("num_heads", num_heads),
                                        math.log(10.0))
    return params


def _softmax_rows(scores):
    scores = scores - scores.max(axis=-1, keepdims=True)
    np.exp(scores, out=scores)
    scores /= scores.sum(axis=-1, keepdims=True)
    return scores


def window_attention_forward(x, params, num_heads, bias=None, mask=None, cosine=True):
    """Multi-head self-attention within each window, with a position bias and a mask.

    ::

        Q = x W_q + b_q,  K = x W_k + b_k,  V = x W_v + b_v      head h: columns h·d..(h+1)·d
        cosine=True:   S_h = (Q_h/‖Q_h‖)(K_h/‖K_h‖)ᵀ · s_h + B_h,   s_h = e^{min(λ_h, log 100)}
        cosine=False:  S_h = Q_h K_hᵀ / √d + B_h
        A_h = softmax(S_h) by rows, −∞ where mask is False
        out = [A_1 V_1 | ... | A_h V_h] W_o + b_o

    Parameters
    ----------
    x : (B, nW, N, D) windows of N tokens
    params : chapter 8's ``W_q``, ``W_k``, ``W_v``, ``W_o`` (D, D), ``b_q`` ... ``b_o`` (D,), and
        ``logit_scale`` λ (h,) when ``cosine``
    num_heads : h, a divisor of D
    bias : optional (h, N, N), added to the scores of every window (a position bias)
    mask : optional bool (nW, N, N), True = may attend (:func:`shifted_window_mask`)
    cosine : scaled cosine attention (Swin v2) or scaled dot-product attention (Swin v1)

    Returns ``out`` (B, nW, N, D), the weights A (B, nW, h, N, N) and the cache of
    :func:`window_attention_backward`.
    The cache holds the inputs and parameters themselves, not copies.
    """
    names = MHA_PARAM_NAMES + (("logit_scale",) if cosine else ())
    check_param_dict(params, names)
    W_q = as_float_array("params['W_q']", params["W_q"], ndim=2)
    D = W_q.shape[0]
    p = {n: as_float_array(f"params[{n!r}]", params[n],
                           shape=(D, D) if n.startswith("W") else (D,))
         for n in MHA_PARAM_NAMES}
    h = check_positive_int("num_heads", num_heads)
    if D % h:
        raise ValueError(f"num_heads: d_model={D} must be divisible by num_heads, got {h}")
    d = D // h
    x = as_float_array("x", x, shape=(None, None, None, D))
    B, nW, N, _ = x.shape
    if bias is not None:
        bias = as_float_array("bias", bias, shape=(h, N, N))
    if mask is not None:
        mask = np.asarray(mask)
        if mask.dtype != bool:
            raise TypeError(f"mask: expected a bool array (True = may attend), got dtype "
                            f"{mask.dtype}")
        if mask.shape != (nW, N, N):
            raise ValueError(f"mask: expected shape ({nW}, {N}, {N}), got {mask.shape}")
        if not mask.any(axis=-1).all():
            raise ValueError("mask: has a row with no key to attend to (all False)")

    def heads(W, b):                                   # (B, nW, N, D) -> (B, nW, h, N, d)
        return (x @ W + b).reshape(B, nW, N, h, d).transpose(0, 1, 3, 2, 4)

    Q, K, V = heads(p["W_q"], p["b_q"]), heads(p["W_k"], p["b_k"]), heads(p["W_v"], p["b_v"])
    cache = {"x": x, "Q": Q, "K": K, "V": V, "params": p, "cosine": cosine,
             "has_bias": bias is not None}
    if cosine:
        lam = as_float_array("params['logit_scale']", params["logit_scale"], shape=(h,))
        scale = np.exp(np.minimum(lam, MAX_LOGIT_SCALE))[:, None, None]   # (h, 1, 1)
        norm_q = np.maximum(np.linalg.norm(Q, axis=-1, keepdims=True), _NORMALIZE_EPS)
        norm_k = np.maximum(np.linalg.norm(K, axis=-1, keepdims=True), _NORMALIZE_EPS)
        q_hat, k_hat = Q / norm_q, K / norm_k
        cos = q_hat @ k_hat.swapaxes(-1, -2)
        scores = cos * scale
        cache.update(q_hat=q_hat, k_hat=k_hat, norm_q=norm_q, norm_k=norm_k, cos=cos,
                     scale=scale, clamped=lam >= MAX_LOGIT_SCALE)
    else:
        scores = Q @ K.swapaxes(-1, -2) / np.sqrt(d)
    if bias is not None:
        scores = scores + bias
    if mask is not None:
        scores = np.where(mask[:, None], scores, -np.inf)
    weights = _softmax_rows(scores)
    concat = (weights @ V).transpose(0, 1, 3, 2, 4).reshape(B, nW, N, D)
    out = concat @ p["W_o"] + p["b_o"]
    cache.update(weights=weights, concat=concat)
    return out, weights, cache


def window_attention_backward(dout, cache):
    """Backward pass of :func:`window_attention_forward`.

    With dO = ∂L/∂out and G = d concat = dO W_oᵀ split into heads::

        ∂L/∂V_h = A_hᵀ G_h,   dA_h = G_h V_hᵀ,   dS_h = A_h ⊙ (dA_h − Σ_j dA_h ⊙ A_h)
        ∂L/∂B_h = Σ over windows and images of dS_h
        dot:     ∂L/∂Q_h = dS_h K_h/√d,   ∂L/∂K_h = dS_hᵀ Q_h/√d
        cosine:  dq̂ = s_h dS_h k̂,  dk̂ = s_h dS_hᵀ q̂,  ∂L/∂Q = (dq̂ − q̂ (q̂·dq̂))/‖Q‖ (and K)
                 ∂L/∂λ_h = s_h Σ dS_h ⊙ cos_h   (0 while λ_h is clamped at log 100)
        ∂L/∂x = dQ W_qᵀ + dK W_kᵀ + dV W_vᵀ,  ∂L/∂W_q = Σ xᵀ dQ, ...

    Returns ``dx`` (B, nW, N, D), the parameter gradients (the keys of the forward's
    ``params``) and ``dbias`` (h, N, N) (``None`` when the forward had no bias).
    """
    x, p, A, V = cache["x"], cache["params"], cache["weights"], cache["V"]
    B, nW, N, D = x.shape
    h = A.shape[2]
    d = D // h
    dout = as_float_array("dout", dout, shape=(B, nW, N, D))
    grads = {"W_o": cache["concat"].reshape(-1, D).T @ dout.reshape(-1, D),
             "b_o": dout.reshape(-1, D).sum(axis=0)}
    G = (dout @ p["W_o"].T).reshape(B, nW, N, h, d).transpose(0, 1, 3, 2, 4)
    dV = A.swapaxes(-1, -2) @ G
    dA = G @ V.swapaxes(-1, -2)
    dS = A * (dA - (dA * A).sum(axis=-1, keepdims=True))
    dbias = dS.sum(axis=(0, 1)) if cache["has_bias"] else None
    if cache["cosine"]:
        q_hat, k_hat, scale = cache["q_hat"], cache["k_hat"], cache["scale"]
        dcos = dS * scale
        grads["logit_scale"] = np.where(cache["clamped"], 0.0,
                                        (dS * cache["cos"]).sum(axis=(0, 1, 3, 4))
                                        * scale[:, 0, 0])
        dq_hat, dk_hat = dcos @ k_hat, dcos.swapaxes(-1, -2) @ q_hat
        dQ = (dq_hat - q_hat * (q_hat * dq_hat).sum(-1, keepdims=True)) / cache["norm_q"]
        dK = (dk_hat - k_hat * (k_hat * dk_hat).sum(-1, keepdims=True)) / cache["norm_k"]
    else:
        dQ = dS @ cache["K"] / np.sqrt(d)
        dK = dS.swapaxes(-1, -2) @ cache["Q"] / np.sqrt(d)
    x2 = x.reshape(-1, D)
    dx = np.zeros_like(x2)
    for s, dproj in (("q", dQ), ("k", dK), ("v", dV)):
        dproj = dproj.transpose(0, 1, 3, 2, 4).reshape(-1, D)
        grads["W_" + s] = x2.T @ dproj
        grads["b_" + s] = dproj.sum(axis=0)
        dx += dproj @ p["W_" + s].T
    order = MHA_PARAM_NAMES + (("logit_scale",) if cache["cosine"] else ())
    return dx.reshape(B, nW, N, D), {n: grads[n] for n in order}, dbias


# ------------------------------------------------------------------------------- the block
def _check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"{name}: expected one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def init_swin_block_params(d_model, num_heads, d_ff, window_size, position_bias="log-cpb",
                           cosine=True, cpb_hidden_size=512, rng=None):
    """``{"attention", "position_bias", "norm_1", "feed_forward", "norm_2"}`` for
    :func:`swin_block_forward`: window attention (:func:`init_window_attention_params`), the
    position bias (a table for ``"table"``, the MLP for ``"linear-cpb"`` and ``"log-cpb"``),
    and chapter 8's layer norms and feed-forward network."""
    rng = as_generator(rng)
    _check_choice("position_bias", position_bias, POSITION_BIASES)
    window_size = check_positive_int("window_size", window_size)
    cpb_hidden_size = check_positive_int("cpb_hidden_size", cpb_hidden_size)
    if position_bias == "table":
        bias = init_relative_position_bias_params(window_size, num_heads, rng)
    else:
        bias = init_continuous_position_bias_params(num_heads, cpb_hidden_size, rng)
    return {"attention": init_window_attention_params(d_model, num_heads, cosine, rng),
            "position_bias": bias,
            "norm_1": init_layer_norm_params(d_model),
            "feed_forward": init_feed_forward_params(d_model, d_ff, rng),
            "norm_2": init_layer_norm_params(d_model)}


def _windows(x, M, s):
    """P: roll by (−s, −s), then cut into windows."""
    return window_partition(cyclic_shift(x, s), M)


def _unwindows(w, M, H, W, s):
    """R = P⁻¹: put the windows back, then roll by (s, s)."""
    return cyclic_shift(window_reverse(w, M, H, W), -s)


def swin_block_forward(x, params, num_heads, window_size, shift=0, position_bias="log-cpb",
                       pretrained_window_size=None, cosine=True, norm="post", eps=1e-5):
    """One Swin block: (shifted) window attention and a feed-forward network::

        a(u) = R(WA(P(u), B, mask))         P: roll by (−s, −s), cut into M × M windows; R = P⁻¹
        norm="post" (Swin v2):  y = x + LN_1(a(x)),   z = y + LN_2(FF(y))
        norm="pre"  (Swin v1):  y = x + a(LN_1(x)),   z = y + FF(LN_2(y))

    Parameters
    ----------
    x : (B, H, W, D), H and W divisible by M = ``window_size``
    params : see :func:`init_swin_block_params`
    num_heads : h
    window_size, shift : M and s (0 ≤ s < M); with s > 0 the windows attend under
        :func:`shifted_window_mask`
    position_bias : ``"table"`` (a table of the window it was made for; other offsets take its
        edge values), ``"log-cpb"`` or ``"linear-cpb"`` (the MLP on
        ``relative_coords_table(M, pretrained_window_size, spacing)``)
    pretrained_window_size : M₀, the window the continuous bias was trained with (default M)
    cosine : scaled cosine attention (v2) or scaled dot-product (v1)
    norm : ``"post"`` (residual post-norm, v2) or ``"pre"`` (v1)
    eps : ε of both layer norms

    Returns ``z`` (B, H, W, D) and the cache of :func:`swin_block_backward`
    (``cache["weights"]``: the attention weights (B, nW, h, M², M²)).
    The cache holds the inputs and parameters themselves, not copies.
    """
    check_param_dict(params, ("attention", "position_bias", "norm_1", "feed_forward", "norm_2"))
    M, s = _check_shift(window_size, shift)
    _check_choice("position_bias", position_bias, POSITION_BIASES)
    _check_choice("norm", norm, NORMS)
    x = _check_map("x", x, M)
    B, H, W, D = x.shape
    if position_bias == "table":
        bias, c_bias = relative_position_bias_forward(params["position_bias"], M)
    else:
        spacing = "log" if position_bias == "log-cpb" else "linear"
        coords = relative_coords_table(M, pretrained_window_size, spacing)
        bias, c_bias = continuous_position_bias_forward(coords, params["position_bias"], M)
    mask = shifted_window_mask(H, W, M, s) if s else None
    cache = {"M": M, "s": s, "H": H, "W": W, "norm": norm, "position_bias": position_bias,
             "bias": c_bias}
    u = x
    if norm == "pre":
        u, cache["norm_1"] = layer_norm_forward(x, params["norm_1"], eps)
    windows, weights, cache["attention"] = window_attention_forward(
        _windows(u, M, s), params["attention"], num_heads, bias, mask, cosine)
    a = _unwindows(windows, M, H, W, s)
    if norm == "post":
        a, cache["norm_1"] = layer_norm_forward(a, params["norm_1"], eps)
    y = x + a
    if norm == "post":
        f, cache["feed_forward"] = feed_forward_forward(y, params["feed_forward"])
        f, cache["norm_2"] = layer_norm_forward(f, params["norm_2"], eps)
    else:
        v, cache["norm_2"] = layer_norm_forward(y, params["norm_2"], eps)
        f, cache["feed_forward"] = feed_forward_forward(v, params["feed_forward"])
    cache["weights"] = weights
    return y + f, cache


def swin_block_backward(dz, cache):
    """Backward pass of :func:`swin_block_forward`, sub-layer by sub-layer in reverse::

        post:  dy = dz + FF_bᵀ(LN_2ᵀ(dz));   da = LN_1ᵀ(dy)
        pre:   dy = dz + LN_2ᵀ(FF_bᵀ(dz));   da = dy
        d windows = P(da)  (the adjoint of the permutation R is P);  WAᵀ gives d windows', the
        parameter gradients and dB;  du = R(d windows');  dx = dy + du (post) or
        dy + LN_1ᵀ(du) (pre);  dB goes on to the position bias's parameters.

    Returns ``dx`` (B, H, W, D) and the gradients nested like the parameters.
    """
    M, s, H, W, norm = (cache[k] for k in ("M", "s", "H", "W", "norm"))
    dz = as_float_array("dz", dz, ndim=4)
    grads = {}
    if norm == "post":
        df, grads["norm_2"] = layer_norm_backward(dz, cache["norm_2"])
        dy_ff, grads["feed_forward"] = feed_forward_backward(df, cache["feed_forward"])
        dy = dz + dy_ff
        da, grads["norm_1"] = layer_norm_backward(dy, cache["norm_1"])
    else:
        dv, grads["feed_forward"] = feed_forward_backward(dz, cache["feed_forward"])
        dy_n, grads["norm_2"] = layer_norm_backward(dv, cache["norm_2"])
        dy = dz + dy_n
        da = dy
    dwin, grads["attention"], dbias = window_attention_backward(_windows(da, M, s),
                                                                cache["attention"])
    du = _unwindows(dwin, M, H, W, s)
    if norm == "post":
        dx = dy + du
    else:
        dx_n, grads["norm_1"] = layer_norm_backward(du, cache["norm_1"])
        dx = dy + dx_n
    if cache["position_bias"] == "table":
        grads["position_bias"] = relative_position_bias_backward(dbias, cache["bias"])
    else:
        grads["position_bias"] = continuous_position_bias_backward(dbias, cache["bias"])
    order = ("attention", "position_bias", "norm_1", "feed_forward", "norm_2")
    return dx, {k: grads[k] for k in order}


# ---------------------------------------------------------------------------------- patches
def init_patch_embedding_params(patch_size, in_channels, d_model, rng=None):
    """``W`` (p²C, D) ~ U(±1/√(p²C)) (as ``nn.Linear``) and ``b`` (D,) zero."""
    rng = as_generator(rng)
    p = check_positive_int("patch_size", patch_size)
    C = check_positive_int("in_channels", in_channels)
    D = check_positive_int("d_model", d_model)
    s = 1.0 / math.sqrt(p * p * C)
    return {"W": rng.uniform(-s, s, size=(p * p * C, D)), "b": np.zeros(D)}


def patch_embedding_forward(images, params, patch_size):
    """Patches as tokens: x[b, i, j] = patch_partition(images)[b, i, j] W + b.

    ``images`` (B, H, W, C) with H, W divisible by p = ``patch_size``; ``params`` ``W``
    (p²C, D), ``b`` (D,). The same as a convolution with a p × p kernel and stride p. Returns
    the tokens (B, H/p, W/p, D) and the cache of :func:`patch_embedding_backward`.
    The cache holds the inputs and parameters themselves, not copies.
    """
    check_param_dict(params, ("W", "b"))
    W = as_float_array("params['W']", params["W"], ndim=2)
    b = as_float_array("params['b']", params["b"], shape=(W.shape[1],))
    p = check_positive_int("patch_size", patch_size)
    images = as_float_array("images", images, ndim=4)
    if p * p * images.shape[-1] != W.shape[0]:
        raise ValueError(f"images: expected {W.shape[0] // (p * p)} channel(s) in the last axis "
                         f"(B, H, W, C) for W of shape {W.shape} and patch_size={p}, got shape "
                         f"{images.shape}")
    patches = patch_partition(images, p)
    return patches @ W + b, {"patches": patches, "W": W, "shape": images.shape, "p": p}


def patch_embedding_backward(dx, cache):
    """∂L/∂W = Σ patchesᵀ dx, ∂L/∂b = Σ dx, and ∂L/∂images (the patches' gradient dx Wᵀ put
    back in place). Returns ``dimages`` (B, H, W, C) and ``{"W", "b"}``."""
    patches, W, shape, p = cache["patches"], cache["W"], cache["shape"], cache["p"]
    dx = as_float_array("dx", dx, shape=patches.shape[:3] + (W.shape[1],))
    D = W.shape[1]
    grads = {"W": patches.reshape(-1, W.shape[0]).T @ dx.reshape(-1, D),
             "b": dx.reshape(-1, D).sum(axis=0)}
    B, H, Wd, C = shape
    dpatches = (dx @ W.T).reshape(B, (H // p) * (Wd // p), p * p, C)
    return window_reverse(dpatches, p, H, Wd), grads


def init_patch_merging_params(d_model, rng=None):
    """``W`` (4D, 2D) ~ U(±1/√(4D)) (no bias) and the layer norm ``norm`` over 2D."""
    rng = as_generator(rng)
    D = check_positive_int("d_model", d_model)
    s = 1.0 / math.sqrt(4 * D)
    return {"W": rng.uniform(-s, s, size=(4 * D, 2 * D)), "norm": init_layer_norm_params(2 * D)}


def patch_merging_forward(x, params, eps=1e-5):
    """Halve the resolution and double the width (Swin v2's order: reduce, then normalise)::

        u[i, j] = [x[2i, 2j] | x[2i+1, 2j] | x[2i, 2j+1] | x[2i+1, 2j+1]]      (4D,)
        out[i, j] = LN(u[i, j] W)                                           W (4D, 2D)

    ``x`` (B, H, W, D) with H, W even. Returns (B, H/2, W/2, 2D) and the cache of
    :func:`patch_merging_backward`.
    The cache holds the inputs and parameters themselves, not copies.
    """
    check_param_dict(params, ("W", "norm"))
    W = as_float_array("params['W']", params["W"], ndim=2)
    D = W.shape[0] // 4
    if W.shape != (4 * D, 2 * D):
        raise ValueError(f"params['W']: expected shape (4D, 2D), got {W.shape}")
    x = _check_map("x", x, 2, "2 (patch merging halves both)")
    if x.shape[-1] != D:
        raise ValueError(f"x: expected shape (B, H, W, {D}) (D = rows of W / 4), got shape "
                         f"{x.shape}")
    u = np.concatenate([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]],
                       axis=-1)
    out, c_norm = layer_norm_forward(u @ W, params["norm"], eps)
    return out, {"u": u, "W": W, "norm": c_norm, "shape": x.shape}


def patch_merging_backward(dout, cache):
    """∂L/∂W = Σ uᵀ d(uW), du = d(uW) Wᵀ, with d(uW) = LNᵀ(dout); du's four blocks of D
    columns go back to the four tokens they came from. Returns ``dx`` (B, H, W, D) and
    ``{"W", "norm"}``."""
    u, W = cache["u"], cache["W"]
    dout = as_float_array("dout", dout, shape=u.shape[:-1] + (W.shape[1],))
    dr, g_norm = layer_norm_backward(dout, cache["norm"])
    grads = {"W": u.reshape(-1, u.shape[-1]).T @ dr.reshape(-1, dr.shape[-1]), "norm": g_norm}
    du = dr @ W.T
    dx = np.zeros(cache["shape"], dtype=du.dtype)
    D = cache["shape"][-1]
    for k, (i, j) in enumerate(((0, 0), (1, 0), (0, 1), (1, 1))):
        dx[:, i::2, j::2] = du[..., k * D:(k + 1) * D]
    return dx, grads


__all__ = ["MAX_LOGIT_SCALE", "NORMS", "POSITION_BIASES", "continuous_position_bias_backward",
           "continuous_position_bias_forward", "cyclic_shift",
           "init_continuous_position_bias_params", "init_patch_embedding_params",
           "init_patch_merging_params", "init_relative_position_bias_params",
           "init_swin_block_params", "init_window_attention_params", "patch_embedding_backward",
           "patch_embedding_forward", "patch_merging_backward", "patch_merging_forward",
           "patch_partition", "relative_coords_table", "relative_position_bias_backward",
           "relative_position_bias_forward", "relative_position_index", "shifted_window_mask",
           "swin_block_backward", "swin_block_forward", "window_attention_backward",
           "window_attention_forward", "window_partition", "window_reverse"]
