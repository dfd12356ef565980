"""Backward light cones: each local term of Eq. (4) evaluated only on the qubits that can influence it.

For local perceptrons the reduced state of output qubit ``j`` depends on a small part of the network. Walking
the layers backwards from ``j``, keep the set ``S`` of wires (qubits of layers ``l`` and ``l + 1``) whose
state matters; within a layer, perceptrons are visited in reverse order of action, and a perceptron is
*relevant* if any of its wires is in ``S`` (then all its wires join ``S``). So a perceptron that acts earlier
on an input that a later relevant perceptron reads is relevant too, while perceptrons that act only on
wires outside ``S`` (at the time they act) cannot change the reduced state: they are dropped. The input
qubits in ``S`` after the walk of layer ``l`` are the output qubits that matter in layer ``l - 1``.

:func:`light_cone` returns that sub-network (:class:`LightCone`) with the qubits of every layer renumbered
compactly (in increasing order) and the indices of the kept perceptrons, so that parameters
(:func:`sub_params`) and angle indices (:func:`sub_angle`) carry over. When no perceptron of some layer is
relevant, everything before it is irrelevant and the qubits that matter start in |0>: the sub-network
then starts at that layer (``start > 0``) from ``|0...0>``; an output qubit touched by no perceptron of the
last layer stays |0> and has no sub-network at all. :func:`light_cone` also takes a set of output qubits:
the *joint* cone (the union of their cones) gives all their terms from one simulation.

Product-state engine. For a product input a cone is simulated as a pure state kept in independent
*components* (one tensor each, one axis of size 2 per qubit): a qubit is stored only once a gate acts on it
(its input factor or |0> joins as a new one-qubit component), a gate on qubits of several components first
multiplies them together, SWAPs with |0> are relabellings, and traced-out qubits simply stay as axes that
no later gate touches (a purification), so a term is a sum of squares of the final component that holds its
output qubit. A cost of ``2**(component qubits)`` per gate makes the order of the gates matter: besides the
network's own order, :func:`plan_cone` tries *sweeps* that apply every gate as soon as the input qubits it
depends on (in a fixed order of the input qubits) are stored, so that most gates act while the state is
still small (for Fig. 3b with depth ``L`` about ``L`` full-width gates per cone instead of ``L**2 / 2``), and
keeps the cheapest. The factored mixed-state simulator of :mod:`dqnn.sim.simulate` remains the fallback for
cones where traced-out qubits would pile up (:func:`use_product_engine`).

:func:`local_cost_lightcone` computes the local cost (Eq. 4) for product inputs from the light cones,
running identical cones (same structure up to renumbering, e.g. the bulk of Fig. 3b) as one vmapped
computation. :func:`gradient_sampler` and :func:`sample_gradients` do what
:mod:`dqnn.trainability.sampling` does for ``PointSpec(arch="fig3b", cost="local")`` (the same samples for the same
seed), but only evaluate the terms whose light cone contains the differentiated perceptron, so the cost
grows with the depth, not with ``n``. Those terms are grouped (:func:`gradient_groups`) into joint cones
where simulating the union is cheaper than the parts (for Fig. 3b all of them: the sweep makes the union
of the boundary cones cost about as much as the widest one), the perceptrons are initialised family by
family as one vmapped draw each (the same numbers as ``net.init``), and only the differentiated
perceptron carries a tangent. Conventions: :mod:`dqnn`.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike

from dqnn._jax import Array
from dqnn.model.angles import AngleIndex, check_index
from dqnn.model.families import Circuit, Family, GateOp, Op, fuse
from dqnn.model.network import Network, NetworkParams
from dqnn.model.states import (
    checked_factor_pair,
    factors_on,
    pair_mean,
    product_vector,
    real_or_complex,
    stack_trees,
)
from dqnn.sim.chunks import DEFAULT_MEMORY_BUDGET
from dqnn.sim.chunks import chunk_size as _chunk_size
from dqnn.sim.kernel import apply_gate
from dqnn.sim.simulate import output_factors, peak_stored_qubits
from dqnn.sim.subnet import SubNetwork, renumber, sub_angle, sub_params

_ZERO = np.array([1.0, 0.0], dtype=np.complex128)

#: Which simulator evaluates a cone: ``"auto"`` (:func:`use_product_engine`), ``"product"`` or ``"factored"``.
ConeEngine = Literal["auto", "product", "factored"]


@dataclass(frozen=True, eq=False)
class LightCone(SubNetwork):
    """The backward light cone of output qubit(s) ``outputs`` of a network: a :class:`~dqnn.sim.subnet.SubNetwork`.

    ``network`` is None when no output is touched by a perceptron of the last layer (they all stay |0>).
    ``positions``: the index of each output among the sub-network's output qubits. When ``start > 0`` the
    sub-network's input is ``|0...0>``; otherwise it is the full input restricted to ``qubits[0]``.
    """

    outputs: tuple[int, ...]
    positions: tuple[int, ...]

    @property
    def output(self) -> int:
        """The (first) output qubit of the cone."""
        return self.outputs[0]

    @property
    def position(self) -> int:
        """The index of :attr:`output` among the sub-network's output qubits."""
        return self.positions[0]

    def signature(self) -> tuple[Any, ...]:
        """:meth:`SubNetwork.signature <dqnn.sim.subnet.SubNetwork.signature>` and the outputs' positions:
        cones with equal signatures differ only in their qubit labels."""
        return (*super().signature(), self.positions)


