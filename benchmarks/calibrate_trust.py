"""Calibrate the trust verdict of :func:`dqnn.trainability.statistics.summarise` on cases with known variance.

For every case (a distribution whose variance is known exactly) and sample size ``S``, draw ``--reps``
independent seeded samples of size ``S``, summarise each, and measure:

- ``trusted``: the fraction of points marked trusted;
- ``miss3``, ``miss4``: among the trusted points, the fraction more than 3 (4) standard errors from the true
  variance (``|variance - exact| > z * stderr``);
- ``FA`` (false alarms): among the points whose estimate is fine (``|variance - exact| <= 2 stderr`` and
  ``stderr / variance < 0.3``), the fraction *not* trusted;
- ``all4``: the fraction of all points more than 4 s.e. off (what a verdict that trusts everything would miss).

Each of these is given for the default verdict and for ``power_tails=True`` (the extra tail-index rule), and
``old`` is the verdict before issue 17 (``S < 30``, ``relative_error > 0.3``, ``kurtosis > 0.05 S``, largest
``g^2`` over ``sum g^2 > 0.1``), recomputed here for comparison.

Cases: Gaussian, uniform, Laplace, Student-t (10, 5, 3, 2.5 degrees of freedom), lognormal (sigma 0.5, 1), Pareto
(shape 3, 5), and the Fig. 3a global-cost gradient of the paper for n = 2..16 (one layer, the first angle;
kurtosis ``1.5 (35/18)^(n-1)``, exact variance ``(1/8)(3/8)^(n-1)``). Fig. 3a is sampled by the NumPy sampler
``g = sin(t_1) / 2 * prod_(i>1) cos^2(t_i / 2)`` with uniform angles, which the script first checks against
dqnn's own samples (:func:`dqnn.trainability.sampling.sample_gradients`) with two-sample Kolmogorov-Smirnov
tests (``--no-verify`` skips this).

Samples are cached in ``--cache`` (an .npz, rebuilt when the settings change). Usage::

    PYTHONPATH=src python benchmarks/calibrate_trust.py [--reps 1000] [--seed 2026] [--out FILE.md]
"""

from __future__ import annotations

import argparse
import datetime
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from dqnn.presets import analytic
from dqnn.trainability.statistics import summarise

SIZES = (30, 50, 100, 200, 500, 1000, 2000)
Sampler = Callable[[tuple[int, ...], np.random.Generator], np.ndarray]


