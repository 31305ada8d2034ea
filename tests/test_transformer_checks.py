"""The chapter 8 checks: a right answer scores full marks, typical mistakes are named, stubs score
0 with "not attempted", solutions that use the package or a whole-job routine are refused, the
experiment passes a good choice and fails a bad one, and the concept check explains wrong
answers."""

import numpy as np
import pytest

from seqlearn.checks import transformer as checks
from seqlearn.checks.core import CHECKS, EXERCISES, reference_allowed

# The checks refuse the package's own functions as answers; these tests submit the references.
pytestmark = pytest.mark.usefixtures("allow_reference")

IMPLEMENT = {
    "08-scaled-dot-product-attention": checks.check_scaled_dot_product_attention,
    "08-attention-backward": checks.check_attention_backward,
    "08-causal-mask": checks.check_causal_mask,
    "08-positional-encoding": checks.check_positional_encoding,
    "08-multi-head-attention": checks.check_multi_head_attention,
}
ALL_CHECKS = {**IMPLEMENT, "08-task-without-positions": checks.check_task_without_positions,
              "08-attention-concepts": checks.check_attention_concepts}
KINDS = {"08-task-without-positions": "experiment", "08-attention-concepts": "concept"}


def _stub(*args, **kwargs):
    raise NotImplementedError


def test_exercises_are_registered_with_kind_points_and_summary():
    for exercise_id, check in ALL_CHECKS.items():
        assert CHECKS[exercise_id] is check
        info = EXERCISES[exercise_id]
        assert info.kind == KINDS.get(exercise_id, "implement")
        assert info.summary
        assert check(_stub).max_score == info.points


# Independent solutions, written the way a student would (not via the package).
def _softmax(scores):
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return weights / weights.sum(axis=-1, keepdims=True)


def _sdpa(Q, K, V, mask=None):
    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    weights = _softmax(scores)
    return weights @ V, weights


def _backward(dout, Q, K, V, mask=None):
    _, A = _sdpa(Q, K, V, mask)
    dV = np.swapaxes(A, -1, -2) @ dout
    dA = dout @ np.swapaxes(V, -1, -2)
    dS = A * (dA - (dA * A).sum(axis=-1, keepdims=True)) / np.sqrt(Q.shape[-1])
    return dS @ K, np.swapaxes(dS, -1, -2) @ Q, dV


def _causal(Tq, Tk):
    return np.tril(np.ones((Tq, Tk), dtype=bool), k=Tk - Tq)


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


SOLUTIONS = {"08-scaled-dot-product-attention": _sdpa, "08-attention-backward": _backward,
             "08-causal-mask": _causal, "08-positional-encoding": _pe,
             "08-multi-head-attention": _mha}
REFERENCES = {"08-scaled-dot-product-attention": checks.reference_scaled_dot_product_attention,
              "08-attention-backward": checks.reference_attention_backward,
              "08-causal-mask": checks.reference_causal_mask,
              "08-positional-encoding": checks.reference_positional_encoding,
              "08-multi-head-attention": checks.reference_multi_head_attention}


@pytest.mark.parametrize("exercise_id", IMPLEMENT)
def test_independent_solutions_score_full_marks(exercise_id, capsys):
    report = IMPLEMENT[exercise_id](SOLUTIONS[exercise_id])
    assert report.passed and report.score == report.max_score == EXERCISES[exercise_id].points
    assert "PASSED" in capsys.readouterr().out


@pytest.mark.parametrize("exercise_id", IMPLEMENT)
def test_references_score_full_marks(exercise_id):
    assert IMPLEMENT[exercise_id](REFERENCES[exercise_id]).passed


@pytest.mark.parametrize("exercise_id", IMPLEMENT)
def test_the_student_function_is_called_with_keyword_arguments_only(exercise_id):
    # The grader's proxy for the student's function takes keyword arguments only.
    solution = SOLUTIONS[exercise_id]
    assert IMPLEMENT[exercise_id](lambda **kwargs: solution(**kwargs)).passed


