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
        tpp.perceptron_epoch(torch.tensor(x), torch.zeros(10), torch.zeros(2), torch.tensor(0.0))
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
    report = check(reference)
    assert report.passed and report.score == report.max_score >= 3
    assert "Score:" in capsys.readouterr().out
    report = check(_stub)
    assert report.score == 0 and not report.attempted
    assert "not attempted" in str(report)


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


def test_check_reports_an_exception_with_its_message():
    def broken(x, W, b):
        return W @ x  # column-vector habit: shapes do not match

    report = checks.check_sigmoid_layer(broken)
    assert report.score == 0 and report.attempted and "raised ValueError" in str(report)


def test_checks_are_registered():
    from seqlearn.checks import CHECKS

    for exercise_id in ("02-neuron-forward", "02-perceptron-update", "02-mlp-backward"):
        assert exercise_id in CHECKS
