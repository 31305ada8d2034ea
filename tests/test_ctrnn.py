"""Chapter 3: continuous-time RNNs, their fixed points, bifurcations and simulation (NumPy and
torch), and the figures that draw them."""

import matplotlib
import numpy as np
import pytest
import torch

import seqlearn
from seqlearn import plotting
from seqlearn.gradcheck import relative_error
from seqlearn.numpy import ctrnn as np_ctrnn
from seqlearn.numpy.ctrnn import (
    attractor_labels,
    basins_of_attraction,
    classify_fixed_points,
    ctrnn_derivative,
    ctrnn_jacobian,
    find_fixed_points,
    fixed_point_census,
    locate_bifurcations,
    scan_fixed_points,
    simulate_ctrnn,
)
from seqlearn.numpy.rnn import rnn_forward
from seqlearn.torch import ctrnn as torch_ctrnn

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

W_FOUR = np.array([[5.0, -1.0], [-1.0, 5.0]])  # self-excitation, mutual inhibition


def _two_units(w_self, w_cross=-1.0):
    return np.array([[w_self, w_cross], [w_cross, w_self]]), 0.0


def _residual(a, W_hh, b_h, activation="tanh"):
    return ctrnn_derivative(a, W_hh, b_h, 1.0, activation)  # τ = 1: −a + σ(a) W_hh + b_h


@pytest.mark.parametrize("activation", ["tanh", "logistic"])
@pytest.mark.parametrize("b_h", [0.0, np.array([0.3, -0.2])])
def test_fixed_points_satisfy_the_equation(activation, b_h):
    W_hh = W_FOUR if activation == "tanh" else 4 * W_FOUR  # the logistic needs stronger coupling
    b_h = b_h if activation == "tanh" else np.asarray(b_h) - 8.0  # centre the logistic's input
    result = find_fixed_points(W_hh, b_h, activation=activation)
    assert len(result.points) >= 3
    assert np.max(np.abs(_residual(result.points, W_hh, b_h, activation))) < 1e-8
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
    kinds = classify_fixed_points(result.eigenvalues)
    assert fixed_point_census(kinds) == {"stable": 4, "saddle": 4, "source": 1}


def test_the_coupling_is_row_vector_like_the_elman_rnn():
    # W_hh[i, j] is the weight from unit i to unit j: with only W_hh[0, 1] set, unit 0 drives
    # unit 1 and not the other way round.
    W_hh = np.array([[0.0, 2.0], [0.0, 0.0]])
    a = np.array([0.5, -0.3])
    np.testing.assert_allclose(ctrnn_derivative(a, W_hh, 0.0),
                               [-0.5, 0.3 + 2 * np.tanh(0.5)], atol=1e-15)


def test_stability_from_jacobian_eigenvalues():
    tau = np.array([1.0, 2.5])
    W_hh = W_FOUR + np.array([[0.0, 0.4], [-0.3, 0.0]])  # not symmetric: J's layout matters
    result = find_fixed_points(W_hh, 0.1, tau=tau)
    assert len(result.points) >= 5
    for point, eig, stable in zip(*result):
        # the analytic Jacobian agrees with central differences of da/dt
        eps = 1e-6
        numeric = np.stack([
            (ctrnn_derivative(point + eps * e, W_hh, 0.1, tau)
             - ctrnn_derivative(point - eps * e, W_hh, 0.1, tau)) / (2 * eps)
            for e in np.eye(2)
        ], axis=1)
        J = ctrnn_jacobian(point, W_hh, tau)
        assert relative_error(J, numeric) < 1e-6
        np.testing.assert_allclose(np.sort_complex(np.linalg.eigvals(J)), eig, atol=1e-10)
        assert stable == bool(np.all(eig.real < 0))
        # a small push off a stable point decays; off an unstable one it grows
        push = np.array([1e-3, -0.7e-3])
        end = simulate_ctrnn(point + push, W_hh, 0.1, tau, dt=0.05, steps=100)[-1]
        assert (np.abs(end - point).max() < 1e-4) == stable


