"""Gradient training of circuit angles: parameter shift vs autodiff, Adam/SGD learning."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dqnn import datasets, gradients
from dqnn.model.families import Circuit, Rot
from dqnn.model.network import Network, Perceptron
from dqnn.training import gradient as gr
from dqnn.training.loop import TrainConfig, train
from dqnn.training.objectives import objective


@pytest.fixture(scope="module")
def small():
    net = gr.circuit_network([1, 2, 1], depth=1)
    params = net.init(jax.random.key(0))
    _, d = datasets.unitary_data(jax.random.key(1), 1, 3, 0)
    x, t = d.train_inputs, d.train_targets

    def cost(p):
        return objective(net, p, "global", x, t)

    return net, params, cost


def test_flatten_roundtrip_and_order(small):
    net, params, _ = small
    theta = gr.flatten_angles(net, params)
    assert theta.shape == (gr.hea_perceptron(2, 1).num_angles * 2 + gr.hea_perceptron(3, 1).num_angles,)
    back = gr.unflatten_angles(net, params, theta)
    for a, b in zip(jax.tree.leaves(back), jax.tree.leaves(params), strict=True):
        np.testing.assert_array_equal(a, b)
    idx = gradients.angle_indices(net)
    np.testing.assert_array_equal(theta, jnp.stack([gradients.get_angle(params, i) for i in idx]))


def test_parameter_shift_equals_autodiff(small):
    net, params, cost = small
    theta = gr.flatten_angles(net, params)

    def cost_of_theta(th):
        return cost(gr.unflatten_angles(net, params, th))

    c_ad, g_ad = jax.jit(lambda th: gr.angle_grad(cost_of_theta, th, "autodiff"))(theta)
    c_ps, g_ps = jax.jit(lambda th: gr.angle_grad(cost_of_theta, th, "shift"))(theta)
    assert abs(float(c_ad) - float(c_ps)) < 1e-14
    np.testing.assert_allclose(g_ps, g_ad, atol=1e-12)
    assert float(jnp.max(jnp.abs(g_ad))) > 1e-3  # not trivially zero
    idx = gradients.angle_indices(net)[4]
    one = gradients.grad_param_shift(jax.jit(cost), params, idx)  # the library's single-angle rule
    assert abs(float(one) - float(g_ps[4])) < 1e-12


def test_training_uses_the_shared_rule_and_each_familys_own():
    """The training shift gradient is dqnn.gradients.grad_param_shift_all (same numbers), with each angle's rule."""
    from dqnn.model.hamiltonian import HamiltonianRotation

    net = gr.circuit_network([1, 1], depth=0)
    params = net.init(jax.random.key(2))
    x = datasets.haar_states(jax.random.key(3), 1, 2)

    def cost_of_theta(th):  # type: ignore[no-untyped-def]
        return objective(net, gr.unflatten_angles(net, params, th), "global", x, x)

    theta = gr.flatten_angles(net, params)
    rules = gr.check_angles(net, gr.GradientConfig(gradient="shift"))
    assert rules is not None
    a = np.asarray(gr.shift_gradient(cost_of_theta, theta))
    np.testing.assert_array_equal(a, np.asarray(gradients.grad_param_shift_all(cost_of_theta, theta)))
    np.testing.assert_array_equal(a, np.asarray(gr.shift_gradient(cost_of_theta, theta, rules)))
    assert gr.check_angles(net, gr.GradientConfig(gradient="autodiff")) is None

    h = np.diag([1.5, -0.25, 1.5, -0.25]).astype(complex)  # two levels, gap 1.75
    v = np.asarray(jnp.linalg.qr(jax.random.normal(jax.random.key(4), (4, 4)) + 0j)[0])
    mixed = Network(
        [1, 1],
        [
            [
                Perceptron([0], [0], gr.hea_perceptron(2, 0)),
                Perceptron([0], [0], HamiltonianRotation(v @ h @ v.conj().T)),
            ]
        ],
    )
    mp = mixed.init(jax.random.key(5))

    def mixed_cost(th):  # type: ignore[no-untyped-def]
        return objective(mixed, gr.unflatten_angles(mixed, mp, th), "global", x, x)

    th = gr.flatten_angles(mixed, mp)
    rules = gr.check_angles(mixed, gr.GradientConfig(gradient="shift"))
    assert rules is not None and abs(rules[1][-1] - 1.75 / 2) < 1e-14
    _, g_ad = gr.angle_grad(mixed_cost, th, "autodiff")
    _, g_ps = gr.angle_grad(mixed_cost, th, "shift", rules)
    np.testing.assert_allclose(g_ps, g_ad, atol=1e-12)
    _, g_pauli = gr.angle_grad(mixed_cost, th, "shift")  # the +-1 rule is wrong for the Hamiltonian's angle
    assert abs(float(g_pauli[-1] - g_ad[-1])) > 1e-6
    step = gr.make_gradient_update(
        mixed,
        lambda p, a, b: objective(mixed, p, "global", a, b),
        gr.GradientConfig(optimizer="sgd", lr=0.1, gradient="shift"),
    )
    new, _, _ = step(th, gr.make_optimizer(gr.GradientConfig(optimizer="sgd", lr=0.1)).init(th), mp, x, x)
    np.testing.assert_allclose(np.asarray(new), np.asarray(th - 0.1 * g_ad), atol=1e-12)


def test_shift_rule_needs_pauli_generators():
    gen = np.diag([2.0, -2.0]).astype(complex)
    net = Network([1, 1], [[Perceptron([0], [0], Circuit(2, [Rot(gen, (0,)), Rot("Y", (1,))]))]])
    gr.check_angles(net, gr.GradientConfig(gradient="autodiff"))
    with pytest.raises(ValueError, match="parameter-shift"):
        gr.check_angles(net, gr.GradientConfig(gradient="shift"))
    with pytest.raises(ValueError, match="optimizer"):
        gr.GradientConfig(optimizer="lbfgs")  # type: ignore[arg-type]


def test_adam_learns_a_one_qubit_unitary():
    res = train(TrainConfig(task="unitary", widths=(1, 1), method="adam", depth=4, pairs=4, test_pairs=8, steps=80))
    costs = [r["cost"] for r in res.metrics]
    assert costs[-1] < 0.01 < costs[0]
    assert res.summary["test_fidelity"] > 0.99


def test_sgd_with_parameter_shift_lowers_the_cost():
    res = train(
        TrainConfig(
            task="unitary", widths=(1, 1), method="sgd", gradient="shift", depth=2, pairs=2, test_pairs=2, steps=15
        )
    )
    costs = [r["cost"] for r in res.metrics]
    assert costs[-1] < costs[0] - 0.05
