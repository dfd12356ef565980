"""Gradient problems of the paper: an architecture, a cost, one differentiated angle, and the data.

A :class:`GradientProblem` fixes everything the trainability analysis averages over except the random
initialisation: the network (``arch`` at width ``n`` and depth ``layers``), the cost (``"global"``,
Eq. 3, or ``"local"``, Eq. 4), the angle ``theta_nu`` being differentiated, and one training pair
(input ``|0...0>``, target ``|0...0>``; both costs are then as in the paper's Fig. 3a example).

Architectures (all built by :mod:`dqnn.architectures`):

- ``"fig3a"``: :func:`~dqnn.architectures.fig3a`; angle: layer 0, perceptron 0 (``R_y`` on qubit 0);
- ``"fig3b"``: :func:`~dqnn.architectures.fig3b` with ``layers`` DQNN layers (``layers / 2`` brick layers);
  angle: the ``R_y`` inside ``W = A R_y B`` of the first ``V1`` of layer 0 (qubits 0, 1);
- ``"global"``: :func:`~dqnn.architectures.global_haar` with widths ``[n] * (layers + 1)`` (Theorem 1);
  angle: the ``R_y`` of ``A R_y B`` in perceptron 0 of layer 0 (A, B Haar on ``n + 1`` qubits).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import jax.numpy as jnp

from dqnn import architectures, states
from dqnn._jax import Array
from dqnn.cost import CostKind
from dqnn.gradients import AngleIndex, check_index
from dqnn.network import Network

Arch = Literal["fig3a", "fig3b", "global"]
ARCHES: tuple[str, ...] = ("fig3a", "fig3b", "global")


def zero_pair(n: int, cost: CostKind) -> tuple[Array, Array]:
    """Input and target ``|0...0>`` on ``n`` qubits, stacked: inputs (1, 2**n), targets (1, 2**n) for the
    global cost or the single-qubit factors (1, n, 2) for the local cost."""
    x = states.zero_state(n)[None]
    if cost == "global":
        return x, states.zero_state(n)[None]
    return x, jnp.tile(jnp.array([1.0, 0.0], dtype=jnp.complex128), (1, n, 1))


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
        if self.n < (2 if self.arch == "fig3b" else 1) or self.layers < 1:
            raise ValueError(f"GradientProblem: n={self.n}, layers={self.layers} too small for {self.arch}")

    def network(self) -> Network:
        """The network of this problem."""
        if self.arch == "fig3a":
            return architectures.fig3a(self.n, self.layers)
        if self.arch == "fig3b":
            return architectures.fig3b(self.n, self.layers)
        return architectures.global_haar([self.n] * (self.layers + 1), differentiate=self.angle[:2])

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
        """A short name such as ``fig3a-global-n4-L1``."""
        return f"{self.arch}-{self.cost}-n{self.n}-L{self.layers}"
