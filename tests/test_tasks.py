"""The synthetic tasks of chapter 6 and the sequence-to-one training loop."""

import numpy as np
import pytest
import torch
from torch import nn

from seqlearn.data.tasks import adding_problem, alphabet_task, decode_letters, delayed_recall
from seqlearn.torch.train import evaluate, last_outputs, train_sequence_classifier


def test_adding_problem_targets_are_the_marked_sums():
    x, y = adding_problem(50, 20, rng=3)
    assert x.shape == (50, 20, 2) and y.shape == (50,)
    assert np.all(x[..., 1].sum(axis=1) == 2)
    first, second = [np.flatnonzero(row) for row in x[:, :, 1]][0]
    assert first < 10 <= second
    np.testing.assert_allclose(y, (x[..., 0] * x[..., 1]).sum(axis=1))
    x2, y2 = adding_problem(50, 20, rng=3)
    np.testing.assert_array_equal(x, x2)
    assert not np.array_equal(adding_problem(50, 20, rng=4)[0], x)


def test_delayed_recall_marks_the_symbol_to_remember():
    x, y = delayed_recall(40, lag=7, n_symbols=3, rng=1)
    assert x.shape == (40, 8, 4) and y.dtype == np.int64
    np.testing.assert_array_equal(x[:, :, :3].sum(-1), 1.0)      # one symbol every step
    np.testing.assert_array_equal(x[:, :, 3], np.eye(8)[0][None].repeat(40, 0))  # marker at t=0
    np.testing.assert_array_equal(x[:, 0, :3].argmax(-1), y)
    assert set(np.unique(y)) == {0, 1, 2}


def test_alphabet_task_runs_of_letters_and_their_successor():
    x, y, lengths = alphabet_task(30, max_length=6, rng=2)
    assert x.shape == (30, lengths.max(), 26)
    assert lengths.min() >= 1 and lengths.max() <= 6
    for k in range(30):
        word = decode_letters(x[k], lengths[k])
        assert len(word) == lengths[k]
        assert all(ord(b) == ord(a) + 1 for a, b in zip(word, word[1:]))
        assert y[k] == ord(word[-1]) - ord("A") + 1
        assert np.all(x[k, lengths[k]:] == 0)   # padding is zeros


@pytest.mark.parametrize("call, match", [
    (lambda: adding_problem(0, 10), "n"),
    (lambda: adding_problem(5, 1), "T"),
    (lambda: delayed_recall(5, 0), "lag"),
    (lambda: delayed_recall(5, 3, n_symbols=1), "n_symbols"),
    (lambda: alphabet_task(5, max_length=26), "max_length"),
])
def test_bad_arguments_are_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_last_outputs_reads_each_sequence_at_its_length():
    out = torch.arange(2 * 4 * 3, dtype=torch.float64).reshape(2, 4, 3)
    picked = last_outputs(out, torch.tensor([2, 4]))
    torch.testing.assert_close(picked, torch.stack([out[0, 1], out[1, 3]]))
    torch.testing.assert_close(last_outputs(out), out[:, -1])
    with pytest.raises(ValueError, match="lengths"):
        last_outputs(out, torch.tensor([0, 4]))


def test_training_solves_a_short_recall_and_stops_early():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)

    def batch(step):
        x, y = delayed_recall(32, 3, 3, rng)
        return torch.tensor(x, dtype=torch.float32), torch.tensor(y)

    model, head = nn.LSTM(4, 12, batch_first=True), nn.Linear(12, 3)
    run = train_sequence_classifier(model, head, batch, steps=600, lr=0.02, target_accuracy=0.95)
    assert run["solved_at"] is not None and run["steps"] == run["solved_at"] < 600
    x, y = delayed_recall(300, 3, 3, rng=5)
    assert evaluate(model, head, torch.tensor(x, dtype=torch.float32), torch.tensor(y)) > 0.9


def test_training_regression_and_bad_input():
    torch.manual_seed(0)
    x, y = adding_problem(64, 6, rng=0)
    data = (torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32))
    model, head = nn.GRU(2, 8, batch_first=True), nn.Linear(8, 1)
    run = train_sequence_classifier(model, head, data, steps=30, lr=0.01)
    assert run["steps"] == 30 and np.isnan(run["accuracies"]).all()
    assert run["losses"][-1] < run["losses"][0]
    with pytest.raises(ValueError, match="y"):
        train_sequence_classifier(model, head, (data[0], data[1][:3]), steps=2)
    with pytest.raises(TypeError, match="head"):
        train_sequence_classifier(model, "linear", data, steps=2)


def test_a_diverging_loss_stops_with_a_message():
    x, y = adding_problem(8, 4, rng=0)
    data = (torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32))
    head = nn.Linear(4, 1)
    with torch.no_grad():
        head.weight.fill_(1e38)          # the outputs overflow float32: the loss is inf
    with pytest.raises(FloatingPointError, match="training stopped at step"):
        train_sequence_classifier(nn.RNN(2, 4, batch_first=True), head, data, steps=3)


def test_data_with_inf_is_refused_before_training():
    x, y = adding_problem(8, 4, rng=0)
    x[0, 0, 0] = np.inf
    data = (torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32))
    with pytest.raises(ValueError, match="x: contains NaN or inf"):
        train_sequence_classifier(nn.RNN(2, 4, batch_first=True), nn.Linear(4, 1), data, steps=3)
