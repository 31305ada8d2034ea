"""Alt text for the figures of the book: a figure describes itself from its own titles and labels.

:func:`describe_figure` writes a sentence from what a matplotlib figure shows (its title, and per
panel its title, axis labels and legend); :func:`install` makes the notebook store that sentence
in every PNG it shows (the PNG's ``Description`` text chunk), and the book's build
(``tools/site_fixes.py``) turns it into the image's ``alt`` attribute, so that a reader who
cannot see the figure learns what it plots.
"""

import io

#: The PNG text chunk that carries the description.
KEY = "Description"


def _clean(text):
    return " ".join(str(text).replace("$", "").replace("\\", "").split())


def describe_figure(fig):
    """One or two sentences saying what ``fig`` shows, from its text (never empty)."""
    parts = []
    title = fig.get_suptitle()
    axes = [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]
    for ax in axes:
        bits = []
        if ax.get_title():
            bits.append(_clean(ax.get_title()))
        labels = [f"{name} {_clean(label)}" for name, label in
                  (("x:", ax.get_xlabel()), ("y:", ax.get_ylabel())) if label]
        if labels:
            bits.append(", ".join(labels))
        legend = ax.get_legend()
        if legend is not None:
            entries = [_clean(t.get_text()) for t in legend.get_texts()][:6]
            if entries:
                bits.append("lines: " + ", ".join(entries))
        if bits:
            parts.append("; ".join(bits))
    head = f"Figure: {_clean(title)}. " if title else "Figure. "
    if not parts:
        return head + f"{len(axes)} panel(s) without titles or labels."
    if len(parts) == 1:
        return head + parts[0][:1].upper() + parts[0][1:] + "."
    return head + f"{len(parts)} panels: " + " | ".join(parts) + "."


def png_with_description(fig, **savefig_kwargs):
    """PNG bytes of ``fig`` with :func:`describe_figure` in its ``Description`` chunk."""
    buffer = io.BytesIO()
    metadata = dict(savefig_kwargs.pop("metadata", {}) or {}, **{KEY: describe_figure(fig)})
    fig.savefig(buffer, format="png", metadata=metadata, **savefig_kwargs)
    return buffer.getvalue()


def install():
    """In IPython, show every matplotlib figure as a PNG that carries its description (the
    inline backend's look otherwise unchanged). Does nothing outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    import matplotlib.pyplot as plt
    from IPython.core.pylabtools import print_figure
    from matplotlib.figure import Figure

    # The inline backend registers its own formatter when pyplot first makes a figure: make
    # one now, so that the formatter below is the one that stays.
    plt.close(plt.figure())

    def png(fig):
        if not fig.axes and not fig.lines:
            return None
        return print_figure(fig, "png", base64=True, bbox_inches="tight",
                            metadata={KEY: describe_figure(fig)})

    shell.display_formatter.formatters["image/png"].for_type(Figure, png)
    return True


def read_description(path):
    """The ``Description`` of a PNG file (``""`` when it has none or is not a PNG)."""
    try:
        from PIL import Image

        with Image.open(path) as image:
            return str(image.text.get(KEY, "")) if hasattr(image, "text") else ""
    except Exception:  # noqa: BLE001 - not an image we can read: no description
        return ""


__all__ = ["KEY", "describe_figure", "png_with_description", "install", "read_description"]
