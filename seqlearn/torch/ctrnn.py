"""Continuous-time RNNs in PyTorch, mirroring ``seqlearn.numpy.ctrnn``.

    τ da/dt = −a + σ(a) W_hh + b_h          (σ(a) W_hh)_j = Σ_i σ(a_i) W_hh[i, j]

for the pre-activations a (..., H) of H units, in the letters of the Elman RNN (row vectors,
W_hh[i, j] from unit i to unit j); h = σ(a) are the units' outputs. The functions integrate
batches of states on any device and are differentiable, so W_hh, b_h and τ can be fitted by
gradient descent through the simulation; :class:`CTRNN` holds them as parameters. Fixed-point
analysis stays in the NumPy reference (:meth:`CTRNN.find_fixed_points` calls it). The integrator
is the NumPy module's :func:`integrate_ode`, which works on tensors.
"""

import numpy as np
import torch
from torch import nn

from ..numpy import ctrnn as np_ctrnn
from ..numpy.ctrnn import integrate_ode
from ..numpy.common import check_param_dict
from ..validate import (check_device, check_positive_int, check_positive_number, check_tensor,
                        describe)
from .common import check_same_dtype

#: name -> the unit's σ, elementwise (the names of ``seqlearn.numpy.ctrnn.ACTIVATIONS``).
ACTIVATIONS = {"tanh": torch.tanh, "logistic": torch.sigmoid}


