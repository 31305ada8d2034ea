"""Checks for chapter 2 (Perceptron and feed-forward networks).

Five exercises: a layer of sigmoid neurons (Exercise 1), one epoch of the perceptron rule
(Exercise 2) and backpropagation through an MLP of any depth (Exercise 3) are *implement*
exercises, compared with the package's reference on fresh random inputs, every output of every
case scoring a point; training an MLP on XOR reliably (Exercise 4) is an *experiment*;
separability, parameter counts and the convergence theorem (Exercise 5) are a *concept* exercise.

Besides the case-by-case comparison, each implement check recognises the common wrong answers (a
known mistake reproduced exactly) and names the likely cause; the MLP check also says which
layers' gradients are wrong and points to the equation to revisit.
"""

import copy

import numpy as np

from ..data.synthetic import make_xor
from ..numpy import mlp
from ..numpy.activations import sigmoid
from ..numpy.perceptron import layer_activity, perceptron_epoch
from .core import (as_tuple, check_concept, check_experiment, fresh_rng, reference_allowed,
                   register, run_check, screen, to_numpy)


def _flat(out):
    """A function's outputs as a list of arrays, a dict output spread into its values (by key)."""
    flat = []
    for value in as_tuple(out):
        if isinstance(value, dict):
            flat += [("key", key, to_numpy(value[key])) for key in sorted(value)]
        else:
            flat.append(("value", None, to_numpy(value)))
    return flat


def _same(got, want, atol=1e-6, rtol=1e-5):
    """Whether two outputs agree entry by entry (dicts compared key by key)."""
    try:
        got, want = _flat(got), _flat(want)
        return len(got) == len(want) and all(
            kind_g == kind_w and key_g == key_w and np.shape(g) == np.shape(w)
            and np.allclose(np.asarray(g, dtype=float), np.asarray(w, dtype=float),
                            atol=atol, rtol=rtol)
            for (kind_g, key_g, g), (kind_w, key_w, w) in zip(got, want))
    except (TypeError, ValueError):
        return False


def _call(fn, case):
    """``fn`` on a deep copy of the case, or ``None`` when it raises."""
    try:
        return fn(**copy.deepcopy(case))
    except Exception:  # noqa: BLE001 - errors are already in the report
        return None


def _likely_cause(student_fn, reference_fn, cases, mistakes):
    """The message of the first known mistake ``(wrong_fn, message)`` that the student's answer
    reproduces on the first case where it runs but disagrees with the reference, else ``""``."""
    for case in cases:
        got = _call(student_fn, case)
        if got is None or _same(got, reference_fn(**copy.deepcopy(case))):
            continue
        for wrong_fn, message in mistakes:
            if _same(got, wrong_fn(**copy.deepcopy(case))):
                return message
        return ""
    return ""


def _add_line(report, line):
    """Add ``line`` to the report just before its hint (printed last)."""
    at = next((k for k, x in enumerate(report.lines) if x.startswith("hint: ")),
              len(report.lines))
    report.lines.insert(at, line)


def _check_with_diagnosis(exercise_id, title, student_fn, reference_fn, cases, names, hint,
                          mistakes, **kwargs):
    """``run_check``, then, when a case fails, the message of the known mistake the student's
    answer reproduces ("likely cause: ...")."""
    report = run_check(exercise_id, title, student_fn, reference_fn, cases, names, hint=hint,
                       quiet=True, **kwargs)
    if report.attempted and not report.refused and not report.passed:
        cause = _likely_cause(student_fn, reference_fn, cases, mistakes)
        if cause:
            _add_line(report, f"likely cause: {cause}")
    print(report)
    return report


# ---------------------------------------------------------------------------------------------
# 02-neuron-forward: a layer of sigmoid neurons

#: (N, D, H, how the inputs are drawn) of the cases: one example and one neuron, an ordinary
#: layer, all-zero inputs (A is then the bias alone) and large activations (saturated sigmoids).
NEURON_CASES = [(1, 3, 1, "normal"), (4, 2, 3, "normal"), (3, 4, 2, "zero"), (6, 3, 5, "large")]


def reference_sigmoid_layer(x, W, b):
    """The package's layer of sigmoid neurons: ``(A, Y)``, both (N, H)."""
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


