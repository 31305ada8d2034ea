"""The chapter 9 checks of part two (seqlearn.checks.energy_models): right answers score full
marks, typical mistakes are named, stubs score 0, whole-job routines are refused, the experiment
separates a measured choice from a poor one, and the concept answers are explained."""

import numpy as np
import pytest

from seqlearn.checks import energy_models as checks
from seqlearn.checks.core import CHECKS, EXERCISES
from seqlearn.numpy.reservoir import fit_readout

KINDS = {"09-exact-partition": ("implement", 10), "09-cd1": ("implement", 15),
         "09-ridge-readout": ("implement", 5), "09-reservoir-settings": ("experiment", 3),
         "09-energy-concepts": ("concept", 7)}


def _stub(*args, **kwargs):
    raise NotImplementedError


# -- independent solutions, written here --------------------------------------------------------

def exact_partition(J, b):
    n = len(b)
    states = np.array(np.meshgrid(*[[0.0, 1.0]] * n, indexing="ij")).reshape(n, -1).T
    a = np.array([0.5 * x @ J @ x + x @ b for x in states])
    w = np.exp(a - a.max())
    return a.max() + np.log(w.sum()), states.T @ w / w.sum()


def cd1_gradients(v0, W, b_v, b_h, u_h, u_v):
    s = lambda a: np.exp(-np.logaddexp(0, -a))
    q0 = s(v0 @ W + b_h)
    v1 = np.where(u_v < s(np.where(u_h < q0, 1.0, 0.0) @ W.T + b_v), 1.0, 0.0)
    q1 = s(v1 @ W + b_h)
    B = v0.shape[0]
    return (np.einsum("bi,bj->ij", v1, q1) - np.einsum("bi,bj->ij", v0, q0)) / B, \
        (v1 - v0).sum(0) / B, (q1 - q0).sum(0) / B


def ridge_readout(states, targets, ridge):
    S = np.c_[states, np.ones(len(states))]
    return np.linalg.inv(S.T @ S + ridge * np.eye(S.shape[1])) @ S.T @ targets


IMPLEMENT = [(checks.check_exact_partition, exact_partition, checks.reference_exact_partition, 10),
             (checks.check_cd1, cd1_gradients, checks.reference_cd1, 15),
             (checks.check_ridge_readout, ridge_readout, checks.reference_ridge_readout, 5)]


def test_exercise_ids_are_registered_with_kind_points_and_summary():
    for exercise_id, (kind, points) in KINDS.items():
        assert exercise_id in CHECKS
        info = EXERCISES[exercise_id]
        assert (info.kind, info.points) == (kind, points) and info.summary


@pytest.mark.usefixtures("allow_reference")
@pytest.mark.parametrize("check, solution, reference, points", IMPLEMENT)
def test_right_answers_and_references_score_full_marks(check, solution, reference, points):
    report = check(solution)
    assert report.passed and report.score == points
    assert check(reference).passed


@pytest.mark.parametrize("check", [c for c, *_ in IMPLEMENT]
                         + [checks.check_reservoir_settings, checks.check_energy_concepts])
def test_stubs_score_zero_without_crashing(check):
    report = check(_stub)
    assert report.score == 0 and not report.attempted and "not attempted" in str(report)


def test_the_package_is_refused():
    def uses_package(states, targets, ridge):
        return fit_readout(states, targets, ridge)

    assert checks.check_ridge_readout(uses_package).refused


def _message(report):
    return "\n".join(report.lines)


def test_typical_mistakes_are_named():
    def flipped(J, b):
        return exact_partition(-J, -b)

    def naive(J, b):
        n = len(b)
        states = np.array(np.meshgrid(*[[0.0, 1.0]] * n, indexing="ij")).reshape(n, -1).T
        with np.errstate(all="ignore"):
            w = np.exp(np.array([0.5 * x @ J @ x + x @ b for x in states]))
            return np.log(w.sum()), states.T @ w / w.sum()

    def ascent(v0, W, b_v, b_h, u_h, u_v):
        return tuple(-g for g in cd1_gradients(v0, W, b_v, b_h, u_h, u_v))

    def summed(v0, W, b_v, b_h, u_h, u_v):
        return tuple(g * len(v0) for g in cd1_gradients(v0, W, b_v, b_h, u_h, u_v))

    def no_bias(states, targets, ridge):
        W = np.linalg.solve(states.T @ states + ridge * np.eye(states.shape[1]), states.T @ targets)
        return np.vstack([W, np.zeros((1, W.shape[1]))])

    for check, answer, words in [
            (checks.check_exact_partition, flipped, "sign of the energy"),
            (checks.check_exact_partition, naive, "subtract the largest"),
            (checks.check_cd1, ascent, "the sign is flipped"),
            (checks.check_cd1, summed, "summed over the batch"),
            (checks.check_ridge_readout, no_bias, "column of ones")]:
        report = check(answer)
        assert not report.passed and words in _message(report), (answer.__name__, _message(report))


def test_the_experiment_separates_good_settings_from_poor_ones():
    assert checks.check_reservoir_settings(lambda: (1.3, 0.6)).score == 3
    assert checks.check_reservoir_settings(lambda: (0.5, 1.0)).score == 0
    report = checks.check_reservoir_settings(lambda: (5.0, 0.5))
    assert report.score == 0 and "cannot be run" in _message(report)


def test_concept_answers_are_scored_and_explained():
    right = {"states_20": 2**20, "conditional_at_zero": 0.5, "hidden_independent": True,
             "cd_limit": "maximum likelihood", "esn_trained": "readout", "rbm_logz_terms": 1024,
             "echo_radius": 1}
    assert checks.check_energy_concepts(lambda: right).score == 7
    wrong = dict(right, states_20=20, esn_trained="reservoir", rbm_logz_terms=2**64)
    report = checks.check_energy_concepts(lambda: wrong)
    assert report.score == 4
    text = _message(report)
    assert "never trained" in text and "smaller layer" in text and "number of units" in text
