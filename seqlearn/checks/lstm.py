"""Checks for the exercises of chapter 6, *LSTM and GRU*.

=========================== ============ ========================================================
exercise                    kind         what the check does
=========================== ============ ========================================================
06-lstm-cell-forward        implement    one LSTM step (6.3)–(6.6) against the reference, on fresh
                                         random cells (B = 1, a first step from zero, saturated
                                         gates)
06-gru-cell                 implement    one GRU step (6.7)–(6.9) against the reference, on fresh
                                         random cells
06-lstm-step-backward       implement    the gradients of one LSTM step (all six) against the
                                         reference; autograd is refused
06-lstm-backward            implement    backpropagation through a whole sequence: dx, dh0, dc0
                                         and the parameter gradients against the reference
                                         (itself checked against finite differences and
                                         autograd), on fresh random nets and sequences (T = 1,
                                         B = 1, a loss at the last step only, an open carousel);
                                         autograd is refused
06-lstm-gru-concepts        concept      the parameter counts of the chapter's LSTM and GRU and of
                                         ``nn.LSTM``; the gates that turn a GRU into an Elman RNN
                                         or a copy, and an LSTM cell into a copy
06-forget-bias              experiment   trains an LSTM with the chosen forget-gate bias on delayed
                                         recall (lag 60) with the package, for two seeds
06-lstm-block-step          implement    (chapter 6b) one step of an LSTM of memory blocks, gates
                                         shared by block_size cells, against the reference
06-lstm-block-backward      implement    (chapter 6b) the six gradients of that step; a shared
                                         gate's error taken from one cell or averaged is named
06-peephole-clock           experiment   (chapter 6b) runs the chosen one-cell peephole LSTM on
                                         zero input and scores the timing of its output spikes
06-tricks-concepts          concept      (chapter 6b) counting an LSTM of blocks, what a GRU unit
                                         keeps while it writes, the forget bias for 100 steps,
                                         what gates without peepholes see
=========================== ============ ========================================================

The references are the package's own ``seqlearn.numpy.lstm`` (memory blocks run through
``lstm_block_columns``) and ``seqlearn.numpy.gru``. When an
answer is wrong, the check compares it with what typical mistakes give (gates in the wrong order,
a missing tanh, the update gate's roles swapped, a forgotten path of the gradient, h_t where
h_{t-1} belongs, a mean over the batch, ...) and names the mistake it recognises; otherwise its
hint points to the equations by number, never to the formula. A backward pass is diagnosed
output by output (``core.diagnose_outputs``), so that an answer with two mistakes, each in its
own outputs, gets both named.
"""

import math

import numpy as np

from ..numpy.gru import gru_step as _gru_step
from ..numpy.lstm import lstm_backward as _lstm_backward
from ..numpy.lstm import lstm_block_columns as _lstm_block_columns
from ..numpy.lstm import lstm_forward as _lstm_forward
from ..numpy.lstm import lstm_step as _lstm_step
from ..numpy.lstm import lstm_step_backward as _lstm_step_backward
from .core import (check_concept, check_experiment, diagnose_outputs, fresh_rng, register,
                   run_check)

GATES = ("i", "f", "g", "o")

#: What a hand-written backward pass may not use: autograd, and PyTorch's LSTM, which would do
#: the forward that autograd differentiates.
AUTOGRAD = ("backward", "grad", "vjp", "jacobian", "LSTM", "LSTMCell", "lstm")


def _sigmoid(a):
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def _split(z, k):
    H = z.shape[-1] // k
    return [z[..., j * H:(j + 1) * H] for j in range(k)]


# -- 06-lstm-cell-forward ---------------------------------------------------------------------

def reference_lstm_cell(x_t, h_prev, c_prev, W_x, W_h, b):
    """One LSTM step, gates [i | f | g | o]: returns ``(h_t, c_t)``, each (B, H)."""
    h_t, c_t, _ = _lstm_step(x_t, h_prev, c_prev, {"W_x": W_x, "W_h": W_h, "b": b})
    return h_t, c_t


def _lstm_cell_variant(x_t, h_prev, c_prev, W_x, W_h, b, order="ifgo", squash_cell=True,
                       use_input_gate=True, forget="sigmoid", read="c_t"):
    a = x_t @ W_x + h_prev @ W_h + b
    blocks = dict(zip(order, _split(a, 4)))
    i, f, o = _sigmoid(blocks["i"]), _sigmoid(blocks["f"]), _sigmoid(blocks["o"])
    g = np.tanh(blocks["g"])
    if forget == "tanh":
        f = np.tanh(blocks["f"])
    c = f * c_prev + (i * g if use_input_gate else g)
    shown = c if read == "c_t" else c_prev
    h = o * (np.tanh(shown) if squash_cell else shown)
    return h, c


#: (B, D, H, kind) of the cell's cases: B = 1, generic, saturated gates, a first step from zero.
_CELL_SHAPES = [(1, 3, 2, "plain"), (4, 2, 5, "plain"), (6, 7, 4, "plain"), (3, 5, 8, "large"),
                (2, 4, 3, "zero state")]


def _lstm_cell_cases(rng):
    cases = []
    for B, D, H, kind in _CELL_SHAPES:
        scale = 3.0 if kind == "large" else 0.6       # large: pre-activations of ±10 and more
        case = {
            "x_t": rng.normal(size=(B, D)) * (3.0 if kind == "large" else 1.0),
            "h_prev": rng.uniform(-1, 1, size=(B, H)),
            "c_prev": rng.normal(size=(B, H)) * (4.0 if kind == "large" else 1.0),
            "W_x": rng.normal(scale=scale, size=(D, 4 * H)),
            "W_h": rng.normal(scale=scale, size=(H, 4 * H)),
            "b": rng.normal(scale=0.5, size=4 * H),
        }
        if kind == "zero state":
            case["h_prev"], case["c_prev"] = np.zeros((B, H)), np.zeros((B, H))
        cases.append(case)
    return cases


@register("06-lstm-cell-forward", kind="implement", points=2 * len(_CELL_SHAPES),
          summary="one LSTM step (h_t, c_t) against the reference on 5 fresh random cells "
                  "(B = 1, saturated gates, a first step from a zero state); gate order, a "
                  "missing tanh or input gate, a tanh forget gate, tanh(c_{t-1}) are named",
          forbidden=("LSTM", "LSTMCell", "lstm_cell", "lstm"))
