"""Seeded data sets: random-unitary pairs, noisy pairs, Ising ground states."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from dqnn import datasets
from dqnn.model import gates


def test_unitary_pairs_are_y_phi_and_normalised():
    y, d = datasets.unitary_data(jax.random.key(3), 2, 5, 7)
    y = np.asarray(y)
    assert gates.unitarity_error(y) < 1e-12
    assert d.train_inputs.shape == (5, 4) and d.test_inputs.shape == (7, 4)
    np.testing.assert_allclose(np.linalg.norm(d.train_inputs, axis=1), 1.0, atol=1e-12)
    for x, t in zip(np.asarray(d.train_inputs), np.asarray(d.train_targets), strict=True):
        np.testing.assert_allclose(t, y @ x, atol=1e-12)
    for x, t in zip(np.asarray(d.test_inputs), np.asarray(d.test_targets), strict=True):
        np.testing.assert_allclose(t, y @ x, atol=1e-12)
    assert d.train_inputs.dtype == np.complex128


def test_unitary_data_seeded_and_nested():
    _, a = datasets.unitary_data(jax.random.key(0), 2, 3, 4)
    y, b = datasets.unitary_data(jax.random.key(0), 2, 8, 4)
    y2, c = datasets.unitary_data(jax.random.key(1), 2, 3, 4)
    np.testing.assert_allclose(a.train_inputs, b.train_inputs[:3], atol=1e-14)  # nested training sets
    np.testing.assert_allclose(a.test_inputs, b.test_inputs, atol=1e-14)  # one test set for every N
    assert not np.allclose(a.train_inputs, c.train_inputs)
    assert not np.allclose(y, y2)


def test_noisy_pairs_replace_the_right_fraction():
    y, clean = datasets.unitary_data(jax.random.key(5), 2, 8, 4)
    y2, noisy, idx = datasets.noisy_unitary_data(jax.random.key(5), 2, 8, 4, 0.25)
    np.testing.assert_array_equal(y, y2)
    assert len(idx) == 2 and len(set(idx.tolist())) == 2
    np.testing.assert_array_equal(noisy.train_inputs, clean.train_inputs)
    np.testing.assert_array_equal(noisy.test_targets, clean.test_targets)
    for i in range(8):
        same = np.allclose(noisy.train_targets[i], clean.train_targets[i])
        assert same == (i not in idx)
    np.testing.assert_allclose(np.linalg.norm(noisy.train_targets, axis=1), 1.0, atol=1e-12)
    _, zero, none = datasets.noisy_unitary_data(jax.random.key(5), 2, 8, 4, 0.0)
    assert none.size == 0
    np.testing.assert_array_equal(zero.train_targets, clean.train_targets)
    with pytest.raises(ValueError, match="noise"):
        datasets.noisy_unitary_data(jax.random.key(5), 2, 8, 4, 1.5)


@pytest.mark.parametrize(("n", "h"), [(3, 0.4), (6, 0.7), (6, 1.0), (7, 1.8)])
def test_ising_ground_state_matches_dense_diagonalisation(n, h):
    ham = datasets.ising_hamiltonian(n, h)
    dense = ham.toarray()
    np.testing.assert_allclose(dense, dense.conj().T, atol=0)
    e, psi = datasets.ising_ground_state(n, h)
    e_dense = np.linalg.eigvalsh(dense)[0]
    assert abs(e - e_dense) < 1e-10
    assert abs(np.linalg.norm(psi) - 1) < 1e-12
    assert np.linalg.norm(dense @ psi - e * psi) < 1e-6
    assert abs(np.vdot(psi, dense @ psi).real - e_dense) < 1e-10


def test_ising_limits():
    n = 5
    assert abs(np.linalg.eigvalsh(datasets.ising_hamiltonian(n, 0.0).toarray())[0] + (n - 1)) < 1e-12
    e, psi = datasets.ising_ground_state(n, 3.0, coupling=0.0)
    assert abs(e + 3.0 * n) < 1e-10
    plus = np.ones(2**n) / np.sqrt(2**n)  # |+...+>
    assert abs(abs(np.vdot(plus, psi)) - 1) < 1e-8


def test_ising_data_labels_and_split():
    d, fields = datasets.ising_data(jax.random.key(2), 4, 6, 5)
    assert d.train_inputs.shape == (6, 16) and d.test_inputs.shape == (5, 16)
    assert fields.shape == (11,)
    labels = np.concatenate([np.asarray(d.train_targets), np.asarray(d.test_targets)])
    np.testing.assert_array_equal(labels, (fields > 1.0).astype(int))
    for psi, h in zip(np.asarray(d.train_inputs), fields[:6], strict=True):
        _, ref = datasets.ising_ground_state(4, float(h))
        assert abs(abs(np.vdot(ref, psi)) - 1) < 1e-8
    d2, fields2 = datasets.ising_data(jax.random.key(2), 4, 6, 5)
    np.testing.assert_array_equal(fields, fields2)


def test_split_and_bad_counts():
    x = np.arange(10).reshape(5, 2)
    s = datasets.split(x, np.arange(5), 3)
    assert s.train_inputs.shape == (3, 2) and s.test_inputs.shape == (2, 2)
    with pytest.raises(ValueError, match="num_train"):
        datasets.split(x, np.arange(5), 6)
    with pytest.raises(ValueError, match="targets"):
        datasets.split(x, np.arange(4), 2)
    with pytest.raises(ValueError, match="num_train"):
        datasets.unitary_data(jax.random.key(0), 2, -1, 3)


def test_classification_data_is_separated_by_one_measurement():
    split, w = datasets.classification_data(jax.random.key(4), 3, 30, 20, margin=0.4)
    w = np.asarray(w)
    assert gates.unitarity_error(w) < 1e-12
    z0 = w @ np.kron(np.asarray(gates.Z), np.eye(4)) @ w.conj().T  # W Z_0 W^dagger
    bound = np.sin(0.4 * np.pi / 2)
    for xs, ys in ((split.train_inputs, split.train_targets), (split.test_inputs, split.test_targets)):
        xs, ys = np.asarray(xs), np.asarray(ys)
        np.testing.assert_allclose(np.linalg.norm(xs, axis=1), 1.0, atol=1e-12)
        z = np.real(np.einsum("ni,ij,nj->n", xs.conj(), z0, xs))
        assert np.all(z[ys == 0] >= bound - 1e-12) and np.all(z[ys == 1] <= -bound + 1e-12)
        assert 0 < ys.sum() < len(ys)  # both classes drawn
    again, _ = datasets.classification_data(jax.random.key(4), 3, 10, 20, margin=0.4)
    np.testing.assert_allclose(again.train_inputs, split.train_inputs[:10], atol=1e-14)  # nested
    with pytest.raises(ValueError, match="margin"):
        datasets.classification_data(jax.random.key(0), 2, 2, 2, margin=0.0)
