"""Checks for the exercises of chapter 9, *Hopfield networks* (the notebook ``09_hopfield``).

=========================== ============ ========================================================
exercise                    kind         what the check does
=========================== ============ ========================================================
09-hebbian-sweep            implement    the Hebbian weights (9.1) and one asynchronous sweep
                                         (9.2) in a given order, against the reference, on fresh
                                         random patterns and states (fields of exactly 0, N = 1,
                                         B = 1)
09-modern-update            implement    one modern Hopfield update (9.6): the new states and
                                         the weights, on fresh random cases (β large enough to
                                         overflow a naive softmax, β small, N = 1, S = 1)
09-modern-update-backward   implement    ∂L/∂ξ and ∂L/∂X of the update (9.6) against the
                                         reference; autograd is refused
09-capacity                 experiment   stores the chosen number of random patterns in a
                                         200-unit Hebbian network and measures the bit error
                                         after asynchronous retrieval, for three seeds
09-hopfield-concepts        concept      an energy change, the number of weights, two-cycles,
                                         reversed patterns, the capacity of 1000 units, β → 0,
                                         the β of attention
=========================== ============ ========================================================

The references are the package's own ``seqlearn.numpy.hopfield`` functions. When an answer is
wrong, the check compares it with what typical mistakes give (a diagonal left in W, a
synchronous update, ``np.sign`` of a zero field, β missing, the softmax over the wrong axis, a
path of the gradient dropped, ...) and names the mistake it recognises
(``core.diagnose_outputs``); otherwise its hint points to the equation by number.
"""


import numpy as np

from ..numpy.hopfield import classic_async_sweep as _classic_async_sweep
from ..numpy.hopfield import hebbian_weights as _hebbian_weights
from ..numpy.hopfield import modern_hopfield_update_backward as _update_backward
from ..numpy.hopfield import modern_hopfield_update_forward as _update_forward
from ..numpy.hopfield import recall_error as _recall_error
from .core import check_concept, check_experiment, diagnose_outputs, fresh_rng, register, run_check

#: What a hand-written backward pass may not use: autograd and the attention routines.
AUTOGRAD = ("backward", "grad", "vjp", "jacobian", "scaled_dot_product_attention",
            "MultiheadAttention")


def _softmax(a, axis=-1):
    a = a - a.max(axis=axis, keepdims=True)
    e = np.exp(a)
    return e / e.sum(axis=axis, keepdims=True)


# -- 09-hebbian-sweep --------------------------------------------------------------------------

def reference_hebbian_sweep(patterns, xi, order):
    """(W, xi_new): the Hebbian weights (9.1) and one asynchronous sweep (9.2) in ``order``."""
    W = _hebbian_weights(patterns)
    return W, _classic_async_sweep(xi, W, order=order)


def _hebbian_sweep_variant(patterns, xi, order, diagonal=False, synchronous=False,
                           zero="keep", scale=1.0, ignore_order=False):
    W = patterns.T @ patterns * scale
    if not diagonal:
        np.fill_diagonal(W, 0.0)
    xi = xi.copy()
    if synchronous:
        field = xi @ W
        return W, np.where(field > 0, 1.0, np.where(field < 0, -1.0, xi))
    for i in (range(len(order)) if ignore_order else order):
        field = xi @ W[:, i]
        tie = {"keep": xi[:, i], "zero": 0.0, "plus": 1.0}[zero]
        xi[:, i] = np.where(field > 0, 1.0, np.where(field < 0, -1.0, tie))
    return W, xi


#: (N, d, B, kind) of the sweep's cases: generic; N = 2, drawn until the sweep meets a field of
#: exactly 0 at a unit that is -1 (so that np.sign's 0 and a tie sent to +1 always show); a
#: single pattern and a single state; states near the patterns.
_SWEEP_SHAPES = [(3, 8, 4, "random"), (2, 6, 6, "ties"), (1, 5, 1, "random"),
                 (6, 12, 3, "near"), (4, 10, 5, "random")]


