"""Hopfield networks in ``torch``, mirroring ``seqlearn.numpy.hopfield``: the classic binary
network, the modern continuous update, and the Hopfield layers of Ramsauer et al. (2021) as
``nn.Module`` classes that run on a GPU when there is one.

Row-vector convention: N stored patterns of size d are the rows of ``patterns`` (N, d).

* classic network: :func:`hebbian_weights` (9.1), :func:`pseudo_inverse_weights` (9.5),
  :func:`classic_step` / :func:`classic_async_sweep` (9.2), :func:`classic_energy` (9.3),
  :func:`classic_retrieve`;
* :func:`modern_hopfield_update` — ξ_new = softmax(β ξ Xᵀ) X (9.6), written out; with
  ``patterns`` as keys and values and ``scale=beta`` it is
  ``torch.nn.functional.scaled_dot_product_attention(xi, X, X, scale=beta)``;
* :class:`HopfieldLayer` (associations between two sets), :class:`HopfieldPooling` (learned
  queries over a set), :class:`HopfieldLookup` (learned stored patterns), equation (9.8); with
  ``fused=True`` (the default) their update runs in ``F.scaled_dot_product_attention`` when the
  weights are not asked for;
* :class:`BagClassifier` — a bag (set) of vectors → one logit, pooled by Hopfield pooling, the
  mean, or an LSTM read over the bag; :func:`train_bag_classifier` trains it.
"""

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..numpy.common import check_param_dict
from ..numpy.hopfield import MODES, check_beta
from ..validate import check_device, check_positive_int, check_tensor, describe
from .common import as_torch_generator, check_like_parameters, check_mask, copy_numpy_params


# ----------------------------------------------------------------------------- checks
def _check_binary(name, x, ndim):
    check_tensor(name, x, ndim=ndim)
    bad = (x != 1) & (x != -1)
    if bool(bad.any()):
        where = tuple(int(i) for i in torch.nonzero(bad)[0])
        raise ValueError(f"{name}: expected binary patterns with entries -1 or +1, got "
                         f"{float(x[where])!r} at index {where}")
    return x


def _check_weights(W, b):
    check_tensor("W", W, ndim=2)
    if W.shape[0] != W.shape[1]:
        raise ValueError(f"W: expected a square matrix (d, d), got {describe(W)}")
    if not torch.allclose(W, W.T):
        raise ValueError("W: expected a symmetric matrix (the energy (9.3) needs W = Wᵀ)")
    d = W.shape[0]
    if b is None:
        b = torch.zeros(d, dtype=W.dtype, device=W.device)
    else:
        check_tensor("b", b, ndim=1, last_dim=d)
        check_like_parameters("b", b, W)
    return W, b


def _check_states(xi, W):
    single = isinstance(xi, torch.Tensor) and xi.dim() == 1
    if single:
        xi = xi[None]
    _check_binary("xi", xi, 2)
    if xi.shape[1] != W.shape[0]:
        raise ValueError(f"xi: expected shape (B, {W.shape[0]}) (d = {W.shape[0]}, the size of "
                         f"W), got {describe(xi)}")
    check_like_parameters("xi", xi, W)
    return xi, single


# ------------------------------------------------------------------------ classic network
def hebbian_weights(patterns, zero_diagonal=True):
    """W = Xᵀ X (d, d), equation (9.1), the diagonal set to 0; ``patterns`` (N, d) with
    entries ±1."""
    X = _check_binary("patterns", patterns, 2)
    W = X.T @ X
    if zero_diagonal:
        W.fill_diagonal_(0.0)
    return W


def pseudo_inverse_weights(patterns, zero_diagonal=True):
    """W = X⁺ X (d, d), equation (9.5): the projection onto the span of the patterns
    (``patterns`` (N, d), ±1), the diagonal set to 0 unless ``zero_diagonal=False``."""
    X = _check_binary("patterns", patterns, 2)
    W = torch.linalg.pinv(X) @ X
    W = 0.5 * (W + W.T)
    if zero_diagonal:
        W.fill_diagonal_(0.0)
    return W


