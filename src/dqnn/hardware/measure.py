"""Measurement circuits for each estimator, run through Aer's ``SamplerV2``, as dqnn :class:`Estimate` s.

Every method appends a measurement to the exported network (:mod:`dqnn.hardware.export`, its input prepared by
:func:`~dqnn.hardware.export.with_input`) and turns the counts into a per-shot value whose mean is the cost of
Eq. (2) for one pair (the same values as :mod:`dqnn.estimators`):

- ``"inverse"`` (inverse unitary): global (Eq. 3), ``V^dagger`` of the target (``V|0> = phi``,
  :func:`~dqnn.estimators.base.completing_unitary`) on the outputs, measure all: value ``1 - [b = 0]``; local
  (Eq. 4), ``U_j^dagger`` on each output qubit: value ``|b| / n``;
- ``"shots"`` (one projector per run): global as ``"inverse"``; local, the shots dealt round-robin over the output
  qubits, a run on qubit ``j`` rotating and measuring qubit ``j`` only (as
  :func:`~dqnn.estimators.shots.direct_estimate`);
- ``"swap"`` (the destructive SWAP test of Beer et al.'s NISQ paper): the target prepared on a second register
  ``t`` (global: ``phi``; local: each ``psi_j``), a Bell measurement (``CX(out_i, t_i)``, ``H(out_i)``) of each pair;
  ``(-1)^(a_i b_i)`` is the SWAP eigenvalue of pair ``i``, so ``Tr(rho sigma) = E[(-1)^(sum_i a_i b_i)]``: global
  value ``1 - (-1)^(a . b)`` (in {0, 2}), local value ``1 - mean_i (-1)^(a_i b_i)`` (unbiased);
- ``"shadows"``: global, one random Clifford per snapshot (qiskit ``random_clifford``, seeded) and one shot;
  local, random Pauli bases (one circuit per basis setting drawn). Estimates by median of means
  (:mod:`dqnn.estimators.shadows`).

``shots=None`` computes the exact value of the measurement (Aer's density-matrix method and
``save_probabilities``: no shot noise, gate noise included, readout error not), with standard error 0.

Gradients (:func:`gradient_on_backend`): the parameter-shift rule of the angle (``C(theta +- pi/2)``) or the central
finite difference ``[C(theta + eps) - C(theta - eps)] / (2 eps)`` (the NISQ paper's ``eps = 0.25``), each shifted
cost estimated with ``shots`` per pair; the circuit is exported once and only its parameter binding changes. For a
rotation ``exp(-i theta Gamma / 2)`` with ``Gamma^2 = 1``, ``C`` is ``a + b cos(theta) + c sin(theta)`` and the
central difference is exactly ``C'(theta) sin(eps) / eps``: bias ``-C' eps**2 / 6 + O(eps**4)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from dqnn.costs import CostKind, check_targets
from dqnn.estimators import shadows
from dqnn.estimators.base import (
    Estimate,
    combine_mean,
    completing_unitary,
    estimate_from_counts,
    outcome_values,
    product_unitaries,
    rng_from,
)
from dqnn.hardware.backends import check_backend, simulator, transpile_for
from dqnn.hardware.export import Exported, to_circuit, with_input
from dqnn.hardware.order import qiskit_qargs
from dqnn.model.angles import AngleIndex, shift_angle
from dqnn.model.network import Network, NetworkParams

#: Measurement methods on a backend.
BACKEND_METHODS: tuple[str, ...] = ("inverse", "shots", "swap", "shadows")
#: Gradient rules on a backend.
GRADIENT_RULES: tuple[str, ...] = ("shift", "fd")


@dataclass(frozen=True)
class Job:
    """One circuit to run: ``circuit`` (measured into the register ``c``, clbit ``i`` from ``measured[i]``),
    ``shots`` of it, and ``measured`` the physical qubits (the measured integer is the dqnn index of
    ``measured`` read first-most-significant, by :func:`~dqnn.hardware.order.qiskit_qargs`)."""

    circuit: Any
    shots: int | None
    measured: tuple[Any, ...]


def _check_method(method: str, kind: str) -> None:
    if method not in BACKEND_METHODS:
        raise ValueError(f"method={method!r} is not one of {BACKEND_METHODS}")
    if kind not in ("global", "local"):
        raise ValueError(f"cost={kind!r} is not 'global' or 'local'")


def _measure(qc: Any, qubits: Sequence[Any]) -> Any:
    """``qc`` with ``qubits`` (dqnn order) measured into a new register ``c`` (its integer: the dqnn index)."""
    from qiskit import ClassicalRegister

    out = qc.copy()
    creg = ClassicalRegister(len(qubits), "c")
    out.add_register(creg)
    out.measure(qiskit_qargs(list(qubits)), list(creg))
    return out


def _unitary(qc: Any, m: np.ndarray, qubits: Sequence[Any]) -> None:
    from qiskit.circuit.library import UnitaryGate

    qc.append(UnitaryGate(np.asarray(m, dtype=np.complex128)), qiskit_qargs(list(qubits)))


def pair_jobs(
    prepared: Any,
    outputs: Sequence[Any],
    target: np.ndarray,
    kind: CostKind,
    method: str,
    shots: int | None,
    rng: np.random.Generator,
) -> tuple[list[Job], Callable[[list[np.ndarray]], Estimate]]:
    """The circuits that estimate one pair's cost, and the function from their outcome counts to the estimate.

    ``prepared``: the network with its input prepared (:func:`~dqnn.hardware.export.with_input`); ``outputs``: its
    output qubits (dqnn order); ``target``: ``(2**n,)`` (global) or ``(n, 2)`` (local). Each count array is over
    the measured integers of its job (``2**len(measured)``); with ``shots=None`` it holds exact probabilities.
    """
    from qiskit import QuantumRegister
    from qiskit.quantum_info import random_clifford

    _check_method(method, kind)
    n = len(outputs)
    outs = [prepared.qubits[q] if isinstance(q, int) else q for q in outputs]
    if method == "inverse" or (method == "shots" and kind == "global"):
        qc = prepared.copy()
        if kind == "global":
            _unitary(qc, completing_unitary(target).conj().T, outs)
        else:
            for q, u in zip(outs, product_unitaries(target), strict=True):
                _unitary(qc, u.conj().T, [q])
        values = outcome_values(kind, n)
        return [Job(qc, shots, tuple(outs))], lambda c: _from_counts(values, c[0], shots is None)
    if method == "shots":  # local: round robin over the qubits
        if shots is not None and shots < 2 * n:
            raise ValueError(f"shots={shots}: the local projector method needs shots >= 2 n = {2 * n}")
        per: list[int | None] = (
            [None] * n if shots is None else [int(m) for m in np.full(n, shots // n) + (np.arange(n) < shots % n)]
        )
        jobs = []
        for j, (q, u) in enumerate(zip(outs, product_unitaries(target), strict=True)):
            qc = prepared.copy()
            _unitary(qc, u.conj().T, [q])
            jobs.append(Job(qc, per[j], (q,)))
        return jobs, lambda c: _round_robin(c, shots)
    if method == "swap":
        reg = QuantumRegister(n, "t")
        qc = prepared.copy()
        qc.add_register(reg)
        tq = list(reg)
        # the target prepared from |0...0> by a unitary V with V|0> = target (a native Aer instruction)
        if kind == "global":
            _unitary(qc, completing_unitary(target), tq)
        else:
            for q, u in zip(tq, product_unitaries(target), strict=True):
                _unitary(qc, u, [q])
        for a, b in zip(outs, tq, strict=True):
            qc.cx(a, b)
            qc.h(a)
        # measured: the outputs then the target register; integer = a_index * 2**n + b_index (dqnn order)
        idx = np.arange(4**n)
        a_bits = ((idx[:, None] >> (2 * n - 1 - np.arange(n))[None, :]) & 1).astype(np.int64)
        b_bits = ((idx[:, None] >> (n - 1 - np.arange(n))[None, :]) & 1).astype(np.int64)
        signs = (-1.0) ** (a_bits * b_bits)  # (4**n, n): SWAP eigenvalue of each pair
        values = 1.0 - (np.prod(signs, axis=1) if kind == "global" else signs.mean(axis=1))
        return [Job(qc, shots, tuple(outs + tq))], lambda c: _from_counts(values, c[0], shots is None)
    # shadows
    if shots is None:
        raise ValueError("method='shadows' needs a number of snapshots (shots), not shots=None")
    if kind == "global":
        jobs = []
        gates_of = []
        for _ in range(int(shots)):
            cliff = random_clifford(n, seed=rng)
            qc = prepared.copy()
            # the Clifford's qubit j on output j (dqnn's shadows order), as standard gates (Aer runs them as they are)
            qc.compose(cliff.to_circuit(), qubits=outs, inplace=True)
            jobs.append(Job(qc, 1, tuple(outs)))
            gates_of.append(shadows.clifford_gates(cliff))

        def post_global(counts: list[np.ndarray]) -> Estimate:
            states = np.empty((len(counts), 2**n), dtype=np.complex128)
            for s, (c, gs) in enumerate(zip(counts, gates_of, strict=True)):
                e = np.zeros(2**n, dtype=np.complex128)
                e[int(np.argmax(c))] = 1.0
                states[s] = shadows.apply_gates(gs, e, adjoint=True)
            est = shadows.median_of_means(shadows.CliffordShadow(states).fidelities(target))
            return Estimate(1.0 - est.value, est.stderr, est.shots)

        return jobs, post_global
    bases = rng.integers(0, 3, size=(int(shots), n))
    settings, inverse, per_setting = np.unique(bases, axis=0, return_inverse=True, return_counts=True)
    jobs = []
    for setting, count in zip(settings, per_setting, strict=True):
        qc = prepared.copy()
        for q, b in zip(outs, setting, strict=True):
            _unitary(qc, shadows.PAULI_ROTATIONS[b], [q])
        jobs.append(Job(qc, int(count), tuple(outs)))
    order = rng.permutation(int(shots))
    bits_of = ((np.arange(2**n)[:, None] >> np.arange(n - 1, -1, -1)[None, :]) & 1).astype(np.int8)

    def post_local(counts: list[np.ndarray]) -> Estimate:
        recs_s, recs_b = [], []
        for k, c in enumerate(counts):
            c = np.asarray(c, dtype=np.int64)
            recs_b.append(np.repeat(np.arange(2**n), c))
            recs_s.append(np.full(int(c.sum()), k))
        s_idx = np.concatenate(recs_s)[order]
        b_idx = np.concatenate(recs_b)[order]
        shadow = shadows.PauliShadow(settings[s_idx].astype(np.int8), bits_of[b_idx])
        est = shadows.median_of_means(shadow.overlaps(target).mean(axis=1))
        return Estimate(1.0 - est.value, est.stderr, est.shots)

    del inverse
    return jobs, post_local


def _from_counts(values: np.ndarray, counts: np.ndarray, exact: bool) -> Estimate:
    c = np.asarray(counts, dtype=np.float64)
    if exact:  # exact probabilities (shots=None)
        return Estimate(float(c @ values / c.sum()), 0.0, 0)
    return estimate_from_counts(values, c)


def _round_robin(counts: list[np.ndarray], shots: int | None) -> Estimate:
    """Local projector method: qubit j's runs give ``P(0)``; cost ``1 - mean_j P_j(0)`` (as direct_estimate)."""
    n = len(counts)
    if shots is None:
        return Estimate(1.0 - float(np.mean([c[0] / np.sum(c) for c in counts])), 0.0, 0)
    fr, var, ms = [], [], []
    for c in counts:
        m = int(np.sum(c))
        f = float(c[0]) / m
        fr.append(f)
        var.append(f * (1 - f) * m / (m - 1))
        ms.append(m)
    stderr = math.sqrt(sum(v / m for v, m in zip(var, ms, strict=True))) / n
    return Estimate(1.0 - float(np.mean(fr)), stderr, int(sum(ms)))


