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


# -- images as sequences (chapter 10) --------------------------------------------------------------

#: How the pixel figures of chapter 10 colour a pixel: the one predicted, the context it may
#: depend on, the part of the context a model reads, the part it misses (a blind spot).
PIXEL_STYLE = {"position": COLORS[1], "context": "#d6e4f0", "reached": COLORS[0],
               "missed": COLORS[2], "future": "white"}


def _pixel_axes(ax, n):
    ax.set_xticks(np.arange(-0.5, n, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, n, 1), minor=True)
    ax.grid(which="minor", color="0.7", lw=0.5)
    ax.grid(which="major", visible=False)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    ax.set(xlim=(-0.5, n - 0.5), ylim=(n - 0.5, -0.5), aspect="equal")


def pixel_dependencies(ax, context, reached=None, position=None, numbers=False, title=None):
    """Draw which pixels condition a pixel of an n × n image: ``context`` (n, n) bool, the pixels
    before it in raster order (pale), ``reached`` (n, n) bool or ``None``, the pixels a model's
    output actually depends on (dark; the context pixels outside it, a blind spot, in yellow),
    and ``position`` (r, s), the pixel predicted (red). With ``numbers`` each pixel shows its
    raster index i = r n + s. Returns ``ax``."""
    from matplotlib.colors import to_rgb

    context = np.asarray(context, dtype=bool)
    if context.ndim != 2 or context.shape[0] != context.shape[1]:
        raise ValueError(f"pixel_dependencies: argument 'context' must be a square bool map, "
                         f"got shape {context.shape}")
    n = context.shape[0]
    rgb = np.ones((n, n, 3))
    rgb[context] = to_rgb(PIXEL_STYLE["context"])
    if reached is not None:
        reached = np.asarray(reached, dtype=bool)
        rgb[context & ~reached] = to_rgb(PIXEL_STYLE["missed"])
        rgb[reached] = to_rgb(PIXEL_STYLE["reached"])
    if position is not None:
        rgb[position[0], position[1]] = to_rgb(PIXEL_STYLE["position"])
    ax.imshow(rgb, interpolation="nearest")
    if numbers:
        for r in range(n):
            for s in range(n):
                dark = reached is not None and reached[r, s]
                ax.text(s, r, str(r * n + s), ha="center", va="center", fontsize=7,
                        color="white" if dark or (position is not None
                                                  and (r, s) == tuple(position)) else "0.25")
    _pixel_axes(ax, n)
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def conv_mask_diagram(ax, mask, title=None):
    """Draw a convolution mask (k, k): the taps it keeps dark, the centre tap outlined in red.
    Returns ``ax``."""
    mask = np.asarray(mask, dtype=float)
    k = mask.shape[0]
    ax.imshow(mask, cmap="Blues", vmin=-0.3, vmax=1.2, interpolation="nearest")
    for (p, q), value in np.ndenumerate(mask):
        ax.text(q, p, f"{value:g}", ha="center", va="center", fontsize=8,
                color="white" if value > 0.5 else "0.3")
    c = k // 2
    ax.add_patch(plt.Rectangle((c - 0.5, c - 0.5), 1, 1, fill=False, ec=COLORS[1], lw=2))
    _pixel_axes(ax, k)
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def skew_diagram(axes, n=5):
    """Draw the Diagonal BiLSTM's skew on two axes: an n × n image whose pixels are coloured by
    their diagonal r + s (left), and the same pixels after ``seqlearn.numpy.pixel.skew`` (right),
    where each diagonal is one column. Returns the skewed map (n, 2n−1) of diagonal numbers (−1:
    padding)."""
    from .numpy.pixel import skew

    left, right = axes
    diagonal = np.add.outer(np.arange(n), np.arange(n)).astype(float)
    skewed = skew((diagonal + 1)[None, :, :, None])[0, :, :, 0] - 1     # padding -> -1
    cmap = plt.get_cmap("viridis").copy()
    cmap.set_under("white")
    for ax, values in ((left, diagonal), (right, skewed)):
        ax.imshow(values, cmap=cmap, vmin=0, vmax=2 * n - 2, interpolation="nearest")
        for (r, s), value in np.ndenumerate(values):
            if value >= 0:
                ax.text(s, r, f"{r},{s - (r if ax is right else 0)}", ha="center",
                        va="center", fontsize=6, color="white" if value < n else "black")
        _pixel_axes(ax, values.shape[1])
        ax.set(ylim=(n - 0.5, -0.5))
    left.set_title(f"{n} × {n} image, pixels (r, s) coloured by r + s", fontsize=9)
    right.set_title(f"skewed: row r shifted right by r, {n} × {2 * n - 1}", fontsize=9)
    return skewed


