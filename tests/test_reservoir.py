"""Echo state networks (seqlearn.numpy.reservoir, seqlearn.torch.reservoir): the reservoir is
scaled to its spectral radius, has the echo state property below 1, the ridge read-out solves
its normal equations, NumPy and torch agree, forecasts beat the naive ones on Mackey–Glass, bad
input is refused by name, and seeded reservoirs repeat."""

import numpy as np
import pytest
import torch

import seqlearn
from seqlearn.data.chaotic import mackey_glass
from seqlearn.numpy import reservoir as nr
from seqlearn.numpy.gradient_flow import spectral_radius
from seqlearn.torch import reservoir as tr

from conftest import t64

pytestmark = pytest.mark.usefixtures("one_thread")


def test_the_reservoir_has_the_spectral_radius_asked_for_and_echoes(rng):
    params = nr.init_reservoir_params(1, 50, spectral_radius=0.8, rng=rng)
    assert abs(spectral_radius(params["W"]) - 0.8) < 1e-10
    u = rng.uniform(-1, 1, size=(1, 300, 1))
    a = nr.reservoir_forward(u, rng.uniform(-1, 1, (1, 50)), params)
    b = nr.reservoir_forward(u, rng.uniform(-1, 1, (1, 50)), params)
    assert np.abs(a[0, 0] - b[0, 0]).max() > 0.1 and np.abs(a[0, -1] - b[0, -1]).max() < 1e-8
    wild = nr.init_reservoir_params(1, 50, spectral_radius=3.0, rng=rng)
    a = nr.reservoir_forward(u, rng.uniform(-1, 1, (1, 50)), wild)
    b = nr.reservoir_forward(u, rng.uniform(-1, 1, (1, 50)), wild)
    assert np.abs(a[0, -1] - b[0, -1]).max() > 0.1


def test_the_forward_loop_is_the_step(rng):
    params = nr.init_reservoir_params(2, 6, rng=rng)
    u, h0 = rng.normal(size=(3, 5, 2)), rng.normal(size=(3, 6))
    states = nr.reservoir_forward(u, h0, params, leak_rate=0.4)
    h = h0
    for t in range(5):
        h = nr.reservoir_step(u[:, t], h, params, leak_rate=0.4)
        assert np.allclose(states[:, t], h)


def test_the_readout_solves_the_ridge_normal_equations(rng):
    S, Y = rng.normal(size=(50, 6)), rng.normal(size=(50, 2))
    W = nr.fit_readout(S, Y, ridge=0.3)
    S1 = np.hstack([S, np.ones((50, 1))])
    assert np.allclose((S1.T @ S1 + 0.3 * np.eye(7)) @ W, S1.T @ Y)
    assert np.allclose(nr.apply_readout(S, W), S1 @ W)
    assert np.allclose(tr.fit_readout(t64(S), t64(Y), ridge=0.3).numpy(), W)
    assert np.allclose(tr.apply_readout(t64(S), t64(W)).numpy(), S1 @ W)


def test_numpy_and_torch_agree(rng):
    params = nr.init_reservoir_params(2, 8, spectral_radius=1.1, rng=rng)
    u, h0 = rng.normal(size=(3, 7, 2)), rng.normal(size=(3, 8))
    model = tr.Reservoir.from_numpy(params, leak_rate=0.6)
    assert np.abs(model(t64(u), t64(h0)).numpy()
                  - nr.reservoir_forward(u, h0, params, 0.6)).max() < 1e-12
    assert list(model.parameters()) == []                 # nothing to train
    back = model.to_numpy()
    assert all(np.array_equal(back[k], params[k]) for k in params)
    torch.manual_seed(0)
    fresh = tr.Reservoir(1, 40, spectral_radius=0.7)
    assert abs(torch.linalg.eigvals(fresh.W.double()).abs().max().item() - 0.7) < 1e-5


def test_forecasts_beat_the_naive_ones_and_repeat():
    x = mackey_glass(1500)
    assert 0.2 < x.min() and x.max() < 1.5
    error = nr.esn_forecast_error(x, 0.95, 1.0, hidden_size=100, horizon=10)
    naive = nr.nrmse(x[700:-10], x[710:])                  # repeat the value 10 steps back
    assert error < 0.1 < naive
    assert nr.esn_forecast_error(x, 0.95, 1.0, hidden_size=100, horizon=10) == error
    seqlearn.seed(2)
    first = nr.init_reservoir_params(1, 5)
    seqlearn.seed(2)
    assert all(np.array_equal(first[k], v) for k, v in nr.init_reservoir_params(1, 5).items())


def test_free_running_generation_follows_the_series():
    x = mackey_glass(1400) - 0.9
    params = nr.init_reservoir_params(1, 200, spectral_radius=1.2, rng=0)
    states = nr.reservoir_forward(x[None, :1200, None], None, params, leak_rate=0.5)[0]
    W = nr.fit_readout(states[100:1199], x[101:1200], ridge=1e-7)
    generated = nr.reservoir_generate(states[1198:1199], x[None, 1199:1200], params, W, 100,
                                      leak_rate=0.5)
    assert generated.shape == (1, 100, 1)
    assert nr.nrmse(generated[0, :50, 0], x[1200:1250]) < 0.1


def test_bad_input_is_refused_by_name():
    params = nr.init_reservoir_params(1, 5, rng=0)
    with pytest.raises(ValueError, match="leak_rate"):
        nr.reservoir_forward(np.ones((1, 3, 1)), None, params, leak_rate=0.0)
    with pytest.raises(ValueError, match="u"):
        nr.reservoir_forward(np.ones((1, 3, 2)), None, params)
    with pytest.raises(ValueError, match="h0"):
        nr.reservoir_forward(np.ones((1, 3, 1)), np.ones((2, 5)), params)
    with pytest.raises(ValueError, match="targets"):
        nr.fit_readout(np.ones((4, 3)), np.ones(5))
    with pytest.raises(ValueError, match="ridge"):
        nr.fit_readout(np.ones((4, 3)), np.ones(4), ridge=-1)
    with pytest.raises(ValueError, match="states"):
        nr.apply_readout(np.ones((4, 3)), np.ones((3, 1)))
    with pytest.raises(ValueError, match="spectral_radius"):
        nr.init_reservoir_params(1, 5, spectral_radius=-1)
    with pytest.raises(ValueError, match="leak_rate"):
        tr.Reservoir(1, 5, leak_rate=2.0)
    with pytest.raises(ValueError, match="u"):
        tr.Reservoir(1, 5)(torch.ones(1, 3, 2))
