"""Sub-networks: selected perceptrons of a network, with the qubits of every layer renumbered compactly.

Light cones (:class:`dqnn.sim.lightcone.LightCone`: the perceptrons an output's reduced state depends on) and
independent components (:class:`dqnn.sim.components.Component`: perceptrons that share no qubit with the rest)
are both a :class:`SubNetwork`: the kept perceptrons of layers ``start, start + 1, ...`` as a network of their
own, on the qubits they touch, numbered ``0, 1, ...`` in increasing order of the full network's qubits. The
indices of the kept perceptrons carry parameters (:func:`sub_params`) and angle indices (:func:`sub_angle`)
over. A sub-network starting at a layer ``start > 0`` reads qubits that no earlier perceptron wrote, i.e. |0>;
one whose first perceptrons read nothing gets a dummy input qubit (:data:`dqnn.model.states.ZERO_QUBIT`), also
|0>. Conventions: :mod:`dqnn`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from dqnn.model.angles import AngleIndex
from dqnn.model.families import Family, family_key
from dqnn.model.network import Network, NetworkParams, Perceptron
from dqnn.model.states import ZERO_QUBIT


@dataclass(frozen=True, eq=False)
class SubNetwork:
    """Perceptrons ``perceptrons`` of layers ``start, start + 1, ...`` of a network, as the network ``network``.

    Its layer ``l`` is layer ``start + l`` of the full network; ``qubits[l]`` (sorted) are the full-network
    qubits of its layer ``l`` (its qubit ``i`` is full qubit ``qubits[l][i]``) and ``perceptrons[l]`` the
    indices, in full layer ``start + l``, of its perceptrons (in order). ``network`` is None for an empty
    sub-network (a light cone of outputs that no perceptron writes; see :class:`dqnn.sim.lightcone.LightCone`).
    """

    network: Network | None
    start: int
    qubits: tuple[tuple[int, ...], ...]
    perceptrons: tuple[tuple[int, ...], ...]

    @property
    def width(self) -> int:
        """Qubits of the widest layer (0 when empty)."""
        if self.network is None:
            return 0
        return max(len(q) for q in self.qubits)

    @property
    def reads_input(self) -> bool:
        """Whether its input is the full network's input on ``qubits[0]`` (else it is |0...0>)."""
        return self.network is not None and self.start == 0 and self.qubits[0] != (ZERO_QUBIT,)

    @property
    def input_qubits(self) -> tuple[int, ...]:
        """The full-network input qubit of each of its input qubits; :data:`ZERO_QUBIT` (|0>) when it reads none."""
        return self.qubits[0] if self.reads_input else (ZERO_QUBIT,) * len(self.qubits[0])

    def contains(self, layer: int, perceptron: int) -> bool:
        """Whether perceptron ``perceptron`` of full layer ``layer`` is in the sub-network."""
        l = layer - self.start
        return 0 <= l < len(self.perceptrons) and perceptron in self.perceptrons[l]

    def signature(self) -> tuple[Any, ...]:
        """A hashable structure key: sub-networks with equal signatures differ only in their qubit labels.

        Families are compared by :func:`dqnn.model.families.family_key` (equal Haar families are interchangeable).
        """
        if self.network is None:
            return ("empty",)
        rows = tuple(
            tuple((p.inputs, p.outputs, family_key(p.unitary)) for p in layer) for layer in self.network.layers
        )
        return (self.network.widths, rows, self.reads_input)


def renumber(
    net: Network,
    start: int,
    rows: Sequence[Sequence[int]],
    outputs: Sequence[int] = (),
    family: Callable[[Family], Family] | None = None,
) -> tuple[Network, tuple[tuple[int, ...], ...]]:
    """The sub-network of perceptrons ``rows[l]`` (sorted indices) of full layers ``start + l``, and its qubits.

    ``rows`` covers layers ``start .. net.depth - 1``; ``outputs``: output qubits to keep in the last layer even
    when no kept perceptron writes them (they stay |0>); ``family``: maps each perceptron's family to the one
    the sub-network uses (default: the same). Returns ``(network, qubits)`` as in :class:`SubNetwork`.
    """
    depth = net.depth - start
    qubits: list[set[int]] = [set() for _ in range(depth + 1)]
    qubits[-1].update(outputs)
    for l in range(depth):
        for j in rows[l]:
            p = net.layers[start + l][j]
            qubits[l].update(p.inputs)
            qubits[l + 1].update(p.outputs)
    order = [tuple(sorted(q)) for q in qubits]
    if not order[0]:  # the first kept perceptrons read nothing: a dummy |0> input
        order[0] = (ZERO_QUBIT,)
    index = [{q: i for i, q in enumerate(qs)} for qs in order]
    layers = []
    for l in range(depth):
        row = []
        for j in rows[l]:
            p = net.layers[start + l][j]
            fam = p.unitary if family is None else family(p.unitary)
            row.append(Perceptron([index[l][q] for q in p.inputs], [index[l + 1][q] for q in p.outputs], fam))
        layers.append(row)
    return Network([len(q) for q in order], layers), tuple(order)


def sub_params(sub: SubNetwork, params: NetworkParams) -> NetworkParams:
    """The parameters of the sub-network, picked out of the full network's ``params[l][j]``."""
    return tuple(tuple(params[sub.start + l][j] for j in js) for l, js in enumerate(sub.perceptrons))


def sub_angle(sub: SubNetwork, idx: AngleIndex) -> AngleIndex | None:
    """The index of full-network angle ``idx`` in the sub-network (None when it is outside)."""
    if not sub.contains(idx.layer, idx.perceptron):
        return None
    l = idx.layer - sub.start
    return AngleIndex(l, sub.perceptrons[l].index(idx.perceptron), idx.angle)


__all__ = ["SubNetwork", "renumber", "sub_angle", "sub_params"]
