"""Resumable sweeps of variance points: each finished point is written to disk at once.

A sweep is a list of :class:`~dqnn.trainability.sampling.PointSpec` measured with one :class:`SweepConfig`. The
:class:`PointStore` keeps one JSON file per finished point (plus its raw samples as ``.npy``) under
``DIR/points/``, named by the point and the settings that determine its numbers (samples, seed, method).
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

from dqnn.presets.registry import preset
from dqnn.trainability.sampling import DEFAULT_MEMORY_BUDGET, GradientMethod, PointSpec, variance_point


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


def point_key(spec: PointSpec, cfg: SweepConfig) -> str:
    """File stem of a point: the spec and every setting its numbers depend on."""
    return f"{spec.label()}-S{cfg.samples}-seed{cfg.seed}-{cfg.method}{'-exact' if cfg.exact else ''}"


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


def measure(
    spec: PointSpec, cfg: SweepConfig, progress: Callable[[int], None] | None = None
) -> tuple[dict[str, Any], np.ndarray]:
    """Measure one point: sampled statistics, and the exact variance beside them when ``cfg.exact``."""
    point, g = variance_point(
        spec, cfg.samples, seed=cfg.seed, method=cfg.method, memory_budget=cfg.memory_budget, progress=progress
    )
    d = point.to_dict()
    d["exact"] = exact_variance(spec) if cfg.exact else None
    return d, g


def exact_variance(spec: PointSpec) -> dict[str, Any] | None:
    """Exact mean/variance from :mod:`dqnn.moments.exact` (None where the engine does not apply, e.g. pmm)."""
    if preset(spec.arch).parameter != "angle":  # a PMM direction: the exact engine differentiates angles
        return None
    from dqnn.moments.exact import exact_moments

    try:
        m = exact_moments(spec.problem())
    except (NotImplementedError, MemoryError, ValueError) as err:
        return {"error": str(err)}
    return {"mean": m.mean, "variance": m.variance, "second_moment": m.second_moment, "seconds": m.seconds}


def run_sweep(
    specs: Iterable[PointSpec],
    cfg: SweepConfig,
    store: PointStore,
    on_point: Callable[[PointSpec, dict[str, Any], bool], None] | None = None,
    progress: Callable[[PointSpec, int], None] | None = None,
) -> list[dict[str, Any]]:
    """Measure every point not yet in ``store`` (in order) and return all points' dicts.

    ``on_point(spec, point, resumed)`` is called for each point as it is finished or found on disk;
    ``progress(spec, samples_done)`` during sampling.
    """
    out = []
    for spec in specs:
        key = point_key(spec, cfg)
        if store.has(key):
            d = store.load(key)
            resumed = True
        else:
            d, g = measure(spec, cfg, _bind(progress, spec))
            store.save(key, d, g)
            resumed = False
        out.append(d)
        if on_point is not None:
            on_point(spec, d, resumed)
    return out


def _bind(progress: Callable[[PointSpec, int], None] | None, spec: PointSpec) -> Callable[[int], None] | None:
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
