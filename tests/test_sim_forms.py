"""The simulator's large-gate form (``FRONT_GATES``: wires to the front, unstored |0> qubits joining without
padding) against the previous engine (``FRONT_GATES = False``) and the brute-force Eq. (1): densities,
derivatives and sampled gradients on random networks, mixed inputs, rank growth, real arithmetic and scans."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bruteforce import output_bruteforce
from dqnn.costs import cost
from dqnn.gradients import grad_cost
from dqnn.model import gates, states
from dqnn.model.network import Network, Perceptron
from dqnn.presets import architectures
from dqnn.presets.problems import zero_pair
from dqnn.sim import simulate
from dqnn.sim.kernel import apply_gate, apply_gate_front
from dqnn.trainability.sampling import PointSpec, sampler
from strategies import random_networks, repeated_networks


def _both(monkeypatch, fn):  # type: ignore[no-untyped-def]
    """``fn()`` with the new large-gate form and with the previous engine's."""
    new = fn()
    monkeypatch.setattr(simulate, "FRONT_GATES", False)
    old = fn()
    monkeypatch.setattr(simulate, "FRONT_GATES", True)
    return new, old


def _input(key, n0: int, mixed: bool, rank: int):  # type: ignore[no-untyped-def]
    return states.random_density_matrix(key, n0, rank=rank) if mixed else states.haar_state(key, n0)


def test_front_kernel_equals_padded_gate_on_every_wire_subset():
    rng = np.random.default_rng(0)
    t = rng.normal(size=(2, 2, 2, 3)) + 1j * rng.normal(size=(2, 2, 2, 3))  # 3 qubits, rank 3
    u = np.asarray(gates.haar_unitary(jax.random.key(1), 16))  # on 4 wires: 3 stored (in some order) + 1 fresh
    for axes in ([2, 0, None, 1], [None, 1, 2, 0], [0, 1, 2, None]):
        got = np.asarray(apply_gate_front(jnp.asarray(t), jnp.asarray(u), axes))
        padded = np.concatenate([t[..., None], np.zeros_like(t[..., None])], axis=-1)  # fresh qubit as axis 4
        padded = np.moveaxis(padded, -1, 3)
        full = [3 if a is None else a for a in axes]
        want = np.asarray(apply_gate(jnp.asarray(padded), jnp.asarray(u), full))
        want = np.moveaxis(want, full, [0, 1, 2, 3])  # the gate's wires in front, in u's wire order
        np.testing.assert_allclose(got, want, atol=1e-13)


@settings(max_examples=3)
@given(net=random_networks(), seed=st.integers(0, 2**31 - 1), mixed=st.booleans())
def test_random_networks_match_previous_engine(net, seed, mixed):  # type: ignore[no-untyped-def]
    k1, k2 = jax.random.split(jax.random.key(seed))
    params = net.init(k1)
    rho_in = _input(k2, net.num_inputs, mixed, 1 + seed % (2**net.num_inputs))
    with pytest.MonkeyPatch.context() as mp:
        new, old = _both(mp, lambda: np.asarray(simulate.output_state(net, params, rho_in)))
    np.testing.assert_allclose(new, old, atol=1e-12)  # the previous engine: brute-force tested in test_simulate


@settings(max_examples=2)
@given(net=repeated_networks(), seed=st.integers(0, 2**31 - 1))
def test_scanned_networks_match_previous_engine(net, seed):  # type: ignore[no-untyped-def]
    k1, k2 = jax.random.split(jax.random.key(seed))
    params = net.init(k1)
    psi = states.haar_state(k2, net.num_inputs)
    with pytest.MonkeyPatch.context() as mp:
        new, old = _both(mp, lambda: np.asarray(simulate.output_state(net, params, psi)))
    np.testing.assert_allclose(new, old, atol=1e-12)


