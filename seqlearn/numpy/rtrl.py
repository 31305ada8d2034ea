"""Real-time recurrent learning (Williams & Zipser, 1989): the RNN's gradient computed forwards.

Instead of storing the states and running backwards (BPTT), RTRL carries the *sensitivities*
P_t = ∂h_t/∂θ of the current state to every parameter along with the state. Differentiating
h_t = tanh(a_t), a_t = x_t W_xh + h_{t-1} W_hh + b_h gives the forward recursion::

    P_t = diag(1 − h_t²) ( ∂a_t/∂θ|_immediate + W_hhᵀ P_{t-1} ),      P_0 = 0

where the immediate term holds the explicit dependence of a_t on θ (with h_{t-1} fixed):
∂a_{t,j}/∂W_hh[i,k] = δ_jk h_{t-1,i}, ∂a_{t,j}/∂W_xh[d,k] = δ_jk x_{t,d}, ∂a_{t,j}/∂b_h[k] = δ_jk.
Whenever the loss of step t arrives, its gradient is added at once:
∂L/∂θ += (∂ℓ_t/∂h_t) P_t for L = Σ_t ℓ_t (for the mean over the steps, (1/T) ∂ℓ_t/∂h_t), so
learning can happen online, without waiting for the sequence to end.

P_t has H × (DH + H² + H) entries per sequence (O(H³) memory when D ≤ H) and the product
W_hhᵀ P_{t-1} costs O(H⁴) per step, against O(H²) per step for BPTT.
"""

import numpy as np

from ..validate import as_float_array, check_positive_int, describe
from .common import check_step_shapes, initial_state
from .rnn import check_rnn_params


def _shapes(D, H):
    """The parameters' shapes, in the order in which P flattens them."""
    return {"W_xh": (D, H), "W_hh": (H, H), "b_h": (H,)}


def init_sensitivities(batch_size, input_size, hidden_size):
    """P_0 = ∂h_0/∂θ = 0: an array (B, H, n) with n = D·H + H·H + H, the parameters flattened in
    the order ``W_xh``, ``W_hh``, ``b_h``."""
    batch_size = check_positive_int("batch_size", batch_size)
    input_size = check_positive_int("input_size", input_size)
    hidden_size = check_positive_int("hidden_size", hidden_size)
    n = sum(int(np.prod(shape)) for shape in _shapes(input_size, hidden_size).values())
    return np.zeros((batch_size, hidden_size, n))


def split_sensitivities(P, input_size, hidden_size):
    """Views of P (B, H, n) per parameter: ``W_xh`` (B, H, D, H), ``W_hh`` (B, H, H, H),
    ``b_h`` (B, H, H); entry [b, j, ...] is ∂h_{b,j}/∂(that parameter entry).

    Any leading shape works: a flat gradient (n,) splits into arrays shaped like the parameters.
    """
    input_size = check_positive_int("input_size", input_size)
    hidden_size = check_positive_int("hidden_size", hidden_size)
    n = sum(int(np.prod(shape)) for shape in _shapes(input_size, hidden_size).values())
    if not isinstance(P, np.ndarray) or P.ndim == 0 or P.shape[-1] != n:
        raise ValueError(f"P: expected an array whose last axis has n = D·H + H·H + H = {n} "
                         f"entries, got {describe(P)}")
    out, start = {}, 0
    for name, shape in _shapes(input_size, hidden_size).items():
        size = int(np.prod(shape))
        out[name] = P[..., start:start + size].reshape(P.shape[:-1] + shape)
        start += size
    return out


def rtrl_step(x_t, h_prev, P_prev, params):
    """One step of the RNN and of its sensitivities.

    Parameters
    ----------
    x_t : (B, D) input, h_prev : (B, H) previous state
    P_prev : (B, H, n) sensitivities ∂h_{t-1}/∂θ (see :func:`init_sensitivities`)
    params : ``W_xh`` (D, H), ``W_hh`` (H, H), ``b_h`` (H,)

    Returns ``h_t`` (B, H) and ``P_t`` (B, H, n), with
    P_t = diag(1 − h_t²) (immediate_t + W_hhᵀ P_{t-1}).
    """
    W_xh, W_hh, b_h = params["W_xh"], params["W_hh"], params["b_h"]
    D, H = W_xh.shape
    check_step_shapes(x_t, D, H, h_prev=h_prev)     # shapes only, as rnn_step
    if getattr(P_prev, "shape", None) != (x_t.shape[0], H, D * H + H * H + H):
        raise ValueError(f"P_prev: expected shape ({x_t.shape[0]}, {H}, {D * H + H * H + H}), "
                         f"got {describe(P_prev)}")
    h_t = np.tanh(x_t @ W_xh + h_prev @ W_hh + b_h)
    # (H, H) @ (B, H, n): every sensitivity goes through the recurrent weights, the O(H⁴) part.
    P = W_hh.T @ P_prev
    blocks = split_sensitivities(P, D, H)
    diagonal = np.arange(H)
    # Immediate terms sit on the diagonal j == k; indexing [:, j, :, j] yields shape (H, B, ·).
    blocks["W_xh"][:, diagonal, :, diagonal] += x_t[None]
    blocks["W_hh"][:, diagonal, :, diagonal] += h_prev[None]
    blocks["b_h"][:, diagonal, diagonal] += 1.0
    P *= (1.0 - h_t**2)[:, :, None]
    return h_t, P


def rtrl_gradients(x, h0, params, dh):
    """The gradient of an RNN's loss by real-time recurrent learning:
    ∂L/∂θ = Σ_t dh_t P_t, with P_t from :func:`rtrl_step` and dh_t the gradient that L sends to h_t
    through step t's own output (∂ℓ_t/∂h_t for L = Σ_t ℓ_t).

    Parameters
    ----------
    x : (B, T, D) inputs; h0 : (B, H) initial state or ``None`` for zeros
    params : ``W_xh`` (D, H), ``W_hh`` (H, H), ``b_h`` (H,)
    dh : either an array (B, T, H) holding ∂ℓ_t/∂h_t, the gradient of each step's loss with
        respect to that step's state (the ``dh`` that :func:`~seqlearn.numpy.rnn.rnn_backward`
        takes), or a function ``dh(t, h_t) -> (B, H)`` called as soon as h_t is known (the online
        form: the output layer's gradient at step t).

    Returns ``grads`` (dict like ``params``) — equal to BPTT's — and the states ``h`` (B, T, H).
    """
    params = check_rnn_params(params)
    D, H = params["W_xh"].shape
    x = as_float_array("x", x, shape=(None, None, D))
    B, T, _ = x.shape
    h_t = initial_state("h0", h0, B, H, np.float64)
    if callable(dh):
        dh_at = dh
    else:
        dh_array = as_float_array("dh", dh, shape=(B, T, H))
        dh_at = lambda t, _h: dh_array[:, t]  # noqa: E731
    P = init_sensitivities(B, D, H)
    flat_grad = np.zeros(P.shape[-1])
    h = np.empty((B, T, H))
    for t in range(T):
        h_t, P = rtrl_step(x[:, t], h_t, P, params)
        h[:, t] = h_t
        dh_t = as_float_array(f"dh at step {t}", dh_at(t, h_t), shape=(B, H))
        flat_grad += np.einsum("bj,bjn->n", dh_t, P)
    return split_sensitivities(flat_grad, D, H), h


__all__ = ["init_sensitivities", "rtrl_gradients", "rtrl_step", "split_sensitivities"]
