"""Backward light cones: the part of a network that each local term of Eq. (4) depends on.

For local perceptrons the reduced state of output qubit ``j`` depends on a small part of the network. Walking
the layers backwards from ``j``, keep the set ``S`` of wires (qubits of layers ``l`` and ``l + 1``) whose
state matters; within a layer, perceptrons are visited in reverse order of action, and a perceptron is
*relevant* if any of its wires is in ``S`` (then all its wires join ``S``). So a perceptron that acts earlier
on an input that a later relevant perceptron reads is relevant too, while perceptrons that act only on
wires outside ``S`` (at the time they act) cannot change the reduced state: they are dropped. The input
qubits in ``S`` after the walk of layer ``l`` are the output qubits that matter in layer ``l - 1``.

:func:`light_cone` returns that sub-network (:class:`LightCone`, a :class:`dqnn.sim.subnet.SubNetwork`) with
the qubits of every layer renumbered compactly (in increasing order) and the indices of the kept
perceptrons, so that parameters (:func:`sub_params`) and angle indices (:func:`sub_angle`) carry over; its
perceptrons' circuits have their consecutive gates on <= 2 wires fused (:func:`fused`), the gates the cone
engine plans with. When no perceptron of some layer is relevant, everything before it is irrelevant and the
qubits that matter start in |0>: the sub-network then starts at that layer (``start > 0``) from
``|0...0>``; an output qubit touched by no perceptron of the last layer stays |0> and has no sub-network at
all. :func:`light_cone` also takes a set of output qubits: the *joint* cone (the union of their cones) gives
all their terms from one simulation. :func:`gradient_terms` lists the cones that hold a given angle.

The cones are simulated by :mod:`dqnn.sim.cone_engine` (the local cost) and differentiated by
:mod:`dqnn.sim.cone_gradients` (gradients of one angle, the trainability sampler). Conventions: :mod:`dqnn`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from dqnn._jax import Array
from dqnn.model.angles import AngleIndex, check_index
from dqnn.model.families import Circuit, Family, Op, fuse
from dqnn.model.network import Network
from dqnn.model.states import factors_on, product_vector
from dqnn.sim.subnet import SubNetwork, renumber, sub_angle, sub_params


@dataclass(frozen=True, eq=False)
class LightCone(SubNetwork):
    """The backward light cone of output qubit(s) ``outputs`` of a network: a :class:`~dqnn.sim.subnet.SubNetwork`.

    ``network`` is None when no output is touched by a perceptron of the last layer (they all stay |0>).
    ``positions``: the index of each output among the sub-network's output qubits. When ``start > 0`` the
    sub-network's input is ``|0...0>``; otherwise it is the full input restricted to ``qubits[0]``.
    """

    outputs: tuple[int, ...]
    positions: tuple[int, ...]

    @property
    def output(self) -> int:
        """The (first) output qubit of the cone."""
        return self.outputs[0]

    @property
    def position(self) -> int:
        """The index of :attr:`output` among the sub-network's output qubits."""
        return self.positions[0]

    def signature(self) -> tuple[Any, ...]:
        """:meth:`SubNetwork.signature <dqnn.sim.subnet.SubNetwork.signature>` and the outputs' positions:
        cones with equal signatures differ only in their qubit labels."""
        return (*super().signature(), self.positions)


@dataclass(frozen=True, eq=False)
class Fused:
    """``family`` with runs of consecutive gates on at most two wires multiplied into one gate (exactly equal).

    ``init``, ``matrix``, ``num_qubits`` and ``num_angles`` are those of ``family``; its ops are
    :func:`dqnn.model.families.fuse` of ``family``'s (SWAPs stay relabellings).
    """

    family: Family

    @property
    def num_qubits(self) -> int:
        """Local wires of the family."""
        return self.family.num_qubits

    @property
    def num_angles(self) -> int:
        """Circuit angles of the family."""
        return self.family.num_angles

    def init(self, key: Array) -> Any:
        """The family's initialisation."""
        return self.family.init(key)

    def matrix(self, params: Any) -> Array:
        """The family's matrix."""
        return self.family.matrix(params)

    def ops(self, params: Any) -> list[Op]:
        """The family's ops with consecutive gates on <= 2 wires fused."""
        return fuse(self.family.ops(params))


_FUSED: dict[int, tuple[Family, Fused]] = {}


def fused(family: Family) -> Family:
    """The (cached, so shared between cones) :class:`Fused` form of a circuit family; other families as they are."""
    if not isinstance(family, Circuit):
        return family
    hit = _FUSED.get(id(family))
    if hit is None or hit[0] is not family:
        hit = (family, Fused(family))
        _FUSED[id(family)] = hit
    return hit[1]  # type: ignore[return-value]


