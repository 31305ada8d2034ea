"""Checks for the exercises of chapter 5, *Vanishing and exploding gradients*.

=========================== ============ ========================================================
exercise                    kind         what the check does
=========================== ============ ========================================================
05-jacobian-product         implement    ∂h_T/∂h_0 of a tanh RNN from its states and W_hh
                                         (5.2)–(5.3), on fresh random states (T = 1, H = 1,
                                         saturated units, a radius above 1); autograd is refused
05-gradient-norms           implement    the spectral norms ‖∂h_T/∂h_t‖₂ for t = 0 .. T, on fresh
                                         random states (T = 1, H = 1, a fully saturated step,
                                         exploding products); autograd is refused
05-spectral-radius          implement    W rescaled to a spectral radius (5.5), on non-symmetric
                                         matrices whose dominant eigenvalues are a complex pair,
                                         a negative number, or anything (H = 1, ρ = 0)
05-initialisation           experiment   trains the chapter's 16-unit RNN on first-bit recall at
                                         lag 30 from the chosen initialisation, three fixed seeds
05-gradient-concepts        concept      vanish / explode / neither for linear and tanh
                                         recurrences, a gradient norm after 20 steps, the bound of
                                         tanh', what clipping by norm does to a short and a long
                                         gradient and to an SGD step, an IRNN's product at the
                                         start
=========================== ============ ========================================================

The references are the package's ``seqlearn.numpy.gradient_flow``. When an answer is wrong, the
implement checks compare it with what typical mistakes give (W_hh not transposed, the derivative
scaling columns instead of rows, the product in the wrong order, tanh applied twice, h_{t-1} for
h_t, a Jacobian too few, the Frobenius norm, real parts of complex eigenvalues, the largest
singular value) and name the mistake they recognise; otherwise the hint points to the equations
by number.

The first-bit recall experiment of the chapter, :func:`recall_first_bit_runs` (one run:
:func:`recall_first_bit`), lives here so that the chapter's table of lags and the experiment
check train exactly the same network.
"""

import copy
import math

import numpy as np

from ..numpy import gradient_flow
from .core import check_concept, check_experiment, fresh_rng, register, run_check, to_numpy

#: What a hand-written Jacobian product may not use: autograd, which would differentiate a
#: recurrence for the student.
AUTOGRAD = ("jacobian", "jacrev", "jacfwd", "vjp", "jvp", "backward", "grad")


def _close(a, b):
    try:
        a, b = to_numpy(a), to_numpy(b)
        return a.shape == b.shape and bool(np.allclose(a, b, atol=1e-9, rtol=1e-6))
    except (TypeError, ValueError):
        return False


def _diagnose(student_fn, reference_fn, cases, mistakes, default):
    """The message of the first mistake whose outputs the student's answer reproduces on every
    case while differing from the reference on at least one, else ``default``. Requiring every
    case keeps a short case (T = 1, where the reversed and the forward order agree) from naming
    the wrong mistake; an answer that raises is left to ``run_check`` to report."""
    try:
        gots = [student_fn(**copy.deepcopy(case)) for case in cases]
    except Exception:  # noqa: BLE001 - run_check reports the error (or "not attempted")
        return default
    wants = [reference_fn(**copy.deepcopy(case)) for case in cases]
    for mistake, message in mistakes:
        with np.errstate(all="ignore"):
            wrongs = [mistake(**copy.deepcopy(case)) for case in cases]
        if all(_close(wrong, want) for wrong, want in zip(wrongs, wants)):
            continue  # these cases cannot tell this mistake from the right answer
        if all(_close(got, wrong) for got, wrong in zip(gots, wrongs)):
            return message
    return default


# -- the Jacobians of a tanh RNN, right and wrong ----------------------------------------------

def _jacobians(h, W_hh, derivative="tanh", transpose=True, rows=True, shift=False):
    """J_1 .. J_T of a tanh RNN from its states h (T, H); the keywords make the mistakes."""
    h = np.asarray(h, dtype=float)
    if shift:  # h[t-1] where h[t] belongs (h[0] holds h_1, so index -1 wraps round to h_T)
        h = np.roll(h, 1, axis=0)
    d = {"tanh": 1.0 - h**2, "one-minus-h": 1.0 - h, "tanh-twice": 1.0 - np.tanh(h) ** 2,
         "none": np.ones_like(h)}[derivative]
    W = np.asarray(W_hh, dtype=float)
    W = W.T if transpose else W
    return [d_t[:, None] * W if rows else d_t[None, :] * W for d_t in d]


def _backward_products(jacobians, H, newest_left=True):
    """P_t = ∂h_T/∂h_t for t = 0 .. T (P_T = I); ``newest_left=False`` multiplies on the wrong
    side, which gives J_{t+1} ··· J_T."""
    T = len(jacobians)
    P = [None] * (T + 1)
    P[T] = np.eye(H)
    for t in range(T, 0, -1):
        P[t - 1] = P[t] @ jacobians[t - 1] if newest_left else jacobians[t - 1] @ P[t]
    return P


def reference_jacobian_product(h, W_hh):
    """∂h_T/∂h_0 = J_T ··· J_1 with J_t = diag(1 − h_t²) W_hhᵀ; h (T, H) holds h_1 .. h_T."""
    J = gradient_flow.jacobians_from_states(np.asarray(h, dtype=float)[None], W_hh, "tanh")
    return gradient_flow.jacobian_products(J)[0, 0]


def reference_gradient_norms(h, W_hh):
    """‖∂h_T/∂h_t‖₂ for t = 0 .. T, (T + 1,), of the tanh RNN whose states h (T, H) are given."""
    J = gradient_flow.jacobians_from_states(np.asarray(h, dtype=float)[None], W_hh, "tanh")
    return np.linalg.norm(gradient_flow.jacobian_products(J)[0], ord=2, axis=(-2, -1))


