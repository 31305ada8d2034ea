"""Bad-input table for ``seqlearn.numpy`` modules language_model … truncated_bptt (l–z) and for
every module of ``seqlearn.data`` (the vocabulary is in ``tests/bad_input.py``).

Cases are built by small factories over a dict of keyword arguments: :func:`bad` replaces some
arguments of a valid call (a replacement can be computed from the valid arguments with
:func:`K`), :func:`array_bads` makes the families of one array argument (NaN, inf, a string,
an extra axis, an empty batch), :func:`size_bads` those of a size (0, −1, 2.5, "3"),
:func:`rng_cases` the seeding family (``rng=0`` accepted, ``rng="0"`` refused).

Policy of this part of the package (documented in ``seqlearn.validate.as_float_array``): lists,
integer and bool arrays and torch tensors are accepted where a float array is expected and
converted; step functions (``rnn_step``, ``lstm_step``, ``mut_step``, ``rtrl_step``) check shapes
only, as their docstrings say (their ``*_forward`` checks values once).

Functions documented to update their arguments in place (the trainers, the optimisers'
``step``) get their parameters built inside the call, so the harness's in-place check
does not see them (the harness has no flag for a documented in-place update).
"""

import numpy as np
import torch

import seqlearn.data.chaotic as chaotic
import seqlearn.data.digit_captions as digit_captions
import seqlearn.data.patterns as patterns
import seqlearn.data.pixel_digits as pixel_digits
import seqlearn.data.series as series
import seqlearn.data.synthetic as synthetic
import seqlearn.data.tasks as tasks
import seqlearn.data.text as text
import seqlearn.data.transduction as transduction
import seqlearn.numpy.char_rnn as char_rnn
import seqlearn.numpy.language_model as lm
import seqlearn.numpy.layernorm as layernorm
import seqlearn.numpy.linear as linear
import seqlearn.numpy.lstm as lstm
import seqlearn.numpy.mlp as mlp
import seqlearn.numpy.mut as mut
import seqlearn.numpy.optim as optim
import seqlearn.numpy.perceptron as perceptron
import seqlearn.numpy.pixel as pixel
import seqlearn.numpy.reservoir as reservoir
import seqlearn.numpy.rnn as rnn
import seqlearn.numpy.rtrl as rtrl
import seqlearn.numpy.softmax as softmax
import seqlearn.numpy.swin as swin
import seqlearn.numpy.transformer as transformer
import seqlearn.numpy.truncated_bptt as tbptt
from bad_input import Accepted, Bad, Valid

E = (ValueError, TypeError)
B, T, D, H = 2, 3, 4, 5


def R(seed=0):
    return np.random.default_rng(seed)


class K:
    """A replacement computed from the valid keyword arguments."""

    def __init__(self, f):
        self.f = f


def _apply(base, over):
    kw = base()
    for name, value in over.items():
        kw[name] = value.f(kw) if isinstance(value, K) else value
    return kw


def bad(label, fn, base, names, error=E, **over):
    return Bad(label, lambda: fn(**_apply(base, over)), error, names)


def accepted(label, fn, base, why, finite=True, **over):
    return Accepted(label, lambda: fn(**_apply(base, over)), why, finite)


def valid(fn, base, random=False, view="", label="valid"):
    return Valid(fn, kwargs=base, draws_random=random, returns_view=view, label=label)


def _poke(a, value):
    a = np.array(a, dtype=float)
    a.flat[0] = value
    return a


def array_bads(fn, base, name, rank=True, empty=True, as_list=True, label=None):
    """NaN, inf, a string, an extra leading axis, an empty first axis; a list accepted."""
    label = label or name
    cases = [bad(f"{label} NaN", fn, base, label, ValueError,
                 **{name: K(lambda kw: _poke(kw[name], np.nan))}),
             bad(f"{label} inf", fn, base, label, ValueError,
                 **{name: K(lambda kw: _poke(kw[name], np.inf))}),
             bad(f"{label} string", fn, base, label, TypeError, **{name: "abc"})]
    if rank:
        cases.append(bad(f"{label} extra axis", fn, base, label, ValueError,
                         **{name: K(lambda kw: np.asarray(kw[name])[None])}))
    if empty:
        cases.append(bad(f"{label} empty", fn, base, label, ValueError,
                         **{name: K(lambda kw: np.asarray(kw[name])[:0])}))
    if as_list:
        cases.append(accepted(f"{label} as list", fn, base, "lists are converted to arrays",
                              **{name: K(lambda kw: np.asarray(kw[name]).tolist())}))
    return cases


def size_bads(fn, base, name, zero=True):
    values = [("-1", -1), ("2.5", 2.5), ("str", "3"), ("bool", True)] + ([("0", 0)] if zero else [])
    return [bad(f"{name}={label}", fn, base, name, E, **{name: v}) for label, v in values]


def rng_cases(fn, base, name="rng"):
    return [accepted(f"{name}=0", fn, base, "an int seed is accepted everywhere", finite=False,
                     **{name: 0}),
            accepted(f"{name}=Generator", fn, base, "a Generator is accepted", finite=False,
                     **{name: R(1)}),
            bad(f"{name}=str", fn, base, name, TypeError, **{name: "0"}),
            bad(f"{name}=-1", fn, base, name, TypeError, **{name: -1})]


def number_bads(fn, base, name, zero=True):
    cases = [bad(f"{name}=-1", fn, base, name, E, **{name: -1}),
             bad(f"{name}=str", fn, base, name, E, **{name: "0.05"}),
             bad(f"{name}=nan", fn, base, name, E, **{name: float("nan")}),
             bad(f"{name}=inf", fn, base, name, E, **{name: float("inf")})]
    if zero:
        cases.append(bad(f"{name}=0", fn, base, name, E, **{name: 0}))
    return cases


def missing_key(fn, base, pname, key, names=None):
    def drop(kw):
        p = dict(kw[pname])
        del p[key]
        return p
    return bad(f"{pname} missing {key}", fn, base, names or (key,), E, **{pname: K(drop)})


def wrong_shape(fn, base, pname, key, names=None):
    def change(kw):
        p = dict(kw[pname])
        p[key] = np.zeros(np.asarray(p[key]).shape + (2,))
        return p
    return bad(f"{pname}[{key}] wrong shape", fn, base, names or (key,), E, **{pname: K(change)})


def not_a_dict(fn, base, pname):
    return bad(f"{pname} not a dict", fn, base, pname, E, **{pname: [1, 2]})


TABLE = {}


def add(key, *cases):
    TABLE.setdefault(key, []).extend(c for group in cases
                                     for c in (group if isinstance(group, list) else [group]))


# == numpy.rnn =====================================================================================

def rnn_params(D=D, H=H):
    return rnn.init_rnn_params(D, H, rng=0)


def rnn_fwd_base():
    return dict(x=R().normal(size=(B, T, D)), h0=R(1).normal(size=(B, H)), params=rnn_params())


CACHE_VIEW = "The cache holds the inputs and parameters themselves, not copies."
CHECK_VIEW = "Float arrays are returned as they are, not copies."

init = rnn.init_rnn_params
ib = lambda: dict(input_size=D, hidden_size=H)      # noqa: E731
add("numpy.rnn.init_rnn_params", valid(init, ib, random=True), rng_cases(init, ib),
    size_bads(init, ib, "input_size"), size_bads(init, ib, "hidden_size"),
    number_bads(init, ib, "scale"))
init = rnn.init_stacked_rnn_params
isb = lambda: dict(input_size=D, hidden_size=H, num_layers=2)      # noqa: E731
add("numpy.rnn.init_stacked_rnn_params", valid(init, isb, random=True), rng_cases(init, isb),
    size_bads(init, isb, "num_layers"), size_bads(init, isb, "hidden_size"))

f = rnn.check_rnn_params
pb = lambda: dict(params=rnn_params())      # noqa: E731
add("numpy.rnn.check_rnn_params", valid(f, pb, view=CHECK_VIEW),
    missing_key(f, pb, "params", "W_hh"), wrong_shape(f, pb, "params", "b_h"),
    not_a_dict(f, pb, "params"))
f = rnn.check_stacked_rnn_params
spb = lambda: dict(params_list=rnn.init_stacked_rnn_params(D, H, 2, rng=0))      # noqa: E731
add("numpy.rnn.check_stacked_rnn_params", valid(f, spb, view=CHECK_VIEW),
    bad("empty list", f, spb, "params_list", ValueError, params_list=[]),
    bad("a dict", f, spb, "params_list", TypeError, params_list=rnn_params()),
    bad("layer 1 wrong width", f, spb, "params_list[1]", ValueError,
        params_list=[rnn_params(D, H), rnn_params(D, H)]))
f = rnn.concat_rnn_params
add("numpy.rnn.concat_rnn_params", valid(f, pb), missing_key(f, pb, "params", "W_xh"),
    wrong_shape(f, pb, "params", "W_hh"))
f = rnn.split_rnn_params
sb = lambda: dict(params=rnn.concat_rnn_params(rnn_params()), input_size=D)      # noqa: E731
add("numpy.rnn.split_rnn_params", valid(f, sb), size_bads(f, sb, "input_size"),
    bad("input_size too big", f, sb, "params['W']", ValueError, input_size=D + 1),
    missing_key(f, sb, "params", "W"))

f = rnn.rnn_forward
add("numpy.rnn.rnn_forward", valid(f, rnn_fwd_base, view=CACHE_VIEW),
    array_bads(f, rnn_fwd_base, "x"), array_bads(f, rnn_fwd_base, "h0", rank=False),
    bad("x wrong D", f, rnn_fwd_base, "x", ValueError, x=np.zeros((B, T, D + 1))),
    bad("x T=0", f, rnn_fwd_base, "x", ValueError, x=np.zeros((B, 0, D))),
    bad("h0 batch mismatch", f, rnn_fwd_base, "h0", ValueError, h0=np.zeros((B + 1, H))),
    missing_key(f, rnn_fwd_base, "params", "b_h"), wrong_shape(f, rnn_fwd_base, "params", "W_xh"),
    bad("lengths 0", f, rnn_fwd_base, "lengths", ValueError, lengths=np.array([0, 2])),
    bad("lengths > T", f, rnn_fwd_base, "lengths", ValueError, lengths=np.array([1, T + 1])),
    bad("lengths float", f, rnn_fwd_base, "lengths", TypeError, lengths=np.array([1.5, 2.0])),
    bad("lengths batch", f, rnn_fwd_base, "lengths", ValueError, lengths=np.array([1, 2, 3])),
    accepted("x int", f, rnn_fwd_base, "integer inputs are converted to float64",
             x=np.ones((B, T, D), int)),
    accepted("x tensor", f, rnn_fwd_base, "a tensor is accepted as its values",
             x=torch.ones(B, T, D, requires_grad=True)))


