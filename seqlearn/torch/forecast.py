"""The 19-parameter forecaster in PyTorch, mirroring ``seqlearn.numpy.forecast``: a 3-unit
:class:`~seqlearn.torch.rnn.ElmanRNN` reads a window of past values and a dense layer turns its
last state into the next value::

    h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h),    ŷ = h_w W_hy + b_y

The dense layer is an ``nn.Linear(H, 1)`` (its ``weight`` is W_hyᵀ). With ``cell="lstm"`` or
``"gru"`` the same forecaster has a gated cell inside (chapter 6). :func:`fit_forecaster` trains
it full-batch on the mean squared error with the package's training loop
(:func:`seqlearn.torch.train.fit`); :func:`evaluate_forecaster` runs the whole recipe of chapter 4
(scaling, training, validation and test scores) for one window, size, cell and seed.
"""

import numpy as np
import torch
from torch import nn

from ..validate import as_float_array, check_device, describe, check_positive_int, check_tensor
from ..numpy import forecast as np_forecast
from ..numpy.common import check_param_dict
from .gru import GRU
from .lstm import LSTM
from .rnn import ElmanRNN
from .train import fit

_CELLS = {"rnn": ElmanRNN, "lstm": LSTM, "gru": GRU}

#: The parameters of the Elman forecaster under the NumPy reference's names.
FORECASTER_PARAM_NAMES = np_forecast.FORECASTER_PARAM_NAMES


class RNNForecaster(nn.Module):
    """A recurrent cell ``rnn`` (1 → H) + ``out`` = Linear(H, 1) on its last state.

    ``cell``: ``"rnn"`` (Elman, tanh; with H = 3 exactly 19 parameters, the model of chapter 4
    and of ``seqlearn.numpy.forecast``), ``"lstm"`` (H = 3: 64 parameters) or ``"gru"``.
    """

    def __init__(self, hidden_size=3, cell="rnn", dtype=None, device=None):
        device = check_device("device", device)
        super().__init__()
        if cell not in _CELLS:
            raise ValueError(f"cell: expected one of {', '.join(map(repr, _CELLS))}, got {cell!r}")
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.cell = cell
        self.rnn = _CELLS[cell](1, self.hidden_size, dtype=dtype, device=device)
        self.out = nn.Linear(self.hidden_size, 1, dtype=dtype, device=device)

    def extra_repr(self):
        return f"hidden_size={self.hidden_size}, cell={self.cell!r}"

    def forward(self, x):
        """Forecasts ŷ (B,) from windows ``x`` (B, w, 1): ``out`` of the cell's last output."""
        check_tensor("x", x, ndim=3, last_dim=1)
        out = self.rnn(x)[0]
        return self.out(out[:, -1])[:, 0]

    @classmethod
    def from_numpy(cls, params, dtype=torch.float64, device=None):
        """The Elman forecaster from a dict ``W_xh`` (1, H), ``W_hh``, ``b_h``, ``W_hy`` (H, 1),
        ``b_y`` (1,), as made by ``seqlearn.numpy.forecast.init_rnn_forecaster_params``."""
        device = check_device("device", device)
        check_param_dict(params, FORECASTER_PARAM_NAMES)
        H = np.shape(params["W_hh"])[0]
        if np.shape(params["W_hy"]) != (H, 1) or np.shape(params["b_y"]) != (1,):
            raise ValueError(
                f"params: expected W_hy ({H}, 1) and b_y (1,), got {np.shape(params['W_hy'])} "
                f"and {np.shape(params['b_y'])}"
            )
        model = cls(H, dtype=dtype, device=device)
        model.rnn = ElmanRNN.from_numpy({k: params[k] for k in ("W_xh", "W_hh", "b_h")},
                                        dtype=dtype, device=device)
        if model.rnn.input_size != 1:
            raise ValueError(f"params['W_xh']: expected shape (1, {H}), got {np.shape(params['W_xh'])}")
        with torch.no_grad():
            model.out.weight.copy_(torch.as_tensor(np.asarray(params["W_hy"]).T, dtype=dtype))
            model.out.bias.copy_(torch.as_tensor(np.asarray(params["b_y"]), dtype=dtype))
        return model

    def to_numpy(self):
        """The parameters under the NumPy reference's names and layouts (Elman cell only)."""
        if self.cell != "rnn":
            raise ValueError(f"cell: only the Elman forecaster (cell='rnn') has a NumPy "
                             f"reference, this one has cell={self.cell!r}")
        params = self.rnn.to_numpy()[0]
        params["W_hy"] = self.out.weight.detach().cpu().numpy().T.copy()
        params["b_y"] = self.out.bias.detach().cpu().numpy().copy()
        return params


def _mse(model, batch):
    x, t = batch
    return torch.mean((model(x) - t) ** 2)