@dataclass(frozen=True, eq=False)
class Fused:
    """``family`` with runs of consecutive gates on at most two wires multiplied into one gate (exactly equal).

    ``init``, ``matrix``, ``num_qubits`` and ``num_angles`` are those of ``family``; its ops are
    :func:`dqnn.model.families.fuse` of ``family``'s (SWAPs stay relabellings).
    """

    family: Family

    @property
    def num_qubits(self) -> int:
        """Local wires of the family."""
        return self.family.num_qubits

    @property
    def num_angles(self) -> int:
        """Circuit angles of the family."""
        return self.family.num_angles

    def init(self, key: Array) -> Any:
        """The family's initialisation."""
        return self.family.init(key)

    def matrix(self, params: Any) -> Array:
        """The family's matrix."""
        return self.family.matrix(params)

    def ops(self, params: Any) -> list[Op]:
        """The family's ops with consecutive gates on <= 2 wires fused."""
        return fuse(self.family.ops(params))


_FUSED: dict[int, tuple[Family, Fused]] = {}


def fused(family: Family) -> Family:
    """The (cached, so shared between cones) :class:`Fused` form of a circuit family; other families as they are."""
    if not isinstance(family, Circuit):
        return family
    hit = _FUSED.get(id(family))
    if hit is None or hit[0] is not family:
        hit = (family, Fused(family))
        _FUSED[id(family)] = hit
    return hit[1]  # type: ignore[return-value]


def relevant_perceptrons(net: Network, output: int | Sequence[int]) -> list[list[int]]:
    """For every layer ``l``, the (sorted) indices of the perceptrons of ``layers[l]`` in the cone of ``output``.

    ``output``: one output qubit or several (their joint cone).
    """
    wanted = [output] if isinstance(output, (int, np.integer)) else list(output)
    if not wanted:
        raise ValueError("light_cone: need at least one output qubit")
    for o in wanted:
        if not 0 <= o < net.num_outputs:
            raise ValueError(f"light_cone: output qubit {o} out of range (network has {net.num_outputs})")
    rel: list[list[int]] = [[] for _ in range(net.depth)]
    outs = {int(o) for o in wanted}  # qubits of layer l + 1 whose state matters
    for l in range(net.depth - 1, -1, -1):
        s_in: set[int] = set()
        s_out = set(outs)
        for j in range(len(net.layers[l]) - 1, -1, -1):
            p = net.layers[l][j]
            if s_out.intersection(p.outputs) or s_in.intersection(p.inputs):
                rel[l].append(j)
                s_out.update(p.outputs)
                s_in.update(p.inputs)
        rel[l].reverse()
        outs = s_in
    return rel


def light_cone(net: Network, output: int | Sequence[int]) -> LightCone:
    """The backward light cone of output qubit ``output`` (0-based), or the joint cone of several, renumbered."""
    rel = relevant_perceptrons(net, output)
    outputs = (int(output),) if isinstance(output, (int, np.integer)) else tuple(int(o) for o in output)
    if not rel[-1]:
        kept = (tuple(sorted(set(outputs))),)
        return LightCone(None, net.depth, kept, (), outputs=outputs, positions=tuple(range(len(outputs))))
    start = net.depth
    while start > 0 and rel[start - 1]:
        start -= 1
    rows = rel[start:]
    sub, qubits = renumber(net, start, rows, outputs=outputs, family=fused)
    positions = tuple(qubits[-1].index(o) for o in outputs)
    return LightCone(sub, start, qubits, tuple(tuple(r) for r in rows), outputs=outputs, positions=positions)


def light_cones(net: Network) -> list[LightCone]:
    """The light cone of every output qubit, in order."""
    return [light_cone(net, j) for j in range(net.num_outputs)]


def cone_factors(cone: LightCone, input_factors: Array) -> Array:
    """The sub-network's input factors (w0, 2): ``input_factors`` (n_in, 2) on ``qubits[0]``, or |0> each."""
    return factors_on(input_factors, cone.input_qubits)


def cone_input(cone: LightCone, input_factors: Array) -> Array:
    """The sub-network's input vector (2**w0,): ``input_factors`` (n_in, 2) on ``qubits[0]``, or |0...0>."""
    return product_vector(cone_factors(cone, input_factors))


def cone_overlap(cone: LightCone, params: NetworkParams, psi_in: Array, target: Array) -> Array:
    """``<psi|rho_j|psi>`` for the cone's (first) output qubit, by the factored simulator of :mod:`dqnn.sim.simulate`.

    Sub-network ``params``, input vector (2**w0,), target (2,).
    """
    if cone.network is None:
        return jnp.abs(target[0]) ** 2 + 0.0 * jnp.real(psi_in[0])
    f = output_factors(cone.network, params, psi_in)
    n = cone.network.num_outputs
    r = f.a.shape[-1]
    a = jnp.reshape(f.a, (2,) * n + (r,))
    va = jnp.tensordot(target.conj(), a, axes=(0, cone.position))
    if f.b is None:
        return jnp.real(jnp.vdot(va, va))
    vb = jnp.tensordot(target.conj(), jnp.reshape(f.b, (2,) * n + (r,)), axes=(0, cone.position))
    return jnp.real(jnp.vdot(vb, va))


# ---------------------------------------------------------------------------------------------------------
# The product-state engine: a static plan (Python) and its execution (traced)
# ---------------------------------------------------------------------------------------------------------

_STRUCTURE: dict[int, tuple[Family, tuple[tuple[bool, tuple[int, ...]], ...]]] = {}


