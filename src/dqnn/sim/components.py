"""Independent components: a network that splits into parts sharing no qubit, simulated part by part.

Join every wire of every perceptron (qubit ``q`` of layer ``l`` is the node ``(l, q)``) into one graph; its
connected components (``scipy.sparse.csgraph.connected_components``) are groups of perceptrons that never
touch a common qubit. For a *product* input (single-qubit factors, e.g. ``|0...0>``) the output state is
then the tensor product of the components' output states, exactly, so

- the overlap with a product target ``|phi> = (x)_j |phi_j>`` (Eq. 3) is the product over components
  ``c`` of ``<phi_c|rho_c|phi_c>``, times ``|<phi_j|0>|^2`` for each output qubit no perceptron writes;
- each component costs ``2**(its width)``, not ``2**n``: Fig. 3a (every perceptron on its own qubit)
  becomes ``n`` one-qubit simulations.

A component that starts at layer ``start > 0`` reads qubits that no earlier perceptron wrote, i.e. ``|0>``;
components that never reach the output layer are traced out entirely and drop out (trace one).
Components with equal :meth:`Component.signature` (the same sub-network up to renumbering) run as one
vmapped evaluation (their parameters and factors stacked), so each distinct sub-network is simulated by
one traced program however many copies of it there are. The product has its own JVP: only the components
whose parameters (or factors) carry a tangent are differentiated, so the gradient of one angle costs about
one forward pass (Fig. 3a: ``n - 1`` plain one-qubit overlaps and one with a tangent). Local costs are
better served by :mod:`dqnn.sim.lightcone` (each term on its own cone); this module is for the global cost.
Conventions: :mod:`dqnn`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.custom_derivatives import SymbolicZero
from numpy.typing import ArrayLike
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from dqnn._jax import Array, jit_rng
from dqnn.gradients import grad_autodiff
from dqnn.model.angles import AngleIndex, check_index
from dqnn.model.network import Network, NetworkParams, Perceptron
from dqnn.model.states import checked_factor_pair, factors_on, pair_mean, product_vector, stack_trees
from dqnn.sim.chunks import DEFAULT_MEMORY_BUDGET
from dqnn.sim.chunks import chunk_size as _chunk_size
from dqnn.sim.simulate import output_factors, peak_stored_qubits
from dqnn.sim.subnet import SubNetwork, renumber, sub_params

#: Largest vmapped chunk for component sampling (components are small, so chunks may be large).
MAX_CHUNK = 4096


@dataclass(frozen=True, eq=False)
class Component(SubNetwork):
    """One independent part of a network, as a renumbered :class:`~dqnn.sim.subnet.SubNetwork` (never empty).

    Its outputs are the full output qubits ``qubits[-1]``. Components with equal
    :meth:`~dqnn.sim.subnet.SubNetwork.signature` differ only in their qubit labels.
    """

    network: Network

    @property
    def outputs(self) -> tuple[int, ...]:
        """Full-network output qubits of the component (sorted)."""
        return self.qubits[-1]


def _labels(net: Network) -> tuple[np.ndarray, list[int]]:
    """Component label of every node ``(l, q)`` (flattened with ``offsets``) from the perceptrons' wires."""
    offsets = [0]
    for w in net.widths:
        offsets.append(offsets[-1] + w)
    rows, cols = [], []
    for l, layer in enumerate(net.layers):
        for p in layer:
            nodes = [offsets[l] + q for q in p.inputs] + [offsets[l + 1] + q for q in p.outputs]
            rows += [nodes[0]] * len(nodes)
            cols += nodes
    n = offsets[-1]
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    return connected_components(graph, directed=False)[1], offsets