def image_grid(ax, images, levels=None, ncols=None, title=None):
    """Draw a batch of images (N, n, n) as one grid of ``ncols`` columns (default: all in one
    row), grey levels 0 … ``levels`` − 1 from white to black, a white gap of one pixel between
    images. Returns ``ax``."""
    images = np.asarray(images, dtype=float)
    if images.ndim != 3:
        raise ValueError(f"image_grid: argument 'images' must be (N, n, n), got shape "
                         f"{images.shape}")
    N, n, m = images.shape
    ncols = N if ncols is None else ncols
    nrows = -(-N // ncols)
    top = (levels - 1) if levels else max(images.max(), 1.0)
    canvas = np.full((nrows * (n + 1) - 1, ncols * (m + 1) - 1), np.nan)
    for k, image in enumerate(images):
        r, c = divmod(k, ncols)
        canvas[r * (n + 1):r * (n + 1) + n, c * (m + 1):c * (m + 1) + m] = image / top
    cmap = plt.get_cmap("Greys").copy()
    cmap.set_bad("white")
    ax.imshow(canvas, cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def seed_band(ax, x, runs, label=None, color=None, marker="o", **line):
    """Plot the mean over seeds of ``runs`` (S, len(x)), one row per seed, as a line with
    markers, and the range from the smallest to the largest seed as a shaded band (chapter 9's
    measured curves). Returns the line."""
    runs = np.atleast_2d(np.asarray(runs, dtype=float))
    x = np.asarray(x, dtype=float)
    if runs.shape[1] != len(x):
        raise ValueError(f"seed_band: argument 'runs' must be (seeds, {len(x)}), got shape "
                         f"{runs.shape}")
    (handle,) = ax.plot(x, runs.mean(axis=0), marker=marker, ms=4, color=color, label=label,
                        **line)
    ax.fill_between(x, runs.min(axis=0), runs.max(axis=0), color=handle.get_color(), alpha=0.2,
                    lw=0)
    return handle


#: Colours of the three long-run behaviours that :func:`lyapunov_diagram` tells apart by the sign
#: of the largest Lyapunov exponent: a fixed point, a limit cycle, chaos.
REGIME_COLORS = {"fixed point": COLORS[0], "limit cycle": COLORS[2], "chaos": COLORS[1]}


def unrolled_network(ax, steps=4, units=3):
    """Draw an Elman RNN unrolled over ``steps`` steps as a feed-forward network of
    ``steps`` + 1 layers of ``units`` units each: h_0, then one hidden layer per step, all joined
    by the same weights W_hh (every connection between two layers in one colour: tied weights),
    each layer t also reading the input x_t through W_xh, and a read-out z_T after the last.
    Returns ``ax``."""
    if steps < 1 or units < 1:
        raise ValueError(f"unrolled_network: steps and units must be ≥ 1, got {steps}, {units}")
    w_hh, w_xh, w_hy = COLORS[0], COLORS[1], COLORS[4]
    ys = np.linspace(-1, 1, units) if units > 1 else np.zeros(1)
    for t in range(steps + 1):
        if t < steps:
            for y0 in ys:
                for y1 in ys:
                    ax.plot([t, t + 1], [y0, y1], color=w_hh, lw=0.9, alpha=0.8, zorder=1)
        if t > 0:
            for y in ys:
                ax.plot([t - 0.35, t], [-2.1, y], color=w_xh, lw=0.6, alpha=0.6, zorder=1)
            ax.scatter([t - 0.35], [-2.1], s=90, marker="s", facecolor=w_xh, edgecolor="black",
                       zorder=3)
            ax.text(t - 0.35, -2.4, f"$x_{t}$", ha="center", va="top", color=w_xh)
        face = "0.6" if t == 0 else "white"
        ax.scatter(np.full(units, t), ys, s=180, facecolor=face, edgecolor="black", zorder=3)
        ax.text(t, 1.45, "$h_0$" if t == 0 else f"$h_{t}$", ha="center", va="bottom")
    for y in ys:
        ax.plot([steps, steps + 0.8], [y, 0], color=w_hy, lw=0.9, zorder=1)
    ax.scatter([steps + 0.8], [0], s=180, facecolor=w_hy, edgecolor="black", zorder=3)
    ax.text(steps + 0.8, 0.35, "$z_T$", ha="center", va="bottom")
    for t in range(steps):
        ax.text(t + 0.5, -1.35, "$W_{hh}$", ha="center", va="top", color=w_hh, fontsize=9)
    ax.text(0.45, -2.1, "$W_{xh}$", ha="right", va="center", color=w_xh, fontsize=9)
    ax.text(steps + 0.8, -0.45, "$W_{hy}$", ha="center", va="top", color=w_hy, fontsize=9)
    ax.set(xlim=(-0.6, steps + 1.3), ylim=(-2.9, 1.9))
    ax.axis("off")
    return ax


def trajectory_projection(ax, trajectory, units=(0, 1), color=None, lw=0.7, label=None):
    """Draw the projection of a trajectory (``simulate_ctrnn``'s (S + 1, H), or (S + 1, B, H) for
    B of them) onto the plane of two ``units`` (a_i against a_j), with a dot at each end. Returns
    ``ax``."""
    trajectory = np.asarray(trajectory, dtype=float)
    if trajectory.ndim == 2:
        trajectory = trajectory[:, None]
    if trajectory.ndim != 3 or not all(0 <= u < trajectory.shape[-1] for u in units):
        raise ValueError(f"trajectory_projection: expected a (S + 1, H) or (S + 1, B, H) "
                         f"trajectory and two of its units, got shape {trajectory.shape} and "
                         f"units {units}")
    i, j = units
    for b in range(trajectory.shape[1]):
        lines = ax.plot(trajectory[:, b, i], trajectory[:, b, j], lw=lw, color=color,
                        label=label if b == 0 else None)
        ax.plot(trajectory[-1, b, i], trajectory[-1, b, j], "o", ms=4, color=lines[0].get_color())
    ax.set(xlabel=f"$a_{i + 1}$", ylabel=f"$a_{j + 1}$")
    return ax


def lyapunov_diagram(ax, values, exponents, tol=0.01, xlabel="parameter", marks=()):
    """Draw the largest Lyapunov exponent against a parameter (``scan_lyapunov_exponents``):
    ``exponents`` (S,) or (S, B), one dot per start, coloured by the regime it indicates
    (:data:`REGIME_COLORS`: below −``tol`` a fixed point, within ±``tol`` a limit cycle, above
    ``tol`` chaos), a line through the mean, zero dashed, and a dotted line at each of ``marks``.
    Returns ``ax``."""
    values = np.asarray(values, dtype=float)
    exponents = np.asarray(exponents, dtype=float).reshape(len(values), -1)
    ax.axhline(0, color="0.4", ls="--", lw=0.8)
    for mark in marks:
        ax.axvline(mark, color="0.5", ls=":", lw=1)
    ax.plot(values, exponents.mean(axis=1), color="0.3", lw=0.8, zorder=1)
    regime = np.where(exponents < -tol, "fixed point",
                      np.where(exponents > tol, "chaos", "limit cycle"))
    x = np.repeat(values[:, None], exponents.shape[1], axis=1)
    signs = {"fixed point": "<", "limit cycle": "≈", "chaos": ">"}
    for name, color in REGIME_COLORS.items():
        chosen = regime == name
        if chosen.any():
            ax.plot(x[chosen], exponents[chosen], "o", ms=3.5, color=color, ls="none",
                    label=f"{name} (λ₁ {signs[name]} 0)", zorder=2)
    ax.set(xlabel=xlabel, ylabel="largest Lyapunov exponent λ₁")
    ax.legend(fontsize=8)
    return ax


def visible_token(token):
    """A token's text with its whitespace made visible: a space as ␣, a newline as ↵."""
    return str(token).replace(" ", "␣").replace("\n", "↵")


def bpe_merges(ax, tokenizer, first=30):
    """Horizontal bars on ``ax``: how often each of the first ``first`` merges of a
    ``seqlearn.numpy.bpe.BytePairEncoding`` occurred when the learner chose it, labelled by the
    token it made (whitespace visible, :func:`visible_token`), the first merge at the top."""
    first = min(int(first), len(tokenizer.merges))
    if first < 1:
        raise ValueError("bpe_merges: the tokenizer has no merges to draw")
    C = len(tokenizer.chars)
    labels = [f"{k + 1}. {visible_token(tokenizer.tokens[C + k])}" for k in range(first)]
    ax.barh(np.arange(first), tokenizer.counts[:first], color=COLORS[0])
    ax.set_yticks(np.arange(first), labels, fontsize=8, family="monospace")
    ax.invert_yaxis()
    ax.set(xlabel="occurrences when merged", title=f"the first {first} merges")
    ax.grid(axis="y", visible=False)
    return ax


def tokenised_text(ax, tokenizer, text, width=60, colors=("#cfe2f3", "#fce5cd"), fontsize=8):
    """Draw ``text`` on ``ax`` as the tokens of ``tokenizer`` (``encode``/``tokens``): one box
    per token in alternating ``colors``, whitespace visible (␣, ↵), a new line after ↵ or after
    ``width`` characters. Returns the token ids."""
    ids = tokenizer.encode(text)
    row, col = 0, 0
    for k, i in enumerate(ids):
        token = tokenizer.tokens[int(i)]
        for ch in token:
            if col >= width:
                row, col = row + 1, 0
            ax.add_patch(plt.Rectangle((col, -row - 0.5), 1, 1, facecolor=colors[k % 2],
                                       edgecolor="none"))
            ax.text(col + 0.5, -row, visible_token(ch), ha="center", va="center", fontsize=fontsize,
                    family="monospace", color="0.55" if ch in " \n" else "black")
            col += 1
            if ch == "\n":
                row, col = row + 1, 0
        ax.plot([col, col], [-row - 0.5, -row + 0.5], color="0.3", lw=0.6)
    ax.set(xlim=(0, width), ylim=(-row - 0.6, 0.6), aspect="equal")
    ax.axis("off")
    return ids


def scaling_plot(ax, lengths, series, title=None, fit_from=None, ylabel=None):
    """Log–log lines of ``series`` (dict label -> values, one per length) against ``lengths``,
    each labelled with its slope: the least-squares fit of log(value) on log(length) over the
    lengths ≥ ``fit_from`` (all by default), the exponent p of value ∝ length^p. Returns the
    dict label -> slope."""
    lengths = np.asarray(lengths, dtype=float)
    fit = lengths >= (lengths.min() if fit_from is None else fit_from)
    if fit.sum() < 2:
        raise ValueError(f"scaling_plot: argument 'fit_from' leaves {int(fit.sum())} point(s) "
                         f"to fit a slope to; need at least 2")
    slopes = {}
    for (label, values), color in zip(series.items(), COLORS * 2):
        values = np.asarray(values, dtype=float)
        slopes[label] = float(np.polyfit(np.log(lengths[fit]), np.log(values[fit]), 1)[0])
        ax.loglog(lengths, values, "o-", ms=3, color=color,
                  label=f"{label}: slope {round(slopes[label], 2) + 0.0:.2f}")
    ax.set(xlabel="sequence length T", title=title, ylabel=ylabel)
    ax.set_xticks(lengths, [f"{int(T)}" for T in lengths], fontsize=7)
    ax.minorticks_off()
    ax.legend(fontsize=7)
    return slopes


def bptt_graph(ax, steps=4):
    """Draw the computational graph of an Elman RNN with softmax outputs unrolled over ``steps``
    steps (equations (4.1)–(4.2)): the input x_t and the state h_{t−1} feed h_t (through W_xh and
    W_hh, the same matrices at every step), h_t feeds the logits z_t (W_hy), z_t and the target
    y_t give the step's loss ℓ_t, and the ℓ_t average into L. Black arrows run forwards; red
    arrows carry the gradient back (BPTT, (4.3)–(4.4)): from L to every ℓ_t (weight 1/T), to z_t,
    to h_t, and from h_t to h_{t−1} through δ_t W_hhᵀ. Returns ``ax``."""
    from matplotlib.patches import Circle, FancyArrowPatch

    steps = int(steps)
    if steps < 1:
        raise ValueError(f"bptt_graph: argument 'steps' must be ≥ 1, got {steps}")
    forward, backward = "0.2", COLORS[1]
    dx, rows = 2.0, {"x": 0.0, "h": 2.0, "z": 4.0, "l": 5.6}
    top = (0.5 * dx * (steps + 1), 7.4)
    radius = 0.42

    def node(x, y, label, face="white"):
        ax.add_patch(Circle((x, y), radius, facecolor=face, edgecolor="black", lw=1, zorder=3))
        ax.text(x, y, label, ha="center", va="center", fontsize=11, zorder=4)

    def arrow(start, end, color, lw=1.3, rad=0.0, label=None, at=None, ha="center"):
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, lw=lw,
                                     color=color, shrinkA=15, shrinkB=15,
                                     connectionstyle=f"arc3,rad={rad}", zorder=2))
        if label:
            ax.text(*at, label, color=color, fontsize=9, ha=ha, va="center", zorder=5)

    node(0, rows["h"], "$h_0$", face="0.85")
    node(*top, "$L$", face="#f4cccc")
    ax.text(top[0] + 0.6, top[1], "$L = \\frac{1}{T}\\sum_t \\ell_t$", fontsize=10,
            va="center", ha="left")
    side = 0.3  # the backward arrows run beside the forward ones
    for t in range(1, steps + 1):
        x, first = dx * t, t == 1
        node(x, rows["x"], f"$x_{t}$", face="#d9ead3")
        node(x, rows["h"], f"$h_{t}$")
        node(x, rows["z"], f"$z_{t}$")
        node(x, rows["l"], f"$\\ell_{t}$", face="#fce5cd")
        ax.text(x + 0.55, rows["l"] - 0.45, f"$y_{t}$", fontsize=9, color="0.35")
        arrow((x, rows["x"]), (x, rows["h"]), forward,
              label="$W_{xh}$" if first else None, at=(x - 0.2, 1.0), ha="right")
        arrow((x - dx, rows["h"] + 0.15), (x, rows["h"] + 0.15), forward,
              label="$W_{hh}$", at=(x - dx / 2, rows["h"] + 0.45))
        arrow((x, rows["h"]), (x, rows["z"]), forward,
              label="$W_{hy}$" if first else None, at=(x - 0.2, 3.0), ha="right")
        arrow((x, rows["z"]), (x, rows["l"]), forward)
        arrow((x, rows["l"]), top, forward)
        arrow(top, (x + side, rows["l"]), backward, rad=0.12,
              label="$\\times 1/T$" if t == steps else None, at=(x + 0.2, 6.65), ha="left")
        arrow((x + side, rows["l"]), (x + side, rows["z"]), backward,
              label="$\\hat y_t - \\mathbf{1}_{y_t}$" if first else None,
              at=(x + side + 0.15, 4.8), ha="left")
        arrow((x + side, rows["z"]), (x + side, rows["h"]), backward,
              label="$\\times W_{hy}^\\top$" if first else None, at=(x + side + 0.15, 3.0),
              ha="left")
        arrow((x, rows["h"] - 0.15), (x - dx, rows["h"] - 0.15), backward,
              label=f"$\\delta_{t} W_{{hh}}^\\top$", at=(x - dx / 2, rows["h"] - 0.5))
    ax.plot([], [], color=forward, label="forward pass")
    ax.plot([], [], color=backward, label="gradient, backwards (BPTT)")
    ax.legend(loc="upper left", fontsize=9, frameon=False)
    ax.set(xlim=(-0.7, dx * steps + 1.2), ylim=(-0.7, 8.1), aspect="equal")
    ax.axis("off")
    return ax