def fig3a_sampler(n: int) -> Sampler:
    """NumPy sampler of the Fig. 3a global-cost gradient (one layer, first angle) at width ``n``."""

    def draw(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        t = rng.uniform(0.0, 2.0 * np.pi, shape + (n,))
        return 0.5 * np.sin(t[..., 0]) * np.prod(np.cos(t[..., 1:] / 2.0) ** 2, axis=-1)

    return draw


def _lognormal_var(sigma: float) -> float:
    return float((np.exp(sigma**2) - 1.0) * np.exp(sigma**2))


def _pareto_var(a: float) -> float:  # numpy's pareto is the Lomax: same variance as the classical Pareto
    return a / ((a - 1.0) ** 2 * (a - 2.0))


def cases() -> dict[str, tuple[Sampler, float]]:
    """Name -> (sampler (shape, rng) -> samples, exact variance)."""
    out: dict[str, tuple[Sampler, float]] = {
        "gauss": (lambda sh, r: r.normal(size=sh), 1.0),
        "uniform": (lambda sh, r: r.uniform(-1.0, 1.0, sh), 1.0 / 3.0),
        "laplace": (lambda sh, r: r.laplace(size=sh), 2.0),
        "t10": (lambda sh, r: r.standard_t(10, sh), 10.0 / 8.0),
        "t5": (lambda sh, r: r.standard_t(5, sh), 5.0 / 3.0),
        "t3": (lambda sh, r: r.standard_t(3, sh), 3.0),
        "t2.5": (lambda sh, r: r.standard_t(2.5, sh), 5.0),
        "lognorm0.5": (lambda sh, r: r.lognormal(0.0, 0.5, sh), _lognormal_var(0.5)),
        "lognorm1": (lambda sh, r: r.lognormal(0.0, 1.0, sh), _lognormal_var(1.0)),
        "pareto3": (lambda sh, r: r.pareto(3.0, sh), _pareto_var(3.0)),
        "pareto5": (lambda sh, r: r.pareto(5.0, sh), _pareto_var(5.0)),
    }
    for n in range(2, 17):
        out[f"fig3a n={n}"] = (fig3a_sampler(n), analytic.fig3a_global(n))
    return out


def verify_fig3a(ns: tuple[int, ...] = (3, 8, 12), samples: int = 4000, seed: int = 123) -> list[str]:
    """KS tests of the NumPy Fig. 3a sampler against dqnn's samples; one line per width."""
    from dqnn.trainability.sampling import PointSpec, sample_gradients

    lines = []
    for n in ns:
        g = sample_gradients(PointSpec("fig3a", "global", n, 1), samples, seed=seed)
        h = fig3a_sampler(n)((samples,), np.random.default_rng([seed, n]))
        p = stats.ks_2samp(g, h).pvalue
        lines.append(
            f"n={n}: KS p = {p:.3f} ({samples} dqnn vs {samples} NumPy samples); variance dqnn {g.var():.3e}, "
            f"NumPy {h.var():.3e}, exact {analytic.fig3a_global(n):.3e}"
        )
        if p < 1e-3:
            raise SystemExit(f"the NumPy Fig. 3a sampler disagrees with dqnn at n={n} (KS p = {p:.2g})")
    return lines


def draw_all(reps: int, seed: int, cache: Path) -> dict[str, np.ndarray]:
    """Every (case, S) sample block (reps, S), from ``cache`` when it holds these settings."""
    tag = f"reps={reps} seed={seed} sizes={SIZES} cases={sorted(cases())}"
    if cache.exists():
        with np.load(cache, allow_pickle=False) as z:
            if str(z["_tag"]) == tag:
                return {k: z[k] for k in z.files if k != "_tag"}
    out = {}
    for i, (name, (draw, _)) in enumerate(cases().items()):
        for s in SIZES:
            rng = np.random.default_rng([seed, i, s])
            out[f"{name}|{s}"] = np.concatenate([draw((min(100, reps - j), s), rng) for j in range(0, reps, 100)])
    payload: dict[str, Any] = {"_tag": np.array(tag), **out}
    np.savez(cache, **payload)
    return out


def old_trusted(g: np.ndarray, kurtosis: float, rel: float) -> bool:
    """The verdict before issue 17 (for comparison)."""
    s = g.size
    sq = g**2
    share = float(sq.max() / sq.sum()) if sq.sum() > 0 else 1.0
    return not (s < 30 or rel > 0.3 or kurtosis > 0.05 * s or share > 0.1)


def measure(block: np.ndarray, exact: float) -> dict[str, np.ndarray]:
    """Per point: |z| to the exact variance, fine, and the three verdicts."""
    z, fine, default, tails, old = [], [], [], [], []
    for g in block:
        st = summarise(g, power_tails=True)
        zz = abs(st.variance - exact) / st.stderr if st.stderr > 0 else np.inf
        z.append(zz)
        fine.append(zz <= 2 and st.stderr < 0.3 * st.variance)
        reasons = set(st.verdict_reason.split(",")) - {""}
        tails.append(not reasons)
        default.append(not (reasons - {"tail"}))
        old.append(old_trusted(g, st.kurtosis, st.relative_error))
    return {k: np.array(v) for k, v in dict(z=z, fine=fine, default=default, tails=tails, old=old).items()}


def rates(m: dict[str, np.ndarray], verdict: str) -> tuple[float, float, float, float, int]:
    """(trusted fraction, miss3 | trusted, miss4 | trusted, false alarms | fine, number trusted)."""
    tr = m[verdict]
    nt = int(tr.sum())
    miss3 = float(np.sum(tr & (m["z"] > 3)) / nt) if nt else float("nan")
    miss4 = float(np.sum(tr & (m["z"] > 4)) / nt) if nt else float("nan")
    nf = int(m["fine"].sum())
    fa = float(np.sum(m["fine"] & ~tr) / nf) if nf else float("nan")
    return float(tr.mean()), miss3, miss4, fa, nt


def _f(x: float) -> str:
    return "–" if np.isnan(x) else f"{x:.3f}"


def main(argv: list[str] | None = None) -> int:
    """Run the calibration and print (and optionally write) the markdown report."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=1000, help="seeded samples per (case, S)")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/dqnn_calibrate_trust.npz"))
    ap.add_argument("--out", type=Path, default=None, help="also write the report here")
    ap.add_argument("--no-verify", action="store_true", help="skip the check of the Fig. 3a sampler")
    a = ap.parse_args(argv)
    if a.reps < 10:
        raise SystemExit(f"--reps must be >= 10, got {a.reps}")
    t0 = time.perf_counter()
    lines = [
        "# Trust-verdict calibration (benchmarks/calibrate_trust.py)",
        "",
        f"Date {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC; reps = {a.reps} seeded samples per "
        f"(case, S), seed {a.seed}, S in {list(SIZES)}; Python {platform.python_version()}, "
        f"numpy {np.__version__}, scipy {__import__('scipy').__version__}.",
        "",
        "Columns: `trusted` fraction; `miss3` / `miss4`: among trusted points, the fraction more than 3 / 4 s.e. "
        "from the exact variance; `FA`: among fine points (within 2 s.e. and s.e./variance < 0.3), the fraction "
        "flagged; `all4`: fraction of all points beyond 4 s.e. Verdicts: default `summarise(g)`, "
        "`power_tails` `summarise(g, power_tails=True)`, `old` the rule before issue 17.",
        "",
    ]
    if not a.no_verify:
        lines += ["## Fig. 3a NumPy sampler against dqnn", ""] + [f"- {x}" for x in verify_fig3a()] + [""]
    data = draw_all(a.reps, a.seed, a.cache)
    head = "| case | S | all4 | default: trusted | miss3 | miss4 | FA | power_tails: trusted | miss4 | FA |"
    head += " old: trusted | miss4 | FA |"
    table = [head, "|" + "---|" * 13]
    pooled: dict[str, dict[str, list[np.ndarray]]] = {}
    for name, (_, exact) in cases().items():
        fam = name.split(" ")[0] if name.startswith("fig3a") else name
        for s in SIZES:
            m = measure(data[f"{name}|{s}"], exact)
            for k, v in m.items():
                pooled.setdefault(fam, {}).setdefault(k, []).append(v)
            d, p, o = rates(m, "default"), rates(m, "tails"), rates(m, "old")
            table.append(
                f"| {name} | {s} | {np.mean(m['z'] > 4):.3f} | {d[0]:.2f} | {_f(d[1])} | {_f(d[2])} | {_f(d[3])} "
                f"| {p[0]:.2f} | {_f(p[2])} | {_f(p[3])} | {o[0]:.2f} | {_f(o[2])} | {_f(o[3])} |"
            )
        print(f"{name}: done ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
    summary = [
        "## Pooled over S (all sizes above)",
        "",
        "| case | default: trusted | miss3 | miss4 | FA | power_tails: trusted | miss4 | FA | old: trusted | miss4 | FA |",
        "|" + "---|" * 11,
    ]
    for fam, parts in pooled.items():
        m = {k: np.concatenate(v) for k, v in parts.items()}
        d, p, o = rates(m, "default"), rates(m, "tails"), rates(m, "old")
        summary.append(
            f"| {fam} | {d[0]:.2f} | {_f(d[1])} | {_f(d[2])} | {_f(d[3])} | {p[0]:.2f} | {_f(p[2])} | {_f(p[3])} "
            f"| {o[0]:.2f} | {_f(o[2])} | {_f(o[3])} |"
        )
    lines += summary + ["", "## Per case and S", ""] + table
    lines += ["", f"Run time {time.perf_counter() - t0:.0f} s."]
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out is not None:
        a.out.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
