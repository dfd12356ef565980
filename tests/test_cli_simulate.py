"""`dqnn simulate` and `dqnn demo` through typer's runner (and one real subprocess), and every spec error as the
command prints it: one line ``error: <file>: <key path>: <problem>``, exit status 2, no traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest
from typer.testing import CliRunner

from dqnn import spec
from dqnn.cli import app
from dqnn.model import states
from dqnn.presets import architectures
from dqnn.sim.simulate import output_state

runner = CliRunner()
SRC = Path(__file__).resolve().parents[1] / "src"
BY_N = Path(__file__).resolve().parents[1] / "docs" / "examples" / "specs" / "by_n"


def P(ins, outs, fam="haar"):
    return {"inputs": ins, "outputs": outs, "family": fam}


def one_error_line(output: str) -> str:
    """The command's one error line (and a check that nothing else, such as a traceback, was printed)."""
    assert "Traceback" not in output
    lines = [ln for ln in output.splitlines() if ln.strip()]
    assert len(lines) == 1, output
    return lines[0]


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


def test_simulate_n_dependent_spec_equals_the_preset(tmp_path):
    out = tmp_path / "rho.npy"
    res = runner.invoke(app, ["simulate", str(BY_N / "fig3a.json"), "--n", "3", "--seed", "5", "--out", str(out)])
    assert res.exit_code == 0, res.output
    net = architectures.fig3a(3, 2)
    want = np.asarray(output_state(net, net.init(jax.random.key(5)), states.zero_state(3)))
    np.testing.assert_allclose(np.load(out), want, atol=1e-12)


