"""The Swin Transformer v2 (Liu et al., 2022) as ``nn.Module``s, mirroring ``seqlearn.numpy.swin``.

Images and feature maps are channels-last, ``(B, H, W, C)`` and ``(B, H, W, D)``: the last axis
holds a token's vector, as ``(B, T, D)`` does for sequences. A window of M × M tokens is a
sequence of N = M² tokens, read row by row.

* :func:`patch_partition`, :class:`PatchEmbedding` — p × p patches of pixels as tokens,
  x = patch W + b (the Vision Transformer's first layer, Dosovitskiy et al., 2021);
* :func:`window_partition`, :func:`window_reverse` — (B, H, W, D) <-> (B, nW, M², D);
* :func:`cyclic_shift`, :func:`shifted_window_mask` — the shifted windows: roll the map by
  (−s, −s), attend in the windows of the rolled map, with a mask that keeps tokens which were
  not neighbours in the image apart, and roll back;
* :func:`relative_position_index`, :class:`RelativePositionBias` — Swin v1's bias
  B_ij = B̂[Δr_ij, Δc_ij], one learned number per relative offset and head;
* :func:`relative_coords_table`, :class:`ContinuousPositionBias` — Swin v2's bias, an MLP 𝒢 of
  the (log-spaced) offsets, B = 16 σ(𝒢(Δ̂));
* :class:`WindowAttention` — multi-head attention inside each window, scaled cosine
  (Sim = cos(q, k)/τ + B, τ ≥ 0.01, learned per head) or scaled dot-product (q·k/√d + B);
  its projections are chapter 8's :class:`~seqlearn.torch.attention.MultiHeadAttention`;
* :class:`SwinBlock` — (shifted) window attention and chapter 8's
  :class:`~seqlearn.torch.transformer.FeedForward`, with residual post-normalisation (v2)::

      y = x + LN_1(WA(x)),   z = y + LN_2(FF(y))            norm="post" (Swin v2)
      y = x + WA(LN_1(x)),   z = y + FF(LN_2(y))            norm="pre"  (Swin v1, ViT)

* :class:`PatchMerging` — 2 × 2 neighbouring tokens concatenated, (4D → 2D) W, then LN;
* :class:`SwinV2` — a small classifier: patch embedding, stages of blocks with patch merging
  between them, LN, average pooling and a linear head; :class:`VisionTransformer` — the ViT
  control with global attention over all patches (chapter 8's pre-LN encoder blocks);
* :func:`train_classifier`, :func:`classifier_accuracy` — training (with the package's
  ``fit``) and test accuracy of either.

Masks are boolean, True = may attend, as everywhere in the package (the reference
implementation adds −100 to blocked scores instead; the two agree unless a score exceeds about
100). The MLP of the blocks is chapter 8's ReLU feed-forward; the paper's uses GELU.
"""

import math
from functools import lru_cache

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..numpy.attention import MHA_PARAM_NAMES
from ..numpy.common import check_param_dict
from ..validate import (check_device, check_positive_int, check_positive_number, check_tensor,
                        describe)
from .attention import MultiHeadAttention
from .common import as_torch_generator, check_like_parameters, copy_numpy_params
from .layernorm import LayerNorm
from .train import fit
from .transformer import EncoderBlock, FeedForward

#: log(1/0.01): the largest logit scale 1/τ of cosine attention (τ ≥ 0.01), as in the paper.
MAX_LOGIT_SCALE = math.log(100.0)
#: The ways to compute the relative position bias: Swin v1's table, and Swin v2's MLP of
#: linear- or log-spaced offsets.
POSITION_BIASES = ("table", "linear-cpb", "log-cpb")
#: The orders of normalisation in a block.
NORMS = ("post", "pre")


# -- windows ---------------------------------------------------------------------------------------
def _check_map(name, x, size, what="window_size"):
    check_tensor(name, x, ndim=4)
    B, H, W, _ = x.shape
    if H % size or W % size:
        raise ValueError(f"{name}: height {H} and width {W} must be divisible by {what}={size}, "
                         f"got {describe(x)}")
    return B, H, W


