"""The line engine of exact fourth moments (:mod:`dqnn.moments.line4`) against engines that share no code with it.

- the dense four-copy network of :mod:`dqnn.moments.fourth` (256-dimensional qubit legs, every gate applied) on
  Fig. 3b at n = 4 (depths 1-3) and n = 6, both costs, and on a user network of the same shape that is no preset
  (other wiring, an X rotation, an H inside the sandwich, a one-qubit Haar block, random product inputs and
  targets, the angle in layer 1);
- its own second moment (t = 2 copies of the same construction) against :func:`exact_gradient_moments` (the
  two-copy engines: MPS sweep / commutant network) at n = 16;
- refusals naming the perceptron, and the size guard at Fig. 3b n = 16 with log2(n) brick layers.

The comparison with sampling at n = 16 is in ``benchmarks/results_moments.md`` (a JIT compile of 10 s).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from dqnn.costs import CostKind
from dqnn.model.families import Circuit, FamilyDefaults, Gate, RandomUnitary, Rot
from dqnn.model.network import Network, Perceptron
from dqnn.model.protocol import MomentTwirl
from dqnn.moments import line4
from dqnn.moments.exact import exact_moments
from dqnn.moments.fourth import exact_fourth_moment
from dqnn.moments.mps import NotLine
from dqnn.presets.problems import GradientProblem


@pytest.mark.parametrize(("n", "layers"), [(4, 1), (4, 2), (4, 3), (6, 2)])
@pytest.mark.parametrize("cost", ["global", "local"])
def test_fig3b_against_the_dense_engine(n: int, layers: int, cost: CostKind) -> None:
    p = GradientProblem("fig3b", n, layers, cost)
    a = line4.line_fourth_moment(p)
    b = exact_fourth_moment(p, engine="dense")
    assert math.isclose(a.m4, b.m4, rel_tol=1e-10)
    assert math.isclose(a.m2, b.m2, rel_tol=1e-10)
    assert math.isclose(a.kurtosis, b.kurtosis, rel_tol=1e-10)
    assert a.mean == 0.0 and a.relative_error < 1e-10
    assert a.kurtosis > 1.0  # m4 >= m2^2 (Jensen), and the gradient is not constant


def _user_network() -> tuple[Network, Perceptron]:
    """Widths [5, 5, 4]: layer 0 mixes pairs (1, 2) and (3, 4) with an R_x sandwich, layer 1 is a brick with a
    plain Haar block, the R_y sandwich that is differentiated (an H inside it); input 0 first goes through a
    one-qubit Haar block (a twirl whose Gram matrix is singular: the pseudo-inverse)."""
    w_x = Circuit(3, [RandomUnitary((0, 1)), Rot("X", (1,)), RandomUnitary((0, 1)), Gate("SWAP", (0, 2))])
    w_y = Circuit(
        3, [RandomUnitary((0, 1)), Gate("H", (0,)), Rot("Y", (0,)), RandomUnitary((0, 1)), Gate("SWAP", (1, 2))]
    )
    move = Circuit(2, [Gate("SWAP", (0, 1))])
    one = Circuit(2, [RandomUnitary((0,)), Gate("SWAP", (0, 1))])  # a one-qubit Haar block (pseudo-inverse)
    layer0 = [Perceptron([0], [0], one), Perceptron([1, 2], [1], w_x), Perceptron([2], [2], move)]
    layer0 += [Perceptron([3, 4], [3], w_x), Perceptron([4], [4], move)]
    mix = Circuit(3, [RandomUnitary((0, 1)), Gate("SWAP", (0, 2))])
    layer1 = [Perceptron([0, 1], [0], mix), Perceptron([2, 3], [2], w_y), Perceptron([1], [1], move)]
    layer1 += [Perceptron([4], [3], one)]
    return Network([5, 5, 4], [layer0, layer1], strict=True), layer1[1]


@pytest.mark.parametrize("cost", ["global", "local"])
def test_user_network_against_the_dense_engine(cost: CostKind) -> None:
    from dqnn.model.angles import AngleIndex

    net, _ = _user_network()
    rng = np.random.default_rng(7)
    fx = rng.normal(size=(5, 2)) + 1j * rng.normal(size=(5, 2))
    fx /= np.linalg.norm(fx, axis=1, keepdims=True)
    ft = rng.normal(size=(4, 2)) + 1j * rng.normal(size=(4, 2))
    ft /= np.linalg.norm(ft, axis=1, keepdims=True)
    idx = AngleIndex(1, 1, 0)  # layer 1, perceptron 1 (w_y), its R_y
    a = line4.line_fourth_moment(net, idx, fx, ft, cost)
    b = exact_fourth_moment(net, idx, fx, ft, cost, engine="dense")
    assert math.isclose(a.m4, b.m4, rel_tol=1e-10) and math.isclose(a.m2, b.m2, rel_tol=1e-10)
    assert a.kurtosis > 1.0


@pytest.mark.parametrize("cost", ["global", "local"])
def test_second_moment_matches_the_two_copy_engines_at_n16(cost: CostKind) -> None:
    p = GradientProblem("fig3b", 16, 4, cost)
    m2 = line4.line_moment(p, copies=2)
    ref = exact_moments(p)
    assert math.isclose(float(m2.extended), ref.second_moment, rel_tol=1e-8)
    m1 = line4.line_moment(p, copies=1)
    assert abs(float(m1.extended)) < 1e-12 * math.sqrt(ref.second_moment)
    # the auto dispatch of exact_fourth_moment takes the line engine at this width, with the same m2
    fm = exact_fourth_moment(p)
    assert math.isclose(fm.m2, ref.second_moment, rel_tol=1e-8)
    assert fm.samples_needed(0.1) == math.ceil((fm.kurtosis - 1) / 0.01)


def test_wide_deep_network_is_refused_by_size() -> None:
    with pytest.raises(MemoryError, match="MAX_INTERMEDIATE"):
        line4.line_fourth_moment(GradientProblem("fig3b", 16, 8, "global"))


class _TwoDesign(FamilyDefaults):
    """A family that only declares a 2-design twirl on its wires (not known to be Haar)."""

    num_qubits = 3
    num_angles = 0

    def init(self, key: object) -> dict[str, object]:
        return {}

    def ops(self, params: object) -> list[object]:
        return []

    def moment_elements(self) -> tuple[MomentTwirl, ...]:
        return (MomentTwirl((0, 1)), MomentTwirl((0, 2)))


def _two_blocks(first: object, second: object) -> Network:
    """[4, 4]: ``first`` on inputs 0, 1 writing output 0, ``second`` on inputs 2, 3 writing output 2; inputs 1 and 3
    moved to outputs 1 and 3 by SWAPs."""
    move = Circuit(2, [Gate("SWAP", (0, 1))])
    layer = [Perceptron([0, 1], [0], first), Perceptron([2, 3], [2], second)]
    return Network([4, 4], [layer + [Perceptron([1], [1], move), Perceptron([3], [3], move)]], strict=True)


def test_refusals_name_the_perceptron() -> None:
    from dqnn.model.angles import AngleIndex

    zeros4 = np.tile([1.0, 0.0], (4, 1))
    # the hardware-efficient W (CZ not covered by a twirl): not a line network
    ry_cz = Circuit(3, [Rot("Y", (0,)), Rot("Y", (1,)), Gate("CZ", (0, 1)), Gate("SWAP", (0, 2))])
    net = _two_blocks(ry_cz, ry_cz)
    with pytest.raises(NotLine, match="perceptron L0P"):
        line4.line_fourth_moment(net, AngleIndex(0, 0, 0), zeros4, zeros4)
    with pytest.raises(ValueError, match="perceptron L0P"):
        exact_fourth_moment(net, AngleIndex(0, 0, 0), zeros4, zeros4, engine="line")
    # a two-qubit differentiated rotation
    zz = Circuit(3, [RandomUnitary((0, 1)), Rot("ZZ", (0, 1)), RandomUnitary((0, 1)), Gate("SWAP", (0, 2))])
    net = _two_blocks(zz, zz)
    with pytest.raises(NotLine, match="perceptron L0P0: the differentiated rotation acts on 2 qubits"):
        line4.line_fourth_moment(net, AngleIndex(0, 0, 0), zeros4, zeros4)
    # a twirl of a family not known to be Haar
    w = Circuit(3, [RandomUnitary((0, 1)), Rot("Y", (0,)), RandomUnitary((0, 1)), Gate("SWAP", (0, 2))])
    net = _two_blocks(w, _TwoDesign())
    with pytest.raises(NotLine, match="perceptron L0P1: family _TwoDesign"):
        line4.line_fourth_moment(net, AngleIndex(0, 0, 0), zeros4, zeros4)
    # the dense engine refuses it too (a 2-design's fourth moment is not Haar's: no silent wrong value)
    with pytest.raises(ValueError, match="perceptron L0P1: family _TwoDesign"):
        exact_fourth_moment(net, AngleIndex(0, 0, 0), zeros4, zeros4, engine="dense")
    with pytest.raises(ValueError, match="engine"):
        exact_fourth_moment(GradientProblem("fig3b", 2, 1), engine="mps")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="copies"):
        line4.line_moment(GradientProblem("fig3b", 2, 1), copies=3)
    with pytest.raises(ValueError, match="inputs must be"):
        line4.line_fourth_moment(GradientProblem("fig3b", 4, 1).network(), AngleIndex(0, 0, 0), zeros4[:3], zeros4)
