"""The chapter 7 checks: right answers score full marks, typical mistakes are named, stubs score 0,
autograd and the package are refused, every run draws fresh inputs, the concept check explains
wrong answers and the experiment passes a good choice and fails a bad one."""

import numpy as np
import pytest

from seqlearn.checks import attention as checks
from seqlearn.checks.core import CHECKS, EXERCISES, reference_allowed
from seqlearn.numpy.attention import additive_attention_backward, additive_attention_forward
from seqlearn.gradcheck import numerical_gradient

# The checks refuse the package's own functions (and this test module's helpers that call into
# seqlearn.checks) as answers; these tests submit them. Tests of the refusal switch it back on.
pytestmark = pytest.mark.usefixtures("allow_reference")

IDS = {
    "07-attention-pooling": (checks.check_attention_pooling, "implement", 12),
    "07-additive-attention": (checks.check_additive_attention, "implement", 14),
    "07-additive-attention-backward": (checks.check_additive_attention_backward, "implement", 36),
    "07-attention-masks": (checks.check_attention_masks, "concept", 7),
    "07-attention-budget": (checks.check_attention_budget, "experiment", 2),
}


def _stub(*args, **kwargs):
    raise NotImplementedError


def test_exercise_ids_are_registered_with_kind_and_points():
    for exercise_id, (check, kind, points) in IDS.items():
        assert CHECKS[exercise_id] is check
        info = EXERCISES[exercise_id]
        assert (info.kind, info.points) == (kind, points) and info.summary
    assert {"backward", "grad"} <= set(EXERCISES["07-additive-attention-backward"].forbidden)


# -- independent solutions (as a student would write them) -------------------------------------

def _attention_pooling(X, W_a, w_a):
    scores = np.tanh(X @ W_a) @ w_a
    a = np.exp(scores - scores.max(axis=1, keepdims=True))
    a = a / a.sum(axis=1, keepdims=True)
    return (a[..., None] * X).sum(axis=1), a


def _additive_attention_loops(query, keys, values, W_q, W_k, w_a, mask=None):
    """A deliberately plain solution, one (batch, query, key) triple at a time."""
    B, Tq, Tk = query.shape[0], query.shape[1], keys.shape[1]
    weights = np.zeros((B, Tq, Tk))
    context = np.zeros((B, Tq, values.shape[2]))
    for b in range(B):
        real = [j for j in range(Tk) if mask is None or mask[b, j]]
        for t in range(Tq):
            e = np.array([w_a @ np.tanh(query[b, t] @ W_q + keys[b, j] @ W_k) for j in real])
            a = np.exp(e - e.max()) / np.exp(e - e.max()).sum()
            weights[b, t, real] = a
            context[b, t] = a @ values[b, real]
    return context, weights


def _backward_loops(dcontext, query, keys, values, W_q, W_k, w_a, Z, weights):
    """The backward pass one (batch, query) at a time, from the chain rule written per pair."""
    B, Tq, Tk, A = Z.shape
    dquery, dkeys, dvalues = np.zeros_like(query), np.zeros_like(keys), np.zeros_like(values)
    grads = {"W_q": np.zeros_like(W_q), "W_k": np.zeros_like(W_k), "w_a": np.zeros_like(w_a)}
    for b in range(B):
        for t in range(Tq):
            a = weights[b, t]
            dvalues[b] += np.outer(a, dcontext[b, t])
            da = values[b] @ dcontext[b, t]
            jacobian = np.diag(a) - np.outer(a, a)           # da_j / de_l
            de = jacobian.T @ da
            for j in range(Tk):
                dP = de[j] * w_a * (1 - Z[b, t, j] ** 2)
                dquery[b, t] += W_q @ dP
                dkeys[b, j] += W_k @ dP
                grads["W_q"] += np.outer(query[b, t], dP)
                grads["W_k"] += np.outer(keys[b, j], dP)
                grads["w_a"] += de[j] * Z[b, t, j]
    return dquery, dkeys, dvalues, grads


