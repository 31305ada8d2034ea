"""Checks for the exercises of chapter 4, *Backpropagation through time*, and of its second
notebook, 4b (the character model and the forecaster at work).

=========================== ============ ========================================================
exercise                    kind         what the check does
=========================== ============ ========================================================
04-output-gradient          implement    ∂L/∂z_t for softmax and the mean cross-entropy (4.3)
                                         against the reference on fresh random scores (T = 1,
                                         V = 2; scores of ±800, where a softmax without the max
                                         shift gives NaN)
04-bptt-step                implement    one step of the backward recursion (4.4): δ_t and the
                                         gradient sent to h_{t-1} (B = 1, the last step with
                                         nothing from later steps, saturated units)
04-bptt                     implement    full-sequence BPTT of the Elman RNN with softmax
                                         outputs: the gradients of W_xh, W_hh, b_h, W_hy, b_y
                                         and h_0, against central finite differences of the loss
                                         (two small nets, T = 1 among them) and against the
                                         reference (two larger ones); autograd is refused
04-rtrl-step                implement    one RTRL step (4.6): h_t and the sensitivities P_t of
                                         W_xh, W_hh and b_h from P_{t-1} (P_0 = 0, B = D = H = 1)
04-bptt-costs               concept      the orders of time and memory of BPTT, sliding and
                                         chunked truncated BPTT and RTRL in H, T and k, and the
                                         size of P_t for H = 100, D = 50
04-clip-by-norm             implement    clips a list of gradient arrays by their global norm
                                         (4.7): arrays each below the threshold but together
                                         above it, an all-zero gradient, cases on both sides
04-clip-threshold           experiment   trains the chapter's exploding character RNN (plain SGD
                                         at learning rate 6) with the chosen clipping threshold
                                         from three seeds; a point per run that ends below 2.5
                                         nats per character
04-temperature              implement    the sampling distribution softmax(z / τ) (4.8), with
                                         τ = 0 (greedy) and a small τ where exp overflows
                                         (chapter 4b)
04-unit-correlations        implement    the Pearson correlation (4.9) of every unit with every
                                         feature, a constant unit among them (chapter 4b)
04-forecaster-sizes         concept      parameter counts of the Elman and LSTM forecasters,
                                         training windows of 24 months, the shortest seasonal
                                         window, choosing by validation (chapter 4b)
04-forecast-window          experiment   trains the chapter's airline forecaster with the chosen
                                         window (shorter than a year) and hidden size, three
                                         restarts; a point per restart that halves the
                                         seasonal-naive error on the validation year (chapter 4b)
=========================== ============ ========================================================

The references are the package's own (``seqlearn.numpy.softmax``, ``rnn``, ``rtrl``, ``optim``,
``char_rnn``; ``seqlearn.numpy.language_model`` and ``seqlearn.torch.forecast`` for the
experiments). When an answer is wrong, the check compares it
with what the typical mistakes give (a sign, a missing tanh', W_hh not transposed, h_t where
h_{t-1} belongs, a missing path through time, a sum where the loss averages, clipping each
array alone, ...) and names the mistake it recognises; otherwise its hint points to the equation by
number, never to the formula.

A small wrapper around the student's function (:func:`_guarded`) turns a list answer into
outputs scored one by one. The wrapper is ours, so the check screens the student's function for
the package and the forbidden names first (``core.screen``).
"""

import math

import numpy as np

from ..gradcheck import numerical_gradient
from ..numpy import optim as _optim
from ..numpy import rtrl as _rtrl
from ..numpy.rnn import rnn_backward as _rnn_backward
from ..numpy.rnn import rnn_forward as _rnn_forward
from ..numpy.rnn import rnn_step_backward as _rnn_step_backward
from ..numpy.softmax import log_softmax as _log_softmax
from ..numpy.softmax import softmax as _softmax
from .core import (check_concept, check_experiment, diagnose_outputs, fresh_rng, reference_allowed,
                   register, run_check, screen)

#: What a hand-written gradient may not use: autograd in any of its forms.
AUTOGRAD = ("backward", "grad", "vjp", "jvp", "jacobian", "jacrev", "jacfwd", "hessian")

#: The parameter names of the Elman RNN with a softmax read-out, in the order of equation (4.1).
PARAM_NAMES = ("W_xh", "W_hh", "b_h", "W_hy", "b_y")


# -- diagnosis ----------------------------------------------------------------------------------

def _variants(variant, table):
    """``(function, message)`` pairs: ``variant`` called with each row's flags."""
    return [((lambda flags: lambda **k: variant(**k, **flags))(flags), message)
            for flags, message in table]


def _stable_softmax(logits):
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _guarded(fn, convert=None):
    """``fn`` called with keyword arguments, its answer passed through ``convert`` (a list of
    arrays becomes a tuple of outputs scored one by one)."""
    def guarded(**kwargs):
        out = fn(**kwargs)
        return convert(out) if convert else out
    return guarded


def _run_labelled(exercise_id, title, student_fn, reference_fn, cases, names, hint, labels):
    """``run_check`` with ``labels[k]`` (what makes case k special) written into its line.

    ``student_fn`` is a :func:`_guarded` answer: the student's own function is screened for the
    package and the forbidden names before it comes here (:func:`_screen`)."""
    with reference_allowed():  # what run_check sees is our wrapper
        report = run_check(exercise_id, title, student_fn, reference_fn, cases, names,
                           hint=hint, quiet=True)
    n = len(cases)
    for k, label in enumerate(labels, start=1):
        if label:
            report.lines = [line.replace(f"case {k}/{n} (", f"case {k}/{n}, {label} (", 1)
                            for line in report.lines]
    print(report)
    return report


# -- 04-output-gradient -------------------------------------------------------------------------

def reference_output_gradient(logits, targets):
    """∂L/∂z_t = (ŷ_t − onehot(y_t)) / T (4.3) for L = −(1/T) Σ_t log ŷ_{t, y_t}: logits
    (T, V), targets (T,) -> (T, V)."""
    grad = _softmax(logits)
    grad[np.arange(len(targets)), targets] -= 1.0
    return grad / len(targets)


def _output_gradient_variant(logits, targets, sign=1.0, onehot=True, axis=-1, mean=True,
                             log=False):
    p = np.moveaxis(_stable_softmax(np.moveaxis(logits, axis, -1)), -1, axis)
    if log:
        p = np.log(p)
    if onehot:
        p[np.arange(len(targets)), targets] -= 1.0
    return sign * p / (len(targets) if mean else 1)


_OUTPUT_MISTAKES = [
    (dict(sign=-1.0), "the sign is flipped: L = -Σ log ŷ, so raising the target's score lowers "
                      "the loss, and its entry of ∂L/∂z_t is negative (equation 4.3)"),
    (dict(onehot=False), "that is the softmax alone: the -log ŷ_{t,y_t} of the target also "
                         "contributes, at the target's column (equation 4.3)"),
    (dict(mean=False), "that is ∂ℓ_t/∂z_t, the gradient of step t's own loss: L (4.2) is the "
                       "mean of the T steps' losses, so every row is divided by T (equation "
                       "4.3)"),
    (dict(axis=0), "the softmax normalises each row (the V scores of one step), not each "
                   "column"),
    (dict(log=True), "that uses log ŷ where ŷ belongs: differentiate the log-sum-exp of "
                     "equation (4.3)'s derivation"),
]

#: (T, V, kind) of the cases: T = 1 with two classes, ordinary scores, and scores of ±800.
_OUTPUT_SHAPES = [(1, 2, "plain"), (5, 4, "plain"), (12, 10, "plain"), (6, 5, "large"),
                  (25, 65, "wide")]
_OUTPUT_LABELS = {"plain": "", "large": "scores near ±800", "wide": "scores spread over ±500"}


