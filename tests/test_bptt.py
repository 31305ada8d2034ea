"""Chapter 4: truncated BPTT (sliding, chunked, BPTT(k; k′)) and the chapter's exercise checks."""

import numpy as np
import pytest

from seqlearn.checks import bptt as bptt_checks
from seqlearn.checks import core
from seqlearn.checks.core import CHECKS, EXERCISES
from seqlearn.gradcheck import relative_error
from seqlearn.numpy.rnn import init_rnn_params, rnn_backward, rnn_forward
from seqlearn.numpy.truncated_bptt import chunked_bptt_gradients, truncated_bptt_gradients

# The checks refuse the package's own functions as answers; these tests submit the references.
pytestmark = pytest.mark.usefixtures("allow_reference")

TRUNCATIONS = [truncated_bptt_gradients, chunked_bptt_gradients]


def _problem(seed=0, B=2, T=9, D=3, H=4, scale=0.8):
    rng = np.random.default_rng(seed)
    params = init_rnn_params(D, H, rng=rng, scale=scale)
    return params, rng.normal(size=(B, T, D)), rng.normal(size=(B, H)), rng.normal(size=(B, T, H))


def _full(params, x, h0, dh):
    h, cache = rnn_forward(x, h0, params)
    return rnn_backward(dh, cache)[0]


@pytest.mark.parametrize("truncate", TRUNCATIONS)
@pytest.mark.parametrize("k", [9, 10, 100])
def test_truncation_at_or_beyond_the_length_is_full_bptt(truncate, k):
    params, x, h0, dh = _problem()
    full, truncated = _full(params, x, h0, dh), truncate(x, h0, params, dh, k)
    for name in full:
        assert relative_error(truncated[name], full[name]) < 1e-12, name


@pytest.mark.parametrize("truncate", TRUNCATIONS)
def test_shorter_truncation_gives_a_different_gradient(truncate):
    params, x, h0, dh = _problem()
    full = _full(params, x, h0, dh)
    errors = [relative_error(truncate(x, h0, params, dh, k)["W_hh"], full["W_hh"]) for k in (1, 3, 8)]
    assert all(e > 1e-4 for e in errors)
    assert errors[0] > errors[-1]  # more steps back, closer to the full gradient


def test_sliding_truncation_sees_only_the_last_k_steps_of_a_loss():
    """With a loss at the last step only, BPTT(k) is the full gradient of a run that starts k
    steps before the end from a *constant* state: dependencies further back are cut."""
    params, x, h0, _ = _problem(seed=1, T=8)
    B, T, H = x.shape[0], x.shape[1], 4
    dh = np.zeros((B, T, H))
    dh[:, -1] = np.random.default_rng(2).normal(size=(B, H))
    h, _ = rnn_forward(x, h0, params)
    for k in (1, 3, 5):
        start = T - k
        h_start = h[:, start - 1]
        expected = _full(params, x[:, start:], h_start, dh[:, start:])
        got = truncated_bptt_gradients(x, h0, params, dh, k)
        for name in expected:
            assert relative_error(got[name], expected[name]) < 1e-12


def test_chunked_truncation_is_a_sum_of_independent_chunks():
    params, x, h0, dh = _problem(seed=3, T=10)
    h, _ = rnn_forward(x, h0, params)
    first = _full(params, x[:, :4], h0, dh[:, :4])
    second = _full(params, x[:, 4:8], h[:, 3], dh[:, 4:8])
    third = _full(params, x[:, 8:], h[:, 7], dh[:, 8:])
    got = chunked_bptt_gradients(x, h0, params, dh, 4)
    for name in got:
        assert relative_error(got[name], first[name] + second[name] + third[name]) < 1e-12


def _loss_by_loss(params, x, h0, dh, k, every):
    """BPTT(k; k′) built loss by loss: the loss of step t, whose pass ends after step e (the
    first of k′, 2k′, …, T at or after t + 1), is backpropagated from t down to max(e − k, 0),
    from that step's carried state held constant."""
    h, _ = rnn_forward(x, h0, params)
    T = x.shape[1]
    ends = list(range(every, T, every)) + [T]
    total = {name: 0.0 for name in params}
    for t in range(T):
        end = next(e for e in ends if e >= t + 1)
        start = max(end - k, 0)
        only_t = np.zeros_like(dh[:, start:t + 1])
        only_t[:, -1] = dh[:, t]
        grads = _full(params, x[:, start:t + 1], h0 if start == 0 else h[:, start - 1], only_t)
        for name in total:
            total[name] = total[name] + grads[name]
    return total