def test_classify_fixed_points():
    eigenvalues = np.array([[-1.0, -2.0], [1.0, 2.0], [-1.0, 2.0], [0.0, -1.0],
                            [-1 + 2j, -1 - 2j], [0.5 + 1j, 0.5 - 1j], [1e-12, 3.0]])
    assert classify_fixed_points(eigenvalues).tolist() == [
        "stable", "source", "saddle", "non-hyperbolic", "stable", "source", "non-hyperbolic"]
    assert classify_fixed_points(eigenvalues[-1:], tol=0.0).tolist() == ["source"]
    assert classify_fixed_points(np.empty((0, 2))).shape == (0,)
    with pytest.raises(ValueError, match="eigenvalues"):
        classify_fixed_points(np.ones(3))
    with pytest.raises(ValueError, match="tol"):
        classify_fixed_points(eigenvalues, tol=-1.0)
    assert fixed_point_census(["saddle", "stable", "saddle"]) == {"stable": 1, "saddle": 2}
    assert list(fixed_point_census(["source", "stable"])) == ["stable", "source"]  # fixed order
    with pytest.raises(ValueError, match="kinds"):
        fixed_point_census(["attractor"])


@pytest.mark.parametrize("w_cross", [-1.0, -0.5, 0.7])
def test_the_origin_changes_kind_where_its_jacobian_has_a_zero_eigenvalue(w_cross):
    # At a = 0, σ'(0) = 1 and J = −I + W_hhᵀ: eigenvalues w_self − 1 + w_cross along (1, 1) and
    # w_self − 1 − w_cross along (1, −1); each crosses zero at w_self = 1 ∓ w_cross.
    for w_self in (-0.7, 0.4, 1.3, 2.6):
        W_hh, _ = _two_units(w_self, w_cross)
        J = ctrnn_jacobian(np.zeros(2), W_hh)
        np.testing.assert_allclose(J @ np.ones(2), (w_self - 1 + w_cross) * np.ones(2))
        np.testing.assert_allclose(J @ np.array([1.0, -1.0]),
                                   (w_self - 1 - w_cross) * np.array([1.0, -1.0]))
    low, high = sorted([1 - w_cross, 1 + w_cross])
    for w_self, kind in [(low - 0.1, "stable"), (low + 0.1, "saddle"), (high + 0.1, "source")]:
        fixed = find_fixed_points(*_two_units(w_self, w_cross))
        origin = np.flatnonzero(np.abs(fixed.points).max(axis=1) < 1e-12)
        assert len(origin) == 1
        assert classify_fixed_points(fixed.eigenvalues[origin])[0] == kind
    exactly = find_fixed_points(*_two_units(high, w_cross))
    at_origin = np.abs(exactly.points).max(axis=1) < 1e-12
    assert classify_fixed_points(exactly.eigenvalues[at_origin]).tolist() == ["non-hyperbolic"]


def _diagonal_turns_stable():
    """w_self where the diagonal fixed points (a, a) of [[w, −1], [−1, w]] become stable:
    a = (w − 1) tanh a and (w + 1)(1 − tanh² a) = 1, i.e. with u² = w / (w + 1),
    (w − 1) u = artanh u; solved by bisection."""
    def f(w):
        u = np.sqrt(w / (w + 1))
        return (w - 1) * u - np.arctanh(u)

    lo, hi = 2.0, 3.0
    assert f(lo) < 0 < f(hi)
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if f(mid) < 0 else (lo, mid)
    return lo


def test_the_bifurcations_of_the_two_unit_network():
    found = locate_bifurcations(_two_units, np.linspace(-1.0, 4.0, 51), tol=1e-5)
    values = [b.value for b in found]
    assert len(found) == 3
    np.testing.assert_allclose(values, [0.0, 2.0, _diagonal_turns_stable()], atol=2e-5)
    assert [(b.before, b.after) for b in found] == [
        ({"stable": 1}, {"stable": 2, "saddle": 1}),                     # pitchfork at a = 0
        ({"stable": 2, "saddle": 1}, {"stable": 2, "saddle": 2, "source": 1}),  # the second
        ({"stable": 2, "saddle": 2, "source": 1}, {"stable": 4, "saddle": 4, "source": 1}),
    ]
    # no fold: the grid, offset from the bifurcations, sees the same three changes
    assert len(locate_bifurcations(_two_units, np.linspace(-1.013, 5.987, 36))) == 3


