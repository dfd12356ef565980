r"""Momentum, RMSprop, Adam and Nadam for parameter-matrix multiplication, as in Beer et al.'s MATLAB code.

Their ``TrainNetwork.m`` (options ``'momentum'``, ``'RMSprop'``, ``'Adam'``, ``'Nadam'``) works with the
*unnormalised* parameter matrix of each perceptron, in Hermitian form

.. math::  H_t = i\, 2^m \sum_x \mathrm{Tr}_\mathrm{rest}[A_x, B_x] = N K_t / \eta ,

(``K_t`` of :class:`~dqnn.training.pmm.PMMConfig` in the ``"code"`` convention, ``N`` pairs in the step), and
updates ``V -> expm(i (eps / (lambda N)) S_t) V`` with a step matrix ``S_t``. With ``mu`` their ``momentum``
coefficient, ``beta`` their ``RMSprop`` / ``Adam`` / ``Nadam`` memory coefficient and ``tau = t + 1`` (their loop
counter ``round`` starts at 2 for the first update ``t = 1``):

- ``"plain"``: ``S_t = H_t`` (so ``expm(i eps K_t)``, the step of :func:`~dqnn.training.pmm.make_pmm_update`);
- ``"momentum"`` (heavy ball): ``v_t = mu v_{t-1} + H_t``, ``S_t = v_t``;
- ``"rmsprop"``: ``r_t = beta r_{t-1} + (1 - beta) R(H_t)``, ``v_t = H_t / sqrt(r_t + delta^16) + mu v_{t-1}``,
  ``S_t = v_t``;
- ``"adam"``: ``m_t = mu m_{t-1} + (1 - mu) H_t``, ``r_t`` as RMSprop,
  ``S_t = (m_t / (1 - mu^tau)) / (sqrt(r_t / (1 - beta^tau)) + delta^8)``;
- ``"nadam"``: ``m_t``, ``r_t`` as Adam,
  ``S_t = (mu m_t / (1 - mu^tau) + (1 - mu) H_t / (1 - mu^tau)) / (sqrt(r_t / (1 - beta^tau)) + delta^8)``;

with ``delta = min(eps, 1)`` and ``R(H) = SpectralRange(K^2)`` of their code for the anti-Hermitian
``K = -i H``: ``|| ||K^2|| 1 - K^2 || = 2 ||H||^2`` (spectral norm), one number per perceptron. ``r`` and ``m``
start at zero. Every perceptron with a matrix parameter has its own ``v``/``m`` and ``r``.

Two places where their code, as published, differs from what it describes, and what dqnn does instead: with
``'momentum'`` alone the line storing ``v_t`` is commented out, so their run is plain PMM (dqnn: the heavy ball
above); with ``'RMSprop'`` and no momentum the step matrix of a perceptron is added to the next perceptron's
(a variable not reset inside the loop; dqnn: ``mu = 0`` gives ``S_t = H_t / sqrt(r_t + delta^16)``). Adam and Nadam
need ``mu > 0`` (their code's step is zero otherwise). Beer et al.'s denoising runs use Nadam with
``mu = 0.8``, ``beta = 0.999``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax.numpy as jnp

from dqnn._jax import Array
from dqnn.model.network import Network, NetworkParams
from dqnn.training import pmm

#: The PMM update rules of this module.
PMM_OPTIMIZERS: tuple[str, ...] = ("plain", "momentum", "rmsprop", "adam", "nadam")


@dataclass(frozen=True)
class PMMOptimizer:
    """One of :data:`PMM_OPTIMIZERS` with its coefficients (module docstring): ``momentum`` = ``mu``,
    ``beta`` = the second-moment memory (their ``RMSprop`` / ``Adam`` / ``Nadam`` value)."""

    name: str = "plain"
    momentum: float = 0.0
    beta: float = 0.999

    def __post_init__(self) -> None:
        if self.name not in PMM_OPTIMIZERS:
            raise ValueError(f"PMMOptimizer: name {self.name!r} is not one of {PMM_OPTIMIZERS}")
        if not 0.0 <= self.momentum < 1.0:
            raise ValueError(f"PMMOptimizer: momentum={self.momentum} must lie in [0, 1)")
        if not 0.0 <= self.beta < 1.0:
            raise ValueError(f"PMMOptimizer: beta={self.beta} must lie in [0, 1)")
        if self.name in ("adam", "nadam") and self.momentum <= 0.0:
            raise ValueError(f"PMMOptimizer: {self.name} needs momentum > 0 (the first-moment coefficient)")
        if self.name == "momentum" and self.momentum <= 0.0:
            raise ValueError("PMMOptimizer: 'momentum' needs momentum > 0")


def init_state(net: Network, params: NetworkParams) -> dict[str, Any]:
    """Zero first moments ``v`` (one matrix per trainable perceptron, ``None`` elsewhere) and second moments ``r``."""
    v = tuple(
        tuple(
            None if not pmm.trainable(p) else jnp.zeros_like(params[l][j][pmm.matrix_key(p)])  # type: ignore[index]
            for j, p in enumerate(layer)
        )
        for l, layer in enumerate(net.layers)
    )
    r = tuple(
        tuple(None if not pmm.trainable(p) else jnp.zeros((), dtype=jnp.float64) for p in layer) for layer in net.layers
    )
    return {"v": v, "r": r}


def spectral_range(h: Array) -> Array:
    """``2 ||h||^2`` for a Hermitian ``h``: their ``SpectralRange(K^2)`` of ``K = -i h``."""
    return 2.0 * jnp.max(jnp.abs(jnp.linalg.eigvalsh(h))) ** 2


def _one(opt: PMMOptimizer, h: Array, v: Array, r: Array, tau: Array, delta: float) -> tuple[Array, Array, Array]:
    mu, beta = opt.momentum, opt.beta
    if opt.name == "momentum":
        v = mu * v + h
        return v, v, r
    r = beta * r + (1.0 - beta) * spectral_range(h)
    if opt.name == "rmsprop":
        v = h / jnp.sqrt(r + delta**16) + mu * v
        return v, v, r
    m = mu * v + (1.0 - mu) * h
    hat = m / (1.0 - mu**tau)
    if opt.name == "nadam":
        hat = mu * hat + (1.0 - mu) / (1.0 - mu**tau) * h
    return hat / (jnp.sqrt(r / (1.0 - beta**tau)) + delta**8), m, r


def update(
    net: Network,
    params: NetworkParams,
    gens: pmm.Generators,
    num_pairs: int,
    config: pmm.PMMConfig,
    opt: PMMOptimizer,
    state: dict[str, Any],
    t: Array,
) -> tuple[NetworkParams, dict[str, Any]]:
    """Update ``t`` (1 for the first) of every trainable perceptron from ``G`` (:func:`pmm.fidelity_and_generators`
    on ``num_pairs`` pairs): ``(new params, new optimiser state)`` (module docstring)."""
    ks = pmm.parameter_matrices(net, gens, config)
    if opt.name == "plain":
        return pmm.apply_generators(net, params, ks, config.eps), state
    delta = min(config.eps, 1.0)
    tau = jnp.asarray(t, dtype=jnp.float64) + 1.0
    scale = config.eps * config.eta / num_pairs
    steps: list[list[Any]] = []
    vs, rs = [], []
    for l, layer in enumerate(net.layers):
        srow: list[Any] = []
        vrow: list[Any] = []
        rrow: list[Any] = []
        for j in range(len(layer)):
            k = ks[l][j]
            if k is None:
                srow.append(None)
                vrow.append(None)
                rrow.append(None)
                continue
            h = (num_pairs / config.eta) * k
            s, v, r = _one(opt, h, state["v"][l][j], state["r"][l][j], tau, delta)
            srow.append(s)
            vrow.append(v)
            rrow.append(r)
        steps.append(srow)
        vs.append(tuple(vrow))
        rs.append(tuple(rrow))
    ss = tuple(tuple(row) for row in steps)
    return pmm.apply_generators(net, params, ss, scale), {"v": tuple(vs), "r": tuple(rs)}


__all__ = ["PMM_OPTIMIZERS", "PMMOptimizer", "init_state", "spectral_range", "update"]
