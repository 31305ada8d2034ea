"""Attention as ``torch`` code and ``nn.Module``s, mirroring ``seqlearn.numpy.attention``.

Masks are boolean tensors with **True = may attend** (a real token, an allowed key), the
convention of ``torch.nn.functional.scaled_dot_product_attention``'s boolean ``attn_mask``:
:func:`causal_mask` for a decoder, ``seqlearn.torch.common.padding_mask(lengths, T)`` for padded
keys, checked by ``seqlearn.torch.common.check_mask``. ``nn.MultiheadAttention``'s boolean masks
mean the opposite (True = blocked): the conversions below invert them. A query row that may
attend to no key at all is an error.

Row-vector convention as everywhere in the package: ``Q = query W_q + b_q`` with ``W_q`` (D, D).

* :func:`scaled_dot_product_attention` — softmax(Q Kᵀ · scale + mask) V, written out;
* :class:`AttentionPooling` — attention-based pooling of a bag of instances (Ilse et al., 2018);
* :class:`AdditiveAttention` — e_tj = tanh(q_t W_q + k_j W_k) · w_a (Bahdanau et al., 2015);
* :class:`MultiHeadAttention` — h heads of scaled dot-product attention (Vaswani et al., 2017),
  convertible to and from ``nn.MultiheadAttention(batch_first=True)``.
"""

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..numpy.attention import MHA_PARAM_NAMES
from ..numpy.common import check_param_dict
from ..validate import check_device, describe, check_positive_int, check_tensor
from .common import check_like_parameters, check_mask, copy_numpy_params


# -- masks ----------------------------------------------------------------------------------------
def causal_mask(T, device=None):
    """(T, T) boolean mask, True on and below the diagonal: position t may attend to 0..t."""
    device = check_device("device", device)
    T = check_positive_int("T", T)
    return torch.ones((T, T), dtype=torch.bool, device=device).tril_()


def _masked_softmax(scores, mask):
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=-1)


# -- scaled dot-product attention -----------------------------------------------------------------
def scaled_dot_product_attention(q, k, v, mask=None, scale=None):
    """Scaled dot-product attention, step by step (Vaswani et al., 2017)::

        S = Q Kᵀ · scale,   S_ij = −∞ where mask_ij is False,   A = softmax_j(S),   out = A V

    Parameters
    ----------
    q : (..., Tq, d) queries; k : (..., Tk, d) keys; v : (..., Tk, dv) values — the same
        leading dimensions (batch, heads, ...), dtype and device
    mask : optional boolean tensor broadcastable to (..., Tq, Tk), True = may attend
    scale : the factor of the scores, 1/√d by default (``scale=1.0`` gives plain dot-product
        scoring, Luong et al., 2015)

    Returns ``out`` (..., Tq, dv) and the attention weights ``A`` (..., Tq, Tk) (rows sum to 1).
    ``torch.nn.functional.scaled_dot_product_attention`` computes the same ``out`` in one fused
    kernel (and never forms ``A``).
    """
    check_tensor("q", q)
    check_tensor("k", k)
    check_tensor("v", v)
    if q.dim() < 2:
        raise ValueError(f"q: expected at least 2 dimensions (..., Tq, d), got {describe(q)}")
    for name, t in (("k", k), ("v", v)):
        if t.dim() != q.dim():
            raise ValueError(f"{name}: expected {q.dim()} dimensions like q, got {describe(t)}")
        if t.shape[:-2] != q.shape[:-2]:
            raise ValueError(f"{name}: expected leading dimensions {tuple(q.shape[:-2])} like q, "
                             f"got {describe(t)}")
        if t.dtype != q.dtype or t.device != q.device:
            raise TypeError(f"{name}: expected dtype {q.dtype} on {q.device} like q, got "
                            f"{describe(t)} on {t.device}")
    if k.shape[-1] != q.shape[-1]:
        raise ValueError(f"k: expected the last dimension {q.shape[-1]} (that of q), got "
                         f"{describe(k)}")
    if v.shape[-2] != k.shape[-2]:
        raise ValueError(f"v: expected {k.shape[-2]} values, one per key (v.shape[-2] == "
                         f"k.shape[-2]), got {describe(v)}")
    if scale is None:
        scale = 1.0 / math.sqrt(q.shape[-1])
    elif isinstance(scale, bool) or not isinstance(scale, (int, float)) or not scale > 0:
        raise ValueError(f"scale: expected a positive number or None, got {scale!r}")
    mask = check_mask(mask, (*q.shape[:-1], k.shape[-2]), device=q.device)
    scores = torch.matmul(q * scale, k.transpose(-2, -1))
    weights = _masked_softmax(scores, mask)
    return torch.matmul(weights, v), weights


