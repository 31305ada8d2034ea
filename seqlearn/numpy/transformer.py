"""The pieces of the Transformer (Vaswani et al. 2017): sinusoidal positional encoding, the
position-wise feed-forward network, and the post-LN encoder and decoder blocks.

Row-vector, batch-first convention, x (B, T, D) with D = d_model::

    PE[t, 2i]   = sin(ω_i t)   PE[t, 2i+1] = cos(ω_i t)   ω_i = 10000^(−2i/D), i = 0 .. D/2 − 1
    FF(x)       = relu(x W_1 + b_1) W_2 + b_2  W_1 (D, F), W_2 (F, D)

    encoder block (post-LN, as in the paper and ``nn.TransformerEncoderLayer(norm_first=False)``)
        y = LN_1(x + MHA(x, x, x, mask))
        z = LN_2(y + FF(y))

    decoder block (``nn.TransformerDecoderLayer(norm_first=False)``)
        y = LN_1(x + MHA(x, x, x, self_mask))            masked (causal) self-attention
        u = LN_2(y + MHA(y, memory, memory, memory_mask)) cross-attention to the encoder output
        z = LN_3(u + FF(u))

MHA is :func:`seqlearn.numpy.attention.multi_head_attention_forward`, LN is
:func:`seqlearn.numpy.layernorm.layer_norm_forward` (Ba et al. 2016). Masks are bool, True = may
attend. Self-attention alone is permutation-equivariant — permuting the tokens permutes the
outputs — so the order of a sequence reaches the model only through the positional encoding added
to the inputs. There is no dropout here (the reference is deterministic).
"""

import numpy as np

from ..validate import as_float_array, as_generator, check_positive_int
from .attention import (init_multi_head_attention_params,
                        multi_head_attention_backward, multi_head_attention_forward)
from .common import check_mask, check_param_dict
from .layernorm import init_layer_norm_params, layer_norm_backward, layer_norm_forward


def sinusoidal_positional_encoding(T, d_model):
    """(T, D) table PE[t, 2i] = sin(ω_i t), PE[t, 2i+1] = cos(ω_i t), ω_i = 10000^(−2i/D).

    Each pair of columns i = 0 .. D/2 − 1 is a rotation at its own frequency ω_i, from one radian
    per position (i = 0) down to ω_{D/2−1} = 10000^(−(D−2)/D) for the last pair (1/10000 only in
    the limit of large D; 1.33e-4 for D = 64), so PE[t + k] = PE[t] R_k, a fixed rotation of
    PE[t] for every t. ``d_model`` must be even.
    """
    T = check_positive_int("T", T)
    D = check_positive_int("d_model", d_model)
    if D % 2:
        raise ValueError(f"d_model: expected an even number (sin/cos pairs), got {D}")
    angles = np.arange(T)[:, None] / 10000.0 ** (np.arange(0, D, 2) / D)   # (T, D/2)
    pe = np.empty((T, D))
    pe[:, 0::2] = np.sin(angles)
    pe[:, 1::2] = np.cos(angles)
    return pe


# ------------------------------------------------------------------------------ feed-forward
def init_feed_forward_params(d_model, d_ff, rng=None):
    """``W_1`` (D, F), ``b_1`` (F,) ~ U(±1/√D) and ``W_2`` (F, D), ``b_2`` (D,) ~ U(±1/√F)
    (the initialisation of ``nn.Linear``)."""
    rng = as_generator(rng)
    D = check_positive_int("d_model", d_model)
    F = check_positive_int("d_ff", d_ff)
    s1, s2 = 1 / np.sqrt(D), 1 / np.sqrt(F)
    return {"W_1": rng.uniform(-s1, s1, size=(D, F)), "b_1": rng.uniform(-s1, s1, size=F),
            "W_2": rng.uniform(-s2, s2, size=(F, D)), "b_2": rng.uniform(-s2, s2, size=D)}


def feed_forward_forward(x, params):
    """Position-wise feed-forward network y = relu(x W_1 + b_1) W_2 + b_2, applied to every
    position alike.

    ``x`` (..., D); ``params`` with ``W_1`` (D, F), ``b_1`` (F,), ``W_2`` (F, D), ``b_2`` (D,).
    Returns ``y`` (..., D) and the cache of :func:`feed_forward_backward`.
    The cache holds the inputs and parameters themselves, not copies.
    """
    check_param_dict(params, ("W_1", "b_1", "W_2", "b_2"))
    W_1 = as_float_array("params['W_1']", params["W_1"], ndim=2)
    D, F = W_1.shape
    b_1 = as_float_array("params['b_1']", params["b_1"], shape=(F,))
    W_2 = as_float_array("params['W_2']", params["W_2"], shape=(F, D))
    b_2 = as_float_array("params['b_2']", params["b_2"], shape=(D,))
    x = as_float_array("x", x)
    if x.shape[-1] != D:
        raise ValueError(f"x: expected shape (..., {D}) (D = rows of W_1), got shape {x.shape}")
    W_1, b_1, W_2, b_2 = (a.astype(x.dtype, copy=False) for a in (W_1, b_1, W_2, b_2))
    hidden = x @ W_1
    hidden += b_1
    np.maximum(hidden, 0, out=hidden)
    y = hidden @ W_2
    y += b_2
    return y, {"x": x, "hidden": hidden, "W_1": W_1, "W_2": W_2}


