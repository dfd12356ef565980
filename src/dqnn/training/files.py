"""The files of a training run: checkpoints (``.npz`` of the state's leaves, metrics, configuration) and
``metrics.csv``; written atomically (unique temporary names), read without pickle. Shared by
:mod:`dqnn.training.loop` and :mod:`dqnn.training.folders`.

Every checkpoint carries ``sha256``, the SHA-256 of all its other arrays (names, dtypes, shapes and bytes);
:func:`read_checkpoint` checks it and the structure (a step in ``[0, steps]``, one metric row per step, finite
state), so a truncated, garbled or edited checkpoint (NaN or rescaled parameters, another step) is refused with
:class:`CheckpointError` naming the file, never resumed from.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import jax
import numpy as np

from dqnn._integrity import atomic_write_bytes, atomic_write_text


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


class CheckpointError(ValueError):
    """A checkpoint or metrics file failed its checks (the message names the file and why)."""


def arrays_sha256(arrays: dict[str, Any]) -> str:
    """Hex SHA-256 of ``arrays`` (every name but ``sha256``, sorted: its name, dtype, shape and bytes)."""
    h = hashlib.sha256()
    for name in sorted(k for k in arrays if k != "sha256"):
        a = np.ascontiguousarray(np.asarray(arrays[name]))
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def write_checkpoint(path: Path, arrays: dict[str, Any]) -> None:
    """``arrays`` (plus their ``sha256``) to ``path`` as ``.npz``, atomically (a unique temporary file, a rename)."""
    buf = io.BytesIO()
    np.savez(buf, **{k: v for k, v in arrays.items() if k != "sha256"}, sha256=np.asarray(arrays_sha256(arrays)))
    atomic_write_bytes(path, buf.getvalue())


def read_checkpoint(path: Path, steps: int | None = None) -> dict[str, np.ndarray]:
    """The arrays of the checkpoint at ``path``, checked: CheckpointError naming the file when it cannot be read,
    its ``sha256`` does not match, its step is outside ``[0, steps]`` (``steps`` None: only ``>= 0``), it has not
    one metric row per step (``step + 1`` rows, step 0 included), or a state leaf or metric is not finite."""
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as err:
        raise CheckpointError(f"{path}: unreadable checkpoint ({type(err).__name__}: truncated or garbled)") from None
    if "sha256" not in arrays:
        raise CheckpointError(f"{path}: no checksum (written by an older dqnn, or edited)")
    if str(arrays["sha256"]) != arrays_sha256(arrays):
        raise CheckpointError(f"{path}: its content does not match its checksum (edited or damaged)")
    need = ("step", "seconds", "metric_names", "metrics", "config")
    missing = [k for k in need if k not in arrays]
    if missing:
        raise CheckpointError(f"{path}: the checkpoint lacks {', '.join(missing)}")
    try:
        step = int(arrays["step"])
        json.loads(str(arrays["config"]))
    except (TypeError, ValueError):
        raise CheckpointError(f"{path}: its step or configuration is damaged") from None
    if step < 0 or (steps is not None and step > steps):
        raise CheckpointError(
            f"{path}: the checkpoint is at step {step}, outside 0..{steps if steps is not None else ''}"
        )
    m = np.asarray(arrays["metrics"])
    if m.shape[0] != step + 1 or (m.ndim == 2 and m.shape[1] != len(arrays["metric_names"])):
        raise CheckpointError(f"{path}: {m.shape[0]} metric rows for step {step} (need {step + 1})")
    for k, a in arrays.items():
        if k.startswith("state") and np.issubdtype(a.dtype, np.inexact) and not np.all(np.isfinite(a)):
            raise CheckpointError(f"{path}: {k} holds NaN or inf")
    return arrays


def write_metrics(path: Path, rows: list[dict[str, float]]) -> None:
    """CSV with a ``step`` column then the metrics (full float precision)."""
    if not rows:
        return
    names = list(rows[0])
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["step", *names])
    for t, r in enumerate(rows):
        w.writerow([t, *(repr(r[k]) for k in names)])
    atomic_write_text(path, buf.getvalue())


def read_metrics(path: Path, steps: int | None = None) -> list[dict[str, float]]:
    """Rows of a CSV written by :func:`write_metrics` (without the ``step`` column); CheckpointError naming the
    file when a row is short, a value is not a number or the steps are not 0, 1, 2, ... (``steps``: the last
    step it must reach)."""
    try:
        with open(path, newline="") as fh:
            reader = csv.DictReader(fh)
            raw = list(reader)
            fields = list(reader.fieldnames or [])
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise CheckpointError(f"{path}: unreadable ({type(err).__name__})") from None
    if not fields or fields[0] != "step":
        raise CheckpointError(f"{path}: no 'step' column (not a metrics.csv of dqnn)")
    rows = []
    for i, r in enumerate(raw):
        try:
            if None in r or any(v is None for v in r.values()) or int(r["step"]) != i:
                raise ValueError
            rows.append({k: float(v) for k, v in r.items() if k != "step"})
        except (TypeError, ValueError):
            raise CheckpointError(f"{path}: row {i + 2} is damaged (short, not numbers, or out of order)") from None
    if steps is not None and len(rows) != steps + 1:
        raise CheckpointError(f"{path}: {len(rows)} rows for step {steps} (need {steps + 1})")
    return rows
