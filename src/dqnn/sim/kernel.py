"""The gate kernel: one gate applied to a state tensor with one axis of size 2 per qubit.

Both simulators apply every gate through :func:`apply_gate`: the factored mixed-state simulator of
:mod:`dqnn.sim.simulate` (on its factors, which carry a trailing rank axis) and the product-state cone
engine of :mod:`dqnn.sim.cone_engine` (on its components). Small gates (``g <= SLICED_MAX_QUBITS`` qubits)
are applied without a transpose or a matrix product: the state is viewed as ``(L0, 2, L1, 2, ..., Lg)``
(the gate's axes in increasing order) and each output slice is a ``u``-weighted sum of input slices, which
XLA fuses into one pass over memory; larger gates use ``tensordot``. The two simulators write that sum in
two ways (``form``), which round differently in the last bit, so each keeps its own:

- ``"slices"`` (the factored simulator): the weighted slices are added one by one; a concrete (NumPy) gate
  skips exactly-zero entries and does not multiply by unit ones (a permutation costs one pass with no
  arithmetic to speak of), and a concrete diagonal gate (CZ, phases) only scales, in place, the slices whose
  entry is not 1. Real entries multiply as reals (a real state stays real); a traced real gate (``R_y``) on a
  complex state is applied to the real and imaginary parts apart (real multiplications only).
- ``"broadcast"`` (the cone engine): the gate, broadcast against the state, is multiplied in and summed over
  its input indices by one reduction; concrete and traced gates alike.

Conventions (qubit order, wire order of ``u``): :mod:`dqnn`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np

from dqnn._jax import Array

#: Gates on at most this many qubits are applied as sums of sliced products (see :func:`apply_gate`).
SLICED_MAX_QUBITS = 3

#: How :func:`apply_gate` sums the weighted slices of a small gate (module doc).
KernelForm = Literal["slices", "broadcast"]


def is_diagonal(m: np.ndarray) -> bool:
    """Whether the (concrete) square matrix ``m`` has no non-zero entry off its diagonal."""
    return not np.any(m - np.diag(np.diag(m)))


def apply_gate(t: Array, u: Array, axes: Sequence[int], form: KernelForm = "slices") -> Array:
    """``u`` (2**g, 2**g) applied to axes ``axes`` (in ``u``'s wire order) of ``t``; same shape as ``t``.

    ``t`` has one axis of size 2 per qubit (and any trailing axes, e.g. the rank axis of
    :class:`dqnn.sim.simulate.Factors`). ``form``: how a small gate's weighted slices are summed (module doc).
    """
    g = len(axes)
    if g > SLICED_MAX_QUBITS:
        ut = jnp.reshape(u, (2,) * (2 * g))
        out = jnp.tensordot(ut, t, axes=(list(range(g, 2 * g)), list(axes)))
        return jnp.moveaxis(out, list(range(g)), list(axes))
    if form == "broadcast":
        return _broadcast(t, u, axes)
    if form != "slices":
        raise ValueError(f"apply_gate: unknown form {form!r} (use 'slices' or 'broadcast')")
    return _slices(t, u, axes)


def _order(axes: Sequence[int]) -> list[int]:
    """``order[m]``: the wire index of the ``m``-th smallest of ``axes``."""
    return sorted(range(len(axes)), key=lambda k: axes[k])


def _spans(shape: Sequence[int], sorted_axes: Sequence[int]) -> list[int]:
    """The sizes ``L0, L1, ..., Lg`` of the view ``(L0, 2, L1, 2, ..., Lg)`` of a tensor of ``shape``."""
    out = []
    prev = 0
    for a in sorted_axes:
        out.append(math.prod(shape[prev:a]))
        prev = a + 1
    out.append(math.prod(shape[prev:]))
    return out


def _broadcast(t: Array, u: Array, axes: Sequence[int]) -> Array:
    """``"broadcast"`` form: ``t`` viewed as ``(L0, 1, 2, L1, 1, 2, ..., Lg)`` times the broadcast gate, summed."""
    g = len(axes)
    order = _order(axes)
    spans = _spans(t.shape, [axes[m] for m in order])
    tshape = [x for s in spans[:-1] for x in (s, 1, 2)] + [spans[-1]]
    ushape = [1, 2, 2] * g + [1]
    # uu[i_o0, k_o0, i_o1, k_o1, ...] for the wires in axis order
    perm = [x for m in order for x in (m, g + m)]
    uu = jnp.reshape(jnp.transpose(jnp.reshape(u, (2,) * (2 * g)), perm), ushape)
    prod = uu * jnp.reshape(t, tshape)
    out = jnp.sum(prod, axis=tuple(3 * i + 2 for i in range(g)))
    return jnp.reshape(out, t.shape)


def _slices(t: Array, u: Array, axes: Sequence[int]) -> Array:
    """``"slices"`` form (module doc)."""
    g = len(axes)
    if isinstance(u, jax.core.Tracer) and not jnp.iscomplexobj(u) and jnp.iscomplexobj(t):
        # a real gate on a complex state: real and imaginary parts apart (real multiplications only)
        return jax.lax.complex(_slices(jnp.real(t), u, axes), _slices(jnp.imag(t), u, axes))
    order = _order(axes)
    spans = _spans(t.shape, [axes[m] for m in order])
    tt = jnp.reshape(t, [x for s in spans[:-1] for x in (s, 2)] + [spans[-1]])
    concrete = None if isinstance(u, jax.core.Tracer) else np.asarray(u)
    um = jnp.reshape(u, (2**g, 2**g)) if concrete is None else concrete.reshape(2**g, 2**g)

    def wire_index(bits_sorted: tuple[int, ...]) -> int:
        bits = [0] * g
        for m, b in enumerate(bits_sorted):
            bits[order[m]] = b
        return int(sum(b << (g - 1 - k) for k, b in enumerate(bits)))

    combos = list(itertools.product((0, 1), repeat=g))
    if concrete is not None and is_diagonal(np.asarray(um)):
        # a diagonal gate (CZ, phases): only the slices whose entry is not 1 are scaled, in place
        for c in combos:
            coef = um[wire_index(c), wire_index(c)]
            if coef != 1:
                scale = float(coef.real) if coef.imag == 0 else complex(coef)
                tt = tt.at[tuple(x for bit in c for x in (slice(None), bit))].multiply(scale)
        return jnp.reshape(tt, t.shape)
    pieces = {c: tt[tuple(x for b in c for x in (slice(None), b)) + (slice(None),)] for c in combos}
    outs = []
    for co in combos:
        i = wire_index(co)
        acc: Array | None = None
        for ci in combos:
            coef = um[i, wire_index(ci)]
            if concrete is not None:
                if coef == 0:
                    continue
                term = pieces[ci] if coef == 1 else (float(coef.real) if coef.imag == 0 else complex(coef)) * pieces[ci]
            else:
                term = coef * pieces[ci]
            acc = term if acc is None else acc + term
        outs.append(jnp.zeros_like(pieces[co]) if acc is None else acc)
    stacked = jnp.reshape(jnp.stack(outs), (2,) * g + outs[0].shape)
    perm = [x for m in range(g) for x in (g + m, m)] + [2 * g]
    return jnp.reshape(jnp.transpose(stacked, perm), t.shape)


def apply_gate_front(t: Array, u: Array, axes: Sequence[int | None]) -> Array:
    """``u`` (2**g, 2**g) on the wires ``axes`` of ``t``, the result's wire axes in front: shape
    ``(2,) * g + `` the shape of ``t`` without ``axes``.

    ``axes[k] is None`` marks wire ``k`` as a qubit in |0> that ``t`` does not store: only the columns of ``u``
    with that input bit 0 are used (half the work per such wire, and no padding pass), and the wire gains its
    axis in the result. One ``tensordot``, no transpose back (the caller relabels the axes).
    """
    g = len(axes)
    ut = jnp.reshape(u, (2,) * (2 * g))
    index = tuple([slice(None)] * g + [0 if a is None else slice(None) for a in axes])
    ut = ut[index]  # (2,)*g outputs, then the stored wires' inputs
    stored = [a for a in axes if a is not None]
    return jnp.tensordot(ut, t, axes=(list(range(g, g + len(stored))), stored))


__all__ = ["SLICED_MAX_QUBITS", "KernelForm", "apply_gate", "apply_gate_front", "is_diagonal"]