# -- attention pooling ----------------------------------------------------------------------------
class AttentionPooling(nn.Module):
    """Attention-based pooling of a bag of n instances (Ilse et al., 2018)::

        e_i = tanh(x_i W_a) · w_a,   α = softmax_i(e) (masked instances get 0),   x̄ = Σ_i α_i x_i

    Parameters ``W_a`` (D, A) and ``w_a`` (A,), initialised from U(-√(6/(D+A)), +) (Xavier) and
    U(-1/√A, 1/√A).
    """

    def __init__(self, input_size, attention_size, dtype=None, device=None):
        device = check_device("device", device)
        super().__init__()
        self.input_size = check_positive_int("input_size", input_size)
        self.attention_size = check_positive_int("attention_size", attention_size)
        D, A = self.input_size, self.attention_size
        factory = {"dtype": dtype, "device": device}
        bound = math.sqrt(6.0 / (D + A))
        self.W_a = nn.Parameter(torch.empty((D, A), **factory).uniform_(-bound, bound))
        self.w_a = nn.Parameter(torch.empty((A,), **factory).uniform_(-1 / math.sqrt(A),
                                                                      1 / math.sqrt(A)))

    def extra_repr(self):
        return f"input_size={self.input_size}, attention_size={self.attention_size}"

    def forward(self, X, mask=None):
        """``X`` (B, n, D), ``mask`` optional (B, n) bool (True = a real instance).
        Returns the pooled vectors x̄ (B, D) and the weights α (B, n)."""
        check_tensor("X", X, ndim=3, last_dim=self.input_size)
        check_like_parameters("X", X, self.W_a)
        mask = check_mask(mask, X.shape[:2], device=X.device)
        scores = torch.tanh(X @ self.W_a) @ self.w_a
        weights = _masked_softmax(scores, mask)
        return torch.bmm(weights.unsqueeze(1), X).squeeze(1), weights

    @classmethod
    def from_numpy(cls, params, dtype=torch.float64, device=None):
        """From ``{"W_a": (D, A), "w_a": (A,)}`` as made by
        ``seqlearn.numpy.attention.init_attention_pooling_params``."""
        device = check_device("device", device)
        check_param_dict(params, ("W_a", "w_a"))
        W_a = np.asarray(params["W_a"])
        if W_a.ndim != 2:
            raise ValueError(f"params['W_a']: expected shape (D, A), got {describe(W_a)}")
        model = cls(*W_a.shape, dtype=dtype, device=device)
        return copy_numpy_params(model, params, {"W_a": W_a.shape, "w_a": (W_a.shape[1],)})

    def to_numpy(self):
        """``{"W_a", "w_a"}`` as NumPy arrays."""
        return {"W_a": self.W_a.detach().cpu().numpy().copy(),
                "w_a": self.w_a.detach().cpu().numpy().copy()}


