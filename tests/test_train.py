"""seqlearn.torch.train.fit, the one training loop of the torch models: what each optimiser
does, clipping, the step and time budgets, the callback, the NaN stop, and its argument check.
(train_sequence_classifier on the synthetic tasks: tests/test_tasks.py.)"""

import numpy as np
import pytest
import torch
from torch import nn

from seqlearn.torch import train
from seqlearn.torch.train import batch_source, fit, predict_last, train_sequence_classifier


def _problem(seed=0):
    torch.manual_seed(seed)
    x = torch.randn(32, 3, dtype=torch.float64)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]], dtype=torch.float64) + 0.3
    return nn.Linear(3, 1, dtype=torch.float64), (x, y)


def mse(model, batch):
    x, y = batch
    return torch.mean((model(x) - y) ** 2)


@pytest.mark.parametrize("optimizer, lr", [("adam", 0.1), ("sgd", 0.1), ("lbfgs", 1.0)])
def test_each_optimiser_fits_a_linear_regression(optimizer, lr):
    model, data = _problem()
    record = fit(model, mse, data, 40, optimizer=optimizer, lr=lr)
    assert record["steps"] == len(record["losses"]) == 40
    assert record["losses"][-1] < 1e-2 * record["losses"][0]
    if optimizer == "lbfgs":   # every line-search evaluation is kept, the first of each step too
        assert len(record["evaluations"]) > 40
    else:
        assert record["evaluations"] == record["losses"]


def test_one_sgd_step_is_theta_minus_lr_times_the_clipped_gradient():
    model, data = _problem(1)
    before = [p.detach().clone() for p in model.parameters()]
    loss = mse(model, data)
    loss.backward()
    grads = [p.grad.clone() for p in model.parameters()]
    norm = torch.sqrt(sum((g ** 2).sum() for g in grads))
    assert norm > 0.5
    record = fit(model, mse, data, 1, optimizer="sgd", lr=0.1, clip=0.5)
    for p, p0, g in zip(model.parameters(), before, grads):
        torch.testing.assert_close(p.detach(), p0 - 0.1 * g * 0.5 / norm)
    assert record["losses"] == [loss.item()]     # the loss before the step


def test_adam_steps_match_torch_adam_written_out():
    """fit is a torch optimiser loop and nothing else: the same numbers as the loop by hand."""
    ours, data = _problem(2)
    reference, _ = _problem(2)
    record = fit(ours, mse, lambda step: (data[0][step:], data[1][step:]), 5, lr=0.05, clip=1.0)
    optimiser = torch.optim.Adam(reference.parameters(), lr=0.05)
    losses = []
    for step in range(5):
        loss = mse(reference, (data[0][step:], data[1][step:]))
        losses.append(loss.item())
        optimiser.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(reference.parameters(), 1.0)
        optimiser.step()
    assert record["losses"] == losses
    for a, b in zip(ours.parameters(), reference.parameters()):
        assert torch.equal(a, b)


def test_batches_are_asked_for_once_per_step_in_order():
    model, data = _problem()
    asked = []

    def batches(step):
        asked.append(step)
        return data

    fit(model, mse, batches, 4, optimizer="lbfgs", lr=1.0)
    assert asked == [0, 1, 2, 3]


def test_the_callback_sees_every_step_and_can_stop_training():
    model, data = _problem()
    seen = []

    def callback(record):
        seen.append((record["steps"], len(record["losses"])))
        return record["steps"] == 3

    record = fit(model, mse, data, 10, lr=0.01, callback=callback)
    assert seen == [(0, 0), (1, 1), (2, 2), (3, 3)]
    assert record["steps"] == 3


class FakeClock:
    """time.perf_counter for the train module: one second passes per reading."""

    def __init__(self):
        self.now = 0.0

    def perf_counter(self):
        self.now += 1.0
        return self.now