def op_structure(family: Family) -> tuple[tuple[bool, tuple[int, ...]], ...]:
    """``(is_gate, local wires)`` of each op of ``family.ops(params)`` (the same for all params; cached)."""
    hit = _STRUCTURE.get(id(family))
    if hit is None or hit[0] is not family:
        found: list[tuple[tuple[bool, tuple[int, ...]], ...]] = []

        def trace(key: Array) -> int:  # abstract evaluation: nothing is computed or compiled
            ops = family.ops(family.init(key))
            found.append(tuple((isinstance(op, GateOp), tuple(int(w) for w in op.wires)) for op in ops))
            return 0

        jax.eval_shape(trace, jax.random.key(0))
        hit = (family, found[0])
        _STRUCTURE[id(family)] = hit
    return hit[1]


#: A source of a qubit that is not stored yet: an index into the cone's input factors, or ``ZERO_SOURCE``.
ZERO_SOURCE = -1
#: Cost floor of one step (amplitude updates): per-op overhead, so that fewer, larger steps win ties.
STEP_OVERHEAD = 2.0**10


@dataclass(frozen=True)
class ConePlan:
    """A static schedule of the product-state engine for one (joint) cone.

    ``steps`` (in order): ``("new", c, source)`` makes component ``c`` the one-qubit state of ``source`` (an
    input-factor index or :data:`ZERO_SOURCE`); ``("merge", c, d)`` replaces ``c`` by ``c (x) d`` (the axes of
    ``d`` appended) and drops ``d``; ``("gate", c, axes, ref)`` applies gate ``ref = (layer, perceptron, k)``
    (full-network perceptron, k-th gate of its fused ops) to axes ``axes`` of component ``c``.
    ``outputs``: for each output of the cone, ``(c, axis)`` where it is stored or ``(None, source)``;
    ``finals``: for each stored output, ``(step, wire)`` of the last gate on it (None when not stored).
    ``live``: the components left at the end. ``cost``: amplitude updates (plus a floor per step);
    ``peak``: qubits of the largest component; ``order``: which gate order was chosen.
    """

    steps: tuple[tuple[Any, ...], ...]
    outputs: tuple[tuple[int | None, int], ...]
    finals: tuple[tuple[int, int] | None, ...]
    live: tuple[int, ...]
    num_components: int
    cost: float
    peak: int
    order: str


def _cone_ops(cone: LightCone) -> list[tuple[int, int, int, tuple[int, ...]]]:
    """The cone's ops in network order: ``(layer, perceptron, gate index or -1 for a SWAP, wire labels)``.

    Labels: qubit ``q`` of sub-network layer ``l`` is ``offset[l] + q``.
    """
    assert cone.network is not None
    sub = cone.network
    offset = np.concatenate([[0], np.cumsum(sub.widths)]).astype(int)
    ops = []
    for l, layer in enumerate(sub.layers):
        for j, p in enumerate(layer):
            wires = [int(offset[l] + q) for q in p.inputs] + [int(offset[l + 1] + q) for q in p.outputs]
            k = 0
            full = (cone.start + l, cone.perceptrons[l][j])
            for is_gate, w in op_structure(p.unitary):
                labels = tuple(wires[i] for i in w)
                if is_gate:
                    ops.append((full[0], full[1], k, labels))
                    k += 1
                else:
                    ops.append((full[0], full[1], -1, labels))
    return ops


def _sweep_keys(ops: Sequence[tuple[int, int, int, tuple[int, ...]]], rank: dict[int, int]) -> list[int]:
    """Keys, monotone along every wire, of applying each op once the sources it depends on are stored.

    ``rank``: the sweep position of each input qubit label; other qubits start in |0> and depend on nothing.
    """
    reach: dict[int, int] = dict(rank)
    last: dict[int, int] = {}
    keys = []
    for _, _, k, wires in ops:
        if k < 0:  # a SWAP exchanges the contents of its two wires
            x, y = wires
            reach[x], reach[y] = reach.get(y, -1), reach.get(x, -1)
            m = -1
        else:
            m = max(reach.get(w, -1) for w in wires)
            for w in wires:
                reach[w] = m
        key = max([m] + [last.get(w, -1) for w in wires])
        for w in wires:
            last[w] = key
        keys.append(key)
    return keys


