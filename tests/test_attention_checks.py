"""The chapter 7 checks: a right answer scores full marks, typical mistakes are named, stubs score 0,
and every run draws fresh inputs."""

import numpy as np
import pytest

from seqlearn.checks import attention as checks
from seqlearn.checks.core import CHECKS

# The checks refuse the package's own functions as answers; these tests submit the references.
pytestmark = pytest.mark.usefixtures("allow_reference")


def _stub(**kwargs):
    raise NotImplementedError


def test_exercise_ids_are_registered():
    assert CHECKS["07-attention-pooling"] is checks.check_attention_pooling
    assert CHECKS["07-additive-attention"] is checks.check_additive_attention


def _attention_pooling(X, V, w):
    return checks._attention_pooling_variant(X, V, w)


def _additive_attention(query, keys, values, W_q, W_k, v):
    return checks._additive_attention_variant(query, keys, values, W_q, W_k, v)


def _additive_attention_loops(query, keys, values, W_q, W_k, v):
    """A deliberately plain solution, one (batch, query, key) triple at a time."""
    B, Tq, N = query.shape[0], query.shape[1], keys.shape[1]
    weights = np.zeros((B, Tq, N))
    context = np.zeros((B, Tq, values.shape[2]))
    for b in range(B):
        for t in range(Tq):
            e = np.array([v @ np.tanh(query[b, t] @ W_q + keys[b, j] @ W_k) for j in range(N)])
            a = np.exp(e - e.max()) / np.exp(e - e.max()).sum()
            weights[b, t] = a
            context[b, t] = a @ values[b]
    return context, weights


@pytest.mark.parametrize("check, solution", [
    (checks.check_attention_pooling, _attention_pooling),
    (checks.check_additive_attention, _additive_attention),
    (checks.check_additive_attention, _additive_attention_loops),
])
def test_independent_solutions_score_full_marks(check, solution, capsys):
    report = check(solution)
    assert report.passed and report.score == report.max_score == 5
    assert "PASSED" in capsys.readouterr().out


@pytest.mark.parametrize("check, reference", [
    (checks.check_attention_pooling, checks.reference_attention_pooling),
    (checks.check_additive_attention, checks.reference_additive_attention),
])
def test_references_score_full_marks(check, reference):
    assert check(reference).passed


def test_references_agree_with_the_independent_variants():
    rng = np.random.default_rng(0)
    for case in checks._pooling_cases(rng):
        for got, want in zip(checks.reference_attention_pooling(**case), _attention_pooling(**case)):
            np.testing.assert_allclose(got, want, atol=1e-12)
    for case in checks._additive_cases(rng):
        for got, want in zip(checks.reference_additive_attention(**case),
                             _additive_attention_loops(**case)):
            np.testing.assert_allclose(got, want, atol=1e-12)


@pytest.mark.parametrize("check", [checks.check_attention_pooling, checks.check_additive_attention])
def test_stub_scores_zero_without_crashing(check):
    report = check(_stub)
    assert report.score == 0 and not report.attempted
    assert "not attempted yet" in str(report) and "Score: 0/5" in str(report)


@pytest.mark.parametrize("kwargs, message", [
    ({"axis": 0}, "softmax runs over the batch axis"),
    ({"squash": False}, "the tanh is missing"),
    ({"normalise": None}, "used as weights without a softmax"),
    ({"return_scores": True}, "the second output is the raw scores"),
    ({"normalise": "sigmoid"}, "weights come from a sigmoid"),
    ({"normalise": "uniform"}, "that is mean pooling"),
    ({"sum_axis": 2}, "summed over the feature axis"),
])
def test_attention_pooling_mistakes_are_named(kwargs, message):
    report = checks.check_attention_pooling(
        lambda **k: checks._attention_pooling_variant(**k, **kwargs))
    assert report.attempted and report.score < report.max_score
    assert message in str(report)


@pytest.mark.parametrize("kwargs, message", [
    ({"axis": 1}, "softmax runs over the queries"),
    ({"squash": False}, "the tanh is missing"),
    ({"normalise": False}, "used as weights without a softmax"),
    ({"swap_projections": True}, "W_q and W_k are swapped"),
    ({"keys_as_values": True}, "the context averages the keys"),
])
def test_additive_attention_mistakes_are_named(kwargs, message):
    report = checks.check_additive_attention(
        lambda **k: checks._additive_attention_variant(**k, **kwargs))
    assert report.attempted and report.score < report.max_score
    assert message in str(report)


def test_a_mistake_the_check_does_not_know_gets_the_general_hint():
    def doubled(**k):
        h, a = checks.reference_attention_pooling(**k)
        return 2 * h, a

    text = str(checks.check_attention_pooling(doubled))
    assert "is off by" in text and "softmax of e over axis 1" in text


def test_wrong_shape_is_reported():
    def transposed(**k):
        context, weights = checks.reference_additive_attention(**k)
        return context, np.swapaxes(weights, 1, 2)

    report = checks.check_additive_attention(transposed)
    assert report.score < report.max_score
    assert "output 'weights' has shape" in str(report)


def test_a_crash_is_reported_with_its_error():
    def broken(**k):
        raise KeyError("oops")

    report = checks.check_additive_attention(broken)
    assert report.score == 0 and report.attempted
    assert "KeyError" in str(report)


def test_torch_tensors_are_accepted():
    torch = pytest.importorskip("torch")

    def in_torch(X, V, w):
        X, V, w = (torch.from_numpy(a) for a in (X, V, w))
        a = torch.softmax(torch.tanh(X @ V) @ w, dim=1)
        return (a[..., None] * X).sum(1), a

    assert checks.check_attention_pooling(in_torch).passed


def test_every_run_draws_fresh_inputs():
    seen = []

    def record(X, V, w):
        seen.append(X.copy())
        return checks.reference_attention_pooling(X, V, w)

    checks.check_attention_pooling(record)
    checks.check_attention_pooling(record)
    first, second = seen[:len(seen) // 2], seen[len(seen) // 2:]
    assert len(first) == len(second) >= 5
    assert not any(a.shape == b.shape and np.allclose(a, b) for a, b in zip(first, second))


def test_cases_cover_single_item_batches_and_bags():
    cases = checks._pooling_cases(np.random.default_rng(0))
    assert any(c["X"].shape[0] == 1 for c in cases) and any(c["X"].shape[1] == 1 for c in cases)
    cases = checks._additive_cases(np.random.default_rng(0))
    assert any(c["keys"].shape[1] == 1 for c in cases)
    assert any(c["query"].shape[2] != c["keys"].shape[2] for c in cases)
