"""Checks for the exercises of chapter 3, *Recurrent neural networks*.

========================= ============ ==========================================================
exercise                  kind         what the check does
========================= ============ ==========================================================
03-rnn-shapes             concept      the shapes of W_xh, b_h, the states h and the concatenated
                                       weight [W_xh; W_hh], and the parameter counts of the Elman
                                       RNN (3.1), of ``nn.RNN`` and of a two-layer stack
03-rnn-step               implement    one step (3.1) against the reference, on fresh random
                                       cells (B = 1, saturated units, a zero input)
03-rnn-forward            implement    the states h_1 .. h_T against the reference (T = 1,
                                       B = 1, a zero initial state, saturated units)
03-rnn-outputs            implement    the scores and softmax outputs (3.2) against the reference
                                       (T = 1, scores near 1000 that overflow a naive softmax)
03-rnn-jacobian           implement    the Jacobian ∂h_t/∂h_{t-1} (3.3) of one step against the
                                       reference (itself checked against finite differences in
                                       the tests), on fresh random cells (H = 1, the origin,
                                       saturated units); autograd is refused
03-forgetting             experiment   measures, on three fresh random networks, whether an
                                       input-free RNN with the chosen spectral radii of W_hh
                                       forgets or keeps its initial state over 200 steps, and
                                       whether the two choices bracket the transition tightly
03-ctrnn-fixed-points     implement    all fixed points of fresh two-unit CTRNNs (3.4) and their
                                       stability (3.5), compared as sets with the package's
                                       ``find_fixed_points`` (no coupling, self-inhibition, a
                                       stable and an unstable focus, three to nine fixed points)
03-three-attractors       experiment   counts the attractors of the chosen two-unit CTRNN, by
                                       its fixed points and by simulating a grid of starts, and
                                       checks that the count survives small changes of W_hh and b_h
03-oscillator             experiment   simulates the chosen two-unit CTRNN from random starts:
                                       every one must end on an oscillation of steady amplitude,
                                       with a largest Lyapunov exponent near 0 (3.8), also after
                                       small changes of W_hh and b_h
03-rnn-dynamics           concept      the fewest units for a limit cycle and for chaos, the sign
                                       of λ₁ in each regime, how fast an error grows, and what the
                                       approximation and Turing-completeness theorems assume
========================= ============ ==========================================================

The references are the package's own ``seqlearn.numpy.rnn``, ``seqlearn.numpy.gradient_flow``
and ``seqlearn.numpy.ctrnn``. When an answer is wrong, the check compares it with what typical
mistakes give (a transposed matrix, a missing bias, an off-by-one state, softmax over the wrong
axis, tanh' taken at h_{t-1}, only the attractors found, the stability test of a discrete map,
...) and names the mistake it recognises; otherwise its hint points to the equations by number.

The fixed points of a CTRNN come in no particular order, so :func:`check_ctrnn_fixed_points`
puts the student's points in the reference's order (nearest first) before ``run_check`` compares
them; ``core`` compares outputs position by position and has no such comparison.
"""

import copy
import math

import numpy as np

from ..numpy.ctrnn import basins_of_attraction as _basins_of_attraction
from ..numpy.ctrnn import check_ctrnn_params as _check_ctrnn_params
from ..numpy.ctrnn import ctrnn_lyapunov_exponent as _ctrnn_lyapunov_exponent
from ..numpy.ctrnn import find_fixed_points as _find_fixed_points
from ..numpy.ctrnn import integrate_ode as _integrate_ode
from ..numpy.gradient_flow import jacobians_from_states as _jacobians_from_states
from ..numpy.gradient_flow import scaled_to_spectral_radius as _scaled_to_spectral_radius
from ..numpy.rnn import rnn_forward as _rnn_forward
from ..numpy.softmax import softmax as _softmax
from .core import (check_concept, check_experiment, diagnose_mistake, forbidden_use, fresh_rng,
                   reference_allowed, register, run_check, to_numpy)

#: What a step or a forward pass may not use: PyTorch's RNN, which does the whole job.
RNN_FORBIDDEN = ("RNN", "RNNCell", "rnn_tanh", "rnn_tanh_cell", "rnn_cell")

#: What a hand-derived Jacobian may not use: autograd.
AUTOGRAD = ("backward", "grad", "autograd", "vjp", "jvp", "jacobian", "jacrev", "jacfwd")

#: What a fixed-point finder may not use: SciPy's root finders, which would do the solving.
ROOT_FINDERS = ("fsolve", "root", "least_squares")


# -- 03-rnn-shapes ----------------------------------------------------------------------------

#: The network of the concept exercise: B sequences of T steps of D features, H hidden units.
SIZES = {"B": 16, "T": 40, "D": 10, "H": 32}


def _elman_count(D, H, biases=1):
    return D * H + H * H + biases * H


def _concept_questions():
    B, T, D, H = SIZES["B"], SIZES["T"], SIZES["D"], SIZES["H"]
    one = _elman_count(D, H)
    return [
        {"key": "W_xh_shape", "answer": (D, H),
         "explain": {(H, D): "that is nn.RNN's layout (weight_ih_l0 is W_xhᵀ, for column "
                             "vectors); in the course's row-vector convention x_t (B, D) "
                             "multiplies W_xh from the left (equation 3.1)",
                     (B, H): "that is the shape of the product x_t W_xh, not of the weight"},
         "hint": "x_t has shape (B, D) and x_t W_xh must have shape (B, H) (equation 3.1)"},
        {"key": "b_h_shape", "answer": (H,),
         "explain": {(B, H): "the bias is shared across the batch: one number per hidden unit, "
                             "broadcast over the B rows",
                     (T, H): "the bias is shared across time: the same parameters at every step",
                     (1, H): "the package stores the bias as a vector (H,); NumPy broadcasts it "
                             "over the batch",
                     (D,): "the bias is added to the pre-activation a_t, which lives in the "
                           "hidden space"},
         "hint": "which space does b_h live in, in equation (3.1)?"},
        {"key": "h_shape", "answer": (B, T, H),
         "explain": {(T, B, H): "that is time-major, nn.RNN's default; the course is batch-first",
                     (B, T + 1, H): "the forward pass returns h_1 .. h_T; h_0 is given, not "
                                    "computed",
                     (B, H): "that is one step's state (or h_T); the forward pass returns a "
                             "state for every step"},
         "hint": "one state of H numbers per sequence and per step, batch first"},
        {"key": "n_params", "answer": one,
         "explain": {T * one: "the parameters are shared across the T steps: the count does not "
                              "depend on the length of the sequence",
                     B * one: "the batch shares the parameters too",
                     one + H: "that is nn.RNN's count, with its two bias vectors; equation (3.1) "
                              "has one, b_h",
                     one - H: "the bias b_h counts too",
                     D * H + H: "the recurrent weights W_hh, (H, H), are parameters too",
                     (D + H) * (D + H): "W_hh maps H numbers to H numbers and W_xh D numbers to "
                                        "H: count each"},
         "hint": "add up the entries of W_xh, W_hh and b_h of equation (3.1) for these sizes"},
        {"key": "n_params_builtin", "answer": one + H,
         "explain": {one: "nn.RNN stores two bias vectors, bias_ih_l0 and bias_hh_l0, that "
                          "only ever appear as their sum b_h",
                     one - H: "nn.RNN has biases by default (bias=True), two vectors of them"},
         "hint": "which tensors does nn.RNN(10, 32) store? The section on the PyTorch version "
                 "says how they map onto W_xh, W_hh and b_h"},
        {"key": "W_concat_shape", "answer": (D + H, H),
         "explain": {(D + H, D + H): "the product must be the pre-activation a_t, with H "
                                     "columns, not D + H",
                     (H, D + H): "row vectors: [x_t, h_{t-1}], of shape (B, D + H), multiplies "
                                 "W from the left",
                     (D, H): "that is W_xh alone; the concatenated input also carries h_{t-1}",
                     (2 * H, H): "x_t has D features, not H"},
         "hint": "[x_t, h_{t-1}] has shape (B, D + H) and the product must equal x_t W_xh + "
                 "h_{t-1} W_hh: which rows of W meet x_t, which meet h_{t-1}?"},
        {"key": "n_params_stacked", "answer": one + _elman_count(H, H),
         "explain": {2 * one: "the second layer reads the first layer's states, H numbers per "
                              "step, not the data's D",
                     one: "every layer has its own parameters (shared over time, not across "
                          "layers)",
                     2 * _elman_count(H, H): "the first layer reads the data, D numbers per "
                                             "step",
                     one + _elman_count(H, H) + 2 * H: "that counts nn.RNN's two biases per "
                                                       "layer; the chapter's layers have one"},
         "hint": "count each layer with equation (3.1): the input of layer 2 is the state of "
                 "layer 1 (section Stacked RNNs)"},
    ]


