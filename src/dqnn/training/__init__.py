"""Training DQNNs: parameter-matrix multiplication, optax gradient descent, run loop, plots.

- :mod:`~dqnn.training.objectives`: global / local / label costs as fidelity observables;
- :mod:`~dqnn.training.pmm`: parameter-matrix multiplication (Eq. 13, Beer et al.);
- :mod:`~dqnn.training.expm`: the batched matrix exponential of its update ``V -> exp(i eps K) V``;
- :mod:`~dqnn.training.gradient`: Adam / SGD on circuit angles (autodiff or parameter shift);
- :mod:`~dqnn.training.pmm_optim`: PMM with momentum, RMSprop, Adam, Nadam (Beer et al.'s MATLAB code);
- :mod:`~dqnn.training.trainer`: :func:`fit` / :func:`train`: any network, any data (:mod:`~dqnn.training.data`),
  PMM and optax together, mini-batches, validation, early stopping, checkpoints and bit-identical resume;
- :mod:`~dqnn.training.networks`: trainable networks from given unitaries;
- :mod:`~dqnn.training.loop`: :class:`TrainConfig` (canned tasks), :func:`sweep`;
- :mod:`~dqnn.training.plots` and :func:`beer_panel` (the Beer-style panel of ``dqnn reproduce``).
"""

from dqnn.training.data import TrainData, load_data, save_data
from dqnn.training.gradient import GradientConfig, circuit_network, hea_perceptron
from dqnn.training.loop import TrainConfig, TrainResult, load_params, prepare, save_params, sweep
from dqnn.training.networks import from_unitaries, trainable
from dqnn.training.objectives import accuracy, objective, observable_factors, per_pair_fidelity
from dqnn.training.panel import beer_panel
from dqnn.training.pmm import PMMConfig, fidelity_and_generators, generators_autodiff, make_pmm_update, pmm_update
from dqnn.training.pmm_optim import PMMOptimizer
from dqnn.training.trainer import EarlyStop, FitResult, fit, train

__all__ = [
    "EarlyStop",
    "FitResult",
    "GradientConfig",
    "PMMConfig",
    "PMMOptimizer",
    "TrainConfig",
    "TrainData",
    "TrainResult",
    "accuracy",
    "beer_panel",
    "circuit_network",
    "fidelity_and_generators",
    "fit",
    "from_unitaries",
    "generators_autodiff",
    "hea_perceptron",
    "load_data",
    "load_params",
    "make_pmm_update",
    "objective",
    "observable_factors",
    "per_pair_fidelity",
    "pmm_update",
    "prepare",
    "save_data",
    "save_params",
    "sweep",
    "train",
    "trainable",
]