@pytest.mark.parametrize("k, every", [(3, 1), (4, 2), (5, 3), (4, 4), (6, 4), (12, 5)])
def test_bptt_k_every_is_the_sum_of_its_losses_truncated_paths(k, every):
    params, x, h0, dh = _problem(seed=5, T=11)
    got = truncated_bptt_gradients(x, h0, params, dh, k, every=every)
    expected = _loss_by_loss(params, x, h0, dh, k, every)
    for name in got:
        assert relative_error(got[name], expected[name]) < 1e-12, name


@pytest.mark.parametrize("k", [1, 3, 4])
def test_bptt_k_k_is_the_chunked_truncation_when_k_divides_T(k):
    params, x, h0, dh = _problem(seed=6, T=12)
    got = truncated_bptt_gradients(x, h0, params, dh, k, every=k)
    expected = chunked_bptt_gradients(x, h0, params, dh, k)
    for name in got:
        assert relative_error(got[name], expected[name]) < 1e-12, name


def test_bptt_k_every_lies_between_sliding_and_chunked():
    """Each loss gets at least k − k′ + 1 steps: fewer passes, a coarser gradient."""
    params, x, h0, dh = _problem(seed=7, T=24, scale=1.0)
    full = _full(params, x, h0, dh)["W_hh"]
    error = {every: relative_error(truncated_bptt_gradients(x, h0, params, dh, 8, every)["W_hh"],
                                   full) for every in (1, 4, 8)}
    assert error[1] < error[4] < error[8]


def test_every_longer_than_k_is_refused():
    params, x, h0, dh = _problem()
    with pytest.raises(ValueError, match="every"):
        truncated_bptt_gradients(x, h0, params, dh, 3, every=4)
    with pytest.raises(ValueError, match="every"):
        truncated_bptt_gradients(x, h0, params, dh, 3, every=0)


@pytest.mark.parametrize("truncate", TRUNCATIONS)
def test_bad_input(truncate):
    params, x, h0, dh = _problem()
    with pytest.raises(ValueError, match="k"):
        truncate(x, h0, params, dh, 0)
    with pytest.raises(ValueError, match="dh"):
        truncate(x, h0, params, dh[:, :-1], 3)
    with pytest.raises(ValueError, match="x"):
        truncate(x[..., :2], h0, params, dh, 3)
    with pytest.raises(ValueError, match="x"):
        truncate(x[:, :0], h0, params, dh[:, :0], 3)


# -- exercise checks ----------------------------------------------------------------------------

def _stub(*args, **kwargs):
    raise NotImplementedError("write me")


def _says(report, *words):
    """Whether some line of the report contains every one of ``words``."""
    return any(all(word in line for word in words) for line in report.lines)


IMPLEMENT = [
    ("04-output-gradient", bptt_checks.reference_output_gradient, 5),
    ("04-bptt-step", bptt_checks.reference_bptt_step, 10),
    ("04-bptt", bptt_checks.reference_bptt, 24),
    ("04-rtrl-step", bptt_checks.reference_rtrl_step, 16),
    ("04-clip-by-norm", bptt_checks.reference_clip_by_norm, 15),
    ("04-temperature", bptt_checks.reference_temperature, 5),
    ("04-unit-correlations", bptt_checks.reference_unit_correlations, 4),
]


@pytest.mark.parametrize("exercise_id,reference,points", IMPLEMENT)
def test_reference_scores_full_marks_every_output_of_every_case(exercise_id, reference, points,
                                                                capsys):
    report = CHECKS[exercise_id](reference)
    assert report.passed and report.score == report.max_score == points
    assert EXERCISES[exercise_id].points == points and EXERCISES[exercise_id].kind == "implement"
    assert f"Score: {points}/{points} [{exercise_id}]" in capsys.readouterr().out


@pytest.mark.parametrize("exercise_id", ["04-output-gradient", "04-bptt-step", "04-bptt",
                                         "04-rtrl-step", "04-clip-by-norm", "04-bptt-costs",
                                         "04-forecast-window", "04-clip-threshold",
                                         "04-temperature", "04-unit-correlations",
                                         "04-forecaster-sizes"])
