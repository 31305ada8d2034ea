"""MUT1/MUT2/MUT3 (Jozefowicz et al. 2015): NumPy reference against the equations, lengths,
torch parity (one layer and a stack), bad input."""

import numpy as np
import pytest
import torch

from seqlearn.numpy.mut import (KINDS, PARAM_SHAPES, init_mut_params, mut_forward, mut_kind,
                                mut_step)
from seqlearn.torch.mut import MUT

B, T, H = 3, 4, 5


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def _by_the_paper(kind, x_t, h, p):
    """The paper's equations written out directly, for one step."""
    if kind == "MUT1":
        z = _sigmoid(x_t @ p["W_xz"] + p["b_z"])
        r = _sigmoid(x_t @ p["W_xr"] + h @ p["W_hr"] + p["b_r"])
        cand = np.tanh((r * h) @ p["W_hh"] + np.tanh(x_t) + p["b_h"])
    elif kind == "MUT2":
        z = _sigmoid(x_t @ p["W_xz"] + h @ p["W_hz"] + p["b_z"])
        r = _sigmoid(x_t + h @ p["W_hr"] + p["b_r"])
        cand = np.tanh((r * h) @ p["W_hh"] + x_t @ p["W_xh"] + p["b_h"])
    else:
        z = _sigmoid(x_t @ p["W_xz"] + np.tanh(h) @ p["W_hz"] + p["b_z"])
        r = _sigmoid(x_t @ p["W_xr"] + h @ p["W_hr"] + p["b_r"])
        cand = np.tanh((r * h) @ p["W_hh"] + x_t @ p["W_xh"] + p["b_h"])
    return cand * z + h * (1 - z)


@pytest.mark.parametrize("kind", KINDS)
def test_forward_follows_the_equations(rng, kind):
    D = H if kind != "MUT3" else 2
    params = init_mut_params(kind, D, H, rng)
    assert set(params) == set(PARAM_SHAPES[kind]) and mut_kind(params) == kind
    x, h0 = rng.normal(size=(B, T, D)), rng.normal(size=(B, H))
    h = mut_forward(x, h0, params)
    assert h.shape == (B, T, H)
    h_prev = h0
    for t in range(T):
        h_prev = _by_the_paper(kind, x[:, t], h_prev, params)
        np.testing.assert_allclose(h[:, t], h_prev, atol=1e-13)
    np.testing.assert_allclose(mut_step(x[:, 0], h0, params), h[:, 0], atol=1e-14)


@pytest.mark.parametrize("kind", KINDS)
def test_lengths_carry_the_state_and_zero_the_outputs(rng, kind):
    D = H if kind != "MUT3" else 2
    params = init_mut_params(kind, D, H, rng)
    x, h0 = rng.normal(size=(B, T, D)), rng.normal(size=(B, H))
    lengths = np.array([4, 1, 3])
    h = mut_forward(x, h0, params, lengths)
    for b, n in enumerate(lengths):
        np.testing.assert_allclose(h[b, :n], mut_forward(x[b:b + 1, :n], h0[b:b + 1], params)[0],
                                   atol=1e-14)
        assert np.all(h[b, n:] == 0)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("lengths", [None, np.array([4, 1, 3])])
def test_torch_matches_numpy_float64(rng, kind, lengths):
    D = H if kind != "MUT3" else 2
    params = init_mut_params(kind, D, H, rng)
    x, h0 = rng.normal(size=(B, T, D)), rng.normal(size=(B, H))
    model = MUT.from_numpy(params)
    assert model.kind == kind and model.W_xz is model.W_xz_l0
    out, h_T = model(torch.tensor(x), torch.tensor(h0), lengths=lengths)
    expected = mut_forward(x, h0, params, lengths)
    last = T - 1 if lengths is None else lengths - 1
    np.testing.assert_allclose(out.detach().numpy(), expected, atol=1e-10)
    np.testing.assert_allclose(h_T[0].detach().numpy(), expected[np.arange(B), last], atol=1e-10)
    step = model.step(torch.tensor(x[:, 0]), torch.tensor(h0), model.layer_parameters(0))
    np.testing.assert_allclose(step.detach().numpy(), mut_step(x[:, 0], h0, params), atol=1e-10)
    out.sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    (arrays,) = model.to_numpy()
    assert set(arrays) == set(params)
    for name, value in arrays.items():
        np.testing.assert_array_equal(value, params[name])


def test_stacked_mut_is_two_cells_in_a_row(rng):
    layers = [init_mut_params("MUT3", 2, H, rng), init_mut_params("MUT3", H, H, rng)]
    x = rng.normal(size=(B, T, 2))
    model = MUT.from_numpy(layers)
    assert model.num_layers == 2 and model.layer_parameters(1)["W_xz"].shape == (H, H)
    expected = mut_forward(mut_forward(x, None, layers[0]), None, layers[1])
    np.testing.assert_allclose(model(torch.tensor(x))[0].detach().numpy(), expected, atol=1e-10)
    assert repr(model) == f"MUT(input_size=2, hidden_size={H}, num_layers=2, kind='MUT3')"


