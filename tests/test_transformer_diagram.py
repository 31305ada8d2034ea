"""The block diagram of the encoder–decoder Transformer (chapter 8 and its deck)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from seqlearn import plotting  # noqa: E402


def test_transformer_diagram_draws_every_sub_layer_and_its_residual():
    fig, ax = plt.subplots()
    assert plotting.transformer_diagram(ax) is ax
    labels = [text.get_text() for text in ax.texts]
    # encoder: attention and feed-forward; decoder: masked self-attention, cross-attention, FF
    assert labels.count("add & LayerNorm") == 2 + 3
    assert labels.count("feed-forward") == 2
    for name in ("multi-head self-attention", "masked multi-head self-attention",
                 "cross-attention (K, V = memory)", "memory", "encoder block × M",
                 "decoder block × M", "linear → softmax over the vocabulary"):
        assert name in labels, name
    residual = [a for a in ax.texts if isinstance(a, matplotlib.text.Annotation)
                and a.arrow_patch is not None
                and matplotlib.colors.same_color(a.arrow_patch.get_edgecolor(), plotting.COLORS[1])]
    assert len(residual) == 2 + 3          # one around each sub-layer
    plt.close(fig)
