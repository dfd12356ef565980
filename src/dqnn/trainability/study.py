"""A variance study: one architecture and cost over a range of ``n``; sampled and/or exact points, fits, files.

:func:`run_study` is what ``dqnn variance`` runs. It writes to its output folder:

- ``points/``: one file per finished point (resumable, see :mod:`dqnn.trainability.sweep`);
- ``variance.json``: the configuration, the package version, every point, the fits;
- ``variance.csv``: one row per point;
- ``variance.png``: ``Var`` against ``n`` on a log scale with error bars, the analytic curve and the fit.

Each point dict has ``n, layers, samples, mean, variance, stderr, analytic, method`` (``"exact"`` points have
``samples`` 0 and ``stderr`` 0), the kurtosis and trust warnings of sampled points, and
``shots_to_resolve``: the shots per shifted circuit needed to tell a gradient of size ``sqrt(Var)`` from
zero at 95% confidence (:func:`dqnn.estimators.shots.shots_to_resolve`).
"""

from __future__ import annotations

import contextlib
import csv
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dqnn import _frames
from dqnn._integrity import FolderLock, atomic_write_text
from dqnn.estimators.shots import shots_to_resolve
from dqnn.presets.registry import PRESETS, preset
from dqnn.trainability.fits import LineFit, ModelComparison, compare_models, compare_models_log10, log10_variance
from dqnn.trainability.plot import plot_variance, plot_variance_map, variance_figure, variance_map_figure
from dqnn.trainability.points import ExactMode, ProblemPoint, exact, exact_dict, fourth_moment
from dqnn.trainability.problem import TrainabilityProblem, parameter_label, preset_problem
from dqnn.trainability.sampling import DEFAULT_MEMORY_BUDGET, POINT_COLUMNS, GradientMethod, PointSpec, point_row
from dqnn.trainability.sweep import PointStore, SweepConfig, as_point, run_sweep

#: Columns of ``variance.csv`` (their types: :data:`dqnn.trainability.sampling.POINT_COLUMNS`).
CSV_FIELDS = list(POINT_COLUMNS)


def layers_for(arch: str, n: int, layers: str | int) -> int:
    """Depth of the point at width ``n``: :meth:`dqnn.presets.registry.Preset.layers` of preset ``arch``."""
    return preset(arch).layers(n, layers)


@dataclass(frozen=True, kw_only=True)
class StudyConfig:
    """A study: ``arch``/``cost`` at each ``n`` in ``ns`` with ``layers``; ``samples`` 0 means exact only."""

    arch: str
    cost: str
    ns: tuple[int, ...]
    layers: str | int = 1
    samples: int = 1000
    seed: int = 0
    method: GradientMethod = "autodiff"
    exact: bool = False
    dask: bool = False  # run the points as tasks on Dask (dqnn.trainability.distributed)
    scheduler: str | None = None  # address of an existing Dask scheduler (None: a LocalCluster)

    def specs(self) -> list[PointSpec]:
        """The points of the study."""
        p = preset(self.arch)
        return [PointSpec(self.arch, self.cost, n, p.layers(n, self.layers)) for n in self.ns]  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        d = asdict(self)
        d["ns"] = list(self.ns)
        return d


def _with_shots(p: dict[str, Any]) -> dict[str, Any]:
    v = p.get("variance")
    p["shots_to_resolve"] = shots_to_resolve(v) if v is not None and np.isfinite(v) and v > 0 else None
    return p


def exact_point(spec: PointSpec | ProblemPoint, store: PointStore, parameter: Any = "default") -> dict[str, Any] | None:
    """The exact point of one parameter of ``spec`` (cached in ``store``), or None where the exact engine does not
    apply (:func:`exact_or_reason` says why)."""
    d, _ = exact_or_reason(as_point(spec), store, parameter)
    return d


def exact_or_reason(
    point: ProblemPoint, store: PointStore, parameter: Any = "default"
) -> tuple[dict[str, Any] | None, str | None]:
    """``(exact point dict, None)`` (cached in ``store``) or ``(None, why the exact engine does not apply)``."""
    par = point.parameters[0] if parameter == "default" else parameter
    key = f"{point.label()}{point.param_suffix(par)}-exact"
    stored = store.get(key)
    if stored is not None:
        return stored, None
    ex, why = exact(point, par)
    if ex is None:
        return None, why
    d = exact_dict(point, par, ex)
    store.save(key, d)
    return d, None