def run_jobs(jobs: Sequence[Job], backend: str = "aer", seed: int | None = 0) -> list[np.ndarray]:
    """Counts ``(2**len(measured),)`` of every job, through Aer's ``SamplerV2`` (all jobs in one call; circuits
    transpiled for the backend); jobs with ``shots=None`` give exact probabilities (density-matrix method)."""
    from qiskit_aer.primitives import SamplerV2

    check_backend(backend)
    out: list[np.ndarray | None] = [None] * len(jobs)
    sampled = [i for i, j in enumerate(jobs) if j.shots is not None]
    exact = [i for i, j in enumerate(jobs) if j.shots is None]
    if sampled:
        sim = simulator(backend, seed=seed)
        sampler = SamplerV2.from_backend(sim, seed=seed)
        circs = _for_backend([_measure(jobs[i].circuit, jobs[i].measured) for i in sampled], sim)
        result = sampler.run([(c, None, jobs[i].shots) for c, i in zip(circs, sampled, strict=True)]).result()
        for i, res in zip(sampled, result, strict=True):
            counts = np.zeros(2 ** len(jobs[i].measured))
            for value, c in res.data.c.get_int_counts().items():
                counts[int(value)] += c
            out[i] = counts
    if exact:
        from qiskit_aer.library import SaveProbabilities

        sim = simulator(backend, method="density_matrix")
        circs = []
        for i in exact:
            qc = jobs[i].circuit.copy()
            qargs = qiskit_qargs(list(jobs[i].measured))
            qc.append(SaveProbabilities(len(qargs), label="p"), qargs)
            circs.append(qc)
        result = sim.run(_for_backend(circs, sim)).result()
        for k, i in enumerate(exact):
            out[i] = np.asarray(result.data(k)["p"], dtype=np.float64)
    return [np.asarray(c) for c in out]