def relevant_perceptrons(net: Network, output: int | Sequence[int]) -> list[list[int]]:
    """For every layer ``l``, the (sorted) indices of the perceptrons of ``layers[l]`` in the cone of ``output``.

    ``output``: one output qubit or several (their joint cone).
    """
    wanted = [output] if isinstance(output, (int, np.integer)) else list(output)
    if not wanted:
        raise ValueError("light_cone: need at least one output qubit")
    for o in wanted:
        if not 0 <= o < net.num_outputs:
            raise ValueError(f"light_cone: output qubit {o} out of range (network has {net.num_outputs})")
    rel: list[list[int]] = [[] for _ in range(net.depth)]
    outs = {int(o) for o in wanted}  # qubits of layer l + 1 whose state matters
    for l in range(net.depth - 1, -1, -1):
        s_in: set[int] = set()
        s_out = set(outs)
        for j in range(len(net.layers[l]) - 1, -1, -1):
            p = net.layers[l][j]
            if s_out.intersection(p.outputs) or s_in.intersection(p.inputs):
                rel[l].append(j)
                s_out.update(p.outputs)
                s_in.update(p.inputs)
        rel[l].reverse()
        outs = s_in
    return rel


def light_cone(net: Network, output: int | Sequence[int]) -> LightCone:
    """The backward light cone of output qubit ``output`` (0-based), or the joint cone of several, renumbered."""
    rel = relevant_perceptrons(net, output)
    outputs = (int(output),) if isinstance(output, (int, np.integer)) else tuple(int(o) for o in output)
    if not rel[-1]:
        kept = (tuple(sorted(set(outputs))),)
        return LightCone(None, net.depth, kept, (), outputs=outputs, positions=tuple(range(len(outputs))))
    start = net.depth
    while start > 0 and rel[start - 1]:
        start -= 1
    rows = rel[start:]
    sub, qubits = renumber(net, start, rows, outputs=outputs, family=fused)
    positions = tuple(qubits[-1].index(o) for o in outputs)
    return LightCone(sub, start, qubits, tuple(tuple(r) for r in rows), outputs=outputs, positions=positions)


def light_cones(net: Network) -> list[LightCone]:
    """The light cone of every output qubit, in order."""
    return [light_cone(net, j) for j in range(net.num_outputs)]


def cone_factors(cone: LightCone, input_factors: Array) -> Array:
    """The sub-network's input factors (w0, 2): ``input_factors`` (n_in, 2) on ``qubits[0]``, or |0> each."""
    return factors_on(input_factors, cone.input_qubits)


def cone_input(cone: LightCone, input_factors: Array) -> Array:
    """The sub-network's input vector (2**w0,): ``input_factors`` (n_in, 2) on ``qubits[0]``, or |0...0>."""
    return product_vector(cone_factors(cone, input_factors))


def influenced_outputs(net: Network, layer: int, perceptron: int) -> list[int]:
    """Output qubits whose light cone may contain perceptron ``perceptron`` of ``layer`` (a superset, cheap)."""
    first = net.layers[layer][perceptron]
    hot_in = set(first.inputs)
    hot_out = set(first.outputs)
    for p in net.layers[layer][perceptron + 1 :]:
        if hot_in.intersection(p.inputs) or hot_out.intersection(p.outputs):
            hot_in.update(p.inputs)
            hot_out.update(p.outputs)
    for l in range(layer + 1, net.depth):
        hot_in, hot_out = hot_out, set()
        for p in net.layers[l]:
            if hot_in.intersection(p.inputs) or hot_out.intersection(p.outputs):
                hot_in.update(p.inputs)
                hot_out.update(p.outputs)
    return sorted(hot_out)


def gradient_terms(net: Network, idx: AngleIndex) -> list[LightCone]:
    """The light cones of the output qubits whose local term depends on angle ``idx`` (the others are constant)."""
    check_index(net, idx)
    cones = [light_cone(net, o) for o in influenced_outputs(net, idx.layer, idx.perceptron)]
    return [c for c in cones if c.contains(idx.layer, idx.perceptron)]


__all__ = [
    "Fused",
    "LightCone",
    "cone_factors",
    "cone_input",
    "fused",
    "gradient_terms",
    "influenced_outputs",
    "light_cone",
    "light_cones",
    "relevant_perceptrons",
    "sub_angle",
    "sub_params",
]
