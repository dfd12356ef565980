"""``dqnn estimate`` and ``dqnn shots``: JSON output parses and matches the library; bad input names the culprit."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from dqnn.cli import app
from dqnn.estimators.shots import estimate_problem, shots_to_resolve
from dqnn.presets.problems import GradientProblem

runner = CliRunner()


def _run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


@pytest.mark.parametrize(
    ("arch", "n", "layers", "cost", "method"),
    [("fig3a", 2, 1, "global", "inverse"), ("fig3b", 3, 2, "local", "shots"), ("global", 2, 1, "local", "shadows")],
)
def test_estimate_json_matches_library(arch, n, layers, cost, method):
    res = _run(
        "estimate", "--arch", arch, "--n", str(n), "--layers", str(layers), "--cost", cost,
        "--method", method, "--shots", "400", "--seed", "3", "--json",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert {"exact", "estimate", "stderr", "shots"} <= out.keys()
    exact, est = estimate_problem(GradientProblem(arch, n, layers, cost), method, 400, 3)
    assert out["exact"] == pytest.approx(exact, abs=1e-12)
    assert (out["estimate"], out["stderr"], out["shots"]) == (est.value, est.stderr, est.shots)
    assert abs(out["estimate"] - out["exact"]) < 4 * out["stderr"] + 1e-12


def test_estimate_gradient_json():
    res = _run("estimate", "--arch", "fig3a", "--n", "2", "--shots", "2000", "--seed", "1", "--gradient", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    exact, est = estimate_problem(GradientProblem("fig3a", 2), "inverse", 2000, 1, gradient=True)
    assert out["quantity"] == "gradient" and out["shots"] == 4000
    assert out["exact"] == pytest.approx(exact, abs=1e-12) and out["estimate"] == est.value


def test_estimate_rich_table():
    res = _run("estimate", "--arch", "fig3a", "--n", "2", "--shots", "100")
    assert res.exit_code == 0, res.output
    assert "exact" in res.output and "stderr" in res.output


def test_shots_command():
    res = _run("shots", "--variance", "1e-4", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["shots_per_circuit"] == shots_to_resolve(1e-4) == 4802 and out["total_shots"] == 9604
    res = _run("shots", "--variance", "1e-4", "--confidence", "0.99")
    assert res.exit_code == 0 and str(shots_to_resolve(1e-4, 0.99)) in res.output


@pytest.mark.parametrize(
    ("args", "culprit"),
    [
        (["estimate", "--arch", "fig9"], "arch 'fig9'"),
        (["estimate", "--cost", "medium"], "cost 'medium'"),
        (["estimate", "--method", "magic"], "--method 'magic'"),
        (["estimate", "--shots", "1"], "shots=1"),
        (["estimate", "--n", "0"], "n=0"),
        (["shots", "--variance", "0"], "variance=0"),
        (["shots", "--variance", "1e-3", "--confidence", "2"], "confidence=2"),
    ],
)
def test_bad_input_names_the_culprit(args, culprit):
    res = _run(*args)
    assert res.exit_code == 2
    assert culprit in res.output


def test_estimate_of_a_users_network_matches_the_library(tmp_path):
    """--network: a saved spec with its parameters; the exact value is the library's cost at those parameters."""
    import jax
    import numpy as np

    from dqnn import spec
    from dqnn.costs import cost
    from dqnn.model.families import Circuit, Gate, Rot
    from dqnn.model.network import Network, Perceptron

    fam = Circuit(3, [Rot("Y", (0,)), Gate("CNOT", (0, 2)), Rot("X", (2,))])
    net = Network([2, 2], [[Perceptron([0, 1], [0], fam), Perceptron([0, 1], [1], fam)]])
    params = net.init(jax.random.key(7))
    path = spec.save(tmp_path / "net.json", net, params)
    for extra, quantity in (([], "cost"), (["--gradient", "--param", "0,1,1"], "gradient")):
        res = _run("estimate", "--network", str(path), "--cost", "local", "--shots", "2000", "--json", *extra)
        assert res.exit_code == 0, res.output
        data = json.loads(res.stdout.strip().splitlines()[-1])
        assert data["quantity"] == quantity
        assert abs(data["estimate"] - data["exact"]) < 5 * data["stderr"] + 1e-12
    x = np.zeros((1, 4), dtype=complex)
    x[0, 0] = 1
    t = np.tile(np.array([1.0, 0.0], dtype=complex), (1, 2, 1))
    res = _run("estimate", "--network", str(path), "--cost", "local", "--json")
    assert json.loads(res.stdout.strip().splitlines()[-1])["exact"] == pytest.approx(
        float(cost(net, params, x, t, "local"))
    )
    bad = _run("estimate", "--network", str(path), "--n", "3")
    assert bad.exit_code == 2 and "one fixed network" in bad.output


def test_estimate_on_aer_agrees_with_the_exact_cost():
    for extra in ([], ["--gradient"]):
        res = _run("estimate", "--arch", "fig3a", "--n", "2", "--backend", "aer", "--shots", "4000", "--json", *extra)
        assert res.exit_code == 0, res.output
        data = json.loads(res.stdout.strip().splitlines()[-1])
        assert data["backend"] == "aer" and abs(data["estimate"] - data["exact"]) < 5 * data["stderr"] + 1e-12
    bad = _run("estimate", "--backend", "ibm")
    assert bad.exit_code == 2 and "aer-noisy" in bad.output
