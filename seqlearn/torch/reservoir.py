"""Echo state networks in ``torch``, mirroring ``seqlearn.numpy.reservoir``: a fixed random
reservoir (:class:`Reservoir`, equation (9.16); its weights are buffers, never trained) and the
ridge-regression read-out (:func:`fit_readout`, (9.17), and :func:`apply_readout`). Runs on a GPU
when the tensors are there.
"""

import numpy as np
import torch
from torch import nn

from ..numpy.common import check_param_dict
from ..numpy.reservoir import RESERVOIR_PARAM_NAMES
from ..validate import (check_device, check_positive_int, check_positive_number, check_tensor,
                        describe)
from .common import check_like_parameters, check_same_dtype


def _check_leak(leak_rate):
    if isinstance(leak_rate, bool) or not isinstance(leak_rate, (int, float)):
        raise TypeError(f"leak_rate: expected a number in (0, 1], got {describe(leak_rate)}")
    if not 0 < leak_rate <= 1:
        raise ValueError(f"leak_rate: expected a number in (0, 1], got {leak_rate!r}")
    return float(leak_rate)


class Reservoir(nn.Module):
    """h_t = (1 − a) h_{t−1} + a tanh(u_t W_in + h_{t−1} W + b) (9.16), with the leak rate a =
    ``leak_rate``. ``W_in`` (D, H) ~ U(−input_scale, input_scale), ``W`` (H, H) ~ N(0, 1)
    rescaled to ``spectral_radius``, ``b`` (H,) ~ U(−bias_scale, bias_scale): buffers, not
    parameters (a reservoir is not trained)."""

    def __init__(self, input_size, hidden_size, spectral_radius=0.9, leak_rate=1.0,
                 input_scale=1.0, bias_scale=0.2, dtype=None, device=None):
        device = check_device("device", device)
        super().__init__()
        D = check_positive_int("input_size", input_size)
        H = check_positive_int("hidden_size", hidden_size)
        self.leak_rate = _check_leak(leak_rate)
        spectral_radius = check_positive_number("spectral_radius", spectral_radius)
        input_scale = check_positive_number("input_scale", input_scale)
        if isinstance(bias_scale, bool) or not isinstance(bias_scale, (int, float, np.integer,
                                                                       np.floating)) \
                or not 0 <= bias_scale < float("inf"):
            raise ValueError(f"bias_scale: expected a finite number >= 0, got {bias_scale!r}")
        factory = {"dtype": dtype, "device": device}
        W = torch.randn((H, H), **factory)
        radius = torch.linalg.eigvals(W.double()).abs().max().item()
        self.register_buffer("W_in", torch.empty((D, H), **factory).uniform_(-input_scale,
                                                                             input_scale))
        self.register_buffer("W", W * (spectral_radius / radius))
        self.register_buffer("b", torch.empty(H, **factory).uniform_(-bias_scale, bias_scale))

    def extra_repr(self):
        return (f"input_size={self.W_in.shape[0]}, hidden_size={self.W.shape[0]}, "
                f"leak_rate={self.leak_rate}")

    def forward(self, u, h0=None):
        """Drive the reservoir with ``u`` (B, T, D) from ``h0`` (B, H) (zeros when ``None``).
        Returns the states (B, T, H)."""
        check_tensor("u", u, ndim=3, last_dim=self.W_in.shape[0])
        check_like_parameters("u", u, self.W)
        B, T, _ = u.shape
        H = self.W.shape[0]
        if h0 is None:
            h = torch.zeros((B, H), dtype=u.dtype, device=u.device)
        else:
            check_tensor("h0", h0, ndim=2, last_dim=H)
            if h0.shape[0] != B:
                raise ValueError(f"h0: expected shape ({B}, {H}), got {describe(h0)}")
            h = h0
        a = self.leak_rate
        drive = u @ self.W_in + self.b
        states = []
        for t in range(T):
            h = (1.0 - a) * h + a * torch.tanh(drive[:, t] + h @ self.W)
            states.append(h)
        return torch.stack(states, dim=1)

    @classmethod
    def from_numpy(cls, params, leak_rate=1.0, dtype=torch.float64, device=None):
        """From ``{"W_in", "W", "b"}`` (``seqlearn.numpy.reservoir.init_reservoir_params``)."""
        device = check_device("device", device)
        check_param_dict(params, RESERVOIR_PARAM_NAMES)
        D, H = np.shape(params["W_in"])
        model = cls(D, H, leak_rate=leak_rate, dtype=dtype, device=device)
        for name, shape in (("W_in", (D, H)), ("W", (H, H)), ("b", (H,))):
            value = np.asarray(params[name])
            if value.shape != shape:
                raise ValueError(f"params[{name!r}]: expected shape {shape}, got "
                                 f"{describe(value)}")
            getattr(model, name).copy_(torch.as_tensor(value, dtype=model.W.dtype))
        return model

    def to_numpy(self):
        """The reservoir's weights as a dict of NumPy arrays."""
        return {name: getattr(self, name).cpu().numpy().copy() for name in RESERVOIR_PARAM_NAMES}


def fit_readout(states, targets, ridge=1e-6):
    """The ridge-regression read-out (9.17), ``W_out`` (H + 1, K) (last row: the bias), for
    ``states`` (n, H) and ``targets`` (n, K) or (n,)."""
    check_tensor("states", states, ndim=2)
    check_tensor("targets", targets)
    Y = targets[:, None] if targets.dim() == 1 else targets
    if Y.dim() != 2 or len(Y) != len(states):
        raise ValueError(f"targets: expected shape ({len(states)}, K), got {describe(targets)}")
    if isinstance(ridge, bool) or not isinstance(ridge, (int, float)) or not ridge >= 0:
        raise ValueError(f"ridge: expected a number >= 0, got {ridge!r}")
    S1 = torch.cat([states, torch.ones((len(states), 1), dtype=states.dtype,
                                       device=states.device)], dim=1)
    eye = torch.eye(S1.shape[1], dtype=S1.dtype, device=S1.device)
    return torch.linalg.solve(S1.T @ S1 + ridge * eye, S1.T @ Y.to(S1.dtype))


def apply_readout(states, W_out):
    """y = [h, 1] W_out for ``states`` (..., H): (..., K)."""
    check_tensor("W_out", W_out, ndim=2)
    check_tensor("states", states, last_dim=W_out.shape[0] - 1)
    check_same_dtype("states", states, "W_out", W_out)
    return states @ W_out[:-1] + W_out[-1]


__all__ = ["RESERVOIR_PARAM_NAMES", "Reservoir", "apply_readout", "fit_readout"]
