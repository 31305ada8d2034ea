"""Continuous-time RNNs in PyTorch, mirroring ``seqlearn.numpy.ctrnn``.

    τ dx/dt = −x + W σ(x) + h          (W σ(x))_i = Σ_j W_ij σ(x_j)

The functions integrate batches of states on any device and are differentiable, so W, h and τ
can be fitted by gradient descent through the simulation; :class:`CTRNN` holds them as
parameters. Fixed-point analysis stays in the NumPy reference (:meth:`CTRNN.find_fixed_points`
calls it).
"""

import torch
from torch import nn

from ..validate import describe, check_positive_int, check_tensor
from ..numpy import ctrnn as np_ctrnn

ACTIVATIONS = {"tanh": torch.tanh, "logistic": torch.sigmoid}


def _activation(name):
    if name not in ACTIVATIONS:
        raise ValueError(f"activation: expected one of {sorted(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[name]


def _check_system(x, W, h, tau):
    check_tensor("W", W, ndim=2)
    N = W.shape[0]
    if W.shape[1] != N:
        raise ValueError(f"W: expected a square (N, N) coupling matrix, got {describe(W)}")
    check_tensor("x", x, last_dim=N)
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
    scalars or (N,) tensors. Returns (..., N)."""
    sigma = _activation(activation)
    _check_system(x, W, h, tau)
    return (-x + sigma(x) @ W.T + h) / tau


def simulate_ctrnn(x0, W, h, tau=1.0, dt=0.05, steps=200, method="rk4", activation="tanh"):
    """Integrate τ dx/dt = −x + W σ(x) + h from ``x0`` (N,) or (M, N) with fixed steps ``dt``
    ("euler" or "rk4"). Returns the trajectory (steps + 1, *x0.shape), x0 first."""
    _check_system(x0, W, h, tau)
    _activation(activation)
    steps = check_positive_int("steps", steps)
    if not (isinstance(dt, (int, float)) and dt > 0):
        raise ValueError(f"dt: expected a positive step size, got {dt!r}")
    if method not in ("euler", "rk4"):
        raise ValueError(f"method: expected 'euler' or 'rk4', got {method!r}")

    def f(state):
        return ctrnn_derivative(state, W, h, tau, activation)

    x = x0
    states = [x]
    for _ in range(steps):
        if method == "euler":
            x = x + dt * f(x)
        else:
            k1 = f(x)
            k2 = f(x + 0.5 * dt * k1)
            k3 = f(x + 0.5 * dt * k2)
            k4 = f(x + dt * k3)
            x = x + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
        states.append(x)
    return torch.stack(states)


class CTRNN(nn.Module):
    """A continuous-time RNN with parameters ``W`` (N, N), ``h`` (N,) and time constants ``tau``
    (N,) (a buffer: fixed unless made a parameter by the user).

    ``forward(x0, steps, dt, method)`` returns the trajectory (steps + 1, *x0.shape).
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
        """dx/dt at the states ``x`` (..., N)."""
        return ctrnn_derivative(x, self.W, self.h, self.tau, self.activation)

    def forward(self, x0, steps=200, dt=0.05, method="rk4"):
        return simulate_ctrnn(x0, self.W, self.h, self.tau, dt, steps, method, self.activation)

    @classmethod
    def from_numpy(cls, W, h, tau=1.0, activation="tanh", dtype=torch.float64, device=None):
        """Build the module from NumPy arrays ``W`` (N, N), ``h`` (scalar or (N,)), ``tau``."""
        W, h, tau = np_ctrnn._check_system(W, h, tau)
        model = cls(W.shape[0], activation=activation, dtype=dtype, device=device)
        with torch.no_grad():
            model.W.copy_(torch.as_tensor(W, dtype=dtype))
            model.h.copy_(torch.as_tensor(h, dtype=dtype).expand(model.size))
            model.tau.copy_(torch.as_tensor(tau, dtype=dtype).expand(model.size))
        return model

    def to_numpy(self):
        """A dict ``{"W", "h", "tau"}`` of NumPy arrays (the arguments of the NumPy functions)."""
        return {name: getattr(self, name).detach().cpu().numpy().copy()
                for name in ("W", "h", "tau")}

    def find_fixed_points(self, **kwargs):
        """The fixed points of the current parameters (:func:`seqlearn.numpy.ctrnn.find_fixed_points`)."""
        p = self.to_numpy()
        return np_ctrnn.find_fixed_points(p["W"], p["h"], p["tau"], self.activation, **kwargs)


__all__ = ["ACTIVATIONS", "CTRNN", "ctrnn_derivative", "simulate_ctrnn"]