def classic_energy(xi, W, b=None):
    """E = −½ ξ W ξᵀ + ξ bᵀ (9.3) for ``xi`` (B, d) or (d,), entries ±1. Returns (B,) (a 0-d
    tensor for a single state)."""
    W, b = _check_weights(W, b)
    xi, single = _check_states(xi, W)
    E = -0.5 * ((xi @ W) * xi).sum(-1) + xi @ b
    return E[0] if single else E


def _sign_keep(field, old):
    return torch.where(field > 0, 1.0, torch.where(field < 0, -1.0, old)).to(old.dtype)


def classic_step(xi, W, b=None):
    """One synchronous update (9.2), ξ ← sgn(ξ W − b) (a zero field keeps the unit)."""
    W, b = _check_weights(W, b)
    xi, single = _check_states(xi, W)
    new = _sign_keep(xi @ W - b, xi)
    return new[0] if single else new


def classic_async_sweep(xi, W, b=None, order=None, generator=None, return_energies=False):
    """One asynchronous sweep of (9.2), unit by unit in ``order`` (a permutation of 0..d−1;
    ``torch.randperm`` with ``generator`` when ``None``). ``xi`` is not modified. With
    ``return_energies`` also returns the energy before the sweep and after each update,
    (d + 1, B)."""
    W, b = _check_weights(W, b)
    xi, single = _check_states(xi, W)
    d = W.shape[0]
    if order is None:
        order = torch.randperm(d, generator=as_torch_generator(generator))
    else:
        order = torch.as_tensor(order)
        if tuple(order.shape) != (d,) or not torch.equal(order.sort().values.cpu(),
                                                        torch.arange(d)):
            raise ValueError(f"order: expected a permutation of 0..{d - 1}, got "
                             f"{describe(order)}")
    xi = xi.clone()
    energies = [classic_energy(xi, W, b)] if return_energies else None
    for i in order.tolist():
        field = xi @ W[:, i] - b[i]
        new = _sign_keep(field, xi[:, i])
        if return_energies:
            energies.append(energies[-1] - (new - xi[:, i]) * field)
        xi[:, i] = new
    xi = xi[0] if single else xi
    return (xi, torch.stack(energies)) if return_energies else xi


def classic_retrieve(xi, W, b=None, mode="async", max_sweeps=100, generator=None):
    """Run the classic network from ``xi`` (B, d) to a fixed point (or a two-cycle in
    ``"sync"`` mode), at most ``max_sweeps`` sweeps. Returns ``(states, energies, converged)``:
    (B, d), (n + 1, B) and (B,) bool, as ``seqlearn.numpy.hopfield.classic_retrieve``."""
    if mode not in MODES:
        raise ValueError(f"mode: expected one of {MODES}, got {mode!r}")
    max_sweeps = check_positive_int("max_sweeps", max_sweeps)
    generator = as_torch_generator(generator)   # one stream for all the sweeps
    W, b = _check_weights(W, b)
    xi, _ = _check_states(xi, W)
    energies = [classic_energy(xi, W, b)]
    converged = torch.zeros(len(xi), dtype=torch.bool, device=xi.device)
    cycling = torch.zeros_like(converged)
    previous = None
    for _ in range(max_sweeps):
        new = (classic_async_sweep(xi, W, b, generator=generator) if mode == "async"
               else classic_step(xi, W, b))
        converged = (new == xi).all(dim=1)
        if previous is not None:
            cycling = (new == previous).all(dim=1) & ~converged
        previous, xi = xi, new
        energies.append(classic_energy(xi, W, b))
        if bool((converged | cycling).all()):
            break
    return xi, torch.stack(energies), converged


