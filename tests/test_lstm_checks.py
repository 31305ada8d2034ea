"""The chapter 6 checks: right answers score full marks, typical mistakes are named, stubs score 0,
whole-job routines are refused, the concept answers are explained and the experiment separates a
good forget bias from a bad one."""

import math

import numpy as np
import pytest
import torch

from seqlearn.checks import lstm as checks
from seqlearn.checks.core import CHECKS, EXERCISES

from conftest import ROOT, cell_source, load_notebook

KINDS = {"06-lstm-cell-forward": ("implement", 10), "06-gru-cell": ("implement", 5),
         "06-lstm-step-backward": ("implement", 30), "06-lstm-backward": ("implement", 30),
         "06-lstm-gru-concepts": ("concept", 6), "06-forget-bias": ("experiment", 2)}
#: chapter 6b's exercises, checked by the same module
KINDS_6B = {"06-lstm-block-step": ("implement", 10), "06-lstm-block-backward": ("implement", 30),
            "06-peephole-clock": ("experiment", 5), "06-tricks-concepts": ("concept", 5)}


def _stub(**kwargs):
    raise NotImplementedError


def test_exercise_ids_are_registered_with_kind_points_and_summary():
    for exercise_id, (kind, points) in {**KINDS, **KINDS_6B}.items():
        assert exercise_id in CHECKS
        info = EXERCISES[exercise_id]
        assert (info.kind, info.points) == (kind, points) and info.summary
    for exercise_id in ("06-lstm-step-backward", "06-lstm-backward"):
        assert {"backward", "grad", "LSTM"} <= set(EXERCISES[exercise_id].forbidden)


# -- independent solutions (written here, not the package's), references, stubs -----------------

def _lstm_cell(x_t, h_prev, c_prev, W_x, W_h, b):
    return checks._lstm_cell_variant(x_t, h_prev, c_prev, W_x, W_h, b)


def _gru_cell(x_t, h_prev, W_x, W_h, b_x, b_h):
    return checks._gru_cell_variant(x_t, h_prev, W_x, W_h, b_x, b_h)


def _lstm_step_backward(dh_t, dc_t, x_t, h_prev, c_prev, W_x, W_h, b):
    return checks._lstm_step_backward_variant(dh_t, dc_t, x_t, h_prev, c_prev, W_x, W_h, b)


def _lstm_backward(dh, x, h0, c0, W_x, W_h, b):
    return checks._lstm_backward_variant(dh, x, h0, c0, W_x, W_h, b)


IMPLEMENT = [(checks.check_lstm_cell, _lstm_cell, checks.reference_lstm_cell, 10),
             (checks.check_gru_cell, _gru_cell, checks.reference_gru_cell, 5),
             (checks.check_lstm_step_backward, _lstm_step_backward,
              checks.reference_lstm_step_backward, 30),
             (checks.check_lstm_backward, _lstm_backward, checks.reference_lstm_backward, 30)]


@pytest.mark.usefixtures("allow_reference")
@pytest.mark.parametrize("check, solution, reference, points", IMPLEMENT)
def test_independent_solutions_and_references_score_full_marks(check, solution, reference,
                                                               points, capsys):
    report = check(solution)
    assert report.passed and report.score == report.max_score == points
    assert check(reference).passed
    out = capsys.readouterr().out
    assert "PASSED" in out and f"Score: {points}/{points}" in out and "hint:" not in out


@pytest.mark.parametrize("check", [c for c, *_ in IMPLEMENT]
                         + [checks.check_lstm_gru_concepts, checks.check_forget_bias])
def test_stub_scores_zero_without_crashing(check):
    report = check(_stub)
    assert report.score == 0 and not report.attempted
    assert "not attempted" in str(report)


