"""Gradients of a cost with respect to circuit angles: automatic differentiation and parameter shift.

An angle is named by :class:`AngleIndex` ``(layer, perceptron, angle)``: angle ``angle`` (in the order of
the :class:`~dqnn.families.Rot` elements) of perceptron ``perceptron`` of layer ``layer``. A *cost
function* here is any ``f(params) -> scalar`` (e.g. ``lambda p: dqnn.cost(net, p, x, t, "global")``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike

from dqnn import packed
from dqnn._jax import Array
from dqnn.cost import CostKind, cost
from dqnn.families import Circuit
from dqnn.network import Network, NetworkParams

CostFn = Callable[[NetworkParams], Array]


@dataclass(frozen=True)
class AngleIndex:
    """Angle ``angle`` of perceptron ``perceptron`` in layer ``layer`` (all 0-based)."""

    layer: int
    perceptron: int
    angle: int = 0

    def __str__(self) -> str:
        return f"L{self.layer}P{self.perceptron}A{self.angle}"


def angle_indices(net: Network) -> list[AngleIndex]:
    """Every circuit angle of the network, in layer, perceptron, angle order."""
    return [
        AngleIndex(l, j, k)
        for l, layer in enumerate(net.layers)
        for j, p in enumerate(layer)
        for k in range(p.unitary.num_angles)
    ]


def check_index(net: Network, idx: AngleIndex) -> None:
    """ValueError naming ``idx`` when it does not name an angle of ``net``."""
    if not 0 <= idx.layer < net.depth:
        raise ValueError(f"angle {idx}: layer {idx.layer} out of range (network has {net.depth} layers)")
    layer = net.layers[idx.layer]
    if not 0 <= idx.perceptron < len(layer):
        raise ValueError(f"angle {idx}: perceptron {idx.perceptron} out of range (layer has {len(layer)})")
    n = layer[idx.perceptron].unitary.num_angles
    if not 0 <= idx.angle < n:
        raise ValueError(f"angle {idx}: angle {idx.angle} out of range (perceptron has {n} angle(s))")


def _replace(params: NetworkParams, idx: AngleIndex, fn: Callable[[Array], Array]) -> NetworkParams:
    layer = list(params[idx.layer])
    p = dict(layer[idx.perceptron])
    p["theta"] = p["theta"].at[..., idx.angle].set(fn(p["theta"][..., idx.angle]))
    layer[idx.perceptron] = p
    return tuple(tuple(layer) if l == idx.layer else params[l] for l in range(len(params)))


def get_angle(params: NetworkParams, idx: AngleIndex) -> Array:
    """The value of one angle (batched leading axes are kept)."""
    return params[idx.layer][idx.perceptron]["theta"][..., idx.angle]


def set_angle(params: NetworkParams, idx: AngleIndex, value: Array) -> NetworkParams:
    """A copy of ``params`` with one angle set to ``value``."""
    return _replace(params, idx, lambda _: value)


def shift_angle(params: NetworkParams, idx: AngleIndex, delta: float | Array) -> NetworkParams:
    """A copy of ``params`` with ``delta`` added to one angle."""
    return _replace(params, idx, lambda t: t + delta)


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
    """``d C / d theta_idx`` of :func:`dqnn.cost.cost` (exact): the packed pass (:mod:`dqnn.packed`) where
    it is the faster one (:func:`dqnn.packed.applies`: real networks the simulator runs in complex128),
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
