"""Exact second moments of wide networks of local 2-designs: a boundary MPS in the commutant basis, layer by layer.

Structure (checked by :func:`compile_line`, from the network's moment elements, never from a preset's name): every
random block of the network is a 2-design twirl (:class:`~dqnn.model.families.RandomUnitary`,
:class:`~dqnn.model.families.HaarUnitary`) of qubits that are neighbours on a line, the differentiated rotation sits
between two twirls of one block (Fig. 3b's ``W = A R(theta) B``, Theorem 1's ``A R B``), every other fixed gate or
rotation is followed by a twirl that covers it (so it drops out: ``E_U[(U V)^(x)2 X (U V)^dagger(x)2] =
E_U[U^(x)2 X U^dagger(x)2]``), SWAPs are relabellings, every output qubit was last written by a twirl. Inputs and
targets: product states; cost: global (product target) or local. Fig. 3b (brick layers of two-qubit ``W``) is in
this class at every width and depth; so is any user network of the same shape.

Why it is exact and cheap. After a twirl of a block ``S`` (``D = 2**|S|``) the two-copy operator lies in
``span{I_S, F_S}``, inside the per-qubit product ``(x)_q span{I_q, F_q}``. Each qubit is therefore a 2-dimensional
site, written in the orthonormal (Hilbert-Schmidt) basis ``e_0 = I / 2``, ``e_1 = (F - I/2) / sqrt(3)``; a twirl is
the orthogonal projection onto ``q_0 = e_0^(x)|S|``, ``q_1 = (F_S - I_S / D) / sqrt(D^2 - 1)`` (whose ``e``-coefficients
``(1, sqrt 3)^(x)|S| - (1, 0)^(x)|S|`` are products of positive numbers with the ``e_0...e_0`` entry set to ``0``,
no cancellation), and the differentiated sandwich ``A M' B`` is the 2x2 matrix ``<q_a| M' |q_b>`` on the block
(:func:`~dqnn.moments.registers.derivative_block_matrix`). Before its first twirl a qubit's state (an input factor
pair, or ``|0>``) is replaced by the vector of ``span{I, F}`` with the same traces ``Tr[I X]``, ``Tr[F X]``: a twirl
or a partial trace reads nothing else. The whole two-copy state is a matrix product state over the line of qubits
(physical dimension 2, or 1 where no qubit is stored) kept in mixed canonical form, the orthogonality centre moved
to each block before it is applied; the block's new tensor is split by SVD.

Compression and its error. A split keeps the fewest singular values whose discarded weight is at most
``tolerance`` times the state's norm (and at most ``max_bond``). :func:`line_second_moment` (what
:func:`dqnn.moments.exact.exact_gradient_moments` calls) sweeps twice: at :data:`LINE_TOLERANCE` on the line and at
the coarser :data:`LINE_COARSE_TOLERANCE` on the mirrored line (other rounding, other truncation); their
disagreement, essentially the coarse sweep's truncation error, is the reported value's error estimate, and both
tolerances are refined 1000-fold while it exceeds the caller's target, so a compressed value is never trusted
beyond what its truncation allows. A rigorous bound is also available (:func:`sweep` with ``backward=True``): with
the centre on the block the discarded weight is exactly the norm ``delta_k`` of the state's change, every later
step is a map of known Hilbert-Schmidt norm (a twirl: an orthogonal projection; a derivative block: ``|K|_2``; a
partial trace: 2), so the value moves by at most ``sum_k delta_k |E_k|`` with ``|E_k|`` the norm of the effect
swept backward (Heisenberg picture) to step ``k`` plus that sweep's own accumulated bound. It is tight for small
networks but loose by the misalignment of state and effect in wide ones (Cauchy-Schwarz), so it is not the
verdict. The mean ``E[d C]`` is exactly 0 here (``M'(I) = 0`` after the first twirl of the sandwich).

Cost: ``O(depth * width * chi^3)`` for bond dimension ``chi``; for Fig. 3b ``chi`` stays small (measured in
``benchmarks/results_moments.md``). Numbers far below the double range keep their digits (every running tensor is
normalised by exact powers of two, :mod:`dqnn.moments.scaled`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from dqnn.model import gates
from dqnn.model.network import Network
from dqnn.model.protocol import MomentElement, MomentGate, MomentRotation, MomentTwirl
from dqnn.moments.scaled import Scaled, normalise
from dqnn.sim.schedule import layer_schedule

Label = tuple[str, int]
#: A two-copy effect in the ``e`` basis: ``("product", (n, 2))`` or ``("mpo", sites (n, S, S, 2), left, right)``.
Effect = tuple[Any, ...]
_SQ3 = math.sqrt(3.0)
#: Largest 2-design block (qubits) of the line engine (its ``q_a`` vectors are dense, ``2**k`` entries).
MAX_LINE_BLOCK = 8
#: Default truncation: discarded weight per split relative to the state's norm, and the largest bond.
DEFAULT_TOLERANCE = 1e-15
DEFAULT_MAX_BOND = 256
#: Truncations of the two sweeps of :func:`line_second_moment` (reported; its error estimate).
LINE_TOLERANCE = 1e-10
LINE_COARSE_TOLERANCE = 1e-9


class NotLine(ValueError):
    """The network is not in the class of this module; the message says why (names the perceptron)."""


@dataclass(frozen=True)
class _Op:
    """One step of the sweep. ``kind``: ``"input"`` (load input qubit ``arg`` at ``sites[0]``), ``"zero"`` (load
    ``|0>`` at ``sites[0]``), ``"block"`` (project ``sites`` onto ``span{q_0, q_1}`` and apply ``matrix`` (2, 2) in
    that basis), ``"trace"`` (partial trace of ``sites[0]``)."""

    kind: str
    sites: tuple[int, ...]
    arg: int = 0
    matrix: Any = None


@dataclass(frozen=True)
class LinePlan:
    """A network compiled for the sweep: its steps, the line length, and where each output qubit sits."""

    ops: tuple[_Op, ...]
    length: int
    outputs: tuple[int, ...]  # outputs[q] = site of output qubit q


def _absorbed(els: Sequence[MomentElement], diff: int | None) -> list[bool]:
    """Which elements are unitary mixtures covered by a later twirl (they drop out), by a backward pass."""
    absorb: dict[int, int | None] = {}
    out = [False] * len(els)
    for i in range(len(els) - 1, -1, -1):
        e = els[i]
        if isinstance(e, MomentTwirl):
            for w in e.wires:
                absorb[w] = i
        elif isinstance(e, MomentGate) and len(e.wires) == 2 and np.array_equal(e.matrix, gates.SWAP):
            a, b = e.wires
            absorb[a], absorb[b] = absorb.get(b), absorb.get(a)
        elif isinstance(e, MomentRotation) and diff is not None and e.angle == diff:
            for w in e.wires:
                absorb[w] = None
        else:
            owners = {absorb.get(w) for w in e.wires}
            unitary = isinstance(e, (MomentGate, MomentRotation))  # a channel of another kind is never absorbed
            if unitary and len(owners) == 1 and None not in owners:
                out[i] = True
            else:
                for w in e.wires:
                    absorb[w] = None
    return out


def _is_swap(e: MomentElement) -> bool:
    return isinstance(e, MomentGate) and len(e.wires) == 2 and np.array_equal(e.matrix, gates.SWAP)


class _Compiler:
    """Follows the network as :mod:`dqnn.sim.simulate` does, recording sweep steps; raises :class:`NotLine`."""

    def __init__(self, length: int, derivative: Callable[[int], np.ndarray]):
        self.length = length
        self.derivative = derivative
        self.ops: list[_Op] = []
        self.pos: dict[Label, int] = {}  # stored label -> site
        self.label_at: dict[int, Label] = {}  # site -> stored label
        self.raw: set[Label] = set()  # stored, not yet twirled (its span vector only matches traces)
        self.block: dict[Label, int] = {}  # label -> id of the twirl its state was last projected by
        self.members: dict[int, int] = {}  # twirl id -> how many labels still carry it
        self.next_id = 0
        self.derivative_blocks = 0

    def occupant(self, site: int) -> Label | None:
        return self.label_at.get(site)

    def put(self, lab: Label, site: int) -> None:
        self.pos[lab] = site
        self.label_at[site] = lab

    def take(self, lab: Label) -> int | None:
        site = self.pos.pop(lab, None)
        if site is not None:
            del self.label_at[site]
        return site

    def swap(self, x: Label, y: Label) -> None:
        px, py = self.take(x), self.take(y)
        if px is not None:
            self.put(y, px)
        if py is not None:
            self.put(x, py)
        rx, ry = x in self.raw, y in self.raw
        self.raw.discard(x)
        self.raw.discard(y)
        if rx:
            self.raw.add(y)
        if ry:
            self.raw.add(x)
        bx, by = self.block.pop(x, None), self.block.pop(y, None)
        if bx is not None:
            self.block[y] = bx
        if by is not None:
            self.block[x] = by

    def trace(self, lab: Label) -> None:
        if lab in self.pos:
            site = self.take(lab)
            assert site is not None
            self.ops.append(_Op("trace", (site,)))
            self.raw.discard(lab)
            bid = self.block.pop(lab, None)
            if bid is not None:
                self.members[bid] -= 1

    def twirl(self, labs: Sequence[Label], matrix: np.ndarray | None, where: str) -> None:
        if len(labs) > MAX_LINE_BLOCK:
            raise NotLine(f"{where}: a 2-design block of {len(labs)} > {MAX_LINE_BLOCK} qubits")
        ids = {self.block.get(lab) for lab in labs}
        if matrix is None and len(ids) == 1:
            bid = ids.pop()
            if bid is not None and self.members[bid] == len(labs):
                return  # already projected onto this block's span: the projection is idempotent
        for lab in labs:
            if lab not in self.pos:  # a |0> qubit, loaded at its own index
                q = lab[1]
                if q >= self.length or self.occupant(q) is not None:
                    raise NotLine(f"{where}: qubit {lab} in |0> has no free site {q} on the line")
                self.put(lab, q)
                self.raw.add(lab)
                self.ops.append(_Op("zero", (q,)))
        sites = sorted(self.pos[lab] for lab in labs)
        for s in range(sites[0], sites[-1] + 1):
            occ = self.occupant(s)
            if occ is not None and occ not in labs:
                raise NotLine(f"{where}: its 2-design block {list(labs)} is not contiguous on the line ({occ} between)")
        self.ops.append(_Op("block", tuple(range(sites[0], sites[-1] + 1)), matrix=matrix))
        self.derivative_blocks += matrix is not None
        self.next_id += 1
        for lab in labs:
            old = self.block.get(lab)
            if old is not None:
                self.members[old] -= 1
            self.block[lab] = self.next_id
            self.raw.discard(lab)
        self.members[self.next_id] = len(labs)

    def perceptron(self, els: Sequence[MomentElement], wires: Sequence[Label], diff: int | None, where: str) -> None:
        absorbed = _absorbed(els, diff)
        i = 0
        while i < len(els):
            e = els[i]
            labs = [wires[w] for w in e.wires]
            if _is_swap(e):
                self.swap(labs[0], labs[1])
            elif absorbed[i]:
                pass
            elif isinstance(e, MomentTwirl):
                i = self._maybe_sandwich(els, wires, i, diff, where)
            else:
                kind = type(e).__name__
                what = "the differentiated rotation" if isinstance(e, MomentRotation) and e.angle == diff else kind
                raise NotLine(
                    f"{where} element {i} ({what} on wires {e.wires}) is neither covered by a later 2-design twirl "
                    "nor between two twirls of one block"
                )
            i += 1

    def _maybe_sandwich(
        self, els: Sequence[MomentElement], wires: Sequence[Label], i: int, diff: int | None, where: str
    ) -> int:
        """Apply twirl ``i``; if the differentiated rotation follows inside its block, up to a second twirl of the
        same block, apply the whole sandwich as one derivative block and return the second twirl's index."""
        tb = els[i]
        assert isinstance(tb, MomentTwirl)
        block = set(tb.wires)
        labs = [wires[w] for w in tb.wires]
        if diff is not None:
            rot = None
            for k in range(i + 1, len(els)):
                e = els[k]
                if not set(e.wires) & block:
                    continue
                if isinstance(e, MomentTwirl):
                    if rot is not None and set(e.wires) == block:
                        self.twirl(labs, None, f"{where} element {i}")
                        self.twirl(labs, self.derivative(len(labs)), f"{where} element {k}")
                        return k
                    break
                if _is_swap(e) or not set(e.wires) <= block:
                    break
                if isinstance(e, MomentRotation) and e.angle == diff:
                    rot = e
        self.twirl(labs, None, f"{where} element {i}")
        return i


