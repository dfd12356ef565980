"""Noisy networks (dqnn.model.noise + the simulator's channels) against independent references.

- random networks with random Kraus channels vs the brute-force Eq. (1) with every channel on the whole register
  (tests/bruteforce.py), 1e-10; outputs Hermitian, positive, trace one;
- closed forms: a SWAP chain under depolarizing noise shrinks the Bloch vector by (1 - p) per layer;
- the noisy twin shares parameters; gradients (autodiff, parameter shift, finite differences) agree;
- engines: noisy networks never reach the unitary-only light-cone engine, and sampled gradients equal autodiff;
- Wang et al.'s regime on a tiny Fig. 3b local cost: Var under noise is clearly below the noiseless Var.
"""

from __future__ import annotations

import jax
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bruteforce import output_bruteforce_ops
from dqnn.costs import cost
from dqnn.gradients import grad_autodiff, grad_param_shift
from dqnn.model import channels as C
from dqnn.model.angles import AngleIndex, angle_indices
from dqnn.model.families import Circuit, Gate
from dqnn.model.network import Network, Perceptron
from dqnn.model.noise import Noisy, Placement, is_noisy, noiseless, op_wires, with_noise
from dqnn.presets import architectures
from dqnn.sim.simulate import output_state
from dqnn.trainability import sampling
from dqnn.trainability.problem import preset_problem
from strategies import random_networks, repeated_networks

SETTINGS = settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


def _channel(draw, nq: int = 1) -> C.Channel:  # type: ignore[no-untyped-def]
    kind = draw(st.sampled_from(["random", "depolarizing", "amplitude", "gad", "dephasing"]))
    if kind == "random" or nq > 1:
        return C.random_channel(draw(st.integers(0, 10**6)), nq, draw(st.integers(1, 3)))
    p = draw(st.floats(0.01, 0.9))
    return {
        "depolarizing": lambda: C.depolarizing(p),
        "amplitude": lambda: C.amplitude_damping(p),
        "gad": lambda: C.generalized_amplitude_damping(p, 0.3),
        "dephasing": lambda: C.dephasing(p / 2),
    }[kind]()


@st.composite
def noisy_networks(draw, base=random_networks):  # type: ignore[no-untyped-def]
    """A random network with noise: with_noise in a random mode, plus a random multi-qubit channel placed
    inside one random perceptron (Noisy with an explicit Placement)."""
    net = draw(base().filter(lambda n: sum(n.widths) <= 5))
    where = draw(st.sampled_from(["after_gate", "after_perceptron", "layer"]))
    readout = _channel(draw) if draw(st.booleans()) else None
    noisy = with_noise(net, _channel(draw), where, readout=readout)
    l = draw(st.integers(0, noisy.depth - 1))
    j = draw(st.integers(0, len(noisy.layers[l]) - 1))
    p = noisy.layers[l][j]
    nq = p.unitary.num_qubits
    w = tuple(draw(st.permutations(range(nq)))[: draw(st.integers(1, min(2, nq)))])
    after = draw(st.sampled_from([None, *range(len(op_wires(p.unitary)))]))
    fam = Noisy(p.unitary, [Placement(_channel(draw, len(w)), w, after)])
    layers = [list(row) for row in noisy.layers]
    layers[l][j] = Perceptron(p.inputs, p.outputs, fam)
    return net, Network(noisy.widths, layers)


def _check_state(rho: np.ndarray) -> None:
    np.testing.assert_allclose(rho, rho.conj().T, atol=1e-12)
    assert abs(np.trace(rho) - 1) < 1e-10
    assert np.linalg.eigvalsh(rho).min() > -1e-10


def _input(seed: int, n: int, mixed: bool) -> np.ndarray:
    rng = np.random.default_rng(seed)
    v = rng.normal(size=2**n) + 1j * rng.normal(size=2**n)
    v /= np.linalg.norm(v)
    if not mixed:
        return v
    w = rng.normal(size=2**n) + 1j * rng.normal(size=2**n)
    w /= np.linalg.norm(w)
    return 0.7 * np.outer(v, v.conj()) + 0.3 * np.outer(w, w.conj())


