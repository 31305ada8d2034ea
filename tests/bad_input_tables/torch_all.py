"""Bad-input table of ``seqlearn.torch``: every public name of every module (``tests/bad_input.py``
explains the vocabulary).

Policies of the torch half that these cases pin down:

* **NaN/inf** are refused at every public boundary (``ValueError`` naming the argument), with one
  ``torch.isfinite(x).all()`` per call (``seqlearn.validate.check_tensor``); the two paths of a
  module (``fused=True/False``) agree because both are behind the same check.
* **dtypes**: float tensors only where floats are expected (integer and bool tensors are refused
  with ``TypeError``); a module's input must have its parameters' dtype and device — float64 into
  a float32 module is refused with the ``.to`` call that fixes it, never converted silently
  (``common.check_like_parameters``; functions: ``common.check_same_dtype``).
* **tensors, not arrays**: the torch half takes tensors where it computes with tensors (a NumPy
  array or a list is a ``TypeError``); token ids and lengths are the exception, converted from
  arrays and lists (``common.check_tokens``, ``common.padding_mask``).
* ``device="cuda"`` on a machine without CUDA: ``ValueError`` saying that no GPU is available and
  to run on the CPU with ``device="cpu"`` (``seqlearn.validate.check_device``).
* learning rates: positive finite numbers, NumPy scalars included (``np.float32(0.01)``);
  negative ones and strings are refused by name.
"""

import numpy as np
import torch
from torch import nn

import seqlearn.numpy as snp
import seqlearn.torch as st
from bad_input import Accepted, Bad, Valid

CUDA = not torch.cuda.is_available()


