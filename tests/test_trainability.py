"""The variance engine against the paper's closed forms (claims 1, 2, 7) with fixed seeds."""

from __future__ import annotations

import numpy as np
import pytest

from dqnn.presets import analytic
from dqnn.trainability.sampling import PointSpec, chunk_size, sample_gradients, variance_point


@pytest.mark.parametrize("cost", ["global", "local"])
@pytest.mark.parametrize("n", [2, 3, 5])
def test_fig3a_variance_matches_closed_form_within_3_se(cost, n):
    """Claims 1 and 2 at small n (depth 2): within 3 standard errors; claim 7: mean zero within 4 s.e."""
    point, g = variance_point(PointSpec("fig3a", cost, n, 2), samples=3000, seed=11)
    s = point.stats
    want = analytic.fig3a_global(n) if cost == "global" else analytic.fig3a_local(n)
    assert point.analytic == want
    assert abs(s.variance - want) <= 3 * s.stderr
    assert abs(s.mean) <= 4 * s.mean_stderr
    assert s.trusted and g.shape == (3000,)


def test_zero_mean_for_haar_and_fig3b_and_pmm():
    for spec in (
        PointSpec("global", "local", 2, 1),
        PointSpec("fig3b", "global", 4, 2),
        PointSpec("pmm", "global", 2, 1),
    ):
        s = variance_point(spec, samples=600, seed=3)[0].stats
        assert abs(s.mean) <= 4 * s.mean_stderr, spec
        assert s.variance > 0


def test_samples_are_seeded_and_independent_of_chunking():
    spec = PointSpec("fig3b", "local", 4, 2)
    a = sample_gradients(spec, 50, seed=5)
    b = sample_gradients(spec, 50, seed=5, memory_budget=1)  # one sample per chunk
    c = sample_gradients(spec, 50, seed=6)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert chunk_size(spec.gradient(), 50, memory_budget=1) == 1


def test_parameter_shift_sampler_equals_autodiff_sampler():
    spec = PointSpec("fig3b", "global", 3, 2)
    np.testing.assert_allclose(
        sample_gradients(spec, 20, seed=1, method="shift"), sample_gradients(spec, 20, seed=1), atol=1e-10
    )


def test_heavy_tail_is_flagged_at_n12():
    """Fig. 3a global at n = 12 with S = 1000: kurtosis ~ 2.4e3 > S, the engine must not trust its error."""
    point, _ = variance_point(PointSpec("fig3a", "global", 12, 1), samples=1000, seed=0)
    assert not point.stats.trusted
    assert any("kurtosis" in w for w in point.stats.warnings)


def test_bad_points_are_named():
    with pytest.raises(ValueError, match="arch 'nope'"):
        PointSpec("nope", "global", 3)
    with pytest.raises(ValueError, match="cost"):
        PointSpec("fig3a", "medium", 3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="too small"):
        PointSpec("fig3b", "global", 1)
    with pytest.raises(ValueError, match="samples must be >= 1"):
        sample_gradients(PointSpec("fig3a", "global", 2), 0)