@SETTINGS
@given(nets=noisy_networks(), seed=st.integers(0, 1000), mixed=st.booleans())
def test_random_noisy_networks_match_bruteforce(nets, seed, mixed) -> None:  # type: ignore[no-untyped-def]
    net, noisy = nets  # jitted: one compile per example (eager mode compiles every primitive)
    params = jax.jit(net.init)(jax.random.key(seed))
    jax.tree.map(np.testing.assert_array_equal, params, jax.jit(noisy.init)(jax.random.key(seed)))
    x = _input(seed, net.num_inputs, mixed)
    got = np.asarray(jax.jit(lambda p, v: output_state(noisy, p, v))(params, x))
    np.testing.assert_allclose(got, output_bruteforce_ops(noisy, params, x), atol=1e-10)
    _check_state(got)
    assert is_noisy(noisy) and not is_noisy(noiseless(noisy))
    assert noiseless(noisy).layers[0][0].unitary is net.layers[0][0].unitary


@settings(max_examples=2, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(nets=noisy_networks(base=repeated_networks), seed=st.integers(0, 1000))
def test_repeated_noisy_networks_scan(nets, seed) -> None:  # type: ignore[no-untyped-def]
    """Repeated blocks run as lax.scan once the rank settles; channels inside scanned blocks."""
    net, noisy = nets
    params = jax.jit(net.init)(jax.random.key(seed))
    x = _input(seed, net.num_inputs, False)
    got = np.asarray(jax.jit(lambda p, v: output_state(noisy, p, v))(params, x))
    np.testing.assert_allclose(got, output_bruteforce_ops(noisy, params, x), atol=1e-10)
    _check_state(got)


def _swap_chain(depth: int) -> Network:
    move = Circuit(2, [Gate("SWAP", (0, 1))], name="move")
    return Network([1] * (depth + 1), [[Perceptron([0], [0], move)] for _ in range(depth)])


@pytest.mark.parametrize("where", ["after_gate", "after_perceptron", "layer"])
def test_swap_chain_depolarizing_closed_form(where: str) -> None:
    """A qubit moved by SWAPs through L layers: 'layer' noise acts once per layer, so the Bloch vector shrinks by
    (1 - p)^L; 'after_gate' and 'after_perceptron' act on both wires of each SWAP (the moved qubit once), the same."""
    p, depth = 0.1, 4
    x = _input(3, 1, False)
    rho = np.asarray(output_state(with_noise(_swap_chain(depth), C.depolarizing(p), where), (({},),) * depth, x))
    r0 = np.outer(x, x.conj())
    want = (1 - p) ** depth * (r0 - np.eye(2) / 2) + np.eye(2) / 2
    np.testing.assert_allclose(rho, want, atol=1e-13)
    # amplitude damping composes: gamma_total = 1 - (1 - gamma)^L
    g = 0.2
    rho = np.asarray(output_state(with_noise(_swap_chain(depth), C.amplitude_damping(g), where), (({},),) * depth, x))
    np.testing.assert_allclose(rho, C.amplitude_damping(1 - (1 - g) ** depth).apply(r0), atol=1e-13)


def test_gradients_on_noisy_network() -> None:
    """autodiff = parameter shift = central finite differences on a noisy Fig. 3b network (local cost)."""
    net = with_noise(architectures.fig3b(3, 1), C.amplitude_damping(0.1), "after_gate")
    params = net.init(jax.random.key(2))
    x = np.zeros((1, 8), complex)
    x[0, 0] = 1
    t = np.tile(np.array([1.0, 0.0], complex), (1, net.num_outputs, 1))

    cost_fn = jax.jit(lambda p: cost(net, p, x, t, "local"))

    for idx in angle_indices(net)[:1]:
        a = float(grad_autodiff(cost_fn, params, idx))
        s = float(grad_param_shift(cost_fn, params, idx, net))
        h = 1e-5
        th = params[idx.layer][idx.perceptron]["theta"]

        def at(v: float, idx: AngleIndex = idx, th: jax.Array = th) -> float:
            q = [list(row) for row in params]
            q[idx.layer][idx.perceptron] = {**q[idx.layer][idx.perceptron], "theta": th.at[idx.angle].set(v)}
            return float(cost_fn(tuple(tuple(r) for r in q)))

        fd = (at(th[idx.angle] + h) - at(th[idx.angle] - h)) / (2 * h)
        assert abs(a - s) < 1e-10 and abs(a - fd) < 1e-7
        assert abs(a) > 1e-6  # a real test: the gradient is not trivially zero


def test_matrix_and_engines_refuse_noise() -> None:
    net = with_noise(architectures.fig3b(4, 1), C.depolarizing(0.05), "layer")
    fam = net.layers[0][0].unitary
    with pytest.raises(ValueError, match="channel, not a unitary"):
        fam.matrix(fam.init(jax.random.key(0)))
    with pytest.raises(ValueError, match="where="):
        with_noise(net, C.depolarizing(0.1), "everywhere")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="acts on 2 qubits"):
        with_noise(net, C.random_channel(0, 2), "layer")
    with pytest.raises(ValueError, match="after=9"):
        Noisy(fam.inner, [Placement(C.depolarizing(0.1), (0,), 9)])
    problem = preset_problem("fig3b", "local")
    g = problem.gradient(net, AngleIndex(0, 0, 0))
    assert sampling.pick_engine(problem.gradient(noiseless(net), AngleIndex(0, 0, 0))) == "lightcone"
    assert sampling.pick_engine(g) == "full"
    with pytest.raises(ValueError, match="lightcone"):
        sampling.pick_engine(g, engine="lightcone")
    from dqnn.sim.cone_engine import local_cost_lightcone

    z = np.tile(np.array([1.0, 0.0]), (4, 1))
    with pytest.raises(ValueError, match="non-unitary ops"):  # the pure-state cone engine refuses channels
        local_cost_lightcone(net, net.init(jax.random.key(0)), z, z[: net.num_outputs])


