"""Transformers as ``nn.Module``s, mirroring ``seqlearn.numpy.transformer`` (Vaswani et al., 2017).

* :func:`sinusoidal_positional_encoding` / :class:`PositionalEncoding` —
  PE[t, 2i] = sin(ω_i t),  PE[t, 2i+1] = cos(ω_i t),  ω_i = 10000^(−2i/D), i = 0 .. D/2 − 1;
* :class:`FeedForward` — relu(x W_1 + b_1) W_2 + b_2, applied at every position;
* :class:`EncoderBlock` — post-LN (the original paper's order)::

      y = LN_1(x + MHA(x, x, x, mask)),   z = LN_2(y + FF(y))

  or, with ``norm_first=True``, pre-LN (Xiong et al., 2020)::

      y = x + MHA(LN_1(x), ...),   z = y + FF(LN_2(y));

* :class:`DecoderBlock` — masked self-attention, cross-attention to the encoder's ``memory``,
  feed-forward, each wrapped the same way (LN_1, LN_2, LN_3);
* :class:`Transformer` — the encoder–decoder model, following the course's seq2seq interface
  (``model(src, tgt_in)``, ``model.greedy_decode(src, max_len)``);
* :class:`CharTransformer` — a decoder-only (causal) character language model.

Both models write their output with the package's one decoding loop,
``seqlearn.torch.decoding.decode``.

Blocks convert to and from ``nn.TransformerEncoderLayer`` / ``nn.TransformerDecoderLayer``
(``batch_first=True``, ``activation="relu"``, ``dropout=0``).
"""

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..data.transduction import BOS, EOS
from ..numpy.common import check_param_dict
from ..validate import check_device, describe, check_positive_int, check_tensor
from . import decoding
from .attention import MultiHeadAttention, causal_mask
from .common import (check_like_parameters, check_mask, check_tokens, copy_numpy_params,
                     padding_mask)
from .layernorm import LayerNorm
from .seq2seq import source_lengths


# -- positional encoding --------------------------------------------------------------------------
def sinusoidal_positional_encoding(T, d_model, dtype=None, device=None):
    """(T, D) sinusoidal positional encodings (Vaswani et al., 2017)::

        PE[t, 2i] = sin(ω_i t),   PE[t, 2i+1] = cos(ω_i t),   ω_i = 10000^(−2i/D)

    Each pair of columns i = 0 .. D/2 − 1 turns at its own frequency ω_i, from 1 radian per
    position (i = 0) down to 10000^(−(D−2)/D) for the last pair (1/10000 only in the limit of
    large D), so PE[t + k] is a fixed rotation of PE[t]. ``d_model`` must be even. Computed in
    float64, then converted to ``dtype`` (default: torch's default dtype).
    """
    device = check_device("device", device)
    T = check_positive_int("T", T)
    D = check_positive_int("d_model", d_model)
    if D % 2:
        raise ValueError(f"d_model: expected an even number (sin and cos come in pairs), got {D}")
    t = torch.arange(T, dtype=torch.float64)[:, None]
    frequencies = 10000.0 ** (-torch.arange(0, D, 2, dtype=torch.float64) / D)
    angles = t * frequencies                             # (T, D/2)
    pe = torch.stack([torch.sin(angles), torch.cos(angles)], dim=-1).reshape(T, D)
    return pe.to(dtype=dtype or torch.get_default_dtype(), device=device)


class PositionalEncoding(nn.Module):
    """Adds the sinusoidal encodings of positions 0..T-1 to ``x`` (B, T, D); T ≤ ``max_len``.

    No parameters: the table is computed (and cached) for the input's dtype and device.
    """

    def __init__(self, d_model, max_len=512):
        super().__init__()
        self.d_model = check_positive_int("d_model", d_model)
        if self.d_model % 2:
            raise ValueError(f"d_model: expected an even number (sin and cos come in pairs), "
                             f"got {self.d_model}")
        self.max_len = check_positive_int("max_len", max_len)
        self._tables = {}

    def extra_repr(self):
        return f"d_model={self.d_model}, max_len={self.max_len}"

    def table(self, T, dtype, device):
        """PE[:T] (T, D) in ``dtype`` on ``device``."""
        device = check_device("device", device)
        if T > self.max_len:
            raise ValueError(f"x: has {T} positions, more than max_len={self.max_len}")
        key = (dtype, str(device))
        if key not in self._tables:
            self._tables[key] = sinusoidal_positional_encoding(self.max_len, self.d_model,
                                                               dtype=dtype, device=device)
        return self._tables[key][:T]

    def forward(self, x):
        """``x`` (B, T, D) -> x + PE[:T]."""
        check_tensor("x", x, ndim=3, last_dim=self.d_model)
        return x + self.table(x.shape[1], x.dtype, x.device)


