"""Seeded quantum data sets for training DQNNs (conventions: :mod:`dqnn`).

- Learning a unitary (Beer et al., Nat. Commun. 11, 808 (2020)): pairs ``(|phi_x>, Y |phi_x>)`` with
  ``|phi_x>`` Haar-random and ``Y`` a Haar-random unitary on ``n`` qubits (:func:`unitary_data`).
- Noisy training data: a fraction of the training pairs get a Haar-random target instead of ``Y |phi_x>``
  (:func:`noisy_unitary_data`); the test pairs stay clean.
- Classification with classical labels: ground states of the transverse-field Ising chain
  ``H = -J sum_i Z_i Z_{i+1} - h sum_i X_i`` (exact diagonalisation, :func:`ising_ground_state`), labelled
  ``0`` in the ferromagnetic phase (``h < J``) and ``1`` in the paramagnetic phase (``h > J``)
  (:func:`ising_data`).
- A separable two-class state-classification set (:func:`classification_data`): ``W (|c_y> (x) |r>)`` with a
  seeded Haar-random ``W``, a label qubit ``|c_y>`` within a cap around ``|y>`` and Haar-random rest ``|r>``.
- GHZ states with spin-flip or dephasing noise, the data of the denoising quantum autoencoder of Bondarenko and
  Feldmann, PRL 124, 130502 (2020) (:func:`ghz_state`, :func:`noisy_ghz`).

Every random draw comes from a JAX key. Pair ``i`` of a set is drawn from ``fold_in(key, i)``, so the
first ``N`` training pairs do not depend on how many pairs are asked for (nested training sets for a
generalisation curve, one fixed test set).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from dqnn._jax import Array
from dqnn.model import gates, states

#: Below this Hilbert-space dimension :func:`ising_ground_state` diagonalises densely (ARPACK needs k < d - 1).
DENSE_BELOW = 32


class Split(NamedTuple):
    """A train/test split: inputs ``(N, 2**n_in)`` vectors, targets stacked along the same leading axis.

    Targets are ``(N, 2**n_out)`` vectors for state-learning tasks and ``(N,)`` int labels for classification.
    """

    train_inputs: Array
    train_targets: Array
    test_inputs: Array
    test_targets: Array


def _check_count(name: str, value: int, minimum: int = 0) -> None:
    if int(value) != value or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def haar_states(key: Array, num_qubits: int, count: int) -> Array:
    """``count`` Haar-random state vectors ``(count, 2**num_qubits)``; state ``i`` from ``fold_in(key, i)``."""
    _check_count("haar_states: count", count)
    if count == 0:
        return jnp.zeros((0, 2**num_qubits), dtype=jnp.complex128)
    return jax.vmap(lambda i: states.haar_state(jax.random.fold_in(key, i), num_qubits))(jnp.arange(count))


def split(inputs: Array, targets: Array, num_train: int) -> Split:
    """The first ``num_train`` rows for training, the rest for testing (rows already in random order)."""
    n = int(np.shape(inputs)[0])
    if np.shape(targets)[0] != n:
        raise ValueError(f"split: {n} inputs but {np.shape(targets)[0]} targets")
    _check_count("split: num_train", num_train)
    if num_train > n:
        raise ValueError(f"split: num_train={num_train} exceeds the {n} available rows")
    return Split(inputs[:num_train], targets[:num_train], inputs[num_train:], targets[num_train:])


def unitary_data(key: Array, num_qubits: int, num_train: int, num_test: int) -> tuple[Array, Split]:
    """A Haar-random ``Y`` (2**n, 2**n) and pairs ``(|phi>, Y|phi>)``: ``num_train`` to train, ``num_test`` to test."""
    _check_count("unitary_data: num_qubits", num_qubits, 1)
    _check_count("unitary_data: num_train", num_train)
    _check_count("unitary_data: num_test", num_test)
    k_u, k_train, k_test = jax.random.split(key, 3)
    y = gates.haar_unitary(k_u, 2**num_qubits)
    x_train = haar_states(k_train, num_qubits, num_train)
    x_test = haar_states(k_test, num_qubits, num_test)
    return y, Split(x_train, x_train @ y.T, x_test, x_test @ y.T)


def noisy_indices(key: Array, num_train: int, noise: float) -> np.ndarray:
    """Sorted indices of the ``round(noise * num_train)`` training pairs made noisy (a seeded choice)."""
    if not 0.0 <= noise <= 1.0:
        raise ValueError(f"noise fraction must lie in [0, 1], got {noise!r}")
    k = int(round(noise * num_train))
    perm = np.asarray(jax.random.permutation(key, num_train))
    return np.sort(perm[:k])


def noisy_unitary_data(
    key: Array, num_qubits: int, num_train: int, num_test: int, noise: float
) -> tuple[Array, Split, np.ndarray]:
    """:func:`unitary_data` with a fraction ``noise`` of the training targets replaced by Haar-random states.

    Returns ``(Y, split, noisy)`` with ``noisy`` the sorted indices of the corrupted training pairs.
    The clean pairs and the test set are those of :func:`unitary_data` with the same key.
    """
    y, data = unitary_data(key, num_qubits, num_train, num_test)
    k_sel, k_state = jax.random.split(jax.random.fold_in(key, 0x6E6F6973))
    idx = noisy_indices(k_sel, num_train, noise)
    targets = data.train_targets
    if idx.size:
        junk = haar_states(k_state, num_qubits, num_train)[idx]
        targets = targets.at[idx].set(junk)
    return y, data._replace(train_targets=targets), idx


def noisy_pairs(key: Array, num_qubits: int, total: int, num_noisy: int) -> tuple[Array, Array, np.ndarray]:
    """Beer et al.'s noisy training data: ``total`` pairs of :func:`unitary_data` of which ``num_noisy`` (a seeded
    choice) are replaced by pairs with a Haar-random input *and* a Haar-random output.

    Returns ``(inputs (total, 2**n), targets (total, 2**n), clean)`` with ``clean`` a boolean mask ``(total,)``.
    """
    _check_count("noisy_pairs: total", total, 1)
    _check_count("noisy_pairs: num_noisy", num_noisy)
    if num_noisy > total:
        raise ValueError(f"noisy_pairs: num_noisy={num_noisy} exceeds total={total}")
    _, data = unitary_data(key, num_qubits, total, 0)
    k_sel, k_in, k_out = jax.random.split(jax.random.fold_in(key, 0x6E6F7079), 3)
    idx = np.sort(np.asarray(jax.random.permutation(k_sel, total))[:num_noisy])
    x, t = data.train_inputs, data.train_targets
    if idx.size:
        x = x.at[idx].set(haar_states(k_in, num_qubits, total)[idx])
        t = t.at[idx].set(haar_states(k_out, num_qubits, total)[idx])
    clean = np.ones(total, dtype=bool)
    clean[idx] = False
    return x, t, clean


def ising_hamiltonian(num_qubits: int, field: float, coupling: float = 1.0, periodic: bool = False) -> sp.csr_matrix:
    """``H = -J sum_i Z_i Z_{i+1} - h sum_i X_i`` as a sparse ``(2**n, 2**n)`` matrix (qubit 0 most significant)."""
    _check_count("ising_hamiltonian: num_qubits", num_qubits, 1)
    n = num_qubits
    x = sp.csr_matrix(gates.X)
    z = sp.csr_matrix(gates.Z)

    def site(ops: dict[int, sp.csr_matrix]) -> sp.csr_matrix:
        out = sp.identity(1, dtype=np.complex128, format="csr")
        for q in range(n):
            out = sp.kron(out, ops.get(q, sp.identity(2, dtype=np.complex128, format="csr")), format="csr")
        return out

    bonds = [(i, i + 1) for i in range(n - 1)] + ([(n - 1, 0)] if periodic and n > 2 else [])
    h = sp.csr_matrix((2**n, 2**n), dtype=np.complex128)
    for i, j in bonds:
        h = h - coupling * site({i: z, j: z})
    for i in range(n):
        h = h - field * site({i: x})
    return h.tocsr()


def ising_ground_state(
    num_qubits: int, field: float, coupling: float = 1.0, periodic: bool = False
) -> tuple[float, np.ndarray]:
    """The ground energy and ground state ``(2**n,)`` of :func:`ising_hamiltonian` (complex128, unit norm).

    Uses ``scipy.sparse.linalg.eigsh`` (Lanczos, deterministic start vector); dense ``eigh`` below
    :data:`DENSE_BELOW` dimensions. The global phase is fixed so the largest-magnitude amplitude is real positive.
    """
    h = ising_hamiltonian(num_qubits, field, coupling, periodic)
    d = h.shape[0]
    if d < DENSE_BELOW:
        w, v = np.linalg.eigh(h.toarray())
        e, psi = float(w[0]), v[:, 0]
    else:
        w, v = spla.eigsh(h, k=1, which="SA", v0=np.ones(d, dtype=np.complex128), tol=1e-13)
        e, psi = float(w[0]), v[:, 0]
    psi = np.asarray(psi, dtype=np.complex128)
    big = psi[np.argmax(np.abs(psi))]
    psi = psi * (abs(big) / big) / np.linalg.norm(psi)
    return e, psi


def ising_data(
    key: Array,
    num_qubits: int,
    num_train: int,
    num_test: int,
    field_range: tuple[float, float] = (0.0, 2.0),
    coupling: float = 1.0,
) -> tuple[Split, np.ndarray]:
    """Ising ground states at fields ``h`` uniform in ``field_range``, labelled ``int(h > coupling)``.

    Returns ``(split, fields)``: inputs ``(N, 2**n)``, targets ``(N,)`` int32 labels (0 ferromagnetic,
    1 paramagnetic); ``fields`` ``(num_train + num_test,)``, training fields first.
    """
    _check_count("ising_data: num_train", num_train)
    _check_count("ising_data: num_test", num_test)
    lo, hi = field_range
    if not 0.0 <= lo < hi:
        raise ValueError(f"ising_data: field_range {field_range} must satisfy 0 <= low < high")
    k_train, k_test = jax.random.split(key)
    fields = np.concatenate(
        [
            np.asarray(jax.random.uniform(k, (m,), minval=lo, maxval=hi, dtype=jnp.float64))
            for k, m in ((k_train, num_train), (k_test, num_test))
        ]
    )
    psis = np.stack([ising_ground_state(num_qubits, float(h), coupling)[1] for h in fields]) if fields.size else None
    if psis is None:
        psis = np.zeros((0, 2**num_qubits), dtype=np.complex128)
    labels = (fields > coupling).astype(np.int32)
    data = split(jnp.asarray(psis), jnp.asarray(labels), num_train)
    return data, fields


def classification_data(
    key: Array, num_qubits: int, num_train: int, num_test: int, margin: float = 0.5
) -> tuple[Split, Array]:
    """Two classes of ``n``-qubit states that one measurement separates: ``x = W (|c> (x) |r>)``.

    Label ``y`` (a fair coin per state) sets the label qubit ``|c> = cos(t/2)|y> + e^{i phi} sin(t/2)|1-y>`` with
    ``t`` uniform in ``[0, (1 - margin) pi/2]`` and ``phi`` uniform; ``|r>`` is Haar-random on the other ``n - 1``
    qubits and ``W`` one seeded Haar-random unitary on all ``n``. Measuring ``W^dagger Z_0 W`` classifies every
    state right (``<Z_0> >= sin(margin pi/2)`` for ``y = 0``, ``<= -sin(margin pi/2)`` for ``y = 1``).
    Returns ``(split, W)``: inputs ``(N, 2**n)``, targets ``(N,)`` int32 labels; state ``i`` of each part from
    ``fold_in``, so training sets are nested.
    """
    _check_count("classification_data: num_qubits", num_qubits, 1)
    _check_count("classification_data: num_train", num_train)
    _check_count("classification_data: num_test", num_test)
    if not 0.0 < margin <= 1.0:
        raise ValueError(f"classification_data: margin={margin} must lie in (0, 1]")
    k_w, k_train, k_test = jax.random.split(key, 3)
    w = gates.haar_unitary(k_w, 2**num_qubits)
    tmax = (1.0 - margin) * np.pi / 2

    def one(k: Array) -> tuple[Array, Array]:
        k_y, k_t, k_p, k_r = jax.random.split(k, 4)
        y = jax.random.bernoulli(k_y).astype(jnp.int32)
        t = jax.random.uniform(k_t, (), minval=0.0, maxval=tmax, dtype=jnp.float64)
        phi = jax.random.uniform(k_p, (), minval=0.0, maxval=2 * np.pi, dtype=jnp.float64)
        a, b = jnp.cos(t / 2), jnp.exp(1j * phi) * jnp.sin(t / 2)
        c = jnp.where(
            y == 0, jnp.array([1, 0]) * a + jnp.array([0, 1]) * b, jnp.array([0, 1]) * a + jnp.array([1, 0]) * b
        )
        rest = states.haar_state(k_r, num_qubits - 1) if num_qubits > 1 else jnp.ones((1,), dtype=jnp.complex128)
        return w @ jnp.kron(c.astype(jnp.complex128), rest), y

    def part(k: Array, m: int) -> tuple[Array, Array]:
        if m == 0:
            return jnp.zeros((0, 2**num_qubits), dtype=jnp.complex128), jnp.zeros((0,), dtype=jnp.int32)
        return jax.vmap(lambda i: one(jax.random.fold_in(k, i)))(jnp.arange(m))

    (xtr, ytr), (xte, yte) = part(k_train, num_train), part(k_test, num_test)
    return Split(xtr, ytr, xte, yte), w


def ghz_state(num_qubits: int, sign: int = 1) -> np.ndarray:
    """``(|0...0> + sign |1...1>) / sqrt(2)`` as a ``(2**n,)`` complex128 vector."""
    _check_count("ghz_state: num_qubits", num_qubits, 1)
    v = np.zeros(2**num_qubits, dtype=np.complex128)
    v[0], v[-1] = 1 / np.sqrt(2), sign / np.sqrt(2)
    return v


#: Noise models of :func:`noisy_ghz`.
GHZ_NOISE: tuple[str, ...] = ("spin-flip", "dephasing")


def noisy_ghz(key: Array, num_qubits: int, count: int, p: float, noise: str = "spin-flip") -> Array:
    """``count`` noisy GHZ states ``(count, 2**n)``: each qubit of each state independently gets ``X`` (spin flip,
    as Bondarenko and Feldmann's ``SpinFlipNoise``) or ``Z`` (dephasing) with probability ``p``; pure states,
    state ``i`` from ``fold_in(key, i)``."""
    _check_count("noisy_ghz: count", count)
    if noise not in GHZ_NOISE:
        raise ValueError(f"noisy_ghz: noise {noise!r} is not one of {GHZ_NOISE}")
    if not 0.0 <= p <= 0.5:
        raise ValueError(f"noisy_ghz: p={p} must lie in [0, 0.5]")
    n = num_qubits
    psi = jnp.asarray(ghz_state(n))
    idx = jnp.arange(2**n)
    bits = (idx[:, None] >> (n - 1 - jnp.arange(n))[None, :]) & 1  # (2**n, n), qubit 0 most significant

    def one(k: Array) -> Array:
        hit = jax.random.bernoulli(k, p, (n,)).astype(jnp.int32)
        if noise == "spin-flip":
            mask = jnp.sum(hit * 2 ** (n - 1 - jnp.arange(n)))
            return psi[jnp.bitwise_xor(idx, mask)]
        return psi * (-1.0) ** jnp.sum(bits * hit[None, :], axis=1)

    if count == 0:
        return jnp.zeros((0, 2**n), dtype=jnp.complex128)
    return jax.vmap(lambda i: one(jax.random.fold_in(key, i)))(jnp.arange(count))


__all__ = [
    "DENSE_BELOW",
    "GHZ_NOISE",
    "Split",
    "classification_data",
    "ghz_state",
    "haar_states",
    "ising_data",
    "ising_ground_state",
    "ising_hamiltonian",
    "noisy_ghz",
    "noisy_indices",
    "noisy_pairs",
    "noisy_unitary_data",
    "split",
    "unitary_data",
]
