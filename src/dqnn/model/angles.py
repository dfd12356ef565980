"""Circuit angles by name: :class:`AngleIndex` and pure get / set / shift on a network's parameters.

An angle is named by :class:`AngleIndex` ``(layer, perceptron, angle)``: angle ``angle`` (in the order of
the :class:`~dqnn.model.families.Rot` elements) of perceptron ``perceptron`` of layer ``layer``.
Parameters are the pytree of :meth:`dqnn.model.network.Network.init`; a perceptron with angles stores them
as ``{"theta": (num_angles,)}``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dqnn._jax import Array
from dqnn.model.network import Network, NetworkParams


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
