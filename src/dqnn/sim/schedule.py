"""The Eq. (1) layer schedule: when each input qubit of a layer is traced out.

A layer's inputs are traced out once the layer is done (Eq. 1); an input may already be traced out as soon
as the last perceptron of the layer that acts on it is done (the same state, and a smaller register).
:func:`layer_schedule` says when: the simulator (:mod:`dqnn.sim.simulate`) and the exact moments
(:mod:`dqnn.moments.exact`) follow the network by it. Conventions: :mod:`dqnn`.
"""

from __future__ import annotations

from dqnn.model.network import Network


def layer_schedule(net: Network, l: int) -> tuple[list[int], dict[int, list[int]]]:
    """Inputs of layer ``l`` touched by nobody, and for each perceptron the inputs to trace after it.

    ``(untouched, after)``: ``untouched`` (sorted) can be traced before the layer starts; ``after[j]`` (sorted)
    are the inputs that perceptron ``j`` of ``net.layers[l]`` is the last to act on.
    """
    last: dict[int, int] = {}
    for j, p in enumerate(net.layers[l]):
        for q in p.inputs:
            last[q] = j
    untouched = [q for q in range(net.widths[l]) if q not in last]
    after: dict[int, list[int]] = {}
    for q, j in sorted(last.items()):
        after.setdefault(j, []).append(q)
    return untouched, after


__all__ = ["layer_schedule"]
