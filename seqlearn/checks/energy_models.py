"""Checks for the exercises of chapter 9, part two, *Boltzmann machines and reservoirs* (the
notebook ``09b_energy_models_reservoirs``).

=========================== ============ ========================================================
exercise                    kind         what the check does
=========================== ============ ========================================================
09-exact-partition          implement    log Z (9.10) and the marginals P(x_i = 1) of a small
                                         Boltzmann machine by enumerating its 2^n states, against
                                         the reference, on fresh random machines (n = 1, large
                                         couplings that overflow a naive sum)
09-cd1                      implement    the CD-1 estimate (9.15) of the gradient of an RBM, from
                                         given uniform random numbers, against the reference
09-ridge-readout            implement    the ridge-regression read-out (9.17) of an echo state
                                         network against the reference
09-reservoir-settings       experiment   trains echo state networks with the chosen spectral
                                         radius and leak rate to forecast Mackey–Glass 50 steps
                                         ahead, for three seeds
09-energy-concepts          concept      the size of Z, a conditional probability, the RBM's
                                         conditional independence, CD's limit, what an ESN
                                         trains, the terms of an RBM's log Z, the spectral radius
                                         of the echo state property
=========================== ============ ========================================================

The references are the package's ``seqlearn.numpy.boltzmann`` and ``seqlearn.numpy.reservoir``
functions. Typical mistakes (a naive sum that overflows, the sign of the gradient, sampled
hidden states in the statistics, a missing bias column or a bias left out of the ridge) are
named when an answer reproduces them (``core.diagnose_outputs``).
"""

import numpy as np

from ..numpy.boltzmann import all_states as _all_states
from ..numpy.boltzmann import boltzmann_log_partition as _log_partition
from ..numpy.boltzmann import boltzmann_moments as _moments
from ..numpy.boltzmann import rbm_backward as _rbm_backward
from ..numpy.boltzmann import rbm_forward as _rbm_forward
from ..numpy.reservoir import esn_forecast_error as _esn_forecast_error
from ..numpy.reservoir import fit_readout as _fit_readout
from .core import check_concept, check_experiment, diagnose_outputs, fresh_rng, register, run_check


def _sigmoid(a):
    return 0.5 * (1.0 + np.tanh(0.5 * a))


# -- 09-exact-partition -----------------------------------------------------------------------

def reference_exact_partition(J, b):
    """(log Z, marginals (n,)) of the Boltzmann machine (J, b), exactly."""
    return _log_partition(J, b), _moments(J, b)[0]


def _partition_variant(J, b, sign=1.0, halve=True, naive=False):
    X = _all_states(len(b))
    minus_E = sign * ((0.5 if halve else 1.0) * np.einsum("ki,ij,kj->k", X, J, X) + X @ b)
    with np.errstate(all="ignore"):
        if naive:
            weights = np.exp(minus_E)
            return np.log(weights.sum()), weights @ X / weights.sum()
        top = minus_E.max()
        weights = np.exp(minus_E - top)
        return top + np.log(weights.sum()), weights @ X / weights.sum()


#: (n, scale of the couplings) of the cases: one unit, generic machines, strong couplings.
_PARTITION_SHAPES = [(1, 1.0), (3, 1.0), (6, 1.0), (9, 0.5), (8, 60.0)]


def _partition_cases(rng):
    cases = []
    for n, scale in _PARTITION_SHAPES:
        J = rng.normal(scale=scale, size=(n, n))
        J = (J + J.T) / 2
        np.fill_diagonal(J, 0.0)
        b = rng.normal(scale=scale, size=n)
        if scale > 1:               # strong biases too: exp(−E) of the all-on state overflows
            b += 400.0
        cases.append({"J": J, "b": b})
    return cases


@register("09-exact-partition", kind="implement", points=2 * len(_PARTITION_SHAPES),
          summary="log Z and the marginals P(x_i = 1) of a Boltzmann machine (9.9)-(9.10) by "
                  "enumerating its states, on 5 fresh machines (n = 1 to 9, couplings large "
                  "enough to overflow a naive sum); a sign error, a missing ½ and an overflowing "
                  "sum are named",
          forbidden=("boltzmann_log_partition",))