#: Instructions ideal Aer runs without transpiling (the measurement suffixes use only these).
AER_NATIVE: frozenset[str] = frozenset(
    {
        "unitary",
        "initialize",
        "h",
        "s",
        "sdg",
        "x",
        "y",
        "z",
        "cx",
        "cz",
        "swap",
        "id",
        "reset",
        "measure",
        "barrier",
        "u",
        "rx",
        "ry",
        "rz",
        "sx",
        "save_probabilities",
        "save_density_matrix",
    }
)


def _for_backend(circuits: list[Any], sim: Any) -> list[Any]:
    """Each circuit as ``sim`` runs it: as it is when ideal and made of :data:`AER_NATIVE` instructions (the
    prepared networks are transpiled once per pair beforehand), else transpiled (one call for all)."""
    if sim.options.noise_model is None:
        todo = [k for k, c in enumerate(circuits) if any(i.operation.name not in AER_NATIVE for i in c.data)]
    else:
        todo = list(range(len(circuits)))
    if not todo:
        return circuits
    done = transpile_for([circuits[k] for k in todo], sim)
    out = list(circuits)
    for k, c in zip(todo, done, strict=True):
        out[k] = c
    return out


def _stacked(net: Network, inputs: ArrayLike, targets: ArrayLike, kind: str) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(inputs, dtype=np.complex128)
    if x.ndim not in (2, 3):
        raise ValueError(f"inputs must be stacked as (N, d) or (N, d, d), got shape {x.shape}")
    t = np.asarray(check_targets(kind, targets, x.shape[0], net.num_outputs))  # type: ignore[arg-type]
    return x, t