# -- additive attention ---------------------------------------------------------------------------
class AdditiveAttention(nn.Module):
    """Additive (Bahdanau) attention (Bahdanau et al., 2015)::

        e_tj = tanh(q_t W_q + k_j W_k) · w_a,   α_t = softmax_j(e_t),   c_t = Σ_j α_tj v_j

    Parameters ``W_q`` (Dq, A), ``W_k`` (Dk, A) (Xavier uniform) and ``w_a`` (A,)
    (U(-1/√A, 1/√A)).
    """

    def __init__(self, query_size, key_size, attention_size, dtype=None, device=None):
        device = check_device("device", device)
        super().__init__()
        self.query_size = check_positive_int("query_size", query_size)
        self.key_size = check_positive_int("key_size", key_size)
        self.attention_size = check_positive_int("attention_size", attention_size)
        Dq, Dk, A = self.query_size, self.key_size, self.attention_size
        factory = {"dtype": dtype, "device": device}
        bq, bk = math.sqrt(6.0 / (Dq + A)), math.sqrt(6.0 / (Dk + A))
        self.W_q = nn.Parameter(torch.empty((Dq, A), **factory).uniform_(-bq, bq))
        self.W_k = nn.Parameter(torch.empty((Dk, A), **factory).uniform_(-bk, bk))
        self.w_a = nn.Parameter(torch.empty((A,), **factory).uniform_(-1 / math.sqrt(A),
                                                                      1 / math.sqrt(A)))

    def extra_repr(self):
        return (f"query_size={self.query_size}, key_size={self.key_size}, "
                f"attention_size={self.attention_size}")

    def forward(self, query, keys, values, mask=None):
        """Attend from each query to the Tk keys.

        Parameters
        ----------
        query : (B, Tq, Dq) — or (B, Dq) for a single step (then the outputs drop the Tq axis)
        keys : (B, Tk, Dk); values : (B, Tk, Dv)
        mask : optional bool (B, Tk) or (B, Tq, Tk), True = may attend

        Returns ``context`` (B, Tq, Dv) and ``weights`` α (B, Tq, Tk).
        """
        check_tensor("query", query, last_dim=self.query_size)
        if query.dim() not in (2, 3):
            raise ValueError(f"query: expected shape (B, Tq, {self.query_size}) or "
                             f"(B, {self.query_size}), got {describe(query)}")
        check_like_parameters("query", query, self.W_q)
        single = query.dim() == 2
        if single:
            query = query.unsqueeze(1)
        B, Tq, _ = query.shape
        check_tensor("keys", keys, ndim=3, last_dim=self.key_size)
        check_like_parameters("keys", keys, self.W_k)
        check_tensor("values", values, ndim=3)
        check_like_parameters("values", values, self.W_k)
        Tk = keys.shape[1]
        if keys.shape[0] != B:
            raise ValueError(f"keys: expected batch size {B} like query, got {describe(keys)}")
        if values.shape[:2] != keys.shape[:2]:
            raise ValueError(f"values: expected shape ({B}, {Tk}, Dv), one value per key, got "
                             f"{describe(values)}")
        if mask is not None and isinstance(mask, torch.Tensor) and mask.dim() == 2:
            if tuple(mask.shape) != (B, Tk):
                raise ValueError(f"mask: expected shape ({B}, {Tk}) or ({B}, {Tq}, {Tk}), got "
                                 f"{tuple(mask.shape)}")
            mask = mask.unsqueeze(1)
        mask = check_mask(mask, (B, Tq, Tk), device=query.device)
        hidden = torch.tanh((query @ self.W_q).unsqueeze(2) + (keys @ self.W_k).unsqueeze(1))
        scores = hidden @ self.w_a                        # (B, Tq, Tk)
        weights = _masked_softmax(scores, mask)
        context = torch.bmm(weights, values)
        if single:
            return context.squeeze(1), weights.squeeze(1)
        return context, weights

    @classmethod
    def from_numpy(cls, params, dtype=torch.float64, device=None):
        """From ``{"W_q": (Dq, A), "W_k": (Dk, A), "w_a": (A,)}`` as made by
        ``seqlearn.numpy.attention.init_additive_attention_params``."""
        device = check_device("device", device)
        check_param_dict(params, ("W_q", "W_k", "w_a"))
        W_q, W_k = np.asarray(params["W_q"]), np.asarray(params["W_k"])
        if W_q.ndim != 2 or W_k.ndim != 2:
            raise ValueError(f"params: expected W_q (Dq, A) and W_k (Dk, A), got shapes "
                             f"{W_q.shape} and {W_k.shape}")
        A = W_q.shape[1]
        model = cls(W_q.shape[0], W_k.shape[0], A, dtype=dtype, device=device)
        return copy_numpy_params(model, params,
                                 {"W_q": W_q.shape, "W_k": (W_k.shape[0], A), "w_a": (A,)})

    def to_numpy(self):
        """``{"W_q", "W_k", "w_a"}`` as NumPy arrays."""
        return {name: getattr(self, name).detach().cpu().numpy().copy()
                for name in ("W_q", "W_k", "w_a")}


