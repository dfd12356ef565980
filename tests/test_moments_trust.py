"""Exact moments that are never wrong silently (issue 19): validated error estimates, the register engine of global
2-designs against exact rational recursions, values below the double range, and the refusals.

The references here share no code with dqnn: the identity/swap (Weingarten) recursion of Theorem-1 networks in
exact rational arithmetic (Python fractions), once over every pattern configuration and once as a transfer-matrix
chain (checked against each other), and the closed form of Fig. 3a evaluated in 40-digit decimals.
"""

from __future__ import annotations

import itertools
import math
from decimal import Decimal, localcontext
from fractions import Fraction as Fr
from typing import Any

import numpy as np
import pytest

from dqnn.model.angles import AngleIndex
from dqnn.model.families import Circuit, Gate, HaarUnitary, RandomUnitary, Rot
from dqnn.model.network import Network, Perceptron
from dqnn.moments.exact import ExactMoments, ProductStates, exact_gradient_moments, exact_moments
from dqnn.moments.scaled import Scaled, normalise
from dqnn.moments.validation import TOLERANCE, judge
from dqnn.presets.problems import GradientProblem

# ---------------------------------------------------------------------------------------------------------------
# independent exact references for Theorem-1 networks (widths [n]*(L+1), every perceptron Haar on all inputs plus
# its output; the differentiated one A R_y(theta) B), cost |0..0> (global) or (1/n) sum_q |0><0|_q (local)
# ---------------------------------------------------------------------------------------------------------------


def ry_derivative_gram() -> list[list[Fr]]:
    """``Tr[P_a M'(P_b)]`` (a, b in {I, F}) on one qubit for the two-copy derivative of ``R_y(theta) X R_y^+``,
    averaged over theta by 5-point quadrature (exact for this degree-4 trigonometric polynomial), as fractions."""
    y = np.array([[0, -1j], [1j, 0]])
    eye = np.eye(2)
    swap = np.eye(4)[[0, 2, 1, 3]]
    pats = [np.eye(4), swap]
    g = np.zeros((2, 2))
    for k in range(5):
        th = 2 * np.pi * k / 5
        r = np.cos(th / 2) * eye - 1j * np.sin(th / 2) * y
        dr = -0.5 * np.sin(th / 2) * eye - 0.5j * np.cos(th / 2) * y
        for a, b in itertools.product(range(2), repeat=2):
            out = 0
            for k1, b1 in ((dr, r), (r, dr)):
                for k2, b2 in ((dr, r), (r, dr)):
                    out = out + np.kron(k1, k2) @ pats[b] @ np.kron(b1, b2).conj().T
            g[a, b] += np.trace(pats[a] @ out).real / 5
    return [[Fr(round(x * 64), 64) for x in row] for row in g]


def _wg(d: int) -> list[list[Fr]]:
    a, b = Fr(1, d * d - 1), Fr(-1, d * (d * d - 1))
    return [[a, b], [b, a]]


def _g(a: int, b: int, d: int) -> int:
    """``Tr[P_a P_b]`` on two copies of dimension ``d``."""
    return d * d if a == b else d


def _local_weight(cfg: tuple[int, ...], n: int) -> Fr:
    """``Tr[(O (x) O) (x)_q P_{cfg_q}]`` for the local cost ``O = (1/n) sum_q |0><0|_q``."""
    total = Fr(0)
    for q, q2 in itertools.product(range(n), repeat=2):
        prod = 1
        for r, p in enumerate(cfg):
            a, b = (r == q), (r == q2)  # |0><0| (trace 1) or I (trace 2) in each copy
            if p == 0:
                prod *= (1 if a else 2) * (1 if b else 2)
            else:
                prod *= 1 if (a or b) else 2  # Tr[A B]
        total += prod
    return total / (n * n)