def _output_gradient_cases(rng):
    cases = []
    for T, V, kind in _OUTPUT_SHAPES:
        logits = rng.normal(0.0, 2.0, size=(T, V))
        if kind == "large":   # every row near +800 or -800: exp overflows (or underflows to 0)
            logits += rng.choice([-800.0, 800.0], size=(T, 1))
        elif kind == "wide":  # scores spread over hundreds: a row's largest exp overflows
            logits *= 150.0
        cases.append({"logits": logits, "targets": rng.integers(0, V, size=T)})
    return cases


@register("04-output-gradient", kind="implement", points=len(_OUTPUT_SHAPES),
          summary="∂L/∂z_t = (softmax(z_t) - onehot(y_t)) / T for every step (4.3) against "
                  "the reference on 5 fresh cases (T = 1 with V = 2, scores of ±800 and spread "
                  "over hundreds, where a softmax without the max shift gives NaN); a flipped "
                  "sign, a missing one-hot, a missing 1/T, the softmax over the wrong axis are "
                  "named",
          forbidden=AUTOGRAD + ("softmax", "log_softmax", "cross_entropy"))
def check_output_gradient(output_gradient):
    """Check ``output_gradient(logits, targets) -> dlogits``."""
    title = "The gradient at the outputs"
    cases = _output_gradient_cases(fresh_rng())
    refused = screen("04-output-gradient", title, output_gradient, len(cases))
    if refused:
        return refused
    output_gradient = _guarded(output_gradient)
    mistakes = _variants(_output_gradient_variant, _OUTPUT_MISTAKES)
    default = ("write ℓ_t in terms of the scores z_t, as the derivation of equation (4.3) does, "
               "differentiate one row first, then remember that L averages the ℓ_t")
    hint = diagnose_outputs(
        output_gradient, cases[3], reference_output_gradient, mistakes, ["dlogits"], default,
        nonfinite="exp overflows for scores of several hundred (exp(710) is inf in float64): "
                  "softmax(z) does not change when the same number is subtracted from every "
                  "score of a row, so subtract the row's largest score before exponentiating")
    if hint is default:  # nothing recognised on the large scores: try ordinary ones
        hint = diagnose_outputs(output_gradient, cases[1], reference_output_gradient, mistakes,
                                ["dlogits"], default)
    return _run_labelled("04-output-gradient", title, output_gradient,
                         reference_output_gradient, cases, ["dlogits"], hint,
                         ["T = 1, V = 2" if T == 1 else _OUTPUT_LABELS[kind]
                          for T, V, kind in _OUTPUT_SHAPES])


# -- 04-bptt-step -------------------------------------------------------------------------------

def reference_bptt_step(dh_out, dh_next, h_t, W_hh):
    """One step of the recursion (4.4): δ_t = ∂L/∂a_t and the gradient sent to h_{t-1}.

    All (B, H); W_hh (H, H). Uses the package's ``rnn_step_backward``."""
    B, H = h_t.shape
    params = {"W_xh": np.zeros((1, H)), "W_hh": W_hh, "b_h": np.zeros(H)}
    _, dh_prev, delta = _rnn_step_backward(dh_out + dh_next, (np.zeros((B, 1)), None, h_t), params)
    return delta, dh_prev


def _bptt_step_variant(dh_out, dh_next, h_t, W_hh, derivative="1-h^2", transposed=True,
                       with_next=True, through_delta=True):
    dh = dh_out + (dh_next if with_next else 0.0)
    factor = {"1-h^2": 1.0 - h_t**2, "none": 1.0, "1-h": 1.0 - h_t,
              "tanh'(h)": 1.0 - np.tanh(h_t)**2}[derivative]
    delta = dh * factor
    W = W_hh.T if transposed else W_hh
    return delta, (delta if through_delta else dh) @ W


_STEP_MISTAKES = [
    (dict(derivative="none"), "da_t is missing the derivative of the tanh: h_t = tanh(a_t), so "
                              "the gradient is multiplied by tanh'(a_t) on its way to a_t "
                              "(equation 4.4)"),
    (dict(derivative="1-h"), "tanh'(a_t) is 1 - tanh(a_t)², written with the stored state: "
                             "square h_t"),
    (dict(derivative="tanh'(h)"), "that applies tanh' to h_t; the derivative is taken at a_t, "
                                  "and tanh'(a_t) = 1 - h_t² needs only the state you have"),
    (dict(transposed=False), "dh_prev multiplies by W_hh where its transpose belongs: a_t = ... "
                             "+ h_{t-1} W_hh, so the gradient goes back through W_hhᵀ"),
    (dict(with_next=False), "the gradient from the later steps (dh_next) is missing: h_t "
                            "reaches the loss through its output and through h_{t+1} "
                            "(equation 4.4)"),
    (dict(through_delta=False), "dh_prev is sent back from ∂L/∂h_t, skipping the tanh: it "
                                "must go through a_t, so it starts from da_t"),
]

#: (B, H, kind): B = 1, H = 1, ordinary steps, the last step (nothing from later steps) and
#: saturated units (h_t near ±1).
_STEP_SHAPES = [(1, 1, "plain"), (3, 4, "plain"), (5, 8, "plain"), (2, 6, "last"),
                (4, 16, "saturated")]


def _bptt_step_cases(rng):
    cases = []
    for B, H, kind in _STEP_SHAPES:
        case = {
            "dh_out": rng.normal(size=(B, H)),
            "dh_next": rng.normal(size=(B, H)),
            "h_t": np.tanh(rng.normal(0.0, 4.0 if kind == "saturated" else 1.0, size=(B, H))),
            "W_hh": rng.normal(0, 1 / np.sqrt(H), size=(H, H)),
        }
        if kind == "last":
            case["dh_next"] = np.zeros((B, H))
        cases.append(case)
    return cases


@register("04-bptt-step", kind="implement", points=2 * len(_STEP_SHAPES),
          summary="one step of the backward recursion (4.4), (da_t, dh_prev), against the "
                  "reference on 5 fresh cases (B = H = 1, the last step, saturated units); a "
                  "missing or wrong tanh', an untransposed W_hh, a dropped dh_next, dh_prev "
                  "sent back before the tanh' are named",
          forbidden=AUTOGRAD)
def check_bptt_step(bptt_step):
    """Check ``bptt_step(dh_out, dh_next, h_t, W_hh) -> (da_t, dh_prev)``."""
    title = "One step of the backward recursion"
    cases = _bptt_step_cases(fresh_rng())
    refused = screen("04-bptt-step", title, bptt_step, 2 * len(cases))
    if refused:
        return refused
    bptt_step = _guarded(bptt_step)
    hint = diagnose_outputs(bptt_step, cases[2], reference_bptt_step,
                            _variants(_bptt_step_variant, _STEP_MISTAKES), ["da_t", "dh_prev"],
                            "follow equation (4.4) for one step: everything that reaches h_t, "
                            "then the tanh back to a_t, then the product that made a_t from "
                            "h_{t-1}")
    labels = {"plain": "", "last": "the last step (dh_next = 0)",
              "saturated": "saturated units (h_t near ±1)"}
    return _run_labelled("04-bptt-step", title, bptt_step,
                         reference_bptt_step, cases, ["da_t", "dh_prev"], hint,
                         ["B = H = 1" if B == H == 1 else labels[kind]
                          for B, H, kind in _STEP_SHAPES])


# -- 04-bptt ------------------------------------------------------------------------------------

def _rnn_params(params):
    return {name: params[name] for name in ("W_xh", "W_hh", "b_h")}


def bptt_loss(x, targets, h0, params):
    """The loss of the exercise: L = (1/(BT)) Σ_b Σ_t −log softmax(z_{b,t})[y_{b,t}], with
    h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h), z_t = h_t W_hy + b_y (equations 4.1-4.2): the mean
    over the T steps and the B sequences."""
    h, _ = _rnn_forward(x, h0, _rnn_params(params))
    logp = _log_softmax(h @ params["W_hy"] + params["b_y"])
    B, T = x.shape[:2]
    return float(-np.take_along_axis(logp, targets[..., None], axis=-1).sum() / (B * T))


