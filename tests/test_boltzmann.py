"""Boltzmann machines and RBMs (seqlearn.numpy.boltzmann, seqlearn.torch.boltzmann): exact
partition functions on tiny machines against brute force, Gibbs sampling against the exact
moments, the free energy's hand-derived gradient and the CD gradients against finite
differences of the exact log-likelihood, NumPy ↔ torch parity, bad input, seeded repeats."""

import numpy as np
import pytest
import torch

import seqlearn
from seqlearn.gradcheck import check_gradients, numerical_gradient, relative_error
from seqlearn.numpy import boltzmann as bm
from seqlearn.torch import boltzmann as tb

from conftest import t64

pytestmark = pytest.mark.usefixtures("one_thread")


def _machine(n, rng, scale=1.0):
    J = rng.normal(scale=scale, size=(n, n))
    J = (J + J.T) / 2
    np.fill_diagonal(J, 0.0)
    return J, rng.normal(scale=scale, size=n)


def _rbm(D, H, rng):
    return {"W": rng.normal(size=(D, H)), "b_v": rng.normal(size=D), "b_h": rng.normal(size=H)}


def test_the_exact_partition_function_is_the_sum_over_all_states(rng):
    J, b = _machine(6, rng)
    X = bm.all_states(6)
    assert X.shape == (64, 6) and len({tuple(x) for x in X}) == 64
    brute = np.log(sum(np.exp(0.5 * x @ J @ x + x @ b) for x in X))
    assert abs(bm.boltzmann_log_partition(J, b) - brute) < 1e-10
    p = bm.boltzmann_probabilities(J, b)
    assert abs(p.sum() - 1) < 1e-12
    mean, second = bm.boltzmann_moments(J, b)
    assert np.allclose(np.diag(second), mean)


def test_gibbs_sampling_approaches_the_exact_moments(rng):
    J, b = _machine(5, rng, scale=0.8)
    mean, second = bm.boltzmann_moments(J, b)
    samples = bm.boltzmann_gibbs(np.zeros((400, 5)), J, b, 60, rng=0)[10:].reshape(-1, 5)
    assert np.abs(samples.mean(0) - mean).max() < 0.02
    assert np.abs(samples.T @ samples / len(samples) - second).max() < 0.02


def test_the_log_likelihood_gradient_of_a_boltzmann_machine_is_data_minus_model(rng):
    J, b = _machine(5, rng)
    data = (rng.random((9, 5)) < 0.5).astype(float)
    box = {"J": J.copy(), "b": b.copy()}

    def mean_log_likelihood():
        return float(-bm.boltzmann_energy(data, box["J"], box["b"]).mean()
                     - bm.boltzmann_log_partition(box["J"], box["b"]))

    mean, second = bm.boltzmann_moments(J, b)
    db = numerical_gradient(mean_log_likelihood, box["b"])
    assert relative_error(db, data.mean(0) - mean) < 1e-6
    # J is symmetric: moving J_ij and J_ji together changes the log-likelihood by
    # <x_i x_j>_data - <x_i x_j>_model
    i, j, eps = 1, 3, 1e-6
    values = []
    for sign in (1, -1):
        box["J"] = J.copy()
        box["J"][i, j] += sign * eps
        box["J"][j, i] += sign * eps
        values.append(mean_log_likelihood())
    plus, minus = values
    numeric = (plus - minus) / (2 * eps)
    assert abs(numeric - ((data[:, i] * data[:, j]).mean() - second[i, j])) < 1e-6


def test_the_free_energy_gradient_matches_finite_differences(rng):
    params = _rbm(5, 4, rng)
    v = (rng.random((7, 5)) < 0.5).astype(float)
    dF = rng.normal(size=7)
    F, cache = bm.rbm_forward(v, params)
    grads, dv = bm.rbm_backward(dF, cache)
    assert max(check_gradients(lambda: float(dF @ bm.rbm_forward(v, params)[0]), params,
                               grads).values()) < 1e-6
    vv = v.copy()
    assert relative_error(numerical_gradient(lambda: float(dF @ bm.rbm_forward(vv, params)[0]),
                                             vv), dv) < 1e-6
    # F(v) = -log Σ_h exp(-E(v, h)), by brute force over the hidden states
    H = bm.all_states(4)
    E = -(v @ params["W"] @ H.T) - (v @ params["b_v"])[:, None] - (H @ params["b_h"])[None]
    assert np.allclose(F, -np.log(np.exp(-E).sum(1)))


