"""Speed of the LSTM and GRU implementations, forward + backward, measured side by side.

For B=32, T=100, D=64, H=128 (loss = sum of all states), for each of LSTM and GRU:

* the NumPy reference (``seqlearn.numpy.lstm`` / ``seqlearn.numpy.gru``, forward + hand-written
  backward) in float32 against ``nn.LSTM`` / ``nn.GRU`` in float32 (budget: ≤ 2×) and against
  torch autograd over a Python loop of the same cell (budget: faster, ratio < 1); float64 too,
  for information. For the LSTM the budget applies to ``fast_lstm_forward`` +
  ``fast_lstm_backward``, the variant written for speed; the readable step-by-step functions that
  the book shows (``lstm_forward`` + ``lstm_backward``) are measured for information;
* ``seqlearn.torch.lstm.LSTM`` / ``seqlearn.torch.gru.GRU`` against the built-ins in float32
  (budget: ≤ 1.5×);
* on a CUDA device, when there is one: ``seqlearn.torch`` LSTM against cuDNN's ``nn.LSTM`` at
  B=64, T=100, D=H=512 (budget: ≤ 2×), and the GRU against cuDNN's ``nn.GRU`` for information.

On the CPU, ``nn.LSTM`` in float32 runs oneDNN's fused LSTM kernel (one call for the whole
sequence, forward and backward); ``nn.GRU`` has no such kernel and runs the cell step by step in
C++. The table also shows ``nn.LSTM`` with oneDNN switched off, for information.

Measuring: the median of several runs after a warm-up, the implementations taking turns in
blocks (``bench_rnn.median_ms``). Run ``python benchmarks/bench_lstm_gru.py``; ``main()`` returns
the rows for ``benchmarks/run_all.py``.
"""

import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_rnn import _row, format_table, median_ms, module_step  # noqa: E402

from seqlearn.numpy.gru import gru_backward, gru_forward  # noqa: E402
from seqlearn.numpy.lstm import (fast_lstm_backward, fast_lstm_forward,  # noqa: E402
                                 lstm_backward, lstm_forward)
from seqlearn.torch.gru import GRU  # noqa: E402
from seqlearn.torch.lstm import LSTM  # noqa: E402

B, T, D, H = 32, 100, 64, 128
CUDA_SIZES = (64, 100, 512, 512)   # B, T, D, H for the cuDNN comparison


def numpy_lstm_step(x, params, forward=lstm_forward, backward=lstm_backward):
    def run():
        h, _, cache = forward(x, None, params)
        backward(np.ones_like(h), cache)
    return run


def numpy_gru_step(x, params):
    def run():
        h, cache = gru_forward(x, None, params)
        gru_backward(np.ones_like(h), cache)
    return run


def autograd_loop_lstm(x, W_x, W_h, b):
    """The LSTM cell written the plain way: a Python loop, autograd records every step."""
    def run():
        Bx, Hx = x.shape[0], W_h.shape[0]
        h = c = x.new_zeros(Bx, Hx)
        states = []
        for t in range(x.shape[1]):
            z_i, z_f, z_g, z_o = (x[:, t] @ W_x + h @ W_h + b).chunk(4, 1)
            c = torch.sigmoid(z_f) * c + torch.sigmoid(z_i) * torch.tanh(z_g)
            h = torch.sigmoid(z_o) * torch.tanh(c)
            states.append(h)
        torch.stack(states, 1).sum().backward()
    return run


def autograd_loop_gru(x, W_x, W_h, b_x, b_h):
    """The GRU cell written the plain way: a Python loop, autograd records every step."""
    def run():
        h = x.new_zeros(x.shape[0], W_h.shape[0])
        states = []
        for t in range(x.shape[1]):
            a_r, a_u, a_n = (x[:, t] @ W_x + b_x).chunk(3, 1)
            s_r, s_u, s_n = (h @ W_h + b_h).chunk(3, 1)
            r, u = torch.sigmoid(a_r + s_r), torch.sigmoid(a_u + s_u)
            n = torch.tanh(a_n + r * s_n)
            h = (1 - u) * n + u * h
            states.append(h)
        torch.stack(states, 1).sum().backward()
    return run


def _leaf_copies(model, names):
    return [getattr(model, n).detach().clone().requires_grad_(True) for n in names]


def _no_onednn(fn):
    def run():
        with torch.backends.mkldnn.flags(enabled=False):
            fn()
    return run