def test_untouched_stub_scores_zero_and_says_not_attempted(exercise_id, capsys):
    report = CHECKS[exercise_id](_stub)
    assert report.score == 0 and not report.attempted
    assert "not attempted yet" in capsys.readouterr().out


def test_mistaken_variants_at_their_defaults_are_the_references():
    """The diagnoses compare answers with variants of the reference: unflagged, each variant
    must be the reference itself."""
    rng = np.random.default_rng(3)
    for case in bptt_checks._output_gradient_cases(rng):
        assert np.allclose(bptt_checks._output_gradient_variant(**case),
                           bptt_checks.reference_output_gradient(**case))
    for case in bptt_checks._bptt_step_cases(rng):
        for got, want in zip(bptt_checks._bptt_step_variant(**case),
                             bptt_checks.reference_bptt_step(**case)):
            assert np.allclose(got, want)
    for case in bptt_checks._bptt_cases(rng):
        (grads, dh0), (want, want_dh0) = (bptt_checks._bptt_variant(**case),
                                          bptt_checks.reference_bptt(**case))
        assert all(np.allclose(grads[k], want[k]) for k in want) and np.allclose(dh0, want_dh0)
    for case in bptt_checks._rtrl_cases(rng):
        (h, P), (want_h, want_P) = (bptt_checks._rtrl_variant(**case),
                                    bptt_checks.reference_rtrl_step(**case))
        assert np.allclose(h, want_h) and all(np.allclose(P[k], want_P[k]) for k in want_P)
    for case in bptt_checks._clip_cases(rng):
        for got, want in zip(bptt_checks._clip_variant(**case),
                             bptt_checks.reference_clip_by_norm(**case)):
            assert np.allclose(got, want)


def test_bptt_reference_agrees_with_finite_differences_and_rnn_backward_sums():
    for case in bptt_checks._bptt_cases(np.random.default_rng(4)):
        grads, dh0 = bptt_checks.reference_bptt(**case)
        finite, finite_dh0 = bptt_checks.finite_difference_bptt(**case)
        for name in grads:
            assert relative_error(grads[name], finite[name]) < 1e-6, name
        assert relative_error(dh0, finite_dh0) < 1e-6


def test_the_checks_rtrl_step_run_over_a_sequence_gives_bptts_gradient():
    rng = np.random.default_rng(5)
    B, T, D, H = 2, 7, 3, 4
    params = init_rnn_params(D, H, rng=rng, scale=0.7)
    x, h0, dh = rng.normal(size=(B, T, D)), rng.normal(size=(B, H)), rng.normal(size=(B, T, H))
    P = {"W_xh": np.zeros((B, H, D, H)), "W_hh": np.zeros((B, H, H, H)), "b_h": np.zeros((B, H, H))}
    h, total = h0, {name: 0.0 for name in P}
    for t in range(T):
        h, P = bptt_checks.reference_rtrl_step(x[:, t], h, P, params)
        for name in P:
            total[name] = total[name] + np.einsum("bj,bj...->...", dh[:, t], P[name])
    _, cache = rnn_forward(x, h0, params)
    full = rnn_backward(dh, cache)[0]
    for name in full:
        assert relative_error(total[name], full[name]) < 1e-12, name


# 04-output-gradient

def test_output_gradient_without_the_max_shift_fails_the_large_scores():
    def unshifted(logits, targets):
        e = np.exp(logits)
        grad = e / e.sum(axis=1, keepdims=True)
        grad[np.arange(len(targets)), targets] -= 1.0
        return grad / len(targets)

    with np.errstate(all="ignore"):
        report = bptt_checks.check_output_gradient(unshifted)
    assert report.score == 3  # the three cases of ordinary scores
    assert _says(report, "case 4/5, scores near ±800", "NaN or inf")
    assert _says(report, "case 5/5", "NaN or inf")
    assert _says(report, "hint:", "subtract the row's largest score")


@pytest.mark.parametrize("flags,message", [
    (dict(mean=False), "divided by T"),
    (dict(sign=-1.0), "sign is flipped"),
    (dict(onehot=False), "the softmax alone"),
    (dict(axis=0), "normalises each row"),
])
def test_output_gradient_mistakes_are_named(flags, message):
    report = bptt_checks.check_output_gradient(
        lambda logits, targets: bptt_checks._output_gradient_variant(logits, targets, **flags))
    assert report.score < report.max_score
    assert _says(report, "hint:", message)