_CONCEPT_QUESTIONS = _concept_questions()


@register("03-rnn-shapes", kind="concept", points=len(_CONCEPT_QUESTIONS),
          summary="for B = 16, T = 40, D = 10, H = 32: the shapes of W_xh, b_h, the states h and "
                  "the weight of the concatenated form [x_t, h_{t-1}] W; the parameter counts of "
                  "the Elman RNN (3.1), of nn.RNN and of a two-layer stack (column-vector "
                  "layout, time-major, counting per step, nn.RNN's two biases explained)")
def check_rnn_shapes(answers):
    """Check ``answers() -> dict`` of the seven answers (see ``_CONCEPT_QUESTIONS``)."""
    return check_concept("03-rnn-shapes", "Shapes and sizes of an Elman RNN", answers,
                         _CONCEPT_QUESTIONS)


# -- 03-rnn-step ------------------------------------------------------------------------------

def reference_rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
    """h_t (B, H) of equation (3.1) for x_t (B, D) and h_prev (B, H)."""
    return np.tanh(x_t @ W_xh + h_prev @ W_hh + b_h)


#: (B, D, H, kind) of the step's cases: B = 1, generic, saturated units, a zero input.
_STEP_SHAPES = [(1, 3, 4, "plain"), (5, 2, 3, "plain"), (8, 6, 6, "plain"), (3, 10, 7, "large"),
                (4, 4, 5, "zero input")]


def _cell(rng, B, D, H, kind):
    """Random inputs, state and weights of one Elman step; ``kind`` "large" saturates the units,
    "zero input" sets x_t = 0, "zero state" h_{t-1} = 0, "origin" both and b_h = 0."""
    scale = 3.0 if kind == "large" else 0.5
    case = {
        "x_t": rng.normal(size=(B, D)) * (kind not in ("zero input", "origin")),
        "h_prev": rng.uniform(-1, 1, size=(B, H)) * (kind not in ("zero state", "origin")),
        "W_xh": rng.normal(scale=scale, size=(D, H)),
        "W_hh": rng.normal(scale=scale, size=(H, H)),
        "b_h": rng.normal(scale=0.5, size=H) * (kind != "origin"),
    }
    return case


def _step_cases(rng):
    return [_cell(rng, *shape) for shape in _STEP_SHAPES]


@register("03-rnn-step", kind="implement", points=len(_STEP_SHAPES),
          summary="one Elman step (3.1) on fresh random cells (B = 1, saturated units, a zero "
                  "input); names a transposed W_hh, a missing tanh, bias or recurrent term",
          forbidden=RNN_FORBIDDEN)
def check_rnn_step(rnn_step):
    """Check ``rnn_step(x_t, h_prev, W_xh, W_hh, b_h) -> h_t`` against the reference."""
    cases = _step_cases(fresh_rng())
    mistakes = [
        (lambda x_t, h_prev, W_xh, W_hh, b_h: np.tanh(x_t @ W_xh + h_prev @ W_hh.T + b_h),
         "you used W_hh transposed: in the row-vector convention of equation (3.1) the state "
         "multiplies W_hh from the left (W_hh[i, j] connects unit i at t-1 to unit j at t)"),
        (lambda x_t, h_prev, W_xh, W_hh, b_h: x_t @ W_xh + h_prev @ W_hh + b_h,
         "the pre-activation a_t is right but the tanh of equation (3.1) is missing"),
        (lambda x_t, h_prev, W_xh, W_hh, b_h: np.tanh(x_t @ W_xh + h_prev @ W_hh),
         "the bias b_h is missing from the pre-activation (equation 3.1)"),
        (lambda x_t, h_prev, W_xh, W_hh, b_h: np.tanh(x_t @ W_xh + b_h),
         "h_prev is ignored: the previous state enters the pre-activation through W_hh"),
    ]
    hint = diagnose_mistake(rnn_step, cases[2], mistakes,
                            "compute equation (3.1) for the whole batch at once: each row of "
                            "x_t and h_prev is one sequence; check the shapes of every product")
    return run_check("03-rnn-step", "One step of the Elman RNN", rnn_step, reference_rnn_step,
                     cases, ["h_t"], hint=hint)


# -- 03-rnn-forward ---------------------------------------------------------------------------

def reference_rnn_forward(x, h0, W_xh, W_hh, b_h):
    """The states h_1 .. h_T (B, T, H) of the Elman RNN run over x (B, T, D) from h0 (B, H)."""
    h, _ = _rnn_forward(x, h0, {"W_xh": W_xh, "W_hh": W_hh, "b_h": b_h})
    return h


#: (B, T, D, H, kind) of the forward pass's cases: T = 1, B = 1, a zero h0, saturated units.
_FORWARD_SHAPES = [(2, 1, 3, 4, "plain"), (3, 5, 2, 3, "plain"), (4, 12, 5, 6, "plain"),
                   (1, 20, 4, 8, "plain"), (3, 8, 3, 5, "zero state"), (2, 10, 4, 4, "large")]


