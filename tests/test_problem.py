"""Trainability of any DQNN (dqnn.trainability.problem, .points, .study): user networks against brute force.

Independent checks: the brute-force Eq. (1) of tests/bruteforce.py (the state vector of all qubits of all layers)
differentiated by the two-term shift rule, at the same initialisations; the paper's closed form for a hand-written
Fig. 3a; the preset path's samples for hand-written copies of the presets; exact moments against sampling.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from bruteforce import fidelity_cost_bruteforce, fidelity_cost_bruteforce_pure
from dqnn.model import families
from dqnn.model.angles import AngleIndex, shift_angle
from dqnn.model.families import Circuit, Gate, RandomUnitary, Rot
from dqnn.model.network import Network, Perceptron
from dqnn.presets import analytic
from dqnn.trainability.points import ProblemPoint, sample
from dqnn.trainability.problem import TrainabilityProblem, label_observables, select
from dqnn.trainability.sampling import PointSpec, sample_gradients
from dqnn.trainability.study import study

S = 64


def fig3a_by_hand(n: int) -> Network:
    """Fig. 3a written out: two layers of SWAP-then-R_y perceptrons, qubit j to qubit j."""
    p = families.fig3a_perceptron()
    return Network([n, n, n], [[Perceptron([j], [j], p) for j in range(n)] for _ in range(2)])


def fig3b_by_hand(n: int) -> Network:
    """Fig. 3b written out (the wiring of dqnn.presets.architectures, two DQNN layers)."""
    v1, v2 = families.fig3b_v1(), families.fig3b_v2()
    rows = []
    for l in range(2):
        starts = list(range(l % 2, n - 1, 2))
        rows.append(
            [Perceptron([j, j + 1], [j], v1) for j in starts]
            + [Perceptron([j], [j], v2) for j in range(n) if j not in starts]
        )
    return Network([n, n, n], rows)


def _local_haar(m: int) -> Circuit:
    """A local perceptron on m inputs + 1 output: Haar, R_y on wire 0, Haar (so it has an angle)."""
    w = tuple(range(m + 1))
    return Circuit(m + 1, [RandomUnitary(w), Rot("Y", (0,)), RandomUnitary(w)])


def pyramid() -> Network:
    """[4, 2, 1] of local Haar perceptrons, each output sees a block of two inputs."""
    return Network([4, 2, 1], [[Perceptron([0, 1], [0], _local_haar(2)), Perceptron([2, 3], [1], _local_haar(2))],
                               [Perceptron([0, 1], [0], _local_haar(2))]])  # fmt: skip


def k2_network() -> Network:
    """[2, 2, 2], one perceptron per layer acting on both outputs (k = 2)."""
    w = (0, 1, 2, 3)
    fam = Circuit(4, [RandomUnitary(w), Rot("Y", (2,)), Rot("Z", (3,)), Gate("CNOT", (2, 3)), RandomUnitary(w)])
    return Network([2, 2, 2], [[Perceptron([0, 1], [0, 1], fam)], [Perceptron([0, 1], [0, 1], fam)]])


def rx_rz_cnot() -> Network:
    """[2, 3, 2] of RX / RZ / CNOT circuits (no Haar element: every angle uniform)."""
    fam = Circuit(3, [Rot("X", (0,)), Rot("Z", (1,)), Gate("CNOT", (0, 2)), Rot("X", (2,)), Gate("CNOT", (1, 2))])
    return Network(
        [2, 3, 2],
        [[Perceptron([0, 1], [j], fam) for j in range(3)], [Perceptron([j, (j + 1) % 3], [j], fam) for j in range(2)]],
    )


#: initialisations per compiled call of the brute-force gradients (the last chunk is padded)
CHUNK = 50


def _brute_gradient_fn(net, angles, inputs, observables):  # type: ignore[no-untyped-def]
    """Shift-rule derivatives of the brute-force cost at ``net.init(key)``: a jitted map from ``CHUNK`` keys to
    (CHUNK, P).

    The brute-force cost (tests/bruteforce.py: the state vector of all qubits of all layers, traced with
    jax.numpy) shares no simulator code with dqnn. Every shifted parameter set of a draw is evaluated by one
    vmapped copy of it, so the program holds the brute force once whatever the number of parameters.
    """

    def brute(p):  # type: ignore[no-untyped-def]
        return fidelity_cost_bruteforce_pure(net, p, inputs, observables, xp=jnp)

    def shifted(p):  # type: ignore[no-untyped-def]
        sets = [shift_angle(p, i, s) for i in angles for s in (np.pi / 2, -np.pi / 2)]
        c = jax.vmap(brute)(jax.tree.map(lambda *leaves: jnp.stack(leaves), *sets))
        return 0.5 * (c[0::2] - c[1::2])

    return jax.jit(lambda keys: jax.vmap(shifted)(jax.vmap(net.init)(keys)))


def _brute_gradients(net, keys, angles, inputs, observables, fn=None):  # type: ignore[no-untyped-def]
    """Shift-rule derivatives of the brute-force cost at ``net.init(key)`` for each key: (S, P), in chunks of
    ``CHUNK`` through one compiled ``_brute_gradient_fn`` (``fn``, when given, is that function)."""
    fn = fn or _brute_gradient_fn(net, angles, inputs, observables)
    n = len(keys)
    keys = jnp.concatenate([keys, jnp.repeat(keys[-1:], -n % CHUNK, axis=0)])
    return np.concatenate([np.asarray(fn(keys[i : i + CHUNK])) for i in range(0, len(keys), CHUNK)])[:n]


def _local_observables(n_out: int) -> np.ndarray:
    """(1/n) sum_j |0><0|_j: the observable of the local cost with target |0...0>."""
    zero = np.diag([1.0, 0.0]).astype(complex)
    obs = sum(np.kron(np.kron(np.eye(2**j), zero), np.eye(2 ** (n_out - j - 1))) for j in range(n_out)) / n_out
    return obs[None]


def _bell() -> np.ndarray:
    return np.array([[1, 0, 0, 1]], dtype=complex) / np.sqrt(2)


CASES = {
    "pyramid-local": (pyramid, "local", None),
    "k2-global": (k2_network, "global", None),
    "rxrzcnot-global-bell": (rx_rz_cnot, "global", "bell"),
}
#: the parameters studied per case: all of them, except 5 of rx_rz_cnot's 15 angles (both layers, every kind of
#: rotation, a control's R_z among them), which keeps its exact moments and brute force affordable
PARAMS = {"rxrzcnot-global-bell": "0,0,0;0,1,1;0,2,2;1,0,0;1,1,1"}


def _problem(name: str, params: object = None) -> tuple[TrainabilityProblem, np.ndarray, np.ndarray]:
    build, cost, data = CASES[name]
    params = PARAMS.get(name, "all") if params is None else params
    net = build()
    if data == "bell":
        rng = np.random.default_rng(3)
        t = rng.normal(size=(1, 4)) + 1j * rng.normal(size=(1, 4))
        t /= np.linalg.norm(t)
        prob = TrainabilityProblem(network=net, cost=cost, data=(_bell(), t), params=params, name=name)  # type: ignore[arg-type]
        return prob, _bell(), np.einsum("ni,nj->nij", t, t.conj())
    zero_in = np.zeros((1, 2**net.num_inputs), dtype=complex)
    zero_in[0, 0] = 1
    if cost == "local":
        obs = _local_observables(net.num_outputs)
    else:
        obs = np.zeros((1, 2**net.num_outputs, 2**net.num_outputs), dtype=complex)
        obs[0, 0, 0] = 1
    return TrainabilityProblem(network=net, cost=cost, params=params, name=name), zero_in, obs  # type: ignore[arg-type]


SAMPLES = 400


@pytest.fixture(scope="module")
def measured(tmp_path_factory):  # type: ignore[no-untyped-def]
    """Each user network's study (sampled, S = 400, seed 2, and exact), and its folder; computed once."""
    out = {}
    for name in CASES:
        prob, _, _ = _problem(name)
        folder = tmp_path_factory.mktemp(name)
        out[name] = (study(prob, samples=SAMPLES, seed=2, exact="auto", out=folder), folder)
    return out


