"""Gradients of the local cost (Eq. 4) with respect to one angle, from the light cones that hold it.

:func:`gradient_sampler` does what :mod:`dqnn.trainability.sampling` does for ``PointSpec(arch="fig3b",
cost="local")`` (the same samples for the same seed), but only evaluates the terms whose light cone
(:mod:`dqnn.sim.lightcone`) contains the differentiated perceptron (:func:`~dqnn.sim.lightcone.gradient_terms`),
so the cost grows with the depth, not with ``n``. Those terms are grouped (:func:`gradient_groups`) into joint
cones where simulating the union is cheaper than the parts (for Fig. 3b all of them: the sweep of
:func:`dqnn.sim.cone_engine.plan_cone` makes the union of the boundary cones cost about as much as the widest
one), the perceptrons are initialised family by family as one vmapped draw each (:func:`init_stacked`: the
same numbers as ``net.init``), and only the differentiated perceptron carries a tangent. :func:`chunk_size`
sizes the sampler's vmapped chunks. Conventions: :mod:`dqnn`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike

from dqnn._jax import Array
from dqnn.model.angles import AngleIndex, check_index
from dqnn.model.families import Family
from dqnn.model.network import Network, NetworkParams
from dqnn.model.states import real_or_complex, stack_trees
from dqnn.sim.chunks import DEFAULT_MEMORY_BUDGET
from dqnn.sim.chunks import chunk_size as _chunk_size
from dqnn.sim.cone_engine import (
    ConeEngine,
    gate_matrices,
    plan_cone,
    planned_cost,
    run_plan,
    sub_overlaps,
    use_product_engine,
)
from dqnn.sim.lightcone import LightCone, cone_factors, gradient_terms, light_cone
from dqnn.sim.simulate import peak_stored_qubits

# ---------------------------------------------------------------------------------------------------------
# The perceptrons' parameters, as net.init draws them
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


# ---------------------------------------------------------------------------------------------------------
# The gradient of one angle from joint cones
# ---------------------------------------------------------------------------------------------------------


def gradient_groups(net: Network, idx: AngleIndex) -> list[LightCone]:
    """The gradient terms of angle ``idx`` as joint cones, each one simulation.

    Starting from one cone per term (in output order), neighbouring groups are merged while the joint cone's
    planned cost (:func:`dqnn.sim.cone_engine.planned_cost`) is below the sum of the parts, the largest saving
    first.
    """
    outs = [c.output for c in gradient_terms(net, idx)]
    costs: dict[tuple[int, ...], float] = {}

    def cost(group: tuple[int, ...]) -> float:
        if group not in costs:
            costs[group] = planned_cost(light_cone(net, group))
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
                    total = total + jnp.sum(sub_overlaps(c, sp, x, tg, "factored"))
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


# ---------------------------------------------------------------------------------------------------------
# The trainability sampler
# ---------------------------------------------------------------------------------------------------------


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

    It compiles faster (most of the compile time goes into the random initialisation), with the same samples
    at the same speed (measured: ``benchmarks/results_lightcone.md``); other backends keep their defaults.
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
    "CHUNK_CACHE_BYTES",
    "chunk_size",
    "compiler_options",
    "gradient_groups",
    "gradient_sampler",
    "init_perceptrons",
    "init_stacked",
    "local_gradient_at",
    "local_gradient_fn",
]