def check_lstm_cell(lstm_cell):
    """Check ``lstm_cell(x_t, h_prev, c_prev, W_x, W_h, b) -> (h_t, c_t)``."""
    cases = _lstm_cell_cases(fresh_rng())
    mistakes = [
        (lambda **k: _lstm_cell_variant(**k, order="ifog"),
         "the gate blocks are in the order i, f, o, g; the package (and torch) use "
         "i, f, g, o (equation 6.3): the third block of a_t is the candidate g, the fourth the "
         "output gate o"),
        (lambda **k: _lstm_cell_variant(**k, order="iofg"),
         "the gate blocks are in a different order; equation (6.3) orders them i, f, g, o"),
        (lambda **k: _lstm_cell_variant(**k, squash_cell=False),
         "h_t shows the cell through a tanh (equation 6.6): the tanh of the cell is missing"),
        (lambda **k: _lstm_cell_variant(**k, read="c_prev"),
         "h_t shows the new cell c_t (equation 6.6), not the old one c_{t-1}"),
        (lambda **k: _lstm_cell_variant(**k, use_input_gate=False),
         "the candidate enters the cell without the input gate (equation 6.5)"),
        (lambda **k: _lstm_cell_variant(**k, forget="tanh"),
         "the forget gate is a sigmoid (a number between 0 and 1), not a tanh (equation 6.4)"),
    ]
    hint = diagnose_outputs(lstm_cell, cases[2], reference_lstm_cell, mistakes, ["h_t", "c_t"],
                            "go through equations (6.3)-(6.6) in order: one product for all "
                            "four blocks, then each block's own nonlinearity, the cell, and "
                            "what the cell shows")
    return run_check("06-lstm-cell-forward", "One step of the LSTM cell", lstm_cell,
                     reference_lstm_cell, cases, ["h_t", "c_t"], hint=hint)


# -- 06-gru-cell ------------------------------------------------------------------------------

def reference_gru_cell(x_t, h_prev, W_x, W_h, b_x, b_h):
    """One GRU step, blocks [r | u | n] as torch: returns h_t (B, H)."""
    h_t, _ = _gru_step(x_t, h_prev, {"W_x": W_x, "W_h": W_h, "b_x": b_x, "b_h": b_h})
    return h_t


def _gru_cell_variant(x_t, h_prev, W_x, W_h, b_x, b_h, swap_update=False, reset_before=False,
                      no_reset=False, bias_outside_reset=False):
    a_r, a_u, a_n = _split(x_t @ W_x + b_x, 3)
    s_r, s_u, s_n = _split(h_prev @ W_h + b_h, 3)
    r, u = _sigmoid(a_r + s_r), _sigmoid(a_u + s_u)
    H = h_prev.shape[1]
    if no_reset:
        r = np.ones_like(r)
    if reset_before:
        n = np.tanh(a_n + (r * h_prev) @ W_h[:, 2 * H:] + b_h[2 * H:])
    elif bias_outside_reset:
        n = np.tanh(a_n + r * (h_prev @ W_h[:, 2 * H:]) + b_h[2 * H:])
    else:
        n = np.tanh(a_n + r * s_n)
    return u * n + (1 - u) * h_prev if swap_update else (1 - u) * n + u * h_prev


_GRU_SHAPES = [(1, 2, 3, "plain"), (5, 4, 2, "plain"), (3, 6, 6, "plain"), (7, 3, 5, "plain"),
               (2, 3, 4, "large")]


def _gru_cases(rng):
    cases = []
    for B, D, H, kind in _GRU_SHAPES:
        scale = 2.5 if kind == "large" else 0.6
        cases.append({
            "x_t": rng.normal(size=(B, D)),
            "h_prev": rng.uniform(-1, 1, size=(B, H)),
            "W_x": rng.normal(scale=scale, size=(D, 3 * H)),
            "W_h": rng.normal(scale=scale, size=(H, 3 * H)),
            "b_x": rng.normal(scale=0.5, size=3 * H),
            "b_h": rng.normal(scale=0.5, size=3 * H),
        })
    return cases


@register("06-gru-cell", kind="implement", points=len(_GRU_SHAPES),
          summary="one GRU step h_t (torch's form, two bias vectors) against the reference on 5 "
                  "fresh random cells; swapped update roles, Cho et al.'s reset-before, a missing "
                  "reset gate, b_hn outside the reset are named",
          forbidden=("GRU", "GRUCell", "gru_cell", "gru"))
def check_gru_cell(gru_cell):
    """Check ``gru_cell(x_t, h_prev, W_x, W_h, b_x, b_h) -> h_t``."""
    cases = _gru_cases(fresh_rng())
    mistakes = [
        (lambda **k: _gru_cell_variant(**k, swap_update=True),
         "the roles of u and 1 − u are swapped: in equation (6.9) (as in torch) u = 1 keeps the "
         "old state"),
        (lambda **k: _gru_cell_variant(**k, reset_before=True),
         "you reset the state before the product, (r ⊙ h_prev) W_hn, as Cho et al. (2014) do; "
         "equation (6.8), like torch's GRU, resets after it"),
        (lambda **k: _gru_cell_variant(**k, no_reset=True),
         "the reset gate is missing from the candidate (equation 6.8)"),
        (lambda **k: _gru_cell_variant(**k, bias_outside_reset=True),
         "in equation (6.8) the reset gate multiplies the recurrent bias b_hn too: it sits inside "
         "the bracket that r_t scales"),
    ]
    hint = diagnose_outputs(gru_cell, cases[2], reference_gru_cell, mistakes, ["h_t"],
                            "go through equations (6.7)-(6.9) in order; W_x, W_h, b_x and b_h "
                            "each hold the blocks r, u, n, H columns each")
    return run_check("06-gru-cell", "One step of the GRU cell", gru_cell, reference_gru_cell,
                     cases, ["h_t"], hint=hint)


# -- 06-lstm-step-backward --------------------------------------------------------------------

_STEP_OUTPUTS = ["dx_t", "dh_prev", "dc_prev", "dW_x", "dW_h", "db"]
_STEP_BLOCKS = {"dW_x": GATES, "dW_h": GATES, "db": GATES}


def reference_lstm_step_backward(dh_t, dc_t, x_t, h_prev, c_prev, W_x, W_h, b):
    """Gradients of one LSTM step. ``dh_t`` (B, H) is all of ∂L/∂h_t, ``dc_t`` (B, H) what c_t
    receives from step t+1. Returns ``(dx_t, dh_prev, dc_prev, dW_x, dW_h, db)``."""
    params = {"W_x": W_x, "W_h": W_h, "b": b}
    _, _, cache = _lstm_step(x_t, h_prev, c_prev, params)
    dx_t, dh_prev, dc_prev, grads = _lstm_step_backward(dh_t, dc_t, cache, params)
    return dx_t, dh_prev, dc_prev, grads["W_x"], grads["W_h"], grads["b"]