def _layer_swapped(x, W, b):
    a = x @ W + b
    return sigmoid(a), a


def _layer_bias_after(x, W, b):
    return x @ W + b, sigmoid(x @ W) + b


SIGMOID_LAYER_MISTAKES = [
    (_layer_without_bias, "the bias is missing from the activations, equation (2.2)"),
    (_layer_with_tanh, "Y is tanh(A); this layer uses the logistic sigmoid of the table in "
                       "Section 2.1"),
    (_layer_without_activation, "Y equals A: the activation function is not applied"),
    (_layer_with_exp_plus, "the sign in the exponent is flipped: the sigmoid rises from 0 to 1 as "
                           "a grows, yours falls"),
    (_layer_swapped, "the outputs are swapped: return (A, Y), activations first"),
    (_layer_bias_after, "the bias is added after the sigmoid; it belongs inside, to the "
                        "activation (equation (2.1))"),
]


def _neuron_cases(rng):
    cases = []
    for N, D, H, kind in NEURON_CASES:
        x = rng.standard_normal((N, D))
        if kind == "zero":
            x = np.zeros((N, D))
        W, b = rng.standard_normal((D, H)), rng.standard_normal(H)
        if kind == "large":
            x, W, b = 6.0 * x, 6.0 * W, 6.0 * b
        cases.append({"x": x, "W": W, "b": b})
    return cases


@register("02-neuron-forward", kind="implement", points=2 * len(NEURON_CASES),
          summary="A and Y of a layer of sigmoid neurons on 4 random layers (one example, zero "
                  "inputs, saturated units), with the usual mistakes named")
def check_sigmoid_layer(sigmoid_layer):
    """Check ``sigmoid_layer(x, W, b) -> (A, Y)`` on random layers of several sizes."""
    return _check_with_diagnosis(
        "02-neuron-forward", "sigmoid_layer", sigmoid_layer, reference_sigmoid_layer,
        _neuron_cases(fresh_rng()), ["A", "Y"],
        hint="equations (2.1)-(2.2): A has one row per example and one column per neuron, every "
             "row gets the bias, and Y applies the logistic sigmoid of Section 2.1's table to "
             "each entry of A",
        mistakes=SIGMOID_LAYER_MISTAKES,
    )


# ---------------------------------------------------------------------------------------------
# 02-perceptron-update: one epoch of the perceptron rule

#: (N, D, start, lr): zero start (every example on the boundary until the first update), one
#: example, random starts with a learning rate that matters, and an all-zero input row.
PERCEPTRON_CASES = [(5, 2, "zero", 1.0), (1, 3, "random", 0.5), (12, 3, "random", 0.5),
                    (20, 2, "zero", 0.1), (30, 4, "random_zero_row", 1.0)]


def reference_perceptron_epoch(x, t, w, b, lr):
    """One pass of the perceptron rule in the given order: ``(w, b, mistakes)``."""
    return perceptron_epoch(x, t, w, b, lr)


def _epoch_variant(x, t, w, b, lr, strict=False, bias=True, rate=True, sign=1.0):
    w, mistakes = np.array(w, dtype=float), 0
    for x_n, t_n in zip(x, t):
        a = t_n * (x_n @ w + b)
        if a < 0 if strict else a <= 0:
            step = lr if rate else 1.0
            w = w + sign * step * t_n * x_n
            b = b + sign * step * t_n if bias else b
            mistakes += 1
    return w, b, mistakes


def _epoch_batch(x, t, w, b, lr):
    wrong = t * (x @ w + b) <= 0
    return w + lr * (t[wrong] @ x[wrong]), b + lr * t[wrong].sum(), int(wrong.sum())


def _epoch_bias_without_lr(x, t, w, b, lr):
    w, mistakes = np.array(w, dtype=float), 0
    for x_n, t_n in zip(x, t):
        if t_n * (x_n @ w + b) <= 0:
            w, b, mistakes = w + lr * t_n * x_n, b + t_n, mistakes + 1
    return w, b, mistakes


