"""When an exact moment may be trusted: error estimates from two evaluations, and the verdict.

Every value of :mod:`dqnn.moments.exact` is computed twice by evaluations whose rounding differs (the same
contraction in complex128 and in extended precision, each with its tensors built in its own precision; or two
different engines). Their disagreement is the error estimate: an upper estimate of the reported (more precise)
value's error, since the complex128 value is the less precise of the two. :func:`judge` turns it into a verdict:
a variance whose estimated relative error exceeds :data:`TOLERANCE`, that is not finite, or that is negative, is
*untrusted*, with the reason; a negative variance is never returned as a number (``nan`` and the reason instead).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dqnn.moments.scaled import Scaled

#: Largest estimated relative error of a trusted variance.
TOLERANCE = 1e-6


@dataclass(frozen=True)
class Validation:
    """The verdict on one exact variance.

    ``relative_error``: estimated relative error of the variance (``inf`` if it is not resolved at all);
    ``trusted``: ``relative_error <= TOLERANCE`` and the variance finite and ``>= 0``; ``reason``: why not
    (``None`` when trusted); ``log10_variance``, ``log10_second_moment``: ``log10`` of the values, finite far
    below the double range (``nan`` for a variance not reported, ``-inf`` for an exact zero); ``checks``: how
    the error was estimated.
    """

    relative_error: float
    trusted: bool
    reason: str | None
    log10_variance: float
    log10_second_moment: float
    checks: str


def judge(variance: Scaled, second_moment: Scaled, relative_error: float, checks: str) -> Validation:
    """The verdict on ``variance`` (and its ``second_moment``) given the estimated ``relative_error``."""
    lv, l2 = variance.log10_abs(), second_moment.log10_abs()
    if math.isnan(lv) or math.isnan(l2) or math.isnan(relative_error):
        return Validation(math.inf, False, "the contraction gave a non-finite value", math.nan, l2, checks)
    if variance.sign() < 0:
        return Validation(
            relative_error,
            False,
            f"negative variance ({float(variance):.3g}, log10 |.| = {lv:.2f}): below the contraction's error, "
            "not reported",
            math.nan,
            l2,
            checks,
        )
    if relative_error > TOLERANCE:
        return Validation(
            relative_error,
            False,
            f"estimated relative error {relative_error:.2g} exceeds {TOLERANCE:g} ({checks})",
            lv,
            l2,
            checks,
        )
    return Validation(relative_error, True, None, lv, l2, checks)


__all__ = ["TOLERANCE", "Validation", "judge"]