def _lstm_step_backward_variant(dh_t, dc_t, x_t, h_prev, c_prev, W_x, W_h, b,
                                skip_h_to_c=False, keep_dc=False, ignore_dc=False,
                                f_uses_c_t=False, batch_mean=False):
    z = x_t @ W_x + h_prev @ W_h + b
    zi, zf, zg, zo = _split(z, 4)
    i, f, g, o = _sigmoid(zi), _sigmoid(zf), np.tanh(zg), _sigmoid(zo)
    c = f * c_prev + i * g
    tc = np.tanh(c)
    dc = np.zeros_like(dc_t) if ignore_dc else dc_t.copy()
    if not skip_h_to_c:
        dc = dc + dh_t * o * (1 - tc**2)
    dz = np.concatenate([dc * g * i * (1 - i), dc * (c if f_uses_c_t else c_prev) * f * (1 - f),
                         dc * i * (1 - g**2), dh_t * tc * o * (1 - o)], axis=1)
    dc_prev = dc if keep_dc else dc * f
    k = 1.0 / len(x_t) if batch_mean else 1.0
    return (dz @ W_x.T, dz @ W_h.T, dc_prev, k * (x_t.T @ dz), k * (h_prev.T @ dz),
            k * dz.sum(axis=0))


def _step_backward_cases(rng):
    """The cell's cases, each with the gradients dh_t and dc_t arriving from above."""
    cases = _lstm_cell_cases(rng)
    for case in cases:
        shape = case["h_prev"].shape
        case["dh_t"], case["dc_t"] = rng.normal(size=shape), rng.normal(size=shape)
    return cases


_STEP_MISTAKES = [
    (dict(skip_h_to_c=True),
     "what reaches c_t must also include the gradient that comes through h_t (equation 6.6): "
     "c_t is read by h_t as well as by c_{t+1}"),
    (dict(keep_dc=True),
     "dc_prev: c_{t-1} reaches c_t multiplied by the forget gate (equation 6.5), so its gradient "
     "is multiplied by it too"),
    (dict(ignore_dc=True),
     "dc_t (the gradient arriving at c_t from the next step) is ignored; add it to what c_t "
     "receives through h_t"),
    (dict(f_uses_c_t=True),
     "the forget gate multiplies c_{t-1}, not c_t (equation 6.5): its block of δz uses the old "
     "cell"),
    (dict(batch_mean=True),
     "the parameter gradients are divided by the batch size: whatever averaging the loss does "
     "is already in dh_t and dc_t, so the weights' gradients sum the examples' contributions"),
]


@register("06-lstm-step-backward", kind="implement",
          points=len(_STEP_OUTPUTS) * len(_CELL_SHAPES),
          summary="the six gradients of one LSTM step against the reference on 5 fresh random "
                  "cells, the gate block of a wrong parameter gradient named; a missing path "
                  "through h_t or from c_{t+1}, no forget gate on dc_prev, c_t for c_{t-1}, a "
                  "batch mean are named; autograd is refused",
          forbidden=AUTOGRAD)
def check_lstm_step_backward(lstm_step_backward):
    """Check ``lstm_step_backward(dh_t, dc_t, x_t, h_prev, c_prev, W_x, W_h, b)
    -> (dx_t, dh_prev, dc_prev, dW_x, dW_h, db)``."""
    cases = _step_backward_cases(fresh_rng())
    mistakes = [((lambda flags: lambda **k: _lstm_step_backward_variant(**k, **flags))(flags),
                 message) for flags, message in _STEP_MISTAKES]
    hint = diagnose_outputs(lstm_step_backward, cases[2], reference_lstm_step_backward,
                            mistakes, _STEP_OUTPUTS,
                            "differentiate equations (6.6), (6.5), (6.4) and (6.3) in this "
                            "order: first everything that reaches c_t, then the four blocks of "
                            "a_t, then the inputs and weights of (6.3). The messages above name "
                            "the gate block that is wrong")
    return run_check("06-lstm-step-backward", "One step of LSTM backpropagation",
                     lstm_step_backward, reference_lstm_step_backward, cases, _STEP_OUTPUTS,
                     hint=hint, blocks=_STEP_BLOCKS)


# -- 06-lstm-backward -------------------------------------------------------------------------

_SEQ_OUTPUTS = ["dx", "dh0", "dc0", "grads"]
_SEQ_BLOCKS = {f"grads[{name!r}]": GATES for name in ("W_x", "W_h", "b")}

#: (B, T, D, H, kind) of the cases: generic; T = 1 and B = 1; a loss at the last step only (a
#: sequence-to-one task); large values from a zero initial state; an open carousel (forget bias 3).
_SEQ_SHAPES = [(3, 5, 3, 4, "plain"), (1, 1, 2, 3, "plain"), (2, 8, 3, 5, "last step only"),
               (4, 4, 2, 3, "large, zero state"), (2, 12, 4, 3, "open carousel")]


def reference_lstm_backward(dh, x, h0, c0, W_x, W_h, b):
    """Backpropagation through time of the LSTM: ``dh`` (B, T, H) is ∂L/∂h_t from the outputs.
    Returns ``(dx, dh0, dc0, grads)`` with ``grads`` a dict ``W_x``, ``W_h``, ``b``."""
    _, _, cache = _lstm_forward(x, (h0, c0), {"W_x": W_x, "W_h": W_h, "b": b})
    grads, dx, (dh0, dc0) = _lstm_backward(dh, cache)
    return dx, dh0, dc0, grads