def _product_variant(**how):
    order = how.pop("newest_left", True)
    skip = how.pop("skip", None)

    def product(h, W_hh):
        J = _jacobians(h, W_hh, **how)
        if skip == "first":
            J = J[1:]
        elif skip == "last":
            J = J[:-1]
        return _backward_products(J, np.shape(W_hh)[0], newest_left=order)[0]

    return product


def _norms_variant(norm=2, reverse=False, forward=False, radius=False, **how):
    order = how.pop("newest_left", True)

    def norms(h, W_hh):
        J = _jacobians(h, W_hh, **how)
        H = np.shape(W_hh)[0]
        if forward:  # ∂h_t/∂h_0 = J_t ··· J_1 for t = 0 .. T
            P = [np.eye(H)]
            for J_t in J:
                P.append(J_t @ P[-1])
        else:
            P = _backward_products(J, H, newest_left=order)
        if radius:
            values = np.array([np.abs(np.linalg.eigvals(p)).max() for p in P])
        else:
            values = np.array([np.linalg.norm(p, norm) for p in P])
        return values[::-1] if reverse else values

    return norms


_JACOBIAN_MISTAKES = [
    (dict(transpose=False),
     "W_hh is not transposed: in the row convention a_t = x_t W_xh + h_{t-1} W_hh + b_h "
     "(equation (5.1)), h_{t-1,j} reaches a_{t,i} through W_hh[j, i], and J_t has rows for h_t "
     "and columns for h_{t-1} (equation (5.2))"),
    (dict(rows=False),
     "the derivative scales the columns of the Jacobian instead of its rows: an array of shape "
     "(H,) times an (H, H) matrix broadcasts along the last axis, i.e. it multiplies by the "
     "diagonal matrix from the right; in equation (5.2) diag(f'(a_t)) stands on the left"),
    (dict(newest_left=False),
     "the product is in the wrong order: in equation (5.3) the newest Jacobian stands on the "
     "left, the oldest on the right"),
    (dict(derivative="tanh-twice"),
     "h_t already is tanh(a_t): you applied tanh to it once more before differentiating; write "
     "tanh'(a_t) in terms of h_t"),
    (dict(derivative="one-minus-h"),
     "the derivative of tanh is wrong: differentiate tanh(a) and write the result in terms of "
     "h = tanh(a)"),
    (dict(derivative="none"),
     "the derivative diag(f'(a_t)) of equation (5.2) is missing: that is the product of a linear "
     "RNN"),
    (dict(shift=True),
     "J_t needs f'(a_t), the derivative at step t itself, from h_t; you used the state of the "
     "step before (h[0] holds h_1, h[t - 1] holds h_t)"),
]


_JACOBIAN_HINT = ("build each J_t from equation (5.2), with f' = tanh' written in terms of the "
                  "state h_t, and multiply them as in equation (5.3); h[0] holds h_1")


def _jacobian_cases(rng):
    """Five (h, W_hh) cases: T = 1 with H = 1 and with H = 3, a general one, a long one whose
    W_hh has spectral radius 1.5, and one with saturated units (h exactly ±1, f' = 0)."""
    cases = []
    for T, H, radius in [(1, 1, 0.9), (1, 3, 0.9), (5, 4, 1.1), (12, 6, 1.5), (6, 3, 1.2)]:
        W_hh = gradient_flow.scaled_to_spectral_radius(rng.normal(size=(H, H)), radius)
        h = np.tanh(rng.normal(0, 1.2, size=(T, H)))
        cases.append({"h": h, "W_hh": W_hh})
    cases[-1]["h"][2, 0], cases[-1]["h"][4, 2] = 1.0, -1.0
    return cases


@register("05-jacobian-product", kind="implement", points=5,
          summary="∂h_T/∂h_0 of a tanh RNN from its states and W_hh against the reference on 5 "
                  "fresh random cases (T = 1, H = 1, saturated units, radius 1.5); W_hh not "
                  "transposed, columns scaled, the wrong order, tanh twice, h_{t-1} for h_t, no "
                  "derivative are named; autograd is refused",
          forbidden=AUTOGRAD)
def check_jacobian_product(jacobian_product):
    """Check ``jacobian_product(h, W_hh) -> (H, H)`` on fresh random tanh states."""
    cases = _jacobian_cases(fresh_rng())
    mistakes = [(_product_variant(**how), message) for how, message in _JACOBIAN_MISTAKES]
    mistakes += [
        (_product_variant(skip="first"),
         "one Jacobian is missing: ∂h_T/∂h_0 has one factor J_t for every state h_1 .. h_T "
         "(equation (5.3) with t = 0)"),
        (_product_variant(skip="last"),
         "one Jacobian is missing: ∂h_T/∂h_0 has one factor J_t for every state h_1 .. h_T "
         "(equation (5.3) with t = 0)"),
    ]
    hint = _diagnose(jacobian_product, reference_jacobian_product, cases, mistakes,
                     _JACOBIAN_HINT)
    return run_check(
        "05-jacobian-product", "jacobian_product", jacobian_product, reference_jacobian_product,
        cases, ["dhT_dh0"], atol=1e-9, hint=hint,
    )


# -- 05-gradient-norms -------------------------------------------------------------------------

def _gradient_norm_cases(rng):
    """Five (h, W_hh) cases: T = 1 with H = 1 and with H = 4, a general one, a long one with
    spectral radius 3 (the products explode), and one with a fully saturated step (every
    product before it is exactly 0)."""
    cases = []
    for T, H, radius in [(1, 1, 0.8), (1, 4, 1.0), (8, 5, 1.1), (25, 6, 3.0), (7, 3, 1.2)]:
        W_hh = gradient_flow.scaled_to_spectral_radius(rng.normal(size=(H, H)), radius)
        h = np.tanh(rng.normal(0, 0.6 if radius > 2 else 1.0, size=(T, H)))
        cases.append({"h": h, "W_hh": W_hh})
    cases[-1]["h"][3] = rng.choice([-1.0, 1.0], size=3)
    return cases


