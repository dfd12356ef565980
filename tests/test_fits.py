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


def test_log10_fit_equals_the_plain_fit_and_reaches_below_the_double_range():
    from dqnn.trainability.fits import compare_models_log10

    n = np.array([4.0, 8.0, 16.0, 32.0])
    var = 0.3 * 0.5**n
    plain = compare_models(n, var)
    logs = compare_models_log10(n, np.log10(var))
    assert logs.exponential.slope == pytest.approx(plain.exponential.slope, rel=1e-12)
    assert logs.polynomial.slope == pytest.approx(plain.polynomial.slope, rel=1e-12)
    # Var = 10^(-3 n): far below 1e-308 at n >= 128, where variance itself would be 0.0
    big = np.array([128.0, 256.0, 512.0, 1024.0])
    fit = compare_models_log10(big, -3.0 * big)
    assert fit.better == "exponential"
    assert fit.exponential.slope == pytest.approx(-3.0 * np.log2(10.0), rel=1e-12)


def test_study_fit_and_plot_use_log10_variance_below_the_double_range(tmp_path):  # type: ignore[no-untyped-def]
    from dqnn.trainability.plot import plot_variance, variance_figure
    from dqnn.trainability.study import fit_points

    pts = [
        {"n": n, "method": "exact", "variance": 0.0, "log10_variance": -2.0 * n, "stderr": 0.0, "trusted": True}
        for n in (200, 400, 800)
    ]
    fit = fit_points(pts)
    assert fit is not None and fit.exponential.slope == pytest.approx(-2.0 * np.log2(10.0), rel=1e-12)
    fig = variance_figure(pts, "below the double range", fit=fit.exponential)
    ax = fig.axes[0]
    assert ax.get_ylabel() == "log10 Var[∂C]" and ax.get_yscale() == "linear"
    ys = ax.lines[0].get_ydata()
    np.testing.assert_allclose(ys, [-400.0, -800.0, -1600.0])
    assert plot_variance(pts, tmp_path / "v.png", "t").exists()