def components(net: Network) -> list[Component]:
    """The components that reach the output layer, ordered by their first output qubit."""
    labels, offsets = _labels(net)
    members: dict[int, list[tuple[int, int]]] = {}
    for l, layer in enumerate(net.layers):
        for j, p in enumerate(layer):
            members.setdefault(int(labels[_first_node(p, l, offsets)]), []).append((l, j))
    out = []
    for perc in members.values():
        if not any(l == net.depth - 1 for l, _ in perc):
            continue  # traced out before the output layer
        start = min(l for l, _ in perc)
        rows: list[list[int]] = [[] for _ in range(net.depth - start)]
        for l, j in sorted(perc):
            rows[l - start].append(j)
        sub, qubits = renumber(net, start, rows)
        out.append(Component(sub, start, qubits, tuple(tuple(r) for r in rows)))
    return sorted(out, key=lambda c: c.outputs[0])


def _first_node(p: Perceptron, l: int, offsets: list[int]) -> int:
    return offsets[l] + p.inputs[0] if p.inputs else offsets[l + 1] + p.outputs[0]


def _groups(cs: Sequence[Component]) -> list[list[Component]]:
    """The components grouped by :meth:`Component.signature` (in order of first appearance)."""
    groups: dict[tuple[Any, ...], list[Component]] = {}
    for c in cs:
        groups.setdefault(c.signature(), []).append(c)
    return list(groups.values())


def _input_qubits(members: Sequence[Component]) -> np.ndarray:
    """Input qubits (m, w0) of each member's first layer (:attr:`~dqnn.sim.subnet.SubNetwork.input_qubits`)."""
    return np.array([c.input_qubits for c in members])


def _known(factors: ArrayLike) -> np.ndarray | None:
    """``factors`` as a complex NumPy array when their values are known while tracing (not a tracer), else None."""
    return None if isinstance(factors, jax.core.Tracer) else np.asarray(factors, dtype=np.complex128)


def _shared_target(known: np.ndarray | None, outputs: np.ndarray) -> np.ndarray | None:
    """The target vector (2**k,) of a group whose members (output qubits (m, k)) all have the same known factors.

    ``known``: the full target factors (n_out, 2) from :func:`_known`. None when unknown or not shared.
    """
    if known is None:
        return None
    t = known[outputs]
    return functools.reduce(np.kron, t[0]) if (t == t[:1]).all() else None


def _project(target: Array, a: Array) -> Array:
    """``<target|`` on the rows of ``a`` (d, r): the (r,) vector. A NumPy ``target`` (d,) skips its zero amplitudes.

    Skipping is exact and lets XLA drop every amplitude the overlap does not read (for ``|0...0>`` one row).
    """
    if isinstance(target, np.ndarray):
        rows = np.flatnonzero(target)
        return jnp.sum(jnp.asarray(target[rows].conj())[:, None] * a[rows], axis=0)
    return jnp.sum(target.conj()[:, None] * a, axis=0)


def _fidelity(comp: Component, target: np.ndarray | None, params: NetworkParams, xf: Array, tf: Array) -> Array:
    """``<t|rho_c|t>`` of one component: sub-network ``params``, input factors (w0, 2), target factors (k, 2).

    ``target``: the target vector (2**k,) when known (NumPy, see :func:`_project`); None: made from ``tf``.
    """
    f = output_factors(comp.network, params, product_vector(xf))
    t = product_vector(tf) if target is None else target
    va = _project(t, f.a)
    vb = va if f.b is None else _project(t, f.b)
    return jnp.real(jnp.sum(vb.conj() * va))


def _fidelities(rep: Component, target: np.ndarray | None, ps: NetworkParams, xs: Array, ts: Array) -> Array:
    """:func:`_fidelity` (m,) of ``m`` components shaped as ``rep``: stacked params, factors (m, w0, 2), (m, k, 2)."""
    return jax.vmap(lambda p, x, t: _fidelity(rep, target, p, x, t))(ps, xs, ts)


def _is_zero(tangent: Any) -> bool:
    return all(isinstance(t, SymbolicZero) for t in jax.tree.leaves(tangent))


def _dense(primal: Any, tangent: Any) -> Any:
    """``tangent`` with its symbolic zeros made arrays (shaped as ``primal``)."""
    return jax.tree.map(lambda p, t: jnp.zeros_like(p) if isinstance(t, SymbolicZero) else t, primal, tangent)