PERCEPTRON_MISTAKES = [
    (lambda **kw: _epoch_variant(**kw, strict=True),
     "an example exactly on the boundary (t a = 0, as every example is while w = 0 and b = 0) "
     "must count as a mistake, equation (2.3)"),
    (_epoch_batch, "the predictions were all made with the starting weights; update w and b as "
                   "soon as a mistake is found, so the next example sees the new weights"),
    (lambda **kw: _epoch_variant(**kw, bias=False), "the bias never changes: it is updated on "
                                                    "every mistake too, equation (2.3)"),
    (lambda **kw: _epoch_variant(**kw, rate=False), "the learning rate is ignored"),
    (_epoch_bias_without_lr, "the bias update ignores the learning rate; both updates of "
                             "equation (2.3) are scaled by it"),
    (lambda **kw: _epoch_variant(**kw, sign=-1.0),
     "the update has the wrong sign: it must move the example towards its own side, so that "
     "t_n a_n grows"),
]


def _perceptron_cases(rng):
    cases = []
    for N, D, start, lr in PERCEPTRON_CASES:
        x = rng.standard_normal((N, D))
        if start == "random_zero_row":
            x[N // 2] = 0.0  # a = b: only the bias can fix a mistake here
        t = np.where(x @ rng.standard_normal(D) + 0.3 * rng.standard_normal(N) > 0, 1.0, -1.0)
        w = np.zeros(D) if start == "zero" else rng.standard_normal(D)
        b = 0.0 if start == "zero" else float(rng.standard_normal())
        cases.append({"x": x, "t": t, "w": w, "b": b, "lr": lr})
    return cases


@register("02-perceptron-update", kind="implement", points=3 * len(PERCEPTRON_CASES),
          summary="w, b and the number of mistakes after one epoch of the perceptron rule on 5 "
                  "random data sets (zero start, one example, a zero input row); the caller's "
                  "arrays must stay unchanged")
def check_perceptron_epoch(perceptron_epoch_fn):
    """Check ``perceptron_epoch(x, t, w, b, lr) -> (w, b, mistakes)``."""
    return _check_with_diagnosis(
        "02-perceptron-update", "perceptron_epoch", perceptron_epoch_fn,
        reference_perceptron_epoch, _perceptron_cases(fresh_rng()), ["w", "b", "mistakes"],
        hint="equation (2.3): visit the examples in the order given, each one judged with the "
             "weights as they are after the updates so far; count the updates",
        mistakes=PERCEPTRON_MISTAKES,
    )


# ---------------------------------------------------------------------------------------------
# 02-mlp-backward: backpropagation through a tanh MLP of any depth with the mean squared error

#: (layer sizes [D, H_1, ..., K], N, weight scale): no hidden layer at all (M = 1), one example,
#: two hidden layers, and three hidden layers of different widths with saturating units.
MLP_CASES = [([3, 2], 5, 1.0), ([2, 4, 1], 1, 1.0), ([3, 5, 4, 2], 6, 1.0),
             ([4, 3, 6, 5, 3], 8, 2.0)]

#: Names that would let autograd do the exercise: a hand-written backward pass uses none of them.
MLP_FORBIDDEN = ("backward", "grad", "vjp", "jacobian", "jacrev", "jacfwd")


def reference_mlp_gradients(x, t, params):
    """The package's loss and gradients of a tanh MLP with the mean squared error:
    ``(loss, grads)``, ``grads`` keyed and shaped like ``params``."""
    return mlp.mlp_loss_and_gradients(x, t, params, activation="tanh", loss="mse")


def _mlp_variant(x, t, params, scale=2.0, mean_over="all", derivative="h", tanh_output=False,
                 bias_mean=False):
    """The MLP's loss and gradients with one of the usual mistakes switched on."""
    num_layers = len(params) // 2
    inputs, activations, h = [], [], x
    for l in range(1, num_layers + 1):
        inputs.append(h)
        a = h @ params[f"W{l}"] + params[f"b{l}"]
        activations.append(a)
        h = np.tanh(a) if l < num_layers or tanh_output else a
    z = h
    count = {"all": z.size, "rows": len(x), "none": 1}[mean_over]
    loss = float(np.sum((z - t) ** 2) / count)
    delta = scale * (z - t) / count
    if tanh_output:
        delta = delta * (1.0 - z**2)
    grads = {}
    for l in range(num_layers, 0, -1):
        grads[f"W{l}"] = inputs[l - 1].T @ delta
        grads[f"b{l}"] = delta.mean(0) if bias_mean else delta.sum(0)
        if l > 1:
            h_below, a_below = inputs[l - 1], activations[l - 2]
            f_prime = {"h": 1.0 - h_below**2, "a": 1.0 - a_below**2, "none": 1.0}[derivative]
            delta = (delta @ params[f"W{l}"].T) * f_prime
    return loss, {key: grads[key] for l in range(1, num_layers + 1) for key in (f"W{l}", f"b{l}")}


MLP_MISTAKES = [
    (lambda **kw: _mlp_variant(**kw, scale=1.0),
     "every gradient is half the right size: the factor 2 of the squared error's derivative, "
     "equation (2.5)"),
    (lambda **kw: _mlp_variant(**kw, mean_over="rows"),
     "the loss is divided by N only; the mean of equation (2.5) runs over all N K entries of z"),
    (lambda **kw: _mlp_variant(**kw, mean_over="none"),
     "the loss is summed, not averaged: equation (2.5) divides by the number N K of entries of z"),
    (lambda **kw: _mlp_variant(**kw, derivative="none"),
     "the hidden layers' gradients lack the derivative of tanh: equation (2.7) multiplies by "
     "f'(a) on the way down"),
    (lambda **kw: _mlp_variant(**kw, derivative="a"),
     "the derivative of tanh is taken at the wrong quantity: 1 - tanh(a)^2 is 1 - h^2 with the "
     "activity h = tanh(a), not 1 - a^2"),
    (lambda **kw: _mlp_variant(**kw, tanh_output=True),
     "tanh is applied to the output layer too: the last layer of equation (2.4) is linear"),
    (lambda **kw: _mlp_variant(**kw, bias_mean=True),
     "the bias gradients are averaged over the examples; equation (2.6) sums them (the "
     "1/(N K) is already in delta)"),
]


def _mlp_cases(rng):
    cases = []
    for sizes, N, scale in MLP_CASES:
        params = {}
        for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            params[f"W{l}"] = scale * rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)
            params[f"b{l}"] = 0.5 * rng.standard_normal(n_out)
        cases.append({"x": rng.standard_normal((N, sizes[0])),
                      "t": rng.standard_normal((N, sizes[-1])), "params": params})
    return cases


