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
last layer stays |0> and has no sub-network at all.

:func:`local_cost_lightcone` computes the local cost (Eq. 4) for product inputs from the light cones,
running identical cones (same structure up to renumbering, e.g. the bulk of Fig. 3b) as one vmapped
computation. :func:`gradient_sampler` and :func:`sample_gradients` do what
:mod:`dqnn.trainability` does for ``PointSpec(arch="fig3b", cost="local")`` (the same samples for the same
seed), but only evaluate the terms whose light cone contains the differentiated perceptron, so the cost
grows with the depth, not with ``n``. Conventions: :mod:`dqnn`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike

from dqnn._jax import Array
from dqnn.families import Circuit, Family, GateOp, Op, embed
from dqnn.gradients import AngleIndex, check_index
from dqnn.network import Network, NetworkParams, Perceptron
from dqnn.simulate import output_factors, peak_stored_qubits
from dqnn.trainability import DEFAULT_MEMORY_BUDGET, MAX_CHUNK, PointSpec

_ZERO = np.array([1.0, 0.0], dtype=np.complex128)


@dataclass(frozen=True, eq=False)
class LightCone:
    """The backward light cone of output qubit ``output`` of a network.

    ``network``: the sub-network (None when ``output`` is touched by no perceptron of the last layer, so it
    stays |0>). Its layer ``l`` is layer ``start + l`` of the full network; ``qubits[l]`` (sorted) are the
    full-network qubits of its layer ``l`` (its qubit ``i`` is full qubit ``qubits[l][i]``) and
    ``perceptrons[l]`` the indices, in the full layer ``start + l``, of its perceptrons (in order).
    ``position``: the index of ``output`` among the sub-network's output qubits. When ``start > 0`` the
    sub-network's input is ``|0...0>``; otherwise it is the full input restricted to ``qubits[0]``.
    """

    output: int
    network: Network | None
    start: int
    qubits: tuple[tuple[int, ...], ...]
    perceptrons: tuple[tuple[int, ...], ...]
    position: int

    @property
    def width(self) -> int:
        """Qubits of the widest layer of the cone (0 for a qubit that stays |0>)."""
        return max((len(q) for q in self.qubits), default=0)

    def contains(self, layer: int, perceptron: int) -> bool:
        """Whether perceptron ``perceptron`` of full layer ``layer`` is in the cone."""
        l = layer - self.start
        return 0 <= l < len(self.perceptrons) and perceptron in self.perceptrons[l]

    def signature(self) -> tuple[Any, ...]:
        """A hashable structure key: cones with equal signatures differ only in their qubit labels."""
        if self.network is None:
            return ("zero",)
        rows = tuple(tuple((p.inputs, p.outputs, id(p.unitary)) for p in layer) for layer in self.network.layers)
        return (self.network.widths, rows, self.start == 0, self.position)


