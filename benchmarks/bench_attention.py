"""Speed of attention, forward + backward, measured side by side.

On the CPU in float32:

* scaled dot-product attention at B=8, heads=8, T=256, d=64 (loss = sum of the outputs):
  ``torch.nn.functional.scaled_dot_product_attention`` under autograd is the baseline; the NumPy
  reference (``scaled_dot_product_attention_forward`` + ``_backward``, budget ≤ 2×) and
  ``seqlearn.torch.attention.scaled_dot_product_attention`` (the explicit matmul → mask → softmax
  → matmul, differentiated by autograd; budget ≤ 1.5×) are compared with it;
* multi-head self-attention, d_model=512, 8 heads, T=256, B=8, with a causal mask:
  ``seqlearn.torch.attention.MultiHeadAttention`` (its default fused core, and the explicit core
  for information) against ``nn.MultiheadAttention`` (budget ≤ 1.5×);
* a post-LN encoder block, d_model=256, 8 heads, d_ff=1024, T=256, B=8, with a padding mask:
  ``seqlearn.torch.transformer.EncoderBlock`` against ``nn.TransformerEncoderLayer`` holding the
  same weights (budget ≤ 1.5×).

With a CUDA device, the same at T=256 in float32 and the attention core at T=4096 in bfloat16
(budget for ours ≤ 1.2× ``scaled_dot_product_attention``; the explicit core forms the (T, T)
weights, which a fused kernel never does, so at long T it is reported against the same budget to
show what that costs).

Run ``python benchmarks/bench_attention.py``; ``main()`` returns the rows for
``benchmarks/run_all.py``.
"""

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from seqlearn.numpy.attention import (scaled_dot_product_attention_backward,
                                      scaled_dot_product_attention_forward)
from seqlearn.torch.attention import MultiHeadAttention, causal_mask, scaled_dot_product_attention
from seqlearn.torch.common import padding_mask
from seqlearn.torch.transformer import EncoderBlock

# The timing helpers of bench_rnn.py: benchmarks/ is not a package, and both ways of running a
# benchmark (python benchmarks/bench_x.py, benchmarks/run_all.py) put this folder on sys.path.
from bench_rnn import _row, format_table, median_ms


B, HEADS, T, HEAD_SIZE = 8, 8, 256, 64
D_MODEL = 512
T_LONG = 4096
BLOCK_D_MODEL, BLOCK_D_FF = 256, 1024


def sdpa_builtin_step(q, k, v, causal=False):
    def run():
        F.scaled_dot_product_attention(q, k, v, is_causal=causal).sum().backward()
    return run


def sdpa_ours_step(q, k, v, mask=None):
    def run():
        scaled_dot_product_attention(q, k, v, mask)[0].sum().backward()
    return run


def sdpa_numpy_step(Q, K, V):
    def run():
        out, _, cache = scaled_dot_product_attention_forward(Q, K, V)
        scaled_dot_product_attention_backward(np.ones_like(out), cache)
    return run


def mha_step(module, x, mask, builtin):
    if builtin:
        blocked = ~mask

        def run():
            module(x, x, x, attn_mask=blocked, need_weights=False)[0].sum().backward()
    else:
        def run():
            module(x, x, x, mask).sum().backward()
    return run


def block_step(module, x, keep, builtin):
    # ``keep`` (B, T) is True at the real tokens; the built-in takes the padding (True = blocked).
    if builtin:
        padding = ~keep

        def run():
            module(x, src_key_padding_mask=padding).sum().backward()
    else:
        mask = keep[:, None, None, :]

        def run():
            module(x, mask).sum().backward()
    return run


