"""Training on Aer: the parameter sweep agrees with the one-setting estimates; a short run lowers the exact cost."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from dqnn.costs import cost
from dqnn.hardware import export, training
from dqnn.model import states
from dqnn.presets import architectures

pytest.importorskip("qiskit_aer")


def test_sweep_matches_exact_costs_at_each_setting():
    net = architectures.fig3a(2, 2)
    params = net.init(jax.random.key(0))
    ex = export.to_circuit(net, params)
    x = np.asarray(states.haar_state(jax.random.key(1), 2))[None]
    t = np.asarray(states.haar_state(jax.random.key(2), 2))[None]
    base = np.array([ex.values(params)[p] for p in ex.parameters.values()])
    settings = np.stack([base, base + 0.7, base - 1.3])
    ests = training.estimate_sweep(ex, settings, x, t, "global", "swap", shots=4000, seed=1)
    from dqnn.model.angles import set_angle

    for row, est in zip(settings, ests, strict=True):
        p = params
        for idx, v in zip(ex.parameters, row, strict=True):
            p = set_angle(p, idx, float(v))
        assert abs(est.value - float(cost(net, p, x, t, "global"))) < 4 * est.stderr
    with pytest.raises(ValueError, match="column"):
        training.estimate_sweep(ex, settings[:, :1], x, t)
    with pytest.raises(ValueError, match="shadows"):
        training.estimate_sweep(ex, settings, x, t, method="shadows")


def test_a_short_run_learns():
    cfg = training.BackendTraining(depth=0, num_train=2, epochs=3, shots=1024, lr=1.0, seed=0)
    rows = training.train_on_backend(cfg)
    assert [r["epoch"] for r in rows] == [0, 1, 2, 3]
    assert rows[-1]["exact_cost"] < rows[0]["exact_cost"]
    for r in rows:
        assert abs(r["cost"] - r["exact_cost"]) < 4 * r["stderr"]
    assert rows[-1]["shots"] == (3 * (1 + 2 * 12) + 1) * 2 * 1024  # settings x pairs x shots
    with pytest.raises(ValueError, match="rule='adam'"):
        training.BackendTraining(rule="adam")