def test_output_gradient_check_refuses_a_library_softmax():
    import torch

    def library(logits, targets):
        grad = torch.softmax(torch.from_numpy(logits), dim=1).numpy()
        grad[np.arange(len(targets)), targets] -= 1.0
        return grad / len(targets)

    with core.reference_allowed(False):
        report = bptt_checks.check_output_gradient(library)
    assert report.refused and report.score == 0 and _says(report, "softmax")


# 04-bptt-step

@pytest.mark.parametrize("flags,message", [
    (dict(derivative="none"), "missing the derivative of the tanh"),
    (dict(derivative="1-h"), "square h_t"),
    (dict(derivative="tanh'(h)"), "applies tanh' to h_t"),
    (dict(transposed=False), "its transpose belongs"),
    (dict(with_next=False), "dh_next) is missing"),
    (dict(through_delta=False), "skipping the tanh"),
])
def test_bptt_step_mistakes_are_named(flags, message):
    report = bptt_checks.check_bptt_step(
        lambda **case: bptt_checks._bptt_step_variant(**case, **flags))
    assert report.score < report.max_score
    assert _says(report, "hint:", message)


def test_bptt_step_without_dh_next_still_gets_the_last_step_right():
    report = bptt_checks.check_bptt_step(
        lambda **case: bptt_checks._bptt_step_variant(**case, with_next=False))
    assert _says(report, "case 4/5, the last step", "da_t ok", "dh_prev ok")


# 04-bptt

@pytest.mark.parametrize("flags,message,wrong", [
    (dict(W_hh_reads="h_t"), "pairs δ_t with h_t", {"W_hh"}),
    (dict(recurrent=False), "h_t also reaches the loss through h_{t+1}", None),
    (dict(transposed=False), "through W_hhᵀ, not W_hh", None),
    (dict(derivative=False), "missing tanh'", None),
    (dict(batch="sum"), "B times too large", None),
    (dict(time="sum"), "T times too large", None),
    (dict(hy_reads="h_prev"), "z_t reads h_t", {"W_hy"}),
])
def test_bptt_mistakes_are_named(flags, message, wrong):
    report = bptt_checks.check_bptt(lambda **case: bptt_checks._bptt_variant(**case, **flags))
    assert report.score < report.max_score
    assert _says(report, "hint:", message)
    if wrong:  # only these gradients are wrong, in every case: the others score
        assert report.score == report.max_score - len(wrong) * len(bptt_checks._BPTT_SHAPES)


def test_bptt_without_the_path_through_time_passes_only_where_there_is_none():
    report = bptt_checks.check_bptt(
        lambda **case: bptt_checks._bptt_variant(**case, recurrent=False))
    first = next(line for line in report.lines if line.startswith("case 1/4"))
    assert "against finite differences" in first and "off by" not in first  # T = 1
    assert _says(report, "case 3/4, against the reference", "grads['W_hh']: off by")


def test_bptt_check_refuses_autograd():
    import torch

    def by_autograd(x, targets, h0, params):
        p = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
        h = torch.tensor(h0, requires_grad=True)
        loss = 0
        for t in range(x.shape[1]):
            h = torch.tanh(torch.from_numpy(x[:, t]) @ p["W_xh"] + h @ p["W_hh"] + p["b_h"])
            logp = torch.log_softmax(h @ p["W_hy"] + p["b_y"], dim=-1)
            loss = loss - logp[torch.arange(len(targets)), torch.from_numpy(targets[:, t])].sum()
        loss.backward()
        return {k: v.grad.numpy() for k, v in p.items()}, None

    with core.reference_allowed(False):
        report = bptt_checks.check_bptt(by_autograd)
    assert report.refused and report.score == 0 and _says(report, "backward")


# 04-rtrl-step

