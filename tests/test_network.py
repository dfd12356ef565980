"""Validation of networks and perceptrons: clear errors naming the culprit."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from dqnn.model import families, gates, states
from dqnn.model.network import Network, Perceptron, num_angles
from dqnn.presets import architectures
from dqnn.sim.simulate import output_state


def test_non_unitary_matrix_is_named():
    bad = np.eye(4) * 1.1
    with pytest.raises(ValueError, match=r"Perceptron\(inputs=\(0,\), outputs=\(0,\)\).*not unitary"):
        Perceptron([0], [0], bad)


def test_wrong_size_matrix_is_named():
    with pytest.raises(ValueError, match=r"2 qubit\(s\) must be 4x4"):
        Perceptron([0], [0], np.eye(8))


def test_family_of_wrong_size():
    with pytest.raises(ValueError, match="acts on 3 qubit"):
        Perceptron([0], [0], families.HaarUnitary(3))


def test_repeated_and_negative_qubits():
    with pytest.raises(ValueError, match="repeat a qubit"):
        Perceptron([0, 0], [1], families.HaarUnitary(3))
    with pytest.raises(ValueError, match="negative"):
        Perceptron([-1], [0], families.HaarUnitary(2))
    with pytest.raises(ValueError, match="at least one qubit"):
        Perceptron([0], [], families.HaarUnitary(1))


def test_qubit_out_of_range_names_layer_and_perceptron():
    with pytest.raises(ValueError, match=r"layers\[0\]\[1\] input qubit 2 is out of range for layer 0 of width 2"):
        Network(
            [2, 1], [[Perceptron([0], [0], families.HaarUnitary(2)), Perceptron([2], [0], families.HaarUnitary(2))]]
        )
    with pytest.raises(ValueError, match=r"output qubit 1 is out of range for layer 1"):
        Network([2, 1], [[Perceptron([0], [1], families.HaarUnitary(2))]])


def test_strict_wiring_reports_untouched_outputs():
    layer = [[Perceptron([0], [0], families.HaarUnitary(2))]]
    Network([1, 2], layer)  # allowed: qubit 1 stays |0>
    with pytest.raises(ValueError, match=r"strict wiring.*\[1\] of layer 1"):
        Network([1, 2], layer, strict=True)


def test_layer_count_and_widths():
    with pytest.raises(ValueError, match="need 2 layers"):
        Network([1, 1, 1], [[Perceptron([0], [0], families.HaarUnitary(2))]])
    with pytest.raises(ValueError, match=">= 1"):
        Network([1, 0], [[]])


def test_parameterised_network_needs_params():
    net = architectures.fig3a(2)
    with pytest.raises(ValueError, match="parameterised"):
        output_state(net, None, states.zero_state(2))


def test_bad_input_states_are_named():
    net = architectures.fig3a(2)
    params = net.init(jax.random.key(0))
    with pytest.raises(ValueError, match="length 4, got 8"):
        output_state(net, params, np.ones(8) / np.sqrt(8))
    with pytest.raises(ValueError, match="not normalised"):
        output_state(net, params, np.array([1.0, 1.0, 0, 0]))
    with pytest.raises(ValueError, match="not Hermitian"):
        output_state(net, params, np.array([[0.5, 0.1, 0, 0], [0.3, 0.5, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]))
    with pytest.raises(ValueError, match="trace one"):
        output_state(net, params, np.eye(4) / 2)
    with pytest.raises(ValueError, match="not positive"):
        output_state(net, params, np.diag([1.5, -0.5, 0, 0]))
    with pytest.raises(ValueError, match="4x4"):
        output_state(net, params, np.eye(2) / 2)


def test_init_is_deterministic_and_counts_angles():
    net = architectures.fig3b(4, 2)
    a = net.init(jax.random.key(5))
    b = net.init(jax.random.key(5))
    c = net.init(jax.random.key(6))
    la, lb, lc = (jax.tree_util.tree_leaves(x) for x in (a, b, c))
    assert all(np.array_equal(x, y) for x, y in zip(la, lb, strict=True))
    assert not all(np.array_equal(x, y) for x, y in zip(la, lc, strict=True))
    assert num_angles(net) == 3  # 2 W blocks in layer 0, 1 in layer 1
    assert gates.unitarity_error(a[0][0]["haar"][0]) < 1e-12
