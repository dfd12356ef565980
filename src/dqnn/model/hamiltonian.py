"""A perceptron family from one Hamiltonian: ``U(theta) = exp(-i theta H)`` on all of its wires, one angle.

Written against :class:`dqnn.model.protocol.Family` only; it is the worked example of adding a family. Its
capabilities follow from the spectrum of ``H``:

- shift rule: exact iff ``H`` has exactly two distinct eigenvalues ``l1 > l2``. Then
  ``C(theta) = a + b cos(2 r theta) + c sin(2 r theta)`` with ``r = (l1 - l2) / 2`` (the state holds only the phases
  ``e^{-i theta l1}``, ``e^{-i theta l2}``, and ``C`` is quadratic in it), so
  ``dC/dtheta = r [C(theta + pi/(4r)) - C(theta - pi/(4r))]``;
- packed mode: iff ``-iH`` is real (``H`` purely imaginary, hence antisymmetric): then
  ``U(theta) = exp(theta (-iH))`` is real for every angle, the family is :attr:`~HamiltonianRotation.real` and its
  packed form is :class:`~dqnn.model.families.Packed`;
- exact moments: iff ``H = m 1 + r Gamma`` with ``Gamma^2 = 1`` (two distinct eigenvalues) and the gap
  ``l1 - l2 = 2 r`` is a (nonzero) integer. Then ``U(theta) = e^{-i theta m} exp(-i (2 r theta) Gamma / 2)``; the
  angle, uniform on ``[0, 2 pi)``, covers ``2 r`` whole periods of the channel, and the moment engine takes it as a
  rotation with generator ``Gamma`` and rate ``2 r`` (:class:`~dqnn.model.protocol.MomentRotation`);
- no matrix parameter (PMM leaves it as it is).

``params = {"theta": (1,) float}``, drawn uniformly in ``[0, 2 pi)`` by ``init`` (as
:class:`~dqnn.model.families.Circuit` draws its angles).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike

from dqnn._jax import Array
from dqnn.model import gates
from dqnn.model.families import Packed
from dqnn.model.protocol import (
    Capability,
    FamilyDefaults,
    GateOp,
    MomentElement,
    MomentRotation,
    Op,
    Params,
    ShiftRule,
    two_eigenvalue_rule,
)

#: Eigenvalues closer than this (relative to ``max(1, max |eigenvalue|)``) count as one.
EIGENVALUE_RTOL = 1e-10
#: How close the gap ``l1 - l2`` must be to an integer for the exact moment engine.
GAP_ATOL = 1e-9


@dataclass(frozen=True, eq=False)
class HamiltonianRotation(FamilyDefaults):
    """``exp(-i theta H)`` for a Hermitian ``h`` of shape ``(2**q, 2**q)``, on ``q`` wires; one angle.

    ``name`` names the family in messages. ValueError (naming ``name`` and the argument ``h``) unless ``h`` is a
    finite, square, Hermitian (within 1e-10) matrix whose size is a power of two (at least 2). Capabilities: the
    module docstring.
    """

    h: np.ndarray
    name: str
    num_qubits: int = field(init=False)
    num_angles: int = field(default=1, init=False)
    eigenvalues: np.ndarray = field(init=False, repr=False)
    levels: tuple[float, ...] = field(init=False)
    _eigvecs: np.ndarray = field(init=False, repr=False)
    _real: bool = field(init=False, repr=False)

    def __init__(self, h: ArrayLike, name: str = "HamiltonianRotation"):
        where = f"{name}: argument h"
        try:
            m = np.array(h, dtype=np.complex128)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{where} is not a numeric matrix ({err})") from err
        if m.ndim != 2 or m.shape[0] != m.shape[1]:
            raise ValueError(f"{where}: expected a square matrix, got shape {m.shape}")
        dim = m.shape[0]
        if dim < 2 or dim & (dim - 1):
            raise ValueError(f"{where}: dimension {dim} is not a power of two >= 2 (a matrix on q >= 1 qubits)")
        if not np.all(np.isfinite(m)):
            raise ValueError(f"{where}: has non-finite entries (nan or inf)")
        m = gates.check_hermitian(m, where)
        real = bool(np.allclose(m.real, 0.0, atol=1e-12))  # -iH real: exp(-i theta H) real for every theta
        m = np.asarray(1j * m.imag if real else 0.5 * (m + m.conj().T), dtype=np.complex128)
        w, v = np.linalg.eigh(m)
        tol = EIGENVALUE_RTOL * max(1.0, float(np.max(np.abs(w))))
        groups: list[list[float]] = []
        for x in w:
            if groups and x - groups[-1][-1] <= tol:
                groups[-1].append(float(x))
            else:
                groups.append([float(x)])
        object.__setattr__(self, "h", m)
        object.__setattr__(self, "name", str(name))
        object.__setattr__(self, "num_qubits", dim.bit_length() - 1)
        object.__setattr__(self, "num_angles", 1)
        object.__setattr__(self, "eigenvalues", w)
        object.__setattr__(self, "levels", tuple(float(np.mean(g)) for g in groups))
        object.__setattr__(self, "_eigvecs", v)
        object.__setattr__(self, "_real", real)

    # -- core --------------------------------------------------------------------------------------------------

    def init(self, key: Array) -> Params:
        """``{"theta": (1,)}`` uniform in ``[0, 2 pi)``."""
        return {"theta": jax.random.uniform(key, (1,), minval=0.0, maxval=2 * np.pi, dtype=jnp.float64)}

    def unitary(self, theta: Array) -> Array:
        """``exp(-i theta H) = V diag(exp(-i theta l)) V^dagger``; float64 when :attr:`real`, else complex128."""
        phases = jnp.exp(-1j * theta * self.eigenvalues)
        u = (self._eigvecs * phases[None, :]) @ self._eigvecs.conj().T
        return jnp.real(u) if self._real else u

    def ops(self, params: Params) -> list[Op]:
        """One gate on all wires."""
        return [GateOp(self.unitary(params["theta"][0]), tuple(range(self.num_qubits)))]

    def matrix(self, params: Params) -> Array:
        """``exp(-i theta H)``."""
        return self.unitary(params["theta"][0])

    @property
    def real(self) -> bool:
        """Whether ``-iH`` is real, so that ``exp(-i theta H)`` is real for every angle."""
        return self._real

    # -- capabilities ------------------------------------------------------------------------------------------

    def shift_rule(self, angle: int) -> ShiftRule | None:
        """``r [C(theta + pi/(4r)) - C(theta - pi/(4r))]``, ``r = (l1 - l2)/2``, when ``H`` has two distinct
        eigenvalues; else None."""
        if len(self.levels) != 2:
            return None
        return two_eigenvalue_rule(self.levels[1], self.levels[0])

    def packed(self, angle: int) -> Packed | None:
        """The packed form (:class:`~dqnn.model.families.Packed`) when :attr:`real`, else None."""
        return Packed(self, angle, 0) if self._real else None

    def moment_elements(self) -> tuple[MomentElement, ...] | None:
        """One rotation ``exp(-i (l1 - l2) theta Gamma / 2)``, ``Gamma = (H - m 1) / r``, when ``H`` has two distinct
        eigenvalues and the gap ``l1 - l2`` is an integer; else None."""
        gap = self._moment_gap()
        if gap is None:
            return None
        low, high = self.levels
        mid, r = (high + low) / 2, (high - low) / 2
        gamma = (self.h - mid * np.eye(self.h.shape[0])) / r
        return (MomentRotation(gamma, tuple(range(self.num_qubits)), 0, float(gap)),)

    def _moment_gap(self) -> int | None:
        if len(self.levels) != 2:
            return None
        gap = self.levels[1] - self.levels[0]
        k = round(gap)
        return int(k) if k >= 1 and abs(gap - k) <= GAP_ATOL else None

    def why_not(self, capability: Capability, angle: int | None = None) -> str:
        """The spectrum (or the real part) that stands in the way."""
        k = len(self.levels)
        spectrum = f"h has {k} distinct eigenvalue{'s' if k != 1 else ''} {np.round(self.levels, 12).tolist()}"
        if capability == "shift_rule":
            return f"{spectrum}; the two-term rule is exact only for exactly two"
        if capability == "packed":
            return "exp(-i theta h) is not real (h has a nonzero real part); packed mode needs -i h real"
        if capability == "moments":
            if k != 2:
                return f"{spectrum}; the engine takes rotations exp(-i phi Gamma / 2) with Gamma^2 = 1 (exactly two)"
            gap = self.levels[1] - self.levels[0]
            return (
                f"the eigenvalue gap l1 - l2 = {gap:.12g} is not an integer, so the angle, uniform on [0, 2 pi), does "
                "not cover whole periods of exp(-i theta h)"
            )
        return "its parameter is an angle, not a matrix"
