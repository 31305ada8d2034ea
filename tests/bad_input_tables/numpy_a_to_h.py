"""Bad-input table for ``seqlearn.numpy`` modules activations .. hopfield (activations, attention,
boltzmann, bpe, char_rnn, common, ctrnn, efficient_attention, forecast, gradient_flow, gru,
hopfield). The vocabulary is in ``tests/bad_input.py``.

Policies of the NumPy half, as ``seqlearn.validate.as_float_array`` applies them:

* lists, NumPy integer and bool arrays and float16 arrays are accepted (converted to float64;
  float16 and float32 keep their dtype), and so are torch tensors (converted, detached, to NumPy);
* NaN and inf are refused by name; empty arrays (B = 0, T = 0) are refused by name;
* sizes are ints ≥ 1 (0, −1, 2.5 and "3" are refused); hyperparameters are real numbers (NumPy
  scalars accepted, strings refused with ``TypeError``); ``rng`` is a Generator, an int seed or
  ``None`` (which follows ``seqlearn.seed``).

Most cases come from :func:`cases`, which builds the families that apply to a function from a
dict of good keyword arguments; what is particular to a function is written out after it.
"""

import copy
import inspect

import numpy as np
import torch

from bad_input import Accepted, Bad, Valid
from seqlearn.numpy import activations as act
from seqlearn.numpy import attention as att
from seqlearn.numpy import boltzmann as bz
from seqlearn.numpy import bpe
from seqlearn.numpy import char_rnn as cr
from seqlearn.numpy import common as cm
from seqlearn.numpy import ctrnn as ct
from seqlearn.numpy import efficient_attention as ea
from seqlearn.numpy import forecast as fc
from seqlearn.numpy import gradient_flow as gf
from seqlearn.numpy import gru
from seqlearn.numpy import hopfield as hf


def rand(*shape, seed=0, scale=1.0):
    return scale * np.random.default_rng(seed).standard_normal(shape)


def signs(*shape, seed=0):
    return np.where(np.random.default_rng(seed).random(shape) < 0.5, -1.0, 1.0)


def bits(*shape, seed=0):
    return (np.random.default_rng(seed).random(shape) < 0.5).astype(float)


def _poison(a, value):
    a = np.array(a, dtype=float)
    a.flat[0] = value
    return a


#: array family -> (how to change the good array, error, is it an acceptance)
ARRAY_FAMILIES = {
    "nan": (lambda a: _poison(a, np.nan), ValueError),
    "inf": (lambda a: _poison(a, np.inf), ValueError),
    "str": (lambda a: "abc", TypeError),
    "strv": (lambda a: "abc", ValueError),      # the step functions check shapes only
    "none": (lambda a: None, TypeError),
    "rank+": (lambda a: np.asarray(a)[None], ValueError),
    "rank-": (lambda a: np.asarray(a)[0], ValueError),
    "last": (lambda a: np.asarray(a)[..., :-1], ValueError),
    "last+": (lambda a: np.concatenate([a, a[..., :1]], axis=-1), ValueError),
    "batch": (lambda a: np.asarray(a)[:-1], ValueError),
    "B0": (lambda a: np.asarray(a)[:0], ValueError),
    "T0": (lambda a: np.asarray(a)[:, :0], ValueError),
    "scalar": (lambda a: np.float64(1.0), ValueError),
}
ACCEPT_FAMILIES = {
    "list": (lambda a: np.asarray(a).tolist(), "lists are converted to float arrays"),
    "int": (lambda a: np.asarray(a).round().astype(np.int64),
            "integer arrays are converted to float64"),
    "f16": (lambda a: np.asarray(a).astype(np.float16), "float16 arrays are accepted as floats"),
    "f32": (lambda a: np.asarray(a).astype(np.float32), "float32 arrays keep their dtype"),
    "tensor": (lambda a: torch.as_tensor(np.asarray(a)),
               "torch tensors are converted to NumPy arrays"),
    "grad": (lambda a: torch.tensor(np.asarray(a), requires_grad=True),
             "a tensor that requires grad is detached"),
}


def cases(fn, good, *, draws=False, view="", arrays=None, sizes=(), positive=(), rng=False,
          params=None, params_nan=True, finite=True, aliases=None):
    """The cases of ``fn`` called with the keyword arguments ``good`` (a dict, deep-copied for
    every call), one family at a time.

    arrays : {name: "nan inf rank+ ... list int"}, families from ARRAY_FAMILIES (refused, naming
        ``name``) and ACCEPT_FAMILIES (accepted)
    sizes : names of int sizes ≥ 1 (0, −1, 2.5, "3" refused)
    positive : names of positive real hyperparameters (0, −1, nan refused; "0.05" refused with a
        TypeError; a NumPy float32 accepted)
    rng : the function takes ``rng`` (0 accepted as a seed, "seed" refused)
    params : {argument name: keys} of parameter dicts (missing key, wrong shape, NaN, not a dict)
    """
    def call(**changes):
        kwargs = copy.deepcopy(good)
        kwargs.update(changes)
        return lambda: fn(**kwargs)

    out = [Valid(fn, kwargs=lambda: copy.deepcopy(good), draws_random=draws, returns_view=view)]
    defaults = {k: p.default for k, p in inspect.signature(fn).parameters.items()
                if p.default is not inspect.Parameter.empty}
    good = dict(defaults, **good)
    for name, families in (arrays or {}).items():
        for family in families.split():
            if family in ARRAY_FAMILIES:
                change, error = ARRAY_FAMILIES[family]
                out.append(Bad(f"{family}:{name}", call(**{name: change(good[name])}), error,
                               (aliases or {}).get(name, name)))
            else:
                change, why = ACCEPT_FAMILIES[family]
                out.append(Accepted(f"{family}:{name}", call(**{name: change(good[name])}), why,
                                    finite=finite))
    for name in sizes:
        for value in (0, -1, 2.5):
            out.append(Bad(f"{name}={value}", call(**{name: value}), (ValueError, TypeError),
                           name))
        out.append(Bad(f"{name}=str", call(**{name: "3"}), (ValueError, TypeError), name))
    for name in positive:
        for value in (0, -1.0, np.nan, np.inf):
            out.append(Bad(f"{name}={value}", call(**{name: value}), ValueError, name))
        out.append(Bad(f"{name}=str", call(**{name: "0.05"}), TypeError, name))
        if good.get(name) is not None:
            out.append(Accepted(f"{name}=float32", call(**{name: np.float32(good[name])}),
                                "NumPy scalars are numbers", finite=finite))
    if rng:
        out.append(Accepted("rng=0", call(rng=0), "an int seeds a Generator", finite=finite))
        out.append(Bad("rng=str", call(rng="seed"), TypeError, "rng"))
        out.append(Bad("rng=-1", call(rng=-1), TypeError, "rng"))
    for arg, keys in (params or {}).items():
        first, second = keys[0], keys[-1]
        missing = {k: v for k, v in good[arg].items() if k != first}
        out.append(Bad(f"{arg}:missing", call(**{arg: missing}), ValueError, (arg, first)))
        out.append(Bad(f"{arg}:not a dict", call(**{arg: [1, 2]}), TypeError, arg))
        for key in (first, second):
            label = f"{arg}['{key}']"
            wrong = dict(good[arg], **{key: np.asarray(good[arg][key])[..., None]})
            out.append(Bad(f"{label}:rank", call(**{arg: wrong}), ValueError, label))
            if params_nan:
                nan = dict(good[arg], **{key: _poison(good[arg][key], np.nan)})
                out.append(Bad(f"{label}:nan", call(**{arg: nan}), ValueError, label))
    return out


def init_cases(fn, good, size_names, **kw):
    """An ``init_*`` function: random draws, sizes, rng."""
    return cases(fn, good, draws=True, sizes=size_names, rng=True, **kw)


CACHE = "keeps references to its inputs"      # the docstring phrase of every cache that does so

TABLE = {}

# ----------------------------------------------------------------------------------- activations
for _name in ("step", "sigmoid", "tanh", "relu", "identity"):
    TABLE[f"numpy.activations.{_name}"] = cases(
        getattr(act, _name), {"a": rand(2, 3)},
        arrays={"a": "nan inf str none list int f16 f32 tensor grad"})
for _name in ("sigmoid_derivative", "tanh_derivative", "relu_derivative", "identity_derivative"):
    TABLE[f"numpy.activations.{_name}"] = cases(
        getattr(act, _name), {"y": np.tanh(rand(2, 3))},
        arrays={"y": "nan inf str none list int f32 tensor"})
for _name in ("get_activation", "get_derivative"):
    TABLE[f"numpy.activations.{_name}"] = [
        Valid(getattr(act, _name), lambda: ("tanh",)),
        Bad("unknown", lambda f=getattr(act, _name): f("softsign"), ValueError, "activation"),
        Bad("not a str", lambda f=getattr(act, _name): f(3), ValueError, "activation"),
    ]
TABLE["numpy.activations.get_derivative"].append(
    Bad("step has none", lambda: act.get_derivative("step"), ValueError, "step"))

# ------------------------------------------------------------------------------------ attention
_pool = att.init_attention_pooling_params(3, 4, rng=0)
_add = att.init_additive_attention_params(3, 2, 4, rng=0)
_mha = att.init_multi_head_attention_params(4, 2, rng=0)
_mask_bn = np.array([[True, True, False], [True, True, True]])

TABLE["numpy.attention.causal_mask"] = cases(att.causal_mask, {"T": 3}, sizes=("T",))
TABLE["numpy.attention.init_attention_pooling_params"] = init_cases(
    att.init_attention_pooling_params, {"input_size": 3, "attention_size": 4},
    ("input_size", "attention_size"))
TABLE["numpy.attention.init_additive_attention_params"] = init_cases(
    att.init_additive_attention_params, {"query_size": 3, "key_size": 2, "attention_size": 4},
    ("query_size", "key_size", "attention_size"))
TABLE["numpy.attention.init_multi_head_attention_params"] = init_cases(
    att.init_multi_head_attention_params, {"d_model": 4, "num_heads": 2},
    ("d_model", "num_heads")) + [
    Bad("num_heads does not divide d_model",
        lambda: att.init_multi_head_attention_params(5, 2), ValueError, "num_heads")]

