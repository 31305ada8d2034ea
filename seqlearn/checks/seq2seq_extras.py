"""Checks for the exercises of chapter 7b, *Decoding, exposure bias and dataset bias*.

=========================== ============ =======================================================
exercise                    kind         what the check does
=========================== ============ =======================================================
07-beam-step                implement    one step of beam search (7.9): the new scores, parent
                                         beams and tokens, finished beams included, against the
                                         reference on fresh random log-probabilities
07-position-errors          implement    token error rates by target position, PAD excluded,
                                         against the reference on fresh random predictions
07-caption-prior            experiment   a constant caption chosen from the statistics of a
                                         skewed training set, scored on fresh skewed strips
07-decoding-concepts        concept      beam sizes, beam search against greedy, where teacher
                                         forcing and free running agree, blind baselines
=========================== ============ =======================================================

The references are written here in NumPy (the package's beam search is
``seqlearn.torch.decoding.beam_search``, its error rates ``seqlearn.torch.seq2seq
.errors_by_position``). When an answer is wrong, the check compares it with what typical mistakes
give and names the mistake it recognises.
"""

import numpy as np

from .core import (check_concept, check_experiment, diagnose_outputs, fresh_rng, plain,
                   reference_allowed, register, run_check, screen)

PAD = 0


# -- 07-beam-step -----------------------------------------------------------------------------

def reference_beam_step(scores, log_probs, finished, beam_width):
    """One step of beam search, equation (7.9).

    scores (B, K0) the log-probabilities of the current beams; log_probs (B, K0, V) of the next
    token after each beam; finished (B, K0) bool, beams that have produced EOS (extended only by
    PAD = 0, at log-probability 0); beam_width K. Returns (new_scores (B, K), sorted from the
    best, parents (B, K) the beam each new beam extends, tokens (B, K) the token it appends).
    """
    B, K0, V = log_probs.shape
    ended = np.full(V, -np.inf)
    ended[PAD] = 0.0
    log_probs = np.where(finished[:, :, None], ended, log_probs)
    candidates = (scores[:, :, None] + log_probs).reshape(B, K0 * V)
    best = np.argsort(-candidates, axis=1, kind="stable")[:, :beam_width]
    return np.take_along_axis(candidates, best, axis=1), best // V, best % V