def test_every_output_of_every_case_scores():
    assert checks.check_scaled_dot_product_attention(_sdpa).max_score == 12   # 6 cases × 2
    assert checks.check_attention_backward(_backward).max_score == 18         # 6 cases × 3
    assert checks.check_causal_mask(_causal).max_score == 6
    assert checks.check_positional_encoding(_pe).max_score == 5
    assert checks.check_multi_head_attention(_mha).max_score == 5


@pytest.mark.parametrize("exercise_id", ALL_CHECKS)
def test_stub_scores_zero_without_crashing(exercise_id):
    report = ALL_CHECKS[exercise_id](_stub)
    assert report.score == 0 and not report.attempted
    assert "not attempted yet" in str(report)


# -- scaled dot-product attention -----------------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    ({"scale": "none"}, "the scores are not scaled"),
    ({"scale": "d"}, "divided by d_k; the scale of equation (8.1) is 1/√d_k"),
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
    assert str(report).count("hint:") == 1


def test_unscaled_attention_scores_only_where_the_scale_cannot_matter():
    report = checks.check_scaled_dot_product_attention(
        lambda Q, K, V, mask=None: checks._sdpa_variant(Q, K, V, mask, scale="none"))
    # Tq = Tk = 1 scores (a lone key takes all the weight), and so may the case of huge scores,
    # whose softmax is one-hot with or without the scale; the three others fail.
    assert 2 <= report.score <= 4


def test_a_softmax_that_overflows_is_named():
    def naive(Q, K, V, mask=None):
        scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])
        if mask is not None:
            scores = np.where(mask, scores, -1e9)
        with np.errstate(over="ignore", invalid="ignore"):
            weights = np.exp(scores)
            weights = weights / weights.sum(axis=-1, keepdims=True)
        return weights @ V, weights

    report = checks.check_scaled_dot_product_attention(naive)
    assert report.score == report.max_score - 2
    assert "contains NaN or inf" in str(report)
    assert "subtract each row's largest score" in str(report)


def test_wrong_shape_is_reported():
    def flat(**k):
        out, weights = checks.reference_scaled_dot_product_attention(**k)
        return out.reshape(out.shape[0], -1), weights

    report = checks.check_scaled_dot_product_attention(flat)
    assert report.score < report.max_score
    assert "shape" in str(report)


def test_a_function_that_modifies_its_inputs_scores_nothing_for_it():
    def in_place(Q, K, V, mask=None):
        Q /= np.sqrt(Q.shape[-1])
        scores = Q @ np.swapaxes(K, -1, -2)
        if mask is not None:
            scores = np.where(mask, scores, -np.inf)
        weights = _softmax(scores)
        return weights @ V, weights

    report = checks.check_scaled_dot_product_attention(in_place)
    assert report.score == 0
    assert "modified its input(s) Q in place" in str(report)


# -- the backward pass ----------------------------------------------------------------------------

def test_the_reference_backward_matches_finite_differences(rng):
    Q, K = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 4))
    V, dout = rng.normal(size=(2, 5, 3)), rng.normal(size=(2, 3, 3))
    mask = np.tri(3, 5, k=2, dtype=bool)
    grads = checks.reference_attention_backward(dout=dout, Q=Q, K=K, V=V, mask=mask)
    inputs = {"Q": Q, "K": K, "V": V}
    for (name, x), grad in zip(inputs.items(), grads):
        numeric = np.zeros_like(x)
        for index in np.ndindex(x.shape):
            values = []
            for sign in (1, -1):
                shifted = {**inputs, name: x.copy()}
                shifted[name][index] += sign * 1e-6
                out, _ = _sdpa(**shifted, mask=mask)
                values.append((out * dout).sum())
            numeric[index] = (values[0] - values[1]) / 2e-6
        np.testing.assert_allclose(grad, numeric, atol=1e-8)


@pytest.mark.parametrize("kwargs, message", [
    ({"row_term": False}, "miss the second term of the softmax's Jacobian (8.2)"),
    ({"scale": False}, "miss the factor 1/√d_k"),
    ({"sign": -1.0}, "have the wrong sign"),
    ({"use_mask": False}, "the recomputed weights ignore the mask"),
    ({"transpose_dv": False}, "dV is transposed"),
    ({"transpose_dk": False}, "dK is computed from the gradient of the scores untransposed"),
])
def test_backward_mistakes_are_named(kwargs, message):
    report = checks.check_attention_backward(
        lambda dout, Q, K, V, mask=None:
        checks._attention_backward_variant(dout, Q, K, V, mask, **kwargs))
    assert report.score < report.max_score
    assert message in str(report)