#: Up to this many differentiated components, the tangent of the product is summed term by term.
FEW_TANGENTS = 4


def _product_of_groups(
    reps: Sequence[Component], shared: Sequence[np.ndarray | None]
) -> Callable[[Any, Any, Any], Array]:
    """``(params, inputs, targets) -> prod`` over the groups' members of their overlaps (a scalar).

    ``params[g]``: the members' sub-network params (a tuple, one per member); ``inputs[g]`` (m, w0, 2) and
    ``targets[g]`` (m, k, 2): their factors; ``shared[g]``: the group's known target vector or None (see
    :func:`_shared_target`; it then replaces ``targets[g]``). Each group is one vmapped evaluation. Its
    JVP differentiates only the members whose parameters or factors carry a tangent (one angle: one
    component), as ``d prod = sum_c d<t_c|rho_c|t_c> prod_{c' != c} <t_c'|rho_c'|t_c'>``.
    """

    def values(params: Any, inputs: Any, targets: Any) -> Array:
        return jnp.concatenate(
            [
                _fidelities(r, s, stack_trees(p), x, t)
                for r, s, p, x, t in zip(reps, shared, params, inputs, targets, strict=True)
            ]
        )

    @jax.custom_jvp
    def total(params: Any, inputs: Any, targets: Any) -> Array:
        return jnp.prod(values(params, inputs, targets))

    def jvp(primals: Any, tangents: Any) -> tuple[Array, Array]:
        vals: list[Array] = []  # per group: the members without a tangent, then those with one
        dvals: list[Array] = []  # the same order; zeros for the members without a tangent
        flags: list[bool] = []
        for rep, tg, ps, xs, ts, dps, dxs, dts in zip(reps, shared, *primals, *tangents, strict=True):
            data_fixed = _is_zero(dxs) and _is_zero(dts)
            live = np.array([not (data_fixed and _is_zero(dp)) for dp in dps])
            off, on = np.flatnonzero(~live), np.flatnonzero(live)
            if off.size:
                vals.append(_fidelities(rep, tg, stack_trees([ps[i] for i in off]), xs[off], ts[off]))
                dvals.append(jnp.zeros(off.size))
            if on.size:
                v, dv = jax.jvp(
                    lambda p, x, t, rep=rep, tg=tg: _fidelities(rep, tg, p, x, t),
                    (stack_trees([ps[i] for i in on]), xs[on], ts[on]),
                    (stack_trees([_dense(ps[i], dps[i]) for i in on]), _dense(xs, dxs)[on], _dense(ts, dts)[on]),
                )
                vals.append(v)
                dvals.append(dv)
            flags += [False] * off.size + [True] * on.size
        allv, alldv = jnp.concatenate(vals), jnp.concatenate(dvals)
        out = jnp.prod(allv)
        where = np.flatnonzero(flags)
        if where.size > FEW_TANGENTS:
            return jax.jvp(jnp.prod, (allv,), (alldv,))
        dout = jnp.zeros_like(out)
        for i in where:  # d prod = sum_i dv_i prod_{j != i} v_j
            dout = dout + alldv[i] * jnp.prod(jnp.where(np.arange(allv.shape[0]) == i, 1.0, allv))
        return out, dout

    total.defjvp(jvp, symbolic_zeros=True)
    return total


