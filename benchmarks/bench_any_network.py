"""A network written by hand runs at the preset's speed: Fig. 3b (local cost) by hand against the preset.

The hand-written network is built from ``Network``/``Perceptron`` and the Fig. 3b perceptron families (no preset
code) and sampled through the general path (:class:`dqnn.trainability.problem.TrainabilityProblem`, stream 1 =
the fig3b preset's ``key_id``); the preset through :class:`dqnn.trainability.sampling.PointSpec`. Both pick their
engine from the structure (light cones), both give the same samples (checked here too). Reported: compile (first
call: trace, lower, XLA), then samples/s of the compiled sampler, best of ``--repeats``, and the ratio
hand/preset (the issue's target: >= 0.9). The two are timed alternately in one process. Then the per-parameter map (every angle of a circuit network from one reverse-mode pass per sample) against one
single-parameter run of the same network (:func:`map_vs_single`). Usage::

    python benchmarks/bench_any_network.py [--n 256] [--layers 8] [--samples 200] [--repeats 3] [--out FILE.md]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import jax
import numpy as np

from dqnn.model import families
from dqnn.model.network import Network, Perceptron
from dqnn.trainability.points import ProblemPoint, engines
from dqnn.trainability.problem import TrainabilityProblem
from dqnn.trainability.sampling import PointSpec, sample_keys, sampler


def fig3b_by_hand(n: int, layers: int) -> Network:
    """Fig. 3b written out: V1 on brick pairs (l mod 2, l mod 2 + 2, ...), V2 on the other qubits, V1s first."""
    v1, v2 = families.fig3b_v1(), families.fig3b_v2()
    rows = []
    for l in range(layers):
        starts = list(range(l % 2, n - 1, 2))
        rows.append([Perceptron([j, j + 1], [j], v1) for j in starts])
        rows[-1] += [Perceptron([j], [j], v2) for j in range(n) if j not in starts]
    return Network([n] * (layers + 1), rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=256)
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()
    n, layers, s = a.n, a.layers, a.samples

    prob = TrainabilityProblem(network=lambda m: fig3b_by_hand(m, layers), cost="local", stream=1, name="by-hand")
    point = ProblemPoint(prob, n)
    spec = PointSpec("fig3b", "local", n, layers)
    runs = {}
    for name, g, key in (
        ("preset", spec.gradient(), spec.key(0)),
        ("by hand", point.gradient(point.parameters[0]), point.key(0)),
    ):
        keys = jax.random.split(key, s)
        t0 = time.perf_counter()
        fn, c = sampler(g, s)
        first = sample_keys(fn, c, keys[:c])
        runs[name] = {"fn": fn, "c": c, "keys": keys, "compile": time.perf_counter() - t0, "first": first, "best": 1e9}
    assert engines(point) == ["lightcone"], engines(point)
    for _ in range(a.repeats):
        for r in runs.values():
            t0 = time.perf_counter()
            r["samples"] = sample_keys(r["fn"], r["c"], r["keys"])
            r["best"] = min(r["best"], time.perf_counter() - t0)
    same = np.array_equal(runs["preset"]["samples"], runs["by hand"]["samples"])
    rate = {k: s / r["best"] for k, r in runs.items()}
    lines = [
        f"# Hand-written Fig. 3b vs the preset (local cost, n = {n}, {layers} DQNN layers, S = {s})",
        "",
        f"{time.strftime('%Y-%m-%d')}, jax {jax.__version__}, best of {a.repeats}; same samples: {same}",
        "",
        "| network | engine | chunk | compile s | samples/s |",
        "|---|---|---:|---:|---:|",
    ]
    for k, r in runs.items():
        lines.append(f"| {k} | lightcone | {r['c']} | {r['compile']:.2f} | {rate[k]:.1f} |")
    lines += ["", f"ratio by hand / preset: **{rate['by hand'] / rate['preset']:.3f}** (target >= 0.9)"]
    text = "\n".join(lines) + "\n\n" + map_vs_single(a.samples, a.repeats)
    print(text)
    if a.out:
        a.out.write_text(text + "\n")
    if not same:
        raise SystemExit("the hand-written network gave different samples")


def map_vs_single(samples: int = 200, repeats: int = 3) -> str:
    """The per-parameter map (every angle from one reverse-mode pass per sample) against one single-parameter run
    on the same network and keys: a [3, 3, 3] network of RX/RZ/CNOT perceptrons with k = 1 (27 angles)."""
    from dqnn.model.families import Circuit, Gate, Rot
    from dqnn.trainability.points import map_chunk, map_sampler

    fam = Circuit(4, [Rot("X", (0,)), Rot("Z", (1,)), Gate("CNOT", (0, 3)), Rot("X", (3,)), Gate("CNOT", (2, 3))])
    net = Network([3, 3, 3], [[Perceptron([0, 1, 2], [j], fam) for j in range(3)] for _ in range(2)])
    rows = []
    for params in ("all", "first"):
        point = ProblemPoint(TrainabilityProblem(network=net, cost="global", params=params, name="rxrz"))
        keys = jax.random.split(point.key(0), samples)
        g = point.gradient(point.parameters[0])
        t0 = time.perf_counter()
        if params == "all":  # the sampler points.sample builds for the map, built once here to time it alone
            fn = map_sampler(g, point.parameters)  # type: ignore[arg-type]
            c = map_chunk(g, samples)
        else:
            fn, c = sampler(g, samples)
        sample_keys(fn, c, keys[:c])
        compile_s = time.perf_counter() - t0
        best = 1e9
        for _ in range(repeats):
            t0 = time.perf_counter()
            sample_keys(fn, c, keys)
            best = min(best, time.perf_counter() - t0)
        rows.append((params, len(point.parameters), engines(point)[0], compile_s, best))
    (_, p_all, e_all, c_all, t_all), (_, _, e_one, c_one, t_one) = rows
    return "\n".join(
        [
            f"## Per-parameter map vs one parameter ([3, 3, 3] RX/RZ/CNOT, global cost, S = {samples})",
            "",
            "| run | parameters | engine | compile s | run s (best) |",
            "|---|---:|---|---:|---:|",
            f"| map (all) | {p_all} | {e_all} | {c_all:.2f} | {t_all:.3f} |",
            f"| single | 1 | {e_one} | {c_one:.2f} | {t_one:.3f} |",
            "",
            f"the map costs **{t_all / t_one:.2f}x** one single-parameter run for {p_all} parameters "
            f"({p_all * t_one / t_all:.1f}x cheaper than {p_all} single runs)",
        ]
    )


if __name__ == "__main__":
    main()
