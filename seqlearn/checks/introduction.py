"""Checks for the exercises of chapter 1, *Introduction*: sequences as data.

* ``01-one-hot`` (implement): the one-hot codes of a sequence of symbols, equation (1.1);
* ``01-next-step-pairs`` (implement): the (input, target) pairs of next-step prediction, (1.2);
* ``01-batch-shapes`` (concept): the shapes of a batch and the number of pairs it gives, (1.2)
  and (1.3), in the notation of the chapter's table;
* ``01-pad-batch`` (implement): sequences of different lengths padded into one batch-first batch
  with their lengths and mask, (1.4);
* ``01-context-length`` (experiment): the context length of a count-based next-character
  predictor, equation (1.5), measured by its held-out accuracy on passages of *Macbeth*.

When an implementation is wrong, the check compares each wrong output with what the typical
mistakes give (a transposed code, targets not shifted, padding at the front, an inverted mask,
lengths read off the padded values, ...) and names the mistake it recognises.
"""

import copy
from collections import Counter, defaultdict

import numpy as np

from ..data.text import CharVocabulary, load_text
from ..validate import as_generator
from .core import (as_tuple, check_concept, check_experiment, fresh_rng, register, run_check,
                   to_numpy)


def _diagnose_outputs(student_fn, cases, reference_fn, mistakes, default_hint):
    """The messages of the typical mistakes that the student's wrong outputs reproduce, else
    ``default_hint``.

    ``mistakes`` is a list of ``(variant, index, message)``: output ``index`` of
    ``variant(**case)`` is what that mistake gives. Each wrong output of each case is compared
    with the variants in order; the first that it matches names its mistake. Unlike
    :func:`core.diagnose_mistake`, which needs every output to match one variant, this one names
    a mistake in one output while the others are right (or wrong for another reason).
    """
    found = []
    for case in cases:
        try:
            got = as_tuple(student_fn(**copy.deepcopy(case)))
        except Exception:  # noqa: BLE001 - run_check reports the crash with its case
            continue
        want = as_tuple(reference_fn(**copy.deepcopy(case)))
        if len(got) != len(want):
            continue
        for index, (g, w) in enumerate(zip(got, want)):
            if _same(g, w):
                continue
            for variant, where, message in mistakes:
                if where == index and _same(g, as_tuple(variant(**copy.deepcopy(case)))[where]):
                    if message not in found:
                        found.append(message)
                    break
    return "; ".join(found) if found else default_hint


def _same(got, want):
    """Whether ``got`` has the shape and values of the array ``want``."""
    try:
        got, want = to_numpy(got), to_numpy(want)
        numeric = np.issubdtype(got.dtype, np.number) or got.dtype == bool
        return (numeric and got.shape == want.shape
                and np.allclose(got.astype(float), want.astype(float), atol=1e-6, rtol=1e-5))
    except (TypeError, ValueError):
        return False


# -- 01-one-hot -------------------------------------------------------------------------------

def reference_one_hot(indices, vocab_size):
    """(T,) int indices -> (T, V) float one-hot rows, equation (1.1)."""
    out = np.zeros((len(indices), vocab_size))
    out[np.arange(len(indices)), indices] = 1.0
    return out


ONE_HOT_MISTAKES = [
    (lambda indices, vocab_size: reference_one_hot(indices, vocab_size).T, 0,
     "one row per step: the codes of a sequence of T symbols are (T, V), row t the code of "
     "indices[t] (rows are time steps, as everywhere in the course), not (V, T)"),
    (lambda indices, vocab_size: reference_one_hot(indices, int(np.max(indices)) + 1), 0,
     "the code has vocab_size columns even when the last symbols of the vocabulary do not occur "
     "in this sequence: do not read V off the data"),
    (lambda indices, vocab_size: reference_one_hot(np.asarray(indices) - 1, vocab_size), 0,
     "symbols are numbered from 0: symbol 0 sets column 0, the first"),
]


