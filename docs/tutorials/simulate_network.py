"""Tutorial: build a DQNN, simulate it (Eq. 1) and check that the output is a valid density matrix.

Run it with ``python docs/tutorials/simulate_network.py``; it is seeded and asserts what it shows.
"""

# --8<-- [start:build]
import jax
import numpy as np

import dqnn
from dqnn import Circuit, Gate, HaarUnitary, Network, Perceptron, RandomUnitary, Rot
from dqnn.model import families

# A [2, 3, 2] network: 2 input qubits, 3 hidden, 2 outputs. layers[l] lists the perceptrons from layer l to l + 1,
# in the order they act; each acts on its inputs (qubits of layer l) then its outputs (qubits of layer l + 1).
circuit = Circuit(3, [RandomUnitary((0, 1)), Rot("Y", (2,)), Gate("CNOT", (0, 2)), Rot("Z", (2,))])  # Eq. (5)
net = Network(
    [2, 3, 2],
    [
        [  # layer 0 -> 1: two global perceptrons and one local one
            Perceptron(inputs=[0, 1], outputs=[0], unitary=HaarUnitary(3)),
            Perceptron(inputs=[0, 1], outputs=[1], unitary=circuit),
            Perceptron(inputs=[1], outputs=[2], unitary=families.fig3a_perceptron()),
        ],
        [  # layer 1 -> 2: one perceptron with k = 2 outputs
            Perceptron(inputs=[0, 1, 2], outputs=[0, 1], unitary=HaarUnitary(5)),
        ],
    ],
)
print(net.describe())
params = net.init(jax.random.key(0))  # params[l][j]: the parameters of perceptron j of layer l
# --8<-- [end:build]

# --8<-- [start:simulate]
# A pure input (a state vector) and a mixed one (a density matrix) on the 2 input qubits.
psi_in = dqnn.states.haar_state(jax.random.key(1), 2)
rho_mixed = dqnn.states.random_density_matrix(jax.random.key(2), 2)
rho_out = np.asarray(dqnn.output_state(net, params, psi_in))  # (4, 4), complex128
rho_out_mixed = np.asarray(dqnn.output_state(net, params, rho_mixed))
print("output state", rho_out.shape, rho_out.dtype)
# --8<-- [end:simulate]


# --8<-- [start:check]
def check_density_matrix(rho: np.ndarray, dim: int) -> None:
    """Shape, Hermitian, unit trace, positive semidefinite."""
    assert rho.shape == (dim, dim)
    assert np.allclose(rho, rho.conj().T, atol=1e-12)
    assert abs(np.trace(rho) - 1) < 1e-12
    assert np.linalg.eigvalsh(rho).min() > -1e-12


for rho in (rho_out, rho_out_mixed):
    check_density_matrix(rho, 2**net.num_outputs)
    print(f"trace {np.trace(rho).real:.12f}, purity {np.trace(rho @ rho).real:.4f}")
# Tracing out the input and hidden layers generally leaves the output mixed (purity < 1).
assert np.trace(rho_out @ rho_out).real < 1 - 1e-6
# --8<-- [end:check]

# --8<-- [start:factors]
# The simulator keeps the state as factors rho = A B^dagger (dqnn.Factors); density() forms the matrix.
f = dqnn.output_factors(net, params, psi_in)
print("factor a", f.a.shape, "b is None (pure form):", f.b is None)
assert np.allclose(np.asarray(f.density()), rho_out, atol=1e-12)
# --8<-- [end:factors]

# --8<-- [start:brute-force]
# Eq. (1) by brute force: the unitary V = V_M ... V_1 on all 2 + 3 + 2 qubits of the network, acting on
# rho_in (x) |0...0><0...0|, then the trace over the input and hidden layers. Qubit q of layer l is wire
# offset[l] + q of the whole register, the first wire the most significant (the order of numpy.kron).
offset = np.cumsum([0, *net.widths])
total = int(offset[-1])
V = np.eye(2**total, dtype=complex)
for l, layer in enumerate(net.layers):
    for j, p in enumerate(layer):
        wires = [int(offset[l]) + q for q in p.inputs] + [int(offset[l + 1]) + q for q in p.outputs]
        V = np.asarray(families.embed(np.asarray(p.unitary.matrix(params[l][j])), wires, total)) @ V
zeros = np.zeros(2 ** (total - 2))
zeros[0] = 1.0
state = V @ np.kron(np.asarray(psi_in), zeros)
keep = 2**net.num_outputs
m = state.reshape(2**total // keep, keep)  # rows: input and hidden qubits; columns: output qubits
rho_brute = m.T @ m.conj()  # Tr_{in, hid} |state><state|
assert np.allclose(rho_brute, rho_out, atol=1e-10)
print("layer-by-layer simulation == brute-force Eq. (1)")
# --8<-- [end:brute-force]

# --8<-- [start:memory]
# Memory is set by two adjacent layers, never the whole network: log2 of the largest factor stored.
big = dqnn.presets.fig3b(12, 8)  # 12 qubits per layer, 9 layers: 108 qubits in all
print("Fig. 3b, n = 12, 8 layers: largest stored tensor 2 **", dqnn.sim.peak_stored_qubits(big))
assert dqnn.sim.peak_stored_qubits(big) <= 2 * 12
# --8<-- [end:memory]
