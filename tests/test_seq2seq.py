"""The RNN encoder–decoder of chapter 7 (with and without attention) and its training loop."""

import numpy as np
import pytest
import torch

import seqlearn
from seqlearn.data.transduction import BOS, EOS, PAD, transduction_task, vocabulary_size
from seqlearn.torch.seq2seq import (Seq2SeqRNN, accuracy_by_length, exact_matches,
                                    sequence_accuracy, train_seq2seq)

KINDS = [None, "additive", "dot"]


pytestmark = pytest.mark.usefixtures("one_thread")
V = vocabulary_size(5)


def make_model(attention, seed=0, **kwargs):
    torch.manual_seed(seed)
    return Seq2SeqRNN(V, V, embedding_size=8, hidden_size=12, attention=attention, **kwargs).double()


def batch(n=6, lengths=(2, 7), rng=0):
    d = transduction_task(n, lengths, n_symbols=5, rng=rng)
    return {k: torch.as_tensor(v) for k, v in d.items()}


@pytest.mark.parametrize("attention", KINDS)
def test_output_shapes(attention):
    model = make_model(attention)
    d = batch()
    logits = model(d["src"], d["tgt_in"])
    assert logits.shape == (*d["tgt_in"].shape, V) and logits.dtype == torch.float64
    tokens, weights = model.greedy_decode(d["src"], 9, return_attention=True)
    assert tokens.shape == (6, 9) and tokens.dtype == torch.long
    if attention is None:
        assert weights is None and model.last_attention is None
    else:
        assert weights.shape == (6, 9, d["src"].shape[1])
    # numpy arrays are accepted too
    torch.testing.assert_close(model(d["src"].numpy(), d["tgt_in"].numpy()), logits)


@pytest.mark.parametrize("attention", KINDS + ["bidirectional"])
def test_extra_padding_does_not_change_the_outputs(attention):
    model = make_model(None, bidirectional=True) if attention == "bidirectional" else make_model(attention)
    d = batch()
    logits = model(d["src"], d["tgt_in"])
    padded = torch.cat([d["src"], torch.full((6, 4), PAD)], dim=1)
    torch.testing.assert_close(model(padded, d["tgt_in"]), logits, atol=1e-12, rtol=1e-10)
    torch.testing.assert_close(model.greedy_decode(padded, 8), model.greedy_decode(d["src"], 8))
    # the padded source positions themselves matter: changing a real token changes the logits
    changed = d["src"].clone()
    changed[:, 0] = torch.where(changed[:, 0] == 3, 4, 3)
    assert not torch.allclose(model(changed, d["tgt_in"]), logits)


@pytest.mark.parametrize("attention", KINDS)
def test_decoder_is_causal(attention):
    model = make_model(attention)
    d = batch(lengths=6)
    logits = model(d["src"], d["tgt_in"])
    t = 3
    altered = d["tgt_in"].clone()
    altered[:, t + 1:] = torch.randint(3, V, altered[:, t + 1:].shape)
    new = model(d["src"], altered)
    torch.testing.assert_close(new[:, :t + 1], logits[:, :t + 1], atol=1e-12, rtol=1e-10)
    assert not torch.allclose(new[:, t + 1:], logits[:, t + 1:])


@pytest.mark.parametrize("attention", KINDS)
def test_greedy_decode_matches_teacher_forcing_on_its_own_output(attention):
    model = make_model(attention, seed=1)
    d = batch(n=8)
    with torch.no_grad():   # make EOS less likely, so that decoding runs for several steps
        model.output.bias[EOS] -= 2.0
    tokens, weights = model.greedy_decode(d["src"], 7, return_attention=True)
    fed = torch.cat([torch.full((8, 1), BOS), tokens[:, :-1]], dim=1)
    fed = fed.masked_fill(fed == PAD, BOS)     # rows that ended: any id, they are not compared
    logits = model(d["src"], fed)
    ended = torch.cumsum((tokens == EOS).long(), 1) - (tokens == EOS).long() > 0
    assert (~ended).sum() > 20
    assert torch.equal(logits.argmax(-1)[~ended], tokens[~ended])
    assert torch.all(tokens[ended] == PAD)
    if attention is not None:
        torch.testing.assert_close(model.last_attention[~ended], weights[~ended])


@pytest.mark.parametrize("attention", ["additive", "dot"])
def test_attention_rows_sum_to_one_and_skip_padding(attention):
    model = make_model(attention)
    d = batch(n=10, lengths=(1, 6))
    model(d["src"], d["tgt_in"])
    weights = model.last_attention
    torch.testing.assert_close(weights.sum(-1), torch.ones(weights.shape[:2], dtype=weights.dtype))
    pad = (d["src"] == PAD)[:, None, :].expand_as(weights)
    assert pad.any() and torch.all(weights[pad] == 0)
    assert torch.all(weights[~pad] > 0)


