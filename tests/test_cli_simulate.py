"""`dqnn simulate` and `dqnn demo` through typer's runner, and the spec format."""

from __future__ import annotations

import json

import jax
import numpy as np
from typer.testing import CliRunner

from dqnn import spec
from dqnn.cli import app
from dqnn.model import states
from dqnn.presets import architectures
from dqnn.sim.simulate import output_state

runner = CliRunner()


def test_simulate_architecture_spec(tmp_path):
    f = tmp_path / "net.json"
    f.write_text(json.dumps({"architecture": "fig3b", "n": 4, "layers": 2, "seed": 3}))
    out = tmp_path / "rho.npy"
    res = runner.invoke(app, ["simulate", str(f), "--out", str(out)])
    assert res.exit_code == 0, res.output
    rho = np.load(out, allow_pickle=False)
    net = architectures.fig3b(4, 2)
    want = np.asarray(output_state(net, net.init(jax.random.key(3)), states.zero_state(4)))
    np.testing.assert_allclose(rho, want, atol=1e-12)


def test_simulate_explicit_toml_spec_with_npy_and_circuit(tmp_path):
    np.save(tmp_path / "u.npy", np.kron(np.eye(2), [[0, 1], [1, 0]]).astype(complex))
    f = tmp_path / "net.toml"
    f.write_text(
        """
widths = [2, 1]
seed = 1
layers = [[
  { inputs = [0], outputs = [0], family = { npy = "u.npy" } },
  { inputs = [1], outputs = [0], family = { circuit = [["rot", "Y", [1]], ["gate", "CNOT", [0, 1]]] } },
]]
"""
    )
    data = spec.load(f)
    net = spec.build(data)
    assert net.widths == (2, 1)
    out = tmp_path / "rho.npy"
    res = runner.invoke(app, ["simulate", str(f), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert np.load(out).shape == (2, 2)


def test_simulate_bad_spec_is_a_clear_error(tmp_path):
    f = tmp_path / "net.json"
    f.write_text(json.dumps({"widths": [2, 1], "layers": [[{"inputs": [3], "outputs": [0]}]]}))
    res = runner.invoke(app, ["simulate", str(f)])
    assert res.exit_code == 2
    assert "input qubit 3 is out of range" in res.output


def test_help_on_every_command():
    for cmd in ([], ["simulate"], ["demo"]):
        res = runner.invoke(app, [*cmd, "--help"])
        assert res.exit_code == 0
        assert "Usage" in res.output
