"""HamiltonianRotation: exp(-i theta H), a family added through the family protocol alone."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg

import dqnn
from dqnn import datasets
from dqnn.costs import cost, per_pair
from dqnn.estimators.shots import estimate_gradient
from dqnn.gradients import check_shift_rule, grad_autodiff, grad_param_shift
from dqnn.model import gates
from dqnn.model.angles import AngleIndex, angle_indices, get_angle, set_angle
from dqnn.model.families import Circuit, Gate, HaarUnitary, Packed, Rot
from dqnn.model.hamiltonian import HamiltonianRotation
from dqnn.model.network import Network, Perceptron
from dqnn.model.protocol import Family, MomentRotation
from dqnn.moments.exact import exact_gradient_moments
from dqnn.sim import packed
from dqnn.sim.simulate import output_state


def _hermitian(rng: np.random.Generator, eigenvalues: list[float]) -> np.ndarray:
    """``V diag(eigenvalues) V^dagger`` with a random unitary ``V``."""
    d = len(eigenvalues)
    z = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    v, _ = np.linalg.qr(z)
    return (v * np.asarray(eigenvalues)) @ v.conj().T


def _antisymmetric_imaginary(rng: np.random.Generator, d: int) -> np.ndarray:
    """``i A`` with ``A`` real antisymmetric: Hermitian, and ``exp(-i theta H) = exp(theta A)`` is real."""
    a = rng.normal(size=(d, d))
    return 1j * (a - a.T)


def _mixed_network(h_two: np.ndarray, h_other: np.ndarray) -> Network:
    """Widths (2, 2, 1): Haar and HamiltonianRotation perceptrons, then a circuit and another HamiltonianRotation."""
    return Network(
        [2, 2, 1],
        [
            [
                Perceptron([0, 1], [0], HaarUnitary(3)),
                Perceptron([0, 1], [1], HamiltonianRotation(h_two, name="two-level")),
            ],
            [
                Perceptron([0, 1], [0], Circuit(3, [Rot("Y", (2,)), Gate("CNOT", (0, 2)), Rot("X", (1,))])),
                Perceptron([1], [0], HamiltonianRotation(h_other)),
            ],
        ],
    )


def test_matrix_is_unitary_and_equals_expm():
    rng = np.random.default_rng(0)
    for h in (_hermitian(rng, list(rng.normal(size=8))), _antisymmetric_imaginary(rng, 4), gates.pauli_string("XY")):
        fam = HamiltonianRotation(h)
        assert isinstance(fam, Family)
        assert fam.num_qubits == int(np.log2(h.shape[0])) and fam.num_angles == 1
        for theta in (0.0, 0.37, -2.1, 5.9):
            u = np.asarray(fam.matrix({"theta": jnp.array([theta])}))
            np.testing.assert_allclose(u @ u.conj().T, np.eye(h.shape[0]), atol=1e-13)
            np.testing.assert_allclose(u, scipy.linalg.expm(-1j * theta * h), atol=1e-12)
            (op,) = fam.ops({"theta": jnp.array([theta])})
            np.testing.assert_array_equal(np.asarray(op.matrix), u)
            assert op.wires == tuple(range(fam.num_qubits))
    assert HamiltonianRotation(_antisymmetric_imaginary(rng, 4)).real
    assert not HamiltonianRotation(gates.pauli_string("XZ")).real


def test_init_draws_one_angle_uniform_on_two_pi():
    fam = HamiltonianRotation(gates.pauli_string("Z"))
    theta = np.asarray(jax.vmap(fam.init)(jax.random.split(jax.random.key(0), 4000))["theta"])
    assert theta.shape == (4000, 1)
    assert 0.0 <= theta.min() and theta.max() < 2 * np.pi
    assert abs(theta.mean() - np.pi) < 0.1


def test_invalid_h_is_named():
    with pytest.raises(ValueError, match=r"myH: argument h: matrix is not Hermitian"):
        HamiltonianRotation(np.array([[0, 1], [0, 0]]), name="myH")
    with pytest.raises(ValueError, match=r"HamiltonianRotation: argument h: has non-finite entries"):
        HamiltonianRotation(np.array([[np.nan, 0], [0, 1]]))
    with pytest.raises(ValueError, match=r"argument h: expected a square matrix"):
        HamiltonianRotation(np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"argument h: dimension 3 is not a power of two"):
        HamiltonianRotation(np.eye(3))
    with pytest.raises(ValueError, match=r"argument h is not a numeric matrix"):
        HamiltonianRotation([["a", "b"], ["c", "d"]])  # type: ignore[list-item]


def test_shift_rule_equals_autodiff_in_a_random_network():
    rng = np.random.default_rng(1)
    h_two = _hermitian(rng, [1.3, 1.3, 1.3, -0.45, -0.45, 1.3, -0.45, -0.45])  # two levels, gap 1.75
    h_other = _hermitian(rng, [0.8, -0.6, -0.6, 0.8])  # two levels, gap 1.4
    net = _mixed_network(h_two, h_other)
    x = datasets.haar_states(jax.random.key(3), 2, 3)
    t = datasets.haar_states(jax.random.key(4), 1, 3)
    rule = check_shift_rule(net, AngleIndex(0, 1, 0))
    assert rule.scale == pytest.approx(1.75 / 2) and rule.shift == pytest.approx(np.pi / (2 * 1.75))
    ham = [AngleIndex(0, 1, 0), AngleIndex(1, 1, 0)]
    assert [i for i in angle_indices(net) if i.perceptron == 1] == ham
    targets = np.asarray(t)[:, None, :]  # local cost (the rule is the family's, whatever the cost)
    f = jax.jit(functools.partial(cost, net, inputs=x, targets=targets, kind="local"))
    grad = jax.jit(jax.grad(f))  # autodiff of every leaf at once
    for seed in range(2):
        params = net.init(jax.random.key(seed))
        g = grad(params)
        for idx in angle_indices(net):
            auto = float(get_angle(g, idx))
            shift = float(grad_param_shift(f, params, idx, net))
            assert abs(shift - auto) < 1e-10, (seed, idx)
        # the +-1-eigenvalue rule (no net given) is not the derivative of these angles
        wrong = float(grad_param_shift(f, params, ham[0]))
        assert abs(wrong - float(get_angle(g, ham[0]))) > 1e-6
    assert abs(float(grad_autodiff(f, params, ham[1])) - float(get_angle(g, ham[1]))) < 1e-12


def test_three_eigenvalues_refuse_the_shift_rule_by_name():
    rng = np.random.default_rng(2)
    h3 = _hermitian(rng, [1.0, 0.0, -1.0, 0.0])
    net = Network([1, 1], [[Perceptron([0], [0], HaarUnitary(2)), Perceptron([0], [0], HamiltonianRotation(h3))]])
    params = net.init(jax.random.key(0))
    want = r"angle L0P1A0: family HamiltonianRotation has no exact two-term parameter-shift rule: h has 3 distinct"
    with pytest.raises(ValueError, match=want):
        check_shift_rule(net, AngleIndex(0, 1, 0))
    with pytest.raises(ValueError, match=want):
        grad_param_shift(
            lambda p: jnp.sum(jnp.abs(output_state(net, p, np.eye(2)[0]))), params, AngleIndex(0, 1, 0), net
        )
    named = Network([1, 1], [[Perceptron([0], [0], HamiltonianRotation(h3, name="three"))]])
    with pytest.raises(ValueError, match=r"family HamiltonianRotation 'three' has no exact two-term"):
        check_shift_rule(named, AngleIndex(0, 0, 0))
    with pytest.raises(ValueError, match="parameter-shift"):
        estimate_gradient(named, named.init(jax.random.key(0)), AngleIndex(0, 0, 0), np.eye(2)[:1], np.eye(2)[:1])


def test_packed_mode_equals_jvp_for_a_real_rotation():
    rng = np.random.default_rng(3)
    fam = HamiltonianRotation(_antisymmetric_imaginary(rng, 8))
    net = Network(
        [2, 2],
        [
            [
                Perceptron([0, 1], [0], fam),
                Perceptron([0, 1], [1], Circuit(3, [Rot("Y", (0,)), Gate("CZ", (0, 2)), Rot("Y", (2,))])),
            ]
        ],
    )
    assert net.real
    pk = fam.packed(0)
    assert isinstance(pk, Packed) and not pk.real
    theta = jnp.array([0.9])
    (op,) = pk.ops({"theta": theta})
    m, dm = jax.jvp(lambda th: fam.matrix({"theta": th}), (theta,), (jnp.ones(1),))
    np.testing.assert_allclose(np.asarray(op.matrix), np.asarray(m) + 1j * np.asarray(dm), atol=1e-14)
    assert np.asarray(fam.ops({"theta": theta})[0].matrix).dtype == np.float64
    x = rng.normal(size=(3, 4))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    t = datasets.haar_states(jax.random.key(5), 2, 3)
    params = net.init(jax.random.key(6))
    for idx in angle_indices(net):
        got = np.asarray(packed.per_pair_derivative(net, params, x, t, "global", idx))
        th0 = get_angle(params, idx)
        _, want = jax.jvp(lambda th: per_pair(net, set_angle(params, idx, th), x, t, "global"), (th0,), (1.0,))  # noqa: B023
        np.testing.assert_allclose(got, np.asarray(want), atol=1e-12)


def test_complex_rotation_has_no_packed_form():
    fam = HamiltonianRotation(gates.pauli_string("XZ"))
    assert fam.packed(0) is None
    net = Network([1, 1], [[Perceptron([0], [0], fam)]])
    with pytest.raises(ValueError, match=r"angle L0P0A0: family HamiltonianRotation has no packed form.*real part"):
        packed.packed_network(net, AngleIndex(0, 0, 0))


def _moment_networks(h: np.ndarray, gen: str) -> tuple[Network, Network]:
    """The same widths-(2, 2) network with ``exp(-i theta h)`` or ``Rot(gen)`` as the perceptron with the angle."""

    def net(fam: object) -> Network:
        return Network(
            [2, 2],
            [
                [
                    Perceptron([0, 1], [0], HaarUnitary(3)),
                    Perceptron([1], [1], fam),  # type: ignore[arg-type]
                    Perceptron([1], [0], Circuit(2, [Rot("Y", (0,)), Gate("CZ", (0, 1)), Rot("X", (1,))])),
                ]
            ],
        )

    return net(HamiltonianRotation(h)), net(Circuit(2, [Rot(gen, (0, 1))]))


def test_exact_moments_take_an_integer_gap_as_a_faster_rotation():
    # h = 0.7 + ZX: exp(-i theta h) = phase * exp(-i (2 theta) ZX / 2), so d/dtheta = 2 d/dphi at phi = 2 theta,
    # and phi (mod 2 pi) is uniform when theta is: the moments are those of Rot("ZX") times 2 and 4
    h = 0.7 * np.eye(4) + gates.pauli_string("ZX")
    els = HamiltonianRotation(h).moment_elements()
    assert els is not None and isinstance(els[0], MomentRotation) and els[0].rate == 2.0
    np.testing.assert_allclose(els[0].generator, gates.pauli_string("ZX"), atol=1e-14)
    ham, rot = _moment_networks(h, "ZX")
    x = np.zeros((1, 4))
    x[0, 0] = 1.0
    t = np.asarray(datasets.haar_states(jax.random.key(7), 2, 1))
    for kind, targets in (("global", t), ("local", np.ones((1, 2, 2)) / np.sqrt(2))):
        for j, idx in ((1, AngleIndex(0, 1, 0)), (2, AngleIndex(0, 2, 1))):
            a = exact_gradient_moments(ham, idx, x, targets, kind)
            b = exact_gradient_moments(rot, idx, x, targets, kind)
            factor = 2.0 if j == 1 else 1.0
            assert abs(a.mean - factor * b.mean) < 1e-13
            assert abs(a.second_moment - factor**2 * b.second_moment) < 1e-13 * max(1.0, b.second_moment)
        a = exact_gradient_moments(ham, AngleIndex(0, 1, 0), x, targets, kind, theta=0.4)
        b = exact_gradient_moments(rot, AngleIndex(0, 1, 0), x, targets, kind, theta=0.8)
        assert abs(a.mean - 2 * b.mean) < 1e-13 and abs(a.second_moment - 4 * b.second_moment) < 1e-12
        assert b.second_moment > 1e-4


def test_exact_moments_agree_with_sampling():
    h = 0.3 * np.eye(4) + 0.5 * gates.pauli_string("XY")  # gap 1: exp(-i theta h) = phase * R_XY(theta)
    ham, _ = _moment_networks(h, "XY")
    idx = AngleIndex(0, 1, 0)
    x = np.zeros((1, 4))
    x[0, 0] = 1.0
    t = np.asarray(datasets.haar_states(jax.random.key(8), 2, 1))
    ex = exact_gradient_moments(ham, idx, x, t, "global")
    ps = ham.init_batch(jax.random.key(9), 4000)
    g = np.asarray(jax.jit(jax.vmap(lambda p: grad_autodiff(lambda q: cost(ham, q, x, t, "global"), p, idx)))(ps))
    se = (g**2).std() / np.sqrt(g.size)
    assert abs((g**2).mean() - ex.second_moment) < 4 * se
    assert abs(g.mean() - ex.mean) < 4 * g.std() / np.sqrt(g.size) + 1e-12


def test_exact_moments_refuse_by_name():
    x = np.zeros((1, 4))
    x[0, 0] = 1.0
    t = x.copy()
    rng = np.random.default_rng(4)
    non_integer, _ = _moment_networks(0.3 * gates.pauli_string("ZZ"), "ZZ")  # gap 0.6
    with pytest.raises(
        ValueError,
        match=r"angle L0P1A0: family HamiltonianRotation has no description for the "
        r"exact moment engine: the eigenvalue gap l1 - l2 = 0.6 is not an integer",
    ):
        exact_gradient_moments(non_integer, AngleIndex(0, 1, 0), x, t)
    three, _ = _moment_networks(_hermitian(rng, [1.0, 0, 0, -1]), "ZZ")
    with pytest.raises(
        ValueError,
        match=r"perceptron L0P1: family HamiltonianRotation has no description for the "
        r"exact moment engine: h has 3 distinct eigenvalues",
    ):
        exact_gradient_moments(three, AngleIndex(0, 2, 0), x, t)  # refused even when another angle is asked for


def test_network_output_is_a_density_matrix():
    rng = np.random.default_rng(5)
    net = _mixed_network(_hermitian(rng, list(rng.normal(size=8))), _hermitian(rng, list(rng.normal(size=4))))
    params = net.init(jax.random.key(11))
    for rho_in in (np.asarray(datasets.haar_states(jax.random.key(12), 2, 1))[0], np.eye(4) / 4):
        rho = np.asarray(output_state(net, params, rho_in))
        assert rho.shape == (2, 2)
        assert abs(np.trace(rho) - 1.0) < 1e-12
        np.testing.assert_allclose(rho, rho.conj().T, atol=1e-13)
        assert np.linalg.eigvalsh(rho).min() > -1e-12


def test_shot_estimator_uses_the_family_rule():
    h = _hermitian(np.random.default_rng(6), [2.2, -0.3, -0.3, 2.2])  # two levels, gap 2.5
    net = Network([1, 1], [[Perceptron([0], [0], HaarUnitary(2)), Perceptron([0], [0], HamiltonianRotation(h))]])
    params = net.init(jax.random.key(13))
    x = np.eye(2)[:1].astype(complex)
    t = np.asarray(datasets.haar_states(jax.random.key(14), 1, 1))
    idx = AngleIndex(0, 1, 0)
    exact = float(grad_autodiff(lambda p: cost(net, p, x, t, "global"), params, idx))
    est = estimate_gradient(net, params, idx, x, t, "global", shots=20000, seed=0)
    assert abs(est.value - exact) < 5 * est.stderr + 1e-12


def test_exported():
    assert dqnn.HamiltonianRotation is HamiltonianRotation
    assert dqnn.model.HamiltonianRotation is HamiltonianRotation