def _lstm_backward_variant(dh, x, h0, c0, W_x, W_h, b, carry_dh=True, carry_dc=True,
                           dc_forget=True, h_to_c=True, W_h_reads="h_prev", f_reads="c_prev",
                           accumulate=True, batch_mean=False):
    """An independent backward pass over the sequence; the flags make the typical mistakes."""
    B, T, _ = x.shape
    H = h0.shape[1]
    h, c, steps = h0, c0, []
    for t in range(T):
        z = x[:, t] @ W_x + h @ W_h + b
        i, f, o = _sigmoid(z[:, :H]), _sigmoid(z[:, H:2 * H]), _sigmoid(z[:, 3 * H:])
        g = np.tanh(z[:, 2 * H:3 * H])
        c_new = f * c + i * g
        h_new = o * np.tanh(c_new)
        steps.append((h, c, i, f, g, o, c_new, h_new))
        h, c = h_new, c_new
    dx = np.zeros_like(x)
    grads = {"W_x": np.zeros_like(W_x), "W_h": np.zeros_like(W_h), "b": np.zeros_like(b)}
    dh_next, dc_next = np.zeros((B, H)), np.zeros((B, H))
    for t in reversed(range(T)):
        h_prev, c_prev, i, f, g, o, c_t, h_t = steps[t]
        dh_t = dh[:, t] + (dh_next if carry_dh else 0.0)
        tanh_c = np.tanh(c_t)
        dc = (dc_next if carry_dc else 0.0) + (dh_t * o * (1 - tanh_c**2) if h_to_c else 0.0)
        dz = np.concatenate([dc * g * i * (1 - i),
                             dc * (c_prev if f_reads == "c_prev" else c_t) * f * (1 - f),
                             dc * i * (1 - g**2), dh_t * tanh_c * o * (1 - o)], axis=1)
        dx[:, t] = dz @ W_x.T
        dh_next, dc_next = dz @ W_h.T, (dc * f if dc_forget else dc)
        step = {"W_x": x[:, t].T @ dz,
                "W_h": (h_prev if W_h_reads == "h_prev" else h_t).T @ dz,
                "b": dz.sum(axis=0)}
        for name in grads:
            grads[name] = grads[name] + step[name] if accumulate else step[name]
    if batch_mean:
        grads = {name: value / B for name, value in grads.items()}
    return dx, dh_next, dc_next, grads


def _lstm_backward_cases(rng):
    cases = []
    for B, T, D, H, kind in _SEQ_SHAPES:
        large = kind.startswith("large")
        scale = 1.5 if large else 0.5
        b = rng.normal(scale=0.3, size=4 * H)
        if kind == "open carousel":
            b[H:2 * H] += 3.0
        case = {
            "dh": rng.normal(size=(B, T, H)),
            "x": rng.normal(size=(B, T, D)) * (3.0 if large else 1.0),
            "h0": rng.uniform(-1, 1, size=(B, H)),
            "c0": rng.normal(size=(B, H)),
            "W_x": rng.normal(scale=scale, size=(D, 4 * H)),
            "W_h": rng.normal(scale=scale, size=(H, 4 * H)),
            "b": b,
        }
        if kind == "last step only":
            case["dh"][:, :-1] = 0.0
        if large:
            case["h0"], case["c0"] = np.zeros((B, H)), np.zeros((B, H))
        cases.append(case)
    return cases


_SEQ_MISTAKES = [
    (dict(carry_dh=False),
     "h_{t-1} is read by step t as well as by the output at t-1: the gradient step t sends back "
     "to h_{t-1} must be added to dh[:, t-1] before step t-1 is differentiated"),
    (dict(carry_dc=False),
     "the gradient that step t sends back to c_{t-1} is dropped: it is what c_{t-1} receives "
     "from step t, and it must enter step t-1's δc (the carousel's path, equation 6.2)"),
    (dict(dc_forget=False),
     "the gradient passed from c_t to c_{t-1} is multiplied by the forget gate (equations 6.2 "
     "and 6.5)"),
    (dict(h_to_c=False),
     "what reaches c_t must also include the gradient that comes through h_t (equation 6.6)"),
    (dict(W_h_reads="h_t"),
     "grads['W_h'] multiplies h_t where h_{t-1} belongs: in equation (6.3) W_h reads the previous "
     "state"),
    (dict(f_reads="c_t"),
     "the forget gate multiplies c_{t-1}, not c_t (equation 6.5): its block of δz uses the old "
     "cell"),
    (dict(accumulate=False),
     "the parameter gradients hold one step's contribution only: the same W_x, W_h and b are "
     "used at every step, so their gradients sum over the steps"),
    (dict(batch_mean=True),
     "the parameter gradients are divided by the batch size: whatever averaging the loss does "
     "is already in dh, so the weights' gradients sum the examples' contributions"),
]


@register("06-lstm-backward", kind="implement", points=6 * len(_SEQ_SHAPES),
          summary="backpropagation through a whole LSTM sequence (dx, dh0, dc0 and the gradients "
                  "of W_x, W_h, b) against the finite-difference-checked reference on 5 fresh "
                  "random nets and sequences (T = 1 and B = 1, a loss at the last step only, "
                  "large values from a zero state, an open carousel), the gate block of a wrong "
                  "parameter gradient named; dropped paths through time, h_t for h_{t-1}, "
                  "unsummed steps, a batch mean are named; autograd is refused",
          forbidden=AUTOGRAD)
def check_lstm_backward(lstm_backward):
    """Check ``lstm_backward(dh, x, h0, c0, W_x, W_h, b) -> (dx, dh0, dc0, grads)``."""
    cases = _lstm_backward_cases(fresh_rng())
    mistakes = [((lambda flags: lambda **k: _lstm_backward_variant(**k, **flags))(flags),
                 message) for flags, message in _SEQ_MISTAKES]
    hint = diagnose_outputs(lstm_backward, cases[0], reference_lstm_backward, mistakes,
                            _SEQ_OUTPUTS,
                            "run the forward pass and keep every step's gates and states, then "
                            "go back from t = T - 1 to 0, giving each step all the gradient its "
                            "h_t and c_t receive: from the output dh[:, t] and from step t+1. "
                            "If case 2 (T = 1) passes and the longer ones do not, look at what "
                            "travels between steps")
    return run_check("06-lstm-backward", "Backpropagation through an LSTM sequence",
                     lstm_backward, reference_lstm_backward, cases, _SEQ_OUTPUTS, hint=hint,
                     blocks=_SEQ_BLOCKS)


# -- 06-lstm-gru-concepts ---------------------------------------------------------------------

#: The sizes of the counting questions.
COUNT_D, COUNT_H = 10, 20


def _count(blocks, biases, D=COUNT_D, H=COUNT_H, recurrent=True):
    return blocks * H * (D + (H if recurrent else 0) + biases)


