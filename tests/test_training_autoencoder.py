"""The denoising quantum autoencoder (Bondarenko and Feldmann, PRL 124, 130502) and its data."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from dqnn import datasets
from dqnn.training.autoencoder import DenoiseConfig, denoise


def test_noisy_ghz_matches_the_noise_model():
    n, p = 3, 0.2
    g = datasets.ghz_state(n)
    flips = np.asarray(datasets.noisy_ghz(jax.random.key(0), n, 4000, p))
    fid = np.abs(flips @ g.conj()) ** 2
    # a spin-flip pattern leaves GHZ unchanged only when no qubit or every qubit flips
    assert abs(fid.mean() - ((1 - p) ** n + p**n)) < 0.02
    assert set(np.round(fid, 12)) <= {0.0, 1.0}
    deph = np.asarray(datasets.noisy_ghz(jax.random.key(1), n, 4000, p, "dephasing"))
    # an even number of Z flips keeps GHZ, an odd number gives the orthogonal GHZ-
    assert abs((np.abs(deph @ g.conj()) ** 2).mean() - (1 + (1 - 2 * p) ** n) / 2) < 0.02
    np.testing.assert_allclose(np.linalg.norm(deph, axis=1), 1.0, atol=1e-12)
    with pytest.raises(ValueError, match="noise"):
        datasets.noisy_ghz(jax.random.key(0), n, 2, 0.1, "amplitude")
    with pytest.raises(ValueError, match="p="):
        datasets.noisy_ghz(jax.random.key(0), n, 2, 0.7)


def test_autoencoder_denoises_spin_flipped_ghz():
    """[4, 1, 4] trained on noisy pairs only (Bondarenko-Feldmann): the output is closer to GHZ than the input."""
    out = denoise(DenoiseConfig(num_qubits=4, hidden=(1,), p=0.1, pairs=24, test=100, steps=50, seed=0))
    assert out["input_fidelity"] < 0.75  # about 0.9**4 + 0.1**4 of the noisy states are GHZ itself
    assert out["output_fidelity"] > out["input_fidelity"] + 0.1
