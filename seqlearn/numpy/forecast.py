"""One-step-ahead forecasting of a series with a tiny RNN: the model, scaling, naive baselines.

The model reads a window of w past values x_1 .. x_w (one feature each) with an Elman RNN of H
units and maps its last state to the forecast through a dense layer::

    h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h),    ŷ = h_w W_hy + b_y

With H = 3 it has 3 + 9 + 3 + 3 + 1 = 19 parameters. ``seqlearn.torch.forecast`` trains it
(its ``RNNForecaster`` holds the same parameters under the same names).

Scaling matters: a tanh network sees numbers in a small range well. Every scaler here is fitted
on the training part only, so nothing about the test period leaks into the inputs.
"""

import numpy as np

from ..validate import as_float_array, as_generator, check_positive_int
from .common import check_param_dict
from .rnn import rnn_forward

FORECASTER_PARAM_NAMES = ("W_xh", "W_hh", "b_h", "W_hy", "b_y")


def init_rnn_forecaster_params(hidden_size=3, rng=None):
    """``W_xh`` (1, H), ``W_hh`` (H, H), ``b_h`` (H,), ``W_hy`` (H, 1), ``b_y`` (1,), drawn from
    U(-1/√H, 1/√H) (the read-out bias too). ``rng``: a ``numpy.random.Generator``, an int seed,
    or ``None`` for NumPy's global state (``seqlearn.seed``)."""
    H = check_positive_int("hidden_size", hidden_size)
    rng = as_generator(rng)
    s = 1.0 / np.sqrt(H)
    shapes = {"W_xh": (1, H), "W_hh": (H, H), "b_h": (H,), "W_hy": (H, 1), "b_y": (1,)}
    return {name: rng.uniform(-s, s, size=shape) for name, shape in shapes.items()}


def rnn_forecaster_forward(x, params):
    """Forecasts ŷ (B,) from windows ``x`` (B, w, 1): the RNN's last state through the dense
    layer, ŷ = h_w W_hy + b_y with h_w from :func:`seqlearn.numpy.rnn.rnn_forward` (h_0 = 0)."""
    check_param_dict(params, FORECASTER_PARAM_NAMES)
    H = np.shape(params["W_hh"])[0]
    W_hy = as_float_array("params['W_hy']", params["W_hy"], shape=(H, 1))
    b_y = as_float_array("params['b_y']", params["b_y"], shape=(1,))
    x = as_float_array("x", x, shape=(None, None, 1))
    h, _ = rnn_forward(x, None, params)
    return (h[:, -1] @ W_hy + b_y)[:, 0]


class MinMaxScaler:
    """z = (v − min) / (max − min), with min and max of the training data (``fit``)."""

    def fit(self, train):
        train = as_float_array("train", train)
        self.low, self.high = float(train.min()), float(train.max())
        if self.high == self.low:
            raise ValueError("train: all values are equal, so min-max scaling is undefined")
        return self

    def _fitted(self):
        if not hasattr(self, "low"):
            raise RuntimeError("MinMaxScaler: call fit(train) first")

    def transform(self, values):
        self._fitted()
        return (as_float_array("values", values, allow_empty=True) - self.low) / (self.high
                                                                                 - self.low)

    def inverse_transform(self, values):
        self._fitted()
        return as_float_array("values", values, allow_empty=True) * (self.high - self.low) \
            + self.low


class StandardScaler:
    """z = (v − mean) / std, with the mean and standard deviation of the training data."""

    def fit(self, train):
        train = as_float_array("train", train)
        self.mean, self.std = float(train.mean()), float(train.std())
        if self.std == 0:
            raise ValueError("train: all values are equal, so standardisation is undefined")
        return self

    def _fitted(self):
        if not hasattr(self, "mean"):
            raise RuntimeError("StandardScaler: call fit(train) first")

    def transform(self, values):
        self._fitted()
        return (as_float_array("values", values, allow_empty=True) - self.mean) / self.std

    def inverse_transform(self, values):
        self._fitted()
        return as_float_array("values", values, allow_empty=True) * self.std + self.mean


def relative_to_level(x, t=None):
    """Express each window relative to its own level (its mean), so a trend is scaled away.

    For a window x (w values) with level m = mean(x): x̃ = x / m − 1 and t̃ = t / m − 1. A series
    with a multiplicative trend and season (like the airline data) then looks the same in every
    year. Returns ``(x̃ (N, w, 1), t̃ (N,) or None, level (N,))``; undo with
    :func:`from_level`.
    """
    x = as_float_array("x", x, shape=(None, None, 1))
    level = x.mean(axis=(1, 2))
    if np.any(level <= 0):
        raise ValueError("x: every window must have a positive mean to be expressed relative to it")
    x_rel = x / level[:, None, None] - 1.0
    if t is None:
        return x_rel, None, level
    t = as_float_array("t", t, shape=(x.shape[0],))
    return x_rel, t / level - 1.0, level


def from_level(relative, level):
    """Undo :func:`relative_to_level`: v = (ṽ + 1) · level. ``level`` is a number or an array
    that broadcasts to the shape of ``relative`` (e.g. (N,) for forecasts (N,))."""
    relative = as_float_array("relative", relative)
    level = as_float_array("level", level)
    try:
        fits = np.broadcast_shapes(level.shape, relative.shape) == relative.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"level: expected a shape that broadcasts to {relative.shape} (that of "
                         f"relative), got shape {level.shape}")
    return (relative + 1.0) * level


def _check_series_start(series, start, lag):
    series = as_float_array("series", series, ndim=1)
    if isinstance(start, bool) or not isinstance(start, (int, np.integer)):
        raise TypeError(f"start: expected an int index, got {start!r}")
    if not lag <= start < len(series):
        raise ValueError(f"start: expected {lag} <= start < {len(series)}, got {start}")
    return series, int(start)


def naive_last_value(series, start):
    """Forecast every value from ``start`` on by the one just before it: ŷ_n = y_{n−1}.
    Returns an array of length ``len(series) − start``."""
    series, start = _check_series_start(series, start, 1)
    return series[start - 1:-1].copy()


def naive_seasonal(series, start, season=12):
    """Forecast every value from ``start`` on by the value one season earlier: ŷ_n = y_{n−season}."""
    season = check_positive_int("season", season)
    series, start = _check_series_start(series, start, season)
    return series[start - season:len(series) - season].copy()


def rmse(prediction, target):
    """Root mean squared error sqrt(mean((ŷ − y)²)), in the units of the series."""
    prediction = as_float_array("prediction", prediction)
    target = as_float_array("target", target, shape=prediction.shape)
    return float(np.sqrt(np.mean((prediction - target) ** 2)))


__all__ = ["FORECASTER_PARAM_NAMES", "init_rnn_forecaster_params", "rnn_forecaster_forward",
           "MinMaxScaler", "StandardScaler", "relative_to_level", "from_level",
           "naive_last_value", "naive_seasonal", "rmse"]
