"""Honest statistics of sampled gradients: variance with its standard error, kurtosis and a trust verdict.

For ``S`` samples ``g`` with kurtosis ``k = E[(g - mu)^4] / Var^2`` the sample variance has relative
standard error ``sqrt((k - 1) / S)``. Heavy tails make this worse than it looks: a sample shows only the part
of the tail that ``S`` draws reach, so when the tail is heavier than ``S`` resolves, the variance *and* its
standard error both come out too small and the error bar looks fine (Fig. 3a, global cost:
``k = 1.5 (35/18)^(n-1)``, about 3e4 at n = 16). :func:`summarise` flags a point whose sample shows such a
tail; the rules and their measured miss / false-alarm rates are in ``docs/guide/statistics.md`` and
``benchmarks/results_trust.md`` (from ``benchmarks/calibrate_trust.py``).

The rules (each adds a warning; ``trusted = not warnings``), chosen and tuned by measurement on cases with
known answers (``benchmarks/calibrate_trust.py``):

- ``few``: ``S < MIN_SAMPLES``;
- ``imprecise``: ``relative_error > MAX_RELATIVE_ERROR``;
- ``kurtosis``: the sample kurtosis is above ``KURTOSIS_CEILING_FRACTION * S`` *and* significantly above a
  Gaussian's (one-sided Anscombe-Glynn test, :func:`scipy.stats.kurtosistest`, level ``KURTOSIS_TEST_LEVEL``).
  The sample kurtosis cannot exceed about ``S``, so near that ceiling the tail is not resolved; the Gaussian
  test keeps the rule from firing on Gaussian samples at small ``S`` (``0.03 * 50 = 1.5 < 3``);
- ``tail`` (only with ``power_tails=True``): the Hill estimate of the tail index of ``|g - mean|``
  (:func:`hill_tail_index`) is below :func:`tail_index_threshold`, i.e. significantly below
  ``TAIL_INDEX_LIMIT = 4`` (where ``E[g^4]``, and with it the standard error of the variance, stops existing)
  and below what a Gaussian sample of that size shows. Off by default: DQNN gradients are bounded (by the norm
  of the measured observable), and a product of many bounded factors (Fig. 3a) looks like a power law with
  index ~2 over every range a sample reaches, so the rule flags such gradients even where their standard
  error is fine; for data that can have a power-law tail it cuts the trusted misses;
- ``degenerate``: every sample is equal.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as _stats

#: Largest relative standard error of the variance that is reported without a warning.
MAX_RELATIVE_ERROR = 0.3
#: The kurtosis rule fires only above ``KURTOSIS_CEILING_FRACTION * S`` (and only when the kurtosis is also
#: significantly non-Gaussian at level :data:`KURTOSIS_TEST_LEVEL`).
KURTOSIS_CEILING_FRACTION = 0.03
#: One-sided level of the Gaussian kurtosis test (Anscombe-Glynn) that the kurtosis rule also requires.
KURTOSIS_TEST_LEVEL = 0.01
#: Informational: a ``max_share`` above this means one draw carries much of the variance. No longer a rule of
#: the verdict: calibrated against a Gaussian's largest share it removed almost no trusted misses (the misses
#: are samples whose large draws did *not* come), so it is reported only (``GradientStats.max_share``).
MAX_SINGLE_SHARE = 0.1
#: ``E[g^4]`` is finite only for a tail index above this: below it the variance has no standard error.
TAIL_INDEX_LIMIT = 4.0
#: How many standard deviations (``alpha / sqrt(M)`` for ``M`` tail points) the Hill estimate must lie below
#: :data:`TAIL_INDEX_LIMIT` before the tail rule fires.
TAIL_INDEX_Z = 2.0
#: Fewer samples than this are always flagged.
MIN_SAMPLES = 30

__all__ = [
    "KURTOSIS_CEILING_FRACTION",
    "KURTOSIS_TEST_LEVEL",
    "MAX_RELATIVE_ERROR",
    "MAX_SINGLE_SHARE",
    "MIN_SAMPLES",
    "TAIL_INDEX_LIMIT",
    "TAIL_INDEX_Z",
    "GradientStats",
    "hill_tail_index",
    "summarise",
    "tail_index_threshold",
    "tail_points",
]


@dataclass(frozen=True)
class GradientStats:
    """Summary of ``S`` sampled gradients.

    ``variance`` is the unbiased sample variance, ``stderr`` its standard error
    ``sqrt((m4 - (S-3)/(S-1) var^2) / S)``, ``kurtosis`` the sample kurtosis (3 for a Gaussian),
    ``relative_error = sqrt((kurtosis - 1) / S)``, ``max_share`` the largest ``(g - mean)^2`` over their sum,
    ``tail_index`` the Hill estimate of the tail index of ``|g - mean|`` (``inf`` when it cannot be formed).
    ``trusted`` is False, with one line per rule in ``warnings`` and the rules' short names
    (``few, imprecise, kurtosis, tail, degenerate``) joined by ``,`` in ``verdict_reason``, when the
    standard error cannot be relied on; ``verdict_reason`` is ``""`` for a trusted point.
    """

    samples: int
    mean: float
    mean_stderr: float
    variance: float
    stderr: float
    kurtosis: float
    relative_error: float
    max_share: float
    trusted: bool
    warnings: tuple[str, ...] = field(default=())
    tail_index: float = float("inf")
    verdict_reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python dict (JSON-ready)."""
        d = asdict(self)
        d["warnings"] = list(self.warnings)
        return d


