"""``dqnn reproduce``: every trainability claim of the paper, measured, with a verdict, in ``report.md``.

Claims (issue numbering): 1 Fig. 3a global = (1/8)(3/8)^(n-1); 2 Fig. 3a local = 1/(8 n^2);
3 Theorem 1 (Eqs. 9-10); 4 Fig. 3b global with poly-log depth decays exponentially (Eq. 11);
5 Fig. 3b local with log depth decays polynomially (Eq. 12); 6 Theorem 2 (Eq. 14); 7 zero mean.
Each claim runs one or two :func:`dqnn.trainability.study.run_study` studies in its own folder (so a rerun resumes),
sampled and, where the exact engine applies (:mod:`dqnn.moments.exact`), exact.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dqnn.presets import analytic
from dqnn.trainability.study import StudyConfig, run_study


@dataclass(frozen=True)
class ClaimResult:
    """One row of the report."""

    claim: str
    prediction: str
    measured: str
    verdict: str  # "PASS", "FAIL" or "SEE NOTE"
    plots: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class ReproduceConfig:
    """Sizes of the reproduction; :meth:`quick` finishes in minutes on 2 cores."""

    samples: int = 4000
    fig3a_ns: tuple[int, ...] = (2, 3, 4, 5, 6, 7, 8)
    fig3a_tail_ns: tuple[int, ...] = (12, 16)
    theorem1_ns: tuple[int, ...] = (2, 3, 4, 5, 6)
    theorem1_samples: int = 1000
    theorem1_exact_ns: tuple[int, ...] = (2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 16)
    fig3b_ns: tuple[int, ...] = (4, 6, 8, 10, 12, 14, 16)
    fig3b_global_ns: tuple[int, ...] = (4, 6, 8, 10, 12)
    fig3b_samples: int = 1000
    exact_ns: tuple[int, ...] = (4, 8, 12, 16, 24, 32, 48, 64, 128, 256, 512, 1024)  # Fig. 3b exact, to n = 1024
    pmm_ns: tuple[int, ...] = (2, 3, 4, 5)
    pmm_samples: int = 1000
    seed: int = 0

    @classmethod
    def quick(cls) -> ReproduceConfig:
        """Small sizes (under 5 minutes on 2 cores)."""
        return cls(
            samples=2000,
            fig3a_ns=(2, 3, 4, 5, 6, 7, 8),
            fig3a_tail_ns=(12,),
            theorem1_ns=(2, 3, 4, 5),
            theorem1_samples=400,
            theorem1_exact_ns=(2, 4, 6, 8, 10),
            fig3b_ns=(4, 8, 16),
            fig3b_global_ns=(4, 6, 8, 10),
            fig3b_samples=300,
            exact_ns=(4, 8, 16, 32),
            pmm_ns=(2, 3, 4),
            pmm_samples=400,
        )


Progress = Callable[[str], None]


def _within(p: dict[str, Any], k: float = 3.0) -> bool:
    return bool(abs(p["variance"] - p["analytic"]) <= k * p["stderr"])


def _study(out: Path, name: str, cfg: StudyConfig, log: Progress) -> dict[str, Any]:
    log(f"{name}: {cfg.arch}/{cfg.cost} n={list(cfg.ns)} layers={cfg.layers} samples={cfg.samples}")
    return run_study(cfg, out / name)


def claim_fig3a(out: Path, rc: ReproduceConfig, cost: str, log: Progress) -> ClaimResult:
    """Claims 1 and 2: Fig. 3a sampled variance equals the closed form within 3 s.e.; heavy tail flagged."""
    formula = "(1/8)(3/8)^(n-1)" if cost == "global" else "1/(8 n^2)"
    r = _study(
        out,
        f"claim-fig3a-{cost}",
        StudyConfig(arch="fig3a", cost=cost, ns=rc.fig3a_ns, layers=2, samples=rc.samples, seed=rc.seed, exact=True),
        log,
    )
    sampled = [p for p in r["points"] if p["method"] != "exact"]
    exact = [p for p in r["points"] if p["method"] == "exact"]
    ok = [_within(p) for p in sampled]
    z = [abs(p["variance"] - p["analytic"]) / p["stderr"] for p in sampled]
    exact_err = max(abs(p["variance"] - p["analytic"]) / p["analytic"] for p in exact) if exact else float("nan")
    notes = [f"exact engine vs closed form: max relative difference {exact_err:.1e}"]
    if cost == "global" and rc.fig3a_tail_ns:
        t = _study(
            out,
            "claim-fig3a-global-tail",
            StudyConfig(arch="fig3a", cost="global", ns=rc.fig3a_tail_ns, layers=2, samples=1000, seed=rc.seed),
            log,
        )
        for p in t["points"]:
            ratio = p["analytic"] / p["variance"]
            flag = "flagged untrusted" if not p["trusted"] else "NOT flagged"
            notes.append(
                f"n={p['n']}, S=1000: sampled {p['variance']:.3g} vs exact {p['analytic']:.3g} "
                f"(x{ratio:.1f} too small), "
                f"kurtosis {p['kurtosis']:.3g} (true {analytic.fig3a_global_kurtosis(p['n']):.3g}): {flag}"
            )
    return ClaimResult(
        f"{'1' if cost == 'global' else '2'}. Fig. 3a, {cost} cost",
        f"Var = {formula}",
        f"n={list(rc.fig3a_ns)}, 2 layers, S={rc.samples}: within 3 s.e. at {sum(ok)}/{len(ok)} points "
        f"(max |z| = {max(z):.2f})",
        "PASS" if all(ok) else "FAIL",
        (r["plot"],),
        tuple(notes),
    )


def _rate_text(fit: dict[str, Any] | None) -> str:
    if fit is None:
        return "no fit (fewer than 3 widths with a trusted variance)"
    e = fit["exponential"]
    lo, hi = (2.0 ** np.array(e["slope_ci"])).tolist()
    return f"base {e['base']:.3g}/qubit (95% CI {lo:.3g}-{hi:.3g}); better model: {fit['better']}"


def claim_theorem1(out: Path, rc: ReproduceConfig, log: Progress) -> ClaimResult:
    """Claim 3: global Haar perceptrons; Var decays at least as fast as 2^(-2n) (global) and 2^(-n) (local)."""
    rows, plots, ok = [], [], True
    for cost, bound in (("global", 0.25), ("local", 0.5)):
        r = _study(
            out,
            f"claim-theorem1-{cost}",
            StudyConfig(
                arch="global",
                cost=cost,
                ns=rc.theorem1_ns,
                layers=1,
                samples=rc.theorem1_samples,
                seed=rc.seed,
                exact=True,
            ),
            log,
        )
        ex = _study(
            out,
            f"claim-theorem1-{cost}-exact",
            StudyConfig(
                arch="global", cost=cost, ns=rc.theorem1_exact_ns, layers=1, samples=0, seed=rc.seed, exact=True
            ),
            log,
        )
        plots += [r["plot"], ex["plot"]]
        fe, fs = ex["fits"]["exact"], r["fits"]["sampled"]
        fit = fe or fs
        passed = fit is not None and fit["exponential"]["base"] <= bound
        ok &= passed
        rows.append(
            f"{cost}: exact n={list(rc.theorem1_exact_ns)}: {_rate_text(fe)}; sampled n={list(rc.theorem1_ns)}: "
            f"{_rate_text(fs)}; bound base {bound}"
        )
    return ClaimResult(
        "3. Theorem 1 (global Haar perceptrons, Eqs. 9-10)",
        "Var[dC^G] in O(2^-2n) (base <= 1/4); Var[dC^L] in O(2^-n) (base <= 1/2)",
        " / ".join(rows),
        "PASS" if ok else "FAIL",
        tuple(plots),
    )


def claim_fig3b(out: Path, rc: ReproduceConfig, cost: str, log: Progress) -> ClaimResult:
    """Claims 4 and 5: Fig. 3b with log-depth: global decays exponentially, local polynomially."""
    ns = rc.fig3b_global_ns if cost == "global" else rc.fig3b_ns
    r = _study(
        out,
        f"claim-fig3b-{cost}",
        StudyConfig(arch="fig3b", cost=cost, ns=ns, layers="log", samples=rc.fig3b_samples, seed=rc.seed),
        log,
    )
    ex = _study(
        out,
        f"claim-fig3b-{cost}-exact",
        StudyConfig(arch="fig3b", cost=cost, ns=rc.exact_ns, layers="log", samples=0, seed=rc.seed, exact=True),
        log,
    )
    fe, fs = ex["fits"]["exact"], r["fits"]["sampled"]
    if cost == "global":
        want = "exponential"
        passed = fe is not None and fe["better"] == want and fe["exponential"]["base"] <= float(np.sqrt(3) / 4)
        pred = "exponential decay, Var in O((sqrt(3)/4)^n) (base <= 0.433)"
    else:
        want = "polynomial"
        passed = fe is not None and fe["better"] == want
        pred = "no exponential decay: Var in Omega(1/poly(n)) (polynomial fit wins)"
    power = "" if fe is None else f"; exact power-law exponent {fe['polynomial']['slope']:.2f}"
    measured = f"exact n={list(rc.exact_ns)}: {_rate_text(fe)}{power}; sampled n={list(ns)}: {_rate_text(fs)}"
    return ClaimResult(
        f"{'4' if cost == 'global' else '5'}. Fig. 3b, {cost} cost, 2 ceil(log2 n) DQNN layers",
        pred,
        measured,
        "PASS" if passed else "FAIL",
        (r["plot"], ex["plot"]),
    )


def claim_theorem2(out: Path, rc: ReproduceConfig, log: Progress) -> ClaimResult:
    """Claim 6: parameter-matrix multiplication with Haar V(0): Var[d_s C] decays at least as fast as 2^(-n)."""
    rows, plots, ok = [], [], True
    for cost in ("global", "local"):
        r = _study(
            out,
            f"claim-theorem2-{cost}",
            StudyConfig(arch="pmm", cost=cost, ns=rc.pmm_ns, layers=1, samples=rc.pmm_samples, seed=rc.seed),
            log,
        )
        plots.append(r["plot"])
        fs = r["fits"]["sampled"]
        passed = fs is not None and fs["exponential"]["slope_ci"][0] <= -1.0
        ok &= passed
        rows.append(f"{cost}: {_rate_text(fs)}")
    return ClaimResult(
        "6. Theorem 2 (parameter-matrix multiplication, Eq. 14)",
        "Var[d_s C] in O(2^-n) (base <= 1/2), global and local",
        " / ".join(rows),
        "PASS" if ok else "FAIL",
        tuple(plots),
        (
            "random H per perceptron (GUE, Tr H^2 = 2^(m+k)); "
            "verdict: the 95% CI of the fitted base reaches 1/2 or below",
        ),
    )


def claim_zero_mean(out: Path) -> ClaimResult:
    """Claim 7: every sampled gradient mean is zero within 4 standard errors (1-design perceptrons)."""
    pts = [p for f in sorted(out.glob("claim-*/variance.json")) for p in json.loads(f.read_text())["points"]]
    z = [abs(p["mean"]) / p["mean_stderr"] for p in pts if p["method"] != "exact" and p["mean_stderr"] > 0]
    exact = [abs(p["mean"]) for p in pts if p["method"] == "exact"]
    within = sum(v <= 4 for v in z)
    return ClaimResult(
        "7. Zero mean (perceptrons are 1-designs)",
        "<dC> = 0",
        f"{within}/{len(z)} sampled means within 4 s.e. (max |z| = {max(z):.2f}); exact means: max |<dC>| = "
        f"{max(exact) if exact else float('nan'):.1e}",
        "PASS" if within == len(z) else "FAIL",
    )


def reproduce(out: str | Path, quick: bool = False, log: Progress = print) -> list[ClaimResult]:
    """Run claims 1-7 into ``out`` and write ``out/report.md`` (and ``report.json``)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rc = ReproduceConfig.quick() if quick else ReproduceConfig()
    t0 = time.perf_counter()
    results = [
        claim_fig3a(out, rc, "global", log),
        claim_fig3a(out, rc, "local", log),
        claim_theorem1(out, rc, log),
        claim_fig3b(out, rc, "global", log),
        claim_fig3b(out, rc, "local", log),
        claim_theorem2(out, rc, log),
    ]
    results.append(claim_zero_mean(out))
    extra = _extra_panels(out, quick, log)
    write_report(out, results, rc, time.perf_counter() - t0, quick, extra)
    return results