def _schedule(
    ops: Sequence[tuple[int, int, int, tuple[int, ...]]],
    sources: dict[int, int],
    outputs: Sequence[int],
    order: str,
) -> ConePlan:
    """Book-keep the engine for ``ops`` in the given order (Python only) and return the plan with its cost."""
    comps: list[list[int]] = []  # labels of each component's axes ([] once merged into another)
    where: dict[int, tuple[int, int]] = {}  # stored label -> (component, axis)
    pending: dict[int, int] = dict(sources)  # unstored label -> source (default: ZERO_SOURCE)
    last: dict[int, tuple[int, int]] = {}  # stored label -> (step, wire) of the last gate on it
    steps: list[tuple[Any, ...]] = []
    cost = 0.0
    peak = 0
    for l, j, k, wires in ops:
        if k < 0:
            x, y = wires
            sx, sy = x in where, y in where
            if sx and sy:
                (cx, ax), (cy, ay) = where[x], where[y]
                comps[cx][ax], comps[cy][ay] = y, x
                where[x], where[y] = where[y], where[x]
                last[x], last[y] = last[y], last[x]
            elif sx or sy:
                stored, other = (x, y) if sx else (y, x)
                c, a = where.pop(stored)
                comps[c][a] = other
                where[other] = (c, a)
                last[other] = last.pop(stored)
                pending[stored] = pending.pop(other, ZERO_SOURCE)
            else:
                px, py = pending.pop(x, ZERO_SOURCE), pending.pop(y, ZERO_SOURCE)
                pending[x], pending[y] = py, px
            continue
        for w in wires:
            if w not in where:
                c = len(comps)
                comps.append([w])
                where[w] = (c, 0)
                steps.append(("new", c, pending.pop(w, ZERO_SOURCE)))
                cost += STEP_OVERHEAD
        involved: list[int] = []
        for w in wires:
            if where[w][0] not in involved:
                involved.append(where[w][0])
        target = max(involved, key=lambda c: len(comps[c]))
        for d in involved:
            if d == target:
                continue
            base = len(comps[target])
            for i, lab in enumerate(comps[d]):
                where[lab] = (target, base + i)
            comps[target] = comps[target] + comps[d]
            comps[d] = []
            steps.append(("merge", target, d))
            cost += max(2.0 ** len(comps[target]), STEP_OVERHEAD)
        size = len(comps[target])
        peak = max(peak, size)
        for m, w in enumerate(wires):
            last[w] = (len(steps), m)
        steps.append(("gate", target, tuple(where[w][1] for w in wires), (l, j, k)))
        cost += max(2.0 ** (size + len(wires)), STEP_OVERHEAD)
    outs: list[tuple[int | None, int]] = []
    for o in outputs:
        outs.append(where[o] if o in where else (None, pending.get(o, ZERO_SOURCE)))
    finals = tuple(last.get(o) for o in outputs)
    live = tuple(c for c, labels in enumerate(comps) if labels)
    return ConePlan(tuple(steps), tuple(outs), finals, live, len(comps), cost, peak, order)


_PLANS: dict[tuple[Any, ...], ConePlan] = {}


def plan_cone(cone: LightCone) -> ConePlan:
    """The cheapest plan of the product-state engine for ``cone`` among the network order and two sweeps.

    The sweeps apply each gate as soon as the input qubits it depends on are stored, taking the input
    qubits in increasing or in decreasing order. Cached by the cone's structure.
    """
    if cone.network is None:
        raise ValueError("plan_cone: the cone has no sub-network (its outputs stay |0>)")
    sub = cone.network
    rows = tuple(tuple((p.inputs, p.outputs, op_structure(p.unitary)) for p in layer) for layer in sub.layers)
    key = (sub.widths, rows, cone.reads_input, cone.positions, cone.start, cone.perceptrons)
    hit = _PLANS.get(key)
    if hit is not None:
        return hit
    ops = _cone_ops(cone)
    w0 = sub.widths[0]
    reads = cone.reads_input
    sources = {q: (q if reads else ZERO_SOURCE) for q in range(w0)}
    out_offset = sum(sub.widths[:-1])
    outputs = [out_offset + p for p in cone.positions]
    candidates = [_schedule(ops, sources, outputs, "network")]
    for name, rank in (("sweep-up", {q: q for q in range(w0)}), ("sweep-down", {q: w0 - 1 - q for q in range(w0)})):
        keys = _sweep_keys(ops, rank)
        perm = sorted(range(len(ops)), key=lambda i: (keys[i], i))
        candidates.append(_schedule([ops[i] for i in perm], sources, outputs, name))
    best = min(candidates, key=lambda p: p.cost)
    _PLANS[key] = best
    return best


def use_product_engine(cone: LightCone) -> bool:
    """Whether the product-state engine suits ``cone``: its largest component is no wider than the factored
    simulator's largest tensor (:func:`dqnn.sim.simulate.peak_stored_qubits`, only asked when the plan is wider
    than two adjacent layers of the cone)."""
    if cone.network is None:
        return True
    plan = plan_cone(cone)
    widths = cone.network.widths
    if plan.peak <= max(a + b for a, b in itertools.pairwise(widths)):
        return True
    return plan.peak <= peak_stored_qubits(cone.network)


def _target_rotation(t: Array) -> tuple[Array, Array]:
    """``(V, |t|^2)`` with ``V`` unitary and ``V |t> = |t| |0>``, so ``<t|rho|t> = |t|^2 <0|V rho V^dagger|0>``."""
    n2 = jnp.real(jnp.vdot(t, t))
    n = jnp.sqrt(jnp.where(n2 > 0, n2, 1.0))
    v = jnp.stack([jnp.stack([t[0].conj(), t[1].conj()]), jnp.stack([-t[1], t[0]])]) / n
    return v, n2


def _on_wire(v: Array, m: int, g: int) -> Array:
    """The (2**g, 2**g) matrix of the one-qubit ``v`` on wire ``m`` of ``g``."""
    return jnp.kron(jnp.kron(jnp.eye(2**m, dtype=v.dtype), v), jnp.eye(2 ** (g - m - 1), dtype=v.dtype))


