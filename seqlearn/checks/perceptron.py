"""Checks for chapter 2 (Perceptron and feed-forward networks).

Besides the case-by-case comparison with the package's reference, each check recognises a few
common wrong answers (a known mistake reproduced exactly) and names the likely cause.
"""

import copy

import numpy as np

from ..numpy.activations import sigmoid
from ..numpy.mlp import mlp_loss_and_gradients
from ..numpy.perceptron import layer_activity, perceptron_epoch
from .core import compare_outputs, fresh_rng, register, run_check


def _first_mismatch(student_fn, reference_fn, cases, names):
    """The first case on which the student's function runs but disagrees with the reference."""
    for kwargs in cases:
        try:
            got = student_fn(**copy.deepcopy(kwargs))
        except Exception:  # noqa: BLE001 - errors are already in the report
            continue
        if compare_outputs(got, reference_fn(**copy.deepcopy(kwargs)), names, 1e-6, 1e-5):
            return kwargs, got
    return None, None


def _check_with_diagnosis(exercise_id, title, student_fn, reference_fn, cases, names, hint,
                          mistakes):
    """``run_check``, then, when a case fails, compare the student's output on it with each
    known mistake ``(wrong_fn, message)`` and add the message of the first that matches."""
    report = run_check(exercise_id, title, student_fn, reference_fn, cases, names, hint=hint,
                       quiet=True)
    if report.attempted and not report.passed:
        kwargs, got = _first_mismatch(student_fn, reference_fn, cases, names)
        if kwargs is not None:
            for wrong_fn, message in mistakes:
                if compare_outputs(got, wrong_fn(**copy.deepcopy(kwargs)), names, 1e-6, 1e-5) is None:
                    report.lines.append(f"likely cause: {message}")
                    break
    print(report)
    return report


# ---------------------------------------------------------------------------------------------
# 02-neuron-forward: a layer of sigmoid neurons


def reference_sigmoid_layer(x, W, b):
    """a = x W + b (N, H) and y = 1 / (1 + exp(−a)) (N, H)."""
    return layer_activity(x, W, b, activation="sigmoid")


def _layer_without_bias(x, W, b):
    a = x @ W
    return a, sigmoid(a)


def _layer_with_tanh(x, W, b):
    a = x @ W + b
    return a, np.tanh(a)


def _layer_without_activation(x, W, b):
    a = x @ W + b
    return a, a


def _layer_with_exp_plus(x, W, b):
    a = x @ W + b
    return a, 1.0 / (1.0 + np.exp(a))


SIGMOID_LAYER_MISTAKES = [
    (_layer_without_bias, "the bias is missing: a = x W + b"),
    (_layer_with_tanh, "y is tanh(a); this layer uses the logistic sigmoid 1 / (1 + exp(-a))"),
    (_layer_without_activation, "y equals a: apply the sigmoid to the activation"),
    (_layer_with_exp_plus, "the sign in the exponent: sigmoid(a) = 1 / (1 + exp(-a))"),
]


@register("02-neuron-forward")
def check_sigmoid_layer(sigmoid_layer):
    """Check ``sigmoid_layer(x, W, b) -> (a, y)`` on random layers of several sizes."""
    rng = fresh_rng()
    cases = []
    for N, D, H in [(1, 3, 1), (4, 2, 3), (7, 5, 4), (16, 3, 8)]:
        cases.append({
            "x": rng.standard_normal((N, D)),
            "W": rng.standard_normal((D, H)),
            "b": rng.standard_normal(H),
        })
    return _check_with_diagnosis(
        "02-neuron-forward", "sigmoid_layer", sigmoid_layer, reference_sigmoid_layer, cases,
        ["a", "y"], hint="a = x @ W + b has shape (N, H); y = 1 / (1 + np.exp(-a))",
        mistakes=SIGMOID_LAYER_MISTAKES,
    )


# ---------------------------------------------------------------------------------------------
# 02-perceptron-update: one epoch of the perceptron rule


def reference_perceptron_epoch(x, t, w, b, lr):
    """One pass of the perceptron rule in the given order: ``(w, b, mistakes)``."""
    return perceptron_epoch(x, t, w, b, lr)


def _epoch_strict(x, t, w, b, lr):
    w, mistakes = np.array(w, dtype=float), 0
    for x_n, t_n in zip(x, t):
        if t_n * (x_n @ w + b) < 0:
            w, b, mistakes = w + lr * t_n * x_n, b + lr * t_n, mistakes + 1
    return w, b, mistakes


def _epoch_batch(x, t, w, b, lr):
    wrong = t * (x @ w + b) <= 0
    return w + lr * (t[wrong] @ x[wrong]), b + lr * t[wrong].sum(), int(wrong.sum())


def _epoch_no_bias(x, t, w, b, lr):
    w, mistakes = np.array(w, dtype=float), 0
    for x_n, t_n in zip(x, t):
        if t_n * (x_n @ w + b) <= 0:
            w, mistakes = w + lr * t_n * x_n, mistakes + 1
    return w, b, mistakes


def _epoch_no_lr(x, t, w, b, lr):
    return perceptron_epoch(x, t, w, b, 1.0)


