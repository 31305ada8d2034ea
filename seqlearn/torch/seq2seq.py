"""RNN encoder–decoder models for sequence-to-sequence tasks, with and without attention.

The encoder reads the source ``x_1 … x_S`` into states ``h_1 … h_S`` (a GRU); the decoder is a
second GRU that starts from the encoder's final state and produces the target one token at a
time, reading the previous target token (Sutskever et al., 2014; Cho et al., 2014)::

    encoder:  h_j = GRU_enc(E_src[x_j], h_{j-1})                       j = 1 … S
    decoder:  s_0 = h_S,   s_t = GRU_dec(E_tgt[y_{t-1}], s_{t-1})       y_0 = BOS
    output:   p(y_t | y_<t, x) = softmax(s̃_t W_o + b_o)

Without attention ``s̃_t = s_t``: everything the decoder knows about the source has passed
through the single vector h_S — the fixed-length *bottleneck*, which hurts more the longer the
source. With attention every decoder state also reads a weighted average of all encoder states
(Bahdanau et al., 2015; Luong et al., 2015)::

    α_t = softmax_j(score(s_t, h_j))   (padding gets weight 0),   c_t = Σ_j α_tj h_j
    s̃_t = tanh([s_t ; c_t] W_c + b_c)

with ``score(s, h) = tanh(s W_q + h W_k) · w_a`` (``attention="additive"``, Bahdanau) or
``score(s, h) = s · h`` (``attention="dot"``, Luong's dot score, scale 1).

Attention here comes *after* the decoder GRU, as in Luong et al. (2015): the context c_t is not
fed back into the recurrence. Bahdanau et al. (2015) feed c_t into the GRU instead, which forces
a step-by-step loop during training; with the order used here the teacher-forced decoder runs
over the whole target at once (one ``nn.GRU`` call), and attention for all steps is one batched
operation, so training is as fast as for the model without attention.

Token ids follow ``seqlearn.data.transduction``: PAD = 0, BOS = 1, EOS = 2. Every model here and
``seqlearn.torch.transformer.Transformer`` share one interface: ``model(src, tgt_in)`` → logits
(B, T, V) (V the size of the target vocabulary), ``model.greedy_decode(src, max_len)`` →
tokens (B, max_len), which runs the package's one decoding loop,
``seqlearn.torch.decoding.decode``; so ``train_seq2seq`` and ``sequence_accuracy`` work with
both.
"""

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ..validate import describe, check_positive_int
from ..data.transduction import BOS, EOS, PAD
from .attention import AdditiveAttention, scaled_dot_product_attention
from .common import check_tokens, padding_mask
from .decoding import beam_search, decode
from .train import batch_source, fit

ATTENTION_KINDS = (None, "additive", "dot")


# -- source lengths -------------------------------------------------------------------------------
def source_lengths(src):
    """The number of real (non-PAD) tokens of each row of ``src`` (B, S), checking that every
    row has at least one and that padding only comes after the real tokens."""
    src = check_tokens("src", src)
    real = src != PAD
    lengths = real.sum(1)
    if int(lengths.min()) < 1:
        raise ValueError("src: every sequence needs at least one real token (a row is all PAD)")
    if not torch.equal(real, padding_mask(lengths, src.shape[1])):
        raise ValueError("src: PAD may only come after a sequence's tokens (found PAD followed "
                         "by a real token)")
    return lengths


def _device_of(model):
    return next(model.parameters()).device


