"""Independent components (dqnn.sim.components) against the full simulator and the trainability engine."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dqnn
from dqnn.gradients import grad_autodiff
from dqnn.model import states
from dqnn.model.angles import AngleIndex
from dqnn.model.families import HaarUnitary, fig3a_perceptron
from dqnn.model.network import Network, NetworkParams, Perceptron
from dqnn.presets import architectures
from dqnn.sim import components
from dqnn.trainability import sampling as trainability
from dqnn.trainability.sampling import PointSpec


def _split_network() -> Network:
    """Widths [4, 4, 3]: two interleaved parts, one traced out early, one starting at layer 1, one |0> output."""
    h2, h3 = HaarUnitary(2), HaarUnitary(3)
    layers = [
        [Perceptron([0], [1], h2), Perceptron([2, 3], [0], h3), Perceptron([1], [3], h2)],  # (1,3) dies in layer 1
        [Perceptron([1], [0], h2), Perceptron([0], [2], h2), Perceptron([2], [2], h2)],  # out 1 stays |0>
    ]
    return Network([4, 4, 3], layers)


def _mixed_network() -> Network:
    """Widths [7, 7, 7]: three identical Fig. 3a chains (qubits 0-2), one of them with a distinct but equal
    Haar family, a two-qubit part (3, 4), a part starting at layer 1 (qubit 5) and an unwritten output 6."""
    p, h2, h2b, h3 = fig3a_perceptron(), HaarUnitary(2), HaarUnitary(2), HaarUnitary(3)
    layers = [
        [Perceptron([q], [q], p) for q in range(3)] + [Perceptron([3, 4], [3], h3)],
        [Perceptron([0], [0], h2), Perceptron([1], [1], h2), Perceptron([2], [2], h2b)]
        + [Perceptron([3], [3, 4], h3), Perceptron([5], [5], h2)],
    ]
    return Network([7, 7, 7], layers)


def _full_global(net: Network, params: NetworkParams, xf: jax.Array, tf: jax.Array) -> jax.Array:
    x, t = states.product_vector(xf)[None], states.product_vector(tf)[None]
    return dqnn.cost(net, params, x, t, "global")


def _random_factors(key: jax.Array, n: int) -> np.ndarray:
    v = np.asarray(jax.random.normal(key, (n, 2, 2))) @ np.array([1.0, 1j])
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _product(f: np.ndarray) -> np.ndarray:
    out = f[0]
    for x in f[1:]:
        out = np.kron(out, x)
    return out


def test_fig3a_splits_into_one_qubit_chains_and_fig3b_does_not() -> None:
    cs = components.components(architectures.fig3a(5, 3))
    assert [c.outputs for c in cs] == [(q,) for q in range(5)]
    assert all(c.width == 1 and c.network.depth == 3 for c in cs)
    assert len({c.signature() for c in cs}) == 1  # one vmapped evaluation
    assert not components.splits(architectures.fig3b(6, 4))


def test_components_of_a_hand_made_network() -> None:
    cs = components.components(_split_network())
    # part A: in 0 -> (l1, 1) -> out 0; part B: in 2, 3 -> (l1, 0) -> out 2, which also reads (l1, 2), a |0>
    # qubit; (l1, 3) is traced out with its part, and out 1 is written by nobody
    assert [(c.start, c.qubits) for c in cs] == [(0, ((0,), (1,), (0,))), (0, ((2, 3), (0, 2), (2,)))]


@pytest.mark.parametrize("seed", range(4))
def test_global_overlap_equals_full_simulation(seed: int) -> None:
    net = _split_network()
    k1, k2, k3 = jax.random.split(jax.random.key(seed), 3)
    params = net.init(k1)
    xf, tf = _random_factors(k2, 4), _random_factors(k3, 3)
    want = float(dqnn.cost(net, params, _product(xf)[None], _product(tf)[None], "global"))
    got = float(components.global_cost_components(net, params, xf, tf))
    assert abs(got - want) < 1e-12
    # stacked pairs average
    got2 = components.global_cost_components(net, params, np.stack([xf, xf]), np.stack([tf, tf]))
    assert abs(float(got2) - want) < 1e-12


def test_component_starting_after_the_input_reads_zeros() -> None:
    h2 = HaarUnitary(2)
    net = Network([2, 2, 2], [[Perceptron([0], [0], h2)], [Perceptron([0], [0], h2), Perceptron([1], [1], h2)]])
    cs = components.components(net)
    assert [c.start for c in cs] == [0, 1]
    params = net.init(jax.random.key(7))
    xf = _random_factors(jax.random.key(8), 2)
    tf = _random_factors(jax.random.key(9), 2)
    want = float(dqnn.cost(net, params, _product(xf)[None], _product(tf)[None], "global"))
    assert abs(float(components.global_cost_components(net, params, xf, tf)) - want) < 1e-12


def test_gradient_sampler_equals_full_engine() -> None:
    spec = PointSpec("fig3a", "global", 5, 2)
    keys = jax.random.split(jax.random.key(11), 16)
    g = spec.gradient()
    got = np.asarray(components.gradient_sampler(g.net, g.angle, *g.factors)(keys))
    want = np.asarray(trainability.gradient_sampler(g)(keys))
    np.testing.assert_allclose(got, want, atol=1e-14)
    assert np.std(want) > 1e-3  # a non-trivial comparison
    assert trainability.pick_engine(g, "autodiff") == "components"
    full = trainability.sample_gradients(spec, 40, seed=2, engine="full")
    np.testing.assert_allclose(trainability.sample_gradients(spec, 40, seed=2), full, atol=1e-14)


def test_identical_components_run_as_one_group_mixed_with_others() -> None:
    net = _mixed_network()
    cs = components.components(net)
    assert [c.outputs for c in cs] == [(0,), (1,), (2,), (3, 4), (5,)]
    assert len({c.signature() for c in cs}) == 3  # the chains (equal Haar families), the pair, the late part
    k1, k2, k3 = jax.random.split(jax.random.key(5), 3)
    params = net.init(k1)
    xf, tf = jnp.asarray(_random_factors(k2, 7)), jnp.asarray(_random_factors(k3, 7))
    want = float(_full_global(net, params, xf, tf))
    assert abs(float(components.global_cost_components(net, params, xf, tf)) - want) < 1e-12
    jitted = jax.jit(lambda p: components.global_cost_components(net, p, xf, tf, cs))
    assert abs(float(jitted(params)) - want) < 1e-12


def test_derivatives_match_the_full_simulator() -> None:
    """One differentiated component (an angle), two (a JVP), all (``jax.grad``) and the target factors."""
    net = _mixed_network()
    cs = components.components(net)
    k1, k2, k3, k4 = jax.random.split(jax.random.key(6), 4)
    params = net.init(k1)
    xf, tf = jnp.asarray(_random_factors(k2, 7)), jnp.asarray(_random_factors(k3, 7))

    def mine(p: NetworkParams, t: jax.Array = tf) -> jax.Array:
        return components.global_cost_components(net, p, xf, t, cs)

    def full(p: NetworkParams, t: jax.Array = tf) -> jax.Array:
        return _full_global(net, p, xf, t)

    for idx in (AngleIndex(0, 0, 0), AngleIndex(0, 2, 0)):
        want = float(jax.jit(lambda p, idx=idx: grad_autodiff(full, p, idx))(params))
        got = float(jax.jit(lambda p, idx=idx: grad_autodiff(mine, p, idx))(params))
        assert abs(got - want) < 1e-12 and abs(want) > 1e-4
    tangent = jax.tree.map(jnp.zeros_like, params)
    tangent = ((*tangent[0][:2], {"theta": jnp.ones(1), "haar": ()}, *tangent[0][3:]), tangent[1])
    tangent = (({"theta": jnp.ones(1), "haar": ()}, *tangent[0][1:]), tangent[1])
    # jitted: op-by-op dispatch would compile each primitive on its own (most of this test's time)
    _, want = jax.jit(lambda p: jax.jvp(full, (p,), (tangent,)))(params)
    _, got = jax.jit(lambda p: jax.jvp(mine, (p,), (tangent,)))(params)
    assert abs(float(got) - float(want)) < 1e-12
    gw, gg = jax.jit(jax.grad(full))(params), jax.jit(jax.grad(mine))(params)
    for a, b in zip(jax.tree.leaves(gw), jax.tree.leaves(gg), strict=True):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), atol=1e-12)
    dt = jnp.asarray(_random_factors(k4, 7))
    _, want = jax.jit(lambda t: jax.jvp(lambda t: full(params, t), (t,), (dt,)))(tf)
    _, got = jax.jit(lambda t: jax.jvp(lambda t: mine(params, t), (t,), (dt,)))(tf)
    assert abs(float(got) - float(want)) < 1e-12


@pytest.mark.parametrize("target", ["zeros", "shared", "traced"])
def test_known_shared_targets_give_the_same_numbers(target: str) -> None:
    """|0...0> and a shared dense factor are constants (zeros skipped); a traced target is data."""
    net = _mixed_network()
    k1, k2, k3 = jax.random.split(jax.random.key(8), 3)
    params = net.init(k1)
    xf = jnp.asarray(_random_factors(k2, 7))
    one = _random_factors(k3, 1)[0] if target == "shared" else np.array([1.0, 0.0])
    tf = np.tile(one, (7, 1))
    idx = AngleIndex(0, 1, 0)
    want = float(_full_global(net, params, xf, jnp.asarray(tf)))
    want_grad = float(grad_autodiff(lambda p: _full_global(net, p, xf, jnp.asarray(tf)), params, idx))

    def mine(p: NetworkParams, t: jax.Array | np.ndarray) -> jax.Array:
        return components.global_cost_components(net, p, xf, t)

    if target == "traced":
        got = float(jax.jit(mine)(params, tf))
        got_grad = float(jax.jit(lambda p, t: grad_autodiff(lambda q: mine(q, t), p, idx))(params, tf))
    else:
        got = float(jax.jit(lambda p: mine(p, tf))(params))
        got_grad = float(jax.jit(lambda p: grad_autodiff(lambda q: mine(q, tf), p, idx))(params))
    assert abs(got - want) < 1e-12 and abs(got_grad - want_grad) < 1e-12
    assert abs(want_grad) > 1e-4


def test_bad_input_is_named() -> None:
    net = architectures.fig3a(3)
    params = net.init(jax.random.key(0))
    with pytest.raises(ValueError, match="input factors"):
        components.global_overlap(net, params, np.ones((2, 2)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="global_cost_components: need input factors"):
        components.global_cost_components(net, params, np.ones((2, 3, 2)), np.ones((3, 3, 2)))
    with pytest.raises(ValueError, match="does not evaluate the local cost"):
        trainability.sampler(PointSpec("fig3a", "local", 3).gradient(), 4, engine="components")
    with pytest.raises(ValueError, match="single-qubit factors"):
        components.gradient_sampler(net, AngleIndex(0, 0, 0), np.ones((3, 2)), np.ones((2, 2)))
    assert states.zero_state(1).shape == (2,)
