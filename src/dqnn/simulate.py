"""The exact layer-by-layer simulator of Eq. (1).

It never builds the unitary of the whole network. Layer ``l -> l+1`` is simulated on the qubits of those
two layers only: an output qubit joins the register (in |0>) when a perceptron first acts on it with a
non-trivial gate, and an input qubit leaves it (partial trace) as soon as no later perceptron of the layer
touches it. Two exact savings come from the structure, with no approximation:

- a qubit known to be in |0> is not stored until a gate needs it (so layer widths cost nothing until used);
- a SWAP with a qubit known to be in |0> is a relabelling (the Fig. 3a/3b perceptrons move states this way),
  and tracing out a qubit known to be in |0> is free and keeps the state pure.

State form. The register's state is kept as a factorisation ``rho = A B^dagger`` with ``A``, ``B`` of shape
``(2,)*q + (r,)`` (``q`` stored qubits, one axis each, then the rank axis):

- a pure state or a purification ``Psi`` (``r`` below ``d = 2**q``): ``A = B = Psi`` (stored once);
- once tracing makes ``r >= d``, the density matrix ``rho`` (d x d) is formed and kept as ``A = rho``,
  ``B = 1``. Unitaries act on ``A`` and ``B`` alike; adding |0> qubits grows them by 2 per qubit (not 4,
  as a dense ``rho`` would) and tracing a qubit folds it into the rank axis.

So peak memory is ``2**(q + r_bits)`` for the two adjacent layers, never the whole network.
All functions are pure and traceable (jit, vmap, grad) for a fixed network structure.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike

from dqnn import states
from dqnn._jax import Array
from dqnn.families import GateOp, SwapOp
from dqnn.network import Network, NetworkParams

Label = tuple[str, int]


@dataclass(frozen=True)
class Factors:
    """``rho = a @ b.conj().T`` with ``a``, ``b`` of shape (d, r); ``b is None`` means ``b = a`` (pure or purified).

    Qubit order of the ``d = 2**n`` axis: qubit 0 most significant (see :mod:`dqnn`).
    """

    a: Array
    b: Array | None

    def density(self) -> Array:
        """The (d, d) density matrix, made exactly Hermitian."""
        if self.b is None:
            return self.a @ self.a.conj().T
        m = self.a @ self.b.conj().T
        return 0.5 * (m + m.conj().T)


class _Register:
    """Static bookkeeping (Python, not traced) plus the traced factor tensors of one simulation."""

    def __init__(self, labels: list[Label], a: Array, b: Array | None):
        self.labels = labels  # label of ket axis i
        self.zeros: set[Label] = set()  # qubits in |0> that are not stored
        self.a = a
        self.b = b
        self.peak = self.q + int(np.log2(self.r))  # log2 of the largest factor held so far

    @property
    def q(self) -> int:
        return len(self.labels)

    @property
    def r(self) -> int:
        return int(self.a.shape[-1])

    def _map(self, f) -> None:  # type: ignore[no-untyped-def]
        self.a = f(self.a)
        if self.b is not None:
            self.b = f(self.b)
        self.peak = max(self.peak, int(np.log2(self.a.size)))

    def add_zero(self, label: Label) -> None:
        self.zeros.add(label)

    def materialise(self, label: Label) -> None:
        if label in self.labels:
            return
        if label not in self.zeros:
            raise AssertionError(f"qubit {label} is neither stored nor known to be |0>")
        self.zeros.discard(label)
        q = self.q
        pad = [(0, 0)] * (q + 1)

        def grow(t: Array) -> Array:
            t = jnp.expand_dims(t, q)
            return jnp.pad(t, pad[:q] + [(0, 1)] + pad[q:])

        self._map(grow)
        self.labels.append(label)

    def swap(self, x: Label, y: Label) -> None:
        sx, sy = x in self.labels, y in self.labels
        if sx and sy:
            ix, iy = self.labels.index(x), self.labels.index(y)
            self.labels[ix], self.labels[iy] = y, x
        elif sx or sy:
            stored, zero = (x, y) if sx else (y, x)
            self.labels[self.labels.index(stored)] = zero
            self.zeros.discard(zero)
            self.zeros.add(stored)
        # both |0>: nothing to do

    def apply(self, u: Array, wires: list[Label]) -> None:
        for w in wires:
            self.materialise(w)
        axes = [self.labels.index(w) for w in wires]
        g = len(axes)
        ut = jnp.reshape(u, (2,) * (2 * g))

        def act(t: Array) -> Array:
            t = jnp.tensordot(ut, t, axes=(list(range(g, 2 * g)), axes))
            return jnp.moveaxis(t, list(range(g)), axes)

        self._map(act)

    def trace_out(self, label: Label) -> None:
        if label in self.zeros:
            self.zeros.discard(label)
            return
        i = self.labels.index(label)
        q, r = self.q, self.r

        def fold(t: Array) -> Array:
            t = jnp.moveaxis(t, i, q - 1)
            return jnp.reshape(t, t.shape[: q - 1] + (2 * r,))

        self._map(fold)
        self.labels.pop(i)
        if self.r >= 2**self.q and self.r > 1:
            self._compress()

    def _compress(self) -> None:
        """Replace ``A B^dagger`` (rank axis >= d) by ``(rho, 1)``."""
        d = 2**self.q
        a = jnp.reshape(self.a, (d, self.r))
        b = a if self.b is None else jnp.reshape(self.b, (d, self.r))
        rho = a @ b.conj().T
        self.a = jnp.reshape(rho, (2,) * self.q + (d,))
        self.b = jnp.reshape(jnp.eye(d, dtype=rho.dtype), (2,) * self.q + (d,))

    def canonical(self, labels: list[Label]) -> None:
        """Store exactly ``labels`` in that axis order (materialising |0> qubits as needed)."""
        for lab in labels:
            self.materialise(lab)
        if set(self.labels) != set(labels):
            raise AssertionError(f"register holds {self.labels}, expected {labels}")
        perm = [self.labels.index(lab) for lab in labels] + [self.q]
        self._map(lambda t: jnp.transpose(t, perm))
        self.labels = list(labels)

    def factors(self) -> Factors:
        d = 2**self.q
        a = jnp.reshape(self.a, (d, self.r))
        b = None if self.b is None else jnp.reshape(self.b, (d, self.r))
        return Factors(a, b)


def _layer_schedule(net: Network, l: int) -> tuple[list[int], dict[int, list[int]]]:
    """Inputs of layer ``l`` touched by nobody, and for each perceptron the inputs to trace after it."""
    last: dict[int, int] = {}
    for j, p in enumerate(net.layers[l]):
        for q in p.inputs:
            last[q] = j
    untouched = [q for q in range(net.widths[l]) if q not in last]
    after: dict[int, list[int]] = {}
    for q, j in sorted(last.items()):
        after.setdefault(j, []).append(q)
    return untouched, after


def _run_layer(reg: _Register, net: Network, params: NetworkParams, l: int) -> None:
    untouched, after = _layer_schedule(net, l)
    for q in untouched:
        reg.trace_out(("in", q))
    for q in range(net.widths[l + 1]):
        reg.add_zero(("out", q))
    for j, p in enumerate(net.layers[l]):
        wires = p.wires
        for op in p.unitary.ops(params[l][j]):
            if isinstance(op, SwapOp):
                reg.swap(wires[op.wires[0]], wires[op.wires[1]])
            else:
                assert isinstance(op, GateOp)
                reg.apply(op.matrix, [wires[w] for w in op.wires])
        for q in after.get(j, []):
            reg.trace_out(("in", q))
    # relabel the new layer as the next layer's inputs
    reg.labels = [("in", q) for (_, q) in reg.labels]
    reg.zeros = {("in", q) for (_, q) in reg.zeros}


def _initial_register(net: Network, rho_in: ArrayLike) -> _Register:
    kind, arr = states.as_input(rho_in, net.num_inputs)
    n0 = net.num_inputs
    labels: list[Label] = [("in", q) for q in range(n0)]
    if kind == "pure":
        return _Register(labels, jnp.reshape(arr, (2,) * n0 + (1,)), None)
    d = 2**n0
    eye = jnp.eye(d, dtype=arr.dtype)
    return _Register(labels, jnp.reshape(arr, (2,) * n0 + (d,)), jnp.reshape(eye, (2,) * n0 + (d,)))


def output_factors(net: Network, params: NetworkParams, rho_in: ArrayLike) -> Factors:
    """The output state of Eq. (1) in factored form (see :class:`Factors`); cheapest for costs.

    ``rho_in``: (2**n_in,) state vector or (2**n_in, 2**n_in) density matrix (validated when concrete).
    """
    reg = _initial_register(net, rho_in)
    for l in range(net.depth):
        _run_layer(reg, net, params, l)
    reg.canonical([("in", q) for q in range(net.num_outputs)])
    return reg.factors()


def output_state(net: Network, params: NetworkParams, rho_in: ArrayLike) -> Array:
    """The output density matrix ``(2**n_out, 2**n_out)`` of Eq. (1)."""
    return output_factors(net, params, rho_in).density()


def peak_stored_qubits(net: Network, pure_input: bool = True) -> int:
    """log2 of the largest factor tensor (stored qubits + rank bits) the simulator holds, for planning.

    Runs the schedule on abstract shapes only (no arithmetic).
    """
    d = 2**net.num_inputs
    x = jnp.zeros(d, jnp.complex128).at[0].set(1.0) if pure_input else jnp.eye(d, dtype=jnp.complex128) / d
    peak = 0

    def run(params: NetworkParams) -> Array:
        nonlocal peak
        reg = _initial_register(net, x)
        for l in range(net.depth):
            _run_layer(reg, net, params, l)
        peak = reg.peak
        return reg.a

    jax.eval_shape(run, jax.eval_shape(net.init, jax.random.key(0)))
    return peak
