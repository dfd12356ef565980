"""Exact fourth moments and kurtosis (:mod:`dqnn.moments.fourth`) against references that share no code with it.

- Fig. 3b at n = 2 (one block ``W = A R_y(theta) B``): a dense four-copy computation on the two qubits, the Haar
  averages by the Weingarten formula with the 24 permutations of the 256-dimensional four-copy space (dense Gram
  matrix and pseudo-inverse) and the angle by a 5-point grid (exact for this degree-4 trigonometric polynomial);
- Fig. 3a: the gradient factorises over qubits into trigonometric functions of the angles; the mean of its 4th
  power over a 9 x 9 angle grid per qubit is exact;
- sampling: Fig. 3b at n = 4, sampled ``E[g^4]`` and ``E[g^2]`` within their standard errors, and the sampled
  variance's relative error against the predicted ``sqrt((kurtosis - 1) / S)``.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from dqnn.moments.fourth import FourthMoment, exact_fourth_moment, weingarten_s4
from dqnn.presets.problems import GradientProblem


def _perm_ops(d: int) -> list[np.ndarray]:
    """The permutations of 4 copies of C^d as index maps: P_s |i> = |pi_s(i)>, i a basis index of (C^d)^(x)4."""
    ops = []
    for perm in itertools.permutations(range(4)):
        pi = np.zeros(d**4, dtype=int)
        for idx in itertools.product(range(d), repeat=4):
            out = tuple(idx[perm.index(c)] for c in range(4))
            pi[np.ravel_multi_index(idx, (d,) * 4)] = np.ravel_multi_index(out, (d,) * 4)
        ops.append(pi)
    return ops


def _haar_twirl(x: np.ndarray, ops: list[np.ndarray]) -> np.ndarray:
    """sum_{s,t} Wg[s, t] Tr[P_t^T X] P_s with Wg the pseudo-inverse of the dense Gram matrix Tr[P_s^T P_t]."""
    cols = np.arange(x.shape[0])
    g = np.array([[float(np.sum(a == b)) for b in ops] for a in ops])
    wg = np.linalg.pinv(g)
    tr = np.array([np.sum(x[p, cols]) for p in ops])  # Tr[P^T X] = sum_i X[pi(i), i]
    out = np.zeros_like(x, dtype=complex)
    for c, p in zip(wg @ tr, ops, strict=True):
        out[p, cols] += c
    return out


def _kron4(a: np.ndarray) -> np.ndarray:
    return np.kron(np.kron(a, a), np.kron(a, a))


@pytest.mark.parametrize("cost", ["global", "local"])
def test_fig3b_two_qubits_against_dense_weingarten(cost: str) -> None:
    ops = _perm_ops(4)
    z = np.zeros((4, 4))
    z[0, 0] = 1.0
    x = _haar_twirl(_kron4(z), ops)  # B twirls |00><00|^(x)4
    y = np.array([[0, -1j], [1j, 0]])
    out = np.zeros_like(x, dtype=complex)
    for k in range(5):  # M'(theta)^(x)4 averaged exactly (frequencies up to 4 in theta)
        th = 2 * np.pi * k / 5
        r = np.kron(np.cos(th / 2) * np.eye(2) - 1j * np.sin(th / 2) * y, np.eye(2))
        dr = np.kron(-0.5 * np.sin(th / 2) * np.eye(2) - 0.5j * np.cos(th / 2) * y, np.eye(2))
        for choice in itertools.product(range(2), repeat=4):
            kets = [dr if c == 0 else r for c in choice]
            bras = [r if c == 0 else dr for c in choice]
            kk = np.kron(np.kron(kets[0], kets[1]), np.kron(kets[2], kets[3]))
            bb = np.kron(np.kron(bras[0], bras[1]), np.kron(bras[2], bras[3]))
            out += kk @ x @ bb.conj().T / 5
    x = _haar_twirl(out, ops)  # A
    zq = np.diag([1.0, 0.0])
    o = z if cost == "global" else (np.kron(zq, np.eye(2)) + np.kron(np.eye(2), zq)) / 2
    ref = float(np.trace(_kron4(o) @ x).real)
    f = exact_fourth_moment(GradientProblem("fig3b", 2, 1, cost))
    assert math.isclose(f.m4, ref, rel_tol=1e-10)
    assert f.relative_error < 1e-12 and f.mean == 0.0


def test_fig3a_against_exact_angle_grids() -> None:
    n = 3
    grid = 2 * np.pi * np.arange(9) / 9
    a, b = np.meshgrid(grid, grid)
    # qubit 0: d/d a of cos^2((a+b)/2) = -sin(a+b)/2; the others: cos^2((a+b)/2); global cost, two layers
    first = np.mean((np.sin(a + b) / 2) ** 4)
    rest = np.mean(np.cos((a + b) / 2) ** 8)
    m4 = first * rest ** (n - 1)
    m2 = np.mean((np.sin(a + b) / 2) ** 2) * np.mean(np.cos((a + b) / 2) ** 4) ** (n - 1)
    f = exact_fourth_moment(GradientProblem("fig3a", n, 2, "global"))
    assert math.isclose(f.m4, m4, rel_tol=1e-12) and math.isclose(f.m2, m2, rel_tol=1e-12)
    assert math.isclose(f.kurtosis, m4 / m2**2, rel_tol=1e-12)


def test_fig3b_against_sampling() -> None:
    from dqnn.trainability.sampling import PointSpec, sample_gradients

    f = exact_fourth_moment(GradientProblem("fig3b", 4, 2, "global"))
    s = 3000
    g = np.asarray(sample_gradients(PointSpec("fig3b", "global", 4, 2), s, seed=3))
    m4, m2 = np.mean(g**4), np.mean(g**2)
    assert abs(m4 - f.m4) < 5 * np.std(g**4) / math.sqrt(s)
    assert abs(m2 - f.m2) < 5 * np.std(g**2) / math.sqrt(s)
    # the predicted relative error of the sampled variance, against the spread of 15 sub-samples of 200
    sub = np.var(g.reshape(15, 200), axis=1, ddof=1)
    spread = np.std(sub, ddof=1) / f.m2
    assert 0.5 < spread / f.variance_relative_error(200) < 1.6
    assert f.samples_needed(0.1) == math.ceil((f.kurtosis - 1) / 0.01)


def test_weingarten_inverts_the_gram_matrix_and_bad_input() -> None:
    wg = weingarten_s4(4)
    # Wg(identity) for d = 4, t = 4: (d^4 - 8 d^2 + 6) / (d^2 (d^2-1) (d^2-4) (d^2-9)) (Collins & Sniady 2006)
    d = 4.0
    assert math.isclose(wg[0, 0], (d**4 - 8 * d**2 + 6) / (d**2 * (d**2 - 1) * (d**2 - 4) * (d**2 - 9)), rel_tol=1e-9)
    fm = FourthMoment(0.0, 1.0, 3.0, 3.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="eps"):
        fm.samples_needed(0.0)
    with pytest.raises(ValueError, match="GradientProblem"):
        exact_fourth_moment(GradientProblem("fig3b", 2, 1).network())
