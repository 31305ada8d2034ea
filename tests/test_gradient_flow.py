"""Chapter 5: Jacobian products of an RNN (vs autograd and finite differences), the linear case,
the initialisers, bad inputs, and the chapter's exercise checks."""

import math

import numpy as np
import pytest
import torch

import seqlearn
from seqlearn.checks import vanishing as vanishing_checks
from seqlearn.checks.core import CHECKS, EXERCISES, reference_allowed
from seqlearn.gradcheck import numerical_gradient, relative_error
from seqlearn.numpy import gradient_flow as gf
from seqlearn.numpy.rnn import init_rnn_params, rnn_forward
from seqlearn.torch import gradient_flow as tgf
from seqlearn.torch.gru import GRU
from seqlearn.torch.lstm import LSTM
from seqlearn.torch.rnn import ElmanRNN
from seqlearn.torch.train import train_sequence_classifier

from conftest import ROOT, cell_source, load_notebook

# The checks refuse the package's own functions as answers; these tests submit the references.
pytestmark = pytest.mark.usefixtures("allow_reference")


def _problem(seed=0, B=2, T=6, D=3, H=4, scale=0.9):
    rng = np.random.default_rng(seed)
    params = init_rnn_params(D, H, rng=rng, scale=scale)
    return params, rng.normal(size=(B, T, D)), rng.normal(0, 0.5, size=(B, H))


def _torch(params, x, h0, nonlinearity):
    model = ElmanRNN.from_numpy(params, nonlinearity=nonlinearity)
    return model, torch.from_numpy(x), torch.from_numpy(h0)


def test_tanh_states_are_the_rnn_forward_pass():
    params, x, h0 = _problem()
    assert np.max(np.abs(gf.rnn_states(x, h0, params) - rnn_forward(x, h0, params)[0])) < 1e-14


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_jacobians_and_products_match_autograd(nonlinearity):
    params, x, h0 = _problem()
    J = gf.state_jacobians(x, h0, params, nonlinearity)
    P = gf.backward_jacobian_products(x, h0, params, nonlinearity)
    S = gf.input_jacobians(x, h0, params, nonlinearity)
    model, xt, h0t = _torch(params, x, h0, nonlinearity)
    assert J.shape == (2, 6, 4, 4) and P.shape == (2, 7, 4, 4) and S.shape == (2, 6, 4, 3)
    assert np.max(np.abs(J - tgf.state_jacobians(xt, h0t, model).numpy())) < 1e-10
    assert np.max(np.abs(P - tgf.backward_jacobian_products(xt, h0t, model).numpy())) < 1e-10
    assert np.max(np.abs(S - tgf.input_jacobians(xt, h0t, model).numpy())) < 1e-10
    norms = gf.gradient_norms_through_time(x, h0, params, nonlinearity)
    assert np.max(np.abs(norms - tgf.gradient_norms_through_time(xt, h0t, model).numpy())) < 1e-10
    assert np.allclose(norms[:, -1], 1.0)
    # the data-level functions are the two formulas applied to the forward pass's states
    h = gf.rnn_states(x, h0, params, nonlinearity)
    assert np.array_equal(J, gf.jacobians_from_states(h, params["W_hh"], nonlinearity))
    assert np.array_equal(P, gf.jacobian_products(J))


def test_zero_initial_state_is_the_default_on_both_sides():
    params, x, h0 = _problem(T=4)
    model, xt, _ = _torch(params, x, h0, "tanh")
    zeros = np.zeros_like(h0)
    want = gf.backward_jacobian_products(x, zeros, params)
    assert np.array_equal(gf.backward_jacobian_products(x, None, params), want)
    assert np.max(np.abs(tgf.backward_jacobian_products(xt, None, model).numpy() - want)) < 1e-10


def test_jacobian_orientation_rows_are_h_t_columns_are_h_prev():
    # J_t = diag(f') W_hhᵀ, not diag(f') W_hh: a non-symmetric W_hh tells them apart.
    params, x, h0 = _problem(H=3)
    h = gf.rnn_states(x, h0, params)
    J = gf.state_jacobians(x, h0, params)
    d = 1 - h[0, 2] ** 2
    assert np.allclose(J[0, 2], np.diag(d) @ params["W_hh"].T)
    assert not np.allclose(J[0, 2], np.diag(d) @ params["W_hh"])


@pytest.mark.parametrize("nonlinearity", ["tanh", "linear"])
def test_product_matches_finite_differences(nonlinearity):
    params, x, h0 = _problem(B=1, T=5)

    def last_state_from(h_start, t):  # run steps t+1 .. T from h_t = h_start
        return gf.rnn_states(x[:, t:], h_start[None], params, nonlinearity)[0, -1]

    h = gf.rnn_states(x, h0, params, nonlinearity)
    P = gf.backward_jacobian_products(x, h0, params, nonlinearity)
    states = np.concatenate([h0, h[0, :-1]])
    for t in (0, 2, 4):
        H = h0.shape[1]
        start = states[t].copy()
        numeric = np.stack([numerical_gradient(lambda: last_state_from(start, t)[i], start)
                            for i in range(H)])
        assert relative_error(P[0, t], numeric) < 1e-6


def test_linear_products_are_matrix_powers():
    params, x, h0 = _problem(B=1, T=7)
    P = gf.backward_jacobian_products(x, h0, params, "linear")
    for t in range(8):
        assert np.allclose(P[0, t], np.linalg.matrix_power(params["W_hh"].T, 7 - t), atol=1e-13)


