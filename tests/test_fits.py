"""Fits on synthetic data with known rates."""

from __future__ import annotations

import numpy as np
import pytest

from dqnn.trainability.fits import compare_models, fit_exponential, fit_power


def test_exponential_rate_recovered_with_ci():
    rng = np.random.default_rng(0)
    n = np.arange(2, 12)
    v = 0.2 * 0.375**n * np.exp(rng.normal(0, 0.05, n.size))
    f = fit_exponential(n, v, 0.05 * v)
    assert f.slope_ci[0] <= np.log2(0.375) <= f.slope_ci[1]
    assert abs(f.base - 0.375) < 0.02
    c = compare_models(n, v, 0.05 * v)
    assert c.better == "exponential"


def test_power_law_recovered_and_preferred():
    rng = np.random.default_rng(1)
    n = np.array([4, 8, 16, 32, 64])
    v = 0.5 * n**-2.0 * np.exp(rng.normal(0, 0.03, n.size))
    f = fit_power(n, v, 0.03 * v)
    assert f.slope_ci[0] <= -2.0 <= f.slope_ci[1]
    assert compare_models(n, v, 0.03 * v).better == "polynomial"


def test_exact_values_fit_exactly():
    n = np.arange(2, 9)
    f = fit_exponential(n, 0.125 * 0.375 ** (n - 1))
    assert abs(f.base - 0.375) < 1e-12
    np.testing.assert_allclose(f.predict(n), 0.125 * 0.375 ** (n - 1), rtol=1e-10)


def test_fit_errors():
    with pytest.raises(ValueError, match="at least 2"):
        fit_exponential([2], [0.1])
    with pytest.raises(ValueError, match="positive"):
        fit_power([2, 3], [0.1, 0.0])
