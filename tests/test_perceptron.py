"""Neurons, activations, the perceptron rule (NumPy and torch), the toy data and chapter 2's checks."""

import numpy as np
import pytest
import torch

import seqlearn
from seqlearn.checks import perceptron as checks
from seqlearn.data.synthetic import make_separable_2d, make_xor
from seqlearn.gradcheck import numerical_gradient, relative_error
from seqlearn.numpy import activations as act
from seqlearn.numpy import perceptron as npp
from seqlearn.torch import perceptron as tpp

# The checks refuse the package's own functions as answers; these tests submit the references.
pytestmark = pytest.mark.usefixtures("allow_reference")

# --- activations -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "identity"])
def test_activation_derivative_matches_finite_differences_and_autograd(name):
    f, df = act.get_activation(name), act.get_derivative(name)
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 5))
    a[np.abs(a) < 1e-3] = 0.5  # keep relu's kink away from the finite-difference stencil
    analytic = df(f(a))
    weights = rng.standard_normal(a.shape)
    numeric = numerical_gradient(lambda: float(np.sum(weights * f(a))), a)
    assert relative_error(numeric, weights * analytic) < 1e-6

    a_t = torch.tensor(a, requires_grad=True)
    y_t = tpp.get_activation(name)(a_t)
    assert np.abs(y_t.detach().numpy() - f(a)).max() < 1e-12
    (y_t * torch.tensor(weights)).sum().backward()
    assert relative_error(a_t.grad.numpy(), weights * analytic) < 1e-10


def test_sigmoid_is_stable_for_large_inputs_and_step_thresholds_at_zero():
    a = np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0])
    with np.errstate(over="raise"):
        y = act.sigmoid(a)
    assert np.all(np.isfinite(y)) and y[0] == 0.0 and y[-1] == 1.0 and y[2] == 0.5
    assert act.step(np.array([-0.1, 0.0, 0.1])).tolist() == [0.0, 1.0, 1.0]


def test_get_activation_rejects_unknown_names():
    with pytest.raises(ValueError, match="activation"):
        act.get_activation("softsign")
    with pytest.raises(ValueError, match="step has no useful derivative"):
        act.get_derivative("step")
    with pytest.raises(ValueError, match="activation"):
        tpp.get_activation("gelu")
    with pytest.raises(ValueError, match="activation"):
        npp.get_activation(3)


def test_both_halves_have_the_same_activations():
    assert npp.ACTIVATIONS is act.ACTIVATIONS and npp.get_activation is act.get_activation
    assert sorted(npp.ACTIVATIONS) == sorted(tpp.ACTIVATIONS)
    assert sorted(act.DERIVATIVES) == sorted(set(act.ACTIVATIONS) - {"step"})
    a = np.linspace(-3, 3, 13)
    for name in npp.ACTIVATIONS:
        want = npp.get_activation(name)(a)
        got = tpp.get_activation(name)(torch.tensor(a)).numpy()
        assert np.abs(got - want).max() < 1e-12, name


# --- a layer of neurons ------------------------------------------------------------------------


@pytest.mark.parametrize("activation", ["step", "sigmoid", "tanh", "relu", "identity"])
def test_layer_activity_numpy_matches_torch(activation):
    rng = np.random.default_rng(1)
    x, W, b = rng.standard_normal((2, 6, 3)), rng.standard_normal((3, 4)), rng.standard_normal(4)
    a, y = npp.layer_activity(x, W, b, activation)
    assert a.shape == y.shape == (2, 6, 4)
    assert np.allclose(a, x @ W + b)
    a_t, y_t = tpp.layer_activity(torch.tensor(x), torch.tensor(W), torch.tensor(b), activation)
    assert np.abs(a_t.numpy() - a).max() < 1e-10
    assert np.abs(y_t.numpy() - y).max() < 1e-10


