"""Chapter 5: Jacobian products of an RNN (vs autograd and finite differences), the linear case,
the initialisers, bad inputs, and the chapter's exercise checks."""

import numpy as np
import pytest
import torch

import seqlearn
from seqlearn.checks import vanishing as vanishing_checks
from seqlearn.checks.core import CHECKS
from seqlearn.gradcheck import numerical_gradient, relative_error
from seqlearn.numpy import gradient_flow as gf
from seqlearn.numpy.rnn import init_rnn_params, rnn_forward
from seqlearn.torch import gradient_flow as tgf
from seqlearn.torch.rnn import ElmanRNN

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


# -- exercise checks ---------------------------------------------------------------------------

def _stub(*args, **kwargs):
    raise NotImplementedError


def test_checks_are_registered():
    assert CHECKS["05-jacobian-product"] is vanishing_checks.check_jacobian_product
    assert CHECKS["05-spectral-radius"] is vanishing_checks.check_spectral_radius_scaling


def test_jacobian_product_check(capsys):
    ref = vanishing_checks.reference_jacobian_product
    assert vanishing_checks.check_jacobian_product(ref).passed

    def untransposed(h, W_hh):  # the usual mistake: diag(f') W_hh instead of diag(f') W_hhᵀ
        P = np.eye(W_hh.shape[0])
        for h_t in h:
            P = (np.diag(1 - h_t**2) @ W_hh) @ P
        return P

    capsys.readouterr()
    report = vanishing_checks.check_jacobian_product(untransposed)
    assert report.score < report.max_score
    assert "W_hh.T" in capsys.readouterr().out
    stub = vanishing_checks.check_jacobian_product(_stub)
    assert stub.score == 0 and not stub.attempted


def test_spectral_radius_check(capsys):
    assert vanishing_checks.check_spectral_radius_scaling(
        vanishing_checks.reference_spectral_radius_scaling).passed

    def by_two_norm(W, rho):  # the largest singular value instead of the largest |eigenvalue|
        return W * rho / np.linalg.norm(W, 2)

    capsys.readouterr()
    report = vanishing_checks.check_spectral_radius_scaling(by_two_norm)
    assert report.score == 0
    assert "not the largest singular value" in capsys.readouterr().out
    stub = vanishing_checks.check_spectral_radius_scaling(_stub)
    assert stub.score == 0 and not stub.attempted