def test_training_lowers_the_loss_and_learns_a_tiny_copy_task():
    seqlearn.seed(0)
    model = Seq2SeqRNN(V, V, embedding_size=16, hidden_size=32, attention="dot")
    rng = np.random.default_rng(0)
    losses = train_seq2seq(model, lambda s: transduction_task(32, (1, 4), "copy", n_symbols=5, rng=rng),
                           300, lr=5e-3, progress=False)
    assert len(losses) == 300 and all(np.isfinite(losses))
    assert np.mean(losses[-20:]) < 0.3 * np.mean(losses[:5])
    test = transduction_task(300, (1, 4), "copy", n_symbols=5, rng=123)
    exact, token = sequence_accuracy(model, test)
    assert exact > 0.9 and token > 0.95
    lengths, acc = accuracy_by_length(model, test)
    np.testing.assert_array_equal(lengths, [1, 2, 3, 4])
    assert acc.shape == (4,) and acc.min() > 0.8


def test_training_on_a_fixed_batch_dict():
    model = make_model("additive").float()
    d = transduction_task(16, 4, n_symbols=5, rng=1)
    losses = train_seq2seq(model, d, 40, lr=1e-2, progress=False)
    assert losses[-1] < 0.7 * losses[0]


def test_nan_loss_stops_training_with_a_clear_message():
    model = make_model("dot")
    with torch.no_grad():
        model.output.bias.fill_(float("nan"))
    with pytest.raises(FloatingPointError, match="step 0.*lower lr or clip"):
        train_seq2seq(model, transduction_task(4, 3, n_symbols=5), 5, progress=False)


class Oracle(torch.nn.Module):
    """Answers from a table: ``greedy_decode`` returns the given predictions."""

    def __init__(self, predictions):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.predictions = predictions

    def greedy_decode(self, src, max_len):
        return self.predictions[:src.shape[0], :max_len]


def test_sequence_accuracy_counts_up_to_and_including_eos():
    d = transduction_task(4, 3, n_symbols=5, rng=0)      # targets: 3 symbols + EOS
    perfect = torch.as_tensor(d["tgt_out"])
    assert sequence_accuracy(Oracle(perfect), d) == (1.0, 1.0)
    wrong = perfect.clone()
    wrong[0, 1] = 3 if wrong[0, 1] != 3 else 4             # one wrong symbol
    wrong[1, 3] = 3                                         # a missing EOS
    exact, token = sequence_accuracy(Oracle(wrong), d)
    assert exact == 0.5 and token == pytest.approx(14 / 16)
    np.testing.assert_array_equal(exact_matches(Oracle(wrong), d), [False, False, True, True])
    # what comes after EOS does not count
    after = torch.cat([perfect, torch.full((4, 2), 5)], 1)
    assert sequence_accuracy(Oracle(after), d, max_len=6) == (1.0, 1.0)


@pytest.mark.parametrize("call, error, match", [
    (lambda m, d: m(d["src"].float(), d["tgt_in"]), TypeError, "src"),
    (lambda m, d: m(d["src"][0], d["tgt_in"]), ValueError, "src"),
    (lambda m, d: m(torch.full((2, 3), PAD), d["tgt_in"][:2]), ValueError, "src.*all PAD"),
    (lambda m, d: m(torch.tensor([[3, PAD, 4]]), d["tgt_in"][:1]), ValueError, "src.*PAD"),
    (lambda m, d: m(d["src"] + 50, d["tgt_in"]), ValueError, "src.*ids"),
    (lambda m, d: m(d["src"], d["tgt_in"][:2]), ValueError, "tgt_in"),
    (lambda m, d: m(d["src"], d["tgt_in"] - 5), ValueError, "tgt_in"),
    (lambda m, d: m.greedy_decode(d["src"], 0), ValueError, "max_len"),
    (lambda m, d: Seq2SeqRNN(V, V, attention="luong"), ValueError, "attention"),
    (lambda m, d: Seq2SeqRNN(3, V), ValueError, "src_vocab_size"),
    (lambda m, d: Seq2SeqRNN(V, V, hidden_size=0), ValueError, "hidden_size"),
    (lambda m, d: train_seq2seq(m, d, 0), ValueError, "steps"),
    (lambda m, d: train_seq2seq(m, d, 1, lr=-1), ValueError, "lr"),
    (lambda m, d: train_seq2seq(m, d, 1, clip=0), ValueError, "clip"),
    (lambda m, d: train_seq2seq(m, [1, 2], 1), TypeError, "make_batch"),
    (lambda m, d: train_seq2seq(m, {"src": d["src"]}, 1, progress=False), ValueError, "batch"),
    (lambda m, d: train_seq2seq(m, {**d, "tgt_out": d["tgt_out"] + 50}, 1, progress=False),
     ValueError, "tgt_out.*ids"),
    (lambda m, d: sequence_accuracy(m, {**d, "tgt_out": d["tgt_out"][:2]}), ValueError, "batch"),
])
def test_bad_inputs_are_named(call, error, match):
    model = make_model("dot")
    with pytest.raises(error, match=match):
        call(model, batch())


