"""MUT1/MUT2/MUT3 (Jozefowicz et al. 2015): NumPy reference against the equations, torch parity,
bad input."""

import numpy as np
import pytest
import torch

from seqlearn.numpy.mut import KINDS, PARAM_SHAPES, init_mut_params, mut_forward, mut_step
from seqlearn.torch.mut import MUT, MUTCell

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
    assert set(params) == set(PARAM_SHAPES[kind])
    x, h0 = rng.normal(size=(B, T, D)), rng.normal(size=(B, H))
    h = mut_forward(kind, x, h0, params)
    assert h.shape == (B, T, H)
    h_prev = h0
    for t in range(T):
        h_prev = _by_the_paper(kind, x[:, t], h_prev, params)
        np.testing.assert_allclose(h[:, t], h_prev, atol=1e-13)
    np.testing.assert_allclose(mut_step(kind, x[:, 0], h0, params), h[:, 0], atol=1e-14)


@pytest.mark.parametrize("kind", KINDS)
def test_torch_matches_numpy_float64(rng, kind):
    D = H if kind != "MUT3" else 2
    params = init_mut_params(kind, D, H, rng)
    x, h0 = rng.normal(size=(B, T, D)), rng.normal(size=(B, H))
    model = MUT.from_numpy(kind, params)
    out, h_T = model(torch.tensor(x), torch.tensor(h0))
    expected = mut_forward(kind, x, h0, params)
    np.testing.assert_allclose(out.detach().numpy(), expected, atol=1e-10)
    np.testing.assert_allclose(h_T.detach().numpy(), expected[:, -1], atol=1e-10)
    cell_out = model.cell(torch.tensor(x[:, 0]), torch.tensor(h0))
    np.testing.assert_allclose(cell_out.detach().numpy(), expected[:, 0], atol=1e-10)
    out.sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    for name, value in model.to_numpy().items():
        np.testing.assert_array_equal(value, params[name])


def test_update_gate_closed_copies_the_state(rng):
    params = init_mut_params("MUT3", 2, H, rng)
    params["b_z"][:] = -1e3          # z = 0: h_{t+1} = h_t
    x, h0 = rng.normal(size=(B, T, 2)), rng.normal(size=(B, H))
    np.testing.assert_allclose(mut_forward("MUT3", x, h0, params)[:, -1], h0, atol=1e-12)


def test_bad_input(rng):
    params = init_mut_params("MUT3", 2, H, rng)
    x = rng.normal(size=(B, T, 2))
    cases = [
        (lambda: init_mut_params("MUT4", 2, H), "kind"),
        (lambda: init_mut_params("MUT1", 2, H), "input_size"),
        (lambda: MUTCell("MUT2", 2, H), "input_size"),
        (lambda: mut_forward("MUT3", x[..., :1], None, params), "x"),
        (lambda: mut_forward("MUT3", x, np.zeros((B, H + 1)), params), "h0"),
        (lambda: mut_forward("MUT2", x, None, params), "params"),
        (lambda: mut_forward("MUT3", x, None, {**params, "W_hz": np.zeros((H, 2))}), "W_hz"),
        (lambda: MUT("MUT3", 2, H)(torch.randn(B, T, 3)), "x"),
        (lambda: MUT("MUT3", 2, H)(torch.randn(B, T, 2, dtype=torch.float64)), "x"),
        (lambda: MUT.from_numpy("MUT3", [params]), "params"),
    ]
    for call, match in cases:
        with pytest.raises((ValueError, TypeError), match=match):
            call()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda(rng):
    params = init_mut_params("MUT1", H, H, rng)
    x = rng.normal(size=(B, T, H))
    model = MUT.from_numpy("MUT1", params, device="cuda")
    out, _ = model(torch.tensor(x, device="cuda"))
    np.testing.assert_allclose(out.cpu().detach().numpy(), mut_forward("MUT1", x, None, params),
                               atol=1e-10)