def loss_cliff(axes, b=-0.1, start=1.292, lr=0.05, max_norm=1.0, follow=30, w_range=(0.0, 3.0),
               b_range=(-0.5, 0.5), h0=0.5, target=0.7, steps=50):
    """Draw the cliff in the loss surface of the one-unit RNN h_t = tanh(w h_{t−1} + b),
    L = (h_T − y)² (``seqlearn.numpy.gradient_flow.one_unit_rnn_loss``, Pascanu, Mikolov and
    Bengio's example), on two axes: the left one maps log₁₀ L over (w, b) in ``w_range`` ×
    ``b_range``, with the slice b = ``b`` dashed; the right one draws L along that slice and what
    gradient descent on w alone does from w = ``start`` near the wall: ``follow`` plain steps
    w ← w − lr ∂L/∂w, and as many clipped ones, abs(∂L/∂w) ≤ ``max_norm`` (equation (4.7) for one
    parameter), the first step of each as an arrow. ``h0``, ``target``, ``steps``: h_0, y, T.

    Returns a dict with ``"plain"`` and ``"clipped"``, each a dict of arrays: ``w`` (follow + 1,)
    the path, ``loss`` (follow + 1,) L along it and ``grad`` (follow,) ∂L/∂w before clipping.
    """
    from .numpy.gradient_flow import one_unit_rnn_loss

    def loss_and_slope(w):
        loss, dw, _ = one_unit_rnn_loss(w, b, h0, steps, target)
        return float(loss), float(dw)

    runs = {}
    for name, bound in (("plain", None), ("clipped", max_norm)):
        path, losses, grads = [float(start)], [], []
        for _ in range(int(follow)):
            loss, g = loss_and_slope(path[-1])
            losses.append(loss)
            grads.append(g)
            path.append(path[-1] - lr * (g if bound is None else float(np.clip(g, -bound, bound))))
        losses.append(loss_and_slope(path[-1])[0])
        runs[name] = {"w": np.array(path), "loss": np.array(losses), "grad": np.array(grads)}
    plain, clipped = runs["plain"], runs["clipped"]

    left, right = axes
    ws, bs = np.linspace(*w_range, 301), np.linspace(*b_range, 201)
    surface = one_unit_rnn_loss(ws[None, :], bs[:, None], h0, steps, target)[0]
    image = left.imshow(np.log10(surface + 1e-6), origin="lower", aspect="auto", cmap="viridis",
                        extent=(*w_range, *b_range), interpolation="nearest")
    left.figure.colorbar(image, ax=left, label="log₁₀ L")
    left.axhline(b, color="white", ls="--", lw=1)
    left.plot(start, b, "o", color=COLORS[1], mec="white", ms=6)
    left.set(xlabel="recurrent weight w", ylabel="bias b",
             title=f"$L = (h_{{{steps}}} - {target})^2$ over (w, b)")
    left.grid(False)

    line = np.linspace(*w_range, 6001)
    right.plot(line, one_unit_rnn_loss(line, b, h0, steps, target)[0], color="0.3", lw=1.2,
               label=f"L along b = {b}")
    right.plot(start, plain["loss"][0], "o", color="black", ms=6, zorder=5,
               label=f"start: w = {start}, ∂L/∂w = {plain['grad'][0]:.0f}")
    right.plot(clipped["w"][1:], clipped["loss"][1:], ".", color=COLORS[0], ms=5, zorder=4)
    right.annotate("", xy=(clipped["w"][1], clipped["loss"][1]), xytext=(start, plain["loss"][0]),
                   arrowprops=dict(arrowstyle="-|>", color=COLORS[0], lw=2))
    right.plot([], [], color=COLORS[0], lw=2, marker=".",
               label=f"clipped: L = {clipped['loss'][-1]:.1e} after {follow} steps")
    edge = w_range[1]
    right.annotate("", xy=(min(plain["w"][1], edge), plain["loss"][1]),
                   xytext=(start, plain["loss"][0]),
                   arrowprops=dict(arrowstyle="-|>", color=COLORS[1], lw=2))
    if plain["w"][1] > edge:
        right.text(edge, plain["loss"][1] + 0.08, f"on to w = {plain['w'][1]:.1f} →",
                   color=COLORS[1], fontsize=8, va="bottom", ha="right")
    right.plot([], [], color=COLORS[1], lw=2,
               label=f"plain: L = {plain['loss'][-1]:.3f} after {follow} steps")
    right.set(xlim=w_range, xlabel="recurrent weight w", ylabel="loss L",
              title=f"one step from near the wall, learning rate {lr:g}")
    right.legend(fontsize=7, loc="center right")
    return runs