def rnn_bwd_base():
    h, cache = rnn.rnn_forward(**rnn_fwd_base())
    return dict(dh=np.ones_like(h), cache=cache)


f = rnn.rnn_backward
add("numpy.rnn.rnn_backward", valid(f, rnn_bwd_base), array_bads(f, rnn_bwd_base, "dh"),
    bad("dh wrong shape", f, rnn_bwd_base, "dh", ValueError, dh=np.ones((B, T, H + 1))))


def rnn_step_base():
    return dict(x_t=R().normal(size=(B, D)), h_prev=np.zeros((B, H)), params=rnn_params())


f = rnn.rnn_step
add("numpy.rnn.rnn_step", valid(f, rnn_step_base, view=CACHE_VIEW),
    bad("x_t wrong D", f, rnn_step_base, "x_t", ValueError, x_t=np.zeros((B, D + 1))),
    bad("x_t rank 3", f, rnn_step_base, "x_t", ValueError, x_t=np.zeros((B, 1, D))),
    bad("x_t 0-d", f, rnn_step_base, "x_t", ValueError, x_t=np.float64(1.0)),
    bad("h_prev batch", f, rnn_step_base, "h_prev", ValueError, h_prev=np.zeros((B + 1, H))))


def rnn_step_bwd_base():
    kw = rnn_step_base()
    h, cache = rnn.rnn_step(**kw)
    return dict(dh_t=np.ones_like(h), cache=cache, params=kw["params"])


f = rnn.rnn_step_backward
add("numpy.rnn.rnn_step_backward", valid(f, rnn_step_bwd_base),
    bad("dh_t wrong shape", f, rnn_step_bwd_base, "dh_t", ValueError, dh_t=np.ones((B, H + 1))))


def stacked_base():
    return dict(x=R().normal(size=(B, T, D)), h0=None,
                params_list=rnn.init_stacked_rnn_params(D, H, 2, rng=0))


f = rnn.stacked_rnn_forward
add("numpy.rnn.stacked_rnn_forward", valid(f, stacked_base, view=CACHE_VIEW),
    array_bads(f, stacked_base, "x"),
    bad("h0 wrong layers", f, stacked_base, "h0", ValueError, h0=np.zeros((3, B, H))),
    bad("x wrong D", f, stacked_base, "x", ValueError, x=np.zeros((B, T, D + 1))),
    bad("lengths > T", f, stacked_base, "lengths", ValueError, lengths=np.array([1, T + 1])))


def stacked_bwd_base():
    h, last, cache = rnn.stacked_rnn_forward(**stacked_base())
    return dict(dh=np.ones_like(h), cache=cache, dh_last=np.ones_like(last))


f = rnn.stacked_rnn_backward
add("numpy.rnn.stacked_rnn_backward", valid(f, stacked_bwd_base),
    array_bads(f, stacked_bwd_base, "dh"), array_bads(f, stacked_bwd_base, "dh_last"))


def unrolled_base():
    return dict(x=R().normal(size=(T, D)), params=rnn_params(), W_hy=np.ones((H, 2)),
                b_y=np.zeros(2))


f = rnn.unrolled_mlp_params
add("numpy.rnn.unrolled_mlp_params", valid(f, unrolled_base, view="The weights are the arrays "
                                             "``params['W_hh']`` and ``W_hy`` themselves"),
    array_bads(f, unrolled_base, "x"), array_bads(f, unrolled_base, "W_hy"),
    bad("b_y wrong size", f, unrolled_base, "b_y", ValueError, b_y=np.zeros(3)))

# == numpy.lstm ====================================================================================


def lstm_params(peep=False):
    return lstm.init_lstm_params(D, H, rng=0, peepholes=peep)


init = lstm.init_lstm_params
add("numpy.lstm.init_lstm_params", valid(init, ib, random=True), rng_cases(init, ib),
    size_bads(init, ib, "input_size"), size_bads(init, ib, "hidden_size"),
    bad("block_size not divisor", init, ib, "block_size", ValueError, block_size=2),
    bad("forget_bias str", init, ib, "forget_bias", E, forget_bias="1"),
    bad("forget_bias nan", init, ib, "forget_bias", E, forget_bias=float("nan")))
lpb = lambda: dict(params=lstm_params(True))      # noqa: E731
f = lstm.check_lstm_params
add("numpy.lstm.check_lstm_params", valid(f, lpb, view=CHECK_VIEW),
    missing_key(f, lpb, "params", "W_x"), wrong_shape(f, lpb, "params", "b"),
    missing_key(f, lpb, "params", "p_o", names=("p_i", "p_f", "p_o")),
    not_a_dict(f, lpb, "params"))
f = lstm.lstm_block_size
add("numpy.lstm.lstm_block_size", valid(f, lpb), missing_key(f, lpb, "params", "W_h"),
    bad("W_h width", f, lpb, "W_h", ValueError, params={"W_h": np.zeros((4, 5))}))
f = lstm.lstm_block_columns
bcb = lambda: dict(hidden_size=4, block_size=2)      # noqa: E731
add("numpy.lstm.lstm_block_columns", valid(f, bcb), size_bads(f, bcb, "hidden_size"),
    size_bads(f, bcb, "block_size"),
    bad("block_size not divisor", f, bcb, "block_size", ValueError, block_size=3))


def lstm_fwd_base():
    return dict(x=R().normal(size=(B, T, D)), state0=(np.zeros((B, H)), np.ones((B, H))),
                params=lstm_params())


for fname in ("lstm_forward", "fast_lstm_forward"):
    f = getattr(lstm, fname)
    add(f"numpy.lstm.{fname}", valid(f, lstm_fwd_base, view=CACHE_VIEW),
        array_bads(f, lstm_fwd_base, "x"),
        bad("x wrong D", f, lstm_fwd_base, "x", ValueError, x=np.zeros((B, T, D + 1))),
        bad("x B=0", f, lstm_fwd_base, "x", ValueError, x=np.zeros((0, T, D))),
        bad("h0 batch mismatch", f, lstm_fwd_base, "state0", ValueError,
            state0=(np.zeros((B + 1, H)), None)),
        bad("c0 NaN", f, lstm_fwd_base, "state0", ValueError,
            state0=(None, np.full((B, H), np.nan))),
        bad("state0 an array", f, lstm_fwd_base, "state0", TypeError, state0=np.zeros((B, H))),
        missing_key(f, lstm_fwd_base, "params", "W_h"),
        wrong_shape(f, lstm_fwd_base, "params", "b"),
        bad("lengths > T", f, lstm_fwd_base, "lengths", ValueError, lengths=np.array([1, 9])),
        bad("lengths float", f, lstm_fwd_base, "lengths", TypeError,
            lengths=np.array([1.0, 2.0])))


def lstm_bwd_base(fast=False):
    h, c, cache = (lstm.fast_lstm_forward if fast else lstm.lstm_forward)(**lstm_fwd_base())
    return dict(dh=np.ones_like(h), cache=cache, dc_last=np.ones((B, H)))


for fname, fast in (("lstm_backward", False), ("fast_lstm_backward", True)):
    f = getattr(lstm, fname)
    bb = (lambda fast: lambda: lstm_bwd_base(fast))(fast)
    add(f"numpy.lstm.{fname}", valid(f, bb), array_bads(f, bb, "dh"),
        array_bads(f, bb, "dc_last", rank=True))


def lstm_step_base():
    return dict(x_t=R().normal(size=(B, D)), h_prev=np.zeros((B, H)), c_prev=np.zeros((B, H)),
                params=lstm_params())


f = lstm.lstm_step
add("numpy.lstm.lstm_step", valid(f, lstm_step_base, view=CACHE_VIEW),
    bad("x_t wrong D", f, lstm_step_base, "x_t", ValueError, x_t=np.zeros((B, D + 1))),
    bad("x_t 0-d", f, lstm_step_base, "x_t", ValueError, x_t=np.float64(0.0)),
    bad("h_prev batch", f, lstm_step_base, "h_prev", ValueError, h_prev=np.zeros((B + 1, H))),
    bad("c_prev wrong H", f, lstm_step_base, "c_prev", ValueError, c_prev=np.zeros((B, H + 1))))


def lstm_step_bwd_base():
    kw = lstm_step_base()
    h, c, cache = lstm.lstm_step(**kw)
    return dict(dh_t=np.ones_like(h), dc_t=np.zeros_like(c), cache=cache, params=kw["params"])


f = lstm.lstm_step_backward
add("numpy.lstm.lstm_step_backward", valid(f, lstm_step_bwd_base),
    bad("dh_t wrong shape", f, lstm_step_bwd_base, "dh_t", ValueError, dh_t=np.ones((B, H + 1))),
    bad("dc_t wrong shape", f, lstm_step_bwd_base, "dc_t", ValueError, dc_t=np.ones((B + 1, H))))

# == numpy.mut =====================================================================================

f = mut.check_kind
ckb = lambda: dict(kind="MUT1", input_size=H, hidden_size=H)      # noqa: E731
add("numpy.mut.check_kind", valid(f, ckb), bad("unknown kind", f, ckb, "kind", E, kind="MUT9"),
    bad("kind not str", f, ckb, "kind", E, kind=1))
init = mut.init_mut_params
imb = lambda: dict(kind="MUT3", input_size=D, hidden_size=H)      # noqa: E731
add("numpy.mut.init_mut_params", valid(init, imb, random=True), rng_cases(init, imb),
    size_bads(init, imb, "input_size"), size_bads(init, imb, "hidden_size"),
    bad("unknown kind", init, imb, "kind", E, kind="GRU"))


def mut_params():
    return mut.init_mut_params("MUT3", D, H, rng=0)


mpb = lambda: dict(params=mut_params())      # noqa: E731
f = mut.mut_kind
add("numpy.mut.mut_kind", valid(f, mpb), not_a_dict(f, mpb, "params"),
    bad("no kind's keys", f, mpb, "params", ValueError, params={"W": np.zeros(2)}))
f = mut.check_mut_params
add("numpy.mut.check_mut_params", valid(f, mpb, view=CHECK_VIEW), not_a_dict(f, mpb, "params"),
    wrong_shape(f, mpb, "params", "W_hh"))


