"""Continuous-time RNNs in PyTorch, mirroring ``seqlearn.numpy.ctrnn``.

    τ dx/dt = −x + W σ(x) + h          (W σ(x))_i = Σ_j W_ij σ(x_j)

The functions integrate batches of states on any device and are differentiable, so W, h and τ
can be fitted by gradient descent through the simulation; :class:`CTRNN` holds them as
parameters. Fixed-point analysis stays in the NumPy reference (:meth:`CTRNN.find_fixed_points`
calls it). The integrator is the NumPy module's :func:`integrate_ode`, which works on tensors.
"""

import torch
from torch import nn

from ..numpy import ctrnn as np_ctrnn
from ..numpy.ctrnn import integrate_ode
from ..numpy.common import check_param_dict
from ..validate import check_positive_int, check_tensor, describe

#: name -> the unit's σ, elementwise (the names of ``seqlearn.numpy.ctrnn.ACTIVATIONS``).
ACTIVATIONS = {"tanh": torch.tanh, "logistic": torch.sigmoid}


def _activation(name):
    if name not in ACTIVATIONS:
        raise ValueError(f"activation: expected one of {sorted(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[name]


def _check_system(x, W, h, tau, x_name="x"):
    check_tensor("W", W, ndim=2)
    N = W.shape[0]
    if W.shape[1] != N:
        raise ValueError(f"W: expected a square (N, N) coupling matrix, got {describe(W)}")
    check_tensor(x_name, x, last_dim=N)
    for name, value in (("h", h), ("tau", tau)):
        if isinstance(value, torch.Tensor) and value.dim() > 0 and tuple(value.shape) != (N,):
            raise ValueError(f"{name}: expected a scalar or shape ({N},), got {describe(value)}")
    if isinstance(tau, torch.Tensor):
        if torch.any(tau <= 0):
            raise ValueError("tau: time constants must be positive")
    elif not tau > 0:
        raise ValueError(f"tau: time constants must be positive, got {tau!r}")


def ctrnn_derivative(x, W, h, tau=1.0, activation="tanh"):
    """dx/dt = (−x + W σ(x) + h) / τ for states ``x`` (..., N); ``W`` (N, N); ``h`` and ``tau``
    numbers or (N,) tensors. Returns (..., N)."""
    sigma = _activation(activation)
    _check_system(x, W, h, tau)
    return (-x + sigma(x) @ W.T + h) / tau


def simulate_ctrnn(x0, W, h, tau=1.0, dt=0.05, steps=200, method="rk4", activation="tanh"):
    """Integrate τ dx/dt = −x + W σ(x) + h from ``x0`` (N,) or (M, N) with fixed steps ``dt``
    (``"euler"`` or ``"rk4"``, :func:`integrate_ode`). Returns the trajectory
    ``(steps + 1, *x0.shape)``, x0 first."""
    _check_system(x0, W, h, tau, "x0")
    _activation(activation)
    states = integrate_ode(lambda state: ctrnn_derivative(state, W, h, tau, activation),
                           x0, dt, steps, method)
    return torch.stack(states)


class CTRNN(nn.Module):
    """A continuous-time RNN with parameters ``W`` (N, N), ``h`` (N,) and time constants ``tau``
    (N,) (a buffer: fixed unless made a parameter by the user). ``W`` starts as N(0, 1/N)
    entries, ``h`` at zero.

    ``forward(x0, dt, steps, method)`` is :func:`simulate_ctrnn` with the module's W, h, tau and
    activation: the trajectory ``(steps + 1, *x0.shape)``.
    """

    def __init__(self, size, activation="tanh", tau=1.0, dtype=None, device=None):
        super().__init__()
        self.size = check_positive_int("size", size)
        _activation(activation)
        self.activation = activation
        factory = {"dtype": dtype, "device": device}
        self.W = nn.Parameter(torch.randn(size, size, **factory) / size ** 0.5)
        self.h = nn.Parameter(torch.zeros(size, **factory))
        self.register_buffer("tau", torch.full((size,), float(tau), **factory))

    def extra_repr(self):
        return f"size={self.size}, activation={self.activation!r}"

    def derivative(self, x):
        """dx/dt at the states ``x`` (..., N) (:func:`ctrnn_derivative`)."""
        return ctrnn_derivative(x, self.W, self.h, self.tau, self.activation)

    def forward(self, x0, dt=0.05, steps=200, method="rk4"):
        """The trajectory ``(steps + 1, *x0.shape)`` from ``x0`` (N,) or (M, N)."""
        return simulate_ctrnn(x0, self.W, self.h, self.tau, dt, steps, method, self.activation)

    @classmethod
    def from_numpy(cls, params, activation="tanh", dtype=torch.float64, device=None):
        """The module of the NumPy parameters ``params``: a dict with ``W`` (N, N), ``h`` (a
        scalar or (N,)) and, optionally, ``tau`` (a scalar or (N,); 1 when absent), as
        :meth:`to_numpy` returns it."""
        check_param_dict(params, ("W", "h"))
        W, h, tau = np_ctrnn.check_ctrnn_params(params["W"], params["h"], params.get("tau", 1.0))
        model = cls(W.shape[0], activation=activation, dtype=dtype, device=device)
        with torch.no_grad():
            model.W.copy_(torch.as_tensor(W, dtype=dtype))
            model.h.copy_(torch.as_tensor(h, dtype=dtype).expand(model.size))
            model.tau.copy_(torch.as_tensor(tau, dtype=dtype).expand(model.size))
        return model

    def to_numpy(self):
        """A dict ``{"W" (N, N), "h" (N,), "tau" (N,)}`` of NumPy arrays (the arguments of the
        NumPy functions)."""
        return {name: getattr(self, name).detach().cpu().numpy().copy()
                for name in ("W", "h", "tau")}

    def find_fixed_points(self, **kwargs):
        """The fixed points of the current parameters, by
        :func:`seqlearn.numpy.ctrnn.find_fixed_points` (keyword arguments go to it)."""
        p = self.to_numpy()
        return np_ctrnn.find_fixed_points(p["W"], p["h"], p["tau"], self.activation, **kwargs)


__all__ = ["ACTIVATIONS", "CTRNN", "ctrnn_derivative", "integrate_ode", "simulate_ctrnn"]