def _var(problem, net, samples: int) -> tuple[float, float, np.ndarray]:  # type: ignore[no-untyped-def]
    g = problem.gradient(net, AngleIndex(0, 0, 0))
    fn, c = sampling.sampler(g, samples)
    keys = jax.random.split(jax.random.key(5), samples)
    s = sampling.sample_keys(fn, c, keys)
    v = float(np.var(s, ddof=1))
    return v, v * np.sqrt(2 / (samples - 1)), s


def test_noise_shrinks_variance_fig3b_local() -> None:
    """Wang et al.: local noise shrinks gradients. Fig. 3b, n = 4, local cost, depolarizing p = 0.4 on every qubit
    after each layer, then amplitude damping 0.2 on every qubit: the sampled Var[dC] (150 initialisations) agrees with
    the exact noisy value (moment engine, both channels) and lies far below the exact noiseless one (beyond 4 s.e.).
    A sampled gradient equals autodiff of the cost at the same key."""
    from dqnn.moments.exact import exact_gradient_moments

    problem = preset_problem("fig3b", "local")
    net = problem.network_at(4)
    noisy = with_noise(with_noise(net, C.depolarizing(0.4), "layer"), C.amplitude_damping(0.2), "layer")
    x, t = problem.pair(noisy)[0]()
    v0 = exact_gradient_moments(net, AngleIndex(0, 0, 0), x, t, "local").variance
    v1x = exact_gradient_moments(noisy, AngleIndex(0, 0, 0), x, t, "local").variance
    v1, e1, s1 = _var(problem, noisy, 150)
    assert abs(v1 - v1x) < 4 * e1, (v1, e1, v1x)
    assert v1 < 0.6 * v0 and v0 - v1 > 4 * e1, (v0, v1, e1)
    p = noisy.init(jax.random.split(jax.random.key(5), 150)[0])
    a = float(grad_autodiff(lambda q: cost(noisy, q, x, t, "local"), p, AngleIndex(0, 0, 0)))
    assert abs(a - s1[0]) < 1e-10


