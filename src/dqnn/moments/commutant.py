"""The commutant of the two-copy unitary group: the Weingarten matrix and the per-qubit permutation vectors.

For ``t`` copies (``t`` in {1, 2}) the permutations of ``S_t`` are ordered identity, then swap; every moment engine
(:mod:`dqnn.moments.exact`, :mod:`dqnn.moments.registers`) expands 2-design twirls in this basis.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def weingarten_matrix(d: int, copies: int, dtype: Any = np.complex128) -> np.ndarray:
    """The Weingarten matrix ``Wg(s t^{-1}, d)`` of ``S_t`` for ``t = copies`` in {1, 2}; shape (t!, t!).

    Order of permutations: identity, then swap. ``t = 1``: ``[[1/d]]``; ``t = 2``: ``1/(d^2-1)`` on the diagonal and
    ``-1/(d (d^2-1))`` off it (Collins & Sniady 2006, Eq. for ``Wg`` on ``S_2``). ``dtype``: the precision the entries
    are computed in (``d`` a power of two: see :func:`scaled_weingarten`).
    """
    if copies not in (1, 2):
        raise ValueError(f"weingarten_matrix: copies={copies} is not 1 or 2")
    q = int(d).bit_length() - 1
    if d != 2**q:
        real = np.dtype(dtype).type(0).real.dtype.type
        dd = real(d)
        if copies == 1:
            return np.array([[1 / dd]], dtype=dtype)
        a, b = 1 / (dd * dd - 1), -1 / (dd * (dd * dd - 1))
        return np.array([[a, b], [b, a]], dtype=dtype)
    w, e = scaled_weingarten(q, copies, dtype)
    with np.errstate(under="ignore"):
        return np.asarray(w * np.ldexp(np.real(w).dtype.type(1), e), dtype=dtype)


def scaled_weingarten(q: int, copies: int, dtype: Any = np.complex128) -> tuple[np.ndarray, int]:
    """``(W, e)`` with ``Wg = W * 2**e`` for ``d = 2**q``, ``W`` of order one: ``t = 1``: ``[[1]]``, ``e = -q``;
    ``t = 2``: ``[[1, -2**-q], [-2**-q, 1]] / (1 - 4**-q)``, ``e = -2 q`` (no overflow for any ``q``)."""
    real = np.dtype(dtype).type(0).real.dtype.type
    if copies == 1:
        return np.array([[1]], dtype=dtype), -q
    with np.errstate(under="ignore"):
        inv_d = np.ldexp(real(1), -q)
        a = 1 / (1 - inv_d * inv_d)
    return np.array([[a, -a * inv_d], [-a * inv_d, a]], dtype=dtype), -2 * q


def permutation_vectors(copies: int) -> np.ndarray:
    """Per-qubit vectors of the copy permutations ``P_s`` (identity, then swap), shape (t!, 4**t).

    Entry ``[s, (k_1..k_t, b_1..b_t)] = prod_c delta(k_{s(c)}, b_c)``: ``P_s`` on one qubit, as a ket/bra tensor.
    The first row is also the partial trace over a qubit (contraction with the identity).
    """
    perms = [(0,)] if copies == 1 else [(0, 1), (1, 0)]
    out = np.zeros((len(perms),) + (2,) * (2 * copies), dtype=np.complex128)
    for s, perm in enumerate(perms):
        for ks in np.ndindex(*(2,) * copies):
            bs = tuple(ks[perm[c]] for c in range(copies))
            out[(s, *ks, *bs)] = 1.0
    return out.reshape(len(perms), 4**copies)