TABLE["numpy.attention.attention_pooling_forward"] = cases(
    att.attention_pooling_forward, {"X": rand(2, 3, 3), "params": _pool, "mask": _mask_bn},
    view=CACHE, arrays={"X": "nan inf str rank- last B0 T0 list int f32 tensor"},
    params={"params": ("W_a", "w_a")}) + [
    Bad("mask:batch", lambda: att.attention_pooling_forward(rand(2, 3, 3), _pool, _mask_bn[:1, :2]),
        ValueError, "mask"),
    Bad("mask:int", lambda: att.attention_pooling_forward(rand(2, 3, 3), _pool,
                                                          _mask_bn.astype(int)), TypeError, "mask"),
    Bad("mask:empty row", lambda: att.attention_pooling_forward(rand(2, 3, 3), _pool,
                                                                np.zeros((2, 3), bool)),
        ValueError, "mask"),
]
TABLE["numpy.attention.attention_pooling_backward"] = cases(
    att.attention_pooling_backward,
    {"dpooled": rand(2, 3, seed=1), "cache": att.attention_pooling_forward(rand(2, 3, 3), _pool)[2]},
    arrays={"dpooled": "nan inf str rank+ last batch list"})

TABLE["numpy.attention.additive_attention_forward"] = cases(
    att.additive_attention_forward,
    {"query": rand(2, 1, 3), "keys": rand(2, 3, 2, seed=1), "values": rand(2, 3, 5, seed=2),
     "params": _add, "mask": _mask_bn},
    view=CACHE, arrays={"query": "nan inf str rank- last B0 list f32 tensor",
                        "keys": "nan inf str rank- last batch T0 list",
                        "values": "nan inf str rank- batch list"},
    params={"params": ("W_q", "w_a")})
TABLE["numpy.attention.additive_attention_backward"] = cases(
    att.additive_attention_backward,
    {"dcontext": rand(2, 1, 5, seed=3),
     "cache": att.additive_attention_forward(rand(2, 1, 3), rand(2, 3, 2, seed=1),
                                             rand(2, 3, 5, seed=2), _add)[2]},
    arrays={"dcontext": "nan inf str rank- last batch list"})

TABLE["numpy.attention.scaled_dot_product_attention_forward"] = cases(
    att.scaled_dot_product_attention_forward,
    {"q": rand(2, 3, 4), "k": rand(2, 5, 4, seed=1), "v": rand(2, 5, 2, seed=2),
     "mask": np.ones((3, 5), bool)},
    view=CACHE, arrays={"q": "nan inf str last batch list f32 tensor", "k": "nan inf str last batch",
                        "v": "nan inf str batch rank-"},
    positive=("scale",)) + [
    Bad("mask:shape", lambda: att.scaled_dot_product_attention_forward(
        rand(2, 3, 4), rand(2, 5, 4), rand(2, 5, 2), mask=np.ones((3, 4), bool)),
        ValueError, "mask"),
    Bad("q:1-d", lambda: att.scaled_dot_product_attention_forward(rand(4), rand(5, 4), rand(5, 2)),
        ValueError, "q"),
]
TABLE["numpy.attention.scaled_dot_product_attention_backward"] = cases(
    att.scaled_dot_product_attention_backward,
    {"dout": rand(2, 3, 2, seed=3),
     "cache": att.scaled_dot_product_attention_forward(rand(2, 3, 4), rand(2, 5, 4, seed=1),
                                                       rand(2, 5, 2, seed=2))[2]},
    arrays={"dout": "nan inf str rank+ last batch list"})

TABLE["numpy.attention.multi_head_attention_forward"] = cases(
    att.multi_head_attention_forward,
    {"query": rand(2, 3, 4), "key": rand(2, 5, 4, seed=1), "value": rand(2, 5, 4, seed=2),
     "params": _mha, "num_heads": 2, "mask": np.ones((2, 1, 1, 5), bool)},
    view=CACHE, arrays={"query": "nan inf str rank- last B0 list f32 tensor",
                        "key": "nan inf str last batch", "value": "nan inf str last batch"},
    sizes=("num_heads",), params={"params": ("W_q", "b_o")}) + [
    Bad("num_heads=3", lambda: att.multi_head_attention_forward(rand(2, 3, 4), rand(2, 3, 4),
                                                                rand(2, 3, 4), _mha, 3),
        ValueError, "num_heads")]
TABLE["numpy.attention.multi_head_attention_backward"] = cases(
    att.multi_head_attention_backward,
    {"dout": rand(2, 3, 4, seed=3),
     "cache": att.multi_head_attention_forward(rand(2, 3, 4), rand(2, 5, 4, seed=1),
                                               rand(2, 5, 4, seed=2), _mha, 2)[2]},
    arrays={"dout": "nan inf str rank- last batch list"})

# ------------------------------------------------------------------------------------ boltzmann
_J = np.array([[0.0, 0.5, -0.3], [0.5, 0.0, 0.2], [-0.3, 0.2, 0.0]])
_b = np.array([0.1, -0.2, 0.0])
_rbm = bz.init_rbm_params(4, 3, rng=0)
_machine = {"arrays": {"J": "nan inf str rank- list int tensor", "b": "nan inf str last list"}}

TABLE["numpy.boltzmann.all_states"] = cases(bz.all_states, {"n": 3}, sizes=("n",)) + [
    Bad("n too large", lambda: bz.all_states(bz.MAX_EXACT_UNITS + 1), ValueError, "n")]
TABLE["numpy.boltzmann.boltzmann_energy"] = cases(
    bz.boltzmann_energy, {"x": bits(2, 3), "J": _J, "b": _b},
    arrays={"x": "nan inf str rank+ last list int tensor", **_machine["arrays"]}) + [
    Bad("x:not binary", lambda: bz.boltzmann_energy(bits(2, 3) + 0.5, _J, _b), ValueError, "x"),
    Bad("J:not symmetric", lambda: bz.boltzmann_energy(bits(2, 3), np.triu(_J), _b), ValueError,
        "J"),
    Bad("J:diagonal", lambda: bz.boltzmann_energy(bits(2, 3), _J + np.eye(3), _b), ValueError, "J"),
]
for _name in ("boltzmann_log_partition", "boltzmann_probabilities", "boltzmann_moments"):
    TABLE[f"numpy.boltzmann.{_name}"] = cases(getattr(bz, _name), {"J": _J, "b": _b},
                                              **_machine)
TABLE["numpy.boltzmann.boltzmann_gibbs"] = cases(
    bz.boltzmann_gibbs, {"x0": bits(2, 3), "J": _J, "b": _b, "n_sweeps": 2}, draws=True,
    arrays={"x0": "nan str rank+ last list"}, sizes=("n_sweeps",), rng=True) + [
    Bad("x0:not binary", lambda: bz.boltzmann_gibbs(bits(2, 3) * 2, _J, _b, 2), ValueError, "x0")]
TABLE["numpy.boltzmann.init_rbm_params"] = init_cases(
    bz.init_rbm_params, {"visible_size": 4, "hidden_size": 3, "data": bits(5, 4)},
    ("visible_size", "hidden_size"), arrays={"data": "nan str last list int"})
TABLE["numpy.boltzmann.check_rbm_params"] = cases(
    bz.check_rbm_params, {"params": _rbm}, view="returns the arrays of ``params``",
    params={"params": ("W", "b_h")})
TABLE["numpy.boltzmann.rbm_hidden_probs"] = cases(
    bz.rbm_hidden_probs, {"v": bits(2, 4), "params": _rbm},
    arrays={"v": "nan inf str rank+ last B0 list int tensor"}, params={"params": ("W", "b_h")})
TABLE["numpy.boltzmann.rbm_visible_probs"] = cases(
    bz.rbm_visible_probs, {"h": bits(2, 3), "params": _rbm},
    arrays={"h": "nan inf str rank+ last B0 list int"}, params={"params": ("W", "b_v")})
TABLE["numpy.boltzmann.rbm_gibbs_step"] = cases(
    bz.rbm_gibbs_step, {"v": bits(2, 4), "params": _rbm}, draws=True, rng=True,
    arrays={"v": "nan inf str rank+ last B0 list"}, params={"params": ("W", "b_h")})
TABLE["numpy.boltzmann.rbm_forward"] = cases(
    bz.rbm_forward, {"v": bits(2, 4), "params": _rbm}, view=CACHE,
    arrays={"v": "nan inf str rank+ last B0 list int"}, params={"params": ("W", "b_h")})
TABLE["numpy.boltzmann.rbm_backward"] = cases(
    bz.rbm_backward, {"dF": rand(2), "cache": bz.rbm_forward(bits(2, 4), _rbm)[1]},
    arrays={"dF": "nan inf str rank+ batch list"})
TABLE["numpy.boltzmann.rbm_cd_gradients"] = cases(
    bz.rbm_cd_gradients, {"v": bits(2, 4), "params": _rbm, "k": 2}, draws=True, rng=True,
    arrays={"v": "nan str rank+ last B0 list"}, sizes=("k",), params={"params": ("W", "b_h")})
TABLE["numpy.boltzmann.rbm_log_partition"] = cases(
    bz.rbm_log_partition, {"params": _rbm}, params={"params": ("W", "b_v")})
TABLE["numpy.boltzmann.rbm_log_likelihood"] = cases(
    bz.rbm_log_likelihood, {"v": bits(2, 4), "params": _rbm},
    arrays={"v": "nan str rank+ last list"}, params={"params": ("W", "b_h")})
TABLE["numpy.boltzmann.train_rbm"] = cases(
    bz.train_rbm, {"data": bits(6, 4), "params": _rbm, "epochs": 2, "batch_size": 3},
    draws=True, rng=True, arrays={"data": "nan str rank+ last B0 list int"},
    sizes=("epochs", "k", "batch_size"), positive=("lr",), params={"params": ("W", "b_h")}) + [
    Bad("data:not binary", lambda: bz.train_rbm(bits(6, 4) * 3, _rbm), ValueError, "data"),
    Bad("momentum=-1", lambda: bz.train_rbm(bits(6, 4), copy.deepcopy(_rbm), momentum=-1.0),
        ValueError, "momentum"),
    Bad("momentum=str", lambda: bz.train_rbm(bits(6, 4), copy.deepcopy(_rbm), momentum="0.5"),
        TypeError, "momentum"),
]

