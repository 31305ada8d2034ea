"""Interactive figures that also show as a static figure in the HTML book.

``interactive_figure(draw, **controls)`` returns an object whose display bundle holds both the
live ipywidgets view (used by Jupyter and Colab) and a PNG of the figure at the controls'
initial values (used by the HTML book, where no kernel runs: ``_config.yml`` drops the widget
view for the HTML builder).
"""

import base64
import io

import matplotlib.pyplot as plt


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
        """PNG bytes of the figure at the controls' initial values."""
        buffer = io.BytesIO()
        self.render().savefig(buffer, format="png", dpi=90, bbox_inches="tight")
        return buffer.getvalue()

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
        bundle["text/plain"] = f"<interactive figure: {', '.join(self.controls)}>"
        return bundle


def interactive_figure(draw, figsize=(6, 4), **controls):
    """Make an interactive figure; display it as the last expression of a cell.

    ``draw(fig, **values)`` draws into an empty matplotlib ``Figure``; each keyword argument is an
    ipywidgets control (``FloatSlider``, ``Dropdown``, ...) whose value is passed by that name.
    """
    return InteractiveFigure(draw, controls, figsize=figsize)


__all__ = ["InteractiveFigure", "interactive_figure"]
