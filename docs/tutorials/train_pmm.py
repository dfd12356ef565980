"""Tutorial: train a [2, 3, 2] DQNN by parameter-matrix multiplication (Eq. 13) to learn a random unitary.

Run it with ``python docs/tutorials/train_pmm.py``; it is seeded and asserts what it shows.
"""

# --8<-- [start:data]
import itertools

import jax
import numpy as np

import dqnn
from dqnn.training import PMMConfig, make_pmm_update, objective, observable_factors

SEED = 0
k_data, k_init = jax.random.split(jax.random.key(SEED))

# Pairs (|phi_x>, Y |phi_x>) with Y a Haar-random unitary on 2 qubits (Beer et al.): 8 to train, 8 to test.
Y, data = dqnn.datasets.unitary_data(k_data, num_qubits=2, num_train=8, num_test=8)
print("train inputs", data.train_inputs.shape, "targets", data.train_targets.shape)
# --8<-- [end:data]

# --8<-- [start:network]
# Global perceptrons (k = 1), each a Haar-random unitary on all of the previous layer plus its output qubit.
net = dqnn.presets.global_haar([2, 3, 2])
params = net.init(k_init)
print(net.describe())
# --8<-- [end:network]

# --8<-- [start:train]
# The global cost (Eq. 3) enters PMM as the fidelity observables Pi_x = |phi_x><phi_x| (their factors).
obs = observable_factors("global", data.train_targets, net.num_outputs)
update = make_pmm_update(net, PMMConfig(eps=0.2, eta=1.0))  # V -> exp(i eps K) V for every perceptron at once

# C = 1 - mean_x <phi_x|rho_x|phi_x>, jitted once (training and test sets have the same shape).
cost_of = jax.jit(lambda p, x, t: objective(net, p, "global", x, t))
test_before = float(cost_of(params, data.test_inputs, data.test_targets))

costs = []  # training cost before each step
for step in range(30):
    params, cost_before = update(params, data.train_inputs, obs)
    costs.append(float(cost_before))
    if step % 5 == 0:
        print(f"step {step:3d}: training cost {costs[-1]:.4f}")
costs.append(float(cost_of(params, data.train_inputs, data.train_targets)))
test_after = float(cost_of(params, data.test_inputs, data.test_targets))
print(f"training cost {costs[0]:.4f} -> {costs[-1]:.4f}; test cost {test_before:.4f} -> {test_after:.4f}")
# --8<-- [end:train]

# --8<-- [start:check]
# Every step lowered the training cost (to first order in eps a PMM step never raises it), and it was learned.
assert all(b < a for a, b in itertools.pairwise(costs)), costs
assert costs[-1] < 0.25 * costs[0], (costs[0], costs[-1])
# The trained perceptrons are still unitary: Eq. (13) multiplies them by exp(i eps K) with K Hermitian.
for layer in params:
    for p in layer:
        u = np.asarray(p["u"])
        assert np.allclose(u @ u.conj().T, np.eye(len(u)), atol=1e-10)
# With 8 pairs on 2 qubits (more than 2**2 = 4) the learned map generalises: the held-out cost falls too.
assert test_after < 0.5 * test_before, (test_before, test_after)
# --8<-- [end:check]
