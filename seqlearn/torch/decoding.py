"""Autoregressive decoding: the one loop that makes every torch sequence model of the course write
its output a token at a time — ``Seq2SeqRNN``, ``Transformer`` and ``DigitCaptioner``
(``greedy_decode``) and ``CharTransformer`` (``generate``).

Each model describes one step; :func:`decode` runs the loop::

    y_0 = start,   p_t = softmax(logits_t / temperature) = p(y_t | y_<t, source),
    y_t = argmax p_t (temperature 0, greedy) or a sample of p_t,   t = 1 … max_len

stopping early once every sequence has produced ``eos``. Greedy decoding takes the most probable
token at every step, which need not give the most probable sequence (beam search keeps several
candidates to get closer to it); it is what the course uses to measure its models.
"""

from numbers import Integral

import torch

from ..data.transduction import PAD
from ..validate import describe


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
    if (not isinstance(start_tokens, torch.Tensor) or start_tokens.dim() != 2
            or start_tokens.dtype != torch.int64 or start_tokens.numel() == 0):
        raise TypeError(f"start_tokens: expected a non-empty int64 tensor (B, T0), got "
                        f"{describe(start_tokens)}")
    if isinstance(max_len, bool) or not isinstance(max_len, Integral) or max_len < 0:
        raise ValueError(f"max_len: expected an integer >= 0, got {max_len!r}")
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


__all__ = ["decode"]