def _forward_cases(rng):
    cases = []
    for B, T, D, H, kind in _FORWARD_SHAPES:
        while True:
            cell = _cell(rng, B, D, H, kind)
            case = {"x": rng.normal(size=(B, T, D)) * (3.0 if kind == "large" else 1.0),
                    "h0": cell["h_prev"], "W_xh": cell["W_xh"], "W_hh": cell["W_hh"],
                    "b_h": cell["b_h"]}
            # Saturated units can forget h0 within float precision; such a case would pass a
            # recurrence started from zeros, so it is drawn again (a zero h0 is meant to).
            if kind == "zero state" or not np.allclose(_states_from_zero(**case),
                                                       reference_rnn_forward(**case),
                                                       rtol=1e-4, atol=1e-4):
                break
        cases.append(case)
    return cases


def _states_shifted(x, h0, W_xh, W_hh, b_h):
    h = reference_rnn_forward(x, h0, W_xh, W_hh, b_h)
    return np.concatenate([h0[:, None], h[:, :-1]], axis=1)


def _states_from_zero(x, h0, W_xh, W_hh, b_h):
    return reference_rnn_forward(x, np.zeros_like(h0), W_xh, W_hh, b_h)


def _states_without_recurrence(x, h0, W_xh, W_hh, b_h):
    return np.tanh(x @ W_xh + (h0 @ W_hh)[:, None] + b_h)


def _states_with_transposed_W_hh(x, h0, W_xh, W_hh, b_h):
    return reference_rnn_forward(x, h0, W_xh, W_hh.T, b_h)


@register("03-rnn-forward", kind="implement", points=len(_FORWARD_SHAPES),
          summary="the states h_1 .. h_T of equation (3.1) on fresh random sequences (T = 1, "
                  "B = 1, a zero h0, saturated units); names the off-by-one h_0 .. h_{T-1}, an "
                  "ignored h0, a state never updated, a transposed W_hh",
          forbidden=RNN_FORBIDDEN)
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
         "every step uses h0 instead of the previous step's state: the state must be carried "
         "from one step to the next"),
        (_states_with_transposed_W_hh,
         "you used W_hh transposed: in equation (3.1) the state multiplies W_hh from the left"),
    ]
    hint = diagnose_mistake(rnn_forward, cases[2], mistakes,
                            "apply equation (3.1) once per step, t = 1 .. T, each step starting "
                            "from the state the previous one produced (the first from h0)")
    return run_check("03-rnn-forward", "The Elman RNN over a sequence", rnn_forward,
                     reference_rnn_forward, cases, ["h"], hint=hint)


# -- 03-rnn-outputs ---------------------------------------------------------------------------

def reference_rnn_outputs(h, W_hy, b_y):
    """z_t = h_t W_hy + b_y (B, T, V) and ŷ_t = softmax(z_t) over the V classes (3.2)."""
    z = h @ W_hy + b_y
    return z, _softmax(z, axis=-1)


#: (B, T, H, V, shift of the scores) of the outputs' cases: T = 1, B = 1, and last scores near
#: 1000, where exp overflows unless the maximum is subtracted.
_OUTPUT_SHAPES = [(1, 1, 3, 5, 0.0), (1, 4, 3, 4, 0.0), (2, 6, 5, 3, 0.0), (3, 5, 4, 7, 0.0),
                  (2, 3, 6, 5, 1000.0)]


def _outputs_cases(rng):
    cases = []
    for B, T, H, V, shift in _OUTPUT_SHAPES:
        cases.append({
            "h": rng.uniform(-1, 1, size=(B, T, H)),
            "W_hy": rng.normal(scale=2.0, size=(H, V)),
            "b_y": rng.normal(size=V) + shift,
        })
    return cases


@register("03-rnn-outputs", kind="implement", points=2 * len(_OUTPUT_SHAPES),
          summary="scores and softmax outputs (3.2) on fresh random states (T = 1, B = 1, scores "
                  "near 1000 that overflow a naive softmax); names a softmax over time or over "
                  "the whole array")
def check_rnn_outputs(rnn_outputs):
    """Check ``rnn_outputs(h, W_hy, b_y) -> (z, y_hat)`` against the reference."""
    cases = _outputs_cases(fresh_rng())

    def softmax_over_time(h, W_hy, b_y):
        z = h @ W_hy + b_y
        return z, _softmax(z, axis=1)

    def softmax_over_everything(h, W_hy, b_y):
        z = h @ W_hy + b_y
        e = np.exp(z - z.max())
        return z, e / e.sum()

    def without_bias(h, W_hy, b_y):
        z = h @ W_hy
        return z, _softmax(z, axis=-1)

    mistakes = [
        (softmax_over_time,
         "the softmax is taken over the time axis; each step's scores z_t are normalised over "
         "the V classes (equation 3.2)"),
        (softmax_over_everything,
         "the softmax is normalised over the whole array; each ŷ_t must sum to 1 on its own "
         "(equation 3.2)"),
        (without_bias,
         "the bias b_y is missing from the scores (equation 3.2)"),
    ]
    hint = diagnose_mistake(rnn_outputs, cases[3], mistakes,
                            "equation (3.2), one distribution per sequence and step; for scores "
                            "near 1000 exp overflows: the text says how to keep the softmax "
                            "finite without changing it")
    return run_check("03-rnn-outputs", "Softmax outputs of an RNN", rnn_outputs,
                     reference_rnn_outputs, cases, ["z", "y_hat"], hint=hint)


# -- 03-rnn-jacobian --------------------------------------------------------------------------

def reference_rnn_jacobian(x_t, h_prev, W_xh, W_hh, b_h):
    """J (B, H, H) with J[b, i, j] = ∂h_t[b, i] / ∂h_{t-1}[b, j] of the step (3.1) (3.3)."""
    h_t = reference_rnn_step(x_t, h_prev, W_xh, W_hh, b_h)
    return _jacobians_from_states(h_t[:, None], W_hh)[:, 0]


def numerical_rnn_jacobian(x_t, h_prev, W_xh, W_hh, b_h, eps=1e-6):
    """The same Jacobian by central finite differences of the step: column j is
    (h_t(h_prev + ε e_j) − h_t(h_prev − ε e_j)) / 2ε."""
    B, H = h_prev.shape
    J = np.empty((B, H, H))
    for j in range(H):
        step = np.zeros(H)
        step[j] = eps
        J[:, :, j] = (reference_rnn_step(x_t, h_prev + step, W_xh, W_hh, b_h)
                      - reference_rnn_step(x_t, h_prev - step, W_xh, W_hh, b_h)) / (2 * eps)
    return J


#: (B, D, H, kind) of the Jacobian's cases: one unit, the origin (no input, state or bias: there
#: a transposed J differs most plainly), generic, saturated units, a zero input.
_JACOBIAN_SHAPES = [(1, 2, 1, "plain"), (1, 3, 4, "origin"), (5, 2, 3, "plain"),
                    (3, 4, 6, "plain"), (4, 6, 5, "large"), (2, 3, 4, "zero input")]


def _jacobian_cases(rng):
    return [_cell(rng, *shape) for shape in _JACOBIAN_SHAPES]