@register("01-one-hot", kind="implement", points=4,
          summary="one-hot codes (T, V) of fresh random symbol sequences, T = 1 and symbols "
                  "missing from the sequence included; transposed, data-sized and 1-based "
                  "codes are named")
def check_one_hot(one_hot):
    """Check ``one_hot(indices, vocab_size) -> (T, V)`` on random index sequences: one step
    only, a sequence in which the last symbols of the vocabulary do not occur, longer ones."""
    rng = fresh_rng()
    cases = [
        {"indices": rng.integers(0, 2, size=1), "vocab_size": 2},
        # the largest symbols are missing, so V cannot be read off the data
        {"indices": rng.integers(0, 3, size=6), "vocab_size": 5},
        {"indices": rng.permutation(np.arange(12) % 7), "vocab_size": 7},
        {"indices": rng.integers(0, 3, size=30), "vocab_size": 3},
    ]
    hint = _diagnose_outputs(
        one_hot, cases, reference_one_hot, ONE_HOT_MISTAKES,
        "row t is the one-hot code of equation (1.1) of the symbol indices[t], a float array of "
        "shape (len(indices), vocab_size)")
    return run_check("01-one-hot", "one_hot", one_hot, reference_one_hot, cases,
                     ["one_hot rows"], hint=hint)


# -- 01-next-step-pairs -----------------------------------------------------------------------

def reference_next_step_pairs(sequence):
    """(T,) -> inputs (T-1,) = sequence[:-1], targets (T-1,) = sequence[1:], equation (1.2)."""
    sequence = np.asarray(sequence)
    return sequence[:-1], sequence[1:]


def _pairs_swapped(sequence):
    sequence = np.asarray(sequence)
    return sequence[1:], sequence[:-1]


def _pairs_wrapped(sequence):
    sequence = np.asarray(sequence)
    return sequence, np.roll(sequence, -1)


NEXT_STEP_MISTAKES = [
    (_pairs_swapped, 0,
     "inputs are the first T−1 symbols s_1 … s_{T−1}; yours start at s_2 (inputs and targets "
     "swapped?)"),
    (_pairs_swapped, 1,
     "targets[t] is the symbol that follows inputs[t], s_{t+1}; yours are s_t, the first T−1 "
     "symbols"),
    (_pairs_wrapped, 0,
     "a sequence of T symbols gives T−1 pairs: the last symbol has no next symbol, so it is no "
     "input"),
    (_pairs_wrapped, 1,
     "and wrapping round (np.roll) makes the first symbol the 'next' of the last"),
]


@register("01-next-step-pairs", kind="implement", points=6,
          summary="inputs and next-step targets (T-1,) of sequences of distinct symbols, T = 2 "
                  "included; swapped, unshifted and wrapped-round pairs are named")
def check_next_step_pairs(next_step_pairs):
    """Check ``next_step_pairs(sequence) -> (inputs, targets)``: inputs are all but the last
    symbol, targets all but the first."""
    rng = fresh_rng()
    # Distinct symbols in each sequence, so that a wrong shift can never match by coincidence.
    cases = [{"sequence": rng.permutation(30)[:length]} for length in (2, 5, 17)]
    hint = _diagnose_outputs(
        next_step_pairs, cases, reference_next_step_pairs, NEXT_STEP_MISTAKES,
        "go back to equation (1.2): which symbols are inputs, which are targets, and how many "
        "pairs does a sequence of T symbols give?")
    return run_check(
        "01-next-step-pairs", "next_step_pairs", next_step_pairs, reference_next_step_pairs,
        cases, ["inputs", "targets"], hint=hint)


# -- 01-batch-shapes --------------------------------------------------------------------------

#: The batch of the concept exercise: B lines of T characters, V symbols, hidden size H, and
#: the context length k of a count-based predictor.
SHAPES_SETTING = {"B": 16, "T": 40, "V": 27, "H": 64, "k": 3}


