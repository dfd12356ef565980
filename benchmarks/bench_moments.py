"""Exact moments: value, error estimate, verdict and wall time, including the cases issue 19 found wrong.

Each row is one :func:`dqnn.moments.exact.exact_moments` call (all in one process, after one warm-up call), with
the engine it chose (``auto``) or the one forced. Columns: point, engine, the variance (the nearest double),
``log10`` of it (finite below the double range), the estimated relative error, the verdict (and the reason when
untrusted), seconds. A reference column gives the closed form where there is one (Fig. 3a) and otherwise ``-``
(the Theorem-1 values are checked against exact rational recursions in ``tests/test_moments_trust.py``).
Usage::

    python benchmarks/bench_moments.py [--quick] [--out benchmarks/results_moments.md]
"""

from __future__ import annotations

import argparse
import platform
import time
from decimal import Decimal, localcontext
from pathlib import Path

from dqnn.moments.exact import ProductStates, exact_moments
from dqnn.moments.pmm import exact_pmm_moments
from dqnn.presets.architectures import global_haar
from dqnn.presets.problems import GradientProblem

#: (arch, cost, n, DQNN layers, engine)
CASES: list[tuple[str, str, int, int, str]] = [
    ("global", "global", 8, 16, "network"),
    ("global", "global", 8, 16, "auto"),
    ("global", "global", 16, 6, "network"),
    ("global", "global", 16, 6, "auto"),
    ("global", "global", 32, 4, "auto"),
    ("global", "global", 64, 32, "auto"),
    ("global", "local", 64, 32, "auto"),
    ("global", "global", 1024, 10, "auto"),
    ("fig3a", "global", 760, 1, "auto"),
    ("fig3a", "global", 10_000, 1, "auto"),
    ("fig3b", "global", 16, 10, "auto"),
    ("fig3b", "local", 64, 8, "auto"),
    ("fig3b", "global", 64, 8, "auto"),
    ("fig3b", "global", 1024, 2, "auto"),
    ("fig3b", "local", 256, 16, "auto"),
    ("fig3b", "local", 1024, 20, "auto"),
    ("fig3b", "global", 256, 16, "auto"),
    ("fig3b", "global", 1024, 20, "auto"),
]
QUICK = [c for c in CASES if c[2] <= 64 and not (c[0] == "fig3b" and c[2] == 64)]
#: Line engine against the tensor network (no truncation): (cost, n, DQNN layers)
LINE_CHECKS = [("global", 16, 10), ("local", 16, 10), ("global", 32, 8), ("local", 32, 8), ("global", 64, 6)]
LINE_CHECKS += [("local", 64, 6)]


def reference_log10(arch: str, cost: str, n: int) -> float | None:
    """``log10`` of the closed form where there is one (Fig. 3a, any depth), in 40-digit decimals."""
    if arch != "fig3a":
        return None
    with localcontext() as ctx:
        ctx.prec = 40
        if cost == "global":
            return float((Decimal(1) / 8).log10() + (n - 1) * (Decimal(3) / 8).log10())
        return float(-Decimal(8 * n * n).log10())


def run(cases: list[tuple[str, str, int, int, str]]) -> list[str]:
    """One table row per case."""
    exact_moments(GradientProblem("fig3b", 4, 2, "global"))  # warm-up (imports, first einsum calls)
    rows = []
    for arch, cost, n, layers, engine in cases:
        t0 = time.perf_counter()
        m = exact_moments(GradientProblem(arch, n, layers, cost), engine=engine)  # type: ignore[arg-type]
        sec = time.perf_counter() - t0
        ref = reference_log10(arch, cost, n)
        verdict = "trusted" if m.trusted else f"UNTRUSTED: {m.reason}"
        eng = "registers" if "register" in m.method else "line" if "boundary MPS" in m.method else "network"
        rows.append(
            f"| {arch}-{cost} | {n} | {layers} | {engine} -> {eng} | {m.variance:.6g} | {m.log10_variance:.10f} | "
            f"{'-' if ref is None else f'{m.log10_variance - ref:.1e}'} | {m.relative_error:.1e} | {verdict} | "
            f"{sec:.2f} |"
        )
        print(rows[-1], flush=True)
    return rows


#: Theorem 2 points (PMM along GUE directions, all perceptrons): (cost, n, DQNN layers)
PMM_CASES = [("global", 16, 4), ("local", 16, 4), ("global", 64, 8), ("local", 64, 8)]


