r"""One training step of a DQNN by parameter-matrix multiplication, in plain NumPy with full tensor products.

An independent reference for :mod:`dqnn.training.pmm` (workload C of the peer benchmark), written the way the
original code of Beer et al. (Nat. Commun. 11, 808 (2020)) is organised: nothing is factored or contracted on
wires; every object is a full matrix on the register of two adjacent layers. Uses only NumPy and SciPy.

Conventions (those of :mod:`dqnn`): qubit 0 is the most significant (``numpy.kron`` order); the register of the
layer pair ``l -> l+1`` is ``layer l (x) layer l+1`` (``n = m_l + m_{l+1}`` qubits, ``d = 2**n``); a perceptron
acts on its ``inputs`` (qubits of layer ``l``) then its ``outputs`` (qubits of layer ``l+1``), in the order given;
output qubits start in ``|0>``; the perceptrons of a layer act in the order listed.

Per training pair ``x`` (``rho_x`` in, ``Pi_x = |phi_x><phi_x|`` the target projector):

1. Embed. ``V_j`` (``2**w`` square) becomes a ``d x d`` matrix: ``V_j (x) 1`` (Kronecker product with the
   identity on the remaining qubits), followed by the qubit permutation that moves local wire ``i`` to register
   qubit ``wires[i]`` (a relabelling of basis indices, done on the full matrix).
2. Feedforward. ``A_0 = rho^l (x) |0..0><0..0|``, ``A_j = V_j A_{j-1} V_j^dagger`` (full ``d x d`` products),
   ``rho^{l+1} = Tr_l A_M`` (partial trace).
3. Backward. ``sigma^L = Pi_x``; in layer ``l``: ``B_M = 1 (x) sigma^{l+1}``, ``B_{j-1} = V_j^dagger B_j V_j``;
   the adjoint channel ``sigma^l = <0|_{l+1} B_0 |0>_{l+1}`` (the ``|0..0>`` block of the layer ``l+1`` factor).
4. Parameter matrices. ``M_j = [A_j, B_j]`` (computed as ``X - X^dagger`` with ``X = A_j B_j``, which equals the
   commutator because ``A_j`` and ``B_j`` are Hermitian), traced over every qubit the perceptron does not touch,
   kept in the perceptron's wire order; ``K_j = (eta 2**m / 2N) i sum_x Tr_rest M_j`` with ``m`` the
   perceptron's number of input qubits (the prefactor of ``dqnn.training.pmm``, Eq. P5).
5. Update. Every trainable perceptron at once: ``V_j -> expm(i eps K_j) V_j`` (``scipy.linalg.expm``).

The cost returned is the one before the step, ``C = 1 - (1/N) sum_x Tr[Pi_x rho_x^out]``.

Cost per pair and layer: about ``5 M`` products of ``d x d`` matrices, ``O(M d**3)``, against dqnn's factored
``O(M d 2**w r)``; memory ``O(M d**2)`` for the stored ``A_j``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.linalg

#: ``wiring[l][j] = (inputs, outputs)`` of perceptron ``j`` of layer ``l``.
Wiring = list[list[tuple[tuple[int, ...], tuple[int, ...]]]]


def global_wiring(widths: Sequence[int]) -> Wiring:
    """Beer's global perceptrons: perceptron ``j`` of layer ``l`` acts on all of layer ``l`` and output qubit ``j``."""
    return [[(tuple(range(widths[l])), (j,)) for j in range(widths[l + 1])] for l in range(len(widths) - 1)]


def embed(u: np.ndarray, wires: Sequence[int], n: int) -> np.ndarray:
    """``u`` (``2**g`` square, acting on local wires ``0..g-1``) as a ``2**n x 2**n`` matrix acting on ``wires``.

    ``u (x) 1_{n-g}`` puts local wire ``i`` on register qubit ``i``; the permutation then sends register qubit
    ``i`` to ``wires[i]`` and the identity's qubits, in increasing order, to the remaining positions.
    """
    g = len(wires)
    full = np.kron(u, np.eye(2 ** (n - g), dtype=complex))
    order = list(wires) + [q for q in range(n) if q not in wires]  # axis k of ``full`` is register qubit order[k]
    inv = list(np.argsort(order))  # axis q of the result is axis inv[q] of ``full``
    t = full.reshape((2,) * (2 * n)).transpose(inv + [n + k for k in inv])
    return t.reshape(2**n, 2**n)


def partial_trace_keep(m: np.ndarray, keep: Sequence[int], n: int) -> np.ndarray:
    """``Tr`` over every qubit not in ``keep`` of ``m`` (``2**n`` square); the kept qubits in the order of ``keep``."""
    rest = [q for q in range(n) if q not in keep]
    k, r = len(keep), len(rest)
    t = m.reshape((2,) * (2 * n)).transpose(list(keep) + rest + [n + q for q in keep] + [n + q for q in rest])
    t = t.reshape(2**k, 2**r, 2**k, 2**r)
    return np.einsum("iaja->ij", t)


