"""Qubit layouts of a network on hardware: which physical qubit holds which node, and when qubits are reset.

Two layouts (:data:`LAYOUTS`):

- ``"fresh"``: one physical qubit per node, ``sum(widths)`` in all (Beer et al.'s NISQ layout); node
  ``(l, q)`` sits on qubit ``widths[0] + ... + widths[l - 1] + q`` and nothing is ever reset.
- ``"reuse"``: Eq. (1) read as a circuit. A node is *live* from its first touch to its last; a qubit whose node
  is done is given back to a pool and, before it holds a new node, reset to |0> (a mid-circuit reset is the trace
  out of Eq. 1). Live intervals, following the layer schedule (:func:`dqnn.sim.schedule.layer_schedule`):

  * a node of the input layer is live from the start (it holds the input state) until the last perceptron of
    layer 0 that reads it (an input nobody reads is given back before layer 0 starts);
  * a node ``(l + 1, q)`` becomes live just before the first perceptron of layer ``l`` that writes it, or, if no
    perceptron writes it (it stays |0>), just before the first perceptron of layer ``l + 1`` that reads it;
  * it stays live until the last perceptron of layer ``l + 1`` that reads it (an output of the last layer: to the
    end; an output of the last layer that nobody writes is allocated at the end, in |0>).

  The physical qubit count is the largest number of nodes live at once: :func:`reuse_width`.

Qubit numbering here is dqnn's node numbering; mapping a register to Qiskit's little-endian order is done in one
place, :func:`dqnn.hardware.order.qiskit_qargs`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dqnn.model.network import Network

#: A layout name: ``"reuse"`` (mid-circuit reset) or ``"fresh"`` (one qubit per node).
LayoutName = Literal["reuse", "fresh"]
LAYOUTS: tuple[str, ...] = ("reuse", "fresh")

#: A node of the network: ``(layer, qubit)``.
Node = tuple[int, int]


@dataclass(frozen=True)
class Step:
    """One perceptron ``net.layers[layer][perceptron]`` on physical ``wires`` (its local wires in order), after
    resetting the physical qubits in ``reset`` (each about to hold a new node)."""

    layer: int
    perceptron: int
    wires: tuple[int, ...]
    reset: tuple[int, ...]


@dataclass(frozen=True)
class Layout:
    """A network placed on ``num_qubits`` physical qubits.

    ``inputs[q]`` / ``outputs[q]``: the physical qubit of input node ``(0, q)`` / output node ``(L, q)``;
    ``steps``: the perceptrons in time order; ``final_reset``: qubits reset at the end to hold output nodes that no
    perceptron writes (reuse layout only).
    """

    name: str
    num_qubits: int
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    steps: tuple[Step, ...]
    final_reset: tuple[int, ...]


def check_layout(layout: str) -> str:
    """``layout`` when it is one of :data:`LAYOUTS`; ValueError naming it otherwise."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout={layout!r} is not one of {LAYOUTS}")
    return layout


def _events(net: Network) -> tuple[dict[Node, int], dict[Node, int], int]:
    """``(first, last, T)``: the step at which each node that is ever live becomes live and the step after which it
    is released (module doc); steps are numbered 0..T-1 in time order, the input nodes start at -1 and the output
    nodes end at T. An input node nobody reads has ``last = -1``; a node written and never read ends at its last
    write.
    """
    time: dict[tuple[int, int], int] = {}
    for l, layer in enumerate(net.layers):
        for j in range(len(layer)):
            time[(l, j)] = len(time)
    end = len(time)
    first: dict[Node, int] = {(0, q): -1 for q in range(net.widths[0])}
    last: dict[Node, int] = {(0, q): -1 for q in range(net.widths[0])}
    for l, layer in enumerate(net.layers):
        for j, p in enumerate(layer):
            t = time[(l, j)]
            for n in [(l, q) for q in p.inputs] + [(l + 1, q) for q in p.outputs]:
                first.setdefault(n, t)
                last[n] = t
    for q in range(net.widths[-1]):
        first.setdefault((net.depth, q), end)
        last[(net.depth, q)] = end
    return first, last, end


def reuse_width(net: Network) -> int:
    """Physical qubits of the ``"reuse"`` layout: the most nodes live at once (module doc).

    ``max(w_0, w_L, max over steps t of #{nodes live during t})`` with a node live during step t when
    ``first <= t <= last`` (input nodes have ``first = -1``; a node is released right after its last step). This is
    at most ``max_l (w_l + w_(l+1))`` and, for three or more layers, less than ``sum(widths)`` (the fresh layout).
    """
    first, last, end = _events(net)
    peak = max(net.widths[0], net.widths[-1])
    for t in range(end):
        live = sum(1 for n, f in first.items() if f <= t <= last[n])
        peak = max(peak, live)
    return peak


def plan(net: Network, layout: str = "reuse") -> Layout:
    """The :class:`Layout` of ``net`` in ``layout`` (``"reuse"`` or ``"fresh"``)."""
    check_layout(layout)
    if layout == "fresh":
        offsets = [sum(net.widths[:l]) for l in range(len(net.widths))]
        steps = tuple(
            Step(
                l,
                j,
                tuple(offsets[l] + q for q in p.inputs) + tuple(offsets[l + 1] + q for q in p.outputs),
                (),
            )
            for l, layer in enumerate(net.layers)
            for j, p in enumerate(layer)
        )
        return Layout(
            "fresh",
            sum(net.widths),
            tuple(range(net.widths[0])),
            tuple(offsets[-1] + q for q in range(net.widths[-1])),
            steps,
            (),
        )
    first, last, end = _events(net)
    where: dict[Node, int] = {(0, q): q for q in range(net.widths[0])}
    free: list[int] = []  # given back, to be reset before reuse (smallest first)
    count = net.widths[0]

    def release(nodes: list[Node]) -> None:
        for n in nodes:
            free.append(where[n])
        free.sort()

    def allocate(n: Node, resets: list[int]) -> None:
        nonlocal count
        if free:
            where[n] = free.pop(0)
            resets.append(where[n])
        else:
            where[n] = count
            count += 1

    release([n for n in where if last[n] < 0])
    out_steps: list[Step] = []
    t = 0
    for l, layer in enumerate(net.layers):
        for j, p in enumerate(layer):
            resets: list[int] = []
            for n in [(l, q) for q in p.inputs] + [(l + 1, q) for q in p.outputs]:
                if n not in where:
                    allocate(n, resets)
            wires = tuple(where[(l, q)] for q in p.inputs) + tuple(where[(l + 1, q)] for q in p.outputs)
            out_steps.append(Step(l, j, wires, tuple(resets)))
            release([n for n, e in last.items() if e == t])
            t += 1
    final: list[int] = []
    for q in range(net.widths[-1]):
        if (net.depth, q) not in where:
            allocate((net.depth, q), final)
    return Layout(
        "reuse",
        count,
        tuple(range(net.widths[0])),
        tuple(where[(net.depth, q)] for q in range(net.widths[-1])),
        tuple(out_steps),
        tuple(final),
    )


__all__ = ["LAYOUTS", "Layout", "LayoutName", "Step", "check_layout", "plan", "reuse_width"]
