"""Perceptron families: how a perceptron's unitary is made from its parameters.

A *family* describes the unitary of one perceptron on ``num_qubits = m + k`` local wires (its inputs in
the order given, then its outputs in the order given; see :mod:`dqnn` for the conventions). Every family
offers the same four things, which is all the simulator and the rest of the package use:

- ``init(key) -> params``: a random initialisation (a pytree of arrays; ``{}`` when there is nothing);
- ``ops(params) -> list[Op]``: the unitary as a time-ordered list of gates on local wires;
- ``matrix(params) -> (2**num_qubits, 2**num_qubits)``: the whole unitary (for checks and small cases);
- ``num_angles``: how many circuit angles (``params["theta"]``) it has.

Families: :class:`Fixed` (a given matrix), :class:`HaarUnitary` (a general unitary, Haar-random at
initialisation and trainable as a matrix, Beer et al.), :class:`Circuit` (Eq. 5: rotations
``R_k(theta) = exp(-i theta Gamma_k / 2)`` and fixed or Haar-random gates, in time order);
:class:`~dqnn.model.hamiltonian.HamiltonianRotation` lives in its own module. Beyond these four, every family
answers the capability hooks of :class:`dqnn.model.protocol.Family` (shift rule, packed form, matrix parameter,
exact-moment description), which is all the engines ask of it. :class:`Packed` is the packed form of any
family (``M + i dM/dtheta`` at one gate; :mod:`dqnn.sim.packed`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike

from dqnn._jax import Array
from dqnn.model import gates
from dqnn.model.protocol import (
    PAULI_RULE,
    Capability,
    Family,
    FamilyDefaults,
    GateOp,
    MomentElement,
    MomentGate,
    MomentRotation,
    MomentTwirl,
    Op,
    Params,
    ShiftRule,
    SwapOp,
    family_name,
)


def _check_wires(wires: Sequence[int], num_qubits: int, name: str) -> tuple[int, ...]:
    for q in wires:  # integers only: a float or bool wire is refused, never truncated
        if isinstance(q, (bool, np.bool_)) or not isinstance(q, (int, np.integer)):
            raise TypeError(f"{name}: wire {q!r} ({type(q).__name__}) is not an integer")
    w = tuple(int(q) for q in wires)
    if len(set(w)) != len(w):
        raise ValueError(f"{name}: wires {w} repeat a qubit")
    for q in w:
        if not 0 <= q < num_qubits:
            raise ValueError(f"{name}: wire {q} is out of range for a perceptron on {num_qubits} qubit(s)")
    return w


def embed(matrix: Array, wires: Sequence[int], num_qubits: int) -> Array:
    """The ``(2**num_qubits,)*2`` matrix of ``matrix`` acting on ``wires`` of ``num_qubits`` qubits.

    A NumPy ``matrix`` gives a NumPy result (so fixed gates stay concrete inside ``jit``).
    """
    xp: Any = np if isinstance(matrix, np.ndarray) else jnp
    rest = [q for q in range(num_qubits) if q not in wires]
    m = xp.asarray(matrix)
    full = xp.kron(m, xp.eye(2 ** len(rest), dtype=m.dtype))
    order = list(wires) + rest  # axis i of `full` is qubit order[i]
    t = full.reshape((2,) * (2 * num_qubits))
    inv = [order.index(q) for q in range(num_qubits)]
    t = xp.transpose(t, inv + [num_qubits + i for i in inv])
    return t.reshape(2**num_qubits, 2**num_qubits)


def fuse(ops: Sequence[Op], max_wires: int = 2) -> list[Op]:
    """``ops`` with each run of consecutive gates on at most ``max_wires`` wires (together) multiplied into one.

    Exactly the same unitary; SWAPs are kept (they are relabellings) and end a run. Products of NumPy
    (fixed) gates stay NumPy arrays.
    """
    out: list[Op] = []
    for op in ops:
        prev = out[-1] if out else None
        if isinstance(op, GateOp) and isinstance(prev, GateOp):
            wires = tuple(sorted(set(prev.wires) | set(op.wires)))
            if len(wires) <= max_wires:
                a = embed(op.matrix, [wires.index(w) for w in op.wires], len(wires))
                b = embed(prev.matrix, [wires.index(w) for w in prev.wires], len(wires))
                out[-1] = GateOp(a @ b, wires)
                continue
        out.append(op)
    return out


def ops_matrix(ops: Sequence[Op], num_qubits: int) -> Array:
    """Multiply time-ordered ``ops`` into one ``(2**num_qubits,)*2`` matrix (later ops on the left)."""
    u = jnp.eye(2**num_qubits, dtype=jnp.complex128)
    for op in ops:
        if not isinstance(op, (GateOp, SwapOp)):  # a channel (dqnn.model.noise) has no matrix
            raise ValueError(f"ops_matrix: {type(op).__name__} on wires {op.wires} is not a unitary gate")
        m = jnp.asarray(gates.SWAP) if isinstance(op, SwapOp) else op.matrix
        u = embed(m, op.wires, num_qubits) @ u
    return u


@dataclass(frozen=True, eq=False)
class Fixed(FamilyDefaults):
    """A fixed unitary on ``num_qubits`` wires; it has no parameters. An exact SWAP is recognised.

    Capabilities: exact moments (a fixed gate); no angles, so no shift rule or packed form.
    """

    unitary: np.ndarray
    num_qubits: int
    num_angles: int = field(default=0, init=False)

    def __init__(self, unitary: ArrayLike, num_qubits: int | None = None, name: str = "Fixed"):
        m = np.asarray(unitary, dtype=np.complex128)
        nq = num_qubits if num_qubits is not None else int(round(np.log2(max(m.shape[0], 1))))
        m = gates.check_unitary(m, name, nq)
        object.__setattr__(self, "unitary", m)
        object.__setattr__(self, "num_qubits", nq)
        object.__setattr__(self, "num_angles", 0)

    def init(self, key: Array) -> Params:
        """No parameters: ``{}``."""
        return {}

    def ops(self, params: Params) -> list[Op]:
        """One gate on all wires (a :class:`SwapOp` when the matrix is exactly SWAP)."""
        if self.num_qubits == 2 and np.array_equal(self.unitary, gates.SWAP):
            return [SwapOp((0, 1))]
        return [GateOp(jnp.asarray(gates.real_if_real(self.unitary)), tuple(range(self.num_qubits)))]

    def matrix(self, params: Params) -> Array:
        """The fixed matrix."""
        return jnp.asarray(self.unitary)

    @property
    def real(self) -> bool:
        """Whether the matrix is real (see :attr:`Circuit.real`)."""
        return not np.any(self.unitary.imag)

    def moment_elements(self) -> tuple[MomentElement, ...]:
        """The fixed matrix on all wires."""
        return (MomentGate(self.unitary, tuple(range(self.num_qubits))),)

    def why_not(self, capability: Capability, angle: int | None = None) -> str:
        """A fixed perceptron has no angle and no matrix parameter."""
        return "a fixed matrix has no angle" if capability in ("shift_rule", "packed") else "it has no parameter"


@dataclass(frozen=True, eq=False)
class HaarUnitary(FamilyDefaults):
    """A general unitary on ``num_qubits`` wires, Haar-random at initialisation (a unitary 2-design).

    ``params = {"u": (2**num_qubits, 2**num_qubits) complex}``; the matrix itself is the parameter, so it
    can be trained by parameter-matrix multiplication (Eq. 13) or used as a random, untrained block.
    Capabilities: matrix parameter ``"u"`` (PMM), exact moments (a 2-design twirl); no angles.
    """

    num_qubits: int
    num_angles: int = field(default=0, init=False)

    def init(self, key: Array) -> Params:
        """``{"u": Haar-random unitary}``."""
        return {"u": gates.haar_unitary(key, 2**self.num_qubits)}

    def ops(self, params: Params) -> list[Op]:
        """One gate on all wires."""
        return [GateOp(params["u"], tuple(range(self.num_qubits)))]

    def matrix(self, params: Params) -> Array:
        """``params["u"]``."""
        return params["u"]

    @property
    def real(self) -> bool:
        """Never: Haar-random unitaries are complex (see :attr:`Circuit.real`)."""
        return False

    @property
    def matrix_parameter(self) -> str:
        """``"u"``: the unitary that parameter-matrix multiplication updates."""
        return "u"

    def moment_elements(self) -> tuple[MomentElement, ...]:
        """A 2-design twirl of all wires (Haar-random at initialisation, independent of the rest)."""
        return (MomentTwirl(tuple(range(self.num_qubits))),)

    def why_not(self, capability: Capability, angle: int | None = None) -> str:
        """A Haar unitary has no angle."""
        return "a Haar unitary has no angle (train it by parameter-matrix multiplication)"


class Rot(NamedTuple):
    """Circuit element ``exp(-i theta Gamma / 2)`` on ``wires``; ``generator``: a Pauli string or Hermitian matrix."""

    generator: str | np.ndarray
    wires: tuple[int, ...]


class Gate(NamedTuple):
    """Circuit element: a fixed gate on ``wires``, given by name (``gates.NAMED_GATES``) or as a matrix."""

    matrix: str | np.ndarray
    wires: tuple[int, ...]


class RandomUnitary(NamedTuple):
    """Circuit element: a Haar-random unitary on ``wires``, drawn at initialisation (stored in ``params["haar"]``)."""

    wires: tuple[int, ...]


Element = Rot | Gate | RandomUnitary


@dataclass(frozen=True, eq=False)
class _Rotation:
    eigvals: np.ndarray
    eigvecs: np.ndarray
    wires: tuple[int, ...]
    two_eigenvalues: bool  # spectrum {-1, +1}: the two-term parameter-shift rule applies


@dataclass(frozen=True, eq=False)
class Circuit(FamilyDefaults):
    """A parameterised circuit of Eq. (5) on ``num_qubits`` wires; elements act in the order listed.

    ``params = {"theta": (num_angles,) float, "haar": tuple of (2**w, 2**w) unitaries}`` where ``theta``
    holds one angle per :class:`Rot` (in order) and ``haar`` one matrix per :class:`RandomUnitary`.
    ``init`` draws angles uniformly in ``[0, 2 pi)`` and the random unitaries from the Haar measure.
    Capabilities: the shift rule of every angle whose generator has eigenvalues +-1 (:data:`PAULI_RULE`);
    the packed form when :attr:`real`; exact moments when every generator has ``Gamma^2 = 1``; fusable.
    """

    num_qubits: int
    elements: tuple[Element, ...]
    num_angles: int = field(init=False)
    _compiled: tuple[Any, ...] = field(init=False, repr=False)

    def __init__(self, num_qubits: int, elements: Sequence[Element], name: str = "Circuit"):
        compiled: list[Any] = []
        n_rot = 0
        for i, el in enumerate(elements):
            where = f"{name} element {i}"
            wires = _check_wires(el.wires, num_qubits, where)
            if isinstance(el, Rot):
                if not isinstance(el.generator, str) and not np.all(np.isfinite(np.asarray(el.generator))):
                    raise ValueError(f"{where}: generator has non-finite entries (NaN or inf)")
                gen = (
                    gates.pauli_string(el.generator)
                    if isinstance(el.generator, str)
                    else gates.check_hermitian(el.generator, where + " generator")
                )
                if gen.shape != (2 ** len(wires),) * 2:
                    raise ValueError(f"{where}: generator of shape {gen.shape} does not fit {len(wires)} wire(s)")
                w, v = np.linalg.eigh(gen)
                two = bool(np.allclose(np.abs(w), 1.0, atol=1e-12))
                compiled.append(_Rotation(w.astype(np.complex128), v, wires, two))
                n_rot += 1
            elif isinstance(el, Gate):
                if isinstance(el.matrix, str) and el.matrix not in gates.NAMED_GATES:
                    raise ValueError(
                        f"{where}: unknown gate {el.matrix!r}; the named gates are "
                        + ", ".join(sorted(gates.NAMED_GATES))
                    )
                m = gates.NAMED_GATES[el.matrix] if isinstance(el.matrix, str) else el.matrix
                m = gates.check_unitary(m, where, len(wires))
                if len(wires) == 2 and np.array_equal(m, gates.SWAP):
                    compiled.append(SwapOp((wires[0], wires[1])))
                else:
                    compiled.append(GateOp(gates.real_if_real(m), wires))
            elif isinstance(el, RandomUnitary):
                compiled.append(el._replace(wires=wires))
            else:
                raise ValueError(f"{where}: {el!r} is not a Rot, Gate or RandomUnitary")
        object.__setattr__(self, "num_qubits", int(num_qubits))
        object.__setattr__(self, "elements", tuple(elements))
        object.__setattr__(self, "num_angles", n_rot)
        object.__setattr__(self, "_compiled", tuple(compiled))

    @property
    def real(self) -> bool:
        """Whether every matrix of the circuit is real for every angle: fixed gates with real entries and
        rotations whose ``-i Gamma`` is real with ``Gamma^2 = 1`` (``R_y``, ...), no random unitaries.

        Then :func:`dqnn.model.gates.rotation` and the fixed gates are float64, and a real input state is simulated
        in real arithmetic (:mod:`dqnn.sim.simulate`): the same numbers for about half the work.
        """
        for c in self._compiled:
            if isinstance(c, _Rotation):
                if gates.real_generator(c.eigvals, c.eigvecs) is None:
                    return False
            elif isinstance(c, GateOp):
                if np.iscomplexobj(c.matrix):
                    return False
            elif not isinstance(c, SwapOp):
                return False
        return True

    @property
    def random_blocks(self) -> tuple[tuple[int, ...], ...]:
        """Wires of each :class:`RandomUnitary`, in order."""
        return tuple(c.wires for c in self._compiled if isinstance(c, RandomUnitary))

    @property
    def shift_rule_ok(self) -> tuple[bool, ...]:
        """For each angle: whether its generator has spectrum {-1, +1} (two-term parameter shift)."""
        return tuple(c.two_eigenvalues for c in self._compiled if isinstance(c, _Rotation))

    @property
    def fusable(self) -> bool:
        """True: a circuit's gates on few wires may be multiplied together (:func:`fuse`)."""
        return True

    def angle_position(self, angle: int) -> int:
        """The position in :meth:`ops` (and in ``elements``) of the rotation of ``angle``."""
        pos = [i for i, c in enumerate(self._compiled) if isinstance(c, _Rotation)]
        if not 0 <= angle < len(pos):
            raise ValueError(f"Circuit: angle {angle} out of range (circuit has {len(pos)} angle(s))")
        return pos[angle]

    def shift_rule(self, angle: int) -> ShiftRule | None:
        """:data:`PAULI_RULE` when the generator of ``angle`` has eigenvalues +-1, else None."""
        return PAULI_RULE if self.shift_rule_ok[angle] else None

    def packed(self, angle: int) -> Packed | None:
        """The packed form of ``angle`` (:class:`Packed`) when the circuit is :attr:`real`, else None."""
        return Packed(self, angle, self.angle_position(angle)) if self.real else None

    def _moment_refusal(self) -> str | None:
        for i, el in enumerate(self.elements):
            if isinstance(el, Rot) and _involutory(_generator_matrix(el.generator)) is None:
                return f"element {i}'s generator does not square to one (the engine needs Gamma^2 = 1)"
        return None

    def moment_elements(self) -> tuple[MomentElement, ...] | None:
        """The elements in order: rotations (rate 1), fixed gates, 2-design twirls; None unless every
        generator has ``Gamma^2 = 1``."""
        if self._moment_refusal() is not None:
            return None
        out: list[MomentElement] = []
        k = 0
        for el in self.elements:
            wires = tuple(int(w) for w in el.wires)
            if isinstance(el, Rot):
                out.append(MomentRotation(_generator_matrix(el.generator), wires, k))
                k += 1
            elif isinstance(el, Gate):
                m = gates.NAMED_GATES[el.matrix] if isinstance(el.matrix, str) else np.asarray(el.matrix)
                out.append(MomentGate(m, wires))
            else:
                out.append(MomentTwirl(wires))
        return tuple(out)

    def why_not(self, capability: Capability, angle: int | None = None) -> str:
        """Which generator or gate stands in the way."""
        if capability == "shift_rule" and angle is not None:
            i = self.angle_position(angle)
            return (
                f"the generator of its angle {angle} (element {i}) does not have eigenvalues +-1; the rule "
                "[C(theta + pi/2) - C(theta - pi/2)] / 2 needs Gamma^2 = 1"
            )
        if capability == "packed":
            return "the circuit is not real (Circuit.real: real gates, generators with -i Gamma real and Gamma^2 = 1)"
        if capability == "moments":
            return self._moment_refusal() or "no reason known"
        return "a circuit's parameters are angles, not a matrix (HaarUnitary is trained by PMM)"

    def init(self, key: Array) -> Params:
        """Angles uniform in [0, 2 pi); random blocks Haar."""
        kt, kh = jax.random.split(key)
        theta = jax.random.uniform(kt, (self.num_angles,), minval=0.0, maxval=2 * np.pi, dtype=jnp.float64)
        blocks = self.random_blocks
        if not blocks:
            return {"theta": theta, "haar": ()}
        keys = jax.random.split(kh, len(blocks))
        # blocks of one size are drawn by one vmapped call: the same numbers as one call per key, but one
        # random-number kernel and one batched QR per size, so compile time does not grow with the block count
        haar: list[Any] = [None] * len(blocks)
        for size in sorted({len(w) for w in blocks}):
            idx = [i for i, w in enumerate(blocks) if len(w) == size]
            batch = jax.vmap(lambda k, d=2**size: gates.haar_unitary(k, d))(keys[np.asarray(idx)])
            for m, i in enumerate(idx):
                haar[i] = batch[m]
        return {"theta": theta, "haar": tuple(haar)}

    def ops(self, params: Params) -> list[Op]:
        """The circuit as time-ordered gates."""
        out: list[Op] = []
        i_rot = 0
        i_haar = 0
        for c in self._compiled:
            if isinstance(c, _Rotation):
                out.append(GateOp(gates.rotation(c.eigvals, c.eigvecs, params["theta"][i_rot]), c.wires))
                i_rot += 1
            elif isinstance(c, RandomUnitary):
                out.append(GateOp(params["haar"][i_haar], c.wires))
                i_haar += 1
            else:
                out.append(c)
        return out

    def matrix(self, params: Params) -> Array:
        """The whole circuit unitary."""
        return ops_matrix(self.ops(params), self.num_qubits)


