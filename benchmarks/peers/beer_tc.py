r"""One parameter-matrix-multiplication step of a DQNN written with TensorCircuit-NG (``DMCircuit``, JAX, jit).

The peer of :mod:`dqnn.training.pmm` in workload C: the algorithm of :mod:`beer_numpy` (Beer et al., Nat.
Commun. 11, 808 (2020); the same steps, prefactor and conventions), written as a TensorCircuit-NG user would:
every perceptron is applied as ``DMCircuit(n, dminputs=A).unitary(*wires, unitary=V)`` on the full density
matrix of two adjacent layers, partial traces are ``tc.quantum.reduced_density_matrix``, the pairs are batched by
``jax.vmap`` and the whole step (every pair, every perceptron, the ``expm`` updates) is one ``jax.jit``.
Qubit order: qubit 0 most significant (TensorCircuit's and dqnn's); the register of layer pair ``l -> l+1`` is
``layer l (x) layer l+1``.

Only imported by ``run_beer.py --engines tc`` (needs the ``bench`` extra: ``pip install tensorcircuit-ng``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import tensorcircuit as tc
from beer_numpy import Wiring, global_wiring

tc.set_backend("jax")
tc.set_dtype("complex128")


def _conjugate(m: Any, u: Any, wires: Sequence[int], n: int) -> Any:
    """``U m U^dagger`` for ``U = u`` on ``wires`` of ``n`` qubits, by a DMCircuit (``m`` need not be a state)."""
    c = tc.DMCircuit(n, dminputs=m)
    c.unitary(*wires, unitary=u)
    return c.densitymatrix()


def _trace_out(m: Any, traced: Sequence[int]) -> Any:
    """``Tr_traced m`` (the other qubits kept in increasing order)."""
    return tc.quantum.reduced_density_matrix(m, cut=list(traced), normalize=False)


def make_step(
    widths: Sequence[int], eps: float = 0.1, eta: float = 1.0, wiring: Wiring | None = None
) -> Callable[[Any, Any, Any], tuple[Any, Any]]:
    """``step(unitaries, rho_in (N, d, d), pi (N, d_out, d_out)) -> (new unitaries, cost before the step)``, jitted.

    ``unitaries`` is a list (layers) of lists (perceptrons) of ``2**w`` square matrices; every wire set is sorted
    (inputs of layer ``l`` before outputs of layer ``l + 1``), as in :func:`beer_numpy.global_wiring`.
    """
    widths = [int(w) for w in widths]
    wiring = global_wiring(widths) if wiring is None else wiring
    depth = len(widths) - 1
    wires = [[list(ins) + [widths[l] + q for q in outs] for ins, outs in wiring[l]] for l in range(depth)]

    def pair(us: Any, rho: Any, pi: Any) -> tuple[Any, list[list[Any]]]:
        forward = []
        for l in range(depth):
            m_in, m_out = widths[l], widths[l + 1]
            zero = jnp.zeros((2**m_out, 2**m_out), dtype=jnp.complex128).at[0, 0].set(1.0)
            a = jnp.kron(rho, zero)
            states = []
            for u, w in zip(us[l], wires[l], strict=True):
                a = _conjugate(a, u, w, m_in + m_out)
                states.append(a)
            forward.append(states)
            rho = _trace_out(a, range(m_in))
        fid = jnp.real(jnp.trace(pi @ rho))
        sigma = pi
        comms: list[list[Any]] = [[] for _ in range(depth)]
        for l in reversed(range(depth)):
            m_in, m_out = widths[l], widths[l + 1]
            n = m_in + m_out
            b = jnp.kron(jnp.eye(2**m_in, dtype=jnp.complex128), sigma)
            row: list[Any] = [None] * len(us[l])
            for j in reversed(range(len(us[l]))):
                x = forward[l][j] @ b
                row[j] = _trace_out(x - x.conj().T, [q for q in range(n) if q not in wires[l][j]])
                if l == 0 and j == 0:
                    break
                b = _conjugate(b, us[l][j].conj().T, wires[l][j], n)  # B_{j-1} = V^dagger B_j V
            comms[l] = row
            if l == 0:
                break
            sigma = b.reshape(2**m_in, 2**m_out, 2**m_in, 2**m_out)[:, 0, :, 0]
        return fid, comms

    def step(us: Any, rhos: Any, pis: Any) -> tuple[Any, Any]:
        fids, comms = jax.vmap(pair, in_axes=(None, 0, 0))(us, rhos, pis)
        n_pairs = rhos.shape[0]
        new = []
        for l in range(depth):
            new_row = []
            for j, u in enumerate(us[l]):
                m = len(wiring[l][j][0])
                k = (eta * 2**m / (2 * n_pairs)) * 1j * jnp.sum(comms[l][j], axis=0)
                new_row.append(jax.scipy.linalg.expm(1j * eps * k) @ u)
            new.append(new_row)
        return new, 1.0 - jnp.mean(fids)

    return jax.jit(step)


__all__ = ["make_step"]
