"""Speed of the pixel models of chapter 10, measured side by side.

1. **PixelCNN forward + backward** at B=64 images of 8 × 8 pixels, V=2 levels, M=4 masked layers
   of 3 × 3 with H=32 features (loss = the mean cross-entropy of all pixels): the NumPy reference
   (``pixel_cnn_forward`` + ``pixel_cnn_backward``, float64 and float32) against
   ``seqlearn.torch.pixel.PixelCNN`` under autograd on the CPU (budget for the NumPy reference in
   float32: ≤ 2× torch; the reference loops over the kernel's taps in Python, readability first),
   and on a CUDA device when there is one (torch float32, GPU against CPU, for information).
2. **Training in parallel, generating in sequence**: one training step (forward, backward and an
   Adam update on 64 images) and the generation of one image (64 sequential forward passes,
   ``sample_images``) for the chapter's PixelCNN (H=16, M=4) and Row LSTM (H=16, k=3), float32 on
   the CPU. The ratios printed: Row LSTM / PixelCNN for each task, and for each model the time of
   generating one image over the time of one training step on 64 images.

Measuring: the median of several runs after a warm-up, the implementations taking turns in blocks
(``bench_rnn.median_ms``), one torch thread and one BLAS thread for NumPy (the chapters' setting
for small models). Run
``python benchmarks/bench_pixel.py``; ``main()`` returns the rows for ``benchmarks/run_all.py``.
"""

import sys
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_limits
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_rnn import _row, format_table, median_ms  # noqa: E402

from seqlearn.numpy.pixel import (init_pixel_cnn_params, pixel_cnn_backward,  # noqa: E402
                                  pixel_cnn_forward)
from seqlearn.numpy.softmax import softmax_cross_entropy  # noqa: E402
from seqlearn.torch.pixel import PixelCNN, RowLSTM, sample_images  # noqa: E402

B, n, V, H, K, M = 64, 8, 2, 32, 3, 4
CHAPTER = {"hidden_size": 16, "kernel_size": 3}    # the chapter's PixelCNN (M = 4) and Row LSTM


def numpy_step(x, params):
    def run():
        z, cache = pixel_cnn_forward(x, params)
        _, dz = softmax_cross_entropy(z, x)
        pixel_cnn_backward(dz, cache)
    return run


def torch_step(model, x):
    def run():
        z = model(x)
        F.cross_entropy(z.reshape(-1, model.levels), x.reshape(-1)).backward()
    return run


def train_step(model, x):
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)

    def run():
        optimiser.zero_grad()
        torch_step(model, x)()
        optimiser.step()
    return run


def generate(model):
    def run():
        sample_images(model, 1, size=n, generator=0)
    return run


def measure_pixel_cnn(repeats=20):
    rng = np.random.default_rng(0)
    params64 = init_pixel_cnn_params(V, H, K, M, rng=rng)
    params32 = {k: v.astype(np.float32) for k, v in params64.items()}
    x = rng.integers(0, V, size=(B, n, n))
    model32 = PixelCNN.from_numpy(params64, dtype=torch.float32)
    model64 = PixelCNN.from_numpy(params64, dtype=torch.float64)
    xt = torch.from_numpy(x)
    t = median_ms({"torch32": torch_step(model32, xt), "torch64": torch_step(model64, xt),
                   "np64": numpy_step(x, params64), "np32": numpy_step(x, params32)}, repeats)
    rows = [
        _row("PixelCNN (torch autograd)", "cpu", "float32", t["torch32"]),
        _row("PixelCNN (torch autograd)", "cpu", "float64", t["torch64"]),
        _row("NumPy reference", "cpu", "float64", t["np64"], "torch float64", t["torch64"]),
        _row("NumPy reference", "cpu", "float32", t["np32"], "torch float32", t["torch32"], 2.0),
    ]
    if torch.cuda.is_available():
        model_gpu = PixelCNN.from_numpy(params64, dtype=torch.float32, device="cuda")
        xg = xt.cuda()
        g = median_ms({"gpu": torch_step(model_gpu, xg)}, 50, sync=torch.cuda.synchronize)
        rows.append(_row("PixelCNN (torch autograd)", "cuda", "float32", g["gpu"], "torch cpu",
                         t["torch32"]))
    return rows


def measure_training_and_generation(repeats=10):
    rng = np.random.default_rng(1)
    x = torch.from_numpy(rng.integers(0, V, size=(B, n, n)))
    torch.manual_seed(0)
    cnn = PixelCNN(V, num_layers=M, **CHAPTER)
    row = RowLSTM(V, **CHAPTER)
    t = median_ms({"cnn_train": train_step(cnn, x), "row_train": train_step(row, x),
                   "cnn_generate": generate(cnn), "row_generate": generate(row)}, repeats,
                  rounds=2)
    return [
        _row("PixelCNN, training step", "cpu", "float32", t["cnn_train"]),
        _row("Row LSTM, training step", "cpu", "float32", t["row_train"], "PixelCNN",
             t["cnn_train"]),
        _row("PixelCNN, one image (64 passes)", "cpu", "float32", t["cnn_generate"], "its step",
             t["cnn_train"]),
        _row("Row LSTM, one image (64 passes)", "cpu", "float32", t["row_generate"], "its step",
             t["row_train"]),
        _row("Row LSTM, one image (64 passes)", "cpu", "float32", t["row_generate"], "PixelCNN",
             t["cnn_generate"]),
    ]


def main(repeats=20):
    """Measure, print the tables and return the rows (dicts)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        print(f"PixelCNN forward + backward, B={B}, {n}x{n} images, V={V}, M={M} layers of "
              f"{K}x{K}, H={H}; torch {torch.__version__}, 1 thread; median of {repeats} runs")
        with threadpool_limits(1):          # NumPy's BLAS on one thread too
            rows = measure_pixel_cnn(repeats)
        print(format_table(rows))
        print(f"\nTraining step (64 images) and generation of one image (64 passes): the "
              f"chapter's PixelCNN (H={CHAPTER['hidden_size']}, M={M}) and Row LSTM "
              f"(H={CHAPTER['hidden_size']}, k={CHAPTER['kernel_size']}), float32")
        more = measure_training_and_generation(max(4, repeats // 2))
        print(format_table(more))
    finally:
        torch.set_num_threads(threads)
    return rows + more


if __name__ == "__main__":
    main()
