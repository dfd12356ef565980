"""The simulator against the brute-force Eq. (1), physical invariants and memory claims."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dqnn
from bruteforce import output_bruteforce
from dqnn.model import families, states
from dqnn.model.families import Circuit, Gate, HaarUnitary, RandomUnitary, Rot
from dqnn.model.network import Network, Perceptron
from dqnn.presets import architectures
from dqnn.sim.simulate import output_factors, output_state, peak_stored_qubits, real_arithmetic
from strategies import random_networks, real_family, repeated_networks


@given(net=random_networks(), seed=st.integers(0, 2**31 - 1), mixed=st.booleans())
def test_simulator_matches_bruteforce_eq1(net, seed, mixed):  # type: ignore[no-untyped-def]
    k1, k2 = jax.random.split(jax.random.key(seed))
    params = net.init(k1)
    n0 = net.num_inputs
    rank = 1 + seed % (2**n0)
    rho_in = states.random_density_matrix(k2, n0, rank=rank) if mixed else states.haar_state(k2, n0)
    got = np.asarray(output_state(net, params, rho_in))
    want = output_bruteforce(net, params, np.asarray(rho_in))
    np.testing.assert_allclose(got, want, atol=1e-10)
    # physical invariants
    np.testing.assert_allclose(got, got.conj().T, atol=1e-12)
    assert abs(np.trace(got) - 1) < 1e-10
    assert np.linalg.eigvalsh(got).min() > -1e-10


def test_order_of_perceptrons_matters_and_is_respected():
    k = jax.random.split(jax.random.key(3), 2)
    u = [np.asarray(dqnn.model.gates.haar_unitary(kk, 8)) for kk in k]
    a = Network([2, 1], [[Perceptron([0, 1], [0], u[0]), Perceptron([0, 1], [0], u[1])]])
    b = Network([2, 1], [[Perceptron([0, 1], [0], u[1]), Perceptron([0, 1], [0], u[0])]])
    psi = states.zero_state(2)
    ra, rb = np.asarray(output_state(a, None, psi)), np.asarray(output_state(b, None, psi))
    assert np.max(np.abs(ra - rb)) > 1e-3
    np.testing.assert_allclose(ra, output_bruteforce(a, a.default_params(), np.asarray(psi)), atol=1e-12)


def test_from_unitaries_example_232():
    keys = jax.random.split(jax.random.key(0), 5)
    u1 = [np.asarray(dqnn.model.gates.haar_unitary(k, 8)) for k in keys[:3]]
    u2 = [np.asarray(dqnn.model.gates.haar_unitary(k, 16)) for k in keys[3:]]
    net = Network.from_unitaries([2, 3, 2], [u1, u2])
    psi = states.haar_state(jax.random.key(9), 2)
    rho_vec = np.asarray(output_state(net, None, psi))
    rho_mat = np.asarray(output_state(net, None, np.outer(psi, np.conj(psi))))
    np.testing.assert_allclose(rho_vec, rho_mat, atol=1e-12)
    np.testing.assert_allclose(rho_vec, output_bruteforce(net, net.default_params(), np.asarray(psi)), atol=1e-12)


@pytest.mark.parametrize("layers", [1, 3])
def test_fig3a_gives_closed_form_product_state(layers):
    n = 4
    net = architectures.fig3a(n, layers)
    params = net.init(jax.random.key(7))
    psi = states.random_product_state(jax.random.key(8), n)[0]
    rho = np.asarray(output_state(net, params, psi))
    # each qubit j: R_y(sum of its angles) applied to input qubit j's state
    facs = states.random_product_state(jax.random.key(8), n)[1]
    out = []
    for j in range(n):
        t = sum(float(params[l][j]["theta"][0]) for l in range(layers))
        out.append(np.asarray(dqnn.model.gates.pauli_rotation("Y", t)) @ np.asarray(facs[j]))
    want = np.asarray(states.product_state(out))
    np.testing.assert_allclose(rho, np.outer(want, want.conj()), atol=1e-12)


def test_fig3b_equals_brick_circuit():
    for n, layers in [(5, 4), (6, 3)]:  # odd and even n, even and odd depth
        net = architectures.fig3b(n, layers)
        params = net.init(jax.random.key(n + layers))
        psi = states.haar_state(jax.random.key(1), n)
        rho = np.asarray(output_state(net, params, psi))
        e = np.asarray(architectures.fig3b_equivalent_state(net, params, psi))
        np.testing.assert_allclose(rho, np.outer(e, e.conj()), atol=1e-12)


def test_factors_density_agree_and_pure_input_stays_pure_for_fig3b():
    net = architectures.fig3b(6, 4)
    params = net.init(jax.random.key(0))
    f = output_factors(net, params, states.zero_state(6))
    assert f.b is None and f.a.shape == (64, 1)  # pure: the relabelling kept the rank at one
    rho = np.asarray(f.density())
    assert abs(np.real(np.trace(rho @ rho)) - 1) < 1e-12


def test_six_layers_of_six_qubits_memory_is_two_adjacent_layers():
    """36 qubits in all; the largest tensor held is set by two adjacent layers (Eq. 1's point)."""
    net = architectures.global_haar([6] * 7)
    peak = peak_stored_qubits(net)
    assert peak <= 18  # 2**18 complex128 = 4 MiB per factor
    params = net.init(jax.random.key(0))
    rho = np.asarray(output_state(net, params, states.zero_state(6)))
    assert rho.shape == (64, 64)
    assert abs(np.trace(rho) - 1) < 1e-10
    assert np.linalg.eigvalsh(rho).min() > -1e-10


def test_mixed_input_of_full_rank_goes_through_density_form():
    net = architectures.global_haar([2, 2, 2])
    params = net.init(jax.random.key(2))
    rho_in = states.random_density_matrix(jax.random.key(3), 2)
    got = np.asarray(output_state(net, params, rho_in))
    np.testing.assert_allclose(got, output_bruteforce(net, params, np.asarray(rho_in)), atol=1e-10)


def test_simulator_is_jittable_vmappable_and_differentiable():
    net = architectures.fig3b(4, 2)
    batch = net.init_batch(jax.random.key(0), 5)
    psi = states.zero_state(4)
    f = jax.jit(jax.vmap(lambda p: jnp.real(output_state(net, p, psi)[0, 0])))
    vals = np.asarray(f(batch))
    assert vals.shape == (5,)
    for i in range(5):
        p = jax.tree_util.tree_map(lambda x, i=i: x[i], batch)
        assert abs(vals[i] - float(np.real(output_state(net, p, psi)[0, 0]))) < 1e-12
    g = jax.jit(jax.grad(lambda p: jnp.real(output_state(net, p, psi)[0, 0])))(net.init(jax.random.key(1)))
    assert np.isfinite(np.asarray(g[0][0]["theta"])).all()


@settings(max_examples=8, deadline=None)
@given(net=repeated_networks(), seed=st.integers(0, 2**31 - 1), mixed=st.booleans())
def test_scanned_repeated_layers_match_unrolled_and_bruteforce(net, seed, mixed):  # type: ignore[no-untyped-def]
    from dqnn.sim import simulate

    plan = simulate._plan(net)
    assert any(k >= simulate.SCAN_MIN_REPEATS for _, _, k in plan)  # the scan path is planned
    k1, k2 = jax.random.split(jax.random.key(seed))
    params = net.init(k1)
    n0 = net.num_inputs
    rho_in = states.random_density_matrix(k2, n0, rank=1 + seed % (2**n0)) if mixed else states.haar_state(k2, n0)
    got = np.asarray(output_state(net, params, rho_in))
    saved = simulate.SCAN_MIN_REPEATS
    simulate.SCAN_MIN_REPEATS = 10**9  # the unrolled simulator, itself checked against Eq. (1) above
    try:
        want = np.asarray(output_state(net, params, rho_in))
    finally:
        simulate.SCAN_MIN_REPEATS = saved
    np.testing.assert_allclose(got, want, atol=1e-11)
    if sum(net.widths) <= 10:  # small enough for the full-unitary Eq. (1)
        np.testing.assert_allclose(got, output_bruteforce(net, params, np.asarray(rho_in)), atol=1e-10)


def test_plan_finds_periodic_blocks_and_scan_runs():  # type: ignore[no-untyped-def]
    from dqnn.sim import simulate

    net = architectures.fig3b(6, 9)  # bricks alternate: period 2
    assert simulate._plan(net) == [(0, 2, 4), (8, 1, 1)]
    calls = []
    orig = simulate._scan_blocks

    def spy(*args):  # type: ignore[no-untyped-def]
        calls.append(args[3:])
        return orig(*args)

    simulate._scan_blocks, saved = spy, simulate._scan_blocks
    try:
        params = net.init(jax.random.key(3))
        psi = np.asarray(output_factors(net, params, states.zero_state(6)).a[:, 0])
    finally:
        simulate._scan_blocks = saved
    assert calls == [(0, 2, 4)]  # the layout is steady from the start: all four blocks scanned
    want = architectures.fig3b_equivalent_state(net, params, states.zero_state(6))
    np.testing.assert_allclose(abs(np.vdot(want, psi)), 1.0, atol=1e-12)


def test_runs_of_fixed_diagonal_gates_are_applied_as_one_product(monkeypatch):  # type: ignore[no-untyped-def]
    """CZs of separate perceptrons (moved by SWAPs) cost one elementwise product, not a pass each; a pending
    diagonal is applied before a later gate on its qubit and before its qubit is traced out."""
    from dqnn.sim import simulate

    n = 6
    mix = Circuit(2, [Rot("Y", (0,)), Rot("X", (1,)), Gate("CNOT", (0, 1))])
    cz = Circuit(4, [Gate("CZ", (0, 1)), Gate("SWAP", (0, 2)), Gate("SWAP", (1, 3))])
    move = Circuit(2, [Gate("SWAP", (0, 1))])
    phase = Circuit(2, [Gate(np.diag([1, 1j]), (0,)), Gate("SWAP", (0, 1))])
    hadamard = Circuit(1, [Gate("H", (0,))])
    layer0 = [
        Perceptron([j, j + 1], [j, j + 1], Circuit(4, [*mix.elements, Gate("SWAP", (0, 2)), Gate("SWAP", (1, 3))]))
        for j in range(0, n, 2)
    ]
    layer1 = [Perceptron([j, j + 1], [j, j + 1], cz) for j in range(1, n - 1, 2)]
    layer1 += [Perceptron([0], [0], move), Perceptron([n - 1], [n - 1], move)]
    # CZ on inputs 0, 1 then input 0 traced at once; a phase moved to an output, then H there (a later perceptron)
    layer2 = [Perceptron([0, 1], [0], Circuit(3, [Gate("CZ", (0, 1)), Gate("SWAP", (1, 2))]))]
    for q in range(2, n):
        layer2 += [Perceptron([q], [q - 1], phase), Perceptron([], [q - 1], hadamard)]
    net = Network([n, n, n, n - 1], [layer0, layer1, layer2])
    params = net.init(jax.random.key(4))
    psi = states.haar_state(jax.random.key(5), n)
    calls = []
    orig = simulate.apply_gate

    def spy(t, u, axes):  # type: ignore[no-untyped-def]
        calls.append(len(axes))
        return orig(t, u, axes)

    monkeypatch.setattr(simulate, "apply_gate", spy)
    got = np.asarray(output_state(net, params, psi))
    monkeypatch.setattr(simulate, "FUSE_DIAGONALS", False)  # each gate as it comes (checked against Eq. 1 above)
    n_fused = len(calls)
    np.testing.assert_allclose(got, np.asarray(output_state(net, params, psi)), atol=1e-12)
    assert len(calls) - n_fused == 14  # unfused: one call per gate
    # fused: layer 0 three two-qubit gates; layer 1 none (its two CZs are one product); layer 2 the lone CZ
    # (in place) before input 0 is traced, then for each qubit its phase (alone, in place) before the H
    assert calls[:n_fused] == [2, 2, 2, 2] + [1, 1] * 4
    # combined diagonals spanning at most two qubits: the two CZs of layer 1 go one at a time again
    monkeypatch.setattr(simulate, "FUSE_DIAGONALS", True)
    monkeypatch.setattr(simulate, "DIAGONAL_MAX_QUBITS", 2)
    calls.clear()
    np.testing.assert_allclose(got, np.asarray(output_state(net, params, psi)), atol=1e-12)
    assert len(calls) == 14


def test_unstable_scan_falls_back_to_unrolling(monkeypatch):  # type: ignore[no-untyped-def]
    from dqnn.sim import simulate

    net = architectures.global_haar([2] * 7)
    params = net.init(jax.random.key(5))
    rho = states.random_density_matrix(jax.random.key(6), 2, rank=2)
    want = np.asarray(output_state(net, params, rho))
    calls = []
    orig = simulate._scan_blocks

    def refuse_first(*args):  # type: ignore[no-untyped-def]
        calls.append(args[3:])
        if len(calls) == 1:
            raise simulate._NotStable
        return orig(*args)

    monkeypatch.setattr(simulate, "_scan_blocks", refuse_first)
    got = np.asarray(output_state(net, params, rho))
    assert calls == [(0, 1, 6), (1, 1, 5)]  # retried one layer later
    np.testing.assert_allclose(got, want, atol=1e-12)


# ---------------------------------------------------------------------------------------------------------------
# Real arithmetic for real networks (R_y, CNOT, CZ, H, SWAP, real fixed gates) on real inputs


# a third of the profile's examples (20 by default): the brute-force agreement of random networks is
# test_simulator_matches_bruteforce_eq1's; this one checks the dtype path, and each example compiles twice
@settings(max_examples=max(1, settings.default.max_examples // 3))
@given(net=random_networks(real_family), seed=st.integers(0, 2**31 - 1), mixed=st.booleans())
def test_real_network_on_real_input_runs_in_float64_with_the_same_numbers(net, seed, mixed):  # type: ignore[no-untyped-def]
    assert net.real
    k1, k2 = jax.random.split(jax.random.key(seed))
    params = net.init(k1)
    rng = np.random.default_rng(seed)
    d = 2**net.num_inputs
    v = rng.normal(size=(d, 1 + seed % d) if mixed else d)
    rho_in = v @ v.T / np.trace(v @ v.T) if mixed else v / np.linalg.norm(v)
    f = output_factors(net, params, rho_in)
    assert f.a.dtype == np.float64 and (f.b is None or f.b.dtype == np.float64)
    got = np.asarray(output_state(net, params, rho_in))
    assert got.dtype == np.complex128
    np.testing.assert_allclose(got, output_bruteforce(net, params, rho_in), atol=1e-10)
    # a traced input is never assumed real: the complex path gives the same state
    traced = np.asarray(jax.jit(lambda x: output_state(net, params, x))(jnp.asarray(rho_in, dtype=complex)))
    np.testing.assert_allclose(got, traced, atol=1e-12)


def test_realness_of_families_and_networks():
    assert Circuit(2, [Rot("Y", (0,)), Gate("CZ", (0, 1)), Gate("SWAP", (0, 1)), Rot("XY", (0, 1))]).real
    assert not Circuit(1, [Rot("X", (0,))]).real  # R_x is complex
    assert not Circuit(2, [Rot("YY", (0, 1))]).real  # even number of Y's
    assert not Circuit(1, [Gate("Y", (0,))]).real  # the gate Y is imaginary
    assert not Circuit(1, [RandomUnitary((0,))]).real
    assert not HaarUnitary(1).real
    assert families.Fixed(dqnn.model.gates.HADAMARD).real
    assert architectures.fig3a(3).real
    deep = architectures.fig3a(2, 4)  # four repeated layers: scanned, so kept complex (dqnn.sim.simulate doc)
    assert deep.real and not real_arithmetic(deep) and real_arithmetic(architectures.fig3a(2, 2))
    xd = np.array([0.6, 0.8, 0.0, 0.0])
    pd = deep.init(jax.random.key(1))
    fd = output_factors(deep, pd, xd)
    assert fd.a.dtype == np.complex128
    np.testing.assert_allclose(np.asarray(fd.density()), output_bruteforce(deep, pd, xd), atol=1e-12)
    assert not architectures.fig3b(4, 2).real  # Haar-random W blocks
    x = np.zeros(8)
    x[0] = 1.0
    assert (
        output_factors(architectures.fig3a(3), architectures.fig3a(3).init(jax.random.key(0)), x).a.dtype == np.float64
    )