def estimate_exported(
    exported: Exported,
    params: NetworkParams,
    inputs: ArrayLike,
    targets: ArrayLike,
    cost: CostKind = "global",
    method: str = "inverse",
    shots: int | None = 1000,
    seed: int = 0,
    backend: str = "aer",
) -> Estimate:
    """:func:`estimate_on_backend` for an already exported circuit (only the angles of ``params`` are bound)."""
    _check_method(method, cost)
    if shots is not None and (isinstance(shots, bool) or int(shots) != shots or shots < 2):
        raise ValueError(f"shots={shots!r}: need an integer >= 2, or None for the exact value")
    x, t = _stacked(exported.net, inputs, targets, cost)
    rng = rng_from(seed)
    all_jobs: list[Job] = []
    posts = []
    ideal = simulator(backend) if backend == "aer" else None
    for xi, ti in zip(x, t, strict=True):
        prepared = with_input(exported, xi, params)
        if ideal is not None:  # transpiled once here; the measurement suffixes then run as they are
            prepared = transpile_for(prepared, ideal)
        jobs, post = pair_jobs(prepared, list(exported.layout.outputs), ti, cost, method, shots, rng)
        posts.append((len(all_jobs), len(jobs), post))
        all_jobs.extend(jobs)
    counts = run_jobs(all_jobs, backend, int(rng.integers(2**31)))
    return combine_mean([post(counts[a : a + k]) for a, k, post in posts])


