"""Resumable sweeps of variance points: each finished point is written to disk at once.

A sweep is a list of :class:`~dqnn.trainability.points.ProblemPoint` (or preset
:class:`~dqnn.trainability.sampling.PointSpec`) measured with one :class:`SweepConfig`. The :class:`PointStore` keeps
one JSON file per finished parameter of a point (plus its raw samples as ``.npy``) under ``DIR/points/``, named by
the point, the parameter and the settings that determine its numbers (samples, seed, method).
Re-running the same sweep into the same folder skips finished points, so an interrupted sweep loses at
most the point in flight and resumes to the same final numbers (samples are seeded per point).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dqnn.trainability.points import ProblemPoint, exact, measure_sampled
from dqnn.trainability.sampling import DEFAULT_MEMORY_BUDGET, GradientMethod, PointSpec


@dataclass(frozen=True, kw_only=True)
class SweepConfig:
    """Settings shared by every point: ``samples`` initialisations, ``seed``, gradient ``method``, ``exact``."""

    samples: int = 1000
    seed: int = 0
    method: GradientMethod = "autodiff"
    exact: bool = False  # also compute the exact variance (dqnn.moments.exact) where the engine applies
    memory_budget: int = DEFAULT_MEMORY_BUDGET

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


def point_key(spec: PointSpec | ProblemPoint, cfg: SweepConfig, parameter: Any = "default") -> str:
    """File stem of one parameter of a point: the point, the parameter (none for a preset's own) and every
    setting its numbers depend on. ``parameter`` defaults to the point's first."""
    point = as_point(spec)
    par = point.parameters[0] if parameter == "default" else parameter
    return f"{point.label()}{point.param_suffix(par)}-S{cfg.samples}-seed{cfg.seed}-{cfg.method}" + (
        "-exact" if cfg.exact else ""
    )


def point_keys(point: ProblemPoint, cfg: SweepConfig) -> list[str]:
    """The file stems of every selected parameter of ``point`` (:func:`point_key`)."""
    return [point_key(point, cfg, p) for p in point.parameters]


def as_point(spec: PointSpec | ProblemPoint) -> ProblemPoint:
    """A preset :class:`~dqnn.trainability.sampling.PointSpec` as the :class:`ProblemPoint` of its problem."""
    return spec if isinstance(spec, ProblemPoint) else ProblemPoint(spec.as_problem(), spec.n)


class PointStore:
    """Finished points of sweeps, one ``points/<key>.json`` (+ ``.npy`` samples) each, written atomically."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.dir = self.root / "points"
        self.dir.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        """JSON path of a point."""
        return self.dir / f"{key}.json"

    def has(self, key: str) -> bool:
        """Whether the point is finished."""
        return self.path(key).exists()

    def load(self, key: str) -> dict[str, Any]:
        """The stored point dict."""
        return dict(json.loads(self.path(key).read_text()))

    def save(self, key: str, point: dict[str, Any], samples: np.ndarray | None = None) -> None:
        """Store a finished point (JSON via a temporary file and an atomic rename; samples as ``.npy``)."""
        if samples is not None:
            tmp_npy = self.dir / f".{key}.npy.tmp"
            with open(tmp_npy, "wb") as fh:
                np.save(fh, np.asarray(samples), allow_pickle=False)
            os.replace(tmp_npy, self.dir / f"{key}.npy")
        tmp = self.dir / f".{key}.json.tmp"
        tmp.write_text(json.dumps(point, indent=1))
        os.replace(tmp, self.path(key))


def measure_all(
    point: ProblemPoint, cfg: SweepConfig, progress: Callable[[int], None] | None = None
) -> list[tuple[str, dict[str, Any], np.ndarray]]:
    """Measure every selected parameter of a point: ``(file stem, point dict, samples (S,))`` each; the exact
    variance beside the sampled one in each dict when ``cfg.exact``."""
    dicts, g = measure_sampled(
        point, cfg.samples, seed=cfg.seed, method=cfg.method, memory_budget=cfg.memory_budget, progress=progress
    )
    out = []
    for i, (p, d) in enumerate(zip(point.parameters, dicts, strict=True)):
        if cfg.exact:
            ex, why = exact(point, p)
            d["exact"] = ex if ex is not None else {"error": why}
        else:
            d["exact"] = None
        out.append((point_key(point, cfg, p), d, g[:, i]))
    return out


def measure(
    spec: PointSpec | ProblemPoint, cfg: SweepConfig, progress: Callable[[int], None] | None = None
) -> tuple[dict[str, Any], np.ndarray]:
    """Measure the first parameter of one point: its dict and samples (S,) (:func:`measure_all` for all)."""
    _, d, g = measure_all(as_point(spec), cfg, progress)[0]
    return d, g


def exact_variance(spec: PointSpec | ProblemPoint) -> dict[str, Any] | None:
    """Exact mean/variance of a point's first circuit angle from :mod:`dqnn.moments.exact` (``{"error": reason}``
    where the engine does not apply; None for a PMM direction, kept from the first releases: the study's exact
    values, :func:`dqnn.trainability.points.exact`, include the PMM direction and the engine's verdict)."""
    point = as_point(spec)
    if point.parameters[0] is None:
        return None
    ex, why = exact(point, point.parameters[0])
    if ex is None:
        return {"error": why}
    return {k: ex[k] for k in ("mean", "variance", "second_moment", "seconds")}


def run_sweep(
    specs: Iterable[PointSpec | ProblemPoint],
    cfg: SweepConfig,
    store: PointStore,
    on_point: Callable[[Any, dict[str, Any], bool], None] | None = None,
    progress: Callable[[Any, int], None] | None = None,
) -> list[dict[str, Any]]:
    """Measure every point not yet in ``store`` (in order) and return the dicts of all its parameters.

    A point counts as done when every selected parameter's file is there. ``on_point(spec, point dict,
    resumed)`` is called for each parameter as it is finished or found on disk; ``progress(spec, done)``
    during sampling.
    """
    out = []
    for spec in specs:
        point = as_point(spec)
        keys = point_keys(point, cfg)
        if all(store.has(k) for k in keys):
            found = [(store.load(k), True) for k in keys]
        else:
            found = []
            for key, d, g in measure_all(point, cfg, _bind(progress, spec)):
                store.save(key, d, g)
                found.append((d, False))
        for d, resumed in found:
            out.append(d)
            if on_point is not None:
                on_point(spec, d, resumed)
    return out


def _bind(progress: Callable[[Any, int], None] | None, spec: Any) -> Callable[[int], None] | None:
    if progress is None:
        return None

    def report(k: int) -> None:
        progress(spec, k)

    return report


def parse_range(text: str) -> list[int]:
    """``"2:12:2"`` -> [2, 4, ..., 12] (inclusive), ``"4,8,16"`` -> [4, 8, 16], ``"5"`` -> [5]."""
    t = text.strip()
    try:
        if ":" in t:
            parts = [int(p) for p in t.split(":")]
            if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] <= 0):
                raise ValueError
            step = parts[2] if len(parts) == 3 else 1
            vals = list(range(parts[0], parts[1] + 1, step))
        else:
            vals = [int(p) for p in t.split(",") if p.strip()]
    except ValueError as err:
        raise ValueError(f"range {text!r}: use START:STOP[:STEP] or a comma list of integers") from err
    if not vals:
        raise ValueError(f"range {text!r} is empty")
    return vals