# -- feed-forward ---------------------------------------------------------------------------------
class FeedForward(nn.Module):
    """Position-wise feed-forward network: FF(x) = relu(x W_1 + b_1) W_2 + b_2.

    ``W_1`` (D, F), ``b_1`` (F,), ``W_2`` (F, D), ``b_2`` (D,); weights from
    U(-1/√fan_in, 1/√fan_in) (as ``nn.Linear``), biases zero.
    """

    def __init__(self, d_model, d_ff, dtype=None, device=None):
        device = check_device("device", device)
        super().__init__()
        self.d_model = check_positive_int("d_model", d_model)
        self.d_ff = check_positive_int("d_ff", d_ff)
        D, Fh = self.d_model, self.d_ff
        factory = {"dtype": dtype, "device": device}
        self.W_1 = nn.Parameter(torch.empty((D, Fh), **factory).uniform_(-D ** -0.5, D ** -0.5))
        self.b_1 = nn.Parameter(torch.zeros(Fh, **factory))
        self.W_2 = nn.Parameter(torch.empty((Fh, D), **factory).uniform_(-Fh ** -0.5,
                                                                         Fh ** -0.5))
        self.b_2 = nn.Parameter(torch.zeros(D, **factory))

    def extra_repr(self):
        return f"d_model={self.d_model}, d_ff={self.d_ff}"

    def forward(self, x):
        """``x`` (..., D) -> (..., D)."""
        check_tensor("x", x, last_dim=self.d_model)
        check_like_parameters("x", x, self.W_1)
        flat = x.reshape(-1, self.d_model)
        hidden = torch.relu(torch.addmm(self.b_1, flat, self.W_1))
        return torch.addmm(self.b_2, hidden, self.W_2).view(x.shape)

    @classmethod
    def from_numpy(cls, params, dtype=torch.float64, device=None):
        """From ``{"W_1", "b_1", "W_2", "b_2"}`` (``init_feed_forward_params``)."""
        device = check_device("device", device)
        check_param_dict(params, ("W_1", "b_1", "W_2", "b_2"))
        W_1 = np.asarray(params["W_1"])
        if W_1.ndim != 2:
            raise ValueError(f"params['W_1']: expected shape (D, F), got {describe(W_1)}")
        D, Fh = W_1.shape
        model = cls(D, Fh, dtype=dtype, device=device)
        return copy_numpy_params(model, params,
                                 {"W_1": (D, Fh), "b_1": (Fh,), "W_2": (Fh, D), "b_2": (D,)})

    def to_numpy(self):
        """``{"W_1", "b_1", "W_2", "b_2"}`` as NumPy arrays."""
        return {n: getattr(self, n).detach().cpu().numpy().copy()
                for n in ("W_1", "b_1", "W_2", "b_2")}

    def _from_linears(self, linear1, linear2):
        with torch.no_grad():
            self.W_1.copy_(linear1.weight.T)
            self.W_2.copy_(linear2.weight.T)
            for bias, linear in ((self.b_1, linear1), (self.b_2, linear2)):
                if linear.bias is None:
                    bias.zero_()
                else:
                    bias.copy_(linear.bias)

    def _to_linears(self, linear1, linear2):
        with torch.no_grad():
            linear1.weight.copy_(self.W_1.T)
            linear1.bias.copy_(self.b_1)
            linear2.weight.copy_(self.W_2.T)
            linear2.bias.copy_(self.b_2)


def _check_builtin_layer(module, kind):
    if not isinstance(module, kind):
        raise TypeError(f"module: expected a torch.nn.{kind.__name__}, got "
                        f"{type(module).__name__}")
    if not module.self_attn.batch_first:
        raise ValueError("module: expected batch_first=True (this package is batch-first)")
    # Both layer kinds keep their activation in ``activation`` (a function or a module).
    if not (module.activation is F.relu or isinstance(module.activation, nn.ReLU)):
        raise ValueError(f"module: expected activation='relu' (the feed-forward here is ReLU), "
                         f"got {module.activation!r}")
    rates = [m.p for m in module.modules() if isinstance(m, nn.Dropout)]
    if any(rates):
        raise ValueError(f"module: dropout {max(rates)} has no equivalent here; build it with "
                         f"dropout=0.0")