def test_the_backward_of_the_reference_matches_finite_differences():
    # The sequence check's reference is the package's lstm_backward: spot-check it here too.
    case = checks._lstm_backward_cases(np.random.default_rng(0))[0]
    dx, dh0, dc0, grads = checks.reference_lstm_backward(**case)

    def loss(**k):
        params = {"W_x": k["W_x"], "W_h": k["W_h"], "b": k["b"]}
        h, _, _ = checks._lstm_forward(k["x"], (k["h0"], k["c0"]), params)
        return float(np.sum(h * k["dh"]))

    for name, analytic in [("x", dx), ("h0", dh0), ("c0", dc0), ("W_h", grads["W_h"])]:
        index = tuple(0 for _ in analytic.shape)
        plus, minus = ({**case, name: case[name].copy()} for _ in range(2))
        plus[name][index] += 1e-6
        minus[name][index] -= 1e-6
        numeric = (loss(**plus) - loss(**minus)) / 2e-6
        assert abs(numeric - analytic[index]) < 1e-6


# -- mistakes are named --------------------------------------------------------------------------

@pytest.mark.usefixtures("allow_reference")
@pytest.mark.parametrize("kwargs, message", [
    ({"order": "ifog"}, "i, f, o, g"),
    ({"squash_cell": False}, "tanh of the cell is missing"),
    ({"read": "c_prev"}, "not the old one c_{t-1}"),
    ({"use_input_gate": False}, "without the input gate"),
    ({"forget": "tanh"}, "forget gate is a sigmoid"),
])
def test_lstm_cell_mistakes_are_named(kwargs, message):
    report = checks.check_lstm_cell(lambda **k: checks._lstm_cell_variant(**k, **kwargs))
    assert report.score < report.max_score
    assert message in str(report)


@pytest.mark.usefixtures("allow_reference")
@pytest.mark.parametrize("kwargs, message", [
    ({"swap_update": True}, "roles of u and 1 − u are swapped"),
    ({"reset_before": True}, "before the product"),
    ({"no_reset": True}, "reset gate is missing"),
    ({"bias_outside_reset": True}, "multiplies the recurrent bias b_hn too"),
])
def test_gru_mistakes_are_named(kwargs, message):
    report = checks.check_gru_cell(lambda **k: checks._gru_cell_variant(**k, **kwargs))
    assert report.score == 0
    assert message in str(report)


@pytest.mark.usefixtures("allow_reference")
@pytest.mark.parametrize("kwargs, message", [
    ({"skip_h_to_c": True}, "comes through h_t (equation 6.6)"),
    ({"keep_dc": True}, "multiplied by it too"),
    ({"ignore_dc": True}, "dc_t (the gradient arriving"),
    ({"f_uses_c_t": True}, "the forget gate multiplies c_{t-1}, not c_t"),
    ({"batch_mean": True}, "divided by the batch size"),
])
def test_lstm_step_backward_mistakes_are_named(kwargs, message):
    report = checks.check_lstm_step_backward(
        lambda **k: checks._lstm_step_backward_variant(**k, **kwargs))
    assert report.score < report.max_score
    assert message in str(report)


@pytest.mark.usefixtures("allow_reference")
@pytest.mark.parametrize("kwargs, message", [
    ({"carry_dh": False}, "must be added to dh[:, t-1]"),
    ({"carry_dc": False}, "sends back to c_{t-1} is dropped"),
    ({"dc_forget": False}, "is multiplied by the forget gate"),
    ({"h_to_c": False}, "comes through h_t (equation 6.6)"),
    ({"W_h_reads": "h_t"}, "h_t where h_{t-1} belongs"),
    ({"f_reads": "c_t"}, "the forget gate multiplies c_{t-1}, not c_t"),
    ({"accumulate": False}, "sum over the steps"),
    ({"batch_mean": True}, "divided by the batch size"),
])
def test_lstm_backward_mistakes_are_named(kwargs, message):
    report = checks.check_lstm_backward(lambda **k: checks._lstm_backward_variant(**k, **kwargs))
    assert report.score < report.max_score
    assert message in str(report)
    assert str(report).count("hint:") == 1


