"""Exact fourth moments of wide line networks of Haar blocks (Fig. 3b at any width): a permutation tensor network.

The class of networks is that of :mod:`dqnn.moments.mps` (:func:`~dqnn.moments.mps.compile_line`: every random
block a twirl of neighbouring qubits on a line, the differentiated rotation between two twirls of one block, every
other gate covered by a later twirl, every output last written by a twirl; checked from the network's moment
elements, never from a preset's name), with two more conditions for ``t = 4`` copies: every twirl is Haar (a
4-design: :class:`~dqnn.model.families.HaarUnitary` or the ``RandomUnitary`` blocks of a
:class:`~dqnn.model.families.Circuit`), and the differentiated rotation acts on one qubit.

Method (exact, no truncation). After a Haar twirl of a block ``S`` of ``k`` qubits (``D = 2**k``) the ``t``-copy
state is ``sum_s c_s P_s^(S)`` over the ``t!`` copy permutations ``s``, ``P_s^(S) = (x)_{q in S} P_s^(q)``, with
``c = Wg_D tr``, ``tr_u = Tr[P_u^dagger X]`` and ``Wg_D`` the (pseudo-)inverse of the Gram matrix
``G^k``, ``G[u, s] = Tr[P_u^dagger P_s] = 2**#cycles(u^-1 s)`` on one qubit (entrywise power). So the averaged
network is a tensor network with one ``t!``-dimensional index per twirl (its coefficients) and one per twirl's
input traces, and these tensors:

- ``Wg_D`` (``t! x t!``) per twirl (scaled by ``D**t``, the scale kept as an exact power of two);
- per qubit that goes from one twirl to the next (or to a partial trace or the effect), the Gram factor
  ``G[u, s]``; a qubit read before any twirl gives its traces ``Tr[P_u^dagger rho_q^(x)t]`` (an input factor or
  ``|0>``), a partial trace ``Tr[P_s] = G[id, s]``;
- the differentiated sandwich ``A M' B``: the matrix ``Wg_D K`` from B's coefficients to A's, ``K[u, s] =
  Tr[P_u^dagger M'^(x)t(P_s)] = K_rot[u, s] G[u, s]**(k - 1)`` with ``K_rot`` the rotation's exact ``t``-copy
  angle average on its qubit (:func:`dqnn.moments.exact.rotation_moment_quadrature`, exact for this trigonometric
  polynomial of degree ``t``) between permutation vectors;
- the effect: global cost ``prod_q Tr[P_s O_q^(x)t]``; local cost ``((1/n) sum_j O_j)^(x)t`` as an MPO along the
  outputs of bond dimension ``2**t`` (which copies already placed their term), projected on the permutations.

For ``d = 2`` the 24 single-qubit permutations are linearly dependent (the commutant of one qubit has dimension
14), but only block Gram matrices are inverted (``D >= 4`` makes them invertible; a one-qubit Haar block takes the
pseudo-inverse, the correct projector onto the span). The network is contracted along opt_einsum's greedy path
with every intermediate normalised by a power of two (:func:`dqnn.moments.exact._contract`), in double and in
extended precision; their difference is the reported error estimate. The same construction with ``t = 1`` gives the
mean (checked to be 0) and with ``t = 2`` the second moment, so the kurtosis ``m4 / m2**2`` comes from one engine.

Cost: a cut through a brick network crosses one ``t!``-dimensional index per layer (and one per block column
across a time slice), so the contraction grows like ``24**min(depth, n/2)`` for ``t = 4``: Fig. 3b at ``n = 16``
takes seconds to depth 5 (DQNN layers) and Fig. 3b at ``n = 8`` to its ``log2 n`` brick layers (6) about a minute,
but ``n = 16`` at 8 layers would form a ``24**7``-entry intermediate; :data:`MAX_INTERMEDIATE` refuses such
networks before contracting (MemoryError). Times in ``benchmarks/results_moments.md``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import opt_einsum
from numpy.typing import ArrayLike

from dqnn.costs import CostKind
from dqnn.model.angles import AngleIndex
from dqnn.model.network import Network
from dqnn.model.protocol import MomentElement, MomentRotation
from dqnn.moments import exact as _ex
from dqnn.moments import fourth as _fo
from dqnn.moments.commutant import permutation_vectors
from dqnn.moments.fourth import (
    FourthMoment,
    moment_elements,
    non_haar_twirl,
    permutation_vectors4,
    resolve_arguments,
)
from dqnn.moments.mps import LinePlan, NotLine, compile_line, local_cone
from dqnn.moments.scaled import Scaled
from dqnn.presets.problems import GradientProblem

#: Numbers of copies the engine forms (the mean, the second and the fourth moment).
COPIES = (1, 2, 4)
#: Largest intermediate tensor (entries) a contraction may form (opt_einsum's greedy estimate, checked before any
#: contraction): beyond it :func:`line_moment` raises MemoryError. Fig. 3b at ``n = 16`` needs ``24**2`` at depth 2,
#: ``24**3`` at depth 4, ``24**6`` at depth 6 and ``24**7`` (``4.6e9``) at depth 8 (the exact contraction's cost
#: grows like ``24**min(depth, n/2)``: a cut through the brick lattice crosses one 24-dimensional index per layer).
MAX_INTERMEDIATE = 2**24


@dataclass(frozen=True)
class _Tables:
    """Per-qubit data of ``t`` copies: permutation vectors ``pvec`` (t!, 4**t) (identity first) and the Gram
    matrix ``gram`` (t!, t!), ``gram[u, s] = Tr[P_u^dagger P_s]``."""

    t: int
    pvec: np.ndarray
    gram: np.ndarray

    @classmethod
    def of(cls, t: int) -> _Tables:
        if t not in COPIES:
            raise ValueError(f"line moments: copies={t} is not one of {COPIES}")
        pv = (permutation_vectors4() if t == 4 else permutation_vectors(t)).real
        return cls(t, pv, pv @ pv.T)

    def weingarten(self, k: int) -> np.ndarray:
        """``Wg_D * D**t`` for a block of ``k`` qubits (order one): the pseudo-inverse of ``G**k`` (entrywise)."""
        g = self.gram**k / 2.0 ** (self.t * k)
        return np.asarray(np.linalg.pinv(g, rtol=1e-10, hermitian=True))

    def traces(self, f: np.ndarray) -> np.ndarray:
        """``Tr[P_u^dagger (|f><f|)^(x)t]`` (t!,) of one qubit factor ``f`` (2,)."""
        site = _fo._site4(f) if self.t == 4 else _ex._site_state(f, f if self.t == 2 else None)
        return _real(self.pvec @ site, "input traces")

    def effect(self, o: np.ndarray) -> np.ndarray:
        """``Tr[O^(x)t P_s]`` (t!,) of a one-qubit operator ``O`` (2, 2)."""
        site = _fo._effect4(o) if self.t == 4 else _ex._effect_site(o, o if self.t == 2 else None)
        return _real(self.pvec @ site, "effect")

    def local_mpo(self, f: np.ndarray, n: int) -> np.ndarray:
        """Site tensor (2**t, 2**t, t!) of ``((1/n) sum_j |f_j><f_j|_j)^(x)t`` on the permutations: the dense
        engines' site (per copy a bond-2 automaton, copy 1 first) projected on the permutation vectors."""
        site = _fo._local_mpo4(f, n) if self.t == 4 else _ex._local_mpo_site(f, f if self.t == 2 else None, n)
        return _real(site @ self.pvec.T, "local effect")

    def rotation(self, generator: np.ndarray, rate: float) -> np.ndarray:
        """``K_rot[u, s] = Tr[P_u^dagger M'^(x)t(P_s)]`` (t!, t!) of the differentiated one-qubit rotation."""
        m = _ex.rotation_moment_quadrature(generator, self.t, derivative=True) * rate**self.t
        m = np.asarray(m).reshape(4**self.t, 4**self.t)
        return _real(self.pvec @ m @ self.pvec.T, "rotation moment")

    def derivative(self, krot: np.ndarray, k: int) -> np.ndarray:
        """The sandwich ``A M' B`` on ``k`` qubits from B's coefficients to A's: ``Wg_D (K_rot * G**(k-1))``."""
        return np.asarray(self.weingarten(k) @ (krot * self.gram ** (k - 1)) / 2.0 ** (self.t * k))