def test_a_missing_jacobian_term_fails_even_with_one_key():
    report = checks.check_attention_backward(
        lambda dout, Q, K, V, mask=None:
        checks._attention_backward_variant(dout, Q, K, V, mask, row_term=False))
    one_key = next(line for line in report.lines if "Q(1, 1, 4)" in line)
    assert "dQ: off by" in one_key and "dK: off by" in one_key and "dV ok" in one_key


def test_a_backward_without_a_matching_mistake_points_to_the_equations():
    report = checks.check_attention_backward(
        lambda dout, Q, K, V, mask=None: tuple(2 * g for g in _backward(dout, Q, K, V, mask)))
    assert report.score < report.max_score
    assert "softmax's Jacobian (8.2)" in str(report) and "equation (8.1)" in str(report)


def test_autograd_and_the_package_are_refused():
    torch = pytest.importorskip("torch")

    def with_autograd(dout, Q, K, V, mask=None):
        q, k, v = (torch.tensor(a, requires_grad=True) for a in (Q, K, V))
        torch.nn.functional.scaled_dot_product_attention(q, k, v).backward(torch.tensor(dout))
        return q.grad.numpy(), k.grad.numpy(), v.grad.numpy()

    with reference_allowed(False):
        report = checks.check_attention_backward(with_autograd)
        assert report.score == 0 and report.refused
        assert "does the whole exercise" in str(report)
        report = checks.check_attention_backward(checks.reference_attention_backward)
        assert report.score == 0 and "course package" in str(report)


# -- the causal mask ------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, message", [
    ("top-left", "query i is treated as position i"),
    ("upper", "upper triangle"),
    ("strict", "the diagonal is excluded"),
    ("inverted", "the mask is inverted"),
    ("additive", "additive mask"),
])
def test_causal_mask_mistakes_are_named(kind, message):
    report = checks.check_causal_mask(lambda Tq, Tk: checks._causal_mask_variant(Tq, Tk, kind))
    assert report.score < report.max_score
    assert message in str(report)


def test_the_training_mask_alone_passes_only_the_square_cases():
    report = checks.check_causal_mask(lambda Tq, Tk: np.tri(Tq, Tk, dtype=bool))
    assert report.score == 3                      # Tq = Tk = 1, 2 and T; not Tq < Tk
    assert "query i is treated as position i" in str(report)


@pytest.mark.parametrize("make", [
    lambda Tq, Tk: _causal(Tq, Tk).astype(float),                     # float 0/1
    lambda Tq, Tk: _causal(Tq, Tk).astype(int).tolist(),              # a nested list of ints
])
def test_causal_mask_must_be_boolean(make):
    report = checks.check_causal_mask(make)
    assert report.score == 0 and report.attempted
    assert "return a bool array" in str(report)


def test_a_nested_list_of_bools_is_a_boolean_mask():
    assert checks.check_causal_mask(lambda Tq, Tk: _causal(Tq, Tk).tolist()).passed


def test_causal_mask_may_be_a_torch_tensor():
    torch = pytest.importorskip("torch")
    assert checks.check_causal_mask(
        lambda Tq, Tk: torch.ones(Tq, Tk, dtype=torch.bool).tril(Tk - Tq)).passed


def test_the_causal_mask_check_refuses_the_package():
    with reference_allowed(False):
        report = checks.check_causal_mask(checks.reference_causal_mask)
    assert report.refused and report.score == 0 and report.max_score == 6
    assert "course package" in str(report)


# -- positional encoding and multi-head attention -------------------------------------------------

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
    ({"split": "reshape"}, "reshape to (B, h, T, d_k) alone"),
    ({"project_out": False}, "output projection of equation (8.4) is missing"),
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


def test_hints_point_to_the_equations_without_giving_the_code():
    report = checks.check_multi_head_attention(lambda query, key, value, params, num_heads:
                                               np.zeros_like(query))
    assert "equations (8.3) and (8.4)" in str(report)
    assert "@" not in str(report)


