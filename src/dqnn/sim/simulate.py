"""The exact layer-by-layer simulator of Eq. (1).

It never builds the unitary of the whole network. Layer ``l -> l+1`` is simulated on the qubits of those
two layers only: an output qubit joins the register (in |0>) when a perceptron first acts on it with a
non-trivial gate, and an input qubit leaves it (partial trace) as soon as no later perceptron of the layer
touches it (:func:`dqnn.sim.schedule.layer_schedule`). Two exact savings come from the structure, with no approximation:

- a qubit known to be in |0> is not stored until a gate needs it (so layer widths cost nothing until used);
- a SWAP with a qubit known to be in |0> is a relabelling (the Fig. 3a/3b perceptrons move states this way),
  and tracing out a qubit known to be in |0> is free and keeps the state pure.

State form. The register's state is kept as a factorisation ``rho = A B^dagger`` with ``A``, ``B`` of shape
``(2,)*q + (r,)`` (``q`` stored qubits, one axis each, then the rank axis):

- a pure state or a purification ``Psi`` (``r`` below ``d = 2**q``): ``A = B = Psi`` (stored once);
- once tracing makes ``r >= d``, the density matrix ``rho`` (d x d) is formed and kept as ``A = rho``,
  ``B = 1``. Unitaries act on ``A`` and ``B`` alike; adding |0> qubits grows them by 2 per qubit (not 4,
  as a dense ``rho`` would) and tracing a qubit folds it into the rank axis. (``B = 1`` carries no tangent
  under ``jax.jvp`` before the differentiated gate's layer. A square-root form, one factor ``Psi``
  re-compressed to ``d x d`` by a QR when ``r > d``, or kept when ``r == d``, measured no faster on CPU:
  LAPACK's QR of the tall ``(r, d)`` matrices runs at level-2 speed; ``benchmarks/results_roofline.md``.)

So peak memory is ``2**(q + r_bits)`` for the two adjacent layers, never the whole network.

Speed (exact, no approximation): each perceptron's consecutive gates on <= 2 wires are multiplied first
(:func:`dqnn.model.families.fuse`); gates on <= ``SLICED_MAX_QUBITS`` qubits are applied by
:func:`dqnn.sim.kernel.apply_gate` as sums of sliced products (one fused pass over memory, no transpose);
fixed diagonal gates (CZ, phases) are held back and each run of them, across perceptrons, is applied as one
product (``FUSE_DIAGONALS``); a block of layers repeated at least ``SCAN_MIN_REPEATS`` times runs as a
``lax.scan`` (:func:`_plan`, :func:`_run_network`), so compile time does not grow with the depth.
Real arithmetic: when every perceptron's matrices are real (``Network.real``: ``R_y``, CZ, CNOT, SWAP, ...)
and the input state is real (a float array, or a concrete complex one with no imaginary part: ``|0...0>``,
basis and real product states), the state is kept in float64: the same numbers for about half the work.
Otherwise complex128, and also for networks with scanned blocks (:func:`real_arithmetic`): XLA's CPU fusion
emitters compiled float64 ``while`` loops of this simulator pathologically slowly and memory-hungrily, where
the same programs in complex128, or unrolled, compile quickly (measurements: ``benchmarks/results_simulate.md``).
For such networks the derivative
of one angle uses the imaginary part instead (:mod:`dqnn.sim.packed`, ``output_factors(..., packed=True)``).
:func:`output_factors` returns the factors in the dtype simulated; :func:`output_state` is always complex128.

All functions are pure and traceable (jit, vmap, grad) for a fixed network structure.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike

from dqnn._jax import Array
from dqnn.model import states
from dqnn.model.families import GateOp, SwapOp, family_key, fuse
from dqnn.model.network import Network, NetworkParams, check_params
from dqnn.model.protocol import ChannelOp
from dqnn.sim import channels
from dqnn.sim.kernel import SLICED_MAX_QUBITS as SLICED_MAX_QUBITS
from dqnn.sim.kernel import apply_gate, apply_gate_front, is_diagonal
from dqnn.sim.schedule import layer_schedule

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


#: Hold fixed diagonal gates back and apply each run of them as one product (:meth:`_Register.apply`).
FUSE_DIAGONALS = True
#: Largest number of qubits one combined diagonal spans (it is a constant of ``2**k`` entries in the program).
DIAGONAL_MAX_QUBITS = 12
#: Apply gates on more than ``SLICED_MAX_QUBITS`` wires with their wires moved to the front and unstored |0>
#: qubits joining without padding (:meth:`_Register.apply`); False: materialise, ``tensordot``, move back.
FRONT_GATES = True


class _Register:
    """Static bookkeeping (Python, not traced) plus the traced factor tensors of one simulation."""

    def __init__(self, labels: list[Label], a: Array, b: Array | None, packed: bool = False):
        self.labels = labels  # label of ket axis i
        self.packed = packed  # (state, tangent) in (real, imaginary) parts: see :func:`output_factors`
        self.zeros: set[Label] = set()  # qubits in |0> that are not stored
        self.a = a
        self.b = b
        self.peak = self.q + int(np.log2(self.r))  # log2 of the largest factor held so far
        # fixed diagonal gates not yet applied, in time order: (diagonal entries, wires); see :meth:`apply`
        self.pending: list[tuple[np.ndarray, list[Label]]] = []

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
        rename = {x: y, y: x}  # a pending diagonal follows the qubit's state to its new label
        self.pending = [(d, [rename.get(w, w) for w in ws]) for d, ws in self.pending]
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
        """``u`` on ``wires``. A fixed diagonal gate (CZ, Z, phases) is held back (:attr:`pending`): diagonal
        gates commute, so a run of them is applied later as one product (:meth:`flush`), before any other
        gate on their wires, a trace, or the end of the layer."""
        if FRONT_GATES and len(wires) > SLICED_MAX_QUBITS and self._front(u, wires):
            return
        for w in wires:
            self.materialise(w)
        if FUSE_DIAGONALS and not isinstance(u, jax.core.Tracer) and is_diagonal(np.asarray(u)):
            self.pending.append((np.diag(np.asarray(u)), list(wires)))
            return
        if any(w in ws for _, ws in self.pending for w in wires):
            self.flush()
        axes = [self.labels.index(w) for w in wires]
        self._map(lambda t: apply_gate(t, u, axes))

    def channel(self, kraus: np.ndarray, wires: list[Label]) -> None:
        """A CPTP channel on ``wires`` (:mod:`dqnn.sim.channels`): Kraus images stacked on the rank axis while that
        stays below the dimension, else applied to the density matrix (formed as ``(rho, 1)``)."""
        for w in wires:
            self.materialise(w)
        if any(w in ws for _, ws in self.pending for w in wires):
            self.flush()
        axes = [self.labels.index(w) for w in wires]
        if channels.stack_cheaper(len(kraus), self.r, self.q):
            self.a, self.b = channels.stack(self.a, self.b, kraus, axes)
        else:
            self._compress()
            self.a = channels.on_density(self.a, kraus, axes, self.q)
        self.peak = max(self.peak, int(np.log2(self.a.size)))

    def _front(self, u: Array, wires: list[Label]) -> bool:
        """A large gate (``> SLICED_MAX_QUBITS`` wires, not a held-back diagonal) by
        :func:`~dqnn.sim.kernel.apply_gate_front`: its wires become the leading axes (a relabelling, no
        transpose back) and a wire in |0> that is not stored joins the register without a padding pass, the
        gate's columns for its input bit 1 unused. False (nothing done) for a concrete diagonal gate."""
        if FUSE_DIAGONALS and not isinstance(u, jax.core.Tracer) and is_diagonal(np.asarray(u)):
            return False
        for w in wires:
            if w not in self.labels and w not in self.zeros:
                raise AssertionError(f"qubit {w} is neither stored nor known to be |0>")
        if any(w in ws for _, ws in self.pending for w in wires):
            self.flush()
        axes = [self.labels.index(w) if w in self.labels else None for w in wires]
        self._map(lambda t: apply_gate_front(t, u, axes))
        self.zeros -= set(wires)
        self.labels = list(wires) + [lab for lab in self.labels if lab not in wires]
        return True

    def flush(self) -> None:
        """Apply the pending diagonal gates: one alone in place (:func:`apply_gate`), several as one
        elementwise product with their combined diagonal (one pass over the state instead of one each),
        grouped so that no combined diagonal spans more than ``DIAGONAL_MAX_QUBITS`` qubits."""
        groups: list[list[tuple[np.ndarray, list[Label]]]] = []
        span: set[Label] = set()
        for d, ws in self.pending:
            if not groups or len(span | set(ws)) > DIAGONAL_MAX_QUBITS:
                groups.append([])
                span = set()
            groups[-1].append((d, ws))
            span |= set(ws)
        self.pending = []
        for group in groups:
            self._apply_diagonals(group)

    def _apply_diagonals(self, group: list[tuple[np.ndarray, list[Label]]]) -> None:
        if len(group) == 1:
            d, ws = group[0]
            axes = [self.labels.index(w) for w in ws]
            self._map(lambda t: apply_gate(t, np.diag(d), axes))
            return
        used = sorted({self.labels.index(w) for _, ws in group for w in ws})  # stored axes touched
        total = np.ones((2,) * len(used), dtype=np.result_type(*(d.dtype for d, _ in group)))
        for d, ws in group:
            pos = [used.index(self.labels.index(w)) for w in ws]
            order = sorted(range(len(ws)), key=lambda k: pos[k])
            shape = [2 if i in pos else 1 for i in range(len(used))]
            total = total * np.reshape(np.transpose(np.reshape(d, (2,) * len(ws)), order), shape)
        if np.all(total == 1):
            return
        factor = total.real if np.iscomplexobj(total) and not np.any(total.imag) else total
        factor = np.reshape(factor, [2 if i in used else 1 for i in range(self.q)] + [1])  # 1 on the rank axis
        self._map(lambda t: t * factor)

    def trace_out(self, label: Label) -> None:
        if any(label in ws for _, ws in self.pending):
            self.flush()
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
        if self.packed:  # rho in the real part, its first-order change in the imaginary part
            ar, ai, br, bi = jnp.real(a), jnp.imag(a), jnp.real(b), jnp.imag(b)
            rho = jax.lax.complex(ar @ br.T, ai @ br.T + ar @ bi.T)
        else:
            rho = a @ b.conj().T
        self.a = jnp.reshape(rho, (2,) * self.q + (d,))
        self.b = jnp.reshape(jnp.eye(d, dtype=rho.dtype), (2,) * self.q + (d,))

    def canonical(self, labels: list[Label]) -> None:
        """Store exactly ``labels`` in that axis order (materialising |0> qubits as needed)."""
        self.flush()
        for lab in labels:
            self.materialise(lab)
        if set(self.labels) != set(labels):
            raise AssertionError(f"register holds {self.labels}, expected {labels}")
        perm = [self.labels.index(lab) for lab in labels] + [self.q]
        self._map(lambda t: jnp.transpose(t, perm))
        self.labels = list(labels)

    def factors(self) -> Factors:
        self.flush()
        d = 2**self.q
        a = jnp.reshape(self.a, (d, self.r))
        b = None if self.b is None else jnp.reshape(self.b, (d, self.r))
        return Factors(a, b)