@register("05-gradient-norms", kind="implement", points=5,
          summary="the spectral norms ‖∂h_T/∂h_t‖₂ for t = 0 .. T of a tanh RNN from its states "
                  "and W_hh against the reference on 5 fresh random cases (T = 1, H = 1, a fully "
                  "saturated step, exploding products); the Frobenius norm, the reversed index, "
                  "∂h_t/∂h_0 instead, the wrong order, W_hh not transposed are named; autograd is "
                  "refused",
          forbidden=AUTOGRAD)
def check_gradient_norms(gradient_norms):
    """Check ``gradient_norms(h, W_hh) -> (T + 1,)`` on fresh random tanh states."""
    cases = _gradient_norm_cases(fresh_rng())
    mistakes = [
        (_norms_variant(norm="fro"),
         "that is the Frobenius norm (np.linalg.norm of a matrix by default): the text's ‖·‖₂ is "
         "the spectral norm, the largest singular value (entry T, the identity, has ‖I‖₂ = 1)"),
        (_norms_variant(radius=True),
         "that is the spectral radius of each product, its largest |eigenvalue|: the gradient's "
         "size is bounded by the spectral norm ‖·‖₂, the largest singular value"),
        (_norms_variant(reverse=True),
         "the entries are in reverse order: entry t is ‖∂h_T/∂h_t‖₂, so entry T (the identity) "
         "is 1 and entry 0 has passed through all T Jacobians"),
        (_norms_variant(forward=True),
         "those are the norms of ∂h_t/∂h_0, how each state depends on the first one; the "
         "gradient a loss at step T sends back to step t is ∂h_T/∂h_t (equation (5.3))"),
    ]
    mistakes += [(_norms_variant(**how), message) for how, message in _JACOBIAN_MISTAKES]
    hint = _diagnose(gradient_norms, reference_gradient_norms, cases, mistakes,
                     _JACOBIAN_HINT + "; entry t of the answer is ‖∂h_T/∂h_t‖₂, the largest "
                     "singular value, for t = 0 .. T")
    return run_check(
        "05-gradient-norms", "gradient_norms", gradient_norms, reference_gradient_norms, cases,
        ["norms"], atol=1e-12, rtol=1e-6, hint=hint,
    )


# -- 05-spectral-radius ------------------------------------------------------------------------

def reference_spectral_radius_scaling(W, rho):
    """W · ρ / max|λ(W)|."""
    return gradient_flow.scaled_to_spectral_radius(W, rho)


def _rotation(r, theta):
    return r * np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])


def _non_normal(rng, M):
    """S M S⁻¹ with a random, well-conditioned S (condition number below e^1.4 ≈ 4): the same
    eigenvalues, non-orthogonal eigenvectors, a 2-norm above the spectral radius."""
    H = M.shape[0]
    Q1, Q2 = gradient_flow.orthogonal_matrix(H, rng), gradient_flow.orthogonal_matrix(H, rng)
    s = np.exp(rng.uniform(-0.7, 0.7, size=H))
    return (Q1 * s) @ Q2 @ M @ Q2.T @ (Q1 / s).T


def _spectral_cases(rng):
    """Six (W, rho) cases. Cases 2, 3 and 6 have a dominant complex pair r·e^{±iθ} with
    θ ∈ [π/3, 2π/3], and every other eigenvalue of modulus at most 0.6 r, so that the largest
    |real part| is at most 0.6 r: real parts fail every run. Case 4's dominant eigenvalue is
    negative and real (the largest real part is another eigenvalue), case 1 is a negative 1×1
    matrix, case 5 a general non-normal Gaussian one; case 6 asks for ρ = 0."""
    def pair_dominant(H):
        r, theta = rng.uniform(0.5, 3.0), rng.uniform(np.pi / 3, 2 * np.pi / 3)
        M = np.zeros((H, H))
        M[:2, :2] = _rotation(r, theta)
        M[2:, 2:] = np.diag(rng.uniform(-0.6 * r, 0.6 * r, size=H - 2))
        return _non_normal(rng, M)

    def negative_dominant(H):
        r = rng.uniform(0.5, 3.0)
        M = np.zeros((H, H))
        M[0, 0] = -r
        M[1:3, 1:3] = _rotation(0.6 * r, rng.uniform(np.pi / 3, 2 * np.pi / 3))
        M[3:, 3:] = np.diag(rng.uniform(0.2 * r, 0.6 * r, size=H - 3))
        return _non_normal(rng, M)

    gaussian = rng.normal(size=(16, 16)) + 2.0 * np.triu(rng.normal(size=(16, 16)), k=1)
    return [
        {"W": -rng.uniform(0.5, 3.0, size=(1, 1)), "rho": 0.5},
        {"W": pair_dominant(2), "rho": 1.0},
        {"W": pair_dominant(6), "rho": 1.5},
        {"W": negative_dominant(8), "rho": 0.9},
        {"W": gaussian, "rho": 1.2},
        {"W": pair_dominant(3), "rho": 0.0},
    ]


def _dominant(W):
    lam = np.linalg.eigvals(np.asarray(W, dtype=float))
    return lam[np.argmax(np.abs(lam))]