@pytest.mark.usefixtures("allow_reference")
def test_a_mistake_in_one_output_leaves_the_others_their_points_and_names_the_gate_block():
    report = checks.check_lstm_backward(
        lambda **k: checks._lstm_backward_variant(**k, W_h_reads="h_t"))
    text = str(report)
    assert "h_t where h_{t-1} belongs" in text
    assert "dx ok" in text and "grads['W_x'] ok" in text
    assert report.score == report.max_score - len(checks._SEQ_SHAPES)   # grads['W_h'] only
    forget = str(checks.check_lstm_backward(
        lambda **k: checks._lstm_backward_variant(**k, f_reads="c_t")))
    assert "wrong in the block(s) of f" in forget


@pytest.mark.usefixtures("allow_reference")
def test_edge_cases_separate_almost_right_answers():
    # Forgetting to carry the gradients between steps is right for T = 1 only: partial credit,
    # and the T = 1 case passes while the longer ones fail.
    report = checks.check_lstm_backward(
        lambda **k: checks._lstm_backward_variant(**k, carry_dh=False, carry_dc=False))
    assert 0 < report.score < report.max_score
    lines = [line for line in report.lines if line.startswith("case")]
    assert "off by" not in lines[1] and all("off by" in lines[k] for k in (0, 2, 4))


@pytest.mark.usefixtures("allow_reference")
def test_wrong_shape_and_a_crash_are_reported():
    def flat(**k):
        h, c = checks.reference_lstm_cell(**k)
        return h.ravel(), c

    report = checks.check_lstm_cell(flat)
    assert report.score < report.max_score and "shape" in str(report)

    def broken(**k):
        raise KeyError("oops")

    report = checks.check_gru_cell(broken)
    assert report.score == 0 and report.attempted and "KeyError" in str(report)


@pytest.mark.usefixtures("allow_reference")
def test_a_backward_that_changes_its_inputs_loses_the_case():
    def in_place(dh, x, h0, c0, W_x, W_h, b):
        out = checks._lstm_backward_variant(dh, x, h0, c0, W_x, W_h, b)
        dh *= 2.0
        return out

    report = checks.check_lstm_backward(in_place)
    assert report.score == 0 and "modified its input(s) dh" in str(report)


# -- whole-job routines are refused (no allow_reference here) ----------------------------------

def test_autograd_and_the_builtin_cells_are_refused():
    def autograd_backward(dh, x, h0, c0, W_x, W_h, b):
        W = torch.tensor(W_x, requires_grad=True)
        (torch.tensor(x[:, 0]) @ W).sum().backward()
        return W.grad

    def builtin_cell(x_t, h_prev, c_prev, W_x, W_h, b):
        return torch.lstm_cell(torch.tensor(x_t), (torch.tensor(h_prev), torch.tensor(c_prev)),
                               torch.tensor(W_x.T), torch.tensor(W_h.T))

    def builtin_gru(x_t, h_prev, W_x, W_h, b_x, b_h):
        return torch.gru_cell(torch.tensor(x_t), torch.tensor(h_prev), torch.tensor(W_x.T),
                              torch.tensor(W_h.T))

    for check, fn, name in [(checks.check_lstm_backward, autograd_backward, "backward"),
                            (checks.check_lstm_cell, builtin_cell, "lstm_cell"),
                            (checks.check_gru_cell, builtin_gru, "gru_cell")]:
        report = check(fn)
        assert report.refused and report.score == 0 and name in str(report)
    report = checks.check_lstm_step_backward(checks.reference_lstm_step_backward)
    assert report.refused and "course package" in str(report)


# -- concept ---------------------------------------------------------------------------------------

def _right_answers():
    D, H = 10, 20   # checks.COUNT_D, checks.COUNT_H (the checks refuse answers using the package)
    return {"lstm_params": 4 * H * (D + H + 1), "gru_params": 3 * H * (D + H + 2),
            "nn_lstm_params": sum(p.numel() for p in torch.nn.LSTM(D, H).parameters()),
            "gru_as_rnn": (0, 1), "gru_copy": 1, "lstm_copy": [0.0, 1.0]}


def test_concept_right_answers_score_full_marks():
    assert (checks.COUNT_D, checks.COUNT_H) == (10, 20)
    assert _right_answers()["gru_params"] == sum(
        p.numel() for p in torch.nn.GRU(checks.COUNT_D, checks.COUNT_H).parameters())
    report = checks.check_lstm_gru_concepts(_right_answers)
    assert report.passed and report.score == 6