def measure_cpu(repeats=20):
    rng = np.random.default_rng(0)
    x64 = rng.normal(size=(B, T, D))
    x32 = x64.astype(np.float32)
    xt = torch.from_numpy(x32)
    torch.manual_seed(0)
    rows = []

    builtin = nn.LSTM(D, H, batch_first=True)
    ours = LSTM.from_torch_builtin(builtin)
    names = ("W_x", "W_h", "b")
    leaves = _leaf_copies(ours, names)
    params32 = {n: p.detach().numpy() for n, p in zip(names, leaves)}
    params64 = {k: v.astype(np.float64) for k, v in params32.items()}
    t = median_ms({
        "builtin": module_step(builtin, xt),
        "builtin_plain": _no_onednn(module_step(builtin, xt)),
        "loop": autograd_loop_lstm(xt, *leaves),
        "ours": module_step(ours, xt),
        "np64": numpy_lstm_step(x64, params64),
        "np32": numpy_lstm_step(x32, params32),
        "fast32": numpy_lstm_step(x32, params32, fast_lstm_forward, fast_lstm_backward),
    }, repeats)
    rows += [
        _row("nn.LSTM (built-in, oneDNN)", "cpu", "float32", t["builtin"]),
        _row("nn.LSTM without oneDNN", "cpu", "float32", t["builtin_plain"], "nn.LSTM",
             t["builtin"]),
        _row("torch autograd, Python loop", "cpu", "float32", t["loop"], "nn.LSTM", t["builtin"]),
        _row("NumPy LSTM, readable", "cpu", "float64", t["np64"], "nn.LSTM", t["builtin"]),
        _row("NumPy LSTM, readable", "cpu", "float32", t["np32"], "nn.LSTM", t["builtin"]),
        _row("NumPy LSTM, readable", "cpu", "float32", t["np32"], "autograd loop", t["loop"]),
        _row("NumPy LSTM, fast", "cpu", "float32", t["fast32"], "nn.LSTM", t["builtin"], 2.0),
        _row("NumPy LSTM, fast", "cpu", "float32", t["fast32"], "autograd loop", t["loop"], 1.0),
        _row("seqlearn.torch LSTM", "cpu", "float32", t["ours"], "nn.LSTM", t["builtin"], 1.5),
        _row("seqlearn.torch LSTM", "cpu", "float32", t["ours"], "no oneDNN", t["builtin_plain"]),
    ]

    builtin = nn.GRU(D, H, batch_first=True)
    ours = GRU.from_torch_builtin(builtin)
    names = ("W_x", "W_h", "b_x", "b_h")
    leaves = _leaf_copies(ours, names)
    params32 = {n: p.detach().numpy() for n, p in zip(names, leaves)}
    params64 = {k: v.astype(np.float64) for k, v in params32.items()}
    t = median_ms({
        "builtin": module_step(builtin, xt),
        "loop": autograd_loop_gru(xt, *leaves),
        "ours": module_step(ours, xt),
        "np64": numpy_gru_step(x64, params64),
        "np32": numpy_gru_step(x32, params32),
    }, repeats)
    rows += [
        _row("nn.GRU (built-in)", "cpu", "float32", t["builtin"]),
        _row("torch autograd, Python loop", "cpu", "float32", t["loop"], "nn.GRU", t["builtin"]),
        _row("NumPy GRU", "cpu", "float64", t["np64"], "nn.GRU", t["builtin"]),
        _row("NumPy GRU", "cpu", "float32", t["np32"], "nn.GRU", t["builtin"], 2.0),
        _row("NumPy GRU", "cpu", "float32", t["np32"], "autograd loop", t["loop"], 1.0),
        _row("seqlearn.torch GRU", "cpu", "float32", t["ours"], "nn.GRU", t["builtin"], 1.5),
    ]
    return rows


def measure_cuda(repeats=30):
    device = torch.device("cuda")
    Bc, Tc, Dc, Hc = CUDA_SIZES
    torch.manual_seed(0)
    x = torch.randn(Bc, Tc, Dc, device=device)
    sync = torch.cuda.synchronize
    rows = []
    builtin = nn.LSTM(Dc, Hc, batch_first=True).to(device)
    ours = LSTM.from_torch_builtin(builtin)
    t = median_ms({"builtin": module_step(builtin, x), "ours": module_step(ours, x)},
                  repeats, sync=sync)
    rows += [
        _row(f"nn.LSTM (cuDNN) B{Bc} H{Hc}", "cuda", "float32", t["builtin"]),
        _row(f"seqlearn.torch LSTM B{Bc} H{Hc}", "cuda", "float32", t["ours"], "nn.LSTM",
             t["builtin"], 2.0),
    ]
    builtin = nn.GRU(Dc, Hc, batch_first=True).to(device)
    ours = GRU.from_torch_builtin(builtin)
    t = median_ms({"builtin": module_step(builtin, x), "ours": module_step(ours, x)},
                  repeats, sync=sync)
    rows += [
        _row(f"nn.GRU (cuDNN) B{Bc} H{Hc}", "cuda", "float32", t["builtin"]),
        _row(f"seqlearn.torch GRU B{Bc} H{Hc}", "cuda", "float32", t["ours"], "nn.GRU",
             t["builtin"]),
    ]
    return rows


def main(repeats=20):
    """Measure, print the table and return the rows (dicts)."""
    print(f"LSTM and GRU forward + backward, B={B}, T={T}, D={D}, H={H} on the CPU; "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"median of {repeats} runs")
    rows = measure_cpu(repeats)
    if torch.cuda.is_available():
        rows += measure_cuda()
    print(format_table(rows))
    return rows


if __name__ == "__main__":
    main()
