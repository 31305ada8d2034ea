"""Echo state networks (Jaeger 2001): a fixed random recurrent reservoir and a linear read-out
trained by ridge regression.

Row-vector, batch-first convention. The reservoir of H leaky tanh units is driven by the input
u_t (B, D)::

    h_t = (1 − a) h_{t−1} + a tanh(u_t W_in + h_{t−1} W + b)        (9.16)

with the leak rate a ∈ (0, 1]. W_in (D, H), W (H, H) and b (H,) are drawn once and never
trained; W is rescaled to a chosen spectral radius ρ(W) (chapter 5's
``gradient_flow.scaled_to_spectral_radius``). Only the read-out y_t = [h_t, 1] W_out is
trained, by ridge regression on the collected states S (n, H) and targets Y (n, K)::

    W_out = (S̃ᵀ S̃ + λ I)⁻¹ S̃ᵀ Y,   S̃ = [S, 1]                         (9.17)

A reservoir has the *echo state property* when its state is eventually determined by the input
alone, whatever the initial state; ρ(W) < 1 is the usual rule of thumb for it.
"""

import numpy as np

from ..validate import (as_float_array, as_generator, check_number, check_positive_int,
                        check_positive_number, describe)
from .common import check_param_dict, check_step_shapes, initial_state
from .gradient_flow import scaled_to_spectral_radius

RESERVOIR_PARAM_NAMES = ("W_in", "W", "b")


def _check_leak(leak_rate):
    if isinstance(leak_rate, bool) or not isinstance(leak_rate, (int, float, np.integer,
                                                                 np.floating)):
        raise TypeError(f"leak_rate: expected a number in (0, 1], got {describe(leak_rate)}")
    if not 0 < leak_rate <= 1:
        raise ValueError(f"leak_rate: expected a number in (0, 1], got {leak_rate!r}")
    return float(leak_rate)


def init_reservoir_params(input_size, hidden_size, spectral_radius=0.9, input_scale=1.0,
                          bias_scale=0.2, rng=None):
    """A random reservoir: ``W_in`` (D, H) ~ U(−input_scale, input_scale), ``W`` (H, H) ~ N(0, 1)
    rescaled to the spectral radius ``spectral_radius``, ``b`` (H,) ~ U(−bias_scale,
    bias_scale)."""
    rng = as_generator(rng)
    D, H = check_positive_int("input_size", input_size), check_positive_int("hidden_size",
                                                                             hidden_size)
    spectral_radius = check_positive_number("spectral_radius", spectral_radius)
    input_scale = check_positive_number("input_scale", input_scale)
    bias_scale = check_number("bias_scale", bias_scale, low=0)
    W = scaled_to_spectral_radius(rng.normal(size=(H, H)), spectral_radius)
    return {"W_in": rng.uniform(-input_scale, input_scale, size=(D, H)), "W": W,
            "b": rng.uniform(-bias_scale, bias_scale, size=H)}


def check_reservoir_params(params):
    """Check a reservoir's parameter dict; return ``(W_in, W, b)``.
    Float arrays are returned as they are, not copies.
    """
    check_param_dict(params, RESERVOIR_PARAM_NAMES)
    W_in = as_float_array("params['W_in']", params["W_in"], ndim=2)
    H = W_in.shape[1]
    return (W_in, as_float_array("params['W']", params["W"], shape=(H, H)),
            as_float_array("params['b']", params["b"], shape=(H,)))


def reservoir_step(u_t, h_prev, params, leak_rate=1.0):
    """One step of equation (9.16): ``u_t`` (B, D), ``h_prev`` (B, H) → h_t (B, H)."""
    W_in, W, b = check_reservoir_params(params)
    if getattr(u_t, "ndim", None) != 2 or u_t.shape[1] != W_in.shape[0]:
        raise ValueError(f"u_t: expected shape (B, {W_in.shape[0]}), got {describe(u_t)}")
    check_step_shapes(u_t, W_in.shape[0], W.shape[0], h_prev=h_prev)
    a = _check_leak(leak_rate)
    return (1.0 - a) * h_prev + a * np.tanh(u_t @ W_in + h_prev @ W + b)


def reservoir_forward(u, h0, params, leak_rate=1.0):
    """Drive the reservoir with the inputs ``u`` (B, T, D) from ``h0`` (B, H) (zeros when
    ``None``), equation (9.16) at every step. Returns the states (B, T, H)."""
    W_in, W, b = check_reservoir_params(params)
    u = as_float_array("u", u, shape=(None, None, W_in.shape[0]))
    B, T, _ = u.shape
    h = initial_state("h0", h0, B, W.shape[0], u.dtype)
    leak = _check_leak(leak_rate)
    states = np.empty((B, T, W.shape[0]), dtype=u.dtype)
    drive = u @ W_in + b                        # the input's part of every step at once
    for t in range(T):
        h = (1.0 - leak) * h + leak * np.tanh(drive[:, t] + h @ W)
        states[:, t] = h
    return states


