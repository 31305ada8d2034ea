"""Chapters 4 and 6: the 19-parameter airline forecaster (and its LSTM and GRU versions),
scaling and the naive baselines."""

import numpy as np
import pytest
import torch
from torch import nn

import seqlearn
from seqlearn.data import load_airline_passengers, make_windows
from seqlearn.numpy import forecast as nf
from seqlearn.torch.forecast import RNNForecaster, fit_forecaster, predict


def test_forecaster_has_exactly_19_parameters():
    model = RNNForecaster(hidden_size=3)
    assert sum(p.numel() for p in model.parameters()) == 19
    assert isinstance(model.out, nn.Linear)
    assert sum(v.size for v in nf.init_rnn_forecaster_params(3).values()) == 19


@pytest.mark.parametrize("cell, count", [("lstm", 4 * 3 * (1 + 3 + 1) + 4), ("gru", None)])
def test_gated_forecasters(cell, count):
    torch.manual_seed(0)
    model = RNNForecaster(3, cell=cell, dtype=torch.float64)
    n_params = sum(p.numel() for p in model.parameters())
    assert count is None or n_params == count
    x = torch.randn(4, 12, 1, dtype=torch.float64)
    out, _ = model.rnn(x)
    torch.testing.assert_close(model(x), model.out(out[:, -1])[:, 0])
    with pytest.raises(ValueError, match="cell"):
        model.to_numpy()


def test_init_follows_seqlearn_seed():
    seqlearn.seed(1)
    first = nf.init_rnn_forecaster_params(3)
    seqlearn.seed(1)
    again = nf.init_rnn_forecaster_params(3)
    assert all(np.array_equal(v, again[k]) for k, v in first.items())
    assert not np.array_equal(first["W_hh"], nf.init_rnn_forecaster_params(3)["W_hh"])


def test_naive_baselines_on_the_last_48_months():
    _, y = load_airline_passengers()
    test = y[96:]
    assert len(test) == 48
    assert round(nf.rmse(nf.naive_last_value(y, 96), test), 2) == 48.04
    assert round(nf.rmse(nf.naive_seasonal(y, 96, season=12), test), 2) == 41.85


def test_baselines_predict_the_right_values():
    y = np.arange(30.0)
    np.testing.assert_array_equal(nf.naive_last_value(y, 20), np.arange(19.0, 29.0))
    np.testing.assert_array_equal(nf.naive_seasonal(y, 20, 12), np.arange(8.0, 18.0))


def test_numpy_torch_parity_float64():
    rng = np.random.default_rng(0)
    params = nf.init_rnn_forecaster_params(3, rng=rng)
    x = rng.normal(size=(5, 12, 1))
    model = RNNForecaster.from_numpy(params)
    got = predict(model, torch.from_numpy(x))
    assert got.shape == (5,)
    assert np.max(np.abs(got - nf.rnn_forecaster_forward(x, params))) < 1e-10
    back = model.to_numpy()
    for name in params:
        np.testing.assert_array_equal(back[name], params[name])


def test_scalers_are_fitted_on_training_data_only_and_invert():
    train, later = np.array([2.0, 4.0, 6.0]), np.array([10.0, 0.0])
    mm = nf.MinMaxScaler().fit(train)
    np.testing.assert_allclose(mm.transform(later), [2.0, -0.5])  # beyond [0, 1]: no leak
    np.testing.assert_allclose(mm.inverse_transform(mm.transform(later)), later, atol=1e-12)
    st = nf.StandardScaler().fit(train)
    np.testing.assert_allclose(st.transform(train).mean(), 0, atol=1e-15)
    np.testing.assert_allclose(st.transform(train).std(), 1)
    np.testing.assert_allclose(st.inverse_transform(st.transform(later)), later, atol=1e-12)
    with pytest.raises(RuntimeError, match="fit"):
        nf.MinMaxScaler().transform(train)


def test_relative_to_level_round_trip():
    _, y = load_airline_passengers()
    x, t = make_windows(y, 12)
    x_rel, t_rel, level = nf.relative_to_level(x, t)
    np.testing.assert_allclose(x_rel.mean(axis=(1, 2)), 0, atol=1e-12)
    np.testing.assert_allclose(nf.from_level(t_rel, level), t)
    np.testing.assert_allclose(level, x[:, :, 0].mean(axis=1))


def test_fitting_lowers_the_error_below_a_constant_forecast():
    torch.manual_seed(0)
    _, y = load_airline_passengers()
    x, t = make_windows(y, 12)
    x_rel, t_rel, _ = nf.relative_to_level(x[:72], t[:72])
    scaler = nf.StandardScaler().fit(x_rel)
    X, T = torch.from_numpy(scaler.transform(x_rel)), torch.from_numpy(scaler.transform(t_rel))
    model = RNNForecaster(3, dtype=torch.float64)
    losses = fit_forecaster(model, X, T, steps=150, lr=0.05)
    assert len(losses) == 150 and losses[-1] < 0.5 * losses[0]
    assert losses[-1] < float(torch.var(T))  # better than predicting the mean
    lbfgs = RNNForecaster(3, dtype=torch.float64)
    lb_losses = fit_forecaster(lbfgs, X, T, steps=30, optimizer="lbfgs")
    assert min(lb_losses) < lb_losses[0]
    assert len(lb_losses) <= 30 * 5 // 4 + 1         # L-BFGS's evaluations: at most 1.25 per iteration


