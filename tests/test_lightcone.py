"""Light cones: local costs and their gradients equal the full simulation."""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dqnn.costs import cost, per_pair
from dqnn.gradients import check_shift_rule
from dqnn.model import families, gates, states
from dqnn.model.angles import AngleIndex, angle_indices, shift_angle
from dqnn.model.families import Circuit, Gate, HaarUnitary, RandomUnitary, Rot
from dqnn.model.network import Network, Perceptron
from dqnn.presets import architectures
from dqnn.sim import lightcone
from dqnn.trainability import sampling as trainability


def _random_factors(key: jax.Array, m: int) -> jax.Array:
    v = jax.random.normal(key, (m, 2, 2))
    z = v[..., 0] + 1j * v[..., 1]
    return z / jnp.linalg.norm(z, axis=1, keepdims=True)


def _product(factors: jax.Array) -> jax.Array:
    return states.product_state(list(factors))


def _hand_made() -> Network:
    """Crossing wires, k = 1 perceptrons in non-trivial order, an input-less perceptron and an untouched output."""
    rot2 = Circuit(2, [RandomUnitary((0, 1)), Rot("Y", (0,)), Rot("X", (1,)), Gate("CNOT", (1, 0))])
    rot3 = Circuit(3, [Rot("Y", (2,)), RandomUnitary((0, 2)), Rot("Z", (1,)), Gate("CZ", (1, 2)), Rot("X", (0,))])
    swap_rot = Circuit(2, [Gate("SWAP", (0, 1)), Rot("Y", (1,))])
    layer0 = [
        Perceptron([3], [1], rot2),  # reads in 3 before the perceptron below moves it
        Perceptron([0, 3], [2], rot3),  # crossing wires: 0 -> 2, 3 -> 2
        Perceptron([1], [0], swap_rot),
        Perceptron([2, 1], [3], rot3),  # reads in 1 after the one above
    ]
    layer1 = [
        Perceptron([2], [0], rot2),
        Perceptron([0, 3], [1], rot3),
        Perceptron([], [3], Circuit(1, [Rot("Y", (0,))])),  # no inputs
        Perceptron([1], [3], swap_rot),
        # output qubit 2 of layer 2 is touched by nobody: it stays |0>
    ]
    layer2 = [
        Perceptron([3, 0], [1], rot3),
        Perceptron([1], [0], rot2),
        Perceptron([2], [2], HaarUnitary(2)),
    ]
    return Network([4, 4, 4, 3], [layer0, layer1, layer2])


def _swap_tail() -> Network:
    """Output 2 is input 2 moved by SWAPs only, so the engine never stores it."""
    v1 = families.fig3b_v1()
    v2 = families.fig3b_v2()
    layer0 = [Perceptron([0, 1], [0], v1), Perceptron([1], [1], v2), Perceptron([2], [2], v2)]
    layer1 = [Perceptron([0, 1], [0], v1), Perceptron([1], [1], v2), Perceptron([2], [2], v2)]
    return Network([3, 3, 3], [layer0, layer1])


CASES = [
    ("fig3b-n4-L3", lambda: architectures.fig3b(4, 3)),
    ("fig3b-n6-L4", lambda: architectures.fig3b(6, 4)),
    ("fig3b-n8-L2-rycz", lambda: architectures.fig3b(8, 2, w="ry-cz")),
    ("fig3a-n4-L2", lambda: architectures.fig3a(4, 2)),
    ("hand-made", _hand_made),
    ("hand-made-widths", lambda: Network([3, 2], [[Perceptron([2, 0], [1], HaarUnitary(3))]])),
]
NAMES = [c[0] for c in CASES]


@functools.cache
def _net(name: str) -> Network:
    """One network per case for the whole module, so the tests below share their compiled programs."""
    return {**dict(CASES), "swap-tail": _swap_tail}[name]()