def fourth_or_reason(point: ProblemPoint, store: PointStore, parameter: Any) -> dict[str, Any] | str:
    """:func:`~dqnn.trainability.points.fourth_moment` of one parameter (cached in ``store`` beside its exact
    point), or why it does not apply."""
    key = f"{point.label()}{point.param_suffix(parameter)}-fourth"
    stored = store.get(key)
    if stored is not None:
        return stored
    fm = fourth_moment(point, parameter)
    if not isinstance(fm, str):
        store.save(key, fm)
    return fm


def fit_points(points: list[dict[str, Any]]) -> ModelComparison | None:
    """Exponential and polynomial fits of the usable points (positive variance; at least 3 widths)."""
    use = [p for p in points if p.get("variance") and p["variance"] > 0]
    below = [p for p in points if not (p.get("variance") or 0) > 0 and log10_variance(p) is not None]
    if below and all(p.get("method") == "exact" for p in use + below):  # exact values below the double range
        use = sorted(use + below, key=lambda p: p["n"])
        if len({p["n"] for p in use}) < 3:
            return None
        return compare_models_log10([p["n"] for p in use], [log10_variance(p) for p in use])
    if len({p["n"] for p in use}) < 3:
        return None
    return compare_models([p["n"] for p in use], [p["variance"] for p in use], [p["stderr"] for p in use])


class StudyResult(dict[str, Any]):
    """What :func:`run_study` returns: the dict written as ``variance.json`` (``config``, ``version``, ``points``,
    ``fits``, ``bound``; ``plot`` the PNG's path), unchanged, plus a table, a plot and notebook displays.

    It *is* that dict (``res["points"]``, ``json.dumps(res)`` work as before). :meth:`to_frame` gives the
    points as a pandas DataFrame (the rows of ``variance.csv``), :meth:`from_folder` reads a study's folder
    back, :meth:`read_csv` its CSV as the same frame; in Jupyter it shows as a table and its plot.
    """

    @classmethod
    def from_folder(cls, path: str | Path) -> StudyResult:
        """The result of the study written to folder ``path`` (its ``variance.json``)."""
        folder = Path(path)
        data = cls(json.loads((folder / "variance.json").read_text()))
        if (folder / "variance.png").exists():
            data["plot"] = str(folder / "variance.png")
        return data

    @property
    def points(self) -> list[dict[str, Any]]:
        """The point dicts (sampled, then exact)."""
        return list(self["points"])

    def to_frame(self) -> Any:
        """The points as a pandas DataFrame: one row per point, the columns of ``variance.csv`` (typed as
        :data:`~dqnn.trainability.sampling.POINT_COLUMNS`; ``warnings`` joined by `` | ``). pandas is imported here."""
        return _frames.frame([point_row(p) for p in self["points"]], POINT_COLUMNS)

    @staticmethod
    def read_csv(path: str | Path) -> Any:
        """A study's ``variance.csv`` (or ``to_frame().to_csv(path, index=False)``) as :meth:`to_frame`'s frame."""
        p = Path(path)
        return _frames.read_csv(p / "variance.csv" if p.is_dir() else p, POINT_COLUMNS)

    def best_fit(self) -> LineFit | None:
        """The preferred fit (of the exact points where there are, else of the sampled ones), or None."""
        fits = self.get("fits") or {}
        best = fits.get("exact") or fits.get("sampled")
        if not best:
            return None
        d = dict(best[best["better"]])
        d.pop("base", None)
        d["slope_ci"] = tuple(d["slope_ci"])
        return LineFit(**d)

    def _title(self) -> str:
        c = self.get("config", {})
        if "layers" in c:
            return f"{c.get('arch')}, {c.get('cost')} cost, layers={c.get('layers')}"
        return f"{c.get('arch')}, {c.get('cost')} cost"

    def params(self) -> list[str]:
        """The parameters of the study's points (``L0P0A0``, ..., or ``pmm``), the plotted one first."""
        return list(dict.fromkeys(p.get("param", "-") for p in self["points"]))

    def plot(self, ax: Any = None) -> Any:
        """The study's plot (as ``variance.png``: its first parameter) as a matplotlib Figure, drawn on ``ax``."""
        c = self.get("config", {})
        ref = _reference(c["arch"], c["cost"]) if c.get("arch") in PRESETS and c.get("stream") is None else None
        first = self.params()[:1]
        pts = [p for p in self["points"] if p.get("param", "-") in first]
        return variance_figure(pts, self._title(), self.best_fit(), ref, ax=ax)

    def heatmap(self, ax: Any = None) -> Any:
        """The per-parameter map (as ``variance_map.png``) as a matplotlib Figure, drawn on ``ax`` when given."""
        return variance_map_figure(self["points"], f"{self._title()}: Var of every parameter", ax=ax)

    def _repr_png_(self) -> bytes:
        import io

        import matplotlib.pyplot as plt

        fig = self.plot()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100)
        plt.close(fig)
        return buf.getvalue()

    def _summary(self) -> str:
        pts = self.get("points", [])
        ns = sorted({p["n"] for p in pts})
        span = f"n={ns[0]}..{ns[-1]}" if len(ns) > 1 else (f"n={ns[0]}" if ns else "no points")
        fit = self.best_fit()
        tail = ""
        if fit is not None:
            tail = f", fit Var ~ {fit.base:.4g}^n" if fit.model == "exponential" else f", fit Var ~ n^{fit.slope:.3g}"
        return f"StudyResult({self._title()}: {len(pts)} points, {span}{tail})"

    def __repr__(self) -> str:
        return self._summary()

    def _repr_html_(self) -> str:
        cols = ["n", "layers", "method", "samples", "variance", "stderr", "analytic", "trusted"]
        rows = [
            [
                p["n"],
                p["layers"],
                p["method"],
                p["samples"],
                _frames.fmt(p.get("variance"), ".4e"),
                _frames.fmt(p.get("stderr"), ".2e"),
                _frames.fmt(p.get("analytic"), ".4e"),
                "yes" if p.get("trusted", True) else "NO",
            ]
            for p in self.get("points", [])
        ]
        return _frames.html_table(cols, rows, caption=self._summary())