def bit_error(states, patterns):
    """The fraction of units of each state (B, d) whose sign differs from its pattern (B,)."""
    check_tensor("states", states, ndim=2)
    check_tensor("patterns", patterns, ndim=2)
    if patterns.shape != states.shape:
        raise ValueError(f"patterns: expected shape {tuple(states.shape)} like states, got "
                         f"{describe(patterns)}")
    return (torch.sign(states) != torch.sign(patterns)).to(states.dtype).mean(dim=1)


# ------------------------------------------------------------------------- modern network
def _check_update_args(xi, patterns, beta, mask):
    check_tensor("xi", xi)
    check_tensor("patterns", patterns)
    if xi.dim() < 2:
        raise ValueError(f"xi: expected shape (..., S, d) (S states of size d), got "
                         f"{describe(xi)}")
    d = xi.shape[-1]
    if patterns.dim() == 2:
        if patterns.shape[1] != d:
            raise ValueError(f"patterns: expected shape (N, {d}) (d = {d} as xi), got "
                             f"{describe(patterns)}")
    elif patterns.shape[:-2] != xi.shape[:-2] or patterns.shape[-1] != d:
        raise ValueError(f"patterns: expected shape (N, {d}) or "
                         f"{tuple(xi.shape[:-2]) + ('N', d)} (the leading dimensions and d of "
                         f"xi), got {describe(patterns)}")
    if patterns.dtype != xi.dtype or patterns.device != xi.device:
        raise TypeError(f"patterns: expected dtype {xi.dtype} on {xi.device} like xi, got "
                        f"{describe(patterns)} on {patterns.device}")
    beta = check_beta(beta)
    mask = check_mask(mask, (*xi.shape[:-1], patterns.shape[-2]), device=xi.device)
    return beta, mask


def modern_hopfield_update(xi, patterns, beta, mask=None):
    """One update of the modern Hopfield network (9.6), written out::

        p = softmax(β ξ Xᵀ)  (..., S, N),   ξ_new = p X  (..., S, d)

    ``xi`` (..., S, d) states; ``patterns`` (N, d) shared or (..., N, d); ``beta`` > 0; ``mask``
    optional bool broadcastable to (..., S, N), True = may be retrieved. Returns ``(xi_new, p)``.
    Autograd gives the backward pass (``modern_hopfield_update_backward`` in NumPy).
    """
    beta, mask = _check_update_args(xi, patterns, beta, mask)
    scores = beta * (xi @ patterns.transpose(-2, -1))
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    p = torch.softmax(scores, dim=-1)
    return p @ patterns, p


def modern_hopfield_energy(xi, patterns, beta):
    """E(ξ) of equation (9.7) for ``xi`` (..., d) and ``patterns`` (N, d). Returns (...)."""
    beta = check_beta(beta)
    check_tensor("patterns", patterns, ndim=2)
    check_tensor("xi", xi, last_dim=patterns.shape[1])
    lse = torch.logsumexp(beta * (xi @ patterns.T), dim=-1)
    M = patterns.norm(dim=1).max()
    return -lse / beta + 0.5 * (xi * xi).sum(-1) + math.log(len(patterns)) / beta + 0.5 * M**2


def modern_hopfield_retrieve(xi, patterns, beta, max_steps=1, tol=1e-10):
    """Repeat (9.6) until no entry moves by more than ``tol`` (at most ``max_steps`` times).
    Returns ``(xi, p, steps)``."""
    max_steps = check_positive_int("max_steps", max_steps)
    if isinstance(tol, bool) or not isinstance(tol, (int, float, np.integer, np.floating)) \
            or not 0 <= tol < float("inf"):
        raise ValueError(f"tol: expected a finite number >= 0, got {tol!r}")
    steps = 0
    for steps in range(1, max_steps + 1):
        new, p = modern_hopfield_update(xi, patterns, beta)
        done = float((new - xi).abs().max()) <= tol
        xi = new
        if done:
            break
    return xi, p, steps