# -- blocks ---------------------------------------------------------------------------------------
class _Block(nn.Module):
    """What the encoder and the decoder block share: their parts, named in ``PARTS`` (attention,
    ``feed_forward`` and layer norms), the residual connection with layer normalisation around
    each sub-layer, and the conversions. ``BUILTIN_PARTS`` names the attribute of the ``torch.nn``
    layer ``BUILTIN`` that holds each part (the feed-forward is its ``linear1``/``linear2``)."""

    PARTS = ()
    BUILTIN = None
    BUILTIN_PARTS = {}

    def __init__(self, d_model, num_heads, d_ff, norm_first=False, eps=1e-5, dtype=None,
                 device=None):
        device = check_device("device", device)
        super().__init__()
        factory = {"dtype": dtype, "device": device}
        self.norm_first = bool(norm_first)
        for name in self.PARTS:
            if name.endswith("attention"):
                part = MultiHeadAttention(d_model, num_heads, **factory)
            elif name == "feed_forward":
                part = FeedForward(d_model, d_ff, **factory)
            else:
                part = LayerNorm(d_model, eps=eps, **factory)
            setattr(self, name, part)

    def extra_repr(self):
        return f"norm_first={self.norm_first}"

    def _check_input(self, name, x, mask_names=()):
        """Check ``x`` (B, T, D) and the masks ``{name: (mask, Tk)}`` (``Tk`` ``None``: self-attention,
        Tk = T) under the caller's names (the inner attention would call them ``query`` and
        ``mask``)."""
        attention = getattr(self, self.PARTS[0])
        check_tensor(name, x, ndim=3, last_dim=attention.d_model)
        check_like_parameters(name, x, attention.W_q)
        B, T = x.shape[:2]
        for mask_name, (mask, Tk) in mask_names.items():
            check_mask(mask, (B, attention.num_heads, T, T if Tk is None else Tk),
                       name=mask_name)

    def _add_and_norm(self, x, norm, sublayer):
        """LN(x + Sublayer(x)) (post-LN), or x + Sublayer(LN(x)) with ``norm_first`` (pre-LN)."""
        if self.norm_first:
            return x + sublayer(norm(x))
        return norm(x + sublayer(x))

    @classmethod
    def from_numpy(cls, params, num_heads, norm_first=False, dtype=torch.float64, device=None):
        """From the nested dict of ``seqlearn.numpy.transformer.init_encoder_block_params``
        (:class:`EncoderBlock`) or ``init_decoder_block_params`` (:class:`DecoderBlock`)."""
        device = check_device("device", device)
        check_param_dict(params, cls.PARTS)
        kw = {"dtype": dtype, "device": device}
        parts = {}
        for name in cls.PARTS:
            try:
                if name.endswith("attention"):
                    parts[name] = MultiHeadAttention.from_numpy(params[name], num_heads, **kw)
                elif name == "feed_forward":
                    parts[name] = FeedForward.from_numpy(params[name], **kw)
                else:
                    parts[name] = LayerNorm.from_numpy(params[name], **kw)
            except (TypeError, ValueError) as err:
                raise type(err)(f"params[{name!r}]: {err}") from None
        D = parts["feed_forward"].d_model
        for name, module in parts.items():
            size = module.d if isinstance(module, LayerNorm) else module.d_model
            if size != D:
                raise ValueError(f"params[{name!r}]: expected the model size d_model = {D} of "
                                 f"params['feed_forward'] (every part of a block has the same "
                                 f"size), got {size}")
        block = cls(D, num_heads, parts["feed_forward"].d_ff, norm_first=norm_first, **kw)
        for name, module in parts.items():
            setattr(block, name, module)
        return block

    def to_numpy(self):
        """The nested dict of the NumPy reference, one entry per part."""
        return {name: getattr(self, name).to_numpy() for name in self.PARTS}

    @classmethod
    def from_torch_builtin(cls, module):
        """Copy a ``torch.nn`` layer (:attr:`BUILTIN`) made with ``batch_first=True``,
        ``activation="relu"`` and ``dropout=0.0``; ``norm_first`` is taken from it."""
        _check_builtin_layer(module, cls.BUILTIN)
        W = module.linear1.weight
        block = cls(module.self_attn.embed_dim, module.self_attn.num_heads,
                    module.linear1.out_features, norm_first=module.norm_first, dtype=W.dtype,
                    device=W.device)
        for ours, theirs in cls.BUILTIN_PARTS.items():
            part = getattr(module, theirs)
            kind = MultiHeadAttention if isinstance(part, nn.MultiheadAttention) else LayerNorm
            setattr(block, ours, kind.from_torch_builtin(part))
        block.feed_forward._from_linears(module.linear1, module.linear2)
        return block

    def to_torch_builtin(self):
        """The equivalent ``torch.nn`` layer (:attr:`BUILTIN`; its masks: True = blocked)."""
        ff = self.feed_forward
        attention = getattr(self, self.PARTS[0])
        layer = self.BUILTIN(attention.d_model, attention.num_heads, ff.d_ff, dropout=0.0,
                             activation="relu", layer_norm_eps=self.norm_1.eps, batch_first=True,
                             norm_first=self.norm_first, dtype=ff.W_1.dtype, device=ff.W_1.device)
        for ours, theirs in self.BUILTIN_PARTS.items():
            setattr(layer, theirs, getattr(self, ours).to_torch_builtin())
        ff._to_linears(layer.linear1, layer.linear2)
        return layer


