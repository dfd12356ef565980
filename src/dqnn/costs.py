"""Cost functions of Eqs. (2)-(4), evaluated on the simulator's factored output state.

Per-sample terms take a :class:`~dqnn.sim.simulate.Factors` output state (qubit order: :mod:`dqnn`):

- global (Eq. 3): ``C_x = 1 - <phi_x|rho_x|phi_x>`` for a target vector ``phi_x`` (2**n_out,);
- local (Eq. 4): ``C_x = 1 - (1/n_out) sum_j <psi_xj|rho_xj|psi_xj>`` for a product target given by its
  single-qubit factors ``(n_out, 2)``;
- observable: ``C_x = Tr[O_x rho_x]`` for any Hermitian ``O_x`` (2**n_out, 2**n_out).

Training-set costs (Eq. 2) average the terms over ``N`` pairs: inputs ``(N, 2**n_in)`` vectors or
``(N, 2**n_in, 2**n_in)`` density matrices, with targets stacked along the same leading axis.

Each cost kind is one :class:`CostDef` in :data:`COSTS` (its per-pair term and the shape of one target), so a
new cost is one entry here (:func:`register_cost`) plus its tests: the simulator, gradients and the variance
engine's full simulator take it at once; engines and estimators that exploit a particular cost (light cones
for the local cost, the inverse-unitary circuit, exact moments) say clearly when they do not take it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike

from dqnn._jax import Array
from dqnn.model.network import Network, NetworkParams
from dqnn.model.states import real_or_complex
from dqnn.sim.simulate import Factors, output_factors

CostKind = Literal["global", "local", "observable"]


def _overlap(f: Factors, bra: Array) -> Array:
    """``<phi| A B^dagger |phi>`` for a vector phi (real part)."""
    va = bra.conj() @ f.a
    vb = va if f.b is None else bra.conj() @ f.b
    return jnp.real(jnp.vdot(vb, va))


def global_term(f: Factors, target: Array) -> Array:
    """Eq. (3): ``1 - <phi|rho|phi>``; ``target`` (2**n_out,)."""
    return 1.0 - _overlap(f, target)


def qubit_overlaps(f: Factors, factors: Array) -> Array:
    """``<psi_j|rho_j|psi_j>`` for every output qubit j; ``factors`` (n_out, 2) -> (n_out,)."""
    n = factors.shape[0]
    r = f.a.shape[-1]
    a = jnp.reshape(f.a, (2,) * n + (r,))
    b = a if f.b is None else jnp.reshape(f.b, (2,) * n + (r,))
    vals = []
    for j in range(n):
        va = project_qubit(a, factors[j], j)
        vb = va if f.b is None else project_qubit(b, factors[j], j)
        vals.append(jnp.real(jnp.vdot(vb, va)))
    return jnp.stack(vals)


def project_qubit(t: Array, bra: Array, axis: int) -> Array:
    """``<bra|`` contracted with axis ``axis`` of ``t`` (that axis removed): ``sum_b conj(bra[b]) t[..., b, ...]``.

    Written as two sliced products (no transpose, no matrix product) so that XLA fuses it with what follows.
    """
    idx0 = (slice(None),) * axis + (0,)
    idx1 = (slice(None),) * axis + (1,)
    return bra[0].conj() * t[idx0] + bra[1].conj() * t[idx1]


def basis_bits(factors: Array) -> np.ndarray | None:
    """The bits ``b_j`` when the (concrete) target factors are computational-basis states ``|b_j>`` up to a
    phase; None otherwise (including traced factors, whose values are unknown when tracing)."""
    if isinstance(factors, jax.core.Tracer):
        return None
    mags = np.abs(np.asarray(factors))
    if mags.ndim != 2 or not np.allclose(np.sort(mags, axis=1), [0.0, 1.0], atol=1e-14):
        return None
    return np.argmax(mags, axis=1)


def local_term(f: Factors, factors: Array) -> Array:
    """Eq. (4): ``1 - (1/n_out) sum_j <psi_j|rho_j|psi_j>``; ``factors`` (n_out, 2) single-qubit targets.

    For computational-basis targets (e.g. ``|0...0>``, known when ``factors`` is concrete) the sum is one
    pass over the state: ``sum_x rho_xx w(x)`` with ``w(x)`` the fraction of bits of ``x`` equal to the
    target's (computed from an iota, fused into the reduction); otherwise one projection per qubit.
    """
    bits = basis_bits(factors)
    if bits is None:
        return 1.0 - jnp.mean(qubit_overlaps(f, factors))
    n = len(bits)
    b = f.a if f.b is None else f.b
    diag = jnp.sum(jnp.real(f.a * b.conj()), axis=-1)  # rho_xx, (2**n,)
    x = jax.lax.iota(jnp.int32, 2**n)
    w = sum(((x >> (n - 1 - j)) & 1) == int(bits[j]) for j in range(n))
    return 1.0 - jnp.sum(diag * w) / n


def observable_term(f: Factors, observable: Array) -> Array:
    """``Tr[O rho]`` for a Hermitian ``O`` (2**n_out, 2**n_out)."""
    b = f.a if f.b is None else f.b
    return jnp.real(jnp.trace(b.conj().T @ (observable @ f.a)))


@dataclass(frozen=True)
class CostDef:
    """One cost kind: its per-pair ``term(output_state, target) -> scalar`` and the shape of one target."""

    name: str
    term: Callable[[Factors, Array], Array]
    target_shape: Callable[[int], tuple[int, ...]]  # n_out -> shape of one pair's target
    doc: str


#: The cost kinds, by name (:func:`register_cost` adds one).
COSTS: dict[str, CostDef] = {
    c.name: c
    for c in (
        CostDef("global", global_term, lambda n: (2**n,), "Eq. (3): 1 - <phi|rho|phi>; target vector (2**n_out,)"),
        CostDef("local", local_term, lambda n: (n, 2), "Eq. (4): single-qubit fidelities; target factors (n_out, 2)"),
        CostDef("observable", observable_term, lambda n: (2**n, 2**n), "Tr[O rho]; Hermitian O (2**n_out, 2**n_out)"),
    )
}


def register_cost(definition: CostDef) -> None:
    """Add a cost kind (ValueError if the name is taken)."""
    if definition.name in COSTS:
        raise ValueError(f"cost kind {definition.name!r} exists already")
    COSTS[definition.name] = definition


def cost_def(kind: str) -> CostDef:
    """The :class:`CostDef` of ``kind`` (ValueError listing the valid kinds otherwise)."""
    try:
        return COSTS[kind]
    except KeyError:
        raise ValueError(f"cost kind {kind!r} is not one of {', '.join(repr(k) for k in COSTS)}") from None


def term(kind: CostKind, f: Factors, target: Array) -> Array:
    """The per-pair term of cost ``kind`` (:data:`COSTS`): :func:`global_term`, :func:`local_term`, ..."""
    return cost_def(kind).term(f, target)


def check_targets(kind: CostKind, targets: ArrayLike, n_pairs: int, n_out: int) -> Array:
    """Shape-check stacked targets for ``kind`` (leading axis ``n_pairs``) and return them as complex128."""
    want = (n_pairs, *cost_def(kind).target_shape(n_out))
    if not isinstance(targets, jax.core.Tracer):
        raw = np.asarray(targets)
        if raw.dtype == object or not (np.issubdtype(raw.dtype, np.number) or raw.dtype == bool):
            raise TypeError(f"{kind} cost: targets must be an array of numbers, got dtype {raw.dtype}")
    t = jnp.asarray(targets, dtype=jnp.complex128)
    if t.shape != want:
        raise ValueError(f"{kind} cost: targets must have shape {want} for {n_pairs} pair(s), got {t.shape}")
    if not isinstance(targets, jax.core.Tracer):
        _check_target_values(kind, np.asarray(targets, dtype=np.complex128))
    return t


def _check_target_values(kind: str, t: np.ndarray) -> None:
    """Concrete targets: finite; global targets and local target factors of norm one; observables Hermitian."""
    from dqnn.model.states import STATE_ATOL

    if not np.all(np.isfinite(t)):
        raise ValueError(f"{kind} cost: targets have non-finite entries (NaN or inf)")
    if kind in ("global", "local"):
        norms = np.linalg.norm(t, axis=-1)
        off = ~(np.abs(norms - 1.0) <= STATE_ATOL)
        if off.any():
            i = np.unravel_index(int(np.argmax(off)), off.shape)
            raise ValueError(f"{kind} cost: targets{list(i)} is not normalised (norm {norms[i]:.12g})")
    elif kind == "observable":
        herm = np.max(np.abs(t - np.conj(np.swapaxes(t, -1, -2))), initial=0.0)
        if not herm <= STATE_ATOL:
            raise ValueError(f"{kind} cost: targets (observables) are not Hermitian (max |O - O^dagger| = {herm:.3g})")


def cost(
    net: Network,
    params: NetworkParams,
    inputs: ArrayLike,
    targets: ArrayLike,
    kind: CostKind = "global",
) -> Array:
    """Eq. (2): the average of the per-pair terms over the training set (a scalar, differentiable).

    ``inputs``: (N, 2**n_in) vectors or (N, 2**n_in, 2**n_in) density matrices; ``targets`` as
    :func:`check_targets` states for ``kind``.
    """
    from dqnn.model.network import check_params

    check_params(net, params)  # concrete parameters only: structure, finite, unitary matrices
    return jnp.mean(per_pair(net, params, inputs, targets, kind))


def per_pair(
    net: Network,
    params: NetworkParams,
    inputs: ArrayLike,
    targets: ArrayLike,
    kind: CostKind = "global",
) -> Array:
    """The per-pair terms ``C_x`` (N,) of :func:`cost`."""
    return map_pairs(lambda x, t: term(kind, output_factors(net, params, x), t), inputs, targets, kind, net.num_outputs)


def map_pairs(
    fn: Callable[[Array, Array], Array], inputs: ArrayLike, targets: ArrayLike, kind: CostKind, n_out: int
) -> Array:
    """``fn(x_i, t_i)`` for every training pair, stacked (N,); inputs and targets as :func:`cost` takes them.

    Real-valued inputs are passed as float64 (:func:`dqnn.model.states.real_or_complex`: real networks then
    simulate in real arithmetic), targets as :func:`check_targets` returns them. A single pair is not
    vmapped, and a concrete target then stays concrete (NumPy), so :func:`local_term` sees its values.
    """
    from dqnn.model.states import check_stack

    if not isinstance(inputs, jax.core.Tracer) and np.ndim(inputs) in (2, 3):
        check_stack(inputs, "inputs")  # every row: finite, normalised (Hermitian, positive, trace one)
    x = real_or_complex(inputs)
    if x.ndim not in (2, 3):
        raise ValueError(f"cost: inputs must be stacked as (N, d) vectors or (N, d, d) matrices, got {x.shape}")
    t = check_targets(kind, targets, x.shape[0], n_out)
    if x.shape[0] == 1:
        t0 = t[0] if isinstance(targets, jax.core.Tracer) else np.asarray(targets, dtype=np.complex128)[0]
        return fn(x[0], t0)[None]
    return jax.vmap(fn)(x, t)