def test_the_diagonal_points_are_saddles_then_attractors_shedding_two_saddles():
    star = _diagonal_turns_stable()
    for w_self, kind, n in [(star - 0.05, "saddle", 5), (star + 0.05, "stable", 9)]:
        fixed = find_fixed_points(*_two_units(w_self))
        kinds = classify_fixed_points(fixed.eigenvalues)
        assert len(fixed.points) == n
        diagonal = (np.abs(fixed.points[:, 0] - fixed.points[:, 1]) < 1e-9) & (
            np.abs(fixed.points).max(axis=1) > 1e-9)
        assert diagonal.sum() == 2 and set(kinds[diagonal]) == {kind}
        a = abs(fixed.points[diagonal][0, 0])
        assert abs(a - (w_self - 1) * np.tanh(a)) < 1e-10
    # past the change, the four new saddles sit off the symmetry lines, next to the diagonal
    fixed = find_fixed_points(*_two_units(star + 0.05))
    off = (np.abs(np.abs(fixed.points[:, 0]) - np.abs(fixed.points[:, 1])) > 1e-6)
    assert off.sum() == 4
    assert set(classify_fixed_points(fixed.eigenvalues[off])) == {"saddle"}


def test_scan_fixed_points():
    values = np.array([3.0, -0.5, 1.0, 2.3])              # sorted by the scan
    scan = scan_fixed_points(_two_units, values)
    np.testing.assert_array_equal(np.unique(scan.value), np.sort(values))
    counts = [int(np.sum(scan.value == v)) for v in np.sort(values)]
    assert counts == [1, 3, 5, 9]
    assert scan.point.shape == (18, 2) and scan.eigenvalues.shape == (18, 2)
    for v in np.unique(scan.value):
        rows = scan.value == v
        assert np.abs(_residual(scan.point[rows], *_two_units(v))).max() < 1e-10
    np.testing.assert_array_equal(scan.kind, classify_fixed_points(scan.eigenvalues))
    with pytest.raises(TypeError, match="family"):
        scan_fixed_points(W_FOUR, values)
    with pytest.raises(ValueError, match="values"):
        scan_fixed_points(_two_units, [])
    with pytest.raises(ValueError, match="tol"):
        locate_bifurcations(_two_units, values, tol=0)


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
    W_hh = rng.normal(0, 1.5, size=(4, 4))  # H > 3: the default starts are random
    found = []
    for n in (2, 2):
        seqlearn.seed(n)
        found.append(find_fixed_points(W_hh, 0.1, grid_size=4).points)
    assert len(found[0]) >= 1 and np.array_equal(found[0], found[1])
    assert np.max(np.abs(ctrnn_derivative(found[0], W_hh, 0.1))) < 1e-8


def test_integrate_ode_is_exact_for_linear_decay_and_shared_by_torch():
    # da/dt = -a: Euler multiplies by (1 - dt) per step, RK4 by the Taylor series of e^-dt to dt⁴.
    dt = 0.1
    euler = np_ctrnn.integrate_ode(lambda a: -a, np.array([2.0]), dt, 3, "euler")
    rk4 = np_ctrnn.integrate_ode(lambda a: -a, np.array([2.0]), dt, 3, "rk4")
    assert len(euler) == 4 and np.allclose(euler[3], 2.0 * (1 - dt) ** 3, rtol=1e-14)
    factor = 1 - dt + dt**2 / 2 - dt**3 / 6 + dt**4 / 24
    assert np.allclose(rk4[3], 2.0 * factor**3, rtol=1e-14)
    assert torch_ctrnn.integrate_ode is np_ctrnn.integrate_ode
    tensors = torch_ctrnn.integrate_ode(lambda a: -a, torch.tensor([2.0], dtype=torch.float64),
                                        dt, 3, "rk4")
    assert abs(tensors[3].item() - rk4[3][0]) < 1e-15


