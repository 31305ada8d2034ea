"""Interactive figures that also show as a static figure in the HTML book.

``interactive_figure(draw, **controls)`` returns an object whose display bundle holds both the
live ipywidgets view (used by Jupyter and Colab) and the figure at the controls' initial values,
as a PNG and as an HTML figure with alt text and a caption naming the controls (used by the HTML
book, where no kernel runs: ``_config.yml`` drops the widget view for the HTML builder).
"""

import base64
import html

import matplotlib.pyplot as plt

from .alt_text import describe_figure, png_with_description


def _initial_value(control):
    value = getattr(control, "value", None)
    if value is None:
        raise TypeError(
            f"interactive_figure: each control must be an ipywidgets widget with a value, "
            f"got {control!r}"
        )
    return value


class InteractiveFigure:
    """A matplotlib figure redrawn by ``draw(fig, **values)`` whenever a control changes."""

    def __init__(self, draw, controls, figsize=(6, 4)):
        if not callable(draw):
            raise TypeError(f"interactive_figure: argument 'draw' must be callable, got {draw!r}")
        if not controls:
            raise ValueError("interactive_figure: give at least one control, e.g. slope=FloatSlider()")
        self.draw = draw
        self.controls = dict(controls)
        self.figsize = figsize
        self.initial = {name: _initial_value(c) for name, c in self.controls.items()}
        self._widget = None

    def render(self, **values):
        """Draw the figure for the given control values and return it (closed for pyplot)."""
        fig = plt.figure(figsize=self.figsize)
        self.draw(fig, **{**self.initial, **values})
        plt.close(fig)
        return fig

    def static_png(self):
        """PNG bytes of the figure at the controls' initial values (with its description)."""
        return png_with_description(self.render(), dpi=90, bbox_inches="tight")

    def static_html(self):
        """The static figure as an HTML ``figure``: the PNG with its description as alt text,
        and a caption naming the controls that the notebook version offers."""
        figure = self.render()
        png = base64.b64encode(png_with_description(figure, dpi=90, bbox_inches="tight"))
        controls = ", ".join(f"{name} (here {self.initial[name]!r})" for name in self.controls)
        return (f'<figure class="seqlearn-interactive-figure">'
                f'<img alt="{html.escape(describe_figure(figure))}" '
                f'src="data:image/png;base64,{png.decode("ascii")}"/>'
                f"<figcaption>Interactive figure, shown at its first setting; in Jupyter or Colab "
                f"its controls change {html.escape(controls)}.</figcaption></figure>")

    @property
    def widget(self):
        if self._widget is None:
            import ipywidgets
            from IPython.display import display

            output = ipywidgets.Output()

            def redraw(_change=None):
                values = {name: c.value for name, c in self.controls.items()}
                with output:
                    output.clear_output(wait=True)
                    display(self.render(**values))

            for control in self.controls.values():
                control.observe(redraw, names="value")
            redraw()
            self._widget = ipywidgets.VBox(
                [ipywidgets.HBox(list(self.controls.values())), output]
            )
        return self._widget

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = {}
        try:
            bundle.update(self.widget._repr_mimebundle_())
        except Exception:  # noqa: BLE001 - no widget front end (a plain console): figure only
            pass
        bundle["image/png"] = base64.b64encode(self.static_png()).decode("ascii")
        bundle["text/html"] = self.static_html()
        bundle["text/plain"] = f"<interactive figure: {', '.join(self.controls)}>"
        return bundle


def interactive_figure(draw, figsize=(6, 4), **controls):
    """Make an interactive figure; display it as the last expression of a cell.

    ``draw(fig, **values)`` draws into an empty matplotlib ``Figure``; each keyword argument is an
    ipywidgets control (``FloatSlider``, ``Dropdown``, ...) whose value is passed by that name.
    """
    return InteractiveFigure(draw, controls, figsize=figsize)


__all__ = ["InteractiveFigure", "interactive_figure"]
