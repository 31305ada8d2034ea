"""The chapter 9 checks of part one (seqlearn.checks.hopfield): right answers score full marks,
typical mistakes are named, stubs score 0, whole-job routines are refused, the experiment tells a
measured choice from a guess, and the concept answers are explained."""

import numpy as np
import pytest

from seqlearn.checks import hopfield as checks
from seqlearn.checks.core import CHECKS, EXERCISES
from seqlearn.numpy.hopfield import hebbian_weights
from torch.nn.functional import scaled_dot_product_attention

KINDS = {"09-hebbian-sweep": ("implement", 10), "09-modern-update": ("implement", 10),
         "09-modern-update-backward": ("implement", 10), "09-capacity": ("experiment", 3),
         "09-hopfield-concepts": ("concept", 7)}


def _stub(*args, **kwargs):
    raise NotImplementedError


# -- independent solutions, written here --------------------------------------------------------

def hebbian_sweep(patterns, xi, order):
    W = np.einsum("ni,nj->ij", patterns, patterns) * (1 - np.eye(patterns.shape[1]))
    xi = xi.copy()
    for j in order:
        h = xi @ W[:, j]
        xi[:, j] = np.where(h == 0, xi[:, j], np.sign(h))
    return W, xi


def modern_update(xi, patterns, beta):
    a = beta * xi @ patterns.T
    p = np.exp(a - a.max(axis=1, keepdims=True))
    p = p / p.sum(axis=1, keepdims=True)
    return p @ patterns, p


def modern_update_backward(dxi_new, xi, patterns, beta):
    _, p = modern_update(xi, patterns, beta)
    dp = dxi_new @ patterns.T
    da = p * dp - p * np.sum(p * dp, axis=1, keepdims=True)
    return beta * da @ patterns, p.T @ dxi_new + beta * da.T @ xi


IMPLEMENT = [(checks.check_hebbian_sweep, hebbian_sweep, checks.reference_hebbian_sweep, 10),
             (checks.check_modern_update, modern_update, checks.reference_modern_update, 10),
             (checks.check_modern_update_backward, modern_update_backward,
              checks.reference_modern_update_backward, 10)]


def test_exercise_ids_are_registered_with_kind_points_and_summary():
    for exercise_id, (kind, points) in KINDS.items():
        assert exercise_id in CHECKS
        info = EXERCISES[exercise_id]
        assert (info.kind, info.points) == (kind, points) and info.summary
    assert {"backward", "grad"} <= set(EXERCISES["09-modern-update-backward"].forbidden)


@pytest.mark.usefixtures("allow_reference")
@pytest.mark.parametrize("check, solution, reference, points", IMPLEMENT)
def test_right_answers_and_references_score_full_marks(check, solution, reference, points,
                                                       capsys):
    report = check(solution)
    assert report.passed and report.score == points
    assert check(reference).passed
    out = capsys.readouterr().out
    assert "PASSED" in out and "hint:" not in out


@pytest.mark.parametrize("check", [c for c, *_ in IMPLEMENT]
                         + [checks.check_capacity, checks.check_hopfield_concepts])
def test_stubs_score_zero_without_crashing(check):
    report = check(_stub)
    assert report.score == 0 and not report.attempted and "not attempted" in str(report)


def test_the_package_and_attention_are_refused():
    def uses_package(patterns, xi, order):
        return hebbian_weights(patterns), xi

    def uses_attention(xi, patterns, beta):
        return scaled_dot_product_attention(xi, patterns, patterns, scale=beta), None

    def uses_autograd(dxi_new, xi, patterns, beta):
        import torch
        x = torch.tensor(xi, requires_grad=True)
        (x * 1).sum().backward()
        return x.grad.numpy(), patterns

    assert checks.check_hebbian_sweep(uses_package).refused
    assert checks.check_modern_update(uses_attention).refused
    assert checks.check_modern_update_backward(uses_autograd).refused


def _message(report):
    return "\n".join(report.lines)


def test_typical_mistakes_are_named():
    def with_diagonal(patterns, xi, order):
        W = patterns.T @ patterns
        xi = xi.copy()
        for j in order:
            h = xi @ W[:, j]
            xi[:, j] = np.where(h == 0, xi[:, j], np.sign(h))
        return W, xi

    def synchronous(patterns, xi, order):
        W, _ = hebbian_sweep(patterns, xi, order)
        h = xi @ W
        return W, np.where(h == 0, xi, np.sign(h))

    def numpy_sign(patterns, xi, order):
        W, _ = hebbian_sweep(patterns, xi, order)
        xi = xi.copy()
        for j in order:
            xi[:, j] = np.sign(xi @ W[:, j])
        return W, xi

    def no_beta(xi, patterns, beta):
        return modern_update(xi, patterns, 1.0)

    def naive(xi, patterns, beta):
        with np.errstate(all="ignore"):
            e = np.exp(beta * xi @ patterns.T)
            p = e / e.sum(axis=1, keepdims=True)
        return p @ patterns, p

    def values_only(dxi_new, xi, patterns, beta):
        dxi, _ = modern_update_backward(dxi_new, xi, patterns, beta)
        _, p = modern_update(xi, patterns, beta)
        return dxi, p.T @ dxi_new

    for check, answer, words in [
            (checks.check_hebbian_sweep, with_diagonal, "diagonal"),
            (checks.check_hebbian_sweep, synchronous, "synchronously"),
            (checks.check_hebbian_sweep, numpy_sign, "np.sign(0)"),
            (checks.check_modern_update, no_beta, "β is missing"),
            (checks.check_modern_update, naive, "subtract each row's largest score"),
            (checks.check_modern_update_backward, values_only, "path through the scores")]:
        report = check(answer)
        assert not report.passed and words in _message(report), (answer.__name__, _message(report))


def test_the_experiment_rewards_the_measured_edge():
    best = checks.mean_recall_error(25)
    assert best <= checks.CAPACITY["tolerance"] < checks.mean_recall_error(27)
    assert checks.check_capacity(lambda: 25).score == 3
    assert checks.check_capacity(lambda: 21).score == 2
    assert checks.check_capacity(lambda: 8).score == 1
    assert checks.check_capacity(lambda: 28).score == 0          # the text's 0.14 d is too many
    report = checks.check_capacity(lambda: "many")
    assert report.score == 0 and "cannot be run" in _message(report)


def test_concept_answers_are_scored_and_explained():
    right = {"energy_change": -6, "free_weights": 4950, "sync_two_cycle": True,
             "reversed_is_fixed": True, "capacity_1000": 140, "beta_to_zero": "Mean",
             "attention_beta": 0.125}
    assert checks.check_hopfield_concepts(lambda: right).score == 7
    wrong = dict(right, energy_change=6, free_weights=9900, beta_to_zero="nearest")
    report = checks.check_hopfield_concepts(lambda: wrong)
    assert report.score == 4
    text = _message(report)
    assert "W_ij = W_ji" in text and "argmax" in text and "the energy falls" in text