PERCEPTRON_MISTAKES = [
    (_epoch_strict, "an example exactly on the boundary (t a = 0, as every example is when w = 0 "
                    "and b = 0) counts as a mistake: update when t * a <= 0"),
    (_epoch_batch, "the predictions were all made with the starting weights; update w and b as "
                   "soon as a mistake is found, so the next example sees the new weights"),
    (_epoch_no_bias, "the bias never changes: on a mistake also b <- b + lr * t_n"),
    (_epoch_no_lr, "the learning rate is ignored: the update is lr * t_n * x_n"),
]


@register("02-perceptron-update")
def check_perceptron_epoch(perceptron_epoch_fn):
    """Check ``perceptron_epoch(x, t, w, b, lr) -> (w, b, mistakes)``."""
    rng = fresh_rng()
    cases = []
    for N, D, zero_start, lr in [(5, 2, True, 1.0), (12, 3, False, 0.5), (20, 2, True, 0.1),
                                 (30, 4, False, 1.0)]:
        x = rng.standard_normal((N, D))
        t = np.where(x @ rng.standard_normal(D) + 0.3 * rng.standard_normal(N) > 0, 1.0, -1.0)
        w = np.zeros(D) if zero_start else rng.standard_normal(D)
        b = 0.0 if zero_start else float(rng.standard_normal())
        cases.append({"x": x, "t": t, "w": w, "b": b, "lr": lr})
    return _check_with_diagnosis(
        "02-perceptron-update", "perceptron_epoch", perceptron_epoch_fn,
        reference_perceptron_epoch, cases, ["w", "b", "mistakes"],
        hint="visit the examples in order; when t_n * (x_n @ w + b) <= 0 add lr * t_n * x_n to w "
             "and lr * t_n to b, and count the mistake",
        mistakes=PERCEPTRON_MISTAKES,
    )


# ---------------------------------------------------------------------------------------------
# 02-mlp-backward: gradients of a one-hidden-layer tanh MLP with the mean squared error


def reference_mlp_gradients(x, t, W1, b1, W2, b2):
    """Loss L = mean((y − t)²), y = tanh(x W1 + b1) W2 + b2, and ∂L/∂W1, ∂L/∂b1, ∂L/∂W2, ∂L/∂b2."""
    params = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
    loss, grads = mlp_loss_and_gradients(x, t, params, activation="tanh", loss="mse")
    return loss, grads["W1"], grads["b1"], grads["W2"], grads["b2"]


def _mlp_gradients_variant(x, t, W1, b1, W2, b2, scale=2.0, per_example=False, tanh_prime=True,
                           total=False):
    h = np.tanh(x @ W1 + b1)
    y = h @ W2 + b2
    M = len(x) if per_example else y.size
    M = 1 if total else M
    loss = float(np.sum((y - t) ** 2) / M)
    dy = scale * (y - t) / M
    da = (dy @ W2.T) * ((1 - h**2) if tanh_prime else 1.0)
    return loss, x.T @ da, da.sum(0), h.T @ dy, dy.sum(0)


MLP_MISTAKES = [
    (lambda **kw: _mlp_gradients_variant(**kw, scale=1.0),
     "every gradient is half the right size: d/dy (y - t)^2 = 2 (y - t)"),
    (lambda **kw: _mlp_gradients_variant(**kw, per_example=True),
     "the loss is divided by N only; the mean runs over all N * K entries of y"),
    (lambda **kw: _mlp_gradients_variant(**kw, tanh_prime=False),
     "the gradient of W1 and b1 lacks the tanh derivative: multiply dL/dh by (1 - h**2)"),
    (lambda **kw: _mlp_gradients_variant(**kw, total=True),
     "the loss is summed, not averaged: divide by the number of entries of y"),
]


@register("02-mlp-backward")
def check_mlp_gradients(mlp_gradients):
    """Check ``mlp_gradients(x, t, W1, b1, W2, b2) -> (loss, dW1, db1, dW2, db2)``."""
    rng = fresh_rng()
    cases = []
    for N, D, H, K in [(1, 2, 3, 1), (5, 3, 4, 2), (8, 4, 6, 3), (20, 2, 5, 1)]:
        cases.append({
            "x": rng.standard_normal((N, D)),
            "t": rng.standard_normal((N, K)),
            "W1": rng.standard_normal((D, H)) / np.sqrt(D),
            "b1": 0.1 * rng.standard_normal(H),
            "W2": rng.standard_normal((H, K)) / np.sqrt(H),
            "b2": 0.1 * rng.standard_normal(K),
        })
    return _check_with_diagnosis(
        "02-mlp-backward", "mlp_gradients", mlp_gradients, reference_mlp_gradients, cases,
        ["loss", "dW1", "db1", "dW2", "db2"],
        hint="start from dL/dy = 2 (y - t) / y.size and apply the chain rule layer by layer: "
             "through an affine layer dL/dW = input.T @ delta, and through tanh multiply by "
             "1 - h**2",
        mistakes=MLP_MISTAKES,
    )


__all__ = [
    "MLP_MISTAKES", "PERCEPTRON_MISTAKES", "SIGMOID_LAYER_MISTAKES", "check_mlp_gradients",
    "check_perceptron_epoch", "check_sigmoid_layer", "reference_mlp_gradients",
    "reference_perceptron_epoch", "reference_sigmoid_layer",
]