def test_layer_activity_bad_input():
    W, b = np.ones((3, 2)), np.zeros(2)
    with pytest.raises(ValueError, match="x"):
        npp.layer_activity(np.ones((5, 4)), W, b)
    with pytest.raises(ValueError, match="b"):
        npp.layer_activity(np.ones((5, 3)), W, np.zeros(3))
    with pytest.raises(TypeError, match="x"):
        npp.layer_activity("not numbers", W, b)
    with pytest.raises(ValueError, match="activation"):
        npp.layer_activity(np.ones((5, 3)), W, b, activation="sign")
    with pytest.raises(ValueError, match="x"):
        tpp.layer_activity(torch.ones(5, 4), torch.ones(3, 2), torch.zeros(2))
    with pytest.raises(TypeError, match="x"):
        tpp.layer_activity(torch.ones(5, 3, dtype=torch.long), torch.ones(3, 2), torch.zeros(2))


# --- the perceptron rule -----------------------------------------------------------------------


def test_perceptron_epoch_by_hand():
    x = np.array([[1.0, 2.0], [-1.0, 0.5], [2.0, -1.0]])
    t = np.array([1.0, -1.0, -1.0])
    # n=1: a=0 -> mistake, w=(1,2), b=1; n=2: a=-1+1+1=1, t=-1 -> mistake, w=(2,1.5), b=0;
    # n=3: a=4-1.5=2.5, t=-1 -> mistake, w=(0,2.5), b=-1.
    w, b, mistakes = npp.perceptron_epoch(x, t, np.zeros(2), 0.0, lr=1.0)
    assert np.allclose(w, [0.0, 2.5]) and b == -1.0 and mistakes == 3
    # epoch 2: x_1 fine (a=4); x_2: a=0.25, t=-1 -> w=(1,2), b=-2; x_3 fine (a=-2)
    w, b, mistakes = npp.perceptron_epoch(x, t, w, b, lr=1.0)
    assert np.allclose(w, [1.0, 2.0]) and b == -2.0 and mistakes == 1
    w3, b3, mistakes = npp.perceptron_epoch(x, t, w, b, lr=1.0)
    assert mistakes == 0 and np.array_equal(w3, w) and b3 == b  # all on the right side


def test_perceptron_epoch_does_not_modify_its_arguments():
    x, t = make_separable_2d(10, rng=3)
    w = np.zeros(2)
    npp.perceptron_epoch(x, t, w, 0.0)
    assert np.all(w == 0)


def test_perceptron_forward_and_predict_numpy_match_torch():
    rng = np.random.default_rng(6)
    x, w, b = rng.standard_normal((8, 3)), rng.standard_normal(3), -0.4
    a = npp.perceptron_forward(x, w, b)
    assert a.shape == (8,) and np.allclose(a, x @ w + b)
    labels = npp.perceptron_predict(x, w, b)
    assert np.array_equal(labels, np.where(a >= 0, 1.0, -1.0)) and {-1.0, 1.0} == set(labels)
    model = tpp.Perceptron.from_numpy(w, b)
    assert np.abs(model(torch.tensor(x)).detach().numpy() - a).max() < 1e-12
    got = tpp.perceptron_predict(torch.tensor(x), torch.tensor(w), torch.tensor(b))
    assert np.array_equal(got.numpy(), labels)
    assert np.array_equal(model.predict(torch.tensor(x)).detach().numpy(), labels)
    w_back, b_back = model.to_numpy()
    assert np.array_equal(w_back, w) and b_back == b


def test_perceptron_epoch_numpy_matches_torch_and_module():
    x, t = make_separable_2d(40, rng=4, margin=0.05)
    rng = np.random.default_rng(4)
    w0, b0 = rng.standard_normal(2), 0.3
    w, b, mistakes = npp.perceptron_epoch(x, t, w0, b0, lr=0.5)
    w_t, b_t, mistakes_t = tpp.perceptron_epoch(torch.tensor(x), torch.tensor(t), torch.tensor(w0),
                                                b0, lr=0.5)
    assert mistakes == mistakes_t > 0
    assert np.abs(w_t.numpy() - w).max() < 1e-10 and abs(float(b_t) - b) < 1e-10
    model = tpp.Perceptron.from_numpy(w0, b0)
    assert model.train_epoch(torch.tensor(x), torch.tensor(t), lr=0.5) == mistakes
    w_m, b_m = model.to_numpy()
    assert np.abs(w_m - w).max() < 1e-10 and abs(b_m - b) < 1e-10
    assert np.all(model.predict(torch.tensor(x)).numpy() == npp.perceptron_predict(x, w, b))


