"""Byte-pair encoding (Gage 1994; Sennrich et al. 2016): subword tokens learned by counting.

A character model reads long sequences of few symbols; a word model short sequences of very many
symbols, and it has no symbol for a word it has never seen. Byte-pair encoding sits between the
two. It starts from the characters of a text (for the ASCII plays shipped with the course the
characters are the bytes, hence the name) and repeats one step ``num_merges`` times::

    count every pair (a, b) of adjacent tokens in the text      (a merge may not cross a boundary)
    (a*, b*) = the most frequent pair                            (ties: the smallest ids)
    add the token a*b* to the vocabulary and replace every occurrence of a* b*, left to right
    and without overlaps, by it

So the vocabulary grows by one token per merge, V = (number of characters) + ``num_merges``
(fewer if no pair occurs twice any more), and the text shrinks by the number of occurrences
replaced. Frequent words become single tokens, rare words stay split into frequent pieces, and
every text over the same characters can still be encoded: no token is ever unknown.

**Boundaries.** A merge never joins a token to a following token that starts with anything but
a letter: there is a boundary before every space, newline, digit and punctuation mark. A token
is therefore at most one non-letter followed by letters (``" the"``, ``"\\nMACBETH"``, ``"'s"``,
``","``), the pre-tokenisation of GPT-2's byte-level BPE in its simplest form (Radford et al.
2019). Whether a pair may merge depends on its right token only, so the rule needs no separate
bookkeeping: a merged token starts with the first character of its left part.

Encoding a new text applies the learned merges in the order they were learned, each everywhere at
once (:func:`merge_pair`); on the training text this reproduces the learner's tokens exactly.
Everything is vectorised over the text with NumPy: a merge is one pass over the token ids.
"""

import numpy as np

from ..validate import describe


def _check_ids(name, ids):
    if isinstance(ids, (str, bytes)):
        raise TypeError(f"{name}: expected a 1-D array of integer token ids, got a string")
    arr = np.asarray(ids)
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name}: expected a 1-D array of integer token ids, got {describe(ids)}")
    if arr.ndim != 1:
        raise TypeError(f"{name}: expected a 1-D array of integer token ids (N,), got "
                        f"{describe(ids)}")
    if arr.size and arr.min() < 0:
        raise ValueError(f"{name}: expected token ids ≥ 0, got {arr.min()}")
    return arr.astype(np.int64, copy=False)


def _check_pair(name, pair):
    """``(a, b)``, two int token ids ≥ 0."""
    if isinstance(pair, (str, bytes)) or not hasattr(pair, "__len__") or len(pair) != 2 \
            or not all(isinstance(p, (int, np.integer)) and not isinstance(p, bool)
                       for p in pair):
        raise TypeError(f"{name}: expected two int token ids (a, b), got {describe(pair)}")
    if min(pair) < 0:
        raise ValueError(f"{name}: expected token ids ≥ 0, got {tuple(pair)!r}")
    return int(pair[0]), int(pair[1])


def merge_pair(ids, pair, new_id):
    """Replace every occurrence of the adjacent tokens ``pair = (a, b)`` in ``ids`` by ``new_id``.

    Occurrences are taken left to right without overlaps: in a run ``a a a`` of the pair
    ``(a, a)`` only the first two merge (``new_id a``), in ``a a a a`` both halves do.

    Parameters
    ----------
    ids : (N,) int token ids
    pair : (a, b), two token ids
    new_id : the id of the merged token

    Returns the (N − n,) int64 ids, n being the number of occurrences replaced.
    """
    ids = _check_ids("ids", ids)
    a, b = _check_pair("pair", pair)
    if isinstance(new_id, bool) or not isinstance(new_id, (int, np.integer)):
        raise TypeError(f"new_id: expected an int, got {new_id!r}")
    if len(ids) < 2:
        return ids.copy()
    starts = np.flatnonzero((ids[:-1] == a) & (ids[1:] == b))
    if a == b and len(starts) > 1:
        # In a run of overlapping starts i, i+1, i+2, ... keep every other one, from the first.
        first_of_run = np.ones(len(starts), dtype=bool)
        first_of_run[1:] = starts[1:] != starts[:-1] + 1
        run_start = np.maximum.accumulate(np.where(first_of_run, starts, 0))
        starts = starts[(starts - run_start) % 2 == 0]
    out = ids.copy()
    out[starts] = new_id
    keep = np.ones(len(ids), dtype=bool)
    keep[starts + 1] = False
    return out[keep]