def reference_bptt(x, targets, h0, params):
    """The gradients of :func:`bptt_loss` with respect to the parameters and h_0, by the
    package's ``rnn_backward``: returns ``(grads, dh0)``."""
    B, T = x.shape[:2]
    h, cache = _rnn_forward(x, h0, _rnn_params(params))
    dlogits = _softmax(h @ params["W_hy"] + params["b_y"])
    np.put_along_axis(dlogits, targets[..., None],
                      np.take_along_axis(dlogits, targets[..., None], axis=-1) - 1.0, axis=-1)
    dlogits /= B * T
    grads, _, dh0 = _rnn_backward(dlogits @ params["W_hy"].T, cache)
    grads["W_hy"] = np.einsum("bth,btv->hv", h, dlogits)
    grads["b_y"] = dlogits.sum(axis=(0, 1))
    return {name: grads[name] for name in PARAM_NAMES}, dh0


def finite_difference_bptt(x, targets, h0, params, eps=1e-6):
    """The same gradients as :func:`reference_bptt` by central finite differences of
    :func:`bptt_loss` (2 evaluations per entry: for small nets only)."""
    params = {name: np.array(value, dtype=float) for name, value in params.items()}
    h0 = np.array(h0, dtype=float)
    loss = lambda: bptt_loss(x, targets, h0, params)  # noqa: E731 - reads the perturbed arrays
    grads = {name: numerical_gradient(loss, params[name], eps) for name in PARAM_NAMES}
    return grads, numerical_gradient(loss, h0, eps)


def _bptt_variant(x, targets, h0, params, recurrent=True, transposed=True, W_hh_reads="h_prev",
                  derivative=True, batch="mean", time="mean", hy_reads="h_t"):
    W_xh, W_hh, b_h, W_hy, b_y = (params[name] for name in PARAM_NAMES)
    B, T, _ = x.shape
    states = [h0]
    for t in range(T):
        states.append(np.tanh(x[:, t] @ W_xh + states[-1] @ W_hh + b_h))
    h, h_prev = np.stack(states[1:], axis=1), np.stack(states[:-1], axis=1)
    dlogits = _stable_softmax(h @ W_hy + b_y)
    np.put_along_axis(dlogits, targets[..., None],
                      np.take_along_axis(dlogits, targets[..., None], axis=-1) - 1.0, axis=-1)
    dlogits = dlogits / (B if batch == "mean" else 1) / (T if time == "mean" else 1)
    read_out = h if hy_reads == "h_t" else h_prev
    dh_out = dlogits @ W_hy.T
    W_back = W_hh.T if transposed else W_hh
    delta, dh_next = np.zeros_like(h), np.zeros_like(h0)
    for t in reversed(range(T)):
        dh_t = dh_out[:, t] + (dh_next if recurrent else 0.0)
        delta[:, t] = dh_t * (1.0 - h[:, t]**2) if derivative else dh_t
        dh_next = delta[:, t] @ W_back
    grads = {
        "W_xh": np.einsum("btd,bth->dh", x, delta),
        "W_hh": np.einsum("bti,btj->ij", h_prev if W_hh_reads == "h_prev" else h, delta),
        "b_h": delta.sum(axis=(0, 1)),
        "W_hy": np.einsum("bth,btv->hv", read_out, dlogits),
        "b_y": dlogits.sum(axis=(0, 1)),
    }
    return grads, dh_next


_BPTT_MISTAKES = [
    (dict(recurrent=False),
     "each δ_t gets only its own output's gradient: h_t also reaches the loss through h_{t+1}, "
     "so add what step t+1 sends back before multiplying by tanh' (equation 4.4)"),
    (dict(transposed=False),
     "the gradient goes back from a_{t+1} to h_t through W_hhᵀ, not W_hh (a_{t+1} = ... + "
     "h_t W_hh)"),
    (dict(W_hh_reads="h_t"),
     "grads['W_hh'] pairs δ_t with h_t; W_hh multiplies the previous state in a_t, so its "
     "gradient sums h_{t-1}ᵀ δ_t (equation 4.5), and the first step reads h_0"),
    (dict(derivative=False),
     "δ_t is missing tanh'(a_t) = 1 - h_t² (equation 4.4)"),
    (dict(batch="sum"),
     "the gradients are B times too large: the loss averages the sequences of the batch, so "
     "each sequence's contribution is divided by B"),
    (dict(time="sum"),
     "the gradients are T times too large: the loss (4.2) is the mean of the steps' "
     "cross-entropies, so ∂L/∂z_t carries a factor 1/T (equation 4.3)"),
    (dict(hy_reads="h_prev"),
     "grads['W_hy'] pairs the output gradient of step t with h_{t-1}; z_t reads h_t"),
]

#: (B, T, D, H, V, against): two small nets checked against finite differences (T = 1 among
#: them: no recurrence, but W_hh still meets h_0), two larger ones against the reference (one
#: with large recurrent weights, saturating the units).
_BPTT_SHAPES = [(2, 1, 3, 4, 5, "finite differences"), (2, 6, 3, 4, 5, "finite differences"),
                (1, 25, 4, 8, 6, "the reference"),
                (3, 12, 5, 6, 7, "the reference, large recurrent weights")]


def _bptt_cases(rng):
    cases = []
    for B, T, D, H, V, kind in _BPTT_SHAPES:
        gain = 2.5 if "large" in kind else 1.0
        params = {
            "W_xh": rng.normal(0, 0.6, size=(D, H)),
            "W_hh": rng.normal(0, gain / np.sqrt(H), size=(H, H)),
            "b_h": rng.normal(0, 0.2, size=H),
            "W_hy": rng.normal(0, 0.8, size=(H, V)),
            "b_y": rng.normal(0, 0.2, size=V),
        }
        cases.append({"x": rng.normal(size=(B, T, D)), "targets": rng.integers(0, V, size=(B, T)),
                      "h0": rng.normal(0, 0.5, size=(B, H)), "params": params})
    return cases


def _reference_or_finite_differences(x, targets, h0, params):
    """:func:`finite_difference_bptt` for the check's short sequences (T < 10, small nets),
    :func:`reference_bptt` for its longer ones."""
    short = np.shape(x)[1] < 10
    return (finite_difference_bptt if short else reference_bptt)(x, targets, h0, params)


_BPTT_OUTPUTS = ["grads", "dh0"]


@register("04-bptt", kind="implement", points=6 * len(_BPTT_SHAPES),
          summary="full-sequence BPTT of the Elman RNN with softmax outputs: the gradients of "
                  "W_xh, W_hh, b_h, W_hy, b_y and h_0, against central finite differences of the "
                  "loss on 2 fresh small nets (T = 1 among them) and against the reference on 2 "
                  "larger ones (T = 25 with B = 1; large recurrent weights); a missing path "
                  "through time, W_hh untransposed, h_t for h_{t-1}, no tanh', a sum where "
                  "the loss averages (over the batch or the steps) are named; autograd is "
                  "refused",
          forbidden=AUTOGRAD)
def check_bptt(bptt):
    """Check ``bptt(x, targets, h0, params) -> (grads, dh0)``."""
    title = "Backpropagation through time"
    cases = _bptt_cases(fresh_rng())
    refused = screen("04-bptt", title, bptt, 6 * len(cases))
    if refused:
        return refused
    bptt = _guarded(bptt)
    hint = diagnose_outputs(bptt, cases[3], reference_bptt,
                            _variants(_bptt_variant, _BPTT_MISTAKES), _BPTT_OUTPUTS,
                            "run the forward pass keeping every state h_0 .. h_T, then go back "
                            "from t = T to 1 with equation (4.4), and sum each step's share of "
                            "the weight gradients (4.5). If case 1 (T = 1) passes and the "
                            "longer ones do not, look at what travels from step to step")
    return _run_labelled("04-bptt", title, bptt,
                         _reference_or_finite_differences, cases, _BPTT_OUTPUTS, hint,
                         [f"against {kind}" for *_, kind in _BPTT_SHAPES])


