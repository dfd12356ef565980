"""Time per training step: parameter-matrix multiplication vs Adam, for several DQNN widths.

Usage: ``python benchmarks/bench_training.py [--widths 2,3,2 3,3,3 ...] [--methods pmm adam] [--pairs 8]
[--steps 5]``. One step = one update of every parameter on all ``pairs`` training pairs (the task of learning
a random unitary; PMM on global Haar perceptrons, Adam on hardware-efficient circuit perceptrons with
autodiff gradients). Compilation is timed separately (first step) and excluded from the per-step time;
the metric evaluation of the run loop is not included. Prints a table; asserts nothing.

``--pmm-variants`` times one PMM step of every update rule of :mod:`dqnn.training.pmm_optim` (plain, momentum,
RMSprop, Adam, Nadam; Beer et al.'s code convention) on the same unitaries and ``--pairs`` pairs instead: the
extra cost of an optimiser over plain PMM (one ``eigvalsh`` per perceptron for the second moment).
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


def time_pmm_variants(widths: tuple[int, ...], pairs: int, steps: int) -> dict[str, tuple[float, float]]:
    """``{rule: (compile + first step s, median s per step)}`` of a jitted PMM step with each update rule."""
    import statistics

    from dqnn import datasets
    from dqnn.presets import architectures
    from dqnn.training import objectives, pmm, pmm_optim

    net = architectures.global_haar(widths)
    params = net.init(jax.random.key(0))
    _, data = datasets.unitary_data(jax.random.key(1), widths[0], pairs, 0)
    facs = pmm.input_factors(data.train_inputs)
    obs = objectives.observable_factors("global", data.train_targets, net.num_outputs)
    cfg = pmm.PMMConfig.beer(0.1, 1.0)
    out = {}
    for name in pmm_optim.PMM_OPTIMIZERS:
        opt = pmm_optim.PMMOptimizer(name, momentum=0.0 if name in ("plain", "rmsprop") else 0.8, beta=0.999)

        def step(p, s, t, opt=opt):  # type: ignore[no-untyped-def]
            gens = pmm.generators_from_factors(net, p, facs, obs)[1]
            return pmm_optim.update(net, p, gens, pairs, cfg, opt, s, t)

        fn = jax.jit(step)
        state = pmm_optim.init_state(net, params)
        t0 = time.perf_counter()
        p, state = jax.block_until_ready(fn(params, state, 1))
        first = time.perf_counter() - t0
        times = []
        for k in range(steps):
            t0 = time.perf_counter()
            p, state = jax.block_until_ready(fn(p, state, k + 2))
            times.append(time.perf_counter() - t0)
        out[name] = (first, statistics.median(times))
    return out


def main() -> None:
    """Parse arguments, time every (widths, method) pair and print a table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--widths", nargs="+", default=DEFAULT_WIDTHS, help="comma-separated widths, one per network")
    ap.add_argument("--methods", nargs="+", default=["pmm", "adam"], choices=["pmm", "adam", "sgd"])
    ap.add_argument("--pairs", type=int, default=8)
    ap.add_argument("--steps", type=int, default=5, help="timed steps after the first")
    ap.add_argument("--depth", type=int, default=4, help="entangling layers per circuit perceptron (adam/sgd)")
    ap.add_argument("--pmm-variants", action="store_true", help="time every PMM update rule instead")
    args = ap.parse_args()
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}; N={args.pairs} training pairs")
    if args.pmm_variants:
        print(f"{'widths':>12} {'rule':>9} {'compile+1st (s)':>16} {'per step (ms)':>14}")
        for w in args.widths:
            widths = tuple(int(v) for v in w.split(","))
            for name, (first, per) in time_pmm_variants(widths, args.pairs, args.steps).items():
                print(f"{w:>12} {name:>9} {first:>16.2f} {1e3 * per:>14.2f}", flush=True)
        return
    print(f"{'widths':>12} {'method':>6} {'params':>8} {'compile+1st (s)':>16} {'per step (ms)':>14}")
    for w in args.widths:
        widths = tuple(int(v) for v in w.split(","))
        for method in args.methods:
            cfg = TrainConfig(widths=widths, method=method, pairs=args.pairs, test_pairs=1, depth=args.depth)
            first, per, n_par = time_steps(cfg, args.steps)
            print(f"{w:>12} {method:>6} {n_par:>8} {first:>16.2f} {1e3 * per:>14.2f}", flush=True)


if __name__ == "__main__":
    main()
