"""The one map between dqnn's qubit order and Qiskit's.

dqnn: in any register the first qubit is the most significant (``numpy.kron`` order; :mod:`dqnn`). Qiskit is
little-endian: in a gate's matrix, a ``DensityMatrix``, a Pauli label read right to left, or a measured integer,
the *first* of the ``qargs`` is the least significant. So a dqnn register ``[q_0, ..., q_(n-1)]`` (``q_0`` most
significant) is handed to Qiskit reversed; then

- ``UnitaryGate(M)`` on ``qiskit_qargs(wires)`` is the dqnn matrix ``M`` on ``wires`` (unchanged);
- a Pauli string ``"XY"`` (X on the first wire) is the same label on ``qiskit_qargs(wires)``;
- ``save_density_matrix(qiskit_qargs(qubits))`` returns the dqnn-ordered matrix of ``qubits``;
- measuring ``qiskit_qargs(qubits)`` into classical bits ``0..n-1`` gives integers equal to dqnn basis indices.

Every Qiskit call in :mod:`dqnn.hardware` goes through :func:`qiskit_qargs`; nothing else reverses a register.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def qiskit_qargs(qubits: Sequence[T]) -> list[T]:
    """A dqnn-ordered register (first qubit most significant) as Qiskit ``qargs`` (first least significant)."""
    return list(qubits)[::-1]


__all__ = ["qiskit_qargs"]