_SPECTRAL_MISTAKES = [
    (lambda W, rho: W * rho / np.abs(np.linalg.eigvals(W).real).max(),
     "you took the real parts of the eigenvalues: a complex pair r·e^{±iθ} has real part "
     "r·cos θ but modulus r, and equation (5.5) uses the modulus |λ|"),
    (lambda W, rho: W * rho / np.linalg.eigvals(W).real.max(),
     "you took the largest real part of the eigenvalues (which is also what max() of NumPy's "
     "complex array picks): a dominant negative or complex eigenvalue is missed; equation (5.5) "
     "takes the largest modulus |λ|"),
    (lambda W, rho: W * rho / abs(np.max(np.linalg.eigvals(W))),
     "you took max() of the complex eigenvalues, which NumPy orders by their real parts: that "
     "need not be the eigenvalue of largest modulus |λ| (equation (5.5))"),
    (lambda W, rho: W * rho / _dominant(W),
     "you divided by the dominant eigenvalue itself, not by its modulus: the result is complex "
     "or has its sign flipped; equation (5.5) takes |λ|"),
    (lambda W, rho: (W * rho / _dominant(W)).real,
     "you divided by the dominant eigenvalue itself and kept the real part: divide by its "
     "modulus |λ| (equation (5.5)), a positive number"),
    (lambda W, rho: W * rho / np.linalg.norm(W, 2),
     "you divided by the largest singular value (the 2-norm): the spectral radius of equation "
     "(5.5) is the largest |eigenvalue|, and for a non-symmetric W the two differ"),
    (lambda W, rho: W * rho / np.linalg.norm(W),
     "you divided by the Frobenius norm: the spectral radius of equation (5.5) is the largest "
     "|eigenvalue|"),
    (lambda W, rho: W * rho / np.abs(np.linalg.eigvalsh(W)).max(),
     "np.linalg.eigvalsh is for symmetric matrices (it reads one triangle only); these W are "
     "not symmetric"),
    (lambda W, rho: W / np.abs(np.linalg.eigvals(W)).max(),
     "the result has spectral radius 1, not rho: multiply by rho as well"),
]


@register("05-spectral-radius", kind="implement", points=6,
          summary="W rescaled to spectral radius rho against the reference on 6 fresh random "
                  "non-symmetric matrices (H = 1 negative, dominant complex pairs, a dominant "
                  "negative eigenvalue, rho = 0); real parts, the largest real part, the signed "
                  "eigenvalue, the 2-norm, the Frobenius norm, eigvalsh are named")
def check_spectral_radius_scaling(scale_to_spectral_radius):
    """Check ``scale_to_spectral_radius(W, rho)`` on non-symmetric matrices, where (but for the
    1×1 case) the spectral radius and the largest singular value differ, and some dominant
    eigenvalues are complex."""
    cases = _spectral_cases(fresh_rng())
    hint = _diagnose(scale_to_spectral_radius, reference_spectral_radius_scaling, cases,
                     _SPECTRAL_MISTAKES,
                     "the spectral radius is defined in equation (5.5); these matrices are not "
                     "symmetric, so their eigenvalues may be complex")
    return run_check(
        "05-spectral-radius", "scale_to_spectral_radius", scale_to_spectral_radius,
        reference_spectral_radius_scaling, cases, ["W_scaled"], hint=hint,
    )


# -- 05-initialisation -------------------------------------------------------------------------

#: The initialisations the recall experiment knows by name (a number is a spectral radius).
INITIALISATIONS = ("default", "rescaled", "orthogonal", "identity")

#: The experiment's set-up: the chapter's first-bit recall task at lag ``lag``, its 16-unit
#: ElmanRNN, trained for at most ``steps`` Adam steps (learning rate ``lr``, gradients clipped to
#: norm 1) of ``batch_size`` sequences, stopping once the training accuracy of the last 10 steps
#: reaches ``target_accuracy``; a seed counts as solved when the accuracy on ``n_test`` fresh
#: sequences is at least ``pass_accuracy``.
RECALL = {"lag": 30, "hidden_size": 16, "steps": 300, "batch_size": 64, "lr": 0.01,
          "target_accuracy": 0.99, "n_test": 1000, "pass_accuracy": 0.9, "seeds": (0, 1, 2)}

#: The parameters of one run of the recall experiment: the RNN's, then the head's
#: (scores = h_T W_y + b_y, W_y (H, 2), b_y (2,)).
_RUN_PARAMETERS = ("W_xh", "W_hh", "b_h", "W_y", "b_y")


def _as_initialisation(choice):
    if isinstance(choice, str):
        name = choice.strip().lower()
        if name not in INITIALISATIONS:
            raise ValueError(f"expected one of {', '.join(map(repr, INITIALISATIONS))} or a "
                             f"spectral radius (a number > 0), got {choice!r}")
        return name
    if isinstance(choice, bool) or not isinstance(choice, (int, float, np.integer, np.floating)):
        raise TypeError(f"expected one of {', '.join(map(repr, INITIALISATIONS))} or a spectral "
                        f"radius (a number > 0), got {choice!r}")
    if not math.isfinite(float(choice)) or not 0 < float(choice) <= 100:
        raise ValueError(f"expected a spectral radius in (0, 100], got {choice!r}")
    return float(choice)


def first_bit_batch(batch, lag, generator):
    """The first-bit recall task: ``x`` (batch, lag + 1, 1) of random bits ±1 (float64) and the
    class ``y`` (batch,), 1 where the FIRST bit is +1. ``generator``: a ``torch.Generator``."""
    import torch

    x = torch.randint(0, 2, (batch, lag + 1, 1), generator=generator).double() * 2 - 1
    return x, (x[:, 0, 0] > 0).long()


def _recall_start(init, seed, H):
    """The starting parameters of one run (NumPy arrays, ``_RUN_PARAMETERS``) and its
    nonlinearity. The torch seed draws an ``ElmanRNN``'s default parameters, then the head's;
    ``np.random.default_rng(seed)`` draws what ``init`` replaces. W_xh, b_h and the head are
    therefore the same for every tanh initialisation of one seed: only W_hh differs."""
    import torch

    from ..torch.rnn import ElmanRNN

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    nonlinearity = "relu" if init == "identity" else "tanh"
    params = ElmanRNN(1, H, nonlinearity=nonlinearity, dtype=torch.float64).to_numpy()[0]
    if init == "orthogonal":
        params["W_hh"] = gradient_flow.orthogonal_matrix(H, rng)
    elif init == "rescaled":
        params["W_hh"] = gradient_flow.scaled_to_spectral_radius(params["W_hh"], 1.0)
    elif init == "identity":
        params.update(gradient_flow.init_irnn_params(1, H, rng))
    elif not isinstance(init, str):
        params["W_hh"] = gradient_flow.scaled_to_spectral_radius(rng.normal(size=(H, H)), init)
    head = torch.nn.Linear(H, 2, dtype=torch.float64)
    params["W_y"] = head.weight.detach().numpy().T.copy()
    params["b_y"] = head.bias.detach().numpy().copy()
    return params, nonlinearity