def test_activations_agree_between_the_halves():
    a = np.linspace(-40, 40, 81)
    assert sorted(np_ctrnn.ACTIVATIONS) == sorted(torch_ctrnn.ACTIVATIONS)
    for name, sigma in np_ctrnn.ACTIVATIONS.items():
        got = torch_ctrnn.ACTIVATIONS[name](torch.tensor(a)).numpy()
        assert np.abs(got - sigma(a)).max() < 1e-15, name


def test_rk4_is_more_accurate_than_euler():
    a0 = np.array([0.5, -1.5])
    fine = simulate_ctrnn(a0, W_FOUR, 0.2, tau=0.7, dt=0.001, steps=1000)[-1]
    euler = simulate_ctrnn(a0, W_FOUR, 0.2, tau=0.7, dt=0.05, steps=20, method="euler")[-1]
    rk4 = simulate_ctrnn(a0, W_FOUR, 0.2, tau=0.7, dt=0.05, steps=20, method="rk4")[-1]
    assert np.abs(rk4 - fine).max() < 1e-5 < np.abs(euler - fine).max()


def test_euler_with_step_tau_is_the_elman_rnn_without_input():
    # a_{t+1} = tanh(a_t) W_hh + b_h: with h_t = tanh(a_t), rnn_forward's h_{t+1} = tanh(a_{t+1}).
    rng = np.random.default_rng(1)
    W_hh, b_h, a0 = rng.normal(size=(3, 3)), rng.normal(size=3), rng.normal(size=3)
    trajectory = simulate_ctrnn(a0, W_hh, b_h, tau=0.5, dt=0.5, steps=5, method="euler")
    params = {"W_xh": np.zeros((1, 3)), "W_hh": W_hh, "b_h": b_h}
    h, _ = rnn_forward(np.zeros((1, 5, 1)), np.tanh(a0)[None], params)
    np.testing.assert_allclose(np.tanh(trajectory[1:]), h[0], atol=1e-12)


def test_the_output_form_is_the_same_flow():
    # h = tanh-rate form τ dh/dt = −h + tanh(h W_hh + b_h) seen through a = h W_hh + b_h
    rng = np.random.default_rng(3)
    W_hh, b_h, h0 = rng.normal(size=(3, 3)), rng.normal(size=3), rng.uniform(-1, 1, size=3)
    rate = np.stack(np_ctrnn.integrate_ode(lambda h: -h + np.tanh(h @ W_hh + b_h), h0, 0.05, 40))
    a = simulate_ctrnn(h0 @ W_hh + b_h, W_hh, b_h, dt=0.05, steps=40)
    np.testing.assert_allclose(rate @ W_hh + b_h, a, atol=1e-12)


def test_ctrnn_bad_input():
    with pytest.raises(ValueError, match="W_hh"):
        ctrnn_derivative(np.zeros(2), np.zeros((2, 3)), 0.0)
    with pytest.raises(ValueError, match="a: expected"):
        ctrnn_derivative(np.zeros(3), W_FOUR, 0.0)
    with pytest.raises(ValueError, match="b_h"):
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
    with pytest.raises(TypeError, match="a0"):
        simulate_ctrnn("start", W_FOUR, 0.0)
    with pytest.raises(ValueError, match="steps"):
        simulate_ctrnn(np.zeros(2), W_FOUR, 0.0, steps=0)
    with pytest.raises(ValueError, match="tau"):
        np_ctrnn.check_ctrnn_params(W_FOUR, 0.0, np.ones(3))
    with pytest.raises(ValueError, match="a: expected"):
        ctrnn_jacobian(np.zeros((2, 2, 2)), W_FOUR)


