"""seqlearn: the companion package of the course *Sequence Learning*.

Two mirrored halves hold the models of the course::

    from seqlearn import numpy as snp   # NumPy reference: forward and hand-derived backward
    from seqlearn import torch as st    # PyTorch versions of the same models (GPU when present)

    snp.lstm.lstm_forward(x, state0, params, lengths=None)   # (B, T, D) batch-first, float64
    st.lstm.LSTM(input_size, hidden_size)(x, lengths=lengths)

Alongside them: ``seqlearn.data`` (shipped and generated datasets), ``seqlearn.validate`` (the
argument checks), ``seqlearn.checks`` (exercise checks), ``seqlearn.plotting``,
``seqlearn.widgets``, ``seqlearn.display`` and ``seqlearn.timing``.

The halves mirror each other module for module, name for name (CONTRIBUTING.md, "The mirror"):
a NumPy model is ``init_<x>_params``, ``<x>_forward`` and ``<x>_backward``; its torch version is
the ``nn.Module`` ``<X>`` (or the function ``<x>``), with the same parameter names and the same
arguments in the same order. The deliberate exceptions are these, each with its reason
(``tests/test_mirror.py`` fails on any other, and on a row that is no longer true).

.. rubric:: One-sided modules

=================  =====  ==========================================================================
module             half   why there is no mirror
=================  =====  ==========================================================================
activations        numpy  torch has them with their derivatives: ``torch.tanh``, ``torch.sigmoid``, autograd
linear             numpy  torch has ``nn.Linear``; the NumPy layer exists to derive its backward pass
softmax            numpy  torch has ``F.softmax``, ``F.log_softmax`` and ``F.cross_entropy``
optim              numpy  torch has ``torch.optim`` and ``nn.utils.clip_grad_norm_``
rtrl               numpy  an algorithm for computing gradients forward in time; torch's autograd computes them
truncated_bptt     numpy  truncation in torch is one ``h.detach()`` in the training loop (chapter 4)
recurrent          torch  the base class of the torch recurrent modules; NumPy's functions need none
train              torch  the one training loop of the torch models; each NumPy trainer lives with its model
seq2seq            torch  trained with autograd only: its parts (GRU, attention) have NumPy references
captioning         torch  trained with autograd only: its parts (GRU, attention) have NumPy references
decoding           torch  the one decoding loop (greedy or sampled) of the torch sequence models; NumPy has none
bpe                numpy  a tokenizer learned by counting pairs, not a model with gradients; its token ids feed either half's models
=================  =====  ==========================================================================

.. rubric:: One-sided names

=================  ==============================  =====  ==================================================
module             name                            half   why there is no mirror
=================  ==============================  =====  ==================================================
boltzmann          rbm_cd_gradients                numpy  the hand-derived CD-k gradient (9.15); in torch, RBM.cd_loss(v, k).backward()
boltzmann          rbm_hidden_probs                numpy  the conditional (9.13) on arrays; RBM.hidden_probs in torch
boltzmann          rbm_log_likelihood              numpy  the exact mean log-likelihood on arrays; −RBM(v).mean() − RBM.log_partition() in torch
boltzmann          rbm_log_partition               numpy  the exact log Z on arrays; RBM.log_partition() in torch
boltzmann          rbm_visible_probs               numpy  the conditional (9.13) on arrays; RBM.visible_probs in torch
boltzmann          train_rbm                       numpy  chapter 9's CD-k loop on arrays; torch trains RBM.cd_loss with seqlearn.torch.train.fit
char_rnn           char_rnn_loss_and_gradients     numpy  the hand-derived gradient of chapter 4; torch's autograd gives it
char_rnn           unigram_entropy                 numpy  a statistic of the data (the loss of a model that ignores context), not a model
char_rnn           current_character_correlation   numpy  the control of chapter 4b's unit analysis, a statistic of arrays, not a model
char_rnn           TEXT_FEATURES                   numpy  the features text_features computes
char_rnn           text_features                   numpy  features of a text (position in line, brackets, speakers) for the unit analysis on arrays
char_rnn           unit_correlations               numpy  Pearson correlations of activations (from either half's char_rnn_states) with features, on arrays
common             check_param_dict                numpy  checks NumPy parameter dicts; torch's from_numpy conversions call it
common             check_step_shapes               numpy  the checks of one recurrent step's arguments; torch's are in recurrent
common             initial_state                   numpy  a zero or checked initial state; torch's is in recurrent
common             prepare_sequence                numpy  the checks of a padded batch and its lengths; torch's are in recurrent
common             as_torch_generator              torch  a torch.Generator from None, an int seed or a generator; NumPy's is validate.as_generator
common             check_like_parameters           torch  an input's dtype and device against a module's parameters; NumPy arrays have no device
common             check_same_dtype                torch  two tensors' dtype and device agree; NumPy computes in the dtype it is given
common             check_tokens                    torch  token-id tensors of the torch sequence models (NumPy's char-RNN checks its own ids)
common             copy_numpy_params               torch  the torch half of every from_numpy; NumPy's parameters are the dicts themselves
ctrnn              attractor_labels                numpy  basin analysis for chapter 3's figures, on NumPy arrays
ctrnn              basins_of_attraction            numpy  basin analysis for chapter 3's figures, on NumPy arrays
ctrnn              Bifurcation                     numpy  what locate_bifurcations returns
ctrnn              classify_fixed_points           numpy  fixed-point analysis on NumPy eigenvalues (stable, saddle, source)
ctrnn              ctrnn_jacobian                  numpy  the analytic Jacobian for the fixed-point analysis; torch's autograd gives it
ctrnn              find_fixed_points               numpy  Newton's method on NumPy arrays; the torch CTRNN calls it as a method
ctrnn              FIXED_POINT_KINDS               numpy  the kinds classify_fixed_points tells apart
ctrnn              fixed_point_census              numpy  counts the kinds of fixed points, for the fixed-point analysis on NumPy arrays
ctrnn              FixedPointScan                  numpy  what scan_fixed_points returns
ctrnn              FixedPoints                     numpy  what find_fixed_points returns
ctrnn              locate_bifurcations             numpy  bisection over find_fixed_points, on NumPy arrays (chapter 3's bifurcation diagram)
ctrnn              scan_fixed_points               numpy  find_fixed_points over a family of networks, on NumPy arrays (chapter 3's bifurcation diagram)
ctrnn              ctrnn_lyapunov_exponent         numpy  chaos and limit cycles of chapter 3: largest_lyapunov_exponent for one CTRNN, on NumPy arrays
ctrnn              ctrnn_tangent                   numpy  the linearised flow for the Lyapunov exponent; torch's autograd gives it
ctrnn              largest_lyapunov_exponent       numpy  Benettin's method for any flow given as NumPy functions (chapter 3's figures and tests)
ctrnn              LyapunovEstimate                numpy  what largest_lyapunov_exponent returns
ctrnn              scan_lyapunov_exponents         numpy  the Lyapunov exponent along a family of networks, on NumPy arrays (chapter 3's figure)
ctrnn              CTRNN                           torch  a module holding W_hh, b_h and tau whose forward is simulate_ctrnn; NumPy passes them to simulate_ctrnn
forecast           from_level                      numpy  data preparation on arrays, used after either half's forecaster
forecast           MinMaxScaler                    numpy  data preparation on arrays, used before either half's forecaster
forecast           naive_last_value                numpy  a baseline forecast on arrays, the control for both halves' models
forecast           naive_seasonal                  numpy  a baseline forecast on arrays, the control for both halves' models
forecast           relative_to_level               numpy  data preparation on arrays, used before either half's forecaster
forecast           rmse                            numpy  the error measure on arrays, for both halves' forecasts
forecast           StandardScaler                  numpy  data preparation on arrays, used before either half's forecaster
forecast           evaluate_forecaster             torch  chapter 4b's recipe (scaling, training with autograd, scores); the NumPy forecaster has no backward pass
forecast           fit_forecaster                  torch  trains with autograd; the NumPy forecaster has no backward pass
forecast           predict                         torch  the forecasts of a torch model as a NumPy array, without gradients
gradient_flow      jacobian_products               numpy  the backward products of those Jacobians; torch differentiates the recurrence instead
gradient_flow      jacobians_from_states           numpy  the formula J_t = diag(f'(a_t)) W_hhᵀ; torch differentiates the recurrence instead
gradient_flow      linear_power_norms              numpy  a matrix experiment on NumPy arrays (chapter 5's linear case)
gradient_flow      one_unit_rnn_loss               numpy  chapter 5's cliff: a scalar RNN on a grid of (w, b), BPTT written out
gradient_flow      NONLINEARITIES                  numpy  the torch functions use the model's own nonlinearity
gradient_flow      orthogonal_matrix               numpy  torch has ``nn.init.orthogonal_``
gradient_flow      rnn_states                      numpy  torch takes the states from ElmanRNN(x, h0); NumPy also offers linear units
gradient_flow      scaled_to_spectral_radius       numpy  a matrix tool for building initial weights, on NumPy arrays
gradient_flow      spectral_radius                 numpy  a matrix tool for building initial weights; torch has torch.linalg.eigvals
gradient_flow      loss_input_sensitivity          torch  needs the autograd graph of the per-step losses
gru                GATES                           numpy  the gate order r, u, n, which the torch GRU shares with nn.GRU
gru                gru_step_with_gates             numpy  chapter 6's figure of a cell with gates set by hand
hopfield           fast_classic_retrieve           numpy  the speed variant of classic_retrieve (tested equal), not what the book shows
hopfield           recall_error                    numpy  chapter 9's capacity measurement on NumPy arrays (its figure and its exercise)
hopfield           RULES                           numpy  the storage rules recall_error accepts
hopfield           BagClassifier                   torch  a bag classifier trained with autograd only; its Hopfield pooling has a NumPy reference
hopfield           POOLINGS                        torch  the poolings BagClassifier offers
hopfield           train_bag_classifier            torch  trains a BagClassifier with autograd (seqlearn.torch.train.fit)
language_model     train_with_sgd                  numpy  chapter 4's exploding run: plain SGD on the hand-derived gradient, its norm recorded; torch trains with fit(optimizer="sgd", clip=...)
language_model     LSTMLanguageModel               torch  the course trains stacked LSTM language models in torch only
lstm               fast_lstm_forward               numpy  the speed variant of lstm_forward (tested equal), not what the book shows
lstm               GATES                           numpy  the gate order i, f, g, o, which the torch LSTM shares with nn.LSTM
lstm               PEEPHOLES                       numpy  the names of the peephole vectors
lstm               lstm_block_columns              numpy  the column index that expands memory blocks; the torch LSTM reads it for its block_size
lstm               lstm_block_size                 numpy  tells the block size from a parameter dict; LSTM.from_numpy calls it
lstm               add_gate_biases                 torch  shifts the gate biases of a torch LSTM or nn.LSTM in place; NumPy's init_lstm_params takes forget_bias
lstm               pin_forget_gate                 torch  removes the forget gate of a torch LSTM or nn.LSTM in place (chapter 6b's 1997 LSTM)
lstm               PINNED_FORGET_BIAS              torch  the bias pin_forget_gate sets
lstm               LSTMRecurrence                  torch  the autograd Function of one layer's loop (its backward is lstm_backward in torch)
mlp                mlp_loss_and_gradients          numpy  in torch this is mlp_loss(model(x), t).backward()
mut                check_kind                      numpy  validates a kind string; the torch MUT calls it
mut                KINDS                           numpy  the three cells' names; the torch MUT takes the same kind strings
mut                mut_kind                        numpy  tells the kind from a parameter dict; MUT.from_numpy calls it
mut                PARAM_SHAPES                    numpy  the parameter table of each kind, which the torch MUT reads
perceptron         PerceptronRun                   numpy  what train_perceptron returns
perceptron         train_perceptron                numpy  chapter 2's run with the history of weights for its figures; Perceptron.train_epoch in torch
pixel              independent_pixel_logits        numpy  the baseline (10.3) is a table of level frequencies counted on arrays, not a model to train
pixel              pixel_cnn_loss                  numpy  the mean NLL and its hand-derived gradient; in torch, F.cross_entropy(model(x)).backward()
pixel              raster_context                  numpy  a bool map of the chain rule's context (10.1), for chapter 10's figures and checks
pixel              receptive_field                 numpy  the analytic reach of a masked stack; torch measures any model's with dependency_map
pixel              dependency_map                  torch  measures with autograd which inputs an output depends on; NumPy computes the PixelCNN's analytically
pixel              GatedPixelCNN                   torch  trained with autograd only; its masked convolutions have a NumPy reference
pixel              model_bits_per_dim              torch  the bits/dim of a torch model over a data set, in batches; NumPy's bits_per_dim takes logits
pixel              RowLSTM                         torch  trained with autograd only; its cell is chapter 6's LSTM, whose backward has a NumPy reference
pixel              sample_images                   torch  the one pixel-by-pixel sampler of the torch pixel models; the NumPy half only scores images
pixel              train_pixel_model               torch  trains the torch pixel models with seqlearn.torch.train.fit; NumPy's PixelCNN gives its gradient by pixel_cnn_loss
reservoir          esn_forecast_error              numpy  chapter 9's sweep of spectral radius and leak rate, on NumPy arrays
reservoir          nrmse                           numpy  the error measure on arrays, for both halves' forecasts
reservoir          reservoir_generate              numpy  chapter 9's free-running forecast on arrays; the torch Reservoir reads given inputs
rnn                concat_rnn_params               numpy  rearranges a NumPy parameter dict into chapter 3's one-matrix form; torch modules convert through to_numpy
rnn                split_rnn_params                numpy  the inverse of concat_rnn_params, on NumPy parameter dicts
rnn                rnn_forward                     numpy  mirrored by ElmanRNN
rnn                stacked_rnn_forward             numpy  mirrored by ElmanRNN(num_layers=M)
rnn                unrolled_mlp_params             numpy  chapter 3's demonstration that the unrolled RNN is chapter 2's NumPy MLP with tied weights
rnn                ElmanRNN                        torch  the torch mirror of rnn_forward (and of the stack); named so as not to shadow nn.RNN
rnn                NONLINEARITIES                  torch  the nonlinearities ElmanRNN accepts; NumPy's rnn is tanh only
swin               SwinV2                          torch  a classifier trained with autograd only; its blocks and patch merging have NumPy references
swin               VisionTransformer               torch  chapter 11's ViT control, trained with autograd only; its blocks are chapter 8's
swin               classifier_accuracy             torch  the test accuracy of a torch image classifier, without gradients
swin               digit_images                    torch  the digits as channels-last torch tensors, split for the torch classifiers
swin               random_translate                torch  an augmentation inside the torch training loop of the image classifiers
swin               train_classifier                torch  trains the torch image classifiers with seqlearn.torch.train.fit
transformer        CharTransformer                 torch  a language model trained with autograd only; its blocks have NumPy references
transformer        PositionalEncoding              torch  caches the table per dtype and device; NumPy adds sinusoidal_positional_encoding(T, D) itself
transformer        Transformer                     torch  an encoder-decoder trained with autograd only; its blocks have NumPy references
=================  ==============================  =====  ==================================================
"""

