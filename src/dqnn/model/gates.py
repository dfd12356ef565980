"""Gate matrices, rotations, Haar sampling and unitarity checks.

Conventions: see :mod:`dqnn` (qubits 0-based, first qubit most significant, ``numpy.kron`` order).
Every matrix here is complex128 unless a caller converts it.
"""

from __future__ import annotations

from functools import reduce

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike

from dqnn._jax import Array

#: Absolute tolerance on ``max |U U^dagger - 1|`` for a matrix to count as unitary.
UNITARY_ATOL = 1e-8

I2 = np.eye(2, dtype=np.complex128)
X = np.array([[0, 1], [1, 0]], dtype=np.complex128)
Y = np.array([[0, -1j], [1j, 0]], dtype=np.complex128)
Z = np.array([[1, 0], [0, -1]], dtype=np.complex128)
PAULIS = {"I": I2, "X": X, "Y": Y, "Z": Z}

CNOT = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]], dtype=np.complex128)
CZ = np.diag([1, 1, 1, -1]).astype(np.complex128)
SWAP = np.array([[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]], dtype=np.complex128)
HADAMARD = np.array([[1, 1], [1, -1]], dtype=np.complex128) / np.sqrt(2)

#: Named fixed gates of the gate alphabet (Eq. 5's ``W_k``).
NAMED_GATES: dict[str, np.ndarray] = {
    "I": I2,
    "X": X,
    "Y": Y,
    "Z": Z,
    "H": HADAMARD,
    "CNOT": CNOT,
    "CX": CNOT,
    "CZ": CZ,
    "SWAP": SWAP,
}


def kron(*mats: ArrayLike) -> np.ndarray:
    """Kronecker product of the given matrices, first argument most significant."""
    return reduce(np.kron, [np.asarray(m, dtype=np.complex128) for m in mats], np.eye(1, dtype=np.complex128))


def pauli_string(label: str) -> np.ndarray:
    """Matrix of a Pauli string such as ``"XZI"`` (first letter acts on qubit 0)."""
    try:
        return kron(*(PAULIS[c] for c in label.upper()))
    except KeyError as err:
        raise ValueError(f"pauli_string: {label!r} has a letter outside I, X, Y, Z") from err


def unitarity_error(u: ArrayLike) -> float:
    """``max |U U^dagger - 1|`` of a square matrix (inf if it is not square)."""
    m = np.asarray(u)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        return float("inf")
    return float(np.max(np.abs(m @ m.conj().T - np.eye(m.shape[0]))))


def check_unitary(u: ArrayLike, name: str, num_qubits: int | None = None) -> np.ndarray:
    """Return ``u`` as complex128 after checking it is a unitary (on ``num_qubits`` qubits if given).

    Raises:
        ValueError: naming ``name`` when ``u`` is not square, not of size ``2**num_qubits``, or
            not unitary within :data:`UNITARY_ATOL`.
    """
    m = np.asarray(u, dtype=np.complex128)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"{name}: expected a square matrix, got shape {m.shape}")
    dim = m.shape[0]
    if num_qubits is not None and dim != 2**num_qubits:
        raise ValueError(
            f"{name}: a matrix on {num_qubits} qubit(s) must be {2**num_qubits}x{2**num_qubits}, got {m.shape}"
        )
    if dim & (dim - 1) or dim == 0:
        raise ValueError(f"{name}: dimension {dim} is not a power of two")
    err = unitarity_error(m)
    if not err <= UNITARY_ATOL:
        raise ValueError(f"{name}: matrix is not unitary (max |U U^dagger - 1| = {err:.3g} > {UNITARY_ATOL:g})")
    return m


def check_hermitian(h: ArrayLike, name: str, atol: float = 1e-10) -> np.ndarray:
    """Return ``h`` as complex128 after checking it is a square Hermitian matrix."""
    m = np.asarray(h, dtype=np.complex128)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"{name}: expected a square matrix, got shape {m.shape}")
    err = float(np.max(np.abs(m - m.conj().T))) if m.size else 0.0
    if err > atol:
        raise ValueError(f"{name}: matrix is not Hermitian (max |H - H^dagger| = {err:.3g} > {atol:g})")
    return m


