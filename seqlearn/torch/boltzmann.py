"""Boltzmann machines and RBMs in ``torch``, mirroring ``seqlearn.numpy.boltzmann`` (0/1 units).

* :func:`boltzmann_energy` (9.9), :func:`boltzmann_log_partition` and
  :func:`boltzmann_probabilities` (9.10, exact, n ≤ 20), :func:`boltzmann_moments`,
  :func:`boltzmann_gibbs` (9.11);
* :class:`RBM` — a restricted Boltzmann machine whose ``forward(v)`` is the free energy F(v)
  (9.14); ``cd_loss(v, k)`` is a loss whose autograd gradient is the CD-k estimate (9.15),
  ``mean F(v) − mean F(v_k)`` with the negative samples v_k held fixed.
"""

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..numpy.boltzmann import MAX_EXACT_UNITS, RBM_PARAM_NAMES
from ..numpy.common import check_param_dict
from ..validate import check_device, check_positive_int, check_tensor, describe
from .common import as_torch_generator, check_like_parameters, copy_numpy_params


def _check_units(name, x, n):
    check_tensor(name, x)
    if x.dim() == 1:
        x = x[None]
    if x.dim() != 2 or x.shape[1] != n:
        raise ValueError(f"{name}: expected shape (B, {n}) ({n} units), got {describe(x)}")
    if not bool(((x == 0) | (x == 1)).all()):
        raise ValueError(f"{name}: expected binary units with values 0 or 1")
    return x


def _check_machine(J, b):
    check_tensor("J", J, ndim=2)
    n = J.shape[0]
    if tuple(J.shape) != (n, n) or not torch.allclose(J, J.T):
        raise ValueError(f"J: expected a symmetric (n, n) matrix, got {describe(J)}")
    if bool((torch.diagonal(J) != 0).any()):
        raise ValueError("J: expected a zero diagonal (no unit is coupled to itself)")
    check_tensor("b", b, ndim=1, last_dim=n)
    check_like_parameters("b", b, J)
    return J, b


def all_states(n, dtype=None, device=None):
    """Every binary vector of n units, (2^n, n), in counting order (n ≤ 20)."""
    device = check_device("device", device)
    n = check_positive_int("n", n)
    if n > MAX_EXACT_UNITS:
        raise ValueError(f"n: expected at most {MAX_EXACT_UNITS} units (2^n states are "
                         f"enumerated), got {n}")
    k = torch.arange(2**n, device=device)
    bits = torch.arange(n - 1, -1, -1, device=device)
    return ((k[:, None] >> bits) & 1).to(dtype or torch.get_default_dtype())


def boltzmann_energy(x, J, b):
    """E(x) = −½ x J xᵀ − x bᵀ (9.9) for ``x`` (B, n) of 0/1 units. Returns (B,)."""
    J, b = _check_machine(J, b)
    x = _check_units("x", x, len(b))
    return -0.5 * ((x @ J) * x).sum(-1) - x @ b


def boltzmann_log_partition(J, b):
    """log Z (9.10), exactly, over all 2^n states (a 0-d tensor; differentiable in J and b)."""
    J, b = _check_machine(J, b)
    X = all_states(len(b), dtype=J.dtype, device=J.device)
    return torch.logsumexp(-boltzmann_energy(X, J, b), dim=0)


def boltzmann_probabilities(J, b):
    """p(x) (9.10) of every state of :func:`all_states` (2^n,), exactly."""
    J, b = _check_machine(J, b)
    minus_H = -boltzmann_energy(all_states(len(b), dtype=J.dtype, device=J.device), J, b)
    return torch.softmax(minus_H, dim=0)


def boltzmann_moments(J, b):
    """The exact means ⟨x_i⟩ (n,) and pair moments ⟨x_i x_j⟩ (n, n) of p(x)."""
    p = boltzmann_probabilities(J, b)
    X = all_states(len(b), dtype=J.dtype, device=J.device)
    return p @ X, (X * p[:, None]).T @ X


def boltzmann_gibbs(x0, J, b, n_sweeps, generator=None):
    """``n_sweeps`` Gibbs sweeps over the units in order (9.11), for the chains ``x0`` (B, n).
    Returns the states after each sweep, (n_sweeps, B, n)."""
    J, b = _check_machine(J, b)
    x = _check_units("x0", x0, len(b)).clone()
    n_sweeps = check_positive_int("n_sweeps", n_sweeps)
    generator = as_torch_generator(generator)
    out = []
    for _ in range(n_sweeps):
        u = torch.rand(x.shape, generator=generator, dtype=x.dtype).to(x.device)
        for i in range(len(b)):
            x[:, i] = (u[:, i] < torch.sigmoid(x @ J[:, i] + b[i])).to(x.dtype)
        out.append(x.clone())
    return torch.stack(out)


