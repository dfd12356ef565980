"""Trainable networks from given unitaries.

:meth:`dqnn.Network.from_unitaries` builds :class:`~dqnn.model.families.Fixed` perceptrons, which no training
method changes. :func:`trainable` turns every Fixed perceptron of a network into a
:class:`~dqnn.model.families.HaarUnitary` whose initial matrix ``u`` is the given one, so that
parameter-matrix multiplication starts from exactly those unitaries; :func:`from_unitaries` does both steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
from numpy.typing import ArrayLike

from dqnn.model.families import Fixed, HaarUnitary
from dqnn.model.network import Network, NetworkParams, Perceptron


def trainable(net: Network, params: NetworkParams | None = None) -> tuple[Network, NetworkParams]:
    """``(network, params)``: ``net`` with each Fixed perceptron replaced by a HaarUnitary starting at its matrix.

    ``params`` (default: ``net.init(key(0))``, which for Fixed perceptrons is empty) supplies the other
    perceptrons' parameters, unchanged.
    """
    base = net.init(jax.random.key(0)) if params is None else params
    layers: list[list[Perceptron]] = []
    out: list[tuple[Any, ...]] = []
    for l, layer in enumerate(net.layers):
        row: list[Perceptron] = []
        prow: list[Any] = []
        for j, p in enumerate(layer):
            if isinstance(p.unitary, Fixed):
                row.append(Perceptron(p.inputs, p.outputs, HaarUnitary(p.unitary.num_qubits)))
                prow.append({"u": jnp.asarray(p.unitary.unitary, dtype=jnp.complex128)})
            else:
                row.append(p)
                prow.append(base[l][j])
        layers.append(row)
        out.append(tuple(prow))
    return Network(net.widths, layers, strict=net.strict), tuple(out)


def from_unitaries(widths: Sequence[int], unitaries: Sequence[Sequence[ArrayLike]]) -> tuple[Network, NetworkParams]:
    """Global perceptrons (as :meth:`Network.from_unitaries`) that PMM trains, starting at ``unitaries[l][j]``."""
    return trainable(Network.from_unitaries(widths, unitaries))


__all__ = ["from_unitaries", "trainable"]