# -- torch ------------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["euler", "rk4"])
@pytest.mark.parametrize("activation", ["tanh", "logistic"])
def test_torch_simulation_matches_numpy_float64(method, activation):
    rng = np.random.default_rng(2)
    W_hh, b_h, tau = rng.normal(size=(3, 3)), rng.normal(size=3), np.array([0.5, 1.0, 2.0])
    a0 = rng.normal(size=(4, 3))
    want = simulate_ctrnn(a0, W_hh, b_h, tau, dt=0.1, steps=30, method=method,
                          activation=activation)
    model = torch_ctrnn.CTRNN.from_numpy({"W_hh": W_hh, "b_h": b_h, "tau": tau},
                                         activation=activation)
    got = model(torch.from_numpy(a0), 0.1, 30, method)  # forward(a0, dt, steps, method)
    assert np.max(np.abs(got.detach().numpy() - want)) < 1e-10
    functional = torch_ctrnn.simulate_ctrnn(torch.from_numpy(a0), model.W_hh, model.b_h,
                                            model.tau, 0.1, 30, method, activation)
    assert torch.equal(functional, got)
    back = model.to_numpy()
    np.testing.assert_array_equal(back["W_hh"], W_hh)
    np.testing.assert_array_equal(back["tau"], tau)
    again = torch_ctrnn.CTRNN.from_numpy(back, activation=activation)
    assert torch.equal(again(torch.from_numpy(a0), 0.1, 30, method), got)


def test_torch_gradients_through_the_simulation():
    torch.manual_seed(0)
    W_hh = torch.randn(2, 2, dtype=torch.float64, requires_grad=True)
    b_h = torch.randn(2, dtype=torch.float64, requires_grad=True)
    a0 = torch.randn(3, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda W_hh, b_h, a0: torch_ctrnn.simulate_ctrnn(a0, W_hh, b_h, 0.8, dt=0.1, steps=5)[-1],
        (W_hh, b_h, a0),
    )


def test_torch_module_fixed_points_and_bad_input():
    model = torch_ctrnn.CTRNN.from_numpy({"W_hh": W_FOUR, "b_h": 0.0})
    assert model.find_fixed_points().stable.sum() == 4
    assert np.array_equal(model.to_numpy()["tau"], np.ones(2))  # tau defaults to 1
    with pytest.raises(ValueError, match="a0"):
        model(torch.zeros(3, dtype=torch.float64))
    with pytest.raises(ValueError, match="activation"):
        torch_ctrnn.CTRNN(2, activation="relu")
    with pytest.raises(ValueError, match="tau"):
        torch_ctrnn.ctrnn_derivative(torch.zeros(2), torch.eye(2), 0.0, tau=-1.0)
    with pytest.raises(ValueError, match="params: missing 'b_h'"):
        torch_ctrnn.CTRNN.from_numpy({"W_hh": W_FOUR})
    with pytest.raises(ValueError, match="a0"):
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
    with pytest.raises(ValueError, match="W_hh"):
        basins_of_attraction(np.eye(3), 0.0)


# -- the figures ------------------------------------------------------------------------------

def test_bifurcation_diagram_draws_every_point_by_kind():
    scan = scan_fixed_points(_two_units, np.array([-0.5, 1.0, 3.0]))
    bifurcations = locate_bifurcations(_two_units, np.array([-0.5, 1.0, 3.0]), tol=1e-2)
    fig, ax = plt.subplots()
    plotting.bifurcation_diagram(ax, scan, unit=1, bifurcations=bifurcations)
    drawn = {line.get_label(): line for line in ax.get_lines() if line.get_label()[0] != "_"}
    assert set(drawn) == {"stable (attractor)", "saddle", "source (unstable)"}
    stable = drawn["stable (attractor)"]
    assert len(stable.get_xdata()) == 1 + 2 + 4
    np.testing.assert_array_equal(np.sort(stable.get_ydata()),
                                  np.sort(scan.point[scan.kind == "stable", 1]))
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert len(dashed) == len(bifurcations) == 3
    with pytest.raises(ValueError, match="unit"):
        plotting.bifurcation_diagram(ax, scan, unit=2)
    plt.close(fig)


def test_phase_portrait_marks_the_fixed_points():
    fig, ax = plt.subplots()
    fixed, kinds = plotting.phase_portrait(ax, W_FOUR, 0.0, resolution=20,
                                           starts=np.array([[1.0, 0.5], [-2.0, 3.0]]), steps=50)
    assert len(fixed.points) == 9 and list(kinds).count("saddle") == 4
    markers = [line for line in ax.get_lines() if line.get_marker() in ("o", "X")
               and line.get_markersize() == 8]
    assert len(markers) == 9
    assert len(ax.images) == 1 and ax.images[0].get_array().shape == (20, 20)
    plt.close(fig)


