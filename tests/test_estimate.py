"""Finite-shot estimators (dqnn.estimators.shots): exact ingredients, unbiasedness, 1/sqrt(shots) errors, gradients."""

from __future__ import annotations

import math

import jax
import numpy as np
import pytest

import dqnn
from dqnn.estimators import shots as E
from dqnn.gradients import grad_autodiff
from dqnn.model.angles import shift_angle
from dqnn.presets.problems import GradientProblem
from dqnn.sim.simulate import Factors, output_factors

REPS = 400


def _setup(arch: str, n: int, layers: int, kind: str, seed: int = 1):
    pr = GradientProblem(arch, n, layers, kind)  # type: ignore[arg-type]
    net = pr.network()
    params = net.init(jax.random.key(seed))
    x, t = pr.data()
    return pr, net, params, x, t


@pytest.fixture(scope="module", params=[("fig3b", 3, 2), ("global", 2, 1)], ids=["fig3b-pure", "global-mixed"])
def case(request):
    """Output state of a pure (fig3b) and a mixed (global Haar) network, with the exact global and local costs."""
    arch, n, layers = request.param
    _, net, params, x, _ = _setup(arch, n, layers, "global")
    f = E.as_numpy(output_factors(net, params, x[0]))
    out = {}
    for kind in ("global", "local"):
        t = np.asarray(GradientProblem(arch, n, layers, kind).data()[1][0])  # type: ignore[arg-type]
        exact = dqnn.global_term(f, t) if kind == "global" else dqnn.local_term(f, t)
        out[kind] = (f, t, float(exact))
    return out


def test_cases_cover_pure_and_mixed(case, request):
    f = case["global"][0]
    rho = np.asarray(f.density())
    purity = float(np.real(np.trace(rho @ rho)))
    assert (purity > 1 - 1e-9) == ("pure" in request.node.callspec.id)
    assert (f.b is None) == ("pure" in request.node.callspec.id)


def test_completing_unitary_first_column_is_target():
    rng = np.random.default_rng(3)
    for d in (2, 8):
        v = rng.normal(size=d) + 1j * rng.normal(size=d)
        u = E.completing_unitary(v)
        assert u.dtype == np.complex128
        np.testing.assert_allclose(u.conj().T @ u, np.eye(d), atol=1e-12)
        np.testing.assert_allclose(u[:, 0], v / np.linalg.norm(v), atol=1e-12)


def test_born_probabilities_match_dense(case):
    f, t, _ = case["local"]
    n = t.shape[0]
    rho = np.asarray(f.density())
    us = E.product_unitaries(t)
    v = us[0]
    for j in range(1, n):
        v = np.kron(v, us[j])
    dense = np.real(np.diag(v @ rho @ v.conj().T))
    np.testing.assert_allclose(E.born_probabilities(f, v), dense, atol=1e-12)
    np.testing.assert_allclose(E.born_probabilities(f, us), dense, atol=1e-12)
    np.testing.assert_allclose(E.born_probabilities(f), np.real(np.diag(rho)), atol=1e-12)


def test_inverse_method_exact_probabilities_give_exact_costs(case):
    """P(all zeros) after U^dagger is the fidelity; the mean per-shot value is the local cost."""
    for kind in ("global", "local"):
        f, t, exact = case[kind]
        n = int(math.log2(f.a.shape[0]))
        u = E.completing_unitary(t) if kind == "global" else E.product_unitaries(t)
        p = E.born_probabilities(f, np.conj(np.swapaxes(u, -1, -2)))
        assert p @ E.outcome_values(kind, n) == pytest.approx(exact, abs=1e-12)


def test_estimate_from_counts_is_sample_mean_and_sem():
    vals, counts = np.array([0.0, 0.5, 1.0]), np.array([3, 5, 2])
    samples = np.repeat(vals, counts)
    est = E.estimate_from_counts(vals, counts)
    assert est.value == pytest.approx(samples.mean())
    assert est.stderr == pytest.approx(samples.std(ddof=1) / math.sqrt(10))
    assert est.shots == 10


@pytest.mark.parametrize("method", ["shots", "inverse"])
@pytest.mark.parametrize("kind", ["global", "local"])
def test_estimators_unbiased_and_stderr_calibrated(case, method, kind):
    """Mean over 400 seeded repetitions within 4 SEM of the exact cost; stated stderr matches the spread."""
    f, t, exact = case[kind]
    est = E.pair_estimator(method, kind)  # type: ignore[arg-type]
    runs = [est(f, t, 200, np.random.default_rng(s)) for s in range(REPS)]
    vals = np.array([r.value for r in runs])
    sem = vals.std(ddof=1) / math.sqrt(REPS)
    assert abs(vals.mean() - exact) < 4 * sem
    ratio = vals.std(ddof=1) / np.mean([r.stderr for r in runs])
    assert 0.85 < ratio < 1.15, ratio
    assert all(r.shots == 200 for r in runs)


@pytest.mark.parametrize("method", ["shots", "inverse"])
def test_error_shrinks_as_inverse_sqrt_shots(case, method):
    f, t, exact = case["local"]
    est = E.pair_estimator(method, "local")  # type: ignore[arg-type]
    shots = np.array([60, 240, 960, 3840])
    rmse = [
        math.sqrt(
            np.mean([(est(f, t, int(m), np.random.default_rng(1000 * i + s)).value - exact) ** 2 for s in range(200)])
        )
        for i, m in enumerate(shots)
    ]
    slope = np.polyfit(np.log(shots), np.log(rmse), 1)[0]
    assert slope == pytest.approx(-0.5, abs=0.1)


def test_seeded_and_reproducible(case):
    f, t, _ = case["global"]
    a = E.inverse_estimate(f, t, "global", 500, 7)
    assert a == E.inverse_estimate(f, t, "global", 500, 7)
    assert a != E.inverse_estimate(f, t, "global", 500, 8)