def _where_wrong(student_fn, cases):
    """Which part of the student's answer is wrong, on the deepest case where it runs but
    disagrees: the loss (forward pass), the output layer, the layers below, or the biases."""
    for case in sorted(cases, key=lambda c: -len(c["params"])):
        got = _call(student_fn, case)
        want = reference_mlp_gradients(**copy.deepcopy(case))
        if got is None or _same(got, want):
            continue
        got = as_tuple(got)
        if len(got) != 2 or not isinstance(got[1], dict):
            return ""
        num_layers = len(case["params"]) // 2
        if not _same(got[0], want[0]):
            return ("the loss itself is off: get the forward pass (equation (2.4)) and the "
                    "loss (equation (2.5)) right first")
        wrong = [key for key in want[1]
                 if key not in got[1] or not _same(got[1][key], want[1][key])]
        if not wrong:
            return ""
        if all(key.startswith("b") for key in wrong):
            return "every weight gradient is right, some bias gradients are not: equation (2.6)"
        if f"W{num_layers}" not in wrong and f"b{num_layers}" not in wrong:
            layers = sorted({int(key[1:]) for key in wrong})
            return (f"the output layer's gradients are right, those of layer(s) "
                    f"{', '.join(map(str, layers))} are not: the error is in passing delta down "
                    f"through a hidden layer, equation (2.7)")
        return ("the output layer's gradients are already wrong: start from dL/dz of equation "
                "(2.5) and equation (2.6)")
    return ""