# -- Lyapunov exponents (chaos and limit cycles) ----------------------------------------------

from seqlearn.numpy.ctrnn import (  # noqa: E402
    ctrnn_lyapunov_exponent,
    ctrnn_tangent,
    largest_lyapunov_exponent,
    scan_lyapunov_exponents,
)

#: The chaotic three-unit network of chapter 3 (found by a random scan), used at the gain g.
W_CHAPTER_3 = np.array([[2.6, -2.4, -0.2], [-6.3, 2.1, -1.1], [4.2, 5.6, 1.3]])


def _lorenz(x, sigma=10.0, rho=28.0, beta=8.0 / 3.0):
    X, Y, Z = x[..., 0], x[..., 1], x[..., 2]
    return np.stack([sigma * (Y - X), X * (rho - Z) - Y, X * Y - beta * Z], -1)


def _lorenz_tangent(x, v, sigma=10.0, rho=28.0, beta=8.0 / 3.0):
    X, Y, Z = x[..., 0], x[..., 1], x[..., 2]
    p, q, r = v[..., 0], v[..., 1], v[..., 2]
    return np.stack([sigma * (q - p), (rho - Z) * p - q - X * r, Y * p + X * q - beta * r], -1)


def _stuart_landau(x, omega=2.0):
    """A stable limit cycle, the unit circle: dr/dt = r(1 − r²), dθ/dt = ω (exponents 0 and −2)."""
    r2 = (x ** 2).sum(-1, keepdims=True)
    rotate = np.stack([-x[..., 1], x[..., 0]], -1)
    return x * (1 - r2) + omega * rotate


def _stuart_landau_tangent(x, v, omega=2.0):
    r2 = (x ** 2).sum(-1, keepdims=True)
    radial = (x * v).sum(-1, keepdims=True)
    return v * (1 - r2) - 2 * x * radial + omega * np.stack([-v[..., 1], v[..., 0]], -1)


def test_a_linear_flow_has_its_largest_eigenvalue_as_exponent():
    # da/dt = a A: v grows like e^{λ t} along the leading eigenvector, λ = the largest eigenvalue.
    rng = np.random.default_rng(0)
    Q = np.linalg.qr(rng.normal(size=(3, 3)))[0]
    A = Q @ np.diag([0.3, -0.5, -1.2]) @ Q.T
    for a0 in (np.zeros(3), rng.normal(size=(4, 3))):
        estimate = largest_lyapunov_exponent(lambda a: a @ A, lambda a, v: v @ A, a0, dt=0.05,
                                             steps=2000, transient=200, rng=1)
        assert estimate.exponent.shape == a0.shape[:-1]
        np.testing.assert_allclose(estimate.exponent, 0.3, atol=1e-6)
    # with an eigenvalue pair 0.2 ± 1.5i the growth rate is the real part
    B = np.array([[0.2, 1.5, 0.0], [-1.5, 0.2, 0.0], [0.0, 0.0, -0.4]])
    estimate = largest_lyapunov_exponent(lambda a: a @ B, lambda a, v: v @ B, np.zeros(3),
                                         dt=0.02, steps=5000, transient=1000, rng=2)
    assert abs(estimate.exponent - 0.2) < 1e-3


def test_a_limit_cycle_has_exponent_zero_and_the_lorenz_attractor_its_known_one():
    starts = np.array([[0.1, 0.0], [2.0, -1.0], [-0.5, 0.7]])
    cycle = largest_lyapunov_exponent(_stuart_landau, _stuart_landau_tangent, starts, dt=0.02,
                                      steps=10000, transient=1000, rng=0)
    assert np.all(np.abs(cycle.exponent) < 0.005)
    # The Lorenz system at σ = 10, ρ = 28, β = 8/3: λ₁ ≈ 0.906 (Sprott, Chaos and Time-Series
    # Analysis, 2003); a finite run of 150 time units lands within ±0.06 of it.
    lorenz = largest_lyapunov_exponent(_lorenz, _lorenz_tangent,
                                       np.array([[1.0, 1.0, 1.0], [-3.0, 2.0, 20.0]]), dt=0.01,
                                       steps=15000, transient=500, rng=0)
    assert np.all(np.abs(lorenz.exponent - 0.906) < 0.06), lorenz.exponent
    # the running estimate converges: its last value is the exponent, its times are the rounds
    np.testing.assert_array_equal(lorenz.running[-1], lorenz.exponent)
    assert lorenz.times[-1] == pytest.approx(150.0) and len(lorenz.times) == 1500


