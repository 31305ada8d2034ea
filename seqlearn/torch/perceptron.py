"""Single neurons and the perceptron rule in PyTorch (mirrors ``seqlearn.numpy.perceptron``).

    a = x w + b,  y = f(a)                        one neuron: w (D,), b scalar
    a = x W + b,  y = f(a)                        a layer of H neurons: W (D, H), b (H,)
    if t_n a_n ≤ 0:  w ← w + η t_n x_n,  b ← b + η t_n     (labels t ∈ {−1, +1})

The perceptron rule is not gradient descent on a differentiable loss, so it runs under
``torch.no_grad()``; the closest built-in is ``nn.Linear(D, 1)``, whose ``weight`` (1, D) is wᵀ.
"""

import numpy as np
import torch
from torch import nn

from ..validate import (check_device, check_positive_int, check_positive_number, check_tensor,
                        describe)
from .common import check_like_parameters, check_same_dtype


def _step(a):
    return (a >= 0).to(a.dtype)


#: name -> elementwise torch function f (the names of ``seqlearn.numpy.activations.ACTIVATIONS``).
ACTIVATIONS = {
    "step": _step,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "identity": lambda a: a,
}


def get_activation(name):
    """The activation function f called ``name`` (a key of :data:`ACTIVATIONS`)."""
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(f"activation: expected one of {sorted(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[name]


def layer_activity(x, W, b, activation="step"):
    """Activations a = x W + b (..., H) and outputs y = f(a) (..., H) of a layer of neurons:
    x (..., D), W (D, H), b (H,). Returns ``(a, y)``."""
    f = get_activation(activation)
    W = check_tensor("W", W, ndim=2)
    b = check_tensor("b", b, ndim=1, last_dim=W.shape[1])
    x = check_tensor("x", x, last_dim=W.shape[0])
    check_same_dtype("b", b, "W", W)
    check_same_dtype("x", x, "W", W)
    a = x @ W + b
    return a, f(a)


def _check_labels(t, n, like):
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"t: expected a torch.Tensor of labels ±1, got {type(t).__name__}")
    if t.dim() != 1 or len(t) != n:
        raise ValueError(
            f"t: expected shape ({n},) (one label per row of x), got {tuple(t.shape)}")
    if not bool(torch.all((t == 1) | (t == -1))):
        raise ValueError(
            f"t: labels must be -1 or +1, got the values {torch.unique(t)[:6].tolist()}")
    return t.to(dtype=like.dtype, device=like.device)


def _check_bias(b, w):
    """The bias ``b`` (a number or a 0-d tensor) as a finite 0-d tensor like ``w``."""
    if isinstance(b, bool) or not isinstance(b, (int, float, np.integer, np.floating,
                                                 torch.Tensor)):
        raise TypeError(f"b: expected a number or a 0-d tensor, got {describe(b)}")
    b = torch.as_tensor(b, dtype=w.dtype, device=w.device)
    if b.dim() != 0:
        raise ValueError(f"b: expected a scalar (0-d tensor), got {describe(b)}")
    if not bool(torch.isfinite(b)):
        raise ValueError("b: contains NaN or inf values")
    return b


def perceptron_predict(x, w, b):
    """Labels ±1 of the perceptron: +1 where a = x w + b ≥ 0, else −1. x (..., D), w (D,),
    b a scalar -> (...)."""
    w = check_tensor("w", w, ndim=1)
    check_tensor("x", x, last_dim=len(w))
    check_same_dtype("x", x, "w", w)
    b = _check_bias(b, w)
    a = x @ w + b
    return torch.where(a >= 0, torch.ones_like(a), -torch.ones_like(a))


