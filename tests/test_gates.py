"""Gate matrices, rotations and Haar sampling against analytic values."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from dqnn.model import gates


def test_pauli_rotation_closed_form():
    t = 0.731
    ry = np.asarray(gates.pauli_rotation("Y", t))
    np.testing.assert_allclose(ry, [[np.cos(t / 2), -np.sin(t / 2)], [np.sin(t / 2), np.cos(t / 2)]], atol=1e-15)
    w, v = np.linalg.eigh(gates.pauli_string("ZX"))
    np.testing.assert_allclose(
        np.asarray(gates.rotation(w, v, t)), np.asarray(gates.pauli_rotation("ZX", t)), atol=1e-14
    )


def test_kron_order_first_qubit_most_significant():
    # X on qubit 0 of two: |00> -> |10> = index 2
    m = gates.pauli_string("XI")
    assert m[2, 0] == 1
    np.testing.assert_array_equal(gates.kron(gates.X, gates.I2), m)


def test_haar_unitary_is_unitary_and_seeded():
    u = np.asarray(gates.haar_unitary(jax.random.key(1), 8))
    assert gates.unitarity_error(u) < 1e-12
    np.testing.assert_array_equal(u, np.asarray(gates.haar_unitary(jax.random.key(1), 8)))


def test_haar_second_moment_matches_weingarten():
    # E|U_00|^4 = 2 / (d (d + 1)) for Haar U(d)
    d = 4
    keys = jax.random.split(jax.random.key(0), 4000)
    us = jax.vmap(lambda k: gates.haar_unitary(k, d))(keys)
    m4 = np.abs(np.asarray(us)[:, 0, 0]) ** 4
    assert abs(m4.mean() - 2 / (d * (d + 1))) < 4 * m4.std() / np.sqrt(len(m4))


def test_check_unitary_errors():
    with pytest.raises(ValueError, match="not unitary"):
        gates.check_unitary(np.diag([1, 2]), "U")
    with pytest.raises(ValueError, match="square"):
        gates.check_unitary(np.ones((2, 3)), "U")
    with pytest.raises(ValueError, match="power of two"):
        gates.check_unitary(np.eye(3), "U")
    with pytest.raises(ValueError, match="letter outside"):
        gates.pauli_string("XQ")
