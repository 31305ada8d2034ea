"""Speed of Swin's window attention and of the Swin v2 block, measured side by side.

On the CPU in float32:

* global attention against window attention as the map grows: chapter 8's
  ``MultiHeadAttention`` over all S² tokens of an S × S map (its fused kernel) against
  ``seqlearn.torch.swin.WindowAttention`` over windows of 8 × 8 tokens with the same projections,
  D = 32, 2 heads, forward + backward, S = 16, 32, 48, 64; the printed ratio is global / windows
  (global attention's scores grow as S⁴, the windows' as S²);
* a Swin v2 block (residual post-norm, scaled cosine attention, log-spaced continuous position
  bias), B = 8, a 16 × 16 map, D = 96, 3 heads, windows of 8 shifted by 4, a feed-forward of 384,
  forward + backward: ``seqlearn.torch.swin.SwinBlock`` against Hugging Face's
  ``transformers`` ``Swinv2Layer`` holding the same weights (ReLU feed-forward; budget ≤ 1.5×),
  and the NumPy reference (``swin_block_forward`` + ``_backward``, for information);

with a CUDA device, the block again on the GPU.

``transformers`` is a test dependency pinned in requirements.txt; without it the comparison with
it is skipped with a note. Run ``python benchmarks/bench_swin.py``; ``main()`` returns the rows
for ``benchmarks/run_all.py``.
"""

import importlib.util

import numpy as np
import torch

from seqlearn.numpy.swin import swin_block_backward, swin_block_forward
from seqlearn.torch.attention import MultiHeadAttention
from seqlearn.torch.swin import SwinBlock, WindowAttention, window_partition

# The timing helpers of bench_rnn.py: benchmarks/ is not a package, and both ways of running a
# benchmark (python benchmarks/bench_x.py, benchmarks/run_all.py) put this folder on sys.path.
from bench_rnn import _row, format_table, median_ms


SIDES = (16, 32, 48, 64)
D_COST, HEADS_COST, WINDOW = 32, 2, 8
B, SIDE, D, HEADS, M, SHIFT, D_FF = 8, 16, 96, 3, 8, 4, 384


def attention_growth(repeats=10):
    """(side, global ms, windows ms) of forward + backward for each S × S map."""
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)           # small maps: threads that spin-wait only add noise
    mha = MultiHeadAttention(D_COST, HEADS_COST)
    windowed = WindowAttention(D_COST, HEADS_COST, cosine=False)
    windowed.mha = mha
    out = []
    for S in SIDES:
        x = torch.randn(1, S, S, D_COST, requires_grad=True)

        def global_step():
            t = x.reshape(1, S * S, D_COST)
            mha(t, t, t).sum().backward()

        def window_step():
            windowed(window_partition(x, WINDOW)).sum().backward()

        ms = median_ms({"global": global_step, "windows": window_step}, repeats=repeats, rounds=2)
        out.append((S, ms["global"], ms["windows"]))
    torch.set_num_threads(threads)
    return out


def _hf_layer(block, resolution):
    from transformers import Swinv2Config
    from transformers.models.swinv2.modeling_swinv2 import Swinv2Layer

    a, ff = block.attention, block.feed_forward
    config = Swinv2Config(window_size=block.window_size, hidden_act="relu",
                          mlp_ratio=ff.d_ff / a.d_model, qkv_bias=True,
                          layer_norm_eps=block.norm_1.eps, attention_probs_dropout_prob=0.0,
                          hidden_dropout_prob=0.0, drop_path_rate=0.0)
    layer = Swinv2Layer(config, a.d_model, resolution, a.num_heads, shift_size=block.shift)
    m, own = a.mha, layer.attention.self
    with torch.no_grad():
        m.b_k.zero_()
        own.query.weight.copy_(m.W_q.T)
        own.query.bias.copy_(m.b_q)
        own.key.weight.copy_(m.W_k.T)
        own.value.weight.copy_(m.W_v.T)
        own.value.bias.copy_(m.b_v)
        own.logit_scale.copy_(a.logit_scale.view(-1, 1, 1))
        own.continuous_position_bias_mlp[0].weight.copy_(block.position_bias.W_1.T)
        own.continuous_position_bias_mlp[0].bias.copy_(block.position_bias.b_1)
        own.continuous_position_bias_mlp[2].weight.copy_(block.position_bias.W_2.T)
        layer.attention.output.dense.weight.copy_(m.W_o.T)
        layer.attention.output.dense.bias.copy_(m.b_o)
        layer.layernorm_before.weight.copy_(block.norm_1.gamma)
        layer.layernorm_before.bias.copy_(block.norm_1.beta)
        layer.intermediate.dense.weight.copy_(ff.W_1.T)
        layer.intermediate.dense.bias.copy_(ff.b_1)
        layer.output.dense.weight.copy_(ff.W_2.T)
        layer.output.dense.bias.copy_(ff.b_2)
        layer.layernorm_after.weight.copy_(block.norm_2.gamma)
        layer.layernorm_after.bias.copy_(block.norm_2.beta)
    return layer


