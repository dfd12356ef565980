"""What every estimator shares: :class:`Estimate`, seeding, Born sampling, outcome values and target checks.

An estimator turns an exact output state (a :class:`~dqnn.sim.simulate.Factors`, qubit order of :mod:`dqnn`)
into what ``shots`` runs of a circuit would report: the exact Born distribution of a measurement is sampled
with a seeded :class:`numpy.random.Generator`, and each standard error comes from those samples alone.
The methods are in :mod:`dqnn.estimators.shots` (inverse unitary, projectors) and
:mod:`dqnn.estimators.shadows` (classical shadows).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from dqnn import _frames
from dqnn.costs import CostKind, check_targets
from dqnn.sim.simulate import Factors

#: How an estimator measures: projectors per shot, the inverse-unitary circuit, or classical shadows.
EstimatorMethod = Literal["shots", "inverse", "shadows"]
Method = EstimatorMethod  # the older name
METHODS: tuple[str, ...] = ("shots", "inverse", "shadows")
#: A seed: an int (``numpy.random.default_rng(seed)``) or a Generator that is used (and advanced) as is.
Seed = int | np.random.Generator
#: ``(state, target, shots, rng) -> Estimate`` for one training pair.
PairEstimator = Callable[[Factors, np.ndarray, int, np.random.Generator], "Estimate"]


@dataclass(frozen=True)
class Estimate:
    """A finite-shot estimate ``value`` with its standard error ``stderr`` (from the samples) and ``shots`` spent."""

    value: float
    stderr: float
    shots: int

    def as_dict(self) -> dict[str, float | int]:
        """``{"value", "stderr", "shots"}`` as plain Python numbers."""
        return asdict(self)

    def to_frame(self) -> Any:
        """A one-row pandas DataFrame with columns ``value, stderr, shots`` (pandas imported here)."""
        return _frames.frame([self.as_dict()], ESTIMATE_COLUMNS)

    @classmethod
    def from_frame(cls, frame: Any) -> Estimate:
        """The estimate of a one-row frame of :meth:`to_frame` (e.g. read back from CSV)."""
        if len(frame) != 1:
            raise ValueError(f"Estimate.from_frame: expected one row, got {len(frame)}")
        row = frame.iloc[0]
        return cls(float(row["value"]), float(row["stderr"]), int(row["shots"]))

    @staticmethod
    def read_csv(path: str | os.PathLike[str]) -> Any:
        """The frame of :meth:`to_frame` from a CSV written by ``to_frame().to_csv(path, index=False)``."""
        return _frames.read_csv(path, ESTIMATE_COLUMNS)

    def _repr_html_(self) -> str:
        return _frames.html_table(
            ["value", "stderr", "shots"],
            [[_frames.fmt(self.value, ".6g"), _frames.fmt(self.stderr, ".3g"), self.shots]],
        )


#: Column types of :meth:`Estimate.to_frame`.
ESTIMATE_COLUMNS: dict[str, str] = {"value": "float", "stderr": "float", "shots": "int"}


def rng_from(seed: Seed) -> np.random.Generator:
    """A Generator from an int seed (a Generator is returned as is, so callers can share one stream)."""
    return np.random.default_rng(seed)


def _check_shots(shots: int, least: int = 2) -> int:
    if isinstance(shots, bool) or int(shots) != shots or shots < least:
        raise ValueError(f"shots={shots!r}: need an integer >= {least}")
    return int(shots)


# --- Born distributions ---------------------------------------------------------------------------------


def as_numpy(state: Factors) -> Factors:
    """The same state with NumPy complex128 factors (cheap repeated sampling without JAX dispatch)."""
    b = None if state.b is None else np.asarray(state.b, dtype=np.complex128)
    return Factors(np.asarray(state.a, dtype=np.complex128), b)


def _factor_arrays(state: Factors) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(state.a, dtype=np.complex128)
    b = a if state.b is None else np.asarray(state.b, dtype=np.complex128)
    return a, b


def _rotate(t: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """``V t`` for ``t`` (d, r) and ``V`` either (d, d) or a product given as (n, 2, 2) (qubit 0 first)."""
    if rotation.ndim == 2:
        return rotation @ t
    n = rotation.shape[0]
    x = t.reshape((2,) * n + (t.shape[-1],))
    for j in range(n):
        x = np.moveaxis(np.tensordot(rotation[j], x, axes=(1, j)), 0, j)
    return x.reshape(t.shape)


def born_probabilities(state: Factors, rotation: ArrayLike | None = None) -> np.ndarray:
    """Outcome probabilities ``<b| V rho V^dagger |b>`` (2**n,) of a computational-basis measurement after ``V``.

    ``rotation``: ``None`` (``V = 1``), a (2**n, 2**n) unitary, or (n, 2, 2) single-qubit unitaries
    ``V = V_0 x ... x V_{n-1}``. Rounding is removed by clipping at 0 and renormalising.
    """
    a, b = _factor_arrays(state)
    if rotation is not None:
        v = np.asarray(rotation, dtype=np.complex128)
        ra = _rotate(a, v)
        a, b = ra, (ra if state.b is None else _rotate(b, v))
    p = np.clip(np.einsum("dr,dr->d", a, b.conj()).real, 0.0, None)
    return p / p.sum()


def sample_counts(probs: ArrayLike, shots: int, seed: Seed) -> np.ndarray:
    """Counts (len(probs),) of ``shots`` draws from the distribution ``probs`` (``Generator.multinomial``)."""
    p = np.asarray(probs, dtype=np.float64)
    return rng_from(seed).multinomial(_check_shots(shots, 1), p / p.sum())


def completing_unitary(vector: ArrayLike) -> np.ndarray:
    """A unitary ``U`` (d, d) with ``U|0> = vector / |vector|`` for a vector (d,), phase included.

    Built from the QR decomposition of ``[vector | 1]`` (scipy), its first column rephased to ``vector``.
    """
    import scipy.linalg  # imported here: a slow import that only this needs

    v = np.asarray(vector, dtype=np.complex128)
    v = v / np.linalg.norm(v)
    q, r = scipy.linalg.qr(np.column_stack([v, np.eye(v.shape[0], dtype=np.complex128)]))
    q[:, 0] *= r[0, 0] / abs(r[0, 0])  # Q[:, 0] R[0, 0] = v with |R[0, 0]| = 1
    return q


def product_unitaries(factors: ArrayLike) -> np.ndarray:
    """Single-qubit unitaries (n, 2, 2) with ``U_j|0> = psi_j`` for product-target factors (n, 2)."""
    return np.stack([completing_unitary(f) for f in np.asarray(factors, dtype=np.complex128)])


# --- per-shot statistics --------------------------------------------------------------------------------


def estimate_from_counts(values: ArrayLike, counts: ArrayLike) -> Estimate:
    """Sample mean and its standard error ``s / sqrt(M)`` (``s``: sample std, ddof=1) of shots that took the
    value ``values[k]`` ``counts[k]`` times (both (K,)); ``M = sum(counts) >= 2``."""
    v = np.asarray(values, dtype=np.float64)
    c = np.asarray(counts, dtype=np.float64)
    m = int(c.sum())
    _check_shots(m)
    mean = float(c @ v / m)
    var = float(c @ (v - mean) ** 2 / (m - 1))
    return Estimate(mean, math.sqrt(var / m), m)


def combine_mean(parts: list[Estimate]) -> Estimate:
    """The average of independent estimates: ``stderr = sqrt(sum se_i**2) / N``; shots add up."""
    n = len(parts)
    return Estimate(
        float(np.mean([p.value for p in parts])),
        math.sqrt(sum(p.stderr**2 for p in parts)) / n,
        sum(p.shots for p in parts),
    )


def _popcounts(n: int) -> np.ndarray:
    """Number of ones of every basis index (2**n,), qubit 0 most significant (order does not matter here)."""
    bits = (np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1
    return bits.sum(axis=1)


def outcome_values(kind: CostKind, n: int) -> np.ndarray:
    """Per-shot cost value (2**n,) of each bit string in the inverse-unitary method: global ``1 - [b = 0]``,
    local ``|b| / n``."""
    if kind == "global":
        return np.where(np.arange(2**n) == 0, 0.0, 1.0)
    if kind == "local":
        return _popcounts(n) / n
    raise ValueError(f"cost kind {kind!r} is not 'global' or 'local'")


def num_qubits(state: Factors) -> int:
    return int(round(math.log2(np.shape(state.a)[0])))


def check_target(kind: CostKind, target: ArrayLike, n: int) -> np.ndarray:
    """One pair's target, shape-checked as :func:`dqnn.costs.check_targets` does, as NumPy complex128."""
    return np.asarray(check_targets(kind, np.asarray(target)[None], 1, n))[0]


__all__ = [
    "METHODS",
    "Estimate",
    "EstimatorMethod",
    "Method",
    "PairEstimator",
    "Seed",
    "as_numpy",
    "born_probabilities",
    "check_target",
    "combine_mean",
    "completing_unitary",
    "estimate_from_counts",
    "num_qubits",
    "outcome_values",
    "product_unitaries",
    "rng_from",
    "sample_counts",
]
