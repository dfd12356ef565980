"""Issue 18's checks: user networks lower their cost on their own data; label training classifies held-out states."""

from __future__ import annotations

import jax
import numpy as np

from dqnn import datasets
from dqnn.model import gates, states
from dqnn.model.families import Circuit, Gate, HaarUnitary, Rot
from dqnn.model.network import Network, Perceptron
from dqnn.training import PMMConfig, fit


def test_k2_network_learns_cnot():
    """[2, 2, 2] with k = 2 perceptrons (each acts on both inputs and both outputs), global cost, PMM."""
    net = Network(
        [2, 2, 2], [[Perceptron([0, 1], [0, 1], HaarUnitary(4))], [Perceptron([0, 1], [0, 1], HaarUnitary(4))]]
    )
    x = np.asarray(datasets.haar_states(jax.random.key(1), 2, 6))
    t = x @ np.asarray(gates.CNOT).T
    res = fit(net, (x, t), pmm_config=PMMConfig(eps=0.2), steps=40, plot=False)
    assert res.metrics[-1]["cost"] < 0.5 * res.metrics[0]["cost"]


def test_local_perceptrons_lower_a_local_cost():
    """A [3, 3] network of local (two-input) perceptrons on a local cost with product targets."""
    layer = [Perceptron([q, (q + 1) % 3], [q], HaarUnitary(3)) for q in range(3)]
    net = Network([3, 3], [layer])
    x = np.stack([np.asarray(states.random_product_state(jax.random.key(i), 3)[0]) for i in range(5)])
    t = np.stack([np.asarray(states.random_product_state(jax.random.key(50 + i), 3)[1]) for i in range(5)])
    res = fit(net, (x, t), cost="local", pmm_config=PMMConfig(eps=0.2), steps=30, plot=False)
    assert res.metrics[-1]["cost"] < res.metrics[0]["cost"] - 0.05


def test_mixed_network_lowers_its_cost():
    """Haar perceptrons (PMM) feeding a circuit perceptron (optax Adam on its angles), trained together."""
    circ = Circuit(
        3, [Rot("Y", (0,)), Rot("Z", (1,)), Gate("CNOT", (0, 2)), Rot("Y", (2,)), Gate("CZ", (1, 2)), Rot("X", (2,))]
    )
    net = Network(
        [2, 2, 1],
        [
            [Perceptron([0, 1], [0], HaarUnitary(3)), Perceptron([0, 1], [1], HaarUnitary(3))],
            [Perceptron([0, 1], [0], circ)],
        ],
    )
    x = np.asarray(datasets.haar_states(jax.random.key(3), 2, 5))
    t = np.asarray(datasets.haar_states(jax.random.key(4), 1, 5))
    res = fit(
        net, (x, t), method="auto", optimizer="adam", lr=0.05, pmm_config=PMMConfig(eps=0.2), steps=30, plot=False
    )
    assert res.metrics[-1]["cost"] < res.metrics[0]["cost"] - 0.1
    assert res.summary["config"]["train_matrices"] and res.summary["config"]["train_angles"]


def test_label_training_classifies_held_out_states():
    split, _ = datasets.classification_data(jax.random.key(0), 2, 24, 40, margin=0.5)
    net = Network([2, 1], [[Perceptron([0, 1], [0], HaarUnitary(3))]])
    res = fit(net, split, cost="label", pmm_config=PMMConfig(eps=0.3), steps=40, plot=False)
    first, last = res.metrics[0], res.metrics[-1]
    assert last["val_accuracy"] > 0.9 and last["accuracy"] > 0.9
    assert last["cost"] < first["cost"]
    assert 0.0 <= first["val_accuracy"] <= 1.0
