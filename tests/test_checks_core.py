"""The exercise-check mechanism and the introduction's checks."""

import numpy as np
import pytest

from seqlearn.checks import CHECKS, core, introduction

# The checks refuse the package's own functions as answers; these tests submit the references.
pytestmark = pytest.mark.usefixtures("allow_reference")


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
    assert any("targets: off by" in line for line in report.lines)
    assert all("inputs ok" in line for line in report.lines if "off by" in line)


def test_wrong_shape_is_reported_as_a_shape():
    def transposed(indices, vocab_size):
        return introduction.reference_one_hot(indices, vocab_size).T

    report = introduction.check_one_hot(transposed)
    assert report.score < report.max_score
    assert any("shape (" in line and "expected (" in line for line in report.lines)


def test_exceptions_and_wrong_arity_are_reported_per_case():
    def crashes(indices, vocab_size):
        return {}["missing"]

    report = introduction.check_one_hot(crashes)
    assert report.score == 0 and report.attempted
    assert all("raised KeyError" in line for line in report.lines if line.startswith("case"))

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
    assert report.lines == ["case 1/1 (x(2, 3), T=7, scale=0.5): y ok (max error 0.0e+00)"]


def test_every_output_scores_and_is_reported():
    def half_right(x):
        return x * 2, x * 0

    cases = [{"x": np.ones(3)}, {"x": np.arange(3.0)}]
    report = core.run_check("t-partial", "Partial", half_right, lambda x: (x * 2, x * 3), cases,
                            ["a", "b"], hint="b is x times three", quiet=True)
    assert (report.score, report.max_score) == (2, 4)
    assert all("a ok" in line and "b: off by" in line for line in report.lines[:2])
    assert report.lines[-1] == "hint: b is x times three"   # once, after the cases


def test_wrong_gate_blocks_are_named():
    def wrong_forget(x):
        y = x.copy()
        y[..., 2:4] += 1.0
        return y

    report = core.run_check("t-blocks", "Blocks", wrong_forget, lambda x: x.copy(),
                            [{"x": np.zeros((2, 8))}], ["dz"], blocks={"dz": ("i", "f", "g", "o")},
                            quiet=True)
    assert "wrong in the block(s) of f" in report.lines[0] and report.score == 0


def test_dict_outputs_score_per_entry():
    def grads(x):
        return {"W": x, "b": x.sum()}

    report = core.run_check("t-dict", "Dict", lambda x: {"W": x, "b": x.sum() + 1}, grads,
                            [{"x": np.ones(2)}], ["grads"], quiet=True)
    assert (report.score, report.max_score) == (1, 2)
    assert "grads['W'] ok" in report.lines[0] and "grads['b']: off by" in report.lines[0]


def test_modifying_the_inputs_loses_the_case():
    def in_place(x):
        x *= 2
        return x

    report = core.run_check("t-inplace", "In place", in_place, lambda x: x * 2,
                            [{"x": np.ones(3)}], ["y"], quiet=True)
    assert report.score == 0 and "modified its input(s) x in place" in report.lines[0]


def test_package_functions_and_whole_job_routines_are_refused():
    import seqlearn.numpy as snp

    namespace = {"snp": snp, "np": np, "__name__": "__main__"}
    exec("def helper(x):\n    return snp.activations.tanh(x)\n"
         "def uses_helper(x):\n    return helper(x)\n"
         "def mentions(x):\n    # seqlearn.numpy.activations.tanh, in a comment\n"
         "    return np.tanh(x)  # 'seqlearn'\n"
         "def whole_job(x):\n    return x.backward()\n"
         "def softmax(x):\n    return np.exp(x) / np.exp(x).sum()\n"
         "def own_softmax(x):\n    return softmax(x)\n", namespace)
    with core.reference_allowed(False):
        cases = [{"x": np.ones(2)}]
        refused = core.run_check("t-ref", "Ref", namespace["uses_helper"], lambda x: np.tanh(x), cases, ["y"],
                                 quiet=True)
        assert refused.refused and refused.score == 0 and "course package" in refused.lines[0]
        fine = core.run_check("t-ref", "Ref", namespace["mentions"], lambda x: np.tanh(x), cases, ["y"],
                              quiet=True)
        assert fine.passed
        job = core.run_check("t-ref", "Ref", namespace["whole_job"], lambda x: np.tanh(x), cases, ["y"],
                             forbidden=("backward",), quiet=True)
        assert job.refused and ".backward" in job.lines[0]
        own = core.run_check("t-ref", "Ref", namespace["own_softmax"],
                             lambda x: np.exp(x) / np.exp(x).sum(), cases, ["y"],
                             forbidden=("softmax",), quiet=True)
        assert own.passed   # the student's own helper called softmax is no library softmax


def test_concept_answers_are_scored_and_explained():
    questions = [{"key": "params", "answer": 12, "explain": {3: "that is one gate"}},
                 {"key": "gate", "answer": "forget", "hint": "which gate multiplies c_{t-1}?"},
                 {"key": "shape", "answer": (2, 3)}]
    report = core.check_concept("t-concept", "Concept",
                                lambda: {"params": 3, "gate": " Forget ", "shape": [2, 3]},
                                questions, quiet=True)
    assert (report.score, report.max_score) == (2, 3)
    assert "that is one gate" in report.lines[0]
    untouched = core.check_concept("t-concept", "Concept", _stub, questions, quiet=True)
    assert not untouched.attempted and untouched.score == 0


def test_experiment_measures_the_choice():
    def measure(choice):
        if choice < 0:
            raise ValueError("expected a non-negative number")
        return (2 if choice > 1 else 1), [f"measured {choice}"]

    assert core.check_experiment("t-exp", "Exp", lambda: 3, measure, 2, quiet=True).passed
    bad = core.check_experiment("t-exp", "Exp", lambda: -1, measure, 2, quiet=True)
    assert bad.score == 0 and "cannot be run" in bad.lines[0]
    assert not core.check_experiment("t-exp", "Exp", _stub, measure, 2, quiet=True).attempted


def test_arrays_inside_dict_and_list_arguments_must_stay_unchanged():
    def scales_in_place(params, grads):
        params["W"] *= 2
        grads[1] += 1
        return params["W"].sum()

    def clean(params, grads):
        return 2 * params["W"].sum()

    cases = [{"params": {"W": np.ones(2)}, "grads": [np.zeros(1), np.zeros(1)]}]
    report = core.run_check("t-nested", "Nested", scales_in_place, clean, cases, ["y"], quiet=True)
    assert report.score == 0
    assert "modified its input(s) params['W'], grads[1] in place" in report.lines[0]
    assert core.run_check("t-nested", "Nested", clean, clean, cases, ["y"], quiet=True).passed
