"""Autodiff against parameter shift and the closed-form Fig. 3a derivative."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import dqnn
from dqnn import gradients as G
from dqnn.presets.problems import GradientProblem


@pytest.mark.parametrize("arch", ["fig3a", "fig3b", "global"])
@pytest.mark.parametrize("kind", ["global", "local"])
def test_autodiff_equals_parameter_shift(arch, kind):
    prob = GradientProblem(arch, 3, 2, kind)
    net = prob.network()
    x, t = prob.data()
    for seed in range(3):
        p = net.init(jax.random.key(seed))

        def f(q):  # type: ignore[no-untyped-def]
            return dqnn.cost(net, q, x, t, kind)

        for idx in G.angle_indices(net)[:3]:
            a = float(G.grad_autodiff(f, p, idx))
            b = float(G.grad_param_shift(f, p, idx))
            assert abs(a - b) < 1e-8


def test_fig3a_derivative_closed_form():
    n = 3
    prob = GradientProblem("fig3a", n, 1, "global")
    net = prob.network()
    x, t = prob.data()
    p = net.init(jax.random.key(2))
    th = np.array([float(p[0][j]["theta"][0]) for j in range(n)])
    # C = 1 - prod cos^2(th_j/2); dC/dth_0 = sin(th_0)/2 * prod_{j>0} cos^2(th_j/2)
    want = 0.5 * np.sin(th[0]) * np.prod(np.cos(th[1:] / 2) ** 2)
    got = float(G.grad_autodiff(lambda q: dqnn.cost(net, q, x, t, "global"), p, prob.angle_index(net)))
    assert abs(got - want) < 1e-13


def test_angle_helpers_and_errors():
    net = dqnn.presets.architectures.fig3a(2, 2)
    idx = G.angle_indices(net)
    assert [str(i) for i in idx] == ["L0P0A0", "L0P1A0", "L1P0A0", "L1P1A0"]
    p = net.init(jax.random.key(0))
    q = G.shift_angle(p, idx[2], 1.0)
    assert abs(float(G.get_angle(q, idx[2]) - G.get_angle(p, idx[2])) - 1.0) < 1e-15
    with pytest.raises(ValueError, match="layer 5 out of range"):
        G.check_index(net, G.AngleIndex(5, 0, 0))
    c = dqnn.Circuit(2, [dqnn.Rot(np.diag([0.0, 1, 2, 3]), (0, 1))])
    net2 = dqnn.Network([1, 1], [[dqnn.Perceptron([0], [0], c)]])
    with pytest.raises(ValueError, match="eigenvalues"):
        G.check_shift_rule(net2, G.AngleIndex(0, 0, 0))


def test_shift_rule_comes_from_the_family_and_errors_name_it():
    from dqnn.model.protocol import PAULI_RULE

    net = dqnn.presets.architectures.fig3a(2, 1)
    idx = G.AngleIndex(0, 1, 0)
    assert G.check_shift_rule(net, idx) == PAULI_RULE
    shifts, scales = G.shift_rules(net)
    np.testing.assert_array_equal(shifts, np.full(2, np.pi / 2))
    np.testing.assert_array_equal(scales, np.full(2, 0.5))
    x = np.zeros((1, 4))
    x[0, 0] = 1.0
    p = net.init(jax.random.key(1))

    def f(q):  # type: ignore[no-untyped-def]
        return dqnn.cost(net, q, x, x, "global")

    assert float(G.grad_param_shift(f, p, idx, net)) == float(G.grad_param_shift(f, p, idx))  # the same numbers
    c = dqnn.Circuit(2, [dqnn.Rot("Y", (1,)), dqnn.Rot(np.diag([0.0, 1, 2, 3]), (0, 1))])
    bad = dqnn.Network([1, 1], [[dqnn.Perceptron([0], [0], dqnn.HaarUnitary(2)), dqnn.Perceptron([0], [0], c)]])
    with pytest.raises(
        ValueError,
        match=r"angle L0P1A1: family Circuit has no exact two-term parameter-shift rule: "
        r"the generator of its angle 1 \(element 1\)",
    ):
        G.check_shift_rule(bad, G.AngleIndex(0, 1, 1))
    with pytest.raises(ValueError, match="L0P1A1"):
        G.shift_rules(bad)
    with pytest.raises(ValueError, match="L0P1A1"):
        G.grad_param_shift(f, bad.init(jax.random.key(0)), G.AngleIndex(0, 1, 1), bad)


def test_grad_param_shift_all_is_the_single_angle_rule_for_every_angle():
    net = dqnn.presets.architectures.fig3a(2, 1)
    x = np.zeros((1, 4))
    x[0, 0] = 1.0
    p = net.init(jax.random.key(2))
    idx = G.angle_indices(net)
    theta = jax.numpy.stack([G.get_angle(p, i) for i in idx])

    def of_theta(th):  # type: ignore[no-untyped-def]
        q = p
        for k, i in enumerate(idx):
            q = G.set_angle(q, i, th[k])
        return dqnn.cost(net, q, x, x, "global")

    every = np.asarray(G.grad_param_shift_all(of_theta, theta, *G.shift_rules(net)))
    np.testing.assert_array_equal(every, np.asarray(G.grad_param_shift_all(of_theta, theta)))  # default: +-1 rule
    one = [float(G.grad_param_shift(lambda q: dqnn.cost(net, q, x, x, "global"), p, i, net)) for i in idx]
    np.testing.assert_allclose(every, one, atol=1e-14)
    with pytest.raises(ValueError, match="both"):
        G.grad_param_shift_all(of_theta, theta, np.ones(2))
