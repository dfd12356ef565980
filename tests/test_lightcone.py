"""Light-cone geometry (dqnn.sim.lightcone): which perceptrons each local term sees, renumbered."""

from __future__ import annotations

import pytest

from cone_cases import hand_made, swap_tail
from dqnn.model.angles import AngleIndex
from dqnn.presets import architectures
from dqnn.sim import lightcone


def test_influenced_outputs_is_a_superset():
    for net in (hand_made(), architectures.fig3b(9, 5), swap_tail()):
        for l, layer in enumerate(net.layers):
            for j in range(len(layer)):
                exact = {o for o in range(net.num_outputs) if lightcone.light_cone(net, o).contains(l, j)}
                assert exact <= set(lightcone.influenced_outputs(net, l, j))


def test_hand_made_cone_structure():
    net = hand_made()
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


def test_fig3b_cone_is_narrow():
    net = architectures.fig3b(64, 8)
    widths = [c.width for c in lightcone.light_cones(net)]
    assert max(widths) <= 2 * 8
    assert len({c.signature() for c in lightcone.light_cones(net)}) < 24  # the bulk shares structure


def test_old_path_holds_the_split_modules():
    """``dqnn.lightcone`` (deprecated) still offers every name: geometry, cone engine and cone gradients."""
    from dqnn import _compat
    from dqnn.sim import cone_engine, cone_gradients

    with pytest.warns(DeprecationWarning, match=r"dqnn.sim.lightcone, dqnn.sim.cone_engine, dqnn.sim.cone_gradients"):
        old = _compat.load("lightcone")
    assert old.light_cone is lightcone.light_cone
    assert old.local_cost_lightcone is cone_engine.local_cost_lightcone
    assert old.gradient_sampler is cone_gradients.gradient_sampler
    assert old.chunk_size is cone_gradients.chunk_size  # not dqnn.sim.chunks.chunk_size, which it imports
    assert old.sub_params is lightcone.sub_params and not hasattr(old, "jnp")
