"""The exercise-check mechanism and the introduction's checks."""

import numpy as np
import pytest

from seqlearn.checks import CHECKS, core, introduction


def _stub(*args, **kwargs):
    raise NotImplementedError("write me")


def test_right_answer_scores_full_marks(capsys):
    report = introduction.check_one_hot(introduction.reference_one_hot)
    assert report.passed and report.score == report.max_score == 4
    out = capsys.readouterr().out
    assert "PASSED" in out and "Score: 4/4 [01-one-hot]" in out


def test_untouched_stub_scores_zero_and_says_so(capsys):
    report = introduction.check_next_step_pairs(_stub)
    assert report.score == 0 and not report.attempted
    assert "not attempted yet" in capsys.readouterr().out


def test_wrong_answer_gets_the_specific_message():
    def unshifted(sequence):
        sequence = np.asarray(sequence)
        return sequence[:-1], sequence[:-1]

    report = introduction.check_next_step_pairs(unshifted)
    assert report.score < report.max_score
    assert any("output 'targets' is off by" in line for line in report.lines)
    assert all("inputs" not in line.split("--")[0] for line in report.lines if "off by" in line)


def test_wrong_shape_is_reported_as_a_shape():
    def transposed(indices, vocab_size):
        return introduction.reference_one_hot(indices, vocab_size).T

    report = introduction.check_one_hot(transposed)
    assert report.score < report.max_score
    assert any("has shape" in line and "expected" in line for line in report.lines)


def test_exceptions_and_wrong_arity_are_reported_per_case():
    def crashes(indices, vocab_size):
        return {}["missing"]

    report = introduction.check_one_hot(crashes)
    assert report.score == 0 and report.attempted
    assert all("raised KeyError" in line for line in report.lines)

    def one_output(sequence):
        return np.asarray(sequence)[1:]

    report = introduction.check_next_step_pairs(one_output)
    assert report.score == 0
    assert "returned 1 value(s), expected 2" in report.lines[0]


def test_nan_output_is_named():
    def nan_codes(indices, vocab_size):
        return np.full((len(indices), vocab_size), np.nan)

    report = introduction.check_one_hot(nan_codes)
    assert "NaN" in report.lines[0]


def test_student_cannot_spoil_the_reference_by_mutating_inputs():
    def mutating(sequence):
        sequence[:] = 0
        return sequence[:-1], sequence[1:]

    report = introduction.check_next_step_pairs(mutating)
    assert report.score < report.max_score  # graded against the untouched inputs


def test_checks_are_registered_once_under_their_ids():
    assert CHECKS["01-one-hot"] is introduction.check_one_hot
    with pytest.raises(ValueError, match="registered twice"):
        core.register("01-one-hot")(lambda f: None)


def test_run_check_rejects_a_non_function():
    with pytest.raises(TypeError, match="expected your function"):
        core.run_check("x", "x", 42, lambda: 0, [{}], ["y"])


def test_fresh_inputs_differ_between_runs():
    # Checks draw from fresh_rng(); a seeded generator would let students hard-code answers.
    first, second = core.fresh_rng().normal(size=3), core.fresh_rng().normal(size=3)
    assert not np.array_equal(first, second)


def test_each_case_is_labelled_with_its_shapes_and_numbers():
    cases = [{"x": np.zeros((2, 3)), "T": 7, "scale": 0.5, "flag": True}]
    report = core.run_check("test-label", "Label", lambda **k: 0, lambda **k: 0, cases, ["y"],
                            quiet=True)
    assert report.lines == ["case 1/1 (x(2, 3), T=7, scale=0.5): ok"]
