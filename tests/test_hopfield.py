"""Hopfield networks (seqlearn.numpy.hopfield, seqlearn.torch.hopfield): the energy never rises
under asynchronous updates, stored patterns are fixed points below capacity, the modern update
is attention (chapter 8's code and torch's built-in), hand-derived gradients match finite
differences and autograd, NumPy and torch agree, bad input is refused by name, and seeded runs
repeat."""

import numpy as np
import pytest
import torch
from torch.nn import functional as F

import seqlearn
from seqlearn.data.patterns import binarised_digits, corrupt, motif_bags, random_patterns
from seqlearn.gradcheck import check_gradients, numerical_gradient, relative_error
from seqlearn.numpy import attention as snp_attention
from seqlearn.numpy import hopfield as nh
from seqlearn.torch import attention as st_attention
from seqlearn.torch import hopfield as th

from conftest import close, t64

pytestmark = pytest.mark.usefixtures("one_thread")
CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def _random_symmetric(d, rng):
    W = rng.normal(size=(d, d))
    W = W + W.T
    np.fill_diagonal(W, 0.0)
    return W


# -- classic network ------------------------------------------------------------------------------

def test_the_energy_never_increases_under_asynchronous_updates(rng):
    for trial in range(5):
        d = int(rng.integers(5, 40))
        W, b = _random_symmetric(d, rng), rng.normal(size=d)
        xi = rng.choice([-1.0, 1.0], size=(6, d))
        energies = [nh.classic_energy(xi, W, b)]
        for i in rng.permutation(d):          # every single-unit update (9.2) on its own
            field = xi @ W[:, i] - b[i]
            xi[:, i] = np.where(field > 0, 1.0, np.where(field < 0, -1.0, xi[:, i]))
            energies.append(nh.classic_energy(xi, W, b))
        assert np.all(np.diff(energies, axis=0) <= 1e-9)
        states, sweeps, converged = nh.classic_retrieve(
            rng.choice([-1.0, 1.0], size=(6, d)), W, b, rng=rng)
        assert np.all(np.diff(sweeps, axis=0) <= 1e-9) and converged.all()
        assert np.array_equal(nh.classic_step(states, W, b), states)   # a fixed point


def test_synchronous_updates_can_cycle_between_two_states():
    W = np.array([[0.0, -1.0], [-1.0, 0.0]])
    xi = np.array([1.0, 1.0])
    step1 = nh.classic_step(xi, W)
    assert np.array_equal(step1, [-1.0, -1.0]) and np.array_equal(nh.classic_step(step1, W), xi)
    states, energies, converged = nh.classic_retrieve(xi[None], W, mode="sync")
    assert not converged[0] and len(energies) == 3
    # asynchronous updates settle in a fixed point instead, and lower the energy
    states, energies, converged = nh.classic_retrieve(xi[None], W, rng=0)
    assert converged[0] and energies[-1, 0] < energies[0, 0]


def test_stored_patterns_are_fixed_points_below_capacity():
    X = random_patterns(5, 200, rng=0)                      # load 0.025, far below 0.14
    assert np.array_equal(nh.classic_step(X, nh.hebbian_weights(X)), X)
    assert np.array_equal(nh.classic_step(-X, nh.hebbian_weights(X)), -X)   # reversed states too
    images, labels = binarised_digits()
    digits = np.array([images[np.flatnonzero(labels == c)[0]] for c in range(10)])
    hebbian = nh.classic_step(digits, nh.hebbian_weights(digits))
    assert not np.array_equal(hebbian, digits)             # correlated patterns: Hebb fails
    W = nh.pseudo_inverse_weights(digits)
    assert np.array_equal(nh.classic_step(digits, W), digits)
    assert np.allclose(W, W.T) and np.all(np.diag(W) == 0)


def test_hebbian_weights_are_the_sum_of_outer_products(rng):
    X = rng.choice([-1.0, 1.0], size=(4, 9))
    W = sum(np.outer(x, x) for x in X)
    np.fill_diagonal(W, 0)
    assert np.array_equal(nh.hebbian_weights(X), W)
    assert np.array_equal(np.diag(nh.hebbian_weights(X, zero_diagonal=False)), np.full(9, 4.0))
    P = nh.pseudo_inverse_weights(X, zero_diagonal=False)
    assert np.allclose(P @ X.T, X.T) and np.allclose(P @ P, P)   # a projection onto the span


