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
vmapped evaluation. Local costs are better served by :mod:`dqnn.lightcone` (each term on its own cone);
this module is for the global cost. Conventions: :mod:`dqnn`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from dqnn._jax import Array
from dqnn.gradients import grad_autodiff
from dqnn.network import Network, NetworkParams, Perceptron
from dqnn.simulate import output_factors, peak_stored_qubits
from dqnn.trainability import DEFAULT_MEMORY_BUDGET, PointSpec

#: Largest vmapped chunk for component sampling (components are small, so chunks may be large).
MAX_CHUNK = 4096


@dataclass(frozen=True, eq=False)
class Component:
    """One independent part of a network, as a renumbered sub-network.

    Its layer ``l`` is layer ``start + l`` of the full network; ``qubits[l]`` (sorted) are the full-network
    qubits of its layer ``l`` and ``perceptrons[l]`` the indices of its perceptrons in full layer ``start + l``.
    Its outputs are the full output qubits ``qubits[-1]``.
    """

    network: Network
    start: int
    qubits: tuple[tuple[int, ...], ...]
    perceptrons: tuple[tuple[int, ...], ...]

    @property
    def outputs(self) -> tuple[int, ...]:
        """Full-network output qubits of the component (sorted)."""
        return self.qubits[-1]

    @property
    def width(self) -> int:
        """Qubits of the widest layer of the component."""
        return max(len(q) for q in self.qubits)

    def signature(self) -> tuple[Any, ...]:
        """A hashable structure key: components with equal signatures differ only in their qubit labels."""
        rows = tuple(tuple((p.inputs, p.outputs, id(p.unitary)) for p in layer) for layer in self.network.layers)
        return (self.network.widths, rows, self.start == 0)


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
        depth = net.depth - start
        qubits: list[set[int]] = [set() for _ in range(depth + 1)]
        rows: list[list[int]] = [[] for _ in range(depth)]
        for l, j in sorted(perc):
            p = net.layers[l][j]
            qubits[l - start].update(p.inputs)
            qubits[l - start + 1].update(p.outputs)
            rows[l - start].append(j)
        order = [tuple(sorted(q)) for q in qubits]
        if not order[0]:  # its first perceptrons read nothing: a dummy |0> input
            order[0] = (-1,)
        index = [{q: i for i, q in enumerate(qs)} for qs in order]
        layers = [
            [
                Perceptron(
                    [index[i][q] for q in net.layers[start + i][j].inputs],
                    [index[i + 1][q] for q in net.layers[start + i][j].outputs],
                    net.layers[start + i][j].unitary,
                )
                for j in rows[i]
            ]
            for i in range(depth)
        ]
        sub = Network([len(q) for q in order], layers)
        out.append(Component(sub, start, tuple(order), tuple(tuple(r) for r in rows)))
    return sorted(out, key=lambda c: c.outputs[0])


def _first_node(p: Perceptron, l: int, offsets: list[int]) -> int:
    return offsets[l] + p.inputs[0] if p.inputs else offsets[l + 1] + p.outputs[0]


def sub_params(comp: Component, params: NetworkParams) -> NetworkParams:
    """The component's parameters, picked out of the full network's ``params[l][j]``."""
    return tuple(tuple(params[comp.start + l][j] for j in js) for l, js in enumerate(comp.perceptrons))


def _product(factors: Array) -> Array:
    """The vector (2**m,) of a product of single-qubit states ``factors`` (m, 2), first = most significant."""
    psi = factors[0]
    for f in factors[1:]:
        psi = jnp.kron(psi, f)
    return psi


def _input(comp: Component, input_factors: Array) -> Array:
    qs = comp.qubits[0]
    if comp.start > 0 or qs == (-1,):
        return _product(jnp.tile(jnp.array([1.0, 0.0], dtype=jnp.complex128), (len(qs), 1)))
    return _product(input_factors[jnp.asarray(qs)])


def _fidelity(comp: Component, params: NetworkParams, psi_in: Array, target: Array) -> Array:
    f = output_factors(comp.network, params, psi_in)
    va = target.conj() @ f.a
    vb = va if f.b is None else target.conj() @ f.b
    return jnp.real(jnp.vdot(vb, va))


def _stack(trees: Sequence[Any]) -> Any:
    return jax.tree.map(lambda *xs: jnp.stack(xs), *trees)


