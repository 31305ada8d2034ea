"""Checks for the exercises of chapter 3, *Recurrent neural networks*.

Each check runs the student's function and the reference on fresh random inputs of several
shapes. When an answer is wrong, the check also compares it with the answers that typical
mistakes would give (a transposed matrix, a missing bias, an off-by-one state, softmax over the
wrong axis, ...) and names the mistake it recognises.
"""

import numpy as np

from ..numpy.rnn import rnn_forward as _rnn_forward
from ..numpy.softmax import softmax as _softmax
from .core import diagnose_mistake, fresh_rng, register, run_check


# -- 03-rnn-step ------------------------------------------------------------------------------

def reference_rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
    """h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h): x_t (B, D), h_prev (B, H) -> (B, H)."""
    return np.tanh(x_t @ W_xh + h_prev @ W_hh + b_h)


def _step_cases(rng):
    cases = []
    for B, D, H in [(1, 3, 4), (5, 2, 3), (8, 6, 6), (3, 10, 7)]:
        cases.append({
            "x_t": rng.normal(size=(B, D)),
            "h_prev": rng.uniform(-1, 1, size=(B, H)),
            "W_xh": rng.normal(scale=0.5, size=(D, H)),
            "W_hh": rng.normal(scale=0.5, size=(H, H)),
            "b_h": rng.normal(scale=0.5, size=H),
        })
    return cases


@register("03-rnn-step")
def check_rnn_step(rnn_step):
    """Check ``rnn_step(x_t, h_prev, W_xh, W_hh, b_h) -> h_t`` against the reference."""
    cases = _step_cases(fresh_rng())
    mistakes = [
        (lambda x_t, h_prev, W_xh, W_hh, b_h: np.tanh(x_t @ W_xh + h_prev @ W_hh.T + b_h),
         "you used W_hh transposed: in the row-vector convention the recurrent term is "
         "h_prev @ W_hh (W_hh[i, j] connects unit i at t-1 to unit j at t)"),
        (lambda x_t, h_prev, W_xh, W_hh, b_h: x_t @ W_xh + h_prev @ W_hh + b_h,
         "the pre-activation is right but the tanh is missing: h_t = tanh(a_t)"),
        (lambda x_t, h_prev, W_xh, W_hh, b_h: np.tanh(x_t @ W_xh + h_prev @ W_hh),
         "the bias b_h is missing from the pre-activation"),
        (lambda x_t, h_prev, W_xh, W_hh, b_h: np.tanh(x_t @ W_xh + b_h),
         "h_prev is ignored: the previous state must enter through h_prev @ W_hh"),
    ]
    hint = diagnose_mistake(rnn_step, cases[2], mistakes,
                     "compute a_t = x_t @ W_xh + h_prev @ W_hh + b_h, then h_t = np.tanh(a_t)")
    return run_check("03-rnn-step", "One step of the Elman RNN", rnn_step, reference_rnn_step,
                     cases, ["h_t"], hint=hint)


# -- 03-rnn-forward ---------------------------------------------------------------------------

def reference_rnn_forward(x, h0, W_xh, W_hh, b_h):
    """The states h_1 .. h_T (B, T, H) of the Elman RNN run over x (B, T, D) from h0 (B, H)."""
    h, _ = _rnn_forward(x, h0, {"W_xh": W_xh, "W_hh": W_hh, "b_h": b_h})
    return h


def _forward_cases(rng):
    cases = []
    for B, T, D, H in [(2, 1, 3, 4), (3, 5, 2, 3), (4, 12, 5, 6), (1, 20, 4, 8)]:
        cases.append({
            "x": rng.normal(size=(B, T, D)),
            "h0": rng.uniform(-1, 1, size=(B, H)),
            "W_xh": rng.normal(scale=0.5, size=(D, H)),
            "W_hh": rng.normal(scale=0.5, size=(H, H)),
            "b_h": rng.normal(scale=0.5, size=H),
        })
    return cases


