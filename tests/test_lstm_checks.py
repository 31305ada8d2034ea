"""The chapter 6 checks: a right answer scores full marks, typical mistakes are named, stubs score 0."""

import pytest

from seqlearn.checks import lstm as checks
from seqlearn.checks.core import CHECKS

# The checks refuse the package's own functions as answers; these tests submit the references.
pytestmark = pytest.mark.usefixtures("allow_reference")


def _stub(**kwargs):
    raise NotImplementedError


def test_exercise_ids_are_registered():
    for exercise_id in ("06-lstm-cell-forward", "06-gru-cell", "06-lstm-step-backward"):
        assert exercise_id in CHECKS


def _lstm_cell(x_t, h_prev, c_prev, W_x, W_h, b):
    return checks._lstm_cell_variant(x_t, h_prev, c_prev, W_x, W_h, b)


def _gru_cell(x_t, h_prev, W_x, W_h, b_x, b_h):
    return checks._gru_cell_variant(x_t, h_prev, W_x, W_h, b_x, b_h)


def _lstm_step_backward(dh_t, dc_t, x_t, h_prev, c_prev, W_x, W_h, b):
    return checks._lstm_step_backward_variant(dh_t, dc_t, x_t, h_prev, c_prev, W_x, W_h, b)


@pytest.mark.parametrize("check, solution", [
    (checks.check_lstm_cell, _lstm_cell),
    (checks.check_gru_cell, _gru_cell),
    (checks.check_lstm_step_backward, _lstm_step_backward),
])
def test_independent_solutions_score_full_marks(check, solution, capsys):
    report = check(solution)
    assert report.passed and report.score == report.max_score == 4
    assert "PASSED" in capsys.readouterr().out


@pytest.mark.parametrize("check, reference", [
    (checks.check_lstm_cell, checks.reference_lstm_cell),
    (checks.check_gru_cell, checks.reference_gru_cell),
    (checks.check_lstm_step_backward, checks.reference_lstm_step_backward),
])
def test_references_score_full_marks(check, reference):
    assert check(reference).passed


@pytest.mark.parametrize("check", [checks.check_lstm_cell, checks.check_gru_cell,
                                   checks.check_lstm_step_backward])
def test_stub_scores_zero_without_crashing(check):
    report = check(_stub)
    assert report.score == 0 and not report.attempted
    assert "not attempted" in str(report)


@pytest.mark.parametrize("kwargs, message", [
    ({"order": "ifog"}, "i, f, o, g"),
    ({"squash_cell": False}, "tanh of the cell is missing"),
    ({"use_input_gate": False}, "without the input gate"),
    ({"forget": "tanh"}, "forget gate is a sigmoid"),
])
def test_lstm_cell_mistakes_are_named(kwargs, message):
    report = checks.check_lstm_cell(lambda **k: checks._lstm_cell_variant(**k, **kwargs))
    assert report.score == 0
    assert message in str(report)


@pytest.mark.parametrize("kwargs, message", [
    ({"swap_update": True}, "roles of u and 1 − u are swapped"),
    ({"reset_before": True}, "before the product"),
    ({"no_reset": True}, "reset gate is missing"),
])
def test_gru_mistakes_are_named(kwargs, message):
    report = checks.check_gru_cell(lambda **k: checks._gru_cell_variant(**k, **kwargs))
    assert report.score == 0
    assert message in str(report)


@pytest.mark.parametrize("kwargs, message", [
    ({"skip_h_to_c": True}, "through h_t = o_t ⊙ tanh(c_t)"),
    ({"keep_dc": True}, "multiplied by the forget gate"),
    ({"ignore_dc": True}, "dc_t (the gradient arriving"),
])
def test_lstm_backward_mistakes_are_named(kwargs, message):
    report = checks.check_lstm_step_backward(
        lambda **k: checks._lstm_step_backward_variant(**k, **kwargs))
    assert report.score < report.max_score
    assert message in str(report)


def test_wrong_shape_is_reported():
    def flat(**k):
        h, c = checks.reference_lstm_cell(**k)
        return h.ravel(), c

    report = checks.check_lstm_cell(flat)
    assert report.score < report.max_score
    assert "has shape" in str(report)


def test_a_crash_is_reported_with_its_error():
    def broken(**k):
        raise KeyError("oops")

    report = checks.check_gru_cell(broken)
    assert report.score == 0 and report.attempted
    assert "KeyError" in str(report)