# -- 04-rtrl-step -------------------------------------------------------------------------------

_P_NAMES = ("W_xh", "W_hh", "b_h")


def reference_rtrl_step(x_t, h_prev, P_prev, params):
    """One step of the RNN and of its sensitivities (4.6), by the package's ``rtrl_step``.

    ``P_prev`` and the returned ``P_t`` are dicts ``W_xh`` (B, H, D, H), ``W_hh`` (B, H, H, H),
    ``b_h`` (B, H, H): entry [b, j, ...] is ∂h_{b,j}/∂(that parameter entry)."""
    D, H = params["W_xh"].shape
    B = x_t.shape[0]
    flat = np.concatenate([P_prev[name].reshape(B, H, -1) for name in _P_NAMES], axis=-1)
    h_t, P = _rtrl.rtrl_step(x_t, h_prev, flat, params)
    split = _rtrl.split_sensitivities(P, D, H)
    return h_t, {name: split[name].copy() for name in _P_NAMES}


def _rtrl_variant(x_t, h_prev, P_prev, params, immediate=True, recurrent=True, transposed=True,
                  W_hh_reads="h_prev", factor_of="h_t"):
    W_xh, W_hh, b_h = params["W_xh"], params["W_hh"], params["b_h"]
    B, H = h_prev.shape
    h_t = np.tanh(x_t @ W_xh + h_prev @ W_hh + b_h)
    eye = np.eye(H)
    now = {"W_xh": np.einsum("jk,bd->bjdk", eye, x_t),
           "W_hh": np.einsum("jk,bi->bjik", eye, h_prev if W_hh_reads == "h_prev" else h_t),
           "b_h": np.broadcast_to(eye, (B, H, H))}
    W = W_hh if transposed else W_hh.T
    factor = 1.0 - (h_t if factor_of == "h_t" else h_prev)**2
    P = {}
    for name in _P_NAMES:
        total = np.zeros(P_prev[name].shape)
        if recurrent:
            total = total + np.einsum("ij,bi...->bj...", W, P_prev[name])
        if immediate:
            total = total + now[name]
        P[name] = factor.reshape((B, H) + (1,) * (total.ndim - 2)) * total
    return h_t, P


_RTRL_MISTAKES = [
    (dict(immediate=False),
     "the immediate term is missing: besides reaching h_t through h_{t-1}, each parameter "
     "enters a_t directly (∂a_t/∂θ with h_{t-1} held fixed, equation 4.6)"),
    (dict(recurrent=False),
     "the path through the previous state is missing: h_{t-1} depends on the parameters too, "
     "and that dependence reaches a_t through W_hh (the P_{t-1} term of equation 4.6)"),
    (dict(transposed=False),
     "P_{t-1} goes through W_hh the wrong way round: unit j of a_t collects Σ_i h_{t-1,i} "
     "W_hh[i, j], so it collects Σ_i W_hh[i, j] ∂h_{t-1,i}/∂θ"),
    (dict(W_hh_reads="h_t"),
     "the immediate term of W_hh holds h_t; W_hh multiplies h_{t-1} in a_t, so "
     "∂a_{t,j}/∂W_hh[i, j] = h_{t-1,i}"),
    (dict(factor_of="h_prev"),
     "the tanh' factor is 1 - h_{t-1}²; the state being differentiated is h_t = tanh(a_t), so "
     "the factor is 1 - h_t²"),
]

#: (B, D, H, kind): all sizes 1, the first step (P_0 = 0), later steps with random P_{t-1}.
_RTRL_SHAPES = [(1, 1, 1, "later"), (2, 3, 4, "first"), (3, 2, 5, "later"), (2, 4, 3, "later")]


def _rtrl_cases(rng):
    cases = []
    for B, D, H, kind in _RTRL_SHAPES:
        params = {"W_xh": rng.normal(0, 0.8, size=(D, H)),
                  "W_hh": rng.normal(0, 1.0 / np.sqrt(H), size=(H, H)),
                  "b_h": rng.normal(0, 0.3, size=H)}
        P_prev = {"W_xh": rng.normal(0, 0.5, size=(B, H, D, H)),
                  "W_hh": rng.normal(0, 0.5, size=(B, H, H, H)),
                  "b_h": rng.normal(0, 0.5, size=(B, H, H))}
        if kind == "first":
            P_prev = {name: np.zeros_like(value) for name, value in P_prev.items()}
        cases.append({"x_t": rng.normal(size=(B, D)), "h_prev": np.tanh(rng.normal(size=(B, H))),
                      "P_prev": P_prev, "params": params})
    return cases


@register("04-rtrl-step", kind="implement", points=4 * len(_RTRL_SHAPES),
          summary="one RTRL step (4.6): h_t and the sensitivities P_t of W_xh, W_hh and b_h "
                  "from P_{t-1}, against the reference on 4 fresh cases (B = D = H = 1, the "
                  "first step with P_0 = 0); a missing immediate or recurrent term, W_hh the "
                  "wrong way round, h_t for h_{t-1}, the tanh' of h_{t-1} are named; autograd "
                  "is refused",
          forbidden=AUTOGRAD)
def check_rtrl_step(rtrl_step):
    """Check ``rtrl_step(x_t, h_prev, P_prev, params) -> (h_t, P_t)``."""
    title = "One step of real-time recurrent learning"
    cases = _rtrl_cases(fresh_rng())
    refused = screen("04-rtrl-step", title, rtrl_step, 4 * len(cases))
    if refused:
        return refused
    rtrl_step = _guarded(rtrl_step)
    hint = diagnose_outputs(rtrl_step, cases[2], reference_rtrl_step,
                            _variants(_rtrl_variant, _RTRL_MISTAKES), ["h_t", "P_t"],
                            "differentiate a_t = x_t W_xh + h_{t-1} W_hh + b_h entry by entry: "
                            "what a parameter does to a_{t,j} directly, plus what it did to "
                            "h_{t-1} carried through W_hh, then through the tanh (equation 4.6). "
                            "Case 2 starts from P_0 = 0, so it tests the immediate term alone")
    return _run_labelled("04-rtrl-step", title, rtrl_step,
                         reference_rtrl_step, cases, ["h_t", "P_t"], hint,
                         ["B = D = H = 1" if kind == "later" and B == 1 else
                          "the first step (P_prev = 0)" if kind == "first" else ""
                          for B, D, H, kind in _RTRL_SHAPES])


# -- 04-bptt-costs ------------------------------------------------------------------------------

#: The sizes of the counting question.
COST_H, COST_D = 100, 50

_P_SIZE = COST_H * (COST_D * COST_H + COST_H**2 + COST_H)

_ORDER = "answer a tuple (a, b, c) of the exponents of O(H^a T^b k^c)"

