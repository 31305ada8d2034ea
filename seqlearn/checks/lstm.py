"""Checks for the exercises of chapter 6, *LSTM and GRU*: one step of the LSTM cell, one step of
the GRU cell, and one step of the LSTM's backward pass.

The references are the package's own ``seqlearn.numpy.lstm`` and ``seqlearn.numpy.gru``. When an
answer is wrong, the check compares it with what typical mistakes give (gates in the wrong order,
a missing tanh, the update gate's roles swapped, a forgotten path of the gradient, ...) and
names the mistake it recognises.
"""

import numpy as np

from ..numpy.gru import gru_step as _gru_step
from ..numpy.lstm import lstm_step as _lstm_step
from ..numpy.lstm import lstm_step_backward as _lstm_step_backward
from .core import diagnose_mistake, fresh_rng, register, run_check


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
                       use_input_gate=True, forget="sigmoid"):
    z = x_t @ W_x + h_prev @ W_h + b
    blocks = dict(zip(order, _split(z, 4)))
    i, f, o = _sigmoid(blocks["i"]), _sigmoid(blocks["f"]), _sigmoid(blocks["o"])
    g = np.tanh(blocks["g"])
    if forget == "tanh":
        f = np.tanh(blocks["f"])
    c = f * c_prev + (i * g if use_input_gate else g)
    h = o * (np.tanh(c) if squash_cell else c)
    return h, c


def _lstm_cell_cases(rng):
    cases = []
    for B, D, H in [(1, 3, 2), (4, 2, 5), (6, 7, 4), (3, 5, 8)]:
        cases.append({
            "x_t": rng.normal(size=(B, D)),
            "h_prev": rng.uniform(-1, 1, size=(B, H)),
            "c_prev": rng.normal(size=(B, H)),
            "W_x": rng.normal(scale=0.6, size=(D, 4 * H)),
            "W_h": rng.normal(scale=0.6, size=(H, 4 * H)),
            "b": rng.normal(scale=0.5, size=4 * H),
        })
    return cases


@register("06-lstm-cell-forward")
def check_lstm_cell(lstm_cell):
    """Check ``lstm_cell(x_t, h_prev, c_prev, W_x, W_h, b) -> (h_t, c_t)``."""
    cases = _lstm_cell_cases(fresh_rng())
    mistakes = [
        (lambda **k: _lstm_cell_variant(**k, order="ifog"),
         "the gate blocks are in the order i, f, o, g; the package (and torch) use "
         "i, f, g, o: z[:, 2H:3H] is the candidate g and z[:, 3H:] the output gate o"),
        (lambda **k: _lstm_cell_variant(**k, order="iofg"),
         "the gate blocks are in a different order; use i = z[:, :H], f = z[:, H:2H], "
         "g = z[:, 2H:3H], o = z[:, 3H:]"),
        (lambda **k: _lstm_cell_variant(**k, squash_cell=False),
         "h_t = o_t ⊙ tanh(c_t): the tanh of the cell is missing"),
        (lambda **k: _lstm_cell_variant(**k, use_input_gate=False),
         "the candidate enters the cell without the input gate: c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t"),
        (lambda **k: _lstm_cell_variant(**k, forget="tanh"),
         "the forget gate is a sigmoid (a number between 0 and 1), not a tanh"),
    ]
    hint = diagnose_mistake(lstm_cell, cases[2], mistakes,
                     "z = x_t @ W_x + h_prev @ W_h + b; split into four blocks of H columns "
                     "(i, f, g, o); sigmoid for i, f, o, tanh for g; c_t = f*c_prev + i*g; "
                     "h_t = o*tanh(c_t)")
    return run_check("06-lstm-cell-forward", "One step of the LSTM cell", lstm_cell,
                     reference_lstm_cell, cases, ["h_t", "c_t"], hint=hint)


# -- 06-gru-cell ------------------------------------------------------------------------------

def reference_gru_cell(x_t, h_prev, W_x, W_h, b_x, b_h):
    """One GRU step, blocks [r | u | n] as torch: returns h_t (B, H)."""
    h_t, _ = _gru_step(x_t, h_prev, {"W_x": W_x, "W_h": W_h, "b_x": b_x, "b_h": b_h})
    return h_t


def _gru_cell_variant(x_t, h_prev, W_x, W_h, b_x, b_h, swap_update=False, reset_before=False,
                      no_reset=False):
    a_r, a_u, a_n = _split(x_t @ W_x + b_x, 3)
    s_r, s_u, s_n = _split(h_prev @ W_h + b_h, 3)
    r, u = _sigmoid(a_r + s_r), _sigmoid(a_u + s_u)
    H = h_prev.shape[1]
    if no_reset:
        r = np.ones_like(r)
    if reset_before:
        n = np.tanh(a_n + (r * h_prev) @ W_h[:, 2 * H:] + b_h[2 * H:])
    else:
        n = np.tanh(a_n + r * s_n)
    return u * n + (1 - u) * h_prev if swap_update else (1 - u) * n + u * h_prev


def _gru_cases(rng):
    cases = []
    for B, D, H in [(1, 2, 3), (5, 4, 2), (3, 6, 6), (7, 3, 5)]:
        cases.append({
            "x_t": rng.normal(size=(B, D)),
            "h_prev": rng.uniform(-1, 1, size=(B, H)),
            "W_x": rng.normal(scale=0.6, size=(D, 3 * H)),
            "W_h": rng.normal(scale=0.6, size=(H, 3 * H)),
            "b_x": rng.normal(scale=0.5, size=3 * H),
            "b_h": rng.normal(scale=0.5, size=3 * H),
        })
    return cases