def test_the_time_budget_counts_training_time_only(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(train, "time", clock)
    model, data = _problem()

    def slow_evaluation(record):
        clock.now += 100.0         # an evaluation between steps: not training time

    record = fit(model, mse, data, seconds=3.5, lr=0.01, callback=slow_evaluation)
    assert record["steps"] == 4 and record["seconds"] == 4.0   # each step reads 1 s
    both = fit(model, mse, data, steps=2, seconds=1e9, lr=0.01)
    assert both["steps"] == 2


def test_training_mode_during_the_loop_and_the_old_mode_after():
    model, data = _problem()
    modes = []

    def loss_fn(net, batch):
        modes.append(net.training)
        return mse(net, batch)

    model.eval()
    fit(model, loss_fn, data, 2)
    assert modes == [True, True] and not model.training
    model.train()
    fit(model, loss_fn, data, 1)
    assert model.training


def test_a_nan_loss_stops_training_naming_the_step_and_the_cause():
    model, data = _problem()

    calls = []

    def loss_fn(net, batch):
        calls.append(1)
        loss = mse(net, batch)
        return loss * float("nan") if len(calls) == 3 else loss

    with pytest.raises(FloatingPointError, match=r"training stopped at step 2: the loss is nan "
                                                 r"\(.*learning rate.*lower lr or clip"):
        fit(model, loss_fn, data, 5)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"model": "linear"}, TypeError, "model"),
    ({"model": nn.ReLU()}, ValueError, "model.*no parameters"),
    ({"loss_fn": 3}, TypeError, "loss_fn"),
    ({"batches": None}, TypeError, "batches"),
    ({"steps": 0}, ValueError, "steps"),
    ({"steps": 2.5}, ValueError, "steps"),
    ({"steps": None}, ValueError, "stop condition"),
    ({"seconds": -1.0}, ValueError, "seconds"),
    ({"lr": 0}, ValueError, "lr"),
    ({"lr": float("nan")}, ValueError, "lr"),
    ({"lr": True}, TypeError, "lr"),
    ({"clip": 0.0}, ValueError, "clip"),
    ({"optimizer": "rmsprop"}, ValueError, "optimizer"),
    ({"optimizer_options": {"momentun": 0.9}, "optimizer": "sgd"}, TypeError, "optimizer_options"),
    ({"optimizer_options": [0.9]}, TypeError, "optimizer_options"),
    ({"callback": "print"}, TypeError, "callback"),
    ({"loss_fn": lambda m, b: m(b[0])}, TypeError, "loss_fn.*scalar"),
])
def test_bad_arguments_are_named(kwargs, error, match):
    model, data = _problem()
    args = {"model": model, "loss_fn": mse, "batches": data, "steps": 2}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        fit(**args)


def test_batch_source():
    assert batch_source("data", {"a": 1}, dict)(7) == {"a": 1}
    make = lambda step: step  # noqa: E731
    assert batch_source("data", make) is make
    with pytest.raises(TypeError, match="make_batch.*dict"):
        batch_source("make_batch", [1, 2], dict)


class Recorder(nn.Module):
    """A recurrent stand-in whose forward takes ``lengths``; it remembers what it got."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(2, 4, batch_first=True)
        self.seen = []

    def forward(self, x, lengths=None):
        self.seen.append(lengths)
        return self.rnn(x)


def test_the_classifier_hands_lengths_to_a_model_that_takes_them():
    torch.manual_seed(0)
    model, head = Recorder(), nn.Linear(4, 3)
    x, y, lengths = torch.randn(5, 6, 2), torch.randint(0, 3, (5,)), torch.tensor([6, 2, 3, 1, 4])
    run = train_sequence_classifier(model, head, (x, y, lengths), steps=3)
    assert run["steps"] == 3 and len(run["accuracies"]) == 3
    assert all(seen is lengths for seen in model.seen)
    out, _ = model.rnn(x)
    with torch.no_grad():
        torch.testing.assert_close(predict_last(model, head, x, lengths),
                                   head(out[torch.arange(5), lengths - 1]))
    builtin = nn.GRU(2, 4, batch_first=True)          # takes no lengths: called with x alone
    with torch.no_grad():
        torch.testing.assert_close(predict_last(builtin, head, x, lengths),
                                   head(builtin(x)[0][torch.arange(5), lengths - 1]))


def test_the_classifier_stops_when_the_target_accuracy_is_reached():
    torch.manual_seed(0)
    x = torch.randn(64, 3, 1)
    y = (x[:, 0, 0] > 0).long()                         # the sign of the first input
    model, head = nn.GRU(1, 8, batch_first=True), nn.Linear(8, 2)
    run = train_sequence_classifier(model, head, (x, y), steps=500, lr=0.05, target_accuracy=0.9,
                                    window=3)
    assert run["solved_at"] == run["steps"] < 500
    assert np.mean(run["accuracies"][-3:]) >= 0.9
    with pytest.raises(ValueError, match="target_accuracy"):
        train_sequence_classifier(model, head, (x, y), steps=1, target_accuracy=1.5)
    with pytest.raises(ValueError, match="window"):
        train_sequence_classifier(model, head, (x, y), steps=1, window=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_fit_on_the_gpu():
    model, (x, y) = _problem()
    model = model.cuda()
    record = fit(model, mse, (x.cuda(), y.cuda()), 30, lr=0.1)
    assert record["losses"][-1] < 1e-2 * record["losses"][0] and record["seconds"] > 0
