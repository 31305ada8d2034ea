"""The multi-layer perceptron in PyTorch (mirrors ``seqlearn.numpy.mlp``; autograd does the backward).

Layer sizes ``[D, H_1, ..., H_{M-1}, K]`` give M = ``num_layers`` affine layers; parameters
``W1`` (D, H_1), ``b1`` (H_1,), ..., ``WM`` (H_{M-1}, K), ``bM`` (K,) with the NumPy reference's
names and layouts (row-vector convention)::

    h_l = f(h_{l-1} W_l + b_l)  for l < M,     z = h_{M-1} W_M + b_M,     h_0 = x

The built-in equivalent is ``nn.Sequential(nn.Linear, nn.Tanh, ..., nn.Linear)``, whose
``Linear.weight`` (n_out, n_in) is ``W_lᵀ``.
"""

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..numpy.mlp import check_mlp_params
from ..validate import check_device, check_layer_sizes, check_tensor, describe
from .common import check_like_parameters
from .perceptron import get_activation
from .train import fit

#: activation name -> the built-in module (``identity`` has none: it adds no module).
_BUILTIN_ACTIVATIONS = {"tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "relu": nn.ReLU}


class MLP(nn.Module):
    """Feed-forward network with hidden activation ``activation`` and a linear output layer.

    Parameters
    ----------
    sizes : ``[D, H_1, ..., H_{M-1}, K]``, M + 1 numbers for M affine layers
    activation : ``"tanh"``, ``"sigmoid"``, ``"relu"`` or ``"identity"``
    dtype, device : of the parameters

    ``W_l`` ~ U(−1/sqrt(n_in), 1/sqrt(n_in)), ``b_l`` = 0, as ``seqlearn.numpy.mlp.init_mlp_params``.
    """

    def __init__(self, sizes, activation="tanh", dtype=None, device=None):
        device = check_device("device", device)
        super().__init__()
        self.sizes = check_layer_sizes("sizes", sizes)
        if activation == "step":
            raise ValueError("activation: 'step' has no useful gradient; use tanh, sigmoid or relu")
        self.f = get_activation(activation)
        self.activation = activation
        for l, (n_in, n_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:]), start=1):
            s = 1.0 / math.sqrt(n_in)
            W = torch.empty(n_in, n_out, dtype=dtype, device=device).uniform_(-s, s)
            self.register_parameter(f"W{l}", nn.Parameter(W))
            self.register_parameter(f"b{l}", nn.Parameter(torch.zeros(n_out, dtype=dtype, device=device)))

    def extra_repr(self):
        return f"sizes={self.sizes}, activation={self.activation!r}"

    @property
    def num_layers(self):
        """M, the number of affine layers."""
        return len(self.sizes) - 1

    def forward(self, x):
        """x (..., D) -> outputs z (..., K): h_l = f(h_{l-1} W_l + b_l) for l < M,
        z = h_{M-1} W_M + b_M, h_0 = x (as ``seqlearn.numpy.mlp.mlp_forward``)."""
        h = check_tensor("x", x, last_dim=self.sizes[0])
        check_like_parameters("x", x, self.W1)
        num_layers = self.num_layers
        for l in range(1, num_layers + 1):
            a = h @ getattr(self, f"W{l}") + getattr(self, f"b{l}")
            h = self.f(a) if l < num_layers else a
        return h

    @classmethod
    def from_numpy(cls, params, activation="tanh", dtype=torch.float64, device=None):
        """An MLP holding the NumPy parameters ``W1, b1, ..., WM, bM`` (copied)."""
        device = check_device("device", device)
        params, num_layers = check_mlp_params(params)
        sizes = [params["W1"].shape[0]] + [params[f"W{l}"].shape[1]
                                           for l in range(1, num_layers + 1)]
        model = cls(sizes, activation, dtype=dtype, device=device)
        with torch.no_grad():
            for name, value in params.items():
                getattr(model, name).copy_(torch.as_tensor(value))
        return model

    def to_numpy(self):
        """The parameters as a dict of float64 NumPy arrays, keyed ``W1, b1, ...``."""
        return {name: p.detach().cpu().double().numpy() for name, p in self.named_parameters()}

    def to_torch_builtin(self):
        """The same network as ``nn.Sequential(nn.Linear, nn.Tanh, ..., nn.Linear)`` (copied weights)."""
        W1 = self.W1
        layers = []
        for l in range(1, self.num_layers + 1):
            W, b = getattr(self, f"W{l}"), getattr(self, f"b{l}")
            linear = nn.Linear(W.shape[0], W.shape[1], dtype=W1.dtype, device=W1.device)
            with torch.no_grad():
                linear.weight.copy_(W.T)
                linear.bias.copy_(b)
            layers.append(linear)
            if l < self.num_layers and self.activation != "identity":
                layers.append(_BUILTIN_ACTIVATIONS[self.activation]())
        return nn.Sequential(*layers)

    @classmethod
    def from_torch_builtin(cls, sequential):
        """The MLP of an ``nn.Sequential`` of ``nn.Linear`` layers with one kind of activation
        module (``nn.Tanh``, ``nn.Sigmoid`` or ``nn.ReLU``) between them."""
        if not isinstance(sequential, nn.Sequential):
            raise TypeError(f"sequential: expected an nn.Sequential, got {type(sequential).__name__}")
        linears, acts = [], set()
        for module in sequential:
            if isinstance(module, nn.Linear):
                linears.append(module)
                continue
            name = next((k for k, v in _BUILTIN_ACTIVATIONS.items() if type(module) is v), None)
            if name is None:
                raise ValueError(
                    f"sequential: expected only nn.Linear and nn.Tanh/nn.Sigmoid/nn.ReLU modules, "
                    f"got {type(module).__name__}"
                )
            acts.add(name)
        if not linears or len(acts) > 1:
            raise ValueError(
                f"sequential: expected nn.Linear layers with one kind of activation, got "
                f"{len(linears)} Linear layer(s) and activations {sorted(acts)}"
            )
        expected = ["Linear", "act"] * (len(linears) - 1) + ["Linear"] if acts else ["Linear"] * len(linears)
        got = ["Linear" if isinstance(m, nn.Linear) else "act" for m in sequential]
        if got != expected:
            raise ValueError(f"sequential: expected the layout {expected}, got {got}")
        sizes = [linears[0].in_features] + [m.out_features for m in linears]
        first = linears[0].weight
        model = cls(sizes, acts.pop() if acts else "identity", dtype=first.dtype, device=first.device)
        with torch.no_grad():
            for l, linear in enumerate(linears, start=1):
                if linear.bias is None:
                    raise ValueError(f"sequential: Linear layer {l} has no bias")
                getattr(model, f"W{l}").copy_(linear.weight.T)
                getattr(model, f"b{l}").copy_(linear.bias)
        return model


