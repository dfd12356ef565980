"""Honest statistics of sampled gradients: variance with its standard error, kurtosis and trust warnings.

For ``S`` samples ``g`` with kurtosis ``k = E[(g - mu)^4] / Var^2`` the sample variance has relative
standard error ``sqrt((k - 1) / S)``. Heavy tails make this worse than it looks: the sample kurtosis of
``S`` samples cannot exceed about ``S``, so when the true kurtosis is larger than ``S`` the tail is not
seen at all, and both the variance and its standard error come out too small (Fig. 3a, global cost:
``k = 1.5 (35/18)^(n-1)``, about 3e4 at n = 16). :func:`summarise` flags such results.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

#: Largest relative standard error of the variance that is reported without a warning.
MAX_RELATIVE_ERROR = 0.3
#: A sample kurtosis above ``S * KURTOSIS_CEILING_FRACTION`` means the tail is not resolved by ``S`` samples.
KURTOSIS_CEILING_FRACTION = 0.05
#: A single sample carrying more than this share of ``sum g^2`` makes the estimate hostage to one draw.
MAX_SINGLE_SHARE = 0.1
#: Fewer samples than this are always flagged.
MIN_SAMPLES = 30


@dataclass(frozen=True)
class GradientStats:
    """Summary of ``S`` sampled gradients.

    ``variance`` is the unbiased sample variance, ``stderr`` its standard error
    ``sqrt((m4 - (S-3)/(S-1) var^2) / S)``, ``kurtosis`` the sample kurtosis (3 for a Gaussian),
    ``relative_error = sqrt((kurtosis - 1) / S)``, ``trusted`` False with ``warnings`` when the standard
    error cannot be trusted.
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

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python dict (JSON-ready)."""
        d = asdict(self)
        d["warnings"] = list(self.warnings)
        return d


def summarise(samples: ArrayLike) -> GradientStats:
    """Mean, variance, their standard errors, kurtosis and trust warnings of 1-D ``samples`` (S,)."""
    g = np.asarray(samples, dtype=float).ravel()
    s = g.size
    if s < 2:
        raise ValueError(f"summarise: need at least 2 samples, got {s}")
    if not np.all(np.isfinite(g)):
        raise ValueError("summarise: samples contain NaN or inf")
    mu = float(g.mean())
    c = g - mu
    m2 = float(np.mean(c**2))
    m4 = float(np.mean(c**4))
    var = m2 * s / (s - 1)
    var_se = float(np.sqrt(max(m4 - var**2 * (s - 3) / (s - 1), 0.0) / s))
    kurt = m4 / m2**2 if m2 > 0 else float("nan")
    rel = float(np.sqrt(max(kurt - 1.0, 0.0) / s)) if np.isfinite(kurt) else float("inf")
    sq = g**2
    total = float(np.sum(sq))
    share = float(np.max(sq)) / total if total > 0 else 1.0
    warns = []
    if s < MIN_SAMPLES:
        warns.append(f"only {s} samples: too few for a trustworthy standard error (want >= {MIN_SAMPLES})")
    if rel > MAX_RELATIVE_ERROR:
        warns.append(
            f"relative error of the variance ~ sqrt((kurtosis - 1) / S) = {rel:.2f} > {MAX_RELATIVE_ERROR}: "
            "more samples needed"
        )
    if np.isfinite(kurt) and kurt > KURTOSIS_CEILING_FRACTION * s:
        warns.append(
            f"sample kurtosis {kurt:.3g} is near its ceiling for S = {s} (about S): the tail is not resolved, "
            "the variance and its standard error are probably underestimated"
        )
    if share > MAX_SINGLE_SHARE:
        warns.append(f"one sample carries {share:.0%} of sum g^2: heavy tail, the estimate rests on a few draws")
    if var == 0:
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
    )
