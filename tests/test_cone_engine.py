"""The cone engine (dqnn.sim.cone_engine): local costs from light cones equal the full simulation."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cone_cases import NAMES, case_net, full_reference, product_input, random_factors, swap_tail
from dqnn.costs import cost
from dqnn.model.angles import AngleIndex, angle_indices
from dqnn.model.families import HaarUnitary
from dqnn.model.network import Network, Perceptron
from dqnn.presets import architectures
from dqnn.sim import cone_engine, cone_gradients, lightcone


@pytest.mark.parametrize("name", NAMES)
def test_cost_and_gradient_equal_full_simulation(name):
    net = case_net(name)
    key = jax.random.key(7)
    params = net.init(key)
    kx, kt = jax.random.split(jax.random.fold_in(key, 1))
    xf = random_factors(kx, net.num_inputs)
    tf = random_factors(kt, net.num_outputs)
    xs = jnp.stack([xf, random_factors(jax.random.key(3), net.num_inputs)])  # stacked pairs (Eq. 2)
    ts = jnp.stack([tf, random_factors(jax.random.key(4), net.num_outputs)])
    costs, grads = full_reference(name)(params, jax.vmap(product_input)(xs), ts)
    full, full2 = float(costs[0]), float(jnp.mean(costs))  # pair 0 is (xf, tf)
    # auto is product for the architectures; where it mixes both engines, check each of them too
    cones = lightcone.light_cones(net)
    mixed = not all(cone_engine.use_product_engine(c) for c in cones)
    engines = ("auto", "product", "factored") if mixed else ("auto",)
    every = angle_indices(net)

    def simulators(engine):  # type: ignore[no-untyped-def]
        """Which simulator runs each cone that holds an angle (product: True) under ``engine``."""
        return tuple(
            engine == "product" or (engine == "auto" and cone_engine.use_product_engine(c))
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
                return cone_engine.local_cost_lightcone(net, q, xf, tf, engine=engine)

            value, grad = jax.value_and_grad(f)(p) if grad_engine[engine] == engine else (f(p), None)
            out[engine] = (value, grad, cone_engine.local_cost_lightcone(net, p, xs, ts, engine=engine))
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


@pytest.mark.parametrize("name", [*NAMES, "swap-tail"])
def test_joint_cone_total_equals_sum_of_terms(name):
    net = case_net(name)
    params = net.init(jax.random.key(2))
    kx, kt = jax.random.split(jax.random.key(9))
    xf = random_factors(kx, net.num_inputs)
    tf = random_factors(kt, net.num_outputs)
    joint = lightcone.light_cone(net, list(range(net.num_outputs)))
    assert joint.network is not None  # in every case some perceptron writes an output
    plan = cone_engine.plan_cone(joint)
    t0 = np.tile(np.array([1.0, 0.0], dtype=np.complex128), (net.num_outputs, 1))  # concrete |0> targets

    @jax.jit  # one compilation: faster than evaluating these programs op by op
    def evaluate(p):  # type: ignore[no-untyped-def]
        each = cone_engine.local_overlaps(net, p, xf, tf)
        via_joint = cone_engine.local_overlaps(net, p, xf, tf, cones=[joint])
        engines = [cone_engine.cone_overlaps(joint, p, xf, tf, engine=e) for e in ("product", "factored")]
        mats = cone_engine._sub_matrices(joint, lightcone.sub_params(joint, p))
        xs = lightcone.cone_factors(joint, xf)
        total = cone_engine.run_plan(plan, mats, xs, tf[jnp.asarray(joint.outputs)], total=True)
        # |0> targets (concrete, not traced) take the path without rotations
        total0 = cone_engine.run_plan(plan, mats, xs, t0[list(joint.outputs)], total=True)
        return each, via_joint, engines, (total, total0, cone_engine.local_overlaps(net, p, xf, t0))

    each, via_joint, engines, totals = evaluate(params)
    np.testing.assert_allclose(np.asarray(via_joint), np.asarray(each), atol=1e-12, rtol=0)
    for engine, got in zip(("product", "factored"), engines, strict=True):
        np.testing.assert_allclose(np.asarray(got), np.asarray(each)[list(joint.outputs)], atol=1e-12, err_msg=engine)
    total, total0, each0 = totals
    np.testing.assert_allclose(float(total), float(jnp.sum(each)), atol=1e-12, rtol=0)
    np.testing.assert_allclose(float(total0), float(jnp.sum(each0)), atol=1e-12)


def test_swap_tail_output_is_never_stored():
    net = swap_tail()
    plan = cone_engine.plan_cone(lightcone.light_cone(net, [0, 1, 2]))
    assert plan.outputs[2] == (None, 2)  # input factor 2, moved by SWAPs only
    assert plan.finals[2] is None


def test_fig3b_gradient_terms_form_one_sweep():
    """The boundary cones of Fig. 3b merge into one joint cone, swept in qubit order: about L full-width gates."""
    net = architectures.fig3b(64, 8)
    idx = AngleIndex(0, 0, 0)
    terms = lightcone.gradient_terms(net, idx)
    assert [c.output for c in terms] == list(range(9))
    assert lightcone.influenced_outputs(net, 0, 0) == list(range(9))
    groups = cone_gradients.gradient_groups(net, idx)
    assert [o for g in groups for o in g.outputs] == list(range(9))
    assert len(groups) == 1
    plan = cone_engine.plan_cone(groups[0])
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
    network_order = cone_engine._schedule(
        cone_engine._cone_ops(groups[0]),
        {q: q for q in range(groups[0].network.widths[0])},
        [sum(groups[0].network.widths[:-1]) + p for p in groups[0].positions],
        "network",
    )
    assert plan.cost < network_order.cost / 3


def test_dead_qubits_fall_back_to_the_factored_simulator():
    """A chain of Haar perceptrons leaves every input entangled: the product engine would grow by a qubit a layer."""
    net = Network([1] * 8, [[Perceptron([0], [0], HaarUnitary(2))] for _ in range(7)])
    cone = lightcone.light_cone(net, 0)
    assert cone_engine.plan_cone(cone).peak == 8
    assert not cone_engine.use_product_engine(cone)
    params = net.init(jax.random.key(4))
    xf = random_factors(jax.random.key(5), 1)
    tf = random_factors(jax.random.key(6), 1)
    # auto is product for the architectures; where it mixes both engines, check each of them too
    mixed = not all(cone_engine.use_product_engine(c) for c in lightcone.light_cones(net))
    engines = ("auto", "product", "factored") if mixed else ("auto",)

    @jax.jit  # one compilation for the reference and every engine
    def evaluate(p):  # type: ignore[no-untyped-def]
        full = cost(net, p, product_input(xf)[None], tf[None], "local")
        return full, [cone_engine.local_cost_lightcone(net, p, xf, tf, engine=engine) for engine in engines]

    full, got = evaluate(params)
    for engine, value in zip(engines, got, strict=True):
        np.testing.assert_allclose(float(value), float(full), atol=1e-10, rtol=0, err_msg=engine)


def test_untouched_output_is_zero():
    net = Network([2, 2], [[Perceptron([0, 1], [0], HaarUnitary(3))]])
    c = lightcone.light_cone(net, 1)
    assert c.network is None
    params = net.init(jax.random.key(0))
    xf = random_factors(jax.random.key(1), 2)
    tf = random_factors(jax.random.key(2), 2)
    full = cost(net, params, product_input(xf)[None], tf[None], "local")
    np.testing.assert_allclose(float(cone_engine.local_cost_lightcone(net, params, xf, tf)), float(full), atol=1e-10)
