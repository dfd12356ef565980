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
