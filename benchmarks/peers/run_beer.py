"""Workload C: one Beer-style training step (parameter-matrix multiplication), dqnn vs plain NumPy and TensorCircuit-NG.

Usage: ``[taskset -c 0] python benchmarks/peers/run_beer.py [--widths 2,3,2 3,3,3 4,4,4 5,5,5] [--pairs 10]
[--budget 3] [--engines dqnn numpy tc] [--out benchmarks/peers/results_beer.md] [--append --title TITLE]``. ``results_beer.md`` holds a run
pinned to one core (``taskset -c 0``; on a shared machine multithreaded BLAS and XLA stall) and one with the
default threads (``--append``). Takes about two minutes (one NumPy step of [5,5,5] alone takes one minute or more).

Task: learning a random unitary (``dqnn.datasets.unitary_data``), ``N = --pairs`` training pairs, global Haar
perceptrons (``dqnn.presets.architectures.global_haar``), ``eps = 0.1``, ``eta = 1``, global fidelity. Both engines start
from the same unitaries and pairs, in the same process.

- ``dqnn``: ``jax.jit`` of ``dqnn.training.pmm.pmm_update``, compiled ahead of time; ``compile s`` is lowering +
  compilation + the first call. Steps are chained (each step gets the previous step's unitaries).
  ``peak MB``: XLA's memory analysis of the compiled step (arguments + outputs + temporaries).
- ``numpy``: ``beer_numpy.beer_step`` (full ``d x d`` matrices on each pair of adjacent layers, SciPy ``expm``).
  No compilation. ``peak MB``: ``tracemalloc`` peak during the first step (NumPy reports its buffers to it).
- ``tc``: ``beer_tc.make_step`` (the same full-tensor algorithm written with TensorCircuit-NG's ``DMCircuit`` on
  JAX: pairs vmapped, the whole step one ``jax.jit``; needs ``tensorcircuit-ng``, the ``bench`` extra). ``compile s``
  and ``peak MB`` as for dqnn.

``ms/step`` is the median over the steps that fit in ``--budget`` seconds after an untimed warm-up (``WARMUP``;
jitted engines), each timed to completion (at least
one; when a NumPy step alone exceeds the budget, its first, traced step is the measurement). ``max |dV|, |dC|``:
the largest entry of the difference of an engine's updated unitaries from NumPy's, and of their costs, after the
first step (a cross-check). ``dqnn / fastest peer`` is dqnn's steps/s over the fastest other engine's.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import jax
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import beer_numpy  # noqa: E402
from run_peers import machine  # noqa: E402

from dqnn import datasets  # noqa: E402
from dqnn.presets import architectures  # noqa: E402
from dqnn.training import pmm  # noqa: E402
from dqnn.training.objectives import observable_factors  # noqa: E402

DEFAULT_WIDTHS = ["2,3,2", "3,3,3", "4,4,4", "5,5,5"]
#: Untimed warm-up steps (at most 200) before the timed ones, as a fraction of ``--budget``, so that one-off costs
#: after compiling are not timed. (It does not remove the slow phase in which a whole [2,3,2] run sometimes goes
#: 1.7x slower on the shared VM: 3 of 13 runs, with or without it; ``results_beer.md``.)
WARMUP = 0.2


def _repeat(fn, state, budget: float, max_steps: int = 2000) -> list[float]:  # type: ignore[no-untyped-def]
    """Run ``state = fn(state)`` (each step timed to completion) until ``budget`` seconds have passed; step times."""
    times: list[float] = []
    while sum(times) < budget and len(times) < max_steps:
        t0 = time.perf_counter()
        state = jax.block_until_ready(fn(state))
        times.append(time.perf_counter() - t0)
    return times


def _stats(times: list[float]) -> dict:  # type: ignore[type-arg]
    return {"per_s": float(np.median(times)), "mean_s": float(np.mean(times)), "steps": len(times)}


def run_dqnn(net, params, x, obs, cfg: pmm.PMMConfig, budget: float) -> tuple[dict, Any]:  # type: ignore[no-untyped-def,type-arg]
    """Time the jitted PMM step; returns the result row and the unitaries after one step."""
    step = jax.jit(lambda p, xs, o: pmm.pmm_update(net, p, xs, o, cfg))
    return _time_jitted("dqnn", step, params, (x, obs), budget)


def _time_jitted(engine: str, step: Any, state: Any, data: tuple[Any, ...], budget: float) -> tuple[dict, Any]:  # type: ignore[type-arg]
    """Compile ``step(state, *data) -> (state, cost)`` ahead of time, then time chained steps: the result row
    (compile s = lower + compile + first call; peak MB from XLA's memory analysis) and ``(state, cost)`` after one."""
    t0 = time.perf_counter()
    compiled = step.lower(state, *data).compile()
    new, cost = jax.block_until_ready(compiled(state, *data))
    compile_s = time.perf_counter() - t0
    mem = compiled.memory_analysis()
    peak = None
    if mem is not None:
        peak = (mem.argument_size_in_bytes + mem.output_size_in_bytes + mem.temp_size_in_bytes) / 2**20
    _repeat(lambda p: compiled(p, *data)[0], new, WARMUP * budget, max_steps=200)  # untimed warm-up
    times = _repeat(lambda p: compiled(p, *data)[0], new, budget)
    return {"engine": engine, **_stats(times), "compile_s": compile_s, "peak_mb": peak}, (new, float(cost))


def run_numpy(widths, us, x, t, cfg: pmm.PMMConfig, budget: float) -> tuple[dict, Any]:  # type: ignore[no-untyped-def,type-arg]
    """Time beer_numpy.beer_step; returns the result row and the unitaries after one step."""
    tracemalloc.start()
    t0 = time.perf_counter()
    new, cost = beer_numpy.beer_step(widths, us, x, t, eps=cfg.eps, eta=cfg.eta)
    first = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    times = (
        [first]
        if first > budget
        else _repeat(lambda u: beer_numpy.beer_step(widths, u, x, t, eps=cfg.eps, eta=cfg.eta)[0], new, budget)
    )
    row = {"engine": "numpy", **_stats(times), "compile_s": None, "peak_mb": peak}
    return row, (new, cost)


def run_tc(widths, us, x, t, cfg: pmm.PMMConfig, budget: float) -> tuple[dict, Any]:  # type: ignore[no-untyped-def,type-arg]
    """Time beer_tc's jitted step (TensorCircuit-NG); returns the result row and the unitaries after one step."""
    import beer_tc

    rho = np.einsum("ni,nj->nij", x, x.conj()) if x.ndim == 2 else x
    pi = np.einsum("ni,nj->nij", t, t.conj()) if t.ndim == 2 else t
    step = beer_tc.make_step(widths, eps=cfg.eps, eta=cfg.eta)
    row, (new, cost) = _time_jitted("tc", step, us, (rho, pi), budget)
    return row, ([[np.asarray(u) for u in r] for r in new], cost)


def versions() -> str:
    """Installed versions of the engines' libraries."""
    from importlib.metadata import version

    import scipy

    out = f"dqnn {version('dqnn')}, jax {jax.__version__}, numpy {np.__version__}, scipy {scipy.__version__}"
    try:
        out += f", tensorcircuit-ng {version('tensorcircuit-ng')}"
    except Exception:  # not installed: not run
        pass
    return out


def fastest_peer_ratio(results: list[dict]) -> tuple[float, str]:  # type: ignore[type-arg]
    """dqnn's steps/s over the fastest other engine's, and that engine's name."""
    dqnn = next(r for r in results if r["engine"] == "dqnn")
    best = min((r for r in results if r["engine"] != "dqnn"), key=lambda r: r["per_s"])
    return best["per_s"] / dqnn["per_s"], best["engine"]


def table(rows: list[tuple[str, list[dict], dict[str, tuple[float, float]]]]) -> str:  # type: ignore[type-arg]
    """Markdown table: one line per (network, engine)."""
    out = [
        "| network | engine | ms/step (median) | steps/s | mean ms | compile s | peak MB | steps timed "
        "| max abs dV, abs dC vs numpy | dqnn / fastest peer |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, results, diffs in rows:
        for r in results:
            ratio = ""
            if r["engine"] == "dqnn" and len(results) > 1:
                q, peer = fastest_peer_ratio(results)
                ratio = f"{q:,.1f}x (vs {peer})"
            comp = "-" if r["compile_s"] is None else f"{r['compile_s']:.2f}"
            peak = "n/a" if r["peak_mb"] is None else f"{r['peak_mb']:,.1f}"
            dv, dcost = diffs.get(r["engine"], (None, None))
            dvs = "" if dv is None else f"{dv:.0e}, {dcost:.0e}"
            out.append(
                f"| {label} | {r['engine']} | {1e3 * r['per_s']:,.3f} | {1 / r['per_s']:,.2f} | "
                f"{1e3 * r['mean_s']:,.3f} | {comp} | {peak} | {r['steps']} | {dvs} | {ratio} |"
            )
    return "\n".join(out)


INTRO = """# Workload C: one Beer-style training step, dqnn vs plain NumPy and TensorCircuit-NG

Produced by `python benchmarks/peers/run_beer.py`. Peers: `numpy` (`benchmarks/peers/beer_numpy.py`, a plain
NumPy/SciPy step with full 2^n x 2^n matrices on each pair of adjacent layers, a loop over the pairs, as in the
original code of Beer et al.) and `tc` (`benchmarks/peers/beer_tc.py`, the same full-tensor algorithm written with
TensorCircuit-NG's DMCircuit on JAX, pairs vmapped, the whole step one jax.jit). Task: learning a random unitary
(`dqnn.datasets.unitary_data`), global Haar perceptrons, eps = 0.1, eta = 1, N = 10 pairs; one step = one update
of every perceptron on all N pairs, every engine from the same unitaries and pairs, in one process. dqnn:
`jax.jit(pmm.pmm_update)`, compile = lower + compile + first call; peak MB = XLA's memory analysis of the compiled
step (arguments + outputs + temporaries); the same for tc. numpy: no compilation; peak MB = tracemalloc peak of
one step. ms/step is the median over the timed steps (each step timed to completion), steps/s its inverse; a NumPy
step longer than the budget is timed once. The last two columns: largest difference of an engine's updated
unitaries and cost from NumPy's after one step, and dqnn's steps/s over the fastest peer's.
"""


def section(title: str, args: argparse.Namespace, total: float, tab: str, rows: list) -> str:  # type: ignore[type-arg]
    """One titled section: run conditions, the table and the range of ratios."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    ratios = [fastest_peer_ratio(res)[0] for _, res, _ in rows if len(res) > 1]
    if not ratios:
        summary = "dqnn only (no peer in this run)"
    elif min(ratios) > 1:
        summary = f"dqnn / fastest peer: {min(ratios):,.1f}x to {max(ratios):,.0f}x (dqnn faster on every network)"
    else:
        summary = (
            f"dqnn / fastest peer: {min(ratios):,.2f}x to {max(ratios):,.0f}x (dqnn SLOWER on at least one network)"
        )
    lines = [
        f"## {title}",
        "",
        f"Date: {datetime.datetime.now().isoformat(timespec='minutes')}. Machine: {machine()}; CPUs this process "
        f"may use: {len(os.sched_getaffinity(0))}. Versions: {versions()}. Total wall time: {total:.0f} s. Budget per "
        f"case: {args.budget} s of timed steps. Process peak RSS (both engines, all networks): {rss:,.0f} MB.",
        "",
        tab,
        "",
        summary,
        "",
    ]
    return "\n".join(lines)


def write(args: argparse.Namespace, rows: list, total: float, previous: str | None) -> None:  # type: ignore[type-arg]
    """Write ``--out``: this run's section after ``previous`` (``--append``) or after the introduction."""
    text = section(args.title, args, total, table(rows), rows)
    args.out.write_text(INTRO + "\n" + text if previous is None else previous + "\n\n" + text)


def main() -> None:
    """Time every network in both engines, print and write the table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--widths", nargs="+", default=DEFAULT_WIDTHS, help="comma-separated widths, one per network")
    ap.add_argument("--pairs", type=int, default=10)
    ap.add_argument("--budget", type=float, default=3.0, help="seconds of timed steps per (network, engine)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--engines", nargs="+", default=["dqnn", "numpy", "tc"], choices=["dqnn", "numpy", "tc"])
    ap.add_argument("--out", type=Path, default=HERE / "results_beer.md")
    ap.add_argument("--title", default="Default threads", help="heading of this run's section")
    ap.add_argument("--append", action="store_true", help="append a section to --out instead of rewriting it")
    args = ap.parse_args()
    cfg = pmm.PMMConfig(eps=0.1, eta=1.0)
    t_start = time.perf_counter()
    previous = args.out.read_text().rstrip("\n") if args.append and args.out.exists() else None
    rows = []
    for w in args.widths:
        widths = tuple(int(v) for v in w.split(","))
        if widths[0] != widths[-1]:
            raise SystemExit(f"{w}: the unitary task needs as many output as input qubits")
        k_data, k_init = jax.random.split(jax.random.key(args.seed))
        _, data = datasets.unitary_data(k_data, widths[0], args.pairs, 0)
        x, t = data.train_inputs, data.train_targets
        net = architectures.global_haar(widths)
        params = net.init(k_init)
        obs = observable_factors("global", t, net.num_outputs)
        us = [[np.asarray(p["u"]) for p in row] for row in params]
        runs = {
            "dqnn": functools.partial(run_dqnn, net, params, x, obs, cfg, args.budget),
            "numpy": functools.partial(run_numpy, widths, us, np.asarray(x), np.asarray(t), cfg, args.budget),
            "tc": functools.partial(run_tc, widths, us, np.asarray(x), np.asarray(t), cfg, args.budget),
        }
        results, after = [], {}
        for engine in ["dqnn", *[e for e in args.engines if e != "dqnn"]]:
            row, (new, cost) = runs[engine]()
            if engine == "dqnn":
                new = [[np.asarray(p["u"]) for p in r] for r in new]
            results.append(row)
            after[engine] = (new, cost)
        diffs = {}
        if "numpy" in after:
            new_n, cost_n = after["numpy"]
            for engine, (new, cost) in after.items():
                if engine != "numpy":
                    dv = max(
                        float(np.max(np.abs(a - b)))
                        for ra, rb in zip(new, new_n, strict=True)
                        for a, b in zip(ra, rb, strict=True)
                    )
                    diffs[engine] = (dv, abs(cost - cost_n))
        label = f"[{w}]"
        for r in results:
            print(f"{label:>10} {r['engine']:>6}: {1e3 * r['per_s']:10.3f} ms/step ({r['steps']} steps)", flush=True)
        rows.append((label, results, diffs))
        write(args, rows, time.perf_counter() - t_start, previous)  # after every network: a cut-off run keeps its rows
    print(table(rows))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