def _run_layer(reg: _Register, net: Network, params: NetworkParams, l: int) -> None:
    untouched, after = layer_schedule(net, l)
    for q in untouched:
        reg.trace_out(("in", q))
    for q in range(net.widths[l + 1]):
        reg.add_zero(("out", q))
    for j, p in enumerate(net.layers[l]):
        wires = p.wires
        for op in fuse(p.unitary.ops(params[l][j])):
            if isinstance(op, SwapOp):
                reg.swap(wires[op.wires[0]], wires[op.wires[1]])
            elif isinstance(op, ChannelOp):
                reg.channel(op.kraus, [wires[w] for w in op.wires])
            else:
                assert isinstance(op, GateOp)
                reg.apply(op.matrix, [wires[w] for w in op.wires])
        for q in after.get(j, []):
            reg.trace_out(("in", q))
    reg.flush()
    # relabel the new layer as the next layer's inputs
    reg.labels = [("in", q) for (_, q) in reg.labels]
    reg.zeros = {("in", q) for (_, q) in reg.zeros}


#: Scan (``lax.scan``) over a block of layers repeated at least this many times in a row (see :func:`_plan`).
SCAN_MIN_REPEATS = 3
#: Longest block of layers looked for when planning scans.
SCAN_MAX_PERIOD = 4
#: Blocks unrolled at most before a repeat that does not keep the register's layout is unrolled entirely.
SCAN_UNROLL_TRIES = 3


