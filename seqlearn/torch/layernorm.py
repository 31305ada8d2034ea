"""Layer normalisation as an ``nn.Module``, mirroring ``seqlearn.numpy.layernorm``
(Ba et al., 2016)::

    μ = mean(x),   σ² = mean((x − μ)²)   over the last axis (biased variance, as torch)
    y = γ ⊙ (x − μ) / √(σ² + ε) + β

Parameters ``gamma`` (ones) and ``beta`` (zeros), both (d,).
"""

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..numpy.common import check_param_dict
from ..validate import check_device, describe, check_positive_int, check_tensor
from .common import check_like_parameters, copy_numpy_params


class LayerNorm(nn.Module):
    """Normalise each vector over its last axis of size ``d``, then scale and shift."""

    def __init__(self, d, eps=1e-5, dtype=None, device=None):
        device = check_device("device", device)
        super().__init__()
        self.d = check_positive_int("d", d)
        if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not eps > 0:
            raise ValueError(f"eps: expected a positive number, got {eps!r}")
        self.eps = float(eps)
        factory = {"dtype": dtype, "device": device}
        self.gamma = nn.Parameter(torch.ones(self.d, **factory))
        self.beta = nn.Parameter(torch.zeros(self.d, **factory))

    def extra_repr(self):
        return f"d={self.d}, eps={self.eps}"

    def forward(self, x):
        """``x`` (..., d) -> ``y`` (..., d), y = γ ⊙ (x − μ)/√(σ² + ε) + β over the last axis."""
        check_tensor("x", x, last_dim=self.d)
        check_like_parameters("x", x, self.gamma)
        # torch's layer-norm kernel computes exactly this (biased variance); the same formula
        # written with torch.var_mean is several times slower on the CPU, which would make every
        # Transformer here slow for a reason that is no part of the model.
        return F.layer_norm(x, (self.d,), self.gamma, self.beta, self.eps)

    @classmethod
    def from_numpy(cls, params, eps=1e-5, dtype=torch.float64, device=None):
        """From ``{"gamma": (d,), "beta": (d,)}`` (``seqlearn.numpy.layernorm``)."""
        device = check_device("device", device)
        check_param_dict(params, ("gamma", "beta"))
        gamma = np.asarray(params["gamma"])
        if gamma.ndim != 1:
            raise ValueError(f"params['gamma']: expected shape (d,), got {describe(gamma)}")
        model = cls(gamma.shape[0], eps=eps, dtype=dtype, device=device)
        return copy_numpy_params(model, params, {"gamma": gamma.shape, "beta": gamma.shape})

    def to_numpy(self):
        """``{"gamma", "beta"}`` as NumPy arrays."""
        return {"gamma": self.gamma.detach().cpu().numpy().copy(),
                "beta": self.beta.detach().cpu().numpy().copy()}

    def to_torch_builtin(self):
        """An ``nn.LayerNorm(d, eps)`` with ``weight = gamma`` and ``bias = beta``."""
        ln = nn.LayerNorm(self.d, eps=self.eps, dtype=self.gamma.dtype, device=self.gamma.device)
        with torch.no_grad():
            ln.weight.copy_(self.gamma)
            ln.bias.copy_(self.beta)
        return ln

    @classmethod
    def from_torch_builtin(cls, module):
        """Copy an ``nn.LayerNorm`` over one axis (no affine part: γ = 1, β = 0)."""
        if not isinstance(module, nn.LayerNorm):
            raise TypeError(f"module: expected a torch.nn.LayerNorm, got "
                            f"{type(module).__name__}")
        if len(module.normalized_shape) != 1:
            raise ValueError(f"module: normalises over {tuple(module.normalized_shape)}; only "
                             f"one (the last) axis has an equivalent here")
        ref = module.weight if module.weight is not None else torch.empty(0)
        model = cls(module.normalized_shape[0], eps=module.eps, dtype=ref.dtype,
                    device=ref.device)
        with torch.no_grad():
            if module.weight is not None:
                model.gamma.copy_(module.weight)
            if module.bias is not None:
                model.beta.copy_(module.bias)
        return model


__all__ = ["LayerNorm"]