_COST_QUESTIONS = [
    {"key": "bptt_time", "answer": (2, 1, 0),
     "explain": {(2, 2, 0): "each step is visited once forwards and once backwards: the work "
                            "grows like T, not T²",
                 (3, 1, 0): "a state (1 × H) times W_hh (H × H) costs H² operations, not H³",
                 (2, 0, 0): "that is one step; the sequence has T of them",
                 (1, 1, 0): "each step multiplies a vector by the H × H matrix W_hh: H² "
                            "operations"},
     "hint": f"count the operations of one step forwards and backwards, then the steps; {_ORDER}"},
    {"key": "bptt_memory", "answer": (1, 1, 0),
     "explain": {(2, 1, 0): "the weights are shared by all the steps and stored once; what "
                            "grows with T is one state vector per step",
                 (1, 0, 0): "the backward pass reads every h_t (equation 4.5), so all T states "
                            "are kept until it runs",
                 (2, 0, 0): "that is the weights and their gradients, which every method "
                            "stores; the question is what BPTT keeps besides"},
     "hint": f"what must the forward pass keep for the backward pass? {_ORDER}"},
    {"key": "sliding_time", "answer": (2, 1, 1),
     "explain": {(2, 1, 0): "that is the chunked variant: in BPTT(k) every step's loss is sent "
                            "back k steps, so each step is backpropagated about k times",
                 (2, 0, 1): "that is the backward pass of one loss; there are T of them",
                 (2, 2, 0): "each loss goes back k steps, not all the way to the start"},
     "hint": f"how many steps does each of the T losses travel back? {_ORDER}"},
    {"key": "sliding_memory", "answer": (1, 0, 1),
     "explain": {(1, 1, 0): "on a stream only the states that a backward pass can still reach "
                            "are needed: the last k",
                 (1, 0, 0): "a backward pass of k steps reads k states",
                 (2, 0, 1): "the states are vectors of H numbers"},
     "hint": f"how far back can a gradient still go, and what does it read there? {_ORDER}"},
    {"key": "chunked_time", "answer": (2, 1, 0),
     "explain": {(2, 1, 1): "each step is backpropagated once, inside its own chunk: the T/k "
                            "chunks of k steps cost T steps in all",
                 (2, 0, 1): "that is one chunk; there are T/k of them"},
     "hint": f"how many chunks are there, and what does each cost? {_ORDER}"},
    {"key": "chunked_memory", "answer": (1, 0, 1),
     "explain": {(1, 1, 0): "a chunk's states are dropped once its backward pass has run; only "
                            "the last state is carried on",
                 (1, 0, 0): "the backward pass of a chunk reads all k of its states"},
     "hint": f"what does one chunk's backward pass need, and what survives it? {_ORDER}"},
    {"key": "rtrl_time", "answer": (4, 1, 0),
     "explain": {(4, 0, 0): "that is one step; the sequence has T of them",
                 (3, 1, 0): "W_hhᵀ P_{t-1} multiplies an H × H matrix by P_{t-1}, which has "
                            "H × (H² + HD + H) entries",
                 (2, 1, 0): "that is BPTT; RTRL carries the derivative of every state unit with "
                            "respect to every weight"},
     "hint": f"how many entries has P_t, and what does equation (4.6) do to each? {_ORDER}"},
    {"key": "rtrl_memory", "answer": (3, 0, 0),
     "explain": {(3, 1, 0): "RTRL keeps only the current P_t, computed from P_{t-1}, which can "
                            "then be dropped: nothing grows with T, which is why it works online",
                 (4, 0, 0): "P_t has one row per state unit (H) and one column per parameter "
                            "(about H² of them)",
                 (1, 1, 0): "that is BPTT's; RTRL keeps the sensitivities instead of the "
                            "states"},
     "hint": f"what does RTRL carry from step to step, and how big is it? {_ORDER}"},
    {"key": "rtrl_numbers", "answer": _P_SIZE,
     "explain": {COST_H**3: "that counts the block of W_hh alone; P_t also has the blocks of "
                            "W_xh and b_h",
                 COST_H * (COST_D * COST_H + COST_H**2): "the block of the bias b_h is missing",
                 COST_D * COST_H + COST_H**2 + COST_H: "that is the number of parameters, the "
                                                        "length of one row of P_t; P_t has a "
                                                        "row per state unit"},
     "hint": f"P_t holds ∂h_{{t,j}}/∂θ for every unit j and every entry of W_xh, W_hh and b_h, "
             f"with H = {COST_H} and D = {COST_D} (one sequence)"},
]


@register("04-bptt-costs", kind="concept", points=len(_COST_QUESTIONS),
          summary="the orders of time and memory, as exponents of H, T and k, of full BPTT, "
                  "sliding BPTT(k), chunked truncation and RTRL over a sequence of T steps; the "
                  "number of entries of P_t for H = 100, D = 50 (per-step costs, stored "
                  "weights, a history of P_t and the missing bias block explained)")
def check_bptt_costs(answers):
    """Check ``answers() -> dict`` of the nine answers (see ``_COST_QUESTIONS``)."""
    return check_concept("04-bptt-costs", "What the gradient costs", answers, _COST_QUESTIONS)


# -- 04-clip-by-norm ----------------------------------------------------------------------------

def reference_clip_by_norm(grads, max_norm):
    """Every array of the list ``grads`` times min(1, max_norm / ‖g‖), ‖g‖ the global norm of
    all of them (4.7), by the package's ``optim.clip_by_norm``; returns a list."""
    clipped, _ = _optim.clip_by_norm({k: np.asarray(g, dtype=float) for k, g in enumerate(grads)},
                                     max_norm)
    return [clipped[k] for k in range(len(grads))]


def _clip_variant(grads, max_norm, rule="global"):
    grads = [np.asarray(g, dtype=float) for g in grads]
    norms = [float(np.sqrt(np.sum(g * g))) for g in grads]
    total = math.sqrt(sum(n * n for n in norms))
    if rule == "each":
        return [g * min(1.0, max_norm / n) if n > 0 else g for g, n in zip(grads, norms)]
    if rule == "value":
        return [np.clip(g, -max_norm, max_norm) for g in grads]
    if rule == "nothing":
        return [g.copy() for g in grads]
    if rule == "always" and total > 0:
        return [g * max_norm / total for g in grads]
    if rule == "squared":
        total = total**2
    return [g * min(1.0, max_norm / total) if total > 0 else g for g in grads]


_CLIP_MISTAKES = [
    (dict(rule="each"), "each array is clipped by its own norm. Equation (4.7) takes the norm of "
                        "all the arrays together and scales every array by the same factor, so "
                        "the whole gradient keeps its direction"),
    (dict(rule="value"), "that clamps every entry to [-max_norm, max_norm] (clipping by value), "
                         "which changes the direction; clipping by norm rescales"),
    (dict(rule="nothing"), "the arrays come back unchanged although their global norm exceeds "
                           "max_norm: they must be scaled down onto the ball of radius "
                           "max_norm"),
    (dict(rule="always"), "a gradient whose norm is already below max_norm must come back "
                          "unchanged: the factor of equation (4.7) is never above 1"),
    (dict(rule="squared"), "the norm is the square root of the sum of squares"),
]

#: (shapes of the three arrays, the gradient's global norm relative to max_norm, max_norm):
#: each array below the threshold but all together above it, an all-zero gradient, a gradient
#: below the threshold, one exploding array among small ones, a norm just below the threshold.
_CLIP_CASES = [(((3, 4), (4, 4), (4,)), "each below", 1.0),
               (((2, 3), (3, 3), (3,)), "zero", 1.0),
               (((5,), (2, 5), (5, 5)), 0.4, 2.0),
               (((3, 6), (6, 6), (6,)), "one exploding", 5.0),
               (((4, 2), (2, 2), (2,)), 0.99, 0.5)]
_CLIP_LABELS = ["each array below max_norm, together above", "an all-zero gradient",
                "global norm 0.4 × max_norm", "one exploding array (global norm 20 × max_norm)",
                "global norm 0.99 × max_norm"]


def _clip_cases(rng):
    cases = []
    for shapes, kind, max_norm in _CLIP_CASES:
        grads = [rng.normal(size=shape) for shape in shapes]
        norms = [float(np.linalg.norm(g)) for g in grads]
        if kind == "each below":   # each array at 0.55-0.8 of max_norm, globally ~1.2 times it
            grads = [g * max_norm * rng.uniform(0.55, 0.8) / n for g, n in zip(grads, norms)]
        elif kind == "zero":
            grads = [np.zeros(shape) for shape in shapes]
        elif kind == "one exploding":
            grads = [g * 0.1 / n for g, n in zip(grads, norms)]
            grads[1] *= 1e3
        else:                      # a global norm of kind × max_norm
            total = math.sqrt(sum(n * n for n in norms))
            grads = [g * kind * max_norm / total for g in grads]
        cases.append({"grads": grads, "max_norm": max_norm})
    return cases


def _as_tuple(out):
    """A list answer as a tuple: one output per array, as ``run_check`` scores them."""
    return tuple(out) if isinstance(out, (list, tuple)) else out