def test_rbm_partition_function_over_either_layer(rng):
    params = _rbm(5, 4, rng)
    V, H = bm.all_states(5), bm.all_states(4)
    E = -(V @ params["W"] @ H.T) - (V @ params["b_v"])[:, None] - (H @ params["b_h"])[None]
    brute = np.log(np.exp(-E).sum())
    assert abs(bm.rbm_log_partition(params) - brute) < 1e-10
    flipped = {"W": params["W"].T.copy(), "b_v": params["b_h"], "b_h": params["b_v"]}
    assert abs(bm.rbm_log_partition(flipped) - brute) < 1e-10


def test_cd_gradients_against_the_exact_log_likelihood_gradient(rng):
    params = _rbm(5, 3, rng)
    v = (rng.random((8, 5)) < 0.5).astype(float)
    exact = {name: numerical_gradient(lambda: -bm.rbm_log_likelihood(v, params), params[name])
             for name in params}
    # the data term of CD is exact; with k → ∞ the chain forgets the data and the average of
    # many CD-k estimates approaches the exact gradient
    average = {name: 0.0 for name in params}
    for run in range(300):
        grads, _ = bm.rbm_cd_gradients(v, params, k=30, rng=run)
        for name in params:
            average[name] = average[name] + grads[name] / 300
    for name in params:
        assert np.abs(average[name] - exact[name]).max() < 0.05, name
    # CD-1 written with the data term's hidden probabilities: ⟨v q⟩_data − ⟨v_1 q⟩_recon
    grads, v1 = bm.rbm_cd_gradients(v, params, k=1, rng=7)
    q = lambda x: 1 / (1 + np.exp(-(x @ params["W"] + params["b_h"])))
    assert np.allclose(-grads["W"], (v.T @ q(v) - v1.T @ q(v1)) / len(v))
    assert np.allclose(-grads["b_v"], (v - v1).mean(0))


def test_numpy_and_torch_agree(rng):
    params = _rbm(6, 4, rng)
    v = (rng.random((5, 6)) < 0.5).astype(float)
    model = tb.RBM.from_numpy(params)
    F, cache = bm.rbm_forward(v, params)
    out = model(t64(v))
    assert np.abs(out.detach().numpy() - F).max() < 1e-10
    out.mean().backward()
    grads, _ = bm.rbm_backward(np.full(5, 1 / 5), cache)
    for name in params:
        assert relative_error(grads[name], getattr(model, name).grad.numpy()) < 1e-10
    assert abs(model.log_partition().item() - bm.rbm_log_partition(params)) < 1e-10
    assert np.allclose(model.hidden_probs(t64(v)).detach().numpy(), bm.rbm_hidden_probs(v, params))
    J, b = _machine(5, rng)
    assert abs(tb.boltzmann_log_partition(t64(J), t64(b)).item()
               - bm.boltzmann_log_partition(J, b)) < 1e-10
    x = (rng.random((3, 5)) < 0.5).astype(float)
    assert np.allclose(tb.boltzmann_energy(t64(x), t64(J), t64(b)).numpy(),
                       bm.boltzmann_energy(x, J, b))
    mean, _ = tb.boltzmann_moments(t64(J), t64(b))
    assert np.allclose(mean.numpy(), bm.boltzmann_moments(J, b)[0])
    back = model.to_numpy()
    assert all(np.array_equal(back[k], params[k]) for k in params)
    # torch's autograd of log Z is the model's moments: the gradient the CD loss estimates
    tJ, tbias = t64(J, True), t64(b, True)
    tb.boltzmann_log_partition(tJ, tbias).backward()
    assert np.allclose(tbias.grad.numpy(), bm.boltzmann_moments(J, b)[0])