class _NotStable(Exception):
    """A scanned block does not return the register to the same static layout (shapes, labels, |0> qubits)."""


def _layer_signature(net: Network, l: int) -> tuple[object, ...]:
    rows = tuple((p.inputs, p.outputs, family_key(p.unitary)) for p in net.layers[l])
    return (net.widths[l], net.widths[l + 1], rows)


def _plan(net: Network) -> list[tuple[int, int, int]]:
    """Segments ``(first layer, period p, repeats k)`` covering the layers in order.

    A block of ``p`` layers with the same structure (widths, wiring, family objects) repeated ``k >=
    SCAN_MIN_REPEATS`` times in a row is one segment (the longest coverage wins); other layers are
    segments ``(l, 1, 1)``.
    """
    sigs = [_layer_signature(net, l) for l in range(net.depth)]
    out = []
    i = 0
    while i < net.depth:
        best = (1, 1)
        for p in range(1, SCAN_MAX_PERIOD + 1):
            k = 1
            while i + (k + 1) * p <= net.depth and sigs[i + k * p : i + (k + 1) * p] == sigs[i : i + p]:
                k += 1
            if k >= SCAN_MIN_REPEATS and k * p > best[0] * best[1]:
                best = (p, k)
        out.append((i, *best))
        i += best[0] * best[1]
    return out


