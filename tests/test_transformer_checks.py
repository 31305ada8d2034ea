"""The chapter 8 checks: a right answer scores full marks, typical mistakes are named, stubs score 0."""

import numpy as np
import pytest

from seqlearn.checks import transformer as checks
from seqlearn.checks.core import CHECKS

# The checks refuse the package's own functions as answers; these tests submit the references.
pytestmark = pytest.mark.usefixtures("allow_reference")

ALL_CHECKS = [checks.check_scaled_dot_product_attention, checks.check_causal_mask,
              checks.check_positional_encoding, checks.check_multi_head_attention]


def _stub(*args, **kwargs):
    raise NotImplementedError


def test_exercise_ids_are_registered():
    for exercise_id in ("08-scaled-dot-product-attention", "08-causal-mask",
                        "08-positional-encoding", "08-multi-head-attention"):
        assert exercise_id in CHECKS


# Independent solutions, written the way a student would (not via the package).
def _sdpa(Q, K, V, mask=None):
    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights /= weights.sum(axis=-1, keepdims=True)
    return weights @ V, weights


def _causal(T):
    return np.tril(np.ones((T, T), dtype=bool))


def _pe(T, d_model):
    pe = np.zeros((T, d_model))
    for t in range(T):
        for i in range(d_model // 2):
            angle = t / 10000 ** (2 * i / d_model)
            pe[t, 2 * i], pe[t, 2 * i + 1] = np.sin(angle), np.cos(angle)
    return pe


def _mha(query, key, value, params, num_heads):
    D = query.shape[-1]
    dk = D // num_heads
    Q = query @ params["W_q"] + params["b_q"]
    K = key @ params["W_k"] + params["b_k"]
    V = value @ params["W_v"] + params["b_v"]
    heads = [_sdpa(Q[..., h * dk:(h + 1) * dk], K[..., h * dk:(h + 1) * dk],
                   V[..., h * dk:(h + 1) * dk])[0] for h in range(num_heads)]
    return np.concatenate(heads, axis=-1) @ params["W_o"] + params["b_o"]


@pytest.mark.parametrize("check, solution", list(zip(ALL_CHECKS, [_sdpa, _causal, _pe, _mha])))
def test_independent_solutions_score_full_marks(check, solution, capsys):
    report = check(solution)
    assert report.passed and report.score == report.max_score == 4
    assert "PASSED" in capsys.readouterr().out


@pytest.mark.parametrize("check, reference", [
    (checks.check_scaled_dot_product_attention, checks.reference_scaled_dot_product_attention),
    (checks.check_causal_mask, checks.reference_causal_mask),
    (checks.check_positional_encoding, checks.reference_positional_encoding),
    (checks.check_multi_head_attention, checks.reference_multi_head_attention),
])
def test_references_score_full_marks(check, reference):
    assert check(reference).passed


@pytest.mark.parametrize("check", ALL_CHECKS)
def test_stub_scores_zero_without_crashing(check):
    report = check(_stub)
    assert report.score == 0 and not report.attempted
    assert "not attempted yet" in str(report)


@pytest.mark.parametrize("kwargs, message", [
    ({"scale": "none"}, "the scores are not scaled"),
    ({"scale": "d"}, "divided by d_k; the scale is 1/√d_k"),
    ({"scale": "times_sqrt"}, "multiplied by √d_k"),
    ({"axis": -2}, "softmax runs over the queries"),
    ({"mask_mode": "inverted"}, "the mask is inverted"),
    ({"mask_mode": "ignored"}, "the mask is ignored"),
    ({"mask_mode": "after"}, "masked after the softmax"),
])
def test_attention_mistakes_are_named(kwargs, message):
    report = checks.check_scaled_dot_product_attention(
        lambda Q, K, V, mask=None: checks._sdpa_variant(Q, K, V, mask, **kwargs))
    assert report.score < report.max_score
    assert message in str(report)


def test_unscaled_attention_fails_every_case():
    report = checks.check_scaled_dot_product_attention(
        lambda Q, K, V, mask=None: checks._sdpa_variant(Q, K, V, mask, scale="none"))
    assert report.score == 0


@pytest.mark.parametrize("kind, message", [
    ("upper", "upper triangle"),
    ("strict", "the diagonal is excluded"),
    ("inverted", "the mask is inverted"),
    ("additive", "additive mask"),
])
def test_causal_mask_mistakes_are_named(kind, message):
    report = checks.check_causal_mask(lambda T: checks._causal_mask_variant(T, kind))
    assert report.score < report.max_score
    assert message in str(report)


@pytest.mark.parametrize("make", [
    lambda T: np.tril(np.ones((T, T))),                              # float 0/1
    lambda T: np.tril(np.ones((T, T), dtype=int)).tolist(),          # a nested list of ints
])
def test_causal_mask_must_be_boolean(make):
    report = checks.check_causal_mask(make)
    assert report.score == 0 and report.attempted
    assert "return a bool array" in str(report)


def test_a_nested_list_of_bools_is_a_boolean_mask():
    assert checks.check_causal_mask(lambda T: np.tril(np.ones((T, T), dtype=bool)).tolist()).passed


def test_causal_mask_may_be_a_torch_tensor():
    torch = pytest.importorskip("torch")
    assert checks.check_causal_mask(lambda T: torch.tril(torch.ones(T, T, dtype=torch.bool))).passed


@pytest.mark.parametrize("kwargs, message", [
    ({"swap": True}, "sin and cos are swapped"),
    ({"layout": "concatenated"}, "concatenated ([sin | cos])"),
    ({"swap": True, "layout": "concatenated"}, "concatenated ([cos | sin])"),
    ({"exponent": "i"}, "exponent of 10000 is i/d_model"),
    ({"exponent": "negative"}, "multiplied by 10000^(2i/d_model)"),
    ({"first": 1}, "the positions start at 1"),
])
def test_positional_encoding_mistakes_are_named(kwargs, message):
    report = checks.check_positional_encoding(
        lambda T, d_model: checks._positional_encoding_variant(T, d_model, **kwargs))
    assert report.score < report.max_score
    assert message in str(report)


@pytest.mark.parametrize("kwargs, message", [
    ({"split": "reshape"}, "reshape to (B, H, T, d_k) alone"),
    ({"project_out": False}, "output projection is missing"),
    ({"scale": "model"}, "scaled by 1/√d_model"),
    ({"scale": "none"}, "the scores are not scaled"),
    ({"heads": 1}, "single head of size d_model"),
    ({"biases": False}, "the biases are missing"),
])
def test_multi_head_attention_mistakes_are_named(kwargs, message):
    report = checks.check_multi_head_attention(
        lambda query, key, value, params, num_heads:
        checks._mha_variant(query, key, value, params, num_heads, **kwargs))
    assert report.score < report.max_score
    assert message in str(report)


def test_wrong_shape_is_reported():
    def flat(**k):
        out, weights = checks.reference_scaled_dot_product_attention(**k)
        return out.reshape(out.shape[0], -1), weights

    report = checks.check_scaled_dot_product_attention(flat)
    assert report.score < report.max_score
    assert "has shape" in str(report)


def test_a_crash_is_reported_with_its_error():
    def broken(query, key, value, params, num_heads):
        return params["W_x"]

    report = checks.check_multi_head_attention(broken)
    assert report.score == 0 and report.attempted
    assert "KeyError" in str(report)