def _answers():
    return {"mask_shape": (3, 5), "mask_second_source": (True, True, False, False, False),
            "weights_shape": (3, 6, 5), "context_shape": (3, 6, 32), "weights_sum": 18,
            "dominant_context": -1.0, "one_key_dquery": 0}


@pytest.mark.parametrize("check, solution, points", [
    (checks.check_attention_pooling, _attention_pooling, 12),
    (checks.check_additive_attention, _additive_attention_loops, 14),
    (checks.check_additive_attention_backward, _backward_loops, 36),
    (checks.check_attention_masks, _answers, 7),
])
def test_independent_solutions_score_full_marks(check, solution, points, capsys):
    report = check(solution)
    assert report.passed and report.score == report.max_score == points
    out = capsys.readouterr().out
    assert "PASSED" in out and f"Score: {points}/{points}" in out


@pytest.mark.parametrize("check, reference", [
    (checks.check_attention_pooling, checks.reference_attention_pooling),
    (checks.check_additive_attention, checks.reference_additive_attention),
    (checks.check_additive_attention_backward, checks.reference_additive_attention_backward),
])
def test_references_score_full_marks(check, reference):
    assert check(reference).passed


def test_references_agree_with_the_independent_solutions():
    rng = np.random.default_rng(0)
    for case in checks._pooling_cases(rng):
        for got, want in zip(checks.reference_attention_pooling(**case), _attention_pooling(**case)):
            np.testing.assert_allclose(got, want, atol=1e-12)
    for case in checks._additive_cases(rng):
        for got, want in zip(checks.reference_additive_attention(**case),
                             _additive_attention_loops(**case)):
            np.testing.assert_allclose(got, want, atol=1e-12)
    for case in checks._backward_cases(rng):
        want = checks.reference_additive_attention_backward(**case)
        got = _backward_loops(**case)
        for g, w in zip(got[:3], want[:3]):
            np.testing.assert_allclose(g, w, atol=1e-10)
        for name in ("W_q", "W_k", "w_a"):
            np.testing.assert_allclose(got[3][name], want[3][name], atol=1e-10)


@pytest.mark.parametrize("lengths", [None, (4, 1, 3)])
def test_backward_reference_matches_finite_differences(lengths):
    """The check's reference against central differences of the forward, masks included."""
    rng = np.random.default_rng(3)
    B, Tq, Tk, D, A = 3, 2, 4, 3, 5
    query, keys, values = (rng.normal(size=s) for s in ((B, Tq, D), (B, Tk, D), (B, Tk, D)))
    params = {"W_q": rng.normal(size=(D, A)), "W_k": rng.normal(size=(D, A)),
              "w_a": rng.normal(size=A)}
    mask = None if lengths is None else checks._padding_mask(lengths, Tk)
    G = rng.normal(size=(B, Tq, D))

    def loss():
        return float((additive_attention_forward(query, keys, values, params, mask)[0] * G).sum())

    _, weights, cache = additive_attention_forward(query, keys, values, params, mask)
    dquery, dkeys, dvalues, grads = checks.reference_additive_attention_backward(
        G, query, keys, values, params["W_q"], params["W_k"], params["w_a"], cache["Z"], weights)
    for got, array in [(dquery, query), (dkeys, keys), (dvalues, values)] + [
            (grads[name], params[name]) for name in ("W_q", "W_k", "w_a")]:
        np.testing.assert_allclose(got, numerical_gradient(loss, array), atol=1e-7)
    if mask is not None:     # padded keys and values get no gradient
        assert np.all(dkeys[~mask] == 0) and np.all(dvalues[~mask] == 0)
    # and the package's own backward agrees
    np.testing.assert_allclose(dquery, additive_attention_backward(G, cache)[0], atol=1e-14)


@pytest.mark.parametrize("exercise_id", list(IDS))
def test_stub_scores_zero_without_crashing(exercise_id):
    check, _, points = IDS[exercise_id]
    report = check(_stub)
    assert report.score == 0 and not report.attempted
    assert "not attempted yet" in str(report) and f"Score: 0/{points}" in str(report)