def test_perceptron_module_matches_nn_linear_float32():
    rng = np.random.default_rng(5)
    model = tpp.Perceptron.from_numpy(rng.standard_normal(3), 0.7, dtype=torch.float32)
    linear = model.to_torch_builtin()
    x = torch.tensor(rng.standard_normal((9, 3)), dtype=torch.float32)
    assert (linear(x)[:, 0] - model(x)).abs().max() < 1e-5
    back = tpp.Perceptron.from_torch_builtin(linear)
    assert (back(x) - model(x)).abs().max() < 1e-6
    with pytest.raises(TypeError, match="linear"):
        tpp.Perceptron.from_torch_builtin(torch.nn.Linear(3, 2))


@pytest.mark.parametrize("seed,margin", [(0, 0.1), (1, 0.05), (2, 0.2), (3, 0.02)])
def test_perceptron_converges_on_separable_data(seed, margin):
    x, t = make_separable_2d(200, rng=seed, margin=margin)
    run = npp.train_perceptron(x, t, lr=1.0, max_epochs=1000, rng=seed)
    assert run.converged and run.mistakes[-1] == 0
    assert np.all(npp.perceptron_predict(x, run.w, run.b) == t)
    # Novikoff: updates <= (R/γ)²; with the bias as an input of value 1, R² <= 3 and
    # γ >= margin / sqrt(1 + c²) >= margin / sqrt(1.09) for the generating line.
    assert sum(run.mistakes) <= 3 * 1.09 / margin**2
    assert len(run.weights) == len(run.biases) == len(run.mistakes) + 1


def test_perceptron_from_zero_is_invariant_to_the_learning_rate():
    x, t = make_separable_2d(100, rng=7)
    run_a = npp.train_perceptron(x, t, lr=1.0, rng=0)
    run_b = npp.train_perceptron(x, t, lr=0.01, rng=0)
    assert run_a.mistakes == run_b.mistakes
    assert np.allclose(run_a.w * 0.01, run_b.w) and np.isclose(run_a.b * 0.01, run_b.b)


def test_train_perceptron_repeats_after_seqlearn_seed():
    x, t = make_separable_2d(60, rng=9, margin=0.02)
    runs = []
    for n in (5, 5, 6):
        seqlearn.seed(n)
        runs.append(npp.train_perceptron(x, t, max_epochs=3))  # rng=None: NumPy's global state
    assert runs[0].mistakes == runs[1].mistakes and np.array_equal(runs[0].w, runs[1].w)
    assert not np.array_equal(runs[0].w, runs[2].w)  # the visiting order depends on the seed


def test_perceptron_never_solves_xor():
    x, t = make_xor()
    run = npp.train_perceptron(x, t, max_epochs=200, rng=0)
    assert not run.converged and min(run.mistakes) > 0 and len(run.mistakes) == 200


def test_perceptron_bad_input():
    x, t = make_separable_2d(10, rng=0)
    with pytest.raises(ValueError, match="t"):
        npp.train_perceptron(x, (t > 0).astype(int))  # labels 0/1 instead of ±1
    with pytest.raises(ValueError, match="t"):
        npp.perceptron_epoch(x, t[:5], np.zeros(2), 0.0)
    with pytest.raises(ValueError, match="x"):
        npp.train_perceptron(x[:, 0], t)
    with pytest.raises(ValueError, match="max_epochs"):
        npp.train_perceptron(x, t, max_epochs=0)
    with pytest.raises(ValueError, match="lr"):
        npp.perceptron_epoch(x, t, np.zeros(2), 0.0, lr=-1.0)
    with pytest.raises(TypeError, match="lr"):
        tpp.perceptron_epoch(torch.tensor(x), torch.tensor(t), torch.zeros(2, dtype=torch.float64),
                             0.0, lr="fast")
    with pytest.raises(ValueError, match="b"):
        npp.perceptron_forward(x, np.zeros(2), np.zeros(2))
    with pytest.raises(ValueError, match="w"):
        tpp.perceptron_predict(torch.tensor(x), torch.zeros(2, 2), 0.0)
    with pytest.raises(ValueError, match="w"):
        npp.perceptron_epoch(x, t, np.zeros(3), 0.0)
    with pytest.raises(ValueError, match="t"):
        tpp.perceptron_epoch(torch.tensor(x), torch.zeros(10), torch.zeros(2, dtype=torch.float64),
                             torch.tensor(0.0))
    with pytest.raises(ValueError, match="x"):
        tpp.Perceptron(2)(torch.ones(4, 3))
    with pytest.raises(ValueError, match="input_size"):
        tpp.Perceptron(0)