def run_study(
    cfg: StudyConfig,
    out: str | Path,
    on_point: Callable[[dict[str, Any], bool], None] | None = None,
    progress: Callable[[Any, int], None] | None = None,
) -> StudyResult:
    """Run (or resume) a study of a preset into folder ``out`` and return its JSON-ready result (a
    :class:`StudyResult`): :func:`study` of the preset's problem (:func:`dqnn.trainability.problem.preset_problem`)."""
    problem = preset_problem(cfg.arch, cfg.cost, cfg.layers)
    return study(
        problem,
        [s.n for s in cfg.specs()],
        samples=cfg.samples,
        seed=cfg.seed,
        method=cfg.method,
        exact="auto" if cfg.exact else False,
        out=out,
        dask=cfg.dask,
        scheduler=cfg.scheduler,
        on_point=on_point,
        progress=progress,
        config=cfg.to_dict(),
        title=f"{cfg.arch}, {cfg.cost} cost, layers={cfg.layers}",
    )


def study(
    problem: TrainabilityProblem,
    ns: Sequence[int | tuple[int, int]] | None = None,
    *,
    samples: int = 1000,
    seed: int = 0,
    method: GradientMethod = "autodiff",
    exact: ExactMode = "auto",
    out: str | Path | None = None,
    dask: bool = False,
    scheduler: str | None = None,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    on_point: Callable[[dict[str, Any], bool], None] | None = None,
    progress: Callable[[Any, int], None] | None = None,
    config: dict[str, Any] | None = None,
    title: str | None = None,
    kurtosis: bool = False,
) -> StudyResult:
    """Does this network have a barren plateau? ``Var[d C / d parameter]`` of every selected parameter of
    ``problem`` at every ``n`` in ``ns`` (``None``: the one fixed network), sampled over ``samples`` seeded
    initialisations (0: exact only) and computed exactly where the network allows (``exact``: ``"auto"``,
    ``True`` = required, ``False``), with fits against ``n`` (exponential vs power law), the paper's bound where
    the problem has one, resume from ``out`` (a folder; a temporary one when None: ``result["plot"]`` is in it),
    Dask when asked, and plots
    (``variance.png``; ``variance_map.png``, the per-parameter map, when several parameters are selected).

    ``kurtosis``: also the exact fourth moment of each exact point (:func:`dqnn.trainability.points.fourth_moment`:
    ``kurtosis_exact``, ``samples_needed_10pct``, ``variance_relative_error_at_samples``), where the ensemble and
    the size allow it (a dense four-copy contraction, or :mod:`dqnn.moments.line4` for line networks wider than 6
    qubits); why not in ``kurtosis_skipped``.

    Returns the :class:`StudyResult` also written to ``out/variance.json`` (points: one dict per parameter, n and
    method; ``exact_skipped``: why the exact engine did not apply where it did not).
    """
    import tempfile

    from dqnn import __version__

    if samples < 0 or samples == 1:
        raise ValueError(f"samples must be 0 (exact only) or >= 2, got {samples}")
    if samples == 0 and exact is False:
        raise ValueError("samples=0 computes exact values only: give exact='auto' or True")
    if exact not in ("auto", True, False):
        raise ValueError(f"exact must be 'auto', True or False, got {exact!r}")
    folder = Path(tempfile.mkdtemp(prefix="dqnn-study-")) if out is None else Path(out)
    # one run per folder: another process's run into it is refused, naming it (the CLI's own lock is re-entered)
    with contextlib.nullcontext() if out is None else FolderLock(folder):
        store = PointStore(folder)
        points = [ProblemPoint(problem, n) for n in (ns if ns is not None else [None])]
        for pt in points:
            pt.parameters  # noqa: B018  (validates every network and parameter before any work)
        sampled: list[dict[str, Any]] = []
        if samples > 0:
            sweep_cfg = SweepConfig(samples=samples, seed=seed, method=method, exact=False, memory_budget=memory_budget)
            cb = None if on_point is None else (lambda s, d, r: on_point(d, r))
            if dask or scheduler:
                from dqnn.trainability.distributed import run_sweep_distributed

                sampled = run_sweep_distributed(points, sweep_cfg, store, scheduler=scheduler, on_point=cb)
            else:
                sampled = run_sweep(points, sweep_cfg, store, on_point=cb, progress=progress)
        exact_pts, skipped, kurtosis_skipped = (
            _exact_points(points, store, exact, kurtosis, samples, on_point) if exact else ([], [], [])
        )
        all_points = [_with_shots(p) for p in sampled + exact_pts]
        labels = list(dict.fromkeys(p.get("param", "-") for p in all_points))
        primary = labels[0] if labels else None
        first = [p for p in all_points if p.get("param", "-") == primary]
        fits = {
            "sampled": fit_points([p for p in first if p.get("method") != "exact" and p.get("trusted")]),
            "exact": fit_points([p for p in first if p.get("method") == "exact" and p.get("trusted")]),
        }
        result = StudyResult(
            {
                "config": config if config is not None else problem_config(problem, ns, samples, seed, method, exact),
                "version": __version__,
                "points": all_points,
                "fits": {k: (None if v is None else v.to_dict()) for k, v in fits.items()},
                "bound": None if problem.bound is None else asdict(problem.bound),
                "exact_skipped": skipped,
                **({"kurtosis_skipped": kurtosis_skipped} if kurtosis else {}),
            }
        )
        if len(labels) > 1:
            result["fits_by_param"] = {
                lab: _fits_of([p for p in all_points if p.get("param") == lab]) for lab in labels
            }
        atomic_write_text(folder / "variance.json", json.dumps(result, indent=1))
        write_csv(all_points, folder / "variance.csv")
        best = fits["exact"] or fits["sampled"]
        head = title or f"{problem.name}, {problem.cost} cost"
        plot_variance(
            first,
            folder / "variance.png",
            head if len(labels) <= 1 else f"{head}, parameter {primary}",
            None if best is None else (best.exponential if best.better == "exponential" else best.polynomial),
            _curve(problem.closed_form),
        )
        result["plot"] = str(folder / "variance.png")
        if len(labels) > 1:
            plot_variance_map(all_points, folder / "variance_map.png", f"{head}: Var of every parameter")
            result["map"] = str(folder / "variance_map.png")
        return result