def _jacobian_variant(x_t, h_prev, W_xh, W_hh, b_h, where="h_t", layout="rows"):
    a = x_t @ W_xh + h_prev @ W_hh + b_h
    slope = {"h_t": 1 - np.tanh(a) ** 2, "h_prev": 1 - h_prev ** 2, "a": 1 - a ** 2,
             "none": np.ones_like(a)}[where]
    if layout == "rows":
        return slope[:, :, None] * W_hh.T
    return slope[:, None, :] * W_hh          # the transpose of the right layout


@register("03-rnn-jacobian", kind="implement", points=len(_JACOBIAN_SHAPES),
          summary="the Jacobian ∂h_t/∂h_{t-1} (3.3) of one Elman step, (B, H, H), on fresh random "
                  "cells (H = 1, the origin, saturated units, a zero input); names the transposed "
                  "layout, tanh' taken at h_{t-1} or as 1 - a², a missing tanh'; autograd refused",
          forbidden=AUTOGRAD)
def check_rnn_jacobian(rnn_step_jacobian):
    """Check ``rnn_step_jacobian(x_t, h_prev, W_xh, W_hh, b_h) -> J (B, H, H)``."""
    cases = _jacobian_cases(fresh_rng())
    mistakes = [
        (lambda **c: _jacobian_variant(**c, layout="columns"),
         "your J is the transpose of the one asked for: J[b, i, j] is ∂h_t[b, i]/∂h_{t-1}[b, j], "
         "rows for the new state and columns for the old one (equation 3.3); with row vectors "
         "unit j of h_{t-1} reaches unit i of h_t through W_hh[j, i]"),
        (lambda **c: _jacobian_variant(**c, where="h_prev"),
         "tanh' is taken at the wrong step: differentiate h_t = tanh(a_t) at a_t, the "
         "pre-activation of the new state, not at h_{t-1}"),
        (lambda **c: _jacobian_variant(**c, where="h_prev", layout="columns"),
         "two mistakes: tanh' is taken at h_{t-1} instead of at a_t, and J is transposed "
         "(J[b, i, j] is ∂h_t[b, i]/∂h_{t-1}[b, j], equation 3.3)"),
        (lambda **c: _jacobian_variant(**c, where="a"),
         "tanh'(a) is 1 − tanh(a)², not 1 − a²"),
        (lambda **c: _jacobian_variant(**c, where="none"),
         "the derivative of the tanh is missing: h_t = tanh(a_t), and the chain rule passes "
         "through tanh'(a_t)"),
        (lambda **c: _jacobian_variant(**c, where="none", layout="columns"),
         "the derivative of the tanh is missing, and J is transposed (equation 3.3)"),
    ]
    hint = diagnose_mistake(rnn_step_jacobian, cases[3], mistakes,
                            "differentiate equation (3.1) with the chain rule, one entry "
                            "J[b, i, j] = ∂h_t[b, i]/∂h_{t-1}[b, j] at a time (equation 3.3), "
                            "and compare a column of your J with a finite difference of your "
                            "rnn_step")
    return run_check("03-rnn-jacobian", "The Jacobian of one step", rnn_step_jacobian,
                     reference_rnn_jacobian, cases, ["J"], hint=hint)


# -- 03-forgetting ----------------------------------------------------------------------------

#: The forgetting experiment: an Elman RNN of ``hidden_size`` units with no input and no bias,
#: W_hh a Gaussian matrix rescaled to spectral radius ρ, run ``steps`` steps from ``pairs`` pairs
#: of initial states drawn uniformly from [-1, 1]^H, on ``networks`` random networks. The
#: network forgets when the final distance of a pair, over its initial distance, averages below
#: ``forgets_below``, and remembers when it averages above ``remembers_above``; the two choices
#: must lie at most ``max_gap`` apart.
FORGETTING = {"hidden_size": 64, "steps": 200, "pairs": 32, "networks": 3,
              "forgets_below": 1e-3, "remembers_above": 0.15, "max_gap": 0.2}


def forgetting_ratio(rho, rng=None, networks=None):
    """The experiment's measurement (``FORGETTING``) for the spectral radius ``rho``: the mean,
    over the pairs of initial states and the random networks, of |h_T − h'_T| / |h_0 − h'_0|.
    Near 0: the network forgets where it started; of order 1: it remembers. ``rng``: a
    ``numpy.random.Generator``, a seed or ``None`` (fresh randomness)."""
    rng = np.random.default_rng(rng)
    H, T, pairs = FORGETTING["hidden_size"], FORGETTING["steps"], FORGETTING["pairs"]
    ratios = []
    for _ in range(networks or FORGETTING["networks"]):
        params = {"W_xh": np.zeros((1, H)), "b_h": np.zeros(H),
                  "W_hh": _scaled_to_spectral_radius(rng.normal(size=(H, H)), rho)}
        h0 = rng.uniform(-1, 1, size=(2 * pairs, H))
        h, _ = _rnn_forward(np.zeros((2 * pairs, T, 1)), h0, params)
        start = np.linalg.norm(h0[:pairs] - h0[pairs:], axis=1)
        end = np.linalg.norm(h[:pairs, -1] - h[pairs:, -1], axis=1)
        ratios.append(end / start)
    return float(np.mean(ratios))


def _as_radii(choice):
    try:
        values = [float(to_numpy(v)) for v in choice]
    except (TypeError, ValueError):
        raise TypeError(f"expected two numbers (rho_forget, rho_remember), got {choice!r}") \
            from None
    if len(values) != 2:
        raise ValueError(f"expected two numbers (rho_forget, rho_remember), got {len(values)}")
    if not all(math.isfinite(v) and 0 < v <= 5 for v in values):
        raise ValueError(f"expected spectral radii between 0 and 5, got {values}")
    return values


def _measure_forgetting(choice, rng=None):
    rho_forget, rho_remember = _as_radii(choice)
    rng = fresh_rng() if rng is None else rng
    T, n = FORGETTING["steps"], FORGETTING["networks"]
    low, high, gap = (FORGETTING["forgets_below"], FORGETTING["remembers_above"],
                      FORGETTING["max_gap"])
    forget = forgetting_ratio(rho_forget, rng)
    remember = forgetting_ratio(rho_remember, rng)
    where = f"(mean over {n} fresh networks × {FORGETTING['pairs']} pairs of starts)"
    lines = [
        f"rho_forget = {rho_forget:g}: after {T} steps the distance of two runs is "
        f"{forget:.2g} of where they started {where}: "
        + ("forgotten" if forget < low else f"not forgotten (needs < {low:g})"),
        f"rho_remember = {rho_remember:g}: the distance is {remember:.2g} of where the runs "
        "started: " + ("remembered" if remember > high else f"not remembered (needs > {high:g})"),
    ]
    score = (forget < low) + (remember > high)
    if score == 2 and 0 < rho_remember - rho_forget <= gap:
        score += 1
        lines.append(f"the two choices bracket the transition within "
                     f"{rho_remember - rho_forget:.3g} (at most {gap:g}): right")
    elif score == 2:
        lines.append(f"the choices are {rho_remember - rho_forget:.3g} apart; bring them within "
                     f"{gap:g} of each other to locate the transition")
    else:
        lines.append("hint: linearise the step (3.1) around the state h = 0 with your Jacobian "
                     "(3.3): when does a small state die out over many steps? Measure around that "
                     "value with your rnn_forward or with forgetting_ratio(rho)")
    return score, lines