def theorem1_configurations(n: int, layers: int, cost: str, diff: tuple[int, int] = (0, 0)) -> Fr:
    """``E[(d C)^2]`` exactly, with the two-copy state kept over every identity/swap configuration."""
    gw = ry_derivative_gram()
    da, dim = 2**n, 2 ** (n + 1)
    wg = _wg(dim)
    state: dict[tuple[int, ...], Fr] | None = None
    for l in range(layers):
        if state is None:
            tau = [Fr(1), Fr(1)]
        else:
            tau = [sum((c * math.prod(_g(t, p, 2) for p in cfg) for cfg, c in state.items()), Fr(0)) for t in range(2)]
        cur: dict[tuple[int, ...], list[Fr]] = {(): [wg[s][0] * tau[0] + wg[s][1] * tau[1] for s in range(2)]}
        for j in range(n):
            if j > 0:
                new: dict[tuple[int, ...], list[Fr]] = {}
                for outs, cs in cur.items():
                    for s in range(2):
                        vec = new.setdefault(outs + (s,), [Fr(0), Fr(0)])
                        for s2 in range(2):
                            vec[s2] += sum(wg[s2][t] * _g(t, s, da) for t in range(2)) * cs[s]
                cur = new
            if (l, j) == diff:
                for outs, cs in list(cur.items()):
                    tau2 = [sum((gw[t][s] * _g(t, s, dim // 2) * cs[s] for s in range(2)), Fr(0)) for t in range(2)]
                    cur[outs] = [wg[s2][0] * tau2[0] + wg[s2][1] * tau2[1] for s2 in range(2)]
        state = {}
        for outs, cs in cur.items():
            for s in range(2):
                state[outs + (s,)] = state.get(outs + (s,), Fr(0)) + cs[s] * (da * da if s == 0 else da)
    assert state is not None
    if cost == "global":
        return sum(state.values(), Fr(0))
    return sum((c * _local_weight(cfg, n) for cfg, c in state.items()), Fr(0))


def theorem1_chain(n: int, layers: int, cost: str, num: Any = Fr, diff: tuple[int, int] = (0, 0)) -> Any:
    """The same moment as a transfer-matrix chain over the output qubits (bond: the pattern of the block in
    progress), in the identity/swap basis, with numbers of type ``num`` (Fraction, or Decimal at a set precision)."""
    gw = [[num(int(x)) for x in row] for row in ry_derivative_gram()]
    da, dim = 2**n, 2 ** (n + 1)
    one, zero = num(1), num(0)
    a, b = one / num(dim * dim - 1), -one / num(dim * (dim * dim - 1))
    wg = [[a, b], [b, a]]
    # transfer between consecutive blocks: R[s2][s] = sum_t Wg[s2][t] Tr_A[P_t P_s]
    rmat = [[sum((wg[s2][t] * _g(t, s, da) for t in range(2)), zero) for s in range(2)] for s2 in range(2)]
    kmat = [
        [sum((wg[s2][t] * gw[t][s] * _g(t, s, dim // 2) for t in range(2)), zero) for s in range(2)] for s2 in range(2)
    ]

    def layer(l: int, c0: list[Any], site: Any, bond: int) -> list[Any]:
        """Run layer ``l`` from block coefficients ``c0``; ``site(s)``: the (bond x bond) weight of an output in
        pattern ``s``; returns the bond vector after tracing out the inputs."""
        v = [[c0[s] if b == 0 else zero for b in range(bond)] for s in range(2)]  # v[s][beta]
        for j in range(n):
            if (l, j) == diff:
                v = [[sum((kmat[s2][s] * v[s][b] for s in range(2)), zero) for b in range(bond)] for s2 in range(2)]
            if j + 1 < n:
                w = [
                    [
                        [sum((v[s][b] * site(s)[b][b2] for b in range(bond)), zero) for b2 in range(bond)]
                        for s in range(2)
                    ]
                ]
                v = [
                    [sum((rmat[s2][s] * w[0][s][b2] for s in range(2)), zero) for b2 in range(bond)] for s2 in range(2)
                ]
        tr_a = [num(da * da), num(da)]
        return [
            sum((tr_a[s] * v[s][b] * site(s)[b][b2] for s in range(2) for b in range(bond)), zero) for b2 in range(bond)
        ]

    tau = [one, one]
    for l in range(layers):
        c0 = [sum((wg[s][t] * tau[t] for t in range(2)), zero) for s in range(2)]
        if l + 1 < layers:  # tau_t = Tr[P_t X]: per output qubit Tr[P_t P_s] = 4 or 2, bond 1
            tau = [layer(l, c0, lambda s, t=t: [[num(_g(t, s, 2))]], 1)[0] for t in range(2)]
        elif cost == "global":
            return layer(l, c0, lambda s: [[one]], 1)[0]
        else:  # local: bond (placed in copy 1, placed in copy 2), weights Tr[(A (x) B) P_s]

            def site(s: int) -> list[list[Any]]:
                m = [[zero] * 4 for _ in range(4)]
                for bx, by in itertools.product(range(2), repeat=2):
                    for cx, cy in itertools.product(range(2), repeat=2):
                        if cx < bx or cy < by:
                            continue
                        px, py = cx > bx, cy > by  # this qubit carries the projector in that copy
                        val = ((1 if px else 2) * (1 if py else 2)) if s == 0 else (1 if (px or py) else 2)
                        m[2 * bx + by][2 * cx + cy] = num(val) / (num(n) if px else one) / (num(n) if py else one)
                return m

            return layer(l, c0, site, 4)[3]
    raise AssertionError


@pytest.mark.parametrize(
    ("n", "layers", "cost"), [(2, 5, "global"), (3, 3, "local"), (4, 4, "local"), (5, 6, "global")]
)
def test_the_two_rational_references_agree(n: int, layers: int, cost: str) -> None:
    assert theorem1_configurations(n, layers, cost) == theorem1_chain(n, layers, cost)


@pytest.mark.parametrize(
    ("n", "layers", "cost", "diff"),
    [
        (1, 3, "global", (0, 0)),
        (2, 6, "global", (0, 0)),
        (3, 4, "local", (0, 0)),
        (4, 8, "global", (0, 0)),
        (5, 12, "global", (2, 3)),
        (6, 6, "local", (1, 2)),
        (8, 16, "global", (0, 0)),  # the tensor network gave -6.1e-28 here
        (16, 6, "global", (0, 0)),  # and 540x the true value here
        (16, 8, "local", (3, 5)),
    ],
)
def test_theorem1_matches_the_exact_rational_recursion(n: int, layers: int, cost: str, diff: tuple[int, int]) -> None:
    want = theorem1_chain(n, layers, cost, diff=diff)
    ex = exact_moments(GradientProblem("global", n, layers, cost, index=AngleIndex(*diff, 0)))  # type: ignore[arg-type]
    assert ex.trusted and ex.reason is None
    assert abs(Fr(ex.variance) / want - 1) <= 1e-10, (ex.variance, float(want))
    assert ex.relative_error <= 1e-10
    assert ex.mean == 0.0
    if n >= 8:
        assert "register" in ex.method


@pytest.mark.parametrize("cost", ["global", "local"])
def test_theorem1_n64_depth32_against_a_high_precision_recursion(cost: str) -> None:
    """At n = 64 the references' fractions are too large: the chain in 900- and 1300-digit decimals instead (the
    identity/swap cancellation costs it about 700 digits here; the two must agree to 30). The variance is about
    1e-649 (global) and 1e-616 (local), far below the double range: compared in log10, 1e-10 relative."""
    vals = []
    for prec in (900, 1300):
        with localcontext() as ctx:
            ctx.prec = prec
            vals.append(theorem1_chain(64, 32, cost, num=Decimal))
    with localcontext() as ctx:
        ctx.prec = 50
        assert abs(vals[0] / vals[1] - 1) < Decimal("1e-30")
        want = vals[1].log10()
    ex = exact_moments(GradientProblem("global", 64, 32, cost))  # type: ignore[arg-type]
    assert ex.trusted and ex.relative_error <= 1e-10
    assert ex.variance == 0.0 and abs(Decimal(ex.log10_variance) - want) <= Decimal(1e-10 / math.log(10))
    assert ex.seconds < 10


# ---------------------------------------------------------------------------------------------------------------
# never wrong silently
# ---------------------------------------------------------------------------------------------------------------


def test_the_tensor_network_alone_is_flagged_where_it_loses_its_digits() -> None:
    """Theorem 1 by the tensor network alone: n = 8, depth 16 (it gave -6.1e-28 with no warning; the true value is
    3.7e-41) and n = 10, depth 8 (about 1% off). Flagged, with an error estimate no smaller than the true error
    (capped at 1: beyond that the value has no digit left)."""
    for n, layers in ((8, 16), (10, 8)):
        ex = exact_moments(GradientProblem("global", n, layers, "global"), engine="network")
        assert not ex.trusted and ex.reason is not None
        assert ex.relative_error > TOLERANCE
        true = theorem1_chain(n, layers, "global")
        if math.isnan(ex.variance):
            assert "negative variance" in ex.reason and math.isnan(ex.log10_variance)
        else:
            assert "exceeds" in ex.reason
            actual = abs(Fr(ex.variance) / true - 1)
            assert min(ex.relative_error, 1.0) >= min(actual, 1), (n, layers, ex.relative_error, float(actual))
            assert actual > 1e-3  # still wrong: the flag is what protects the caller


def test_a_negative_variance_is_never_reported() -> None:
    v = judge(Scaled.of(np.float64(-6.1e-28)), Scaled.of(np.float64(1e-30)), 1e-20, "test")
    assert not v.trusted and math.isnan(v.log10_variance) and "negative variance" in (v.reason or "")
    v = judge(Scaled.of(np.float64(1e-28)), Scaled.of(np.float64(1e-28)), 2e-6, "test")
    assert not v.trusted and "exceeds" in (v.reason or "")
    v = judge(Scaled.of(np.float64(1e-28)), Scaled.of(np.float64(1e-28)), 1e-7, "test")
    assert v.trusted and v.reason is None


def test_every_result_carries_its_validation() -> None:
    ex = exact_moments(GradientProblem("fig3b", 4, 2, "local"))
    d = ex.as_dict()
    for key in ("trusted", "reason", "relative_error", "log10_variance", "log10_second_moment", "checks"):
        assert key in d
    assert d["trusted"] and d["relative_error"] < 1e-12
    assert d["log10_variance"] == pytest.approx(math.log10(ex.variance), abs=1e-14)
    by_hand = ExactMoments(0.0, 1.0, 1.0, "by hand", 0.0, 0, 0)
    assert not by_hand.trusted and "not validated" in (by_hand.reason or "")


# ---------------------------------------------------------------------------------------------------------------
# below the double range
# ---------------------------------------------------------------------------------------------------------------


def _log10_fig3a_global(n: int) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 40
        return (Decimal(1) / 8).log10() + (n - 1) * (Decimal(3) / 8).log10()


def test_fig3a_global_far_below_the_double_range() -> None:
    """Var = (1/8) (3/8)^(n-1): 1e-4260 at n = 10,000 (it was exactly 0.0 from n ~ 760, with no warning)."""
    for n in (760, 10_000):
        ex = exact_moments(GradientProblem("fig3a", n, 1, "global"))
        assert ex.trusted
        assert abs(Decimal(ex.log10_variance) - _log10_fig3a_global(n)) <= Decimal("1e-12"), n
        assert ex.variance == 0.0  # below the double range: the logarithm carries it
    assert ex.seconds < 30


def test_fig3b_global_one_brick_layer_below_the_double_range() -> None:
    """Fig. 3b, global cost, 2 DQNN layers (one brick layer): the network splits into independent pairs, so log10 Var
    is exactly linear in n; at n = 640 Var ~ 1e-335 (exactly 0.0 before, with no warning, at n = 1024)."""
    logs = {n: exact_moments(GradientProblem("fig3b", n, 2, "global")).log10_variance for n in (16, 32, 640)}
    slope = (logs[32] - logs[16]) / 16
    assert slope == pytest.approx(math.log10(0.3), abs=1e-13)
    assert logs[640] == pytest.approx(logs[16] + 624 * slope, abs=1e-11)
    assert logs[640] < -308


def test_theorem1_below_the_double_range() -> None:
    """n = 600, depth 2: Var ~ 2^(-2n) ~ 1e-361, against the chain in 400-digit decimals."""
    with localcontext() as ctx:
        ctx.prec = 400
        want = theorem1_chain(600, 2, "global", num=Decimal)
        ex = exact_moments(GradientProblem("global", 600, 2, "global"))
        assert ex.trusted and ex.variance == 0.0
        assert abs(Decimal(ex.log10_variance) - want.log10()) <= Decimal("1e-12")


# ---------------------------------------------------------------------------------------------------------------
# the register engine is chosen by structure: user networks, and networks without the structure
# ---------------------------------------------------------------------------------------------------------------


def _user_network() -> Network:
    """[3, 2, 2] with a k = 2 block: global Haar perceptrons, and a differentiated A (gates, two rotations) B."""
    diff = Circuit(
        4,
        [
            RandomUnitary((0, 1, 2, 3)),
            Gate("CNOT", (0, 3)),
            Rot("X", (3,)),
            Rot("ZZ", (1, 2)),
            RandomUnitary((0, 1, 2, 3)),
        ],
    )
    return Network(
        [3, 2, 2],
        [
            [Perceptron([0, 1, 2], [0], diff), Perceptron([0, 1, 2], [1], HaarUnitary(4))],
            [Perceptron([0, 1], [0, 1], HaarUnitary(4))],
        ],
    )


@pytest.mark.parametrize("angle", [0, 1])
@pytest.mark.parametrize("theta", [None, 0.4])
def test_user_network_of_global_designs_agrees_with_the_tensor_network(angle: int, theta: float | None) -> None:
    net = _user_network()
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 8, 8)) + 1j * rng.normal(size=(2, 8, 8))
    rho = np.stack([m @ m.conj().T / np.trace(m @ m.conj().T) for m in x])  # two mixed inputs
    t = rng.normal(size=(2, 2, 2)) + 1j * rng.normal(size=(2, 2, 2))
    t /= np.linalg.norm(t, axis=2, keepdims=True)  # product targets, per qubit (local cost)
    glob = np.stack([np.kron(a[0], a[1]) for a in t])
    for kind, targets in (("local", t), ("global", glob)):
        idx = AngleIndex(0, 0, angle)
        reg = exact_gradient_moments(net, idx, rho, targets, kind, theta=theta, engine="registers")  # type: ignore[arg-type]
        tn = exact_gradient_moments(net, idx, rho, targets, kind, theta=theta, engine="network")  # type: ignore[arg-type]
        assert reg.trusted and tn.trusted
        assert "register" in reg.method and "register" not in tn.method
        assert reg.variance == pytest.approx(tn.variance, rel=1e-11)
        assert reg.variance > 1e-6
        assert abs(tn.mean) < 1e-15 and reg.mean == 0.0


def test_unwritten_outputs_and_blocks_out_of_order() -> None:
    """Outputs no perceptron writes stay |0> (non-strict wiring), blocks written out of qubit order."""
    diff = Circuit(3, [RandomUnitary((0, 1, 2)), Rot("Y", (2,)), RandomUnitary((0, 1, 2))])
    net = Network(
        [2, 3, 2],
        [
            [Perceptron([0, 1], [2], diff), Perceptron([0, 1], [0], HaarUnitary(3))],
            [Perceptron([0, 1, 2], [1], HaarUnitary(4))],
        ],
    )
    x = ProductStates.zeros(1, 2)
    for kind, t in (("global", ProductStates.zeros(1, 2)), ("local", x.factors)):
        a = exact_gradient_moments(net, AngleIndex(0, 0, 0), x, t, kind, engine="registers")  # type: ignore[arg-type]
        b = exact_gradient_moments(net, AngleIndex(0, 0, 0), x, t, kind, engine="network")  # type: ignore[arg-type]
        assert a.trusted and b.trusted and a.variance > 1e-4
        assert a.variance == pytest.approx(b.variance, rel=1e-12)


def test_networks_without_the_structure_are_not_sent_to_the_register_engine() -> None:
    with pytest.raises(ValueError, match=r"engine 'registers' does not apply: perceptron L0P0 does not act on every"):
        exact_moments(GradientProblem("fig3b", 4, 2, "global"), engine="registers")
    with pytest.raises(ValueError, match=r"engine 'registers' does not apply: .*not a product or the local cost"):
        net = _user_network()
        exact_gradient_moments(net, AngleIndex(0, 0, 0), ProductStates.zeros(1, 3), np.eye(4)[None], "observable",
                               engine="registers")  # fmt: skip
    circ = Circuit(3, [Rot("Y", (0,)), RandomUnitary((0, 1, 2))])  # no twirl before the rotation
    net = Network([2, 1], [[Perceptron([0, 1], [0], circ)]])
    with pytest.raises(ValueError, match="does not begin and end with a 2-design twirl"):
        exact_gradient_moments(net, AngleIndex(0, 0, 0), ProductStates.zeros(1, 2), ProductStates.zeros(1, 1),
                               engine="registers")  # fmt: skip
    with pytest.raises(ValueError, match="engine 'fast'"):
        exact_moments(GradientProblem("fig3a", 2, 1, "global"), engine="fast")  # type: ignore[arg-type]


def test_an_angle_of_a_perceptron_without_one_names_it_and_its_family() -> None:
    p = GradientProblem("global", 2, 2, "global")
    net = p.network()
    x, t = ProductStates.zeros(1, 2), ProductStates.zeros(1, 2)
    with pytest.raises(ValueError, match=r"angle L1P0A0: perceptron L1P0 \(family HaarUnitary\) has no angle"):
        exact_gradient_moments(net, AngleIndex(1, 0, 0), x, t)
    with pytest.raises(ValueError, match=r"perceptron L0P0 \(family Circuit\) has 1 angle\(s\)"):
        exact_gradient_moments(net, AngleIndex(0, 0, 2), x, t)


# ---------------------------------------------------------------------------------------------------------------
# the scaled numbers
# ---------------------------------------------------------------------------------------------------------------


def test_scaled_numbers_are_exact_rescalings() -> None:
    a = np.array([3e-300, -1e-310, 0.0], dtype=np.float64)
    m, e = normalise(a)
    np.testing.assert_array_equal(np.ldexp(m, e), a)  # exact
    assert 0.5 <= np.max(np.abs(m)) < 1
    x = Scaled(np.longdouble(0.75), -20000)
    y = Scaled(np.longdouble(0.5), -20001)
    assert (x - y).log10_abs() == pytest.approx(math.log10(0.5) - 20000 * math.log10(2), abs=1e-9)
    assert float(x) == 0.0 and float(Scaled.of(np.float64(6.0))) == 6.0
    assert Scaled.of(np.float64(1.0)).relative_to(Scaled.of(np.float64(1.0 + 2**-40))) == pytest.approx(2**-40)
