"""The checks of chapter 8b (subword tokens, cheaper attention): right answers score full marks,
typical mistakes are named, stubs score 0 with "not attempted", the package is refused, the
experiment scores a good and a bad choice as measured, the concept check explains wrong answers."""

import numpy as np
import pytest

from seqlearn.checks import transformer as checks
from seqlearn.checks.core import CHECKS, EXERCISES, reference_allowed
from seqlearn.numpy.bpe import merge_pair as package_merge_pair
from seqlearn.numpy.efficient_attention import tiled_attention_forward

ALL_CHECKS = {"08-bpe-merge": checks.check_bpe_merge,
              "08-tiled-attention": checks.check_tiled_attention,
              "08-bpe-bigram": checks.check_bpe_bigram,
              "08-efficient-attention-concepts": checks.check_efficient_attention_concepts}
KINDS = {"08-bpe-merge": "implement", "08-tiled-attention": "implement",
         "08-bpe-bigram": "experiment", "08-efficient-attention-concepts": "concept"}


def _stub(*args, **kwargs):
    raise NotImplementedError


# Independent solutions, written the way a student would.
def _merge(ids, pair, new_id):
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and ids[i] == pair[0] and ids[i + 1] == pair[1]:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return np.array(out, dtype=np.int64)


def _tiled(Q, K, V, tile_size):
    scale = 1 / np.sqrt(Q.shape[-1])
    m = np.full(Q.shape[:-1] + (1,), -np.inf)
    s = np.zeros(Q.shape[:-1] + (1,))
    r = np.zeros(Q.shape[:-1] + (V.shape[-1],))
    for start in range(0, K.shape[-2], tile_size):
        e = Q @ np.swapaxes(K[..., start:start + tile_size, :], -1, -2) * scale
        m_new = np.maximum(m, e.max(-1, keepdims=True))
        w, c = np.exp(e - m_new), np.exp(m - m_new)
        s, r, m = c * s + w.sum(-1, keepdims=True), c * r + w @ V[..., start:start + tile_size, :], m_new
    return r / s


RIGHT = {"vocabulary_size": 267, "loss_per_character": 2.0, "tiled_numbers_per_query": 1,
         "linear_state_numbers": 272, "exact": "tiled", "linear_cost_ratio": 2,
         "cache_growth": "linear", "recurrent_state_growth": "constant"}
GOOD = {"08-bpe-merge": _merge, "08-tiled-attention": _tiled, "08-bpe-bigram": lambda: 512,
        "08-efficient-attention-concepts": lambda: dict(RIGHT)}


def test_exercises_are_registered_with_kind_points_and_summary():
    for exercise_id, check in ALL_CHECKS.items():
        assert CHECKS[exercise_id] is check
        info = EXERCISES[exercise_id]
        assert info.kind == KINDS[exercise_id] and info.summary
        assert check(_stub).max_score == info.points


@pytest.mark.parametrize("exercise_id", sorted(ALL_CHECKS))
def test_independent_solutions_score_full_marks(exercise_id):
    report = ALL_CHECKS[exercise_id](GOOD[exercise_id])
    assert report.passed, str(report)


@pytest.mark.parametrize("exercise_id", sorted(ALL_CHECKS))
def test_stubs_score_zero_and_say_not_attempted(exercise_id):
    report = ALL_CHECKS[exercise_id](_stub)
    assert report.score == 0 and not report.attempted


def test_the_references_score_full_marks():
    with reference_allowed():
        assert checks.check_bpe_merge(checks.reference_merge_pair).passed
        assert checks.check_tiled_attention(checks.reference_tiled_attention).passed


def test_the_package_is_refused():
    def with_package(Q, K, V, tile_size):
        return tiled_attention_forward(Q, K, V, tile_size=tile_size)[0]

    assert checks.check_bpe_merge(package_merge_pair).refused
    assert checks.check_tiled_attention(with_package).refused

    def with_softmax(Q, K, V, tile_size):
        import scipy.special
        return scipy.special.softmax(Q @ np.swapaxes(K, -1, -2), axis=-1) @ V

    assert checks.check_tiled_attention(with_softmax).refused