def _shape_questions():
    B, T, V, H, K = (SHAPES_SETTING[key] for key in "BTVHk")
    return [
        {"key": "x_shape", "answer": (B, T, V),
         "explain": {(T, B, V): "that is time-first (T, B, V), the default of torch.nn.RNN; the "
                                "course puts the batch first",
                     (B, V, T): "the features of a step (here its one-hot code) are the last axis",
                     (T, V): "that is one line; the batch holds B of them"},
         "hint": "batch first, then time, then the features of one step (the notation table)"},
        {"key": "x_t_shape", "answer": (B, V),
         "explain": {(T, V): "that is x[b], one whole line; x_t = x[:, t] is step t of every line",
                     (V,): "that is step t of one line; x_t holds step t of the whole batch"},
         "hint": "x_t is step t of every sequence of the batch (the notation table)"},
        {"key": "W_xh_shape", "answer": (V, H),
         "explain": {(H, V): "that is the column-vector convention W x_t; the course multiplies "
                             "row vectors from the right, x_t W_xh"},
         "hint": "x_t W_xh must have the shape of h_t"},
        {"key": "h_t_shape", "answer": (B, H),
         "explain": {(H,): "there is one hidden state per sequence of the batch",
                     (B, T, H): "that is every state h_1 … h_T stacked; h_t is one step"},
         "hint": "the notation table gives the shape of h_t in terms of B and H"},
        {"key": "targets_shape", "answer": (B, T - 1),
         "explain": {(B, T): "the last character of a line has no next character to predict",
                     (B, T - 1, V): "targets are integers y_t (the notation table); the one-hot "
                                    "1_y appears only inside the loss",
                     (T - 1,): "that is the targets of one line; the batch has B of them"},
         "hint": "equation (1.2) for each line of the batch, targets as integers"},
        {"key": "pairs_per_batch", "answer": B * (T - 1),
         "explain": {B * T: "every line loses one pair: its last character has no next one",
                     T - 1: "that is one line; the batch has B of them"},
         "hint": "count the pairs of equation (1.2) in one line, then in the batch"},
        {"key": "windows_per_line", "answer": T - K,
         "explain": {T - K + 1: "T − k + 1 windows of k characters fit in a line, but the last "
                                "one has no next character to predict",
                     T - 1: "that is the count for k = 1",
                     T: "the first k characters have no full context before them"},
         "hint": "equation (1.3): for which t is there a full context and a next character?"},
        {"key": "contexts", "answer": V ** K,
         "explain": {V * K: "the choices multiply: each of the k positions holds any of V symbols",
                     K ** V: "k positions, each with V choices: V · V · … (k factors)",
                     V: "that is a context of one character"},
         "hint": "how many different strings of k characters can be written with V symbols?"},
    ]


@register("01-batch-shapes", kind="concept", points=8,
          summary="shapes of a one-hot batch, of x_t, W_xh, h_t and the targets, the number of "
                  "next-step pairs and context windows, and the number of contexts V^k")
def check_batch_shapes(answers):
    """Check ``answers()`` for the batch of :data:`SHAPES_SETTING`: shapes as tuples, counts
    as integers."""
    return check_concept("01-batch-shapes", "Shapes of a batch", answers, _shape_questions())


# -- 01-pad-batch -----------------------------------------------------------------------------

def reference_pad_batch(sequences):
    """A list of B arrays (T_b, D) -> ``x`` (B, T, D) zero-padded at the end with
    T = max T_b, ``lengths`` (B,) ints and ``mask`` (B, T) bool, True at the real steps
    (equation (1.4))."""
    lengths = np.array([len(s) for s in sequences])
    B, T, D = len(sequences), int(lengths.max()), np.shape(sequences[0])[1]
    x = np.zeros((B, T, D))
    for b, s in enumerate(sequences):
        x[b, :len(s)] = s
    mask = np.arange(T)[None, :] < lengths[:, None]
    return x, lengths, mask


