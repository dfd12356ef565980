"""A network with concrete parameters as a Qiskit ``QuantumCircuit`` or OpenQASM 3 text.

:func:`to_circuit` places the network by a layout (:mod:`dqnn.hardware.layout`: ``"reuse"`` with mid-circuit
resets, or ``"fresh"``, one qubit per node) and writes each perceptron in time order:

- a :class:`~dqnn.model.families.Circuit` gate by gate: every :class:`~dqnn.model.families.Rot` angle is a Qiskit
  ``Parameter`` named ``theta_<layer>_<perceptron>_<angle>`` (its :class:`~dqnn.model.angles.AngleIndex`), so one
  circuit (transpiled once) serves a whole training run: :meth:`Exported.values` binds new angles. A Pauli-string
  generator is a ``PauliEvolutionGate`` (``RX``/``RY``/``RZ`` for one qubit); a matrix generator
  ``exp(-i theta G / 2) = V exp(-i theta diag(g) / 2) V^dagger`` is two ``UnitaryGate`` s around a diagonal
  (commuting Z-string) evolution. Named fixed gates become Qiskit's standard gates, other fixed gates and
  :class:`~dqnn.model.families.RandomUnitary` blocks a ``UnitaryGate`` of their matrix;
- a :class:`~dqnn.model.hamiltonian.HamiltonianRotation` likewise as ``V exp(-i theta diag(h)) V^dagger`` with its
  angle a ``Parameter``;
- any other family (:class:`~dqnn.model.families.HaarUnitary`, :class:`~dqnn.model.families.Fixed`, your own) as
  one ``UnitaryGate`` per op of ``family.ops(params)`` (fixed by the ``params`` given at export).

``basis_gates`` (e.g. ``["rz", "sx", "x", "cx"]``) synthesises everything into that basis with
``qiskit.transpile`` (unitary synthesis), angles still ``Parameter`` s. Qubit order: :mod:`dqnn.hardware.order`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from dqnn.hardware.layout import Layout, plan
from dqnn.hardware.order import qiskit_qargs
from dqnn.model import gates
from dqnn.model.angles import AngleIndex
from dqnn.model.families import Circuit, Gate, RandomUnitary, Rot
from dqnn.model.hamiltonian import HamiltonianRotation
from dqnn.model.network import Network, NetworkParams
from dqnn.model.protocol import ChannelOp, GateOp, SwapOp

#: Named fixed gates (:data:`dqnn.model.gates.NAMED_GATES`) written as Qiskit standard gates on the wires in order
#: (the control first): the same matrix in dqnn's order, checked in the tests.
STANDARD_GATES: dict[str, str] = {
    "I": "id",
    "X": "x",
    "Y": "y",
    "Z": "z",
    "H": "h",
    "CNOT": "cx",
    "CX": "cx",
    "CZ": "cz",
    "SWAP": "swap",
}


@dataclass(frozen=True)
class Exported:
    """A network as a Qiskit circuit: ``circuit`` (``layout.num_qubits`` qubits, no classical bits) and its
    ``parameters`` (one ``Parameter`` per circuit angle, by :class:`~dqnn.model.angles.AngleIndex`).

    The input nodes sit on ``layout.inputs`` (prepare them before the circuit: :func:`with_input`), the output nodes
    on ``layout.outputs`` (dqnn order: :func:`dqnn.hardware.order.qiskit_qargs` gives Qiskit's).
    """

    net: Network
    circuit: Any
    layout: Layout
    parameters: dict[AngleIndex, Any]

    def values(self, params: NetworkParams) -> dict[Any, float]:
        """The binding ``{Parameter: angle}`` of the angles of ``params`` (a pytree as ``net.init`` returns).

        Only angles are bound: the matrices of matrix perceptrons are those given at export.
        """
        out = {}
        for idx, par in self.parameters.items():
            theta = np.asarray(params[idx.layer][idx.perceptron]["theta"], dtype=np.float64)
            out[par] = float(theta[idx.angle])
        return out

    def bound(self, params: NetworkParams) -> Any:
        """``circuit`` with the angles of ``params`` assigned (a new circuit without free parameters)."""
        return self.circuit.assign_parameters(self.values(params), inplace=False)


def _standard_gate(name: str) -> Any:
    from qiskit.circuit import library as lib

    return {
        "id": lib.IGate,
        "x": lib.XGate,
        "y": lib.YGate,
        "z": lib.ZGate,
        "h": lib.HGate,
        "cx": lib.CXGate,
        "cz": lib.CZGate,
        "swap": lib.SwapGate,
    }[name]()


def _unitary(qc: Any, matrix: ArrayLike, qubits: Sequence[int], label: str | None = None) -> None:
    from qiskit.circuit.library import UnitaryGate

    qc.append(UnitaryGate(np.asarray(matrix, dtype=np.complex128), label=label), qiskit_qargs(qubits))


def _spectral_rotation(qc: Any, eigvals: np.ndarray, eigvecs: np.ndarray, time: Any, qubits: Sequence[int]) -> None:
    """``V exp(-i time diag(eigvals)) V^dagger`` on ``qubits`` (dqnn order): the diagonal as a commuting Z-string
    evolution (exact), ``time`` a number or a ``ParameterExpression``."""
    from qiskit.circuit.library import PauliEvolutionGate
    from qiskit.quantum_info import Operator, SparsePauliOp

    v = np.asarray(eigvecs, dtype=np.complex128)
    _unitary(qc, v.conj().T, qubits)
    diag = SparsePauliOp.from_operator(Operator(np.diag(np.asarray(eigvals, dtype=np.complex128).real)))
    qc.append(PauliEvolutionGate(diag, time=time), qiskit_qargs(qubits))
    _unitary(qc, v, qubits)


def _pauli_rotation(qc: Any, label: str, theta: Any, qubits: Sequence[int]) -> None:
    """``exp(-i theta P / 2)`` for a Pauli string ``label`` (its first letter on ``qubits[0]``)."""
    from qiskit.circuit.library import PauliEvolutionGate, RXGate, RYGate, RZGate
    from qiskit.quantum_info import SparsePauliOp

    label = label.upper()
    if len(label) == 1 and label in "XYZ":
        qc.append({"X": RXGate, "Y": RYGate, "Z": RZGate}[label](theta), list(qubits))
        return
    qc.append(PauliEvolutionGate(SparsePauliOp(label), time=theta / 2), qiskit_qargs(qubits))


def _circuit_perceptron(
    qc: Any, fam: Circuit, params: Any, wires: Sequence[int], l: int, j: int, parameters: dict[AngleIndex, Any]
) -> None:
    from qiskit.circuit import Parameter

    i_rot = 0
    i_haar = 0
    for el in fam.elements:
        qs = [wires[w] for w in el.wires]
        if isinstance(el, Rot):
            idx = AngleIndex(l, j, i_rot)
            par = Parameter(f"theta_{l}_{j}_{i_rot}")
            parameters[idx] = par
            if isinstance(el.generator, str):
                _pauli_rotation(qc, el.generator, par, qs)
            else:
                w, v = np.linalg.eigh(np.asarray(el.generator, dtype=np.complex128))
                _spectral_rotation(qc, w, v, par / 2, qs)
            i_rot += 1
        elif isinstance(el, RandomUnitary):
            _unitary(qc, params["haar"][i_haar], qs, label=f"haar_{l}_{j}_{i_haar}")
            i_haar += 1
        elif isinstance(el, Gate):
            if isinstance(el.matrix, str) and el.matrix in STANDARD_GATES:
                qc.append(_standard_gate(STANDARD_GATES[el.matrix]), qs)
            else:
                m = gates.NAMED_GATES[el.matrix] if isinstance(el.matrix, str) else el.matrix
                _unitary(qc, m, qs)
        else:  # pragma: no cover - Circuit validates its elements
            raise ValueError(f"layers[{l}][{j}]: unknown circuit element {el!r}")


def _generic_perceptron(qc: Any, fam: Any, params: Any, wires: Sequence[int], l: int, j: int) -> None:
    for k, op in enumerate(fam.ops(params)):
        qs = [wires[w] for w in op.wires]
        if isinstance(op, SwapOp):
            qc.swap(qs[0], qs[1])
        elif isinstance(op, GateOp):
            _unitary(qc, np.asarray(op.matrix), qs, label=f"u_{l}_{j}_{k}")
        elif isinstance(op, ChannelOp):  # a noise channel (dqnn.model.noise): a Kraus instruction (Aer density matrix)
            from qiskit.quantum_info import Kraus

            qc.append(Kraus(list(np.asarray(op.kraus))).to_instruction(), qiskit_qargs(qs))
        else:
            raise ValueError(f"layers[{l}][{j}]: op {k} of {type(fam).__name__} is {type(op).__name__}, not a gate")


def to_circuit(
    net: Network,
    params: NetworkParams,
    layout: str = "reuse",
    basis_gates: Sequence[str] | None = None,
    barriers: bool = False,
) -> Exported:
    """``net`` with ``params`` (as ``net.init`` returns) as a Qiskit circuit in ``layout`` (module doc).

    ``basis_gates``: synthesise into these gates (``qiskit.transpile``, optimisation level 1; the qubits keep their
    numbers). ``barriers``: a barrier between layers (for drawing). ValueError for a bad layout, or ``params`` that
    do not match the network.
    """
    from qiskit import QuantumCircuit, QuantumRegister

    if not isinstance(net, Network):
        raise TypeError(f"to_circuit: net must be a dqnn Network, got {type(net).__name__}")
    lay = plan(net, layout)
    if len(params) != net.depth or any(len(p) != len(layer) for p, layer in zip(params, net.layers, strict=False)):
        raise ValueError("to_circuit: params do not match the network (expected params[l][j] per perceptron)")
    qc = QuantumCircuit(QuantumRegister(lay.num_qubits, "q"), name=f"dqnn_{'_'.join(map(str, net.widths))}")
    parameters: dict[AngleIndex, Any] = {}
    layer_now = 0
    for step in lay.steps:
        if barriers and step.layer != layer_now:
            qc.barrier()
            layer_now = step.layer
        for q in step.reset:
            qc.reset(q)
        fam = net.layers[step.layer][step.perceptron].unitary
        p = params[step.layer][step.perceptron]
        if isinstance(fam, Circuit):
            _circuit_perceptron(qc, fam, p, step.wires, step.layer, step.perceptron, parameters)
        elif isinstance(fam, HamiltonianRotation):
            par = _angle_parameter(step.layer, step.perceptron, parameters)
            w, v = np.linalg.eigh(fam.h)  # the same decomposition the family exponentiates
            _spectral_rotation(qc, w, v, par, step.wires)
        else:
            _generic_perceptron(qc, fam, p, step.wires, step.layer, step.perceptron)
    for q in lay.final_reset:
        qc.reset(q)
    if basis_gates is not None:
        from qiskit import transpile

        qc = transpile(qc, basis_gates=list(basis_gates), optimization_level=1)
    return Exported(net, qc, lay, parameters)


def _angle_parameter(l: int, j: int, parameters: dict[AngleIndex, Any]) -> Any:
    from qiskit.circuit import Parameter

    par = Parameter(f"theta_{l}_{j}_0")
    parameters[AngleIndex(l, j, 0)] = par
    return par


def to_qasm3(exported: Exported, params: NetworkParams | None = None) -> str:
    """OpenQASM 3 text of an exported circuit: the angles as ``input float[64]`` parameters, or bound to ``params``.

    Matrix gates are written through their synthesised definitions (``qiskit.qasm3.dumps``).
    """
    from qiskit import qasm3, transpile

    qc = exported.circuit if params is None else exported.bound(params)
    # unitary and evolution gates have no OpenQASM form of their own: write their definitions (exact synthesis)
    basis = ["u", "cx", "reset", "id", "x", "y", "z", "h", "cz", "swap", "rx", "ry", "rz", "measure"]
    if any(inst.operation.name not in basis + ["barrier"] for inst in qc.data):
        qc = transpile(qc, basis_gates=basis, optimization_level=0)
    return str(qasm3.dumps(qc))


def from_qasm3(text: str) -> Any:
    """A Qiskit circuit parsed back from OpenQASM 3 text (``qiskit.qasm3.loads``, needs ``qiskit_qasm3_import``)."""
    from qiskit import qasm3

    return qasm3.loads(text)


def with_input(exported: Exported, rho_in: ArrayLike, params: NetworkParams | None = None) -> Any:
    """The circuit preceded by the preparation of the input state ``rho_in`` on ``layout.inputs``.

    A state vector (2**n_in,) is prepared from |0...0> by a ``UnitaryGate`` ``V`` with ``V|0> = psi``
    (:func:`~dqnn.estimators.base.completing_unitary`: exact, and native to every Aer method); a density matrix
    (2**n_in,)*2 by a purification ``sum_k sqrt(p_k) |v_k>|k>`` on extra ancilla qubits (register ``"purif"``, after
    the network's qubits), which are left alone (traced out). ``params``: bind the angles (else the circuit keeps
    its parameters).
    """
    from qiskit import QuantumCircuit, QuantumRegister
    from qiskit.circuit.library import UnitaryGate

    from dqnn.estimators.base import completing_unitary

    n_in = exported.net.num_inputs
    x = np.asarray(rho_in, dtype=np.complex128)
    body = exported.circuit if params is None else exported.bound(params)
    inputs = list(exported.layout.inputs)
    if x.shape == (2**n_in,):
        qc = QuantumCircuit(*body.qregs, name=body.name)
        qc.append(UnitaryGate(completing_unitary(x), label="input"), qiskit_qargs(inputs))
    elif x.shape == (2**n_in, 2**n_in):
        w, v = np.linalg.eigh(0.5 * (x + x.conj().T))
        w = np.clip(w, 0.0, None)
        w = w / w.sum()
        purif = QuantumRegister(n_in, "purif")
        qc = QuantumCircuit(*body.qregs, purif, name=body.name)
        psi = (v * np.sqrt(w)[None, :]).reshape(-1)  # sum_k sqrt(p_k) |v_k> (x) |k>, input qubits first
        qargs = [qc.qubits[i] for i in inputs] + list(purif)
        qc.append(UnitaryGate(completing_unitary(psi), label="input"), qiskit_qargs(qargs))
    else:
        raise ValueError(
            f"with_input: rho_in must be a state vector ({2**n_in},) or a density matrix ({2**n_in}, {2**n_in}) "
            f"for {n_in} input qubit(s), got shape {x.shape}"
        )
    qc.compose(body, qubits=list(range(body.num_qubits)), inplace=True)
    return qc


__all__ = ["STANDARD_GATES", "Exported", "from_qasm3", "to_circuit", "to_qasm3", "with_input"]