@register("06-gru-cell")
def check_gru_cell(gru_cell):
    """Check ``gru_cell(x_t, h_prev, W_x, W_h, b_x, b_h) -> h_t``."""
    cases = _gru_cases(fresh_rng())
    mistakes = [
        (lambda **k: _gru_cell_variant(**k, swap_update=True),
         "the roles of u and 1 − u are swapped: here (as in torch) h_t = (1 − u) ⊙ n + u ⊙ h_prev, "
         "so u = 1 copies the old state"),
        (lambda **k: _gru_cell_variant(**k, reset_before=True),
         "you reset the state before the product, tanh(a_n + (r ⊙ h_prev) W_hn + b_hn) (Cho et "
         "al.'s original); torch's GRU resets after it: tanh(a_n + r ⊙ (h_prev W_hn + b_hn))"),
        (lambda **k: _gru_cell_variant(**k, no_reset=True),
         "the reset gate is missing from the candidate: n = tanh(a_n + r ⊙ s_n)"),
    ]
    hint = diagnose_mistake(gru_cell, cases[2], mistakes,
                     "a = x_t @ W_x + b_x and s = h_prev @ W_h + b_h, each split into (r, u, n) "
                     "blocks of H columns; r = σ(a_r + s_r), u = σ(a_u + s_u), "
                     "n = tanh(a_n + r*s_n), h_t = (1 - u)*n + u*h_prev")
    return run_check("06-gru-cell", "One step of the GRU cell", gru_cell, reference_gru_cell,
                     cases, ["h_t"], hint=hint)


# -- 06-lstm-step-backward --------------------------------------------------------------------

def reference_lstm_step_backward(dh_t, dc_t, x_t, h_prev, c_prev, W_x, W_h, b):
    """Gradients of one LSTM step. ``dh_t`` (B, H) is all of ∂L/∂h_t, ``dc_t`` (B, H) what c_t
    receives from step t+1. Returns ``(dx_t, dh_prev, dc_prev, dW_x, dW_h, db)``."""
    params = {"W_x": W_x, "W_h": W_h, "b": b}
    _, _, cache = _lstm_step(x_t, h_prev, c_prev, params)
    dx_t, dh_prev, dc_prev, grads = _lstm_step_backward(dh_t, dc_t, cache, params)
    return dx_t, dh_prev, dc_prev, grads["W_x"], grads["W_h"], grads["b"]


def _lstm_step_backward_variant(dh_t, dc_t, x_t, h_prev, c_prev, W_x, W_h, b,
                                skip_h_to_c=False, keep_dc=False, ignore_dc=False):
    z = x_t @ W_x + h_prev @ W_h + b
    zi, zf, zg, zo = _split(z, 4)
    i, f, g, o = _sigmoid(zi), _sigmoid(zf), np.tanh(zg), _sigmoid(zo)
    c = f * c_prev + i * g
    tc = np.tanh(c)
    dc = np.zeros_like(dc_t) if ignore_dc else dc_t.copy()
    if not skip_h_to_c:
        dc = dc + dh_t * o * (1 - tc**2)
    dz = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f),
                         dc * i * (1 - g**2), dh_t * tc * o * (1 - o)], axis=1)
    dc_prev = dc if keep_dc else dc * f
    return dz @ W_x.T, dz @ W_h.T, dc_prev, x_t.T @ dz, h_prev.T @ dz, dz.sum(axis=0)


def _step_backward_cases(rng):
    """The cell's cases, each with the gradients dh_t and dc_t arriving from above."""
    cases = _lstm_cell_cases(rng)
    for case in cases:
        shape = case["h_prev"].shape
        case["dh_t"], case["dc_t"] = rng.normal(size=shape), rng.normal(size=shape)
    return cases


@register("06-lstm-step-backward")
def check_lstm_step_backward(lstm_step_backward):
    """Check ``lstm_step_backward(dh_t, dc_t, x_t, h_prev, c_prev, W_x, W_h, b)
    -> (dx_t, dh_prev, dc_prev, dW_x, dW_h, db)``."""
    cases = _step_backward_cases(fresh_rng())
    mistakes = [
        (lambda **k: _lstm_step_backward_variant(**k, skip_h_to_c=True),
         "δc_t must also receive the gradient through h_t = o_t ⊙ tanh(c_t): "
         "δc = dc_t + dh_t ⊙ o_t ⊙ (1 − tanh²(c_t))"),
        (lambda **k: _lstm_step_backward_variant(**k, keep_dc=True),
         "dc_prev is δc ⊙ f_t: the cell is carried over multiplied by the forget gate"),
        (lambda **k: _lstm_step_backward_variant(**k, ignore_dc=True),
         "dc_t (the gradient arriving at c_t from the next step) is ignored; add it to δc"),
    ]
    hint = diagnose_mistake(lstm_step_backward, cases[2], mistakes,
                     "recompute the gates, then δc = dc_t + dh_t*o*(1 - tanh(c)²); "
                     "δz = [δc*g*i(1-i), δc*c_prev*f(1-f), δc*i*(1-g²), dh_t*tanh(c)*o(1-o)]; "
                     "dx = δz W_xᵀ, dh_prev = δz W_hᵀ, dc_prev = δc*f, dW_x = x_tᵀ δz, "
                     "dW_h = h_prevᵀ δz, db = Σ_batch δz")
    return run_check("06-lstm-step-backward", "One step of LSTM backpropagation",
                     lstm_step_backward, reference_lstm_step_backward, cases,
                     ["dx_t", "dh_prev", "dc_prev", "dW_x", "dW_h", "db"], hint=hint)


__all__ = ["check_lstm_cell", "check_gru_cell", "check_lstm_step_backward",
           "reference_lstm_cell", "reference_gru_cell", "reference_lstm_step_backward"]