# -- the model ------------------------------------------------------------------------------------
class Seq2SeqRNN(nn.Module):
    """GRU encoder–decoder, optionally with attention over the encoder states.

    Parameters
    ----------
    src_vocab_size, tgt_vocab_size : ints ≥ 4 (PAD, BOS, EOS and at least one symbol)
    embedding_size : E, the size of the token embeddings (source and target have their own)
    hidden_size : H, the size of the encoder's and the decoder's states
    attention : ``None`` (the decoder sees only the encoder's final state), ``"additive"``
        (Bahdanau et al., 2015) or ``"dot"`` (Luong et al., 2015, s·h without scaling)
    attention_size : A, the hidden size of additive attention (default H)
    bidirectional : if True the encoder reads the source both ways and its states
        [h→_j ; h←_j] (2H) are projected back to H (``bridge``), which gives each encoder state
        a view of its neighbours on both sides

    Submodules: ``src_embedding``, ``tgt_embedding`` (``nn.Embedding`` with ``padding_idx=PAD``),
    ``encoder`` and ``decoder`` (``nn.GRU``, batch-first), ``bridge`` (``nn.Linear`` 2H → H, or
    ``None``), ``attention`` (``AdditiveAttention`` or ``None``), ``combine`` (``nn.Linear`` 2H → H,
    with attention only) and ``output`` (``nn.Linear`` H → V, the target vocabulary).

    After a forward pass or ``greedy_decode``, ``last_attention`` holds the attention weights
    (B, T, S) (``None`` without attention).
    """

    def __init__(self, src_vocab_size, tgt_vocab_size, embedding_size=32, hidden_size=64,
                 attention=None, attention_size=None, bidirectional=False):
        super().__init__()
        self.src_vocab_size = check_positive_int("src_vocab_size", src_vocab_size)
        self.tgt_vocab_size = check_positive_int("tgt_vocab_size", tgt_vocab_size)
        for name, value in (("src_vocab_size", src_vocab_size), ("tgt_vocab_size", tgt_vocab_size)):
            if value <= EOS + 1:
                raise ValueError(f"{name}: expected at least {EOS + 2} ids (PAD, BOS, EOS and one "
                                 f"symbol), got {value}")
        self.embedding_size = check_positive_int("embedding_size", embedding_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        if attention not in ATTENTION_KINDS:
            raise ValueError(f"attention: expected one of {ATTENTION_KINDS}, got {attention!r}")
        self.attention_kind = attention
        self.bidirectional = bool(bidirectional)
        E, H = self.embedding_size, self.hidden_size
        self.src_embedding = nn.Embedding(self.src_vocab_size, E, padding_idx=PAD)
        self.tgt_embedding = nn.Embedding(self.tgt_vocab_size, E, padding_idx=PAD)
        self.encoder = nn.GRU(E, H, batch_first=True, bidirectional=self.bidirectional)
        self.bridge = nn.Linear(2 * H, H) if self.bidirectional else None
        self.decoder = nn.GRU(E, H, batch_first=True)
        if attention == "additive":
            A = H if attention_size is None else check_positive_int("attention_size", attention_size)
            self.attention = AdditiveAttention(H, H, A)
        else:
            self.attention = None
        self.combine = nn.Linear(2 * H, H) if attention is not None else None
        self.output = nn.Linear(H, self.tgt_vocab_size)
        self.last_attention = None

    def extra_repr(self):
        return f"attention={self.attention_kind!r}, bidirectional={self.bidirectional}"

    # -- pieces ---------------------------------------------------------------------------------
    def encode(self, src):
        """Read the source.

        ``src`` (B, S) int64, padded with PAD at the end. Returns the encoder states
        ``memory`` (B, S, H) (meaningless at padding, which attention masks), the decoder's
        initial state ``s_0`` (1, B, H) (the state after each sequence's last real token) and the
        padding mask (B, S) (True = real token).
        """
        src = check_tokens("src", src, self.src_vocab_size, device=_device_of(self))
        lengths = source_lengths(src)
        packed = pack_padded_sequence(self.src_embedding(src), lengths.cpu(), batch_first=True,
                                      enforce_sorted=False)
        states, final = self.encoder(packed)
        memory, _ = pad_packed_sequence(states, batch_first=True, total_length=src.shape[1])
        if self.bidirectional:
            memory = self.bridge(memory)
            final = torch.tanh(self.bridge(torch.cat([final[0], final[1]], dim=-1)))[None]
        return memory, final, padding_mask(lengths, src.shape[1])

    def attend(self, states, memory, mask):
        """Attention from decoder states (B, T, H) to ``memory`` (B, S, H):
        returns the contexts (B, T, H) and the weights (B, T, S)."""
        if self.attention_kind == "additive":
            return self.attention(states, memory, memory, mask)
        return scaled_dot_product_attention(states, memory, memory, mask[:, None, :], scale=1.0)

    def readout(self, states, memory, mask):
        """Logits (B, T, V) from decoder states (B, T, H), and the attention weights or None."""
        if self.attention_kind is None:
            return self.output(states), None
        context, weights = self.attend(states, memory, mask)
        combined = torch.tanh(self.combine(torch.cat([states, context], dim=-1)))
        return self.output(combined), weights

    # -- the interface --------------------------------------------------------------------------
    def forward(self, src, tgt_in):
        """Teacher-forced logits.

        ``src`` (B, S) int64 padded with PAD; ``tgt_in`` (B, T) int64, BOS followed by the
        target. Returns logits (B, T, V): position t scores the token after ``tgt_in[:, t]``.
        """
        memory, s0, mask = self.encode(src)
        tgt_in = check_tokens("tgt_in", tgt_in, self.tgt_vocab_size, device=memory.device)
        if tgt_in.shape[0] != memory.shape[0]:
            raise ValueError(f"tgt_in: expected {memory.shape[0]} rows like src, got "
                             f"{describe(tgt_in)}")
        states, _ = self.decoder(self.tgt_embedding(tgt_in), s0)
        logits, weights = self.readout(states, memory, mask)
        self.last_attention = None if weights is None else weights.detach()
        return logits

    @torch.no_grad()
    def greedy_decode(self, src, max_len, return_attention=False):
        """Produce the target one token at a time, each the most probable given the ones before.

        Starts from BOS; after a sequence has produced EOS the rest of its row is PAD.
        Returns tokens (B, max_len) int64 (without BOS), and with ``return_attention`` also the
        attention weights (B, max_len, S) (zeros after EOS; ``None`` without attention).
        """
        max_len = check_positive_int("max_len", max_len)
        memory, s0, mask = self.encode(src)
        start = torch.full((mask.shape[0], 1), BOS, dtype=torch.long, device=memory.device)
        tokens, weights = decode(self._step(memory, mask), start, max_len, state=s0, eos=EOS)
        self.last_attention = weights
        return (tokens, weights) if return_attention else tokens

    def _step(self, memory, mask):
        def step(tokens, state):
            states, state = self.decoder(self.tgt_embedding(tokens[:, -1:]), state)
            logits, weights = self.readout(states, memory, mask)
            return logits[:, -1], state, None if weights is None else weights[:, -1]
        return step

    @torch.no_grad()
    def beam_decode(self, src, max_len, beam_width, return_scores=False):
        """Produce the target by beam search (``seqlearn.torch.decoding.beam_search``) with
        ``beam_width`` K beams: the sequence of largest Σ_t log p(y_t | y_<t, x) among the K
        kept at every step. K = 1 gives ``greedy_decode``'s tokens.

        ``src`` (B, S) int64 padded with PAD. Returns tokens (B, max_len) int64 (PAD after EOS),
        and with ``return_scores`` also their log-probabilities (B,) float64.
        """
        max_len = check_positive_int("max_len", max_len)
        memory, s0, mask = self.encode(src)
        K = check_positive_int("beam_width", beam_width)
        step = self._step(memory.repeat_interleave(K, dim=0), mask.repeat_interleave(K, dim=0))
        start = torch.full((mask.shape[0], 1), BOS, dtype=torch.long, device=memory.device)
        tokens, scores = beam_search(step, start, max_len, K, state=s0, eos=EOS,
                                     reorder_state=lambda s, index: s.index_select(1, index))
        self.last_attention = None
        return (tokens, scores) if return_scores else tokens


# -- training and evaluation ----------------------------------------------------------------------
def _batch_tensors(batch, device, keys=("src", "tgt_in", "tgt_out")):
    if not isinstance(batch, dict) or any(k not in batch for k in keys):
        raise ValueError(f"batch: expected a dict with keys {keys} (as made by "
                         f"seqlearn.data.transduction.transduction_task), got {describe(batch)}")
    out = [check_tokens(k, batch[k], device=device) for k in keys]
    shapes = [tuple(t.shape) for t in out]
    if len({s[0] for s in shapes}) != 1 or len({s for s in shapes[1:]}) != 1:
        raise ValueError(f"batch: expected src (B, S) and {', '.join(keys[1:])} of one shape "
                         f"(B, T), got shapes {dict(zip(keys, shapes))}")
    return out


def seq2seq_loss(model, batch):
    """Mean cross-entropy (nats per target token, PAD positions ignored) of the teacher-forced
    logits ``model(src, tgt_in)`` against ``tgt_out``."""
    src, tgt_in, tgt_out = _batch_tensors(batch, _device_of(model))
    logits = model(src, tgt_in)
    # An id outside the vocabulary would be a cryptic device-side assert on a GPU.
    check_tokens("tgt_out", tgt_out, vocab_size=logits.shape[-1])
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1),
                           ignore_index=PAD)