@functools.cache
def _full_reference(name: str) -> Callable[..., tuple[jax.Array, jax.Array]]:
    """The full simulator's local cost of each pair and its exact gradient in every angle (jitted once per case).

    ``(params, input vectors (N, 2**n_in), target factors (N, n_out, 2)) -> (C_x (N,), dC_x/dtheta (N, angles))``,
    angles in ``angle_indices`` order. The gradient is the two-term parameter-shift rule on the full simulation
    (exact: every generator has eigenvalues +-1, checked), all shifted parameter sets in one vmapped evaluation:
    one compilation of the forward simulation, a fraction of that of its reverse-mode gradient.
    """
    net = _net(name)
    every = angle_indices(net)
    for idx in every:
        check_shift_rule(net, idx)

    def run(params, inputs, targets):  # type: ignore[no-untyped-def]
        sets = [params] + [shift_angle(params, idx, s) for idx in every for s in (np.pi / 2, -np.pi / 2)]
        batch = jax.tree.map(lambda *leaves: jnp.stack(leaves), *sets)
        c = jax.vmap(lambda p: per_pair(net, p, inputs, targets, "local"))(batch)  # (1 + 2 angles, N)
        return c[0], (0.5 * (c[1::2] - c[2::2])).T

    return jax.jit(run)


@pytest.mark.parametrize("name", NAMES)
def test_cost_and_gradient_equal_full_simulation(name):
    net = _net(name)
    key = jax.random.key(7)
    params = net.init(key)
    kx, kt = jax.random.split(jax.random.fold_in(key, 1))
    xf = _random_factors(kx, net.num_inputs)
    tf = _random_factors(kt, net.num_outputs)
    xs = jnp.stack([xf, _random_factors(jax.random.key(3), net.num_inputs)])  # stacked pairs (Eq. 2)
    ts = jnp.stack([tf, _random_factors(jax.random.key(4), net.num_outputs)])
    costs, grads = _full_reference(name)(params, jax.vmap(_product)(xs), ts)
    full, full2 = float(costs[0]), float(jnp.mean(costs))  # pair 0 is (xf, tf)
    # auto is product for the architectures; where it mixes both engines, check each of them too
    cones = lightcone.light_cones(net)
    mixed = not all(lightcone.use_product_engine(c) for c in cones)
    engines = ("auto", "product", "factored") if mixed else ("auto",)
    every = angle_indices(net)

    def simulators(engine):  # type: ignore[no-untyped-def]
        """Which simulator runs each cone that holds an angle (product: True) under ``engine``."""
        return tuple(
            engine == "product" or (engine == "auto" and lightcone.use_product_engine(c))
            for c in cones
            if any(c.contains(i.layer, i.perceptron) for i in every)
        )

    # Engines that run every cone holding an angle on the same simulator compute the angle gradient by the same
    # program (hand-made: auto runs cones 0 and 1 factored, like "factored"; cone 2 has no angle): it is
    # differentiated once, under the first of them, and checked for each.
    grad_engine = {e: next(f for f in engines if simulators(f) == simulators(e)) for e in engines}

    @jax.jit  # every engine in one compilation: value (and reverse-mode gradient) for one pair, value for two
    def cone_side(p):  # type: ignore[no-untyped-def]
        out = {}
        for engine in engines:

            def f(q, engine=engine):  # type: ignore[no-untyped-def]
                return lightcone.local_cost_lightcone(net, q, xf, tf, engine=engine)

            value, grad = jax.value_and_grad(f)(p) if grad_engine[engine] == engine else (f(p), None)
            out[engine] = (value, grad, lightcone.local_cost_lightcone(net, p, xs, ts, engine=engine))
        return out

    results = cone_side(params)
    for engine in engines:
        value, _, value2 = results[engine]
        g_cone = results[grad_engine[engine]][1]
        np.testing.assert_allclose(float(value), full, atol=1e-10, rtol=0, err_msg=engine)
        for k, idx in enumerate(every):
            a = float(g_cone[idx.layer][idx.perceptron]["theta"][idx.angle])
            np.testing.assert_allclose(a, float(grads[0, k]), atol=1e-10, rtol=0, err_msg=f"{engine} {idx}")
        np.testing.assert_allclose(float(value2), full2, atol=1e-10, err_msg=engine)