@dataclass(frozen=True, eq=False)
class Fused:
    """``family`` with runs of consecutive gates on at most two wires multiplied into one gate (exactly equal).

    ``init``, ``matrix``, ``num_qubits`` and ``num_angles`` are those of ``family``; SWAPs stay relabellings.
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
        out: list[Op] = []
        for op in self.family.ops(params):
            prev = out[-1] if out else None
            if isinstance(op, GateOp) and isinstance(prev, GateOp):
                wires = tuple(sorted(set(prev.wires) | set(op.wires)))
                if len(wires) <= 2:
                    m = embed(op.matrix, [wires.index(w) for w in op.wires], len(wires)) @ embed(
                        prev.matrix, [wires.index(w) for w in prev.wires], len(wires)
                    )
                    out[-1] = GateOp(m, wires)
                    continue
            out.append(op)
        return out


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


def relevant_perceptrons(net: Network, output: int) -> list[list[int]]:
    """For every layer ``l``, the (sorted) indices of the perceptrons of ``layers[l]`` in the cone of ``output``."""
    if not 0 <= output < net.num_outputs:
        raise ValueError(f"light_cone: output qubit {output} out of range (network has {net.num_outputs})")
    rel: list[list[int]] = [[] for _ in range(net.depth)]
    outs = {output}  # qubits of layer l + 1 whose state matters
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


def light_cone(net: Network, output: int) -> LightCone:
    """The backward light cone of output qubit ``output`` (0-based) as a renumbered sub-network."""
    rel = relevant_perceptrons(net, output)
    if not rel[-1]:
        return LightCone(output, None, net.depth, ((output,),), (), 0)
    start = net.depth
    while start > 0 and rel[start - 1]:
        start -= 1
    depth = net.depth - start
    qubits: list[set[int]] = [set() for _ in range(depth + 1)]
    qubits[-1].add(output)
    for l in range(depth):
        for j in rel[start + l]:
            p = net.layers[start + l][j]
            qubits[l].update(p.inputs)
            qubits[l + 1].update(p.outputs)
    order = [tuple(sorted(q)) for q in qubits]
    if not order[0]:  # the first kept perceptrons read nothing: give the sub-network a dummy |0> input
        order[0] = (-1,)
    index = [{q: i for i, q in enumerate(qs)} for qs in order]
    layers = []
    for l in range(depth):
        row = []
        for j in rel[start + l]:
            p = net.layers[start + l][j]
            ins = [index[l][q] for q in p.inputs]
            outs = [index[l + 1][q] for q in p.outputs]
            row.append(Perceptron(ins, outs, fused(p.unitary)))
        layers.append(row)
    sub = Network([len(q) for q in order], layers)
    perceptrons = tuple(tuple(rel[start + l]) for l in range(depth))
    return LightCone(output, sub, start, tuple(order), perceptrons, index[-1][output])


def light_cones(net: Network) -> list[LightCone]:
    """The light cone of every output qubit, in order."""
    return [light_cone(net, j) for j in range(net.num_outputs)]


def sub_params(cone: LightCone, params: NetworkParams) -> NetworkParams:
    """The parameters of the cone's sub-network, picked out of the full network's ``params[l][j]``."""
    return tuple(tuple(params[cone.start + l][j] for j in js) for l, js in enumerate(cone.perceptrons))


def sub_angle(cone: LightCone, idx: AngleIndex) -> AngleIndex | None:
    """The index of full-network angle ``idx`` in the cone's sub-network (None when it is outside the cone)."""
    if not cone.contains(idx.layer, idx.perceptron):
        return None
    l = idx.layer - cone.start
    return AngleIndex(l, cone.perceptrons[l].index(idx.perceptron), idx.angle)


def product_vector(factors: Array) -> Array:
    """The state vector (2**m,) of a product of single-qubit states ``factors`` (m, 2) (first = most significant)."""
    psi = factors[0]
    for f in factors[1:]:
        psi = jnp.kron(psi, f)
    return psi


def cone_input(cone: LightCone, input_factors: Array) -> Array:
    """The sub-network's input vector (2**w0,): ``input_factors`` (n_in, 2) on ``qubits[0]``, or |0...0>."""
    qs = cone.qubits[0]
    if cone.start > 0 or qs == (-1,):
        return product_vector(jnp.asarray(np.tile(_ZERO, (len(qs), 1))))
    return product_vector(input_factors[jnp.asarray(qs)])


def cone_overlap(cone: LightCone, params: NetworkParams, psi_in: Array, target: Array) -> Array:
    """``<psi|rho_j|psi>`` for the cone's output qubit: sub-network ``params``, input (2**w0,), target (2,)."""
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


def _stack(trees: Sequence[Any]) -> Any:
    return jax.tree.map(lambda *xs: jnp.stack(xs), *trees)