def mut_fwd_base():
    return dict(x=R().normal(size=(B, T, D)), h0=np.zeros((B, H)), params=mut_params())


f = mut.mut_forward
add("numpy.mut.mut_forward", valid(f, mut_fwd_base),
    array_bads(f, mut_fwd_base, "x"), array_bads(f, mut_fwd_base, "h0", rank=False),
    bad("x wrong D", f, mut_fwd_base, "x", ValueError, x=np.zeros((B, T, D + 1))),
    bad("h0 batch", f, mut_fwd_base, "h0", ValueError, h0=np.zeros((B + 1, H))),
    bad("lengths 0", f, mut_fwd_base, "lengths", ValueError, lengths=np.array([0, 1])),
    wrong_shape(f, mut_fwd_base, "params", "W_hh"))


def mut_step_base():
    return dict(x_t=R().normal(size=(B, D)), h_prev=np.zeros((B, H)), params=mut_params())


f = mut.mut_step
add("numpy.mut.mut_step", valid(f, mut_step_base),
    bad("x_t wrong D", f, mut_step_base, "x_t", ValueError, x_t=np.zeros((B, D + 1))),
    bad("h_prev batch", f, mut_step_base, "h_prev", ValueError, h_prev=np.zeros((B + 1, H))))

# == numpy.rtrl and numpy.truncated_bptt ===========================================================

f = rtrl.init_sensitivities
isb2 = lambda: dict(batch_size=B, input_size=D, hidden_size=H)      # noqa: E731
add("numpy.rtrl.init_sensitivities", valid(f, isb2), size_bads(f, isb2, "batch_size"),
    size_bads(f, isb2, "hidden_size"))
f = rtrl.split_sensitivities
ssb = lambda: dict(P=rtrl.init_sensitivities(B, D, H), input_size=D, hidden_size=H)  # noqa: E731
add("numpy.rtrl.split_sensitivities", valid(f, ssb, view="Views of P (B, H, n) per parameter"),
    size_bads(f, ssb, "input_size"), bad("P wrong shape", f, ssb, "P", ValueError,
                                         P=np.zeros((B, H, 3))))


def rtrl_step_base():
    return dict(x_t=R().normal(size=(B, D)), h_prev=np.zeros((B, H)),
                P_prev=rtrl.init_sensitivities(B, D, H), params=rnn_params())


f = rtrl.rtrl_step
add("numpy.rtrl.rtrl_step", valid(f, rtrl_step_base),
    bad("x_t wrong D", f, rtrl_step_base, "x_t", ValueError, x_t=np.zeros((B, D + 1))),
    bad("h_prev batch", f, rtrl_step_base, "h_prev", ValueError, h_prev=np.zeros((B + 1, H))),
    bad("P_prev wrong shape", f, rtrl_step_base, "P_prev", ValueError,
        P_prev=np.zeros((B, H, 3))))


def grad_base():
    return dict(x=R().normal(size=(B, T, D)), h0=np.zeros((B, H)), params=rnn_params(),
                dh=np.ones((B, T, H)))


f = rtrl.rtrl_gradients
add("numpy.rtrl.rtrl_gradients", valid(f, grad_base), array_bads(f, grad_base, "x"),
    array_bads(f, grad_base, "dh"), array_bads(f, grad_base, "h0", rank=False),
    bad("dh wrong T", f, grad_base, "dh", ValueError, dh=np.ones((B, T + 1, H))),
    missing_key(f, grad_base, "params", "W_hh"))
tb = lambda: dict(grad_base(), k=2)      # noqa: E731
for fname in ("truncated_bptt_gradients", "chunked_bptt_gradients"):
    f = getattr(tbptt, fname)
    add(f"numpy.truncated_bptt.{fname}", valid(f, tb), array_bads(f, tb, "x"),
        array_bads(f, tb, "dh"), size_bads(f, tb, "k"),
        bad("dh batch", f, tb, "dh", ValueError, dh=np.ones((B + 1, T, H))))
f = tbptt.truncated_bptt_gradients
add("numpy.truncated_bptt.truncated_bptt_gradients", size_bads(f, tb, "every"),
    bad("every > k", f, tb, "every", ValueError, every=3))

# == numpy.mlp, linear, layernorm, softmax, optim, perceptron ======================================

init = mlp.init_mlp_params
mb = lambda: dict(sizes=[D, H, 2])      # noqa: E731
add("numpy.mlp.init_mlp_params", valid(init, mb, random=True), rng_cases(init, mb),
    bad("sizes zero", init, mb, "sizes", ValueError, sizes=[D, 0, 2]),
    bad("sizes float", init, mb, "sizes", ValueError, sizes=[D, 2.5, 2]),
    bad("sizes one", init, mb, "sizes", ValueError, sizes=[D]),
    number_bads(init, mb, "scale"))


def mlp_params():
    return mlp.init_mlp_params([D, H, 2], rng=0)


mpb2 = lambda: dict(params=mlp_params())      # noqa: E731
f = mlp.check_mlp_params
add("numpy.mlp.check_mlp_params", valid(f, mpb2, view=CHECK_VIEW), not_a_dict(f, mpb2, "params"),
    missing_key(f, mpb2, "params", "b2", names=("params",)),
    wrong_shape(f, mpb2, "params", "b1"))


def mlp_fwd_base():
    return dict(x=R().normal(size=(B, D)), params=mlp_params())


f = mlp.mlp_forward
add("numpy.mlp.mlp_forward", valid(f, mlp_fwd_base, view=CACHE_VIEW),
    array_bads(f, mlp_fwd_base, "x", rank=False),
    bad("x wrong D", f, mlp_fwd_base, "x", ValueError, x=np.zeros((B, D + 1))),
    bad("x 0-d", f, mlp_fwd_base, "x", ValueError, x=np.float64(1.0)),
    bad("activation", f, mlp_fwd_base, "activation", E, activation="gelu"),
    accepted("x float16", f, mlp_fwd_base, "float16 is a float dtype",
             x=np.ones((B, D), np.float16)))


def mlp_bwd_base():
    z, cache = mlp.mlp_forward(**mlp_fwd_base())
    return dict(dz=np.ones_like(z), cache=cache)


f = mlp.mlp_backward
add("numpy.mlp.mlp_backward", valid(f, mlp_bwd_base), array_bads(f, mlp_bwd_base, "dz"))


def mlp_loss_base():
    return dict(z=R().normal(size=(B, 2)), t=R(1).normal(size=(B, 2)))


def mlp_ce_base():
    return dict(z=R().normal(size=(B, 3)), t=np.array([0, 2]), loss="cross_entropy")


f = mlp.mlp_loss
add("numpy.mlp.mlp_loss", valid(f, mlp_loss_base), valid(f, mlp_ce_base, label="valid ce"),
    array_bads(f, mlp_loss_base, "z", rank=False), array_bads(f, mlp_loss_base, "t", rank=False),
    bad("t shape", f, mlp_loss_base, "t", ValueError, t=np.zeros((B, 3))),
    bad("loss name", f, mlp_loss_base, "loss", ValueError, loss="hinge"),
    bad("ce float targets", f, mlp_ce_base, "t", E, t=np.array([0.5, 1.0])),
    bad("ce targets out of range", f, mlp_ce_base, "t", ValueError, t=np.array([0, 3])),
    bad("ce negative target", f, mlp_ce_base, "t", ValueError, t=np.array([-1, 0])),
    bad("ce batch mismatch", f, mlp_ce_base, "t", ValueError, t=np.array([0, 1, 2])))


def mlp_lg_base():
    return dict(x=R().normal(size=(B, D)), t=R(1).normal(size=(B, 2)), params=mlp_params())


f = mlp.mlp_loss_and_gradients
add("numpy.mlp.mlp_loss_and_gradients", valid(f, mlp_lg_base),
    array_bads(f, mlp_lg_base, "x", rank=False), array_bads(f, mlp_lg_base, "t", rank=False),
    bad("batch mismatch", f, mlp_lg_base, "t", ValueError, t=np.zeros((B + 1, 2))))


def fit_base():
    return dict(x=R().normal(size=(4, D)), t=R(1).normal(size=(4, 2)), steps=3)


def fit_full_batch(**kw):
    return mlp.fit_full_batch(mlp_params(), **kw)


add("numpy.mlp.fit_full_batch", valid(fit_full_batch, fit_base),
    array_bads(fit_full_batch, fit_base, "x", rank=False),
    array_bads(fit_full_batch, fit_base, "t", rank=False),
    number_bads(fit_full_batch, fit_base, "lr"), size_bads(fit_full_batch, fit_base, "steps"),
    bad("optimizer", fit_full_batch, fit_base, "optimizer", ValueError, optimizer="adam"),
    accepted("lr np.float32", fit_full_batch, fit_base, "NumPy scalars are numbers",
             lr=np.float32(0.01)))

init = linear.init_linear_params
lb = lambda: dict(in_features=D, out_features=H)      # noqa: E731
add("numpy.linear.init_linear_params", valid(init, lb, random=True), rng_cases(init, lb),
    size_bads(init, lb, "in_features"), size_bads(init, lb, "out_features"),
    number_bads(init, lb, "scale"))


def linear_base():
    return dict(x=R().normal(size=(B, D)), W=np.ones((D, H)), b=np.zeros(H))


f = linear.linear_forward
add("numpy.linear.linear_forward", valid(f, linear_base, view=CACHE_VIEW),
    array_bads(f, linear_base, "x", rank=False), array_bads(f, linear_base, "W"),
    array_bads(f, linear_base, "b"),
    bad("x wrong D", f, linear_base, "x", ValueError, x=np.zeros((B, D + 1))),
    bad("x 0-d", f, linear_base, "x", ValueError, x=np.float64(1.0)))


def linear_bwd_base():
    y, cache = linear.linear_forward(**linear_base())
    return dict(dy=np.ones_like(y), cache=cache)


f = linear.linear_backward
add("numpy.linear.linear_backward", valid(f, linear_bwd_base),
    [c for c in array_bads(f, linear_bwd_base, "dy") if "NaN" not in c.label and "inf" not in c.label],
    accepted("dy NaN", f, linear_bwd_base, "NaN passes through, reported by the trainer's loss "
             "check (docstring)", finite=False, dy=K(lambda kw: _poke(kw["dy"], np.nan))))

f = layernorm.init_layer_norm_params
add("numpy.layernorm.init_layer_norm_params", valid(f, lambda: dict(d=D)),
    size_bads(f, lambda: dict(d=D), "d"))