def fit_readout(states, targets, ridge=1e-6):
    """The ridge-regression read-out (9.17): ``W_out`` (H + 1, K), the last row the bias, that
    minimises ‖[S, 1] W_out − Y‖² + λ ‖W_out‖² for the states ``states`` S (n, H) and the
    ``targets`` Y (n, K) (or (n,) for K = 1), λ = ``ridge`` ≥ 0."""
    S = as_float_array("states", states, ndim=2)
    Y = as_float_array("targets", targets)
    if Y.ndim == 1:
        Y = Y[:, None]
    if Y.ndim != 2 or len(Y) != len(S):
        raise ValueError(f"targets: expected shape ({len(S)}, K), one row per state, got "
                         f"{describe(Y)}")
    ridge = check_number("ridge", ridge, low=0)
    S1 = np.hstack([S, np.ones((len(S), 1))])
    return np.linalg.solve(S1.T @ S1 + ridge * np.eye(S1.shape[1]), S1.T @ Y)


def apply_readout(states, W_out):
    """y = [h, 1] W_out: the read-out's outputs (..., K) for ``states`` (..., H)."""
    W_out = as_float_array("W_out", W_out, ndim=2)
    S = as_float_array("states", states)
    if S.shape[-1] + 1 != W_out.shape[0]:
        raise ValueError(f"states: expected shape (..., {W_out.shape[0] - 1}) (W_out has "
                         f"{W_out.shape[0]} rows, the last the bias), got {describe(S)}")
    return S @ W_out[:-1] + W_out[-1]


def reservoir_generate(h0, u0, params, W_out, n_steps, leak_rate=1.0):
    """Run the reservoir on its own predictions: from the state ``h0`` (B, H) and the input
    ``u0`` (B, D), repeat ``n_steps`` times h ← (9.16) with input u, then u ← [h, 1] W_out (a
    one-step-ahead read-out, D = K). Returns the predictions (B, n_steps, D)."""
    W_in, W, b = check_reservoir_params(params)
    h = as_float_array("h0", h0, shape=(None, W.shape[0]))
    u = as_float_array("u0", u0, shape=(len(h), W_in.shape[0]))
    n_steps = check_positive_int("n_steps", n_steps)
    leak = _check_leak(leak_rate)
    W_out = as_float_array("W_out", W_out, shape=(W.shape[0] + 1, W_in.shape[0]))
    out = np.empty((len(h), n_steps, u.shape[1]))
    for t in range(n_steps):
        h = (1.0 - leak) * h + leak * np.tanh(u @ W_in + h @ W + b)
        u = apply_readout(h, W_out)
        out[:, t] = u
    return out


def nrmse(prediction, target):
    """The root mean squared error divided by the standard deviation of ``target``: 1 is the
    error of predicting the mean, 0 a perfect forecast."""
    prediction = as_float_array("prediction", prediction)
    target = as_float_array("target", target, shape=prediction.shape)
    if not np.std(target) > 0:
        raise ValueError("target: expected values that vary (the NRMSE divides by their "
                         "standard deviation), got a constant")
    return float(np.sqrt(np.mean((prediction - target) ** 2)) / np.std(target))


def esn_forecast_error(series, spectral_radius=0.9, leak_rate=1.0, hidden_size=100, horizon=1,
                       ridge=1e-6, washout=100, train_fraction=0.5, input_scale=1.0, seed=0):
    """Train an echo state network to forecast ``series`` (T,) ``horizon`` steps ahead and
    return its NRMSE on the second part of the series (after the first ``train_fraction``).

    The reservoir (``hidden_size`` units, :func:`init_reservoir_params` with ``seed``) reads the
    series centred on its training mean; the first ``washout`` states are dropped before the
    read-out is fitted (:func:`fit_readout`). The experiment of the chapter's sweep of spectral
    radius and leak rate.
    """
    x = as_float_array("series", series, ndim=1)
    horizon = check_positive_int("horizon", horizon)
    hidden_size = check_positive_int("hidden_size", hidden_size)
    spectral_radius = check_positive_number("spectral_radius", spectral_radius)
    ridge = check_number("ridge", ridge, low=0)
    train_fraction = check_number("train_fraction", train_fraction, low=0, high=1, low_open=True)
    if isinstance(washout, bool) or not isinstance(washout, (int, np.integer)) or washout < 0:
        raise ValueError(f"washout: expected an int >= 0 (states to drop), got {washout!r}")
    rng = as_generator(seed, name="seed")
    split = int(len(x) * train_fraction)
    if not washout < split < len(x) - horizon:
        raise ValueError(f"train_fraction: leaves {split} training steps, expected between "
                         f"washout={washout} and {len(x) - horizon}")
    centre = x[:split].mean()
    params = init_reservoir_params(1, hidden_size, spectral_radius, input_scale=input_scale,
                                   rng=rng)
    states = reservoir_forward((x - centre)[None, :, None], None, params, leak_rate)[0]
    inputs, targets = states[:-horizon], x[horizon:]
    W_out = fit_readout(inputs[washout:split], targets[washout:split], ridge)
    prediction = apply_readout(inputs[split:], W_out)[:, 0]
    return nrmse(prediction, targets[split:])


__all__ = ["RESERVOIR_PARAM_NAMES", "apply_readout", "check_reservoir_params",
           "esn_forecast_error", "fit_readout", "init_reservoir_params", "nrmse",
           "reservoir_forward", "reservoir_generate", "reservoir_step"]
