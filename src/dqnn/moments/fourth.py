"""Exact fourth moments ``E[(d C)^4]``, the exact kurtosis, and the samples a sampled variance needs (t = 4).

The four-copy analogue of :mod:`dqnn.moments.exact`: ``(d_nu C)^4`` is linear in ``rho^(x)4``, so its average over
the ensemble is the four-copy state pushed through the network with every random element's four-copy moment
operator, built by the same schedule (:class:`dqnn.moments.exact._Builder`, every qubit one leg of dimension
``4**4 = 256``, per-qubit order ``(k_1..k_4, b_1..b_4)``):

- a 2-design twirl is not enough for ``t = 4``: the engine needs every :class:`~dqnn.model.protocol.MomentTwirl`
  block to be a 4-design; Haar blocks (:class:`~dqnn.model.families.HaarUnitary`,
  :class:`~dqnn.model.families.RandomUnitary`, both Haar) are. Their twirl is the Weingarten formula over ``S_4``:
  ``E[U^(x)4 X U^dagger(x)4] = sum_{s, t in S_4} Wg(s t^-1, d) Tr[P_t^dagger X] P_s``, ``Wg`` the inverse of the
  Gram matrix ``d^{#cycles(s^-1 t)}`` (:func:`weingarten_s4`; ``d >= 4`` makes it invertible, ``d = 2`` is handled
  by the pseudo-inverse, which is the correct Weingarten function on the span of the permutations);
- a rotation with a uniform angle: the exact trigonometric average of ``M(theta)^(x)4`` (and ``M'`` in every copy for
  the differentiated one), :func:`dqnn.moments.exact.rotation_moment` with ``copies=4``;
- fixed gates on one qubit densely; SWAPs relabel.

Kurtosis and sample size. With ``E[d C] = 0`` (checked), ``kurtosis = m4 / m2^2``, and the mean-zero estimate
``s^2 = (1/S) sum g_i^2`` of ``Var = m2`` has ``Var[s^2] = (m4 - m2^2) / S``, so a relative standard error
``eps`` needs ``S = (kurtosis - 1) / eps^2`` samples. The usual unbiased estimate (mean subtracted) has
``Var = (m4 - (S - 3)/(S - 1) m2^2) / S``: the same to leading order in ``1/S`` (the estimated mean costs
``O(1/S^2)``), so :meth:`FourthMoment.samples_needed` holds for both. Dense four-copy: the contraction grows with the
width of the network's light cone; it serves the small networks (Fig. 3a, Fig. 3b at small ``n``).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from dqnn.costs import CostKind
from dqnn.model.angles import AngleIndex
from dqnn.model.families import Circuit, HaarUnitary
from dqnn.model.network import Network
from dqnn.moments import exact as _ex
from dqnn.presets.problems import GradientProblem

COPIES = 4
_PERMS = tuple(itertools.permutations(range(COPIES)))


def _cycles(p: tuple[int, ...]) -> int:
    seen, count = set(), 0
    for i in range(len(p)):
        if i not in seen:
            count += 1
            j = i
            while j not in seen:
                seen.add(j)
                j = p[j]
    return count


def weingarten_s4(d: int) -> np.ndarray:
    """``Wg(s t^-1, d)`` on ``S_4`` (24, 24), rows and columns in :func:`itertools.permutations` order: the
    (pseudo-)inverse of the Gram matrix ``G[s, t] = Tr[P_s^dagger P_t] = d^{#cycles(s^-1 t)}``."""
    inv = [tuple(np.argsort(p)) for p in _PERMS]
    g = np.array([[float(d) ** _cycles(tuple(t[i] for i in inv[a])) for t in _PERMS] for a in range(len(_PERMS))])
    return np.linalg.pinv(g, hermitian=True)


def permutation_vectors4() -> np.ndarray:
    """Per-qubit vectors of the 24 copy permutations ``P_s`` (24, 256): ``[s, (k_1..k_4, b_1..b_4)] = prod_c
    delta(k_{s(c)}, b_c)`` (as :func:`dqnn.moments.commutant.permutation_vectors`; the identity first)."""
    out = np.zeros((len(_PERMS),) + (2,) * (2 * COPIES))
    for s, perm in enumerate(_PERMS):
        for ks in np.ndindex(*(2,) * COPIES):
            out[(s, *ks, *(ks[perm[c]] for c in range(COPIES)))] = 1.0
    return out.reshape(len(_PERMS), 4**COPIES).astype(np.complex128)


class _Builder4(_ex._Builder):
    """:class:`dqnn.moments.exact._Builder` for four copies: 24 permutation patterns, ``S_4`` Weingarten twirls."""

    def __init__(self, dtype: Any = np.complex128):
        self.t = COPIES
        self.dtype = dtype
        self.log2 = 0
        self.cache = {}
        self.interned = {}
        self.dim = 4**COPIES
        self.tensors = []
        self.inds = []
        self.slots = {}
        self.count = 0
        self.open = {}
        self.zeros = set()
        self.pvec = permutation_vectors4()
        self.zero_vec = np.zeros(self.dim, dtype=np.complex128)
        self.zero_vec[0] = 1.0
        self.wg: dict[int, np.ndarray] = {}

    def rotation(self, generator: np.ndarray, derivative: bool, theta: float | None) -> np.ndarray:
        """The four-copy rotation moment by exact quadrature (9 angles; :func:`rotation_moment_quadrature`)."""
        g = np.asarray(generator)
        key = ("rot", g.shape, g.tobytes(), derivative, theta)
        if key not in self.cache:
            self.cache[key] = _ex.rotation_moment_quadrature(g, COPIES, derivative=derivative, theta=theta)
        return self.cache[key]

    def twirl(self, labels: Any) -> None:
        q = len(labels)
        if q not in self.wg:
            self.wg[q] = weingarten_s4(2**q) * 4.0 ** (COPIES * q)  # order one; the scale goes to log2
        self.log2 -= 2 * COPIES * q
        s, t = self.new(), self.new()
        self.add(self.wg[q], (s, t))
        for lab in labels:
            if lab in self.zeros:  # Tr[P_t |0><0|^(x)4] = 1
                self.zeros.discard(lab)
            else:
                self.add(self.pvec.conj(), (t, self.open[lab]))
            o = self.new()
            self.add(self.pvec, (s, o))
            self.open[lab] = o


def _site4(f: np.ndarray) -> np.ndarray:
    """``|f><f|^(x)4`` of one qubit in ``(k_1..k_4, b_1..b_4)`` order."""
    fc = f.conj()
    return np.einsum("a,b,c,d,e,f,g,h->abcdefgh", f, f, f, f, fc, fc, fc, fc).reshape(-1)


def _effect4(o: np.ndarray) -> np.ndarray:
    """Per-qubit effect ``E[k.., b..] = prod_c O[b_c, k_c]``: ``sum E X = Tr[O^(x)4 X]``."""
    ot = o.T
    return np.einsum("ae,bf,cg,dh->abcdefgh", ot, ot, ot, ot).reshape(-1)


def _local_mpo4(f: np.ndarray, n: int) -> np.ndarray:
    """Site tensor (16, 16, 256) of ``((1/n) sum_j |f_j><f_j|_j)^(x)4``: per copy a bond-2 automaton."""
    a = np.zeros((2, 2, 2, 2), dtype=np.complex128)  # (l, r, b, k): O[b, k]
    a[0, 0] = np.eye(2)
    a[1, 1] = np.eye(2)
    a[0, 1] = np.outer(f, f.conj()) / n
    t = np.einsum("pwAa,qxBb,ryCc,szDd->pqrswxyzabcdABCD", a, a, a, a)
    return t.reshape(16, 16, 256)


@dataclass(frozen=True)
class FourthMoment:
    """``m2 = E[(d C)^2]``, ``m4 = E[(d C)^4]``, ``kurtosis = m4 / m2^2`` (mean 0), ``seconds``.

    :meth:`samples_needed`: how many independent samples a sampled ``Var`` needs for a relative standard error
    ``eps`` (module docstring). ``relative_error``: estimated relative error of ``m4`` (complex128 vs extended).
    """

    mean: float
    m2: float
    m4: float
    kurtosis: float
    relative_error: float
    seconds: float

    def samples_needed(self, eps: float) -> int:
        """``ceil((kurtosis - 1) / eps^2)``: samples for a relative standard error ``eps`` of the sampled variance."""
        if not eps > 0:
            raise ValueError(f"samples_needed: eps must be > 0, got {eps}")
        return max(2, math.ceil((self.kurtosis - 1.0) / eps**2))

    def variance_relative_error(self, samples: int) -> float:
        """:func:`variance_relative_error` of this kurtosis."""
        return variance_relative_error(self.kurtosis, samples)


def variance_relative_error(kurtosis: float, samples: int) -> float:
    """``sqrt((kurtosis - 1) / S)``: relative standard error of a variance sampled with ``S`` samples (mean 0)."""
    if samples < 1:
        raise ValueError(f"variance_relative_error: samples must be >= 1, got {samples}")
    return math.sqrt(max(kurtosis - 1.0, 0.0) / samples)


def resolve_arguments(
    net: Network | GradientProblem,
    index: AngleIndex | None,
    inputs: ArrayLike | None,
    targets: ArrayLike | None,
    cost_kind: CostKind,
    where: str,
) -> tuple[Network, AngleIndex, np.ndarray, np.ndarray, CostKind]:
    """``(net, index, inputs (n_in, 2), targets (n_out, 2), cost_kind)`` from a GradientProblem (its network, angle
    and ``|0...0>`` data) or from a Network with the rest given; ValueError/TypeError prefixed with ``where``."""
    if isinstance(net, GradientProblem):
        problem = net
        net = problem.network()
        index = problem.angle_index(net)
        cost_kind = problem.cost
        inputs = np.tile(np.array([1.0, 0.0], dtype=np.complex128), (problem.n, 1))
        targets = inputs
    if not isinstance(net, Network):
        raise TypeError(f"{where}: net must be a Network or a GradientProblem, got {type(net).__name__}")
    if index is None or inputs is None or targets is None:
        raise ValueError(f"{where}: give a GradientProblem, or a Network with index, inputs and targets")
    fx = np.asarray(inputs, dtype=np.complex128)
    ft = np.asarray(targets, dtype=np.complex128)
    if fx.shape != (net.num_inputs, 2):
        raise ValueError(f"{where}: inputs must be ({net.num_inputs}, 2) qubit factors, got {fx.shape}")
    if ft.shape != (net.num_outputs, 2):
        raise ValueError(f"{where}: targets must be ({net.num_outputs}, 2) qubit factors, got {ft.shape}")
    if cost_kind not in ("global", "local"):
        raise ValueError(f"{where}: cost_kind {cost_kind!r} is not 'global' or 'local'")
    _ex._check_angle(net, index)
    return net, index, fx, ft, cost_kind


def moment_elements(net: Network) -> dict[tuple[int, int], Any]:
    """Every perceptron's moment elements, keyed by ``(layer, perceptron)`` (errors name the perceptron)."""
    return {
        (l, j): _ex._moment_elements(p.unitary, f"perceptron L{l}P{j}")
        for l, layer in enumerate(net.layers)
        for j, p in enumerate(layer)
    }


def non_haar_twirl(net: Network, elements: dict[tuple[int, int], Any]) -> str | None:
    """Why the fourth moment cannot be formed (the first perceptron whose twirl is not known to be Haar), or None.

    A :class:`~dqnn.model.protocol.MomentTwirl` only promises a 2-design; ``t = 4`` needs a 4-design. Known Haar:
    :class:`~dqnn.model.families.HaarUnitary` and the ``RandomUnitary`` blocks of a
    :class:`~dqnn.model.families.Circuit`.
    """
    for (l, j), els in elements.items():
        fam = net.layers[l][j].unitary
        if any(isinstance(e, _ex.MomentTwirl) for e in els) and not isinstance(fam, (HaarUnitary, Circuit)):
            return (
                f"perceptron L{l}P{j}: family {type(fam).__name__} declares a 2-design twirl; the fourth moment needs "
                "Haar blocks (4-designs: HaarUnitary, a Circuit's RandomUnitary)"
            )
    return None


def _check_elements(elements: dict[tuple[int, int], Any]) -> None:
    """Fixed gates and rotations on one qubit only (SWAPs anywhere): the four-copy operator of a 2-qubit gate
    would have ``256**4`` entries. Every twirl in dqnn is Haar (``HaarUnitary``, ``RandomUnitary``), a 4-design."""
    for (l, j), els in elements.items():
        for i, e in enumerate(els):
            if isinstance(e, _ex.MomentTwirl) or len(e.wires) == 1:
                continue
            if isinstance(e, _ex.MomentGate) and len(e.wires) == 2 and np.array_equal(e.matrix, _ex.gates.SWAP):
                continue
            raise NotImplementedError(
                f"fourth moment: perceptron L{l}P{j} element {i} ({type(e).__name__}) acts on {len(e.wires)} qubits; "
                "the four-copy engine forms fixed gates and rotations on one qubit only"
            )


#: ``engine="auto"`` of :func:`exact_fourth_moment` takes the line engine for networks wider than this (qubits).
DENSE_MAX_WIDTH = 6


def exact_fourth_moment(
    net: Network | GradientProblem,
    index: AngleIndex | None = None,
    inputs: ArrayLike | None = None,
    targets: ArrayLike | None = None,
    cost_kind: CostKind = "global",
    engine: Literal["auto", "dense", "line"] = "auto",
) -> FourthMoment:
    """Exact ``E[(d C / d theta_index)^4]`` and the kurtosis, for one training pair of product states.

    ``net``: a :class:`~dqnn.model.network.Network` (then ``index``, ``inputs`` (n, 2) qubit factors and
    ``targets`` (n, 2) qubit factors are required) or a :class:`~dqnn.presets.problems.GradientProblem` (its
    network, angle and ``|0...0>`` data). Random elements: Haar blocks (4-designs) and rotations with uniform
    angles; fixed gates on one qubit (SWAPs anywhere). ``m2`` comes from
    :func:`dqnn.moments.exact.exact_gradient_moments`; the mean must be 0 (ValueError otherwise).

    ``engine``: ``"dense"`` (this module's four-copy network), ``"line"``
    (:func:`dqnn.moments.line4.line_fourth_moment`: line networks of Haar blocks such as Fig. 3b; ValueError naming
    the perceptron otherwise) or ``"auto"``: the line engine for networks wider than :data:`DENSE_MAX_WIDTH` qubits
    where it applies, the dense one otherwise.
    """
    import time

    if engine not in ("auto", "dense", "line"):
        raise ValueError(f"exact_fourth_moment: engine {engine!r} is not 'auto', 'dense' or 'line'")
    t0 = time.perf_counter()
    net, index, fx, ft, cost_kind = resolve_arguments(net, index, inputs, targets, cost_kind, "exact_fourth_moment")
    if engine == "line" or (engine == "auto" and max(net.widths) > DENSE_MAX_WIDTH):
        from dqnn.moments.line4 import line_fourth_moment  # the line engine builds on this module
        from dqnn.moments.mps import NotLine

        try:
            return line_fourth_moment(net, index, fx, ft, cost_kind)
        except NotLine:
            if engine == "line":
                raise

    elements = moment_elements(net)
    _check_elements(elements)
    why = non_haar_twirl(net, elements)
    if why is not None:
        raise ValueError(f"exact_fourth_moment: {why}")
    tg: Any = _ex.ProductStates(ft[None]) if cost_kind == "global" else ft[None]
    m = _ex.exact_gradient_moments(net, index, _ex.ProductStates(fx[None]), tg, cost_kind)
    if abs(m.mean) > 1e-12 * math.sqrt(max(m.second_moment, 1e-300)):
        raise ValueError(f"exact_fourth_moment: the mean E[dC] = {m.mean:.3g} is not 0 (the kurtosis is for mean 0)")
    vals = {}
    for name, dtype in (("ext", _ex.EXTENDED), ("double", np.complex128)):
        b = _build4(net, index, elements, fx, ft, cost_kind, dtype)
        vals[name] = _ex._contract(b)[0]
    m4 = vals["ext"]
    rel = vals["double"].relative_to(m4)
    m2 = float(m.second_moment)
    m4f = float(m4)
    kurt = m4f / m2**2
    return FourthMoment(0.0, m2, m4f, kurt, max(rel, m.relative_error), time.perf_counter() - t0)


def _build4(
    net: Network, index: AngleIndex, elements: Any, fx: np.ndarray, ft: np.ndarray, cost: str, dtype: Any
) -> _Builder4:
    b = _Builder4(dtype)
    for q in range(net.num_inputs):
        lab = ("in", q)
        if _ex._is_zero(fx[q]):
            b.zeros.add(lab)
        else:
            i = b.new()
            b.add(_site4(fx[q]), (i,))
            b.open[lab] = i
    _ex.walk_layers(b, net, index, elements, None)
    n = net.num_outputs
    legs = []
    for q in range(n):
        b.materialise(("in", q))
        legs.append(b.open[("in", q)])
    if cost == "global":
        for q, leg in enumerate(legs):
            b.add(_effect4(np.outer(ft[q], ft[q].conj())), (leg,))
    else:
        bonds = [b.new() for _ in range(n + 1)]
        left = np.zeros(16, dtype=np.complex128)
        left[0] = 1.0
        right = np.zeros(16, dtype=np.complex128)
        right[-1] = 1.0
        b.add(left, (bonds[0],))
        b.add(right, (bonds[n],))
        for q, leg in enumerate(legs):
            b.add(_local_mpo4(ft[q], n), (bonds[q], bonds[q + 1], leg))
    return b
