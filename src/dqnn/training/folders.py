"""Run folders: the configuration check done before compiling, and checkpoints of a run's state.

A run folder holds ``checkpoint.npz`` (every pytree leaf of the run state, the metrics so far, the configuration
as JSON; written atomically, read with ``allow_pickle=False``) and, once finished, ``summary.json``. A
configuration is a JSON-ready dict; two runs are the same run when their configurations agree on every key but
those in ``free`` (``steps`` and ``checkpoint_every``: a finished run can be continued to more steps).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from dqnn._integrity import ResumeWarning
from dqnn.model.params_io import save_params
from dqnn.training.files import (
    CheckpointError,
    checkpoint_arrays,
    read_checkpoint,
    read_metrics,
    write_checkpoint,
    write_metrics,
)

CHECKPOINT = "checkpoint.npz"
FREE: tuple[str, ...] = ("steps", "checkpoint_every")


def saved_config(folder: Path) -> dict[str, Any] | None:
    """The configuration of the run in ``folder`` (its checkpoint, else its ``summary.json``), or None."""
    ckpt = folder / CHECKPOINT
    if ckpt.is_file():
        try:
            return dict(json.loads(str(read_checkpoint(ckpt)["config"])))
        except CheckpointError:
            pass  # a damaged checkpoint names no configuration: load_state reports it and the run starts again
    summary = folder / "summary.json"
    if summary.is_file():
        try:
            data = json.loads(summary.read_text())
        except (OSError, ValueError):
            return None
        if isinstance(data, dict) and isinstance(data.get("config"), dict):
            return dict(data["config"])
    return None


def _norm(x: Any) -> Any:
    return json.loads(json.dumps(x, sort_keys=True, default=str))


def differences(saved: dict[str, Any], mine: dict[str, Any], free: Iterable[str] = FREE) -> list[str]:
    """Keys (outside ``free``) on which two configurations differ, sorted."""
    a, b, skip = _norm(saved), _norm(mine), set(free)
    return sorted(k for k in set(a) | set(b) if k not in skip and a.get(k) != b.get(k))


def check_folder(folder: Path, config: dict[str, Any], resume: bool, free: Iterable[str] = FREE) -> None:
    """ValueError (one line) when ``folder`` holds a run of another configuration, or, without ``resume``, a run
    of another number of steps. Reads only small files: call it before compiling anything."""
    saved = saved_config(Path(folder))
    if saved is None:
        return
    diff = differences(saved, config, free)
    if diff:
        detail = "; ".join(f"{k}: folder {_short(saved.get(k))} vs now {_short(config.get(k))}" for k in diff[:4])
        raise ValueError(f"{folder} holds a run of another configuration ({detail}); choose another output folder")
    if not resume and saved.get("steps") != config.get("steps"):
        raise ValueError(
            f"{folder} holds a run of {saved.get('steps')} steps; pass --resume (resume=True) to continue it to "
            f"{config.get('steps')} steps, or choose another output folder"
        )


def _short(v: Any) -> str:
    s = json.dumps(v, default=str)
    return s if len(s) <= 40 else s[:37] + "..."


def save_state(
    path: Path,
    config: dict[str, Any],
    step: int,
    state: Any,
    rows: list[dict[str, float]],
    seconds: float,
    stopped: str | None = None,
) -> None:
    """Atomically write the run state (pytree leaves), metrics, elapsed time and configuration to ``path``."""
    arrays = checkpoint_arrays(state, rows, step, seconds, _norm(config))
    arrays["stopped"] = np.asarray("" if stopped is None else stopped)
    write_checkpoint(path, arrays)


def load_state(
    path: Path, config: dict[str, Any], template: Any
) -> tuple[int, Any, list[dict[str, float]], float, str | None]:
    """``(step, state, metric rows, seconds, stopped)`` from a :func:`save_state` file; ValueError when it was made
    with another configuration or is beyond ``config["steps"]``. ``template``: the run's initial state (dtypes
    and shapes are taken from it). A damaged checkpoint (:func:`dqnn.training.files.read_checkpoint`: unreadable,
    failed checksum, NaN state, a step outside ``[0, steps]`` or not one metric row per step) or one whose state
    does not fit ``template`` is never resumed from: a one-line warning says so and ``(0, template, [], 0.0,
    None)`` is returned, so the run starts again."""
    try:
        z = read_checkpoint(path)
    except CheckpointError as err:
        return _fresh(template, f"{err}")
    diff = differences(json.loads(str(z["config"])), config)
    if diff:
        raise ValueError(f"{path}: cannot resume, the configuration differs ({', '.join(diff)})")
    step = int(z["step"])
    steps = config.get("steps")
    if isinstance(steps, int) and step > steps:
        raise ValueError(f"{path}: the checkpoint is at step {step}, beyond steps={steps}; give --steps >= {step}")
    seconds = float(z["seconds"])
    names = [str(s) for s in z["metric_names"]]
    rows = [dict(zip(names, map(float, r), strict=True)) for r in z["metrics"]]
    leaves, treedef = jax.tree.flatten(template)
    if len([k for k in z if k.startswith("state")]) != len(leaves):
        return _fresh(template, f"{path}: the checkpoint's state does not match this run's")
    for i, a in enumerate(leaves):
        if np.shape(z[f"state{i:04d}"]) != np.shape(a):
            return _fresh(
                template, f"{path}: state leaf {i} has shape {np.shape(z[f'state{i:04d}'])}, not {np.shape(a)}"
            )
    new = [jnp.asarray(z[f"state{i:04d}"], dtype=jnp.asarray(a).dtype) for i, a in enumerate(leaves)]
    stopped = str(z["stopped"]) if "stopped" in z else ""
    return step, jax.tree.unflatten(treedef, new), rows, seconds, stopped or None


def _fresh(template: Any, why: str) -> tuple[int, Any, list[dict[str, float]], float, None]:
    warnings.warn(f"{why}; not resuming from it: starting the run again", ResumeWarning, stacklevel=3)
    return 0, template, [], 0.0, None


__all__ = [
    "CHECKPOINT",
    "FREE",
    "CheckpointError",
    "ResumeWarning",
    "check_folder",
    "differences",
    "load_state",
    "read_metrics",
    "save_params",
    "save_state",
    "saved_config",
    "write_metrics",
]