# ------------------------------------------------------------------------------------------ bpe
_text = "the cat sat on the mat. the cat ate."
TABLE["numpy.bpe.merge_pair"] = cases(
    bpe.merge_pair, {"ids": np.array([1, 2, 1, 2, 3]), "pair": (1, 2), "new_id": 4},
    arrays={"ids": "str none"}) + [
    Bad("ids:2-d", lambda: bpe.merge_pair(np.array([[1, 2]]), (1, 2), 4), TypeError, "ids"),
    Accepted("ids:list", lambda: bpe.merge_pair([1, 2, 1, 2], (1, 2), 4), "a list of ints"),
    Bad("ids:float", lambda: bpe.merge_pair(np.array([1.0, 2.0]), (1, 2), 4), TypeError, "ids"),
    Bad("ids:negative", lambda: bpe.merge_pair(np.array([1, -2]), (1, 2), 4), ValueError, "ids"),
    Bad("pair:one id", lambda: bpe.merge_pair(np.array([1, 2]), (1,), 4), TypeError, "pair"),
    Bad("pair:str", lambda: bpe.merge_pair(np.array([1, 2]), "ab", 4), TypeError, "pair"),
    Bad("pair:float", lambda: bpe.merge_pair(np.array([1, 2]), (1.5, 2), 4), TypeError, "pair"),
    Bad("new_id:float", lambda: bpe.merge_pair(np.array([1, 2]), (1, 2), 4.0), TypeError, "new_id"),
    Bad("new_id:str", lambda: bpe.merge_pair(np.array([1, 2]), (1, 2), "4"), TypeError, "new_id"),
]
TABLE["numpy.bpe.BytePairEncoding"] = [
    Valid(bpe.BytePairEncoding, lambda: (["a", "b", "c"], [(0, 1), (3, 2)], [2, 2])),
    Bad("chars:empty", lambda: bpe.BytePairEncoding([], []), ValueError, "chars"),
    Bad("chars:not single", lambda: bpe.BytePairEncoding(["ab"], []), ValueError, "chars"),
    Bad("chars:repeated", lambda: bpe.BytePairEncoding(["a", "a"], []), ValueError, "chars"),
    Bad("chars:None", lambda: bpe.BytePairEncoding(None, []), TypeError, "chars"),
    Bad("merges:unknown id", lambda: bpe.BytePairEncoding(["a"], [(0, 5)]), ValueError, "merges"),
    Bad("merges:negative id", lambda: bpe.BytePairEncoding(["a"], [(0, -1)]), ValueError,
        "merges"),
    Bad("merges:not pairs", lambda: bpe.BytePairEncoding(["a"], [0]), TypeError, "merges"),
    Bad("merges:None", lambda: bpe.BytePairEncoding(["a"], None), TypeError, "merges"),
    Bad("counts:length", lambda: bpe.BytePairEncoding(["a"], [(0, 0)], [1, 2]), ValueError,
        "counts"),
    Bad("counts:str", lambda: bpe.BytePairEncoding(["a"], [(0, 0)], ["x"]), TypeError, "counts"),
    Bad("decode:negative", lambda: bpe.BytePairEncoding(["a"], []).decode([-1]), ValueError,
        "ids"),
    Bad("encode:unknown char", lambda: bpe.BytePairEncoding(["a"], []).encode("ab"), ValueError,
        "text"),
]
TABLE["numpy.bpe.learn_bpe"] = [
    Valid(bpe.learn_bpe, lambda: (_text, 5)),
    Accepted("num_merges=0", lambda: bpe.learn_bpe(_text, 0), "no merges: the characters"),
    Accepted("num_merges=np.int64", lambda: bpe.learn_bpe(_text, np.int64(2)), "NumPy ints"),
    Bad("text:bytes", lambda: bpe.learn_bpe(b"abcabc", 2), (ValueError, TypeError), "text"),
    Bad("text:list", lambda: bpe.learn_bpe(list(_text), 2), (ValueError, TypeError), "text"),
    Bad("text:short", lambda: bpe.learn_bpe("a", 2), ValueError, "text"),
    Bad("num_merges=-1", lambda: bpe.learn_bpe(_text, -1), ValueError, "num_merges"),
    Bad("num_merges=2.5", lambda: bpe.learn_bpe(_text, 2.5), ValueError, "num_merges"),
    Bad("num_merges=str", lambda: bpe.learn_bpe(_text, "2"), ValueError, "num_merges"),
]
TABLE["numpy.bpe.may_merge_before"] = [
    Valid(bpe.may_merge_before, lambda: (["a", " ", "1"],)),
    Accepted("a str", lambda: bpe.may_merge_before("ab ,"), "a str is a sequence of characters"),
    Bad("chars:ints", lambda: bpe.may_merge_before([1, 2]), TypeError, "chars"),
    Bad("chars:not single", lambda: bpe.may_merge_before(["ab"]), ValueError, "chars"),
    Bad("chars:None", lambda: bpe.may_merge_before(None), TypeError, "chars"),
]

# ------------------------------------------------------------------------------------- char_rnn
_cr = cr.init_char_rnn_params(5, 3, rng=0, scale=0.5)
_ids = np.array([[0, 1, 2, 3], [4, 3, 2, 1]])
_targets = np.array([[1, 2, 3, 4], [3, 2, 1, 0]])
_ids_bad = [
    ("float", lambda a: a.astype(float), TypeError), ("negative", lambda a: -a - 1, ValueError),
    ("too large", lambda a: a + 5, ValueError), ("rank+", lambda a: a[None], ValueError),
    ("T0", lambda a: a[:, :0], ValueError), ("str", lambda a: "abc", TypeError),
]


def _index_cases(fn, good, name):
    out = []
    for label, change, error in _ids_bad:
        kwargs = dict(copy.deepcopy(good), **{name: change(good[name])})
        out.append(Bad(f"{label}:{name}", lambda kw=kwargs: fn(**kw), error, name))
    return out


TABLE["numpy.char_rnn.init_char_rnn_params"] = init_cases(
    cr.init_char_rnn_params, {"vocab_size": 5, "hidden_size": 3},
    ("vocab_size", "hidden_size")) + [
    Accepted("scale=0", lambda: cr.init_char_rnn_params(5, 3, rng=0, scale=0.0),
             "zero weights: the uniform prediction"),
    Accepted("scale=float32", lambda: cr.init_char_rnn_params(5, 3, rng=0, scale=np.float32(0.1)),
             "NumPy scalars are numbers"),
    *[Bad(f"scale={v!r}", lambda v=v: cr.init_char_rnn_params(5, 3, scale=v), ValueError, "scale")
      for v in (-1.0, np.nan, np.inf)],
    Bad("scale=str", lambda: cr.init_char_rnn_params(5, 3, scale="0.1"), TypeError, "scale"),
]
# NaN parameters raise FloatingPointError ("training has diverged"), tested in test_char_rnn.py.
TABLE["numpy.char_rnn.check_char_rnn_params"] = cases(
    cr.check_char_rnn_params, {"params": _cr}, params={"params": ("W_xh", "b_y")},
    params_nan=False)
TABLE["numpy.char_rnn.check_char_indices"] = cases(
    cr.check_char_indices, {"name": "inputs", "indices": _ids, "vocab_size": 5},
    view="returns ``indices`` itself when it is already an array",
    sizes=("vocab_size",)) + _index_cases(
    cr.check_char_indices, {"name": "indices", "indices": _ids, "vocab_size": 5}, "indices") + [
    Bad("name:not a str", lambda: cr.check_char_indices(3, _ids, 5), TypeError, "name"),
    Bad("ndim:4", lambda: cr.check_char_indices("inputs", _ids, 5, ndim=(4,)), ValueError, "ndim"),
]
for _name, _good in (
        ("char_rnn_forward", {"inputs": _ids, "h0": rand(2, 3), "params": _cr}),
        ("char_rnn_states", {"inputs": _ids, "h0": rand(2, 3), "params": _cr}),
        ("char_rnn_loss", {"inputs": _ids, "targets": _targets, "params": _cr,
                           "h0": rand(2, 3)}),
        ("char_rnn_loss_and_gradients", {"inputs": _ids, "targets": _targets, "params": _cr,
                                         "h0": rand(2, 3)})):
    _fn = getattr(cr, _name)
    TABLE[f"numpy.char_rnn.{_name}"] = (
        cases(_fn, _good, arrays={"h0": "nan inf str rank+ last batch list"},
              params={"params": ("W_xh", "b_y")}, params_nan=False)
        + _index_cases(_fn, _good, "inputs")
        + (_index_cases(_fn, _good, "targets") + [
            Bad("targets:shape", lambda f=_fn, g=_good: f(**dict(g, targets=_targets[:, :3])),
                ValueError, "targets")] if "targets" in _good else [])
        + [Accepted("inputs:1-d", lambda f=_fn, g=_good: f(**dict(g, inputs=_ids[0], h0=None,
                                                                  **({"targets": _targets[0]}
                                                                     if "targets" in g else {}))),
                    "a single sequence (T,)"),
           Accepted("inputs:list", lambda f=_fn, g=_good: f(**dict(g, inputs=_ids.tolist())),
                    "a nested list of ints")])
TABLE["numpy.char_rnn.text_features"] = [
    Valid(cr.text_features, lambda: ("MACBETH.\nSo [aside] foul\n",)),
    Bad("text:empty", lambda: cr.text_features(""), (TypeError, ValueError), "text"),
    Bad("text:bytes", lambda: cr.text_features(b"ab"), TypeError, "text"),
    Bad("text:None", lambda: cr.text_features(None), TypeError, "text"),
]
TABLE["numpy.char_rnn.unit_correlations"] = cases(
    cr.unit_correlations, {"states": rand(6, 3), "features": rand(6, 2, seed=1)},
    arrays={"states": "nan inf str rank- rank+ B0 list int",
            "features": "nan inf str batch rank+ list int"})
TABLE["numpy.char_rnn.current_character_correlation"] = cases(
    cr.current_character_correlation,
    {"fit_ids": np.array([0, 1, 2, 1, 0]), "fit_feature": rand(5),
     "eval_ids": np.array([1, 0, 2, 2]), "eval_feature": rand(4, seed=1)},
    arrays={"fit_feature": "nan inf str batch list", "eval_feature": "nan inf str batch list"}) + [
    Bad("fit_ids:float", lambda: cr.current_character_correlation(
        np.array([0.0, 1.0]), rand(2), np.array([0, 1]), rand(2)), (TypeError, ValueError),
        "fit_ids"),
    Bad("eval_ids:negative", lambda: cr.current_character_correlation(
        np.array([0, 1]), rand(2), np.array([0, -1]), rand(2)), ValueError, "eval_ids"),
    Bad("fit_ids:empty", lambda: cr.current_character_correlation(
        np.array([], int), rand(0), np.array([0, 1]), rand(2)), ValueError, "fit_ids"),
    Bad("eval_ids:2-d", lambda: cr.current_character_correlation(
        np.array([0, 1]), rand(2), np.array([[0, 1]]), rand(1, 2)), ValueError, "eval_ids"),
]
TABLE["numpy.char_rnn.unigram_entropy"] = [
    Valid(cr.unigram_entropy, lambda: (np.array([0, 1, 1, 2]),), lambda: {"vocab_size": 4}),
    Accepted("list", lambda: cr.unigram_entropy([0, 1, 1]), "a list of ints"),
    Accepted("2-d", lambda: cr.unigram_entropy(_ids), "a batch (B, T) of indices"),
    Bad("indices:float", lambda: cr.unigram_entropy(np.array([0.5, 1.0])), TypeError, "indices"),
    Bad("indices:negative", lambda: cr.unigram_entropy(np.array([0, -1])), ValueError, "indices"),
    Bad("indices:empty", lambda: cr.unigram_entropy(np.array([], int)), ValueError, "indices"),
    Bad("indices:str", lambda: cr.unigram_entropy("abc"), TypeError, "indices"),
    Bad("vocab_size too small", lambda: cr.unigram_entropy(np.array([0, 4]), vocab_size=3),
        ValueError, "vocab_size"),
    Bad("vocab_size=0", lambda: cr.unigram_entropy(np.array([0, 1]), vocab_size=0), ValueError,
        "vocab_size"),
    Bad("vocab_size=2.5", lambda: cr.unigram_entropy(np.array([0, 1]), vocab_size=2.5),
        ValueError, "vocab_size"),
]

