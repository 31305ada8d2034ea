"""The interactive-figure helper (live widget plus static PNG) and the source viewer."""

import base64

import ipywidgets
import pytest

from seqlearn.display import show_source
from seqlearn.numpy.rnn import rnn_forward
from seqlearn.widgets import interactive_figure


def _draw(fig, slope):
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, slope])
    ax.set_title(f"slope {slope}")


def test_bundle_holds_the_widget_view_and_a_static_png():
    figure = interactive_figure(_draw, slope=ipywidgets.FloatSlider(value=2.0, min=0, max=5))
    bundle = figure._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    png = base64.b64decode(bundle["image/png"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_moving_a_control_redraws_with_the_new_value():
    slider = ipywidgets.FloatSlider(value=1.0, min=0, max=5)
    figure = interactive_figure(_draw, slope=slider)
    assert figure.render().axes[0].get_title() == "slope 1.0"
    assert figure.render(slope=3.0).axes[0].get_title() == "slope 3.0"


def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match="'draw' must be callable"):
        interactive_figure(None, slope=ipywidgets.FloatSlider())
    with pytest.raises(ValueError, match="at least one control"):
        interactive_figure(_draw)
    with pytest.raises(TypeError, match="ipywidgets widget"):
        interactive_figure(_draw, slope=3)


def test_show_source_renders_the_package_code():
    view = show_source(rnn_forward)
    assert "def rnn_forward" in view.code
    assert "seqlearn.numpy.rnn.rnn_forward" in view._repr_html_()
    with pytest.raises(TypeError, match="'obj'"):
        show_source(3)
