"""The gate kernel (dqnn.sim.kernel): both forms of apply_gate equal tensordot, for concrete and traced gates."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dqnn.model import gates
from dqnn.sim.kernel import apply_gate, is_diagonal


@pytest.mark.parametrize("form", ["slices", "broadcast"])
@pytest.mark.parametrize("g", [1, 2, 3, 4])
@pytest.mark.parametrize("concrete", [False, True, "real", "diagonal"])
def test_apply_gate_equals_tensordot(g, concrete, form):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(g)
    q = 5
    t = jnp.asarray(rng.normal(size=(2,) * q + (3,)) + 1j * rng.normal(size=(2,) * q + (3,)))
    u = np.asarray(gates.haar_unitary(jax.random.key(g), 2**g))
    if concrete is True:  # structured: a permutation with phases and exact zeros
        u = np.diag(np.exp(1j * rng.uniform(0, 6, 2**g)))[rng.permutation(2**g)]
    elif concrete == "real":  # a real orthogonal gate on the complex state (real and imaginary parts apart)
        u, _ = np.linalg.qr(rng.normal(size=(2**g, 2**g)))
    elif concrete == "diagonal":  # signs and phases: the in-place slice scaling
        u = np.diag(np.where(rng.uniform(size=2**g) < 0.5, -1.0, np.exp(1j * rng.uniform(0, 6, 2**g))))
    axes = list(rng.permutation(q)[:g])
    ref = jnp.moveaxis(jnp.tensordot(u.reshape((2,) * (2 * g)), t, axes=(list(range(g, 2 * g)), axes)), range(g), axes)
    got = apply_gate(t, u if concrete else jnp.asarray(u), axes, form=form)
    np.testing.assert_allclose(np.asarray(got), np.asarray(ref), atol=1e-13)
    jitted = jax.jit(lambda uu, tt: apply_gate(tt, uu, axes, form=form))(jnp.asarray(u), t)  # traced u
    np.testing.assert_allclose(np.asarray(jitted), np.asarray(ref), atol=1e-13)


def test_real_gate_keeps_a_real_state_real():
    rng = np.random.default_rng(0)
    t = jnp.asarray(rng.normal(size=(2, 2, 2)))
    u, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    for form in ("slices", "broadcast"):
        assert apply_gate(t, jnp.asarray(u), [2, 0], form=form).dtype == jnp.float64
    assert apply_gate(t, u, [2, 0]).dtype == jnp.float64  # concrete real entries multiply as reals


def test_is_diagonal_and_unknown_form():
    assert is_diagonal(np.diag([1.0, -1.0, 1j, 1.0]))
    assert not is_diagonal(gates.SWAP)
    with pytest.raises(ValueError, match="unknown form"):
        apply_gate(jnp.ones((2, 2)), np.eye(2), [0], form="dense")  # type: ignore[arg-type]
