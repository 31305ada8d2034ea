"""Cheaper attention (chapter 8b), forward + backward, measured side by side, with the memory
autograd keeps for the backward pass.

One sequence, 4 heads of d = 16 (D = 64), float32, causal off, at T = 256, 1024 and 2048:

* ``F.scaled_dot_product_attention`` (the baseline; a fused kernel);
* ``seqlearn.torch.attention.scaled_dot_product_attention``, the explicit (8.1), which keeps the
  T × T weights;
* ``seqlearn.torch.efficient_attention.tiled_attention`` (tiles of 256 keys): the same function
  in O(T) memory, its tiles looped over in Python;
* ``seqlearn.torch.efficient_attention.linear_attention`` (φ = elu + 1): another function, O(T)
  time;

and the NumPy references (``tiled_attention_forward`` + ``_backward`` against
``scaled_dot_product_attention_forward`` + ``_backward``) at T = 1024. There are no budgets:
the tiled attention's loop is written for reading, and linear attention computes something else;
the ratios say what each costs here. With a CUDA device the torch rows are repeated there.

Run ``python benchmarks/bench_efficient_attention.py``; ``main()`` returns the rows for
``benchmarks/run_all.py``.
"""

import numpy as np
import torch
from torch.nn import functional as F

from seqlearn.numpy.attention import (scaled_dot_product_attention_backward,
                                      scaled_dot_product_attention_forward)
from seqlearn.numpy.efficient_attention import tiled_attention_backward, tiled_attention_forward
from seqlearn.timing import saved_tensor_bytes
from seqlearn.torch.attention import scaled_dot_product_attention
from seqlearn.torch.efficient_attention import linear_attention, tiled_attention

# The timing helpers of bench_rnn.py: benchmarks/ is not a package, and both ways of running a
# benchmark (python benchmarks/bench_x.py, benchmarks/run_all.py) put this folder on sys.path.
from bench_rnn import _row, format_table, median_ms


HEADS, HEAD_SIZE, TILE = 4, 16, 256
LENGTHS = (256, 1024, 2048)
METHODS = {
    "F.sdpa (fused)": lambda q, k, v: F.scaled_dot_product_attention(q, k, v),
    "explicit (8.1)": lambda q, k, v: scaled_dot_product_attention(q, k, v)[0],
    "tiled": lambda q, k, v: tiled_attention(q, k, v, tile_size=TILE),
    "linear": lambda q, k, v: linear_attention(q, k, v),
}


def _step(attend, q, k, v):
    def run():
        attend(q, k, v).sum().backward()
    return run


def torch_rows(device, repeats, sync=None):
    rows, memory = [], []
    name = torch.device(device).type
    for T in LENGTHS:
        g = torch.Generator().manual_seed(T)
        q, k, v = (torch.randn(1, HEADS, T, HEAD_SIZE, generator=g).to(device).requires_grad_(True)
                   for _ in range(3))
        t = median_ms({m: _step(f, q, k, v) for m, f in METHODS.items()},
                      repeats if T < 2048 else max(4, repeats // 4), sync=sync)
        base = t["F.sdpa (fused)"]
        for m in METHODS:
            rows.append(_row(f"{m} T={T}", name, "float32", t[m],
                             None if m.startswith("F.") else "F.sdpa", None if m.startswith("F.")
                             else base))
            kept, _ = saved_tensor_bytes(lambda: METHODS[m](q, k, v), exclude=[q, k, v])
            memory.append((T, m, kept))
    return rows, memory


def numpy_rows(repeats, T=1024):
    rng = np.random.default_rng(0)
    q, k, v = (rng.normal(size=(1, HEADS, T, HEAD_SIZE)) for _ in range(3))

    def explicit():
        out, _, cache = scaled_dot_product_attention_forward(q, k, v)
        scaled_dot_product_attention_backward(np.ones_like(out), cache)

    def tiled():
        out, cache = tiled_attention_forward(q, k, v, tile_size=TILE)
        tiled_attention_backward(np.ones_like(out), cache)

    t = median_ms({"explicit": explicit, "tiled": tiled}, max(4, repeats // 2))
    return [_row(f"NumPy sdpa T={T}", "cpu", "float64", t["explicit"]),
            _row(f"NumPy tiled T={T}", "cpu", "float64", t["tiled"], "NumPy sdpa", t["explicit"])]


def main(repeats=12):
    """Measure, print the tables and return the rows (dicts)."""
    print(f"Attention forward + backward, 1 sequence, {HEADS} heads of {HEAD_SIZE}, float32, "
          f"tiles of {TILE}; torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"median of {repeats} runs ({max(4, repeats // 4)} at T=2048)")
    rows, memory = torch_rows("cpu", repeats)
    rows += numpy_rows(repeats)
    if torch.cuda.is_available():
        cuda_rows, _ = torch_rows("cuda", repeats, sync=torch.cuda.synchronize)
        rows += cuda_rows
    print(format_table(rows))
    print("\nkept for the backward pass (MB), inputs not counted:")
    print(f"{'T':>6} " + " ".join(f"{m:>15}" for m in METHODS))
    for T in LENGTHS:
        print(f"{T:6d} " + " ".join(f"{kept / 2**20:15.3f}" for t, m, kept in memory if t == T))
    return rows


if __name__ == "__main__":
    main()