def _depth_trouble(student_fn, cases):
    """A message when the function raises on some depths and gets others fully right."""
    depth_ok, depth_raises = set(), set()
    for case in cases:
        num_layers = len(case["params"]) // 2
        got = _call(student_fn, case)
        if got is None:
            depth_raises.add(num_layers)
        elif _same(got, reference_mlp_gradients(**copy.deepcopy(case))):
            depth_ok.add(num_layers)
    if depth_ok and depth_raises:
        return (f"right for M = {', '.join(map(str, sorted(depth_ok)))} layer(s) but it fails "
                f"for M = {', '.join(map(str, sorted(depth_raises)))}: read the number M of "
                f"layers from params (W1, ..., WM) and loop over them, M = 1 (no hidden layer) "
                f"included")
    return ""


#: The loss and the 2 M gradients of every case, one point each.
MLP_POINTS = sum(1 + 2 * (len(sizes) - 1) for sizes, _, _ in MLP_CASES)


@register("02-mlp-backward", kind="implement", points=MLP_POINTS,
          summary="the loss and every gradient of tanh MLPs of 1 to 4 affine layers (random "
                  "widths, one example, saturated units) against the reference; autograd refused",
          forbidden=MLP_FORBIDDEN)
def check_mlp_gradients(mlp_gradients):
    """Check ``mlp_gradients(x, t, params) -> (loss, grads)`` on random MLPs of several depths."""
    cases = _mlp_cases(fresh_rng())
    names = ["loss", "grads"]
    refused = screen("02-mlp-backward", "mlp_gradients", mlp_gradients, MLP_POINTS,
                     forbidden=MLP_FORBIDDEN)
    if refused:
        return refused
    # Screened above with the exercise's own list of forbidden names.
    with reference_allowed():
        report = run_check(
            "02-mlp-backward", "mlp_gradients", mlp_gradients,
            reference_mlp_gradients, cases, names, quiet=True,
            hint="start from dL/dz of equation (2.5) and go from the last layer down to the "
                 "first with equations (2.6) and (2.7), reusing the activities of the forward "
                 "pass; test each gradient against finite differences of your own loss "
                 "(seqlearn.gradcheck.numerical_gradient) before running the check")
    # run_check counts the first case's outputs for every case; here the depth, and so the
    # number of gradients, changes from case to case.
    report.max_score = MLP_POINTS
    if report.attempted and not report.passed:
        cause = (_likely_cause(mlp_gradients, reference_mlp_gradients, cases, MLP_MISTAKES)
                 or _depth_trouble(mlp_gradients, cases))
        if cause:
            _add_line(report, f"likely cause: {cause}")
        else:
            where = _where_wrong(mlp_gradients, cases)
            if where:
                _add_line(report, f"where: {where}")
    print(report)
    return report


# ---------------------------------------------------------------------------------------------
# 02-xor-training (experiment): a width and a learning rate that solve XOR from almost any start

XOR_STEPS = 300     # full-batch gradient steps per run
XOR_RUNS = 30       # random starts
XOR_RELIABLE = 28   # solved runs needed for "reliable"
XOR_SOLVED_MSE = 0.1
XOR_MAX_HIDDEN = 64


def _xor_choice(choice):
    """``(hidden, lr)`` from the student's dict, or ``ValueError``/``TypeError`` saying why not."""
    if not isinstance(choice, dict) or set(choice) != {"hidden", "lr"}:
        raise TypeError("return a dict with the keys 'hidden' and 'lr', e.g. "
                        "{'hidden': 3, 'lr': 0.05}")
    hidden, lr = choice["hidden"], choice["lr"]
    if isinstance(hidden, bool) or not isinstance(hidden, (int, np.integer)):
        raise TypeError(f"'hidden' must be an int, got {type(hidden).__name__}")
    if not 1 <= hidden <= XOR_MAX_HIDDEN:
        raise ValueError(f"'hidden' must be between 1 and {XOR_MAX_HIDDEN}, got {hidden}")
    if isinstance(lr, bool) or not isinstance(lr, (int, float, np.integer, np.floating)):
        raise TypeError(f"'lr' must be a number, got {type(lr).__name__}")
    if not (np.isfinite(lr) and 0 < lr <= 10):
        raise ValueError(f"'lr' must be a positive number of at most 10, got {lr}")
    return int(hidden), float(lr)