# -- mistakes are named -----------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    ({"axis": 0}, "softmax runs over the batch axis"),
    ({"squash": False}, "the tanh of the score's hidden layer is missing"),
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
    ({"masking": "inverted"}, "the mask is inverted"),
    ({"masking": "after"}, "zeroed after the softmax"),
    ({"masking": "zero-scores"}, "a masked score set to 0"),
    ({"masking": "none"}, "the mask is ignored"),
])
def test_additive_attention_mistakes_are_named(kwargs, message):
    report = checks.check_additive_attention(
        lambda **k: checks._additive_attention_variant(**k, **kwargs))
    assert report.attempted and report.score < report.max_score
    assert message in str(report)


def test_ignoring_the_mask_loses_the_masked_cases():
    report = checks.check_additive_attention(
        lambda **k: checks._additive_attention_variant(**k, masking="none"))
    cases = checks._additive_cases(np.random.default_rng(0))
    masked = sum(c["mask"] is not None for c in cases)
    # every masked case is lost, except perhaps the one of large scores, where a padded key can
    # have a weight below 1e-300 even unmasked
    assert cases[-1]["mask"] is not None
    assert report.max_score - 2 * masked <= report.score <= report.max_score - 2 * (masked - 1)


@pytest.mark.parametrize("kwargs, message", [
    ({"jacobian": "diagonal"}, "the softmax's Jacobian has lost its second term"),
    ({"jacobian": "none"}, "is passed to the scores unchanged"),
    ({"jacobian": "sign"}, "has the wrong sign"),
    ({"tanh_grad": "none"}, "the derivative of the tanh in the score"),
    ({"tanh_grad": "tanh-again"}, "Z is the tanh's output already"),
    ({"tanh_grad": "one-minus"}, "the derivative of tanh is not 1 - tanh"),
    ({"recompute": True}, "recomputed from Z without the mask"),
    ({"swap_sums": True}, "the sums over the pairs are swapped"),
    ({"swap_W": True}, "W_q and W_k are swapped on the way back"),
    ({"untransposed_values": True}, "dvalues uses the weights untransposed"),
    ({"batch_mean": True}, "averaged over the batch"),
])
def test_backward_mistakes_are_named(kwargs, message):
    report = checks.check_additive_attention_backward(
        lambda **k: checks._backward_variant(**k, **kwargs))
    assert report.attempted and 0 < report.score < report.max_score
    assert message in str(report)
    assert str(report).count("hint:") == 1


def test_a_backward_with_two_mistakes_gets_both_named():
    def two_mistakes(**k):
        dq, dk, _, grads = checks._backward_variant(**k, swap_W=True)
        _, _, dv, _ = checks._backward_variant(**k, untransposed_values=True)
        return dq, dk, dv, grads

    text = str(checks.check_additive_attention_backward(two_mistakes))
    assert "swapped on the way back" in text and "untransposed" in text


def test_backward_single_key_separates_the_softmax_jacobian():
    """With one key the weight is 1 whatever the score: every gradient through the scores is 0,
    which a Jacobian without its second term misses."""
    case = checks._backward_cases(np.random.default_rng(1))[0]
    assert case["weights"].shape[-1] == 1
    dquery, dkeys, dvalues, grads = checks.reference_additive_attention_backward(**case)
    assert np.all(dquery == 0) and np.all(dkeys == 0) and np.all(grads["w_a"] == 0)
    np.testing.assert_allclose(dvalues, case["dcontext"])
    wrong = checks._backward_variant(**case, jacobian="diagonal")
    assert np.abs(wrong[0]).max() > 1e-3


def test_a_mistake_the_check_does_not_know_gets_the_equations():
    def doubled(**k):
        pooled, weights = checks.reference_attention_pooling(**k)
        return 2 * pooled, weights

    text = str(checks.check_attention_pooling(doubled))
    assert "pooled: off by" in text and "equations (7.2)-(7.3)" in text