def _pad_front(sequences):
    x, lengths, mask = reference_pad_batch(sequences)
    T = x.shape[1]
    front = np.zeros_like(x)
    for b, s in enumerate(sequences):
        front[b, T - len(s):] = s
    return front, lengths, mask[:, ::-1]


def _pad_time_first(sequences):
    x, lengths, mask = reference_pad_batch(sequences)
    return x.transpose(1, 0, 2), lengths, mask.T


def _pad_lengths_from_values(sequences):
    x, _, _ = reference_pad_batch(sequences)
    nonzero = np.any(x != 0, axis=2)
    last = np.array([np.flatnonzero(row).max() + 1 if row.any() else 0 for row in nonzero])
    return x, last, nonzero


def _pad_count_nonzero(sequences):
    x, _, _ = reference_pad_batch(sequences)
    nonzero = np.any(x != 0, axis=2)
    return x, nonzero.sum(axis=1), nonzero


def _pad_mask_inverted(sequences):
    x, lengths, mask = reference_pad_batch(sequences)
    return x, lengths, ~mask


def _pad_mask_inclusive(sequences):
    x, lengths, _ = reference_pad_batch(sequences)
    return x, lengths, np.arange(x.shape[1])[None, :] <= lengths[:, None]


PAD_MISTAKES = [
    (_pad_front, 0, "pad at the end: x[b, :T_b] holds sequence b and the steps after it are zero "
                    "(equation (1.4)); padding in front shifts every real step"),
    (_pad_time_first, 0, "batch first: x is (B, T, D), the sequences stacked on the first axis"),
    (_pad_front, 2, "the real steps come first, so the mask is True at the start of each row"),
    (_pad_time_first, 2, "the mask is (B, T), one row per sequence"),
    (_pad_lengths_from_values, 1,
     "lengths come from the sequences themselves: a real step may be all zeros (a sensor "
     "reading 0), so reading the length off the padded values undercounts"),
    (_pad_count_nonzero, 1,
     "lengths come from the sequences themselves: a real step may be all zeros, so counting "
     "non-zero steps undercounts"),
    (_pad_lengths_from_values, 2,
     "the mask follows from the lengths, not from the values: a real step may be all zeros"),
    (_pad_count_nonzero, 2,
     "the mask follows from the lengths, not from the values: a real step may be all zeros"),
    (_pad_mask_inverted, 2,
     "True marks the real steps (the course's convention; torch's src_key_padding_mask "
     "is the opposite: True there marks padding)"),
    (_pad_mask_inclusive, 2,
     "one step too many: counting steps from 0 in code, step t is real when t < lengths[b]"),
]


def _pad_cases(rng):
    def steps(T, D, scale=1.0):
        return rng.normal(scale=scale, size=(T, D))

    zero_end = steps(4, 3)
    zero_end[-1] = 0.0                      # a real step that is all zeros, at the end
    zero_middle = steps(6, 3)
    zero_middle[2] = 0.0                    # and one in the middle
    third = [steps(7, 3), zero_end, steps(1, 3), zero_middle]
    order = rng.permutation(4)
    return [
        {"sequences": [steps(4, 2)]},                                   # B = 1: nothing to pad
        {"sequences": [steps(5, 1), steps(1, 1), steps(3, 1)]},         # D = 1, a length 1
        {"sequences": [third[k] for k in order]},                       # zero steps
        {"sequences": [steps(6, 2, scale=1e3) for _ in range(5)]},      # equal lengths
    ]


@register("01-pad-batch", kind="implement", points=12,
          summary="padded batch (B, T, D), lengths (B,) and mask (B, T) of fresh random "
                  "sequences: B = 1, a length-1 sequence, real all-zero steps, equal lengths; "
                  "front padding, time-first, lengths read off the values and inverted or "
                  "off-by-one masks are named",
          forbidden=("pad_sequence", "pack_sequence", "pack_padded_sequence",
                     "pad_packed_sequence"))
