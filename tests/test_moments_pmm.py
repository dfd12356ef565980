"""Theorem 2 exactly (issue 19): Var[d_s C] of parameter-matrix multiplication along GUE directions, by the register
recursion (dqnn.moments.pmm), against seeded sampling of the same ensemble (dqnn.trainability)."""

from __future__ import annotations

import numpy as np
import pytest

from dqnn.costs import CostKind
from dqnn.model.families import Circuit, HaarUnitary, RandomUnitary, Rot
from dqnn.model.network import Network, Perceptron
from dqnn.moments.exact import ProductStates
from dqnn.moments.pmm import exact_pmm_moments
from dqnn.presets.architectures import fig3b, global_haar
from dqnn.trainability import PointSpec, sample_gradients


@pytest.mark.parametrize(("cost", "n", "layers"), [("global", 2, 1), ("local", 3, 2)])
def test_pmm_moments_agree_with_sampling(cost: CostKind, n: int, layers: int) -> None:
    x = ProductStates.zeros(1, n)
    t = ProductStates.zeros(1, n) if cost == "global" else x.factors
    ex = exact_pmm_moments(global_haar([n] * (layers + 1)), x, t, cost)
    assert ex.trusted and ex.mean == 0.0 and ex.relative_error < 1e-12
    g = sample_gradients(PointSpec("pmm", cost, n, layers), 2000, seed=3)
    se = (g**2).std() / np.sqrt(len(g))
    assert abs((g**2).mean() - ex.second_moment) <= 4 * se, (ex.second_moment, (g**2).mean(), se)
    assert abs(g.mean()) <= 4 * g.std() / np.sqrt(len(g))


def test_pmm_moments_decay_as_theorem_2_says() -> None:
    """Exponential in n for the global cost (Eq. 14), polynomial for the local one, at widths no sampler reaches."""
    glob: list[float] = []
    loc: list[float] = []
    for n in (6, 12, 24):
        x = ProductStates.zeros(1, n)
        net = global_haar([n] * 3)
        for out, t, kind in ((glob, ProductStates.zeros(1, n), "global"), (loc, x.factors, "local")):
            ex = exact_pmm_moments(net, x, t, kind)  # type: ignore[arg-type]
            assert ex.trusted and ex.relative_error < 1e-12
            out.append(ex.log10_variance)
    assert glob[1] < glob[0] - 6 * np.log10(2) and glob[2] < glob[1] - 12 * np.log10(2)  # at least 2^(-n)
    assert loc[0] - loc[2] < glob[0] - glob[2]  # the local cost decays more slowly


def test_pmm_needs_a_network_of_haar_perceptrons() -> None:
    x = ProductStates.zeros(1, 2)
    with pytest.raises(ValueError, match=r"perceptron L0P0 \(family Circuit\) is not a single 2-design"):
        circ = Circuit(3, [RandomUnitary((0, 1, 2)), Rot("Y", (0,)), RandomUnitary((0, 1, 2))])
        exact_pmm_moments(Network([2, 1], [[Perceptron([0, 1], [0], circ)]]), x, ProductStates.zeros(1, 1))
    with pytest.raises(ValueError, match="does not act on every input"):
        exact_pmm_moments(Network([2, 1], [[Perceptron([0], [0], HaarUnitary(2))]]), x, ProductStates.zeros(1, 1))
    with pytest.raises(ValueError, match="not a single 2-design"):
        exact_pmm_moments(fig3b(2, 1), x, ProductStates.zeros(1, 2))


def test_one_pass_over_all_directions_is_the_sum_of_single_directions() -> None:
    """The register recursion sums the perceptrons' derivatives in one pass; the same, one perceptron at a time."""
    import dqnn.moments.exact as exact
    from dqnn.moments.pmm import pmm_block_matrix
    from dqnn.moments.registers import register_second_moment

    net = global_haar([3, 4, 2])
    x, t = ProductStates.zeros(1, 3), ProductStates.zeros(1, 2)
    ins = exact._parse_inputs(x, 3)
    obs = exact._parse_targets("global", t, 1, 2)
    traces = exact._input_traces(ins[0], ins[0], np.longdouble)
    diffs = [(l, j) for l, layer in enumerate(net.layers) for j in range(len(layer))]
    one = [
        float(
            register_second_moment(net, [d], pmm_block_matrix, traces, (obs[0][0], obs[0][1], obs[0][1]), np.longdouble)
        )
        for d in diffs
    ]
    assert all(v > 0 for v in one)
    assert exact_pmm_moments(net, x, t).second_moment == pytest.approx(sum(one), rel=1e-14)