def window_partition(x, window_size):
    """Cut a feature map into non-overlapping M × M windows.

    ``x`` (B, H, W, D), H and W divisible by M = ``window_size``. Returns (B, nW, M², D),
    nW = (H/M)(W/M): window w = (i, j) at rows iM..iM+M−1 and columns jM..jM+M−1 is number
    w = i·W/M + j, and its tokens are read row by row.
    """
    M = check_positive_int("window_size", window_size)
    B, H, W = _check_map("x", x, M)
    D = x.shape[-1]
    x = x.reshape(B, H // M, M, W // M, M, D).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(B, (H // M) * (W // M), M * M, D)


def window_reverse(windows, window_size, H, W):
    """Put windows back into a map: the inverse of :func:`window_partition`.

    ``windows`` (B, nW, M², D) with nW = (H/M)(W/M). Returns (B, H, W, D).
    """
    M = check_positive_int("window_size", window_size)
    H, W = check_positive_int("H", H), check_positive_int("W", W)
    check_tensor("windows", windows, ndim=4)
    B, nW, N, D = windows.shape
    if H % M or W % M or nW != (H // M) * (W // M) or N != M * M:
        raise ValueError(f"windows: expected shape (B, {(H // M) * (W // M)}, {M * M}, D) for a "
                         f"{H} x {W} map of {M} x {M} windows, got {describe(windows)}")
    x = windows.reshape(B, H // M, W // M, M, M, D).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(B, H, W, D)


def patch_partition(images, patch_size):
    """Cut images into p × p patches and flatten each: a patch is one token.

    ``images`` (B, H, W, C), H and W divisible by p = ``patch_size``. Returns
    (B, H/p, W/p, p²C), each patch's pixels row by row, the channels of a pixel together.
    """
    p = check_positive_int("patch_size", patch_size)
    B, H, W = _check_map("images", images, p, "patch_size")
    C = images.shape[-1]
    return window_partition(images, p).reshape(B, H // p, W // p, p * p * C)


def cyclic_shift(x, shift):
    """Roll a map (B, H, W, D) up and left by ``shift`` rows and columns:
    out[:, i, j] = x[:, (i + s) mod H, (j + s) mod W]. ``cyclic_shift(y, -s)`` undoes it."""
    check_tensor("x", x, ndim=4)
    if isinstance(shift, bool) or not isinstance(shift, (int, np.integer)):
        raise TypeError(f"shift: expected an integer, got {describe(shift)}")
    if shift == 0:
        return x
    return torch.roll(x, shifts=(-int(shift), -int(shift)), dims=(1, 2))


def _check_shift(window_size, shift):
    M = check_positive_int("window_size", window_size)
    if isinstance(shift, bool) or not isinstance(shift, (int, np.integer)) or not 0 <= shift < M:
        raise ValueError(f"shift: expected an integer in 0..{M - 1} (less than window_size), "
                         f"got {shift!r}")
    return M, int(shift)


def shifted_window_mask(H, W, window_size, shift, device=None):
    """The attention mask of the windows of a map rolled by :func:`cyclic_shift`.

    After the roll, the last ``shift`` rows (and columns) of the map hold tokens that were the
    first rows (columns) of the image. Two tokens of one window may attend to each other when
    both or neither came round in the rows, and both or neither in the columns: then they were
    neighbours in the image. Returns (nW, M², M²) bool, True = may attend (all True for
    ``shift=0``).
    """
    device = check_device("device", device)
    H, W = check_positive_int("H", H), check_positive_int("W", W)
    M, s = _check_shift(window_size, shift)
    if H % M or W % M:
        raise ValueError(f"H, W: {H} x {W} must be divisible by window_size={M}")
    wrapped_row = torch.arange(H, device=device) >= H - s
    wrapped_col = torch.arange(W, device=device) >= W - s
    region = 2 * wrapped_row[:, None].long() + wrapped_col[None, :].long()     # (H, W) in 0..3
    regions = window_partition(region[None, :, :, None].float(), M)[0, :, :, 0]  # (nW, M²)
    return regions[:, :, None] == regions[:, None, :]


# -- position biases -------------------------------------------------------------------------------
def relative_position_index(window_size, device=None):
    """(M², M²) int64: index[i, j] = (r_i − r_j + M − 1)(2M − 1) + (c_i − c_j + M − 1), the row
    of the (2M − 1)² table of relative offsets that tokens i and j (at rows r, columns c of the
    window) look up."""
    device = check_device("device", device)
    M = check_positive_int("window_size", window_size)
    r, c = torch.meshgrid(torch.arange(M, device=device), torch.arange(M, device=device),
                          indexing="ij")
    r, c = r.reshape(-1), c.reshape(-1)
    return (r[:, None] - r[None, :] + M - 1) * (2 * M - 1) + (c[:, None] - c[None, :] + M - 1)


_INDEX = {}


def _index(M, device, M0=None):
    """The flattened index of a window of M into the (2M₀ − 1)² table of offsets (M₀ = M by
    default; offsets beyond ±(M₀ − 1) take the table's edge), made once per window and device."""
    M0 = M if M0 is None else M0
    key = (M, M0, str(device))
    if key not in _INDEX:
        r, c = torch.meshgrid(torch.arange(M, device=device), torch.arange(M, device=device),
                              indexing="ij")
        r, c = r.reshape(-1), c.reshape(-1)
        dr = (r[:, None] - r[None, :]).clamp(-(M0 - 1), M0 - 1)
        dc = (c[:, None] - c[None, :]).clamp(-(M0 - 1), M0 - 1)
        _INDEX[key] = ((dr + M0 - 1) * (2 * M0 - 1) + dc + M0 - 1).reshape(-1)
    return _INDEX[key]


def relative_coords_table(window_size, pretrained_window_size=None, spacing="log", dtype=None,
                          device=None):
    """The inputs of the continuous position bias: ((2M − 1)², 2), row k = (Δr, Δc) of offset k
    (Δ from −(M − 1) to M − 1, in the order of :func:`relative_position_index`), transformed::

        u = Δ / (M₀ − 1)                       M₀ = pretrained_window_size (default M)
        spacing="log":     Δ̂ = sign(8u) log₂(1 + |8u|) / log₂ 8
        spacing="linear":  Δ̂ = u

    Within the training window (M = M₀) both lie in [−1, 1] (log: up to log₂9/3 ≈ 1.06); a
    larger window M > M₀ extrapolates, much less on the log scale. Computed in float64.
    """
    device = check_device("device", device)
    M = check_positive_int("window_size", window_size)
    M0 = M if pretrained_window_size is None else check_positive_int("pretrained_window_size",
                                                                     pretrained_window_size)
    if spacing not in ("log", "linear"):
        raise ValueError(f"spacing: expected 'log' or 'linear', got {spacing!r}")
    delta = torch.arange(-(M - 1), M, dtype=torch.float64, device=device)
    grid = torch.stack(torch.meshgrid(delta, delta, indexing="ij"), dim=-1).reshape(-1, 2)
    u = grid / (M0 - 1) if M0 > 1 else grid
    if spacing == "log":
        u = torch.sign(u) * torch.log2(1.0 + 8.0 * u.abs()) / math.log2(8.0)
    return u.to(dtype=dtype or torch.get_default_dtype())


class RelativePositionBias(nn.Module):
    """Swin v1's relative position bias: a learned table ``table`` ((2M − 1)², h), one number per
    relative offset and head, looked up as B[h, i, j] = table[index[i, j], h]
    (:func:`relative_position_index`). Initialised from N(0, 0.02²), as the paper does.

    For a larger window M' the offsets beyond ±(M − 1), which the table has no entry for, take
    its edge values (the nearest offset it has): the same image scale, more context. (Swin v1
    stretches the table bicubically instead when it fine-tunes on larger images.)
    """

    def __init__(self, window_size, num_heads, dtype=None, device=None):
        device = check_device("device", device)
        super().__init__()
        self.window_size = check_positive_int("window_size", window_size)
        self.num_heads = check_positive_int("num_heads", num_heads)
        K = (2 * self.window_size - 1) ** 2
        self.table = nn.Parameter(0.02 * torch.randn(K, self.num_heads, dtype=dtype,
                                                     device=device))

    def extra_repr(self):
        return f"window_size={self.window_size}, num_heads={self.num_heads}"

    def forward(self, window_size=None):
        """The bias (h, M'², M'²) for windows of M' = ``window_size`` (default: the table's M)."""
        M = self.window_size if window_size is None else check_positive_int("window_size",
                                                                            window_size)
        index = _index(M, self.table.device, self.window_size)
        return self.table[index].reshape(M * M, M * M, -1).permute(2, 0, 1)

    @classmethod
    def from_numpy(cls, params, window_size, dtype=torch.float64, device=None):
        """From ``{"table": ((2M − 1)², h)}`` (``init_relative_position_bias_params``)."""
        device = check_device("device", device)
        check_param_dict(params, ("table",))
        table = np.asarray(params["table"])
        M = check_positive_int("window_size", window_size)
        if table.ndim != 2 or table.shape[0] != (2 * M - 1) ** 2:
            raise ValueError(f"params['table']: expected shape ({(2 * M - 1) ** 2}, h), got "
                             f"{describe(table)}")
        model = cls(M, table.shape[1], dtype=dtype, device=device)
        return copy_numpy_params(model, params, {"table": table.shape})

    def to_numpy(self):
        """``{"table"}`` as a NumPy array."""
        return {"table": self.table.detach().cpu().numpy().copy()}


class ContinuousPositionBias(nn.Module):
    """Swin v2's continuous position bias: a two-layer MLP 𝒢 maps the transformed offsets Δ̂
    (:func:`relative_coords_table`) to one number per head, squashed into (0, 16)::

        G = relu(Δ̂ W_1 + b_1) W_2         W_1 (2, F), b_1 (F,), W_2 (F, h)  (F = 512 in the paper)
        B[h, i, j] = 16 σ(G[index[i, j], h])

    Weights from N(0, 0.02²) and b_1 = 0, as the reference initialises every linear layer.
    Because it is a function of the offset, it gives a bias for a window of any size.
    """

    def __init__(self, num_heads, hidden_size=512, dtype=None, device=None):
        device = check_device("device", device)
        super().__init__()
        self.num_heads = check_positive_int("num_heads", num_heads)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        factory = {"dtype": dtype, "device": device}
        self.W_1 = nn.Parameter(0.02 * torch.randn(2, self.hidden_size, **factory))
        self.b_1 = nn.Parameter(torch.zeros(self.hidden_size, **factory))
        self.W_2 = nn.Parameter(0.02 * torch.randn(self.hidden_size, self.num_heads, **factory))

    def extra_repr(self):
        return f"num_heads={self.num_heads}, hidden_size={self.hidden_size}"

    def forward(self, coords, window_size):
        """``coords`` ((2M − 1)², 2) from :func:`relative_coords_table` for M = ``window_size``.
        Returns the bias (h, M², M²), each entry in (0, 16)."""
        M = check_positive_int("window_size", window_size)
        check_tensor("coords", coords, ndim=2, last_dim=2)
        if coords.shape[0] != (2 * M - 1) ** 2:
            raise ValueError(f"coords: expected shape ({(2 * M - 1) ** 2}, 2) for window_size="
                             f"{M}, got {describe(coords)}")
        check_like_parameters("coords", coords, self.W_1)
        table = 16.0 * torch.sigmoid(torch.relu(torch.addmm(self.b_1, coords, self.W_1))
                                     @ self.W_2)
        return table[_index(M, table.device)].reshape(M * M, M * M, -1).permute(2, 0, 1)

    @classmethod
    def from_numpy(cls, params, dtype=torch.float64, device=None):
        """From ``{"W_1": (2, F), "b_1": (F,), "W_2": (F, h)}``."""
        device = check_device("device", device)
        check_param_dict(params, ("W_1", "b_1", "W_2"))
        W_2 = np.asarray(params["W_2"])
        if W_2.ndim != 2:
            raise ValueError(f"params['W_2']: expected shape (F, h), got {describe(W_2)}")
        F_, h = W_2.shape
        model = cls(h, F_, dtype=dtype, device=device)
        return copy_numpy_params(model, params, {"W_1": (2, F_), "b_1": (F_,), "W_2": (F_, h)})

    def to_numpy(self):
        """``{"W_1", "b_1", "W_2"}`` as NumPy arrays."""
        return {n: getattr(self, n).detach().cpu().numpy().copy() for n in ("W_1", "b_1", "W_2")}


# -- window attention ------------------------------------------------------------------------------
class WindowAttention(nn.Module):
    """Multi-head self-attention within each window, with a position bias and a mask::

        Q = x W_q + b_q,  K = x W_k + b_k,  V = x W_v + b_v         per window, (N, D)
        cosine=True  (Swin v2):  S_h = cos(Q_h, K_h) · min(e^{λ_h}, 100) + B_h    (τ_h = e^{−λ_h})
        cosine=False (Swin v1):  S_h = Q_h K_hᵀ / √d + B_h
        S_h = −∞ where the mask is False;   A_h = softmax(S_h);   out = [A_1 V_1 | ... ] W_o + b_o

    The projections are chapter 8's :class:`~seqlearn.torch.attention.MultiHeadAttention`
    (``self.mha``, parameters ``W_q`` ... ``b_o``); ``logit_scale`` (h,) holds λ = log(1/τ),
    initialised to log 10 (τ = 0.1) and clamped at log 100 (τ ≥ 0.01) in the forward pass.
    ``keep_logits = True`` keeps the scores S (before the mask) of the last call in
    ``last_logits`` (B, nW, h, N, N), detached.
    """

    def __init__(self, d_model, num_heads, cosine=True, dtype=None, device=None):
        device = check_device("device", device)
        super().__init__()
        self.mha = MultiHeadAttention(d_model, num_heads, dtype=dtype, device=device)
        self.d_model, self.num_heads = self.mha.d_model, self.mha.num_heads
        self.cosine = bool(cosine)
        self.logit_scale = nn.Parameter(
            torch.full((self.num_heads,), math.log(10.0), dtype=dtype, device=device),
            requires_grad=self.cosine)
        self.keep_logits = False
        self.last_logits = None

    def extra_repr(self):
        return f"cosine={self.cosine}"

    def forward(self, x, bias=None, mask=None, need_weights=False):
        """``x`` (B, nW, N, D) windows of N tokens; ``bias`` optional (h, N, N), added to every
        window's scores; ``mask`` optional bool (nW, N, N), True = may attend. Returns
        (B, nW, N, D), or ``(out, weights (B, nW, h, N, N))`` when ``need_weights``."""
        m = self.mha
        D, h = self.d_model, self.num_heads
        check_tensor("x", x, ndim=4, last_dim=D)
        check_like_parameters("x", x, m.W_q)
        B, nW, N, _ = x.shape
        if bias is not None:
            check_tensor("bias", bias, ndim=3)
            if tuple(bias.shape) != (h, N, N):
                raise ValueError(f"bias: expected shape ({h}, {N}, {N}), got {describe(bias)}")
        if mask is not None:
            if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool:
                raise TypeError(f"mask: expected a bool tensor (True = may attend), got "
                                f"{describe(mask)}")
            if tuple(mask.shape) != (nW, N, N):
                raise ValueError(f"mask: expected shape ({nW}, {N}, {N}), got {describe(mask)}")
            mask = mask.to(x.device)[:, None]                 # (nW, 1, N, N): every head
        # The three projections in one product: [Q | K | V] = x [W_q | W_k | W_v] + [b_q | ...]
        qkv = torch.addmm(torch.cat([m.b_q, m.b_k, m.b_v]), x.reshape(-1, D),
                          torch.cat([m.W_q, m.W_k, m.W_v], dim=1))
        q, k, v = qkv.view(B, nW, N, 3, h, D // h).permute(3, 0, 1, 4, 2, 5).contiguous()
        if self.cosine:
            scale = torch.clamp(self.logit_scale, max=MAX_LOGIT_SCALE).exp()
            q = F.normalize(q, dim=-1) * scale[:, None, None]
            k = F.normalize(k, dim=-1)
        else:
            q = q * (D // h) ** -0.5
        # Written out: a window's rows are short (N = M²), where a fused kernel gains nothing.
        scores = q @ k.transpose(-1, -2)                    # (B, nW, h, N, N)
        if bias is not None:
            scores = scores + bias
        if self.keep_logits:
            self.last_logits = scores.detach()
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        out = weights @ v
        out = torch.addmm(m.b_o, out.transpose(2, 3).reshape(-1, D), m.W_o).view(B, nW, N, D)
        return (out, weights) if need_weights else out

    @classmethod
    def from_numpy(cls, params, num_heads, cosine=True, dtype=torch.float64, device=None):
        """From the dict of ``init_window_attention_params``: chapter 8's eight projection
        parameters and, for cosine attention, ``logit_scale`` (h,)."""
        device = check_device("device", device)
        check_param_dict(params, MHA_PARAM_NAMES + (("logit_scale",) if cosine else ()))
        mha = MultiHeadAttention.from_numpy({n: params[n] for n in MHA_PARAM_NAMES}, num_heads,
                                            dtype=dtype, device=device)
        model = cls(mha.d_model, num_heads, cosine=cosine, dtype=dtype, device=device)
        model.mha = mha
        if cosine:
            copy_numpy_params(model, params, {"logit_scale": (num_heads,)})
        return model

    def to_numpy(self):
        """The eight projection parameters and, for cosine attention, ``logit_scale``, as
        NumPy arrays."""
        out = self.mha.to_numpy()
        if self.cosine:
            out["logit_scale"] = self.logit_scale.detach().cpu().numpy().copy()
        return out


# -- the block -------------------------------------------------------------------------------------
def _check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"{name}: expected one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


class SwinBlock(nn.Module):
    """One Swin block: (shifted) window attention and a feed-forward network, each in a residual
    connection with layer normalisation::

        a = R_s(WA(P_s(·), B, mask_s))     P_s: roll by −s, cut into windows; R_s: the inverse
        norm="post" (Swin v2):  y = x + LN_1(a(x)),   z = y + LN_2(FF(y))
        norm="pre"  (Swin v1):  y = x + a(LN_1(x)),   z = y + FF(LN_2(y))

    Parts: ``attention`` (:class:`WindowAttention`), ``position_bias``
    (:class:`ContinuousPositionBias` for ``"log-cpb"``/``"linear-cpb"``,
    :class:`RelativePositionBias` for ``"table"``), ``norm_1``, ``feed_forward`` (chapter 8's
    :class:`~seqlearn.torch.transformer.FeedForward`, ReLU) and ``norm_2`` (chapter 8's
    :class:`~seqlearn.torch.layernorm.LayerNorm`).

    ``window_size`` M and ``shift`` s are the defaults of :meth:`forward`, which may use another
    window (a transfer to larger windows). The continuous bias normalises offsets by
    ``pretrained_window_size`` (default M), the window it was trained with.
    """

    PARTS = ("attention", "position_bias", "norm_1", "feed_forward", "norm_2")

    def __init__(self, d_model, num_heads, d_ff, window_size, shift=0, position_bias="log-cpb",
                 pretrained_window_size=None, cosine=True, norm="post", cpb_hidden_size=512,
                 eps=1e-5, dtype=None, device=None):
        device = check_device("device", device)
        super().__init__()
        factory = {"dtype": dtype, "device": device}
        self.window_size, self.shift = _check_shift(window_size, shift)
        self.position_bias_kind = _check_choice("position_bias", position_bias, POSITION_BIASES)
        self.pretrained_window_size = (self.window_size if pretrained_window_size is None else
                                       check_positive_int("pretrained_window_size",
                                                          pretrained_window_size))
        self.norm = _check_choice("norm", norm, NORMS)
        self.attention = WindowAttention(d_model, num_heads, cosine=cosine, **factory)
        if position_bias == "table":
            self.position_bias = RelativePositionBias(self.pretrained_window_size, num_heads,
                                                      **factory)
        else:
            self.position_bias = ContinuousPositionBias(num_heads, cpb_hidden_size, **factory)
        self.norm_1 = LayerNorm(d_model, eps=eps, **factory)
        self.feed_forward = FeedForward(d_model, d_ff, **factory)
        self.norm_2 = LayerNorm(d_model, eps=eps, **factory)
        self._cache = {}      # coordinate tables and masks, by window, dtype and device

    def extra_repr(self):
        return (f"window_size={self.window_size}, shift={self.shift}, "
                f"position_bias={self.position_bias_kind!r}, pretrained_window_size="
                f"{self.pretrained_window_size}, norm={self.norm!r}")

    def bias(self, window_size=None):
        """The position bias (h, M², M²) for windows of M = ``window_size`` (default: the
        block's)."""
        M = self.window_size if window_size is None else check_positive_int("window_size",
                                                                            window_size)
        if self.position_bias_kind == "table":
            return self.position_bias(M)
        W = self.position_bias.W_1
        key = ("coords", M, self.pretrained_window_size, W.dtype, str(W.device))
        if key not in self._cache:
            spacing = "log" if self.position_bias_kind == "log-cpb" else "linear"
            self._cache[key] = relative_coords_table(M, self.pretrained_window_size, spacing,
                                                     dtype=W.dtype, device=W.device)
        return self.position_bias(self._cache[key], M)

    def _mask(self, H, W, M, s, device):
        key = ("mask", H, W, M, s, str(device))
        if key not in self._cache:
            self._cache[key] = shifted_window_mask(H, W, M, s, device=device)
        return self._cache[key]

    def forward(self, x, window_size=None, shift=None):
        """``x`` (B, H, W, D), H and W divisible by the window size. ``window_size`` and
        ``shift`` default to the block's. Returns (B, H, W, D)."""
        M, s = _check_shift(self.window_size if window_size is None else window_size,
                            self.shift if shift is None else shift)
        D = self.attention.d_model
        check_tensor("x", x, ndim=4, last_dim=D)
        _, H, W = _check_map("x", x, M)
        bias = self.bias(M)
        mask = self._mask(H, W, M, s, x.device) if s else None

        def attend(h):
            windows = window_partition(cyclic_shift(h, s), M)
            return cyclic_shift(window_reverse(self.attention(windows, bias, mask), M, H, W), -s)

        if self.norm == "post":
            y = x + self.norm_1(attend(x))
            return y + self.norm_2(self.feed_forward(y))
        y = x + attend(self.norm_1(x))
        return y + self.feed_forward(self.norm_2(y))

    @classmethod
    def from_numpy(cls, params, num_heads, window_size, shift=0, position_bias="log-cpb",
                   pretrained_window_size=None, cosine=True, norm="post", eps=1e-5,
                   dtype=torch.float64, device=None):
        """From the nested dict of ``seqlearn.numpy.swin.init_swin_block_params``."""
        device = check_device("device", device)
        check_param_dict(params, cls.PARTS)
        kw = {"dtype": dtype, "device": device}
        ff = FeedForward.from_numpy(params["feed_forward"], **kw)
        pb = params["position_bias"]
        hidden = np.asarray(pb["W_1"]).shape[1] if "W_1" in pb else 512
        block = cls(ff.d_model, num_heads, ff.d_ff, window_size, shift, position_bias,
                    pretrained_window_size, cosine, norm, hidden, eps, **kw)
        block.feed_forward = ff
        block.attention = WindowAttention.from_numpy(params["attention"], num_heads, cosine, **kw)
        if position_bias == "table":
            block.position_bias = RelativePositionBias.from_numpy(
                pb, block.pretrained_window_size, **kw)
        else:
            block.position_bias = ContinuousPositionBias.from_numpy(pb, **kw)
        block.norm_1 = LayerNorm.from_numpy(params["norm_1"], eps, **kw)
        block.norm_2 = LayerNorm.from_numpy(params["norm_2"], eps, **kw)
        return block

    def to_numpy(self):
        """The nested dict of the NumPy reference, one entry per part."""
        return {name: getattr(self, name).to_numpy() for name in self.PARTS}


# -- patches ---------------------------------------------------------------------------------------
class PatchEmbedding(nn.Module):
    """Patches as tokens: x[b, i, j] = patch_{ij} W + b, W (p²C, D), b (D,).

    The same as ``nn.Conv2d(C, D, kernel_size=p, stride=p)`` on channels-first images.
    ``W`` from U(±1/√(p²C)) (as ``nn.Linear``), ``b`` zero.
    """

    def __init__(self, patch_size, in_channels, d_model, dtype=None, device=None):
        device = check_device("device", device)
        super().__init__()
        self.patch_size = check_positive_int("patch_size", patch_size)
        self.in_channels = check_positive_int("in_channels", in_channels)
        self.d_model = check_positive_int("d_model", d_model)
        fan_in = self.patch_size ** 2 * self.in_channels
        factory = {"dtype": dtype, "device": device}
        self.W = nn.Parameter(torch.empty(fan_in, self.d_model, **factory)
                              .uniform_(-fan_in ** -0.5, fan_in ** -0.5))
        self.b = nn.Parameter(torch.zeros(self.d_model, **factory))

    def extra_repr(self):
        return (f"patch_size={self.patch_size}, in_channels={self.in_channels}, "
                f"d_model={self.d_model}")

    def forward(self, images):
        """``images`` (B, H, W, C) -> tokens (B, H/p, W/p, D)."""
        check_tensor("images", images, ndim=4)
        if images.shape[-1] != self.in_channels:
            raise ValueError(f"images: expected {self.in_channels} channel(s) in the last axis "
                             f"(B, H, W, C), got {describe(images)}")
        check_like_parameters("images", images, self.W)
        return patch_partition(images, self.patch_size) @ self.W + self.b

    @classmethod
    def from_numpy(cls, params, patch_size, dtype=torch.float64, device=None):
        """From ``{"W": (p²C, D), "b": (D,)}`` (``init_patch_embedding_params``)."""
        device = check_device("device", device)
        check_param_dict(params, ("W", "b"))
        W = np.asarray(params["W"])
        p = check_positive_int("patch_size", patch_size)
        if W.ndim != 2 or W.shape[0] % (p * p):
            raise ValueError(f"params['W']: expected shape (p²C, D) with p = {p}, got "
                             f"{describe(W)}")
        model = cls(p, W.shape[0] // (p * p), W.shape[1], dtype=dtype, device=device)
        return copy_numpy_params(model, params, {"W": W.shape, "b": (W.shape[1],)})

    def to_numpy(self):
        """``{"W", "b"}`` as NumPy arrays."""
        return {"W": self.W.detach().cpu().numpy().copy(),
                "b": self.b.detach().cpu().numpy().copy()}


class PatchMerging(nn.Module):
    """Halve the resolution, double the width (Swin v2's order: reduce, then normalise)::

        u[i, j] = [x[2i, 2j] | x[2i+1, 2j] | x[2i, 2j+1] | x[2i+1, 2j+1]]     (4D,)
        out[i, j] = LN(u[i, j] W)                                         W (4D, 2D), no bias

    ``W`` from U(±1/√(4D)); ``norm`` is chapter 8's LayerNorm over 2D.
    """

    def __init__(self, d_model, eps=1e-5, dtype=None, device=None):
        device = check_device("device", device)
        super().__init__()
        self.d_model = check_positive_int("d_model", d_model)
        D = self.d_model
        self.W = nn.Parameter(torch.empty(4 * D, 2 * D, dtype=dtype, device=device)
                              .uniform_(-(4 * D) ** -0.5, (4 * D) ** -0.5))
        self.norm = LayerNorm(2 * D, eps=eps, dtype=dtype, device=device)

    def extra_repr(self):
        return f"d_model={self.d_model}"

    def forward(self, x):
        """``x`` (B, H, W, D), H and W even -> (B, H/2, W/2, 2D)."""
        check_tensor("x", x, ndim=4, last_dim=self.d_model)
        check_like_parameters("x", x, self.W)
        _check_map("x", x, 2, "2 (patch merging halves both)")
        u = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]],
                      dim=-1)
        return self.norm(u @ self.W)

    @classmethod
    def from_numpy(cls, params, eps=1e-5, dtype=torch.float64, device=None):
        """From ``{"W": (4D, 2D), "norm": {"gamma", "beta"}}`` (``init_patch_merging_params``)."""
        device = check_device("device", device)
        check_param_dict(params, ("W", "norm"))
        W = np.asarray(params["W"])
        if W.ndim != 2 or W.shape[0] % 4 or W.shape[1] * 2 != W.shape[0]:
            raise ValueError(f"params['W']: expected shape (4D, 2D), got {describe(W)}")
        model = cls(W.shape[0] // 4, eps=eps, dtype=dtype, device=device)
        copy_numpy_params(model, params, {"W": W.shape})
        model.norm = LayerNorm.from_numpy(params["norm"], eps, dtype=dtype, device=device)
        return model

    def to_numpy(self):
        """``{"W", "norm"}`` as NumPy arrays."""
        return {"W": self.W.detach().cpu().numpy().copy(), "norm": self.norm.to_numpy()}


# -- models ----------------------------------------------------------------------------------------
def _check_images(model, images):
    check_tensor("images", images, ndim=4)
    if images.shape[-1] != model.in_channels:
        raise ValueError(f"images: expected {model.in_channels} channel(s) in the last axis "
                         f"(B, H, W, C), got {describe(images)}")
    return images


class SwinV2(nn.Module):
    """A small Swin Transformer v2 image classifier.

    ::

        x = PatchEmbedding(images)                                   (B, H/p, W/p, D)
        stage k = 1..K: depths[k] SwinBlocks (shift 0, M/2, 0, M/2, ...), then PatchMerging
                        (all but the last stage: half the resolution, twice the width)
        z = mean over tokens of LN(x) W_out + b_out                    logits (B, num_classes)

    Stage k's window is min(``window_size``, its resolution); with one window per map the
    blocks do not shift. The model is built for ``image_size`` (its training resolution): each
    stage's continuous bias normalises offsets by that stage's training window. Setting
    ``model.window_size`` (and feeding larger images) evaluates with larger windows without
    retraining, the transfer of the paper's Table 1.
    """

    def __init__(self, num_classes, image_size, in_channels=1, patch_size=1, d_model=32,
                 depths=(2, 2), num_heads=(2, 4), mlp_ratio=2, window_size=4,
                 position_bias="log-cpb", cosine=True, norm="post", cpb_hidden_size=512,
                 dtype=None, device=None):
        device = check_device("device", device)
        super().__init__()
        factory = {"dtype": dtype, "device": device}
        self.num_classes = check_positive_int("num_classes", num_classes)
        self.image_size = check_positive_int("image_size", image_size)
        self.in_channels = check_positive_int("in_channels", in_channels)
        self.patch_size = check_positive_int("patch_size", patch_size)
        self.window_size = check_positive_int("window_size", window_size)
        depths, num_heads = tuple(depths), tuple(num_heads)
        if not depths or len(depths) != len(num_heads):
            raise ValueError(f"depths, num_heads: expected one depth and one number of heads per "
                             f"stage, got {depths} and {num_heads}")
        self.depths = tuple(check_positive_int(f"depths[{k}]", d) for k, d in enumerate(depths))
        resolution = self.image_size // self.patch_size
        if self.image_size % self.patch_size or resolution % 2 ** (len(depths) - 1):
            raise ValueError(f"image_size: {self.image_size} must be divisible by patch_size="
                             f"{self.patch_size} times 2 per patch merging "
                             f"({len(depths) - 1} of them)")
        self.patch_embedding = PatchEmbedding(self.patch_size, self.in_channels, d_model,
                                              **factory)
        self.stages, self.merges = nn.ModuleList(), nn.ModuleList()
        self.train_windows = []
        D = d_model
        for k, (depth, heads) in enumerate(zip(self.depths, num_heads)):
            M = min(self.window_size, resolution)
            if resolution % M:
                raise ValueError(f"window_size: stage {k + 1} has {resolution} x {resolution} "
                                 f"tokens, not divisible by its window {M}")
            self.train_windows.append(M)
            self.stages.append(nn.ModuleList(
                SwinBlock(D, heads, int(mlp_ratio * D), M, 0, position_bias, M, cosine, norm,
                          cpb_hidden_size, **factory) for _ in range(depth)))
            if k < len(self.depths) - 1:
                self.merges.append(PatchMerging(D, **factory))
                D, resolution = 2 * D, resolution // 2
        self.final_norm = LayerNorm(D, **factory)
        self.W_out = nn.Parameter(torch.empty(D, self.num_classes, **factory)
                                  .uniform_(-D ** -0.5, D ** -0.5))
        self.b_out = nn.Parameter(torch.zeros(self.num_classes, **factory))

    def extra_repr(self):
        return (f"num_classes={self.num_classes}, image_size={self.image_size}, "
                f"patch_size={self.patch_size}, depths={self.depths}, "
                f"window_size={self.window_size}")

    def blocks(self):
        """Every :class:`SwinBlock`, stage by stage."""
        return [block for stage in self.stages for block in stage]

    def forward(self, images, return_blocks=False):
        """``images`` (B, H, W, C), H = W divisible by the patch size times 2 per merging.
        Returns the logits (B, num_classes); with ``return_blocks`` also the list of every
        block's output (B, H_k, W_k, D_k)."""
        _check_images(self, images)
        check_like_parameters("images", images, self.W_out)
        x = self.patch_embedding(images)
        outputs = []
        for k, stage in enumerate(self.stages):
            resolution = min(x.shape[1], x.shape[2])
            M = min(self.window_size, resolution)
            for i, block in enumerate(stage):
                shift = M // 2 if i % 2 and resolution > M else 0
                x = block(x, M, shift)
                outputs.append(x)
            if k < len(self.merges):
                x = self.merges[k](x)
        logits = self.final_norm(x).mean(dim=(1, 2)) @ self.W_out + self.b_out
        return (logits, outputs) if return_blocks else logits


class VisionTransformer(nn.Module):
    """The Vision Transformer (Dosovitskiy et al., 2021) in brief: every patch attends to every
    patch.

    ::

        x = PatchEmbedding(images) + E_pos          (B, T, D), T = (H/p)(W/p), E_pos learned
        x = Block_M(...Block_1(x))                  chapter 8's pre-LN EncoderBlocks
        z = mean over tokens of LN(x) W_out + b_out

    (The paper reads out a class token; the mean of the tokens works as well for small images.)
    """

    def __init__(self, num_classes, image_size, in_channels=1, patch_size=1, d_model=32,
                 num_heads=2, d_ff=64, num_layers=2, dtype=None, device=None):
        device = check_device("device", device)
        super().__init__()
        factory = {"dtype": dtype, "device": device}
        self.num_classes = check_positive_int("num_classes", num_classes)
        self.image_size = check_positive_int("image_size", image_size)
        self.in_channels = check_positive_int("in_channels", in_channels)
        num_layers = check_positive_int("num_layers", num_layers)
        self.patch_embedding = PatchEmbedding(patch_size, in_channels, d_model, **factory)
        T = (self.image_size // self.patch_embedding.patch_size) ** 2
        self.position_embedding = nn.Parameter(0.02 * torch.randn(T, d_model, **factory))
        self.blocks = nn.ModuleList(EncoderBlock(d_model, num_heads, d_ff, norm_first=True,
                                                 **factory) for _ in range(num_layers))
        self.final_norm = LayerNorm(d_model, **factory)
        self.W_out = nn.Parameter(torch.empty(d_model, self.num_classes, **factory)
                                  .uniform_(-d_model ** -0.5, d_model ** -0.5))
        self.b_out = nn.Parameter(torch.zeros(self.num_classes, **factory))

    def forward(self, images):
        """``images`` (B, image_size, image_size, C) -> logits (B, num_classes)."""
        _check_images(self, images)
        if images.shape[1] != self.image_size or images.shape[2] != self.image_size:
            raise ValueError(f"images: expected {self.image_size} x {self.image_size} images "
                             f"(the learned position embedding has one row per patch), got "
                             f"{describe(images)}")
        x = self.patch_embedding(images)
        x = x.reshape(x.shape[0], -1, x.shape[-1]) + self.position_embedding
        for block in self.blocks:
            x = block(x)
        return self.final_norm(x).mean(dim=1) @ self.W_out + self.b_out


# -- data ----------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _digit_split(test_size, seed):
    from sklearn.model_selection import train_test_split

    from ..data.digit_captions import load_digit_images

    images, labels = load_digit_images()
    return train_test_split(images[..., None], labels, test_size=test_size, random_state=seed,
                            stratify=labels)


def digit_images(test_size=450, seed=0, dtype=torch.float32, device=None):
    """scikit-learn's 1797 handwritten 8 × 8 digits (pixels in [0, 1]) as channels-last images,
    split at random, class by class, into ``1797 − test_size`` training and ``test_size`` test
    images (``seed`` fixes the split). Returns ``train_x`` (N, 8, 8, 1), ``train_y`` (N,),
    ``test_x``, ``test_y`` as tensors."""
    device = check_device("device", device)
    test_size = check_positive_int("test_size", test_size)
    train_x, test_x, train_y, test_y = _digit_split(test_size, int(seed))
    return (torch.tensor(train_x, dtype=dtype, device=device),
            torch.tensor(train_y, dtype=torch.long, device=device),
            torch.tensor(test_x, dtype=dtype, device=device),
            torch.tensor(test_y, dtype=torch.long, device=device))


# -- training --------------------------------------------------------------------------------------
def _as_images(name, images, device, dtype):
    if not isinstance(images, torch.Tensor):
        images = torch.as_tensor(np.asarray(images))
    check_tensor(name, images, ndim=4)
    return images.to(device=device, dtype=dtype)


def _as_labels(name, labels, n, num_classes, device):
    labels = torch.as_tensor(np.asarray(labels) if not isinstance(labels, torch.Tensor)
                             else labels)
    if labels.dtype.is_floating_point or labels.dtype.is_complex or labels.dtype == torch.bool:
        raise TypeError(f"{name}: expected integer class labels, got {describe(labels)}")
    if labels.dim() != 1 or labels.shape[0] != n:
        raise ValueError(f"{name}: expected ({n},) integer class labels, one per image, got "
                         f"{describe(labels)}")
    if int(labels.min()) < 0 or int(labels.max()) >= num_classes:
        raise ValueError(f"{name}: expected labels in 0..{num_classes - 1}, got values from "
                         f"{int(labels.min())} to {int(labels.max())}")
    return labels.to(device=device, dtype=torch.long)


def random_translate(images, max_shift, generator=None):
    """Shift each image (B, H, W, C) by its own random whole number of pixels in −a..a
    (a = ``max_shift``) along each axis, filling with zeros: a cheap augmentation."""
    check_tensor("images", images, ndim=4)
    if isinstance(max_shift, bool) or not isinstance(max_shift, (int, np.integer)) \
            or max_shift < 0:
        raise ValueError(f"max_shift: expected a non-negative integer, got {max_shift!r}")
    generator = as_torch_generator(generator)
    if max_shift == 0:
        return images.clone()
    B, H, W, _ = images.shape
    a = int(max_shift)
    padded = F.pad(images, (0, 0, a, a, a, a))
    offsets = torch.randint(0, 2 * a + 1, (2, B), generator=generator).to(images.device)
    rows = offsets[0][:, None] + torch.arange(H, device=images.device)
    cols = offsets[1][:, None] + torch.arange(W, device=images.device)
    batch = torch.arange(B, device=images.device)[:, None, None]
    return padded[batch, rows[:, :, None], cols[:, None, :]]


def train_classifier(model, images, labels, steps, batch_size=64, lr=3e-3, final_lr=None,
                     phases=4, max_shift=0, label_smoothing=0.0, weight_decay=0.0, clip=1.0,
                     generator=None, progress=False, desc="training"):
    """Train an image classifier (:class:`SwinV2`, :class:`VisionTransformer`, any module with
    ``num_classes`` mapping (B, H, W, C) images to logits) with Adam on the mean cross-entropy,
    through the package's one loop ``seqlearn.torch.train.fit``.

    Each step draws ``batch_size`` random images of ``images`` (N, H, W, C) with their ``labels``
    (N,), shifts each by up to ``max_shift`` pixels (:func:`random_translate`; 0: none) and takes
    one Adam step, the gradient clipped to norm ``clip``. With ``final_lr`` the learning rate
    steps down geometrically from ``lr`` to ``final_lr`` over ``phases`` equal parts of the
    ``steps`` (a fresh Adam in each part), which settles the last iterate. ``generator``: a
    ``torch.Generator`` or int seed for the batches. Returns the record of ``fit`` over all the
    parts: ``losses`` (one per step), ``steps`` and ``seconds``.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected a torch.nn.Module, got {describe(model)}")
    ref = next(model.parameters())
    images = _as_images("images", images, ref.device, ref.dtype)
    labels = _as_labels("labels", labels, images.shape[0], model.num_classes, ref.device)
    steps = check_positive_int("steps", steps)
    batch_size = check_positive_int("batch_size", batch_size)
    lr = check_positive_number("lr", lr)
    phases = 1 if final_lr is None else min(check_positive_int("phases", phases), steps)
    final_lr = lr if final_lr is None else check_positive_number("final_lr", final_lr)
    if isinstance(label_smoothing, bool) or not isinstance(
            label_smoothing, (int, float, np.integer, np.floating)) or not 0 <= label_smoothing < 1:
        raise ValueError(f"label_smoothing: expected a number in [0, 1), got {label_smoothing!r}")
    generator = as_torch_generator(generator)
    if generator is None:
        generator = torch.Generator().manual_seed(int(torch.randint(0, 2**62, ()).item()))

    def batch(step):
        index = torch.randint(0, images.shape[0], (batch_size,), generator=generator)
        index = index.to(images.device)
        return random_translate(images[index], max_shift, generator), labels[index]

    def loss_fn(net, b):
        return F.cross_entropy(net(b[0]), b[1], label_smoothing=label_smoothing)

    record = {"losses": [], "steps": 0, "seconds": 0.0}
    bounds = np.linspace(0, steps, phases + 1).round().astype(int)
    for k in range(phases):
        rate = lr * (final_lr / lr) ** (k / max(phases - 1, 1))
        part = fit(model, loss_fn, batch, steps=int(bounds[k + 1] - bounds[k]), lr=rate,
                   clip=clip, progress=progress, desc=desc,
                   optimizer_options={"weight_decay": weight_decay})
        record["losses"] += part["losses"]
        record["steps"] += part["steps"]
        record["seconds"] += part["seconds"]
    return record


@torch.no_grad()
def classifier_accuracy(model, images, labels, batch_size=512):
    """The fraction of ``images`` (N, H, W, C) whose largest logit is at their ``labels``
    (N,), computed in evaluation mode, ``batch_size`` images at a time."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected a torch.nn.Module, got {describe(model)}")
    ref = next(model.parameters())
    images = _as_images("images", images, ref.device, ref.dtype)
    labels = _as_labels("labels", labels, images.shape[0], model.num_classes, ref.device)
    was_training = model.training
    model.eval()
    try:
        right = sum(int((model(images[i:i + batch_size]).argmax(-1)
                         == labels[i:i + batch_size]).sum())
                    for i in range(0, images.shape[0], check_positive_int("batch_size",
                                                                           batch_size)))
    finally:
        model.train(was_training)
    return right / images.shape[0]


__all__ = ["ContinuousPositionBias", "MAX_LOGIT_SCALE", "NORMS", "POSITION_BIASES",
           "PatchEmbedding", "PatchMerging", "RelativePositionBias", "SwinBlock", "SwinV2",
           "VisionTransformer", "WindowAttention", "classifier_accuracy", "cyclic_shift",
           "digit_images",
           "patch_partition", "random_translate", "relative_coords_table",
           "relative_position_index", "shifted_window_mask", "train_classifier",
           "window_partition", "window_reverse"]