def test_theorem1_network_rank_growth_density_and_derivative(monkeypatch):  # type: ignore[no-untyped-def]
    """[3, 3, 3] global Haar (every gate on 4 wires, one of them a fresh |0>): the rank grows past ``d``
    (density form) in layer 1; the output and dC/dtheta (forward mode) agree with the previous engine and
    the brute force, for a full-rank mixed input (the pure one: the sampler test below)."""
    mixed = True
    net = architectures.global_haar([3, 3, 3], differentiate=(0, 0))
    params = net.init(jax.random.key(5))
    rho_in = _input(jax.random.key(6), 3, mixed, 8)
    new, old = _both(monkeypatch, lambda: np.asarray(simulate.output_state(net, params, rho_in)))
    np.testing.assert_allclose(new, old, atol=1e-12)
    np.testing.assert_allclose(new, output_bruteforce(net, params, np.asarray(rho_in)), atol=1e-10)
    x, t = zero_pair(3, "global")
    if mixed:
        x = jnp.asarray(rho_in)[None]
    idx = architectures_angle(net)
    g_new, g_old = _both(monkeypatch, lambda: float(grad_cost(net, params, x, t, "global", idx)))
    assert abs(g_new - g_old) < 1e-12

    # independent check: the central difference of the brute-force cost
    def c(theta: float) -> float:
        p = [list(row) for row in params]
        p[0][0] = {**p[0][0], "theta": jnp.array([theta])}
        rho = output_bruteforce(net, tuple(tuple(r) for r in p), np.asarray(x[0]))
        return 1.0 - float(np.real(rho[0, 0]))

    th, h = float(params[0][0]["theta"][0]), 1e-5
    assert abs(g_new - (c(th + h) - c(th - h)) / (2 * h)) < 1e-8
    assert abs(float(cost(net, params, x, t, "global")) - c(th)) < 1e-12


def architectures_angle(net: Network):  # type: ignore[no-untyped-def]
    """The first angle of ``net`` (the Theorem 1 perceptron's R_y)."""
    from dqnn.model.angles import angle_indices

    return angle_indices(net)[0]


def test_sampled_theorem1_gradients_match_previous_engine(monkeypatch):  # type: ignore[no-untyped-def]
    """The variance engine's samples on the ``global`` preset ([3] * 3, pure input), new vs previous."""
    g = PointSpec("global", "global", 3, 2).gradient()
    keys = jax.random.split(jax.random.key(2), 8)

    def run() -> np.ndarray:
        fn, _ = sampler(g, 8)
        return np.asarray(fn(keys))

    new, old = _both(monkeypatch, run)
    np.testing.assert_allclose(new, old, atol=1e-12, rtol=0)
    assert np.std(new) > 1e-4  # not trivially zero


def test_real_large_gate_stays_float64_and_matches(monkeypatch):  # type: ignore[no-untyped-def]
    """A fixed real orthogonal gate on 4 wires (3 inputs + 1 fresh output) on a real input: float64 kept."""
    q, _ = np.linalg.qr(np.random.default_rng(3).normal(size=(16, 16)))
    net = Network([3, 2], [[Perceptron([0, 1, 2], [0], q), Perceptron([2, 0, 1], [1], q.T)]])
    psi = np.zeros(8)
    psi[0] = 1.0
    params = net.default_params()
    new, old = _both(monkeypatch, lambda: simulate.output_factors(net, params, psi))
    assert new.a.dtype == jnp.float64
    np.testing.assert_allclose(np.asarray(new.density()), np.asarray(old.density()), atol=1e-13)
    np.testing.assert_allclose(np.asarray(new.density()), output_bruteforce(net, params, psi), atol=1e-12)


def test_peak_stored_qubits_is_abstract_for_wide_inputs():
    """Fig. 3b at n = 34 stores its 34 qubits; planning it allocates no 2**34 input (it would need 256 GiB)."""
    from dqnn.sim.simulate import peak_stored_qubits

    assert peak_stored_qubits(architectures.fig3b(34, 2)) == 34
    assert peak_stored_qubits(architectures.global_haar([3, 3, 3])) == peak_stored_qubits(
        architectures.global_haar([3, 3, 3]), pure_input=False
    )
