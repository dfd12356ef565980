"""An independent brute-force implementation of Eq. (1) for tests.

It builds the unitary V of the whole network on all qubits of all layers (no dqnn simulator code), applies
it to rho_in (x) |0><0|, and traces out every layer but the last. NumPy by default; with ``xp=jax.numpy``
the same code is traceable and differentiable (a reference gradient for the training tests).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dqnn.model.network import Network


def embed_full(u, qubits: list[int], total: int, xp: Any = np):  # type: ignore[no-untyped-def]
    """``u`` acting on global ``qubits`` (in that order) of ``total`` qubits, by permuting a kron product."""
    rest = [q for q in range(total) if q not in qubits]
    big = xp.kron(u, xp.eye(2 ** len(rest)))
    order = qubits + rest  # tensor axis i <-> qubit order[i]
    t = big.reshape((2,) * (2 * total))
    perm = [order.index(q) for q in range(total)]
    t = t.transpose(perm + [total + p for p in perm])
    return t.reshape(2**total, 2**total)


def network_unitary(net: Network, params, xp: Any = np):  # type: ignore[no-untyped-def]
    """The unitary V of the whole network on all ``sum(widths)`` qubits (layer 0 first, most significant)."""
    widths = list(net.widths)
    total = sum(widths)
    offsets = np.cumsum([0, *widths])
    v = xp.eye(2**total, dtype=complex)
    for l, layer in enumerate(net.layers):
        for j, p in enumerate(layer):
            qubits = [int(offsets[l] + q) for q in p.inputs] + [int(offsets[l + 1] + q) for q in p.outputs]
            u = xp.asarray(p.unitary.matrix(params[l][j]))
            v = embed_full(u, qubits, total, xp) @ v
    return v


def output_bruteforce(net: Network, params, rho_in, xp: Any = np, v=None):  # type: ignore[no-untyped-def]
    """Eq. (1): the output density matrix for input ``rho_in`` (a state vector or a density matrix)."""
    widths = list(net.widths)
    total = sum(widths)
    n0 = widths[0]
    rho0 = xp.asarray(rho_in, dtype=complex)
    if rho0.ndim == 1:
        rho0 = xp.outer(rho0, rho0.conj())
    zeros = np.zeros((2 ** (total - n0),) * 2, dtype=complex)
    zeros[0, 0] = 1.0
    rho = xp.kron(rho0, xp.asarray(zeros))
    if v is None:
        v = network_unitary(net, params, xp)
    rho = v @ rho @ v.conj().T
    keep = widths[-1]
    d_keep = 2**keep
    d_rest = 2 ** (total - keep)
    t = rho.reshape(d_rest, d_keep, d_rest, d_keep)
    return xp.einsum("aiaj->ij", t)


def fidelity_cost_bruteforce(net: Network, params, inputs, observables, xp: Any = np):  # type: ignore[no-untyped-def]
    """``1 - (1/N) sum_x Re Tr[Pi_x rho_x]`` over stacked ``inputs`` (vectors or density matrices) and ``Pi_x``."""
    v = network_unitary(net, params, xp)
    fids = [
        xp.real(xp.trace(o @ output_bruteforce(net, params, x, xp, v)))
        for x, o in zip(inputs, observables, strict=True)
    ]
    return 1.0 - sum(fids) / len(fids)


def network_state_bruteforce(net: Network, params, psi_in, xp: Any = np):  # type: ignore[no-untyped-def]
    """Eq. (1) for a pure input: ``V (|psi_in> (x) |0...0>)`` on all ``sum(widths)`` qubits, as a vector.

    Each perceptron's unitary is applied in turn to the state vector of the whole register (a ``(2,) * total``
    tensor, layer 0 first, most significant) on its global qubits, instead of multiplying out V: the same
    arithmetic as ``network_unitary(net, params) @ psi`` at a matrix-vector product per perceptron. No dqnn
    simulator code.
    """
    widths = list(net.widths)
    total = sum(widths)
    offsets = np.cumsum([0, *widths])
    zeros = np.zeros(2 ** (total - widths[0]), dtype=complex)
    zeros[0] = 1.0
    phi = xp.kron(xp.asarray(psi_in, dtype=complex), xp.asarray(zeros)).reshape((2,) * total)
    for l, layer in enumerate(net.layers):
        for j, p in enumerate(layer):
            qubits = [int(offsets[l] + q) for q in p.inputs] + [int(offsets[l + 1] + q) for q in p.outputs]
            k = len(qubits)
            u = xp.asarray(p.unitary.matrix(params[l][j])).reshape((2,) * (2 * k))
            phi = xp.moveaxis(xp.tensordot(u, phi, axes=(list(range(k, 2 * k)), qubits)), list(range(k)), qubits)
    return phi.reshape(2**total)


def fidelity_cost_bruteforce_pure(net: Network, params, inputs, observables, xp: Any = np):  # type: ignore[no-untyped-def]
    """``fidelity_cost_bruteforce`` for stacked pure ``inputs`` (vectors), from ``network_state_bruteforce``.

    The output of input x is ``Tr_rest |phi_x><phi_x|`` with ``phi_x = V (|x> (x) |0...0>)``.
    """
    keep = 2 ** net.widths[-1]
    fids = []
    for x, o in zip(inputs, observables, strict=True):
        t = network_state_bruteforce(net, params, x, xp).reshape(-1, keep)  # (rest, kept)
        rho = t.T @ t.conj()
        fids.append(xp.real(xp.trace(o @ rho)))
    return 1.0 - sum(fids) / len(fids)


def output_bruteforce_ops(net: Network, params, rho_in):  # type: ignore[no-untyped-def]
    """Eq. (1) with channels (NumPy): each perceptron's ops (gates, SWAPs, Kraus channels) applied one by one to the
    density matrix of ALL qubits of all layers (each channel as ``sum_i K_i rho K_i^dagger`` with ``K_i`` embedded
    in the whole register), then the partial trace onto the last layer. No dqnn simulator code."""
    from dqnn.model import gates
    from dqnn.model.protocol import ChannelOp, SwapOp

    widths = list(net.widths)
    total = sum(widths)
    offsets = np.cumsum([0, *widths])
    rho0 = np.asarray(rho_in, dtype=complex)
    if rho0.ndim == 1:
        rho0 = np.outer(rho0, rho0.conj())
    zeros = np.zeros((2 ** (total - widths[0]),) * 2, dtype=complex)
    zeros[0, 0] = 1.0
    rho = np.kron(rho0, zeros)
    for l, layer in enumerate(net.layers):
        for j, p in enumerate(layer):
            qubits = [int(offsets[l] + q) for q in p.inputs] + [int(offsets[l + 1] + q) for q in p.outputs]
            for op in p.unitary.ops(params[l][j]):
                where = [qubits[w] for w in op.wires]
                if isinstance(op, ChannelOp):  # sum_i K_i rho K_i^dagger, K_i on the wires' ket and bra axes
                    w = len(where)
                    t = rho.reshape((2,) * (2 * total))
                    out = 0
                    for k in np.asarray(op.kraus):
                        kt = k.reshape((2,) * (2 * w))
                        x = np.moveaxis(np.tensordot(kt, t, axes=(list(range(w, 2 * w)), where)), range(w), where)
                        bra = [total + q for q in where]
                        x = np.moveaxis(np.tensordot(kt.conj(), x, axes=(list(range(w, 2 * w)), bra)), range(w), bra)
                        out = out + x
                    rho = np.asarray(out).reshape(2**total, 2**total)
                else:
                    m = gates.SWAP if isinstance(op, SwapOp) else np.asarray(op.matrix)
                    u = embed_full(np.asarray(m, dtype=complex), where, total)
                    rho = u @ rho @ u.conj().T
    d_keep = 2 ** widths[-1]
    t = rho.reshape(2**total // d_keep, d_keep, 2**total // d_keep, d_keep)
    return np.einsum("aiaj->ij", t)