def estimate_on_backend(
    net: Network,
    params: NetworkParams,
    inputs: ArrayLike,
    targets: ArrayLike,
    cost: CostKind = "global",
    method: str = "inverse",
    shots: int | None = 1000,
    seed: int = 0,
    backend: str = "aer",
    layout: str = "reuse",
) -> Estimate:
    """The cost of Eq. (2) estimated by running the exported network on ``backend`` (module doc).

    ``inputs`` (N, 2**n_in) or (N, 2**n_in, 2**n_in); ``targets`` (N, 2**n_out) global or (N, n_out, 2) local;
    ``method`` one of :data:`BACKEND_METHODS`; ``shots`` per pair (snapshots for shadows; ``None``: exact);
    ``backend`` ``"aer"`` or ``"aer-noisy:<name>"`` (:mod:`dqnn.hardware.backends`); ``layout`` ``"reuse"`` or
    ``"fresh"``. Seeded: the same ``seed`` gives the same estimate. ``Estimate.shots`` is the total.
    """
    check_backend(backend)
    return estimate_exported(
        to_circuit(net, params, layout), params, inputs, targets, cost, method, shots, seed, backend
    )


def gradient_on_backend(
    net: Network,
    params: NetworkParams,
    idx: AngleIndex,
    inputs: ArrayLike,
    targets: ArrayLike,
    cost: CostKind = "global",
    method: str = "inverse",
    shots: int | None = 1000,
    seed: int = 0,
    backend: str = "aer",
    rule: str = "shift",
    eps: float = 0.25,
    layout: str = "reuse",
) -> Estimate:
    """``dC/dtheta_idx`` on ``backend``: ``rule="shift"`` (the angle's exact two-term rule, ``shift = pi/2``) or
    ``"fd"`` (central finite difference with step ``eps``; biased, module doc). One exported circuit, two bindings.
    """
    from dqnn.gradients import check_shift_rule

    if rule not in GRADIENT_RULES:
        raise ValueError(f"rule={rule!r} is not one of {GRADIENT_RULES}")
    if rule == "shift":
        r = check_shift_rule(net, idx)
        shift, scale = float(r.shift), float(r.scale)
    else:
        if not (isinstance(eps, int | float) and math.isfinite(eps) and eps > 0):
            raise ValueError(f"eps={eps!r} must be a positive finite number")
        shift, scale = float(eps), 1.0 / (2.0 * eps)
    ex = to_circuit(net, params, layout)
    rng = rng_from(seed)
    plus, minus = (
        estimate_exported(
            ex, shift_angle(params, idx, s), inputs, targets, cost, method, shots, int(rng.integers(2**31)), backend
        )
        for s in (shift, -shift)
    )
    return Estimate(
        scale * (plus.value - minus.value), scale * math.hypot(plus.stderr, minus.stderr), plus.shots + minus.shots
    )


__all__ = [
    "BACKEND_METHODS",
    "GRADIENT_RULES",
    "Job",
    "estimate_exported",
    "estimate_on_backend",
    "gradient_on_backend",
    "pair_jobs",
    "run_jobs",
]
