"""The files of a training run: checkpoints (``.npz`` of the state's leaves, metrics, configuration) and
``metrics.csv``; written atomically, read without pickle. Shared by :mod:`dqnn.training.loop` and
:mod:`dqnn.training.folders`.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

import jax
import numpy as np


def checkpoint_arrays(
    state: Any, rows: list[dict[str, float]], step: int, seconds: float, config: dict[str, Any]
) -> dict[str, Any]:
    """The arrays of a checkpoint: ``state0000...`` (the pytree leaves of ``state``), ``step``, ``seconds``, the
    metric names and rows, and ``config`` as sorted JSON (``dqnn.training.folders`` writes the same for ``fit``)."""
    leaves = jax.tree.leaves(state)
    names = list(rows[0]) if rows else []
    arrays: dict[str, Any] = {f"state{i:04d}": np.asarray(a) for i, a in enumerate(leaves)}
    arrays["step"] = np.asarray(step)
    arrays["seconds"] = np.asarray(seconds)
    arrays["metric_names"] = np.asarray(names, dtype=str)
    arrays["metrics"] = np.asarray([[r[k] for k in names] for r in rows], dtype=np.float64)
    arrays["config"] = np.asarray(json.dumps(config, sort_keys=True))
    return arrays


def write_checkpoint(path: Path, arrays: dict[str, Any]) -> None:
    """``arrays`` to ``path`` as ``.npz``, atomically (a temporary file, then a rename)."""
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as fh:
        np.savez(fh, **arrays)
    os.replace(tmp, path)


def write_metrics(path: Path, rows: list[dict[str, float]]) -> None:
    """CSV with a ``step`` column then the metrics (full float precision)."""
    if not rows:
        return
    names = list(rows[0])
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["step", *names])
        for t, r in enumerate(rows):
            w.writerow([t, *(repr(r[k]) for k in names)])


def read_metrics(path: Path) -> list[dict[str, float]]:
    """Rows of a CSV written by :func:`write_metrics` (without the ``step`` column)."""
    with open(path, newline="") as fh:
        return [{k: float(v) for k, v in r.items() if k != "step"} for r in csv.DictReader(fh)]