@pytest.mark.parametrize("kind, message", [
    ("overlapping", "overlapping"), ("right_to_left", "right to left"),
    ("kept_second", "still there"), ("first_only", "only the first"),
])
def test_merge_mistakes_are_named(kind, message):
    def wrong(ids, pair, new_id):
        return checks._merge_pair_variant(ids, pair, new_id, kind)

    with reference_allowed():
        report = checks.check_bpe_merge(wrong)
    assert not report.passed and message in report.lines[-1], str(report)


@pytest.mark.parametrize("kind, message", [
    ("no_rescale", "not rescaled"), ("rescale_sum_only", "numerator is not"),
    ("tile_average", "normalised on its own"),
])
def test_tiled_mistakes_are_named(kind, message):
    def wrong(Q, K, V, tile_size):
        return checks._tiled_variant(Q, K, V, tile_size, kind)

    with reference_allowed():
        report = checks.check_tiled_attention(wrong)
    assert not report.passed and message in report.lines[-1], str(report)


def test_a_tiled_attention_without_the_running_maximum_is_told_why_it_overflows():
    def no_max(Q, K, V, tile_size):
        s = np.zeros(Q.shape[:-1] + (1,))
        r = np.zeros(Q.shape[:-1] + (V.shape[-1],))
        with np.errstate(all="ignore"):
            for start in range(0, K.shape[-2], tile_size):
                w = np.exp(Q @ np.swapaxes(K[..., start:start + tile_size, :], -1, -2)
                           / np.sqrt(Q.shape[-1]))
                s, r = s + w.sum(-1, keepdims=True), r + w @ V[..., start:start + tile_size, :]
            return r / s

    report = checks.check_tiled_attention(no_max)
    assert not report.passed and "overflows" in report.lines[-1], str(report)


def test_the_experiment_scores_what_it_measures():
    per_token, per_char = zip(*(checks.bigram_experiment(m)
                                for m in checks.BIGRAM_EXPERIMENT["choices"]))
    # per token the characters look best, per character they are worst: the lesson of (8.8)
    assert np.argmin(per_token) == 0 and np.argmax(per_char) == 0
    assert checks.bigram_experiment(0)[0] == pytest.approx(checks.bigram_experiment(0)[1])
    best = checks.BIGRAM_EXPERIMENT["choices"][int(np.argmin(per_char))]
    assert checks.check_bpe_bigram(lambda: best).score == 2
    assert checks.check_bpe_bigram(lambda: 0).score == 0
    others = [m for m in checks.BIGRAM_EXPERIMENT["choices"] if m not in (0, best)]
    assert checks.check_bpe_bigram(lambda: others[0]).score == 1


@pytest.mark.parametrize("choice", [100, "512", True, None])
def test_the_experiment_refuses_a_choice_it_cannot_run(choice):
    report = checks.check_bpe_bigram(lambda: choice)
    assert report.score == 0 and "cannot be run" in report.lines[0]


@pytest.mark.parametrize("key, wrong, message", [
    ("vocabulary_size", 200, "characters stay"),
    ("loss_per_character", 3.2, "loss per token"),
    ("tiled_numbers_per_query", 2, "combined"),
    ("linear_state_numbers", 256, "normaliser"),
    ("exact", "performer", "estimate"),
    ("linear_cost_ratio", 4, "T²"),
    ("cache_growth", "constant", "every past key"),
    ("recurrent_state_growth", "linear", "same size"),
])
def test_wrong_concept_answers_are_explained(key, wrong, message):
    answers = dict(RIGHT, **{key: wrong})
    report = checks.check_efficient_attention_concepts(lambda: answers)
    assert report.score == len(RIGHT) - 1
    line = next(line for line in report.lines if line.startswith(key))
    assert message in line


def test_numpy_numbers_count_as_answers():
    answers = dict(RIGHT, vocabulary_size=np.int64(267), loss_per_character=np.float64(2.0))
    assert checks.check_efficient_attention_concepts(lambda: answers).passed