def test_torch_cd_loss_descends_like_the_numpy_estimate():
    torch.manual_seed(0)
    model = tb.RBM(6, 3, dtype=torch.float64)
    v = (torch.rand(200, 6, dtype=torch.float64) < 0.3).double()
    before = (-model(v).mean() - model.log_partition()).item()
    optimiser = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(200):
        optimiser.zero_grad()
        model.cd_loss(v, k=1).backward()
        optimiser.step()
    after = (-model(v).mean() - model.log_partition()).item()
    assert after > before + 0.3
    samples = tb.boltzmann_gibbs(torch.zeros(4, 3, dtype=torch.float64),
                                 torch.zeros(3, 3, dtype=torch.float64),
                                 torch.zeros(3, dtype=torch.float64), 2)
    assert samples.shape == (2, 4, 3)


def test_training_raises_the_likelihood_and_repeats_under_a_seed():
    rng = np.random.default_rng(0)
    data = (rng.random((300, 8)) < np.linspace(0.1, 0.9, 8)).astype(float)
    results = []
    for _ in range(2):
        seqlearn.seed(4)
        params = bm.init_rbm_params(8, 4, data=data)
        before = bm.rbm_log_likelihood(data, params)
        params, errors = bm.train_rbm(data, params, epochs=5, lr=0.05)
        results.append((before, bm.rbm_log_likelihood(data, params), errors))
    assert results[0] == results[1]
    assert results[0][1] > results[0][0] - 0.05   # the visible biases start at the optimum


def test_train_rbm_leaves_params_alone_and_stops_when_it_diverges():
    data = (np.random.default_rng(0).random((12, 4)) < 0.5).astype(float)
    params = bm.init_rbm_params(4, 3, rng=0)
    before = {name: p.copy() for name, p in params.items()}
    trained, _ = bm.train_rbm(data, params, epochs=2, batch_size=4, rng=0)
    assert all(np.array_equal(params[name], before[name]) for name in params)
    assert not np.array_equal(trained["W"], before["W"])
    with np.errstate(all="ignore"), pytest.raises(FloatingPointError,
                                                  match="training stopped.*lower the learning rate"):
        bm.train_rbm(data, params, epochs=3, lr=1e308, batch_size=4, rng=0)


def test_bad_input_is_refused_by_name():
    J, b = np.zeros((3, 3)), np.zeros(3)
    with pytest.raises(ValueError, match="J"):
        bm.boltzmann_log_partition(np.arange(9.0).reshape(3, 3), b)
    with pytest.raises(ValueError, match="J"):
        bm.boltzmann_energy(np.ones((1, 3)), np.eye(3), b)
    with pytest.raises(ValueError, match="x"):
        bm.boltzmann_energy(np.full((1, 3), 0.5), J, b)
    with pytest.raises(ValueError, match="n"):
        bm.all_states(25)
    with pytest.raises(ValueError, match="params"):
        bm.rbm_log_partition({"W": np.zeros((30, 30)), "b_v": np.zeros(30), "b_h": np.zeros(30)})
    with pytest.raises(ValueError, match="v"):
        bm.rbm_forward(np.ones((2, 4)), bm.init_rbm_params(3, 2, rng=0))
    with pytest.raises(ValueError, match="b_h"):
        bm.rbm_forward(np.ones((2, 3)),
                       {"W": np.ones((3, 2)), "b_v": np.ones(3), "b_h": np.ones(3)})
    with pytest.raises(ValueError, match="data"):
        bm.train_rbm(np.full((4, 3), 0.5), bm.init_rbm_params(3, 2, rng=0))
    with pytest.raises(ValueError, match="v"):
        tb.RBM(3, 2)(torch.ones(2, 4))
    with pytest.raises(ValueError, match="x0"):
        tb.boltzmann_gibbs(torch.full((1, 3), 2.0), torch.zeros(3, 3), torch.zeros(3), 1)