class EncoderBlock(_Block):
    """One Transformer encoder block: self-attention and feed-forward, each with a residual
    connection and layer normalisation (post-LN by default, pre-LN with ``norm_first``)::

        y = LN_1(x + MHA(x, x, x, mask)),   z = LN_2(y + FF(y))            (post-LN)
        y = x + MHA(LN_1(x), ..., mask),    z = y + FF(LN_2(y))            (pre-LN)

    Submodules ``attention`` (:class:`MultiHeadAttention`), ``norm_1``, ``feed_forward``,
    ``norm_2``; converts to and from ``nn.TransformerEncoderLayer``.
    """

    PARTS = ("attention", "norm_1", "feed_forward", "norm_2")
    BUILTIN = nn.TransformerEncoderLayer
    BUILTIN_PARTS = {"attention": "self_attn", "norm_1": "norm1", "norm_2": "norm2"}

    def forward(self, x, mask=None):
        """``x`` (B, T, D), ``mask`` optional bool broadcastable to (B, heads, T, T)
        (True = may attend): (T, T) causal, (B, 1, 1, T) padding. Returns (B, T, D)."""
        self._check_input("x", x, {"mask": (mask, None)})
        y = self._add_and_norm(x, self.norm_1, lambda h: self.attention(h, h, h, mask))
        return self._add_and_norm(y, self.norm_2, self.feed_forward)


class DecoderBlock(_Block):
    """One Transformer decoder block (post-LN by default, pre-LN with ``norm_first``)::

        y = LN_1(x + MHA(x, x, x, self_mask))
        u = LN_2(y + MHA(y, memory, memory, memory_mask))
        z = LN_3(u + FF(u))

    Submodules ``self_attention``, ``norm_1``, ``cross_attention``, ``norm_2``,
    ``feed_forward``, ``norm_3``; converts to and from ``nn.TransformerDecoderLayer``.
    """

    PARTS = ("self_attention", "norm_1", "cross_attention", "norm_2", "feed_forward", "norm_3")
    BUILTIN = nn.TransformerDecoderLayer
    BUILTIN_PARTS = {"self_attention": "self_attn", "norm_1": "norm1",
                     "cross_attention": "multihead_attn", "norm_2": "norm2", "norm_3": "norm3"}

    def forward(self, x, memory, self_mask=None, memory_mask=None, need_weights=False):
        """``x`` (B, T, D) the decoder's inputs, ``memory`` (B, S, D) the encoder's outputs;
        ``self_mask`` broadcastable to (B, heads, T, T) (usually causal), ``memory_mask`` to
        (B, heads, T, S) (usually the source padding, (B, 1, 1, S)). Returns ``z`` (B, T, D), or
        ``(z, cross_weights (B, heads, T, S))`` when ``need_weights``."""
        check_tensor("memory", memory, ndim=3, last_dim=self.cross_attention.d_model)
        check_like_parameters("memory", memory, self.cross_attention.W_q)
        self._check_input("x", x, {"self_mask": (self_mask, None),
                                   "memory_mask": (memory_mask, memory.shape[1])})
        if x.shape[0] != memory.shape[0]:
            raise ValueError(f"memory: expected batch size {x.shape[0]} like x, got "
                             f"{describe(memory)}")
        cross = {"weights": None}

        def attend_to_memory(h):
            if not need_weights:
                return self.cross_attention(h, memory, memory, memory_mask)
            out, cross["weights"] = self.cross_attention(h, memory, memory, memory_mask,
                                                         need_weights=True)
            return out

        y = self._add_and_norm(x, self.norm_1, lambda h: self.self_attention(h, h, h, self_mask))
        u = self._add_and_norm(y, self.norm_2, attend_to_memory)
        z = self._add_and_norm(u, self.norm_3, self.feed_forward)
        return (z, cross["weights"]) if need_weights else z


