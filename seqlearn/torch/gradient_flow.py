"""The measurements of ``seqlearn.numpy.gradient_flow``, made by autograd on an ``ElmanRNN``.

The NumPy module writes the Jacobians down (J_t = diag(f'(a_t)) W_hhᵀ) and multiplies them; here
nobody writes a derivative: ``torch.autograd.functional.jacobian`` differentiates the recurrence
h_t = f(x_t W_xh + h_{t-1} W_hh + b_h) itself. The two agree to float64 rounding (a test checks
it), which validates the formula.

Every function takes ``(x, h0, model)``: the inputs x (B, T, D), the initial state h0 ((B, H) or
``None`` for zeros) and a one-layer ``seqlearn.torch.rnn.ElmanRNN``, whose nonlinearity it uses.
Shapes follow the NumPy module: Jacobians are (B, T, H, H), products (B, T + 1, H, H) with index
t holding ∂h_T/∂h_t, input sensitivities (B, T, H, D) with index t-1 holding ∂h_t/∂x_1.
"""

import torch
from torch.autograd.functional import jacobian

from ..validate import check_tensor
from .rnn import NONLINEARITIES, ElmanRNN


def _recurrence(x, h0, model):
    """Check the arguments; return ``run(h, x_steps)``, which applies the model's recurrence from
    the state h (B, H) over the inputs x_steps (B, k, D), and the detached x and h0."""
    if not isinstance(model, ElmanRNN) or model.num_layers != 1:
        raise TypeError(f"model: expected a one-layer seqlearn.torch.rnn.ElmanRNN, got {model!r}")
    h0 = model.check_inputs(x, h0)[0]  # validates x and h0 as the forward pass does
    W_xh, W_hh, b_h = (p.detach() for p in (model.W_xh, model.W_hh, model.b_h))
    f = NONLINEARITIES[model.nonlinearity]

    def run(h, x_steps):
        for t in range(x_steps.shape[1]):
            h = f(x_steps[:, t] @ W_xh + h @ W_hh + b_h)
        return h

    return run, x.detach(), h0.detach()


def _states(run, x, h0):
    """[h_0, h_1, ..., h_T], each (B, H)."""
    states = [h0]
    with torch.no_grad():
        for t in range(x.shape[1]):
            states.append(run(states[-1], x[:, t:t + 1]))
    return states


def _per_sequence(fn, arg):
    """Jacobian of a batched map whose sequences do not interact: one (H, ·) block per sequence."""
    full = jacobian(fn, arg)  # (B, H, B, ...): only the diagonal blocks b == b' are non-zero
    return torch.stack([full[b, :, b] for b in range(arg.shape[0])])


def state_jacobians(x, h0, model):
    """J_t = ∂h_t/∂h_{t-1} for t = 1 .. T by autograd: (B, T, H, H)."""
    run, x, h0 = _recurrence(x, h0, model)
    states = _states(run, x, h0)
    return torch.stack([_per_sequence(lambda prev, t=t: run(prev, x[:, t:t + 1]), states[t])
                        for t in range(x.shape[1])], dim=1)


def backward_jacobian_products(x, h0, model):
    """∂h_T/∂h_t for t = 0 .. T by differentiating the whole remaining recurrence:
    (B, T + 1, H, H), index T the identity."""
    run, x, h0 = _recurrence(x, h0, model)
    states = _states(run, x, h0)
    return torch.stack([_per_sequence(lambda start, t=t: run(start, x[:, t:]), states[t])
                        for t in range(x.shape[1] + 1)], dim=1)


def gradient_norms_through_time(x, h0, model):
    """Spectral norms ‖∂h_T/∂h_t‖₂ for t = 0 .. T: (B, T + 1)."""
    return torch.linalg.matrix_norm(backward_jacobian_products(x, h0, model), ord=2)


def input_jacobians(x, h0, model):
    """∂h_t/∂x_1 for t = 1 .. T by autograd: (B, T, H, D)."""
    run, x, h0 = _recurrence(x, h0, model)

    def up_to(t):
        return lambda first: run(h0, torch.cat([first[:, None], x[:, 1:t]], dim=1))

    return torch.stack([_per_sequence(up_to(t), x[:, 0]) for t in range(1, x.shape[1] + 1)],
                       dim=1)


def loss_input_sensitivity(losses, x):
    """‖∂ℓ_t/∂x_1‖ for each per-step loss: ``losses`` (T,) scalars built from ``x`` (B, T, D)
    with ``x.requires_grad``; each ℓ_t should already be summed or averaged over the batch.
    Returns a (T,) tensor: the norm over the batch and input dimensions of the first input's
    gradient."""
    check_tensor("x", x, ndim=3)
    check_tensor("losses", losses, ndim=1)
    if not x.requires_grad:
        raise ValueError("x: must have requires_grad=True before the losses are computed")
    norms = []
    for t in range(losses.shape[0]):
        (grad,) = torch.autograd.grad(losses[t], x, retain_graph=True)
        norms.append(grad[:, 0].norm())
    return torch.stack(norms)


__all__ = ["backward_jacobian_products", "gradient_norms_through_time", "input_jacobians",
           "loss_input_sensitivity", "state_jacobians"]
