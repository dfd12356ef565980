"""Cross-check: one PMM step of dqnn equals the plain-NumPy, full-tensor-product step of benchmarks/peers/beer_numpy.py."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dqnn import datasets
from dqnn.model import states
from dqnn.model.families import HaarUnitary
from dqnn.model.network import Network, Perceptron
from dqnn.presets import architectures
from dqnn.training import pmm
from dqnn.training.objectives import observable_factors

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "peers" / "beer_numpy.py"


def _load_beer():  # the benchmarks folder is no package: load the module from its file
    spec = importlib.util.spec_from_file_location("beer_numpy", _PATH)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("beer_numpy", mod)
    spec.loader.exec_module(mod)
    return mod


beer = _load_beer()


def _compare(net, params, x, t, wiring=None, eps=0.1, eta=1.0):
    cfg = pmm.PMMConfig(eps=eps, eta=eta)
    new, cost = jax.jit(lambda p, xs, o: pmm.pmm_update(net, p, xs, o, cfg))(
        params, x, observable_factors("global", t, net.num_outputs)
    )
    us = [[np.asarray(p["u"]) for p in row] for row in params]
    new_np, cost_np = beer.beer_step(net.widths, us, np.asarray(x), np.asarray(t), eps=eps, eta=eta, wiring=wiring)
    assert abs(float(cost) - cost_np) < 1e-12
    diff = max(
        float(np.max(np.abs(np.asarray(p["u"]) - u)))
        for row, row_np in zip(new, new_np, strict=True)
        for p, u in zip(row, row_np, strict=True)
    )
    moved = max(
        float(np.max(np.abs(np.asarray(p["u"]) - u)))
        for row, row_np in zip(new, us, strict=True)
        for p, u in zip(row, row_np, strict=True)
    )
    assert diff < 1e-10
    assert moved > 1e-3  # the step really changed the unitaries


@pytest.mark.parametrize("widths", [(2, 2), (2, 3, 2)])
def test_numpy_step_equals_dqnn_step_global_perceptrons(widths):
    net = architectures.global_haar(widths)
    params = net.init(jax.random.key(3))
    x = datasets.haar_states(jax.random.key(4), widths[0], 5)
    t = datasets.haar_states(jax.random.key(5), widths[-1], 5)
    _compare(net, params, x, t, eps=0.2, eta=0.7)


def test_numpy_step_equals_dqnn_step_permuted_wires_and_mixed_inputs():
    """Perceptrons on permuted and multiple wires, density-matrix inputs: exercises embed and partial traces."""
    layers = [
        [Perceptron([1], [0], HaarUnitary(2)), Perceptron([1, 0], [1, 0], HaarUnitary(4))],
        [Perceptron([2, 0], [0], HaarUnitary(3))],
    ]
    net = Network([2, 3, 1], layers)
    wiring = [[(p.inputs, p.outputs) for p in row] for row in layers]
    params = net.init(jax.random.key(6))
    x = jnp.stack([states.random_density_matrix(jax.random.fold_in(jax.random.key(7), i), 2) for i in range(3)])
    t = datasets.haar_states(jax.random.key(8), 1, 3)
    _compare(net, params, x, t, wiring=wiring)


def test_embed_and_partial_trace():
    rng = np.random.default_rng(0)
    a, b, c = (rng.normal(size=(2, 2)) + 1j * rng.normal(size=(2, 2)) for _ in range(3))
    np.testing.assert_allclose(beer.embed(np.kron(a, b), [2, 0], 3), np.kron(np.kron(b, np.eye(2)), a))
    m = np.kron(np.kron(a, b), c)
    np.testing.assert_allclose(beer.partial_trace_keep(m, [2, 0], 3), np.trace(b) * np.kron(c, a))