# --------------------------------------------------------------------------------------- common
TABLE["numpy.common.padding_mask"] = cases(
    cm.padding_mask, {"lengths": np.array([2, 3]), "T": 3, "batch_size": 2}, sizes=("T",)) + [
    Bad("lengths:0", lambda: cm.padding_mask(np.array([0, 3]), 3), ValueError, "lengths"),
    Bad("lengths:>T", lambda: cm.padding_mask(np.array([2, 4]), 3), ValueError, "lengths"),
    Bad("lengths:float", lambda: cm.padding_mask(np.array([2.0, 3.0]), 3), TypeError, "lengths"),
    Bad("lengths:2.5", lambda: cm.padding_mask([2.5, 3], 3), TypeError, "lengths"),
    Bad("lengths:2-d", lambda: cm.padding_mask(np.array([[2, 3]]), 3), ValueError, "lengths"),
    Bad("lengths:empty", lambda: cm.padding_mask(np.array([], int), 3), ValueError, "lengths"),
    Bad("lengths:str", lambda: cm.padding_mask("23", 3), (TypeError, ValueError), "lengths"),
    Bad("lengths:batch", lambda: cm.padding_mask(np.array([2, 3]), 3, batch_size=3), ValueError,
        "lengths"),
    Bad("batch_size=0", lambda: cm.padding_mask(np.array([2, 3]), 3, batch_size=0), ValueError,
        "batch_size"),
    Accepted("lengths:list", lambda: cm.padding_mask([1, 3], 3), "a list of ints"),
    Accepted("lengths:tensor", lambda: cm.padding_mask(torch.tensor([1, 3]), 3),
             "a torch integer tensor"),
]
TABLE["numpy.common.check_param_dict"] = [
    Valid(cm.check_param_dict, lambda: ({"W": np.zeros(2), "b": np.zeros(1)}, ("W", "b"))),
    Bad("params:missing", lambda: cm.check_param_dict({"W": 1}, ("W", "b")), ValueError,
        ("params", "'b'")),
    Bad("params:not a dict", lambda: cm.check_param_dict([1], ("W",)), TypeError, "params"),
    Bad("keys:str", lambda: cm.check_param_dict({"W": 1}, "W"), TypeError, "keys"),
]
TABLE["numpy.common.check_mask"] = cases(
    cm.check_mask, {"mask": np.ones((1, 3), bool), "shape": (2, 3)},
    view="returns ``mask`` itself when it is a bool array") + [
    Bad("mask:int", lambda: cm.check_mask(np.ones((2, 3), int), (2, 3)), TypeError, "mask"),
    Bad("mask:shape", lambda: cm.check_mask(np.ones((2, 4), bool), (2, 3)), ValueError, "mask"),
    Bad("mask:more dims", lambda: cm.check_mask(np.ones((1, 2, 3), bool), (2, 3)), ValueError,
        "mask"),
    Bad("mask:empty row", lambda: cm.check_mask(np.zeros((2, 3), bool), (2, 3)), ValueError,
        "mask"),
    Bad("mask:tensor", lambda: cm.check_mask(torch.ones(2, 3, dtype=torch.bool), (2, 3)),
        TypeError, "mask"),
    Bad("mask:str", lambda: cm.check_mask("abc", (2, 3)), TypeError, "mask"),
    Bad("name used", lambda: cm.check_mask(np.ones((2, 4), bool), (2, 3), name="key_mask"),
        ValueError, "key_mask"),
    Bad("shape:str", lambda: cm.check_mask(np.ones((2, 3), bool), "ab"), TypeError, "shape"),
    Accepted("mask:list", lambda: cm.check_mask([[True, False]], (2, 2)), "a nested list of bools"),
]
TABLE["numpy.common.initial_state"] = cases(
    cm.initial_state, {"name": "h0", "state": rand(2, 3), "B": 2, "H": 3, "dtype": np.float64},
    arrays={"state": "nan inf str rank+ rank- last batch list int"},
    aliases={"state": "h0"}) + [     # the message names the caller's argument, given as name
    Valid(cm.initial_state, lambda: ("h0", None, 2, 3, np.float32), label="valid:zeros"),
    Bad("name used", lambda: cm.initial_state("c0", rand(2, 4), 2, 3, np.float64), ValueError,
        "c0"),
    Bad("B=0", lambda: cm.initial_state("h0", None, 0, 3, np.float64), ValueError, "B"),
    Bad("H=-1", lambda: cm.initial_state("h0", None, 2, -1, np.float64), ValueError, "H"),
    Bad("dtype:int", lambda: cm.initial_state("h0", None, 2, 3, np.int64), TypeError, "dtype"),
]
_rnn = {"W_xh": rand(2, 3), "W_hh": rand(3, 3, seed=1), "b_h": rand(3, seed=2)}
TABLE["numpy.common.prepare_sequence"] = cases(
    cm.prepare_sequence, {"x": rand(2, 4, 2), "input_size": 2, "params": _rnn,
                          "lengths": np.array([4, 2])},
    view="returns ``x`` itself when it is already a float array",
    arrays={"x": "nan inf str rank- rank+ last B0 T0 list int f32"}, sizes=("input_size",)) + [
    Bad("lengths:>T", lambda: cm.prepare_sequence(rand(2, 4, 2), 2, _rnn, np.array([5, 2])),
        ValueError, "lengths"),
    Bad("lengths:batch", lambda: cm.prepare_sequence(rand(2, 4, 2), 2, _rnn, np.array([4, 2, 1])),
        ValueError, "lengths"),
    Bad("lengths:float", lambda: cm.prepare_sequence(rand(2, 4, 2), 2, _rnn, np.array([4.0, 2.5])),
        TypeError, "lengths"),
    Bad("params:not a dict", lambda: cm.prepare_sequence(rand(2, 4, 2), 2, [1], None), TypeError,
        "params"),
]
TABLE["numpy.common.check_step_shapes"] = [
    Valid(cm.check_step_shapes, lambda: (rand(2, 3), 3, 4), lambda: {"h_prev": rand(2, 4)}),
    Bad("x_t:last", lambda: cm.check_step_shapes(rand(2, 2), 3, 4, h_prev=rand(2, 4)), ValueError,
        "x_t"),
    Bad("x_t:rank", lambda: cm.check_step_shapes(rand(3), 3, 4, h_prev=rand(2, 4)), ValueError,
        "x_t"),
    Bad("x_t:list", lambda: cm.check_step_shapes([[1.0, 2.0, 3.0]], 3, 4, h_prev=rand(1, 4)),
        (TypeError, ValueError), "x_t"),
    Bad("h_prev:batch", lambda: cm.check_step_shapes(rand(2, 3), 3, 4, h_prev=rand(1, 4)),
        ValueError, "h_prev"),
    Bad("c_prev:size", lambda: cm.check_step_shapes(rand(2, 3), 3, 4, h_prev=rand(2, 4),
                                                    c_prev=rand(2, 5)), ValueError, "c_prev"),
]

# ---------------------------------------------------------------------------------------- ctrnn
_W2 = np.array([[1.5, 0.3], [-0.2, 1.2]])
_b2 = np.array([0.1, -0.1])
_ctrnn = {"W_hh": "nan inf str rank- last list int tensor", "b_h": "nan inf str last list",
          "tau": "nan inf str"}
_tau_bad = [("tau<=0", {"tau": -1.0}), ("tau=0", {"tau": np.array([1.0, 0.0])})]


def _tau_cases(fn, good):
    return [Bad(label, lambda kw=dict(good, **ch): fn(**kw), ValueError, "tau")
            for label, ch in _tau_bad]


def _activation_case(fn, good):
    return [Bad("activation", lambda: fn(**dict(good, activation="relu")), ValueError,
                "activation")]


TABLE["numpy.ctrnn.check_ctrnn_params"] = cases(
    ct.check_ctrnn_params, {"W_hh": _W2, "b_h": _b2, "tau": 1.0},
    view="returns the arrays themselves when they are float arrays",
    arrays=_ctrnn) + _tau_cases(ct.check_ctrnn_params, {"W_hh": _W2, "b_h": _b2, "tau": 1.0}) + [
    Bad("W_hh:not square", lambda: ct.check_ctrnn_params(rand(2, 3), 0.0, 1.0), ValueError, "W_hh")]