def _beam_variant(scores, log_probs, finished, beam_width, mistake):
    B, K0, V = log_probs.shape
    if mistake != "ignore_finished":
        ended = np.full(V, -np.inf)
        ended[PAD] = 0.0
        log_probs = np.where(finished[:, :, None], ended, log_probs)
    if mistake == "no_prefix_score":
        candidates = log_probs.reshape(B, K0 * V)
    else:
        candidates = (scores[:, :, None] + log_probs).reshape(B, K0 * V)
    if mistake == "per_beam":        # the best token of each beam, then the K best of those
        per = candidates.reshape(B, K0, V)
        tok = per.argmax(-1)
        val = per.max(-1)
        order = np.argsort(-val, axis=1, kind="stable")[:, :beam_width]
        best = np.take_along_axis(tok + np.arange(K0) * V, order, axis=1)
    else:
        best = np.argsort(-candidates, axis=1, kind="stable")[:, :beam_width]
    new = np.take_along_axis(candidates, best, axis=1)
    if mistake == "no_prefix_score":
        new = new + np.take_along_axis(scores, best // V, axis=1)
    if mistake == "swapped":
        return new, best % K0, best // K0
    if mistake == "ascending":
        return new[:, ::-1], (best // V)[:, ::-1], (best % V)[:, ::-1]
    return new, best // V, best % V


def _beam_cases(rng):
    cases = []
    for B, K0, V, K, n_finished in ((1, 1, 5, 3, 0), (2, 3, 6, 3, 0), (3, 4, 7, 4, 1),
                                    (2, 2, 9, 5, 1), (4, 3, 5, 2, 2)):
        logits = rng.normal(scale=2.0, size=(B, K0, V))
        log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
        scores = -np.sort(rng.uniform(0.5, 6.0, size=(B, K0)), axis=1)   # best beam first
        finished = np.zeros((B, K0), dtype=bool)
        for b in range(B):
            finished[b, rng.choice(K0, size=min(n_finished, K0 - 1 if K0 > 1 else 0),
                                   replace=False)] = True
        cases.append({"scores": scores, "log_probs": log_probs, "finished": finished,
                      "beam_width": K})
    return cases


@register("07-beam-step", kind="implement", points=15,
          summary="the new scores, parent beams and tokens of one beam-search step (7.9) against "
                  "the reference on 5 fresh random cases, finished beams included",
          forbidden=("topk", "beam_search"))
def check_beam_step(beam_step):
    """Check ``beam_step(scores, log_probs, finished, beam_width) -> (scores, parents, tokens)``."""
    cases = _beam_cases(fresh_rng())
    names = ["new_scores", "parents", "tokens"]
    mistakes = [
        (lambda **k: _beam_variant(**k, mistake="no_prefix_score"),
         "the candidates are ranked by the log-probability of the new token alone; a candidate's "
         "score is its beam's score plus that log-probability (7.9)"),
        (lambda **k: _beam_variant(**k, mistake="per_beam"),
         "each beam keeps only its own best token: the K best are chosen among all K·V "
         "candidates, so one beam may have several children and another none"),
        (lambda **k: _beam_variant(**k, mistake="swapped"),
         "flat index i of the (K, V) candidates is beam i // V and token i % V"),
        (lambda **k: _beam_variant(**k, mistake="ascending"),
         "the new beams are sorted from the best (largest score) to the worst"),
        (lambda **k: _beam_variant(**k, mistake="ignore_finished"),
         "a finished beam is extended by PAD only, at log-probability 0: it keeps its score "
         "and competes with the others"),
    ]
    hint = diagnose_outputs(beam_step, cases[2:3], reference_beam_step, mistakes, names,
                            "form the K·V candidate scores, take the K largest, and recover the "
                            "beam and the token from each flat index")
    return run_check("07-beam-step", "One step of beam search", beam_step, reference_beam_step,
                     cases, names, hint=hint)


# -- 07-position-errors -----------------------------------------------------------------------

def reference_position_errors(predicted, target):
    """Token error rate at each target position: predicted (N, T) and target (N, T) int arrays,
    target padded with PAD = 0 at the end. Returns (rates (T,), counts (T,)): the fraction of
    the targets with a token at position t whose prediction there is wrong (0 where no target
    has one) and how many targets have a token at t."""
    real = target != PAD
    counts = real.sum(0)
    wrong = ((predicted != target) & real).sum(0)
    return wrong / np.maximum(counts, 1), counts


def _position_variant(predicted, target, mistake):
    real = target != PAD
    counts = real.sum(0)
    wrong = (predicted != target)
    if mistake == "count_padding":
        return wrong.mean(0), np.full(target.shape[1], target.shape[0])
    if mistake == "divide_by_all":
        return (wrong & real).sum(0) / target.shape[0], counts
    if mistake == "accuracy":
        return ((predicted == target) & real).sum(0) / np.maximum(counts, 1), counts
    return None


def _position_cases(rng):
    cases = []
    for N, T, V in ((1, 4, 5), (6, 5, 6), (20, 8, 7), (12, 3, 4)):
        lengths = rng.integers(1, T + 1, size=N)
        target = rng.integers(1, V, size=(N, T))
        target[np.arange(T)[None, :] >= lengths[:, None]] = PAD
        predicted = np.where(rng.random((N, T)) < 0.7, target, rng.integers(0, V, size=(N, T)))
        cases.append({"predicted": predicted, "target": target})
    cases[-1]["target"][:, -1] = PAD        # a position no target reaches
    return cases


@register("07-position-errors", kind="implement", points=8,
          summary="error rates and counts by position, PAD excluded, against the reference on 4 "
                  "fresh random cases, one with a position that no target reaches")
def check_position_errors(position_errors):
    """Check ``position_errors(predicted, target) -> (rates, counts)``."""
    cases = _position_cases(fresh_rng())
    names = ["rates", "counts"]
    mistakes = [
        (lambda **k: _position_variant(**k, mistake="count_padding"),
         "the padded positions are counted; only targets that have a token at position t count "
         "there"),
        (lambda **k: _position_variant(**k, mistake="divide_by_all"),
         "the errors are divided by all N targets; divide by the number that have a token at t"),
        (lambda **k: _position_variant(**k, mistake="accuracy"),
         "that is the accuracy: the error rate is the fraction of wrong tokens"),
    ]
    hint = diagnose_outputs(position_errors, cases[2:3], reference_position_errors, mistakes,
                            names, "mask the padding (target == 0), count per column, and give "
                                   "0 where no target has a token")
    return run_check("07-position-errors", "Error rates by position", position_errors,
                     reference_position_errors, cases, names, hint=hint)


# -- 07-caption-prior -------------------------------------------------------------------------

#: The skewed captions of the experiment: the digit frequencies of each of the three positions.
CAPTION_PRIOR = np.array([
    [.04, .40, .08, .08, .08, .08, .08, .08, .04, .04],
    [.05, .05, .05, .05, .05, .05, .05, .55, .05, .05],
    [.30, .05, .05, .05, .25, .05, .05, .05, .05, .10],
])


def skewed_training_captions(n=500):
    """The captions of the experiment's training set: ``n`` strips of three digits drawn with the
    skewed frequencies of :data:`CAPTION_PRIOR` (the same every time), as a dict of
    ``skewed_digit_strips`` (``"digits"`` (n, 3), ``"tgt_out"``, ``"images"``, ...)."""
    from ..torch.captioning import skewed_digit_strips

    return skewed_digit_strips(n, CAPTION_PRIOR, n_digits=3, rng=2024, subset="train")


def _measure_caption_prior(choice):
    choice = plain(choice)
    if (not isinstance(choice, (tuple, list)) or len(choice) != 3
            or not all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 9
                       for d in choice)):
        raise ValueError("expected a tuple of three digits 0-9, e.g. (3, 1, 4)")
    from ..torch.captioning import skewed_digit_strips

    test = skewed_digit_strips(2000, CAPTION_PRIOR, n_digits=3, rng=fresh_rng(), subset="test")
    right = test["digits"] == np.array(choice)
    word = right.mean()
    best = CAPTION_PRIOR.max(1).mean()
    chance = 0.1
    score = int(word >= best - 0.04) + int(word >= chance + 0.1)
    lines = [f"the caption {choice} names {word:.0%} of the digits of 2000 fresh skewed strips "
             f"right without looking at them (positions: "
             + ", ".join(f"{r:.0%}" for r in right.mean(0)) + ")",
             f"uniform digits would give {chance:.0%} to any constant caption"]
    if score < 2:
        lines.append("hint: count, position by position, which digit the training captions "
                     "name most often")
    return score, lines


@register("07-caption-prior", kind="experiment", points=2,
          summary="the chosen constant caption is scored on 2000 fresh skewed strips: a point "
                  "above chance + 10 points, a point within 4 points of the best constant caption")
def check_caption_prior(choose_caption):
    """Check ``choose_caption() -> (d1, d2, d3)``."""
    return check_experiment("07-caption-prior", "A caption prior", choose_caption,
                            _measure_caption_prior, max_score=2)


# -- 07-decoding-concepts ---------------------------------------------------------------------

_CONCEPT_QUESTIONS = [
    {"key": "candidates_per_step", "answer": 52,
     "explain": {4: "each of the K beams can be extended by each of the V words",
                 13: "that is one beam's extensions; there are K beams",
                 17: "the beams and the words multiply: every beam × every word"},
     "hint": "how many (beam, next word) pairs are there?"},
    {"key": "width_one_is", "answer": "greedy",
     "hint": "with one beam, the best of the V extensions of the only prefix is kept: which "
             "decoder does that?"},
    {"key": "beam_never_worse_than_greedy", "answer": False,
     "explain": {True: "the greedy prefix can be pruned at a step where K other prefixes score "
                       "higher, and the survivors may end worse than greedy's sequence"},
     "hint": "is the greedy prefix always among the K kept?"},
    {"key": "same_error_position", "answer": 1,
     "explain": {0: "positions are counted from 1, the first token written",
                 2: "at position 2 the free-running decoder reads its own first token, which "
                    "may be wrong"},
     "hint": "at which position do both decoders read exactly the same input?"},
    {"key": "blind_no_accuracy", "answer": 0.6561, "tolerance": 1e-3,
     "explain": {0.9: "that is one digit; the strip has four, and the answer is no only if "
                      "none of them is a zero",
                 0.6: "digits are independent: the probability that none of four is a zero "
                      "is a product, not a difference",
                 0.3439: "that is the share of 'yes'; answering 'no' is right the other times"},
     "hint": "the answer 'no' is right when none of the four independent digits is a zero"},
    {"key": "blind_caption_accuracy", "answer": 0.5, "tolerance": 1e-6,
     "explain": {0.1: "that is a blind model on uniform digits; here one digit is far more "
                      "frequent than the others",
                 1 / 18: "a blind model does best by always naming the most frequent digit",
                 0.125: "that is a whole caption of three words; the question asks about one"},
     "hint": "the model cannot see the digit: what is its best constant guess, and how often is "
             "it right?"},
]


@register("07-decoding-concepts", kind="concept", points=len(_CONCEPT_QUESTIONS),
          summary="the candidates of a beam step, beam width 1, beam against greedy, the "
                  "position where teacher forcing and free running agree, two blind baselines")
def check_decoding_concepts(answers):
    """Check ``answers() -> dict`` of the six answers (see ``_CONCEPT_QUESTIONS``)."""
    refused = screen("07-decoding-concepts", "Decoding and bias", answers,
                     len(_CONCEPT_QUESTIONS))
    if refused:
        return refused

    def plain_answers():
        given = answers()
        return {k: plain(v) for k, v in given.items()} if isinstance(given, dict) else given

    with reference_allowed():
        return check_concept("07-decoding-concepts", "Decoding and bias", plain_answers,
                             _CONCEPT_QUESTIONS)


__all__ = ["CAPTION_PRIOR", "check_beam_step", "check_caption_prior", "check_decoding_concepts",
           "check_position_errors", "reference_beam_step", "reference_position_errors",
           "skewed_training_captions"]