# --- toy data ----------------------------------------------------------------------------------


def test_make_separable_2d_is_seeded_and_balanced_enough():
    x1, t1 = make_separable_2d(50, rng=11, margin=0.1)
    x2, t2 = make_separable_2d(50, rng=11, margin=0.1)
    x3, _ = make_separable_2d(50, rng=12, margin=0.1)
    assert np.array_equal(x1, x2) and np.array_equal(t1, t2) and not np.array_equal(x1, x3)
    assert x1.shape == (50, 2) and t1.shape == (50,) and set(t1.tolist()) == {-1, 1}
    assert np.all(np.abs(x1) <= 1)
    for n in (2, 3):
        _, t = make_separable_2d(n, rng=5, margin=0.4)
        assert set(t.tolist()) == {-1, 1}
    same = make_separable_2d(20, rng=np.random.default_rng(0))
    assert same[0].shape == (20, 2)


def test_make_separable_2d_respects_the_margin():
    # The widest empty band a perceptron-found line leaves is at most the band of the
    # generating line; check the band directly with a hard-margin fit by brute force over angles.
    x, t = make_separable_2d(300, rng=8, margin=0.2)
    best = 0.0
    for angle in np.linspace(0, 2 * np.pi, 3600, endpoint=False):
        u = np.array([np.cos(angle), np.sin(angle)])
        s = x @ u
        lo, hi = s[t < 0].max(), s[t > 0].min()
        best = max(best, (hi - lo) / 2)
    assert best >= 0.2 - 1e-3


def test_make_xor():
    x, t = make_xor()
    assert x.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]] and t.tolist() == [-1, 1, 1, -1]
    x, t = make_xor(n_per_corner=5, noise=0.1, rng=0)
    assert x.shape == (20, 2) and t.shape == (20,) and np.abs(x - np.repeat(make_xor()[0], 5, 0)).max() > 0


def test_synthetic_bad_input():
    with pytest.raises(ValueError, match="n"):
        make_separable_2d(1)
    with pytest.raises(ValueError, match="margin"):
        make_separable_2d(10, margin=-0.1)
    with pytest.raises(ValueError, match="margin"):
        make_separable_2d(10, margin=0.9)
    with pytest.raises(TypeError, match="rng"):
        make_separable_2d(10, rng="seed")
    with pytest.raises(ValueError, match="noise"):
        make_xor(noise=-1)
    with pytest.raises(ValueError, match="n_per_corner"):
        make_xor(n_per_corner=0)


# --- exercise checks ---------------------------------------------------------------------------


def _stub(*args, **kwargs):
    raise NotImplementedError("write me")


CHECK_CASES = [
    (checks.check_sigmoid_layer, checks.reference_sigmoid_layer, checks.SIGMOID_LAYER_MISTAKES),
    (checks.check_perceptron_epoch, checks.reference_perceptron_epoch, checks.PERCEPTRON_MISTAKES),
    (checks.check_mlp_gradients, checks.reference_mlp_gradients, checks.MLP_MISTAKES),
]


@pytest.mark.parametrize("check,reference,mistakes", CHECK_CASES)
def test_check_reference_scores_full_and_stub_scores_zero(check, reference, mistakes, capsys):
    from seqlearn.checks.core import EXERCISES

    report = check(reference)
    assert report.passed and report.score == report.max_score
    assert report.max_score == EXERCISES[report.exercise_id].points
    assert "Score:" in capsys.readouterr().out
    report = check(_stub)
    assert report.score == 0 and not report.attempted
    assert report.max_score == EXERCISES[report.exercise_id].points
    assert "not attempted" in str(report)