@register("03-forgetting", kind="experiment", points=3,
          summary="an input-free 64-unit Elman RNN with W_hh rescaled to each chosen spectral "
                  "radius, 3 fresh networks × 32 pairs of starts, 200 steps: a point if the first "
                  "radius forgets (distance < 1e-3 of the start), one if the second remembers "
                  "(> 0.15), one if both hold and they are at most 0.2 apart")
def check_forgetting(choose_spectral_radii):
    """Check ``choose_spectral_radii() -> (rho_forget, rho_remember)``."""
    return check_experiment("03-forgetting", "Where the state stops forgetting",
                            choose_spectral_radii, _measure_forgetting, max_score=3)


# -- 03-ctrnn-fixed-points --------------------------------------------------------------------

def reference_fixed_points(W_hh, b_h):
    """The fixed points (K, 2) of τ da/dt = −a + tanh(a) W_hh + b_h (τ = 1) and whether each is
    stable (K,), in the package's order."""
    fixed = _find_fixed_points(W_hh, b_h)
    return fixed.points, fixed.stable


#: The kinds of two-unit systems of the fixed-point check, one case each. Self-inhibition and
#: the stable focus are stable for the flow but not for the discrete map a_{t+1} = tanh(a_t) W_hh + b_h,
#: and the focus has a Jacobian that is far from symmetric.
_CTRNN_KINDS = ("no coupling", "self-inhibition", "stable focus", "bistable", "four attractors",
                "unstable focus", "three attractors")


def _ctrnn_system(rng, kind):
    """A random (W_hh, b_h) of the given kind (see ``_CTRNN_KINDS``)."""
    if kind == "no coupling":                     # W_hh = 0: the one fixed point is b_h itself
        return np.zeros((2, 2)), rng.normal(scale=2.0, size=2)
    if kind == "self-inhibition":
        return (-np.diag(rng.uniform(2.0, 4.0, 2)) + rng.uniform(-0.3, 0.3, (2, 2)),
                rng.normal(scale=0.5, size=2))
    if kind in ("stable focus", "unstable focus"):    # complex eigenvalues, one fixed point
        a = rng.uniform(0.0, 0.8) if kind == "stable focus" else rng.uniform(1.5, 2.5)
        b = rng.uniform(1.5, 3.0) if kind == "stable focus" else rng.uniform(2.0, 4.0)
        return np.array([[a, -b], [b, a]]), rng.normal(scale=0.2, size=2)
    if kind == "bistable":
        s, c = rng.uniform(1.5, 2.5), rng.uniform(-0.4, 0.4)
        return (np.array([[s, c], [c, s]]) + rng.uniform(-0.2, 0.2, (2, 2)),
                rng.normal(scale=0.1, size=2))
    if kind == "four attractors":                 # the chapter's network, perturbed
        s, c = rng.uniform(4.0, 6.0), rng.uniform(-1.5, -0.5)
        return (np.array([[s, c], [c, s]]) + rng.uniform(-0.3, 0.3, (2, 2)),
                rng.normal(scale=0.3, size=2))
    s, c = rng.uniform(4.5, 5.5), rng.uniform(-1.2, -0.8)     # "three attractors": an input
    return (np.array([[s, c], [c, s]]) + rng.uniform(-0.2, 0.2, (2, 2)),
            rng.uniform(2.8, 3.5) * np.sign(rng.normal()) + rng.normal(scale=0.1, size=2))


def _well_posed(W_hh, b_h):
    """The reference's answer when the system is safe to grade (every fixed point clearly
    stable or not, the points apart, a denser grid of starts finds no more), else ``None``."""
    fixed = _find_fixed_points(W_hh, b_h)
    if len(fixed.points) == 0 or np.min(np.abs(fixed.eigenvalues.real)) < 0.05:
        return None
    if len(_find_fixed_points(W_hh, b_h, grid_size=31).points) != len(fixed.points):
        return None
    distance = np.abs(fixed.points[:, None] - fixed.points[None]).max(-1)
    if np.min(distance + 10 * np.eye(len(distance))) < 0.05:
        return None
    return fixed


def _ctrnn_cases(rng):
    cases = []
    for kind in _CTRNN_KINDS:
        for _ in range(100):
            W_hh, b_h = _ctrnn_system(rng, kind)
            if _well_posed(W_hh, b_h) is not None:
                break
        cases.append({"W_hh": W_hh, "b_h": b_h})
    return cases


def _as_points(points, stable):
    """``(points (K, 2), stable (K,))`` as float and bool arrays, or ``None`` if they are not."""
    try:
        points, stable = to_numpy(points), to_numpy(stable)
        if (points.dtype == object or stable.dtype == object or stable.ndim != 1
                or points.reshape(-1, 2).shape[0] != stable.shape[0]):
            return None
        return points.reshape(-1, 2).astype(float), stable.astype(bool)
    except (TypeError, ValueError):
        return None


def _in_reference_order(got, want_points):
    """The student's ``(points, stable)`` reordered to match ``want_points`` nearest first, when
    there are as many and each reference point has its own nearest; else ``got`` unchanged."""
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return got
    answer = _as_points(*got)
    if answer is None or answer[0].shape != want_points.shape or len(want_points) == 0:
        return got
    points, stable = answer
    nearest = np.abs(want_points[:, None] - points[None]).max(-1).argmin(axis=1)
    if len(set(nearest.tolist())) != len(nearest):
        return got
    return points[nearest], stable[nearest]


def _fixed_point_label(point, eigenvalues):
    real = eigenvalues.real
    kind = ("an attractor" if np.all(real < 0) else "a source" if np.all(real > 0)
            else "a saddle")
    return f"({point[0]:+.3f}, {point[1]:+.3f}), {kind}"


def _stability_variants(W_hh, points):
    """Mistaken stability tests at the right points: (stable (K,), message), the most specific
    first."""
    slope = 1 - np.tanh(points) ** 2
    J = -np.eye(2) + W_hh.T * slope[:, None, :]
    map_J = W_hh.T * slope[:, None, :]
    return [
        (np.all(np.abs(np.linalg.eigvals(map_J)) < 1, axis=1),
         "you tested |λ| < 1 of W_hhᵀ diag(tanh'(a*)): that is the stability of the discrete "
         "map a_{t+1} = tanh(a_t) W_hh + b_h; the flow (3.4) is stable when every eigenvalue of its "
         "Jacobian (3.5) has a negative real part"),
        (np.all(np.linalg.eigvalsh(J) < 0, axis=1),
         "np.linalg.eigvalsh assumes a symmetric matrix and reads only one triangle; the "
         "Jacobian (3.5) is not symmetric in general: use np.linalg.eigvals"),
        (np.all(np.linalg.eigvals(map_J).real < 0, axis=1),
         "the −δ_ij term of the Jacobian (3.5) is missing: the leak −a of equation (3.4) "
         "contributes −1 on the diagonal"),
        (np.repeat(np.all(np.linalg.eigvals(-np.eye(2) + W_hh).real < 0), len(points)),
         "you used the Jacobian at the origin for every point: tanh' in equation (3.5) is "
         "taken at the fixed point a*, where the units may be saturated"),
        (~np.all(np.linalg.eigvals(J).real < 0, axis=1),
         "the stability is flipped: a fixed point is stable when every eigenvalue of its "
         "Jacobian (3.5) has a negative real part"),
    ]