def _real(a: np.ndarray, what: str) -> np.ndarray:
    a = np.asarray(a)
    if np.iscomplexobj(a):
        if np.max(np.abs(a.imag), initial=0.0) > 1e-12 * max(1.0, float(np.max(np.abs(a)))):
            raise ValueError(f"line moments: the {what} is not real")  # pragma: no cover (Hermitian data)
        a = a.real
    return np.asarray(a, dtype=np.float64)


class _Net:
    """A closed tensor network as :func:`dqnn.moments.exact._contract` reads it (``tensors``, ``inds``, ``log2``)."""

    def __init__(self) -> None:
        self.tensors: list[np.ndarray] = []
        self.inds: list[tuple[int, ...]] = []
        self.log2 = 0
        self.count = 0
        self.factor = 1.0  # scalars of traces of untwirled qubits

    def new(self) -> int:
        self.count += 1
        return self.count - 1

    def add(self, t: np.ndarray, ix: tuple[int, ...]) -> None:
        self.tensors.append(t)
        self.inds.append(ix)


def _build(
    plan: LinePlan,
    tab: _Tables,
    fx: np.ndarray,
    ft: np.ndarray,
    cost: str,
    terms: tuple[int, ...] | None = None,
) -> _Net:
    """The ``t``-copy network of ``plan`` (its derivative matrices already for ``tab.t`` copies); for the local
    cost only the terms ``terms`` (default all) enter the effect, the other outputs are traced out."""
    wg: dict[int, np.ndarray] = {}
    b = _Net()
    state: dict[int, tuple[str, Any]] = {}  # site -> ("raw", traces) or ("coef", index)
    zero = tab.traces(np.array([1.0, 0.0], dtype=np.complex128))
    ins = [tab.traces(f) for f in fx]
    for op in plan.ops:
        s0 = op.sites[0]
        if op.kind == "input":
            state[s0] = ("raw", ins[op.arg])
        elif op.kind == "zero":
            state[s0] = ("raw", zero)
        elif op.kind == "trace":
            kind, val = state.pop(s0)
            if kind == "raw":
                b.factor *= float(val[0])
            else:
                b.add(tab.gram[0], (val,))
        else:
            occupied = [s for s in op.sites if s in state]
            k = len(occupied)
            u = b.new()
            for s in occupied:
                kind, val = state[s]
                if kind == "raw":
                    b.add(val, (u,))
                else:
                    b.add(tab.gram, (u, val))
            if k not in wg:
                wg[k] = tab.weingarten(k)
            c = b.new()
            b.add(wg[k], (c, u))
            b.log2 -= tab.t * k
            if op.matrix is not None:
                c2 = b.new()
                b.add(np.asarray(op.matrix), (c2, c))
                c = c2
            for s in occupied:
                state[s] = ("coef", c)
    outs = [state.pop(s) for s in plan.outputs]
    if state:  # pragma: no cover (compile_line guarantees it)
        raise AssertionError("line moments: sites left that are not outputs")
    n = len(outs)
    if cost == "global":
        for q, (kind, c) in enumerate(outs):
            if kind != "coef":  # pragma: no cover (compile_line: every output last written by a twirl)
                raise AssertionError(f"line moments: output {q} was not twirled")
            b.add(tab.effect(np.outer(ft[q], ft[q].conj())), (c,))
        return b
    allowed = set(range(n) if terms is None else terms)
    for q, (kind, c) in enumerate(outs):  # outputs without a term are traced out
        if q not in allowed:
            if kind == "raw":
                b.factor *= float(c[0])
            else:
                b.add(tab.gram[0], (c,))
    chain = [q for q in range(n) if q in allowed]
    bonds = [b.new() for _ in range(len(chain) + 1)]
    dim = 2**tab.t
    left, right = np.zeros(dim), np.zeros(dim)
    left[0], right[-1] = 1.0, 1.0
    b.add(left, (bonds[0],))
    b.add(right, (bonds[-1],))
    for i, q in enumerate(chain):
        kind, c = outs[q]
        site = tab.local_mpo(ft[q], n)
        if kind == "raw":  # pragma: no cover (local_cone keeps the blocks that write the terms' outputs)
            b.add(np.tensordot(site, c, axes=(2, 0)), (bonds[i], bonds[i + 1]))
        else:
            b.add(site, (bonds[i], bonds[i + 1], c))
    return b