def run_pmm(cases: list[tuple[str, int, int]]) -> list[str]:
    """One row per PMM point (:func:`dqnn.moments.pmm.exact_pmm_moments`, every perceptron's direction)."""
    rows = []
    for cost, n, layers in cases:
        x = ProductStates.zeros(1, n)
        t0 = time.perf_counter()
        m = exact_pmm_moments(
            global_haar([n] * (layers + 1)), x, ProductStates.zeros(1, n) if cost == "global" else x.factors, cost
        )  # type: ignore[arg-type]
        sec = time.perf_counter() - t0
        verdict = "trusted" if m.trusted else f"UNTRUSTED: {m.reason}"
        rows.append(
            f"| pmm-{cost} | {n} | {layers} | registers (PMM) | {m.variance:.6g} | {m.log10_variance:.10f} | - | "
            f"{m.relative_error:.1e} | {verdict} | {sec:.2f} |"
        )
        print(rows[-1], flush=True)
    return rows


def run_line_checks(cases: list[tuple[str, int, int]]) -> list[str]:
    """One row per Fig. 3b point: the line engine (:mod:`dqnn.moments.mps`) against the tensor network."""
    rows = []
    for cost, n, layers in cases:
        p = GradientProblem("fig3b", n, layers, cost)  # type: ignore[arg-type]
        t0 = time.perf_counter()
        line = exact_moments(p, engine="line")
        t1 = time.perf_counter()
        ref = exact_moments(p, engine="network")
        t2 = time.perf_counter()
        diff = abs(line.second_moment - ref.second_moment) / ref.second_moment
        rows.append(
            f"| fig3b-{cost} | {n} | {layers} | {line.log10_variance:.12f} | {ref.log10_variance:.12f} | {diff:.1e} | "
            f"{line.relative_error:.1e} | {t1 - t0:.2f} | {t2 - t1:.2f} |"
        )
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="only the cases up to n = 64 (seconds)")
    ap.add_argument("--out", type=Path, default=None, help="write the markdown table here")
    args = ap.parse_args()
    rows = run(QUICK if args.quick else CASES) + run_pmm(PMM_CASES[:2] if args.quick else PMM_CASES)
    checks = run_line_checks(LINE_CHECKS[:2] if args.quick else LINE_CHECKS)
    head = (
        "# Exact moments: values, error estimates, verdicts, times\n\n"
        "`python benchmarks/bench_moments.py --out benchmarks/results_moments.md` (one process, after a warm-up "
        "call). `engine`: asked -> used. `Var` is the nearest double (0 below the double range, where `log10 Var` "
        "carries the value); `log10 - closed form`: against the closed form in 40-digit decimals where there is one "
        "(Fig. 3a); `est. rel. error`: the disagreement of the two evaluations (module `dqnn.moments.validation`), "
        "an upper estimate of the reported value's error while it is below 1. The rows with `network` asked are the "
        "cases issue 19 found silently wrong (n = 8, depth 16: -6.1e-28 then; n = 16, depth 6: 540x): now flagged. "
        "The Theorem-1 values of the register engine are checked against exact rational recursions in "
        "`tests/test_moments_trust.py`; `pmm-*` rows: Theorem 2 exactly (`dqnn.moments.pmm`), checked against "
        "sampling in `tests/test_moments_pmm.py`. `-> line`: the boundary MPS of `dqnn.moments.mps` (Fig. 3b "
        "deep or wide; its estimate: two sweeps at truncations 1e-10 and 1e-9, the second on the mirrored line). "
        "Run with `OPENBLAS_NUM_THREADS=1` (two BLAS threads per process slow the small SVDs on a loaded machine).\n\n"
        f"Machine: {platform.machine()}, {platform.processor() or 'cpu'}, 2 cores shared with other jobs (timings "
        f"noisy by up to ~2x); Python {platform.python_version()}.\n\n"
        "| point | n | DQNN layers | engine | Var | log10 Var | log10 - closed form | est. rel. error | verdict | s |\n"
        "|---|---|---|---|---|---|---|---|---|---|\n"
    )
    line_head = (
        "\n## Line engine (boundary MPS) against the tensor network\n\n"
        'Fig. 3b, `engine="line"` (`dqnn.moments.mps`, truncated SVDs, error estimated by a second sweep at a '
        'coarser truncation on the mirrored line) against `engine="network"` (no truncation). `rel. diff`: '
        "`|m2_line - m2_network| / m2_network`; `est.`: the line engine's own estimate.\n\n"
        "| point | n | DQNN layers | log10 Var (line) | log10 Var (network) | rel. diff | est. | s (line) | "
        "s (network) |\n|---|---|---|---|---|---|---|---|---|\n"
    )
    if args.out is not None:
        args.out.write_text(head + "\n".join(rows) + "\n" + line_head + "\n".join(checks) + "\n")


if __name__ == "__main__":
    main()
