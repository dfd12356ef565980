"""Exact second moments of networks of global 2-designs, register by register in an orthogonal commutant basis.

Structure (checked by :func:`register_structure`, never inferred from a preset's name): in every layer each
perceptron acts on *all* inputs of its layer, the outputs of a layer's perceptrons are disjoint, and each
perceptron's moment description begins and ends with a 2-design twirl of all its wires (a
:class:`~dqnn.model.families.HaarUnitary`, or a circuit ``A ... B`` with ``A``, ``B`` global
:class:`~dqnn.model.families.RandomUnitary` such as Theorem 1's ``A R(theta) B``); anything between the two twirls
is a mixture of unitary conjugations (fixed gates, rotations with uniform angles, smaller twirls). Observables:
product (the global cost with a product target) or the local cost; inputs: any.

Why a separate engine. After a twirl of a block ``B`` (dimension ``D``) the two-copy operator is in
``span{I, F}``; the identity/swap expansion of the tensor network (:mod:`dqnn.moments.exact`) cancels in deep
networks (``Tr[F X] - Tr[X] / D`` of nearly equal terms), losing all digits by depth 16 at ``n = 8``. Here every
block is written in the *orthogonal* basis ``Q_0 = I``, ``Q_1 = F~ = F - I / D`` (``Tr[Q_0 Q_1] = 0``,
``|Q_0|^2 = D^2``, ``|Q_1|^2 = D^2 - 1``), in which the twirl is an orthogonal projection and every transfer
coefficient below is a sum of terms of one sign (written with ``1 - 2**-k`` factors, never as a difference of
large numbers). Identities used (``B = A u O``, dims ``d_A``, ``d_O``; ``Z = |0><0|`` on both copies):

- ``F~_B = F~_A (x) F~_O + F~_A (x) I_O / d_O + I_A (x) F~_O / d_A`` (exact);
- ``Tr[Q_0 (X (x) Z)] = Tr X``, ``Tr[F~_B (X (x) Z)] = Tr[F_A X] - Tr[X] / D``; for ``X = I_A``: ``d_A^2`` and
  ``d_A (1 - 1/d_O)``, for ``X = F~_A``: ``0`` and ``d_A^2 - 1``;
- a unitary conjugation (or a mixture of them) fixes ``I`` and ``F``; the differentiated rotation's map ``M'`` on
  its ``w`` wires enters as the 2x2 matrix ``Tr[Q_a M' Q_b] / |Q_a|^2`` of the block, from ``Tr_w[P_a M' P_b]``.

A layer is then a chain: the state of a layer's outputs is ``sum_v coef(v) (x)_j Q_{v_j}`` over the output blocks,
with ``coef`` a bond-2 matrix product (the pattern of the block of the perceptron in progress). The next layer
needs only ``Tr X`` and ``Tr[F X]`` of that state, the last one its expectation of the observable; both are
bond-2 (local cost: bond 4) contractions along the chain. The cost is ``O(depth * width)`` tiny matrix products.
Every running vector is kept normalised by exact powers of two (:mod:`dqnn.moments.scaled`), so nothing
underflows. The mean ``E[d C]`` is exactly zero in this class (``Tr[M'(I)] = 0`` after a twirl; checked).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from dqnn.model.network import Network
from dqnn.model.protocol import MomentElement, MomentGate, MomentRotation, MomentTwirl
from dqnn.moments.commutant import permutation_vectors
from dqnn.moments.scaled import Scaled, normalise

#: Largest output block (qubits of one perceptron's outputs) whose effect is formed densely.
MAX_BLOCK = 8
#: Largest number of wires of the differentiated rotation (its moment operator is dense).
MAX_ROTATION_WIRES = 3


@dataclass(frozen=True)
class _Layer:
    """One layer: input width, the output blocks of its perceptrons in order, the unwritten outputs."""

    d_in: int  # log2 of the input register's dimension
    blocks: tuple[tuple[int, ...], ...]  # output qubits of perceptron j
    unwritten: tuple[int, ...]  # outputs no perceptron writes (stay |0>)


def register_structure(net: Network, elements: dict[tuple[int, int], tuple[MomentElement, ...]]) -> str | None:
    """``None`` when ``net`` has the structure of this module (module docstring), else the reason it has not."""
    for l, layer in enumerate(net.layers):
        outs: set[int] = set()
        for j, p in enumerate(layer):
            where = f"perceptron L{l}P{j}"
            if sorted(p.inputs) != list(range(net.widths[l])):
                return f"{where} does not act on every input of its layer"
            if outs & set(p.outputs):
                return f"{where} writes an output qubit an earlier perceptron of its layer wrote"
            outs.update(p.outputs)
            if len(p.outputs) > MAX_BLOCK:
                return f"{where} has {len(p.outputs)} > {MAX_BLOCK} outputs"
            els = elements[(l, j)]
            every = tuple(range(len(p.wires)))
            if not els or not all(
                isinstance(e, MomentTwirl) and tuple(sorted(e.wires)) == every for e in (els[0], els[-1])
            ):
                return f"{where} does not begin and end with a 2-design twirl of all its wires"
            for e in els:
                if isinstance(e, MomentRotation) and len(e.wires) > MAX_ROTATION_WIRES:
                    return f"{where} has a rotation on {len(e.wires)} > {MAX_ROTATION_WIRES} wires"
                if not isinstance(e, (MomentGate, MomentRotation, MomentTwirl)):
                    return f"{where} has a moment element {type(e).__name__}"
    return None


def _layers(net: Network) -> list[_Layer]:
    out = []
    for l, layer in enumerate(net.layers):
        written = {q for p in layer for q in p.outputs}
        out.append(
            _Layer(
                net.widths[l],
                tuple(tuple(p.outputs) for p in layer),
                tuple(q for q in range(net.widths[l + 1]) if q not in written),
            )
        )
    return out


def rounding(bits: int | None) -> Any:
    """A function rounding a real array to ``bits`` mantissa bits, keeping its exponent whatever its size (``None``:
    no rounding). Running the recursion once as is and once rounded to 53 bits measures its rounding error at
    double precision without double's exponent range."""
    if bits is None:
        return lambda a: a

    def rnd(a: Any) -> Any:
        m, e = np.frexp(a)
        return np.ldexp(np.rint(np.ldexp(m, bits)), e - bits)

    return rnd