# hand-made-widths has no angle; fig3b-n4-L3 runs the same joint-cone product path as fig3b-n6-L4 (whose cones are
# partly narrower than the network)
@pytest.mark.parametrize("name", [n for n in NAMES if angle_indices(_net(n)) and n != "fig3b-n4-L3"])
def test_gradient_fn_equals_full_simulation(name):
    """Joint cones, per-family initialisation, summed terms with target rotations: all exact."""
    net = _net(name)
    kx, kt = jax.random.split(jax.random.key(21))
    xf = _random_factors(kx, net.num_inputs)
    tf = _random_factors(kt, net.num_outputs)
    keys = jax.random.split(jax.random.key(5), 2)
    pair = (jnp.stack([_product(xf)] * 2), jnp.stack([tf] * 2))  # the shapes of the test above: no recompilation
    refs = [_full_reference(name)(net.init(k), *pair)[1][0] for k in keys]
    every = angle_indices(net)
    chosen = list(dict.fromkeys([every[0], every[len(every) // 2], every[-1]]))
    fns = [jax.vmap(lightcone.local_gradient_fn(net, idx, xf, tf)) for idx in chosen]
    at = jax.vmap(lightcone.local_gradient_at(net, chosen[-1], xf, tf))  # the same, at given parameters
    got = jax.jit(lambda ks: [*(fn(ks) for fn in fns), at(jax.vmap(net.init)(ks))])(keys)  # one compilation
    for idx, g in zip([*chosen, chosen[-1]], got, strict=True):
        ref = [float(r[every.index(idx)]) for r in refs]
        np.testing.assert_allclose(np.asarray(g), ref, atol=1e-10, rtol=0, err_msg=str(idx))


def test_gradient_of_an_angle_no_term_depends_on_is_zero():
    swap_rot = Circuit(2, [Gate("SWAP", (0, 1)), Rot("Y", (1,))])
    net = Network(
        [2, 2, 1], [[Perceptron([0], [0], swap_rot), Perceptron([1], [1], swap_rot)], [Perceptron([0], [0], swap_rot)]]
    )
    idx = AngleIndex(0, 1, 0)  # writes qubit 1 of layer 1, which nobody reads
    assert lightcone.gradient_terms(net, idx) == []
    xf = _random_factors(jax.random.key(1), 2)
    tf = _random_factors(jax.random.key(2), 1)
    got = lightcone.local_gradient_fn(net, idx, xf, tf)(jax.random.key(3))
    assert float(got) == 0.0


@pytest.mark.parametrize("name", [*NAMES, "swap-tail"])
def test_joint_cone_total_equals_sum_of_terms(name):
    net = _net(name)
    params = net.init(jax.random.key(2))
    kx, kt = jax.random.split(jax.random.key(9))
    xf = _random_factors(kx, net.num_inputs)
    tf = _random_factors(kt, net.num_outputs)
    joint = lightcone.light_cone(net, list(range(net.num_outputs)))
    assert joint.network is not None  # in every case some perceptron writes an output
    plan = lightcone.plan_cone(joint)
    t0 = np.tile(np.array([1.0, 0.0], dtype=np.complex128), (net.num_outputs, 1))  # concrete |0> targets

    @jax.jit  # one compilation: faster than evaluating these programs op by op
    def evaluate(p):  # type: ignore[no-untyped-def]
        each = lightcone.local_overlaps(net, p, xf, tf)
        via_joint = lightcone.local_overlaps(net, p, xf, tf, cones=[joint])
        engines = [lightcone.cone_overlaps(joint, p, xf, tf, engine=e) for e in ("product", "factored")]
        mats = lightcone._sub_matrices(joint, lightcone.sub_params(joint, p))
        xs = lightcone.cone_factors(joint, xf)
        total = lightcone.run_plan(plan, mats, xs, tf[jnp.asarray(joint.outputs)], total=True)
        # |0> targets (concrete, not traced) take the path without rotations
        total0 = lightcone.run_plan(plan, mats, xs, t0[list(joint.outputs)], total=True)
        return each, via_joint, engines, (total, total0, lightcone.local_overlaps(net, p, xf, t0))

    each, via_joint, engines, totals = evaluate(params)
    np.testing.assert_allclose(np.asarray(via_joint), np.asarray(each), atol=1e-12, rtol=0)
    for engine, got in zip(("product", "factored"), engines, strict=True):
        np.testing.assert_allclose(np.asarray(got), np.asarray(each)[list(joint.outputs)], atol=1e-12, err_msg=engine)
    total, total0, each0 = totals
    np.testing.assert_allclose(float(total), float(jnp.sum(each)), atol=1e-12, rtol=0)
    np.testing.assert_allclose(float(total0), float(jnp.sum(each0)), atol=1e-12)


def test_swap_tail_output_is_never_stored():
    net = _swap_tail()
    plan = lightcone.plan_cone(lightcone.light_cone(net, [0, 1, 2]))
    assert plan.outputs[2] == (None, 2)  # input factor 2, moved by SWAPs only
    assert plan.finals[2] is None


def test_fig3b_gradient_terms_form_one_sweep():
    """The boundary cones of Fig. 3b merge into one joint cone, swept in qubit order: about L full-width gates."""
    net = architectures.fig3b(64, 8)
    idx = AngleIndex(0, 0, 0)
    terms = lightcone.gradient_terms(net, idx)
    assert [c.output for c in terms] == list(range(9))
    assert lightcone.influenced_outputs(net, 0, 0) == list(range(9))
    groups = lightcone.gradient_groups(net, idx)
    assert [o for g in groups for o in g.outputs] == list(range(9))
    assert len(groups) == 1
    plan = lightcone.plan_cone(groups[0])
    assert plan.order == "sweep-up"
    assert plan.peak == 16  # the widest cone's input layer
    full_width_gates = 0
    sizes: dict[int, int] = {}
    for step in plan.steps:
        if step[0] == "new":
            sizes[step[1]] = 1
        elif step[0] == "merge":
            sizes[step[1]] += sizes.pop(step[2])
        elif sizes[step[1]] == plan.peak:
            full_width_gates += 1
    assert full_width_gates <= 8
    network_order = lightcone._schedule(
        lightcone._cone_ops(groups[0]),
        {q: q for q in range(groups[0].network.widths[0])},
        [sum(groups[0].network.widths[:-1]) + p for p in groups[0].positions],
        "network",
    )
    assert plan.cost < network_order.cost / 3


def test_influenced_outputs_is_a_superset():
    for net in (_hand_made(), architectures.fig3b(9, 5), _swap_tail()):
        for l, layer in enumerate(net.layers):
            for j in range(len(layer)):
                exact = {o for o in range(net.num_outputs) if lightcone.light_cone(net, o).contains(l, j)}
                assert exact <= set(lightcone.influenced_outputs(net, l, j))


def test_dead_qubits_fall_back_to_the_factored_simulator():
    """A chain of Haar perceptrons leaves every input entangled: the product engine would grow by a qubit a layer."""
    net = Network([1] * 8, [[Perceptron([0], [0], HaarUnitary(2))] for _ in range(7)])
    cone = lightcone.light_cone(net, 0)
    assert lightcone.plan_cone(cone).peak == 8
    assert not lightcone.use_product_engine(cone)
    params = net.init(jax.random.key(4))
    xf = _random_factors(jax.random.key(5), 1)
    tf = _random_factors(jax.random.key(6), 1)
    # auto is product for the architectures; where it mixes both engines, check each of them too
    mixed = not all(lightcone.use_product_engine(c) for c in lightcone.light_cones(net))
    engines = ("auto", "product", "factored") if mixed else ("auto",)

    @jax.jit  # one compilation for the reference and every engine
    def evaluate(p):  # type: ignore[no-untyped-def]
        full = cost(net, p, _product(xf)[None], tf[None], "local")
        return full, [lightcone.local_cost_lightcone(net, p, xf, tf, engine=engine) for engine in engines]

    full, got = evaluate(params)
    for engine, value in zip(engines, got, strict=True):
        np.testing.assert_allclose(float(value), float(full), atol=1e-10, rtol=0, err_msg=engine)


def test_init_stacked_matches_net_init():
    net = _hand_made()
    key = jax.random.key(13)
    full = net.init(key)
    which = [(l, j) for l, layer in enumerate(net.layers) for j in range(len(layer))]
    for _, members, stacked in lightcone.init_stacked(net, key, which):
        for i, (l, j) in enumerate(members):
            mine = jax.tree.map(lambda x, i=i: x[i], stacked)
            for a, b in zip(jax.tree.leaves(mine), jax.tree.leaves(full[l][j]), strict=True):
                np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-14, rtol=0)


def test_chunk_size_splits_evenly():
    g = trainability.PointSpec("fig3b", "local", 16, 4).gradient()
    assert lightcone.chunk_size(g.net, g.angle, 1000) == 250
    assert lightcone.chunk_size(g.net, g.angle, 7) == 7
    assert lightcone.chunk_size(g.net, g.angle, 1000, memory_budget=2**20) == 16
    big = trainability.PointSpec("fig3b", "local", 256, 16).gradient()
    with pytest.raises(ValueError, match="memory budget"):
        lightcone.chunk_size(big.net, big.angle, 10)


def test_hand_made_cone_structure():
    net = _hand_made()
    # output 0 <- layer2 p1 reads in 1 <- layer1 p1 (writes 1; reads 0, 3) and the input-less p2 and p3 write 3
    c0 = lightcone.light_cone(net, 0)
    assert c0.start == 0
    assert c0.perceptrons[-1] == (1,)
    assert c0.perceptrons[1] == (1,)
    # output 2 of layer 3 is written by layer2 p2 from in 2, which layer1 p0.. writes? p0 writes 0: nobody writes 2
    c2 = lightcone.light_cone(net, 2)
    assert c2.start == 2 and c2.perceptrons == ((2,),)
    # in layer 0, perceptron 0 reads qubit 3 before perceptron 1 does: both are in the cone of output 1
    c1 = lightcone.light_cone(net, 1)
    assert 0 in c1.perceptrons[0] and 1 in c1.perceptrons[0]
    assert lightcone.sub_angle(c2, AngleIndex(0, 0, 0)) is None


def test_untouched_output_is_zero():
    net = Network([2, 2], [[Perceptron([0, 1], [0], HaarUnitary(3))]])
    c = lightcone.light_cone(net, 1)
    assert c.network is None
    params = net.init(jax.random.key(0))
    xf = _random_factors(jax.random.key(1), 2)
    tf = _random_factors(jax.random.key(2), 2)
    full = cost(net, params, _product(xf)[None], tf[None], "local")
    np.testing.assert_allclose(float(lightcone.local_cost_lightcone(net, params, xf, tf)), float(full), atol=1e-10)


def test_fig3b_cone_is_narrow():
    net = architectures.fig3b(64, 8)
    widths = [c.width for c in lightcone.light_cones(net)]
    assert max(widths) <= 2 * 8
    assert len({c.signature() for c in lightcone.light_cones(net)}) < 24  # the bulk shares structure


# fig3b n11: a joint cone of 7 of the 11 outputs, in chunks of 1; fig3a: one chunk of 6 (a vmap over the keys,
# as in test_gradient_fn_equals_full_simulation for the fig3b joint cones)
@pytest.mark.parametrize(("arch", "n", "layers"), [("fig3b", 11, 6), ("fig3a", 5, 2)])
def test_sampler_equals_trainability(arch, n, layers):
    spec = trainability.PointSpec(arch, "local", n, layers)
    ref = trainability.sample_gradients(spec, 6, seed=3, engine="full")
    assert trainability.pick_engine(spec.gradient()) == "lightcone"
    got = trainability.sample_gradients(spec, 6, seed=3, memory_budget=2**19, engine="lightcone")
    np.testing.assert_allclose(got, ref, atol=1e-10, rtol=0)


def test_rejects_global_cost():
    with pytest.raises(ValueError, match="does not evaluate the global cost"):
        trainability.sampler(trainability.PointSpec("fig3b", "global", 4, 2).gradient(), 4, engine="lightcone")


def test_init_perceptrons_matches_net_init():
    net = architectures.fig3b(5, 3)
    key = jax.random.key(11)
    full = net.init(key)
    part = lightcone.init_perceptrons(net, key, [(0, 0), (2, 3)])
    for (l, j), p in part.items():
        for a, b in zip(jax.tree.leaves(p), jax.tree.leaves(full[l][j]), strict=True):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert gates.SWAP.shape == (4, 4)