def train_seq2seq(model, make_batch, steps, lr=3e-3, clip=1.0, progress=True, desc="training"):
    """Train a sequence-to-sequence model with Adam and teacher forcing.

    Parameters
    ----------
    model : a module with the interface ``model(src, tgt_in) -> logits (B, T, V)``
        (``Seq2SeqRNN``, ``seqlearn.torch.transformer.Transformer``)
    make_batch : ``make_batch(step) -> dict`` with ``"src"``, ``"tgt_in"``, ``"tgt_out"`` (as
        made by ``transduction_task``; a fresh batch every step), or one such dict used at
        every step
    steps : int ≥ 1, optimiser steps
    lr : Adam's step size
    clip : the largest gradient norm (all parameters together), or ``None`` for no clipping
    progress : show a tqdm progress bar

    Returns the list of the ``steps`` training losses (cross-entropy per target token, nats).
    Raises ``FloatingPointError`` as soon as a loss is NaN or inf.
    """
    return fit(model, seq2seq_loss, batch_source("make_batch", make_batch, dict), steps, lr=lr,
               clip=clip, progress=progress, desc=desc)["losses"]


def compare_tokens(pred, tgt_out):
    """Predicted tokens ``pred`` (B, T') against the targets ``tgt_out`` (B, T), position by
    position (``pred`` cut or padded with PAD to T). Returns ``exact`` (B,) bool — the sequence
    is right up to and including its EOS — and the number of right target tokens and of all
    target tokens (EOS included, PAD excluded)."""
    T = tgt_out.shape[1]
    if pred.shape[1] < T:
        pred = F.pad(pred, (0, T - pred.shape[1]), value=PAD)
    pred = pred[:, :T]
    real = tgt_out != PAD                      # the target's tokens and its EOS
    correct = (pred == tgt_out) & real
    exact = correct.sum(1) == real.sum(1)
    return exact, correct.sum(), real.sum()


