"""dqnn.training.fit: data in every form, costs, validation, early stopping, run folders and bit-identical resume."""

from __future__ import annotations

import jax
import numpy as np
import optax
import pytest

from dqnn import datasets
from dqnn.costs import cost as dqnn_cost
from dqnn.model import gates, states
from dqnn.model.families import Circuit, Gate, HaarUnitary, Rot
from dqnn.model.network import Network, Perceptron
from dqnn.presets import architectures
from dqnn.training import EarlyStop, PMMConfig, PMMOptimizer, TrainData, fit, from_unitaries, load_data, save_data
from dqnn.training import train as train_any


def _same(a, b):  # type: ignore[no-untyped-def]
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def _mixed_net() -> Network:
    """Layer 0: two Haar perceptrons (PMM); layer 1: a circuit perceptron with angles (optax)."""
    circ = Circuit(3, [Rot("Y", (0,)), Rot("Y", (1,)), Gate("CNOT", (0, 2)), Rot("Y", (2,)), Gate("CZ", (1, 2))])
    return Network(
        [1, 2, 1],
        [[Perceptron([0], [0], HaarUnitary(2)), Perceptron([0], [1], HaarUnitary(2))], [Perceptron([0, 1], [0], circ)]],
    )


def _pairs(n_in, n_out, count, seed):  # type: ignore[no-untyped-def]
    x = datasets.haar_states(jax.random.key(seed), n_in, count)
    t = datasets.haar_states(jax.random.key(seed + 1), n_out, count)
    return np.asarray(x), np.asarray(t)


def test_resume_after_a_kill_at_a_random_step_is_bit_identical(tmp_path):
    """Mixed network (Nadam PMM + optax Adam), mini-batches and a validation set: stopped at a random step by an
    exception (as a kill between checkpoints), then resumed: every metric and parameter equals the uninterrupted run."""
    net = _mixed_net()
    x, t = _pairs(1, 1, 6, 3)
    kw = dict(
        method="auto",
        optimizer=optax.adam(0.05),
        pmm_optimizer=PMMOptimizer("nadam", momentum=0.8, beta=0.99),
        batch=4,
        validation=_pairs(1, 1, 3, 7),
        steps=9,
        checkpoint_every=2,
        seed=5,
        plot=False,
    )
    full = fit(net, (x, t), out_dir=tmp_path / "full", **kw)
    kill_at = int(np.random.default_rng(0).integers(3, 9))

    def killer(step, total, row):  # type: ignore[no-untyped-def]
        if step == kill_at:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fit(net, (x, t), out_dir=tmp_path / "cut", progress=killer, **kw)
    resumed = fit(net, (x, t), out_dir=tmp_path / "cut", resume=True, **kw)
    assert resumed.metrics == full.metrics  # exact floats, every step
    _same(resumed.params, full.params)
    assert (tmp_path / "cut" / "metrics.csv").read_text() == (tmp_path / "full" / "metrics.csv").read_text()
    assert full.metrics[-1]["cost"] < full.metrics[0]["cost"]
    assert set(full.metrics[0]) == {"cost", "val_cost"}
    # both kinds of parameter moved: PMM matrices and circuit angles
    assert not np.allclose(full.params[0][0]["u"], net.init(jax.random.split(jax.random.key(5))[0])[0][0]["u"])
    theta0 = net.init(jax.random.split(jax.random.key(5))[0])[1][0]["theta"]
    assert not np.allclose(full.params[1][0]["theta"], theta0)
    for row in full.params[:1]:
        for p in row:
            assert gates.unitarity_error(np.asarray(p["u"])) < 1e-10
    # a different configuration in the same folder is refused (before compiling), so is another step count
    with pytest.raises(ValueError, match="another configuration.*seed"):
        fit(net, (x, t), out_dir=tmp_path / "full", **{**kw, "seed": 6})
    with pytest.raises(ValueError, match="resume"):
        fit(net, (x, t), out_dir=tmp_path / "full", **{**kw, "steps": 12})
    frame = full.to_frame()
    assert list(frame.columns) == ["step", "cost", "val_cost"] and len(frame) == 10