def test_simulate_a_python_network_and_allow_outside(tmp_path):
    out = tmp_path / "rho.npy"
    res = runner.invoke(app, ["simulate", f"{BY_N / 'networks.py'}:rx_rz_cnot", "--n", "2", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert np.load(out).shape == (4, 4)
    inner = tmp_path / "specs"
    inner.mkdir()
    np.save(tmp_path / "x.npy", np.kron(np.eye(2), [[0, 1], [1, 0]]).astype(complex))
    f = inner / "net.json"
    f.write_text(json.dumps({"widths": [1, 1], "layers": [[P([0], [0], {"npy": "../x.npy"})]]}))
    res = runner.invoke(app, ["simulate", str(f), "--out", str(out)])
    assert res.exit_code == 2
    res = runner.invoke(app, ["simulate", str(f), "--allow-outside", "--out", str(out)])
    assert res.exit_code == 0, res.output
    np.testing.assert_allclose(np.load(out), np.diag([0, 1]), atol=1e-12)  # X on the output: |1><1|


# Every spec error: (file content, the message after "<file>: ").
CASES: dict[str, tuple[object, str]] = {
    "unknown key": (
        {"widths": [1, 1], "layers": [[P([0], [0])]], "colour": 1},
        "colour: unknown key (valid keys of a widths spec: widths, layers, L, strict, n, seed, input, parameters)",
    ),
    "misspelled top-level key": (
        {"widhts": [1, 1], "layers": [[P([0], [0])]]},
        "widhts: unknown key; did you mean 'widths'? (valid keys: architecture, n, seed, input, parameters, layers, "
        "w, widths, L, strict)",
    ),
    "misspelled perceptron key": (
        {"widths": [1, 1], "layers": [[{"inputs": [0], "outptus": [0]}]]},
        "layers[0][0].outptus: unknown key; did you mean 'outputs'? (valid keys of a perceptron: inputs, outputs, "
        "family)",
    ),
    "missing key": (
        {"widths": [2, 1], "layers": [[{"inputs": [0, 1]}]]},
        "layers[0][0].outputs: missing required key (required keys of a perceptron: outputs)",
    ),
    "wrong type": (
        {"widths": [2, 1], "layers": [[P([0], [0])]], "strict": "yes"},
        "strict: expected a boolean (true or false), got a string ('yes')",
    ),
    "bool is not int": (
        {"widths": [2, 1], "seed": True, "layers": [[P([0], [0])]]},
        "seed: expected an integer, got a boolean (true)",
    ),
    "float is not int": (
        {"widths": [2, 1.0], "layers": [[P([0], [0])]]},
        "widths[1]: expected an integer or an integer expression string, got a number (1.0)",
    ),
    "layers of the wrong type": (
        {"widths": [2, 1], "layers": 3},
        "layers: expected a list with one entry per layer, or a table {each = LAYER}, got an integer (3)",
    ),
    "input qubit out of range": (
        {"widths": [2, 1], "layers": [[P([0, 3], [0])]]},
        "layers[0][0].inputs[1]: qubit 3 is out of range for layer 0 of width 2 (0..1)",
    ),
    "output qubit out of range": (
        {"widths": [2, 1], "layers": [[P([0], [1])]]},
        "layers[0][0].outputs[0]: qubit 1 is out of range for layer 1 of width 1 (0..0)",
    ),
    "strict wiring": (
        {"widths": [1, 2], "strict": True, "layers": [[P([0], [0])]]},
        "layers: Network: strict wiring, but output qubit(s) [1] of layer 1 are touched by no perceptron",
    ),
    "repeated qubit": (
        {"widths": [2, 1], "layers": [[P([1, 1], [0])]]},
        "layers[0][0].inputs: qubits [1, 1] repeat a qubit",
    ),
    "unknown gate": (
        {"widths": [1, 1], "layers": [[P([0], [0], {"circuit": [["rot", "Y", [0]], ["gate", "CNOTT", [0, 1]]]})]]},
        "layers[0][0].family.circuit[1][1]: unknown value 'CNOTT'; did you mean 'CNOT'? (valid: I, X, Y, Z, H, CNOT, "
        "CX, CZ, SWAP)",
    ),
    "unknown element kind": (
        {"widths": [1, 1], "layers": [[P([0], [0], {"circuit": [["rott", "Y", [0]]]})]]},
        "layers[0][0].family.circuit[0][0]: unknown element kind 'rott'; did you mean 'rot'? (valid: rot, gate, random)",
    ),
    "element of the wrong length": (
        {"widths": [1, 1], "layers": [[P([0], [0], {"circuit": [["rot", [0]]]})]]},
        "layers[0][0].family.circuit[0]: a 'rot' element is [\"rot\", GENERATOR, [wires]], got 2 entries",
    ),
    "element that is not a list": (
        {"widths": [1, 1], "layers": [[P([0], [0], {"circuit": ["rot"]})]]},
        "layers[0][0].family.circuit[0]: expected a circuit element [kind, ...], got a string ('rot')",
    ),
    "element wire out of range": (
        {"widths": [1, 1], "layers": [[P([0], [0], {"circuit": [["rot", "Y", [2]]]})]]},
        "layers[0][0].family.circuit[0][2][0]: wire 2 is out of range for a perceptron on 2 wires (local wires 0..1: "
        "its inputs, then its outputs)",
    ),
    "bad Pauli string": (
        {"widths": [1, 1], "layers": [[P([0], [0], {"circuit": [["rot", "Q", [0]]]})]]},
        "layers[0][0].family.circuit[0][1]: 'Q' is not a Pauli string (letters I, X, Y, Z)",
    ),
    "Pauli string of the wrong length": (
        {"widths": [1, 1], "layers": [[P([0], [0], {"circuit": [["rot", "YY", [0]]]})]]},
        "layers[0][0].family.circuit[0]: Pauli string 'YY' has 2 letter(s), but 1 wire(s) are given",
    ),
    "gate on the wrong number of wires": (
        {"widths": [1, 1], "layers": [[P([0], [0], {"circuit": [["gate", "CNOT", [0]]]})]]},
        "layers[0][0].family.circuit[0]: gate 'CNOT' has shape (4, 4): it acts on 2 wire(s), but 1 are given",
    ),
    "non-unitary npy matrix": (
        {"widths": [1, 1], "layers": [[P([0], [0], {"npy": "ones.npy"})]]},
        "layers[0][0].family.npy: ones.npy: matrix is not unitary (max |U U^dagger - 1| = 4 > 1e-08)",
    ),
    "npy matrix of the wrong size": (
        {"widths": [2, 1], "layers": [[P([0, 1], [0], {"npy": "eye4.npy"})]]},
        "layers[0][0].family.npy: eye4.npy: a matrix on 3 qubit(s) must be 8x8, got (4, 4)",
    ),
    "non-unitary gate matrix": (
        {"widths": [1, 1], "layers": [[P([0], [0], {"circuit": [["gate", {"npy": "ones.npy"}, [0, 1]]]})]]},
        "layers[0][0].family.circuit[0][1]: gate matrix: matrix is not unitary (max |U U^dagger - 1| = 4 > 1e-08)",
    ),
    "unknown family": (
        {"widths": [1, 1], "layers": [[P([0], [0], "haarr")]]},
        "layers[0][0].family: unknown value 'haarr'; did you mean 'haar'? (valid: haar, fig3a, fig3b-v1, fig3b-v2)",
    ),
    "unknown family kind": (
        {"widths": [1, 1], "layers": [[P([0], [0], {"numpy": "eye4.npy"})]]},
        "layers[0][0].family.numpy: unknown kind; did you mean 'npy'? (valid: npy, circuit, fig3b-v1, hamiltonian)",
    ),
    "family of the wrong size": (
        {"widths": [2, 1], "layers": [[P([0, 1], [0], "fig3a")]]},
        "layers[0][0].family: family 'fig3a' acts on 2 wires (1 input(s), 1 output), but this perceptron has 3",
    ),
    "unknown pattern": (
        {"widths": [2, 1], "layers": [[{"pattern": "globl"}]]},
        "layers[0][0].pattern: unknown value 'globl'; did you mean 'global'? (valid: global, window, brick, pyramid)",
    ),
    "misspelled pattern key": (
        {"widths": [2, 1], "layers": [{"pattern": "window", "sise": 2}]},
        "layers[0].sise: unknown key; did you mean 'size'? (valid keys of a window pattern: pattern, size, stride, "
        "offset, boundary, family, k)",
    ),
    "brick that changes the width": (
        {"widths": [3, 2], "layers": [[{"pattern": "brick"}]]},
        "layers[0][0]: a brick layer keeps the width, but layer 0 has 3 and layer 1 2",
    ),
    "unknown architecture": (
        {"architecture": "fig3c", "n": 4},
        "architecture: unknown value 'fig3c'; did you mean 'fig3b'? (valid: fig3a, fig3b, global)",
    ),
    "architecture without n": (
        {"architecture": "fig3b"},
        "n: missing required key (required keys of an architecture spec: architecture, n)",
    ),
    "preset refusing its arguments": (
        {"architecture": "fig3b", "n": 1},
        "architecture: fig3b: need n >= 2 and layers >= 1, got n=1, layers=1",
    ),
    "unsafe expression": (
        {"n": {"min": 2}, "widths": ["n", "__import__('os')"], "layers": [[P([0], [0])]]},
        "widths[1]: expression \"__import__('os')\": only min, max, cdiv, log2 may be called",
    ),
    "n in a spec without n": (
        {"widths": ["n", 1], "layers": [[P([0], [0])]]},
        'widths[0]: n is not defined: the spec has no \'n\' (give "n": {"min": ...} to make it depend on n, or a '
        'fixed "n")',
    ),
    "width below one": (
        {"n": 2, "widths": ["n", "n - 2"], "layers": [[P([0], [0])]]},
        "widths[1]: must be >= 1, got 'n - 2' = 0",
    ),
    "wrong number of layers": (
        {"widths": [2, 2, 2], "layers": [[P([0], [0])]]},
        "layers: 1 layer(s) of perceptrons, but widths [2, 2, 2] need 2",
    ),
    "neither form": (
        {"layers": [[P([0], [0])]]},
        "widths: missing required key: give 'architecture' (a preset) or 'widths' and 'layers'",
    ),
    "misspelled n range key": (
        {"n": {"mn": 2}, "widths": ["n", "n"], "layers": [[{"pattern": "global"}]]},
        "n.mn: unknown key; did you mean 'min'? (valid keys of an n range: min, max)",
    ),
    "unknown input": (
        {"widths": [1, 1], "input": "plus", "layers": [[P([0], [0])]]},
        "input: unknown value 'plus' (valid: zero, haar)",
    ),
    "missing npy file": (
        {"widths": [1, 1], "layers": [[P([0], [0], {"npy": "missing.npy"})]]},
        "layers[0][0].family.npy: file 'missing.npy' does not exist (paths are relative to '{dir}')",
    ),
    "missing parameter file": (
        {"widths": [1, 1], "parameters": "p.npz", "layers": [[P([0], [0])]]},
        "parameters: file 'p.npz' does not exist (paths are relative to '{dir}')",
    ),
    "path with ..": (
        {"widths": [1, 1], "layers": [[P([0], [0], {"npy": "../eye4.npy"})]]},
        "layers[0][0].family.npy: path '../eye4.npy' leaves the spec's folder (absolute paths and '..' are refused; "
        "pass allow_outside=True, or --allow-outside on the command line, to allow it)",
    ),
    "absolute path": (
        {"widths": [1, 1], "parameters": "{dir}/p.npz", "layers": [[P([0], [0])]]},
        "parameters: path '{dir}/p.npz' leaves the spec's folder (absolute paths and '..' are refused; pass "
        "allow_outside=True, or --allow-outside on the command line, to allow it)",
    ),
    "misshapen parameters": (
        {"widths": [1, 1], "parameters": "bad_params.npz", "layers": [[P([0], [0])]]},
        "parameters: bad_params.npz: array 'layer0.perceptron0.u' has shape (2, 2), the network needs (4, 4)",
    ),
    "input of the wrong size": (
        {"widths": [1, 1], "input": [[1, 0], [0, 0], [0, 0], [0, 0]], "layers": [[P([0], [0])]]},
        "input: amplitudes: a state vector on 1 qubit(s) has length 2, got 4",
    ),
    "reserved key": (
        {"widths": [1, 1], "_allow_outside": True, "layers": [[P([0], [0])]]},
        "_allow_outside: keys starting with '_' are reserved for dqnn",
    ),
    "top level not a table": ([1, 2], "the top level must be a table, got a list"),
}


@pytest.fixture
def spec_dir(tmp_path: Path) -> Path:
    d = tmp_path / "specs"
    d.mkdir()
    np.save(d / "ones.npy", np.ones((4, 4)))
    np.save(d / "eye4.npy", np.eye(4, dtype=complex))
    np.save(tmp_path / "eye4.npy", np.eye(4, dtype=complex))
    np.savez(d / "bad_params.npz", **{"layer0.perceptron0.u": np.eye(2, dtype=complex)})
    return d


@pytest.mark.parametrize("case", list(CASES))
def test_every_spec_error_is_one_line_and_exit_status_2(case: str, spec_dir: Path):
    content, problem = CASES[case]
    text = json.dumps(content).replace("{dir}", str(spec_dir))
    f = spec_dir / "net.json"
    f.write_text(text)
    res = runner.invoke(app, ["simulate", str(f), "--out", str(spec_dir / "rho.npy")])
    assert res.exit_code == 2, res.output
    assert one_error_line(res.output) == f"error: {f}: {problem.replace('{dir}', str(spec_dir))}"
    with pytest.raises(spec.SpecError) as info:  # the same message from the library, as a ValueError
        spec.simulate(spec.load(f))  # every check comes before anything is compiled
    assert isinstance(info.value, ValueError)
    assert str(info.value) == f"{f}: {problem.replace('{dir}', str(spec_dir))}"


@pytest.mark.parametrize(
    ("content", "argv", "problem"),
    [
        ({"n": {"min": 2}, "widths": ["n", "n"], "layers": [[{"pattern": "global"}]]}, [], "n: the spec depends on n "
         "(n >= 2): give n (--n on the command line)"),
        ({"n": {"min": 2}, "widths": ["n", "n"], "layers": [[{"pattern": "global"}]]}, ["--n", "1"], "n: n = 1 is "
         "below the spec's minimum n.min = 2"),
        ({"widths": [1, 1], "layers": [[P([0], [0])]]}, ["--n", "3"], "n: the spec does not depend on n (it has no "
         "'n' table); do not give n (--n)"),
        ({"architecture": "fig3a", "n": 2}, ["--n", "3"], "n: the spec does not depend on n (it fixes n = 2); do not "
         "give n (--n)"),
    ],
)  # fmt: skip
def test_n_errors(content, argv, problem, tmp_path):
    f = tmp_path / "net.json"
    f.write_text(json.dumps(content))
    res = runner.invoke(app, ["simulate", str(f), *argv, "--out", str(tmp_path / "rho.npy")])
    assert res.exit_code == 2
    assert one_error_line(res.output) == f"error: {f}: {problem}"


def test_unparsable_files_and_python_refs(tmp_path):
    bad_json, bad_toml, py = tmp_path / "bad.json", tmp_path / "bad.toml", tmp_path / "nets.py"
    bad_json.write_text('{"widths": [1, 1],, }')
    bad_toml.write_text("widths = [1, 1\n")
    py.write_text("def not_a_network(n):\n    return [n]\n")
    want = {
        str(bad_json): f"{bad_json}: not valid JSON: Expecting property name enclosed in double quotes: line 1 "
        "column 19 (char 18)",
        str(bad_toml): f"{bad_toml}: not valid TOML: Unclosed array (at end of document)",
        str(tmp_path / "none.toml"): f"{tmp_path / 'none.toml'}: file does not exist",
        str(tmp_path / "net.yaml"): f"{tmp_path / 'net.yaml'}: a spec file ends in .json or .toml, not '.yaml'",
        f"{py}:missing": f"{py}: missing: no function 'missing' in the file (functions: not_a_network)",
        f"{tmp_path / 'gone.py'}:f": f"{tmp_path / 'gone.py'}: file does not exist",
    }
    for ref, message in want.items():
        res = runner.invoke(app, ["simulate", ref])
        assert res.exit_code == 2, res.output
        assert one_error_line(res.output) == f"error: {message}"
    res = runner.invoke(app, ["simulate", f"{py}:not_a_network", "--n", "2"])
    assert (
        one_error_line(res.output)
        == f"error: {py}:not_a_network: not_a_network(n=2): returned list, not a dqnn Network"
    )
    res = runner.invoke(app, ["simulate", f"{py}:not_a_network"])
    assert res.exit_code == 2
    assert "a Python network function takes n: give n" in one_error_line(res.output)


def test_real_subprocess_prints_one_line_and_exits_2(tmp_path):
    f = tmp_path / "net.json"
    f.write_text(json.dumps({"widths": [1, 1], "layers": [[{"inputs": [0], "outptus": [0]}]]}))
    env = {**os.environ, "PYTHONPATH": str(SRC), "DQNN_NO_CACHE": "1", "COLUMNS": "40"}
    proc = subprocess.run(
        [sys.executable, "-m", "dqnn", "simulate", str(f)], capture_output=True, text=True, env=env, timeout=300
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [
        f"error: {f}: layers[0][0].outptus: unknown key; did you mean 'outputs'? (valid keys of a perceptron: "
        "inputs, outputs, family)"
    ]


def test_help_on_every_command():
    for cmd in ([], ["simulate"], ["demo"]):
        res = runner.invoke(app, [*cmd, "--help"])
        assert res.exit_code == 0
        assert "Usage" in res.output