def test_ctrnn_exponent_at_a_stable_fixed_point_is_its_leading_eigenvalue():
    W_hh = np.array([[0.5, 0.3], [-0.2, 0.4]])   # the origin attracts: eigenvalues of −I + W_hhᵀ
    leading = np.max(np.linalg.eigvals(ctrnn_jacobian(np.zeros(2), W_hh, tau=0.5)).real)
    estimate = ctrnn_lyapunov_exponent(np.array([[1.0, -2.0], [0.0, 0.0]]), W_hh, 0.0, tau=0.5,
                                       dt=0.02, steps=4000, transient=1000, rng=0)
    np.testing.assert_allclose(estimate.exponent, leading, atol=2e-3)
    assert leading < 0


def test_ctrnn_tangent_is_the_jacobian_and_matches_finite_differences():
    rng = np.random.default_rng(4)
    W_hh, b_h, tau = rng.normal(size=(3, 3)), rng.normal(size=3), np.array([0.5, 1.0, 2.0])
    a, v = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    J = ctrnn_jacobian(a, W_hh, tau)
    np.testing.assert_allclose(ctrnn_tangent(a, v, W_hh, tau), np.einsum("bij,bj->bi", J, v),
                               atol=1e-13)
    eps = 1e-6
    numeric = (ctrnn_derivative(a + eps * v, W_hh, b_h, tau)
               - ctrnn_derivative(a - eps * v, W_hh, b_h, tau)) / (2 * eps)
    np.testing.assert_allclose(ctrnn_tangent(a, v, W_hh, tau), numeric, atol=1e-8)


def test_the_three_regimes_of_the_chapter_network():
    # fixed point, limit cycle and chaos of W_hh = g W_0, from three starts each
    starts = np.array([[0.5, -0.3, 0.2], [-1.0, 1.0, 0.5], [2.0, 0.0, -1.0]])
    gains = np.array([0.5, 0.8, 1.15])
    exponents = scan_lyapunov_exponents(lambda g: (g * W_CHAPTER_3, 0.0), gains, starts, rng=0)
    assert exponents.shape == (3, 3)
    assert np.all(exponents[0] < -0.1)
    assert np.all(np.abs(exponents[1]) < 0.01)
    assert np.all(exponents[2] > 0.08)
    # the scan is ctrnn_lyapunov_exponent network by network (the same tangent vectors from the
    # same seed; compared off chaos, where rounding differences would grow like e^{λ t})
    one = ctrnn_lyapunov_exponent(starts, 0.5 * W_CHAPTER_3, 0.0, rng=0)
    scan = scan_lyapunov_exponents(lambda g: (g * W_CHAPTER_3, 0.0), [0.5], starts, rng=0)
    np.testing.assert_allclose(one.exponent, scan[0], atol=1e-10)
    # one start gives one exponent per value
    single = scan_lyapunov_exponents(lambda g: (g * W_CHAPTER_3, 0.0), gains[:1], starts[0],
                                     steps=500, transient=100, rng=0)
    assert single.shape == (1,)


def test_lyapunov_estimates_repeat_after_seqlearn_seed():
    results = []
    for _ in range(2):
        seqlearn.seed(3)
        results.append(ctrnn_lyapunov_exponent(np.ones(3), W_CHAPTER_3, 0.0, steps=200,
                                               transient=0).exponent)
    assert results[0] == results[1]


