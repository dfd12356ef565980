"""A CPTP channel applied to the simulator's factored state (:class:`dqnn.sim.simulate.Factors`).

Pure functions on the factor tensors, shape ``(2,)*q + (r,)`` (one axis per stored qubit, then the rank axis), with
the meaning of :class:`~dqnn.sim.simulate.Factors`: ``b is None`` gives ``rho = a a^dagger`` (pure or purified),
otherwise ``rho = a b^dagger``. A channel with Kraus operators ``K_1 .. K_m`` on some qubits is applied in one of
two exact ways, whichever is cheaper (:func:`stack_cheaper`), as the simulator already chooses for traced qubits:

- :func:`stack`: ``rho' = sum_i (K_i a)(K_i b)^dagger``, i.e. the Kraus images stacked along the rank axis
  (rank ``r -> m r``; a purification stays a purification);
- :func:`on_density`: on a density matrix held as ``a = rho`` (``b = 1``), ``rho' = sum_i K_i rho K_i^dagger``
  as one superoperator ``sum_i K_i (x) conj(K_i)`` acting on the ket and bra axes of the wires (cost of a gate on
  ``2 w`` qubits of a ``d^2`` tensor).

Real Kraus operators keep a real (float64) state real; they also act correctly on the packed (state, tangent)
factors of :mod:`dqnn.sim.packed` (both maps are real-linear and never conjugate the state).
"""

from __future__ import annotations

from collections.abc import Sequence

import jax.numpy as jnp
import numpy as np

from dqnn._jax import Array
from dqnn.model import gates
from dqnn.sim.kernel import apply_gate


def stack_cheaper(num_kraus: int, rank: int, num_qubits: int) -> bool:
    """Whether stacking ``num_kraus`` Kraus images keeps the rank axis below the dimension ``2**num_qubits``."""
    return num_kraus * rank < 2**num_qubits


def stack_one(t: Array, kraus: np.ndarray, axes: Sequence[int]) -> Array:
    """``[K_1 t, ..., K_m t]`` concatenated along the last (rank) axis of ``t``."""
    parts = [apply_gate(t, gates.real_if_real(np.asarray(k)), list(axes)) for k in kraus]
    return parts[0] if len(parts) == 1 else jnp.concatenate(parts, axis=-1)


def stack(a: Array, b: Array | None, kraus: np.ndarray, axes: Sequence[int]) -> tuple[Array, Array | None]:
    """The factors of ``sum_i K_i rho K_i^dagger`` for ``rho = a b^dagger`` (``a a^dagger`` when ``b`` is None):
    Kraus images stacked along the rank axis."""
    return stack_one(a, kraus, axes), None if b is None else stack_one(b, kraus, axes)


def superoperator(kraus: np.ndarray) -> np.ndarray:
    """``sum_i K_i (x) conj(K_i)`` (``(4**w, 4**w)``): acts on the ket wires then the bra wires of ``rho``."""
    k = np.asarray(kraus)
    d = k.shape[1]
    return gates.real_if_real(np.einsum("kij,klm->iljm", k, k.conj()).reshape(d * d, d * d))


def on_density(rho: Array, kraus: np.ndarray, axes: Sequence[int], num_qubits: int) -> Array:
    """``sum_i K_i rho K_i^dagger`` for ``rho`` of shape ``(2,)*q + (2**q,)`` (ket axes, then the bra index in the
    same qubit order), the channel on ket ``axes``; same shape."""
    q = num_qubits
    t = jnp.reshape(rho, (2,) * (2 * q) + (1,))
    out = apply_gate(t, superoperator(kraus), [*axes, *(q + x for x in axes)])
    return jnp.reshape(out, rho.shape)


__all__ = ["on_density", "stack", "stack_cheaper", "stack_one", "superoperator"]