def _linear_params(W_hh):
    H = W_hh.shape[0]
    return {"W_xh": np.zeros((1, H)), "W_hh": W_hh, "b_h": np.zeros(H)}


def test_linear_power_norms_follow_the_eigenvalues():
    rng = np.random.default_rng(3)
    Q = gf.orthogonal_matrix(5, rng)
    lam = np.array([0.5, 0.9, 1.0, 1.1, -1.3])
    W = Q @ np.diag(lam) @ Q.T  # symmetric
    for i in range(5):
        norms = gf.linear_power_norms(W, Q[:, i], 30)
        assert np.allclose(norms, np.abs(lam[i]) ** np.arange(31), rtol=1e-10)
    c = rng.normal(size=5)
    norms = gf.linear_power_norms(W, Q @ c, 20)
    expected = np.sqrt(((c[:, None] * lam[:, None] ** np.arange(21)) ** 2).sum(axis=0))
    assert np.allclose(norms, expected, rtol=1e-10)
    # For the gradient norms the spectral norm of (Wᵀ)^k is ρ^k when W is symmetric.
    g = gf.gradient_norms_through_time(np.zeros((1, 12, 1)), None, _linear_params(W), "linear")[0]
    assert np.allclose(g, 1.3 ** np.arange(12, -1, -1), rtol=1e-10)


def test_orthogonal_matrix_is_orthogonal_and_random():
    rng = np.random.default_rng(0)
    Q = gf.orthogonal_matrix(7, rng, gain=1.0)
    assert np.allclose(Q @ Q.T, np.eye(7), atol=1e-13) and np.allclose(Q.T @ Q, np.eye(7), atol=1e-13)
    Q2 = gf.orthogonal_matrix(7, rng, gain=0.5)
    assert np.allclose(np.linalg.svd(Q2, compute_uv=False), 0.5)
    assert not np.allclose(Q, Q2 / 0.5)
    # Products of orthogonal matrices keep norms: a linear RNN's gradient norm is exactly 1.
    norms = gf.gradient_norms_through_time(np.zeros((1, 20, 1)), None, _linear_params(Q), "linear")
    assert np.allclose(norms, 1.0)


def test_scaled_to_spectral_radius_is_exact():
    rng = np.random.default_rng(1)
    W = rng.normal(size=(6, 6)) + 3 * np.triu(rng.normal(size=(6, 6)), 1)
    for rho in (0.3, 1.0, 2.5):
        S = gf.scaled_to_spectral_radius(W, rho)
        assert abs(np.max(np.abs(np.linalg.eigvals(S))) - rho) < 1e-12
        assert abs(gf.spectral_radius(S) - rho) < 1e-12
        assert np.linalg.norm(S, 2) > rho + 1e-3  # non-normal: the 2-norm is larger
    assert np.allclose(gf.scaled_to_spectral_radius(W, 0.0), 0.0)


def test_init_irnn_params():
    p = gf.init_irnn_params(3, 5, rng=np.random.default_rng(0))
    assert np.array_equal(p["W_hh"], np.eye(5)) and np.array_equal(p["b_h"], np.zeros(5))
    assert p["W_xh"].shape == (3, 5) and np.abs(p["W_xh"]).max() < 0.01


@pytest.mark.parametrize("draw", [
    lambda: gf.orthogonal_matrix(6),
    lambda: gf.init_irnn_params(3, 5)["W_xh"],
])
def test_initialisers_repeat_after_seqlearn_seed(draw):
    seqlearn.seed(21)
    first = draw()
    seqlearn.seed(21)
    again = draw()
    seqlearn.seed(22)
    assert np.array_equal(first, again) and not np.array_equal(first, draw())


def test_loss_input_sensitivity_matches_the_state_sensitivity():
    params, x, h0 = _problem(B=3, T=5)
    model, xt, h0t = _torch(params, x, h0, "tanh")
    xt.requires_grad_(True)
    out = model(xt, h0t)[0]
    losses = out.sum(dim=(0, 2))  # ℓ_t = Σ_b Σ_i h_{t,i}
    got = tgf.loss_input_sensitivity(losses, xt).numpy()
    S = gf.input_jacobians(x, h0, params)
    want = np.sqrt(((S.sum(axis=2)) ** 2).sum(axis=(0, 2)))  # ∂ℓ_t/∂x_1 = 1ᵀ ∂h_t/∂x_1 per sequence
    assert np.allclose(got, want, rtol=1e-10)


# -- the first input: the derivative, the flip, any recurrent module ----------------------------

def _finite_difference_input_jacobians(model, x, eps=1e-6):
    """∂h_t/∂x_1 (B, T, H, D) by central differences on the first input of x."""
    J = np.zeros((x.shape[0], x.shape[1], model.hidden_size, x.shape[2]))
    for d in range(x.shape[2]):
        plus, minus = x.clone(), x.clone()
        plus[:, 0, d] += eps
        minus[:, 0, d] -= eps
        with torch.no_grad():
            J[..., d] = ((model(plus)[0] - model(minus)[0]) / (2 * eps)).numpy()
    return J


