"""Classical shadows (dqnn.estimators.shadows): the Clifford sampler, Pauli and Clifford snapshots, median of means."""

from __future__ import annotations

import math

import jax
import numpy as np
import pytest
import scipy.stats
from qiskit import QuantumCircuit
from qiskit.quantum_info import Clifford, random_clifford

import dqnn
from dqnn.estimators import shadows as S
from dqnn.estimators import shots as E
from dqnn.model import gates
from dqnn.presets.problems import GradientProblem
from dqnn.sim.simulate import Factors, output_factors


def _state(arch: str, n: int, layers: int, seed: int = 1) -> Factors:
    pr = GradientProblem(arch, n, layers)  # type: ignore[arg-type]
    net = pr.network()
    return E.as_numpy(output_factors(net, net.init(jax.random.key(seed)), pr.data()[0][0]))


@pytest.fixture(scope="module")
def mixed2() -> Factors:
    """A mixed 2-qubit output state (global Haar perceptrons, one layer)."""
    return _state("global", 2, 1)


@pytest.fixture(scope="module")
def pure3() -> Factors:
    """A pure 3-qubit output state (Fig. 3b, two layers)."""
    return _state("fig3b", 3, 2)


@pytest.fixture(scope="module")
def target2() -> np.ndarray:
    """A Haar-random 2-qubit target with a sizeable overlap-independent generic structure."""
    return np.asarray(dqnn.model.states.haar_state(jax.random.key(11), 2))


def _exact_fidelity(f: Factors, phi: np.ndarray) -> float:
    return float(np.real(phi.conj() @ np.asarray(f.density()) @ phi))


# --- the Clifford sampler ---------------------------------------------------------------------------------


def _equal_up_to_phase(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(abs(abs(np.trace(a.conj().T @ b)) - a.shape[0]) < 1e-9)


def test_clifford_matrix_uses_dqnn_qubit_order():
    """qiskit's qubit j is dqnn's qubit j; dqnn's qubit 0 is the most significant (np.kron order)."""
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)  # control qubit 0
    assert _equal_up_to_phase(S.clifford_matrix(Clifford(qc)), gates.CNOT @ np.kron(gates.HADAMARD, gates.I2))
    qc3 = QuantumCircuit(3)
    qc3.x(0)
    qc3.s(2)
    s = np.diag([1, 1j])
    expected = np.kron(np.kron(gates.X, gates.I2), s)
    assert _equal_up_to_phase(S.clifford_matrix(Clifford(qc3)), expected)
    # acting on a dqnn basis state: X on qubit 0 of |000> gives |100> = index 4
    assert abs(S.clifford_matrix(Clifford(qc3))[4, 0]) == pytest.approx(1.0)


def _pauli_in_dqnn_order(xs: np.ndarray, zs: np.ndarray) -> np.ndarray:
    """The Pauli with X-bits ``xs`` and Z-bits ``zs`` (qiskit's qubit j = entry j), sign dropped, dqnn order."""
    labels = {(0, 0): gates.I2, (1, 0): gates.X, (0, 1): gates.Z, (1, 1): gates.Y}
    return gates.kron(*[labels[(int(x), int(z))] for x, z in zip(xs, zs, strict=True)])


@pytest.mark.parametrize("n", [1, 2, 3])
def test_clifford_unitary_is_unitary_seeded_and_maps_paulis_in_dqnn_order(n):
    d = 2**n
    for seed in range(4):
        u = S.clifford_unitary(n, seed)
        assert u.dtype == np.complex128 and u.shape == (d, d)
        np.testing.assert_allclose(u.conj().T @ u, np.eye(d), atol=1e-12)
        np.testing.assert_array_equal(u, S.clifford_unitary(n, seed))
        tab = random_clifford(n, seed=np.random.default_rng(seed))  # the same draw, as a tableau
        for j in range(n):
            zj = gates.kron(*[gates.Z if q == j else gates.I2 for q in range(n)])
            xj = gates.kron(*[gates.X if q == j else gates.I2 for q in range(n)])
            z_image = _pauli_in_dqnn_order(tab.stab_x[j], tab.stab_z[j])  # tableau row: image of Z_j
            x_image = _pauli_in_dqnn_order(tab.destab_x[j], tab.destab_z[j])  # image of X_j
            assert abs(np.trace(z_image @ u @ zj @ u.conj().T)) == pytest.approx(d)
            assert abs(np.trace(x_image @ u @ xj @ u.conj().T)) == pytest.approx(d)
    assert not _equal_up_to_phase(S.clifford_unitary(n, 0), S.clifford_unitary(n, 1)) or n == 1


def test_single_qubit_cliffords_are_uniform():
    """The 24 one-qubit Cliffords (mod phase) appear equally often (chi-square, 2400 draws)."""
    rng = np.random.default_rng(5)
    keys = []
    for _ in range(2400):
        u = S.clifford_unitary(1, rng)
        keys.append(tuple(np.round(np.concatenate([(u @ p @ u.conj().T).ravel() for p in (gates.X, gates.Z)]), 6)))
    _, counts = np.unique(np.array([str(k) for k in keys]), return_counts=True)
    assert len(counts) == 24
    assert scipy.stats.chisquare(counts).pvalue > 1e-3


