"""Beer et al.'s generalisation (subset-averaged) and noisy-data experiments: data, numbers and figures."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from dqnn import datasets
from dqnn.training import experiments


def test_noisy_pairs_replace_inputs_and_outputs():
    y, clean_data = datasets.unitary_data(jax.random.key(3), 2, 6, 0)
    x, t, clean = datasets.noisy_pairs(jax.random.key(3), 2, 6, 2)
    assert clean.sum() == 4
    np.testing.assert_array_equal(np.asarray(x)[clean], np.asarray(clean_data.train_inputs)[clean])
    np.testing.assert_allclose(np.asarray(t)[clean], np.asarray(x)[clean] @ np.asarray(y).T, atol=1e-12)
    for i in np.flatnonzero(~clean):  # both replaced: the output is no longer Y times the input
        assert not np.allclose(np.asarray(x)[i], np.asarray(clean_data.train_inputs)[i])
        assert abs(np.vdot(np.asarray(t)[i], np.asarray(y) @ np.asarray(x)[i])) < 0.99
    with pytest.raises(ValueError, match="num_noisy"):
        datasets.noisy_pairs(jax.random.key(0), 1, 2, 3)


def test_generalisation_and_noisy_curves(tmp_path):
    fast = experiments.PMMConfig.beer(0.2, 0.5)
    res = experiments.generalisation(widths=(1, 1), total=3, subsets=2, steps=40, pmm=fast)
    assert res["n"] == [1, 2, 3] and len(res["fidelity"]) == 3
    # reference: n of N right, the rest random (mean fidelity 1/2 on one qubit)
    np.testing.assert_allclose(res["reference"], [(n + (3 - n) / 2) / 3 for n in (1, 2, 3)])
    assert res["fidelity"][-1] > 0.99  # all pairs of a one-qubit unitary (more than d = 2): learnt
    assert res["fidelity"][0] < res["fidelity"][-1]
    png = experiments.write_figure(res, tmp_path / "g.png")
    assert png.is_file()
    noisy = experiments.noisy_data(widths=(1, 1), total=4, noisy=[0, 2], steps=40, pmm=fast)
    assert noisy["fidelity"][0] > 0.99 and noisy["fidelity"][1] < noisy["fidelity"][0]
    assert experiments.write_figure(noisy, tmp_path / "n.png").is_file()
