"""Run workloads A, B and D in dqnn and its peers, one fresh process per case, and tabulate the results.

Usage: ``python benchmarks/peers/run_peers.py [--engines dqnn tc ...] [--workloads A B] [--budget 6]
[--out benchmarks/peers/results.md] [--keep benchmarks/peers/results.json]``; the raw results go to the
``.json`` beside ``--out``, and ``--keep`` reuses an earlier run's rows for the engines not run now. Needs the ``bench`` extra (``pip install -e .[bench]``).

Each case runs in its own process (``engines.py``) with a hard time limit; a case that exceeds it is reported
as ``timeout``. ``samples/s`` is measured after the first (compiling) call, over at least ``S`` samples and
one second (fast engines repeat the S samples' angles) and at most ``--budget`` seconds; ``import`` is
importing the engine's modules; ``compile`` is build + first call after them; ``peak MB`` is the process's
maximum resident set size (``ru_maxrss``), ``+MB`` its growth since the process started (engine imports
included). ``ratio`` is dqnn's samples/s over the fastest peer's. The whole run stops starting new cases after ``--deadline`` seconds.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ENGINES = ["dqnn", "dqnn-full", "tc", "tc-dm", "pl-jax", "pl-mixed", "pl-lightning", "qiskit", "qiskit-dm"]
DEFAULT_ENGINES = ENGINES
# (workload, n, layers, cost, samples, hard limit s)
CASES = [
    *[("A", n, 1, cost, 1000, 60) for n in (8, 12, 16) for cost in ("global", "local")],
    ("B", 12, 12, "global", 200, 300),  # TensorCircuit-NG compiles for ~2 minutes here
    ("B", 16, 4, "local", 200, 300),
    # D (Theorem 1): widths [n] * (L + 1); the peers hold all n (L + 1) qubits
    *[("D", n, layers, "global", 256, 300) for n, layers in ((4, 2), (5, 3), (4, 4), (3, 6))],
]
#: Engines that have no version of workload D (the plain simulator is what dqnn runs there).
NO_D = ("dqnn-full", "pl-lightning")
#: Engines that run workload D only (the density-matrix variants of the peers, layer by layer).
D_ONLY = ("tc-dm", "pl-mixed", "qiskit-dm")


def run_case(engine: str, case: tuple, budget: float) -> dict:  # type: ignore[type-arg]
    """Run one case in a subprocess; the parsed JSON line, or an ``error`` entry."""
    workload, n, layers, cost, samples, limit = case
    cmd = [sys.executable, str(HERE / "engines.py"), engine, workload, str(n), str(layers), cost, str(samples)]
    cmd.append(str(budget))
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=limit, env=os.environ.copy())
    except subprocess.TimeoutExpired:
        return {"engine": engine, "error": f"timeout ({limit} s)", "wall_s": time.perf_counter() - t0}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        err = (proc.stderr.strip().splitlines() or ["failed"])[-1][:100]
        return {"engine": engine, "error": err, "wall_s": time.perf_counter() - t0}
    d = json.loads(lines[-1])
    d["wall_s"] = time.perf_counter() - t0
    return dict(d)


def case_label(case: tuple) -> str:  # type: ignore[type-arg]
    """E.g. ``A n=8 global S=1000``."""
    w, n, layers, cost, s, _ = case
    if w == "D":
        return f"D [{n}]*{layers + 1} ({n * (layers + 1)} qubits) {cost} S={s}"
    return f"{w} n={n}" + (f" L={layers}" if w == "B" else "") + f" {cost} S={s}"


def rate(x: float) -> str:
    """Samples/s: thousands separated, two significant digits below 10."""
    return f"{x:,.0f}" if x >= 10 else f"{x:.2g}"


def table(rows: list[tuple[str, list[dict]]]) -> str:  # type: ignore[type-arg]
    """A markdown table: one line per (case, engine), with dqnn's ratio to the fastest peer."""
    out = [
        "| case | engine | samples/s | import s | compile s | peak MB | +MB | samples timed | Var[grad] (+- se) | dqnn / fastest peer |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, results in rows:
        peers = [r for r in results if not r["engine"].startswith("dqnn") and "error" not in r]
        best = max(peers, key=lambda r: r["samples_per_s"], default=None)
        for r in results:
            ratio = ""
            if best is not None and r["engine"].startswith("dqnn") and "error" not in r:
                ratio = f"{r['samples_per_s'] / best['samples_per_s']:.2f}x (vs {best['engine']})"
            if "error" in r:
                out.append(f"| {label} | {r['engine']} | {r['error']} | | | | | | | |")
                continue
            out.append(
                f"| {label} | {r['engine']} | {rate(r['samples_per_s'])} | {r.get('import_s', float('nan')):.1f} | "
                f"{r['compile_s']:.1f} | "
                f"{r['peak_rss_mb']:.0f} | {r['rss_delta_mb']:.0f} | {r['samples']} | {r['variance']:.3e}"
                + (f" +- {r['variance_se']:.1e}" if "variance_se" in r else "")
                + " | "
                f"{ratio} |"
            )
    return "\n".join(out)


def machine() -> str:
    """Short machine description."""
    import jax

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            names = [ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, jax {jax.__version__} "
        f"({jax.devices()[0].platform})"
    )


def versions() -> str:
    """Installed versions of the peers."""
    from importlib.metadata import PackageNotFoundError, version

    parts = []
    for pkg in ("dqnn", "tensorcircuit-ng", "pennylane", "pennylane-lightning", "qiskit"):
        try:
            parts.append(f"{pkg} {version(pkg)}")
        except PackageNotFoundError:
            parts.append(f"{pkg} (not installed)")
    return ", ".join(parts)


def main() -> None:
    """Run the cases and print / write the table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--engines", nargs="+", default=DEFAULT_ENGINES, choices=ENGINES, help="dqnn-full: plain simulator only"
    )
    ap.add_argument("--workloads", nargs="+", default=["A", "B"], choices=["A", "B", "D"])
    ap.add_argument("--budget", type=float, default=6.0, help="seconds of timed sampling per case")
    ap.add_argument("--deadline", type=float, default=14 * 60, help="start no case after this many seconds")
    ap.add_argument("--out", type=Path, default=HERE / "results.md")
    ap.add_argument(
        "--keep",
        type=Path,
        help="raw results (JSON) of an earlier run: its rows of engines not run now are kept (rerun dqnn only)",
    )
    args = ap.parse_args()
    kept = json.loads(args.keep.read_text()) if args.keep else {}
    t_start = time.perf_counter()
    rows = []
    for case in CASES:
        if case[0] not in args.workloads:
            if case_label(case) in kept:  # not run now: the earlier run's rows
                rows.append((case_label(case), kept[case_label(case)]))
            continue
        results = []
        for engine in args.engines:
            if (case[0] == "D" and engine in NO_D) or (case[0] != "D" and engine in D_ONLY):
                continue
            if time.perf_counter() - t_start > args.deadline:
                results.append({"engine": engine, "error": "skipped (deadline)"})
                continue
            r = run_case(engine, case, args.budget)
            results.append(r)
            rate = f"{r['samples_per_s']:,.0f}/s" if "error" not in r else r["error"]
            print(f"{case_label(case):>28} {engine:>13}: {rate}  ({r['wall_s']:.0f} s)", flush=True)
        ran = {r["engine"] for r in results}
        results += [r for r in kept.get(case_label(case), []) if r["engine"] not in ran]
        results.sort(key=lambda r: ENGINES.index(r["engine"]))
        rows.append((case_label(case), results))
    total = time.perf_counter() - t_start
    tab = table(rows)
    print(tab)
    head = [
        "# dqnn vs peers",
        "",
        f"Date: {datetime.datetime.now().isoformat(timespec='minutes')}. Machine: {machine()}.",
        f"Versions: {versions()}. Total wall time: {total:.0f} s. Budget per case: {args.budget} s of timed sampling.",
        "",
        "Produced by `python benchmarks/peers/run_peers.py` (definitions in `benchmarks/peers/engines.py`).",
        *(
            [f"Rows of engines not in `{' '.join(args.engines)}` are kept from an earlier run (`--keep`)."]
            if kept
            else []
        ),
        "",
    ]
    args.out.write_text("\n".join(head) + tab + "\n")
    args.out.with_suffix(".json").write_text(json.dumps(dict(rows), indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