def _samples(folder, point: ProblemPoint) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The stored samples (S, P) of a study's point (its ``points/*.npy``, one per parameter)."""
    from dqnn.trainability.sweep import SweepConfig, point_keys

    keys = point_keys(point, SweepConfig(samples=SAMPLES, seed=2))
    return np.stack([np.load(folder / "points" / f"{k}.npy") for k in keys], axis=1)


@functools.cache
def _case_brute(name: str):  # type: ignore[no-untyped-def]
    """A case's network, its studied angles and their brute-force gradients compiled once (both tests use it)."""
    prob, x, obs = _problem(name)
    net = prob.network_at()
    angles = select(net, prob.params)
    return net, angles, _brute_gradient_fn(net, angles, x, obs)


@pytest.mark.parametrize("name", list(CASES))
def test_user_networks_match_brute_force_sample_by_sample(name: str, measured) -> None:  # type: ignore[no-untyped-def]
    prob, x, obs = _problem(name)
    point = ProblemPoint(prob)
    net, angles, fn = _case_brute(name)
    assert list(point.parameters) == list(angles)
    g = _samples(measured[name][1], point)
    keys = jax.random.split(point.key(2), SAMPLES)
    # the state-vector brute force is the full-unitary Eq. (1) of tests/bruteforce.py
    p0 = point.network.init(keys[0])
    want = fidelity_cost_bruteforce(point.network, p0, x, obs)
    assert abs(fidelity_cost_bruteforce_pure(point.network, p0, x, obs) - want) < 1e-12
    ref = _brute_gradients(point.network, keys[:CHUNK], angles, x, obs, fn=fn)
    np.testing.assert_allclose(g[:CHUNK], ref, atol=1e-10)
    assert g.shape == (SAMPLES, len(point.parameters))


