"""Parameter-matrix multiplication: the closed-form K, first-order descent, and learning a unitary."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from bruteforce import fidelity_cost_bruteforce
from dqnn import datasets
from dqnn.model import gates, states
from dqnn.model.families import HaarUnitary
from dqnn.model.network import Network, Perceptron
from dqnn.presets import architectures
from dqnn.training import pmm
from dqnn.training.loop import TrainConfig, train
from dqnn.training.objectives import fidelity_observables, objective, observable_factors


def _setup(widths, kind="global", n_pairs=4, seed=0):
    net = architectures.global_haar(widths)
    params = net.init(jax.random.key(seed))
    if kind == "label":
        d, _ = datasets.ising_data(jax.random.key(seed + 1), widths[0], n_pairs, 0)
        return net, params, d.train_inputs, d.train_targets
    x = datasets.haar_states(jax.random.key(seed + 1), widths[0], n_pairs)
    if kind == "local":
        t = jnp.stack(
            [
                states.random_product_state(jax.random.fold_in(jax.random.key(9), i), widths[-1])[1]
                for i in range(n_pairs)
            ]
        )
    else:
        t = datasets.haar_states(jax.random.key(seed + 2), widths[-1], n_pairs)
    return net, params, x, t


def _max_diff(a, b):
    return max(float(jnp.max(jnp.abs(u - v))) for ra, rb in zip(a, b, strict=True) for u, v in zip(ra, rb, strict=True))


def _observables(kind, t, n_out):
    """The fidelity observables Pi_x (N, 2**n_out, 2**n_out) of the objective, built from the targets without dqnn."""
    t = np.asarray(t)
    if kind == "global":
        return np.einsum("ni,nj->nij", t, t.conj())
    if kind == "local":  # (1/n_out) sum_j |psi_xj><psi_xj| on qubit j, identity elsewhere

        def on(j, f):  # type: ignore[no-untyped-def]
            return functools.reduce(
                np.kron, [np.outer(f[q], f[q].conj()) if q == j else np.eye(2) for q in range(n_out)]
            )

        return np.stack([sum(on(j, f) for j in range(n_out)) / n_out for f in t])
    return np.stack([np.kron(np.diag(np.eye(2)[y]), np.eye(2 ** (n_out - 1))) for y in t])  # label: |y><y| on qubit 0


CASES = [((2, 3, 2), "global"), ((2, 2, 2), "local"), ((2, 2, 3, 1), "label")]


@pytest.fixture(scope="module", params=CASES, ids=[f"{k}-{list(w)}" for w, k in CASES])
def case(request):
    """One network and data set with its closed-form and autodiff generators (jitted once per module).

    The autodiff reference differentiates the brute-force Eq. (1) (the whole network's unitary, jax.numpy):
    independent of both the closed form and dqnn's simulator, and cheap to compile.
    """
    widths, kind = request.param
    net, params, x, t = _setup(widths, kind)
    obs = observable_factors(kind, t, net.num_outputs)
    pis = _observables(kind, t, net.num_outputs)

    def cost(p):
        return fidelity_cost_bruteforce(net, p, x, pis, jnp)

    fid, g = jax.jit(lambda p: pmm.fidelity_and_generators(net, p, x, obs))(params)
    g_ad = jax.jit(lambda q: pmm.generators_autodiff(cost, net, q))(params)
    simulated = jax.jit(lambda p: objective(net, p, kind, x, t))  # dqnn's objective: the same cost
    ks = pmm.scale_generators(net, g, eta=1.0)

    @jax.jit
    def along(s):  # the cost and its derivative along the step u -> expm(i s K) u: one compilation for both
        return jax.jvp(lambda e: cost(pmm.apply_generators(net, params, ks, e)), (s,), (jnp.ones_like(s),))

    return {
        "net": net,
        "fid": fid,
        "g": g,
        "g_ad": g_ad,
        "ks": ks,
        "along": along,
        "objective": simulated,
        "params": params,
    }


def test_closed_form_generators_equal_autodiff(case):
    assert abs(float(case["fid"]) - (1 - float(case["objective"](case["params"])))) < 1e-12
    assert abs(float(case["fid"]) - (1 - float(case["along"](0.0)[0]))) < 1e-12
    assert _max_diff(case["g"], case["g_ad"]) < 1e-10
    net = case["net"]
    for l, (rg, rk) in enumerate(zip(case["g"], case["ks"], strict=True)):
        for gj, kj in zip(rg, rk, strict=True):
            np.testing.assert_allclose(gj, np.asarray(gj).conj().T, atol=1e-14)  # Hermitian
            np.testing.assert_allclose(kj, 2 ** net.widths[l] / 2 * gj, atol=1e-15)  # Beer's eta 2^m / 2, eta = 1


def test_step_direction_is_descent_and_matches_jvp(case):
    along, ks, g = case["along"], case["ks"], case["g"]

    def cost_along(s):
        return along(s)[0]

    c0, slope = along(0.0)
    predicted = -sum(
        float(jnp.real(jnp.trace(k @ gg))) for rk, rg in zip(ks, g, strict=True) for k, gg in zip(rk, rg, strict=True)
    )
    assert abs(float(slope) - predicted) < 1e-8
    assert predicted < 0
    fd = (float(cost_along(1e-5)) - float(cost_along(-1e-5))) / 2e-5
    assert abs(fd - predicted) < 1e-7
    assert float(cost_along(1e-3)) < float(c0)  # a small step lowers the cost
    step = pmm.apply_generators(case["net"], case["params"], ks, 1e-3)
    assert float(case["objective"](step)) < float(case["objective"](case["params"]))  # as simulated by dqnn


def test_mixed_inputs_and_fixed_perceptrons():
    """Density-matrix inputs and a Fixed perceptron in the layer: still the autodiff gradient."""
    key = jax.random.key(4)
    fixed = np.asarray(gates.haar_unitary(jax.random.key(8), 8))
    net = Network(
        [2, 2],
        [
            [
                Perceptron([0, 1], [0], HaarUnitary(3)),
                Perceptron([0, 1], [1], fixed),
                Perceptron([1], [0], HaarUnitary(2)),
            ]
        ],
    )
    params = net.init(key)
    x = jnp.stack([states.random_density_matrix(jax.random.fold_in(key, i), 2) for i in range(3)])
    t = datasets.haar_states(jax.random.key(1), 2, 3)
    obs = observable_factors("global", t, 2)
    fid, g = jax.jit(lambda p: pmm.fidelity_and_generators(net, p, x, obs))(params)
    assert g[0][1] is None
    cost = jax.jit(lambda p: objective(net, p, "global", x, t))
    assert abs(float(fid) - (1 - float(cost(params)))) < 1e-12
    pis = _observables("global", t, 2)
    g_ad = jax.jit(lambda q: pmm.generators_autodiff(lambda p: fidelity_cost_bruteforce(net, p, x, pis, jnp), net, q))(
        params
    )  # autodiff of the brute-force Eq. (1)
    assert float(jnp.max(jnp.abs(g[0][0] - g_ad[0][0]))) < 1e-10
    assert float(jnp.max(jnp.abs(g[0][2] - g_ad[0][2]))) < 1e-10
    new, c = pmm.make_pmm_update(net, pmm.PMMConfig(eps=0.1))(params, x, obs)  # factors mixed inputs first
    assert abs(float(c) - (1 - float(fid))) < 1e-12
    assert float(cost(new)) < float(cost(params))
    assert new[0][1] == params[0][1] == {}  # the Fixed perceptron is not trained


def test_observable_factors_match_observables():
    for kind, widths in (("global", (2, 2)), ("local", (2, 3)), ("label", (3, 2))):
        _, _, _, t = _setup(widths, kind, n_pairs=3)
        s = observable_factors(kind, t, widths[-1])
        np.testing.assert_allclose(
            jnp.einsum("nik,njk->nij", s, s.conj()), fidelity_observables(kind, t, widths[-1]), atol=1e-12
        )


def test_no_trainable_perceptron_is_an_error():
    with pytest.raises(ValueError, match="HaarUnitary"):
        pmm.make_pmm_update(architectures.fig3a(2), pmm.PMMConfig())
    with pytest.raises(ValueError, match="eps"):
        pmm.PMMConfig(eps=0.0)


def test_pmm_learns_a_random_unitary_to_high_test_fidelity():
    res = train(TrainConfig(task="unitary", widths=(2, 3, 2), method="pmm", pairs=8, test_pairs=16, steps=250, seed=0))
    costs = [r["cost"] for r in res.metrics]
    assert costs[-1] < 1e-4 < costs[0]
    assert res.summary["test_fidelity"] > 0.99
    for row in res.params:
        for p in row:
            assert gates.unitarity_error(np.asarray(p["u"])) < 1e-10  # expm(i eps K) keeps V unitary


def test_pmm_classifies_ising_phases():
    res = train(TrainConfig(task="ising", widths=(4, 1), method="pmm", pairs=20, test_pairs=40, steps=60, seed=1))
    assert res.summary["train_accuracy"] >= 0.85
    assert res.summary["test_accuracy"] >= 0.8  # chance is about 0.5


def test_pmm_trains_any_family_with_a_matrix_parameter():
    """The protocol's ``matrix_parameter``: a family of its own with the key "w" is trained like HaarUnitary, and a
    HamiltonianRotation (no matrix parameter) takes part untrained."""
    from dqnn.model.hamiltonian import HamiltonianRotation
    from dqnn.model.protocol import FamilyDefaults, GateOp

    class WUnitary(FamilyDefaults):
        num_angles = 0

        def __init__(self, num_qubits: int):
            self.num_qubits = num_qubits

        @property
        def matrix_parameter(self) -> str:
            return "w"

        def init(self, key):  # type: ignore[no-untyped-def]
            return {"w": gates.haar_unitary(key, 2**self.num_qubits)}

        def ops(self, params):  # type: ignore[no-untyped-def]
            return [GateOp(params["w"], tuple(range(self.num_qubits)))]

        def matrix(self, params):  # type: ignore[no-untyped-def]
            return params["w"]

    h = np.asarray(gates.pauli_string("ZX")) + 0.5 * np.asarray(gates.pauli_string("YY"))
    ham = HamiltonianRotation(h)

    def build(fam):  # type: ignore[no-untyped-def]
        return Network(
            [1, 2], [[Perceptron([0], [0], fam(2)), Perceptron([0], [1], ham), Perceptron([0], [1], fam(2))]]
        )

    net_u, net_w = build(HaarUnitary), build(WUnitary)
    pu = net_u.init(jax.random.key(3))
    pw = tuple(tuple({"w": q["u"]} if "u" in q else q for q in row) for row in pu)
    x = datasets.haar_states(jax.random.key(4), 1, 3)
    t = datasets.haar_states(jax.random.key(5), 2, 3)
    obs = observable_factors("global", t, 2)
    fid_u, g_u = pmm.fidelity_and_generators(net_u, pu, x, obs)
    fid_w, g_w = pmm.fidelity_and_generators(net_w, pw, x, obs)
    assert float(fid_u) == float(fid_w) and g_u[0][1] is None and g_w[0][1] is None
    for j in (0, 2):
        np.testing.assert_array_equal(np.asarray(g_u[0][j]), np.asarray(g_w[0][j]))
    new_u, c_u = pmm.pmm_update(net_u, pu, x, obs, pmm.PMMConfig())
    new_w, c_w = pmm.pmm_update(net_w, pw, x, obs, pmm.PMMConfig())
    assert float(c_u) == float(c_w)
    np.testing.assert_array_equal(np.asarray(new_u[0][2]["u"]), np.asarray(new_w[0][2]["w"]))
    assert new_w[0][1] is pw[0][1]  # the HamiltonianRotation is not trained
    g_ad = pmm.generators_autodiff(lambda p: objective(net_w, p, "global", x, t), net_w, pw)
    np.testing.assert_allclose(np.asarray(g_ad[0][0]), np.asarray(g_w[0][0]), atol=1e-10)
    with pytest.raises(
        ValueError, match=r"apply_generators: perceptron L0P1: family HamiltonianRotation has no matrix"
    ):
        pmm.apply_generators(net_w, pw, ((g_w[0][0], g_w[0][0], None),), 0.1)


def test_untouched_outputs_and_outputs_touched_twice():
    """Layer 0 leaves output 1 in |0> and layer 1 output 0 (no perceptron acts on them), and output 1 of layer 1 is
    touched twice: the closed-form fidelity and generators still equal the brute-force Eq. (1) and its autodiff."""
    net = Network(
        [2, 3, 2],
        [
            [Perceptron([0, 1], [2], HaarUnitary(3)), Perceptron([1], [0], HaarUnitary(2))],
            [Perceptron([0, 2], [1], HaarUnitary(3)), Perceptron([1], [1], HaarUnitary(2))],
        ],
    )
    params = net.init(jax.random.key(1))
    x = datasets.haar_states(jax.random.key(2), 2, 3)
    t = datasets.haar_states(jax.random.key(3), 2, 3)
    pis = _observables("global", t, 2)
    fid, g = jax.jit(lambda p: pmm.fidelity_and_generators(net, p, x, observable_factors("global", t, 2)))(params)
    cost = jax.jit(lambda p: fidelity_cost_bruteforce(net, p, x, pis, jnp))
    assert abs(1 - float(fid) - float(cost(params))) < 1e-12
    g_ad = jax.jit(lambda q: pmm.generators_autodiff(cost, net, q))(params)
    assert _max_diff(g, g_ad) < 1e-10
