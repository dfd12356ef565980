"""One benchmark case in one engine, run in its own process: ``python engines.py ENGINE WORKLOAD N L COST S BUDGET``.

Prints one JSON line: ``import_s`` (importing the engine's modules), ``compile_s`` (build + first call,
which includes tracing/compilation), ``samples`` (how many gradients were timed after that: at least S and
for at least ``MIN_TIMED_S`` seconds, repeating the S samples' angles, at most BUDGET seconds), ``run_s``,
``samples_per_s``, ``peak_rss_mb`` and ``rss_delta_mb`` (maximum resident set size at the end, and its
growth since the start of the process, which includes importing the engine), ``variance`` of the gradients at the
first S angles, the same angles in every engine (a cross-check: equal up to rounding when all S were timed).

Workloads (identical everywhere; angles uniform in [0, 2 pi); input |0...0>; gradient w.r.t. the first angle):
- ``A``: RY(theta_i) on each of n qubits. Global cost ``1 - |<0..0|psi>|^2``; local ``1 - mean_j <0|rho_j|0>``.
- ``B``: L layers of [RY on every qubit, CZ on bonds (0,1), (2,3), ..., then CZ on (1,2), (3,4), ...].
- ``D``: Theorem 1's DQNN, widths ``[n] * (L + 1)``, every perceptron a Haar-random unitary on the ``n``
  qubits of its layer and its output qubit, perceptron 0 of layer 0 ``A R_y(theta) B`` (A, B Haar); input and
  target ``|0...0>``, global cost; ``dC/dtheta`` over random initialisations (theta and every unitary drawn
  per sample, from the sample's seed: each engine draws its own, so the samples differ and the variances
  agree within their standard error ``variance_se``). dqnn: the variance engine's sampler (preset
  ``global``); the peers: one statevector on all ``n (L + 1)`` qubits (``tc`` and ``pl-jax``: Haar by QR of a
  complex Ginibre matrix in JAX, ``jit(vmap(grad))``; ``qiskit``: the same in NumPy, parameter shift).
  Their density-matrix variants (D only) go layer by layer: the ``2 n``-qubit density matrix of two adjacent
  layers, the ``n`` perceptrons, a partial trace over the inputs (``tc-dm``: ``DMCircuit``; ``pl-mixed``:
  ``default.mixed``; ``qiskit-dm``: ``DensityMatrix``), each with its statevector twin's draws, so a seed gives
  the twin's gradient up to rounding.

The JAX engines (dqnn, tc, pl-jax) take the NumPy angles as they are (``jit`` transfers them; a prior
``jnp.asarray`` per call cost ~0.1 ms, which is most of a 1000-sample call of dqnn on A).

Engines: ``dqnn`` (the Fig. 3a DQNN for A, with independent components / light cones as the variance engine
picks them; ``dqnn-full`` the plain simulator only; for B the same circuit as a
DQNN of m = k = 2 perceptrons, two DQNN layers per ansatz layer), ``tc`` (TensorCircuit-NG, JAX backend,
jit + vmap of grad), ``pl-jax`` (PennyLane default.qubit, JAX backprop, jit + vmap of grad), ``pl-lightning``
(PennyLane lightning.qubit, adjoint, one sample at a time), ``qiskit`` (Statevector, parameter shift);
on D only: ``tc-dm``, ``pl-mixed``, ``qiskit-dm``.
"""

from __future__ import annotations

import importlib
import json
import resource
import sys
import time
from collections.abc import Callable

import numpy as np

MIN_TIMED_S = 1.0  # time at least this long, repeating the S samples' angles, so fast engines are not timed on one call
B_CHUNK = 64  # samples per call of the full simulator on B n = 12
CONE_CHUNK = 8  # samples per call of the light-cone engine (B local): its 2**16 states stay in cache

Sampler = tuple[Callable[[np.ndarray], np.ndarray], int]  # (thetas (c, P) -> grads (c,), batch c)


def rss_mb() -> float:
    """Peak resident set size of this process so far (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def num_angles(workload: str, n: int, layers: int) -> int:
    """Angles of the workload's circuit (D: one column of per-sample seeds)."""
    return n if workload == "A" else 1 if workload == "D" else n * layers