def test_works_with_the_transformer_when_present():
    transformer = pytest.importorskip("seqlearn.torch.transformer")
    torch.manual_seed(0)
    model = transformer.Transformer(V, V, d_model=16, num_heads=2, d_ff=32, num_layers=1)
    d = transduction_task(8, (2, 5), n_symbols=5, rng=0)
    losses = train_seq2seq(model, d, 30, lr=1e-2, progress=False)
    assert losses[-1] < losses[0]
    exact, token = sequence_accuracy(model, d)
    assert 0.0 <= exact <= token <= 1.0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("attention", KINDS)
def test_runs_on_cuda_like_on_cpu(attention):
    model = make_model(attention)
    d = batch()
    logits = model(d["src"], d["tgt_in"])
    gpu = model.to("cuda")
    torch.testing.assert_close(gpu(d["src"].cuda(), d["tgt_in"].cuda()).cpu(), logits)
    assert gpu.greedy_decode(d["src"], 5).device.type == "cuda"


# -- beam search, exposure bias and the diagram of chapter 7b ---------------------------------
from seqlearn.torch.seq2seq import errors_by_position  # noqa: E402


@pytest.mark.parametrize("attention", KINDS)
def test_beam_decode_of_width_one_is_greedy_and_wider_beams_score_higher(attention):
    model = make_model(attention, seed=3)
    src = batch(8)["src"]
    greedy = model.greedy_decode(src, 9)
    tokens, score1 = model.beam_decode(src, 9, 1, return_scores=True)
    assert torch.equal(tokens, greedy)
    # the score is the log-probability of the tokens under teacher forcing
    tgt_in = torch.cat([torch.full((8, 1), BOS), tokens[:, :-1]], dim=1)
    logp = torch.log_softmax(model(src, tgt_in), -1).gather(2, tokens[..., None])[..., 0]
    real = torch.cat([torch.ones(8, 1, dtype=torch.bool), (tokens != EOS).cumprod(1)[:, :-1].bool()], 1)
    assert torch.allclose((logp * real).sum(1), score1, atol=1e-8)
    wide, score4 = model.beam_decode(src, 9, 4, return_scores=True)
    assert wide.shape == (8, 9) and torch.all(score4 >= score1 - 1e-9)


def test_errors_by_position_counts_teacher_forced_and_free_running_errors():
    model = make_model(None, seed=1)
    data = {k: v.numpy() for k, v in batch(10, rng=4).items()}
    positions, forced, free, counts = errors_by_position(model, data)
    T = data["tgt_out"].shape[1]
    assert positions.tolist() == list(range(1, T + 1))
    assert counts.tolist() == (data["tgt_out"] != PAD).sum(0).tolist()
    with torch.no_grad():
        want_forced = model(torch.as_tensor(data["src"]), torch.as_tensor(data["tgt_in"])).argmax(-1)
    real = data["tgt_out"] != PAD
    expected = ((want_forced.numpy() != data["tgt_out"]) & real).sum(0) / real.sum(0)
    assert np.allclose(forced, expected)
    # at position 1 both decoders read BOS only
    assert forced[0] == pytest.approx(free[0])
    pred = model.greedy_decode(torch.as_tensor(data["src"]), T).numpy()
    assert np.allclose(free, ((pred != data["tgt_out"]) & real).sum(0) / real.sum(0))


def test_encoder_decoder_diagram_draws_both_versions():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from seqlearn.plotting import encoder_decoder_diagram

    fig, (a, b) = plt.subplots(2, 1)
    encoder_decoder_diagram(a)
    encoder_decoder_diagram(b, attention=True, step=3, weights=[0.1, 0.7, 0.1, 0.1])
    texts = [t.get_text() for t in a.texts]
    assert "$s_0 = h_S$" in texts and "$c_{3}$" in [t.get_text() for t in b.texts]
    with pytest.raises(ValueError, match="step"):
        encoder_decoder_diagram(a, attention=True, step=9)
    with pytest.raises(ValueError, match="weights"):
        encoder_decoder_diagram(a, attention=True, weights=[1.0])
    plt.close(fig)
