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

import csv
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dqnn import _frames
from dqnn.estimators.shots import shots_to_resolve
from dqnn.presets.registry import preset
from dqnn.trainability.fits import LineFit, ModelComparison, compare_models
from dqnn.trainability.plot import plot_variance, variance_figure
from dqnn.trainability.sampling import POINT_COLUMNS, GradientMethod, PointSpec, point_row
from dqnn.trainability.sweep import PointStore, SweepConfig, exact_variance, run_sweep

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


def exact_point(spec: PointSpec, store: PointStore) -> dict[str, Any] | None:
    """The exact point of ``spec`` (cached in ``store``), or None where the exact engine does not apply."""
    key = f"{spec.label()}-exact"
    if store.has(key):
        return store.load(key)
    ex = exact_variance(spec)
    if ex is None or "error" in ex:
        return None
    d = {
        "arch": spec.arch,
        "cost": spec.cost,
        "n": spec.n,
        "layers": spec.layers,
        "method": "exact",
        "samples": 0,
        "mean": ex["mean"],
        "mean_stderr": 0.0,
        "variance": ex["variance"],
        "stderr": 0.0,
        "analytic": preset(spec.arch).exact_variance(spec.cost, spec.n),
        "trusted": True,
        "warnings": [],
        "seconds": ex["seconds"],
    }
    store.save(key, d)
    return d


def fit_points(points: list[dict[str, Any]]) -> ModelComparison | None:
    """Exponential and polynomial fits of the usable points (positive variance; at least 3 widths)."""
    use = [p for p in points if p.get("variance") and p["variance"] > 0]
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
        return f"{c.get('arch')}, {c.get('cost')} cost, layers={c.get('layers')}"

    def plot(self, ax: Any = None) -> Any:
        """The study's plot (as ``variance.png``) as a matplotlib Figure, drawn on ``ax`` when given."""
        c = self.get("config", {})
        ref = _reference(c["arch"], c["cost"]) if "arch" in c else None
        return variance_figure(self["points"], self._title(), self.best_fit(), ref, ax=ax)

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
    progress: Callable[[PointSpec, int], None] | None = None,
) -> StudyResult:
    """Run (or resume) a study into folder ``out`` and return its JSON-ready result (a :class:`StudyResult`)."""
    from dqnn import __version__

    out = Path(out)
    store = PointStore(out)
    specs = cfg.specs()
    sampled: list[dict[str, Any]] = []
    if cfg.samples > 0:
        sweep_cfg = SweepConfig(samples=cfg.samples, seed=cfg.seed, method=cfg.method, exact=False)
        cb = None if on_point is None else (lambda s, d, r: on_point(d, r))
        if cfg.dask or cfg.scheduler:
            from dqnn.trainability.distributed import run_sweep_distributed

            sampled = run_sweep_distributed(specs, sweep_cfg, store, scheduler=cfg.scheduler, on_point=cb)
        else:
            sampled = run_sweep(specs, sweep_cfg, store, on_point=cb, progress=progress)
    exact: list[dict[str, Any]] = []
    if cfg.exact:
        for spec in specs:
            d = exact_point(spec, store)
            if d is not None:
                exact.append(d)
                if on_point is not None:
                    on_point(d, False)
    points = [_with_shots(p) for p in sampled + exact]
    fits = {
        "sampled": fit_points([p for p in sampled if p.get("trusted")]),
        "exact": fit_points(exact),
    }
    bound = preset(cfg.arch).bound(cfg.cost)
    result = StudyResult(
        {
            "config": cfg.to_dict(),
            "version": __version__,
            "points": points,
            "fits": {k: (None if v is None else v.to_dict()) for k, v in fits.items()},
            "bound": None if bound is None else asdict(bound),
        }
    )
    (out / "variance.json").write_text(json.dumps(result, indent=1))
    write_csv(points, out / "variance.csv")
    best = fits["exact"] or fits["sampled"]
    ref = _reference(cfg.arch, cfg.cost)
    plot_variance(
        points,
        out / "variance.png",
        f"{cfg.arch}, {cfg.cost} cost, layers={cfg.layers}",
        None if best is None else (best.exponential if best.better == "exponential" else best.polynomial),
        ref,
    )
    result["plot"] = str(out / "variance.png")
    return result


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