def ln_base():
    return dict(x=R().normal(size=(B, T, D)), params=layernorm.init_layer_norm_params(D))


f = layernorm.layer_norm_forward
add("numpy.layernorm.layer_norm_forward", valid(f, ln_base, view=CACHE_VIEW),
    array_bads(f, ln_base, "x", rank=False),
    bad("x 0-d", f, ln_base, "x", ValueError, x=np.float64(1.0)),
    missing_key(f, ln_base, "params", "beta"), wrong_shape(f, ln_base, "params", "gamma"),
    bad("x wrong D", f, ln_base, "x", ValueError, x=np.ones((B, D + 1))),
    number_bads(f, ln_base, "eps"))


def ln_bwd_base():
    y, cache = layernorm.layer_norm_forward(**ln_base())
    return dict(dy=np.ones_like(y), cache=cache)


f = layernorm.layer_norm_backward
add("numpy.layernorm.layer_norm_backward", valid(f, ln_bwd_base), array_bads(f, ln_bwd_base, "dy"))

sb2 = lambda: dict(logits=R().normal(size=(B, 3)))      # noqa: E731
for fname in ("softmax", "log_softmax"):
    f = getattr(softmax, fname)
    add(f"numpy.softmax.{fname}", valid(f, sb2), array_bads(f, sb2, "logits", rank=False),
        bad("axis out of range", f, sb2, "axis", E, axis=5),
        bad("axis float", f, sb2, "axis", E, axis=1.5),
        bad("logits 0-d", f, sb2, "logits", E, logits=np.float64(1.0)))
sce = lambda: dict(logits=R().normal(size=(B, 3)), targets=np.array([0, 2]))      # noqa: E731
f = softmax.softmax_cross_entropy
add("numpy.softmax.softmax_cross_entropy", valid(f, sce), array_bads(f, sce, "logits"),
    bad("targets float", f, sce, "targets", TypeError, targets=np.array([0.0, 1.0])),
    bad("targets negative", f, sce, "targets", ValueError, targets=np.array([-1, 0])),
    bad("targets out of range", f, sce, "targets", ValueError, targets=np.array([0, 3])),
    bad("targets batch", f, sce, "targets", ValueError, targets=np.array([0, 1, 2])))


def grads_base():
    return dict(grads={"W": np.ones((2, 3)), "b": np.full(3, -2.0)})


f = optim.global_norm
add("numpy.optim.global_norm", valid(f, grads_base),
    bad("grads not a dict", f, grads_base, "grads", TypeError, grads=[np.ones(2)]),
    bad("grads int", f, grads_base, "grads", TypeError, grads={"W": np.ones(2, int)}))
f = optim.clip_by_value
cvb = lambda: dict(grads_base(), threshold=0.5)      # noqa: E731
add("numpy.optim.clip_by_value", valid(f, cvb), number_bads(f, cvb, "threshold"),
    bad("grads not a dict", f, cvb, "grads", TypeError, grads=np.ones(2)))
f = optim.clip_by_norm
cnb = lambda: dict(grads_base(), max_norm=0.5)      # noqa: E731
add("numpy.optim.clip_by_norm", valid(f, cnb), number_bads(f, cnb, "max_norm"),
    bad("grads not a dict", f, cnb, "grads", TypeError, grads=np.ones(2)))


def optimiser_step(cls, **kw):
    """Construct and take one step on fresh parameters (``step`` updates them in place)."""
    opt = cls(**kw)
    params = {"W": np.ones((2, 3)), "b": np.zeros(3)}
    opt.step(params, {"W": np.ones((2, 3)), "b": np.ones(3)})
    return params


for cname in ("SGD", "Adagrad"):
    cls = getattr(optim, cname)
    ob = lambda: dict(lr=0.1)      # noqa: E731
    add(f"numpy.optim.{cname}", valid(lambda cls=cls, **kw: optimiser_step(cls, **kw), ob),
        number_bads(cls, ob, "lr"),
        accepted("lr np.float32", cls, ob, "NumPy scalars are numbers", finite=False,
                 lr=np.float32(0.01)),
        bad("step grads missing key", lambda cls=cls: cls().step(
            {"W": np.ones(2), "b": np.ones(2)}, {"W": np.ones(2)}), lambda: {}, "grads"),
        bad("step grads wrong shape", lambda cls=cls: cls().step(
            {"W": np.ones(2)}, {"W": np.ones(3)}), lambda: {}, "grads"))
add("numpy.optim.Adagrad", number_bads(optim.Adagrad, lambda: dict(lr=0.1), "eps"))


def perc_base():
    return dict(x=np.array([[1.0, 2.0], [-1.0, -2.0], [2.0, 0.5]]), w=np.array([0.5, -0.2]), b=0.1)


for fname in ("perceptron_forward", "perceptron_predict"):
    f = getattr(perceptron, fname)
    add(f"numpy.perceptron.{fname}", valid(f, perc_base), array_bads(f, perc_base, "x"),
        array_bads(f, perc_base, "w"),
        bad("w wrong size", f, perc_base, "w", ValueError, w=np.ones(3)),
        bad("b vector", f, perc_base, "b", ValueError, b=np.ones(2)),
        bad("b NaN", f, perc_base, "b", ValueError, b=float("nan")),
        bad("b str", f, perc_base, "b", TypeError, b="0"))
peb = lambda: dict(perc_base(), t=np.array([1, -1, 1]))      # noqa: E731
f = perceptron.perceptron_epoch
add("numpy.perceptron.perceptron_epoch", valid(f, peb), array_bads(f, peb, "x"),
    array_bads(f, peb, "t"), number_bads(f, peb, "lr"),
    bad("t not ±1", f, peb, "t", ValueError, t=np.array([1, 0, 1])),
    bad("t batch", f, peb, "t", ValueError, t=np.array([1, -1])),
    accepted("lr np.float32", f, peb, "NumPy scalars are numbers", finite=False,
             lr=np.float32(0.5)))
tpb = lambda: dict(x=perc_base()["x"], t=np.array([1, -1, 1]), max_epochs=3)      # noqa: E731
f = perceptron.train_perceptron
add("numpy.perceptron.train_perceptron", valid(f, tpb, random=True), rng_cases(f, tpb),
    array_bads(f, tpb, "x"), array_bads(f, tpb, "t"), number_bads(f, tpb, "lr"),
    size_bads(f, tpb, "max_epochs"),
    bad("w0 wrong size", f, tpb, "w0", ValueError, w0=np.ones(3)),
    bad("b0 NaN", f, tpb, "b0", ValueError, b0=float("nan")))
f = perceptron.PerceptronRun
add("numpy.perceptron.PerceptronRun",
    valid(f, lambda: dict(w=np.ones(2), b=0.0), view="The fields are the given objects."))
f = perceptron.get_activation
add("numpy.perceptron.get_activation", valid(f, lambda: dict(name="tanh")),
    bad("unknown", f, lambda: dict(name="gelu"), "activation", E),
    bad("not a str", f, lambda: dict(name=3), "activation", E))
lab = lambda: dict(x=R().normal(size=(B, D)), W=np.ones((D, H)), b=np.zeros(H))      # noqa: E731
f = perceptron.layer_activity
add("numpy.perceptron.layer_activity", valid(f, lab), array_bads(f, lab, "x", rank=False),
    array_bads(f, lab, "W"),
    bad("x wrong D", f, lab, "x", ValueError, x=np.ones((B, D + 1))),
    bad("activation", f, lab, "activation", E, activation="gelu"),
    accepted("x float32", f, lab, "float32 is a float dtype", x=np.ones((B, D), np.float32)),
    accepted("x float64 W float32", f, lab, "mixed float dtypes are promoted",
             W=np.ones((D, H), np.float32)))

# == numpy.language_model ==========================================================================
V_LM = 5


def lm_params():
    return char_rnn.init_char_rnn_params(V_LM, 4, rng=0)


def lm_text():
    return np.arange(60) % V_LM


f = lm.training_split
tsb = lambda: dict(length=60, seq_len=5)      # noqa: E731
add("numpy.language_model.training_split", valid(f, tsb), size_bads(f, tsb, "length"),
    size_bads(f, tsb, "seq_len"),
    bad("too short", f, tsb, "indices", ValueError, length=10))
f = lm.held_out_starts
add("numpy.language_model.held_out_starts", valid(f, tsb), size_bads(f, tsb, "seq_len"),
    size_bads(f, tsb, "max_windows"))
f = lm.check_temperature
add("numpy.language_model.check_temperature", valid(f, lambda: dict(temperature=0.5)),
    *[bad(f"temperature={v!r}", f, lambda: {}, "temperature", E, temperature=v)
      for v in (-1, "1", float("nan"), float("inf"), None)],
    accepted("temperature np.float32", f, lambda: {}, "NumPy scalars are numbers",
             finite=False, temperature=np.float32(0.5)))
lmlb = lambda: dict(inputs=lm_text()[None, :6], targets=lm_text()[None, 1:7], params=lm_params())  # noqa
f = lm.language_model_loss
add("numpy.language_model.language_model_loss", valid(f, lmlb),
    bad("inputs float", f, lmlb, "inputs", TypeError, inputs=np.zeros((1, 6))),
    bad("inputs out of range", f, lmlb, "inputs", ValueError, inputs=np.full((1, 6), V_LM)),
    bad("targets negative", f, lmlb, "targets", ValueError, targets=np.full((1, 6), -1)),
    bad("targets shape", f, lmlb, "targets", ValueError, targets=np.zeros((1, 5), int)),
    missing_key(f, lmlb, "params", "W_hh"))
hob = lambda: dict(params=lm_params(), indices=lm_text(), seq_len=5)      # noqa: E731
f = lm.held_out_loss
add("numpy.language_model.held_out_loss", valid(f, hob), size_bads(f, hob, "seq_len"),
    size_bads(f, hob, "batch_size"), size_bads(f, hob, "max_windows"),
    bad("indices float", f, hob, "indices", TypeError, indices=np.zeros(60)),
    bad("indices negative", f, hob, "indices", ValueError, indices=-lm_text()),
    bad("indices too short", f, hob, "indices", ValueError, indices=lm_text()[:8]))


def train_lm(**kw):
    """Fresh parameters (they are trained in place); the history without its wall-clock times
    (the harness compares results exactly), its lists as arrays (the harness compares NaN, the
    training loss before the first step, as equal only inside arrays)."""
    history = lm.train_language_model(lm_params(), **kw)
    return {k: np.asarray(v) if k == "train_loss" else v for k, v in history.items()
            if k not in ("seconds", "elapsed")}


