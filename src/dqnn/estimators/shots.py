"""Estimating costs and gradients as a quantum computer would: from a finite number of measurement shots.

Nobody sees ``rho_out`` on hardware. Here the exact output state (a :class:`~dqnn.sim.simulate.Factors`, qubit
order of :mod:`dqnn`) only provides the exact Born distribution of a measurement, which is then sampled
with a seeded :class:`numpy.random.Generator` (``multinomial`` / ``binomial``): every estimate is what
``shots`` runs of the circuit would give, and its standard error is computed from those samples alone.

Targets follow :mod:`dqnn.costs`: a vector ``phi`` (2**n,) for the global cost (Eq. 3), single-qubit
factors ``(n, 2)`` for the local cost (Eq. 4). Two shot methods (the classical-shadow method is in
:mod:`dqnn.estimators.shadows`):

- ``"inverse"`` (inverse-unitary method): with ``|phi> = U|0...0>``, apply ``U^dagger`` to the output and
  measure all qubits in the computational basis; each shot is a bit string ``b``. Global:
  ``C = 1 - P(b = 0...0)``; local (``U = U_0 x ... x U_{n-1}``, ``|psi_j> = U_j|0>``):
  ``C = 1 - (1/n) sum_j P(b_j = 0)``, so each shot contributes ``|b| / n`` (its number of ones over n).
- ``"shots"`` (one projector per circuit run): global: each shot measures ``{|phi><phi|, 1 - |phi><phi|}``
  (a Bernoulli trial with ``p = <phi|rho|phi>``); local: the shots are dealt round-robin over the qubits
  and a shot on qubit ``j`` measures ``{|psi_j><psi_j|, 1 - ...}`` only (needs only the reduced states).

Per-pair estimates of a training set (Eq. 2) are averaged; ``shots`` is then spent on *each* pair.
Parameter-shift gradients take two shifted cost estimates (``shots`` each) and combine their errors.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike

from dqnn import _programs
from dqnn.costs import CostKind, check_targets, cost
from dqnn.estimators import shadows
from dqnn.estimators.base import (
    METHODS,
    Estimate,
    EstimatorMethod,
    PairEstimator,
    Seed,
    _check_shots,
    born_probabilities,
    check_target,
    combine_mean,
    completing_unitary,
    estimate_from_counts,
    num_qubits,
    outcome_values,
    product_unitaries,
    rng_from,
    sample_counts,
)
from dqnn.estimators.base import as_numpy as as_numpy  # re-exported (dqnn.estimators.shots.as_numpy)
from dqnn.gradients import check_shift_rule, grad_cost
from dqnn.model.angles import AngleIndex, shift_angle
from dqnn.model.network import Network, NetworkParams
from dqnn.presets.problems import GradientProblem
from dqnn.sim.simulate import Factors, output_factors

# --- the two shot methods for one pair ------------------------------------------------------------------


def inverse_estimate(state: Factors, target: ArrayLike, kind: CostKind, shots: int, seed: Seed) -> Estimate:
    """Inverse-unitary method for one pair (module doc): global target (2**n,) or local factors (n, 2)."""
    n = num_qubits(state)
    t = check_target(kind, target, n)
    u = completing_unitary(t) if kind == "global" else product_unitaries(t)
    u_dag = np.conj(np.swapaxes(u, -1, -2))
    counts = sample_counts(born_probabilities(state, u_dag), _check_shots(shots), seed)
    return estimate_from_counts(outcome_values(kind, n), counts)


def _fidelity(state: Factors, phi: np.ndarray) -> float:
    """``<phi|rho|phi>`` of a NumPy state (as :func:`dqnn.costs.global_term`, without JAX dispatch)."""
    a = np.asarray(state.a, dtype=np.complex128)
    va = phi.conj() @ a
    vb = va if state.b is None else phi.conj() @ np.asarray(state.b, dtype=np.complex128)
    return float(np.real(np.vdot(vb, va)))


def _qubit_overlaps(state: Factors, factors: np.ndarray) -> np.ndarray:
    """``<psi_j|rho_j|psi_j>`` (n,) of a NumPy state (as :func:`dqnn.costs.qubit_overlaps`, without JAX)."""
    n = factors.shape[0]
    a = np.asarray(state.a, dtype=np.complex128)
    a = a.reshape((2,) * n + (a.shape[-1],))
    b = a if state.b is None else np.asarray(state.b, dtype=np.complex128).reshape(a.shape)
    out = np.empty(n)
    for j in range(n):
        va = np.tensordot(factors[j].conj(), a, axes=(0, j))
        vb = va if state.b is None else np.tensordot(factors[j].conj(), b, axes=(0, j))
        out[j] = np.real(np.vdot(vb, va))
    return out


def _bernoulli_estimate(p: float, shots: int, rng: np.random.Generator) -> tuple[float, float]:
    """(success fraction, its sample variance ddof=1) of ``shots`` Bernoulli(p) trials."""
    k = int(rng.binomial(shots, min(max(p, 0.0), 1.0)))
    frac = k / shots
    return frac, frac * (1.0 - frac) * shots / (shots - 1)


def direct_estimate(state: Factors, target: ArrayLike, kind: CostKind, shots: int, seed: Seed) -> Estimate:
    """Projector measurements for one pair (``"shots"`` in the module doc); local needs ``shots >= 2 n``."""
    n = num_qubits(state)
    t = check_target(kind, target, n)
    rng = rng_from(seed)
    if kind == "global":
        frac, var = _bernoulli_estimate(_fidelity(state, t), _check_shots(shots), rng)
        return Estimate(1.0 - frac, math.sqrt(var / shots), shots)
    _check_shots(shots, 2 * n)
    per_qubit = np.full(n, shots // n) + (np.arange(n) < shots % n)  # round-robin: every qubit gets >= 2
    overlaps = _qubit_overlaps(state, t)
    fr = [_bernoulli_estimate(float(p), int(m), rng) for p, m in zip(overlaps, per_qubit, strict=True)]
    value = 1.0 - float(np.mean([f for f, _ in fr]))
    stderr = math.sqrt(sum(v / m for (_, v), m in zip(fr, per_qubit, strict=True))) / n
    return Estimate(value, stderr, shots)


def pair_estimator(method: EstimatorMethod, kind: CostKind) -> PairEstimator:
    """The one-pair estimator ``(state, target, shots, rng) -> Estimate`` of ``method`` for cost ``kind``."""
    if kind not in ("global", "local"):
        raise ValueError(f"cost kind {kind!r} is not 'global' or 'local'")
    if method == "inverse":
        return lambda f, t, m, r: inverse_estimate(f, t, kind, m, r)
    if method == "shots":
        return lambda f, t, m, r: direct_estimate(f, t, kind, m, r)
    if method == "shadows":
        return lambda f, t, m, r: shadows.shadow_estimate(f, t, kind, m, r)
    raise ValueError(f"method {method!r} is not one of {METHODS}")


# --- training-set costs and gradients -------------------------------------------------------------------


def output_states(net: Network, params: NetworkParams, inputs: ArrayLike) -> list[Factors]:
    """The exact output states (NumPy :class:`~dqnn.sim.simulate.Factors`) of stacked inputs (N, d) or (N, d, d),
    simulated in one vmapped pass (one compiled program per network, reused for new parameters)."""

    def build(ref: Any) -> Any:
        def run(p: NetworkParams, x: Any) -> tuple[Any, Any]:
            def one(xi: Any) -> tuple[Any, Any]:
                f = output_factors(ref(), p, xi)
                return f.a, f.b

            return jax.vmap(one)(x)

        return jax.jit(run)

    a, b = _programs.per_network(net, "output_states", build)(params, jnp.asarray(inputs, dtype=jnp.complex128))
    a = np.asarray(a, dtype=np.complex128)
    b = None if b is None else np.asarray(b, dtype=np.complex128)
    return [Factors(a[i], None if b is None else b[i]) for i in range(a.shape[0])]


def estimate_cost(
    net: Network,
    params: NetworkParams,
    inputs: ArrayLike,
    targets: ArrayLike,
    kind: CostKind = "global",
    method: EstimatorMethod = "inverse",
    shots: int = 1000,
    seed: Seed = 0,
) -> Estimate:
    """Finite-shot estimate of the cost of Eq. (2) (``shots`` per pair; ``Estimate.shots`` is the total).

    ``inputs`` (N, 2**n_in) or (N, 2**n_in, 2**n_in); ``targets`` (N, 2**n_out) global or (N, n_out, 2) local.
    """
    est = pair_estimator(method, kind)
    x = np.asarray(inputs, dtype=np.complex128)
    if x.ndim not in (2, 3):
        raise ValueError(f"estimate_cost: inputs must be stacked as (N, d) or (N, d, d), got {x.shape}")
    t = np.asarray(check_targets(kind, targets, x.shape[0], net.num_outputs))
    rng = rng_from(seed)
    return combine_mean([est(f, ti, shots, rng) for f, ti in zip(output_states(net, params, x), t, strict=True)])


def shift_gradient(plus: Estimate, minus: Estimate, scale: float = 0.5) -> Estimate:
    """``g = scale (C+ - C-)`` from two independent shifted-cost estimates; ``stderr = scale sqrt(se+**2 + se-**2)``.

    ``scale``: the angle's :class:`~dqnn.model.protocol.ShiftRule` scale (1/2 for generators with eigenvalues +-1).
    """
    return Estimate(
        scale * (plus.value - minus.value), scale * math.hypot(plus.stderr, minus.stderr), plus.shots + minus.shots
    )


def estimate_gradient(
    net: Network,
    params: NetworkParams,
    idx: AngleIndex,
    inputs: ArrayLike,
    targets: ArrayLike,
    kind: CostKind = "global",
    method: EstimatorMethod = "inverse",
    shots: int = 1000,
    seed: Seed = 0,
) -> Estimate:
    """Parameter-shift ``d C / d theta_idx`` from shots: ``C(theta +- shift)`` each estimated with ``shots`` per pair,
    with the angle's exact two-term rule (``shift = pi/2``, scale 1/2 for generators with eigenvalues +-1).

    Raises ValueError (via :func:`~dqnn.gradients.check_shift_rule`) unless the angle's family has an exact rule.
    """
    rule = check_shift_rule(net, idx)
    rng = rng_from(seed)
    name = f"shift-{idx.layer}-{idx.perceptron}-{idx.angle}"  # one program for both shifts
    shift = _programs.per_network(net, name, lambda _: jax.jit(lambda p, d: shift_angle(p, idx, d)))
    plus, minus = (
        estimate_cost(net, shift(params, s), inputs, targets, kind, method, shots, rng)
        for s in (rule.shift, -rule.shift)
    )
    return shift_gradient(plus, minus, rule.scale)


def estimate_problem(
    problem: GradientProblem,
    method: EstimatorMethod = "inverse",
    shots: int = 1000,
    seed: int = 0,
    gradient: bool = False,
) -> tuple[float, Estimate]:
    """``(exact, estimate)`` for one seeded random initialisation of a :class:`~dqnn.presets.problems.GradientProblem`.

    Three compiled programs (initialisation, exact value, output states), not one per operation.

    Parameters ``problem.network().init(jax.random.key(seed))``, its training pair ``problem.data()``, shots
    sampled with ``numpy.random.default_rng(seed)``. ``gradient=False``: the cost (exact: Eq. 2);
    ``gradient=True``: ``d C / d theta_nu`` of the problem's angle (exact: :func:`dqnn.gradients.grad_cost`;
    estimate: parameter shift).
    """
    net = problem.network()
    params = _programs.init(net, jax.random.key(seed))
    x, t = problem.data()
    idx = problem.angle_index(net) if gradient else None
    return estimate_network(net, params, x, t, problem.cost, method, shots, seed, idx)


def estimate_network(
    net: Network,
    params: NetworkParams,
    inputs: ArrayLike,
    targets: ArrayLike,
    kind: CostKind = "global",
    method: EstimatorMethod = "inverse",
    shots: int = 1000,
    seed: Seed = 0,
    angle: AngleIndex | None = None,
) -> tuple[float, Estimate]:
    """``(exact, estimate)`` of the cost of any network at ``params`` (``angle`` None), or of ``d C / d angle``
    (exact: :func:`dqnn.gradients.grad_cost`; estimate: :func:`estimate_gradient`, parameter shift).

    The exact value is :func:`exact_value`.
    """
    exact = exact_value(net, params, inputs, targets, kind, angle)
    if angle is not None:
        return exact, estimate_gradient(net, params, angle, inputs, targets, kind, method, shots, seed)
    return exact, estimate_cost(net, params, inputs, targets, kind, method, shots, seed)


def exact_value(
    net: Network,
    params: NetworkParams,
    inputs: ArrayLike,
    targets: ArrayLike,
    kind: CostKind = "global",
    angle: AngleIndex | None = None,
) -> float:
    """The exact cost of Eq. (2) at ``params`` (``angle`` None) or ``d C / d angle``: one compiled program (data
    closed over, as in the eager call: the same numbers)."""
    if angle is not None:
        return float(jax.jit(lambda p: grad_cost(net, p, inputs, targets, kind, angle))(params))
    return float(jax.jit(lambda p: cost(net, p, inputs, targets, kind))(params))


#: Worst-case per-shot variance of a parameter-shift gradient from costs whose single shot lies in [0, 1]:
#: each shifted cost's shot has variance <= 1/4 and ``g = (C+ - C-)/2``, so ``(1/4 + 1/4) / 4 = 1/8``.
WORST_SHOT_VARIANCE = 0.125


def shots_to_resolve(variance: float, confidence: float = 0.95, shot_variance: float = WORST_SHOT_VARIANCE) -> int:
    """Shots per shifted circuit needed to tell a gradient of typical size ``sqrt(variance)`` from zero.

    With ``M`` shots on each of the two shifted circuits the parameter-shift estimate has standard error
    ``sqrt(shot_variance / M)``. A gradient of magnitude ``sqrt(variance)`` is distinguished from zero by a
    two-sided test at ``confidence`` when it is ``z`` standard errors away, ``z = Phi^{-1}((1 + confidence)/2)``
    (1.96 at 0.95), so::

        M = ceil(z**2 * shot_variance / variance)        (total shots: 2 M per pair)

    ``shot_variance`` defaults to the worst case 1/8 (:data:`WORST_SHOT_VARIANCE`); pass the measured per-shot
    variance of a specific estimator for a sharper count. Barren plateaus (``variance ~ b**-n``) make ``M``
    grow as ``b**n``.
    """
    if not (math.isfinite(variance) and variance > 0):
        raise ValueError(f"shots_to_resolve: variance={variance!r} must be a positive finite number")
    if not 0 < confidence < 1:
        raise ValueError(f"shots_to_resolve: confidence={confidence!r} must lie strictly between 0 and 1")
    if not (math.isfinite(shot_variance) and shot_variance > 0):
        raise ValueError(f"shots_to_resolve: shot_variance={shot_variance!r} must be a positive finite number")
    import scipy.special  # ndtri is what norm.ppf computes; scipy.stats costs ~1 s to import

    z = float(scipy.special.ndtri(0.5 * (1.0 + confidence)))
    m = z * z * shot_variance / variance
    if not math.isfinite(m):
        raise ValueError(f"shots_to_resolve: variance={variance!r} is too small (shot count overflows)")
    return max(1, math.ceil(m))


__all__ = [
    "WORST_SHOT_VARIANCE",
    "direct_estimate",
    "estimate_cost",
    "estimate_gradient",
    "estimate_problem",
    "inverse_estimate",
    "output_states",
    "pair_estimator",
    "shift_gradient",
    "shots_to_resolve",
]