def check_exact_partition(exact_partition):
    """Check ``exact_partition(J, b) -> (log_Z, marginals)``."""
    cases = _partition_cases(fresh_rng())
    mistakes = [
        (lambda **k: _partition_variant(**k, sign=-1.0),
         "the sign of the energy is flipped: p(x) ∝ exp(−E(x)) with E = −½ x J xᵀ − x bᵀ, so the "
         "exponent is +½ x J xᵀ + x bᵀ (9.9)-(9.10)"),
        (lambda **k: _partition_variant(**k, halve=False),
         "the ½ of the coupling term is missing: each pair appears twice in x J xᵀ (9.9)"),
    ]
    hint = diagnose_outputs(exact_partition, cases, reference_exact_partition, mistakes,
                            ["log_Z", "marginals"],
                            "list all 2^n states, compute −E for each (9.9), and normalise "
                            "(9.10); the marginal of unit i is the total probability of the "
                            "states with x_i = 1",
                            nonfinite="your answer holds NaN or inf for strong couplings: "
                                      "subtract the largest −E before exp (log Z = m + log Σ "
                                      "exp(−E − m))")
    return run_check("09-exact-partition", "The exact partition function", exact_partition,
                     reference_exact_partition, cases, ["log_Z", "marginals"], hint=hint)


# -- 09-cd1 -----------------------------------------------------------------------------------

def reference_cd1(v0, W, b_v, b_h, u_h, u_v):
    """(dW, db_v, db_h): CD-1 with h0 = [u_h < σ(v0 W + b_h)], v1 = [u_v < σ(h0 Wᵀ + b_v)]; the
    gradient of the mean negative log-likelihood estimated as ⟨∂F⟩_data − ⟨∂F⟩_(v1)."""
    params = {"W": W, "b_v": b_v, "b_h": b_h}
    h0 = (u_h < _sigmoid(v0 @ W + b_h)).astype(float)
    v1 = (u_v < _sigmoid(h0 @ W.T + b_v)).astype(float)
    B = len(v0)
    positive, _ = _rbm_backward(np.full(B, 1.0 / B), _rbm_forward(v0, params)[1])
    negative, _ = _rbm_backward(np.full(B, 1.0 / B), _rbm_forward(v1, params)[1])
    return tuple(positive[k] - negative[k] for k in ("W", "b_v", "b_h"))


def _cd1_variant(v0, W, b_v, b_h, u_h, u_v, sign=1.0, sampled_stats=False, v_probs=False,
                 mean=True):
    q0 = _sigmoid(v0 @ W + b_h)
    h0 = (u_h < q0).astype(float)
    p_v = _sigmoid(h0 @ W.T + b_v)
    v1 = p_v if v_probs else (u_v < p_v).astype(float)
    q1 = _sigmoid(v1 @ W + b_h)
    s0 = h0 if sampled_stats else q0
    k = 1.0 / len(v0) if mean else 1.0
    dW = -(v0.T @ s0 - v1.T @ q1) * k
    db_v = -(v0 - v1).sum(axis=0) * k
    db_h = -(s0 - q1).sum(axis=0) * k
    return sign * dW, sign * db_v, sign * db_h


_CD1_SHAPES = [(4, 6, 3), (1, 5, 4), (8, 12, 7), (5, 3, 9), (16, 10, 6)]


def _cd1_cases(rng):
    cases = []
    for B, D, H in _CD1_SHAPES:
        cases.append({"v0": (rng.random((B, D)) < 0.5).astype(float),
                      "W": rng.normal(scale=0.8, size=(D, H)), "b_v": rng.normal(size=D),
                      "b_h": rng.normal(size=H), "u_h": rng.random((B, H)),
                      "u_v": rng.random((B, D))})
    return cases


_CD1_OUTPUTS = ["dW", "db_v", "db_h"]


@register("09-cd1", kind="implement", points=3 * len(_CD1_SHAPES),
          summary="the CD-1 gradient (9.15) of an RBM (dW, db_v, db_h) from given uniform random "
                  "numbers on 5 fresh machines and batches (B = 1); the sign (ascent instead of "
                  "descent), sampled hidden states in the statistics, probabilities for v1 and "
                  "a sum instead of a mean are named",
          forbidden=("backward", "grad", "rbm_cd_gradients", "BernoulliRBM"))
def check_cd1(cd1_gradients):
    """Check ``cd1_gradients(v0, W, b_v, b_h, u_h, u_v) -> (dW, db_v, db_h)``."""
    cases = _cd1_cases(fresh_rng())
    mistakes = [
        (lambda **k: _cd1_variant(**k, sign=-1.0),
         "the sign is flipped: return the gradient of the negative log-likelihood (what gradient "
         "descent subtracts), ⟨∂F⟩_data − ⟨∂F⟩_recon, whose W part is −(⟨v hᵀ⟩_data − "
         "⟨v hᵀ⟩_recon)"),
        (lambda **k: _cd1_variant(**k, sampled_stats=True),
         "the data term uses the sampled h0; use the probabilities σ(v0 W + b_h), which give the "
         "same expectation with less noise (and are the derivative of the free energy)"),
        (lambda **k: _cd1_variant(**k, v_probs=True),
         "v1 is the probability σ(h0 Wᵀ + b_v); the contract samples it: v1 = [u_v < σ(...)]"),
        (lambda **k: _cd1_variant(**k, mean=False),
         "the gradients are summed over the batch: the contract is the mean over the B examples"),
    ]
    hint = diagnose_outputs(cd1_gradients, cases, reference_cd1, mistakes, _CD1_OUTPUTS,
                            "sample h0 from v0 with u_h, v1 from h0 with u_v (9.13), then "
                            "compare the statistics at v0 and at v1, with hidden probabilities, "
                            "as in (9.15)")
    return run_check("09-cd1", "One CD-1 step", cd1_gradients, reference_cd1, cases,
                     _CD1_OUTPUTS, hint=hint)