# ------------------------------------------------------------------------- Hopfield layers
def _uniform(shape, fan_in, factory):
    bound = 1.0 / math.sqrt(fan_in)
    return nn.Parameter(torch.empty(shape, **factory).uniform_(-bound, bound))


def _retrieve(xi, K, W_v, beta, mask, fused, need_weights):
    """softmax(β ξ Kᵀ) K W_v: the update (9.6) of ξ with the stored patterns K, projected."""
    if fused and not need_weights:
        out = F.scaled_dot_product_attention(xi, K, K, attn_mask=mask, scale=beta)
        return out @ W_v, None
    xi_new, p = modern_hopfield_update(xi, K, beta, mask)
    return xi_new @ W_v, p


class _HopfieldBase(nn.Module):
    """Shared by the three layers: β, the fused switch, the NumPy conversions."""

    PARAMS = ()

    def _setup(self, beta, fused, d_k):
        self.beta = 1.0 / math.sqrt(d_k) if beta is None else check_beta(beta)
        self.fused = bool(fused)

    def _shapes(self):
        return {name: tuple(getattr(self, name).shape) for name in self.PARAMS}

    def to_numpy(self):
        """The parameters as a dict of NumPy arrays, in the NumPy reference's names."""
        return {name: getattr(self, name).detach().cpu().numpy().copy() for name in self.PARAMS}

    def _weights_out(self, out, p, need_weights):
        return (out, p) if need_weights else out


class HopfieldLayer(_HopfieldBase):
    """A Hopfield layer, equation (9.8): states R retrieve from stored patterns Y::

        ξ = R W_q,   K = Y W_k,   Z = softmax(β ξ Kᵀ) K W_v

    ``W_q`` (D_r, d_k), ``W_k`` (D_y, d_k), ``W_v`` (d_k, d_v) from U(−1/√fan_in, 1/√fan_in);
    ``beta`` 1/√d_k by default. One step of scaled dot-product attention with the values
    V = K W_v.
    """

    PARAMS = ("W_q", "W_k", "W_v")

    def __init__(self, state_size, stored_size, hidden_size, output_size, beta=None,
                 fused=True, dtype=None, device=None):
        device = check_device("device", device)
        super().__init__()
        D_r = check_positive_int("state_size", state_size)
        D_y = check_positive_int("stored_size", stored_size)
        d_k = check_positive_int("hidden_size", hidden_size)
        d_v = check_positive_int("output_size", output_size)
        factory = {"dtype": dtype, "device": device}
        self.W_q = _uniform((D_r, d_k), D_r, factory)
        self.W_k = _uniform((D_y, d_k), D_y, factory)
        self.W_v = _uniform((d_k, d_v), d_k, factory)
        self._setup(beta, fused, d_k)

    def extra_repr(self):
        (D_r, d_k), D_y, d_v = self.W_q.shape, self.W_k.shape[0], self.W_v.shape[1]
        return f"state_size={D_r}, stored_size={D_y}, hidden_size={d_k}, output_size={d_v}, " \
               f"beta={self.beta:.4g}"

    def forward(self, R, Y, mask=None, need_weights=False):
        """``R`` (B, S, D_r), ``Y`` (B, N, D_y), ``mask`` optional (B, N) bool (True = a real
        stored pattern). Returns Z (B, S, d_v), or ``(Z, weights (B, S, N))`` with
        ``need_weights``."""
        check_tensor("R", R, ndim=3, last_dim=self.W_q.shape[0])
        check_tensor("Y", Y, ndim=3, last_dim=self.W_k.shape[0])
        check_like_parameters("R", R, self.W_q)
        check_like_parameters("Y", Y, self.W_q)
        if Y.shape[0] != R.shape[0]:
            raise ValueError(f"Y: expected batch size {R.shape[0]} (that of R), got "
                             f"{describe(Y)}")
        mask = check_mask(mask, Y.shape[:2], device=R.device)
        mask = None if mask is None else mask[:, None, :]
        out, p = _retrieve(R @ self.W_q, Y @ self.W_k, self.W_v, self.beta, mask, self.fused,
                           need_weights)
        return self._weights_out(out, p, need_weights)

    @classmethod
    def from_numpy(cls, params, beta=None, fused=True, dtype=torch.float64, device=None):
        """From the dict of ``seqlearn.numpy.hopfield.init_hopfield_layer_params``."""
        device = check_device("device", device)
        check_param_dict(params, cls.PARAMS)
        (D_r, d_k), (D_y, _), (_, d_v) = (np.shape(params[k]) for k in cls.PARAMS)
        model = cls(D_r, D_y, d_k, d_v, beta=beta, fused=fused, dtype=dtype, device=device)
        return copy_numpy_params(model, params, model._shapes())


