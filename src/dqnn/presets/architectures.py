"""Ready-made DQNNs: global Haar perceptrons (Theorem 1), Fig. 3a and Fig. 3b, any width and depth.

Fig. 3b wiring (the paper draws it but does not spell it out; this is dqnn's choice, exact and tested).
DQNN layers are counted from 0 here; the caption counts from 1, so caption-odd layers are our even ``l``.
All layers have ``n`` qubits. In layer ``l`` the block ``W`` acts on pairs ``(j, j+1)`` with
``j = l mod 2, l mod 2 + 2, ...`` and ``j + 1 < n`` (open boundary):

- ``V1`` at position ``j`` (a pair start): inputs ``(j, j+1)``, output ``j``; ``W`` on the two inputs,
  then SWAP(input j, output j);
- ``V2`` at every other position ``j``: input ``j``, output ``j``; SWAP(input j, output j).

So in caption-odd layers V1 sits on caption-odd positions and in caption-even layers on caption-even
positions, as the caption says. Order: all ``V1`` of a layer first (left to right), then all ``V2``.
In caption-odd layers that is the caption's "odd positions first"; in caption-even layers the V1 (even
positions) must go first, because a V2 at an odd position would move qubit ``j+1`` out before the ``W``
of the pair ``(j, j+1)`` acted on it. With this order layer ``l`` equals the brick sub-layer
``prod_j W_(j, j+1)`` with every qubit moved to the next layer, so two DQNN layers equal one layer of
the layered hardware-efficient ansatz: see :func:`fig3b_brick_pairs` and :func:`fig3b_equivalent_state`.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax.numpy as jnp

from dqnn._jax import Array
from dqnn.model import families
from dqnn.model.families import Circuit, HaarUnitary, RandomUnitary, Rot
from dqnn.model.network import Network, NetworkParams, Perceptron


def global_haar(
    widths: Sequence[int],
    differentiate: tuple[int, int] | None = None,
    generator: str = "Y",
    qubit: int = 0,
) -> Network:
    """Global perceptrons (Fig. 2a), each a Haar-random unitary on all of layer ``l`` plus output ``j`` (k = 1).

    ``differentiate=(l, j)`` makes perceptron ``j`` of layer ``l`` the circuit ``A R(theta) B`` of
    Theorem 1 (A, B independent Haar on ``widths[l] + 1`` qubits, ``R = exp(-i theta P / 2)`` with the
    single-qubit Pauli ``generator`` on local wire ``qubit``), so that it has one angle to differentiate.
    """
    ws = tuple(int(w) for w in widths)
    layers = []
    for l in range(len(ws) - 1):
        nq = ws[l] + 1
        row = []
        for j in range(ws[l + 1]):
            fam: families.Family
            if differentiate == (l, j):
                allw = tuple(range(nq))
                fam = Circuit(nq, [RandomUnitary(allw), Rot(generator, (qubit,)), RandomUnitary(allw)])
            else:
                fam = HaarUnitary(nq)
            row.append(Perceptron(range(ws[l]), [j], fam))
        layers.append(row)
    if differentiate is not None:
        l, j = differentiate
        if not (0 <= l < len(layers) and 0 <= j < ws[l + 1]):
            raise ValueError(f"global_haar: differentiate={differentiate} names no perceptron of widths {ws}")
    return Network(ws, layers, strict=True)


def fig3a(n: int, layers: int = 1) -> Network:
    """Fig. 3a: ``layers`` DQNN layers of ``n`` qubits; perceptron ``j`` maps qubit ``j`` to qubit ``j``.

    Every perceptron is SWAP(input, output) then ``R_y(theta)`` on the output, with its own angle.
    """
    if n < 1 or layers < 1:
        raise ValueError(f"fig3a: n={n} and layers={layers} must be >= 1")
    p = families.fig3a_perceptron()
    return Network([n] * (layers + 1), [[Perceptron([j], [j], p) for j in range(n)] for _ in range(layers)], True)


def fig3b_brick_pairs(n: int, l: int) -> list[int]:
    """First qubits ``j`` of the pairs ``(j, j+1)`` on which layer ``l`` (0-based) applies ``W``."""
    return list(range(l % 2, n - 1, 2))


def fig3b(n: int, layers: int = 2, w: str = "haar-rotation") -> Network:
    """Fig. 3b: ``layers`` DQNN layers of ``n >= 2`` qubits of local m = 2 perceptrons (two make one brick layer).

    ``w`` picks the two-qubit block (:func:`dqnn.model.families.two_qubit_w`); the wiring is in this module's doc.
    """
    if n < 2 or layers < 1:
        raise ValueError(f"fig3b: need n >= 2 and layers >= 1, got n={n}, layers={layers}")
    v1 = families.fig3b_v1(w)
    v2 = families.fig3b_v2()
    net_layers = []
    for l in range(layers):
        starts = fig3b_brick_pairs(n, l)
        row = [Perceptron([j, j + 1], [j], v1) for j in starts]
        row += [Perceptron([j], [j], v2) for j in range(n) if j not in starts]
        net_layers.append(row)
    return Network([n] * (layers + 1), net_layers, strict=True)


def fig3b_blocks(net: Network, params: NetworkParams, w: str = "haar-rotation") -> list[tuple[int, Array]]:
    """The brick circuit equivalent to a :func:`fig3b` network: ``[(j, W)]`` in time order, W on (j, j+1)."""
    wfam = Circuit(2, families.two_qubit_w(w))
    out = []
    for l, layer in enumerate(net.layers):
        for i, p in enumerate(layer):
            if len(p.inputs) == 2:
                out.append((p.inputs[0], wfam.matrix(params[l][i])))
    return out


def fig3b_equivalent_state(net: Network, params: NetworkParams, psi_in: Array, w: str = "haar-rotation") -> Array:
    """Apply the equivalent brick circuit to the state vector ``psi_in`` (2**n,) and return the vector."""
    n = net.num_inputs
    psi = jnp.reshape(jnp.asarray(psi_in, dtype=jnp.complex128), (2,) * n)
    for j, wm in fig3b_blocks(net, params, w):
        t = jnp.tensordot(jnp.reshape(wm, (2, 2, 2, 2)), psi, axes=([2, 3], [j, j + 1]))
        psi = jnp.moveaxis(t, [0, 1], [j, j + 1])
    return jnp.reshape(psi, (2**n,))
