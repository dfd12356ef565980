"""Training DQNNs: parameter-matrix multiplication, optax gradient descent, run loop, plots.

- :mod:`~dqnn.training.objectives`: global / local / label costs as fidelity observables;
- :mod:`~dqnn.training.pmm`: parameter-matrix multiplication (Eq. 13, Beer et al.);
- :mod:`~dqnn.training.gradient`: Adam / SGD on circuit angles (autodiff or parameter shift);
- :mod:`~dqnn.training.loop`: :class:`TrainConfig`, :func:`train` (checkpoints, resume), :func:`sweep`;
- :mod:`~dqnn.training.plots` and :func:`beer_panel` (the Beer-style panel of ``dqnn reproduce``).
"""

from dqnn.training.gradient import GradientConfig, circuit_network, hea_perceptron
from dqnn.training.loop import TrainConfig, TrainResult, load_params, prepare, save_params, sweep, train
from dqnn.training.objectives import accuracy, objective, observable_factors, per_pair_fidelity
from dqnn.training.panel import beer_panel
from dqnn.training.pmm import PMMConfig, fidelity_and_generators, generators_autodiff, make_pmm_update, pmm_update

__all__ = [
    "GradientConfig",
    "PMMConfig",
    "TrainConfig",
    "TrainResult",
    "accuracy",
    "beer_panel",
    "circuit_network",
    "fidelity_and_generators",
    "generators_autodiff",
    "hea_perceptron",
    "load_params",
    "make_pmm_update",
    "objective",
    "observable_factors",
    "per_pair_fidelity",
    "pmm_update",
    "prepare",
    "save_params",
    "sweep",
    "train",
]