def training_runs(ax, runs, ylabel="loss", xlabel="step", log=False, smooth=0):
    """Draw training curves of several conditions, every seed its own thin line in its
    condition's colour: ``runs`` is a dict label -> list of 1-D arrays (one per seed; runs may
    differ in length, and one that stopped early ends in a cross). ``smooth`` (0 ≤ smooth < 1):
    an exponential moving average over the steps. ``log``: a logarithmic y axis. Returns ``ax``."""
    if not 0 <= smooth < 1:
        raise ValueError(f"training_runs: argument 'smooth' must be in [0, 1), got {smooth}")
    longest = max(len(curve) for curves in runs.values() for curve in curves)
    for (label, curves), color in zip(runs.items(), COLORS * 2):
        for k, curve in enumerate(curves):
            curve = np.asarray(curve, dtype=float)
            if smooth:
                out, running = np.empty_like(curve), curve[0]
                for i, value in enumerate(curve):
                    running = smooth * running + (1 - smooth) * value
                    out[i] = running
                curve = out
            ax.plot(curve, color=color, lw=0.9, alpha=0.85,
                    label=(f"{label} ({len(curves)} seed{'s' if len(curves) > 1 else ''})"
                           if k == 0 else None))
            if len(curve) < longest:
                ax.plot(len(curve) - 1, curve[-1], "x", color=color, ms=7, mew=2)
    if log:
        from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter

        ax.set_yscale("log")
        low, high = ax.get_ylim()
        subs = (1.0, 2.0, 5.0) if high / low < 1e3 else (1.0,)  # labels 1, 2, 5 on a short range
        ax.yaxis.set_major_locator(LogLocator(subs=subs))
        ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set(xlabel=xlabel, ylabel=ylabel)
    ax.legend(fontsize=8)
    return ax