def _rnn_part(params):
    return {name: params[name] for name in ("W_xh", "W_hh", "b_h")}


def recall_initial_params(init, seed, hidden_size=16):
    """The RNN's parameters ``{"W_xh" (1, H), "W_hh" (H, H), "b_h" (H,)}`` at the start of the
    run of :func:`recall_first_bit_runs` with initialisation ``init`` and ``seed``, to measure
    an untrained network; its units are ReLU for ``"identity"`` and tanh otherwise. The global
    torch random state is left as it was."""
    import torch

    state = torch.random.get_rng_state()
    try:
        return _rnn_part(_recall_start(_as_initialisation(init), int(seed), hidden_size)[0])
    finally:
        torch.random.set_rng_state(state)


def _train_recall_runs(starts, nonlinearity, seeds, lag, steps, target_accuracy, window=10,
                       optimizer="adam", lr=RECALL["lr"], clip=1.0):
    """Train the runs ``starts`` (parameter dicts) side by side; run k draws its batches from
    ``torch.Generator().manual_seed(seeds[k])``. Returns the trained parameters (torch
    tensors), the steps each run took, each run's generator (for its test set), the batched
    forward pass, and each run's training losses (one per step it took; the last is NaN or inf
    where the run diverged).

    The runs are independent networks computed with batched products, one ``fit`` for all:
    the loss is the sum of the runs' losses, so each run's parameters get their own run's
    gradient, and Adam works on every number separately. Two things are per run. Clipping:
    ``fit`` clips all parameters together, so the loss handed to it is a surrogate with the
    value of the summed loss whose gradient is each run's gradient clipped to norm 1 on its
    own (``clip=None``: not clipped). Early stopping: a run that has reached
    ``target_accuracy``, or whose loss is NaN or inf (it diverged), leaves the batch, its
    parameters get no gradient, and the optimiser leaves them alone. A run's result is what it
    would be if it were trained alone.
    """
    import torch
    import torch.nn.functional as F

    from ..torch.rnn import NONLINEARITIES
    from ..torch.train import fit

    f = NONLINEARITIES[nonlinearity]
    runs = torch.nn.ModuleList(
        torch.nn.ParameterDict({name: torch.nn.Parameter(torch.from_numpy(start[name]))
                                for name in _RUN_PARAMETERS}) for start in starts)
    generators = [torch.Generator().manual_seed(int(seed)) for seed in seeds]
    active = list(range(len(starts)))
    accuracies = [[] for _ in starts]
    losses_seen = [[] for _ in starts]

    def scores(members, x):
        """h_T W_y + b_y of the runs ``members`` on their inputs x (k, B, T, 1): (k, B, 2)."""
        W = {name: torch.stack([runs[k][name] for k in members]) for name in _RUN_PARAMETERS}
        k, B, T, D = x.shape
        xw = torch.baddbmm(W["b_h"][:, None], x.reshape(k, B * T, D), W["W_xh"])
        h = x.new_zeros((k, B, W["W_hh"].shape[-1]))
        for xw_t in xw.view(k, B, T, -1).unbind(2):
            h = f(torch.baddbmm(xw_t, h, W["W_hh"]))
        return torch.baddbmm(W["b_y"][:, None], h, W["W_y"])

    def batches(step):
        xs, ys = zip(*(first_bit_batch(RECALL["batch_size"], lag, generators[k])
                       for k in active))
        return list(active), torch.stack(xs), torch.stack(ys)

    def loss_fn(_, batch):
        members, x, y = batch
        s = scores(members, x)
        losses = F.cross_entropy(s.flatten(0, 1), y.flatten(), reduction="none")
        losses = losses.view(len(members), -1).mean(dim=1)
        finite = torch.isfinite(losses).tolist()
        correct = (s.argmax(-1) == y).double().mean(dim=1).tolist()
        for k, loss, accuracy, ok in zip(members, losses.tolist(), correct, finite):
            losses_seen[k].append(loss)
            if ok:
                accuracies[k].append(accuracy)
            else:  # diverged: out of the batch for good
                active.remove(k)
        if not any(finite):
            return torch.zeros((), dtype=x.dtype, requires_grad=True)  # nothing left to train
        keep = [j for j, ok in enumerate(finite) if ok]
        members, losses = [members[j] for j in keep], losses[keep]
        params = [runs[k][name] for k in members for name in _RUN_PARAMETERS]
        grads = torch.autograd.grad(losses.sum(), params)
        surrogate = losses.sum().detach()
        n = len(_RUN_PARAMETERS)
        for j in range(len(members)):
            own = grads[j * n:(j + 1) * n]
            norm = torch.sqrt(sum((g ** 2).sum() for g in own))
            scale = (torch.ones((), dtype=norm.dtype) if clip is None else
                     torch.clamp(clip / (norm + 1e-6), max=1.0))  # as nn.utils.clip_grad_norm_
            for p, g in zip(params[j * n:(j + 1) * n], own):
                # value 0, gradient scale * g
                surrogate = surrogate + (p * (scale * g)).sum() - (p.detach() * (scale * g)).sum()
        return surrogate

    def all_solved(record):
        if target_accuracy is not None:
            active[:] = [k for k in active if len(accuracies[k]) < window
                         or np.mean(accuracies[k][-window:]) < target_accuracy]
        return not active

    fit(runs, loss_fn, batches, steps=steps, optimizer=optimizer, lr=lr, callback=all_solved)
    return ([{name: run[name].detach() for name in _RUN_PARAMETERS} for run in runs],
            [len(a) for a in losses_seen], generators, scores,
            [np.array(a) for a in losses_seen])