@pytest.mark.parametrize("flags,message", [
    (dict(immediate=False), "immediate term is missing"),
    (dict(recurrent=False), "path through the previous state is missing"),
    (dict(transposed=False), "the wrong way round"),
    (dict(W_hh_reads="h_t"), "immediate term of W_hh holds h_t"),
    (dict(factor_of="h_prev"), "1 - h_{t-1}²"),
])
def test_rtrl_step_mistakes_are_named(flags, message):
    report = bptt_checks.check_rtrl_step(
        lambda **case: bptt_checks._rtrl_variant(**case, **flags))
    assert report.score < report.max_score
    assert _says(report, "hint:", message)


def test_rtrl_step_without_the_recurrent_term_passes_the_first_step():
    report = bptt_checks.check_rtrl_step(
        lambda **case: bptt_checks._rtrl_variant(**case, recurrent=False))
    first_step = next(line for line in report.lines if line.startswith("case 2/4"))
    assert "the first step (P_prev = 0)" in first_step and "off by" not in first_step


def test_rtrl_step_that_updates_p_prev_in_place_scores_nothing():
    def in_place(x_t, h_prev, P_prev, params):
        h_t, P_t = bptt_checks.reference_rtrl_step(x_t, h_prev, P_prev, params)
        for name in P_prev:
            P_prev[name][...] = P_t[name]
        return h_t, P_prev

    report = bptt_checks.check_rtrl_step(in_place)
    assert report.score == 0 and report.attempted
    assert _says(report, "case 3/4", "modified its input(s) P_prev[")


# 04-clip-by-norm

def test_clipping_each_array_by_its_own_norm_fails_and_is_named():
    def per_array(grads, max_norm):
        return [g * min(1.0, max_norm / max(np.linalg.norm(g), 1e-300)) for g in grads]

    report = bptt_checks.check_clip_by_norm(per_array)
    assert report.score < report.max_score
    assert _says(report, "case 1/5, each array below max_norm, together above", "off by")
    assert _says(report, "hint:", "each array is clipped by its own norm")


def test_clip_that_divides_by_a_zero_norm_fails_with_its_own_message():
    def divides(grads, max_norm):
        norm = np.sqrt(sum(np.sum(g * g) for g in grads))
        return [g / norm * min(norm, max_norm) for g in grads]

    with np.errstate(all="ignore"):
        report = bptt_checks.check_clip_by_norm(divides)
    assert report.score == report.max_score - 3  # the three arrays of the zero gradient
    assert _says(report, "case 2/5, an all-zero gradient", "NaN or inf")
    assert _says(report, "hint:", "norm 0")


def test_a_clip_that_does_nothing_fails_above_the_threshold():
    report = bptt_checks.check_clip_by_norm(lambda grads, max_norm: [g.copy() for g in grads])
    assert report.score < report.max_score
    assert _says(report, "case 4/5, one exploding array", "off by")
    assert _says(report, "hint:", "come back unchanged although")
    assert not _says(report, "hint:", "its own norm")


@pytest.mark.parametrize("rule,message", [
    ("value", "clipping by value"), ("always", "below max_norm must come back unchanged"),
    ("squared", "square root"),
])
def test_clip_mistakes_are_named(rule, message):
    report = bptt_checks.check_clip_by_norm(
        lambda grads, max_norm: bptt_checks._clip_variant(grads, max_norm, rule=rule))
    assert report.score < report.max_score
    assert _says(report, "hint:", message)


def test_clip_that_scales_the_callers_arrays_in_place_scores_nothing():
    def in_place(grads, max_norm):
        norm = np.sqrt(sum(np.sum(g * g) for g in grads))
        if norm > max_norm:
            for g in grads:
                g *= max_norm / norm
        return grads

    report = bptt_checks.check_clip_by_norm(in_place)
    assert report.score < report.max_score
    assert _says(report, "case 1/5", "modified its input(s) grads[")


def test_clip_check_refuses_torchs_clip_grad_norm():
    import torch

    def by_torch(grads, max_norm):
        tensors = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
        for t, g in zip(tensors, grads):
            t.grad = torch.from_numpy(g.copy())
        torch.nn.utils.clip_grad_norm_(tensors, max_norm)
        return [t.grad.numpy() for t in tensors]

    assert bptt_checks.check_clip_by_norm(by_torch).passed  # right, when allowed
    with core.reference_allowed(False):
        report = bptt_checks.check_clip_by_norm(by_torch)
    assert report.refused and report.score == 0 and _says(report, "clip_grad_norm_")


