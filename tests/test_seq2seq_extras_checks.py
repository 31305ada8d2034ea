"""The checks of chapter 7b (decoding, exposure bias, dataset bias): right answers score full
marks, typical mistakes are named, stubs say "not attempted", the package is refused."""

import numpy as np

from seqlearn.checks import seq2seq_extras as checks
from seqlearn.checks.core import CHECKS, EXERCISES

KINDS = {"07-beam-step": "implement", "07-position-errors": "implement",
         "07-caption-prior": "experiment", "07-decoding-concepts": "concept"}


def _stub(*args, **kwargs):
    raise NotImplementedError


def beam_step(scores, log_probs, finished, beam_width):
    B, K0, V = log_probs.shape
    out_scores, parents, tokens = [], [], []
    for b in range(B):
        candidates = []
        for k in range(K0):
            for v in range(V):
                if finished[b, k]:
                    if v == 0:
                        candidates.append((scores[b, k], k, v))
                else:
                    candidates.append((scores[b, k] + log_probs[b, k, v], k, v))
        candidates.sort(key=lambda c: -c[0])
        best = candidates[:beam_width]
        out_scores.append([c[0] for c in best])
        parents.append([c[1] for c in best])
        tokens.append([c[2] for c in best])
    return np.array(out_scores), np.array(parents), np.array(tokens)


def beam_step_without_prefix(scores, log_probs, finished, beam_width):
    s, p, t = beam_step(np.zeros_like(scores), log_probs, finished, beam_width)
    return s + np.take_along_axis(scores, p, axis=1), p, t


def position_errors(predicted, target):
    real = target != 0
    counts = real.sum(0)
    return ((predicted != target) & real).sum(0) / np.maximum(counts, 1), counts


def test_registered_with_their_kinds():
    for eid, kind in KINDS.items():
        assert eid in CHECKS and EXERCISES[eid].kind == kind


def test_right_answers_score_full_marks(capsys):
    assert checks.check_beam_step(beam_step).score == 15
    assert checks.check_position_errors(position_errors).score == 8
    assert checks.check_caption_prior(lambda: (1, 7, 4)).score == 2

    def answers():
        return {"candidates_per_step": 52, "width_one_is": "Greedy",
                "beam_never_worse_than_greedy": False, "same_error_position": 1,
                "blind_no_accuracy": 0.9 ** 4, "blind_caption_accuracy": 0.5}

    assert checks.check_decoding_concepts(answers).score == 6


def test_typical_mistakes_are_named(capsys):
    report = checks.check_beam_step(beam_step_without_prefix)
    assert report.score < 15
    assert "beam's score plus" in capsys.readouterr().out
    def divide_by_all(predicted, target):
        real = target != 0
        return ((predicted != target) & real).sum(0) / len(target), real.sum(0)

    report = checks.check_position_errors(divide_by_all)
    assert report.score < 8 and "divided by all N" in capsys.readouterr().out
    report = checks.check_caption_prior(lambda: (0, 0, 0))
    assert report.score < 2 and "count" in capsys.readouterr().out
    report = checks.check_decoding_concepts(lambda: {"candidates_per_step": 13,
                                                     "beam_never_worse_than_greedy": True,
                                                     "blind_no_accuracy": 0.3439})
    out = capsys.readouterr().out
    assert report.score == 0 and "K beams" in out and "pruned" in out and "share of 'yes'" in out


def test_stubs_are_not_attempted_and_the_package_is_refused(capsys):
    for check in (checks.check_beam_step, checks.check_position_errors,
                  checks.check_caption_prior, checks.check_decoding_concepts):
        assert check(_stub).attempted is False
    assert checks.check_beam_step(checks.reference_beam_step).score == 0
    assert "course package" in capsys.readouterr().out


def test_a_bad_caption_choice_is_explained(capsys):
    assert checks.check_caption_prior(lambda: (1, 7)).score == 0
    assert "three digits" in capsys.readouterr().out
