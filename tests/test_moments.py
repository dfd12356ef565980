"""Exact gradient moments (issue 7): closed forms, agreement with seeded sampling, the 1-design mean, scaling."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dqnn
from dqnn.gradients import grad_autodiff
from dqnn.model import gates, states
from dqnn.model.angles import AngleIndex, set_angle
from dqnn.model.families import Circuit, Gate, HaarUnitary, RandomUnitary, Rot
from dqnn.model.network import Network, Perceptron
from dqnn.moments.exact import (
    ProductStates,
    exact_gradient_moments,
    exact_moments,
    gate_moment,
    permutation_vectors,
    rotation_moment,
    rotation_moment_quadrature,
    weingarten_matrix,
)
from dqnn.presets.problems import GradientProblem


def sampled(net, idxs, x, t, kind, samples, seed=0, theta=None):  # type: ignore[no-untyped-def]
    """Seeded sample of d C / d theta_idx over ``samples`` initialisations, for each angle of ``idxs`` from the same
    initialisations and one compiled program: per angle (mean, its s.e., E[g^2], its s.e.)."""
    ps = net.init_batch(jax.random.key(seed), samples)
    if theta is not None:
        for idx in idxs:
            ps = set_angle(ps, idx, jnp.full((samples,), theta))

    def one(p):  # type: ignore[no-untyped-def]
        return jnp.stack([grad_autodiff(lambda q: dqnn.cost(net, q, x, t, kind), p, idx) for idx in idxs])

    g = np.asarray(jax.jit(jax.vmap(one))(ps))  # (samples, angles)
    root = np.sqrt(samples)
    return [(c.mean(), c.std() / root, (c**2).mean(), (c**2).std() / root) for c in g.T]


def check_against_sampling(net, idx, x, t, kind, samples=2000, theta=None):  # type: ignore[no-untyped-def]
    """The exact moments of angle ``idx`` against sampling; ``idx`` may be a list of angles (sampled together)."""
    idxs = idx if isinstance(idx, list) else [idx]
    exs = []
    for i, (m, m_se, s2, s2_se) in zip(idxs, sampled(net, idxs, x, t, kind, samples, theta=theta), strict=True):
        ex = exact_gradient_moments(net, i, x, t, kind, theta=theta)
        assert abs(s2 - ex.second_moment) <= 4 * s2_se, (i, ex.second_moment, s2, s2_se)
        assert abs(m - ex.mean) <= 4 * m_se + 1e-12, (i, ex.mean, m, m_se)
        exs.append(ex)
    return exs if isinstance(idx, list) else exs[0]


# ---------------------------------------------------------------------------------------------------------------
# building blocks
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("d", [2, 4, 8])
def test_weingarten_inverts_the_gram_matrix(d: int) -> None:
    gram = np.array([[d * d, d], [d, d * d]])
    np.testing.assert_allclose(weingarten_matrix(d, 2) @ gram, np.eye(2), atol=1e-14)
    np.testing.assert_allclose(weingarten_matrix(d, 1) * d, [[1.0]])
    pv = permutation_vectors(2)
    np.testing.assert_allclose(pv @ pv.T, [[4, 2], [2, 4]])  # per-qubit Gram of identity and swap


@pytest.mark.parametrize("gen", ["Y", "X", "ZZ", "XY"])
@pytest.mark.parametrize("copies", [1, 2])
@pytest.mark.parametrize("derivative", [False, True])
@pytest.mark.parametrize("theta", [None, 0.7])
def test_rotation_moment_matches_quadrature(gen: str, copies: int, derivative: bool, theta: float | None) -> None:
    g = gates.pauli_string(gen)
    a = rotation_moment(g, copies, derivative, theta)
    b = rotation_moment_quadrature(g, copies, derivative, theta)
    np.testing.assert_allclose(a, b, atol=1e-14)


def test_gate_moment_of_identity_is_identity() -> None:
    m = gate_moment(np.eye(4), 2).reshape(256, 256)
    np.testing.assert_array_equal(m, np.eye(256))


def test_non_involutory_generator_is_refused() -> None:
    with pytest.raises(ValueError, match="Gamma"):
        rotation_moment(np.diag([1.0, 0.5]), 2)


# ---------------------------------------------------------------------------------------------------------------
# Fig. 3a: closed forms (computed by the general engine)
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [2, 3, 4, 7, 16, 64])
@pytest.mark.parametrize("cost", ["global", "local"])
def test_fig3a_closed_forms(n: int, cost: str) -> None:
    want = (1 / 8) * (3 / 8) ** (n - 1) if cost == "global" else 1 / (8 * n**2)
    for layers in range(1, 5):
        ex = exact_moments(GradientProblem("fig3a", n, layers, cost))  # type: ignore[arg-type]
        assert abs(ex.variance / want - 1) <= 1e-12, (n, layers, ex.variance, want)
        assert abs(ex.mean) <= 1e-15


# ---------------------------------------------------------------------------------------------------------------
# Fig. 3b and Theorem 1: agreement with sampling
# ---------------------------------------------------------------------------------------------------------------


def problem_args(p: GradientProblem):  # type: ignore[no-untyped-def]
    net = p.network()
    x, t = p.data()
    return net, p.angle_index(net), x, t, p.cost


@pytest.mark.parametrize(("n", "layers"), [(2, 2), (3, 2), (4, 3), (5, 4)])
@pytest.mark.parametrize("cost", ["global", "local"])
def test_fig3b_agrees_with_sampling(n: int, layers: int, cost: str) -> None:
    ex = check_against_sampling(*problem_args(GradientProblem("fig3b", n, layers, cost)))  # type: ignore[arg-type]
    assert ex.variance > 0


@pytest.mark.parametrize(("n", "layers"), [(1, 1), (2, 2), (3, 1)])
@pytest.mark.parametrize("cost", ["global", "local"])
def test_theorem1_agrees_with_sampling(n: int, layers: int, cost: str) -> None:
    check_against_sampling(*problem_args(GradientProblem("global", n, layers, cost)))  # type: ignore[arg-type]


def test_general_network_agrees_with_sampling() -> None:
    """Entangled inputs, two pairs, an observable cost, Haar perceptrons, two-qubit Pauli rotations, fixed gates."""
    circ = Circuit(
        3,
        [Gate("H", (0,)), Rot("YX", (0, 2)), Gate("CNOT", (2, 1)), RandomUnitary((1, 2)), Rot("Y", (2,))],
    )
    net = Network(
        [2, 2, 1],
        [
            [Perceptron([0, 1], [0], circ), Perceptron([1], [1], HaarUnitary(2))],
            [
                Perceptron(
                    [0, 1],
                    [0],
                    Circuit(3, [Gate("H", (2,)), Rot("Y", (2,)), Gate("CNOT", (0, 2)), RandomUnitary((1, 2))]),
                )
            ],
        ],
    )
    bell = np.array([1, 0, 0, 1]) / np.sqrt(2)
    x = np.stack([bell, np.asarray(states.basis_state("01"))])
    obs = np.stack([np.asarray(gates.Z), np.asarray(gates.X + gates.Z) / 2])
    idxs = [AngleIndex(0, 0, 0), AngleIndex(0, 0, 1), AngleIndex(1, 0, 0)]
    for ex in check_against_sampling(net, idxs, x, obs, "observable", samples=3000):
        assert ex.second_moment > 1e-3


# ---------------------------------------------------------------------------------------------------------------
# the mean, a fixed angle, scaling
# ---------------------------------------------------------------------------------------------------------------


def test_mean_is_zero_after_a_one_design_even_at_a_fixed_angle() -> None:
    """In Fig. 3b the differentiated R_y is followed by the Haar A: a 1-design, so E[d C] = 0 at every theta."""
    for cost in ("global", "local"):
        net, idx, x, t, kind = problem_args(GradientProblem("fig3b", 4, 2, cost))  # type: ignore[arg-type]
        for theta in (None, 0.3, 2.0):
            assert abs(exact_gradient_moments(net, idx, x, t, kind, theta=theta).mean) < 1e-15


def test_fixed_angle_mean_is_not_zero_without_a_design_and_agrees_with_sampling() -> None:
    net, idx, x, t, kind = problem_args(GradientProblem("fig3a", 2, 1, "global"))
    ex = check_against_sampling(net, idx, x, t, kind, samples=2000, theta=0.7)
    assert abs(ex.mean) > 1e-3


def test_product_states_give_the_same_moments_as_vectors() -> None:
    p = GradientProblem("global", 2, 1, "global")
    net, idx, x, t, kind = problem_args(p)
    a = exact_gradient_moments(net, idx, x, t, kind)
    b = exact_gradient_moments(net, idx, ProductStates.zeros(1, 2), ProductStates.zeros(1, 2), kind)
    assert a.second_moment == pytest.approx(b.second_moment, rel=1e-13)


def test_fig3b_n64_is_fast_and_decays_as_eqs_11_12() -> None:
    var = {}
    for cost in ("global", "local"):
        for n in (16, 64):
            ex = exact_moments(GradientProblem("fig3b", n, n.bit_length() + 1, cost))  # type: ignore[arg-type]
            assert ex.seconds < 30
            assert ex.double_rounding < 1e-9
            var[cost, n] = ex.variance
    assert var["global", 64] < 1e-30 < var["global", 16]  # exponential
    assert var["local", 64] > 1e-7  # polynomial
    assert var["local", 16] / var["local", 64] < 64


def test_theorem1_wide_register() -> None:
    g = [exact_moments(GradientProblem("global", n, 2, "global")).variance for n in (8, 10)]
    loc = [exact_moments(GradientProblem("global", n, 2, "local")).variance for n in (8, 10)]
    assert 0 < g[1] < g[0] / 16  # at least 2^(-2n)
    assert 0 < loc[1] < loc[0] / 4  # at least 2^(-n)


# ---------------------------------------------------------------------------------------------------------------
# the family protocol: moment descriptions and refusals
# ---------------------------------------------------------------------------------------------------------------


def test_a_family_without_a_moment_description_is_refused_by_name() -> None:
    from dqnn.model.protocol import FamilyDefaults, GateOp

    class Opaque(FamilyDefaults):  # the core of the protocol only
        num_qubits, num_angles = 2, 0

        def init(self, key):  # type: ignore[no-untyped-def]
            return {}

        def ops(self, params):  # type: ignore[no-untyped-def]
            return [GateOp(jnp.asarray(gates.CNOT), (0, 1))]

        def matrix(self, params):  # type: ignore[no-untyped-def]
            return jnp.asarray(gates.CNOT)

    x, t = np.eye(2)[:1], np.eye(2)[:1]
    net = Network([1, 1], [[Perceptron([0], [0], Circuit(2, [Rot("Y", (1,))])), Perceptron([0], [0], Opaque())]])
    with pytest.raises(ValueError, match=r"perceptron L0P1: family Opaque has no description for the exact moment"):
        exact_gradient_moments(net, AngleIndex(0, 0, 0), x, t)
    bad = Network([1, 1], [[Perceptron([0], [0], Circuit(2, [Rot(np.diag([1.0, 0, 0, -1]), (0, 1))]))]])
    with pytest.raises(ValueError, match=r"angle L0P0A0: family Circuit has no description .*element 0's generator"):
        exact_gradient_moments(bad, AngleIndex(0, 0, 0), x, t)


def test_a_moment_description_is_checked() -> None:
    from dqnn.model.protocol import MomentRotation

    class Described(Circuit):
        def __init__(self, els):  # type: ignore[no-untyped-def]
            super().__init__(2, [Rot("Y", (1,))])
            object.__setattr__(self, "_els", els)

        def moment_elements(self):  # type: ignore[no-untyped-def]
            return self._els  # type: ignore[attr-defined]

    x, t = np.eye(2)[:1], np.eye(2)[:1]
    y = np.asarray(gates.Y)
    for els, msg in (
        ((MomentRotation(y, (1,), 0, 0.5),), "rate 0.5 is not a nonzero integer"),
        ((), r"rotations of angles \[\]"),
        ((MomentRotation(y, (1,), 0), MomentRotation(y, (1,), 0)), r"rotations of angles \[0, 0\]"),
        ((MomentRotation(y, (3,), 0),), r"wires \(3,\) out of range"),
    ):
        net = Network([1, 1], [[Perceptron([0], [0], Described(els))]])
        with pytest.raises(ValueError, match=msg):
            exact_gradient_moments(net, AngleIndex(0, 0, 0), x, t)
    ok = Network([1, 1], [[Perceptron([0], [0], Described((MomentRotation(y, (1,), 0),)))]])
    ref = Network([1, 1], [[Perceptron([0], [0], Circuit(2, [Rot("Y", (1,))]))]])
    a, b = (exact_gradient_moments(n, AngleIndex(0, 0, 0), x, t) for n in (ok, ref))
    assert (a.mean, a.second_moment) == (b.mean, b.second_moment)