def global_overlap(
    net: Network,
    params: NetworkParams,
    input_factors: ArrayLike,
    target_factors: ArrayLike,
    comps: Sequence[Component] | None = None,
) -> Array:
    """``<phi|rho_out|phi>`` for a product input and a product target, as a product over components (a scalar).

    ``input_factors`` (n_in, 2) and ``target_factors`` (n_out, 2): single-qubit factors (first = qubit 0).
    Equals ``1 - dqnn.cost(net, params, inputs, targets, "global")`` for the product states; differentiable
    (a derivative with respect to one angle simulates only the component that holds it). Target factors
    known while tracing (NumPy, or any array that is not a tracer) that the members of a group share, such as
    ``|0...0>``, enter as constants whose zero amplitudes are skipped (exact, and much less to compute).
    """
    xf, tf = checked_factor_pair(
        input_factors, target_factors, net.num_inputs, net.num_outputs, "global_overlap", stacked=False
    )
    cs = components(net) if comps is None else list(comps)
    groups = _groups(cs)
    total = jnp.ones((), dtype=jnp.float64)
    if groups:
        outs = [np.array([c.outputs for c in g]) for g in groups]
        known = _known(target_factors)
        total = _product_of_groups([g[0] for g in groups], [_shared_target(known, o) for o in outs])(
            tuple(tuple(sub_params(c, params) for c in g) for g in groups),
            tuple(factors_on(xf, _input_qubits(g)) for g in groups),
            tuple(tf[o] for o in outs),
        )
    written = {q for c in cs for q in c.outputs}
    idle = [q for q in range(net.num_outputs) if q not in written]
    if idle:  # output qubits no perceptron writes stay |0>
        total = total * jnp.prod(jnp.abs(tf[np.asarray(idle), 0]) ** 2)
    return total


def global_cost_components(
    net: Network,
    params: NetworkParams,
    input_factors: ArrayLike,
    target_factors: ArrayLike,
    comps: Sequence[Component] | None = None,
) -> Array:
    """Eq. (3) for product inputs and targets from components: ``1 - <phi|rho_out|phi>`` (a scalar).

    Stacked ``(N, n_in, 2)`` / ``(N, n_out, 2)`` factors give the average over the pairs (Eq. 2).
    """
    cs = components(net) if comps is None else list(comps)
    return pair_mean(
        lambda x, t: 1.0 - global_overlap(net, params, x, t, cs),
        input_factors,
        target_factors,
        net.num_inputs,
        net.num_outputs,
        "global_cost_components",
    )


def splits(net: Network) -> bool:
    """Whether the network has more than one component reaching the output (so this module saves work)."""
    return len(components(net)) > 1


def gradient_sampler(net: Network, idx: AngleIndex, inputs: ArrayLike, targets: ArrayLike) -> Callable[[Array], Array]:
    """A ``keys (c,) -> gradients (c,)`` (two jitted programs) of the global cost for one product pair,
    component by component.

    ``inputs`` (n_in, 2) and ``targets`` (n_out, 2) are single-qubit factors. Every perceptron is
    initialised by ``net.init(key)``, so the samples equal the full simulator's for the same keys (up to
    rounding).
    """
    check_index(net, idx)
    xf = np.asarray(inputs)
    tf = np.asarray(targets)
    if xf.shape != (net.num_inputs, 2) or tf.shape != (net.num_outputs, 2):
        raise ValueError(
            f"components: inputs and targets must be single-qubit factors ({net.num_inputs}, 2) and "
            f"({net.num_outputs}, 2) (product states), got {xf.shape} and {tf.shape}"
        )
    cs = components(net)

    def cost_fn(q: NetworkParams) -> Array:
        return 1.0 - global_overlap(net, q, xf, tf, cs)

    inits = jit_rng(jax.vmap(net.init))  # random draws: fast-compiling options (see dqnn._jax)
    grads = jax.jit(jax.vmap(lambda p: grad_autodiff(cost_fn, p, idx)))
    return lambda keys: grads(inits(keys))


def chunk_size(net: Network, samples: int, memory_budget: int = DEFAULT_MEMORY_BUDGET) -> int:
    """Initialisations per vmapped chunk: all components' states (with tangents) within ``memory_budget``."""
    peak = sum(2 ** peak_stored_qubits(c.network) for c in components(net))
    return _chunk_size(peak, samples, memory_budget, max_chunk=MAX_CHUNK)


__all__ = [
    "Component",
    "chunk_size",
    "components",
    "global_cost_components",
    "global_overlap",
    "gradient_sampler",
    "splits",
    "sub_params",
]