class HopfieldPooling(_HopfieldBase):
    """Hopfield pooling: S learned state patterns (``queries`` (S, d_k)) retrieve from a set Y
    of any size::

        K = Y W_k,   Z = softmax(β Q Kᵀ) K W_v   (B, S, d_v)

    ``queries`` ~ N(0, 1); ``W_k`` (D_y, d_k), ``W_v`` (d_k, d_v) from U(−1/√fan_in,
    1/√fan_in); ``beta`` 1/√d_k by default. Invariant to the order of the set's instances.
    """

    PARAMS = ("queries", "W_k", "W_v")

    def __init__(self, input_size, hidden_size, output_size, num_queries=1, beta=None,
                 fused=True, dtype=None, device=None):
        device = check_device("device", device)
        super().__init__()
        D = check_positive_int("input_size", input_size)
        d_k = check_positive_int("hidden_size", hidden_size)
        d_v = check_positive_int("output_size", output_size)
        S = check_positive_int("num_queries", num_queries)
        factory = {"dtype": dtype, "device": device}
        self.queries = nn.Parameter(torch.randn((S, d_k), **factory))
        self.W_k = _uniform((D, d_k), D, factory)
        self.W_v = _uniform((d_k, d_v), d_k, factory)
        self._setup(beta, fused, d_k)

    def extra_repr(self):
        (S, d_k), D, d_v = self.queries.shape, self.W_k.shape[0], self.W_v.shape[1]
        return f"input_size={D}, hidden_size={d_k}, output_size={d_v}, num_queries={S}, " \
               f"beta={self.beta:.4g}"

    def forward(self, Y, mask=None, need_weights=False):
        """``Y`` (B, N, D_y), ``mask`` optional (B, N) bool (True = a real instance). Returns
        Z (B, S, d_v), or ``(Z, weights (B, S, N))`` with ``need_weights``."""
        check_tensor("Y", Y, ndim=3, last_dim=self.W_k.shape[0])
        check_like_parameters("Y", Y, self.W_k)
        mask = check_mask(mask, Y.shape[:2], device=Y.device)
        mask = None if mask is None else mask[:, None, :]
        xi = self.queries.expand(Y.shape[0], *self.queries.shape)
        out, p = _retrieve(xi, Y @ self.W_k, self.W_v, self.beta, mask, self.fused,
                           need_weights)
        return self._weights_out(out, p, need_weights)

    @classmethod
    def from_numpy(cls, params, beta=None, fused=True, dtype=torch.float64, device=None):
        """From the dict of ``seqlearn.numpy.hopfield.init_hopfield_pooling_params``."""
        device = check_device("device", device)
        check_param_dict(params, cls.PARAMS)
        (S, d_k), (D, _), (_, d_v) = (np.shape(params[k]) for k in cls.PARAMS)
        model = cls(D, d_k, d_v, num_queries=S, beta=beta, fused=fused, dtype=dtype,
                    device=device)
        return copy_numpy_params(model, params, model._shapes())


