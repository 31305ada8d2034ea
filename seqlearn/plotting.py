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


#: How the fixed points of a CTRNN are drawn, by kind (``seqlearn.numpy.ctrnn.FIXED_POINT_KINDS``):
#: marker, face colour, label.
FIXED_POINT_STYLE = {
    "stable": ("o", "black", "stable (attractor)"),
    "saddle": ("X", COLORS[1], "saddle"),
    "source": ("o", "white", "source (unstable)"),
    "non-hyperbolic": ("D", "0.6", "non-hyperbolic"),
}

#: The pale colours of the basins of attraction in :func:`phase_portrait`.
BASIN_COLORS = ["#cfe2f3", "#f4cccc", "#fce5cd", "#d0e0e3", "#d9ead3", "#e4e6ea"]


def phase_portrait(ax, W_hh, b_h, tau=1.0, lim=8.0, resolution=90, starts=None, steps=300):
    """Draw the flow of a two-unit CTRNN τ da/dt = −a + tanh(a) W_hh + b_h on ``ax``.

    The background colours each start (a_1, a_2) of a ``resolution`` × ``resolution`` grid over
    [−lim, lim]² by the attractor it reaches (its basin, ``seqlearn.numpy.ctrnn.
    basins_of_attraction``; white: none reached), grey stream lines follow da/dt, black lines are
    the trajectories from ``starts`` (S, 2) (``steps`` RK4 steps of 0.05; none by default), and
    every fixed point is marked by its kind (:data:`FIXED_POINT_STYLE`).

    Returns the ``FixedPoints`` of the network and their kinds (K,).
    """
    from matplotlib.colors import ListedColormap

    from .numpy import ctrnn

    xs, ys, labels, fixed = ctrnn.basins_of_attraction(
        W_hh, b_h, tau, xlim=(-lim, lim), ylim=(-lim, lim), resolution=resolution)
    kinds = ctrnn.classify_fixed_points(fixed.eigenvalues)
    n = max(int(fixed.stable.sum()), 1)
    colours = ListedColormap(["white"] + [BASIN_COLORS[k % len(BASIN_COLORS)] for k in range(n)])
    ax.imshow(labels, cmap=colours, vmin=-1.5, vmax=n - 0.5, origin="lower",
              extent=(-lim, lim, -lim, lim), interpolation="nearest")
    gx, gy = np.meshgrid(np.linspace(-lim, lim, 25), np.linspace(-lim, lim, 25))
    flow = ctrnn.ctrnn_derivative(np.stack([gx, gy], -1), W_hh, b_h, tau)
    ax.streamplot(gx, gy, flow[..., 0], flow[..., 1], color="0.55", density=0.9, linewidth=0.7,
                  arrowsize=0.8)
    if starts is not None:
        starts = np.asarray(starts, dtype=float).reshape(-1, 2)
        paths = ctrnn.simulate_ctrnn(starts, W_hh, b_h, tau, dt=0.05, steps=steps)
        for k in range(len(starts)):
            ax.plot(paths[:, k, 0], paths[:, k, 1], color="black", lw=1.2)
            ax.plot(*starts[k], "k.", ms=6)
    for point, kind in zip(fixed.points, kinds):
        marker, face, _ = FIXED_POINT_STYLE[kind]
        ax.plot(*point, marker, mfc=face, mec="black", ms=8, zorder=5)
    ax.set(xlim=(-lim, lim), ylim=(-lim, lim), xlabel="$a_1$", ylabel="$a_2$", aspect="equal")
    ax.grid(False)
    return fixed, kinds


def bifurcation_diagram(ax, scan, unit=0, bifurcations=(), xlabel="parameter", markersize=3):
    """Draw a bifurcation diagram: coordinate ``unit`` of every fixed point of ``scan``
    (``seqlearn.numpy.ctrnn.scan_fixed_points``) against the scanned parameter, one marker per
    point by its kind (:data:`FIXED_POINT_STYLE`), and a dashed line at the value of each of
    ``bifurcations`` (``seqlearn.numpy.ctrnn.locate_bifurcations``). Returns ``ax``."""
    value, point, kind = np.asarray(scan.value), np.asarray(scan.point), np.asarray(scan.kind)
    if point.ndim != 2 or not 0 <= unit < point.shape[1]:
        raise ValueError(f"bifurcation_diagram: argument 'unit' must index a unit of the "
                         f"(P, H) points, got {unit!r} for shape {point.shape}")
    for b in bifurcations:
        ax.axvline(b.value, color="0.6", ls="--", lw=0.8, zorder=0)
    for name, (marker, face, label) in FIXED_POINT_STYLE.items():
        mask = kind == name
        if mask.any():
            ax.plot(value[mask], point[mask, unit], marker, mfc=face, mec="black", mew=0.4,
                    ms=markersize, ls="none", label=label)
    ax.set(xlabel=xlabel, ylabel=f"$a^*_{unit + 1}$")
    ax.legend(fontsize=8, markerscale=2)
    return ax


__all__ = ["COLORS", "use_course_style", "heatmap", "loss_curve", "BASIN_COLORS",
           "FIXED_POINT_STYLE", "bifurcation_diagram", "phase_portrait"]