def _sweep_cases(rng):
    cases = []
    for N, d, B, kind in _SWEEP_SHAPES:
        patterns = rng.choice([-1.0, 1.0], size=(N, d))
        if kind == "near":
            xi = patterns[rng.integers(0, N, B)] * np.where(rng.random((B, d)) < 0.2, -1.0, 1.0)
        else:
            xi = rng.choice([-1.0, 1.0], size=(B, d))
        case = {"patterns": patterns, "xi": xi, "order": rng.permutation(d)}
        while kind == "ties" and not _meets_a_tie(case):
            case = {"patterns": rng.choice([-1.0, 1.0], size=(N, d)),
                    "xi": rng.choice([-1.0, 1.0], size=(B, d)), "order": rng.permutation(d)}
        cases.append(case)
    return cases


def _meets_a_tie(case):
    """Whether the sweep meets a field of exactly 0 at a unit that is -1 then: np.sign would make
    it 0 and a tie sent to +1 would flip it, so both mistakes show on this case."""
    _, right = reference_hebbian_sweep(**case)
    return all(not np.array_equal(right, _hebbian_sweep_variant(**case, zero=tie)[1])
               for tie in ("zero", "plus"))


@register("09-hebbian-sweep", kind="implement", points=2 * len(_SWEEP_SHAPES),
          summary="the Hebbian weights (9.1) and one asynchronous sweep (9.2) in a given order on "
                  "5 fresh cases (fields of exactly 0, N = 1, B = 1); a diagonal left in W, a "
                  "synchronous update, np.sign of a zero field, a scaled W and an ignored order "
                  "are named")
def check_hebbian_sweep(hebbian_sweep):
    """Check ``hebbian_sweep(patterns, xi, order) -> (W, xi_new)``."""
    cases = _sweep_cases(fresh_rng())
    mistakes = [
        (lambda **k: _hebbian_sweep_variant(**k, diagonal=True),
         "W keeps its diagonal: equation (9.1) sets W_ii = 0, so that a unit does not feed "
         "itself"),
        (lambda **k: _hebbian_sweep_variant(**k, synchronous=True),
         "all units were updated at once (synchronously, from the old state): in an "
         "asynchronous sweep each unit sees the units updated before it"),
        (lambda **k: _hebbian_sweep_variant(**k, zero="zero"),
         "a unit whose field is exactly 0 became 0 (np.sign(0) = 0): it keeps its value, so the "
         "state stays binary"),
        (lambda **k: _hebbian_sweep_variant(**k, zero="plus"),
         "a unit whose field is exactly 0 became +1: it keeps its value"),
        (lambda **k: _hebbian_sweep_variant(**k, scale=1.0 / k["patterns"].shape[1]),
         "W is divided by d: equation (9.1) is the plain sum of the outer products (the updates "
         "do not change, the weights do)"),
        (lambda **k: _hebbian_sweep_variant(**k, scale=1.0 / k["patterns"].shape[0]),
         "W is divided by N: equation (9.1) is the plain sum of the outer products"),
        (lambda **k: _hebbian_sweep_variant(**k, ignore_order=True),
         "the units were updated in the order 0, 1, ..., d-1: use the order given"),
    ]
    hint = diagnose_outputs(hebbian_sweep, cases, reference_hebbian_sweep, mistakes,
                            ["W", "xi_new"],
                            "build W from equation (9.1), then visit the units in `order`, each "
                            "taking the sign of its field (9.2) computed from the current state")
    return run_check("09-hebbian-sweep", "Hebbian storage and one asynchronous sweep",
                     hebbian_sweep, reference_hebbian_sweep, cases, ["W", "xi_new"], hint=hint)


# -- 09-modern-update --------------------------------------------------------------------------

def reference_modern_update(xi, patterns, beta):
    """(xi_new (S, d), p (S, N)) of equation (9.6)."""
    xi_new, p, _ = _update_forward(xi, patterns, beta)
    return xi_new, p


def _modern_variant(xi, patterns, beta, use_beta=True, axis=-1, beta_after=False):
    scores = xi @ patterns.T * (beta if use_beta and not beta_after else 1.0)
    with np.errstate(all="ignore"):
        p = _softmax(scores, axis=axis)
    if beta_after:
        p = beta * p
    return p @ patterns, p


def _modern_naive(xi, patterns, beta):
    with np.errstate(all="ignore"):
        e = np.exp(beta * xi @ patterns.T)
        p = e / e.sum(axis=-1, keepdims=True)
    return p @ patterns, p


