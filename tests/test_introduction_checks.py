"""The chapter 1 checks: the references and independent solutions score full marks, the typical
mistakes are named, untouched stubs score 0 and say so, the experiment passes a good choice and
fails bad ones, the concept check explains the wrong answers."""

import numpy as np
import pytest

from seqlearn.checks import introduction as intro
from seqlearn.checks.core import CHECKS, EXERCISES

# The checks refuse the package's own functions as answers; these tests submit the references.
pytestmark = pytest.mark.usefixtures("allow_reference")

IDS = ("01-one-hot", "01-next-step-pairs", "01-batch-shapes", "01-pad-batch", "01-context-length")


def _stub(*args, **kwargs):
    raise NotImplementedError("write me")


# Independent solutions, written as a student would (not the references).
def one_hot(indices, vocab_size):
    return np.eye(vocab_size)[np.asarray(indices)]


def next_step_pairs(sequence):
    return np.array(sequence[:-1]), np.array(sequence[1:])


def pad_batch(sequences):
    T = max(len(s) for s in sequences)
    x = np.stack([np.concatenate([s, np.zeros((T - len(s), s.shape[1]))]) for s in sequences])
    lengths = np.array([len(s) for s in sequences])
    return x, lengths, np.array([[t < n for t in range(T)] for n in lengths])


def answers():
    return {"x_shape": (16, 40, 27), "x_t_shape": (16, 27), "W_xh_shape": (27, 64),
            "h_t_shape": (16, 64), "targets_shape": (16, 39), "pairs_per_batch": 624,
            "windows_per_line": 37, "contexts": 27 ** 3}


def test_every_exercise_is_registered_with_its_kind_and_points():
    kinds = {eid: EXERCISES[eid].kind for eid in IDS}
    assert set(kinds.values()) == {"implement", "experiment", "concept"}
    assert all(eid in CHECKS and EXERCISES[eid].summary for eid in IDS)
    points = {"01-one-hot": 4, "01-next-step-pairs": 6, "01-batch-shapes": 8, "01-pad-batch": 12,
              "01-context-length": 2}
    assert {eid: EXERCISES[eid].points for eid in IDS} == points


@pytest.mark.parametrize("check, solution, points", [
    (intro.check_one_hot, intro.reference_one_hot, 4),
    (intro.check_one_hot, one_hot, 4),
    (intro.check_next_step_pairs, intro.reference_next_step_pairs, 6),
    (intro.check_next_step_pairs, next_step_pairs, 6),
    (intro.check_pad_batch, intro.reference_pad_batch, 12),
    (intro.check_pad_batch, pad_batch, 12),
    (intro.check_batch_shapes, answers, 8),
    (intro.check_context_length, lambda: 3, 2),
])
def test_right_answers_score_full_marks(check, solution, points, capsys):
    report = check(solution)
    assert report.passed and report.score == report.max_score == points
    assert "PASSED" in capsys.readouterr().out
    assert EXERCISES[report.exercise_id].points == points


@pytest.mark.parametrize("check", [intro.check_one_hot, intro.check_next_step_pairs,
                                   intro.check_pad_batch, intro.check_batch_shapes,
                                   intro.check_context_length])
def test_untouched_stub_scores_zero_and_says_so(check, capsys):
    report = check(_stub)
    assert report.score == 0 and not report.attempted
    assert "not attempted yet" in capsys.readouterr().out


# -- one-hot ---------------------------------------------------------------------------------

@pytest.mark.parametrize("wrong, scores, message", [
    (lambda indices, vocab_size: np.eye(vocab_size)[indices].T, (0,), "one row per step"),
    # right by chance where the sequence holds the last symbol (case 1 draws it half the time)
    (lambda indices, vocab_size: np.eye(max(indices) + 1)[indices], (2, 3),
     "vocab_size columns even when"),
    (lambda indices, vocab_size: np.eye(vocab_size)[np.asarray(indices) - 1], (0,),
     "numbered from 0"),
])
def test_one_hot_mistakes_are_named(wrong, scores, message):
    report = intro.check_one_hot(wrong)
    assert report.score in scores
    assert message in report.lines[-1] and report.lines[-1].startswith("hint:")


def test_one_hot_check_has_a_case_where_the_last_symbols_are_missing():
    # Read V off the data and a case must fail, whatever the fresh inputs are.
    for _ in range(20):
        report = intro.check_one_hot(lambda indices, vocab_size: np.eye(max(indices) + 1)[indices])
        assert report.score < report.max_score


# -- next-step pairs -------------------------------------------------------------------------

@pytest.mark.parametrize("wrong, messages", [
    (lambda sequence: (sequence[:-1], sequence[:-1]), ["yours are s_t"]),
    (lambda sequence: (sequence[1:], sequence[:-1]), ["inputs and targets swapped",
                                                      "yours are s_t"]),
    (lambda sequence: (sequence, np.roll(sequence, -1)), ["T−1 pairs", "np.roll"]),
])
def test_next_step_mistakes_are_named(wrong, messages):
    report = intro.check_next_step_pairs(wrong)
    assert report.score < report.max_score
    assert all(m in report.lines[-1] for m in messages), report.lines[-1]


def test_an_unknown_mistake_points_to_the_equation():
    report = intro.check_next_step_pairs(lambda sequence: (sequence[:-1], sequence[1:] + 1))
    assert report.score == 3 and "equation (1.2)" in report.lines[-1]


# -- padded batch ----------------------------------------------------------------------------

def _front_padded(sequences):
    x, lengths, mask = pad_batch(sequences)
    for b, s in enumerate(sequences):
        x[b] = 0.0
        x[b, x.shape[1] - len(s):] = s
    return x, lengths, mask