def _exact_points(
    points: list[ProblemPoint],
    store: PointStore,
    exact: ExactMode,
    kurtosis: bool,
    samples: int,
    on_point: Callable[[dict[str, Any], bool], None] | None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """:func:`study`'s exact points, with the exact fourth moment when ``kurtosis``: ``(points, exact_skipped,
    kurtosis_skipped)``, each skip with its reason; ValueError when ``exact is True`` and a value is missing."""
    exact_pts: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    kurtosis_skipped: list[dict[str, Any]] = []
    for pt in points:
        for par in pt.parameters:
            d, why = exact_or_reason(pt, store, par)
            if d is None:
                if exact is True and par is not None:
                    raise ValueError(f"exact=True: no exact value for {pt.label()} {parameter_label(par)}: {why}")
                skipped.append({"n": pt.width, "param": parameter_label(par), "reason": why})
                continue
            if kurtosis:
                fm = fourth_or_reason(pt, store, par)
                if isinstance(fm, str):
                    kurtosis_skipped.append({"n": pt.width, "param": parameter_label(par), "reason": fm})
                else:
                    d = {**d, **fm}
                    if samples > 0:
                        from dqnn.moments.fourth import variance_relative_error

                        d["variance_relative_error_at_samples"] = variance_relative_error(fm["kurtosis_exact"], samples)
            exact_pts.append(d)
            if on_point is not None:
                on_point(d, False)
    return exact_pts, skipped, kurtosis_skipped


def _fits_of(points: list[dict[str, Any]]) -> dict[str, Any]:
    """The sampled and exact fits (JSON-ready, None where too few points) of one parameter's trusted points."""
    out = {}
    for kind, keep in (("sampled", lambda p: p["method"] != "exact"), ("exact", lambda p: p["method"] == "exact")):
        f = fit_points([p for p in points if keep(p) and p.get("trusted")])
        out[kind] = None if f is None else f.to_dict()
    return out


def problem_config(
    problem: TrainabilityProblem,
    ns: Sequence[int | tuple[int, int]] | None,
    samples: int,
    seed: int,
    method: str,
    exact: Any,
) -> dict[str, Any]:
    """The JSON-ready configuration of a :func:`study` of a user problem."""
    return {
        "arch": problem.name,
        "cost": problem.cost,
        "ns": None if ns is None else [list(n) if isinstance(n, tuple) else n for n in ns],
        "params": problem.params if isinstance(problem.params, str) else [str(p) for p in problem.params],  # type: ignore[union-attr]
        "stream": problem.stream,
        "samples": samples,
        "seed": seed,
        "method": method,
        "exact": exact,
    }


def _curve(closed_form: Callable[[int], float | None] | None) -> Callable[[np.ndarray], np.ndarray] | None:
    """A closed form ``n -> Var`` as a curve ``n (k,) -> Var (k,)``, or None where there is none."""
    if closed_form is None or closed_form(2) is None:
        return None
    return lambda n: np.array([closed_form(float(x)) for x in n])  # type: ignore[arg-type]


def _reference(arch: str, cost: str) -> Callable[[np.ndarray], np.ndarray] | None:
    """The preset's closed form as a curve ``n (k,) -> Var (k,)``, or None where it has none."""
    p = preset(arch)
    if p.exact_variance(cost, 2) is None:
        return None
    return lambda n: np.array([p.exact_variance(cost, float(x)) for x in n])  # type: ignore[arg-type]


def write_csv(points: list[dict[str, Any]], path: str | Path) -> None:
    """One row per point with the :data:`CSV_FIELDS` columns."""
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(CSV_FIELDS), extrasaction="ignore")
        w.writeheader()
        for p in points:
            w.writerow(point_row(p))