#: The torch routines that clip by the global norm: the whole exercise.
CLIP_FORBIDDEN = ("clip_grad_norm_", "clip_grad_norm", "clip_grads_with_norm_")


@register("04-clip-by-norm", kind="implement", points=3 * len(_CLIP_CASES),
          summary="clips a list of 3 gradient arrays by their global norm (4.7), every array "
                  "scored, on 5 fresh cases: each array below the threshold but all together "
                  "above it (per-array clipping fails), an all-zero gradient (NaN fails), "
                  "gradients below and above the threshold (a do-nothing clip fails); clipping "
                  "by value, per array, always, a missing square root, changes in place named",
          forbidden=CLIP_FORBIDDEN)
def check_clip_by_norm(clip_by_norm):
    """Check ``clip_by_norm(grads, max_norm) -> list of arrays`` (``grads`` a list of arrays)."""
    title = "Clipping by the global norm"
    cases = _clip_cases(fresh_rng())
    names = [f"clipped[{k}]" for k in range(len(cases[0]["grads"]))]
    refused = screen("04-clip-by-norm", title, clip_by_norm, len(cases) * len(names))
    if refused:
        return refused
    student = _guarded(clip_by_norm, convert=_as_tuple)
    reference = lambda **k: tuple(reference_clip_by_norm(**k))  # noqa: E731
    mistakes = [(_guarded(lambda grads, max_norm, flags=flags:
                          _clip_variant(grads, max_norm, **flags), convert=_as_tuple), message)
                for flags, message in _CLIP_MISTAKES]
    default = ("compute one norm for the whole list, then decide with equation (4.7) whether "
               "and by how much to shrink every array")
    hint = diagnose_outputs(student, cases[1], reference, [], names, default,
                            nonfinite="an all-zero gradient has norm 0, below any max_norm: it "
                                      "comes back unchanged, without a division by its norm")
    for case in (cases[3], cases[2]):  # far above, then below the threshold
        if hint is default:
            hint = diagnose_outputs(student, case, reference, mistakes, names, default)
    return _run_labelled("04-clip-by-norm", title, student, reference, cases, names, hint,
                         _CLIP_LABELS)


# -- 04-forecast-window -------------------------------------------------------------------------

#: The experiment's set-up: the chapter's airline forecaster (level-relative scaling fitted on
#: the training months, ``RNNForecaster``, full-batch Adam, ``steps`` steps at ``lr``), trained
#: on the targets before month ``valid_start`` (1949-1955) and scored on the validation year
#: 1956 (months ``valid_start`` .. ``valid_end`` - 1); a restart passes when its RMSE there is at
#: most ``factor`` times the seasonal-naive forecast's. Windows shorter than a year only.
FORECAST = {"valid_start": 84, "valid_end": 96, "steps": 300, "lr": 0.05, "seeds": (0, 1, 2),
            "factor": 0.5, "max_window": 11, "max_hidden": 32}


def _check_sizes(window, hidden_size, max_window):
    for name, value, low, high in [("window", window, 2, max_window),
                                   ("hidden_size", hidden_size, 1, FORECAST["max_hidden"])]:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name}: expected an int, got {value!r}")
        if not low <= value <= high:
            why = ""
            if name == "window" and value == 1:
                why = " (a one-month window is all level: relative to its own mean it is 0)"
            elif name == "window" and value > high == FORECAST["max_window"]:
                why = " (shorter than a year: the chapter's forecaster already reads 12 months)"
            raise ValueError(f"{name}: expected {low} to {high}{why}, got {value}")
    return int(window), int(hidden_size)


def _as_forecaster_choice(choice):
    if not isinstance(choice, dict) or set(choice) != {"window", "hidden_size"}:
        raise TypeError(f"expected a dict with the keys 'window' and 'hidden_size', got {choice!r}")
    return _check_sizes(choice["window"], choice["hidden_size"], FORECAST["max_window"])


def forecast_validation_rmse(window, hidden_size, seed=0):
    """Train the experiment's forecaster (``FORECAST``) with ``window`` months of input and
    ``hidden_size`` units from ``seed``; return its RMSE on the validation year 1956 and the
    seasonal-naive forecast's, in thousands of passengers. Windows of 2 to 36 months; takes a
    fraction of a second to a few seconds. Try choices with it."""
    import torch

    from ..data import load_airline_passengers, make_windows
    from ..numpy import forecast
    from ..torch.forecast import RNNForecaster, fit_forecaster, predict

    window, hidden_size = _check_sizes(window, hidden_size, 36)
    start, end = FORECAST["valid_start"], FORECAST["valid_end"]
    _, y = load_airline_passengers()
    x, t = make_windows(y, window)
    month = np.arange(window, len(y))
    train, valid = month < start, (month >= start) & (month < end)
    x_rel, t_rel, level = forecast.relative_to_level(x, t)
    scaler = forecast.StandardScaler().fit(x_rel[train])
    X = torch.from_numpy(scaler.transform(x_rel))
    Tz = torch.from_numpy(scaler.transform(t_rel))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        model = RNNForecaster(hidden_size, dtype=torch.float64)
        fit_forecaster(model, X[train], Tz[train], steps=FORECAST["steps"], lr=FORECAST["lr"])
        z = predict(model, X[valid])
    finally:
        torch.random.set_rng_state(state)
        torch.set_num_threads(threads)
    prediction = forecast.from_level(scaler.inverse_transform(z), level[valid])
    rmse = forecast.rmse(prediction, y[start:end]) if np.all(np.isfinite(prediction)) else math.inf
    seasonal = forecast.rmse(forecast.naive_seasonal(y, start, 12)[:end - start], y[start:end])
    return rmse, seasonal


def _measure_forecaster(choice):
    window, hidden = _as_forecaster_choice(choice)
    n_params = hidden + hidden * hidden + hidden + hidden + 1
    lines = [f"window {window} months, {hidden} hidden unit(s): {n_params} parameters"]
    score = 0
    for seed in FORECAST["seeds"]:
        rmse, seasonal = forecast_validation_rmse(window, hidden, seed)
        target = FORECAST["factor"] * seasonal
        ok = rmse <= target
        score += ok
        lines.append(f"restart {seed}: validation RMSE {rmse:.1f} thousand passengers "
                     f"({'at most' if ok else 'above'} {target:.1f}, half the seasonal-naive "
                     f"{seasonal:.1f})")
    if score < len(FORECAST["seeds"]):
        luck = ("a choice that works for some restarts and not others is luck. " if score else "")
        lines.append(f"hint: {luck}What must the state hold to know where in the year a window "
                     "ends, and how many months show it? Try choices with "
                     "forecast_validation_rmse(window, hidden_size, seed) before you submit one.")
    return score, lines


@register("04-forecast-window", kind="experiment", points=len(FORECAST["seeds"]),
          summary="trains the chapter's airline forecaster (level-relative scaling, 300 Adam "
                  "steps) with the chosen window (2-11 months) and hidden size (1-32) from 3 "
                  "seeds; a point per restart whose RMSE on the validation year 1956 is at most "
                  "half the seasonal-naive forecast's")
def check_forecast_window(choose_forecaster):
    """Check ``choose_forecaster() -> {"window": ..., "hidden_size": ...}``."""
    return check_experiment("04-forecast-window", "A forecaster with less than a year of context",
                            choose_forecaster, _measure_forecaster,
                            max_score=len(FORECAST["seeds"]))


# -- 04-clip-threshold --------------------------------------------------------------------------

#: The experiment's set-up: the chapter's exploding run (the character RNN of ``hidden_size``
#: units on *Macbeth*, ``batch_size`` streams of ``seq_len`` characters, plain SGD from
#: ``init_char_rnn_params``' weights) at the learning rate ``lr``, ``steps`` steps from each of
#: ``seeds``; a run scores when it never stops and the mean loss of its last ``last`` steps is at
#: most ``target`` nats per character.
CLIPPING = {"lr": 6.0, "hidden_size": 64, "batch_size": 16, "seq_len": 25, "steps": 300,
            "seeds": (0, 1, 2), "last": 50, "target": 2.5}


