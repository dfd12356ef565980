"""Classical shadows (Huang, Kueng, Preskill, Nat. Phys. 16, 1050 (2020)) of a DQNN output state.

A *snapshot* applies a random unitary ``U`` to the output state, measures every qubit in the computational
basis (outcome ``b`` drawn exactly from the Born distribution, seeded) and keeps the classical record. Its
inverted measurement channel gives an unbiased single-shot estimate ``rho_hat`` of ``rho``:

- random single-qubit Paulis (``U = U_0 x ... x U_{n-1}``, each measuring X, Y or Z uniformly):
  ``rho_hat = x_j (3 U_j^dagger |b_j><b_j| U_j - 1)``; its one-qubit marginals ``3 U_j^dagger|b_j><b_j|U_j - 1``
  estimate the reduced states, hence the local cost (Eq. 4);
- random global Cliffords (uniform on the n-qubit Clifford group, sampled by qiskit's seeded
  ``random_clifford``, Bravyi-Maslov, and applied gate by gate from its tableau, :func:`clifford_gates`):
  ``rho_hat = (2**n + 1) |s><s| - 1`` with the stabilizer state
  ``|s> = U^dagger|b>``; so ``<phi|rho_hat|phi> = (2**n + 1)|<phi|s>|**2 - 1`` estimates the fidelity in the
  global cost (Eq. 3), with per-snapshot variance below ``3`` for a pure target (shadow norm of a projector).

Estimates use the median of means: the ``N`` snapshot values are split into ``groups`` equal batches (in
random order; the remainder is dropped), each averaged, and the median of the batch means is returned. The
stated error is the normal-approximation standard error of that median, ``sqrt(pi/2) * s / sqrt(N')``
(``s``: sample standard deviation of the snapshot values, ``N'`` snapshots used; ``pi/2`` is the large-K
variance inflation of a median of K normal means, conservative for small K; ``groups = 1`` gives the plain
mean and ``s / sqrt(N')``). The median of means is what gives the HKP guarantee
``|estimate - truth| <= eps`` with probability ``1 - delta`` for ``groups = 2 log(1/delta)`` and
``N >= 34 groups ||O||_shadow**2 / eps**2`` (:func:`hkp_error_bound`).

Qubit order everywhere: qubit 0 most significant (see :mod:`dqnn`); qiskit is little-endian and its
matrices are converted by :func:`clifford_unitary`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from dqnn.costs import CostKind
from dqnn.estimators.base import (
    Estimate,
    Seed,
    as_numpy,
    born_probabilities,
    check_target,
    num_qubits,
    rng_from,
    sample_counts,
)
from dqnn.sim.simulate import Factors

#: Rotations ``U`` taking the eigenbasis of X, Y, Z to the computational basis (index 0, 1, 2):
#: ``H``, ``H S^dagger`` and ``1``; measuring ``U rho U^dagger`` in Z measures the Pauli.
PAULI_ROTATIONS: np.ndarray = np.array(
    [
        np.array([[1, 1], [1, -1]]) / np.sqrt(2),
        np.array([[1, -1j], [1, 1j]]) / np.sqrt(2),
        np.eye(2),
    ],
    dtype=np.complex128,
)

#: Default number of median-of-means batches (``2 log(1/delta)`` for ``delta ~ 0.7%``).
DEFAULT_GROUPS = 10


@dataclass(frozen=True)
class PauliShadow:
    """Random-Pauli snapshots: ``bases`` (N, n) in {0: X, 1: Y, 2: Z} and outcome ``bits`` (N, n) in {0, 1}."""

    bases: np.ndarray
    bits: np.ndarray

    @property
    def snapshots(self) -> int:
        """Number of snapshots N."""
        return int(self.bases.shape[0])

    def qubit_snapshots(self) -> np.ndarray:
        """Single-qubit snapshot states ``3 U^dagger|b><b|U - 1`` (N, n, 2, 2)."""
        u = PAULI_ROTATIONS[self.bases]  # (N, n, 2, 2)
        row = np.take_along_axis(u, self.bits[..., None, None].astype(np.intp), axis=-2)[..., 0, :]  # <b|U
        proj = np.conj(row)[..., :, None] * row[..., None, :]
        return 3.0 * proj - np.eye(2)

    def reduced_states(self) -> np.ndarray:
        """Shadow estimates of the one-qubit reduced states (n, 2, 2) (mean of the snapshots)."""
        return self.qubit_snapshots().mean(axis=0)

    def overlaps(self, factors: ArrayLike) -> np.ndarray:
        """Per-snapshot estimates of ``<psi_j|rho_j|psi_j>`` (N, n) for single-qubit targets (n, 2)."""
        psi = np.asarray(factors, dtype=np.complex128)
        psi = psi / np.linalg.norm(psi, axis=-1, keepdims=True)
        amp = np.einsum("snab,nb->sna", PAULI_ROTATIONS[self.bases], psi)  # U_j psi_j
        prob = np.abs(np.take_along_axis(amp, self.bits[..., None].astype(np.intp), axis=-1)[..., 0]) ** 2
        return 3.0 * prob - 1.0


@dataclass(frozen=True)
class CliffordShadow:
    """Random-Clifford snapshots, kept as the stabilizer states ``U^dagger|b>`` (N, 2**n)."""

    states: np.ndarray

    @property
    def snapshots(self) -> int:
        """Number of snapshots N."""
        return int(self.states.shape[0])

    def fidelities(self, target: ArrayLike) -> np.ndarray:
        """Per-snapshot estimates ``(2**n + 1)|<phi|s>|**2 - 1`` (N,) of ``<phi|rho|phi>`` for ``phi`` (2**n,)."""
        phi = np.asarray(target, dtype=np.complex128)
        phi = phi / np.linalg.norm(phi)
        d = self.states.shape[1]
        return (d + 1) * np.abs(self.states @ phi.conj()) ** 2 - 1.0


def _check_snapshots(snapshots: int) -> int:
    if isinstance(snapshots, bool) or int(snapshots) != snapshots or snapshots < 1:
        raise ValueError(f"snapshots={snapshots!r}: need an integer >= 1")
    return int(snapshots)


def pauli_shadow(state: Factors, snapshots: int, seed: Seed) -> PauliShadow:
    """``snapshots`` random-Pauli snapshots of ``state`` (n qubits), seeded.

    The bases are drawn uniformly; snapshots sharing a basis setting are sampled together from that
    setting's exact Born distribution (``multinomial``), then the records are shuffled into random order.
    """
    m = _check_snapshots(snapshots)
    n = num_qubits(state)
    rng = rng_from(seed)
    state = as_numpy(state)
    bases = rng.integers(0, 3, size=(m, n))
    settings, per_setting = np.unique(bases, axis=0, return_counts=True)
    bits_of = ((np.arange(2**n)[:, None] >> np.arange(n - 1, -1, -1)[None, :]) & 1).astype(np.int8)
    records_b, records_s = [], []
    for k, (setting, count) in enumerate(zip(settings, per_setting, strict=True)):
        counts = sample_counts(born_probabilities(state, PAULI_ROTATIONS[setting]), int(count), rng)
        records_b.append(np.repeat(np.arange(2**n), counts))
        records_s.append(np.full(int(count), k))
    order = rng.permutation(m)
    s_idx = np.concatenate(records_s)[order]
    b_idx = np.concatenate(records_b)[order]
    return PauliShadow(settings[s_idx].astype(np.int8), bits_of[b_idx])


def clifford_matrix(clifford: Any) -> np.ndarray:
    """The unitary (2**n, 2**n), complex128, of a ``qiskit.quantum_info.Clifford`` in dqnn's qubit order.

    qiskit orders qubits little-endian (its qubit 0 least significant); the qubit axes are reversed so that
    qiskit's qubit ``j`` is dqnn's qubit ``j`` (qubit 0 most significant). The global phase is arbitrary.
    """
    n = int(clifford.num_qubits)
    u = np.asarray(clifford.to_matrix(), dtype=np.complex128)
    rev = list(range(n - 1, -1, -1))
    return u.reshape((2,) * (2 * n)).transpose(rev + [n + q for q in rev]).reshape(2**n, 2**n)


def clifford_unitary(num_qubits: int, seed: Seed) -> np.ndarray:
    """A uniformly random n-qubit Clifford unitary (2**n, 2**n), qubit 0 most significant (seeded).

    Sampled by ``qiskit.quantum_info.random_clifford`` (Bravyi-Maslov; ``stim.Tableau.random`` takes no seed),
    converted by :func:`clifford_matrix`.
    """
    from qiskit.quantum_info import random_clifford  # slow import: only shadows need it

    return clifford_matrix(random_clifford(int(num_qubits), seed=rng_from(seed)))


def clifford_gates(clifford: Any) -> list[tuple[np.ndarray, tuple[int, ...]]]:
    """A ``qiskit.quantum_info.Clifford`` as time-ordered gates ``(matrix, wires)`` in dqnn's qubit order.

    The tableau is synthesised into one- and two-qubit gates (``Clifford.to_circuit``, O(n**2) of them; no dense
    matrix); the one-qubit gates on a wire are multiplied into the next two-qubit gate on it. qiskit's qubit ``j``
    is dqnn's qubit ``j`` (as in :func:`clifford_matrix`); a gate's matrix on qiskit qubits ``[q0, q1]`` (``q0``
    least significant) is the same matrix on dqnn wires ``(q1, q0)``.
    """
    circ = clifford.to_circuit()
    out: list[tuple[np.ndarray, tuple[int, ...]]] = []
    pending: dict[int, np.ndarray] = {}  # one-qubit gates on a wire since the last two-qubit gate on it
    eye = np.eye(2, dtype=np.complex128)
    index = {q: i for i, q in enumerate(circ.qubits)}
    for inst in circ.data:
        wires = tuple(index[q] for q in inst.qubits)[::-1]
        name = inst.operation.name
        m = _GATE_MATRICES.get(name)
        if m is None:
            m = _GATE_MATRICES.setdefault(name, np.asarray(inst.operation.to_matrix(), dtype=np.complex128))
        if len(wires) == 1:
            pending[wires[0]] = m @ pending.get(wires[0], eye)
        else:
            before = np.kron(pending.pop(wires[0], eye), pending.pop(wires[1], eye))
            out.append((m @ before, wires))
    out.extend((m, (w,)) for w, m in sorted(pending.items()))
    return out


#: Matrices of the (parameter-free) gates that Clifford synthesis emits, by name (filled on first use).
_GATE_MATRICES: dict[str, np.ndarray] = {}


def apply_gates(gates_: list[tuple[np.ndarray, tuple[int, ...]]], t: np.ndarray, adjoint: bool = False) -> np.ndarray:
    """``U t`` (or ``U^dagger t``) for ``t`` (2**n,) or (2**n, r) and ``U`` the product of time-ordered ``gates_``.

    Gate by gate on a ``(2,)*n`` tensor: O(len(gates_) 2**n r), never a ``2**n`` square matrix.
    """
    d = t.shape[0]
    n = d.bit_length() - 1
    x = np.asarray(t, dtype=np.complex128).reshape((2,) * n + t.shape[1:])
    seq = [(m.conj().T, w) for m, w in reversed(gates_)] if adjoint else gates_
    for m, wires in seq:
        k = len(wires)
        x = np.tensordot(m.reshape((2,) * (2 * k)), x, axes=(list(range(k, 2 * k)), list(wires)))
        x = np.moveaxis(x, list(range(k)), list(wires))
    return x.reshape(t.shape)


def clifford_shadow(state: Factors, snapshots: int, seed: Seed) -> CliffordShadow:
    """``snapshots`` random-Clifford snapshots of ``state`` (n qubits), seeded: stabilizer states (N, 2**n).

    Each snapshot draws a uniform Clifford (``random_clifford``, seeded by the shared generator), applies it gate by
    gate (:func:`apply_gates`, no dense ``2**n`` matrix: n = 12 takes milliseconds a snapshot), samples ``b`` from
    the exact Born distribution and keeps ``U^dagger|b>`` (the inverse gates applied to ``|b>``). The same draws,
    and so the same distribution, as applying the dense :func:`clifford_unitary`.
    """
    from qiskit.quantum_info import random_clifford  # slow import: only shadows need it

    m = _check_snapshots(snapshots)
    n = num_qubits(state)
    rng = rng_from(seed)
    state = as_numpy(state)
    out = np.empty((m, 2**n), dtype=np.complex128)
    for s in range(m):
        gs = clifford_gates(random_clifford(n, seed=rng))
        ua = apply_gates(gs, state.a)
        ub = ua if state.b is None else apply_gates(gs, state.b)
        p = np.clip(np.einsum("dr,dr->d", ua, ub.conj()).real, 0.0, None)
        b = int(np.argmax(sample_counts(p / p.sum(), 1, rng)))
        e = np.zeros(2**n, dtype=np.complex128)
        e[b] = 1.0
        out[s] = apply_gates(gs, e, adjoint=True)  # U^dagger |b>
    return CliffordShadow(out)


def median_of_means(values: ArrayLike, groups: int = DEFAULT_GROUPS) -> Estimate:
    """Median of ``groups`` batch means of ``values`` (N,) with the stated error of the module doc.

    ``groups`` is capped at N // 2 (each batch needs >= 2 values); ``Estimate.shots`` is N (all snapshots taken).
    """
    v = np.asarray(values, dtype=np.float64)
    n = v.shape[0]
    if n < 2:
        raise ValueError(f"median_of_means: need at least 2 snapshot values, got {n}")
    if isinstance(groups, bool) or int(groups) != groups or groups < 1:
        raise ValueError(f"median_of_means: groups={groups!r} must be an integer >= 1")
    k = min(int(groups), n // 2)
    size = n // k
    used = v[: k * size]
    value = float(np.median(used.reshape(k, size).mean(axis=1)))
    s = float(np.std(used, ddof=1))
    inflation = math.sqrt(math.pi / 2) if k > 1 else 1.0
    return Estimate(value, inflation * s / math.sqrt(k * size), n)


def hkp_error_bound(shadow_norm_sq: float, snapshots: int, delta: float) -> float:
    """HKP (2020) accuracy ``eps`` reached with probability ``1 - delta`` by a median of means of ``snapshots``.

    From ``K = 2 log(1/delta)`` batches of ``N/K >= 34 ||O||**2 / eps**2``: ``eps = sqrt(34 K ||O||**2 / N)``.
    ``shadow_norm_sq``: ``||O - Tr(O)/2**n||_shadow**2`` (<= 3 for a projector with Cliffords; ``3**k`` for a
    k-local Pauli with Pauli measurements, times ``||O||**2``).
    """
    if not 0 < delta < 1:
        raise ValueError(f"hkp_error_bound: delta={delta!r} must lie strictly between 0 and 1")
    k = math.ceil(2 * math.log(1 / delta))
    return math.sqrt(34 * k * shadow_norm_sq / _check_snapshots(snapshots))


def shadow_estimate(
    state: Factors,
    target: ArrayLike,
    kind: CostKind,
    snapshots: int,
    seed: Seed,
    groups: int = DEFAULT_GROUPS,
) -> Estimate:
    """Cost of one pair from classical shadows: global (target (2**n,)) by random Cliffords, local
    (factors (n, 2)) by random Paulis; median of means over ``snapshots`` snapshots, value ``1 - fidelity``."""
    n = num_qubits(state)
    t = check_target(kind, target, n)
    if kind == "global":
        values = clifford_shadow(state, snapshots, seed).fidelities(t)
    else:
        values = pauli_shadow(state, snapshots, seed).overlaps(t).mean(axis=1)
    est = median_of_means(values, groups)
    return Estimate(1.0 - est.value, est.stderr, est.shots)


__all__ = [
    "DEFAULT_GROUPS",
    "PAULI_ROTATIONS",
    "CliffordShadow",
    "PauliShadow",
    "apply_gates",
    "clifford_gates",
    "clifford_matrix",
    "clifford_shadow",
    "clifford_unitary",
    "hkp_error_bound",
    "median_of_means",
    "pauli_shadow",
    "shadow_estimate",
]