@pytest.mark.parametrize("check, naive", [
    (checks.check_attention_pooling, lambda X, W_a, w_a: _naive_pooling(X, W_a, w_a)),
    (checks.check_additive_attention, lambda **k: _naive_additive(**k)),
])
def test_an_overflowing_softmax_is_told_to_subtract_the_maximum(check, naive):
    report = check(naive)
    text = str(report)
    assert report.score == report.max_score - 2       # only the case of large scores is lost
    assert "contains NaN or inf" in text and "subtract each row's largest score" in text


def _naive_pooling(X, W_a, w_a):
    e = np.exp(np.tanh(X @ W_a) @ w_a)
    a = e / e.sum(axis=1, keepdims=True)
    return (a[..., None] * X).sum(axis=1), a


def _naive_additive(query, keys, values, W_q, W_k, w_a, mask=None):
    e = np.exp(np.tanh((query @ W_q)[:, :, None] + (keys @ W_k)[:, None]) @ w_a)
    if mask is not None:
        e = e * mask[:, None, :]
    a = e / e.sum(axis=-1, keepdims=True)
    return a @ values, a


def test_wrong_shape_is_reported():
    def transposed(**k):
        context, weights = checks.reference_additive_attention(**k)
        return context, np.swapaxes(weights, 1, 2)

    report = checks.check_additive_attention(transposed)
    assert report.score < report.max_score
    assert "weights: shape" in str(report)


def test_a_crash_is_reported_with_its_error():
    def broken(**k):
        raise KeyError("oops")

    report = checks.check_additive_attention_backward(broken)
    assert report.score == 0 and report.attempted
    assert "KeyError" in str(report)


def test_modifying_the_inputs_loses_the_case():
    def in_place(dcontext, query, keys, values, W_q, W_k, w_a, Z, weights):
        out = checks.reference_additive_attention_backward(dcontext, query, keys, values,
                                                           W_q, W_k, w_a, Z, weights)
        Z **= 2
        return out

    report = checks.check_additive_attention_backward(in_place)
    assert report.score == 0 and "modified its input(s) Z in place" in str(report)


# -- refusals ---------------------------------------------------------------------------------

def _autograd_backward(dcontext, query, keys, values, W_q, W_k, w_a, Z, weights):
    import torch
    q, k, val, wq, wk, wa = (torch.tensor(a, requires_grad=True)
                             for a in (query, keys, values, W_q, W_k, w_a))
    hidden = torch.tanh((q @ wq)[:, :, None] + (k @ wk)[:, None])
    a = torch.softmax(hidden @ wa, dim=-1)
    (a @ val).backward(torch.tensor(dcontext))
    return q.grad.numpy(), k.grad.numpy(), val.grad.numpy(), {
        "W_q": wq.grad.numpy(), "W_k": wk.grad.numpy(), "w_a": wa.grad.numpy()}


def test_autograd_and_the_package_are_refused():
    with reference_allowed(False):
        report = checks.check_additive_attention_backward(_autograd_backward)
        assert report.refused and report.score == 0 and ".backward" in str(report)
        report = checks.check_additive_attention_backward(
            checks.reference_additive_attention_backward)
        assert report.refused and "course package" in str(report)
        report = checks.check_attention_masks(checks.build_reversal_model)
        assert report.refused


def test_torch_tensors_are_accepted():
    torch = pytest.importorskip("torch")

    def in_torch(X, W_a, w_a):
        X, W_a, w_a = (torch.from_numpy(a) for a in (X, W_a, w_a))
        a = torch.softmax(torch.tanh(X @ W_a) @ w_a, dim=1)
        return (a[..., None] * X).sum(1), a

    assert checks.check_attention_pooling(in_torch).passed


# -- fresh inputs and edge cases --------------------------------------------------------------

def test_every_run_draws_fresh_inputs():
    seen = []

    def record(**k):
        seen.append(k["dcontext"].copy())
        return checks.reference_additive_attention_backward(**k)

    checks.check_additive_attention_backward(record)
    checks.check_additive_attention_backward(record)
    half = len(seen) // 2
    assert half >= 6
    assert not any(a.shape == b.shape and np.allclose(a, b)
                   for a, b in zip(seen[:half], seen[half:]))


