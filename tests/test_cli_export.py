"""``dqnn export``: the files it writes load back to the exported circuit; bad input exits 2 with a one-line error."""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest
from typer.testing import CliRunner

import dqnn
from dqnn import spec
from dqnn.cli import app
from dqnn.hardware import backends, export, layout
from dqnn.hardware.order import qiskit_qargs

pytest.importorskip("qiskit_aer")
runner = CliRunner()


@pytest.fixture
def spec_file(tmp_path):
    p = tmp_path / "net.json"
    p.write_text(json.dumps({"architecture": "fig3a", "n": 2, "layers": 2, "seed": 3}))
    return p


def _state_of(circuit, inputs, outputs, psi):
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import UnitaryGate

    from dqnn.estimators.base import completing_unitary

    qc = QuantumCircuit(circuit.num_qubits)
    qc.append(UnitaryGate(completing_unitary(psi)), qiskit_qargs(list(inputs)))
    qc.compose(circuit, inplace=True)
    return backends.density_matrix(qc, list(outputs))


@pytest.mark.parametrize("fmt", ["qasm3", "qiskit"])
@pytest.mark.parametrize("lay", layout.LAYOUTS)
def test_export_writes_the_network(spec_file, tmp_path, fmt, lay):
    out = tmp_path / ("c.qasm" if fmt == "qasm3" else "c.qpy")
    res = runner.invoke(
        app, ["export", "--network", str(spec_file), "--format", fmt, "--layout", lay, "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    net = spec.build(spec.load(spec_file))
    params = net.init(jax.random.key(3))  # the spec's seed
    values = json.loads(out.with_name(out.name + ".params.json").read_text())
    if fmt == "qasm3":
        circuit = export.from_qasm3(out.read_text())
    else:
        from qiskit import qpy

        with out.open("rb") as fh:
            (circuit,) = qpy.load(fh)
    assert circuit.num_qubits == (layout.reuse_width(net) if lay == "reuse" else sum(net.widths))
    circuit = circuit.assign_parameters({p: values[p.name] for p in circuit.parameters})
    lay_ = layout.plan(net, lay)
    psi = np.asarray(dqnn.model.states.haar_state(jax.random.key(0), net.num_inputs))
    got = _state_of(circuit, lay_.inputs, lay_.outputs, psi)
    np.testing.assert_allclose(got, dqnn.output_state(net, params, psi), atol=1e-10)


def test_export_bound_in_a_basis_with_a_seed(spec_file, tmp_path):
    out = tmp_path / "b.qasm"
    args = ["export", "--network", str(spec_file), "--out", str(out), "--seed", "7", "--bind", "--basis", "rz,sx,x,cx"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert not out.with_name("b.qasm.params.json").exists()
    circuit = export.from_qasm3(out.read_text())
    assert circuit.num_parameters == 0
    net = spec.build(spec.load(spec_file))
    params = net.init(jax.random.key(7))
    lay = layout.plan(net, "reuse")
    psi = np.asarray(dqnn.model.states.haar_state(jax.random.key(1), net.num_inputs))
    got = _state_of(circuit, lay.inputs, lay.outputs, psi)
    np.testing.assert_allclose(got, dqnn.output_state(net, params, psi), atol=1e-10)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--format", "quil"], "--format 'quil' is not one of"),
        (["--layout", "wide"], "--layout 'wide' is not one of"),
        (["--basis", "rz,frobnicate"], "unknown gate name(s) ['frobnicate']"),
    ],
)
def test_bad_options_exit_2_with_one_line(spec_file, tmp_path, extra, message):
    res = runner.invoke(app, ["export", "--network", str(spec_file), "--out", str(tmp_path / "x.qasm"), *extra])
    assert res.exit_code == 2
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0]


def test_missing_spec_and_bad_spec(tmp_path):
    res = runner.invoke(app, ["export", "--network", str(tmp_path / "none.json"), "--out", str(tmp_path / "x.qasm")])
    assert res.exit_code == 2 and "does not exist" in res.output
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"architecture": "nope", "n": 2}))
    res = runner.invoke(app, ["export", "--network", str(bad), "--out", str(tmp_path / "x.qasm")])
    assert res.exit_code == 2 and "unknown value 'nope'" in res.output
    res = runner.invoke(app, ["export", "--out", str(tmp_path / "x.qasm")])
    assert res.exit_code == 2  # --network is required (typer's usage error)