class HopfieldLookup(_HopfieldBase):
    """A Hopfield lookup: states R retrieve from N learned stored patterns (``patterns`` P
    (N, d_k))::

        ξ = R W_q,   Z = softmax(β ξ Pᵀ) P W_v   (B, S, d_v)

    ``patterns`` ~ N(0, 1); ``W_q`` (D_r, d_k), ``W_v`` (d_k, d_v) from U(−1/√fan_in,
    1/√fan_in); ``beta`` 1/√d_k by default.
    """

    PARAMS = ("W_q", "patterns", "W_v")

    def __init__(self, input_size, hidden_size, output_size, num_patterns, beta=None,
                 fused=True, dtype=None, device=None):
        device = check_device("device", device)
        super().__init__()
        D = check_positive_int("input_size", input_size)
        d_k = check_positive_int("hidden_size", hidden_size)
        d_v = check_positive_int("output_size", output_size)
        N = check_positive_int("num_patterns", num_patterns)
        factory = {"dtype": dtype, "device": device}
        self.W_q = _uniform((D, d_k), D, factory)
        self.patterns = nn.Parameter(torch.randn((N, d_k), **factory))
        self.W_v = _uniform((d_k, d_v), d_k, factory)
        self._setup(beta, fused, d_k)

    def extra_repr(self):
        (D, d_k), N, d_v = self.W_q.shape, self.patterns.shape[0], self.W_v.shape[1]
        return f"input_size={D}, hidden_size={d_k}, output_size={d_v}, num_patterns={N}, " \
               f"beta={self.beta:.4g}"

    def forward(self, R, need_weights=False):
        """``R`` (B, S, D_r). Returns Z (B, S, d_v), or ``(Z, weights (B, S, N))`` with
        ``need_weights``."""
        check_tensor("R", R, ndim=3, last_dim=self.W_q.shape[0])
        check_like_parameters("R", R, self.W_q)
        P = self.patterns.expand(R.shape[0], *self.patterns.shape)
        out, p = _retrieve(R @ self.W_q, P, self.W_v, self.beta, None, self.fused,
                           need_weights)
        return self._weights_out(out, p, need_weights)

    @classmethod
    def from_numpy(cls, params, beta=None, fused=True, dtype=torch.float64, device=None):
        """From the dict of ``seqlearn.numpy.hopfield.init_hopfield_lookup_params``."""
        device = check_device("device", device)
        check_param_dict(params, cls.PARAMS)
        (D, d_k), (N, _), (_, d_v) = (np.shape(params[k]) for k in cls.PARAMS)
        model = cls(D, d_k, d_v, N, beta=beta, fused=fused, dtype=dtype, device=device)
        return copy_numpy_params(model, params, model._shapes())


# ------------------------------------------------------------------------- bag classifiers
#: The poolings :class:`BagClassifier` offers.
POOLINGS = ("hopfield", "mean", "lstm")


