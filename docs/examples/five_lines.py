import jax, dqnn  # noqa: E401, I001
net = dqnn.presets.fig3b(n=6, layers=4)  # Fig. 3b: local perceptrons, 4 DQNN layers (2 brick layers)
params = net.init(jax.random.key(0))  # seeded random initialisation
rho_out = dqnn.output_state(net, params, dqnn.states.zero_state(6))  # (64, 64) density matrix, exact (Eq. 1)
C = dqnn.cost(net, params, dqnn.states.zero_state(6)[None], dqnn.states.zero_state(6)[None], "global")  # Eq. 3
