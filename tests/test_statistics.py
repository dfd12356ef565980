"""Variance statistics: standard error and kurtosis against known distributions; warnings."""

from __future__ import annotations

import numpy as np
import pytest

from dqnn.trainability.statistics import summarise


def test_gaussian_variance_stderr_and_kurtosis():
    rng = np.random.default_rng(0)
    reps = np.array([summarise(rng.normal(0, 2, 500)).variance for _ in range(400)])
    s = summarise(rng.normal(0, 2, 500))
    assert abs(s.kurtosis - 3) < 0.6
    # the stated stderr matches the spread of repeated estimates (Var of sample var = 2 sigma^4 / (S - 1))
    assert abs(reps.std() / s.stderr - 1) < 0.2
    assert abs(reps.mean() - 4) < 4 * reps.std() / np.sqrt(reps.size)
    assert s.trusted and not s.warnings


def test_heavy_tail_is_flagged():
    rng = np.random.default_rng(1)
    g = rng.standard_t(2.2, 1000)  # infinite kurtosis
    s = summarise(g)
    assert not s.trusted
    assert s.warnings


def test_too_few_samples_and_bad_input():
    assert not summarise(np.arange(10.0)).trusted
    with pytest.raises(ValueError, match="at least 2"):
        summarise([1.0])
    with pytest.raises(ValueError, match="NaN"):
        summarise([1.0, np.nan, 2.0])
