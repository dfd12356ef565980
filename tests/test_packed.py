"""Packed forward mode: the derivative of one angle from one complex pass, against jax.jvp and parameter shift."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dqnn.costs import cost, per_pair
from dqnn.gradients import grad_autodiff, grad_cost, grad_param_shift
from dqnn.model import gates, states
from dqnn.model.angles import AngleIndex, angle_indices, get_angle, set_angle
from dqnn.model.families import Circuit, Gate, HaarUnitary, Rot
from dqnn.model.network import Network, Perceptron
from dqnn.presets import architectures
from dqnn.presets.problems import zero_pair
from dqnn.sim import packed
from dqnn.sim.simulate import output_factors
from strategies import random_networks, real_family, repeated_networks


def _random_data(rng: np.random.Generator, kind: str, n_in: int, n_out: int, pairs: int, mixed: bool):  # type: ignore[no-untyped-def]
    """Real inputs, vectors (pairs, 2**n_in) or density matrices of random rank, and complex targets of ``kind``."""
    d = 2**n_in
    if mixed:
        v = rng.normal(size=(pairs, d, 1 + int(rng.integers(d))))
        x = v @ np.swapaxes(v, 1, 2)
        x /= np.trace(x, axis1=1, axis2=2)[:, None, None]
    else:
        x = rng.normal(size=(pairs, d))
        x /= np.linalg.norm(x, axis=1, keepdims=True)
    if kind == "global":
        t = rng.normal(size=(pairs, 2**n_out)) + 1j * rng.normal(size=(pairs, 2**n_out))
        return x, t / np.linalg.norm(t, axis=1, keepdims=True)
    if kind == "local":
        t = rng.normal(size=(pairs, n_out, 2)) + 1j * rng.normal(size=(pairs, n_out, 2))
        return x, t / np.linalg.norm(t, axis=2, keepdims=True)
    h = rng.normal(size=(pairs, 2**n_out, 2**n_out)) + 1j * rng.normal(size=(pairs, 2**n_out, 2**n_out))
    return x, h + np.conj(np.swapaxes(h, 1, 2))


@settings(max_examples=10, deadline=None)  # ~4 s each (a scan or two compiled per example)
@given(
    net=st.one_of(random_networks(real_family), repeated_networks(real_family)),
    seed=st.integers(0, 2**31 - 1),
    kind=st.sampled_from(["global", "local", "observable"]),
    pairs=st.integers(1, 2),
    mixed=st.booleans(),
    data=st.data(),
)
def test_packed_derivative_equals_jvp_on_random_real_networks(net, seed, kind, pairs, mixed, data):  # type: ignore[no-untyped-def]
    """Pure and mixed inputs, purified registers and registers that form the density matrix, scans or not."""
    assume(angle_indices(net))
    assert net.real
    idx = data.draw(st.sampled_from(angle_indices(net)))
    params = net.init(jax.random.key(seed))
    x, t = _random_data(np.random.default_rng(seed), kind, net.num_inputs, net.num_outputs, pairs, mixed)

    @jax.jit  # one program per example (the data stay concrete): a third faster than op by op
    def derivatives(p):  # type: ignore[no-untyped-def]
        got = packed.per_pair_derivative(net, p, x, t, kind, idx)
        _, want = jax.jvp(lambda th: per_pair(net, set_angle(p, idx, th), x, t, kind), (get_angle(p, idx),), (1.0,))
        return got, want, grad_cost(net, p, x, t, kind, idx)

    got, want, through_grad_cost = derivatives(params)
    assert got.shape == (pairs,)
    np.testing.assert_allclose(got, want, atol=1e-11)
    np.testing.assert_allclose(through_grad_cost, np.mean(want), atol=1e-11)


def test_packed_gate_is_the_rotation_plus_i_its_derivative():
    theta = 0.7
    ops = packed.PackedCircuit(Circuit(2, [Gate("CZ", (0, 1)), Rot("Y", (1,))]), 0).ops({"theta": jnp.array([theta])})
    c, s = np.cos(theta / 2), np.sin(theta / 2)
    want = np.array([[c, -s], [s, c]]) + 0.5j * np.array([[-s, -c], [c, -s]])
    np.testing.assert_allclose(np.asarray(ops[1].matrix), want, atol=1e-15)
    np.testing.assert_array_equal(np.asarray(ops[0].matrix), np.diag([1.0, 1, 1, -1]))  # the rest unchanged
    assert ops[1].wires == (1,)


def test_packed_state_holds_the_state_and_its_derivative():
    net = architectures.fig3b(4, 6, w="ry-cz")  # scanned blocks
    params = net.init(jax.random.key(2))
    idx = AngleIndex(3, 0, 1)  # inside the scanned region: that layer is unrolled
    psi = np.asarray(states.zero_state(4))
    a = output_factors(packed.packed_network(net, idx), params, psi).a
    theta = float(params[3][0]["theta"][1])

    def state(th):  # type: ignore[no-untyped-def]
        p = list(map(list, params))
        p[3][0] = {**p[3][0], "theta": p[3][0]["theta"].at[1].set(th)}
        return output_factors(net, tuple(map(tuple, p)), psi).a

    primal, tangent = jax.jvp(state, (theta,), (1.0,))
    np.testing.assert_allclose(np.real(a), np.real(primal), atol=1e-13)
    np.testing.assert_allclose(np.imag(a), np.real(tangent), atol=1e-13)
    np.testing.assert_allclose(np.imag(primal), 0.0, atol=1e-15)


@pytest.mark.parametrize("kind", ["global", "local"])
def test_grad_cost_uses_the_packed_pass_on_deep_real_networks_and_agrees_with_parameter_shift(kind, monkeypatch):  # type: ignore[no-untyped-def]
    net = architectures.fig3b(4, 6, w="ry-cz")
    x, t = zero_pair(4, kind)  # type: ignore[arg-type]
    assert packed.applies(net, x)
    calls = []
    real_derivative = packed.per_pair_derivative
    monkeypatch.setattr(packed, "per_pair_derivative", lambda *a: calls.append(1) or real_derivative(*a))
    params = net.init(jax.random.key(5))
    # the references compiled once (op by op, each call would compile the scanned blocks again)
    cost_fn = jax.jit(lambda p: cost(net, p, x, t, kind))  # type: ignore[arg-type]
    for idx in (AngleIndex(0, 0, 0), AngleIndex(2, 1, 0), AngleIndex(5, 0, 1), AngleIndex(3, 0, 0)):
        got = float(grad_cost(net, params, x, t, kind, idx))  # type: ignore[arg-type]
        want = float(grad_param_shift(cost_fn, params, idx))
        assert abs(got - want) < 1e-12
    assert len(calls) == 4
    # and under jit + vmap, as the variance engine runs it
    batch = net.init_batch(jax.random.key(6), 3)
    idx = AngleIndex(1, 0, 0)
    g = jax.jit(jax.vmap(lambda p: grad_cost(net, p, x, t, kind, idx)))(batch)  # type: ignore[arg-type]
    autodiff = jax.jit(lambda q: grad_autodiff(lambda r: cost(net, r, x, t, kind), q, idx))  # type: ignore[arg-type]
    for i in range(3):
        p = jax.tree_util.tree_map(lambda v, i=i: v[i], batch)
        assert abs(float(g[i]) - float(autodiff(p))) < 1e-12


def test_applies_only_where_exact_and_faster():
    deep = architectures.fig3b(4, 6, w="ry-cz")
    x, _ = zero_pair(4, "global")
    assert packed.applies(deep, x)
    assert not packed.applies(architectures.fig3b(4, 6), x)  # Haar blocks: complex
    assert not packed.applies(architectures.fig3b(4, 2, w="ry-cz"), x)  # no scan: jvp runs in float64 already
    rho = np.asarray(x)[:, :, None] * np.asarray(x)[:, None, :]
    assert packed.applies(deep, rho)  # real density-matrix inputs too
    assert not packed.applies(deep, np.asarray(x)[0])  # not stacked
    assert not packed.applies(deep, np.asarray(x) * 1j)  # complex-valued input
    traced = jax.jit(lambda v: jnp.asarray(packed.applies(deep, v)))(jnp.asarray(x, dtype=complex))
    assert not bool(traced)  # a traced complex input is not assumed real


def test_bad_uses_are_named():
    x, t = zero_pair(2, "global")
    idx = AngleIndex(0, 0, 0)
    haar = Network([2, 2], [[Perceptron([0, 1], [0], Circuit(3, [Rot("X", (0,)), Gate("SWAP", (0, 2))]))]])
    with pytest.raises(ValueError, match="not real"):
        packed.per_pair_derivative(haar, haar.init(jax.random.key(0)), x, t, "global", idx)
    real = architectures.fig3b(2, 1, w="ry-cz")
    with pytest.raises(ValueError, match="must be real-valued"):
        packed.per_pair_derivative(real, real.init(jax.random.key(0)), np.asarray(x) * 1j, t, "global", idx)
    with pytest.raises(ValueError, match="not real"):
        packed.PackedCircuit(Circuit(1, [Rot("X", (0,))]), 0)
    with pytest.raises(ValueError, match="angle 2 out of range"):
        packed.PackedCircuit(Circuit(1, [Rot("Y", (0,))]), 2)
    fixed = Network([1, 1], [[Perceptron([0], [0], HaarUnitary(2))]])
    with pytest.raises(ValueError, match="angle L0P0A0: family HaarUnitary has no packed form"):
        packed.packed_network(fixed, idx)
    complex_circuit = Network([1, 1], [[Perceptron([0], [0], Circuit(2, [Rot("X", (0,))]))]])
    with pytest.raises(ValueError, match=r"angle L0P0A0: family Circuit has no packed form.*not real"):
        packed.packed_network(complex_circuit, idx)


def test_packed_circuit_is_the_circuits_packed_form():
    c = Circuit(2, [Gate("CZ", (0, 1)), Rot("Y", (1,)), Rot("Y", (0,))])
    params = {"theta": jnp.array([0.3, -1.1]), "haar": ()}
    for angle in range(2):
        a = packed.PackedCircuit(c, angle).ops(params)
        pk = c.packed(angle)
        assert pk is not None
        b = pk.ops(params)
        assert [o.wires for o in a] == [o.wires for o in b]
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(np.asarray(x.matrix), np.asarray(y.matrix))
    assert Circuit(1, [Rot("X", (0,))]).packed(0) is None
    assert np.allclose(gates.pauli_rotation("Y", 0.0), np.eye(2))