@pytest.mark.parametrize("key, wrong, message", [
    ("lstm_params", 2400, "the bias b (one per block) is missing"),
    ("lstm_params", 620, "that is one block"),
    ("lstm_params", 2560, "nn.LSTM's count"),
    ("gru_params", 1860, "two bias vectors, b_x and b_h"),
    ("gru_params", 2480, "that is the LSTM's count"),
    ("nn_lstm_params", 2480, "bias_ih and bias_hh"),
    ("gru_as_rnn", (1, 1), "that is the copy, not the RNN"),
    ("gru_as_rnn", (0, 0), "a layer without memory"),
    ("gru_copy", 0, "replaced, not copied"),
    ("lstm_copy", (1, 1), "the integrator of equation (6.1)"),
    ("lstm_copy", (1, 0), "the order is (i, f)"),
])
def test_concept_wrong_answers_are_explained(key, wrong, message):
    answers = {**_right_answers(), key: wrong}
    report = checks.check_lstm_gru_concepts(lambda: answers)
    assert report.score == 5
    assert message in str(report)


def test_concept_hints_do_not_give_the_answers_away():
    for q in checks._CONCEPT_QUESTIONS:
        assert q["answer"] not in q["explain"]
        assert str(q["answer"]) not in q["hint"]
    report = checks.check_lstm_gru_concepts(lambda: {**_right_answers(), "lstm_params": 7})
    assert "count the entries of W_x, W_h and b" in str(report)


# -- experiment ------------------------------------------------------------------------------------

@pytest.mark.parametrize("bias", [5.0, 7])
def test_a_good_forget_bias_bridges_the_lag_for_both_seeds(bias):
    report = checks.check_forget_bias(lambda: bias)
    assert report.passed and report.score == 2
    assert "solved lag 60" in str(report)


@pytest.mark.parametrize("bias", [0.0, -2.0])
def test_no_or_a_negative_forget_bias_fails_for_both_seeds(bias):
    report = checks.check_forget_bias(lambda: bias)
    assert report.attempted and report.score == 0
    text = str(report)
    assert "not solved in 400 steps" in text and "hint:" in text


@pytest.mark.parametrize("choice", ["five", math.nan, True, 1e9])
def test_a_choice_that_is_not_a_bias_cannot_be_run(choice):
    report = checks.check_forget_bias(lambda: choice)
    assert report.score == 0 and "cannot be run" in str(report)


# -- the notebook's solution cells are self-contained and score full marks ------------------------

def test_the_chapter_solution_cells_score_full_marks_on_their_own():
    nb = load_notebook(ROOT / "book" / "06_lstm_gru.ipynb")
    solutions = [c for c in nb["cells"] if "solution" in c["metadata"].get("tags", [])]
    assert {c["metadata"]["exercise_id"] for c in solutions} == set(KINDS)
    for cell in solutions:
        source = cell_source(cell)
        assert "seqlearn" not in source
        namespace = {"np": np, "torch": torch, "math": math}
        exec(compile(source, cell["metadata"]["exercise_id"], "exec"), namespace)
        function = next(v for k, v in namespace.items()
                        if callable(v) and getattr(v, "__code__", None)
                        and v.__code__.co_filename == cell["metadata"]["exercise_id"])
        report = CHECKS[cell["metadata"]["exercise_id"]](function)
        assert report.passed, str(report)


# -- chapter 6b: memory blocks, the peephole clock, the tricks' concepts ---------------------------

def _block_step(x_t, h_prev, c_prev, W_x, W_h, b, block_size):
    """Written independently of the check's variant: a per-cell loop over the gates."""
    B, H = h_prev.shape
    K = H // block_size
    a = x_t @ W_x + h_prev @ W_h + b
    h_t, c_t = np.empty((B, H)), np.empty((B, H))
    for cell in range(H):
        k = cell // block_size
        i, f = 1 / (1 + np.exp(-a[:, k])), 1 / (1 + np.exp(-a[:, K + k]))
        g, o = np.tanh(a[:, 2 * K + cell]), 1 / (1 + np.exp(-a[:, 2 * K + H + k]))
        c_t[:, cell] = f * c_prev[:, cell] + i * g
        h_t[:, cell] = o * np.tanh(c_t[:, cell])
    return h_t, c_t