class BytePairEncoding:
    """A learned byte-pair vocabulary: the characters, then one token per merge.

    ``chars`` (list of str) are tokens 0 .. C−1, sorted; merge k joins the tokens
    ``merges[k] = (a, b)`` into token C + k, whose string is ``tokens[a] + tokens[b]``.
    ``counts[k]`` is how often the pair occurred when it was merged (the learner's count,
    overlapping occurrences included). Made by :func:`learn_bpe`.

    Attributes: ``tokens`` (list of str, one per id), ``lengths`` ((V,) int64, the characters
    of each token), ``merges``, ``counts``, ``chars``.
    """

    def __init__(self, chars, merges, counts=None):
        for name, value in (("chars", chars), ("merges", merges), ("counts", counts)):
            if (value is not None or name != "counts") and (
                    isinstance(value, bytes) or not hasattr(value, "__iter__")):
                raise TypeError(f"{name}: expected a list, got {describe(value)}")
        chars = list(chars)
        if not chars or any(not isinstance(c, str) or len(c) != 1 for c in chars):
            raise ValueError(f"chars: expected a non-empty list of single characters, got "
                             f"{chars!r:.80}")
        if len(set(chars)) != len(chars):
            raise ValueError("chars: expected distinct characters")
        self.chars = chars
        self.tokens = list(chars)
        self.merges = []
        for k, pair in enumerate(merges):
            a, b = _check_pair(f"merges: entry {k}", pair)
            if not (0 <= a < len(self.tokens) and 0 <= b < len(self.tokens)):
                raise ValueError(f"merges: entry {k} {pair!r} names a token that does not exist "
                                 f"yet (ids 0..{len(self.tokens) - 1})")
            self.merges.append((a, b))
            self.tokens.append(self.tokens[a] + self.tokens[b])
        counts = list(counts) if counts is not None else [0] * len(self.merges)
        if any(isinstance(c, bool) or not isinstance(c, (int, np.integer)) or c < 0
               for c in counts):
            raise TypeError(f"counts: expected ints ≥ 0, one per merge, got {counts!r:.80}")
        self.counts = [int(c) for c in counts]
        if len(self.counts) != len(self.merges):
            raise ValueError(f"counts: expected {len(self.merges)} counts, one per merge, got "
                             f"{len(self.counts)}")
        self.lengths = np.array([len(t) for t in self.tokens], dtype=np.int64)
        self._index = {c: i for i, c in enumerate(chars)}

    def __len__(self):
        return len(self.tokens)

    def __repr__(self):
        return f"BytePairEncoding({len(self.chars)} characters, {len(self.merges)} merges)"

    def truncated(self, num_merges):
        """The vocabulary of the first ``num_merges`` merges only (what the learner had then)."""
        if isinstance(num_merges, bool) or not isinstance(num_merges, (int, np.integer)) \
                or not 0 <= num_merges <= len(self.merges):
            raise ValueError(f"num_merges: expected an int in 0..{len(self.merges)}, got "
                             f"{num_merges!r}")
        return BytePairEncoding(self.chars, self.merges[:num_merges], self.counts[:num_merges])

    def encode_characters(self, text):
        """``text`` -> (N,) int64 character ids (tokens 0 .. C−1), before any merge."""
        if not isinstance(text, str):
            raise TypeError(f"text: expected a str, got {describe(text)}")
        unknown = sorted(set(text) - set(self._index))
        if unknown:
            raise ValueError(f"text: characters {unknown[:10]} are not in the vocabulary")
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        table = np.full(max(map(ord, self.chars)) + 1, -1, dtype=np.int64)
        table[[ord(c) for c in self.chars]] = np.arange(len(self.chars))
        return table[codes]

    def encode(self, text):
        """``text`` (str) -> (N,) int64 token ids: the characters, then every merge in order
        (:func:`merge_pair`). Characters not in ``chars`` raise ``ValueError``."""
        ids = self.encode_characters(text)
        for k, pair in enumerate(self.merges):
            ids = merge_pair(ids, pair, len(self.chars) + k)
        return ids

    def decode(self, ids):
        """Token ids (N,) -> the text they spell."""
        ids = _check_ids("ids", ids)
        if ids.size and (ids.min() < 0 or ids.max() >= len(self.tokens)):
            raise ValueError(f"ids: expected ids in 0..{len(self.tokens) - 1}, got values from "
                             f"{ids.min()} to {ids.max()}")
        return "".join(self.tokens[i] for i in ids)


def may_merge_before(chars):
    """(C,) bool: True for the characters a merge may join to the token before them (letters).

    A boundary lies before every other character (space, newline, digit, punctuation), so a
    token is at most one non-letter followed by letters. ``chars``: a list of single characters
    (or a str)."""
    if isinstance(chars, bytes) or not hasattr(chars, "__iter__"):
        raise TypeError(f"chars: expected a list of single characters, got {describe(chars)}")
    chars = list(chars)
    if any(not isinstance(c, str) for c in chars):
        raise TypeError(f"chars: expected a list of single characters, got {chars!r:.80}")
    if any(len(c) != 1 for c in chars):
        raise ValueError(f"chars: expected single characters, got {chars!r:.80}")
    return np.array([c.isalpha() for c in chars], dtype=bool)


def learn_bpe(text, num_merges):
    """Learn ``num_merges`` byte-pair merges from ``text`` (Sennrich et al. 2016).

    Starting from the characters, each step counts the adjacent pairs (a, b) of the current
    tokens whose right token b starts with a letter (see the module docstring), merges the most
    frequent one everywhere (:func:`merge_pair`) and records it; ties go to the smallest
    (a, b). It stops early when no pair occurs twice.

    Returns a :class:`BytePairEncoding`; ``encode(text)`` gives the learner's final tokens.
    """
    if not isinstance(text, str) or len(text) < 2:
        raise ValueError(f"text: expected a string of at least 2 characters, got {text!r:.60}")
    if isinstance(num_merges, bool) or not isinstance(num_merges, (int, np.integer)) \
            or num_merges < 0:
        raise ValueError(f"num_merges: expected a non-negative int, got {num_merges!r}")
    chars = sorted(set(text))
    vocab = BytePairEncoding(chars, [])
    ids = vocab.encode_characters(text)
    mergeable = may_merge_before(chars)        # per token: may it join the token before it?
    merges, counts = [], []
    for _ in range(int(num_merges)):
        V = len(mergeable)
        right = ids[1:]
        allowed = mergeable[right]
        pair_counts = np.bincount(ids[:-1][allowed] * V + right[allowed], minlength=V * V)
        best = int(pair_counts.argmax())
        if pair_counts[best] < 2:
            break
        a, b = divmod(best, V)
        ids = merge_pair(ids, (a, b), V)
        mergeable = np.append(mergeable, mergeable[a])
        merges.append((a, b))
        counts.append(int(pair_counts[best]))
    return BytePairEncoding(chars, merges, counts)


__all__ = ["BytePairEncoding", "learn_bpe", "may_merge_before", "merge_pair"]