def exact_matches(model, data, max_len=None, batch_size=512):
    """(n,) bool array: whether greedy decoding reproduces each target exactly, up to and
    including its EOS. ``data``: a dict with ``"src"`` and ``"tgt_out"``; ``max_len`` defaults to
    ``tgt_out``'s width."""
    return _evaluate(model, data, max_len, batch_size)[0]


def _evaluate(model, data, max_len, batch_size):
    device = _device_of(model)
    src, tgt_out = _batch_tensors(data, device, keys=("src", "tgt_out"))
    max_len = tgt_out.shape[1] if max_len is None else check_positive_int("max_len", max_len)
    was_training = model.training
    model.eval()
    exact, correct, total = [], 0, 0
    try:
        for start in range(0, src.shape[0], batch_size):
            rows = slice(start, start + batch_size)
            sub_src = src[rows]
            sub_src = sub_src[:, :int((sub_src != PAD).sum(1).max())]   # drop all-PAD columns
            pred = model.greedy_decode(sub_src, max_len)
            e, c, n = compare_tokens(pred, tgt_out[rows])
            exact.append(e)
            correct += int(c)
            total += int(n)
    finally:
        model.train(was_training)
    return torch.cat(exact).cpu().numpy(), correct / total


def sequence_accuracy(model, data, max_len=None, batch_size=512):
    """Accuracy of greedy decoding on ``data`` (a dict with ``"src"`` and ``"tgt_out"``).

    Returns ``(exact, token)``: the fraction of sequences reproduced exactly, up to and including
    EOS, and the fraction of target tokens (EOS included, PAD excluded) predicted correctly at
    their position. ``max_len`` (default: ``tgt_out``'s width) bounds the decoding.
    """
    exact, token = _evaluate(model, data, max_len, batch_size)
    return float(exact.mean()), float(token)