import os
import random

__version__ = "0.1.0"

#: Marks this package as the course's ``seqlearn``; the unrelated PyPI package of the same name
#: (0.2, 2015) lacks it, and the notebooks' setup cell uses that to say what went wrong.
COURSE = "Sequence Learning"

#: Where the course lives; the notebooks' Colab setup cell installs from here (see _config.yml).
REPOSITORY_URL = "https://github.com/sequence-learning/sequence-learning"


def seed(n):
    """Seed Python's ``random``, NumPy's global generator and torch (CPU and CUDA) with ``n``.

    Returns a fresh ``numpy.random.Generator`` seeded with ``n`` for code that prefers one.
    """
    import numpy as np

    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise TypeError(f"seed: argument 'n' must be a non-negative int, got {n!r}")
    n = int(n)
    random.seed(n)
    np.random.seed(n % 2**32)
    try:
        import torch
    except ImportError:  # the NumPy half works without torch
        pass
    else:
        torch.manual_seed(n)
    os.environ["PYTHONHASHSEED"] = str(n)
    return np.random.default_rng(n)


def device():
    """The ``torch.device`` the course's torch code should use: CUDA when present, else CPU."""
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def setup_notebook(seed=0):
    """Seed everything and apply the course's plotting style (the notebooks' setup cell)."""
    from .notebook import setup_notebook as _setup

    _setup(seed)


__all__ = ["__version__", "COURSE", "REPOSITORY_URL", "seed", "device", "setup_notebook"]