def compile_line(
    net: Network,
    elements: dict[tuple[int, int], tuple[MomentElement, ...]],
    diff_at: tuple[int, int, int],
    derivative: Callable[[int], np.ndarray],
    input_sites: int | None = None,
) -> LinePlan:
    """Compile ``net`` for :func:`line_second_moment`; :class:`NotLine` (a ValueError naming the perceptron) when it
    is not in this module's class. ``diff_at = (layer, perceptron, angle)``; ``derivative(k)``: the 2x2 matrix
    ``<q_a| M' |q_b>`` of the differentiated sandwich on a block of ``k`` qubits (orthonormal ``q`` basis)."""
    length = max(net.widths)
    c = _Compiler(length, derivative)
    for q in range(net.num_inputs):
        c.put(("in", q), q)
        c.raw.add(("in", q))
        c.ops.append(_Op("input", (q,), arg=q))
    seen_diff = False
    for l in range(net.depth):
        untouched, after = layer_schedule(net, l)
        for q in untouched:
            c.trace(("in", q))
        for j, p in enumerate(net.layers[l]):
            diff = diff_at[2] if (l, j) == diff_at[:2] else None
            n_before = c.derivative_blocks
            c.perceptron(elements[(l, j)], p.wires, diff, f"perceptron L{l}P{j}")
            if diff is not None:
                if c.derivative_blocks == n_before:
                    raise NotLine(
                        f"perceptron L{l}P{j}: the differentiated rotation is not between two twirls of one block"
                    )
                seen_diff = True
            for q in after.get(j, []):
                c.trace(("in", q))
        stray = [lab for lab in c.pos if lab[0] == "in"]
        if stray:  # pragma: no cover (the schedule traces every input)
            raise NotLine(f"layer {l}: inputs {stray} not traced")
        c.pos = {("in", q): s for (_, q), s in c.pos.items()}
        c.label_at = {s: lab for lab, s in c.pos.items()}
        c.raw = {("in", q) for (_, q) in c.raw}
        c.block = {("in", q): b for (_, q), b in c.block.items()}
    if not seen_diff:  # pragma: no cover (the angle is checked before)
        raise NotLine("the differentiated angle was not found")
    outs = []
    for q in range(net.num_outputs):
        lab = ("in", q)
        if lab not in c.pos or lab in c.raw:
            raise NotLine(f"output qubit {q} was not last written by a 2-design twirl")
        outs.append(c.pos[lab])
    return LinePlan(tuple(c.ops), length, tuple(outs))