def _pow2(k: int, dtype: Any) -> Any:
    """``2**k`` in ``dtype`` (``0`` below its range)."""
    with np.errstate(under="ignore"):
        return np.ldexp(dtype(1), int(k))


def derivative_block_matrix(rot_moment: np.ndarray, w: int, q: int, dtype: Any) -> np.ndarray:
    """``K[a, b] = Tr[Q_a M Q_b] / |Q_a|^2`` on a block of ``q`` qubits for a map ``M`` on ``w`` of them.

    ``rot_moment``: ``M`` on its ``w`` wires as :func:`dqnn.moments.exact.rotation_moment` gives it (two copies,
    shape ``(16,)*(2w)``). Returns (2, 2) in the basis ``(I, F - I/D)``, ``D = 2**q``.
    """

    pv = permutation_vectors(2)
    pats = []
    for s in range(2):
        v = np.ones(1, dtype=np.complex128)
        for _ in range(w):
            v = np.kron(v, pv[s])
        pats.append(v)
    m = np.asarray(rot_moment).reshape(16**w, 16**w)
    g = np.array([[(pats[a] @ m @ pats[b]).real for b in range(2)] for a in range(2)])  # Tr_w[P_a M P_b]
    g = g.astype(dtype)
    dw = _pow2(w, dtype)
    inv_d = _pow2(-q, dtype)
    one = dtype(1)
    # Tr[P_a M P_b] on the block = g[a, b] * d_r^{2 if a == b else 1}, d_r = D / d_w; divide by |Q_a|^2 and expand
    # Q_1 = F - I/D. Each line below is exact algebra; for a derivative map every term but g[1, 1] vanishes.
    k00 = g[0, 0] / (dw * dw)
    k01 = (g[0, 1] / dw - g[0, 0] / (dw * dw)) * inv_d
    k10 = (g[1, 0] / dw - g[0, 0] / (dw * dw)) * inv_d / (one - inv_d * inv_d)
    k11 = (g[1, 1] / (dw * dw) + (g[0, 0] / (dw * dw) - (g[1, 0] + g[0, 1]) / dw) * inv_d * inv_d) / (
        one - inv_d * inv_d
    )
    return np.array([[k00, k01], [k10, k11]], dtype=dtype)