def _diff_rotation(els: tuple[MomentElement, ...], angle: int, where: str) -> MomentRotation:
    for e in els:
        if isinstance(e, MomentRotation) and e.angle == angle:
            if len(e.wires) != 1:
                raise NotLine(
                    f"{where}: the differentiated rotation acts on {len(e.wires)} qubits; the line engine forms its "
                    "four-copy moment on one qubit only"
                )
            return e
    raise AssertionError(f"{where}: angle {angle} has no rotation")  # pragma: no cover (checked by _check_angle)


@dataclass(frozen=True)
class LineMoment:
    """``E[(d C)^t]`` by :func:`line_moment`: the network contracted in double (``value``) and in extended
    precision (``extended``, the one reported), the largest intermediate's entries and the number of tensors."""

    copies: int
    value: Scaled
    extended: Scaled
    largest_intermediate: int
    num_tensors: int

    @property
    def relative_error(self) -> float:
        """``|double - extended| / |extended|``: the rounding of the contraction."""
        return self.value.relative_to(self.extended)


def _compile(net: Network, index: AngleIndex, tabs: dict[int, _Tables]) -> dict[int, LinePlan]:
    """One plan per number of copies (their derivative matrices differ); :class:`NotLine` naming the perceptron."""
    elements = moment_elements(net)
    why = non_haar_twirl(net, elements)
    if why is not None:
        raise NotLine(why)
    where = f"perceptron L{index.layer}P{index.perceptron}"
    rot = _diff_rotation(elements[(index.layer, index.perceptron)], index.angle, where)
    at = (index.layer, index.perceptron, index.angle)
    plans = {}
    for t, tab in tabs.items():
        plans[t] = compile_line(
            net, elements, at, partial(tab.derivative, tab.rotation(rot.generator, float(rot.rate)))
        )
    return plans