def diagnose_fixed_points(student_fn, cases, default_hint):
    """What is wrong with the student's fixed points: duplicates, only the attractors, missing
    points or the points of W_hhᵀ (on the first case that shows one of these), else the mistaken
    stability test of :func:`_stability_variants` that reproduces the student's answer on every
    case, else ``default_hint``."""
    classified = []           # (W_hh, reference points, the student's stable in reference order)
    for case in cases:
        want_points, want_stable = reference_fixed_points(**copy.deepcopy(case))
        try:
            answer = student_fn(**copy.deepcopy(case))
        except Exception:  # noqa: BLE001 - a crash is reported case by case by run_check
            return default_hint
        answer = _as_points(*answer) if isinstance(answer, (tuple, list)) and len(
            answer) == 2 else None
        if answer is None:
            return default_hint
        points, stable = answer
        found = np.array([len(points) > 0 and np.abs(points - p).max(-1).min() < 1e-4
                          for p in want_points])
        if len(points) > len(want_points) and found.all():
            return (f"you returned {len(points)} points where there are {len(want_points)} "
                    "fixed point(s): Newton's method converges to the same fixed point from "
                    "many starts, each time to within rounding; merge the points that (nearly) "
                    "coincide")
        if not found.all():
            transposed = _find_fixed_points(case["W_hh"].T, case["b_h"]).points
            if (len(points) == len(transposed) and len(points) and all(
                    np.abs(points - p).max(-1).min() < 1e-4 for p in transposed)):
                return ("these are the fixed points of −a + tanh(a) W_hhᵀ + b_h: W_hh[i, j] "
                        "is the weight from unit i to unit j (equation 3.4, as in the Elman "
                        "RNN), so in a batch of row vectors the coupling term is "
                        "tanh(a) @ W_hh")
            if found.any() and np.array_equal(found, want_stable):
                return ("you found only the attractors: a simulation of the flow ends in those, "
                        "never in a saddle or a source. Solve −a + tanh(a) W_hh + b_h = 0 "
                        "instead (Newton's method), from starts spread over the region where fixed "
                        "points can lie")
            fixed = _find_fixed_points(case["W_hh"], case["b_h"])
            missing = [_fixed_point_label(p, e) for p, e, hit in
                       zip(fixed.points, fixed.eigenvalues, found) if not hit]
            return (f"{len(missing)} of the {len(want_points)} fixed points are missing from "
                    f"your answer, e.g. {missing[0]}: start Newton's method from more points, "
                    "spread over the whole region where fixed points can lie (since "
                    "|tanh| ≤ 1, every fixed point has |a_j| ≤ Σ_i |W_hh[i, j]| + |b_j|)")
        if len(points) == len(want_points):
            order = np.abs(want_points[:, None] - points[None]).max(-1).argmin(axis=1)
            classified.append((case["W_hh"], want_points, want_stable, stable[order]))
    if any(not np.array_equal(got, want) for _, _, want, got in classified):
        variants = [_stability_variants(W_hh, points) for W_hh, points, _, _ in classified]
        for k, (_, message) in enumerate(variants[0]):
            if all(np.array_equal(got, v[k][0]) for (*_, got), v in zip(classified, variants)):
                return message
    return default_hint


@register("03-ctrnn-fixed-points", kind="implement", points=2 * len(_CTRNN_KINDS),
          summary="all fixed points of fresh two-unit CTRNNs (3.4) and their stability (3.5), "
                  "compared as sets with find_fixed_points (no coupling, self-inhibition, a "
                  "stable and an unstable focus, bistable, four and three attractors); names "
                  "duplicates, only the attractors, missing points, W_hhᵀ, wrong stability tests",
          forbidden=ROOT_FINDERS)
def check_ctrnn_fixed_points(find_fixed_points):
    """Check ``find_fixed_points(W_hh, b_h) -> (points (K, 2), stable (K,))``, in any order."""
    cases = _ctrnn_cases(fresh_rng())
    title = "Fixed points of a two-unit CTRNN"
    reason = forbidden_use(find_fixed_points, ROOT_FINDERS)
    if reason:   # refused by run_check, as every check refuses
        return run_check("03-ctrnn-fixed-points", title, find_fixed_points,
                         reference_fixed_points, cases, ["points", "stable"])
    hint = diagnose_fixed_points(
        find_fixed_points, cases,
        "a fixed point solves −a + tanh(a) W_hh + b_h = 0 (equation 3.4); find them all, each "
        "once, and decide stability from the eigenvalues of the Jacobian (3.5) at each one")

    def in_any_order(W_hh, b_h):   # the student's answer, put in the reference's order
        got = find_fixed_points(W_hh=W_hh, b_h=b_h)
        return _in_reference_order(got, reference_fixed_points(W_hh.copy(), b_h.copy())[0])

    with reference_allowed():     # the wrapper is the package's; the student's was checked above
        return run_check("03-ctrnn-fixed-points", title, in_any_order, reference_fixed_points,
                         cases, ["points", "stable"], hint=hint)


# -- 03-three-attractors ----------------------------------------------------------------------

#: The attractor experiment: a two-unit CTRNN (τ = 1, tanh) with the chosen W_hh and b_h must have
#: ``target`` attractors, found as stable fixed points and reached by simulating a grid of
#: ``resolution`` × ``resolution`` starts (at least ``reached`` of them must end in one), and
#: keep that many when every entry of W_hh and b_h moves by up to ``perturbation``, in each of
#: ``perturbed_copies`` random copies. Entries are limited to ``limit`` in absolute value.
ATTRACTORS = {"target": 3, "resolution": 40, "reached": 0.95, "perturbation": 0.05,
              "perturbed_copies": 20, "limit": 10.0}


def _as_ctrnn(choice, limit=None):
    limit = ATTRACTORS["limit"] if limit is None else limit
    if not isinstance(choice, (tuple, list)) or len(choice) != 2:
        raise TypeError(f"expected a pair (W_hh, b_h), got {type(choice).__name__}")
    W_hh, b_h, _ = _check_ctrnn_params(to_numpy(choice[0]), to_numpy(choice[1]), 1.0)
    if W_hh.shape != (2, 2):
        raise ValueError(f"W_hh: expected a (2, 2) matrix for two units, got shape {W_hh.shape}")
    b_h = np.broadcast_to(b_h, (2,)).copy()
    if max(np.abs(W_hh).max(), np.abs(b_h).max()) > limit:
        raise ValueError(f"keep every entry of W_hh and b_h within ±{limit:g}")
    return W_hh, b_h