def test_the_fast_retrieval_equals_the_readable_one(rng):
    for seed in range(12):
        g = np.random.default_rng(seed)
        d = int(g.integers(5, 60))
        X = g.choice([-1.0, 1.0], size=(int(g.integers(1, d // 3 + 2)), d))
        W = nh.hebbian_weights(X) if seed % 2 else nh.pseudo_inverse_weights(X)
        b = g.normal(size=d) if seed % 3 == 0 else None
        start = corrupt(X[g.integers(0, len(X), 8)], 0.3, g)
        s1, _, c1 = nh.classic_retrieve(start, W, b, rng=np.random.default_rng(1), max_sweeps=6)
        s2, c2 = nh.fast_classic_retrieve(start, W, b, rng=np.random.default_rng(1), max_sweeps=6)
        assert np.array_equal(s1, s2) and np.array_equal(c1, c2)


def test_the_capacity_measurement_rises_past_the_breakdown():
    below = np.mean([nh.recall_error(10, 200, seed) for seed in range(3)])     # load 0.05
    above = np.mean([nh.recall_error(60, 200, seed) for seed in range(3)])     # load 0.30
    assert below == 0.0 and above > 0.1
    assert nh.recall_error(60, 200, 0, rule="pseudo-inverse") == 0.0


def test_classic_numpy_and_torch_agree(rng):
    X = rng.choice([-1.0, 1.0], size=(6, 30))
    Xt = torch.from_numpy(X)
    W = nh.pseudo_inverse_weights(X)
    assert np.allclose(th.pseudo_inverse_weights(Xt).numpy(), W, atol=1e-10)
    assert np.array_equal(th.hebbian_weights(Xt).numpy(), nh.hebbian_weights(X))
    b = rng.normal(size=30)
    xi = corrupt(X, 0.2, rng)
    order = rng.permutation(30)
    assert np.array_equal(th.classic_async_sweep(torch.from_numpy(xi), torch.from_numpy(W),
                                                 torch.from_numpy(b), order=order).numpy(),
                          nh.classic_async_sweep(xi, W, b, order=order))
    _, energies = nh.classic_async_sweep(xi, W, b, order=order, return_energies=True)
    _, torch_energies = th.classic_async_sweep(torch.from_numpy(xi), torch.from_numpy(W),
                                               torch.from_numpy(b), order=order,
                                               return_energies=True)
    assert energies.shape == (31, 6) and np.allclose(torch_energies.numpy(), energies)
    assert np.all(np.diff(energies, axis=0) <= 1e-9)
    assert np.array_equal(th.classic_step(torch.from_numpy(xi), torch.from_numpy(W)).numpy(),
                          nh.classic_step(xi, W))
    assert np.allclose(th.classic_energy(torch.from_numpy(xi), torch.from_numpy(W),
                                         torch.from_numpy(b)).numpy(),
                       nh.classic_energy(xi, W, b), atol=1e-10)
    states, energies, converged = th.classic_retrieve(torch.from_numpy(xi), torch.from_numpy(W),
                                                      generator=torch.Generator().manual_seed(0))
    assert converged.all() and bool((energies.diff(dim=0) <= 1e-9).all())
    assert np.allclose(th.bit_error(states, Xt).numpy(), nh.bit_error(states.numpy(), X))


# -- modern network -------------------------------------------------------------------------------

def test_the_modern_update_is_chapter_8s_attention(rng):
    xi, X = rng.normal(size=(3, 4, 6)), rng.normal(size=(3, 7, 6))
    for beta in (0.1, 1.0, 1 / np.sqrt(6)):
        new, p, _ = nh.modern_hopfield_update_forward(xi, X, beta)
        out, weights, _ = snp_attention.scaled_dot_product_attention_forward(xi, X, X, scale=beta)
        assert np.abs(new - out).max() < 1e-12 and np.abs(p - weights).max() < 1e-12
    xi32, X32 = torch.randn(2, 5, 8), torch.randn(2, 9, 8)
    ours, _ = th.modern_hopfield_update(xi32, X32, 0.7)
    assert close(ours, F.scaled_dot_product_attention(xi32, X32, X32, scale=0.7))
    explicit, _ = st_attention.scaled_dot_product_attention(xi32, X32, X32, scale=0.7)
    assert close(ours, explicit)


def test_the_modern_update_backward_matches_finite_differences_and_autograd(rng):
    for shared, masked in [(False, False), (True, False), (False, True)]:
        xi = rng.normal(size=(2, 3, 5))
        X = rng.normal(size=(4, 5)) if shared else rng.normal(size=(2, 4, 5))
        mask = (rng.random((2, 1, 4)) < 0.7) if masked else None
        if mask is not None:
            mask[..., 0] = True
        box = {"xi": xi, "X": X, "beta": np.array(0.8)}
        dout = rng.normal(size=(2, 3, 5))

        def loss():
            return float(np.sum(dout * nh.modern_hopfield_update_forward(
                box["xi"], box["X"], float(box["beta"]), mask)[0]))

        _, _, cache = nh.modern_hopfield_update_forward(xi, X, 0.8, mask)
        dxi, dX, dbeta = nh.modern_hopfield_update_backward(dout, cache)
        errors = check_gradients(loss, box, {"xi": dxi, "X": dX, "beta": np.array(dbeta)})
        assert max(errors.values()) < 1e-6, errors
        txi, tX, tb = t64(xi, True), t64(X, True), t64(0.8, True)
        out, _ = th.modern_hopfield_update(txi, tX, tb.item(), None if mask is None
                                           else torch.from_numpy(mask))
        (out * t64(dout)).sum().backward()
        assert relative_error(dxi, txi.grad.numpy()) < 1e-10
        assert relative_error(dX, tX.grad.numpy()) < 1e-10


def test_the_modern_energy_decreases_and_one_step_retrieves(rng):
    X = random_patterns(200, 64, rng=rng)                  # N > d
    cue = corrupt(X[:20], 0.2, rng)
    E0 = nh.modern_hopfield_energy(cue, X, 1.0)
    new, p, steps = nh.modern_hopfield_retrieve(cue, X, 1.0)
    assert steps == 1 and np.all(nh.modern_hopfield_energy(new, X, 1.0) <= E0 + 1e-9)
    assert np.all(nh.bit_error(new, X[:20]) == 0)
    settled, _, steps = nh.modern_hopfield_retrieve(cue, X, 0.05, max_steps=200)
    assert steps > 1
    assert np.allclose(th.modern_hopfield_energy(torch.from_numpy(cue), torch.from_numpy(X),
                                                 1.0).numpy(), E0)
    # β → 0: the update returns the mean of the patterns
    tiny, _, _ = nh.modern_hopfield_retrieve(cue, X, 1e-9)
    assert np.allclose(tiny, X.mean(axis=0), atol=1e-6)


# -- Hopfield layers ------------------------------------------------------------------------------

def _layer_case(kind, rng):
    if kind == "layer":
        params = nh.init_hopfield_layer_params(5, 4, 6, 3, rng=rng)
        inputs = {"R": rng.normal(size=(2, 3, 5)), "Y": rng.normal(size=(2, 7, 4))}
    elif kind == "pooling":
        params = nh.init_hopfield_pooling_params(4, 6, 3, num_queries=2, rng=rng)
        inputs = {"Y": rng.normal(size=(2, 7, 4))}
    else:
        params = nh.init_hopfield_lookup_params(5, 6, 3, num_patterns=8, rng=rng)
        inputs = {"R": rng.normal(size=(2, 3, 5))}
    return params, inputs


FORWARD = {"layer": (nh.hopfield_layer_forward, nh.hopfield_layer_backward, th.HopfieldLayer),
           "pooling": (nh.hopfield_pooling_forward, nh.hopfield_pooling_backward,
                       th.HopfieldPooling),
           "lookup": (nh.hopfield_lookup_forward, nh.hopfield_lookup_backward,
                      th.HopfieldLookup)}


@pytest.mark.parametrize("kind", sorted(FORWARD))
def test_layer_gradients_match_finite_differences(kind, rng):
    forward, backward, _ = FORWARD[kind]
    params, inputs = _layer_case(kind, rng)
    Z, _, cache = forward(*inputs.values(), params, beta=0.9)
    dZ = rng.normal(size=Z.shape)
    out = backward(dZ, cache)
    grads, dinputs = out[-1], out[:-1]
    box = dict(params)

    def loss():
        return float(np.sum(dZ * forward(*inputs.values(), box, beta=0.9)[0]))

    assert max(check_gradients(loss, box, grads).values()) < 1e-6
    for (name, x), dx in zip(inputs.items(), dinputs):
        assert relative_error(numerical_gradient(loss, x), dx) < 1e-6, name


@pytest.mark.parametrize("kind", sorted(FORWARD))
@pytest.mark.parametrize("fused", [False, True])
def test_layers_numpy_and_torch_agree(kind, fused, rng):
    forward, backward, Module = FORWARD[kind]
    params, inputs = _layer_case(kind, rng)
    Z, weights, cache = forward(*inputs.values(), params)
    model = Module.from_numpy(params, fused=fused)
    tensors = [t64(x, True) for x in inputs.values()]
    out = model(*tensors)
    assert np.abs(out.detach().numpy() - Z).max() < 1e-10
    _, p = model(*tensors, need_weights=True)
    assert np.abs(p.detach().numpy() - weights).max() < 1e-10
    dZ = rng.normal(size=Z.shape)
    (out * t64(dZ)).sum().backward()
    grads = backward(dZ, cache)[-1]
    for name in Module.PARAMS:
        assert relative_error(grads[name], getattr(model, name).grad.numpy()) < 1e-10
    back = model.to_numpy()
    assert all(np.array_equal(back[k], params[k]) for k in params)


def test_the_fused_layers_match_the_explicit_ones_in_float32():
    torch.manual_seed(0)
    explicit = th.HopfieldLayer(8, 6, 16, 4, fused=False)
    fused = th.HopfieldLayer(8, 6, 16, 4)
    fused.load_state_dict(explicit.state_dict())
    R, Y = torch.randn(3, 5, 8), torch.randn(3, 11, 6)
    mask = torch.rand(3, 11) < 0.6
    mask[:, 0] = True
    assert close(fused(R, Y, mask), explicit(R, Y, mask))


def test_a_hopfield_layer_is_one_head_of_multi_head_attention(rng):
    D = 8
    params = nh.init_hopfield_layer_params(D, D, D, D, rng=rng)
    R, Y = rng.normal(size=(2, 3, D)), rng.normal(size=(2, 5, D))
    Z, _, _ = nh.hopfield_layer_forward(R, Y, params)          # β = 1/√d_k
    mha = {"W_q": params["W_q"], "W_k": params["W_k"], "W_v": params["W_k"] @ params["W_v"],
           "W_o": np.eye(D), **{f"b_{k}": np.zeros(D) for k in "qkvo"}}
    out, _, _ = snp_attention.multi_head_attention_forward(R, Y, Y, mha, num_heads=1)
    assert np.abs(out - Z).max() < 1e-12
    torch_mha = st_attention.MultiHeadAttention.from_numpy(mha, num_heads=1)
    assert np.abs(torch_mha(t64(R), t64(Y), t64(Y)).detach().numpy() - Z).max() < 1e-12


def test_pooling_ignores_order_and_padding(rng):
    torch.manual_seed(0)
    pool = th.HopfieldPooling(4, 8, 3, num_queries=2)
    Y = torch.randn(2, 6, 4)
    perm = torch.randperm(6)
    assert close(pool(Y[:, perm]), pool(Y))
    padded = torch.cat([Y, 5 * torch.randn(2, 3, 4)], dim=1)
    mask = torch.arange(9)[None].expand(2, 9) < 6
    assert close(pool(padded, mask), pool(Y))
    assert not close(pool(padded), pool(Y))


def test_bag_classifiers_learn_the_planted_motif_and_repeat_under_a_seed():
    bags, labels, _, _ = motif_bags(400, bag_size=20, dim=6, strength=5.0, rng=0)
    x, y = torch.tensor(bags, dtype=torch.float32), torch.tensor(labels)
    accuracies, losses = [], []
    for _ in range(2):
        seqlearn.seed(3)
        model = th.BagClassifier(6, 8, "hopfield")
        record = th.train_bag_classifier(model, x[:300], y[:300], steps=150, batch_size=32,
                                         lr=0.01)
        with torch.no_grad():
            accuracies.append(float(((model(x[300:]) > 0).long() == y[300:]).float().mean()))
        losses.append(record["losses"])
    assert losses[0] == losses[1] and accuracies[0] == accuracies[1]
    assert accuracies[0] > 0.85
    logits, weights = model(x[:4], need_weights=True)
    assert weights.shape == (4, 1, 20) and torch.allclose(weights.sum(-1), torch.ones(4, 1))
    for pooling in ("mean", "lstm"):
        assert th.BagClassifier(6, 8, pooling)(x[:3]).shape == (3,)
    mask = torch.ones(3, 20, dtype=torch.bool)
    mask[0, 10:] = False
    lstm = th.BagClassifier(6, 8, "lstm")
    assert torch.allclose(lstm(x[:3], mask)[0], lstm(x[:1, :10])[0], atol=1e-6)


def test_seeded_sweeps_repeat():
    X = random_patterns(4, 30, rng=1)
    W = nh.hebbian_weights(X)
    cue = corrupt(X, 0.3, rng=1)
    seqlearn.seed(5)
    first = nh.classic_async_sweep(cue, W)
    seqlearn.seed(5)
    assert np.array_equal(nh.classic_async_sweep(cue, W), first)


# -- bad input ------------------------------------------------------------------------------------

def test_bad_input_is_refused_by_name():
    X = np.array([[1.0, -1.0, 1.0], [-1.0, -1.0, 1.0]])
    W = nh.hebbian_weights(X)
    with pytest.raises(ValueError, match="patterns"):
        nh.hebbian_weights(np.array([[1.0, 0.5, -1.0]]))
    with pytest.raises(ValueError, match="patterns"):
        nh.pseudo_inverse_weights(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="xi"):
        nh.classic_step(np.array([1.0, 0.0, 1.0]), W)
    with pytest.raises(ValueError, match="xi"):
        nh.classic_energy(np.ones((2, 4)), W)
    with pytest.raises(ValueError, match="W"):
        nh.classic_step(X, np.arange(9.0).reshape(3, 3))
    with pytest.raises(ValueError, match="order"):
        nh.classic_async_sweep(X, W, order=[0, 0, 1])
    with pytest.raises(ValueError, match="mode"):
        nh.classic_retrieve(X, W, mode="parallel")
    with pytest.raises(ValueError, match="beta"):
        nh.modern_hopfield_update_forward(X, X, 0.0)
    with pytest.raises(ValueError, match="beta"):
        nh.modern_hopfield_energy(X[0], X, -1.0)
    with pytest.raises(TypeError, match="beta"):
        nh.modern_hopfield_update_forward(X, X, "big")
    with pytest.raises(ValueError, match="patterns"):
        nh.modern_hopfield_update_forward(X, np.ones((4, 5)), 1.0)
    with pytest.raises(ValueError, match="R"):
        nh.hopfield_layer_forward(np.ones((2, 3, 4)), np.ones((2, 5, 4)),
                                  nh.init_hopfield_layer_params(5, 4, 6, 3, rng=0))
    with pytest.raises(ValueError, match="W_k"):
        nh.hopfield_pooling_forward(np.ones((2, 5, 4)),
                                    {"queries": np.ones((1, 6)), "W_k": np.ones((4, 5)),
                                     "W_v": np.ones((6, 2))})
    Xt = torch.from_numpy(X)
    with pytest.raises(ValueError, match="patterns"):
        th.hebbian_weights(torch.tensor([[1.0, 2.0]]))
    with pytest.raises(ValueError, match="beta"):
        th.modern_hopfield_update(Xt, Xt, -0.5)
    with pytest.raises(ValueError, match="beta"):
        th.HopfieldPooling(4, 8, 2, beta=0)
    with pytest.raises(ValueError, match="Y"):
        th.HopfieldLayer(5, 4, 6, 3)(torch.randn(2, 3, 5), torch.randn(2, 7, 3))
    with pytest.raises(TypeError, match="R"):
        th.HopfieldLookup(5, 6, 3, 8)(torch.randn(2, 3, 5, dtype=torch.float64))
    with pytest.raises(ValueError, match="pooling"):
        th.BagClassifier(4, 8, "max")


@CUDA
def test_layers_run_on_cuda():
    torch.manual_seed(0)
    cpu = th.HopfieldLayer(8, 6, 16, 4)
    gpu = th.HopfieldLayer(8, 6, 16, 4, device="cuda")
    gpu.load_state_dict(cpu.state_dict())
    R, Y = torch.randn(3, 5, 8), torch.randn(3, 11, 6)
    assert close(gpu(R.cuda(), Y.cuda()).cpu(), cpu(R, Y))
    X = torch.randn(100, 16, device="cuda")
    new, p = th.modern_hopfield_update(X[:5], X, 2.0)
    assert new.device.type == "cuda" and close(new.cpu(), th.modern_hopfield_update(
        X[:5].cpu(), X.cpu(), 2.0)[0])