def check_pad_batch(pad_batch):
    """Check ``pad_batch(sequences) -> (x, lengths, mask)`` on four batches of fresh random
    sequences."""
    cases = _pad_cases(fresh_rng())
    hint = _diagnose_outputs(
        pad_batch, cases, reference_pad_batch, PAD_MISTAKES,
        "go back to equation (1.4): where do the real steps go, what fills the rest, and which "
        "steps does the mask mark?")
    return run_check("01-pad-batch", "pad_batch", pad_batch, reference_pad_batch, cases,
                     ["x", "lengths", "mask"], hint=hint)


# -- 01-context-length ------------------------------------------------------------------------

#: Characters counted (training) and predicted (held out) in each passage of the experiment.
TRAIN_CHARS, HELD_OUT_CHARS = 20_000, 5_000
#: The context lengths the experiment accepts.
MAX_CONTEXT = 8


def _macbeth():
    if not hasattr(_macbeth, "indices"):
        text = load_text("macbeth")
        _macbeth.indices = CharVocabulary(text).encode(text)
    return _macbeth.indices


def context_experiment_data(rng=None):
    """One passage of *Macbeth*, encoded as character indices: ``train`` (20 000,), the text
    the predictor counts, and ``held_out`` (5 000,), the text right after it, which it predicts.
    ``rng`` (a ``numpy.random.Generator``, a seed, or None for the global state that
    ``seqlearn.seed`` sets) picks where the passage starts."""
    rng = as_generator(rng)
    indices = _macbeth()
    start = int(rng.integers(0, len(indices) - TRAIN_CHARS - HELD_OUT_CHARS + 1))
    middle = start + TRAIN_CHARS
    return indices[start:middle].copy(), indices[middle:middle + HELD_OUT_CHARS].copy()


def count_predictor_accuracy(train, held_out, k):
    """Held-out accuracy of the count-based predictor of equation (1.5) with context length k.

    The predictor counts, in ``train``, which symbol follows each context of k symbols; on
    ``held_out`` it predicts the symbol counted most often after the k symbols before it (the
    smallest index among equals), or, for a context it never saw, the most frequent symbol of
    ``train`` (which is what k = 0 predicts everywhere). Returns the fraction of the
    len(held_out) - k predictions that are right.
    """
    train, held_out = [int(s) for s in train], [int(s) for s in held_out]

    def most_frequent(counter):
        return min(counter, key=lambda symbol: (-counter[symbol], symbol))

    counts = defaultdict(Counter)                  # context (k symbols) -> next symbol -> count
    for t in range(k, len(train)):
        counts[tuple(train[t - k:t])][train[t]] += 1
    fallback = most_frequent(Counter(train))
    hits = 0
    for t in range(k, len(held_out)):
        seen = counts.get(tuple(held_out[t - k:t]))
        guess = most_frequent(seen) if seen else fallback
        hits += guess == held_out[t]
    return hits / (len(held_out) - k)


def count_predictor_accuracies(train, held_out, ks):
    """:func:`count_predictor_accuracy` for each context length in ``ks`` (each at most 8 for
    an alphabet of up to 100 symbols), vectorised: the same numbers, about 20 times faster."""
    train, held_out = np.asarray(train, dtype=np.int64), np.asarray(held_out, dtype=np.int64)
    V = int(max(train.max(), held_out.max())) + 1
    fallback = int(np.bincount(train, minlength=V).argmax())
    out = []
    for k in ks:
        context, target = _context_codes(train, k, V)
        key, counts = np.unique(context * V + target, return_counts=True)
        ctx, symbol = key // V, key % V
        order = np.lexsort((symbol, -counts, ctx))         # per context: most counted, smallest
        ctx, symbol = ctx[order], symbol[order]
        first = np.r_[True, ctx[1:] != ctx[:-1]]
        known, best = ctx[first], symbol[first]
        context, target = _context_codes(held_out, k, V)
        where = np.minimum(np.searchsorted(known, context), len(known) - 1)
        guess = np.where(known[where] == context, best[where], fallback)
        out.append(float(np.mean(guess == target)))
    return out