def _check_factors(net: Network, xf: Array, tf: Array, where: str) -> None:
    if xf.shape != (net.num_inputs, 2) or tf.shape != (net.num_outputs, 2):
        raise ValueError(
            f"{where}: need input factors {(net.num_inputs, 2)} and target factors {(net.num_outputs, 2)}, "
            f"got {xf.shape} and {tf.shape}"
        )


def global_overlap(
    net: Network,
    params: NetworkParams,
    input_factors: ArrayLike,
    target_factors: ArrayLike,
    comps: Sequence[Component] | None = None,
) -> Array:
    """``<phi|rho_out|phi>`` for a product input and a product target, as a product over components (a scalar).

    ``input_factors`` (n_in, 2) and ``target_factors`` (n_out, 2): single-qubit factors (first = qubit 0).
    Equals ``1 - dqnn.cost(net, params, inputs, targets, "global")`` for the product states; differentiable.
    """
    xf = jnp.asarray(input_factors, dtype=jnp.complex128)
    tf = jnp.asarray(target_factors, dtype=jnp.complex128)
    _check_factors(net, xf, tf, "global_overlap")
    cs = components(net) if comps is None else list(comps)
    groups: dict[tuple[Any, ...], list[Component]] = {}
    for c in cs:
        groups.setdefault(c.signature(), []).append(c)
    total = jnp.ones((), dtype=jnp.float64)
    for members in groups.values():
        rep = members[0]
        ps = _stack([sub_params(c, params) for c in members])
        xs = jnp.stack([_input(c, xf) for c in members])
        ts = jnp.stack([_product(tf[jnp.asarray(c.outputs)]) for c in members])
        vals = jax.vmap(lambda p, x, t, rep=rep: _fidelity(rep, p, x, t))(ps, xs, ts)
        total = total * jnp.prod(vals)
    written = {q for c in cs for q in c.outputs}
    for q in range(net.num_outputs):
        if q not in written:  # stays |0>
            total = total * jnp.abs(tf[q, 0]) ** 2
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
    xf = jnp.asarray(input_factors, dtype=jnp.complex128)
    tf = jnp.asarray(target_factors, dtype=jnp.complex128)
    cs = components(net) if comps is None else list(comps)
    if xf.ndim == 3:
        if tf.ndim != 3 or tf.shape[0] != xf.shape[0]:
            raise ValueError(f"global_cost_components: stacked inputs {xf.shape} need stacked targets, got {tf.shape}")
        return jnp.mean(jax.vmap(lambda x, t: 1.0 - global_overlap(net, params, x, t, cs))(xf, tf))
    return 1.0 - global_overlap(net, params, xf, tf, cs)


def splits(net: Network) -> bool:
    """Whether the network has more than one component reaching the output (so this module saves work)."""
    return len(components(net)) > 1


def gradient_sampler(spec: PointSpec) -> Callable[[Array], Array]:
    """A jitted ``keys (c,) -> gradients (c,)`` for a global-cost point, component by component.

    Same samples as :func:`dqnn.trainability.gradient_sampler` for the same keys (up to rounding): every
    perceptron is initialised by ``net.init(key)`` as there.
    """
    if spec.cost != "global" or spec.arch == "pmm":
        raise ValueError(f"components: only the global cost of a circuit architecture, got {spec.label()}")
    net = spec.network()
    idx = spec.problem().angle_index(net)
    cs = components(net)
    zeros_in = np.tile(np.array([1.0, 0.0], dtype=np.complex128), (net.num_inputs, 1))
    zeros_out = np.tile(np.array([1.0, 0.0], dtype=np.complex128), (net.num_outputs, 1))

    def cost_fn(q: NetworkParams) -> Array:
        return 1.0 - global_overlap(net, q, zeros_in, zeros_out, cs)

    return jax.jit(jax.vmap(lambda key: grad_autodiff(cost_fn, net.init(key), idx)))


def chunk_size(spec: PointSpec, samples: int, memory_budget: int = DEFAULT_MEMORY_BUDGET) -> int:
    """Initialisations per vmapped chunk: all components' states (with tangents) within ``memory_budget``."""
    cs = components(spec.network())
    peak = sum(2 ** peak_stored_qubits(c.network) for c in cs)
    per = 16 * 2 * 2 * 4 * max(peak, 1)
    return int(max(1, min(samples, memory_budget // per, MAX_CHUNK)))


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