def clipped_sgd_loss(max_norm, seed=0, lr=CLIPPING["lr"]):
    """Train the experiment's character RNN (``CLIPPING``) from ``seed`` with plain SGD at
    learning rate ``lr``, clipping the gradient's global norm to ``max_norm`` (``None``: no
    clipping), with ``seqlearn.numpy.language_model.train_with_sgd``. Returns a dict: ``loss``,
    the mean loss of the last 50 steps (nats per character; inf when the run stopped),
    ``clipped``, how many of the 300 steps were clipped, and ``largest_norm``, the largest
    gradient norm met. About a second per call: try choices with it."""
    from threadpoolctl import threadpool_limits

    from ..data import CharVocabulary, load_text
    from ..numpy import char_rnn, language_model

    if max_norm is not None and (isinstance(max_norm, bool)
                                 or not isinstance(max_norm, (int, float, np.integer, np.floating))
                                 or not max_norm > 0 or not math.isfinite(max_norm)):
        raise ValueError(f"max_norm: expected a positive number or None, got {max_norm!r}")
    text = load_text("macbeth")
    vocab = CharVocabulary(text)
    params = char_rnn.init_char_rnn_params(len(vocab), CLIPPING["hidden_size"],
                                           rng=np.random.default_rng(seed))
    with threadpool_limits(1):  # small products: one thread is fastest, and fair to others
        run = language_model.train_with_sgd(params, vocab.encode(text), CLIPPING["seq_len"],
                                            CLIPPING["batch_size"], CLIPPING["steps"], lr,
                                            None if max_norm is None else float(max_norm))
    losses = run["losses"][-CLIPPING["last"]:]
    loss = math.inf if run["stopped"] or not losses else float(np.mean(losses))
    return {"loss": loss, "clipped": int(np.sum(run["clipped"])),
            "largest_norm": float(max(run["grad_norms"], default=math.inf))}


def _measure_threshold(choice):
    if choice is not None and (isinstance(choice, bool)
                               or not isinstance(choice, (int, float, np.integer, np.floating))):
        raise TypeError(f"expected a positive number (the threshold c) or None, got {choice!r}")
    steps, target = CLIPPING["steps"], CLIPPING["target"]
    lines = [f"threshold c = {choice}, learning rate {CLIPPING['lr']:g}, {steps} steps per run"]
    score, losses = 0, []
    for seed in CLIPPING["seeds"]:
        run = clipped_sgd_loss(choice, seed)
        ok = run["loss"] <= target
        score += ok
        losses.append(run["loss"])
        lines.append(f"restart {seed}: loss over the last {CLIPPING['last']} steps "
                     f"{run['loss']:.2f} nats/char ({'at most' if ok else 'above'} {target}), "
                     f"{run['clipped']} of {steps} steps clipped, largest gradient norm "
                     f"{run['largest_norm']:.3g}")
    if score < len(CLIPPING["seeds"]):
        if all(loss > 4.0 for loss in losses):
            why = ("the runs blew up: some steps were still far too long. ")
        elif choice is not None and min(losses) > target:
            why = ("the runs stayed stable but learned slowly: every step was clipped short. ")
        else:
            why = ""
        lines.append(f"hint: {why}A clipped step moves the weights by at most lr · c. Compare "
                     "that length with the steps of the runs that trained in the chapter, and try "
                     "choices with clipped_sgd_loss(max_norm, seed) before you submit one.")
    return score, lines


@register("04-clip-threshold", kind="experiment", points=len(CLIPPING["seeds"]),
          summary="trains the chapter's exploding character RNN (64 units, Macbeth, plain SGD "
                  "at learning rate 6, 300 steps) from 3 seeds with the chosen clipping "
                  "threshold; a point per run whose loss over its last 50 steps is at most 2.5 "
                  "nats per character")
def check_clip_threshold(choose_threshold):
    """Check ``choose_threshold() -> c`` (a positive number, or None for no clipping)."""
    return check_experiment("04-clip-threshold", "A clipping threshold for a larger step",
                            choose_threshold, _measure_threshold,
                            max_score=len(CLIPPING["seeds"]))


# -- 04-temperature -----------------------------------------------------------------------------

def reference_temperature(logits, temperature):
    """softmax(z / τ) for every row of ``logits`` (B, V); for τ = 0 the one-hot of each row's
    largest score (the first of equal ones)."""
    logits = np.asarray(logits, dtype=float)
    if temperature == 0:
        out = np.zeros_like(logits)
        out[np.arange(len(logits)), logits.argmax(axis=1)] = 1.0
        return out
    return _softmax(logits / temperature)


def _temperature_variant(logits, temperature, rule="divide"):
    logits = np.asarray(logits, dtype=float)
    if rule == "multiply":
        return _stable_softmax(logits * temperature)
    if rule == "ignore":
        return _stable_softmax(logits)
    if rule == "columns":
        return _stable_softmax(logits.T / max(temperature, 1e-300)).T
    if rule == "scores":
        return logits / max(temperature, 1e-300)
    raise ValueError(rule)


_TEMPERATURE_MISTAKES = [
    (dict(rule="multiply"), "the scores are multiplied by the temperature: they are divided by "
                            "it, so that a temperature below 1 sharpens the distribution"),
    (dict(rule="ignore"), "the temperature is not used: the distribution is softmax(z / τ)"),
    (dict(rule="columns"), "the softmax normalises each row (the V scores of one step), not "
                           "each column"),
    (dict(rule="scores"), "those are the scaled scores: return probabilities, each row summing "
                          "to 1"),
]

#: (B, V, temperature, how the scores are drawn): ordinary scores at three temperatures, the
#: greedy limit τ = 0, and a small τ with scores of tens, where exp(z / τ) overflows.
_TEMPERATURE_CASES = [(3, 5, 1.0, "plain"), (4, 8, 0.5, "plain"), (2, 6, 2.0, "plain"),
                      (5, 7, 0.0, "plain"), (3, 65, 0.02, "large")]
_TEMPERATURE_LABELS = ["τ = 1", "τ = 0.5", "τ = 2", "τ = 0: the most likely character",
                       "τ = 0.02 with scores of tens"]


def _temperature_cases(rng):
    cases = []
    for B, V, temperature, kind in _TEMPERATURE_CASES:
        logits = rng.normal(0.0, 10.0 if kind == "large" else 1.5, size=(B, V))
        cases.append({"logits": logits, "temperature": temperature})
    return cases


@register("04-temperature", kind="implement", points=len(_TEMPERATURE_CASES),
          summary="the sampling distribution softmax(z / τ) of every row of scores (4.8) on 5 "
                  "fresh cases: τ = 1, 0.5 and 2, the greedy limit τ = 0 (one-hot of the most "
                  "likely character) and τ = 0.02 with scores of tens, where exp overflows "
                  "without the max shift; multiplying by τ, ignoring τ, normalising the "
                  "columns, returning scores are named",
          forbidden=("softmax", "log_softmax", "cross_entropy", "generate_text"))
def check_temperature(temperature_probabilities):
    """Check ``temperature_probabilities(logits, temperature) -> probabilities``."""
    title = "Sampling with a temperature"
    cases = _temperature_cases(fresh_rng())
    refused = screen("04-temperature", title, temperature_probabilities, len(cases))
    if refused:
        return refused
    student = _guarded(temperature_probabilities)
    mistakes = _variants(_temperature_variant, _TEMPERATURE_MISTAKES)
    default = ("divide each row of scores by τ, then turn it into probabilities as equation "
               "(4.8) says; τ = 0 is the limit of small τ")
    hint = diagnose_outputs(
        student, cases[1], reference_temperature, mistakes, ["probabilities"], default,
        nonfinite="exp(z / τ) overflows when τ is small: subtract each row's largest scaled "
                  "score before exponentiating")
    if hint is default:
        hint = diagnose_outputs(student, cases[4], reference_temperature, [], ["probabilities"],
                                default, nonfinite="exp(z / τ) overflows when τ is small: "
                                                   "subtract each row's largest scaled score "
                                                   "before exponentiating")
    if hint is default:
        hint = diagnose_outputs(student, cases[3], reference_temperature, [], ["probabilities"],
                                default, nonfinite="τ = 0 cannot be divided by: it is the limit "
                                                   "τ → 0, where all the mass goes to the "
                                                   "largest score")
    return _run_labelled("04-temperature", title, student, reference_temperature, cases,
                         ["probabilities"], hint, _TEMPERATURE_LABELS)