tlb = lambda: dict(indices=lm_text(), seq_len=4, batch_size=2, steps=2, progress=False)  # noqa
add("numpy.language_model.train_language_model", valid(train_lm, tlb, random=True),
    rng_cases(train_lm, tlb), number_bads(train_lm, tlb, "lr"), number_bads(train_lm, tlb, "clip"),
    size_bads(train_lm, tlb, "seq_len"), size_bads(train_lm, tlb, "batch_size"),
    size_bads(train_lm, tlb, "steps"),
    bad("no stop", train_lm, tlb, "steps", ValueError, steps=None),
    bad("seconds -1", train_lm, tlb, "seconds", ValueError, seconds=-1),
    bad("indices float", train_lm, tlb, "indices", TypeError, indices=np.zeros(60)),
    accepted("lr np.float32", train_lm, tlb, "NumPy scalars are numbers", finite=False,
             lr=np.float32(0.05)),
    Bad("params missing W_hh", lambda: lm.train_language_model(
        {k: v for k, v in lm_params().items() if k != "W_hh"}, lm_text(), 4, 2, steps=2,
        progress=False), E, ("W_hh",)))


def train_sgd(**kw):
    return lm.train_with_sgd(lm_params(), **kw)


swb = lambda: dict(indices=lm_text(), seq_len=4, batch_size=2, steps=2, lr=0.1)  # noqa: E731
add("numpy.language_model.train_with_sgd", valid(train_sgd, swb),
    number_bads(train_sgd, swb, "lr"), number_bads(train_sgd, swb, "max_norm"),
    size_bads(train_sgd, swb, "steps"),
    accepted("lr np.float32", train_sgd, swb, "NumPy scalars are numbers", finite=False,
             lr=np.float32(0.05)))
gtb = lambda: dict(params=lm_params(), prompt=np.array([0, 1]), n=5)      # noqa: E731
f = lm.generate_text
add("numpy.language_model.generate_text", valid(f, gtb, random=True), rng_cases(f, gtb),
    size_bads(f, gtb, "n"),
    bad("prompt negative", f, gtb, "prompt", ValueError, prompt=np.array([-1])),
    bad("prompt empty", f, gtb, "prompt", ValueError, prompt=np.array([], int)),
    bad("temperature -1", f, gtb, "temperature", ValueError, temperature=-1))

# == numpy.pixel ===================================================================================
LEVELS, N_IMG = 3, 4


def images():
    return R().integers(0, LEVELS, size=(B, N_IMG, N_IMG))


f = pixel.check_kernel_size
add("numpy.pixel.check_kernel_size", valid(f, lambda: dict(kernel_size=3)),
    size_bads(f, lambda: dict(kernel_size=3), "kernel_size"),
    bad("even", f, lambda: {}, "kernel_size", ValueError, kernel_size=4))
f = pixel.conv_mask
cmb = lambda: dict(kernel_size=3, mask_type="A")      # noqa: E731
add("numpy.pixel.conv_mask", valid(f, cmb), size_bads(f, cmb, "kernel_size"),
    bad("mask_type", f, cmb, "mask_type", ValueError, mask_type="C"))
f = pixel.check_images
cib = lambda: dict(name="x", x=images(), levels=LEVELS)      # noqa: E731
add("numpy.pixel.check_images", valid(f, cib),
    bad("float", f, cib, "x", TypeError, x=np.zeros((B, N_IMG, N_IMG))),
    bad("rank", f, cib, "x", ValueError, x=np.zeros((N_IMG, N_IMG), int)),
    bad("0-d", f, cib, "x", ValueError, x=np.int64(1)),
    bad("not square", f, cib, "x", ValueError, x=np.zeros((B, 3, 4), int)),
    bad("out of range", f, cib, "x", ValueError, x=np.full((B, 2, 2), LEVELS)),
    bad("negative", f, cib, "x", ValueError, x=np.full((B, 2, 2), -1)),
    bad("B=0", f, cib, "x", ValueError, x=np.zeros((0, 2, 2), int)),
    size_bads(f, cib, "levels"))
init = pixel.init_masked_conv2d_params
imcb = lambda: dict(in_features=2, out_features=3, kernel_size=3)      # noqa: E731
add("numpy.pixel.init_masked_conv2d_params", valid(init, imcb, random=True),
    rng_cases(init, imcb), size_bads(init, imcb, "in_features"),
    size_bads(init, imcb, "out_features"), size_bads(init, imcb, "kernel_size"),
    bad("mask_type", init, imcb, "mask_type", ValueError, mask_type="C"))
mcp = lambda: dict(params=pixel.init_masked_conv2d_params(2, 3, 3, rng=0))      # noqa: E731
f = pixel.check_masked_conv2d_params
add("numpy.pixel.check_masked_conv2d_params", valid(f, mcp, view=CHECK_VIEW),
    missing_key(f, mcp, "params", "W"), wrong_shape(f, mcp, "params", "b"),
    not_a_dict(f, mcp, "params"))


def mconv_base():
    return dict(x=R().normal(size=(B, N_IMG, N_IMG, 2)),
                params=pixel.init_masked_conv2d_params(2, 3, 3, rng=0), mask_type="A")


f = pixel.masked_conv2d_forward
add("numpy.pixel.masked_conv2d_forward", valid(f, mconv_base),
    array_bads(f, mconv_base, "x"),
    bad("x wrong D", f, mconv_base, "x", ValueError, x=np.zeros((B, N_IMG, N_IMG, 3))),
    bad("x not square", f, mconv_base, "x", ValueError, x=np.zeros((B, 4, 5, 2))),
    bad("mask_type", f, mconv_base, "mask_type", ValueError, mask_type="C"),
    wrong_shape(f, mconv_base, "params", "W"))


def mconv_bwd_base():
    a, cache = pixel.masked_conv2d_forward(**mconv_base())
    return dict(da=np.ones_like(a), cache=cache)


f = pixel.masked_conv2d_backward
add("numpy.pixel.masked_conv2d_backward", valid(f, mconv_bwd_base),
    array_bads(f, mconv_bwd_base, "da"))
init = pixel.init_pixel_cnn_params
ipb = lambda: dict(levels=LEVELS, hidden_size=4, kernel_size=3, num_layers=2)      # noqa: E731
add("numpy.pixel.init_pixel_cnn_params", valid(init, ipb, random=True), rng_cases(init, ipb),
    size_bads(init, ipb, "levels"), size_bads(init, ipb, "hidden_size"),
    size_bads(init, ipb, "num_layers"), size_bads(init, ipb, "kernel_size"),
    size_bads(init, ipb, "num_classes"))


def pcnn_params(classes=None):
    return pixel.init_pixel_cnn_params(LEVELS, 4, 3, 2, num_classes=classes, rng=0)


f = pixel.check_pixel_cnn_params
ppb = lambda: dict(params=pcnn_params())      # noqa: E731
add("numpy.pixel.check_pixel_cnn_params", valid(f, ppb, view=CHECK_VIEW),
    not_a_dict(f, ppb, "params"))


def pcnn_base():
    return dict(x=images(), params=pcnn_params(2), labels=np.array([0, 1]))


for fname in ("pixel_cnn_forward", "pixel_cnn_loss"):
    f = getattr(pixel, fname)
    add(f"numpy.pixel.{fname}", valid(f, pcnn_base, view=CACHE_VIEW if fname == "pixel_cnn_forward"
                                       else ""),
        bad("x float", f, pcnn_base, "x", TypeError, x=np.zeros((B, N_IMG, N_IMG))),
        bad("x out of range", f, pcnn_base, "x", ValueError, x=np.full((B, N_IMG, N_IMG), 9)),
        bad("labels out of range", f, pcnn_base, "labels", ValueError, labels=np.array([0, 2])),
        bad("labels float", f, pcnn_base, "labels", E, labels=np.array([0.0, 1.0])),
        bad("labels batch", f, pcnn_base, "labels", ValueError, labels=np.array([0])),
        bad("labels without classes", f, lambda: dict(pcnn_base(), params=pcnn_params()),
            "labels", ValueError))


def pcnn_bwd_base():
    z, cache = pixel.pixel_cnn_forward(**pcnn_base())
    return dict(dz=np.ones_like(z), cache=cache)


f = pixel.pixel_cnn_backward
add("numpy.pixel.pixel_cnn_backward", valid(f, pcnn_bwd_base), array_bads(f, pcnn_bwd_base, "dz"))
bpb = lambda: dict(logits=R().normal(size=(B, N_IMG, N_IMG, LEVELS)), x=images())  # noqa: E731
f = pixel.bits_per_dim
add("numpy.pixel.bits_per_dim", valid(f, bpb), array_bads(f, bpb, "logits"),
    bad("x out of range", f, bpb, "x", ValueError, x=np.full((B, N_IMG, N_IMG), LEVELS)),
    bad("batch mismatch", f, bpb, "x", ValueError, x=images()[:1]))
ipl = lambda: dict(images=images(), levels=LEVELS)      # noqa: E731
f = pixel.independent_pixel_logits
add("numpy.pixel.independent_pixel_logits", valid(f, ipl), size_bads(f, ipl, "levels"),
    number_bads(f, ipl, "alpha"),
    bad("images float", f, ipl, "images", TypeError, images=np.zeros((B, 2, 2))))
rcb = lambda: dict(n=4, position=(1, 2))      # noqa: E731
f = pixel.raster_context
add("numpy.pixel.raster_context", valid(f, rcb), size_bads(f, rcb, "n"),
    bad("position out", f, rcb, "position", ValueError, position=(4, 0)),
    bad("position negative", f, rcb, "position", ValueError, position=(-1, 0)),
    bad("position float", f, rcb, "position", E, position=(1.5, 0)),
    bad("position scalar", f, rcb, "position", E, position=1))
rfb = lambda: dict(n=4, kernel_size=3, num_layers=2, position=(2, 2))      # noqa: E731
f = pixel.receptive_field
add("numpy.pixel.receptive_field", valid(f, rfb), size_bads(f, rfb, "num_layers"),
    size_bads(f, rfb, "kernel_size"),
    bad("position out", f, rfb, "position", ValueError, position=(0, 9)))
skb = lambda: dict(x=R().normal(size=(B, 3, 3, 2)))      # noqa: E731
f = pixel.skew
add("numpy.pixel.skew", valid(f, skb), array_bads(f, skb, "x"),
    bad("not square", f, skb, "x", ValueError, x=np.zeros((B, 3, 4, 2))))
