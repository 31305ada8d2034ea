"""Digit strips and their captions, and the attention captioner of chapter 7."""

import numpy as np
import pytest
import torch

import seqlearn
from seqlearn.data.digit_captions import (CAPTION_WORDS, FIRST_WORD, TRAIN_IMAGES, caption_text,
                                          digit_strips, load_digit_images)
from seqlearn.data.transduction import BOS, EOS, PAD
from seqlearn.torch.captioning import (DigitCaptioner, attention_on_digits, caption_accuracy,
                                       train_captioner)


pytestmark = pytest.mark.usefixtures("one_thread")


def test_each_block_of_a_strip_is_the_captioned_digit():
    images, labels = load_digit_images()
    d = digit_strips(20, n_digits=4, rng=1)
    assert d["images"].shape == (20, 8, 32) and d["images"].dtype == np.float64
    assert d["images"].min() >= 0.0 and d["images"].max() <= 1.0
    for b in range(20):
        for j in range(4):
            index = d["indices"][b, j]
            np.testing.assert_array_equal(d["images"][b, :, 8 * j:8 * j + 8], images[index])
            assert labels[index] == d["digits"][b, j]
    np.testing.assert_array_equal(d["tgt_out"][:, :4], FIRST_WORD + d["digits"])
    assert np.all(d["tgt_out"][:, 4] == EOS) and np.all(d["tgt_in"][:, 0] == BOS)
    np.testing.assert_array_equal(d["tgt_in"][:, 1:], d["tgt_out"][:, :4])


def test_captions_read_as_words_and_subsets_do_not_overlap():
    d = digit_strips(5, n_digits=3, rng=2)
    words = caption_text(d["tgt_out"])
    assert words[0] == " ".join(CAPTION_WORDS[FIRST_WORD + k] for k in d["digits"][0])
    assert caption_text([BOS, 6, 4, 7, EOS, PAD]) == "three one four"
    train = digit_strips(200, rng=0, subset="train")["indices"]
    test = digit_strips(200, rng=0, subset="test")["indices"]
    assert train.max() < TRAIN_IMAGES <= test.min()
    np.testing.assert_array_equal(digit_strips(7, rng=4)["images"], digit_strips(7, rng=4)["images"])


@pytest.mark.parametrize("call, error, match", [
    (lambda: digit_strips(0), ValueError, "n"),
    (lambda: digit_strips(3, n_digits=0), ValueError, "n_digits"),
    (lambda: digit_strips(3, subset="valid"), ValueError, "subset"),
    (lambda: caption_text([3, 99]), ValueError, "tokens"),
    (lambda: caption_text("three"), TypeError, "tokens"),
])
def test_bad_data_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_model_shapes_and_normalised_attention():
    torch.manual_seed(0)
    model = DigitCaptioner(channels=8, embedding_size=8, hidden_size=16, attention_size=8)
    d = digit_strips(5, n_digits=3, rng=0)
    logits = model(d["images"], d["tgt_in"])
    assert logits.shape == (5, 4, len(CAPTION_WORDS))
    regions = model.encode(d["images"])
    assert regions.shape == (5, 12, 8)
    w = model.last_attention
    assert w.shape == (5, 4, 12)
    torch.testing.assert_close(w.sum(-1), torch.ones(5, 4))
    tokens, weights = model.greedy_decode(d["images"], 4, return_attention=True)
    assert tokens.shape == (5, 4) and weights.shape == (5, 4, 12)
    boxes = model.region_boxes()
    assert boxes.shape == (12, 4)
    assert tuple(boxes[0]) == (0, 4, 0, 4) and tuple(boxes[6]) == (4, 8, 0, 4)
    assert tuple(boxes[5]) == (0, 4, 20, 24)
    np.testing.assert_array_equal(model.region_boxes(n_digits=3), boxes)
    maps = model.attention_maps(w, 3)
    assert maps.shape == (5, 4, 8, 24)
    np.testing.assert_allclose(maps.sum((-2, -1)), 1.0, rtol=1e-5)
    mass = attention_on_digits(w, 3)
    assert mass.shape == (5, 4, 3)
    np.testing.assert_allclose(mass.sum(-1), 1.0, rtol=1e-5)
    # the region of pixel columns 8..15 belongs to digit 1
    one_hot = torch.zeros(1, 1, 12)
    one_hot[0, 0, 3] = 1.0
    np.testing.assert_array_equal(attention_on_digits(one_hot, 3)[0, 0], [0.0, 1.0, 0.0])


def test_short_training_lowers_the_loss_and_attends_to_the_right_digit():
    seqlearn.seed(0)
    model = DigitCaptioner(channels=16, hidden_size=32, attention_size=16)
    rng = np.random.default_rng(0)
    losses = train_captioner(model, lambda s: digit_strips(32, 3, rng=rng, subset="train"), 150,
                             lr=1e-2, progress=False)
    assert np.mean(losses[-10:]) < 0.6 * np.mean(losses[:5])
    test = digit_strips(200, 3, rng=1, subset="test")
    exact, word = caption_accuracy(model, test)
    assert word > 0.5
    _, weights = model.greedy_decode(test["images"], 3, return_attention=True)
    mass = attention_on_digits(weights, 3)
    assert np.mean([mass[:, k, k].mean() for k in range(3)]) > 0.6