_CONCEPT_QUESTIONS = [
    {"key": "lstm_params", "answer": _count(4, 1),
     "explain": {_count(4, 0): "the bias b (one per block) is missing from your count",
                 _count(1, 1): "that is one block; a_t has four (equation 6.3)",
                 _count(1, 0): "that is one block without its bias; a_t has four blocks, each "
                               "with weights and a bias (equation 6.3)",
                 _count(3, 1): "that is three blocks: the candidate g has weights too, and a_t "
                               "has four blocks (equation 6.3)",
                 _count(4, 2): "that is nn.LSTM's count, which stores two bias vectors; the "
                               "chapter's LSTM has one b",
                 _count(4, 1, recurrent=False): "the recurrent weights W_h are missing"},
     "hint": "count the entries of W_x, W_h and b in equation (6.3)"},
    {"key": "gru_params", "answer": _count(3, 2),
     "explain": {_count(3, 1): "the chapter's GRU (like nn.GRU) has two bias vectors, b_x and b_h "
                               "(equations 6.7-6.8); they cannot be merged, because the reset "
                               "gate multiplies b_hn but not b_xn",
                 _count(3, 0): "the biases b_x and b_h are missing from your count",
                 _count(1, 2): "that is one block; the GRU has three (r, u, n)",
                 _count(4, 1): "that is the LSTM's count; the GRU has three blocks",
                 _count(4, 2): "four blocks: the GRU has three (r, u, n)",
                 _count(2, 2): "two blocks: the candidate h̃ has its own weights too (block n)",
                 _count(3, 2, recurrent=False): "the recurrent weights W_h are missing"},
     "hint": "count the entries of W_x, W_h, b_x and b_h in equations (6.7)-(6.8)"},
    {"key": "nn_lstm_params", "answer": _count(4, 2),
     "explain": {_count(4, 1): "that is the chapter's LSTM; nn.LSTM stores two bias vectors, "
                               "bias_ih and bias_hh, whose sum is our b",
                 _count(4, 0): "nn.LSTM has biases (bias=True by default), two vectors of them"},
     "hint": "which tensors does nn.LSTM(10, 20) store? The section on the PyTorch versions "
             "says how they map onto W_x, W_h and b"},
    {"key": "gru_as_rnn", "answer": (0.0, 1.0),
     "explain": {(1.0, 1.0): "u = 1 keeps h_{t-1} and ignores the candidate (equation 6.9): "
                             "that is the copy, not the RNN",
                 (1.0, 0.0): "u = 1 keeps h_{t-1} and ignores the candidate (equation 6.9): "
                             "that is the copy, not the RNN",
                 (0.0, 0.0): "r = 0 cuts h_{t-1} out of the candidate (equation 6.8): h_t then "
                             "depends on x_t alone, a layer without memory",
                 (0.5, 1.0): "u = 0.5 averages the candidate and the old state; the Elman RNN "
                             "keeps nothing of h_{t-1} but what passes through W_hn"},
     "hint": "answer (u, r). Which u leaves only the candidate in equation (6.9)? Which r makes "
             "the candidate of equation (6.8) chapter 3's tanh(x W + h W + b)?"},
    {"key": "gru_copy", "answer": 1.0,
     "explain": {0.0: "with u = 0 equation (6.9) keeps only the candidate h̃_t: the state is "
                      "replaced, not copied"},
     "hint": "which value of u in equation (6.9) gives h_t = h_{t-1}, whatever h̃_t is?"},
    {"key": "lstm_copy", "answer": (0.0, 1.0),
     "explain": {(1.0, 1.0): "f = 1 keeps the old cell, but i = 1 still adds the candidate: "
                             "that is the integrator of equation (6.1), not a copy",
                 (1.0, 0.0): "the order is (i, f): this answer opens the input gate and closes "
                             "the forget gate, which writes g_t over the memory",
                 (0.0, 0.0): "f = 0 forgets the old cell: c_t = 0"},
     "hint": "answer (i, f). In equation (6.5), which gate scales the old cell and which the "
             "new candidate?"},
]


@register("06-lstm-gru-concepts", kind="concept", points=len(_CONCEPT_QUESTIONS),
          summary="parameter counts of the chapter's LSTM and GRU and of nn.LSTM for D = 10, "
                  "H = 20 (missing biases, one block, nn.LSTM's two biases explained); the gate "
                  "values (u, r) that make a GRU an Elman RNN, the u that copies its state, the "
                  "(i, f) that make an LSTM cell keep its memory unchanged")
def check_lstm_gru_concepts(answers):
    """Check ``answers() -> dict`` of the six answers (see ``_CONCEPT_QUESTIONS``)."""
    return check_concept("06-lstm-gru-concepts", "Counting parameters, setting gates", answers,
                         _CONCEPT_QUESTIONS)


# -- 06-forget-bias ---------------------------------------------------------------------------

#: The experiment's set-up: the chapter's delayed-recall task (``n_symbols`` symbols, lag
#: ``lag``) and its LSTM (``hidden_size`` units, nn.LSTM with the input-gate bias
#: ``input_bias``), trained by the package's ``train_sequence_classifier`` for at most ``steps``
#: Adam steps of ``batch_size`` sequences; a seed passes when training reaches
#: ``target_accuracy`` (mean over 10 steps) within the budget.
RECALL = {"lag": 60, "n_symbols": 4, "hidden_size": 16, "input_bias": -2.0, "steps": 400,
          "batch_size": 32, "lr": 0.01, "target_accuracy": 0.95, "n_test": 500,
          "seeds": (0, 1)}


def _as_bias(choice):
    if isinstance(choice, bool) or not isinstance(choice, (int, float, np.integer, np.floating)):
        raise TypeError(f"expected a number (the forget gate's bias), got {choice!r}")
    if not math.isfinite(float(choice)) or abs(float(choice)) > 50:
        raise ValueError(f"expected a finite bias between -50 and 50, got {choice!r}")
    return float(choice)


def recall_with_forget_bias(forget_bias, seed=0):
    """Train the experiment's LSTM (``RECALL``) with ``forget_bias`` added to its forget gate's
    bias, from ``seed``. Returns ``(solved_at, accuracy)``: the step at which training reached
    the target accuracy (``None`` if not within the budget) and the accuracy on fresh test
    sequences. Takes one to a few seconds; try choices with it."""
    import torch
    from torch import nn

    from ..data.tasks import delayed_recall
    from ..torch.train import evaluate, train_sequence_classifier

    bias = _as_bias(forget_bias)
    S, H, lag = RECALL["n_symbols"], RECALL["hidden_size"], RECALL["lag"]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        model, head = nn.LSTM(S + 1, H, batch_first=True), nn.Linear(H, S)
        with torch.no_grad():  # the bias's gate blocks are i, f, g, o
            model.bias_ih_l0[:H] += RECALL["input_bias"]
            model.bias_ih_l0[H:2 * H] += bias
        rng = np.random.default_rng(1000 + seed)

        def batch(step):
            x, y = delayed_recall(RECALL["batch_size"], lag, S, rng)
            return torch.tensor(x, dtype=torch.float32), torch.tensor(y)

        run = train_sequence_classifier(model, head, batch, steps=RECALL["steps"],
                                        lr=RECALL["lr"], clip=1.0,
                                        target_accuracy=RECALL["target_accuracy"])
        x, y = delayed_recall(RECALL["n_test"], lag, S, 5000 + seed)
        accuracy = evaluate(model, head, torch.tensor(x, dtype=torch.float32), torch.tensor(y))
    finally:
        torch.random.set_rng_state(state)
        torch.set_num_threads(threads)
    return run["solved_at"], accuracy