ukb = lambda: dict(y=R().normal(size=(B, 3, 5, 2)))      # noqa: E731
f = pixel.unskew
add("numpy.pixel.unskew", valid(f, ukb), array_bads(f, ukb, "y"),
    bad("width", f, ukb, "y", ValueError, y=np.zeros((B, 3, 4, 2))))

# == numpy.reservoir ===============================================================================


def res_params():
    return reservoir.init_reservoir_params(D, H, rng=0)


init = reservoir.init_reservoir_params
add("numpy.reservoir.init_reservoir_params", valid(init, ib, random=True), rng_cases(init, ib),
    size_bads(init, ib, "input_size"), size_bads(init, ib, "hidden_size"),
    number_bads(init, ib, "spectral_radius"), number_bads(init, ib, "input_scale"),
    number_bads(init, ib, "bias_scale", zero=False))
f = reservoir.check_reservoir_params
rpb = lambda: dict(params=res_params())      # noqa: E731
add("numpy.reservoir.check_reservoir_params", valid(f, rpb, view=CHECK_VIEW),
    missing_key(f, rpb, "params", "W"), wrong_shape(f, rpb, "params", "b"),
    not_a_dict(f, rpb, "params"))
rsb = lambda: dict(u_t=R().normal(size=(B, D)), h_prev=np.zeros((B, H)), params=res_params())  # noqa
f = reservoir.reservoir_step
add("numpy.reservoir.reservoir_step", valid(f, rsb),
    bad("u_t wrong D", f, rsb, "u_t", ValueError, u_t=np.zeros((B, D + 1))),
    bad("h_prev batch", f, rsb, "h_prev", ValueError, h_prev=np.zeros((B + 1, H))),
    number_bads(f, rsb, "leak_rate"), bad("leak_rate 2", f, rsb, "leak_rate", E, leak_rate=2))
rfw = lambda: dict(u=R().normal(size=(B, T, D)), h0=np.zeros((B, H)), params=res_params())  # noqa
f = reservoir.reservoir_forward
add("numpy.reservoir.reservoir_forward", valid(f, rfw), array_bads(f, rfw, "u"),
    array_bads(f, rfw, "h0", rank=False),
    bad("u wrong D", f, rfw, "u", ValueError, u=np.zeros((B, T, D + 1))),
    bad("h0 batch", f, rfw, "h0", ValueError, h0=np.zeros((B + 1, H))),
    number_bads(f, rfw, "leak_rate"))
frb = lambda: dict(states=R().normal(size=(10, H)), targets=R(1).normal(size=(10, 2)))  # noqa
f = reservoir.fit_readout
add("numpy.reservoir.fit_readout", valid(f, frb), array_bads(f, frb, "states", rank=False),
    array_bads(f, frb, "targets", rank=False),
    bad("batch mismatch", f, frb, "targets", ValueError, targets=np.zeros((9, 2))),
    number_bads(f, frb, "ridge", zero=False))
arb = lambda: dict(states=R().normal(size=(B, T, H)), W_out=np.ones((H + 1, 2)))  # noqa: E731
f = reservoir.apply_readout
add("numpy.reservoir.apply_readout", valid(f, arb), array_bads(f, arb, "states", rank=False),
    array_bads(f, arb, "W_out"),
    bad("W_out rows", f, arb, "W_out", ValueError, W_out=np.ones((H, 2))))
rgb = lambda: dict(h0=np.zeros((B, H)), u0=np.ones((B, D)), params=res_params(),  # noqa: E731
                   W_out=np.ones((H + 1, D)) * 0.01, n_steps=3)
f = reservoir.reservoir_generate
add("numpy.reservoir.reservoir_generate", valid(f, rgb), array_bads(f, rgb, "h0"),
    array_bads(f, rgb, "u0"), size_bads(f, rgb, "n_steps"),
    bad("W_out width", f, rgb, "W_out", ValueError, W_out=np.ones((H + 1, D + 1))),
    bad("u0 batch", f, rgb, "u0", ValueError, u0=np.ones((B + 1, D))))
nrb = lambda: dict(prediction=np.array([1.0, 2.0, 3.0]), target=np.array([1.0, 2.5, 2.0]))  # noqa
f = reservoir.nrmse
add("numpy.reservoir.nrmse", valid(f, nrb), array_bads(f, nrb, "prediction", rank=False),
    array_bads(f, nrb, "target", rank=False),
    bad("shape mismatch", f, nrb, "target", ValueError, target=np.ones(4)),
    bad("constant target", f, nrb, "target", ValueError, target=np.ones(3)))
efb = lambda: dict(series=np.sin(np.arange(80) * 0.3), hidden_size=10, washout=5)  # noqa: E731
f = reservoir.esn_forecast_error
add("numpy.reservoir.esn_forecast_error", valid(f, efb), array_bads(f, efb, "series"),
    size_bads(f, efb, "hidden_size"), size_bads(f, efb, "horizon"),
    number_bads(f, efb, "spectral_radius"), number_bads(f, efb, "ridge", zero=False),
    bad("train_fraction 0", f, efb, "train_fraction", ValueError, train_fraction=0),
    bad("train_fraction str", f, efb, "train_fraction", E, train_fraction="0.5"),
    bad("washout negative", f, efb, "washout", E, washout=-1),
    bad("washout too long", f, efb, "washout", ValueError, washout=80),
    bad("seed str", f, efb, "seed", TypeError, seed="0"))

# == numpy.transformer =============================================================================
DM, NH, FF = 4, 2, 6

init = transformer.init_feed_forward_params
ffb = lambda: dict(d_model=DM, d_ff=FF)      # noqa: E731
add("numpy.transformer.init_feed_forward_params", valid(init, ffb, random=True),
    rng_cases(init, ffb), size_bads(init, ffb, "d_model"), size_bads(init, ffb, "d_ff"))
for fname in ("init_encoder_block_params", "init_decoder_block_params"):
    init = getattr(transformer, fname)
    ebb = lambda: dict(d_model=DM, num_heads=NH, d_ff=FF)      # noqa: E731
    add(f"numpy.transformer.{fname}", valid(init, ebb, random=True), rng_cases(init, ebb),
        size_bads(init, ebb, "d_model"), size_bads(init, ebb, "num_heads"),
        size_bads(init, ebb, "d_ff"),
        bad("heads do not divide", init, ebb, "num_heads", ValueError, num_heads=3))
fwb = lambda: dict(x=R().normal(size=(B, T, DM)),  # noqa: E731
                   params=transformer.init_feed_forward_params(DM, FF, rng=0))
f = transformer.feed_forward_forward
add("numpy.transformer.feed_forward_forward", valid(f, fwb, view=CACHE_VIEW),
    array_bads(f, fwb, "x", rank=False),
    bad("x wrong D", f, fwb, "x", ValueError, x=np.ones((B, T, DM + 1))),
    missing_key(f, fwb, "params", "W_2"), wrong_shape(f, fwb, "params", "b_1"))


def ff_bwd_base():
    y, cache = transformer.feed_forward_forward(**fwb())
    return dict(dy=np.ones_like(y), cache=cache)


f = transformer.feed_forward_backward
add("numpy.transformer.feed_forward_backward", valid(f, ff_bwd_base),
    array_bads(f, ff_bwd_base, "dy"))


def enc_base():
    return dict(x=R().normal(size=(B, T, DM)),
                params=transformer.init_encoder_block_params(DM, NH, FF, rng=0), num_heads=NH)


f = transformer.encoder_block_forward
add("numpy.transformer.encoder_block_forward", valid(f, enc_base, view=CACHE_VIEW),
    array_bads(f, enc_base, "x"),
    bad("x wrong D", f, enc_base, "x", ValueError, x=np.ones((B, T, DM + 2))),
    bad("x T=0", f, enc_base, "x", ValueError, x=np.ones((B, 0, DM))),
    size_bads(f, enc_base, "num_heads"),
    bad("mask shape", f, enc_base, "mask", ValueError, mask=np.ones((B, 1, 1, T + 1), bool)),
    bad("mask float", f, enc_base, "mask", TypeError, mask=np.ones((B, 1, 1, T))),
    missing_key(f, enc_base, "params", "norm_1"),
    number_bads(f, enc_base, "eps"))


def enc_bwd_base():
    z, cache = transformer.encoder_block_forward(**enc_base())
    return dict(dz=np.ones_like(z), cache=cache)


f = transformer.encoder_block_backward
add("numpy.transformer.encoder_block_backward", valid(f, enc_bwd_base),
    array_bads(f, enc_bwd_base, "dz"))


def dec_base():
    return dict(x=R().normal(size=(B, T, DM)), memory=R(1).normal(size=(B, T + 1, DM)),
                params=transformer.init_decoder_block_params(DM, NH, FF, rng=0), num_heads=NH)


f = transformer.decoder_block_forward
add("numpy.transformer.decoder_block_forward", valid(f, dec_base, view=CACHE_VIEW),
    array_bads(f, dec_base, "x"), array_bads(f, dec_base, "memory"),
    bad("memory batch", f, dec_base, "memory", ValueError, memory=np.ones((B + 1, T, DM))),
    bad("memory wrong D", f, dec_base, "memory", ValueError, memory=np.ones((B, T, DM + 2))),
    bad("self_mask shape", f, dec_base, "self_mask", ValueError, self_mask=np.ones((T, T + 1), bool)),
    missing_key(f, dec_base, "params", "cross_attention"), size_bads(f, dec_base, "num_heads"))
f = transformer.sinusoidal_positional_encoding
spe = lambda: dict(T=T, d_model=DM)      # noqa: E731
add("numpy.transformer.sinusoidal_positional_encoding", valid(f, spe), size_bads(f, spe, "T"),
    size_bads(f, spe, "d_model"), bad("odd d_model", f, spe, "d_model", ValueError, d_model=3))

# == numpy.swin ====================================================================================
M = 2


def fmap(Hs=4, C=DM):
    return R().normal(size=(B, Hs, Hs, C))


f = swin.cyclic_shift
csb = lambda: dict(x=fmap(), shift=1)      # noqa: E731
add("numpy.swin.cyclic_shift", valid(f, csb), array_bads(f, csb, "x"),
    bad("shift float", f, csb, "shift", E, shift=1.5), bad("shift str", f, csb, "shift", E,
                                                           shift="1"))