def rotation(eigvals: Array, eigvecs: Array, theta: Array) -> Array:
    """``exp(-i theta G / 2)`` for a generator ``G = eigvecs diag(eigvals) eigvecs^dagger``.

    Shapes: eigvals (d,), eigvecs (d, d), theta scalar -> (d, d). Real (float64) when ``G^2 = 1`` and ``-iG``
    is real (e.g. ``R_y``, ``R_{XY}``): the matrix is then real for every angle, and real gates keep real
    states real in the simulator (:mod:`dqnn.sim.simulate`); complex128 otherwise.
    """
    if isinstance(eigvals, np.ndarray) and isinstance(eigvecs, np.ndarray):
        g = involutory_generator(eigvals, eigvecs)
        if g is not None:  # G^2 = 1: cos/sin form, no exp
            a = _imaginary_part_if_imaginary(g)
            if a is not None:  # cos(theta/2) 1 + sin(theta/2) (-iG), all real
                return jnp.cos(theta / 2) * np.eye(a.shape[0]) + jnp.sin(theta / 2) * a
            eye = np.eye(g.shape[0], dtype=np.complex128)
            return jnp.cos(theta / 2) * eye - 1j * jnp.sin(theta / 2) * g
    phases = jnp.exp(-0.5j * theta * eigvals)
    if isinstance(eigvecs, np.ndarray) and eigvecs.shape[0] <= 16:
        # sum_k phase_k |v_k><v_k| over constant projectors: elementwise work that XLA fuses (a batched
        # small matrix product is far slower on CPU under vmap)
        proj = eigvecs[:, None, :] * eigvecs.conj()[None, :, :]
        return jnp.sum(proj * phases, axis=-1)
    return (eigvecs * phases[None, :]) @ eigvecs.conj().T


def involutory_generator(eigvals: np.ndarray, eigvecs: np.ndarray) -> np.ndarray | None:
    """``G = eigvecs diag(eigvals) eigvecs^dagger`` when its eigenvalues are +-1 (``G^2 = 1``, within 1e-12),
    else ``None``; then ``exp(-i theta G / 2) = cos(theta/2) 1 - i sin(theta/2) G``."""
    lam = np.real_if_close(eigvals)
    if not (np.isrealobj(lam) and np.allclose(np.abs(lam), 1.0, atol=1e-12)):
        return None
    return (eigvecs * lam) @ eigvecs.conj().T


def _imaginary_part_if_imaginary(g: np.ndarray) -> np.ndarray | None:
    """``-iG``, real, when ``G`` is imaginary (within 1e-12), else ``None``."""
    return np.ascontiguousarray(g.imag) if np.allclose(g.real, 0.0, atol=1e-12) else None


def real_generator(eigvals: np.ndarray, eigvecs: np.ndarray) -> np.ndarray | None:
    """``-iG`` as a real matrix when ``G^2 = 1`` and ``G`` is imaginary (within 1e-12), else ``None``.

    Then ``exp(-i theta G / 2) = cos(theta/2) 1 + sin(theta/2) (-iG)`` is real for every angle.
    """
    g = involutory_generator(eigvals, eigvecs)
    return None if g is None else _imaginary_part_if_imaginary(g)


def real_if_real(m: np.ndarray) -> np.ndarray:
    """``m`` as float64 when its imaginary part is exactly zero, else unchanged (fixed gates stay cheap)."""
    return np.ascontiguousarray(m.real) if np.iscomplexobj(m) and not np.any(m.imag) else m


def pauli_rotation(label: str, theta: Array) -> Array:
    """``R_P(theta) = exp(-i theta P / 2) = cos(theta/2) 1 - i sin(theta/2) P`` for a Pauli string ``P``."""
    p = jnp.asarray(pauli_string(label))
    return jnp.cos(theta / 2) * jnp.eye(p.shape[0], dtype=p.dtype) - 1j * jnp.sin(theta / 2) * p


def haar_unitary(key: Array, dim: int) -> Array:
    """A Haar-random ``(dim, dim)`` unitary (QR of a complex Ginibre matrix with the phase fix of Mezzadri)."""
    kr, ki = jax.random.split(key)
    z = (jax.random.normal(kr, (dim, dim)) + 1j * jax.random.normal(ki, (dim, dim))) / np.sqrt(2.0)
    q, r = jnp.linalg.qr(z)
    d = jnp.diagonal(r)
    return q * (d / jnp.abs(d))[None, :]