def recall_first_bit_runs(inits, lag, seeds, steps=300, target_accuracy=None, n_test=2000,
                          hidden_size=16, optimizer="adam", lr=RECALL["lr"], clip=1.0):
    """Train the chapter's RNN on first-bit recall at ``lag``, once for every pair of an
    initialisation in ``inits`` and a seed in ``seeds``, all runs side by side.

    Each run is a ``hidden_size``-unit tanh (or ReLU) Elman RNN with a linear head to two
    classes, trained with Adam (lr 0.01, its gradient clipped to norm 1; ``optimizer="sgd"``,
    ``lr`` and ``clip``, a norm or ``None``, change that) on batches of 64 fresh sequences for
    ``steps`` steps, or until its training accuracy over the last 10 steps reaches
    ``target_accuracy``, or until its loss is NaN or inf (it diverged), and tested on ``n_test``
    fresh sequences. An initialisation is
    ``"default"`` (PyTorch's U(±1/√H), tanh), ``"rescaled"`` (the same default W_hh multiplied
    to spectral radius 1), ``"orthogonal"`` (tanh, W_hh a random orthogonal matrix),
    ``"identity"`` (the IRNN: ReLU, W_hh = I, b_h = 0, small input weights) or a number ρ > 0
    (tanh, W_hh a Gaussian matrix rescaled to spectral radius ρ). The seed draws the starting
    weights and the data; the runs of one seed see the same batches, and with tanh they differ
    only in W_hh. The global torch random state and thread count are left as they were.

    Returns a dict of arrays of shape (len(inits), len(seeds)): ``accuracy`` (test; NaN for a
    run that diverged), ``steps`` (taken), ``diverged`` (1.0 where the loss became NaN or inf),
    ``spectral_radius`` (of W_hh at the start) and ``gradient_norm`` (the median over 256
    sequences of ‖∂h_T/∂h_0‖₂ at the start); ``params``, a nested list [init][seed] of the
    trained RNNs' parameters, NumPy arrays ``W_xh`` (1, H), ``W_hh`` (H, H) and ``b_h`` (H,)
    (the starting ones: :func:`recall_initial_params`); and ``losses``, a nested list
    [init][seed] of each run's training losses, one per step taken.
    """
    import torch

    inits = [_as_initialisation(init) for init in inits]
    seeds = [int(seed) for seed in seeds]
    H = hidden_size
    pairs = [(i, j) for i in range(len(inits)) for j in range(len(seeds))]
    shape = (len(inits), len(seeds))
    result = {key: np.zeros(shape) for key in
              ("accuracy", "steps", "diverged", "spectral_radius", "gradient_norm")}
    result["params"] = [[None] * len(seeds) for _ in inits]
    result["losses"] = [[None] * len(seeds) for _ in inits]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    state = torch.random.get_rng_state()
    try:
        starts = {pair: _recall_start(inits[pair[0]], seeds[pair[1]], H) for pair in pairs}
        for nonlinearity in ("tanh", "relu"):
            group = [pair for pair in pairs if starts[pair][1] == nonlinearity]
            if not group:
                continue
            for i, j in group:
                params = starts[i, j][0]
                probe = first_bit_batch(256, lag,
                                        torch.Generator().manual_seed(10_000 + seeds[j]))[0]
                norms = gradient_flow.gradient_norms_through_time(
                    probe.numpy(), None, _rnn_part(params), nonlinearity)
                result["spectral_radius"][i, j] = gradient_flow.spectral_radius(params["W_hh"])
                result["gradient_norm"][i, j] = np.median(norms[:, 0])
            trained, taken, generators, scores, losses = _train_recall_runs(
                [starts[pair][0] for pair in group], nonlinearity,
                [seeds[j] for _, j in group], lag, steps, target_accuracy,
                optimizer=optimizer, lr=lr, clip=clip)
            with torch.no_grad():
                for k, (i, j) in enumerate(group):
                    x, y = first_bit_batch(n_test, lag, generators[k])
                    guess = scores([k], x[None])[0].argmax(-1)
                    diverged = not np.isfinite(losses[k][-1])
                    result["accuracy"][i, j] = (np.nan if diverged else
                                                float((guess == y).double().mean()))
                    result["diverged"][i, j] = float(diverged)
                    result["losses"][i][j] = losses[k]
                    result["steps"][i, j] = taken[k]
                    result["params"][i][j] = _rnn_part({name: value.numpy().copy()
                                                        for name, value in trained[k].items()})
    finally:
        torch.random.set_rng_state(state)
        torch.set_num_threads(threads)
    return result


def recall_first_bit(init, lag, seed, steps=300, target_accuracy=None, n_test=2000,
                     hidden_size=16):
    """One run of :func:`recall_first_bit_runs`: the chapter's RNN trained on first-bit recall
    at ``lag`` from the initialisation ``init`` (a name or a spectral radius) and ``seed``.

    Returns a dict: ``accuracy`` on ``n_test`` fresh sequences, ``steps`` taken,
    ``spectral_radius`` of W_hh at the start, ``gradient_norm``, the median over 256 sequences
    of ‖∂h_T/∂h_0‖₂ at the start.
    """
    runs = recall_first_bit_runs([init], lag, [seed], steps, target_accuracy, n_test,
                                 hidden_size)
    return {"accuracy": float(runs["accuracy"][0, 0]), "steps": int(runs["steps"][0, 0]),
            "spectral_radius": float(runs["spectral_radius"][0, 0]),
            "gradient_norm": float(runs["gradient_norm"][0, 0])}