# -- 09-ridge-readout -------------------------------------------------------------------------

def reference_ridge_readout(states, targets, ridge):
    """W_out (H + 1, K) of equation (9.17)."""
    return _fit_readout(states, targets, ridge)


def _readout_variant(states, targets, ridge, bias=True, regularise_bias=True):
    S = np.hstack([states, np.ones((len(states), 1))]) if bias else states
    penalty = ridge * np.eye(S.shape[1])
    if bias and not regularise_bias:
        penalty[-1, -1] = 0.0
    W = np.linalg.solve(S.T @ S + penalty, S.T @ targets)
    return W if bias else np.vstack([W, np.zeros((1, W.shape[1]))])


_READOUT_SHAPES = [(50, 6, 1, 1e-3), (200, 20, 3, 0.5), (30, 10, 2, 10.0), (12, 15, 1, 0.1),
                   (80, 4, 2, 1e-6)]


def _readout_cases(rng):
    cases = []
    for n, H, K, ridge in _READOUT_SHAPES:
        states = np.tanh(rng.normal(size=(n, H)))
        targets = states @ rng.normal(size=(H, K)) + 0.5 + 0.1 * rng.normal(size=(n, K))
        cases.append({"states": states, "targets": targets, "ridge": ridge})
    return cases


@register("09-ridge-readout", kind="implement", points=len(_READOUT_SHAPES),
          summary="the ridge-regression read-out W_out (9.17) with its bias row on 5 fresh "
                  "problems (more units than samples, strong and tiny ridge); a missing bias "
                  "column and an unregularised bias are named",
          forbidden=("fit_readout", "Ridge", "lstsq"))
def check_ridge_readout(ridge_readout):
    """Check ``ridge_readout(states, targets, ridge) -> W_out``."""
    cases = _readout_cases(fresh_rng())
    mistakes = [
        (lambda **k: _readout_variant(**k, bias=False),
         "there is no bias: append a column of ones to the states, S̃ = [S, 1], so that the "
         "last row of W_out is the bias (9.17)"),
        (lambda **k: _readout_variant(**k, regularise_bias=False),
         "the bias is left out of the ridge; equation (9.17) adds λ I to all of S̃ᵀ S̃, the bias "
         "included"),
    ]
    hint = diagnose_outputs(ridge_readout, cases, reference_ridge_readout, mistakes, ["W_out"],
                            "build S̃ = [S, 1] and solve (S̃ᵀ S̃ + λ I) W_out = S̃ᵀ Y (9.17)")
    return run_check("09-ridge-readout", "The ridge read-out", ridge_readout,
                     reference_ridge_readout, cases, ["W_out"], hint=hint)


# -- 09-reservoir-settings --------------------------------------------------------------------

#: The experiment: an echo state network of ``hidden_size`` units forecasts the Mackey–Glass
#: series ``horizon`` steps ahead (``seqlearn.numpy.reservoir.esn_forecast_error``), for each of
#: ``seeds``; a point per seed whose NRMSE is below ``threshold``.
RESERVOIR = {"hidden_size": 100, "horizon": 50, "length": 2000, "seeds": (0, 1, 2),
             "threshold": 0.1}

_SERIES = {}


def reservoir_error(spectral_radius, leak_rate, seed=0):
    """The experiment's measurement for one seed: the NRMSE of the 50-step-ahead forecast."""
    if "x" not in _SERIES:
        from ..data.chaotic import mackey_glass

        _SERIES["x"] = mackey_glass(RESERVOIR["length"])
    return _esn_forecast_error(_SERIES["x"], spectral_radius, leak_rate,
                               hidden_size=RESERVOIR["hidden_size"],
                               horizon=RESERVOIR["horizon"], seed=seed)