def test_global_shots_and_inverse_agree_in_distribution(case):
    """Both measure the projector |phi><phi| (directly, or as 'all zeros' after U^dagger)."""
    f, t, exact = case["global"]
    a = np.array([E.direct_estimate(f, t, "global", 300, s).value for s in range(200)])
    b = np.array([E.inverse_estimate(f, t, "global", 300, 10_000 + s).value for s in range(200)])
    se = math.sqrt(a.var(ddof=1) / 200 + b.var(ddof=1) / 200)
    assert abs(a.mean() - b.mean()) < 4 * se


def test_estimate_cost_averages_pairs_and_counts_shots():
    _, net, params, _, _ = _setup("fig3a", 2, 1, "global")
    key = jax.random.key(5)
    x = np.stack([np.asarray(dqnn.model.states.haar_state(k, 2)) for k in jax.random.split(key, 3)])
    t = np.stack([np.asarray(dqnn.model.states.haar_state(k, 2)) for k in jax.random.split(jax.random.key(6), 3)])
    exact = float(dqnn.cost(net, params, x, t, "global"))
    est = E.estimate_cost(net, params, x, t, "global", "inverse", 20_000, 0)
    assert est.shots == 60_000
    assert abs(est.value - exact) < 4 * est.stderr
    per_pair = np.asarray(dqnn.per_pair(net, params, x, t, "global"))
    predicted = math.sqrt(np.sum(per_pair * (1 - per_pair) / 20_000)) / 3  # Bernoulli shots on each pair
    assert est.stderr == pytest.approx(predicted, rel=0.05)


def test_shift_gradient_unbiased():
    """(C+ - C-)/2 from shots: mean over repetitions within 4 SEM of the autodiff gradient; stderr calibrated."""
    pr, net, params, x, t = _setup("fig3a", 2, 1, "local", seed=2)
    idx = pr.angle_index(net)
    exact = float(grad_autodiff(lambda p: dqnn.cost(net, p, x, t, "local"), params, idx))
    fp, fm = (E.as_numpy(output_factors(net, shift_angle(params, idx, s), x[0])) for s in (np.pi / 2, -np.pi / 2))
    runs = []
    for s in range(REPS):
        rng = np.random.default_rng(s)
        runs.append(E.shift_gradient(*(E.inverse_estimate(f, t[0], "local", 300, rng) for f in (fp, fm))))
    vals = np.array([r.value for r in runs])
    assert abs(vals.mean() - exact) < 4 * vals.std(ddof=1) / math.sqrt(REPS)
    assert 0.85 < vals.std(ddof=1) / np.mean([r.stderr for r in runs]) < 1.15
    assert runs[0].shots == 600


def test_estimate_gradient_end_to_end():
    pr, net, params, x, t = _setup("fig3b", 3, 2, "global", seed=4)
    idx = pr.angle_index(net)
    exact = float(grad_autodiff(lambda p: dqnn.cost(net, p, x, t, "global"), params, idx))
    g = E.estimate_gradient(net, params, idx, x, t, "global", "inverse", 50_000, 4)
    assert g.shots == 100_000
    assert abs(g.value - exact) < 4 * g.stderr
    ex, g2 = E.estimate_problem(pr, "inverse", 50_000, 4, gradient=True)
    assert ex == pytest.approx(exact) and g2 == g


def test_shots_to_resolve_formula():
    assert E.shots_to_resolve(1e-4) == math.ceil(1.959963984540054**2 * 0.125 / 1e-4) == 4802
    assert E.shots_to_resolve(1e-4, 0.99) > E.shots_to_resolve(1e-4, 0.95)
    assert E.shots_to_resolve(1e-6) == pytest.approx(100 * E.shots_to_resolve(1e-4), rel=1e-3)
    assert E.shots_to_resolve(1e-4, shot_variance=0.0625) == math.ceil(1.959963984540054**2 * 0.0625 / 1e-4)
    assert E.shots_to_resolve(10.0) == 1


def test_shots_to_resolve_resolves():
    """With M = shots_to_resolve(g**2, c, s2) shots, a gradient g sits z standard errors from zero."""
    f_var, conf = 4e-4, 0.95
    m = E.shots_to_resolve(f_var, conf, 0.125)
    z = math.sqrt(f_var) / math.sqrt(0.125 / m)
    assert 1.959963984540054 <= z < 1.959963984540054 * (1 + 1 / m)


@pytest.mark.parametrize(
    ("args", "match"),
    [((0.0,), "variance"), ((float("nan"),), "variance"), ((1e-3, 1.0), "confidence"), ((1e-3, 0.9, -1), "shot_var")],
)
def test_shots_to_resolve_rejects(args, match):
    with pytest.raises(ValueError, match=match):
        E.shots_to_resolve(*args)


def test_bad_inputs_name_the_culprit(case):
    f, t, _ = case["global"]
    with pytest.raises(ValueError, match="shots=1"):
        E.inverse_estimate(f, t, "global", 1, 0)
    with pytest.raises(ValueError, match="targets must have shape"):
        E.inverse_estimate(f, t[:2], "global", 10, 0)
    with pytest.raises(ValueError, match="method 'nope'"):
        E.pair_estimator("nope", "global")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cost kind 'observable'"):
        E.pair_estimator("shots", "observable")
    fl, tl, _ = case["local"]
    with pytest.raises(ValueError, match=r"shots=3: need an integer >= \d"):
        E.direct_estimate(fl, tl, "local", 3, 0)


def test_factors_roundtrip():
    f = Factors(np.eye(2, dtype=np.complex128)[:, :1], None)
    assert E.born_probabilities(f) == pytest.approx([1.0, 0.0])
