"""Sweeps on Dask distributed: every point an independent task, every finished point stored at once.

:func:`run_sweep_distributed` does what :func:`dqnn.trainability.sweep.run_sweep` does, but submits the points not yet
in the :class:`~dqnn.trainability.sweep.PointStore` as independent tasks to a Dask cluster: a
``LocalCluster`` of ``n_workers`` processes on this machine by default, or the scheduler at ``scheduler``
(an address such as ``tcp://host:8786``). Each finished point is written with ``PointStore.save`` as soon
as it is done, by the worker (``writer="worker"``: the store must be on a file system the workers share)
or by the client (``writer="client"``). So a lost worker loses only the points it had in flight (Dask runs
them again elsewhere) and a killed sweep loses only the points in flight: a rerun into the same store
resumes. Points are seeded per point, so the numbers do not depend on where or when a point runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Literal

import numpy as np

from dqnn.trainability.points import ProblemPoint
from dqnn.trainability.sampling import PointSpec
from dqnn.trainability.sweep import PointStore, SweepConfig, as_point, measure_all, point_keys, stored_points

Writer = Literal["worker", "client"]


def measure_point(
    spec: PointSpec | ProblemPoint, cfg: SweepConfig, root: str | None
) -> list[tuple[str, dict[str, Any], np.ndarray | None]]:
    """The task: measure every parameter of one point (:func:`dqnn.trainability.sweep.measure_all`); with
    ``root``, save them to ``PointStore(root)`` and return no samples. Returns ``(file stem, dict, samples (S,) or
    None)`` per parameter."""
    done = measure_all(as_point(spec), cfg)
    if root is None:
        return list(done)
    store = PointStore(root)
    for key, d, g in done:
        store.save(key, d, g, config=cfg.to_dict())
    return [(key, d, None) for key, d, _ in done]


#: Seconds to wait for a Dask scheduler to answer before giving up on its address.
CONNECT_TIMEOUT = 5.0


def connect(address: str, timeout: float = CONNECT_TIMEOUT) -> Any:
    """A ``dask.distributed.Client`` of the scheduler at ``address``; ValueError naming the address (within about
    ``timeout`` seconds) when nothing there answers as a Dask scheduler or the address is malformed."""
    from dask.distributed import Client

    if not isinstance(address, str) or not address.strip():
        raise ValueError(f"scheduler address {address!r} is empty: give one such as tcp://host:8786")
    try:
        return Client(address, timeout=timeout)
    except Exception as err:
        why = " ".join(str(err).split())[:160] or type(err).__name__
        raise ValueError(
            f"scheduler {address!r}: no Dask scheduler answered within {timeout:g} s ({type(err).__name__}: {why})"
        ) from None


def _client(scheduler: str | None, n_workers: int, threads_per_worker: int, env: dict[str, str] | None) -> Any:
    from dask.distributed import Client, LocalCluster

    if scheduler is not None:
        return connect(scheduler)
    cluster = LocalCluster(
        n_workers=n_workers,
        threads_per_worker=threads_per_worker,
        processes=True,
        dashboard_address=None,
        env=env or {},
    )
    return Client(cluster)


def run_sweep_distributed(
    specs: Iterable[PointSpec | ProblemPoint],
    cfg: SweepConfig,
    store: PointStore,
    scheduler: str | None = None,
    n_workers: int = 2,
    threads_per_worker: int = 1,
    writer: Writer = "worker",
    env: dict[str, str] | None = None,
    on_point: Callable[[Any, dict[str, Any], bool], None] | None = None,
    client: Any = None,
) -> list[dict[str, Any]]:
    """Measure every point of ``specs`` not yet in ``store`` on a Dask cluster; all points' dicts, in order.

    ``client``: an existing ``dask.distributed.Client`` (then ``scheduler``, ``n_workers``,
    ``threads_per_worker`` and ``env`` are unused, and it is not closed). ``env``: environment variables for
    the workers of the LocalCluster. ``on_point(spec, point, resumed)`` is called for points found in the
    store at once, then for each point as it finishes (in completion order).
    """
    from dask.distributed import as_completed

    specs = list(specs)
    keys = [point_keys(as_point(s), cfg) for s in specs]
    todo: dict[str, PointSpec | ProblemPoint] = {}
    results: dict[str, dict[str, Any]] = {}
    for spec, ks in zip(specs, keys, strict=True):
        stored = stored_points(as_point(spec), cfg, store)
        if stored is not None:
            results.update(zip(ks, stored, strict=True))
            if on_point is not None:
                for d in stored:
                    on_point(spec, d, True)
        else:
            todo.setdefault(ks[0], spec)
    if todo:
        own = client is None
        cl = _client(scheduler, n_workers, threads_per_worker, env) if own else client
        try:
            root = str(store.root.resolve()) if writer == "worker" else None
            futures = {
                cl.submit(measure_point, spec, cfg, root, key=f"dqnn-point-{first}", pure=False): spec
                for first, spec in todo.items()
            }
            for fut in as_completed(futures):
                spec = futures[fut]
                for key, d, g in fut.result():
                    results[key] = d
                    if writer == "client":
                        store.save(key, d, g, config=cfg.to_dict())
                    if on_point is not None:
                        on_point(spec, d, False)
        finally:
            if own:
                cluster = getattr(cl, "cluster", None)
                cl.close()
                if cluster is not None:
                    cluster.close()
    return [results[k] for ks in keys for k in ks]
