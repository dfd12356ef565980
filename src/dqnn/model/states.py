"""Input states: validation, standard states and random states (all seeded), and product-state factors.

A state on ``n`` qubits is a ``(2**n,)`` vector or a ``(2**n, 2**n)`` density matrix, qubit 0 most
significant (see :mod:`dqnn`). Validation runs on concrete arrays; inside ``jit``/``vmap`` only shapes
are checked (values are not known at trace time). A product state is also given by its single-qubit
*factors* ``(n, 2)`` (row ``q``: qubit ``q``), as the light-cone and component simulators take them;
:func:`stack_trees` stacks the matching sub-network parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike

from dqnn._jax import Array

#: Tolerance on the norm / trace of an input state and on its Hermiticity and positivity.
STATE_ATOL = 1e-8


def _concrete(x: object) -> bool:
    return not isinstance(x, jax.core.Tracer)


def as_input(
    state: ArrayLike, num_qubits: int, name: str = "input state", keep_real: bool = False
) -> tuple[Literal["pure", "mixed"], Array]:
    """Classify and validate a state on ``num_qubits`` qubits: ``("pure", (d,))`` or ``("mixed", (d, d))``.

    complex128, or float64 when ``keep_real`` and the state is real-valued (:func:`is_real`).

    Raises:
        ValueError: naming ``name`` for non-finite entries, a wrong dimension, a vector that is not
            normalised, or a matrix that is not Hermitian, not positive or not of trace one (tolerance
            :data:`STATE_ATOL`).
    """
    x = state if isinstance(state, jax.Array) else np.asarray(state)
    d = 2**num_qubits
    if _concrete(x) and not np.all(np.isfinite(np.asarray(x))):
        raise ValueError(f"{name}: has non-finite entries (NaN or inf)")
    if x.ndim == 1:
        if x.shape[0] != d:
            raise ValueError(f"{name}: a state vector on {num_qubits} qubit(s) has length {d}, got {x.shape[0]}")
        if _concrete(x):
            norm = float(np.linalg.norm(np.asarray(x)))
            if not abs(norm - 1.0) <= STATE_ATOL:  # (written so that a NaN norm fails too)
                raise ValueError(f"{name}: state vector is not normalised (norm {norm:.12g})")
        return "pure", real_or_complex(x) if keep_real else jnp.asarray(x, dtype=jnp.complex128)
    if x.ndim == 2:
        if x.shape != (d, d):
            raise ValueError(f"{name}: a density matrix on {num_qubits} qubit(s) is {d}x{d}, got {x.shape}")
        if _concrete(x):
            m = np.asarray(x, dtype=np.complex128)
            herm = float(np.max(np.abs(m - m.conj().T)))
            if herm > STATE_ATOL:
                raise ValueError(f"{name}: density matrix is not Hermitian (max |rho - rho^dagger| = {herm:.3g})")
            tr = complex(np.trace(m))
            if not abs(tr - 1.0) <= STATE_ATOL:
                raise ValueError(f"{name}: density matrix does not have trace one (trace {tr.real:.12g})")
            lo = float(np.min(np.linalg.eigvalsh(0.5 * (m + m.conj().T))))
            if lo < -STATE_ATOL:
                raise ValueError(f"{name}: density matrix is not positive (smallest eigenvalue {lo:.3g})")
        return "mixed", real_or_complex(x) if keep_real else jnp.asarray(x, dtype=jnp.complex128)
    raise ValueError(f"{name}: expected a vector or a square matrix, got an array of shape {x.shape}")


def check_stack(states: ArrayLike, name: str = "inputs") -> None:
    """Check every row of a concrete stack of states: (N, d) vectors each finite and of norm one, or (N, d, d)
    matrices each finite, Hermitian, of trace one and positive (tolerance :data:`STATE_ATOL`). ValueError naming
    ``name`` and the first bad row; traced values (inside ``jit``/``vmap``) pass untouched."""
    if isinstance(states, jax.core.Tracer):
        return
    x = np.asarray(states)
    if x.dtype == object or not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise TypeError(f"{name}: expected an array of numbers, got dtype {x.dtype}")
    if x.ndim not in (2, 3) or (x.ndim == 3 and x.shape[1] != x.shape[2]):
        raise ValueError(f"{name}: expected (N, d) vectors or (N, d, d) matrices, got shape {x.shape}")
    bad = ~np.all(np.isfinite(x).reshape(x.shape[0], -1), axis=1)
    if bad.any():
        raise ValueError(f"{name}[{int(np.argmax(bad))}]: has non-finite entries (NaN or inf)")
    if x.ndim == 2:
        norms = np.linalg.norm(x, axis=1)
        off = ~(np.abs(norms - 1.0) <= STATE_ATOL)
        if off.any():
            i = int(np.argmax(off))
            raise ValueError(f"{name}[{i}]: state vector is not normalised (norm {norms[i]:.12g})")
        return
    m = x.astype(np.complex128)
    herm = np.max(np.abs(m - np.conj(np.swapaxes(m, 1, 2))).reshape(m.shape[0], -1), axis=1)
    tr = np.trace(m, axis1=1, axis2=2)
    lo = np.min(np.linalg.eigvalsh(0.5 * (m + np.conj(np.swapaxes(m, 1, 2)))), axis=1)
    for i in range(m.shape[0]):
        if not herm[i] <= STATE_ATOL:
            raise ValueError(f"{name}[{i}]: density matrix is not Hermitian (max |rho - rho^dagger| = {herm[i]:.3g})")
        if not abs(tr[i] - 1.0) <= STATE_ATOL:
            raise ValueError(f"{name}[{i}]: density matrix does not have trace one (trace {tr[i].real:.12g})")
        if not lo[i] >= -STATE_ATOL:
            raise ValueError(f"{name}[{i}]: density matrix is not positive (smallest eigenvalue {lo[i]:.3g})")


def is_real(x: ArrayLike) -> bool:
    """Whether ``x`` is real-valued: a real dtype, or a concrete (not traced) array with no imaginary part."""
    return not jnp.iscomplexobj(x) or (_concrete(x) and not np.any(np.imag(np.asarray(x))))


def real_or_complex(x: ArrayLike) -> Array:
    """``x`` as float64 when real-valued (:func:`is_real`; real networks then simulate it in real arithmetic,
    :mod:`dqnn.sim.simulate`), else as complex128."""
    a = jnp.asarray(x)
    return jnp.real(a).astype(jnp.float64) if is_real(x) else a.astype(jnp.complex128)


def basis_state(bits: Sequence[int] | str) -> Array:
    """The computational basis vector ``|b_0 b_1 ...>`` (``bits`` as a sequence or a string like ``"010"``)."""
    bs = [int(b) for b in bits]
    if any(b not in (0, 1) for b in bs):
        raise ValueError(f"basis_state: bits {bits!r} must be 0 or 1")
    idx = int("".join(map(str, bs)) or "0", 2)
    v = np.zeros(2 ** len(bs), dtype=np.complex128)
    v[idx] = 1.0
    return jnp.asarray(v)  # built in NumPy: no XLA program to compile for a constant


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


def product_vector(factors: ArrayLike) -> Array:
    """The vector (2**m,) of the product of single-qubit states ``factors`` (m, 2), row 0 most significant."""
    f = jnp.asarray(factors)
    psi = f[0]
    for v in f[1:]:
        psi = jnp.kron(psi, v)
    return psi


#: The qubit index that :func:`factors_on` reads as |0> (a qubit no input factor describes).
ZERO_QUBIT = -1


def factors_on(factors: ArrayLike, qubits: ArrayLike) -> Array:
    """Rows of single-qubit ``factors`` (n, 2) at the integer array ``qubits`` (any shape S): shape (*S, 2).

    Index :data:`ZERO_QUBIT` gives |0> (one gather for a whole stack of sub-networks' inputs).
    """
    f = jnp.asarray(factors)
    padded = jnp.concatenate([f, jnp.asarray([[1.0, 0.0]], dtype=f.dtype)])
    return padded[np.asarray(qubits, dtype=int)]


def checked_factor_pair(
    input_factors: ArrayLike, target_factors: ArrayLike, num_inputs: int, num_outputs: int, name: str, stacked: bool
) -> tuple[Array, Array]:
    """Input factors (n_in, 2) and complex128 target factors (n_out, 2) of a product pair, shapes checked.

    The input factors are float64 when real (a float array, or a concrete one with no imaginary part), so
    that real networks simulate them in real arithmetic (:mod:`dqnn.sim.simulate`), else complex128. With
    ``stacked`` the pair may also be a training set, (N, n_in, 2) and (N, n_out, 2) with the same N.
    Raises ValueError naming ``name`` for other shapes.
    """
    xf = real_or_complex(input_factors)
    tf = jnp.asarray(target_factors, dtype=jnp.complex128)
    lead = xf.shape[:1] if stacked and xf.ndim == 3 else ()
    if xf.shape != (*lead, num_inputs, 2) or tf.shape != (*lead, num_outputs, 2):
        raise ValueError(
            f"{name}: need input factors {(*lead, num_inputs, 2)} and target factors {(*lead, num_outputs, 2)}, "
            f"got {xf.shape} and {tf.shape}"
        )
    return xf, tf


def split_product(vector: ArrayLike, num_qubits: int, rtol: float = 1e-12) -> np.ndarray | None:
    """Qubit factors ``(n, 2)`` of a product state vector ``(2**n,)`` (first qubit first), or ``None`` if entangled."""
    rest = np.asarray(vector, dtype=np.complex128).reshape(-1)
    out = []
    for _ in range(num_qubits - 1):
        u, s, vh = np.linalg.svd(rest.reshape(2, -1), full_matrices=False)
        if s[0] == 0 or s[1] > rtol * s[0]:
            return None
        out.append(u[:, 0] * s[0])
        rest = vh[0]
    out.append(rest)
    return np.stack(out)


def pair_mean(
    cost: Callable[[ArrayLike, ArrayLike], Array],
    input_factors: ArrayLike,
    target_factors: ArrayLike,
    num_inputs: int,
    num_outputs: int,
    name: str,
) -> Array:
    """``cost(x, t)`` of one product pair (factors (n_in, 2), (n_out, 2)), or its mean over a stack (Eq. 2).

    Stacked factors (N, n_in, 2) and (N, n_out, 2) give ``mean_i cost(x_i, t_i)`` (one vmapped evaluation);
    one pair is passed on as given (so concrete factors stay concrete). Shapes are checked by
    :func:`checked_factor_pair` (ValueError naming ``name``).
    """
    xf, tf = checked_factor_pair(input_factors, target_factors, num_inputs, num_outputs, name, stacked=True)
    if xf.ndim == 3:
        return jnp.mean(jax.vmap(cost)(xf, tf))
    return cost(input_factors, target_factors)


def stack_trees(trees: Sequence[Any]) -> Any:
    """Pytrees of one structure stacked leaf by leaf along a new leading axis (length ``len(trees)``)."""
    return jax.tree.map(lambda *xs: jnp.stack(xs), *trees)


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


def psd_factor(m: ArrayLike) -> Array:
    """A factor ``F`` (d, d) with ``F F^dagger = m`` of a positive semidefinite ``m`` (d, d), via ``eigh`` of its
    Hermitian part (negative rounding eigenvalues clipped to 0)."""
    x = jnp.asarray(m)
    w, v = jnp.linalg.eigh(0.5 * (x + x.conj().T))
    return v * jnp.sqrt(jnp.clip(w, 0.0))[None, :]


def fidelity_pure(state: ArrayLike, target: ArrayLike) -> Array:
    """``<phi|rho|phi>`` for a target vector ``phi`` and a state (vector or density matrix)."""
    phi = jnp.asarray(target, dtype=jnp.complex128)
    x = jnp.asarray(state, dtype=jnp.complex128)
    if x.ndim == 1:
        return jnp.abs(jnp.vdot(phi, x)) ** 2
    return jnp.real(jnp.vdot(phi, x @ phi))


__all__ = [
    "STATE_ATOL",
    "ZERO_QUBIT",
    "as_input",
    "basis_state",
    "checked_factor_pair",
    "density",
    "factors_on",
    "fidelity_pure",
    "haar_state",
    "is_real",
    "pair_mean",
    "product_state",
    "product_vector",
    "psd_factor",
    "random_density_matrix",
    "random_product_state",
    "real_or_complex",
    "split_product",
    "stack_trees",
    "zero_state",
]