# --- Clifford shadows of the fidelity --------------------------------------------------------------------


@pytest.fixture(scope="module")
def clifford_pool(mixed2, target2) -> np.ndarray:
    """4000 i.i.d. snapshot values (2**n + 1)|<phi|s>|**2 - 1 of the mixed 2-qubit state."""
    return S.clifford_shadow(mixed2, 4000, 1).fidelities(target2)


def test_clifford_snapshot_states_are_normalised(mixed2):
    sh = S.clifford_shadow(mixed2, 50, 0)
    assert sh.states.shape == (50, 4) and sh.snapshots == 50
    np.testing.assert_allclose(np.linalg.norm(sh.states, axis=1), 1.0, atol=1e-12)


def test_clifford_shadow_fidelity_agrees_within_stated_error(mixed2, target2):
    exact = _exact_fidelity(mixed2, target2)
    for seed in range(3):
        est = S.median_of_means(S.clifford_shadow(mixed2, 600, seed).fidelities(target2))
        assert abs(est.value - exact) < 4 * est.stderr
        assert est.stderr < 0.15  # per-snapshot variance <= 3 (shadow norm), inflated by sqrt(pi/2)


def test_clifford_shadow_unbiased_and_error_calibrated(mixed2, target2, clifford_pool):
    exact = _exact_fidelity(mixed2, target2)
    assert abs(clifford_pool.mean() - exact) < 4 * clifford_pool.std(ddof=1) / math.sqrt(clifford_pool.size)
    assert clifford_pool.var() < 3.0  # HKP: Var <= 3 Tr(O_0^2)-type bound for a projector
    chunks = [S.median_of_means(c) for c in clifford_pool.reshape(20, 200)]  # 20 independent estimates
    vals = np.array([c.value for c in chunks])
    assert abs(vals.mean() - exact) < 4 * vals.std(ddof=1) / math.sqrt(20)
    assert 0.6 < vals.std(ddof=1) / np.mean([c.stderr for c in chunks]) < 1.6


def test_clifford_shadow_error_shrinks_as_inverse_sqrt_snapshots(mixed2, target2, clifford_pool):
    exact = _exact_fidelity(mixed2, target2)
    sizes = np.array([25, 100, 400])
    rmse = [
        math.sqrt(np.mean([(S.median_of_means(c, 5).value - exact) ** 2 for c in clifford_pool.reshape(-1, m)]))
        for m in sizes
    ]
    slope = np.polyfit(np.log(sizes), np.log(rmse), 1)[0]
    assert slope == pytest.approx(-0.5, abs=0.15)


def test_clifford_shadow_on_a_pure_state_global_cost(pure3):
    phi = np.zeros(8, dtype=np.complex128)
    phi[0] = 1.0
    exact = float(dqnn.global_term(pure3, phi))
    est = S.shadow_estimate(pure3, phi, "global", 800, 3)
    assert est.shots == 800
    assert abs(est.value - exact) < 4 * est.stderr


# --- Pauli shadows of the local cost ----------------------------------------------------------------------


def test_pauli_rotations_diagonalise_x_y_z():
    for u, p in zip(S.PAULI_ROTATIONS, (gates.X, gates.Y, gates.Z), strict=True):
        np.testing.assert_allclose(u @ p @ u.conj().T, gates.Z, atol=1e-12)


def test_pauli_shadow_reduced_states(pure3):
    n_snap = 6000
    sh = S.pauli_shadow(pure3, n_snap, 9)
    assert sh.bases.shape == sh.bits.shape == (n_snap, 3) and sh.snapshots == n_snap
    est = sh.reduced_states()
    rho = np.asarray(pure3.density()).reshape((2,) * 6)
    exact = [np.einsum("abcdbc->ad", rho), np.einsum("abcaec->be", rho), np.einsum("abcabf->cf", rho)]
    np.testing.assert_allclose(np.trace(est, axis1=1, axis2=2), 1.0, atol=1e-12)
    assert np.max(np.abs(est - np.stack(exact))) < 5 * math.sqrt(3 / n_snap)


def test_pauli_shadow_local_cost_unbiased_and_calibrated(pure3):
    t = np.tile(np.array([1.0, 0.0], dtype=np.complex128), (3, 1))
    exact = float(dqnn.local_term(pure3, t))
    runs = [S.shadow_estimate(pure3, t, "local", 300, s) for s in range(200)]
    vals = np.array([r.value for r in runs])
    assert abs(vals.mean() - exact) < 4 * vals.std(ddof=1) / math.sqrt(200)
    assert 0.7 < vals.std(ddof=1) / np.mean([r.stderr for r in runs]) < 1.3


def test_pauli_shadow_error_shrinks_as_inverse_sqrt_snapshots(pure3):
    rng = np.random.default_rng(0)
    factors = np.stack([np.asarray(dqnn.model.states.haar_state(k, 1)) for k in jax.random.split(jax.random.key(2), 3)])
    exact = float(dqnn.local_term(pure3, factors))
    sizes = np.array([50, 200, 800, 3200])
    rmse = [
        math.sqrt(
            np.mean([(S.shadow_estimate(pure3, factors, "local", int(m), rng).value - exact) ** 2 for _ in range(80)])
        )
        for m in sizes
    ]
    slope = np.polyfit(np.log(sizes), np.log(rmse), 1)[0]
    assert slope == pytest.approx(-0.5, abs=0.1)


