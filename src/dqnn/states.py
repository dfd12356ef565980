"""Input states: validation, standard states and random states (all seeded).

A state on ``n`` qubits is a ``(2**n,)`` vector or a ``(2**n, 2**n)`` density matrix, qubit 0 most
significant (see :mod:`dqnn`). Validation runs on concrete arrays; inside ``jit``/``vmap`` only shapes
are checked (values are not known at trace time).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike

from dqnn._jax import Array

#: Tolerance on the norm / trace of an input state and on its Hermiticity and positivity.
STATE_ATOL = 1e-8


def _concrete(x: object) -> bool:
    return not isinstance(x, jax.core.Tracer)


def as_input(state: ArrayLike, num_qubits: int, name: str = "input state") -> tuple[Literal["pure", "mixed"], Array]:
    """Classify and validate a state on ``num_qubits`` qubits: ``("pure", (d,))`` or ``("mixed", (d, d))``.

    Raises:
        ValueError: naming ``name`` for a wrong dimension, a vector that is not normalised, or a matrix
            that is not Hermitian, not positive or not of trace one (tolerance :data:`STATE_ATOL`).
    """
    x = state if isinstance(state, jax.Array) else np.asarray(state)
    d = 2**num_qubits
    if x.ndim == 1:
        if x.shape[0] != d:
            raise ValueError(f"{name}: a state vector on {num_qubits} qubit(s) has length {d}, got {x.shape[0]}")
        if _concrete(x):
            norm = float(np.linalg.norm(np.asarray(x)))
            if abs(norm - 1.0) > STATE_ATOL:
                raise ValueError(f"{name}: state vector is not normalised (norm {norm:.12g})")
        return "pure", jnp.asarray(x, dtype=jnp.complex128)
    if x.ndim == 2:
        if x.shape != (d, d):
            raise ValueError(f"{name}: a density matrix on {num_qubits} qubit(s) is {d}x{d}, got {x.shape}")
        if _concrete(x):
            m = np.asarray(x, dtype=np.complex128)
            herm = float(np.max(np.abs(m - m.conj().T)))
            if herm > STATE_ATOL:
                raise ValueError(f"{name}: density matrix is not Hermitian (max |rho - rho^dagger| = {herm:.3g})")
            tr = complex(np.trace(m))
            if abs(tr - 1.0) > STATE_ATOL:
                raise ValueError(f"{name}: density matrix does not have trace one (trace {tr.real:.12g})")
            lo = float(np.min(np.linalg.eigvalsh(0.5 * (m + m.conj().T))))
            if lo < -STATE_ATOL:
                raise ValueError(f"{name}: density matrix is not positive (smallest eigenvalue {lo:.3g})")
        return "mixed", jnp.asarray(x, dtype=jnp.complex128)
    raise ValueError(f"{name}: expected a vector or a square matrix, got an array of shape {x.shape}")


def basis_state(bits: Sequence[int] | str) -> Array:
    """The computational basis vector ``|b_0 b_1 ...>`` (``bits`` as a sequence or a string like ``"010"``)."""
    bs = [int(b) for b in bits]
    if any(b not in (0, 1) for b in bs):
        raise ValueError(f"basis_state: bits {bits!r} must be 0 or 1")
    idx = int("".join(map(str, bs)) or "0", 2)
    return jnp.zeros(2 ** len(bs), dtype=jnp.complex128).at[idx].set(1.0)


def zero_state(num_qubits: int) -> Array:
    """``|0...0>`` on ``num_qubits`` qubits."""
    return basis_state([0] * num_qubits)


def haar_state(key: Array, num_qubits: int) -> Array:
    """A Haar-random pure state vector ``(2**num_qubits,)``."""
    kr, ki = jax.random.split(key)
    d = 2**num_qubits
    z = jax.random.normal(kr, (d,)) + 1j * jax.random.normal(ki, (d,))
    return z / jnp.linalg.norm(z)


def product_state(vectors: Sequence[ArrayLike]) -> Array:
    """The product ``|v_0> x |v_1> x ...`` of single-qubit vectors (each normalised here)."""
    out = jnp.ones(1, dtype=jnp.complex128)
    for v in vectors:
        v = jnp.asarray(v, dtype=jnp.complex128)
        out = jnp.kron(out, v / jnp.linalg.norm(v))
    return out


def random_product_state(key: Array, num_qubits: int) -> tuple[Array, Array]:
    """A Haar-random product state: ``(vector (2**n,), factors (n, 2))``."""
    keys = jax.random.split(key, num_qubits)
    factors = jnp.stack([haar_state(k, 1) for k in keys])
    return product_state(list(factors)), factors


def random_density_matrix(key: Array, num_qubits: int, rank: int | None = None) -> Array:
    """A random density matrix ``G G^dagger / Tr`` with ``G`` complex Ginibre ``(d, rank)`` (full rank by default)."""
    d = 2**num_qubits
    r = d if rank is None else rank
    kr, ki = jax.random.split(key)
    g = jax.random.normal(kr, (d, r)) + 1j * jax.random.normal(ki, (d, r))
    rho = g @ g.conj().T
    return rho / jnp.trace(rho).real


def density(state: ArrayLike) -> Array:
    """A density matrix from a vector ``(d,)`` (``|psi><psi|``) or a matrix (returned as is)."""
    x = jnp.asarray(state, dtype=jnp.complex128)
    return jnp.outer(x, x.conj()) if x.ndim == 1 else x


def fidelity_pure(state: ArrayLike, target: ArrayLike) -> Array:
    """``<phi|rho|phi>`` for a target vector ``phi`` and a state (vector or density matrix)."""
    phi = jnp.asarray(target, dtype=jnp.complex128)
    x = jnp.asarray(state, dtype=jnp.complex128)
    if x.ndim == 1:
        return jnp.abs(jnp.vdot(phi, x)) ** 2
    return jnp.real(jnp.vdot(phi, x @ phi))


__all__ = [
    "STATE_ATOL",
    "as_input",
    "basis_state",
    "density",
    "fidelity_pure",
    "haar_state",
    "product_state",
    "random_density_matrix",
    "random_product_state",
    "zero_state",
]
