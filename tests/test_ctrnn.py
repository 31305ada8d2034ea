"""Chapter 3: continuous-time RNNs, their fixed points and their simulation (NumPy and torch)."""

import numpy as np
import pytest
import torch

import seqlearn
from seqlearn.gradcheck import relative_error
from seqlearn.numpy import ctrnn as np_ctrnn
from seqlearn.numpy.ctrnn import (
    attractor_labels,
    basins_of_attraction,
    ctrnn_derivative,
    ctrnn_jacobian,
    find_fixed_points,
    simulate_ctrnn,
)
from seqlearn.torch import ctrnn as torch_ctrnn

W_FOUR = np.array([[5.0, -1.0], [-1.0, 5.0]])  # self-excitation, mutual inhibition


def _residual(x, W, h, activation="tanh"):
    return ctrnn_derivative(x, W, h, 1.0, activation)  # τ = 1: −x + W σ(x) + h


@pytest.mark.parametrize("activation", ["tanh", "logistic"])
@pytest.mark.parametrize("h", [0.0, np.array([0.3, -0.2])])
def test_fixed_points_satisfy_the_equation(activation, h):
    W = W_FOUR if activation == "tanh" else 4 * W_FOUR  # the logistic needs stronger coupling
    h = h if activation == "tanh" else np.asarray(h) - 8.0  # centre the logistic's input
    result = find_fixed_points(W, h, activation=activation)
    assert len(result.points) >= 3
    assert np.max(np.abs(_residual(result.points, W, h, activation))) < 1e-8
    assert result.stable.sum() >= 2
    # distinct points
    gaps = np.abs(result.points[:, None] - result.points[None]).max(-1) + np.eye(len(result.points))
    assert gaps.min() > 1e-3


def test_the_four_attractor_network():
    result = find_fixed_points(W_FOUR, 0.0)
    assert len(result.points) == 9
    assert result.stable.sum() == 4
    stable = result.points[result.stable]
    # The stable points are the symmetric pair (a, a), a = 4 tanh a, and the antisymmetric
    # pair (b, −b), b = 6 tanh b; the origin is a source (both eigenvalues 5 − 1 ± 1 > 0).
    for p in stable:
        a = abs(p[0])
        target = 4 * np.tanh(a) if np.sign(p[0]) == np.sign(p[1]) else 6 * np.tanh(a)
        assert abs(a - target) < 1e-8
    origin = np.argmin(np.abs(result.points).sum(1))
    np.testing.assert_allclose(np.sort(result.eigenvalues[origin].real), [3.0, 5.0], atol=1e-10)


def test_stability_from_jacobian_eigenvalues():
    tau = np.array([1.0, 2.5])
    result = find_fixed_points(W_FOUR, 0.1, tau=tau)
    for point, eig, stable in zip(*result):
        # the analytic Jacobian agrees with central differences of dx/dt
        eps = 1e-6
        numeric = np.stack([
            (ctrnn_derivative(point + eps * e, W_FOUR, 0.1, tau)
             - ctrnn_derivative(point - eps * e, W_FOUR, 0.1, tau)) / (2 * eps)
            for e in np.eye(2)
        ], axis=1)
        J = ctrnn_jacobian(point, W_FOUR, tau)
        assert relative_error(J, numeric) < 1e-6
        np.testing.assert_allclose(np.sort_complex(np.linalg.eigvals(J)), eig, atol=1e-10)
        assert stable == bool(np.all(eig.real < 0))
        # a small push off a stable point decays; off an unstable one it grows
        push = np.array([1e-3, -0.7e-3])
        end = simulate_ctrnn(point + push, W_FOUR, 0.1, tau, dt=0.05, steps=100)[-1]
        assert (np.abs(end - point).max() < 1e-4) == stable


def test_simulation_converges_to_a_stable_fixed_point():
    result = find_fixed_points(W_FOUR, 0.0)
    attractors = result.points[result.stable]
    starts = np.random.default_rng(0).uniform(-6, 6, size=(200, 2))
    trajectory = simulate_ctrnn(starts, W_FOUR, 0.0, dt=0.05, steps=400)
    assert trajectory.shape == (401, 200, 2)
    np.testing.assert_array_equal(trajectory[0], starts)
    labels = attractor_labels(trajectory[-1], attractors, radius=1e-4)
    assert np.all(labels >= 0)
    assert set(labels) == {0, 1, 2, 3}  # every basin is hit from a wide spread of starts
    # a start on the diagonal stays on it (symmetry) and reaches the symmetric attractor
    end = simulate_ctrnn(np.array([1.0, 1.0]), W_FOUR, 0.0, steps=400)[-1]
    np.testing.assert_allclose(end[0], end[1], atol=1e-12)
    assert attractor_labels(end[None], attractors)[0] == np.argmax(attractors.sum(1))
    assert attractor_labels(np.zeros((1, 2)), attractors)[0] == -1