# ----------------------------------------------------------------------------------------------------------------
# The sweep
# ----------------------------------------------------------------------------------------------------------------


def _q_vectors(k: int) -> np.ndarray:
    """``q_0``, ``q_1`` of a block of ``k`` qubits in the per-qubit ``e`` basis; shape (2, 2**k), orthonormal."""
    u: np.ndarray = np.ones(1)
    f: np.ndarray = np.ones(1)
    for _ in range(k):
        u = np.kron(u, [1.0, 0.0])
        f = np.kron(f, [1.0, _SQ3])
    f[0] = 0.0  # (1, sqrt 3)^(x)k - (1, 0)^(x)k: only the e_0...e_0 entry differs, and it is exactly 1 - 1
    return np.stack([u, f / math.sqrt(4.0**k - 1.0)])


def span_vector(fx: np.ndarray, fy: np.ndarray) -> np.ndarray:
    """The ``e``-coefficients of the vector of ``span{I, F}`` with the traces of ``|fx><fx| (x) |fy><fy|``."""
    t0 = float(np.sum(np.abs(fx) ** 2) * np.sum(np.abs(fy) ** 2))
    t1 = float(abs(np.vdot(fx, fy)) ** 2)
    return np.array([t0 / 2, (t1 - t0 / 2) / _SQ3])