def _block_step_backward(dh_t, dc_t, x_t, h_prev, c_prev, W_x, W_h, b, block_size):
    B, H = h_prev.shape
    K = H // block_size
    a = x_t @ W_x + h_prev @ W_h + b
    da = np.zeros_like(a)
    dc_prev = np.empty((B, H))
    for cell in range(H):
        k = cell // block_size
        i, f = 1 / (1 + np.exp(-a[:, k])), 1 / (1 + np.exp(-a[:, K + k]))
        g, o = np.tanh(a[:, 2 * K + cell]), 1 / (1 + np.exp(-a[:, 2 * K + H + k]))
        tanh_c = np.tanh(f * c_prev[:, cell] + i * g)
        dc = dc_t[:, cell] + dh_t[:, cell] * o * (1 - tanh_c**2)
        da[:, k] += dc * g * i * (1 - i)
        da[:, K + k] += dc * c_prev[:, cell] * f * (1 - f)
        da[:, 2 * K + cell] = dc * i * (1 - g**2)
        da[:, 2 * K + H + k] += dh_t[:, cell] * tanh_c * o * (1 - o)
        dc_prev[:, cell] = dc * f
    return da @ W_x.T, da @ W_h.T, dc_prev, x_t.T @ da, h_prev.T @ da, da.sum(axis=0)


def _clock():
    return {"W_x": np.zeros((1, 4)), "W_h": np.zeros((1, 4)),
            "b": np.array([10.0, 187.5, math.atanh(0.125), -187.5]),
            "p_i": np.zeros(1), "p_f": np.array([-200.0]), "p_o": np.array([200.0])}


def _tricks_answers():
    return {"block_params": 1085, "gru_kept": 0.8 ** 10, "lstm_kept": 1.0,
            "forget_bias_100": 5, "blind_gates": 0}


@pytest.mark.usefixtures("allow_reference")
@pytest.mark.parametrize("check, solution, reference, points", [
    (checks.check_lstm_block_step, _block_step, checks.reference_lstm_block_step, 10),
    (checks.check_lstm_block_step_backward, _block_step_backward,
     checks.reference_lstm_block_step_backward, 30)])
def test_block_solutions_and_references_score_full_marks(check, solution, reference, points):
    assert check(solution).score == points
    assert check(reference).score == points


def test_blocks_of_one_cell_are_chapter_6s_lstm():
    rng = np.random.default_rng(0)
    case = checks._block_cases(rng)[2]
    assert case["block_size"] == 1
    args = {k: v for k, v in case.items() if k != "block_size"}
    for got, want in zip(checks.reference_lstm_block_step(**case),
                         checks.reference_lstm_cell(**args)):
        np.testing.assert_allclose(got, want, atol=1e-12)


def test_block_backward_reference_matches_finite_differences():
    from seqlearn.gradcheck import numerical_gradient, relative_error
    case = checks._block_backward_cases(np.random.default_rng(1))[4]
    dh, dc = case["dh_t"], case["dc_t"]
    forward = {k: v for k, v in case.items() if k not in ("dh_t", "dc_t")}
    outputs = checks.reference_lstm_block_step_backward(**case)

    def loss():
        h, c = checks.reference_lstm_block_step(**forward)
        return np.sum(h * dh) + np.sum(c * dc)

    for name, got in zip(("x_t", "h_prev", "c_prev", "W_x", "W_h", "b"), outputs):
        assert relative_error(got, numerical_gradient(loss, forward[name])) < 1e-6, name


@pytest.mark.usefixtures("allow_reference")
@pytest.mark.parametrize("kwargs, message", [
    ({"spread": "tile"}, "np.repeat"),
    ({"order": "ifog"}, "the candidate comes before the output gate"),
])
def test_block_step_mistakes_are_named(kwargs, message):
    report = checks.check_lstm_block_step(lambda **k: checks._block_step_variant(**k, **kwargs))
    assert report.score < report.max_score and message in str(report)


