"""Costs of Eqs. (2)-(4) against closed forms and direct density-matrix formulas."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dqnn
from dqnn.costs import cost, per_pair
from dqnn.model import states
from dqnn.presets import architectures


def _reduced(rho: np.ndarray, j: int, n: int) -> np.ndarray:
    t = rho.reshape((2,) * (2 * n))
    letters = "abcdefghijklmnopqrstuvwxyz"
    ket = list(letters[:n])
    bra = list(letters[:n])
    ket[j], bra[j] = "Y", "Z"
    return np.einsum("".join(ket) + "".join(bra) + "->YZ", t)


def test_fig3a_costs_closed_form():
    n = 3
    net = architectures.fig3a(n, 1)
    p = net.init(jax.random.key(1))
    th = np.array([float(p[0][j]["theta"][0]) for j in range(n)])
    x = states.zero_state(n)[None]
    cg = float(cost(net, p, x, states.zero_state(n)[None], "global"))
    assert abs(cg - (1 - np.prod(np.cos(th / 2) ** 2))) < 1e-13
    loc = jnp.tile(jnp.array([1.0, 0.0]), (1, n, 1))
    cl = float(cost(net, p, x, loc, "local"))
    assert abs(cl - (1 - np.mean(np.cos(th / 2) ** 2))) < 1e-13


def test_costs_on_mixed_outputs_match_density_formulas():
    net = architectures.global_haar([2, 2, 2])
    p = net.init(jax.random.key(4))
    k = jax.random.split(jax.random.key(5), 4)
    xs = jnp.stack([states.random_density_matrix(k[0], 2), states.random_density_matrix(k[1], 2, rank=2)])
    phis = jnp.stack([states.haar_state(k[2], 2), states.haar_state(k[3], 2)])
    rhos = [np.asarray(dqnn.output_state(net, p, x)) for x in xs]
    g = np.asarray(per_pair(net, p, xs, phis, "global"))
    for i in range(2):
        phi = np.asarray(phis[i])
        assert abs(g[i] - (1 - np.real(phi.conj() @ rhos[i] @ phi))) < 1e-12
    facs = jnp.stack([states.random_product_state(k[i], 2)[1] for i in range(2)])
    loc = np.asarray(per_pair(net, p, xs, facs, "local"))
    for i in range(2):
        ov = [
            np.real(np.asarray(facs[i, j]).conj() @ _reduced(rhos[i], j, 2) @ np.asarray(facs[i, j])) for j in range(2)
        ]
        assert abs(loc[i] - (1 - np.mean(ov))) < 1e-12
    obs = jnp.stack([jnp.asarray(dqnn.model.gates.pauli_string("ZX"))] * 2)
    o = np.asarray(per_pair(net, p, xs, obs, "observable"))
    for i in range(2):
        assert abs(o[i] - np.real(np.trace(np.asarray(obs[i]) @ rhos[i]))) < 1e-12
    assert abs(float(cost(net, p, xs, phis, "global")) - g.mean()) < 1e-14


def test_global_cost_is_faithful_and_bounded():
    net = architectures.fig3b(4, 2)
    p = net.init(jax.random.key(0))
    x = states.haar_state(jax.random.key(1), 4)[None]
    out = np.asarray(dqnn.output_state(net, p, x[0]))
    w, v = np.linalg.eigh(out)
    target = v[:, -1][None]
    assert abs(float(cost(net, p, x, target, "global"))) < 1e-12
    rnd = states.haar_state(jax.random.key(2), 4)[None]
    assert 0 <= float(cost(net, p, x, rnd, "global")) <= 1


def test_target_shapes_are_checked():
    net = architectures.fig3a(2)
    p = net.init(jax.random.key(0))
    x = states.zero_state(2)[None]
    with pytest.raises(ValueError, match=r"global cost: targets must have shape \(1, 4\)"):
        cost(net, p, x, np.zeros((1, 2)), "global")
    with pytest.raises(ValueError, match=r"local cost: targets must have shape \(1, 2, 2\)"):
        cost(net, p, x, np.zeros((1, 4)), "local")
    with pytest.raises(ValueError, match="stacked"):
        cost(net, p, states.zero_state(2), states.zero_state(2)[None], "global")
    with pytest.raises(ValueError, match="cost kind 'nope' is not one of 'global', 'local', 'observable'"):
        cost(net, p, x, states.zero_state(2)[None], "nope")  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["global", "local"])
def test_real_arithmetic_gives_the_complex_costs_and_gradients(kind):
    """A real network (Fig. 3a: SWAP and R_y) on a concrete real input runs in float64; a traced complex
    input (never assumed real) runs in complex128; costs and gradients agree."""
    net = architectures.fig3a(3, 2)
    params = net.init(jax.random.key(4))
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2, 8))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    if kind == "global":
        t = rng.normal(size=(2, 8)) + 1j * rng.normal(size=(2, 8))
        t /= np.linalg.norm(t, axis=1, keepdims=True)
    else:
        t = np.stack(
            [np.stack([states.haar_state(k, 1) for k in jax.random.split(jax.random.key(i), 3)]) for i in (1, 2)]
        )
    for xs, ts in ((x, t), (x[:1], t[:1])):  # vmapped pairs and the single-pair path
        # jitted with the input a concrete constant: still the float64 path (op by op took three times as long)
        real = jax.jit(jax.value_and_grad(lambda p, xs=xs, ts=ts: cost(net, p, xs, ts, kind)))(params)
        cplx = jax.jit(jax.value_and_grad(lambda p, xx, ts=ts: cost(net, p, xx, ts, kind)))(
            params, jnp.asarray(xs, dtype=jnp.complex128)
        )
        np.testing.assert_allclose(float(real[0]), float(cplx[0]), atol=1e-13)
        for a, b in zip(jax.tree.leaves(real[1]), jax.tree.leaves(cplx[1]), strict=True):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-12)


def test_a_new_cost_is_one_registry_entry() -> None:
    """A cost kind registered in dqnn.costs.COSTS works in the cost, its gradient and the variance sampler."""
    from dqnn import costs
    from dqnn.gradients import grad_autodiff
    from dqnn.model.angles import AngleIndex
    from dqnn.presets.architectures import fig3a
    from dqnn.trainability.sampling import Gradient, sample_keys, sampler

    def squared_infidelity(f, target):
        return costs.global_term(f, target) ** 2

    costs.register_cost(costs.CostDef("squared", squared_infidelity, lambda n: (2**n,), "(1 - <phi|rho|phi>)^2"))
    try:
        net = fig3a(2, 1)
        params = net.init(jax.random.key(0))
        x = states.zero_state(2)[None]
        c_new = float(costs.cost(net, params, x, x, "squared"))  # type: ignore[arg-type]
        c_global = float(costs.cost(net, params, x, x, "global"))
        assert abs(c_new - c_global**2) < 1e-14
        idx = AngleIndex(0, 0, 0)
        g = float(grad_autodiff(lambda p: costs.cost(net, p, x, x, "squared"), params, idx))  # type: ignore[arg-type]
        dg = float(grad_autodiff(lambda p: costs.cost(net, p, x, x, "global"), params, idx))
        assert abs(g - 2 * c_global * dg) < 1e-12  # chain rule
        grad = Gradient(net, idx, "squared", lambda: (x, x))  # type: ignore[arg-type]
        fn, c = sampler(grad, 4)
        samples = sample_keys(fn, c, jax.random.split(jax.random.key(1), 4))
        assert samples.shape == (4,) and np.all(np.isfinite(samples)) and np.std(samples) > 0
        with pytest.raises(ValueError, match="exists already"):
            costs.register_cost(costs.COSTS["squared"])
    finally:
        costs.COSTS.pop("squared")
    with pytest.raises(ValueError, match="is not one of 'global', 'local', 'observable'"):
        costs.cost(net, params, x, x, "squared")  # type: ignore[arg-type]
