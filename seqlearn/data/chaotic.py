"""Chaotic series for the reservoir section of chapter 9, generated (nothing is downloaded).

:func:`mackey_glass` integrates the Mackey–Glass delay differential equation (Mackey & Glass
1977)::

    dx/dt = β x(t − τ) / (1 + x(t − τ)^n) − γ x(t)

with the classic constants β = 0.2, γ = 0.1, n = 10 and τ = 17, for which the series is chaotic
(τ > 16.8), the benchmark of echo state networks (Jaeger & Haas 2004).
"""

import numpy as np

from ..validate import check_positive_int, check_positive_number


def mackey_glass(n, tau=17.0, beta=0.2, gamma=0.1, exponent=10, dt=0.1, sample_every=1.0,
                 x0=1.2, washout=500.0):
    """``n`` samples of the Mackey–Glass series, one every ``sample_every`` time units, after
    discarding the first ``washout`` time units; integrated with the fourth-order Runge–Kutta
    method at step ``dt`` (the delayed value held over a step), from the constant history
    x(t) = ``x0`` for t ≤ 0. Returns (n,) float64, with values between about 0.2 and 1.4."""
    n = check_positive_int("n", n)
    beta, gamma = check_positive_number("beta", beta), check_positive_number("gamma", gamma)
    exponent = check_positive_number("exponent", exponent)
    x0 = check_positive_number("x0", x0)
    if isinstance(washout, bool) or not isinstance(washout, (int, float, np.integer, np.floating)) \
            or not (np.isfinite(washout) and washout >= 0):
        raise ValueError(f"washout: expected a finite number >= 0 of time units, got {washout!r}")
    tau, dt = check_positive_number("tau", tau), check_positive_number("dt", dt)
    every = int(round(check_positive_number("sample_every", sample_every) / dt))
    lag = int(round(tau / dt))
    skip = int(round(washout / dt))
    if every < 1 or lag < 1:
        raise ValueError(f"dt: expected a step smaller than sample_every and tau, got {dt}")
    total = skip + n * every
    x = np.empty(lag + total + 1)
    x[:lag + 1] = x0

    def f(value, delayed):
        return beta * delayed / (1.0 + delayed**exponent) - gamma * value

    for t in range(lag, lag + total):
        delayed = x[t - lag]
        delayed_next = x[t - lag + 1]
        middle = 0.5 * (delayed + delayed_next)
        k1 = f(x[t], delayed)
        k2 = f(x[t] + 0.5 * dt * k1, middle)
        k3 = f(x[t] + 0.5 * dt * k2, middle)
        k4 = f(x[t] + dt * k3, delayed_next)
        x[t + 1] = x[t] + dt * (k1 + 2 * k2 + 2 * k3 + k4) / 6.0
    return x[lag + skip + every::every][:n].copy()


__all__ = ["mackey_glass"]
