"""The product-state cone engine: the local cost (Eq. 4) of product inputs evaluated cone by cone.

For a product input a light cone (:mod:`dqnn.sim.lightcone`) is simulated as a pure state kept in
independent *components* (one tensor each, one axis of size 2 per qubit): a qubit is stored only once a gate
acts on it (its input factor or |0> joins as a new one-qubit component), a gate on qubits of several
components first multiplies them together, SWAPs with |0> are relabellings, and traced-out qubits simply
stay as axes that no later gate touches (a purification), so a term is a sum of squares of the final
component that holds its output qubit. A cost of ``2**(component qubits)`` per gate makes the order of the
gates matter: besides the network's own order, :func:`plan_cone` tries *sweeps* that apply every gate as
soon as the input qubits it depends on (in a fixed order of the input qubits) are stored, so that most gates
act while the state is still small (for Fig. 3b with depth ``L`` about ``L`` full-width gates per cone
instead of ``L**2 / 2``), and keeps the cheapest. :func:`run_plan` executes a plan, each gate by
:func:`dqnn.sim.kernel.apply_gate` (its ``"broadcast"`` form). The factored mixed-state simulator of
:mod:`dqnn.sim.simulate` remains the fallback for cones where traced-out qubits would pile up
(:func:`use_product_engine`).

:func:`local_cost_lightcone` computes the local cost (Eq. 4) for product inputs from the light cones,
running identical cones (equal :meth:`~dqnn.sim.lightcone.LightCone.signature`: the same structure up to
renumbering, e.g. the bulk of Fig. 3b) as one vmapped computation. Its gradients with respect to one angle,
from the cones that hold it only, are :mod:`dqnn.sim.cone_gradients`. Conventions: :mod:`dqnn`.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike

from dqnn._jax import Array
from dqnn.model.families import Family, GateOp, SwapOp
from dqnn.model.network import Network, NetworkParams
from dqnn.model.states import checked_factor_pair, pair_mean, product_vector, stack_trees
from dqnn.sim.kernel import apply_gate
from dqnn.sim.lightcone import LightCone, cone_factors, fused, light_cones, sub_params
from dqnn.sim.simulate import output_factors, peak_stored_qubits

_ZERO = np.array([1.0, 0.0], dtype=np.complex128)

#: Which simulator evaluates a cone: ``"auto"`` (:func:`use_product_engine`), ``"product"`` or ``"factored"``.
ConeEngine = Literal["auto", "product", "factored"]


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
# A static plan (Python) and its execution (traced)
# ---------------------------------------------------------------------------------------------------------

_STRUCTURE: dict[int, tuple[Family, tuple[tuple[bool, tuple[int, ...]], ...]]] = {}


def op_structure(family: Family) -> tuple[tuple[bool, tuple[int, ...]], ...]:
    """``(is_gate, local wires)`` of each op of ``family.ops(params)`` (the same for all params; cached)."""
    hit = _STRUCTURE.get(id(family))
    if hit is None or hit[0] is not family:
        found: list[tuple[tuple[bool, tuple[int, ...]], ...]] = []

        def trace(key: Array) -> int:  # abstract evaluation: nothing is computed or compiled
            ops = family.ops(family.init(key))
            if any(not isinstance(op, (GateOp, SwapOp)) for op in ops):  # e.g. a noise channel: not a pure-state op
                raise ValueError(f"cone engine: {type(family).__name__} has non-unitary ops (channels): use simulate")
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


def planned_cost(cone: LightCone) -> float:
    """Planned amplitude updates of evaluating ``cone`` by the engine :func:`use_product_engine` picks.

    The product-state engine's :attr:`ConePlan.cost`; for the factored simulator (one run per output),
    ``4 * 2**peak`` per op and output with ``peak`` from :func:`dqnn.sim.simulate.peak_stored_qubits`. 0 for a
    cone without a sub-network.
    """
    if cone.network is None:
        return 0.0
    if use_product_engine(cone):
        return plan_cone(cone).cost
    return float(len(_cone_ops(cone))) * 2.0 ** (peak_stored_qubits(cone.network) + 2) * len(cone.outputs)


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


# ---------------------------------------------------------------------------------------------------------
# Overlaps and the local cost from cones
# ---------------------------------------------------------------------------------------------------------


def gate_matrices(fam: Family, params: Any) -> list[Array]:
    """The gate matrices of the fused ops of ``fam`` at ``params`` (stacked params give stacked matrices)."""
    f = fused(fam)
    return [op.matrix for op in f.ops(params) if isinstance(op, GateOp)]


def _sub_matrices(cone: LightCone, sp: NetworkParams) -> dict[tuple[int, int], list[Array]]:
    """The fused gate matrices of the cone's perceptrons (keyed by full-network index) from sub-network params."""
    assert cone.network is not None
    mats = {}
    for l, js in enumerate(cone.perceptrons):
        for i, j in enumerate(js):
            mats[(cone.start + l, j)] = gate_matrices(cone.network.layers[l][i].unitary, sp[l][i])
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
    return sub_overlaps(cone, sub_params(cone, params), cone_factors(cone, input_factors), tf, engine)


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
        out = jax.vmap(lambda p, x, t, rep=rep: sub_overlaps(rep, p, x, t, engine))(ps, xs, ts)
        for i, c in enumerate(members):
            for m, o in enumerate(c.outputs):
                vals[o] = out[i, m]
    missing = [j for j, v in enumerate(vals) if v is None]
    if missing:
        raise ValueError(f"local_overlaps: output qubits {missing} are in none of the cones")
    return jnp.stack(vals)  # type: ignore[arg-type]


def sub_overlaps(rep: LightCone, sp: NetworkParams, xf: Array, tf: Array, engine: ConeEngine) -> Array:
    """:func:`cone_overlaps` of ``rep`` from its sub-network's parameters ``sp`` and input factors ``xf`` (w0, 2).

    ``tf`` (k, 2): the target factors of its outputs. Traceable; vmapped over cones of equal signature.
    """
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


__all__ = [
    "STEP_OVERHEAD",
    "ZERO_SOURCE",
    "ConeEngine",
    "ConePlan",
    "cone_overlap",
    "cone_overlaps",
    "gate_matrices",
    "local_cost_lightcone",
    "local_overlaps",
    "op_structure",
    "plan_cone",
    "planned_cost",
    "run_plan",
    "sub_overlaps",
    "use_product_engine",
]