def count_attractors(W_hh, b_h):
    """The number of stable fixed points of the two-unit CTRNN (W_hh, b_h), τ = 1 and tanh."""
    return int(_find_fixed_points(W_hh, b_h).stable.sum())


def _measure_attractors(choice, rng=None):
    W_hh, b_h = _as_ctrnn(choice)
    rng = fresh_rng() if rng is None else rng
    target = ATTRACTORS["target"]
    fixed = _find_fixed_points(W_hh, b_h)
    n = int(fixed.stable.sum())
    score = int(n == target)
    kinds = f"{len(fixed.points)} fixed point(s), {n} of them stable"
    lines = [f"W_hh = {W_hh.tolist()}, b_h = {b_h.tolist()}: {kinds}: "
             + ("right" if n == target else f"needs {target} attractors")]
    bound = float(np.max(np.abs(W_hh).sum(axis=0) + np.abs(b_h))) + 1.0
    _, _, labels, _ = _basins_of_attraction(W_hh, b_h, xlim=(-bound, bound),
                                            ylim=(-bound, bound),
                                            resolution=ATTRACTORS["resolution"])
    reached = sorted(set(labels[labels >= 0].ravel().tolist()))
    share = float(np.mean(labels >= 0))
    simulated = len(reached) == target and share >= ATTRACTORS["reached"]
    score += simulated
    lines.append(f"simulated from {labels.size} starts: {share:.0%} end in an attractor, "
                 f"{len(reached)} different one(s) reached: "
                 + ("right" if simulated else f"needs {target} reached from almost every start"))
    counts = []
    for _ in range(ATTRACTORS["perturbed_copies"]):
        d = ATTRACTORS["perturbation"]
        counts.append(count_attractors(W_hh + rng.uniform(-d, d, (2, 2)),
                                       b_h + rng.uniform(-d, d, 2)))
    robust = n == target and all(c == target for c in counts)
    score += robust
    lines.append(f"with every entry of W_hh and b_h moved by up to ±{ATTRACTORS['perturbation']:g}: "
                 f"{counts} attractors in {len(counts)} random copies: "
                 + ("robust" if robust else "not robust: move away from the bifurcation"
                    if n == target else f"needs {target} in every copy"))
    if score < 3:
        lines.append("hint: with b_h = 0 the flow is symmetric under a → −a, so attractors "
                     "come in pairs, plus perhaps the origin; what does a constant input do to "
                     "that symmetry? Explore with the sliders and count with "
                     "count_attractors(W_hh, b_h)")
    return score, lines


@register("03-three-attractors", kind="experiment", points=3,
          summary="the chosen two-unit CTRNN (W_hh, b_h): a point for exactly 3 stable fixed "
                  "points, one if a 40 × 40 grid of simulated starts reaches exactly 3 attractors "
                  "(95% of starts end in one), one if 20 random copies with W_hh and b_h moved by "
                  "±0.05 keep 3")
def check_three_attractors(choose_ctrnn):
    """Check ``choose_ctrnn() -> (W_hh (2, 2), b_h (2,))``."""
    return check_experiment("03-three-attractors", "A network with three attractors",
                            choose_ctrnn, _measure_attractors, max_score=3)


# -- 03-oscillator ----------------------------------------------------------------------------

#: The oscillator experiment: a two-unit CTRNN (τ = 1, tanh) with the chosen W_hh and b_h is
#: simulated (RK4, step ``dt``) from ``starts`` random starts in [−3, 3]²; after ``transient``
#: time units, the range of each unit over two windows of ``window`` time units is its amplitude.
#: A start oscillates when both units' amplitudes in the last window reach ``min_amplitude`` and
#: shrank by less than ``max_shrink`` (relative) since the window before. The largest Lyapunov
#: exponent (3.8), from 4 of the starts, must lie within ±``max_exponent`` of 0. The same must
#: hold for ``perturbed_copies`` random copies with every entry moved by up to ``perturbation``.
OSCILLATOR = {"starts": 12, "dt": 0.05, "transient": 40.0, "window": 40.0, "min_amplitude": 0.5,
              "max_shrink": 0.05, "max_exponent": 0.02, "perturbation": 0.05,
              "perturbed_copies": 10, "limit": 10.0}


def oscillation(W_hh, b_h, starts):
    """The check's measurement: for each of the networks ``W_hh`` (N, 2, 2), ``b_h`` (N, 2) and
    each of the ``starts`` (S, 2), the amplitude (max − min) of each unit over the last window
    and over the window before it (:data:`OSCILLATOR`). Returns two arrays (N, S, 2)."""
    W_hh, b_h = np.asarray(W_hh, float), np.asarray(b_h, float)[:, None, :]
    dt, window = OSCILLATOR["dt"], int(OSCILLATOR["window"] / OSCILLATOR["dt"])
    steps = int(OSCILLATOR["transient"] / dt) + 2 * window
    a0 = np.broadcast_to(np.asarray(starts, float), (len(W_hh), len(starts), 2))
    path = np.stack(_integrate_ode(lambda a: -a + np.tanh(a) @ W_hh + b_h, a0, dt, steps))
    earlier, last = path[-2 * window:-window], path[-window:]
    return (last.max(0) - last.min(0)), (earlier.max(0) - earlier.min(0))


def _oscillates(last, earlier):
    """(N, S) bool: both units swing by at least min_amplitude, and no less than before."""
    steady = last >= (1 - OSCILLATOR["max_shrink"]) * earlier
    return np.all((last >= OSCILLATOR["min_amplitude"]) & steady, axis=-1)


