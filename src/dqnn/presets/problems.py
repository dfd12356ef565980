"""Gradient problems of the paper: an architecture, a cost, one differentiated angle, and the data.

A :class:`GradientProblem` fixes everything the trainability analysis averages over except the random
initialisation: the network (``arch`` at width ``n`` and depth ``layers``), the cost (``"global"``,
Eq. 3, or ``"local"``, Eq. 4), the angle ``theta_nu`` being differentiated, and one training pair
(input ``|0...0>``, target ``|0...0>``; both costs are then as in the paper's Fig. 3a example).

The architectures and their differentiated angles are those of :data:`dqnn.presets.registry.PRESETS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import jax.numpy as jnp
import numpy as np

from dqnn._jax import Array
from dqnn.costs import CostKind
from dqnn.model.angles import AngleIndex, check_index
from dqnn.model.network import Network
from dqnn.presets.registry import ANGLE_PRESETS, preset

Arch = Literal["fig3a", "fig3b", "global"]
#: The presets with a circuit angle (:data:`dqnn.presets.registry.ANGLE_PRESETS`).
ARCHES: tuple[str, ...] = ANGLE_PRESETS


def zero_pair(n: int, cost: CostKind) -> tuple[Array, Array]:
    """Input and target ``|0...0>`` on ``n`` qubits, stacked: inputs (1, 2**n), targets (1, 2**n) for the
    global cost or the single-qubit factors (1, n, 2) for the local cost."""
    zero = np.zeros((1, 2**n), dtype=np.complex128)
    zero[0, 0] = 1.0
    x = jnp.asarray(zero)  # built in NumPy: constants need no XLA program
    if cost == "global":
        return x, jnp.asarray(zero)
    return x, jnp.asarray(np.tile(np.array([1.0, 0.0], dtype=np.complex128), (1, n, 1)))


def point_label(arch: str, cost: str, n: int, layers: int) -> str:
    """The one name of a study point, e.g. ``fig3a-global-n4-L1`` (file names, tables and plots use it)."""
    return f"{arch}-{cost}-n{n}-L{layers}"


@dataclass(frozen=True)
class GradientProblem:
    """One point of a trainability study: ``Var[d C / d theta_nu]`` over random initialisations."""

    arch: Arch
    n: int
    layers: int = 1
    cost: CostKind = "global"
    index: AngleIndex | None = None  # None: the default angle of the architecture (module doc)

    def __post_init__(self) -> None:
        if self.arch not in ARCHES:
            raise ValueError(f"GradientProblem: arch {self.arch!r} is not one of {ARCHES}")
        if self.cost not in ("global", "local"):
            raise ValueError(f"GradientProblem: cost {self.cost!r} is not 'global' or 'local'")
        if self.n < preset(self.arch).min_n or self.layers < 1:
            raise ValueError(f"GradientProblem: n={self.n}, layers={self.layers} too small for {self.arch}")

    def network(self) -> Network:
        """The network of this problem."""
        return preset(self.arch).network(self.n, self.layers, AngleIndex(*self.angle))

    @property
    def angle(self) -> tuple[int, int, int]:
        """``(layer, perceptron, angle)`` of the differentiated angle."""
        if self.index is not None:
            return (self.index.layer, self.index.perceptron, self.index.angle)
        return (0, 0, 0)

    def angle_index(self, net: Network | None = None) -> AngleIndex:
        """The differentiated angle as an :class:`~dqnn.gradients.AngleIndex` (checked against the network)."""
        idx = AngleIndex(*self.angle)
        check_index(net if net is not None else self.network(), idx)
        return idx

    def data(self) -> tuple[Array, Array]:
        """One training pair, stacked (see :func:`zero_pair`)."""
        return zero_pair(self.n, self.cost)

    def label(self) -> str:
        """A short name such as ``fig3a-global-n4-L1`` (:func:`point_label`)."""
        return point_label(self.arch, self.cost, self.n, self.layers)