# -- models ---------------------------------------------------------------------------------------
def _embedding(vocab_size, d_model, factory):
    # N(0, 1/D) entries: after the √D scaling of the paper they have unit variance, the size of
    # the positional encodings, so neither drowns the other.
    table = nn.Embedding(vocab_size, d_model, **factory)
    nn.init.normal_(table.weight, std=d_model ** -0.5)
    return table


class Transformer(nn.Module):
    """Encoder–decoder Transformer (Vaswani et al., 2017) for token sequences, post-LN.

    ::

        x = E_src[src] √D + PE,         memory = Encoder_M(...Encoder_1(x))   (src ≠ PAD masked)
        y = E_tgt[tgt_in] √D + PE,      h = Decoder_M(...Decoder_1(y, memory))  (causal)
        z = h W_out + b_out                                    logits (B, T, tgt_vocab_size)

    with M = ``num_layers`` blocks on each side.

    Follows the course's seq2seq interface: ``model(src, tgt_in)`` gives the logits under
    teacher forcing, ``greedy_decode(src, max_len)`` produces tokens one step at a time. With
    ``positional_encoding=False`` the model sees its inputs as a bag of tokens (the attention
    is permutation-equivariant), which is what breaks order-dependent tasks.
    """

    def __init__(self, src_vocab_size, tgt_vocab_size, d_model=64, num_heads=4, d_ff=128,
                 num_layers=2, max_len=128, positional_encoding=True, dtype=None, device=None):
        device = check_device("device", device)
        super().__init__()
        self.src_vocab_size = check_positive_int("src_vocab_size", src_vocab_size)
        self.tgt_vocab_size = check_positive_int("tgt_vocab_size", tgt_vocab_size)
        self.d_model = check_positive_int("d_model", d_model)
        self.num_heads = check_positive_int("num_heads", num_heads)
        self.num_layers = check_positive_int("num_layers", num_layers)
        self.max_len = check_positive_int("max_len", max_len)
        factory = {"dtype": dtype, "device": device}
        D = self.d_model
        self.src_embedding = _embedding(self.src_vocab_size, D, factory)
        self.tgt_embedding = _embedding(self.tgt_vocab_size, D, factory)
        self.positional_encoding = (PositionalEncoding(D, self.max_len)
                                    if positional_encoding else None)
        self.encoder = nn.ModuleList(EncoderBlock(D, num_heads, d_ff, **factory)
                                     for _ in range(self.num_layers))
        self.decoder = nn.ModuleList(DecoderBlock(D, num_heads, d_ff, **factory)
                                     for _ in range(self.num_layers))
        self.W_out = nn.Parameter(torch.empty((D, self.tgt_vocab_size), **factory)
                                  .uniform_(-D ** -0.5, D ** -0.5))
        self.b_out = nn.Parameter(torch.zeros(self.tgt_vocab_size, **factory))
        self.last_attention = None

    def extra_repr(self):
        return (f"src_vocab_size={self.src_vocab_size}, tgt_vocab_size={self.tgt_vocab_size}, "
                f"d_model={self.d_model}, num_heads={self.num_heads}, "
                f"num_layers={self.num_layers}, max_len={self.max_len}")

    def _embed(self, name, tokens, table):
        if tokens.shape[1] > self.max_len:
            raise ValueError(f"{name}: has {tokens.shape[1]} positions, more than "
                             f"max_len={self.max_len}")
        x = table(tokens) * math.sqrt(self.d_model)
        return x if self.positional_encoding is None else self.positional_encoding(x)

    def encode(self, src):
        """``src`` (B, S) token ids padded with PAD at the end -> ``memory`` (B, S, D) and the
        source mask (B, 1, 1, S) (True at real tokens)."""
        src = check_tokens("src", src, self.src_vocab_size, device=self.W_out.device)
        src_mask = padding_mask(source_lengths(src), src.shape[1])[:, None, None, :]
        x = self._embed("src", src, self.src_embedding)
        for block in self.encoder:
            x = block(x, src_mask)
        return x, src_mask

    def decode(self, tgt_in, memory, src_mask, need_weights=False):
        """Logits (B, T, tgt_vocab_size) for ``tgt_in`` (B, T) given the encoder's ``memory``; with
        ``need_weights`` also the last layer's cross-attention (B, heads, T, S)."""
        tgt_in = check_tokens("tgt_in", tgt_in, self.tgt_vocab_size, device=self.W_out.device)
        check_tensor("memory", memory, ndim=3, last_dim=self.d_model)
        if tgt_in.shape[0] != memory.shape[0]:
            raise ValueError(f"tgt_in: expected batch size {memory.shape[0]} like src, got "
                             f"{describe(tgt_in)}")
        y = self._embed("tgt_in", tgt_in, self.tgt_embedding)
        self_mask = causal_mask(y.shape[1], device=y.device)
        weights = None
        for i, block in enumerate(self.decoder):
            if need_weights and i == self.num_layers - 1:
                y, weights = block(y, memory, self_mask, src_mask, need_weights=True)
            else:
                y = block(y, memory, self_mask, src_mask)
        logits = y @ self.W_out + self.b_out
        return (logits, weights) if need_weights else logits

    def forward(self, src, tgt_in):
        """Teacher forcing: ``src`` (B, S) padded with PAD, ``tgt_in`` (B, T) = BOS + target.
        Returns the logits (B, T, tgt_vocab_size) of the next target token at every position."""
        memory, src_mask = self.encode(src)
        return self.decode(tgt_in, memory, src_mask)

    @torch.no_grad()
    def greedy_decode(self, src, max_len, return_attention=False):
        """Decode ``src`` (B, S) greedily, one token at a time: start from BOS, append the most
        likely next token, run the decoder again over the longer prefix.

        Returns ``tokens`` (B, max_len) int64 (no BOS; PAD after a sequence's first EOS) and,
        with ``return_attention``, the last decoder layer's cross-attention averaged over the
        heads, (B, max_len, S): row t is where the decoder looked while producing token t (zeros
        after EOS; also kept in ``self.last_attention``, which is ``None`` otherwise).
        """
        max_len = check_positive_int("max_len", max_len)
        if max_len > self.max_len:
            raise ValueError(f"max_len: expected at most the model's max_len={self.max_len}, "
                             f"got {max_len}")
        memory, src_mask = self.encode(src)

        def step(tokens, state):
            if not return_attention:   # the fused attention kernels, as in training
                return self.decode(tokens, memory, src_mask)[:, -1], None, None
            logits, weights = self.decode(tokens, memory, src_mask, need_weights=True)
            return logits[:, -1], None, weights[:, :, -1].mean(1)

        start = torch.full((memory.shape[0], 1), BOS, dtype=torch.long, device=memory.device)
        tokens, attention = decoding.decode(step, start, max_len, eos=EOS)
        self.last_attention = attention
        return (tokens, attention) if return_attention else tokens


