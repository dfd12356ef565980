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
from dqnn.model.angles import AngleIndex, check_index, get_angle, set_angle, shift_angle
from dqnn.model.families import Circuit
from dqnn.model.network import Network, NetworkParams
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


def check_shift_rule(net: Network, idx: AngleIndex) -> None:
    """ValueError unless the generator of angle ``idx`` has spectrum {-1, +1} (two-term shift rule)."""
    check_index(net, idx)
    fam = net.layers[idx.layer][idx.perceptron].unitary
    if not isinstance(fam, Circuit) or not fam.shift_rule_ok[idx.angle]:
        raise ValueError(f"angle {idx}: the two-term parameter-shift rule needs a generator with eigenvalues +-1")


def grad_param_shift(cost_fn: CostFn, params: NetworkParams, idx: AngleIndex) -> Array:
    """``d C / d theta_idx = [C(theta + pi/2) - C(theta - pi/2)] / 2`` (generators with eigenvalues +-1).

    This is what a quantum computer evaluates; with exact costs it equals :func:`grad_autodiff`.
    """
    plus = cost_fn(shift_angle(params, idx, np.pi / 2))
    minus = cost_fn(shift_angle(params, idx, -np.pi / 2))
    return 0.5 * (plus - minus)


def angle_gradient(cost_fn: CostFn, params: NetworkParams) -> Any:
    """The gradient with respect to every leaf of ``params`` (same structure; angles and matrix leaves alike)."""
    return jax.grad(lambda p: jnp.real(cost_fn(p)))(params)
