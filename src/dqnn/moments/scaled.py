"""Numbers beyond the double range: a mantissa and an exact power-of-two exponent.

A :class:`Scaled` value is ``mantissa * 2**exponent`` with an integer ``exponent``, so products of many small
factors (Fig. 3a at ``n = 10,000`` is ``10**-4260``) neither underflow nor lose digits: rescaling by a power of two
is exact in binary floating point. The moment engines keep their running tensors normalised this way
(:func:`normalise`) and report ``log10`` of the result beside the nearest double.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Any

import numpy as np

with localcontext() as _ctx:
    _ctx.prec = 40
    _LOG10_2 = Decimal(2).log10()  # 40 digits: exponent * log10(2) stays exact to double precision


def normalise(a: np.ndarray) -> tuple[np.ndarray, int]:
    """``(a * 2**-e, e)`` with ``e`` the binary exponent of ``max |a|`` (``e = 0`` for an all-zero or non-finite
    array); exact, since only the exponents of the entries change. Works for real and complex dtypes."""
    m = np.max(np.abs(a)) if a.size else 0.0
    if not np.isfinite(m) or m == 0:
        return a, 0
    e = int(np.frexp(m)[1])
    real = np.real(a).dtype.type
    return a * np.ldexp(real(1), -e), e


@dataclass(frozen=True)
class Scaled:
    """The real number ``mantissa * 2**exponent`` (``mantissa`` a float of any precision, ``exponent`` an int)."""

    mantissa: Any
    exponent: int = 0

    @classmethod
    def of(cls, x: Any) -> Scaled:
        """``x`` (a float of any precision) with its binary exponent split off."""
        x = np.asarray(x).real[()]
        if x == 0 or not np.isfinite(x):
            return cls(x, 0)
        m, e = np.frexp(x)
        return cls(m, int(e))

    def __add__(self, other: Scaled) -> Scaled:
        if self.mantissa == 0:
            return other
        if other.mantissa == 0:
            return self
        e = max(self.exponent, other.exponent)
        m = np.ldexp(self.mantissa, self.exponent - e) + np.ldexp(other.mantissa, other.exponent - e)
        return Scaled.of(m).shift(e)

    def __neg__(self) -> Scaled:
        return Scaled(-self.mantissa, self.exponent)

    def __sub__(self, other: Scaled) -> Scaled:
        return self + (-other)

    def __mul__(self, other: Scaled) -> Scaled:
        return Scaled.of(self.mantissa * other.mantissa).shift(self.exponent + other.exponent)

    def shift(self, k: int) -> Scaled:
        """``self * 2**k``."""
        return Scaled(self.mantissa, self.exponent + int(k)) if self.mantissa != 0 else self

    def scale(self, x: float) -> Scaled:
        """``self * x`` for an ordinary float ``x``."""
        return self * Scaled.of(np.asarray(x, dtype=np.asarray(self.mantissa).dtype))

    def __float__(self) -> float:
        """The nearest double (``0.0`` below the double range, ``inf`` above it)."""
        e = max(min(self.exponent, 100_000), -100_000)
        with np.errstate(over="ignore", under="ignore"):
            return float(np.ldexp(np.float64(self.mantissa), e))

    def log10_abs(self) -> float:
        """``log10 |value|`` (``-inf`` for zero, ``nan`` for a non-finite mantissa)."""
        m = float(abs(self.mantissa))
        if not math.isfinite(m):
            return math.nan
        if m == 0:
            return -math.inf
        return float(Decimal(math.log10(m)) + self.exponent * _LOG10_2)

    def sign(self) -> int:
        """``-1``, ``0`` or ``1``."""
        return int(np.sign(float(self.mantissa)))

    def relative_to(self, other: Scaled) -> float:
        """``|self - other| / |other|`` (``0`` if both are zero, ``inf`` if only ``other`` is)."""
        diff = self - other
        if diff.mantissa == 0:
            return 0.0
        if other.mantissa == 0:
            return math.inf
        return 10 ** (diff.log10_abs() - other.log10_abs())


__all__ = ["Scaled", "normalise"]