def test_lbfgs_fit_is_one_lbfgs_run_of_at_most_steps_iterations():
    """fit_forecaster(optimizer="lbfgs") is torch's L-BFGS, max_iter=steps, strong Wolfe, lr 1."""
    torch.manual_seed(0)
    x, t = torch.randn(20, 6, 1, dtype=torch.float64), torch.randn(20, dtype=torch.float64)
    ours, reference = RNNForecaster(3, dtype=torch.float64), RNNForecaster(3, dtype=torch.float64)
    reference.load_state_dict(ours.state_dict())
    losses = fit_forecaster(ours, x, t, steps=15, optimizer="lbfgs")
    optimiser = torch.optim.LBFGS(reference.parameters(), lr=1.0, max_iter=15,
                                  line_search_fn="strong_wolfe")
    evaluations = []

    def closure():
        optimiser.zero_grad()
        loss = torch.mean((reference(x) - t) ** 2)
        evaluations.append(loss.item())
        loss.backward()
        return loss

    optimiser.step(closure)
    assert losses == evaluations
    for a, b in zip(ours.parameters(), reference.parameters()):
        assert torch.equal(a, b)


def test_a_diverging_fit_stops_with_a_clear_message():
    torch.manual_seed(0)
    model = RNNForecaster(3, dtype=torch.float64)
    with torch.no_grad():
        model.out.weight.fill_(float("nan"))
    x, t = torch.zeros(4, 12, 1, dtype=torch.float64), torch.zeros(4, dtype=torch.float64)
    with pytest.raises(FloatingPointError, match="training stopped at step 0"):
        fit_forecaster(model, x, t, steps=5)


def test_bad_input():
    model = RNNForecaster(3, dtype=torch.float64)
    x, t = torch.zeros(4, 12, 1, dtype=torch.float64), torch.zeros(4, dtype=torch.float64)
    with pytest.raises(ValueError, match="x"):
        model(torch.zeros(4, 12, 2, dtype=torch.float64))
    with pytest.raises(ValueError, match="t"):
        fit_forecaster(model, x, t[:3])
    with pytest.raises(ValueError, match="optimizer"):
        fit_forecaster(model, x, t, optimizer="rmsprop")
    with pytest.raises(ValueError, match="steps"):
        fit_forecaster(model, x, t, steps=0)
    with pytest.raises(ValueError, match="start"):
        nf.naive_seasonal(np.arange(20.0), 5, 12)
    with pytest.raises(ValueError, match="series"):
        nf.naive_last_value(np.ones((3, 3)), 1)
    with pytest.raises(ValueError, match="target"):
        nf.rmse(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="x"):
        nf.relative_to_level(-np.ones((2, 3, 1)))
    with pytest.raises(ValueError, match="W_hy"):
        RNNForecaster.from_numpy({**nf.init_rnn_forecaster_params(3), "W_hy": np.zeros((3, 2))})
    with pytest.raises(ValueError, match="W_hy"):
        nf.rnn_forecaster_forward(np.zeros((2, 5, 1)), {k: v for k, v in
                                                        nf.init_rnn_forecaster_params(3).items()
                                                        if k != "W_hy"})
    with pytest.raises(ValueError, match="hidden_size"):
        RNNForecaster(0)
    with pytest.raises(ValueError, match="cell"):
        RNNForecaster(3, cell="transformer")


def test_evaluate_forecaster_is_the_chapters_recipe_and_leaves_torchs_state():
    from seqlearn.torch.forecast import evaluate_forecaster

    _, y = load_airline_passengers()
    state = torch.random.get_rng_state()
    result = evaluate_forecaster(y, 12, 3, seed=0, steps=40)
    assert torch.equal(state, torch.random.get_rng_state())
    # the same recipe written out
    x, t = make_windows(y, 12)
    month = np.arange(12, len(y))
    train, test = month < 84, month >= 96
    x_rel, t_rel, level = nf.relative_to_level(x, t)
    scaler = nf.StandardScaler().fit(x_rel[train])
    torch.manual_seed(0)
    model = RNNForecaster(3, dtype=torch.float64)
    fit_forecaster(model, torch.from_numpy(scaler.transform(x_rel[train])),
                   torch.from_numpy(scaler.transform(t_rel[train])), steps=40)
    z = predict(model, torch.from_numpy(scaler.transform(x_rel)))
    forecast = nf.from_level(scaler.inverse_transform(z), level)
    np.testing.assert_allclose(result["prediction"], forecast[test], rtol=1e-12)
    assert result["test_rmse"] == pytest.approx(nf.rmse(forecast[test], y[96:]))
    assert result["parameters"] == 19 and result["train_windows"] == 72
    assert evaluate_forecaster(y, 12, 3, seed=0, steps=40)["test_rmse"] == result["test_rmse"]


def test_evaluate_forecaster_bad_input_is_named():
    from seqlearn.torch.forecast import evaluate_forecaster

    _, y = load_airline_passengers()
    with pytest.raises(ValueError, match="valid_start, test_start"):
        evaluate_forecaster(y, 12, 3, valid_start=100, test_start=96)
    with pytest.raises(ValueError, match="cell"):
        evaluate_forecaster(y, 12, 3, cell="transformer", steps=1)
    with pytest.raises(TypeError, match="seed"):
        evaluate_forecaster(y, 12, 3, seed=1.5)
