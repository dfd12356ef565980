r"""The matrix exponential of parameter-matrix multiplication's step (P1 of :mod:`dqnn.training.pmm`), batched.

``u -> expm(i eps K) u`` is applied to every trainable perceptron of a step at once. ``jax.scipy.linalg.expm``
works one matrix at a time (a vmapped call evaluates every Pade branch) and solves its Pade denominator with
LAPACK (an LU factorisation and two triangular solves per matrix): on a [2,3,2] network (five perceptrons, 8x8 and
16x16) these calls were half the time of a whole training step. Here all matrices of one size form a stack
``(b, n, n)`` and share one scaled Taylor polynomial (matrix products only):

- scaling: ``s = max(0, ceil(log2 |A|_1))`` with ``|A|_1`` the largest 1-norm in the stack, so ``|A / 2**s|_1 <= 1``;
- the Taylor polynomial of degree 18 of ``exp(A / 2**s)`` in Paterson-Stockmeyer form (7 products); its
  truncation error is at most ``1/19! < 1e-17`` relative to the norm, below the unit roundoff of complex128;
- ``s`` squarings (a loop with a dynamic trip count).

Tests compare it with SciPy's ``expm`` (1e-14 relative) over norms from 0 to 1e3 and check that
``exp(i H)`` of a Hermitian ``H`` is unitary.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import jax.numpy as jnp
from jax import lax

from dqnn._jax import Array

#: Degree of the Taylor polynomial; ``|A|_1 <= 1`` after scaling makes its remainder ``<= 1/(DEGREE + 1)!``.
DEGREE = 18
#: Block size of the Paterson-Stockmeyer evaluation (powers ``A**0 .. A**(BLOCK - 1)`` are formed once).
BLOCK = 4
#: The most squarings (``|A|_1`` up to ``2**MAX_SQUARINGS``); a larger norm, ``inf`` or ``nan`` gives ``nan``.
MAX_SQUARINGS = 64
_COEFFICIENTS = tuple(1.0 / math.factorial(k) for k in range(DEGREE + 1))


def expm(a: Array) -> Array:
    """``exp(a)`` of a stack ``a`` (..., n, n) of square matrices (module docstring); same shape and dtype."""
    a = jnp.asarray(a)
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"expm: expected a stack of square matrices (..., n, n), got shape {a.shape}")
    n = a.shape[-1]
    norm = jnp.max(jnp.sum(jnp.abs(a), axis=-2))
    finite = jnp.isfinite(norm) & (norm <= 2.0**MAX_SQUARINGS)
    s = jnp.where(finite, jnp.clip(jnp.ceil(jnp.log2(jnp.where(norm > 0, norm, 1.0))), 0, MAX_SQUARINGS), 0)
    a = a * (0.5**s).astype(a.dtype)
    eye = jnp.broadcast_to(jnp.eye(n, dtype=a.dtype), a.shape)
    powers = [eye, a]
    for k in range(2, BLOCK + 1):
        powers.append(powers[k // 2] @ powers[k - k // 2])
    top = powers[BLOCK]

    def block(i: int) -> Array:
        terms = [_COEFFICIENTS[BLOCK * i + k] * powers[k] for k in range(BLOCK) if BLOCK * i + k <= DEGREE]
        return sum(terms[1:], terms[0])

    blocks = DEGREE // BLOCK
    t = block(blocks)
    for i in reversed(range(blocks)):
        t = block(i) + top @ t
    t = lax.fori_loop(0, s.astype(jnp.int32), lambda _, x: x @ x, t)
    return jnp.where(finite, t, jnp.nan)


def rotate(generators: Sequence[Array | None], unitaries: Sequence[Array], eps: Array | float) -> list[Array]:
    """``expm(i eps K) u`` for every pair ``(K, u)`` (``u`` unchanged where ``K`` is None), one :func:`expm` per
    matrix size: ``generators[i]`` and ``unitaries[i]`` are (n_i, n_i)."""
    if len(generators) != len(unitaries):
        raise ValueError(f"rotate: {len(generators)} generators for {len(unitaries)} unitaries")
    out = list(unitaries)
    sizes: dict[tuple[int, ...], list[int]] = {}
    for i, (k, u) in enumerate(zip(generators, unitaries, strict=True)):
        if k is None:
            continue
        if k.shape != u.shape or k.ndim != 2:
            raise ValueError(f"rotate: generator {i} has shape {k.shape}, its unitary {u.shape}")
        sizes.setdefault(k.shape, []).append(i)
    for idx in sizes.values():
        ks = jnp.stack([generators[i] for i in idx])  # type: ignore[misc]
        us = jnp.stack([unitaries[i] for i in idx])
        new = expm((1j * eps) * ks) @ us
        for pos, i in enumerate(idx):
            out[i] = new[pos]
    return out


__all__ = ["BLOCK", "DEGREE", "MAX_SQUARINGS", "expm", "rotate"]
