"""An independent brute-force implementation of Eq. (1) for tests.

It builds the unitary V of the whole network on all qubits of all layers (numpy only, no dqnn
simulator code), applies it to rho_in (x) |0><0|, and traces out every layer but the last.
"""

from __future__ import annotations

import numpy as np

from dqnn.network import Network


def embed_full(u: np.ndarray, qubits: list[int], total: int) -> np.ndarray:
    """``u`` acting on global ``qubits`` (in that order) of ``total`` qubits, by permuting a kron product."""
    rest = [q for q in range(total) if q not in qubits]
    big = np.kron(u, np.eye(2 ** len(rest)))
    order = qubits + rest  # tensor axis i <-> qubit order[i]
    t = big.reshape((2,) * (2 * total))
    perm = [order.index(q) for q in range(total)]
    t = t.transpose(perm + [total + p for p in perm])
    return t.reshape(2**total, 2**total)


def output_bruteforce(net: Network, params, rho_in: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    widths = list(net.widths)
    total = sum(widths)
    offsets = np.cumsum([0, *widths])
    n0 = widths[0]
    rho0 = np.asarray(rho_in, dtype=complex)
    if rho0.ndim == 1:
        rho0 = np.outer(rho0, rho0.conj())
    zeros = np.zeros((2 ** (total - n0),) * 2, dtype=complex)
    zeros[0, 0] = 1.0
    rho = np.kron(rho0, zeros)
    v = np.eye(2**total, dtype=complex)
    for l, layer in enumerate(net.layers):
        for j, p in enumerate(layer):
            qubits = [int(offsets[l] + q) for q in p.inputs] + [int(offsets[l + 1] + q) for q in p.outputs]
            u = np.asarray(p.unitary.matrix(params[l][j]))
            v = embed_full(u, qubits, total) @ v
    rho = v @ rho @ v.conj().T
    keep = widths[-1]
    d_keep = 2**keep
    d_rest = 2 ** (total - keep)
    t = rho.reshape(d_rest, d_keep, d_rest, d_keep)
    return np.einsum("aiaj->ij", t)
