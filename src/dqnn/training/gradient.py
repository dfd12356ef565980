"""Gradient training of circuit angles (Eq. 5 perceptrons) with optax: Adam or SGD.

The trainable parameters are all circuit angles ``theta`` of the network, gathered into one flat vector
``(P,)`` in the order of :func:`dqnn.model.angles.angle_indices`; every other leaf (Haar blocks of
``RandomUnitary`` elements, Haar perceptrons, fixed gates) stays as initialised. Gradients are exact:
automatic differentiation, or the two-term parameter-shift rule
``dC/dtheta_k = scale_k [C(theta + shift_k e_k) - C(theta - shift_k e_k)]`` of each angle's family
(:func:`dqnn.gradients.shift_rules`; ``pi/2`` and ``1/2`` for generators with eigenvalues +-1), evaluated for all
``k`` at once by :func:`dqnn.gradients.grad_param_shift_all`; every angle's family must have an exact rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
import optax

from dqnn._jax import Array
from dqnn.gradients import grad_param_shift_all, shift_rules
from dqnn.model.angles import angle_indices
from dqnn.model.families import Circuit, Gate, Rot
from dqnn.model.network import Network, NetworkParams, Perceptron

OptimizerName = Literal["adam", "sgd"]
GradientMode = Literal["autodiff", "shift"]


@dataclass(frozen=True)
class GradientConfig:
    """Optimiser (``"adam"`` or ``"sgd"``), learning rate, and how gradients are computed."""

    optimizer: OptimizerName = "adam"
    lr: float = 0.05
    gradient: GradientMode = "autodiff"

    def __post_init__(self) -> None:
        if self.optimizer not in ("adam", "sgd"):
            raise ValueError(f"GradientConfig: optimizer {self.optimizer!r} is not 'adam' or 'sgd'")
        if self.gradient not in ("autodiff", "shift"):
            raise ValueError(f"GradientConfig: gradient {self.gradient!r} is not 'autodiff' or 'shift'")
        if not self.lr > 0:
            raise ValueError(f"GradientConfig: lr={self.lr} must be > 0")


def hea_perceptron(num_qubits: int, depth: int) -> Circuit:
    """A hardware-efficient perceptron: ``depth`` x (R_y, R_z on every wire, then a CZ ladder), then R_y, R_z.

    ``2 * num_qubits * (depth + 1)`` angles; all generators are Paulis (parameter shift applies).
    """
    if depth < 0 or num_qubits < 1:
        raise ValueError(f"hea_perceptron: num_qubits={num_qubits} and depth={depth} must be >= 1 and >= 0")
    els: list[Rot | Gate] = []
    for r in range(depth + 1):
        for q in range(num_qubits):
            els += [Rot("Y", (q,)), Rot("Z", (q,))]
        if r < depth:
            els += [Gate("CZ", (q, q + 1)) for q in range(num_qubits - 1)]
    return Circuit(num_qubits, els, name=f"hea({num_qubits}, depth={depth})")


def circuit_network(widths: tuple[int, ...] | list[int], depth: int = 3) -> Network:
    """Global perceptrons (all of layer ``l`` plus output ``j``), each a :func:`hea_perceptron` of ``depth``."""
    ws = tuple(int(w) for w in widths)
    layers = [
        [Perceptron(range(ws[l]), [j], hea_perceptron(ws[l] + 1, depth)) for j in range(ws[l + 1])]
        for l in range(len(ws) - 1)
    ]
    return Network(ws, layers, strict=True)


#: ``(shifts, scales)`` ``(P,)`` of every angle (:func:`dqnn.gradients.shift_rules`).
ShiftRules = tuple[np.ndarray, np.ndarray]


def check_angles(net: Network, config: GradientConfig) -> ShiftRules | None:
    """ValueError when the network has no angle, or parameter shift is asked for an angle without an exact rule.

    Returns the rules of every angle for ``gradient="shift"`` (None for autodiff).
    """
    idx = angle_indices(net)
    if not idx:
        raise ValueError("gradient training: the network has no circuit angle to train")
    if config.gradient == "shift":
        return shift_rules(net, idx)
    return None


def flatten_angles(net: Network, params: NetworkParams) -> Array:
    """All angles as one vector ``(P,)`` (order of :func:`dqnn.model.angles.angle_indices`)."""
    parts = [
        jnp.reshape(params[l][j]["theta"], (-1,))
        for l, layer in enumerate(net.layers)
        for j, p in enumerate(layer)
        if p.unitary.num_angles
    ]
    return jnp.concatenate(parts) if parts else jnp.zeros((0,), dtype=jnp.float64)


def unflatten_angles(net: Network, params: NetworkParams, theta: Array) -> NetworkParams:
    """``params`` with its angles replaced by the flat vector ``theta`` ``(P,)``."""
    out = []
    start = 0
    for l, layer in enumerate(net.layers):
        row = []
        for j, p in enumerate(layer):
            k = p.unitary.num_angles
            if k:
                row.append({**params[l][j], "theta": theta[start : start + k]})
                start += k
            else:
                row.append(params[l][j])
        out.append(tuple(row))
    return tuple(out)


def make_optimizer(config: GradientConfig) -> optax.GradientTransformation:
    """``optax.adam(lr)`` or ``optax.sgd(lr)``."""
    return optax.adam(config.lr) if config.optimizer == "adam" else optax.sgd(config.lr)


def shift_gradient(cost_of_theta: Callable[[Array], Array], theta: Array, rules: ShiftRules | None = None) -> Array:
    """Two-term parameter-shift gradient ``(P,)`` of ``cost_of_theta`` at ``theta`` (all angles at once):
    :func:`dqnn.gradients.grad_param_shift_all` with ``rules`` (:func:`check_angles`; default: every generator
    with eigenvalues +-1)."""
    shifts, scales = (None, None) if rules is None else rules
    return grad_param_shift_all(cost_of_theta, theta, shifts, scales)


def angle_grad(
    cost_of_theta: Callable[[Array], Array], theta: Array, mode: GradientMode, rules: ShiftRules | None = None
) -> tuple[Array, Array]:
    """``(cost, gradient (P,))`` at ``theta`` by automatic differentiation or parameter shift (``rules`` as
    :func:`shift_gradient`)."""
    if mode == "autodiff":
        return jax.value_and_grad(lambda t: jnp.real(cost_of_theta(t)))(theta)
    return jnp.real(cost_of_theta(theta)), shift_gradient(lambda t: jnp.real(cost_of_theta(t)), theta, rules)


def make_gradient_update(
    net: Network,
    cost: Callable[[NetworkParams, Array, Array], Array],
    config: GradientConfig,
) -> Callable[[Array, Any, NetworkParams, Array, Array], tuple[Array, Any, Array]]:
    """A jitted step ``(theta, opt_state, base_params, inputs, targets) -> (theta, opt_state, cost before)``.

    ``cost(params, inputs, targets)`` is the objective; ``base_params`` supplies the non-angle leaves
    (Haar blocks, fixed perceptrons), which are not trained.
    """
    rules = check_angles(net, config)
    opt = make_optimizer(config)

    def step(
        theta: Array, opt_state: Any, base: NetworkParams, inputs: Array, targets: Array
    ) -> tuple[Array, Any, Array]:
        c, g = angle_grad(
            lambda t: cost(unflatten_angles(net, base, t), inputs, targets), theta, config.gradient, rules
        )
        updates, opt_state = opt.update(g, opt_state, theta)
        return optax.apply_updates(theta, updates), opt_state, c

    return jax.jit(step)


__all__ = [
    "GradientConfig",
    "ShiftRules",
    "angle_grad",
    "check_angles",
    "circuit_network",
    "flatten_angles",
    "hea_perceptron",
    "make_gradient_update",
    "make_optimizer",
    "shift_gradient",
    "unflatten_angles",
]