#: (S, N, d, β, kind) of the update's cases.
_UPDATE_SHAPES = [(4, 6, 5, 0.7, "plain"), (3, 20, 8, 40.0, "large"), (1, 1, 4, 1.3, "plain"),
                  (5, 9, 3, 0.05, "plain"), (2, 30, 16, 0.25, "binary")]


def _update_cases(rng):
    cases = []
    for S, N, d, beta, kind in _UPDATE_SHAPES:
        if kind == "binary":
            patterns = rng.choice([-1.0, 1.0], size=(N, d))
            xi = patterns[:S] * np.where(rng.random((S, d)) < 0.2, -1.0, 1.0)
        else:
            scale = 5.0 if kind == "large" else 1.0
            patterns, xi = rng.normal(size=(N, d)) * scale, rng.normal(size=(S, d)) * scale
        cases.append({"xi": xi, "patterns": patterns, "beta": beta})
    return cases


@register("09-modern-update", kind="implement", points=2 * len(_UPDATE_SHAPES),
          summary="the new states and the weights of one modern Hopfield update (9.6) on 5 fresh "
                  "cases (scores in the thousands, β = 0.05, N = 1, S = 1, binary patterns); β "
                  "missing or applied after the softmax, the softmax over the states and an "
                  "overflowing softmax are named",
          forbidden=("scaled_dot_product_attention", "MultiheadAttention",
                     "multi_head_attention_forward"))
def check_modern_update(modern_update):
    """Check ``modern_update(xi, patterns, beta) -> (xi_new, p)``."""
    cases = _update_cases(fresh_rng())
    mistakes = [
        (lambda **k: _modern_variant(**k, use_beta=False),
         "β is missing: the scores of equation (9.6) are β ξ Xᵀ"),
        (lambda **k: _modern_variant(**k, beta_after=True),
         "β multiplies the weights after the softmax: it belongs inside, on the scores"),
        (lambda **k: _modern_variant(**k, axis=0),
         "the softmax runs over the states (axis 0): each state's weights are over the N "
         "stored patterns, so each row of p sums to 1"),
    ]
    hint = diagnose_outputs(modern_update, cases, reference_modern_update, mistakes,
                            ["xi_new", "p"],
                            "scores β ξ Xᵀ (S, N), a softmax along each row, then the weighted "
                            "sum of the patterns (9.6)",
                            nonfinite="your answer holds NaN or inf where the scores are large: "
                                      "subtract each row's largest score before exp (the "
                                      "softmax does not change)")
    return run_check("09-modern-update", "One modern Hopfield update", modern_update,
                     reference_modern_update, cases, ["xi_new", "p"], hint=hint)


# -- 09-modern-update-backward -----------------------------------------------------------------

def reference_modern_update_backward(dxi_new, xi, patterns, beta):
    """(dxi (S, d), dpatterns (N, d)): the gradients of equation (9.6)."""
    _, _, cache = _update_forward(xi, patterns, beta)
    dxi, dpatterns, _ = _update_backward(dxi_new, cache)
    return dxi, dpatterns


def _backward_variant(dxi_new, xi, patterns, beta, value_path=True, score_path=True,
                      beta_in_dxi=True, centre=True):
    p = _softmax(beta * xi @ patterns.T)
    dp = dxi_new @ patterns.T
    da = p * (dp - (dp * p).sum(axis=-1, keepdims=True)) if centre else p * dp
    dxi = (beta if beta_in_dxi else 1.0) * da @ patterns
    dX = (p.T @ dxi_new if value_path else 0.0) + (beta * da.T @ xi if score_path else 0.0)
    return dxi, dX + np.zeros_like(patterns)


def _backward_cases(rng):
    cases = _update_cases(rng)
    for case in cases:
        case["dxi_new"] = rng.normal(size=case["xi"].shape)
    return [dict(dxi_new=c["dxi_new"], xi=c["xi"], patterns=c["patterns"], beta=c["beta"])
            for c in cases]


