"""Measurement circuits on Aer: every estimator agrees with dqnn's exact cost (exactly without shots, within 4
standard errors with them), the SWAP test is unbiased, the finite-difference gradient has its O(eps^2) bias."""

from __future__ import annotations

import math

import jax
import numpy as np
import pytest

import dqnn
from dqnn.costs import cost
from dqnn.gradients import grad_cost
from dqnn.hardware import backends, export, measure
from dqnn.model import states
from dqnn.model.angles import AngleIndex
from dqnn.presets import architectures

pytest.importorskip("qiskit_aer")


@pytest.fixture(scope="module")
def problem():
    """A [2, 2, 2] Fig. 3b network, two Haar inputs, global and local targets, and the exact costs."""
    net = architectures.fig3b(2, 2)
    params = net.init(jax.random.key(1))
    x = np.stack([np.asarray(states.haar_state(jax.random.key(k), 2)) for k in range(2)])
    tg = np.stack([np.asarray(states.haar_state(jax.random.key(10 + k), 2)) for k in range(2)])
    tl = np.stack(
        [
            np.stack([np.asarray(states.haar_state(jax.random.key(20 + 2 * k + j), 1)) for j in range(2)])
            for k in range(2)
        ]
    )
    targets = {"global": tg, "local": tl}
    exact = {k: float(cost(net, params, x, t, k)) for k, t in targets.items()}
    return net, params, x, targets, exact


@pytest.mark.parametrize("kind", ["global", "local"])
@pytest.mark.parametrize("method", ["inverse", "shots", "swap"])
def test_exact_mode_is_the_dqnn_cost(problem, method, kind):
    net, params, x, targets, exact = problem
    est = measure.estimate_on_backend(net, params, x, targets[kind], kind, method, shots=None)
    assert est.stderr == 0.0
    assert est.value == pytest.approx(exact[kind], abs=1e-10)  # the per-shot values average to the cost: unbiased


@pytest.mark.parametrize("kind", ["global", "local"])
@pytest.mark.parametrize("method", measure.BACKEND_METHODS)
def test_shot_estimates_agree_within_four_standard_errors(problem, method, kind):
    net, params, x, targets, exact = problem
    shots = 300 if method == "shadows" else 3000
    est = measure.estimate_on_backend(net, params, x, targets[kind], kind, method, shots=shots, seed=4)
    assert est.shots == 2 * shots
    assert 0 < est.stderr < 0.1
    assert abs(est.value - exact[kind]) < 4 * est.stderr
    again = measure.estimate_on_backend(net, params, x, targets[kind], kind, method, shots=shots, seed=4)
    assert again == est  # seeded


def test_swap_test_is_unbiased_over_repetitions(problem):
    """20 independent 200-shot SWAP-test estimates: their mean is the exact cost within its standard error."""
    net, params, x, targets, exact = problem
    ex = export.to_circuit(net, params)  # one circuit for all repetitions
    vals = [
        measure.estimate_exported(ex, params, x[:1], targets["global"][:1], "global", "swap", 200, s).value
        for s in range(20)
    ]
    want = float(cost(net, params, x[:1], targets["global"][:1], "global"))
    assert abs(np.mean(vals) - want) < 4 * np.std(vals, ddof=1) / math.sqrt(len(vals))


def test_gradients_shift_exact_and_finite_difference_bias(problem):
    net, params, x, targets, _ = problem
    idx = AngleIndex(0, 0, 0)
    t = targets["global"]
    g = float(grad_cost(net, params, x, t, "global", idx))
    shift = measure.gradient_on_backend(net, params, idx, x, t, "global", "inverse", shots=None)
    assert shift.value == pytest.approx(g, abs=1e-10)
    for eps in (0.25, 0.5):
        fd = measure.gradient_on_backend(net, params, idx, x, t, "global", "inverse", shots=None, rule="fd", eps=eps)
        # C = a + b cos(theta) + c sin(theta): the central difference is C' sin(eps) / eps exactly
        assert fd.value == pytest.approx(g * math.sin(eps) / eps, abs=1e-10)
        bias = fd.value - g
        assert bias == pytest.approx(-g * eps**2 / 6, rel=eps**2 / 10)  # the O(eps^2) term, O(eps^4) beyond
    est = measure.gradient_on_backend(net, params, idx, x, t, "global", "inverse", shots=4000, seed=2)
    assert abs(est.value - g) < 4 * est.stderr
    fd = measure.gradient_on_backend(net, params, idx, x, t, "global", "swap", shots=4000, seed=3, rule="fd")
    assert abs(fd.value - g * math.sin(0.25) / 0.25) < 4 * fd.stderr


def test_noise_raises_the_cost_of_a_perfect_target():
    net = architectures.fig3a(1, 1)  # SWAP then R_y: a pure output for a pure input
    params = net.init(jax.random.key(0))
    x = np.asarray(states.haar_state(jax.random.key(1), 1))[None]
    rho = np.asarray(dqnn.output_state(net, params, x[0]))
    _, v = np.linalg.eigh(rho)
    target = v[:, -1][None]
    ideal = measure.estimate_on_backend(net, params, x, target, "global", "inverse", shots=None)
    assert ideal.value == pytest.approx(0.0, abs=1e-10)
    noisy = measure.estimate_on_backend(net, params, x, target, "global", "inverse", 4000, 0, "aer-noisy:generic")
    spec = backends.NoiseSpec()
    assert noisy.value > 4 * noisy.stderr  # readout error alone flips a bit with probability 2%
    assert noisy.value < 10 * (spec.readout + spec.p2 + spec.p1) + 4 * noisy.stderr


def test_bad_arguments_are_named(problem):
    net, params, x, targets, _ = problem
    t = targets["global"]
    with pytest.raises(ValueError, match="method='magic'"):
        measure.estimate_on_backend(net, params, x, t, "global", "magic")
    with pytest.raises(ValueError, match="backend='ibm'"):
        measure.estimate_on_backend(net, params, x, t, "global", "inverse", backend="ibm")
    with pytest.raises(ValueError, match="cost='fancy'"):
        measure.estimate_on_backend(net, params, x, t, "fancy", "inverse")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="shots=1"):
        measure.estimate_on_backend(net, params, x, t, "global", "inverse", shots=1)
    with pytest.raises(ValueError, match="snapshots"):
        measure.estimate_on_backend(net, params, x, t, "global", "shadows", shots=None)
    with pytest.raises(ValueError, match="rule='exact'"):
        measure.gradient_on_backend(net, params, AngleIndex(0, 0, 0), x, t, rule="exact")
    with pytest.raises(ValueError, match="eps=-1"):
        measure.gradient_on_backend(net, params, AngleIndex(0, 0, 0), x, t, rule="fd", eps=-1)
    try:
        import qiskit_ibm_runtime  # noqa: F401
    except ImportError:
        with pytest.raises(ValueError, match="qiskit-ibm-runtime"):
            backends.simulator("aer-noisy:FakeManilaV2")
    else:
        with pytest.raises(ValueError, match="has no 'FakeNowhere'"):
            backends.simulator("aer-noisy:FakeNowhere")