def test_clip_that_returns_one_array_is_told_the_count():
    report = bptt_checks.check_clip_by_norm(lambda grads, max_norm: np.concatenate(
        [g.ravel() for g in grads]))
    assert report.score == 0 and _says(report, "returned 1 value(s), expected 3")


# 04-bptt-costs

RIGHT_COSTS = {"bptt_time": (2, 1, 0), "bptt_memory": (1, 1, 0), "sliding_time": (2, 1, 1),
               "sliding_memory": (1, 0, 1), "chunked_time": (2, 1, 0),
               "chunked_memory": (1, 0, 1), "rtrl_time": (4, 1, 0), "rtrl_memory": (3, 0, 0),
               "rtrl_numbers": 1_510_000}


def test_cost_answers_score_full_marks(capsys):
    report = bptt_checks.check_bptt_costs(lambda: dict(RIGHT_COSTS))
    assert report.passed and report.score == EXERCISES["04-bptt-costs"].points == 9
    assert "Score: 9/9 [04-bptt-costs]" in capsys.readouterr().out


@pytest.mark.parametrize("key,wrong,why", [
    ("rtrl_time", (4, 0, 0), "that is one step"),
    ("rtrl_memory", (3, 1, 0), "keeps only the current P_t"),
    ("bptt_memory", (2, 1, 0), "stored once"),
    ("bptt_memory", (1, 0, 0), "reads every h_t"),
    ("sliding_time", (2, 1, 0), "the chunked variant"),
    ("chunked_time", (2, 1, 1), "backpropagated once"),
    ("sliding_memory", (1, 1, 0), "the last k"),
    ("rtrl_numbers", 100**3, "block of W_hh alone"),
    ("rtrl_numbers", 100 * 50 + 100**2 + 100, "number of parameters"),
])
def test_cost_wrong_answers_are_explained(key, wrong, why):
    answers = dict(RIGHT_COSTS, **{key: wrong})
    report = bptt_checks.check_bptt_costs(lambda: answers)
    assert report.score == report.max_score - 1
    assert _says(report, f"{key}: {wrong!r} is not right", why)


def test_cost_answers_in_other_forms_get_the_hint_not_the_answer():
    answers = dict(RIGHT_COSTS, bptt_time="O(N^2 T)")
    answers.pop("rtrl_memory")
    report = bptt_checks.check_bptt_costs(lambda: answers)
    assert report.score == report.max_score - 2
    assert _says(report, "bptt_time", "answer a tuple (a, b, c)")
    assert _says(report, "rtrl_memory: not answered")
    assert not _says(report, "bptt_time", "(2, 1, 0)")  # the hint does not give it away


# 04-forecast-window

def test_forecaster_experiment_passes_a_good_choice_on_every_restart(capsys):
    report = bptt_checks.check_forecast_window(lambda: {"window": 9, "hidden_size": 16})
    assert report.passed and report.score == EXERCISES["04-forecast-window"].points == 3
    assert "Score: 3/3 [04-forecast-window]" in capsys.readouterr().out


@pytest.mark.parametrize("choice", [{"window": 6, "hidden_size": 1},
                                    {"window": 11, "hidden_size": 1},
                                    {"window": 2, "hidden_size": 3}])
def test_forecaster_experiment_fails_one_unit_or_two_months(choice):
    report = bptt_checks.check_forecast_window(lambda: choice)
    assert report.score == 0 and report.attempted
    assert _says(report, "above", "half the seasonal-naive")
    assert _says(report, "hint:", "forecast_validation_rmse") and not _says(report, "luck")


@pytest.mark.parametrize("choice,message", [
    ({"window": 12, "hidden_size": 3}, "shorter than a year"),
    ({"window": 1, "hidden_size": 3}, "one-month window"),
    ({"window": 6, "hidden_size": 100}, "hidden_size: expected 1 to 32"),
    ({"window": 6.0, "hidden_size": 3}, "window: expected an int"),
    ((6, 3), "a dict with the keys"),
])
def test_forecaster_experiment_refuses_what_it_cannot_run(choice, message):
    report = bptt_checks.check_forecast_window(lambda: choice)
    assert report.score == 0 and _says(report, "cannot be run", message)