def recall_first_bit_lstm(lag, seeds, forget_bias=0.0, steps=300, target_accuracy=None,
                          n_test=2000, hidden_size=16):
    """The recall experiment of :func:`recall_first_bit_runs` with an LSTM in place of the RNN.

    For each seed: a one-layer ``hidden_size``-unit ``seqlearn.torch.lstm.LSTM`` at PyTorch's
    default initialisation (every parameter from U(±1/√H)), its forget-gate bias raised by
    ``forget_bias`` (the block H..2H of ``b``, gates in the order i, f, g, o), and a linear head,
    trained by ``train_sequence_classifier`` exactly as the RNN runs are (Adam, lr 0.01, gradients
    clipped to norm 1, batches of 64, the same seed's batches as the RNN runs of that seed). The
    LSTM has four times the RNN's recurrent parameters.

    Returns a dict: ``accuracy`` and ``steps`` (len(seeds),) arrays, ``models``, the trained
    ``(lstm, head)`` pairs, and ``initial``, an untrained copy of each LSTM.
    """
    import copy as copy_module

    import torch

    from ..torch.lstm import LSTM
    from ..torch.train import evaluate, train_sequence_classifier

    H = hidden_size
    result = {"accuracy": np.zeros(len(seeds)), "steps": np.zeros(len(seeds)), "models": [],
              "initial": []}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    state = torch.random.get_rng_state()
    try:
        for j, seed in enumerate(seeds):
            torch.manual_seed(int(seed))
            generator = torch.Generator().manual_seed(int(seed))
            lstm = LSTM(1, H, dtype=torch.float64)
            with torch.no_grad():
                lstm.b[H:2 * H] += forget_bias
            head = torch.nn.Linear(H, 2, dtype=torch.float64)
            result["initial"].append(copy_module.deepcopy(lstm))
            run = train_sequence_classifier(
                lstm, head, lambda step: first_bit_batch(RECALL["batch_size"], lag, generator),
                steps=steps, lr=RECALL["lr"], clip=1.0, target_accuracy=target_accuracy)
            result["accuracy"][j] = evaluate(lstm, head, *first_bit_batch(n_test, lag, generator))
            result["steps"][j] = run["steps"]
            result["models"].append((lstm, head))
    finally:
        torch.random.set_rng_state(state)
        torch.set_num_threads(threads)
    return result


def _describe_initialisation(init):
    if isinstance(init, float):
        return f"tanh, Gaussian W_hh rescaled to spectral radius {init:g}"
    return {"default": "tanh, PyTorch's default U(±1/√H)",
            "rescaled": "tanh, PyTorch's default W_hh rescaled to spectral radius 1",
            "orthogonal": "tanh, orthogonal W_hh",
            "identity": "ReLU, W_hh = I (IRNN)"}[init]


def _measure_initialisation(choice):
    init = _as_initialisation(choice)
    lag, seeds = RECALL["lag"], RECALL["seeds"]
    lines = [f"{_describe_initialisation(init)}; first-bit recall at lag {lag}, at most "
             f"{RECALL['steps']} steps per seed (chance: 50%)"]
    try:
        runs = recall_first_bit_runs([init], lag, seeds, steps=RECALL["steps"],
                                     target_accuracy=RECALL["target_accuracy"],
                                     n_test=RECALL["n_test"], hidden_size=RECALL["hidden_size"])
    except (FloatingPointError, RuntimeError) as err:
        return 0, lines + [f"training stopped: {err}"]
    score = 0
    for j, seed in enumerate(seeds):
        accuracy = runs["accuracy"][0, j]
        solved = accuracy >= RECALL["pass_accuracy"]
        score += solved
        lines.append(
            f"seed {seed}: at the start ρ(W_hh) = {runs['spectral_radius'][0, j]:.2f} and the "
            f"median ‖∂h_T/∂h_0‖₂ = {runs['gradient_norm'][0, j]:.1e}; after "
            f"{int(runs['steps'][0, j])} steps test accuracy {accuracy:.0%} -> "
            + ("solved" if solved else "not solved"))
    if score < len(seeds):
        lines.append(f"hint: the gradient that teaches the network to keep the first bit must "
                     f"cross {lag} steps; which starts keep ‖∂h_T/∂h_0‖₂ from vanishing? Compare "
                     "the radii in the widget, and try choices with "
                     "recall_first_bit(choice, 30, seed) before you submit one")
    return score, lines


@register("05-initialisation", kind="experiment", points=len(RECALL["seeds"]),
          summary="trains the chapter's 16-unit RNN on first-bit recall at lag 30 (where the "
                  "default initialisation is at chance) from the chosen initialisation (a name "
                  "or a spectral radius), at most 300 Adam steps, for 3 fixed seeds; a point per "
                  "seed with test accuracy ≥ 90%")
def check_initialisation(choose_initialisation):
    """Check ``choose_initialisation() -> "default" | "rescaled" | "orthogonal" | "identity" |
    float``."""
    return check_experiment("05-initialisation", "An initialisation that remembers",
                            choose_initialisation, _measure_initialisation,
                            max_score=len(RECALL["seeds"]))


# -- 05-gradient-concepts ----------------------------------------------------------------------

_FATES = ("vanish", "explode", "neither", "depends")

_NOT_THE_STATES = ("a linear recurrence has no states to depend on: its Jacobian is the same "
                   "matrix at every step (equation (5.4))")

