"""dqnn.training.expm: the batched Taylor exponential of PMM's step, against SciPy's expm and unitarity."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg

from dqnn.training import expm as ex

RNG = np.random.default_rng(7)


def _complex(shape: tuple[int, ...]) -> np.ndarray:
    return RNG.normal(size=shape) + 1j * RNG.normal(size=shape)


def _hermitian(n: int, norm: float) -> np.ndarray:
    a = _complex((n, n))
    h = a + a.conj().T
    return norm * h / np.linalg.norm(h, 1)


def _relative_error(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.linalg.norm(got - want, 1) / np.linalg.norm(want, 1))


jit_expm = jax.jit(ex.expm)


@pytest.mark.parametrize("norm", [0.0, 1e-8, 1e-3, 0.5, 1.0, 1.0001, 3.0, 47.0, 1e3])
def test_matches_scipy_on_skew_hermitian_and_general_matrices(norm: float) -> None:
    """``exp(i H)`` and ``exp(A)`` of a general complex matrix agree with SciPy to 1e-13 relative, at norms on both
    sides of every scaling threshold; the stack mixes sizes of norm (the largest sets the scaling)."""
    hs = np.stack([_hermitian(8, norm), _hermitian(8, norm / 3), _hermitian(8, norm * 0.9)])
    general = _complex((2, 6, 6))
    general *= norm / max(np.linalg.norm(general[0], 1), 1e-300)
    for stack in (1j * hs, general):
        got = np.asarray(jit_expm(jnp.asarray(stack)))
        for g, a in zip(got, stack, strict=True):
            want = scipy.linalg.expm(a)
            assert _relative_error(g, want) < 1e-13 * max(1.0, np.linalg.norm(a, 1) / 50)


def test_exp_of_i_hermitian_is_unitary_and_zero_gives_identity() -> None:
    hs = np.stack([_hermitian(16, v) for v in (0.2, 2.0, 20.0, 200.0)])
    us = np.asarray(jit_expm(jnp.asarray(1j * hs)))
    for u in us:
        np.testing.assert_allclose(u.conj().T @ u, np.eye(16), atol=1e-13)
    np.testing.assert_array_equal(
        np.asarray(ex.expm(jnp.zeros((3, 4, 4), dtype=jnp.complex128))), np.eye(4)[None].repeat(3, 0)
    )


def test_group_property_and_single_matrix() -> None:
    """``exp(A) exp(-A) = 1`` for one (unstacked) matrix."""
    a = 1j * _hermitian(5, 4.0)
    prod = np.asarray(ex.expm(jnp.asarray(a))) @ np.asarray(ex.expm(jnp.asarray(-a)))
    np.testing.assert_allclose(prod, np.eye(5), atol=1e-13)


def test_non_finite_or_huge_input_gives_nan() -> None:
    for bad in (np.full((2, 2), np.nan), np.array([[np.inf, 0], [0, 1.0]]), np.eye(2) * 2.0**70):
        assert np.all(np.isnan(np.asarray(ex.expm(jnp.asarray(bad, dtype=jnp.complex128)))))


def test_single_precision_stays_single() -> None:
    a = jnp.asarray(1j * _hermitian(4, 2.0), dtype=jnp.complex64)
    out = ex.expm(a)
    assert out.dtype == jnp.complex64
    np.testing.assert_allclose(np.asarray(out), scipy.linalg.expm(np.asarray(a, dtype=np.complex128)), atol=1e-5)


def test_shape_errors_name_the_shape() -> None:
    with pytest.raises(ValueError, match=r"\(3, 4\)"):
        ex.expm(jnp.zeros((3, 4)))
    with pytest.raises(ValueError, match="generator 1"):
        ex.rotate([jnp.eye(2), jnp.eye(4)], [jnp.eye(2), jnp.eye(2)], 0.1)
    with pytest.raises(ValueError, match="2 generators for 1"):
        ex.rotate([None, None], [jnp.eye(2)], 0.1)


def test_rotate_groups_by_size_and_keeps_untrained() -> None:
    """Mixed sizes in any order, ``None`` left alone: each result is SciPy's ``expm(i eps K) u``."""
    sizes = [8, 16, 8, 4, 16, 8]
    ks = [_hermitian(n, 10.0 * RNG.random()) for n in sizes]
    us = [scipy.linalg.qr(_complex((n, n)))[0] for n in sizes]
    gens: list[jax.Array | None] = [jnp.asarray(k) for k in ks]
    gens[3] = None
    eps = 0.37
    out = jax.jit(lambda g, u: ex.rotate(g, u, eps))(gens, [jnp.asarray(u) for u in us])
    for i, (k, u) in enumerate(zip(ks, us, strict=True)):
        want = u if i == 3 else scipy.linalg.expm(1j * eps * k) @ u
        np.testing.assert_allclose(np.asarray(out[i]), want, atol=1e-13)


@pytest.mark.parametrize("top", [1.0, 0.999, 2.0, 2.001, 63.9])
def test_diagonal_at_the_scaling_thresholds_is_exact_to_roundoff(top: float) -> None:
    """For a diagonal ``i diag(theta)`` the 1-norm is the spectral norm, so the Taylor remainder is largest: with
    ``|theta| = top`` at a scaling threshold the result must still be ``exp(i theta)`` to 4e-16 (degree 16 would leave
    ``1/17! = 2.8e-15``)."""
    theta = np.linspace(-top, top, 7)
    got = np.asarray(ex.expm(jnp.asarray(np.diag(1j * theta))))
    np.testing.assert_allclose(np.diag(got), np.exp(1j * theta), rtol=0, atol=4e-16 * max(1.0, top))
    np.testing.assert_array_equal(got - np.diag(np.diag(got)), 0)


def test_t18_is_the_degree_18_taylor_polynomial() -> None:
    """Expanding ``B2 + (B3 + A9) A9`` with ``A9 = B1 B5 + B4`` in exact rational arithmetic (from the stored
    doubles) gives ``1/k!`` for ``k <= 18`` to 2e-15 relative and nothing above degree 18."""
    from fractions import Fraction
    from math import factorial

    def poly(row: tuple[float, ...]) -> list[Fraction]:
        c = [Fraction(0)] * 7
        for v, power in zip(row, (0, 1, 2, 3, 6), strict=True):
            c[power] += Fraction(v)
        return c

    def mul(p: list[Fraction], q: list[Fraction]) -> list[Fraction]:
        out = [Fraction(0)] * (len(p) + len(q) - 1)
        for i, x in enumerate(p):
            for j, y in enumerate(q):
                out[i + j] += x * y
        return out

    def add(p: list[Fraction], q: list[Fraction]) -> list[Fraction]:
        n = max(len(p), len(q))
        return [a + b for a, b in zip(p + [Fraction(0)] * (n - len(p)), q + [Fraction(0)] * (n - len(q)), strict=True)]

    b = [poly(row) for row in ex._T18]
    a9 = add(mul(b[0], b[4]), b[3])
    t = add(b[1], mul(add(b[2], a9), a9))
    for k, c in enumerate(t):
        if k <= 18:
            assert abs(float(c * factorial(k)) - 1.0) < 2e-15, k
        else:
            assert c == 0, k