def test_forecast_validation_rmse_is_repeatable_and_leaves_torchs_state():
    import torch

    state = torch.random.get_rng_state()
    first = bptt_checks.forecast_validation_rmse(4, 3, seed=1)
    assert torch.equal(state, torch.random.get_rng_state())
    assert first == bptt_checks.forecast_validation_rmse(4, 3, seed=1)
    assert first[1] == pytest.approx(45.18, abs=0.01)  # same month of 1955, scored on 1956


# 04-clip-threshold

def test_clip_threshold_experiment_passes_a_threshold_that_bounds_the_step(capsys):
    report = bptt_checks.check_clip_threshold(lambda: 0.2)
    assert report.passed and report.score == EXERCISES["04-clip-threshold"].points == 3
    assert EXERCISES["04-clip-threshold"].kind == "experiment"
    assert "Score: 3/3 [04-clip-threshold]" in capsys.readouterr().out


@pytest.mark.parametrize("choice,words", [(None, "blew up"), (1.0, "blew up"),
                                          (0.01, "learned slowly")])
def test_clip_threshold_experiment_fails_no_clipping_a_loose_and_a_tight_threshold(choice,
                                                                                   words):
    report = bptt_checks.check_clip_threshold(lambda: choice)
    assert report.score == 0 and report.attempted
    assert _says(report, "hint:", words, "lr · c", "clipped_sgd_loss")


@pytest.mark.parametrize("choice,message", [("0.2", "expected a positive number"),
                                            (-1.0, "max_norm: expected a positive number"),
                                            (True, "expected a positive number")])
def test_clip_threshold_experiment_refuses_what_it_cannot_run(choice, message):
    report = bptt_checks.check_clip_threshold(lambda: choice)
    assert report.score == 0 and _says(report, "cannot be run", message)


def test_clipped_sgd_loss_is_repeatable():
    first = bptt_checks.clipped_sgd_loss(0.3, seed=1)
    assert first == bptt_checks.clipped_sgd_loss(0.3, seed=1)
    assert first["loss"] < 2.6 and 0 < first["clipped"] <= 300


# 04-temperature

@pytest.mark.parametrize("answer,words", [
    (lambda logits, temperature: bptt_checks._stable_softmax(logits * temperature),
     "multiplied by the temperature"),
    (lambda logits, temperature: bptt_checks._stable_softmax(logits), "not used"),
    (lambda logits, temperature: logits / max(temperature, 1e-9), "return probabilities"),
])
def test_temperature_check_names_the_mistakes(answer, words):
    report = bptt_checks.check_temperature(answer)
    assert not report.passed and _says(report, "hint:", words)


def test_temperature_check_explains_the_overflow_and_refuses_softmax():
    def no_shift(logits, temperature):
        if temperature == 0:
            return bptt_checks.reference_temperature(logits, 0)
        with np.errstate(over="ignore", invalid="ignore"):
            e = np.exp(logits / temperature)
            return e / e.sum(axis=1, keepdims=True)

    report = bptt_checks.check_temperature(no_shift)
    assert 0 < report.score < report.max_score and _says(report, "hint:", "overflows")
    import torch

    with core.reference_allowed(False):
        refused = bptt_checks.check_temperature(
            lambda logits, temperature: torch.softmax(torch.tensor(logits / temperature),
                                                      1).numpy())
    assert refused.score == 0 and refused.refused


# 04-unit-correlations

@pytest.mark.parametrize("rule,words", [("uncentred", "means are not subtracted"),
                                        ("covariance", "that is the covariance"),
                                        ("transposed", "(F, H)")])
def test_unit_correlation_check_names_the_mistakes(rule, words):
    report = bptt_checks.check_unit_correlations(
        lambda states, features: bptt_checks._correlation_variant(states, features, rule))
    assert not report.passed and _says(report, "hint:", words)


