"""Plotting helpers shared by the chapters: one look for every figure of the course."""

import matplotlib.pyplot as plt
import numpy as np

COLORS = ["#1b6ca8", "#d1495b", "#edae49", "#00798c", "#66a182", "#8d96a3"]


def use_course_style():
    """Apply the course's matplotlib style (called by the notebooks' setup)."""
    plt.rcParams.update(
        {
            "figure.figsize": (6, 3.6),
            "figure.dpi": 90,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.prop_cycle": plt.cycler(color=COLORS),
            "font.size": 10,
        }
    )


def heatmap(ax, matrix, row_labels=None, col_labels=None, fmt="{:.2f}", cmap="viridis",
            annotate=True):
    """Draw ``matrix`` (R, C) as a heatmap on ``ax``, with labels and, optionally, values."""
    matrix = np.asarray(matrix, dtype=float)
    if matrix.ndim != 2:
        raise ValueError(f"heatmap: argument 'matrix' must be 2-D, got shape {matrix.shape}")
    image = ax.imshow(matrix, cmap=cmap, aspect="auto")
    if row_labels is not None:
        ax.set_yticks(range(matrix.shape[0]), row_labels)
    if col_labels is not None:
        ax.set_xticks(range(matrix.shape[1]), col_labels)
    if annotate and matrix.size <= 200:
        middle = (np.nanmax(matrix) + np.nanmin(matrix)) / 2
        for (i, j), value in np.ndenumerate(matrix):
            ax.text(j, i, fmt.format(value), ha="center", va="center", fontsize=8,
                    color="black" if value > middle else "white")
    ax.grid(False)
    return image


def loss_curve(ax, losses, label=None, smooth=0, xlabel="step", ylabel="loss"):
    """Plot a loss curve, optionally smoothed by an exponential moving average (0 ≤ smooth < 1)."""
    losses = np.asarray(losses, dtype=float)
    if not 0 <= smooth < 1:
        raise ValueError(f"loss_curve: argument 'smooth' must be in [0, 1), got {smooth}")
    if smooth:
        out, running = np.empty_like(losses), losses[0]
        for i, value in enumerate(losses):
            running = smooth * running + (1 - smooth) * value
            out[i] = running
        losses = out
    ax.plot(losses, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


__all__ = ["COLORS", "use_course_style", "heatmap", "loss_curve"]
