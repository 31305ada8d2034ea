"""Time series: the airline passengers data and sliding windows for one-step forecasting."""

from importlib import resources

import numpy as np

from ..validate import as_float_array, check_positive_int, describe


def load_airline_passengers():
    """Monthly airline passengers 1949–1960 (Box & Jenkins series G).

    Returns
    -------
    months : list of str, length 144, ``"1949-01"`` ... ``"1960-12"``
    passengers : ndarray (144,), float64, thousands of passengers
    """
    text = resources.files(__package__).joinpath("files/airline_passengers.csv").read_text()
    rows = [line.split(",") for line in text.strip().splitlines()[1:]]
    months = [month for month, _ in rows]
    passengers = np.array([float(value) for _, value in rows])
    return months, passengers


def make_windows(series, window):
    """Cut a series into (input window, next value) pairs for one-step-ahead forecasting.

    For a series y of length N and window w, pair k is ``x_k = y[k : k+w]`` and ``t_k = y[k+w]``.

    Returns ``x`` of shape (N - w, w, 1) (batch-first sequences of one feature) and ``t`` of
    shape (N - w,).
    """
    series = as_float_array("series", series, ndim=1)
    window = check_positive_int("window", window)
    if window >= len(series):
        raise ValueError(
            f"window: must be shorter than the series (length {len(series)}), got {window}"
        )
    n = len(series) - window
    index = np.arange(window)[None, :] + np.arange(n)[:, None]
    return series[index][..., None], series[window:].copy()


def chronological_split(n, train_fraction=2 / 3):
    """Index of the first test item when the first ``train_fraction`` of ``n`` items train.

    With the airline series, ``chronological_split(144) == 96``: 1949–1956 train, 1957–1960 test.
    Raises ``ValueError`` when the training or the test part would be empty.
    """
    n = check_positive_int("n", n)
    if isinstance(train_fraction, bool) or not isinstance(train_fraction,
                                                          (int, float, np.integer, np.floating)):
        raise TypeError(
            f"train_fraction: expected a number in (0, 1), got {describe(train_fraction)}")
    if not 0 < train_fraction < 1:
        raise ValueError(f"train_fraction: expected a number in (0, 1), got {train_fraction}")
    split = int(round(n * train_fraction))
    if not 0 < split < n:
        raise ValueError(f"train_fraction: {train_fraction} of n={n} items leaves "
                         f"{'no training' if split == 0 else 'no test'} item; expected at least "
                         f"one of each")
    return split


__all__ = ["load_airline_passengers", "make_windows", "chronological_split"]
