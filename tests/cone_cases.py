"""Networks and references shared by the light-cone tests (test_lightcone, test_cone_engine, test_cone_gradients)."""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from dqnn.costs import per_pair
from dqnn.gradients import check_shift_rule
from dqnn.model import families, states
from dqnn.model.angles import angle_indices, shift_angle
from dqnn.model.families import Circuit, Gate, HaarUnitary, RandomUnitary, Rot
from dqnn.model.network import Network, Perceptron
from dqnn.presets import architectures


def random_factors(key: jax.Array, m: int) -> jax.Array:
    v = jax.random.normal(key, (m, 2, 2))
    z = v[..., 0] + 1j * v[..., 1]
    return z / jnp.linalg.norm(z, axis=1, keepdims=True)


def product_input(factors: jax.Array) -> jax.Array:
    return states.product_state(list(factors))


def hand_made() -> Network:
    """Crossing wires, k = 1 perceptrons in non-trivial order, an input-less perceptron and an untouched output."""
    rot2 = Circuit(2, [RandomUnitary((0, 1)), Rot("Y", (0,)), Rot("X", (1,)), Gate("CNOT", (1, 0))])
    rot3 = Circuit(3, [Rot("Y", (2,)), RandomUnitary((0, 2)), Rot("Z", (1,)), Gate("CZ", (1, 2)), Rot("X", (0,))])
    swap_rot = Circuit(2, [Gate("SWAP", (0, 1)), Rot("Y", (1,))])
    layer0 = [
        Perceptron([3], [1], rot2),  # reads in 3 before the perceptron below moves it
        Perceptron([0, 3], [2], rot3),  # crossing wires: 0 -> 2, 3 -> 2
        Perceptron([1], [0], swap_rot),
        Perceptron([2, 1], [3], rot3),  # reads in 1 after the one above
    ]
    layer1 = [
        Perceptron([2], [0], rot2),
        Perceptron([0, 3], [1], rot3),
        Perceptron([], [3], Circuit(1, [Rot("Y", (0,))])),  # no inputs
        Perceptron([1], [3], swap_rot),
        # output qubit 2 of layer 2 is touched by nobody: it stays |0>
    ]
    layer2 = [
        Perceptron([3, 0], [1], rot3),
        Perceptron([1], [0], rot2),
        Perceptron([2], [2], HaarUnitary(2)),
    ]
    return Network([4, 4, 4, 3], [layer0, layer1, layer2])


def swap_tail() -> Network:
    """Output 2 is input 2 moved by SWAPs only, so the engine never stores it."""
    v1 = families.fig3b_v1()
    v2 = families.fig3b_v2()
    layer0 = [Perceptron([0, 1], [0], v1), Perceptron([1], [1], v2), Perceptron([2], [2], v2)]
    layer1 = [Perceptron([0, 1], [0], v1), Perceptron([1], [1], v2), Perceptron([2], [2], v2)]
    return Network([3, 3, 3], [layer0, layer1])


CASES = [
    ("fig3b-n4-L3", lambda: architectures.fig3b(4, 3)),
    ("fig3b-n6-L4", lambda: architectures.fig3b(6, 4)),
    ("fig3b-n8-L2-rycz", lambda: architectures.fig3b(8, 2, w="ry-cz")),
    ("fig3a-n4-L2", lambda: architectures.fig3a(4, 2)),
    ("hand-made", hand_made),
    ("hand-made-widths", lambda: Network([3, 2], [[Perceptron([2, 0], [1], HaarUnitary(3))]])),
]
NAMES = [c[0] for c in CASES]


@functools.cache
def case_net(name: str) -> Network:
    """One network per case for the whole module, so the tests below share their compiled programs."""
    return {**dict(CASES), "swap-tail": swap_tail}[name]()


@functools.cache
def full_reference(name: str) -> Callable[..., tuple[jax.Array, jax.Array]]:
    """The full simulator's local cost of each pair and its exact gradient in every angle (jitted once per case).

    ``(params, input vectors (N, 2**n_in), target factors (N, n_out, 2)) -> (C_x (N,), dC_x/dtheta (N, angles))``,
    angles in ``angle_indices`` order. The gradient is the two-term parameter-shift rule on the full simulation
    (exact: every generator has eigenvalues +-1, checked), all shifted parameter sets in one vmapped evaluation:
    one compilation of the forward simulation, a fraction of that of its reverse-mode gradient.
    """
    net = case_net(name)
    every = angle_indices(net)
    for idx in every:
        check_shift_rule(net, idx)

    def run(params, inputs, targets):  # type: ignore[no-untyped-def]
        sets = [params] + [shift_angle(params, idx, s) for idx in every for s in (np.pi / 2, -np.pi / 2)]
        batch = jax.tree.map(lambda *leaves: jnp.stack(leaves), *sets)
        c = jax.vmap(lambda p: per_pair(net, p, inputs, targets, "local"))(batch)  # (1 + 2 angles, N)
        return c[0], (0.5 * (c[1::2] - c[2::2])).T

    return jax.jit(run)