def _block_effect(
    ax: Sequence[Sequence[np.ndarray | None]], ay: Sequence[Sequence[np.ndarray | None]], dtype: Any
) -> np.ndarray:
    """``E[v, beta, beta']`` of one output block: ``Tr[Q_v (A_x (x) A_y)]`` for the bond operators
    ``ax[bx, bx']``, ``ay[by, by']`` (dense on the block; ``None`` entries are zero). ``beta = (bx, by)``."""
    bx, by = len(ax), len(ay)
    out = np.zeros((2, bx * by, bx * by), dtype=dtype)
    for i in range(bx):
        for ip in range(bx):
            a = ax[i][ip]
            if a is None:
                continue
            for j in range(by):
                for jp in range(by):
                    b = ay[j][jp]
                    if b is None:
                        continue
                    d = a.shape[0]
                    tr_ab = np.trace(a @ b).real
                    tr_a_tr_b = (np.trace(a) * np.trace(b)).real
                    out[0, i * by + j, ip * by + jp] = tr_a_tr_b
                    out[1, i * by + j, ip * by + jp] = dtype(tr_ab) - dtype(tr_a_tr_b) / dtype(d)
    return out


def _kron_all(mats: Sequence[np.ndarray]) -> np.ndarray:
    out = np.ones((1, 1), dtype=np.complex128)
    for m in mats:
        out = np.kron(out, m)
    return out


class _Effect:
    """The observable of the last layer as per-block bond matrices (product: bond 1; local cost: bond 2 per copy)."""

    def __init__(self, kind: str, obs_x: Any, obs_y: Any, n: int, dtype: Any):
        self.kind, self.ox, self.oy, self.n, self.dtype = kind, obs_x, obs_y, n, dtype

    def _ops(self, obs: Any, qubits: Sequence[int]) -> list[list[np.ndarray | None]]:
        eye = np.eye(2, dtype=np.complex128)
        if self.kind == "product":  # obs: (n, 2, 2) per-qubit operators
            return [[_kron_all([obs[q] for q in qubits])]]
        # local: (1/n) sum_q |f_q><f_q|; bond 0 -> 0: I, 0 -> 1: sum over the block's qubits, 1 -> 1: I
        ident = _kron_all([eye] * len(qubits))
        terms = [
            _kron_all([np.outer(obs[q], obs[q].conj()) / self.n if r == q else eye for r in qubits]) for q in qubits
        ]
        return [[ident, np.sum(terms, axis=0)], [None, ident]]

    def block(self, qubits: Sequence[int]) -> np.ndarray:
        """``E[v, beta, beta']`` of the block of ``qubits``."""
        return _block_effect(self._ops(self.ox, qubits), self._ops(self.oy, qubits), self.dtype)

    def zero_qubit(self, q: int) -> np.ndarray:
        """``E[beta, beta']`` of an unwritten output ``q`` (in ``|0>`` on both copies)."""
        z = np.zeros((2, 2), dtype=np.complex128)
        z[0, 0] = 1
        ex, ey = self._ops(self.ox, [q]), self._ops(self.oy, [q])
        bx, by = len(ex), len(ey)
        out = np.zeros((bx * by, bx * by), dtype=self.dtype)
        for i in range(bx):
            for ip in range(bx):
                for j in range(by):
                    for jp in range(by):
                        a, b = ex[i][ip], ey[j][jp]
                        if a is not None and b is not None:
                            out[i * by + j, ip * by + jp] = (np.trace(a @ z) * np.trace(b @ z)).real
        return out

    def start(self) -> np.ndarray:
        b = 1 if self.kind == "product" else 4
        v = np.zeros(b, dtype=self.dtype)
        v[0] = 1
        return v

    def read(self, v: np.ndarray) -> Any:
        return v[-1]