# ---------------------------------------------------------------------------------------------------------------
# Exact moments under noise (dqnn.moments.exact takes a channel as one more tensor)
# ---------------------------------------------------------------------------------------------------------------


def fig3a_depolarized_variance(n: int, q: float) -> float:
    """Var[dC/dtheta] of the Fig. 3a global cost when each output qubit's Bloch vector is shrunk by ``q`` in all
    (docs/guide/noise.md): ``(q^2 / 8) ((2 + q^2) / 8)^(n - 1)``; ``q = 1`` is the paper's ``(1/8)(3/8)^(n-1)``."""
    return q * q / 8 * ((2 + q * q) / 8) ** (n - 1)


@pytest.mark.parametrize(
    ("n", "layers", "where", "hits"), [(3, 1, "layer", 1), (4, 2, "layer", 2), (3, 2, "after_gate", 4)]
)
def test_exact_moments_fig3a_global_depolarizing_closed_form(n: int, layers: int, where: str, hits: int) -> None:
    """Depolarizing p on every qubit: each channel a qubit passes shrinks its Bloch vector by 1 - p and commutes
    with R_y, so the closed form holds with q = (1 - p)^hits ('layer': once per layer; 'after_gate': after the SWAP
    and after R_y, twice per layer)."""
    from dqnn.moments.exact import exact_gradient_moments

    p = 0.2
    net = with_noise(architectures.fig3a(n, layers), C.depolarizing(p), where)
    x = np.zeros((1, 2**n), complex)
    x[0, 0] = 1
    em = exact_gradient_moments(net, AngleIndex(0, 0, 0), x, x.copy(), "global")
    assert em.trusted
    np.testing.assert_allclose(em.variance, fig3a_depolarized_variance(n, (1 - p) ** hits), rtol=1e-10)
    assert abs(em.mean) < 1e-14


@pytest.mark.parametrize(
    ("arch", "cost_kind", "n", "channel"),
    [("fig3a", "global", 3, C.amplitude_damping(0.5)), ("fig3a", "local", 3, C.depolarizing(0.3))],
)  # fmt: skip
def test_exact_moments_match_sampling_under_noise(arch: str, cost_kind: str, n: int, channel: C.Channel) -> None:
    """Exact Var of a noisy preset within 4 s.e. of 400 sampled gradients (Fig. 3b: the test above)."""
    from dqnn.moments.exact import exact_gradient_moments

    problem = preset_problem(arch, cost_kind)
    net = with_noise(problem.network_at(n), channel, "after_gate")
    x, t = problem.pair(net)[0]()
    em = exact_gradient_moments(net, AngleIndex(0, 0, 0), x, t, cost_kind)  # type: ignore[arg-type]
    assert em.trusted
    v, se, _ = _var(problem, net, 400)
    assert abs(v - em.variance) < 4 * se, (v, se, em.variance)
    # and noise changed the value (the comparison can fail)
    em0 = exact_gradient_moments(problem.network_at(n), AngleIndex(0, 0, 0), x, t, cost_kind)  # type: ignore[arg-type]
    assert abs(em0.variance - em.variance) > 0.1 * em0.variance


