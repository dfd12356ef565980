"""Packed forward mode: ``d C / d theta`` of one angle of a real network from one complex pass.

For a real network (:attr:`dqnn.model.network.Network.real`: every matrix real, e.g. ``R_y``, CZ, SWAP) and a
real input, the simulator's factors ``rho = A B^T`` (:class:`~dqnn.sim.simulate.Factors`) are real, and every
step (gates, relabelling SWAPs, adding |0> qubits, tracing into the rank axis) is linear in each factor
with real coefficients. So if the one gate ``M(theta_nu)`` that holds the angle is replaced by the complex
matrix ``M + i dM/dtheta_nu`` (the family's ``packed(angle)``, :class:`dqnn.model.families.Packed`), the same
simulation returns ``A + i dA``: the state in the real part and its derivative in the imaginary part, exactly
(no step size). The one bilinear
step, forming the density matrix when the rank reaches the dimension, keeps that meaning
(``output_factors(..., packed=True)``). The cost's derivative is then the forward-mode derivative of the
cost term in the output factors alone.

Why: when the simulator runs a real network in complex128 (networks with scanned blocks,
:func:`dqnn.sim.simulate.real_arithmetic`), ``jax.jvp`` carries a complex state and a complex tangent, four real
vectors where these two suffice; the packed pass does about half the work (measured:
``benchmarks/results_simulate.md``). Where the simulator already runs in float64,
``jax.jvp`` carries the same two real vectors and is used instead (:func:`applies`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike

from dqnn._jax import Array
from dqnn.costs import CostKind, map_pairs, term
from dqnn.model import states
from dqnn.model.families import Circuit, Packed
from dqnn.model.network import Network, NetworkParams, Perceptron
from dqnn.model.protocol import capability_error
from dqnn.sim.simulate import Factors, output_factors, real_arithmetic

if TYPE_CHECKING:
    from dqnn.model.angles import AngleIndex


class PackedCircuit(Packed):
    """A real circuit ``inner`` whose rotation of angle ``angle`` is ``M + i dM/dtheta`` (module doc).

    The same as ``inner.packed(angle)`` (:meth:`dqnn.model.families.Circuit.packed`), kept under its old name;
    ValueError for a circuit that is not real or an angle out of range.
    """

    def __init__(self, inner: Circuit, angle: int):
        super().__init__(inner, angle, inner.angle_position(angle))


def packed_network(net: Network, idx: AngleIndex) -> Network:
    """``net`` with perceptron ``(idx.layer, idx.perceptron)`` packed at angle ``idx.angle`` (same params)."""
    rows = [list(layer) for layer in net.layers]
    p = rows[idx.layer][idx.perceptron]
    fam = p.unitary.packed(idx.angle)
    if fam is None:
        raise capability_error(f"angle {idx}", p.unitary, "packed", idx.angle)
    rows[idx.layer][idx.perceptron] = Perceptron(p.inputs, p.outputs, fam)
    return Network(net.widths, rows, net.strict)


def _packable_inputs(inputs: ArrayLike) -> bool:
    return np.ndim(inputs) in (2, 3) and states.is_real(inputs)


def applies(net: Network, inputs: ArrayLike) -> bool:
    """Whether the packed pass is the faster exact derivative: ``net`` real and simulated in complex128
    (scanned blocks, :func:`dqnn.sim.simulate.real_arithmetic`) and ``inputs`` real-valued (concrete, or of a
    real dtype), stacked as (N, d) vectors or (N, d, d) density matrices."""
    return net.real and not real_arithmetic(net) and _packable_inputs(inputs)


def per_pair_derivative(
    net: Network,
    params: NetworkParams,
    inputs: ArrayLike,
    targets: ArrayLike,
    kind: CostKind,
    idx: AngleIndex,
) -> Array:
    """``d C_x / d theta_idx`` (N,) for each pair (terms of :func:`dqnn.costs.per_pair`), one packed pass each.

    Exact for any real network on real-valued inputs, (N, d) vectors or (N, d, d) density matrices (see
    :func:`applies` for when it is also the fastest); ValueError otherwise.
    """
    if not net.real:
        raise ValueError("per_pair_derivative: the network is not real (Network.real)")
    if not _packable_inputs(inputs):
        raise ValueError("per_pair_derivative: inputs must be real-valued, stacked as (N, d) or (N, d, d)")
    pnet = packed_network(net, idx)

    def d_term(x: Array, t: Array) -> Array:
        f = output_factors(pnet, params, x, packed=True)
        if f.b is None:
            return jax.jvp(lambda a: term(kind, Factors(a, None), t), (jnp.real(f.a),), (jnp.imag(f.a),))[1]
        primals, tangents = (jnp.real(f.a), jnp.real(f.b)), (jnp.imag(f.a), jnp.imag(f.b))
        return jax.jvp(lambda a, b: term(kind, Factors(a, b), t), primals, tangents)[1]

    return map_pairs(d_term, inputs, targets, kind, net.num_outputs)