def run_plan(
    plan: ConePlan,
    mats: Mapping[tuple[int, int], Sequence[Array]],
    factors: Array,
    targets: Array,
    total: bool = False,
) -> Array:
    """Execute ``plan``: ``<t_j|rho_j|t_j>`` (k,) for the cone's outputs, or their sum (``total=True``).

    ``mats[(layer, perceptron)]``: the perceptron's fused gate matrices in order (full-network indices);
    ``factors`` (w0, 2): the sub-network's input factors; ``targets`` (k, 2): one target factor per output.
    For the sum, each target that is not a multiple of |0> is turned into |0> by a rotation folded into the
    last gate on its qubit, and every component contributes one weighted sum of ``|amplitude|**2``.
    """
    rotations: dict[int, list[tuple[int, Array]]] = {}
    weights: list[Any] = []
    if total:
        concrete = None if isinstance(targets, jax.core.Tracer) else np.asarray(targets)
        for i, fin in enumerate(plan.finals):
            if fin is None:
                weights.append(None)
            elif concrete is not None and concrete[i, 1] == 0:
                weights.append(float(abs(concrete[i, 0]) ** 2))
            else:
                v, n2 = _target_rotation(targets[i])
                rotations.setdefault(fin[0], []).append((fin[1], v))
                weights.append(n2)
    comps: list[Array | None] = [None] * plan.num_components
    for s, step in enumerate(plan.steps):
        if step[0] == "gate":
            _, c, axes, (l, j, k) = step
            u = mats[(l, j)][k]
            for m, v in rotations.get(s, []):
                u = _on_wire(v, m, len(axes)) @ u
            comps[c] = apply_gate(comps[c], u, axes, form="broadcast")
        elif step[0] == "merge":
            _, c, d = step
            a, b = comps[c], comps[d]
            assert a is not None and b is not None
            comps[c] = jnp.reshape(jnp.reshape(a, (-1, 1)) * jnp.reshape(b, (1, -1)), a.shape + b.shape)
            comps[d] = None
        else:
            _, c, src = step
            comps[c] = jnp.asarray(_ZERO, dtype=factors.dtype) if src == ZERO_SOURCE else factors[src]
    norms: dict[int, Array] = {}

    def norm(c: int) -> Array:
        if c not in norms:
            t = comps[c]
            assert t is not None
            norms[c] = jnp.sum(jnp.real(t * t.conj()))
        return norms[c]

    def pending(i: int, src: int) -> Array:
        f = jnp.asarray(_ZERO, dtype=factors.dtype) if src == ZERO_SOURCE else factors[src]
        val = jnp.abs(jnp.vdot(targets[i], f)) ** 2
        for d in plan.live:
            val = val * norm(d)
        return val

    if total:
        result = jnp.zeros(())
        by_comp: dict[int, list[int]] = {}
        for i, (c, a) in enumerate(plan.outputs):
            if c is None:
                result = result + pending(i, a)
            else:
                by_comp.setdefault(c, []).append(i)
        for c, members in by_comp.items():
            t = comps[c]
            assert t is not None
            w: Any = 0.0
            for i in members:
                shape = [1] * t.ndim
                shape[plan.outputs[i][1]] = 2
                w = w + weights[i] * jnp.reshape(jnp.asarray([1.0, 0.0]), shape)
            val = jnp.sum(jnp.real(t * t.conj()) * w)
            for d in plan.live:
                if d != c:
                    val = val * norm(d)
            result = result + val
        return result
    vals = []
    for i, (c, a) in enumerate(plan.outputs):
        if c is None:
            vals.append(pending(i, a))
            continue
        t = comps[c]
        assert t is not None
        v = jnp.tensordot(targets[i].conj(), t, axes=(0, a))
        val = jnp.sum(jnp.real(v * v.conj()))
        for d in plan.live:
            if d != c:
                val = val * norm(d)
        vals.append(val)
    return jnp.stack(vals)


def _sub_matrices(cone: LightCone, sp: NetworkParams) -> dict[tuple[int, int], list[Array]]:
    """The fused gate matrices of the cone's perceptrons (keyed by full-network index) from sub-network params."""
    assert cone.network is not None
    mats = {}
    for l, js in enumerate(cone.perceptrons):
        for i, j in enumerate(js):
            ops = cone.network.layers[l][i].unitary.ops(sp[l][i])
            mats[(cone.start + l, j)] = [op.matrix for op in ops if isinstance(op, GateOp)]
    return mats


def cone_overlaps(
    cone: LightCone,
    params: NetworkParams,
    input_factors: Array,
    target_factors: Array,
    engine: ConeEngine = "auto",
) -> Array:
    """``<t_j|rho_j|t_j>`` (k,) for the cone's outputs, from the full network's ``params`` and product factors.

    ``input_factors`` (n_in, 2), ``target_factors`` (n_out, 2): full-network factors. ``engine`` picks the
    product-state engine or the factored simulator (one run per output) or lets :func:`use_product_engine`.
    """
    tf = jnp.asarray(target_factors)[jnp.asarray(cone.outputs)]
    if cone.network is None:
        return jnp.abs(tf[:, 0]) ** 2
    return _rep_overlaps(cone, sub_params(cone, params), cone_factors(cone, input_factors), tf, engine)


def local_overlaps(
    net: Network,
    params: NetworkParams,
    input_factors: ArrayLike,
    target_factors: ArrayLike,
    cones: Sequence[LightCone] | None = None,
    engine: ConeEngine = "auto",
) -> Array:
    """``<psi_j|rho_j|psi_j>`` (n_out,) for every output qubit j, each from its light cone.

    ``input_factors`` (n_in, 2): the product input; ``target_factors`` (n_out, 2): the product target.
    Cones with equal :meth:`LightCone.signature` run as one vmapped evaluation. ``cones`` may be joint cones
    (each output in exactly one of them). ``engine``: see :func:`cone_overlaps`.
    """
    xf, tf = checked_factor_pair(
        input_factors, target_factors, net.num_inputs, net.num_outputs, "local_overlaps", False
    )
    cs = light_cones(net) if cones is None else list(cones)
    groups: dict[tuple[Any, ...], list[LightCone]] = {}
    for c in cs:
        groups.setdefault(c.signature(), []).append(c)
    vals: list[Array | None] = [None] * net.num_outputs
    for members in groups.values():
        rep = members[0]
        if rep.network is None:
            for c in members:
                for o in c.outputs:
                    vals[o] = jnp.abs(tf[o, 0]) ** 2
            continue
        ps = stack_trees([sub_params(c, params) for c in members])
        xs = jnp.stack([cone_factors(c, xf) for c in members])
        ts = jnp.stack([tf[jnp.asarray(c.outputs)] for c in members])
        # the representative's full-network indices, with every member's parameters in their places
        out = jax.vmap(lambda p, x, t, rep=rep: _rep_overlaps(rep, p, x, t, engine))(ps, xs, ts)
        for i, c in enumerate(members):
            for m, o in enumerate(c.outputs):
                vals[o] = out[i, m]
    missing = [j for j, v in enumerate(vals) if v is None]
    if missing:
        raise ValueError(f"local_overlaps: output qubits {missing} are in none of the cones")
    return jnp.stack(vals)  # type: ignore[arg-type]