# ------------------------------------------------------------------------------------- workload D (all)
def d_perceptrons(n: int, layers: int) -> list[tuple[list[int], int]]:
    """Workload D on one register of ``n (L + 1)`` qubits: (layer qubits, output qubit) of every perceptron."""
    return [(list(range(l * n, (l + 1) * n)), (l + 1) * n + j) for l in range(layers) for j in range(n)]


def d_haar_jax(key, count: int, dim: int):  # type: ignore[no-untyped-def]
    """``count`` Haar unitaries (count, dim, dim): QR of complex Ginibre matrices, phases fixed (Mezzadri)."""
    import jax
    import jax.numpy as jnp

    kr, ki = jax.random.split(key)
    z = (jax.random.normal(kr, (count, dim, dim)) + 1j * jax.random.normal(ki, (count, dim, dim))) / np.sqrt(2.0)
    q, r = jnp.linalg.qr(z)
    dg = jnp.diagonal(r, axis1=-2, axis2=-1)
    return q * (dg / jnp.abs(dg))[..., None, :]


def d_draw_jax(seed, n: int, layers: int):  # type: ignore[no-untyped-def]
    """One initialisation of D from an integer seed: (theta, unitaries (n L + 1, 2**(n+1), 2**(n+1)))."""
    import jax

    k1, k2 = jax.random.split(jax.random.key(seed))
    theta = jax.random.uniform(k1, (), minval=0.0, maxval=2 * np.pi, dtype=np.float64)
    return theta, d_haar_jax(k2, n * layers + 1, 2 ** (n + 1))


def _need_d(workload: str, engine: str) -> None:
    """The density-matrix peers run workload D only."""
    if workload != "D":
        raise ValueError(f"engine {engine!r} runs workload D only, not workload={workload!r}")


def _dm_chunk(n: int) -> int:
    """Samples per call of a density-matrix peer: ``tc_d_engine``'s rule on the ``2**(4n)`` entries of a pair."""
    return 64 if 4 * n <= 16 else 8


def dqnn_d_engine(n: int, layers: int, samples: int):  # type: ignore[no-untyped-def]
    """dqnn on D: :func:`dqnn.trainability.sampling.sampler` of the ``global`` preset (keys from the seeds)."""
    import jax

    from dqnn.trainability.sampling import PointSpec, sampler

    fn, c = sampler(PointSpec("global", "global", n, layers).gradient(), samples)
    base = jax.random.key(1234)
    keys = jax.jit(jax.vmap(lambda s: jax.random.fold_in(base, s)))
    return (lambda th: np.asarray(fn(keys(th[:, 0])))), min(c, samples)


# ---------------------------------------------------------------------------------------------- dqnn
def dqnn_hea(n: int, layers: int):  # type: ignore[no-untyped-def]
    """Workload B as a DQNN: per ansatz layer, one DQNN layer of RY-RY-CZ pairs, one of CZ on odd bonds."""
    from dqnn.model.families import Circuit, Gate, Rot
    from dqnn.model.network import Network, Perceptron

    pair = Circuit(4, [Rot("Y", (0,)), Rot("Y", (1,)), Gate("CZ", (0, 1)), Gate("SWAP", (0, 2)), Gate("SWAP", (1, 3))])
    lone = Circuit(2, [Rot("Y", (0,)), Gate("SWAP", (0, 1))])
    cz = Circuit(4, [Gate("CZ", (0, 1)), Gate("SWAP", (0, 2)), Gate("SWAP", (1, 3))])
    move = Circuit(2, [Gate("SWAP", (0, 1))])
    rows = []
    for _ in range(layers):
        row = [Perceptron([j, j + 1], [j, j + 1], pair) for j in range(0, n - 1, 2)]
        if n % 2:
            row.append(Perceptron([n - 1], [n - 1], lone))
        rows.append(row)
        row = [Perceptron([j, j + 1], [j, j + 1], cz) for j in range(1, n - 1, 2)]
        row.append(Perceptron([0], [0], move))
        if n % 2 == 0:
            row.append(Perceptron([n - 1], [n - 1], move))
        rows.append(row)
    return Network([n] * (2 * layers + 1), rows)


