"""Light-cone gradient sampler: Var[d_nu C^L] for Fig. 3b at log n depth, n = 16..256, S = 1000.

Every point runs in a fresh Python process (imports, planning and XLA compilation included, as a user of
``dqnn.trainability.sampling.sample_gradients`` would pay them). Two depths per ``n``:

- ``log2``: ``ceil(log2 n)`` DQNN layers (the issue's "log(n) layers"; 8 at n = 256);
- ``2 log2``: ``2 ceil(log2 n)`` DQNN layers = ``ceil(log2 n)`` brick layers of the hardware-efficient
  ansatz, what ``dqnn variance --layers log`` and ``dqnn.trainability.study.layers_for`` use for ``fig3b``.

The gradient terms of the boundary angle have joint light cones ``2 L`` qubits wide at the input (``L`` DQNN
layers), so the work grows as ``4**L``: a point whose widest component exceeds ``--max-qubits`` (default 20)
is planned but not run. Columns: plan (joint cones, widest component, planned amplitude updates per sample
in units of one two-qubit gate on 2**16 amplitudes, primal only), then wall seconds of the child process
split into import, setup (cones, plans, chunk size), compile (first chunk: trace, lower, XLA) and run (all
chunks), and the total. Usage::

    python benchmarks/bench_lightcone.py [--samples 1000] [--ns 16 32 64 128 256] [--out results.md]
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import jax, numpy as np
from dqnn.sim import cone_gradients
from dqnn.trainability import sampling as trainability
t1 = time.perf_counter()
n, layers, samples = (int(a) for a in sys.argv[1:4])
spec = trainability.PointSpec("fig3b", "local", n, layers)
g = spec.gradient()
c = cone_gradients.chunk_size(g.net, g.angle, samples)
fn = cone_gradients.gradient_sampler(g.net, g.angle, *g.factors)
t2 = time.perf_counter()
keys = jax.random.split(spec.key(0), samples)
first = keys[:c]
compiled = fn.lower(first).compile()
t3 = time.perf_counter()
out = np.empty(samples)
for s in range(0, samples, c):
    chunk = keys[s : s + c]
    m = chunk.shape[0]
    if m < c:
        chunk = jax.numpy.concatenate([chunk, keys[: c - m]])
    out[s : s + m] = np.asarray(compiled(chunk))[:m]
t4 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "setup": t2 - t1, "compile": t3 - t2, "run": t4 - t3, "total": t4 - t0,
                  "chunk": c, "variance": float(np.var(out, ddof=1)), "mean": float(np.mean(out))}))
"""


def plan_info(n: int, layers: int) -> dict[str, float]:
    """Joint cones, widest component and planned work of the point (no simulation)."""
    from dqnn.model.angles import AngleIndex
    from dqnn.presets import architectures
    from dqnn.sim import cone_engine, cone_gradients

    net = architectures.fig3b(n, layers)
    groups = cone_gradients.gradient_groups(net, AngleIndex(0, 0, 0))
    plans = [cone_engine.plan_cone(g) for g in groups if g.network is not None]
    return {
        "terms": sum(len(g.outputs) for g in groups),
        "groups": len(groups),
        "peak": max(p.peak for p in plans),
        "passes": sum(p.cost for p in plans) / 2.0**18,
    }


def run_point(n: int, layers: int, samples: int) -> dict[str, float]:
    """Wall times of one point in a fresh process."""
    t = time.perf_counter()
    res = subprocess.run(
        [sys.executable, "-c", CHILD, str(n), str(layers), str(samples)], capture_output=True, text=True, check=True
    )
    out = json.loads(res.stdout.strip().splitlines()[-1])
    out["process"] = time.perf_counter() - t
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--ns", type=int, nargs="+", default=[16, 32, 64, 128, 256])
    ap.add_argument("--max-qubits", type=int, default=20, help="run only points whose widest component fits")
    ap.add_argument("--repeat", type=int, default=1, help="runs per point (the table shows each)")
    ap.add_argument("--out", type=Path, default=None, help="also write the table (markdown) here")
    args = ap.parse_args()
    rows = [
        "| n | depth | DQNN layers | terms | joint cones | widest (qubits) | planned 2q-gate passes | chunk "
        "| import s | setup s | compile s | run s | total s | Var |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n in args.ns:
        lg = math.ceil(math.log2(max(n, 2)))
        for depth, layers in (("log2", lg), ("2 log2", 2 * lg)):
            info = plan_info(n, layers)
            head = (
                f"| {n} | {depth} | {layers} | {info['terms']} | {info['groups']} | {info['peak']} "
                f"| {info['passes']:.1f} |"
            )
            if info["peak"] > args.max_qubits:
                gib = 16 * 2.0 ** info["peak"] / 2**30
                rows.append(head + f" - | not run: one state is {gib:.3g} GiB per sample | | | | | |")
                print(rows[-1], flush=True)
                continue
            for _ in range(args.repeat):
                r = run_point(n, layers, args.samples)
                rows.append(
                    head + f" {r['chunk']} | {r['import']:.1f} | {r['setup']:.1f} | {r['compile']:.1f} "
                    f"| {r['run']:.1f} | {r['total']:.1f} | {r['variance']:.4g} |"
                )
                print(rows[-1], flush=True)
    table = "\n".join(rows)
    print(table)
    if args.out is not None:
        args.out.write_text(table + "\n")


if __name__ == "__main__":
    main()