_g = {"a": rand(4, 2), "W_hh": _W2, "b_h": _b2, "tau": 1.0}
TABLE["numpy.ctrnn.ctrnn_derivative"] = cases(
    ct.ctrnn_derivative, _g, arrays={"a": "nan inf str last scalar list int f32 tensor", **_ctrnn}
) + _tau_cases(ct.ctrnn_derivative, _g) + _activation_case(ct.ctrnn_derivative, _g)
_g = {"a": rand(4, 2), "W_hh": _W2, "tau": 1.0}
TABLE["numpy.ctrnn.ctrnn_jacobian"] = cases(
    ct.ctrnn_jacobian, _g, arrays={"a": "nan inf str last rank+ scalar list int",
                                   "W_hh": _ctrnn["W_hh"]}
) + _tau_cases(ct.ctrnn_jacobian, _g) + _activation_case(ct.ctrnn_jacobian, _g)
_g = {"a": rand(4, 2), "v": rand(4, 2, seed=1), "W_hh": _W2, "tau": 1.0}
TABLE["numpy.ctrnn.ctrnn_tangent"] = cases(
    ct.ctrnn_tangent, _g, arrays={"a": "nan inf str last scalar list", "v": "nan inf str batch last",
                                  "W_hh": _ctrnn["W_hh"]}
) + _tau_cases(ct.ctrnn_tangent, _g) + _activation_case(ct.ctrnn_tangent, _g)
TABLE["numpy.ctrnn.integrate_ode"] = cases(
    ct.integrate_ode, {"f": np.negative, "a0": rand(3), "dt": 0.1, "steps": 3},
    sizes=("steps",), positive=("dt",), arrays={"a0": "nan inf str"}) + [
    Bad("method", lambda: ct.integrate_ode(np.negative, rand(3), 0.1, 3, method="rk5"),
        ValueError, "method"),
    Bad("f:not callable", lambda: ct.integrate_ode(3, rand(3), 0.1, 3), TypeError, "f"),
    Accepted("a0:tensor", lambda: ct.integrate_ode(torch.neg, torch.ones(3), 0.1, 3),
             "a torch tensor is integrated as a tensor (documented)"),
]
_g = {"a0": rand(2, 2), "W_hh": _W2, "b_h": _b2, "tau": 1.0, "dt": 0.1, "steps": 5}
TABLE["numpy.ctrnn.simulate_ctrnn"] = cases(
    ct.simulate_ctrnn, _g, arrays={"a0": "nan inf str last rank+ scalar list int f32", **_ctrnn},
    sizes=("steps",), positive=("dt",)) + _tau_cases(ct.simulate_ctrnn, _g) + \
    _activation_case(ct.simulate_ctrnn, _g) + [
    Bad("method", lambda: ct.simulate_ctrnn(rand(2), _W2, _b2, method="rk5"), ValueError, "method")]
_lyap = {"dt": 0.1, "steps": 20, "transient": 10}
_g = {"f": lambda a: -a, "tangent": lambda a, v: -v, "a0": rand(2), **_lyap,
      "renormalize_every": 5}
TABLE["numpy.ctrnn.largest_lyapunov_exponent"] = cases(
    ct.largest_lyapunov_exponent, _g, draws=True, rng=True, arrays={"a0": "nan inf str scalar list"},
    sizes=("steps", "renormalize_every"), positive=("dt",)) + [
    Bad("steps not a multiple", lambda: ct.largest_lyapunov_exponent(
        lambda a: -a, lambda a, v: -v, rand(2), steps=12, renormalize_every=5), ValueError, "steps"),
    Bad("transient=-1", lambda: ct.largest_lyapunov_exponent(
        lambda a: -a, lambda a, v: -v, rand(2), steps=10, transient=-1), ValueError, "transient"),
    Bad("transient=1.5", lambda: ct.largest_lyapunov_exponent(
        lambda a: -a, lambda a, v: -v, rand(2), steps=10, transient=1.5), ValueError, "transient"),
    Bad("f:not callable", lambda: ct.largest_lyapunov_exponent(None, lambda a, v: -v, rand(2)),
        TypeError, "f"),
    Bad("tangent:not callable", lambda: ct.largest_lyapunov_exponent(lambda a: -a, 1, rand(2)),
        TypeError, "tangent"),
    Bad("v0:zero", lambda: ct.largest_lyapunov_exponent(lambda a: -a, lambda a, v: -v, rand(2),
                                                        steps=10, v0=np.zeros(2)),
        ValueError, "v0"),
    Bad("v0:shape", lambda: ct.largest_lyapunov_exponent(lambda a: -a, lambda a, v: -v, rand(2),
                                                         steps=10, v0=np.ones(3)),
        ValueError, "v0"),
    Bad("v0:nan", lambda: ct.largest_lyapunov_exponent(lambda a: -a, lambda a, v: -v, rand(2),
                                                       steps=10, v0=np.array([np.nan, 1.0])),
        ValueError, "v0"),
]
_g = {"a0": rand(2), "W_hh": _W2, "b_h": _b2, "tau": 1.0, **_lyap}
TABLE["numpy.ctrnn.ctrnn_lyapunov_exponent"] = cases(
    ct.ctrnn_lyapunov_exponent, _g, draws=True, rng=True,
    arrays={"a0": "nan inf str last scalar list", **_ctrnn}, sizes=("steps",),
    positive=("dt",)) + _tau_cases(ct.ctrnn_lyapunov_exponent, _g) + \
    _activation_case(ct.ctrnn_lyapunov_exponent, _g)


def _family(value):
    return np.array([[value, 0.5], [0.5, value]]), np.zeros(2)


_g = {"family": _family, "values": np.array([0.5, 1.5]), "a0": rand(2), **_lyap}
TABLE["numpy.ctrnn.scan_lyapunov_exponents"] = cases(
    ct.scan_lyapunov_exponents, _g, draws=True, rng=True,
    arrays={"values": "nan inf str rank+ B0 list", "a0": "nan inf str last scalar"},
    sizes=("steps",), positive=("dt",)) + _activation_case(ct.scan_lyapunov_exponents, _g) + [
    Bad("family:not callable", lambda: ct.scan_lyapunov_exponents(3, [1.0], rand(2)), TypeError,
        "family"),
    Bad("family:returns nan", lambda: ct.scan_lyapunov_exponents(
        lambda v: (np.full((2, 2), np.nan), 0.0), [1.0], rand(2), steps=10), ValueError, "family"),
    Bad("family:sizes differ", lambda: ct.scan_lyapunov_exponents(
        lambda v: (np.eye(2 if v < 1 else 3), 0.0), [0.5, 1.5], rand(2), steps=10), ValueError,
        "family"),
]
_g = {"W_hh": _W2, "b_h": _b2, "tau": 1.0, "grid_size": 4}
TABLE["numpy.ctrnn.find_fixed_points"] = cases(
    ct.find_fixed_points, _g, arrays=_ctrnn, sizes=("grid_size", "max_iter"),
    positive=("tol", "merge_radius"), rng=True) + \
    _tau_cases(ct.find_fixed_points, _g) + _activation_case(ct.find_fixed_points, _g) + [
    Valid(ct.find_fixed_points, lambda: (rand(4, 4, scale=0.8), np.zeros(4)),
          lambda: {"grid_size": 2, "max_iter": 20}, draws_random=True, label="valid:random starts"),
    Bad("starts:last", lambda: ct.find_fixed_points(_W2, _b2, starts=rand(3, 3)), ValueError,
        "starts"),
    Bad("starts:nan", lambda: ct.find_fixed_points(_W2, _b2, starts=_poison(rand(3, 2), np.nan)),
        ValueError, "starts"),
    Bad("starts:empty", lambda: ct.find_fixed_points(_W2, _b2, starts=np.zeros((0, 2))),
        ValueError, "starts"),
]
TABLE["numpy.ctrnn.classify_fixed_points"] = cases(
    ct.classify_fixed_points, {"eigenvalues": np.array([[-1.0, -2.0], [1.0, -1.0], [1.0, 2.0]])},
    arrays={"eigenvalues": "nan inf str rank- rank+ list int"}) + [
    Accepted("complex", lambda: ct.classify_fixed_points(np.array([[-1 + 1j, -1 - 1j]])),
             "complex eigenvalues", finite=False),
    Accepted("no points", lambda: ct.classify_fixed_points(np.empty((0, 2), complex)),
             "no fixed point found", finite=False),
    Bad("tol=-1", lambda: ct.classify_fixed_points(np.array([[-1.0]]), tol=-1), ValueError, "tol"),
    Bad("tol=str", lambda: ct.classify_fixed_points(np.array([[-1.0]]), tol="0.1"),
        (ValueError, TypeError), "tol"),
    Bad("tol=nan", lambda: ct.classify_fixed_points(np.array([[-1.0]]), tol=np.nan), ValueError,
        "tol"),
]
TABLE["numpy.ctrnn.fixed_point_census"] = [
    # a list: the harness compares arrays with equal_nan, which str arrays do not support
    Valid(ct.fixed_point_census, lambda: (["stable", "saddle", "stable"],)),
    Accepted("str array", lambda: ct.fixed_point_census(np.array(["stable"])), "an array of kinds",
             finite=False),
    Accepted("list", lambda: ct.fixed_point_census(["source"]), "a list of kinds", finite=False),
    Accepted("empty", lambda: ct.fixed_point_census([]), "no fixed point: an empty census",
             finite=False),
    Bad("kinds:unknown", lambda: ct.fixed_point_census(["stabel"]), ValueError, "kinds"),
    Bad("kinds:numbers", lambda: ct.fixed_point_census([1, 2]), ValueError, "kinds"),
    Bad("kinds:None", lambda: ct.fixed_point_census(None), (ValueError, TypeError), "kinds"),
]
_g = {"family": _family, "values": np.array([0.5, 1.5]), "grid_size": 5}
TABLE["numpy.ctrnn.scan_fixed_points"] = cases(
    ct.scan_fixed_points, _g, arrays={"values": "nan inf str rank+ B0 list int"}
) + _activation_case(ct.scan_fixed_points, _g) + [
    Bad("family:not callable", lambda: ct.scan_fixed_points(None, [1.0]), TypeError, "family"),
    Bad("family:wrong return", lambda: ct.scan_fixed_points(lambda v: 3, [1.0]), TypeError,
        "family"),
    Bad("family:nan", lambda: ct.scan_fixed_points(lambda v: (np.full((2, 2), np.nan), 0.0),
                                                   [1.0]), ValueError, "family"),
    Bad("options:unknown", lambda: ct.scan_fixed_points(_family, [1.0], grid=3), TypeError,
        "grid"),
    Bad("tau=-1", lambda: ct.scan_fixed_points(_family, [1.0], tau=-1.0), ValueError, "tau"),
]
_g = {"family": _family, "values": np.array([0.5, 1.5]), "tol": 0.1, "grid_size": 5}
TABLE["numpy.ctrnn.locate_bifurcations"] = cases(
    ct.locate_bifurcations, _g, arrays={"values": "nan inf str rank+ B0 list"},
    positive=("tol",)) + _activation_case(ct.locate_bifurcations, _g) + [
    Bad("family:not callable", lambda: ct.locate_bifurcations(None, [1.0]), TypeError, "family"),
]
TABLE["numpy.ctrnn.attractor_labels"] = cases(
    ct.attractor_labels, {"final_states": rand(4, 2), "attractors": rand(2, 2, seed=1),
                          "radius": 0.5},
    arrays={"final_states": "nan inf str rank- rank+ last B0 list int",
            "attractors": "nan inf str rank- last list"}, positive=("radius",)) + [
    Accepted("no attractors", lambda: ct.attractor_labels(rand(4, 2), np.empty((0, 2))),
             "every state unlabelled (−1)")]