@pytest.mark.parametrize("make", [
    lambda: LSTM(3, 4, dtype=torch.float64),
    lambda: GRU(3, 4, dtype=torch.float64),
    lambda: ElmanRNN(3, 4, num_layers=2, dtype=torch.float64),
], ids=["lstm", "gru", "two-layer-rnn"])
def test_input_jacobians_of_any_recurrent_module_match_finite_differences(make):
    torch.manual_seed(0)
    model = make()
    x = torch.from_numpy(np.random.default_rng(1).normal(size=(2, 6, 3)))
    J = tgf.input_jacobians(x, None, model).numpy()
    assert J.shape == (2, 6, 4, 3)
    assert np.max(np.abs(J - _finite_difference_input_jacobians(model, x))) < 1e-8
    # sequences of a batch do not interact: each one's Jacobian is what it gets alone
    alone = tgf.input_jacobians(x[1:], None, model).numpy()
    assert np.max(np.abs(J[1:] - alone)) < 1e-12
    S = tgf.input_sensitivity(x, None, model).numpy()
    assert np.allclose(S, np.sqrt((J ** 2).sum(axis=(2, 3))), rtol=1e-12)


def test_input_jacobians_take_an_lstm_initial_state():
    torch.manual_seed(0)
    model = LSTM(2, 3, dtype=torch.float64)
    x = torch.randn(2, 5, 2, dtype=torch.float64)
    state = (torch.randn(2, 3, dtype=torch.float64), torch.randn(2, 3, dtype=torch.float64))
    J = tgf.input_jacobians(x, state, model).numpy()
    eps, numeric = 1e-6, np.zeros_like(J)
    for d in range(2):
        plus, minus = x.clone(), x.clone()
        plus[:, 0, d] += eps
        minus[:, 0, d] -= eps
        with torch.no_grad():
            numeric[..., d] = ((model(plus, state)[0] - model(minus, state)[0]) / (2 * eps)).numpy()
    assert np.max(np.abs(J - numeric)) < 1e-8
    assert not np.allclose(J, tgf.input_jacobians(x, None, model).numpy())


def test_input_sensitivity_and_first_input_effect_agree_on_both_sides():
    params, x, h0 = _problem(B=3, T=5)
    model, xt, h0t = _torch(params, x, h0, "tanh")
    S = gf.input_sensitivity(x, h0, params)
    assert S.shape == (3, 5)
    assert np.allclose(S, np.sqrt((gf.input_jacobians(x, h0, params) ** 2).sum(axis=(2, 3))))
    assert np.allclose(tgf.input_sensitivity(xt, h0t, model).numpy(), S, rtol=1e-10)
    E = gf.first_input_effect(x, h0, params)
    assert E.shape == (3, 5) and np.all(E > 0)
    assert np.allclose(tgf.first_input_effect(xt, h0t, model).numpy(), E, rtol=1e-10)
    flipped = x.copy()
    flipped[:, 0] *= -1
    assert np.allclose(E, np.linalg.norm(rnn_forward(x, h0, params)[0]
                                         - rnn_forward(flipped, h0, params)[0], axis=2))


def test_first_input_effect_of_a_linear_rnn_is_the_derivative_times_the_flip():
    params, x, h0 = _problem(B=2, T=6)
    J = gf.input_jacobians(x, h0, params, "linear")      # (B, T, H, D)
    want = np.linalg.norm(J @ (2 * x[:, None, 0, :, None]), axis=(2, 3))
    assert np.allclose(gf.first_input_effect(x, h0, params, "linear"), want, rtol=1e-10)


def test_a_latched_bit_keeps_its_effect_while_its_derivative_vanishes():
    # One saturating unit, h_t = tanh(5 x_t + 5 h_{t-1}), inputs ±1 and then zeros: the sign of
    # x_1 is kept for ever, but a small change of x_1 no longer moves h_T.
    params = {"W_xh": np.array([[5.0]]), "W_hh": np.array([[5.0]]), "b_h": np.zeros(1)}
    x = np.zeros((2, 40, 1))
    x[:, 0, 0] = [1.0, -1.0]
    effect = gf.first_input_effect(x, None, params)[:, -1]
    derivative = gf.input_sensitivity(x, None, params)[:, -1]
    assert np.all(effect > 1.99) and np.all(derivative < 1e-40)


def test_one_unit_rnn_loss_gradient_matches_finite_differences():
    w, b = np.array([0.5, 1.5, 1.9, 2.5]), np.array([-0.5, 0.2, -0.5, 0.1])  # off the cliff
    loss, dw, db = gf.one_unit_rnn_loss(w, b)
    eps = 1e-6
    assert np.allclose(dw, (gf.one_unit_rnn_loss(w + eps, b)[0]
                            - gf.one_unit_rnn_loss(w - eps, b)[0]) / (2 * eps), rtol=1e-6)
    assert np.allclose(db, (gf.one_unit_rnn_loss(w, b + eps)[0]
                            - gf.one_unit_rnn_loss(w, b - eps)[0]) / (2 * eps), rtol=1e-6)
    h = 0.5
    for _ in range(20):
        h = np.tanh(1.5 * h + 0.2)
    assert np.isclose(loss[1], (h - 0.6) ** 2)
    grid = gf.one_unit_rnn_loss(np.ones((3, 1)), np.zeros((1, 4)))[0]
    assert grid.shape == (3, 4)