def test_update_gate_closed_copies_the_state(rng):
    params = init_mut_params("MUT3", 2, H, rng)
    params["b_z"][:] = -1e3          # z = 0: h_{t+1} = h_t
    x, h0 = rng.normal(size=(B, T, 2)), rng.normal(size=(B, H))
    np.testing.assert_allclose(mut_forward(x, h0, params)[:, -1], h0, atol=1e-12)


def test_update_gate_open_takes_the_candidate(rng):
    # z = 1 - u = 1 (the paper's z open): h_t is the candidate alone, whatever h_{t-1} was
    params = init_mut_params("MUT3", 2, H, rng)
    params["b_z"][:] = 1e3
    x_t, h = rng.normal(size=(B, 2)), rng.normal(size=(B, H))
    r = _sigmoid(x_t @ params["W_xr"] + h @ params["W_hr"] + params["b_r"])
    candidate = np.tanh((r * h) @ params["W_hh"] + x_t @ params["W_xh"] + params["b_h"])
    np.testing.assert_allclose(mut_step(x_t, h, params), candidate, atol=1e-12)


def test_parameter_counts_against_the_gru():
    """The chapter's table: MUT1 lacks W_hz and W_xh, MUT2 lacks W_xr, MUT3 has the GRU's six
    matrices; each has one bias per block, where the torch-form GRU has two."""
    from seqlearn.torch.gru import GRU

    D = H
    gru = sum(p.numel() for p in GRU(D, H).parameters())
    assert gru == 3 * D * H + 3 * H * H + 6 * H
    expected = {"MUT1": gru - H * H - D * H - 3 * H, "MUT2": gru - D * H - 3 * H,
                "MUT3": gru - 3 * H}
    for kind in KINDS:
        assert sum(p.numel() for p in MUT(kind, D, H).parameters()) == expected[kind], kind
    assert {"W_xh", "W_hz"}.isdisjoint(PARAM_SHAPES["MUT1"])
    assert "W_xr" not in PARAM_SHAPES["MUT2"]
    assert {"W_xz", "W_hz", "W_xr", "W_hr", "W_xh", "W_hh"} <= set(PARAM_SHAPES["MUT3"])


def test_bad_input(rng):
    params = init_mut_params("MUT3", 2, H, rng)
    x = rng.normal(size=(B, T, 2))
    mut2 = init_mut_params("MUT2", H, H, rng)
    cases = [
        (lambda: init_mut_params("MUT4", 2, H), "kind"),
        (lambda: init_mut_params("MUT1", 2, H), "input_size"),
        (lambda: MUT("MUT2", 2, H), "input_size"),
        (lambda: mut_forward(x[..., :1], None, params), "x"),
        (lambda: mut_forward(x, np.zeros((B, H + 1)), params), "h0"),
        (lambda: mut_forward(x, None, {**params, "W_hz": np.zeros((H, 2))}), "W_hz"),
        (lambda: mut_forward(x, None, {k: v for k, v in params.items() if k != "W_xr"}),
         "params"),                                # neither MUT3's names nor MUT2's
        (lambda: mut_forward(x, None, {**mut2, "W_xz": np.zeros((2, H)),
                                        "W_xh": np.zeros((2, H))}), "input_size"),
        (lambda: mut_forward(x, None, params, lengths=[T, T]), "lengths"),
        (lambda: mut_step(x[:, 0], np.zeros((B, H - 1)), params), "h_prev"),
        (lambda: mut_forward(x, None, [params]), "params"),
        (lambda: MUT("MUT3", 2, H)(torch.randn(B, T, 3)), "x"),
        (lambda: MUT("MUT3", 2, H)(torch.randn(B, T, 2, dtype=torch.float64)), "x"),
        (lambda: MUT("MUT3", 2, H)(torch.randn(B, T, 2), lengths=[0, 1, 2]), "lengths"),
        (lambda: MUT.from_numpy("MUT3"), "params"),
        (lambda: MUT("MUT3", 2, H).to_torch_builtin(), "built-in"),
    ]
    for call, match in cases:
        with pytest.raises((ValueError, TypeError), match=match):
            call()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda(rng):
    params = init_mut_params("MUT1", H, H, rng)
    x = rng.normal(size=(B, T, H))
    model = MUT.from_numpy(params, device="cuda")
    out, _ = model(torch.tensor(x, device="cuda"), lengths=torch.tensor([4, 2, 1]))
    np.testing.assert_allclose(out.cpu().detach().numpy(),
                               mut_forward(x, None, params, [4, 2, 1]), atol=1e-10)