f = swin.window_partition
wpb = lambda: dict(x=fmap(), window_size=M)      # noqa: E731
add("numpy.swin.window_partition", valid(f, wpb), array_bads(f, wpb, "x"),
    size_bads(f, wpb, "window_size"),
    bad("not divisible", f, wpb, "window_size", ValueError, window_size=3))
f = swin.window_reverse
wrb = lambda: dict(windows=swin.window_partition(fmap(), M), window_size=M, H=4, W=4)  # noqa
add("numpy.swin.window_reverse", valid(f, wrb), array_bads(f, wrb, "windows"),
    size_bads(f, wrb, "window_size"), size_bads(f, wrb, "H"),
    bad("H mismatch", f, wrb, "windows", ValueError, H=8))
f = swin.patch_partition
ppb2 = lambda: dict(images=fmap(4, 3), patch_size=2)      # noqa: E731
add("numpy.swin.patch_partition", valid(f, ppb2), array_bads(f, ppb2, "images"),
    size_bads(f, ppb2, "patch_size"),
    bad("not divisible", f, ppb2, "patch_size", ValueError, patch_size=3))
f = swin.relative_position_index
add("numpy.swin.relative_position_index", valid(f, lambda: dict(window_size=M)),
    size_bads(f, lambda: dict(window_size=M), "window_size"))
f = swin.relative_coords_table
rctb = lambda: dict(window_size=M)      # noqa: E731
add("numpy.swin.relative_coords_table", valid(f, rctb), size_bads(f, rctb, "window_size"),
    size_bads(f, rctb, "pretrained_window_size"),
    bad("spacing", f, rctb, "spacing", ValueError, spacing="cubic"))
f = swin.shifted_window_mask
swm = lambda: dict(H=4, W=4, window_size=M, shift=1)      # noqa: E731
add("numpy.swin.shifted_window_mask", valid(f, swm), size_bads(f, swm, "H"),
    size_bads(f, swm, "window_size"),
    bad("shift too big", f, swm, "shift", ValueError, shift=M),
    bad("shift float", f, swm, "shift", E, shift=0.5))
for fname, base in (("init_continuous_position_bias_params", lambda: dict(num_heads=NH,
                                                                         hidden_size=8)),
                    ("init_patch_embedding_params", lambda: dict(patch_size=2, in_channels=3,
                                                                  d_model=DM)),
                    ("init_patch_merging_params", lambda: dict(d_model=DM)),
                    ("init_relative_position_bias_params", lambda: dict(window_size=M,
                                                                        num_heads=NH)),
                    ("init_window_attention_params", lambda: dict(d_model=DM, num_heads=NH)),
                    ("init_swin_block_params", lambda: dict(d_model=DM, num_heads=NH, d_ff=FF,
                                                            window_size=M, cpb_hidden_size=8))):
    init = getattr(swin, fname)
    add(f"numpy.swin.{fname}", valid(init, base, random=True), rng_cases(init, base),
        *[size_bads(init, base, name) for name in base()])
add("numpy.swin.init_swin_block_params",
    bad("position_bias", swin.init_swin_block_params, lambda: dict(
        d_model=DM, num_heads=NH, d_ff=FF, window_size=M), "position_bias", ValueError,
        position_bias="none"))


def cpb_base():
    return dict(coords=swin.relative_coords_table(M),
                params=swin.init_continuous_position_bias_params(NH, 8, rng=0), window_size=M)


f = swin.continuous_position_bias_forward
add("numpy.swin.continuous_position_bias_forward", valid(f, cpb_base, view=CACHE_VIEW),
    array_bads(f, cpb_base, "coords"), size_bads(f, cpb_base, "window_size"),
    bad("coords rows", f, cpb_base, "coords", ValueError, coords=np.zeros((4, 2))),
    missing_key(f, cpb_base, "params", "W_2"))


def cpb_bwd_base():
    bias, cache = swin.continuous_position_bias_forward(**cpb_base())
    return dict(dbias=np.ones_like(bias), cache=cache)


f = swin.continuous_position_bias_backward
add("numpy.swin.continuous_position_bias_backward", valid(f, cpb_bwd_base),
    array_bads(f, cpb_bwd_base, "dbias"))


def rpb_base():
    return dict(params=swin.init_relative_position_bias_params(M, NH, rng=0), window_size=M)


f = swin.relative_position_bias_forward
add("numpy.swin.relative_position_bias_forward", valid(f, rpb_base),
    size_bads(f, rpb_base, "window_size"), missing_key(f, rpb_base, "params", "table"),
    bad("table NaN", f, rpb_base, "table", ValueError,
        params={"table": np.full((9, NH), np.nan)}))


def rpb_bwd_base():
    bias, cache = swin.relative_position_bias_forward(**rpb_base())
    return dict(dbias=np.ones_like(bias), cache=cache)


f = swin.relative_position_bias_backward
add("numpy.swin.relative_position_bias_backward", valid(f, rpb_bwd_base),
    array_bads(f, rpb_bwd_base, "dbias"))


def pe_base():
    return dict(images=fmap(4, 3), params=swin.init_patch_embedding_params(2, 3, DM, rng=0),
                patch_size=2)


f = swin.patch_embedding_forward
add("numpy.swin.patch_embedding_forward", valid(f, pe_base, view=CACHE_VIEW),
    array_bads(f, pe_base, "images"), size_bads(f, pe_base, "patch_size"),
    bad("channels", f, pe_base, "images", ValueError, images=fmap(4, 2)),
    wrong_shape(f, pe_base, "params", "W"))


def pe_bwd_base():
    y, cache = swin.patch_embedding_forward(**pe_base())
    return dict(dx=np.ones_like(y), cache=cache)


f = swin.patch_embedding_backward
add("numpy.swin.patch_embedding_backward", valid(f, pe_bwd_base), array_bads(f, pe_bwd_base, "dx"))


def pm_base():
    return dict(x=fmap(), params=swin.init_patch_merging_params(DM, rng=0))


f = swin.patch_merging_forward
add("numpy.swin.patch_merging_forward", valid(f, pm_base, view=CACHE_VIEW),
    array_bads(f, pm_base, "x"), bad("odd H", f, pm_base, "x", ValueError, x=fmap(3)),
    bad("wrong D", f, pm_base, "x", ValueError, x=fmap(4, DM + 1)),
    missing_key(f, pm_base, "params", "norm"), number_bads(f, pm_base, "eps"))


def pm_bwd_base():
    y, cache = swin.patch_merging_forward(**pm_base())
    return dict(dout=np.ones_like(y), cache=cache)


f = swin.patch_merging_backward
add("numpy.swin.patch_merging_backward", valid(f, pm_bwd_base), array_bads(f, pm_bwd_base, "dout"))


def wa_base():
    return dict(x=R().normal(size=(B, 4, M * M, DM)),
                params=swin.init_window_attention_params(DM, NH, rng=0), num_heads=NH)


f = swin.window_attention_forward
add("numpy.swin.window_attention_forward", valid(f, wa_base, view=CACHE_VIEW),
    array_bads(f, wa_base, "x"), size_bads(f, wa_base, "num_heads"),
    bad("x wrong D", f, wa_base, "x", ValueError, x=np.ones((B, 4, M * M, DM + 1))),
    bad("bias shape", f, wa_base, "bias", ValueError, bias=np.zeros((NH, 3, 3))),
    bad("bias NaN", f, wa_base, "bias", ValueError, bias=np.full((NH, 4, 4), np.nan)),
    bad("mask float", f, wa_base, "mask", TypeError, mask=np.ones((4, 4, 4))),
    missing_key(f, wa_base, "params", "logit_scale"))


def wa_bwd_base():
    y, _, cache = swin.window_attention_forward(**wa_base())
    return dict(dout=np.ones_like(y), cache=cache)


f = swin.window_attention_backward
add("numpy.swin.window_attention_backward", valid(f, wa_bwd_base),
    array_bads(f, wa_bwd_base, "dout"))


def sb_base():
    return dict(x=fmap(), params=swin.init_swin_block_params(DM, NH, FF, M, cpb_hidden_size=8,
                                                             rng=0),
                num_heads=NH, window_size=M, shift=1)


f = swin.swin_block_forward
add("numpy.swin.swin_block_forward", valid(f, sb_base, view=CACHE_VIEW),
    array_bads(f, sb_base, "x"), size_bads(f, sb_base, "num_heads"),
    size_bads(f, sb_base, "window_size"),
    bad("shift too big", f, sb_base, "shift", ValueError, shift=M),
    bad("norm", f, sb_base, "norm", ValueError, norm="mid"),
    bad("x wrong D", f, sb_base, "x", ValueError, x=fmap(4, DM + 2)),
    missing_key(f, sb_base, "params", "feed_forward"), number_bads(f, sb_base, "eps"))


def sb_bwd_base():
    z, cache = swin.swin_block_forward(**sb_base())
    return dict(dz=np.ones_like(z), cache=cache)


f = swin.swin_block_backward
add("numpy.swin.swin_block_backward", valid(f, sb_bwd_base), array_bads(f, sb_bwd_base, "dz"))

# == data ==========================================================================================

f = series.load_airline_passengers
add("data.series.load_airline_passengers", valid(f, dict))
f = series.make_windows
mwb = lambda: dict(series=np.arange(10.0), window=3)      # noqa: E731
add("data.series.make_windows", valid(f, mwb), array_bads(f, mwb, "series"),
    size_bads(f, mwb, "window"),
    bad("window too long", f, mwb, "window", ValueError, window=10))
f = series.chronological_split
csb2 = lambda: dict(n=144)      # noqa: E731
add("data.series.chronological_split", valid(f, csb2), size_bads(f, csb2, "n"),
    bad("empty training set", f, csb2, "train_fraction", ValueError, n=2, train_fraction=0.1),
    bad("empty test set", f, csb2, "train_fraction", ValueError, n=2, train_fraction=0.9),
    bad("train_fraction 1", f, csb2, "train_fraction", ValueError, train_fraction=1),
    bad("train_fraction str", f, csb2, "train_fraction", TypeError, train_fraction="0.5"),
    bad("train_fraction nan", f, csb2, "train_fraction", ValueError,
        train_fraction=float("nan")))
f = synthetic.make_separable_2d
msb = lambda: dict(n=10)      # noqa: E731
add("data.synthetic.make_separable_2d", valid(f, msb, random=True), rng_cases(f, msb),
    size_bads(f, msb, "n"), bad("n=1", f, msb, "n", ValueError, n=1),
    number_bads(f, msb, "margin", zero=False))