class BagClassifier(nn.Module):
    """A bag (set) of N vectors → one logit: each instance is embedded, e_i = relu(x_i W_e + b_e)
    (H units), the bag is pooled into one vector, and a linear read-out gives the logit::

        "hopfield"   Hopfield pooling of the e_i with ``num_queries`` learned queries
                     (d_k = H, β = ``beta``, 1/√H by default), the S results concatenated
        "mean"       the mean of the e_i (the control: every instance counts the same)
        "lstm"       an ``nn.LSTM`` of H units reads e_1, ..., e_N in order; its last state

    ``positions=True`` adds the sinusoidal encoding of each instance's index to its embedding
    (chapter 8), so that order can matter to the pooling. ``mask`` (B, N) bool marks the real
    instances of padded bags (an LSTM then stops at each bag's last real instance).
    """

    def __init__(self, input_size, hidden_size=16, pooling="hopfield", num_queries=1, beta=None,
                 positions=False, max_len=512):
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling: expected one of {POOLINGS}, got {pooling!r}")
        D = check_positive_int("input_size", input_size)
        H = check_positive_int("hidden_size", hidden_size)
        self.pooling, self.positions = pooling, bool(positions)
        self.embed = nn.Linear(D, H)
        if self.positions:
            from .transformer import PositionalEncoding

            if H % 2:
                raise ValueError(f"hidden_size: expected an even number with positions=True, "
                                 f"got {H}")
            self.encode_positions = PositionalEncoding(H, max_len=max_len)
        width = H
        if pooling == "hopfield":
            self.pool = HopfieldPooling(H, H, H, num_queries=num_queries, beta=beta, fused=False)
            width = H * num_queries
        elif pooling == "lstm":
            self.pool = nn.LSTM(H, H, batch_first=True)
        self.head = nn.Linear(width, 1)

    def forward(self, bags, mask=None, need_weights=False):
        """``bags`` (B, N, D) → logits (B,) (and the Hopfield pooling's weights (B, S, N) with
        ``need_weights``, ``None`` for the other poolings)."""
        check_tensor("bags", bags, ndim=3, last_dim=self.embed.in_features)
        check_like_parameters("bags", bags, self.embed.weight)
        mask = check_mask(mask, bags.shape[:2], device=bags.device)
        e = torch.relu(self.embed(bags))
        if self.positions:
            e = self.encode_positions(e)
        weights = None
        if self.pooling == "hopfield":
            pooled, weights = self.pool(e, mask, need_weights=True)
            pooled = pooled.flatten(1)
        elif self.pooling == "mean":
            real = (torch.ones(bags.shape[:2], device=bags.device) if mask is None
                    else mask.to(e.dtype))
            pooled = (e * real[..., None]).sum(1) / real.sum(1, keepdim=True)
        else:
            if mask is None:
                _, (h, _) = self.pool(e)
            else:
                packed = nn.utils.rnn.pack_padded_sequence(e, mask.sum(1).cpu(), batch_first=True,
                                                           enforce_sorted=False)
                _, (h, _) = self.pool(packed)
            pooled = h[-1]
        logits = self.head(pooled)[:, 0]
        return (logits, weights) if need_weights else logits


def train_bag_classifier(model, bags, labels, steps=300, batch_size=64, lr=3e-3, mask=None,
                         generator=None):
    """Train ``model`` (a :class:`BagClassifier`) on ``bags`` (n, N, D) with 0/1 ``labels``
    (n,) by Adam on the binary cross-entropy, ``steps`` steps of ``batch_size`` bags drawn with
    ``generator`` (seqlearn.torch.train.fit). Returns fit's record."""
    from .train import fit

    check_tensor("bags", bags, ndim=3)
    if not isinstance(labels, torch.Tensor):
        raise TypeError(f"labels: expected a tensor of 0/1 labels, got {describe(labels)}")
    if labels.shape != bags.shape[:1]:
        raise ValueError(f"labels: expected shape ({bags.shape[0]},), one per bag, got "
                         f"{describe(labels)}")
    if not bool(((labels == 0) | (labels == 1)).all()):
        raise ValueError("labels: expected 0/1 labels (one per bag)")
    labels = labels.to(dtype=bags.dtype, device=bags.device)
    generator = as_torch_generator(generator)
    mask = check_mask(mask, bags.shape[:2], device=bags.device)
    batch_size = check_positive_int("batch_size", batch_size)

    def batch(step):
        rows = torch.randint(len(bags), (batch_size,), generator=generator)
        return bags[rows], labels[rows], None if mask is None else mask[rows]

    def loss(model, batch):
        x, y, m = batch
        return F.binary_cross_entropy_with_logits(model(x, m), y)

    return fit(model, loss, batch, steps=steps, lr=lr)


__all__ = ["BagClassifier", "HopfieldLayer", "HopfieldLookup", "HopfieldPooling", "MODES",
           "POOLINGS", "bit_error", "check_beta", "classic_async_sweep", "classic_energy",
           "classic_retrieve", "classic_step", "hebbian_weights", "modern_hopfield_energy",
           "modern_hopfield_retrieve", "modern_hopfield_update", "pseudo_inverse_weights",
           "train_bag_classifier"]