def _activation(name):
    if name not in ACTIVATIONS:
        raise ValueError(f"activation: expected one of {sorted(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[name]


def _check_system(a, W_hh, b_h, tau, a_name="a"):
    check_tensor("W_hh", W_hh, ndim=2)
    H = W_hh.shape[0]
    if W_hh.shape[1] != H:
        raise ValueError(f"W_hh: expected a square (H, H) coupling matrix, got {describe(W_hh)}")
    check_tensor(a_name, a, last_dim=H)
    check_same_dtype(a_name, a, "W_hh", W_hh)
    for name, value in (("b_h", b_h), ("tau", tau)):
        if isinstance(value, torch.Tensor):
            check_tensor(name, value)
            if value.dim() > 0 and tuple(value.shape) != (H,):
                raise ValueError(f"{name}: expected a scalar or shape ({H},), "
                                 f"got {describe(value)}")
        elif isinstance(value, bool) or not isinstance(value, (int, float, np.integer,
                                                               np.floating)):
            raise TypeError(f"{name}: expected a number or a tensor of shape ({H},), "
                            f"got {describe(value)}")
        elif not np.isfinite(value):
            raise ValueError(f"{name}: expected a finite number, got {value!r}")
    if isinstance(tau, torch.Tensor):
        if torch.any(tau <= 0):
            raise ValueError("tau: time constants must be positive")
    elif not tau > 0:
        raise ValueError(f"tau: time constants must be positive, got {tau!r}")


def ctrnn_derivative(a, W_hh, b_h, tau=1.0, activation="tanh"):
    """da/dt = (−a + σ(a) W_hh + b_h) / τ for states ``a`` (..., H); ``W_hh`` (H, H); ``b_h`` and
    ``tau`` numbers or (H,) tensors. Returns (..., H)."""
    sigma = _activation(activation)
    _check_system(a, W_hh, b_h, tau)
    return _derivative(a, W_hh, b_h, tau, sigma)


def _derivative(a, W_hh, b_h, tau, sigma):
    return (-a + sigma(a) @ W_hh + b_h) / tau


def simulate_ctrnn(a0, W_hh, b_h, tau=1.0, dt=0.05, steps=200, method="rk4", activation="tanh"):
    """Integrate τ da/dt = −a + σ(a) W_hh + b_h from ``a0`` (H,) or (B, H) with fixed steps ``dt``
    (``"euler"`` or ``"rk4"``, :func:`integrate_ode`). Returns the trajectory
    ``(steps + 1, *a0.shape)``, a0 first."""
    _check_system(a0, W_hh, b_h, tau, "a0")
    sigma = _activation(activation)
    # checked once here, not at every step of the integration
    states = integrate_ode(lambda state: _derivative(state, W_hh, b_h, tau, sigma),
                           a0, dt, steps, method)
    return torch.stack(states)


class CTRNN(nn.Module):
    """A continuous-time RNN with parameters ``W_hh`` (H, H), ``b_h`` (H,) and time constants
    ``tau`` (H,) (a buffer: fixed unless made a parameter by the user). ``W_hh`` starts as
    N(0, 1/H) entries, ``b_h`` at zero.

    ``forward(a0, dt, steps, method)`` is :func:`simulate_ctrnn` with the module's W_hh, b_h, tau
    and activation: the trajectory ``(steps + 1, *a0.shape)``.
    """

    def __init__(self, size, activation="tanh", tau=1.0, dtype=None, device=None):
        device = check_device("device", device)
        super().__init__()
        self.size = check_positive_int("size", size)
        tau = check_positive_number("tau", tau)
        _activation(activation)
        self.activation = activation
        factory = {"dtype": dtype, "device": device}
        self.W_hh = nn.Parameter(torch.randn(size, size, **factory) / size ** 0.5)
        self.b_h = nn.Parameter(torch.zeros(size, **factory))
        self.register_buffer("tau", torch.full((size,), float(tau), **factory))

    def extra_repr(self):
        return f"size={self.size}, activation={self.activation!r}"

    def derivative(self, a):
        """da/dt at the states ``a`` (..., H) (:func:`ctrnn_derivative`)."""
        return ctrnn_derivative(a, self.W_hh, self.b_h, self.tau, self.activation)

    def forward(self, a0, dt=0.05, steps=200, method="rk4"):
        """The trajectory ``(steps + 1, *a0.shape)`` from ``a0`` (H,) or (B, H)."""
        return simulate_ctrnn(a0, self.W_hh, self.b_h, self.tau, dt, steps, method,
                              self.activation)

    @classmethod
    def from_numpy(cls, params, activation="tanh", dtype=torch.float64, device=None):
        """The module of the NumPy parameters ``params``: a dict with ``W_hh`` (H, H), ``b_h`` (a
        scalar or (H,)) and, optionally, ``tau`` (a scalar or (H,); 1 when absent), as
        :meth:`to_numpy` returns it."""
        device = check_device("device", device)
        check_param_dict(params, ("W_hh", "b_h"))
        W_hh, b_h, tau = np_ctrnn.check_ctrnn_params(params["W_hh"], params["b_h"],
                                                     params.get("tau", 1.0))
        model = cls(W_hh.shape[0], activation=activation, dtype=dtype, device=device)
        with torch.no_grad():
            model.W_hh.copy_(torch.as_tensor(W_hh, dtype=dtype))
            model.b_h.copy_(torch.as_tensor(b_h, dtype=dtype).expand(model.size))
            model.tau.copy_(torch.as_tensor(tau, dtype=dtype).expand(model.size))
        return model

    def to_numpy(self):
        """A dict ``{"W_hh" (H, H), "b_h" (H,), "tau" (H,)}`` of NumPy arrays (the arguments of
        the NumPy functions)."""
        return {name: getattr(self, name).detach().cpu().numpy().copy()
                for name in ("W_hh", "b_h", "tau")}

    def find_fixed_points(self, **kwargs):
        """The fixed points of the current parameters, by
        :func:`seqlearn.numpy.ctrnn.find_fixed_points` (keyword arguments go to it)."""
        p = self.to_numpy()
        return np_ctrnn.find_fixed_points(p["W_hh"], p["b_h"], p["tau"], self.activation,
                                          **kwargs)

    def lyapunov_exponent(self, a0, **kwargs):
        """The largest Lyapunov exponent of the current parameters from the start(s) ``a0`` (H,)
        or (B, H) (a NumPy array or a tensor), by
        :func:`seqlearn.numpy.ctrnn.ctrnn_lyapunov_exponent` (keyword arguments go to it)."""
        p = self.to_numpy()
        if isinstance(a0, torch.Tensor):
            a0 = a0.detach().cpu().numpy()
        return np_ctrnn.ctrnn_lyapunov_exponent(a0, p["W_hh"], p["b_h"], p["tau"],
                                                activation=self.activation, **kwargs)


__all__ = ["ACTIVATIONS", "CTRNN", "ctrnn_derivative", "integrate_ode", "simulate_ctrnn"]