def colored_text(ax, text, values, width=60, cmap="RdBu_r", vmin=-1.0, vmax=1.0, title=None):
    """Draw ``text`` on ``ax`` with every character's background coloured by ``values`` (one
    number per character, e.g. a hidden unit's activation after reading it) on ``cmap`` from
    ``vmin`` to ``vmax``, paled so that the text stays legible, as Karpathy, Johnson and Fei-Fei
    (2015) show their cells. A line break is drawn as ↵ and starts a new row; rows wrap after
    ``width`` characters. Returns the ``ScalarMappable`` of the colours (for a colour bar)."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import ListedColormap, Normalize

    values = np.asarray(values, dtype=float)
    if values.shape != (len(text),):
        raise ValueError(f"colored_text: argument 'values' must have one number per character, "
                         f"shape ({len(text)},), got {values.shape}")
    norm = Normalize(vmin, vmax)
    pale = ListedColormap(0.45 + 0.55 * plt.get_cmap(cmap)(np.linspace(0, 1, 256)))
    pale.colors[:, 3] = 1.0
    colors = pale(norm(values))
    row, col = 0, 0
    for ch, color in zip(text, colors):
        if col >= width:
            row, col = row + 1, 0
        ax.add_patch(plt.Rectangle((col, -row - 0.5), 1, 1, facecolor=color, edgecolor="none"))
        if ch != " ":
            ax.text(col + 0.5, -row, "↵" if ch == "\n" else ch, ha="center", va="center",
                    fontsize=9, family="monospace", color="0.45" if ch == "\n" else "black")
        col += 1
        if ch == "\n":
            row, col = row + 1, 0
    ax.set(xlim=(0, width), ylim=(-row - 0.6, 0.6), aspect="equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=9, loc="left")
    return ScalarMappable(norm=norm, cmap=pale)


def swin_windows(ax, H, W, window_size, shift=0, query=None, title=None):
    """Draw an H × W map of tokens cut into windows of ``window_size`` after a cyclic shift by
    ``shift`` (chapter 11), in the coordinates of the image.

    Each window of the rolled map is drawn where its tokens sit in the image (a window that
    wraps round appears in pieces at the edges), one colour per window. With ``query`` = (row,
    column) of a token, the tokens it may attend to (same window, and allowed by the shifted
    window mask) are marked with a dot, the others of its window with a cross.
    """
    from .numpy.swin import shifted_window_mask, window_partition

    M, s = window_size, shift
    rows, cols = np.meshgrid(np.arange(H), np.arange(W), indexing="ij")
    # position (i, j) of the rolled map holds the image's token ((i + s) mod H, (j + s) mod W)
    origin = np.stack([(rows + s) % H, (cols + s) % W], axis=-1).astype(float)
    where = window_partition(origin[None], M)[0].astype(int)         # (nW, N, 2)
    mask = shifted_window_mask(H, W, M, s)
    window_of = np.zeros((H, W), dtype=int)
    slot_of = np.zeros((H, W), dtype=int)
    for w, tokens in enumerate(where):
        for n, (r, c) in enumerate(tokens):
            window_of[r, c], slot_of[r, c] = w, n
    palette = plt.get_cmap("tab20")(np.linspace(0, 1, 20))
    ax.imshow(palette[window_of % 20], interpolation="nearest")
    if query is not None:
        qr, qc = query
        w, n = window_of[qr, qc], slot_of[qr, qc]
        for k, (r, c) in enumerate(where[w]):
            allowed = mask[w, n, k]
            ax.text(c, r, "●" if allowed else "×", ha="center", va="center",
                    fontsize=9 if allowed else 11, color="black" if allowed else "0.35")
        ax.add_patch(plt.Rectangle((qc - 0.5, qr - 0.5), 1, 1, fill=False, edgecolor="black",
                                   linewidth=2))
    ax.set_xticks(np.arange(-0.5, W, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, H, 1), minor=True)
    ax.grid(which="minor", color="white", linewidth=0.6)
    ax.grid(which="major", visible=False)
    ax.tick_params(which="both", length=0, labelsize=7)
    ax.set_xticks(range(W))
    ax.set_yticks(range(H))
    if title:
        ax.set_title(title, fontsize=9)
    return ax


#: Colours of the cell diagrams: the memory path, the gates, the candidate, the peepholes.
CELL_STYLE = {"memory": COLORS[0], "gate": COLORS[1], "candidate": COLORS[4],
              "peephole": COLORS[2], "input": "0.35"}


def _diagram_node(ax, xy, text, kind="op", color="black", width=0.9, height=0.6):
    """A node of a cell diagram: an operation in a circle (``kind`` "op") or a unit in a box."""
    from matplotlib.patches import Circle, FancyBboxPatch

    x, y = xy
    if kind == "op":
        ax.add_patch(Circle(xy, 0.24, facecolor="white", edgecolor=color, lw=1.4, zorder=3))
        ax.text(x, y, text, ha="center", va="center", fontsize=12, color=color, zorder=4)
    else:
        ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                    boxstyle="round,pad=0.04", facecolor="white", edgecolor=color,
                                    lw=1.4, zorder=3))
        ax.text(x, y, text, ha="center", va="center", fontsize=10, color=color, zorder=4)


def _diagram_arrow(ax, start, end, label=None, color="black", offset=(0.0, 0.0), dashed=False,
                   rad=0.0, fontsize=9, shrink=13):
    """An arrow of a cell diagram from ``start`` to ``end`` with its name written near its middle
    (moved by ``offset``). Returns the label's text object (or None)."""
    ax.annotate("", xy=end, xytext=start, zorder=2,
                arrowprops=dict(arrowstyle="-|>", color=color, lw=1.3, ls="--" if dashed else "-",
                                shrinkA=shrink, shrinkB=shrink, mutation_scale=11,
                                connectionstyle=f"arc3,rad={rad}"))
    if label is None:
        return None
    mx, my = (start[0] + end[0]) / 2 + offset[0], (start[1] + end[1]) / 2 + offset[1]
    return ax.text(mx, my, label, ha="center", va="center", fontsize=fontsize, color=color,
                   zorder=5, bbox=dict(facecolor="white", edgecolor="none", alpha=0.85, pad=0.5))