def accuracy_by_length(model, data, max_len=None):
    """Exact-match accuracy of greedy decoding for each source length in ``data``.

    Returns ``(lengths, accuracy)``: the distinct values of ``data["lengths"]`` in increasing
    order and, for each, the fraction of those sequences reproduced exactly.
    """
    if not isinstance(data, dict) or "lengths" not in data:
        raise ValueError(f"data: expected a dict with 'lengths' (as made by transduction_task), "
                         f"got {describe(data)}")
    exact = exact_matches(model, data, max_len)
    lengths = np.asarray(data["lengths"])
    values = np.unique(lengths)
    return values, np.array([exact[lengths == v].mean() for v in values])


@torch.no_grad()
def errors_by_position(model, data, max_len=None):
    """Token error rates by target position, with and without teacher forcing (exposure bias).

    ``data``: a dict with ``"src"``, ``"tgt_in"`` and ``"tgt_out"`` (as made by
    ``transduction_task``). For every position t of the target (its EOS included, PAD
    excluded) returns ``(positions, teacher_forced, free_running, counts)``, arrays of length T:
    the positions 1 … T; the fraction of targets whose token t is wrong when the model reads the
    true previous tokens (argmax of ``model(src, tgt_in)``, as in training); the same fraction
    when it reads its own previous tokens (``greedy_decode``, as at test time); and how many
    targets have a token at t.
    """
    device = _device_of(model)
    src, tgt_in, tgt_out = _batch_tensors(data, device)
    was_training = model.training
    model.eval()
    try:
        forced = model(src, tgt_in).argmax(-1)
        free = model.greedy_decode(src, tgt_out.shape[1] if max_len is None
                                   else check_positive_int("max_len", max_len))
    finally:
        model.train(was_training)
    T = tgt_out.shape[1]
    free = F.pad(free, (0, max(0, T - free.shape[1])), value=PAD)[:, :T]
    real = tgt_out != PAD
    counts = real.sum(0)
    wrong_forced = ((forced != tgt_out) & real).sum(0) / counts.clamp(min=1)
    wrong_free = ((free != tgt_out) & real).sum(0) / counts.clamp(min=1)
    return (np.arange(1, T + 1), wrong_forced.cpu().numpy(), wrong_free.cpu().numpy(),
            counts.cpu().numpy())


__all__ = ["ATTENTION_KINDS", "errors_by_position", "Seq2SeqRNN", "accuracy_by_length", "compare_tokens",
           "exact_matches", "seq2seq_loss", "sequence_accuracy", "source_lengths",
           "train_seq2seq"]