@register("09-modern-update-backward", kind="implement", points=2 * len(_UPDATE_SHAPES),
          summary="∂L/∂ξ and ∂L/∂X of the modern update (9.6) from ∂L/∂ξ_new on 5 fresh cases; a "
                  "dropped value or score path, β missing from ∂L/∂ξ and a softmax backward "
                  "without its second term are named; autograd is refused",
          forbidden=AUTOGRAD)
def check_modern_update_backward(modern_update_backward):
    """Check ``modern_update_backward(dxi_new, xi, patterns, beta) -> (dxi, dpatterns)``."""
    cases = _backward_cases(fresh_rng())
    mistakes = [
        (lambda **k: _backward_variant(**k, value_path=False),
         "dpatterns misses the path through the values: X is also what p averages, which adds "
         "pᵀ ∂L/∂ξ_new"),
        (lambda **k: _backward_variant(**k, score_path=False),
         "dpatterns misses the path through the scores β ξ Xᵀ"),
        (lambda **k: _backward_variant(**k, beta_in_dxi=False),
         "dxi lacks the factor β: the scores are β ξ Xᵀ"),
        (lambda **k: _backward_variant(**k, centre=False),
         "the softmax backward lacks its second term: ∂L/∂a = p ⊙ (dp − Σ_j p_j dp_j), "
         "because the weights of a row sum to 1"),
    ]
    hint = diagnose_outputs(modern_update_backward, cases, reference_modern_update_backward,
                            mistakes, ["dxi", "dpatterns"],
                            "go back through (9.6): ξ_new = p X, then the softmax, then the "
                            "scores a = β ξ Xᵀ; X appears twice")
    return run_check("09-modern-update-backward", "Backpropagation through the modern update",
                     modern_update_backward, reference_modern_update_backward, cases,
                     ["dxi", "dpatterns"], hint=hint)


# -- 09-capacity -------------------------------------------------------------------------------

#: The experiment: N random patterns in a Hebbian network of ``d`` units, asynchronous retrieval
#: started at each pattern, the mean over ``seeds`` of the fraction of wrong bits
#: (``seqlearn.numpy.hopfield.recall_error``) must stay at most ``tolerance``.
CAPACITY = {"d": 200, "seeds": (0, 1, 2), "tolerance": 0.01, "scan": (10, 60)}

_BEST = {}


def mean_recall_error(N, d=CAPACITY["d"], seeds=CAPACITY["seeds"]):
    """The experiment's measurement: the mean over ``seeds`` of ``recall_error(N, d, seed)``."""
    return float(np.mean([_recall_error(N, d, seed) for seed in seeds]))


def _largest_passing():
    """The largest N of the scan whose mean error is within the tolerance."""
    if "N" not in _BEST:
        low, high = CAPACITY["scan"]
        passing = [N for N in range(low, high + 1)
                   if mean_recall_error(N) <= CAPACITY["tolerance"]]
        _BEST["N"] = max(passing)
    return _BEST["N"]


def _measure_capacity(choice):
    if isinstance(choice, bool) or not isinstance(choice, (int, np.integer)):
        raise TypeError(f"expected an int (the number of patterns N), got {choice!r}")
    N, d = int(choice), CAPACITY["d"]
    if not 1 <= N <= 2 * d:
        raise ValueError(f"expected N between 1 and {2 * d}, got {N}")
    errors = [_recall_error(N, d, seed) for seed in CAPACITY["seeds"]]
    mean = float(np.mean(errors))
    lines = [f"N = {N} patterns in d = {d} units (load N/d = {N / d:.3f}): bits wrong after "
             f"retrieval " + ", ".join(f"seed {s}: {e:.2%}" for s, e in
                                       zip(CAPACITY["seeds"], errors)) + f"; mean {mean:.2%}"]
    if mean > CAPACITY["tolerance"]:
        lines.append(f"the mean is above {CAPACITY['tolerance']:.0%}: too many patterns. hint: "
                     "measure the error for a few N with recall_error(N, 200, seed) before you "
                     "choose")
        return 0, lines
    best = _largest_passing()
    score = 3 if N >= best - 2 else 2 if N >= 0.1 * d else 1
    lines.append(f"within {CAPACITY['tolerance']:.0%}. " + (
        "You found the edge." if score == 3 else
        "More patterns fit: the mean error stays within the tolerance for larger N. hint: scan N "
        "upwards with recall_error until the mean passes 1%"))
    return score, lines