def _generator_matrix(gen: str | np.ndarray) -> np.ndarray:
    """A :class:`Rot` generator as a complex128 matrix (as the moment engine takes it)."""
    return gates.pauli_string(gen) if isinstance(gen, str) else np.asarray(gen, dtype=np.complex128)


def _involutory(g: np.ndarray) -> np.ndarray | None:
    """``g`` when ``g^2 = 1`` within 1e-10 (the moment engine's test), else None."""
    return g if np.allclose(g @ g, np.eye(g.shape[0]), atol=1e-10) else None


class Wrapper(FamilyDefaults):
    """A family built around another one, ``inner`` (set by the subclass): its wires, angles and initialisation
    (the same parameter pytree and numbers) are ``inner``'s."""

    inner: Family

    @property
    def num_qubits(self) -> int:
        """``inner``'s."""
        return self.inner.num_qubits

    @property
    def num_angles(self) -> int:
        """``inner``'s."""
        return self.inner.num_angles

    def init(self, key: Array) -> Params:
        """``inner``'s initialisation."""
        return self.inner.init(key)


class Packed(Wrapper):
    """A real family ``inner`` whose gate at ``position`` in ``inner.ops`` (the one holding angle ``angle``) is
    ``M + i dM/dtheta`` (from ``jax.jvp``); every other gate is ``inner``'s.

    Same parameters as ``inner``. Not unitary: a device for :mod:`dqnn.sim.packed`, not a perceptron to train.
    A family's :meth:`~dqnn.model.protocol.Family.packed` returns one.
    """

    def __init__(self, inner: Family, angle: int, position: int):
        if not inner.real:
            raise ValueError(f"Packed: {family_name(inner)} is not real (family.real); packing needs real matrices")
        if not 0 <= angle < inner.num_angles:
            n = inner.num_angles
            raise ValueError(f"Packed: angle {angle} out of range ({family_name(inner)} has {n} angle(s))")
        self.inner = inner
        self.angle = int(angle)
        self.position = int(position)

    def ops(self, params: Params) -> list[Op]:
        """``inner``'s ops, with the packed gate (same position, same wires)."""
        out = self.inner.ops(params)
        theta = params["theta"]

        def matrix(t: Array) -> Array:
            op = self.inner.ops({**params, "theta": theta.at[self.angle].set(t)})[self.position]
            assert isinstance(op, GateOp)
            return op.matrix

        t0 = theta[self.angle]
        m, dm = jax.jvp(matrix, (t0,), (jnp.ones_like(t0),))
        out[self.position] = GateOp(m + 1j * dm, out[self.position].wires)
        return out

    def matrix(self, params: Params) -> Array:
        """The product of :meth:`ops` (not unitary)."""
        return ops_matrix(self.ops(params), self.num_qubits)

    def why_not(self, capability: Capability, angle: int | None = None) -> str:
        """A packed family is a device for one derivative."""
        return "a packed family is a device for one derivative, not a perceptron"