def feed_forward_backward(dy, cache):
    """Backward pass of :func:`feed_forward_forward`, with r = relu(x W_1 + b_1)::

        dr = dy W_2ᵀ ⊙ [r > 0]
        ∂L/∂x = dr W_1ᵀ,  ∂L/∂W_1 = Σ xᵀ dr,  ∂L/∂b_1 = Σ dr,  ∂L/∂W_2 = Σ rᵀ dy,  ∂L/∂b_2 = Σ dy

    Returns ``dx`` (..., D) and ``{"W_1", "b_1", "W_2", "b_2"}``.
    """
    x, hidden, W_1, W_2 = cache["x"], cache["hidden"], cache["W_1"], cache["W_2"]
    D, F = W_1.shape
    dy = as_float_array("dy", dy, shape=x.shape).astype(x.dtype, copy=False)
    dy2, h2 = dy.reshape(-1, D), hidden.reshape(-1, F)
    dh = dy2 @ W_2.T
    dh *= h2 > 0
    grads = {"W_1": x.reshape(-1, D).T @ dh, "b_1": dh.sum(axis=0),
             "W_2": h2.T @ dy2, "b_2": dy2.sum(axis=0)}
    return (dh @ W_1.T).reshape(x.shape), grads


# ------------------------------------------------------------------------------ encoder block
def init_encoder_block_params(d_model, num_heads, d_ff, rng=None):
    """``{"attention": MHA params, "norm_1": LN params, "feed_forward": FF params,
    "norm_2": LN params}`` for :func:`encoder_block_forward`."""
    rng = as_generator(rng)
    return {"attention": init_multi_head_attention_params(d_model, num_heads, rng),
            "norm_1": init_layer_norm_params(d_model),
            "feed_forward": init_feed_forward_params(d_model, d_ff, rng),
            "norm_2": init_layer_norm_params(d_model)}


def _add_and_norm(x, sublayer_out, norm, eps):
    """LN(x + Sublayer(x)): the residual connection and layer norm around every sub-layer;
    ``norm`` holds ``gamma`` and ``beta``. Returns the output and the layer norm's cache."""
    return layer_norm_forward(x + sublayer_out, norm, eps)


def encoder_block_forward(x, params, num_heads, mask=None, eps=1e-5):
    """One post-LN Transformer encoder block::

        y = LN_1(x + MHA(x, x, x, mask))
        z = LN_2(y + FF(y))

    Parameters
    ----------
    x : (B, T, D)
    params : ``{"attention", "norm_1", "feed_forward", "norm_2"}`` (see
        :func:`init_encoder_block_params`)
    num_heads : number of attention heads, a divisor of D
    mask : optional bool broadcastable to (B, num_heads, T, T), True = may attend (padding:
        ``padding_mask(lengths, T)[:, None, None, :]``)
    eps : ε of both layer norms

    Returns ``z`` (B, T, D) and the cache of :func:`encoder_block_backward`; ``cache["weights"]``
    holds the attention weights (B, num_heads, T, T).
    The cache holds the inputs and parameters themselves, not copies.
    """
    check_param_dict(params, ("attention", "norm_1", "feed_forward", "norm_2"))
    x = as_float_array("x", x, ndim=3)
    attn, weights, c_attn = multi_head_attention_forward(x, x, x, params["attention"], num_heads,
                                                         mask=mask)
    y, c_n1 = _add_and_norm(x, attn, params["norm_1"], eps)
    f, c_ff = feed_forward_forward(y, params["feed_forward"])
    z, c_n2 = _add_and_norm(y, f, params["norm_2"], eps)
    cache = {"attention": c_attn, "norm_1": c_n1, "feed_forward": c_ff, "norm_2": c_n2,
             "weights": weights}
    return z, cache


