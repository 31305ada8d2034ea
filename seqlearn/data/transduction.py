"""Seeded sequence-to-sequence (transduction) tasks: reverse, sort or copy a string of symbols.

The source is a string of ``L`` symbols; the target is the same symbols reversed, sorted or
unchanged, followed by an end-of-sequence token. Token ids are shared by the source and the
target vocabularies::

    PAD = 0    padding after the end of a shorter sequence (ignored by the loss)
    BOS = 1    "begin of sequence", the decoder's first input
    EOS = 2    "end of sequence", the last token the decoder must produce
    3, 4, ...  the symbols, shown as the letters a, b, c, ... by ``decode_tokens``

For teacher forcing the decoder reads ``tgt_in = BOS y_1 … y_L`` and is trained to produce
``tgt_out = y_1 … y_L EOS``: position t of ``tgt_in`` holds the token just before position t of
``tgt_out``. Reversal is the task of Sutskever et al. (2014) in miniature; its difficulty for an
encoder–decoder without attention grows with the length of the string.
"""

import string

import numpy as np

from ..validate import as_generator, check_positive_int, describe

PAD, BOS, EOS, FIRST_SYMBOL = 0, 1, 2, 3

#: The tasks that ``transduction_task`` can make.
TASKS = ("reverse", "sort", "copy")

#: The letters that ``decode_tokens`` prints for the symbols 3, 4, 5, ...
SYMBOL_LETTERS = string.ascii_lowercase


def vocabulary_size(n_symbols):
    """The number of token ids of a task with ``n_symbols`` symbols: PAD, BOS, EOS and the symbols."""
    return FIRST_SYMBOL + _check_n_symbols(n_symbols)


def _check_n_symbols(n_symbols):
    n_symbols = check_positive_int("n_symbols", n_symbols)
    if not 2 <= n_symbols <= len(SYMBOL_LETTERS):
        raise ValueError(f"n_symbols: expected an integer in [2, {len(SYMBOL_LETTERS)}] "
                         f"(each symbol is printed as a letter), got {n_symbols}")
    return n_symbols


def _check_lengths(lengths):
    if isinstance(lengths, (int, np.integer)) and not isinstance(lengths, bool):
        low = high = check_positive_int("lengths", lengths)
    elif isinstance(lengths, (tuple, list)) and len(lengths) == 2:
        try:
            low = check_positive_int("lengths", lengths[0])
            high = check_positive_int("lengths", lengths[1])
        except ValueError:
            raise ValueError(f"lengths: expected a positive int or a range (low, high) of positive "
                             f"ints, got {lengths!r}") from None
        if low > high:
            raise ValueError(f"lengths: expected low <= high in the range (low, high), got {lengths!r}")
    else:
        raise ValueError(f"lengths: expected a positive int or a range (low, high) of positive "
                         f"ints, got {describe(lengths)}")
    return low, high