_g = {"W_hh": _W2, "b_h": _b2, "resolution": 4, "steps": 5, "dt": 0.2}
TABLE["numpy.ctrnn.basins_of_attraction"] = cases(
    ct.basins_of_attraction, _g, arrays=_ctrnn, sizes=("resolution", "steps"),
    positive=("dt", "radius")) + _tau_cases(ct.basins_of_attraction, _g) + \
    _activation_case(ct.basins_of_attraction, _g) + [
    Bad("W_hh:3 units", lambda: ct.basins_of_attraction(np.eye(3), 0.0, resolution=3), ValueError,
        "W_hh"),
    Bad("xlim:reversed", lambda: ct.basins_of_attraction(_W2, _b2, xlim=(1.0, -1.0), resolution=3),
        ValueError, "xlim"),
    Bad("xlim:one number", lambda: ct.basins_of_attraction(_W2, _b2, xlim=1.0, resolution=3),
        (ValueError, TypeError), "xlim"),
    Bad("ylim:nan", lambda: ct.basins_of_attraction(_W2, _b2, ylim=(np.nan, 1.0), resolution=3),
        ValueError, "ylim"),
]
TABLE["numpy.ctrnn.FixedPoints"] = [
    Valid(ct.FixedPoints, lambda: ([[0.0, 0.0]], [[-1.0, -1.0]], [True])),
    Bad("missing field", lambda: ct.FixedPoints([[0.0]], [[-1.0]]), TypeError, "stable")]
TABLE["numpy.ctrnn.FixedPointScan"] = [
    Valid(ct.FixedPointScan, lambda: ([1.0], [[0.0, 0.0]], [[-1.0, -1.0]], ["stable"])),
    Bad("missing field", lambda: ct.FixedPointScan([1.0], [[0.0]], [[-1.0]]), TypeError, "kind")]
TABLE["numpy.ctrnn.Bifurcation"] = [
    Valid(ct.Bifurcation, lambda: (1.0, {"stable": 1}, {"stable": 2, "saddle": 1})),
    Bad("missing field", lambda: ct.Bifurcation(1.0, {}), TypeError, "after")]
TABLE["numpy.ctrnn.LyapunovEstimate"] = [
    Valid(ct.LyapunovEstimate, lambda: (-1.0, [0.5, 1.0], [-0.9, -1.0])),
    Bad("missing field", lambda: ct.LyapunovEstimate(-1.0, [0.5]), TypeError, "running")]

# -------------------------------------------------------------------------- efficient_attention
_qkv = {"q": rand(2, 3, 4), "k": rand(2, 5, 4, seed=1), "v": rand(2, 5, 2, seed=2)}
_qkv_arrays = {"q": "nan inf str last batch list int f32 tensor", "k": "nan inf str last batch",
               "v": "nan inf str batch rank-"}
_U = ea.random_feature_matrix(6, 4, rng=0)

TABLE["numpy.efficient_attention.elu_feature_map"] = cases(
    ea.elu_feature_map, {"x": rand(2, 3)}, arrays={"x": "nan inf str B0 list int f32 tensor"})
TABLE["numpy.efficient_attention.random_feature_matrix"] = init_cases(
    ea.random_feature_matrix, {"num_features": 6, "d": 4}, ("num_features", "d"))
TABLE["numpy.efficient_attention.positive_random_features"] = cases(
    ea.positive_random_features, {"x": rand(2, 3, 4), "U": _U},
    arrays={"x": "nan inf str last scalar list int", "U": "nan inf str last rank- rank+ list"})
TABLE["numpy.efficient_attention.linear_attention_forward"] = cases(
    ea.linear_attention_forward, dict(_qkv, features=_U), view=CACHE, arrays=_qkv_arrays) + [
    Valid(ea.linear_attention_forward, lambda: (rand(2, 5, 4), rand(2, 5, 4, seed=1),
                                                rand(2, 5, 3, seed=2)),
          lambda: {"causal": True}, returns_view=CACHE, label="valid:causal"),
    Bad("causal:Tq != Tk", lambda: ea.linear_attention_forward(**_qkv, causal=True), ValueError,
        "k"),
    Bad("features:last", lambda: ea.linear_attention_forward(**_qkv, features=rand(6, 3)),
        ValueError, "features"),
    Bad("features:nan", lambda: ea.linear_attention_forward(
        **_qkv, features=_poison(_U, np.nan)), ValueError, "features"),
    Bad("eps=-1", lambda: ea.linear_attention_forward(**_qkv, eps=-1.0), ValueError, "eps"),
    Bad("eps=str", lambda: ea.linear_attention_forward(**_qkv, eps="0.1"), (ValueError, TypeError),
        "eps"),
    Bad("eps=nan", lambda: ea.linear_attention_forward(**_qkv, eps=np.nan), ValueError, "eps"),
    Bad("eps=inf", lambda: ea.linear_attention_forward(**_qkv, eps=np.inf), ValueError, "eps"),
    Bad("causal=str", lambda: ea.linear_attention_forward(**_qkv, causal="no"), TypeError,
        "causal"),
]
TABLE["numpy.efficient_attention.linear_attention_backward"] = cases(
    ea.linear_attention_backward,
    {"dout": rand(2, 3, 2, seed=3), "cache": ea.linear_attention_forward(**_qkv)[1]},
    arrays={"dout": "nan inf str rank+ last batch list"}) + [
    Valid(ea.linear_attention_backward,
          lambda: (rand(2, 5, 3), ea.linear_attention_forward(
              rand(2, 5, 4), rand(2, 5, 4, seed=1), rand(2, 5, 3, seed=2), causal=True,
              features=_U)[1]), label="valid:causal, random features")]
_step = {"q_t": rand(2, 4), "k_t": rand(2, 4, seed=1), "v_t": rand(2, 3, seed=2)}
TABLE["numpy.efficient_attention.linear_attention_step"] = cases(
    ea.linear_attention_step,
    dict(_step, state=(np.abs(rand(2, 4, 3, seed=3)), np.abs(rand(2, 4, seed=4)))),
    arrays={"q_t": "nan inf str list int", "k_t": "nan inf str last batch",
            "v_t": "nan inf str batch"}) + [
    Bad("state:not a pair", lambda: ea.linear_attention_step(**_step, state=rand(2, 4)),
        TypeError, "state"),
    Bad("state:S shape", lambda: ea.linear_attention_step(**_step, state=(rand(2, 4, 2),
                                                                          rand(2, 4))),
        ValueError, "state"),
    Bad("state:nan", lambda: ea.linear_attention_step(
        **_step, state=(_poison(rand(2, 4, 3), np.nan), rand(2, 4))), ValueError, "state"),
    Bad("features:last", lambda: ea.linear_attention_step(**_step, features=rand(6, 3)),
        ValueError, "features"),
    Bad("eps=-1", lambda: ea.linear_attention_step(**_step, eps=-1), ValueError, "eps"),
]
TABLE["numpy.efficient_attention.tiled_attention_forward"] = cases(
    ea.tiled_attention_forward, dict(_qkv, mask=np.ones((3, 5), bool), tile_size=2), view=CACHE,
    arrays=_qkv_arrays, sizes=("tile_size",), positive=("scale",)) + [
    Bad("mask:shape", lambda: ea.tiled_attention_forward(**_qkv, mask=np.ones((3, 4), bool)),
        ValueError, "mask"),
    Bad("mask:int", lambda: ea.tiled_attention_forward(**_qkv, mask=np.ones((3, 5))), TypeError,
        "mask"),
]
TABLE["numpy.efficient_attention.tiled_attention_backward"] = cases(
    ea.tiled_attention_backward,
    {"dout": rand(2, 3, 2, seed=3), "cache": ea.tiled_attention_forward(**_qkv, tile_size=2)[1]},
    arrays={"dout": "nan inf str rank+ last batch list"})

# ------------------------------------------------------------------------------------- forecast
_fc = fc.init_rnn_forecaster_params(3, rng=0)
_series = np.abs(rand(20)) + 1.0
TABLE["numpy.forecast.init_rnn_forecaster_params"] = init_cases(
    fc.init_rnn_forecaster_params, {"hidden_size": 3}, ("hidden_size",))
TABLE["numpy.forecast.rnn_forecaster_forward"] = cases(
    fc.rnn_forecaster_forward, {"x": rand(2, 4, 1), "params": _fc},
    arrays={"x": "nan inf str rank- rank+ last+ B0 T0 list int f32 tensor"},
    params={"params": ("W_xh", "b_y")})
for _name in ("MinMaxScaler", "StandardScaler"):
    _cls = getattr(fc, _name)
    TABLE[f"numpy.forecast.{_name}"] = [
        Valid(_cls),
        Bad("fit:nan", lambda c=_cls: c().fit([1.0, np.nan]), ValueError, "train"),
        Bad("fit:constant", lambda c=_cls: c().fit([2.0, 2.0]), ValueError, "train"),
        Bad("fit:empty", lambda c=_cls: c().fit([]), ValueError, "train"),
        Bad("fit:str", lambda c=_cls: c().fit("abc"), TypeError, "train"),
        # transform before fit raises RuntimeError (tests/test_forecast.py), not in this table
        Bad("transform:nan", lambda c=_cls: c().fit([1.0, 2.0]).transform([np.nan]), ValueError,
            "values"),
        Bad("transform:str", lambda c=_cls: c().fit([1.0, 2.0]).transform("a"), TypeError,
            "values"),
        Bad("inverse_transform:inf", lambda c=_cls: c().fit([1.0, 2.0]).inverse_transform(
            [np.inf]), ValueError, "values"),
        Bad("constructor arguments", lambda c=_cls: c(1.0), TypeError, "takes no arguments"),
        Accepted("fit:tensor", lambda c=_cls: c().fit(torch.tensor([1.0, 3.0])).transform([2.0]),
                 "a torch tensor is converted"),
        Accepted("transform:view", lambda c=_cls: c().fit([1.0, 3.0]).transform(np.arange(3.0)),
                 "a new array"),
    ]
TABLE["numpy.forecast.relative_to_level"] = cases(
    fc.relative_to_level, {"x": np.abs(rand(3, 4, 1)) + 1.0, "t": rand(3, seed=1)},
    arrays={"x": "nan inf str rank- last+ B0 list int", "t": "nan inf str batch rank+ list"}) + [
    Bad("x:mean 0", lambda: fc.relative_to_level(np.zeros((2, 3, 1))), ValueError, "x")]
TABLE["numpy.forecast.from_level"] = cases(
    fc.from_level, {"relative": rand(3), "level": np.abs(rand(3, seed=1)) + 1.0},
    arrays={"relative": "nan inf str B0 list", "level": "nan inf str batch rank+ list"}) + [
    Accepted("level:scalar", lambda: fc.from_level(rand(3), 2.0), "one level for all")]