def encoder_block_backward(dz, cache):
    """Backward pass of :func:`encoder_block_forward`, layer by layer in reverse::

        d(y + f) = LN_2ᵀ(dz);   dy = d(y + f) + FF_backward(d(y + f))
        d(x + a) = LN_1ᵀ(dy);   dx = d(x + a) + dquery + dkey + dvalue
                                (the residual, plus x as query, key and value)

    Returns ``dx`` (B, T, D) and the gradients nested like the parameters.
    """
    dz = as_float_array("dz", dz, shape=cache["norm_2"]["x_hat"].shape)
    ds2, g_n2 = layer_norm_backward(dz, cache["norm_2"])
    dy_ff, g_ff = feed_forward_backward(ds2, cache["feed_forward"])
    dy = ds2 + dy_ff
    ds1, g_n1 = layer_norm_backward(dy, cache["norm_1"])
    dq, dk, dv, g_attn = multi_head_attention_backward(ds1, cache["attention"])
    dx = ds1 + dq
    dx += dk
    dx += dv
    grads = {"attention": g_attn, "norm_1": g_n1, "feed_forward": g_ff, "norm_2": g_n2}
    return dx, grads


# ------------------------------------------------------------------------------ decoder block
def init_decoder_block_params(d_model, num_heads, d_ff, rng=None):
    """``{"self_attention", "norm_1", "cross_attention", "norm_2", "feed_forward", "norm_3"}``
    for :func:`decoder_block_forward`."""
    rng = as_generator(rng)
    return {"self_attention": init_multi_head_attention_params(d_model, num_heads, rng),
            "norm_1": init_layer_norm_params(d_model),
            "cross_attention": init_multi_head_attention_params(d_model, num_heads, rng),
            "norm_2": init_layer_norm_params(d_model),
            "feed_forward": init_feed_forward_params(d_model, d_ff, rng),
            "norm_3": init_layer_norm_params(d_model)}


def decoder_block_forward(x, memory, params, num_heads, self_mask=None, memory_mask=None,
                          eps=1e-5):
    """One post-LN Transformer decoder block (forward only)::

        y = LN_1(x + MHA(x, x, x, self_mask))
        u = LN_2(y + MHA(y, memory, memory, memory_mask))
        z = LN_3(u + FF(u))

    Parameters
    ----------
    x : (B, T, D) the (shifted) target sequence
    memory : (B, S, D) the encoder's output
    params : see :func:`init_decoder_block_params`
    num_heads : number of heads of both attentions
    self_mask : optional bool broadcastable to (B, num_heads, T, T), usually ``causal_mask(T)``
    memory_mask : optional bool broadcastable to (B, num_heads, T, S), usually the source padding
        ``padding_mask(src_lengths, S)[:, None, None, :]``

    Returns ``z`` (B, T, D) and a cache whose ``"self_weights"`` (B, num_heads, T, T) and
    ``"cross_weights"`` (B, num_heads, T, S) are the attention weights.
    The cache holds the inputs and parameters themselves, not copies.
    """
    check_param_dict(params, ("self_attention", "norm_1", "cross_attention", "norm_2",
                              "feed_forward", "norm_3"))
    x = as_float_array("x", x, ndim=3)
    memory = as_float_array("memory", memory, shape=(x.shape[0], None, x.shape[2]))
    num_heads = check_positive_int("num_heads", num_heads)
    (B, T, _), S = x.shape, memory.shape[1]
    self_mask = check_mask(self_mask, (B, num_heads, T, T), name="self_mask")
    memory_mask = check_mask(memory_mask, (B, num_heads, T, S), name="memory_mask")
    a, w_self, c_self = multi_head_attention_forward(x, x, x, params["self_attention"],
                                                     num_heads, mask=self_mask)
    y, c_n1 = _add_and_norm(x, a, params["norm_1"], eps)
    c, w_cross, c_cross = multi_head_attention_forward(y, memory, memory,
                                                       params["cross_attention"], num_heads,
                                                       mask=memory_mask)
    u, c_n2 = _add_and_norm(y, c, params["norm_2"], eps)
    f, c_ff = feed_forward_forward(u, params["feed_forward"])
    z, c_n3 = _add_and_norm(u, f, params["norm_3"], eps)
    cache = {"self_attention": c_self, "norm_1": c_n1, "cross_attention": c_cross,
             "norm_2": c_n2, "feed_forward": c_ff, "norm_3": c_n3,
             "self_weights": w_self, "cross_weights": w_cross}
    return z, cache


__all__ = ["decoder_block_forward", "encoder_block_backward", "encoder_block_forward",
           "feed_forward_backward", "feed_forward_forward", "init_decoder_block_params",
           "init_encoder_block_params", "init_feed_forward_params",
           "sinusoidal_positional_encoding"]