# -- multi-head attention -------------------------------------------------------------------------
class MultiHeadAttention(nn.Module):
    """Multi-head attention (Vaswani et al., 2017), batch-first::

        Q = query W_q + b_q,  K = key W_k + b_k,  V = value W_v + b_v      (B, T, D)
        head_i = softmax(Q_i K_iᵀ / √d_k + mask) V_i   with Q_i = Q[..., i d_k:(i+1) d_k]
        out = [head_1 | ... | head_h] W_o + b_o,       d_k = D / h, h = num_heads

    Parameters ``W_q``, ``W_k``, ``W_v``, ``W_o`` (D, D) from U(-√(6/2D), √(6/2D)) (Xavier) and
    ``b_q``, ``b_k``, ``b_v``, ``b_o`` (D,) zeros (``None`` when ``bias=False``).

    ``fused=True``: when the weights are not asked for, the core softmax(...)V runs in
    ``torch.nn.functional.scaled_dot_product_attention`` (one fused kernel: faster, less
    memory); ``fused=False`` always uses the explicit :func:`scaled_dot_product_attention`.
    ``nn.MultiheadAttention`` stores the same numbers transposed:
    ``in_proj_weight = [W_qᵀ; W_kᵀ; W_vᵀ]``, ``out_proj.weight = W_oᵀ``.
    """

    def __init__(self, d_model, num_heads, bias=True, dtype=None, device=None, fused=True):
        device = check_device("device", device)
        super().__init__()
        self.d_model = check_positive_int("d_model", d_model)
        self.num_heads = check_positive_int("num_heads", num_heads)
        if self.d_model % self.num_heads:
            raise ValueError(f"num_heads: d_model={self.d_model} must be divisible by "
                             f"num_heads={self.num_heads}")
        self.head_size = self.d_model // self.num_heads
        self.bias = bool(bias)
        self.fused = bool(fused)
        D = self.d_model
        factory = {"dtype": dtype, "device": device}
        bound = math.sqrt(6.0 / (D + D))
        for name in ("W_q", "W_k", "W_v", "W_o"):
            self.register_parameter(
                name, nn.Parameter(torch.empty((D, D), **factory).uniform_(-bound, bound)))
        for name in ("b_q", "b_k", "b_v", "b_o"):
            self.register_parameter(
                name, nn.Parameter(torch.zeros(D, **factory)) if self.bias else None)

    def extra_repr(self):
        return (f"d_model={self.d_model}, num_heads={self.num_heads}, bias={self.bias}, "
                f"fused={self.fused}")

    def _project(self, x, W, b):
        B, T, D = x.shape
        y = x @ W if b is None else torch.addmm(b, x.reshape(B * T, D), W).view(B, T, D)
        return y.view(B, T, self.num_heads, self.head_size).transpose(1, 2)

    def forward(self, query, key, value, mask=None, need_weights=False):
        """Attend from ``query`` (B, Tq, D) to ``key``/``value`` (B, Tk, D).

        ``mask``: optional boolean tensor broadcastable to (B, num_heads, Tq, Tk), True = may
        attend — (Tq, Tk) for a causal mask, (B, 1, 1, Tk) for source padding, ...
        Returns ``out`` (B, Tq, D), or ``(out, weights)`` with ``weights`` (B, num_heads, Tq, Tk)
        when ``need_weights``.
        """
        D = self.d_model
        check_tensor("query", query, ndim=3, last_dim=D)
        check_tensor("key", key, ndim=3, last_dim=D)
        check_tensor("value", value, ndim=3, last_dim=D)
        check_like_parameters("query", query, self.W_q)
        check_like_parameters("key", key, self.W_q)
        check_like_parameters("value", value, self.W_q)
        B, Tq, _ = query.shape
        Tk = key.shape[1]
        if key.shape[0] != B or value.shape[0] != B:
            raise ValueError(f"key/value: expected batch size {B} like query, got "
                             f"{describe(key)} and {describe(value)}")
        if value.shape[1] != Tk:
            raise ValueError(f"value: expected {Tk} steps like key, got {describe(value)}")
        mask = check_mask(mask, (B, self.num_heads, Tq, Tk), device=query.device)
        Q = self._project(query, self.W_q, self.b_q)      # (B, h, Tq, d_k)
        K = self._project(key, self.W_k, self.b_k)
        V = self._project(value, self.W_v, self.b_v)
        if self.fused and not need_weights:
            heads = F.scaled_dot_product_attention(Q, K, V, attn_mask=mask)
            weights = None
        else:
            heads, weights = scaled_dot_product_attention(Q, K, V, mask)
        concat = heads.transpose(1, 2).reshape(B * Tq, D)
        out = (concat @ self.W_o if self.b_o is None
               else torch.addmm(self.b_o, concat, self.W_o)).view(B, Tq, D)
        return (out, weights) if need_weights else out

    # -- conversions --------------------------------------------------------------------------
    @classmethod
    def from_numpy(cls, params, num_heads, dtype=torch.float64, device=None, fused=True):
        """From the dict of ``seqlearn.numpy.attention.init_multi_head_attention_params``
        (``W_q``, ``W_k``, ``W_v``, ``W_o`` (D, D); ``b_q``, ``b_k``, ``b_v``, ``b_o`` (D,))."""
        device = check_device("device", device)
        check_param_dict(params, MHA_PARAM_NAMES)
        W_q = np.asarray(params["W_q"])
        if W_q.ndim != 2 or W_q.shape[0] != W_q.shape[1]:
            raise ValueError(f"params['W_q']: expected shape (D, D), got {describe(W_q)}")
        D = W_q.shape[0]
        model = cls(D, num_heads, dtype=dtype, device=device, fused=fused)
        return copy_numpy_params(model, params, {name: (D,) if name.startswith("b") else (D, D)
                                                 for name in MHA_PARAM_NAMES})

    def to_numpy(self):
        """The 8 parameters as NumPy arrays (zero biases when ``bias=False``)."""
        out = {}
        for name in MHA_PARAM_NAMES:
            p = getattr(self, name)
            out[name] = (np.zeros(self.d_model, dtype=self.W_q.detach().cpu().numpy().dtype)
                         if p is None else p.detach().cpu().numpy().copy())
        return out

    def to_torch_builtin(self):
        """An ``nn.MultiheadAttention(batch_first=True)`` computing the same function. Its
        boolean masks mean True = blocked: pass ``attn_mask=~mask``."""
        W = self.W_q
        mha = nn.MultiheadAttention(self.d_model, self.num_heads, bias=self.bias,
                                    batch_first=True, dtype=W.dtype, device=W.device)
        with torch.no_grad():
            mha.in_proj_weight.copy_(torch.cat([self.W_q.T, self.W_k.T, self.W_v.T]))
            mha.out_proj.weight.copy_(self.W_o.T)
            if self.bias:
                mha.in_proj_bias.copy_(torch.cat([self.b_q, self.b_k, self.b_v]))
                mha.out_proj.bias.copy_(self.b_o)
        return mha

    @classmethod
    def from_torch_builtin(cls, module, fused=True):
        """Copy an ``nn.MultiheadAttention`` made with ``batch_first=True``:
        ``[W_qᵀ; W_kᵀ; W_vᵀ] = in_proj_weight``, ``W_o = out_proj.weightᵀ``."""
        if not isinstance(module, nn.MultiheadAttention):
            raise TypeError(f"module: expected a torch.nn.MultiheadAttention, got "
                            f"{type(module).__name__}")
        if not module.batch_first:
            raise ValueError("module: expected batch_first=True (this package is batch-first)")
        if not module._qkv_same_embed_dim:
            raise ValueError("module: kdim/vdim different from embed_dim have no equivalent here")
        if module.bias_k is not None or module.add_zero_attn:
            raise ValueError("module: add_bias_kv / add_zero_attn have no equivalent here")
        if module.dropout:
            raise ValueError(f"module: dropout={module.dropout} has no equivalent here; set "
                             f"module.dropout = 0 first")
        D = module.embed_dim
        W = module.in_proj_weight
        bias = module.in_proj_bias is not None
        model = cls(D, module.num_heads, bias=bias, dtype=W.dtype, device=W.device, fused=fused)
        with torch.no_grad():
            W_q, W_k, W_v = W.split(D)
            model.W_q.copy_(W_q.T)
            model.W_k.copy_(W_k.T)
            model.W_v.copy_(W_v.T)
            model.W_o.copy_(module.out_proj.weight.T)
            if bias:
                b_q, b_k, b_v = module.in_proj_bias.split(D)
                model.b_q.copy_(b_q)
                model.b_k.copy_(b_k)
                model.b_v.copy_(b_v)
                model.b_o.copy_(module.out_proj.bias)
        return model


__all__ = ["AdditiveAttention", "AttentionPooling", "MHA_PARAM_NAMES", "MultiHeadAttention",
           "causal_mask", "scaled_dot_product_attention"]