@torch.no_grad()
def perceptron_epoch(x, t, w, b, lr=1.0):
    """One pass of the perceptron rule over the rows of ``x`` in order: where t_n (x_n w + b) ≤ 0,
    w ← w + η t_n x_n and b ← b + η t_n.

    x (N, D), t (N,) labels ±1, w (D,), b a 0-d tensor or a number, lr = η > 0. Returns new
    ``(w (D,), b (0-d), mistakes)``; the arguments are not modified.
    """
    w = check_tensor("w", w, ndim=1).clone()
    b = _check_bias(b, w).clone()
    x = check_tensor("x", x, ndim=2, last_dim=len(w))
    check_same_dtype("x", x, "w", w)
    t = _check_labels(t, len(x), x)
    lr = check_positive_number("lr", lr)
    mistakes = 0
    for x_n, t_n in zip(x, t):
        if t_n * (x_n @ w + b) <= 0:
            w += lr * t_n * x_n
            b += lr * t_n
            mistakes += 1
    return w, b, mistakes


class Perceptron(nn.Module):
    """Rosenblatt's perceptron: parameters ``w`` (D,) and ``b`` (); ``forward`` returns the
    activations a = x w + b (as ``seqlearn.numpy.perceptron.perceptron_forward``)."""

    def __init__(self, input_size, dtype=None, device=None):
        device = check_device("device", device)
        super().__init__()
        input_size = check_positive_int("input_size", input_size)
        self.w = nn.Parameter(torch.zeros(input_size, dtype=dtype, device=device))
        self.b = nn.Parameter(torch.zeros((), dtype=dtype, device=device))

    def extra_repr(self):
        return f"input_size={len(self.w)}"

    def forward(self, x):
        """x (..., D) -> activations a = x w + b (...)."""
        x = check_tensor("x", x, last_dim=len(self.w))
        check_like_parameters("x", x, self.w)
        return x @ self.w + self.b

    def predict(self, x):
        """Labels ±1 (...) of x (..., D): +1 where a ≥ 0 (:func:`perceptron_predict`)."""
        return perceptron_predict(x, self.w, self.b)

    @torch.no_grad()
    def train_epoch(self, x, t, lr=1.0):
        """Apply :func:`perceptron_epoch` to this perceptron's parameters; return the mistakes."""
        w, b, mistakes = perceptron_epoch(x, t, self.w, self.b, lr)
        self.w.copy_(w)
        self.b.copy_(b)
        return mistakes

    @classmethod
    def from_numpy(cls, w, b, dtype=torch.float64, device=None):
        """A perceptron holding NumPy weights ``w`` (D,) and bias ``b`` (a number)."""
        device = check_device("device", device)
        w = np.asarray(w)
        if w.ndim != 1:
            raise ValueError(f"w: expected shape (D,), got {describe(w)}")
        model = cls(len(w), dtype=dtype, device=device)
        with torch.no_grad():
            model.w.copy_(torch.as_tensor(w, dtype=torch.float64))
            model.b.copy_(torch.as_tensor(float(b), dtype=torch.float64))
        return model

    def to_numpy(self):
        """``(w, b)``: a float64 array (D,) and a float, the arguments of the NumPy functions."""
        return self.w.detach().cpu().double().numpy(), float(self.b.detach())

    def to_torch_builtin(self):
        """An ``nn.Linear(D, 1)`` computing the same a (its ``weight`` is wᵀ, shape (1, D))."""
        linear = nn.Linear(len(self.w), 1, dtype=self.w.dtype, device=self.w.device)
        with torch.no_grad():
            linear.weight.copy_(self.w[None, :])
            linear.bias.copy_(self.b[None])
        return linear

    @classmethod
    def from_torch_builtin(cls, linear):
        """The perceptron of an ``nn.Linear(D, 1)``."""
        if not isinstance(linear, nn.Linear) or linear.out_features != 1 or linear.bias is None:
            raise TypeError(f"linear: expected an nn.Linear(D, 1) with a bias, got {linear!r}")
        model = cls(linear.in_features, dtype=linear.weight.dtype, device=linear.weight.device)
        with torch.no_grad():
            model.w.copy_(linear.weight[0])
            model.b.copy_(linear.bias[0])
        return model


__all__ = ["ACTIVATIONS", "Perceptron", "get_activation", "layer_activity", "perceptron_epoch",
           "perceptron_predict"]