def effect_vector(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(Tr[(A (x) B) e_0], Tr[(A (x) B) e_1])`` for one qubit's two-copy effect ``A (x) B``."""
    ta, tb = np.trace(a).real, np.trace(b).real
    tab = np.trace(a @ b).real
    return np.array([ta * tb / 2, (tab - ta * tb / 2) / _SQ3])


@dataclass(frozen=True)
class SweepResult:
    """Both sweeps of :func:`sweep`: the values, their rigorous truncation bounds (absolute), the largest bond."""

    forward: Scaled  # <E, X> with the state swept forward (Schroedinger picture)
    backward: Scaled  # the same value with the effect swept backward (Heisenberg picture)
    forward_bound: Scaled  # |forward - exact| <= this, truncation and a per-step rounding allowance
    backward_bound: Scaled
    max_bond: int
    steps: int


#: Rounding allowance of one step, relative to the norm of the tensor it changes (folded into the bounds).
ROUNDING = 64 * float(np.finfo(np.float64).eps)


class _MPS:
    """A matrix product state with an orthogonality centre ``c``; the state is ``2**log2`` times its tensors."""

    def __init__(self, tensors: list[np.ndarray]):
        self.t = tensors
        self.c = 0
        self.log2 = 0
        self.max_bond = 1

    def norm(self) -> Scaled:
        """The state's norm (the centre's, all else being isometries)."""
        return Scaled.of(np.float64(np.linalg.norm(self.t[self.c]))).shift(self.log2)

    def move(self, to: int) -> None:
        t = self.t
        while self.c < to:
            a = t[self.c]
            l, d, r = a.shape
            q, rr = np.linalg.qr(a.reshape(l * d, r))
            t[self.c] = q.reshape(l, d, q.shape[1])
            t[self.c + 1] = np.tensordot(rr, t[self.c + 1], axes=(1, 0))
            self.c += 1
        while self.c > to:
            a = t[self.c]
            l, d, r = a.shape
            q, rr = np.linalg.qr(a.reshape(l, d * r).T)
            t[self.c] = q.T.reshape(q.shape[1], d, r)
            t[self.c - 1] = np.tensordot(t[self.c - 1], rr.T, axes=(2, 0))
            self.c -= 1

    def renormalise(self) -> None:
        a, e = normalise(self.t[self.c])
        self.t[self.c] = a
        self.log2 += e

    def load(self, s: int, vec: np.ndarray) -> None:
        """Tensor ``vec`` (2,) onto the empty site ``s`` (physical dimension 1 -> 2)."""
        self.move(s)
        a = self.t[s]
        self.t[s] = a[:, 0, :][:, None, :] * vec[None, :, None]
        self.renormalise()

    def contract(self, s: int, vec: np.ndarray) -> None:
        """Contract site ``s`` with ``vec`` (2,) (dimension 2 -> 1)."""
        self.move(s)
        a = self.t[s]
        self.t[s] = np.tensordot(a, vec, axes=(1, 0))[:, None, :]
        self.renormalise()

    def block(self, sites: tuple[int, ...], q: np.ndarray, m: np.ndarray | None, tol: float, chi: int) -> Scaled:
        """Project ``sites`` (contiguous) onto ``q`` (2, prod d), apply ``m``, split back by SVD. Returns the norm of
        the state's change by truncation plus the rounding allowance (absolute)."""
        a0, a1 = sites[0], sites[-1]
        leftward = abs(self.c - a0) > abs(self.c - a1)  # coming from the right: split right to left
        self.move(a1 if leftward else a0)
        theta = self.t[a0]
        for s in range(a0 + 1, a1 + 1):
            theta = np.tensordot(theta, self.t[s], axes=(theta.ndim - 1, 0))
        dims = theta.shape[1:-1]
        l, r = theta.shape[0], theta.shape[-1]
        th = np.moveaxis(theta.reshape(l, -1, r), 1, 2)  # (l, r, D)
        v = th @ q.T  # (l, r, 2)
        if m is not None:
            v = v @ np.asarray(m).T
        th = np.moveaxis(v @ q, 2, 1).reshape((l, *dims, r))
        norm = float(np.linalg.norm(th))
        if norm == 0.0:
            raise FloatingPointError("the two-copy state vanished")
        lost2 = 0.0
        cur = th
        if not leftward:  # left to right: isometries on the left, the centre ends on a1
            for i, s in enumerate(range(a0, a1)):
                ll, d = cur.shape[0], cur.shape[1]
                u, sv, vh = np.linalg.svd(cur.reshape(ll * d, -1), full_matrices=False)
                keep = _keep(sv, tol * norm, chi)
                lost2 += float(np.sum(sv[keep:] ** 2))
                self.t[s] = u[:, :keep].reshape(ll, d, keep)
                cur = (sv[:keep, None] * vh[:keep]).reshape((keep, *dims[i + 1 :], r))
                self.max_bond = max(self.max_bond, keep)
            self.t[a1] = cur.reshape(cur.shape[0], dims[-1], r)
            self.c = a1
        else:  # right to left: isometries on the right, the centre ends on a0
            for i, s in enumerate(range(a1, a0, -1)):
                rr, d = cur.shape[-1], cur.shape[-2]
                u, sv, vh = np.linalg.svd(cur.reshape(-1, d * rr), full_matrices=False)
                keep = _keep(sv, tol * norm, chi)
                lost2 += float(np.sum(sv[keep:] ** 2))
                self.t[s] = vh[:keep].reshape(keep, d, rr)
                cur = (u[:, :keep] * sv[None, :keep]).reshape((l, *dims[: len(dims) - 1 - i], keep))
                self.max_bond = max(self.max_bond, keep)
            self.t[a0] = cur.reshape(l, dims[0], cur.shape[-1])
            self.c = a0
        delta = Scaled.of(np.float64(math.sqrt(lost2) + ROUNDING * norm)).shift(self.log2)
        self.renormalise()
        return delta

    def scalar(self) -> Scaled:
        """The value of a state whose sites all have physical dimension 1."""
        env = np.ones((1,))
        log2 = self.log2
        for a in self.t:
            env = env @ a[:, 0, :]
            env, e = normalise(env)
            log2 += e
        return Scaled.of(np.float64(env.reshape(-1)[0])).shift(log2)


def _keep(sv: np.ndarray, allowed: float, chi: int) -> int:
    """How many singular values to keep: the fewest whose discarded tail has norm at most ``allowed``, at most
    ``chi``, at least 1."""
    tail = np.sqrt(np.cumsum((sv**2)[::-1])[::-1])  # tail[k] = norm of sv[k:]
    return max(1, min(int(np.sum(tail > allowed)), chi))


def _op_norm(op: _Op, zero: np.ndarray, inputs: np.ndarray) -> float:
    """Norm of a step's map (Hilbert-Schmidt norms of states; the same for its adjoint)."""
    if op.kind == "trace":
        return 2.0
    if op.kind == "block":
        return 1.0 if op.matrix is None else float(np.linalg.norm(np.asarray(op.matrix, dtype=float), 2))
    return float(np.linalg.norm(zero if op.kind == "zero" else inputs[op.arg]))


_TRACE = np.array([2.0, 0.0])  # (Tr[I e_0], Tr[I e_1])


def _groups(ops: Sequence[_Op]) -> list[list[int]]:
    """Runs of consecutive steps that commute (blocks on disjoint sites), so each run can go in either direction."""
    out: list[list[int]] = []
    used: set[int] = set()
    for k, op in enumerate(ops):
        if op.kind == "block" and out and ops[out[-1][-1]].kind == "block" and not used & set(op.sites):
            out[-1].append(k)
            used |= set(op.sites)
        else:
            out.append([k])
            used = set(op.sites)
    return out


def _order(mps: _MPS, ops: Sequence[_Op], group: list[int]) -> list[int]:
    if len(group) == 1:
        return group
    lo, hi = min(ops[group[0]].sites), max(ops[group[-1]].sites)
    ordered = sorted(group, key=lambda k: ops[k].sites[0])
    return ordered if abs(mps.c - lo) <= abs(mps.c - hi) else ordered[::-1]


def _effect_mps(plan: LinePlan, effect: Effect, at: Callable[[int], int]) -> _MPS:
    n = plan.length
    where = {at(s): q for q, s in enumerate(plan.outputs)}
    if effect[0] == "product":
        ts = [np.ones((1, 1, 1)) for _ in range(n)]
        for s, q in where.items():
            ts[s] = np.asarray(effect[1][q], dtype=float).reshape(1, 2, 1)
        out = _MPS(ts)
        logs = 0
        for s in range(n):
            ts[s], e = normalise(ts[s])
            logs += e
        out.log2 = logs
        return out
    _, sites, left, right = effect
    S = len(left)
    ts = []
    for s in range(n):
        if s in where:
            ts.append(np.transpose(sites[where[s]], (0, 2, 1)).astype(float))  # (S, 2, S')
        else:
            ts.append(np.eye(S).reshape(S, 1, S))
    ts[0] = np.tensordot(left, ts[0], axes=(0, 0))[None]
    ts[-1] = np.tensordot(ts[-1], right, axes=(2, 0))[..., None]
    out = _MPS(ts)
    out.c = n - 1
    out.move(0)
    out.renormalise()
    return out


def sweep(
    plan: LinePlan,
    input_vectors: np.ndarray,
    effect: Effect,
    tolerance: float = DEFAULT_TOLERANCE,
    max_bond: int = DEFAULT_MAX_BOND,
    mirror: bool = False,
    backward: bool = True,
) -> SweepResult:
    """``<E, X>`` for the two-copy state ``X`` of ``plan`` with inputs ``input_vectors`` (n_in, 2) (:func:`span_vector`)
    and ``effect`` ``("product", (n_out, 2))`` or ``("mpo", (n_out, S, S, 2), left (S,), right (S,))`` in the ``e``
    basis, twice: the state swept forward and contracted with the effect, and the effect swept backward (adjoint
    steps) and contracted with the inputs. Each sweep's rigorous bound is ``sum_k delta_k (|E_k| + eps_k)``:
    ``delta_k`` its change of norm at step ``k`` (discarded weight plus :data:`ROUNDING`), ``|E_k|`` the other sweep's
    norm at that step and ``eps_k`` the other sweep's accumulated bound there (every step is a map of known norm,
    :func:`_op_norm`). ``mirror``: number the line in reverse (same value, other rounding). ``backward=False``:
    the forward sweep only (the other fields ``nan``)."""
    n = plan.length
    ops = plan.ops

    def at(s: int) -> int:
        return n - 1 - s if mirror else s

    zero = span_vector(np.array([1.0, 0.0]), np.array([1.0, 0.0]))
    norms = [_op_norm(op, zero, input_vectors) for op in ops]
    qcache: dict[int, np.ndarray] = {}

    def q_of(k: int) -> np.ndarray:
        if k not in qcache:
            qcache[k] = _q_vectors(k)
        return qcache[k]

    def sites_of(op: _Op) -> tuple[int, ...]:
        return tuple(sorted(at(s) for s in op.sites))

    def step(m: _MPS, op: _Op, adjoint: bool) -> Scaled:
        """One op on the forward state, or its adjoint on the backward effect (a vector loaded on one side is
        contracted on the other, a block's matrix transposed); the change of norm it caused (zero but for blocks)."""
        load, contract = (m.contract, m.load) if adjoint else (m.load, m.contract)
        if op.kind == "input":
            load(at(op.sites[0]), input_vectors[op.arg])
        elif op.kind == "zero":
            load(at(op.sites[0]), zero)
        elif op.kind == "trace":
            contract(at(op.sites[0]), _TRACE)
        else:
            st = sites_of(op)
            nq = sum(m.t[s].shape[1] == 2 for s in st)
            mat = op.matrix if not adjoint or op.matrix is None else np.asarray(op.matrix).T
            return m.block(st, q_of(nq), mat, tolerance, max_bond)
        return zero_s

    groups = _groups(ops)
    ng = len(groups)
    gn = [math.prod(max(1.0, norms[k]) for k in g) for g in groups]  # bound on the map of a group's rest
    zero_s = Scaled(np.float64(0))
    # forward: f_norm[b] the state's norm at boundary b (before group b), f_delta[g] its changes in group g
    fw = _MPS([np.ones((1, 1, 1)) for _ in range(n)])
    f_norm = [fw.norm()] + [zero_s] * ng
    f_delta = [zero_s] * ng
    for g, group in enumerate(groups):
        for k in _order(fw, ops, group):
            f_delta[g] = f_delta[g] + step(fw, ops[k], adjoint=False)
        f_norm[g + 1] = fw.norm()
    fwd_value = _effect_value(fw, [at(s) for s in plan.outputs], effect)
    if not backward:
        nan = Scaled(np.float64(math.nan))
        return SweepResult(fwd_value, nan, nan, nan, fw.max_bond, len(ops))
    # backward (adjoint steps, groups in reverse): b_norm[b] the effect's norm at boundary b
    bw = _effect_mps(plan, effect, at)
    b_norm = [zero_s] * ng + [bw.norm()]
    b_delta = [zero_s] * ng
    for g in range(ng - 1, -1, -1):
        for k in _order(bw, ops, groups[g]):
            b_delta[g] = b_delta[g] + step(bw, ops[k], adjoint=True)
        b_norm[g] = bw.norm()
    bwd_value = bw.scalar()
    # accumulated error bounds at each boundary, then each sweep's bound against the other's norms
    f_err = [zero_s] * (ng + 1)
    for g in range(ng):
        f_err[g + 1] = (f_err[g] + f_delta[g]).scale(gn[g])
    b_err = [zero_s] * (ng + 1)
    for g in range(ng - 1, -1, -1):
        b_err[g] = (b_err[g + 1] + b_delta[g]).scale(gn[g])
    fb, bb = zero_s, zero_s
    for g in range(ng):
        if f_delta[g].mantissa != 0:
            fb = fb + f_delta[g].scale(gn[g]) * (b_norm[g + 1] + b_err[g + 1])
        if b_delta[g].mantissa != 0:
            bb = bb + b_delta[g].scale(gn[g]) * (f_norm[g] + f_err[g])
    return SweepResult(fwd_value, bwd_value, fb, bb, max(fw.max_bond, bw.max_bond), len(ops))


def _effect_value(mps: _MPS, out_sites: Sequence[int], effect: Effect) -> Scaled:
    """Contract the state with the effect from the left, renormalising by powers of two."""
    kind = effect[0]
    where = {s: q for q, s in enumerate(out_sites)}
    log2 = mps.log2
    if kind == "product":
        vecs = effect[1]
        env = np.ones((1,))
        for s, a in enumerate(mps.t):
            env = env @ (a[:, 0, :] if s not in where else np.tensordot(a, vecs[where[s]], axes=(1, 0)))
            env, e = normalise(env)
            log2 += e
        return Scaled.of(np.float64(env.reshape(-1)[0])).shift(log2)
    _, sites, left, right = effect
    env = left.reshape(1, -1)
    for s, a in enumerate(mps.t):
        if s in where:
            env = np.einsum("ls,lpr,stp->rt", env, a, sites[where[s]])
        else:
            env = np.einsum("ls,lr->rs", env, a[:, 0, :])
        env, e = normalise(env)
        log2 += e
    return Scaled.of(np.float64(np.einsum("ls,s->", env, right))).shift(log2)


def local_effect(fx: np.ndarray, fy: np.ndarray, n: int, terms: Sequence[int] | None = None) -> Effect:
    """The local cost's two-copy effect ``O_x (x) O_y``, ``O = (1/n) sum_j |f_j><f_j|_j``, as an MPO in the ``e``
    basis: site tensors (n, 4, 4, 2) over the states ``(sx, sy)``, ``s = 0`` before / ``1`` after the term's site.
    ``terms``: keep only the terms ``j`` in it (the others contribute 0, :func:`local_cone`), still weighted 1/n."""
    eye = np.eye(2, dtype=np.complex128)
    sites = np.zeros((n, 4, 4, 2))
    allowed = set(range(n)) if terms is None else set(terms)
    for q in range(n):
        ox = np.outer(fx[q], fx[q].conj()) / n
        oy = np.outer(fy[q], fy[q].conj()) / n
        for sx in range(2):
            for tx in range(sx, 2):
                for sy in range(2):
                    for ty in range(sy, 2):
                        if (tx > sx or ty > sy) and q not in allowed:
                            continue
                        a = ox if tx > sx else eye
                        b = oy if ty > sy else eye
                        sites[q, 2 * sx + sy, 2 * tx + ty] = effect_vector(a, b)
    left = np.zeros(4)
    left[0] = 1.0
    right = np.zeros(4)
    right[3] = 1.0
    return ("mpo", sites, left, right)


def product_effect(ox: np.ndarray, oy: np.ndarray) -> Effect:
    """The global cost's two-copy effect ``(x)_q Ox_q (x) Oy_q`` (per-qubit (n, 2, 2) operators) in the ``e`` basis."""
    return ("product", np.stack([effect_vector(a, b) for a, b in zip(ox, oy, strict=True)]))


def local_cone(plan: LinePlan) -> tuple[LinePlan, tuple[int, ...]]:
    """The local cost's light cone: the outputs ``R`` in the forward cone of the differentiated block (for any
    other output ``j``, ``d Tr[O_j rho] = 0`` identically) and the plan without the blocks outside the backward cone
    of ``R`` (trace-preserving channels on qubits whose reduced state the terms of ``R`` do not see). Exact for the
    local cost with its terms restricted to ``R`` (:func:`local_effect` ``terms``)."""
    ops = plan.ops
    kd = next(k for k, op in enumerate(ops) if op.matrix is not None)
    live = set(ops[kd].sites)
    for op in ops[kd + 1 :]:
        if op.kind == "block":
            if live & set(op.sites):
                live |= set(op.sites)
        else:
            live.discard(op.sites[0])
    terms = tuple(q for q, s in enumerate(plan.outputs) if s in live)
    back = {plan.outputs[q] for q in terms}
    keep = []
    for op in reversed(ops):
        if op.kind != "block":
            keep.append(op)
        elif back & set(op.sites):
            keep.append(op)
            back |= set(op.sites)
    return LinePlan(tuple(reversed(keep)), plan.length, plan.outputs), terms


@dataclass(frozen=True)
class LineMoments:
    """Second moment by the line engine: ``fine`` (reported) and ``coarse`` (mirrored line, looser truncation)
    values, the largest bond, the number of steps and of blocks swept, and the two truncations used."""

    fine: Scaled
    coarse: Scaled
    max_bond: int
    steps: int
    blocks: int
    tolerance: float = LINE_TOLERANCE
    coarse_tolerance: float = LINE_COARSE_TOLERANCE


def line_second_moment(
    plan: LinePlan,
    pairs: Sequence[tuple[np.ndarray, np.ndarray, tuple[str, Any], tuple[str, Any]]],
    tolerance: float = LINE_TOLERANCE,
    coarse_tolerance: float = LINE_COARSE_TOLERANCE,
    max_bond: int = DEFAULT_MAX_BOND,
    target: float | None = None,
) -> LineMoments:
    """``E[(d C)^2] = (1/N^2) sum_{x,y} <E_xy, X_xy>`` by two forward sweeps per pair of training pairs: at
    ``tolerance`` in the line's order, at ``coarse_tolerance`` mirrored (their difference estimates the reported
    value's error: truncation and rounding). ``pairs``: ``(fx, fy, obs_x, obs_y)`` with ``fx``, ``fy`` the input
    factors (n_in, 2) and ``obs`` ``("product", (n, 2, 2))`` or ``("local", (n, 2))``, one per ``(x, y)``.
    ``target``: while the estimate exceeds it, sweep again with both tolerances 1000 times smaller (down to
    :data:`FINEST_TOLERANCE` for the fine one)."""
    while True:
        res = _line_once(plan, pairs, tolerance, coarse_tolerance, max_bond)
        if target is None or res.coarse.relative_to(res.fine) <= target or tolerance / 1000 < FINEST_TOLERANCE:
            return res
        tolerance, coarse_tolerance = tolerance / 1000, coarse_tolerance / 1000


#: Finest truncation :func:`line_second_moment` refines to.
FINEST_TOLERANCE = 1e-15


def _line_once(
    plan: LinePlan,
    pairs: Sequence[tuple[np.ndarray, np.ndarray, tuple[str, Any], tuple[str, Any]]],
    tolerance: float,
    coarse_tolerance: float,
    max_bond: int,
) -> LineMoments:
    fine = coarse = Scaled(np.float64(0))
    bond, steps, blocks = 1, 0, 0
    cone: tuple[LinePlan, tuple[int, ...]] | None = None
    for fx, fy, ox, oy in pairs:
        ins = np.stack([span_vector(a, b) for a, b in zip(fx, fy, strict=True)])
        use = plan
        if ox[0] == "local":
            if cone is None:
                cone = local_cone(plan)
            use, terms = cone
            if not terms:
                continue
            eff: Effect = local_effect(ox[1], oy[1], len(plan.outputs), terms)
        else:
            eff = product_effect(ox[1], oy[1])
        a = sweep(use, ins, eff, tolerance, max_bond, backward=False)
        b = sweep(use, ins, eff, coarse_tolerance, max_bond, mirror=True, backward=False)
        fine, coarse = fine + a.forward, coarse + b.forward
        bond, steps = max(bond, a.max_bond), max(steps, a.steps)
        blocks = max(blocks, sum(op.kind == "block" for op in use.ops))
    npairs = round(math.sqrt(len(pairs)))
    return LineMoments(
        fine.scale(1.0 / npairs**2), coarse.scale(1.0 / npairs**2), bond, steps, blocks, tolerance, coarse_tolerance
    )
