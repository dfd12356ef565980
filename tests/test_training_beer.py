"""Beer et al.'s PMM conventions and optimisers against their published update rule, implemented here from the
equations (full density matrices on two adjacent layers, no dqnn code): training curves agree to 1e-12.

The rule (their notebook and MATLAB ``TrainNetwork.m``; global perceptrons, one output qubit each):
``M_j = [A_j, B_j]`` with ``A_j`` the state after perceptron ``j`` and ``B_j`` the target propagated back to it,
``Mt_j = 2^m sum_x Tr_rest M_j`` (anti-Hermitian), ``U_j -> expm(-(eps / (lambda N)) S_j) U_j`` with ``S_j = Mt_j``
for plain PMM (so ``K = (2^m / (lambda N)) i sum_x Tr_rest M``: the "code" convention) and, for their optimisers,
``S_j`` from ``Mt_j``, the first moment and ``RenormL = SpectralRange(Mt_j^2)`` as in their code.
"""

from __future__ import annotations

import functools

import jax
import numpy as np
import pytest
import scipy.linalg

from dqnn import datasets
from dqnn.model import gates
from dqnn.training import PMMConfig, PMMOptimizer, fit, from_unitaries


def _swap_matrix(n: int, a: int, b: int) -> np.ndarray:
    """Permutation matrix exchanging qubits a and b of n (qubit 0 most significant)."""
    d = 2**n
    p = np.zeros((d, d))
    for i in range(d):
        bits = [(i >> (n - 1 - q)) & 1 for q in range(n)]
        bits[a], bits[b] = bits[b], bits[a]
        p[int("".join(map(str, bits)), 2), i] = 1.0
    return p


def _ptrace(rho: np.ndarray, keep: list[int], n: int) -> np.ndarray:
    """Trace out every qubit not in ``keep`` (kept in increasing order)."""
    t = rho.reshape((2,) * (2 * n))
    letters = "abcdefghijklmnopqrstuvwxyz"
    row = list(letters[:n])
    col = list(letters[n : 2 * n])
    for q in range(n):
        if q not in keep:
            col[q] = row[q]
    out = "".join(row[q] for q in keep) + "".join(col[q] for q in keep)
    res = np.einsum("".join(row) + "".join(col) + "->" + out, t)
    return res.reshape(2 ** len(keep), 2 ** len(keep))


def _embedded(u: np.ndarray, m: int, mo: int, j: int) -> np.ndarray:
    """Perceptron j of a layer m -> mo (acting on all m inputs and output j) on the m + mo register."""
    v = np.kron(u, np.eye(2 ** (mo - 1)))
    s = _swap_matrix(m + mo, m, m + j)
    return s @ v @ s


def _spectral_range(a: np.ndarray) -> float:
    """Their SpectralRange(A) = norm(norm(A) * eye - A), spectral norms."""
    return float(np.linalg.norm(np.linalg.norm(a, 2) * np.eye(a.shape[0]) - a, 2))


def reference_run(widths, us, x, t, eps, lam, steps, optimizer="plain", mu=0.0, beta=0.999):  # type: ignore[no-untyped-def]
    """Costs (steps + 1) and final unitaries of Beer et al.'s update rule, from the equations."""
    widths = list(widths)
    depth = len(widths) - 1
    us = [[np.array(u, dtype=complex) for u in row] for row in us]
    n_pairs = len(x)
    prev = [[np.zeros_like(u) for u in row] for row in us]
    renorm = [[0.0 for _ in row] for row in us]
    delta = min(eps, 1.0)

    def forward(xv):  # type: ignore[no-untyped-def]
        rho = np.outer(xv, xv.conj())
        states = []
        for l in range(depth):
            m, mo = widths[l], widths[l + 1]
            zero = np.zeros((2**mo, 2**mo))
            zero[0, 0] = 1
            a = np.kron(rho, zero)
            row = []
            for j in range(mo):
                v = _embedded(us[l][j], m, mo, j)
                a = v @ a @ v.conj().T
                row.append(a)
            states.append(row)
            rho = _ptrace(a, list(range(m, m + mo)), m + mo)
        return states, rho

    def cost():  # type: ignore[no-untyped-def]
        return 1 - np.mean([np.real(tv.conj() @ forward(xv)[1] @ tv) for xv, tv in zip(x, t, strict=True)])

    costs = [cost()]
    for rnd in range(2, steps + 2):  # their loop counter: 2 for the first update
        mt = [[np.zeros_like(u) for u in row] for row in us]
        for xv, tv in zip(x, t, strict=True):
            states, _ = forward(xv)
            sigma = np.outer(tv, tv.conj())
            for l in reversed(range(depth)):
                m, mo = widths[l], widths[l + 1]
                b = np.kron(np.eye(2**m), sigma)
                for j in reversed(range(mo)):
                    comm = states[l][j] @ b - b @ states[l][j]
                    mt[l][j] += _ptrace(comm, list(range(m)) + [m + j], m + mo)
                    v = _embedded(us[l][j], m, mo, j)
                    b = v.conj().T @ b @ v
                sigma = b.reshape(2**m, 2**mo, 2**m, 2**mo)[:, 0, :, 0]  # adjoint channel, <0|..|0> on layer l+1
        for l in range(depth):
            m = widths[l]
            for j in range(widths[l + 1]):
                k = 2**m * mt[l][j]
                if optimizer == "plain":
                    s = k
                elif optimizer == "momentum":
                    s = mu * prev[l][j] + k
                    prev[l][j] = s
                else:
                    renorm[l][j] = beta * renorm[l][j] + (1 - beta) * _spectral_range(k @ k)
                    if optimizer == "rmsprop":
                        s = k / np.sqrt(renorm[l][j] + delta**16) + mu * prev[l][j]
                        prev[l][j] = s
                    else:
                        mom = mu * prev[l][j] + (1 - mu) * k
                        prev[l][j] = mom
                        mom = mom / (1 - mu**rnd)
                        if optimizer == "nadam":
                            mom = mu * mom + (1 - mu) / (1 - mu**rnd) * k
                        s = mom / (np.sqrt(renorm[l][j] / (1 - beta**rnd)) + delta**8)
                us[l][j] = scipy.linalg.expm(-(eps / (lam * n_pairs)) * s) @ us[l][j]
        costs.append(cost())
    return np.array(costs), us