def lstm_cell_diagram(ax, peepholes=True):
    """Draw one step of the LSTM cell of chapter 6, equations (6.3)-(6.6), with every arrow named
    as in the equations: the pre-activations a_i, a_f, a_g, a_o = x_t W_x + h_{t-1} W_h + b go to
    the gates i_t, f_t, o_t (σ) and the candidate g_t (tanh); the cell path
    c_{t-1} → f_t ⊙ c_{t-1} → c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t along the top; h_t = o_t ⊙ tanh(c_t)
    on the right. With ``peepholes`` the three peephole connections p_i ⊙ c_{t-1},
    p_f ⊙ c_{t-1} and p_o ⊙ c_t are drawn dashed in their own colour. Returns ``ax``."""
    mem, gate, cand, peep, inp = (CELL_STYLE[k] for k in ("memory", "gate", "candidate",
                                                          "peephole", "input"))
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((0.9, 0.55), 8.7, 5.0, boxstyle="round,pad=0.1",
                                facecolor="#f6f8fb", edgecolor="0.7", lw=1, zorder=0))
    top, gates_y, bus = 4.9, 2.4, 1.05
    times, plus, tanh_c, out = (3.0, top), (6.2, top), (8.5, 3.9), (8.5, 2.4)
    ig = (5.35, 3.55)
    f_box, i_box, g_box, o_box = (3.0, gates_y), (4.6, gates_y), (6.0, gates_y), (7.3, gates_y)
    # the memory path along the top
    _diagram_arrow(ax, (0.0, top), times, "$c_{t-1}$", mem, offset=(-0.55, 0.3), shrink=2)
    _diagram_node(ax, times, "×", color=mem)
    _diagram_arrow(ax, times, plus, r"$f_t \odot c_{t-1}$", mem, offset=(0.0, 0.32))
    _diagram_node(ax, plus, "+", color=mem)
    _diagram_arrow(ax, plus, (10.4, top), "$c_t$", mem, offset=(0.75, 0.3), shrink=2)
    # the inputs: one bus carrying x_t and h_{t-1}, one pre-activation per block
    ax.plot([0.0, o_box[0]], [bus, bus], color=inp, lw=1.3, zorder=1)
    ax.text(0.05, bus - 0.32, "$h_{t-1}$", ha="left", va="center", fontsize=10, color=inp)
    _diagram_arrow(ax, (1.9, -0.35), (1.9, bus), "$x_t$", inp, offset=(0.3, -0.25), shrink=0)
    ax.text(4.85, 0.35, r"$a_t = x_t W_x + h_{t-1} W_h + b = [\,a_i \mid a_f \mid a_g \mid a_o\,]$",
            ha="center", va="center", fontsize=9, color=inp)
    for (x, _), name in zip((f_box, i_box, g_box, o_box), ("f", "i", "g", "o")):
        _diagram_arrow(ax, (x, bus), (x, gates_y - 0.34), f"$a_{name}$", inp,
                       offset=(0.28, -0.1), shrink=0)
    _diagram_node(ax, f_box, "σ", "box", gate)
    _diagram_node(ax, i_box, "σ", "box", gate)
    _diagram_node(ax, g_box, "tanh", "box", cand)
    _diagram_node(ax, o_box, "σ", "box", gate)
    # the gates' outputs
    _diagram_arrow(ax, f_box, times, "$f_t$", gate, offset=(0.25, 0.0))
    _diagram_arrow(ax, i_box, ig, "$i_t$", gate, offset=(-0.2, 0.1))
    _diagram_arrow(ax, g_box, ig, "$g_t$", cand, offset=(0.25, 0.1))
    _diagram_node(ax, ig, "×", color=gate)
    _diagram_arrow(ax, ig, plus, r"$i_t \odot g_t$", gate, offset=(-0.55, 0.05))
    # the output: h_t = o_t ⊙ tanh(c_t)
    _diagram_arrow(ax, (tanh_c[0], top), tanh_c, "$c_t$", mem, offset=(0.25, 0.05), shrink=0)
    _diagram_node(ax, tanh_c, "tanh", "box", mem, width=0.8, height=0.45)
    _diagram_arrow(ax, tanh_c, out, r"$\tanh(c_t)$", mem, offset=(0.55, 0.05))
    _diagram_arrow(ax, o_box, out, "$o_t$", gate, offset=(0.0, 0.22))
    _diagram_node(ax, out, "×", color=gate)
    _diagram_arrow(ax, out, (10.4, out[1]), "$h_t$", "black", offset=(0.55, 0.25), shrink=2)
    ax.plot([9.8, 9.8, 0.45, 0.45], [out[1], -0.75, -0.75, bus - 0.02], color="0.6", lw=0.9,
            ls=":", zorder=1)
    ax.text(5.0, -0.95, "$h_t$ is the next step's $h_{t-1}$, $c_t$ its $c_{t-1}$", ha="center",
            va="center", fontsize=8, color="0.45")
    if peepholes:
        _diagram_arrow(ax, (2.2, top), (f_box[0] - 0.35, gates_y + 0.3), r"$p_f \odot c_{t-1}$",
                       peep, offset=(-0.55, 0.0), dashed=True, shrink=2)
        _diagram_arrow(ax, (2.2, top), (i_box[0] - 0.35, gates_y + 0.3), r"$p_i \odot c_{t-1}$",
                       peep, offset=(0.35, 0.45), dashed=True, shrink=2, rad=0.15)
        _diagram_arrow(ax, (7.3, top), (o_box[0], gates_y + 0.32), r"$p_o \odot c_t$", peep,
                       offset=(-0.5, 0.3), dashed=True, shrink=2)
    title = "LSTM cell, equations (6.3)–(6.6)" + (" with peepholes (dashed)" if peepholes else "")
    ax.set_title(title, fontsize=10)
    ax.set(xlim=(-0.2, 10.9), ylim=(-1.2, 5.9))
    ax.set_aspect("equal")
    ax.axis("off")
    return ax


