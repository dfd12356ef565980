"""Sweeps on a real two-worker Dask LocalCluster survive a killed worker and equal an uninterrupted run."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

distributed = pytest.importorskip("dask.distributed")

from dqnn.trainability.distributed import run_sweep_distributed  # noqa: E402
from dqnn.trainability.sampling import PointSpec  # noqa: E402
from dqnn.trainability.sweep import PointStore, SweepConfig, point_key, run_sweep  # noqa: E402

WORKER_ENV = {
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
    "OMP_NUM_THREADS": "1",
    "JAX_PLATFORMS": "cpu",
}
SPECS = [PointSpec("fig3a", cost, n, 1) for n in (2, 3, 4) for cost in ("global", "local")]
CFG = SweepConfig(samples=64, seed=5)
NUMBERS = ("mean", "variance", "stderr", "mean_stderr", "kurtosis", "samples")


def _numbers(points):
    return [[p[k] for k in NUMBERS] for p in points]


def test_killed_worker_loses_nothing(tmp_path):
    ref = run_sweep(SPECS, CFG, PointStore(tmp_path / "ref"))
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, env=WORKER_ENV
    )
    client = distributed.Client(cluster)
    killed = []

    def kill_one(spec, point, resumed):
        if killed or resumed:
            return
        pids = client.run(os.getpid)
        busy = [a for a, tasks in client.processing().items() if tasks]
        addr = busy[0] if busy else sorted(pids)[0]
        os.kill(pids[addr], signal.SIGKILL)  # the nanny restarts it; its task in flight runs again
        killed.append(addr)

    try:
        store = PointStore(tmp_path / "dist")
        got = run_sweep_distributed(SPECS, CFG, store, client=client, on_point=kill_one)
    finally:
        client.close()
        cluster.close()
    assert killed
    np.testing.assert_allclose(np.array(_numbers(got)), np.array(_numbers(ref)), atol=1e-12, rtol=0)
    for spec in SPECS:
        key = point_key(spec, CFG)
        np.testing.assert_allclose(
            np.load(store.dir / f"{key}.npy"), np.load(PointStore(tmp_path / "ref").dir / f"{key}.npy"), atol=1e-12
        )
    # a rerun resumes: every point is found in the store, nothing is submitted
    seen = []
    again = run_sweep_distributed(SPECS, CFG, store, client=object(), on_point=lambda s, p, r: seen.append(r))
    assert all(seen) and _numbers(again) == _numbers(got)
