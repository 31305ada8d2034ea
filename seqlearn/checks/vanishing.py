"""Checks for chapter 5 (Vanishing and exploding gradients): the product of the per-step
Jacobians of a tanh RNN, and rescaling a matrix to a given spectral radius."""

import numpy as np

from ..numpy import gradient_flow
from .core import fresh_rng, register, run_check


def reference_jacobian_product(h, W_hh):
    """∂h_T/∂h_0 = J_T ··· J_1 with J_t = diag(1 − h_t²) W_hhᵀ; h (T, H) holds h_1 .. h_T."""
    J = gradient_flow.jacobians_from_states(np.asarray(h, dtype=float)[None], W_hh, "tanh")
    return gradient_flow.jacobian_products(J)[0, 0]


def reference_spectral_radius_scaling(W, rho):
    """W · ρ / max|λ(W)|."""
    return gradient_flow.scaled_to_spectral_radius(W, rho)


@register("05-jacobian-product")
def check_jacobian_product(jacobian_product):
    """Check ``jacobian_product(h, W_hh)`` on random tanh states and recurrent weights."""
    rng = fresh_rng()
    cases = []
    for T, H in [(1, 3), (2, 2), (5, 4), (12, 6)]:
        W_hh = rng.normal(0, 1.2 / np.sqrt(H), size=(H, H))
        cases.append({"h": np.tanh(rng.normal(size=(T, H))), "W_hh": W_hh})
    return run_check(
        "05-jacobian-product", "jacobian_product", jacobian_product, reference_jacobian_product,
        cases, ["dhT_dh0"], atol=1e-9,
        hint="J_t = diag(1 - h_t**2) @ W_hh.T (transposed, because a_t = ... + h_{t-1} @ W_hh); "
             "multiply with the latest step on the LEFT: J_T @ ... @ J_2 @ J_1",
    )


@register("05-spectral-radius")
def check_spectral_radius_scaling(scale_to_spectral_radius):
    """Check ``scale_to_spectral_radius(W, rho)`` on non-symmetric matrices, where the spectral
    radius and the largest singular value differ."""
    rng = fresh_rng()
    cases = []
    for H, rho in [(2, 0.5), (4, 1.0), (8, 1.5), (16, 0.9)]:
        W = rng.normal(size=(H, H)) + 2.0 * np.triu(rng.normal(size=(H, H)), k=1)
        cases.append({"W": W, "rho": rho})
    return run_check(
        "05-spectral-radius", "scale_to_spectral_radius", scale_to_spectral_radius,
        reference_spectral_radius_scaling, cases, ["W_scaled"],
        hint="the spectral radius is the largest |eigenvalue| (np.abs(np.linalg.eigvals(W)).max()), "
             "not the largest singular value (the 2-norm); eigenvalues may be complex, so take "
             "their modulus, then multiply W by rho / radius",
    )


__all__ = ["check_jacobian_product", "check_spectral_radius_scaling", "reference_jacobian_product",
           "reference_spectral_radius_scaling"]