def test_parse_noise_and_cli_variance_twin(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """--noise NAME:P[,WHERE]: parsed (bad text refused by name); the variance command writes both studies and the
    joint plot, and the noisy study's points differ from the noiseless ones."""
    import json

    from typer.testing import CliRunner

    from dqnn.cli import app
    from dqnn.model.noise import parse_noise

    spec = parse_noise("amplitude_damping:0.05,layer")
    assert spec.where == "layer" and spec.channel.name == "amplitude_damping(0.05)"
    assert parse_noise("depolarizing:0.01").where == "after_gate"
    for bad, msg in (("foo:0.1", "NAME:P"), ("depolarizing:x", "not a number"), ("dephasing:0.1,nowhere", "WHERE")):
        with pytest.raises(ValueError, match=msg):
            parse_noise(bad)
    out = tmp_path / "v"
    args = ["variance", "--arch", "fig3a", "--n", "2", "--samples", "16", "--out", str(out)]
    r = CliRunner().invoke(app, [*args, "--noise", "depolarizing:0.5,layer"])
    assert r.exit_code == 0, r.output
    plain = json.loads((out / "variance.json").read_text())["points"][0]["variance"]
    noisy = json.loads((out / "noisy" / "variance.json").read_text())["points"][0]["variance"]
    assert (out / "variance_noise.png").is_file() and noisy < plain
    r = CliRunner().invoke(app, [*args, "--noise", "loud:0.5"])
    assert r.exit_code != 0 and "--noise" in r.output


def test_noisy_network_equals_aer_density_matrix() -> None:
    """The exported circuit of a noisy network (channels as Kraus instructions) on Aer's density-matrix method is
    dqnn's output state, 1e-10; amplitude damping (not unital) after every gate and a random channel."""
    pytest.importorskip("qiskit_aer")
    from dqnn.hardware import backends, export, layout

    net = with_noise(architectures.fig3b(3, 2), C.amplitude_damping(0.2), "after_gate", readout=C.readout_error(0.1))
    fam = net.layers[0][0].unitary
    layers = [list(r) for r in net.layers]
    p = layers[1][0]
    layers[1][0] = Perceptron(p.inputs, p.outputs, Noisy(p.unitary, [Placement(C.random_channel(1, 2), (2, 0))]))
    net = Network(net.widths, layers)
    assert isinstance(fam, Noisy)
    params = net.init(jax.random.key(3))
    x = _input(4, 3, True)
    want = np.asarray(output_state(net, params, x))
    got = backends.aer_density_matrix(export.to_circuit(net, params, layout.LAYOUTS[0]), params, x)
    np.testing.assert_allclose(got, want, atol=1e-10, rtol=0)


def test_pmm_on_noisy_networks_follows_the_noisy_fidelity() -> None:
    """PMM trains the unitaries of a noisy network: its generators are dF/d eps of the NOISY fidelity along
    u -> expm(i eps K) u (finite differences of the simulated noisy cost), with zero noise they are Beer et al.'s
    closed form (P4) of the noiseless twin, and plain PMM steps lower the noisy cost."""
    from dqnn.training import pmm
    from dqnn.training.objectives import observable_factors

    twin = architectures.global_haar([1, 2])  # two 2-qubit Haar perceptrons (small: grad programs compile fast)
    net = with_noise(twin, C.amplitude_damping(0.2), "after_perceptron")
    params = twin.init(jax.random.key(1))
    x = np.array([[1, 0], [0.6, 0.8]], dtype=complex)
    t = np.array([[0.5, 0.5, 0.5, 0.5], [1, 0, 0, 0]], dtype=complex)
    obs = observable_factors("global", t, 2)
    fg = jax.jit(lambda n_, p_: pmm.fidelity_and_generators(n_, p_, x, obs), static_argnums=0)  # one program each
    f, gens = fg(net, params)
    assert abs(float(f) - (1.0 - float(cost(net, params, x, t, "global")))) < 1e-12
    rng = np.random.default_rng(0)
    ks = []
    for row in gens:
        krow = []
        for g in row:
            m = rng.normal(size=g.shape) + 1j * rng.normal(size=g.shape)
            krow.append(m + m.conj().T)
        ks.append(tuple(krow))
    h = 1e-5
    moved = jax.jit(lambda e: cost(net, pmm.apply_generators(net, params, tuple(ks), e), x, t, "global"))
    fd = -(float(moved(h)) - float(moved(-h))) / (2 * h)
    lin = sum(
        float(np.real(np.trace(k @ g))) for kr, gr in zip(ks, gens, strict=True) for k, g in zip(kr, gr, strict=True)
    )
    assert abs(fd - lin) < 1e-7 and abs(lin) > 1e-3
    # zero noise: the autodiff generators of the channel path equal the closed form of the noiseless network
    _, g0 = fg(with_noise(twin, C.depolarizing(0.0), "after_perceptron"), params)
    _, gc = fg(twin, params)
    for a, b in zip(jax.tree.leaves(g0), jax.tree.leaves(gc), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-12)
    update = pmm.make_pmm_update(net, pmm.PMMConfig(eps=0.1, eta=1.0))
    p, costs = params, []
    for _ in range(5):
        p, c = update(p, x, obs)
        costs.append(float(c))
    assert costs[-1] < costs[0] - 1e-3, costs


def test_fit_logs_the_noiseless_twin_cost_at_every_step(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """fit(noisy, twin=noiseless): every metrics row carries twin_cost, the noiseless network's cost at the same
    parameters (checked against dqnn.cost at the start and at the end), apart from the noisy cost at every step."""
    from dqnn.datasets import unitary_data
    from dqnn.training import fit

    twin = architectures.global_haar([2, 2])
    net = with_noise(twin, C.depolarizing(0.1), "after_perceptron")
    _, data = unitary_data(jax.random.key(2), 2, 4, 0)
    x, t = np.asarray(data.train_inputs), np.asarray(data.train_targets)
    p0 = twin.init(jax.random.key(4))
    res = fit(net, (x, t), method="pmm", params=p0, steps=4, out_dir=tmp_path, twin=twin, plot=False)
    rows = res.metrics
    assert len(rows) == 5 and all("twin_cost" in r for r in rows)
    assert abs(rows[0]["twin_cost"] - float(cost(twin, p0, x, t, "global"))) < 1e-12
    assert abs(rows[-1]["twin_cost"] - float(cost(twin, res.params, x, t, "global"))) < 1e-12
    assert abs(rows[-1]["cost"] - float(cost(net, res.params, x, t, "global"))) < 1e-12
    assert all(abs(r["cost"] - r["twin_cost"]) > 1e-3 for r in rows)  # the noise matters at every step


def test_wang_regime_variance_decays_exponentially_in_depth_only_with_noise() -> None:
    """Fig. 3b, local cost, n = 4, exact: with depolarizing p = 0.1 after every layer log2 Var falls linearly in the
    depth at a rate at least Wang et al.'s 2 log2(1 - p) (their bound is an upper bound on Var), while without
    noise it flattens (the fitted slope is much smaller in magnitude)."""
    from dqnn.moments.exact import exact_gradient_moments

    problem = preset_problem("fig3b", "local")
    depths = np.array([2, 4, 6, 8])
    slopes = {}
    for p in (0.0, 0.1):
        logs = []
        for depth in depths:
            net = architectures.fig3b(4, int(depth))
            net = with_noise(net, C.depolarizing(p), "layer") if p else net
            x, t = problem.pair(net)[0]()
            m = exact_gradient_moments(net, AngleIndex(0, 0, 0), x, t, "local")
            assert m.trusted
            logs.append(np.log2(m.variance))
        slope, _ = np.polyfit(depths, logs, 1)
        resid = np.asarray(logs) - np.polyval([slope, _], depths)
        slopes[p] = slope
        if p:
            assert np.max(np.abs(resid)) < 0.25  # a straight line in log2 Var: exponential decay
    bound = 2 * np.log2(1 - 0.1)
    assert slopes[0.1] <= bound, slopes
    assert slopes[0.1] < slopes[0.0] - 0.3, slopes
