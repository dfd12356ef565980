"""Theorem 2 exactly: moments of ``d_s C`` for parameter-matrix multiplication along a random Gaussian direction.

In PMM (Beer et al., the paper's Eq. 13) every perceptron's matrix moves as ``U_j -> exp(i s H_j) U_j``; a random
direction draws each ``H_j`` independently from the GUE, normalised to ``Tr H_j^2 = 2**q``
(:func:`dqnn.trainability.sampling.random_generator`), and ``d_s C`` at ``s = 0`` is what Theorem 2 bounds. For a
network whose perceptrons are all global 2-designs (:mod:`dqnn.moments.registers`: each a Haar unitary on all
inputs of its layer and its outputs), its moments follow without sampling from two Gaussian moments of ``H``:

- ``E[H] = 0``, so ``E[d_s C] = 0`` and, the ``H_j`` being independent, the cross terms of
  ``(sum_j d_{s_j} C)^2`` vanish: ``E[(d_s C)^2] = sum_j E[(d_{s_j} C)^2]``;
- ``E[H (x) H] = F / D`` (``D = 2**q``; isotropy of the GUE in the Hilbert-Schmidt space of Hermitian matrices: the
  normalisation changes the norm, not the direction) and ``E[H^2] = 1``. The two-copy derivative map
  ``X -> -[H (x) 1, [1 (x) H, X]]`` then sends ``I`` to ``0`` and ``F`` to ``2 F - 2 I / D = 2 F~``: in the basis
  ``(I, F~)`` of :mod:`dqnn.moments.registers` it is ``diag(0, 2)``, and it keeps the commutant, so the register
  recursion runs through it unchanged.
"""

from __future__ import annotations

import time

import numpy as np
from numpy.typing import ArrayLike

from dqnn.costs import CostKind
from dqnn.model.network import Network
from dqnn.model.protocol import MomentElement, MomentTwirl
from dqnn.moments import exact
from dqnn.moments.exact import ExactMoments, ProductStates
from dqnn.moments.registers import register_second_moment, register_structure
from dqnn.moments.scaled import Scaled
from dqnn.moments.validation import judge

METHOD = "exact: PMM direction (GUE moments E[H(x)H] = F/D) by the register recursion, " + str(
    np.dtype(np.longdouble).name
)


def pmm_block_matrix(q: int, dtype: type) -> np.ndarray:
    """The averaged two-copy derivative of ``exp(i s H) U`` on a block of ``q`` qubits, basis ``(I, F - I/D)``."""
    return np.array([[0, 0], [0, 2]], dtype=dtype)


def exact_pmm_moments(
    net: Network,
    inputs: ArrayLike | ProductStates,
    targets: ArrayLike | ProductStates,
    cost_kind: CostKind = "global",
) -> ExactMoments:
    """Exact ``E[d_s C]`` (zero) and ``E[(d_s C)^2]`` over Haar initialisations and GUE directions (module doc).

    ``net``: every perceptron a global 2-design alone (e.g. :func:`dqnn.presets.architectures.global_haar`, the
    ``pmm`` preset), with the structure of :mod:`dqnn.moments.registers` (ValueError saying which perceptron
    lacks it); ``inputs``, ``targets``, ``cost_kind`` (``"global"`` or ``"local"``) as for
    :func:`~dqnn.moments.exact.exact_gradient_moments`. Validated as every exact value (two precisions).
    """
    t0 = time.perf_counter()
    elements: dict[tuple[int, int], tuple[MomentElement, ...]] = {}
    for l, layer in enumerate(net.layers):
        for j, p in enumerate(layer):
            els = exact._moment_elements(p.unitary, f"perceptron L{l}P{j}")
            every = tuple(range(p.unitary.num_qubits))
            if len(els) != 1 or not isinstance(els[0], MomentTwirl) or tuple(sorted(els[0].wires)) != every:
                raise ValueError(
                    f"exact PMM moments: perceptron L{l}P{j} (family {type(p.unitary).__name__}) is not a single "
                    "2-design of all its wires (a HaarUnitary)"
                )
            elements[(l, j)] = els
    why_not = register_structure(net, elements)
    if why_not is not None:
        raise ValueError(f"exact PMM moments: the network lacks the structure of dqnn.moments.registers: {why_not}")
    if cost_kind not in ("global", "local"):
        raise ValueError(f"exact PMM moments: cost_kind {cost_kind!r} is not 'global' or 'local'")
    ins = exact._parse_inputs(inputs, net.num_inputs)
    obs = exact._parse_targets(cost_kind, targets, len(ins), net.num_outputs)
    if any(o[0] not in ("product", "local") for o in obs):
        raise ValueError("exact PMM moments: the target must be a product state (global cost) or the local cost")
    npairs = len(ins)
    vals = {}
    dtype = np.longdouble
    for name, bits in (("ext", None), ("double", 53)):
        total = Scaled(dtype(0), 0)
        for i in range(npairs):  # all perceptrons' directions in one pass (their second moments add)
            for k in range(npairs):
                total = total + register_second_moment(
                    net,
                    list(elements),
                    pmm_block_matrix,
                    exact._input_traces(ins[i], ins[k], dtype),
                    (obs[i][0], obs[i][1], obs[k][1]),
                    dtype,
                    bits,
                )
        vals[name] = total.scale(1.0 / npairs**2)
    m2 = vals["ext"]
    rel = vals["double"].relative_to(m2)
    verdict = judge(m2, m2, rel, "register recursion: 53-bit rounding vs " + np.dtype(np.longdouble).name)
    return ExactMoments(
        mean=0.0,
        second_moment=float(m2),
        variance=float(m2) if verdict.log10_variance == verdict.log10_variance else float("nan"),
        method=METHOD,
        seconds=time.perf_counter() - t0,
        largest_intermediate=8,
        num_tensors=len(elements),
        double_rounding=rel,
        validation=verdict,
    )


__all__ = ["METHOD", "exact_pmm_moments", "pmm_block_matrix"]