LOSSES = ("mse", "cross_entropy")


def mlp_loss(z, t, loss="mse"):
    """The loss L (a 0-d tensor) of the outputs ``z`` (..., K) against the targets ``t``; both
    losses are means.

    ``"mse"``: t (..., K), L = 1/(N K) Σ_{n,j} (z_nj − t_nj)², the mean over all N K entries
    (N examples, K outputs); ``"cross_entropy"``: logits z against class indices t (...),
    L = −(1/N) Σ_n log softmax(z_n)_{t_n}, the mean over the N examples. As
    ``seqlearn.numpy.mlp.mlp_loss``, which also returns ∂L/∂z (here autograd computes it)."""
    if loss not in LOSSES:
        raise ValueError(f"loss: expected one of {LOSSES}, got {loss!r}")
    check_tensor("z", z)
    _check_targets(t, loss, z.shape[-1])
    if loss == "mse":
        if t.shape != z.shape:
            raise ValueError(f"t: expected the shape of z {tuple(z.shape)}, got {tuple(t.shape)}")
        return F.mse_loss(z, t.to(z.dtype))
    if t.shape != z.shape[:-1]:
        raise ValueError(
            f"t: expected shape {tuple(z.shape[:-1])} (z without its last axis), "
            f"got {tuple(t.shape)}"
        )
    return F.cross_entropy(z.reshape(-1, z.shape[-1]), t.reshape(-1).long())


def _check_targets(t, loss, K=None):
    """Float targets for ``"mse"`` (finite), integer class indices in [0, K) for
    ``"cross_entropy"``."""
    if loss == "mse":
        check_tensor("t", t)
        return
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"t: expected a tensor of class indices, got {describe(t)}")
    if t.dtype.is_floating_point or t.dtype.is_complex or t.dtype == torch.bool:
        raise TypeError(f"t: expected integer class indices for loss='cross_entropy', got "
                        f"{describe(t)}; convert them with t.long()")
    if K is not None and t.numel() and (int(t.min()) < 0 or int(t.max()) >= K):
        raise ValueError(f"t: expected class indices in 0..{K - 1}, got values from "
                         f"{int(t.min())} to {int(t.max())}")


def fit_full_batch(model, x, t, loss="mse", optimizer="sgd", lr=0.1, steps=1000, progress=False):
    """Train ``model`` on all of ``(x, t)`` at once for ``steps`` optimiser steps of
    :func:`seqlearn.torch.train.fit` on L = :func:`mlp_loss` ``(model(x), t, loss)``.

    ``optimizer``: ``"sgd"`` (plain gradient descent θ ← θ − lr ∂L/∂θ, as
    ``seqlearn.numpy.mlp.fit_full_batch``), ``"adam"`` or ``"lbfgs"`` (one L-BFGS step runs up
    to 20 inner iterations with a strong-Wolfe line search, to tolerances of 1e-12 on the
    gradient and 1e-15 on the change). ``progress`` shows a tqdm bar.

    Returns ``(model, losses)``: the model, trained in place, and the loss before each step as a
    NumPy array (steps,). Stops with ``FloatingPointError`` when the loss becomes NaN or inf.
    """
    if loss not in LOSSES:
        raise ValueError(f"loss: expected one of {LOSSES}, got {loss!r}")
    # NaN in the data is refused here, not blamed on the learning rate after the first step
    check_tensor("x", x)
    _check_targets(t, loss)
    if t.shape[:1] != x.shape[:1]:
        raise ValueError(f"t: expected {x.shape[0]} targets (one per row of x), got "
                         f"{describe(t)}")
    options = {"tolerance_grad": 1e-12, "tolerance_change": 1e-15} if optimizer == "lbfgs" else None
    record = fit(model, lambda net, batch: mlp_loss(net(batch[0]), batch[1], loss), (x, t), steps,
                 optimizer=optimizer, lr=lr, progress=progress, optimizer_options=options)
    return model, np.array(record["losses"])


__all__ = ["LOSSES", "MLP", "fit_full_batch", "mlp_loss"]