def xor_runs(hidden, lr, seeds, steps=XOR_STEPS):
    """Train a [2, hidden, 1] tanh MLP on XOR (targets ±1, mean squared error) from each seed's
    default initialisation with ``steps`` steps of full-batch gradient descent of rate ``lr``.

    Returns one ``(outcome, final MSE)`` per seed: ``"solved"`` (MSE below 0.1 and every output
    on the side of its target), ``"stuck"`` or ``"diverged"`` (MSE inf).
    """
    x, t = make_xor()
    t = t[:, None].astype(float)
    outcomes = []
    for seed in seeds:
        params = mlp.init_mlp_params([2, hidden, 1], rng=int(seed))
        with np.errstate(all="ignore"):
            try:
                trained, _ = mlp.fit_full_batch(params, x, t, activation="tanh", loss="mse",
                                                lr=lr, steps=steps)
                z, _ = mlp.mlp_forward(x, trained)
                mse = float(np.mean((z - t) ** 2))
            except FloatingPointError:
                mse, z = np.inf, None
        if not np.isfinite(mse):
            outcomes.append(("diverged", np.inf))
        elif mse < XOR_SOLVED_MSE and np.all(np.sign(z) == t):
            outcomes.append(("solved", mse))
        else:
            outcomes.append(("stuck", mse))
    return outcomes


def measure_xor_training(choice, seeds=None):
    """Score a choice ``{"hidden": H, "lr": lr}``: 1 point when no run diverges and at least one
    solves XOR, 1 point when at least 28 of 30 random starts solve it. Returns
    ``(score, lines)``."""
    hidden, lr = _xor_choice(choice)
    if seeds is None:
        seeds = fresh_rng().integers(0, 2**31, size=XOR_RUNS)
    outcomes = xor_runs(hidden, lr, seeds)
    count = {kind: sum(o == kind for o, _ in outcomes) for kind in ("solved", "stuck", "diverged")}
    finite = [mse for _, mse in outcomes if np.isfinite(mse)]
    lines = [f"hidden = {hidden}, lr = {lr:g}: {XOR_STEPS} steps of full-batch gradient descent "
             f"on XOR from {len(seeds)} random starts",
             f"solved {count['solved']}, stuck {count['stuck']}, diverged {count['diverged']}"
             + (f"; final MSE median {np.median(finite):.2g}, worst {max(finite):.2g}"
                if finite else "")]
    score = 0
    if count["diverged"]:
        lines.append(f"trains: no -- {count['diverged']} run(s) diverged: the steps are too "
                     "large; a step changes the output by a sum over all the hidden units, so "
                     "the wider the layer, the smaller the rate it can take")
    elif not count["solved"]:
        lines.append(f"trains: no -- no run solved XOR in {XOR_STEPS} steps: the loss falls "
                     "too slowly with this learning rate, or the network cannot represent XOR")
    else:
        score += 1
        lines.append("trains: ok (no run diverged and some solved XOR)")
    if count["solved"] >= XOR_RELIABLE:
        score += 1
        lines.append(f"reliable: ok ({count['solved']} of {len(seeds)} starts solved XOR, "
                     f"{XOR_RELIABLE} needed)")
    else:
        why = []
        if count["stuck"]:
            why.append("stuck runs end on a plateau: with too few hidden units gradient descent "
                       "often ends in a poor local minimum, and too large a rate makes it "
                       "bounce; too small a rate has simply not arrived yet")
        lines.append(f"reliable: no -- {count['solved']} of {len(seeds)} starts solved XOR, "
                     f"{XOR_RELIABLE} needed" + ("; " + why[0] if why else ""))
    return score, lines


@register("02-xor-training", kind="experiment", points=2,
          summary="the chosen width and learning rate train a tanh MLP on XOR without "
                  "diverging, and solve it from at least 28 of 30 fresh random starts")
def check_xor_training(choose_xor_training):
    """Check ``choose_xor_training() -> {"hidden": H, "lr": lr}`` by training 30 networks."""
    return check_experiment("02-xor-training", "choose_xor_training", choose_xor_training,
                            measure_xor_training, max_score=2)


# ---------------------------------------------------------------------------------------------
# 02-perceptron-concepts: separability, parameter counts, the convergence theorem

