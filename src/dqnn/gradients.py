"""Gradients of a cost with respect to circuit angles: automatic differentiation and parameter shift.

An angle is named by :class:`AngleIndex` ``(layer, perceptron, angle)``: angle ``angle`` (in the order of
the :class:`~dqnn.model.families.Rot` elements) of perceptron ``perceptron`` of layer ``layer``. A *cost
function* here is any ``f(params) -> scalar`` (e.g. ``lambda p: dqnn.cost(net, p, x, t, "global")``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike

from dqnn._jax import Array
from dqnn.costs import CostKind, cost
from dqnn.model.angles import AngleIndex, angle_indices, check_index, get_angle, set_angle, shift_angle
from dqnn.model.network import Network, NetworkParams
from dqnn.model.protocol import PAULI_RULE, ShiftRule, capability_error
from dqnn.sim import packed

CostFn = Callable[[NetworkParams], Array]


def grad_autodiff(cost_fn: CostFn, params: NetworkParams, idx: AngleIndex) -> Array:
    """``d C / d theta_idx`` by automatic differentiation (exact to rounding).

    Forward mode (``jax.jvp``): one angle needs no reverse tape, so memory stays that of the forward pass.
    """
    theta = get_angle(params, idx)
    _, tangent = jax.jvp(lambda t: cost_fn(set_angle(params, idx, t)), (theta,), (jnp.ones_like(theta),))
    return tangent


def grad_cost(
    net: Network,
    params: NetworkParams,
    inputs: ArrayLike,
    targets: ArrayLike,
    kind: CostKind,
    idx: AngleIndex,
) -> Array:
    """``d C / d theta_idx`` of :func:`dqnn.costs.cost` (exact): the packed pass (:mod:`dqnn.sim.packed`) where
    it is the faster one (:func:`dqnn.sim.packed.applies`: real networks the simulator runs in complex128),
    else :func:`grad_autodiff`."""
    check_index(net, idx)
    if packed.applies(net, inputs):
        return jnp.mean(packed.per_pair_derivative(net, params, inputs, targets, kind, idx))
    return grad_autodiff(lambda p: cost(net, p, inputs, targets, kind), params, idx)


def check_shift_rule(net: Network, idx: AngleIndex) -> ShiftRule:
    """The exact two-term shift rule of angle ``idx`` (its family's ``shift_rule``); ValueError naming the angle
    and the family when it has none (e.g. a :class:`~dqnn.model.families.Rot` generator without eigenvalues +-1)."""
    check_index(net, idx)
    fam = net.layers[idx.layer][idx.perceptron].unitary
    rule = fam.shift_rule(idx.angle)
    if rule is None:
        raise capability_error(f"angle {idx}", fam, "shift_rule", idx.angle)
    return rule


def shift_rules(net: Network, indices: list[AngleIndex] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(shifts, scales)``, each ``(P,)``: the rule of every angle of ``indices`` (default: all, in the order of
    :func:`~dqnn.model.angles.angle_indices`), for :func:`grad_param_shift_all`; ValueError as
    :func:`check_shift_rule`."""
    rules = [check_shift_rule(net, i) for i in (angle_indices(net) if indices is None else indices)]
    return np.array([r.shift for r in rules], dtype=np.float64), np.array([r.scale for r in rules], dtype=np.float64)


def grad_param_shift(cost_fn: CostFn, params: NetworkParams, idx: AngleIndex, net: Network | None = None) -> Array:
    """``d C / d theta_idx = scale [C(theta + shift) - C(theta - shift)]``, the exact two-term rule of the angle.

    ``net`` given: its family's rule (:func:`check_shift_rule`; ValueError when there is none). Without ``net``
    the rule of generators with eigenvalues +-1, ``[C(theta + pi/2) - C(theta - pi/2)] / 2``
    (:data:`~dqnn.model.protocol.PAULI_RULE`), which is the family's rule for every :class:`~dqnn.model.families.Rot`
    the rule applies to; pass ``net`` for any other family. This is what a quantum computer evaluates; with exact
    costs it equals :func:`grad_autodiff`.
    """
    rule = PAULI_RULE if net is None else check_shift_rule(net, idx)
    plus = cost_fn(shift_angle(params, idx, rule.shift))
    minus = cost_fn(shift_angle(params, idx, -rule.shift))
    return rule.combine(plus, minus)


def grad_param_shift_all(
    cost_of_theta: Callable[[Array], Array],
    theta: Array,
    shifts: ArrayLike | None = None,
    scales: ArrayLike | None = None,
) -> Array:
    """The two-term rule for every angle at once: ``(P,)`` with entry ``k`` =
    ``scales[k] [C(theta + shifts[k] e_k) - C(theta - shifts[k] e_k)]`` (``vmap`` over the ``2 P`` shifted costs).

    ``cost_of_theta``: the cost of a flat angle vector ``theta`` ``(P,)``; ``shifts``, ``scales``:
    :func:`shift_rules` of the network (default: :data:`~dqnn.model.protocol.PAULI_RULE` for every angle).
    """
    p = theta.shape[0]
    if (shifts is None) != (scales is None):
        raise ValueError("grad_param_shift_all: give both shifts and scales, or neither")
    s = np.full(p, PAULI_RULE.shift) if shifts is None else np.asarray(shifts, dtype=np.float64)
    c = np.full(p, PAULI_RULE.scale) if scales is None else np.asarray(scales, dtype=np.float64)
    if s.shape != (p,) or c.shape != (p,):
        raise ValueError(f"grad_param_shift_all: shifts {s.shape} and scales {c.shape} must be ({p},) like theta")
    step = jnp.diag(jnp.asarray(s, dtype=theta.dtype))
    plus = jax.vmap(cost_of_theta)(theta[None, :] + step)
    minus = jax.vmap(cost_of_theta)(theta[None, :] - step)
    return jnp.asarray(c) * (plus - minus)


def angle_gradient(cost_fn: CostFn, params: NetworkParams) -> Any:
    """The gradient with respect to every leaf of ``params`` (same structure; angles and matrix leaves alike)."""
    return jax.grad(lambda p: jnp.real(cost_fn(p)))(params)
