"""Training objectives: the global and local costs (Eqs. 3-4) and a label cost for classification.

Every objective is ``C = 1 - (1/N) sum_x Tr[Pi_x rho_x]`` for a *fidelity observable* ``Pi_x``
(``0 <= Pi_x <= 1``) on the output layer, with ``rho_x`` the network output for input ``x``:

- ``"global"`` (Eq. 3): targets ``(N, 2**n_out)`` vectors, ``Pi_x = |phi_x><phi_x|``;
- ``"local"`` (Eq. 4): targets ``(N, n_out, 2)`` single-qubit factors,
  ``Pi_x = (1/n_out) sum_j |psi_xj><psi_xj|_j`` (identity elsewhere);
- ``"label"``: targets ``(N,)`` labels ``y_x`` in {0, 1}; output qubit 0 is measured in Z and
  ``Pi_x = |y_x><y_x|_0`` (identity on the other output qubits), so ``C_x = 1 - <y_x|rho_x,0|y_x>``.
  The predicted label is ``1`` when ``<1|rho_x,0|1> > 1/2``; accuracy is the fraction predicted right.

Costs and fidelities are evaluated with the simulator (:func:`dqnn.costs.per_pair`); the observables are
what parameter-matrix multiplication propagates backwards (:mod:`dqnn.training.pmm`).
"""

from __future__ import annotations

from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np

from dqnn._jax import Array
from dqnn.costs import check_targets as _check_cost_targets
from dqnn.costs import per_pair
from dqnn.model import states
from dqnn.model.network import Network, NetworkParams

ObjectiveKind = Literal["global", "local", "label"]
OBJECTIVES: tuple[str, ...] = ("global", "local", "label")


def check_kind(kind: str) -> ObjectiveKind:
    """``kind`` if it is one of :data:`OBJECTIVES`, else a ValueError naming it."""
    if kind not in OBJECTIVES:
        raise ValueError(f"objective {kind!r} is not one of {OBJECTIVES}")
    return kind  # type: ignore[return-value]


def label_observables(labels: Array, num_outputs: int) -> Array:
    """``Pi_x = |y_x><y_x|`` on output qubit 0 (identity elsewhere): ``(N,)`` labels -> ``(N, 2**n_out, 2**n_out)``."""
    y = jnp.asarray(labels)
    proj = jnp.stack([jnp.diag(jnp.array([1.0, 0.0])), jnp.diag(jnp.array([0.0, 1.0]))]).astype(jnp.complex128)
    eye = jnp.eye(2 ** (num_outputs - 1), dtype=jnp.complex128)
    return jax.vmap(lambda p: jnp.kron(p, eye))(proj[y])


def _local_observable(factors: Array, num_outputs: int) -> Array:
    out = jnp.zeros((2**num_outputs,) * 2, dtype=jnp.complex128)
    for j in range(num_outputs):
        left = jnp.eye(2**j, dtype=jnp.complex128)
        right = jnp.eye(2 ** (num_outputs - j - 1), dtype=jnp.complex128)
        out = out + jnp.kron(jnp.kron(left, states.density(factors[j])), right)
    return out / num_outputs


def fidelity_observables(kind: ObjectiveKind, targets: Array, num_outputs: int) -> Array:
    """The observables ``Pi_x`` ``(N, 2**n_out, 2**n_out)`` of the objective ``kind`` (module doc)."""
    t = jnp.asarray(targets)
    if kind == "global":
        return jax.vmap(states.density)(t.astype(jnp.complex128))
    if kind == "local":
        return jax.vmap(lambda f: _local_observable(f, num_outputs))(t.astype(jnp.complex128))
    return label_observables(t, num_outputs)


def observable_factors(kind: ObjectiveKind, targets: Array, num_outputs: int) -> Array:
    """Factors ``S_x`` ``(N, 2**n_out, k)`` with ``Pi_x = S_x S_x^dagger`` (what PMM propagates backwards).

    ``k = 1`` for ``"global"`` (``S_x = |phi_x>``), ``2**(n_out - 1)`` for ``"label"``, ``2**n_out`` for ``"local"``.
    """
    t = jnp.asarray(targets)
    if kind == "global":
        return t.astype(jnp.complex128)[:, :, None]
    if kind == "label":
        basis = jnp.eye(2, dtype=jnp.complex128)[:, :, None]  # |0>, |1> as (2, 1) columns
        eye = jnp.eye(2 ** (num_outputs - 1), dtype=jnp.complex128)
        return jax.vmap(lambda e: jnp.kron(e, eye))(basis[t])
    return jax.vmap(states.psd_factor)(fidelity_observables(kind, t, num_outputs))


def check_targets(kind: ObjectiveKind, targets: Array, num_pairs: int, num_outputs: int) -> Array:
    """Shape-check ``targets`` for ``kind`` (ValueError naming the expected shape)."""
    if kind == "label":
        t = np.asarray(targets)
        if t.shape != (num_pairs,) or not np.all(np.isin(t, (0, 1))):
            raise ValueError(f"label objective: targets must be {num_pairs} labels in {{0, 1}}, got shape {t.shape}")
        return jnp.asarray(t, dtype=jnp.int32)
    return _check_cost_targets(kind, targets, num_pairs, num_outputs)


def per_pair_fidelity(net: Network, params: NetworkParams, kind: ObjectiveKind, inputs: Array, targets: Array) -> Array:
    """``Tr[Pi_x rho_x]`` for each pair: inputs ``(N, 2**n_in)`` (or density matrices), ``(N,)`` out."""
    if kind == "label":
        obs = jnp.eye(2**net.num_outputs, dtype=jnp.complex128)[None] - label_observables(targets, net.num_outputs)
        return 1.0 - per_pair(net, params, inputs, obs, "observable")
    return 1.0 - per_pair(net, params, inputs, targets, kind)


def objective(net: Network, params: NetworkParams, kind: ObjectiveKind, inputs: Array, targets: Array) -> Array:
    """The cost ``C = 1 - mean_x Tr[Pi_x rho_x]`` (a differentiable scalar)."""
    return 1.0 - jnp.mean(per_pair_fidelity(net, params, kind, inputs, targets))


def accuracy(fidelities: Array) -> float:
    """Fraction of pairs classified right, from the label fidelities ``(N,)`` (right when fidelity > 1/2)."""
    f = np.asarray(fidelities)
    return float(np.mean(f > 0.5)) if f.size else float("nan")