class RBM(nn.Module):
    """A restricted Boltzmann machine with D visible and H hidden 0/1 units, parameters ``W``
    (D, H) ~ N(0, 0.01²), ``b_v`` (D,) and ``b_h`` (H,) zeros (the NumPy reference's names).

    ``forward(v)`` returns the free energy F(v) (9.14), (B,); ``cd_loss(v, k)`` the CD-k loss
    (9.15); ``hidden_probs``, ``visible_probs`` and ``gibbs_step`` are the conditionals (9.13)
    and one block Gibbs step; ``log_partition()`` is exact for a small layer.
    """

    def __init__(self, visible_size, hidden_size, dtype=None, device=None):
        device = check_device("device", device)
        super().__init__()
        D = check_positive_int("visible_size", visible_size)
        H = check_positive_int("hidden_size", hidden_size)
        factory = {"dtype": dtype, "device": device}
        self.W = nn.Parameter(0.01 * torch.randn((D, H), **factory))
        self.b_v = nn.Parameter(torch.zeros(D, **factory))
        self.b_h = nn.Parameter(torch.zeros(H, **factory))

    def extra_repr(self):
        return f"visible_size={self.W.shape[0]}, hidden_size={self.W.shape[1]}"

    def _visible(self, v):
        check_tensor("v", v, ndim=2, last_dim=self.W.shape[0])
        check_like_parameters("v", v, self.W)
        return v

    def forward(self, v):
        """F(v) = −v b_vᵀ − Σ_j softplus(v W_{:,j} + b_h,j), (B,), for ``v`` (B, D)."""
        v = self._visible(v)
        return -(v @ self.b_v) - F.softplus(v @ self.W + self.b_h).sum(-1)

    def hidden_probs(self, v):
        """P(h = 1 | v) = σ(v W + b_h), (B, H)."""
        return torch.sigmoid(self._visible(v) @ self.W + self.b_h)

    def visible_probs(self, h):
        """P(v = 1 | h) = σ(h Wᵀ + b_v), (B, D)."""
        check_tensor("h", h, ndim=2, last_dim=self.W.shape[1])
        return torch.sigmoid(h @ self.W.T + self.b_v)

    def gibbs_step(self, v, generator=None):
        """One block Gibbs step v → h → v'. Returns ``(h, v_new, v_prob)``."""
        p_h = self.hidden_probs(v)
        h = (torch.rand(p_h.shape, generator=generator, dtype=p_h.dtype).to(p_h.device)
             < p_h).to(p_h.dtype)
        p_v = self.visible_probs(h)
        v_new = (torch.rand(p_v.shape, generator=generator, dtype=p_v.dtype).to(p_v.device)
                 < p_v).to(p_v.dtype)
        return h, v_new, p_v

    def cd_loss(self, v, k=1, generator=None):
        """mean F(v) − mean F(v_k), v_k after ``k`` Gibbs steps from ``v`` (no gradient through
        the sampling): its gradient is the CD-k estimate (9.15)."""
        k = check_positive_int("k", k)
        with torch.no_grad():
            v_k = v
            for _ in range(k):
                _, v_k, _ = self.gibbs_step(v_k, generator)
        return self(v).mean() - self(v_k).mean()

    def log_partition(self):
        """log Z, exactly, summing over the states of the smaller layer (at most 20 units)."""
        D, H = self.W.shape
        if min(D, H) > MAX_EXACT_UNITS:
            raise ValueError(f"both layers have more than {MAX_EXACT_UNITS} units (D = {D}, "
                             f"H = {H})")
        if D <= H:
            return torch.logsumexp(-self(all_states(D, self.W.dtype, self.W.device)), dim=0)
        h = all_states(H, self.W.dtype, self.W.device)
        return torch.logsumexp(h @ self.b_h + F.softplus(h @ self.W.T + self.b_v).sum(-1), dim=0)

    @classmethod
    def from_numpy(cls, params, dtype=torch.float64, device=None):
        """From ``{"W": (D, H), "b_v": (D,), "b_h": (H,)}`` (``init_rbm_params``)."""
        device = check_device("device", device)
        check_param_dict(params, RBM_PARAM_NAMES)
        D, H = np.shape(params["W"])
        model = cls(D, H, dtype=dtype, device=device)
        return copy_numpy_params(model, params, {"W": (D, H), "b_v": (D,), "b_h": (H,)})

    def to_numpy(self):
        """The parameters as a dict of NumPy arrays."""
        return {name: getattr(self, name).detach().cpu().numpy().copy()
                for name in RBM_PARAM_NAMES}


__all__ = ["MAX_EXACT_UNITS", "RBM", "RBM_PARAM_NAMES", "all_states", "boltzmann_energy",
           "boltzmann_gibbs", "boltzmann_log_partition", "boltzmann_moments",
           "boltzmann_probabilities"]