def test_every_output_of_every_case_scores():
    # 4 layers x (A, Y); 5 data sets x (w, b, mistakes); per MLP, the loss and 2 M gradients
    assert checks.check_sigmoid_layer(checks.reference_sigmoid_layer).max_score == 8
    assert checks.check_perceptron_epoch(checks.reference_perceptron_epoch).max_score == 15
    report = checks.check_mlp_gradients(checks.reference_mlp_gradients)
    assert report.score == report.max_score == 3 + 5 + 7 + 9
    assert "grads['W4'] ok" in str(report)


@pytest.mark.parametrize(
    "check,reference,mistakes,index",
    [(c, r, m, i) for c, r, m in CHECK_CASES for i in range(len(m))],
)
def test_check_names_the_specific_mistake(check, reference, mistakes, index, capsys):
    wrong, message = mistakes[index]
    report = check(wrong)
    assert report.attempted and report.score < report.max_score
    assert f"likely cause: {message}" in str(report)
    assert message in capsys.readouterr().out
    assert str(report).count("hint:") == 1


def test_check_reports_an_exception_with_its_message():
    def broken(x, W, b):
        return W @ x  # column-vector habit: shapes do not match

    report = checks.check_sigmoid_layer(broken)
    assert report.score == 0 and report.attempted and "raised ValueError" in str(report)


def test_perceptron_check_fails_a_function_that_changes_the_callers_w():
    def in_place(x, t, w, b, lr):
        mistakes = 0
        for x_n, t_n in zip(x, t):
            if t_n * (x_n @ w + b) <= 0:
                w += lr * t_n * x_n  # updates the caller's array
                b, mistakes = b + lr * t_n, mistakes + 1
        return w, b, mistakes

    report = checks.check_perceptron_epoch(in_place)
    assert report.attempted and report.score < report.max_score
    assert "modified its input(s) w in place" in str(report)


def _mlp_forward(x, params):
    num_layers = len(params) // 2
    hs = [x]
    for l in range(1, num_layers + 1):
        a = hs[-1] @ params[f"W{l}"] + params[f"b{l}"]
        hs.append(np.tanh(a) if l < num_layers else a)
    return hs


def test_mlp_check_names_a_function_written_for_one_depth_only():
    def two_layers_only(x, t, params):
        W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
        h = np.tanh(x @ W1 + b1)
        y = h @ W2 + b2
        dy = 2 * (y - t) / y.size
        da = dy @ W2.T * (1 - h**2)
        return np.mean((y - t) ** 2), {"W1": x.T @ da, "b1": da.sum(0), "W2": h.T @ dy,
                                       "b2": dy.sum(0)}

    report = checks.check_mlp_gradients(two_layers_only)
    assert report.score == 5 and "raised KeyError" in str(report)
    assert "right for M = 2 layer(s) but it fails for M = 1, 3, 4" in str(report)


