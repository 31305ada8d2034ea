"""Checks for chapter 1 (Introduction): one-hot codes and next-step targets."""

import numpy as np

from .core import fresh_rng, register, run_check


def reference_one_hot(indices, vocab_size):
    """(T,) int indices -> (T, V) float one-hot rows."""
    out = np.zeros((len(indices), vocab_size))
    out[np.arange(len(indices)), indices] = 1.0
    return out


def reference_next_step_pairs(sequence):
    """(T,) -> inputs (T-1,) = sequence[:-1], targets (T-1,) = sequence[1:]."""
    sequence = np.asarray(sequence)
    return sequence[:-1], sequence[1:]


@register("01-one-hot")
def check_one_hot(one_hot):
    """Check ``one_hot(indices, vocab_size)`` on random index sequences of several lengths."""
    rng = fresh_rng()
    cases = []
    for length, vocab in [(1, 2), (5, 4), (12, 7), (30, 3)]:
        cases.append({"indices": rng.integers(0, vocab, size=length), "vocab_size": vocab})
    return run_check(
        "01-one-hot", "one_hot", one_hot, reference_one_hot, cases, ["one_hot rows"],
        hint="row t has a single 1 in column indices[t]; the shape is (len(indices), vocab_size)",
    )


@register("01-next-step-pairs")
def check_next_step_pairs(next_step_pairs):
    """Check ``next_step_pairs(sequence)``: inputs are all but the last, targets all but the first."""
    rng = fresh_rng()
    # Distinct symbols in each sequence, so that a wrong shift can never match by coincidence.
    cases = [{"sequence": rng.permutation(30)[:length]} for length in (2, 5, 17)]
    return run_check(
        "01-next-step-pairs", "next_step_pairs", next_step_pairs, reference_next_step_pairs,
        cases, ["inputs", "targets"],
        hint="the target at step t is the symbol at step t+1, so both outputs have length T-1",
    )


__all__ = ["check_next_step_pairs", "check_one_hot", "reference_next_step_pairs",
           "reference_one_hot"]