def _rep_overlaps(rep: LightCone, sp: NetworkParams, xf: Array, tf: Array, engine: ConeEngine) -> Array:
    """:func:`cone_overlaps` of ``rep`` from sub-network parameters ``sp`` and sub-network factors."""
    assert rep.network is not None
    if engine == "product" or (engine == "auto" and use_product_engine(rep)):
        mats = _sub_matrices(rep, sp)
        return run_plan(plan_cone(rep), mats, xf, tf)
    psi = product_vector(xf)
    vals = []
    for i, pos in enumerate(rep.positions):
        single = dataclasses.replace(rep, outputs=(rep.outputs[i],), positions=(pos,))
        vals.append(cone_overlap(single, sp, psi, tf[i]))
    return jnp.stack(vals)


def local_cost_lightcone(
    net: Network,
    params: NetworkParams,
    input_factors: ArrayLike,
    target_factors: ArrayLike,
    cones: Sequence[LightCone] | None = None,
    engine: ConeEngine = "auto",
) -> Array:
    """Eq. (4) for product inputs from light cones: ``1 - (1/n_out) sum_j <psi_j|rho_j|psi_j>`` (a scalar).

    ``input_factors`` (n_in, 2) and ``target_factors`` (n_out, 2) for one pair, or stacked (N, n_in, 2) and
    (N, n_out, 2) for a training set (then the average over pairs, Eq. 2). Equals
    ``dqnn.cost(net, params, inputs, targets, "local")`` for the product states; differentiable.
    """
    cs = light_cones(net) if cones is None else list(cones)
    return pair_mean(
        lambda x, t: 1.0 - jnp.mean(local_overlaps(net, params, x, t, cs, engine)),
        input_factors,
        target_factors,
        net.num_inputs,
        net.num_outputs,
        "local_cost_lightcone",
    )


# ---------------------------------------------------------------------------------------------------------
# Gradients of the local cost with respect to one angle
# ---------------------------------------------------------------------------------------------------------


def _flat_indices(net: Network) -> dict[tuple[int, int], int]:
    flat = {}
    i = 0
    for l, layer in enumerate(net.layers):
        for j in range(len(layer)):
            flat[(l, j)] = i
            i += 1
    return flat


def init_perceptrons(net: Network, key: Array, which: Sequence[tuple[int, int]]) -> dict[tuple[int, int], Any]:
    """The parameters ``{(l, j): params}`` that ``net.init(key)`` gives perceptrons ``which``, without the rest."""
    flat = _flat_indices(net)
    keys = jax.random.split(key, len(flat))
    return {(l, j): net.layers[l][j].unitary.init(keys[flat[(l, j)]]) for (l, j) in which}


def _family_groups(net: Network, which: Sequence[tuple[int, int]]) -> list[tuple[Family, list[tuple[int, int]]]]:
    groups: dict[int, tuple[Family, list[tuple[int, int]]]] = {}
    for l, j in sorted(which):
        fam = net.layers[l][j].unitary
        groups.setdefault(id(fam), (fam, []))[1].append((l, j))
    return list(groups.values())


def init_stacked(net: Network, key: Array, which: Sequence[tuple[int, int]]) -> list[tuple[Family, list, Any]]:
    """:func:`init_perceptrons` drawn family by family: ``[(family, perceptrons, stacked params)]``.

    Each family's perceptrons are initialised by one vmapped ``family.init`` over their keys of
    ``net.init(key)`` (the same numbers, one traced draw per family instead of one per perceptron).
    """
    flat = _flat_indices(net)
    keys = jax.random.split(key, len(flat))
    out = []
    for fam, members in _family_groups(net, which):
        ks = keys[jnp.asarray([flat[m] for m in members])]
        out.append((fam, members, jax.vmap(fam.init)(ks)))
    return out


def gate_matrices(fam: Family, params: Any) -> list[Array]:
    """The gate matrices of the fused ops of ``fam`` at ``params`` (stacked params give stacked matrices)."""
    f = fused(fam)
    return [op.matrix for op in f.ops(params) if isinstance(op, GateOp)]


def influenced_outputs(net: Network, layer: int, perceptron: int) -> list[int]:
    """Output qubits whose light cone may contain perceptron ``perceptron`` of ``layer`` (a superset, cheap)."""
    first = net.layers[layer][perceptron]
    hot_in = set(first.inputs)
    hot_out = set(first.outputs)
    for p in net.layers[layer][perceptron + 1 :]:
        if hot_in.intersection(p.inputs) or hot_out.intersection(p.outputs):
            hot_in.update(p.inputs)
            hot_out.update(p.outputs)
    for l in range(layer + 1, net.depth):
        hot_in, hot_out = hot_out, set()
        for p in net.layers[l]:
            if hot_in.intersection(p.inputs) or hot_out.intersection(p.outputs):
                hot_in.update(p.inputs)
                hot_out.update(p.outputs)
    return sorted(hot_out)