@pytest.mark.usefixtures("allow_reference")
@pytest.mark.parametrize("combine, message", [("first", "from the first cell of its block"),
                                              ("mean", "averaged over the cells")])
def test_block_backward_mistakes_are_named(combine, message):
    report = checks.check_lstm_block_step_backward(
        lambda **k: checks._block_backward_variant(**k, combine=combine))
    assert report.score < report.max_score and message in str(report)
    # dx_t, dh_prev and dc_prev of blocks of one cell are still right
    assert report.score >= 6


@pytest.mark.parametrize("check", [checks.check_lstm_block_step,
                                   checks.check_lstm_block_step_backward,
                                   checks.check_peephole_clock, checks.check_tricks_concepts])
def test_6b_stubs_score_zero_without_crashing(check):
    report = check(_stub)
    assert report.score == 0 and not report.attempted


def test_the_hand_made_clock_ticks_on_time():
    report = checks.check_peephole_clock(_clock)
    assert report.passed and report.score == 5
    h, c = checks.run_clock(_clock())
    assert np.flatnonzero(h > 0.5).tolist() == [7, 15, 23, 31, 39]


@pytest.mark.parametrize("change, score, message", [
    ({"p_f": np.zeros(1)}, 1, "a spike too early"),        # never reset: always on after step 8
    ({"p_o": np.zeros(1)}, 0, "no spike at the last step"),  # the output gate never opens
])
def test_a_clock_without_its_peepholes_loses_points(change, score, message):
    report = checks.check_peephole_clock(lambda: {**_clock(), **change})
    assert report.score == score and message in str(report) and "hint:" in str(report)


@pytest.mark.parametrize("choice", [None, {"W_x": np.zeros((1, 4))},
                                    {**_clock(), "b": np.zeros(3)},
                                    {**_clock(), "p_o": np.array([np.inf])}])
def test_a_clock_that_cannot_run_scores_zero(choice):
    report = checks.check_peephole_clock(lambda: choice)
    assert report.score == 0 and "cannot be run" in str(report)


def test_tricks_concepts_right_and_wrong():
    assert checks.check_tricks_concepts(_tricks_answers).score == 5
    params = checks.BLOCK_D, checks.BLOCK_H, checks.BLOCK_S
    from seqlearn.torch.lstm import LSTM
    assert _tricks_answers()["block_params"] == sum(
        p.numel() for p in LSTM(params[0], params[1], block_size=params[2]).parameters())
    for key, wrong, message in [("block_params", 2480, "without blocks"),
                                ("block_params", 620, "the candidate g is not shared"),
                                ("gru_kept", 1.0, "an LSTM cell with f = 1"),
                                ("forget_bias_100", 1, "not enough for 100 steps"),
                                ("blind_gates", 1.0, "only through")]:
        report = checks.check_tricks_concepts(lambda: {**_tricks_answers(), key: wrong})
        assert report.score == 4 and message in str(report), key
    for q in checks._TRICKS_QUESTIONS:
        assert str(q["answer"]) not in q["hint"]


def test_the_6b_solution_cells_score_full_marks_on_their_own():
    path = ROOT / "book" / "06b_lstm_tricks.ipynb"
    nb = load_notebook(path)
    solutions = [c for c in nb["cells"] if "solution" in c["metadata"].get("tags", [])]
    assert {c["metadata"]["exercise_id"] for c in solutions} == set(KINDS_6B)
    for cell in solutions:
        source = cell_source(cell)
        assert "seqlearn" not in source
        namespace = {"np": np, "torch": torch, "math": math}
        exec(compile(source, cell["metadata"]["exercise_id"], "exec"), namespace)
        function = next(v for k, v in namespace.items()
                        if callable(v) and getattr(v, "__code__", None)
                        and v.__code__.co_filename == cell["metadata"]["exercise_id"])
        report = CHECKS[cell["metadata"]["exercise_id"]](function)
        assert report.passed, str(report)