def fit_forecaster(model, x, t, steps=400, lr=None, optimizer="adam", progress=False):
    """Fit ``model`` to windows ``x`` (N, w, 1) and targets ``t`` (N,) by full-batch minimisation
    of the mean squared error L = mean_n (model(x)_n − t_n)².

    ``optimizer="adam"`` (or ``"sgd"``) takes ``steps`` steps of size ``lr`` (default 0.05);
    ``optimizer="lbfgs"`` runs one L-BFGS minimisation (strong-Wolfe line search, step size
    ``lr``, default 1) of at most ``steps`` iterations. Returns the list of training losses:
    one per step, for L-BFGS one per evaluation of the loss. Stops with a clear message if the
    loss becomes NaN or inf.
    """
    check_tensor("x", x, ndim=3, last_dim=1)
    check_tensor("t", t, ndim=1)
    if t.shape[0] != x.shape[0]:
        raise ValueError(f"t: expected {x.shape[0]} targets (one per window of x), got {describe(t)}")
    steps = check_positive_int("steps", steps)
    if optimizer == "lbfgs":
        record = fit(model, _mse, (x, t), 1, optimizer="lbfgs", lr=1.0 if lr is None else lr,
                     progress=progress, optimizer_options={"max_iter": steps})
        return record["evaluations"]
    record = fit(model, _mse, (x, t), steps, optimizer=optimizer, lr=0.05 if lr is None else lr,
                 progress=progress)
    return record["losses"]


def predict(model, x):
    """The model's forecasts for windows ``x`` (N, w, 1) as a NumPy array (N,), without
    gradients."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected a forecaster (an nn.Module), got {describe(model)}")
    check_tensor("x", x, ndim=3, last_dim=1)
    with torch.no_grad():
        return model(x).cpu().numpy()


def evaluate_forecaster(series, window, hidden_size, cell="rnn", seed=0, valid_start=84,
                        test_start=96, steps=300, lr=0.05):
    """Train one forecaster with chapter 4's recipe and score it on a validation and a test
    period of ``series``.

    The series is cut into windows of ``window`` values, each with the next value as its target
    (``seqlearn.data.make_windows``); every window and its target are expressed relative to the
    window's level (``seqlearn.numpy.forecast.relative_to_level``) and standardised with the
    statistics of the training windows, those whose target comes before ``valid_start``. An
    :class:`RNNForecaster` (``hidden_size``, ``cell``) drawn from ``torch.manual_seed(seed)`` in
    float64 is fitted to them by full-batch Adam (:func:`fit_forecaster`, ``steps``, ``lr``);
    its forecasts are mapped back to the series' units.

    Returns a dict: ``valid_rmse`` (the targets ``valid_start`` .. ``test_start`` − 1),
    ``test_rmse`` (``test_start`` to the end), ``parameters`` (the model's count),
    ``train_windows`` and ``prediction`` (the forecasts of the test targets, a NumPy array).
    The global torch random state is restored afterwards.
    """
    from ..data import make_windows

    series = as_float_array("series", series, ndim=1)
    window = check_positive_int("window", window)
    hidden_size = check_positive_int("hidden_size", hidden_size)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed: expected an int, got {seed!r}")
    if not (isinstance(valid_start, (int, np.integer)) and isinstance(test_start, (int, np.integer))
            and window < valid_start < test_start < len(series)):
        raise ValueError(f"valid_start, test_start: expected {window} (the window) < valid_start "
                         f"< test_start < {len(series)} (the series' length), got {valid_start!r} "
                         f"and {test_start!r}")
    x, t = make_windows(series, window)
    month = np.arange(window, len(series))
    train, valid, test = month < valid_start, (month >= valid_start) & (month < test_start), \
        month >= test_start
    x_rel, t_rel, level = np_forecast.relative_to_level(x, t)
    scaler = np_forecast.StandardScaler().fit(x_rel[train])
    X = torch.from_numpy(scaler.transform(x_rel))
    Tz = torch.from_numpy(scaler.transform(t_rel))
    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(int(seed))
        model = RNNForecaster(hidden_size, cell=cell, dtype=torch.float64)
        fit_forecaster(model, X[train], Tz[train], steps=steps, lr=lr)
    finally:
        torch.random.set_rng_state(state)
    forecast = np_forecast.from_level(scaler.inverse_transform(predict(model, X)), level)
    return {"valid_rmse": np_forecast.rmse(forecast[valid], t[valid]),
            "test_rmse": np_forecast.rmse(forecast[test], t[test]),
            "parameters": sum(p.numel() for p in model.parameters()),
            "train_windows": int(train.sum()), "prediction": forecast[test]}


__all__ = ["FORECASTER_PARAM_NAMES", "RNNForecaster", "evaluate_forecaster", "fit_forecaster",
           "predict"]
