"""Checks for chapter 4 (Backpropagation through time): the output gradient of softmax with
cross-entropy, one step of the backward recursion, and gradient clipping by norm."""

import numpy as np

from ..numpy import optim
from ..numpy.softmax import softmax
from .core import fresh_rng, register, run_check


def reference_output_gradient(logits, targets):
    """∂L/∂o_t = ŷ_t − onehot(y_t) for L = −Σ_t log ŷ_{t, y_t}; logits (T, V), targets (T,)."""
    grad = softmax(logits)
    grad[np.arange(len(targets)), targets] -= 1.0
    return grad


def reference_bptt_step(dh_out, dh_next, h_t, W_hh):
    """da_t = (dh_out + dh_next) ⊙ (1 − h_t²); dh_prev = da_t W_hhᵀ. All (B, H); W_hh (H, H)."""
    da_t = (dh_out + dh_next) * (1.0 - h_t**2)
    return da_t, da_t @ W_hh.T


def reference_clip_by_norm(grad, max_norm):
    """grad · min(1, max_norm / ‖grad‖) for one array."""
    clipped, _ = optim.clip_by_norm({"grad": np.asarray(grad, dtype=float)}, max_norm)
    return clipped["grad"]


@register("04-output-gradient")
def check_output_gradient(output_gradient):
    """Check ``output_gradient(logits, targets)`` on random scores and targets."""
    rng = fresh_rng()
    cases = []
    for T, V in [(1, 3), (5, 4), (12, 10), (25, 65)]:
        cases.append({"logits": rng.normal(0, 2, size=(T, V)), "targets": rng.integers(0, V, size=T)})
    return run_check(
        "04-output-gradient", "output_gradient", output_gradient, reference_output_gradient,
        cases, ["dlogits"],
        hint="row t is softmax(logits[t]) with 1 subtracted at column targets[t]; the loss is a sum "
             "over t, so do not divide by T",
    )


@register("04-bptt-step")
def check_bptt_step(bptt_step):
    """Check ``bptt_step(dh_out, dh_next, h_t, W_hh)`` on random states and gradients."""
    rng = fresh_rng()
    cases = []
    for B, H in [(1, 2), (3, 4), (5, 8), (2, 16)]:
        cases.append({
            "dh_out": rng.normal(size=(B, H)),
            "dh_next": rng.normal(size=(B, H)),
            "h_t": np.tanh(rng.normal(size=(B, H))),
            "W_hh": rng.normal(0, 1 / np.sqrt(H), size=(H, H)),
        })
    return run_check(
        "04-bptt-step", "bptt_step", bptt_step, reference_bptt_step, cases, ["da_t", "dh_prev"],
        hint="add the two gradients reaching h_t, multiply by tanh' = 1 - h_t**2 to get da_t, "
             "then send it back through the recurrent weights: dh_prev = da_t @ W_hh.T "
             "(transposed: a_t = ... + h_prev @ W_hh)",
    )


@register("04-clip-by-norm")
def check_clip_by_norm(clip_by_norm):
    """Check ``clip_by_norm(grad, max_norm)`` on gradients both above and below the threshold."""
    rng = fresh_rng()
    cases = []
    for shape, scale, max_norm in [((5,), 10.0, 1.0), ((3, 4), 0.01, 1.0), ((8,), 3.0, 5.0),
                                   ((2, 3, 4), 1.0, 0.5)]:
        cases.append({"grad": rng.normal(0, scale, size=shape), "max_norm": max_norm})
    return run_check(
        "04-clip-by-norm", "clip_by_norm", clip_by_norm, reference_clip_by_norm, cases, ["clipped"],
        hint="compute the norm sqrt(sum(grad**2)) over all entries; if it exceeds max_norm, "
             "multiply the whole array by max_norm / norm, otherwise return it unchanged",
    )


__all__ = ["check_bptt_step", "check_clip_by_norm", "check_output_gradient", "reference_bptt_step",
           "reference_clip_by_norm", "reference_output_gradient"]