def _scan_blocks(reg: _Register, net: Network, params: NetworkParams, first: int, p: int, k: int) -> None:
    """Run layers ``first .. first + p*k - 1`` (``k`` repeats of a ``p``-layer block) as one ``lax.scan``.

    Raises :class:`_NotStable` (leaving ``reg`` untouched) when one block changes the register's layout.
    """
    labels0, zeros0 = list(reg.labels), set(reg.zeros)
    shape0, pure0, dtype0 = reg.a.shape, reg.b is None, reg.a.dtype
    xs = tuple(states.stack_trees([params[first + m * p + i] for m in range(k)]) for i in range(p))
    peak = [reg.peak]

    def body(carry: tuple[Array, Array | None], block: tuple[object, ...]) -> tuple[tuple[Array, Array | None], None]:
        r = _Register(list(labels0), carry[0], carry[1], reg.packed)
        r.zeros = set(zeros0)
        fake: list[object] = [None] * net.depth
        for i in range(p):
            fake[first + i] = block[i]
        for i in range(p):
            _run_layer(r, net, fake, first + i)  # type: ignore[arg-type]
        if not set(r.labels) <= set(labels0):
            raise _NotStable
        r.canonical(labels0)
        if r.zeros != zeros0 or r.a.shape != shape0 or (r.b is None) != pure0 or r.a.dtype != dtype0:
            raise _NotStable
        peak[0] = max(peak[0], r.peak)
        return (r.a, r.b), None

    (a, b), _ = jax.lax.scan(body, (reg.a, reg.b), xs, length=k)
    reg.a, reg.b = a, b
    reg.peak = peak[0]