def gru_cell_diagram(ax):
    """Draw one step of the GRU of chapter 6, equations (6.7)-(6.9), with every arrow named as in
    the equations: the reset gate r_t and the update gate u_t (σ) read x_t and h_{t-1}; the
    candidate h̃_t = tanh(x_t W_xn + b_xn + r_t ⊙ (h_{t-1} W_hn + b_hn)); the state path along the
    top, h_t = u_t ⊙ h_{t-1} + (1 − u_t) ⊙ h̃_t, where one gate sets both what is kept (u_t) and
    what is written (1 − u_t). Returns ``ax``."""
    from matplotlib.patches import FancyBboxPatch

    mem, gate, cand, inp = (CELL_STYLE[k] for k in ("memory", "gate", "candidate", "input"))
    ax.add_patch(FancyBboxPatch((0.9, 0.55), 8.7, 5.0, boxstyle="round,pad=0.1",
                                facecolor="#f6f8fb", edgecolor="0.7", lw=1, zorder=0))
    top, gates_y, bus = 4.9, 2.4, 1.05
    keep, plus = (2.4, top), (7.6, top)
    u_box, r_box, n_box = (2.4, gates_y), (3.8, gates_y), (6.3, gates_y)
    one_minus, write, reset = (3.4, 3.6), (7.6, 3.6), (5.05, gates_y)
    _diagram_arrow(ax, (0.0, top), keep, "$h_{t-1}$", mem, offset=(-0.9, 0.3), shrink=2)
    _diagram_node(ax, keep, "×", color=mem)
    _diagram_arrow(ax, keep, plus, r"$u_t \odot h_{t-1}$", mem, offset=(-0.4, 0.32))
    _diagram_node(ax, plus, "+", color=mem)
    _diagram_arrow(ax, plus, (10.4, top), "$h_t$", mem, offset=(0.75, 0.3), shrink=2)
    # h_{t-1} down to the bus that feeds the gates, and x_t from below
    ax.plot([1.4, 1.4], [top, bus], color=mem, lw=1.3, zorder=1)
    ax.plot([1.4, n_box[0]], [bus, bus], color=inp, lw=1.3, zorder=1)
    _diagram_arrow(ax, (1.9, -0.35), (1.9, bus), "$x_t$", inp, offset=(-0.3, -0.25), shrink=0)
    _diagram_arrow(ax, (r_box[0], bus), (r_box[0], gates_y - 0.34), "$a_r + s_r$", inp,
                   offset=(0.0, -0.15), shrink=0, fontsize=8)
    _diagram_arrow(ax, (u_box[0], bus), (u_box[0], gates_y - 0.34), "$a_u + s_u$", inp,
                   offset=(0.0, -0.15), shrink=0, fontsize=8)
    ax.text(5.6, 0.3, r"$[a_r | a_u | a_n] = x_t W_x + b_x$,  "
            r"$[s_r | s_u | s_n] = h_{t-1} W_h + b_h$", ha="center", va="center", fontsize=9,
            color=inp)
    _diagram_node(ax, r_box, "σ", "box", gate)
    _diagram_node(ax, u_box, "σ", "box", gate)
    # the candidate: the reset gate scales the recurrent part
    _diagram_arrow(ax, (reset[0], bus), reset, "$s_n$", inp, offset=(0.22, -0.2), shrink=0)
    _diagram_arrow(ax, r_box, reset, "$r_t$", gate, offset=(0.0, 0.22))
    _diagram_node(ax, reset, "×", color=gate)
    _diagram_arrow(ax, reset, n_box, r"$r_t \odot s_n$", gate, offset=(0.0, 0.28), fontsize=8)
    _diagram_arrow(ax, (n_box[0], bus), (n_box[0], gates_y - 0.34), "$a_n$", inp,
                   offset=(0.25, -0.15), shrink=0)
    _diagram_node(ax, n_box, "tanh", "box", cand)
    _diagram_arrow(ax, n_box, write, r"$\tilde h_t$", cand, offset=(0.2, -0.05))
    # one gate, two jobs: u_t keeps, 1 − u_t writes
    _diagram_arrow(ax, u_box, keep, "$u_t$", gate, offset=(-0.28, 0.0))
    _diagram_arrow(ax, u_box, one_minus, "", gate)
    _diagram_node(ax, one_minus, "1−", color=gate)
    _diagram_arrow(ax, one_minus, write, "$1 - u_t$", gate, offset=(0.0, 0.25))
    _diagram_node(ax, write, "×", color=cand)
    _diagram_arrow(ax, write, plus, r"$(1 - u_t) \odot \tilde h_t$", cand, offset=(0.95, 0.0))
    ax.plot([9.8, 9.8, 0.45, 0.45, 0.0], [top, -0.75, -0.75, top, top], color="0.6", lw=0.9,
            ls=":", zorder=1)
    ax.text(5.0, -0.95, "$h_t$ is the next step's $h_{t-1}$", ha="center", va="center",
            fontsize=8, color="0.45")
    ax.set_title("GRU cell, equations (6.7)–(6.9): $u_t$ keeps, $1 - u_t$ writes", fontsize=10)
    ax.set(xlim=(-0.2, 10.9), ylim=(-1.2, 5.9))
    ax.set_aspect("equal")
    ax.axis("off")
    return ax


def encoder_decoder_diagram(ax, attention=False, source=("a", "b", "c", "d"),
                            target=("d", "c", "b", "a"), step=2, weights=None):
    """Draw the RNN encoder–decoder of chapter 7, equation (7.1), unrolled on one example: the
    encoder states h_1 … h_S read the source tokens x_j, the decoder states s_1 … s_T read
    ⟨bos⟩, y_1 … y_{T−1} and emit y_1 … y_T, ⟨eos⟩ included (the target ``target`` written
    under each output). Without ``attention`` the only path from the source to the decoder is
    h_S → s_0 (drawn thick: the fixed-length bottleneck). With ``attention`` the decoder state
    s_t of step ``step`` (1-based) is the query of attention over all the encoder states, drawn
    as arrows from every h_j to the context c_t = Σ_j α_tj h_j whose widths are the weights
    ``weights`` (S,) (default: most weight on the source token the step copies for a reversal),
    and c_t joins s_t before the output, equation (7.7). Returns ``ax``."""
    S, T = len(source), len(target) + 1
    if S < 1 or T < 2:
        raise ValueError("encoder_decoder_diagram: source and target need at least one token")
    step = int(step)
    if not 1 <= step <= T:
        raise ValueError(f"encoder_decoder_diagram: step must be in 1 … {T}, got {step}")
    enc, dec, att = COLORS[0], COLORS[3], COLORS[1]
    dx, gap = 1.25, 1.1
    ex = [dx * j for j in range(S)]
    dxs = [ex[-1] + gap + dx * (t + 1) for t in range(T)]
    low, mid, high = 0.0, 1.3, 2.7
    for j, x in enumerate(ex):
        _diagram_node(ax, (x, mid), f"$h_{{{j + 1}}}$", "box", enc, width=0.8)
        _diagram_arrow(ax, (x, low), (x, mid - 0.3), None, enc, shrink=6)
        ax.text(x, low - 0.15, f"$x_{{{j + 1}}}$ = {source[j]}", ha="center", va="top",
                fontsize=8, color=enc)
        if j:
            _diagram_arrow(ax, (ex[j - 1], mid), (x, mid), None, enc, shrink=17)
    inputs = ["⟨bos⟩"] + list(target)
    outputs = list(target) + ["⟨eos⟩"]
    _diagram_arrow(ax, (ex[-1], mid), (dxs[0], mid), "$s_0 = h_S$" if not attention else None,
                   att if not attention else dec, offset=(-0.15, 0.35), shrink=17)
    for t, x in enumerate(dxs):
        _diagram_node(ax, (x, mid), f"$s_{{{t + 1}}}$", "box", dec, width=0.8)
        _diagram_arrow(ax, (x, low), (x, mid - 0.3), None, dec, shrink=6)
        ax.text(x, low - 0.15, inputs[t], ha="center", va="top", fontsize=8, color=dec)
        _diagram_arrow(ax, (x, mid + 0.3), (x, high), None, dec, shrink=4)
        ax.text(x, high + 0.08, outputs[t], ha="center", va="bottom", fontsize=8, color=dec)
        if t:
            _diagram_arrow(ax, (dxs[t - 1], mid), (x, mid), None, dec, shrink=17)
            _diagram_arrow(ax, (dxs[t - 1], high + 0.35), (x - 0.1, low + 0.05), None, "0.7",
                           dashed=True, shrink=9)
    if not attention:
        ax.annotate("", xy=(dxs[0] - 0.4, mid), xytext=(ex[-1] + 0.4, mid), zorder=2,
                    arrowprops=dict(arrowstyle="-|>", color=att, lw=3.5, mutation_scale=14))
        ax.text((ex[-1] + dxs[0]) / 2, mid - 0.55, "the only link:\n$H$ numbers",
                ha="center", va="top", fontsize=8, color=att)
        title = "encoder–decoder without attention, (7.1): everything passes through $h_S$"
    else:
        if weights is None:
            weights = np.full(S, 0.3 / max(S - 1, 1))
            weights[max(0, S - step)] = 0.7 if S > 1 else 1.0
        weights = np.asarray(weights, dtype=float)
        if weights.shape != (S,):
            raise ValueError(f"encoder_decoder_diagram: weights must have shape ({S},), got "
                             f"{weights.shape}")
        context = ((ex[0] + ex[-1]) / 2, high + 1.2)
        xt = dxs[step - 1]
        _diagram_node(ax, context, f"$c_{{{step}}}$", "box", att, width=0.8)
        for x, a in zip(ex, weights):
            ax.annotate("", xy=context, xytext=(x, mid + 0.3), zorder=2,
                        arrowprops=dict(arrowstyle="-|>", color=att, lw=0.5 + 5 * a,
                                        alpha=0.4 + 0.6 * a, shrinkA=2, shrinkB=14,
                                        mutation_scale=10))
            ax.text(x + 0.05, mid + 0.55, f"{a:.2f}", fontsize=7, color=att, ha="left")
        ax.text(ex[0] - 0.5, mid + 0.55, "$\\alpha_{%d j}$" % step, fontsize=9, color=att,
                ha="right")
        _diagram_arrow(ax, (xt + 0.2, mid + 0.3), (context[0] + 0.45, context[1] - 0.1),
                       f"query $s_{{{step}}}$", att, offset=(-0.6, -0.35), shrink=4, rad=0.25,
                       fontsize=8)
        _diagram_arrow(ax, (context[0] + 0.45, context[1] + 0.1), (xt, high + 0.45),
                       f"$[s_{{{step}}}; c_{{{step}}}]$ → output", att, offset=(0.2, 0.55),
                       shrink=4, rad=-0.25, fontsize=8)
        title = (f"with attention, (7.7): step {step} reads every $h_j$ "
                 f"through the weights $\\alpha_{{{step}j}}$")
    ax.set_title(title, fontsize=10)
    ax.set(xlim=(ex[0] - 1.1, dxs[-1] + 0.7), ylim=(low - 0.8, high + 1.9))
    ax.set_aspect("equal")
    ax.axis("off")
    return ax


