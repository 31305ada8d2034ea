"""The multi-layer perceptron in PyTorch (mirrors ``seqlearn.numpy.mlp``; autograd does the backward).

Layer sizes ``[D, H_1, ..., K]``; parameters ``W1`` (D, H_1), ``b1`` (H_1,), ..., ``WL``, ``bL``
with the NumPy reference's names and layouts (row-vector convention)::

    h_l = f(h_{l-1} W_l + b_l)  for l < L,     y = h_{L-1} W_L + b_L,     h_0 = x

The built-in equivalent is ``nn.Sequential(nn.Linear, nn.Tanh, ..., nn.Linear)``, whose
``Linear.weight`` (n_out, n_in) is ``W_lᵀ``.
"""

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..validate import check_finite_loss, check_tensor
from .perceptron import get_activation

#: activation name -> the built-in module (``identity`` has none: it adds no module).
_BUILTIN_ACTIVATIONS = {"tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "relu": nn.ReLU}


def _check_sizes(sizes):
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__") or len(sizes) < 2:
        raise ValueError(
            f"sizes: expected a list of at least two layer sizes [D, ..., K], got {sizes!r}"
        )
    for i, s in enumerate(sizes):
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1:
            raise ValueError(f"sizes[{i}]: expected a positive integer, got {s!r}")
    return [int(s) for s in sizes]


class MLP(nn.Module):
    """Feed-forward network with hidden activation ``activation`` and a linear output layer.

    Parameters
    ----------
    sizes : ``[D, H_1, ..., K]``
    activation : ``"tanh"``, ``"sigmoid"``, ``"relu"`` or ``"identity"``
    dtype, device : of the parameters

    ``W_l`` ~ U(−1/sqrt(n_in), 1/sqrt(n_in)), ``b_l`` = 0, as ``seqlearn.numpy.mlp.init_mlp_params``.
    """

    def __init__(self, sizes, activation="tanh", dtype=None, device=None):
        super().__init__()
        self.sizes = _check_sizes(sizes)
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
        """L, the number of affine layers."""
        return len(self.sizes) - 1

    def forward(self, x):
        """x (..., D) -> outputs y (..., K)."""
        h = check_tensor("x", x, last_dim=self.sizes[0])
        L = self.num_layers
        for l in range(1, L + 1):
            a = h @ getattr(self, f"W{l}") + getattr(self, f"b{l}")
            h = self.f(a) if l < L else a
        return h

    @classmethod
    def from_numpy(cls, params, activation="tanh", dtype=torch.float64, device=None):
        """An MLP holding the NumPy parameters ``W1, b1, ..., WL, bL`` (copied)."""
        from ..numpy.mlp import _check_params

        params, L = _check_params(params)
        sizes = [params["W1"].shape[0]] + [params[f"W{l}"].shape[1] for l in range(1, L + 1)]
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


def mlp_loss(y, t, loss="mse"):
    """``"mse"``: mean of (y − t)² over all entries; ``"cross_entropy"``: mean softmax
    cross-entropy of logits y (..., K) against class indices t (...). As ``seqlearn.numpy.mlp``."""
    if loss == "mse":
        if t.shape != y.shape:
            raise ValueError(f"t: expected the shape of y {tuple(y.shape)}, got {tuple(t.shape)}")
        return F.mse_loss(y, t.to(y.dtype))
    if loss == "cross_entropy":
        if t.shape != y.shape[:-1]:
            raise ValueError(
                f"t: expected shape {tuple(y.shape[:-1])} (y without its last axis), "
                f"got {tuple(t.shape)}"
            )
        return F.cross_entropy(y.reshape(-1, y.shape[-1]), t.reshape(-1).long())
    raise ValueError(f"loss: expected one of {LOSSES}, got {loss!r}")


def fit_full_batch(model, x, t, loss="mse", optimizer="adam", lr=1e-2, steps=500, progress=False):
    """Train ``model`` on all of ``(x, t)`` at once for ``steps`` optimiser steps.

    ``optimizer``: ``"adam"``, ``"sgd"`` or ``"lbfgs"`` (one L-BFGS step runs up to 20 inner
    iterations, with a strong-Wolfe line search). Returns the loss before each step as a NumPy
    array; stops with ``FloatingPointError`` when the loss becomes NaN or inf.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps: expected a positive integer, got {steps!r}")
    parameters = list(model.parameters())
    if optimizer == "adam":
        opt = torch.optim.Adam(parameters, lr=lr)
    elif optimizer == "sgd":
        opt = torch.optim.SGD(parameters, lr=lr)
    elif optimizer == "lbfgs":
        opt = torch.optim.LBFGS(
            parameters, lr=lr, max_iter=20, line_search_fn="strong_wolfe",
            tolerance_grad=1e-12, tolerance_change=1e-15,
        )
    else:
        raise ValueError(f"optimizer: expected 'adam', 'sgd' or 'lbfgs', got {optimizer!r}")

    def closure():
        opt.zero_grad()
        value = mlp_loss(model(x), t, loss)
        value.backward()
        return value

    losses = []
    iterator = range(steps)
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(iterator, desc="training", leave=False)
    for step in iterator:
        value = opt.step(closure)
        losses.append(check_finite_loss(value.item(), step, hint="lower the learning rate lr"))
    return np.array(losses)