def gradient_terms(net: Network, idx: AngleIndex) -> list[LightCone]:
    """The light cones of the output qubits whose local term depends on angle ``idx`` (the others are constant)."""
    check_index(net, idx)
    cones = [light_cone(net, o) for o in influenced_outputs(net, idx.layer, idx.perceptron)]
    return [c for c in cones if c.contains(idx.layer, idx.perceptron)]


def _plan_cost(cone: LightCone) -> float:
    if cone.network is None:
        return 0.0
    if use_product_engine(cone):
        return plan_cone(cone).cost
    return float(len(_cone_ops(cone))) * 2.0 ** (peak_stored_qubits(cone.network) + 2) * len(cone.outputs)


def gradient_groups(net: Network, idx: AngleIndex) -> list[LightCone]:
    """The gradient terms of angle ``idx`` as joint cones, each one simulation.

    Starting from one cone per term (in output order), neighbouring groups are merged while the joint cone's
    planned cost (:func:`plan_cone`) is below the sum of the parts, the largest saving first.
    """
    outs = [c.output for c in gradient_terms(net, idx)]
    costs: dict[tuple[int, ...], float] = {}

    def cost(group: tuple[int, ...]) -> float:
        if group not in costs:
            costs[group] = _plan_cost(light_cone(net, group))
        return costs[group]

    groups: list[tuple[int, ...]] = [(o,) for o in outs]
    while len(groups) > 1:
        savings = [cost(a) + cost(b) - cost(a + b) for a, b in itertools.pairwise(groups)]
        best = int(np.argmax(savings))
        if savings[best] <= 0:
            break
        groups[best : best + 2] = [groups[best] + groups[best + 1]]
    return [light_cone(net, g) for g in groups]


def _gradient_from_groups(
    net: Network,
    idx: AngleIndex,
    input_factors: ArrayLike,
    target_factors: ArrayLike,
    engine: ConeEngine,
) -> tuple[list[tuple[int, int]], Callable[[list[tuple[Family, list, Any]]], Array]]:
    """The perceptrons the gradient of angle ``idx`` needs, and ``stacked params -> d C^L / d theta_idx``.

    ``stacked params``: ``[(family, perceptrons, params stacked over them)]`` for those perceptrons (the
    form of :func:`init_stacked`), so that each family's gate matrices are built by one vmapped call.
    """
    # real gates on real inputs: real arithmetic (as in dqnn.sim.simulate)
    xf = real_or_complex(input_factors) if net.real else jnp.asarray(input_factors, dtype=jnp.complex128)
    tf = jnp.asarray(target_factors, dtype=jnp.complex128)
    groups = gradient_groups(net, idx)
    diff = (idx.layer, idx.perceptron)
    which = sorted({(c.start + l, j) for c in groups for l, js in enumerate(c.perceptrons) for j in js} | {diff})
    n_out = net.num_outputs
    product = [engine == "product" or (engine == "auto" and use_product_engine(c)) for c in groups]
    plans = [plan_cone(c) if use else None for c, use in zip(groups, product, strict=True)]
    factors = [cone_factors(c, xf) for c in groups]
    targets = [tf[jnp.asarray(c.outputs)] for c in groups]

    def gradient(stacked_groups: list[tuple[Family, list, Any]]) -> Array:
        mats: dict[tuple[int, int], list[Array]] = {}
        pars: dict[tuple[int, int], Any] = {}
        p0: Any = None
        for fam, members, stacked in stacked_groups:
            ms = jax.vmap(lambda p, fam=fam: gate_matrices(fam, p))(stacked)
            for i, m in enumerate(members):
                if m == diff:
                    p0 = jax.tree.map(lambda x, i=i: x[i], stacked)
                    continue
                mats[m] = [x[i] for x in ms]
                if not all(product):
                    pars[m] = jax.tree.map(lambda x, i=i: x[i], stacked)
        fam0 = net.layers[idx.layer][idx.perceptron].unitary
        theta = p0["theta"][idx.angle]

        def f(t: Array) -> Array:
            p = dict(p0, theta=p0["theta"].at[idx.angle].set(t))
            m = dict(mats)
            m[diff] = gate_matrices(fam0, p)
            total = jnp.zeros(())
            for c, plan, x, tg in zip(groups, plans, factors, targets, strict=True):
                if plan is not None:
                    total = total + run_plan(plan, m, x, tg, total=True)
                else:
                    q = dict(pars)
                    q[diff] = p
                    sp = tuple(tuple(q[(c.start + l, j)] for j in js) for l, js in enumerate(c.perceptrons))
                    total = total + jnp.sum(_rep_overlaps(c, sp, x, tg, "factored"))
            return total

        _, tangent = jax.jvp(f, (theta,), (jnp.ones_like(theta),))
        return -tangent / n_out

    return which, gradient


