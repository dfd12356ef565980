"""Exact moments of a gradient over the initialisation ensemble, without sampling.

For a network whose random elements are independent and each either a unitary 2-design on its wires
(:class:`~dqnn.model.families.HaarUnitary` perceptrons, :class:`~dqnn.model.families.RandomUnitary` circuit elements) or
a rotation ``R(theta) = exp(-i theta Gamma / 2)`` with ``theta`` uniform on ``[0, 2 pi)`` and ``Gamma^2 = 1``,
with any fixed gates between them, this module computes ``E[d_nu C]`` and ``E[(d_nu C)^2]`` exactly. Each perceptron
comes as its family's ``moment_elements()`` (:class:`~dqnn.model.protocol.Family`: fixed gates, twirls, rotations
``exp(-i rate theta Gamma / 2)`` with an integer ``rate``); a family without one is refused by name.

Method. ``d_nu C = -(1/N) sum_x Tr[O_x d rho_x]`` (``+`` for an observable cost) is linear in the output state,
so ``(d_nu C)^2`` is linear in the two-copy object ``rho_x (x) rho_y`` and its average is obtained by pushing the
two-copy state through the network with the *moment operator* of every random element:

- a 2-design ``U`` on a block ``S`` of dimension ``d`` (Collins & Sniady 2006, Weingarten calculus for ``t = 2``):
  ``E[U^{(x)2} X U^{dagger (x)2}] = sum_{s, t in {1, F}} Wg(s t^{-1}, d) Tr[P_t X] P_s`` with
  ``Wg(1) = 1 / (d^2 - 1)``, ``Wg(F) = -1 / (d (d^2 - 1))``; ``P_1`` (identity) and ``P_F`` (swap of the copies)
  are products over the qubits of ``S``; for one copy (the mean) ``E[U X U^dagger] = Tr[X] 1 / d``;
- a rotation with uniform angle: the two-copy map ``M(theta)^{(x)2}``, ``M(theta) X = R X R^dagger``, is a
  trigonometric polynomial of degree 2 in ``theta``, so its average is exactly the mean over 5 equally spaced
  angles; the differentiated angle uses ``M'(theta) = [M(theta + pi/2) - M(theta - pi/2)] / 2`` (exact for
  ``Gamma^2 = 1``, the parameter-shift rule) in every copy before averaging;
- fixed gates act as ``M^{(x)2}``; SWAPs relabel; tracing a qubit contracts it with the identity (Eq. 1).

The network is followed exactly as :mod:`dqnn.sim.simulate` does (layer by layer, |0> qubits added lazily, SWAP as a
relabelling, inputs traced once their layer is done), but instead of a state the moments are built as a tensor
network: every qubit of every two-copy operator carries one leg of dimension ``4**t`` (``t`` copies; per-qubit
index order ``(k_1..k_t, b_1..b_t)``, kets then bras, copy 1 first), and a 2-design twirl is stored factorised as
a 2x2 Weingarten matrix joined by two small hyperindices to per-qubit pattern vectors. This *is* the per-qubit
identity/swap (statistical-mechanics) representation of random local circuits (Dalzell, Hunter-Jones, Brandao,
PRX Quantum 2022; Cerezo et al., Nat. Commun. 12, 1791 (2021)): for local blocks the network has the geometry of
the circuit and small treewidth, for global Haar perceptrons (Theorem 1) it is a chain of 2-state hyperindices.
Each connected part of the network is contracted along its own :mod:`opt_einsum` greedy path (identical parts
once), with every intermediate renormalised by an exact power of two (:mod:`dqnn.moments.scaled`, so values far
below the double range keep all their digits and are reported as ``log10``), in extended precision where the
platform has it (``numpy.clongdouble``) and again with the tensors rounded to complex128; the cost is polynomial in
``n`` whenever the treewidth is bounded (Fig. 3a, Fig. 3b at fixed depth, Theorem 1).

Never wrong silently: the two evaluations' disagreement is the error estimate, judged by
:mod:`dqnn.moments.validation` (:attr:`ExactMoments.trusted`, :attr:`~ExactMoments.reason`,
:attr:`~ExactMoments.relative_error`). In deep networks of global 2-designs (Theorem 1) the identity/swap expansion
cancels (``Tr[P_F X] - Tr[P_I X] / d``) and the tensor network loses every digit; those networks, recognised by
their structure, go to :mod:`dqnn.moments.registers` (the orthogonal commutant basis, well conditioned), which the
tensor network cross-checks while it is small.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import InitVar, dataclass
from typing import Any, Literal

import numpy as np
import opt_einsum
from numpy.typing import ArrayLike

from dqnn.costs import CostKind, check_targets
from dqnn.model import gates
from dqnn.model.angles import AngleIndex, check_index
from dqnn.model.network import Network
from dqnn.model.protocol import (
    MomentChannel,
    MomentElement,
    MomentGate,
    MomentRotation,
    MomentTwirl,
    capability_error,
    family_name,
)
from dqnn.model.states import split_product
from dqnn.moments.commutant import permutation_vectors as permutation_vectors
from dqnn.moments.commutant import scaled_weingarten as scaled_weingarten
from dqnn.moments.commutant import weingarten_matrix as weingarten_matrix
from dqnn.moments.registers import derivative_block_matrix, register_second_moment, register_structure
from dqnn.moments.scaled import Scaled, normalise
from dqnn.moments.validation import TOLERANCE, Validation, judge
from dqnn.presets.problems import GradientProblem
from dqnn.sim.schedule import layer_schedule

Label = tuple[str, int]
#: Which engine computes the moments (:func:`exact_gradient_moments`).
Engine = Literal["auto", "network", "registers", "line"]

#: Largest block (qubits) of a fixed gate or rotation stored as a dense moment operator, per number of copies.
MAX_DENSE_WIRES = {1: 6, 2: 3, 4: 1}
_HAS_EXTENDED = bool(np.finfo(np.longdouble).eps < np.finfo(np.float64).eps)
#: dtype of the reported contraction: extended precision where the platform has it (x86-64), else complex128.
EXTENDED: Any = np.clongdouble if _HAS_EXTENDED else np.complex128
#: Largest register (qubits) for a non-product input state or target, stored densely.
MAX_DENSE_REGISTER = 6


@dataclass(frozen=True, eq=False)
class ProductStates:
    """``N`` product state vectors given by their qubit factors ``(N, n, 2)`` (first qubit first), never expanded.

    Use in place of ``inputs`` (or of global-cost ``targets``) of :func:`exact_gradient_moments` for wide registers.
    """

    factors: np.ndarray

    def __init__(self, factors: ArrayLike):
        f = np.asarray(factors, dtype=np.complex128)
        if f.ndim != 3 or f.shape[2] != 2:
            raise ValueError(f"ProductStates: factors must have shape (N, n, 2), got {f.shape}")
        object.__setattr__(self, "factors", f)

    @classmethod
    def zeros(cls, num_pairs: int, num_qubits: int) -> ProductStates:
        """``|0...0>`` repeated ``num_pairs`` times."""
        f = np.zeros((num_pairs, num_qubits, 2), dtype=np.complex128)
        f[:, :, 0] = 1.0
        return cls(f)


@dataclass(frozen=True)
class ExactMoments:
    """Exact ``E[d_nu C]``, ``E[(d_nu C)^2]`` and ``Var[d_nu C] = E[(d_nu C)^2] - E[d_nu C]^2`` over the ensemble.

    ``method``: how they were computed; ``seconds``: wall time; ``largest_intermediate``: the number of entries
    of the largest tensor formed while contracting the second moment; ``num_tensors``: tensors in that network
    (for the register recursion, :mod:`dqnn.moments.registers`: ``8``, and the number of perceptrons).
    ``double_rounding``: ``|m2_double - m2_extended| / |m2_extended|``, the relative difference of the second
    moment evaluated in complex128 and in extended precision (``numpy.clongdouble``, 64-bit mantissa on x86-64;
    each evaluation with its tensors built in its own precision; ``nan`` where extended is no wider than double).

    Validation (not dataclass fields, so :func:`dataclasses.asdict` keeps the fields above; :meth:`as_dict` has
    them all): :attr:`trusted`, :attr:`reason`, :attr:`relative_error` (estimated relative error of the variance:
    the disagreement of two evaluations, module :mod:`dqnn.moments.validation`), :attr:`log10_variance` and
    :attr:`log10_second_moment` (finite far below the double range, where ``variance`` is ``0.0``), :attr:`checks`.
    A variance that is untrusted because it came out negative is reported as ``nan``.
    """

    mean: float
    second_moment: float
    variance: float
    method: str
    seconds: float
    largest_intermediate: int
    num_tensors: int
    double_rounding: float = 0.0
    validation: InitVar[Validation | None] = None

    def __post_init__(self, validation: Validation | None) -> None:
        if validation is None:  # constructed by hand: values as given, nothing checked
            v2 = Scaled.of(np.float64(self.second_moment))
            validation = Validation(
                math.nan,
                False,
                "not validated (constructed without an error estimate)",
                Scaled.of(np.float64(self.variance)).log10_abs(),
                v2.log10_abs(),
                "none",
            )
        object.__setattr__(self, "_validation", validation)

    @property
    def trusted(self) -> bool:
        """Whether the variance is finite, ``>= 0`` and its estimated relative error at most ``1e-6``."""
        return bool(self._validation.trusted)  # type: ignore[attr-defined]

    @property
    def reason(self) -> str | None:
        """Why the variance is untrusted (``None`` when trusted)."""
        return self._validation.reason  # type: ignore[attr-defined, no-any-return]

    @property
    def relative_error(self) -> float:
        """Estimated relative error of the variance (disagreement of two independent evaluations)."""
        return float(self._validation.relative_error)  # type: ignore[attr-defined]

    @property
    def log10_variance(self) -> float:
        """``log10 Var[d C]``, finite below the double range; ``nan`` when the variance is not reported."""
        return float(self._validation.log10_variance)  # type: ignore[attr-defined]

    @property
    def log10_second_moment(self) -> float:
        """``log10 |E[(d C)^2]|``, finite below the double range."""
        return float(self._validation.log10_second_moment)  # type: ignore[attr-defined]

    @property
    def checks(self) -> str:
        """How the error was estimated (which evaluations were compared)."""
        return str(self._validation.checks)  # type: ignore[attr-defined]

    def as_dict(self) -> dict[str, Any]:
        """Every field and the validation, as plain Python values (for JSON and tables)."""
        out: dict[str, Any] = {
            k: getattr(self, k)
            for k in (
                "mean",
                "second_moment",
                "variance",
                "method",
                "seconds",
                "largest_intermediate",
                "num_tensors",
                "double_rounding",
            )
        }
        out.update(
            trusted=self.trusted,
            reason=self.reason,
            relative_error=self.relative_error,
            log10_variance=self.log10_variance,
            log10_second_moment=self.log10_second_moment,
            checks=self.checks,
        )
        return out


# ----------------------------------------------------------------------------------------------------------------
# Moment operators (dense, on a few qubits) and per-qubit pattern vectors
# ----------------------------------------------------------------------------------------------------------------


def single_copy_map(u: ArrayLike) -> np.ndarray:
    """``M X = U X U^dagger`` as ``M[k', b', k, b] = U[k', k] conj(U[b', b])``; shape (D, D, D, D), D = 2**w."""
    m = np.asarray(u, dtype=np.complex128)
    return np.einsum("ac,bd->abcd", m, m.conj())


def fuse_copies(maps: Sequence[np.ndarray]) -> np.ndarray:
    """``M_1 (x) ... (x) M_t`` on ``t`` copies of ``w`` qubits, regrouped per qubit; shape ``(4**t,)*w + (4**t,)*w``.

    ``maps[c]``: copy ``c``'s map as :func:`single_copy_map` gives it. Leg ``i`` (output) and ``w + i`` (input)
    carry qubit ``i`` in the per-qubit order ``(k_1..k_t, b_1..b_t)`` of this module.
    """
    t = len(maps)
    dim = maps[0].shape[0]
    w = int(round(np.log2(dim)))
    full = np.asarray(maps[0]).reshape((2,) * (4 * w))
    for m in maps[1:]:
        full = np.multiply.outer(full, np.asarray(m).reshape((2,) * (4 * w)))

    def axis(c: int, block: int, i: int) -> int:  # block 0: k', 1: b', 2: k, 3: b
        return c * 4 * w + block * w + i

    perm = []
    for side in (0, 2):
        for i in range(w):
            perm += [axis(c, side, i) for c in range(t)] + [axis(c, side + 1, i) for c in range(t)]
    return full.transpose(perm).reshape((4**t,) * (2 * w))


def gate_moment(u: ArrayLike, copies: int) -> np.ndarray:
    """The moment operator of a fixed gate: ``M^{(x)t}``, shape ``(4**t,)*(2w)`` (see :func:`fuse_copies`)."""
    m = single_copy_map(u)
    return fuse_copies([m] * copies)


def _generator(gen: str | np.ndarray, where: str) -> np.ndarray:
    g = gates.pauli_string(gen) if isinstance(gen, str) else gates.check_hermitian(gen, where)
    if not np.allclose(g @ g, np.eye(g.shape[0]), atol=1e-10):
        raise ValueError(f"{where}: exact moments need a generator with Gamma^2 = 1 (eigenvalues +-1)")
    return g


def _rotation(g: np.ndarray, theta: float) -> np.ndarray:
    """``exp(-i theta G / 2) = cos(theta/2) 1 - i sin(theta/2) G`` for ``G^2 = 1``."""
    return np.cos(theta / 2) * np.eye(g.shape[0], dtype=np.complex128) - 1j * np.sin(theta / 2) * g


def _trig_mean(a: int, b: int) -> float:
    """``E[cos(u)^a sin(u)^b]``, ``u`` uniform on ``[0, pi)``: ``(a-1)!! (b-1)!! / (a+b)!!`` for even a, b, else 0."""
    if a % 2 or b % 2:
        return 0.0

    def dfact(k: int) -> int:
        return 1 if k <= 0 else k * dfact(k - 2)

    return dfact(a - 1) * dfact(b - 1) / dfact(a + b)


def rotation_moment(
    generator: ArrayLike, copies: int, derivative: bool = False, theta: float | None = None
) -> np.ndarray:
    """``E_theta[M(theta)^{(x)t}]`` (``M'`` when ``derivative``), theta uniform on [0, 2 pi); shape (4**t,)*(2w).

    ``M(theta) X = R X R^dagger`` with ``R = exp(-i theta Gamma / 2) = cos(u) 1 + sin(u) (-i Gamma)``, ``u = theta/2``,
    ``Gamma^2 = 1``, and ``dR/dtheta = cos(u) (-i Gamma / 2) + sin(u) (-1/2)``. ``M^{(x)t}`` (and ``M'^{(x)t}`` with
    ``M' X = R' X R^dagger + R X R'^dagger``) is a sum of products of ``2t`` factors ``cos(u) P + sin(u) Q``; each
    monomial is averaged exactly with :func:`_trig_mean` (so for Pauli generators every entry is exact).
    ``theta`` given: no average, the operator at that angle.
    """
    g = _generator(np.asarray(generator, dtype=np.complex128), "rotation_moment generator")
    eye = np.eye(g.shape[0], dtype=np.complex128)
    r = (eye, -1j * g)  # R = cos(u) r[0] + sin(u) r[1]
    dr = (-0.5j * g, -0.5 * eye)  # dR/dtheta = cos(u) dr[0] + sin(u) dr[1]
    one = [(dr, r), (r, dr)] if derivative else [(r, r)]  # a single-copy map: sum of (ket factor, bra factor)
    total: np.ndarray | float = 0.0
    for combo in np.ndindex(*(len(one),) * copies):
        factors = [f for c in combo for f in one[c]]  # 2t factors: ket_1, bra_1, ket_2, bra_2, ...
        for pick in np.ndindex(*(2,) * len(factors)):  # 0: cos part, 1: sin part
            nsin = int(sum(pick))
            ncos = len(pick) - nsin
            w = _trig_mean(ncos, nsin) if theta is None else np.cos(theta / 2) ** ncos * np.sin(theta / 2) ** nsin
            if w == 0.0:
                continue
            mats = [f[k] for f, k in zip(factors, pick, strict=True)]
            maps = [np.einsum("ac,bd->abcd", mats[2 * c], mats[2 * c + 1].conj()) for c in range(copies)]
            total = total + w * fuse_copies(maps)
    return np.asarray(total)


def rotation_moment_quadrature(
    generator: ArrayLike, copies: int, derivative: bool = False, theta: float | None = None
) -> np.ndarray:
    """:func:`rotation_moment` by quadrature (an independent check of it); same arguments and shape.

    ``M(theta) X = R X R^dagger`` with ``R = exp(-i theta Gamma / 2)``, ``Gamma^2 = 1``; ``M'(theta) =
    [M(theta + pi/2) - M(theta - pi/2)] / 2`` (parameter shift, exact). ``M(theta)^{(x)t}`` is a trigonometric
    polynomial of degree ``t`` in ``theta``, so the mean over ``2 t + 1`` equally spaced angles is the exact average.
    ``theta`` given: no average, the operator at that angle.
    """
    g = _generator(np.asarray(generator, dtype=np.complex128), "rotation_moment generator")

    def m_at(th: float) -> np.ndarray:
        if not derivative:
            return single_copy_map(_rotation(g, th))
        return 0.5 * (single_copy_map(_rotation(g, th + np.pi / 2)) - single_copy_map(_rotation(g, th - np.pi / 2)))

    angles = [float(theta)] if theta is not None else [2 * np.pi * q / (2 * copies + 1) for q in range(2 * copies + 1)]
    out = sum(fuse_copies([m_at(th)] * copies) for th in angles)
    return np.asarray(out) / len(angles)


# ----------------------------------------------------------------------------------------------------------------
# The tensor network, built by following the simulator's schedule
# ----------------------------------------------------------------------------------------------------------------


class _Builder:
    """Tensors of the averaged ``t``-copy network plus the register bookkeeping of :mod:`dqnn.sim.simulate`."""

    def __init__(self, copies: int, dtype: Any = np.complex128):
        self.t = copies
        self.dtype = dtype
        self.log2 = 0  # the network's value is 2**log2 times that of its tensors (exact scale factors)
        self.cache: dict[Any, np.ndarray] = {}  # moment operators of distinct rotations and gates
        self.interned: dict[Any, np.ndarray] = {}
        self.dim = 4**copies
        self.tensors: list[np.ndarray] = []
        self.inds: list[tuple[int, ...]] = []
        self.slots: dict[str, int] = {}  # named placeholder tensors (inputs, effects)
        self.count = 0
        self.open: dict[Label, int] = {}  # stored qubit -> its open index
        self.zeros: set[Label] = set()  # qubits in |0> (all copies), not stored
        self.pvec = permutation_vectors(copies)
        self.zero_vec = np.zeros(self.dim, dtype=np.complex128)
        self.zero_vec[0] = 1.0

    def rotation(self, generator: np.ndarray, derivative: bool, theta: float | None) -> np.ndarray:
        """:func:`rotation_moment` for this builder's copies, computed once per distinct rotation."""
        g = np.asarray(generator)
        key = ("rot", g.shape, g.tobytes(), derivative, theta)
        if key not in self.cache:
            self.cache[key] = rotation_moment(g, self.t, derivative=derivative, theta=theta)
        return self.cache[key]

    def gate(self, matrix: np.ndarray) -> np.ndarray:
        """:func:`gate_moment` for this builder's copies, computed once per distinct gate."""
        m = np.asarray(matrix)
        key = ("gate", m.shape, m.tobytes())
        if key not in self.cache:
            self.cache[key] = gate_moment(m, self.t)
        return self.cache[key]

    def new(self) -> int:
        self.count += 1
        return self.count - 1

    def add(self, tensor: np.ndarray, inds: Sequence[int], slot: str | None = None) -> None:
        """Append ``tensor`` on ``inds``; equal small tensors are stored as one object (so that identical parts of
        the network are recognised by the identity of their tensors, :func:`_contract`)."""
        if slot is not None:
            self.slots[slot] = len(self.tensors)
        arr = np.asarray(tensor, dtype=self.dtype)
        if arr.size <= 4096:
            arr = self.interned.setdefault((arr.shape, arr.tobytes()), arr)
        self.tensors.append(arr)
        self.inds.append(tuple(inds))

    def materialise(self, label: Label) -> None:
        if label in self.open:
            return
        if label not in self.zeros:
            raise AssertionError(f"qubit {label} is neither stored nor known to be |0>")
        self.zeros.discard(label)
        i = self.new()
        self.add(self.zero_vec, (i,))
        self.open[label] = i

    def swap(self, x: Label, y: Label) -> None:
        ox, oy = self.open.pop(x, None), self.open.pop(y, None)
        zx, zy = x in self.zeros, y in self.zeros
        self.zeros.discard(x)
        self.zeros.discard(y)
        if ox is not None:
            self.open[y] = ox
        if oy is not None:
            self.open[x] = oy
        if zx:
            self.zeros.add(y)
        if zy:
            self.zeros.add(x)

    def apply(self, moment: np.ndarray, labels: Sequence[Label]) -> None:
        for lab in labels:
            self.materialise(lab)
        ins = [self.open[lab] for lab in labels]
        outs = [self.new() for _ in labels]
        self.add(moment, outs + ins)
        for lab, o in zip(labels, outs, strict=True):
            self.open[lab] = o

    def twirl(self, labels: Sequence[Label]) -> None:
        """2-design (or 1-design for one copy) twirl of the block ``labels``: Weingarten matrix + pattern vectors."""
        wg, e = scaled_weingarten(len(labels), self.t, self.dtype)
        self.log2 += e
        if self.t == 1:  # E[U X U^dagger] = Tr[X] 1/d: a product, no hyperindex needed
            for lab in labels:
                if lab in self.zeros:
                    self.zeros.discard(lab)
                else:
                    self.add(self.pvec[0], (self.open[lab],))
                o = self.new()
                self.add(self.pvec[0], (o,))
                self.open[lab] = o
            return
        s, t = self.new(), self.new()
        self.add(wg, (s, t))
        for lab in labels:
            if lab in self.zeros:  # Tr[P_t |0><0|^{(x)t}] = 1
                self.zeros.discard(lab)
            else:
                self.add(self.pvec, (t, self.open[lab]))
            o = self.new()
            self.add(self.pvec, (s, o))
            self.open[lab] = o

    def trace_out(self, label: Label) -> None:
        if label in self.zeros:
            self.zeros.discard(label)
            return
        self.add(self.pvec[0], (self.open.pop(label),))

    def next_layer(self) -> None:
        self.open = {("in", q): i for (_, q), i in self.open.items()}
        self.zeros = {("in", q) for (_, q) in self.zeros}


def _moment_elements(fam: Any, where: str) -> tuple[MomentElement, ...]:
    """``fam.moment_elements()``, checked: every angle in exactly one rotation with ``Gamma^2 = 1`` and an integer
    rate; ValueError naming ``where`` and the family otherwise."""
    els = fam.moment_elements()
    if els is None:
        raise capability_error(where, fam, "moments")
    name = family_name(fam)
    seen: list[int] = []
    for i, el in enumerate(els):
        if not isinstance(el, (MomentGate, MomentTwirl, MomentRotation, MomentChannel)):
            raise ValueError(f"{where}: family {name} moment element {i} is {type(el).__name__}, not a MomentElement")
        if any(not 0 <= w < fam.num_qubits for w in el.wires):
            raise ValueError(f"{where}: family {name} moment element {i}: wires {el.wires} out of range")
        if isinstance(el, MomentRotation):
            rate = float(el.rate)
            if rate == 0 or rate != round(rate):
                raise ValueError(
                    f"{where}: family {name} moment element {i}: rate {el.rate} is not a nonzero integer (the angle, "
                    "uniform on [0, 2 pi), must cover whole periods of the rotation)"
                )
            seen.append(int(el.angle))
    if sorted(seen) != list(range(fam.num_angles)):
        raise ValueError(
            f"{where}: family {name}: its moment description has rotations of angles {sorted(seen)}; the engine needs "
            f"each of its {fam.num_angles} angle(s) in exactly one rotation"
        )
    return tuple(els)


def _perceptron(
    b: _Builder,
    elements: Sequence[MomentElement],
    wires: Sequence[Label],
    diff_angle: int | None,
    theta: float | None,
    name: str,
) -> None:
    """Append the moment operators of one perceptron (its moment elements in time order)."""
    t = b.t
    for i, el in enumerate(elements):
        labs = [wires[w] for w in el.wires]
        where = f"{name} element {i}"
        if isinstance(el, MomentRotation):
            _check_dense(len(el.wires), t, where)
            is_diff = diff_angle == el.angle
            if el.rate == 1:
                b.apply(b.rotation(el.generator, is_diff, theta if is_diff else None), labs)
            else:  # exp(-i rate theta Gamma / 2): the angle rate * theta, and d/dtheta = rate d/d(rate theta)
                th = None if theta is None or not is_diff else float(el.rate) * theta
                op = b.rotation(el.generator, is_diff, th)
                b.apply(op * float(el.rate) ** t if is_diff else op, labs)
        elif isinstance(el, MomentGate):
            m = el.matrix
            if len(el.wires) == 2 and np.array_equal(m, gates.SWAP):
                b.swap(labs[0], labs[1])
            else:
                _check_dense(len(el.wires), t, where)
                b.apply(b.gate(m), labs)
        elif isinstance(el, MomentChannel):  # a fixed channel: its linear map on every copy, one more tensor
            _check_dense(len(el.wires), t, where)
            b.apply(channel_moment(el.kraus, t), labs)
        else:
            b.twirl(labs)


def channel_moment(kraus: ArrayLike, copies: int) -> np.ndarray:
    """The moment operator of a fixed channel ``Phi(X) = sum_i K_i X K_i^dagger`` (``kraus`` ``(m, D, D)``): ``Phi``
    on each copy, ``Phi^{(x)t}`` (independent Kraus sums per copy), shape ``(4**t,)*(2w)`` (:func:`fuse_copies`)."""
    m = np.sum([single_copy_map(k) for k in np.asarray(kraus, dtype=np.complex128)], axis=0)
    return fuse_copies([m] * copies)


def _check_dense(w: int, t: int, where: str) -> None:
    if w > MAX_DENSE_WIRES[t]:
        raise NotImplementedError(
            f"exact moments: {where} acts on {w} qubits; dense moment operators go to "
            f"{MAX_DENSE_WIRES[t]} qubits for {t} cop{'y' if t == 1 else 'ies'}"
        )


# ----------------------------------------------------------------------------------------------------------------
# Inputs and effects (the cost's observable), as product vectors, an MPO chain or a dense tensor
# ----------------------------------------------------------------------------------------------------------------


def _site_state(fx: np.ndarray, fy: np.ndarray | None) -> np.ndarray:
    """Per-qubit two-copy (or one-copy) vector of ``|fx><fx| (x) |fy><fy|`` in ``(k.., b..)`` order."""
    if fy is None:
        return np.einsum("a,b->ab", fx, fx.conj()).reshape(-1)
    return np.einsum("a,b,c,d->abcd", fx, fy, fx.conj(), fy.conj()).reshape(-1)


def _dense_state(rx: np.ndarray, ry: np.ndarray | None, n: int) -> np.ndarray:
    """``rho_x (x) rho_y`` (or ``rho_x``) as a tensor with one ``4**t`` leg per qubit; ``rho`` (2**n, 2**n)."""
    if n > MAX_DENSE_REGISTER:
        raise NotImplementedError(f"exact moments: a non-product state on {n} > {MAX_DENSE_REGISTER} qubits")
    if ry is None:
        t = rx.reshape((2,) * (2 * n))
        perm = [a for q in range(n) for a in (q, n + q)]
        return t.transpose(perm).reshape((4,) * n)
    t = np.multiply.outer(rx.reshape((2,) * (2 * n)), ry.reshape((2,) * (2 * n)))
    # axes: x kets 0..n-1, x bras n..2n-1, y kets 2n..3n-1, y bras 3n..4n-1
    perm = [a for q in range(n) for a in (q, 2 * n + q, n + q, 3 * n + q)]
    return t.transpose(perm).reshape((16,) * n)


def _as_density(x: np.ndarray) -> np.ndarray:
    return np.outer(x, x.conj()) if x.ndim == 1 else x


def _observable(kind: CostKind, target: np.ndarray, n: int) -> tuple[str, Any]:
    """The cost's observable ``O`` with ``C = 1 - Tr[O rho]`` (global, local) or ``Tr[O rho]`` (observable).

    Returns ``("product", (n, 2, 2) per-qubit O)``, ``("local", (n, 2) factors)`` or ``("dense", (2**n, 2**n))``.
    """
    if kind == "global":
        f = split_product(target, n)
        if f is not None:
            return "product", np.einsum("qa,qb->qab", f, f.conj())
        return "dense", np.outer(target, target.conj())
    if kind == "local":
        return "local", np.asarray(target)
    if kind == "observable":
        return "dense", np.asarray(target)
    raise ValueError(f"cost kind {kind!r} is not 'global', 'local' or 'observable'")


def _effect_site(ox: np.ndarray, oy: np.ndarray | None) -> np.ndarray:
    """Per-qubit effect ``E[k.., b..] = Ox[b1, k1] Oy[b2, k2]``: ``sum E X = Tr[(Ox (x) Oy) X]``."""
    if oy is None:
        return ox.T.reshape(-1)
    return np.einsum("ca,db->abcd", ox, oy).reshape(-1)


def _local_mpo_site(fx: np.ndarray, fy: np.ndarray | None, n: int) -> np.ndarray:
    """Site tensor ``(bond_l, bond_r, 4**t)`` of ``(1/n) sum_j |f_j><f_j|_j`` per copy (bond 2 per copy)."""

    def one(f: np.ndarray) -> np.ndarray:
        a = np.zeros((2, 2, 2, 2), dtype=np.complex128)  # (l, r, b, k) entries O[b, k]
        a[0, 0] = np.eye(2)
        a[1, 1] = np.eye(2)
        a[0, 1] = np.outer(f, f.conj()) / n
        return a

    ax = one(fx)
    if fy is None:
        return ax.transpose(0, 1, 3, 2).reshape(2, 2, 4)
    ay = one(fy)
    # (l1, r1, b1, k1) x (l2, r2, b2, k2) -> (l1, l2, r1, r2, k1, k2, b1, b2)
    t = np.einsum("prcA,qsdB->pqrsABcd", ax, ay)
    return t.reshape(4, 4, 16)


def _attach_effect(b: _Builder, kind: str, obs: Any, obs_y: Any, n: int) -> None:
    labels = [("in", q) for q in range(n)]
    for lab in labels:
        b.materialise(lab)
    legs = [b.open[lab] for lab in labels]
    two = b.t == 2
    if kind == "product":
        for q, leg in enumerate(legs):
            b.add(_effect_site(obs[q], obs_y[q] if two else None), (leg,), slot=f"eff{q}")
    elif kind == "local":
        bonds = [b.new() for _ in range(n + 1)]
        dim = 4 if two else 2
        left = np.zeros(dim, dtype=np.complex128)
        left[0] = 1.0
        right = np.zeros(dim, dtype=np.complex128)
        right[-1] = 1.0
        b.add(left, (bonds[0],))
        b.add(right, (bonds[n],))
        for q, leg in enumerate(legs):
            b.add(_local_mpo_site(obs[q], obs_y[q] if two else None, n), (bonds[q], bonds[q + 1], leg), slot=f"eff{q}")
    else:
        if n > MAX_DENSE_REGISTER:
            raise NotImplementedError(f"exact moments: a non-product observable on {n} > {MAX_DENSE_REGISTER} qubits")
        ox = np.asarray(obs).T  # E[k, b] = O[b, k]
        e = _dense_state(ox, np.asarray(obs_y).T if two else None, n)
        b.add(e, legs, slot="eff")


def _attach_input(b: _Builder, xs: Any, ys: Any, n: int) -> None:
    """Input two-copy (or one-copy) state on layer 0; |0> factors in every copy stay unstored."""
    labels = [("in", q) for q in range(n)]
    if isinstance(xs, tuple) and xs[0] == "product":
        fx = xs[1]
        fy = ys[1] if ys is not None else None
        for q, lab in enumerate(labels):
            if _is_zero(fx[q]) and (fy is None or _is_zero(fy[q])):
                b.zeros.add(lab)
            else:
                i = b.new()
                b.add(_site_state(fx[q], None if fy is None else fy[q]), (i,), slot=f"in{q}")
                b.open[lab] = i
        return
    legs = [b.new() for _ in labels]
    b.add(_dense_state(xs[1], None if ys is None else ys[1], n), legs, slot="in")
    b.open.update(dict(zip(labels, legs, strict=True)))


def _is_zero(f: np.ndarray) -> bool:
    return bool(abs(abs(f[0]) - 1.0) < 1e-14 and abs(f[1]) < 1e-14)


def _input_form(x: np.ndarray, n: int) -> tuple[str, np.ndarray]:
    """``("product", (n, 2) factors)`` for a product state vector, else ``("dense", (2**n, 2**n) rho)``."""
    if x.ndim == 1:
        f = split_product(x, n)
        if f is not None:
            return "product", f
    return "dense", _as_density(x)


# ----------------------------------------------------------------------------------------------------------------
# Public API
# ----------------------------------------------------------------------------------------------------------------


def walk_layers(
    b: Any,
    net: Network,
    index: AngleIndex,
    elements: dict[tuple[int, int], tuple[MomentElement, ...]],
    theta: float | None,
) -> None:
    """Add every perceptron's moment tensors to the builder ``b`` in the order of Eq. (1)
    (:func:`dqnn.sim.schedule.layer_schedule`: inputs traced out as soon as no later perceptron touches them),
    the perceptron of ``index`` differentiated (at ``theta``, or averaged over its angle when None)."""
    for l in range(net.depth):
        untouched, after = layer_schedule(net, l)
        for q in untouched:
            b.trace_out(("in", q))
        for q in range(net.widths[l + 1]):
            b.zeros.add(("out", q))
        for j, p in enumerate(net.layers[l]):
            diff = index.angle if (l, j) == (index.layer, index.perceptron) else None
            _perceptron(b, elements[(l, j)], p.wires, diff, theta, type(p.unitary).__name__)
            for q in after.get(j, []):
                b.trace_out(("in", q))
        b.next_layer()


def _build(
    net: Network,
    index: AngleIndex,
    copies: int,
    in_forms: tuple[Any, Any],
    obs_forms: tuple[tuple[str, Any], Any],
    theta: float | None,
    elements: dict[tuple[int, int], tuple[MomentElement, ...]],
    dtype: Any = np.complex128,
) -> _Builder:
    b = _Builder(copies, dtype)
    _attach_input(b, in_forms[0], in_forms[1] if copies == 2 else None, net.num_inputs)
    walk_layers(b, net, index, elements, theta)
    kind, obs = obs_forms[0]
    _attach_effect(b, kind, obs, obs_forms[1][1] if copies == 2 else None, net.num_outputs)
    return b


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _components(inds: Sequence[tuple[int, ...]]) -> list[list[int]]:
    """The tensors of each connected part of the network (tensors sharing an index), in their original order."""
    parent = list(range(len(inds)))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    owner: dict[int, int] = {}
    for k, ix in enumerate(inds):
        for i in ix:
            if i in owner:
                ra, rb = find(owner[i]), find(k)
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
            else:
                owner[i] = k
    parts: dict[int, list[int]] = {}
    for k in range(len(inds)):
        parts.setdefault(find(k), []).append(k)
    return list(parts.values())


def _contract(b: _Builder, dtype: Any = None, reverse: bool = False) -> tuple[Scaled, int]:
    """Contract the closed network of ``b`` to a scalar, in ``dtype`` (default: ``b.dtype``).

    Each connected part is contracted along its own opt_einsum greedy path (``reverse``: of its tensors in
    reverse order, a second order for error estimates), and parts that are identical tensor for tensor are
    contracted once. Returns the real part of the value as a :class:`~dqnn.moments.scaled.Scaled` (every
    intermediate is renormalised by an exact power of two, so nothing underflows) and the entries of the largest
    intermediate. Each step runs ``numpy.einsum`` with indices renamed locally (hyperindices allowed).
    """
    tensors = [t if dtype is None else np.asarray(t, dtype=dtype) for t in b.tensors]
    exponent = b.log2
    largest = max(t.size for t in tensors)
    total = np.ones(1, dtype=tensors[0].dtype)
    done: dict[Any, tuple[np.ndarray, int, int]] = {}
    for part in _components(b.inds):
        order = part[::-1] if reverse else part
        rename: dict[int, int] = {}
        for k in order:
            for i in b.inds[k]:
                rename.setdefault(i, len(rename))
        ixs = [tuple(rename[i] for i in b.inds[k]) for k in order]
        key = tuple((ix, id(b.tensors[k])) for ix, k in zip(ixs, order, strict=True))
        if key not in done:
            done[key] = _contract_part([tensors[k] for k in order], ixs)
        val, e, big = done[key]
        largest = max(largest, big)
        total, e2 = normalise(total * val)
        exponent += e + e2
    return Scaled.of(np.real(total[0])).shift(exponent), int(largest)


def _contract_part(ts: list[np.ndarray], ixs: list[tuple[int, ...]]) -> tuple[np.ndarray, int, int]:
    """A connected closed network to ``(value as a (1,) array, binary exponent, largest intermediate)``.

    The path is opt_einsum's greedy one (:func:`opt_einsum.paths.ssa_greedy_optimize`, what
    ``contract_path(optimize="greedy")`` computes), followed in its single-assignment form with index counts kept
    up to date, so that each step costs only its own tensors (linear in the network, not quadratic).
    """
    largest = max(t.size for t in ts)
    exponent = 0
    if len(ts) > 1:
        sizes = {i: d for t, ix in zip(ts, ixs, strict=True) for i, d in zip(ix, t.shape, strict=True)}
        path = opt_einsum.paths.ssa_greedy_optimize([frozenset(ix) for ix in ixs], frozenset(), sizes)
        live: dict[int, tuple[np.ndarray, tuple[int, ...]]] = dict(enumerate(zip(ts, ixs, strict=True)))
        count: dict[int, int] = {}
        for ix in ixs:
            for i in set(ix):
                count[i] = count.get(i, 0) + 1
        nxt = len(ts)
        for step in path:
            ops = [live.pop(k) for k in step]
            for _, ix in ops:
                for i in set(ix):
                    count[i] -= 1
            seen: dict[int, str] = {}
            for _, ix in ops:
                for i in ix:
                    seen.setdefault(i, _LETTERS[len(seen)])
            out = tuple(i for i in seen if count[i] > 0)
            for i in out:
                count[i] += 1
            spec = ",".join("".join(seen[i] for i in ix) for _, ix in ops) + "->" + "".join(seen[i] for i in out)
            res = np.einsum(spec, *[t for t, _ in ops], optimize=len(ops) > 2)
            largest = max(largest, res.size)
            res, e = normalise(res)
            exponent += e
            live[nxt] = (res, out)
            nxt += 1
        ts = [t for t, _ in live.values()]
        if len(ts) > 1:  # pragma: no cover (a connected network ends in one tensor)
            raise AssertionError("a connected part did not contract to one tensor")
    else:  # a lone tensor: its indices are all summed (a trace over a hyperindex)
        spec = "".join(_LETTERS[sorted(set(ixs[0])).index(i)] for i in ixs[0]) + "->"
        ts = [np.einsum(spec, ts[0])]
    val, e = normalise(np.asarray(ts[0]).reshape(-1)[:1])
    return val, exponent + e, int(largest)


def _parse_inputs(inputs: ArrayLike | ProductStates, n: int) -> list[tuple[str, np.ndarray]]:
    if isinstance(inputs, ProductStates):
        if inputs.factors.shape[1] != n:
            raise ValueError(f"exact moments: input factors {inputs.factors.shape} do not fit {n} input qubit(s)")
        return [("product", f) for f in inputs.factors]
    x = np.asarray(inputs, dtype=np.complex128)
    if x.ndim not in (2, 3) or x.shape[1] != 2**n:
        raise ValueError(
            f"exact moments: inputs must be (N, 2**{n}) vectors or (N, 2**{n}, 2**{n}) matrices, got {x.shape}"
        )
    forms = [_input_form(xi, n) for xi in x]
    if len({f[0] for f in forms}) > 1:
        forms = [("dense", _as_density(xi)) for xi in x]
    return forms


def _parse_targets(kind: CostKind, targets: ArrayLike | ProductStates, npairs: int, n: int) -> list[tuple[str, Any]]:
    if isinstance(targets, ProductStates):
        f = targets.factors
        if kind != "global" or f.shape[:2] != (npairs, n):
            raise ValueError(f"exact moments: ProductStates targets need the global cost and shape ({npairs}, {n}, 2)")
        return [("product", np.einsum("qa,qb->qab", fi, fi.conj())) for fi in f]
    tg = np.asarray(check_targets(kind, targets, npairs, n))
    obs = [_observable(kind, ti, n) for ti in tg]
    if len({o[0] for o in obs}) > 1:
        obs = [("dense", np.outer(ti, ti.conj())) for ti in tg]
    return obs


def exact_gradient_moments(
    net: Network,
    index: AngleIndex,
    inputs: ArrayLike | ProductStates,
    targets: ArrayLike | ProductStates,
    cost_kind: CostKind = "global",
    theta: float | None = None,
    engine: Engine = "auto",
) -> ExactMoments:
    """Exact ``E[d C / d theta_index]`` and ``E[(d C / d theta_index)^2]`` over the initialisation ensemble of ``net``.

    ``inputs``: (N, 2**n_in) vectors, (N, 2**n_in, 2**n_in) density matrices, or :class:`ProductStates`;
    ``targets`` as :func:`dqnn.costs.check_targets` states for ``cost_kind`` (or :class:`ProductStates` for the
    global cost); the cost is Eq. (2) with the terms of Eqs. (3)-(4) (or ``Tr[O rho]``). Every family must describe
    itself for the engine (``moment_elements()``: fixed gates, 2-design twirls such as
    :class:`~dqnn.model.families.HaarUnitary` and :class:`~dqnn.model.families.RandomUnitary`, rotations such as a
    :class:`~dqnn.model.families.Rot` with ``Gamma^2 = 1``, angles uniform on [0, 2 pi) as ``net.init`` draws them;
    ValueError naming the perceptron and its family otherwise); all random elements are independent.
    ``theta``: fix the differentiated angle instead of averaging it (the mean is then not zero in general).
    Product inputs and targets are kept per qubit; entangled ones are dense (up to :data:`MAX_DENSE_REGISTER`
    qubits). ``E[(dC)^2] = (1/N^2) sum_{x,y} E[dC_x dC_y]``. Method: the module docstring.

    ``engine``: ``"auto"`` (the register recursion of :mod:`dqnn.moments.registers` where the network has its
    structure, cross-checked by the tensor network while that is small; the tensor network otherwise),
    ``"network"`` or ``"registers"`` (ValueError saying why, where the network lacks the structure); ``"line"``: the
    boundary MPS of :mod:`dqnn.moments.mps` (local 2-design blocks on a line, such as Fig. 3b; ``"auto"`` takes it
    for deep or very wide networks, :func:`_prefer_line`, where the register recursion does not apply).
    Every result carries its error estimate and verdict (:class:`ExactMoments`); nothing is dropped silently.
    """
    t0 = time.perf_counter()
    if engine not in ("auto", "network", "registers", "line"):
        raise ValueError(f"exact moments: engine {engine!r} is not 'auto', 'network', 'registers' or 'line'")
    _check_angle(net, index)
    _moment_elements(net.layers[index.layer][index.perceptron].unitary, f"angle {index}")
    elements: dict[tuple[int, int], tuple[MomentElement, ...]] = {}  # every perceptron up front: refusals first
    described: dict[int, tuple[MomentElement, ...]] = {}  # one description per family object
    for l, layer in enumerate(net.layers):
        for j, p in enumerate(layer):
            if id(p.unitary) not in described:
                described[id(p.unitary)] = _moment_elements(p.unitary, f"perceptron L{l}P{j}")
            elements[(l, j)] = described[id(p.unitary)]
    ins = _parse_inputs(inputs, net.num_inputs)
    obs = _parse_targets(cost_kind, targets, len(ins), net.num_outputs)
    sign = 1.0 if cost_kind == "observable" else -1.0
    why_not = register_structure(net, elements)
    if why_not is None and any(o[0] not in ("product", "local") for o in obs):
        why_not = "the observable is not a product or the local cost"
    rot = _diff_rotation(elements[(index.layer, index.perceptron)], index.angle, theta)
    if why_not is None and abs(_one_copy_trace(*rot)) > 1e-13:  # pragma: no cover (Gamma^2 = 1 makes it 0)
        why_not = "the differentiated map does not preserve the trace"
    if engine == "registers" and why_not is not None:
        raise ValueError(f"exact moments: engine 'registers' does not apply: {why_not}")
    if engine == "line" or (engine == "auto" and why_not is not None and _prefer_line(net, elements)):
        plan, line_why = _line_plan(net, index, rot, ins, obs, theta, elements)
        if plan is not None:
            return _line_report(plan, ins, obs, t0)
        if engine == "line":
            raise ValueError(f"exact moments: engine 'line' does not apply: {line_why}")
    reg = None if why_not is not None or engine == "network" else _register(net, index, rot, ins, obs)
    tn = None
    if reg is None or (engine == "auto" and _twirl_wires(elements) <= CROSS_CHECK_WIRES):
        tn = _network(net, index, ins, obs, sign, theta, elements)
    return _report(tn, reg, time.perf_counter() - t0)


#: Where both engines ran, the tensor network's value is reported if its own estimate is at most this (and the
#: register recursion confirms it), else the register recursion's (better conditioned in deep networks).
PREFER_NETWORK = 1e-12

#: Register-structured networks are also contracted as a tensor network (a cross-check of the two engines) while
#: their 2-design twirls span at most this many wires in all.
CROSS_CHECK_WIRES = 300

_TN_METHOD = f"exact: two-copy moment network (Weingarten t=2, exact angle average), {np.dtype(EXTENDED).name}"
_REG_METHOD = (
    "exact: register recursion of global 2-designs in the orthogonal commutant basis (I, F - I/d), "
    f"{np.dtype(EXTENDED).name}"
)


def _check_angle(net: Network, index: AngleIndex) -> None:
    """:func:`~dqnn.model.angles.check_index`, and for an angle the perceptron lacks, a ValueError naming the
    perceptron, its family and why it has no such angle."""
    l, j = index.layer, index.perceptron
    if 0 <= l < net.depth and 0 <= j < len(net.layers[l]):
        fam = net.layers[l][j].unitary
        if not 0 <= index.angle < fam.num_angles:
            name = family_name(fam)
            if fam.num_angles == 0:
                raise ValueError(
                    f"exact moments: angle {index}: perceptron L{l}P{j} (family {name}) has no angle: "
                    f"{fam.why_not('shift_rule')}"
                )
            raise ValueError(
                f"exact moments: angle {index}: perceptron L{l}P{j} (family {name}) has {fam.num_angles} angle(s), "
                f"0..{fam.num_angles - 1}"
            )
    check_index(net, index)


def _twirl_wires(elements: dict[tuple[int, int], tuple[MomentElement, ...]]) -> int:
    return sum(len(e.wires) for els in elements.values() for e in els if isinstance(e, MomentTwirl))


def _diff_rotation(els: Sequence[MomentElement], angle: int, theta: float | None) -> tuple[np.ndarray, int, np.ndarray]:
    """The differentiated rotation's two-copy derivative map (times ``rate**2``), its wire count, and its one-copy
    derivative map (times ``rate``)."""
    for el in els:
        if isinstance(el, MomentRotation) and el.angle == angle:
            rate = float(el.rate)
            th = None if theta is None else rate * theta
            two = rotation_moment(el.generator, 2, derivative=True, theta=th) * rate**2
            one = rotation_moment(el.generator, 1, derivative=True, theta=th) * rate
            return two, len(el.wires), one
    raise AssertionError(f"angle {angle} has no rotation")  # pragma: no cover (checked by _moment_elements)


def _one_copy_trace(two: np.ndarray, w: int, one: np.ndarray) -> complex:
    """``Tr[M'(I)]`` of the one-copy derivative map on its ``w`` wires (zero for ``Gamma^2 = 1``)."""
    pv = permutation_vectors(1)[0]
    v = np.ones(1, dtype=np.complex128)
    for _ in range(w):
        v = np.kron(v, pv)
    return complex(v @ one.reshape(4**w, 4**w) @ v)


def _input_traces(x: tuple[str, np.ndarray], y: tuple[str, np.ndarray], dtype: Any) -> tuple[Any, Any]:
    """``(Tr rho_x Tr rho_y, Tr[rho_x rho_y])`` in ``dtype``."""
    real = np.dtype(dtype).type(0).real.dtype.type
    if x[0] == "product" and y[0] == "product":
        fx, fy = x[1], y[1]
        norms = np.prod((np.sum(np.abs(fx) ** 2, axis=1) * np.sum(np.abs(fy) ** 2, axis=1)).astype(real))
        overlap = np.prod((np.abs(np.sum(fx.conj() * fy, axis=1)) ** 2).astype(real))
        return norms, overlap
    rx = x[1] if x[0] == "dense" else _product_density(x[1])
    ry = y[1] if y[0] == "dense" else _product_density(y[1])
    return real((np.trace(rx) * np.trace(ry)).real), real(np.trace(rx @ ry).real)


def _product_density(f: np.ndarray) -> np.ndarray:
    v = np.ones(1, dtype=np.complex128)
    for fq in f:
        v = np.kron(v, fq)
    return np.outer(v, v.conj())


def _register(net: Network, index: AngleIndex, rot: Any, ins: Any, obs: Any) -> dict[str, Any]:
    """Second moments by :mod:`dqnn.moments.registers` in extended precision and rounded to double's 53 mantissa
    bits at every step (40 where extended is no wider than double); the mean is 0."""
    two, w, _ = rot
    npairs = len(ins)
    out: dict[str, Any] = {}
    dtype = np.longdouble
    for name, bits in (("ext", None), ("double", 53 if _HAS_EXTENDED else 40)):
        total = Scaled(dtype(0), 0)
        for i in range(npairs):
            for j in range(npairs):
                val = register_second_moment(
                    net,
                    [(index.layer, index.perceptron)],
                    lambda q, dt: derivative_block_matrix(two, w, q, dt),
                    _input_traces(ins[i], ins[j], dtype),
                    (obs[i][0], obs[i][1], obs[j][1]),
                    dtype,
                    bits,
                )
                total = total + val
        out[name] = total.scale(1.0 / npairs**2)
    out["largest"] = 8
    out["tensors"] = sum(len(layer) for layer in net.layers)
    return out


def _network(
    net: Network, index: AngleIndex, ins: Any, obs: Any, sign: float, theta: float | None, elements: Any
) -> dict[str, Any]:
    """Mean and second moment contracted as a tensor network in extended precision and in double.

    The network is built once in extended precision; the double evaluation contracts its tensors rounded to
    complex128 (the correctly rounded double tensors), so the two differ by rounding only, everywhere.
    """
    npairs = len(ins)
    out: dict[str, Any] = {"largest": 0, "tensors": 0}
    zero = Scaled(np.float64(0), 0)
    mean = {"ext": zero, "double": zero}
    second = {"ext": zero, "double": zero}
    other = not _HAS_EXTENDED  # no wider type: the second evaluation takes another contraction order
    for i in range(npairs):
        b1 = _build(net, index, 1, (ins[i], None), (obs[i], None), theta, elements, EXTENDED)
        mean["ext"] = mean["ext"] + _contract(b1)[0]
        mean["double"] = mean["double"] + _contract(b1, np.complex128, reverse=other)[0]
    for i in range(npairs):
        for j in range(npairs):
            b2 = _build(net, index, 2, (ins[i], ins[j]), (obs[i], obs[j]), theta, elements, EXTENDED)
            val, big = _contract(b2)
            second["ext"] = second["ext"] + val
            second["double"] = second["double"] + _contract(b2, np.complex128, reverse=other)[0]
            out["largest"], out["tensors"] = max(out["largest"], big), len(b2.tensors)
    for name in ("ext", "double"):
        out[f"mean_{name}"] = mean[name].scale(sign / npairs)
        out[name] = second[name].scale(1.0 / npairs**2)
    return out


def _variance(m2: Scaled, mean: Scaled | None) -> Scaled:
    return m2 if mean is None or mean.mantissa == 0 else m2 - mean * mean


def _report(tn: dict[str, Any] | None, reg: dict[str, Any] | None, seconds: float) -> ExactMoments:
    """Pick the value to report and judge it (module :mod:`dqnn.moments.validation`)."""
    second_check = "complex128 vs " + (np.dtype(EXTENDED).name if _HAS_EXTENDED else "a second contraction order")
    use, checks, rel, extra = "tn", "", math.inf, None
    if tn is not None:
        var_e, var_d = _variance(tn["ext"], tn["mean_ext"]), _variance(tn["double"], tn["mean_double"])
        rel = var_d.relative_to(var_e)
        checks = f"tensor network: {second_check}"
    if reg is not None:
        reg_rel = reg["double"].relative_to(reg["ext"])
        reg_checks = f"register recursion: 53-bit rounding vs {np.dtype(np.longdouble).name}"
        if tn is None:
            use, checks, rel = "reg", reg_checks, reg_rel
        else:
            cross = _variance(tn["ext"], tn["mean_ext"]).relative_to(reg["ext"])
            checks = f"{checks} ({rel:.2g}); {reg_checks} ({reg_rel:.2g}); the engines agree to {cross:.2g}"
            if rel <= PREFER_NETWORK and cross <= TOLERANCE:  # the general engine, confirmed by the register one
                rel = max(rel, reg_rel, cross)
            else:
                use = "reg"
                if rel <= TOLERANCE < cross:  # both claim to be resolved, yet they differ
                    extra = f"the tensor network and the register recursion disagree ({cross:.2g})"
                rel = max(reg_rel, cross) if extra else reg_rel
    src = tn if use == "tn" else reg
    assert src is not None
    mean = src["mean_ext"] if use == "tn" else Scaled(np.float64(0), 0)
    m2 = src["ext"]
    var = _variance(m2, mean)
    verdict = judge(var, m2, rel, checks)
    if extra is not None and verdict.trusted:
        verdict = Validation(rel, False, extra, verdict.log10_variance, verdict.log10_second_moment, checks)
    double_rounding = src["double"].relative_to(m2) if _HAS_EXTENDED else math.nan
    return ExactMoments(
        mean=float(mean),
        second_moment=float(m2),
        variance=float(var) if verdict.log10_variance == verdict.log10_variance else math.nan,
        method=_TN_METHOD if use == "tn" else _REG_METHOD,
        seconds=seconds,
        largest_intermediate=int(src["largest"]),
        num_tensors=int(src["tensors"]),
        double_rounding=double_rounding,
        validation=verdict,
    )


def problem_data(problem: GradientProblem) -> tuple[ProductStates, ArrayLike | ProductStates]:
    """The data of ``problem`` in factored form: inputs ``|0...0>``; targets ``|0...0>`` (global) or (1, n, 2) local."""
    x = ProductStates.zeros(1, problem.n)
    if problem.cost == "global":
        return x, ProductStates.zeros(1, problem.n)
    return x, x.factors


def exact_moments(problem: GradientProblem, engine: Engine = "auto") -> ExactMoments:
    """Exact moments of ``d C / d theta_nu`` for a :class:`~dqnn.presets.problems.GradientProblem`.

    Its network, angle and data.

    Same data as :meth:`GradientProblem.data`, passed as qubit factors so that no ``2**n`` vector is formed.
    """
    net = problem.network()
    x, t = problem_data(problem)
    return exact_gradient_moments(net, problem.angle_index(net), x, t, problem.cost, engine=engine)


#: ``engine="auto"`` takes the line engine (:mod:`dqnn.moments.mps`) where it applies, the 2-design twirls span
#: more than ``LINE_ABOVE_WIRES`` wires in all, and the network is deeper than ``LINE_ABOVE_DEPTH`` layers or its
#: twirls span more than ``LINE_WIDE_WIRES`` wires: the tensor network's cost grows exponentially with the depth
#: (Fig. 3b: 2 s at n = 64, 8 layers; > 600 s at 12), the line engine's linearly, and shallow networks need no
#: truncation.
LINE_ABOVE_WIRES = 512
LINE_ABOVE_DEPTH = 8
LINE_WIDE_WIRES = 4096


def _prefer_line(net: Network, elements: Any) -> bool:
    wires = _twirl_wires(elements)
    return wires > LINE_ABOVE_WIRES and (net.depth > LINE_ABOVE_DEPTH or wires > LINE_WIDE_WIRES)


_LINE_METHOD = "exact: boundary MPS in the commutant basis (I, F - I/2) per qubit, swept layer by layer, float64"


def _line_plan(
    net: Network, index: AngleIndex, rot: Any, ins: Any, obs: Any, theta: float | None, elements: Any
) -> tuple[Any, str | None]:
    """The network compiled for :mod:`dqnn.moments.mps`, or ``(None, why not)``."""
    from dqnn.moments import mps  # the line engine imports nothing of this module

    if theta is not None:
        return None, "a fixed angle (the line engine averages every angle; the mean is not 0 then)"
    if any(x[0] != "product" for x in ins):
        return None, "an input that is not a product state"
    if any(o[0] not in ("product", "local") for o in obs):
        return None, "an observable that is not a product or the local cost"
    two, w, _ = rot

    def derivative(k: int) -> np.ndarray:
        kk = np.real(derivative_block_matrix(two, w, k, np.float64))
        norms = np.array([2.0**k, math.sqrt(4.0**k - 1.0)])  # |Q_0|, |Q_1|: to the orthonormal q basis
        return np.asarray(kk * norms[:, None] / norms[None, :])

    try:
        return mps.compile_line(net, elements, (index.layer, index.perceptron, index.angle), derivative), None
    except mps.NotLine as err:
        return None, str(err)


def _line_report(plan: Any, ins: Any, obs: Any, t0: float) -> ExactMoments:
    """Second moment by the line engine (mean 0), judged by the disagreement of its two sweeps."""
    from dqnn.moments import mps

    npairs = len(ins)
    pairs = [(ins[i][1], ins[j][1], obs[i], obs[j]) for i in range(npairs) for j in range(npairs)]
    res = mps.line_second_moment(plan, pairs, target=TOLERANCE)
    rel = res.coarse.relative_to(res.fine)
    checks = (
        f"line MPS: truncation {res.tolerance:g} vs {res.coarse_tolerance:g} on the mirrored line "
        f"(bond <= {res.max_bond}, {res.blocks} blocks)"
    )
    verdict = judge(res.fine, res.fine, rel, checks)
    return ExactMoments(
        mean=0.0,
        second_moment=float(res.fine),
        variance=float(res.fine) if verdict.log10_variance == verdict.log10_variance else math.nan,
        method=_LINE_METHOD,
        seconds=time.perf_counter() - t0,
        largest_intermediate=4 * res.max_bond**2,
        num_tensors=res.steps,
        double_rounding=math.nan,
        validation=verdict,
    )
