"""Variance statistics and the trust verdict, on cases with known answers.

Standard errors against exact values and a brute-force bootstrap; the verdict against Gaussian samples (false
alarms), heavy-tailed samples and the Fig. 3a global-cost gradient (kurtosis ``1.5 (35/18)^(n-1)``), whose
NumPy sampler is first checked against dqnn's own samples.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from dqnn.presets import analytic
from dqnn.trainability.statistics import (
    KURTOSIS_CEILING_FRACTION,
    GradientStats,
    hill_tail_index,
    summarise,
    tail_index_threshold,
    tail_points,
)


def fig3a_global(n: int, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """The Fig. 3a global-cost gradient, one layer, first angle: ``sin(t_1)/2 * prod_(i>1) cos^2(t_i/2)``."""
    t = rng.uniform(0.0, 2.0 * np.pi, shape + (n,))
    return 0.5 * np.sin(t[..., 0]) * np.prod(np.cos(t[..., 1:] / 2.0) ** 2, axis=-1)


def flagged_fraction(block: np.ndarray, **kw: bool) -> float:
    return float(np.mean([not summarise(g, **kw).trusted for g in block]))


# ---- the numbers ---------------------------------------------------------------------------------------------


def test_gaussian_variance_stderr_and_kurtosis():
    rng = np.random.default_rng(0)
    reps = np.array([summarise(rng.normal(0, 2, 500)).variance for _ in range(400)])
    s = summarise(rng.normal(0, 2, 500))
    assert abs(s.kurtosis - 3) < 0.6
    # the stated stderr matches the spread of repeated estimates (Var of sample var = 2 sigma^4 / (S - 1))
    assert abs(reps.std() / s.stderr - 1) < 0.2
    assert abs(reps.std() / np.sqrt(2 * 16 / 499) - 1) < 0.1
    assert abs(reps.mean() - 4) < 4 * reps.std() / np.sqrt(reps.size)
    assert s.trusted and not s.warnings and s.verdict_reason == ""


def test_stderr_equals_exact_formula_for_uniform_and_a_bootstrap_for_laplace():
    """Var of the unbiased sample variance is (mu4 - sigma^4 (S-3)/(S-1)) / S for any law (uniform: exact)."""
    rng = np.random.default_rng(3)
    size = 200
    exact_se = np.sqrt((1 / 5 - (1 / 9) * (size - 3) / (size - 1)) / size)  # U(-1, 1): sigma^2 1/3, mu4 1/5
    st = [summarise(rng.uniform(-1, 1, size)) for _ in range(400)]
    assert abs(np.std([x.variance for x in st]) / exact_se - 1) < 0.1
    assert abs(np.mean([x.stderr for x in st]) / exact_se - 1) < 0.03
    # brute force: the bootstrap standard error of the variance of one Laplace sample
    g = rng.laplace(size=3000)
    boot = rng.integers(0, g.size, (2000, g.size))
    boot_se = np.var(g[boot], axis=1, ddof=1).std()
    assert abs(summarise(g).stderr / boot_se - 1) < 0.1


def test_hill_tail_index_brute_force_and_pareto():
    rng = np.random.default_rng(4)
    x = rng.standard_t(3, (5, 400))
    m = tail_points(400)
    assert m == 20
    for row, got in zip(x, hill_tail_index(x), strict=True):
        top = np.sort(np.abs(row))[::-1]
        assert got == pytest.approx(1 / np.mean(np.log(top[:m] / top[m])), rel=1e-12)
    pareto = 1 + rng.pareto(3.0, 40000)  # P(X > x) = x^-3: the Hill estimate is unbiased, s.d. 3 / sqrt(M)
    assert abs(float(hill_tail_index(pareto)) - 3) < 3 * 3 / np.sqrt(tail_points(40000))
    assert float(hill_tail_index(np.ones(10))) == np.inf
    assert float(hill_tail_index(np.r_[np.zeros(20), 1.0, 2.0])) == 0.0
    with pytest.raises(ValueError, match="samples must be >= 3"):
        tail_points(2)


def test_fields_and_json():
    st = summarise(np.random.default_rng(5).normal(size=100))
    assert isinstance(st, GradientStats)
    d = json.loads(json.dumps(st.to_dict()))
    for key in ("samples", "mean", "variance", "stderr", "kurtosis", "relative_error", "tail_index", "verdict_reason"):
        assert key in d
    assert d["samples"] == 100 and d["warnings"] == [] and d["trusted"] is True


# ---- false alarms --------------------------------------------------------------------------------------------


def test_no_false_alarm_on_near_gaussian_kurtosis_at_small_s():
    """The reported case: S = 50, kurtosis 3.2 was flagged 'near its ceiling' (0.05 S = 2.5 < 3.2)."""
    rng = np.random.default_rng(6)
    g = next(x for x in (rng.normal(size=50) for _ in range(1000)) if 3.15 < summarise(x).kurtosis < 3.25)
    st = summarise(g)
    assert st.kurtosis > KURTOSIS_CEILING_FRACTION * 50 and st.trusted, st.warnings


@pytest.mark.parametrize("size", [30, 50, 200, 1000])
def test_gaussian_false_alarm_rate_is_low(size):
    """Over 300 seeded Gaussian samples, at most 5% of the fine estimates (within 2 s.e., s.e./Var < 0.3) are
    flagged, with or without the tail rule; at S >= 50 at most 5% of all samples are flagged."""
    block = np.random.default_rng([7, size]).normal(size=(300, size))
    for power_tails in (False, True):
        st = [summarise(g, power_tails=power_tails) for g in block]
        fine = [abs(x.variance - 1) <= 2 * x.stderr and x.stderr < 0.3 * x.variance for x in st]
        fa = np.sum([f and not x.trusted for f, x in zip(fine, st, strict=True)]) / np.sum(fine)
        assert fa <= 0.05, (size, power_tails, fa)
        if size >= 50:
            assert np.mean([not x.trusted for x in st]) <= 0.05


def test_fig3a_small_n_is_trusted_and_right_where_s_resolves_it():
    """Fig. 3a at n = 3, 4 with S = 1000 (kurtosis 5.7, 11): trusted, and rarely beyond 3 s.e. of the exact value
    (a Gaussian error bar: 0.3%)."""
    for n in (3, 4):
        exact = analytic.fig3a_global(n)
        st = [summarise(g) for g in fig3a_global(n, (100, 1000), np.random.default_rng([8, n]))]
        trusted = [x for x in st if x.trusted]
        assert len(trusted) >= 95
        z = np.array([abs(x.variance - exact) / x.stderr for x in trusted])
        assert np.mean(z > 3) <= 0.03 and np.mean(z > 4) <= 0.02, np.sort(z)[-3:]


# ---- heavy tails are flagged ---------------------------------------------------------------------------------


def test_numpy_fig3a_sampler_matches_dqnn():
    from dqnn.trainability.sampling import PointSpec, sample_gradients

    g = sample_gradients(PointSpec("fig3a", "global", 6, 1), 3000, seed=9)
    h = fig3a_global(6, (3000,), np.random.default_rng(9))
    assert stats.ks_2samp(g, h).pvalue > 1e-3
    assert abs(g.var() / h.var() - 1) < 0.3  # kurtosis 42: the sample variances agree only roughly


@pytest.mark.parametrize(("n", "size"), [(10, 200), (12, 1000), (16, 2000)])
def test_fig3a_kurtosis_far_above_s_is_flagged(n, size):
    """Kurtosis 1.5 (35/18)^(n-1) >> S: the sampled variance is mostly far too small; every point is flagged."""
    assert analytic.fig3a_global_kurtosis(n) > 1.5 * size
    block = fig3a_global(n, (40, size), np.random.default_rng([10, n]))
    st = [summarise(g) for g in block]
    assert all(not x.trusted and ("kurtosis" in x.verdict_reason or "imprecise" in x.verdict_reason) for x in st)
    # the flags are deserved: the typical estimate is far too small, and > 30% of the points lie more than 2 s.e.
    # below the exact variance (an honest error bar: 2.3%)
    exact = analytic.fig3a_global(n)
    assert np.median([x.variance for x in st]) < 0.75 * exact
    assert np.mean([x.variance + 2 * x.stderr < exact for x in st]) > 0.3


def test_infinite_kurtosis_is_flagged():
    rng = np.random.default_rng(1)
    s = summarise(rng.standard_t(2.2, 1000))  # infinite kurtosis
    assert not s.trusted and s.warnings


def test_power_tails_rule_flags_pareto_and_lognormal():
    """Pareto (shape 3: infinite kurtosis) and lognormal (sigma 1: kurtosis 111) at S = 1000."""
    rng = np.random.default_rng(11)
    for block in (rng.pareto(3.0, (40, 1000)), rng.lognormal(0.0, 1.0, (40, 1000))):
        assert flagged_fraction(block, power_tails=True) >= 0.9
        assert all("tail" in summarise(g, power_tails=True).verdict_reason for g in block[:5])
    # the tail rule needs S >= MIN_SAMPLES and is Gaussian-calibrated by tail_index_threshold
    assert tail_index_threshold(30) < tail_index_threshold(2000) < 4


def test_too_few_samples_degenerate_and_bad_input():
    few = summarise(np.arange(10.0))
    assert not few.trusted and few.verdict_reason.split(",")[0] == "few"
    flat = summarise(np.ones(50))
    assert not flat.trusted and "degenerate" in flat.verdict_reason
    with pytest.raises(ValueError, match="at least 2"):
        summarise([1.0])
    with pytest.raises(ValueError, match="NaN"):
        summarise([1.0, np.nan, 2.0])
