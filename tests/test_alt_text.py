"""Figures describe themselves (seqlearn.alt_text): the sentence that becomes the book's alt text."""

import io

import matplotlib
import matplotlib.pyplot as plt

from seqlearn import alt_text
from seqlearn.widgets import interactive_figure

matplotlib.use("Agg")


def test_the_description_names_titles_labels_and_legend():
    fig, (left, right) = plt.subplots(1, 2)
    fig.suptitle(r"Gradients through time, $\rho = 1$")
    left.plot([1, 2], label="tanh")
    left.plot([2, 1], label="relu")
    left.legend()
    left.set(title="norm", xlabel="steps back k", ylabel=r"$\|\partial h_T / \partial h_t\|$")
    right.set_title("loss")
    text = alt_text.describe_figure(fig)
    plt.close(fig)
    assert text.startswith("Figure: Gradients through time, rho = 1. 2 panels:")
    assert "x: steps back k" in text and "lines: tanh, relu" in text and "| loss" in text
    assert "$" not in text and "\\" not in text


def test_a_figure_without_text_still_says_what_it_is():
    fig, ax = plt.subplots()
    ax.axis("off")
    assert alt_text.describe_figure(fig) == "Figure. 1 panel(s) without titles or labels."
    plt.close(fig)


def test_the_png_carries_its_description(tmp_path):
    fig, ax = plt.subplots()
    ax.set_title("held-out accuracy")
    path = tmp_path / "f.png"
    path.write_bytes(alt_text.png_with_description(fig))
    plt.close(fig)
    assert alt_text.read_description(path) == "Figure. Held-out accuracy."
    (tmp_path / "plain.txt").write_text("not an image")
    assert alt_text.read_description(tmp_path / "plain.txt") == ""
    assert alt_text.install() is False   # outside IPython there is nothing to install


def test_an_interactive_figure_shows_a_described_static_figure_with_a_caption():
    import ipywidgets

    def draw(fig, slope):
        ax = fig.add_subplot()
        ax.plot([0, 1], [0, slope])
        ax.set_title(f"slope {slope}")

    figure = interactive_figure(draw, slope=ipywidgets.FloatSlider(value=2.0, min=0, max=3))
    html = figure.static_html()
    assert 'alt="Figure. Slope 2.0."' in html and "data:image/png;base64," in html
    assert "<figcaption>" in html and "slope (here 2.0)" in html
    assert "text/html" in figure._repr_mimebundle_()
    from PIL import Image
    assert Image.open(io.BytesIO(figure.static_png())).text["Description"] == "Figure. Slope 2.0."