_CONCEPT_QUESTIONS = [
    {"key": "linear_rho_09", "answer": "vanish",
     "explain": {"explode": "with ρ < 1 no eigen-component can grow: each is multiplied by some "
                            "|λ| ≤ ρ at every step (equation (5.4))",
                 "neither": "the product is the same W at every step, and ρ < 1 decides its "
                            "long-run rate (equation (5.4))",
                 "depends": _NOT_THE_STATES},
     "hint": f"answer one of {', '.join(_FATES)}; read equation (5.4) for |λ| below 1"},
    {"key": "linear_rho_11", "answer": "explode",
     "explain": {"vanish": "the components along smaller eigenvalues do shrink, but the one "
                           "along the eigenvalue of modulus 1.1 grows geometrically and "
                           "dominates after enough steps",
                 "neither": "ρ > 1: one eigen-component grows by a factor ρ at every step",
                 "depends": _NOT_THE_STATES},
     "hint": f"answer one of {', '.join(_FATES)}; read equation (5.4) for |λ| above 1"},
    {"key": "linear_orthogonal", "answer": "neither",
     "explain": {"vanish": "every singular value of an orthogonal matrix is 1: it turns a vector "
                           "without changing its length, and so does any product of them",
                 "explode": "every singular value of an orthogonal matrix is 1: it turns a vector "
                            "without changing its length, and so does any product of them",
                 "depends": _NOT_THE_STATES},
     "hint": f"answer one of {', '.join(_FATES)}; what does an orthogonal matrix do to lengths?"},
    {"key": "linear_norm_20", "answer": 0.9**20, "tolerance": 1e-3,
     "explain": {0.9 * 20: "0.9 · 20 adds where the chain rule multiplies (equation (5.3))",
                 0.9**19: "count the factors of equation (5.3) between h_{T−20} and h_T",
                 0.9**21: "count the factors of equation (5.3) between h_{T−20} and h_T",
                 1.0: "Q alone keeps lengths, but each step also multiplies by 0.9",
                 0.9: "that is one step; the gradient crosses 20 of them"},
     "hint": "write ∂h_T/∂h_{T−20} as a product (equation (5.3)) and use what Q does to norms"},
    {"key": "tanh_derivative_max", "answer": 1.0, "tolerance": 1e-6,
     "explain": {0.25: "that is the largest derivative of the logistic sigmoid, σ(1 − σ) at 0; "
                       "tanh is steeper",
                 0.0: "that is where tanh saturates, the smallest value its derivative "
                      "approaches"},
     "hint": "write tanh'(a) in terms of tanh(a) and find where it is largest"},
    {"key": "tanh_sigma_09", "answer": "vanish",
     "explain": {"depends": "here the states do not matter: the bound of equation (5.6) holds "
                            "for every input",
                 "explode": "equation (5.6) bounds the norm from above; what does the bound do "
                            "as T − t grows?",
                 "neither": "equation (5.6) bounds the norm from above; what does the bound do "
                            "as T − t grows?"},
     "hint": f"answer one of {', '.join(_FATES)}; apply the bound of equation (5.6)"},
    {"key": "tanh_rho_15", "answer": "depends",
     "explain": {"explode": "ρ > 1 makes growth possible, not certain: units that saturate have "
                            "tanh' near 0 and damp the product (see the table in the section "
                            "'With a nonlinearity')",
                 "vanish": "it did in the table's run, but nothing forces it: the bound of "
                           "equation (5.6) allows growth when ‖W_hh‖₂ > 1, and inputs that keep "
                           "the units out of saturation let the product grow",
                 "neither": "the product changes with the states at every step; nothing keeps "
                            "its norm constant"},
     "hint": f"answer one of {', '.join(_FATES)}; compare the linear and the tanh columns of the "
             "table in the section 'With a nonlinearity'"},
    {"key": "clip_small", "answer": 1e-6,
     "explain": {1.0: "clipping by norm multiplies ∇L by min(1, κ/‖∇L‖) (equation (5.7)), a "
                      "factor never above 1: it cannot lengthen a short gradient",
                 1e6: "clipping by norm multiplies ∇L by min(1, κ/‖∇L‖) (equation (5.7)), a factor "
                      "never above 1",
                 0.0: "clipping keeps the direction and never zeroes a gradient"},
     "hint": "apply equation (5.7) with ‖∇L‖ = 1e-6 and κ = 1"},
    {"key": "clip_large", "answer": 5.0,
     "explain": {40.0: "‖∇L‖ = 40 is above κ = 5: the clip is active",
                 0.125: "that is the factor κ/‖∇L‖ by which ∇L is multiplied, not the new norm",
                 200.0: "clipping by norm never lengthens a gradient (equation (5.7))"},
     "hint": "apply equation (5.7) with ‖∇L‖ = 40 and κ = 5"},
    {"key": "clip_sgd_step", "answer": 3.0, "tolerance": 1e-6,
     "explain": {1.0: "that is the longest clipped gradient; the SGD step is η times it",
                 1 / 3: "the SGD step multiplies the clipped gradient by η, it does not divide",
                 0.0: "clipping bounds the step, it never removes it"},
     "hint": "an SGD step is θ ← θ − η ∇L; how long can ∇L be after equation (5.7)?"},
    {"key": "irnn_active", "answer": 1.0, "tolerance": 1e-6,
     "explain": {0.0: "that is what happens once every unit has been off at some step; here "
                      "every unit stays active",
                 50.0: "the Jacobians multiply, they do not add (equation (5.3))"},
     "hint": "write J_t of equation (5.2) for a ReLU unit that is active and W_hh = I, then "
             "multiply k of them"},
]


@register("05-gradient-concepts", kind="concept", points=len(_CONCEPT_QUESTIONS),
          summary="vanish / explode / neither / depends for linear recurrences with ρ = 0.9, 1.1 "
                  "and an orthogonal W and for tanh RNNs with σ_max = 0.9 and ρ = 1.5; "
                  "‖∂h_T/∂h_{T−20}‖₂ for W = 0.9·Q; the largest tanh'; a gradient's norm after "
                  "clipping by norm when it is short and when it is long; the longest clipped "
                  "SGD step; ‖∂h_T/∂h_{T−50}‖₂ of an IRNN at the start with every unit active")
def check_gradient_concepts(answers):
    """Check ``answers() -> dict`` of the eleven answers (see ``_CONCEPT_QUESTIONS``)."""
    return check_concept("05-gradient-concepts", "What the spectral radius says", answers,
                         _CONCEPT_QUESTIONS)


__all__ = ["AUTOGRAD", "INITIALISATIONS", "RECALL", "check_gradient_concepts",
           "check_gradient_norms", "check_initialisation", "check_jacobian_product",
           "check_spectral_radius_scaling", "first_bit_batch", "recall_first_bit",
           "recall_first_bit_lstm", "recall_first_bit_runs",
           "recall_initial_params",
           "reference_gradient_norms", "reference_jacobian_product",
           "reference_spectral_radius_scaling"]