def line_moment(
    net: Network | GradientProblem,
    index: AngleIndex | None = None,
    inputs: ArrayLike | None = None,
    targets: ArrayLike | None = None,
    cost_kind: CostKind = "global",
    copies: int = 4,
) -> LineMoment:
    """Exact ``E[(d C / d theta_index)^t]`` (``t = copies`` in {1, 2, 4}) of a line network of Haar blocks.

    Arguments as :func:`line_fourth_moment`. :class:`~dqnn.moments.mps.NotLine` (a ValueError naming the
    perceptron) when the network is not in the engine's class (module docstring).
    """
    net, index, fx, ft, cost = resolve_arguments(net, index, inputs, targets, cost_kind, "line_moment")
    tab = _Tables.of(copies)
    plan = _compile(net, index, {copies: tab})[copies]
    return _moment(plan, tab, fx, ft, cost)


def _check_size(b: _Net, where: str) -> None:
    """MemoryError when opt_einsum's greedy path for ``b`` forms an intermediate above :data:`MAX_INTERMEDIATE`."""
    sym: dict[int, str] = {}
    for ix in b.inds:
        for i in ix:
            sym.setdefault(i, opt_einsum.get_symbol(len(sym)))
    eq = ",".join("".join(sym[i] for i in ix) for ix in b.inds) + "->"
    _, info = opt_einsum.contract_path(eq, *[t.shape for t in b.tensors], optimize="greedy", shapes=True)
    big = float(info.largest_intermediate)
    if big > MAX_INTERMEDIATE:
        raise MemoryError(
            f"{where}: the {len(b.tensors)}-tensor network's contraction would form an intermediate of {big:.3g} "
            f"entries (> MAX_INTERMEDIATE = {MAX_INTERMEDIATE}; about 10**{math.log10(float(info.opt_cost)):.1f} "
            "operations): too deep and wide for the exact line engine"
        )


