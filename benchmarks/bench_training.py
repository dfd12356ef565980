"""Time per training step: parameter-matrix multiplication vs Adam, for several DQNN widths.

Usage: ``python benchmarks/bench_training.py [--widths 2,3,2 3,3,3 ...] [--methods pmm adam] [--pairs 8]
[--steps 5]``. One step = one update of every parameter on all ``pairs`` training pairs (the task of learning
a random unitary; PMM on global Haar perceptrons, Adam on hardware-efficient circuit perceptrons with
autodiff gradients). Compilation is timed separately (first step) and excluded from the per-step time;
the metric evaluation of the run loop is not included. Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import time

import jax

from dqnn.training.loop import TrainConfig, prepare

DEFAULT_WIDTHS = ["2,3,2", "3,3,3", "4,4,4", "3,4,4,3", "5,5,5"]


def time_steps(config: TrainConfig, steps: int) -> tuple[float, float, int]:
    """``(compile + first step seconds, seconds per later step, number of trained parameters)``."""
    prob = prepare(config)
    x, t = prob.data.train_inputs, prob.data.train_targets
    t0 = time.perf_counter()
    state = jax.block_until_ready(prob.step(prob.state0, x, t))
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(steps):
        state = prob.step(state, x, t)
    jax.block_until_ready(state)
    per = (time.perf_counter() - t0) / steps
    if config.method == "pmm":
        n_par = sum(int(p["u"].size) for row in prob.params0 for p in row)  # complex matrix entries
    else:
        n_par = int(state["theta"].size)
    return first, per, n_par


def main() -> None:
    """Parse arguments, time every (widths, method) pair and print a table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--widths", nargs="+", default=DEFAULT_WIDTHS, help="comma-separated widths, one per network")
    ap.add_argument("--methods", nargs="+", default=["pmm", "adam"], choices=["pmm", "adam", "sgd"])
    ap.add_argument("--pairs", type=int, default=8)
    ap.add_argument("--steps", type=int, default=5, help="timed steps after the first")
    ap.add_argument("--depth", type=int, default=4, help="entangling layers per circuit perceptron (adam/sgd)")
    args = ap.parse_args()
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}; N={args.pairs} training pairs")
    print(f"{'widths':>12} {'method':>6} {'params':>8} {'compile+1st (s)':>16} {'per step (ms)':>14}")
    for w in args.widths:
        widths = tuple(int(v) for v in w.split(","))
        for method in args.methods:
            cfg = TrainConfig(widths=widths, method=method, pairs=args.pairs, test_pairs=1, depth=args.depth)
            first, per, n_par = time_steps(cfg, args.steps)
            print(f"{w:>12} {method:>6} {n_par:>8} {first:>16.2f} {1e3 * per:>14.2f}", flush=True)


if __name__ == "__main__":
    main()