def transduction_task(n, lengths, task="reverse", n_symbols=10, rng=0):
    """``n`` random source strings and their targets, padded into arrays.

    Each source has a length drawn uniformly from ``lengths`` and symbols drawn uniformly
    (with repetition) from the ids ``FIRST_SYMBOL .. FIRST_SYMBOL + n_symbols − 1``. Its target is

    * ``"reverse"``: y_i = x_{L+1−i};
    * ``"sort"``:    the symbols in increasing order;
    * ``"copy"``:    y_i = x_i.

    Parameters
    ----------
    n : int ≥ 1, number of sequences
    lengths : int ≥ 1 (every source that long) or a pair ``(low, high)``, lengths drawn
        uniformly from low..high inclusive
    task : ``"reverse"``, ``"sort"`` or ``"copy"``
    n_symbols : int in [2, 26], size of the alphabet
    rng : ``numpy.random.Generator`` or int seed (the same seed gives the same data)

    Returns
    -------
    dict of int64 arrays, S = the longest drawn length:

    * ``"src"`` (n, S): the sources, padded with PAD at the end;
    * ``"tgt_in"`` (n, S + 1): BOS followed by the target, padded with PAD;
    * ``"tgt_out"`` (n, S + 1): the target followed by EOS, padded with PAD;
    * ``"lengths"`` (n,): the source lengths (the targets are as long, plus EOS).
    """
    n = check_positive_int("n", n)
    low, high = _check_lengths(lengths)
    if task not in TASKS:
        raise ValueError(f"task: expected one of {TASKS}, got {task!r}")
    n_symbols = _check_n_symbols(n_symbols)
    rng = as_generator(rng)

    drawn = rng.integers(low, high + 1, size=n).astype(np.int64)
    S = int(drawn.max())
    symbols = rng.integers(FIRST_SYMBOL, FIRST_SYMBOL + n_symbols, size=(n, S)).astype(np.int64)
    real = np.arange(S)[None, :] < drawn[:, None]           # (n, S) True on real tokens
    src = np.where(real, symbols, PAD)

    if task == "copy":
        target = src.copy()
    elif task == "reverse":
        # position i of the target reads source position L − 1 − i (within each row's length)
        index = np.clip(drawn[:, None] - 1 - np.arange(S)[None, :], 0, S - 1)
        target = np.where(real, np.take_along_axis(src, index, axis=1), PAD)
    else:
        # padding becomes the largest value, so it sorts after every real symbol
        big = np.where(real, src, np.iinfo(np.int64).max)
        target = np.where(real, np.sort(big, axis=1), PAD)

    rows = np.arange(n)
    tgt_out = np.full((n, S + 1), PAD, dtype=np.int64)
    tgt_out[:, :S] = target
    tgt_out[rows, drawn] = EOS
    tgt_in = np.full((n, S + 1), PAD, dtype=np.int64)
    tgt_in[:, 0] = BOS
    tgt_in[:, 1:] = target
    return {"src": src, "tgt_in": tgt_in, "tgt_out": tgt_out, "lengths": drawn}


def decode_tokens(tokens):
    """Token ids as text: symbols as letters ``a, b, c, ...``, reading up to the first EOS.

    PAD and BOS are skipped. ``tokens`` is a 1-D sequence of ids (gives a ``str``) or a 2-D
    array (B, T) (gives a list of B strings). NumPy arrays, lists and torch tensors are accepted.
    """
    symbols = {FIRST_SYMBOL + k: letter for k, letter in enumerate(SYMBOL_LETTERS)}
    return read_tokens(tokens, symbols, separator="")


def read_tokens(tokens, symbols, separator):
    """The text of token ids, shared by :func:`decode_tokens` and the captions of
    ``seqlearn.data.digit_captions``: ``symbols`` maps each id after PAD, BOS and EOS to its text.

    Reads up to the first EOS and skips PAD and BOS; joins the texts with ``separator``. A 1-D
    sequence gives a ``str``, a 2-D array (B, T) a list of B strings.
    """
    if hasattr(tokens, "detach"):
        tokens = tokens.detach().cpu().numpy()
    if isinstance(tokens, (str, bytes)):
        raise TypeError(f"tokens: expected integer token ids, got {describe(tokens)}")
    array = np.asarray(tokens)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.integer) or array.size == 0):
        raise TypeError(f"tokens: expected integer token ids, got {describe(tokens)}")
    if array.ndim == 2:
        return [read_tokens(row, symbols, separator) for row in array]
    if array.ndim != 1:
        raise ValueError(f"tokens: expected 1 or 2 dimensions, got {describe(array)}")
    texts = []
    for token in array.tolist():
        if token == EOS:
            break
        if token in (PAD, BOS):
            continue
        if token not in symbols:
            raise ValueError(f"tokens: expected ids in [0, {max(symbols)}], got {token}")
        texts.append(symbols[token])
    return separator.join(texts)


__all__ = ["PAD", "BOS", "EOS", "FIRST_SYMBOL", "TASKS", "SYMBOL_LETTERS", "vocabulary_size",
           "transduction_task", "decode_tokens"]