def local_gradient_fn(
    net: Network,
    idx: AngleIndex,
    input_factors: ArrayLike,
    target_factors: ArrayLike,
    engine: ConeEngine = "auto",
) -> Callable[[Array], Array]:
    """``key -> d C^L / d theta_idx`` (a scalar) at the initialisation ``net.init(key)``, from light cones.

    ``input_factors`` (n_in, 2) and ``target_factors`` (n_out, 2): one product training pair. Only the
    perceptrons in the cones of the terms that depend on the angle are initialised and simulated (as the
    joint cones of :func:`gradient_groups`); the result equals the forward-mode gradient of
    ``dqnn.cost(..., "local")`` at the same initialisation. Only the differentiated perceptron's gates carry
    a tangent.
    """
    which, gradient = _gradient_from_groups(net, idx, input_factors, target_factors, engine)
    return lambda key: gradient(init_stacked(net, key, which))


def local_gradient_at(
    net: Network,
    idx: AngleIndex,
    input_factors: ArrayLike,
    target_factors: ArrayLike,
    engine: ConeEngine = "auto",
) -> Callable[[NetworkParams], Array]:
    """``params -> d C^L / d theta_idx`` (a scalar) at given network parameters, from light cones.

    As :func:`local_gradient_fn` (same pair, same joint cones), at ``params`` instead of a random
    initialisation; the parameters of perceptrons outside the cones are never read.
    """
    which, gradient = _gradient_from_groups(net, idx, input_factors, target_factors, engine)

    def at(params: NetworkParams) -> Array:
        groups = _family_groups(net, which)
        return gradient([(fam, ms, stack_trees([params[l][j] for l, j in ms])) for fam, ms in groups])

    return at


def _check_data(net: Network, inputs: ArrayLike, targets: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    xf = np.asarray(inputs)
    tf = np.asarray(targets)
    if xf.shape != (net.num_inputs, 2) or tf.shape != (net.num_outputs, 2):
        raise ValueError(
            f"lightcone: inputs and targets must be single-qubit factors ({net.num_inputs}, 2) and "
            f"({net.num_outputs}, 2) (product states, local cost), got {xf.shape} and {tf.shape}"
        )
    return xf, tf


def gradient_sampler(net: Network, idx: AngleIndex, inputs: ArrayLike, targets: ArrayLike) -> Callable[[Array], Array]:
    """A jitted ``keys (c,) -> gradients (c,)`` of the local cost (Eq. 4) for one product pair, from light cones.

    ``inputs`` (n_in, 2) and ``targets`` (n_out, 2) are single-qubit factors. Each key initialises the network
    as ``net.init(key)`` does, so the samples equal the full simulator's for the same keys (up to rounding).
    """
    check_index(net, idx)
    xf, tf = _check_data(net, inputs, targets)
    return jax.jit(jax.vmap(local_gradient_fn(net, idx, xf, tf)), compiler_options=compiler_options())


def compiler_options() -> dict[str, Any] | None:
    """XLA options of the sampler: on CPU, LLVM optimisation level 2 instead of the default 3.

    It halves the compile time (most of it goes into the random initialisation) and gave bit-identical
    samples at the same speed (Fig. 3b, n = 256, 8 layers); other backends keep their defaults.
    """
    return {"xla_backend_optimization_level": 2} if jax.default_backend() == "cpu" else None


#: Bytes of component states (primal and tangent, in and out of a gate) that one chunk should keep in cache:
#: on CPU a chunk whose states stay in the last-level cache runs faster per sample than a large one, so wide
#: cones get small chunks (measurements: ``benchmarks/results_lightcone.md``).
CHUNK_CACHE_BYTES = 16 * 2**20


def chunk_size(net: Network, idx: AngleIndex, samples: int, memory_budget: int = DEFAULT_MEMORY_BUDGET) -> int:
    """Initialisations per vmapped chunk of :func:`gradient_sampler`, split evenly over the samples.

    :func:`dqnn.sim.chunks.chunk_size` of the joint cones' largest components (state and tangent), within
    :data:`CHUNK_CACHE_BYTES` of cache. Raises ValueError when the state and tangent of a single sample exceed
    both ``memory_budget`` and the default budget (the joint cones are about ``2 L`` qubits wide for ``L``
    layers of Fig. 3b, so e.g. 16 layers need 2**32 amplitudes).
    """
    amplitudes = 0
    for g in gradient_groups(net, idx):
        if g.network is not None:
            amplitudes += 2 ** (plan_cone(g).peak if use_product_engine(g) else peak_stored_qubits(g.network))
    if 16 * 2 * amplitudes > max(memory_budget, DEFAULT_MEMORY_BUDGET):  # a tiny budget just means chunks of 1
        raise ValueError(
            f"lightcone: one sample of the gradient of angle {idx} needs {16 * 2 * amplitudes / 2**30:.3g} GiB for "
            f"its state and tangent ({amplitudes} amplitudes), more than the memory budget of "
            f"{memory_budget / 2**30:.3g} GiB"
        )
    return _chunk_size(amplitudes, samples, memory_budget, cache_bytes=CHUNK_CACHE_BYTES, even=True)


__all__ = [
    "ConeEngine",
    "ConePlan",
    "Fused",
    "LightCone",
    "chunk_size",
    "compiler_options",
    "cone_factors",
    "cone_input",
    "cone_overlap",
    "cone_overlaps",
    "fused",
    "gate_matrices",
    "gradient_groups",
    "gradient_sampler",
    "gradient_terms",
    "influenced_outputs",
    "init_perceptrons",
    "init_stacked",
    "light_cone",
    "light_cones",
    "local_cost_lightcone",
    "local_gradient_at",
    "local_gradient_fn",
    "local_overlaps",
    "op_structure",
    "plan_cone",
    "product_vector",
    "relevant_perceptrons",
    "run_plan",
    "sub_angle",
    "sub_params",
    "use_product_engine",
]
