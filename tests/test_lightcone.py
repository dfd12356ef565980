"""Light cones: local costs and their gradients equal the full simulation."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dqnn import architectures, gates, lightcone, states, trainability
from dqnn.cost import cost
from dqnn.families import Circuit, Gate, HaarUnitary, RandomUnitary, Rot
from dqnn.gradients import AngleIndex, angle_indices, grad_autodiff
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
    full = cost(net, params, _product(xf)[None], tf[None], "local")
    cone = lightcone.local_cost_lightcone(net, params, xf, tf)
    np.testing.assert_allclose(float(cone), float(full), atol=1e-10, rtol=0)

    def f_full(p):
        return cost(net, p, _product(xf)[None], tf[None], "local")

    def f_cone(p):
        return lightcone.local_cost_lightcone(net, p, xf, tf)

    for idx in angle_indices(net):
        g_full = float(grad_autodiff(f_full, params, idx))
        g_cone = float(grad_autodiff(f_cone, params, idx))
        np.testing.assert_allclose(g_cone, g_full, atol=1e-10, rtol=0, err_msg=str(idx))
    # stacked pairs (Eq. 2)
    xs = jnp.stack([xf, _random_factors(jax.random.key(3), net.num_inputs)])
    ts = jnp.stack([tf, _random_factors(jax.random.key(4), net.num_outputs)])
    full2 = cost(net, params, jax.vmap(_product)(xs), ts, "local")
    np.testing.assert_allclose(float(lightcone.local_cost_lightcone(net, params, xs, ts)), float(full2), atol=1e-10)


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


@pytest.mark.parametrize(("arch", "n", "layers"), [("fig3b", 6, 4), ("fig3a", 5, 2)])
def test_sampler_equals_trainability(arch, n, layers):
    spec = trainability.PointSpec(arch, "local", n, layers)
    ref = trainability.sample_gradients(spec, 6, seed=3, engine="full")
    got = lightcone.sample_gradients(spec, 6, seed=3, memory_budget=1)
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