CONCEPT_QUESTIONS = [
    {"key": "separable_functions", "answer": 14,
     "explain": {
         16: "not all of them: Section 2.2 shows that no line separates XOR",
         15: "XOR is not the only one: its complement XNOR, which labels (0,0) and (1,1) +1, is "
             "no more separable (a line that separates a labelling also separates the flipped "
             "one)",
         12: "the two constant functions count too: a unit with w = 0 answers the same for "
             "every input",
         10: "the functions of a single input (x1, not x1, x2, not x2) count too: a unit can "
             "ignore an input with w_i = 0",
         4: "AND, OR, NAND and NOR are not all: constants, single inputs and 'x1 and not x2' "
            "are lines too"},
     "hint": "go through the labellings of the four corners of the unit square and ask, for "
             "each, whether one line puts the +1 corners on one side and the -1 corners on the "
             "other"},
    {"key": "xor_hidden_units", "answer": 2,
     "explain": {
         1: "with one hidden unit the output unit thresholds a single threshold of a single "
            "line, so the plane is still cut by one line",
         0: "without hidden units the network is the single perceptron of Section 2.2",
         3: "fewer suffice: think of which two lines enclose the two +1 corners",
         4: "one unit per corner works, but fewer suffice"},
     "hint": "each hidden threshold unit contributes one line; how few lines cut the square so "
             "that the output unit can tell the +1 corners from the -1 corners?"},
    {"key": "mlp_parameters", "answer": 84060,
     "explain": {
         83900: "these are the weights only: every unit of the hidden and output layers has a "
                "bias too",
         944: "that counts the units, not the parameters",
         160: "that counts the units of the hidden and output layers, not the parameters",
         39200000: "each layer connects only to the next: add the sizes of W1, W2 and W3, do "
                   "not multiply the layer sizes",
         84004: "one bias per unit of each layer that computes something, not of the inputs"},
     "hint": "count the entries of W_l and b_l of each of the three affine layers of equation "
             "(2.4)"},
    {"key": "novikoff_updates", "answer": 36,
     "explain": {
         6: "that is R / gamma; the bound is on a power of it",
         12: "R^2 / gamma is not the bound: gamma is squared too",
         1 / 36: "upside down: a wider margin allows fewer updates, not more",
         216: "the bound grows with the square of R / gamma, not the cube"},
     "hint": "the convergence theorem of Section 2.2 bounds the total number of updates by a "
             "power of R / gamma"},
    {"key": "updates_ratio_lr", "answer": 1,
     "explain": {
         0.01: "a smaller rate does not make the perceptron slower here: starting from zero, "
               "every update adds eta times the same vector, so w and b are eta times those of "
               "eta = 1 and every prediction, hence every mistake, is the same",
         100: "a smaller rate does not make the perceptron slower here: starting from zero, "
              "every update adds eta times the same vector, so w and b are eta times those of "
              "eta = 1 and every prediction, hence every mistake, is the same"},
     "hint": "from w = 0, b = 0, follow the first two updates with eta = 1 and with eta = 0.01 "
             "and compare the signs of the activations"},
]


@register("02-perceptron-concepts", kind="concept", points=len(CONCEPT_QUESTIONS),
          summary="separable Boolean functions, hidden units for XOR, an MLP's parameter count, "
                  "Novikoff's bound and the learning rate from a zero start")
def check_perceptron_concepts(answers):
    """Check ``answers() -> dict`` of the five questions of Exercise 5."""
    return check_concept("02-perceptron-concepts", "answers", answers, CONCEPT_QUESTIONS)


__all__ = [
    "CONCEPT_QUESTIONS", "MLP_CASES", "MLP_FORBIDDEN", "MLP_MISTAKES", "MLP_POINTS",
    "NEURON_CASES", "PERCEPTRON_CASES", "PERCEPTRON_MISTAKES", "SIGMOID_LAYER_MISTAKES",
    "XOR_RELIABLE", "XOR_RUNS", "XOR_STEPS", "check_mlp_gradients", "check_perceptron_concepts",
    "check_perceptron_epoch", "check_sigmoid_layer", "check_xor_training",
    "measure_xor_training", "reference_mlp_gradients", "reference_perceptron_epoch",
    "reference_sigmoid_layer", "xor_runs",
]