def test_find_fixed_points_random_starts_repeat_after_seqlearn_seed():
    rng = np.random.default_rng(4)
    W = rng.normal(0, 1.5, size=(4, 4))  # N > 3: the default starts are random
    found = []
    for n in (2, 2):
        seqlearn.seed(n)
        found.append(find_fixed_points(W, 0.1, grid_size=4).points)
    assert len(found[0]) >= 1 and np.array_equal(found[0], found[1])
    assert np.max(np.abs(ctrnn_derivative(found[0], W, 0.1))) < 1e-8


def test_integrate_ode_is_exact_for_linear_decay_and_shared_by_torch():
    # dx/dt = -x: Euler multiplies by (1 - dt) per step, RK4 by the Taylor series of e^-dt to dt⁴.
    dt = 0.1
    euler = np_ctrnn.integrate_ode(lambda x: -x, np.array([2.0]), dt, 3, "euler")
    rk4 = np_ctrnn.integrate_ode(lambda x: -x, np.array([2.0]), dt, 3, "rk4")
    assert len(euler) == 4 and np.allclose(euler[3], 2.0 * (1 - dt) ** 3, rtol=1e-14)
    factor = 1 - dt + dt**2 / 2 - dt**3 / 6 + dt**4 / 24
    assert np.allclose(rk4[3], 2.0 * factor**3, rtol=1e-14)
    assert torch_ctrnn.integrate_ode is np_ctrnn.integrate_ode
    tensors = torch_ctrnn.integrate_ode(lambda x: -x, torch.tensor([2.0], dtype=torch.float64),
                                        dt, 3, "rk4")
    assert abs(tensors[3].item() - rk4[3][0]) < 1e-15


def test_activations_agree_between_the_halves():
    x = np.linspace(-40, 40, 81)
    assert sorted(np_ctrnn.ACTIVATIONS) == sorted(torch_ctrnn.ACTIVATIONS)
    for name, sigma in np_ctrnn.ACTIVATIONS.items():
        got = torch_ctrnn.ACTIVATIONS[name](torch.tensor(x)).numpy()
        assert np.abs(got - sigma(x)).max() < 1e-15, name


def test_rk4_is_more_accurate_than_euler():
    x0 = np.array([0.5, -1.5])
    fine = simulate_ctrnn(x0, W_FOUR, 0.2, tau=0.7, dt=0.001, steps=1000)[-1]
    euler = simulate_ctrnn(x0, W_FOUR, 0.2, tau=0.7, dt=0.05, steps=20, method="euler")[-1]
    rk4 = simulate_ctrnn(x0, W_FOUR, 0.2, tau=0.7, dt=0.05, steps=20, method="rk4")[-1]
    assert np.abs(rk4 - fine).max() < 1e-5 < np.abs(euler - fine).max()


def test_euler_with_step_tau_is_the_discrete_rnn():
    rng = np.random.default_rng(1)
    W, h, x0 = rng.normal(size=(3, 3)), rng.normal(size=3), rng.normal(size=3)
    trajectory = simulate_ctrnn(x0, W, h, tau=0.5, dt=0.5, steps=5, method="euler")
    x = x0
    for k in range(5):
        x = np.tanh(x) @ W.T + h
        np.testing.assert_allclose(trajectory[k + 1], x, atol=1e-12)


def test_ctrnn_bad_input():
    with pytest.raises(ValueError, match="W"):
        ctrnn_derivative(np.zeros(2), np.zeros((2, 3)), 0.0)
    with pytest.raises(ValueError, match="x"):
        ctrnn_derivative(np.zeros(3), W_FOUR, 0.0)
    with pytest.raises(ValueError, match="h"):
        ctrnn_derivative(np.zeros(2), W_FOUR, np.zeros(3))
    with pytest.raises(ValueError, match="tau"):
        simulate_ctrnn(np.zeros(2), W_FOUR, 0.0, tau=0.0)
    with pytest.raises(ValueError, match="dt"):
        simulate_ctrnn(np.zeros(2), W_FOUR, 0.0, dt=-0.1)
    with pytest.raises(ValueError, match="method"):
        simulate_ctrnn(np.zeros(2), W_FOUR, 0.0, method="midpoint")
    with pytest.raises(ValueError, match="activation"):
        find_fixed_points(W_FOUR, 0.0, activation="relu")
    with pytest.raises(ValueError, match="starts"):
        find_fixed_points(W_FOUR, 0.0, starts=np.zeros((4, 3)))
    with pytest.raises(TypeError, match="x0"):
        simulate_ctrnn("start", W_FOUR, 0.0)
    with pytest.raises(ValueError, match="steps"):
        simulate_ctrnn(np.zeros(2), W_FOUR, 0.0, steps=0)
    with pytest.raises(ValueError, match="tau"):
        np_ctrnn.check_ctrnn_params(W_FOUR, 0.0, np.ones(3))