class _TraceEffect:
    """``Tr X`` and ``Tr[F X]`` of a layer's output state, for the next layer: bond (all-I so far, some F~)."""

    def __init__(self, dtype: Any):
        self.dtype = dtype

    def block(self, qubits: Sequence[int]) -> np.ndarray:
        d = self.dtype(2 ** len(qubits))
        e = np.zeros((2, 2, 2), dtype=self.dtype)
        e[0, 0, 0] = d  # Tr[F I] = d, still all I
        e[0, 1, 1] = d
        e[1, 0, 1] = d * d - 1  # Tr[F F~] = d^2 - 1
        e[1, 1, 1] = d * d - 1
        return e

    def zero_qubit(self, q: int) -> np.ndarray:
        return np.eye(2, dtype=self.dtype)  # Tr[F Z] = Tr[Z] = 1

    def start(self) -> np.ndarray:
        return np.array([1, 0], dtype=self.dtype)


def _layer(
    lay: _Layer,
    c0: np.ndarray,
    kmats: dict[int, np.ndarray],
    effect: Any,
    dtype: Any,
    rnd: Any,
) -> tuple[np.ndarray, int]:
    """Push the coefficients ``c0[f, u]`` (basis ``I, F~`` of the first perceptron's block, after its first twirl;
    ``f = 1``: a derivative already applied) through one layer and contract the outputs with ``effect``; returns the
    bond vectors ``(2, bond)`` and their common binary exponent. A perceptron ``j`` in ``kmats`` adds its derivative
    ``K_j`` applied to the ``f = 0`` part to the ``f = 1`` part (one derivative per term, summed over them)."""
    w_a = lay.d_in
    one = dtype(1)
    fwd = np.einsum("fu,b->fub", c0, effect.start())  # fwd[f, u, beta]
    exp = 0
    nblocks = len(lay.blocks)
    for j in range(nblocks):
        if j in kmats:
            fwd = np.stack([fwd[0], rnd(fwd[1] + kmats[j] @ fwd[0])])
        e = rnd(effect.block(lay.blocks[j]))
        if j + 1 < nblocks:  # emit block j, move to the block of perceptron j + 1 (inputs u outputs j + 1)
            k = len(lay.blocks[j + 1])
            inv_do = _pow2(-k, dtype)
            inv_dp2 = _pow2(-2 * (w_a + k), dtype)  # 1 / D'^2
            t = np.zeros((2, 2), dtype=dtype)  # t[a, y]: y = pattern of the inputs (I, F~)
            t[0, 0] = inv_do * inv_do
            t[1, 0] = (one - inv_do) * inv_do * inv_do * _pow2(-w_a, dtype) / (one - inv_dp2)
            t[1, 1] = (one - _pow2(-2 * w_a, dtype)) * inv_do * inv_do / (one - inv_dp2)
            t = rnd(t)
            inv_dj = _pow2(-len(lay.blocks[j]), dtype)
            inv_da = _pow2(-w_a, dtype)
            # u = 0 -> (I_A, I_j); u = 1 -> (F~_A, F~_j) + (F~_A, I_j) / d_j + (I_A, F~_j) / d_A
            a_part = np.einsum("a,fb,bc->fac", t[:, 0], fwd[:, 0], e[0]) + np.einsum(
                "a,fb,bc->fac", t[:, 1], fwd[:, 1], e[1]
            )
            a_part += inv_dj * np.einsum("a,fb,bc->fac", t[:, 1], fwd[:, 1], e[0])
            a_part += inv_da * np.einsum("a,fb,bc->fac", t[:, 0], fwd[:, 1], e[1])
            fwd = rnd(a_part)
        else:  # close: trace out the inputs, Tr_A I_A = d_A^2, Tr_A F~_A = 0
            vec = rnd(fwd[:, 0] @ e[0] + _pow2(-w_a, dtype) * (fwd[:, 1] @ e[1]))
            exp += 2 * w_a
            for q in lay.unwritten:
                vec = rnd(vec @ rnd(effect.zero_qubit(q)))
            vec, s = normalise(vec)
            return vec, exp + s
        fwd, s = normalise(fwd)
        exp += s
    raise AssertionError("a layer has no perceptron")  # pragma: no cover (Network forbids it)