def _moment(plan: LinePlan, tab: _Tables, fx: np.ndarray, ft: np.ndarray, cost: str) -> LineMoment:
    terms = None
    if cost == "local":  # the terms outside the derivative's forward cone vanish identically (mps.local_cone)
        plan, terms = local_cone(plan)
        if not terms:
            zero = Scaled(np.float64(0))
            return LineMoment(tab.t, zero, zero, 0, 0)
    b = _build(plan, tab, fx, ft, cost, terms)
    _check_size(b, f"line moment (t = {tab.t})")
    sign = (-1.0) ** tab.t  # d C = -d Tr[O rho]
    vals = {}
    largest = 0
    for name, dtype in (("double", np.float64), ("ext", np.real(np.zeros(1, dtype=_ex.EXTENDED)).dtype)):
        v, big = _ex._contract(b, dtype)  # type: ignore[arg-type]
        vals[name] = v.scale(sign * b.factor)
        largest = max(largest, big)
    return LineMoment(tab.t, vals["double"], vals["ext"], largest, len(b.tensors))


def line_fourth_moment(
    net: Network | GradientProblem,
    index: AngleIndex | None = None,
    inputs: ArrayLike | None = None,
    targets: ArrayLike | None = None,
    cost_kind: CostKind = "global",
) -> FourthMoment:
    """Exact ``E[d C]``, ``E[(d C)^2]``, ``E[(d C)^4]`` and the kurtosis of a line network of Haar blocks.

    ``net``: a :class:`~dqnn.model.network.Network` (then ``index``, ``inputs`` (n_in, 2) and ``targets``
    (n_out, 2) qubit factors are required) or a :class:`~dqnn.presets.problems.GradientProblem` (its network, angle
    and ``|0...0>`` data). The class: :func:`dqnn.moments.mps.compile_line`'s, every twirl Haar, the differentiated
    rotation on one qubit (:class:`~dqnn.moments.mps.NotLine`, a ValueError naming the perceptron, otherwise).
    All three moments come from the same permutation network (module docstring) with ``t = 1, 2, 4`` copies;
    the mean must be 0 (ValueError otherwise). The moments are the extended-precision contractions; ``relative_error``:
    the larger disagreement of the double and extended precision contractions of ``m2`` and ``m4``.
    """
    t0 = time.perf_counter()
    net, index, fx, ft, cost = resolve_arguments(net, index, inputs, targets, cost_kind, "line_fourth_moment")
    tabs = {t: _Tables.of(t) for t in COPIES}
    plans = _compile(net, index, tabs)
    res = {t: _moment(plans[t], tabs[t], fx, ft, cost) for t in COPIES}
    m1, m2, m4 = (float(res[t].extended) for t in COPIES)
    if not m2 > 0:
        raise ValueError(f"line_fourth_moment: the gradient of angle {index} vanishes identically (E[(dC)^2] = {m2})")
    if not abs(m1) <= 1e-12 * math.sqrt(m2):
        raise ValueError(f"line_fourth_moment: the mean E[dC] = {m1:.3g} is not 0 (the kurtosis is for mean 0)")
    rel = max(res[2].relative_error, res[4].relative_error)
    return FourthMoment(0.0, m2, m4, m4 / m2**2, rel, time.perf_counter() - t0)


__all__ = ["COPIES", "LineMoment", "line_fourth_moment", "line_moment"]
