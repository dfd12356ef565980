"""Light cones: local costs and their gradients equal the full simulation."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dqnn import architectures, families, gates, lightcone, states, trainability
from dqnn.cost import cost
from dqnn.families import Circuit, Gate, HaarUnitary, RandomUnitary, Rot
from dqnn.gradients import AngleIndex, angle_indices
from dqnn.network import Network, Perceptron


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


CASES = [
    ("fig3b-n4-L3", lambda: architectures.fig3b(4, 3)),
    ("fig3b-n6-L4", lambda: architectures.fig3b(6, 4)),
    ("fig3b-n8-L2-rycz", lambda: architectures.fig3b(8, 2, w="ry-cz")),
    ("fig3a-n4-L2", lambda: architectures.fig3a(4, 2)),
    ("hand-made", _hand_made),
    ("hand-made-widths", lambda: Network([3, 2], [[Perceptron([2, 0], [1], HaarUnitary(3))]])),
]


@pytest.mark.parametrize(("name", "make"), CASES, ids=[c[0] for c in CASES])
def test_cost_and_gradient_equal_full_simulation(name, make):
    net = make()
    key = jax.random.key(7)
    params = net.init(key)
    kx, kt = jax.random.split(jax.random.fold_in(key, 1))
    xf = _random_factors(kx, net.num_inputs)
    tf = _random_factors(kt, net.num_outputs)
    xs = jnp.stack([xf, _random_factors(jax.random.key(3), net.num_inputs)])  # stacked pairs (Eq. 2)
    ts = jnp.stack([tf, _random_factors(jax.random.key(4), net.num_outputs)])

    def f_full(p):
        return cost(net, p, _product(xf)[None], tf[None], "local")

    full = float(jax.jit(f_full)(params))
    g_full = jax.jit(jax.grad(f_full))(params)
    full2 = float(jax.jit(lambda p: cost(net, p, jax.vmap(_product)(xs), ts, "local"))(params))
    # auto is product for the architectures; where it mixes both engines, check each of them too
    mixed = not all(lightcone.use_product_engine(c) for c in lightcone.light_cones(net))
    for engine in ("auto", "product", "factored") if mixed else ("auto",):

        def f_cone(p, engine=engine):
            return lightcone.local_cost_lightcone(net, p, xf, tf, engine=engine)

        np.testing.assert_allclose(float(jax.jit(f_cone)(params)), full, atol=1e-10, rtol=0, err_msg=engine)
        g_cone = jax.jit(jax.grad(f_cone))(params)
        for idx in angle_indices(net):
            a = float(g_cone[idx.layer][idx.perceptron]["theta"][idx.angle])
            b = float(g_full[idx.layer][idx.perceptron]["theta"][idx.angle])
            np.testing.assert_allclose(a, b, atol=1e-10, rtol=0, err_msg=f"{engine} {idx}")
        got2 = jax.jit(lambda p, engine=engine: lightcone.local_cost_lightcone(net, p, xs, ts, engine=engine))(params)
        np.testing.assert_allclose(float(got2), full2, atol=1e-10, err_msg=engine)


@pytest.mark.parametrize(("name", "make"), CASES, ids=[c[0] for c in CASES])
def test_gradient_fn_equals_full_simulation(name, make):
    """Joint cones, per-family initialisation, summed terms with target rotations: all exact."""
    net = make()
    kx, kt = jax.random.split(jax.random.key(21))
    xf = _random_factors(kx, net.num_inputs)
    tf = _random_factors(kt, net.num_outputs)
    keys = jax.random.split(jax.random.key(5), 2)

    def f_full(p):
        return cost(net, p, _product(xf)[None], tf[None], "local")

    grad_full = jax.jit(jax.grad(f_full))
    refs = [grad_full(net.init(k)) for k in keys]
    every = angle_indices(net)
    if not every:
        pytest.skip("no circuit angle")
    for idx in dict.fromkeys([every[0], every[len(every) // 2], every[-1]]):
        fn = jax.jit(jax.vmap(lightcone.local_gradient_fn(net, idx, xf, tf)))
        got = np.asarray(fn(keys))
        ref = [float(g[idx.layer][idx.perceptron]["theta"][idx.angle]) for g in refs]
        np.testing.assert_allclose(got, ref, atol=1e-10, rtol=0, err_msg=str(idx))


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


def _swap_tail() -> Network:
    """Output 2 is input 2 moved by SWAPs only, so the engine never stores it."""
    v1 = families.fig3b_v1()
    v2 = families.fig3b_v2()
    layer0 = [Perceptron([0, 1], [0], v1), Perceptron([1], [1], v2), Perceptron([2], [2], v2)]
    layer1 = [Perceptron([0, 1], [0], v1), Perceptron([1], [1], v2), Perceptron([2], [2], v2)]
    return Network([3, 3, 3], [layer0, layer1])


@pytest.mark.parametrize(
    ("name", "make"),
    [*CASES, ("swap-tail", _swap_tail)],
    ids=[c[0] for c in CASES] + ["swap-tail"],
)
def test_joint_cone_total_equals_sum_of_terms(name, make):
    net = make()
    params = net.init(jax.random.key(2))
    kx, kt = jax.random.split(jax.random.key(9))
    xf = _random_factors(kx, net.num_inputs)
    tf = _random_factors(kt, net.num_outputs)
    joint = lightcone.light_cone(net, list(range(net.num_outputs)))
    each = lightcone.local_overlaps(net, params, xf, tf)
    via_joint = lightcone.local_overlaps(net, params, xf, tf, cones=[joint])
    np.testing.assert_allclose(np.asarray(via_joint), np.asarray(each), atol=1e-12, rtol=0)
    for engine in ("product", "factored"):
        got = lightcone.cone_overlaps(joint, params, xf, tf, engine=engine)
        np.testing.assert_allclose(np.asarray(got), np.asarray(each)[list(joint.outputs)], atol=1e-12, err_msg=engine)
    if joint.network is None:
        return
    plan = lightcone.plan_cone(joint)
    mats = lightcone._sub_matrices(joint, lightcone.sub_params(joint, params))
    xs = lightcone.cone_factors(joint, xf)
    total = lightcone.run_plan(plan, mats, xs, tf[jnp.asarray(joint.outputs)], total=True)
    np.testing.assert_allclose(float(total), float(jnp.sum(each)), atol=1e-12, rtol=0)
    # |0> targets take the path without rotations
    t0 = jnp.tile(jnp.array([1.0, 0.0], dtype=jnp.complex128), (net.num_outputs, 1))
    total0 = lightcone.run_plan(plan, mats, xs, np.asarray(t0)[list(joint.outputs)], total=True)
    np.testing.assert_allclose(float(total0), float(jnp.sum(lightcone.local_overlaps(net, params, xf, t0))), atol=1e-12)


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
    full = cost(net, params, _product(xf)[None], tf[None], "local")
    # auto is product for the architectures; where it mixes both engines, check each of them too
    mixed = not all(lightcone.use_product_engine(c) for c in lightcone.light_cones(net))
    for engine in ("auto", "product", "factored") if mixed else ("auto",):
        got = lightcone.local_cost_lightcone(net, params, xf, tf, engine=engine)
        np.testing.assert_allclose(float(got), float(full), atol=1e-10, rtol=0)


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
    spec = trainability.PointSpec("fig3b", "local", 16, 4)
    assert lightcone.chunk_size(spec, 1000) == 250
    assert lightcone.chunk_size(spec, 7) == 7
    assert lightcone.chunk_size(spec, 1000, memory_budget=2**20) == 16
    with pytest.raises(ValueError, match="memory budget"):
        lightcone.chunk_size(trainability.PointSpec("fig3b", "local", 256, 16), 10)


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


@pytest.mark.parametrize(("arch", "n", "layers"), [("fig3b", 6, 4), ("fig3b", 11, 6), ("fig3a", 5, 2)])
def test_sampler_equals_trainability(arch, n, layers):
    spec = trainability.PointSpec(arch, "local", n, layers)
    ref = trainability.sample_gradients(spec, 6, seed=3, engine="full")
    got = lightcone.sample_gradients(spec, 6, seed=3, memory_budget=2**19)  # fig3b n11: chunks of 1
    np.testing.assert_allclose(got, ref, atol=1e-10, rtol=0)


def test_rejects_global_cost():
    with pytest.raises(ValueError, match="local"):
        lightcone.gradient_sampler(trainability.PointSpec("fig3b", "global", 4, 2))


def test_init_perceptrons_matches_net_init():
    net = architectures.fig3b(5, 3)
    key = jax.random.key(11)
    full = net.init(key)
    part = lightcone.init_perceptrons(net, key, [(0, 0), (2, 3)])
    for (l, j), p in part.items():
        for a, b in zip(jax.tree.leaves(p), jax.tree.leaves(full[l][j]), strict=True):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert gates.SWAP.shape == (4, 4)
