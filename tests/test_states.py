"""Product-state helpers of dqnn.model.states: vectors from factors, factor selection and checks, pair averages."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dqnn.model import states


def _factors(seed: int, n: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, 2, 2)) @ np.array([1.0, 1j])
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_product_vector_is_the_kronecker_product_qubit_0_first() -> None:
    f = _factors(0, 3)
    want = np.kron(np.kron(f[0], f[1]), f[2])
    np.testing.assert_allclose(np.asarray(states.product_vector(f)), want, atol=1e-15)
    np.testing.assert_allclose(np.asarray(states.product_vector(f[:1])), f[0], atol=0)
    np.testing.assert_allclose(np.asarray(states.product_state(list(f))), want, atol=1e-15)


def test_factors_on_picks_rows_and_reads_zero_qubit_as_ket_zero() -> None:
    f = jnp.asarray(_factors(1, 4))
    got = np.asarray(states.factors_on(f, [[2, states.ZERO_QUBIT], [0, 3]]))
    assert got.shape == (2, 2, 2)
    np.testing.assert_allclose(got[0, 0], f[2], atol=0)
    np.testing.assert_allclose(got[0, 1], [1.0, 0.0], atol=0)
    np.testing.assert_allclose(got[1], f[jnp.asarray([0, 3])], atol=0)
    jitted = jax.jit(lambda x: states.factors_on(x, (states.ZERO_QUBIT, 1)))(f)
    np.testing.assert_allclose(np.asarray(jitted), [[1.0, 0.0], f[1]], atol=0)


def test_product_factors_checks_single_and_stacked_pairs() -> None:
    x, t = states.checked_factor_pair(np.ones((3, 2)), np.ones((2, 2)), 3, 2, "here", stacked=False)
    assert x.dtype == jnp.float64 and x.shape == (3, 2) and t.shape == (2, 2)  # real inputs stay real
    assert t.dtype == jnp.complex128
    x, _ = states.checked_factor_pair(np.ones((3, 2)) * (1 + 0j), np.ones((2, 2)), 3, 2, "here", stacked=False)
    assert x.dtype == jnp.float64  # a concrete complex array with no imaginary part is real
    x, _ = states.checked_factor_pair(np.ones((3, 2)) * 1j, np.ones((2, 2)), 3, 2, "here", stacked=False)
    assert x.dtype == jnp.complex128
    assert (
        jax.eval_shape(
            lambda v: states.checked_factor_pair(v, np.ones((2, 2)), 3, 2, "h", False)[0], jnp.ones((3, 2), complex)
        ).dtype
        == jnp.complex128
    )
    x, t = states.checked_factor_pair(np.ones((5, 3, 2)), np.ones((5, 2, 2)), 3, 2, "here", stacked=True)
    assert x.shape == (5, 3, 2) and t.shape == (5, 2, 2)
    with pytest.raises(ValueError, match=r"here: need input factors \(3, 2\)"):
        states.checked_factor_pair(np.ones((5, 3, 2)), np.ones((5, 2, 2)), 3, 2, "here", stacked=False)
    with pytest.raises(ValueError, match=r"here: need input factors \(5, 3, 2\) and target factors \(5, 2, 2\)"):
        states.checked_factor_pair(np.ones((5, 3, 2)), np.ones((4, 2, 2)), 3, 2, "here", stacked=True)
    with pytest.raises(ValueError, match="target factors"):
        states.checked_factor_pair(np.ones((3, 2)), np.ones((3, 2)), 3, 2, "here", stacked=True)


def test_pair_mean_of_one_pair_and_of_a_stack() -> None:
    def cost(x: jax.Array, t: jax.Array) -> jax.Array:
        return jnp.abs(jnp.sum(x)) + jnp.abs(jnp.sum(t))

    xs, ts = jnp.asarray(_factors(2, 6).reshape(3, 2, 2)), jnp.asarray(_factors(3, 3).reshape(3, 1, 2))
    one = states.pair_mean(cost, xs[0], ts[0], 2, 1, "c")
    assert abs(float(one) - float(cost(xs[0], ts[0]))) < 1e-15
    mean = states.pair_mean(cost, xs, ts, 2, 1, "c")
    assert abs(float(mean) - np.mean([float(cost(x, t)) for x, t in zip(xs, ts, strict=True)])) < 1e-14


def test_stack_trees_adds_a_leading_axis_to_every_leaf() -> None:
    trees = [{"theta": jnp.full(2, float(i)), "haar": (jnp.eye(2) * i,)} for i in range(3)]
    st = states.stack_trees(trees)
    assert st["theta"].shape == (3, 2) and st["haar"][0].shape == (3, 2, 2)
    np.testing.assert_allclose(np.asarray(st["theta"][:, 0]), [0.0, 1.0, 2.0], atol=0)


def test_psd_factor_reproduces_rank_deficient_states_and_clips_rounding() -> None:
    """``F F^dagger = m`` for a rank-2 mixed state of 3 qubits (to 1e-13), with a tiny negative rounding
    eigenvalue added (clipped: ``F`` stays finite and ``F F^dagger`` is PSD)."""
    rho = np.asarray(states.random_density_matrix(jax.random.key(3), 3, rank=2))
    f = np.asarray(states.psd_factor(rho))
    np.testing.assert_allclose(f @ f.conj().T, rho, atol=1e-13)
    bent = rho - 1e-15 * np.eye(8)
    g = np.asarray(states.psd_factor(bent))
    assert np.all(np.isfinite(g)) and np.linalg.eigvalsh(g @ g.conj().T).min() > -1e-15
    np.testing.assert_allclose(g @ g.conj().T, rho, atol=1e-13)