TABLE["numpy.forecast.naive_last_value"] = cases(
    fc.naive_last_value, {"series": _series, "start": 10},
    arrays={"series": "nan inf str rank+ list int"}) + [
    Bad("start=0", lambda: fc.naive_last_value(_series, 0), ValueError, "start"),
    Bad("start=len", lambda: fc.naive_last_value(_series, 20), ValueError, "start"),
    Bad("start=2.5", lambda: fc.naive_last_value(_series, 2.5), TypeError, "start"),
    Bad("start=str", lambda: fc.naive_last_value(_series, "3"), TypeError, "start"),
]
TABLE["numpy.forecast.naive_seasonal"] = cases(
    fc.naive_seasonal, {"series": _series, "start": 10, "season": 4},
    arrays={"series": "nan inf str rank+ list"}, sizes=("season",)) + [
    Bad("start<season", lambda: fc.naive_seasonal(_series, 3, season=4), ValueError, "start"),
    Bad("start=-1", lambda: fc.naive_seasonal(_series, -1, season=4), ValueError, "start"),
]
TABLE["numpy.forecast.rmse"] = cases(
    fc.rmse, {"prediction": rand(5), "target": rand(5, seed=1)},
    arrays={"prediction": "nan inf str B0 list int f32 tensor",
            "target": "nan inf str batch rank+ list"})

# -------------------------------------------------------------------------------- gradient_flow
_gf = {"W_xh": rand(2, 3, scale=0.5), "W_hh": rand(3, 3, seed=1, scale=0.5),
       "b_h": rand(3, seed=2, scale=0.1)}
_gfx = {"x": rand(2, 4, 2), "h0": rand(2, 3, seed=3), "params": _gf}
_gfx_arrays = {"x": "nan inf str rank- rank+ last B0 T0 list int f32 tensor",
               "h0": "nan inf str last batch rank- list"}


def _nonlinearity_case(fn, good):
    return [Bad("nonlinearity", lambda: fn(**dict(good, nonlinearity="gelu")), ValueError,
                "nonlinearity"),
            Accepted("nonlinearity=relu", lambda: fn(**dict(good, nonlinearity="relu")),
                     "relu is one of NONLINEARITIES"),
            Accepted("h0=None", lambda: fn(**dict(good, h0=None)), "zeros")]


for _name in ("rnn_states", "state_jacobians", "backward_jacobian_products",
              "gradient_norms_through_time", "input_jacobians", "input_sensitivity",
              "first_input_effect"):
    _fn = getattr(gf, _name)
    TABLE[f"numpy.gradient_flow.{_name}"] = cases(
        _fn, _gfx, arrays=_gfx_arrays, params={"params": ("W_xh", "b_h")}) + \
        _nonlinearity_case(_fn, _gfx)
TABLE["numpy.gradient_flow.jacobians_from_states"] = cases(
    gf.jacobians_from_states, {"h": np.tanh(rand(2, 4, 3)), "W_hh": _gf["W_hh"]},
    arrays={"h": "nan inf str rank- rank+ last B0 list int", "W_hh": "nan inf str last rank- list"}
) + [Bad("nonlinearity", lambda: gf.jacobians_from_states(rand(2, 4, 3), _gf["W_hh"], "sigmoid"),
         ValueError, "nonlinearity")]
TABLE["numpy.gradient_flow.jacobian_products"] = cases(
    gf.jacobian_products, {"jacobians": rand(2, 3, 2, 2)},
    arrays={"jacobians": "nan inf str rank- rank+ last B0 list int f32"})
TABLE["numpy.gradient_flow.linear_power_norms"] = cases(
    gf.linear_power_norms, {"W": rand(3, 3, scale=0.5), "v": rand(3, seed=1), "steps": 4},
    arrays={"W": "nan inf str last rank- list int", "v": "nan inf str last rank+ list int"},
    sizes=("steps",))
TABLE["numpy.gradient_flow.one_unit_rnn_loss"] = cases(
    gf.one_unit_rnn_loss, {"w": np.linspace(-2, 2, 5), "b": 0.1, "h0": 0.5, "steps": 5,
                           "target": 0.6},
    arrays={"w": "nan inf str list int"}, sizes=("steps",)) + [
    Bad("b:nan", lambda: gf.one_unit_rnn_loss(1.0, np.nan), ValueError, "b"),
    Bad("b:str", lambda: gf.one_unit_rnn_loss(1.0, "0.1"), TypeError, "b"),
    Bad("w,b:shapes", lambda: gf.one_unit_rnn_loss(np.ones(3), np.ones(2)), ValueError, "b"),
    Bad("h0:nan", lambda: gf.one_unit_rnn_loss(1.0, 0.0, h0=np.nan), ValueError, "h0"),
    Bad("h0:str", lambda: gf.one_unit_rnn_loss(1.0, 0.0, h0="0.5"), (ValueError, TypeError), "h0"),
    Bad("target:inf", lambda: gf.one_unit_rnn_loss(1.0, 0.0, target=np.inf), ValueError,
        "target"),
]
TABLE["numpy.gradient_flow.spectral_radius"] = cases(
    gf.spectral_radius, {"W": rand(3, 3)}, arrays={"W": "nan inf str last rank- rank+ list int"})
TABLE["numpy.gradient_flow.scaled_to_spectral_radius"] = cases(
    gf.scaled_to_spectral_radius, {"W": rand(3, 3), "rho": 0.9},
    arrays={"W": "nan inf str last rank- list int"}) + [
    Bad("rho=-1", lambda: gf.scaled_to_spectral_radius(rand(3, 3), -1.0), ValueError, "rho"),
    Bad("rho=nan", lambda: gf.scaled_to_spectral_radius(rand(3, 3), np.nan), ValueError, "rho"),
    Bad("rho=str", lambda: gf.scaled_to_spectral_radius(rand(3, 3), "0.9"),
        (ValueError, TypeError), "rho"),
    Bad("W:zero", lambda: gf.scaled_to_spectral_radius(np.zeros((3, 3)), 0.9), ValueError, "W"),
    Accepted("rho=float32", lambda: gf.scaled_to_spectral_radius(rand(3, 3), np.float32(0.9)),
             "NumPy scalars are numbers"),
]
TABLE["numpy.gradient_flow.orthogonal_matrix"] = init_cases(
    gf.orthogonal_matrix, {"n": 3, "gain": 1.0}, ("n",)) + [
    Bad("gain=nan", lambda: gf.orthogonal_matrix(3, gain=np.nan), ValueError, "gain"),
    Bad("gain=str", lambda: gf.orthogonal_matrix(3, gain="1"), (ValueError, TypeError), "gain")]
TABLE["numpy.gradient_flow.init_irnn_params"] = init_cases(
    gf.init_irnn_params, {"input_size": 2, "hidden_size": 3}, ("input_size", "hidden_size")) + [
    Bad("gain=inf", lambda: gf.init_irnn_params(2, 3, gain=np.inf), ValueError, "gain"),
    Bad("gain=str", lambda: gf.init_irnn_params(2, 3, gain="1"), (ValueError, TypeError), "gain"),
    Bad("input_scale=-1", lambda: gf.init_irnn_params(2, 3, input_scale=-1.0), ValueError,
        "input_scale"),
    Bad("input_scale=str", lambda: gf.init_irnn_params(2, 3, input_scale="0.1"),
        (ValueError, TypeError), "input_scale"),
]

# ------------------------------------------------------------------------------------------ gru
_gru = gru.init_gru_params(2, 3, rng=0)
_gru_keys = ("W_x", "b_h")
_gx = {"x": rand(2, 4, 2), "h0": rand(2, 3, seed=1), "params": _gru, "lengths": np.array([4, 2])}
TABLE["numpy.gru.init_gru_params"] = init_cases(
    gru.init_gru_params, {"input_size": 2, "hidden_size": 3}, ("input_size", "hidden_size"))
TABLE["numpy.gru.check_gru_params"] = cases(
    gru.check_gru_params, {"params": _gru}, view="holds the arrays of ``params`` themselves",
    params={"params": _gru_keys}) + [
    Bad("W_h:not (H, 3H)", lambda: gru.check_gru_params(dict(_gru, W_h=rand(3, 3))), ValueError,
        "params['W_h']")]
TABLE["numpy.gru.gru_forward"] = cases(
    gru.gru_forward, _gx, view=CACHE,
    arrays={"x": "nan inf str rank- rank+ last B0 T0 list int f32 tensor grad",
            "h0": "nan inf str last batch rank- list"},
    params={"params": _gru_keys}) + [
    Bad("lengths:>T", lambda: gru.gru_forward(rand(2, 4, 2), None, _gru, lengths=np.array([5, 2])),
        ValueError, "lengths"),
    Bad("lengths:0", lambda: gru.gru_forward(rand(2, 4, 2), None, _gru, lengths=np.array([0, 2])),
        ValueError, "lengths"),
    Bad("lengths:float", lambda: gru.gru_forward(rand(2, 4, 2), None, _gru, lengths=[2.5, 2.0]),
        TypeError, "lengths"),
    Bad("lengths:batch", lambda: gru.gru_forward(rand(2, 4, 2), None, _gru, lengths=[4]),
        ValueError, "lengths"),
    Valid(gru.gru_forward, lambda: (rand(2, 3, 2), None, _gru), lambda: {"return_gates": True},
          returns_view=CACHE, label="valid:gates"),
]
TABLE["numpy.gru.gru_backward"] = cases(
    gru.gru_backward, {"dh": rand(2, 4, 3, seed=5), "cache": gru.gru_forward(**_gx)[1]},
    arrays={"dh": "nan inf str rank- last batch list"})
_gs = {"x_t": rand(2, 2), "h_prev": rand(2, 3, seed=1), "params": _gru}
TABLE["numpy.gru.gru_step"] = cases(
    gru.gru_step, _gs, view=CACHE, arrays={"x_t": "strv rank- rank+ last",
                                           "h_prev": "strv rank- last batch"})
TABLE["numpy.gru.gru_step_backward"] = cases(
    gru.gru_step_backward, {"dh_t": rand(2, 3, seed=2), "cache": gru.gru_step(**_gs)[1],
                            "params": _gru},
    arrays={"dh_t": "strv rank- last batch"})
TABLE["numpy.gru.gru_step_with_gates"] = cases(
    gru.gru_step_with_gates, dict(_gs, r=1.0, u=0.0),
    arrays={"x_t": "nan inf str rank- last list int", "h_prev": "nan inf str last batch list"},
    params={"params": _gru_keys}) + [
    Bad("r:nan", lambda: gru.gru_step_with_gates(**_gs, r=np.nan), ValueError, "r"),
    Bad("u:shape", lambda: gru.gru_step_with_gates(**_gs, u=np.ones(4)), ValueError, "u"),
    Bad("u:str", lambda: gru.gru_step_with_gates(**_gs, u="1"), TypeError, "u"),
]