def family_key(family: Family) -> object:
    """A hashable key: families with equal keys make the same ops from the same params and initialise alike.

    ``HaarUnitary`` families are interchangeable by width; other families only with themselves (object id).
    """
    if isinstance(family, HaarUnitary):
        return ("HaarUnitary", family.num_qubits)
    return id(family)


def fig3a_perceptron() -> Circuit:
    """The Fig. 3a perceptron on wires (input, output): SWAP(input, output), then ``R_y`` on the output."""
    return Circuit(2, [Gate("SWAP", (0, 1)), Rot("Y", (1,))], name="fig3a perceptron")


def two_qubit_w(kind: str = "haar-rotation") -> list[Element]:
    """Elements of a two-qubit block ``W`` on wires (0, 1) for Fig. 3b.

    ``"haar-rotation"``: ``W = A R_y(theta) B`` with A, B Haar-random two-qubit unitaries (B acts first)
    and ``R_y`` on wire 0; since A and B are Haar, W is a 2-design for every theta.
    ``"ry-cz"``: the hardware-efficient block ``CZ (R_y x R_y)`` (not a 2-design).
    """
    if kind == "haar-rotation":
        return [RandomUnitary((0, 1)), Rot("Y", (0,)), RandomUnitary((0, 1))]
    if kind == "ry-cz":
        return [Rot("Y", (0,)), Rot("Y", (1,)), Gate("CZ", (0, 1))]
    raise ValueError(f"two_qubit_w: unknown kind {kind!r} (use 'haar-rotation' or 'ry-cz')")


def fig3b_v1(w: str = "haar-rotation") -> Circuit:
    """Fig. 3b perceptron ``V1`` on wires (input a, input b, output): ``W`` on (a, b), then SWAP(a, output)."""
    els = [*two_qubit_w(w), Gate("SWAP", (0, 2))]
    return Circuit(3, els, name="fig3b V1")


def fig3b_v2() -> Circuit:
    """Fig. 3b perceptron ``V2`` on wires (input, output): SWAP(input, output)."""
    return Circuit(2, [Gate("SWAP", (0, 1))], name="fig3b V2")