def _measure_forget_bias(choice):
    bias = _as_bias(choice)
    lag = RECALL["lag"]
    kept = (1.0 / (1.0 + math.exp(-bias))) ** lag
    lines = [f"forget bias {bias:+g}: at the start f ≈ σ({bias:g}) = "
             f"{1.0 / (1.0 + math.exp(-bias)):.4f}, and the cell's direct path keeps "
             f"f^{lag} ≈ {kept:.2g} of the gradient over the lag (equation 6.2)"]
    score = 0
    for seed in RECALL["seeds"]:
        solved_at, accuracy = recall_with_forget_bias(bias, seed)
        score += solved_at is not None
        lines.append(f"seed {seed}: " + (f"solved lag {lag} in {solved_at} steps"
                                         if solved_at is not None else
                                         f"not solved in {RECALL['steps']} steps")
                     + f", test accuracy {accuracy:.0%} (chance {1 / RECALL['n_symbols']:.0%})")
    if score < len(RECALL["seeds"]):
        lines.append(f"hint: how much of the gradient must survive {lag} steps for the network "
                     "to learn what to store at step 0? Try choices with "
                     "recall_with_forget_bias(bias, seed) before you submit one.")
    return score, lines


@register("06-forget-bias", kind="experiment", points=len(RECALL["seeds"]),
          summary="trains the chapter's 16-unit LSTM (input-gate bias -2) on delayed recall at lag "
                  "60 with the chosen forget-gate bias, 400 Adam steps at most, for 2 seeds; a "
                  "point per seed that reaches 95% training accuracy")
def check_forget_bias(choose_forget_bias):
    """Check ``choose_forget_bias() -> float``."""
    return check_experiment("06-forget-bias", "A forget bias for a long lag", choose_forget_bias,
                            _measure_forget_bias, max_score=len(RECALL["seeds"]))


# -- 06-lstm-block-step (chapter 6b) ----------------------------------------------------------

def _full_layout(W_x, W_h, b, block_size):
    """The blocked weights expanded to the full [i | f | g | o] layout (each gate repeated)."""
    columns = _lstm_block_columns(W_h.shape[0], block_size)
    return {"W_x": W_x[:, columns], "W_h": W_h[:, columns], "b": b[columns]}