def _as_density(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=complex)
    return np.outer(v, v.conj()) if v.ndim == 1 else v


def _zero_projector(num_qubits: int) -> np.ndarray:
    p = np.zeros((2**num_qubits, 2**num_qubits), dtype=complex)
    p[0, 0] = 1.0
    return p


def pair_terms(
    widths: Sequence[int], wiring: Wiring, full: list[list[np.ndarray]], rho_in: np.ndarray, target: np.ndarray
) -> tuple[float, list[list[np.ndarray]]]:
    """For one pair: ``Tr[Pi rho_out]`` and ``Tr_rest [A_j, B_j]`` of every perceptron (steps 2-4).

    ``full[l][j]`` are the embedded ``d x d`` perceptrons, ``rho_in`` the input density matrix and ``target`` the
    target projector ``Pi`` (both full matrices).
    """
    depth = len(widths) - 1
    forward: list[list[np.ndarray]] = []  # forward[l][j] = A_j of layer l
    rho = rho_in
    for l in range(depth):
        m_in, m_out = widths[l], widths[l + 1]
        a = np.kron(rho, _zero_projector(m_out))
        states = []
        for v in full[l]:
            a = v @ a @ v.conj().T
            states.append(a)
        forward.append(states)
        rho = partial_trace_keep(a, range(m_in, m_in + m_out), m_in + m_out)
    fid = float(np.real(np.trace(target @ rho)))
    sigma = target
    comms: list[list[np.ndarray]] = [[] for _ in range(depth)]
    for l in reversed(range(depth)):
        m_in, m_out = widths[l], widths[l + 1]
        n = m_in + m_out
        b = np.kron(np.eye(2**m_in, dtype=complex), sigma)  # B_M
        row: list[np.ndarray] = [np.empty(0)] * len(full[l])
        for j in reversed(range(len(full[l]))):
            ins, outs = wiring[l][j]
            x = forward[l][j] @ b
            row[j] = partial_trace_keep(x - x.conj().T, list(ins) + [m_in + q for q in outs], n)  # Tr_rest [A_j, B_j]
            if l == 0 and j == 0:
                break  # neither B_{-1} nor sigma^0 is needed
            v = full[l][j]
            b = v.conj().T @ b @ v  # B_{j-1}
        comms[l] = row
        if l == 0:
            break
        # adjoint channel: sigma^l = <0|_{l+1} U^dagger (1 (x) sigma^{l+1}) U |0>_{l+1}, and b is now that middle part
        sigma = b.reshape(2**m_in, 2**m_out, 2**m_in, 2**m_out)[:, 0, :, 0]
    return fid, comms


def beer_step(
    widths: Sequence[int],
    unitaries: Sequence[Sequence[np.ndarray]],
    inputs: np.ndarray,
    targets: np.ndarray,
    eps: float = 0.1,
    eta: float = 1.0,
    wiring: Wiring | None = None,
) -> tuple[list[list[np.ndarray]], float]:
    """One parameter-matrix-multiplication step of every perceptron; ``(new unitaries, cost before the step)``.

    ``unitaries[l][j]``: the ``2**w`` square matrix of perceptron ``j`` of layer ``l`` (all are trained);
    ``inputs``: ``(N, 2**m_0)`` state vectors or ``(N, 2**m_0, 2**m_0)`` density matrices; ``targets``:
    ``(N, 2**m_L)`` target states (global fidelity) or ``(N, 2**m_L, 2**m_L)`` observables ``Pi_x``;
    ``wiring``: as :func:`global_wiring` (the default).
    """
    widths = [int(w) for w in widths]
    wiring = global_wiring(widths) if wiring is None else wiring
    full = [
        [
            embed(np.asarray(u, dtype=complex), list(ins) + [widths[l] + q for q in outs], widths[l] + widths[l + 1])
            for u, (ins, outs) in zip(unitaries[l], wiring[l], strict=True)
        ]
        for l in range(len(widths) - 1)
    ]
    n_pairs = len(inputs)
    fid_sum = 0.0
    sums = [[np.zeros_like(np.asarray(u, dtype=complex)) for u in row] for row in unitaries]
    for x in range(n_pairs):
        fid, comms = pair_terms(widths, wiring, full, _as_density(inputs[x]), _as_density(targets[x]))
        fid_sum += fid
        for l, crow in enumerate(comms):
            for j, c in enumerate(crow):
                sums[l][j] += c
    new = []
    for l, row in enumerate(unitaries):
        new_row = []
        for j, u in enumerate(row):
            m = len(wiring[l][j][0])
            k = (eta * 2**m / (2 * n_pairs)) * 1j * sums[l][j]
            new_row.append(scipy.linalg.expm(1j * eps * k) @ np.asarray(u, dtype=complex))
        new.append(new_row)
    return new, 1.0 - fid_sum / n_pairs


__all__ = ["Wiring", "beer_step", "embed", "global_wiring", "pair_terms", "partial_trace_keep"]