def register_second_moment(
    net: Network,
    diffs: Sequence[tuple[int, int]],
    kmat_of: Any,
    input_traces: tuple[Any, Any],
    effect: tuple[str, Any, Any],
    dtype: Any,
    mantissa_bits: int | None = None,
) -> Scaled:
    """``E[Tr[(O_x (x) O_y) d rho_x (x) d rho_y]]`` (no sign, one pair) by the chain recursion of this module.

    ``diffs``: the ``(layer, perceptron)`` pairs carrying a derivative (one differentiated angle; or every perceptron
    with independent directions, whose second moments add: the sum over them in one pass); ``kmat_of(q, dtype)``:
    the derivative's 2x2 block matrix (:func:`derivative_block_matrix`) for a block of ``q`` qubits;
    ``input_traces``: ``(Tr rho_x Tr rho_y, Tr[rho_x rho_y])``; ``effect``: ``("product", (n, 2, 2) O_x, O_y)`` or
    ``("local", (n, 2) f_x, f_y)``;
    ``dtype``: a real float type; ``mantissa_bits``: round every intermediate to that many bits (:func:`rounding`).
    Powers of two are carried as exponents, never multiplied in, so no value leaves the range of ``dtype``.
    """
    rnd = rounding(mantissa_bits)
    layers = _layers(net)
    one = dtype(1)
    tau0, tau1_full = dtype(input_traces[0]), dtype(input_traces[1])
    exp = 0
    prev: tuple[np.ndarray, int, _Layer] | None = None
    vec: np.ndarray = np.zeros(0, dtype=dtype)
    for l, lay in enumerate(layers):
        k0 = len(lay.blocks[0])
        q0 = lay.d_in + k0
        inv_d = _pow2(-q0, dtype)
        if prev is None:  # c = tau / |Q|^2 with tau_1 = Tr[rho_x rho_y] - tau_0 / D
            c0 = np.array([[tau0, (tau1_full - tau0 * inv_d) / (one - inv_d * inv_d)], [0, 0]], dtype=dtype)
        else:
            x, _, pl = prev
            z = len(pl.unwritten)
            # tau_0 = X0 * prod_j d_j (= X0 d_A / 2^z), tau_1 = X0 (1 - 1/(2^z d_O0)) + Xs
            c0 = np.stack(
                [
                    x[:, 0],
                    (x[:, 0] * (one - _pow2(-(z + k0), dtype)) + x[:, 1])
                    * _pow2(z - lay.d_in, dtype)
                    / (one - inv_d * inv_d),
                ],
                axis=1,
            )
            exp += lay.d_in - z  # c0[0] = X0 2^(d_in - z) / D^2 and c0[1] carry 2^(d_in - z) / D^2
        exp -= 2 * q0  # 1 / D^2 of both coefficients
        c0, s = normalise(rnd(c0.astype(dtype)))
        exp += s
        kmats = {j: rnd(kmat_of(lay.d_in + len(lay.blocks[j]), dtype)) for (dl, j) in diffs if dl == l}
        eff: Any = (
            _TraceEffect(dtype)
            if l + 1 < len(layers)
            else _Effect(effect[0], effect[1], effect[2], net.widths[-1], dtype)
        )
        vec, s = _layer(lay, c0, kmats, eff, dtype, rnd)
        exp += s
        prev = (vec, exp, lay)
    return Scaled.of(vec[1, -1]).shift(exp)


__all__ = ["MAX_BLOCK", "MAX_ROTATION_WIRES", "derivative_block_matrix", "register_second_moment", "register_structure"]