def test_shadows_through_estimate_cost():
    pr = GradientProblem("fig3b", 3, 2, "local")
    net = pr.network()
    params = net.init(jax.random.key(1))
    x, t = pr.data()
    est = E.estimate_cost(net, params, x, t, "local", "shadows", 2000, 0)
    assert abs(est.value - float(dqnn.cost(net, params, x, t, "local"))) < 4 * est.stderr
    assert est == E.estimate_cost(net, params, x, t, "local", "shadows", 2000, 0)


# --- median of means and the HKP bound --------------------------------------------------------------------


def test_median_of_means():
    est = S.median_of_means([0.0, 0.0, 0.0, 10.0, 1.0, 1.0], groups=3)  # batch means 0, 5, 1
    assert est.value == 1.0 and est.shots == 6
    vals = np.arange(7.0)
    one = S.median_of_means(vals, groups=1)
    assert one.value == vals.mean() and one.stderr == pytest.approx(vals.std(ddof=1) / math.sqrt(7))
    capped = S.median_of_means(vals[:3], groups=10)  # capped at 1 batch (3 // 2)
    assert capped.value == 1.0
    with pytest.raises(ValueError, match="at least 2"):
        S.median_of_means([1.0])
    with pytest.raises(ValueError, match="groups=0"):
        S.median_of_means([1.0, 2.0], groups=0)


def test_hkp_error_bound():
    k = math.ceil(2 * math.log(1 / 0.01))
    assert S.hkp_error_bound(3.0, 1000, 0.01) == pytest.approx(math.sqrt(34 * k * 3.0 / 1000))
    assert S.hkp_error_bound(3.0, 4000, 0.01) == pytest.approx(S.hkp_error_bound(3.0, 1000, 0.01) / 2)
    with pytest.raises(ValueError, match="delta"):
        S.hkp_error_bound(3.0, 1000, 1.5)


def test_shadow_bad_inputs(pure3):
    with pytest.raises(ValueError, match="targets must have shape"):
        S.shadow_estimate(pure3, np.ones(4), "global", 10, 0)
    with pytest.raises(ValueError, match="snapshots=0"):
        S.pauli_shadow(pure3, 0, 0)


# --- Clifford snapshots without dense matrices -------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_clifford_gates_multiply_to_the_clifford_matrix(n):
    """The synthesised, fused gates of a Clifford are its unitary in dqnn order (up to a global phase)."""
    rng = np.random.default_rng(n)
    for _ in range(10):
        c = random_clifford(n, seed=rng)
        gs = S.clifford_gates(c)
        assert all(len(w) <= 2 for _, w in gs)
        u = S.apply_gates(gs, np.eye(2**n, dtype=np.complex128))
        assert _equal_up_to_phase(u, S.clifford_matrix(c))
        v = S.apply_gates(gs, np.eye(2**n, dtype=np.complex128), adjoint=True)
        np.testing.assert_allclose(v @ u, np.eye(2**n), atol=1e-12)


def test_clifford_shadow_draws_the_dense_snapshots(mixed2, pure3):
    """Same seed, same snapshots as the dense method (random_clifford, Born sampling, U^dagger|b>)."""
    for state in (mixed2, pure3):
        n = E.num_qubits(state)
        rng = np.random.default_rng(9)
        dense = []
        for _ in range(40):
            u = S.clifford_unitary(n, rng)
            b = int(np.argmax(E.sample_counts(E.born_probabilities(state, u), 1, rng)))
            dense.append(np.conj(u[b]))
        fast = S.clifford_shadow(state, 40, 9).states
        overlaps = np.abs(np.einsum("sd,sd->s", np.conj(np.array(dense)), fast))
        np.testing.assert_allclose(overlaps, 1.0, atol=1e-10)


def test_twelve_qubit_clifford_shadow_is_practical_and_unbiased():
    """n = 12 global-Clifford snapshots (a dense 4096-square Clifford matrix per snapshot is not needed)."""
    import time

    n = 12
    rng = np.random.default_rng(0)
    psi = rng.normal(size=2**n) + 1j * rng.normal(size=2**n)
    psi /= np.linalg.norm(psi)
    phi = 0.8 * psi + 0.6 * np.roll(psi, 1)  # fidelity about 0.64 with the state
    phi /= np.linalg.norm(phi)
    start = time.perf_counter()
    sh = S.clifford_shadow(Factors(psi[:, None], None), 60, 1)
    per_snapshot = (time.perf_counter() - start) / 60
    assert per_snapshot < 1.0  # seconds; about 0.07 s on one core (the dense matrix alone took minutes)
    est = S.median_of_means(sh.fidelities(phi), groups=1)
    assert abs(est.value - abs(np.vdot(phi, psi)) ** 2) < 4 * est.stderr
