"""The 19-parameter forecaster in PyTorch, mirroring ``seqlearn.numpy.forecast``: a 3-unit
:class:`~seqlearn.torch.rnn.ElmanRNN` reads a window of past values and a dense layer turns its
last state into the next value::

    h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h),    ŷ = h_w W_hy + b_y

The dense layer is an ``nn.Linear(H, 1)`` (its ``weight`` is W_hyᵀ). :func:`fit_forecaster`
trains it full-batch on the mean squared error with Adam or L-BFGS.
"""

import numpy as np
import torch
from torch import nn

from ..validate import describe, check_finite_loss, check_positive_int, check_tensor
from ..numpy import forecast as np_forecast
from .rnn import ElmanRNN


class RNNForecaster(nn.Module):
    """ElmanRNN(1, H) + Linear(H, 1); with H = 3 exactly 19 parameters."""

    def __init__(self, hidden_size=3, dtype=None, device=None):
        super().__init__()
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.rnn = ElmanRNN(1, self.hidden_size, dtype=dtype, device=device)
        self.out = nn.Linear(self.hidden_size, 1, dtype=dtype, device=device)

    def forward(self, x):
        """Forecasts (B,) from windows ``x`` (B, w, 1)."""
        check_tensor("x", x, ndim=3, last_dim=1)
        _, h_T = self.rnn(x)
        return self.out(h_T[-1])[:, 0]

    @classmethod
    def from_numpy(cls, params, dtype=torch.float64, device=None):
        """From a dict ``W_xh`` (1, H), ``W_hh``, ``b_h``, ``W_hy`` (H, 1), ``b_y`` (1,)."""
        missing = [k for k in np_forecast.FORECASTER_PARAM_NAMES if k not in params]
        if missing:
            raise ValueError(f"params: missing {missing}")
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
        """The parameters under the NumPy reference's names and layouts."""
        params = self.rnn.to_numpy()[0]
        params["W_hy"] = self.out.weight.detach().cpu().numpy().T.copy()
        params["b_y"] = self.out.bias.detach().cpu().numpy().copy()
        return params


def fit_forecaster(model, x, t, steps=400, lr=0.05, method="adam"):
    """Fit ``model`` to windows ``x`` (N, w, 1) and targets ``t`` (N,) by full-batch minimisation
    of the mean squared error.

    ``method="adam"`` takes ``steps`` Adam steps of size ``lr``; ``method="lbfgs"`` runs L-BFGS
    (strong Wolfe line search) for at most ``steps`` iterations. Returns the list of training
    losses. Stops with a clear message if the loss becomes NaN or inf.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    check_tensor("x", x, ndim=3, last_dim=1)
    check_tensor("t", t, ndim=1)
    if t.shape[0] != x.shape[0]:
        raise ValueError(f"t: expected {x.shape[0]} targets (one per window of x), got {describe(t)}")
    steps = check_positive_int("steps", steps)
    if method not in ("adam", "lbfgs"):
        raise ValueError(f"method: expected 'adam' or 'lbfgs', got {method!r}")
    losses = []

    def mse():
        return torch.mean((model(x) - t) ** 2)

    if method == "adam":
        optimiser = torch.optim.Adam(model.parameters(), lr=lr)
        for step in range(steps):
            optimiser.zero_grad()
            loss = mse()
            losses.append(check_finite_loss(loss.item(), step))
            loss.backward()
            optimiser.step()
    else:
        optimiser = torch.optim.LBFGS(model.parameters(), lr=1.0, max_iter=steps,
                                      line_search_fn="strong_wolfe")

        def closure():
            optimiser.zero_grad()
            loss = mse()
            losses.append(check_finite_loss(loss.item(), len(losses)))
            loss.backward()
            return loss

        optimiser.step(closure)
    return losses


def predict(model, x):
    """The model's forecasts for windows ``x`` as a NumPy array (no gradient)."""
    with torch.no_grad():
        return model(x).cpu().numpy()


__all__ = ["RNNForecaster", "fit_forecaster", "predict"]