@functools.lru_cache(maxsize=4)
def _problem(widths, n_pairs, seed):  # type: ignore[no-untyped-def]
    y, d = datasets.unitary_data(jax.random.key(seed), widths[0], n_pairs, 0)
    us = [
        [
            np.asarray(gates.haar_unitary(jax.random.key(100 * seed + 10 * l + j), 2 ** (widths[l] + 1)))
            for j in range(w)
        ]
        for l, w in enumerate(widths[1:])
    ]
    return np.asarray(d.train_inputs), np.asarray(d.train_targets), us


def _dqnn_run(widths, us, x, t, steps, **kw):  # type: ignore[no-untyped-def]
    net, params = from_unitaries(widths, us)
    res = fit(net, (x, t), params=params, steps=steps, plot=False, **kw)
    return np.array([r["cost"] for r in res.metrics]), [[np.asarray(p["u"]) for p in row] for row in res.params]


def _max_diff(a, b):  # type: ignore[no-untyped-def]
    return max(float(np.max(np.abs(u - v))) for ra, rb in zip(a, b, strict=True) for u, v in zip(ra, rb, strict=True))


@pytest.mark.parametrize("widths", [(1, 2, 1), (2, 3, 2)])
def test_code_convention_reproduces_their_training_curve(widths):
    x, t, us = _problem(widths, 4, 1)
    eps, lam, steps = 0.1, 0.5, 12
    ref_costs, ref_us = reference_run(widths, us, x, t, eps, lam, steps)
    assert ref_costs[-1] < ref_costs[0] - 0.05  # the reference really trains
    costs, got = _dqnn_run(widths, us, x, t, steps, method="pmm", pmm_config=PMMConfig.beer(eps, lam, "code"))
    np.testing.assert_allclose(costs, ref_costs, atol=1e-12, rtol=0)
    assert _max_diff(got, ref_us) < 1e-11
    if widths == (1, 2, 1):
        # the text convention is half the code's step at the same lambda; eta = 2 / lambda makes them equal
        text, code = PMMConfig(eps=eps, eta=2 / lam), PMMConfig.beer(eps, lam, "code")
        net, _ = from_unitaries(widths, us)
        for l, layer in enumerate(net.layers):
            for p in layer:
                assert abs(text.factor(net, l, p) - code.factor(net, l, p)) < 1e-15 * code.factor(net, l, p)
        half, _ = _dqnn_run(widths, us, x, t, steps, method="pmm", pmm_config=PMMConfig.beer(eps, lam, "text"))
        ref_half, _ = reference_run(widths, us, x, t, eps, 2 * lam, steps)
        np.testing.assert_allclose(half, ref_half, atol=1e-12, rtol=0)
        assert np.max(np.abs(half - ref_costs)) > 1e-3


@pytest.mark.parametrize(("name", "mu"), [("momentum", 0.7), ("rmsprop", 0.5), ("adam", 0.8), ("nadam", 0.8)])
def test_their_optimisers_reproduce_the_reference(name, mu):
    widths = (1, 2, 1)
    x, t, us = _problem(widths, 3, 2)
    eps, lam, steps, beta = 0.05, 0.3, 10, 0.99
    ref_costs, ref_us = reference_run(widths, us, x, t, eps, lam, steps, name, mu, beta)
    plain, _ = reference_run(widths, us, x, t, eps, lam, steps)
    assert np.max(np.abs(ref_costs - plain)) > 1e-4  # the optimiser changes the run
    costs, got = _dqnn_run(
        widths,
        us,
        x,
        t,
        steps,
        method="pmm",
        pmm_config=PMMConfig.beer(eps, lam),
        pmm_optimizer=PMMOptimizer(name, momentum=mu, beta=beta),
    )
    np.testing.assert_allclose(costs, ref_costs, atol=1e-12, rtol=0)
    assert _max_diff(got, ref_us) < 1e-11


def test_config_checks_and_prefactor():
    with pytest.raises(ValueError, match="convention"):
        PMMConfig(convention="paper")
    with pytest.raises(ValueError, match="lam"):
        PMMConfig.beer(0.1, 0.0)
    with pytest.raises(ValueError, match="momentum > 0"):
        PMMOptimizer("adam")
    with pytest.raises(ValueError, match="name"):
        PMMOptimizer("lbfgs")
    cfg = PMMConfig.beer(0.1, 0.25)
    assert cfg.eta == 4.0 and cfg.lam == 0.25
    from dqnn.model.families import HaarUnitary
    from dqnn.model.network import Network, Perceptron

    net = Network([3, 1], [[Perceptron([1], [0], HaarUnitary(2))]])
    p = net.layers[0][0]
    assert PMMConfig(eta=1.0).factor(net, 0, p) == 2**1 / 2  # m = the perceptron's one input
    assert PMMConfig(eta=1.0, prefactor="layer").factor(net, 0, p) == 2**3 / 2  # m = the layer's width
    assert PMMConfig(eta=1.0, convention="code").factor(net, 0, p) == 2**1
