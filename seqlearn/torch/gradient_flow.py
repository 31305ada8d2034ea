"""The measurements of ``seqlearn.numpy.gradient_flow``, made by autograd on an ``ElmanRNN`` (the
sensitivity to the first input on any torch recurrent module).

The NumPy module writes the Jacobians down (J_t = diag(f'(a_t)) W_hhᵀ) and multiplies them; here
nobody writes a derivative: autograd (``torch.autograd.functional.jacobian``, or plain backward
passes in :func:`input_jacobians`) differentiates the recurrence
h_t = f(x_t W_xh + h_{t-1} W_hh + b_h) itself. The two agree to float64 rounding (a test checks
it), which validates the formula.

Every function takes ``(x, h0, model)``: the inputs x (B, T, D), the initial state h0 ((B, H) or
``None`` for zeros) and a one-layer ``seqlearn.torch.rnn.ElmanRNN``, whose nonlinearity it uses;
:func:`input_jacobians`, :func:`input_sensitivity` and :func:`first_input_effect` also take an
LSTM, a GRU or a stack of layers.

Shapes follow the NumPy module: Jacobians are (B, T, H, H), products (B, T + 1, H, H) with index
t holding ∂h_T/∂h_t, input sensitivities (B, T, H, D) with index t-1 holding ∂h_t/∂x_1.
"""

import torch
from torch.autograd.functional import jacobian

from ..validate import check_tensor, describe
from .recurrent import RecurrentModule
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
    """∂h_t/∂x_1 for t = 1 .. T by autograd: (B, T, H, D), index t-1 holding ∂h_t/∂x_1.

    x : (B, T, D); h0 : the initial state as ``model`` takes it (an ``ElmanRNN``'s h0 (B, H) or
    (num_layers, B, H), an ``LSTM``'s pair (h0, c0)), or ``None`` for zeros; model : any
    ``seqlearn.torch`` recurrent module (``ElmanRNN``, ``LSTM``, ``GRU``, ``MUT``, one layer or
    several), unlike the other functions here, which take a one-layer ``ElmanRNN``. h_t is the
    model's output at step t (the top layer's state; an LSTM's h_t = o_t ⊙ tanh(c_t)).

    Reverse mode gives one row of a Jacobian per backward pass. To get the H rows of ∂h_t/∂x_1
    from one pass, the batch is run as H copies, and copy i sends back the unit vector e_i from
    h_t; one such pass over x_1 .. x_t for every t. The sequences of a batch do not interact, so
    the gradient with respect to the first input of copy i is row i of every sequence's
    Jacobian. Cost: T forward and backward passes on a batch of H·B sequences.
    """
    if not isinstance(model, RecurrentModule):
        raise TypeError(f"model: expected a seqlearn.torch recurrent module (ElmanRNN, LSTM, "
                        f"GRU, MUT), got {describe(model)}")
    state = model.check_inputs(x, h0)  # validates x and h0 as the forward pass does
    x = x.detach()
    B, T, _ = x.shape
    H = model.hidden_size
    # H copies of the batch, copy-major: sequence b of copy i is row i * B + b.
    copies = (tuple(s.detach().repeat(1, H, 1) for s in state) if isinstance(state, tuple)
              else state.detach().repeat(1, H, 1))
    rows = []
    for t in range(1, T + 1):
        xs = x[:, :t].repeat(H, 1, 1).requires_grad_(True)
        h_t = model(xs, copies)[0][:, t - 1].reshape(H, B, H)
        # Σ_b Σ_i h_t[copy i, b, unit i]: copy i sends back e_i
        (grad,) = torch.autograd.grad(torch.diagonal(h_t, dim1=0, dim2=2).sum(), xs)
        rows.append(grad[:, 0].reshape(H, B, -1).transpose(0, 1))
    return torch.stack(rows, dim=1)


def input_sensitivity(x, h0, model):
    """‖∂h_t/∂x_1‖ for t = 1 .. T, the Frobenius norm of each (H, D) block of
    :func:`input_jacobians`: (B, T). ``model`` may be any ``seqlearn.torch`` recurrent module,
    so an LSTM's h_t can be set beside an Elman RNN's."""
    return torch.linalg.matrix_norm(input_jacobians(x, h0, model))


def first_input_effect(x, h0, model):
    """‖h_t(x) − h_t(x̃)‖ for t = 1 .. T, x̃ being x with its first input negated: (B, T).
    ``model`` may be any ``seqlearn.torch`` recurrent module; h0 as in :func:`input_jacobians`.
    See ``seqlearn.numpy.gradient_flow.first_input_effect``."""
    if not isinstance(model, RecurrentModule):
        raise TypeError(f"model: expected a seqlearn.torch recurrent module (ElmanRNN, LSTM, "
                        f"GRU, MUT), got {describe(model)}")
    model.check_inputs(x, h0)
    flipped = x.detach().clone()
    flipped[:, 0] = -flipped[:, 0]
    with torch.no_grad():
        return torch.linalg.vector_norm(model(x.detach(), h0)[0] - model(flipped, h0)[0], dim=2)


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


__all__ = ["backward_jacobian_products", "first_input_effect", "gradient_norms_through_time",
           "input_jacobians", "input_sensitivity", "loss_input_sensitivity", "state_jacobians"]
