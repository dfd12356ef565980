"""Resumable sweeps of variance points: each finished point is written to disk at once.

A sweep is a list of :class:`~dqnn.trainability.points.ProblemPoint` (or preset
:class:`~dqnn.trainability.sampling.PointSpec`) measured with one :class:`SweepConfig`. The :class:`PointStore` keeps
one JSON file per finished parameter of a point (plus its raw samples as ``.npy``) under ``DIR/points/``, named by
the point, the parameter and the settings that determine its numbers (samples, seed, method); each is checked
when it is read back (:mod:`dqnn.trainability.store`), and a damaged one is computed again.
Re-running the same sweep into the same folder skips finished points, so an interrupted sweep loses at
most the point in flight and resumes to the same final numbers (samples are seeded per point).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from dqnn.trainability.points import ProblemPoint, exact, measure_sampled
from dqnn.trainability.problem import parameter_label
from dqnn.trainability.sampling import DEFAULT_MEMORY_BUDGET, GradientMethod, PointSpec
from dqnn.trainability.store import PointStore as PointStore


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
        stored = stored_points(point, cfg, store)
        if stored is not None:
            found = [(d, True) for d in stored]
        else:
            found = []
            for key, d, g in measure_all(point, cfg, _bind(progress, spec)):
                store.save(key, d, g, config=cfg.to_dict())
                found.append((d, False))
        for d, resumed in found:
            out.append(d)
            if on_point is not None:
                on_point(spec, d, resumed)
    return out


def expected_fields(point: ProblemPoint, cfg: SweepConfig, parameter: Any) -> dict[str, Any]:
    """The fields a stored sampled point of ``parameter`` must have to be reused by a sweep with ``cfg``."""
    return {
        "arch": point.problem.name,
        "cost": point.problem.cost,
        "n": point.width,
        "param": parameter_label(parameter),
        "method": cfg.method,
        "samples": cfg.samples,
    }


def stored_points(point: ProblemPoint, cfg: SweepConfig, store: PointStore) -> list[dict[str, Any]] | None:
    """The verified stored dicts of every selected parameter of ``point``, or None when any is missing or fails
    its checks (:meth:`PointStore.get` reports why, once, and the point is computed again)."""
    found = []
    for p in point.parameters:
        d = store.get(point_key(point, cfg, p), expected_fields(point, cfg, p), cfg.to_dict())
        if d is None:
            return None
        found.append(d)
    return found


def _bind(progress: Callable[[Any, int], None] | None, spec: Any) -> Callable[[int], None] | None:
    if progress is None:
        return None

    def report(k: int) -> None:
        progress(spec, k)

    return report


#: Most values :func:`parse_range` expands a range to (a request of more points is refused before listing them).
MAX_RANGE = 10_000


def parse_range(text: str, most: int = MAX_RANGE) -> list[int]:
    """``"2:12:2"`` -> [2, 4, ..., 12] (inclusive), ``"4,8,16"`` -> [4, 8, 16], ``"5"`` -> [5]. ValueError for
    an empty element (``"2,,3"``), a non-integer, a non-positive step, or more than ``most`` values (counted
    before any list is built)."""
    t = text.strip()
    try:
        if ":" in t:
            parts = [int(p) for p in t.split(":")]
            if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] <= 0):
                raise ValueError
            step = parts[2] if len(parts) == 3 else 1
            count = max(0, (parts[1] - parts[0]) // step + 1)
            if count > most:
                raise OverflowError(count)
            vals = list(range(parts[0], parts[1] + 1, step))
        else:
            items = t.split(",")
            if any(not p.strip() for p in items) and t:
                raise ValueError
            if len(items) > most:
                raise OverflowError(len(items))
            vals = [int(p) for p in items if p.strip()]
    except OverflowError as err:
        raise ValueError(f"range {text!r} has {err.args[0]:,} values, more than the {most:,} allowed") from None
    except ValueError as err:
        raise ValueError(f"range {text!r}: use START:STOP[:STEP] or a comma list of integers") from err
    if not vals:
        raise ValueError(f"range {text!r} is empty")
    return vals