def test_greedy_decode_matches_teacher_forcing_on_its_own_output():
    torch.manual_seed(0)
    model = DigitCaptioner(channels=8, embedding_size=8, hidden_size=16, attention_size=8).double()
    d = digit_strips(16, n_digits=3, rng=2)
    tokens, weights = model.greedy_decode(d["images"], 6, return_attention=True)
    ended = torch.cumsum((tokens == EOS).long(), 1) - (tokens == EOS).long() > 0
    assert ended.any() and (~ended).sum() >= 32
    assert torch.all(tokens[ended] == PAD) and torch.all(weights[ended] == 0)
    fed = torch.cat([torch.full((16, 1), BOS), tokens[:, :-1]], dim=1)
    logits = model(d["images"], fed.masked_fill(fed == PAD, BOS))   # rows that ended: any id
    assert torch.equal(logits.argmax(-1)[~ended], tokens[~ended])
    torch.testing.assert_close(model.last_attention[~ended], weights[~ended])


def test_nan_loss_stops_training():
    model = DigitCaptioner(channels=4, hidden_size=8, attention_size=4)
    with torch.no_grad():
        model.output.bias.fill_(float("nan"))
    with pytest.raises(FloatingPointError, match="step 0"):
        train_captioner(model, digit_strips(4, 2), 3, progress=False)


@pytest.mark.parametrize("call, error, match", [
    (lambda m, d: m(d["images"][0], d["tgt_in"]), ValueError, "images"),
    (lambda m, d: m(d["images"][:, :, :20], d["tgt_in"]), ValueError, "images"),
    (lambda m, d: m(np.zeros((2, 8, 8 * 9)), d["tgt_in"][:2]), ValueError, "max_digits"),
    (lambda m, d: m(d["images"], d["tgt_in"][:1]), ValueError, "tgt_in"),
    (lambda m, d: m(d["images"], d["tgt_in"] + 20), ValueError, "tgt_in"),
    (lambda m, d: m.greedy_decode(d["images"], 0), ValueError, "max_len"),
    (lambda m, d: train_captioner(m, {"src": 1}, 1, progress=False), ValueError, "batch"),
    (lambda m, d: caption_accuracy(m, d["images"]), ValueError, "data"),
    (lambda m, d: m.region_boxes(n_digits=0), ValueError, "n_digits"),
    (lambda m, d: DigitCaptioner(channels=0), ValueError, "channels"),
])
def test_bad_model_inputs(call, error, match):
    model = DigitCaptioner(channels=4, hidden_size=8, attention_size=4)
    with pytest.raises(error, match=match):
        call(model, digit_strips(3, 3))


# -- the baseline without attention and skewed captions (chapter 7b) -------------------------
from seqlearn.torch.captioning import skewed_digit_strips  # noqa: E402


def test_captioner_without_attention_reads_one_fixed_vector():
    torch.manual_seed(0)
    model = DigitCaptioner(channels=4, hidden_size=8, attention=False, max_digits=3).double()
    assert model.attention is None
    data = digit_strips(5, n_digits=2, rng=0)
    logits = model(data["images"], torch.as_tensor(data["tgt_in"]))
    assert logits.shape == (5, 3, len(CAPTION_WORDS)) and model.last_attention is None
    tokens, weights = model.greedy_decode(data["images"], 3, return_attention=True)
    assert weights is None and tokens.shape == (5, 3)
    # greedy decoding is teacher forcing on its own output
    tgt_in = torch.cat([torch.full((5, 1), BOS), tokens[:, :-1].clamp(min=BOS)], 1)
    first = model(data["images"], tgt_in).argmax(-1)[:, 0]
    assert torch.equal(first, tokens[:, 0])
    # the fixed vector keeps where each region is: swapping the two digits changes the caption
    # scores of the first word
    swapped = np.concatenate([data["images"][:, :, 8:], data["images"][:, :, :8]], axis=2)
    other = model(swapped, torch.as_tensor(data["tgt_in"]))
    assert not torch.allclose(logits[:, 0], other[:, 0])
    with pytest.raises(TypeError, match="attention"):
        DigitCaptioner(attention="yes")


def test_skewed_strips_follow_their_digit_frequencies():
    p = np.full(10, 0.5 / 9)
    p[4] = 0.5
    data = skewed_digit_strips(3000, p, n_digits=2, rng=1, subset="test")
    images, labels = load_digit_images()
    assert np.all(labels[data["indices"]] == data["digits"])
    assert np.all(data["indices"] >= TRAIN_IMAGES)
    assert np.all(data["images"][:, :, 8:] == images[data["indices"][:, 1]])
    assert abs((data["digits"] == 4).mean() - 0.5) < 0.03
    assert caption_text(data["tgt_out"][:1])[0].split()[0] == CAPTION_WORDS[FIRST_WORD + data["digits"][0, 0]]
    per_position = np.zeros((2, 10))
    per_position[0, 7] = per_position[1, 2] = 1.0
    fixed = skewed_digit_strips(20, per_position, n_digits=2, rng=0)
    assert np.all(fixed["digits"] == [7, 2])
    for bad in (np.ones(10), np.full(9, 1 / 9), -p):
        with pytest.raises(ValueError, match="probabilities"):
            skewed_digit_strips(4, bad)