def _extra_panels(out: Path, quick: bool, log: Progress) -> list[str]:
    """Optional panels from other parts of the library (training), as markdown lines."""
    try:
        from dqnn.training import beer_panel  # type: ignore[attr-defined]
    except ImportError:
        return []
    log("training: Beer-style learning and generalisation panel")
    res = beer_panel(out / "training", quick)
    lines = ["", "## Learning a random unitary (Beer et al.)", ""]
    for k, v in res.items():
        if k == "plot":
            lines.append(f"![training]({Path(str(v)).relative_to(out)})")
        else:
            lines.append(f"- {k}: {v}")
    return lines


def write_report(
    out: Path, results: list[ClaimResult], rc: ReproduceConfig, seconds: float, quick: bool, extra: list[str]
) -> Path:
    """Write ``report.md`` (table, notes, plots) and ``report.json``."""
    from dqnn import __version__

    lines = [
        "# dqnn: reproduction of Sharma, Cerezo, Cincio, Coles, PRL 128, 180505 (2022)",
        "",
        f"dqnn {__version__}; {'quick' if quick else 'full'} run in {seconds:.0f} s; seed {rc.seed}.",
        "",
        "| claim | prediction | measured | verdict |",
        "|---|---|---|---|",
    ]
    for r in results:
        lines.append(f"| {r.claim} | {r.prediction} | {r.measured} | **{r.verdict}** |")
    for r in results:
        if r.notes or r.plots:
            lines += ["", f"## {r.claim}", ""]
            lines += [f"- {n}" for n in r.notes]
            lines += [f"![{r.claim}]({Path(p).relative_to(out)})" for p in r.plots]
    lines += extra
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n")
    (out / "report.json").write_text(json.dumps([asdict(r) for r in results], indent=1))
    return path