def test_mlp_check_says_which_layers_are_wrong():
    def derivative_squared(x, t, params):
        hs = _mlp_forward(x, params)
        delta, grads = 2 * (hs[-1] - t) / t.size, {}
        for l in range(len(params) // 2, 0, -1):
            grads[f"W{l}"], grads[f"b{l}"] = hs[l - 1].T @ delta, delta.sum(0)
            delta = delta @ params[f"W{l}"].T * (1 - hs[l - 1] ** 2) ** 2  # squared: wrong
        return np.mean((hs[-1] - t) ** 2), grads

    report = checks.check_mlp_gradients(derivative_squared)
    assert 0 < report.score < report.max_score
    assert "where: the output layer's gradients are right, those of layer(s) 1, 2, 3" in str(report)
    assert "equation (2.7)" in str(report)


def test_mlp_check_fails_a_function_that_changes_params():
    def correct_but_in_place(x, t, params):
        loss, grads = checks._mlp_variant(x, t, params)
        params["W1"] *= 0.5
        return loss, grads

    report = checks.check_mlp_gradients(correct_but_in_place)
    assert report.score == 0 and "modified its input(s) params['W1'] in place" in str(report)


def test_mlp_check_refuses_autograd():
    def with_autograd(x, t, params):
        p = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
        h = torch.tensor(x)
        for l in range(1, len(p) // 2 + 1):
            h = h @ p[f"W{l}"] + p[f"b{l}"]
            h = torch.tanh(h) if l < len(p) // 2 else h
        loss = ((h - torch.tensor(t)) ** 2).mean()
        loss.backward()
        return loss.item(), {k: v.grad.numpy() for k, v in p.items()}

    from seqlearn.checks.core import reference_allowed

    with reference_allowed(False):
        report = checks.check_mlp_gradients(with_autograd)
        assert report.refused and report.score == 0 and ".backward" in str(report)
        assert report.max_score == checks.MLP_POINTS
        refused = checks.check_mlp_gradients(checks.reference_mlp_gradients)
        assert refused.refused and "course package" in str(refused)


def test_xor_experiment_passes_a_good_choice_and_fails_a_bad_one():
    report = checks.check_xor_training(lambda: {"hidden": 8, "lr": 0.1})
    assert report.passed and report.score == report.max_score == 2
    # Two hidden units: gradient descent often stops in a poor local minimum (fixed seeds).
    score, lines = checks.measure_xor_training({"hidden": 2, "lr": 0.3}, seeds=range(30))
    assert score == 1 and any("reliable: no" in line and "local minimum" in line
                              for line in lines)


@pytest.mark.parametrize("choice,reason", [
    ({"hidden": 8, "lr": 0.005}, "no run solved XOR"),   # too slow
    ({"hidden": 32, "lr": 1.0}, "diverged"),             # too large for this width
])
def test_xor_experiment_explains_a_bad_learning_rate(choice, reason):
    score, lines = checks.measure_xor_training(choice, seeds=range(6))
    assert score == 0 and any(reason in line for line in lines)


def test_xor_experiment_refuses_malformed_choices_and_reports_the_stub():
    for bad in ({"hidden": 0, "lr": 0.1}, {"hidden": 2.5, "lr": 0.1}, (8, 0.1),
                {"hidden": 8, "lr": -1}):
        report = checks.check_xor_training(lambda bad=bad: bad)
        assert report.score == 0 and "cannot be run" in str(report)
    report = checks.check_xor_training(_stub)
    assert not report.attempted and "not attempted" in str(report)


RIGHT_ANSWERS = {"separable_functions": 14, "xor_hidden_units": 2, "mlp_parameters": 84060,
                 "novikoff_updates": 36, "updates_ratio_lr": 1}


def test_concept_check_scores_right_answers_and_explains_wrong_ones():
    report = checks.check_perceptron_concepts(lambda: dict(RIGHT_ANSWERS))
    assert report.passed and report.max_score == 5
    for question in checks.CONCEPT_QUESTIONS:
        for wrong, why in question["explain"].items():
            answers = dict(RIGHT_ANSWERS, **{question["key"]: wrong})
            report = checks.check_perceptron_concepts(lambda answers=answers: answers)
            assert report.score == 4 and why in str(report), (question["key"], wrong)
        answers = dict(RIGHT_ANSWERS, **{question["key"]: 7})  # an unexpected answer
        report = checks.check_perceptron_concepts(lambda answers=answers: answers)
        assert report.score == 4 and question["hint"] in str(report)
        if question["answer"] >= 10:  # the hint never states a count it asks for
            assert str(question["answer"]) not in question["hint"]
    report = checks.check_perceptron_concepts(_stub)
    assert report.score == 0 and not report.attempted and "not attempted" in str(report)


def test_checks_are_registered_with_their_kinds():
    from seqlearn.checks import CHECKS
    from seqlearn.checks.core import EXERCISES

    kinds = {"02-neuron-forward": "implement", "02-perceptron-update": "implement",
             "02-mlp-backward": "implement", "02-xor-training": "experiment",
             "02-perceptron-concepts": "concept"}
    for exercise_id, kind in kinds.items():
        assert exercise_id in CHECKS and EXERCISES[exercise_id].kind == kind
        assert EXERCISES[exercise_id].summary
    assert {"backward", "grad"} <= set(EXERCISES["02-mlp-backward"].forbidden)