# -- torch ------------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["euler", "rk4"])
@pytest.mark.parametrize("activation", ["tanh", "logistic"])
def test_torch_simulation_matches_numpy_float64(method, activation):
    rng = np.random.default_rng(2)
    W, h, tau = rng.normal(size=(3, 3)), rng.normal(size=3), np.array([0.5, 1.0, 2.0])
    x0 = rng.normal(size=(4, 3))
    want = simulate_ctrnn(x0, W, h, tau, dt=0.1, steps=30, method=method, activation=activation)
    model = torch_ctrnn.CTRNN.from_numpy({"W": W, "h": h, "tau": tau}, activation=activation)
    got = model(torch.from_numpy(x0), 0.1, 30, method)  # forward(x0, dt, steps, method)
    assert np.max(np.abs(got.detach().numpy() - want)) < 1e-10
    functional = torch_ctrnn.simulate_ctrnn(torch.from_numpy(x0), model.W, model.h, model.tau,
                                            0.1, 30, method, activation)
    assert torch.equal(functional, got)
    back = model.to_numpy()
    np.testing.assert_array_equal(back["W"], W)
    np.testing.assert_array_equal(back["tau"], tau)
    again = torch_ctrnn.CTRNN.from_numpy(back, activation=activation)
    assert torch.equal(again(torch.from_numpy(x0), 0.1, 30, method), got)


def test_torch_gradients_through_the_simulation():
    torch.manual_seed(0)
    W = torch.randn(2, 2, dtype=torch.float64, requires_grad=True)
    h = torch.randn(2, dtype=torch.float64, requires_grad=True)
    x0 = torch.randn(3, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda W, h, x0: torch_ctrnn.simulate_ctrnn(x0, W, h, 0.8, dt=0.1, steps=5)[-1],
        (W, h, x0),
    )


def test_torch_module_fixed_points_and_bad_input():
    model = torch_ctrnn.CTRNN.from_numpy({"W": W_FOUR, "h": 0.0})
    assert model.find_fixed_points().stable.sum() == 4
    assert np.array_equal(model.to_numpy()["tau"], np.ones(2))  # tau defaults to 1
    with pytest.raises(ValueError, match="x"):
        model(torch.zeros(3, dtype=torch.float64))
    with pytest.raises(ValueError, match="activation"):
        torch_ctrnn.CTRNN(2, activation="relu")
    with pytest.raises(ValueError, match="tau"):
        torch_ctrnn.ctrnn_derivative(torch.zeros(2), torch.eye(2), 0.0, tau=-1.0)
    with pytest.raises(ValueError, match="params: missing 'h'"):
        torch_ctrnn.CTRNN.from_numpy({"W": W_FOUR})
    with pytest.raises(ValueError, match="x0"):
        torch_ctrnn.simulate_ctrnn(torch.zeros(3), torch.eye(2), 0.0)


def test_basins_of_attraction_label_the_quadrants():
    xs, ys, labels, fixed = basins_of_attraction(W_FOUR, 0.0, xlim=(-7, 7), ylim=(-7, 7),
                                                 resolution=15)
    attractors = fixed.points[fixed.stable]
    assert labels.shape == (15, 15) and len(xs) == len(ys) == 15
    assert {0, 1, 2, 3} <= set(np.unique(labels))
    assert np.mean(labels >= 0) > 0.9  # only starts on basin boundaries stay unlabelled
    # a corner start ends in the attractor of its quadrant (labels[i, j] is the start (xs[j], ys[i]))
    for i, j in [(0, 0), (0, -1), (-1, 0), (-1, -1)]:
        target = attractors[labels[i, j]]
        assert np.sign(target[0]) == np.sign(xs[j]) and np.sign(target[1]) == np.sign(ys[i])
    with pytest.raises(ValueError, match="W"):
        basins_of_attraction(np.eye(3), 0.0)
