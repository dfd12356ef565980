"""Quantum channels in Kraus form: validation and the usual noise channels.

A :class:`Channel` on ``w`` qubits is a list of Kraus operators ``K_i`` (an ``(m, 2**w, 2**w)`` complex array),
``rho -> sum_i K_i rho K_i^dagger``; it is validated completely positive and trace preserving (CPTP: Kraus
form is CP by construction; TP means ``sum_i K_i^dagger K_i = 1`` within ``atol``). Qubit order within the
channel's wires: the first wire most significant (:mod:`dqnn`). Each Kraus operator is stored with a global
phase removed where that makes it real (``-i Y`` rather than ``Y``), which leaves the channel unchanged and lets
a real network with real channels keep real arithmetic.

Ready-made channels (one qubit unless said): :func:`depolarizing`, :func:`dephasing`, :func:`amplitude_damping`,
:func:`generalized_amplitude_damping`, :func:`pauli_channel` (any number of qubits), :func:`readout_error`
(a classical confusion matrix as a channel before a computational-basis measurement); :func:`apply_confusion`
applies confusion matrices to outcome probabilities instead. :func:`random_channel` draws a random Kraus set
(tests, examples). Networks get channels through :func:`dqnn.model.noise.with_noise`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

#: Default tolerance of the trace-preservation check ``||sum K^dagger K - 1||_max``.
CPTP_ATOL = 1e-10

_PAULI = {
    "I": np.eye(2, dtype=np.complex128),
    "X": np.array([[0, 1], [1, 0]], dtype=np.complex128),
    "Y": np.array([[0, -1j], [1j, 0]], dtype=np.complex128),
    "Z": np.array([[1, 0], [0, -1]], dtype=np.complex128),
}


def _real_phase(k: np.ndarray) -> np.ndarray:
    """``k`` times a global phase that makes it real, when one exists; otherwise ``k``."""
    flat = k.ravel()
    nz = np.flatnonzero(np.abs(flat) > 1e-14)
    if nz.size == 0:
        return k
    phase = flat[nz[0]] / abs(flat[nz[0]])
    r = k / phase
    return r.real.astype(np.complex128) if np.allclose(r.imag, 0.0, atol=1e-15) else k


@dataclass(frozen=True, eq=False)
class Channel:
    """A validated CPTP channel: ``kraus`` ``(m, 2**num_qubits, 2**num_qubits)`` complex128, and a ``name``.

    Build it with :func:`channel` (which validates) or a ready-made constructor. ``unital``: whether
    ``sum_i K_i K_i^dagger = 1`` (the channel maps the maximally mixed state to itself); ``real``: whether every
    stored Kraus operator is real.
    """

    kraus: np.ndarray
    name: str

    @property
    def num_qubits(self) -> int:
        """Qubits the channel acts on."""
        return int(round(np.log2(self.kraus.shape[1])))

    @property
    def num_kraus(self) -> int:
        """Number of Kraus operators ``m``."""
        return int(self.kraus.shape[0])

    @property
    def real(self) -> bool:
        """Whether every Kraus operator is real."""
        return not np.any(self.kraus.imag)

    @property
    def unital(self) -> bool:
        """Whether ``sum_i K_i K_i^dagger = 1`` (within :data:`CPTP_ATOL`)."""
        s = np.einsum("kij,klj->il", self.kraus, self.kraus.conj())
        return bool(np.allclose(s, np.eye(s.shape[0]), atol=CPTP_ATOL))

    def apply(self, rho: ArrayLike) -> np.ndarray:
        """``sum_i K_i rho K_i^dagger`` for a ``(2**num_qubits,)*2`` density matrix ``rho`` (NumPy)."""
        r = np.asarray(rho, dtype=np.complex128)
        return np.einsum("kij,jl,kml->im", self.kraus, r, self.kraus.conj())

    def superoperator(self) -> np.ndarray:
        """``sum_i K_i (x) conj(K_i)``: acts on ``vec(rho)`` with index ``(ket, bra)`` (row-major ``rho``)."""
        return np.einsum("kij,klm->iljm", self.kraus, self.kraus.conj()).reshape((self.kraus.shape[1] ** 2,) * 2)

    def tensor(self, other: Channel) -> Channel:
        """The product channel ``self (x) other`` (``self`` on the first wires); Kraus operators are all products."""
        ks = np.einsum("aij,bkl->abikjl", self.kraus, other.kraus)
        d = self.kraus.shape[1] * other.kraus.shape[1]
        return Channel(ks.reshape(-1, d, d), f"{self.name} (x) {other.name}")

    def __repr__(self) -> str:
        return f"Channel({self.name!r}, {self.num_qubits} qubit(s), {self.num_kraus} Kraus operator(s))"


def channel(kraus: ArrayLike | Sequence[ArrayLike], name: str = "channel", atol: float = CPTP_ATOL) -> Channel:
    """A validated :class:`Channel` from Kraus operators (a list of square matrices or an ``(m, D, D)`` array).

    Raises ValueError naming ``name`` when the operators are not square ``2**w`` matrices of one size, contain
    non-finite numbers, or are not trace preserving (``||sum K^dagger K - 1||_max > atol``). Operators that are
    exactly zero are dropped.
    """
    try:
        ks = np.asarray(kraus, dtype=np.complex128)
    except (TypeError, ValueError) as e:
        raise ValueError(f"channel {name!r}: Kraus operators must be square matrices of one size ({e})") from None
    if ks.ndim == 2:
        ks = ks[None]
    if ks.ndim != 3 or ks.shape[0] == 0 or ks.shape[1] != ks.shape[2]:
        raise ValueError(
            f"channel {name!r}: Kraus operators must be a non-empty list of square matrices, got {ks.shape}"
        )
    dim = ks.shape[1]
    if dim < 2 or dim & (dim - 1):
        raise ValueError(f"channel {name!r}: Kraus operators are {dim} x {dim}; need 2**w x 2**w (w >= 1 qubits)")
    if not np.all(np.isfinite(ks)):
        raise ValueError(f"channel {name!r}: Kraus operators contain non-finite entries")
    s = np.einsum("kji,kjl->il", ks.conj(), ks)
    err = float(np.max(np.abs(s - np.eye(dim))))
    if err > atol:
        raise ValueError(
            f"channel {name!r} is not trace preserving: ||sum_i K_i^dagger K_i - 1||_max = {err:.3g} > atol = {atol:g}"
        )
    keep = [_real_phase(k) for k in ks if np.any(k)]
    return Channel(np.stack(keep), name)


def _probability(p: float, what: str, name: str, high: float = 1.0) -> float:
    v = float(p)
    if not 0.0 <= v <= high:
        raise ValueError(f"{name}: {what} = {p!r} must lie in [0, {high:g}]")
    return v


def depolarizing(p: float) -> Channel:
    """One-qubit depolarizing channel ``rho -> (1 - p) rho + p 1/2`` (``p`` in ``[0, 4/3]``; completely
    depolarizing at ``p = 1``). Kraus: ``sqrt(1 - 3p/4) 1``, ``sqrt(p/4) X, Y, Z``; Pauli expectation values
    shrink by ``1 - p``."""
    q = _probability(p, "p", "depolarizing", 4.0 / 3.0)
    return pauli_channel({"I": 1 - 3 * q / 4, "X": q / 4, "Y": q / 4, "Z": q / 4}, name=f"depolarizing({q:g})")


def dephasing(p: float) -> Channel:
    """One-qubit dephasing ``rho -> (1 - p) rho + p Z rho Z`` (``p`` in ``[0, 1]``): off-diagonals shrink by
    ``1 - 2p``."""
    q = _probability(p, "p", "dephasing")
    return pauli_channel({"I": 1 - q, "Z": q}, name=f"dephasing({q:g})")


def amplitude_damping(gamma: float) -> Channel:
    """One-qubit amplitude damping (decay ``|1> -> |0>`` with probability ``gamma``); not unital."""
    g = _probability(gamma, "gamma", "amplitude_damping")
    k0 = np.array([[1, 0], [0, np.sqrt(1 - g)]])
    k1 = np.array([[0, np.sqrt(g)], [0, 0]])
    return channel([k0, k1], name=f"amplitude_damping({g:g})")


def generalized_amplitude_damping(gamma: float, p: float) -> Channel:
    """Generalised amplitude damping: relaxation with probability ``gamma`` towards the thermal state
    ``p |0><0| + (1 - p) |1><1|`` (``p = 1``: :func:`amplitude_damping`)."""
    g = _probability(gamma, "gamma", "generalized_amplitude_damping")
    q = _probability(p, "p", "generalized_amplitude_damping")
    a, b = np.sqrt(q), np.sqrt(1 - q)
    ks = [
        a * np.array([[1, 0], [0, np.sqrt(1 - g)]]),
        a * np.array([[0, np.sqrt(g)], [0, 0]]),
        b * np.array([[np.sqrt(1 - g), 0], [0, 1]]),
        b * np.array([[0, 0], [np.sqrt(g), 0]]),
    ]
    return channel(ks, name=f"generalized_amplitude_damping({g:g}, {q:g})")


def pauli_channel(probabilities: dict[str, float], name: str | None = None) -> Channel:
    """``rho -> sum_P p_P P rho P`` over Pauli strings ``P`` (keys like ``"X"``, ``"ZZ"``, all one length);
    the probabilities must be non-negative and sum to one (missing strings have probability 0)."""
    label = name or "pauli_channel"
    if not probabilities:
        raise ValueError(f"{label}: probabilities is empty")
    lengths = {len(k) for k in probabilities}
    if len(lengths) != 1 or 0 in lengths:
        raise ValueError(f"{label}: Pauli strings {sorted(probabilities)} must be non-empty and of one length")
    ks = []
    for s, pr in probabilities.items():
        if any(c not in _PAULI for c in s):
            raise ValueError(f"{label}: {s!r} is not a Pauli string (letters I, X, Y, Z)")
        v = float(pr)
        if v < 0:
            raise ValueError(f"{label}: probability of {s!r} is {pr!r} < 0")
        m = np.array([[1.0 + 0j]])
        for c in s:
            m = np.kron(m, _PAULI[c])
        ks.append(np.sqrt(v) * m)
    total = sum(float(v) for v in probabilities.values())
    if abs(total - 1.0) > CPTP_ATOL:
        raise ValueError(f"{label}: probabilities sum to {total!r}, not 1")
    return channel(ks, name=label)


def _check_confusion(confusion: ArrayLike, name: str) -> np.ndarray:
    m = np.asarray(confusion, dtype=np.float64)
    if m.shape != (2, 2):
        raise ValueError(f"{name}: confusion matrix must be 2 x 2, got shape {m.shape}")
    if np.any(m < 0) or not np.allclose(m.sum(axis=0), 1.0, atol=CPTP_ATOL):
        raise ValueError(f"{name}: confusion matrix columns must be probability vectors (M[i, j] = P(read i | j))")
    return m


def readout_error(p01: float, p10: float | None = None) -> Channel:
    """Readout error as a one-qubit channel before a computational-basis measurement: a true ``0`` reads ``1``
    with probability ``p01``, a true ``1`` reads ``0`` with probability ``p10`` (default ``p01``).

    Kraus ``sqrt(M[i, j]) |i><j|`` for the confusion matrix ``M = [[1 - p01, p10], [p01, 1 - p10]]``: it
    reproduces the outcome statistics of the classical error and destroys coherences (valid only right
    before a Z-basis measurement; see :func:`apply_confusion` for the classical form).
    """
    a = _probability(p01, "p01", "readout_error")
    b = a if p10 is None else _probability(p10, "p10", "readout_error")
    m = _check_confusion([[1 - a, b], [a, 1 - b]], "readout_error")
    ks = []
    for i, j in itertools.product(range(2), range(2)):
        k = np.zeros((2, 2))
        k[i, j] = np.sqrt(m[i, j])
        ks.append(k)
    return channel(ks, name=f"readout_error({a:g}, {b:g})")


def apply_confusion(probs: ArrayLike, confusion: ArrayLike | Sequence[ArrayLike]) -> np.ndarray:
    """Outcome probabilities ``(2**n,)`` (qubit 0 most significant) after independent readout errors:
    ``confusion`` is one ``2 x 2`` matrix ``M[i, j] = P(read i | true j)`` for every qubit, or ``(n, 2, 2)``."""
    p = np.asarray(probs, dtype=np.float64)
    n = int(round(np.log2(p.shape[-1])))
    if p.shape[-1] != 2**n:
        raise ValueError(f"apply_confusion: probs has {p.shape[-1]} entries, not a power of two")
    c = np.asarray(confusion, dtype=np.float64)
    ms = [c] * n if c.ndim == 2 else list(c)
    if len(ms) != n:
        raise ValueError(f"apply_confusion: {len(ms)} confusion matrices for {n} qubit(s)")
    t = p.reshape(p.shape[:-1] + (2,) * n)
    lead = p.ndim - 1
    for q, m in enumerate(ms):
        m = _check_confusion(m, f"apply_confusion: confusion[{q}]")
        t = np.moveaxis(np.tensordot(m, t, axes=(1, lead + q)), 0, lead + q)
    return t.reshape(p.shape)


def random_channel(seed: int, num_qubits: int = 1, num_kraus: int = 3) -> Channel:
    """A random CPTP channel (``num_kraus`` Kraus operators: the rows of a Haar-like isometry), seeded."""
    if num_qubits < 1 or num_kraus < 1:
        raise ValueError(f"random_channel: need num_qubits >= 1 and num_kraus >= 1, got {num_qubits}, {num_kraus}")
    rng = np.random.default_rng(seed)
    d = 2**num_qubits
    g = rng.normal(size=(num_kraus * d, d)) + 1j * rng.normal(size=(num_kraus * d, d))
    q, r = np.linalg.qr(g)
    q = q * (np.diag(r) / np.abs(np.diag(r)))  # an isometry V: (m d, d), V^dagger V = 1
    return channel(q.reshape(num_kraus, d, d), name=f"random_channel(seed={seed})")


def tensor(channels: Sequence[Channel]) -> Channel:
    """The product channel of ``channels`` (the first on the first wires)."""
    if not channels:
        raise ValueError("tensor: no channels given")
    out = channels[0]
    for c in channels[1:]:
        out = out.tensor(c)
    return out