@register("09-capacity", kind="experiment", points=3,
          summary="stores the chosen number N of random patterns in a 200-unit Hebbian network, "
                  "retrieves asynchronously from each for seeds 0, 1, 2; 0 points if the mean "
                  "bit error exceeds 1%, else 1, 2 from N ≥ 0.1 d, 3 within 2 of the largest N "
                  "that stays within 1%")
def check_capacity(choose_number_of_patterns):
    """Check ``choose_number_of_patterns() -> int``."""
    return check_experiment("09-capacity", "How many patterns fit", choose_number_of_patterns,
                            _measure_capacity, max_score=3)


# -- 09-hopfield-concepts ----------------------------------------------------------------------

_CONCEPT_QUESTIONS = [
    {"key": "energy_change", "answer": -6.0,
     "explain": {6.0: "the energy falls when a unit aligns with its field: ΔE = −Δξ_i h_i with "
                      "Δξ_i = +2 and h_i = 3",
                 -3.0: "the unit changes by Δξ_i = 2 (from −1 to +1), not by 1",
                 -12.0: "ΔE = −Δξ_i h_i: the ½ of (9.3) is cancelled by the two equal terms "
                        "W_ij = W_ji, not doubled"},
     "hint": "write E of (9.3) as the part that involves ξ_i, −ξ_i h_i, plus terms without ξ_i"},
    {"key": "free_weights", "answer": 4950,
     "explain": {10000: "W is symmetric with a zero diagonal: count each pair once and skip i = i",
                 9900: "W_ij = W_ji: each pair is one weight",
                 5050: "the diagonal is 0, not a free weight"},
     "hint": "how many pairs i < j are there among d = 100 units?"},
    {"key": "sync_two_cycle", "answer": True,
     "explain": {False: "with W = [[0, −1], [−1, 0]] and ξ = (1, 1) a synchronous step gives "
                        "(−1, −1) and the next one (1, 1) again"},
     "hint": "try two units coupled by a negative weight, both updated at once"},
    {"key": "reversed_is_fixed", "answer": True,
     "explain": {False: "sgn(−ξ W) = −sgn(ξ W) when b = 0: the reversed state is a fixed point "
                        "too, with the same energy"},
     "hint": "what does (9.2) do to −x when x is a fixed point and b = 0?"},
    {"key": "capacity_1000", "answer": 138, "tolerance": 0.08,
     "explain": {1000: "that is d; the Hebbian network breaks down far earlier",
                 14: "0.14 d for d = 1000 is not 14"},
     "hint": "use the load at which the chapter located the breakdown, times d"},
    {"key": "beta_to_zero", "answer": "mean",
     "explain": {"nearest": "that is the limit β → ∞, where the softmax becomes an argmax",
                 "first": "no pattern is preferred at β = 0: all weights are equal"},
     "hint": "what is softmax(0 · scores)? Answer 'mean', 'nearest' or 'first'"},
    {"key": "attention_beta", "answer": 0.125,
     "explain": {8.0: "that is √d_k; attention divides the scores by it",
                 1 / 64: "the scale is 1/√d_k, not 1/d_k"},
     "hint": "compare (9.6) with chapter 8's softmax(Q Kᵀ/√d_k) V for d_k = 64"},
]


@register("09-hopfield-concepts", kind="concept", points=len(_CONCEPT_QUESTIONS),
          summary="the energy change of one flip with field 3; the free weights of 100 units; "
                  "synchronous two-cycles; reversed patterns as fixed points; the capacity of "
                  "1000 Hebbian units; the modern update as β → 0; the β of attention for "
                  "d_k = 64")
def check_hopfield_concepts(answers):
    """Check ``answers() -> dict`` of the seven answers (see ``_CONCEPT_QUESTIONS``)."""
    return check_concept("09-hopfield-concepts", "Energy and capacity", answers,
                         _CONCEPT_QUESTIONS)


__all__ = ["AUTOGRAD", "CAPACITY", "check_capacity", "check_hebbian_sweep",
           "check_hopfield_concepts", "check_modern_update", "check_modern_update_backward",
           "mean_recall_error", "reference_hebbian_sweep", "reference_modern_update",
           "reference_modern_update_backward"]
