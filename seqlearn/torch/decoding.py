"""Autoregressive decoding: the one loop that makes every torch sequence model of the course write
its output a token at a time — ``Seq2SeqRNN``, ``Transformer`` and ``DigitCaptioner``
(``greedy_decode``) and ``CharTransformer`` (``generate``).

Each model describes one step; :func:`decode` runs the loop::

    y_0 = start,   p_t = softmax(logits_t / temperature) = p(y_t | y_<t, source),
    y_t = argmax p_t (temperature 0, greedy) or a sample of p_t,   t = 1 … max_len

stopping early once every sequence has produced ``eos``. Greedy decoding takes the most probable
token at every step, which need not give the most probable sequence; it is what the course uses to
measure its models. :func:`beam_search` keeps the ``K`` most probable prefixes instead::

    score(y_1 … y_t) = Σ_{τ ≤ t} log p(y_τ | y_<τ, source),
    beams_t = the K best of { prefix + y : prefix ∈ beams_{t−1}, y ∈ vocabulary }

with K = 1 it is greedy decoding, and with K at least the number of all prefixes it is exact.
"""

from numbers import Integral

import torch

from ..data.transduction import PAD
from ..validate import describe


def _check_start_and_length(start_tokens, max_len):
    """The prompt tokens (B, T0) and the number of tokens to add, as decode and beam_search take
    them."""
    if (not isinstance(start_tokens, torch.Tensor) or start_tokens.dim() != 2
            or start_tokens.dtype != torch.int64 or start_tokens.numel() == 0):
        raise TypeError(f"start_tokens: expected a non-empty int64 tensor (B, T0), got "
                        f"{describe(start_tokens)}")
    if isinstance(max_len, bool) or not isinstance(max_len, Integral) or max_len < 0:
        raise ValueError(f"max_len: expected an integer >= 0, got {max_len!r}")


def decode(step, start_tokens, max_len, state=None, eos=None, temperature=0.0, generator=None):
    """Run ``step`` ``max_len`` times, appending each chosen token to the sequences.

    Parameters
    ----------
    step : ``step(tokens, state) -> (logits, state, extra)``. ``tokens`` (B, t) are the tokens
        so far, the start tokens included (a recurrent decoder reads only ``tokens[:, -1:]`` and
        carries its ``state``; a Transformer reads them all); ``logits`` (B, V) score the next
        token; ``extra`` is ``None`` or a tensor (B, ...) to keep for this step, such as the
        attention weights
    start_tokens : (B, T0) int64 tensor, e.g. a column of BOS, or a prompt; it sets the device
    max_len : int ≥ 0, the number of tokens to produce
    state : the decoder's initial state, passed to the first ``step`` (e.g. the encoder's
        final state; ``None`` lets ``step`` start from the start tokens alone)
    eos : a token id that ends a sequence: after it the sequence gets PAD (0) and its ``extra``
        rows are zero; decoding stops when every sequence has ended. ``None``: never stop early
    temperature : 0 takes the most probable token (greedy decoding); a positive value samples
        from softmax(logits / temperature), computed in float64
    generator : optional ``torch.Generator`` on the device of ``start_tokens``, for reproducible
        samples

    Returns ``tokens`` (B, max_len) int64 (without the start tokens) and ``extras``
    (B, max_len, ...), the stacked ``extra`` of the steps (``None`` when ``step`` returns none).
    Runs without gradients.
    """
    if not callable(step):
        raise TypeError(f"step: expected a function (tokens, state) -> (logits, state, extra), "
                        f"got {describe(step)}")
    _check_start_and_length(start_tokens, max_len)
    max_len = int(max_len)
    if (isinstance(temperature, bool) or not isinstance(temperature, (int, float))
            or not temperature >= 0):
        raise ValueError(f"temperature: expected a number >= 0 (0: greedy), got {temperature!r}")
    device = start_tokens.device
    if generator is not None:
        if not isinstance(generator, torch.Generator):
            raise TypeError(f"generator: expected a torch.Generator or None, got "
                            f"{describe(generator)}")
        if generator.device.type != device.type:
            raise ValueError(f"generator: is on {generator.device} but decoding runs on "
                             f"{device}; make it with torch.Generator(device={str(device)!r})")
    B = start_tokens.shape[0]
    tokens = torch.full((B, max_len), PAD, dtype=torch.long, device=device)
    finished = torch.zeros(B, dtype=torch.bool, device=device)
    sequence, extras = start_tokens, None
    with torch.no_grad():
        for t in range(max_len):
            logits, state, extra = step(sequence, state)
            if temperature == 0:
                token = logits.argmax(-1)
            else:
                probs = torch.softmax(logits.double() / temperature, dim=-1)
                token = torch.multinomial(probs, 1, generator=generator)[:, 0]
            token = token.masked_fill(finished, PAD)
            tokens[:, t] = token
            if extra is not None:
                if extras is None:
                    extras = extra.new_zeros((B, max_len, *extra.shape[1:]))
                extras[:, t] = extra.masked_fill(finished.view(B, *[1] * (extra.dim() - 1)), 0)
            if eos is not None:
                finished |= token == eos
                if bool(finished.all()):
                    break
            sequence = torch.cat([sequence, token[:, None]], dim=1)
    return tokens, extras


