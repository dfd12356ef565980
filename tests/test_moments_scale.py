"""The line engine (:mod:`dqnn.moments.mps`): exact second moments of wide networks of local 2-designs.

References: the two-copy tensor network of :mod:`dqnn.moments.exact` (``engine="network"``, no truncation,
validated against brute force in ``tests/test_moments.py``), at sizes where it runs. The MPS must agree with it to
1e-10 relative, on Fig. 3b (global and local cost) and on a hand-built network with other blocks (3-qubit twirls,
fixed gates that the twirls absorb, crossing SWAPs, an X rotation differentiated), its rigorous truncation bound
must hold, and its error estimate must not under-report a truncated value.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from dqnn.model.angles import AngleIndex
from dqnn.model.families import Circuit, Gate, RandomUnitary, Rot
from dqnn.model.network import Network, Perceptron
from dqnn.moments import exact as ex
from dqnn.moments import mps
from dqnn.moments.exact import ProductStates, exact_gradient_moments, exact_moments, problem_data
from dqnn.presets.problems import GradientProblem


def _rel(a: float, b: float) -> float:
    return abs(a - b) / abs(b)


@pytest.mark.parametrize(("n", "layers", "cost"), [(16, 8, "global"), (16, 8, "local")])
def test_fig3b_line_matches_tensor_network(n: int, layers: int, cost: str) -> None:
    p = GradientProblem("fig3b", n, layers, cost)
    line = exact_moments(p, engine="line")
    ref = exact_moments(p, engine="network")
    assert ref.trusted and line.trusted, (ref.reason, line.reason)
    assert line.method.startswith("exact: boundary MPS")
    assert _rel(line.second_moment, ref.second_moment) < 1e-10
    assert line.mean == 0.0 and abs(ref.mean) < 1e-14
    # the estimate is an honest upper estimate of the actual error here
    assert _rel(line.second_moment, ref.second_moment) <= max(line.relative_error, 1e-13)


def _hand_brick(n: int, layers: int) -> Network:
    """Not a preset: even layers of 3-qubit 2-design blocks (outputs their first qubit, a CZ before the twirl
    absorbed), odd layers of 2-qubit ``A R_x B`` blocks; SWAPs move every qubit to the next layer."""
    v3 = Circuit(4, [Gate("CZ", (0, 1)), RandomUnitary((0, 1, 2)), Gate("SWAP", (0, 3))])
    v2 = Circuit(3, [RandomUnitary((0, 1)), Rot("X", (1,)), RandomUnitary((0, 1)), Gate("SWAP", (0, 2))])
    move = Circuit(2, [Gate("SWAP", (0, 1))])
    rows = []
    for l in range(layers):
        if l % 2 == 0:
            starts = list(range(0, n - 2, 3))
            row = [Perceptron([j, j + 1, j + 2], [j], v3) for j in starts]
            covered = {j for s in starts for j in (s, s + 1, s + 2)}
            row += [Perceptron([j + 1], [j + 1], move) for j in starts] + [
                Perceptron([j + 2], [j + 2], move) for j in starts
            ]
            row += [Perceptron([j], [j], move) for j in range(n) if j not in covered]
        else:
            starts = list(range(1, n - 1, 2))
            row = [Perceptron([j, j + 1], [j], v2) for j in starts]
            row += [Perceptron([j], [j], move) for j in range(n) if j not in starts]
        rows.append(row)
    return Network([n] * (layers + 1), rows, strict=True)


@pytest.mark.parametrize("cost", ["global", "local"])
def test_hand_built_network_line_matches_tensor_network(cost: str) -> None:
    n, layers = 9, 4
    net = _hand_brick(n, layers)
    idx = AngleIndex(1, 1, 0)  # the R_x of the pair block (3, 4) of layer 1
    rng = np.random.default_rng(7)
    f = rng.normal(size=(2, n, 2)) + 1j * rng.normal(size=(2, n, 2))
    f /= np.linalg.norm(f, axis=2, keepdims=True)
    x = ProductStates(f)
    t: ProductStates | np.ndarray = ProductStates(f[::-1].copy()) if cost == "global" else f[::-1].copy()
    line = exact_gradient_moments(net, idx, x, t, cost, engine="line")
    ref = exact_gradient_moments(net, idx, x, t, cost, engine="network")
    assert ref.trusted and line.trusted
    assert _rel(line.second_moment, ref.second_moment) < 1e-10
    assert ref.second_moment > 0


def _plan(p: GradientProblem) -> tuple[mps.LinePlan, list[tuple]]:
    net = p.network()
    idx = p.angle_index(net)
    els = {(l, j): ex._moment_elements(pc.unitary, "t") for l, row in enumerate(net.layers) for j, pc in enumerate(row)}
    x, t = problem_data(p)
    ins = ex._parse_inputs(x, net.num_inputs)
    obs = ex._parse_targets(p.cost, t, 1, net.num_outputs)
    rot = ex._diff_rotation(els[(idx.layer, idx.perceptron)], idx.angle, None)
    plan, why = ex._line_plan(net, idx, rot, ins, obs, None, els)
    assert plan is not None, why
    return plan, [(ins[0][1], ins[0][1], obs[0], obs[0])]


@pytest.mark.parametrize("cost", ["global", "local"])
def test_rigorous_bound_holds_and_backward_sweep_agrees(cost: str) -> None:
    p = GradientProblem("fig3b", 10, 6, cost)
    ref = exact_moments(p, engine="network").second_moment
    plan, pairs = _plan(p)
    fx, fy, ox, oy = pairs[0]
    ins = np.stack([mps.span_vector(a, b) for a, b in zip(fx, fy, strict=True)])
    eff = mps.product_effect(ox[1], oy[1]) if cost == "global" else mps.local_effect(ox[1], oy[1], p.n)
    for tol in (1e-14, 1e-6, 1e-3):  # the bound must hold however coarse the truncation
        r = mps.sweep(plan, ins, eff, tol, backward=True)
        err_f = abs(float(r.forward) - ref)
        err_b = abs(float(r.backward) - ref)
        assert err_f <= float(r.forward_bound) + 1e-15 * ref
        assert err_b <= float(r.backward_bound) + 1e-15 * ref
        if tol == 1e-14:
            assert err_f / ref < 1e-12 and err_b / ref < 1e-12
    assert r.max_bond >= 1


def test_estimate_never_under_reports_a_truncated_value() -> None:
    p = GradientProblem("fig3b", 24, 8, "global")
    ref = exact_moments(p, engine="network")
    plan, pairs = _plan(p)
    for fine, coarse in ((1e-6, 1e-4), (1e-4, 1e-2), (1e-3, 1e-1)):
        res = mps.line_second_moment(plan, pairs, tolerance=fine, coarse_tolerance=coarse)
        actual = _rel(float(res.fine), ref.second_moment)
        assert actual <= res.coarse.relative_to(res.fine)
    capped = mps.line_second_moment(plan, pairs, max_bond=2)  # a hard cap: both sweeps truncated, visibly
    assert capped.max_bond == 2


def test_wide_values_below_double_range_match_the_tensor_network() -> None:
    p = GradientProblem("fig3b", 620, 2, "global")
    line = exact_moments(p, engine="line")
    ref = exact_moments(p, engine="network")
    assert line.method.startswith("exact: boundary MPS") and line.trusted and ref.trusted
    assert line.second_moment == 0.0 and line.log10_second_moment < -310  # below the double range
    assert abs(line.log10_second_moment - ref.log10_second_moment) < 1e-10 / math.log(10)
    assert line.as_dict()["log10_variance"] == line.log10_variance


def test_local_cone_keeps_only_the_terms_and_blocks_it_needs() -> None:
    plan, _ = _plan(GradientProblem("fig3b", 64, 6, "local"))
    cone, terms = mps.local_cone(plan)
    # forward cone of the block on qubits (0, 1) after 5 more brick sub-layers: qubits 0..6
    assert terms == tuple(range(7))
    assert sum(op.kind == "block" for op in cone.ops) < sum(op.kind == "block" for op in plan.ops) // 4


def test_refusals_name_the_perceptron() -> None:
    with pytest.raises(ValueError, match=r"engine 'line' does not apply: perceptron L0P\d+ element"):
        exact_moments(GradientProblem("fig3a", 4, 2, "global"), engine="line")
    net = Network(
        [3, 3],
        [[Perceptron([0, 2], [0], Circuit(3, [RandomUnitary((0, 1)), Rot("Y", (0,)), RandomUnitary((0, 1))]))]],
    )
    with pytest.raises(ValueError, match="does not apply"):
        exact_gradient_moments(
            net, AngleIndex(0, 0, 0), ProductStates.zeros(1, 3), ProductStates.zeros(1, 3), engine="line"
        )
    p = GradientProblem("fig3b", 6, 2, "global")
    with pytest.raises(ValueError, match="fixed angle"):
        x, t = problem_data(p)
        net = p.network()
        exact_gradient_moments(net, p.angle_index(net), x, t, "global", theta=0.3, engine="line")
