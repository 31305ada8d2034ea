"""Activation functions y = f(a) of a neuron and their derivatives f'(a), elementwise on arrays of
any shape.

Each derivative is written in terms of the *output* y = f(a), which is what a forward pass keeps
in its cache::

    step      y = 1 if a ≥ 0 else 0          (McCulloch & Pitts; no useful derivative)
    sigmoid   y = 1 / (1 + exp(−a))          f'(a) = y (1 − y)
    tanh      y = tanh(a)                    f'(a) = 1 − y²
    relu      y = max(a, 0)                  f'(a) = 1 if y > 0 else 0
    identity  y = a                          f'(a) = 1
"""

import numpy as np

from ..validate import as_float_array


def step(a):
    """Heaviside threshold unit: 1.0 where a ≥ 0, else 0.0 (same shape as ``a``)."""
    a = as_float_array("a", a, allow_empty=True)
    return (a >= 0).astype(np.float64)


def sigmoid(a):
    """Logistic sigmoid y = 1 / (1 + exp(−a)) (same shape as ``a``), without overflow for any a."""
    a = as_float_array("a", a, allow_empty=True)
    # exp of a non-positive number never overflows: use exp(−|a|) on both branches.
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_derivative(y):
    """f'(a) = y (1 − y) for y = sigmoid(a) (same shape as ``y``)."""
    y = as_float_array("y", y, allow_empty=True)
    return y * (1.0 - y)


def tanh(a):
    """Hyperbolic tangent y = tanh(a) ∈ (−1, 1) (same shape as ``a``)."""
    a = as_float_array("a", a, allow_empty=True)
    return np.tanh(a)


def tanh_derivative(y):
    """f'(a) = 1 − y² for y = tanh(a) (same shape as ``y``)."""
    y = as_float_array("y", y, allow_empty=True)
    return 1.0 - y**2


def relu(a):
    """Rectified linear unit y = max(a, 0) (same shape as ``a``)."""
    a = as_float_array("a", a, allow_empty=True)
    return np.maximum(a, 0.0)


def relu_derivative(y):
    """f'(a) = 1 where y > 0 (that is a > 0), else 0; the value at a = 0 is taken as 0."""
    y = as_float_array("y", y, allow_empty=True)
    return (y > 0).astype(np.float64)


def identity(a):
    """y = a (a linear unit), as a new float array."""
    return np.array(as_float_array("a", a, allow_empty=True))


def identity_derivative(y):
    """f'(a) = 1 (same shape as ``y``)."""
    return np.ones_like(as_float_array("y", y, allow_empty=True))


#: Every activation f by name, ``step`` included.
ACTIVATIONS = {"step": step, "sigmoid": sigmoid, "tanh": tanh, "relu": relu, "identity": identity}

#: name -> f' written in terms of y = f(a). ``step`` is absent: its derivative is zero almost
#: everywhere, which is exactly why the perceptron needs its own learning rule.
DERIVATIVES = {
    "sigmoid": sigmoid_derivative,
    "tanh": tanh_derivative,
    "relu": relu_derivative,
    "identity": identity_derivative,
}


def _look_up(table, name, what):
    if not isinstance(name, str) or name not in table:
        raise ValueError(f"activation: expected one of {sorted(table)}{what}, got {name!r}")
    return table[name]


def get_activation(name):
    """The activation function f called ``name`` (a key of :data:`ACTIVATIONS`)."""
    return _look_up(ACTIVATIONS, name, "")


def get_derivative(name):
    """The derivative f' of the activation ``name``, as a function of y = f(a) (a key of
    :data:`DERIVATIVES`; ``step`` has none)."""
    return _look_up(DERIVATIVES, name, " (step has no useful derivative)")


__all__ = [
    "ACTIVATIONS", "DERIVATIVES", "get_activation", "get_derivative", "identity",
    "identity_derivative", "relu", "relu_derivative", "sigmoid", "sigmoid_derivative", "step",
    "tanh", "tanh_derivative",
]