def _reorder(state, index):
    """``state`` with its batch axis 0 indexed by ``index``: tensors, and tuples, lists and dicts
    of them (``None`` and other values are kept)."""
    if isinstance(state, torch.Tensor):
        return state.index_select(0, index)
    if isinstance(state, (tuple, list)):
        return type(state)(_reorder(s, index) for s in state)
    if isinstance(state, dict):
        return {k: _reorder(v, index) for k, v in state.items()}
    return state


def beam_search(step, start_tokens, max_len, beam_width, state=None, eos=None,
                reorder_state=None):
    """Beam search: the ``beam_width`` most probable prefixes, extended a token at a time.

    With K = ``beam_width`` beams per sequence, every step scores the K·V extensions of the
    beams, ``score(prefix + y) = score(prefix) + log softmax(logits)_y``, and keeps the K best;
    a beam that has produced ``eos`` is finished: it keeps its score and is extended by PAD only.
    At the end the best of the K beams is returned (the sum of log-probabilities, without length
    normalisation). K = 1 is greedy decoding (:func:`decode` with temperature 0); a K at least
    the number of prefixes of length ``max_len`` finds the most probable sequence exactly.

    Parameters
    ----------
    step : ``step(tokens, state) -> (logits, state, extra)`` as for :func:`decode`, called on
        B·K rows (the K beams of sequence b are rows b·K … b·K + K − 1); ``extra`` is ignored.
        Whatever ``step`` reads besides ``tokens`` and ``state`` (an encoder's memory) must have
        B·K rows too: repeat it with ``repeat_interleave(K, dim=0)``
    start_tokens : (B, T0) int64 tensor, the start of every sequence (e.g. a column of BOS)
    max_len : int ≥ 0, the number of tokens to produce
    beam_width : int ≥ 1, K
    state : the initial state for one copy of each sequence (B rows); it is repeated K times and
        reordered with the beams by ``reorder_state``
    eos : the end token (``None``: sequences never end early)
    reorder_state : ``reorder_state(state, index) -> state``, picking the rows ``index`` (a
        long tensor) of the batch axis; default: axis 0 of every tensor in ``state`` (tuples,
        lists and dicts of tensors too). A GRU state (layers, B, H) needs axis 1:
        ``lambda s, i: s.index_select(1, i)``

    Returns ``tokens`` (B, max_len) int64, the best beam of each sequence (PAD after its
    ``eos``), and ``scores`` (B,) float64, its log-probability Σ_t log p(y_t | y_<t, source).
    Runs without gradients.
    """
    _check_start_and_length(start_tokens, max_len)
    if isinstance(beam_width, bool) or not isinstance(beam_width, Integral) or beam_width < 1:
        raise ValueError(f"beam_width: expected an integer >= 1, got {beam_width!r}")
    if reorder_state is not None and not callable(reorder_state):
        raise TypeError(f"reorder_state: expected a function (state, index) -> state or None, "
                        f"got {describe(reorder_state)}")
    reorder = _reorder if reorder_state is None else reorder_state
    max_len, K = int(max_len), int(beam_width)
    device = start_tokens.device
    B = start_tokens.shape[0]
    rows = torch.arange(B, device=device)
    sequence = start_tokens.repeat_interleave(K, dim=0)                   # (B·K, T0)
    state = reorder(state, rows.repeat_interleave(K))
    scores = torch.full((B, K), -torch.inf, dtype=torch.float64, device=device)
    scores[:, 0] = 0.0                  # one live beam at first, so that no prefix comes twice
    finished = torch.zeros(B * K, dtype=torch.bool, device=device)
    T0 = start_tokens.shape[1]
    with torch.no_grad():
        for t in range(max_len):
            logits, state, _ = step(sequence, state)
            V = logits.shape[-1]
            logp = torch.log_softmax(logits.double(), dim=-1)               # (B·K, V)
            ended = torch.full_like(logp, -torch.inf)
            ended[:, PAD] = 0.0
            logp = torch.where(finished[:, None], ended, logp)
            candidates = (scores.reshape(B * K, 1) + logp).reshape(B, K * V)
            scores, best = candidates.topk(K, dim=1)                        # (B, K), sorted
            beam, token = best // V, best % V
            source = (rows[:, None] * K + beam).reshape(-1)                 # (B·K,)
            token = token.reshape(-1)
            sequence = torch.cat([sequence.index_select(0, source), token[:, None]], dim=1)
            state = reorder(state, source)
            finished = finished.index_select(0, source)
            if eos is not None:
                finished = finished | (token == eos)
                if bool(finished.all()):
                    break
    tokens = torch.full((B, max_len), PAD, dtype=torch.long, device=device)
    written = sequence[:, T0:].reshape(B, K, -1)[:, 0]                      # the best beam
    tokens[:, :written.shape[1]] = written
    return tokens, scores[:, 0]


__all__ = ["beam_search", "decode"]