f = synthetic.make_xor
mxb = lambda: dict(n_per_corner=2, noise=0.1)      # noqa: E731
add("data.synthetic.make_xor", valid(f, mxb, random=True), rng_cases(f, mxb),
    size_bads(f, mxb, "n_per_corner"), number_bads(f, mxb, "noise", zero=False))
for fname, base, sizes in (("adding_problem", lambda: dict(n=3, T=4), ("n", "T")),
                           ("delayed_recall", lambda: dict(n=3, lag=2), ("n", "lag",
                                                                          "n_symbols")),
                           ("alphabet_task", lambda: dict(n=3, max_length=4),
                            ("n", "max_length"))):
    f = getattr(tasks, fname)
    add(f"data.tasks.{fname}", valid(f, base, random=True), rng_cases(f, base),
        *[size_bads(f, base, s) for s in sizes])
add("data.tasks.adding_problem", bad("T=1", tasks.adding_problem, lambda: dict(n=3), "T",
                                     ValueError, T=1))
add("data.tasks.alphabet_task", bad("max_length 26", tasks.alphabet_task, lambda: dict(n=3),
                                    "max_length", ValueError, max_length=26))
f = tasks.decode_letters
dlb = lambda: dict(x=tasks.alphabet_task(2, 4, rng=0)[0][0], length=2)      # noqa: E731
add("data.tasks.decode_letters", valid(f, dlb), array_bads(f, dlb, "x"),
    size_bads(f, dlb, "length"),
    bad("length > T", f, dlb, "length", ValueError, length=99),
    bad("length float", f, dlb, "length", ValueError, length=1.5),
    accepted("length 0-d tensor", f, dlb, "a 0-d integer tensor (lengths[k]) is an int",
             finite=False, length=torch.tensor(2)),
    bad("x wrong width", f, dlb, "x", ValueError, x=np.zeros((3, 5))))
f = text.load_text
add("data.text.load_text", valid(f, dict), bad("unknown", f, dict, "name", ValueError,
                                               name="lear"),
    bad("not a str", f, dict, "name", E, name=3))
add("data.text.CharVocabulary", valid(text.CharVocabulary, lambda: dict(text="hello")),
    bad("empty", text.CharVocabulary, lambda: dict(text=""), "text", ValueError),
    bad("not a str", text.CharVocabulary, lambda: dict(text=[1, 2]), "text", E))


def vocab():
    return text.CharVocabulary("abcd")


add("data.text.CharVocabulary",
    Valid(lambda indices: vocab().decode(indices), kwargs=lambda: dict(indices=np.array([0, 3])),
          label="decode"),
    Valid(lambda indices: vocab().one_hot(indices), kwargs=lambda: dict(indices=np.array([[0, 3]])),
          label="one_hot"),
    Valid(lambda t: vocab().encode(t), kwargs=lambda: dict(t="abca"), label="encode"),
    *[Bad(f"{method} {label}", (lambda m, v: lambda: getattr(vocab(), m)(v))(method, value),
          error, "indices")
      for method in ("decode", "one_hot")
      for label, value, error in (("negative", [-1], ValueError), ("too big", [4], ValueError),
                                  ("float", [1.5], TypeError), ("str", "ab", TypeError))],
    Bad("encode unknown", lambda: vocab().encode("xyz"), ValueError, "text"),
    Bad("encode not a str", lambda: vocab().encode([1, 2]), TypeError, "text"))
f = transduction.vocabulary_size
vsb = lambda: dict(n_symbols=5)      # noqa: E731
add("data.transduction.vocabulary_size", valid(f, vsb), size_bads(f, vsb, "n_symbols"),
    bad("27", f, vsb, "n_symbols", ValueError, n_symbols=27))
f = transduction.transduction_task
ttb = lambda: dict(n=3, lengths=(2, 4))      # noqa: E731
add("data.transduction.transduction_task", valid(f, ttb, random=True), rng_cases(f, ttb),
    size_bads(f, ttb, "n"), size_bads(f, ttb, "lengths"), size_bads(f, ttb, "n_symbols"),
    bad("lengths reversed", f, ttb, "lengths", ValueError, lengths=(4, 2)),
    bad("lengths float range", f, ttb, "lengths", ValueError, lengths=(1.5, 3)),
    bad("task", f, ttb, "task", ValueError, task="shuffle"))
f = transduction.decode_tokens
dtb = lambda: dict(tokens=np.array([[3, 4, 2, 0], [5, 2, 0, 0]]))      # noqa: E731
add("data.transduction.decode_tokens", valid(f, dtb),
    bad("float", f, dtb, "tokens", TypeError, tokens=np.array([3.0, 4.0])),
    bad("3-d", f, dtb, "tokens", ValueError, tokens=np.zeros((1, 1, 1), int)),
    bad("unknown id", f, dtb, "tokens", ValueError, tokens=np.array([99])),
    bad("negative id", f, dtb, "tokens", ValueError, tokens=np.array([-1])),
    bad("str", f, dtb, "tokens", TypeError, tokens="abc"),
    accepted("tensor", f, dtb, "tensors are accepted", finite=False,
             tokens=torch.tensor([3, 4, 2])))
f = chaotic.mackey_glass
mgb = lambda: dict(n=20, washout=5.0)      # noqa: E731
add("data.chaotic.mackey_glass", valid(f, mgb), size_bads(f, mgb, "n"),
    *[number_bads(f, mgb, name) for name in ("tau", "beta", "gamma", "exponent", "dt",
                                             "sample_every", "x0")],
    number_bads(f, mgb, "washout", zero=False),
    bad("dt > sample_every", f, mgb, "dt", ValueError, dt=2.0))
f = digit_captions.load_digit_images
add("data.digit_captions.load_digit_images", valid(f, dict))
f = digit_captions.digit_strips
dsb = lambda: dict(n=2, n_digits=3)      # noqa: E731
add("data.digit_captions.digit_strips", valid(f, dsb, random=True), rng_cases(f, dsb),
    size_bads(f, dsb, "n"), size_bads(f, dsb, "n_digits"),
    bad("subset", f, dsb, "subset", ValueError, subset="val"))
f = digit_captions.caption_text
ctb = lambda: dict(tokens=np.array([6, 4, 7, 2]))      # noqa: E731
add("data.digit_captions.caption_text", valid(f, ctb),
    bad("float", f, ctb, "tokens", TypeError, tokens=np.array([6.0])),
    bad("unknown id", f, ctb, "tokens", ValueError, tokens=np.array([13])),
    bad("negative id", f, ctb, "tokens", ValueError, tokens=np.array([-3])))
f = pixel_digits.quantize
qb = lambda: dict(images=np.linspace(0, 1, 8).reshape(2, 2, 2), levels=3)      # noqa: E731
add("data.pixel_digits.quantize", valid(f, qb), array_bads(f, qb, "images", rank=False,
                                                           empty=False),
    size_bads(f, qb, "levels"), bad("levels 1", f, qb, "levels", ValueError, levels=1),
    bad("out of [0, 1]", f, qb, "images", ValueError, images=np.full((1, 2, 2), 2.0)))
f = pixel_digits.load_pixel_digits
lpd = lambda: dict(levels=2, subset="test")      # noqa: E731
add("data.pixel_digits.load_pixel_digits", valid(f, lpd), size_bads(f, lpd, "levels"),
    bad("subset", f, lpd, "subset", ValueError, subset="val"))
f = patterns.random_patterns
rpb2 = lambda: dict(N=3, d=4)      # noqa: E731
add("data.patterns.random_patterns", valid(f, rpb2, random=True), rng_cases(f, rpb2),
    size_bads(f, rpb2, "N"), size_bads(f, rpb2, "d"))
f = patterns.binarised_digits
add("data.patterns.binarised_digits", valid(f, dict),
    bad("low", f, dict, "low", ValueError, low=0.5),
    bad("threshold str", f, dict, "threshold", E, threshold="8"),
    bad("threshold nan", f, dict, "threshold", E, threshold=float("nan")))
f = patterns.corrupt
crb = lambda: dict(patterns=patterns.random_patterns(3, 8, rng=0), fraction=0.25)  # noqa: E731
add("data.patterns.corrupt", valid(f, crb, random=True), rng_cases(f, crb),
    array_bads(f, crb, "patterns"),
    bad("fraction 2", f, crb, "fraction", ValueError, fraction=2),
    bad("fraction str", f, crb, "fraction", E, fraction="0.5"),
    bad("fraction nan", f, crb, "fraction", E, fraction=float("nan")))
f = patterns.mask_half
mhb = lambda: dict(patterns=patterns.random_patterns(2, 64, rng=0))      # noqa: E731
add("data.patterns.mask_half", valid(f, mhb), array_bads(f, mhb, "patterns"),
    bad("half", f, mhb, "half", ValueError, half="middle"),
    bad("shape wrong", f, mhb, "patterns", ValueError, shape=(4, 4)),
    bad("shape not a pair", f, mhb, "shape", E, shape=8),
    bad("fill nan", f, mhb, "fill", E, fill=float("nan")))
for fname, base, sizes in (("motif_bags", lambda: dict(n=4, bag_size=5, dim=3),
                            ("n", "bag_size", "dim", "witnesses")),
                           ("order_bags", lambda: dict(n=4, bag_size=5, dim=3),
                            ("n", "bag_size", "dim")),
                           ("balance_bags", lambda: dict(n=4, length=4), ("n", "length"))):
    f = getattr(patterns, fname)
    add(f"data.patterns.{fname}", valid(f, base, random=True), rng_cases(f, base),
        *[size_bads(f, base, s) for s in sizes])
add("data.patterns.motif_bags",
    number_bads(patterns.motif_bags, lambda: dict(n=4, bag_size=5, dim=3), "strength"))
add("data.patterns.balance_bags", bad("odd length", patterns.balance_bags, lambda: dict(n=2),
                                      "length", ValueError, length=3))
f = patterns.check_image_batch
cbb = lambda: dict(images=np.ones((2, 64)))      # noqa: E731
add("data.patterns.check_image_batch", valid(f, cbb, view=CHECK_VIEW),
    array_bads(f, cbb, "images"), bad("width", f, cbb, "images", ValueError,
                                      images=np.ones((2, 63))))


# Every ``returns_view`` quotes its function's docstring.
for _key, _cases in TABLE.items():
    for _case in _cases:
        if isinstance(_case, Valid) and _case.returns_view:
            _doc = " ".join((_case.fn.__doc__ or "").split())
            assert _case.returns_view in _doc, (_key, _case.returns_view)