def test_unit_correlation_check_wants_zero_for_a_constant_unit_and_refuses_corrcoef():
    def nan_for_constant(states, features):
        s, f = states - states.mean(0), features - features.mean(0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return s.T @ f / np.sqrt(np.outer((s * s).sum(0), (f * f).sum(0)))

    report = bptt_checks.check_unit_correlations(nan_for_constant)
    assert report.score == report.max_score - 1 and _says(report, "never changes", "hint:")
    with core.reference_allowed(False):
        refused = bptt_checks.check_unit_correlations(
            lambda states, features: np.corrcoef(states.T, features.T)[:states.shape[1],
                                                                        states.shape[1]:])
    assert refused.score == 0 and refused.refused


# 04-forecaster-sizes

def test_forecaster_sizes_reference_answers_score_full_marks_and_match_the_models(capsys):
    from seqlearn.data import load_airline_passengers
    from seqlearn.torch.forecast import RNNForecaster, evaluate_forecaster

    right = {"rnn_parameters": 89, "lstm_parameters": 329, "train_windows": 60,
             "seasonal_window": 12, "choose_by": "validation"}
    report = bptt_checks.check_forecaster_sizes(lambda: right)
    assert report.passed and report.score == EXERCISES["04-forecaster-sizes"].points == 5
    assert EXERCISES["04-forecaster-sizes"].kind == "concept"
    assert sum(p.numel() for p in RNNForecaster(8).parameters()) == right["rnn_parameters"]
    assert sum(p.numel() for p in RNNForecaster(8, "lstm").parameters()) == right["lstm_parameters"]
    _, y = load_airline_passengers()
    assert evaluate_forecaster(y, 24, 1, steps=1)["train_windows"] == right["train_windows"]


def test_forecaster_sizes_check_explains_the_expected_wrong_answers():
    wrong = {"rnn_parameters": 81, "lstm_parameters": 361, "train_windows": 72,
             "seasonal_window": 11, "choose_by": "test"}
    report = bptt_checks.check_forecaster_sizes(lambda: wrong)
    assert report.score == 0
    assert _says(report, "lstm_parameters", "two bias vectors")
    assert _says(report, "choose_by", "optimistic")
    assert not _says(report, "89") and not _says(report, "329")  # no answer given away


# the chapter's figures

def _axes(n=1, **kw):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, n, **kw)
    return plt, fig, axes


def test_bptt_graph_draws_the_unrolled_nodes_and_both_passes():
    from seqlearn import plotting

    plt, fig, ax = _axes()
    plotting.bptt_graph(ax, steps=3)
    labels = {t.get_text() for t in ax.texts}
    assert {"$h_0$", "$h_3$", "$x_1$", "$z_2$", "$\\ell_3$", "$L$"} <= labels
    assert "$\\delta_3 W_{hh}^\\top$" in labels and "$h_4$" not in labels
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "forward pass", "gradient, backwards (BPTT)"]
    with pytest.raises(ValueError, match="steps"):
        plotting.bptt_graph(ax, steps=0)
    plt.close(fig)


def test_loss_cliff_takes_a_plain_step_off_the_plot_and_a_clipped_one_to_the_foot():
    from seqlearn import plotting

    plt, fig, axes = _axes(2)
    runs = plotting.loss_cliff(axes, follow=5)
    plain, clipped = runs["plain"], runs["clipped"]
    assert abs(plain["grad"][0]) > 100                    # the start is on the wall
    assert plain["w"][1] > 3 and plain["grad"][1] == pytest.approx(0, abs=1e-8)
    assert clipped["w"][1] - clipped["w"][0] == pytest.approx(0.05)   # lr · c
    assert clipped["loss"][-1] < plain["loss"][-1] < plain["loss"][0]
    plt.close(fig)


def test_training_runs_and_colored_text_draw_what_they_are_given():
    from seqlearn import plotting

    plt, fig, (left, right) = _axes(2)
    plotting.training_runs(left, {"a": [np.ones(5), np.ones(3)], "b": [np.arange(1, 6)]}, log=True)
    assert len([line for line in left.get_lines() if line.get_marker() == "x"]) == 1  # stopped
    assert [t.get_text() for t in left.get_legend().get_texts()] == ["a (2 seeds)", "b (1 seed)"]
    mappable = plotting.colored_text(right, "ab\nc d", np.array([-1.0, 0.0, 0.5, 1.0, 0, 0]),
                                     width=3)
    assert [t.get_text() for t in right.texts] == ["a", "b", "↵", "c", "d"]  # a space: no text
    assert mappable.norm.vmin == -1 and mappable.norm.vmax == 1
    with pytest.raises(ValueError, match="one number per character"):
        plotting.colored_text(right, "abc", np.zeros(2))
    with pytest.raises(ValueError, match="smooth"):
        plotting.training_runs(left, {"a": [np.ones(3)]}, smooth=1.0)
    plt.close(fig)

