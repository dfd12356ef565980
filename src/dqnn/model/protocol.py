"""The family protocol: everything the simulator and the engines ask of a perceptron family.

A *family* (:mod:`dqnn.model.families`, :mod:`dqnn.model.hamiltonian`, or your own class) describes the unitary of
one perceptron on its ``num_qubits`` local wires. It is used only through :class:`Family`, so a new family works
everywhere its capabilities allow without touching the simulator or the engines:

Core (every family):

- ``num_qubits``, ``num_angles``: local wires, and circuit angles, stored as ``params["theta"]`` ``(num_angles,)``
  (:mod:`dqnn.model.angles`) when there are any;
- ``init(key) -> params``: a random initialisation (a pytree of arrays; ``{}`` when there is nothing);
- ``ops(params) -> list[Op]``: the unitary as time-ordered gates on local wires (:class:`GateOp`, :class:`SwapOp`);
- ``matrix(params)``: the whole ``(2**num_qubits,)*2`` unitary;
- ``real``: whether every matrix of ``ops`` is real (float64) for all parameters (real arithmetic, packed mode).

Capabilities (``None`` or ``False``: not offered; the caller then raises :func:`capability_error`):

- ``shift_rule(angle) -> ShiftRule | None``: the exact two-term parameter-shift rule of that angle
  (:func:`dqnn.gradients.grad_param_shift`, gradient training, shot estimators);
- ``packed(angle) -> Family | None``: a family with the same parameters whose ops carry ``M + i dM/dtheta`` for the
  one gate that holds that angle (real families only; :mod:`dqnn.sim.packed`); :class:`~dqnn.model.families.Packed`
  makes one from the position of that gate in ``ops``;
- ``matrix_parameter -> str | None``: the key ``k`` with ``matrix(params) is params[k]``, a unitary that
  parameter-matrix multiplication (:mod:`dqnn.training.pmm`) updates as ``u -> expm(i eps K) u``;
- ``moment_elements() -> tuple[MomentElement, ...] | None``: the perceptron for the exact moment engine
  (:mod:`dqnn.moments.exact`) as time-ordered :class:`MomentGate`, :class:`MomentTwirl` and :class:`MomentRotation`;
- ``fusable``: whether ``ops`` holds several gates on few wires that :func:`~dqnn.model.families.fuse` can multiply
  together (light cones cache a fused form of such families);
- ``why_not(capability, angle) -> str``: why a capability is not offered, for the error message.

:class:`FamilyDefaults` supplies "not offered" for every capability, so a family need only write what it has.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple, Protocol, runtime_checkable

import numpy as np

from dqnn._jax import Array

Params = dict[str, Any]

#: The capabilities of :class:`Family`, as :func:`capability_error` and :meth:`Family.why_not` name them.
Capability = Literal["shift_rule", "packed", "matrix_parameter", "moments"]

_WHAT: dict[str, str] = {
    "shift_rule": "no exact two-term parameter-shift rule",
    "packed": "no packed form (packed mode needs real matrices)",
    "matrix_parameter": "no matrix parameter for parameter-matrix multiplication",
    "moments": "no description for the exact moment engine",
}


class GateOp(NamedTuple):
    """A unitary ``matrix`` of shape (2**len(wires),)*2 acting on local ``wires`` (first wire most significant)."""

    matrix: Array
    wires: tuple[int, ...]


class SwapOp(NamedTuple):
    """A SWAP of two local wires; the simulator may perform it as a relabelling, without arithmetic."""

    wires: tuple[int, int]


class ChannelOp(NamedTuple):
    """A CPTP channel ``rho -> sum_i K_i rho K_i^dagger`` on local ``wires``: ``kraus`` ``(m, 2**w, 2**w)``, NumPy
    (:class:`dqnn.model.channels.Channel`; noisy families, :mod:`dqnn.model.noise`). Not unitary: engines that
    assume unitary perceptrons must refuse it."""

    kraus: np.ndarray
    wires: tuple[int, ...]


Op = GateOp | SwapOp | ChannelOp


class ShiftRule(NamedTuple):
    """``dC/dtheta = scale * [C(theta + shift) - C(theta - shift)]``, exact for the angle it belongs to.

    A rotation ``exp(-i theta H)`` whose ``H`` has exactly two distinct eigenvalues ``l1 > l2`` gives
    ``C(theta) = a + b cos(2 r theta) + c sin(2 r theta)`` with ``r = (l1 - l2) / 2``, hence the rule with
    ``shift = pi / (4 r)`` and ``scale = r`` (:func:`two_eigenvalue_rule`); ``exp(-i theta Gamma / 2)`` with
    ``Gamma^2 = 1`` is ``r = 1/2``: :data:`PAULI_RULE`.
    """

    shift: float
    scale: float

    def combine(self, plus: Any, minus: Any) -> Any:
        """``scale * (plus - minus)`` from the costs at ``theta + shift`` and ``theta - shift``."""
        return self.scale * (plus - minus)


#: The rule of ``exp(-i theta Gamma / 2)`` with ``Gamma^2 = 1``: ``[C(theta + pi/2) - C(theta - pi/2)] / 2``.
PAULI_RULE = ShiftRule(np.pi / 2, 0.5)


def two_eigenvalue_rule(high: float, low: float) -> ShiftRule:
    """The rule of ``exp(-i theta H)`` for ``H`` with two distinct eigenvalues ``high > low`` (:class:`ShiftRule`)."""
    r = (float(high) - float(low)) / 2
    if not r > 0:
        raise ValueError(f"two_eigenvalue_rule: need high > low, got {high} and {low}")
    return ShiftRule(np.pi / (4 * r), r)


class MomentGate(NamedTuple):
    """Moment element: a fixed unitary ``matrix`` on local ``wires`` (an exact two-wire SWAP is a relabelling)."""

    matrix: np.ndarray
    wires: tuple[int, ...]


class MomentTwirl(NamedTuple):
    """Moment element: a unitary 2-design on local ``wires``, independent of every other random element."""

    wires: tuple[int, ...]


class MomentRotation(NamedTuple):
    """Moment element: ``exp(-i rate theta Gamma / 2)`` on local ``wires`` (up to a global phase).

    ``theta`` is the family's angle ``angle``, uniform on ``[0, 2 pi)`` and independent of everything else;
    ``Gamma`` (``generator``) is Hermitian with ``Gamma^2 = 1``; ``rate`` a nonzero integer, so that the angle covers
    whole periods of the rotation's channel. Each angle of the family appears in exactly one rotation.
    """

    generator: np.ndarray
    wires: tuple[int, ...]
    angle: int
    rate: float = 1.0


class MomentChannel(NamedTuple):
    """Moment element: a fixed CPTP channel with Kraus operators ``kraus`` ``(m, 2**w, 2**w)`` on local ``wires``."""

    kraus: np.ndarray
    wires: tuple[int, ...]


MomentElement = MomentGate | MomentTwirl | MomentRotation | MomentChannel


@runtime_checkable
class Family(Protocol):
    """What the simulator, packed mode, the shift rule, PMM and the exact moments ask of a family (module doc)."""

    @property
    def num_qubits(self) -> int:
        """Local wires: the perceptron's inputs, then its outputs."""
        ...

    @property
    def num_angles(self) -> int:
        """Circuit angles, ``params["theta"]`` ``(num_angles,)``."""
        ...

    def init(self, key: Array) -> Params:
        """A random initialisation."""
        ...

    def ops(self, params: Params) -> list[Op]:
        """The unitary as time-ordered gates on local wires."""
        ...

    def matrix(self, params: Params) -> Array:
        """The whole unitary."""
        ...

    @property
    def real(self) -> bool:
        """Whether every matrix of ``ops`` is real (float64) for all parameters."""
        ...

    @property
    def fusable(self) -> bool:
        """Whether ``ops`` holds several small gates worth fusing."""
        ...

    @property
    def matrix_parameter(self) -> str | None:
        """The key of the unitary that parameter-matrix multiplication updates, or None."""
        ...

    def shift_rule(self, angle: int) -> ShiftRule | None:
        """The exact two-term parameter-shift rule of ``angle``, or None."""
        ...

    def packed(self, angle: int) -> Family | None:
        """The packed family of ``angle`` (ops with ``M + i dM/dtheta``), or None."""
        ...

    def moment_elements(self) -> tuple[MomentElement, ...] | None:
        """The perceptron for the exact moment engine, or None."""
        ...

    def why_not(self, capability: Capability, angle: int | None = None) -> str:
        """Why ``capability`` is not offered (for ``angle``, where it depends on one)."""
        ...