def _context_codes(sequence, k, V):
    """Each window of k symbols before step t (t = k .. T-1) as one integer in base V, and
    the symbol at step t."""
    T = len(sequence)
    code = np.zeros(T - k, dtype=np.int64)
    for j in range(k):
        code = code * V + sequence[j:T - k + j]
    return code, sequence[k:]


#: Full marks within this much accuracy of the best context length, 1 point within the second.
CONTEXT_TOLERANCES = (0.005, 0.075)


def _measure_context_length(choice, passages=3):
    if isinstance(choice, (bool, np.bool_)) or not isinstance(choice, (int, np.integer)):
        raise TypeError(f"expected an int, the context length k, got {type(choice).__name__}")
    k = int(choice)
    if not 0 <= k <= MAX_CONTEXT:
        raise ValueError(f"expected a context length k in 0..{MAX_CONTEXT}, got {k}")
    rng = fresh_rng()
    table = np.array([count_predictor_accuracies(*context_experiment_data(rng),
                                                 range(MAX_CONTEXT + 1))
                      for _ in range(passages)])
    mean = table.mean(axis=0)
    best = int(np.argmax(mean))
    gap = mean[best] - mean[k]
    score = 2 if gap <= CONTEXT_TOLERANCES[0] else 1 if gap <= CONTEXT_TOLERANCES[1] else 0
    lines = [
        f"held-out next-character accuracy, {passages} fresh passages of Macbeth "
        f"({TRAIN_CHARS:,} characters counted, the next {HELD_OUT_CHARS:,} predicted):",
        f"  your context length k = {k}: {mean[k]:.3f} "
        f"({', '.join(f'{a:.3f}' for a in table[:, k])})",
        f"  baseline, always the most frequent character (k = 0): {mean[0]:.3f}",
        f"  the best context length reaches {mean[best]:.3f}",
    ]
    if score == 2:
        lines.append("as good as any context length on these passages")
    else:
        direction = ("longer contexts predict better here: more of the past tells more"
                     if k < best else
                     "shorter contexts predict better here: most contexts this long were never "
                     f"counted in {TRAIN_CHARS:,} characters, and an unseen context falls back "
                     "to k = 0")
        lines.append(("close, but not the best: " if score == 1 else "") + direction)
    return score, lines


@register("01-context-length", kind="experiment", points=2,
          summary="the context length k of a count-based next-character predictor, scored by "
                  "its mean held-out accuracy on 3 fresh passages of Macbeth against every "
                  "k in 0..8: 2 points within 0.005 of the best, 1 within 0.075")
def check_context_length(choose_context_length):
    """Check ``choose_context_length() -> k`` by measuring the predictor with that k and with
    every other k on three fresh passages of *Macbeth*."""
    return check_experiment("01-context-length", "Context length of a count-based predictor",
                            choose_context_length, _measure_context_length, max_score=2)


__all__ = [
    "CONTEXT_TOLERANCES", "HELD_OUT_CHARS", "MAX_CONTEXT", "NEXT_STEP_MISTAKES",
    "ONE_HOT_MISTAKES", "PAD_MISTAKES", "SHAPES_SETTING", "TRAIN_CHARS",
    "check_batch_shapes", "check_context_length", "check_next_step_pairs", "check_one_hot",
    "check_pad_batch", "context_experiment_data", "count_predictor_accuracies",
    "count_predictor_accuracy", "reference_next_step_pairs", "reference_one_hot",
    "reference_pad_batch",
]
