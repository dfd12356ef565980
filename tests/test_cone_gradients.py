"""Cone gradients (dqnn.sim.cone_gradients): one angle's gradient from its light cones equals the full simulation."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cone_cases import NAMES, case_net, full_reference, hand_made, product_input, random_factors
from dqnn.model import gates
from dqnn.model.angles import AngleIndex, angle_indices
from dqnn.model.families import Circuit, Gate, Rot
from dqnn.model.network import Network, Perceptron
from dqnn.presets import architectures
from dqnn.sim import cone_gradients, lightcone
from dqnn.trainability import sampling as trainability


# hand-made-widths has no angle; fig3b-n4-L3 runs the same joint-cone product path as fig3b-n6-L4 (whose cones are
# partly narrower than the network)
@pytest.mark.parametrize("name", [n for n in NAMES if angle_indices(case_net(n)) and n != "fig3b-n4-L3"])
def test_gradient_fn_equals_full_simulation(name):
    """Joint cones, per-family initialisation, summed terms with target rotations: all exact."""
    net = case_net(name)
    kx, kt = jax.random.split(jax.random.key(21))
    xf = random_factors(kx, net.num_inputs)
    tf = random_factors(kt, net.num_outputs)
    keys = jax.random.split(jax.random.key(5), 2)
    pair = (jnp.stack([product_input(xf)] * 2), jnp.stack([tf] * 2))  # the shapes of the test above: no recompilation
    refs = [full_reference(name)(net.init(k), *pair)[1][0] for k in keys]
    every = angle_indices(net)
    chosen = list(dict.fromkeys([every[0], every[len(every) // 2], every[-1]]))
    fns = [jax.vmap(cone_gradients.local_gradient_fn(net, idx, xf, tf)) for idx in chosen]
    at = jax.vmap(cone_gradients.local_gradient_at(net, chosen[-1], xf, tf))  # the same, at given parameters
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
    xf = random_factors(jax.random.key(1), 2)
    tf = random_factors(jax.random.key(2), 1)
    got = cone_gradients.local_gradient_fn(net, idx, xf, tf)(jax.random.key(3))
    assert float(got) == 0.0


def test_init_stacked_matches_net_init():
    net = hand_made()
    key = jax.random.key(13)
    full = net.init(key)
    which = [(l, j) for l, layer in enumerate(net.layers) for j in range(len(layer))]
    for _, members, stacked in cone_gradients.init_stacked(net, key, which):
        for i, (l, j) in enumerate(members):
            mine = jax.tree.map(lambda x, i=i: x[i], stacked)
            for a, b in zip(jax.tree.leaves(mine), jax.tree.leaves(full[l][j]), strict=True):
                np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-14, rtol=0)


def test_chunk_size_splits_evenly():
    g = trainability.PointSpec("fig3b", "local", 16, 4).gradient()
    assert cone_gradients.chunk_size(g.net, g.angle, 1000) == 250
    assert cone_gradients.chunk_size(g.net, g.angle, 7) == 7
    assert cone_gradients.chunk_size(g.net, g.angle, 1000, memory_budget=2**20) == 16
    big = trainability.PointSpec("fig3b", "local", 256, 16).gradient()
    with pytest.raises(ValueError, match="memory budget"):
        cone_gradients.chunk_size(big.net, big.angle, 10)


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
    part = cone_gradients.init_perceptrons(net, key, [(0, 0), (2, 3)])
    for (l, j), p in part.items():
        for a, b in zip(jax.tree.leaves(p), jax.tree.leaves(full[l][j]), strict=True):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert gates.SWAP.shape == (4, 4)
