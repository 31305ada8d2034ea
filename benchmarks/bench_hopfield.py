"""Speed of modern Hopfield retrieval, ξ_new = softmax(β ξ Xᵀ) X (equation 9.6), measured side by
side: N = 10⁴ stored patterns of d = 256, S = 256 states (queries) retrieved at once.

On the CPU in float32, with ``torch.nn.functional.scaled_dot_product_attention(xi, X, X,
scale=β)`` (the same function, fused) as the baseline:

* one retrieval (forward only): ``seqlearn.torch.hopfield.modern_hopfield_update`` (the update
  written out: matmul → softmax → matmul; budget ≤ 1.5×), the NumPy reference
  ``modern_hopfield_update_forward`` in float32 (budget ≤ 2×) and in float64 (for information);
* retrieval and its gradient (forward + backward, the loss the sum of the new states): ours under
  autograd (≤ 1.5×) and the NumPy forward + hand-derived backward (≤ 2×);
* the pooling layer of a bag classifier, ``HopfieldPooling`` (fused and explicit core), for
  information.

With a CUDA device, the same on the GPU (budget for ours ≤ 1.2× the built-in).

Run ``python benchmarks/bench_hopfield.py``; ``main()`` returns the rows for
``benchmarks/run_all.py``.
"""

import numpy as np
import torch
from torch.nn import functional as F

from seqlearn.numpy.hopfield import (modern_hopfield_update_backward,
                                     modern_hopfield_update_forward)
from seqlearn.torch.hopfield import HopfieldPooling, modern_hopfield_update

# The timing helpers of bench_rnn.py: benchmarks/ is not a package, and both ways of running a
# benchmark (python benchmarks/bench_x.py, benchmarks/run_all.py) put this folder on sys.path.
from bench_rnn import _row, format_table, median_ms


N, D, S = 10_000, 256, 256
BETA = 1.0 / np.sqrt(D)


def builtin_forward(xi, X):
    def run():
        with torch.no_grad():
            F.scaled_dot_product_attention(xi, X, X, scale=BETA)
    return run


def ours_forward(xi, X):
    def run():
        with torch.no_grad():
            modern_hopfield_update(xi, X, BETA)
    return run


def numpy_forward(xi, X):
    def run():
        modern_hopfield_update_forward(xi, X, BETA)
    return run


def builtin_backward(xi, X):
    def run():
        F.scaled_dot_product_attention(xi, X, X, scale=BETA).sum().backward()
    return run


def ours_backward(xi, X):
    def run():
        modern_hopfield_update(xi, X, BETA)[0].sum().backward()
    return run


def numpy_backward(xi, X):
    def run():
        out, _, cache = modern_hopfield_update_forward(xi, X, BETA)
        modern_hopfield_update_backward(np.ones_like(out), cache)
    return run


def pooling_step(module, Y):
    def run():
        with torch.no_grad():
            module(Y)
    return run


def _tensors(device, requires_grad=False):
    rng = np.random.default_rng(0)
    X = rng.choice([-1.0, 1.0], size=(N, D)).astype(np.float32)
    xi = X[:S] * np.where(rng.random((S, D)) < 0.2, -1.0, 1.0).astype(np.float32)
    xt = torch.tensor(xi, device=device, requires_grad=requires_grad)
    Xt = torch.tensor(X, device=device, requires_grad=requires_grad)
    return xi, X, xt, Xt


def measure_cpu(repeats=10):
    xi, X, xt, Xt = _tensors("cpu")
    t = median_ms({"builtin": builtin_forward(xt, Xt), "ours": ours_forward(xt, Xt),
                   "np32": numpy_forward(xi, X),
                   "np64": numpy_forward(xi.astype(np.float64), X.astype(np.float64))}, repeats)
    rows = [_row("F.sdpa retrieval", "cpu", "float32", t["builtin"]),
            _row("seqlearn.torch update", "cpu", "float32", t["ours"], "F.sdpa", t["builtin"], 1.5),
            _row("NumPy update (forward)", "cpu", "float32", t["np32"], "F.sdpa", t["builtin"],
                 2.0),
            _row("NumPy update (forward)", "cpu", "float64", t["np64"], "F.sdpa", t["builtin"])]
    xi, X, xt, Xt = _tensors("cpu", requires_grad=True)
    t = median_ms({"builtin": builtin_backward(xt, Xt), "ours": ours_backward(xt, Xt),
                   "np32": numpy_backward(xi, X)}, repeats)
    rows += [_row("F.sdpa fwd+bwd", "cpu", "float32", t["builtin"]),
             _row("seqlearn.torch update fwd+bwd", "cpu", "float32", t["ours"], "F.sdpa",
                  t["builtin"], 1.5),
             _row("NumPy update fwd+bwd", "cpu", "float32", t["np32"], "F.sdpa", t["builtin"], 2.0)]
    torch.manual_seed(0)
    Y = torch.randn(64, 100, 16)
    fused, explicit = HopfieldPooling(16, 16, 16), HopfieldPooling(16, 16, 16, fused=False)
    explicit.load_state_dict(fused.state_dict())
    t = median_ms({"fused": pooling_step(fused, Y), "explicit": pooling_step(explicit, Y)}, repeats)
    rows += [_row("HopfieldPooling, fused", "cpu", "float32", t["fused"]),
             _row("HopfieldPooling, explicit", "cpu", "float32", t["explicit"], "fused",
                  t["fused"])]
    return rows


def measure_cuda(repeats=20):
    sync = torch.cuda.synchronize
    _, _, xt, Xt = _tensors("cuda")
    t = median_ms({"builtin": builtin_forward(xt, Xt), "ours": ours_forward(xt, Xt)}, repeats,
                  sync=sync)
    rows = [_row("F.sdpa retrieval", "cuda", "float32", t["builtin"]),
            _row("seqlearn.torch update", "cuda", "float32", t["ours"], "F.sdpa", t["builtin"],
                 1.2)]
    _, _, xt, Xt = _tensors("cuda", requires_grad=True)
    t = median_ms({"builtin": builtin_backward(xt, Xt), "ours": ours_backward(xt, Xt)}, repeats,
                  sync=sync)
    rows += [_row("F.sdpa fwd+bwd", "cuda", "float32", t["builtin"]),
             _row("seqlearn.torch update fwd+bwd", "cuda", "float32", t["ours"], "F.sdpa",
                  t["builtin"], 1.2)]
    return rows


def main(repeats=10):
    """Measure, print the table and return the rows (dicts)."""
    print(f"Modern Hopfield retrieval: N={N} stored patterns of d={D}, S={S} states, "
          f"β = 1/√d; torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"median of {repeats} runs")
    rows = measure_cpu(repeats)
    if torch.cuda.is_available():
        rows += measure_cuda()
    print(format_table(rows))
    return rows


if __name__ == "__main__":
    main()