def local_overlaps(
    net: Network,
    params: NetworkParams,
    input_factors: ArrayLike,
    target_factors: ArrayLike,
    cones: Sequence[LightCone] | None = None,
) -> Array:
    """``<psi_j|rho_j|psi_j>`` (n_out,) for every output qubit j, each from its light cone.

    ``input_factors`` (n_in, 2): the product input; ``target_factors`` (n_out, 2): the product target.
    Cones with equal :meth:`LightCone.signature` run as one vmapped evaluation.
    """
    xf = jnp.asarray(input_factors, dtype=jnp.complex128)
    tf = jnp.asarray(target_factors, dtype=jnp.complex128)
    if xf.shape != (net.num_inputs, 2) or tf.shape != (net.num_outputs, 2):
        raise ValueError(
            f"local_overlaps: need input factors {(net.num_inputs, 2)} and target factors {(net.num_outputs, 2)}, "
            f"got {xf.shape} and {tf.shape}"
        )
    cs = light_cones(net) if cones is None else list(cones)
    groups: dict[tuple[Any, ...], list[LightCone]] = {}
    for c in cs:
        groups.setdefault(c.signature(), []).append(c)
    vals: list[Array] = [jnp.zeros(())] * net.num_outputs
    for members in groups.values():
        rep = members[0]
        ps = _stack([sub_params(c, params) for c in members])
        xs = jnp.stack([cone_input(c, xf) for c in members])
        ts = tf[jnp.asarray([c.output for c in members])]
        out = jax.vmap(lambda p, x, t, rep=rep: cone_overlap(rep, p, x, t))(ps, xs, ts)
        for i, c in enumerate(members):
            vals[c.output] = out[i]
    return jnp.stack(vals)


def local_cost_lightcone(
    net: Network,
    params: NetworkParams,
    input_factors: ArrayLike,
    target_factors: ArrayLike,
    cones: Sequence[LightCone] | None = None,
) -> Array:
    """Eq. (4) for product inputs from light cones: ``1 - (1/n_out) sum_j <psi_j|rho_j|psi_j>`` (a scalar).

    ``input_factors`` (n_in, 2) and ``target_factors`` (n_out, 2) for one pair, or stacked (N, n_in, 2) and
    (N, n_out, 2) for a training set (then the average over pairs, Eq. 2). Equals
    ``dqnn.cost(net, params, inputs, targets, "local")`` for the product states; differentiable.
    """
    xf = jnp.asarray(input_factors, dtype=jnp.complex128)
    tf = jnp.asarray(target_factors, dtype=jnp.complex128)
    cs = light_cones(net) if cones is None else list(cones)
    if xf.ndim == 3:
        if tf.ndim != 3 or tf.shape[0] != xf.shape[0]:
            raise ValueError(f"local_cost_lightcone: stacked inputs {xf.shape} need stacked targets, got {tf.shape}")
        terms = jax.vmap(lambda x, t: 1.0 - jnp.mean(local_overlaps(net, params, x, t, cs)))(xf, tf)
        return jnp.mean(terms)
    return 1.0 - jnp.mean(local_overlaps(net, params, xf, tf, cs))


def init_perceptrons(net: Network, key: Array, which: Sequence[tuple[int, int]]) -> dict[tuple[int, int], Any]:
    """The parameters ``{(l, j): params}`` that ``net.init(key)`` gives perceptrons ``which``, without the rest."""
    flat = {}
    i = 0
    for l, layer in enumerate(net.layers):
        for j in range(len(layer)):
            flat[(l, j)] = i
            i += 1
    keys = jax.random.split(key, i)
    return {(l, j): net.layers[l][j].unitary.init(keys[flat[(l, j)]]) for (l, j) in which}


def _cone_params(cone: LightCone, pars: dict[tuple[int, int], Any]) -> NetworkParams:
    return tuple(tuple(pars[(cone.start + l, j)] for j in js) for l, js in enumerate(cone.perceptrons))


def gradient_terms(net: Network, idx: AngleIndex) -> list[LightCone]:
    """The light cones of the output qubits whose local term depends on angle ``idx`` (the others are constant)."""
    check_index(net, idx)
    return [c for c in light_cones(net) if c.contains(idx.layer, idx.perceptron)]