def _fold(full, block_size):
    """Gradients of the full layout summed back onto the blocked columns."""
    H = full.shape[-1] // 4
    columns = _lstm_block_columns(H, block_size)
    folded = np.zeros(full.shape[:-1] + (3 * (H // block_size) + H,))
    np.add.at(folded, (..., columns), full)
    return folded


def reference_lstm_block_step(x_t, h_prev, c_prev, W_x, W_h, b, block_size):
    """One step of an LSTM of memory blocks (blocks [i (K) | f (K) | g (H) | o (K)], K = H / S):
    returns ``(h_t, c_t)``, each (B, H)."""
    h_t, c_t, _ = _lstm_step(x_t, h_prev, c_prev, _full_layout(W_x, W_h, b, block_size))
    return h_t, c_t


def _block_step_variant(x_t, h_prev, c_prev, W_x, W_h, b, block_size, spread="repeat",
                        order="ifgo"):
    H, S = h_prev.shape[1], block_size
    K = H // S
    a = x_t @ W_x + h_prev @ W_h + b
    sizes = {"i": K, "f": K, "g": H, "o": K}
    blocks, start = {}, 0
    for name in order:
        blocks[name] = a[:, start:start + sizes[name]]
        start += sizes[name]
    if spread == "repeat":
        spread_fn = lambda v: np.repeat(v, S, axis=1)          # cell c reads gate c // S
    else:
        spread_fn = lambda v: np.tile(v, (1, S))               # cell c reads gate c % K
    i, f, o = (spread_fn(_sigmoid(blocks[name])) for name in ("i", "f", "o"))
    c_t = f * c_prev + i * np.tanh(blocks["g"])
    return o * np.tanh(c_t), c_t


#: (B, D, H, block size) of the cases: blocks of 2, 3 and of all cells, a batch of one, and the
#: plain LSTM (blocks of one cell).
_BLOCK_SHAPES = [(1, 3, 4, 2), (4, 2, 6, 3), (3, 5, 6, 1), (2, 4, 4, 4), (5, 3, 8, 2)]


def _block_cases(rng):
    cases = []
    for B, D, H, S in _BLOCK_SHAPES:
        width = 3 * (H // S) + H
        cases.append({"x_t": rng.normal(size=(B, D)), "h_prev": rng.uniform(-1, 1, size=(B, H)),
                      "c_prev": rng.normal(size=(B, H)),
                      "W_x": rng.normal(scale=0.7, size=(D, width)),
                      "W_h": rng.normal(scale=0.7, size=(H, width)),
                      "b": rng.normal(scale=0.5, size=width), "block_size": S})
    return cases


@register("06-lstm-block-step", kind="implement", points=2 * len(_BLOCK_SHAPES),
          summary="one step (h_t, c_t) of an LSTM of memory blocks (gates shared by block_size "
                  "cells) against the reference on 5 fresh random cells (blocks of 1, 2, 3 and "
                  "all cells); gates spread to the wrong cells (tile for repeat) and the candidate "
                  "before the output gate are named",
          forbidden=("LSTM", "LSTMCell", "lstm"))
def check_lstm_block_step(lstm_block_step):
    """Check ``lstm_block_step(x_t, h_prev, c_prev, W_x, W_h, b, block_size) -> (h_t, c_t)``."""
    cases = _block_cases(fresh_rng())
    mistakes = [
        (lambda **k: _block_step_variant(**k, spread="tile"),
         "each gate reaches the wrong cells: the cells of a block sit next to each other, so "
         "cell j reads gate j // block_size (np.repeat), not gate j % K (np.tile)"),
        (lambda **k: _block_step_variant(**k, order="ifog"),
         "the blocks of a_t are i (K), f (K), g (H), o (K): the candidate comes before the "
         "output gate, as in equation (6.3)"),
    ]
    hint = diagnose_outputs(lstm_block_step, cases[4], reference_lstm_block_step, mistakes,
                            ["h_t", "c_t"],
                            "split a_t into K + K + H + K columns, apply each block's "
                            "nonlinearity, then give every cell of a block its block's gates "
                            "before equations (6.5) and (6.6)")
    return run_check("06-lstm-block-step", "One step of an LSTM with memory blocks",
                     lstm_block_step, reference_lstm_block_step, cases, ["h_t", "c_t"],
                     hint=hint)


# -- 06-lstm-block-backward (chapter 6b) ------------------------------------------------------

def reference_lstm_block_step_backward(dh_t, dc_t, x_t, h_prev, c_prev, W_x, W_h, b, block_size):
    """The gradients of one step of an LSTM of memory blocks: ``(dx_t, dh_prev, dc_prev, dW_x,
    dW_h, db)``, the weights' in the blocked layout."""
    params = _full_layout(W_x, W_h, b, block_size)
    _, _, cache = _lstm_step(x_t, h_prev, c_prev, params)
    dx_t, dh_prev, dc_prev, grads = _lstm_step_backward(dh_t, dc_t, cache, params)
    return (dx_t, dh_prev, dc_prev, _fold(grads["W_x"], block_size),
            _fold(grads["W_h"], block_size), _fold(grads["b"], block_size))


def _block_backward_variant(dh_t, dc_t, x_t, h_prev, c_prev, W_x, W_h, b, block_size,
                            combine="sum"):
    H, S = h_prev.shape[1], block_size
    K = H // S
    spread = lambda v: np.repeat(v, S, axis=1)
    a = x_t @ W_x + h_prev @ W_h + b
    i, f = spread(_sigmoid(a[:, :K])), spread(_sigmoid(a[:, K:2 * K]))
    g, o = np.tanh(a[:, 2 * K:2 * K + H]), spread(_sigmoid(a[:, 2 * K + H:]))
    tanh_c = np.tanh(f * c_prev + i * g)
    dc = dc_t + dh_t * o * (1 - tanh_c**2)
    per_cell = [dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dh_t * tanh_c * o * (1 - o)]
    B = len(x_t)
    if combine == "sum":
        shared = [d.reshape(B, K, S).sum(axis=2) for d in per_cell]
    elif combine == "mean":
        shared = [d.reshape(B, K, S).mean(axis=2) for d in per_cell]
    else:                                                   # the first cell of each block only
        shared = [d[:, ::S] for d in per_cell]
    da = np.concatenate([shared[0], shared[1], dc * i * (1 - g**2), shared[2]], axis=1)
    return da @ W_x.T, da @ W_h.T, dc * f, x_t.T @ da, h_prev.T @ da, da.sum(axis=0)


_BLOCK_OUTPUTS = ["dx_t", "dh_prev", "dc_prev", "dW_x", "dW_h", "db"]


def _block_backward_cases(rng):
    cases = _block_cases(rng)
    for case in cases:
        shape = case["h_prev"].shape
        case["dh_t"], case["dc_t"] = rng.normal(size=shape), rng.normal(size=shape)
    return cases


@register("06-lstm-block-backward", kind="implement",
          points=len(_BLOCK_OUTPUTS) * len(_BLOCK_SHAPES),
          summary="the six gradients of one step of an LSTM of memory blocks against the "
                  "reference on 5 fresh random cells; a shared gate's error taken from one cell "
                  "or averaged over its cells instead of summed is named; autograd is refused",
          forbidden=AUTOGRAD)
def check_lstm_block_step_backward(lstm_block_step_backward):
    """Check ``lstm_block_step_backward(dh_t, dc_t, x_t, h_prev, c_prev, W_x, W_h, b, block_size)
    -> (dx_t, dh_prev, dc_prev, dW_x, dW_h, db)``."""
    cases = _block_backward_cases(fresh_rng())
    mistakes = [
        (lambda **k: _block_backward_variant(**k, combine="first"),
         "a shared gate's error signal is taken from the first cell of its block only: the gate "
         "acts on every cell of the block, so its δa is the sum over those cells"),
        (lambda **k: _block_backward_variant(**k, combine="mean"),
         "a shared gate's error signal is averaged over the cells of its block: the gate acts on "
         "every cell, and the chain rule adds the paths, so its δa is their sum"),
    ]
    hint = diagnose_outputs(lstm_block_step_backward, cases[4],
                            reference_lstm_block_step_backward, mistakes, _BLOCK_OUTPUTS,
                            "first compute, cell by cell, what each gate value would receive "
                            "in chapter 6's step backward; then decide how a gate that several "
                            "cells read collects it")
    return run_check("06-lstm-block-backward", "One step of LSTM backpropagation with memory "
                     "blocks", lstm_block_step_backward, reference_lstm_block_step_backward,
                     cases, _BLOCK_OUTPUTS, hint=hint)


# -- 06-peephole-clock (chapter 6b) -----------------------------------------------------------

#: The clock exercise: a one-cell peephole LSTM run from h_0 = c_0 = 0 on ``steps`` steps of zero
#: input must give h_t > ``threshold`` exactly at the steps t = period, 2·period, ... (t from 1).
CLOCK = {"period": 8, "steps": 40, "threshold": 0.5}

_CLOCK_SHAPES = {"W_x": (1, 4), "W_h": (1, 4), "b": (4,), "p_i": (1,), "p_f": (1,),
                 "p_o": (1,)}


def _clock_params(choice):
    if not isinstance(choice, dict):
        raise TypeError(f"expected a dict of the cell's parameters {sorted(_CLOCK_SHAPES)}, got "
                        f"{type(choice).__name__}")
    missing = sorted(set(_CLOCK_SHAPES) - set(choice))
    if missing:
        raise ValueError(f"the parameter dict misses {missing}")
    params = {}
    for name, shape in _CLOCK_SHAPES.items():
        value = np.asarray(choice[name], dtype=float)
        if value.shape != shape:
            raise ValueError(f"{name}: expected shape {shape}, got {value.shape}")
        if not np.all(np.isfinite(value)):
            raise ValueError(f"{name}: expected finite numbers")
        params[name] = value
    return params


def run_clock(params, steps=None):
    """Run a one-cell peephole LSTM (``params`` as the clock exercise asks) from h_0 = c_0 = 0 on
    ``steps`` steps of zero input (``CLOCK['steps']`` by default). Returns ``(h, c)``, each
    (steps,): h_t and c_t for t = 1 .. steps."""
    steps = CLOCK["steps"] if steps is None else int(steps)
    h, c, _ = _lstm_forward(np.zeros((1, steps, 1)), None, _clock_params(params))
    return h[0, :, 0], c[0, :, 0]


def _measure_clock(choice):
    period, steps, threshold = CLOCK["period"], CLOCK["steps"], CLOCK["threshold"]
    h, c = run_clock(_clock_params(choice))
    spikes = [int(t) + 1 for t in np.flatnonzero(h > threshold)]
    wanted = list(range(period, steps + 1, period))
    lines = [f"h_t > {threshold} at the steps {spikes if spikes else 'none'}; wanted exactly "
             f"{wanted}"]
    score = 0
    for k, tick in enumerate(wanted):
        window = h[tick - period:tick] > threshold
        if window[-1] and not window[:-1].any():
            score += 1
        else:
            lines.append(f"steps {tick - period + 1}-{tick}: " + (
                "no spike at the last step" if not window[-1] else
                f"a spike too early, at step {tick - period + 1 + int(np.argmax(window))}"))
    if score < len(wanted):
        lines.append(f"the cell reached c_t = {c.max():.3g} at most; hint: let the cell count "
                     "with constant gates, and use the peepholes to let the output gate open, "
                     "and the forget gate empty the cell, when the count is complete")
    return score, lines


@register("06-peephole-clock", kind="experiment", points=CLOCK["steps"] // CLOCK["period"],
          summary="runs the chosen one-cell peephole LSTM for 40 steps of zero input from a zero "
                  "state; a point per period of 8 steps whose only output spike (h_t > 0.5) "
                  "falls on its last step")
def check_peephole_clock(clock_parameters):
    """Check ``clock_parameters() -> dict`` of a one-cell peephole LSTM."""
    return check_experiment("06-peephole-clock", "A clock made of one peephole cell",
                            clock_parameters, _measure_clock,
                            max_score=CLOCK["steps"] // CLOCK["period"])


# -- 06-tricks-concepts (chapter 6b) ----------------------------------------------------------

#: The sizes of the block-counting question: D inputs, H cells in blocks of S.
BLOCK_D, BLOCK_H, BLOCK_S = 10, 20, 4


def _block_count(gate_width, D=BLOCK_D, H=BLOCK_H):
    return gate_width * (D + H + 1)


_K = BLOCK_H // BLOCK_S
_TRICKS_QUESTIONS = [
    {"key": "block_params", "answer": _block_count(3 * _K + BLOCK_H),
     "explain": {_block_count(4 * BLOCK_H): "that is the LSTM without blocks; with blocks of "
                                            f"{BLOCK_S} cells each gate has one unit per block",
                 _block_count(4 * _K): "the candidate g is not shared: every cell has its own "
                                       "(H columns), only the gates have K",
                 _block_count(3 * _K + BLOCK_H) - (3 * _K + BLOCK_H):
                     "the biases are missing (one per column of W_x)"},
     "hint": "how many columns do W_x, W_h and b have for K = H / S blocks? Each column has "
             "D + H + 1 numbers"},
    {"key": "gru_kept", "answer": 0.8 ** 10, "tolerance": 0.02,
     "explain": {0.2 ** 10: "0.2 is what the unit writes each step; what it keeps is u = 0.8",
                 1.0: "that would be an LSTM cell with f = 1; the GRU keeps only u = 1 − 0.2 "
                      "of its state at each step (equation 6.9)",
                 0.8: "that is one step; the unit writes for ten"},
     "hint": "equation (6.9): along its own path the state is multiplied by u_t at every step"},
    {"key": "lstm_kept", "answer": 1.0,
     "explain": {0.8 ** 10: "that is the GRU's answer: the LSTM's forget gate is independent of "
                            "its input gate (equation 6.5)",
                 0.0: "with f = 1 nothing is forgotten (equation 6.5)"},
     "hint": "equation (6.5): which gate multiplies the old cell?"},
    {"key": "forget_bias_100", "answer": 5,
     "explain": {1: "σ(1)¹⁰⁰ is about 10⁻¹⁴: Jozefowicz et al.'s bias is not enough for 100 steps",
                 4: "σ(4)¹⁰⁰ is about 0.16, less than half",
                 6: "σ(6)¹⁰⁰ is enough, but a smaller whole number is too"},
     "hint": "at the start of training f ≈ σ(b); the cell path keeps σ(b)^100 of the gradient "
             "(equation 6.2). Try whole numbers"},
    {"key": "blind_gates", "answer": 0.0,
     "explain": {1.0: "without peepholes the gates read c_{t-1} only through "
                      "h_{t-1} = o_{t-1} ⊙ tanh(c_{t-1}) (equation 6.6)"},
     "hint": "without peepholes, what do the gates at step t read of the cell, and what is it "
             "when the output gate was closed?"},
]


@register("06-tricks-concepts", kind="concept", points=len(_TRICKS_QUESTIONS),
          summary="the parameters of an LSTM of memory blocks (D = 10, H = 20, blocks of 4); "
                  "what a GRU unit and an LSTM cell keep while they write; the smallest whole "
                  "forget bias that keeps half the gradient over 100 steps; what gates without "
                  "peepholes see of a cell behind a closed output gate")
def check_tricks_concepts(answers):
    """Check ``answers() -> dict`` of the five answers (see ``_TRICKS_QUESTIONS``)."""
    return check_concept("06-tricks-concepts", "Blocks, forgetting and peepholes", answers,
                         _TRICKS_QUESTIONS)


__all__ = ["AUTOGRAD", "BLOCK_D", "BLOCK_H", "BLOCK_S", "CLOCK", "COUNT_D", "COUNT_H", "GATES",
           "RECALL", "check_forget_bias", "check_gru_cell", "check_lstm_backward",
           "check_lstm_block_step", "check_lstm_block_step_backward", "check_lstm_cell",
           "check_lstm_gru_concepts", "check_lstm_step_backward", "check_peephole_clock",
           "check_tricks_concepts", "diagnose_outputs", "recall_with_forget_bias",
           "reference_gru_cell", "reference_lstm_backward", "reference_lstm_block_step",
           "reference_lstm_block_step_backward", "reference_lstm_cell",
           "reference_lstm_step_backward", "run_clock"]