def test_data_files_costs_and_errors(tmp_path):
    net = architectures.global_haar((1, 1))
    x, t = _pairs(1, 1, 4, 11)
    path = save_data(tmp_path / "d.npz", TrainData(x, t, x[:2], t[:2]))
    d = load_data(path)
    np.testing.assert_array_equal(d.inputs, x)
    assert d.has_validation
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "t.npy", t)
    np.testing.assert_array_equal(load_data(tmp_path / "x.npy", tmp_path / "t.npy").targets, t)
    # the same run from the file and from arrays; the dispatcher train(network, ...) is fit
    a = fit(net, path, steps=3, plot=False)
    b = train_any(net, (x, t), validation=(x[:2], t[:2]), steps=3, plot=False)
    assert a.metrics == b.metrics
    params = net.init(jax.random.split(jax.random.key(0))[0])
    assert abs(a.metrics[0]["cost"] - float(dqnn_cost(net, params, x, t, "global"))) < 1e-12
    # observable cost Tr[O rho] and mixed (density-matrix) targets 1 - Tr[sigma rho]: the simulator's cost at row 0
    obs = np.stack([np.asarray(gates.pauli_string("Z"))] * 4)
    c = fit(net, (x, obs), cost="observable", steps=4, plot=False)
    assert abs(c.metrics[0]["cost"] - float(dqnn_cost(net, params, x, obs, "observable"))) < 1e-12
    assert c.metrics[-1]["cost"] < c.metrics[0]["cost"]
    sig = np.stack([np.asarray(states.random_density_matrix(jax.random.key(i), 1)) for i in range(4)])
    m = fit(net, (x, sig), steps=2, plot=False)
    assert abs(m.metrics[0]["cost"] - (1 - float(dqnn_cost(net, params, x, sig, "observable")))) < 1e-12
    # bad input names the culprit
    with pytest.raises(ValueError, match="targets"):
        fit(net, (x, t[:, :1]), steps=1)
    with pytest.raises(ValueError, match="inputs"):
        fit(net, (x * 2, t), steps=1)
    with pytest.raises(ValueError, match="cost"):
        fit(net, (x, t), cost="hinge", steps=1)
    with pytest.raises(ValueError, match="batch"):
        fit(net, (x, t), batch=9, steps=1)
    with pytest.raises(ValueError, match="method"):
        fit(net, (x, t), method="newton", steps=1)
    with pytest.raises(ValueError, match="no circuit angle"):
        fit(net, (x, t), method="adam", steps=1)
    with pytest.raises(ValueError, match="nothing to train"):
        fit(Network.from_unitaries([1, 1], [[np.eye(4)]]), (x, t), steps=1)
    with pytest.raises(ValueError, match="does not exist"):
        load_data(tmp_path / "missing.npz")
    with pytest.raises(TypeError, match="data"):
        fit(net, 3, steps=1)


def test_given_unitaries_early_stopping_and_labels():
    """from_unitaries starts PMM at the given matrices; early stopping ends on the target; label costs give
    accuracies."""
    y, split = datasets.unitary_data(jax.random.key(2), 1, 4, 4)
    u0 = np.asarray(gates.haar_unitary(jax.random.key(9), 4))
    net, params = from_unitaries([1, 1], [[u0]])
    np.testing.assert_array_equal(np.asarray(params[0][0]["u"]), u0)
    stop = EarlyStop(target=0.05)
    res = fit(net, split, params=params, pmm_config=PMMConfig(eps=0.3), steps=200, early_stop=stop, plot=False)
    assert res.stopped is not None and "target" in res.stopped
    assert len(res.metrics) < 201 and res.metrics[-1]["val_cost"] <= 0.05 < res.metrics[-2]["val_cost"]
    assert res.summary["stopped"] == res.stopped
    with pytest.raises(ValueError, match="patience"):
        EarlyStop()
    flat = EarlyStop(tol=1.0, patience=2)  # nothing improves by 1: stops after 2 steps without progress
    rows = [{"cost": 0.5}, {"cost": 0.4}, {"cost": 0.39}]
    assert flat.reason(rows, "cost") is not None and flat.reason(rows[:2], "cost") is None