def _measure_oscillator(choice, rng=None):
    limit = OSCILLATOR["limit"]
    W_hh, b_h = _as_ctrnn(choice, limit)
    rng = fresh_rng() if rng is None else rng
    starts = rng.uniform(-3, 3, size=(OSCILLATOR["starts"], 2))
    d, copies = OSCILLATOR["perturbation"], OSCILLATOR["perturbed_copies"]
    Ws = np.concatenate([W_hh[None], W_hh + rng.uniform(-d, d, (copies, 2, 2))])
    bs = np.concatenate([b_h[None], b_h + rng.uniform(-d, d, (copies, 2))])
    last, earlier = oscillation(Ws, bs, starts)
    swings = _oscillates(last, earlier)
    lines = [f"W_hh = {W_hh.tolist()}, b_h = {b_h.tolist()}"]
    score = int(swings[0].all())
    if swings[0].all():
        lines.append(f"from all {len(starts)} random starts the state ends on an oscillation of "
                     f"steady amplitude (unit 1 swings by {last[0, :, 0].min():.2f} or more, "
                     f"unit 2 by {last[0, :, 1].min():.2f} or more): right")
    else:
        settled = int(np.sum(np.all(last[0] < OSCILLATOR["min_amplitude"], axis=-1)))
        shrinking = int(np.sum(~swings[0])) - settled
        lines.append(f"{int(swings[0].sum())} of {len(starts)} starts end on a steady "
                     f"oscillation; {settled} settle (a stable fixed point catches them) and "
                     f"{shrinking} swing with an amplitude that still shrinks (a slowly damped "
                     f"spiral into a stable focus is not a limit cycle)")
    exponent = _ctrnn_lyapunov_exponent(starts[:4], W_hh, b_h, steps=2000, transient=600,
                                        rng=rng).exponent
    near_zero = bool(np.all(np.abs(exponent) <= OSCILLATOR["max_exponent"]))
    score += near_zero
    lines.append(f"largest Lyapunov exponent (3.8) from 4 of the starts: "
                 f"{', '.join(f'{e:+.3f}' for e in exponent)}: "
                 + ("about 0, a limit cycle" if near_zero
                    else f"needs to be within ±{OSCILLATOR['max_exponent']:g} of 0"))
    robust = bool(swings.all())
    score += robust
    lines.append(f"with every entry of W_hh and b_h moved by up to ±{d:g}: "
                 f"{int(swings[1:].all(axis=1).sum())} of {copies} random copies oscillate from "
                 f"every start: " + ("robust" if robust else "not robust: move away from the "
                                     "bifurcation where the oscillation is born"))
    if score < 3:
        lines.append("hint: a two-unit flow cannot be chaotic, and a bounded trajectory that "
                     "meets no stable fixed point must end on a closed orbit; what must the "
                     "eigenvalues (3.5) of the only fixed point look like for the state to spiral "
                     "away from it?")
    return score, lines


@register("03-oscillator", kind="experiment", points=3,
          summary="the chosen two-unit CTRNN (W_hh, b_h): a point if all 12 random starts end on "
                  "an oscillation of steady amplitude (≥ 0.5 in both units), one if the largest "
                  "Lyapunov exponent (3.8) is within ±0.02 of 0, one if 10 random copies with "
                  "W_hh and b_h moved by ±0.05 oscillate too")
def check_oscillator(choose_oscillator):
    """Check ``choose_oscillator() -> (W_hh (2, 2), b_h (2,))``."""
    return check_experiment("03-oscillator", "A two-unit oscillator", choose_oscillator,
                            _measure_oscillator, max_score=3)


# -- 03-rnn-dynamics --------------------------------------------------------------------------

#: The concept exercise's numbers: a chaotic network with λ₁ = ``exponent`` per unit of time, and
#: two states ``start`` apart.
DYNAMICS = {"exponent": 0.5, "start": 1e-6}


def _dynamics_questions():
    growth = math.log(1 / DYNAMICS["start"]) / DYNAMICS["exponent"]
    return [
        {"key": "min_units_cycle", "answer": 2,
         "explain": {1: "the state of one unit moves on a line: it can only run up or down until "
                        "it stops, never turn back, so it cannot oscillate",
                     3: "fewer suffice: two units that excite themselves and rotate into each "
                        "other can already circle"},
         "hint": "can the state of a single unit come back to where it was?"},
        {"key": "min_units_chaos", "answer": 3,
         "explain": {2: "in the plane a bounded trajectory ends at a fixed point or on a closed "
                        "orbit (the Poincaré–Bendixson theorem): no chaos with two units",
                     1: "one unit can only settle; two can circle; chaos needs more room"},
         "hint": "what does the Poincaré–Bendixson theorem allow in two dimensions?"},
        {"key": "exponent_signs", "answer": (-1, 0, 1),
         "explain": {(0, 0, 1): "near a stable fixed point every perturbation dies out: λ₁ < 0",
                     (-1, 1, 1): "on a limit cycle a push along the orbit neither grows nor "
                                 "shrinks (it only shifts the phase): λ₁ = 0",
                     (-1, -1, 1): "on a limit cycle a push along the orbit persists: λ₁ = 0, "
                                  "not below"},
         "hint": "(sign at a stable fixed point, on a limit cycle, on a chaotic attractor), each "
                 "−1, 0 or 1: what happens to a small perturbation in each case?"},
        {"key": "error_growth_time", "answer": growth, "tolerance": 0.02,
         "explain": {math.log10(1 / DYNAMICS["start"]) / DYNAMICS["exponent"]:
                     "that uses log base 10; the exponent is defined with the natural log (3.8)",
                     DYNAMICS["start"] * math.exp(DYNAMICS["exponent"]):
                     "that is the error after one unit of time, not the time it takes to reach 1"},
         "hint": f"a small error grows like e^(λ₁ t); solve {DYNAMICS['start']:g} e^(λ₁ t) = 1 "
                 f"for t with λ₁ = {DYNAMICS['exponent']:g}"},
        {"key": "uat_gives_width", "answer": False,
         "explain": {True: "the theorem says that some width H reaches a given accuracy; it does "
                           "not say how large H must be"},
         "hint": "reread what the theorem promises and what it leaves open"},
        {"key": "turing_weights", "answer": "rational",
         "explain": {"float64": "a float64 state holds 53 bits: a network of them has finitely "
                                "many states, a finite-state machine, as the stack demonstration "
                                "shows when it fails",
                     "float32": "a float32 state holds 24 bits: finitely many states, a "
                                "finite-state machine",
                     "integer": "with integer weights and saturated-linear units the states stay "
                                "in a finite set: a finite-state machine"},
         "hint": "one of 'integer', 'rational', 'float32', 'float64': which numbers does the "
                 "construction need to keep an unbounded stack in one unit's state?"},
    ]


@register("03-rnn-dynamics", kind="concept", points=6,
          summary="the fewest CTRNN units for a limit cycle and for chaos, the sign of the "
                  "largest Lyapunov exponent in each regime, how long an error of 1e-6 takes to "
                  "grow to 1 at λ₁ = 0.5, whether the approximation theorem gives the width, and "
                  "which weights Turing completeness needs")
def check_rnn_dynamics(answers):
    """Check ``answers() -> dict`` of the six answers."""
    return check_concept("03-rnn-dynamics", "What RNNs compute and how they move", answers,
                         _dynamics_questions())


__all__ = ["ATTRACTORS", "AUTOGRAD", "FORGETTING", "OSCILLATOR", "RNN_FORBIDDEN", "ROOT_FINDERS",
           "SIZES", "check_ctrnn_fixed_points", "check_forgetting", "check_oscillator",
           "check_rnn_dynamics", "check_rnn_forward", "check_rnn_jacobian", "check_rnn_outputs",
           "check_rnn_shapes", "check_rnn_step", "check_three_attractors", "count_attractors",
           "diagnose_fixed_points", "oscillation",
           "forgetting_ratio", "numerical_rnn_jacobian", "reference_fixed_points",
           "reference_rnn_forward", "reference_rnn_jacobian", "reference_rnn_outputs",
           "reference_rnn_step"]