def transformer_diagram(ax):
    """Draw the encoder–decoder Transformer of chapter 8 (Vaswani et al. 2017), post-LN, as boxes:
    embeddings · √D plus the positional encoding; an encoder block × M (multi-head self-attention,
    add & LayerNorm, feed-forward, add & LayerNorm); a decoder block × M (masked multi-head
    self-attention, cross-attention whose keys and values are the encoder's output, the memory,
    and feed-forward, each followed by add & LayerNorm); the linear layer and softmax over the
    vocabulary. Each sub-layer's residual connection is a red arrow around it:
    ``z = LN(x + Sublayer(x))``. Returns ``ax``."""
    def box(x, y, text, color, width=3.4, height=0.5):
        ax.add_patch(plt.Rectangle((x - width / 2, y - height / 2), width, height, facecolor=color,
                                   edgecolor="0.3"))
        ax.text(x, y, text, ha="center", va="center", fontsize=8)

    def arrow(start, end):
        ax.annotate("", xy=end, xytext=start, arrowprops=dict(arrowstyle="->", color="0.3", lw=1))

    ax.set(xlim=(0, 10), ylim=(-0.8, 7.7))
    ax.axis("off")
    attention, norm, feed_forward, plain = "#cfe2f3", "#fff2cc", "#d9ead3", "#eeeeee"
    encoder = [("multi-head self-attention", attention), ("add & LayerNorm", norm),
               ("feed-forward", feed_forward), ("add & LayerNorm", norm)]
    decoder = [("masked multi-head self-attention", attention), ("add & LayerNorm", norm),
               ("cross-attention (K, V = memory)", attention), ("add & LayerNorm", norm),
               ("feed-forward", feed_forward), ("add & LayerNorm", norm)]
    tops = {}
    for x0, layers, title, below in [(2.4, encoder, "encoder block × M", "source tokens"),
                                     (7.4, decoder, "decoder block × M",
                                      "target tokens shifted right (BOS first)")]:
        box(x0, 0.0, "embedding · √D + positional encoding", plain)
        ax.text(x0, -0.6, below, ha="center", fontsize=8)
        ys = [1.0 + 0.9 * k for k in range(len(layers))]
        arrow((x0, 0.25), (x0, ys[0] - 0.25))
        for k, ((text, color), y) in enumerate(zip(layers, ys)):
            box(x0, y, text, color)
            if k + 1 < len(ys):
                arrow((x0, y + 0.25), (x0, ys[k + 1] - 0.25))
        for k in range(0, len(layers), 2):   # the residual path around each sub-layer
            ax.annotate("", xy=(x0 - 1.7, ys[k + 1]), xytext=(x0 - 1.7, ys[k] - 0.45),
                        arrowprops=dict(arrowstyle="->", color=COLORS[1], lw=1.2,
                                        connectionstyle="bar,fraction=-0.25"))
        ax.add_patch(plt.Rectangle((x0 - 2.05, ys[0] - 0.55), 4.1, ys[-1] - ys[0] + 1.1,
                                   fill=False, edgecolor="0.6", ls="--"))
        ax.text(x0 - 1.95, ys[-1] + 0.62, title, ha="left", fontsize=9, weight="bold")
        tops[x0] = ys
    enc, dec = tops[2.4], tops[7.4]
    arrow((2.4 + 1.7, enc[-1]), (7.4 - 1.7, dec[2]))
    ax.text(4.5, enc[-1] - 0.05, "memory", fontsize=8, color="0.3", rotation=-18)
    box(7.4, dec[-1] + 1.45, "linear → softmax over the vocabulary", plain)
    arrow((7.4, dec[-1] + 0.25), (7.4, dec[-1] + 1.2))
    ax.set_title("the encoder–decoder Transformer, post-LN (red: residual connections)",
                 fontsize=10)
    return ax


__all__ = ["COLORS", "use_course_style", "heatmap", "loss_curve", "BASIN_COLORS",
           "CELL_STYLE", "gru_cell_diagram", "lstm_cell_diagram",
           "REGIME_COLORS", "lyapunov_diagram", "trajectory_projection", "unrolled_network",
           "FIXED_POINT_STYLE", "bifurcation_diagram", "phase_portrait",
           "PIXEL_STYLE", "conv_mask_diagram", "image_grid", "pixel_dependencies",
           "skew_diagram", "seed_band",
           "bpe_merges", "scaling_plot", "tokenised_text", "visible_token",
           "bptt_graph", "colored_text", "loss_cliff", "training_runs",
           "swin_windows",
           "encoder_decoder_diagram", "transformer_diagram"]