def test_lyapunov_bad_input():
    f, tangent = (lambda a: -a), (lambda a, v: -v)
    with pytest.raises(TypeError, match="f"):
        largest_lyapunov_exponent("f", tangent, np.zeros(2))
    with pytest.raises(TypeError, match="tangent"):
        largest_lyapunov_exponent(f, None, np.zeros(2))
    with pytest.raises(ValueError, match="dt"):
        largest_lyapunov_exponent(f, tangent, np.zeros(2), dt=0.0)
    with pytest.raises(ValueError, match="steps"):
        largest_lyapunov_exponent(f, tangent, np.zeros(2), steps=25, renormalize_every=10)
    with pytest.raises(ValueError, match="transient"):
        largest_lyapunov_exponent(f, tangent, np.zeros(2), transient=-1)
    with pytest.raises(ValueError, match="v0"):
        largest_lyapunov_exponent(f, tangent, np.zeros(2), v0=np.zeros(2))
    with pytest.raises(ValueError, match="v0"):
        largest_lyapunov_exponent(f, tangent, np.zeros(2), v0=np.ones(3))
    with pytest.raises(ValueError, match="a0"):
        largest_lyapunov_exponent(f, tangent, 1.0)
    with pytest.raises(FloatingPointError, match="renormalize_every"):
        largest_lyapunov_exponent(lambda a: 0 * a, lambda a, v: 1e6 * v, np.ones(2), dt=1.0,
                                  steps=20, transient=0, renormalize_every=20)
    with pytest.raises(ValueError, match="a0"):
        ctrnn_lyapunov_exponent(np.zeros(3), W_FOUR, 0.0)
    with pytest.raises(ValueError, match="v: expected"):
        ctrnn_tangent(np.zeros(2), np.zeros(3), W_FOUR)
    with pytest.raises(TypeError, match="family"):
        scan_lyapunov_exponents(W_FOUR, [1.0], np.zeros(2))
    with pytest.raises(ValueError, match="same size"):
        scan_lyapunov_exponents(lambda g: (np.eye(2 + int(g)), 0.0), [0.0, 1.0], np.zeros(2))


def test_lyapunov_diagram_and_trajectory_projection():
    fig, (ax1, ax2) = plt.subplots(1, 2)
    values = np.array([0.5, 0.8, 1.15])
    exponents = np.array([[-0.2, -0.21], [0.001, -0.002], [0.15, 0.14]])
    plotting.lyapunov_diagram(ax1, values, exponents, tol=0.01, marks=[0.8])
    drawn = {line.get_label(): line for line in ax1.get_lines() if line.get_label()[0] != "_"}
    assert set(drawn) == {"fixed point (λ₁ < 0)", "limit cycle (λ₁ ≈ 0)", "chaos (λ₁ > 0)"}
    np.testing.assert_array_equal(np.sort(drawn["chaos (λ₁ > 0)"].get_ydata()), [0.14, 0.15])
    trajectory = simulate_ctrnn(np.ones((2, 3)), W_CHAPTER_3, 0.0, steps=20)
    plotting.trajectory_projection(ax2, trajectory, units=(0, 2))
    np.testing.assert_array_equal(ax2.get_lines()[0].get_xdata(), trajectory[:, 0, 0])
    np.testing.assert_array_equal(ax2.get_lines()[0].get_ydata(), trajectory[:, 0, 2])
    assert len(ax2.get_lines()) == 4
    with pytest.raises(ValueError, match="units"):
        plotting.trajectory_projection(ax2, trajectory, units=(0, 3))
    plt.close(fig)


def test_torch_module_lyapunov_exponent_is_the_numpy_one():
    model = torch_ctrnn.CTRNN.from_numpy({"W_hh": 0.8 * W_CHAPTER_3, "b_h": 0.0})
    a0 = np.array([[0.5, -0.3, 0.2], [1.0, 0.0, -1.0]])
    got = model.lyapunov_exponent(torch.from_numpy(a0), steps=1000, transient=200, rng=0)
    want = ctrnn_lyapunov_exponent(a0, 0.8 * W_CHAPTER_3, 0.0, steps=1000, transient=200, rng=0)
    np.testing.assert_array_equal(got.exponent, want.exponent)
    assert np.all(np.abs(got.exponent) < 0.02)               # the limit cycle of chapter 3