def tail_points(samples: int) -> int:
    """``M = ceil(sqrt(S))``: how many of the largest ``|g - mean|`` the Hill estimate uses (at least 2)."""
    if samples < 3:
        raise ValueError(f"tail_points: samples must be >= 3, got {samples}")
    return int(min(max(2, np.ceil(np.sqrt(samples))), samples - 1))


def hill_tail_index(deviations: ArrayLike) -> np.ndarray:
    """Hill estimate ``1 / mean_i log(x_(i) / x_(M+1))`` over the ``M`` largest of each row of ``|deviations|``.

    ``deviations`` (..., S) (``S >= 3``); returns the tail index ``alpha`` (...,): ``P(|X| > x) ~ x^-alpha``
    (``inf`` when the ``M + 1`` largest are all equal, ``0`` when the ``(M + 1)``-th largest is 0, e.g. a
    sample of zeros but ``M`` draws). ``M`` is :func:`tail_points`.
    """
    x = np.abs(np.asarray(deviations, dtype=float))
    s = x.shape[-1]
    m = tail_points(s)
    top = -np.sort(-x, axis=-1)[..., : m + 1]
    ref = top[..., m : m + 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.mean(np.log(top[..., :m] / np.where(ref > 0, ref, 1.0)), axis=-1)
        alpha = np.where(h > 0, 1.0 / np.where(h > 0, h, 1.0), np.inf)
    # the (M + 1)-th largest is 0: the sample is (nearly) all zeros but M draws, as heavy as a tail gets
    return np.where(ref[..., 0] > 0, alpha, 0.0)


def tail_index_threshold(samples: int) -> float:
    """The tail rule's bound: ``min(TAIL_INDEX_LIMIT / (1 + TAIL_INDEX_Z / sqrt(M)), log(S) - 1.9)``.

    The first term is the limit 4 less ``TAIL_INDEX_Z`` standard errors of a Hill estimate from ``M``
    (:func:`tail_points`) points; the second is a fit to the 1% point of the Hill estimate of Gaussian samples
    of size ``S`` (Gaussians are not Pareto-tailed, and at small ``S`` their Hill estimate is small), so that
    a Gaussian sample is flagged by this rule about 1-2% of the time or less (measured in
    ``benchmarks/calibrate_trust.py``).
    """
    m = tail_points(samples)
    return float(min(TAIL_INDEX_LIMIT / (1.0 + TAIL_INDEX_Z / np.sqrt(m)), np.log(samples) - 1.9))


def _kurtosis_flag(c: np.ndarray, kurt: float) -> bool:
    s = c.size
    if s < 20 or not np.isfinite(kurt) or kurt <= KURTOSIS_CEILING_FRACTION * s:
        return False  # below 20 samples the test is not valid (and the "few" rule fires)
    return float(_stats.kurtosistest(c, alternative="greater").pvalue) < KURTOSIS_TEST_LEVEL


def summarise(samples: ArrayLike, *, power_tails: bool = False) -> GradientStats:
    """Mean, variance, their standard errors, kurtosis, tail index and trust verdict of 1-D ``samples`` (S,).

    ``trusted`` is True when none of the rules of this module fires (module docstring; thresholds are the
    module constants); ``power_tails=True`` adds the tail-index rule, for samples that may come from a
    power-law tail (not DQNN gradients, which are bounded). ``trusted`` means the sample shows no sign that its
    standard error is unreliable; it is not a guarantee: a tail that ``S`` draws do not reach cannot be seen
    (measured miss and false-alarm rates: docs/guide/statistics.md).
    """
    g = np.asarray(samples, dtype=float).ravel()
    s = g.size
    if s < 2:
        raise ValueError(f"summarise: need at least 2 samples, got {s}")
    if not np.all(np.isfinite(g)):
        raise ValueError("summarise: samples contain NaN or inf")
    mu = float(g.mean())
    c = g - mu
    sq = c**2
    m2 = float(np.mean(sq))
    m4 = float(np.mean(sq**2))
    var = m2 * s / (s - 1)
    var_se = float(np.sqrt(max(m4 - var**2 * (s - 3) / (s - 1), 0.0) / s))
    kurt = m4 / m2**2 if m2 > 0 else float("nan")
    rel = float(np.sqrt(max(kurt - 1.0, 0.0) / s)) if np.isfinite(kurt) else float("inf")
    total = float(np.sum(sq))
    share = float(np.max(sq)) / total if total > 0 else 1.0
    alpha = float(hill_tail_index(c)) if s >= 3 and m2 > 0 else float("inf")
    warns: list[str] = []
    why: list[str] = []
    if s < MIN_SAMPLES:
        why.append("few")
        warns.append(f"only {s} samples: too few for a trustworthy standard error (want >= {MIN_SAMPLES})")
    if rel > MAX_RELATIVE_ERROR:
        why.append("imprecise")
        warns.append(
            f"relative error of the variance ~ sqrt((kurtosis - 1) / S) = {rel:.2f} > {MAX_RELATIVE_ERROR}: "
            "more samples needed"
        )
    if m2 > 0 and _kurtosis_flag(c, kurt):
        why.append("kurtosis")
        warns.append(
            f"sample kurtosis {kurt:.3g} is far above a Gaussian's and above {KURTOSIS_CEILING_FRACTION:g} S "
            f"(S = {s}; it cannot exceed about S): the tail is not resolved, the variance and its standard error "
            "are probably underestimated"
        )
    if power_tails and s >= MIN_SAMPLES and m2 > 0 and alpha < tail_index_threshold(s):
        why.append("tail")
        warns.append(
            f"tail index of |g - mean| ~ {alpha:.2f} (Hill, {tail_points(s)} largest of {s}) is below "
            f"{tail_index_threshold(s):.2f}: E[g^4] may be infinite, the standard error of the variance "
            "cannot be relied on"
        )
    if var == 0:
        why.append("degenerate")
        warns.append("all samples are equal: zero variance")
    return GradientStats(
        samples=s,
        mean=mu,
        mean_stderr=float(np.sqrt(var / s)),
        variance=var,
        stderr=var_se,
        kurtosis=kurt,
        relative_error=rel,
        max_share=share,
        trusted=not warns,
        warnings=tuple(warns),
        tail_index=alpha,
        verdict_reason=",".join(why),
    )
