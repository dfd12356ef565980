"""dqnn: dissipative perceptron-based quantum neural networks (Sharma, Cerezo, Cincio, Coles, PRL 128, 180505).

Conventions (stated once here; every docstring refers to them):

- Qubits are 0-based. Layer 0 is the input layer; ``widths[l]`` qubits in layer ``l``.
- Within any register the first qubit is the most significant: the order of ``numpy.kron``, so basis
  index ``b_0 b_1 ... b_{n-1}`` (binary) is ``|b_0> x |b_1> x ...``.
- A perceptron's matrix acts on its ``inputs`` in the order given, then on its ``outputs`` in the order
  given (its local wires ``0 .. m + k - 1``).
- Output qubits of every layer start in |0>; a layer's perceptrons act in the order listed; the inputs
  of a layer are traced out once the layer is done (Eq. 1).
- Circuits (Eq. 5) list their elements in time order: the first element acts first.
- Rotations are ``R(theta) = exp(-i theta Gamma / 2)``.
- Arrays are complex128 (importing any dqnn module that computes enables JAX's x64 mode; see :mod:`dqnn._jax`).
- Stacked data carry a leading batch axis: ``(N, 2**n)`` vectors, ``(N, 2**n, 2**n)`` matrices.

Layout (imports point down this list only): :mod:`dqnn.model` (gates, families, networks, states, angles) ->
:mod:`dqnn.sim` (the Eq. (1) schedule, the gate kernel, the factored simulator, light cones, components,
packed mode) -> :mod:`dqnn.costs` -> :mod:`dqnn.gradients` -> :mod:`dqnn.presets` (the paper's
architectures and their analytic results) -> :mod:`dqnn.moments`, :mod:`dqnn.estimators` ->
:mod:`dqnn.trainability` -> :mod:`dqnn.training` -> :mod:`dqnn.reproduce` -> :mod:`dqnn.cli`.

The names below load on first use, so ``import dqnn`` (and ``dqnn --help``) does not import JAX.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from dqnn import _compat

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_EXPORTS: dict[str, str] = {
    "AngleIndex": "dqnn.model.angles",
    "Circuit": "dqnn.model.families",
    "Factors": "dqnn.sim.simulate",
    "Fixed": "dqnn.model.families",
    "Gate": "dqnn.model.families",
    "HaarUnitary": "dqnn.model.families",
    "HamiltonianRotation": "dqnn.model.hamiltonian",
    "Network": "dqnn.model.network",
    "Perceptron": "dqnn.model.network",
    "RandomUnitary": "dqnn.model.families",
    "Rot": "dqnn.model.families",
    "TrainabilityProblem": "dqnn.trainability.problem",
    "cost": "dqnn.costs",
    "enable_compilation_cache": "dqnn._cache",
    "global_term": "dqnn.costs",
    "grad_cost": "dqnn.gradients",
    "local_term": "dqnn.costs",
    "observable_term": "dqnn.costs",
    "output_factors": "dqnn.sim.simulate",
    "output_state": "dqnn.sim.simulate",
    "per_pair": "dqnn.costs",
    "study": "dqnn.trainability.study",
    "with_noise": "dqnn.model.noise",
}
#: Public submodules reachable as attributes (``dqnn.states.zero_state``).
_SUBMODULES: dict[str, str] = {
    "channels": "dqnn.model.channels",
    "costs": "dqnn.costs",
    "datasets": "dqnn.datasets",
    "estimators": "dqnn.estimators",
    "families": "dqnn.model.families",
    "gates": "dqnn.model.gates",
    "gradients": "dqnn.gradients",
    "model": "dqnn.model",
    "moments": "dqnn.moments",
    "presets": "dqnn.presets",
    "reproduce": "dqnn.reproduce",
    "sim": "dqnn.sim",
    "spec": "dqnn.spec",
    "states": "dqnn.model.states",
    "trainability": "dqnn.trainability",
    "training": "dqnn.training",
}

__all__ = [
    "AngleIndex",
    "Circuit",
    "Factors",
    "Fixed",
    "Gate",
    "HaarUnitary",
    "HamiltonianRotation",
    "Network",
    "Perceptron",
    "RandomUnitary",
    "Rot",
    "TrainabilityProblem",
    "__version__",
    "channels",
    "cost",
    "costs",
    "datasets",
    "enable_compilation_cache",
    "estimators",
    "families",
    "gates",
    "global_term",
    "grad_cost",
    "gradients",
    "local_term",
    "model",
    "moments",
    "observable_term",
    "output_factors",
    "output_state",
    "per_pair",
    "presets",
    "reproduce",
    "sim",
    "spec",
    "states",
    "study",
    "trainability",
    "training",
    "with_noise",
]

_compat.install()


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(_SUBMODULES[name])
    elif name in _compat.MOVED:
        value = _compat.load(name)
    else:
        raise AttributeError(f"module 'dqnn' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from dqnn import (
        datasets,
        estimators,
        gradients,
        model,
        moments,
        presets,
        reproduce,
        sim,
        spec,
        trainability,
        training,
    )
    from dqnn._cache import enable_compilation_cache
    from dqnn.costs import cost, global_term, local_term, observable_term, per_pair
    from dqnn.gradients import grad_cost
    from dqnn.model import channels, families, gates, states
    from dqnn.model.angles import AngleIndex
    from dqnn.model.families import Circuit, Fixed, Gate, HaarUnitary, RandomUnitary, Rot
    from dqnn.model.hamiltonian import HamiltonianRotation
    from dqnn.model.network import Network, Perceptron
    from dqnn.model.noise import with_noise
    from dqnn.sim.simulate import Factors, output_factors, output_state
    from dqnn.trainability.problem import TrainabilityProblem
    from dqnn.trainability.study import study
