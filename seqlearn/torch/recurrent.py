"""What the torch recurrent modules have in common: :class:`RecurrentModule`, the base class of
``ElmanRNN``, ``LSTM``, ``GRU`` and ``MUT``.

Every one of them is a stack of ``num_layers`` layers over batch-first sequences x (B, T, D):
layer 0 reads x, layer l > 0 reads the outputs of layer l-1, and the parameters of layer l are
registered as ``<name>_l{l}`` under the names of the NumPy reference (``W_x_l0``, ``W_h_l1``,
...). A subclass states only what is its own:

* ``parameter_shapes(input_size)``: the names and shapes of one layer's parameters, for a layer
  that reads ``input_size`` features (``[("W_x", (D_l, 4H)), ("W_h", (H, 4H)), ("b", (4H,))]``);
* ``layer_forward(xs, state, params, valid)``: the recurrence of one layer;
* ``numpy_check``, ``size_names`` and ``numpy_options(arrays)``: the NumPy half's parameter
  check, the parameters whose rows give the input and the hidden size, and the options that a
  checked parameter dict implies;
* ``builtin``, ``builtin_names``, ``builtin_options``: the ``torch.nn`` module computing the same
  function, if there is one, and how its parameters and options correspond to ours.

The base class does the rest: registration and initialisation, per-layer access, the layer-0
aliases, ``extra_repr``, the checks of the inputs, the states and ``lengths``, the loop over the
layers, and the conversions ``from_numpy``/``to_numpy`` and ``to_torch_builtin``/
``from_torch_builtin``.

**Padding.** ``lengths`` (B,), integers in 1..T: step t of sequence b is real when t < lengths[b].
At a padded step the state is carried unchanged and the output is zero, so the final state of a
sequence is its state at its last real step (what the built-ins compute on a
``pack_padded_sequence``).
"""

import math

import numpy as np
import torch
from torch import nn

from ..validate import check_device, check_positive_int, check_tensor, describe
from .common import check_like_parameters, padding_mask