def _measure_reservoir(choice):
    if not isinstance(choice, (tuple, list)) or len(choice) != 2:
        raise TypeError(f"expected a tuple (spectral_radius, leak_rate), got {choice!r}")
    rho, leak = (float(c) for c in choice)
    if not 0 < rho <= 3:
        raise ValueError(f"expected a spectral radius in (0, 3], got {rho}")
    if not 0 < leak <= 1:
        raise ValueError(f"expected a leak rate in (0, 1], got {leak}")
    lines, score = [], 0
    for seed in RESERVOIR["seeds"]:
        error = reservoir_error(rho, leak, seed)
        ok = error < RESERVOIR["threshold"]
        score += ok
        lines.append(f"seed {seed}: NRMSE of the {RESERVOIR['horizon']}-step forecast {error:.3f}"
                     + (" (below 0.1)" if ok else " (not below 0.1)"))
    if score < len(RESERVOIR["seeds"]):
        lines.append("hint: a forecast this far ahead needs the reservoir to remember longer; "
                     "try settings with reservoir_error(spectral_radius, leak_rate, seed) "
                     "before you choose")
    return score, lines


@register("09-reservoir-settings", kind="experiment", points=len(RESERVOIR["seeds"]),
          summary="trains 100-unit echo state networks with the chosen spectral radius and leak "
                  "rate to forecast Mackey-Glass 50 steps ahead, for seeds 0, 1, 2; a point per "
                  "seed with an NRMSE below 0.1")
def check_reservoir_settings(choose_reservoir):
    """Check ``choose_reservoir() -> (spectral_radius, leak_rate)``."""
    return check_experiment("09-reservoir-settings", "A reservoir for a long forecast",
                            choose_reservoir, _measure_reservoir,
                            max_score=len(RESERVOIR["seeds"]))


# -- 09-energy-concepts -----------------------------------------------------------------------

_CONCEPT_QUESTIONS = [
    {"key": "states_20", "answer": 2**20,
     "explain": {20: "that is the number of units; Z sums over every assignment of them",
                 400: "that is n²; each of the n units has two values, independently"},
     "hint": "how many binary vectors of 20 entries are there?"},
    {"key": "conditional_at_zero", "answer": 0.5,
     "explain": {0.0: "σ(0) is not 0: a unit with no input is on half the time",
                 1.0: "σ(0) is not 1"},
     "hint": "evaluate (9.11) with x J_{:, i} + b_i = 0"},
    {"key": "hidden_independent", "answer": True,
     "explain": {False: "with no hidden-hidden connections, P(h | v) factorises into the "
                        "product of the P(h_j | v) of (9.13)"},
     "hint": "are there connections between the hidden units of an RBM?"},
    {"key": "cd_limit", "answer": "maximum likelihood",
     "explain": {"pseudo-likelihood": "that is a different estimator; CD's negative samples "
                                      "come from the model after k Gibbs steps",
                 "nothing": "the chain forgets its start: its samples come from the model, so "
                            "the estimate becomes the likelihood gradient"},
     "hint": "as k → ∞ the chain's samples come from p(v); which gradient is ⟨∂F⟩_data − "
             "⟨∂F⟩_model? Answer 'maximum likelihood', 'pseudo-likelihood' or 'nothing'"},
    {"key": "esn_trained", "answer": "readout",
     "explain": {"reservoir": "the reservoir W is drawn once and never trained",
                 "input": "W_in is drawn once and never trained"},
     "hint": "which weights does (9.17) fit? Answer 'input', 'reservoir' or 'readout'"},
    {"key": "rbm_logz_terms", "answer": 2**10,
     "explain": {2**64: "sum over the smaller layer: the other one is summed in closed form "
                        "(a softplus per unit, as in the free energy)",
                 2**74: "the hidden or the visible units can be summed analytically; only the "
                        "smaller layer needs enumerating"},
     "hint": "D = 64 visible and H = 10 hidden units: which layer must be enumerated?"},
    {"key": "echo_radius", "answer": 1.0,
     "explain": {0.0: "a radius of 0 forgets instantly; the rule of thumb is an upper bound"},
     "hint": "what spectral radius of W is the usual upper bound for the echo state property?"},
]


@register("09-energy-concepts", kind="concept", points=len(_CONCEPT_QUESTIONS),
          summary="the terms of Z for 20 units; P(x_i = 1) at zero input; the RBM's conditional "
                  "independence; CD-k as k → ∞; what an ESN trains; the terms of an RBM's exact "
                  "log Z (64 visible, 10 hidden); the spectral radius of the echo state property")
def check_energy_concepts(answers):
    """Check ``answers() -> dict`` of the seven answers (see ``_CONCEPT_QUESTIONS``)."""
    return check_concept("09-energy-concepts", "Energies, samples and reservoirs", answers,
                         _CONCEPT_QUESTIONS)


__all__ = ["RESERVOIR", "check_cd1", "check_energy_concepts", "check_exact_partition",
           "check_reservoir_settings", "check_ridge_readout", "reference_cd1",
           "reference_exact_partition", "reference_ridge_readout", "reservoir_error"]
