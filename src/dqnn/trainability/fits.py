"""Fits of variance against the number of qubits: exponential ``Var = a b^n`` versus polynomial ``Var = a n^p``.

Both are weighted least-squares lines (``numpy.polyfit``) in log space: ``log2 Var`` against ``n``
(slope ``log2 b``) or against ``log2 n`` (slope ``p``), with weights ``1 / sigma`` where
``sigma = stderr / (Var ln 2)`` is the standard error of ``log2 Var`` (uniform weights when every stderr is 0,
as for exact values). Confidence intervals use the residual-scaled covariance and Student's t.
The better model is the one with the smaller weighted residual sum of squares (both have two parameters,
so this is also the AIC choice).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import special  # stdtrit(df, q) is what t.ppf(q, df) computes; scipy.stats costs ~1 s to import


@dataclass(frozen=True)
class LineFit:
    """``log2 Var = intercept + slope * x`` with ``x = n`` (exponential) or ``x = log2 n`` (polynomial)."""

    model: Literal["exponential", "polynomial"]
    slope: float
    slope_ci: tuple[float, float]  # 95% confidence interval
    intercept: float
    chi2: float  # weighted residual sum of squares
    points: int

    @property
    def base(self) -> float:
        """Exponential model: ``Var ~ base**n`` (``2**slope``)."""
        return float(2.0**self.slope)

    def predict(self, n: ArrayLike) -> np.ndarray:
        """Fitted variance at ``n``."""
        x = np.asarray(n, dtype=float)
        xx = x if self.model == "exponential" else np.log2(x)
        return np.asarray(2.0 ** (self.intercept + self.slope * xx))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (with ``base`` for the exponential model)."""
        d = asdict(self)
        d["slope_ci"] = list(self.slope_ci)
        if self.model == "exponential":
            d["base"] = self.base
        return d


def _fit(x: np.ndarray, var: np.ndarray, se: np.ndarray, model: Literal["exponential", "polynomial"]) -> LineFit:
    if x.size < 2:
        raise ValueError(f"fit: need at least 2 points, got {x.size}")
    if np.any(var <= 0):
        raise ValueError("fit: variances must be positive to fit in log space")
    return _fit_log2(x, np.log2(var), se / (var * np.log(2.0)), model)


def _fit_log2(x: np.ndarray, y: np.ndarray, sig: np.ndarray, model: Literal["exponential", "polynomial"]) -> LineFit:
    """The weighted line through ``y = log2 Var`` with standard errors ``sig`` (module doc)."""
    if x.size < 2:
        raise ValueError(f"fit: need at least 2 points, got {x.size}")
    w = np.ones_like(y) if np.all(sig <= 0) else 1.0 / np.maximum(sig, np.max(sig) * 1e-6)
    if x.size >= 4:
        coef, cov = np.polyfit(x, y, 1, w=w, cov=True)
        half = float(special.stdtrit(x.size - 2, 0.975) * np.sqrt(cov[0, 0]))
    else:
        coef = np.polyfit(x, y, 1, w=w)
        half = float("inf") if x.size == 2 else float(special.stdtrit(1, 0.975) * _slope_se(x, y, w))
    resid = (y - np.polyval(coef, x)) * w
    ci = (float(coef[0] - half), float(coef[0] + half))
    return LineFit(model, float(coef[0]), ci, float(coef[1]), float(resid @ resid), int(x.size))


def _slope_se(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    coef = np.polyfit(x, y, 1, w=w)
    r = (y - np.polyval(coef, x)) * w
    s2 = float(r @ r) / max(x.size - 2, 1)
    xw = x * w
    a = np.vstack([xw, w]).T
    cov = s2 * np.linalg.inv(a.T @ a)
    return float(np.sqrt(cov[0, 0]))


def fit_exponential(n: ArrayLike, var: ArrayLike, stderr: ArrayLike | None = None) -> LineFit:
    """Fit ``Var = a b^n``: the slope is ``log2 b`` (negative for decay)."""
    v = np.asarray(var, dtype=float)
    return _fit(
        np.asarray(n, dtype=float), v, np.zeros_like(v) if stderr is None else np.asarray(stderr, float), "exponential"
    )


def fit_power(n: ArrayLike, var: ArrayLike, stderr: ArrayLike | None = None) -> LineFit:
    """Fit ``Var = a n^p``: the slope is ``p``."""
    v = np.asarray(var, dtype=float)
    se = np.zeros_like(v) if stderr is None else np.asarray(stderr, float)
    return _fit(np.log2(np.asarray(n, dtype=float)), v, se, "polynomial")


@dataclass(frozen=True)
class ModelComparison:
    """Both fits and the preferred model (smaller weighted residual sum of squares)."""

    exponential: LineFit
    polynomial: LineFit

    @property
    def better(self) -> Literal["exponential", "polynomial"]:
        """The model that fits better."""
        return "exponential" if self.exponential.chi2 <= self.polynomial.chi2 else "polynomial"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "exponential": self.exponential.to_dict(),
            "polynomial": self.polynomial.to_dict(),
            "better": self.better,
        }


def compare_models(n: ArrayLike, var: ArrayLike, stderr: ArrayLike | None = None) -> ModelComparison:
    """Fit both models and say which fits better."""
    return ModelComparison(fit_exponential(n, var, stderr), fit_power(n, var, stderr))


def log10_variance(point: dict[str, Any]) -> float | None:
    """``log10`` of a study point's variance: from ``variance`` when positive, else its ``log10_variance`` (exact
    values below the double range, :mod:`dqnn.moments.scaled`), else None."""
    v = point.get("variance")
    if v is not None and v > 0:
        return float(np.log10(v))
    lv = point.get("log10_variance")
    return float(lv) if lv is not None and np.isfinite(lv) else None


def compare_models_log10(n: ArrayLike, log10_var: ArrayLike) -> ModelComparison:
    """:func:`compare_models` of exact values given as ``log10 Var`` (uniform weights), for values below the double
    range (:mod:`dqnn.moments.scaled`)."""
    x = np.asarray(n, dtype=float)
    y = np.asarray(log10_var, dtype=float) * np.log2(10.0)
    zero = np.zeros_like(y)
    return ModelComparison(_fit_log2(x, y, zero, "exponential"), _fit_log2(np.log2(x), y, zero, "polynomial"))
