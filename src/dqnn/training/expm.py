r"""The matrix exponential of parameter-matrix multiplication's step (P1 of :mod:`dqnn.training.pmm`), batched.

``u -> expm(i eps K) u`` is applied to every trainable perceptron of a step at once. ``jax.scipy.linalg.expm``
works one matrix at a time (a vmapped call evaluates every Pade branch) and solves its Pade denominator with
LAPACK (an LU factorisation and two triangular solves per matrix): on a [2,3,2] network (five perceptrons, 8x8 and
16x16) these calls were half the time of a whole training step. Here all matrices of one size form a stack
``(b, n, n)`` and share one scaled Taylor polynomial (matrix products only):

- scaling: ``s = max(0, ceil(log2(|A|_1 / THETA)))`` with ``|A|_1`` the largest 1-norm in the stack;
- the Taylor polynomial of degree 18 of ``exp(A / 2**s)``, evaluated in five matrix products by the formula of
  Bader, Blanes and Casas (Mathematics 7, 1174 (2019); the method of PyTorch's ``matrix_exp``), whose backward
  error is below the unit roundoff of complex128 for ``|A / 2**s|_1 <= THETA``;
- ``s`` squarings (a loop with a dynamic trip count).

Tests compare it with SciPy's ``expm`` (1e-13 relative) over norms from 0 to 1e3 and check that
``exp(i H)`` of a Hermitian ``H`` is unitary.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax.numpy as jnp
from jax import lax

from dqnn._jax import Array

#: Largest scaled 1-norm: ``T18`` of Bader, Blanes and Casas has a backward error below the unit roundoff of
#: double precision for ``|A|_1 <= THETA`` (their Table; the value PyTorch's ``matrix_exp`` uses).
THETA = 1.090863719290036
#: The most squarings (``|A|_1`` up to ``THETA 2**MAX_SQUARINGS``); a larger norm, ``inf`` or ``nan`` gives ``nan``.
MAX_SQUARINGS = 64
#: ``T18``'s coefficients (Bader, Blanes, Casas, Mathematics 7, 1174 (2019), Eq. 18 and their Table), on the powers
#: ``(1, A, A^2, A^3, A^6)``: rows ``B1 .. B5`` with ``A9 = B1 B5 + B4`` and ``T18 = B2 + (B3 + A9) A9``, which
#: equals the Taylor polynomial of degree 18 (the tests check the coefficients) in five matrix products.
_T18 = (
    (0.0, -1.00365581030144618291e-01, -8.02924648241156932449e-03, -8.92138498045729985177e-04, 0.0),
    (
        0.0,
        3.97849749499645077844e-01,
        1.36783778460411720168e00,
        4.98289622525382669416e-01,
        -6.37898194594723280150e-04,
    ),
    (
        -1.09676396052962061844e01,
        1.68015813878906206114e00,
        5.71779846478865511061e-02,
        -6.98210122488052056106e-03,
        3.34975017086070470649e-05,
    ),
    (
        -9.04316832390810593223e-02,
        -6.76404519071381882256e-02,
        6.75961301770459654925e-02,
        2.95552570429315521194e-02,
        -1.39180257516060693404e-05,
    ),
    (0.0, 0.0, -9.23364619367118555360e-02, -1.69364939002081722752e-02, -1.40086798182036094347e-05),
)


def _t18(a: Array) -> Array:
    """``T18(a)`` (the degree-18 Taylor polynomial of ``exp``) of a stack (b, n, n), five products."""
    eye = jnp.broadcast_to(jnp.eye(a.shape[-1], dtype=a.dtype), a.shape)
    a2 = a @ a
    a3 = a2 @ a
    a6 = a3 @ a3
    powers = (eye, a, a2, a3, a6)
    b = [sum((c * m for c, m in zip(row, powers, strict=True) if c != 0.0), jnp.zeros_like(a)) for row in _T18]
    a9 = b[0] @ b[4] + b[3]
    return b[1] + (b[2] + a9) @ a9


def expm(a: Array) -> Array:
    """``exp(a)`` of a stack ``a`` (..., n, n) of square matrices (module docstring); same shape and dtype."""
    a = jnp.asarray(a)
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"expm: expected a stack of square matrices (..., n, n), got shape {a.shape}")
    shape = a.shape
    a = jnp.reshape(a, (-1,) + shape[-2:])
    norm = jnp.max(jnp.sum(jnp.abs(a), axis=-2))
    finite = jnp.isfinite(norm) & (norm <= THETA * 2.0**MAX_SQUARINGS)
    ratio = jnp.where(finite & (norm > 0), norm / THETA, 1.0)
    s = jnp.clip(jnp.ceil(jnp.log2(ratio)), 0, MAX_SQUARINGS)
    scale = jnp.where(finite, 0.5**s, jnp.nan)  # a nan scale makes every entry of the result nan
    t = _t18(a * scale.astype(a.dtype))
    t = lax.fori_loop(0, s.astype(jnp.int32), lambda _, x: x @ x, t)
    return jnp.reshape(t, shape)


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


__all__ = ["MAX_SQUARINGS", "THETA", "expm", "rotate"]
