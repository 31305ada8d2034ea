"""Chapter 4: truncated BPTT (sliding and chunked) and the chapter's exercise checks."""

import numpy as np
import pytest

from seqlearn.checks import bptt as bptt_checks
from seqlearn.checks.core import CHECKS
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


@pytest.mark.parametrize("exercise_id,reference", [
    ("04-output-gradient", bptt_checks.reference_output_gradient),
    ("04-bptt-step", bptt_checks.reference_bptt_step),
    ("04-clip-by-norm", bptt_checks.reference_clip_by_norm),
])
def test_checks_reference_full_marks_and_stub_zero(exercise_id, reference, capsys):
    check = CHECKS[exercise_id]
    report = check(reference)
    assert report.passed and report.score == report.max_score >= 3
    report = check(_stub)
    assert report.score == 0 and not report.attempted
    assert "not attempted yet" in capsys.readouterr().out


def test_output_gradient_check_catches_averaging_over_time():
    def averaged(logits, targets):
        return bptt_checks.reference_output_gradient(logits, targets) / len(targets)

    report = bptt_checks.check_output_gradient(averaged)
    assert 0 < report.score < report.max_score  # the T = 1 case is still right
    assert any("output 'dlogits' is off by" in line and "do not divide by T" in line for line in report.lines)


def test_bptt_step_check_catches_the_missing_tanh_derivative():
    def no_derivative(dh_out, dh_next, h_t, W_hh):
        da = dh_out + dh_next
        return da, da @ W_hh.T

    report = bptt_checks.check_bptt_step(no_derivative)
    assert report.score == 0
    assert all("output 'da_t' is off by" in line and "1 - h_t**2" in line for line in report.lines)


def test_bptt_step_check_catches_the_untransposed_weights():
    def untransposed(dh_out, dh_next, h_t, W_hh):
        da = (dh_out + dh_next) * (1 - h_t**2)
        return da, da @ W_hh

    report = bptt_checks.check_bptt_step(untransposed)
    assert report.score < report.max_score
    assert any("output 'dh_prev' is off by" in line for line in report.lines)


def test_clip_by_norm_check_catches_clipping_by_value():
    def by_value(grad, max_norm):
        return np.clip(grad, -max_norm, max_norm)

    report = bptt_checks.check_clip_by_norm(by_value)
    assert report.score < report.max_score
    assert any("output 'clipped' is off by" in line for line in report.lines)