def block_rows(device, repeats, budget=None, sync=None):
    """Our EncoderBlock against nn.TransformerEncoderLayer with the same weights, padded."""
    torch.manual_seed(0)
    ours = EncoderBlock(BLOCK_D_MODEL, HEADS, BLOCK_D_FF, device=device)
    builtin = ours.to_torch_builtin().train()
    x = torch.randn(B, T, BLOCK_D_MODEL, device=device)
    keep = padding_mask(torch.linspace(T // 2, T, B).long().to(device), T)
    t = median_ms({"builtin": block_step(builtin, x, keep, True),
                   "ours": block_step(ours, x, keep, False)}, repeats, sync=sync)
    name = torch.device(device).type
    return [_row("nn.TransformerEncoderLayer", name, "float32", t["builtin"]),
            _row("seqlearn.torch EncoderBlock", name, "float32", t["ours"], "nn.TEL",
                 t["builtin"], budget)]


def _qkv(shape, dtype, device, seed=0):
    g = torch.Generator(device="cpu").manual_seed(seed)
    return [torch.randn(shape, generator=g).to(device=device, dtype=dtype).requires_grad_(True)
            for _ in range(3)]


def _mha_pair(device):
    torch.manual_seed(0)
    builtin = nn.MultiheadAttention(D_MODEL, HEADS, batch_first=True, device=device)
    fused = MultiHeadAttention.from_torch_builtin(builtin, fused=True)
    explicit = MultiHeadAttention.from_torch_builtin(builtin, fused=False)
    x = torch.randn(B, T, D_MODEL, device=device)
    return builtin, fused, explicit, x


def measure_cpu(repeats=20):
    shape = (B, HEADS, T, HEAD_SIZE)
    q, k, v = _qkv(shape, torch.float32, "cpu")
    Q32, K32, V32 = (t.detach().numpy().copy() for t in (q, k, v))
    Q64, K64, V64 = (a.astype(np.float64) for a in (Q32, K32, V32))
    t = median_ms({
        "sdpa": sdpa_builtin_step(q, k, v),
        "ours": sdpa_ours_step(q, k, v),
        "np32": sdpa_numpy_step(Q32, K32, V32),
        "np64": sdpa_numpy_step(Q64, K64, V64),
    }, repeats)
    rows = [
        _row("F.scaled_dot_product_attn", "cpu", "float32", t["sdpa"]),
        _row("NumPy reference sdpa", "cpu", "float64", t["np64"], "F.sdpa", t["sdpa"]),
        _row("NumPy reference sdpa", "cpu", "float32", t["np32"], "F.sdpa", t["sdpa"], 2.0),
        _row("seqlearn.torch sdpa", "cpu", "float32", t["ours"], "F.sdpa", t["sdpa"], 1.5),
    ]
    builtin, fused, explicit, x = _mha_pair("cpu")
    mask = causal_mask(T)
    t = median_ms({
        "builtin": mha_step(builtin, x, mask, True),
        "fused": mha_step(fused, x, mask, False),
        "explicit": mha_step(explicit, x, mask, False),
    }, repeats)
    rows += [
        _row("nn.MultiheadAttention", "cpu", "float32", t["builtin"]),
        _row("seqlearn.torch MHA (fused)", "cpu", "float32", t["fused"], "nn.MHA",
             t["builtin"], 1.5),
        _row("seqlearn.torch MHA (explicit)", "cpu", "float32", t["explicit"], "nn.MHA",
             t["builtin"]),
    ]
    rows += block_rows("cpu", repeats, budget=1.5)
    return rows


def measure_cuda(repeats=30):
    device = torch.device("cuda")
    sync = torch.cuda.synchronize
    rows = []
    q, k, v = _qkv((B, HEADS, T, HEAD_SIZE), torch.float32, device)
    t = median_ms({"sdpa": sdpa_builtin_step(q, k, v), "ours": sdpa_ours_step(q, k, v)},
                  repeats, sync=sync)
    rows += [
        _row("F.scaled_dot_product_attn", "cuda", "float32", t["sdpa"]),
        _row("seqlearn.torch sdpa", "cuda", "float32", t["ours"], "F.sdpa", t["sdpa"], 1.2),
    ]
    builtin, fused, explicit, x = _mha_pair(device)
    mask = causal_mask(T, device=device)
    t = median_ms({
        "builtin": mha_step(builtin, x, mask, True),
        "fused": mha_step(fused, x, mask, False),
        "explicit": mha_step(explicit, x, mask, False),
    }, repeats, sync=sync)
    rows += [
        _row("nn.MultiheadAttention", "cuda", "float32", t["builtin"]),
        _row("seqlearn.torch MHA (fused)", "cuda", "float32", t["fused"], "nn.MHA",
             t["builtin"], 1.2),
        _row("seqlearn.torch MHA (explicit)", "cuda", "float32", t["explicit"], "nn.MHA",
             t["builtin"]),
    ]
    rows += block_rows(device, repeats, sync=sync)
    # Long sequences in bfloat16, causal: the fused kernel against the explicit core (whose
    # (B, heads, T, T) weights take 2 GiB here), and our module's fused path.
    q, k, v = _qkv((B, HEADS, T_LONG, HEAD_SIZE), torch.bfloat16, device)
    long_mask = causal_mask(T_LONG, device=device)
    heads_fused = MultiHeadAttention(HEADS * HEAD_SIZE, HEADS, dtype=torch.bfloat16,
                                     device=device)
    x = torch.randn(B, T_LONG, HEADS * HEAD_SIZE, device=device, dtype=torch.bfloat16)
    builtin_long = heads_fused.to_torch_builtin()
    t = median_ms({
        "sdpa": sdpa_builtin_step(q, k, v, causal=True),
        "ours": sdpa_ours_step(q, k, v, long_mask),
        "mha_builtin": mha_step(builtin_long, x, long_mask, True),
        "mha_fused": mha_step(heads_fused, x, long_mask, False),
    }, max(4, repeats // 3), warmup=1, sync=sync)
    rows += [
        _row(f"F.sdpa T={T_LONG}", "cuda", "bfloat16", t["sdpa"]),
        _row(f"seqlearn.torch sdpa T={T_LONG}", "cuda", "bfloat16", t["ours"], "F.sdpa",
             t["sdpa"], 1.2),
        _row(f"nn.MHA T={T_LONG}", "cuda", "bfloat16", t["mha_builtin"]),
        _row(f"ours MHA (fused) T={T_LONG}", "cuda", "bfloat16", t["mha_fused"], "nn.MHA",
             t["mha_builtin"], 1.2),
    ]
    return rows


def main(repeats=20):
    """Measure, print the table and return the rows (dicts)."""
    print(f"Attention forward + backward: sdpa B={B}, heads={HEADS}, T={T}, d={HEAD_SIZE}; "
          f"MHA d_model={D_MODEL}, {HEADS} heads, T={T}, B={B}, causal; encoder block "
          f"d_model={BLOCK_D_MODEL}, d_ff={BLOCK_D_FF}, padded; "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"median of {repeats} runs")
    rows = measure_cpu(repeats)
    if torch.cuda.is_available():
        rows += measure_cuda()
    print(format_table(rows))
    return rows


if __name__ == "__main__":
    main()