class CharTransformer(nn.Module):
    """Decoder-only (causal) Transformer over characters: a language model::

        x = E[indices] √D + PE,   h = Block_M(...Block_1(x)) with a causal mask,
        z = LN(h) W_out + b_out                                 logits (B, T, vocab_size)

    with M = ``num_layers`` blocks.

    The blocks are :class:`EncoderBlock` s with a causal mask, pre-LN by default
    (``norm_first=True``, with a final LayerNorm): they train stably at a learning rate of a few
    1e-3 without warm-up, while the post-LN order needs warm-up (Xiong et al., 2020). Positions
    are sinusoidal, as in :class:`Transformer` (no parameters to learn from a small text).
    ``context`` is the longest input it accepts.
    """

    def __init__(self, vocab_size, d_model=64, num_heads=4, d_ff=256, num_layers=2, context=64,
                 norm_first=True, dtype=None, device=None):
        device = check_device("device", device)
        super().__init__()
        self.vocab_size = check_positive_int("vocab_size", vocab_size)
        self.d_model = check_positive_int("d_model", d_model)
        self.num_heads = check_positive_int("num_heads", num_heads)
        self.num_layers = check_positive_int("num_layers", num_layers)
        self.context = check_positive_int("context", context)
        self.norm_first = bool(norm_first)
        factory = {"dtype": dtype, "device": device}
        D = self.d_model
        self.embedding = _embedding(self.vocab_size, D, factory)
        self.positional_encoding = PositionalEncoding(D, self.context)
        self.blocks = nn.ModuleList(EncoderBlock(D, num_heads, d_ff, norm_first=norm_first,
                                                 **factory) for _ in range(self.num_layers))
        self.final_norm = LayerNorm(D, **factory) if self.norm_first else None
        # Small output weights: the initial prediction is close to uniform, loss ≈ log V.
        self.W_out = nn.Parameter(0.02 * torch.randn((D, self.vocab_size), **factory))
        self.b_out = nn.Parameter(torch.zeros(self.vocab_size, **factory))

    def extra_repr(self):
        return (f"vocab_size={self.vocab_size}, d_model={self.d_model}, "
                f"num_heads={self.num_heads}, num_layers={self.num_layers}, "
                f"context={self.context}, norm_first={self.norm_first}")

    def forward(self, indices):
        """``indices`` (B, T) or (T,) with T ≤ context -> logits z (B, T, vocab_size) or
        (T, vocab_size): at position t the scores of the character at t + 1, computed from
        positions 0..t."""
        indices = check_tokens("indices", indices, self.vocab_size, (1, 2),
                               device=self.W_out.device)
        single = indices.dim() == 1
        if single:
            indices = indices.unsqueeze(0)
        T = indices.shape[1]
        if T > self.context:
            raise ValueError(f"indices: has {T} positions, more than context={self.context}; "
                             f"crop the input to its last {self.context} characters")
        x = self.embedding(indices) * math.sqrt(self.d_model)
        x = self.positional_encoding(x)
        mask = causal_mask(T, device=x.device)
        for block in self.blocks:
            x = block(x, mask)
        if self.final_norm is not None:
            x = self.final_norm(x)
        logits = x @ self.W_out + self.b_out
        return logits[0] if single else logits

    def loss(self, inputs, targets):
        """L = −(1/(BT)) Σ_b Σ_t log softmax(z_{b,t})[y_{b,t}], the mean cross-entropy (nats per
        character) of predicting ``targets`` y (same shape as ``inputs``, usually the inputs
        shifted by one)."""
        device = self.W_out.device
        inputs = check_tokens("inputs", inputs, self.vocab_size, (1, 2), device=device)
        targets = check_tokens("targets", targets, self.vocab_size, (1, 2), device=device)
        if targets.shape != inputs.shape:
            raise ValueError(f"targets: expected shape {tuple(inputs.shape)} (as inputs), got "
                             f"{tuple(targets.shape)}")
        logits = self(inputs)
        return F.cross_entropy(logits.reshape(-1, self.vocab_size), targets.reshape(-1))

    @torch.no_grad()
    def generate(self, prompt, n, temperature=1.0, generator=None):
        """Continue ``prompt`` (T0,) by ``n`` sampled characters; returns (T0 + n,) int64 on
        the prompt's device. Each step samples from softmax(logits / temperature) of the last
        ``context`` characters (``temperature=0``: the most likely character). ``generator``:
        an optional ``torch.Generator`` (on the model's device) for reproducible samples."""
        prompt = check_tokens("prompt", prompt, self.vocab_size, (1,))
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"n: expected a non-negative integer, got {n!r}")

        def step(tokens, state):
            return self(tokens[:, -self.context:])[:, -1], None, None

        start = prompt.to(self.W_out.device)[None]
        tokens, _ = decoding.decode(step, start, n, temperature=temperature, generator=generator)
        return torch.cat([prompt, tokens[0].to(prompt.device)])


__all__ = ["CharTransformer", "DecoderBlock", "EncoderBlock", "FeedForward", "PositionalEncoding",
           "Transformer", "sinusoidal_positional_encoding"]