def local_gradient_fn(
    net: Network, idx: AngleIndex, input_factors: ArrayLike, target_factors: ArrayLike
) -> Callable[[Array], Array]:
    """``key -> d C^L / d theta_idx`` (a scalar) at the initialisation ``net.init(key)``, from light cones.

    ``input_factors`` (n_in, 2) and ``target_factors`` (n_out, 2): one product training pair. Only the
    perceptrons in the cones of the terms that depend on the angle are initialised and simulated; the
    result equals the forward-mode gradient of ``dqnn.cost(..., "local")`` at the same initialisation.
    """
    xf = jnp.asarray(input_factors, dtype=jnp.complex128)
    tf = jnp.asarray(target_factors, dtype=jnp.complex128)
    cones = gradient_terms(net, idx)
    which = sorted({(c.start + l, j) for c in cones for l, js in enumerate(c.perceptrons) for j in js})
    inputs = [cone_input(c, xf) for c in cones]
    n_out = net.num_outputs

    def overlap_sum(pars: dict[tuple[int, int], Any]) -> Array:
        total = jnp.zeros(())
        for c, x in zip(cones, inputs, strict=True):
            total = total + cone_overlap(c, _cone_params(c, pars), x, tf[c.output])
        return total

    def one(key: Array) -> Array:
        pars = init_perceptrons(net, key, which)
        p0 = pars[(idx.layer, idx.perceptron)]
        theta = p0["theta"][idx.angle]

        def f(t: Array) -> Array:
            q = dict(pars)
            q[(idx.layer, idx.perceptron)] = dict(p0, theta=p0["theta"].at[idx.angle].set(t))
            return overlap_sum(q)

        _, tangent = jax.jvp(f, (theta,), (jnp.ones_like(theta),))
        return -tangent / n_out

    return one


def _check_spec(spec: PointSpec) -> None:
    if spec.arch not in ("fig3a", "fig3b") or spec.cost != "local":
        raise ValueError(f"lightcone: only local costs of local architectures (fig3a, fig3b), got {spec.label()}")


def gradient_sampler(spec: PointSpec) -> Callable[[Array], Array]:
    """A jitted ``keys (c,) -> gradients (c,)`` for a local-cost ``fig3a``/``fig3b`` point, from light cones.

    Same samples as :func:`dqnn.trainability.gradient_sampler` for the same keys (up to rounding).
    """
    _check_spec(spec)
    net = spec.network()
    idx = spec.problem().angle_index(net)
    zeros_in = np.tile(_ZERO, (spec.n, 1))
    return jax.jit(jax.vmap(local_gradient_fn(net, idx, zeros_in, zeros_in)))


def chunk_size(spec: PointSpec, samples: int, memory_budget: int = DEFAULT_MEMORY_BUDGET) -> int:
    """Initialisations per vmapped chunk: the widest relevant cone (state + tangent) within ``memory_budget``."""
    _check_spec(spec)
    net = spec.network()
    cones = gradient_terms(net, spec.problem().angle_index(net))
    peak = sum(2 ** peak_stored_qubits(c.network) for c in cones if c.network is not None)
    per = 16 * 2 * 2 * 4 * max(peak, 1)
    return int(max(1, min(samples, memory_budget // per, MAX_CHUNK)))


def sample_gradients(
    spec: PointSpec,
    samples: int,
    seed: int = 0,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
) -> np.ndarray:
    """``samples`` gradients (S,) for a local-cost point, seeded as :func:`dqnn.trainability.sample_gradients`."""
    from dqnn import trainability

    return trainability.sample_gradients(spec, samples, seed, "autodiff", memory_budget, engine="lightcone")


__all__ = [
    "Fused",
    "LightCone",
    "chunk_size",
    "cone_input",
    "cone_overlap",
    "fused",
    "gradient_sampler",
    "gradient_terms",
    "init_perceptrons",
    "light_cone",
    "light_cones",
    "local_cost_lightcone",
    "local_gradient_fn",
    "local_overlaps",
    "product_vector",
    "relevant_perceptrons",
    "sample_gradients",
    "sub_angle",
    "sub_params",
]
