"""Training on a (simulated) quantum computer with a shot budget: Beer et al.'s NISQ experiment.

The network is exported once (:func:`~dqnn.hardware.export.to_circuit`) with its angles as Qiskit parameters; each
training pair's circuit (input preparation, network, measurement) is transpiled once, and every epoch sends all the
parameter sets it needs (the shifted angles of every gradient entry, and the current angles) as the parameter
values of one ``SamplerV2`` call (:func:`estimate_sweep`). Gradient entries are the NISQ paper's central finite
differences (``eps = 0.25``) or the parameter-shift rule, the costs by the destructive SWAP test (or any method of
:data:`~dqnn.hardware.measure.BACKEND_METHODS` but shadows); the update is plain gradient descent
``theta <- theta - lr * g`` on the cost ``1 - fidelity`` (global, Eq. 3).

:func:`train_on_backend` runs the [2, 2] experiment by default: learn a Haar-random two-qubit unitary from
``num_train`` pairs with hardware-efficient perceptrons (:func:`dqnn.training.gradient.circuit_network`), with
``2**13`` shots per circuit, on ideal Aer or with noise (``backend="aer-noisy:generic"``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from dqnn.costs import CostKind
from dqnn.estimators.base import Estimate, combine_mean, rng_from
from dqnn.hardware.backends import check_backend, simulator, transpile_for
from dqnn.hardware.export import Exported, to_circuit, with_input
from dqnn.hardware.measure import BACKEND_METHODS, GRADIENT_RULES, _for_backend, _measure, _stacked, pair_jobs
from dqnn.model.network import NetworkParams


def estimate_sweep(
    exported: Exported,
    bindings: ArrayLike,
    inputs: ArrayLike,
    targets: ArrayLike,
    cost: CostKind = "global",
    method: str = "swap",
    shots: int = 1000,
    seed: int = 0,
    backend: str = "aer",
    matrices: NetworkParams | None = None,
) -> list[Estimate]:
    """The cost of Eq. (2) at each of ``K`` angle settings: ``bindings`` (K, P), column ``p`` the angle of
    ``list(exported.parameters)[p]`` (:class:`~dqnn.model.angles.AngleIndex` order), ``shots`` per pair and setting.

    One transpiled circuit per pair and measurement, all settings as parameter values of one ``SamplerV2`` run.
    ``method``: any of :data:`~dqnn.hardware.measure.BACKEND_METHODS` but ``"shadows"`` (a fresh random circuit per
    snapshot). ``matrices``: unused (the exported matrix perceptrons are fixed); kept for symmetry.
    """
    from qiskit_aer.primitives import SamplerV2

    del matrices
    if method not in BACKEND_METHODS or method == "shadows":
        raise ValueError(f"method={method!r}: estimate_sweep takes one of {BACKEND_METHODS[:3]}")
    if isinstance(shots, bool) or int(shots) != shots or shots < 2:
        raise ValueError(f"shots={shots!r}: need an integer >= 2")
    check_backend(backend)
    b = np.atleast_2d(np.asarray(bindings, dtype=np.float64))
    pars = list(exported.parameters.values())
    if b.shape[1] != len(pars):
        raise ValueError(f"bindings: {b.shape[1]} column(s) for {len(pars)} circuit angle(s)")
    column = {p.name: k for k, p in enumerate(pars)}
    x, t = _stacked(exported.net, inputs, targets, cost)
    rng = rng_from(seed)
    sim = simulator(backend)
    pubs: list[Any] = []
    posts: list[Any] = []
    for xi, ti in zip(x, t, strict=True):
        prepared = with_input(exported, xi)  # parameters left free
        if backend == "aer":
            prepared = transpile_for(prepared, sim)
        jobs, post = pair_jobs(prepared, list(exported.layout.outputs), ti, cost, method, int(shots), rng)
        circs = _for_backend([_measure(j.circuit, j.measured) for j in jobs], sim)
        posts.append((len(pubs), len(jobs), [len(j.measured) for j in jobs], post))
        for c, j in zip(circs, jobs, strict=True):
            cols = [column[p.name] for p in c.parameters]
            pubs.append((c, b[:, cols] if cols else None, j.shots))
    result = SamplerV2.from_backend(sim, seed=int(rng.integers(2**31))).run(pubs).result()
    out = []
    for k in range(b.shape[0]):
        per_pair = []
        for start, count, widths, post in posts:
            counts = []
            for i, w in zip(range(start, start + count), widths, strict=True):
                data = result[i].data.c
                c = np.zeros(2**w)
                for value, m in (data.get_int_counts(k) if data.shape else data.get_int_counts()).items():
                    c[int(value)] += m
                counts.append(c)
            per_pair.append(post(counts))
        out.append(combine_mean(per_pair))
    return out


@dataclass(frozen=True)
class BackendTraining:
    """A training run on a backend (module doc): network ``widths`` of hardware-efficient perceptrons of ``depth``,
    ``num_train`` pairs of a Haar-random unitary, ``epochs`` gradient steps of size ``lr``, ``shots`` per circuit,
    gradient ``rule`` (``"fd"`` with step ``eps``, or ``"shift"``), cost ``method``, ``backend``, ``layout``, ``seed``.
    """

    widths: tuple[int, ...] = (2, 2)
    depth: int = 1
    num_train: int = 4
    epochs: int = 20
    lr: float = 1.0
    shots: int = 2**13
    eps: float = 0.25
    rule: str = "fd"
    method: str = "swap"
    backend: str = "aer"
    layout: str = "reuse"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.rule not in GRADIENT_RULES:
            raise ValueError(f"BackendTraining: rule={self.rule!r} is not one of {GRADIENT_RULES}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"BackendTraining: lr={self.lr!r} must be a positive finite number")
        if not (math.isfinite(self.eps) and self.eps > 0):
            raise ValueError(f"BackendTraining: eps={self.eps!r} must be a positive finite number")
        if self.epochs < 0 or self.num_train < 1:
            raise ValueError(f"BackendTraining: epochs={self.epochs} >= 0 and num_train={self.num_train} >= 1")
        check_backend(self.backend)


def train_on_backend(config: BackendTraining) -> list[dict[str, Any]]:
    """Run ``config``; one row per epoch ``t`` (row 0: the initialisation) with the shot estimate ``cost`` and its
    ``stderr`` at the angles after ``t`` updates, dqnn's exact ``exact_cost`` there, and the ``shots`` spent so far
    (all circuits, all pairs). Seeded by ``config.seed`` (data, initialisation, shots)."""
    import jax

    from dqnn import datasets
    from dqnn.costs import cost as exact_cost
    from dqnn.training.gradient import circuit_network, flatten_angles, unflatten_angles

    net = circuit_network(list(config.widths), config.depth)
    if config.widths[0] != config.widths[-1]:
        raise ValueError(f"BackendTraining: widths {config.widths} must start and end alike (a unitary to learn)")
    k_data, k_init = jax.random.split(jax.random.key(config.seed))
    _, split = datasets.unitary_data(k_data, config.widths[0], config.num_train, 0)
    x, y = np.asarray(split.train_inputs), np.asarray(split.train_targets)
    params = net.init(k_init)
    ex = to_circuit(net, params, config.layout)
    indices = list(ex.parameters)
    theta = np.array([float(np.asarray(params[i.layer][i.perceptron]["theta"])[i.angle]) for i in indices])
    p_count = len(indices)
    if config.rule == "fd":
        shift, scale = config.eps, 1.0 / (2.0 * config.eps)
    else:
        shift, scale = math.pi / 2, 0.5
    # the exported angles are in flatten_angles order (perceptrons in order, their angles in order)
    assert np.allclose(np.asarray(flatten_angles(net, params)), theta)
    exact_of = jax.jit(lambda th: exact_cost(net, unflatten_angles(net, params, th), x, y, "global"))
    rng = np.random.default_rng(config.seed)
    rows: list[dict[str, Any]] = []
    spent = 0
    for epoch in range(config.epochs + 1):
        last = epoch == config.epochs
        settings = [theta]
        if not last:
            for p in range(p_count):
                e = np.zeros(p_count)
                e[p] = shift
                settings += [theta + e, theta - e]
        ests = estimate_sweep(
            ex, np.stack(settings), x, y, "global", config.method, config.shots, int(rng.integers(2**31)),
            config.backend,
        )  # fmt: skip
        spent += sum(e.shots for e in ests)
        exact = float(exact_of(theta))
        rows.append(
            {"epoch": epoch, "cost": ests[0].value, "stderr": ests[0].stderr, "exact_cost": exact, "shots": spent}
        )
        if not last:
            g = np.array([scale * (ests[1 + 2 * p].value - ests[2 + 2 * p].value) for p in range(p_count)])
            theta = theta - config.lr * g
    return rows


__all__ = ["BackendTraining", "estimate_sweep", "train_on_backend"]
