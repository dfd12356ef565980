"""Hypothesis strategies for random networks, shared by the test modules."""

from __future__ import annotations

import jax
import numpy as np
from hypothesis import strategies as st

import dqnn
from dqnn.model import families
from dqnn.model.families import Circuit, Gate, HaarUnitary, RandomUnitary, Rot
from dqnn.model.network import Network, Perceptron


def random_family(draw, nq: int):  # type: ignore[no-untyped-def]
    """A random family on ``nq`` wires: Haar, a fixed random unitary, or a circuit of random elements."""
    kind = draw(st.sampled_from(["haar", "circuit", "fixed"]))
    if kind == "haar":
        return HaarUnitary(nq)
    if kind == "fixed":
        seed = draw(st.integers(0, 2**31 - 1))
        return families.Fixed(np.asarray(dqnn.model.gates.haar_unitary(jax.random.key(seed), 2**nq)), nq)
    els = []
    for _ in range(draw(st.integers(1, 5))):
        e = draw(st.sampled_from(["rot", "cnot", "swap", "random", "h", "cz", "phase"]))
        if e in ("cnot", "swap", "cz") and nq < 2:
            e = "h"
        if e == "rot":
            w = draw(st.permutations(range(nq)))[: draw(st.integers(1, min(2, nq)))]
            els.append(Rot("".join(draw(st.sampled_from("XYZ")) for _ in w), tuple(w)))
        elif e == "h":
            els.append(Gate("H", (draw(st.integers(0, nq - 1)),)))
        elif e == "phase":  # a fixed diagonal gate: the simulator holds these back and applies runs of them at once
            phi = draw(st.floats(0.1, 6.0))
            els.append(Gate(np.diag([1.0, np.exp(1j * phi)]), (draw(st.integers(0, nq - 1)),)))
        elif e == "random":
            w = draw(st.permutations(range(nq)))[: draw(st.integers(1, min(2, nq)))]
            els.append(RandomUnitary(tuple(w)))
        else:
            a, b = draw(st.permutations(range(nq)))[:2]
            els.append(Gate({"cnot": "CNOT", "swap": "SWAP", "cz": "CZ"}[e], (a, b)))
    return Circuit(nq, els)


def real_family(draw, nq: int):  # type: ignore[no-untyped-def]
    """A random real family (``Network.real``): a real orthogonal gate, or R_y-type rotations, CNOT, CZ, H, SWAP."""
    if draw(st.booleans()) and nq <= 2:
        seed = draw(st.integers(0, 2**31 - 1))
        q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(2**nq, 2**nq)))  # a real orthogonal gate
        return families.Fixed(q, nq)
    els = []
    for _ in range(draw(st.integers(1, 5))):
        e = draw(st.sampled_from(["rot", "cnot", "cz", "swap", "h"]))
        if e in ("cnot", "cz", "swap") and nq < 2:
            e = "h"
        if e == "rot":  # an odd number of Y's: -i P is real
            w = draw(st.permutations(range(nq)))[: draw(st.integers(1, min(2, nq)))]
            label = draw(st.sampled_from(["Y"] if len(w) == 1 else ["XY", "YX", "YZ", "ZY"]))
            els.append(Rot(label, tuple(w)))
        elif e == "h":
            els.append(Gate("H", (draw(st.integers(0, nq - 1)),)))
        else:
            a, b = draw(st.permutations(range(nq)))[:2]
            els.append(Gate({"cnot": "CNOT", "cz": "CZ", "swap": "SWAP"}[e], (a, b)))
    return Circuit(nq, els)


@st.composite
def random_networks(draw, family=None):  # type: ignore[no-untyped-def]
    """Random networks (at most 8 qubits in all) whose perceptrons draw their family with ``family``."""
    family = family or random_family
    depth = draw(st.integers(1, 3))
    widths = [draw(st.integers(1, 3)) for _ in range(depth + 1)]
    while sum(widths) > 8:
        widths[int(np.argmax(widths))] -= 1
    layers = []
    for l in range(depth):
        row = []
        for _ in range(draw(st.integers(1, 4))):
            m = draw(st.integers(0, widths[l]))
            ins = draw(st.permutations(range(widths[l])))[:m]
            k = draw(st.integers(1, min(2, widths[l + 1])))
            outs = draw(st.permutations(range(widths[l + 1])))[:k]
            row.append(Perceptron(ins, outs, family(draw, m + k)))
        layers.append(row)
    return Network(widths, layers)


@st.composite
def repeated_networks(draw, family=None):  # type: ignore[no-untyped-def]
    """A block of 1-2 random layers (fixed wiring and family objects) repeated 3-5 times, widths <= 3."""
    family = family or random_family
    w = draw(st.integers(1, 3))
    period = draw(st.integers(1, 2))
    block = []
    for _ in range(period):
        row = []
        for _ in range(draw(st.integers(1, 3))):
            m = draw(st.integers(0, w))
            ins = draw(st.permutations(range(w)))[:m]
            k = draw(st.integers(1, min(2, w)))
            outs = draw(st.permutations(range(w)))[:k]
            row.append(Perceptron(ins, outs, family(draw, m + k)))
        block.append(row)
    reps = draw(st.integers(3, 5))
    return Network([w] * (period * reps + 1), block * reps)
