"""The measurements of ``seqlearn.numpy.gradient_flow``, made by autograd on an ``ElmanRNN``.

The NumPy module writes the Jacobians down (J_t = diag(f'(a_t)) W_hhᵀ) and multiplies them; here
nobody writes a derivative: ``torch.autograd.functional.jacobian`` differentiates the recurrence
itself. The two agree to float64 rounding (a test checks it), which validates the formula.

Shapes follow the NumPy module: Jacobians are (B, T, H, H), products (B, T + 1, H, H) with index
t holding ∂h_T/∂h_t, input sensitivities (B, T, H, D) with index t-1 holding ∂h_t/∂x_1.
"""

import torch
from torch.autograd.functional import jacobian

from ..validate import check_tensor
from .rnn import NONLINEARITIES, ElmanRNN


def _check(model, x, h0):
    if not isinstance(model, ElmanRNN) or model.num_layers != 1:
        raise TypeError(f"model: expected a one-layer seqlearn.torch.rnn.ElmanRNN, got {model!r}")
    h0 = model._check_inputs(x, h0)[0]  # validates x and h0 as the forward pass does
    return model.W_xh.detach(), model.W_hh.detach(), model.b_h.detach(), h0.detach(), x.detach()


def _run(h, x_steps, W_xh, W_hh, b_h, f):
    """Apply the recurrence from state ``h`` over the inputs ``x_steps`` (B, k, D)."""
    for t in range(x_steps.shape[1]):
        h = f(x_steps[:, t] @ W_xh + h @ W_hh + b_h)
    return h


def _per_sequence(fn, arg):
    """Jacobian of a batched map whose sequences do not interact: one (H, ·) block per sequence."""
    full = jacobian(fn, arg)  # (B, H, B, ...): only the diagonal blocks b == b' are non-zero
    B = arg.shape[0]
    return torch.stack([full[b, :, b] for b in range(B)])


def state_jacobians(model, x, h0=None):
    """∂h_t/∂h_{t-1} for t = 1 .. T by autograd: (B, T, H, H)."""
    W_xh, W_hh, b_h, h, x = _check(model, x, h0)
    f = NONLINEARITIES[model.nonlinearity]
    blocks = []
    with torch.no_grad():
        states = [h] + list(model(x, h.unsqueeze(0))[0].detach().unbind(1))
    for t in range(x.shape[1]):
        step = lambda prev, t=t: _run(prev, x[:, t:t + 1], W_xh, W_hh, b_h, f)  # noqa: E731
        blocks.append(_per_sequence(step, states[t]))
    return torch.stack(blocks, dim=1)


def backward_jacobian_products(model, x, h0=None):
    """∂h_T/∂h_t for t = 0 .. T by differentiating the whole remaining recurrence: (B, T+1, H, H)."""
    W_xh, W_hh, b_h, h, x = _check(model, x, h0)
    f = NONLINEARITIES[model.nonlinearity]
    with torch.no_grad():
        states = [h] + list(model(x, h.unsqueeze(0))[0].detach().unbind(1))
    T = x.shape[1]
    products = []
    for t in range(T + 1):
        rest = lambda start, t=t: _run(start, x[:, t:], W_xh, W_hh, b_h, f)  # noqa: E731
        products.append(_per_sequence(rest, states[t]))
    return torch.stack(products, dim=1)


def gradient_norms_through_time(model, x, h0=None):
    """‖∂h_T/∂h_t‖₂ for t = 0 .. T: (B, T + 1)."""
    return torch.linalg.matrix_norm(backward_jacobian_products(model, x, h0), ord=2)


def input_jacobians(model, x, h0=None):
    """∂h_t/∂x_1 for t = 1 .. T by autograd: (B, T, H, D)."""
    W_xh, W_hh, b_h, h, x = _check(model, x, h0)
    f = NONLINEARITIES[model.nonlinearity]
    T = x.shape[1]
    out = []
    for t in range(1, T + 1):
        def upto(first, t=t):
            return _run(h, torch.cat([first[:, None], x[:, 1:t]], dim=1), W_xh, W_hh, b_h, f)
        out.append(_per_sequence(upto, x[:, 0]))
    return torch.stack(out, dim=1)


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


__all__ = ["state_jacobians", "backward_jacobian_products", "gradient_norms_through_time",
           "input_jacobians", "loss_input_sensitivity"]