# -- 04-unit-correlations -----------------------------------------------------------------------

def reference_unit_correlations(states, features):
    """The Pearson correlation (4.9) of every unit (column of ``states`` (N, H)) with every
    feature (column of ``features`` (N, F)): (H, F), 0 where a column is constant, by the
    package's ``char_rnn.unit_correlations``."""
    from ..numpy.char_rnn import unit_correlations

    return unit_correlations(states, features)


def _correlation_variant(states, features, rule="centred"):
    s, f = np.asarray(states, dtype=float), np.asarray(features, dtype=float)
    if rule != "uncentred":
        s, f = s - s.mean(axis=0), f - f.mean(axis=0)
    if rule == "covariance":
        return s.T @ f / len(s)
    scale = np.sqrt(np.outer((s * s).sum(axis=0), (f * f).sum(axis=0)))
    if rule == "states only":
        scale = np.sqrt((s * s).sum(axis=0))[:, None] * np.ones(f.shape[1])
    r = np.divide(s.T @ f, scale, out=np.zeros(scale.shape), where=scale > 0)
    return r.T if rule == "transposed" else r


_CORRELATION_MISTAKES = [
    (dict(rule="uncentred"), "the means are not subtracted: that is the cosine of the raw "
                             "columns, not their correlation (equation 4.9)"),
    (dict(rule="covariance"), "that is the covariance: divide by the two standard deviations, "
                              "so that r lies in [-1, 1] whatever the units' scales"),
    (dict(rule="states only"), "only the unit's spread is divided out: the feature's goes too"),
    (dict(rule="transposed"), "the answer is (F, H): one row per unit, one column per feature "
                              "is asked for"),
]

#: (N, H, F, kind): ordinary activations, a unit that never changes (its r is 0, not NaN),
#: activations far from zero with a small spread, and one feature against many units.
_CORRELATION_CASES = [(40, 5, 3, "plain"), (60, 6, 2, "constant unit"), (50, 4, 3, "offset"),
                      (80, 12, 1, "plain")]
_CORRELATION_LABELS = ["", "a unit that never changes", "activations near 1000, spread 0.01",
                       "one feature"]


def _correlation_cases(rng):
    cases = []
    for N, H, F, kind in _CORRELATION_CASES:
        features = rng.normal(size=(N, F))
        mixing = rng.normal(size=(F, H))
        states = np.tanh(features @ mixing + rng.normal(0.0, 1.0, size=(N, H)))
        if kind == "constant unit":
            states[:, 2] = 0.37
        elif kind == "offset":
            states = 1000.0 + 0.01 * states
        cases.append({"states": states, "features": features})
    return cases


@register("04-unit-correlations", kind="implement", points=len(_CORRELATION_CASES),
          summary="the Pearson correlation (4.9) of every unit's activations with every "
                  "feature, (H, F), on 4 fresh cases: ordinary activations, a constant unit "
                  "(r = 0, not NaN), activations near 1000 with a spread of 0.01, a single "
                  "feature; no centring, a covariance, one standard deviation only, a "
                  "transposed answer are named",
          forbidden=("corrcoef", "pearsonr", "spearmanr", "correlate", "unit_correlations"))
def check_unit_correlations(unit_correlations):
    """Check ``unit_correlations(states, features) -> r`` (H, F)."""
    title = "Correlating units with features"
    cases = _correlation_cases(fresh_rng())
    refused = screen("04-unit-correlations", title, unit_correlations, len(cases))
    if refused:
        return refused
    student = _guarded(unit_correlations)
    mistakes = _variants(_correlation_variant, _CORRELATION_MISTAKES)
    default = ("centre every column, then divide each unit's covariance with each feature by "
               "the product of their spreads, as equation (4.9) does")
    hint = diagnose_outputs(student, cases[0], reference_unit_correlations, mistakes, ["r"],
                            default)
    if hint is default:
        hint = diagnose_outputs(student, cases[1], reference_unit_correlations, [], ["r"],
                                default, nonfinite="a unit that never changes has spread 0: "
                                                   "its correlation is defined here as 0, "
                                                   "without a division by 0")
    return _run_labelled("04-unit-correlations", title, student, reference_unit_correlations,
                         cases, ["r"], hint, _CORRELATION_LABELS)


# -- 04-forecaster-sizes ------------------------------------------------------------------------

_SIZE_QUESTIONS = [
    {"key": "rnn_parameters", "answer": 89,
     "explain": {81: "that counts W_xh, W_hh and b_h; the dense read-out W_hy and b_y also "
                     "learn",
                 88: "the read-out has a bias b_y too",
                 73: "W_hh is H × H"},
     "hint": "count W_xh (1 × H), W_hh (H × H), b_h, W_hy (H × 1) and b_y for H = 8"},
    {"key": "lstm_parameters", "answer": 329,
     "explain": {361: "that counts two bias vectors per gate, as torch.nn.LSTM has; the "
                      "course's LSTM has one",
                 320: "the dense read-out (W_hy and b_y) is part of the forecaster too",
                 89: "that is the Elman forecaster: the LSTM has four blocks (i, f, g, o) of "
                     "weights and biases"},
     "hint": "four gate blocks, each with its own input weights, recurrent weights and bias, "
             "plus the read-out, for H = 8"},
    {"key": "train_windows", "answer": 60,
     "explain": {72: "that is the count for 12-month windows: a window of 24 months needs 24 "
                     "months before its target",
                 84: "the first months can only be inputs: a target needs a whole window "
                     "before it"},
     "hint": "the training targets are the months before 1956 (index 84) that have 24 months "
             "before them"},
    {"key": "seasonal_window", "answer": 12,
     "explain": {11: "the month one year before the target is 12 months back: a window must "
                     "reach it",
                 13: "12 months back is the same month last year, so 12 months suffice"},
     "hint": "how far back is the same month of last year?"},
    {"key": "choose_by", "answer": "validation",
     "explain": {"test": "a configuration chosen by its test score makes that score "
                         "optimistic: choose on the validation year and report the test once"},
     "hint": "answer 'validation' or 'test'"},
]


@register("04-forecaster-sizes", kind="concept", points=len(_SIZE_QUESTIONS),
          summary="the parameters of the Elman and the LSTM forecaster with 8 units, the number "
                  "of training windows of 24 months, the shortest window that can copy last "
                  "year's month, and which score chooses a configuration (two bias vectors, a "
                  "missing read-out, 12-month counts explained)")
def check_forecaster_sizes(answers):
    """Check ``answers() -> dict`` of the five answers (see ``_SIZE_QUESTIONS``)."""
    return check_concept("04-forecaster-sizes", "Sizes of the forecasters", answers,
                         _SIZE_QUESTIONS)


__all__ = ["AUTOGRAD", "CLIP_FORBIDDEN", "CLIPPING", "COST_D", "COST_H", "FORECAST",
           "PARAM_NAMES", "bptt_loss", "check_bptt", "check_bptt_costs", "check_bptt_step",
           "check_clip_by_norm", "check_clip_threshold", "check_forecast_window",
           "check_forecaster_sizes", "check_output_gradient", "check_rtrl_step",
           "check_temperature", "check_unit_correlations", "clipped_sgd_loss",
           "finite_difference_bptt", "forecast_validation_rmse", "reference_bptt",
           "reference_bptt_step", "reference_clip_by_norm", "reference_output_gradient",
           "reference_rtrl_step", "reference_temperature", "reference_unit_correlations"]