def test_a_crash_is_reported_with_its_error():
    def broken(query, key, value, params, num_heads):
        return params["W_x"]

    report = checks.check_multi_head_attention(broken)
    assert report.score == 0 and report.attempted
    assert "KeyError" in str(report)


# -- the experiment -------------------------------------------------------------------------------

def test_the_experiment_passes_the_task_that_needs_no_positions(capsys):
    report = checks.check_task_without_positions(lambda: "sort")
    assert report.passed and report.score == 2
    assert "still learns 'sort'" in capsys.readouterr().out


def test_the_experiment_fails_a_task_that_needs_positions():
    report = checks.check_task_without_positions(lambda: "reverse")
    assert report.score == 0 and report.attempted
    assert "loses most of 'reverse'" in str(report)
    assert "sort" not in str(report)              # the hint does not give the answer away


@pytest.mark.parametrize("choice", ["shuffle", 3, None])
def test_the_experiment_refuses_a_choice_it_cannot_run(choice):
    report = checks.check_task_without_positions(lambda: choice)
    assert report.score == 0
    assert "cannot be run" in str(report)


def test_the_experiment_leaves_the_torch_state_as_it_was():
    torch = pytest.importorskip("torch")
    torch.manual_seed(123)
    threads, state = torch.get_num_threads(), torch.random.get_rng_state()
    accuracy = checks.positions_experiment("copy", True, seed=5)
    assert 0.0 <= accuracy <= 1.0
    assert torch.get_num_threads() == threads
    assert torch.equal(torch.random.get_rng_state(), state)


# -- the concept check ----------------------------------------------------------------------------

RIGHT = {"head_queries_shape": (2, 8, 10, 8), "weights_shape": (2, 8, 10, 10),
         "parameters": 16640, "causal_true": 55, "decoder_mask": "causal",
         "attention_cost_ratio": 4, "rnn_cost_ratio": 2, "attention_sequential_steps": 1}


def test_the_right_answers_score_full_marks():
    report = checks.check_attention_concepts(lambda: dict(RIGHT))
    assert report.passed and report.score == 8


def test_numpy_answers_count_like_python_ones():
    answers = {**RIGHT, "head_queries_shape": np.zeros((2, 8, 10, 8)).shape,
               "weights_shape": np.array([2, 8, 10, 10]), "parameters": np.int64(16640),
               "attention_cost_ratio": np.float64(4.0)}
    assert checks.check_attention_concepts(lambda: answers).passed


@pytest.mark.parametrize("key, wrong, message", [
    ("head_queries_shape", (2, 10, 8, 8), "before the transpose"),
    ("head_queries_shape", (2, 8, 10, 64), "d_k = D/h columns"),
    ("weights_shape", (2, 10, 10), "every head has its own weights"),
    ("parameters", 16384, "the four biases are missing"),
    ("parameters", 133120, "splitting into heads adds no parameters"),
    ("causal_true", 45, "the diagonal is True too"),
    ("decoder_mask", "both", "The causal mask alone is enough"),
    ("decoder_mask", "padding", "training would teach copying"),
    ("attention_cost_ratio", 2, "T² scores"),
    ("rnn_cost_ratio", 4, "one step per position"),
    ("attention_sequential_steps", 1000, "that is the RNN"),
])
def test_wrong_answers_are_explained(key, wrong, message):
    report = checks.check_attention_concepts(lambda: {**RIGHT, key: wrong})
    assert report.score == 7
    assert message in str(report)


def test_an_unexpected_answer_gets_a_hint_that_keeps_the_answer():
    report = checks.check_attention_concepts(lambda: {**RIGHT, "causal_true": 7})
    line = next(line for line in report.lines if line.startswith("causal_true"))
    assert "add that up" in line and "55" not in line


def test_missing_answers_and_a_non_dict_are_reported():
    report = checks.check_attention_concepts(lambda: {"parameters": 16640})
    assert report.score == 1 and "weights_shape: not answered" in str(report)
    report = checks.check_attention_concepts(lambda: [16640])
    assert report.score == 0 and "expected a dict" in str(report)
