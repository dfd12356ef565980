"""Export to Qiskit: Aer's density matrix of the exported circuit is dqnn's output state (both layouts), the
reuse layout's qubit count is its formula, OpenQASM 3 parses back to the same circuit, qubit order maps once."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dqnn
from dqnn.hardware import backends, export, layout
from dqnn.hardware.order import qiskit_qargs
from dqnn.model import families, gates, states
from dqnn.model.families import Circuit, Gate, Rot
from dqnn.model.hamiltonian import HamiltonianRotation
from dqnn.model.network import Network, Perceptron
from dqnn.presets import architectures
from strategies import random_networks

qiskit = pytest.importorskip("qiskit")
pytest.importorskip("qiskit_aer")


def _input(seed: int, n: int, mixed: bool) -> np.ndarray:
    psi = np.asarray(states.haar_state(jax.random.key(seed), n))
    if not mixed:
        return psi
    phi = np.asarray(states.haar_state(jax.random.key(seed + 1), n))
    return 0.6 * np.outer(psi, psi.conj()) + 0.4 * np.outer(phi, phi.conj())


@settings(max_examples=16)
@given(random_networks(), st.integers(0, 2**20), st.booleans(), st.sampled_from(layout.LAYOUTS))
def test_aer_density_matrix_is_dqnn_output_state(net, seed, mixed, lay):
    params = net.init(jax.random.key(seed))
    rho_in = _input(seed, net.num_inputs, mixed)
    ex = export.to_circuit(net, params, lay)
    got = backends.aer_density_matrix(ex, params, rho_in)
    want = np.asarray(dqnn.output_state(net, params, rho_in))
    np.testing.assert_allclose(got, want, atol=1e-10, rtol=0)


def _identity_params(net):
    """Parameters of the right shapes without compiling ``net.init``: unitaries 1, angles 0."""

    def one(fam):
        if isinstance(fam, families.HaarUnitary):
            return {"u": np.eye(2**fam.num_qubits, dtype=np.complex128)}
        if isinstance(fam, Circuit):
            return {"theta": np.zeros(fam.num_angles), "haar": tuple(np.eye(2 ** len(w)) for w in fam.random_blocks)}
        return {}

    return tuple(tuple(one(p.unitary) for p in layer) for layer in net.layers)


@settings(max_examples=80)
@given(random_networks())
def test_reuse_width_is_the_qubit_count_and_beats_fresh(net):
    ex = export.to_circuit(net, _identity_params(net), "reuse")
    fresh = layout.plan(net, "fresh")
    assert ex.circuit.num_qubits == layout.reuse_width(net) == ex.layout.num_qubits
    assert fresh.num_qubits == sum(net.widths)
    assert layout.reuse_width(net) <= max(a + b for a, b in zip(net.widths, net.widths[1:], strict=False))
    if len(net.widths) >= 3:
        assert layout.reuse_width(net) < fresh.num_qubits
    # a physical qubit never holds two live nodes: each reset comes only after the qubit's node was released
    used: set[int] = set(ex.layout.inputs)
    for step in ex.layout.steps:
        assert set(step.reset) <= used
        used |= set(step.wires)


def test_reuse_width_by_hand():
    # fig3b n=4: widths [4, 4, 4]; the first perceptron sees 4 inputs and its output live: 5 qubits, never more
    assert layout.reuse_width(architectures.fig3b(4, 2)) == 5
    # global perceptrons on [2, 3, 2]: layer 0 needs 2 + 3 (no input is released before the last perceptron)
    net = architectures.global_haar([2, 3, 2])
    assert layout.reuse_width(net) == 5
    # a chain of 1-qubit layers [1, 1, 1, 1]: 2 qubits, 4 in the fresh layout
    chain = Network([1, 1, 1, 1], [[Perceptron([0], [0], families.HaarUnitary(2))]] * 3)
    assert layout.reuse_width(chain) == 2 and layout.plan(chain, "fresh").num_qubits == 4


def test_named_gates_keep_their_matrix_in_dqnn_order():
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import Operator

    for name, std in export.STANDARD_GATES.items():
        m = gates.NAMED_GATES[name]
        n = int(np.log2(m.shape[0]))
        qc = QuantumCircuit(n)
        qc.append(export._standard_gate(std), list(range(n)))
        np.testing.assert_allclose(Operator(qc).reverse_qargs().data, m, atol=1e-12)
        # and a UnitaryGate of the dqnn matrix on the mapped qargs is the same operator
        qu = QuantumCircuit(n)
        export._unitary(qu, m, list(range(n)))
        np.testing.assert_allclose(Operator(qu).data, Operator(qc).data, atol=1e-12)


def test_qiskit_qargs_reverses_once():
    assert qiskit_qargs([3, 1, 2]) == [2, 1, 3]
    from qiskit.quantum_info import Statevector

    psi = np.asarray(states.haar_state(jax.random.key(2), 3))
    # a dqnn vector prepared on the mapped qargs reads back, qiskit-side reversed, as the same dqnn vector
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import StatePreparation

    qc = QuantumCircuit(3)
    qc.append(StatePreparation(psi), qiskit_qargs([0, 1, 2]))
    sv = Statevector(qc)
    np.testing.assert_allclose(sv.reverse_qargs().data, psi, atol=1e-12)


def test_matrix_generators_and_hamiltonian_rotations():
    g = np.array([[0.3, 1 - 0.5j], [1 + 0.5j, -1.2]])  # Hermitian, not a Pauli
    h = np.asarray(gates.pauli_string("XZ") + 0.4 * gates.pauli_string("YY"))
    c = Circuit(2, [Rot(g, (1,)), Rot("XY", (0, 1)), Gate("CNOT", (1, 0)), Rot("ZZ", (0, 1))])
    net = Network([1, 1, 1], [[Perceptron([0], [0], c)], [Perceptron([0], [0], HamiltonianRotation(h))]])
    params = net.init(jax.random.key(5))
    for lay in layout.LAYOUTS:
        ex = export.to_circuit(net, params, lay)
        assert ex.circuit.num_parameters == 4
        rho_in = _input(3, 1, True)
        np.testing.assert_allclose(
            backends.aer_density_matrix(ex, params, rho_in), dqnn.output_state(net, params, rho_in), atol=1e-10
        )


def test_one_circuit_serves_new_angles():
    net = architectures.fig3a(3, 2)
    p0, p1 = net.init(jax.random.key(0)), net.init(jax.random.key(1))
    ex = export.to_circuit(net, p0)
    psi = _input(0, net.num_inputs, False)
    np.testing.assert_allclose(backends.aer_density_matrix(ex, p1, psi), dqnn.output_state(net, p1, psi), atol=1e-10)


def test_basis_synthesis_keeps_the_state():
    net = architectures.global_haar([2, 1, 2])
    params = net.init(jax.random.key(4))
    ex = export.to_circuit(net, params, "reuse", basis_gates=["rz", "sx", "x", "cx"])
    assert {i.operation.name for i in ex.circuit.data} <= {"rz", "sx", "x", "cx", "reset"}
    psi = _input(7, 2, False)
    np.testing.assert_allclose(
        backends.aer_density_matrix(ex, params, psi), dqnn.output_state(net, params, psi), atol=1e-10
    )


@settings(max_examples=8)
@given(random_networks(), st.integers(0, 2**20), st.sampled_from(layout.LAYOUTS))
def test_qasm3_parses_back_to_the_same_circuit(net, seed, lay):
    params = net.init(jax.random.key(seed))
    ex = export.to_circuit(net, params, lay)
    text = export.to_qasm3(ex)
    assert text.startswith("OPENQASM 3")
    back = export.from_qasm3(text)
    values = {p.name: v for p, v in ex.values(params).items()}
    assert {p.name for p in back.parameters} == set(values)
    back = back.assign_parameters({p: values[p.name] for p in back.parameters})
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import UnitaryGate

    from dqnn.estimators.base import completing_unitary

    psi = _input(seed, net.num_inputs, False)
    qc = QuantumCircuit(back.num_qubits)
    qc.append(UnitaryGate(completing_unitary(psi)), qiskit_qargs(list(ex.layout.inputs)))
    qc.compose(back, inplace=True)
    got = backends.density_matrix(qc, list(ex.layout.outputs))
    np.testing.assert_allclose(got, dqnn.output_state(net, params, psi), atol=1e-10)


def test_bad_arguments_are_named():
    net = architectures.fig3a(2, 1)
    params = net.init(jax.random.key(0))
    with pytest.raises(ValueError, match="layout='wide'"):
        export.to_circuit(net, params, "wide")
    with pytest.raises(ValueError, match="params do not match"):
        export.to_circuit(net, params[:0], "reuse")
    with pytest.raises(TypeError, match="dqnn Network"):
        export.to_circuit("net", params)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rho_in must be"):
        export.with_input(export.to_circuit(net, params), np.ones(3))