def test_cases_cover_the_edges():
    rng = np.random.default_rng(0)
    pooling = checks._pooling_cases(rng)
    assert any(c["X"].shape[0] == 1 for c in pooling) and any(c["X"].shape[1] == 1 for c in pooling)
    assert np.abs(pooling[-1]["w_a"]).sum() > 1000          # scores beyond exp's range
    additive = checks._additive_cases(rng)
    assert any(c["keys"].shape[1] == 1 for c in additive)
    assert any(c["query"].shape[1] == 1 for c in additive)
    assert any(c["query"].shape[2] != c["keys"].shape[2] for c in additive)
    assert any(c["mask"] is not None and (c["mask"].sum(1) == 1).any() for c in additive)
    backward = checks._backward_cases(rng)
    assert backward[0]["weights"].shape[-1] == 1
    assert any((c["weights"] == 0).any() for c in backward)               # masked keys
    assert any(((c["weights"] > 0).sum(-1) == 1).any() and c["weights"].shape[-1] > 1
               for c in backward)                                         # a source of length 1
    assert any((np.abs(c["Z"]) > 0.999).mean() > 0.2 for c in backward)   # saturated tanh


# -- the concept check ------------------------------------------------------------------------

@pytest.mark.parametrize("key, wrong, message", [
    ("mask_shape", (3, 6), "6 is the number of decoder steps"),
    ("mask_shape", (3, 6, 5), "repeats one row for every decoder step"),
    ("mask_second_source", (False, False, True, True, True), "inverted"),
    ("mask_second_source", (True, True, True, True, True), "attend to the padding"),
    ("weights_shape", (3, 5, 6), "transposed"),
    ("context_shape", (3, 6, 5), "that is the weights' shape"),
    ("weights_sum", 14, "padded steps are not masked"),
    ("weights_sum", 11, "counts the real source tokens"),
    ("dominant_context", 3.0, "mean of the values"),
    ("dominant_context", 7.0, "the largest value"),
    ("one_key_dquery", 1, "weight of a lone key"),
])
def test_concept_wrong_answers_are_explained(key, wrong, message):
    report = checks.check_attention_masks(lambda: {**_answers(), key: wrong})
    assert report.score == report.max_score - 1
    assert message in str(report)


def test_concept_accepts_numpy_answers_and_hints_without_the_answer():
    def numpy_answers():
        a = _answers()
        a["mask_second_source"] = tuple(np.arange(5) < 2)              # NumPy bools
        a["weights_shape"] = np.zeros((3, 6, 5)).shape
        a["weights_sum"] = np.float64(18.0)
        return a

    assert checks.check_attention_masks(numpy_answers).passed
    text = str(checks.check_attention_masks(lambda: {**_answers(), "mask_shape": (7, 7)}))
    assert "mask_shape: (7, 7) is not right" in text and "(3, 5)" not in text


# -- the experiment ---------------------------------------------------------------------------

def test_experiment_passes_attention_and_fails_no_attention():
    good = checks.check_attention_budget(lambda: {"attention": "additive", "hidden_size": 32})
    assert good.passed and good.score == 2
    bad = checks.check_attention_budget(lambda: {"attention": None, "hidden_size": 47})
    assert bad.score == 0 and "below 50%" in str(bad) and "hint:" in str(bad)


@pytest.mark.parametrize("choice, message", [
    ({"attention": None, "hidden_size": 64}, "over the budget of 20,000"),
    ({"attention": "additive", "hidden_size": 48}, "over the budget of 20,000"),
    ({"attention": "bahdanau", "hidden_size": 32}, "'attention' must be one of"),
    ({"attention": "dot", "hidden_size": 32.5}, "'hidden_size' must be an int"),
    ({"attention": "dot"}, "expected a dict with the keys"),
    ("additive", "expected a dict with the keys"),
])
def test_experiment_refuses_choices_it_cannot_run(choice, message):
    report = checks.check_attention_budget(lambda: choice)
    assert report.score == 0 and "cannot be run" in str(report) and message in str(report)
