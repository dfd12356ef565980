"""Sub-networks (dqnn.sim.subnet): the renumbering and the one structure signature of light cones and components."""

from __future__ import annotations

import jax

from dqnn.model.angles import AngleIndex
from dqnn.model.families import HaarUnitary, fig3a_perceptron
from dqnn.model.network import Network, Perceptron
from dqnn.model.states import ZERO_QUBIT
from dqnn.sim import components, lightcone
from dqnn.sim.subnet import SubNetwork, renumber, sub_angle, sub_params


def _net() -> Network:
    f = fig3a_perceptron()
    layer0 = [Perceptron([0], [1], f), Perceptron([2], [2], f), Perceptron([], [0], HaarUnitary(1))]
    layer1 = [Perceptron([1, 2], [0], HaarUnitary(3)), Perceptron([0], [2], f)]
    return Network([3, 3, 3], [layer0, layer1])


def test_renumber_keeps_the_chosen_perceptrons_on_compact_qubits():
    net = _net()
    sub, qubits = renumber(net, 0, [[0, 1], [0]], outputs=[1])
    assert qubits == ((0, 2), (1, 2), (0, 1))  # output 1 is kept though no kept perceptron writes it
    assert sub.widths == (2, 2, 2)
    assert [(p.inputs, p.outputs) for p in sub.layers[0]] == [((0,), (0,)), ((1,), (1,))]
    assert [(p.inputs, p.outputs) for p in sub.layers[1]] == [((0, 1), (0,))]
    assert sub.layers[0][0].unitary is net.layers[0][0].unitary
    late, late_qubits = renumber(net, 1, [[1]])  # reads in 0, which the perceptron without inputs wrote
    s = SubNetwork(late, 1, late_qubits, ((1,),))
    assert not s.reads_input and s.input_qubits == (ZERO_QUBIT,)
    lone, lone_qubits = renumber(net, 0, [[2], [1]])  # reads nothing: a dummy |0> input
    assert lone_qubits == ((ZERO_QUBIT,), (0,), (2,)) and lone.widths == (1, 1, 1)


def test_params_and_angles_carry_over():
    net = _net()
    sub, qubits = renumber(net, 0, [[1], [1]])
    s = SubNetwork(sub, 0, qubits, ((1,), (1,)))
    params = net.init(jax.random.key(0))
    picked = sub_params(s, params)
    assert len(picked) == 2 and picked[0][0] is params[0][1] and picked[1][0] is params[1][1]
    assert sub_angle(s, AngleIndex(1, 1, 0)) == AngleIndex(1, 0, 0)
    assert sub_angle(s, AngleIndex(0, 0, 0)) is None
    assert s.contains(0, 1) and not s.contains(1, 0) and s.width == 2


def test_one_signature_for_cones_and_components():
    """Equal Haar families are interchangeable (family_key) in light cones as in components."""
    net = Network([2, 2], [[Perceptron([0], [0], HaarUnitary(2)), Perceptron([1], [1], HaarUnitary(2))]])
    c0, c1 = lightcone.light_cones(net)
    assert c0.signature() == c1.signature()
    k0, k1 = components.components(net)
    assert k0.signature() == k1.signature()
    assert SubNetwork.signature(c0) == k0.signature()  # the same sub-network, up to the cone's output positions
    empty = lightcone.light_cone(Network([1, 2], [[Perceptron([0], [0], HaarUnitary(2))]]), 1)
    assert empty.network is None and empty.signature() == ("empty", (0,))