class FamilyDefaults:
    """Every capability of :class:`Family` "not offered"; a family overrides those it has."""

    @property
    def real(self) -> bool:
        """False: the matrices may be complex."""
        return False

    @property
    def fusable(self) -> bool:
        """False."""
        return False

    @property
    def matrix_parameter(self) -> str | None:
        """None: no matrix parameter."""
        return None

    def shift_rule(self, angle: int) -> ShiftRule | None:
        """None: no exact shift rule."""
        return None

    def packed(self, angle: int) -> Family | None:
        """None: no packed form."""
        return None

    def moment_elements(self) -> tuple[MomentElement, ...] | None:
        """None: not for the exact moment engine."""
        return None

    def why_not(self, capability: Capability, angle: int | None = None) -> str:
        """A generic reason."""
        return f"{type(self).__name__} does not offer it"


def family_name(family: Any) -> str:
    """``family``'s class name, with its ``name`` when it has one of its own (for messages)."""
    kind = type(family).__name__
    name = getattr(family, "name", None)
    return kind if not isinstance(name, str) or name in ("", kind) else f"{kind} {name!r}"


def capability_error(where: str, family: Any, capability: Capability, angle: int | None = None) -> ValueError:
    """``ValueError("{where}: family {name} has no ...: {reason}")`` for a capability ``family`` does not offer."""
    why = getattr(family, "why_not", None)
    reason = why(capability, angle) if callable(why) else f"{type(family).__name__} does not implement the protocol"
    return ValueError(f"{where}: family {family_name(family)} has {_WHAT[capability]}: {reason}")
