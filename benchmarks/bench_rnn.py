"""Speed of the Elman RNN implementations, forward + backward, measured side by side.

For B=32, T=100, D=64, H=128 (loss = sum of all states):

* the NumPy reference (``seqlearn.numpy.rnn``: ``rnn_forward`` + ``rnn_backward``, one
  ``rnn_step`` and one ``rnn_step_backward`` per time step) in float32
  against ``nn.RNN`` in float32 (budget: ≤ 2×) and against torch autograd over a Python loop of
  the same cell (budget: faster, ratio < 1); in float64 too, for information;
* ``seqlearn.torch.rnn.ElmanRNN`` against ``nn.RNN`` in float32 (budget: ≤ 1.5×), on the CPU and,
  when there is one, on a CUDA device (no budget there: reported for information).

Each figure is the median of several runs after a warm-up, the implementations taking turns in
blocks of runs (so a change in the machine's load hits them alike); torch keeps its default
thread count.
Run ``python benchmarks/bench_rnn.py``; ``main()`` returns the rows for ``benchmarks/run_all.py``.
"""

import statistics
import time

import numpy as np
import torch
from torch import nn

from seqlearn.numpy.rnn import init_rnn_params, rnn_backward, rnn_forward
from seqlearn.torch.rnn import ElmanRNN

B, T, D, H = 32, 100, 64, 128


def median_ms(candidates, repeats=20, warmup=2, rounds=4, sync=None):
    """Median wall-clock time in milliseconds of each callable in ``candidates`` (a dict).

    The candidates take turns in ``rounds`` blocks of runs, so that a change in the machine's
    load affects all of them alike. Each block starts with ``warmup`` unrecorded runs: after
    another library has had the CPU, torch's worker threads have gone to sleep and the first
    run pays for waking them.
    """
    per_block = max(1, repeats // rounds)
    times = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, fn in candidates.items():
            for _ in range(warmup):
                fn()
            for _ in range(per_block):
                if sync:
                    sync()
                start = time.perf_counter()
                fn()
                if sync:
                    sync()
                times[name].append(time.perf_counter() - start)
    return {name: 1e3 * statistics.median(t) for name, t in times.items()}


def numpy_step(x, params):
    def run():
        h, cache = rnn_forward(x, None, params)
        rnn_backward(np.ones_like(h), cache)
    return run


def autograd_loop_step(x, W_xh, W_hh, b_h):
    """The same cell written the plain way: a Python loop, autograd records every step."""
    def run():
        h = x.new_zeros(x.shape[0], W_hh.shape[0])
        states = []
        for t in range(x.shape[1]):
            h = torch.tanh(x[:, t] @ W_xh + h @ W_hh + b_h)
            states.append(h)
        torch.stack(states, dim=1).sum().backward()
    return run


def module_step(model, x):
    def run():
        out, _ = model(x)
        out.sum().backward()
    return run


def _row(name, device, dtype, ms, baseline_name=None, baseline_ms=None, budget=None):
    ratio = None if baseline_ms is None else ms / baseline_ms
    verdict = "" if budget is None else ("PASS" if ratio <= budget else "OVER")
    return {"name": name, "device": device, "dtype": dtype, "ms": ms,
            "baseline": baseline_name, "ratio": ratio, "budget": budget, "verdict": verdict}


def measure_cpu(repeats=20):
    rng = np.random.default_rng(0)
    params64 = init_rnn_params(D, H, rng=rng)
    x64 = rng.normal(size=(B, T, D))
    params32 = {k: v.astype(np.float32) for k, v in params64.items()}
    x32 = x64.astype(np.float32)

    torch.manual_seed(0)
    builtin = nn.RNN(D, H, batch_first=True)
    ours = ElmanRNN.from_torch_builtin(builtin)
    xt = torch.from_numpy(x32)
    loop_params = [p.detach().clone().requires_grad_(True)
                   for p in (ours.W_xh, ours.W_hh, ours.b_h)]

    t = median_ms({
        "builtin": module_step(builtin, xt),
        "loop": autograd_loop_step(xt, *loop_params),
        "ours": module_step(ours, xt),
        "np64": numpy_step(x64, params64),
        "np32": numpy_step(x32, params32),
    }, repeats)
    t_builtin, t_loop, t_ours, t_np64, t_np32 = (
        t[k] for k in ("builtin", "loop", "ours", "np64", "np32"))

    return [
        _row("nn.RNN (built-in)", "cpu", "float32", t_builtin),
        _row("torch autograd, Python loop", "cpu", "float32", t_loop, "nn.RNN", t_builtin),
        # CONTRIBUTING.md's budget compares in float32; float64 (the reference's default) is shown too.
        _row("NumPy reference", "cpu", "float64", t_np64, "nn.RNN", t_builtin),
        _row("NumPy reference", "cpu", "float64", t_np64, "autograd loop", t_loop),
        _row("NumPy reference", "cpu", "float32", t_np32, "nn.RNN", t_builtin, 2.0),
        _row("NumPy reference", "cpu", "float32", t_np32, "autograd loop", t_loop, 1.0),
        _row("seqlearn.torch ElmanRNN", "cpu", "float32", t_ours, "nn.RNN", t_builtin, 1.5),
    ]


def measure_cuda(repeats=50):
    device = torch.device("cuda")
    torch.manual_seed(0)
    builtin = nn.RNN(D, H, batch_first=True).to(device)
    ours = ElmanRNN.from_torch_builtin(builtin)
    x = torch.randn(B, T, D, device=device)
    loop_params = [p.detach().clone().requires_grad_(True)
                   for p in (ours.W_xh, ours.W_hh, ours.b_h)]
    sync = torch.cuda.synchronize
    t = median_ms({
        "builtin": module_step(builtin, x),
        "loop": autograd_loop_step(x, *loop_params),
        "ours": module_step(ours, x),
    }, repeats, sync=sync)
    t_builtin, t_loop, t_ours = t["builtin"], t["loop"], t["ours"]
    return [
        _row("nn.RNN (cuDNN)", "cuda", "float32", t_builtin),
        _row("torch autograd, Python loop", "cuda", "float32", t_loop, "nn.RNN", t_builtin),
        _row("seqlearn.torch ElmanRNN", "cuda", "float32", t_ours, "nn.RNN", t_builtin),
    ]


def format_table(rows):
    lines = [f"{'implementation':30s} {'device':6s} {'dtype':8s} {'ms':>8s}  "
             f"{'vs':14s} {'ratio':>6s} {'budget':>7s}  verdict"]
    for r in rows:
        ratio = "" if r["ratio"] is None else f"{r['ratio']:.2f}"
        budget = "" if r["budget"] is None else (
            "< 1" if r["budget"] == 1.0 else f"<= {r['budget']:g}")
        lines.append(f"{r['name']:30s} {r['device']:6s} {r['dtype']:8s} {r['ms']:8.2f}  "
                     f"{(r['baseline'] or ''):14s} {ratio:>6s} {budget:>7s}  {r['verdict']}")
    return "\n".join(lines)


def main(repeats=20):
    """Measure, print the table and return the rows (dicts)."""
    print(f"Elman RNN forward + backward, B={B}, T={T}, D={D}, H={H}; "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"median of {repeats} runs")
    rows = measure_cpu(repeats)
    if torch.cuda.is_available():
        rows += measure_cuda()
    print(format_table(rows))
    return rows


if __name__ == "__main__":
    main()