def block_rows(device, repeats=20):
    torch.manual_seed(0)
    block = SwinBlock(D, HEADS, D_FF, M, SHIFT).to(device)
    x = torch.randn(B, SIDE, SIDE, D, device=device, requires_grad=True)
    sync = torch.cuda.synchronize if device.type == "cuda" else None
    candidates = {"ours": lambda: block(x).sum().backward()}
    note = None
    if importlib.util.find_spec("transformers") is None:
        note = "transformers is not installed (pip install -r requirements.txt): no baseline"
    else:
        layer = _hf_layer(block, (SIDE, SIDE)).to(device)
        flat = x.reshape(B, SIDE * SIDE, D)
        with torch.no_grad():
            difference = (block(x) - layer(flat, (SIDE, SIDE))[0].view_as(x)).abs().max()
        note = f"largest difference of the outputs, ours vs transformers: {difference:.1e}"
        candidates["transformers"] = lambda: layer(x.reshape(B, SIDE * SIDE, D),
                                                   (SIDE, SIDE))[0].sum().backward()
    if device.type == "cpu":
        params = {k: ({n: v.astype(np.float32) for n, v in part.items()})
                  for k, part in block.to_numpy().items()}
        x_np = x.detach().numpy()

        def numpy_step():
            z, cache = swin_block_forward(x_np, params, HEADS, M, SHIFT)
            swin_block_backward(np.ones_like(z), cache)

        candidates["numpy"] = numpy_step
    ms = median_ms(candidates, repeats=repeats, sync=sync)
    base = ms.get("transformers")
    rows = [_row("SwinBlock (seqlearn.torch)", device.type, "float32", ms["ours"],
                 "Swinv2Layer" if base else None, base, 1.5 if base else None)]
    if base:
        rows.append(_row("Swinv2Layer (transformers)", device.type, "float32", base))
    if "numpy" in ms:
        rows.append(_row("swin_block (NumPy reference)", device.type, "float32", ms["numpy"],
                         "SwinBlock", ms["ours"]))
    return rows, note


def main(repeats=20):
    print(f"Global attention (chapter 8's MultiHeadAttention, fused) against windows of "
          f"{WINDOW} x {WINDOW} (WindowAttention), D = {D_COST}, {HEADS_COST} heads, B = 1, "
          f"forward + backward, CPU float32, 1 thread")
    print(f"{'map':>8s} {'tokens':>7s} {'global ms':>10s} {'windows ms':>11s} {'ratio':>6s}")
    for S, g, w in attention_growth():
        print(f"{S:3d} x {S:<3d} {S * S:7d} {g:10.2f} {w:11.2f} {g / w:6.1f}")
    print(f"\nSwin v2 block, B = {B}, {SIDE} x {SIDE} map, D = {D}, {HEADS} heads, window {M} "
          f"shifted by {SHIFT}, feed-forward {D_FF}, forward + backward")
    rows, note = block_rows(torch.device("cpu"), repeats)
    if torch.cuda.is_available():
        cuda_rows, _ = block_rows(torch.device("cuda"), repeats * 2)
        rows += cuda_rows
    print(format_table(rows))
    if note:
        print(note)
    return rows


if __name__ == "__main__":
    main()