def _run_network(reg: _Register, net: Network, params: NetworkParams) -> None:
    """Every layer in order: repeated blocks (:func:`_plan`) as scans, the rest unrolled.

    A repeat is scanned from its first block when the register's layout is already steady there;
    otherwise blocks are unrolled one at a time (at most ``SCAN_UNROLL_TRIES``) until a scan over the
    remaining ones keeps the layout, and the rest is unrolled if none does. Scanning keeps compile time
    flat in the depth; the arithmetic is the same.
    """
    for first, p, k in _plan(net):
        done = 0
        if k >= SCAN_MIN_REPEATS:
            for _ in range(SCAN_UNROLL_TRIES + 1):
                try:
                    _scan_blocks(reg, net, params, first + done * p, p, k - done)
                    done = k
                    break
                except _NotStable:
                    if k - done - 1 < 2:
                        break
                    for i in range(p):
                        _run_layer(reg, net, params, first + done * p + i)
                    done += 1
        for l in range(first + done * p, first + k * p):
            _run_layer(reg, net, params, l)


def real_arithmetic(net: Network) -> bool:
    """Whether real inputs of ``net`` are simulated in float64: ``net.real`` and no scanned block (module doc)."""
    return net.real and not any(k >= SCAN_MIN_REPEATS for _, _, k in _plan(net))


def _initial_register(net: Network, rho_in: ArrayLike, packed: bool = False) -> _Register:
    # real gates on a real-valued state: real arithmetic throughout (module doc)
    kind, arr = states.as_input(rho_in, net.num_inputs, keep_real=real_arithmetic(net))
    n0 = net.num_inputs
    labels: list[Label] = [("in", q) for q in range(n0)]
    if kind == "pure":
        return _Register(labels, jnp.reshape(arr, (2,) * n0 + (1,)), None, packed)
    d = 2**n0
    eye = jnp.eye(d, dtype=arr.dtype)
    return _Register(labels, jnp.reshape(arr, (2,) * n0 + (d,)), jnp.reshape(eye, (2,) * n0 + (d,)), packed)


def output_factors(net: Network, params: NetworkParams, rho_in: ArrayLike, packed: bool = False) -> Factors:
    """The output state of Eq. (1) in factored form (see :class:`Factors`); cheapest for costs.

    ``rho_in``: (2**n_in,) state vector or (2**n_in, 2**n_in) density matrix (validated when concrete).
    ``packed`` (for :mod:`dqnn.sim.packed`: a real network and real input, one gate replaced by ``M + i dM``):
    the factors carry a real state and its first-order change in their real and imaginary parts,
    ``rho = Re(a) Re(b)^T`` and ``d rho = Im(a) Re(b)^T + Re(a) Im(b)^T`` (``b = a`` when None); the
    density form, when the register forms it, is built to keep that meaning.
    """
    reg = _initial_register(net, rho_in, packed)
    _run_network(reg, net, params)
    reg.canonical([("in", q) for q in range(net.num_outputs)])
    return reg.factors()


def output_state(net: Network, params: NetworkParams | None, rho_in: ArrayLike) -> Array:
    """The output density matrix ``(2**n_out, 2**n_out)`` of Eq. (1), complex128.

    ``rho_in`` is a ``(2**n_in,)`` state vector or a ``(2**n_in, 2**n_in)`` density matrix; ``params=None`` is
    allowed only when no perceptron has parameters (:meth:`~dqnn.model.network.Network.default_params`).
    """
    p = net.default_params() if params is None else params
    check_params(net, p)  # concrete parameters only: structure, finite, unitary matrices
    return output_factors(net, p, rho_in).density().astype(jnp.complex128)


def peak_stored_qubits(net: Network, pure_input: bool = True) -> int:
    """log2 of the largest factor tensor (stored qubits + rank bits) the simulator holds, for planning.

    Runs the schedule on abstract shapes only (no arithmetic).
    """
    d = 2**net.num_inputs
    x = jax.ShapeDtypeStruct((d,) if pure_input else (d, d), jnp.complex128)  # abstract: nothing allocated
    peak = 0

    def run(params: NetworkParams, rho_in: Array) -> Array:
        nonlocal peak
        reg = _initial_register(net, rho_in)
        _run_network(reg, net, params)
        peak = reg.peak
        return reg.a

    jax.eval_shape(run, jax.eval_shape(net.init, jax.random.key(0)), x)
    return peak