@pytest.mark.parametrize("call, match", [
    (lambda: gf.jacobians_from_states(np.zeros((1, 2, 3)), np.zeros((3, 4))), "W_hh"),
    (lambda: gf.jacobians_from_states(np.zeros((1, 2, 4)), np.zeros((3, 3))), "h"),
    (lambda: gf.jacobians_from_states(np.zeros((1, 0, 3)), np.zeros((3, 3))), "h"),
    (lambda: gf.jacobians_from_states(np.zeros((1, 2, 3)), np.zeros((3, 3)), "sigmoidal"),
     "nonlinearity"),
    (lambda: gf.jacobian_products(np.zeros((1, 2, 3, 4))), "jacobians"),
    (lambda: gf.state_jacobians(np.zeros((1, 2, 3)), np.zeros((2, 4)), init_rnn_params(3, 4)),
     "h0"),
    (lambda: gf.gradient_norms_through_time(np.zeros((1, 2, 3)), None, init_rnn_params(3, 4),
                                            "sigmoid"), "nonlinearity"),
    (lambda: gf.scaled_to_spectral_radius(np.zeros((3, 3)), 1.0), "W"),
    (lambda: gf.scaled_to_spectral_radius(np.eye(3), -1.0), "rho"),
    (lambda: gf.scaled_to_spectral_radius(np.eye(3), "big"), "rho"),
    (lambda: gf.orthogonal_matrix(0), "n"),
    (lambda: gf.orthogonal_matrix(3, gain=np.nan), "gain"),
    (lambda: gf.linear_power_norms(np.eye(3), np.ones(2), 5), "v"),
    (lambda: gf.linear_power_norms(np.eye(3), np.ones(3), 0), "steps"),
    (lambda: gf.rnn_states(np.zeros((1, 2, 5)), None, init_rnn_params(3, 4)), "x"),
    (lambda: gf.rnn_states(np.zeros((1, 2, 3)), None, {"W_xh": np.zeros((3, 4))}), "params"),
    (lambda: gf.one_unit_rnn_loss(1.0, 0.0, steps=0), "steps"),
    (lambda: gf.one_unit_rnn_loss(1.0, 0.0, h0=np.nan), "h0"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_torch_bad_input():
    model = ElmanRNN(3, 4, dtype=torch.float64)
    with pytest.raises(ValueError, match="x"):
        tgf.state_jacobians(torch.zeros(2, 5, 2, dtype=torch.float64), None, model)
    with pytest.raises(ValueError, match="h0"):
        tgf.input_jacobians(torch.zeros(2, 5, 3, dtype=torch.float64),
                            torch.zeros(3, 4, dtype=torch.float64), model)
    with pytest.raises(TypeError, match="model"):
        tgf.state_jacobians(torch.zeros(2, 5, 3), None, ElmanRNN(3, 4, num_layers=2))
    with pytest.raises(ValueError, match="requires_grad"):
        tgf.loss_input_sensitivity(torch.zeros(3), torch.zeros(1, 3, 2))
    with pytest.raises(TypeError, match="model"):
        tgf.input_jacobians(torch.zeros(2, 5, 3), None, torch.nn.Linear(3, 4))
    with pytest.raises(TypeError, match="model"):
        tgf.first_input_effect(torch.zeros(2, 5, 3), None, torch.nn.Linear(3, 4))
    with pytest.raises(ValueError, match="x"):
        tgf.input_sensitivity(torch.zeros(2, 5, 2, dtype=torch.float64), None,
                              LSTM(3, 4, dtype=torch.float64))


# -- exercise checks ---------------------------------------------------------------------------

def _stub(*args, **kwargs):
    raise NotImplementedError


EXERCISE_IDS = {
    "05-jacobian-product": ("implement", 5, vanishing_checks.check_jacobian_product),
    "05-gradient-norms": ("implement", 5, vanishing_checks.check_gradient_norms),
    "05-spectral-radius": ("implement", 6, vanishing_checks.check_spectral_radius_scaling),
    "05-initialisation": ("experiment", 3, vanishing_checks.check_initialisation),
    "05-gradient-concepts": ("concept", 11, vanishing_checks.check_gradient_concepts),
}


def test_checks_are_registered_with_kind_points_and_summary():
    for exercise_id, (kind, points, check) in EXERCISE_IDS.items():
        assert CHECKS[exercise_id] is check
        info = EXERCISES[exercise_id]
        assert (info.kind, info.points) == (kind, points) and info.summary
    for exercise_id in ("05-jacobian-product", "05-gradient-norms"):
        assert {"jacobian", "backward", "grad"} <= set(EXERCISES[exercise_id].forbidden)


# Independent solutions, written as a student would (not the package's code).

def _jacobian_product(h, W_hh):
    P = np.eye(len(W_hh))
    for h_t in h:
        P = np.diag(1 - h_t**2) @ W_hh.T @ P
    return P


def _gradient_norms(h, W_hh):
    T = len(h)
    out = []
    for t in range(T + 1):  # the O(T²) way: every product from scratch
        P = np.eye(len(W_hh))
        for k in range(t + 1, T + 1):
            P = np.diag(1 - h[k - 1] ** 2) @ W_hh.T @ P
        out.append(np.linalg.svd(P, compute_uv=False)[0])
    return np.array(out)


def _scale(W, rho):
    return W * rho / max(abs(np.linalg.eigvals(W)))


IMPLEMENT = [
    (vanishing_checks.check_jacobian_product, _jacobian_product,
     vanishing_checks.reference_jacobian_product, 5),
    (vanishing_checks.check_gradient_norms, _gradient_norms,
     vanishing_checks.reference_gradient_norms, 5),
    (vanishing_checks.check_spectral_radius_scaling, _scale,
     vanishing_checks.reference_spectral_radius_scaling, 6),
]


@pytest.mark.parametrize("check, solution, reference, points", IMPLEMENT)
def test_independent_solutions_and_references_score_full_marks(check, solution, reference,
                                                               points, capsys):
    with reference_allowed(False):
        report = check(solution)
    assert report.passed and report.score == report.max_score == points
    assert check(reference).passed
    out = capsys.readouterr().out
    assert "PASSED" in out and f"Score: {points}/{points}" in out and "hint:" not in out


@pytest.mark.parametrize("check", [check for _, _, check in EXERCISE_IDS.values()])
def test_an_untouched_stub_scores_zero_and_says_not_attempted(check):
    report = check(_stub)
    assert report.score == 0 and not report.attempted and report.max_score > 0
    assert "not attempted" in str(report)


def test_autograd_is_refused():
    def by_autograd(h, W_hh):
        return torch.autograd.functional.jacobian(lambda v: v, torch.zeros(3)).numpy()

    with reference_allowed(False):
        report = vanishing_checks.check_jacobian_product(by_autograd)
        assert report.refused and report.score == 0 and "jacobian" in str(report)
        report = vanishing_checks.check_gradient_norms(by_autograd)
        assert report.refused and report.score == 0


def _products(h, W_hh, step):
    """J_T ··· J_1 with the J_t that ``step(h_t, W_hh)`` makes, the newest on the left."""
    P = np.eye(len(W_hh))
    for h_t in h:
        P = step(h_t, W_hh) @ P
    return P


JACOBIAN_MISTAKES = [
    (lambda h, W: _products(h, W, lambda h_t, W: np.diag(1 - h_t**2) @ W), "not transposed"),
    (lambda h, W: _products(h, W, lambda h_t, W: (1 - h_t**2) * W.T), "columns"),
    (lambda h, W: _products(h[::-1], W, lambda h_t, W: np.diag(1 - h_t**2) @ W.T),
     "wrong order"),
    (lambda h, W: _products(h, W, lambda h_t, W: np.diag(1 - np.tanh(h_t) ** 2) @ W.T),
     "applied tanh to it once more"),
    (lambda h, W: _products(h, W, lambda h_t, W: np.diag(1 - h_t) @ W.T),
     "derivative of tanh is wrong"),
    (lambda h, W: _products(h, W, lambda h_t, W: W.T),
     "diag(f'(a_t)) of equation (5.2) is missing"),
    (lambda h, W: _products(np.roll(h, 1, axis=0), W, lambda h_t, W: np.diag(1 - h_t**2) @ W.T),
     "the step before"),
    (lambda h, W: _products(h[1:], W, lambda h_t, W: np.diag(1 - h_t**2) @ W.T),
     "one Jacobian is missing"),
]


@pytest.mark.parametrize("mistake, message", JACOBIAN_MISTAKES)
def test_jacobian_product_names_the_mistake(mistake, message, capsys):
    report = vanishing_checks.check_jacobian_product(lambda h, W_hh: mistake(h, W_hh))
    out = capsys.readouterr().out
    assert report.score < report.max_score and "FAILED" in out
    assert message in out and out.count("hint:") == 1


def _norms_from(products):
    return np.array([np.linalg.norm(P, 2) for P in products])


def _backward(h, W, left=False):
    P, out = np.eye(len(W)), [np.eye(len(W))]
    for h_t in h[::-1]:
        J = np.diag(1 - h_t**2) @ W.T
        P = J @ P if left else P @ J
        out.append(P)
    return out[::-1]  # P_0 .. P_T


NORM_MISTAKES = [
    (lambda h, W: np.array([np.linalg.norm(P) for P in _backward(h, W)]), "Frobenius norm"),
    (lambda h, W: _norms_from(_backward(h, W))[::-1], "reverse order"),
    (lambda h, W: _norms_from([_jacobian_product(h[:t], W) for t in range(len(h) + 1)]),
     "∂h_t/∂h_0"),
    (lambda h, W: _norms_from(_backward(h, W, left=True)), "wrong order"),
    (lambda h, W: np.array([max(abs(np.linalg.eigvals(P))) for P in _backward(h, W)]),
     "spectral radius of each product"),
    (lambda h, W: _norms_from(_backward(h, W.T)), "not transposed"),
]


@pytest.mark.parametrize("mistake, message", NORM_MISTAKES)
def test_gradient_norms_names_the_mistake(mistake, message, capsys):
    report = vanishing_checks.check_gradient_norms(lambda h, W_hh: mistake(h, W_hh))
    out = capsys.readouterr().out
    assert report.score < report.max_score
    assert message in out and out.count("hint:") == 1


def test_gradient_norms_missing_the_identity_entry_is_a_shape_error(capsys):
    report = vanishing_checks.check_gradient_norms(lambda h, W_hh: _gradient_norms(h, W_hh)[:-1])
    assert report.score == 0 and "shape" in capsys.readouterr().out


def test_a_solution_that_modifies_its_input_scores_nothing_for_it(capsys):
    def in_place(h, W_hh):
        h **= 2  # squares the caller's states
        return _jacobian_product(np.sqrt(h) * np.sign(h), W_hh)

    report = vanishing_checks.check_jacobian_product(in_place)
    assert report.score < report.max_score and "modified its input" in capsys.readouterr().out


SPECTRAL_MISTAKES = [
    (lambda W, rho: W * rho / np.abs(np.linalg.eigvals(W).real).max(), "real parts"),
    (lambda W, rho: W * rho / np.linalg.eigvals(W).real.max(), "largest real part"),
    (lambda W, rho: W * rho / abs(np.max(np.linalg.eigvals(W))), "NumPy orders by their real"),
    (lambda W, rho: W * rho / np.linalg.norm(W, 2), "largest singular value"),
    (lambda W, rho: W * rho / np.linalg.norm(W), "Frobenius"),
    (lambda W, rho: W * rho / np.abs(np.linalg.eigvalsh(W)).max(), "eigvalsh"),
    (lambda W, rho: W / np.abs(np.linalg.eigvals(W)).max(), "multiply by rho"),
]


@pytest.mark.filterwarnings("ignore::numpy.exceptions.ComplexWarning")
@pytest.mark.parametrize("mistake, message", SPECTRAL_MISTAKES)
def test_spectral_radius_names_the_mistake(mistake, message, capsys):
    report = vanishing_checks.check_spectral_radius_scaling(mistake)
    out = capsys.readouterr().out
    assert report.score < report.max_score
    assert message in out and out.count("hint:") == 1


@pytest.mark.filterwarnings("ignore::numpy.exceptions.ComplexWarning")
def test_dividing_by_the_signed_dominant_eigenvalue_is_named(capsys):
    def signed(W, rho):
        lam = np.linalg.eigvals(W)
        return W * rho / lam[np.argmax(np.abs(lam))]

    report = vanishing_checks.check_spectral_radius_scaling(signed)
    assert report.score < report.max_score
    assert "not by its modulus" in capsys.readouterr().out


def test_real_parts_of_the_eigenvalues_fail_every_run(capsys):
    # The cases include dominant complex pairs r·e^{±iθ} whose real parts are far below r.
    def real_parts(W, rho):
        return W * rho / np.max(np.abs(np.real(np.linalg.eigvals(W))))

    for _ in range(25):
        report = vanishing_checks.check_spectral_radius_scaling(real_parts)
        assert report.score <= report.max_score - 2
    assert "real parts" in capsys.readouterr().out


def test_the_spectral_cases_have_what_their_docstring_promises():
    rng = np.random.default_rng(0)
    for _ in range(20):
        cases = vanishing_checks._spectral_cases(rng)
        for k in (1, 2, 5):  # a dominant complex pair, every other |λ| at most 0.6 r
            lam = np.linalg.eigvals(cases[k]["W"])
            r = np.abs(lam).max()
            dominant = lam[np.abs(lam) > r * (1 - 1e-9)]
            assert len(dominant) == 2 and np.all(np.abs(dominant.imag) > 0.8 * r)
            assert np.abs(lam.real).max() <= 0.6 * r + 1e-9
        lam = np.linalg.eigvals(cases[3]["W"])
        assert np.isclose(lam[np.argmax(np.abs(lam))].real, -np.abs(lam).max())
        for case in cases[1:]:
            assert np.linalg.norm(case["W"], 2) > 1.01 * np.abs(np.linalg.eigvals(case["W"])).max()


# -- the experiment: first-bit recall at lag 30 ---------------------------------------------------

def test_the_default_initialisation_fails_and_an_orthogonal_one_passes(capsys):
    default = vanishing_checks.check_initialisation(lambda: "default")
    assert default.score == 0
    out = capsys.readouterr().out
    assert out.count("not solved") == 3 and "hint:" in out
    orthogonal = vanishing_checks.check_initialisation(lambda: "orthogonal")
    assert orthogonal.passed and orthogonal.score == 3
    assert capsys.readouterr().out.count("-> solved") == 3


def test_the_default_matrix_rescaled_to_radius_1_passes(capsys):
    report = vanishing_checks.check_initialisation(lambda: "rescaled")
    assert report.score == 3 and "rescaled to spectral radius 1" in capsys.readouterr().out


def test_a_small_radius_fails(capsys):
    report = vanishing_checks.check_initialisation(lambda: 0.5)
    assert report.score == 0 and "ρ(W_hh) = 0.50" in capsys.readouterr().out


@pytest.mark.parametrize("choice", ["sideways", -1.0, 0, float("nan"), True, None, [1.0]])
def test_a_choice_that_cannot_be_run_scores_zero(choice):
    report = vanishing_checks.check_initialisation(lambda: choice)
    assert report.score == 0 and "cannot be run" in str(report)


def test_recall_first_bit_repeats_and_leaves_torch_as_it_was():
    threads = torch.get_num_threads()
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    first = vanishing_checks.recall_first_bit(1.0, 5, seed=4, steps=20, n_test=200)
    assert torch.equal(torch.random.get_rng_state(), before)
    assert torch.get_num_threads() == threads
    assert first == vanishing_checks.recall_first_bit(1.0, 5, seed=4, steps=20, n_test=200)
    assert abs(first["spectral_radius"] - 1.0) < 1e-12 and first["steps"] == 20
    irnn = vanishing_checks.recall_first_bit("identity", 5, seed=4, steps=1, n_test=10)
    assert irnn["spectral_radius"] == 1.0


def _alone(init, lag, seed, steps, target_accuracy=None):
    """The run of recall_first_bit_runs rebuilt by hand and trained alone by the package's
    train_sequence_classifier: the ElmanRNN and the head from the torch seed, W_hh replaced."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    rnn = ElmanRNN(1, 16, dtype=torch.float64)
    with torch.no_grad():
        if init == "orthogonal":
            rnn.W_hh.copy_(torch.from_numpy(gf.orthogonal_matrix(16, rng)))
        elif init == "rescaled":
            rnn.W_hh.copy_(torch.from_numpy(gf.scaled_to_spectral_radius(
                rnn.W_hh.detach().numpy(), 1.0)))
    head = torch.nn.Linear(16, 2, dtype=torch.float64)
    generator = torch.Generator().manual_seed(seed)
    run = train_sequence_classifier(
        rnn, head, lambda step: vanishing_checks.first_bit_batch(64, lag, generator), steps=steps,
        lr=0.01, clip=1.0, target_accuracy=target_accuracy)
    return rnn.to_numpy()[0], run["steps"]


def test_each_run_trained_side_by_side_is_the_run_trained_alone():
    # Clipping and early stopping are per run: a run does not feel the others.
    inits, seeds = ["default", "rescaled", "orthogonal"], [0, 1]
    runs = vanishing_checks.recall_first_bit_runs(inits, 4, seeds, steps=40, target_accuracy=0.9,
                                                  n_test=50)
    assert runs["accuracy"].shape == runs["steps"].shape == (3, 2)
    assert len(set(runs["steps"].ravel())) > 1  # the runs stop at different steps
    for i, init in enumerate(inits):
        for j, seed in enumerate(seeds):
            params, steps = _alone(init, 4, seed, 40, target_accuracy=0.9)
            assert steps == runs["steps"][i, j]
            for name in ("W_xh", "W_hh", "b_h"):
                assert np.allclose(runs["params"][i][j][name], params[name], atol=1e-10), (init, seed)


def test_the_rescaled_start_is_the_default_matrix_at_radius_1():
    default = vanishing_checks.recall_initial_params("default", 3)
    rescaled = vanishing_checks.recall_initial_params("rescaled", 3)
    orthogonal = vanishing_checks.recall_initial_params("orthogonal", 3)
    assert 0.4 < gf.spectral_radius(default["W_hh"]) < 0.8
    assert abs(gf.spectral_radius(rescaled["W_hh"]) - 1.0) < 1e-12
    ratio = rescaled["W_hh"] / default["W_hh"]
    assert np.allclose(ratio, ratio.flat[0])  # the same matrix, only larger
    for p in (rescaled, orthogonal):  # everything but W_hh is shared within a seed
        assert np.array_equal(p["W_xh"], default["W_xh"]) and np.array_equal(p["b_h"], default["b_h"])
    assert not np.array_equal(vanishing_checks.recall_initial_params("default", 4)["W_hh"],
                              default["W_hh"])


def test_recall_first_bit_lstm_raises_the_forget_bias_and_leaves_torch_as_it_was():
    torch.manual_seed(5)
    before = torch.random.get_rng_state()
    plain = vanishing_checks.recall_first_bit_lstm(4, [0], steps=3, n_test=20)
    raised = vanishing_checks.recall_first_bit_lstm(4, [0], forget_bias=2.0, steps=3, n_test=20)
    assert torch.equal(torch.random.get_rng_state(), before)
    b0, b2 = plain["initial"][0].b.detach(), raised["initial"][0].b.detach()
    assert torch.allclose(b2[16:32] - b0[16:32], torch.full((16,), 2.0, dtype=torch.float64))
    assert torch.equal(b2[:16], b0[:16]) and torch.equal(b2[32:], b0[32:])
    trained = plain["models"][0][0]
    assert not torch.equal(trained.b.detach(), b0)  # the copy is the untrained network
    assert plain["steps"][0] == 3 and 0 <= plain["accuracy"][0] <= 1


# -- the concept questions ------------------------------------------------------------------------

RIGHT = {"linear_rho_09": "vanish", "linear_rho_11": "explode", "linear_orthogonal": "neither",
         "linear_norm_20": 0.9**20, "tanh_derivative_max": 1.0, "tanh_sigma_09": "vanish",
         "tanh_rho_15": "depends", "clip_small": 1e-6, "clip_large": 5.0, "clip_sgd_step": 3.0,
         "irnn_active": 1.0}


def test_the_right_concept_answers_score_full_marks():
    report = vanishing_checks.check_gradient_concepts(lambda: dict(RIGHT))
    assert report.passed and report.score == 11
    spelled = {**RIGHT, "linear_rho_09": " Vanish ", "linear_norm_20": 0.1216}
    assert vanishing_checks.check_gradient_concepts(lambda: spelled).score == 11


@pytest.mark.parametrize("key, wrong, why", [
    ("linear_rho_09", "depends", "no states to depend on"),
    ("linear_rho_11", "vanish", "grows geometrically"),
    ("linear_orthogonal", "vanish", "without changing its length"),
    ("linear_norm_20", 18.0, "adds where the chain rule multiplies"),
    ("linear_norm_20", 0.9**19, "count the factors"),
    ("linear_norm_20", 1.0, "each step also multiplies by 0.9"),
    ("tanh_derivative_max", 0.25, "sigmoid"),
    ("tanh_sigma_09", "depends", "the states do not matter"),
    ("tanh_rho_15", "explode", "possible, not certain"),
    ("tanh_rho_15", "vanish", "nothing forces it"),
    ("clip_small", 1.0, "cannot lengthen a short gradient"),
    ("clip_large", 40.0, "the clip is active"),
    ("clip_large", 0.125, "not the new norm"),
    ("clip_sgd_step", 1.0, "η times it"),
    ("irnn_active", 0.0, "every unit stays active"),
])
def test_expected_wrong_concept_answers_are_explained(key, wrong, why):
    report = vanishing_checks.check_gradient_concepts(lambda: {**RIGHT, key: wrong})
    assert report.score == 10
    line = next(line for line in report.lines if line.startswith(key))
    assert "is not right" in line and why in line


def test_other_wrong_concept_answers_get_a_hint_without_the_answer():
    wrong = {**RIGHT, "tanh_derivative_max": 3.0, "clip_large": 7.0, "linear_rho_11": "maybe"}
    report = vanishing_checks.check_gradient_concepts(lambda: wrong)
    assert report.score == 8
    hints = {key: next(line for line in report.lines if line.startswith(key)).split(" -- ")[1]
             for key in ("tanh_derivative_max", "clip_large", "linear_rho_11")}
    for key in ("tanh_derivative_max", "clip_large"):
        assert str(RIGHT[key]) not in hints[key] and "is right" not in hints[key]
    # a word question's hint lists every choice, singling none out
    words = ("vanish", "explode", "neither", "depends")
    assert all(word in hints["linear_rho_11"] for word in words)
    missing = vanishing_checks.check_gradient_concepts(lambda: {"clip_small": 1e-6})
    assert missing.score == 1 and "linear_rho_09: not answered" in str(missing)


# -- the notebook's solution cells are self-contained and score full marks -----------------------

def test_the_chapter_solution_cells_score_full_marks_on_their_own():
    nb = load_notebook(ROOT / "book" / "05_vanishing_gradients.ipynb")
    solutions = [c for c in nb["cells"] if "solution" in c["metadata"].get("tags", [])]
    assert {c["metadata"]["exercise_id"] for c in solutions} == set(EXERCISE_IDS)
    with reference_allowed(False):
        for cell in solutions:
            source = cell_source(cell)
            assert "seqlearn" not in source
            namespace = {"np": np, "torch": torch, "math": math}
            exec(compile(source, cell["metadata"]["exercise_id"], "exec"), namespace)
            function = next(v for v in namespace.values()
                            if callable(v) and getattr(v, "__code__", None)
                            and v.__code__.co_filename == cell["metadata"]["exercise_id"])
            report = CHECKS[cell["metadata"]["exercise_id"]](function)
            assert report.passed, str(report)


def _alone_sgd(init, lag, seed, steps, lr, clip):
    """A run of recall_first_bit_runs with plain SGD, rebuilt by hand and trained alone."""
    import torch.nn.functional as F

    start, nonlinearity = vanishing_checks._recall_start(init, seed, 16)
    P = {name: torch.tensor(value, requires_grad=True) for name, value in start.items()}
    f = torch.tanh if nonlinearity == "tanh" else torch.relu
    generator = torch.Generator().manual_seed(seed)
    losses = []
    for _ in range(steps):
        x, y = vanishing_checks.first_bit_batch(64, lag, generator)
        h = torch.zeros(64, 16, dtype=torch.float64)
        for t in range(lag + 1):
            h = f(x[:, t] @ P["W_xh"] + h @ P["W_hh"] + P["b_h"])
        loss = F.cross_entropy(h @ P["W_y"] + P["b_y"], y)
        losses.append(loss.item())
        grads = torch.autograd.grad(loss, list(P.values()))
        norm = torch.sqrt(sum((g ** 2).sum() for g in grads))
        scale = 1.0 if clip is None else min(1.0, clip / (norm.item() + 1e-6))
        with torch.no_grad():
            for p, g in zip(P.values(), grads):
                p -= lr * scale * g
    return {name: P[name].detach().numpy() for name in ("W_xh", "W_hh", "b_h")}, losses


@pytest.mark.parametrize("clip", [None, 0.3])
def test_sgd_runs_side_by_side_are_the_runs_alone_clipped_or_not(clip):
    inits, seeds = ["orthogonal", "identity"], [0, 1]
    runs = vanishing_checks.recall_first_bit_runs(inits, 6, seeds, steps=12, optimizer="sgd",
                                                  lr=0.5, clip=clip, n_test=50)
    for i, init in enumerate(inits):
        for j, seed in enumerate(seeds):
            params, losses = _alone_sgd(init, 6, seed, 12, 0.5, clip)
            assert np.allclose(runs["losses"][i][j], losses, rtol=1e-9), (init, seed)
            for name in params:
                assert np.allclose(runs["params"][i][j][name], params[name], atol=1e-9)
    assert not runs["diverged"].any()


def test_a_run_whose_loss_overflows_is_marked_diverged_and_leaves_the_batch():
    # ReLU units with W_hh = I and an enormous unclipped SGD step: the states overflow.
    runs = vanishing_checks.recall_first_bit_runs(["identity"], 60, [0, 1], steps=30,
                                                  optimizer="sgd", lr=1e12, clip=None, n_test=50)
    assert (runs["diverged"] == 1).all() and np.isnan(runs["accuracy"]).all()
    for j in range(2):
        losses = runs["losses"][0][j]
        assert not np.isfinite(losses[-1]) and np.isfinite(losses[:-1]).all()
        assert runs["steps"][0, j] == len(losses) < 30
    clipped = vanishing_checks.recall_first_bit_runs(["identity"], 60, [0, 1], steps=5,
                                                     optimizer="sgd", lr=1e12, clip=1e-12,
                                                     n_test=50)
    assert not clipped["diverged"].any()