@pytest.mark.parametrize("name", list(CASES))
def test_user_networks_exact_agrees_with_sampled_and_independent_brute_force(name: str, measured) -> None:  # type: ignore[no-untyped-def]
    prob, x, obs = _problem(name)
    res = measured[name][0]
    assert res["exact_skipped"] == []
    sampled = {p["param"]: p for p in res["points"] if p["method"] != "exact"}
    exact = {p["param"]: p for p in res["points"] if p["method"] == "exact"}
    assert sampled.keys() == exact.keys()
    for lab, s in sampled.items():
        # (+ 1e-15: angles whose derivative vanishes identically, e.g. R_z on a control, give Var ~ 1e-34 vs 0)
        assert abs(s["variance"] - exact[lab]["variance"]) < 4 * s["stderr"] + 1e-15, (lab, s, exact[lab])
    net, angles, fn = _case_brute(name)  # an independent estimate of every parameter (fresh draws)
    brute = _brute_gradients(net, jax.random.split(jax.random.key(99), 2000), angles, x, obs, fn=fn)
    for a, idx in enumerate(angles):
        b = brute[:, a]
        b_var = b.var(ddof=1)
        b_se = np.sqrt(max(np.mean((b - b.mean()) ** 4) - b_var**2, 0) / len(b))
        assert abs(b_var - exact[str(idx)]["variance"]) < 4 * b_se + 1e-15, (idx, b_var, exact[str(idx)]["variance"])


def test_per_parameter_map_equals_single_parameter_runs(measured) -> None:  # type: ignore[no-untyped-def]
    prob, _, _ = _problem("k2-global")
    point = ProblemPoint(prob)
    g = _samples(measured["k2-global"][1], point)
    assert {p["engine"] for p in measured["k2-global"][0]["points"] if p["method"] != "exact"} == {"map"}
    for a in (0, len(point.parameters) - 1):
        idx = point.parameters[a]
        one = ProblemPoint(TrainabilityProblem(network=prob.network, cost="global", params=idx, name="k2-global"))
        g1, e1 = sample(one, SAMPLES, seed=2)
        assert e1 == ["full"]
        np.testing.assert_allclose(g[:, a], g1[:, 0], rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize(
    ("arch", "build", "cost", "stream"), [("fig3a", fig3a_by_hand, "global", 0), ("fig3b", fig3b_by_hand, "local", 1)]
)
def test_hand_written_presets_give_the_presets_samples(arch, build, cost, stream) -> None:  # type: ignore[no-untyped-def]
    n = 4
    prob = TrainabilityProblem(network=build, cost=cost, stream=stream, name=f"{arch}-by-hand")
    point = ProblemPoint(prob, n)
    g, engines = sample(point, S, seed=3)
    ref = sample_gradients(PointSpec(arch, cost, n, 2), S, seed=3)  # type: ignore[arg-type]
    np.testing.assert_array_equal(g[:, 0], ref)
    assert engines == ["components" if arch == "fig3a" else "lightcone"]


def test_hand_written_fig3a_exact_equals_the_closed_form() -> None:
    prob = TrainabilityProblem(network=fig3a_by_hand, cost="global", name="fig3a-by-hand")
    res = study(prob, [2, 3, 5], samples=0, exact=True)
    for p in res["points"]:
        assert p["variance"] == pytest.approx(analytic.fig3a_global(p["n"]), rel=1e-12)
    assert res["fits"]["exact"]["better"] == "exponential"


def test_label_cost_gradient_is_minus_the_label_fidelity_gradient() -> None:
    net = rx_rz_cnot()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 4)) + 1j * rng.normal(size=(3, 4))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    y = np.array([0, 1, 1])
    prob = TrainabilityProblem(network=net, cost="label", data=(x, y), params="layer:1", name="label")
    point = ProblemPoint(prob)
    g, _ = sample(point, 4, seed=1)
    proj = -label_observables(y, net.num_outputs)  # |y><y| (x) 1 on output qubit 0
    ref = _brute_gradients(net, jax.random.split(point.key(1), 4), point.parameters, x, proj)
    np.testing.assert_allclose(g, ref, atol=1e-10)