# ------------------------------------------------------------------------------------- hopfield
_P = signs(3, 8)
_Wh = hf.hebbian_weights(_P)
_classic = {"W": "nan inf str last rank- list int", "b": "nan inf str last list"}
TABLE["numpy.hopfield.check_beta"] = [
    Valid(hf.check_beta, lambda: (2.0,)),
    Accepted("beta=float32", lambda: hf.check_beta(np.float32(2.0)), "NumPy scalars"),
    Accepted("beta=int", lambda: hf.check_beta(3), "an int"),
    *[Bad(f"beta={v!r}", lambda v=v: hf.check_beta(v), ValueError, "beta")
      for v in (0, -1.0, np.nan, np.inf)],
    Bad("beta=str", lambda: hf.check_beta("2"), TypeError, "beta"),
    Bad("beta=True", lambda: hf.check_beta(True), TypeError, "beta"),
    Bad("beta=array", lambda: hf.check_beta(np.ones(2)), TypeError, "beta"),
]
for _name in ("hebbian_weights", "pseudo_inverse_weights"):
    TABLE[f"numpy.hopfield.{_name}"] = cases(
        getattr(hf, _name), {"patterns": _P, "zero_diagonal": False},
        arrays={"patterns": "nan inf str rank- rank+ B0 list int tensor"}) + [
        Bad("patterns:not ±1", lambda f=getattr(hf, _name): f(_P * 0.5), ValueError, "patterns"),
        Bad("zero_diagonal=str", lambda f=getattr(hf, _name): f(_P, zero_diagonal="no"), TypeError,
            "zero_diagonal"),
    ]
for _name, _extra in (("classic_energy", {}), ("classic_step", {}),
                      ("classic_async_sweep", {"return_energies": True}),
                      ("classic_retrieve", {"max_sweeps": 3}),
                      ("fast_classic_retrieve", {"max_sweeps": 3})):
    _fn = getattr(hf, _name)
    _random = "rng" in _fn.__code__.co_varnames
    _g = dict({"xi": _P[:2] * signs(2, 8, seed=1), "W": _Wh, "b": np.zeros(8)}, **_extra)
    TABLE[f"numpy.hopfield.{_name}"] = cases(
        _fn, _g, draws=_random, rng=_random,
        arrays={"xi": "nan inf str rank+ last B0 list int tensor", **_classic},
        sizes=("max_sweeps",) if "max_sweeps" in _extra else ()) + [
        Bad("xi:not ±1", lambda f=_fn: f(_P * 0.5, _Wh), ValueError, "xi"),
        Bad("W:not symmetric", lambda f=_fn: f(_P, np.triu(_Wh)), ValueError, "W"),
        Accepted("xi:one state", lambda f=_fn: f(_P[0], _Wh), "a single state (d,)"),
    ]
TABLE["numpy.hopfield.classic_async_sweep"] += [
    Bad("order:not a permutation", lambda: hf.classic_async_sweep(_P, _Wh, order=[0] * 8),
        ValueError, "order"),
    Bad("order:float", lambda: hf.classic_async_sweep(_P, _Wh, order=np.arange(8) + 0.5),
        ValueError, "order"),
    Valid(hf.classic_async_sweep, lambda: (_P, _Wh), lambda: {"order": np.arange(8)},
          label="valid:order"),
]
TABLE["numpy.hopfield.classic_retrieve"] += [
    Bad("mode", lambda: hf.classic_retrieve(_P, _Wh, mode="parallel"), ValueError, "mode"),
    Valid(hf.classic_retrieve, lambda: (_P, _Wh), lambda: {"mode": "sync"}, label="valid:sync"),
]
TABLE["numpy.hopfield.bit_error"] = cases(
    hf.bit_error, {"states": _P[:2] * signs(2, 8, seed=1), "patterns": _P[:2]},
    arrays={"states": "nan inf str rank- rank+ B0 list int", "patterns": "nan inf str batch last"})
TABLE["numpy.hopfield.recall_error"] = cases(
    hf.recall_error, {"N": 3, "d": 16, "seed": None, "max_sweeps": 5}, draws=True,
    sizes=("N", "d", "max_sweeps")) + [
    Accepted("seed=0", lambda: hf.recall_error(3, 16, 0), "an int seed"),
    Bad("seed=-1", lambda: hf.recall_error(3, 16, -1), (TypeError, ValueError), "seed"),
    Bad("seed=str", lambda: hf.recall_error(3, 16, "0"), (TypeError, ValueError), "seed"),
    Bad("rule", lambda: hf.recall_error(3, 16, 0, rule="storkey"), ValueError, "rule"),
]
_xi = rand(2, 3, 4)
_X = rand(5, 4, seed=1)
_upd = {"xi": _xi, "patterns": _X, "beta": 0.5}
TABLE["numpy.hopfield.modern_hopfield_update_forward"] = cases(
    hf.modern_hopfield_update_forward, dict(_upd, mask=np.ones((3, 5), bool)), view=CACHE,
    arrays={"xi": "nan inf str last scalar list int f32 tensor",
            "patterns": "nan inf str last rank+ B0 list"}, positive=("beta",)) + [
    Bad("mask:shape", lambda: hf.modern_hopfield_update_forward(**_upd, mask=np.ones((3, 4), bool)),
        ValueError, "mask")]
TABLE["numpy.hopfield.modern_hopfield_update_backward"] = cases(
    hf.modern_hopfield_update_backward,
    {"dxi_new": rand(2, 3, 4, seed=3), "cache": hf.modern_hopfield_update_forward(**_upd)[2]},
    arrays={"dxi_new": "nan inf str last rank- batch list"})
TABLE["numpy.hopfield.modern_hopfield_energy"] = cases(
    hf.modern_hopfield_energy, _upd, arrays={"xi": "nan inf str last scalar list int",
                                             "patterns": "nan inf str last rank+ rank- B0 list"},
    positive=("beta",))
TABLE["numpy.hopfield.modern_hopfield_retrieve"] = cases(
    hf.modern_hopfield_retrieve, dict(_upd, max_steps=3, tol=1e-6),
    arrays={"xi": "nan inf str last scalar list", "patterns": "nan inf str last B0 list"},
    positive=("beta",), sizes=("max_steps",)) + [
    Bad("tol=-1", lambda: hf.modern_hopfield_retrieve(**_upd, tol=-1.0), ValueError, "tol"),
    Bad("tol=str", lambda: hf.modern_hopfield_retrieve(**_upd, tol="0"), (ValueError, TypeError),
        "tol"),
    Bad("tol=nan", lambda: hf.modern_hopfield_retrieve(**_upd, tol=np.nan), ValueError, "tol"),
]

_hl = hf.init_hopfield_layer_params(3, 2, 4, 5, rng=0)
_hp = hf.init_hopfield_pooling_params(2, 4, 5, num_queries=2, rng=0)
_hk = hf.init_hopfield_lookup_params(3, 4, 5, num_patterns=6, rng=0)
_R, _Y = rand(2, 3, 3), rand(2, 4, 2, seed=1)
_mask_y = np.array([[True, True, True, False], [True, True, True, True]])
TABLE["numpy.hopfield.init_hopfield_layer_params"] = init_cases(
    hf.init_hopfield_layer_params,
    {"state_size": 3, "stored_size": 2, "hidden_size": 4, "output_size": 5},
    ("state_size", "stored_size", "hidden_size", "output_size"))
TABLE["numpy.hopfield.init_hopfield_pooling_params"] = init_cases(
    hf.init_hopfield_pooling_params,
    {"input_size": 2, "hidden_size": 4, "output_size": 5, "num_queries": 2},
    ("input_size", "hidden_size", "output_size", "num_queries"))
TABLE["numpy.hopfield.init_hopfield_lookup_params"] = init_cases(
    hf.init_hopfield_lookup_params,
    {"input_size": 3, "hidden_size": 4, "output_size": 5, "num_patterns": 6},
    ("input_size", "hidden_size", "output_size", "num_patterns"))
_set_arrays = "nan inf str rank- rank+ last B0 T0 list int f32 tensor"
TABLE["numpy.hopfield.hopfield_layer_forward"] = cases(
    hf.hopfield_layer_forward, {"R": _R, "Y": _Y, "params": _hl, "beta": 0.7, "mask": _mask_y},
    view=CACHE, arrays={"R": _set_arrays, "Y": "nan inf str last batch T0 list"},
    positive=("beta",), params={"params": ("W_q", "W_v")}) + [
    Bad("mask:shape", lambda: hf.hopfield_layer_forward(_R, _Y, _hl, mask=_mask_y[:, :3]),
        ValueError, "mask")]
TABLE["numpy.hopfield.hopfield_layer_backward"] = cases(
    hf.hopfield_layer_backward,
    {"dZ": rand(2, 3, 5, seed=4), "cache": hf.hopfield_layer_forward(_R, _Y, _hl)[2]},
    arrays={"dZ": "nan inf str rank- last batch list"})
TABLE["numpy.hopfield.hopfield_pooling_forward"] = cases(
    hf.hopfield_pooling_forward, {"Y": _Y, "params": _hp, "beta": 0.7, "mask": _mask_y},
    view=CACHE, arrays={"Y": _set_arrays}, positive=("beta",),
    params={"params": ("queries", "W_v")}) + [
    Bad("mask:int", lambda: hf.hopfield_pooling_forward(_Y, _hp, mask=_mask_y.astype(int)),
        TypeError, "mask")]
TABLE["numpy.hopfield.hopfield_pooling_backward"] = cases(
    hf.hopfield_pooling_backward,
    {"dZ": rand(2, 2, 5, seed=4), "cache": hf.hopfield_pooling_forward(_Y, _hp)[2]},
    arrays={"dZ": "nan inf str rank- last batch list"})
TABLE["numpy.hopfield.hopfield_lookup_forward"] = cases(
    hf.hopfield_lookup_forward, {"R": _R, "params": _hk, "beta": 0.7}, view=CACHE,
    arrays={"R": _set_arrays}, positive=("beta",), params={"params": ("W_q", "patterns")})
TABLE["numpy.hopfield.hopfield_lookup_backward"] = cases(
    hf.hopfield_lookup_backward,
    {"dZ": rand(2, 3, 5, seed=4), "cache": hf.hopfield_lookup_forward(_R, _hk)[2]},
    arrays={"dZ": "nan inf str rank- last batch list"})