def dqnn_params(net, workload: str, theta):  # type: ignore[no-untyped-def]
    """The DQNN parameters holding the workload's angles ``theta`` (P,) (angle ``l*n + i``: R_y on qubit i, layer l)."""
    import jax.numpy as jnp

    n = net.num_inputs
    out = []
    for row in range(net.depth):
        params = []
        for p in net.layers[row]:
            k = p.unitary.num_angles
            if k == 0:
                params.append({"theta": jnp.zeros(0), "haar": ()})
                continue
            base = (row // 2) * n + p.inputs[0] if workload == "B" else p.inputs[0]
            params.append({"theta": theta[base : base + k], "haar": ()})
        out.append(tuple(params))
    return tuple(out)


def dqnn_engine(workload: str, n: int, layers: int, cost: str, samples: int, engine: str = "auto"):  # type: ignore[no-untyped-def]
    """dqnn: gradients at the given angles (like every peer), ``jit(vmap(jvp))`` of the DQNN's cost.

    A is the Fig. 3a DQNN, B :func:`dqnn_hea`. ``auto`` uses what :func:`dqnn.trainability.sampling.pick_engine`
    uses for Fig. 3a (independent components for the global cost, light cones for the local cost) and the
    plain simulator for B (one connected network whose light cones cover most of it at these depths);
    ``full`` forces the plain simulator everywhere.
    """
    import jax
    import jax.numpy as jnp

    from dqnn.gradients import grad_autodiff, grad_cost
    from dqnn.model.angles import AngleIndex
    from dqnn.presets import architectures
    from dqnn.presets.problems import zero_pair
    from dqnn.sim import components, cone_engine, cone_gradients, lightcone

    if workload == "D":
        return dqnn_d_engine(n, layers, samples)
    net = architectures.fig3a(n, 1) if workload == "A" else dqnn_hea(n, layers)
    x, t = zero_pair(n, cost)  # type: ignore[arg-type]
    zeros = jnp.tile(jnp.array([1.0, 0.0], dtype=jnp.complex128), (n, 1))
    cost_fn = None  # None: the full simulator
    if engine == "auto" and workload == "A" and cost == "global":
        comps = components.components(net)
        cost_fn = lambda p: components.global_cost_components(net, p, zeros, zeros, comps)  # noqa: E731
    elif engine == "auto" and workload == "A":
        cones = lightcone.light_cones(net)
        cost_fn = lambda p: cone_engine.local_cost_lightcone(net, p, zeros, zeros, cones)  # noqa: E731

    idx = AngleIndex(0, 0, 0)
    if engine == "auto" and workload == "B" and cost == "local":  # as the variance engine does for fig3b
        at = cone_gradients.local_gradient_at(net, idx, zeros, zeros)
        fn = jax.jit(jax.vmap(lambda th: at(dqnn_params(net, workload, th))))
        return (lambda th: np.asarray(fn(th))), min(samples, CONE_CHUNK)
    if cost_fn is None:  # grad_cost: the packed pass (dqnn.sim.packed) for real networks, as the variance engine uses
        fn = jax.jit(jax.vmap(lambda th: grad_cost(net, dqnn_params(net, workload, th), x, t, cost, idx)))
    else:
        fn = jax.jit(jax.vmap(lambda th: grad_autodiff(cost_fn, dqnn_params(net, workload, th), idx)))
    c = min(samples, 1000 if workload == "A" and engine == "auto" else 256 if n <= 12 else 32)
    if workload == "B":
        c = min(samples, B_CHUNK if n <= 12 else 16)
    return (lambda th: np.asarray(fn(th))), c


def dqnn_full_engine(workload: str, n: int, layers: int, cost: str, samples: int):  # type: ignore[no-untyped-def]
    """dqnn with the plain simulator only (no components, no light cones), for comparison."""
    return dqnn_engine(workload, n, layers, cost, samples, engine="full")


# ---------------------------------------------------------------------------------------- TensorCircuit
def tc_engine(workload: str, n: int, layers: int, cost: str, samples: int):  # type: ignore[no-untyped-def]
    """TensorCircuit-NG on JAX: ``K.jit(K.vmap(K.grad(cost)))``."""
    import jax.numpy as jnp
    import tensorcircuit as tc

    K = tc.set_backend("jax")
    tc.set_dtype("complex128")
    if workload == "D":
        return tc_d_engine(tc, K, n, layers, samples)

    def circuit(theta):  # type: ignore[no-untyped-def]
        c = tc.Circuit(n)
        if workload == "A":
            for i in range(n):
                c.ry(i, theta=theta[i])
            return c
        for l in range(layers):
            for i in range(n):
                c.ry(i, theta=theta[l * n + i])
            for i in range(0, n - 1, 2):
                c.cz(i, i + 1)
            for i in range(1, n - 1, 2):
                c.cz(i, i + 1)
        return c

    def f(theta):  # type: ignore[no-untyped-def]
        c = circuit(theta)
        if cost == "global":
            return 1.0 - jnp.abs(c.state()[0]) ** 2
        z = jnp.stack([jnp.real(c.expectation_ps(z=[j])) for j in range(n)])
        return 1.0 - jnp.mean((1.0 + z) / 2.0)

    g = K.jit(K.vmap(K.grad(f), vectorized_argnums=0))
    c = min(samples, 256 if n <= 12 else 64)
    return (lambda th: np.asarray(g(th))[:, 0]), c


def tc_d_engine(tc, K, n: int, layers: int, samples: int):  # type: ignore[no-untyped-def]
    """TensorCircuit-NG on D as a user writes it: one ``Circuit`` on all ``n (L + 1)`` qubits, ``any`` gates."""
    import jax.numpy as jnp

    total, per = n * (layers + 1), d_perceptrons(n, layers)

    def cost(theta, us):  # type: ignore[no-untyped-def]
        c = tc.Circuit(total)
        for k, (ins, out) in enumerate(per):
            if k == 0:  # A R_y(theta) B, B first
                c.any(*ins, out, unitary=us[-1])
                c.ry(ins[0], theta=theta)
            c.any(*ins, out, unitary=us[k])
        psi = jnp.reshape(c.state(), (2 ** (total - n), 2**n))
        return 1.0 - jnp.sum(jnp.abs(psi[:, 0]) ** 2)

    def sample(seed):  # type: ignore[no-untyped-def]
        theta, us = d_draw_jax(seed, n, layers)
        return K.grad(cost)(theta, us)

    g = K.jit(K.vmap(sample, vectorized_argnums=0))
    c = min(samples, 64 if total <= 14 else 8)
    return (lambda th: np.asarray(g(th[:, 0]))), c


def tc_dm_engine(workload: str, n: int, layers: int, cost: str, samples: int):  # type: ignore[no-untyped-def]
    """TensorCircuit-NG density matrices on D (JAX): ``K.jit(K.vmap(K.grad(cost)))``, layer by layer.

    Written as a user writes a DQNN with ``DMCircuit``: per layer pair ``l -> l + 1``, a ``DMCircuit`` on ``2 n``
    qubits (qubits ``0..n-1`` layer ``l``, loaded as ``rho_l (x) |0..0><0..0|``; qubits ``n..2n-1`` layer
    ``l + 1``), the ``n`` perceptrons as ``any`` gates (perceptron 0 of layer 0 ``A R_y(theta) B``), then
    ``tc.quantum.reduced_density_matrix`` traces out layer ``l``. Global cost ``1 - <0..0|rho_L|0..0>``. The draws
    are :func:`d_draw_jax`'s, as in :func:`tc_d_engine` (same seed: the same gradient up to rounding).
    """
    import tensorcircuit as tc

    _need_d(workload, "tc-dm")
    K = tc.set_backend("jax")
    tc.set_dtype("complex128")
    import jax.numpy as jnp

    zero = jnp.zeros((2**n, 2**n), dtype=jnp.complex128).at[0, 0].set(1.0)
    ins = list(range(n))

    def cost_fn(theta, us):  # type: ignore[no-untyped-def]
        rho = zero
        for l in range(layers):
            c = tc.DMCircuit(2 * n, dminputs=jnp.kron(rho, zero))
            for j in range(n):
                if l == j == 0:  # A R_y(theta) B, B first
                    c.any(*ins, n, unitary=us[-1])
                    c.ry(0, theta=theta)
                c.any(*ins, n + j, unitary=us[l * n + j])
            rho = tc.quantum.reduced_density_matrix(c.densitymatrix(), cut=ins, normalize=False)
        return 1.0 - jnp.real(rho[0, 0])

    def sample(seed):  # type: ignore[no-untyped-def]
        theta, us = d_draw_jax(seed, n, layers)
        return K.grad(cost_fn)(theta, us)

    g = K.jit(K.vmap(sample, vectorized_argnums=0))
    return (lambda th: np.asarray(g(th[:, 0]))), min(samples, _dm_chunk(n))


# -------------------------------------------------------------------------------------------- PennyLane
def _pl_ops(qml, theta, workload: str, n: int, layers: int) -> None:  # type: ignore[no-untyped-def]
    if workload == "A":
        for i in range(n):
            qml.RY(theta[i], wires=i)
        return
    for l in range(layers):
        for i in range(n):
            qml.RY(theta[l * n + i], wires=i)
        for i in range(0, n - 1, 2):
            qml.CZ(wires=[i, i + 1])
        for i in range(1, n - 1, 2):
            qml.CZ(wires=[i, i + 1])


def pl_jax_engine(workload: str, n: int, layers: int, cost: str, samples: int):  # type: ignore[no-untyped-def]
    """PennyLane default.qubit with JAX backprop: ``jax.jit(jax.vmap(jax.grad(cost)))``."""
    import jax

    jax.config.update("jax_enable_x64", True)  # PennyLane leaves JAX in float32; complex128 like the others
    import jax.numpy as jnp
    import pennylane as qml

    if workload == "D":
        return pl_d_engine(qml, n, layers, samples)
    dev = qml.device("default.qubit", wires=n)

    @qml.qnode(dev, interface="jax", diff_method="backprop")
    def circ(theta):  # type: ignore[no-untyped-def]
        _pl_ops(qml, theta, workload, n, layers)
        if cost == "global":
            return qml.probs(wires=range(n))
        return [qml.expval(qml.PauliZ(j)) for j in range(n)]

    def f(theta):  # type: ignore[no-untyped-def]
        out = circ(theta)
        if cost == "global":
            return 1.0 - out[0]
        return 1.0 - jnp.mean((1.0 + jnp.stack(out)) / 2.0)

    g = jax.jit(jax.vmap(jax.grad(f)))
    c = min(samples, 256 if n <= 12 else 64)
    return (lambda th: np.asarray(g(th))[:, 0]), c


def pl_d_engine(qml, n: int, layers: int, samples: int):  # type: ignore[no-untyped-def]
    """PennyLane default.qubit (JAX backprop) on D: one register of ``n (L + 1)`` qubits, ``QubitUnitary``."""
    import jax

    total, per = n * (layers + 1), d_perceptrons(n, layers)
    dev = qml.device("default.qubit", wires=total)

    @qml.qnode(dev, interface="jax", diff_method="backprop")
    def circ(theta, us):  # type: ignore[no-untyped-def]
        for k, (ins, out) in enumerate(per):
            if k == 0:
                qml.QubitUnitary(us[-1], wires=[*ins, out])
                qml.RY(theta, wires=ins[0])
            qml.QubitUnitary(us[k], wires=[*ins, out])
        return qml.probs(wires=range(total - n, total))

    def sample(seed):  # type: ignore[no-untyped-def]
        theta, us = d_draw_jax(seed, n, layers)
        return jax.grad(lambda t: 1.0 - circ(t, us)[0])(theta)

    g = jax.jit(jax.vmap(sample))
    c = min(samples, 64 if total <= 14 else 8)
    return (lambda th: np.asarray(g(th[:, 0]))), c


def pl_mixed_engine(workload: str, n: int, layers: int, cost: str, samples: int):  # type: ignore[no-untyped-def]
    """PennyLane ``default.mixed`` (JAX backprop) on D, layer by layer: ``jax.jit(jax.vmap(jax.grad(cost)))``.

    One QNode on ``2 n`` wires per layer pair ``l -> l + 1``: ``qml.QubitDensityMatrix(rho_l, wires=0..n-1)`` (the
    other wires stay ``|0..0>``), the ``n`` perceptrons as ``QubitUnitary`` (perceptron 0 of layer 0
    ``A R_y(theta) B``), ``qml.density_matrix(wires=n..2n-1)`` the next layer's input. Global cost
    ``1 - <0..0|rho_L|0..0>``; draws of :func:`d_draw_jax`, as in :func:`pl_d_engine`.
    """
    import jax

    jax.config.update("jax_enable_x64", True)  # as in pl_jax_engine: complex128, and d_draw_jax's float64 draws
    import jax.numpy as jnp
    import pennylane as qml

    _need_d(workload, "pl-mixed")
    dev = qml.device("default.mixed", wires=2 * n)
    ins = list(range(n))

    @qml.qnode(dev, interface="jax", diff_method="backprop")
    def layer(rho, us, theta, first: bool):  # type: ignore[no-untyped-def]
        qml.QubitDensityMatrix(rho, wires=ins)
        for j in range(n):
            if first and j == 0:
                qml.QubitUnitary(us[-1], wires=[*ins, n])
                qml.RY(theta, wires=0)
            qml.QubitUnitary(us[j], wires=[*ins, n + j])
        return qml.density_matrix(wires=range(n, 2 * n))

    zero = jnp.zeros((2**n, 2**n), dtype=jnp.complex128).at[0, 0].set(1.0)

    def cost_fn(theta, us):  # type: ignore[no-untyped-def]
        rho = zero
        for l in range(layers):
            row = us[l * n : (l + 1) * n] if l else jnp.concatenate([us[:n], us[-1:]])
            rho = layer(rho, row, theta, l == 0)
        return 1.0 - jnp.real(rho[0, 0])

    def sample(seed):  # type: ignore[no-untyped-def]
        theta, us = d_draw_jax(seed, n, layers)
        return jax.grad(cost_fn)(theta, us)

    g = jax.jit(jax.vmap(sample))
    return (lambda th: np.asarray(g(th[:, 0]))), min(samples, _dm_chunk(n))


def pl_lightning_engine(workload: str, n: int, layers: int, cost: str, samples: int):  # type: ignore[no-untyped-def]
    """PennyLane lightning.qubit with the adjoint method (autograd interface), one sample per call."""
    import pennylane as qml
    from pennylane import numpy as pnp

    dev = qml.device("lightning.qubit", wires=n)
    if cost == "global":
        obs = qml.Projector([0] * n, wires=range(n))
    else:
        obs = qml.sum(*[qml.PauliZ(j) for j in range(n)])

    @qml.qnode(dev, diff_method="adjoint")
    def circ(theta):  # type: ignore[no-untyped-def]
        _pl_ops(qml, theta, workload, n, layers)
        return qml.expval(obs)

    def f(theta):  # type: ignore[no-untyped-def]
        e = circ(theta)
        return 1.0 - e if cost == "global" else 1.0 - (1.0 + e / n) / 2.0

    g = qml.grad(f)

    def run(th: np.ndarray) -> np.ndarray:
        return np.array([float(g(pnp.array(t, requires_grad=True))[0]) for t in th])

    return run, 1


# ----------------------------------------------------------------------------------------------- Qiskit
def qiskit_engine(workload: str, n: int, layers: int, cost: str, samples: int):  # type: ignore[no-untyped-def]
    """Qiskit ``Statevector`` of the bound circuit, parameter shift (two statevectors per gradient)."""
    from qiskit import QuantumCircuit
    from qiskit.circuit import ParameterVector
    from qiskit.quantum_info import Statevector

    if workload == "D":
        return qiskit_d_engine(n, layers)
    p = num_angles(workload, n, layers)
    th = ParameterVector("t", p)
    qc = QuantumCircuit(n)
    if workload == "A":
        for i in range(n):
            qc.ry(th[i], i)
    else:
        for l in range(layers):
            for i in range(n):
                qc.ry(th[l * n + i], i)
            for i in range(0, n - 1, 2):
                qc.cz(i, i + 1)
            for i in range(1, n - 1, 2):
                qc.cz(i, i + 1)

    def f(vals: np.ndarray) -> float:
        probs = Statevector(qc.assign_parameters(vals)).probabilities()
        if cost == "global":
            return 1.0 - float(probs[0])
        t = probs.reshape((2,) * n)
        zero = [t.sum(axis=tuple(a for a in range(n) if a != j))[0] for j in range(n)]
        return 1.0 - float(np.mean(zero))

    shift = np.zeros(p)
    shift[0] = np.pi / 2

    def run(thetas: np.ndarray) -> np.ndarray:
        return np.array([0.5 * (f(t + shift) - f(t - shift)) for t in thetas])

    return run, 1


def _haar_np(rng: np.random.Generator, dim: int) -> np.ndarray:
    """One Haar unitary (dim, dim) in NumPy: QR of a complex Ginibre matrix, phases fixed (Mezzadri)."""
    z = (rng.normal(size=(dim, dim)) + 1j * rng.normal(size=(dim, dim))) / np.sqrt(2.0)
    q, r = np.linalg.qr(z)
    dg = np.diagonal(r)
    return q * (dg / np.abs(dg))[None, :]


def qiskit_d_engine(n: int, layers: int):  # type: ignore[no-untyped-def]
    """Qiskit on D: ``Statevector`` of one register of ``n (L + 1)`` qubits, NumPy Haar draws, parameter shift."""
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import Statevector

    total, per = n * (layers + 1), d_perceptrons(n, layers)

    def f(theta: float, us: list[np.ndarray]) -> float:
        qc = QuantumCircuit(total)
        for k, (ins, out) in enumerate(per):
            if k == 0:
                qc.unitary(us[-1], [*ins, out])
                qc.ry(theta, ins[0])
            qc.unitary(us[k], [*ins, out])
        probs = Statevector(qc).probabilities(list(range(total - n, total)))
        return 1.0 - float(probs[0])

    def run(seeds: np.ndarray) -> np.ndarray:
        out = []
        for s in seeds[:, 0]:
            rng = np.random.default_rng(int(s))
            theta = rng.uniform(0, 2 * np.pi)
            us = [_haar_np(rng, 2 ** (n + 1)) for _ in range(len(per) + 1)]
            out.append(0.5 * (f(theta + np.pi / 2, us) - f(theta - np.pi / 2, us)))
        return np.array(out)

    return run, 1


def qiskit_dm_engine(workload: str, n: int, layers: int, cost: str, samples: int):  # type: ignore[no-untyped-def]
    """Qiskit ``DensityMatrix`` on D, layer by layer with ``partial_trace``; NumPy Haar draws, parameter shift.

    Per layer pair ``l -> l + 1`` a ``QuantumCircuit`` on ``2 n`` qubits (``0..n-1`` layer ``l``, ``n..2n-1``
    layer ``l + 1``) evolves ``rho_l.expand(|0..0>)`` (``rho_l`` on the low qubits); ``partial_trace`` over
    ``0..n-1`` gives ``rho_{l+1}``. The draws and qubit wiring are :func:`qiskit_d_engine`'s (same seed: the same
    gradient up to rounding).
    """
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import DensityMatrix, partial_trace

    _need_d(workload, "qiskit-dm")
    ins = list(range(n))
    zero = DensityMatrix.from_label("0" * n)

    def f(theta: float, us: list[np.ndarray]) -> float:
        rho = zero
        for l in range(layers):
            qc = QuantumCircuit(2 * n)
            for j in range(n):
                if l == j == 0:
                    qc.unitary(us[-1], [*ins, n])
                    qc.ry(theta, 0)
                qc.unitary(us[l * n + j], [*ins, n + j])
            rho = partial_trace(rho.expand(zero).evolve(qc), ins)
        return 1.0 - float(np.real(rho.data[0, 0]))

    def run(seeds: np.ndarray) -> np.ndarray:
        out = []
        for s in seeds[:, 0]:
            rng = np.random.default_rng(int(s))
            theta = rng.uniform(0, 2 * np.pi)
            us = [_haar_np(rng, 2 ** (n + 1)) for _ in range(n * layers + 1)]
            out.append(0.5 * (f(theta + np.pi / 2, us) - f(theta - np.pi / 2, us)))
        return np.array(out)

    return run, 1


ENGINES = {
    "dqnn": dqnn_engine,
    "dqnn-full": dqnn_full_engine,
    "tc": tc_engine,
    "pl-jax": pl_jax_engine,
    "pl-lightning": pl_lightning_engine,
    "qiskit": qiskit_engine,
    "tc-dm": tc_dm_engine,
    "pl-mixed": pl_mixed_engine,
    "qiskit-dm": qiskit_dm_engine,
}
#: Modules each engine imports, loaded before the clock of ``compile_s`` starts (reported as ``import_s``).
IMPORTS = {
    "dqnn": ["jax", "dqnn", "dqnn.sim.cone_engine", "dqnn.sim.cone_gradients", "dqnn.sim.components"],
    "dqnn-full": ["jax", "dqnn"],
    "tc": ["jax", "tensorcircuit"],
    "pl-jax": ["jax", "pennylane"],
    "pl-lightning": ["pennylane"],
    "qiskit": ["qiskit", "qiskit.quantum_info"],
    "tc-dm": ["jax", "tensorcircuit"],
    "pl-mixed": ["jax", "pennylane"],
    "qiskit-dm": ["qiskit", "qiskit.quantum_info"],
}


def main() -> None:
    """Run one case and print its JSON line."""
    engine, workload, n, layers, cost, samples, budget = sys.argv[1:8]
    n_, l_, s_, b_ = int(n), int(layers), int(samples), float(budget)
    rng = np.random.default_rng(1234)
    p = num_angles(workload, n_, l_)
    rss0 = rss_mb()
    t0 = time.perf_counter()
    for mod in IMPORTS[engine]:
        importlib.import_module(mod)
    import_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    run, c = ENGINES[engine](workload, n_, l_, cost, s_)
    # the same S angles for every engine whatever its batch c (rows of one stream), drawn before any timing
    angles = rng.uniform(0, 2 * np.pi, (-(-s_ // c) * c, p))
    if workload == "D":  # per-sample seeds (each engine draws its initialisation from them)
        angles = np.arange(angles.shape[0], dtype=np.uint32)[:, None]
    blocks = [angles[i : i + c] for i in range(0, angles.shape[0], c)]
    run(blocks[0])  # compiles
    compile_s = time.perf_counter() - t0
    grads = []
    done = 0
    t0 = time.perf_counter()
    # at least S samples and MIN_TIMED_S seconds (fast engines repeat the S angles), at most `budget` seconds
    while (done < s_ or time.perf_counter() - t0 < MIN_TIMED_S) and time.perf_counter() - t0 < b_:
        g = run(blocks[(done // c) % len(blocks)])
        if done < s_:
            grads.append(g[: min(c, s_ - done)])
        done += c
    run_s = time.perf_counter() - t0
    g = np.concatenate(grads)
    out = {
        "engine": engine,
        "workload": workload,
        "n": n_,
        "layers": l_,
        "cost": cost,
        "import_s": import_s,
        "compile_s": compile_s,
        "samples": done,
        "run_s": run_s,
        "samples_per_s": done / run_s if run_s > 0 else float("nan"),
        "peak_rss_mb": rss_mb(),
        "rss_delta_mb": rss_mb() - rss0,
        "variance": float(np.var(g)),
        # standard error of the sample variance (fourth central moment), for comparing engines
        "variance_se": float(np.sqrt(max(np.mean((g - g.mean()) ** 4) - np.var(g) ** 2, 0.0) / len(g))),
    }
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
