"""The paper's analytic results and bounds, each with its source.

Exact closed forms (Var over uniformly random angles, input and target |0...0>):

- :func:`fig3a_global`: Fig. 3a with the global cost (Eq. 3): ``Var = (1/8) (3/8)^(n-1)`` (text after Eq. 10;
  the toy model of Cerezo et al., Nat. Commun. 12, 1791 (2021)). Any depth: sums of uniform angles are uniform.
- :func:`fig3a_local`: Fig. 3a with the local cost (Eq. 4): ``Var = 1 / (8 n^2)``.
- :func:`fig3a_global_kurtosis`: ``E[g^4] / E[g^2]^2 = 1.5 (35/18)^(n-1)`` for the Fig. 3a global gradient
  (from ``E sin^4 = 3/8``, ``E cos^4(t/2) = 3/8``, ``E cos^8(t/2) = 35/128``).

Scalings of bounds (up to constants; the bound is ``Var <= c * scaling`` or ``>=`` where stated):

- Eq. (9), Theorem 1, global cost: ``O(2^(-2n))``; Eq. (10), Theorem 1, local cost: ``O(2^(-n))``;
- Eq. (11), Fig. 3b, global cost, O(poly log n) layers: ``O((sqrt(3)/4)^n)``;
- Eq. (12), Fig. 3b, local cost, O(log n) layers: ``Omega(1/poly(n))`` (a lower bound);
- Eq. (14), Theorem 2, parameter-matrix multiplication: ``O(2^(-n))``, global and local.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np


def fig3a_global(n: int) -> float:
    """``(1/8) (3/8)^(n-1)``: Var of the Fig. 3a global-cost gradient (exact)."""
    return 0.125 * 0.375 ** (n - 1)


def fig3a_local(n: int) -> float:
    """``1 / (8 n^2)``: Var of the Fig. 3a local-cost gradient (exact)."""
    return 1.0 / (8.0 * n * n)


def fig3a_global_kurtosis(n: int) -> float:
    """``1.5 (35/18)^(n-1)``: kurtosis of the Fig. 3a global-cost gradient (exact)."""
    return 1.5 * (35.0 / 18.0) ** (n - 1)


@dataclass(frozen=True)
class Bound:
    """A scaling law from the paper: ``Var <= c * base**n`` (``kind="upper"``) or a polynomial lower bound."""

    source: str
    kind: Literal["upper", "lower"]
    base: float | None  # exponential base per qubit (None for a polynomial law)
    text: str

    def rate_bits(self) -> float | None:
        """``-log2(base)``: the bound's decay in bits per qubit (None for a polynomial law)."""
        return None if self.base is None else float(-np.log2(self.base))


BOUNDS: dict[str, Bound] = {
    "theorem1-global": Bound("Eq. (9), Theorem 1", "upper", 0.25, "Var[d C^G] in O(2^(-2n))"),
    "theorem1-local": Bound("Eq. (10), Theorem 1", "upper", 0.5, "Var[d C^L] in O(2^(-n))"),
    "fig3b-global": Bound("Eq. (11)", "upper", float(np.sqrt(3) / 4), "Var[d C^G] in O((sqrt(3)/4)^n)"),
    "fig3b-local": Bound("Eq. (12)", "lower", None, "Var[d C^L] in Omega(1/poly(n))"),
    "pmm-global": Bound("Eq. (14), Theorem 2", "upper", 0.5, "Var[d_s C^G] in O(2^(-n))"),
    "pmm-local": Bound("Eq. (14), Theorem 2", "upper", 0.5, "Var[d_s C^L] in O(2^(-n))"),
}