def _lengths_from_values(sequences):
    x, _, _ = pad_batch(sequences)
    real = np.abs(x).sum(axis=2) > 0
    return x, real.sum(axis=1), real


def _inverted_mask(sequences):
    x, lengths, mask = pad_batch(sequences)
    return x, lengths, ~mask


def _inclusive_mask(sequences):
    x, lengths, _ = pad_batch(sequences)
    return x, lengths, np.arange(x.shape[1])[None, :] <= lengths[:, None]


def _time_first(sequences):
    x, lengths, mask = pad_batch(sequences)
    return x.transpose(1, 0, 2), lengths, mask.T


@pytest.mark.parametrize("wrong, score, message", [
    (_front_padded, 10, "pad at the end"),    # B = 1 and equal lengths need no padding
    (_lengths_from_values, 10, "a real step may be all zeros"),
    (_inverted_mask, 8, "True marks the real steps"),
    (_inclusive_mask, 10, "one step too many"),
    (_time_first, 4, "batch first"),
])
def test_pad_batch_mistakes_are_named(wrong, score, message):
    report = intro.check_pad_batch(wrong)
    assert report.score == score, report
    assert message in report.lines[-1]


def test_pad_batch_whole_job_routines_are_refused():
    from seqlearn.checks import core

    namespace = {"np": np, "__name__": "__main__"}
    exec("import torch\n"
         "def pad_batch(sequences):\n"
         "    x = torch.nn.utils.rnn.pad_sequence([torch.as_tensor(s) for s in sequences],\n"
         "                                        batch_first=True)\n"
         "    lengths = np.array([len(s) for s in sequences])\n"
         "    return x.numpy(), lengths, np.arange(x.shape[1]) < lengths[:, None]\n", namespace)
    with core.reference_allowed(False):
        report = intro.check_pad_batch(namespace["pad_batch"])
    assert report.refused and "pad_sequence" in report.lines[0]


def test_pad_batch_that_modifies_its_inputs_loses_the_case():
    def clobbers(sequences):
        out = pad_batch(sequences)
        for s in sequences:
            s[:] = 0.0
        return out

    report = intro.check_pad_batch(clobbers)   # graded on its own copies, but told and docked
    assert report.score == 0 and "modified its input(s) sequences[0]" in str(report)


# -- concept ---------------------------------------------------------------------------------

def test_concept_wrong_answers_are_explained():
    wrong = dict(answers(), x_shape=(40, 16, 27), W_xh_shape=(64, 27), targets_shape=(16, 40),
                 pairs_per_batch=640, windows_per_line=38, contexts=81)
    report = intro.check_batch_shapes(lambda: wrong)
    assert report.score == 2
    text = str(report)
    for because in ("time-first", "column-vector convention", "no next character to predict",
                    "its last character has no next one", "T − k + 1 windows",
                    "the choices multiply"):
        assert because in text


def test_concept_other_wrong_answers_get_a_hint_not_the_answer():
    report = intro.check_batch_shapes(lambda: dict(answers(), contexts=12345, h_t_shape=None))
    assert report.score == 6
    assert "contexts: 12345 is not right -- how many different strings" in str(report)
    assert "h_t_shape: not answered" in str(report)
    assert "19683" not in str(report)


def test_concept_answers_must_be_a_dict():
    report = intro.check_batch_shapes(lambda: [(16, 40, 27)])
    assert report.score == 0 and "expected a dict" in report.lines[0]


# -- experiment ------------------------------------------------------------------------------

def test_readable_and_fast_count_predictors_agree():
    for seed in (0, 5):
        train, held_out = intro.context_experiment_data(rng=seed)
        assert len(train) == intro.TRAIN_CHARS and len(held_out) == intro.HELD_OUT_CHARS
        ks = (0, 1, 3, 6)
        fast = intro.count_predictor_accuracies(train, held_out, ks)
        assert fast == pytest.approx([intro.count_predictor_accuracy(train, held_out, k)
                                      for k in ks], abs=1e-12)


def test_count_predictor_on_a_sequence_worked_by_hand():
    train = [0, 1, 0, 1, 0, 2, 0, 1]   # after 0: 1 three times, 2 once; after 1 and 2: 0
    held_out = [0, 2, 1, 0, 3, 0]     # k = 1 predicts 1, 0, 0, 1, then 0 (3 unseen: fallback)
    assert intro.count_predictor_accuracy(train, held_out, 1) == pytest.approx(2 / 5)
    fast = intro.count_predictor_accuracies(train, held_out, [0, 1])
    assert fast == pytest.approx([3 / 6, 2 / 5])
    train, held_out = intro.context_experiment_data(rng=3)
    assert np.array_equal(train, intro.context_experiment_data(rng=3)[0])   # a seed repeats


@pytest.mark.parametrize("k, points", [(3, 2), (2, 1), (4, 1), (0, 0), (1, 0), (5, 0), (8, 0)])
def test_experiment_scores_good_choices_and_fails_bad_ones(k, points):
    # Fresh passages every run: three runs each, so that a flaky margin would show.
    for _ in range(3):
        report = intro.check_context_length(lambda: k)
        assert report.score == points, report
    assert f"your context length k = {k}:" in str(report)
    if points < 2:
        assert ("longer contexts predict better" in str(report)) == (k < 3)


@pytest.mark.parametrize("choice, message", [(9, "in 0..8"), (-1, "in 0..8"),
                                             (3.0, "expected an int"), (True, "expected an int")])
def test_experiment_refuses_choices_it_cannot_run(choice, message):
    report = intro.check_context_length(lambda: choice)
    assert report.score == 0 and "cannot be run" in report.lines[0] and message in report.lines[0]