class RecurrentModule(nn.Module):
    """A stack of ``num_layers`` recurrent layers of ``hidden_size`` units over batch-first
    sequences of ``input_size`` features; the base class of ``ElmanRNN``, ``LSTM``, ``GRU`` and
    ``MUT`` (see the module docstring for what a subclass provides).

    ``options`` (e.g. ``peepholes=True``) become attributes of the module before its parameters
    are made, so that ``parameter_shapes`` can use them, and are shown by ``repr``. Every
    parameter is drawn from U(-1/√H, 1/√H), the initialisation of the torch built-ins.
    """

    #: the ``torch.nn`` module that computes the same function, or ``None``
    builtin = None
    #: our parameter name -> the built-in's names (without ``_l{l}``); several names: ours is
    #: their sum, and ``to_torch_builtin`` puts it into the first and zeros the others
    builtin_names = {}
    #: options that the built-in has under the same name (ElmanRNN's ``nonlinearity``)
    builtin_options = ()
    #: the parameters whose numbers of rows are the input size and the hidden size
    size_names = ("W_x", "W_h")

    def __init__(self, input_size, hidden_size, num_layers=1, dtype=None, device=None,
                 **options):
        device = check_device("device", device)
        super().__init__()
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.num_layers = check_positive_int("num_layers", num_layers)
        self.option_names = tuple(options)
        for name, value in options.items():
            setattr(self, name, value)
        bound = 1.0 / math.sqrt(self.hidden_size)
        for layer in range(self.num_layers):
            for name, shape in self.parameter_shapes(self.layer_input_size(layer)):
                weight = torch.empty(shape, dtype=dtype, device=device).uniform_(-bound, bound)
                self.register_parameter(f"{name}_l{layer}", nn.Parameter(weight))

    # -- what a subclass provides -------------------------------------------------------------
    def parameter_shapes(self, input_size):
        """``[(name, shape), ...]`` of one layer that reads ``input_size`` features."""
        raise NotImplementedError(f"{type(self).__name__} must define parameter_shapes")

    def layer_forward(self, xs, state, params, valid):
        """The recurrence of one layer: ``xs`` (T, B, D_l) time-major inputs, ``state`` a tuple
        of initial states (B, H), ``params`` the layer's parameters by name, ``valid`` ``None``
        or (T, B, 1) booleans (False at padded steps). Returns the outputs (T, B, H) and the
        tuple of final states."""
        raise NotImplementedError(f"{type(self).__name__} must define layer_forward")

    @staticmethod
    def numpy_check(params):
        """The NumPy half's check of one layer's parameter dict; returns a dict of arrays."""
        raise NotImplementedError("a RecurrentModule must define numpy_check")

    @staticmethod
    def numpy_options(arrays):
        """The options that a layer's checked NumPy parameters ``arrays`` imply (none here)."""
        return {}

    # -- parameters ---------------------------------------------------------------------------
    def layer_input_size(self, layer):
        """The number of features layer ``layer`` reads: ``input_size`` for layer 0, else H."""
        return self.input_size if layer == 0 else self.hidden_size

    def layer_parameters(self, layer):
        """Layer ``layer``'s parameters as a dict in the NumPy spelling (``{"W_x": ..., ...}``)."""
        if not 0 <= layer < self.num_layers:
            raise ValueError(f"layer: expected 0 <= layer < {self.num_layers}, got {layer!r}")
        return {name: getattr(self, f"{name}_l{layer}")
                for name, _ in self.parameter_shapes(self.layer_input_size(layer))}

    def __getattr__(self, name):
        # Layer 0's parameters also answer to the NumPy reference's names: model.W_x is W_x_l0.
        parameters = self.__dict__.get("_parameters", {})
        if name not in parameters and f"{name}_l0" in parameters:
            return parameters[f"{name}_l0"]
        return super().__getattr__(name)

    def extra_repr(self):
        options = "".join(f", {name}={getattr(self, name)!r}" for name in self.option_names)
        return (f"input_size={self.input_size}, hidden_size={self.hidden_size}, "
                f"num_layers={self.num_layers}{options}")

    # -- checks ---------------------------------------------------------------------------------
    def check_input(self, x):
        """Raise unless ``x`` is a (B, T, input_size) float tensor of the parameters' dtype, on
        their device."""
        check_tensor("x", x, ndim=3, last_dim=self.input_size)
        check_like_parameters("x", x, next(self.parameters()))

    def check_state(self, name, state, x):
        """An initial state (num_layers, B, H) for the batch ``x`` (also accepted as (B, H) when
        num_layers = 1), of the dtype and on the device of ``x``; zeros when ``state`` is
        ``None``."""
        M, B, H = self.num_layers, x.shape[0], self.hidden_size
        if state is None:
            return x.new_zeros((M, B, H))
        check_tensor(name, state)
        if state.dim() == 2 and M == 1:
            state = state.unsqueeze(0)
        if tuple(state.shape) != (M, B, H):
            accepted = f"({M}, {B}, {H})" + (f" or ({B}, {H})" if M == 1 else "")
            raise ValueError(f"{name}: expected shape {accepted} (num_layers, batch, hidden), "
                             f"got {describe(state)}")
        if state.dtype != x.dtype or state.device != x.device:
            raise ValueError(f"{name}: expected dtype {x.dtype} on {x.device} like x, "
                             f"got {describe(state)} on {state.device}")
        return state

    def check_inputs(self, x, h0=None):
        """Check ``x`` (B, T, D) and the initial states ``h0``; return ``h0`` as
        (num_layers, B, H) (zeros when it is ``None``)."""
        self.check_input(x)
        return self.check_state("h0", h0, x)

    @staticmethod
    def check_lengths(lengths, x):
        """(T, B, 1) booleans on the device of ``x``, True at the real steps t < lengths[b], from
        ``lengths`` (B,) integers in 1..T (a tensor on any device, a list or an array); ``None``
        when ``lengths`` is ``None``."""
        if lengths is None:
            return None
        B, T = x.shape[0], x.shape[1]
        return padding_mask(lengths, T, batch_size=B).to(x.device).T.unsqueeze(-1)

    # -- forward --------------------------------------------------------------------------------
    @staticmethod
    def padded_step(new, old, valid, t):
        """``(state, output)`` after step t from the step's ``new`` state: both are ``new``,
        except at a padded step (``valid[t]`` False), where the state stays ``old`` and the
        output is zero."""
        if valid is None:
            return new, new
        return torch.where(valid[t], new, old), new * valid[t]

    def run_layers(self, x, state0, lengths=None):
        """Run every layer's ``layer_forward``, layer l reading the outputs of layer l-1.

        ``state0`` is a tuple of checked initial states, each (num_layers, B, H). Returns the
        top layer's outputs (B, T, H) and the tuple of final states, each (num_layers, B, H).
        """
        valid = self.check_lengths(lengths, x)
        seq = x.transpose(0, 1)    # time-major inside: a step's (B, ·) block is contiguous
        finals = []
        for layer in range(self.num_layers):
            state = tuple(s[layer] for s in state0)
            seq, final = self.layer_forward(seq, state, self.layer_parameters(layer), valid)
            finals.append(final)
        return seq.transpose(0, 1), tuple(torch.stack(f) for f in zip(*finals))

    def forward(self, x, h0=None, lengths=None):
        """Run all layers over the sequences.

        Parameters
        ----------
        x : (B, T, D) float tensor, on the parameters' device and of their dtype
        h0 : (num_layers, B, H) initial states (also (B, H) when num_layers = 1), or ``None``
            for zeros
        lengths : optional (B,) integers in 1..T, the true lengths of right-padded sequences:
            a sequence's state stops changing after its last step, its outputs past it are zero
            and the returned final state is the one at its last step (what the built-in computes
            on a ``pack_padded_sequence``, unpacked with ``pad_packed_sequence``)

        Returns
        -------
        out : (B, T, H), the outputs h_t of the top layer
        h_T : (num_layers, B, H), the final state of every layer
        """
        h0 = self.check_inputs(x, h0)
        out, (h_T,) = self.run_layers(x, (h0,), lengths)
        return out, h_T

    # -- conversions ----------------------------------------------------------------------------
    @classmethod
    def from_numpy(cls, params, dtype=torch.float64, device=None, **options):
        """Build the module from NumPy parameters: one dict (a single layer, as made by the NumPy
        half's ``init_<x>_params``) or a list of them (a stack, layer 0 first). ``options`` go
        to the constructor; those the parameters imply (peepholes, a MUT's kind) are found."""
        device = check_device("device", device)
        layers = [params] if isinstance(params, dict) else (
            list(params) if isinstance(params, (list, tuple)) else [])
        if not layers or not all(isinstance(p, dict) for p in layers):
            raise TypeError(f"params: expected a parameter dict or a non-empty list of them (one "
                            f"per layer), got {describe(params)}")
        arrays = []
        for layer, p in enumerate(layers):
            try:
                arrays.append(cls.numpy_check(p))
            except (TypeError, ValueError) as err:
                raise type(err)(f"params (layer {layer}): {err}") from None
        input_size, hidden_size = (arrays[0][name].shape[0] for name in cls.size_names)
        model = cls(input_size=input_size, hidden_size=hidden_size, num_layers=len(arrays),
                    dtype=dtype, device=device, **cls.numpy_options(arrays[0]), **options)
        with torch.no_grad():
            for layer, values in enumerate(arrays):
                targets = model.layer_parameters(layer)
                want = {name: tuple(p.shape) for name, p in targets.items()}
                got = {name: v.shape for name, v in values.items()}
                if got != want:
                    raise ValueError(
                        f"params (layer {layer}): expected the shapes {want} (a layer after the "
                        f"first reads the {hidden_size} states below it, and every layer has the "
                        f"same parameters), got {got}")
                for name, param in targets.items():
                    param.copy_(torch.as_tensor(np.asarray(values[name])))
        return model

    def to_numpy(self):
        """A list of dicts of NumPy arrays, one per layer, in the NumPy reference's layout."""
        return [{name: p.detach().cpu().numpy().copy()
                 for name, p in self.layer_parameters(layer).items()}
                for layer in range(self.num_layers)]

    @classmethod
    def check_builtin(cls, module):
        """Raise unless ``module`` is a ``cls.builtin`` that this class can copy: not
        bidirectional, no dropout between layers, no ``proj_size``."""
        if cls.builtin is None:
            raise TypeError(f"{cls.__name__} has no torch.nn built-in equivalent")
        if not isinstance(module, cls.builtin):
            raise TypeError(f"module: expected a torch.nn.{cls.builtin.__name__}, "
                            f"got {type(module).__name__}")
        if module.bidirectional:
            raise ValueError(f"module: a bidirectional nn.{cls.builtin.__name__} has no "
                             f"{cls.__name__} equivalent")
        if module.dropout:
            raise ValueError(f"module: dropout={module.dropout} between layers has no "
                             f"{cls.__name__} equivalent; set module.dropout = 0 first")
        if getattr(module, "proj_size", 0):
            raise ValueError(f"module: proj_size={module.proj_size} has no {cls.__name__} "
                             f"equivalent")

    def to_torch_builtin(self):
        """The ``torch.nn`` built-in (``batch_first=True``) computing the same function: weight
        matrices transposed (``weight_ih = W_xᵀ``), a bias that the built-in splits in two put
        into its first (``bias_ih``) with the second zero."""
        if self.builtin is None:
            raise TypeError(f"{type(self).__name__} has no torch.nn built-in equivalent")
        weight = next(self.parameters())
        module = self.builtin(self.input_size, self.hidden_size, num_layers=self.num_layers,
                              batch_first=True, dtype=weight.dtype, device=weight.device,
                              **{name: getattr(self, name) for name in self.builtin_options})
        with torch.no_grad():
            for layer in range(self.num_layers):
                ours = self.layer_parameters(layer)
                for name, (first, *others) in self.builtin_names.items():
                    value = ours[name].T if ours[name].dim() == 2 else ours[name]
                    getattr(module, f"{first}_l{layer}").copy_(value)
                    for other in others:
                        getattr(module, f"{other}_l{layer}").zero_()
        return module

    @classmethod
    def from_torch_builtin(cls, module):
        """Copy a ``torch.nn`` built-in (any ``batch_first``): weight matrices transposed
        (``W_x = weight_ihᵀ``), split biases summed (zeros when ``bias=False``)."""
        cls.check_builtin(module)
        weight = module.weight_ih_l0
        model = cls(input_size=module.input_size, hidden_size=module.hidden_size,
                    num_layers=module.num_layers, dtype=weight.dtype, device=weight.device,
                    **{name: getattr(module, name) for name in cls.builtin_options})
        with torch.no_grad():
            for layer in range(module.num_layers):
                ours = model.layer_parameters(layer)
                for name, theirs in cls.builtin_names.items():
                    if ours[name].dim() == 1 and not module.bias:
                        ours[name].zero_()
                        continue
                    values = [getattr(module, f"{n}_l{layer}") for n in theirs]
                    total = sum(values[1:], values[0])
                    ours[name].copy_(total.T if total.dim() == 2 else total)
        return model


__all__ = ["RecurrentModule"]