# -- inputs -----------------------------------------------------------------------------------------
def rand(*shape, dtype=torch.float32, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def spoil(x, value=float("nan")):
    """A copy of the tensor ``x`` with its first entry set to ``value``."""
    y = x.clone()
    y.view(-1)[0] = value
    return y


def wider(x):
    """``x`` with one more entry on its last axis."""
    return torch.cat([x, x[..., :1]], dim=-1)


def replace(args, i, value):
    args = list(args)
    args[i] = value
    return tuple(args)


def tensor_cases(fn, args, i, name, kwargs=dict, rank=None, trailing=True, dtype64=False,
                 empty=True, array=True, nan=True):
    """The bad-input families of a float tensor argument: ``args()`` a correct argument tuple,
    ``i`` the position of the argument called ``name``.

    ``rank``: a function x -> x of a wrong rank (``None``: the family does not apply);
    ``dtype64``: the function needs the dtype of its parameters, so float64 is refused.
    """
    def call(transform):
        def run():
            a = args()
            return fn(*replace(a, i, transform(a[i])), **kwargs())
        return run
    cases = []
    if nan:
        cases += [Bad(f"{name} NaN", call(spoil), ValueError, name),
                  Bad(f"{name} inf", call(lambda x: spoil(x, float("inf"))), ValueError, name)]
    cases.append(Bad(f"{name} int", call(lambda x: x.long()), TypeError, name))
    cases.append(Bad(f"{name} bool", call(lambda x: x > 0), TypeError, name))
    if array:
        cases.append(Bad(f"{name} array", call(lambda x: x.numpy()), TypeError, name))
        cases.append(Bad(f"{name} list", call(lambda x: x.tolist()), TypeError, name))
    if trailing:
        cases.append(Bad(f"{name} wider", call(wider), ValueError, name))
    if rank is not None:
        cases.append(Bad(f"{name} rank", call(rank), ValueError, name))
    if empty:
        cases.append(Bad(f"{name} empty", call(lambda x: x[:0]), ValueError, name))
    if dtype64:
        cases.append(Bad(f"{name} float64", call(lambda x: x.double()), TypeError, name))
    return cases


def size_cases(make, kwargs, names):
    """Zero, negative, float and string sizes for the constructor arguments ``names``."""
    cases = []
    for name in names:
        for label, value, error in (("0", 0, ValueError), ("-1", -1, ValueError),
                                    ("2.5", 2.5, ValueError), ("str", "4", ValueError)):
            cases.append(Bad(f"{name}={label}",
                             lambda name=name, value=value: make(**{**kwargs(), name: value}),
                             (ValueError, TypeError), name))
    return cases


def cuda_case(make, kwargs=dict):
    if not CUDA:
        return []
    return [Bad("device=cuda without CUDA", lambda: make(**kwargs(), device="cuda"),
                ValueError, ("device", "no GPU", 'device="cpu"'))]


def module(cls, kwargs, inputs, xname, sizes=(), rank=lambda x: x[0], trailing=True,
           forward_kwargs=dict, extra=(), device=True, draws_random=True, x_index=0,
           dtype64=True, array=True, empty=True):
    """The cases of a module class: a Valid call that constructs it inside (so the seeded
    initialisation is compared), the constructor's size and device cases, and the families of its
    first float input ``xname``."""
    def run(*args, **kw):
        return cls(**kwargs())(*args, **kw)
    cases = [Valid(run, inputs, forward_kwargs, draws_random=draws_random)]
    cases += size_cases(cls, kwargs, sizes)
    if device:
        cases += cuda_case(cls, kwargs)
    if xname:
        cases += tensor_cases(run, inputs, x_index, xname, forward_kwargs, rank=rank,
                              trailing=trailing, dtype64=dtype64, array=array, empty=empty)
    return cases + list(extra)


def lr_cases(train, lr_ok=True):
    """``train(lr)`` with bad learning rates, and a NumPy scalar accepted."""
    cases = [Bad("lr=-1", lambda: train(-1.0), ValueError, "lr"),
             Bad("lr=0", lambda: train(0), ValueError, "lr"),
             Bad("lr=nan", lambda: train(float("nan")), ValueError, "lr"),
             Bad("lr='0.05'", lambda: train("0.05"), TypeError, "lr")]
    if lr_ok:
        cases.append(Accepted("lr=np.float32", lambda: train(np.float32(0.01)),
                              "a NumPy scalar is a number: learning rates accept them"))
    return cases


TABLE = {}


# -- attention ----------------------------------------------------------------------------------------
def _mha(fused):
    return lambda: {"d_model": 4, "num_heads": 2, "fused": fused}


def _mha_inputs():
    x = rand(2, 3, 4)
    return x, rand(2, 5, 4, seed=1), rand(2, 5, 4, seed=2)


TABLE["torch.attention.MultiHeadAttention"] = (
    module(st.attention.MultiHeadAttention, _mha(True), _mha_inputs, "query",
           sizes=("d_model", "num_heads"))
    + tensor_cases(lambda *a: st.attention.MultiHeadAttention(4, 2, fused=False)(*a),
                   _mha_inputs, 0, "query", rank=lambda x: x[0], dtype64=True)
    + tensor_cases(lambda *a: st.attention.MultiHeadAttention(4, 2)(*a), _mha_inputs, 1, "key",
                   rank=lambda x: x[0], array=False)
    + tensor_cases(lambda *a: st.attention.MultiHeadAttention(4, 2)(*a), _mha_inputs, 2, "value",
                   rank=lambda x: x[0], array=False)
    + [Valid(lambda *a: st.attention.MultiHeadAttention(4, 2, fused=False)(*a, need_weights=True),
             _mha_inputs, draws_random=True, label="valid unfused"),
       Bad("num_heads does not divide d_model",
           lambda: st.attention.MultiHeadAttention(6, 4), ValueError, "num_heads"),
       Bad("batch mismatch", lambda: st.attention.MultiHeadAttention(4, 2)(
           rand(2, 3, 4), rand(3, 5, 4), rand(3, 5, 4)), ValueError, "key"),
       Bad("mask float", lambda: st.attention.MultiHeadAttention(4, 2)(
           *_mha_inputs(), mask=torch.ones(3, 5)), TypeError, "mask"),
       Bad("mask wrong shape", lambda: st.attention.MultiHeadAttention(4, 2)(
           *_mha_inputs(), mask=torch.ones(3, 4, dtype=torch.bool)), ValueError, "mask"),
       Bad("from_numpy missing key", lambda: st.attention.MultiHeadAttention.from_numpy(
           {k: v for k, v in snp.attention.init_multi_head_attention_params(4, 2, rng=0).items()
            if k != "W_o"}, 2), (ValueError, TypeError), "W_o"),
       Bad("from_numpy wrong shape", lambda: st.attention.MultiHeadAttention.from_numpy(
           {**snp.attention.init_multi_head_attention_params(4, 2, rng=0), "b_o": np.zeros(3)}, 2),
           ValueError, "b_o")]
)
for fused in (True, False):
    TABLE["torch.attention.MultiHeadAttention"].append(
        Bad(f"NaN key fused={fused}", lambda fused=fused: st.attention.MultiHeadAttention(
            4, 2, fused=fused)(rand(2, 3, 4), spoil(rand(2, 5, 4)), rand(2, 5, 4)),
            ValueError, "key"))

TABLE["torch.attention.AdditiveAttention"] = module(
    st.attention.AdditiveAttention, lambda: {"query_size": 3, "key_size": 4, "attention_size": 5},
    lambda: (rand(2, 3, 3), rand(2, 5, 4, seed=1), rand(2, 5, 2, seed=2)), "query",
    sizes=("query_size", "key_size", "attention_size"), rank=lambda x: x[0, 0],
    extra=tensor_cases(lambda *a: st.attention.AdditiveAttention(3, 4, 5)(*a),
                       lambda: (rand(2, 3, 3), rand(2, 5, 4, seed=1), rand(2, 5, 2, seed=2)), 1,
                       "keys", rank=lambda x: x[0], array=False)
    + [Bad("values per key", lambda: st.attention.AdditiveAttention(3, 4, 5)(
        rand(2, 3, 3), rand(2, 5, 4), rand(2, 4, 2)), ValueError, "values"),
       Bad("NaN values", lambda: st.attention.AdditiveAttention(3, 4, 5)(
           rand(2, 3, 3), rand(2, 5, 4), spoil(rand(2, 5, 2))), ValueError, "values"),
       Bad("batch mismatch", lambda: st.attention.AdditiveAttention(3, 4, 5)(
           rand(2, 3, 3), rand(3, 5, 4), rand(3, 5, 2)), ValueError, "keys")])

TABLE["torch.attention.AttentionPooling"] = module(
    st.attention.AttentionPooling, lambda: {"input_size": 3, "attention_size": 4},
    lambda: (rand(2, 5, 3),), "X", sizes=("input_size", "attention_size"),
    extra=[Bad("mask all False", lambda: st.attention.AttentionPooling(3, 4)(
        rand(2, 5, 3), torch.zeros(2, 5, dtype=torch.bool)), ValueError, "mask")])

_sdpa = st.attention.scaled_dot_product_attention
_qkv = lambda: (rand(2, 3, 4), rand(2, 5, 4, seed=1), rand(2, 5, 2, seed=2))  # noqa: E731
TABLE["torch.attention.scaled_dot_product_attention"] = (
    [Valid(_sdpa, _qkv), Valid(_sdpa, _qkv, lambda: {"mask": st.attention.causal_mask(5)[:3]},
                               label="valid masked")]
    + tensor_cases(_sdpa, _qkv, 0, "q", rank=lambda x: x[0, 0])
    + tensor_cases(_sdpa, _qkv, 1, "k", rank=lambda x: x[0])
    + tensor_cases(_sdpa, _qkv, 2, "v", rank=lambda x: x[0], trailing=False)
    + [Bad("scale=-1", lambda: _sdpa(*_qkv(), scale=-1.0), ValueError, "scale"),
       Bad("values per key", lambda: _sdpa(rand(2, 3, 4), rand(2, 5, 4), rand(2, 4, 2)),
           ValueError, "v"),
       Bad("k float64", lambda: _sdpa(rand(2, 3, 4), rand(2, 5, 4).double(), rand(2, 5, 2)),
           TypeError, "k"),
       Bad("batch mismatch", lambda: _sdpa(rand(2, 3, 4), rand(3, 5, 4), rand(3, 5, 2)),
           ValueError, "k"),
       Bad("mask int", lambda: _sdpa(*_qkv(), mask=torch.ones(3, 5, dtype=torch.long)),
           TypeError, "mask")]
)

TABLE["torch.attention.causal_mask"] = (
    [Valid(st.attention.causal_mask, lambda: (4,))]
    + [Bad(f"T={v!r}", lambda v=v: st.attention.causal_mask(v), ValueError, "T")
       for v in (0, -1, 2.5, "4")]
    + cuda_case(lambda device: st.attention.causal_mask(3, device=device))
)


# -- recurrent modules ----------------------------------------------------------------------------------
def _recurrent(cls, extra_kwargs=None, H=4, D=3, state=lambda h: h, state_name="h0"):
    kwargs = lambda: {"input_size": D, "hidden_size": H, **(extra_kwargs or {})}  # noqa: E731
    make = lambda: cls(**kwargs())  # noqa: E731
    x = lambda: (rand(2, 5, D),)  # noqa: E731
    return module(cls, kwargs, x, "x", sizes=("input_size", "hidden_size", "num_layers")) + [
        Valid(lambda x, lengths: make()(x, lengths=lengths), lambda: (rand(2, 5, D), [5, 3]),
              draws_random=True, label="valid lengths"),
        Bad("lengths out of range", lambda: make()(rand(2, 5, D), lengths=[6, 3]),
            ValueError, "lengths"),
        Bad("lengths 0", lambda: make()(rand(2, 5, D), lengths=[0, 3]), ValueError, "lengths"),
        Bad("lengths float", lambda: make()(rand(2, 5, D), lengths=[5.0, 3.0]),
            TypeError, "lengths"),
        Bad("lengths batch mismatch", lambda: make()(rand(2, 5, D), lengths=[5, 3, 2]),
            ValueError, "lengths"),
        Bad("T=0", lambda: make()(rand(2, 0, D)), ValueError, "x"),
        Bad("h0 wrong batch", lambda: make()(rand(2, 5, D), state(rand(3, H))), ValueError,
            state_name),
        Bad("h0 NaN", lambda: make()(rand(2, 5, D), state(spoil(rand(2, H)))), ValueError,
            state_name),
        Bad("from_numpy not a dict", lambda: cls.from_numpy("params"), TypeError, "params"),
    ]


TABLE["torch.rnn.ElmanRNN"] = _recurrent(st.rnn.ElmanRNN) + [
    Bad("from_numpy wrong shape", lambda: st.rnn.ElmanRNN.from_numpy(
        {**snp.rnn.init_rnn_params(3, 4, rng=0), "b_h": np.zeros(5)}), ValueError, "b_h"),
    Bad("from_numpy missing key", lambda: st.rnn.ElmanRNN.from_numpy(
        {k: v for k, v in snp.rnn.init_rnn_params(3, 4, rng=0).items() if k != "W_hh"}),
        (ValueError, TypeError), "W_hh")]
TABLE["torch.gru.GRU"] = _recurrent(st.gru.GRU)
TABLE["torch.lstm.LSTM"] = _recurrent(st.lstm.LSTM, state=lambda h: (h, torch.zeros_like(h)),
                                     state_name="state0") + [
    Valid(lambda x: st.lstm.LSTM(3, 4, peepholes=True, num_layers=2)(x), lambda: (rand(2, 5, 3),),
          draws_random=True, label="valid peepholes"),
    Bad("peepholes='yes'", lambda: st.lstm.LSTM(3, 4, peepholes="yes"), TypeError, "peepholes"),
    Bad("block_size=0", lambda: st.lstm.LSTM(3, 4, block_size=0), ValueError, "block_size")]
TABLE["torch.mut.MUT"] = _recurrent(st.mut.MUT, {"kind": "MUT1"}, H=3, D=3) + [
    Bad("kind unknown", lambda: st.mut.MUT("MUT9", 3, 3), ValueError, "kind")]
TABLE["torch.recurrent.RecurrentModule"] = [
    Valid(lambda: st.recurrent.RecurrentModule.__name__, label="valid (abstract base)"),
    Bad("abstract parameter_shapes", lambda: st.recurrent.RecurrentModule(3, 4), NotImplementedError)
    if False else Bad("input_size=0", lambda: st.recurrent.RecurrentModule(0, 4), ValueError,
                      "input_size"),
    Bad("hidden_size=-1", lambda: st.recurrent.RecurrentModule(3, -1), ValueError, "hidden_size"),
]


class _LSTMRec(nn.Module):
    pass


TABLE["torch.lstm.LSTMRecurrence"] = [
    Valid(lambda: st.lstm.LSTMRecurrence, label="valid (autograd function class)"),
]

TABLE["torch.lstm.add_gate_biases"] = [
    Valid(lambda: st.lstm.add_gate_biases(st.lstm.LSTM(3, 4), forget_bias=1.0).b.detach().clone(),
          draws_random=True),
    Bad("model not an LSTM", lambda: st.lstm.add_gate_biases(nn.Linear(2, 2), 1.0),
        TypeError, "model"),
    Bad("forget_bias str", lambda: st.lstm.add_gate_biases(st.lstm.LSTM(3, 4), forget_bias="1"),
        TypeError, "forget_bias"),
    Bad("forget_bias nan", lambda: st.lstm.add_gate_biases(st.lstm.LSTM(3, 4),
                                                            forget_bias=float("nan")),
        (TypeError, ValueError), "forget_bias"),
]
TABLE["torch.lstm.pin_forget_gate"] = [
    Valid(lambda: st.lstm.pin_forget_gate(st.lstm.LSTM(3, 4)).b.detach().clone(),
          draws_random=True),
    Bad("model not an LSTM", lambda: st.lstm.pin_forget_gate(nn.Linear(2, 2)), TypeError, "model"),
]


# -- layer norm, mlp, perceptron ------------------------------------------------------------------------
TABLE["torch.layernorm.LayerNorm"] = module(
    st.layernorm.LayerNorm, lambda: {"d": 4}, lambda: (rand(2, 3, 4),), "x", sizes=("d",),
    rank=None, draws_random=False,
    extra=[Bad("eps=-1", lambda: st.layernorm.LayerNorm(4, eps=-1.0), ValueError, "eps"),
           Bad("0-d x", lambda: st.layernorm.LayerNorm(4)(torch.tensor(1.0)), ValueError, "x"),
           Bad("from_numpy wrong shape", lambda: st.layernorm.LayerNorm.from_numpy(
               {"gamma": np.ones(4), "beta": np.zeros(3)}), ValueError, "beta")])

TABLE["torch.mlp.MLP"] = module(
    st.mlp.MLP, lambda: {"sizes": [3, 5, 2]}, lambda: (rand(4, 3),), "x", rank=None,
    extra=[Bad("sizes too short", lambda: st.mlp.MLP([3]), ValueError, "sizes"),
           Bad("sizes has 0", lambda: st.mlp.MLP([3, 0, 2]), ValueError, "sizes"),
           Bad("activation unknown", lambda: st.mlp.MLP([3, 2], "swish"), ValueError,
               "activation")])


def _fit_mlp(lr=0.1, x=None, t=None, **kw):
    model = st.mlp.MLP([2, 3, 1])
    x = rand(8, 2) if x is None else x
    t = rand(8, 1, seed=1) if t is None else t
    return st.mlp.fit_full_batch(model, x, t, lr=lr, steps=kw.pop("steps", 3), **kw)[1]


TABLE["torch.mlp.fit_full_batch"] = [
    Valid(lambda x, t: st.mlp.fit_full_batch(st.mlp.MLP([2, 3, 1]), x, t, steps=3)[1],
          lambda: (rand(8, 2), rand(8, 1, seed=1)), draws_random=True),
    Bad("x NaN", lambda: _fit_mlp(x=spoil(rand(8, 2))), ValueError, "x"),
    Bad("t NaN", lambda: _fit_mlp(t=spoil(rand(8, 1))), ValueError, "t"),
    Bad("x float64", lambda: _fit_mlp(x=rand(8, 2).double()), TypeError, "x"),
    Bad("t wrong shape", lambda: _fit_mlp(t=rand(8, 2)), ValueError, "t"),
    Bad("t batch mismatch", lambda: _fit_mlp(t=rand(7, 1)), ValueError, "t"),
    Bad("steps=0", lambda: _fit_mlp(steps=0), ValueError, "steps"),
    Bad("loss unknown", lambda: _fit_mlp(loss="mae"), ValueError, "loss"),
    Bad("optimizer unknown", lambda: _fit_mlp(optimizer="rmsprop"), ValueError, "optimizer"),
    Bad("model not a module", lambda: st.mlp.fit_full_batch("mlp", rand(8, 2), rand(8, 1)),
        TypeError, "model"),
] + lr_cases(lambda lr: _fit_mlp(lr=lr))

TABLE["torch.mlp.mlp_loss"] = [
    Valid(st.mlp.mlp_loss, lambda: (rand(4, 3), rand(4, 3, seed=1))),
    Valid(st.mlp.mlp_loss, lambda: (rand(4, 3), torch.tensor([0, 2, 1, 0]), "cross_entropy"),
          label="valid cross-entropy"),
    Bad("z NaN", lambda: st.mlp.mlp_loss(spoil(rand(4, 3)), rand(4, 3)), ValueError, "z"),
    Bad("t inf", lambda: st.mlp.mlp_loss(rand(4, 3), spoil(rand(4, 3), float("inf"))),
        ValueError, "t"),
    Bad("t shape", lambda: st.mlp.mlp_loss(rand(4, 3), rand(4, 2)), ValueError, "t"),
    Bad("z array", lambda: st.mlp.mlp_loss(np.zeros((4, 3)), rand(4, 3)), TypeError, "z"),
    Bad("t array", lambda: st.mlp.mlp_loss(rand(4, 3), np.zeros((4, 3))), TypeError, "t"),
    Bad("class targets float", lambda: st.mlp.mlp_loss(rand(4, 3), torch.tensor(
        [0.5, 2.0, 1.0, 0.0]), "cross_entropy"), TypeError, "t"),
    Bad("class targets out of range", lambda: st.mlp.mlp_loss(rand(4, 3), torch.tensor(
        [0, 3, 1, 0]), "cross_entropy"), ValueError, "t"),
    Bad("loss unknown", lambda: st.mlp.mlp_loss(rand(4, 3), rand(4, 3), "mae"), ValueError,
        "loss"),
]

TABLE["torch.perceptron.Perceptron"] = module(
    st.perceptron.Perceptron, lambda: {"input_size": 3}, lambda: (rand(4, 3),), "x",
    sizes=("input_size",), rank=None, draws_random=False,
    extra=[Bad("train_epoch lr=-1", lambda: st.perceptron.Perceptron(3).train_epoch(
        rand(4, 3), torch.tensor([1.0, -1, 1, -1]), lr=-1), ValueError, "lr")])
TABLE["torch.perceptron.get_activation"] = [
    Valid(lambda: st.perceptron.get_activation("tanh")(torch.zeros(2))),
    Bad("unknown", lambda: st.perceptron.get_activation("swish"), ValueError, "activation"),
    Bad("not a str", lambda: st.perceptron.get_activation(3), ValueError, "activation"),
]
_layer = lambda: (rand(4, 3), rand(3, 2, seed=1), rand(2, seed=2))  # noqa: E731
TABLE["torch.perceptron.layer_activity"] = (
    [Valid(st.perceptron.layer_activity, _layer)]
    + tensor_cases(st.perceptron.layer_activity, _layer, 0, "x", dtype64=True)
    + tensor_cases(st.perceptron.layer_activity, _layer, 1, "W", rank=lambda w: w[0],
                   trailing=False)
    + tensor_cases(st.perceptron.layer_activity, _layer, 2, "b")
    + [Bad("activation unknown", lambda: st.perceptron.layer_activity(*_layer(), "swish"),
           ValueError, "activation")])
_pred = lambda: (rand(4, 3), rand(3, seed=1), 0.5)  # noqa: E731
TABLE["torch.perceptron.perceptron_predict"] = (
    [Valid(st.perceptron.perceptron_predict, _pred)]
    + tensor_cases(st.perceptron.perceptron_predict, _pred, 0, "x", dtype64=True)
    + tensor_cases(st.perceptron.perceptron_predict, _pred, 1, "w", rank=lambda w: w[None],
                   trailing=False)
    + [Bad("b nan", lambda: st.perceptron.perceptron_predict(rand(4, 3), rand(3), float("nan")),
           ValueError, "b"),
       Bad("b str", lambda: st.perceptron.perceptron_predict(rand(4, 3), rand(3), "0"),
           TypeError, "b")])
_epoch = lambda: (rand(4, 3), torch.tensor([1.0, -1, 1, -1]), rand(3, seed=1), 0.0)  # noqa: E731
TABLE["torch.perceptron.perceptron_epoch"] = (
    [Valid(st.perceptron.perceptron_epoch, _epoch)]
    + tensor_cases(st.perceptron.perceptron_epoch, _epoch, 0, "x", rank=lambda x: x[0],
                   dtype64=True)
    + [Bad("t not ±1", lambda: st.perceptron.perceptron_epoch(
        rand(4, 3), torch.tensor([1.0, 0, 1, -1]), rand(3), 0.0), ValueError, "t"),
       Bad("t batch mismatch", lambda: st.perceptron.perceptron_epoch(
           rand(4, 3), torch.tensor([1.0, -1, 1]), rand(3), 0.0), ValueError, "t"),
       Bad("b nan", lambda: st.perceptron.perceptron_epoch(
           rand(4, 3), torch.tensor([1.0, -1, 1, -1]), rand(3), float("nan")), ValueError, "b")]
    + lr_cases(lambda lr: st.perceptron.perceptron_epoch(*_epoch(), lr=lr)))


# -- train --------------------------------------------------------------------------------------------
def _seq_data(y=None):
    x = rand(4, 5, 2)
    return x, (torch.tensor([0, 1, 1, 0]) if y is None else y)


def _tsc(data=None, lr=1e-2, head=None, **kw):
    seqlearn_model = st.rnn.ElmanRNN(2, 3)
    head = nn.Linear(3, 2) if head is None else head
    return st.train.train_sequence_classifier(seqlearn_model, head,
                                              _seq_data() if data is None else data,
                                              kw.pop("steps", 2), lr=lr, **kw)["losses"]


TABLE["torch.train.train_sequence_classifier"] = [
    Valid(lambda data: _tsc(data), lambda: (_seq_data(),), draws_random=True),
    Valid(lambda data: _tsc(data, head=nn.Linear(3, 1)), lambda: (_seq_data(rand(4)),),
          draws_random=True, label="valid regression"),
    Bad("float class targets", lambda: _tsc(_seq_data(torch.tensor([0.0, 1, 1, 0]))),
        ValueError, "y"),
    Bad("x NaN", lambda: _tsc((spoil(rand(4, 5, 2)), torch.tensor([0, 1, 1, 0]))),
        ValueError, "x"),
    Bad("y batch mismatch", lambda: _tsc((rand(4, 5, 2), torch.tensor([0, 1, 1]))),
        ValueError, "y"),
    Bad("targets out of range", lambda: _tsc((rand(4, 5, 2), torch.tensor([0, 1, 2, 0]))),
        ValueError, "y"),
    Bad("data not a batch", lambda: _tsc("data"), (TypeError, ValueError), "data"),
    Bad("steps=0", lambda: _tsc(steps=0), ValueError, "steps"),
    Bad("clip=0", lambda: _tsc(clip=0), ValueError, "clip"),
    Bad("target_accuracy=2", lambda: _tsc(target_accuracy=2), ValueError, "target_accuracy"),
    Bad("head not a module", lambda: _tsc(head="head"), TypeError, "head"),
] + lr_cases(lambda lr: _tsc(lr=lr))


def _fit(lr=1e-2, **kw):
    model = nn.Linear(2, 1)
    x, t = rand(6, 2), rand(6, 1, seed=1)
    return st.train.fit(model, lambda m, b: ((m(b[0]) - b[1]) ** 2).mean(), (x, t),
                        **{"steps": 3, "lr": lr, **kw})["losses"]


TABLE["torch.train.fit"] = [
    Valid(lambda: _fit(), draws_random=True),
    Bad("no stop condition", lambda: _fit(steps=None), ValueError, "steps"),
    Bad("steps=2.5", lambda: _fit(steps=2.5), ValueError, "steps"),
    Bad("seconds=-1", lambda: _fit(seconds=-1.0), ValueError, "seconds"),
    Bad("clip=-1", lambda: _fit(clip=-1.0), ValueError, "clip"),
    Bad("optimizer unknown", lambda: _fit(optimizer="rmsprop"), ValueError, "optimizer"),
    Bad("optimizer_options not a dict", lambda: _fit(optimizer_options=3), TypeError,
        "optimizer_options"),
    Bad("loss_fn not callable", lambda: st.train.fit(nn.Linear(2, 1), 3, (1, 2), steps=1),
        TypeError, "loss_fn"),
    Bad("model not a module", lambda: st.train.fit("m", lambda m, b: 0, (1,), steps=1),
        TypeError, "model"),
    Bad("callback not callable", lambda: _fit(callback=3), TypeError, "callback"),
    Bad("loss not a tensor", lambda: st.train.fit(nn.Linear(2, 1), lambda m, b: 1.0, (1,),
                                                  steps=1), TypeError, "loss_fn"),
] + lr_cases(lambda lr: _fit(lr=lr))

TABLE["torch.train.check_module"] = [
    Valid(st.train.check_module, lambda: ("model", nn.Linear(2, 1)),
          returns_view="return module itself"),
    Bad("not a module", lambda: st.train.check_module("model", "m"), TypeError, "model"),
]
TABLE["torch.train.batch_source"] = [
    Valid(lambda: st.train.batch_source("data", (1, 2))(0)),
    Bad("wrong type", lambda: st.train.batch_source("data", 3, tuple), TypeError, "data"),
    Bad("None", lambda: st.train.batch_source("data", None), TypeError, "data"),
]
TABLE["torch.train.last_outputs"] = (
    [Valid(st.train.last_outputs, lambda: (rand(2, 5, 3),)),
     Valid(st.train.last_outputs, lambda: (rand(2, 5, 3), [5, 2]), label="valid lengths")]
    + tensor_cases(st.train.last_outputs, lambda: (rand(2, 5, 3),), 0, "out",
                   rank=lambda x: x[0], trailing=False)
    + [Bad("float lengths", lambda: st.train.last_outputs(rand(2, 5, 3), [4.5, 2.0]), TypeError,
           "lengths"),
       Bad("lengths out of range", lambda: st.train.last_outputs(rand(2, 5, 3), [6, 2]),
           ValueError, "lengths"),
       Bad("lengths batch mismatch", lambda: st.train.last_outputs(rand(2, 5, 3), [5, 2, 1]),
           ValueError, "lengths")])


def _pl():
    return st.rnn.ElmanRNN(2, 3), nn.Linear(3, 2), rand(4, 5, 2)


TABLE["torch.train.predict_last"] = [
    Valid(lambda x: st.train.predict_last(st.rnn.ElmanRNN(2, 3), nn.Linear(3, 2), x),
          lambda: (rand(4, 5, 2),), draws_random=True),
    Bad("x NaN", lambda: st.train.predict_last(*_pl()[:2], spoil(rand(4, 5, 2))), ValueError,
        "x"),
    Bad("x array", lambda: st.train.predict_last(*_pl()[:2], np.zeros((4, 5, 2))), TypeError,
        "x"),
    Bad("lengths out of range", lambda: st.train.predict_last(*_pl(), lengths=[6, 1, 1, 1]),
        ValueError, "lengths"),
]
TABLE["torch.train.evaluate"] = [
    Valid(lambda x, y: st.train.evaluate(st.rnn.ElmanRNN(2, 3), nn.Linear(3, 2), x, y),
          lambda: (rand(4, 5, 2), torch.tensor([0, 1, 1, 0])), draws_random=True),
    Bad("x NaN", lambda: st.train.evaluate(*_pl()[:2], spoil(rand(4, 5, 2)),
                                           torch.tensor([0, 1, 1, 0])), ValueError, "x"),
    Bad("y batch mismatch", lambda: st.train.evaluate(*_pl(), torch.tensor([0, 1])),
        ValueError, "y"),
    Bad("y array", lambda: st.train.evaluate(*_pl(), np.array([0, 1, 1, 0])), TypeError, "y"),
]


# -- common -------------------------------------------------------------------------------------------
TABLE["torch.common.padding_mask"] = [
    Valid(st.common.padding_mask, lambda: (torch.tensor([3, 1]), 4)),
    Accepted("lengths a list", lambda: st.common.padding_mask([3, 1], 4),
             "lengths (integers) are converted from lists and arrays"),
    Bad("lengths float", lambda: st.common.padding_mask([2.5, 1.0], 4), TypeError, "lengths"),
    Bad("lengths out of range", lambda: st.common.padding_mask([5, 1], 4), ValueError, "lengths"),
    Bad("lengths 0", lambda: st.common.padding_mask([0, 1], 4), ValueError, "lengths"),
    Bad("lengths empty", lambda: st.common.padding_mask([], 4), (TypeError, ValueError),
        "lengths"),
    Bad("lengths 2-D", lambda: st.common.padding_mask([[1, 2]], 4), ValueError, "lengths"),
    Bad("T=0", lambda: st.common.padding_mask([1], 0), ValueError, "T"),
    Bad("batch mismatch", lambda: st.common.padding_mask([1, 2], 4, batch_size=3), ValueError,
        "lengths"),
]
TABLE["torch.common.check_mask"] = [
    Valid(st.common.check_mask, lambda: (torch.ones(3, 4, dtype=torch.bool), (2, 3, 4)),
          returns_view="the same tensor, not a copy, when it is already there"),
    Bad("float mask", lambda: st.common.check_mask(torch.ones(3, 4), (3, 4)), TypeError, "mask"),
    Bad("array mask", lambda: st.common.check_mask(np.ones((3, 4), bool), (3, 4)), TypeError,
        "mask"),
    Bad("no broadcast", lambda: st.common.check_mask(torch.ones(3, 5, dtype=torch.bool), (3, 4)),
        ValueError, "mask"),
    Bad("empty row", lambda: st.common.check_mask(torch.zeros(3, 4, dtype=torch.bool), (3, 4)),
        ValueError, "mask"),
    Bad("named", lambda: st.common.check_mask(torch.ones(3, 4), (3, 4), name="self_mask"),
        TypeError, "self_mask"),
] + cuda_case(lambda device: st.common.check_mask(torch.ones(3, 4, dtype=torch.bool), (3, 4),
                                                  device=device))
TABLE["torch.common.check_like_parameters"] = [
    Valid(st.common.check_like_parameters, lambda: ("x", rand(2), nn.Parameter(rand(3)))),
    Bad("float64", lambda: st.common.check_like_parameters("x", rand(2).double(),
                                                           nn.Parameter(rand(3))), TypeError, "x"),
]
TABLE["torch.common.check_same_dtype"] = [
    Valid(st.common.check_same_dtype, lambda: ("x", rand(2), "W", rand(3))),
    Bad("float64", lambda: st.common.check_same_dtype("x", rand(2).double(), "W", rand(3)),
        TypeError, ("x", "W")),
]
TABLE["torch.common.as_torch_generator"] = [
    Valid(lambda: torch.rand(2, generator=st.common.as_torch_generator(0))),
    Valid(lambda: st.common.as_torch_generator(None), label="valid None"),
    Accepted("np.int64 seed", lambda: torch.rand(2, generator=st.common.as_torch_generator(
        np.int64(3))), "a NumPy integer is a seed"),
    Bad("negative seed", lambda: st.common.as_torch_generator(-1), TypeError, "generator"),
    Bad("str", lambda: st.common.as_torch_generator("0"), TypeError, "generator"),
    Bad("a NumPy Generator", lambda: st.common.as_torch_generator(np.random.default_rng(0),
                                                                  name="gen"), TypeError, "gen"),
]
TABLE["torch.common.check_tokens"] = [
    Valid(st.common.check_tokens, lambda: ("src", torch.tensor([[1, 2], [3, 0]]), 4),
          returns_view="is tokens itself, not a copy, when that is already an int64 tensor"),
    Accepted("array ids", lambda: st.common.check_tokens("src", np.array([[1, 2]]), 4),
             "token ids are converted from arrays and lists"),
    Bad("float ids", lambda: st.common.check_tokens("src", torch.tensor([[1.0, 2.0]])),
        TypeError, "src"),
    Bad("out of vocabulary", lambda: st.common.check_tokens("src", torch.tensor([[1, 4]]), 4),
        ValueError, "src"),
    Bad("negative", lambda: st.common.check_tokens("src", torch.tensor([[-1, 2]]), 4),
        ValueError, "src"),
    Bad("rank", lambda: st.common.check_tokens("src", torch.tensor([1, 2]), 4), ValueError,
        "src"),
    Bad("empty", lambda: st.common.check_tokens("src", torch.zeros(1, 0, dtype=torch.long)),
        ValueError, "src"),
    Bad("str", lambda: st.common.check_tokens("src", "abc"), TypeError, "src"),
] + cuda_case(lambda device: st.common.check_tokens("src", torch.tensor([[1]]), device=device))
TABLE["torch.common.copy_numpy_params"] = [
    Valid(lambda: st.common.copy_numpy_params(st.layernorm.LayerNorm(3),
                                              {"gamma": np.ones(3), "beta": np.zeros(3)},
                                              {"gamma": (3,), "beta": (3,)})),
    Bad("missing key", lambda: st.common.copy_numpy_params(
        st.layernorm.LayerNorm(3), {"gamma": np.ones(3)}, {"gamma": (3,), "beta": (3,)}),
        (ValueError, TypeError), "beta"),
    Bad("wrong shape", lambda: st.common.copy_numpy_params(
        st.layernorm.LayerNorm(3), {"gamma": np.ones(3), "beta": np.zeros(2)},
        {"gamma": (3,), "beta": (3,)}), ValueError, "beta"),
    Bad("NaN", lambda: st.common.copy_numpy_params(
        st.layernorm.LayerNorm(3), {"gamma": np.ones(3), "beta": np.full(3, np.nan)},
        {"gamma": (3,), "beta": (3,)}), ValueError, "beta"),
]


# -- boltzmann ------------------------------------------------------------------------------------------
def _Jb():
    A = 0.1 * rand(3, 3)
    return (A + A.T).fill_diagonal_(0.0), 0.1 * rand(3, seed=1)

_x01 = lambda: torch.tensor([[0.0, 1, 1], [1, 0, 1]])  # noqa: E731
TABLE["torch.boltzmann.all_states"] = (
    [Valid(st.boltzmann.all_states, lambda: (3,))]
    + [Bad(f"n={v!r}", lambda v=v: st.boltzmann.all_states(v), ValueError, "n")
       for v in (0, -1, 2.5, 21)]
    + cuda_case(lambda device: st.boltzmann.all_states(3, device=device)))
TABLE["torch.boltzmann.boltzmann_energy"] = (
    [Valid(st.boltzmann.boltzmann_energy, lambda: (_x01(), *_Jb()))]
    + tensor_cases(st.boltzmann.boltzmann_energy, lambda: (_x01(), *_Jb()), 1, "J",
                   rank=lambda J: J[0])
    + tensor_cases(st.boltzmann.boltzmann_energy, lambda: (_x01(), *_Jb()), 2, "b")
    + [Bad("x NaN", lambda: st.boltzmann.boltzmann_energy(spoil(_x01()), *_Jb()), ValueError,
           "x"),
       Bad("x wider", lambda: st.boltzmann.boltzmann_energy(wider(_x01()), *_Jb()), ValueError,
           "x")])
for _name in ("boltzmann_log_partition", "boltzmann_moments", "boltzmann_probabilities"):
    _fn = getattr(st.boltzmann, _name)
    TABLE[f"torch.boltzmann.{_name}"] = (
        [Valid(_fn, _Jb)]
        + tensor_cases(_fn, _Jb, 0, "J", rank=lambda J: J[0])
        + tensor_cases(_fn, _Jb, 1, "b"))
TABLE["torch.boltzmann.boltzmann_gibbs"] = (
    [Valid(st.boltzmann.boltzmann_gibbs, lambda: (_x01(), *_Jb(), 2), draws_random=True),
     Valid(st.boltzmann.boltzmann_gibbs, lambda: (_x01(), *_Jb(), 2),
           lambda: {"generator": torch.Generator().manual_seed(0)}, label="valid generator")]
    + tensor_cases(st.boltzmann.boltzmann_gibbs, lambda: (_x01(), *_Jb(), 2), 1, "J",
                   rank=lambda J: J[0])
    + [Bad("x0 NaN", lambda: st.boltzmann.boltzmann_gibbs(spoil(_x01()), *_Jb(), 2), ValueError,
           "x0"),
       Bad("n_sweeps=0", lambda: st.boltzmann.boltzmann_gibbs(_x01(), *_Jb(), 0), ValueError,
           "n_sweeps"),
       Bad("generator='0'", lambda: st.boltzmann.boltzmann_gibbs(_x01(), *_Jb(), 2,
                                                                 generator="0"),
           TypeError, "generator"),
       Accepted("generator=0 (a seed)", lambda: st.boltzmann.boltzmann_gibbs(
           _x01(), *_Jb(), 2, generator=0), "an int seed is accepted, as rng=0 is")])
TABLE["torch.boltzmann.RBM"] = module(
    st.boltzmann.RBM, lambda: {"visible_size": 3, "hidden_size": 2}, lambda: (_x01(),), "v",
    sizes=("visible_size", "hidden_size"), rank=None)


# -- char_rnn, language_model -----------------------------------------------------------------------------
_ids = lambda: torch.tensor([[1, 2, 3, 0], [2, 2, 1, 4]])  # noqa: E731
TABLE["torch.char_rnn.CharRNN"] = [
    Valid(lambda x: st.char_rnn.CharRNN(5, 4)(x), lambda: (_ids(),), draws_random=True),
    Bad("ids float", lambda: st.char_rnn.CharRNN(5, 4)(_ids().float()), TypeError, "inputs"),
    Bad("ids out of vocabulary", lambda: st.char_rnn.CharRNN(5, 4)(_ids() + 1), ValueError,
        "inputs"),
    Bad("h0 NaN", lambda: st.char_rnn.CharRNN(5, 4)(_ids(), spoil(rand(2, 4))), ValueError,
        "h0"),
    Bad("h0 batch mismatch", lambda: st.char_rnn.CharRNN(5, 4)(_ids(), rand(3, 4)), ValueError,
        "h0"),
] + size_cases(st.char_rnn.CharRNN, lambda: {"vocab_size": 5, "hidden_size": 4},
               ("vocab_size", "hidden_size")) + cuda_case(st.char_rnn.CharRNN,
                                                          lambda: {"vocab_size": 5,
                                                                   "hidden_size": 4})
TABLE["torch.char_rnn.char_rnn_loss"] = [
    Valid(lambda i, t: st.char_rnn.char_rnn_loss(i, t, st.char_rnn.CharRNN(5, 4))[0],
          lambda: (_ids(), _ids().roll(1, 1)), draws_random=True),
    Bad("targets shape", lambda: st.char_rnn.char_rnn_loss(_ids(), _ids()[:, :3],
                                                           st.char_rnn.CharRNN(5, 4)),
        ValueError, "targets"),
    Bad("targets out of vocabulary", lambda: st.char_rnn.char_rnn_loss(
        _ids(), _ids() + 1, st.char_rnn.CharRNN(5, 4)), ValueError, "targets"),
    Bad("model not a CharRNN", lambda: st.char_rnn.char_rnn_loss(_ids(), _ids(), "m"),
        TypeError, "model"),
]
TABLE["torch.char_rnn.char_rnn_states"] = [
    Valid(lambda i: st.char_rnn.char_rnn_states(i, None, st.char_rnn.CharRNN(5, 4)),
          lambda: (_ids(),), draws_random=True),
    Bad("h0 NaN", lambda: st.char_rnn.char_rnn_states(_ids(), spoil(rand(2, 4)),
                                                      st.char_rnn.CharRNN(5, 4)),
        ValueError, "h0"),
    Bad("inputs float", lambda: st.char_rnn.char_rnn_states(_ids().float(), None,
                                                            st.char_rnn.CharRNN(5, 4)),
        TypeError, "inputs"),
]
TABLE["torch.char_rnn.check_char_indices"] = [
    Valid(st.char_rnn.check_char_indices, lambda: ("inputs", _ids(), 5),
          returns_view="an int64 tensor is returned as it is, not copied"),
    Bad("float", lambda: st.char_rnn.check_char_indices("inputs", _ids().float(), 5), TypeError,
        "inputs"),
    Bad("out of range", lambda: st.char_rnn.check_char_indices("inputs", _ids(), 4), ValueError,
        "inputs"),
    Bad("rank 3", lambda: st.char_rnn.check_char_indices("inputs", _ids()[None], 5), ValueError,
        "inputs"),
]
TABLE["torch.language_model.LSTMLanguageModel"] = [
    Valid(lambda x: st.language_model.LSTMLanguageModel(5, 4, 1)(x)[0], lambda: (_ids(),),
          draws_random=True),
    Bad("ids out of vocabulary", lambda: st.language_model.LSTMLanguageModel(5, 4, 1)(_ids() + 1),
        ValueError, "inputs"),
    Bad("ids float", lambda: st.language_model.LSTMLanguageModel(5, 4, 1)(_ids().float()),
        TypeError, "inputs"),
] + size_cases(st.language_model.LSTMLanguageModel,
               lambda: {"vocab_size": 5, "hidden_size": 4, "num_layers": 1},
               ("vocab_size", "hidden_size", "num_layers")) + cuda_case(
    st.language_model.LSTMLanguageModel, lambda: {"vocab_size": 5, "hidden_size": 4})
TABLE["torch.language_model.check_temperature"] = [
    Valid(st.language_model.check_temperature, lambda: (0.5,)),
    Bad("negative", lambda: st.language_model.check_temperature(-1.0), ValueError, "temperature"),
    Bad("str", lambda: st.language_model.check_temperature("1"), (ValueError, TypeError),
        "temperature"),
]
TABLE["torch.language_model.generate_text"] = [
    Valid(lambda p: st.language_model.generate_text(st.char_rnn.CharRNN(5, 4), p, 3),
          lambda: (torch.tensor([1, 2]),), draws_random=True),
    Bad("prompt out of vocabulary", lambda: st.language_model.generate_text(
        st.char_rnn.CharRNN(5, 4), torch.tensor([7]), 3), ValueError, "prompt"),
    Bad("n=-1", lambda: st.language_model.generate_text(
        st.char_rnn.CharRNN(5, 4), torch.tensor([1]), -1), ValueError, "n"),
    Bad("temperature=-1", lambda: st.language_model.generate_text(
        st.char_rnn.CharRNN(5, 4), torch.tensor([1]), 2, temperature=-1.0), ValueError,
        "temperature"),
    Bad("generator='0'", lambda: st.language_model.generate_text(
        st.char_rnn.CharRNN(5, 4), torch.tensor([1]), 2, generator="0"), TypeError, "generator"),
    Accepted("generator=0 (a seed)", lambda: st.language_model.generate_text(
        st.char_rnn.CharRNN(5, 4), torch.tensor([1]), 2, generator=0),
        "an int seed is accepted, as rng=0 is"),
]
_text = lambda: torch.arange(200) % 5  # noqa: E731
TABLE["torch.language_model.held_out_loss"] = [
    Valid(lambda i: st.language_model.held_out_loss(st.char_rnn.CharRNN(5, 4), i, 8),
          lambda: (_text(),), draws_random=True),
    Bad("seq_len=0", lambda: st.language_model.held_out_loss(st.char_rnn.CharRNN(5, 4),
                                                             _text(), 0), ValueError, "seq_len"),
    Bad("indices float", lambda: st.language_model.held_out_loss(
        st.char_rnn.CharRNN(5, 4), _text().float(), 8), TypeError, "indices"),
]
TABLE["torch.language_model.held_out_starts"] = [
    Valid(st.language_model.held_out_starts, lambda: (200, 8)),
    Bad("max_windows=0", lambda: st.language_model.held_out_starts(200, 8, 0), ValueError,
        "max_windows"),
]
TABLE["torch.language_model.training_split"] = [
    Valid(st.language_model.training_split, lambda: (200, 8)),
    Bad("too short", lambda: st.language_model.training_split(5, 8), ValueError, "seq_len"),
]
TABLE["torch.language_model.language_model_loss"] = [
    Valid(lambda i, t: st.language_model.language_model_loss(i, t, st.char_rnn.CharRNN(5, 4)),
          lambda: (_ids(), _ids().roll(1, 1)), draws_random=True),
    Bad("targets out of vocabulary", lambda: st.language_model.language_model_loss(
        _ids(), _ids() + 1, st.char_rnn.CharRNN(5, 4)), ValueError, "targets"),
    Bad("model without loss", lambda: st.language_model.language_model_loss(
        _ids(), _ids(), nn.Linear(2, 2)), TypeError, "model"),
]


def _tlm(lr=3e-3, **kw):
    return st.language_model.train_language_model(
        st.char_rnn.CharRNN(5, 4), kw.pop("indices", _text()), 8, 4,
        **{"steps": 2, "lr": lr, "progress": False, "eval_every": 1, **kw})


TABLE["torch.language_model.train_language_model"] = [
    Valid(lambda i: st.language_model.train_language_model(
        st.char_rnn.CharRNN(5, 4), i, 8, 4, steps=2, progress=False)["losses"],
          lambda: (_text(),), draws_random=True),
    Bad("steps=0", lambda: _tlm(steps=0), ValueError, "steps"),
    Bad("indices float", lambda: _tlm(indices=_text().float()), TypeError, "indices"),
    Bad("indices out of vocabulary", lambda: _tlm(indices=_text() + 1), ValueError, "indices"),
    Bad("clip=0", lambda: _tlm(clip=0), ValueError, "clip"),
    Bad("generator='0'", lambda: _tlm(generator="0"), TypeError, "generator"),
    Accepted("generator=0 (a seed)", lambda: _tlm(generator=0), "an int seed is accepted, as rng=0 is", finite=False),
] + lr_cases(lambda lr: _tlm(lr=lr)["losses"])


# -- ctrnn ------------------------------------------------------------------------------------------------
_sys = lambda: (rand(2, 3), 0.5 * rand(3, 3, seed=1), rand(3, seed=2))  # noqa: E731
TABLE["torch.ctrnn.ctrnn_derivative"] = (
    [Valid(st.ctrnn.ctrnn_derivative, _sys)]
    + tensor_cases(st.ctrnn.ctrnn_derivative, _sys, 0, "a", dtype64=True)
    + tensor_cases(st.ctrnn.ctrnn_derivative, _sys, 1, "W_hh", rank=lambda W: W[0],
                   trailing=True)
    + [Bad("b_h NaN", lambda: st.ctrnn.ctrnn_derivative(*_sys()[:2], float("nan")), ValueError,
           "b_h"),
       Bad("b_h tensor NaN", lambda: st.ctrnn.ctrnn_derivative(*_sys()[:2], spoil(rand(3))),
           ValueError, "b_h"),
       Bad("b_h str", lambda: st.ctrnn.ctrnn_derivative(*_sys()[:2], "0"), TypeError, "b_h"),
       Bad("tau=0", lambda: st.ctrnn.ctrnn_derivative(*_sys(), tau=0.0), ValueError, "tau"),
       Bad("activation unknown", lambda: st.ctrnn.ctrnn_derivative(*_sys(), activation="relu"),
           ValueError, "activation")])
TABLE["torch.ctrnn.simulate_ctrnn"] = (
    [Valid(st.ctrnn.simulate_ctrnn, _sys, lambda: {"steps": 3})]
    + tensor_cases(lambda *a: st.ctrnn.simulate_ctrnn(*a, steps=3), _sys, 0, "a0", dtype64=True)
    + [Bad("steps=0", lambda: st.ctrnn.simulate_ctrnn(*_sys(), steps=0), ValueError, "steps"),
       Bad("dt=-1", lambda: st.ctrnn.simulate_ctrnn(*_sys(), dt=-1.0), ValueError, "dt"),
       Bad("method", lambda: st.ctrnn.simulate_ctrnn(*_sys(), method="heun"), ValueError,
           "method")])
TABLE["torch.ctrnn.integrate_ode"] = [
    Valid(st.ctrnn.integrate_ode, lambda: (lambda a: -a, rand(3), 0.1, 3),
          returns_view="the first state is a0 itself (states a_0 = a0, ...)"),
    Bad("steps=0", lambda: st.ctrnn.integrate_ode(lambda a: -a, rand(3), 0.1, 0), ValueError,
        "steps"),
    Bad("dt=0", lambda: st.ctrnn.integrate_ode(lambda a: -a, rand(3), 0.0, 2), ValueError, "dt"),
    Bad("method", lambda: st.ctrnn.integrate_ode(lambda a: -a, rand(3), 0.1, 2, "heun"),
        ValueError, "method"),
]
TABLE["torch.ctrnn.CTRNN"] = module(
    st.ctrnn.CTRNN, lambda: {"size": 3}, lambda: (rand(2, 3),), "a0", sizes=("size",), rank=None,
    forward_kwargs=lambda: {"steps": 3},
    extra=[Bad("tau=-1", lambda: st.ctrnn.CTRNN(3, tau=-1.0), ValueError, "tau"),
           Bad("activation", lambda: st.ctrnn.CTRNN(3, activation="relu"), ValueError,
               "activation")])


# -- efficient attention ------------------------------------------------------------------------------------
_ea = st.efficient_attention
TABLE["torch.efficient_attention.elu_feature_map"] = (
    [Valid(_ea.elu_feature_map, lambda: (rand(2, 3),))]
    + tensor_cases(_ea.elu_feature_map, lambda: (rand(2, 3),), 0, "x", trailing=False))
TABLE["torch.efficient_attention.positive_random_features"] = (
    [Valid(_ea.positive_random_features, lambda: (rand(2, 3), rand(5, 3, seed=1)))]
    + tensor_cases(_ea.positive_random_features, lambda: (rand(2, 3), rand(5, 3, seed=1)), 0,
                   "x")
    + tensor_cases(_ea.positive_random_features, lambda: (rand(2, 3), rand(5, 3, seed=1)), 1,
                   "U", rank=lambda U: U[0]))
TABLE["torch.efficient_attention.random_feature_matrix"] = (
    [Valid(_ea.random_feature_matrix, lambda: (5, 3), draws_random=True)]
    + [Bad(f"num_features={v!r}", lambda v=v: _ea.random_feature_matrix(v, 3), ValueError,
           "num_features") for v in (0, -1, 2.5)]
    + [Bad("d=0", lambda: _ea.random_feature_matrix(5, 0), ValueError, "d"),
       Bad("generator='0'", lambda: _ea.random_feature_matrix(5, 3, generator="0"), TypeError, "generator"),
    Accepted("generator=0 (a seed)", lambda: _ea.random_feature_matrix(5, 3, generator=0), "an int seed is accepted, as rng=0 is", finite=False)]
    + cuda_case(lambda device: _ea.random_feature_matrix(5, 3, device=device)))
TABLE["torch.efficient_attention.linear_attention"] = (
    [Valid(_ea.linear_attention, _qkv),
     Valid(_ea.linear_attention, lambda: (rand(2, 5, 4), rand(2, 5, 4, seed=1),
                                          rand(2, 5, 2, seed=2)), lambda: {"causal": True},
           label="valid causal")]
    + tensor_cases(_ea.linear_attention, _qkv, 0, "q", rank=lambda x: x[0, 0])
    + tensor_cases(_ea.linear_attention, _qkv, 1, "k", rank=lambda x: x[0], array=False)
    + tensor_cases(_ea.linear_attention, _qkv, 2, "v", trailing=False, array=False)
    + [Bad("causal Tq != Tk", lambda: _ea.linear_attention(*_qkv(), causal=True), ValueError,
           "causal"),
       Bad("eps=-1", lambda: _ea.linear_attention(*_qkv(), eps=-1.0), ValueError, "eps"),
       Bad("features NaN", lambda: _ea.linear_attention(*_qkv(), features=spoil(rand(5, 4))),
           ValueError, "features")])
_step = lambda: (rand(2, 4), rand(2, 4, seed=1), rand(2, 3, seed=2))  # noqa: E731
TABLE["torch.efficient_attention.linear_attention_step"] = (
    [Valid(_ea.linear_attention_step, _step)]
    + tensor_cases(_ea.linear_attention_step, _step, 0, "q_t")
    + tensor_cases(_ea.linear_attention_step, _step, 1, "k_t", array=False)
    + tensor_cases(_ea.linear_attention_step, _step, 2, "v_t", trailing=False, array=False)
    + [Bad("state NaN", lambda: _ea.linear_attention_step(
        *_step(), state=(spoil(rand(2, 4, 3)), rand(2, 4).abs())), ValueError, "state")])
TABLE["torch.efficient_attention.tiled_attention"] = (
    [Valid(_ea.tiled_attention, _qkv, lambda: {"tile_size": 2})]
    + tensor_cases(_ea.tiled_attention, _qkv, 0, "q", rank=lambda x: x[0, 0])
    + tensor_cases(_ea.tiled_attention, _qkv, 1, "k", rank=lambda x: x[0], array=False)
    + [Bad("tile_size=0", lambda: _ea.tiled_attention(*_qkv(), tile_size=0), ValueError,
           "tile_size"),
       Bad("mask all False", lambda: _ea.tiled_attention(
           *_qkv(), mask=torch.zeros(3, 5, dtype=torch.bool)), ValueError, "mask")])


# -- forecast ---------------------------------------------------------------------------------------------
_win = lambda: (rand(6, 4, 1),)  # noqa: E731
TABLE["torch.forecast.RNNForecaster"] = module(
    st.forecast.RNNForecaster, lambda: {"hidden_size": 3}, _win, "x", sizes=("hidden_size",),
    rank=lambda x: x[0],
    extra=[Bad("cell unknown", lambda: st.forecast.RNNForecaster(3, cell="tcn"), ValueError,
               "cell")])


def _ff(lr=None, x=None, t=None, **kw):
    return st.forecast.fit_forecaster(st.forecast.RNNForecaster(3),
                                      rand(6, 4, 1) if x is None else x,
                                      rand(6, seed=1) if t is None else t,
                                      **{"steps": 2, "lr": lr, **kw})


TABLE["torch.forecast.fit_forecaster"] = [
    Valid(lambda x, t: st.forecast.fit_forecaster(st.forecast.RNNForecaster(3), x, t, steps=2),
          lambda: (rand(6, 4, 1), rand(6, seed=1)), draws_random=True),
    Bad("x NaN", lambda: _ff(x=spoil(rand(6, 4, 1))), ValueError, "x"),
    Bad("t inf", lambda: _ff(t=spoil(rand(6), float("inf"))), ValueError, "t"),
    Bad("t batch mismatch", lambda: _ff(t=rand(5)), ValueError, "t"),
    Bad("x array", lambda: _ff(x=np.zeros((6, 4, 1))), TypeError, "x"),
    Bad("x float64", lambda: _ff(x=rand(6, 4, 1).double(), t=rand(6).double()), TypeError, "x"),
    Bad("steps=0", lambda: _ff(steps=0), ValueError, "steps"),
    Bad("optimizer", lambda: _ff(optimizer="rmsprop"), ValueError, "optimizer"),
] + lr_cases(lambda lr: _ff(lr=lr)) + lr_cases(lambda lr: _ff(lr=lr, optimizer="lbfgs"),
                                               lr_ok=False)
TABLE["torch.forecast.predict"] = [
    Valid(lambda x: st.forecast.predict(st.forecast.RNNForecaster(3), x), _win,
          draws_random=True),
    Bad("x NaN", lambda: st.forecast.predict(st.forecast.RNNForecaster(3), spoil(rand(6, 4, 1))),
        ValueError, "x"),
    Bad("model not a module", lambda: st.forecast.predict("m", rand(6, 4, 1)), TypeError,
        "model"),
]
_series = lambda: np.sin(np.arange(40) / 3.0) + 2.0  # noqa: E731
TABLE["torch.forecast.evaluate_forecaster"] = [
    Valid(st.forecast.evaluate_forecaster, lambda: (_series(), 4, 2),
          lambda: {"valid_start": 30, "test_start": 35, "steps": 2}),
    Bad("series NaN", lambda: st.forecast.evaluate_forecaster(
        np.r_[np.nan, _series()[1:]], 4, 2, valid_start=30, test_start=35, steps=2),
        ValueError, "series"),
    Bad("window=0", lambda: st.forecast.evaluate_forecaster(_series(), 0, 2, valid_start=30,
                                                            test_start=35), ValueError, "window"),
    Bad("test_start past the end", lambda: st.forecast.evaluate_forecaster(
        _series(), 4, 2, valid_start=30, test_start=45), ValueError, "test_start"),
    Bad("seed str", lambda: st.forecast.evaluate_forecaster(_series(), 4, 2, seed="0",
                                                            valid_start=30, test_start=35),
        TypeError, "seed"),
] + lr_cases(lambda lr: st.forecast.evaluate_forecaster(_series(), 4, 2, valid_start=30,
                                                        test_start=35, steps=2, lr=lr))


# -- gradient flow ------------------------------------------------------------------------------------------
_gf = st.gradient_flow
for _name in ("backward_jacobian_products", "first_input_effect", "gradient_norms_through_time",
              "input_jacobians", "input_sensitivity", "state_jacobians"):
    _fn = getattr(_gf, _name)
    TABLE[f"torch.gradient_flow.{_name}"] = [
        Valid(lambda x, _fn=_fn: _fn(x, None, st.rnn.ElmanRNN(2, 3)), lambda: (rand(2, 4, 2),),
              draws_random=True),
        Bad("x NaN", lambda _fn=_fn: _fn(spoil(rand(2, 4, 2)), None, st.rnn.ElmanRNN(2, 3)),
            ValueError, "x"),
        Bad("x wider", lambda _fn=_fn: _fn(rand(2, 4, 3), None, st.rnn.ElmanRNN(2, 3)),
            ValueError, "x"),
        Bad("x array", lambda _fn=_fn: _fn(np.zeros((2, 4, 2)), None, st.rnn.ElmanRNN(2, 3)),
            TypeError, "x"),
        Bad("h0 NaN", lambda _fn=_fn: _fn(rand(2, 4, 2), spoil(rand(2, 3)),
                                          st.rnn.ElmanRNN(2, 3)), ValueError, "h0"),
        Bad("model not recurrent", lambda _fn=_fn: _fn(rand(2, 4, 2), None, nn.Linear(2, 3)),
            TypeError, "model"),
    ]


def _lis():
    x = rand(2, 4, 2).requires_grad_()
    out = st.rnn.ElmanRNN(2, 3)(x)[0]
    return out.pow(2).mean((0, 2)), x


TABLE["torch.gradient_flow.loss_input_sensitivity"] = [
    Valid(lambda: _gf.loss_input_sensitivity(*_lis()), draws_random=True),
    Bad("losses NaN", lambda: _gf.loss_input_sensitivity(
        _lis()[0] * float("nan"), _lis()[1]), ValueError, "losses"),
    Bad("losses 2-D", lambda: _gf.loss_input_sensitivity(torch.zeros(2, 2), _lis()[1]),
        ValueError, "losses"),
    Bad("x without grad", lambda: _gf.loss_input_sensitivity(_lis()[0], rand(2, 4, 2)),
        ValueError, "x"),
]


# -- hopfield ------------------------------------------------------------------------------------------------
_hp = st.hopfield
_pat = lambda: torch.tensor([[1.0, -1, 1, -1], [1, 1, -1, -1]])  # noqa: E731
_W = lambda: _hp.hebbian_weights(_pat())  # noqa: E731
_xi = lambda: torch.tensor([[1.0, -1, 1, 1], [1, 1, 1, -1]])  # noqa: E731
TABLE["torch.hopfield.hebbian_weights"] = [
    Valid(_hp.hebbian_weights, lambda: (_pat(),)),
    Bad("not ±1", lambda: _hp.hebbian_weights(_pat() * 0.5), ValueError, "patterns"),
    Bad("NaN", lambda: _hp.hebbian_weights(spoil(_pat())), ValueError, "patterns"),
    Bad("array", lambda: _hp.hebbian_weights(_pat().numpy()), TypeError, "patterns"),
    Bad("rank", lambda: _hp.hebbian_weights(_pat()[0]), ValueError, "patterns"),
]
TABLE["torch.hopfield.pseudo_inverse_weights"] = [
    Valid(_hp.pseudo_inverse_weights, lambda: (_pat(),)),
    Bad("not ±1", lambda: _hp.pseudo_inverse_weights(_pat() * 0.5), ValueError, "patterns"),
    Bad("int", lambda: _hp.pseudo_inverse_weights(_pat().long()), TypeError, "patterns"),
]
TABLE["torch.hopfield.classic_energy"] = [
    Valid(_hp.classic_energy, lambda: (_xi(), _W())),
    Bad("xi wider", lambda: _hp.classic_energy(wider(_xi()), _W()), ValueError, "xi"),
    Bad("W NaN", lambda: _hp.classic_energy(_xi(), spoil(_W())), ValueError, "W"),
    Bad("b wrong size", lambda: _hp.classic_energy(_xi(), _W(), torch.zeros(3)), ValueError, "b"),
]
TABLE["torch.hopfield.classic_step"] = [
    Valid(_hp.classic_step, lambda: (_xi(), _W())),
    Bad("xi not ±1", lambda: _hp.classic_step(_xi() * 0.5, _W()), ValueError, "xi"),
    Bad("W not square", lambda: _hp.classic_step(_xi(), _W()[:3]), ValueError, "W"),
]
TABLE["torch.hopfield.classic_async_sweep"] = [
    Valid(_hp.classic_async_sweep, lambda: (_xi(), _W()), draws_random=True),
    Bad("order not a permutation", lambda: _hp.classic_async_sweep(
        _xi(), _W(), order=torch.tensor([0, 0, 1, 2])), ValueError, "order"),
    Bad("generator='0'", lambda: _hp.classic_async_sweep(_xi(), _W(), generator="0"), TypeError, "generator"),
    Accepted("generator=0 (a seed)", lambda: _hp.classic_async_sweep(_xi(), _W(), generator=0), "an int seed is accepted, as rng=0 is", finite=False),
]
TABLE["torch.hopfield.classic_retrieve"] = [
    Valid(_hp.classic_retrieve, lambda: (_xi(), _W()), draws_random=True),
    Bad("mode", lambda: _hp.classic_retrieve(_xi(), _W(), mode="fast"), ValueError, "mode"),
    Bad("max_sweeps=0", lambda: _hp.classic_retrieve(_xi(), _W(), max_sweeps=0), ValueError,
        "max_sweeps"),
]
TABLE["torch.hopfield.bit_error"] = [
    Valid(_hp.bit_error, lambda: (_xi(), _pat())),
    Bad("shape mismatch", lambda: _hp.bit_error(_xi(), _pat()[:1]), ValueError, "patterns"),
    Bad("NaN", lambda: _hp.bit_error(spoil(_xi()), _pat()), ValueError, "states"),
]
TABLE["torch.hopfield.check_beta"] = [
    Valid(_hp.check_beta, lambda: (2.0,)),
    Accepted("beta np.float32", lambda: _hp.check_beta(np.float32(2.0)), "a NumPy scalar"),
] + [Bad(f"beta={v!r}", lambda v=v: _hp.check_beta(v), (ValueError, TypeError), "beta")
     for v in (0.0, -1.0, float("nan"), float("inf"), "1")]
_mx = lambda: (rand(2, 3, 4), rand(5, 4, seed=1))  # noqa: E731
TABLE["torch.hopfield.modern_hopfield_update"] = (
    [Valid(_hp.modern_hopfield_update, lambda: (*_mx(), 1.0))]
    + tensor_cases(lambda *a: _hp.modern_hopfield_update(*a, 1.0), _mx, 0, "xi")
    + tensor_cases(lambda *a: _hp.modern_hopfield_update(*a, 1.0), _mx, 1, "patterns",
                   array=False)
    + [Bad("beta=0", lambda: _hp.modern_hopfield_update(*_mx(), 0.0), ValueError, "beta")])
TABLE["torch.hopfield.modern_hopfield_energy"] = (
    [Valid(_hp.modern_hopfield_energy, lambda: (*_mx(), 1.0))]
    + tensor_cases(lambda *a: _hp.modern_hopfield_energy(*a, 1.0), _mx, 0, "xi")
    + [Bad("beta str", lambda: _hp.modern_hopfield_energy(*_mx(), "1"), (ValueError, TypeError),
           "beta")])
TABLE["torch.hopfield.modern_hopfield_retrieve"] = (
    [Valid(_hp.modern_hopfield_retrieve, lambda: (*_mx(), 1.0), lambda: {"max_steps": 2})]
    + tensor_cases(lambda *a: _hp.modern_hopfield_retrieve(*a, 1.0), _mx, 0, "xi")
    + [Bad("max_steps=0", lambda: _hp.modern_hopfield_retrieve(*_mx(), 1.0, max_steps=0),
           ValueError, "max_steps"),
       Bad("tol=-1", lambda: _hp.modern_hopfield_retrieve(*_mx(), 1.0, tol=-1.0), ValueError,
           "tol")])
TABLE["torch.hopfield.HopfieldLayer"] = module(
    _hp.HopfieldLayer, lambda: {"state_size": 3, "stored_size": 4, "hidden_size": 5,
                                "output_size": 2},
    lambda: (rand(2, 3, 3), rand(2, 6, 4, seed=1)), "R",
    sizes=("state_size", "stored_size", "hidden_size", "output_size"), rank=lambda x: x[0],
    extra=tensor_cases(lambda *a: _hp.HopfieldLayer(3, 4, 5, 2)(*a),
                       lambda: (rand(2, 3, 3), rand(2, 6, 4, seed=1)), 1, "Y",
                       rank=lambda x: x[0], dtype64=True, array=False)
    + [Bad("batch mismatch", lambda: _hp.HopfieldLayer(3, 4, 5, 2)(rand(2, 3, 3), rand(3, 6, 4)),
           ValueError, "Y"),
       Bad("beta=0", lambda: _hp.HopfieldLayer(3, 4, 5, 2, beta=0.0), ValueError, "beta")]
    + [Bad(f"NaN Y fused={f}", lambda f=f: _hp.HopfieldLayer(3, 4, 5, 2, fused=f)(
        rand(2, 3, 3), spoil(rand(2, 6, 4))), ValueError, "Y") for f in (True, False)])
TABLE["torch.hopfield.HopfieldPooling"] = module(
    _hp.HopfieldPooling, lambda: {"input_size": 4, "hidden_size": 5, "output_size": 2},
    lambda: (rand(2, 6, 4),), "Y", sizes=("input_size", "hidden_size", "output_size",
                                          "num_queries"), rank=lambda x: x[0],
    extra=[Bad("mask all False", lambda: _hp.HopfieldPooling(4, 5, 2)(
        rand(2, 6, 4), torch.zeros(2, 6, dtype=torch.bool)), ValueError, "mask")])
TABLE["torch.hopfield.HopfieldLookup"] = module(
    _hp.HopfieldLookup, lambda: {"input_size": 3, "hidden_size": 5, "output_size": 2,
                                 "num_patterns": 4},
    lambda: (rand(2, 6, 3),), "R", sizes=("input_size", "hidden_size", "output_size",
                                          "num_patterns"), rank=lambda x: x[0])
TABLE["torch.hopfield.BagClassifier"] = module(
    _hp.BagClassifier, lambda: {"input_size": 3, "hidden_size": 4}, lambda: (rand(2, 6, 3),),
    "bags", sizes=("input_size", "hidden_size"), rank=lambda x: x[0], device=False,
    extra=[Bad("pooling unknown", lambda: _hp.BagClassifier(3, pooling="max2"), ValueError,
               "pooling")])


def _tbc(lr=3e-3, bags=None, labels=None, **kw):
    return _hp.train_bag_classifier(_hp.BagClassifier(3, 4), rand(8, 5, 3) if bags is None
                                    else bags, torch.tensor([0, 1] * 4) if labels is None
                                    else labels, **{"steps": 2, "batch_size": 4, "lr": lr, **kw})


TABLE["torch.hopfield.train_bag_classifier"] = [
    Valid(lambda b, l: _hp.train_bag_classifier(_hp.BagClassifier(3, 4), b, l, steps=2,
                                                batch_size=4)["losses"],
          lambda: (rand(8, 5, 3), torch.tensor([0, 1] * 4)), draws_random=True),
    Bad("bags NaN", lambda: _tbc(bags=spoil(rand(8, 5, 3))), ValueError, "bags"),
    Bad("labels not 0/1", lambda: _tbc(labels=torch.tensor([0, 2] * 4)), ValueError, "labels"),
    Bad("labels batch mismatch", lambda: _tbc(labels=torch.tensor([0, 1] * 3)), ValueError,
        "labels"),
    Bad("steps=0", lambda: _tbc(steps=0), ValueError, "steps"),
    Bad("batch_size=0", lambda: _tbc(batch_size=0), ValueError, "batch_size"),
    Bad("generator='0'", lambda: _tbc(generator="0"), TypeError, "generator"),
    Accepted("generator=0 (a seed)", lambda: _tbc(generator=0), "an int seed is accepted, as rng=0 is", finite=False),
] + lr_cases(lambda lr: _tbc(lr=lr)["losses"])


# -- reservoir ---------------------------------------------------------------------------------------------
TABLE["torch.reservoir.Reservoir"] = module(
    st.reservoir.Reservoir, lambda: {"input_size": 2, "hidden_size": 5},
    lambda: (rand(2, 4, 2),), "u", sizes=("input_size", "hidden_size"), rank=lambda x: x[0],
    extra=[Bad("spectral_radius=-1", lambda: st.reservoir.Reservoir(2, 5, spectral_radius=-1.0),
               ValueError, "spectral_radius"),
           Bad("leak_rate=2", lambda: st.reservoir.Reservoir(2, 5, leak_rate=2.0), ValueError,
               "leak_rate"),
           Bad("h0 NaN", lambda: st.reservoir.Reservoir(2, 5)(rand(2, 4, 2), spoil(rand(2, 5))),
               ValueError, "h0")])
_ht = lambda: (rand(10, 5), rand(10, 2, seed=1))  # noqa: E731
TABLE["torch.reservoir.fit_readout"] = (
    [Valid(st.reservoir.fit_readout, _ht)]
    + tensor_cases(st.reservoir.fit_readout, _ht, 0, "states", rank=lambda x: x[0],
                   trailing=False)
    + tensor_cases(st.reservoir.fit_readout, _ht, 1, "targets", trailing=False, array=False,
                   empty=False)
    + [Bad("batch mismatch", lambda: st.reservoir.fit_readout(rand(10, 5), rand(9, 2)),
           ValueError, "targets"),
       Bad("ridge=-1", lambda: st.reservoir.fit_readout(*_ht(), ridge=-1.0), ValueError,
           "ridge")])
_ro = lambda: (rand(10, 5), rand(6, 2, seed=1))  # noqa: E731
TABLE["torch.reservoir.apply_readout"] = (
    [Valid(st.reservoir.apply_readout, _ro)]
    + tensor_cases(st.reservoir.apply_readout, _ro, 0, "states", dtype64=True)
    + tensor_cases(st.reservoir.apply_readout, _ro, 1, "W_out", rank=lambda x: x[0],
                   trailing=False, array=False))


# -- pixel --------------------------------------------------------------------------------------------------
_px = st.pixel
_img = lambda: torch.randint(0, 2, (3, 4, 4), generator=torch.Generator().manual_seed(0))  # noqa
for _cls in ("PixelCNN", "GatedPixelCNN", "RowLSTM"):
    _C = getattr(_px, _cls)
    _kw = (lambda: {"levels": 2, "hidden_size": 4, "num_layers": 2}) if _cls != "RowLSTM" else \
        (lambda: {"levels": 2, "hidden_size": 4})
    TABLE[f"torch.pixel.{_cls}"] = [
        Valid(lambda x, _C=_C, _kw=_kw: _C(**_kw())(x), lambda: (_img(),), draws_random=True),
        Bad("levels out of range", lambda _C=_C, _kw=_kw: _C(**_kw())(_img() + 1), ValueError,
            "x"),
        Bad("float pixels", lambda _C=_C, _kw=_kw: _C(**_kw())(_img().float() + 0.5), TypeError,
            "x"),
        Bad("not square", lambda _C=_C, _kw=_kw: _C(**_kw())(_img()[:, :3]), ValueError, "x"),
        Bad("rank", lambda _C=_C, _kw=_kw: _C(**_kw())(_img()[0]), ValueError, "x"),
        Bad("labels for an unconditional model", lambda _C=_C, _kw=_kw: _C(**_kw())(
            _img(), torch.tensor([0, 1, 0])), ValueError, "labels"),
        Bad("kernel_size even", lambda _C=_C, _kw=_kw: _C(**{**_kw(), "kernel_size": 2}),
            ValueError, "kernel_size"),
    ] + size_cases(_C, _kw, ("levels", "hidden_size")) + cuda_case(_C, _kw)
TABLE["torch.pixel.MaskedConv2d"] = module(
    _px.MaskedConv2d, lambda: {"in_features": 2, "out_features": 3, "kernel_size": 3},
    lambda: (rand(2, 4, 4, 2),), "x", sizes=("in_features", "out_features", "kernel_size"),
    rank=lambda x: x[0],
    extra=[Bad("mask_type", lambda: _px.MaskedConv2d(2, 3, 3, "C"), ValueError, "mask_type")])
TABLE["torch.pixel.conv_mask"] = [
    Valid(_px.conv_mask, lambda: (3, "A")),
    Bad("kernel_size even", lambda: _px.conv_mask(2, "A"), ValueError, "kernel_size"),
    Bad("mask_type", lambda: _px.conv_mask(3, "C"), ValueError, "mask_type"),
] + cuda_case(lambda device: _px.conv_mask(3, "A", device=device))
TABLE["torch.pixel.check_kernel_size"] = [Valid(_px.check_kernel_size, lambda: (3,))] + [
    Bad(f"kernel_size={v!r}", lambda v=v: _px.check_kernel_size(v), ValueError, "kernel_size")
    for v in (0, 2, -3, 3.0)]
TABLE["torch.pixel.check_images"] = [
    Valid(_px.check_images, lambda: ("x", _img(), 2),
          returns_view="an int64 tensor is returned as it is (not copied)"),
    Accepted("an integer array", lambda: _px.check_images("x", _img().numpy(), 2),
             "pixel levels (integers) are converted from arrays"),
    Bad("float", lambda: _px.check_images("x", _img().float(), 2), TypeError, "x"),
    Bad("out of range", lambda: _px.check_images("x", _img() + 1, 2), ValueError, "x"),
    Bad("empty", lambda: _px.check_images("x", _img()[:0], 2), ValueError, "x"),
]
_logits = lambda: rand(3, 4, 4, 2)  # noqa: E731
TABLE["torch.pixel.bits_per_dim"] = (
    [Valid(_px.bits_per_dim, lambda: (_logits(), _img()))]
    + tensor_cases(_px.bits_per_dim, lambda: (_logits(), _img()), 0, "logits",
                   rank=lambda x: x[0], trailing=False)
    + [Bad("x out of range", lambda: _px.bits_per_dim(_logits(), _img() + 1), ValueError, "x"),
       Bad("x batch mismatch", lambda: _px.bits_per_dim(_logits(), _img()[:2]), ValueError,
           "x")])
TABLE["torch.pixel.skew"] = (
    [Valid(_px.skew, lambda: (rand(2, 3, 3, 2),))]
    + tensor_cases(_px.skew, lambda: (rand(2, 3, 3, 2),), 0, "x", rank=lambda x: x[0],
                   trailing=False)
    + [Bad("not square", lambda: _px.skew(rand(2, 3, 4, 2)), ValueError, "x")])
TABLE["torch.pixel.unskew"] = (
    [Valid(_px.unskew, lambda: (rand(2, 3, 5, 2),))]
    + tensor_cases(_px.unskew, lambda: (rand(2, 3, 5, 2),), 0, "y", rank=lambda x: x[0],
                   trailing=False)
    + [Bad("width not 2n-1", lambda: _px.unskew(rand(2, 3, 4, 2)), ValueError, "y")])
_pcnn = lambda: _px.PixelCNN(2, hidden_size=4, num_layers=2)  # noqa: E731
TABLE["torch.pixel.model_bits_per_dim"] = [
    Valid(lambda x: _px.model_bits_per_dim(_pcnn(), x), lambda: (_img(),), draws_random=True),
    Bad("images out of range", lambda: _px.model_bits_per_dim(_pcnn(), _img() + 1), ValueError,
        "images"),
    Bad("batch_size=0", lambda: _px.model_bits_per_dim(_pcnn(), _img(), batch_size=0),
        ValueError, "batch_size"),
]
TABLE["torch.pixel.sample_images"] = [
    Valid(lambda: _px.sample_images(_pcnn(), 2, size=3), draws_random=True),
    Bad("n=0", lambda: _px.sample_images(_pcnn(), 0, size=3), ValueError, "n"),
    Bad("size=0", lambda: _px.sample_images(_pcnn(), 2, size=0), ValueError, "size"),
    Bad("temperature=-1", lambda: _px.sample_images(_pcnn(), 2, size=3, temperature=-1.0),
        ValueError, "temperature"),
    Bad("start out of range", lambda: _px.sample_images(_pcnn(), 2, size=3, start=10),
        ValueError, "start"),
    Bad("generator='0'", lambda: _px.sample_images(_pcnn(), 2, size=3, generator="0"), TypeError, "generator"),
    Accepted("generator=0 (a seed)", lambda: _px.sample_images(_pcnn(), 2, size=3, generator=0), "an int seed is accepted, as rng=0 is", finite=False),
]
TABLE["torch.pixel.dependency_map"] = [
    Valid(lambda: _px.dependency_map(_pcnn(), 4, (1, 1), probes=2), draws_random=True),
    Bad("position outside", lambda: _px.dependency_map(_pcnn(), 4, (4, 0)), ValueError,
        "position"),
    Bad("size=0", lambda: _px.dependency_map(_pcnn(), 0, (0, 0)), ValueError, "size"),
    Bad("probes=0", lambda: _px.dependency_map(_pcnn(), 4, (1, 1), probes=0), ValueError,
        "probes"),
]


def _tpm(lr=3e-3, **kw):
    return _px.train_pixel_model(_pcnn(), kw.pop("images", _img()),
                                 **{"steps": 2, "batch_size": 2, "lr": lr, **kw})["losses"]


TABLE["torch.pixel.train_pixel_model"] = [
    Valid(lambda x: _px.train_pixel_model(_pcnn(), x, steps=2, batch_size=2)["losses"],
          lambda: (_img(),), draws_random=True),
    Bad("images out of range", lambda: _tpm(images=_img() + 1), ValueError, "images"),
    Bad("images float", lambda: _tpm(images=_img().float()), TypeError, "images"),
    Bad("steps=0", lambda: _tpm(steps=0), ValueError, "steps"),
    Bad("batch_size=0", lambda: _tpm(batch_size=0), ValueError, "batch_size"),
    Bad("clip=0", lambda: _tpm(clip=0), ValueError, "clip"),
    Bad("generator='0'", lambda: _tpm(generator="0"), TypeError, "generator"),
    Accepted("generator=0 (a seed)", lambda: _tpm(generator=0), "an int seed is accepted, as rng=0 is", finite=False),
] + lr_cases(lambda lr: _tpm(lr=lr))


# -- swin ------------------------------------------------------------------------------------------------------
_sw = st.swin
_map = lambda: rand(2, 4, 4, 3)  # noqa: E731
TABLE["torch.swin.window_partition"] = (
    [Valid(_sw.window_partition, lambda: (_map(), 2))]
    + tensor_cases(_sw.window_partition, lambda: (_map(), 2), 0, "x", rank=lambda x: x[0],
                   trailing=False)
    + [Bad("not divisible", lambda: _sw.window_partition(_map(), 3), ValueError, "window_size"),
       Bad("window_size=0", lambda: _sw.window_partition(_map(), 0), ValueError, "window_size")])
TABLE["torch.swin.window_reverse"] = (
    [Valid(_sw.window_reverse, lambda: (rand(2, 4, 4, 3), 2, 4, 4))]
    + tensor_cases(_sw.window_reverse, lambda: (rand(2, 4, 4, 3), 2, 4, 4), 0, "windows",
                   rank=lambda x: x[0], trailing=False)
    + [Bad("wrong count", lambda: _sw.window_reverse(rand(2, 3, 4, 3), 2, 4, 4), ValueError,
           "windows")])
TABLE["torch.swin.cyclic_shift"] = (
    [Valid(_sw.cyclic_shift, lambda: (_map(), 1))]
    + tensor_cases(_sw.cyclic_shift, lambda: (_map(), 1), 0, "x", rank=lambda x: x[0],
                   trailing=False)
    + [Bad("shift float", lambda: _sw.cyclic_shift(_map(), 1.5), (TypeError, ValueError),
           "shift")])
TABLE["torch.swin.patch_partition"] = (
    [Valid(_sw.patch_partition, lambda: (_map(), 2))]
    + tensor_cases(_sw.patch_partition, lambda: (_map(), 2), 0, "images", rank=lambda x: x[0],
                   trailing=False)
    + [Bad("not divisible", lambda: _sw.patch_partition(_map(), 3), ValueError, "patch_size")])
TABLE["torch.swin.random_translate"] = (
    [Valid(_sw.random_translate, lambda: (_map(), 1), draws_random=True)]
    + tensor_cases(_sw.random_translate, lambda: (_map(), 1), 0, "images", rank=lambda x: x[0],
                   trailing=False)
    + [Bad("max_shift=-1", lambda: _sw.random_translate(_map(), -1), ValueError, "max_shift"),
       Bad("generator='0'", lambda: _sw.random_translate(_map(), 1, generator="0"), TypeError, "generator"),
    Accepted("generator=0 (a seed)", lambda: _sw.random_translate(_map(), 1, generator=0), "an int seed is accepted, as rng=0 is", finite=False)])
TABLE["torch.swin.relative_position_index"] = [
    Valid(_sw.relative_position_index, lambda: (2,)),
    Bad("window_size=0", lambda: _sw.relative_position_index(0), ValueError, "window_size"),
] + cuda_case(lambda device: _sw.relative_position_index(2, device=device))
TABLE["torch.swin.relative_coords_table"] = [
    Valid(_sw.relative_coords_table, lambda: (3,)),
    Bad("window_size=0", lambda: _sw.relative_coords_table(0), ValueError, "window_size"),
    Bad("spacing", lambda: _sw.relative_coords_table(3, spacing="cubic"), ValueError, "spacing"),
] + cuda_case(lambda device: _sw.relative_coords_table(3, device=device))
TABLE["torch.swin.shifted_window_mask"] = [
    Valid(_sw.shifted_window_mask, lambda: (4, 4, 2, 1)),
    Bad("not divisible", lambda: _sw.shifted_window_mask(5, 4, 2, 1), ValueError, "H"),
    Bad("shift too big", lambda: _sw.shifted_window_mask(4, 4, 2, 2), ValueError, "shift"),
] + cuda_case(lambda device: _sw.shifted_window_mask(4, 4, 2, 1, device=device))
TABLE["torch.swin.digit_images"] = [
    Valid(lambda: _sw.digit_images(test_size=450)[3]),
    Bad("test_size=0", lambda: _sw.digit_images(test_size=0), ValueError, "test_size"),
    Bad("test_size too big", lambda: _sw.digit_images(test_size=5000), ValueError, "test_size"),
] + cuda_case(lambda device: _sw.digit_images(device=device))
TABLE["torch.swin.RelativePositionBias"] = [
    Valid(lambda: _sw.RelativePositionBias(2, 2)(), draws_random=True),
] + size_cases(_sw.RelativePositionBias, lambda: {"window_size": 2, "num_heads": 2},
               ("window_size", "num_heads")) + cuda_case(_sw.RelativePositionBias,
                                                         lambda: {"window_size": 2,
                                                                  "num_heads": 2})
TABLE["torch.swin.ContinuousPositionBias"] = module(
    _sw.ContinuousPositionBias, lambda: {"num_heads": 2, "hidden_size": 8},
    lambda: (_sw.relative_coords_table(2), 2), "coords", sizes=("num_heads", "hidden_size"),
    rank=lambda x: x[0])
TABLE["torch.swin.PatchEmbedding"] = module(
    _sw.PatchEmbedding, lambda: {"patch_size": 2, "in_channels": 3, "d_model": 4},
    lambda: (_map(),), "images", sizes=("patch_size", "in_channels", "d_model"),
    rank=lambda x: x[0])
TABLE["torch.swin.PatchMerging"] = module(
    _sw.PatchMerging, lambda: {"d_model": 3}, lambda: (_map(),), "x", sizes=("d_model",),
    rank=lambda x: x[0],
    extra=[Bad("odd H", lambda: _sw.PatchMerging(3)(rand(2, 3, 4, 3)), ValueError, "x")])
TABLE["torch.swin.WindowAttention"] = module(
    _sw.WindowAttention, lambda: {"d_model": 4, "num_heads": 2}, lambda: (rand(2, 3, 4, 4),),
    "x", sizes=("d_model", "num_heads"), rank=lambda x: x[0],
    extra=[Bad("bias NaN", lambda: _sw.WindowAttention(4, 2)(rand(2, 3, 4, 4),
                                                             spoil(rand(2, 4, 4))),
               ValueError, "bias")])
TABLE["torch.swin.SwinBlock"] = module(
    _sw.SwinBlock, lambda: {"d_model": 4, "num_heads": 2, "d_ff": 8, "window_size": 2,
                            "cpb_hidden_size": 8},
    lambda: (_map()[..., :1].expand(2, 4, 4, 4).contiguous() + rand(2, 4, 4, 4),), "x",
    sizes=("d_model", "num_heads", "d_ff", "window_size"), rank=lambda x: x[0],
    extra=[Bad("not divisible", lambda: _sw.SwinBlock(4, 2, 8, 2, cpb_hidden_size=8)(
        rand(2, 3, 3, 4)), ValueError, "x"),
           Bad("shift >= window", lambda: _sw.SwinBlock(4, 2, 8, 2, shift=2), ValueError,
               "shift")])
_swin_kw = lambda: {"num_classes": 3, "image_size": 8, "d_model": 4, "depths": (1, 1),  # noqa
                    "num_heads": (1, 2), "window_size": 2, "cpb_hidden_size": 8}
TABLE["torch.swin.SwinV2"] = module(
    _sw.SwinV2, _swin_kw, lambda: (rand(2, 8, 8, 1),), "images",
    sizes=("num_classes", "image_size", "d_model"), rank=lambda x: x[0])
_vit_kw = lambda: {"num_classes": 3, "image_size": 4, "d_model": 4, "num_heads": 2,  # noqa
                   "d_ff": 8, "num_layers": 1}
TABLE["torch.swin.VisionTransformer"] = module(
    _sw.VisionTransformer, _vit_kw, lambda: (rand(2, 4, 4, 1),), "images",
    sizes=("num_classes", "image_size", "d_model", "num_layers"), rank=lambda x: x[0])
_labels = lambda: torch.tensor([0, 1, 2, 0])  # noqa: E731
TABLE["torch.swin.classifier_accuracy"] = [
    Valid(lambda x, y: _sw.classifier_accuracy(_sw.VisionTransformer(**_vit_kw()), x, y),
          lambda: (rand(4, 4, 4, 1), _labels()), draws_random=True),
    Bad("images NaN", lambda: _sw.classifier_accuracy(_sw.VisionTransformer(**_vit_kw()),
                                                      spoil(rand(4, 4, 4, 1)), _labels()),
        ValueError, "images"),
    Bad("labels batch mismatch", lambda: _sw.classifier_accuracy(
        _sw.VisionTransformer(**_vit_kw()), rand(4, 4, 4, 1), _labels()[:3]), ValueError,
        "labels"),
    Bad("labels out of range", lambda: _sw.classifier_accuracy(
        _sw.VisionTransformer(**_vit_kw()), rand(4, 4, 4, 1), _labels() + 1), ValueError,
        "labels"),
]


def _tc(lr=3e-3, **kw):
    return _sw.train_classifier(_sw.VisionTransformer(**_vit_kw()), kw.pop("images",
                                                                           rand(4, 4, 4, 1)),
                                kw.pop("labels", _labels()),
                                **{"steps": 2, "batch_size": 2, "lr": lr, **kw})["losses"]


TABLE["torch.swin.train_classifier"] = [
    Valid(lambda x, y: _sw.train_classifier(_sw.VisionTransformer(**_vit_kw()), x, y, 2,
                                            batch_size=2)["losses"],
          lambda: (rand(4, 4, 4, 1), _labels()), draws_random=True),
    Bad("images NaN", lambda: _tc(images=spoil(rand(4, 4, 4, 1))), ValueError, "images"),
    Bad("labels float", lambda: _tc(labels=_labels().float()), TypeError, "labels"),
    Bad("steps=0", lambda: _tc(steps=0), ValueError, "steps"),
    Bad("final_lr=-1", lambda: _tc(final_lr=-1.0), ValueError, "final_lr"),
    Bad("label_smoothing=2", lambda: _tc(label_smoothing=2.0), ValueError, "label_smoothing"),
    Bad("generator='0'", lambda: _tc(generator="0"), TypeError, "generator"),
    Accepted("generator=0 (a seed)", lambda: _tc(generator=0), "an int seed is accepted, as rng=0 is", finite=False),
] + lr_cases(lambda lr: _tc(lr=lr))


# -- transformer ------------------------------------------------------------------------------------------------
_tf = st.transformer
TABLE["torch.transformer.sinusoidal_positional_encoding"] = [
    Valid(_tf.sinusoidal_positional_encoding, lambda: (5, 4)),
    Bad("d_model odd", lambda: _tf.sinusoidal_positional_encoding(5, 3), ValueError, "d_model"),
    Bad("T=0", lambda: _tf.sinusoidal_positional_encoding(0, 4), ValueError, "T"),
] + cuda_case(lambda device: _tf.sinusoidal_positional_encoding(5, 4, device=device))
TABLE["torch.transformer.PositionalEncoding"] = module(
    _tf.PositionalEncoding, lambda: {"d_model": 4, "max_len": 8}, lambda: (rand(2, 3, 4),), "x",
    sizes=("d_model", "max_len"), rank=lambda x: x[0], device=False, draws_random=False,
    dtype64=False,
    extra=[Bad("longer than max_len", lambda: _tf.PositionalEncoding(4, 2)(rand(2, 3, 4)),
               ValueError, "x")])
TABLE["torch.transformer.FeedForward"] = module(
    _tf.FeedForward, lambda: {"d_model": 4, "d_ff": 8}, lambda: (rand(2, 3, 4),), "x",
    sizes=("d_model", "d_ff"), rank=None)
_blk = lambda: {"d_model": 4, "num_heads": 2, "d_ff": 8}  # noqa: E731
TABLE["torch.transformer.EncoderBlock"] = module(
    _tf.EncoderBlock, _blk, lambda: (rand(2, 3, 4),), "x", sizes=("d_model", "num_heads", "d_ff"),
    rank=lambda x: x[0],
    extra=[Bad("mask wrong shape", lambda: _tf.EncoderBlock(**_blk())(
        rand(2, 3, 4), torch.ones(4, 4, dtype=torch.bool)), ValueError, "mask"),
           Bad("from_numpy mismatched part sizes", lambda: _tf.EncoderBlock.from_numpy(
               {**snp.transformer.init_encoder_block_params(4, 2, 8, rng=0),
                "norm_2": {"gamma": np.ones(6), "beta": np.zeros(6)}}, 2), ValueError,
               "norm_2"),
           Bad("from_numpy missing part", lambda: _tf.EncoderBlock.from_numpy(
               {k: v for k, v in snp.transformer.init_encoder_block_params(4, 2, 8, rng=0).items()
                if k != "norm_2"}, 2), (ValueError, TypeError), "norm_2")])
TABLE["torch.transformer.DecoderBlock"] = module(
    _tf.DecoderBlock, _blk, lambda: (rand(2, 3, 4), rand(2, 5, 4, seed=1)), "x",
    sizes=("d_model", "num_heads", "d_ff"), rank=lambda x: x[0],
    extra=tensor_cases(lambda *a: _tf.DecoderBlock(**_blk())(*a),
                       lambda: (rand(2, 3, 4), rand(2, 5, 4, seed=1)), 1, "memory",
                       rank=lambda x: x[0], dtype64=True)
    + [Bad("memory batch mismatch", lambda: _tf.DecoderBlock(**_blk())(rand(2, 3, 4),
                                                                        rand(3, 5, 4)),
           ValueError, "memory"),
       Bad("self_mask wrong shape", lambda: _tf.DecoderBlock(**_blk())(
           rand(2, 3, 4), rand(2, 5, 4), torch.ones(5, 5, dtype=torch.bool)), ValueError,
           "self_mask"),
       Bad("memory_mask float", lambda: _tf.DecoderBlock(**_blk())(
           rand(2, 3, 4), rand(2, 5, 4), memory_mask=torch.ones(3, 5)), TypeError,
           "memory_mask")])
_src = lambda: torch.tensor([[3, 4, 5, 0], [4, 3, 0, 0]])  # noqa: E731
_tgt = lambda: torch.tensor([[1, 5, 4, 3], [1, 3, 4, 2]])  # noqa: E731
_tfm_kw = lambda: {"src_vocab_size": 6, "tgt_vocab_size": 6, "d_model": 4, "num_heads": 2,  # noqa
                   "d_ff": 8, "num_layers": 1, "max_len": 8}
TABLE["torch.transformer.Transformer"] = [
    Valid(lambda s, t: _tf.Transformer(**_tfm_kw())(s, t), lambda: (_src(), _tgt()),
          draws_random=True),
    Valid(lambda s: _tf.Transformer(**_tfm_kw()).greedy_decode(s, 3), lambda: (_src(),),
          draws_random=True, label="valid greedy"),
    Bad("src out of vocabulary", lambda: _tf.Transformer(**_tfm_kw())(_src() + 3, _tgt()),
        ValueError, "src"),
    Bad("tgt_in float", lambda: _tf.Transformer(**_tfm_kw())(_src(), _tgt().float()), TypeError,
        "tgt_in"),
    Bad("batch mismatch", lambda: _tf.Transformer(**_tfm_kw())(_src(), _tgt()[:1]), ValueError,
        "tgt_in"),
    Bad("longer than max_len", lambda: _tf.Transformer(**{**_tfm_kw(), "max_len": 2})(
        _src(), _tgt()), ValueError, "src"),
] + size_cases(_tf.Transformer, _tfm_kw, ("src_vocab_size", "d_model", "num_layers")) \
    + cuda_case(_tf.Transformer, _tfm_kw)
_ct_kw = lambda: {"vocab_size": 5, "d_model": 4, "num_heads": 2, "d_ff": 8, "num_layers": 1,  # noqa
                  "context": 6}
TABLE["torch.transformer.CharTransformer"] = [
    Valid(lambda i: _tf.CharTransformer(**_ct_kw())(i), lambda: (_ids(),), draws_random=True),
    Valid(lambda p: _tf.CharTransformer(**_ct_kw()).generate(p, 3), lambda: (torch.tensor([1]),),
          draws_random=True, label="valid generate"),
    Bad("ids out of vocabulary", lambda: _tf.CharTransformer(**_ct_kw())(_ids() + 1),
        ValueError, "indices"),
    Bad("longer than context", lambda: _tf.CharTransformer(**_ct_kw())(
        torch.zeros(1, 7, dtype=torch.long)), ValueError, "indices"),
    Bad("ids float", lambda: _tf.CharTransformer(**_ct_kw())(_ids().float()), TypeError,
        "indices"),
] + size_cases(_tf.CharTransformer, _ct_kw, ("vocab_size", "d_model", "context")) \
    + cuda_case(_tf.CharTransformer, _ct_kw)


# -- seq2seq, captioning, decoding (their modules are being extended by another helper: these cases
# follow their current behaviour) ---------------------------------------------------------------------------
_s2 = st.seq2seq
_task = lambda: {k: torch.as_tensor(v) for k, v in  # noqa: E731
                 __import__("seqlearn.data.transduction", fromlist=["x"])
                 .transduction_task(4, (2, 4), rng=0).items()}
_s2m = lambda: _s2.Seq2SeqRNN(13, 13, embedding_size=4, hidden_size=5)  # noqa: E731
TABLE["torch.seq2seq.Seq2SeqRNN"] = [
    Valid(lambda s, t: _s2m()(s, t), lambda: (_task()["src"], _task()["tgt_in"]),
          draws_random=True),
    Valid(lambda s: _s2m().greedy_decode(s, 3), lambda: (_task()["src"],), draws_random=True,
          label="valid greedy"),
    Bad("src out of vocabulary", lambda: _s2m()(_task()["src"] + 13, _task()["tgt_in"]),
        ValueError, "src"),
    Bad("tgt_in float", lambda: _s2m()(_task()["src"], _task()["tgt_in"].float()), TypeError,
        "tgt_in"),
] + size_cases(_s2.Seq2SeqRNN, lambda: {"src_vocab_size": 13, "tgt_vocab_size": 13},
               ("src_vocab_size", "hidden_size"))
TABLE["torch.seq2seq.seq2seq_loss"] = [
    Valid(lambda b: _s2.seq2seq_loss(_s2m(), b), lambda: (_task(),), draws_random=True),
    Bad("batch not a dict", lambda: _s2.seq2seq_loss(_s2m(), (1, 2)), ValueError, "batch"),
    Bad("tgt_out float", lambda: _s2.seq2seq_loss(_s2m(), {**_task(), "tgt_out":
                                                           _task()["tgt_out"].float()}),
        TypeError, "tgt_out"),
]


def _ts2(lr=3e-3, **kw):
    return _s2.train_seq2seq(_s2m(), kw.pop("make_batch", _task()),
                             **{"steps": 2, "lr": lr, "progress": False, **kw})


TABLE["torch.seq2seq.train_seq2seq"] = [
    Valid(lambda b: _s2.train_seq2seq(_s2m(), b, 2, progress=False), lambda: (_task(),),
          draws_random=True),
    Bad("make_batch wrong type", lambda: _ts2(make_batch=3), TypeError, "make_batch"),
    Bad("steps=0", lambda: _ts2(steps=0), ValueError, "steps"),
] + lr_cases(_ts2)
for _name in ("exact_matches", "sequence_accuracy", "accuracy_by_length", "errors_by_position"):
    if hasattr(_s2, _name):
        _fn = getattr(_s2, _name)
        TABLE[f"torch.seq2seq.{_name}"] = [
            Valid(lambda d, _fn=_fn: _fn(_s2m(), d), lambda: (_task(),), draws_random=True),
            Bad("data not a dict", lambda _fn=_fn: _fn(_s2m(), [1, 2]), ValueError, "data"),
        ]
TABLE["torch.seq2seq.compare_tokens"] = [
    Valid(_s2.compare_tokens, lambda: (_task()["tgt_out"][:, :3], _task()["tgt_out"])),
]
TABLE["torch.seq2seq.source_lengths"] = [
    Valid(_s2.source_lengths, lambda: (_src(),)),
    Bad("float ids", lambda: _s2.source_lengths(_src().float()), TypeError, "src"),
]
_cap_data = lambda: __import__("seqlearn.data.digit_captions",  # noqa: E731
                               fromlist=["x"]).digit_strips(2, 2, rng=0)
_cap = lambda: st.captioning.DigitCaptioner(channels=4, embedding_size=4, hidden_size=5,  # noqa
                                            attention_size=4, max_digits=2)
TABLE["torch.captioning.DigitCaptioner"] = [
    Valid(lambda x, t: _cap()(x, t), lambda: (torch.as_tensor(_cap_data()["images"]).float(),
                                              torch.as_tensor(_cap_data()["tgt_in"])),
          draws_random=True),
    Bad("images NaN", lambda: _cap()(spoil(torch.as_tensor(_cap_data()["images"]).float()),
                                     torch.as_tensor(_cap_data()["tgt_in"])), ValueError,
        "images"),
] + size_cases(st.captioning.DigitCaptioner, lambda: {}, ("channels", "hidden_size"))
TABLE["torch.captioning.caption_loss"] = [
    Valid(lambda d: st.captioning.caption_loss(_cap(), d), lambda: (_cap_data(),),
          draws_random=True),
    Bad("batch not a dict", lambda: st.captioning.caption_loss(_cap(), 3), ValueError, "batch"),
]
TABLE["torch.captioning.caption_accuracy"] = [
    Valid(lambda d: st.captioning.caption_accuracy(_cap(), d), lambda: (_cap_data(),),
          draws_random=True),
    Bad("data not a dict", lambda: st.captioning.caption_accuracy(_cap(), 3), ValueError,
        "data"),
]


def _tcap(lr=3e-3, **kw):
    return st.captioning.train_captioner(_cap(), kw.pop("make_batch", _cap_data()),
                                         **{"steps": 2, "lr": lr, "progress": False, **kw})


TABLE["torch.captioning.train_captioner"] = [
    Valid(lambda d: st.captioning.train_captioner(_cap(), d, 2, progress=False),
          lambda: (_cap_data(),), draws_random=True),
    Bad("make_batch wrong type", lambda: _tcap(make_batch=3), TypeError, "make_batch"),
    Bad("steps=0", lambda: _tcap(steps=0), ValueError, "steps"),
] + lr_cases(_tcap)
if hasattr(st.captioning, "skewed_digit_strips"):
    _probs = lambda: np.r_[0.5, np.full(9, 0.5 / 9)]  # noqa: E731
    TABLE["torch.captioning.skewed_digit_strips"] = [
        Valid(st.captioning.skewed_digit_strips, lambda: (2, _probs()), lambda: {"n_digits": 2}),
        Valid(lambda: st.captioning.skewed_digit_strips(2, _probs(), rng=None)["digits"],
              draws_random=True, label="valid rng=None"),
        Accepted("rng=0", lambda: st.captioning.skewed_digit_strips(2, _probs(), rng=0)["digits"],
                 "an int seed"),
        Bad("probabilities do not sum to 1", lambda: st.captioning.skewed_digit_strips(
            2, np.full(10, 0.2)), ValueError, "probabilities"),
        Bad("probabilities negative", lambda: st.captioning.skewed_digit_strips(
            2, np.r_[-0.5, np.full(9, 1.5 / 9)]), ValueError, "probabilities"),
        Bad("probabilities NaN", lambda: st.captioning.skewed_digit_strips(
            2, np.r_[np.nan, np.full(9, 1 / 9)]), ValueError, "probabilities"),
        Bad("n=0", lambda: st.captioning.skewed_digit_strips(0, _probs()), ValueError, "n"),
    ]
TABLE["torch.captioning.attention_on_digits"] = [
    Valid(st.captioning.attention_on_digits, lambda: (rand(2, 3, 8).softmax(-1), 2)),
    Bad("wrong regions", lambda: st.captioning.attention_on_digits(rand(2, 3, 7), 2),
        ValueError, "weights"),
    Bad("n_digits=0", lambda: st.captioning.attention_on_digits(rand(2, 3, 8), 0), ValueError,
        "n_digits"),
]


def _dec_step(tokens, state):
    return torch.log_softmax(rand(tokens.shape[0], 5) + tokens[:, -1:].float(), -1), state, None


TABLE["torch.decoding.decode"] = [
    Valid(st.decoding.decode, lambda: (_dec_step, torch.ones(2, 1, dtype=torch.long), 3)),
    Valid(st.decoding.decode, lambda: (_dec_step, torch.ones(2, 1, dtype=torch.long), 3),
          lambda: {"temperature": 1.0}, draws_random=True, label="valid sampled"),
    Bad("max_len=-1", lambda: st.decoding.decode(_dec_step, torch.ones(2, 1, dtype=torch.long),
                                                 -1), ValueError, "max_len"),
    Bad("start_tokens float", lambda: st.decoding.decode(_dec_step, torch.ones(2, 1), 3),
        TypeError, "start_tokens"),
    Bad("temperature=-1", lambda: st.decoding.decode(
        _dec_step, torch.ones(2, 1, dtype=torch.long), 3, temperature=-1.0), ValueError,
        "temperature"),
    Bad("step not callable", lambda: st.decoding.decode(3, torch.ones(2, 1, dtype=torch.long), 3),
        TypeError, "step"),
]
if hasattr(st.decoding, "beam_search"):
    TABLE["torch.decoding.beam_search"] = [
        Valid(st.decoding.beam_search, lambda: (_dec_step, torch.ones(2, 1, dtype=torch.long), 3,
                                                2)),
        Bad("beam_width=0", lambda: st.decoding.beam_search(
            _dec_step, torch.ones(2, 1, dtype=torch.long), 3, 0), ValueError, "beam_width"),
        Bad("start_tokens float", lambda: st.decoding.beam_search(
            _dec_step, torch.ones(2, 1), 3, 2), TypeError, "start_tokens"),
    ]