def test_parameter_selections() -> None:
    net = rx_rz_cnot()
    assert select(net, "first") == [AngleIndex(0, 0, 0)]
    assert len(select(net, "all")) == 5 * 3
    assert {i.layer for i in select(net, "layer:1")} == {1}
    assert select(net, "perceptron:1,1") == [AngleIndex(1, 1, a) for a in range(3)]
    assert select(net, "0,2,1;1,0,0") == [AngleIndex(0, 2, 1), AngleIndex(1, 0, 0)]
    assert select(net, [(0, 0, 2)]) == [AngleIndex(0, 0, 2)]
    assert select(Network.from_unitaries([1, 1], [[np.eye(4)]]), "pmm") == [None]
    for bad, match in [
        ("layer:7", "no circuit angle"),
        ("0,9,0", "perceptron 9"),
        ("x", "not a parameter"),
        ("", "selects no"),
    ]:
        with pytest.raises(ValueError, match=match):
            select(net, bad)
    with pytest.raises(ValueError, match="no circuit angle"):
        select(Network.from_unitaries([1, 1], [[np.eye(4)]]), "all")


def test_bad_problems_are_refused_by_name() -> None:
    net = rx_rz_cnot()
    with pytest.raises(ValueError, match="cost 'nope'"):
        TrainabilityProblem(network=net, cost="nope")
    with pytest.raises(ValueError, match=r"inputs must be \(N, 4\)"):
        TrainabilityProblem(network=net, data=(np.ones((1, 8)), np.ones((1, 4))), name="p").pair(net)
    with pytest.raises(ValueError, match="NaN"):
        TrainabilityProblem(network=net, data=(np.full((1, 4), np.nan), np.ones((1, 4))), name="p").pair(net)
    with pytest.raises(ValueError, match="labels 0 or 1"):
        TrainabilityProblem(network=net, cost="label", data=(np.eye(4)[:2], [0, 2]), name="p").pair(net)
    with pytest.raises(ValueError, match="network is fixed"):
        TrainabilityProblem(network=net).network_at(5)
    with pytest.raises(TypeError, match="returned int"):
        TrainabilityProblem(network=lambda n: 3).network_at(2)  # type: ignore[arg-type,return-value]


def test_study_resumes_and_separates_different_networks(tmp_path) -> None:  # type: ignore[no-untyped-def]
    prob = TrainabilityProblem(network=fig3a_by_hand, cost="local", name="mine")
    first = study(prob, [2, 3], samples=40, seed=0, exact=False, out=tmp_path)
    again = study(prob, [2, 3], samples=40, seed=0, exact=False, out=tmp_path)
    assert [p["variance"] for p in first["points"]] == [p["variance"] for p in again["points"]]
    other = TrainabilityProblem(network=lambda n: fig3b_by_hand(max(n, 2)), cost="local", name="mine")
    third = study(other, [2, 3], samples=40, seed=0, exact=False, out=tmp_path)
    assert [p["variance"] for p in third["points"]] != [p["variance"] for p in first["points"]]
    assert len(list((tmp_path / "points").glob("*.json"))) == 4


def test_study_plans_sample_sizes_from_the_exact_fourth_moment(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """kurtosis=True: the exact kurtosis beside the exact variance agrees with the sampled kurtosis, and the samples
    it says a 10% relative error needs follow from it ((kurtosis - 1) / 0.1**2)."""
    from dqnn.trainability.problem import preset_problem

    res = study(preset_problem("fig3a", "global", 1), [2], samples=4000, seed=5, out=tmp_path, kurtosis=True)
    ex = next(p for p in res["points"] if p["method"] == "exact")
    sa = next(p for p in res["points"] if p["method"] != "exact")
    assert res["kurtosis_skipped"] == []
    assert ex["samples_needed_10pct"] == int(np.ceil((ex["kurtosis_exact"] - 1) / 0.01))
    g = np.load(next((tmp_path / "points").glob("*.npy")))
    k_sampled = np.mean(g**4) / np.mean(g**2) ** 2  # mean zero: E[g^4] / E[g^2]^2
    assert abs(k_sampled - ex["kurtosis_exact"]) < 0.15 * ex["kurtosis_exact"], (k_sampled, ex["kurtosis_exact"])
    # the relative error of the sampled variance it predicts for S = 4000, against the run's own standard error
    assert ex["variance_relative_error_at_samples"] == pytest.approx(sa["stderr"] / sa["variance"], rel=0.2)