def _states_shifted(x, h0, W_xh, W_hh, b_h):
    h = reference_rnn_forward(x, h0, W_xh, W_hh, b_h)
    return np.concatenate([h0[:, None], h[:, :-1]], axis=1)


def _states_from_zero(x, h0, W_xh, W_hh, b_h):
    return reference_rnn_forward(x, np.zeros_like(h0), W_xh, W_hh, b_h)


def _states_without_recurrence(x, h0, W_xh, W_hh, b_h):
    return np.tanh(x @ W_xh + (h0 @ W_hh)[:, None] + b_h)


@register("03-rnn-forward")
def check_rnn_forward(rnn_forward):
    """Check ``rnn_forward(x, h0, W_xh, W_hh, b_h) -> h (B, T, H)`` against the reference."""
    cases = _forward_cases(fresh_rng())
    mistakes = [
        (_states_shifted,
         "off by one: you returned h_0 .. h_{T-1}; return the states after each input, "
         "h_1 .. h_T (h[:, t] is the state after reading x[:, t])"),
        (_states_from_zero,
         "h0 is ignored: the recurrence must start from the given h0, not from zeros"),
        (_states_without_recurrence,
         "every step uses h0 instead of the previous step's state: update h inside the loop"),
    ]
    hint = diagnose_mistake(rnn_forward, cases[2], mistakes,
                     "loop over t: h = tanh(x[:, t] @ W_xh + h @ W_hh + b_h) and store it in "
                     "out[:, t]; start from h = h0")
    return run_check("03-rnn-forward", "The Elman RNN over a sequence", rnn_forward,
                     reference_rnn_forward, cases, ["h"], hint=hint)


# -- 03-rnn-outputs ---------------------------------------------------------------------------

def reference_rnn_outputs(h, W_hy, b_y):
    """o_t = h_t W_hy + b_y (B, T, V) and ŷ_t = softmax(o_t) over the V classes."""
    o = h @ W_hy + b_y
    return o, _softmax(o, axis=-1)


def _outputs_cases(rng):
    cases = []
    # The last case has scores near 1000, where exp overflows unless the maximum is subtracted.
    for B, T, H, V, shift in [(1, 4, 3, 4, 0.0), (2, 6, 5, 3, 0.0), (3, 5, 4, 7, 0.0),
                              (2, 3, 6, 5, 1000.0)]:
        cases.append({
            "h": rng.uniform(-1, 1, size=(B, T, H)),
            "W_hy": rng.normal(scale=2.0, size=(H, V)),
            "b_y": rng.normal(size=V) + shift,
        })
    return cases


@register("03-rnn-outputs")
def check_rnn_outputs(rnn_outputs):
    """Check ``rnn_outputs(h, W_hy, b_y) -> (o, y_hat)`` against the reference."""
    cases = _outputs_cases(fresh_rng())

    def softmax_over_time(h, W_hy, b_y):
        o = h @ W_hy + b_y
        return o, _softmax(o, axis=1)

    def softmax_over_everything(h, W_hy, b_y):
        o = h @ W_hy + b_y
        e = np.exp(o - o.max())
        return o, e / e.sum()

    mistakes = [
        (softmax_over_time,
         "the softmax is taken over the time axis; normalise over the classes (the last axis)"),
        (softmax_over_everything,
         "the softmax is normalised over the whole array; each ŷ_t must sum to 1 on its own "
         "(sum over axis=-1 with keepdims=True)"),
    ]
    hint = diagnose_mistake(rnn_outputs, cases[2], mistakes,
                     "o = h @ W_hy + b_y; subtract o.max(axis=-1, keepdims=True) before np.exp "
                     "(large scores overflow otherwise) and divide by the sum over the last axis")
    return run_check("03-rnn-outputs", "Softmax outputs of an RNN", rnn_outputs,
                     reference_rnn_outputs, cases, ["o", "y_hat"], hint=hint)


__all__ = ["check_rnn_step", "check_rnn_forward", "check_rnn_outputs"]
