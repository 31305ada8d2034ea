"""Single neurons and Rosenblatt's perceptron learning rule.

A neuron computes its *activation* a as a weighted sum of its inputs plus a bias, and its
*activity* (output) y by passing a through an activation function f::

    a = x w + b,    y = f(a)                     x (N, D), w (D,), b scalar

A layer of H neurons stacks H weight vectors as the columns of W (D, H): a = x W + b, y = f(a).

The perceptron (labels t ∈ {−1, +1}) predicts sign(a) and learns only from its mistakes,
visiting the examples one by one::

    if t_n a_n ≤ 0:   w ← w + η t_n x_n,   b ← b + η t_n
"""

from dataclasses import dataclass, field

import numpy as np

from ..validate import as_float_array, as_generator, check_positive_int, check_positive_number
from .activations import ACTIVATIONS, get_activation
from .linear import linear_forward


def layer_activity(x, W, b, activation="step"):
    """Activations and outputs of a layer of neurons.

    Parameters
    ----------
    x : (..., D) inputs, one row per example
    W : (D, H) weights, column j belongs to neuron j
    b : (H,) biases
    activation : a key of :data:`ACTIVATIONS`: ``"step"``, ``"sigmoid"``, ``"tanh"``, ``"relu"``
        or ``"identity"``

    Returns
    -------
    a : (..., H), a = x W + b
    y : (..., H), y = f(a)
    """
    f = get_activation(activation)
    a, _ = linear_forward(x, W, b)
    return a, f(a)


def _check_labels(t, n):
    t = as_float_array("t", t, ndim=1)
    if len(t) != n:
        raise ValueError(f"t: expected {n} labels (one per row of x), got {len(t)}")
    if not np.all(np.isin(t, (-1.0, 1.0))):
        raise ValueError(f"t: labels must be -1 or +1, got the values {np.unique(t)[:6]}")
    return t


def _check_inputs(x, w, b):
    """x (N, D), w (D,) and a scalar b, as float arrays (b as a float)."""
    x = as_float_array("x", x, ndim=2)
    w = as_float_array("w", w, shape=(x.shape[1],))
    b = as_float_array("b", b, ndim=0)
    return x, w, float(b)


def perceptron_forward(x, w, b):
    """The perceptron's activations a = x w + b: x (N, D), w (D,), b a scalar -> a (N,)."""
    x, w, b = _check_inputs(x, w, b)
    return x @ w + b


def perceptron_predict(x, w, b):
    """Labels ±1 of the perceptron: +1 where a = x w + b ≥ 0, else −1. x (N, D) -> (N,)."""
    return np.where(perceptron_forward(x, w, b) >= 0, 1.0, -1.0)


def perceptron_epoch(x, t, w, b, lr=1.0):
    """One pass of the perceptron learning rule over the examples, in the order given.

    For n = 1 .. N: compute a_n = x_n w + b with the *current* weights; when t_n a_n ≤ 0 (the
    example is on the wrong side of the boundary, or on it) update

        w ← w + η t_n x_n,   b ← b + η t_n.

    Parameters
    ----------
    x : (N, D) inputs;  t : (N,) labels in {−1, +1}
    w : (D,) weights;  b : float bias;  lr : η > 0

    Returns
    -------
    w : (D,) new weights (a new array; the argument is not modified)
    b : float, new bias
    mistakes : int, the number of updates made during the pass
    """
    x, w, b = _check_inputs(x, w, b)
    t = _check_labels(t, len(x))
    lr = check_positive_number("lr", lr)
    w = w.copy()
    mistakes = 0
    for x_n, t_n in zip(x, t):
        if t_n * (x_n @ w + b) <= 0:
            w += lr * t_n * x_n
            b += lr * t_n
            mistakes += 1
    return w, b, mistakes


@dataclass
class PerceptronRun:
    """What :func:`train_perceptron` returns. The fields are the given objects.

    ``w`` (D,) and ``b`` are the final parameters; ``weights[k]`` and ``biases[k]`` the
    parameters after epoch k (index 0: the start), ``mistakes[k]`` the number of updates made in
    epoch k + 1, ``converged`` whether the last epoch made none (every training example
    classified correctly).
    """

    w: np.ndarray
    b: float
    mistakes: list = field(default_factory=list)
    weights: list = field(default_factory=list)
    biases: list = field(default_factory=list)
    converged: bool = False


def train_perceptron(x, t, lr=1.0, max_epochs=100, rng=None, w0=None, b0=0.0, shuffle=True):
    """Run :func:`perceptron_epoch` until an epoch makes no mistake or ``max_epochs`` is reached.

    On linearly separable data the loop stops after a finite number of updates, at most
    (R / γ)² (Novikoff 1962), where R = max_n ‖(x_n, 1)‖ (the bias folded into w as an extra
    input of value 1) and γ > 0 is a margin with which some unit-length (w*, b*) separates the
    data: t_n (x_n w* + b*) ≥ γ for every n.

    Parameters
    ----------
    x : (N, D);  t : (N,) labels ±1;  lr : η
    max_epochs : the most passes to make
    rng : ``numpy.random.Generator``, int seed, or ``None`` (NumPy's global state, which
        ``seqlearn.seed`` sets) for the visiting order when ``shuffle=True``
    w0, b0 : the starting weights (D,) (zeros when ``w0`` is None) and bias

    Returns
    -------
    :class:`PerceptronRun`
    """
    x = as_float_array("x", x, ndim=2)
    t = _check_labels(t, len(x))
    max_epochs = check_positive_int("max_epochs", max_epochs)
    w = np.zeros(x.shape[1]) if w0 is None else as_float_array("w0", w0, shape=(x.shape[1],))
    b = float(as_float_array("b0", b0, ndim=0))
    rng = as_generator(rng)
    run = PerceptronRun(w=w.copy(), b=b, weights=[w.copy()], biases=[b])
    for _ in range(max_epochs):
        order = rng.permutation(len(x)) if shuffle else np.arange(len(x))
        w, b, mistakes = perceptron_epoch(x[order], t[order], w, b, lr)
        run.weights.append(w.copy())
        run.biases.append(b)
        run.mistakes.append(mistakes)
        if mistakes == 0:
            run.converged = True
            break
    run.w, run.b = w, b
    return run


__all__ = [
    "ACTIVATIONS", "PerceptronRun", "get_activation", "layer_activity", "perceptron_epoch",
    "perceptron_forward", "perceptron_predict", "train_perceptron",
]
